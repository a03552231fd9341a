/*
 * The multi-endpoint zero-copy backend of the IPC service ("multi"), modelled on Zephyr's ICBMsg: many endpoints
 * per instance, bound by name, over blocks in shared memory. Not wire-compatible with Zephyr; the format is
 * amplink's own and is described in docs/ipc_multi.md. Portable (freestanding): no allocation, no threads of its
 * own; the only wait is the optional bounded wait of get_tx_buffer (ampl_os_wait()).
 *
 * Terminology
 *   region     one direction's shared memory = [control ring (a pbuf) | blocks area]; the tx region is written by
 *              this core (its blocks and its control ring), the rx region by the peer
 *   block      block_size bytes of a blocks area; a buffer is 1..n contiguous blocks starting with a 4-byte header
 *              (the payload length, little-endian u32) followed by the payload
 *   owner      the sender allocates the blocks of its tx region (first fit); the receiver only reports that it is
 *              done with a buffer (a RELEASE control message)
 *   initiator  the side whose rx region has the lower address (in its own address space): it assigns endpoint
 *              addresses and advertises each endpoint's name (BOUND); the other side is the follower
 *   session    (since wire version 2) each side's 16-bit id for one open (0: closed). A side writes `local id | the
 *              peer's id it acknowledges << 16` into the handshake word of its rx region (pbuf H = 1: the word
 *              the reader owns) and reads the peer's from its tx region, as ICMsg's session mode
 *              (<amplink/ipc/icmsg.h>). A side reads its rx ring only once the peer acknowledges its id, and
 *              takes a control message only if the peer's id is unchanged after reading it.
 *   link down  the peer closed (id 0), restarted (a new id) or went away (the link state): every bound
 *              endpoint gets unbound(), blocks in flight to the peer come back, held and received buffers are
 *              forgotten, and when the peer shows an id again both sides bind again by name, unaided.
 *
 * A typical exchange (sA, sF: the two session ids):
 *
 *     initiator                                           follower
 *     open: publish (sA, 0), reset tx ring, HELLO  ---->  open: publish (sF, 0), reset tx ring, HELLO
 *     sees sF: reset tx ring, HELLO, (sA, sF), ring  <->  sees sA: reset tx ring, HELLO, (sF, sA), ring
 *     sA acknowledged: read HELLO{geometry}               sF acknowledged: read HELLO{geometry}
 *     register "echo" (slot 3)                            register "echo"
 *     (connected) BOUND{3, blk with "echo"}  ------->     name matches: bound(), RELEASE_BOUND{3, blk}
 *     bound()                                      <----
 *     get_tx_buffer -> blk 5; fill; send_nocopy -> DATA{3, 5}  ---->  received(blk 5 + 4, len)
 *                                                  <----  RELEASE{5} (when received() returns, or on release)
 *     (follower restarts: close writes (0, 0); open publishes (sF', 0) with sF' = sF + 1)
 *     sees 0: unbound(), block 5 comes back; sees sF': reset, HELLO, (sA, sF'), ring ... and "echo" binds again
 *
 * Zero-copy lifecycle (STYLE 19):
 *   TX  get_tx_buffer -> the caller owns the buffer -> send_nocopy (the backend owns it; it comes back free when
 *       the peer releases it) or drop_tx_buffer (free again). One endpoint owns at most ONE obtained, unsent
 *       buffer at a time: get_tx_buffer while it has one answers -EALREADY (send or drop it first).
 *       drop_tx_buffer on a buffer just dropped answers -EALREADY (until its blocks are obtained again); on any
 *       pointer that is not the data of a buffer this endpoint obtained: -ENXIO. send_nocopy on such a pointer:
 *       -ENXIO.
 *   RX  the data passed to received() is valid until it returns, unless hold_rx_buffer() is called on it inside
 *       received() (from the callback itself): then until release_rx_buffer(). hold on a buffer already held:
 *       -EALREADY; hold outside received() on a buffer not held: -EINVAL. release on a pointer not held by this
 *       endpoint (never held, or released already): -ENXIO. hold inside received() on a message that came inline
 *       (config @inline_max): -ENOTSUP (copy it instead).
 *   Block exhaustion: send() answers -ENOMEM (it never waits); get_tx_buffer with AMPL_NO_WAIT answers -ENOBUFS,
 *   with a timeout waits (ampl_os_wait) until the peer releases blocks, -ENOBUFS once it passes; AMPL_FOREVER waits
 *   without limit.
 *   AMPL_IPC_MULTI_ZERO_COPY (compile-time option): 1, the default: the five calls above. 0: the backend has none
 *   of them, so the IPC service answers -EIO for each (as Zephyr for a backend without them) and their code is
 *   left out of the image (about 1 KB on Cortex-M4; `make cross` reports it); send() and received() are the same.
 *
 * After unbound() (a link down): a buffer obtained and not sent stays the caller's (send answers -EBUSY until
 * bound again; drop it, or send it once bound); a held rx buffer is no longer held (release answers -ENXIO) and
 * its memory is the peer's again: do not read it. Known limit: when the link goes down because the transport
 * reported the peer offline (not because it closed or restarted), blocks the peer was still reading or holding
 * are reused at once; a peer that was only unreachable must not read what it held before its own unbound().
 *
 * Contexts
 *   open/close_instance, register/deregister_endpoint: thread.
 *   send, get_tx_buffer (AMPL_NO_WAIT), drop, send_nocopy, hold, release: thread or the RX context (never block).
 *   get_tx_buffer with a timeout: thread (it may wait).
 *   received, error, unbound, and bound: the mailbox RX callback context, i.e. the agent's interrupt context in
 *   the virtual SoC (one thread per agent on the Linux host) and the mailbox ISR on firmware. Exception: on the
 *   follower, bound() of an endpoint registered after the peer's BOUND arrived runs inside register_endpoint(),
 *   before the binding takes effect: the peer learns of it, and received() or unbound() of it can run, only once
 *   bound() returned (if the initiator withdraws that BOUND meanwhile, unbound() follows there too).
 *   deregister_endpoint() waits for the endpoint's callbacks still running: none runs after it returned.
 *   The transport's link state arrives in the same context (the rx channel's link_state,
 *   <amplink/mailbox_client.h>): the peer going offline takes the link down as the peer's close would and starts
 *   a new session of ours; coming back online rings the peer.
 *   Callbacks must not block; they may send, get (AMPL_NO_WAIT), hold and release; they must not deregister or close.
 *
 * Trust: everything read from shared memory (control messages, block indices, buffer lengths, names, the peer's
 * geometry and handshake word) is validated; a bad value is reported through the endpoint's error() (when the endpoint is known) or
 * the instance's (config.error, else every registered endpoint's error()), the message is ignored, and nothing
 * is read or written outside the regions. The sender keeps its own record of each buffer's block count, so a
 * peer that rewrites a header cannot make it free blocks it did not send.
 */
