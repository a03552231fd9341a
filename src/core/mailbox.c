/*
 * The mailbox framework: channels, the per-channel TX queue and the TX-done state machine, as Linux's
 * drivers/mailbox/mailbox.c defines their behaviour. Portable: the scheduling it needs (blocking sends, the poll
 * ticker) goes through the port hooks.
 *
 * Locking: each channel has a spinlock (chan->lock) around its queue and state; callbacks run outside it except
 * tx_prepare (called under it, as in Linux). The controller list has its own spinlock (ctrl_lock), held only
 * while the list is walked or changed: the ticker claims one controller at a time (ctrl_polling) and polls it
 * with the lock released, and mbox_controller_unregister() waits until the ticker is done with its controller, so
 * callbacks may register and unregister other controllers (never their own).
 *
 * The TX-done ticker honours each controller's txpoll_period: mbox_poll_due() polls a controller when it is armed
 * (a message on one of its polled channels: ampl_mbox_poll_kick), then each time its period has passed while it
 * stays active, and says when the next tick is due. The port runs it (the POSIX poll thread, started when the first polled
 * controller registers and joined when the last one unregisters: ampl_mbox_poll_attach/detach).
 *
 * Without the registry (AMPL_MBOX_REGISTRY 0, firmware) there is no controller list: registration only sets the
 * channels up, clients are given their channels, and neither the lookup by name nor the list's ticker is built.
 *
 * Every accepted message gets a sequence number; chan->done_seq counts those taken off the channel and
 * chan->reported_seq those whose tx_done has returned. A blocking sender waits for its own number to be reported
 * (so tx_done has run when it returns) and reads its own slot's result; a tick names the message it completes, so a
 * late poller or a timed-out waiter can never complete the wrong message.
 */
#include <amplink/bytes.h>
#include <amplink/mailbox_controller.h>
#include <amplink/trace.h>

#define FOREVER_MS 3600000ul /* Linux: a tx_tout of 0 means one hour */

#if AMPL_MBOX_REGISTRY
static struct mbox_controller *ctrl_head;
static atomic_flag ctrl_lock = ATOMIC_FLAG_INIT;
static struct mbox_controller *ctrl_polling; /* the controller the ticker polls, lock released (under ctrl_lock) */
static uint32_t ctrl_poll_pass;              /* mbox_poll_all()'s passes (under ctrl_lock) */
#endif

/*
 * A polled channel of @mbox has a message: the ticker polls it at once, then every txpoll_period until it is
 * idle. The port is kicked only when the controller was not armed already (a tick in flight re-arms it while busy).
 */
static void poll_arm(struct mbox_controller *mbox)
{
	if (!atomic_exchange(&mbox->poll_armed, 1u))
		ampl_mbox_poll_kick(mbox);
}

/*
 * Tell the client about @n finished messages, then count them as reported and wake blocking senders: a blocking
 * send returns only after its message's tx_done has run. The common case (nobody asleep) costs no system call.
 */
static void report(struct mbox_chan *chan, struct mbox_client *cl, void *const *msgs, unsigned n, int r)
{
	for (unsigned i = 0; i < n; i++) {
		AMPL_TRACE(AMPL_EV_MBOX_TXDONE, chan, r);
		if (cl && cl->tx_done)
			cl->tx_done(cl, msgs[i], r);
	}
	unsigned key = ampl_spin_lock(&chan->lock);
	chan->reported_seq += n;
	ampl_spin_unlock(&chan->lock, key);
	atomic_fetch_add(&chan->done_seq_pub, 1);
	if (atomic_load(&chan->sleepers))
		ampl_os_wake(&chan->done_seq_pub);
}

static void tx_tick(struct mbox_chan *chan, uint32_t seq, int r);

/* The result of the message the controller says is done: its last_tx_result, or 0 without one. */
static int tx_result(struct mbox_chan *chan)
{
	const struct mbox_chan_ops *ops = chan->mbox->ops;
	return ops->last_tx_result ? ops->last_tx_result(chan) : 0;
}

/* Send the next queued message if nothing is in flight. Errors other than -EBUSY fail that message. */
static void msg_submit(struct mbox_chan *chan)
{
	for (;;) {
		unsigned key = ampl_spin_lock(&chan->lock);
		if (!chan->msg_count || chan->active || !chan->cl) {
			ampl_spin_unlock(&chan->lock, key);
			return;
		}
		unsigned idx = (chan->msg_free + MBOX_TX_QUEUE_LEN - chan->msg_count) % MBOX_TX_QUEUE_LEN;
		void *data = chan->msg_data[idx];
		struct mbox_client *cl = chan->cl;
		if (cl->tx_prepare)
			cl->tx_prepare(cl, data);
		int err = chan->mbox->ops->send_data(chan, data);
		if (err == -EBUSY) {
			ampl_spin_unlock(&chan->lock, key);
			/* Retried at the next tick (poll mode) or the next send. */
			if (chan->txdone_method & TXDONE_BY_POLL)
				poll_arm(chan->mbox);
			return;
		}
		chan->msg_count--;
		if (!err) {
			chan->active = true;
			chan->active_req = data;
			chan->active_seq = chan->done_seq + 1;
			chan->active_slot = idx;
			/* The ticker is needed unless nobody waits for this message (no tx_done, not blocking, nothing
			 * queued behind it) or its blocking sender waits on the hardware itself (flush). */
			bool waited = cl->tx_done || chan->msg_count || cl->tx_block;
			bool kick = (chan->txdone_method & TXDONE_BY_POLL) && waited &&
				    !(cl->tx_block && chan->mbox->ops->flush);
			ampl_spin_unlock(&chan->lock, key);
			if (kick)
				poll_arm(chan->mbox);
			return;
		}
		/* A message the controller refused is done, with its error; try the next one. */
		chan->slot_result[idx] = err;
		chan->done_seq++;
		ampl_spin_unlock(&chan->lock, key);
		report(chan, cl, &data, 1, err);
	}
}

