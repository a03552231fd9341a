/*
 * Hotplug on the virtual SoC: when an agent goes offline or comes back (ampl_soc_agent_set_online(), a crash seen
 * by src/sim/crash_watch.c, a damaged image), every attached process's interrupt context marks the channels
 * concerned offline or online in the mailbox framework, and an IPC instance on one of them is told
 * (ICMSG_PEER_OFFLINE / ICMSG_PEER_ONLINE on its rx channel).
 */
#include "sim/agent_internal.h"

bool sim_chan_hotplug(struct ampl_agent *ag, struct sim_chan *c)
{
	struct sim_agent *img = ag->soc->img->agents;
	unsigned r = ampl_soc_agent_index(ag->soc->profile, c->remote);
	/* A damaged image (its file shrank) holds nothing any more: every channel is offline for good. */
	bool offline = atomic_load(&img[r].offline) || atomic_load(&img[ag->idx].offline) || sim_damaged(ag->soc);
	for (int i = 0; i < 2; i++)
		mbox_chan_set_offline(&c->mbox.chans[i], offline ? -ESHUTDOWN : 0);
	return offline;
}

void sim_hotplug_isr(void *arg)
{
	struct ampl_agent *ag = arg;
	uint32_t gen = atomic_load(&ag->soc->img->hotplug_gen);
	bool damaged = sim_damaged(ag->soc);
	if (gen == ag->hotplug_seen && damaged == ag->damaged_seen)
		return;
	ag->hotplug_seen = gen;
	ag->damaged_seen = damaged;
	for (unsigned b = 0; b < 32; b++) {
		struct sim_chan *c = ag->chans[b];
		if (!c)
			continue;
		bool off = sim_chan_hotplug(ag, c);
		/* An IPC link learns it from its rx channel, in its RX callback context (this one), serialised with
		 * its doorbells and with mbox_free_channel() at close. */
		if (atomic_exchange(&c->off_seen, (int)off) != (int)off && atomic_load(&c->icmsg))
			(void)ampl_mbox_chan_deliver(&c->mbox.chans[XLNX_IPI_RX_CHAN],
						     off ? ICMSG_PEER_OFFLINE : ICMSG_PEER_ONLINE);
	}
}
