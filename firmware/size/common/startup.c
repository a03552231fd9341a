/*
 * The smallest start-up every size image shares (Cortex-M and RV32): what the reset vector runs before main(),
 * and the interrupt entry of the doorbell. The empty baseline image links exactly this, so the table printed by
 * scripts/cross.sh subtracts it. The initial stack pointer (Cortex-M) is the first word the linker script puts
 * in the vector table.
 */
#include <stdint.h>

#include "size_image.h"

extern uint32_t __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[];

void size_reset_handler(void);
void size_default_handler(void);

int main(void);

void size_default_handler(void)
{
	for (;;)
		size_wait_for_interrupt();
}

/* The doorbell's interrupt: the controller of a program that uses one defines it; the empty image does not. */
__attribute__((weak, alias("size_default_handler"))) void size_doorbell_irq(void);

void size_reset_handler(void)
{
	uint32_t *src = __data_load, *dst = __data_start;

	while (dst < __data_end)
		*dst++ = *src++;
	for (dst = __bss_start; dst < __bss_end;)
		*dst++ = 0;
	(void)main();
	for (;;)
		size_wait_for_interrupt();
}

#if defined(__arm__)
/* Cortex-M vector table after the initial SP: 15 system exceptions, then IRQ 0 = the doorbell. */
__attribute__((used, section(".vectors"))) static void (*const vectors[])(void) = {
	size_reset_handler,   size_default_handler, size_default_handler, size_default_handler,
	size_default_handler, size_default_handler, size_default_handler, 0,
	0,                    0,                    0,                    size_default_handler,
	size_default_handler, 0,                    size_default_handler, size_default_handler,
	size_doorbell_irq,
};
#elif defined(__riscv)
/* RV32: reset jumps here (stack set by the linker script's symbol); one trap handler takes the doorbell. */
void size_entry(void);
__attribute__((naked, used, section(".vectors"))) void size_entry(void)
{
	__asm__ volatile("la sp, __stack_top\n"
			 "la t0, size_trap\n"
			 ".option push\n"
			 ".option arch, +zicsr\n" /* rv32imac alone does not name the CSR instructions (binutils >= 2.38) */
			 "csrw mtvec, t0\n"
			 ".option pop\n"
			 "j size_reset_handler\n");
}

void size_trap(void);
__attribute__((interrupt("machine"), used, aligned(4))) void size_trap(void)
{
	size_doorbell_irq();
}
#endif
