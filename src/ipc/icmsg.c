/*
 * ICMsg over pbuf and the mailbox framework (see <amplink/ipc/icmsg.h> for the protocol and the contexts).
 *
 * Doorbells: the link (<amplink/ipc/link.h>) rings the TX channel; on_doorbell() takes the RX channel's, and
 * on_link_state() the transport's report that the peer went offline or came back. A doorbell is needed after a
 * write that the reader may not reach by itself (pbuf_doorbell_needed(); icmsg_send() also rings when one is
 * owed).
 */
#include <amplink/bytes.h>
#include <amplink/cache.h>
#include <amplink/ipc/icmsg.h>
#include <amplink/mailbox_controller.h>
#include <amplink/trace.h>

#define ERR_TEXT(s) AMPL_ERR_TEXT("icmsg: peer error", s)

const uint8_t icmsg_magic[ICMSG_MAGIC_LEN] = { 0x45, 0x6d, 0x31, 0x6c, 0x31, 0x4b, 0x30,
					       0x72, 0x6e, 0x33, 0x6c, 0x69, 0x34 };

#define SID_DISCONNECTED 0u

/*
 * Transient states besides enum icmsg_state, below ICMSG_STATE_OFF (icmsg_state() shows them as OFF): an open
 * writing the rings, or a close. Each claims the link with one compare-and-swap (open from OFF, close from a
 * running state), as Zephyr's icmsg does, so that two opens or two closes never overlap and an open waits for no
 * close; the RX context treats both as closed. A close during an open's last step (taking the channels, state
 * BONDING already) is not excluded: an endpoint's register and deregister must not run at the same time.
 */
#define STATE_CLOSING (-1)
#define STATE_OPENING (-2)

/* Session or detect mode (never with AMPL_ICMSG_SESSIONS 0: the compiler then leaves the session code out). */
static inline bool sessions(const struct icmsg *im)
{
	return AMPL_ICMSG_SESSIONS && im->session;
}

/* Classic bonding in use (always with AMPL_ICMSG_SESSIONS 0). */
static inline bool classic(const struct icmsg *im)
{
	return !AMPL_ICMSG_SESSIONS || im->classic;
}
#define CLOSE_DRAIN_US 100000u /* close: how long to wait for the last doorbell to be taken */

#if ICMSG_RX_LINGER_US
/* This thread drains a ring now (in_rx), or has sent outside a drain (app_sender: its drains do not linger). */
static _Thread_local bool in_rx, app_sender;
#endif

/* The link state (sequentially consistent, as every access to it); out of line: it is read in many places. */
__attribute__((noinline)) static int state_of(const struct icmsg *im)
{
	return atomic_load(&im->state);
}

static void report(struct icmsg *im, const char *msg)
{
	if (im->cb.error)
		im->cb.error(msg, im->priv);
}

/* The user's bound() (@up) or unbound() callback, if any. */
static void tell(struct icmsg *im, bool up)
{
	void (*fn)(void *priv) = up ? im->cb.bound : im->cb.unbound;
	if (fn)
		fn(im->priv);
}

/* ---- doorbells (tx_lock held) ---- */

/*
 * Ring the peer (tx_lock held). 0, or the error with which the mailbox refused the doorbell (-ESHUTDOWN: the peer
 * is offline); a refused doorbell is owed to the next send.
 */
static int ring_locked(struct icmsg *im)
{
	int r = ampl_ipc_link_ring(&im->link);
	im->bell_owed = r < 0;
	return r;
}

static void ring(struct icmsg *im)
{
	unsigned key = ampl_spin_lock(&im->tx_lock);
	(void)ring_locked(im);
	ampl_spin_unlock(&im->tx_lock, key);
}

/* ---- the peer's limit ---- */

static uint32_t clamp_peer_max(const struct icmsg *im, uint32_t v)
{
	uint32_t ring_max = PBUF_MAX_PAYLOAD(im->tx.cfg.data_len);
	if (v > 0xFFFFu)
		v = 0xFFFFu;
	return v > ring_max ? ring_max : v;
}

static uint32_t default_peer_max(const struct icmsg *im)
{
	uint32_t d = im->cfg->peer_rx_max_default ? im->cfg->peer_rx_max_default : ICMSG_ZEPHYR_RX_BUF_SIZE;
	return clamp_peer_max(im, d);
}

