/*
 * amplink portability hooks for the portable core.
 *
 * The core (device registry, IPM front end, drivers, protocol libraries) uses only what this header gives it, so a
 * firmware port can replace it wholesale: define AMPL_PORT_HEADER to the name of your own header and it is included
 * instead of the defaults below. The defaults need nothing but the compiler: <stdint.h>, <stddef.h>, <stdbool.h>,
 * <stdatomic.h> and GCC/Clang builtins. They work on the Linux host and on bare-metal Cortex-M and RISC-V.
 *
 * A firmware (freestanding) build must say how the core masks interrupts, or it does not compile:
 *   -DAMPL_PORT_CORTEX_M   amplink/port/cortex_m.h: PRIMASK (or BASEPRI with -DAMPL_CORTEX_M_BASEPRI=value)
 *   -DAMPL_PORT_RISCV      amplink/port/riscv.h: mstatus.MIE (machine mode)
 *   -DAMPL_PORT_HEADER=... your own header, which defines ampl_irq_lock()/ampl_irq_unlock() (e.g. an RTOS's)
 * The hosted (POSIX) build needs none of them.
 */
#ifndef AMPLINK_PORT_H
#define AMPLINK_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <amplink/cdefs.h> /* and <stdatomic.h> in C */

#ifdef AMPL_PORT_HEADER
#include AMPL_PORT_HEADER
#elif defined(AMPL_PORT_CORTEX_M)
#include <amplink/port/cortex_m.h>
#elif defined(AMPL_PORT_RISCV)
#include <amplink/port/riscv.h>
#endif

/*
 * AMPL_FIRMWARE_BUILD: 1 when a port is selected (a firmware build), else 0 (the hosted build). The defaults of the
 * options that leave the host's machinery out of firmware follow it: AMPL_IO_OPS (<amplink/io.h>),
 * AMPL_IPC_LINK_FRAMEWORK (<amplink/ipc/link.h>), AMPL_MBOX_REGISTRY (<amplink/mailbox_client.h>).
 */
#if defined(AMPL_PORT_HEADER) || defined(AMPL_PORT_CORTEX_M) || defined(AMPL_PORT_RISCV)
#define AMPL_FIRMWARE_BUILD 1
#else
#define AMPL_FIRMWARE_BUILD 0
#endif

/* Byte copies and fills. The builtins inline small fixed sizes; larger ones call the libc routine if linked. */
#ifndef ampl_memcpy
#define ampl_memcpy(d, s, n) __builtin_memcpy((d), (s), (n))
#endif
#ifndef ampl_memset
#define ampl_memset(d, c, n) __builtin_memset((d), (c), (n))
#endif

/*
 * ampl_mb() - full memory barrier between this core's accesses to shared memory and to device registers.
 * Orders: every load/store before it against every load/store after it, as seen by another core or a device.
 * On Cortex-M a port should make this a DSB when the mailbox sits on a bus that can reorder (ARM erratum 838869
 * style problems); the default is a sequentially consistent fence, which is a DMB on ARMv7-M.
 */
#ifndef ampl_mb
#define ampl_mb() atomic_thread_fence(memory_order_seq_cst)
#endif

/*
 * ampl_rmb() - load barrier: every load before it is ordered before every load and store after it (acquire). For
 * "read the data, then read the word that says whether it is still valid". Default: an acquire fence (a DMB on
 * ARMv7-M, nothing but a compiler barrier on x86, whose loads are not reordered with each other).
 */
#ifndef ampl_rmb
#define ampl_rmb() atomic_thread_fence(memory_order_acquire)
#endif

/*
 * ampl_wmb() - store barrier: every access before it is ordered before every store after it (release). For
 * "write the data, then the index that publishes it". Default: a release fence (a DMB on ARMv7-M, a compiler
 * barrier on x86, whose stores are not reordered with each other).
 */
