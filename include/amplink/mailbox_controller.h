/*
 * The mailbox framework, controller side: Linux's mailbox controller API (include/linux/mailbox_controller.h).
 * For driver authors. The framework owns the per-channel TX queue and the TX-done state machine; a driver only
 * tries to send one message (send_data) and reports "done" (mbox_chan_txdone, or last_tx_done when polled) and
 * "received" (mbox_chan_received_data).
 *
 * Capabilities are data, checked once at registration: ops->send_data is required; txdone_poll requires
 * ops->last_tx_done; a controller declares txdone_irq, txdone_poll, or neither (then clients acknowledge).
 */
#ifndef AMPLINK_MAILBOX_CONTROLLER_H
#define AMPLINK_MAILBOX_CONTROLLER_H

#include <amplink/mailbox_client.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MBOX_TX_QUEUE_LEN 20

#define TXDONE_BY_IRQ (1u << 0)  /* the controller interrupts when the remote consumed the message */
#define TXDONE_BY_POLL (1u << 1) /* the framework polls last_tx_done every txpoll_period ms */
#define TXDONE_BY_ACK (1u << 2)  /* the client calls mbox_client_txdone() */

struct mbox_controller;

/**
 * struct mbox_chan_ops - what a controller does for one channel.
 * @send_data:    put @data on the wire (NULL: ring without data). Atomic, must not sleep. 0, or -EBUSY to be
 *                retried at the next TX tick (poll mode), or another error (reported to tx_done).
 * @flush:        wait up to @timeout ms until the active message is done; 0 or -ETIME. Busy-waits or, in the
 *                virtual SoC, sleeps per the agent's wait mode. Used by mbox_flush() and by blocking sends on a
 *                polled controller. Optional.
 * @startup:      the channel got a client; may sleep. Optional.
 * @shutdown:     the channel lost its client; may sleep. Optional.
 * @last_tx_done: true when the remote consumed the last message. Atomic. Required with txdone_poll.
 * @last_tx_result: amplink extension, optional: once last_tx_done or flush said done, the result to report
 *                (0, or -ESHUTDOWN when the remote went offline instead of consuming it).
 * @peek_data:    true when received data is waiting. Atomic. Optional.
 *
 * Receive-side operations (amplink extension, all optional; clients reach them through ampl_mbox_hold(),
 * ampl_mbox_ack(), ampl_mbox_redeliver(), ampl_mbox_rx_enable() and ampl_mbox_rx_data()). A controller whose
 * hardware keeps a message pending until the receiver acknowledges it (the IPI) implements them; the generic IPM
 * driver (include/amplink/ipm_mbox.h) uses them for asynchronous mode and to keep a message that nobody wants yet.
 * @hold:         called from rx_callback: do not acknowledge the message being delivered when the callback returns;
 *                it stays pending at the hardware, its interrupt masked, until @ack or @redeliver. Atomic.
 * @ack:          acknowledge the held message (the sender sees it consumed). Any context.
 * @redeliver:    release the held message unacknowledged: it is delivered again once RX is enabled. Any context.
 * @rx_enable:    enable or disable the channel's receive interrupt; a message pending while it was disabled is
 *                delivered once it is enabled. Any context.
 * @rx_data:      the message being delivered, in device memory (valid until acknowledged), for clients that hand
 *                it out without a copy; NULL when there is none. Called from rx_callback.
 */
struct mbox_chan_ops {
	int (*send_data)(struct mbox_chan *chan, void *data);
	int (*flush)(struct mbox_chan *chan, unsigned long timeout);
	int (*startup)(struct mbox_chan *chan);
	void (*shutdown)(struct mbox_chan *chan);
	bool (*last_tx_done)(struct mbox_chan *chan);
	int (*last_tx_result)(struct mbox_chan *chan);
	bool (*peek_data)(struct mbox_chan *chan);
	void (*hold)(struct mbox_chan *chan);
	void (*ack)(struct mbox_chan *chan);
	void (*redeliver)(struct mbox_chan *chan);
	void (*rx_enable)(struct mbox_chan *chan, bool on);
	volatile void *(*rx_data)(struct mbox_chan *chan);
};

