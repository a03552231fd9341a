/*
 * The emulator doorbell, firmware end: a mailbox controller (<amplink/mailbox_controller.h>) with two channels,
 * rung either through a UART whose serial line QEMU connects to the host (interrupt mode) or through the
 * counter words of the window's boot block (polling mode). The wire protocol is <amplink/emu.h>'s; the host end is
 * src/sim/emu_link.c. Each board implements this header in its own emu_doorbell.c, for its UART (mps2-an386:
 * the CMSDK APB UART1; riscv-virt: the 16550 behind the PLIC).
 *
 *   channel 0 ("tx")  rings the host: one byte written to the UART's data register, or bell_to_host + 1
 *   channel 1 ("rx")  a ring from the host delivers a NULL message (a doorbell carries no data):
 *                     interrupt mode: the UART RX interrupt (emu_doorbell_isr, connected by emu_doorbell_init)
 *                     polling mode:   emu_doorbell_poll(), called by the application's loop, sees bell_to_fw move
 *   TX done           polled: the UART took the byte (its transmit register is free again); a counter increment is done at once. Bytes on
 *                     a serial line are not merged, so a ring never hides another.
 *
 * Contexts: init thread; the RX callback runs in the UART interrupt (interrupt mode) or in the caller of
 * emu_doorbell_poll() (polling mode).
 */
#ifndef EMU_DOORBELL_H
#define EMU_DOORBELL_H

#include <amplink/emu.h>
#include <amplink/mailbox_controller.h>

#define EMU_DOORBELL_TX 0
#define EMU_DOORBELL_RX 1

/**
 * struct emu_doorbell_config - constant configuration.
 * @node:      the controller's devicetree node (consumers' mboxes name it)
 * @uart_base: the UART connected to the host (the board's BOARD_DOORBELL_UART_BASE)
 * @rx_irq:    its RX interrupt (BOARD_DOORBELL_RX_IRQ)
 * @boot:      the window's boot block (polling mode's counters)
 */
struct emu_doorbell_config {
	const char *node;
	uintptr_t uart_base;
	unsigned rx_irq;
	struct ampl_emu_boot *boot;
};

/** struct emu_doorbell - one doorbell. @mbox and @chans are public for consumers (chans[EMU_DOORBELL_TX/RX]). */
struct emu_doorbell {
	struct mbox_controller mbox;
	struct mbox_chan chans[2];
	/* private */
	const struct emu_doorbell_config *cfg;
	bool polling;
	uint32_t seen;      /* polling: bell_to_fw when last delivered */
	uint32_t rings_in;  /* rings received (bytes, or counter steps) */
	uint32_t rings_out; /* rings sent */
};

/**
 * emu_doorbell_init() - set the UART up (interrupt mode: RX interrupt connected), register the controller.
 * @mode: AMPL_EMU_DOORBELL_IRQ or AMPL_EMU_DOORBELL_POLL
 * Return: 0; -EINVAL (NULL argument or unknown mode); mbox_controller_register()'s error; board_irq_connect()'s.
 * Context: thread, once, before the consumers request channels.
 */
int emu_doorbell_init(struct emu_doorbell *db, const struct emu_doorbell_config *cfg, uint32_t mode);

/**
 * emu_doorbell_poll() - polling mode: if the host rang since the last call, deliver one doorbell on the rx
 * channel (several rings since the last call are one: the consumer drains everything it has).
 * Return: true if a doorbell was delivered. Context: thread (the application's loop), never with the RX
 * callback already running.
 */
bool emu_doorbell_poll(struct emu_doorbell *db);

/** emu_doorbell_rings() - rings received and sent so far (for reports). */
void emu_doorbell_rings(const struct emu_doorbell *db, uint32_t *in, uint32_t *out);

#endif /* EMU_DOORBELL_H */