#ifndef ampl_wmb
#define ampl_wmb() atomic_thread_fence(memory_order_release)
#endif

/* Busy-wait hint inside spin loops (PAUSE / YIELD); lets the sibling hyperthread or the peer run. */
#ifndef ampl_cpu_relax
#if defined(__x86_64__) || defined(__i386__)
#define ampl_cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__) || (defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7)
#define ampl_cpu_relax() __asm__ volatile("yield" ::: "memory")
#else
#define ampl_cpu_relax() __asm__ volatile("" ::: "memory")
#endif
#endif

/* Assertion of something the local side controls. Never used on data the peer wrote to shared memory. */
#ifndef AMPL_ASSERT
#define AMPL_ASSERT(cond) ((void)0)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Scheduling hooks of the portable core. A port provides them: src/port/posix (futex, CLOCK_MONOTONIC) or
 * src/port/baremetal (spinning; weak definitions a firmware port overrides with its timer and WFE/WFI).
 */
/** Monotonic microseconds. */
uint64_t ampl_os_uptime_us(void);
/** Wait until *@word != @seen, or @timeout_us passes (UINT32_MAX: no limit). 0 or -ETIMEDOUT; may return early. */
int ampl_os_wait(AMPL_ATOMIC(uint32_t) *word, uint32_t seen, uint32_t timeout_us);
/** Wake the waiters of @word (after changing it). Context: any. */
void ampl_os_wake(AMPL_ATOMIC(uint32_t) *word);

/*
 * A spinlock for short sections shared with interrupt handlers. On firmware the section must also mask
 * interrupts, or an interrupt handler that needs the lock held by the code it preempted spins forever (one core):
 * ampl_irq_lock() masks them and returns the previous state, ampl_irq_unlock(key) restores it. A port provides
 * both (see the top of this file). The hosted default does nothing, which is right on the host, where interrupt
 * handlers are threads; a freestanding build without a port is refused.
 */
#ifndef ampl_irq_lock
#if defined(__STDC_HOSTED__) && __STDC_HOSTED__ == 0
#error "amplink: freestanding build without an interrupt-masking port: define AMPL_PORT_CORTEX_M, AMPL_PORT_RISCV, or AMPL_PORT_HEADER naming a header that defines ampl_irq_lock()/ampl_irq_unlock() (see amplink/port.h); without one, an interrupt that enters amplink while thread code holds a framework spinlock deadlocks"
#endif
#define ampl_irq_lock() 0u
#define ampl_irq_unlock(key) ((void)(key))
#endif

/* C only: C++ sees the flags as opaque storage (amplink/cdefs.h) and takes no framework lock itself. */
#ifndef __cplusplus
/* The lock's body: interrupts masked for the section, then the flag taken; released in the reverse order. */
static inline unsigned ampl_spin_lock_inline(atomic_flag *l)
{
	unsigned key = ampl_irq_lock();
	while (atomic_flag_test_and_set_explicit(l, memory_order_acquire))
		ampl_cpu_relax();
	return key;
}

static inline void ampl_spin_unlock_inline(atomic_flag *l, unsigned key)
{
	atomic_flag_clear_explicit(l, memory_order_release);
	ampl_irq_unlock(key);
}

#if AMPL_FIRMWARE_BUILD
/* Firmware: one copy of each in the image (src/core/spinlock.c), where GCC at -Os outlines a static inline one in
 * every file that takes the lock. */
unsigned ampl_spin_lock(atomic_flag *l);
void ampl_spin_unlock(atomic_flag *l, unsigned key);
#else
static inline unsigned ampl_spin_lock(atomic_flag *l)
{
	return ampl_spin_lock_inline(l);
}

static inline void ampl_spin_unlock(atomic_flag *l, unsigned key)
{
	ampl_spin_unlock_inline(l, key);
}
#endif
#endif

#ifdef __cplusplus
}
#endif

#define AMPL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define AMPL_CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif /* AMPLINK_PORT_H */
