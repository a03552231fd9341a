/*
 * User-space channels (include/amplink/host/uchan.h): the Linux IPI mailbox driver's user-space API over the mailbox
 * framework, for processes of the virtual SoC.
 *
 * Locking
 *   ctl->lock     (mutex)    the channel table and every open/release/unrequest transition
 *   ch->qlock     (spinlock) the receive queue and its hold state; shared with the interrupt context (rx_callback)
 *   ch->txlock    (mutex)    serialises writers: the hardware takes one request at a time
 * Readers sleep on ch->rx_seq (a futex word bumped by every arrival and by release). ch->inflight counts the
 * reads, writes and polls in progress, so unrequest can wait for a reader that a release woke up.
 *
 * Holding: when the queue is full, rx_callback holds the request (ampl_mbox_hold: masked, unacknowledged)
 * and sets ch->held under qlock; the read that frees a slot clears ch->held under qlock and redelivers it, so
 * exactly one party releases each hold. Release frees the RX channel first (its shutdown masks the source) and
 * then drops a hold without unmasking, leaving the request pending at the hardware for the next open.
 */
#include <amplink/host/uchan.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/mailbox_controller.h>

#define MAX_BITS 32u
#define QUEUE_LEN_MAX 65536u
#define READ_SLICE_US 100000u /* a blocked reader re-checks its state at least this often */

struct uchan_msg {
	uint32_t len;
	uint8_t data[AMPL_IPI_BUF_SIZE];
};

struct ampl_uchan {
	struct ampl_uchan_ctl *ctl;
	const struct ampl_soc_agent *remote;
	struct mbox_controller *mbox;
	struct mbox_client cl_tx, cl_rx;

	atomic_bool open;
	atomic_uint flags;
	atomic_uint inflight;

	/* receive queue, under qlock */
	atomic_flag qlock;
	struct uchan_msg *q;
	unsigned qlen, qhead, qcount;
	bool held;
	uint64_t received, nread, nheld;
	void (*notify)(struct ampl_uchan *ch, unsigned events, void *arg);
	void *notify_arg;
	_Atomic uint32_t rx_seq;
	atomic_uint rx_sleepers;

	/* sending */
	pthread_mutex_t txlock;
	_Atomic uint64_t sent;
	struct {
		size_t len;
		_Alignas(8) uint8_t data[AMPL_IPI_BUF_SIZE];
	} tx_msg;
};

struct ampl_uchan_ctl {
	struct ampl_agent *ag;
	const struct ampl_soc_agent *self;
	const struct ampl_soc_profile *profile;
	struct ampl_uchan_opts opts;
	pthread_mutex_t lock;
	struct ampl_uchan *chans[MAX_BITS]; /* by the target's bit */
	struct ampl_uchan_ctl *next;
};

/* One control per agent per process. */
static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ampl_uchan_ctl *reg_head;

static uint64_t now_us(void)
{
	return ampl_os_uptime_us();
}

static void sleep_us(unsigned us)
{
	struct timespec ts = { 0, (long)us * 1000L };
	nanosleep(&ts, NULL);
}

static struct mbox_chan *tx_chan(struct ampl_uchan *ch)
{
	return &ch->mbox->chans[XLNX_IPI_TX_CHAN];
}

static struct mbox_chan *rx_chan(struct ampl_uchan *ch)
{
	return &ch->mbox->chans[XLNX_IPI_RX_CHAN];
}

/* Count a call in progress; false (and not counted) if the channel is not open. */
static bool enter(struct ampl_uchan *ch)
{
	atomic_fetch_add(&ch->inflight, 1);
	if (atomic_load(&ch->open))
		return true;
	atomic_fetch_sub(&ch->inflight, 1);
	return false;
}

static void leave(struct ampl_uchan *ch)
{
	atomic_fetch_sub(&ch->inflight, 1);
}

