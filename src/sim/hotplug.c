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
	unsigned r = ampl_soc_agent_index(ag->soc->profile, c->remote);
	/* A damaged image (its file shrank) holds nothing any more: every channel is offline for good. */
	bool offline = sim_offline(ag->soc, r) || sim_offline(ag->soc, ag->idx) || sim_damaged(ag->soc);
	/* The tx channel first: a client told on the rx channel that the peer is back can ring it at once. */
	mbox_chan_set_offline(&c->mbox.chans[XLNX_IPI_TX_CHAN], offline ? -ESHUTDOWN : 0);
	mbox_chan_set_offline(&c->mbox.chans[XLNX_IPI_RX_CHAN], offline ? -ESHUTDOWN : 0);
	return offline;
}

void sim_gate_offline(struct ampl_agent *ag, uint32_t offline)
{
	uint32_t bits = 0;
	for (unsigned i = 0; i < ag->soc->profile->num_agents; i++)
		if (offline & (1u << i))
			bits |= ampl_ipi_mask(&ag->soc->profile->agents[i]);
	atomic_store_explicit(&ag->soc->ports[ag->idx].gated, bits, memory_order_release);
}

uint32_t sim_offline_mask(const struct ampl_soc *soc)
{
	uint32_t m = 0;
	for (unsigned i = 0; i < soc->profile->num_agents; i++)
		if (sim_offline(soc, i))
			m |= 1u << i;
	return m;
}

void sim_hotplug_isr(void *arg)
{
	struct ampl_agent *ag = arg;
	uint32_t seq = sim_hotplug_seq(ag->soc);
	bool damaged = sim_damaged(ag->soc);
	if (seq == ag->hotplug_seq_seen && damaged == ag->damaged_seen)
		return;
	ag->hotplug_seq_seen = seq;
	uint32_t offline = sim_offline_mask(ag->soc);
	uint32_t was = ag->offline_seen; /* what the gate holds */
	if (offline == was && damaged == ag->damaged_seen)
		return;
	ag->offline_seen = offline;
	ag->damaged_seen = damaged;
	/* Our requests to an agent gone offline end as discarded (our page: no other process may end them). */
	if (offline && ag->info->ipi)
		sim_drop_offline(ag->soc, ag->idx, ~0u);
	/* Requests of agents gone offline go unseen from now on; those of agents back online are seen again only
	 * once their channels are online (below), by the IPI handler that runs after this one in the same pass
	 * (src/sim/agent.c). */
	sim_gate_offline(ag, was | offline);
	/* An IPC link learns it from its rx channel's link_state, in its RX callback context (this one), serialised
	 * with its doorbells and with mbox_free_channel() at close. */
	for (unsigned b = 0; b < 32; b++)
		if (ag->chans[b])
			(void)sim_chan_hotplug(ag, ag->chans[b]);
	sim_gate_offline(ag, offline);
}

/* ---- dynamic agents: retirement ----
 *
 * Retiring an agent takes its processor offline as hotplug does, marked retired in its own page (sim_regs.down,
 * written by its process, or by the supervisor for an agent this process does not hold), and the next process to
 * attach as it (this one or another) brings it back online: peers' channels to it see it go offline,
 * then online, and nothing sent to the old process reaches the new one (what was pending at retirement was
 * discarded, what was sent after it never became pending).
 */

static int agent_index(const struct ampl_soc *soc, const struct ampl_soc_agent *agent, unsigned *idx)
{
	const struct ampl_soc_profile *p = soc ? soc->profile : NULL;
	if (!p || !agent || agent < p->agents || agent >= p->agents + p->num_agents)
		return sim_error(-EINVAL, "no such agent");
	*idx = ampl_soc_agent_index(p, agent);
	return 0;
}

/* Mark retired (offline until an attach clears it), then drop what was pending at it. */
static int retire(struct ampl_soc *soc, unsigned idx)
{
	if (!sim_access_hotplug(soc, idx, "retire"))
		return -EACCES;
	bool was_offline = sim_offline(soc, idx);
	atomic_fetch_or(&soc->img->regs[idx].down, SIM_DOWN_RETIRED);
	sim_hotplug_bump(&soc->img->regs[idx].hp_seq);
	if (!was_offline)
		sim_hotplug_notify(soc, idx, false, sim_drop_all(soc, idx));
	return 0;
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

int ampl_soc_agent_retire(struct ampl_soc *soc, const struct ampl_soc_agent *agent)
{
	unsigned idx = 0;
	int ret = agent_index(soc, agent, &idx);
	if (ret)
		return ret;
	if (ampl_soc_agent_retired(soc, agent))
		return sim_error(-EALREADY, "%s is retired already", agent->name);
	if (soc->attached[idx])
		return ampl_agent_retire(soc->attached[idx]);
	return retire(soc, idx);
}

bool ampl_soc_agent_retired(const struct ampl_soc *soc, const struct ampl_soc_agent *agent)
{
	unsigned idx = 0;
	if (agent_index(soc, agent, &idx))
		return false;
	return atomic_load(&soc->img->regs[idx].down) & SIM_DOWN_RETIRED;
}

void sim_unretire(struct ampl_soc *soc, unsigned idx)
{
	if (!(atomic_load(&soc->img->regs[idx].down) & SIM_DOWN_RETIRED))
		return;
	sim_discard_pending(soc, idx); /* sent to the process that retired: not for this one */
	if (!(atomic_fetch_and(&soc->img->regs[idx].down, ~SIM_DOWN_RETIRED) & SIM_DOWN_RETIRED))
		return;
	sim_hotplug_bump(&soc->img->regs[idx].hp_seq);
	if (!sim_offline(soc, idx))
		sim_hotplug_notify(soc, idx, true, 0);
}
