/*
 * A trivial mailbox controller for the size images, defined in the program itself: one doorbell, as simple as
 * a doorbell gets. It stands in for a vendor driver (xlnx_ipi.c, nxp_mu.c), whose own size scripts/cross.sh
 * reports separately, so the table shows what the IPC service and the mailbox framework cost.
 *
 *   channel 0 ("tx")  rings the peer: one write to TRIG
 *   channel 1 ("rx")  the doorbell interrupt clears ISR and delivers a NULL message (a doorbell carries no data)
 *   TX done           polled: the peer has seen the ring once its bit has left OBS
 *
 * The registers are the ZynqMP RPU0 IPI agent's (TRIG, OBS, ISR) and the peer is the APU; any block with a
 * trigger and a write-1-to-clear status works the same way. Include this header from one file of a program.
 *
 * Clients reach the channels as the build's mailbox binding has it (AMPL_MBOX_REGISTRY, <amplink/mailbox_client.h>):
 * by name through doorbell_consumer (the registry), or given (DOORBELL_TX, DOORBELL_RX). A program configured from
 * generated code stands the doorbell in for the IPI destination its instance names: DOORBELL_NODE is that
 * destination's path (for the lookup by name) and DOORBELL_CHANS its channels (the ones generated code gives).
 *
 * Without the mailbox (AMPL_IPC_LINK_MBOX 0, <amplink/ipc/link.h>) there is no controller: doorbell_fn is the same
 * TRIG write as a doorbell function for the instance's configuration, and the interrupt calls the program's
 * size_doorbell_rx() (the backend's poll) instead of delivering to a channel. size_doorbell_start() registers the
 * controller, or does nothing.
 */
#ifndef AMPLINK_SIZE_DOORBELL_H
#define AMPLINK_SIZE_DOORBELL_H

#include <amplink/ipc/link.h>
#include <amplink/mailbox_controller.h>

#include "size_image.h"

#define DOORBELL_BASE 0xFF310000u
#define DOORBELL_TRIG 0x00u
#define DOORBELL_OBS 0x04u
#define DOORBELL_ISR 0x10u
#define DOORBELL_PEER 0x1u /* the APU's bit */
/* The controller's node: a program configured from generated devicetree code names its IPI destination's path. */
#ifndef DOORBELL_NODE
#define DOORBELL_NODE "/doorbell"
#endif

static inline volatile uint32_t *doorbell_reg(uint32_t off)
{
	return (volatile uint32_t *)(uintptr_t)(DOORBELL_BASE + off);
}

#if AMPL_IPC_LINK_MBOX
static int doorbell_send_data(struct mbox_chan *chan, void *data)
{
	(void)chan;
	(void)data;
	*doorbell_reg(DOORBELL_TRIG) = DOORBELL_PEER;
	return 0;
}

static bool doorbell_last_tx_done(struct mbox_chan *chan)
{
	(void)chan;
	return !(*doorbell_reg(DOORBELL_OBS) & DOORBELL_PEER);
}

static const struct mbox_chan_ops doorbell_ops = {
	.send_data = doorbell_send_data,
	.last_tx_done = doorbell_last_tx_done,
};

#ifndef DOORBELL_CHANS
static struct mbox_chan doorbell_chans[2];
#define DOORBELL_CHANS doorbell_chans
#endif
#define DOORBELL_TX (&DOORBELL_CHANS[0])
#define DOORBELL_RX (&DOORBELL_CHANS[1])

static struct mbox_controller doorbell = {
	.node = DOORBELL_NODE,
	.ops = &doorbell_ops,
	.chans = DOORBELL_CHANS,
	.num_chans = 2,
	.txdone_poll = true,
	.txpoll_period = 1,
};

static inline int size_doorbell_start(void)
{
	return mbox_controller_register(&doorbell);
}

void size_doorbell_irq(void)
{
	uint32_t isr = *doorbell_reg(DOORBELL_ISR);

	/* Clear before delivering: a ring that arrives while the client drains raises the interrupt again. */
	*doorbell_reg(DOORBELL_ISR) = isr;
	if (isr & DOORBELL_PEER)
		mbox_chan_received_data(DOORBELL_RX, NULL);
}
#else
static void doorbell_ring(const void *ctx)
{
	(void)ctx;
	*doorbell_reg(DOORBELL_TRIG) = DOORBELL_PEER;
}

static const struct ampl_ipc_doorbell doorbell_fn = { .ring = doorbell_ring };
#define DOORBELL_TX NULL
#define DOORBELL_RX NULL

static inline int size_doorbell_start(void)
{
	return 0;
}

/* The program's: the backend's poll. */
void size_doorbell_rx(void);

void size_doorbell_irq(void)
{
	uint32_t isr = *doorbell_reg(DOORBELL_ISR);

	*doorbell_reg(DOORBELL_ISR) = isr; /* clear, then drain: a ring after this interrupts again */
	if (isr & DOORBELL_PEER)
		size_doorbell_rx();
}
#endif

#if AMPL_MBOX_REGISTRY
/* The instance's devicetree node as a firmware would generate it: mboxes = <&doorbell 0>, <&doorbell 1>. */
static const struct mbox_spec doorbell_specs[2] = {
	{ .provider = DOORBELL_NODE, .args = { 0 }, .nargs = 1, .name = "tx" },
	{ .provider = DOORBELL_NODE, .args = { 1 }, .nargs = 1, .name = "rx" },
};

static const struct mbox_consumer doorbell_consumer = {
	.name = "ipc0",
	.mboxes = doorbell_specs,
	.num_mboxes = 2,
};
#endif

#endif /* AMPLINK_SIZE_DOORBELL_H */