static void notify(struct ampl_uchan *ch, unsigned events)
{
	unsigned key = ampl_spin_lock(&ch->qlock);
	void (*fn)(struct ampl_uchan *, unsigned, void *) = ch->notify;
	void *arg = ch->notify_arg;
	ampl_spin_unlock(&ch->qlock, key);
	if (fn)
		fn(ch, events, arg);
}

static void wake_readers(struct ampl_uchan *ch, bool always)
{
	atomic_fetch_add(&ch->rx_seq, 1);
	if (always || atomic_load(&ch->rx_sleepers))
		ampl_os_wake(&ch->rx_seq);
}

/* ---- framework callbacks (interrupt / TX-done context) ---- */

static void uchan_rx(struct mbox_client *cl, void *mssg)
{
	struct ampl_uchan *ch = AMPL_CONTAINER_OF(cl, struct ampl_uchan, cl_rx);
	const struct mbox_sized_msg *m = (const struct mbox_sized_msg *)mssg;
	unsigned key = ampl_spin_lock(&ch->qlock);
	if (ch->qcount == ch->qlen) {
		/* Full: leave it pending at the hardware; the read that frees a slot redelivers it. */
		ch->held = true;
		ch->nheld++;
		(void)ampl_mbox_hold(rx_chan(ch));
		ampl_spin_unlock(&ch->qlock, key);
		return;
	}
	struct uchan_msg *slot = &ch->q[(ch->qhead + ch->qcount) % ch->qlen];
	size_t len = m ? m->len : 0;
	if (len > AMPL_IPI_BUF_SIZE)
		len = AMPL_IPI_BUF_SIZE;
	slot->len = (uint32_t)len;
	if (len)
		memcpy(slot->data, m->data, len);
	ch->qcount++;
	ch->received++;
	ampl_spin_unlock(&ch->qlock, key);
	wake_readers(ch, false);
	notify(ch, AMPL_UCHAN_POLLIN);
}

static void uchan_tx_done(struct mbox_client *cl, void *mssg, int r)
{
	(void)mssg;
	(void)r;
	struct ampl_uchan *ch = AMPL_CONTAINER_OF(cl, struct ampl_uchan, cl_tx);
	notify(ch, AMPL_UCHAN_POLLOUT);
}

/* ---- control ---- */

int ampl_uchan_ctl_open(struct ampl_agent *ag, const struct ampl_uchan_opts *opts, struct ampl_uchan_ctl **out)
{
	if (!ag || !out)
		return -EINVAL;
	const struct ampl_soc_agent *self = ampl_agent_info(ag);
	const struct ampl_soc_profile *p = ampl_agent_profile(ag);
	if (!p)
		return -EINVAL;
	if (!p->valid_mask)
		return -ENOTSUP; /* no IPI block on this SoC (i.MX: Messaging Units) */
	struct ampl_uchan_opts o = { AMPL_UCHAN_QUEUE_LEN, AMPL_UCHAN_ACK_TIMEOUT_MS };
	if (opts && opts->queue_len)
		o.queue_len = opts->queue_len;
	if (opts && opts->ack_timeout_ms)
		o.ack_timeout_ms = opts->ack_timeout_ms;
	if (o.queue_len > QUEUE_LEN_MAX)
		return -EINVAL;
	struct ampl_uchan_ctl *ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->ag = ag;
	ctl->self = self;
	ctl->profile = p;
	ctl->opts = o;
	pthread_mutex_init(&ctl->lock, NULL);
	pthread_mutex_lock(&reg_lock);
	for (struct ampl_uchan_ctl *c = reg_head; c; c = c->next) {
		if (c->ag == ag) {
			pthread_mutex_unlock(&reg_lock);
			pthread_mutex_destroy(&ctl->lock);
			free(ctl);
			return -EBUSY;
		}
	}
	ctl->next = reg_head;
	reg_head = ctl;
	pthread_mutex_unlock(&reg_lock);
	*out = ctl;
	return 0;
}

