/*
 * pbuf: the ICMsg packet ring (wire format and contracts in include/amplink/ipc/pbuf.h and docs/pbuf.md).
 *
 * Shared-memory discipline, everywhere in this file:
 *   - Each side reads the other side's index at most once per call, into a local, and validates it before any use;
 *     it keeps the last value seen (a writer's view of rd_idx, a reader's of wr_idx) and loads a new one only when
 *     that one is used up. Its own index comes from the local copy in struct pbuf, never from shared memory.
 *   - A packet header is read once into a local and validated against data_len and against the occupied space.
 *   - Every data[] access is at an offset below data_len computed from validated locals, so no value in shared
 *     memory can move an access outside the region.
 *   - Indices are loaded and stored as aligned 32-bit atomic accesses (one bus access, never torn), with acquire
 *     and release ordering, plus the explicit barriers the protocol needs for the cache maintenance.
 */
#include <amplink/cache.h>
#include <amplink/bytes.h>
#include <amplink/ipc/pbuf.h>

/*
 * For the steps that pbuf_write(), pbuf_read() and pbuf_skip() share without a call per packet. Not forced under
 * GCC's ThreadSanitizer, which rejects a fence inlined into another function (-Wtsan, an error with -Werror).
 */
#ifdef __SANITIZE_THREAD__
#define ALWAYS_INLINE static inline
#else
#define ALWAYS_INLINE static inline __attribute__((always_inline))
#endif

/* The reader is held (pbuf_rx_hold()); never in a build without PBUF_RX_HOLD. */
#define HELD(pb) (PBUF_RX_HOLD && (pb)->hold)

enum {
	ROLE_NONE = 0,
	ROLE_WRITER = 0x57, /* 'W' */
	ROLE_READER = 0x52, /* 'R' */
};

/* The wire stores indices and the handshake word little-endian (ampl_le32()). */
static inline uint32_t *word_at(const struct pbuf_cfg *cfg, uint32_t off)
{
	return (uint32_t *)(void *)((uint8_t *)cfg->mem + off);
}

static inline uint8_t *data_at(const struct pbuf_cfg *cfg)
{
	return (uint8_t *)cfg->mem + cfg->data_off;
}

/*
 * Acquire: the peer's stores that precede its release store of this index (payload, or the reader's copy-out of
 * the bytes it gave back) are visible to our accesses that follow.
 */
static inline uint32_t idx_load(const uint32_t *p)
{
	return ampl_le32(__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

/* Release: our accesses before it (payload stores, or our copy-out) are visible before the new index is. */
static inline void idx_store(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, ampl_le32(v), __ATOMIC_RELEASE);
}

/* Bytes in [rd, wr) going round the ring. Both are validated: 4-aligned and below len. */
static inline uint32_t occupied(uint32_t len, uint32_t wr, uint32_t rd)
{
	return wr >= rd ? wr - rd : len - (rd - wr);
}

/* Index @idx moved by @n bytes (idx < len, n <= len), wrapped. */
static inline uint32_t idx_add(uint32_t len, uint32_t idx, uint32_t n)
{
	uint32_t r = idx + n;
	return r >= len ? r - len : r;
}

static inline uint32_t round_up4(uint32_t v)
{
	return (v + 3u) & ~3u;
}

/* The index after a packet of @len payload bytes at @idx: ROUND_UP(idx + 4 + len, 4) mod len_of_data (the packet
 * fits: idx + 4 + len < 2 * blen, so one subtraction wraps it). */
static inline uint32_t pkt_next(uint32_t blen, uint32_t idx, uint32_t len)
{
	uint32_t r = round_up4(idx + PBUF_PACKET_LEN_SZ + len);
	return r >= blen ? r - blen : r;
}

static bool is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1u)) == 0;
}

/* The whole layout check, shared by pbuf_cfg_init() and the inits, which cannot trust a hand-filled struct. In
 * size_t: no 64-bit arithmetic on a 32-bit target, no truncation on a 64-bit host. */
static int check_layout(const void *mem, size_t size, uint32_t d, bool h)
{
	if (mem == NULL)
		return -EINVAL;
	if (d != 0 && (d < 4u || !is_pow2(d)))
		return -EINVAL;
	uint32_t align = d > 4u ? d : 4u;
	if (((uintptr_t)mem & (align - 1u)) != 0)
		return -EINVAL;
	if ((size & 3u) != 0 || size >= PBUF_MAX_REGION_SIZE)
		return -EINVAL;
	if (size < (size_t)PBUF_DATA_OFF(d, h) + PBUF_MIN_DATA_LEN)
		return -EINVAL;
	return 0;
}

