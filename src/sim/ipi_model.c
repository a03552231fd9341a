/*
 * Register model of the Xilinx IPI block, shared by every process attached to the SoC.
 *
 * No word is written by two agents (image.h, struct sim_regs): a request s -> d is a counter raised[d] in s's page,
 * bumped by s's TRIG, and an acknowledgement is acked[s] in d's page, set to that counter by d's ISR write. ISR bit
 * s of d is "raised by s and neither acknowledged by d nor dropped", OBS bit d of s the same pair seen from the
 * sender, which is exactly the silicon's meaning (my trigger to d is still pending). The pages other agents write
 * are mapped read-only in a process attached as one agent, so a request "from apu" can only come from the process
 * attached as apu (or from one attached as none: the supervisor's tools); a register access as another agent
 * through these ops is poisoned and counted (src/sim/access.c).
 *
 *   write TRIG (as s)   for each valid destination bit d not pending: raised_s[d]++; raise d's line if that bit is
 *                       unmasked (d offline: the request is discarded and counted instead, see image.h)
 *   write ISR  (as r)   W1C: for each pending source bit s in v: acked_r[s] = raised_s[r]; ring s's acknowledgement
 *                       doorbell. Ignored while r is offline (a powered-down core writes nothing), and for a
 *                       request raised after the one this process last read in ISR (see acknowledge()).
 *   write IER  (as r)   IMR[r] &= ~v; raise r's line if a pending bit became unmasked
 *   write IDR  (as r)   IMR[r] |= v
 *   OBS, IMR            read-only; writes ignored.  Bits outside the profile's valid mask are ignored everywhere.
 *   read ISR (as r)     0 while r is offline.
 *   read OBS (as s)     a request pending at a destination offline as this process sees it ends first (dropped).
 *
 * Ending a request, each end in the page of one agent and compared with the counter for equality:
 *   acknowledged   acked_d[s] = raised, by the destination's ISR write;
 *   dropped        the low half of drop_s[d] = raised, by compare-and-swap with the discard count in the high half,
 *                  by the sender's process when it sees the destination offline (the hotplug interrupt, its wait
 *                  for OBS, a trigger that raced with the destination going offline) or by the supervisor taking
 *                  the destination offline;
 *   gone           gone_d[s] = raised, by the destination's process (or the supervisor) when it comes back online
 *                  with the request still pending: its sender had not looked yet. It is discarded, not delivered,
 *                  and the sender counts it (sim_ipi_discards(): its count, plus one while its last request is gone
 *                  and not yet dropped; it folds that one into its count before it raises the next).
 * A request dropped while the destination acknowledged it at the same moment is reported discarded, as when its
 * acknowledgement came after the destination went offline. One dropped and gone at once is counted once (the
 * "plus one" needs the drop word not to hold it).
 *
 * TRIG-versus-IER race: TRIG does (raised++; read IMR), IER does (IMR &= ~b; read raised), all sequentially
 * consistent, so at least one of them sees both updates and raises the line: an unmasked pending request always
 * interrupts. TRIG-versus-offline: TRIG does (raised++; read offline), going offline (offline = 1; read raised),
 * so the request is dropped by one of them (the compare-and-swap decides if both see it).
 */
#include "sim/image.h"
#include "sim/trace.h"

#include <errno.h>

static inline struct sim_port *port_of(const struct ampl_io_region *io)
{
	return (struct sim_port *)io->ctx;
}

static inline struct sim_regs *regs_at(struct ampl_soc *soc, unsigned idx)
{
	return &soc->img->regs[idx];
}

/* Is request @r ended by one of its three ends? Read in the order of likelihood, up to the first that holds it. */
static inline bool ended(uint32_t r, const _Atomic uint32_t *acked, const _Atomic uint64_t *drop,
			 const _Atomic uint32_t *gone)
{
	return r == atomic_load(acked) || r == (uint32_t)atomic_load(drop) || r == atomic_load(gone);
}

/* The raised[] value of the request from the agent of bit @b to @pt's agent if pending, else 0 (a counter that
 * is pending is never 0: it was bumped). The words come from @pt's tables (sim_ipi_port_init()). */
