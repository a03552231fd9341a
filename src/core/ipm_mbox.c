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

static bool is_ipm(const struct ampl_device *dev)
{
	return dev && dev->api == &ipm_mbox_api && dev->data && (data_of(dev)->cfg.tx || data_of(dev)->cfg.rx);
}

/* The channel of @id (NULL if the device has no such side). */
static struct mbox_chan *chan_of(struct mbox_chan *base, uint32_t id)
{
	return base ? base + id : NULL;
}

static void ipm_rx(struct mbox_client *cl, void *mssg)
{
	struct ipm_mbox_rx *port = AMPL_CONTAINER_OF(cl, struct ipm_mbox_rx, cl);
	struct ipm_mbox_data *d = port->d;
	uint32_t id = (uint32_t)(port - d->rx), bit = 1u << id;
	struct mbox_chan *rx = chan_of(d->cfg.rx, id);
	ipm_callback_t cb = atomic_load(&d->cb);
	if (!cb || !atomic_load(&d->enabled)) {
		/* Not wanted now: keep it pending; it comes back when a callback is set and the device enabled. */
		if (ampl_mbox_hold(rx))
			return; /* the controller cannot keep it: dropped */
		atomic_fetch_or(&d->refused, bit);
		/* A callback or enable that raced with us saw nothing to release: release it ourselves. */
		if (atomic_load(&d->cb) && atomic_load(&d->enabled) && (atomic_fetch_and(&d->refused, ~bit) & bit))
			ampl_mbox_redeliver(rx);
		return;
	}
	if (d->cfg.flags & IPM_MBOX_ASYNC)
		(void)ampl_mbox_hold(rx);
	AMPL_TRACE(AMPL_EV_IPM_RX, d->self, id);
	cb(d->self, atomic_load(&d->user_data), id, ampl_mbox_rx_data(rx, mssg));
}

/* Release the first @n ids' channels. */
static void release_chans(struct ipm_mbox_data *d, uint32_t n)
{
	for (uint32_t id = 0; id < n; id++) {
		ampl_mbox_release(chan_of(d->cfg.rx, id));
		ampl_mbox_release(chan_of(d->cfg.tx, id));
	}
}

/* Take the device's channels (first use), the RX ones with their interrupt off until ipm_set_enabled(). */
static int bind(struct ipm_mbox_data *d)
{
	if (atomic_load_explicit(&d->bound, memory_order_acquire))
		return 0;
	while (atomic_flag_test_and_set(&d->binding))
		ampl_cpu_relax();
	int ret = 0;
	for (uint32_t id = 0; !atomic_load(&d->bound) && id < d->cfg.num_ids; id++) {
		struct mbox_chan *tx = chan_of(d->cfg.tx, id), *rx = chan_of(d->cfg.rx, id);
		ret = tx ? mbox_bind_client(tx, &d->rx[id].cl) : 0;
		if (!ret && rx && (ret = mbox_bind_client(rx, &d->rx[id].cl)) != 0)
			ampl_mbox_release(tx);
		if (ret) {
			release_chans(d, id);
			break;
		}
		if (id + 1 == d->cfg.num_ids)
			atomic_store_explicit(&d->bound, true, memory_order_release);
	}
	atomic_flag_clear(&d->binding);
	return ret;
}

int ipm_mbox_setup(const struct ampl_device *dev, const struct ipm_mbox_config *cfg)
{
	if (!dev || dev->api != &ipm_mbox_api || !dev->data || !cfg || (!cfg->tx && !cfg->rx) || AMPL_IS_ERR(cfg->tx) ||
	    AMPL_IS_ERR(cfg->rx) || cfg->num_ids > IPM_MBOX_MAX_IDS || cfg->size > IPM_MBOX_MAX_DATA)
		return -EINVAL;
	/* Asynchronous mode holds every message: the controller must be able to (checked once it is registered). */
	const struct mbox_controller *rxc = cfg->rx ? cfg->rx->mbox : NULL;
	if ((cfg->flags & IPM_MBOX_ASYNC) && (!cfg->rx || (rxc && !(rxc->ops->hold && rxc->ops->ack))))
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
	atomic_flag_clear(&d->binding);
	atomic_flag_clear(&d->tx_lock);
	return 0;
}

int ipm_mbox_init(const struct ampl_device *dev)
{
	return dev ? ipm_mbox_setup(dev, (const struct ipm_mbox_config *)dev->config) : -EINVAL;
}

void ipm_mbox_release(const struct ampl_device *dev)
{
	if (is_ipm(dev) && atomic_exchange(&data_of(dev)->bound, false))
		release_chans(data_of(dev), data_of(dev)->cfg.num_ids);
}

