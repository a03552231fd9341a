/*
 * The multi-endpoint zero-copy IPC service backend (see <amplink/ipc/ipc_multi.h> and docs/ipc_multi.md).
 *
 * Locking: one spinlock per instance (`lock`) covers the control ring writer, the block states of both
 * directions and the endpoint table. Callbacks run without it. Doorbells as in icmsg.c, through the link
 * (<amplink/ipc/link.h>): NULL messages on the tx channel; one queued and not yet submitted covers any number of
 * writes.
 *
 * Sessions (since wire version 2) follow icmsg.c's session mode: the handshake words, the rx ring and the session ids
 * (local_sid, remote_sid, rx_ready) are touched only in the RX context (process(), on_link_state()) and by
 * open/close, which run while no RX callback can (before the rx channel is bound, after it is freed). A link
 * down (link_down_locked()) happens only in the RX context too, so it never races a delivery; it races thread
 * calls (send, get/drop, release, register), which all take `lock` and re-check the state under it.
 *
 * User callbacks run without the lock, with the endpoint's configuration read under it; each one is counted in
 * the endpoint's `calls` from that moment until it returns (call_begin_locked(), call_end()), and
 * deregister_ept() waits for the count to drain once the endpoint is unregistered: no callback of an endpoint
 * starts, or is still running, after its deregistration returned, and its configuration is the caller's again.
 */
#include <amplink/bytes.h>
#include <amplink/cache.h>
#include <amplink/ipc/ipc_multi.h>
#include <amplink/mailbox_controller.h>
#include <amplink/trace.h>

#if !AMPL_IPC_MULTI_ZERO_COPY
#pragma GCC diagnostic ignored "-Wunused-function" /* the zero-copy operations, left out of the backend */
#endif

#define ERR_TEXT(s) AMPL_ERR_TEXT("ipc_multi: peer error", s)

static const uint8_t hello_magic[6] = { 'A', 'M', 'P', 'L', 'M', 'B' };

#define RING_MIN_DATA (IPC_MULTI_RING_PER_MSG * (2u * IPC_MULTI_MAX_BLOCKS + 2u * IPC_MULTI_MAX_EPT + 8u))
#define NO_ADDR 0xFFu
/* The longest INLINE packet this build writes or reads (header and message), and the longest control message the
 * receive pass reads: that, or a HELLO with room for later versions. */
#define INLINE_PKT_MAX (IPC_MULTI_MSG_LEN + IPC_MULTI_INLINE_MAX)
#define RX_MSG_MAX (INLINE_PKT_MAX > IPC_MULTI_HELLO_LEN + 16u ? INLINE_PKT_MAX : IPC_MULTI_HELLO_LEN + 16u)
#define SID_NONE 0u            /* session id of a closed side */
#define CLOSE_DRAIN_US 100000u /* close: how long to wait for the last doorbell to be taken */

/* Block states. TX: the sender's view of its own blocks; RX: the receiver's view of the peer's blocks. */
enum { B_FREE = 0, B_DROPPED, B_CLAIMED, B_INFLIGHT, B_TAIL };
enum { R_FREE = 0, R_DELIVERING, R_HELD, R_WAITING, R_RESERVED /* a waiting BOUND register_ept() binds */ };

_Static_assert(IPC_MULTI_MAX_EPT <= 254, "endpoint addresses 0..253");
_Static_assert(IPC_MULTI_MSG_LEN == 4 && IPC_MULTI_HELLO_LEN == 16, "control message sizes");
_Static_assert(IPC_MULTI_BUF_HDR == sizeof(uint32_t), "buffer header: LE u32 length");

static uint32_t align_of(uint32_t d)
{
	return d > 4u ? d : 4u;
}

int ipc_multi_layout(struct ipc_multi_layout *lo, uint32_t size, uint32_t d, uint32_t bsize, uint32_t count)
{
	uint32_t a = align_of(d);
	if (!lo || (a & (a - 1u)) || count == 0 || count > IPC_MULTI_MAX_BLOCKS || size % a)
		return -EINVAL;
	uint32_t ring_min = PBUF_HEADER_OVERHEAD(d, 1) + RING_MIN_DATA; /* H = 1: the handshake word */
	ring_min = (ring_min + a - 1u) & ~(a - 1u);
	if (size <= ring_min)
		return -EINVAL;
	if (bsize == 0)
		bsize = ((size - ring_min) / count) & ~(a - 1u);
	if (bsize < IPC_MULTI_BUF_HDR + 4u || bsize % a || (uint64_t)bsize * count > size - ring_min)
		return -EINVAL;
	lo->block_size = bsize;
	lo->block_count = count;
	lo->ring_size = ring_min; /* fixed by D alone, so the reader knows it before the peer's HELLO */
	lo->blocks_off = ring_min;
	return 0;
}

/* ---- helpers ---- */

static struct ipc_multi_data *data_of(const struct ampl_device *instance)
{
	return instance && instance->api == &ipc_multi_backend ? (struct ipc_multi_data *)instance->data : NULL;
}

static struct ipc_multi_ept *ept_of(struct ipc_multi_data *d, void *token)
{
	struct ipc_multi_ept *e = token;
	if (!d || !e || e < d->ept || e >= d->ept + IPC_MULTI_MAX_EPT || !e->used)
		return NULL;
	return e;
}

/* An operation's instance (*@dp) and registered endpoint (*@ep): 0, -EINVAL (not an instance of this backend) or
 * -ENOENT (@token is not a registered endpoint of it). */
static int lookup(const struct ampl_device *instance, void *token, struct ipc_multi_data **dp,
		  struct ipc_multi_ept **ep)
{
	*dp = data_of(instance);
	if (!*dp)
		return -EINVAL;
	*ep = ept_of(*dp, token);
	return *ep ? 0 : -ENOENT;
}

static uint8_t *tx_block(struct ipc_multi_data *d, uint32_t b)
{
	return (uint8_t *)d->cfg->tx_mem + d->txl.blocks_off + b * d->txl.block_size;
}

static uint8_t *rx_block(struct ipc_multi_data *d, uint32_t b)
{
	return (uint8_t *)d->cfg->rx_mem + d->rxl.blocks_off + b * d->rxl.block_size;
}

/*
 * A callback of @e is about to run (lock held): its configuration, counted in `calls` until call_end(), or NULL
 * (no endpoint, or not registered: nothing to call).
 */
static const struct ipc_ept_cfg *call_begin_locked(struct ipc_multi_ept *e)
{
	if (!e || !e->used)
		return NULL;
	atomic_fetch_add(&e->calls, 1);
	return e->cfg;
}

static void call_end(struct ipc_multi_ept *e)
{
	atomic_fetch_sub(&e->calls, 1);
}

/* Lock not held: @e's bound() (@bound) or unbound() with @cfg from call_begin_locked() (NULL: none), then call_end(). */
static void call_link_cb(struct ipc_multi_ept *e, const struct ipc_ept_cfg *cfg, bool bound)
{
	if (!cfg)
		return;
	void (*cb)(void *priv) = bound ? cfg->cb.bound : cfg->cb.unbound;
	if (cb)
		cb(cfg->priv);
	call_end(e);
}

/*
 * Lock not held. @msg: every registered endpoint's error(@msg); NULL: unbound() of every endpoint link_down_locked()
 * marked `lost`.
 */
static void call_each(struct ipc_multi_data *d, const char *msg)
{
	for (unsigned i = 0; i < IPC_MULTI_MAX_EPT; i++) {
		struct ipc_multi_ept *e = &d->ept[i];
		unsigned key = ampl_spin_lock(&d->lock);
		const struct ipc_ept_cfg *cfg = msg || e->lost ? call_begin_locked(e) : NULL;
		if (!msg)
			e->lost = false;
		ampl_spin_unlock(&d->lock, key);
		if (!msg) {
			call_link_cb(e, cfg, false);
		} else if (cfg) {
			if (cfg->cb.error)
				cfg->cb.error(msg, cfg->priv);
			call_end(e);
		}
	}
}

/* Lock not held. */
static void inst_error(struct ipc_multi_data *d, const char *msg)
{
	atomic_fetch_add(&d->errors, 1);
	if (d->cfg && d->cfg->error) {
		d->cfg->error(msg, d->cfg->error_priv);
		return;
	}
	call_each(d, msg);
}

/* An error of endpoint @e whose callback was begun (call_begin_locked() gave @cfg); lock not held. */
static void ept_error(struct ipc_multi_data *d, const struct ipc_ept_cfg *cfg, const char *msg)
{
	if (!cfg->cb.error) {
		inst_error(d, msg);
		return;
	}
	atomic_fetch_add(&d->errors, 1);
	cfg->cb.error(msg, cfg->priv);
}

/* ---- doorbells ---- */

/* Ring the peer (lock held). A refused doorbell is owed to the next control message. */
static void ring_locked(struct ipc_multi_data *d)
{
	d->bell_owed = ampl_ipc_link_ring(&d->link) < 0;
}