/**
 * struct mbox_chan - one channel. Controllers allocate the array; the framework owns every field but con_priv.
 * @mbox:     the controller (read-only)
 * @cl:       the owning client or NULL (read-only)
 * @con_priv: the controller's private data
 */
struct mbox_chan {
	struct mbox_controller *mbox;
	struct mbox_client *cl;
	void *con_priv;
	/* private to the framework */
	AMPL_ATOMIC(unsigned) txdone_method; /* written under lock, read anywhere */
	ampl_atomic_flag_t lock;
	bool active;             /* active_req is in flight (a NULL message is a valid request) */
	void *active_req;
	unsigned msg_count, msg_free;
	void *msg_data[MBOX_TX_QUEUE_LEN];
	AMPL_ATOMIC(int) offline;     /* 0, or the error that sends get while the remote is offline (written under lock) */
	uint32_t done_seq;       /* messages taken off the channel (under lock): numbering of accepted messages */
	uint32_t rung_seq;       /* doorbells mbox_ring_doorbell() gave the controller at once, untracked (under lock) */
	uint32_t reported_seq;   /* messages whose tx_done has returned: a blocking sender waits for its number */
	uint32_t active_seq;     /* number of the message in flight */
	unsigned active_slot;    /* its queue slot (the token mbox_send_message returned) */
	int slot_result[MBOX_TX_QUEUE_LEN]; /* result of the last message of each slot */
	AMPL_ATOMIC(uint32_t) done_seq_pub; /* bumped with done_seq: blocking senders sleep on it */
	AMPL_ATOMIC(unsigned) sleepers;    /* blocking senders asleep on done_seq_pub (a wake-up is made only for them) */
	AMPL_ATOMIC(unsigned) rx_busy;     /* rx_callback calls in progress (free waits for them) */
};

/**
 * struct mbox_controller - a mailbox device (Linux's struct mbox_controller).
 * @node:          its devicetree node path, matched against consumers' mbox_spec.provider
 * @ops:           channel operations
 * @chans:         @num_chans channels
 * @txdone_irq:    the controller reports TX done from its interrupt with mbox_chan_txdone()
 * @txdone_poll:   the framework polls ops->last_tx_done every @txpoll_period ms
 * @txpoll_period: ms between two polls of this controller while a polled channel is active (0: 1 ms)
 * @of_xlate:      map a specifier to a channel; NULL: args[0] is the channel index
 * @max_msg_size:  amplink extension: bytes one message carries (0: doorbell only)
 * @raw_msg:       amplink extension: a message is @max_msg_size bytes at the pointer (the MU's word); false: a
 *                 struct mbox_sized_msg (Linux's zynqmp_ipi_message). Read by generic clients (IPM).
 */
struct mbox_controller {
	const char *node;
	const struct mbox_chan_ops *ops;
	struct mbox_chan *chans;
	int num_chans;
	bool txdone_irq;
	bool txdone_poll;
	unsigned txpoll_period;
	struct mbox_chan *(*of_xlate)(struct mbox_controller *mbox, const struct mbox_spec *sp);
	size_t max_msg_size;
	bool raw_msg;
	/* private to the framework */
	struct mbox_controller *next;
	bool registered;
	AMPL_ATOMIC(unsigned) poll_armed; /* a polled channel has a message: tick until idle */
	uint64_t poll_next_us;           /* its next tick, 0: none (under the controller list's lock) */
	uint32_t poll_pass;              /* mbox_poll_all()'s last pass that polled it (same lock) */
};

