/*
 * Start-up of the mps2-an386 board: the Cortex-M vector table and the reset handler. The core reads the initial
 * stack pointer and the reset vector from address 0 (VTOR resets to 0, where the linker script puts .vectors).
 */
#include <stddef.h>
#include <stdint.h>

#include "board.h"

extern uint32_t __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[], __stack_top[];

int main(void);
void mps2_reset_handler(void);
void mps2_default_handler(void);
void mps2_irq_dispatch(void);

/* System exceptions: board.c defines SysTick's; the others end the emulation with the exception's number. */
#define WEAK_DEFAULT __attribute__((weak, alias("mps2_default_handler")))
WEAK_DEFAULT void mps2_nmi_handler(void);
WEAK_DEFAULT void mps2_hardfault_handler(void);
WEAK_DEFAULT void mps2_memmanage_handler(void);
WEAK_DEFAULT void mps2_busfault_handler(void);
WEAK_DEFAULT void mps2_usagefault_handler(void);
WEAK_DEFAULT void mps2_svcall_handler(void);
WEAK_DEFAULT void mps2_debugmon_handler(void);
WEAK_DEFAULT void mps2_pendsv_handler(void);
WEAK_DEFAULT void mps2_systick_handler(void);

void mps2_reset_handler(void)
{
	uint32_t *src = __data_load, *dst = __data_start;

	while (dst < __data_end)
		*dst++ = *src++;
	for (dst = __bss_start; dst < __bss_end;)
		*dst++ = 0;
	board_exit(main());
}

void mps2_default_handler(void)
{
	uint32_t ipsr;

	__asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
	board_put_u32("mps2-an386: unhandled exception", ipsr & 0x1ffu);
	board_exit(BOARD_EXIT_FAULT);
}

/* An entry of the table: the initial stack pointer (entry 0) or a handler. */
union vector {
	void *sp;
	void (*handler)(void);
};

#define IRQ { .handler = mps2_irq_dispatch }
#define IRQ8 IRQ, IRQ, IRQ, IRQ, IRQ, IRQ, IRQ, IRQ

/* The 16 architectural entries of ARMv7-M, then device interrupts 0..MPS2_NUM_IRQ-1 (all dispatched by board.c). */
__attribute__((used, section(".vectors"))) static const union vector vectors[16 + 32] = {
	{ .sp = __stack_top },              /* 0: initial SP */
	{ .handler = mps2_reset_handler },  /* 1: Reset */
	{ .handler = mps2_nmi_handler },    /* 2: NMI */
	{ .handler = mps2_hardfault_handler },  /* 3: HardFault */
	{ .handler = mps2_memmanage_handler },  /* 4: MemManage */
	{ .handler = mps2_busfault_handler },   /* 5: BusFault */
	{ .handler = mps2_usagefault_handler }, /* 6: UsageFault */
	{ .handler = NULL },                /* 7: reserved */
	{ .handler = NULL },                /* 8: reserved */
	{ .handler = NULL },                /* 9: reserved */
	{ .handler = NULL },                /* 10: reserved */
	{ .handler = mps2_svcall_handler }, /* 11: SVCall */
	{ .handler = mps2_debugmon_handler }, /* 12: DebugMonitor */
	{ .handler = NULL },                /* 13: reserved */
	{ .handler = mps2_pendsv_handler }, /* 14: PendSV */
	{ .handler = mps2_systick_handler }, /* 15: SysTick */
	IRQ8, IRQ8, IRQ8, IRQ8,             /* 16..: device IRQ 0..31 */
};
_Static_assert(MPS2_NUM_IRQ == 32, "one vector per device interrupt");