int pbuf_cfg_init(struct pbuf_cfg *cfg, void *mem, size_t size, uint32_t dcache_align, bool handshake)
{
	if (cfg == NULL)
		return -EINVAL;
	int rc = check_layout(mem, size, dcache_align, handshake);
	if (rc)
		return rc;
	cfg->mem = mem;
	cfg->size = (uint32_t)size;
	cfg->dcache_align = dcache_align;
	cfg->handshake = handshake;
	cfg->wr_idx_off = PBUF_WR_IDX_OFF(dcache_align, handshake);
	cfg->data_off = PBUF_DATA_OFF(dcache_align, handshake);
	cfg->data_len = cfg->size - cfg->data_off;
	return 0;
}

/* Copy a configuration that may have been filled by hand (PBUF_CFG_INITIALIZER): recomputed and compared. */
static int take_cfg(struct pbuf *pb, const struct pbuf_cfg *cfg)
{
	if (pb == NULL || cfg == NULL)
		return -EINVAL;
	struct pbuf_cfg chk;
	if (pbuf_cfg_init(&chk, cfg->mem, cfg->size, cfg->dcache_align, cfg->handshake) != 0 ||
	    chk.wr_idx_off != cfg->wr_idx_off || chk.data_off != cfg->data_off || chk.data_len != cfg->data_len)
		return -EINVAL;
	pb->cfg = chk;
	return 0;
}

void pbuf_tx_start(struct pbuf *pb)
{
	pb->role = ROLE_WRITER;
	pb->hold = false;
	(void)pbuf_tx_restart(pb);
}

void pbuf_rx_start(struct pbuf *pb)
{
	pb->role = ROLE_READER;
	pb->hold = false;
	pb->wr_idx = 0;
	pb->rd_idx = 0;
	pb->pub_idx = 0;
}

int pbuf_tx_init(struct pbuf *pb, const struct pbuf_cfg *cfg)
{
	int rc = take_cfg(pb, cfg);
	if (rc)
		return rc;
	pbuf_tx_start(pb);
	return 0;
}

int pbuf_rx_init(struct pbuf *pb, const struct pbuf_cfg *cfg)
{
	int rc = take_cfg(pb, cfg);
	if (rc)
		return rc;
	pbuf_rx_start(pb);
	return 0;
}

/*
 * Reader: publish pb->rd_idx, which gives the space below it back to the writer. Our copy-out completes before the
 * writer can see the space as free and overwrite it; the release store orders it for the compiler and the CPU, the
 * barrier also for the port's cache operations. Then the index itself goes to memory, for a writer that
 * invalidates and loads it.
 */
static void rd_publish_at(struct pbuf *pb, uint32_t rd)
{
	uint32_t *const rd_loc = word_at(&pb->cfg, PBUF_RD_IDX_OFF);
	ampl_mb();
	pb->pub_idx = rd;
	idx_store(rd_loc, rd);
	ampl_cache_clean(rd_loc, PBUF_IDX_SIZE);
}

static void rd_publish(struct pbuf *pb)
{
	rd_publish_at(pb, pb->rd_idx);
}

/*
 * Reader: move past the packet of @plen bytes at rd_idx (validated as complete). The space goes back once per
 * batch: when this packet was the last one of the wr_idx loaded (the next call loads it again, and a reader that
 * stops there has published rd_idx before that load: the order pbuf_doorbell_needed() rests on), or when half of
 * data[] waits to be given back (a writer behind a long batch gets room). Held (pbuf_rx_hold()), the end of a
 * batch gives back only once a sixteenth of data[] waits, and only up to the start of its last packet: the
 * writer's previous index is not reached, and a reader that keeps up with small packets does not store rd_idx (a
 * line the writer loads after every packet) per packet; a held reader that loses its CPU keeps at most that much
 * of the writer's room (bigger: fewer stores, less room while it is away).
 */
ALWAYS_INLINE void rd_consume(struct pbuf *pb, uint32_t plen)
{
	uint32_t blen = pb->cfg.data_len;
	uint32_t rd = pb->rd_idx;
	uint32_t nrd = pkt_next(blen, rd, plen);
	pb->rd_idx = nrd;
	if (nrd == pb->wr_idx || occupied(blen, nrd, pb->pub_idx) >= blen / 2u) {
		if (!HELD(pb) || nrd != pb->wr_idx)
			rd_publish(pb);
		else if (occupied(blen, rd, pb->pub_idx) >= blen / 16u)
			rd_publish_at(pb, rd);
	}
}