/*
 * Ring the peer for the control message just written at @prev_wr (lock held), as icmsg_send() does: only when its
 * reader may have stopped (pbuf_doorbell_needed(): it had read everything before this message; else the drain
 * that reads the one before reads this one too), or when a doorbell is owed: one was refused, or the peer went
 * offline meanwhile (its drain may have been dropped; the link rings again when it comes back).
 */
static void ring_after_locked(struct ipc_multi_data *d, uint32_t prev_wr)
{
	if (d->bell_owed || pbuf_doorbell_needed(&d->tx, prev_wr))
		ring_locked(d);
	else if (ampl_ipc_link_offline(&d->link) < 0)
		d->bell_owed = true;
}

/* Write one control message (lock held). 0 or -ENOMEM (ring full) / -EIO (the peer's read index is corrupt). */
static int ctrl_locked(struct ipc_multi_data *d, uint8_t type, uint8_t ept, uint32_t block)
{
	uint8_t m[IPC_MULTI_MSG_LEN] = { type, ept, (uint8_t)block, (uint8_t)(block >> 8) };
	int r = pbuf_write(&d->tx, m, sizeof(m));
	if (r == -EINVAL)
		return -EIO;
	return r < 0 ? r : 0;
}

/* ---- TX blocks (lock held) ---- */

static uint32_t blocks_for(const struct ipc_multi_layout *lo, uint32_t len)
{
	return (len + IPC_MULTI_BUF_HDR + lo->block_size - 1u) / lo->block_size;
}

static uint32_t tx_max(const struct ipc_multi_data *d)
{
	return d->txl.block_size * d->txl.block_count - IPC_MULTI_BUF_HDR;
}

/*
 * Next fit of @n contiguous free blocks, from the block after the last one obtained (a sender streaming through its
 * blocks finds the next one at once, where first fit would pass every block still in flight): the head index, or
 * -1. A run does not wrap: the search goes round once, then as far as a run started before the hint can reach.
 */
static int alloc_locked(struct ipc_multi_data *d, uint32_t n, uint8_t state, uint8_t owner)
{
	uint32_t cnt = d->txl.block_count, b = d->next_blk < cnt ? d->next_blk : 0u, run = 0;
	for (uint32_t k = 0; k < cnt + n - 1u; k++, b++) {
		if (b == cnt)
			b = run = 0;
		run = d->tx_state[b] == B_FREE || d->tx_state[b] == B_DROPPED ? run + 1u : 0u;
		if (run == n) {
			uint32_t h = b + 1u - n;
			for (uint32_t i = h; i <= b; i++)
				d->tx_state[i] = B_TAIL;
			d->tx_state[h] = state;
			d->tx_nblk[h] = (uint16_t)n;
			d->tx_owner[h] = owner;
			d->next_blk = (uint16_t)(b + 1u);
			return (int)h;
		}
	}
	return -1;
}

/* Free the tx_nblk[@h] blocks of the buffer at head @h, the head becoming @head_state (lock held). */
static void free_buf_locked(struct ipc_multi_data *d, uint32_t h, uint8_t head_state)
{
	for (uint32_t i = h; i < h + d->tx_nblk[h] && i < d->txl.block_count; i++)
		d->tx_state[i] = B_FREE;
	if (h < d->txl.block_count)
		d->tx_state[h] = head_state;
}

/*
 * Tx blocks were freed (lock not held; every free_buf_locked() that can make a run free is followed by this): bump
 * free_seq once for all of them, and wake the threads waiting for blocks if there are any (a wake is a system call
 * on hosted ports, and nobody waiting is the common case). No lost wake-up: obtain() loads free_seq before it
 * looks under the lock, so blocks freed after that look bump it after that load; it counts itself in `sleepers`
 * before it sleeps, and its sleep returns at once if free_seq moved (the bump comes before the check of
 * `sleepers`, both sequentially consistent, so one of the two sees the other).
 */
static void wake_waiters(struct ipc_multi_data *d)
{
	atomic_fetch_add(&d->free_seq, 1);
	if (atomic_load(&d->sleepers))
		ampl_os_wake(&d->free_seq);
}

/* The head block whose data pointer is @p in the blocks area of region @mem with geometry @lo, or -1. */
static int head_of(const void *mem, const struct ipc_multi_layout *lo, const void *p)
{
	const uint8_t *base = (const uint8_t *)mem + lo->blocks_off + IPC_MULTI_BUF_HDR;
	const uint8_t *q = p;
	if (!lo->block_size || q < base)
		return -1;
	uintptr_t off = (uintptr_t)(q - base);
	if (off % lo->block_size || off / lo->block_size >= lo->block_count)
		return -1;
	return (int)(off / lo->block_size);
}

/* ---- releases of rx blocks (lock held) ---- */

/* Owe the release of rx block @b (lock held): sent by flush_pending_locked(). */
static void owe_release_locked(struct ipc_multi_data *d, uint32_t b)
{
	d->pending_rel[b / 32] |= 1u << (b % 32);
	d->pending_words |= (uint8_t)(1u << (b / 32));
}

static void release_rx_locked(struct ipc_multi_data *d, uint32_t b, uint8_t type, uint8_t ept)
{
	d->rx_state[b] = R_FREE;
	uint32_t prev_wr = d->tx.wr_idx;
	if (ctrl_locked(d, type, ept, b))
		owe_release_locked(d, b); /* the ring is full: sent with the next drain's releases */
	else
		ring_after_locked(d, prev_wr);
}


/*
 * Send the releases owed (lock held): one RELEASE_SET per 16 head blocks at most. Called at the end of a drain, so
 * a burst of DATA costs a few control messages back, not one per buffer; what the ring has no room for stays owed
 * until the next drain. Each message gets its own doorbell check: a reader that took the one before it may have
 * stopped before it (pbuf_doorbell_needed() answers for the last write only).
 */
static void flush_pending_locked(struct ipc_multi_data *d)
{
	while (d->pending_words) {
		uint32_t w = (uint32_t)__builtin_ctz(d->pending_words);
		for (uint32_t sh = 0; sh < 32u; sh += 16u) {
			uint32_t mask = (d->pending_rel[w] >> sh) & 0xFFFFu, prev_wr = d->tx.wr_idx;
			if (!mask)
				continue;
			if (ctrl_locked(d, IPC_MULTI_MSG_RELEASE_SET, (uint8_t)(w * 32u + sh), mask))
				return;
			d->pending_rel[w] &= ~(mask << sh);
			ring_after_locked(d, prev_wr);
		}
		d->pending_words &= (uint8_t)~(1u << w);
	}
	d->owed_now = 0;
}

/*
 * The receiver is done with DATA buffer @b of @len bytes (lock held): its release goes out with the others of this
 * pass, or now once a quarter of the peer's blocks wait for theirs: a pass lasts as long as the peer keeps sending
 * (and lingers, IPC_MULTI_RX_LINGER_US), and a peer that sends from its own callbacks (an echo) must get blocks
 * back meanwhile.
 */
static void defer_release_locked(struct ipc_multi_data *d, uint32_t b, uint32_t len)
{
	d->rx_state[b] = R_FREE;
	owe_release_locked(d, b);
	d->owed_now = (uint16_t)(d->owed_now + blocks_for(&d->rxl, len));
	if (d->owed_now >= d->rxl.block_count / 4u)
		flush_pending_locked(d);
}

/* ---- binding ---- */

/*
 * Initiator: advertise every registered endpoint that is not bound and has no BOUND in flight (lock held). One that
 * finds no blocks or no room in the ring leaves the rest owed (`adv_owed`): on_release() advertises again.
 */
static void advertise_locked(struct ipc_multi_data *d)
{
	if (!d->initiator || atomic_load(&d->state) != IPC_MULTI_CONNECTED)
		return;
	d->adv_owed = true;
	for (unsigned i = 0; i < IPC_MULTI_MAX_EPT; i++) {
		struct ipc_multi_ept *e = &d->ept[i];
		if (!e->used || atomic_load(&e->bound) || e->bound_block >= 0)
			continue;
		uint32_t nlen = (uint32_t)__builtin_strlen(e->cfg->name) + 1u;
		int h = alloc_locked(d, blocks_for(&d->txl, nlen), B_INFLIGHT, (uint8_t)i);
		if (h < 0)
			return; /* retried when blocks come back */
		uint8_t *blk = tx_block(d, (uint32_t)h);
		ampl_put_le32(blk, nlen);
		ampl_memcpy(blk + IPC_MULTI_BUF_HDR, e->cfg->name, nlen);
		ampl_cache_clean(blk, IPC_MULTI_BUF_HDR + nlen);
		if (ctrl_locked(d, IPC_MULTI_MSG_BOUND, (uint8_t)i, (uint32_t)h)) {
			free_buf_locked(d, (uint32_t)h, B_FREE);
			return;
		}
		e->bound_block = (int16_t)h;
		ring_locked(d);
	}
	d->adv_owed = false;
}