static void tx_tick(struct mbox_chan *chan, uint32_t seq, int r)
{
	unsigned key = ampl_spin_lock(&chan->lock);
	if (!chan->active || (seq && chan->active_seq != seq)) {
		ampl_spin_unlock(&chan->lock, key);
		return;
	}
	void *mssg = chan->active_req;
	struct mbox_client *cl = chan->cl;
	chan->active = false;
	chan->active_req = NULL;
	chan->slot_result[chan->active_slot] = r;
	chan->done_seq++;
	bool queued = chan->msg_count != 0;
	ampl_spin_unlock(&chan->lock, key);
	if (queued)
		msg_submit(chan);
	report(chan, cl, &mssg, 1, r);
}

/* Poll one channel: tick the active message if the controller says it is done. True if still busy. */
static bool poll_chan(struct mbox_chan *chan)
{
	unsigned key = ampl_spin_lock(&chan->lock);
	bool active = chan->active;
	uint32_t seq = chan->active_seq;
	bool queued = chan->msg_count != 0;
	ampl_spin_unlock(&chan->lock, key);
	if (!active && !queued)
		return false;
	const struct mbox_chan_ops *ops = chan->mbox->ops;
	if (active && ops->last_tx_done(chan)) {
		tx_tick(chan, seq, tx_result(chan));
	} else if (!active && queued) {
		msg_submit(chan);
	}
	key = ampl_spin_lock(&chan->lock);
	bool busy = chan->active || chan->msg_count;
	ampl_spin_unlock(&chan->lock, key);
	return busy;
}

bool mbox_controller_poll(struct mbox_controller *mbox)
{
	bool busy = false;
	if (!mbox || !mbox->txdone_poll)
		return false;
	if (!AMPL_MBOX_REGISTRY) /* no list ticker to disarm it: a message armed from now on kicks the port again */
		atomic_store(&mbox->poll_armed, 0u);
	for (int i = 0; i < mbox->num_chans; i++)
		if (mbox->chans[i].txdone_method & TXDONE_BY_POLL)
			busy |= poll_chan(&mbox->chans[i]);
	return busy;
}

#if AMPL_MBOX_REGISTRY
static uint64_t period_us(const struct mbox_controller *m)
{
	return (uint64_t)(m->txpoll_period ? m->txpoll_period : 1u) * 1000u;
}

/*
 * Claim the next polled controller to poll, or NULL: with @pass, the next not yet polled in mbox_poll_all()'s pass
 * @pass; else the first whose tick is due at @now_us (a newly armed one at once), and
 * *@wait_us = the time until the next tick of the others. The claim (ctrl_polling) holds off its unregister.
 */
static struct mbox_controller *poll_claim(uint64_t now_us, uint32_t pass, uint64_t *wait_us)
{
	struct mbox_controller *pick = NULL;
	unsigned key = ampl_spin_lock(&ctrl_lock);
	for (struct mbox_controller *m = ctrl_head; m; m = m->next) {
		if (!m->txdone_poll)
			continue;
		if (pass) {
			if (!pick && m->poll_pass != pass)
				pick = m;
			continue;
		}
		if (!m->poll_next_us && atomic_load(&m->poll_armed))
			m->poll_next_us = now_us ? now_us : 1u; /* 0 means none */
		if (!m->poll_next_us)
			continue;
		if (!pick && m->poll_next_us <= now_us)
			pick = m;
		else if (m->poll_next_us > now_us && m->poll_next_us - now_us < *wait_us)
			*wait_us = m->poll_next_us - now_us;
	}
	if (pick) {
		pick->poll_pass = pass;
		atomic_store(&pick->poll_armed, 0u); /* a kick from now on arms it again */
		ctrl_polling = pick;
	}
	ampl_spin_unlock(&ctrl_lock, key);
	return pick;
}

