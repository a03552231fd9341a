/*
 * RPMsg host (virtio driver role): reads and validates the remote's resource table, runs the handshake (zeroes
 * the vrings, carves and posts the buffers, writes gfeatures, the session words and DRIVER_OK), and moves
 * buffers: vring0 carries its RX buffers (posted empty, returned full), vring1 its TX buffers (posted full,
 * returned empty). Contracts in include/amplink/ipc/rpmsg.h; layout and handshake in docs/rpmsg.md.
 *
 * Buffers are fixed: descriptor i of vring0 is always r2h buffer i, descriptor i of vring1 always h2r buffer i, so
 * a descriptor id maps to a buffer by arithmetic and the TX free list is a bitmap of descriptor ids. The virtqueue
 * in-flight map guarantees that an id the remote returns was posted by us and is not returned twice.
 *
 * used.len (the remote writes it) is never a size for anything here, since buffers have their fixed size; it is
 * only checked. vring0, as Linux: at most the buffer and at least 16 + hdr.len, else the message is refused (an
 * error, the buffer posted again). vring1: at most the buffer (OpenAMP remotes and ours write the whole buffer,
 * older amplink remotes 0), else an error, and the buffer is ours again all the same. A buffer we post again
 * always has its whole length in desc.len, whatever used.len said.
 *
 * When is the handshake run (host_link(), at every pass):
 *   - after rpmsg_virtio_init_host() (force), as soon as a valid table is there;
 *   - when the session entry shows a remote_sid other than the one acknowledged (the remote restarted): the link
 *     goes down first; remote_sid 0 means the remote closed (rpmsg_virtio_deinit()): down, and wait;
 *   - never again for a table without the session entry (a Linux-style remote): no restart detection there;
 *   - after rpmsg_virtio_peer_lost(): only once remote_sid changes.
 */
#include "rpmsg_internal.h"

/* A valid-looking but absent table (ver 0: the remote has not written it yet, or is rewriting it). */
static const char table_absent[] = "rpmsg: no resource table yet";

struct rsc {
	uint32_t vdev, sess, end, pool;
	uint32_t nid[3];
	uint32_t da[2], align[2], num[2], voff[2];
	uint32_t dfeatures, rsid;
};

static uint8_t *rx_buf(struct rpmsg_device *rdev, uint32_t i)
{
	return rdev->shm + rdev->buf_off[0] + i * rdev->bsize[0];
}

static uint32_t da_of(struct rpmsg_device *rdev, const uint8_t *p)
{
	return rdev->cfg->da_base + (uint32_t)(p - rdev->shm);
}

/* @next rounded up to @a, or @size if that would pass it (then the size check below fails). */
static uint32_t place(uint32_t next, uint32_t a, uint32_t size)
{
	uint64_t v = ((uint64_t)next + a - 1u) & ~((uint64_t)a - 1u);
	return v > size ? size : (uint32_t)v;
}