static inline uint32_t pending_in(const struct sim_port *pt, const struct sim_regs *me, unsigned b)
{
	uint32_t r = atomic_load(pt->in_raised[b]);
	return ended(r, &me->acked[b], pt->in_drop[b], &me->gone[b]) ? 0 : r;
}

/* The same for the request from @pt's agent to the agent of bit @b. */
static inline uint32_t pending_out(const struct sim_port *pt, const struct sim_regs *me, unsigned b)
{
	uint32_t r = atomic_load(&me->raised[b]);
	return ended(r, pt->out_acked[b], &me->drop[b], pt->out_gone[b]) ? 0 : r;
}

/*
 * A request of agent @a's ended (its OBS bit dropped): ring its acknowledgement doorbell if a thread waits on OBS.
 * The request's end is stored before watchers is read, and a waiter counts itself before it reads OBS (both
 * sequentially consistent), so either the waiter sees the end or this sees the waiter.
 */
static void ring_ack(struct ampl_soc *soc, unsigned a)
{
	if (atomic_load(&regs_at(soc, a)->ack_watchers))
		sim_ring(soc, a, SIM_LINE_ACK);
}

bool sim_ipi_drop(struct ampl_soc *soc, unsigned s, unsigned d)
{
	unsigned b = soc->profile->agents[d].ipi->bit;
	_Atomic uint64_t *w = &regs_at(soc, s)->drop[b];
	uint64_t cur = atomic_load(w);
	for (;;) {
		uint32_t r = pending_out(&soc->ports[s], regs_at(soc, s), b);
		if (!r)
			return false;
		/* Count and drop in one step; a failed exchange re-reads both (another of its threads may have won). */
		if (atomic_compare_exchange_weak(w, &cur, ((cur >> 32) + 1) << 32 | r)) {
			ring_ack(soc, s);
			return true;
		}
	}
}

/* 1 if @s's last request to the agent of bit @b is gone (its destination came back with it pending) and not yet
 * counted in @s's drop word @drop, else 0. */
static uint32_t gone_uncounted(const struct sim_port *pt, const struct sim_regs *me, unsigned b, uint64_t drop)
{
	uint32_t r = atomic_load(&me->raised[b]);
	return r && r == atomic_load(pt->out_gone[b]) && r != (uint32_t)drop;
}

uint32_t sim_ipi_discards(struct ampl_soc *soc, unsigned s, unsigned d)
{
	unsigned b = soc->profile->agents[d].ipi->bit;
	uint64_t drop = atomic_load(&regs_at(soc, s)->drop[b]);
	return (uint32_t)(drop >> 32) + gone_uncounted(&soc->ports[s], regs_at(soc, s), b, drop);
}

/* Fold @pt's last request to the agent of bit @b into its discard count if it is gone and not counted yet: before
 * the next request replaces it (sim_ipi_discards() would lose it). Only the sender's process writes the word.
 * Inlined in both copies of trigger(), as it was in the one. */
static inline __attribute__((always_inline)) void count_gone(const struct sim_port *pt, struct sim_regs *me, unsigned b)
{
	uint64_t cur = atomic_load(&me->drop[b]);
	while (gone_uncounted(pt, me, b, cur) &&
	       !atomic_compare_exchange_weak(&me->drop[b], &cur,
					     ((cur >> 32) + 1) << 32 | atomic_load(&me->raised[b])))
		;
}

void sim_drop_offline(struct ampl_soc *soc, unsigned s, uint32_t bits)
{
	const struct sim_regs *me = regs_at(soc, s);
	struct sim_port *pt = &soc->ports[s];
	for (bits &= pt->peers; bits; bits &= bits - 1) {
		unsigned b = (unsigned)__builtin_ctz(bits);
		int8_t d = soc->idx_by_bit[b];
		if (d >= 0 && pending_out(pt, me, b) && sim_offline(soc, (unsigned)d))
			(void)sim_ipi_drop(soc, s, (unsigned)d);
	}
}

