/*
 * The generic IPM driver over the mailbox framework (include/amplink/ipm_mbox.h). The device owns its channels from
 * its first use; everything it asks of the controller goes through the framework's operations, on the thin path
 * (ampl_mbox_send_now(), the controller's flush): an IPM message is sent only on an idle channel, so it needs no
 * queue.
 */
#include <amplink/ipm_mbox.h>
#include <amplink/trace.h>

static struct ipm_mbox_data *data_of(const struct ampl_device *dev)
{
	return (struct ipm_mbox_data *)dev->data;
}

/* The state of @dev if it is a set-up device of this driver, else NULL. */
static struct ipm_mbox_data *ipm_of(const struct ampl_device *dev)
{
	struct ipm_mbox_data *d = dev && dev->api == &ipm_mbox_api ? data_of(dev) : NULL;
	return d && (d->cfg.tx || d->cfg.rx) ? d : NULL;
}

/* The device's ids (a constant when every device has one). */
static uint32_t num_ids(const struct ipm_mbox_data *d)
{
	return IPM_MBOX_MAX_IDS > 1u ? d->cfg.num_ids : 1u;
}

/* Channel @i of the device: id i / 2, TX (even) or RX (odd); NULL if the device has no such side. */
static struct mbox_chan *nth(const struct ipm_mbox_data *d, uint32_t i)
{
	struct mbox_chan *base = i & 1u ? d->cfg.rx : d->cfg.tx;
	return base ? base + i / 2u : NULL;
}

static void release_refused(struct ipm_mbox_data *d);

/* @cb of message @data of @id, traced: out of line, so that the untraced callback stays a tail call. */
AMPL_TRACED_PATH static void rx_traced(struct ipm_mbox_data *d, ipm_callback_t cb, uint32_t id, volatile void *data)
{
	AMPL_TRACE_EMIT(AMPL_EV_IPM_RX, d->self, id);
	cb(d->self, atomic_load(&d->user_data), id, data);
}

static void ipm_rx(struct mbox_client *cl, void *mssg)
{
	struct ipm_mbox_rx *port = AMPL_CONTAINER_OF(cl, struct ipm_mbox_rx, cl);
	struct ipm_mbox_data *d = port->d;
	uint32_t id = IPM_MBOX_MAX_IDS > 1u ? (uint32_t)(port - d->rx) : 0u;
	struct mbox_chan *rx = d->cfg.rx + id;
	ipm_callback_t cb = atomic_load(&d->cb);
	if (!cb || !atomic_load(&d->enabled)) {
		/* Not wanted now: keep it pending (without AMPL_IPM_ASYNC, or a controller without hold: dropped); it
		 * comes back when a callback is set and the device enabled, which may have happened since we looked:
		 * then we release it ourselves. */
		if (AMPL_IPM_ASYNC && !ampl_mbox_hold(rx)) {
			atomic_fetch_or(&d->refused, 1u << id);
			release_refused(d);
		}
		return;
	}
	if (AMPL_IPM_ASYNC && (d->cfg.flags & IPM_MBOX_ASYNC))
		(void)ampl_mbox_hold(rx);
	if (AMPL_TRACING()) {
		rx_traced(d, cb, id, ampl_mbox_rx_data(rx, mssg));
		return;
	}
	cb(d->self, atomic_load(&d->user_data), id, ampl_mbox_rx_data(rx, mssg));
}

/* Take the device's channels (first use), the RX ones with their interrupt off until ipm_set_enabled(). */
static int bind(struct ipm_mbox_data *d)
{
	if (atomic_load_explicit(&d->bound, memory_order_acquire))
		return 0;
	while (atomic_flag_test_and_set(&d->binding))
		ampl_cpu_relax();
	int ret = 0;
	if (!atomic_load(&d->bound)) {
		uint32_t i = 0;
		for (; !ret && i < 2u * num_ids(d); i++)
			ret = nth(d, i) ? ampl_mbox_bind(nth(d, i), &d->rx[i / 2u].cl) : 0;
		if (ret) { /* channel i - 1 was refused: give back the ones before it */
			for (i--; i-- > 0;)
				ampl_mbox_release(nth(d, i));
		} else {
			atomic_store_explicit(&d->bound, true, memory_order_release);
		}
	}
	atomic_flag_clear(&d->binding);
	return ret;
}

