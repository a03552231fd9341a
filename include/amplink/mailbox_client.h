/*
 * The mailbox framework, client side: Linux's mailbox client API (include/linux/mailbox_client.h) with its
 * semantics, for firmware and for processes of the virtual SoC.
 *
 * Terminology
 *   controller  a mailbox device (one IPI destination node, one Messaging Unit) with channels
 *   channel     one direction of one doorbell or data register set; owned by at most one client
 *   client      the user of a channel: receives with rx_callback, learns that a message went out with tx_done
 *   TX done     the remote consumed the message: known by the controller's interrupt (TXDONE_BY_IRQ), by polling
 *               last_tx_done every txpoll_period ms (TXDONE_BY_POLL), or told by the client (TXDONE_BY_ACK)
 *
 * A blocking request/response exchange on the Xilinx IPI (the seed's client flow):
 *
 *     client thread                      framework                       controller (IPI, poll mode)
 *     mbox_request_channel_byname(cl, "tx")
 *     mbox_send_message(chan, msg) --->  queue (20) -> active_req  ----> send_data: copy request, TRIG
 *                                        tx_block: flush(chan, tout) --> wait until OBS drops (remote acked)
 *                                        tx_tick(0) -> cl->tx_done(cl, msg, 0)
 *     <--- returns 0                                                     response buffer holds the answer
 *     xlnx_ipi_mbox_response_read(chan, buf, n)
 *
 * Contexts (as in Linux): rx_callback, tx_prepare and tx_done are "atomic": they run in the controller's interrupt
 * context (for TX done by polling: the framework's poll context, a timer) or in the sender's context for blocking
 * sends, and must not block. mbox_send_message() may be called from any context unless cl->tx_block is set, in
 * which case it sleeps (thread context only). Request and free sleep (thread context).
 */
#ifndef AMPLINK_MAILBOX_CLIENT_H
#define AMPLINK_MAILBOX_CLIENT_H

#include <amplink/port.h>
#include <amplink/errno.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mbox_chan;

/* Pointers that carry an error, as Linux's: values in the last page of the address space (Linux's names AMPL_ERR_PTR,
 * AMPL_PTR_ERR, AMPL_IS_ERR, AMPL_IS_ERR_OR_NULL: <amplink/compat/linux/err.h>). */
#define AMPL_MAX_ERRNO 4095
static inline void *AMPL_ERR_PTR(long err)
{
	return (void *)err;
}
static inline long AMPL_PTR_ERR(const void *p)
{
	return (long)p;
}
static inline bool AMPL_IS_ERR(const void *p)
{
	return (uintptr_t)p >= (uintptr_t)-AMPL_MAX_ERRNO;
}
static inline bool AMPL_IS_ERR_OR_NULL(const void *p)
{
	return !p || AMPL_IS_ERR(p);
}

/*
 * AMPL_MBOX_REGISTRY (compile-time option): how a client reaches its channel.
 *   1  the default of the hosted build (every process of the virtual SoC): mbox_controller_register() lists the
 *      controller under its devicetree node; clients find channels by name (mbox_request_channel(),
 *      mbox_request_channel_byname(), and mbox_client_get_channel() / ampl_mbox_get_channel() without a given
 *      channel); the TX-done ticker walks the list (mbox_poll_all(), mbox_poll_due()).
 *   0  the default of firmware builds (a port selected, AMPL_FIRMWARE_BUILD): no list and no lookup, as Zephyr's
 *      MBOX_DT_SPEC_GET: a client is given its channel, known at build time (`amplink dt gen` writes the instance's
 *      channels into its configuration, AMPL_BOARD_MBOXES() in <amplink/board.h>), and binds it
 *      (ampl_mbox_bind(), mbox_bind_client()); mbox_controller_register() only sets the channels up. The
 *      framework (queue, TX done) still works on a bound channel; its polled TX done is then ticked by the
 *      firmware, per controller (mbox_controller_poll()). A firmware that looks channels up by name selects 1.
 */
#ifndef AMPL_MBOX_REGISTRY
#define AMPL_MBOX_REGISTRY (!AMPL_FIRMWARE_BUILD)
#endif

#define MBOX_MAX_ARGS 4

/**
 * struct mbox_spec - one entry of a consumer's devicetree `mboxes` property, resolved.
 * @provider: the controller's devicetree node (its path, e.g. "/amba/apu-mailbox/mailbox@ff990400")
 * @args:     the specifier cells (#mbox-cells of the provider)
 * @name:     the matching `mbox-names` entry, or NULL
 */
