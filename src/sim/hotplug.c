/*
 * Hotplug on the virtual SoC: when an agent goes offline or comes back (ampl_soc_agent_set_online(), a crash seen
 * by src/sim/crash_watch.c, a damaged image), every attached process's interrupt context marks the channels
 * concerned offline or online in the mailbox framework, which tells their clients when the state changes (an IPC
 * instance learns it through its rx channel's link_state).
 */
#include "sim/agent_internal.h"

bool sim_chan_hotplug(struct ampl_agent *ag, struct sim_chan *c)
{
	struct sim_agent *img = ag->soc->img->agents;
	unsigned r = ampl_soc_agent_index(ag->soc->profile, c->remote);
	/* A damaged image (its file shrank) holds nothing any more: every channel is offline for good. */
	bool offline = atomic_load(&img[r].offline) || atomic_load(&img[ag->idx].offline) || sim_damaged(ag->soc);
	/* The tx channel first: a client told on the rx channel that the peer is back can ring it at once. */
	mbox_chan_set_offline(&c->mbox.chans[XLNX_IPI_TX_CHAN], offline ? -ESHUTDOWN : 0);
	mbox_chan_set_offline(&c->mbox.chans[XLNX_IPI_RX_CHAN], offline ? -ESHUTDOWN : 0);
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
	/* An IPC link learns it from its rx channel's link_state, in its RX callback context (this one), serialised
	 * with its doorbells and with mbox_free_channel() at close. */
	for (unsigned b = 0; b < 32; b++)
		if (ag->chans[b])
			(void)sim_chan_hotplug(ag, ag->chans[b]);
}
