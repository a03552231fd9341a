/*
 * Start-up of the riscv-virt board: the entry the host's loader points hart 0 at (riscv-virt.ld), the machine trap
 * handler (mtvec, direct mode), and the C library functions GCC may call (this toolchain ships no C library).
 */
#include <stddef.h>
#include <stdint.h>

#include "board.h"

extern uint32_t __bss_start[], __bss_end[];

int main(void);
void virt_entry(void);
void virt_reset(void);
void virt_trap(void);
void virt_trap_dispatch(uint32_t mcause, uint32_t mepc);

/* The CSR instructions are Zicsr, which -march=rv32imac alone does not name (binutils >= 2.38). */
#define CSR_ASM(insn) ".option push\n.option arch, +zicsr\n" insn "\n.option pop\n"

__attribute__((naked, used, section(".text.entry"))) void virt_entry(void)
{
	/* gp first, without relaxation (the linker would otherwise turn this load into one relative to gp itself). */
	__asm__ volatile(".option push\n.option norelax\n"
			 "la gp, __global_pointer$\n"
			 ".option pop\n"
			 "la sp, __stack_top\n"
			 "la t0, virt_trap\n" CSR_ASM("csrw mtvec, t0") "j virt_reset\n");
}

void virt_reset(void)
{
	/* .data is where the loader put it (the image runs from RAM); only .bss needs clearing. */
	for (uint32_t *dst = __bss_start; dst < __bss_end;)
		*dst++ = 0;
	board_exit(main());
}

/* Every trap: interrupts (the timer, the PLIC) and exceptions (a fault ends the emulation with a report). */
__attribute__((interrupt("machine"), used, aligned(4))) void virt_trap(void)
{
	uint32_t mcause, mepc;

	__asm__ volatile(CSR_ASM("csrr %0, mcause") : "=r"(mcause));
	__asm__ volatile(CSR_ASM("csrr %0, mepc") : "=r"(mepc));
	virt_trap_dispatch(mcause, mepc);
}

/* What GCC calls for block copies and clears (the core's ampl_memcpy/ampl_memset are builtins that may fall back on
 * these) and for a byte-wide atomic exchange (atomic_flag: RV32A has no byte-wide AMO): the size images' versions
 * (firmware/size/common/rv32_support.c) are linked into the board library. */