struct mbox_spec {
	const char *provider;
	uint32_t args[MBOX_MAX_ARGS];
	unsigned nargs;
	const char *name;
};

/** struct mbox_consumer - a client's devicetree node: its name and its `mboxes` / `mbox-names`. */
struct mbox_consumer {
	const char *name;
	const struct mbox_spec *mboxes;
	unsigned num_mboxes;
};

/**
 * struct mbox_client - a user of a channel (Linux's struct mbox_client).
 * @node:         the client's devicetree node (Linux: dev->of_node); NULL if channels are bound by hand
 * @tx_block:     mbox_send_message() sleeps until the message is done (or @tx_tout passes)
 * @tx_tout:      that bound in ms; 0 means one hour, as in Linux
 * @knows_txdone: the client calls mbox_client_txdone() itself (TX done by ACK on a polled controller)
 * @rx_callback:  a message arrived; @mssg is the controller's message (valid during the call). Atomic context.
 * @tx_prepare:   called right before the controller sends @mssg, under the channel lock. Atomic context.
 * @tx_done:      @mssg is done (@r == 0) or failed (@r < 0: -ETIME, -ECANCELED when the channel was freed with
 *                it queued, -ENODEV when the controller went away, -ESHUTDOWN when the remote went offline).
 *                Called exactly once for every message mbox_send_message() accepted. Atomic context.
 * @link_state:   amplink extension: the remote of the channel became unreachable (@online false: the peer or this
 *                processor went offline, the peer's process or emulator died) or reachable again (true), as the
 *                controller reported it with mbox_chan_set_offline(). Called once per change, after the messages
 *                that change failed were reported to tx_done, in the context of that call: the controller's
 *                interrupt context or receive thread, the one its rx_callback runs in, so the two never overlap;
 *                mbox_free_channel() waits for it as for rx_callback. Optional. Atomic context.
 * @rx_off:       amplink extension: taking a receive channel leaves its interrupt disabled; the client enables it
 *                with ampl_mbox_rx_enable() (controllers without rx_enable ignore it).
 */
struct mbox_client {
	const struct mbox_consumer *node;
	bool tx_block;
	unsigned long tx_tout;
	bool knows_txdone;
	void (*rx_callback)(struct mbox_client *cl, void *mssg);
	void (*tx_prepare)(struct mbox_client *cl, void *mssg);
	void (*tx_done)(struct mbox_client *cl, void *mssg, int r);
	void (*link_state)(struct mbox_client *cl, bool online);
	bool rx_off;
};

/**
 * struct mbox_sized_msg - a message with its length (amplink extension): how a controller whose max_msg_size is
 * not a fixed word (raw_msg false) takes and gives messages with data. Linux's struct zynqmp_ipi_message.
 */
struct mbox_sized_msg {
	size_t len;
	uint8_t data[];
};

#if AMPL_MBOX_REGISTRY
/**
 * mbox_request_channel() - take the channel named by entry @index of cl->node->mboxes.
 * Calls the controller's startup. Context: thread.
 * Return: the channel, or an error pointer: -ENODEV (no node), -EINVAL (index out of range or a specifier the
 *         controller rejects), -EPROBE_DEFER (AMPL_EPROBE_DEFER: the controller is not registered yet),
 *         -EBUSY (another client owns the channel), or the startup error.
 */
struct mbox_chan *mbox_request_channel(struct mbox_client *cl, int index);

/** mbox_request_channel_byname() - as mbox_request_channel() for the entry whose mbox-names entry is @name
 * (-EINVAL when there is no such name). */
struct mbox_chan *mbox_request_channel_byname(struct mbox_client *cl, const char *name);
#endif /* AMPL_MBOX_REGISTRY */

/**
 * mbox_bind_client() - give @chan to @cl without devicetree (Linux's mbox_bind_client()).
 * Return: 0; -EINVAL; -EBUSY (owned); or the startup error. Context: thread.
 */
int mbox_bind_client(struct mbox_chan *chan, struct mbox_client *cl);

/**
 * mbox_send_message() - queue @mssg for the remote (NULL rings a doorbell without data where the controller allows).
 * The message must stay valid until tx_done reports it. Every accepted message is sent in turn without anything
 * more from the client: on a controller whose TX done is polled the framework starts the port's TX ticker
 * (ampl_mbox_poll_kick()) whenever a message waits behind the one in flight or someone waits for a message.
 * Return: a token >= 0 (its slot in the channel's queue); -EINVAL (no channel or client); -ENOBUFS (the queue of
 *         MBOX_TX_QUEUE_LEN is full: "Try increasing MBOX_TX_QUEUE_LEN"); -ESHUTDOWN (the remote is offline);
 *         with tx_block: 0 once done, -ETIME when tx_tout passed (tx_done also reports -ETIME), or the error the
 *         controller reported.
 */
