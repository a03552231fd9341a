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
 *
 * Ending a request: acknowledged (acked = raised, by the destination) or dropped (the low half of drop[] = raised,
 * by compare-and-swap with the discard count in the high half, by whoever sees it pending at an offline
 * destination: the process taking the destination offline, or the sender whose trigger raced with it). Both
 * compare the counter for equality, so a request dropped while the destination acknowledged it at the same moment
 * is reported discarded, as when its acknowledgement came after the destination went offline.
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

static inline struct sim_agent *agent_at(struct ampl_soc *soc, unsigned idx)
{
	return &soc->img->agents[idx];
}

static inline struct sim_regs *regs_at(struct ampl_soc *soc, unsigned idx)
{
	return &soc->img->regs[idx];
}

/* The raised[] value of request @s -> @d if it is pending, else 0 with *@pending false. */
static uint32_t pending(struct ampl_soc *soc, unsigned s, unsigned d, bool *is_pending)
{
	const struct ampl_ipi_agent *a = soc->profile->agents;
	uint32_t r = atomic_load(&regs_at(soc, s)->raised[a[d].bit]);
	*is_pending = r != atomic_load(&regs_at(soc, d)->acked[a[s].bit]) &&
		      r != (uint32_t)atomic_load(&agent_at(soc, d)->drop[a[s].bit]);
	return r;
}

bool sim_ipi_drop(struct ampl_soc *soc, unsigned s, unsigned d)
{
	_Atomic uint64_t *w = &agent_at(soc, d)->drop[soc->profile->agents[s].bit];
	uint64_t cur = atomic_load(w);
	for (;;) {
		bool is_pending;
		uint32_t r = pending(soc, s, d, &is_pending);
		if (!is_pending)
			return false;
		/* Count and drop in one step; a failed exchange re-reads both (another dropper may have won). */
		if (atomic_compare_exchange_weak(w, &cur, ((cur >> 32) + 1) << 32 | r)) {
			ampl_doorbell_ring(&agent_at(soc, s)->ack);
			return true;
		}
	}
}

uint32_t sim_ipi_discards(struct ampl_soc *soc, unsigned s, unsigned d)
{
	return (uint32_t)(atomic_load(&agent_at(soc, d)->drop[soc->profile->agents[s].bit]) >> 32);
}

/*
 * Bits of @bits (source bits if @as_dest, else destination bits) whose request to/from agent @self is pending.
 * @seen (as destination, or NULL): where to remember the raised[] value of each pending request.
 */
static uint32_t derive(struct ampl_soc *soc, unsigned self, uint32_t bits, bool as_dest, _Atomic uint32_t *seen)
{
	uint32_t out = 0;
	bits &= soc->profile->valid_mask;
	while (bits) {
		unsigned b = (unsigned)__builtin_ctz(bits);
		bits &= bits - 1;
		int8_t o = soc->idx_by_bit[b];
		bool is_pending = false;
		uint32_t r = 0;
		if (o >= 0)
			r = pending(soc, as_dest ? (unsigned)o : self, as_dest ? self : (unsigned)o, &is_pending);
		if (!is_pending)
			continue;
		out |= 1u << b;
		if (seen)
			atomic_store_explicit(&seen[b], r, memory_order_relaxed);
	}
	return out;
}

static uint32_t derive_isr(struct ampl_soc *soc, unsigned self, _Atomic uint32_t *seen)
{
	if (atomic_load(&agent_at(soc, self)->offline))
		return 0;
	return derive(soc, self, 0xFFFFFFFFu, true, seen);
}

static uint32_t ipi_read32(const struct ampl_io_region *io, uint32_t off)
{
	struct sim_port *pt = port_of(io);
	if (!sim_access_regs(pt->soc, pt->idx, off, false))
		return 0;
	switch (off) {
	case AMPL_IPI_OBS:
		return derive(pt->soc, pt->idx, 0xFFFFFFFFu, false, NULL);
	case AMPL_IPI_ISR:
		return derive_isr(pt->soc, pt->idx, pt->seen);
	case AMPL_IPI_IMR:
		return atomic_load(&regs_at(pt->soc, pt->idx)->imr);
	default: /* TRIG reads back 0; IER/IDR are write-only; reserved offsets read 0 */
		return 0;
	}
}

static void raise_line(struct sim_agent *a)
{
	ampl_doorbell_ring(&a->irq);
}

