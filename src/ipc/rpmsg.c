/*
 * RPMsg core, both roles: endpoints and addresses, the OpenAMP send / zero-copy API, delivery, the name service,
 * blocking waits and link-down handling (contracts in include/amplink/ipc/rpmsg.h, wire format in docs/rpmsg.md).
 * The role-specific ring work lives in rpmsg_host.c (virtio driver) and rpmsg_remote.c (virtio device). Written
 * for size: a remote links this file and rpmsg_remote.c only, and only the functions it calls (--gc-sections):
 * the non-blocking sends do not pull in the blocking wait, nor the copy sends the zero-copy calls.
 *
 * Concurrency:
 *   - rdev->lock (a spinlock, short sections) covers all the device's state: the endpoint list, the address
 *     bitmap, the buffer slots, the name-service table, the stats, the waiters and both virtqueues. User
 *     callbacks, the notify hook, the futex wake and the error callback always run with it released:
 *     rpmsg_unlock() sends the kicks, wakes and reports noted under it. No atomic read-modify-write is needed.
 *   - rpmsg_virtio_notified() is serialised per device by rx_active / rx_pending: the context that owns rx_active
 *     loops while rx_pending was raised, so a call arriving meanwhile (another interrupt, a poll, a nested call from
 *     a callback) costs nothing and loses nothing. Every callback runs inside it: one at a time per device, and
 *     the link changes only there (peer_lost and init go through it too).
 *   - rdev->running names the endpoint whose callback runs. rpmsg_destroy_ept() from another context waits until
 *     it changes (sleeping on rdev->event, bumped when a callback ends while someone waits); from inside that
 *     callback (cb_ept, thread-local on hosted builds; on a single-core firmware a callback runs to completion
 *     before any thread resumes, so a plain variable is exact there) it does not wait.
 *   - Blocking senders sleep on rdev->event, which the receive pass bumps while anyone waits (and a link change
 *     always bumps). While someone waits the role clears its suppression flag on the vring that returns TX
 *     buffers, so the peer kicks when it returns one; the sender looks again after clearing (no lost wake-up).
 */
#include "rpmsg_internal.h"

#ifndef AMPL_THREAD_LOCAL
#if defined(__STDC_HOSTED__) && __STDC_HOSTED__
#define AMPL_THREAD_LOCAL _Thread_local
#else
#define AMPL_THREAD_LOCAL
#endif
#endif

/*
 * The endpoint whose callback runs in this context; CB_DEVICE inside rpmsg_virtio_notified() outside endpoint
 * callbacks; NULL elsewhere. Blocking calls do not wait when it is set (they would wait for the very pass that
 * runs them), and rpmsg_destroy_ept() does not wait for the callback it is called from.
 */
static AMPL_THREAD_LOCAL struct rpmsg_endpoint *cb_ept;
#define CB_DEVICE ((struct rpmsg_endpoint *)(void *)&cb_ept)

#if RPMSG_RX_LINGER_US
/*
 * This context has sent outside a callback (on any device). A pass it runs does not linger: an application thread
 * that sends, then polls for the answer, would only delay its next request. A doorbell thread that sends only from
 * callbacks (an echo) lingers.
 */
static AMPL_THREAD_LOCAL bool app_sender;
#define NOTE_APP_TX(rdev) ((void)(rdev), (void)(cb_ept ? 0 : (app_sender = true)))
#else
#define NOTE_APP_TX(rdev) ((void)(rdev))
#endif

/* ---- lock, kicks, errors ---- */

unsigned rpmsg_lock(struct rpmsg_device *rdev)
{
	return ampl_spin_lock(&rdev->lock);
}

void rpmsg_unlock(struct rpmsg_device *rdev, unsigned key)
{
	uint32_t k = rdev->kick_mask;
	const char *m = rdev->err_msg;
	if (!k && !m) {
		ampl_spin_unlock(&rdev->lock, key); /* the common case: nothing to send, wake or report */
		return;
	}
	/* The notify ids as of this lock section: a handshake in another context may rewrite them once it is dropped. */
	uint32_t ids[3] = { rdev->notifyid[0], rdev->notifyid[1], rdev->notifyid[2] };
	rdev->kick_mask = 0;
	rdev->err_msg = NULL;
	ampl_spin_unlock(&rdev->lock, key);
	for (unsigned i = 0; i < 3; i++)
		if (k >> i & 1u)
			rdev->cfg->notify(rdev->cfg->notify_priv, ids[i]);
	if (k & KICK_WAKE)
		ampl_os_wake(&rdev->event);
	if (m && rdev->cfg->error)
		rdev->cfg->error(rdev, m);
}

void rpmsg_note(struct rpmsg_device *rdev, const char *msg)
{
	rpmsg_count(&rdev->stats.errors);
	rdev->err_msg = msg;
}

void rpmsg_wake(struct rpmsg_device *rdev)
{
	atomic_store_explicit(&rdev->event, atomic_load_explicit(&rdev->event, memory_order_relaxed) + 1u,
			      memory_order_release);
	rdev->kick_mask |= KICK_WAKE;
}

/* ---- small helpers ---- */