int mbox_send_message(struct mbox_chan *chan, void *mssg);

/**
 * mbox_flush() - wait up to @timeout ms for the active message to be done, from any context (busy-waits).
 * Return: 0; -ENOTSUP (the controller has no flush); -ETIME; -EINVAL.
 */
int mbox_flush(struct mbox_chan *chan, unsigned long timeout);

/**
 * mbox_client_txdone() - the client reports the active message done with @r (TX done by ACK only; otherwise
 * ignored, as Linux warns "Client can't run the TX ticker"). Context: any.
 */
void mbox_client_txdone(struct mbox_chan *chan, int r);

/** mbox_client_peek_data() - ask the controller whether data is waiting (false without a peek_data op). */
bool mbox_client_peek_data(struct mbox_chan *chan);

/**
 * mbox_client_tx_busy() - amplink extension: true while a message is queued or in flight on @chan (in poll mode
 * it first polls the controller, so a message the remote already consumed does not count). Context: any.
 */
bool mbox_client_tx_busy(struct mbox_chan *chan);

/**
 * mbox_client_get_channel() - amplink extension: the channel a client of an IPC backend uses: @given bound to @cl,
 * or else the entry named @name among @node's mboxes (mbox_request_channel_byname()). @cl->node is set to @node.
 * Return: the channel, or NULL with *@err set to what binding or requesting answered (never 0 then; without the
 * registry, AMPL_MBOX_REGISTRY 0, -ENODEV when no channel is given); on success *@err is 0. Context: thread.
 */
struct mbox_chan *mbox_client_get_channel(struct mbox_client *cl, const struct mbox_consumer *node,
					  struct mbox_chan *given, const char *name, int *err);

/**
 * mbox_ring_doorbell() - amplink extension: ring the remote on @chan with a NULL message (a doorbell; signalling
 * mode). With nothing of the framework's on the channel and the controller's last_tx_done true (our last ring is
 * done: always so for an IPI destination in signalling mode), the ring is the controller's send_data at once,
 * without the framework's queue and TX-done bookkeeping (traced as mbox.doorbell). Otherwise it goes through the
 * framework: a doorbell still in flight (the remote has not acknowledged it; one rung at once is adopted as the
 * framework's then) may already have been read past, so a new one is queued behind it; one queued and not yet
 * submitted covers any number of rings after it, which *@armed tracks: the client's tx_prepare must clear it (the
 * framework submits the queued doorbell then, from its TX ticker, which mbox_send_message() starts). A controller
 * without last_tx_done, or a client with tx_done or tx_block (it asked for the framework's TX-done semantics), always
 * goes through the framework. Calls on one channel are serialised by the caller.
 * Return: 0 (rung, or covered by the queued one); or the error send_data or mbox_send_message() gave (-ESHUTDOWN:
 * the remote is offline), *@armed left clear. Context: any.
 */
int mbox_ring_doorbell(struct mbox_chan *chan, AMPL_ATOMIC(bool) *armed);

/*
 * The thin doorbell path (amplink extension), Zephyr's MBOX model: send a signal, get a callback. A channel is
 * taken as for any client (mbox_client_get_channel(), mbox_request_channel(), mbox_bind_client(); given, when it
 * is known at build time, see AMPL_MBOX_REGISTRY) and its client's
 * rx_callback and link_state run as they do for the framework's clients, but a ring goes straight to the
 * controller's send_data: no queue, no TX-done state machine, no ticker; none of tx_done, tx_prepare, tx_block
 * applies. A channel rung this way (or sent on with ampl_mbox_send_now()) is released with ampl_mbox_release(),
 * never used with mbox_send_message().
 * The controller's send_data(chan, NULL) must ring, or coalesce with a ring the remote has not started to drain,
 * or answer -EBUSY while a previous ring is still on its way (then the ring waits for last_tx_done and tries
 * again). IPC backends ring their peer this way when built for firmware (AMPL_IPC_LINK_FRAMEWORK 0, see
 * <amplink/ipc/link.h>); the images that use it link only the thin path's bind, ring, RX and release (and, with
 * AMPL_MBOX_REGISTRY 1, the registry's lookup by name).
 */