/* Copy and validate the name in rx block @b into @out (IPC_MULTI_NAME_MAX bytes): @out, or NULL. */
static const char *rx_name(struct ipc_multi_data *d, uint32_t b, char *out)
{
	uint8_t *blk = rx_block(d, b);
	uint32_t span = (d->rxl.block_count - b) * d->rxl.block_size - IPC_MULTI_BUF_HDR;
	ampl_cache_invalidate(blk, IPC_MULTI_BUF_HDR);
	uint32_t len = ampl_get_le32(blk);
	if (len < 2u || len > span || len > IPC_MULTI_NAME_MAX)
		return NULL;
	ampl_cache_invalidate(blk + IPC_MULTI_BUF_HDR, len);
	const volatile char *name = (const volatile char *)blk + IPC_MULTI_BUF_HDR;
	for (uint32_t i = 0; i < len; i++) {
		out[i] = name[i]; /* read once: the peer cannot change it under the comparison */
		if (out[i] == '\0')
			return i ? out : NULL;
	}
	return NULL; /* not NUL-terminated within its length */
}

/* Follower: bind slot @i to wire address @addr whose name is in rx block @b (lock held). */
static void follower_bind_locked(struct ipc_multi_data *d, unsigned i, uint8_t addr, uint32_t b)
{
	struct ipc_multi_ept *e = &d->ept[i];
	e->addr = addr;
	d->addr_map[addr] = (uint8_t)(i + 1u);
	d->waiting_bound[addr] = -1;
	atomic_store(&e->bound, true);
	release_rx_locked(d, b, IPC_MULTI_MSG_RELEASE_BOUND, addr);
}

/* ---- sessions (since wire version 2; the scheme of icmsg.c's session mode) ---- */

/* Our handshake word: in the rx region, the word its reader (this side) owns. */
static void hs_write(struct ipc_multi_data *d, uint16_t local, uint16_t remote_ack)
{
	(void)pbuf_handshake_write(&d->rx, (uint32_t)local | (uint32_t)remote_ack << 16);
}

/* The peer's word (its id | the id of ours it acknowledges << 16), from the tx region. */
static uint32_t hs_peer(const struct ipc_multi_data *d)
{
	uint32_t w = 0;
	(void)pbuf_handshake_read(&d->tx, &w);
	return w;
}

/* The id after @prev: never 0 (closed) and never @acked, the id of ours the peer acknowledges now. */
static uint16_t next_sid(uint16_t prev, uint16_t acked)
{
	uint16_t sid = prev;
	do
		sid++;
	while (sid == SID_NONE || sid == acked);
	return sid;
}

/* Restart the tx ring and write HELLO first in it (lock held, or before the channels are bound). */
static int tx_restart_locked(struct ipc_multi_data *d)
{
	uint8_t hello[IPC_MULTI_HELLO_LEN] = { 0 };
	ampl_memcpy(hello, hello_magic, sizeof(hello_magic));
	hello[6] = IPC_MULTI_WIRE_VERSION;
	hello[7] = IPC_MULTI_INLINE_MAX ? d->cfg->inline_max : 0u;
	ampl_put_le32(hello + 8, d->txl.block_size);
	ampl_put_le32(hello + 12, d->txl.block_count);
	int r = -EIO;
	/* An empty ring takes HELLO, unless a reader still finishing a read of the previous session stored its old
	 * rd_idx right after the reset: that happens once, so a second reset is enough. */
	for (int i = 0; i < 3 && r < 0; i++) {
		(void)pbuf_tx_init(&d->tx, &d->tx.cfg);
		r = pbuf_write(&d->tx, hello, sizeof(hello));
	}
	return r < 0 ? r : 0;
}

/*
 * Take the link down (lock held; RX context, or open/close): every binding ends (the endpoints that were bound
 * are marked `lost`, report_lost() calls their unbound()), every tx block in flight comes back (a restarted peer
 * never releases it), what we received, held or kept waiting from the peer is forgotten (its blocks are its own
 * again), and releases not sent yet are dropped. A buffer the user obtained and has not sent stays the user's.
 */
static void link_down_locked(struct ipc_multi_data *d)
{
	if (atomic_load(&d->state) != IPC_MULTI_OFF)
		atomic_store(&d->state, IPC_MULTI_BONDING);
	d->rx_ready = false;
	if (IPC_MULTI_INLINE_MAX)
		__atomic_store_n(&d->peer_inline, 0, __ATOMIC_RELAXED); /* ipc_multi_send() looks without the lock */
	for (unsigned i = 0; i < IPC_MULTI_MAX_EPT; i++) {
		struct ipc_multi_ept *e = &d->ept[i];
		if (e->used && atomic_load(&e->bound))
			e->lost = true;
		atomic_store(&e->bound, false);
		e->addr = NO_ADDR;
		e->bound_block = -1;
	}
	ampl_memset(d->addr_map, 0, sizeof(d->addr_map));
	ampl_memset(d->waiting_bound, 0xFF, sizeof(d->waiting_bound)); /* -1: none */
	for (uint32_t b = 0; b < d->txl.block_count; b++)
		if (d->tx_state[b] == B_INFLIGHT)
			free_buf_locked(d, b, B_FREE);
	ampl_memset(d->rx_state, R_FREE, sizeof(d->rx_state));
	ampl_memset(d->pending_rel, 0, sizeof(d->pending_rel));
	d->pending_words = 0;
	d->owed_now = 0;
	d->adv_owed = false; /* the next HELLO advertises every endpoint */
	ampl_memset(d->retired, 0, sizeof(d->retired));
	d->fault = 0;
}

/* After link_down_locked() (lock not held): unbound() for the endpoints it marked, and wake blocked getters. */
static void report_lost(struct ipc_multi_data *d)
{
	wake_waiters(d);
	call_each(d, NULL);
}

/*
 * Follow the peer's handshake word (RX context). A new peer id (a restart, a re-open, or the peer's new session
 * after it lost us) takes the link down, restarts our tx ring with HELLO and acknowledges the id; the peer reads
 * our ring only once it sees that acknowledgement, so it never reads what the reset leaves behind. Id 0 (the
 * peer closed) takes the link down and waits. Once the peer acknowledges our id, it has restarted its own ring
 * (our rx ring) for our session: from then on the rx ring is read, HELLO first.
 */
static void session_step(struct ipc_multi_data *d)
{
	uint32_t w = hs_peer(d);
	uint16_t rsid = (uint16_t)(w & 0xFFFFu), ack = (uint16_t)(w >> 16);
	if (rsid != d->remote_sid) {
		unsigned key = ampl_spin_lock(&d->lock);
		link_down_locked(d);
		d->remote_sid = rsid;
		if (rsid == SID_NONE) {
			hs_write(d, d->local_sid, SID_NONE);
		} else {
			(void)tx_restart_locked(d);
			/* The ring reset and HELLO (release stores of the indices) are ordered before the acknowledgement
			 * (a release store as well); the barrier says so for a port whose stores are weaker. */
			ampl_mb();
			hs_write(d, d->local_sid, rsid);
			ring_locked(d);
		}
		ampl_spin_unlock(&d->lock, key);
		report_lost(d);
	}
	if (!d->rx_ready && d->remote_sid != SID_NONE && ack == d->local_sid &&
	    atomic_load(&d->state) != IPC_MULTI_OFF) {
		(void)pbuf_rx_init(&d->rx, &d->rx.cfg);
		d->rx_ready = true;
		d->fault = 0;
	}
}

/* Whether the peer is still in the session the last control message was read from (ICMsg's rule). */
static bool same_session(const struct ipc_multi_data *d)
{
	return (uint16_t)(hs_peer(d) & 0xFFFFu) == d->remote_sid;
}

/*
 * The transport says the peer is unreachable (RX context): end the session as the peer's close would, and start
 * a new one of ours, so that whatever the peer does next (a restarted process opens with a new id, the same one
 * comes back online and sees our new id) both sides restart their rings and bind again through the handshake.
 * The new id is published before the blocks in flight are reclaimed: a peer still reading our ring accepts no
 * message after it (it checks our id after every read).
 */
static void peer_offline(struct ipc_multi_data *d)
{
	if (atomic_load(&d->state) == IPC_MULTI_OFF)
		return;
	uint16_t acked = (uint16_t)(hs_peer(d) >> 16);
	unsigned key = ampl_spin_lock(&d->lock);
	d->local_sid = next_sid(d->local_sid, acked);
	hs_write(d, d->local_sid, SID_NONE);
	ampl_mb(); /* the new id is visible before any block is reused */
	link_down_locked(d);
	d->remote_sid = SID_NONE;
	ampl_spin_unlock(&d->lock, key);
	report_lost(d);
}

/* ---- RX processing (mailbox RX context) ---- */