#ifndef AMPLINK_IPC_IPC_MULTI_H
#define AMPLINK_IPC_IPC_MULTI_H

#include <amplink/ipc/link.h>
#include <amplink/ipc/pbuf.h>
#include <amplink/ipc_service_backend.h>
#include <amplink/mailbox_client.h>

/* The zero-copy calls (see "Zero-copy lifecycle" above); 0 leaves them out. */
#ifndef AMPL_IPC_MULTI_ZERO_COPY
#define AMPL_IPC_MULTI_ZERO_COPY 1
#endif

/**
 * How long (microseconds) a receive pass that took a message keeps watching the rx ring before it ends and sends
 * the releases it owes: a peer streaming meanwhile is read without waiting for its doorbell, and its buffers come
 * back in sets (at the latest once a quarter of its blocks wait), not one control message per buffer. A thread
 * that has sent outside a callback does not linger (it would only delay its own next message). While it lingers
 * the rx ring is held (pbuf_rx_hold()), so the peer does not ring a reader that is watching the ring. 0 leaves it
 * out (the code too). Default: 20 where pbuf keeps the hold (PBUF_RX_HOLD: hosted builds, where the pass runs in a
 * thread of its own); 0 in firmware, where it runs in the doorbell interrupt.
 */
#ifndef IPC_MULTI_RX_LINGER_US
#define IPC_MULTI_RX_LINGER_US (PBUF_RX_HOLD ? 20u : 0u)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Wire protocol version (in HELLO). 2: the session handshake word (not compatible with version 1). 3: the
 * receiver gives DATA buffers back in batches (RELEASE_SET; a version-2 peer would ignore it and never get its
 * blocks back, so the two do not connect).
 */
