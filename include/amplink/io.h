/*
 * I/O regions: how drivers reach registers and device memory.
 *
 * A driver never dereferences a register address itself. It calls ampl_io_read32()/ampl_io_write32() on a region.
 * On hardware the region has no ops and the access is a plain volatile 32-bit load or store at base + offset.
 * In the virtual SoC the region carries ops that perform the register's side effects (for example: a write to an
 * IPI TRIG register sets bits in other agents' ISR registers and raises their interrupt) atomically across all the
 * processes attached to the SoC. The driver code is the same in both places.
 *
 * ampl_io_wait32() waits until (read32(off) & mask) == expect. On hardware it spins; in the virtual SoC the op
 * may spin and then sleep until the model signals a change (see the SoC's wait mode).
 */
#ifndef AMPLINK_IO_H
#define AMPLINK_IO_H

#include <amplink/port.h>
#include <amplink/errno.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ampl_io_region;

/** Register access operations of a modelled region. Every op may be called from interrupt context. */
struct ampl_io_ops {
	uint32_t (*read32)(const struct ampl_io_region *io, uint32_t off);
	void (*write32)(const struct ampl_io_region *io, uint32_t off, uint32_t val);
	/**
	 * Wait until (read32(off) & mask) == expect, for at most @timeout_us microseconds (UINT32_MAX: no limit).
	 * Returns 0 or -ETIMEDOUT. Optional: without it the accessor spins using read32.
	 */
	int (*wait32)(const struct ampl_io_region *io, uint32_t off, uint32_t mask, uint32_t expect,
		      uint32_t timeout_us);
};

/**
 * struct ampl_io_region - a window of registers or device memory.
 * @base: address of offset 0 (the physical address on hardware; a host pointer in the simulation)
 * @size: bytes in the window; accessors assert (not check) that offsets are inside it
 * @ops:  NULL for plain volatile accesses; the model's ops in the simulation
 * @ctx:  the ops' private context
 */
struct ampl_io_region {
	volatile void *base;
	uint32_t size;
	const struct ampl_io_ops *ops;
	void *ctx;
};

/*
 * AMPL_IO_OPS (compile-time option): 1, the default of the hosted build: a region with ops is a model (the virtual
 * SoC's registers), and every accessor checks for them. 0, the default of firmware builds (a port selected): every
 * region is plain memory-mapped hardware, accessed directly; ops are not called. Define it to choose.
 */
#ifndef AMPL_IO_OPS
#define AMPL_IO_OPS (!AMPL_FIRMWARE_BUILD)
#endif

/** Bound on ampl_io_wait32()'s spin on plain hardware, in polls; a port can define its own time base. */
#ifndef AMPL_IO_SPIN_PER_US
#define AMPL_IO_SPIN_PER_US 16u
#endif

static inline uint32_t ampl_io_read32(const struct ampl_io_region *io, uint32_t off)
{
	AMPL_ASSERT(off + 4 <= io->size && (off & 3u) == 0);
	if (AMPL_IO_OPS && io->ops)
		return io->ops->read32(io, off);
	return *(volatile uint32_t *)(volatile void *)((volatile uint8_t *)io->base + off);
}

static inline void ampl_io_write32(const struct ampl_io_region *io, uint32_t off, uint32_t val)
{
	AMPL_ASSERT(off + 4 <= io->size && (off & 3u) == 0);
	if (AMPL_IO_OPS && io->ops)
		io->ops->write32(io, off, val);
	else
		*(volatile uint32_t *)(volatile void *)((volatile uint8_t *)io->base + off) = val;
}

/**
 * ampl_io_wait32() - wait until (register & mask) == expect.
 * @timeout_us: microseconds; UINT32_MAX waits without limit. On plain hardware the bound is counted in polls
 *              (AMPL_IO_SPIN_PER_US per microsecond), not read from a clock.
 * Return: 0, or -ETIMEDOUT.
 * Context: any; it spins (hardware) or may sleep (simulation with a sleeping wait mode: thread context only).
 */
static inline int ampl_io_wait32(const struct ampl_io_region *io, uint32_t off, uint32_t mask, uint32_t expect,
				 uint32_t timeout_us)
{
	if (AMPL_IO_OPS && io->ops && io->ops->wait32)
		return io->ops->wait32(io, off, mask, expect, timeout_us);
	uint64_t polls = (uint64_t)timeout_us * AMPL_IO_SPIN_PER_US;
	for (uint64_t i = 0;; i++) {
		if ((ampl_io_read32(io, off) & mask) == expect)
			return 0;
		if (timeout_us != UINT32_MAX && i >= polls)
			return -ETIMEDOUT;
		ampl_cpu_relax();
	}
}

/** Copy @n bytes (a multiple of 4) out of device memory with 32-bit accesses. */
static inline void ampl_io_read_words(const struct ampl_io_region *io, uint32_t off, void *dst, uint32_t n)
{
	uint8_t *d = (uint8_t *)dst;
	for (uint32_t i = 0; i < n; i += 4) {
		uint32_t w = ampl_io_read32(io, off + i);
		ampl_memcpy(d + i, &w, 4);
	}
}

/** Copy @n bytes into device memory with 32-bit accesses; a partial last word is zero-padded. */
static inline void ampl_io_write_bytes(const struct ampl_io_region *io, uint32_t off, const void *src, uint32_t n)
{
	const uint8_t *s = (const uint8_t *)src;
	uint32_t i = 0;
	for (; i + 4 <= n; i += 4) {
		uint32_t w;
		ampl_memcpy(&w, s + i, 4);
		ampl_io_write32(io, off + i, w);
	}
	if (i < n) {
		uint32_t w = 0;
		ampl_memcpy(&w, s + i, n - i);
		ampl_io_write32(io, off + i, w);
	}
}

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_IO_H */
