/*
 * Interrupt routing on the virtual SoC: an agent's IPI interrupt split into lines (the driver's xlnx_ipi_route()),
 * each line its own interrupt thread waiting on the agent's one interrupt doorbell, so every line's handler runs on
 * every ring and picks out its sources. Line 0 is the attach's interrupt thread; lines 1.. start on first use.
 *
 * Routes and masks live in the attached process (its driver state). The process publishes them in its register
 * page (struct sim_regs, written by it alone) after each change; the supervisor (the CLI) changes them by writing
 * the agent's request word in the supervisor's page (struct sim_super, written by no attached agent) and ringing
 * the agent's interrupt, and the attached process's line-0 handler applies it and writes the result in its page.
 */
#include "sim/agent_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void line_isr(void *arg)
{
	struct sim_line *l = arg;
	xlnx_ipi_isr_line(&l->ag->host, l->n);
}

/* The driver's line handler: the application's, with the source as an agent. */
static void line_call(void *arg, unsigned line, uint32_t source)
{
	struct sim_line *l = arg;
	ampl_irq_line_fn fn = atomic_load(&l->fn);
	int8_t idx = l->ag->soc->idx_by_bit[__builtin_ctz(source)];
	if (fn && idx >= 0)
		fn(atomic_load(&l->arg), line, &l->ag->soc->profile->agents[idx]);
}

/* Publish the driver's routing for tools (this process is the only writer of these words). */
static void publish(struct ampl_agent *ag)
{
	struct sim_regs *c = &ag->soc->img->regs[ag->idx];
	for (unsigned l = 0; l < XLNX_IPI_NUM_LINES; l++)
		atomic_store(&c->line_src[l], xlnx_ipi_route_get(&ag->host, l));
	atomic_store(&c->masked, xlnx_ipi_masked(&ag->host));
}

/* Every line's handler runs again: a source that moved, or was unmasked, may be pending already. */
static void raise_lines(struct ampl_agent *ag)
{
	sim_ring(ag->soc, ag->idx, SIM_LINE_IRQ);
}

void sim_irq_init(struct ampl_agent *ag)
{
	pthread_mutex_init(&ag->lines_lock, NULL);
	for (unsigned l = 0; l < XLNX_IPI_NUM_LINES; l++) {
		ag->lines[l].ag = ag;
		ag->lines[l].n = l;
	}
	publish(ag);
	/* A request left by a supervisor for a previous process is not this one's: answer it, then ignore it. */
	struct sim_regs *r = &ag->soc->img->regs[ag->idx];
	ag->req_seen = SIM_REQ_SEQ(atomic_load(&ag->soc->img->super.route_req[ag->idx]));
	if (((uint32_t)atomic_load(&r->route_done) & SIM_REQ_SEQ_MASK) != ag->req_seen)
		atomic_store(&r->route_done, ag->req_seen | (uint64_t)ENOENT << 32);
}

/* Start line @n's thread if it has none (not for line 0, nor with no_irq_thread). Context: thread. */
static int line_start(struct ampl_agent *ag, unsigned n)
{
	if (!n || ag->opts.no_irq_thread)
		return 0;
	pthread_mutex_lock(&ag->lines_lock);
	int ret = 0;
	struct sim_line *l = &ag->lines[n];
	if (!l->thread) {
		struct ampl_irq_thread *t;
		struct ampl_doorbell_set line = sim_line(ag->soc, ag->idx, SIM_LINE_IRQ, ag->idx);
		ret = ampl_irq_thread_create(&t, &line, ag->opts.mode);
		if (!ret)
			ret = ampl_irq_connect(t, line_isr, l);
		if (!ret)
			ret = ampl_irq_thread_run(t);
		if (ret) {
			ampl_irq_thread_stop(t);
			sim_error(ret, "cannot start the thread of interrupt line %u of %s: %s", n, ag->info->name,
				  ampl_strerror(ret));
		} else {
			l->thread = t;
		}
	}
	pthread_mutex_unlock(&ag->lines_lock);
	return ret;
}

void sim_irq_stop(struct ampl_agent *ag)
{
	for (unsigned l = 1; l < XLNX_IPI_NUM_LINES; l++) {
		ampl_irq_thread_stop(ag->lines[l].thread);
		ag->lines[l].thread = NULL;
	}
	pthread_mutex_destroy(&ag->lines_lock);
}