/*
 * Move the state from @from to @to; false (and no change) when it is no longer @from. The RX context moves it only
 * this way: a close that set OFF meanwhile must never be undone (an instance left CONNECTED after its close would
 * refuse the next open and deliver from a ring it no longer owns).
 */
static bool cas_state(struct icmsg *im, enum icmsg_state from, enum icmsg_state to)
{
	int expected = (int)from;
	return atomic_compare_exchange_strong(&im->state, &expected, (int)to);
}

/* cas_state() under tx_lock, so that a send sees either state: the session moves (away from CONNECTED: a send
 * reserves and publishes under the lock in CONNECTED only; into it: with a ring reset). */
#if AMPL_ICMSG_SESSIONS
__attribute__((noinline)) /* called from three places then; from none without sessions */
#endif
static bool move_state(struct icmsg *im, enum icmsg_state from, enum icmsg_state to)
{
	unsigned key = ampl_spin_lock(&im->tx_lock);
	bool moved = cas_state(im, from, to);
	ampl_spin_unlock(&im->tx_lock, key);
	return moved;
}

/* ---- RX helpers ---- */

static void rx_fault(struct icmsg *im, int err)
{
	if (err == -EAGAIN || err == im->rx_fault)
		return; /* a packet being published, or already reported */
	im->rx_fault = err;
	report(im, err == -EBADMSG ? ERR_TEXT("icmsg: corrupt rx ring (packet length): not read further")
				   : ERR_TEXT("icmsg: corrupt rx ring (write index): not read further"));
}

/* ---- session mode ---- */

static void hs_write(struct icmsg *im, uint16_t local, uint16_t remote_ack)
{
	(void)pbuf_handshake_write(&im->rx, (uint32_t)local | (uint32_t)remote_ack << 16);
}

/*
 * Start a session of ours after @prev: an id not 0 and not the one the peer acknowledges now (in its word, read
 * through @peer_side, a view of our tx region), written as (id, 0).
 */
static void new_session(struct icmsg *im, uint16_t prev, const struct pbuf *peer_side)
{
	uint32_t peer = 0;
	(void)pbuf_handshake_read(peer_side, &peer);
	uint16_t acked = (uint16_t)(peer >> 16), sid = prev;
	do
		sid++;
	while (sid == SID_DISCONNECTED || sid == acked);
	im->local_sid = sid;
	hs_write(im, sid, SID_DISCONNECTED);
}

/*
 * The peer's session ended (it closed, restarted or went offline): a connected link (*@st) goes DISCONNECTED, so
 * that sends answer -EBUSY, and unbound() runs. False when the link was closed meanwhile.
 */
static bool end_session(struct icmsg *im, int *st)
{
	if (*st != ICMSG_STATE_CONNECTED)
		return true;
	if (!move_state(im, ICMSG_STATE_CONNECTED, ICMSG_STATE_DISCONNECTED))
		return false;
	*st = ICMSG_STATE_DISCONNECTED;
	tell(im, false);
	return true;
}

/* Follow the peer's session word. Returns true when the link is connected in session mode afterwards. */
static bool session_step(struct icmsg *im)
{
	uint32_t w;
	if (pbuf_handshake_read(&im->tx, &w))
		return false;
	uint16_t rsid = (uint16_t)(w & 0xFFFFu), ack = (uint16_t)(w >> 16);
	int st = state_of(im);

	if (rsid != im->remote_sid) {
		if (!end_session(im, &st))
			return false; /* closed meanwhile */
		if (rsid == SID_DISCONNECTED) {
			/* The peer closed: forget its session; a re-open shows a new id. */
			im->remote_sid = SID_DISCONNECTED;
			hs_write(im, im->local_sid, SID_DISCONNECTED);
		} else {
			/* A new peer session: restart our tx ring for it and acknowledge it. */
			unsigned key = ampl_spin_lock(&im->tx_lock);
			(void)pbuf_tx_restart(&im->tx);
			/* Sends copying into the old ring now: theirs is dropped at publication, and no room is
			 * reserved in the new ring until they are done (their stores would land in it). */
			im->tx_gen++;
			im->tx_stale = im->tx_copies != 0;
			im->remote_sid = rsid;
			hs_write(im, im->local_sid, rsid);
			(void)ring_locked(im);
			ampl_spin_unlock(&im->tx_lock, key);
		}
		if (im->classic && rsid != SID_DISCONNECTED)
			im->classic = false; /* detect: the peer speaks sessions */
	}
	if ((st == ICMSG_STATE_BONDING || st == ICMSG_STATE_DISCONNECTED) && im->remote_sid != SID_DISCONNECTED &&
	    ack == im->local_sid) {
		/* The peer acknowledged us: it reset our rx ring before that. Our read index goes to shared memory
		 * too: a drain of the previous session that ended after the peer's reset left its old value there. */
		(void)pbuf_rx_restart(&im->rx);
		im->rx_fault = 0;
		atomic_store(&im->peer_max, default_peer_max(im));
		if (!move_state(im, (enum icmsg_state)st, ICMSG_STATE_CONNECTED))
			return false; /* closed meanwhile */
		ring(im);
		tell(im, true);
		return true;
	}
	return st == ICMSG_STATE_CONNECTED;
}

