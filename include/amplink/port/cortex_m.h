/*
 * amplink port for Cortex-M (ARMv6-M, ARMv7-M, ARMv8-M), bare metal or under an RTOS that lets thread code mask
 * interrupts. Selected by defining AMPL_PORT_CORTEX_M (see amplink/port.h); included by port.h, not directly.
 *
 * ampl_irq_lock() masks interrupts for the framework's short spinlock sections, so that an interrupt handler that
 * enters amplink (a doorbell, a TX-done interrupt, a poll timer) can never preempt thread code holding the lock it
 * needs: on one core it would spin forever. The key is the previous mask, so sections nest.
 *
 *   default                      PRIMASK: "mrs key, primask; cpsid i" / "msr primask, key". Masks every
 *                                configurable-priority exception (NMI and HardFault still run: they must not
 *                                enter amplink).
 *   AMPL_CORTEX_M_BASEPRI=value  ARMv7-M/ARMv8-M Mainline: BASEPRI, "mrs key, basepri; msr basepri_max, value" /
 *                                "msr basepri, key". value is the priority as written to the register (already
 *                                shifted to the implemented bits, non-zero). Interrupts of higher urgency (a lower
 *                                number) than value stay enabled and must not enter amplink.
 */
#ifndef AMPLINK_PORT_CORTEX_M_H
#define AMPLINK_PORT_CORTEX_M_H

#ifdef __cplusplus
extern "C" {
#endif

#if !defined(__arm__) || !defined(__ARM_ARCH_PROFILE) || __ARM_ARCH_PROFILE != 'M'
#error "amplink/port/cortex_m.h: AMPL_PORT_CORTEX_M is for M-profile ARM targets (-mcpu=cortex-m...)"
#endif

#ifdef AMPL_CORTEX_M_BASEPRI
#if !defined(__ARM_ARCH_7M__) && !defined(__ARM_ARCH_7EM__) && !defined(__ARM_ARCH_8M_MAIN__) &&                 \
	!defined(__ARM_ARCH_8_1M_MAIN__)
#error "amplink/port/cortex_m.h: BASEPRI exists on ARMv7-M and ARMv8-M Mainline only; leave AMPL_CORTEX_M_BASEPRI undefined to use PRIMASK"
#endif
#if (AMPL_CORTEX_M_BASEPRI) <= 0 || (AMPL_CORTEX_M_BASEPRI) > 255
#error "amplink/port/cortex_m.h: AMPL_CORTEX_M_BASEPRI must be a priority value 1..255 (0 would mask nothing)"
#endif

static inline unsigned ampl_cortex_m_irq_lock(void)
{
	unsigned key;
	__asm__ volatile("mrs %0, basepri\n\t"
			 "msr basepri_max, %1\n\t"
			 "isb"
			 : "=&r"(key)
			 : "r"((unsigned)(AMPL_CORTEX_M_BASEPRI))
			 : "memory");
	return key;
}

static inline void ampl_cortex_m_irq_unlock(unsigned key)
{
	__asm__ volatile("msr basepri, %0\n\t"
			 "isb" ::"r"(key)
			 : "memory");
}
#else
static inline unsigned ampl_cortex_m_irq_lock(void)
{
	unsigned key;
	__asm__ volatile("mrs %0, primask\n\t"
			 "cpsid i"
			 : "=r"(key)
			 :
			 : "memory");
	return key;
}

static inline void ampl_cortex_m_irq_unlock(unsigned key)
{
	/* Restores the state before the matching lock: interrupts stay masked if they were (nested sections). */
	__asm__ volatile("msr primask, %0" ::"r"(key) : "memory");
}
#endif

#define ampl_irq_lock() ampl_cortex_m_irq_lock()
#define ampl_irq_unlock(key) ampl_cortex_m_irq_unlock(key)

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_PORT_CORTEX_M_H */