void sim_irq_poll(struct ampl_agent *ag)
{
	for (unsigned l = 1; l < XLNX_IPI_NUM_LINES; l++)
		xlnx_ipi_isr_line(&ag->host, l);
}

static int check_sources(struct ampl_agent *ag, uint32_t sources, unsigned line)
{
	uint32_t valid = ag->soc->profile->valid_mask;
	if (!valid)
		return sim_error(-EINVAL, "%s has no IPI block: no interrupt routing", ag->soc->profile->name);
	if (line >= XLNX_IPI_NUM_LINES)
		return sim_error(-EINVAL, "interrupt line %u: lines are 0 to %u", line, XLNX_IPI_NUM_LINES - 1);
	if (sources & ~valid)
		return sim_error(-EINVAL, "sources 0x%x: bits 0x%x are no agent of the %s", (unsigned)sources,
				 (unsigned)(sources & ~valid), ag->soc->profile->name);
	return 0;
}

/* Route and publish; the line's thread is started by the caller (thread context) or was started before. */
static int route(struct ampl_agent *ag, uint32_t sources, unsigned line)
{
	int ret = check_sources(ag, sources, line);
	if (ret)
		return ret;
	(void)xlnx_ipi_route(&ag->host, sources, line);
	publish(ag);
	raise_lines(ag);
	return 0;
}

static int mask(struct ampl_agent *ag, uint32_t sources, bool on)
{
	int ret = check_sources(ag, sources, 0);
	if (ret)
		return ret;
	(void)xlnx_ipi_mask(&ag->host, sources, on);
	publish(ag);
	return 0;
}

int ampl_agent_irq_route(struct ampl_agent *ag, uint32_t sources, unsigned line)
{
	if (!ag)
		return sim_error(-EINVAL, "no agent");
	int ret = check_sources(ag, sources, line);
	if (!ret)
		ret = line_start(ag, line);
	return ret ? ret : route(ag, sources, line);
}

int ampl_agent_irq_connect(struct ampl_agent *ag, unsigned line, ampl_irq_line_fn fn, void *arg)
{
	if (!ag)
		return sim_error(-EINVAL, "no agent");
	int ret = check_sources(ag, 0, line);
	if (!ret)
		ret = line_start(ag, line);
	if (ret)
		return ret;
	struct sim_line *l = &ag->lines[line];
	atomic_store(&l->fn, NULL);
	atomic_store(&l->arg, arg);
	atomic_store(&l->fn, fn);
	return xlnx_ipi_line_connect(&ag->host, line, fn ? line_call : NULL, l);
}

int ampl_agent_irq_mask(struct ampl_agent *ag, uint32_t sources, bool on)
{
	if (!ag)
		return sim_error(-EINVAL, "no agent");
	return mask(ag, sources, on);
}

/*
 * Apply a supervisor's request. Its words come from another process: every field is checked (check_sources()).
 * A route to a line without a thread: the line starts here (this is the interrupt thread, a thread of its own).
 */
void sim_irq_isr(void *arg)
{
	struct ampl_agent *ag = arg;
	uint64_t req = atomic_load(&ag->soc->img->super.route_req[ag->idx]);
	uint32_t seq = SIM_REQ_SEQ(req);
	if (seq == ag->req_seen)
		return;
	ag->req_seen = seq;
	uint32_t src = SIM_REQ_SOURCES(req);
	unsigned line = SIM_REQ_LINE(req);
	int ret;
	switch (SIM_REQ_OP(req)) {
	case SIM_REQ_ROUTE:
		ret = check_sources(ag, src, line);
		if (!ret)
			ret = line_start(ag, line);
		if (!ret)
			ret = route(ag, src, line);
		break;
	case SIM_REQ_MASK:
	case SIM_REQ_UNMASK:
		ret = mask(ag, src, SIM_REQ_OP(req) == SIM_REQ_MASK);
		break;
	default:
		ret = -EINVAL;
		break;
	}
	atomic_store(&ag->soc->img->regs[ag->idx].route_done, seq | (uint64_t)(uint32_t)-ret << 32);
}

static int agent_idx(const struct ampl_soc *soc, const struct ampl_soc_agent *agent, unsigned *idx)
{
	const struct ampl_soc_profile *p = soc ? soc->profile : NULL;
	if (!p || !agent || agent < p->agents || agent >= p->agents + p->num_agents)
		return sim_error(-EINVAL, "no such agent");
	*idx = ampl_soc_agent_index(p, agent);
	return 0;
}