static void on_hello(struct ipc_multi_data *d, const uint8_t *m, int n)
{
	if (n < (int)IPC_MULTI_HELLO_LEN || !ampl_bytes_eq(m, hello_magic, sizeof(hello_magic)) ||
	    m[6] != IPC_MULTI_WIRE_VERSION) {
		inst_error(d, ERR_TEXT(
			"ipc_multi: the peer's first control message is not a valid HELLO (version 3): ignored"));
		return;
	}
	uint32_t bs = ampl_get_le32(m + 8), cnt = ampl_get_le32(m + 12);
	struct ipc_multi_layout lo;
	if (ipc_multi_layout(&lo, d->cfg->rx_size, d->cfg->dcache_alignment, bs, cnt)) {
		inst_error(d, ERR_TEXT(
				"ipc_multi: the peer's block geometry does not fit the rx region: not connecting"));
		int bonding = IPC_MULTI_BONDING; /* not over a close that turned it off meanwhile */
		(void)atomic_compare_exchange_strong(&d->state, &bonding, IPC_MULTI_FAULT); /* until a new session */
		return;
	}
	unsigned key = ampl_spin_lock(&d->lock);
	/* Only a bonding instance connects: close_instance may have turned it off while this callback ran. */
	int bonding = IPC_MULTI_BONDING;
	if (!atomic_compare_exchange_strong(&d->state, &bonding, IPC_MULTI_CONNECTED)) {
		ampl_spin_unlock(&d->lock, key);
		return;
	}
	d->rxl = lo;
	/* What the peer takes inline (within what this build writes), and the ring room an inline message leaves for
	 * the control messages that can be outstanding: DATA per tx block, a release per rx block, two per endpoint,
	 * HELLO. */
	if (IPC_MULTI_INLINE_MAX) {
		__atomic_store_n(&d->peer_inline, m[7] > IPC_MULTI_INLINE_MAX ? (uint8_t)IPC_MULTI_INLINE_MAX : m[7],
				 __ATOMIC_RELAXED);
		d->ring_keep = (uint16_t)(IPC_MULTI_RING_PER_MSG *
					  (d->txl.block_count + lo.block_count + 2u * IPC_MULTI_MAX_EPT + 8u));
	}
	ampl_memset(d->rx_state, R_FREE, sizeof(d->rx_state));
	ring_locked(d); /* as ICMsg: ring again, so a peer that opened after our first doorbell hears us */
	advertise_locked(d);
	ampl_spin_unlock(&d->lock, key);
}

static void on_bound(struct ipc_multi_data *d, uint8_t addr, uint32_t b)
{
	if (d->initiator || addr >= NO_ADDR - 1u) {
		inst_error(d, ERR_TEXT("ipc_multi: BOUND from the follower or with an invalid address: ignored"));
		return;
	}
	if (b >= d->rxl.block_count || d->rx_state[b] != R_FREE) {
		inst_error(d, ERR_TEXT("ipc_multi: BOUND names an invalid or busy block: ignored"));
		return;
	}
	char nbuf[IPC_MULTI_NAME_MAX];
	const char *name = rx_name(d, b, nbuf);
	unsigned key = ampl_spin_lock(&d->lock);
	if (!name) {
		ampl_spin_unlock(&d->lock, key);
		inst_error(d, ERR_TEXT("ipc_multi: BOUND block holds no valid name (length or NUL): released"));
		key = ampl_spin_lock(&d->lock);
		release_rx_locked(d, b, IPC_MULTI_MSG_RELEASE, 0);
		ampl_spin_unlock(&d->lock, key);
		return;
	}
	/* The initiator sends DATA to the address again only for a binding made after this BOUND (its DATA sent before
	 * came first in its ring): the address is live. */
	d->retired[addr / 32] &= ~(1u << (addr % 32));
	if (d->waiting_bound[addr] >= 0) /* a stale advertisement for the same address: give it back */
		release_rx_locked(d, (uint32_t)d->waiting_bound[addr], IPC_MULTI_MSG_RELEASE, 0);
	d->waiting_bound[addr] = -1;
	bool stale = false;
	if (d->addr_map[addr]) { /* a stale binding (missed UNBOUND): forget it, unbound() before any new bound() */
		struct ipc_multi_ept *old = &d->ept[d->addr_map[addr] - 1u];
		old->addr = NO_ADDR;
		if (atomic_exchange(&old->bound, false))
			stale = old->lost = true;
		d->addr_map[addr] = 0;
	}
	struct ipc_multi_ept *hit = NULL;
	for (unsigned i = 0; i < IPC_MULTI_MAX_EPT; i++) {
		struct ipc_multi_ept *e = &d->ept[i];
		if (e->used && e->addr == NO_ADDR && !e->binding && ampl_str_eq(e->cfg->name, name)) {
			follower_bind_locked(d, i, addr, b);
			hit = e;
			break;
		}
	}
	if (!hit) {
		d->rx_state[b] = R_WAITING;
		d->waiting_bound[addr] = (int16_t)b;
	}
	const struct ipc_ept_cfg *cfg = call_begin_locked(hit);
	ampl_spin_unlock(&d->lock, key);
	if (stale)
		report_lost(d);
	call_link_cb(hit, cfg, true);
}

/* The peer released our tx block @b, in flight (lock held). */
static void tx_released_locked(struct ipc_multi_data *d, uint32_t b)
{
	/* The follower answered a slot's current BOUND, so it read the UNBOUND we sent before it: DATA to the slot is
	 * for this registration from here on (on_data()). */
	uint8_t owner = d->tx_owner[b];
	if (d->initiator && owner < IPC_MULTI_MAX_EPT && d->ept[owner].used && d->ept[owner].bound_block == (int16_t)b)
		d->retired[owner / 32] &= ~(1u << (owner % 32));
	free_buf_locked(d, b, B_FREE);
}

/*
 * A RELEASE or RELEASE_BOUND of our tx block @b, or a RELEASE_SET (@addr: the base block, @b: the mask). A block
 * that is not in flight is reported and skipped; the others are freed.
 */
static void on_release(struct ipc_multi_data *d, uint8_t type, uint8_t addr, uint32_t b)
{
	uint32_t base = b, mask = 1;
	if (type == IPC_MULTI_MSG_RELEASE_SET) {
		base = addr;
		mask = b;
	}
	bool bad = false; /* an empty set frees nothing */
	struct ipc_multi_ept *newly = NULL;
	unsigned key = ampl_spin_lock(&d->lock);
	for (; mask; mask &= mask - 1u) {
		uint32_t blk = base + (uint32_t)__builtin_ctz(mask);
		if (blk < d->txl.block_count && d->tx_state[blk] == B_INFLIGHT)
			tx_released_locked(d, blk);
		else
			bad = true;
	}
	if (!bad && type == IPC_MULTI_MSG_RELEASE_BOUND && d->initiator && addr < IPC_MULTI_MAX_EPT) {
		struct ipc_multi_ept *e = &d->ept[addr];
		if (e->used && e->bound_block == (int16_t)b) {
			e->bound_block = -1;
			if (!atomic_load(&e->bound)) {
				atomic_store(&e->bound, true);
				newly = e;
			}
		}
	}
	if (d->adv_owed) /* blocks came back: what advertise_locked() could not send before */
		advertise_locked(d);
	const struct ipc_ept_cfg *cfg = call_begin_locked(newly);
	ampl_spin_unlock(&d->lock, key);
	wake_waiters(d);
	if (bad)
		inst_error(d, ERR_TEXT("ipc_multi: RELEASE of a block that is not in flight: ignored"));
	call_link_cb(newly, cfg, true);
}

static void on_unbound(struct ipc_multi_data *d, uint8_t addr)
{
	struct ipc_multi_ept *e = NULL;
	unsigned key = ampl_spin_lock(&d->lock);
	if (d->initiator) {
		if (addr < IPC_MULTI_MAX_EPT && d->ept[addr].used && atomic_load(&d->ept[addr].bound)) {
			e = &d->ept[addr];
			atomic_store(&e->bound, false);
		}
		advertise_locked(d); /* advertise again for the follower's next registration */
	} else {
		if (d->waiting_bound[addr] >= 0) {
			release_rx_locked(d, (uint32_t)d->waiting_bound[addr], IPC_MULTI_MSG_RELEASE, 0);
			d->waiting_bound[addr] = -1;
		}
		if (d->addr_map[addr]) {
			e = &d->ept[d->addr_map[addr] - 1u];
			d->addr_map[addr] = 0;
			e->addr = NO_ADDR;
			atomic_store(&e->bound, false);
		}
	}
	const struct ipc_ept_cfg *cfg = call_begin_locked(e);
	ampl_spin_unlock(&d->lock, key);
	call_link_cb(e, cfg, false);
}

/* We sent UNBOUND for wire address @addr (lock held): see d->retired. */
static bool retired_addr(const struct ipc_multi_data *d, uint8_t addr)
{
	return d->retired[addr / 32] >> (addr % 32) & 1u;
}

/*
 * The endpoint a message (DATA or INLINE) to wire address @addr is for, or NULL (lock held). On the initiator a
 * message on an address also binds its endpoint, as ICBMsg: *@newly then says its bound() is due.
 */
static struct ipc_multi_ept *rx_ept_locked(struct ipc_multi_data *d, uint8_t addr, bool *newly)
{
	struct ipc_multi_ept *e = NULL;
	*newly = false;
	if (d->initiator) {
		/* A slot we sent UNBOUND for takes no DATA until the follower answers the BOUND of its next registration:
		 * until then DATA to it was sent to the previous one (before the follower read the UNBOUND), and binding
		 * the new registration on it would deliver the old binding's messages. */
		if (!retired_addr(d, addr) && addr < IPC_MULTI_MAX_EPT && d->ept[addr].used)
			e = &d->ept[addr];
		if (e && !atomic_load(&e->bound)) {
			atomic_store(&e->bound, true);
			*newly = true;
		}
	} else if (d->addr_map[addr]) {
		e = &d->ept[d->addr_map[addr] - 1u];
	}
	return e;
}

