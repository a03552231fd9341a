/*
 * pbuf: a single-producer single-consumer packet ring in memory shared by two cores, wire-compatible byte for byte
 * with Zephyr's pbuf (subsys/ipc/ipc_service/lib/pbuf.c, the FIFO of the ICMsg backend), including the optional
 * handshake word of ICMsg's session ("unbound") mode.
 *
 * This is a protocol library: it knows nothing about devices, mailboxes, threads or processes. It never allocates,
 * never blocks, and never sleeps. Whoever uses it signals the peer (a mailbox doorbell) after pbuf_write() and
 * drains the ring with pbuf_read() when signalled.
 *
 * Terminology
 *   region   the caller-provided shared memory of one direction (a devicetree tx-region / rx-region)
 *   writer   the only core that writes packets into a region (its tx-region); it owns wr_idx and data[]
 *   reader   the only core that reads packets from it (its rx-region); it owns rd_idx and the handshake word
 *   D        the data-cache line size both sides agree on ("dcache-alignment"; 0 when absent)
 *   H        use_handshake: the region has the session-mode handshake word
 *   packet   one pbuf_write(): a 4-byte header and 1..65535 payload bytes
 *
 * Region layout (one region per direction; all indices little-endian u32, byte offsets into data[]):
 *
 *     offset 0          +------------------------+
 *                       | rd_idx        (reader) |  next byte the reader will read
 *     offset 4 (if H)   | handshake     (reader) |  session word of ICMsg "unbound" mode
 *                       | ... padding ...        |  up to W, so rd_idx and wr_idx sit on different cache lines
 *     offset W          +------------------------+  W = MAX(D, (H ? 2 : 1) * 4)
 *                       | wr_idx        (writer) |  next byte the writer will write
 *     offset W + 4      +------------------------+
 *                       | data[data_len](writer) |  the ring; data_len = size - W - 4 (a multiple of 4, >= 12)
 *     offset size       +------------------------+
 *
 *     D = 0,  H = 0:  rd_idx @0,                 wr_idx @4,  data @8
 *     D = 0,  H = 1:  rd_idx @0, handshake @4,   wr_idx @8,  data @12
 *     D = 32, H = 0:  rd_idx @0,                 wr_idx @32, data @36
 *     D = 32, H = 1:  rd_idx @0, handshake @4,   wr_idx @32, data @36
 *
 * Packet format (at a 4-aligned index of data[]):
 *
 *     +0  len       u16, BIG-endian: payload bytes (1..65535)
 *     +2  reserved  u16, written as 0, ignored by the reader (room for a future version)
 *     +4  payload   len bytes; wraps from the end of data[] to data[0] with no marker
 *         padding   up to the next multiple of 4 (not written; its bytes are whatever was there)
 *
 *     next index = ROUND_UP(index + 4 + len, 4) mod data_len
 *
 * Empty is rd_idx == wr_idx. One 4-byte word always stays free to tell full from empty, so a packet fits when
 * 4 + len <= data_len - occupied - 4, and the largest packet an empty ring takes is data_len - 8 bytes.
 *
 * A typical exchange (ICMsg: A's tx-region is B's rx-region):
 *
 *     core A (writer)                      region                       core B (reader)
 *     pbuf_tx_init(&tx, &cfg)   ---->  rd_idx = wr_idx = 0              pbuf_rx_init(&rx, &cfg)
 *     pbuf_write(&tx, "abc", 3) ---->  data[0..7] = 00 03 00 00 'a' 'b' 'c' ?
 *                                      wr_idx = 8  (published last)
 *     doorbell  ------------------------------------------------------> (interrupt) pbuf_read(&rx, NULL, 0): 3
 *                                                                       pbuf_read(&rx, buf, sizeof(buf)): 3
 *                                      rd_idx = 8  <------------------
 *
 * Trust: everything the peer writes (wr_idx for a reader, rd_idx for a writer, packet headers) is validated before
 * use, read once per call, and reported as an error code; no value in shared memory can make this library read or
 * write outside the region, loop, or crash (docs/pbuf.md: the security model). Each side keeps a local copy of its
 * own index and never trusts the shared copy of it.
 *
 * Caches: a core with a data cache over the region needs D set to the larger cache line of the two cores and the
 * hooks of <amplink/cache.h>; the library cleans and invalidates exactly what it touches (docs/pbuf.md lists the
 * points).
 *
 * Contexts: every function may be called from thread or interrupt context; none blocks. One pbuf object belongs
 * to one core: calls on the same object must not run concurrently (serialise several writers with a lock); a
 * writer's and a reader's calls on their two objects for the same region may run at the same time on two cores.
 */