/* Read and validate the table; every field is read once into *r. NULL, table_absent, or what is wrong. */
static const char *parse(struct rpmsg_device *rdev, struct rsc *r)
{
	uint8_t *t = rdev->shm;
	uint32_t size = rdev->cfg->shm_size;
	ampl_memset(r, 0, sizeof(*r));
	uint32_t ver = rsc_get32_acq(t);
	ampl_cache_invalidate(t + 4, 12);
	uint32_t num = vio_get32(t + 4);
	if (ver == 0)
		return table_absent;
	if (ver != RSC_TABLE_VERSION)
		return "rpmsg: resource table version is not 1";
	if (num == 0 || num > RPMSG_RSC_MAX_ENTRIES || 16u + 4u * num > size)
		return "rpmsg: resource table entry count out of range";
	uint32_t hdr = 16u + 4u * num;
	r->end = hdr;
	ampl_cache_invalidate(t + 16, 4u * num);
	for (uint32_t i = 0; i < num; i++) {
		uint32_t off = vio_get32(t + 16 + 4u * i);
		if (off < hdr || (off & 3u) || off > size - 8u)
			return "rpmsg: resource table entry offset out of range";
		uint8_t *e = t + off;
		ampl_cache_invalidate(e, 8);
		uint32_t type = vio_get32(e);
		uint64_t ext = 4;
		if (type == RSC_VDEV) {
			if (off > size - 28u)
				return "rpmsg: vdev entry out of range";
			ampl_cache_invalidate(e, 28);
			uint32_t id = vio_get32(e + 4), cfg_len = vio_get32(e + 20);
			uint8_t nv = vio_get8(e + 25);
			ext = 28u + 20u * (uint64_t)nv + cfg_len;
			if (off + ext > size)
				return "rpmsg: vdev entry out of range";
			if (id == VIRTIO_ID_RPMSG && !r->vdev) {
				if (nv != 2)
					return "rpmsg: the rpmsg vdev entry does not have 2 vrings";
				r->vdev = off;
				r->nid[0] = vio_get32(e + 8);
				r->dfeatures = vio_get32(e + 12);
				ampl_cache_invalidate(e + 28, 40);
				for (unsigned v = 0; v < 2; v++) {
					uint8_t *vr = e + VDEV_VRING(v);
					r->da[v] = vio_get32(vr);
					r->align[v] = vio_get32(vr + 4);
					r->num[v] = vio_get32(vr + 8);
					r->nid[1 + v] = vio_get32(vr + 12);
				}
			}
		} else if (type == RPMSG_AMPL_RSC_TYPE && off <= size - 24u) {
			ampl_cache_invalidate(e, 24);
			if (vio_get32(e + 4) >= 16u && vio_get32(e + SESS_MAGIC) == RPMSG_AMPL_MAGIC && !r->sess) {
				ext = 24;
				r->sess = off;
				r->rsid = rsc_get32_acq(e + SESS_REMOTE_SID);
			}
		}
		if (off + ext > r->end)
			r->end = (uint32_t)(off + ext);
	}
	if (!r->vdev)
		return "rpmsg: no rpmsg vdev entry in the resource table";
	uint32_t next = r->end; /* <= size */
	for (unsigned v = 0; v < 2; v++) {
		uint32_t n = r->num[v], a = r->align[v], off;
		if (n == 0 || (n & (n - 1u)) || n > RPMSG_VQ_MAX_NUM)
			return "rpmsg: vring num not a power of two up to RPMSG_VQ_MAX_NUM";
		if (a < 4u || (a & (a - 1u)) || a > VRING_MAX_ALIGN)
			return "rpmsg: vring align not a power of two in 4..VRING_MAX_ALIGN";
		uint32_t sz = vring_size(n, a); /* < 2^21 with n and a checked */
		if (r->da[v] == FW_RSC_U32_ADDR_ANY)
			off = place(next, a, size); /* ours to place: after the table and the other vring */
		else
			off = r->da[v] - rdev->cfg->da_base;
		if (r->da[v] != FW_RSC_U32_ADDR_ANY && (r->da[v] < rdev->cfg->da_base || (off & 3u)))
			return "rpmsg: vring da outside the region or misaligned";
		if (off > size || sz > size - off)
			return "rpmsg: vring outside the region";
		if (off < r->end)
			return "rpmsg: vring overlaps the resource table";
		if (v == 1 && off < r->voff[0] + vring_size(r->num[0], r->align[0]) && r->voff[0] < off + sz)
			return "rpmsg: the vrings overlap";
		r->voff[v] = off;
		if (off + sz > next)
			next = off + sz;
	}
	r->pool = next > size - 16u ? size : vring_align_up(next, 16);
	return NULL;
}