static void release_locked(struct ampl_uchan *ch)
{
	atomic_store(&ch->open, false);
	/* RX first: its shutdown masks the source and waits for a running rx_callback. */
	mbox_free_channel(rx_chan(ch));
	unsigned key = ampl_spin_lock(&ch->qlock);
	bool held = ch->held;
	ch->held = false;
	ampl_spin_unlock(&ch->qlock, key);
	if (held)
		ampl_mbox_redeliver(rx_chan(ch)); /* no client: stays masked and pending until the next open */
	/* A blocked writer learns -ECANCELED; a request in flight stays triggered at the hardware. */
	mbox_free_channel(tx_chan(ch));
	wake_readers(ch, true);
}

static void destroy(struct ampl_uchan *ch)
{
	while (atomic_load(&ch->inflight))
		sleep_us(1000);
	pthread_mutex_destroy(&ch->txlock);
	free(ch->q);
	free(ch);
}

void ampl_uchan_ctl_close(struct ampl_uchan_ctl *ctl)
{
	if (!ctl)
		return;
	pthread_mutex_lock(&reg_lock);
	for (struct ampl_uchan_ctl **pp = &reg_head; *pp; pp = &(*pp)->next) {
		if (*pp == ctl) {
			*pp = ctl->next;
			break;
		}
	}
	pthread_mutex_unlock(&reg_lock);
	pthread_mutex_lock(&ctl->lock);
	for (unsigned b = 0; b < MAX_BITS; b++) {
		struct ampl_uchan *ch = ctl->chans[b];
		if (ch && atomic_load(&ch->open))
			release_locked(ch);
	}
	pthread_mutex_unlock(&ctl->lock);
	for (unsigned b = 0; b < MAX_BITS; b++) {
		if (ctl->chans[b])
			destroy(ctl->chans[b]);
		ctl->chans[b] = NULL;
	}
	pthread_mutex_destroy(&ctl->lock);
	free(ctl);
}

int ampl_uchan_request(struct ampl_uchan_ctl *ctl, const char *target, struct ampl_uchan **out)
{
	if (!ctl || !target || !out)
		return -EINVAL;
	const struct ampl_soc_agent *remote = ampl_soc_agent_by_name(ctl->profile, target);
	if (!remote || remote == ctl->self)
		return -EINVAL;
	if (remote->flags & AMPL_AGENT_FIRMWARE)
		return -EPERM;
	pthread_mutex_lock(&ctl->lock);
	int ret = 0;
	struct ampl_uchan *ch = NULL;
	if (ctl->chans[remote->ipi->bit]) {
		ret = -EBUSY;
		goto out;
	}
	struct mbox_controller *mbox = NULL;
	ret = ampl_agent_mbox(ctl->ag, remote->name, &mbox);
	if (ret)
		goto out;
	/* A request destination: a TX and an RX channel of sized messages, whose requests can be held. */
	if (mbox->num_chans != 2 || mbox->raw_msg || !mbox->ops->hold || !mbox->ops->redeliver) {
		ret = -ENOTSUP;
		goto out;
	}
	ch = calloc(1, sizeof(*ch));
	if (ch)
		ch->q = calloc(ctl->opts.queue_len, sizeof(*ch->q));
	if (!ch || !ch->q) {
		if (ch)
			free(ch);
		ch = NULL;
		ret = -ENOMEM;
		goto out;
	}
	ch->ctl = ctl;
	ch->remote = remote;
	ch->mbox = mbox;
	ch->qlen = ctl->opts.queue_len;
	atomic_flag_clear(&ch->qlock);
	ch->cl_rx.rx_callback = uchan_rx;
	ch->cl_tx.tx_done = uchan_tx_done;
	pthread_mutex_init(&ch->txlock, NULL);
	ctl->chans[remote->ipi->bit] = ch;
	*out = ch;
out:
	pthread_mutex_unlock(&ctl->lock);
	return ret;
}