/* ---- classic bonding ---- */

static void classic_bond(struct icmsg *im, const uint8_t *buf, uint32_t n)
{
	if (n < ICMSG_MAGIC_LEN || !ampl_bytes_eq(buf, icmsg_magic, ICMSG_MAGIC_LEN)) {
		report(im, ERR_TEXT("icmsg: first packet not the bonding magic: dropped"));
		return;
	}
	uint32_t pmax = default_peer_max(im);
	if (AMPL_ICMSG_SIZE_EXT && n >= ICMSG_MAGIC_LEN + ICMSG_SIZE_EXT_LEN) {
		uint32_t adv = ampl_get_le32(buf + ICMSG_MAGIC_LEN);
		if (adv == 0)
			report(im, ERR_TEXT("icmsg: peer max rx size 0: default used"));
		else
			pmax = clamp_peer_max(im, adv);
	}
	atomic_store(&im->peer_max, pmax);
	if (AMPL_ICMSG_SESSIONS)
		im->session = false; /* detect: a classic peer */
	/* The lock is not needed (a send in BONDING answers -EBUSY before it takes one); a build with sessions calls the
	 * out-of-line move_state() it has anyway, the smaller code there. */
	if (!(AMPL_ICMSG_SESSIONS ? move_state : cas_state)(im, ICMSG_STATE_BONDING, ICMSG_STATE_CONNECTED))
		return; /* closed meanwhile */
	ring(im); /* as Zephyr: notify again, so a peer that opened after our first doorbell hears us */
	tell(im, true);
}

/*
 * Classic bonding, rung by a peer that has written nothing yet (RX context). Its doorbell says it listens now, and
 * it may have missed ours: a mailbox without a latched pending bit drops a ring sent before the receiver was
 * enabled, and a Zephyr peer in "detect" mode looks for our magic only when rung. So answer with a ring, at most
 * once a millisecond (the rate at which Zephyr's ICMsg protocol has a classic side repeat its notification), so
 * that two sides that answer each other's empty doorbells cannot spin.
 */
static void answer_bonding_doorbell(struct icmsg *im)
{
	uint32_t now = (uint32_t)ampl_os_uptime_us(); /* 32 bits: the interval is wrap-safe, and 1 ms short */
	if (im->bond_answer_us && now - im->bond_answer_us < 1000u)
		return;
	im->bond_answer_us = now;
	ring(im);
}

/* ---- the doorbell: drain the rx ring (mailbox RX callback context) ---- */

