/*
 * ICMsg: Zephyr's lightest IPC protocol (subsys/ipc/ipc_service/lib/icmsg.c), wire-compatible, over two pbuf rings
 * (<amplink/ipc/pbuf.h>) and a pair of mailbox-framework channels used as doorbells (<amplink/mailbox_client.h>).
 * Portable (freestanding): no allocation, no blocking, no threads of its own.
 *
 * Terminology
 *   tx region  the shared memory this core writes (the peer's rx region); rx region: the one the peer writes
 *   tx / rx    the two mailbox channels: mbox_send_message(tx, NULL) rings the peer; a doorbell on rx drains the
 *              rx ring (signalling mode: no payload goes through the mailbox)
 *   bound      both sides have exchanged their bonding message (classic) or acknowledged each other's session id
 *
 * Classic (session-less) bonding, as Zephyr:
 *
 *     core A                                              core B
 *     icmsg_open: pbuf_tx_init(tx), write MAGIC [+size], ring  ---->  (maybe not listening yet)
 *                                                         icmsg_open: pbuf_tx_init(tx), write MAGIC [+size], ring
 *     doorbell: first rx packet starts with MAGIC: bound(), ring <----
 *                                                    ----> doorbell: first rx packet starts with MAGIC: bound()
 *
 *     MAGIC = 45 6d 31 6c 31 4b 30 72 6e 33 6c 69 34 ("Em1l1K0rn3li4", 13 bytes)
 *     [+size] = amplink's size extension, opt-in (size_ext; devicetree amplink,max-packet-ext): 4 bytes,
 *     little-endian, the largest packet this side's receive buffer takes. Without it the bonding packet is exactly
 *     the magic. A classic Zephyr peer ("disable") accepts a longer bonding packet ("for future protocol
 *     versions") and ignores the rest, but a Zephyr peer in "detect" mode takes a peer for session-unaware only
 *     when the first packet is exactly the 13-byte magic: with the extension it waits for a session handshake
 *     that a classic side never writes, and the two never bond. So set it only when the peer is amplink (any
 *     mode) or Zephyr in "disable" mode.
 *     Received: a bonding packet that starts with the magic bonds, with or without the extension; without it the
 *     peer (Zephyr, or amplink without size_ext) is assumed to take peer_rx_max_default bytes (Zephyr's
 *     CONFIG_PBUF_RX_READ_BUF_SIZE default: 128). This lets icmsg_send() answer -EMSGSIZE instead of making the
 *     peer drop (Zephyr: assert) a packet it cannot hold.
 *
 * Session ("unbound") mode, Zephyr 2025+: the regions carry the pbuf handshake word (pbuf H = 1). Each side has a
 * 16-bit session id (0 = disconnected) and writes `local_sid | remote_sid_ack << 16` into its rx region; it reads
 * the peer's `remote_sid | local_sid_ack << 16` from its tx region. Open picks a new id and writes (id, 0); a new
 * peer id resets our tx ring and is acknowledged; once our id is acknowledged we are bound. close writes (0, 0);
 * the peer then sees unbound() and its sends answer -EBUSY until we open again (which rebinds both sides). A peer
 * that cannot close (its processor went offline, its process was killed) is detected by the transport instead
 * (the rx channel's link state, below): the same unbound() and -EBUSY, and the restarted peer's open rebinds both
 * sides. The size extension is not carried in this mode (Zephyr's handshake has no room for it): the peer is
 * assumed to take peer_rx_max_default bytes (devicetree: amplink,peer-max-packet).
 * "detect": session mode on our side, plus the classic bonding packet for a session-unaware peer (needs
 * dcache_alignment >= 8 so that both layouts put wr_idx at the same offset); whichever the peer answers decides.
 * That bonding packet always carries the size extension: a Zephyr peer in "detect" mode then sees no bare magic
 * and uses sessions (with the bare magic it would bond classic while this side followed its session word).
 *
 * Doorbells: a send rings the peer only when the peer may have stopped reading before the new packet
 * (pbuf_doorbell_needed(): it had consumed everything before it); a reader still draining earlier packets reads it
 * without one. A doorbell the mailbox refused, or a peer found offline, makes the next send ring regardless, and
 * the peer coming back online rings. A stream into a busy reader costs a doorbell per drain, not per packet.
 *
 * Contexts
 *   icmsg_open/close      thread
 *   icmsg_send            thread or interrupt (never blocks). A short spinlock serialises what writers share: the
 *                         room a message takes in the ring is reserved under it, the payload is copied without it
 *                         (on firmware, interrupts stay enabled during the copy; AMPL_ICMSG_LOCKED_COPY_MAX
 *                         copies short messages under it), and the ring's write index is
 *                         published under it by the last of the sends copying at the time, for all of them, in
 *                         order: a send interrupted in its copy by another send publishes both. A new peer
 *                         session resets the ring (RX context) under the lock: a copy into the old ring then
 *                         answers -EBUSY, and sends answer -ENOMEM until such copies are done. icmsg_close()
 *                         waits for the copies in progress.
 *   bound/unbound/received/error callbacks: the mailbox RX callback context, i.e. the agent's interrupt context in
 *                         the virtual SoC (a thread per agent on the Linux host) and the mailbox ISR on firmware.
 *                         They must not block; received()'s data is valid until it returns. They may call
 *                         icmsg_send(); they must not call icmsg_close() (it waits for the callback to finish).
 *
 * Trust: everything read from shared memory is validated (pbuf checks the indices and lengths; this file checks
 * the magic, the advertised size and the session words). A packet longer than the receive buffer is reported
 * through error() and skipped; a corrupt ring is reported through error() once and not read again until the peer
 * restarts it. Nothing the peer writes can make this code assert, crash or access outside the regions.
 */