int ampl_uchan_unrequest(struct ampl_uchan *ch)
{
	if (!ch)
		return -EINVAL;
	struct ampl_uchan_ctl *ctl = ch->ctl;
	pthread_mutex_lock(&ctl->lock);
	if (atomic_load(&ch->open)) {
		pthread_mutex_unlock(&ctl->lock);
		return -EBUSY;
	}
	ctl->chans[ch->remote->ipi->bit] = NULL;
	pthread_mutex_unlock(&ctl->lock);
	destroy(ch);
	return 0;
}

struct ampl_uchan *ampl_uchan_find(struct ampl_uchan_ctl *ctl, const char *target)
{
	if (!ctl || !target)
		return NULL;
	const struct ampl_soc_agent *remote = ampl_soc_agent_by_name(ctl->profile, target);
	if (!remote)
		return NULL;
	pthread_mutex_lock(&ctl->lock);
	struct ampl_uchan *ch = ctl->chans[remote->ipi->bit];
	pthread_mutex_unlock(&ctl->lock);
	return ch;
}

unsigned ampl_uchan_foreach(struct ampl_uchan_ctl *ctl, void (*fn)(struct ampl_uchan *ch, void *arg), void *arg)
{
	if (!ctl)
		return 0;
	unsigned n = 0;
	pthread_mutex_lock(&ctl->lock);
	for (unsigned i = 0; i < ctl->profile->num_agents; i++) {
		const struct ampl_ipi_block *ipi = ctl->profile->agents[i].ipi;
		struct ampl_uchan *ch = ipi ? ctl->chans[ipi->bit] : NULL;
		if (!ch)
			continue;
		n++;
		if (fn)
			fn(ch, arg);
	}
	pthread_mutex_unlock(&ctl->lock);
	return n;
}

const char *ampl_uchan_name(const struct ampl_uchan *ch)
{
	return ch ? ch->remote->name : NULL;
}

size_t ampl_uchan_max_msg(const struct ampl_uchan *ch)
{
	if (!ch)
		return 0;
	return ch->mbox->max_msg_size < AMPL_IPI_BUF_SIZE ? ch->mbox->max_msg_size : AMPL_IPI_BUF_SIZE;
}

/* ---- open / release ---- */

int ampl_uchan_open(struct ampl_uchan *ch, unsigned flags)
{
	if (!ch || (flags & ~AMPL_UCHAN_NONBLOCK))
		return -EINVAL;
	struct ampl_uchan_ctl *ctl = ch->ctl;
	pthread_mutex_lock(&ctl->lock);
	int ret = 0;
	if (atomic_load(&ch->open)) {
		ret = -EBUSY;
		goto out;
	}
	atomic_store(&ch->flags, flags);
	ret = mbox_bind_client(tx_chan(ch), &ch->cl_tx);
	if (ret)
		goto out;
	/* The RX startup unmasks the source: a request left pending arrives at once, into the queue. */
	ret = mbox_bind_client(rx_chan(ch), &ch->cl_rx);
	if (ret) {
		mbox_free_channel(tx_chan(ch));
		goto out;
	}
	atomic_store(&ch->open, true);
out:
	pthread_mutex_unlock(&ctl->lock);
	return ret;
}

int ampl_uchan_set_flags(struct ampl_uchan *ch, unsigned flags)
{
	if (!ch || (flags & ~AMPL_UCHAN_NONBLOCK))
		return -EINVAL;
	if (!atomic_load(&ch->open))
		return -EBADF;
	atomic_store(&ch->flags, flags);
	return 0;
}

int ampl_uchan_release(struct ampl_uchan *ch)
{
	if (!ch)
		return -EINVAL;
	struct ampl_uchan_ctl *ctl = ch->ctl;
	pthread_mutex_lock(&ctl->lock);
	int ret = 0;
	if (!atomic_load(&ch->open))
		ret = -EBADF;
	else
		release_locked(ch);
	pthread_mutex_unlock(&ctl->lock);
	return ret;
}