void sim_discard_pending(struct ampl_soc *soc, unsigned idx)
{
	if (!soc->profile->agents[idx].ipi)
		return;
	struct sim_port *pt = &soc->ports[idx];
	struct sim_regs *me = regs_at(soc, idx);
	for (uint32_t bits = pt->peers; bits; bits &= bits - 1) {
		unsigned b = (unsigned)__builtin_ctz(bits);
		int8_t s = soc->idx_by_bit[b];
		uint32_t r = pending_in(pt, me, b);
		if (s < 0 || !r)
			continue;
		atomic_store(&me->gone[b], r);
		SIM_TRACE(soc, idx, AMPL_EV_IPI_DISCARD, idx, b);
		ring_ack(soc, (unsigned)s);
	}
}

void sim_ipi_port_init(struct ampl_soc *soc, unsigned idx)
{
	struct sim_port *pt = &soc->ports[idx];
	const struct ampl_soc_agent *a = soc->profile->agents;
	unsigned mine = a[idx].ipi->bit;
	pt->peers = 0;
	for (unsigned o = 0; o < soc->profile->num_agents; o++) {
		unsigned b = a[o].ipi->bit;
		pt->peers |= 1u << b;
		pt->in_raised[b] = &regs_at(soc, o)->raised[mine];
		pt->in_drop[b] = &regs_at(soc, o)->drop[mine];
		pt->out_acked[b] = &regs_at(soc, o)->acked[mine];
		pt->out_gone[b] = &regs_at(soc, o)->gone[mine];
	}
}

/* OBS of @pt's agent, within @bits: destinations its request to is pending. */
static uint32_t derive_obs(const struct sim_port *pt, uint32_t bits)
{
	const struct sim_regs *me = regs_at(pt->soc, pt->idx);
	uint32_t out = 0;
	for (bits &= pt->peers; bits; bits &= bits - 1) {
		unsigned b = (unsigned)__builtin_ctz(bits);
		if (pending_out(pt, me, b))
			out |= 1u << b;
	}
	return out;
}

/*
 * OBS of @pt's agent within @bits, read by its process: a request pending at a destination that is offline as this
 * process sees it is ended as discarded first (the sender's page; its interrupt context does the same when the
 * hotplug state changes, but an agent may have none, or not have run it yet).
 */
static uint32_t read_obs(struct sim_port *pt, uint32_t bits)
{
	uint32_t v = derive_obs(pt, bits);
	if (!v)
		return 0;
	sim_drop_offline(pt->soc, pt->idx, v);
	return derive_obs(pt, v);
}

/*
 * Nothing here. test_irq_routing's build of this file stalls an ISR read at this point (force-included
 * tests/integration/isr_read_hook.h): after it found request @r from bit @b pending, before it remembers it, where
 * another thread's acknowledgement and its read of the next request can pass it.
 */
#ifndef SIM_ISR_PENDING_HOOK
#define SIM_ISR_PENDING_HOOK(b, r) ((void)0)
#endif

/*
 * Remember @r in @seen unless it holds a later request already. Threads of one process (the interrupt lines, a
 * peek) read ISR concurrently, and a read's store can land long after the request it found pending was
 * acknowledged, when the handler of the next one has stored that one: a plain store would put the old value back,
 * and that handler's acknowledgement would be taken for one about an old request and ignored, its request pending
 * and delivered again. Counters only grow (wrapping, 0 skipped), so "later" is the sign of the difference.
 */
static void remember_seen(_Atomic uint32_t *seen, uint32_t r)
{
	uint32_t cur = atomic_load_explicit(seen, memory_order_relaxed);
	while ((!cur || (int32_t)(r - cur) > 0) &&
	       !atomic_compare_exchange_weak_explicit(seen, &cur, r, memory_order_relaxed, memory_order_relaxed))
		;
}

/*
 * ISR of @pt's agent: sources whose request to it is pending, 0 while it is offline. @remember: keep the raised[]
 * value of each pending request in @pt->seen, for the ISR write that acknowledges it.
 */