#ifndef AMPLINK_IPC_ICMSG_H
#define AMPLINK_IPC_ICMSG_H

#include <amplink/ipc/link.h>
#include <amplink/ipc/pbuf.h>
#include <amplink/ipc_service.h>
#include <amplink/mailbox_client.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Wire protocol: Zephyr ICMsg over pbuf, plus amplink's optional bonding size extension (see above). */
#define ICMSG_MAGIC_LEN 13u
#define ICMSG_SIZE_EXT_LEN 4u
/** What a Zephyr peer is assumed to accept when its bonding packet carries no size. */
#define ICMSG_ZEPHYR_RX_BUF_SIZE 128u
/** The smallest receive buffer (it must hold a bonding packet with the size extension). */
#define ICMSG_MIN_RX_BUF (ICMSG_MAGIC_LEN + ICMSG_SIZE_EXT_LEN)

extern const uint8_t icmsg_magic[ICMSG_MAGIC_LEN];

/** Zephyr's ICMSG_UNBOUND_MODE_* (devicetree `unbound`). */
/*
 * AMPL_ICMSG_SESSIONS (compile-time option): 1, the default: all three modes. 0: classic bonding only (Zephyr's
 * default, "disable"); icmsg_open() answers -ENOTSUP for "enable" and "detect", and the session code is left out
 * of the image (about 0.7 KB on Cortex-M4; `make cross` reports it). The wire of classic mode is the same.
 */
#ifndef AMPL_ICMSG_SESSIONS
#define AMPL_ICMSG_SESSIONS 1
#endif

/*
 * ICMSG_RX_LINGER_US (compile-time option): how long (microseconds) a drain that delivered something keeps polling
 * the rx ring after finding it empty, holding back the space of the last packet read (pbuf_rx_hold()) so that the
 * peer, seeing this side behind, does not ring: a stream into it then costs no doorbell per drain. A thread that
 * has sent outside an ICMsg callback (an application that sends, then polls for the answer) does not linger: it
 * would only delay its next request. 0 leaves it out (the code too). Default: 20 on hosted builds, where the drain
 * runs in a thread; 0 in firmware, where it runs in the doorbell interrupt. The wire is unchanged.
 */
#ifndef ICMSG_RX_LINGER_US
#define ICMSG_RX_LINGER_US (PBUF_RX_HOLD ? 20u : 0u)
#endif
AMPL_STATIC_ASSERT(!ICMSG_RX_LINGER_US || PBUF_RX_HOLD, "ICMSG_RX_LINGER_US needs PBUF_RX_HOLD");

/*
 * AMPL_ICMSG_SIZE_EXT (compile-time option): 1, the default: amplink's bonding size extension is sent (size_ext,
 * detect mode) and read. 0: the bonding packet is always the bare magic and an advertised size is ignored (the peer
 * is assumed to take peer_rx_max_default bytes, as with a Zephyr peer); icmsg_open() answers -ENOTSUP for size_ext
 * and for detect mode (which needs it). The wire of the other modes is the same.
 */
#ifndef AMPL_ICMSG_SIZE_EXT
#define AMPL_ICMSG_SIZE_EXT 1
#endif

/*
 * AMPL_ICMSG_LOCKED_COPY_MAX (compile-time option): the longest message icmsg_send() copies while it holds the TX
 * spinlock (on firmware: with interrupts masked, as long as the copy takes), reserving, copying, publishing and
 * ringing in one locked section, as Zephyr's ICMsg does under its mutex; a longer one, or one sent while another
 * send's copy is still running, is copied without the lock, between two locked sections. 0, the default: every
 * message without the lock. 65535 or more: every message under it, and the other path left out of the image (the
 * smallest send: firmware/size/configs.txt's lean configurations). Values between build both paths. The wire is
 * the same.
 */