/* Poll the claimed @m, lock released; then schedule its next tick from @now_us if still busy or armed again. */
static bool poll_claimed(struct mbox_controller *m, uint64_t now_us)
{
	bool busy = mbox_controller_poll(m);
	unsigned key = ampl_spin_lock(&ctrl_lock);
	if (busy)
		atomic_store(&m->poll_armed, 1u);
	m->poll_next_us = atomic_load(&m->poll_armed) ? now_us + period_us(m) : 0;
	ctrl_polling = NULL;
	ampl_spin_unlock(&ctrl_lock, key);
	return busy;
}

uint32_t mbox_poll_due(uint64_t now_us)
{
	uint64_t wait;
	for (;;) {
		wait = UINT64_MAX;
		struct mbox_controller *m = poll_claim(now_us, 0, &wait);
		if (!m)
			break;
		poll_claimed(m, now_us);
	}
	return wait == UINT64_MAX ? UINT32_MAX : wait < UINT32_MAX ? (uint32_t)wait : UINT32_MAX - 1u;
}

bool mbox_poll_all(void)
{
	bool busy = false;
	uint64_t now = ampl_os_uptime_us(), wait = 0;
	unsigned key = ampl_spin_lock(&ctrl_lock);
	uint32_t pass = ++ctrl_poll_pass ? ctrl_poll_pass : ++ctrl_poll_pass; /* 0 means no pass */
	ampl_spin_unlock(&ctrl_lock, key);
	for (struct mbox_controller *m; (m = poll_claim(now, pass, &wait));)
		busy |= poll_claimed(m, now);
	return busy;
}
#endif /* AMPL_MBOX_REGISTRY */

/* @cl's callback of @mssg, traced: out of line, so that untraced only @chan lives across the callback. */
AMPL_TRACED_PATH static void deliver_traced(struct mbox_chan *chan, struct mbox_client *cl, void *mssg)
{
	AMPL_TRACE_EMIT(AMPL_EV_MBOX_RX, chan, 0);
	if (cl->rx_callback)
		cl->rx_callback(cl, mssg);
}

bool ampl_mbox_chan_deliver(struct mbox_chan *chan, void *mssg)
{
	unsigned key = ampl_spin_lock(&chan->lock);
	struct mbox_client *cl = chan->cl;
	if (cl)
		atomic_fetch_add(&chan->rx_busy, 1);
	ampl_spin_unlock(&chan->lock, key);
	if (!cl)
		return false;
	if (AMPL_TRACING())
		deliver_traced(chan, cl, mssg);
	else if (cl->rx_callback)
		cl->rx_callback(cl, mssg);
	atomic_fetch_sub(&chan->rx_busy, 1);
	return true;
}

void mbox_chan_received_data(struct mbox_chan *chan, void *mssg)
{
	ampl_mbox_chan_deliver(chan, mssg);
}

void mbox_chan_txdone(struct mbox_chan *chan, int r)
{
	if (!chan || !(chan->txdone_method & TXDONE_BY_IRQ))
		return; /* "Controller can't run the TX ticker" */
	tx_tick(chan, 0, r);
}

void mbox_client_txdone(struct mbox_chan *chan, int r)
{
	if (!chan || !(chan->txdone_method & TXDONE_BY_ACK))
		return; /* "Client can't run the TX ticker" */
	tx_tick(chan, 0, r);
}

bool mbox_client_peek_data(struct mbox_chan *chan)
{
	if (!chan || !chan->mbox->ops->peek_data)
		return false;
	return chan->mbox->ops->peek_data(chan);
}


/*
 * mbox_ring_doorbell()'s first attempt, on a channel the framework has nothing on (nothing in flight, nothing
 * queued): when the controller says our last message is done (last_tx_done), the ring is the controller's
 * send_data at once, under the channel lock as msg_submit() calls it, and none of the framework's bookkeeping: a
 * doorbell has no result anybody waits for and nothing queues behind it. This is the common case by far (an IPI
 * destination in signalling mode, whose doorbell is done once triggered or coalesced, is always there).
 * While a ring sent this way is still in the controller (last_tx_done false: the peer has not taken it), the
 * framework adopts it as its message in flight, so that this ring queues behind it and is submitted from the ticker
 * once it is done, as one sent through the framework would be: a doorbell is never written over one the peer may
 * already have read past. A controller without last_tx_done, and a client that asked for TX-done semantics (tx_done
 * or tx_block), go through the framework. Returns -EBUSY for "go on through the framework", else the ring's result.
 */
static int ring_idle(struct mbox_chan *chan)
{
	const struct mbox_chan_ops *ops = chan->mbox->ops;
	unsigned key = ampl_spin_lock(&chan->lock);
	int r = -EBUSY;
	if (!chan->cl) {
		r = -EINVAL;
	} else if (!chan->active && !chan->msg_count && ops->last_tx_done && !chan->cl->tx_done && !chan->cl->tx_block) {
		if (chan->offline) {
			r = chan->offline;
		} else if (ops->last_tx_done(chan)) {
			r = ops->send_data(chan, NULL);
			chan->rung_seq += r == 0;
		} else {
			chan->active = true; /* counted from now on as the framework's, no longer in rung_seq */
			chan->active_req = NULL;
			chan->active_seq = chan->done_seq + 1u;
			chan->active_slot = chan->msg_free;
			chan->rung_seq -= chan->rung_seq != 0;
		}
	}
	ampl_spin_unlock(&chan->lock, key);
	if (r != -EBUSY)
		AMPL_TRACE(AMPL_EV_MBOX_DOORBELL, chan, r);
	return r;
}

