/*
 * virtqueue: one split vring from either role (contracts in include/amplink/ipc/virtqueue.h).
 *
 * Shared-memory discipline, everywhere in this file:
 *   - The peer's index (avail.idx for a device, used.idx for a driver) is loaded with acquire ordering, after
 *     invalidating it, and checked against our shadow before any entry is read; it is kept (peer_idx) and loaded
 *     again only when the entries it covered are all taken, so a reader that is behind takes a batch for one
 *     load of the shared word (one cache-line transfer) instead of one per entry.
 *   - Each entry field is loaded once into a local, validated, and only the local is used.
 *   - Our own indices come from the shadow; the shared copies are written, never read back.
 *   - Every store to shared memory is a single aligned access (vio_put*), cleaned after writing.
 *
 * The driver-side and device-side functions are separate so that a device-only image (an RPMsg remote linked with
 * --gc-sections) carries only the device half.
 */
#include <amplink/cache.h>
#include <amplink/ipc/virtqueue.h>

#define AVAIL_FLAGS(vq) ((vq)->avail)
#define AVAIL_IDX(vq) ((vq)->avail + 2)
#define AVAIL_RING(vq, slot) ((vq)->avail + 4 + 2u * (slot))
#define USED_FLAGS(vq) ((vq)->used)
#define USED_IDX(vq) ((vq)->used + 2)
#define USED_ELEM(vq, slot) ((vq)->used + 4 + 8u * (slot))
#define DESC(vq, id) ((vq)->desc + 16u * (id))

static bool pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1u)) == 0;
}

static void map_set(struct virtqueue *vq, uint32_t id)
{
	vq->map[id >> 5] |= 1u << (id & 31u);
}

static void map_clear(struct virtqueue *vq, uint32_t id)
{
	vq->map[id >> 5] &= ~(1u << (id & 31u));
}

bool vq_is_set(const struct virtqueue *vq, uint32_t id)
{
	return id < vq->num && (vq->map[id >> 5] >> (id & 31u) & 1u);
}

/* The peer's index: invalidate, then one acquire load (the entries it covers are read after it). */
static uint16_t load_idx(uint8_t *p)
{
	ampl_cache_invalidate(p, 2);
	return ampl_le16(__atomic_load_n((uint16_t *)(void *)p, __ATOMIC_ACQUIRE));
}

/* Our index: release store (everything written before it, entries and buffers, is visible first), then clean. */
static void store_idx(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)(void *)p, ampl_le16(v), __ATOMIC_RELEASE);
	ampl_cache_clean(p, 2);
}

/*
 * How many entries the peer published past our shadow @next: from the kept index while it covers some, else from
 * a fresh load of the shared one at @p. -ENODATA: none; -EIO: more than num (a corrupt index: the vring is broken).
 */
static int peer_ahead(struct virtqueue *vq, uint8_t *p, uint16_t next)
{
	if (vq->broken)
		return -EIO;
	if (vq->peer_idx != next)
		return 1;
	uint16_t ahead = (uint16_t)(load_idx(p) - next);
	if (ahead == 0)
		return -ENODATA;
	if (ahead > vq->num) {
		vq->broken = 1;
		return -EIO;
	}
	vq->peer_idx = (uint16_t)(next + ahead);
	return ahead;
}

void vq_attach(struct virtqueue *vq, void *ring, uint32_t num, uint32_t align, uint32_t *map, bool driver)
{
	ampl_memset(vq, 0, sizeof(*vq));
	vq->desc = ring;
	vq->avail = vq->desc + vring_avail_off(num);
	vq->used = vq->desc + vring_used_off(num, align);
	vq->size = vring_size(num, align);
	vq->map = map;
	vq->num = (uint16_t)num; /* <= 32768 */
	vq->driver = driver;
	ampl_memset(map, 0, 4u * VQ_MAP_WORDS(num));
}

int vq_init(struct virtqueue *vq, void *ring, uint32_t num, uint32_t align, uint32_t *map, bool driver)
{
	if (!vq || !ring || !map || ((uintptr_t)ring & 3u) || !pow2(num) || num > VRING_MAX_NUM || align < 4 ||
	    !pow2(align) || align > VRING_MAX_ALIGN)
		return -EINVAL;
	vq_attach(vq, ring, num, align, map, driver);
	return 0;
}

void vq_set_window(struct virtqueue *vq, uint32_t da, uint32_t len)
{
	vq->win_da = da;
	vq->win_len = len;
}

void vq_ring_reset(struct virtqueue *vq)
{
	/* Word stores, each single-copy atomic: a device still reading the ring of a previous session sees either
	 * the old or the new value of a field, never a torn one (vring sizes are even; the tail is one u16). */
	uint32_t n = vq->size;
	for (uint32_t i = 0; i + 4u <= n; i += 4u)
		vio_put32(vq->desc + i, 0);
	if (n & 2u)
		vio_put16(vq->desc + (n & ~3u), 0);
	ampl_cache_clean(vq->desc, n);
	ampl_mb(); /* the zeroed ring is in memory before whatever tells the device to use it */
}

/* ---- driver ---- */