static void on_data(struct ipc_multi_data *d, uint8_t addr, uint32_t b)
{
	if (b >= d->rxl.block_count) {
		inst_error(d, ERR_TEXT("ipc_multi: DATA names a block out of range: ignored"));
		return;
	}
	unsigned key = ampl_spin_lock(&d->lock);
	if (d->rx_state[b] != R_FREE) {
		ampl_spin_unlock(&d->lock, key);
		inst_error(d, ERR_TEXT("ipc_multi: DATA names a block still in use: ignored"));
		return;
	}
	bool newly;
	struct ipc_multi_ept *e = rx_ept_locked(d, addr, &newly);
	uint8_t *blk = rx_block(d, b);
	ampl_cache_invalidate(blk, IPC_MULTI_BUF_HDR);
	uint32_t len = ampl_get_le32(blk);
	uint32_t span = (d->rxl.block_count - b) * d->rxl.block_size - IPC_MULTI_BUF_HDR;
	const struct ipc_ept_cfg *cfg = call_begin_locked(e);
	if (!e || len == 0 || len > span) {
		release_rx_locked(d, b, IPC_MULTI_MSG_RELEASE, 0);
		bool retired = !e && retired_addr(d, addr);
		ampl_spin_unlock(&d->lock, key);
		if (retired)
			return; /* sent before the peer read our UNBOUND for it: released, not reported */
		if (!e) {
			inst_error(d, ERR_TEXT("ipc_multi: DATA for an unknown endpoint address: released"));
		} else {
			ept_error(d, cfg, ERR_TEXT("ipc_multi: DATA with an invalid length: released"));
			call_end(e);
		}
		return;
	}
	d->rx_state[b] = R_DELIVERING;
	d->rx_owner[b] = (uint8_t)(e - d->ept);
	d->rx_cur = (int)b;
	ampl_spin_unlock(&d->lock, key);
	if (newly && cfg->cb.bound)
		cfg->cb.bound(cfg->priv);
	ampl_cache_invalidate(blk + IPC_MULTI_BUF_HDR, len);
	AMPL_TRACE(AMPL_EV_MULTI_RX, d, len);
	if (cfg->cb.received)
		cfg->cb.received(blk + IPC_MULTI_BUF_HDR, len, cfg->priv);
	call_end(e);
	key = ampl_spin_lock(&d->lock);
	d->rx_cur = -1;
	if (d->rx_state[b] == R_DELIVERING)
		defer_release_locked(d, b, len);
	ampl_spin_unlock(&d->lock, key);
}

#if IPC_MULTI_INLINE_MAX
/* INLINE for wire address @addr: the message @msg of @n bytes, @len by its header (RX context). */
static void on_inline(struct ipc_multi_data *d, uint8_t addr, const uint8_t *msg, int n, uint32_t len)
{
	if (len == 0 || len > d->cfg->inline_max || (uint32_t)n != len) {
		inst_error(d, ERR_TEXT("ipc_multi: INLINE length invalid or above inline-max: ignored"));
		return;
	}
	unsigned key = ampl_spin_lock(&d->lock);
	bool newly;
	struct ipc_multi_ept *e = rx_ept_locked(d, addr, &newly);
	const struct ipc_ept_cfg *cfg = call_begin_locked(e);
	bool retired = !e && retired_addr(d, addr);
	ampl_spin_unlock(&d->lock, key);
	if (!e) {
		if (!retired) /* sent before the peer read our UNBOUND for it: dropped, not reported */
			inst_error(d, ERR_TEXT("ipc_multi: INLINE for an unknown endpoint address: ignored"));
		return;
	}
	if (newly && cfg->cb.bound)
		cfg->cb.bound(cfg->priv);
	AMPL_TRACE(AMPL_EV_MULTI_RX, d, len);
	__atomic_store_n(&d->rx_inline, msg, __ATOMIC_RELAXED); /* hold_rx_buffer() on it: -ENOTSUP */
	if (cfg->cb.received)
		cfg->cb.received(msg, len, cfg->priv);
	__atomic_store_n(&d->rx_inline, NULL, __ATOMIC_RELAXED);
	call_end(e);
}
#endif

static void rx_fault(struct ipc_multi_data *d, int err)
{
	if (err == -EAGAIN || err == d->fault)
		return;
	d->fault = err;
	inst_error(d, err == -ENOMEM ? ERR_TEXT(
			"ipc_multi: control message longer than any known: ring not read further")
				     : ERR_TEXT("ipc_multi: corrupt control ring: not read further"));
}

static void dispatch(struct ipc_multi_data *d, const uint8_t *m, int n)
{
	if (n < (int)IPC_MULTI_MSG_LEN) {
		inst_error(d, ERR_TEXT("ipc_multi: short control message: ignored"));
		return;
	}
	/* Longer messages: the first 4 bytes count (room for later versions); unknown types are ignored. */
	uint32_t b = (uint32_t)m[2] | (uint32_t)m[3] << 8;
	switch (m[0]) {
	case IPC_MULTI_MSG_DATA:
		on_data(d, m[1], b);
		break;
	case IPC_MULTI_MSG_RELEASE:
	case IPC_MULTI_MSG_RELEASE_BOUND:
	case IPC_MULTI_MSG_RELEASE_SET:
		on_release(d, m[0], m[1], b);
		break;
	case IPC_MULTI_MSG_BOUND:
		on_bound(d, m[1], b);
		break;
	case IPC_MULTI_MSG_UNBOUND:
		on_unbound(d, m[1]);
		break;
#if IPC_MULTI_INLINE_MAX
	case IPC_MULTI_MSG_INLINE:
		on_inline(d, m[1], m + IPC_MULTI_MSG_LEN, n - (int)IPC_MULTI_MSG_LEN, b);
		break;
#endif
	default:
		break;
	}
}

/* Read the rx ring until it is empty or cannot be read further: whether a message was taken. */
static bool drain(struct ipc_multi_data *d)
{
	uint32_t mw[(RX_MSG_MAX + 3u) / 4u]; /* 4-aligned: an inline message is at an aligned address */
	uint8_t *m = (uint8_t *)mw;
	for (bool took = false;; took = true) {
		int st = atomic_load(&d->state);
		if (st == IPC_MULTI_OFF || st == IPC_MULTI_FAULT || !d->rx_ready)
			return took; /* the rx ring is read only once the peer acknowledged our session */
		int n = pbuf_read(&d->rx, m, sizeof(mw));
		if (n == 0)
			return took;
		/* Take what was read only if the peer is still in the session it was written in: a restarting peer
		 * publishes its new id before it resets its ring, so this drops whatever the reset left behind. */
		if (!same_session(d)) {
			session_step(d);
			continue;
		}
		if (n < 0) {
			rx_fault(d, n);
			return took;
		}
		d->fault = 0;
		if (st == IPC_MULTI_BONDING)
			on_hello(d, m, n);
		else
			dispatch(d, m, n);
	}
}

#if IPC_MULTI_RX_LINGER_US
/*
 * This thread has sent outside a receive pass (of any instance): its passes do not linger, as an application
 * thread that sends, then runs its handler until the answer is there, would only delay its next message. A
 * doorbell thread that sends only from callbacks (an echo) lingers.
 */
static _Thread_local bool app_sender, in_pass;
#define NOTE_APP_TX() ((void)(in_pass || (app_sender = true)))

/* The pass took a message: watch the rx ring for IPC_MULTI_RX_LINGER_US at most; true if another one came. */
static bool linger(struct ipc_multi_data *d)
{
	uint64_t end = ampl_os_uptime_us() + IPC_MULTI_RX_LINGER_US;
	for (unsigned i = 1; atomic_load(&d->state) == IPC_MULTI_CONNECTED; i++) {
		if (pbuf_read(&d->rx, NULL, 0) != 0)
			return true;
		ampl_cpu_relax();
		if (!(i & 15u) && ampl_os_uptime_us() >= end)
			break;
	}
	return false;
}
#else
#define NOTE_APP_TX() ((void)0)
#endif