int mbox_ring_doorbell(struct mbox_chan *chan, atomic_bool *armed)
{
	if (!chan)
		return -EINVAL;
	int r = ring_idle(chan);
	if (r != -EBUSY)
		return r;
	/* A ring of the framework's in flight or queued: tick the one in flight if it is done, and ring at once if
	 * that left the channel idle (so that the framework's part ends with the busy spell that started it). */
	if (!mbox_client_tx_busy(chan)) {
		r = ring_idle(chan);
		if (r != -EBUSY)
			return r;
		r = mbox_send_message(chan, NULL);
		return r < 0 ? r : 0;
	}
	if (atomic_load(armed))
		return 0; /* the queued one is triggered after this change: enough */
	atomic_store(armed, true);
	r = mbox_send_message(chan, NULL);
	if (r < 0) {
		atomic_store(armed, false);
		return r;
	}
	return 0; /* queued behind a ring in flight: mbox_send_message() started the ticker */
}

/* @r, the result of a send on @chan, traced: a tail call, so that untraced @r is kept in no register for it. */
AMPL_TRACED_PATH static int sent_traced(struct mbox_chan *chan, int r)
{
	AMPL_TRACE_EMIT(AMPL_EV_MBOX_SEND, chan, r);
	return r;
}

/* ampl_mbox_ring()'s one attempt with a message (the ring keeps its own copy: it is a firmware's hot path). */
int ampl_mbox_send_now(struct mbox_chan *chan, void *mssg)
{
	if (!chan)
		return -EINVAL;
	/* The client is read under the lock, as everywhere: a release in another context clears it under the lock. */
	unsigned key = ampl_spin_lock(&chan->lock);
	int r = chan->cl ? atomic_load(&chan->offline) : -EINVAL;
	if (!r)
		r = chan->mbox->ops->send_data(chan, mssg);
	ampl_spin_unlock(&chan->lock, key);
	return AMPL_TRACING() ? sent_traced(chan, r) : r;
}

int ampl_mbox_ring(struct mbox_chan *chan)
{
	if (!chan)
		return -EINVAL;
	const struct mbox_chan_ops *ops = chan->mbox->ops;
	for (uint32_t spins = 0;; spins++) {
		unsigned key = ampl_spin_lock(&chan->lock);
		int r = chan->cl ? atomic_load(&chan->offline) : -EINVAL;
		if (!r)
			r = ops->send_data(chan, NULL);
		ampl_spin_unlock(&chan->lock, key);
		if (r != -EBUSY || !ops->last_tx_done || spins >= AMPL_MBOX_RING_SPINS) {
			AMPL_TRACE(AMPL_EV_MBOX_DOORBELL, chan, r);
			return r;
		}
		/* The previous ring is still on its way: wait until it left, then ring again. */
		while (!ops->last_tx_done(chan) && ++spins < AMPL_MBOX_RING_SPINS)
			ampl_cpu_relax();
	}
}

int mbox_client_offline(struct mbox_chan *chan)
{
	return chan ? atomic_load(&chan->offline) : 0;
}

bool mbox_client_tx_busy(struct mbox_chan *chan)
{
	if (!chan)
		return false;
	if (chan->txdone_method & TXDONE_BY_POLL)
		return poll_chan(chan);
	unsigned key = ampl_spin_lock(&chan->lock);
	bool busy = chan->active || chan->msg_count;
	ampl_spin_unlock(&chan->lock, key);
	return busy;
}