/* Names compare up to the first NUL within RPMSG_NAME_SIZE bytes. */
static bool name_eq(const char *a, const char *b)
{
	for (unsigned i = 0; i < RPMSG_NAME_SIZE && (a[i] || b[i]); i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* Copy up to the NUL (at most RPMSG_NAME_SIZE - 1 characters) and zero-fill: no stale bytes after the NUL. */
static void name_copy(char *d, const char *s)
{
	bool end = false;
	for (unsigned i = 0; i < RPMSG_NAME_SIZE; i++) {
		end = end || !s[i] || i == RPMSG_NAME_SIZE - 1;
		d[i] = end ? 0 : s[i];
	}
}

/* A message handed to an endpoint's callback. */
struct rx_msg {
	void *p;
	uint32_t len;
	uint32_t src;
};

/* Lock held: run @ept's message callback with @m, or (@m NULL) its ns_unbind_cb, with the lock dropped. Four
 * arguments: all in registers. */
static void call(struct rpmsg_device *rdev, struct rpmsg_endpoint *ept, unsigned *key, const struct rx_msg *m)
{
	rpmsg_ept_cb cb = ept->cb;
	rpmsg_ns_unbind_cb ucb = ept->ns_unbind_cb;
	void *priv = ept->priv;
	rdev->running = ept;
	rpmsg_unlock(rdev, *key);
	struct rpmsg_endpoint *outer = cb_ept;
	cb_ept = ept;
	if (m)
		cb(ept, m->p, m->len, m->src, priv);
	else if ((AMPL_RPMSG_UNBIND || AMPL_RPMSG_NS) && ucb)
		ucb(ept);
	cb_ept = outer;
	*key = rpmsg_lock(rdev);
	rdev->running = NULL;
	if (rdev->destroying) {
		rdev->destroying = false;
		rpmsg_wake(rdev);
	}
}

/* Lock held: the slot of state @state whose payload is @p (or, @p NULL, a slot of that state). */
static struct rpmsg_buf_slot *slot_find(struct rpmsg_device *rdev, const void *p, uint8_t state)
{
	for (unsigned i = 0; i < RPMSG_BUF_SLOTS; i++) {
		struct rpmsg_buf_slot *s = &rdev->slots[i];
		if (s->state == state && (!p || s->buf + RPMSG_HDR_SIZE == (const uint8_t *)p))
			return s;
	}
	return NULL;
}

/* ---- device ---- */

int rpmsg_common_init(struct rpmsg_device *rdev, const struct rpmsg_virtio_config *cfg, int role,
		      const struct rpmsg_virtio_ops *ops)
{
	if (!rdev || !cfg || cfg->role != role || !cfg->notify || !cfg->shm || ((uintptr_t)cfg->shm & 3u) ||
	    (cfg->da_base & 3u))
		return RPMSG_ERR_PARAM;
	ampl_memset(rdev, 0, sizeof(*rdev));
	atomic_flag_clear(&rdev->lock);
	rdev->cfg = cfg;
	rdev->ops = ops;
	rdev->shm = cfg->shm;
	rdev->timeout_ms = cfg->tx_timeout_ms ? cfg->tx_timeout_ms : RPMSG_TIMEOUT_MS_DEFAULT;
	return RPMSG_SUCCESS;
}

/* The vring this role receives on: the host's messages come back used on vring0, the remote's arrive on vring1. */
static struct virtqueue *rx_vq(struct rpmsg_device *rdev)
{
	return &rdev->vq[rdev->cfg->role != RPMSG_HOST];
}

#if RPMSG_RX_LINGER_US
/* rx_pending: written under the lock, also read by a lingering pass without it. */
#define SET_PENDING(rdev, v) __atomic_store_n(&(rdev)->rx_pending, (v), __ATOMIC_RELAXED)
#define GET_PENDING(rdev) __atomic_load_n(&(rdev)->rx_pending, __ATOMIC_RELAXED)

/* How far the pass has read @vq (either shadow index moves when it takes or returns an entry). */
static uint32_t vq_progress(const struct virtqueue *vq)
{
	return (uint32_t)vq->next_avail << 16 | vq->next_used;
}

/*
 * Lock held, in the pass, flag raised: the pass read something, so more may follow. Watch @vq, with the lock
 * dropped (senders and releases go on), for up to RPMSG_RX_LINGER_US or until another context asks for a pass.
 * Returns with the lock held; true if the pass should run again with the flag still raised. Only this pass changes
 * @vq's read side and the link, so looking at it without the lock is safe.
 */
static bool linger(struct rpmsg_device *rdev, struct virtqueue *vq, unsigned *key)
{
	rpmsg_unlock(rdev, *key);
	uint64_t end = ampl_os_uptime_us() + RPMSG_RX_LINGER_US;
	bool more;
	for (unsigned i = 1; !(more = vq_pending(vq) || GET_PENDING(rdev)); i++) {
		ampl_cpu_relax();
		if (!(i & 15u) && ampl_os_uptime_us() >= end)
			break;
	}
	*key = rpmsg_lock(rdev);
	return more;
}
#else
#define SET_PENDING(rdev, v) ((rdev)->rx_pending = (v))
#endif

void rpmsg_virtio_notified(struct rpmsg_device *rdev)
{
	if (!rdev || !rdev->ops)
		return;
	unsigned key = rpmsg_lock(rdev);
	SET_PENDING(rdev, true);
	if (!rdev->rx_active) {
		struct rpmsg_endpoint *outer = cb_ept;
		cb_ept = outer ? outer : CB_DEVICE;
		rdev->rx_active = true;
		while (rdev->rx_pending) {
			SET_PENDING(rdev, false);
			/* The peer need not kick while this pass reads: raise our flag on the vring we read. */
			struct virtqueue *vq = RPMSG_UP(rdev) ? rx_vq(rdev) : NULL;
			if (vq)
				vq_set_suppress(vq, true);
#if RPMSG_RX_LINGER_US
			uint32_t seen = vq ? vq_progress(vq) : 0;
#endif
			rdev->ops->process(rdev, &key);
			if (vq) {
#if RPMSG_RX_LINGER_US
				/* It read something, so more may be on its way: keep the flag up and watch a little
				 * longer. */
				if (!app_sender && RPMSG_UP(rdev) && !vq->broken && vq_progress(vq) != seen &&
				    linger(rdev, vq, &key)) {
					SET_PENDING(rdev, true);
					continue;
				}
				/* Polled: the flag stays up until the next poll, which reads what came meanwhile. */
				if (rdev->cfg->polled && RPMSG_UP(rdev) && !vq->broken)
					continue;
#endif
				/* Lower it, then look again: a message published before it was lowered came without a
				 * kick. Lowered even if the link went down meanwhile (0 is also what a reset ring holds;
				 * a pass more then finds the link down and reads nothing). */
				vq_set_suppress(vq, false);
				if (!vq->broken && vq_pending(vq))
					SET_PENDING(rdev, true);
			}
		}
		rdev->rx_active = false;
		cb_ept = outer;
	}
	rpmsg_unlock(rdev, key);
}

void rpmsg_virtio_poll(struct rpmsg_device *rdev)
{
	rpmsg_virtio_notified(rdev);
}

void rpmsg_virtio_peer_lost(struct rpmsg_device *rdev)
{
	if (!rdev || !rdev->ops)
		return;
	unsigned key = rpmsg_lock(rdev);
	rdev->lost = true;
	rpmsg_unlock(rdev, key);
	rpmsg_virtio_notified(rdev);
}

bool rpmsg_virtio_link_up(struct rpmsg_device *rdev)
{
	return rdev && RPMSG_UP(rdev);
}

int rpmsg_virtio_wait_link(struct rpmsg_device *rdev, uint32_t timeout_ms)
{
	if (!rdev || !rdev->ops)
		return RPMSG_ERR_PARAM;
	if (cb_ept)
		timeout_ms = 0; /* inside a callback: the link would come up through the pass we are blocking */
	uint64_t deadline = UINT64_MAX;
	if (timeout_ms != UINT32_MAX)
		deadline = ampl_os_uptime_us() + (uint64_t)timeout_ms * 1000u;
	for (;;) {
		/* The event word first: a link up after this load bumps it, so the wait below returns at once. */
		uint32_t seen = atomic_load_explicit(&rdev->event, memory_order_acquire);
		if (RPMSG_UP(rdev))
			return RPMSG_SUCCESS;
		uint64_t now = ampl_os_uptime_us();
		if (now >= deadline)
			return RPMSG_ERR_DEV_STATE;
		uint64_t left = deadline - now;
		(void)ampl_os_wait(&rdev->event, seen, left >= UINT32_MAX ? UINT32_MAX - 1u : (uint32_t)left);
	}
}

/* Lock held: one more (@want) or one less party that wants kicks for returned TX buffers. */
static void waiter(struct rpmsg_device *rdev, bool want)
{
	if (want ? rdev->waiters++ == 0 : --rdev->waiters == 0)
		if (RPMSG_UP(rdev))
			rdev->ops->arm(rdev, want);
}

static void link_cb(struct rpmsg_device *rdev, unsigned *key, bool up)
{
	if (rdev->cfg->link_cb) {
		rpmsg_unlock(rdev, *key);
		rdev->cfg->link_cb(rdev, up);
		*key = rpmsg_lock(rdev);
	}
}

void rpmsg_link_down(struct rpmsg_device *rdev, unsigned *key)
{
	if (!RPMSG_UP(rdev))
		return;
	atomic_store_explicit(&rdev->up, false, memory_order_relaxed);
	if (AMPL_RPMSG_ZERO_COPY)
		ampl_memset(rdev->slots, 0, sizeof(rdev->slots)); /* holds and reservations end with the session */
	if (AMPL_RPMSG_NS && rdev->ns_waiting) {
		rdev->ns_waiting = false;
		rdev->waiters--;
	}
	for (struct rpmsg_endpoint *e = rdev->epts; e; e = e->next) {
		if (AMPL_RPMSG_NS && e->name[0] && e->orig_dest == RPMSG_ADDR_ANY)
			e->pend |= EPT_ANNOUNCE; /* again at the next link up */
		if (e->dest_addr != e->orig_dest) {
			SET_DEST(e, e->orig_dest);
			if (AMPL_RPMSG_UNBIND)
				e->pend |= EPT_UNBIND;
		}
	}
	if (AMPL_RPMSG_NS && rdev->ops->ns_table)
		rdev->ops->ns_table(rdev, NULL, NULL, NS_CLEAR);
	rpmsg_wake(rdev); /* blocked senders fail with RPMSG_ERR_DEV_STATE */
	while (AMPL_RPMSG_UNBIND) {
		struct rpmsg_endpoint *e = rdev->epts;
		while (e && !(e->pend & EPT_UNBIND))
			e = e->next;
		if (!e)
			break;
		e->pend &= (uint8_t)~EPT_UNBIND;
		call(rdev, e, key, NULL);
	}
	link_cb(rdev, key, false);
}

static void announce(struct rpmsg_device *rdev);

void rpmsg_link_up(struct rpmsg_device *rdev, unsigned *key)
{
	atomic_store_explicit(&rdev->up, true, memory_order_relaxed);
	rpmsg_wake(rdev);
	link_cb(rdev, key, true);
	announce(rdev);
}

void rpmsg_virtio_deinit(struct rpmsg_device *rdev)
{
	if (!rdev || !rdev->ops)
		return;
	unsigned key = rpmsg_lock(rdev);
	rpmsg_link_down(rdev, &key);
	if (rdev->cfg->role == RPMSG_REMOTE) {
		/* Tell the host this remote session ended (it takes its side down and waits for a new one). */
		rsc_put32_rel(rdev->shm + RPMSG_RSC_SESSION_OFF + SESS_REMOTE_SID, 0);
		rdev->kick_mask |= KICK_VDEV;
	} else if (rdev->vdev_off) {
		rsc_put8_rel(rdev->shm + rdev->vdev_off + VDEV_STATUS, VIRTIO_CONFIG_S_RESET);
		rdev->kick_mask |= KICK_VDEV;
	}
	rdev->ops = NULL;
	rpmsg_unlock(rdev, key);
}

/* ---- sending ---- */

/* Take a TX buffer now. 0 with the lock held (*key) and the buffer in *b, or an error (lock not held). */
static int tx_get(struct rpmsg_device *rdev, struct rpmsg_buf_slot *b, uint32_t need, uint32_t timeout_ms,
		  unsigned *key)
{
	(void)timeout_ms;
	*key = rpmsg_lock(rdev);
	int rc = RPMSG_UP(rdev) ? rdev->ops->get_tx(rdev, b, need) : RPMSG_ERR_DEV_STATE;
	if (rc)
		rpmsg_unlock(rdev, *key);
	return rc;
}

/* tx_get(), waiting up to @timeout_ms for a buffer (0: not at all; UINT32_MAX: no limit). */
static int tx_wait(struct rpmsg_device *rdev, struct rpmsg_buf_slot *b, uint32_t need, uint32_t timeout_ms,
		   unsigned *key)
{
	bool waiting = false;
	uint64_t deadline = UINT64_MAX;
	int rc;
	if (cb_ept)
		timeout_ms = 0; /* inside a callback: the buffer would come back through the pass we are blocking */
	for (;;) {
		uint32_t seen = atomic_load_explicit(&rdev->event, memory_order_acquire);
		rc = tx_get(rdev, b, need, 0, key);
		if (rc != RPMSG_ERR_NO_BUFF || !timeout_ms)
			break;
		uint64_t now = ampl_os_uptime_us();
		if (!waiting) {
			/* Ask the peer to kick when it returns a buffer, then look again: one returned before the flag
			 * was cleared came without a kick. */
			waiting = true;
			if (timeout_ms != UINT32_MAX)
				deadline = now + (uint64_t)timeout_ms * 1000u;
			unsigned k = rpmsg_lock(rdev);
			waiter(rdev, true);
			rpmsg_unlock(rdev, k);
			continue;
		}
		if (now >= deadline)
			break;
		uint64_t left = deadline - now;
		(void)ampl_os_wait(&rdev->event, seen, left >= UINT32_MAX ? UINT32_MAX - 1u : (uint32_t)left);
	}
	if (waiting) {
		unsigned k = rc ? rpmsg_lock(rdev) : *key;
		waiter(rdev, false);
		if (rc)
			rpmsg_unlock(rdev, k);
	}
	return rc;
}

/* Lock held: write the header and @len bytes of @data (NULL: already in place) into @b, and publish it. */
static void fill_put(struct rpmsg_device *rdev, struct rpmsg_buf_slot *b, uint32_t src, uint32_t dst,
		     const void *data, uint32_t len)
{
	uint8_t h[RPMSG_HDR_SIZE] = { 0 };
	vio_st32(h, src);
	vio_st32(h + 4, dst);
	vio_st16(h + 12, (uint16_t)len);
	ampl_memcpy(b->buf, h, RPMSG_HDR_SIZE);
	if (data && len)
		ampl_memcpy(b->buf + RPMSG_HDR_SIZE, data, len);
	ampl_cache_clean(b->buf, RPMSG_HDR_SIZE + len);
	rdev->ops->put_tx(rdev, b, len);
}

/* Lock held: a name-service message for @name / @addr into @b, published. */
static void ns_fill_put(struct rpmsg_device *rdev, struct rpmsg_buf_slot *b, const char *name, uint32_t addr,
			uint32_t flags)
{
	uint8_t m[sizeof(struct rpmsg_ns_msg)];
	name_copy((char *)m, name);
	vio_st32(m + 32, addr);
	vio_st32(m + 36, flags);
	fill_put(rdev, b, addr, RPMSG_NS_EPT_ADDR, m, sizeof(m));
}

typedef int (*take_fn)(struct rpmsg_device *rdev, struct rpmsg_buf_slot *b, uint32_t need, uint32_t timeout_ms,
		       unsigned *key);

/* A copy send through @take (tx_get or tx_wait: only the one a caller names is linked). */
static int send_via(take_fn take, struct rpmsg_endpoint *ept, uint32_t src, uint32_t dst, const void *data,
		    int len, uint32_t timeout_ms)
{
	if (!ept || !ept->rdev || dst == RPMSG_ADDR_ANY || len < 0 || (!data && len))
		return RPMSG_ERR_PARAM;
	struct rpmsg_buf_slot b;
	unsigned key;
	NOTE_APP_TX(ept->rdev);
	int rc = take(ept->rdev, &b, (uint32_t)len, timeout_ms, &key);
	if (rc)
		return rc;
	fill_put(ept->rdev, &b, src, dst, data, (uint32_t)len);
	rpmsg_unlock(ept->rdev, key);
	return len;
}

static uint32_t timeout_of(struct rpmsg_endpoint *ept)
{
	return ept && ept->rdev ? ept->rdev->timeout_ms : 0;
}

static uint32_t addr_of(struct rpmsg_endpoint *ept)
{
	return ept ? ept->addr : 0;
}

/* To ept->dest_addr: RPMSG_ERR_ADDR while it is not bound. */
static int send_bound(take_fn take, struct rpmsg_endpoint *ept, const void *data, int len)
{
	if (!ept || !ept->rdev)
		return RPMSG_ERR_PARAM;
	uint32_t d = GET_DEST(ept);
	if (d == RPMSG_ADDR_ANY)
		return RPMSG_ERR_ADDR;
	return send_via(take, ept, ept->addr, d, data, len, ept->rdev->timeout_ms);
}

int rpmsg_send_offchannel_raw(struct rpmsg_endpoint *ept, uint32_t src, uint32_t dst, const void *data, int len,
			      int wait)
{
	return send_via(wait ? tx_wait : tx_get, ept, src, dst, data, len, timeout_of(ept));
}

int rpmsg_sendto_timeout(struct rpmsg_endpoint *ept, const void *data, int len, uint32_t dst, uint32_t timeout_ms)
{
	return send_via(tx_wait, ept, addr_of(ept), dst, data, len, timeout_ms);
}

int rpmsg_send_offchannel(struct rpmsg_endpoint *ept, uint32_t src, uint32_t dst, const void *data, int len)
{
	return send_via(tx_wait, ept, src, dst, data, len, timeout_of(ept));
}

int rpmsg_trysend_offchannel(struct rpmsg_endpoint *ept, uint32_t src, uint32_t dst, const void *data, int len)
{
	return send_via(tx_get, ept, src, dst, data, len, 0);
}

int rpmsg_sendto(struct rpmsg_endpoint *ept, const void *data, int len, uint32_t dst)
{
	return send_via(tx_wait, ept, addr_of(ept), dst, data, len, timeout_of(ept));
}

int rpmsg_trysendto(struct rpmsg_endpoint *ept, const void *data, int len, uint32_t dst)
{
	return send_via(tx_get, ept, addr_of(ept), dst, data, len, 0);
}

int rpmsg_send(struct rpmsg_endpoint *ept, const void *data, int len)
{
	return send_bound(tx_wait, ept, data, len);
}

int rpmsg_trysend(struct rpmsg_endpoint *ept, const void *data, int len)
{
	return send_bound(tx_get, ept, data, len);
}

/* Payload capacity: TX (@rx false) or RX (the remote falls back to its TX figure before its first message). */
static int buffer_size(struct rpmsg_endpoint *ept, bool rx)
{
	if (!ept || !ept->rdev)
		return RPMSG_ERR_PARAM;
	unsigned key = rpmsg_lock(ept->rdev);
	uint32_t c = rx && ept->rdev->rx_cap ? ept->rdev->rx_cap : ept->rdev->tx_cap;
	rpmsg_unlock(ept->rdev, key);
	return c ? (int)c : RPMSG_ERR_DEV_STATE;
}

/* ---- zero-copy ---- */

int rpmsg_reserve_tx_buffer(struct rpmsg_endpoint *ept, uint32_t need, uint32_t timeout_ms, void **buf,
			    uint32_t *len)
{
	if (!AMPL_RPMSG_ZERO_COPY)
		return RPMSG_EOPNOTSUPP;
	if (!ept || !ept->rdev || !buf || !len)
		return RPMSG_ERR_PARAM;
	struct rpmsg_device *rdev = ept->rdev;
	struct rpmsg_buf_slot b;
	unsigned key;
	/* Not waiting (the zero-copy send's usual call): straight to the buffer, without the wait's bookkeeping. */
	int rc = timeout_ms ? tx_wait(rdev, &b, need, timeout_ms, &key) : tx_get(rdev, &b, need, 0, &key);
	if (rc) {
		int cap = rc == RPMSG_ERR_BUFF_SIZE ? buffer_size(ept, false) : 0;
		if (cap > 0) /* not if the link went down since */
			*len = (uint32_t)cap;
		return rc;
	}
	struct rpmsg_buf_slot *s = slot_find(rdev, NULL, SLOT_FREE);
	if (s) {
		*s = b;
		s->state = SLOT_RESERVED_TX;
		*len = b.cap;
		*buf = b.buf + RPMSG_HDR_SIZE;
	} else {
		rdev->ops->untake_tx(rdev, &b);
	}
	rpmsg_unlock(rdev, key);
	return s ? RPMSG_SUCCESS : RPMSG_ERR_NO_MEM;
}

void *rpmsg_get_tx_payload_buffer_timeout(struct rpmsg_endpoint *ept, uint32_t *len, uint32_t timeout_ms)
{
	void *buf;
	return rpmsg_reserve_tx_buffer(ept, 0, timeout_ms, &buf, len) ? NULL : buf;
}

void *rpmsg_get_tx_payload_buffer(struct rpmsg_endpoint *ept, uint32_t *len, int wait)
{
	return rpmsg_get_tx_payload_buffer_timeout(ept, len, wait ? timeout_of(ept) : 0);
}

int rpmsg_send_offchannel_nocopy(struct rpmsg_endpoint *ept, uint32_t src, uint32_t dst, const void *data, int len)
{
	if (!AMPL_RPMSG_ZERO_COPY)
		return RPMSG_EOPNOTSUPP;
	if (!ept || !ept->rdev || !data || dst == RPMSG_ADDR_ANY || len < 0)
		return RPMSG_ERR_PARAM;
	struct rpmsg_device *rdev = ept->rdev;
	NOTE_APP_TX(rdev);
	unsigned key = rpmsg_lock(rdev);
	struct rpmsg_buf_slot *s = slot_find(rdev, data, SLOT_RESERVED_TX);
	int rc = len;
	if (!s) {
		rc = RPMSG_UP(rdev) ? RPMSG_ERR_PARAM : RPMSG_ERR_DEV_STATE;
	} else if ((uint32_t)len > s->cap) {
		rc = RPMSG_ERR_BUFF_SIZE;
	} else {
		fill_put(rdev, s, src, dst, NULL, (uint32_t)len);
		s->state = SLOT_FREE;
	}
	rpmsg_unlock(rdev, key);
	return rc;
}

int rpmsg_sendto_nocopy(struct rpmsg_endpoint *ept, const void *data, int len, uint32_t dst)
{
	return rpmsg_send_offchannel_nocopy(ept, addr_of(ept), dst, data, len);
}

int rpmsg_send_nocopy(struct rpmsg_endpoint *ept, const void *data, int len)
{
	if (!ept || !ept->rdev)
		return RPMSG_ERR_PARAM;
	uint32_t d = GET_DEST(ept);
	if (d == RPMSG_ADDR_ANY)
		return RPMSG_ERR_ADDR;
	return rpmsg_send_offchannel_nocopy(ept, ept->addr, d, data, len);
}

int rpmsg_release_tx_buffer(struct rpmsg_endpoint *ept, void *txbuf)
{
	if (!AMPL_RPMSG_ZERO_COPY)
		return RPMSG_EOPNOTSUPP;
	if (!ept || !ept->rdev || !txbuf)
		return RPMSG_ERR_PARAM;
	struct rpmsg_device *rdev = ept->rdev;
	unsigned key = rpmsg_lock(rdev);
	struct rpmsg_buf_slot *s = slot_find(rdev, txbuf, SLOT_RESERVED_TX);
	if (s) {
		rdev->ops->release_tx(rdev, s);
		if (rdev->waiters)
			rpmsg_wake(rdev); /* a blocked sender can have it */
	}
	rpmsg_unlock(rdev, key);
	return s ? RPMSG_SUCCESS : RPMSG_ERR_PARAM;
}

int rpmsg_hold_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf)
{
	if (!AMPL_RPMSG_ZERO_COPY)
		return RPMSG_EOPNOTSUPP;
	if (!ept || !ept->rdev)
		return RPMSG_ERR_PARAM;
	struct rpmsg_device *rdev = ept->rdev;
	unsigned key = rpmsg_lock(rdev);
	int rc = RPMSG_ERR_PARAM;
	if (rdev->rx_cur && !rdev->rx_held && rdev->rx_cur + RPMSG_HDR_SIZE == (uint8_t *)rxbuf) {
		struct rpmsg_buf_slot *s = slot_find(rdev, NULL, SLOT_FREE);
		rc = RPMSG_ERR_NO_MEM;
		if (s) {
			s->buf = rdev->rx_cur;
			s->len = rdev->rx_len;
			s->desc = rdev->rx_desc;
			s->state = SLOT_HELD_RX;
			rdev->rx_held = true;
			rc = RPMSG_SUCCESS;
		}
	}
	rpmsg_unlock(rdev, key);
	return rc;
}

int rpmsg_release_rx_buffer(struct rpmsg_endpoint *ept, void *rxbuf)
{
	if (!AMPL_RPMSG_ZERO_COPY)
		return RPMSG_EOPNOTSUPP;
	if (!ept || !ept->rdev || !rxbuf)
		return RPMSG_ERR_PARAM;
	struct rpmsg_device *rdev = ept->rdev;
	unsigned key = rpmsg_lock(rdev);
	struct rpmsg_buf_slot *s = slot_find(rdev, rxbuf, SLOT_HELD_RX);
	if (s) {
		s->state = SLOT_FREE;
		/* Released during its own callback: the delivery gives it back when the callback returns, and
		 * the delivery is over for it (a second hold is refused, from any thread). */
		if (rdev->rx_cur == s->buf) {
			rdev->rx_held = false;
			rdev->rx_cur = NULL;
		} else
			rdev->ops->put_rx(rdev, s->desc, s->len);
	}
	rpmsg_unlock(rdev, key);
	return s ? RPMSG_SUCCESS : RPMSG_ERR_PARAM;
}

int rpmsg_get_tx_buffer_size(struct rpmsg_endpoint *ept)
{
	return buffer_size(ept, false);
}

int rpmsg_get_rx_buffer_size(struct rpmsg_endpoint *ept)
{
	return buffer_size(ept, true);
}

/* ---- name service ---- */

static bool announces(struct rpmsg_device *rdev)
{
	return AMPL_RPMSG_NS && rdev->ns && (rdev->cfg->role == RPMSG_REMOTE || rdev->cfg->host_announce);
}

/*
 * Lock held: send the pending announcements, never waiting. One that finds no buffer stays pending and keeps the
 * peer kicking us (it counts as a waiter) until a later pass sends it.
 */
static void announce(struct rpmsg_device *rdev)
{
	if (!AMPL_RPMSG_NS)
		return; /* the EPT_ANNOUNCE marks are read here only */
	bool armed = false;
	struct rpmsg_endpoint *e = rdev->epts;
	while (e && RPMSG_UP(rdev)) {
		if (e->pend & EPT_ANNOUNCE) {
			struct rpmsg_buf_slot b;
			/* Announced also when already bound (from a remembered announcement): the peer's endpoint of
			 * that name may still be unbound. */
			if (announces(rdev)) {
				if (rdev->ops->get_tx(rdev, &b, sizeof(struct rpmsg_ns_msg))) {
					if (armed)
						break;
					/* Look once more after arming: a buffer returned before came without a kick. */
					armed = true;
					if (!rdev->ns_waiting) {
						rdev->ns_waiting = true;
						waiter(rdev, true);
					}
					continue;
				}
				ns_fill_put(rdev, &b, e->name, e->addr, RPMSG_NS_CREATE);
			}
			e->pend &= (uint8_t)~EPT_ANNOUNCE;
		}
		e = e->next;
	}
	if (!e && rdev->ns_waiting) {
		rdev->ns_waiting = false;
		waiter(rdev, false);
	}
}

void rpmsg_ns_table(struct rpmsg_device *rdev, const char *name, uint32_t *addr, int op)
{
	struct rpmsg_ns_entry *t = rdev->cfg->ns_table, *slot = NULL;
	for (uint32_t i = 0; i < rdev->cfg->ns_table_len; i++) {
		if (op == NS_CLEAR || (t[i].name[0] && name_eq(t[i].name, name))) {
			if (op == NS_TAKE && *addr == RPMSG_ADDR_ANY)
				*addr = t[i].addr;
			t[i].name[0] = 0;
		}
		if (!t[i].name[0] && !slot)
			slot = &t[i];
	}
	if (op == NS_REMEMBER && *addr != RPMSG_ADDR_ANY && slot) {
		name_copy(slot->name, name);
		slot->addr = *addr;
	}
}

/* Lock held: a message to address 53, @len bytes at @p (shared memory, read once into a copy). */
void rpmsg_ns_rx(struct rpmsg_device *rdev, const uint8_t *p, uint32_t len, unsigned *key)
{
	uint8_t m[sizeof(struct rpmsg_ns_msg)];
	const char *name = (const char *)m;
	if (len != sizeof(m)) {
		rpmsg_count(&rdev->stats.dropped); /* as Linux and OpenAMP: ignored */
		return;
	}
	ampl_memcpy(m, p, sizeof(m));
	unsigned n = 0;
	while (n < RPMSG_NAME_SIZE && name[n])
		n++;
	uint32_t addr = vio_ld32(m + 32), flags = vio_ld32(m + 36);
	if (n == 0 || n == RPMSG_NAME_SIZE || addr == RPMSG_ADDR_ANY || flags > RPMSG_NS_DESTROY) {
		rpmsg_note(rdev, RPMSG_ERR_TEXT("rpmsg: bad ns message"));
		return;
	}
	struct rpmsg_endpoint *e = rdev->epts;
	for (; e; e = e->next) {
		if (!name_eq(e->name, name))
			continue;
		if (flags == RPMSG_NS_CREATE && e->dest_addr == RPMSG_ADDR_ANY) {
			SET_DEST(e, addr); /* bound */
			break;
		}
		if (flags == RPMSG_NS_DESTROY && e->dest_addr == addr) {
			SET_DEST(e, RPMSG_ADDR_ANY);
			break;
		}
	}
	uint32_t keep = flags == RPMSG_NS_CREATE && !e ? addr : RPMSG_ADDR_ANY;
	if (rdev->ops->ns_table)
		rdev->ops->ns_table(rdev, name, &keep, NS_REMEMBER);
	if (flags == RPMSG_NS_DESTROY && e) {
		call(rdev, e, key, NULL);
	} else if (!e && flags == RPMSG_NS_CREATE && rdev->cfg->ns_bind_cb) {
		rpmsg_unlock(rdev, *key);
		rdev->cfg->ns_bind_cb(rdev, name, addr);
		*key = rpmsg_lock(rdev);
	}
}

/* ---- delivery ---- */

void rpmsg_deliver(struct rpmsg_device *rdev, uint16_t desc, uint8_t *buf, uint32_t buflen, unsigned *key)
{
	/* The header is read once into a copy; hdr.reserved and hdr.flags are not looked at (peers keep hold
	 * counters there). */
	uint8_t h[RPMSG_HDR_SIZE];
	ampl_cache_invalidate(buf, RPMSG_HDR_SIZE);
	ampl_memcpy(h, buf, RPMSG_HDR_SIZE);
	uint32_t src = vio_ld32(h), dst = vio_ld32(h + 4), len = vio_ld16(h + 12);
	uint8_t *p = buf + RPMSG_HDR_SIZE;
	struct rpmsg_endpoint *ept = rdev->epts;
	while (ept && ept->addr != dst)
		ept = ept->next;
	bool ns = AMPL_RPMSG_NS && dst == RPMSG_NS_EPT_ADDR && rdev->ns && rdev->ops->ns_rx;
	if (len > buflen - RPMSG_HDR_SIZE) {
		rpmsg_note(rdev, RPMSG_ERR_TEXT("rpmsg: bad hdr.len"));
	} else if (ns) {
		ampl_cache_invalidate(p, len);
		rdev->ops->ns_rx(rdev, p, len, key);
	} else if (!ept) {
		rpmsg_count(&rdev->stats.dropped);
	} else {
		ampl_cache_invalidate(p, len);
		if (ept->dest_addr == RPMSG_ADDR_ANY)
			SET_DEST(ept, src); /* the first message binds an unbound endpoint */
		if (AMPL_RPMSG_ZERO_COPY) {
			rdev->rx_cur = buf; /* rpmsg_hold_rx_buffer() may keep it */
			rdev->rx_len = buflen;
			rdev->rx_desc = desc;
		}
		struct rx_msg m = { p, len, src };
		call(rdev, ept, key, &m);
	}
	/* The link cannot have changed meanwhile: only this (serialised) pass changes it. */
	if (!(AMPL_RPMSG_ZERO_COPY && rdev->rx_held) && RPMSG_UP(rdev))
		rdev->ops->put_rx(rdev, desc, buflen);
	if (AMPL_RPMSG_ZERO_COPY) {
		rdev->rx_held = false;
		rdev->rx_cur = NULL;
	}
}

void rpmsg_after_rx(struct rpmsg_device *rdev)
{
	if (rdev->waiters)
		rpmsg_wake(rdev);
	announce(rdev);
}

/* ---- endpoints ---- */

int rpmsg_create_ept(struct rpmsg_endpoint *ept, struct rpmsg_device *rdev, const char *name, uint32_t src,
		     uint32_t dest, rpmsg_ept_cb cb, rpmsg_ns_unbind_cb ns_unbind_cb)
{
	if (!ept || !rdev || !cb || !rdev->ops)
		return RPMSG_ERR_PARAM;
	unsigned n = 0;
	while (name && name[n])
		if (++n >= RPMSG_NAME_SIZE)
			return RPMSG_ERR_PARAM;
	unsigned key = rpmsg_lock(rdev);
	int rc = RPMSG_SUCCESS;
#if AMPL_RPMSG_DYN_ADDR
	/* Dynamic: round robin through the bitmap, as OpenAMP's bitnext (fixed addresses in range are in it). */
	for (uint32_t i = 0; src == RPMSG_ADDR_ANY && i < RPMSG_ADDR_BMP_SIZE; i++) {
		uint32_t b = (rdev->bitnext + i) % RPMSG_ADDR_BMP_SIZE;
		if (!(rdev->addr_bmp[b >> 5] >> (b & 31u) & 1u)) {
			src = RPMSG_RESERVED_ADDRESSES + b;
			rdev->bitnext = b + 1u;
		}
	}
	if (src == RPMSG_ADDR_ANY)
		rc = RPMSG_ERR_ADDR;
#else
	/* Dynamic: the next address of a counter from 1024 on that no endpoint has (never one given before). */
	for (struct rpmsg_endpoint *e = NULL; src == RPMSG_ADDR_ANY || e;) {
		if (!e) {
			src = RPMSG_RESERVED_ADDRESSES + rdev->bitnext++;
			e = rdev->epts;
		} else if (e->addr == src) {
			src = RPMSG_ADDR_ANY;
			e = NULL;
		} else
			e = e->next;
	}
#endif
	for (struct rpmsg_endpoint *e = rdev->epts; e; e = e->next)
		if (e == ept)
			rc = RPMSG_ERR_PARAM;
		else if (src >= RPMSG_RESERVED_ADDRESSES && e->addr == src)
			rc = RPMSG_ERR_ADDR; /* a fixed address in use (below 1024: not checked, as OpenAMP) */
	if (!rc) {
		uint32_t b = src - RPMSG_RESERVED_ADDRESSES;
		if (AMPL_RPMSG_DYN_ADDR && b < RPMSG_ADDR_BMP_SIZE)
			rdev->addr_bmp[b >> 5] |= 1u << (b & 31u);
		name_copy(ept->name, name ? name : "");
		ept->rdev = rdev;
		ept->addr = src;
		SET_DEST(ept, dest);
		ept->orig_dest = dest;
		ept->cb = cb;
		ept->ns_unbind_cb = ns_unbind_cb;
		ept->pend = AMPL_RPMSG_NS && n && dest == RPMSG_ADDR_ANY ? EPT_ANNOUNCE : 0;
		/* An announcement remembered earlier binds the new endpoint at once (either start order works). */
		if (AMPL_RPMSG_NS && n && rdev->ops->ns_table)
			rdev->ops->ns_table(rdev, ept->name, &ept->dest_addr, NS_TAKE);
		ept->next = rdev->epts;
		rdev->epts = ept;
		announce(rdev);
	}
	rpmsg_unlock(rdev, key);
	return rc;
}

void rpmsg_destroy_ept(struct rpmsg_endpoint *ept)
{
	if (!ept || !ept->rdev)
		return;
	struct rpmsg_device *rdev = ept->rdev;
	unsigned key = rpmsg_lock(rdev);
	struct rpmsg_endpoint **pp = &rdev->epts;
	while (*pp && *pp != ept)
		pp = &(*pp)->next;
	bool found = *pp != NULL;
	if (found) {
		*pp = ept->next;
		uint32_t b = ept->addr - RPMSG_RESERVED_ADDRESSES;
		if (AMPL_RPMSG_DYN_ADDR && b < RPMSG_ADDR_BMP_SIZE)
			rdev->addr_bmp[b >> 5] &= ~(1u << (b & 31u));
	}
	bool bye = found && RPMSG_UP(rdev) && announces(rdev) && ept->name[0] && ept->addr >= RPMSG_RESERVED_ADDRESSES;
	rpmsg_unlock(rdev, key);
	struct rpmsg_buf_slot b;
	if (bye && !tx_wait(rdev, &b, sizeof(struct rpmsg_ns_msg), rdev->timeout_ms, &key)) {
		ns_fill_put(rdev, &b, ept->name, ept->addr, RPMSG_NS_DESTROY);
		rpmsg_unlock(rdev, key);
	}
	/* Wait for its callback running in another context (from inside it: it cannot end first, do not wait). */
	key = rpmsg_lock(rdev);
	while (rdev->running == ept && cb_ept != ept) {
		uint32_t seen = atomic_load_explicit(&rdev->event, memory_order_relaxed);
		rdev->destroying = true;
		rpmsg_unlock(rdev, key);
		(void)ampl_os_wait(&rdev->event, seen, UINT32_MAX);
		key = rpmsg_lock(rdev);
	}
	ept->rdev = NULL;
	rpmsg_unlock(rdev, key);
}

unsigned int is_rpmsg_ept_ready(struct rpmsg_endpoint *ept)
{
	return ept && ept->rdev && RPMSG_UP(ept->rdev) && GET_DEST(ept) != RPMSG_ADDR_ANY;
}