#define IPC_MULTI_WIRE_VERSION 3u
/** Endpoints per instance (compile-time; at most 254). */
#ifndef IPC_MULTI_MAX_EPT
#define IPC_MULTI_MAX_EPT 16
#endif
/** Blocks per direction (the block index is one byte on the wire). */
#define IPC_MULTI_MAX_BLOCKS 256u
/** Bytes of the buffer header in front of the payload (LE u32 length). */
#define IPC_MULTI_BUF_HDR 4u
/** Longest endpoint name, including its NUL. */
#define IPC_MULTI_NAME_MAX 32u
/** Bytes of one control message ({type, ept, block LE u16}) and of a HELLO. */
#define IPC_MULTI_MSG_LEN 4u
#define IPC_MULTI_HELLO_LEN 16u
/** Control ring bytes per queued control message (pbuf header + message). */
#define IPC_MULTI_RING_PER_MSG 8u

/** Control message types (byte 0). */
enum ipc_multi_msg {
	IPC_MULTI_MSG_DATA = 0x00,          /* ept, block: a buffer for the endpoint */
	IPC_MULTI_MSG_RELEASE = 0x01,       /* -, block: the receiver is done with the buffer */
	IPC_MULTI_MSG_BOUND = 0x02,         /* ept, block: the block holds the endpoint's NUL-terminated name */
	IPC_MULTI_MSG_RELEASE_BOUND = 0x03, /* ept, block: the follower matched the name (frees the block) */
	IPC_MULTI_MSG_UNBOUND = 0x04,       /* ept, -: the sender deregistered the endpoint */
	IPC_MULTI_MSG_RELEASE_SET = 0x05,   /* base, mask (LE u16): RELEASE of each head block base + i, bit i set */
	IPC_MULTI_MSG_INLINE = 0x06,        /* ept, length (LE u16), then the message itself: no block */
};

/**
 * The longest message a receiver of this build can take inline, in the control ring itself (IPC_MULTI_MSG_INLINE),
 * rather than in a block: what its receive pass reads into its stack. An instance takes inline messages only up to
 * its @inline_max (config; `inline-max` in devicetree), which its HELLO tells the peer (0: none, the default). 0
 * here leaves the inline code out.
 */
#ifndef IPC_MULTI_INLINE_MAX
#define IPC_MULTI_INLINE_MAX 64u
#endif
#if IPC_MULTI_INLINE_MAX > 255
#error "IPC_MULTI_INLINE_MAX: at most 255 (one byte of HELLO)"
#endif

/**
 * struct ipc_multi_config - constant configuration of an instance (must outlive it).
 * @tx_mem, @tx_size: this core's tx region; aligned to MAX(@dcache_alignment, 4), size % 4 == 0
 * @rx_mem, @rx_size: the rx region (the peer's tx region)
 * @dcache_alignment: D, the same on both sides (0: none); block_size must be a multiple of MAX(D, 4)
 * @block_size:       bytes per tx block (0: derived from @block_count and the region, see ipc_multi_layout())
 * @block_count:      tx blocks, 1..256 (0: 16)
 * @tx_chan, @rx_chan: mailbox channels not yet bound to a client (bound at open), or NULL and then
 * @mbox_node:        the consumer node whose `mboxes` has entries "tx" and "rx"
 * @doorbell:         instead of the channels, a doorbell function (<amplink/ipc/link.h>); the firmware's doorbell
 *                    interrupt calls ipc_multi_poll(); the only way with AMPL_IPC_LINK_MBOX 0
 * @error, @error_priv: instance-level error reports (NULL: every registered endpoint's error())
 * @polled:           the owner drains the instance with ipc_multi_poll() in a loop, in its RX context; with
 *                    IPC_MULTI_RX_LINGER_US (hosted builds) the control ring's reader then stays held between
 *                    drains, so a peer that sends while it polls does not ring it (as ICMsg's polled links)
 * @inline_max:       the longest message (0..IPC_MULTI_INLINE_MAX bytes) this side takes inline, in the control
 *                    ring rather than in a block (its HELLO tells the peer; 0: none). A message received inline
 *                    cannot be held: hold_rx_buffer() answers -ENOTSUP for it (leave 0 where endpoints hold small
 *                    messages). A sender sends inline what the peer takes, while the ring has room beside the
 *                    control messages it must always have room for; otherwise in a block
 */