static uint32_t derive_isr(struct sim_port *pt, bool remember)
{
	const struct sim_regs *me = regs_at(pt->soc, pt->idx);
	if (sim_offline(pt->soc, pt->idx))
		return 0;
	uint32_t out = 0;
	for (uint32_t bits = pt->peers & ~atomic_load_explicit(&pt->gated, memory_order_acquire); bits; bits &= bits - 1) {
		unsigned b = (unsigned)__builtin_ctz(bits);
		uint32_t r = pending_in(pt, me, b);
		if (!r)
			continue;
		out |= 1u << b;
		if (remember) {
			SIM_ISR_PENDING_HOOK(b, r);
			remember_seen(&pt->seen[b], r);
		}
	}
	return out;
}

static uint32_t ipi_read32(const struct ampl_io_region *io, uint32_t off)
{
	struct sim_port *pt = port_of(io);
	if (!sim_access_regs(pt->soc, pt->idx, off, false))
		return 0;
	switch (off) {
	case AMPL_IPI_OBS:
		return read_obs(pt, 0xFFFFFFFFu);
	case AMPL_IPI_ISR:
		return derive_isr(pt, true);
	case AMPL_IPI_IMR:
		return atomic_load(&regs_at(pt->soc, pt->idx)->imr);
	default: /* TRIG reads back 0; IER/IDR are write-only; reserved offsets read 0 */
		return 0;
	}
}

/* TRIG write of @v as @pt's agent (its copies, traced and not: AMPL_TRACE_SPLIT). */
AMPL_TRACE_BODY void trigger(bool traced, struct sim_port *pt, uint32_t v)
{
	struct ampl_soc *soc = pt->soc;
	unsigned self = pt->idx;
	const struct ampl_soc_profile *p = soc->profile;
	unsigned my_bit = p->agents[self].ipi->bit;
	uint32_t mine = 1u << my_bit;
	while (v) {
		unsigned b = (unsigned)__builtin_ctz(v);
		v &= v - 1;
		int8_t d = soc->idx_by_bit[b];
		if (d < 0)
			continue;
		struct sim_regs *me = regs_at(soc, self);
		if (sim_offline(soc, (unsigned)d)) {
			/* The destination is offline: the request is discarded, never pending. */
			atomic_fetch_add(&me->drop[b], 1ull << 32);
			SIM_TRACE_IF(traced, soc, self, AMPL_EV_IPI_DISCARD, (unsigned)d, my_bit);
			ring_ack(soc, self);
			continue;
		}
		uint32_t r = atomic_load(&me->raised[b]);
		/* Pending already: nothing to raise. Only this agent's process writes raised[], so the exchange fails
		 * only when another of its threads raised the same request first. The counter skips 0, which stands
		 * for "none" in sim_port.seen and the pending tests. */
		bool busy = pending_out(pt, me, b);
		if (!busy)
			count_gone(pt, me, b);
		if (busy || !atomic_compare_exchange_strong(&me->raised[b], &r, r + 1 ? r + 1 : 1)) {
			SIM_TRACE_IF(traced, soc, self, AMPL_EV_IPI_TRIG, (unsigned)d, 0);
			continue;
		}
		SIM_TRACE_IF(traced, soc, self, AMPL_EV_IPI_TRIG, (unsigned)d, 1);
		if (sim_offline(soc, (unsigned)d))
			(void)sim_ipi_drop(soc, self, (unsigned)d); /* it went offline meanwhile */
		else if (!(atomic_load(&regs_at(soc, (unsigned)d)->imr) & mine))
			sim_ring(soc, (unsigned)d, SIM_LINE_IRQ);
	}
}

AMPL_TRACED_PATH static void trigger_traced(struct sim_port *pt, uint32_t v)
{
	trigger(true, pt, v);
}

/*
 * W1C of @v as @pt's agent. A source bit stands for one request at a time, but not always the same one: if the
 * request this process read in ISR was dropped (its agent went offline and came back) and the source raised the
 * next one since, the write is about the old one and leaves the new one pending (it interrupts again), so that a
 * request is never acknowledged by a handler that read another one's bytes.
 */