static void process(struct icmsg *im)
{
	uint8_t *buf = im->cfg->rx_buf;
	if (state_of(im) <= ICMSG_STATE_OFF)
		return;
	if (sessions(im)) {
		bool connected = session_step(im);
		if (!connected && !(classic(im) && im->remote_sid == SID_DISCONNECTED))
			return; /* session mode reads the ring only while connected */
	}
#if ICMSG_RX_LINGER_US
	/* Linger: after a packet, keep polling the ring until ICMSG_RX_LINGER_US pass with nothing new; the hold is
	 * released, and the ring read once more (which gives everything back), before the drain ends. */
	bool polled = im->cfg->polled, hold = polled || !app_sender, got = false;
	uint64_t end = 0;
	unsigned spins = 0;
	(void)pbuf_rx_hold(&im->rx, hold);
#endif
	for (;;) {
		int st = state_of(im);
		if (st <= ICMSG_STATE_OFF || st == ICMSG_STATE_DISCONNECTED)
			return;
		int n = pbuf_read(&im->rx, buf, (uint16_t)im->rx_max);
		if (n == 0) {
#if ICMSG_RX_LINGER_US
			/* Polled: held until the next icmsg_poll(), which is the linger. */
			if (hold && !polled) {
				if (got) {
					got = false;
					end = ampl_os_uptime_us() + ICMSG_RX_LINGER_US;
				}
				if (end && ((++spins & 15u) || ampl_os_uptime_us() < end)) {
					ampl_cpu_relax();
					continue;
				}
				hold = false;
				(void)pbuf_rx_hold(&im->rx, false);
				continue;
			}
#endif
			if (st == ICMSG_STATE_BONDING && !sessions(im))
				answer_bonding_doorbell(im);
			return;
		}
		if (n == -ENOMEM && (n = pbuf_skip(&im->rx)) > 0) {
			report(im, ERR_TEXT("icmsg: packet larger than the receive buffer: skipped"));
			continue;
		}
		if (n < 0) {
			rx_fault(im, n);
			return;
		}
		im->rx_fault = 0;
		if (st == ICMSG_STATE_BONDING) {
			if (classic(im))
				classic_bond(im, buf, (uint32_t)n);
			continue;
		}
		if (sessions(im)) {
			/* Accept a packet only from the session it was written in. */
			uint32_t w;
			if (pbuf_handshake_read(&im->tx, &w) || (uint16_t)(w & 0xFFFFu) != im->remote_sid) {
				(void)session_step(im);
				return;
			}
		}
		AMPL_TRACE(AMPL_EV_ICMSG_RX, im, n);
#if ICMSG_RX_LINGER_US
		got = hold;
#endif
		if (im->cb.received)
			im->cb.received(buf, (size_t)n, im->priv);
	}
}

/*
 * The transport says the peer is unreachable (RX callback context). Session mode: end the session as the peer's
 * close would, and start a new one of ours, so that whatever the peer does next (a restarted process opens with a
 * new id, or the same one comes back online) both sides reset their rings and rebind through the handshake.
 */
static void peer_offline(struct icmsg *im)
{
	if (!sessions(im))
		return;
	int st = state_of(im);
	if (st <= ICMSG_STATE_OFF || !end_session(im, &st))
		return; /* closed (meanwhile) */
	im->remote_sid = SID_DISCONNECTED;
	new_session(im, im->local_sid, &im->tx);
}

/* RX context: a doorbell (@ev < 0), or the peer went offline (0) or came back (1). */
__attribute__((noinline)) static void on_rx(struct icmsg *im, int ev)
{
	if (ev == 0) {
		peer_offline(im);
		return;
	}
	if (ev > 0 && state_of(im) > ICMSG_STATE_OFF)
		ring(im); /* show the peer our session word; drain what was published while it was away */
#if ICMSG_RX_LINGER_US
	bool outer = in_rx;
	in_rx = true;
	process(im);
	in_rx = outer;
#else
	process(im);
#endif
}

#if AMPL_IPC_LINK_MBOX
static void on_doorbell(struct mbox_client *cl, void *mssg)
{
	(void)mssg;
	on_rx(AMPL_CONTAINER_OF(cl, struct icmsg, link.cl_rx), -1);
}

static void on_link_state(struct mbox_client *cl, bool online)
{
	on_rx(AMPL_CONTAINER_OF(ampl_ipc_link_state(cl), struct icmsg, link), online);
}
#endif

/* ---- API ---- */