static void trigger(struct ampl_soc *soc, unsigned self, uint32_t v)
{
	const struct ampl_soc_profile *p = soc->profile;
	unsigned my_bit = p->agents[self].bit;
	uint32_t mine = 1u << my_bit;
	while (v) {
		unsigned b = (unsigned)__builtin_ctz(v);
		v &= v - 1;
		int8_t d = soc->idx_by_bit[b];
		if (d < 0)
			continue;
		struct sim_agent *dst = agent_at(soc, (unsigned)d);
		if (atomic_load(&dst->offline)) {
			/* The destination is offline: the request is discarded, never pending. */
			atomic_fetch_add(&dst->drop[my_bit], 1ull << 32);
			SIM_TRACE(soc, self, AMPL_EV_IPI_DISCARD, (unsigned)d, my_bit);
			ampl_doorbell_ring(&agent_at(soc, self)->ack);
			continue;
		}
		bool is_pending;
		uint32_t r = pending(soc, self, (unsigned)d, &is_pending);
		/* Pending already: nothing to raise. Only this agent's process writes raised[], so the exchange fails
		 * only when another of its threads raised the same request first. */
		if (is_pending || !atomic_compare_exchange_strong(&regs_at(soc, self)->raised[b], &r, r + 1)) {
			SIM_TRACE(soc, self, AMPL_EV_IPI_TRIG, (unsigned)d, 0);
			continue;
		}
		SIM_TRACE(soc, self, AMPL_EV_IPI_TRIG, (unsigned)d, 1);
		if (atomic_load(&dst->offline))
			(void)sim_ipi_drop(soc, self, (unsigned)d); /* it went offline meanwhile */
		else if (!(atomic_load(&regs_at(soc, (unsigned)d)->imr) & mine))
			raise_line(dst);
	}
}

/*
 * W1C of @v as @pt's agent. A source bit stands for one request at a time, but not always the same one: if the
 * request this process read in ISR was dropped (its agent went offline and came back) and the source raised the
 * next one since, the write is about the old one and leaves the new one pending (it interrupts again), so that a
 * request is never acknowledged by a handler that read another one's bytes.
 */
static void acknowledge(struct sim_port *pt, uint32_t v)
{
	struct ampl_soc *soc = pt->soc;
	unsigned self = pt->idx;
	struct sim_regs *me = regs_at(soc, self);
	if (atomic_load(&agent_at(soc, self)->offline))
		return;
	for (v &= soc->profile->valid_mask; v; v &= v - 1) {
		unsigned b = (unsigned)__builtin_ctz(v);
		int8_t s = soc->idx_by_bit[b];
		bool is_pending;
		if (s < 0)
			continue;
		uint32_t r = pending(soc, (unsigned)s, self, &is_pending);
		uint32_t saw = atomic_exchange_explicit(&pt->seen[b], 0, memory_order_relaxed);
		if (!is_pending || (saw && saw != r))
			continue;
		atomic_store(&me->acked[b], r);
		SIM_TRACE(soc, self, AMPL_EV_IPI_ACK, (unsigned)s, b);
		ampl_doorbell_ring(&agent_at(soc, (unsigned)s)->ack);
	}
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
		trigger(soc, pt->idx, v);
		break;
	case AMPL_IPI_ISR:
		acknowledge(pt, v);
		break;
	case AMPL_IPI_IER: {
		uint32_t was_masked = atomic_fetch_and(&self->imr, ~v) & v;
		SIM_TRACE(soc, pt->idx, AMPL_EV_IPI_IER, pt->idx, v);
		if (was_masked && (was_masked & derive_isr(soc, pt->idx, NULL)))
			raise_line(agent_at(soc, pt->idx));
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
	struct sim_agent *a = agent_at(pt->soc, pt->idx);
	if (!sim_access_regs(pt->soc, pt->idx, off, false))
		return expect ? -ETIMEDOUT : 0; /* a poisoned read is 0 for good */
	/* OBS drops when a destination acknowledges (our ack doorbell); ISR/IMR changes raise our line. */
	struct ampl_doorbell *db = off == AMPL_IPI_OBS ? &a->ack : &a->irq;
	uint64_t deadline = timeout_us == UINT32_MAX ? 0 : ampl_now_ns() + (uint64_t)timeout_us * 1000u;
	for (;;) {
		uint32_t seen = ampl_doorbell_seq(db);
		uint32_t v = off == AMPL_IPI_OBS ? derive(pt->soc, pt->idx, mask, false, NULL) : ipi_read32(io, off);
		if ((v & mask) == expect)
			return 0;
		if (ampl_doorbell_wait(db, seen, pt->mode, deadline) == -ETIMEDOUT) {
			v = off == AMPL_IPI_OBS ? derive(pt->soc, pt->idx, mask, false, NULL) : ipi_read32(io, off);
			return (v & mask) == expect ? 0 : -ETIMEDOUT;
		}
	}
}

const struct ampl_io_ops sim_ipi_ops = {
	.read32 = ipi_read32,
	.write32 = ipi_write32,
	.wait32 = ipi_wait32,
};
