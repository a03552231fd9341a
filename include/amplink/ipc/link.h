/*
 * The doorbell link of an IPC backend: the pair of mailbox channels ICMsg, the multi-endpoint backend and the
 * RPMsg backend signal on (signalling mode: every message is NULL, a doorbell), in one place: requesting or binding
 * the channels, ringing, the peer's link state, and the close sequence.
 *
 *   open   the tx channel ("tx" of the node's mboxes, or the one given), then the rx channel ("rx"); a backend
 *          rings once it has published what the peer should see
 *   ring   framework path: mbox_ring_doorbell(): the controller's send_data at once while the channel is idle
 *          (the common case); else a doorbell still in flight may already have been read past, so one is queued
 *          behind it; one queued and not submitted yet covers every ring after it (`armed`, cleared by the tx
 *          client's tx_prepare when the framework submits it). Thin path: ampl_mbox_ring().
 *   state  the rx channel's link_state (<amplink/mailbox_client.h>): the controller saw the peer go offline or
 *          come back. A doorbell queued then was dropped, not submitted: `armed` is cleared first.
 *   stop   the rx channel is freed (no callback runs after it); the backend may still ring (its close message)
 *   close  after stop: waits up to a bound for the last doorbell to be taken (a queued one would be cancelled),
 *          then frees the tx channel
 *
 * Callbacks: the backend's doorbell and state handlers run in the rx channel's RX context (atomic), one at a time.
 * The backend's own spinlock serialises ampl_ipc_link_ring() with open and close, which publish and withdraw the
 * tx channel under it.
 *
 * Two paths to the controller, chosen at compile time by AMPL_IPC_LINK_FRAMEWORK:
 *   1  the mailbox framework (queue, TX-done state machine, the `armed` doorbell above): the default of the hosted
 *      (POSIX) build, where every process of the virtual SoC uses it
 *   0  the thin doorbell path (ampl_mbox_ring(), <amplink/mailbox_client.h>): a ring is the controller's
 *      send_data, nothing is queued, close has nothing to wait for; the default of firmware builds (a port
 *      selected: AMPL_PORT_CORTEX_M, AMPL_PORT_RISCV, AMPL_PORT_HEADER), where it saves the framework's code
 * Both take and release the channels with the same ownership (a channel has one client, of either path) and
 * deliver through the same rx_callback and link_state, on the same controller ops; the wire (shared memory) is the
 * same. Where the channels come from is AMPL_MBOX_REGISTRY's (<amplink/mailbox_client.h>): given (@tx, @rx of open;
 * the firmware default, no lookup), or else looked up by name in @node's mboxes (with the registry).
 *
 * A third way needs no mailbox at all: a doorbell function (struct ampl_ipc_doorbell, the backend configuration's
 * @doorbell). Open takes no channel, a ring is the function's call, and the receive side is the firmware's own: its
 * doorbell interrupt calls the backend's poll (icmsg_poll(), ipc_multi_poll(), ipc_rpmsg_poll()). The peer's link
 * state is not reported (no controller to see it). With AMPL_IPC_LINK_MBOX 0 it is the only way: the link has no
 * channel, and an image links nothing of the mailbox framework; with 1 (the default) a configuration with a
 * doorbell uses it and one without uses the channels, in the hosted build; a firmware image with the mailbox
 * carries the channels only (AMPL_IPC_LINK_FN 0: a configuration's doorbell is not looked at). xlnx_ipi_direct_ring() (<amplink/drivers/xlnx_ipi_direct.h>)
 * is such a function on an IPI destination's registers, and `amplink dt gen` writes it into each instance's
 * configuration when AMPL_IPC_LINK_MBOX is 0.
 *
 * The functions are inline: each firmware image links one backend, which gets them at the cost of the copy it used
 * to carry (the size report, `make cross`, does not grow).
 */
#ifndef AMPLINK_IPC_LINK_H
#define AMPLINK_IPC_LINK_H

#include <amplink/mailbox_client.h>
#include <amplink/mailbox_controller.h>

#ifndef AMPL_IPC_LINK_MBOX
#define AMPL_IPC_LINK_MBOX 1
#endif
#ifndef AMPL_IPC_LINK_FRAMEWORK
#define AMPL_IPC_LINK_FRAMEWORK (AMPL_IPC_LINK_MBOX && !AMPL_FIRMWARE_BUILD)
#endif
#if AMPL_IPC_LINK_FRAMEWORK && !AMPL_IPC_LINK_MBOX
#error "AMPL_IPC_LINK_FRAMEWORK needs the mailbox (AMPL_IPC_LINK_MBOX 1)"
#endif
/* A link may ring a doorbell function: always without the mailbox; beside it in the hosted build only (a firmware
 * image with the mailbox does not carry the choice). */
#define AMPL_IPC_LINK_FN (!AMPL_IPC_LINK_MBOX || !AMPL_FIRMWARE_BUILD)

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct ampl_ipc_doorbell - a doorbell without the mailbox framework: @ring(@ctx) tells the peer to look at the
 * rings (a register write; any context, interrupts masked included; it must not block).
 */