/**
 * mbox_controller_register() - make the controller's channels available to clients; a polled one
 * (txdone_poll) is handed to the port's ticker (ampl_mbox_poll_attach). Without the registry
 * (AMPL_MBOX_REGISTRY 0) it only sets the channels up: clients are given them (no lookup, no ticker: the
 * firmware calls mbox_controller_poll() for a polled controller's TX done).
 * Return: 0; -EINVAL (no ops, no send_data, no channels, or txdone_poll without last_tx_done); -EEXIST (a
 * controller for that node is registered; with the registry only). Context: thread.
 */
int mbox_controller_register(struct mbox_controller *mbox);

/**
 * mbox_controller_unregister() - free every channel (clients' queued and in-flight messages are reported to
 * tx_done with -ENODEV) and forget the controller; waits until the ticker is not polling it, then takes a polled
 * one from the port's ticker (ampl_mbox_poll_detach). Context: thread, not a callback of this controller.
 */
void mbox_controller_unregister(struct mbox_controller *mbox);

/** mbox_chan_received_data() - a message arrived: runs the client's rx_callback (interrupt context). */
void mbox_chan_received_data(struct mbox_chan *chan, void *mssg);

/**
 * ampl_mbox_chan_deliver() - as mbox_chan_received_data(), and says whether a client took the message: false when
 * the channel has no client, so the controller can leave the message pending instead of acknowledging it.
 */
bool ampl_mbox_chan_deliver(struct mbox_chan *chan, void *mssg);

/** mbox_chan_txdone() - the active message is done with @r (TXDONE_BY_IRQ only). Interrupt context. */
void mbox_chan_txdone(struct mbox_chan *chan, int r);

/**
 * mbox_controller_poll() - the TX-done ticker of polled controllers: checks last_tx_done of every active channel
 * and completes the done ones. A port calls it every txpoll_period ms while it returns true (the POSIX port runs
 * a poll thread; firmware calls it from a periodic timer). Return: true while some channel is still active.
 */
bool mbox_controller_poll(struct mbox_controller *mbox);

#if AMPL_MBOX_REGISTRY
/**
 * mbox_poll_all() - mbox_controller_poll() on every registered polled controller now, whatever its period; true
 * while any is active. For a port whose timer ticks at one rate (firmware). Context: thread or timer.
 */
bool mbox_poll_all(void);

/**
 * mbox_poll_due() - the TX-done ticker with each controller's own txpoll_period: at @now_us (ampl_os_uptime_us),
 * polls every polled controller whose tick is due (at once when a message on a polled channel armed it, then every
 * period while it stays active). Return: microseconds until the next tick is due, or UINT32_MAX when
 * no polled channel is active (then wait for ampl_mbox_poll_kick). Called by one ticker at a time. Context: thread.
 */
uint32_t mbox_poll_due(uint64_t now_us);
#endif /* AMPL_MBOX_REGISTRY */

/**
 * mbox_chan_set_offline() - amplink extension for hotplug: @err != 0 marks the remote of @chan offline: every
 * queued message is reported to tx_done with @err and new sends fail at once with @err; the message in flight is
 * decided by the controller if it has last_tx_result (done if the remote consumed it before going away, @err's
 * code from the controller if not), else it fails with @err too. 0 marks the channel online again. When the state
 * changes (online to offline or back) the channel's client is told through its link_state callback, in this
 * context, after the failed messages were reported: a controller calls it from the context its rx_callback runs
 * in (an IPC backend learns it on its rx channel). Context: any.
 */
void mbox_chan_set_offline(struct mbox_chan *chan, int err);

/**
 * ampl_mbox_poll_kick() - port hook: a polled controller has an active message (the framework armed it); make
 * sure the ticker runs: mbox_poll_due() until it returns UINT32_MAX, or mbox_poll_all() every txpoll_period ms
 * until it returns false. The POSIX port wakes its poll thread; the bare-metal default does nothing (the
 * application's timer calls mbox_controller_poll() or mbox_poll_all()). Called by the mailbox framework only: clients,
 * IPC backends and controller drivers never call it (mbox_send_message() starts the ticker when it is needed).
 */
