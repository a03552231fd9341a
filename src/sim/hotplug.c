/*
 * Hotplug on the virtual SoC: when an agent goes offline or comes back (ampl_soc_agent_set_online(), a crash seen
 * by src/sim/crash_watch.c, a damaged image), every attached process's interrupt context marks the channels
 * concerned offline or online in the mailbox framework, which tells their clients when the state changes (an IPC
 * instance learns it through its rx channel's link_state).
 */
#include "sim/agent_internal.h"

#include <errno.h>
#include <string.h>

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

/* ---- dynamic agents: retirement ----
 *
 * Retiring an agent takes its processor offline as hotplug does, marked retired in its sim_agent_ctl, and the next
 * process to attach as it (this one or another) brings it back online: peers' channels to it see it go offline,
 * then online, and nothing sent to the old process reaches the new one (what was pending at retirement was
 * discarded, what was sent after it never became pending).
 */

static int agent_index(const struct ampl_soc *soc, const struct ampl_ipi_agent *agent, unsigned *idx)
{
	const struct ampl_soc_profile *p = soc ? soc->profile : NULL;
	if (!p || !agent || agent < p->agents || agent >= p->agents + p->num_agents)
		return sim_error(-EINVAL, "no such agent");
	*idx = ampl_soc_agent_index(p, agent);
	return 0;
}

/* Mark retired, then offline: an attach that finds it offline and retired brings it back. */
static int retire(struct ampl_soc *soc, unsigned idx)
{
	atomic_store(&soc->img->ctl[idx].retired, 1);
	int ret = ampl_soc_agent_set_online(soc, &soc->profile->agents[idx], false);
	return ret == -EALREADY ? 0 : ret;
}

int ampl_agent_retire(struct ampl_agent *ag)
{
	if (!ag)
		return sim_error(-EINVAL, "no agent");
	/* The interrupt context stops first: a request is then either delivered and acknowledged before, or still
	 * pending when the agent goes offline, and so discarded and reported failed to its sender; never both. */
	sim_agent_stop_irq(ag);
	int ret = retire(ag->soc, ag->idx);
	sim_agent_free(ag);
	return ret;
}

int ampl_agent_reassign(struct ampl_agent **ag, const char *agent, const struct ampl_agent_opts *opts)
{
	if (!ag || !*ag)
		return sim_error(-EINVAL, "no agent");
	struct ampl_agent *old = *ag, *now;
	if (agent && !strcmp(agent, old->info->name))
		return sim_error(-EINVAL, "this process is %s already", agent);
	int ret = ampl_agent_attach(old->soc, agent, opts ? opts : &old->opts, &now);
	if (ret)
		return ret; /* the old agent is untouched */
	*ag = now;
	return ampl_agent_retire(old);
}

int ampl_soc_agent_retire(struct ampl_soc *soc, const struct ampl_ipi_agent *agent)
{
	unsigned idx = 0;
	int ret = agent_index(soc, agent, &idx);
	if (ret)
		return ret;
	if (atomic_load(&soc->img->ctl[idx].retired) && !ampl_soc_agent_online(soc, agent))
		return sim_error(-EALREADY, "%s is retired already", agent->name);
	if (soc->attached[idx])
		return ampl_agent_retire(soc->attached[idx]);
	return retire(soc, idx);
}

bool ampl_soc_agent_retired(const struct ampl_soc *soc, const struct ampl_ipi_agent *agent)
{
	unsigned idx = 0;
	if (agent_index(soc, agent, &idx))
		return false;
	return atomic_load(&soc->img->ctl[idx].retired) && !ampl_soc_agent_online(soc, agent);
}

void sim_unretire(struct ampl_soc *soc, unsigned idx)
{
	if (atomic_exchange(&soc->img->ctl[idx].retired, 0))
		(void)ampl_soc_agent_set_online(soc, &soc->profile->agents[idx], true);
}