/* Wait until message @seq (in queue slot @slot) is reported; returns its result or -ETIME. */
static int wait_done(struct mbox_chan *chan, uint32_t seq, unsigned slot, unsigned long tout_ms)
{
	const struct mbox_chan_ops *ops = chan->mbox->ops;
	/* Fast path: our message is in flight on a polled controller that can wait on the hardware. */
	if ((chan->txdone_method & TXDONE_BY_POLL) && ops->flush) {
		unsigned key = ampl_spin_lock(&chan->lock);
		bool mine_active = chan->active && chan->active_seq == seq;
		ampl_spin_unlock(&chan->lock, key);
		if (mine_active && ops->flush(chan, tout_ms) == 0)
			tx_tick(chan, seq, tx_result(chan));
	}
	uint64_t deadline = ampl_os_uptime_us() + (uint64_t)tout_ms * 1000u;
	for (;;) {
		unsigned key = ampl_spin_lock(&chan->lock);
		uint32_t reported = chan->reported_seq;
		int result = chan->slot_result[slot];
		bool mine_active = chan->active && chan->active_seq == seq;
		ampl_spin_unlock(&chan->lock, key);
		if ((int32_t)(reported - seq) >= 0)
			return result;
		uint64_t now = ampl_os_uptime_us();
		if (now >= deadline) {
			/* As Linux: the timed-out message is ticked with -ETIME (and tx_done reports it). */
			tx_tick(chan, seq, -ETIME);
			return -ETIME;
		}
		uint64_t left_us = deadline - now;
		uint32_t left = left_us > 0xFFFFFFFEu ? 0xFFFFFFFEu : (uint32_t)left_us;
		if (mine_active && (chan->txdone_method & TXDONE_BY_POLL) && ops->flush) {
			/* Polled controller: wait on the hardware ourselves rather than for the next tick. */
			unsigned long ms = (unsigned long)(left / 1000u) + 1;
			if (ops->flush(chan, ms) == 0)
				tx_tick(chan, seq, tx_result(chan));
			continue;
		}
		uint32_t pub = atomic_load(&chan->done_seq_pub);
		key = ampl_spin_lock(&chan->lock);
		bool finished = (int32_t)(chan->reported_seq - seq) >= 0;
		ampl_spin_unlock(&chan->lock, key);
		if (!finished) {
			/* sleepers is raised before the re-check below and done_seq_pub is bumped before a ticker reads
			 * sleepers (both sequentially consistent), so the wake-up cannot be missed. */
			atomic_fetch_add(&chan->sleepers, 1);
			if (atomic_load(&chan->done_seq_pub) == pub)
				ampl_os_wait(&chan->done_seq_pub, pub, left > 100000u ? 100000u : left);
			atomic_fetch_sub(&chan->sleepers, 1);
		}
	}
}

int mbox_send_message(struct mbox_chan *chan, void *mssg)
{
	if (!chan)
		return -EINVAL;
	unsigned key = ampl_spin_lock(&chan->lock);
	/* The client is read under the lock: mbox_free_channel() in another context clears it under the lock. */
	struct mbox_client *cl = chan->cl;
	if (!cl) {
		ampl_spin_unlock(&chan->lock, key);
		return -EINVAL;
	}
	if (chan->offline) {
		int err = chan->offline;
		ampl_spin_unlock(&chan->lock, key);
		AMPL_TRACE(AMPL_EV_MBOX_SEND, chan, err);
		return err;
	}
	if (chan->msg_count == MBOX_TX_QUEUE_LEN) {
		ampl_spin_unlock(&chan->lock, key);
		AMPL_TRACE(AMPL_EV_MBOX_SEND, chan, -ENOBUFS);
		return -ENOBUFS; /* Try increasing MBOX_TX_QUEUE_LEN */
	}
	unsigned idx = chan->msg_free;
	chan->msg_data[idx] = mssg;
	chan->msg_count++;
	chan->msg_free = (idx + 1) % MBOX_TX_QUEUE_LEN;
	/* Messages finish in order: this one is number done_seq + (in flight) + (queued). */
	uint32_t seq = chan->done_seq + (chan->active ? 1u : 0u) + chan->msg_count;
	bool idle = !chan->active && chan->msg_count == 1;
	ampl_spin_unlock(&chan->lock, key);
	AMPL_TRACE(AMPL_EV_MBOX_SEND, chan, 0);

	if (idle || !cl->tx_block)
		msg_submit(chan);
	/* Queued behind another message on a polled controller: the tick that completes that one starts this one,
	 * so the ticker must run even if nobody waits for the one in flight (Linux restarts its poll timer at every
	 * submit). The framework owns the ticker: no client or backend kicks it. */
	if (!idle && (chan->txdone_method & TXDONE_BY_POLL))
		poll_arm(chan->mbox);
	if (!cl->tx_block)
		return (int)idx;
	return wait_done(chan, seq, idx, cl->tx_tout ? cl->tx_tout : FOREVER_MS);
}

/* @chan has a client now (read under its lock: a free or release in another context clears it under the lock). */
static bool has_client(struct mbox_chan *chan)
{
	unsigned key = ampl_spin_lock(&chan->lock);
	bool r = chan->cl != NULL;
	ampl_spin_unlock(&chan->lock, key);
	return r;
}

int mbox_flush(struct mbox_chan *chan, unsigned long timeout)
{
	if (!chan)
		return -EINVAL;
	unsigned key = ampl_spin_lock(&chan->lock);
	bool cl = chan->cl != NULL;
	uint32_t seq = chan->active ? chan->active_seq : 0;
	ampl_spin_unlock(&chan->lock, key);
	if (!cl)
		return -EINVAL;
	if (!chan->mbox->ops->flush)
		return -ENOTSUP;
	if (!seq)
		return 0;
	int ret = chan->mbox->ops->flush(chan, timeout);
	tx_tick(chan, seq, ret < 0 ? ret : tx_result(chan));
	return ret < 0 ? ret : 0;
}

int ampl_mbox_wait_sent(struct mbox_chan *chan, unsigned long timeout)
{
	if (!chan || !has_client(chan))
		return -EINVAL;
	if (!chan->mbox->ops->flush)
		return -ENOTSUP;
	int ret = chan->mbox->ops->flush(chan, timeout);
	return ret < 0 ? ret : tx_result(chan);
}

