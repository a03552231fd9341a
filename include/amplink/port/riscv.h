/*
 * amplink port for RISC-V harts running amplink in machine mode (RV32 and RV64), bare metal. Selected by defining
 * AMPL_PORT_RISCV (see amplink/port.h); included by port.h, not directly.
 *
 * ampl_irq_lock() clears mstatus.MIE for the framework's short spinlock sections ("csrrci key, mstatus, 8"), so
 * that an interrupt handler that enters amplink can never preempt code holding the lock it needs: on one hart it
 * would spin forever. ampl_irq_unlock() sets MIE again only if it was set before the matching lock, so sections
 * nest. Code running in supervisor or user mode cannot use this port (mstatus is a machine-mode register).
 */
#ifndef AMPLINK_PORT_RISCV_H
#define AMPLINK_PORT_RISCV_H

#ifdef __cplusplus
extern "C" {
#endif

#ifndef __riscv
#error "amplink/port/riscv.h: AMPL_PORT_RISCV is for RISC-V targets"
#endif

#define AMPL_RISCV_MSTATUS_MIE 0x8u

/* The CSR instructions are Zicsr, which -march=rv32imac alone does not name (binutils >= 2.38): enable it here. */
static inline unsigned ampl_riscv_irq_lock(void)
{
	unsigned long key;
	__asm__ volatile(".option push\n\t"
			 ".option arch, +zicsr\n\t"
			 "csrrci %0, mstatus, 8\n\t"
			 ".option pop"
			 : "=r"(key)
			 :
			 : "memory");
	return (unsigned)(key & AMPL_RISCV_MSTATUS_MIE);
}

static inline void ampl_riscv_irq_unlock(unsigned key)
{
	if (key & AMPL_RISCV_MSTATUS_MIE)
		__asm__ volatile(".option push\n\t"
				 ".option arch, +zicsr\n\t"
				 "csrsi mstatus, 8\n\t"
				 ".option pop" ::
					 : "memory");
	else
		__asm__ volatile("" ::: "memory");
}

#define ampl_irq_lock() ampl_riscv_irq_lock()
#define ampl_irq_unlock(key) ampl_riscv_irq_unlock(key)

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_PORT_RISCV_H */