/* Lock held, process context: take the link down if up, set up rings and buffers for the table *r, link up. */
static void handshake(struct rpmsg_device *rdev, const struct rsc *r, unsigned *key)
{
	uint8_t *t = rdev->shm, *vd = t + r->vdev;
	uint32_t size = rdev->cfg->shm_size;
	uint32_t per = r->pool < size ? (size - r->pool) / (rdev->bsize[0] + rdev->bsize[1]) : 0;
	rdev->force = false;
	rdev->peer_sid = r->rsid;
	if (per == 0) {
		rpmsg_note(rdev, "rpmsg: no room for buffers after the vrings");
		return;
	}
	rpmsg_link_down(rdev, key);
	/* Status 0 first: a remote still on the previous session stops before the rings change under it. */
	rsc_put8_rel(vd + VDEV_STATUS, VIRTIO_CONFIG_S_RESET);
	ampl_mb();
	for (unsigned v = 0; v < 2; v++) {
		vq_attach(&rdev->vq[v], t + r->voff[v], r->num[v], r->align[v], rdev->vq_map[v], true);
		vq_ring_reset(&rdev->vq[v]);
		rdev->vr_off[v] = r->voff[v];
		if (r->da[v] == FW_RSC_U32_ADDR_ANY)
			vio_put32(vd + VDEV_VRING(v), rdev->cfg->da_base + r->voff[v]);
		rdev->nbufs[v] = r->num[v] < per ? r->num[v] : per;
	}
	for (unsigned i = 0; i < 3; i++)
		rdev->notifyid[i] = r->nid[i];
	rdev->vdev_off = r->vdev;
	rdev->sess_off = r->sess;
	rdev->buf_off[0] = r->pool;
	rdev->buf_off[1] = r->pool + rdev->nbufs[0] * rdev->bsize[0];
	for (uint32_t i = 0; i < rdev->nbufs[0]; i++)
		(void)vq_add_avail(&rdev->vq[0], (uint16_t)i, da_of(rdev, rx_buf(rdev, i)), rdev->bsize[0],
				   VRING_DESC_F_WRITE);
	ampl_memset(rdev->txfree, 0, sizeof(rdev->txfree));
	for (uint32_t i = 0; i < rdev->nbufs[1]; i++)
		rdev->txfree[i >> 5] |= 1u << (i & 31u);
	vq_set_suppress(&rdev->vq[1], rdev->waiters == 0);
	uint32_t g = r->dfeatures & ((uint32_t)AMPL_RPMSG_NS << VIRTIO_RPMSG_F_NS);
	vio_put32(vd + VDEV_GFEATURES, g);
	ampl_cache_clean(vd, 28 + 40);
	rdev->ns = g != 0;
	if (r->sess) {
		uint8_t *ss = t + r->sess;
		uint32_t prev = vio_get32(ss + SESS_HOST_SID);
		uint32_t sid = (prev > rdev->my_sid ? prev : rdev->my_sid) + 1u;
		rdev->my_sid = sid ? sid : 1u;
		vio_put32(ss + SESS_HOST_ACK, r->rsid);
		ampl_cache_clean(ss + SESS_HOST_ACK, 4);
		rsc_put32_rel(ss + SESS_HOST_SID, rdev->my_sid);
	}
	/* hdr.len is 16 bits: a 65552-byte buffer still carries at most 65535 payload bytes. */
	rdev->tx_cap = rdev->bsize[1] - RPMSG_HDR_SIZE > 0xFFFFu ? 0xFFFFu : rdev->bsize[1] - RPMSG_HDR_SIZE;
	rdev->rx_cap = rdev->bsize[0] - RPMSG_HDR_SIZE > 0xFFFFu ? 0xFFFFu : rdev->bsize[0] - RPMSG_HDR_SIZE;
	/* Everything above (rings, buffers, features, session words) before DRIVER_OK. */
	ampl_mb();
	rsc_put8_rel(vd + VDEV_STATUS, VIRTIO_CONFIG_S_DRIVER_OK);
	rdev->kick_mask |= KICK_VDEV;
	rpmsg_link_up(rdev, key);
}

/*
 * Lock held, before a handshake over a table with the session entry: is the remote still on a previous host's
 * session? Then it may be in the middle of a pass and write a used entry of that session after we zeroed the
 * vrings, and the new session would see an index or an element of the old one (a broken vring, or a buffer
 * returned that the remote never took). The previous host acknowledged the remote's current session (host_ack ==
 * remote_sid): withdraw that (host_ack = 0, so the remote cannot come up on it again) and request a reset
 * (status NEEDS_RESET). The remote answers status 0 at the start of its next pass, with its link down, so it no
 * longer touches the rings, and kicks us. Returns true while we wait for that answer (or for a new remote
 * session: its table rewrite also clears the status).
 */
