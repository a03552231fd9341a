/*
 * The doorbell link of an IPC backend: the pair of mailbox channels ICMsg, the multi-endpoint backend and the
 * RPMsg backend signal on (signalling mode: every message is NULL, a doorbell), in one place: requesting or binding
 * the channels, ringing, the peer's link state, and the close sequence.
 *
 *   open   the tx channel ("tx" of the node's mboxes, or the one given), then the rx channel ("rx"); a backend
 *          rings once it has published what the peer should see
 *   ring   mbox_ring_doorbell(): a doorbell still in flight may already have been read past, so one is queued
 *          behind it; one queued and not submitted yet covers every ring after it (`armed`, cleared by the tx
 *          client's tx_prepare when the framework submits it)
 *   state  the rx channel's link_state (<amplink/mailbox_client.h>): the controller saw the peer go offline or
 *          come back. A doorbell queued then was dropped, not submitted: `armed` is cleared first.
 *   stop   the rx channel is freed (no callback runs after it); the backend may still ring (its close message)
 *   close  waits up to a bound for the last doorbell to be taken (a queued one would be cancelled), then frees
 *          the tx channel
 *
 * Callbacks: @doorbell and @state run in the rx channel's RX context (atomic), one at a time. Calls of
 * ampl_ipc_link_ring() from different contexts are serialised by the link's lock.
 */
#ifndef AMPLINK_IPC_LINK_H
#define AMPLINK_IPC_LINK_H

#include <amplink/mailbox_client.h>

struct ampl_ipc_link {
	struct mbox_client cl_tx, cl_rx;
	struct mbox_chan *tx, *rx;
	atomic_flag lock;  /* tx: a ring against close */
	atomic_bool armed; /* a doorbell is queued behind the one in flight and not submitted yet */
	void (*doorbell)(struct ampl_ipc_link *l);
	void (*state)(struct ampl_ipc_link *l, bool online);
};

/**
 * ampl_ipc_link_open() - take the tx then the rx channel: @tx and @rx bound to the link, or else the entries named
 * "tx" and "rx" of @node's mboxes. @doorbell runs for every doorbell, @state (may be NULL) when the peer goes
 * offline or comes back. The link must be zeroed or closed.
 * Return: 0; or what binding or requesting a channel answered (-EINVAL, -EBUSY, -EPROBE_DEFER, ...), nothing held
 *         then. Context: thread.
 */
int ampl_ipc_link_open(struct ampl_ipc_link *l, const struct mbox_consumer *node, struct mbox_chan *tx,
		       struct mbox_chan *rx, void (*doorbell)(struct ampl_ipc_link *l),
		       void (*state)(struct ampl_ipc_link *l, bool online));

/**
 * ampl_ipc_link_ring() - ring the peer (nothing once closed).
 * Return: 0 (rung, covered by a queued doorbell, or no tx channel); or the error the mailbox refused it with
 *         (-ESHUTDOWN: the peer is offline). Context: any.
 */
int ampl_ipc_link_ring(struct ampl_ipc_link *l);

/** ampl_ipc_link_stop() - free the rx channel; waits for a running callback. Not from a callback. Context: thread. */
void ampl_ipc_link_stop(struct ampl_ipc_link *l);

/**
 * ampl_ipc_link_close() - stop (if not yet), wait up to @drain_us for the last doorbell to reach the peer (0: do not
 * wait), then free the tx channel. Context: thread.
 */
void ampl_ipc_link_close(struct ampl_ipc_link *l, uint32_t drain_us);

#endif /* AMPLINK_IPC_LINK_H */