struct ampl_ipc_doorbell {
	void (*ring)(const void *ctx);
	const void *ctx;
};

struct ampl_ipc_link {
#if AMPL_IPC_LINK_MBOX
	struct mbox_client cl_tx, cl_rx;
	struct mbox_chan *tx, *rx;
#endif
#if AMPL_IPC_LINK_FN
	const struct ampl_ipc_doorbell *db; /* the doorbell function, when the link rings one (published under the lock) */
#endif
#if AMPL_IPC_LINK_FRAMEWORK
	AMPL_ATOMIC(bool) armed; /* a doorbell is queued behind the one in flight and not submitted yet */
#endif
};

/* The helpers below are the backends' (C only): C++ sees the struct, whose atomics are opaque there. */
#ifndef __cplusplus

/* A backend's rx callbacks for ampl_ipc_link_open(): none without the mailbox (the backend defines them only with
 * it). */
#if AMPL_IPC_LINK_MBOX
#define AMPL_IPC_LINK_CB(fn) (fn)
#else
#define AMPL_IPC_LINK_CB(fn) NULL
#endif

#if AMPL_IPC_LINK_MBOX
/* Release a channel of the link the way it was rung. */
static inline void ampl_ipc_link_free(struct mbox_chan *chan)
{
#if AMPL_IPC_LINK_FRAMEWORK
	mbox_free_channel(chan);
#else
	ampl_mbox_release(chan);
#endif
}

#if AMPL_IPC_LINK_FRAMEWORK
static inline void ampl_ipc_link_on_tx_prepare(struct mbox_client *cl, void *mssg)
{
	(void)mssg;
	atomic_store(&AMPL_CONTAINER_OF(cl, struct ampl_ipc_link, cl_tx)->armed, false);
}
#endif

/**
 * ampl_ipc_link_state() - what the link does when the peer goes offline or comes back: a doorbell queued then was
 * dropped, not submitted. The backend's link_state handler calls it first; returns the backend's link.
 */
static inline struct ampl_ipc_link *ampl_ipc_link_state(struct mbox_client *cl)
{
	struct ampl_ipc_link *l = AMPL_CONTAINER_OF(cl, struct ampl_ipc_link, cl_rx);
#if AMPL_IPC_LINK_FRAMEWORK
	atomic_store(&l->armed, false);
#endif
	return l;
}
#endif /* AMPL_IPC_LINK_MBOX */

/**
 * ampl_ipc_link_close() - after ampl_ipc_link_stop(): wait up to @drain_us for the last doorbell to reach the peer
 * (0: do not wait; a queued one would be cancelled), withdraw the tx channel (or the doorbell function) under
 * @lock (the backend's lock its rings run under) and free it. Context: thread.
 */
static inline void ampl_ipc_link_close(struct ampl_ipc_link *l, atomic_flag *lock, uint32_t drain_us)
{
#if AMPL_IPC_LINK_FRAMEWORK
	if (drain_us && !l->db) { /* the framework's build is hosted: it has db */
		/* A ring given to the controller at once is not the framework's: its last_tx_done says when it is taken. */
		uint64_t end = ampl_os_uptime_us() + drain_us;
		while ((atomic_load(&l->armed) || mbox_client_tx_busy(l->tx) ||
			(l->tx && !ampl_mbox_last_tx_done(l->tx))) &&
		       ampl_os_uptime_us() < end)
			ampl_cpu_relax();
	}
#else
	(void)drain_us; /* the thin path and a doorbell function queue nothing: the last ring was made already */
#endif
	unsigned key = ampl_spin_lock(lock);
#if AMPL_IPC_LINK_MBOX
	struct mbox_chan *tx = l->tx;
	l->tx = NULL;
#endif
#if AMPL_IPC_LINK_FN
	l->db = NULL;
#endif
	ampl_spin_unlock(lock, key);
#if AMPL_IPC_LINK_MBOX
	if (tx)
		ampl_ipc_link_free(tx);
#endif
}

/** ampl_ipc_link_stop() - free the rx channel: no callback runs after it returns. Not from a callback. With a
 * doorbell function there is none: the firmware's interrupt must stop calling the backend's poll itself.
 * Context: thread. */
static inline void ampl_ipc_link_stop(struct ampl_ipc_link *l)
{
#if AMPL_IPC_LINK_MBOX
	ampl_ipc_link_free(l->rx); /* NULL: nothing */
	l->rx = NULL;
#else
	(void)l;
#endif
}

/**
 * ampl_ipc_link_configured() - does a backend configuration name a way to ring: a doorbell function @db (where the
 * build can ring one), or the mailbox's @tx and @rx channels, or the consumer @node to look them up in? What each
 * backend's open checks before anything else (a doorbell without its function is refused by the open itself).
 */