/* Claimed by a compare-and-swap (STATE_OPENING): write the rings, take the channels (BONDING from then on). */
static int start(struct icmsg *im, const struct icmsg_config *cfg, const struct ipc_service_cb *cb, void *priv)
{
	bool hs = AMPL_ICMSG_SESSIONS && cfg->unbound_mode != ICMSG_UNBOUND_MODE_DISABLE;
	/* The layouts go straight into the rings (unused while closed), each validated once. */
	if (pbuf_cfg_init(&im->tx.cfg, cfg->tx_mem, cfg->tx_size, cfg->dcache_alignment, hs) ||
	    pbuf_cfg_init(&im->rx.cfg, cfg->rx_mem, cfg->rx_size, cfg->dcache_alignment, hs))
		return -EINVAL;
	if ((uint8_t *)cfg->tx_mem < (uint8_t *)cfg->rx_mem + cfg->rx_size &&
	    (uint8_t *)cfg->rx_mem < (uint8_t *)cfg->tx_mem + cfg->tx_size)
		return -EINVAL; /* overlapping regions */

	im->cfg = cfg;
	if (cb) {
		im->cb = *cb; /* copied: the caller's may be gone once open returns */
	} else {
		im->cb.bound = im->cb.unbound = NULL; /* field by field: no memset() linked for it */
		im->cb.received = NULL;
		im->cb.error = NULL;
	}
	im->priv = priv;
	im->rx_max = cfg->rx_buf_size > 0xFFFFu ? 0xFFFFu : cfg->rx_buf_size;
	im->session = hs;
	im->classic = cfg->unbound_mode != ICMSG_UNBOUND_MODE_ENABLE;
	im->rx_fault = 0;
	im->bond_answer_us = 0;
	im->remote_sid = SID_DISCONNECTED;
	atomic_store_explicit(&im->peer_max, 0, memory_order_relaxed); /* the state store below publishes it */
	im->bell_owed = false;
	im->tx_stale = false;
	atomic_flag_clear_explicit(&im->tx_lock, memory_order_relaxed); /* nobody takes it while closed */
	pbuf_rx_start(&im->rx);

	if (hs) {
		/* A new session id: not 0, not our last one (kept in shared memory across restarts), not what the peer
		 * acknowledges now. It is published BEFORE our tx ring is reset: a peer still connected to our previous
		 * session checks the id after every packet it reads, so it can never accept a packet read from the ring
		 * while it is being reset (stale bytes of the old session). */
		uint32_t mine = 0;
		struct pbuf peer_view; /* a reader's view of our tx region, only to read the peer's handshake word */
		peer_view.cfg = im->tx.cfg;
		pbuf_rx_start(&peer_view);
		(void)pbuf_handshake_read(&im->rx, &mine);
		new_session(im, im->local_sid ? im->local_sid : (uint16_t)(mine & 0xFFFFu), &peer_view);
		ampl_mb(); /* the new id is visible before the ring reset below */
	}
	pbuf_tx_start(&im->tx);
	if (classic(im)) {
		/* The bare magic unless the size extension is asked for; detect mode always carries it, so that a
		 * Zephyr peer in detect mode (which takes only the bare magic for a session-unaware peer) uses
		 * sessions. */
		uint8_t pkt[ICMSG_MAGIC_LEN + ICMSG_SIZE_EXT_LEN];
		const uint8_t *p = icmsg_magic;
		uint16_t n = ICMSG_MAGIC_LEN;
		if (AMPL_ICMSG_SIZE_EXT && (cfg->size_ext || cfg->unbound_mode == ICMSG_UNBOUND_MODE_DETECT)) {
			ampl_memcpy(pkt, icmsg_magic, ICMSG_MAGIC_LEN);
			ampl_put_le32(pkt + ICMSG_MAGIC_LEN, im->rx_max);
			p = pkt;
			n += ICMSG_SIZE_EXT_LEN;
		}
		/* Written the way the sends write (AMPL_ICMSG_LOCKED_COPY_MAX): an image links one of the two ways, or
		 * both when the sends use both. */
		if (AMPL_ICMSG_LOCKED_COPY_MAX > 0) {
			if (pbuf_write(&im->tx, p, n) < 0)
				return -EINVAL; /* a region too small for the bonding packet */
		} else {
			int at = pbuf_reserve(&im->tx, n);
			if (at < 0)
				return -EINVAL;
			pbuf_fill(&im->tx, (uint32_t)at, p, n);
			pbuf_publish(&im->tx);
		}
	}
	/* Bonding before the rx channel is taken: a doorbell from then on is served (a session-mode peer answers
	 * this side's new id only when rung). */
	atomic_store(&im->state, ICMSG_STATE_BONDING);
	return ampl_ipc_link_open(&im->link, &im->tx_lock, cfg->doorbell, cfg->mbox_node, cfg->tx_chan, cfg->rx_chan,
				  AMPL_IPC_LINK_CB(on_doorbell), AMPL_IPC_LINK_CB(on_link_state));
}