static bool remote_busy(struct rpmsg_device *rdev, const struct rsc *r)
{
	uint8_t *ss = rdev->shm + r->sess, *st = rdev->shm + r->vdev + VDEV_STATUS;
	if (rsc_get32_acq(ss + SESS_HOST_ACK) == r->rsid) {
		rsc_put32_rel(ss + SESS_HOST_ACK, 0);
		ampl_mb(); /* host_ack withdrawn before the request: the remote never sees the request alone */
		rsc_put8_rel(st, VIRTIO_CONFIG_S_NEEDS_RESET);
		for (unsigned i = 0; i < 3; i++)
			rdev->notifyid[i] = r->nid[i];
		rdev->kick_mask |= KICK_VDEV;
		return true;
	}
	return (rsc_get8_acq(st) & VIRTIO_CONFIG_S_NEEDS_RESET) != 0;
}

static void host_link(struct rpmsg_device *rdev, unsigned *key)
{
	if (rdev->lost) {
		/* Wait for a remote session other than the one we saw (a legacy remote: until re-init). */
		rdev->lost = false;
		rdev->force = false;
		if (rdev->sess_off)
			rdev->peer_sid = rsc_get32_acq(rdev->shm + rdev->sess_off + SESS_REMOTE_SID);
		rpmsg_link_down(rdev, key);
	}
	if (RPMSG_UP(rdev)) {
		if (!rdev->sess_off)
			return;
		uint32_t rsid = rsc_get32_acq(rdev->shm + rdev->sess_off + SESS_REMOTE_SID);
		if (rsid == rdev->peer_sid)
			return;
		rpmsg_link_down(rdev, key); /* the remote restarted (or closed: rsid 0) */
	}
	struct rsc r;
	const char *err = parse(rdev, &r);
	if (err) {
		if (err != table_absent && err != rdev->bad_table)
			rpmsg_note(rdev, err);
		rdev->bad_table = err;
		return;
	}
	rdev->bad_table = NULL;
	if (r.sess) {
		if (r.rsid == 0) {
			rdev->peer_sid = 0; /* closed: any new remote session is new to us */
			return;
		}
		if (!rdev->force && r.rsid == rdev->peer_sid)
			return;
		if (remote_busy(rdev, &r))
			return;
	} else if (!rdev->force) {
		return;
	}
	handshake(rdev, &r, key);
}

static const char err_used_len0[] = "rpmsg: bad used.len in vring0";
static const char err_used_len1[] = "rpmsg: bad used.len in vring1";

static void reclaim(struct rpmsg_device *rdev)
{
	for (;;) {
		uint32_t len;
		bool was = rdev->vq[1].broken;
		int id = vq_get_used(&rdev->vq[1], &len);
		if (id == -ENODATA)
			return;
		if (id >= 0) {
			if (len > rdev->bsize[1])
				rpmsg_note(rdev, err_used_len1);
			rdev->txfree[(uint32_t)id >> 5] |= 1u << ((uint32_t)id & 31u);
			continue;
		}
		if (!was)
			rpmsg_note(rdev, RPMSG_ERR_VQ1);
		if (id == -EIO)
			return;
	}
}

static int host_get_tx(struct rpmsg_device *rdev, struct rpmsg_buf_slot *b, uint32_t need)
{
	if (need > rdev->tx_cap)
		return RPMSG_ERR_BUFF_SIZE;
	reclaim(rdev);
	for (uint32_t w = 0; w < VQ_MAP_WORDS(RPMSG_VQ_MAX_NUM); w++) {
		if (!rdev->txfree[w])
			continue;
		uint32_t i = w * 32u + (uint32_t)__builtin_ctz(rdev->txfree[w]);
		rdev->txfree[w] &= rdev->txfree[w] - 1u;
		b->buf = rdev->shm + rdev->buf_off[1] + i * rdev->bsize[1];
		b->cap = rdev->tx_cap;
		b->len = rdev->bsize[1];
		b->desc = (uint16_t)i;
		return 0;
	}
	return RPMSG_ERR_NO_BUFF;
}

static void host_untake_tx(struct rpmsg_device *rdev, const struct rpmsg_buf_slot *b)
{
	rdev->txfree[b->desc >> 5] |= 1u << (b->desc & 31u);
}

static void host_release_tx(struct rpmsg_device *rdev, struct rpmsg_buf_slot *s)
{
	host_untake_tx(rdev, s);
	s->state = SLOT_FREE;
}

