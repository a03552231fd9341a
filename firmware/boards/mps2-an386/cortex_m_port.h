/*
 * amplink port header for single-core Cortex-M (ARMv7-M) firmware: compiled into every object of the portable
 * core and of the firmware with -DAMPL_PORT_HEADER='"cortex_m_port.h"' (see <amplink/port.h>, which includes it
 * before its defaults).
 *
 * What it changes from the defaults:
 *   ampl_irq_lock/unlock  mask interrupts with PRIMASK around the core's spinlocks: on one core an interrupt handler
 *                         (the doorbell's) that takes a lock the interrupted thread holds would spin forever, so
 *                         the holder runs with interrupts masked. The key is the previous PRIMASK, so sections
 *                         nest and a section entered from a handler with interrupts masked leaves them masked.
 * Barriers keep the defaults (a DMB on ARMv7-M orders the normal-memory window; the UART is Device memory, whose
 * accesses are not reordered with each other).
 *
 * Where the library has its own Cortex-M port (<amplink/port/cortex_m.h>), this header is that port; the minimal
 * PRIMASK version below is used only without it.
 */
#ifndef AMPLINK_CORTEX_M_PORT_H
#define AMPLINK_CORTEX_M_PORT_H

#if defined(__has_include)
#if __has_include(<amplink/port/cortex_m.h>)
#define AMPL_BOARD_LIBRARY_PORT 1
#include <amplink/port/cortex_m.h>
#endif
#endif

#ifndef AMPL_BOARD_LIBRARY_PORT
#include <stdint.h>

static inline unsigned ampl_cortex_m_irq_lock(void)
{
	uint32_t key;
	/* Read PRIMASK, then mask: the compiler barrier keeps the protected accesses after it. */
	__asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(key)::"memory");
	return key;
}

static inline void ampl_cortex_m_irq_unlock(unsigned key)
{
	/* Restore what lock found: interrupts come back only if they were enabled before. */
	__asm__ volatile("msr primask, %0" ::"r"(key) : "memory");
}

#define ampl_irq_lock() ampl_cortex_m_irq_lock()
#define ampl_irq_unlock(key) ampl_cortex_m_irq_unlock(key)
#endif /* !AMPL_BOARD_LIBRARY_PORT */

#endif /* AMPLINK_CORTEX_M_PORT_H */
