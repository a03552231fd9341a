/*
 * The mps2-an386 board (Arm MPS2 with the AN386 Cortex-M4 image) as QEMU models it: memory map, start-up,
 * interrupts, the SysTick clock, the idle loop and semihosting. Firmware for amplink under QEMU includes this and
 * links board.c, startup.c and mps2-an386.ld.
 *
 * Memory map (QEMU hw/arm/mps2.c):
 *   0x00000000  SSRAM1, 4 MiB   code and constants (the vector table at 0)
 *   0x20000000  SSRAM2          data, bss, stack (the linker script uses 2 MiB)
 *   0x21000000  PSRAM, 16 MiB   the machine RAM: with -machine memory-backend=... a file the host maps too; the
 *                               linker script's .shm section (NOLOAD), __shm_start .. __shm_end
 *   0x40004000  UART0 (CMSDK APB UART), RX IRQ 0, TX IRQ 1
 *   0x40005000  UART1, RX IRQ 2, TX IRQ 3: the emulator doorbell (-serial null -serial unix:SOCK)
 *
 * Contexts: board_irq_connect() and board_idle() run in thread context (main); the handlers connected run in
 * interrupt context; board_puts() and board_exit() anywhere (semihosting traps into the emulator).
 */
#ifndef MPS2_AN386_BOARD_H
#define MPS2_AN386_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#define MPS2_UART0_BASE 0x40004000u
#define MPS2_UART1_BASE 0x40005000u
#define MPS2_UART1_RX_IRQ 2u
#define MPS2_UART1_TX_IRQ 3u
#define MPS2_NUM_IRQ 32u
/** The emulator doorbell's UART and its RX interrupt (board-neutral names, for firmware/apps/common). */
#define BOARD_DOORBELL_UART_BASE MPS2_UART1_BASE
#define BOARD_DOORBELL_RX_IRQ MPS2_UART1_RX_IRQ
#define BOARD_DOORBELL_NAME "UART1"
/** The clock of the CPU and of SysTick's processor clock source on QEMU's MPS2 models. */
#define MPS2_SYSCLK_HZ 25000000u

/** Exit codes of board faults (the firmware's own codes stay below them). */
#define BOARD_EXIT_FAULT 125 /* an exception nobody handles (HardFault, an unexpected interrupt...) */

/** The shared window, from the linker script. */
extern uint8_t __shm_start[], __shm_end[];

/** board_init() - start the 1 ms SysTick (ampl_os_uptime_us()) and enable interrupts. Thread context, once. */
void board_init(void);

/**
 * board_irq_connect() - route device interrupt @irq to @fn(@arg) and enable it in the NVIC.
 * Return: 0; -EINVAL (@irq >= MPS2_NUM_IRQ or no @fn). Context: thread.
 */
int board_irq_connect(unsigned irq, void (*fn)(void *arg), void *arg);

/**
 * board_idle() - sleep (WFI) until the next interrupt unless @busy(@arg) says there is work, and run the mailbox
 * framework's TX-done ticker when a polled controller asked for it (ampl_mbox_poll_kick). @busy is evaluated
 * with interrupts masked, so a handler that makes it true cannot slip in between the test and the WFI. SysTick
 * wakes the core every millisecond. Context: thread.
 */
void board_idle(bool (*busy)(void *arg), void *arg);

/** board_puts() - write @s on the emulator's standard output (semihosting SYS_WRITE0). */
void board_puts(const char *s);

/** board_put_u32() - write "@label @value\n" (decimal) on the emulator's standard output. */
void board_put_u32(const char *label, uint32_t value);

/** board_exit() - end the emulation with @code as QEMU's exit status (semihosting SYS_EXIT_EXTENDED). */
_Noreturn void board_exit(int code);

#endif /* MPS2_AN386_BOARD_H */