/* Take the queued messages (and the one in flight, if @active) off @chan into @msgs, with @err as their result.
 * Called with the channel's lock held. Returns how many. */
static unsigned take_locked(struct mbox_chan *chan, int err, bool active, void **msgs)
{
	unsigned n = 0;
	if (active && chan->active) {
		msgs[n++] = chan->active_req;
		chan->slot_result[chan->active_slot] = err;
		chan->active = false;
		chan->active_req = NULL;
	}
	while (chan->msg_count) {
		unsigned idx = (chan->msg_free + MBOX_TX_QUEUE_LEN - chan->msg_count) % MBOX_TX_QUEUE_LEN;
		msgs[n++] = chan->msg_data[idx];
		chan->slot_result[idx] = err;
		chan->msg_count--;
	}
	chan->done_seq += n;
	return n;
}

/* Take the queued messages (and the one in flight, if @active) off @chan; report each to @cl with @err. */
static void drain(struct mbox_chan *chan, struct mbox_client *cl, int err, bool active)
{
	void *msgs[MBOX_TX_QUEUE_LEN + 1];
	unsigned key = ampl_spin_lock(&chan->lock);
	unsigned n = take_locked(chan, err, active, msgs);
	ampl_spin_unlock(&chan->lock, key);
	report(chan, cl, msgs, n, err);
}

void mbox_chan_set_offline(struct mbox_chan *chan, int err)
{
	if (!chan)
		return;
	unsigned key = ampl_spin_lock(&chan->lock);
	bool changed = !chan->offline != !err;
	chan->offline = err;
	struct mbox_client *cl = chan->cl;
	bool active = chan->active;
	/* The client's link_state runs outside the lock, counted as an RX callback: mbox_free_channel() waits. */
	bool tell = changed && cl && cl->link_state;
	if (tell)
		atomic_fetch_add(&chan->rx_busy, 1);
	ampl_spin_unlock(&chan->lock, key);
	if (changed)
		AMPL_TRACE(AMPL_EV_MBOX_OFFLINE, chan, err);
	if (err) {
		/* The message on the wire is decided by the controller when it can tell (last_tx_result: consumed
		 * before the remote went away, or discarded); otherwise it fails with the queued ones. */
		bool hw_decides = chan->mbox->ops->last_tx_result != NULL;
		drain(chan, cl, err, !hw_decides);
		if (hw_decides && active && (chan->txdone_method & TXDONE_BY_POLL))
			poll_arm(chan->mbox);
	}
	if (tell) {
		cl->link_state(cl, !err);
		atomic_fetch_sub(&chan->rx_busy, 1);
	}
}

/* The TX-done method of @mbox's channels while no client has changed it. */
static unsigned txdone_of(const struct mbox_controller *mbox)
{
	return mbox->txdone_irq ? TXDONE_BY_IRQ : mbox->txdone_poll ? TXDONE_BY_POLL : TXDONE_BY_ACK;
}

/* The controller's startup of @chan, just bound: on failure the channel is free again. */
static inline __attribute__((always_inline)) int start(struct mbox_chan *chan)
{
	int ret = chan->mbox->ops->startup ? chan->mbox->ops->startup(chan) : 0;
	if (ret) {
		unsigned key = ampl_spin_lock(&chan->lock);
		chan->cl = NULL;
		chan->txdone_method = txdone_of(chan->mbox);
		ampl_spin_unlock(&chan->lock, key);
	}
	return ret;
}

int mbox_bind_client(struct mbox_chan *chan, struct mbox_client *cl)
{
	if (!chan || !cl || !chan->mbox)
		return -EINVAL;
	unsigned key = ampl_spin_lock(&chan->lock);
	if (chan->cl) {
		ampl_spin_unlock(&chan->lock, key);
		return -EBUSY;
	}
	chan->msg_free = 0;
	chan->msg_count = 0;
	chan->active = false;
	chan->active_req = NULL;
	chan->cl = cl;
	if ((chan->txdone_method & TXDONE_BY_POLL) && cl->knows_txdone)
		chan->txdone_method = TXDONE_BY_ACK;
	ampl_spin_unlock(&chan->lock, key);
	return start(chan);
}

/* Take @chan's client off it (under its lock); returns the client it had. */
static struct mbox_client *ampl_mbox_release_client(struct mbox_chan *chan)
{
	unsigned key = ampl_spin_lock(&chan->lock);
	struct mbox_client *cl = chan->cl;
	chan->cl = NULL;
	ampl_spin_unlock(&chan->lock, key);
	return cl;
}

/* The thin path's bind: nothing queued to reset, no TX-done method to choose (a ring never waits for TX done), so a
 * startup that fails only gives the channel back. */