static void process(struct ipc_multi_data *d)
{
	if (atomic_load(&d->state) == IPC_MULTI_OFF)
		return;
	session_step(d);
#if IPC_MULTI_RX_LINGER_US
	/* A peer streaming meanwhile is read on, and its buffers are released in sets, not one set per message. While
	 * the pass may linger, the rx ring is held (pbuf_rx_hold()): its read index stays behind the peer's last
	 * message, so the peer does not ring a reader that is watching the ring. The hold ends with a read until the
	 * ring is empty, which stores the index: from then on the peer rings for what it writes. */
	bool outer = in_pass, hold = !app_sender;
	in_pass = true;
	if (d->cfg->polled) {
		/* Polled: held until the next ipc_multi_poll(), which is the linger. */
		(void)pbuf_rx_hold(&d->rx, true);
		(void)drain(d);
	} else {
		if (hold)
			(void)pbuf_rx_hold(&d->rx, true);
		for (;;) {
			while (drain(d) && hold && linger(d))
				;
			if (!hold)
				break;
			hold = false;
			(void)pbuf_rx_hold(&d->rx, false);
		}
	}
	in_pass = outer;
#else
	(void)drain(d);
#endif
	/* The releases of this pass (and any the ring had no room for before), together. */
	unsigned key = ampl_spin_lock(&d->lock);
	if (d->pending_words) /* owed only while connected: a link down forgets them */
		flush_pending_locked(d);
	ampl_spin_unlock(&d->lock, key);
}

/* RX context: a doorbell (@ev < 0), or the peer went offline (0) or came back (1). */
__attribute__((noinline)) static void on_rx(struct ipc_multi_data *d, int ev)
{
	if (ev == 0) {
		peer_offline(d);
		return;
	}
	if (ev > 0 && atomic_load(&d->state) != IPC_MULTI_OFF) {
		/* Show the peer our handshake word (it may have missed our doorbells while it was away). */
		unsigned key = ampl_spin_lock(&d->lock);
		ring_locked(d);
		ampl_spin_unlock(&d->lock, key);
	}
	process(d);
}

#if AMPL_IPC_LINK_MBOX
static void on_doorbell(struct mbox_client *cl, void *mssg)
{
	(void)mssg;
	on_rx(AMPL_CONTAINER_OF(cl, struct ipc_multi_data, link.cl_rx), -1);
}

static void on_link_state(struct mbox_client *cl, bool online)
{
	on_rx(AMPL_CONTAINER_OF(ampl_ipc_link_state(cl), struct ipc_multi_data, link), online);
}
#endif

/* ---- backend operations ---- */


int ipc_multi_open_instance(const struct ampl_device *instance)
{
	struct ipc_multi_data *d = data_of(instance);
	const struct ipc_multi_config *cfg = instance ? instance->config : NULL;
	if (!d || !cfg || !cfg->tx_mem || !cfg->rx_mem || cfg->inline_max > IPC_MULTI_INLINE_MAX)
		return -EINVAL;
	if (!ampl_ipc_link_configured(cfg->doorbell, cfg->mbox_node, cfg->tx_chan, cfg->rx_chan))
		return -EINVAL;
	if (atomic_load(&d->state) != IPC_MULTI_OFF)
		return -EALREADY;
	if ((uint8_t *)cfg->tx_mem < (uint8_t *)cfg->rx_mem + cfg->rx_size &&
	    (uint8_t *)cfg->rx_mem < (uint8_t *)cfg->tx_mem + cfg->tx_size)
		return -EINVAL;
	struct ipc_multi_layout lo;
	uint32_t cnt = cfg->block_count ? cfg->block_count : 16u;
	if (ipc_multi_layout(&lo, cfg->tx_size, cfg->dcache_alignment, cfg->block_size, cnt))
		return -EINVAL;
	struct pbuf_cfg txc, rxc;
	if (pbuf_cfg_init(&txc, cfg->tx_mem, lo.ring_size, cfg->dcache_alignment, true))
		return -EINVAL;
	if (pbuf_cfg_init(&rxc, cfg->rx_mem, lo.ring_size, cfg->dcache_alignment, true) ||
	    cfg->rx_size <= lo.ring_size)
		return -EINVAL;

	d->cfg = cfg;
	d->txl = lo;
	ampl_memset(&d->rxl, 0, sizeof(d->rxl));
	d->initiator = (uint8_t *)cfg->rx_mem < (uint8_t *)cfg->tx_mem;
	d->rx_cur = -1;
	d->rx_inline = NULL;
	d->bell_owed = false;
	atomic_flag_clear(&d->lock);
	ampl_memset(d->tx_state, B_FREE, sizeof(d->tx_state));
	link_down_locked(d); /* the rest of the state: nothing bound, in flight or received (state stays OFF) */
	(void)pbuf_rx_init(&d->rx, &rxc);
	d->tx.cfg = txc; /* tx_restart_locked() below initialises the writer */

	/* A new session id: not 0, not our previous one (kept in shared memory, so a restarted process does not
	 * reuse it), not the one the peer acknowledges now. It is published BEFORE our tx ring is reset: a peer still
	 * connected to our previous session checks our id after every message it reads, so it never takes one read
	 * from the ring while it is being reset. */
	uint32_t mine = 0, peer = 0;
	struct pbuf peer_view; /* a reader's view of our tx region, only to read the peer's word */
	(void)pbuf_rx_init(&peer_view, &txc);
	(void)pbuf_handshake_read(&d->rx, &mine);
	(void)pbuf_handshake_read(&peer_view, &peer);
	uint16_t prev = d->local_sid ? d->local_sid : (uint16_t)(mine & 0xFFFFu);
	d->local_sid = next_sid(prev, (uint16_t)(peer >> 16));
	d->remote_sid = SID_NONE;
	hs_write(d, d->local_sid, SID_NONE);
	ampl_mb(); /* the new id is visible before the ring reset below */
	/* Our ring restarts with HELLO here, and again when the peer's id shows (session_step()), right before we
	 * acknowledge it: the peer reads our ring only after that, so nothing of our previous session reaches it. */
	(void)tx_restart_locked(d);
	atomic_store(&d->state, IPC_MULTI_BONDING);

	int err = ampl_ipc_link_open(&d->link, &d->lock, cfg->doorbell, cfg->mbox_node, cfg->tx_chan, cfg->rx_chan,
				     AMPL_IPC_LINK_CB(on_doorbell), AMPL_IPC_LINK_CB(on_link_state));
	if (err) {
		atomic_store(&d->state, IPC_MULTI_OFF);
		hs_write(d, SID_NONE, SID_NONE); /* as closed */
		return err;
	}
	unsigned key = ampl_spin_lock(&d->lock);
	ring_locked(d);
	ampl_spin_unlock(&d->lock, key);
	return 0;
}

int ipc_multi_close_instance(const struct ampl_device *instance)
{
	struct ipc_multi_data *d = data_of(instance);
	if (!d)
		return -EINVAL;
	if (atomic_load(&d->state) == IPC_MULTI_OFF)
		return -EALREADY;
	for (unsigned i = 0; i < IPC_MULTI_MAX_EPT; i++)
		if (d->ept[i].used)
			return -EBUSY;
	/* Under the lock: a link down in the RX context (which moves any other state to BONDING) cannot undo it. */
	unsigned key = ampl_spin_lock(&d->lock);
	atomic_store(&d->state, IPC_MULTI_OFF);
	ampl_spin_unlock(&d->lock, key);
	ampl_ipc_link_stop(&d->link); /* waits for a running RX callback */
	/* Tell the peer: (0, 0) and a doorbell. It takes its link down and waits for our next open. */
	hs_write(d, SID_NONE, SID_NONE);
	key = ampl_spin_lock(&d->lock);
	ring_locked(d);
	ampl_spin_unlock(&d->lock, key);
	/* Let the doorbell reach the peer before the channel goes (a queued one would be cancelled). */
	ampl_ipc_link_close(&d->link, &d->lock, CLOSE_DRAIN_US);
	key = ampl_spin_lock(&d->lock);
	link_down_locked(d); /* nothing of this session survives into the next open */
	d->remote_sid = SID_NONE;
	ampl_spin_unlock(&d->lock, key);
	return 0;
}

/*
 * Follower, in the registering thread: bind @e to a BOUND of its name that arrived before it was registered.
 * bound() runs here BEFORE the binding is published (address map, RELEASE_BOUND): until then the peer sends it
 * nothing and the RX context neither delivers to the endpoint nor binds it elsewhere (`binding`), so no
 * received() or unbound() of this binding can overtake or overlap bound(). The BOUND's block is R_RESERVED
 * meanwhile; if the RX context withdrew it (the initiator's UNBOUND or a newer BOUND released it, or a link down
 * forgot it), the endpoint gets unbound() here instead, and the search starts again.
 */