#ifndef AMPL_ICMSG_LOCKED_COPY_MAX
#define AMPL_ICMSG_LOCKED_COPY_MAX 0u
#endif

enum icmsg_unbound_mode {
	ICMSG_UNBOUND_MODE_DISABLE = 0,
	ICMSG_UNBOUND_MODE_ENABLE = 1,
	ICMSG_UNBOUND_MODE_DETECT = 2,
};

/**
 * struct icmsg_config - constant configuration of one ICMsg link (must outlive the open link).
 * @tx_mem, @tx_size:  the tx region (this core's address); aligned to MAX(dcache_alignment, 4), size % 4 == 0
 * @rx_mem, @rx_size:  the rx region
 * @dcache_alignment:  D, the same on both sides (0: none)
 * @unbound_mode:      classic, session or detect
 * @tx_chan, @rx_chan: the mailbox channels, not yet bound to a client: icmsg binds them at open and frees them at
 *                     close (mbox_bind_client / mbox_free_channel); or NULL, and then:
 * @mbox_node:         the consumer node whose `mboxes` has entries named "tx" and "rx" (mbox_request_channel_byname)
 * @doorbell:          instead of the channels, a doorbell function (<amplink/ipc/link.h>): the link takes no
 *                     channel, and the firmware's doorbell interrupt calls icmsg_poll(); the only way with
 *                     AMPL_IPC_LINK_MBOX 0
 * @rx_buf, @rx_buf_size: the caller's receive buffer (>= ICMSG_MIN_RX_BUF bytes, at most 65535 used); its size is
 *                     what this side advertises as its max RX packet size
 * @peer_rx_max_default: what a peer without the size extension is assumed to take (0: ICMSG_ZEPHYR_RX_BUF_SIZE)
 * @size_ext:          classic mode: append the size extension to the bonding magic (false: the bare magic, which
 *                     every Zephyr mode accepts; true only when the peer is amplink or Zephyr in "disable" mode).
 *                     Detect mode always appends it; session mode has no bonding packet.
 * @polled:            the owner drains the link by calling icmsg_poll() in a loop, in its RX context (it takes the
 *                     doorbells there too, or none). With ICMSG_RX_LINGER_US (hosted builds) the reader then stays
 *                     held between drains (pbuf_rx_hold()), so that a peer that sends while it polls sees it behind
 *                     and does not ring: a polled round trip costs no doorbell. A message waits for the next
 *                     icmsg_poll(). Without ICMSG_RX_LINGER_US it only says that icmsg_poll() is called.
 */
struct icmsg_config {
	void *tx_mem;
	uint32_t tx_size;
	void *rx_mem;
	uint32_t rx_size;
	uint32_t dcache_alignment;
	enum icmsg_unbound_mode unbound_mode;
	struct mbox_chan *tx_chan, *rx_chan;
	const struct mbox_consumer *mbox_node;
	const struct ampl_ipc_doorbell *doorbell;
	void *rx_buf;
	uint32_t rx_buf_size;
	uint32_t peer_rx_max_default;
	bool size_ext;
	bool polled;
};

/*
 * Link state: a transport that learns that the far side became unreachable (the peer's or this processor went
 * offline, or on the virtual SoC the peer's process died) or reachable again marks the channels with
 * mbox_chan_set_offline(), and the framework calls the rx channel's link_state (<amplink/mailbox_client.h>; the
 * link of <amplink/ipc/link.h> passes it on). Session mode: going offline ends the session as the peer's close
 * would: the link goes DISCONNECTED, unbound() runs if it was bound, sends answer -EBUSY, and this side starts a new
 * session id so that the peer, restarted or merely back online, rebinds with the usual handshake (coming back
 * online rings it); what was in the rings is dropped, never delivered twice. Classic mode has no rebinding: going
 * offline is ignored.
 */

/** Link states (icmsg_state()). */
enum icmsg_state {
	ICMSG_STATE_OFF = 0,      /* closed */
	ICMSG_STATE_BONDING,      /* open, waiting for the peer */
	ICMSG_STATE_CONNECTED,    /* bound: sends go through */
	ICMSG_STATE_DISCONNECTED, /* session mode: the peer closed or restarted; waiting for it to come back */
};