struct ipc_multi_config {
	void *tx_mem;
	uint32_t tx_size;
	void *rx_mem;
	uint32_t rx_size;
	uint32_t dcache_alignment;
	uint32_t block_size;
	uint32_t block_count;
	struct mbox_chan *tx_chan, *rx_chan;
	const struct mbox_consumer *mbox_node;
	const struct ampl_ipc_doorbell *doorbell;
	void (*error)(const char *message, void *priv);
	void *error_priv;
	bool polled;
	uint8_t inline_max;
};

/** struct ipc_multi_layout - one region's geometry. */
struct ipc_multi_layout {
	uint32_t ring_size;   /* bytes of the control ring, from the region start */
	uint32_t blocks_off;  /* offset of block 0 = ring_size */
	uint32_t block_size;
	uint32_t block_count;
};

/**
 * ipc_multi_layout() - the geometry of a region of @size bytes with @count blocks of @bsize bytes (0: the
 * largest multiple of MAX(@d, 4) that fits). The control ring (a pbuf with the handshake word, H = 1) comes first
 * and its size depends on D only:
 * ROUND_UP(PBUF_HEADER_OVERHEAD(D, 1) + 8 * (2 * 256 + 2 * IPC_MULTI_MAX_EPT + 8), MAX(D, 4)), enough for one
 * control message per block of both directions and two per endpoint, so it does not overflow (INLINE messages
 * use only the room beyond what those need, see @inline_max); the blocks follow it (block 0 at ring_size).
 * Return: 0; -EINVAL (does not fit, bad alignment, count out of range).
 */
int ipc_multi_layout(struct ipc_multi_layout *lo, uint32_t size, uint32_t d, uint32_t bsize, uint32_t count);

/**
 * Instance states: OFF (closed); BONDING (open, waiting for the peer: its id, its acknowledgement of ours, its
 * HELLO; also after a link down); CONNECTED (the peer acknowledged our id and its HELLO was read: endpoints bind);
 * FAULT (the peer's HELLO does not fit this side: reported, nothing read until the peer starts a new session).
 */
enum ipc_multi_state { IPC_MULTI_OFF = 0, IPC_MULTI_BONDING, IPC_MULTI_CONNECTED, IPC_MULTI_FAULT };

/** One endpoint slot (private). */
struct ipc_multi_ept {
	const struct ipc_ept_cfg *cfg;
	struct ipc_multi_data *inst;
	bool used;
	bool lost;           /* bound when the link went down: unbound() is due */
	bool binding;        /* follower: register_endpoint() runs bound() before it publishes the binding */
	AMPL_ATOMIC(bool) bound;
	uint8_t addr;        /* wire address (0xFF: none yet) */
	int16_t bound_block; /* initiator: block of its BOUND in flight (-1: none) */
	int16_t claimed;     /* head block of the obtained, unsent buffer (-1: none) */
	AMPL_ATOMIC(uint32_t) calls; /* its callbacks running or about to run (deregistration waits for none) */
};