static void follower_take_waiting(struct ipc_multi_data *d, struct ipc_multi_ept *e)
{
	unsigned slot = (unsigned)(e - d->ept);
	for (;;) {
		int a = -1;
		int16_t b = -1;
		unsigned key = ampl_spin_lock(&d->lock);
		for (unsigned i = 0; e->used && atomic_load(&d->state) == IPC_MULTI_CONNECTED && i < 256; i++) {
			b = d->waiting_bound[i];
			if (b < 0 || d->rx_state[b] != R_WAITING)
				continue;
			char nbuf[IPC_MULTI_NAME_MAX];
			const char *n = rx_name(d, (uint32_t)b, nbuf);
			if (n && ampl_str_eq(n, e->cfg->name)) {
				a = (int)i;
				break;
			}
		}
		if (a < 0) {
			ampl_spin_unlock(&d->lock, key);
			return;
		}
		d->rx_state[b] = R_RESERVED;
		e->binding = true;
		const struct ipc_ept_cfg *cfg = call_begin_locked(e);
		ampl_spin_unlock(&d->lock, key);
		if (cfg->cb.bound)
			cfg->cb.bound(cfg->priv);
		key = ampl_spin_lock(&d->lock);
		bool live = e->used && atomic_load(&d->state) == IPC_MULTI_CONNECTED && d->waiting_bound[a] == b &&
			    d->rx_state[b] == R_RESERVED;
		if (live) {
			follower_bind_locked(d, slot, (uint8_t)a, (uint32_t)b);
			e->binding = false;
		}
		ampl_spin_unlock(&d->lock, key);
		if (live) {
			call_end(e);
			return;
		}
		/* Still `binding`: the RX context binds it to nothing new before this unbound() returned. */
		if (cfg->cb.unbound)
			cfg->cb.unbound(cfg->priv);
		key = ampl_spin_lock(&d->lock);
		e->binding = false;
		ampl_spin_unlock(&d->lock, key);
		call_end(e);
	}
}

int ipc_multi_register_endpoint(const struct ampl_device *instance, void **token, const struct ipc_ept_cfg *cfg)
{
	struct ipc_multi_data *d = data_of(instance);
	if (!d || !cfg || !cfg->name || !token)
		return -EINVAL;
	size_t nlen = __builtin_strlen(cfg->name);
	if (nlen == 0 || nlen + 1u > IPC_MULTI_NAME_MAX)
		return -EINVAL;
	if (atomic_load(&d->state) == IPC_MULTI_OFF)
		return -EINVAL; /* open the instance first */
	if (atomic_flag_test_and_set(&d->reg_busy))
		return -EBUSY;
	struct ipc_multi_ept *hit = NULL;
	int ret = -EBUSY; /* the table is full */
	unsigned key = ampl_spin_lock(&d->lock);
	for (unsigned i = 0; i < IPC_MULTI_MAX_EPT; i++) {
		if (d->ept[i].used && ampl_str_eq(d->ept[i].cfg->name, cfg->name)) {
			ret = -EALREADY; /* one endpoint per name */
			break;
		}
	}
	for (unsigned i = 0; ret == -EBUSY && i < IPC_MULTI_MAX_EPT; i++) {
		struct ipc_multi_ept *e = &d->ept[i];
		if (e->used)
			continue;
		*e = (struct ipc_multi_ept){ .cfg = cfg, .inst = d, .used = true, .addr = NO_ADDR, .bound_block = -1,
					     .claimed = -1 };
		/* Initiator: the slot is its wire address; if we sent UNBOUND for it, it stays retired until the follower
		 * answers the BOUND advertised below (on_release()). */
		*token = e;
		ret = 0;
		if (d->initiator)
			advertise_locked(d);
		else
			hit = e;
		break;
	}
	ampl_spin_unlock(&d->lock, key);
	atomic_flag_clear(&d->reg_busy);
	if (hit)
		follower_take_waiting(d, hit);
	return ret;
}

int ipc_multi_deregister_endpoint(const struct ampl_device *instance, void *token)
{
	struct ipc_multi_data *d;
	struct ipc_multi_ept *e;
	int err = lookup(instance, token, &d, &e);
	if (err)
		return err;
	if (atomic_flag_test_and_set(&d->reg_busy))
		return -EBUSY;
	unsigned key = ampl_spin_lock(&d->lock);
	uint8_t slot = (uint8_t)(e - d->ept);
	uint8_t addr = d->initiator ? slot : e->addr;
	if (addr != NO_ADDR && atomic_load(&d->state) == IPC_MULTI_CONNECTED) {
		if (!ctrl_locked(d, IPC_MULTI_MSG_UNBOUND, addr, 0))
			ring_locked(d);
		/* The peer may send DATA to the address until it reads UNBOUND: not a corruption (on_data()). */
		d->retired[addr / 32] |= 1u << (addr % 32);
	}
	if (!d->initiator && e->addr != NO_ADDR)
		d->addr_map[e->addr] = 0;
	if (e->claimed >= 0)
		free_buf_locked(d, (uint32_t)e->claimed, B_FREE);
	for (uint32_t b = 0; b < d->rxl.block_count; b++)
		if (d->rx_state[b] == R_HELD && d->rx_owner[b] == slot)
			release_rx_locked(d, b, IPC_MULTI_MSG_RELEASE, 0);
	/* A BOUND still in flight comes back with RELEASE / RELEASE_BOUND and is freed then. */
	e->used = false;
	atomic_store(&e->bound, false);
	ampl_spin_unlock(&d->lock, key);
	/* No callback of it starts from here (call_begin_locked() sees it unregistered); wait for those running
	 * (callbacks do not block, and must not deregister), before the slot can be registered again. */
	while (atomic_load(&e->calls))
		ampl_cpu_relax();
	atomic_flag_clear(&d->reg_busy);
	wake_waiters(d);
	return 0;
}

int ipc_multi_get_tx_buffer_size(const struct ampl_device *instance, void *token)
{
	struct ipc_multi_data *d;
	struct ipc_multi_ept *e;
	int err = lookup(instance, token, &d, &e);
	return err ? err : (int)tx_max(d);
}

/*
 * Obtain a buffer of @len bytes for endpoint @e; waits per @wait. With @claim, the buffer becomes @e's obtained,
 * unsent one in the same step (-EALREADY if it has one; -ENOENT once it is deregistered). Head block or a negative
 * code.
 */
static int obtain(struct ipc_multi_data *d, struct ipc_multi_ept *e, uint32_t len, bool claim, ampl_timeout_t wait)
{
	uint32_t n = blocks_for(&d->txl, len);
	uint64_t end = wait.us > 0 ? ampl_os_uptime_us() + (uint64_t)wait.us : 0;
	for (;;) {
		uint32_t seen = atomic_load(&d->free_seq);
		unsigned key = ampl_spin_lock(&d->lock);
		int h;
		if (claim && !e->used)
			h = -ENOENT;
		else if (claim && e->claimed >= 0)
			h = -EALREADY; /* another thread of this endpoint won */
		else
			h = alloc_locked(d, n, B_CLAIMED, (uint8_t)(e - d->ept));
		if (claim && h >= 0)
			e->claimed = (int16_t)h;
		ampl_spin_unlock(&d->lock, key);
		if (h >= 0 || h < -1)
			return h;
		if (wait.us == 0)
			return -ENOBUFS;
		uint32_t tmo = UINT32_MAX;
		if (wait.us > 0) {
			uint64_t now = ampl_os_uptime_us();
			if (now >= end)
				return -ENOBUFS;
			tmo = end - now > 100000u ? 100000u : (uint32_t)(end - now);
		}
		atomic_fetch_add(&d->sleepers, 1);
		(void)ampl_os_wait(&d->free_seq, seen, tmo);
		atomic_fetch_sub(&d->sleepers, 1);
	}
}

/* Publish the buffer at head @h with @len bytes to the peer's endpoint @addr (lock held). */
static int publish_locked(struct ipc_multi_data *d, uint32_t h, uint32_t len, uint8_t addr)
{
	uint8_t *blk = tx_block(d, h);
	ampl_put_le32(blk, len);
	ampl_cache_clean(blk, IPC_MULTI_BUF_HDR + len);
	uint32_t prev_wr = d->tx.wr_idx;
	int r = ctrl_locked(d, IPC_MULTI_MSG_DATA, addr, h);
	if (r)
		return r;
	uint32_t need = blocks_for(&d->txl, len), had = d->tx_nblk[h];
	if (need < had) { /* a shorter message: the tail blocks are free again */
		d->tx_nblk[h + need] = (uint16_t)(had - need);
		free_buf_locked(d, h + need, B_FREE);
	}
	d->tx_nblk[h] = (uint16_t)need;
	d->tx_state[h] = B_INFLIGHT;
	ring_after_locked(d, prev_wr);
	return 0;
}

static uint8_t wire_addr(struct ipc_multi_data *d, struct ipc_multi_ept *e)
{
	return d->initiator ? (uint8_t)(e - d->ept) : e->addr;
}

#if IPC_MULTI_INLINE_MAX
/*
 * Send @len bytes inline, in the control ring (the peer takes them: len <= peer_inline): @len, -EBUSY (not bound), or
 * -ENOMEM: not inline after all (the ring has no room beside what it keeps for control messages, the peer's read
 * index is corrupt, or a link down meanwhile), the caller sends it in a block.
 */
static int send_inline(struct ipc_multi_data *d, struct ipc_multi_ept *e, const void *data, uint32_t len)
{
	uint32_t mw[(INLINE_PKT_MAX + 3u) / 4u];
	uint8_t *m = (uint8_t *)mw;
	ampl_memcpy(m + IPC_MULTI_MSG_LEN, data, len);
	unsigned key = ampl_spin_lock(&d->lock);
	int r = -EBUSY;
	if (atomic_load(&e->bound)) {
		r = -ENOMEM;
		if (len <= d->peer_inline) {
			m[0] = IPC_MULTI_MSG_INLINE;
			m[1] = wire_addr(d, e);
			m[2] = (uint8_t)len;
			m[3] = (uint8_t)(len >> 8);
			uint32_t prev_wr = d->tx.wr_idx;
			if (pbuf_write_keep(&d->tx, m, (uint16_t)(IPC_MULTI_MSG_LEN + len), d->ring_keep) > 0) {
				ring_after_locked(d, prev_wr);
				r = (int)len;
			}
		}
	}
	ampl_spin_unlock(&d->lock, key);
	return r;
}
#endif

