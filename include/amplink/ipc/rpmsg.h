/*
 * RPMsg over virtio, both roles, with OpenAMP's endpoint API (same names, same semantics except where stated).
 * Wire-compatible with Linux virtio_rpmsg_bus and OpenAMP rpmsg_virtio. Portable (freestanding): no allocation,
 * no threads of its own; blocking sends sleep with ampl_os_wait() (<amplink/port.h>).
 *
 * Terminology
 *   host      the virtio driver (RPMSG_HOST): owns and posts every buffer, writes gfeatures and the status byte
 *   remote    the virtio device (RPMSG_REMOTE): owns the resource table, only consumes buffers the host posted
 *   vring0    remote -> host: the host posts empty RX buffers (avail), the remote returns them full (used)
 *   vring1    host -> remote: the host posts full TX buffers (avail), the remote returns them empty (used)
 *   region    one shared memory area: the resource table at offset 0, the two vrings, then the buffer pool;
 *             da_base is the device address of its first byte (desc.addr and vring da are device addresses)
 *   endpoint  a local address (src) and optionally a bound peer address (dest); caller-owned storage
 *   NS        the name service at address 53: an endpoint with a name announces {name, addr} so that the other
 *             side binds an endpoint of the same name to it
 *   link up   the handshake is complete: the host wrote DRIVER_OK for this remote session (see session below)
 *   session   amplink's restart handshake: a vendor entry of the resource table carries remote_sid, host_sid,
 *             host_ack, so that either side may restart and both rebind; absent for Linux / OpenAMP peers
 *
 * Region layout written by the remote (vring align A, num N; offsets from the region start; docs/rpmsg.md):
 *
 *     0x00  resource table  ver=1 num=2 reserved[2] offset[0]=24 offset[1]=92
 *     0x18  vdev entry      type=3 id=7 notifyid=0 dfeatures=1(NS) gfeatures config_len=0 status nvrings=2
 *     0x34    vring0        da=da_base+V0 align=A num=N notifyid=1
 *     0x48    vring1        da=da_base+V1 align=A num=N notifyid=2
 *     0x5c  session entry   type=193(128+'A') len=16 magic="AMPL" remote_sid host_sid host_ack
 *     0x74  end of table
 *     V0 = align_up(0x74, A)                vring0, vring_size(N, A) bytes
 *     V1 = align_up(V0 + vring_size, A)     vring1
 *     B  = align_up(V1 + vring_size, 16)    buffers (carved by the host): n0 r2h buffers, then n1 h2r buffers
 *
 * A typical exchange:
 *
 *     remote                                                   host
 *     rpmsg_virtio_init_remote: write table, remote_sid=s ---> (notify) sees remote_sid != host_ack:
 *                                                              zero vrings, post RX buffers to vring0,
 *                                                              host_ack=s, host_sid++, status=DRIVER_OK
 *     (notify) <-------------------------------------------------
 *     link up; announce "ep" (NS CREATE, src 1024 -> 53) ---->  binds its endpoint "ep" (dest=1024), or ns_bind_cb
 *     rpmsg_send(ept, "hi", 2): vring0 buffer -> used -------->  ept cb(data, 2, src=1024)
 *                              <------------------------------  rpmsg_send(ept, ...) vring1 avail
 *
 * Differences from OpenAMP (deliberate):
 *   - No silent truncation: a send longer than the buffer payload returns RPMSG_ERR_BUFF_SIZE.
 *   - A blocking send sleeps in ampl_os_wait() until the receive path sees a buffer come back (it clears this
 *     side's notification suppression while someone waits, so the peer kicks), up to the device timeout (default
 *     15000 ms, as OpenAMP's 15000 x 1 ms polls), instead of polling every millisecond.
 *   - Sends while the link is down return RPMSG_ERR_DEV_STATE (no waiting for the link); init does not wait for
 *     the peer either: rpmsg_virtio_wait_link() is the bounded wait.
 *   - rpmsg_hold_rx_buffer() returns an int (OpenAMP: void): RPMSG_ERR_PARAM outside the callback or for a
 *     pointer that is not the buffer being delivered, RPMSG_ERR_NO_MEM when RPMSG_BUF_SLOTS buffers are already
 *     held or reserved. Hold state is kept locally; nothing is written into received buffers.
 *   - Zero-copy buffers are tracked locally: sending or releasing a pointer that is not a reserved TX payload (or
 *     a held RX payload) returns RPMSG_ERR_PARAM, also on the second release; the rings are never touched then.
 *   - Name-service announcements never block: one that finds no buffer is retried from the receive path.
 *   - rpmsg_destroy_ept() waits for the endpoint's running callback (another context) to return; from inside its
 *     own callback it is allowed and does not wait.
 *   - is_rpmsg_ept_ready() is also false while the link is down.
 *   - Endpoint names longer than RPMSG_NAME_SIZE - 1 are refused (RPMSG_ERR_PARAM), not truncated.
 *   - Blocking calls made from inside a callback do not wait (the buffer they wait for would come back through
 *     the very pass that runs the callback): they behave as the non-blocking ones.
 *   - An endpoint created unbound with a name is announced by a side that announces even when it binds at once
 *     from a remembered announcement, so that the peer's endpoint of that name binds too.
 *   - A link down (peer restart, peer_lost) unbinds every endpoint whose destination was learnt (ns_unbind_cb)
 *     and ends holds and reservations; endpoints created with a fixed destination keep it.
 *
 * Contexts
 *   rpmsg_virtio_init*()       thread, once per device object (zero it first, or after rpmsg_virtio_deinit()).
 *                              The host's init runs a first pass itself: callbacks may run in its context.
 *   rpmsg_virtio_notified()    the transport's doorbell context (interrupt, or its interrupt thread), or any
 *                              thread (rpmsg_virtio_poll()). Calls are serialised per device: a call that finds
 *                              another one running makes it loop once more and returns at once. All callbacks
 *                              (endpoint cb, ns_unbind_cb, ns_bind_cb, link_cb, error) run inside it, one at a
 *                              time per device, and must not block; they may use the non-blocking calls
 *                              (rpmsg_trysend*, get_tx_payload_buffer(wait=0), send_nocopy, hold/release,
 *                              create/destroy endpoints).
 *   blocking sends             thread only (rpmsg_send, rpmsg_sendto, raw/offchannel with wait, sendto_timeout,
 *                              get_tx_payload_buffer(wait=1)); everything else: any context, never blocks.
 *   Locking: one short spinlock per device (ampl_spin_lock) around ring and endpoint state; never held while a
 *   user callback runs.
 *
 * Trust: every value read from shared memory that the peer could have written (table offsets, counts, types,
 * vring da/num/align, indices, descriptor ids, addresses, lengths, message headers, name-service messages, status
 * and session words) is read once into a local and validated before use. A corrupt value is counted in
 * rpmsg_device.stats and reported through the error callback; it never causes an access outside the region, a
 * crash, an assertion or an endless loop. The message payload handed to a callback is shared memory: copy what
 * you validate before using it. Errors noted during one pass under the device lock are reported by one error
 * callback (the last message) when the lock is dropped; stats.errors counts each. A corrupt ring index breaks that
 * vring (reported once) until the next handshake; a corrupt entry is skipped.
 *
 * Size: a remote-only image links rpmsg.c, rpmsg_remote.c and the device half of virtqueue.c, and only the calls
 * it uses (-ffunction-sections, --gc-sections): non-blocking sends do not pull in the blocking wait, nor copy sends
 * the zero-copy calls. -DRPMSG_REMOTE_NS_RX=0 also leaves out the remote's reception of host announcements;
 * AMPL_RPMSG_NS 0 (below) the whole name service.
 */