int ampl_soc_irq_table(const struct ampl_soc *soc, const struct ampl_soc_agent *agent, struct ampl_irq_table *out)
{
	unsigned idx = 0;
	if (!out || agent_idx(soc, agent, &idx))
		return sim_error(-EINVAL, "no SoC, agent or table");
	uint64_t owner = atomic_load(&soc->img->regs[idx].owner);
	if (!owner || !sim_owner_alive(owner))
		return sim_error(-ENOENT, "no process is attached as %s", agent->name);
	const struct sim_regs *c = &soc->img->regs[idx];
	for (unsigned l = 0; l < AMPL_IRQ_LINES; l++)
		out->line_src[l] = atomic_load(&c->line_src[l]) & soc->profile->valid_mask;
	out->masked = atomic_load(&c->masked) & soc->profile->valid_mask;
	return 0;
}

/* Post a request to the process attached as @agent and wait for its answer (or apply it, if that is us). */
static int request(struct ampl_soc *soc, const struct ampl_soc_agent *agent, unsigned op, uint32_t src,
		   unsigned line, unsigned timeout_ms)
{
	unsigned idx = 0;
	int ret = agent_idx(soc, agent, &idx);
	if (ret)
		return ret;
	struct ampl_agent *ag = soc->attached[idx];
	if (ag)
		return op == SIM_REQ_ROUTE ? ampl_agent_irq_route(ag, src, line) : mask(ag, src, op == SIM_REQ_MASK);
	uint32_t valid = soc->profile->valid_mask;
	if (!valid || line >= AMPL_IRQ_LINES || (src & ~valid))
		return sim_error(-EINVAL, "bad request for %s: sources 0x%x, line %u", agent->name, (unsigned)src, line);
	uint64_t owner = atomic_load(&soc->img->regs[idx].owner);
	if (!owner || !sim_owner_alive(owner))
		return sim_error(-ENOENT, "no process is attached as %s: routes belong to the attached process",
				 agent->name);
	_Atomic uint64_t *req = &soc->img->super.route_req[idx];
	_Atomic uint64_t *answer = &soc->img->regs[idx].route_done;
	if (!sim_access_super(soc, req, "change the interrupt routing of another agent"))
		return -EACCES;
	uint64_t cur = atomic_load(req);
	uint32_t seq = SIM_REQ_SEQ(cur);
	if (((uint32_t)atomic_load(answer) & SIM_REQ_SEQ_MASK) != seq)
		return sim_error(-EBUSY, "another request to %s is in progress", agent->name);
	uint32_t next = (seq + 1u) & SIM_REQ_SEQ_MASK;
	if (!atomic_compare_exchange_strong(req, &cur, SIM_REQ_PACK(next, op, line, src)))
		return sim_error(-EBUSY, "another request to %s is in progress", agent->name);
	sim_ring(soc, idx, SIM_LINE_IRQ);
	uint64_t end = ampl_now_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		uint64_t done = atomic_load(answer);
		if (((uint32_t)done & SIM_REQ_SEQ_MASK) == next) {
			uint32_t err = (uint32_t)(done >> 32);
			if (err > 4095u)
				return sim_error(-EIO, "%s answered a bad result word 0x%llx", agent->name,
						 (unsigned long long)done);
			return err ? sim_error(-(int)err, "%s refused the request: %s", agent->name,
					       ampl_strerror(-(int)err))
				   : 0;
		}
		if (ampl_now_ns() >= end)
			return sim_error(-ETIMEDOUT, "the process attached as %s (pid %d) did not apply the request "
					 "within %u ms (no interrupt thread, or not polling)", agent->name,
					 (int)(uint32_t)owner, timeout_ms);
		usleep(200);
	}
}

int ampl_soc_irq_route(struct ampl_soc *soc, const struct ampl_soc_agent *agent, uint32_t sources, unsigned line,
		       unsigned timeout_ms)
{
	return request(soc, agent, SIM_REQ_ROUTE, sources, line, timeout_ms);
}

int ampl_soc_irq_mask(struct ampl_soc *soc, const struct ampl_soc_agent *agent, uint32_t sources, bool on,
		      unsigned timeout_ms)
{
	return request(soc, agent, on ? SIM_REQ_MASK : SIM_REQ_UNMASK, sources, 0, timeout_ms);
}