int ipm_mbox_setup(const struct ampl_device *dev, const struct ipm_mbox_config *cfg)
{
	if (!dev || dev->api != &ipm_mbox_api || !dev->data || !cfg || (!cfg->tx && !cfg->rx) || AMPL_IS_ERR(cfg->tx) ||
	    AMPL_IS_ERR(cfg->rx) || cfg->num_ids > IPM_MBOX_MAX_IDS || cfg->size > IPM_MBOX_MAX_DATA)
		return -EINVAL;
	if (!AMPL_NXP_MU_IPM && (cfg->flags & IPM_MBOX_WAIT_IDLE))
		return -ENOTSUP;
	/* Asynchronous mode holds every message: the controller must be able to (checked once it is registered). */
	const struct mbox_controller *rxc = cfg->rx ? cfg->rx->mbox : NULL;
	if ((cfg->flags & IPM_MBOX_ASYNC) &&
	    (!AMPL_IPM_ASYNC || !cfg->rx || (rxc && !(rxc->ops->hold && rxc->ops->ack))))
		return -ENOTSUP;
	struct ipm_mbox_data *d = data_of(dev);
	ampl_memset(d, 0, sizeof(*d));
	d->cfg = *cfg;
	if (!d->cfg.num_ids)
		d->cfg.num_ids = 1;
	for (uint32_t id = 0; id < IPM_MBOX_MAX_IDS; id++) {
		d->rx[id].cl.rx_callback = ipm_rx;
		d->rx[id].cl.rx_off = true;
		d->rx[id].d = d;
	}
	d->self = dev;
	/* Set up before the device is used: no ordering needed here. */
	atomic_flag_clear_explicit(&d->binding, memory_order_relaxed);
	atomic_flag_clear_explicit(&d->tx_lock, memory_order_relaxed);
	return 0;
}

int ipm_mbox_init(const struct ampl_device *dev)
{
	return dev ? ipm_mbox_setup(dev, (const struct ipm_mbox_config *)dev->config) : -EINVAL;
}

void ipm_mbox_release(const struct ampl_device *dev)
{
	struct ipm_mbox_data *d = ipm_of(dev);
	if (!d || !atomic_exchange(&d->bound, false))
		return;
	for (uint32_t i = 0; i < 2u * num_ids(d); i++)
		ampl_mbox_release(nth(d, i));
}

struct mbox_chan *ipm_mbox_chan(const struct ampl_device *dev, bool rx)
{
	struct ipm_mbox_data *d = ipm_of(dev);
	if (!d)
		return NULL;
	return rx ? d->cfg.rx : d->cfg.tx;
}

static int max_size(const struct ipm_mbox_data *d)
{
	const struct mbox_chan *c = d->cfg.tx ? d->cfg.tx : d->cfg.rx;
	size_t n = d->cfg.size ? d->cfg.size : c->mbox ? c->mbox->max_msg_size : 0;
	return (int)(n < IPM_MBOX_MAX_DATA ? n : IPM_MBOX_MAX_DATA);
}

/* The waits of ipm_send(): sliced, so that a sender also sees what other senders did in between (tx_seq). */
#define WAIT_SLICE_MS 1u

/*
 * Wait up to one slice on the controller (flush) for @tx to be idle. False once @tout_us (UINT32_MAX: no bound) is
 * spent, counted both by the clock from @start and by the slices that ran out (a port without a clock still
 * stops), or when the controller cannot wait (no flush).
 */
static bool wait_slice(struct mbox_chan *tx, uint32_t tout_us, uint64_t start, uint32_t *spent)
{
	int (*flush)(struct mbox_chan *, unsigned long) = AMPL_MBOX_OP(tx, flush);
	if (!flush)
		return false;
	if (tout_us != UINT32_MAX && (*spent >= tout_us || ampl_os_uptime_us() - start >= tout_us))
		return false;
	if (flush(tx, WAIT_SLICE_MS))
		*spent += WAIT_SLICE_MS * 1000u;
	return true;
}