static inline bool ampl_ipc_link_configured(const struct ampl_ipc_doorbell *db, const struct mbox_consumer *node,
					    const struct mbox_chan *tx, const struct mbox_chan *rx)
{
	if (AMPL_IPC_LINK_FN && db)
		return true;
	return AMPL_IPC_LINK_MBOX && (node || (tx && rx));
}

/**
 * ampl_ipc_link_open() - with a doorbell function @db: publish it under @lock, no channel. Otherwise take the tx
 * then the rx channel: @tx and @rx bound to the link, or else the entries named "tx" and "rx" of @node's mboxes;
 * the tx channel is published under @lock. @doorbell and @state are the rx channel's rx_callback and link_state
 * (the link is its client's container: AMPL_CONTAINER_OF(cl, struct ampl_ipc_link, cl_rx)); @state calls
 * ampl_ipc_link_state() first. The link must be zeroed or closed.
 * Return: 0; -EINVAL (a doorbell without its function; no doorbell with AMPL_IPC_LINK_MBOX 0); or what binding or
 *         requesting a channel answered (-EINVAL, -EBUSY, -EPROBE_DEFER, -ENODEV: none given and no registry, ...),
 *         nothing held then. Context: thread.
 */
static inline int ampl_ipc_link_open(struct ampl_ipc_link *l, atomic_flag *lock, const struct ampl_ipc_doorbell *db,
				     const struct mbox_consumer *node, struct mbox_chan *tx, struct mbox_chan *rx,
				     void (*doorbell)(struct mbox_client *cl, void *mssg),
				     void (*state)(struct mbox_client *cl, bool online))
{
#if AMPL_IPC_LINK_FN
	if (db || !AMPL_IPC_LINK_MBOX) {
		if (!db || !db->ring)
			return -EINVAL;
		unsigned key = ampl_spin_lock(lock);
		l->db = db;
		ampl_spin_unlock(lock, key);
		return 0;
	}
#else
	(void)db; /* a firmware image with the mailbox: the channels only */
#endif
#if AMPL_IPC_LINK_MBOX
	int err;
#if AMPL_IPC_LINK_FRAMEWORK
	atomic_store(&l->armed, false);
	/* No tx_done callback: with one, the framework wakes its TX-done poll thread for every doorbell (a system call
	 * and a thread on a busy CPU per message). */
	l->cl_tx = (struct mbox_client){ .tx_prepare = ampl_ipc_link_on_tx_prepare };
#else
	l->cl_tx = (struct mbox_client){ 0 };
#endif
	l->cl_rx = (struct mbox_client){ .rx_callback = doorbell, .link_state = state };
#if AMPL_IPC_LINK_FRAMEWORK
#define AMPL_IPC_LINK_GET mbox_client_get_channel
#else
#define AMPL_IPC_LINK_GET ampl_mbox_get_channel /* binds without the framework's queue set-up */
#endif
	tx = AMPL_IPC_LINK_GET(&l->cl_tx, node, tx, "tx", &err);
	if (!tx)
		return err;
	unsigned key = ampl_spin_lock(lock);
	l->tx = tx;
	ampl_spin_unlock(lock, key);
	l->rx = AMPL_IPC_LINK_GET(&l->cl_rx, node, rx, "rx", &err);
#undef AMPL_IPC_LINK_GET
	if (!l->rx) {
		ampl_ipc_link_free(tx); /* a ring meanwhile finds it without a client: -EINVAL, ignored */
		l->tx = NULL;
	}
	return err;
#else
	(void)node;
	(void)tx;
	(void)rx;
	(void)doorbell;
	(void)state;
	return -EINVAL;
#endif
}

/**
 * ampl_ipc_link_ring() - ring the peer (nothing once closed), under the lock given to open.
 * Return: 0 (rung, covered by a queued doorbell, or no tx channel); or the error the mailbox refused it with
 *         (-ESHUTDOWN: the peer is offline). Context: any.
 */
static inline int ampl_ipc_link_ring(struct ampl_ipc_link *l)
{
#if AMPL_IPC_LINK_FN
	const struct ampl_ipc_doorbell *db = l->db;
	if (db) {
		db->ring(db->ctx);
		return 0;
	}
#endif
#if AMPL_IPC_LINK_FRAMEWORK
	return l->tx ? mbox_ring_doorbell(l->tx, &l->armed) : 0;
#elif AMPL_IPC_LINK_MBOX
	return l->tx ? ampl_mbox_ring(l->tx) : 0;
#else
	return 0;
#endif
}

/** ampl_ipc_link_offline() - the tx channel's offline error (-ESHUTDOWN), or 0 (online; a doorbell function). */
static inline int ampl_ipc_link_offline(const struct ampl_ipc_link *l)
{
#if AMPL_IPC_LINK_MBOX
	return mbox_client_offline(l->tx);
#else
	(void)l;
	return 0;
#endif
}

#endif /* !__cplusplus */

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_IPC_LINK_H */