int icmsg_open(struct icmsg *im, const struct icmsg_config *cfg, const struct ipc_service_cb *cb, void *priv)
{
	if (!im || !cfg || !cfg->rx_buf || cfg->rx_buf_size < ICMSG_MIN_RX_BUF)
		return -EINVAL;
	if (!ampl_ipc_link_configured(cfg->doorbell, cfg->mbox_node, cfg->tx_chan, cfg->rx_chan))
		return -EINVAL;
	if (cfg->unbound_mode > ICMSG_UNBOUND_MODE_DETECT)
		return -EINVAL;
	if (!AMPL_ICMSG_SESSIONS && cfg->unbound_mode != ICMSG_UNBOUND_MODE_DISABLE)
		return -ENOTSUP;
	if (!AMPL_ICMSG_SIZE_EXT && (cfg->size_ext || cfg->unbound_mode == ICMSG_UNBOUND_MODE_DETECT))
		return -ENOTSUP;
	if (cfg->unbound_mode == ICMSG_UNBOUND_MODE_DETECT && cfg->dcache_alignment < 8)
		return -EINVAL; /* both layouts must put wr_idx at the same offset */
	int st = ICMSG_STATE_OFF;
	if (!atomic_compare_exchange_strong(&im->state, &st, STATE_OPENING))
		return -EALREADY; /* open, or being opened or closed */
	int err = start(im, cfg, cb, priv);
	if (err)
		atomic_store(&im->state, ICMSG_STATE_OFF);
	else
		ring(im);
	return err;
}


int icmsg_close(struct icmsg *im)
{
	if (!im)
		return -EINVAL;
	unsigned key = ampl_spin_lock(&im->tx_lock);
	int st = state_of(im);
	if (st > ICMSG_STATE_OFF)
		atomic_store(&im->state, STATE_CLOSING); /* sends answer -EBUSY from here; the RX context cannot undo it */
	ampl_spin_unlock(&im->tx_lock, key);
	if (st <= ICMSG_STATE_OFF)
		return st == ICMSG_STATE_OFF ? -EALREADY : -EBUSY; /* closed, or being opened or closed */
	/* A send that reserved room before may still be copying: the next open resets the ring under it otherwise. */
	while (__atomic_load_n(&im->tx_copies, __ATOMIC_ACQUIRE))
		ampl_cpu_relax();
	ampl_ipc_link_stop(&im->link); /* waits for a running RX callback */
	if (sessions(im)) {
		hs_write(im, SID_DISCONNECTED, SID_DISCONNECTED);
		ring(im);
	}
	/* Session mode: let the doorbell reach the peer before the channel goes (a queued one would be cancelled). */
	ampl_ipc_link_close(&im->link, &im->tx_lock, sessions(im) ? CLOSE_DRAIN_US : 0);
	im->remote_sid = SID_DISCONNECTED;
	atomic_store(&im->peer_max, 0);
	atomic_store(&im->state, ICMSG_STATE_OFF);
	return 0;
}

/*
 * The ring was just published past @prev_wr (tx_lock held): ring the peer if it needs it. The send's result: @len, or
 * the refused doorbell's error.
 *
 * The packet is published: a refused doorbell does not take it back (see icmsg.h). A reader still draining earlier
 * packets will read it without one (pbuf_doorbell_needed()), unless a doorbell is owed: one was refused (the drain it
 * was for never started), or the peer went offline meanwhile (its drain may have been dropped; the send answers what
 * a doorbell would).
 */
static int ring_if_needed_locked(struct icmsg *im, uint32_t prev_wr, int len)
{
	int e;
	if (im->bell_owed || pbuf_doorbell_needed(&im->tx, prev_wr))
		e = ring_locked(im);
	else if ((e = ampl_ipc_link_offline(&im->link)) < 0)
		im->bell_owed = true;
	return e < 0 ? e : len;
}

/* Publish the ring up to its write index, for the copies that ended (tx_lock held, none in flight). */
static int publish_locked(struct icmsg *im, int len)
{
	uint32_t prev_wr = im->tx.pub_idx;
	pbuf_publish(&im->tx);
	return ring_if_needed_locked(im, prev_wr, len);
}