int pbuf_rx_hold(struct pbuf *pb, bool hold)
{
	if (pb == NULL || pb->role != ROLE_READER)
		return -EINVAL;
	pb->hold = hold;
	return 0;
}

int pbuf_rx_restart(struct pbuf *pb)
{
	if (pb == NULL || pb->role != ROLE_READER)
		return -EINVAL;
	pb->wr_idx = 0;
	pb->rd_idx = 0;
	rd_publish(pb);
	return 0;
}

int pbuf_tx_restart(struct pbuf *pb)
{
	if (pb == NULL || pb->role != ROLE_WRITER)
		return -EINVAL;
	uint32_t *wr_loc = word_at(&pb->cfg, pb->cfg.wr_idx_off);
	uint32_t *rd_loc = word_at(&pb->cfg, PBUF_RD_IDX_OFF);
	pb->wr_idx = 0;
	pb->rd_idx = 0;
	pb->pub_idx = 0;
	idx_store(wr_loc, 0);
	idx_store(rd_loc, 0);
	/* Both stores are done before the lines are written back, for the reader's next invalidate-and-load. */
	ampl_mb();
	ampl_cache_clean(wr_loc, PBUF_IDX_SIZE);
	ampl_cache_clean(rd_loc, PBUF_IDX_SIZE);
	return 0;
}

/* The writer's three steps, inlined into pbuf_write() (one call per packet, as before they were split) and into
 * their exported forms. */
ALWAYS_INLINE int reserve(struct pbuf *pb, uint16_t len, uint32_t keep)
{
	if (pb == NULL || len == 0 || pb->role != ROLE_WRITER)
		return -EINVAL;

	const uint32_t blen = pb->cfg.data_len;
	uint32_t *const rd_loc = word_at(&pb->cfg, PBUF_RD_IDX_OFF);
	uint32_t wr = pb->wr_idx;

	AMPL_ASSERT((wr & 3u) == 0 && wr < blen);

	/*
	 * Free space from the last rd_idx seen (pb->rd_idx, validated then): the reader only ever moves it forward,
	 * so an old value can only under-estimate the space. Only when that is not enough is rd_idx loaded from
	 * shared memory (a line the reader keeps writing): drop our stale copy of it, make sure the invalidation is
	 * complete before the load (ordering for this core only), and validate it, never assert. Space reserved and
	 * not published yet counts as used: it lies below pb->wr_idx.
	 */
	uint32_t need = (uint32_t)len + PBUF_PACKET_LEN_SZ + keep; /* @keep: bytes that must stay free after it */
	/* occupied <= blen - 4 for any two 4-aligned indices below blen, so this never underflows. */
	if (need > blen - occupied(blen, wr, pb->rd_idx) - PBUF_IDX_SIZE) {
		ampl_cache_invalidate(rd_loc, PBUF_IDX_SIZE);
		ampl_mb();
		uint32_t rd = idx_load(rd_loc);
		if ((rd & 3u) != 0 || rd >= blen)
			return -EINVAL;
		pb->rd_idx = rd;
		if (need > blen - occupied(blen, wr, rd) - PBUF_IDX_SIZE)
			return -ENOMEM;
	}

	pb->wr_idx = pkt_next(blen, wr, len);
	return (int)wr;
}

ALWAYS_INLINE void fill(const struct pbuf *pb, uint32_t at, const void *data, uint16_t len)
{
	const uint32_t blen = pb->cfg.data_len;
	uint8_t *const ring = data_at(&pb->cfg);

	AMPL_ASSERT((at & 3u) == 0 && at < blen);

	/* Header: BE16 length, then the reserved half-word as zero. It never wraps: at and blen are multiples of 4. */
	const uint8_t hdr[PBUF_PACKET_LEN_SZ] = { (uint8_t)(len >> 8), (uint8_t)len, 0, 0 };
	ampl_memcpy(&ring[at], hdr, sizeof(hdr));

	/* Payload, from at + 4 (which may be the end of data[], then it starts at 0) to the end, then from 0. */
	uint32_t p = idx_add(blen, at, PBUF_PACKET_LEN_SZ);
	uint32_t tail = blen - p < len ? blen - p : len;
	ampl_memcpy(&ring[p], data, tail);
	if (len > tail)
		ampl_memcpy(&ring[0], (const uint8_t *)data + tail, len - tail);

	/*
	 * Write back what we wrote, one call per contiguous span: header and the first part of the payload (they are
	 * contiguous unless the header ends exactly at the end of data[]), then the wrapped part.
	 */
	if (p == 0) {
		ampl_cache_clean(&ring[at], PBUF_PACKET_LEN_SZ);
		ampl_cache_clean(&ring[0], len);
	} else {
		ampl_cache_clean(&ring[at], PBUF_PACKET_LEN_SZ + tail);
		if (len > tail)
			ampl_cache_clean(&ring[0], len - tail);
	}
}