/*
 * @tx of @id is idle (the controller's last_tx_done). @traced (a constant of the copy of send() that inlines it):
 * traced as the TX done of our last message the first time it is seen idle (done_seq is kept only while traced).
 */
static inline __attribute__((always_inline)) bool tx_idle(struct ipm_mbox_data *d, struct mbox_chan *tx, uint32_t id,
							  bool traced)
{
	bool idle = ampl_mbox_last_tx_done(tx);
#if AMPL_CONFIG_TRACE
	if (idle && traced) {
		uint32_t seq = atomic_load(&d->tx_seq[id]);
		if (atomic_exchange(&d->done_seq[id], seq) != seq)
			AMPL_TRACE_EMIT(AMPL_EV_MBOX_TXDONE, tx, 0);
	}
#else
	(void)d;
	(void)id;
	(void)traced;
#endif
	return idle;
}

/* The result of a message the controller says is done: its last_tx_result (-ESHUTDOWN: discarded), or 0. */
static int tx_result(struct mbox_chan *tx)
{
	int (*result)(struct mbox_chan *) = AMPL_MBOX_OP(tx, last_tx_result);
	return result && result(tx) < 0 ? -ESHUTDOWN : 0;
}

/*
 * ipm_send() of this driver; @traced: tracing was on when it started. Two copies, one traced and one not (@traced a
 * constant in each), so that the untraced one carries nothing of the trace but the read of the flag.
 */
static inline __attribute__((always_inline)) int send(const struct ampl_device *dev, int wait, uint32_t id,
						      const void *data, int size, bool traced)
{
	struct ipm_mbox_data *d = ipm_of(dev);
	if (!d || !d->cfg.tx || size < 0 || (size > 0 && !data) || id >= num_ids(d))
		return -EINVAL;
	if (size > max_size(d))
		return -EMSGSIZE;
	int ret = bind(d);
	if (ret)
		return ret;
	struct mbox_chan *tx = d->cfg.tx + id;
	const struct mbox_controller *mbox = tx->mbox;
	/* The controller copies the message while sending (the thin path): it may live on this stack. */
	struct {
		size_t len;
		AMPL_ALIGNAS(8) uint8_t data[IPM_MBOX_MAX_DATA];
	} msg = { (size_t)size, { 0 } };
	if (size)
		ampl_memcpy(msg.data, data, (size_t)size);
	void *mssg = !size && !(mbox->raw_msg && mbox->max_msg_size) ? NULL : mbox->raw_msg ? (void *)msg.data : (void *)&msg;
	uint32_t tout = d->cfg.ack_timeout_us ? d->cfg.ack_timeout_us : IPM_MBOX_ACK_TIMEOUT_US;
	/* Without IPM_MBOX_WAIT_IDLE a busy id is not waited for. */
	bool wait_busy = AMPL_NXP_MU_IPM && wait && (d->cfg.flags & IPM_MBOX_WAIT_IDLE);
	uint64_t start = wait_busy ? ampl_os_uptime_us() : 0u;
	uint32_t spent = 0, seq = 0;
	do {
		/* One message at a time per id: busy until the remote consumed the last one, whoever sent it. */
		unsigned key = ampl_spin_lock(&d->tx_lock);
		ret = tx_idle(d, tx, id, traced) ? ampl_mbox_send_now(tx, mssg) : -EBUSY;
		seq = atomic_load(&d->tx_seq[id]) + (ret ? 0u : 1u); /* counted under tx_lock, its only writers */
		atomic_store(&d->tx_seq[id], seq);
		ampl_spin_unlock(&d->tx_lock, key);
		/* Nothing written while the id is busy (with IPM_MBOX_WAIT_IDLE: for the whole bound, or other senders
		 * got it first each time it was freed). */
	} while (ret == -EBUSY && wait_busy && wait_slice(tx, tout, start, &spent));
	if (ret || !wait)
		return ret ? ret : tx_result(tx);
	/* Sent: now the wait for the remote, with a bound of its own. */
	start = ampl_os_uptime_us();
	spent = 0;
	for (;;) {
		/* Consumed once the controller says so, or once another sender wrote the id after ours (it writes only
		 * on an idle channel, so the remote had consumed ours): without the second test a sender whose message
		 * was consumed, then replaced before it looked, would wait for the other one. */
		if (atomic_load(&d->tx_seq[id]) != seq)
			return 0;
		if (tx_idle(d, tx, id, traced))
			return tx_result(tx);
		if (!wait_slice(tx, tout, start, &spent))
			return -ETIMEDOUT;
	}
}