#ifndef AMPLINK_IPC_RPMSG_H
#define AMPLINK_IPC_RPMSG_H

#include <amplink/ipc/virtqueue.h>

#ifdef __cplusplus
extern "C" {
#endif

/** API version of this header (independent of the wire format). */
#define AMPL_RPMSG_API_VERSION "1.0.0"
/** Wire format: RPMsg over legacy split virtio vrings (Linux / OpenAMP), plus amplink's session entry v1. */
#define AMPL_RPMSG_WIRE_VERSION 1

/* ---- OpenAMP constants and error codes ---- */

#define RPMSG_SUCCESS 0
#define RPMSG_ERROR_BASE (-2000)
#define RPMSG_ERR_NO_MEM (RPMSG_ERROR_BASE - 1)
#define RPMSG_ERR_NO_BUFF (RPMSG_ERROR_BASE - 2)
#define RPMSG_ERR_PARAM (RPMSG_ERROR_BASE - 3)
#define RPMSG_ERR_DEV_STATE (RPMSG_ERROR_BASE - 4)
#define RPMSG_ERR_BUFF_SIZE (RPMSG_ERROR_BASE - 5)
#define RPMSG_ERR_INIT (RPMSG_ERROR_BASE - 6)
#define RPMSG_ERR_ADDR (RPMSG_ERROR_BASE - 7)
#define RPMSG_ERR_PERM (RPMSG_ERROR_BASE - 8)
#define RPMSG_EOPNOTSUPP (RPMSG_ERROR_BASE - 9)

#define RPMSG_ADDR_ANY 0xFFFFFFFFu
#define RPMSG_NS_EPT_ADDR 0x35u

/*
 * AMPL_RPMSG_NS (compile-time option): 1, the default: the name service (VIRTIO_RPMSG_F_NS): the remote offers it,
 * the host accepts it when offered, named endpoints are announced (the remote's always, the host's with
 * host_announce) and bind from the peer's announcements. 0: left out of both roles: the remote does not offer the
 * feature, the host does not accept it, nothing is announced, and a message to address 53 is dropped like any to
 * an address nobody has; an endpoint binds to the fixed destination it was created with, or from the first message
 * it receives. A Linux host then creates no rpmsg device for the remote's endpoints (it needs the announcement):
 * for peers that agree on addresses.
 */
#ifndef AMPL_RPMSG_NS
#define AMPL_RPMSG_NS 1
#endif
/*
 * AMPL_RPMSG_SESSIONS (compile-time option, remote role): 1, the default: the remote lists amplink's session entry
 * in its resource table and links up only once the host acknowledged its session, so that either side's restart is
 * detected (the link goes down and up again with fresh rings). 0: the remote writes the table without it (the
 * entry's words are zero and not listed: the layout, and where the vrings start, are the same) and links up on
 * DRIVER_OK alone, as a Linux-style remote: an amplink host then treats it as one (no restart detection; a host
 * restart is followed only through the status byte going to 0 and back). The host role is the same either way.
 */
#ifndef AMPL_RPMSG_SESSIONS
#define AMPL_RPMSG_SESSIONS 1
#endif
/*
 * AMPL_RPMSG_ZERO_COPY (compile-time option): 1, the default: the zero-copy calls (rpmsg_get_tx_payload_buffer*(),
 * rpmsg_send*_nocopy(), rpmsg_release_tx_buffer(), rpmsg_hold_rx_buffer(), rpmsg_release_rx_buffer()). 0: they
 * are left out of both roles: each fails at once (NULL; RPMSG_EOPNOTSUPP) and delivery and sending no longer
 * track held or reserved buffers (the code that does is left out of an image). The copy calls are the same.
 */
#ifndef AMPL_RPMSG_ZERO_COPY
#define AMPL_RPMSG_ZERO_COPY 1
#endif
/*
 * AMPL_RPMSG_DYN_ADDR (compile-time option): 1, the default: an endpoint created with src RPMSG_ADDR_ANY gets a
 * free address from 1024..1151 in round robin, as OpenAMP's (a destroyed endpoint's address is given again, after
 * the others; RPMSG_ERR_ADDR once all 128 are taken). 0: it gets the next value of a counter from 1024 on that no
 * endpoint has; an address is never given twice while the device lives, there is no limit of 128, and no bitmap
 * (for a firmware whose endpoints live as long as it does).
 */
/*
 * AMPL_RPMSG_UNBIND (compile-time option): 1, the default: when the link goes down, every endpoint the link had
 * bound (its destination learnt from an announcement or a first message) is unbound and its ns_unbind_cb called.
 * 0: it is unbound (its destination back to the one it was created with) without the callback, which is then only
 * called for a name-service DESTROY (AMPL_RPMSG_NS), for a firmware that does not act on a link going down.
 */
#ifndef AMPL_RPMSG_UNBIND
#define AMPL_RPMSG_UNBIND 1
#endif
#ifndef AMPL_RPMSG_DYN_ADDR
#define AMPL_RPMSG_DYN_ADDR 1
#endif
#define RPMSG_RESERVED_ADDRESSES 1024u
#define RPMSG_NAME_SIZE 32
/** Dynamic addresses (AMPL_RPMSG_DYN_ADDR 1): RPMSG_RESERVED_ADDRESSES .. + RPMSG_ADDR_BMP_SIZE - 1 (1024..1151). */
#define RPMSG_ADDR_BMP_SIZE 128u

#define RPMSG_HOST 0
#define RPMSG_REMOTE 1

/* ---- wire format ---- */

/** struct rpmsg_hdr - in front of every payload (16 B, little-endian). Senders write reserved = flags = 0. */
struct rpmsg_hdr {
	uint32_t src;
	uint32_t dst;
	uint32_t reserved;
	uint16_t len;
	uint16_t flags;
};
AMPL_STATIC_ASSERT(sizeof(struct rpmsg_hdr) == 16, "rpmsg_hdr is 16 bytes");
AMPL_STATIC_ASSERT(offsetof(struct rpmsg_hdr, dst) == 4, "hdr.dst at +4");
AMPL_STATIC_ASSERT(offsetof(struct rpmsg_hdr, reserved) == 8, "hdr.reserved at +8");
AMPL_STATIC_ASSERT(offsetof(struct rpmsg_hdr, len) == 12, "hdr.len at +12");
AMPL_STATIC_ASSERT(offsetof(struct rpmsg_hdr, flags) == 14, "hdr.flags at +14");
#define RPMSG_HDR_SIZE 16u

/** struct rpmsg_ns_msg - a name-service message to address 53 (40 B). @name: NUL-terminated within 32 bytes. */
struct rpmsg_ns_msg {
	char name[RPMSG_NAME_SIZE];
	uint32_t addr;
	uint32_t flags;
};
AMPL_STATIC_ASSERT(sizeof(struct rpmsg_ns_msg) == 40, "rpmsg_ns_msg is 40 bytes");
AMPL_STATIC_ASSERT(offsetof(struct rpmsg_ns_msg, addr) == 32, "ns.addr at +32");
AMPL_STATIC_ASSERT(offsetof(struct rpmsg_ns_msg, flags) == 36, "ns.flags at +36");

enum rpmsg_ns_flags {
	RPMSG_NS_CREATE = 0,
	RPMSG_NS_DESTROY = 1,
};

/** amplink's session entry: a vendor resource (type 128 + 'A') after the vdev entry. */
#define RPMSG_AMPL_RSC_TYPE (RSC_VENDOR_START + 'A')
/** "AMPL" in memory order (41 4d 50 4c). */
#define RPMSG_AMPL_MAGIC 0x4C504D41u

/**
 * struct fw_rsc_ampl_session - the session words (24 B).
 * @len:        16 (bytes after the 8-byte vendor header)
 * @remote_sid: written by the remote at each start: previous + 1, never 0
 * @host_sid:   written by the host at each handshake: previous + 1, never 0 (0: a legacy host that never writes)
 * @host_ack:   written by the host: the remote_sid this handshake answers
 */
struct fw_rsc_ampl_session {
	uint32_t type;
	uint32_t len;
	uint32_t magic;
	uint32_t remote_sid;
	uint32_t host_sid;
	uint32_t host_ack;
};
AMPL_STATIC_ASSERT(sizeof(struct fw_rsc_ampl_session) == 24, "session entry is 24 bytes");
AMPL_STATIC_ASSERT(offsetof(struct fw_rsc_ampl_session, magic) == 8, "session.magic at +8");
AMPL_STATIC_ASSERT(offsetof(struct fw_rsc_ampl_session, remote_sid) == 12, "session.remote_sid at +12");
AMPL_STATIC_ASSERT(offsetof(struct fw_rsc_ampl_session, host_sid) == 16, "session.host_sid at +16");
AMPL_STATIC_ASSERT(offsetof(struct fw_rsc_ampl_session, host_ack) == 20, "session.host_ack at +20");

/** The table the remote writes: header with 2 offsets, the vdev entry with 2 vrings, the session entry. */
#define RPMSG_RSC_NUM 2u
#define RPMSG_RSC_VDEV_OFF 24u
#define RPMSG_RSC_SESSION_OFF (RPMSG_RSC_VDEV_OFF + 28u + 2u * 20u)
#define RPMSG_RSC_TABLE_SIZE (RPMSG_RSC_SESSION_OFF + 24u)
AMPL_STATIC_ASSERT(RPMSG_RSC_SESSION_OFF == 92 && RPMSG_RSC_TABLE_SIZE == 116, "amplink resource table layout");
/** Buffers start on this boundary after vring 1 (B in the layout above). */
#define RPMSG_BUF_ALIGN 16u

/**
 * rpmsg_vring_off() - V0 (@i = 0) or V1 (@i = 1) of the layout above: where vring @i of @num descriptors aligned
 * to @align starts in the region. rpmsg_pool_off() - B, where the buffers start. The remote lays its region out
 * with these and the devicetree loader sizes a region with them. In 32 bits, with vring_size()'s limits
 * (num <= VRING_MAX_NUM, align a power of two <= VRING_MAX_ALIGN): every result is below 2^21.
 * Calling context: any.
 */
static inline uint32_t rpmsg_vring_off(uint32_t num, uint32_t align, unsigned i)
{
	uint32_t v0 = vring_align_up(RPMSG_RSC_TABLE_SIZE, align);

	return i ? vring_align_up(v0 + vring_size(num, align), align) : v0;
}

static inline uint32_t rpmsg_pool_off(uint32_t num, uint32_t align)
{
	return vring_align_up(rpmsg_vring_off(num, align, 1) + vring_size(num, align), RPMSG_BUF_ALIGN);
}
/** Notify ids the remote writes: the vdev (status changes), vring0, vring1. */
#define RPMSG_NOTIFYID_VDEV 0u
#define RPMSG_NOTIFYID_VRING0 1u
#define RPMSG_NOTIFYID_VRING1 2u

/* ---- build-time limits (override with -D) ---- */

#ifndef RPMSG_VQ_MAX_NUM
/** The largest vring num a device object can track (its bitmaps are sized for it). A power of two. */
#define RPMSG_VQ_MAX_NUM 256u
#endif
#ifndef RPMSG_BUF_SLOTS
/** How many buffers may be held (RX) or reserved (TX, zero-copy) at once per device. */
#define RPMSG_BUF_SLOTS 8u
#endif
#ifndef RPMSG_RX_LINGER_US
/**
 * How long (microseconds) a receive pass that delivered something keeps watching its vring, with its suppression
 * flag still raised, before it ends: a sender streaming into it meanwhile does not kick. 0 leaves it out (the code
 * too). Default: 20 on hosted builds, where the receive pass runs in a thread; 0 in firmware, where it runs in the
 * doorbell interrupt.
 */
#define RPMSG_RX_LINGER_US (AMPL_FIRMWARE_BUILD ? 0u : 20u)
#endif
#ifndef RPMSG_RX_BATCH
/**
 * 1: the remote's receive pass gives its buffers back with one used.idx store when it ends, or once half the ring
 * waits (one transfer of that line to the host per batch, one notification check) instead of one per message. Default: 1 on hosted builds, 0
 * in firmware, where the 70 bytes it takes count more than the stores it saves.
 */
#define RPMSG_RX_BATCH (AMPL_FIRMWARE_BUILD ? 0 : 1)
#endif
#define RPMSG_VRING_NUM_DEFAULT 32u
#define RPMSG_VRING_ALIGN_DEFAULT 16u
#define RPMSG_BUFFER_SIZE_DEFAULT 512u
#define RPMSG_TIMEOUT_MS_DEFAULT 15000u
/** Largest number of resource table entries the host accepts. */
#define RPMSG_RSC_MAX_ENTRIES 32u

struct rpmsg_device;
struct rpmsg_endpoint;

/**
 * rpmsg_ept_cb - a message arrived for @ept.
 * @data: the payload, in shared memory, valid until the callback returns (or until rpmsg_release_rx_buffer()
 *        after rpmsg_hold_rx_buffer()); @len may be 0 (delivered too: a bind confirmation)
 * @src:  the sender's address; @priv: ept->priv
 * Return: ignored (OpenAMP: RPMSG_SUCCESS). Context: rpmsg_virtio_notified(); must not block.
 */
typedef int (*rpmsg_ept_cb)(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv);
/** rpmsg_ns_unbind_cb - the peer's endpoint went away (NS DESTROY, or link down with AMPL_RPMSG_UNBIND). Context: as
 * rpmsg_ept_cb. */
typedef void (*rpmsg_ns_unbind_cb)(struct rpmsg_endpoint *ept);
/** rpmsg_ns_bind_cb - the peer announced @name at @dest and no local endpoint took it. Context: as rpmsg_ept_cb. */
typedef void (*rpmsg_ns_bind_cb)(struct rpmsg_device *rdev, const char *name, uint32_t dest);

/**
 * struct rpmsg_endpoint - caller-owned; zero it or leave it as rpmsg_destroy_ept() left it before creating.
 * Public (read-only after create): @name, @rdev, @addr, @dest_addr (changes under the device lock), @priv
 * (read-write by the owner). The rest is private.
 */
struct rpmsg_endpoint {
	char name[RPMSG_NAME_SIZE];
	struct rpmsg_device *rdev;
	uint32_t addr;
	uint32_t dest_addr;
	rpmsg_ept_cb cb;
	rpmsg_ns_unbind_cb ns_unbind_cb;
	void *priv;
	/* private */
	struct rpmsg_endpoint *next;
	uint32_t orig_dest;
	uint8_t pend;
};

/** struct rpmsg_ns_entry - one remembered announcement (host): free when name[0] == 0. */
struct rpmsg_ns_entry {
	char name[RPMSG_NAME_SIZE];
	uint32_t addr;
};

/**
 * struct rpmsg_virtio_config - constant configuration of one device; must outlive it.
 * @role:          RPMSG_HOST or RPMSG_REMOTE
 * @shm, @shm_size: the region in this core's address space (4-byte aligned) and its size
 * @da_base:       the device address of @shm[0] (4-byte aligned; vring da and desc.addr are device addresses)
 * @vring_num:     remote: descriptors per vring, a power of two <= RPMSG_VQ_MAX_NUM (0: 32). Host: unused
 *                 (the table says; it must be <= RPMSG_VQ_MAX_NUM)
 * @vring_align:   remote: used-ring alignment, power of two >= 4 (0: 16; Linux hosts want 0x1000). Host: unused
 * @h2r_buf_size, @r2h_buf_size: host: bytes per buffer and direction, header included, rounded up to 16
 *                 (0: 512; 32..65551). Remote: unused (learnt from desc.len)
 * @tx_timeout_ms: how long a blocking send waits for a buffer (0: 15000; UINT32_MAX: no limit)
 * @host_announce: host: announce named endpoints too (OpenAMP hosts do, Linux does not). Remote: always
 * @notify:        required: ring the peer (@notifyid: the vdev's or a vring's notify id from the table).
 *                 Called without the lock held, from whatever context made the change; must not block
 * @notify_priv:   its argument
 * @error:         optional: a protocol error was detected (@msg: a static string); in the detecting context
 * @ns_bind_cb:    optional: an announcement no local endpoint took (create one with that name to bind it)
 * @link_cb:       optional: the link went up or down (runs in rpmsg_virtio_notified())
 * @ns_table, @ns_table_len: optional caller storage where unclaimed announcements are remembered, so that an
 *                 endpoint created later with that name binds at once (either start order works)
 * @polled:        the owner calls rpmsg_virtio_poll() in a loop, in the device's RX context: with RPMSG_RX_LINGER_US
 *                 (hosted builds) the receive vring's suppression flag then stays raised between passes, so the
 *                 peer never kicks; a message waits for the next poll
 * @priv:          the user's pointer (rpmsg_device.cfg->priv)
 */
struct rpmsg_virtio_config {
	int role;
	void *shm;
	uint32_t shm_size;
	uint32_t da_base;
	uint32_t vring_num;
	uint32_t vring_align;
	uint32_t h2r_buf_size;
	uint32_t r2h_buf_size;
	uint32_t tx_timeout_ms;
	bool host_announce;
	void (*notify)(void *notify_priv, uint32_t notifyid);
	void *notify_priv;
	void (*error)(struct rpmsg_device *rdev, const char *msg);
	rpmsg_ns_bind_cb ns_bind_cb;
	void (*link_cb)(struct rpmsg_device *rdev, bool up);
	struct rpmsg_ns_entry *ns_table;
	uint32_t ns_table_len;
	bool polled;
	void *priv;
};

/**
 * struct rpmsg_virtio_stats - counters (read-only for users; monotonic; updated under the device lock).
 * @errors:  protocol errors (corrupt peer values; each also reported through cfg->error)
 * @dropped: messages nobody took (no endpoint at dst, name-service messages of a wrong length)
 */
struct rpmsg_virtio_stats {
	AMPL_ATOMIC(uint32_t) errors;
	AMPL_ATOMIC(uint32_t) dropped;
};

struct rpmsg_virtio_ops;

/** struct rpmsg_buf_slot - private: a held RX or reserved / spare TX buffer. */
struct rpmsg_buf_slot {
	uint8_t *buf;
	uint32_t cap;  /* payload bytes it takes */
	uint32_t len;  /* the whole buffer, header included (remote: desc.len, written back as used.len) */
	uint16_t desc;
	uint8_t state;
};

/**
 * struct rpmsg_device - one RPMsg virtio device. Allocate it anywhere (statically is fine), zero-filled.
 * Public, read-only: @cfg, @stats. Everything else is private.
 */
struct rpmsg_device {
	const struct rpmsg_virtio_config *cfg;
	struct rpmsg_virtio_stats stats;
	/* private: everything below is under @lock unless marked */
	const struct rpmsg_virtio_ops *ops;
	ampl_atomic_flag_t lock;
	AMPL_ATOMIC(bool) up;        /* written under the lock, read anywhere */
	AMPL_ATOMIC(uint32_t) event; /* bumped under the lock: a buffer came back, the link changed, a callback ended */
	const char *err_msg;    /* noted under the lock, reported after it */
	uint32_t kick_mask;     /* KICK_* bits: notified (and event woken) after the lock */
	bool rx_active, rx_pending; /* rpmsg_virtio_notified() serialisation */
	bool lost;              /* rpmsg_virtio_peer_lost() asked */
	bool ns;                /* the name service was negotiated */
	bool ns_waiting;        /* a deferred announcement counts as a waiter */
	bool force;             /* host: handshake at the next pass even if remote_sid was acked already */
	bool blocked;           /* remote: after peer_lost, refuse host session lost_sid */
	bool destroying;        /* rpmsg_destroy_ept() waits for @running to return */
	bool rx_held;
	struct rpmsg_endpoint *running; /* the endpoint whose callback runs now (callbacks are serialised) */
	uint8_t *shm;
	uint32_t waiters;
	uint32_t timeout_ms;
	struct rpmsg_endpoint *epts;
	uint32_t addr_bmp[RPMSG_ADDR_BMP_SIZE / 32u];
	uint32_t bitnext;
	struct virtqueue vq[2];
	uint32_t vq_map[2][VQ_MAP_WORDS(RPMSG_VQ_MAX_NUM)];
	struct rpmsg_buf_slot slots[RPMSG_BUF_SLOTS];
	uint8_t *rx_cur;         /* the buffer being delivered (header) */
	uint32_t rx_len;         /* its whole length */
	uint16_t rx_desc;
	uint32_t tx_cap, rx_cap; /* payload capacity per buffer */
	uint32_t notifyid[3];    /* vdev, vring0, vring1 */
	uint32_t vdev_off, sess_off;
	uint32_t my_sid, peer_sid; /* remote: own remote_sid, host_sid of the link; host: own host_sid, acked sid */
	uint32_t lost_sid;
	uint32_t vr_off[2];      /* region offsets of vring0 and vring1 */
	uint32_t vr_num, vr_align; /* remote: its own vring geometry */
	uint32_t win_off;        /* remote: region offset where buffers may be (after the vrings) */
	/* host */
	uint32_t buf_off[2];     /* region offsets of the r2h and h2r pools */
	uint32_t nbufs[2];
	uint32_t bsize[2];       /* r2h and h2r buffer sizes, header included */
	const char *bad_table;   /* the table error last reported, NULL: none */
	uint32_t txfree[VQ_MAP_WORDS(RPMSG_VQ_MAX_NUM)];
};

/* ---- device ---- */

/**
 * rpmsg_virtio_init() - start a device in the role @cfg->role says. Links both roles: a remote-only image calls
 * rpmsg_virtio_init_remote() instead, so the host code is not linked.
 * Return: as rpmsg_virtio_init_host() / rpmsg_virtio_init_remote(). Context: thread.
 */
int rpmsg_virtio_init(struct rpmsg_device *rdev, const struct rpmsg_virtio_config *cfg);

/**
 * rpmsg_virtio_init_remote() - start the remote: write the resource table at offset 0 of the region with a new
 * remote_sid, and notify the host (RPMSG_NOTIFYID_VDEV). The link comes up later, in rpmsg_virtio_notified(),
 * when the host's handshake is seen (never waits).
 * Return: RPMSG_SUCCESS; RPMSG_ERR_PARAM (NULL argument, role not remote, no notify hook, misaligned or too small
 * region for the table and two vrings, bad vring_num or vring_align). Context: thread.
 */
int rpmsg_virtio_init_remote(struct rpmsg_device *rdev, const struct rpmsg_virtio_config *cfg);

/**
 * rpmsg_virtio_init_host() - start the host: pick a new host_sid and run the handshake at once if a valid table is
 * there (otherwise when the remote's notification or rpmsg_virtio_poll() finds one).
 * Return: RPMSG_SUCCESS; RPMSG_ERR_PARAM (NULL argument, role not host, no notify hook, misaligned region, buffer
 * sizes out of range). Context: thread.
 */
int rpmsg_virtio_init_host(struct rpmsg_device *rdev, const struct rpmsg_virtio_config *cfg);

/**
 * rpmsg_virtio_deinit() - stop: take the link down (unbinding every endpoint), then tell the peer: a remote writes
 * remote_sid = 0, a host writes status = 0; notify. The transport must stop calling rpmsg_virtio_notified() first.
 * Endpoints stay linked to @rdev: destroy them before reusing their storage. Context: thread.
 */
void rpmsg_virtio_deinit(struct rpmsg_device *rdev);

/**
 * rpmsg_virtio_notified() - the peer kicked (any vring or the vdev): check the link (handshake, session changes),
 * return and reclaim buffers, deliver the received messages and name-service announcements, retry deferred
 * announcements, wake blocked senders. Context: the transport's doorbell context, or any thread; see Contexts.
 */
void rpmsg_virtio_notified(struct rpmsg_device *rdev);

/** rpmsg_virtio_poll() - the same as rpmsg_virtio_notified(), for a system without a doorbell interrupt. */
void rpmsg_virtio_poll(struct rpmsg_device *rdev);

/**
 * rpmsg_virtio_peer_lost() - the transport learnt that the peer is gone (its processor went offline, its process
 * died). The link goes down as for a restart (unbind all, blocked senders fail with RPMSG_ERR_DEV_STATE); the host
 * then waits for a new remote_sid, the remote for a new host session (a legacy host: for its status to drop and
 * come back). Runs the work through rpmsg_virtio_notified(). Context: as rpmsg_virtio_notified().
 */
void rpmsg_virtio_peer_lost(struct rpmsg_device *rdev);

/** rpmsg_virtio_link_up() - true while the link is up. Context: any. */
bool rpmsg_virtio_link_up(struct rpmsg_device *rdev);

/**
 * rpmsg_virtio_wait_link() - wait until the link is up, up to @timeout_ms (0: do not wait; UINT32_MAX: no limit).
 * rpmsg_virtio_init_remote() returns before the host is there (OpenAMP's remote init waits for it, without a
 * bound); this is that wait, bounded, for either role. Once it returns RPMSG_SUCCESS, rpmsg_get_tx_buffer_size()
 * and rpmsg_get_rx_buffer_size() answer the session's sizes (a remote learns them from the host's buffers at link
 * up), and announcements of named endpoints are on their way. The link comes up in rpmsg_virtio_notified(): the
 * transport's doorbell context, or another thread polling, must run meanwhile. The link may go down again at any
 * time after.
 * Return: RPMSG_SUCCESS (up); RPMSG_ERR_PARAM (NULL @rdev, not initialised); RPMSG_ERR_DEV_STATE (not up within
 * @timeout_ms). Context: thread (sleeps in ampl_os_wait()); from inside a callback it does not wait.
 */
int rpmsg_virtio_wait_link(struct rpmsg_device *rdev, uint32_t timeout_ms);

/* ---- endpoints (OpenAMP API) ---- */

/**
 * rpmsg_create_ept() - register an endpoint.
 * @ept:  caller storage (not already registered)
 * @name: NULL or "" for none, else at most RPMSG_NAME_SIZE - 1 characters (copied)
 * @src:  RPMSG_ADDR_ANY for a dynamic address (1024..1151), or a fixed one (below 1024: not checked, as OpenAMP)
 * @dest: the peer's address, or RPMSG_ADDR_ANY: bound later by the peer's announcement of @name (or at once from
 *        one remembered in cfg->ns_table), or by the first message received
 * @cb:   required; @ns_unbind_cb: optional
 * A named endpoint with @dest RPMSG_ADDR_ANY is announced (NS CREATE) by the remote, and by the host with
 * cfg->host_announce, once the link is up and the name service negotiated (never blocks: deferred if no buffer).
 * Return: RPMSG_SUCCESS; RPMSG_ERR_PARAM (NULL @ept/@rdev/@cb, name too long, @ept already registered);
 * RPMSG_ERR_ADDR (@src taken, or no dynamic address left). Context: any (also inside callbacks).
 */
int rpmsg_create_ept(struct rpmsg_endpoint *ept, struct rpmsg_device *rdev, const char *name, uint32_t src,
		     uint32_t dest, rpmsg_ept_cb cb, rpmsg_ns_unbind_cb ns_unbind_cb);

/**
 * rpmsg_destroy_ept() - unregister: no callback runs for @ept after it returns (it waits for one running in
 * another context; from inside @ept's own callback it does not wait). Sends NS DESTROY when the endpoint was
 * announced and its address is >= 1024 (waiting for a buffer up to the timeout from a thread, not from a callback).
 * Buffers held or reserved stay so until released. Context: thread, or a callback of this device.
 */
void rpmsg_destroy_ept(struct rpmsg_endpoint *ept);

/** is_rpmsg_ept_ready() - the endpoint has a destination and the link is up. Context: any. */
unsigned int is_rpmsg_ept_ready(struct rpmsg_endpoint *ept);

/**
 * rpmsg_send_offchannel_raw() - copy @len bytes to a buffer with header {src, dst} and send it.
 * @wait: nonzero: wait for a buffer up to cfg->tx_timeout_ms (thread context only); 0: do not wait
 * Return: @len; RPMSG_ERR_PARAM (NULL @ept or unregistered, @dst RPMSG_ADDR_ANY, @len < 0, NULL @data with
 * @len > 0); RPMSG_ERR_DEV_STATE (link down, also when it goes down while waiting); RPMSG_ERR_BUFF_SIZE (@len
 * above the buffer's payload capacity); RPMSG_ERR_NO_BUFF (no buffer, or none within the timeout).
 */
int rpmsg_send_offchannel_raw(struct rpmsg_endpoint *ept, uint32_t src, uint32_t dst, const void *data, int len,
			      int wait);
/** rpmsg_send() - to ept->dest_addr, blocking. Also RPMSG_ERR_ADDR: not bound yet. Context: thread. */
int rpmsg_send(struct rpmsg_endpoint *ept, const void *data, int len);
/** rpmsg_sendto() - to @dst, blocking. Context: thread. */
int rpmsg_sendto(struct rpmsg_endpoint *ept, const void *data, int len, uint32_t dst);
/** rpmsg_send_offchannel() - from @src to @dst, blocking. Context: thread. */
int rpmsg_send_offchannel(struct rpmsg_endpoint *ept, uint32_t src, uint32_t dst, const void *data, int len);
/** rpmsg_trysend() - to ept->dest_addr, never blocks (RPMSG_ERR_NO_BUFF at once). Context: any. */
int rpmsg_trysend(struct rpmsg_endpoint *ept, const void *data, int len);
/** rpmsg_trysendto() - to @dst, never blocks. Context: any. */
int rpmsg_trysendto(struct rpmsg_endpoint *ept, const void *data, int len, uint32_t dst);
/** rpmsg_trysend_offchannel() - from @src to @dst, never blocks. Context: any. */
int rpmsg_trysend_offchannel(struct rpmsg_endpoint *ept, uint32_t src, uint32_t dst, const void *data, int len);
/**
 * rpmsg_sendto_timeout() - to @dst, waiting up to @timeout_ms for a buffer (0: do not wait; UINT32_MAX: no
 * limit). Return: as rpmsg_send_offchannel_raw(). Context: thread (any when @timeout_ms is 0).
 */
int rpmsg_sendto_timeout(struct rpmsg_endpoint *ept, const void *data, int len, uint32_t dst, uint32_t timeout_ms);

/**
 * rpmsg_get_tx_payload_buffer() - reserve a TX buffer for zero-copy: fill it, then rpmsg_send_nocopy() (ownership
 * passes to the peer) or rpmsg_release_tx_buffer().
 * @len:  receives the payload capacity
 * @wait: as rpmsg_send_offchannel_raw()
 * Return: the payload pointer (in shared memory), or NULL (bad arguments, link down, no buffer, RPMSG_BUF_SLOTS
 * buffers already held/reserved). Context: thread if @wait, else any.
 */
void *rpmsg_get_tx_payload_buffer(struct rpmsg_endpoint *ept, uint32_t *len, int wait);
/**
 * rpmsg_get_tx_payload_buffer_timeout() - rpmsg_get_tx_payload_buffer() waiting up to @timeout_ms (0: not at all;
 * UINT32_MAX: no limit). Context: thread (any when @timeout_ms is 0).
 */
void *rpmsg_get_tx_payload_buffer_timeout(struct rpmsg_endpoint *ept, uint32_t *len, uint32_t timeout_ms);
/**
 * rpmsg_reserve_tx_buffer() - amplink's form of rpmsg_get_tx_payload_buffer_timeout() that says why it failed and
 * refuses a buffer too small for @need payload bytes, all under one hold of the device's lock.
 * @buf: receives the payload pointer
 * @len: receives the payload capacity (also on RPMSG_ERR_BUFF_SIZE)
 * Return: RPMSG_SUCCESS; RPMSG_ERR_BUFF_SIZE (@need is more than a buffer holds), RPMSG_ERR_NO_BUFF (none free
 * within @timeout_ms), RPMSG_ERR_DEV_STATE (link down), RPMSG_ERR_NO_MEM (RPMSG_BUF_SLOTS buffers already
 * held/reserved), RPMSG_ERR_PARAM, RPMSG_EOPNOTSUPP (zero-copy compiled out). Context: as
 * rpmsg_get_tx_payload_buffer_timeout().
 */
int rpmsg_reserve_tx_buffer(struct rpmsg_endpoint *ept, uint32_t need, uint32_t timeout_ms, void **buf,
			    uint32_t *len);
/**
 * rpmsg_send_offchannel_nocopy() - send a reserved buffer with @len payload bytes from @src to @dst.
 * Return: @len; RPMSG_ERR_PARAM (@data not a reserved payload pointer of this device, @dst ANY, @len < 0): the
 * buffer stays reserved if it was; RPMSG_ERR_BUFF_SIZE (@len above its capacity: it stays reserved);
 * RPMSG_ERR_DEV_STATE (link down: the reservation ended with the link). Context: any.
 */
int rpmsg_send_offchannel_nocopy(struct rpmsg_endpoint *ept, uint32_t src, uint32_t dst, const void *data, int len);
/** rpmsg_sendto_nocopy() - a reserved buffer to @dst. Return: as rpmsg_send_offchannel_nocopy(). */
int rpmsg_sendto_nocopy(struct rpmsg_endpoint *ept, const void *data, int len, uint32_t dst);
/** rpmsg_send_nocopy() - a reserved buffer to ept->dest_addr (RPMSG_ERR_ADDR if not bound). */
int rpmsg_send_nocopy(struct rpmsg_endpoint *ept, const void *data, int len);
/**
 * rpmsg_release_tx_buffer() - give back a reserved buffer unsent.
 * Return: RPMSG_SUCCESS; RPMSG_ERR_PARAM (not a reserved payload pointer: also the second release). Context: any.
 */
int rpmsg_release_tx_buffer(struct rpmsg_endpoint *ept, void *txbuf);
/**
 * rpmsg_hold_rx_buffer() - keep the payload being delivered after the callback returns (zero-copy RX). Only inside
 * the endpoint callback, with its @data. Return: RPMSG_SUCCESS; RPMSG_ERR_PARAM (not the buffer being delivered,
 * or already held); RPMSG_ERR_NO_MEM (RPMSG_BUF_SLOTS buffers held or reserved). Context: the callback.
 */
int rpmsg_hold_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf);
/**
 * rpmsg_release_rx_buffer() - give a held buffer back to the peer. A link down ends every hold (the buffers belong
 * to the old session): releasing then returns RPMSG_ERR_PARAM. Return: RPMSG_SUCCESS; RPMSG_ERR_PARAM (not held).
 * Context: any.
 */
int rpmsg_release_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf);
/**
 * rpmsg_get_tx_buffer_size() - payload capacity of a TX buffer. Host: h2r size - 16 (from its handshake on).
 * Remote: desc.len - 16 of the first buffer the host posted (looked at when the link comes up), then of the last
 * of the host's RX buffers it took (a send, or a send refused with RPMSG_ERR_BUFF_SIZE, looks at one).
 * Return: bytes; RPMSG_ERR_PARAM; RPMSG_ERR_DEV_STATE (not known yet: before the first link up, or the host
 * posted no buffer). Context: any.
 */
int rpmsg_get_tx_buffer_size(struct rpmsg_endpoint *ept);
/**
 * rpmsg_get_rx_buffer_size() - payload capacity of an RX buffer. Host: r2h size - 16. Remote: desc.len - 16 of the
 * last buffer received (before the first: the TX capacity). Return: bytes; RPMSG_ERR_PARAM; RPMSG_ERR_DEV_STATE.
 * Context: any.
 */
int rpmsg_get_rx_buffer_size(struct rpmsg_endpoint *ept);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_IPC_RPMSG_H */