AMPL_TRACE_BODY void acknowledge(bool traced, struct sim_port *pt, uint32_t v)
{
	struct ampl_soc *soc = pt->soc;
	unsigned self = pt->idx;
	struct sim_regs *me = regs_at(soc, self);
	if (sim_offline(soc, self))
		return;
	for (v &= soc->profile->valid_mask; v; v &= v - 1) {
		unsigned b = (unsigned)__builtin_ctz(v);
		int8_t s = soc->idx_by_bit[b];
		if (s < 0)
			continue;
		uint32_t r = pending_in(pt, me, b);
		uint32_t saw = atomic_exchange_explicit(&pt->seen[b], 0, memory_order_relaxed);
		if (!r || (saw && saw != r))
			continue;
		atomic_store(&me->acked[b], r);
		SIM_TRACE_IF(traced, soc, self, AMPL_EV_IPI_ACK, (unsigned)s, b);
		ring_ack(soc, (unsigned)s);
	}
}

AMPL_TRACED_PATH static void acknowledge_traced(struct sim_port *pt, uint32_t v)
{
	acknowledge(true, pt, v);
}

static void ipi_write32(const struct ampl_io_region *io, uint32_t off, uint32_t val)
{
	struct sim_port *pt = port_of(io);
	struct ampl_soc *soc = pt->soc;
	if (!sim_access_regs(soc, pt->idx, off, true))
		return;
	struct sim_regs *self = regs_at(soc, pt->idx);
	uint32_t v = val & soc->profile->valid_mask;
	switch (off) {
	case AMPL_IPI_TRIG:
		if (v) /* none on a SoC without the IPI block (valid_mask 0: its agents have no bit) */
			AMPL_TRACE_SPLIT(trigger, pt, v);
		break;
	case AMPL_IPI_ISR:
		AMPL_TRACE_SPLIT(acknowledge, pt, v);
		break;
	case AMPL_IPI_IER: {
		uint32_t was_masked = atomic_fetch_and(&self->imr, ~v) & v;
		SIM_TRACE(soc, pt->idx, AMPL_EV_IPI_IER, pt->idx, v);
		if (was_masked && (was_masked & derive_isr(pt, false)))
			sim_ring(soc, pt->idx, SIM_LINE_IRQ);
		break;
	}
	case AMPL_IPI_IDR:
		SIM_TRACE(soc, pt->idx, AMPL_EV_IPI_IDR, pt->idx, v);
		atomic_fetch_or(&self->imr, v);
		break;
	default: /* OBS and IMR are read-only; reserved offsets ignore writes */
		break;
	}
}

static int ipi_wait32(const struct ampl_io_region *io, uint32_t off, uint32_t mask, uint32_t expect,
		      uint32_t timeout_us)
{
	struct sim_port *pt = port_of(io);
	struct sim_regs *me = regs_at(pt->soc, pt->idx);
	if (!sim_access_regs(pt->soc, pt->idx, off, false))
		return expect ? -ETIMEDOUT : 0; /* a poisoned read is 0 for good */
	/* OBS drops when a destination acknowledges (our ack line); ISR/IMR changes raise our interrupt line. */
	bool obs = off == AMPL_IPI_OBS;
	const struct ampl_doorbell_set *db = &pt->soc->lines[pt->idx][obs ? SIM_LINE_ACK : SIM_LINE_IRQ];
	uint64_t deadline = timeout_us == UINT32_MAX ? 0 : ampl_now_ns() + (uint64_t)timeout_us * 1000u;
	if (obs)
		atomic_fetch_add(&me->ack_watchers, 1);
	int ret;
	for (;;) {
		uint32_t seen = ampl_doorbell_set_seq(db);
		uint32_t v = obs ? read_obs(pt, mask) : ipi_read32(io, off);
		if ((v & mask) == expect) {
			ret = 0;
			break;
		}
		if (ampl_doorbell_set_wait(db, seen, pt->mode, deadline) == -ETIMEDOUT) {
			v = obs ? read_obs(pt, mask) : ipi_read32(io, off);
			ret = (v & mask) == expect ? 0 : -ETIMEDOUT;
			break;
		}
	}
	if (obs)
		atomic_fetch_sub(&me->ack_watchers, 1);
	return ret;
}

const struct ampl_io_ops sim_ipi_ops = {
	.read32 = ipi_read32,
	.write32 = ipi_write32,
	.wait32 = ipi_wait32,
};