int vq_add_avail(struct virtqueue *vq, uint16_t id, uint32_t addr, uint32_t len, uint16_t flags)
{
	if (!vq->driver || id >= vq->num || vq_is_set(vq, id))
		return -EINVAL;
	uint8_t *d = DESC(vq, id);
	/* A descriptor made available again as it was (a pool's fixed buffer) is not stored again: its line stays
	 * valid in the device's cache. Only compared: a device that wrote it gets it rewritten. */
	uint32_t want[4] = { ampl_le32(addr), 0, ampl_le32(len), ampl_le32(flags) }; /* flags, then next 0 */
	uint32_t *w = (uint32_t *)(void *)d;
	ampl_cache_invalidate(d, 16);
	bool same = true;
	for (unsigned i = 0; i < 4; i++)
		same = same && __atomic_load_n(&w[i], __ATOMIC_RELAXED) == want[i];
	if (!same) {
		for (unsigned i = 0; i < 4; i++)
			__atomic_store_n(&w[i], want[i], __ATOMIC_RELAXED);
		ampl_cache_clean(d, 16);
	}
	uint16_t slot = vq->next_avail & (uint16_t)(vq->num - 1u);
	vio_put16(AVAIL_RING(vq, slot), id);
	ampl_cache_clean(AVAIL_RING(vq, slot), 2);
	map_set(vq, id);
	/* Release for the device: the descriptor, the ring slot and the buffer (cleaned by the caller) before idx. */
	ampl_wmb();
	store_idx(AVAIL_IDX(vq), ++vq->next_avail);
	return 0;
}

int vq_get_used(struct virtqueue *vq, uint32_t *len)
{
	if (!vq->driver)
		return -EINVAL;
	int ahead = peer_ahead(vq, USED_IDX(vq), vq->next_used);
	if (ahead < 0)
		return ahead;
	/* Acquire for us: the element (and the buffer it names) is read after the index. */
	ampl_rmb();
	uint8_t *e = USED_ELEM(vq, vq->next_used & (uint16_t)(vq->num - 1u));
	ampl_cache_invalidate(e, 8);
	uint32_t id = vio_get32(e);
	*len = vio_get32(e + 4);
	vq->next_used++;
	if (!vq_is_set(vq, id))
		return -EBADMSG;
	map_clear(vq, id);
	return (int)id;
}

/* ---- device ---- */

int vq_get_avail(struct virtqueue *vq, uint32_t *off, uint32_t *len)
{
	if (vq->driver)
		return -EINVAL;
	int ahead = peer_ahead(vq, AVAIL_IDX(vq), vq->next_avail);
	if (ahead < 0)
		return ahead;
	/* Acquire for us: the ring slot, the descriptor and the buffer are read after the index. */
	ampl_rmb();
	uint8_t *s = AVAIL_RING(vq, vq->next_avail & (uint16_t)(vq->num - 1u));
	ampl_cache_invalidate(s, 2);
	uint16_t head = vio_get16(s);
	vq->next_avail++;
	if (head >= vq->num || vq_is_set(vq, head))
		return -EBADMSG;
	uint8_t *d = DESC(vq, head);
	ampl_cache_invalidate(d, 16);
	uint32_t addr = vio_get32(d), hi = vio_get32(d + 4), l = vio_get32(d + 8);
	uint16_t flags = vio_get16(d + 12);
	/* [addr, addr + l) inside [win_da, win_da + win_len), without overflow; no chains, no indirect tables. */
	uint32_t o = addr - vq->win_da;
	if (hi || (flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT)) || addr < vq->win_da || o > vq->win_len ||
	    l > vq->win_len - o)
		return -EBADMSG;
	map_set(vq, head);
	*off = o;
	*len = l;
	return head;
}

void vq_unget_avail(struct virtqueue *vq, uint16_t id)
{
	map_clear(vq, id);
	vq->next_avail--;
}

/* Publish used.idx up to next_used: the elements and the buffer contents (cleaned by the caller) before idx. */
static inline void publish_used(struct virtqueue *vq)
{
	vq->pub_used = vq->next_used;
	ampl_wmb();
	store_idx(USED_IDX(vq), vq->next_used);
}

int vq_add_used(struct virtqueue *vq, uint16_t id, uint32_t len)
{
	if (vq->driver || !vq_is_set(vq, id))
		return -EINVAL;
	uint8_t *e = USED_ELEM(vq, vq->next_used & (uint16_t)(vq->num - 1u));
	vio_put32(e, id);
	vio_put32(e + 4, len);
	ampl_cache_clean(e, 8);
	map_clear(vq, id);
	vq->next_used++;
	if (!vq->defer)
		publish_used(vq);
	return 0;
}

void vq_defer_used(struct virtqueue *vq)
{
	vq->defer = 1;
}

bool vq_publish_used(struct virtqueue *vq)
{
	vq->defer = 0;
	if (vq->pub_used == vq->next_used)
		return false;
	publish_used(vq);
	return true;
}

/* ---- both ---- */

void vq_set_suppress(struct virtqueue *vq, bool on)
{
	uint8_t *f = vq->driver ? AVAIL_FLAGS(vq) : USED_FLAGS(vq);
	uint16_t bit = vq->driver ? VRING_AVAIL_F_NO_INTERRUPT : VRING_USED_F_NO_NOTIFY;
	vio_put16(f, on ? bit : 0);
	ampl_cache_clean(f, 2);
	/* Lowered: the flag store before the caller's re-check of the ring (no lost kick). Raised: no barrier, a peer
	 * that sees it late only kicks once more. */
	if (!on)
		ampl_mb();
}

bool vq_must_notify(struct virtqueue *vq)
{
	/* Our index store before the flag load: a peer that clears its flag and then re-checks sees our entry. */
	ampl_mb();
	uint8_t *f = vq->driver ? USED_FLAGS(vq) : AVAIL_FLAGS(vq);
	ampl_cache_invalidate(f, 2);
	return (vio_get16(f) & 1u) == 0; /* NO_NOTIFY and NO_INTERRUPT are both bit 0 */
}

bool vq_pending(struct virtqueue *vq)
{
	if (vq->driver)
		return load_idx(USED_IDX(vq)) != vq->next_used;
	return load_idx(AVAIL_IDX(vq)) != vq->next_avail;
}