/* Write a whole message (tx_lock held, no copy in flight): @len, -ENOMEM, -EIO or the refused doorbell's error. */
static int write_locked(struct icmsg *im, const void *data, uint16_t len)
{
	uint32_t prev_wr = im->tx.pub_idx;
	int r = pbuf_write(&im->tx, data, len);
	if (r < 0)
		return r == -EINVAL ? -EIO : r;
	return ring_if_needed_locked(im, prev_wr, r);
}

/* A message of @len bytes is copied under tx_lock (see AMPL_ICMSG_LOCKED_COPY_MAX). */
static inline bool copy_locked(size_t len)
{
	return AMPL_ICMSG_LOCKED_COPY_MAX >= 0xFFFFu || len <= AMPL_ICMSG_LOCKED_COPY_MAX;
}

int icmsg_send(struct icmsg *im, const void *data, size_t len)
{
	if (!im)
		return -EINVAL;
	if (!data || !len)
		return -EBADMSG;
	if (state_of(im) != ICMSG_STATE_CONNECTED)
		return -EBUSY;
	if (len > atomic_load(&im->peer_max))
		return -EMSGSIZE;
#if ICMSG_RX_LINGER_US
	if (!in_rx)
		app_sender = true;
#endif

	unsigned key = ampl_spin_lock(&im->tx_lock);
	int at = -EBUSY;
	if (state_of(im) == ICMSG_STATE_CONNECTED) {
		if (AMPL_ICMSG_SESSIONS && im->tx_stale) {
			at = -ENOMEM; /* copies into a ring reset under them are still running */
		} else if (copy_locked(len) && (AMPL_ICMSG_LOCKED_COPY_MAX >= 0xFFFFu || !im->tx_copies)) {
			/* A short message, no copy running: reserved, copied and published in this one section. */
			at = write_locked(im, data, (uint16_t)len);
			ampl_spin_unlock(&im->tx_lock, key);
			return at;
		} else {
			at = pbuf_reserve(&im->tx, (uint16_t)len);
		}
	}
	if (at < 0) {
		ampl_spin_unlock(&im->tx_lock, key);
		return at == -EINVAL ? -EIO : at; /* -EINVAL: the peer's read index is corrupt */
	}
	uint32_t gen = im->tx_gen;
	__atomic_store_n(&im->tx_copies, im->tx_copies + 1u, __ATOMIC_RELAXED);
	ampl_spin_unlock(&im->tx_lock, key);

	/* The copy, without the lock (interrupts stay enabled on firmware): the room is ours alone. */
	pbuf_fill(&im->tx, (uint32_t)at, data, (uint16_t)len);

	/*
	 * Publication, under the lock: by the last of the copies in flight, for all of them (the ring is published in
	 * order, so an earlier reservation still being copied holds back the later ones; its sender publishes them).
	 * A copy into a ring that the RX context reset meanwhile (a new peer session) is dropped with that session.
	 */
	key = ampl_spin_lock(&im->tx_lock);
	int r = (int)len;
	uint32_t copies = im->tx_copies - 1u;
	__atomic_store_n(&im->tx_copies, copies, __ATOMIC_RELEASE); /* our copy is done (icmsg_close() waits) */
	if (AMPL_ICMSG_SESSIONS && gen != im->tx_gen) { /* only a new peer session resets the ring */
		r = -EBUSY;
		if (!copies)
			im->tx_stale = false;
	} else if (!copies) {
		r = publish_locked(im, r);
	}
	ampl_spin_unlock(&im->tx_lock, key);
	return r;
}

int icmsg_poll(struct icmsg *im)
{
	if (!im)
		return -EINVAL;
	if (state_of(im) > ICMSG_STATE_OFF)
		on_rx(im, -1);
	return 0;
}

uint32_t icmsg_peer_max(const struct icmsg *im)
{
	return im && state_of(im) == ICMSG_STATE_CONNECTED ? atomic_load(&im->peer_max) : 0;
}

enum icmsg_state icmsg_state(const struct icmsg *im)
{
	int st = im ? state_of(im) : ICMSG_STATE_OFF;
	return st < ICMSG_STATE_OFF ? ICMSG_STATE_OFF : (enum icmsg_state)st;
}

bool icmsg_is_bound(const struct icmsg *im)
{
	return im && state_of(im) == ICMSG_STATE_CONNECTED;
}