/* ---- write ---- */

/* Our previous request is still pending: at the controller or in the framework. Polls the framework. */
static bool tx_pending(struct ampl_uchan *ch)
{
	return !ampl_mbox_last_tx_done(tx_chan(ch)) || mbox_client_tx_busy(tx_chan(ch));
}

/* Blocking writer: wait until the previous request is acknowledged, at most @timeout_ms. */
static int wait_tx_idle(struct ampl_uchan *ch, uint32_t timeout_ms)
{
	uint64_t deadline = now_us() + (uint64_t)timeout_ms * 1000u;
	while (tx_pending(ch)) {
		if (!atomic_load(&ch->open))
			return -EBADF;
		uint64_t now = now_us();
		if (now >= deadline)
			return -ETIMEDOUT;
		uint64_t left = deadline - now;
		uint32_t slice = left > READ_SLICE_US ? READ_SLICE_US : (uint32_t)left;
		/* The controller's flush (the IPI sleeps per the agent's wait mode until OBS drops); the framework is
		 * ticked by tx_pending(). */
		(void)ampl_mbox_wait_sent(tx_chan(ch), (slice + 999u) / 1000u);
	}
	return 0;
}

ssize_t ampl_uchan_write(struct ampl_uchan *ch, const void *buf, size_t len)
{
	if (!ch || (len && !buf))
		return -EINVAL;
	if (!enter(ch))
		return -EBADF;
	size_t max = ampl_uchan_max_msg(ch);
	size_t n = len < max ? len : max;
	bool nonblock = atomic_load(&ch->flags) & AMPL_UCHAN_NONBLOCK;
	uint32_t tout = ch->ctl->opts.ack_timeout_ms;
	ssize_t ret;
	if (len && !max) {
		ret = -EMSGSIZE;
		goto out;
	}
	if (nonblock) {
		if (pthread_mutex_trylock(&ch->txlock)) {
			ret = -EAGAIN; /* another writer is waiting for the hardware */
			goto out;
		}
	} else {
		pthread_mutex_lock(&ch->txlock);
	}
	if (!atomic_load(&ch->open)) {
		ret = -EBADF;
		goto unlock;
	}
	if (tx_pending(ch)) {
		if (nonblock) {
			ret = -EAGAIN;
			goto unlock;
		}
		int r = wait_tx_idle(ch, tout);
		if (r) {
			ret = r;
			goto unlock;
		}
	}
	void *mssg = NULL;
	if (len) {
		/* The IPI carries no length: the remote reads the whole buffer, so what follows the data is zero. */
		memset(ch->tx_msg.data, 0, sizeof(ch->tx_msg.data));
		memcpy(ch->tx_msg.data, buf, n);
		ch->tx_msg.len = max;
		mssg = &ch->tx_msg;
	}
	ch->cl_tx.tx_block = !nonblock;
	ch->cl_tx.tx_tout = tout;
	int r = mbox_send_message(tx_chan(ch), mssg);
	if (r >= 0 || r == -ETIME)
		atomic_fetch_add(&ch->sent, 1);
	if (r >= 0)
		ret = (ssize_t)n;
	else if (r == -ETIME)
		ret = -ETIMEDOUT; /* ours stays pending at the hardware */
	else if (r == -EINVAL && !atomic_load(&ch->open))
		ret = -EBADF; /* released between our check and the send */
	else
		ret = r;
unlock:
	pthread_mutex_unlock(&ch->txlock);
out:
	leave(ch);
	return ret;
}

/* ---- read ---- */

