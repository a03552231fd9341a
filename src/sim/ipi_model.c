/*
 * Register model of the Xilinx IPI block, shared by every process attached to the SoC.
 *
 * State per agent: ISR and IMR (atomic words in the image). TRIG has no state and reads 0. OBS is not stored: bit d
 * of agent s's OBS is "agent d's ISR has s's bit", which is exactly the silicon's meaning (my trigger to d is still
 * pending). Deriving it means no side effect ever has to update two words together, so every register write is a
 * single atomic read-modify-write per destination and stays atomic across processes without a lock.
 *
 *   write TRIG (as s)   for each valid destination bit d: ISR[d] |= bit(s); raise d's line if that bit is unmasked
 *                       (d offline: the request is discarded and counted instead, see image.h)
 *   write ISR  (as r)   W1C: ISR[r] &= ~v; for each source bit s cleared: ring s's acknowledgement doorbell
 *   write IER  (as r)   IMR[r] &= ~v; raise r's line if a pending bit became unmasked
 *   write IDR  (as r)   IMR[r] |= v
 *   OBS, IMR            read-only; writes ignored.  Bits outside the profile's valid mask are ignored everywhere.
 *
 * TRIG-versus-IER race: TRIG does (ISR |= b; read IMR), IER does (IMR &= ~b; read ISR), all sequentially consistent,
 * so at least one of them sees both updates and raises the line: an unmasked pending request always interrupts.
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

static uint32_t derive_obs(struct ampl_soc *soc, unsigned self, uint32_t dests)
{
	const struct ampl_soc_profile *p = soc->profile;
	uint32_t mine = 1u << p->agents[self].bit;
	uint32_t obs = 0;
	dests &= p->valid_mask;
	while (dests) {
		unsigned b = (unsigned)__builtin_ctz(dests);
		dests &= dests - 1;
		int8_t d = soc->idx_by_bit[b];
		if (d >= 0 && (atomic_load(&agent_at(soc, (unsigned)d)->isr) & mine))
			obs |= 1u << b;
	}
	return obs;
}

static uint32_t ipi_read32(const struct ampl_io_region *io, uint32_t off)
{
	struct sim_port *pt = port_of(io);
	struct sim_agent *a = agent_at(pt->soc, pt->idx);
	switch (off) {
	case AMPL_IPI_OBS:
		return derive_obs(pt->soc, pt->idx, 0xFFFFFFFFu);
	case AMPL_IPI_ISR:
		return atomic_load(&a->isr) & ~SIM_ISR_OFFLINE;
	case AMPL_IPI_IMR:
		return atomic_load(&a->imr);
	default: /* TRIG reads back 0; IER/IDR are write-only; reserved offsets read 0 */
		return 0;
	}
}

static void raise_line(struct sim_agent *a)
{
	ampl_doorbell_ring(&a->irq);
}

static void ipi_write32(const struct ampl_io_region *io, uint32_t off, uint32_t val)
{
	struct sim_port *pt = port_of(io);
	struct ampl_soc *soc = pt->soc;
	const struct ampl_soc_profile *p = soc->profile;
	struct sim_agent *self = agent_at(soc, pt->idx);
	uint32_t v = val & p->valid_mask;
	switch (off) {
	case AMPL_IPI_TRIG: {
		unsigned my_bit = p->agents[pt->idx].bit;
		uint32_t mine = 1u << my_bit;
		while (v) {
			unsigned b = (unsigned)__builtin_ctz(v);
			v &= v - 1;
			int8_t d = soc->idx_by_bit[b];
			if (d < 0)
				continue;
			struct sim_agent *dst = agent_at(soc, (unsigned)d);
			uint32_t old = atomic_load(&dst->isr);
			for (;;) {
				if (old & SIM_ISR_OFFLINE) {
					/* The destination is offline: the request is discarded, never pending. */
					atomic_fetch_add(&dst->discards[my_bit], 1);
					SIM_TRACE(soc, pt->idx, AMPL_EV_IPI_DISCARD, (unsigned)d, my_bit);
					ampl_doorbell_ring(&self->ack);
					break;
				}
				if (atomic_compare_exchange_weak(&dst->isr, &old, old | mine)) {
					SIM_TRACE(soc, pt->idx, AMPL_EV_IPI_TRIG, (unsigned)d, !(old & mine));
					if (!(old & mine) && !(atomic_load(&dst->imr) & mine))
						raise_line(dst);
					break;
				}
			}
		}
		break;
	}
	case AMPL_IPI_ISR: {
		/* W1C, ignored while offline: an acknowledgement and going offline are totally ordered on this word,
		 * so every request ends exactly once, acknowledged or discarded. */
		uint32_t old = atomic_load(&self->isr);
		while (!(old & SIM_ISR_OFFLINE) && !atomic_compare_exchange_weak(&self->isr, &old, old & ~v))
			;
		if (old & SIM_ISR_OFFLINE)
			break;
		uint32_t cleared = old & v;
		while (cleared) {
			unsigned b = (unsigned)__builtin_ctz(cleared);
			cleared &= cleared - 1;
			int8_t s = soc->idx_by_bit[b];
			SIM_TRACE(soc, pt->idx, AMPL_EV_IPI_ACK, (unsigned)s, b);
			if (s >= 0)
				ampl_doorbell_ring(&agent_at(soc, (unsigned)s)->ack);
		}
		break;
	}
	case AMPL_IPI_IER: {
		uint32_t was_masked = atomic_fetch_and(&self->imr, ~v) & v;
		SIM_TRACE(soc, pt->idx, AMPL_EV_IPI_IER, pt->idx, v);
		if (was_masked & atomic_load(&self->isr))
			raise_line(self);
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
	/* OBS drops when a destination acknowledges (our ack doorbell); ISR/IMR changes raise our line. */
	struct ampl_doorbell *db = off == AMPL_IPI_OBS ? &a->ack : &a->irq;
	uint64_t deadline = timeout_us == UINT32_MAX ? 0 : ampl_now_ns() + (uint64_t)timeout_us * 1000u;
	for (;;) {
		uint32_t seen = ampl_doorbell_seq(db);
		uint32_t v = off == AMPL_IPI_OBS ? derive_obs(pt->soc, pt->idx, mask) : ipi_read32(io, off);
		if ((v & mask) == expect)
			return 0;
		if (ampl_doorbell_wait(db, seen, pt->mode, deadline) == -ETIMEDOUT) {
			v = off == AMPL_IPI_OBS ? derive_obs(pt->soc, pt->idx, mask) : ipi_read32(io, off);
			return (v & mask) == expect ? 0 : -ETIMEDOUT;
		}
	}
}

const struct ampl_io_ops sim_ipi_ops = {
	.read32 = ipi_read32,
	.write32 = ipi_write32,
	.wait32 = ipi_wait32,
};