/* ipm_send() while tracing is on: the send (AMPL_EV_IPM_SEND) and its TX done. */
AMPL_TRACED_PATH static int send_traced(const struct ampl_device *dev, int wait, uint32_t id, const void *data,
					int size)
{
	int r = send(dev, wait, id, data, size, true);
	AMPL_TRACE_EMIT(AMPL_EV_IPM_SEND, dev, r < 0 ? r : size);
	return r;
}

static int ipm_mbox_send(const struct ampl_device *dev, int wait, uint32_t id, const void *data, int size)
{
	if (AMPL_TRACING())
		return send_traced(dev, wait, id, data, size);
	return send(dev, wait, id, data, size, false);
}

/* Deliver again the messages held because nobody wanted them (not one held for ipm_complete()). */
static void release_refused(struct ipm_mbox_data *d)
{
	if (!AMPL_IPM_ASYNC || !atomic_load(&d->cb) || !atomic_load(&d->enabled))
		return;
	uint32_t refused = atomic_exchange(&d->refused, 0u);
	for (uint32_t id = 0; refused; id++, refused >>= 1)
		if (refused & 1u)
			ampl_mbox_redeliver(d->cfg.rx + id);
}

static void ipm_mbox_register_callback(const struct ampl_device *dev, ipm_callback_t cb, void *user_data)
{
	struct ipm_mbox_data *d = ipm_of(dev);
	if (!d || bind(d))
		return;
	atomic_store(&d->user_data, user_data);
	atomic_store(&d->cb, cb);
	release_refused(d);
}

static int ipm_mbox_max_data_size_get(const struct ampl_device *dev)
{
	struct ipm_mbox_data *d = ipm_of(dev);
	return d ? max_size(d) : -EINVAL;
}

static uint32_t ipm_mbox_max_id_val_get(const struct ampl_device *dev)
{
	struct ipm_mbox_data *d = ipm_of(dev);
	return d ? num_ids(d) - 1u : 0;
}

static int ipm_mbox_set_enabled(const struct ampl_device *dev, int enable)
{
	struct ipm_mbox_data *d = ipm_of(dev);
	if (!d || !d->cfg.rx)
		return -EINVAL;
	int ret = bind(d);
	if (ret)
		return ret;
	atomic_store(&d->enabled, enable != 0);
	for (uint32_t id = 0; id < num_ids(d); id++)
		(void)ampl_mbox_rx_enable(d->cfg.rx + id, enable != 0); /* without rx_enable it always interrupts */
	release_refused(d);
	return 0;
}

#if AMPL_IPM_ASYNC
static void ipm_mbox_complete(const struct ampl_device *dev)
{
	struct ipm_mbox_data *d = ipm_of(dev);
	if (d && d->cfg.rx)
		ampl_mbox_ack(d->cfg.rx);
}
#else
#define ipm_mbox_complete NULL /* nothing is ever held: ipm_complete() does nothing */
#endif

const struct ipm_driver_api ipm_mbox_api = {
	.send = ipm_mbox_send,
	.register_callback = ipm_mbox_register_callback,
	.max_data_size_get = ipm_mbox_max_data_size_get,
	.max_id_val_get = ipm_mbox_max_id_val_get,
	.set_enabled = ipm_mbox_set_enabled,
	.complete = ipm_mbox_complete,
};