int ipc_multi_send(const struct ampl_device *instance, void *token, const void *data, size_t len)
{
	struct ipc_multi_data *d;
	struct ipc_multi_ept *e;
	int err = lookup(instance, token, &d, &e);
	if (err)
		return err;
	if (!data || !len)
		return -EBADMSG;
	if (atomic_load(&d->state) != IPC_MULTI_CONNECTED || !atomic_load(&e->bound))
		return -EBUSY;
	if (len > tx_max(d))
		return -EMSGSIZE;
	NOTE_APP_TX();
#if IPC_MULTI_INLINE_MAX
	if (len <= __atomic_load_n(&d->peer_inline, __ATOMIC_RELAXED)) { /* looked at again under the lock */
		int r = send_inline(d, e, data, (uint32_t)len);
		if (r != -ENOMEM)
			return r;
	}
#endif
	int h = obtain(d, e, (uint32_t)len, false, AMPL_NO_WAIT);
	if (h < 0)
		return -ENOMEM;
	ampl_memcpy(tx_block(d, (uint32_t)h) + IPC_MULTI_BUF_HDR, data, len);
	unsigned key = ampl_spin_lock(&d->lock);
	int r = atomic_load(&e->bound) ? publish_locked(d, (uint32_t)h, (uint32_t)len, wire_addr(d, e)) : -EBUSY;
	if (r)
		free_buf_locked(d, (uint32_t)h, B_FREE);
	ampl_spin_unlock(&d->lock, key);
	if (r)
		wake_waiters(d);
	return r ? (r == -EBUSY ? r : -ENOMEM) : (int)len;
}

/* Sends go through: the link is connected and the endpoint bound (as send() checks). */
bool ipc_multi_is_bound(const struct ampl_device *instance, void *token)
{
	struct ipc_multi_data *d = data_of(instance);
	struct ipc_multi_ept *e = ept_of(d, token);
	return e && atomic_load(&d->state) == IPC_MULTI_CONNECTED && atomic_load(&e->bound);
}

int ipc_multi_get_tx_buffer(const struct ampl_device *instance, void *token, void **data, uint32_t *size, ampl_timeout_t wait)
{
	if (!data || !size)
		return -EINVAL;
	struct ipc_multi_data *d;
	struct ipc_multi_ept *e;
	int err = lookup(instance, token, &d, &e);
	if (err)
		return err;
	if (atomic_load(&d->state) == IPC_MULTI_OFF)
		return -EBUSY;
	if (e->claimed >= 0)
		return -EALREADY;
	uint32_t max = tx_max(d);
	if (*size > max) {
		*size = max;
		return -ENOMEM;
	}
	uint32_t want = *size ? *size : max;
	int h = obtain(d, e, want, true, wait);
	if (h < 0)
		return h;
	*data = tx_block(d, (uint32_t)h) + IPC_MULTI_BUF_HDR;
	*size = d->tx_nblk[h] * d->txl.block_size - IPC_MULTI_BUF_HDR;
	return 0;
}

int ipc_multi_drop_tx_buffer(const struct ampl_device *instance, void *token, const void *data)
{
	struct ipc_multi_data *d;
	struct ipc_multi_ept *e;
	int err = lookup(instance, token, &d, &e);
	if (err)
		return err;
	int h = head_of(d->cfg->tx_mem, &d->txl, data);
	if (h < 0)
		return -ENXIO;
	unsigned key = ampl_spin_lock(&d->lock);
	uint8_t slot = (uint8_t)(e - d->ept);
	int r;
	if (d->tx_owner[h] != slot)
		r = -ENXIO;
	else if (d->tx_state[h] == B_DROPPED)
		r = -EALREADY;
	else if (d->tx_state[h] != B_CLAIMED || e->claimed != h)
		r = -ENXIO;
	else {
		free_buf_locked(d, (uint32_t)h, B_DROPPED);
		e->claimed = -1;
		r = 0;
	}
	ampl_spin_unlock(&d->lock, key);
	if (!r)
		wake_waiters(d);
	return r;
}

int ipc_multi_send_nocopy(const struct ampl_device *instance, void *token, const void *data, size_t len)
{
	struct ipc_multi_data *d;
	struct ipc_multi_ept *e;
	int err = lookup(instance, token, &d, &e);
	if (err)
		return err;
	NOTE_APP_TX();
	unsigned key = ampl_spin_lock(&d->lock);
	int h = e->claimed, r; /* the only buffer it may send: the one it obtained */
	bool tail = false;
	if (h < 0 || data != tx_block(d, (uint32_t)h) + IPC_MULTI_BUF_HDR || d->tx_state[h] != B_CLAIMED)
		r = -ENXIO;
	else if (!len || len > d->tx_nblk[h] * d->txl.block_size - IPC_MULTI_BUF_HDR)
		r = -EBADMSG;
	else if (atomic_load(&d->state) != IPC_MULTI_CONNECTED || !atomic_load(&e->bound))
		r = -EBUSY;
	else {
		uint16_t had = d->tx_nblk[h];
		r = publish_locked(d, (uint32_t)h, (uint32_t)len, wire_addr(d, e));
		tail = d->tx_nblk[h] < had; /* publish_locked() freed the blocks past len */
		if (!r)
			e->claimed = -1;
		else
			r = -EBUSY; /* the control ring is full now: the buffer stays the caller's */
	}
	ampl_spin_unlock(&d->lock, key);
	if (!r && tail)
		wake_waiters(d);
	return r ? r : (int)len;
}

/* Hold (@hold) or release rx buffer @data of endpoint @token, as the zero-copy lifecycle in the header says. */
static int rx_buffer_op(const struct ampl_device *instance, void *token, void *data, bool hold)
{
	struct ipc_multi_data *d;
	struct ipc_multi_ept *e;
	int err = lookup(instance, token, &d, &e);
	if (err)
		return err;
	int r = hold ? -EINVAL : -ENXIO, b = head_of(d->cfg->rx_mem, &d->rxl, data);
	if (b < 0)
		return IPC_MULTI_INLINE_MAX && hold && data && data == __atomic_load_n(&d->rx_inline, __ATOMIC_RELAXED)
			       ? -ENOTSUP
			       : r;
	unsigned key = ampl_spin_lock(&d->lock);
	uint8_t st = d->rx_state[b];
	if (d->rx_owner[b] == (uint8_t)(e - d->ept) && (st == R_HELD || (hold && st == R_DELIVERING))) {
		r = 0;
		if (!hold)
			release_rx_locked(d, (uint32_t)b, IPC_MULTI_MSG_RELEASE, 0);
		else if (st == R_HELD)
			r = -EALREADY;
		else
			d->rx_state[b] = R_HELD;
	}
	ampl_spin_unlock(&d->lock, key);
	return r;
}

int ipc_multi_hold_rx_buffer(const struct ampl_device *instance, void *token, void *data)
{
	return rx_buffer_op(instance, token, data, true);
}

int ipc_multi_release_rx_buffer(const struct ampl_device *instance, void *token, void *data)
{
	return rx_buffer_op(instance, token, data, false);
}

/* Empty when AMPL_IPC_ONE_BACKEND names this backend (see <amplink/ipc_service_backend.h>). */
#if AMPL_IPC_ONE_BACKEND == AMPL_IPC_MULTI
const struct ipc_service_backend ipc_multi_backend;
#else
const struct ipc_service_backend ipc_multi_backend = IPC_MULTI_OPS;
#endif

uint32_t ipc_multi_errors(const struct ampl_device *instance)
{
	struct ipc_multi_data *d = data_of(instance);
	return d ? atomic_load(&d->errors) : 0;
}

int ipc_multi_poll(const struct ampl_device *instance)
{
	struct ipc_multi_data *d = data_of(instance);
	if (!d)
		return -EINVAL;
	if (atomic_load(&d->state) != IPC_MULTI_OFF)
		on_rx(d, -1);
	return 0;
}

int ipc_multi_free_blocks(const struct ampl_device *instance)
{
	struct ipc_multi_data *d = data_of(instance);
	if (!d || atomic_load(&d->state) == IPC_MULTI_OFF)
		return -EINVAL;
	int n = 0;
	unsigned key = ampl_spin_lock(&d->lock);
	for (uint32_t b = 0; b < d->txl.block_count; b++)
		n += d->tx_state[b] == B_FREE || d->tx_state[b] == B_DROPPED;
	ampl_spin_unlock(&d->lock, key);
	return n;
}

bool ipc_multi_is_connected(const struct ampl_device *instance)
{
	struct ipc_multi_data *d = data_of(instance);
	return d && atomic_load(&d->state) == IPC_MULTI_CONNECTED;
}