ssize_t ampl_uchan_read_timeout(struct ampl_uchan *ch, void *buf, size_t len, int timeout_ms)
{
	if (!ch || (len && !buf))
		return -EINVAL;
	if (!enter(ch))
		return -EBADF;
	ssize_t ret;
	if (!len) {
		ret = 0;
		goto out;
	}
	uint64_t deadline = timeout_ms > 0 ? now_us() + (uint64_t)timeout_ms * 1000u : 0;
	for (;;) {
		uint32_t seen = atomic_load(&ch->rx_seq);
		unsigned key = ampl_spin_lock(&ch->qlock);
		if (ch->qcount) {
			const struct uchan_msg *m = &ch->q[ch->qhead];
			size_t n = len < m->len ? len : m->len;
			memcpy(buf, m->data, n);
			ch->qhead = (ch->qhead + 1) % ch->qlen;
			ch->qcount--;
			ch->nread++;
			bool redeliver = ch->held;
			ch->held = false;
			ampl_spin_unlock(&ch->qlock, key);
			if (redeliver)
				ampl_mbox_redeliver(rx_chan(ch)); /* the held request comes in again, now with room */
			ret = (ssize_t)n;
			break;
		}
		ampl_spin_unlock(&ch->qlock, key);
		if (!atomic_load(&ch->open)) {
			ret = -EBADF;
			break;
		}
		if (timeout_ms == 0) {
			ret = -EAGAIN;
			break;
		}
		uint32_t wait = READ_SLICE_US;
		if (timeout_ms > 0) {
			uint64_t now = now_us();
			if (now >= deadline) {
				ret = -ETIMEDOUT;
				break;
			}
			if (deadline - now < wait)
				wait = (uint32_t)(deadline - now);
		}
		/* rx_sleepers is raised before the re-check, and rx_seq is bumped before the waker reads rx_sleepers
		 * (both sequentially consistent), so the wake-up cannot be missed. */
		atomic_fetch_add(&ch->rx_sleepers, 1);
		if (atomic_load(&ch->rx_seq) == seen)
			ampl_os_wait(&ch->rx_seq, seen, wait);
		atomic_fetch_sub(&ch->rx_sleepers, 1);
	}
out:
	leave(ch);
	return ret;
}

ssize_t ampl_uchan_read(struct ampl_uchan *ch, void *buf, size_t len)
{
	if (!ch)
		return -EINVAL;
	bool nonblock = atomic_load(&ch->flags) & AMPL_UCHAN_NONBLOCK;
	return ampl_uchan_read_timeout(ch, buf, len, nonblock ? 0 : -1);
}

/* ---- readiness ---- */

unsigned ampl_uchan_poll(struct ampl_uchan *ch)
{
	if (!ch || !enter(ch))
		return 0;
	unsigned bits = 0;
	unsigned key = ampl_spin_lock(&ch->qlock);
	if (ch->qcount)
		bits |= AMPL_UCHAN_POLLIN;
	ampl_spin_unlock(&ch->qlock, key);
	if (!tx_pending(ch))
		bits |= AMPL_UCHAN_POLLOUT;
	leave(ch);
	return bits;
}

int ampl_uchan_set_notify(struct ampl_uchan *ch, void (*fn)(struct ampl_uchan *ch, unsigned events, void *arg),
			  void *arg)
{
	if (!ch)
		return -EINVAL;
	unsigned key = ampl_spin_lock(&ch->qlock);
	ch->notify = fn;
	ch->notify_arg = arg;
	ampl_spin_unlock(&ch->qlock, key);
	return 0;
}

int ampl_uchan_stats(struct ampl_uchan *ch, struct ampl_uchan_stats *st)
{
	if (!ch || !st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	unsigned key = ampl_spin_lock(&ch->qlock);
	st->received = ch->received;
	st->read = ch->nread;
	st->held = ch->nheld;
	st->queued = ch->qcount;
	ampl_spin_unlock(&ch->qlock, key);
	st->sent = atomic_load(&ch->sent);
	st->open = atomic_load(&ch->open);
	return 0;
}