/** struct ipc_multi_data - mutable state of an instance (zero it). Private. */
struct ipc_multi_data {
	const struct ipc_multi_config *cfg;
	struct pbuf tx, rx;
	struct ipc_multi_layout txl, rxl; /* rxl from the peer's HELLO */
	struct ampl_ipc_link link; /* the doorbells (<amplink/ipc/link.h>) */
	AMPL_ATOMIC(int) state;
	bool initiator;
	ampl_atomic_flag_t lock;     /* control ring writer, block states, endpoint table */
	ampl_atomic_flag_t reg_busy; /* register/deregister serialised */
	AMPL_ATOMIC(uint32_t) free_seq; /* bumped whenever tx blocks are freed (waiters) */
	AMPL_ATOMIC(uint32_t) sleepers; /* threads asleep on free_seq (or about to be): woken only if any */
	int fault;                 /* last ring fault reported */
	int rx_cur;                /* rx block being delivered (-1: none) */
	const void *rx_inline;     /* the inline message being delivered (NULL: none) */
	uint8_t peer_inline;       /* the longest message the peer takes inline (its HELLO; 0: none) */
	uint16_t ring_keep;        /* control ring bytes an inline message leaves free (for the control messages) */
	uint16_t local_sid;        /* our session id (kept across close/open; 0 before the first open) */
	uint16_t remote_sid;       /* the peer's, as last seen (0: closed or unknown) */
	bool rx_ready;             /* the peer acknowledged local_sid: the rx ring is read */
	bool bell_owed;            /* a doorbell was refused, or withheld while the peer was offline (lock) */
	bool adv_owed;             /* initiator: an advertisement found no blocks or ring room (lock) */
	struct ipc_multi_ept ept[IPC_MULTI_MAX_EPT];
	uint8_t addr_map[256];     /* follower: wire address -> slot + 1 (0: none) */
	int16_t waiting_bound[256]; /* follower: wire address -> rx block of an unmatched BOUND (-1: none) */
	uint8_t tx_state[IPC_MULTI_MAX_BLOCKS];
	uint16_t tx_nblk[IPC_MULTI_MAX_BLOCKS];
	uint8_t tx_owner[IPC_MULTI_MAX_BLOCKS];
	uint8_t rx_state[IPC_MULTI_MAX_BLOCKS];
	uint8_t rx_owner[IPC_MULTI_MAX_BLOCKS];
	uint32_t pending_rel[IPC_MULTI_MAX_BLOCKS / 32]; /* rx blocks whose release is owed (sent at a drain's end) */
	uint8_t pending_words;     /* bit w: pending_rel[w] is not 0 */
	uint16_t owed_now;         /* blocks of the DATA releases deferred since the last flush */
	uint16_t next_blk;         /* where the next tx block search starts (next fit) */
	uint32_t retired[256 / 32]; /* wire addresses we sent UNBOUND for: DATA to them is released, not reported
				     * (initiator: also after the slot is registered again, until the follower answers
				     * its new BOUND) */
	AMPL_ATOMIC(uint32_t) errors;
};

extern const struct ipc_service_backend ipc_multi_backend;
AMPL_IPC_BACKEND_OPERATIONS(multi);
#if AMPL_IPC_MULTI_ZERO_COPY
#define IPC_MULTI_ZERO_COPY_OPS                                                                                    \
	.get_tx_buffer = ipc_multi_get_tx_buffer, .drop_tx_buffer = ipc_multi_drop_tx_buffer,                        \
	.send_nocopy = ipc_multi_send_nocopy, .hold_rx_buffer = ipc_multi_hold_rx_buffer,                           \
	.release_rx_buffer = ipc_multi_release_rx_buffer,
#else
#define IPC_MULTI_ZERO_COPY_OPS
#endif
/* The backend's operations, as its table holds them (see AMPL_IPC_ONE_BACKEND in <amplink/ipc_service_backend.h>). */
#define IPC_MULTI_OPS                                                                                              \
	{ .open_instance = ipc_multi_open_instance, .close_instance = ipc_multi_close_instance,                      \
	  .register_endpoint = ipc_multi_register_endpoint, .deregister_endpoint = ipc_multi_deregister_endpoint,     \
	  .send = ipc_multi_send, .get_tx_buffer_size = ipc_multi_get_tx_buffer_size, IPC_MULTI_ZERO_COPY_OPS        \
	  .is_bound = ipc_multi_is_bound }

/** ipc_multi_errors() - how many corruption reports the instance made. */
uint32_t ipc_multi_errors(const struct ampl_device *instance);
/**
 * ipc_multi_poll() - drain the instance's rx ring now, as a doorbell would (nothing while closed); for an instance
 * configured @polled, whose owner calls it in a loop. Return: 0; -EINVAL (not an instance of this backend).
 * Context: the instance's RX context (where its doorbells are taken), never beside it.
 */
int ipc_multi_poll(const struct ampl_device *instance);

/** ipc_multi_free_blocks() - free tx blocks now (diagnostics and tests). */
int ipc_multi_free_blocks(const struct ampl_device *instance);
/** ipc_multi_is_connected() - the peer acknowledged our session and its HELLO was read (state CONNECTED). */
bool ipc_multi_is_connected(const struct ampl_device *instance);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_IPC_IPC_MULTI_H */
