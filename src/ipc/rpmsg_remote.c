/*
 * RPMsg remote (virtio device role): writes the resource table, follows the host's handshake, takes the host's
 * empty buffers from vring0 for its TX and its messages from vring1 (include/amplink/ipc/rpmsg.h, docs/rpmsg.md).
 *
 * Link state, checked at every pass of rpmsg_virtio_notified() and (cheaply) before every TX buffer is taken:
 *   up   when the status byte has DRIVER_OK and the host acknowledged our remote_sid (host_ack == my_sid), or the
 *        host never writes the session words (host_sid == 0: a legacy Linux / OpenAMP host; no restart detection).
 *        The words are read seqlock-style (host_sid, status, host_ack, host_sid again; unequal: the host is
 *        rewriting them and notifies when done), because the host clears DRIVER_OK first when it starts over and
 *        writes host_ack and host_sid before DRIVER_OK.
 *   down when DRIVER_OK drops or host_sid changes (the host restarted): unbind, and up again at once if the new
 *        session is already acknowledged, with fresh ring shadows (the host zeroed the rings).
 */
#include "rpmsg_internal.h"

#define VDEV(rdev) ((rdev)->shm + RPMSG_RSC_VDEV_OFF)
#define SESS(rdev) ((rdev)->shm + RPMSG_RSC_SESSION_OFF)

/*
 * The table this remote writes (words 1..28; ver is written apart, first 0 then 1), as 16-bit values (half the
 * flash of words). Patched: vring da, align, num; the session's magic (above 16 bits) and the host's words.
 */
static const uint16_t table_words[] = {
	AMPL_RPMSG_SESSIONS ? RPMSG_RSC_NUM : 1u, 0, 0, /* num, reserved */
	RPMSG_RSC_VDEV_OFF, AMPL_RPMSG_SESSIONS ? RPMSG_RSC_SESSION_OFF : 0, /* offsets */
	/* vdev */ RSC_VDEV, VIRTIO_ID_RPMSG, RPMSG_NOTIFYID_VDEV, (uint32_t)AMPL_RPMSG_NS << VIRTIO_RPMSG_F_NS, 0, 0,
	2u << 8, /* status 0, num_of_vrings 2, reserved 0 0 */
	/* vring0 */ 0, 0, 0, RPMSG_NOTIFYID_VRING0, 0,
	/* vring1 */ 0, 0, 0, RPMSG_NOTIFYID_VRING1, 0,
#if AMPL_RPMSG_SESSIONS
	/* session */ RPMSG_AMPL_RSC_TYPE, 16, 0 /* magic */, 0, 0, 0,
#else
	/* not listed */ 0, 0, 0, 0, 0, 0,
#endif
};
_Static_assert(sizeof(table_words) == (RPMSG_RSC_TABLE_SIZE - 4) / 2, "table words");

static uint8_t *win(struct rpmsg_device *rdev, uint32_t off)
{
	return rdev->shm + rdev->win_off + off;
}

/* The payload room of a buffer of @len bytes (>= 16, header included), as far as a 16-bit hdr.len reaches. */
static uint32_t payload_cap(uint32_t len)
{
	len -= RPMSG_HDR_SIZE;
	return len > 0xFFFFu ? 0xFFFFu : len;
}