void ampl_mbox_poll_kick(struct mbox_controller *mbox);

/**
 * ampl_mbox_poll_attach() - port hook: polled controller @mbox was registered. The POSIX port starts its poll
 * thread at the first one; the bare-metal default does nothing. Called by mbox_controller_register(). Context:
 * thread.
 */
void ampl_mbox_poll_attach(struct mbox_controller *mbox);

/**
 * ampl_mbox_poll_detach() - port hook: polled controller @mbox was unregistered and is no longer polled. The POSIX
 * port stops and joins its poll thread after the last one; the bare-metal default does nothing. Called by
 * mbox_controller_unregister(). Context: thread.
 */
void ampl_mbox_poll_detach(struct mbox_controller *mbox);

/*
 * Receive-side control (amplink extension) for controllers whose hardware keeps a message pending until it is
 * acknowledged: each calls the controller's operation of the same name (struct mbox_chan_ops) on a receive channel
 * that has a client. The int-returning ones answer -ENOTSUP when the controller lacks the operation; the others
 * then do nothing. For clients (here for the struct definitions they need); inline, so a firmware links only the
 * operations it calls.
 */
#define AMPL_MBOX_OP(chan, op) ((chan)->mbox->ops->op)

/** ampl_mbox_hold() - from rx_callback: keep the message being delivered pending (not acknowledged on return). */
static inline int ampl_mbox_hold(struct mbox_chan *chan)
{
	if (!AMPL_MBOX_OP(chan, hold))
		return -ENOTSUP;
	AMPL_MBOX_OP(chan, hold)(chan);
	return 0;
}

/** ampl_mbox_ack() - acknowledge the message held on @chan (its sender sees it consumed). Context: any. */
static inline void ampl_mbox_ack(struct mbox_chan *chan)
{
	if (AMPL_MBOX_OP(chan, ack))
		AMPL_MBOX_OP(chan, ack)(chan);
}

/** ampl_mbox_redeliver() - release the message held on @chan unacknowledged: it is delivered again. Context: any. */
static inline void ampl_mbox_redeliver(struct mbox_chan *chan)
{
	if (AMPL_MBOX_OP(chan, redeliver))
		AMPL_MBOX_OP(chan, redeliver)(chan);
}

/** ampl_mbox_rx_enable() - enable (@on) or disable @chan's receive interrupt. Context: any. */
static inline int ampl_mbox_rx_enable(struct mbox_chan *chan, bool on)
{
	if (!AMPL_MBOX_OP(chan, rx_enable))
		return -ENOTSUP;
	AMPL_MBOX_OP(chan, rx_enable)(chan, on);
	return 0;
}

/**
 * ampl_mbox_last_tx_done() - the controller's last_tx_done for @chan: false while the remote has not consumed the
 * last message put on the channel, whoever put it there (another process, an earlier owner); true without that
 * operation. Context: any.
 */
static inline bool ampl_mbox_last_tx_done(struct mbox_chan *chan)
{
	return !AMPL_MBOX_OP(chan, last_tx_done) || AMPL_MBOX_OP(chan, last_tx_done)(chan);
}

/**
 * ampl_mbox_rx_data() - from rx_callback: the bytes of the message @mssg being delivered on @chan: in device memory
 * (valid until it is acknowledged) when the controller has rx_data, else in @mssg (a raw_msg controller's word, or
 * a struct mbox_sized_msg's data); NULL for a NULL @mssg.
 */
static inline volatile void *ampl_mbox_rx_data(struct mbox_chan *chan, void *mssg)
{
	if (AMPL_MBOX_OP(chan, rx_data))
		return AMPL_MBOX_OP(chan, rx_data)(chan);
	if (!mssg || chan->mbox->raw_msg)
		return mssg;
	return ((struct mbox_sized_msg *)mssg)->data;
}

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_MAILBOX_CONTROLLER_H */