/**
 * ampl_mbox_bind() - mbox_bind_client() for a thin-path client: @cl takes @chan and the controller's startup runs,
 * but nothing else is set up (no queue to reset, no TX-done method to choose), so that a firmware that only rings
 * links none of it. @chan may be a channel known at build time (AMPL_MBOX_REGISTRY 0): its controller must have
 * been set up (mbox_controller_register()) first.
 * Return: 0; -EINVAL (NULL argument, or a channel whose controller was not set up); -EBUSY (the channel has a
 * client, of either path); what startup answered (the channel free again). Context: thread.
 */
int ampl_mbox_bind(struct mbox_chan *chan, struct mbox_client *cl);

/**
 * ampl_mbox_get_channel() - mbox_client_get_channel() for a thin-path client: @given, or else the entry named
 * @name among @node's mboxes, bound with ampl_mbox_bind(). @cl->node is set to @node.
 * Return: the channel, or NULL with *@err set (-ENODEV: no @given and no @node, or no @given without the registry;
 * -EINVAL: no entry @name; -EPROBE_DEFER: its controller is not registered; or what ampl_mbox_bind() answered);
 * *@err 0 on success.
 * Context: thread.
 */
struct mbox_chan *ampl_mbox_get_channel(struct mbox_client *cl, const struct mbox_consumer *node,
					struct mbox_chan *given, const char *name, int *err);

/** Bound of ampl_mbox_ring()'s wait for a ring still on its way (ampl_cpu_relax() iterations). */
#ifndef AMPL_MBOX_RING_SPINS
#define AMPL_MBOX_RING_SPINS 100000u
#endif

/**
 * ampl_mbox_ring() - ring the remote on @chan: ops->send_data(chan, NULL) under the channel lock. On -EBUSY
 * it waits (busy, at most AMPL_MBOX_RING_SPINS relaxations) until the controller's last_tx_done says the previous
 * ring left, and tries again.
 * Return: 0 (rung or coalesced); -EINVAL (no channel or no client); the error sends get while the remote is
 *         offline (-ESHUTDOWN, see mbox_chan_set_offline()); -EBUSY (still refused after the bound; with no
 *         last_tx_done at once); or what send_data answered. Context: any (never sleeps).
 */
int ampl_mbox_ring(struct mbox_chan *chan);

/**
 * ampl_mbox_send_now() - the thin path with a message: ops->send_data(chan, @mssg) under the channel lock, once
 * (a request driver such as the IPI's IPM adapter, which sends only on an idle channel and needs no queue). The
 * caller waits for it with ampl_mbox_wait_sent() if it must.
 * Return: 0 (on the wire); -EINVAL (no channel or no client); the error sends get while the remote is offline
 *         (-ESHUTDOWN); or what send_data answered (-EBUSY: the previous message is still on its way). Context: any.
 */
int ampl_mbox_send_now(struct mbox_chan *chan, void *mssg);

/**
 * ampl_mbox_wait_sent() - wait up to @timeout ms on the controller (its flush op, busy) for the message
 * ampl_mbox_send_now() put on @chan to be done.
 * Return: the controller's last_tx_result for it (0 without that op; -ESHUTDOWN: the remote discarded it); the
 *         error flush answered (-ETIME: not done in time); -ENOTSUP (the controller has no flush); -EINVAL (no
 *         channel or no client). Context: any (never sleeps).
 */
int ampl_mbox_wait_sent(struct mbox_chan *chan, unsigned long timeout);

/**
 * ampl_mbox_release() - release a channel rung with ampl_mbox_ring(): waits for a running rx_callback or
 * link_state to return, then the controller's shutdown runs; the channel can be taken again. NULL or an error
 * pointer: nothing. Not from the channel's own callbacks. Context: thread.
 */
void ampl_mbox_release(struct mbox_chan *chan);

/**
 * mbox_client_offline() - amplink extension: 0 while @chan's remote is reachable, or the error a send would get now
 * because it is offline (-ESHUTDOWN; see mbox_chan_set_offline()). Lock-free. Context: any.
 */
int mbox_client_offline(struct mbox_chan *chan);

/**
 * mbox_free_channel() - release @chan: the controller's shutdown runs, and every message still queued or in
 * flight is reported to tx_done with -ECANCELED (Linux drops them silently). Waits for a running rx_callback to
 * return; must not be called from the channel's own callbacks. Context: thread.
 */
void mbox_free_channel(struct mbox_chan *chan);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_MAILBOX_CLIENT_H */
