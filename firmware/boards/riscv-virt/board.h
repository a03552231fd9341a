/*
 * The riscv-virt board: QEMU's generic RISC-V machine (`qemu-system-riscv32 -M virt`, one RV32 hart in machine
 * mode) as QEMU 7.2 models it: memory map, start-up, interrupts, the machine timer, the idle loop and semihosting.
 * Firmware for amplink under QEMU includes this and links board.c, startup.c, emu_doorbell.c and riscv-virt.ld.
 *
 * Memory map (QEMU hw/riscv/virt.c), RAM 16 MiB (-m 16M): all of it is the file the host maps, so the firmware
 * lives in the same RAM as the window:
 *   0x02000000  CLINT: mtimecmp (hart 0) at +0x4000, mtime at +0xBFF8, 10 MHz
 *   0x0C000000  PLIC: priorities at +4*irq, hart 0 machine context: enables +0x2000, threshold +0x200000,
 *               claim/complete +0x200004
 *   0x10000000  UART0 (NS16550A, byte registers), PLIC source 10: the emulator doorbell (-serial unix:SOCK)
 *   0x80000000  RAM, file offset 0: the window (.shm, NOLOAD) up to 0x80E00000
 *   0x80E00000  QEMU writes its devicetree blob here at every start (the top of RAM rounded down to 2 MiB)
 *   0x80F00000  the firmware: code, data, bss, stack (1 MiB), loaded by `-device loader` (see riscv-virt.ld)
 *
 * Contexts: board_irq_connect() and board_idle() run in thread context (main); the handlers connected run in
 * interrupt context (the machine trap handler, interrupts masked); board_puts() and board_exit() anywhere
 * (semihosting traps into the emulator).
 */
#ifndef RISCV_VIRT_BOARD_H
#define RISCV_VIRT_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#define VIRT_CLINT_BASE 0x02000000u
#define VIRT_PLIC_BASE 0x0C000000u
#define VIRT_UART0_BASE 0x10000000u
#define VIRT_UART0_IRQ 10u
/** PLIC sources this board dispatches (virt has 96 or more; the devices used here are below 32). */
#define VIRT_NUM_IRQ 32u
/** The frequency of mtime on QEMU's virt machine. */
#define VIRT_TIMEBASE_HZ 10000000u

/** The emulator doorbell's UART and its interrupt (board-neutral names, for firmware/apps/common). */
#define BOARD_DOORBELL_UART_BASE VIRT_UART0_BASE
#define BOARD_DOORBELL_RX_IRQ VIRT_UART0_IRQ
#define BOARD_DOORBELL_NAME "UART0"

/** Exit codes of board faults (the firmware's own codes stay below them). */
#define BOARD_EXIT_FAULT 125 /* an exception or an interrupt nobody handles */

/** The shared window, from the linker script. */
extern uint8_t __shm_start[], __shm_end[];

/** board_init() - start the 1 ms machine timer tick (ampl_os_uptime_us() reads mtime) and enable interrupts. */
void board_init(void);

/**
 * board_irq_connect() - route PLIC source @irq to @fn(@arg), give it priority 1 and enable it for hart 0's machine
 * context. Return: 0; -EINVAL (@irq == 0, @irq >= VIRT_NUM_IRQ or no @fn). Context: thread.
 */
int board_irq_connect(unsigned irq, void (*fn)(void *arg), void *arg);

/**
 * board_idle() - sleep (WFI) until the next interrupt unless @busy(@arg) says there is work, and run the mailbox
 * framework's TX-done ticker when a polled controller asked for it (ampl_mbox_poll_kick). @busy is evaluated with
 * mstatus.MIE clear, so a handler that makes it true cannot slip in between the test and the WFI (WFI wakes on an
 * interrupt pending in mie even then). The timer wakes the hart every millisecond. Context: thread.
 */
void board_idle(bool (*busy)(void *arg), void *arg);

/** board_puts() - write @s on the emulator's standard output (semihosting SYS_WRITE0). */
void board_puts(const char *s);

/** board_put_u32() - write "@label @value\n" (decimal) on the emulator's standard output. */
void board_put_u32(const char *label, uint32_t value);

/** board_exit() - end the emulation with @code as QEMU's exit status (semihosting SYS_EXIT_EXTENDED). */
_Noreturn void board_exit(int code);

#endif /* RISCV_VIRT_BOARD_H */