/** struct icmsg - one link. Zero it before the first open; private fields. */
struct icmsg {
	const struct icmsg_config *cfg;
	struct ipc_service_cb cb; /* copied at open */
	void *priv;
	struct pbuf tx, rx;
	struct ampl_ipc_link link; /* the doorbells (<amplink/ipc/link.h>) */
	AMPL_ATOMIC(int) state;
	ampl_atomic_flag_t tx_lock;   /* pbuf writer (reserve, publish, reset) + doorbell; not the payload
				 * copy, unless AMPL_ICMSG_LOCKED_COPY_MAX */
	uint32_t tx_copies;    /* sends copying into room they reserved (written under tx_lock, atomically: close
				* reads it without the lock) */
	uint32_t tx_gen;       /* tx ring resets by the RX context; a copy from before one is dropped (tx_lock) */
	bool tx_stale;         /* the copies in flight are into the ring before a reset: reserve nothing (tx_lock) */
	bool bell_owed;        /* the last doorbell was refused, or a send without one found the peer offline: the
				* next send rings whatever the ring holds (tx_lock) */
	AMPL_ATOMIC(uint32_t) peer_max;
	uint32_t rx_max;       /* min(rx_buf_size, 65535) */
	bool session;          /* session words in use (enable, or detect until a classic peer shows) */
	bool classic;          /* classic bonding in use (disable, or detect) */
	int rx_fault;          /* last ring error reported (0: none): reported once until it changes */
	uint32_t bond_answer_us; /* classic bonding: when a doorbell was last answered with ours (RX context; low 32
				  * bits of the uptime, 0: never) */
	uint16_t local_sid, remote_sid;
};

/**
 * icmsg_open() - reset our tx ring, start bonding, ring the peer. bound() follows from the RX context.
 * @cb, @priv: the callbacks (@cb or any of them may be NULL; copied: @cb need not outlive the call) and their
 *             argument
 * Return: 0; -EINVAL (NULL argument, bad regions, buffer smaller than ICMSG_MIN_RX_BUF, detect mode with D < 8);
 * -ENOTSUP (session or detect mode in a build with AMPL_ICMSG_SESSIONS 0; size_ext or detect mode with
 * AMPL_ICMSG_SIZE_EXT 0); -EALREADY (open, or being opened or closed: the link is claimed atomically, so one
 * of two concurrent opens fails; not to be run at the same time as icmsg_close() of the link); a mailbox error
 * (channel missing or in use). Context: thread.
 */
int icmsg_open(struct icmsg *im, const struct icmsg_config *cfg, const struct ipc_service_cb *cb, void *priv);

/**
 * icmsg_close() - stop: in session mode write (0, 0) and ring, so the peer sees unbound(); free the channels
 * (waits for a running RX callback). Return: 0; -EINVAL; -EALREADY (not open); -EBUSY (being opened or closed).
 * Context: thread.
 */
int icmsg_close(struct icmsg *im);

/**
 * icmsg_send() - copy one message to the peer and ring it.
 * Return: @len (published; or reserved and copied, and published by a concurrent send still copying, which rings
 * the peer); -EINVAL (NULL @im); -EBADMSG (NULL @data or @len 0); -EBUSY (not bound yet, closed, the peer is gone,
 * or the peer started a new session while the message was being copied: never a silent success); -EMSGSIZE (above
 * the peer's max RX packet size); -ENOMEM (the ring is full now, or copies into a ring reset under them are still
 * running: retry later); -EIO (the peer's read index is corrupt); or the mailbox's error when it refuses the doorbell
 * after the packet was written: -ESHUTDOWN (the peer's processor is offline), -ENOBUFS, -EINVAL. In that last case
 * the packet IS in the ring (published, not withdrawn) but the peer was not told: it is read if the peer drains
 * the ring again without resetting it (a later successful send's doorbell, or the peer's next drain), and lost if
 * the peer restarts (open resets the rings). So a retry after such an error may deliver the message twice; send
 * again only what the application can take twice, or re-establish the link first. Context: thread or interrupt;
 * never blocks.
 */
int icmsg_send(struct icmsg *im, const void *data, size_t len);

/**
 * icmsg_poll() - drain the rx ring now, as a doorbell would: deliver what the peer published, follow its session
 * word, and in classic bonding ring it at most once a millisecond until it answers. Nothing while closed. For a
 * link configured @polled (see struct icmsg_config), whose owner calls it in a loop.
 * Return: 0; -EINVAL (NULL @im). Context: the link's RX context (where its doorbells are taken), never beside it.
 */
int icmsg_poll(struct icmsg *im);

/** icmsg_peer_max() - the largest message the peer accepts (0 before bonding). */
uint32_t icmsg_peer_max(const struct icmsg *im);

/** icmsg_state() - the link state. */
enum icmsg_state icmsg_state(const struct icmsg *im);

/** icmsg_is_bound() - true when sends go through. */
bool icmsg_is_bound(const struct icmsg *im);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_IPC_ICMSG_H */
