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
/* The system exceptions a program may take over (weak: the idle handler unless the program defines them). */
__attribute__((weak, alias("size_default_handler"))) void size_svcall_handler(void);
__attribute__((weak, alias("size_default_handler"))) void size_pendsv_handler(void);
__attribute__((weak, alias("size_default_handler"))) void size_systick_handler(void);

/*
 * Cortex-M vector table: the 16 architectural entries, then the device interrupts (IRQ n is entry 16 + n). Entry 0,
 * the initial SP, is the word the linker script writes right before this array, so entry n is element n - 1.
 */
#define VEC(n) ((n)-1)
#define VEC_IRQ(n) VEC(16 + (n))
__attribute__((used, section(".vectors"))) static void (*const vectors[])(void) = {
	[VEC(1)] = size_reset_handler,    /* Reset */
	[VEC(2)] = size_default_handler,  /* NMI */
	[VEC(3)] = size_default_handler,  /* HardFault */
	[VEC(4)] = size_default_handler,  /* MemManage */
	[VEC(5)] = size_default_handler,  /* BusFault */
	[VEC(6)] = size_default_handler,  /* UsageFault */
	[VEC(7)] = 0,                     /* 7..10 reserved */
	[VEC(11)] = size_svcall_handler,  /* SVCall */
	[VEC(12)] = size_default_handler, /* DebugMonitor */
	[VEC(13)] = 0,                    /* reserved */
	[VEC(14)] = size_pendsv_handler,  /* PendSV */
	[VEC(15)] = size_systick_handler, /* SysTick */
	[VEC_IRQ(0)] = size_doorbell_irq, /* IRQ 0: the doorbell */
};
_Static_assert(sizeof(vectors) / sizeof(vectors[0]) == VEC_IRQ(0) + 1,
	       "the doorbell is IRQ 0, the entry right after the 16 architectural ones");
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