/* Is the host session we are linked to still there (a cheap re-check before TX, and before blaming the host)? */
static bool session_ok(struct rpmsg_device *rdev)
{
	return (rsc_get8_acq(VDEV(rdev) + VDEV_STATUS) & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       (!AMPL_RPMSG_SESSIONS || rsc_get32_acq(SESS(rdev) + SESS_HOST_SID) == rdev->peer_sid);
}

static int remote_get_tx(struct rpmsg_device *rdev, struct rpmsg_buf_slot *b, uint32_t need)
{
	if (!session_ok(rdev))
		return RPMSG_ERR_DEV_STATE;
	/* A reserved buffer released unsent first (zero-copy only). */
	for (unsigned i = 0; AMPL_RPMSG_ZERO_COPY && i < RPMSG_BUF_SLOTS; i++) {
		struct rpmsg_buf_slot *s = &rdev->slots[i];
		if (s->state == SLOT_SPARE_TX) {
			if (s->cap < need)
				return RPMSG_ERR_BUFF_SIZE;
			*b = *s;
			s->state = SLOT_FREE;
			return 0;
		}
	}
	/* Bounded: each round consumes one avail entry, and avail.idx is at most num ahead. */
	for (;;) {
		uint32_t off, len;
		bool was = rdev->vq[0].broken;
		int id = vq_get_avail(&rdev->vq[0], &off, &len);
		if (id == -ENODATA) /* more than the buffers hold as last seen fails at once, free buffer or not */
			return rdev->tx_cap && need > rdev->tx_cap ? RPMSG_ERR_BUFF_SIZE : RPMSG_ERR_NO_BUFF;
		if (id >= 0 && len >= RPMSG_HDR_SIZE) {
			uint32_t cap = payload_cap(len);
			rdev->tx_cap = cap;
			if (cap < need) {
				vq_unget_avail(&rdev->vq[0], (uint16_t)id);
				return RPMSG_ERR_BUFF_SIZE;
			}
			b->buf = win(rdev, off);
			b->cap = cap;
			b->len = len;
			b->desc = (uint16_t)id;
			return 0;
		}
		/* A buffer shorter than a header stays held: never used, never returned. */
		if (!was)
			rpmsg_note(rdev, RPMSG_ERR_VQ0);
		if (id == -EIO)
			return RPMSG_ERR_NO_BUFF;
	}
}

static void remote_untake_tx(struct rpmsg_device *rdev, const struct rpmsg_buf_slot *b)
{
	vq_unget_avail(&rdev->vq[0], b->desc);
}

#if AMPL_RPMSG_ZERO_COPY
static void remote_release_tx(struct rpmsg_device *rdev, struct rpmsg_buf_slot *s)
{
	(void)rdev;
	s->state = SLOT_SPARE_TX; /* taken from avail: it cannot go back there; the next send uses it */
}
#endif

/*
 * used.len is the buffer's whole length (desc.len), in both vrings, as OpenAMP remotes write it, rather than the
 * bytes written: an OpenAMP host takes it as the size of the buffer it gets back. Its TX buffer's payload room is
 * used.len - 16 (a 0 there becomes a copy of length -16: a crash), and it posts an RX buffer again with desc.len =
 * the used.len it got (16 + payload would shrink its buffers to the last message each carried). Linux checks only
 * that used.len is at most its buffer size and covers 16 + hdr.len.
 */
static void remote_put_tx(struct rpmsg_device *rdev, const struct rpmsg_buf_slot *b, uint32_t len)
{
	(void)len;
	(void)vq_add_used(&rdev->vq[0], b->desc, b->len);
	if (vq_must_notify(&rdev->vq[0]))
		rdev->kick_mask |= KICK_VQ0;
}

/* Inside a receive pass, used.idx is published once at its end (remote_process(), RPMSG_RX_BATCH), or once half
 * the ring waits: a pass that keeps finding messages must not keep every host buffer (the host's sends do not
 * wait for one); outside, at once. */
static void remote_put_rx(struct rpmsg_device *rdev, uint16_t desc, uint32_t len)
{
	struct virtqueue *vq = &rdev->vq[1];
	bool in_pass = RPMSG_RX_BATCH && vq->defer;
	(void)vq_add_used(vq, desc, len);
	if (in_pass && (uint16_t)(vq->next_used - vq->pub_used) >= vq->num / 2u) {
		in_pass = false; /* this batch ends here, with its notification check; the next one begins */
		(void)vq_publish_used(vq);
		vq_defer_used(vq);
	}
	if (!in_pass && vq_must_notify(vq))
		rdev->kick_mask |= KICK_VQ1;
}

static void remote_arm(struct rpmsg_device *rdev, bool want)
{
	vq_set_suppress(&rdev->vq[0], !want);
}

/*
 * Link up: attach vring @i afresh. The host zeroed both vrings for this session: drop our cached lines of them
 * (clean, since we clean every write), or the first partial-line write here (used.flags, used.idx) would write back
 * a previous session's used.idx and entries over the host's zeroes. Out of line, so that the loop over both vrings
 * stays one call.
 */
__attribute__((noinline)) static void attach_vring(struct rpmsg_device *rdev, unsigned i)
{
	ampl_cache_invalidate(rdev->shm + rdev->vr_off[i], vring_size(rdev->vr_num, rdev->vr_align));
	vq_attach(&rdev->vq[i], rdev->shm + rdev->vr_off[i], rdev->vr_num, rdev->vr_align, rdev->vq_map[i], false);
	vq_set_window(&rdev->vq[i], rdev->cfg->da_base + rdev->win_off, rdev->cfg->shm_size - rdev->win_off);
}

static void remote_link(struct rpmsg_device *rdev, unsigned *key)
{
	uint8_t *st_p = VDEV(rdev) + VDEV_STATUS, *sid_p = SESS(rdev) + SESS_HOST_SID;
	uint32_t sid = 0, ack = 0; /* without sessions: as a legacy host's, which never writes them */
	if (AMPL_RPMSG_SESSIONS)
		sid = rsc_get32_acq(sid_p);
	uint8_t st = rsc_get8_acq(st_p);
	if (AMPL_RPMSG_SESSIONS) {
		ack = rsc_get32_acq(SESS(rdev) + SESS_HOST_ACK);
		if (rsc_get32_acq(sid_p) != sid)
			return; /* the host is rewriting its words: its notification follows */
	}
	if (rdev->lost) {
		rdev->lost = false;
		rdev->blocked = true;
		rdev->lost_sid = sid;
	}
	if (st & VIRTIO_CONFIG_S_NEEDS_RESET) {
		/* As OpenAMP: acknowledge the reset request. An amplink host waits for it before it zeroes the vrings:
		 * it is written under the lock, at the start of a pass, and the link goes down below, so no write to
		 * the rings of the old session follows it. Tell the host. */
		rsc_put8_rel(st_p, 0);
		rdev->kick_mask |= KICK_VDEV;
		st = 0;
	}
	if (!(st & VIRTIO_CONFIG_S_DRIVER_OK))
		rdev->blocked = false; /* a legacy host that went away came back through status 0 */
	bool ok = (st & VIRTIO_CONFIG_S_DRIVER_OK) && (sid == 0 || ack == rdev->my_sid) &&
		  !(rdev->blocked && sid == rdev->lost_sid);
	if (!ok || sid != rdev->peer_sid)
		rpmsg_link_down(rdev, key);
	if (ok && !RPMSG_UP(rdev)) {
		for (unsigned i = 0; i < 2; i++)
			attach_vring(rdev, i);
		rdev->ns = AMPL_RPMSG_NS && (rsc_get32_acq(VDEV(rdev) + VDEV_GFEATURES) >> VIRTIO_RPMSG_F_NS & 1u);
		vq_set_suppress(&rdev->vq[0], rdev->waiters == 0);
		rdev->peer_sid = sid;
		rdev->rx_cap = 0;
		/* The host posted its RX buffers before DRIVER_OK: learn the TX capacity from the first one now, so
		 * that rpmsg_get_tx_buffer_size() answers from the link up on (OpenAMP's remote knows it once the
		 * host is ready). The buffer stays available; entries the virtqueue refused, or shorter than a
		 * header, are reported and kept as a send would. */
		struct rpmsg_buf_slot b;
		if (!remote_get_tx(rdev, &b, 0))
			remote_untake_tx(rdev, &b);
		rpmsg_link_up(rdev, key);
	}
}

static void remote_process(struct rpmsg_device *rdev, unsigned *key)
{
	remote_link(rdev, key);
	/* The buffers this pass gives back are published once, at its end (RPMSG_RX_BATCH). */
	if (RPMSG_RX_BATCH)
		vq_defer_used(&rdev->vq[1]);
	for (uint32_t n = rdev->vr_num; n && RPMSG_UP(rdev); n--) {
		uint32_t off, len;
		bool was = rdev->vq[1].broken;
		int id = vq_get_avail(&rdev->vq[1], &off, &len);
		if (id == -ENODATA)
			break;
		if (id >= 0 && len >= RPMSG_HDR_SIZE) {
			rdev->rx_cap = payload_cap(len);
			rpmsg_deliver(rdev, (uint16_t)id, win(rdev, off), len, key);
			continue;
		}
		if (id >= 0)
			(void)vq_add_used(&rdev->vq[1], (uint16_t)id, len); /* shorter than a header: back, unread */
		/* A host that restarted under us explains it: the next pass follows the new session instead. */
		if (!was && session_ok(rdev))
			rpmsg_note(rdev, RPMSG_ERR_VQ1);
		if (id == -EIO)
			break;
	}
	if (RPMSG_RX_BATCH && vq_publish_used(&rdev->vq[1]) && vq_must_notify(&rdev->vq[1]))
		rdev->kick_mask |= KICK_VQ1;
	rpmsg_after_rx(rdev);
}

#ifndef RPMSG_REMOTE_NS_RX
/*
 * The remote binds its endpoints to the host's name-service announcements (OpenAMP hosts announce; Linux never
 * does, and amplink's host only with host_announce). -DRPMSG_REMOTE_NS_RX=0 leaves that code out of a remote
 * image: messages to address 53 are then dropped, and unbound endpoints bind from the first message received.
 * Without the name service (AMPL_RPMSG_NS 0) it is left out too.
 */
#define RPMSG_REMOTE_NS_RX AMPL_RPMSG_NS
#endif

static const struct rpmsg_virtio_ops remote_ops = {
#if RPMSG_REMOTE_NS_RX
	.ns_rx = rpmsg_ns_rx,
#endif
	.process = remote_process,
	.get_tx = remote_get_tx,
#if AMPL_RPMSG_ZERO_COPY
	.untake_tx = remote_untake_tx,
	.release_tx = remote_release_tx,
#endif
	.put_tx = remote_put_tx,
	.put_rx = remote_put_rx,
	.arm = remote_arm,
};

int rpmsg_virtio_init_remote(struct rpmsg_device *rdev, const struct rpmsg_virtio_config *cfg)
{
	int rc = rpmsg_common_init(rdev, cfg, RPMSG_REMOTE, &remote_ops);
	if (rc)
		return rc;
	uint32_t num = cfg->vring_num ? cfg->vring_num : RPMSG_VRING_NUM_DEFAULT;
	uint32_t align = cfg->vring_align ? cfg->vring_align : RPMSG_VRING_ALIGN_DEFAULT;
	uint32_t sz = vring_size(num, align);
	uint32_t v0 = rpmsg_vring_off(num, align, 0), v1 = rpmsg_vring_off(num, align, 1);
	/* Room for a buffer per direction after the vrings (the host carves them). With num and align within their
	 * limits every term stays below 2^21, so the sums cannot wrap. */
	if (num > RPMSG_VQ_MAX_NUM || (num & (num - 1u)) || align < 4u || (align & (align - 1u)) ||
	    align > VRING_MAX_ALIGN || v1 + sz + 4u * RPMSG_HDR_SIZE > cfg->shm_size) {
		rdev->ops = NULL;
		return RPMSG_ERR_PARAM;
	}
	rdev->vr_off[0] = v0;
	rdev->vr_off[1] = v1;
	rdev->vr_num = num;
	rdev->vr_align = align;
	rdev->win_off = v1 + sz;
	rdev->notifyid[1] = RPMSG_NOTIFYID_VRING0;
	rdev->notifyid[2] = RPMSG_NOTIFYID_VRING1;

	uint8_t *t = rdev->shm, *ss = SESS(rdev);
	/* A previous table of ours: keep the host's words and number the new session past both ids. */
	ampl_cache_invalidate(t, RPMSG_RSC_TABLE_SIZE);
	bool ours = AMPL_RPMSG_SESSIONS && vio_get32(ss) == RPMSG_AMPL_RSC_TYPE &&
		    vio_get32(ss + SESS_MAGIC) == RPMSG_AMPL_MAGIC;
	uint32_t hsid = ours ? vio_get32(ss + SESS_HOST_SID) : 0, hack = ours ? vio_get32(ss + SESS_HOST_ACK) : 0;
	uint32_t rsid = ours ? vio_get32(ss + SESS_REMOTE_SID) : 0;
	rsid = (rsid > hack ? rsid : hack) + 1u;

	/* The words with their final values, so that each shared word is stored once: a host that read ver = 1 just
	 * before we clear it, and reads on, sees the previous or the new value of a field, never a transient 0
	 * (which it would report as a malformed table). */
	uint32_t w[AMPL_ARRAY_SIZE(table_words)];
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(w); i++)
		w[i] = table_words[i];
	for (unsigned i = 0; i < 2; i++) {
		uint32_t *v = &w[(RPMSG_RSC_VDEV_OFF + VDEV_VRING(i)) / 4u - 1u];
		v[0] = cfg->da_base + rdev->vr_off[i];
		v[1] = align;
		v[2] = num;
	}
	if (AMPL_RPMSG_SESSIONS)
		w[(RPMSG_RSC_SESSION_OFF + SESS_MAGIC) / 4u - 1u] = RPMSG_AMPL_MAGIC;
	w[(RPMSG_RSC_SESSION_OFF + SESS_HOST_SID) / 4u - 1u] = hsid;
	w[(RPMSG_RSC_SESSION_OFF + SESS_HOST_ACK) / 4u - 1u] = hack;
	/* ver = 0 while the table is rewritten: a host reading it meanwhile finds "no table yet". */
	rsc_put32_rel(t, 0);
	ampl_mb();
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(w); i++)
		vio_put32(t + 4 + 4 * i, w[i]);
	ampl_cache_clean(t, RPMSG_RSC_TABLE_SIZE);
	rsc_put32_rel(t, RSC_TABLE_VERSION);
	/* The new session id last: the host acts on it, and everything above is visible before it. */
	if (AMPL_RPMSG_SESSIONS) {
		rdev->my_sid = rsid ? rsid : 1u;
		rsc_put32_rel(ss + SESS_REMOTE_SID, rdev->my_sid);
	}
	cfg->notify(cfg->notify_priv, RPMSG_NOTIFYID_VDEV); /* the table is there: ring the host (no device state) */
	return RPMSG_SUCCESS;
}