ALWAYS_INLINE void publish(struct pbuf *pb)
{
	uint32_t *const wr_loc = word_at(&pb->cfg, pb->cfg.wr_idx_off);
	/*
	 * Payload and header stores, and their write-back, complete before the new wr_idx can be seen by the reader:
	 * the ordering the protocol rests on (the reader takes every byte up to wr_idx as written). The write-back
	 * completes inside the hook; a store barrier orders the stores. Not a full barrier: that would wait here for
	 * the payload's lines to leave this core, on the path to the doorbell.
	 */
	ampl_wmb();
	pb->pub_idx = pb->wr_idx;
	idx_store(wr_loc, pb->wr_idx);
	/* Publish the index itself to memory, for a reader that invalidates and loads it. */
	ampl_cache_clean(wr_loc, PBUF_IDX_SIZE);
}

int pbuf_reserve(struct pbuf *pb, uint16_t len)
{
	return reserve(pb, len, 0);
}

void pbuf_fill(const struct pbuf *pb, uint32_t at, const void *data, uint16_t len)
{
	fill(pb, at, data, len);
}

void pbuf_publish(struct pbuf *pb)
{
	publish(pb);
}

/* One copy of the writer's steps in an image, whichever of the two it calls. */
int pbuf_write_keep(struct pbuf *pb, const void *data, uint16_t len, uint32_t keep)
{
	if (data == NULL)
		return -EINVAL;
	int at = reserve(pb, len, keep);
	if (at < 0)
		return at;
	fill(pb, (uint32_t)at, data, len);
	publish(pb);
	return len;
}

int pbuf_write(struct pbuf *pb, const void *data, uint16_t len)
{
	return pbuf_write_keep(pb, data, len, 0);
}

bool pbuf_doorbell_needed(struct pbuf *pb, uint32_t prev_wr)
{
	if (pb == NULL || pb->role != ROLE_WRITER)
		return true;
	uint32_t *const rd_loc = word_at(&pb->cfg, PBUF_RD_IDX_OFF);
	/*
	 * Our wr_idx store ordered before the load (store-load: full barrier), then one load of rd_idx, a line the
	 * reader stores into. The barrier comes first whatever the answer: a look before it (to skip the barrier for a
	 * reader found at prev_wr, which is rung anyway) costs a second load of that line when the reader is behind,
	 * the case of every packet of a stream.
	 */
	ampl_mb();
	ampl_cache_invalidate(rd_loc, PBUF_IDX_SIZE);
	uint32_t rd = idx_load(rd_loc);
	if ((rd & 3u) != 0 || rd >= pb->cfg.data_len)
		return true;
	pb->rd_idx = rd; /* the freshest view of the space, for the next write */
	return rd == prev_wr;
}