int ampl_mbox_bind(struct mbox_chan *chan, struct mbox_client *cl)
{
	if (!chan || !cl || !chan->mbox)
		return -EINVAL;
	unsigned key = ampl_spin_lock(&chan->lock);
	struct mbox_client *prev = chan->cl;
	if (!prev)
		chan->cl = cl;
	ampl_spin_unlock(&chan->lock, key);
	if (prev)
		return -EBUSY;
	int (*startup)(struct mbox_chan *) = chan->mbox->ops->startup;
	int ret = startup ? startup(chan) : 0;
	if (ret)
		ampl_mbox_release_client(chan);
	return ret;
}

#if AMPL_MBOX_REGISTRY
/* The channel @sp names, not bound: or an error pointer (-EPROBE_DEFER: its controller is not registered yet). */
static struct mbox_chan *find(const struct mbox_spec *sp)
{
	unsigned key = ampl_spin_lock(&ctrl_lock);
	struct mbox_controller *mbox = ctrl_head;
	while (mbox && !ampl_str_eq(mbox->node, sp->provider))
		mbox = mbox->next;
	struct mbox_chan *chan = AMPL_ERR_PTR(AMPL_EPROBE_DEFER * -1L);
	if (mbox) {
		if (mbox->of_xlate)
			chan = mbox->of_xlate(mbox, sp);
		else if (sp->nargs >= 1 && sp->args[0] < (uint32_t)mbox->num_chans)
			chan = &mbox->chans[sp->args[0]];
		else
			chan = AMPL_ERR_PTR(-EINVAL);
		if (!chan)
			chan = AMPL_ERR_PTR(-EINVAL);
	}
	ampl_spin_unlock(&ctrl_lock, key);
	return chan;
}

static struct mbox_chan *request(struct mbox_client *cl, const struct mbox_spec *sp)
{
	struct mbox_chan *chan = find(sp);
	if (AMPL_IS_ERR(chan))
		return chan;
	int ret = mbox_bind_client(chan, cl);
	return ret ? AMPL_ERR_PTR(ret) : chan;
}

/* The entry of @node's mboxes named @name, or NULL. */
static const struct mbox_spec *spec_named(const struct mbox_consumer *node, const char *name)
{
	for (unsigned i = 0; name && i < node->num_mboxes; i++)
		if (ampl_str_eq(node->mboxes[i].name, name))
			return &node->mboxes[i];
	return NULL;
}

struct mbox_chan *mbox_request_channel(struct mbox_client *cl, int index)
{
	if (!cl || !cl->node)
		return AMPL_ERR_PTR(-ENODEV);
	if (index < 0 || (unsigned)index >= cl->node->num_mboxes)
		return AMPL_ERR_PTR(-EINVAL);
	return request(cl, &cl->node->mboxes[index]);
}

struct mbox_chan *mbox_request_channel_byname(struct mbox_client *cl, const char *name)
{
	if (!cl || !cl->node)
		return AMPL_ERR_PTR(-ENODEV);
	const struct mbox_spec *sp = spec_named(cl->node, name);
	return sp ? request(cl, sp) : AMPL_ERR_PTR(-EINVAL);
}

#endif /* AMPL_MBOX_REGISTRY */

/* The channel the entry named @name of @node's mboxes names, not bound; or an error pointer (-ENODEV: no @node, or
 * no registry to look it up in: the channel must be given; -EINVAL: no such entry; find()'s). */
static struct mbox_chan *named(const struct mbox_consumer *node, const char *name)
{
#if AMPL_MBOX_REGISTRY
	const struct mbox_spec *sp = node ? spec_named(node, name) : NULL;
	return sp ? find(sp) : AMPL_ERR_PTR(node ? -EINVAL : -ENODEV);
#else
	(void)node;
	(void)name;
	return AMPL_ERR_PTR(-ENODEV);
#endif
}

/* @given, or the channel named @name of @node's mboxes, bound to @cl with @bind. */
static struct mbox_chan *get_channel(struct mbox_client *cl, const struct mbox_consumer *node, struct mbox_chan *given,
				     const char *name, int *err, int (*bind)(struct mbox_chan *, struct mbox_client *))
{
	cl->node = node;
	struct mbox_chan *c = given;
	if (!c && AMPL_IS_ERR(c = named(node, name))) {
		*err = (int)AMPL_PTR_ERR(c);
		return NULL;
	}
	*err = bind(c, cl);
	return *err ? NULL : c;
}

struct mbox_chan *mbox_client_get_channel(struct mbox_client *cl, const struct mbox_consumer *node,
					  struct mbox_chan *given, const char *name, int *err)
{
	return get_channel(cl, node, given, name, err, mbox_bind_client);
}

/* As mbox_client_get_channel(), bound the thin way. */
struct mbox_chan *ampl_mbox_get_channel(struct mbox_client *cl, const struct mbox_consumer *node,
					struct mbox_chan *given, const char *name, int *err)
{
	return get_channel(cl, node, given, name, err, ampl_mbox_bind);
}