#ifndef AMPLINK_IPC_PBUF_H
#define AMPLINK_IPC_PBUF_H

#include <amplink/port.h>
#include <amplink/errno.h>

#ifdef __cplusplus
extern "C" {
#endif

/** API version of this header (independent of the wire format). */
#define AMPL_PBUF_API_VERSION "1.0.0"
/**
 * Wire format implemented: 1 = Zephyr's pbuf (2023 onwards) with the 2025 optional handshake word. The format has no
 * version field in shared memory; both sides must be configured alike (D and H).
 */
#define AMPL_PBUF_WIRE_VERSION 1

/** Bytes of a packet header (BE16 length + 2 reserved bytes). Zephyr: PBUF_PACKET_LEN_SZ. */
#define PBUF_PACKET_LEN_SZ 4u
/** Size of one index; also the word kept free to tell a full ring from an empty one. */
#define PBUF_IDX_SIZE 4u
/** Smallest data[] length: a header, one payload byte and the free word, rounded up to 4. */
#define PBUF_MIN_DATA_LEN 12u

#define PBUF_MAX_(a, b) ((a) > (b) ? (a) : (b))
/** Offset of rd_idx in the region. */
#define PBUF_RD_IDX_OFF 0u
/** Offset of the handshake word (only when H). */
#define PBUF_HANDSHAKE_OFF 4u
/** Offset W of wr_idx for dcache alignment @d and handshake @h (0 or 1). */
#define PBUF_WR_IDX_OFF(d, h) PBUF_MAX_((uint32_t)(d), ((h) ? 2u : 1u) * PBUF_IDX_SIZE)
/** Offset of data[]. */
#define PBUF_DATA_OFF(d, h) (PBUF_WR_IDX_OFF(d, h) + PBUF_IDX_SIZE)
/** Bytes of the region in front of data[] (Zephyr's PBUF_HEADER_OVERHEAD() generalised to the handshake word). */
#define PBUF_HEADER_OVERHEAD(d, h) PBUF_DATA_OFF(d, h)
/** Region size that gives data[] exactly @data_len bytes. */
#define PBUF_REGION_SIZE(d, h, data_len) (PBUF_DATA_OFF(d, h) + (uint32_t)(data_len))
/** Largest payload an empty ring with @data_len bytes of data[] accepts (before the 65535 limit of the header). */
#define PBUF_MAX_PAYLOAD(data_len) ((uint32_t)(data_len) - PBUF_PACKET_LEN_SZ - PBUF_IDX_SIZE)
/** Upper bound on the region size (indices and their sums stay below 2^32). */
#define PBUF_MAX_REGION_SIZE 0x80000000u

/* The layouts Zephyr's PBUF_CFG_INIT() produces, checked at compile time. */
AMPL_STATIC_ASSERT(PBUF_WR_IDX_OFF(0, 0) == 4 && PBUF_DATA_OFF(0, 0) == 8, "pbuf layout D=0 H=0");
AMPL_STATIC_ASSERT(PBUF_WR_IDX_OFF(0, 1) == 8 && PBUF_DATA_OFF(0, 1) == 12, "pbuf layout D=0 H=1");
AMPL_STATIC_ASSERT(PBUF_WR_IDX_OFF(4, 0) == 4 && PBUF_WR_IDX_OFF(4, 1) == 8, "pbuf layout D=4");
AMPL_STATIC_ASSERT(PBUF_WR_IDX_OFF(32, 0) == 32 && PBUF_DATA_OFF(32, 1) == 36, "pbuf layout D=32");
AMPL_STATIC_ASSERT(PBUF_WR_IDX_OFF(64, 1) == 64 && PBUF_DATA_OFF(64, 0) == 68, "pbuf layout D=64");
AMPL_STATIC_ASSERT(PBUF_MIN_DATA_LEN == ((PBUF_PACKET_LEN_SZ + 1 + PBUF_IDX_SIZE + 3) & ~3u), "pbuf minimum");

/**
 * struct pbuf_pkt_hdr - the 4-byte header in front of every payload (wire format, byte array: no padding, no
 * alignment assumption).
 * @len_be:   payload length, big-endian
 * @reserved: 0 when written; ignored when read
 */
struct pbuf_pkt_hdr {
	uint8_t len_be[2];
	uint8_t reserved[2];
};
AMPL_STATIC_ASSERT(sizeof(struct pbuf_pkt_hdr) == PBUF_PACKET_LEN_SZ, "pbuf packet header is 4 bytes");
AMPL_STATIC_ASSERT(offsetof(struct pbuf_pkt_hdr, reserved) == 2, "pbuf reserved bytes at +2");

/**
 * struct pbuf_cfg - where one region is and how it is laid out. Fill it with pbuf_cfg_init() (or statically with
 * PBUF_CFG_INITIALIZER(); pbuf_tx_init()/pbuf_rx_init() validate it either way). Constant after init.
 * @mem:          region base (public, set by the caller); the caller owns the memory, which must outlive every
 *                pbuf using this configuration
 * @size:         region bytes (public)
 * @dcache_align: D (public)
 * @handshake:    H (public)
 * @wr_idx_off:   W (read-only, computed)
 * @data_off:     W + 4 (read-only, computed)
 * @data_len:     size - W - 4 (read-only, computed)
 */
struct pbuf_cfg {
	void *mem;
	uint32_t size;
	uint32_t dcache_align;
	bool handshake;
	uint32_t wr_idx_off;
	uint32_t data_off;
	uint32_t data_len;
};

/** Static form of pbuf_cfg_init() (no validation here: pbuf_tx_init()/pbuf_rx_init() validate). */
#define PBUF_CFG_INITIALIZER(mem_, size_, d_, h_)                                                                  \
	{                                                                                                          \
		.mem = (mem_), .size = (uint32_t)(size_), .dcache_align = (uint32_t)(d_), .handshake = (h_),      \
		.wr_idx_off = PBUF_WR_IDX_OFF(d_, h_), .data_off = PBUF_DATA_OFF(d_, h_),                          \
		.data_len = (uint32_t)(size_)-PBUF_DATA_OFF(d_, h_),                                               \
	}

/**
 * struct pbuf - one core's end of one region. Allocate it anywhere (statically is fine); it holds no pointer into
 * itself. A zero-filled object is "not initialised" and every call on it fails with -EINVAL.
 * @cfg:    the configuration (read-only after init; a copy, so the caller's struct may go away)
 * @wr_idx: private: the writer's own index (the shared copy is only ever written from this); the reader's last
 *          view of the writer's (validated when loaded)
 *          (for a writer, the end of what it reserved: pbuf_reserve())
 * @rd_idx: private: the reader's own index; the writer's last view of the reader's (validated when loaded)
 * @pub_idx: private: this side's own index as last stored in shared memory (the writer's wr_idx, the reader's
 *          rd_idx)
 * @role:   private: 0 not initialised, writer or reader
 * @hold:   private: reader: pbuf_rx_hold()
 */
struct pbuf {
	struct pbuf_cfg cfg;
	uint32_t wr_idx;
	uint32_t rd_idx;
	uint32_t pub_idx;
	uint8_t role;
	bool hold;
};

/**
 * pbuf_cfg_init() - compute and validate the layout of a region.
 * @cfg:          filled on success; untouched on failure
 * @mem:          region base in this core's address space; aligned to MAX(@dcache_align, 4)
 * @size:         region bytes: a multiple of 4, at least W + 4 + 12, below PBUF_MAX_REGION_SIZE
 * @dcache_align: D: 0 (no cache line to respect) or a power of two >= 4; both sides must use the same value
 * @handshake:    H: reserve the session-mode handshake word at offset 4
 *
 * Touches no memory of the region.
 * Return:
 * * 0        @cfg holds the layout
 * * -EINVAL  NULL @cfg or @mem; D neither 0 nor a power of two >= 4; @mem not aligned to MAX(D, 4); @size not a
 *            multiple of 4, too small for 12 bytes of data[], or too large
 * Context: any.
 */
int pbuf_cfg_init(struct pbuf_cfg *cfg, void *mem, size_t size, uint32_t dcache_align, bool handshake);

/**
 * pbuf_tx_init() - become the writer of a region, and reset it.
 * @pb:  the writer's object; initialised on success
 * @cfg: a layout (copied)
 *
 * Writes 0 to wr_idx and to rd_idx in shared memory (exactly what Zephyr's pbuf_tx_init() does; the handshake word
 * and data[] are left as they are), cleans both from the cache, and sets the local index to 0. Use it at start-up
 * and when the session protocol says the ring restarts; the reader must re-run pbuf_rx_init() then.
 * Return:
 * * 0        initialised
 * * -EINVAL  NULL @pb or @cfg, or a @cfg that pbuf_cfg_init() would reject (shared memory untouched)
 * Context: any.
 */
int pbuf_tx_init(struct pbuf *pb, const struct pbuf_cfg *cfg);

/**
 * pbuf_rx_init() - become the reader of a region.
 * @pb:  the reader's object; initialised on success
 * @cfg: a layout (copied)
 *
 * Sets the local read index to 0 and touches no shared memory: the writer resets the indices with pbuf_tx_init().
 * Call it again to resynchronise after the writer restarted the ring.
 * Return:
 * * 0        initialised
 * * -EINVAL  NULL @pb or @cfg, or a @cfg that pbuf_cfg_init() would reject
 * Context: any.
 */
int pbuf_rx_init(struct pbuf *pb, const struct pbuf_cfg *cfg);

/**
 * pbuf_tx_start(), pbuf_rx_start() - pbuf_tx_init() and pbuf_rx_init() for a @pb whose configuration
 * pbuf_cfg_init() filled in place (pbuf_cfg_init(&pb->cfg, ...) returned 0): nothing is copied or checked again
 * (a firmware's ICMsg open validates each region once). Context: any.
 */
void pbuf_tx_start(struct pbuf *pb);
void pbuf_rx_start(struct pbuf *pb);

/**
 * pbuf_rx_restart() - reader: the writer has reset the ring for a new session (session handshakes: it reset the
 * ring before acknowledging this side) and nothing of it was read yet: start reading at 0 as pbuf_rx_init() does,
 * and also store rd_idx = 0 in shared memory. A read of the previous session that ended after the writer's reset
 * stored its old index there; left as it is, the writer sees this side behind (pbuf_doorbell_needed() says no
 * doorbell is needed) while this side waits for a doorbell, and nothing is read again.
 * Return: 0; -EINVAL (not a reader). Context: the reader's, before its first read of the new session.
 */
int pbuf_rx_restart(struct pbuf *pb);

/**
 * pbuf_tx_restart() - writer: reset the ring for a new session, as pbuf_tx_init() does (wr_idx and rd_idx 0 in
 * shared memory and here), without touching the configuration, which a pbuf_fill() in progress may be reading.
 * Return: 0; -EINVAL (not a writer). Context: any; under the writer's serialisation.
 */
int pbuf_tx_restart(struct pbuf *pb);

/**
 * pbuf_reserve() - writer, first step of pbuf_write(): take room for a packet of @len payload bytes.
 * @pb:  a writer
 * @len: payload bytes, 1..65535
 *
 * Checks the free space exactly as pbuf_write() does and moves the writer's own index (pb->wr_idx) past the
 * packet; nothing is written to shared memory. Fill the packet with pbuf_fill() (it needs no serialisation: the
 * room is this caller's), then pbuf_publish() makes everything reserved so far visible to the reader, in order.
 * Several packets may be reserved before one publication; a reservation cannot be withdrawn, only published
 * (filled) or dropped with the whole ring by pbuf_tx_restart().
 * Return: the offset of the packet in data[] (>= 0), for pbuf_fill(); or -EINVAL / -ENOMEM as pbuf_write().
 * Context: any; never blocks. Under the writer's serialisation.
 */
int pbuf_reserve(struct pbuf *pb, uint16_t len);

/**
 * pbuf_fill() - writer: copy a packet's header and payload into the room pbuf_reserve() returned at @at, and clean
 * them from the cache. Touches only that room and reads only @pb's configuration, so it may run outside the
 * writer's serialisation, concurrently with other fills and with pbuf_reserve()/pbuf_publish() calls.
 * @at, @len: pbuf_reserve()'s offset and the same @len; @data: @len bytes.
 * Context: any; never blocks.
 */
void pbuf_fill(const struct pbuf *pb, uint32_t at, const void *data, uint16_t len);

/**
 * pbuf_publish() - writer: store wr_idx = pb->wr_idx (everything reserved so far; every fill of it must be
 * complete) after a store barrier, and clean it. pb->pub_idx holds the index published before, for
 * pbuf_doorbell_needed(). Context: any; never blocks. Under the writer's serialisation.
 */
void pbuf_publish(struct pbuf *pb);

/**
 * pbuf_write() - copy one packet into the ring and publish it: pbuf_reserve(), pbuf_fill(), pbuf_publish().
 * @pb:   a writer (pbuf_tx_init())
 * @data: @len bytes; stays the caller's (copied before return)
 * @len:  payload bytes, 1..65535
 *
 * Writes the header and the payload (wrapping if needed), cleans them from the cache, issues a barrier, stores the
 * new wr_idx and cleans it. The peer learns of the packet only from wr_idx, so a reader never sees a partial
 * packet. Signal the peer afterwards (doorbell; pbuf_doorbell_needed() tells when it may be skipped). The free
 * space comes from the last rd_idx loaded; rd_idx is loaded again only when that leaves no room.
 * Return:
 * * @len     written and published
 * * -EINVAL  NULL @pb or @data, @len 0, @pb not a writer; or the rd_idx the reader wrote, when loaded, is not a
 *            multiple of 4 or not below data_len (a corrupt peer: nothing written)
 * * -ENOMEM  not enough free space now (4 + @len > free space, one word kept free), or never: @len above
 *            PBUF_MAX_PAYLOAD(data_len); nothing written
 * Context: any; never blocks. Not concurrently with another call on @pb.
 */
int pbuf_write(struct pbuf *pb, const void *data, uint16_t len);

/**
 * pbuf_write_keep() - pbuf_write(), only if at least @keep bytes of the ring stay free after the packet: a writer
 * that mixes bulk packets with messages the ring must always have room for keeps that room for them.
 * Return: as pbuf_write(); -ENOMEM also when the packet fits but would leave less than @keep bytes free.
 * Context: as pbuf_write().
 */
int pbuf_write_keep(struct pbuf *pb, const void *data, uint16_t len, uint32_t keep);

/**
 * pbuf_doorbell_needed() - after a pbuf_write(), whether the reader may have stopped before the new packet.
 * @pb:      the writer
 * @prev_wr: @pb->wr_idx before that write
 *
 * A reader drains until it finds the ring empty: it stores rd_idx, then (after a full barrier) loads wr_idx
 * again before it stops (pbuf_read(); Zephyr's reader too). This issues a full barrier after the write's wr_idx
 * store and loads rd_idx: if the reader has not consumed the packet before ours yet (rd_idx is not @prev_wr), the
 * drain that consumes it is still to load wr_idx and will find ours; a doorbell for ours is then not needed, as
 * long as the packet before it had one or was itself covered this way. Store-load ordering on both sides (the two
 * full barriers) is what this rests on.
 * Return: false when a doorbell is not needed (rd_idx valid and not @prev_wr); true otherwise (the reader had
 *         caught up before our packet, or rd_idx is corrupt: ring, the safe answer).
 * Context: any; never blocks. Under the writer's serialisation (as pbuf_write()).
 */
bool pbuf_doorbell_needed(struct pbuf *pb, uint32_t prev_wr);

/**
 * pbuf_read() - the next packet: its length, or a copy of it.
 * @pb:  a reader (pbuf_rx_init())
 * @buf: NULL to ask for the next packet's length without consuming it; otherwise where the payload is copied
 *       (caller-owned; only its first returned-count bytes are written)
 * @len: bytes available at @buf (ignored when @buf is NULL)
 *
 * With @buf, copies the whole packet and consumes it. The space goes back to the writer (rd_idx stored and cleaned
 * from the cache) once per batch: when the packet was the last one below the wr_idx loaded, when half of data[]
 * waits to be given back, and before any error return; a reader that reads until 0 (as the doorbell protocol
 * requires) always ends with everything given back. With @buf NULL nothing is consumed, and only an error return
 * may store rd_idx (what was consumed before). A packet is never split or truncated. wr_idx is loaded only when every packet
 * below the last one loaded is consumed (after -EBADMSG or -EAGAIN, at the next call).
 * Checks, in this order (the first that fails decides the result; the packet stays in the ring on every error):
 * Return:
 * * 0        the ring is empty (nothing consumed)
 * * n > 0    the payload length n: copied and consumed, or, with @buf NULL, the length of a complete packet that a
 *            read with a buffer of n bytes will deliver
 * * -EINVAL  NULL @pb or @pb not a reader; or the wr_idx the writer wrote, when loaded, is not a multiple of 4
 *            or not below data_len (a corrupt peer)
 * * -EBADMSG the header at rd_idx claims 0 bytes or more than PBUF_MAX_PAYLOAD(data_len): no writer can produce it
 *            (a corrupt peer; it stays, so every later read answers the same until the writer resets the ring)
 * * -EAGAIN  the header claims more bytes than wr_idx says are in the ring. A correct writer publishes wr_idx
 *            last, so this means a corrupt or restarting peer; retrying is harmless
 * * -ENOMEM  @len is smaller than the packet: nothing copied, the packet stays; pbuf_read(@pb, NULL, 0) gives
 *            the length needed
 * Context: any; never blocks. Not concurrently with another call on @pb.
 */
int pbuf_read(struct pbuf *pb, void *buf, uint16_t len);

/*
 * PBUF_RX_HOLD (compile-time option): 1 keeps pbuf_rx_hold()'s effect in the reader's code; 0 leaves it out (the
 * call then only records the wish; reads behave as never held). Default: 1 on hosted builds, 0 in firmware, whose
 * readers do not linger (ICMSG_RX_LINGER_US).
 */
#ifndef PBUF_RX_HOLD
#define PBUF_RX_HOLD (!AMPL_FIRMWARE_BUILD)
#endif

/**
 * pbuf_rx_hold() - reader: keep the writer from ringing while this side keeps reading (polls the ring after it
 * found it empty).
 * @pb:   a reader
 * @hold: true: from now on, the read that empties the ring gives its space back only once a sixteenth of data[]
 *        waits, and only up to the start of the last packet (half of data[] waiting inside a batch goes back as
 *        unheld), and a read that finds the ring empty stores nothing and loads wr_idx after a load barrier only:
 *        rd_idx stays behind the writer's previous index, so pbuf_doorbell_needed() answers false, and a reader
 *        that keeps up stores no index per packet; false: back to the normal rule, and the next read that finds the
 *        ring empty stores rd_idx first (then loads wr_idx after the full barrier)
 *
 * The wire is unchanged: the writer only sees a reader that gives its space back later. A reader that stops must
 * release the hold, then read until 0: only that read makes the doorbell check of the writer safe again. Errors
 * give everything consumed back, held or not.
 * Return: 0; -EINVAL (not a reader). Context: the reader's.
 */
int pbuf_rx_hold(struct pbuf *pb, bool hold);

/**
 * pbuf_skip() - reader: consume the next packet without copying it (one too large for the caller's buffer).
 * @pb: a reader
 *
 * Validates the packet exactly as pbuf_read(@pb, NULL, 0) and consumes it as a read would (rd_idx given back per
 * batch, the same bytes stored).
 * Return: the length of the packet skipped (> 0); 0 (empty); or pbuf_read()'s -EINVAL, -EBADMSG, -EAGAIN (the
 * packet stays). Context: any; never blocks. Not concurrently with another call on @pb.
 */
int pbuf_skip(struct pbuf *pb);

/**
 * pbuf_handshake_read() - read the session-mode handshake word (invalidated from the cache first).
 * @pb:    a writer or a reader of a region configured with H
 * @value: receives the word (little-endian in memory, host order here)
 *
 * In ICMsg session mode the reader of a region writes the word and the writer reads it: a core reads the peer's
 * word from its tx-region and writes its own into its rx-region. Its content (session ids) is the caller's to
 * validate.
 * Return:
 * * 0         *@value set
 * * -EINVAL   NULL @pb or @value, or @pb not initialised
 * * -ENOTSUP  the region has no handshake word (H = 0)
 * Context: any.
 */
int pbuf_handshake_read(const struct pbuf *pb, uint32_t *value);

/**
 * pbuf_handshake_write() - store the session-mode handshake word, then clean it from the cache.
 * @pb:    a writer or a reader of a region configured with H (by the protocol: the reader)
 * @value: the word (stored little-endian)
 * Return:
 * * 0         stored
 * * -EINVAL   NULL @pb, or @pb not initialised
 * * -ENOTSUP  the region has no handshake word (H = 0)
 * Context: any.
 */
int pbuf_handshake_write(struct pbuf *pb, uint32_t value);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_IPC_PBUF_H */