static void host_put_tx(struct rpmsg_device *rdev, const struct rpmsg_buf_slot *b, uint32_t len)
{
	(void)len; /* desc.len is the whole buffer, as OpenAMP: the remote trusts hdr.len */
	(void)vq_add_avail(&rdev->vq[1], b->desc, da_of(rdev, b->buf), rdev->bsize[1], 0);
	if (vq_must_notify(&rdev->vq[1]))
		rdev->kick_mask |= KICK_VQ1;
}

static void host_put_rx(struct rpmsg_device *rdev, uint16_t desc, uint32_t len)
{
	(void)len; /* the whole buffer again, as Linux (OpenAMP hosts post the used.len they got) */
	(void)vq_add_avail(&rdev->vq[0], desc, da_of(rdev, rx_buf(rdev, desc)), rdev->bsize[0], VRING_DESC_F_WRITE);
	if (vq_must_notify(&rdev->vq[0]))
		rdev->kick_mask |= KICK_VQ0;
}

static void host_arm(struct rpmsg_device *rdev, bool want)
{
	vq_set_suppress(&rdev->vq[1], !want);
}

static void host_process(struct rpmsg_device *rdev, unsigned *key)
{
	host_link(rdev, key);
	for (uint32_t n = rdev->nbufs[0]; n && RPMSG_UP(rdev); n--) {
		uint32_t len;
		bool was = rdev->vq[0].broken;
		int id = vq_get_used(&rdev->vq[0], &len);
		if (id == -ENODATA)
			break;
		if (id >= 0 && (len < RPMSG_HDR_SIZE || len > rdev->bsize[0])) {
			rpmsg_note(rdev, err_used_len0);
			host_put_rx(rdev, (uint16_t)id, rdev->bsize[0]);
			continue;
		}
		if (id >= 0) {
			/* hdr.len is checked against used.len - 16 there */
			rpmsg_deliver(rdev, (uint16_t)id, rx_buf(rdev, (uint32_t)id), len, key);
			continue;
		}
		if (!was)
			rpmsg_note(rdev, RPMSG_ERR_VQ0);
		if (id == -EIO)
			break;
	}
	rpmsg_after_rx(rdev);
}

static const struct rpmsg_virtio_ops host_ops = {
	.ns_table = rpmsg_ns_table,
	.ns_rx = rpmsg_ns_rx,
	.process = host_process,
	.get_tx = host_get_tx,
	.untake_tx = host_untake_tx,
	.release_tx = host_release_tx,
	.put_tx = host_put_tx,
	.put_rx = host_put_rx,
	.arm = host_arm,
};

static uint32_t buf_size(uint32_t v)
{
	return ((v ? v : RPMSG_BUFFER_SIZE_DEFAULT) + 15u) & ~15u;
}

int rpmsg_virtio_init_host(struct rpmsg_device *rdev, const struct rpmsg_virtio_config *cfg)
{
	/* Buffers: at least a name-service message (56 bytes), at most 65535 payload bytes (hdr.len). */
	if (cfg && (cfg->h2r_buf_size > 65551u || cfg->r2h_buf_size > 65551u ||
		    (cfg->h2r_buf_size && cfg->h2r_buf_size < 56u) || (cfg->r2h_buf_size && cfg->r2h_buf_size < 56u) ||
		    cfg->shm_size < 64u))
		return RPMSG_ERR_PARAM;
	int rc = rpmsg_common_init(rdev, cfg, RPMSG_HOST, &host_ops);
	if (rc)
		return rc;
	rdev->bsize[0] = buf_size(cfg->r2h_buf_size);
	rdev->bsize[1] = buf_size(cfg->h2r_buf_size);
	rdev->force = true;
	rpmsg_virtio_notified(rdev);
	return RPMSG_SUCCESS;
}

int rpmsg_virtio_init(struct rpmsg_device *rdev, const struct rpmsg_virtio_config *cfg)
{
	if (!cfg)
		return RPMSG_ERR_PARAM;
	return cfg->role == RPMSG_HOST ? rpmsg_virtio_init_host(rdev, cfg) : rpmsg_virtio_init_remote(rdev, cfg);
}