/* The channel lost its client: the controller's shutdown, and the controller's TX-done method again. */
static void shut_down(struct mbox_chan *chan)
{
	if (chan->mbox->ops->shutdown)
		chan->mbox->ops->shutdown(chan);
	unsigned key = ampl_spin_lock(&chan->lock);
	chan->txdone_method = txdone_of(chan->mbox);
	ampl_spin_unlock(&chan->lock, key);
}

static void free_with(struct mbox_chan *chan, int err)
{
	void *msgs[MBOX_TX_QUEUE_LEN + 1];
	/* The client and its messages leave the channel together: a TX done that takes the lock after this finds
	 * nothing in flight, never a message whose client is already gone (it would be counted but not reported). */
	unsigned key = ampl_spin_lock(&chan->lock);
	struct mbox_client *cl = chan->cl;
	chan->cl = NULL;
	unsigned n = cl ? take_locked(chan, err, true, msgs) : 0;
	ampl_spin_unlock(&chan->lock, key);
	if (!cl)
		return;
	report(chan, cl, msgs, n, err);
	/* An rx_callback that already read the client finishes before the client may go away, and so does a tx_done
	 * another context is running for a message it took as done before the drain (a tick, a refused submit):
	 * every message counted done is reported before this returns. Not from the channel's own tx_done. */
	while (atomic_load(&chan->rx_busy))
		ampl_cpu_relax();
	for (;;) {
		key = ampl_spin_lock(&chan->lock);
		bool settled = chan->reported_seq == chan->done_seq;
		ampl_spin_unlock(&chan->lock, key);
		if (settled)
			break;
		ampl_cpu_relax();
	}
	shut_down(chan);
}

void ampl_mbox_release(struct mbox_chan *chan)
{
	if (!chan || AMPL_IS_ERR(chan) || !ampl_mbox_release_client(chan))
		return;
	/* Nothing is queued on a thin channel, and its TX-done method is the controller's still: only a running
	 * rx_callback or link_state is waited for. */
	while (atomic_load(&chan->rx_busy))
		ampl_cpu_relax();
	if (chan->mbox->ops->shutdown)
		chan->mbox->ops->shutdown(chan);
}

void mbox_free_channel(struct mbox_chan *chan)
{
	if (chan && !AMPL_IS_ERR(chan))
		free_with(chan, -ECANCELED);
}

int mbox_controller_register(struct mbox_controller *mbox)
{
	if (!mbox || !mbox->ops || !mbox->ops->send_data || !mbox->chans || mbox->num_chans <= 0)
		return -EINVAL;
	if (mbox->txdone_poll && !mbox->ops->last_tx_done)
		return -EINVAL;
	unsigned method = txdone_of(mbox);
	/* Nobody reaches the channels before the registration publishes them: plain stores (the lock clear too). */
	for (int i = 0; i < mbox->num_chans; i++) {
		struct mbox_chan *c = &mbox->chans[i];
		*c = (struct mbox_chan){ .mbox = mbox, .con_priv = c->con_priv, .txdone_method = method };
	}
#if AMPL_MBOX_REGISTRY
	unsigned key = ampl_spin_lock(&ctrl_lock);
	for (struct mbox_controller *m = ctrl_head; m; m = m->next) {
		if (m == mbox || (mbox->node && ampl_str_eq(m->node, mbox->node))) {
			ampl_spin_unlock(&ctrl_lock, key);
			return -EEXIST;
		}
	}
	mbox->next = ctrl_head;
	mbox->poll_next_us = 0;
	mbox->poll_pass = 0;
	atomic_store(&mbox->poll_armed, 0u);
	ctrl_head = mbox;
	mbox->registered = true;
	ampl_spin_unlock(&ctrl_lock, key);
	if (mbox->txdone_poll)
		ampl_mbox_poll_attach(mbox);
#else
	mbox->registered = true; /* its channels are set up: clients are given them, nothing lists the controller */
#endif
	return 0;
}

void mbox_controller_unregister(struct mbox_controller *mbox)
{
	if (!mbox || !mbox->registered)
		return;
#if AMPL_MBOX_REGISTRY
	/* First make it unreachable for new requests and for the poll ticker, then free its channels. */
	unsigned key = ampl_spin_lock(&ctrl_lock);
	for (struct mbox_controller **pp = &ctrl_head; *pp; pp = &(*pp)->next) {
		if (*pp == mbox) {
			*pp = mbox->next;
			break;
		}
	}
	mbox->registered = false;
	ampl_spin_unlock(&ctrl_lock, key);
	for (;;) { /* the ticker may be polling it: wait until it is done */
		key = ampl_spin_lock(&ctrl_lock);
		bool polled = ctrl_polling == mbox;
		ampl_spin_unlock(&ctrl_lock, key);
		if (!polled)
			break;
		ampl_cpu_relax();
	}
#else
	mbox->registered = false;
#endif
	for (int i = 0; i < mbox->num_chans; i++)
		free_with(&mbox->chans[i], -ENODEV);
	if (AMPL_MBOX_REGISTRY && mbox->txdone_poll)
		ampl_mbox_poll_detach(mbox);
}