/* pbuf_read(), and pbuf_skip() (@skip: move past the packet, @buf NULL), with one copy of rd_consume(). */
static int take(struct pbuf *pb, void *buf, uint16_t len, bool skip)
{
	if (pb == NULL || pb->role != ROLE_READER)
		return -EINVAL;

	const struct pbuf_cfg *cfg = &pb->cfg;
	const uint32_t blen = cfg->data_len;
	const uint8_t *const ring = data_at(cfg);
	uint32_t *const wr_loc = word_at(cfg, cfg->wr_idx_off);
	uint32_t rd = pb->rd_idx;

	AMPL_ASSERT((rd & 3u) == 0 && rd < blen);

	/*
	 * Packets up to the last wr_idx seen (pb->wr_idx, validated then) are complete: the writer publishes wr_idx
	 * after them. Only when they are all consumed is wr_idx loaded from shared memory: drop our stale copy of the
	 * writer's index, the invalidation completes before the load (this core only), and the full barrier also
	 * orders our last rd_idx store before this load (pbuf_doorbell_needed() rests on it): a held batch end left
	 * part of it unstored, stored here once the hold is released. Held, a load barrier: a held reader does not
	 * stop on what it loads (it reads again, and stops only after a release and an empty read with the full
	 * barrier), so the store-load order is not needed, and a reader polling an empty ring does not pay for it
	 * each time. Validate, never assert.
	 */
	uint32_t wr = pb->wr_idx;
	if (wr == rd) {
		if (PBUF_RX_HOLD && pb->pub_idx != rd && !pb->hold)
			rd_publish(pb);
		ampl_cache_invalidate(wr_loc, PBUF_IDX_SIZE);
		if (HELD(pb))
			ampl_rmb();
		else
			ampl_mb();
		wr = idx_load(wr_loc);
		if ((wr & 3u) != 0 || wr >= blen)
			return -EINVAL;
		pb->wr_idx = wr;
		if (wr == rd)
			return 0;
	}

	/* The header lies below wr_idx, so the writer wrote it back before publishing; fetch it fresh. */
	ampl_cache_invalidate(&ring[rd], PBUF_PACKET_LEN_SZ);
	uint8_t hdr[PBUF_PACKET_LEN_SZ];
	ampl_memcpy(hdr, &ring[rd], sizeof(hdr));
	uint32_t plen = ((uint32_t)hdr[0] << 8) | hdr[1]; /* hdr[2..3]: reserved, ignored */

	/*
	 * A length no writer can produce: corrupt. More than the writer has published: a corrupt or restarting peer
	 * (a correct one publishes wr_idx last). Either way the next call loads wr_idx again. On any error, what was
	 * consumed before goes back to the writer, for a caller that stops here.
	 */
	int ret = (int)plen;
	if (plen == 0 || plen > PBUF_MAX_PAYLOAD(blen))
		ret = -EBADMSG;
	else if (occupied(blen, wr, rd) < plen + PBUF_PACKET_LEN_SZ)
		ret = -EAGAIN;
	else if (buf == NULL) {
		if (!skip)
			return ret;
	} else if (plen > len)
		ret = -ENOMEM;
	if (ret < 0) {
		if (ret != -ENOMEM)
			pb->wr_idx = rd;
		if (pb->pub_idx != rd)
			rd_publish(pb);
		return ret;
	}

	if (buf != NULL) {
		uint32_t p = idx_add(blen, rd, PBUF_PACKET_LEN_SZ);
		uint32_t tail = blen - p < plen ? blen - p : plen;
		ampl_cache_invalidate(&ring[p], tail);
		ampl_memcpy(buf, &ring[p], tail);
		if (plen > tail) {
			ampl_cache_invalidate(&ring[0], plen - tail);
			ampl_memcpy((uint8_t *)buf + tail, &ring[0], plen - tail);
		}
	}

	rd_consume(pb, plen);
	return ret;
}

int pbuf_read(struct pbuf *pb, void *buf, uint16_t len)
{
	return take(pb, buf, len, false);
}

int pbuf_skip(struct pbuf *pb)
{
	return take(pb, NULL, 0, true);
}

static uint32_t *handshake_loc(const struct pbuf *pb, int *rc)
{
	if (pb == NULL || (pb->role != ROLE_WRITER && pb->role != ROLE_READER)) {
		*rc = -EINVAL;
		return NULL;
	}
	if (!pb->cfg.handshake) {
		*rc = -ENOTSUP;
		return NULL;
	}
	*rc = 0;
	return word_at(&pb->cfg, PBUF_HANDSHAKE_OFF);
}

int pbuf_handshake_read(const struct pbuf *pb, uint32_t *value)
{
	int rc;
	if (value == NULL)
		return -EINVAL;
	uint32_t *loc = handshake_loc(pb, &rc);
	if (loc == NULL)
		return rc;
	/*
	 * Fetch the peer's latest word (the invalidation completes before the hook returns). The loads before this
	 * call (the packet a session check is about) are ordered before it: a load barrier, not a full one, which would
	 * wait for our last rd_idx store to reach the writer's cache.
	 */
	ampl_cache_invalidate(loc, PBUF_IDX_SIZE);
	ampl_rmb();
	*value = idx_load(loc);
	return 0;
}

int pbuf_handshake_write(struct pbuf *pb, uint32_t value)
{
	int rc;
	uint32_t *loc = handshake_loc(pb, &rc);
	if (loc == NULL)
		return rc;
	idx_store(loc, value);
	/* The store completes before its line is written back, for the peer's invalidate-and-load. */
	ampl_mb();
	ampl_cache_clean(loc, PBUF_IDX_SIZE);
	return 0;
}