struct mbox_chan *ipm_mbox_chan(const struct ampl_device *dev, bool rx)
{
	if (!is_ipm(dev))
		return NULL;
	return rx ? data_of(dev)->cfg.rx : data_of(dev)->cfg.tx;
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

/* The result of a message the controller says is done: its last_tx_result (-ESHUTDOWN: discarded), or 0. */
static int tx_result(struct mbox_chan *tx)
{
	int (*result)(struct mbox_chan *) = AMPL_MBOX_OP(tx, last_tx_result);
	return result && result(tx) < 0 ? -ESHUTDOWN : 0;
}

static int ipm_mbox_send(const struct ampl_device *dev, int wait, uint32_t id, const void *data, int size)
{
	if (!is_ipm(dev) || !data_of(dev)->cfg.tx || size < 0 || (size > 0 && !data) || id >= data_of(dev)->cfg.num_ids)
		return -EINVAL;
	struct ipm_mbox_data *d = data_of(dev);
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
	uint64_t start = wait ? ampl_os_uptime_us() : 0;
	uint32_t spent = 0, seq = 0;
	for (;;) {
		/* One message at a time per id: busy until the remote consumed the last one, whoever sent it. */
		unsigned key = ampl_spin_lock(&d->tx_lock);
		ret = ampl_mbox_last_tx_done(tx) ? ampl_mbox_send_now(tx, mssg) : -EBUSY;
		if (!ret)
			seq = atomic_fetch_add(&d->tx_seq[id], 1u) + 1u;
		ampl_spin_unlock(&d->tx_lock, key);
		if (ret != -EBUSY)
			break;
		/* Nothing written: the id is still busy (with IPM_MBOX_WAIT_IDLE: for the whole bound, or other senders
		 * got it first each time it was freed). */
		if (!wait || !(d->cfg.flags & IPM_MBOX_WAIT_IDLE) || !wait_slice(tx, tout, start, &spent))
			return -EBUSY;
	}
	if (ret || !wait)
		return ret ? ret : tx_result(tx);
	/*
	 * Consumed once the controller says so, or once another sender wrote the id after ours (it writes only on an
	 * idle channel, so the remote had consumed ours). Without the second test a sender whose message was consumed,
	 * then replaced by another one before it looked, would wait for that one.
	 */
	start = ampl_os_uptime_us();
	spent = 0;
	for (;;) {
		if (atomic_load(&d->tx_seq[id]) != seq)
			return 0;
		if (ampl_mbox_last_tx_done(tx))
			return tx_result(tx);
		if (!wait_slice(tx, tout, start, &spent))
			return -ETIMEDOUT;
	}
}

/* Deliver again the messages held because nobody wanted them (not one held for ipm_complete()). */
static void release_refused(struct ipm_mbox_data *d)
{
	if (!atomic_load(&d->cb) || !atomic_load(&d->enabled))
		return;
	uint32_t refused = atomic_exchange(&d->refused, 0);
	for (uint32_t id = 0; refused; id++, refused >>= 1)
		if (refused & 1u)
			ampl_mbox_redeliver(d->cfg.rx + id);
}

static void ipm_mbox_register_callback(const struct ampl_device *dev, ipm_callback_t cb, void *user_data)
{
	if (!is_ipm(dev) || bind(data_of(dev)))
		return;
	struct ipm_mbox_data *d = data_of(dev);
	atomic_store(&d->user_data, user_data);
	atomic_store(&d->cb, cb);
	release_refused(d);
}

static int ipm_mbox_max_data_size_get(const struct ampl_device *dev)
{
	return is_ipm(dev) ? max_size(data_of(dev)) : -EINVAL;
}

static uint32_t ipm_mbox_max_id_val_get(const struct ampl_device *dev)
{
	return is_ipm(dev) ? data_of(dev)->cfg.num_ids - 1u : 0;
}

static int ipm_mbox_set_enabled(const struct ampl_device *dev, int enable)
{
	if (!is_ipm(dev) || !data_of(dev)->cfg.rx)
		return -EINVAL;
	struct ipm_mbox_data *d = data_of(dev);
	int ret = bind(d);
	if (ret)
		return ret;
	atomic_store(&d->enabled, enable != 0);
	for (uint32_t id = 0; id < d->cfg.num_ids; id++)
		(void)ampl_mbox_rx_enable(d->cfg.rx + id, enable != 0); /* without rx_enable it always interrupts */
	release_refused(d);
	return 0;
}

static void ipm_mbox_complete(const struct ampl_device *dev)
{
	if (is_ipm(dev) && data_of(dev)->cfg.rx)
		ampl_mbox_ack(data_of(dev)->cfg.rx);
}

const struct ipm_driver_api ipm_mbox_api = {
	.send = ipm_mbox_send,
	.register_callback = ipm_mbox_register_callback,
	.max_data_size_get = ipm_mbox_max_data_size_get,
	.max_id_val_get = ipm_mbox_max_id_val_get,
	.set_enabled = ipm_mbox_set_enabled,
	.complete = ipm_mbox_complete,
};
