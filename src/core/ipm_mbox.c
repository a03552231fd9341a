/*
 * The generic IPM driver over the mailbox framework (include/amplink/ipm_mbox.h). The device owns its TX and RX
 * channels from its first use; everything it asks of the controller goes through the framework's operations.
 */
#include <amplink/ipm_mbox.h>
#include <amplink/trace.h>

static struct ipm_mbox_data *data_of(const struct ampl_device *dev)
{
	return (struct ipm_mbox_data *)dev->data;
}

static bool is_ipm(const struct ampl_device *dev)
{
	return dev && dev->api == &ipm_mbox_api && dev->data && (data_of(dev)->tx || data_of(dev)->rx);
}

/* Release a channel of the device the way it was used. */
static void free_chan(struct mbox_chan *chan)
{
	if (!chan)
		return;
#if AMPL_IPM_MBOX_FRAMEWORK
	mbox_free_channel(chan);
#else
	ampl_mbox_release(chan);
#endif
}

static void ipm_rx(struct mbox_client *cl, void *mssg)
{
	struct ipm_mbox_data *d = AMPL_CONTAINER_OF(cl, struct ipm_mbox_data, cl);
	ipm_callback_t cb = atomic_load(&d->cb);
	if (!cb || !atomic_load(&d->enabled)) {
		/* Not wanted now: keep it pending; it comes back when a callback is set and the device enabled. */
		if (ampl_mbox_hold(d->rx))
			return; /* the controller cannot keep it: dropped */
		atomic_store(&d->refused, true);
		/* A callback or enable that raced with us saw nothing to release: release it ourselves. */
		if (atomic_load(&d->cb) && atomic_load(&d->enabled) && atomic_exchange(&d->refused, false))
			ampl_mbox_redeliver(d->rx);
		return;
	}
	if (d->flags & IPM_MBOX_ASYNC)
		(void)ampl_mbox_hold(d->rx);
	AMPL_TRACE(AMPL_EV_IPM_RX, d->self, 0);
	cb(d->self, atomic_load(&d->user_data), 0, ampl_mbox_rx_data(d->rx, mssg));
}

/* Take the device's channels (first use), the RX one with its interrupt off until ipm_set_enabled(). */
static int bind(struct ipm_mbox_data *d)
{
	if (atomic_load_explicit(&d->bound, memory_order_acquire))
		return 0;
	while (atomic_flag_test_and_set(&d->binding))
		ampl_cpu_relax();
	int ret = 0;
	if (!atomic_load(&d->bound)) {
		ret = d->tx ? mbox_bind_client(d->tx, &d->cl) : 0;
		if (!ret && d->rx) {
			ret = mbox_bind_client(d->rx, &d->cl);
			if (ret)
				free_chan(d->tx);
		}
		if (!ret)
			atomic_store_explicit(&d->bound, true, memory_order_release);
	}
	atomic_flag_clear(&d->binding);
	return ret;
}

int ipm_mbox_setup(const struct ampl_device *dev, struct mbox_chan *tx, struct mbox_chan *rx, uint32_t flags,
		   uint32_t ack_timeout_us)
{
	if (!dev || dev->api != &ipm_mbox_api || !dev->data || (!tx && !rx) || AMPL_IS_ERR(tx) || AMPL_IS_ERR(rx))
		return -EINVAL;
	/* Asynchronous mode holds every message: the controller must be able to (checked once it is registered). */
	if ((flags & IPM_MBOX_ASYNC) && (!rx || (rx->mbox && !(rx->mbox->ops->hold && rx->mbox->ops->ack))))
		return -ENOTSUP;
	struct ipm_mbox_data *d = data_of(dev);
	ampl_memset(d, 0, sizeof(*d));
	d->cl.rx_callback = ipm_rx;
	d->cl.rx_off = true;
	d->self = dev;
	d->tx = tx;
	d->rx = rx;
	d->flags = flags;
	d->ack_timeout_us = ack_timeout_us;
	atomic_flag_clear(&d->binding);
	atomic_flag_clear(&d->sending);
	return 0;
}

int ipm_mbox_init(const struct ampl_device *dev)
{
	const struct ipm_mbox_config *cfg = dev ? (const struct ipm_mbox_config *)dev->config : NULL;
	if (!cfg)
		return -EINVAL;
	return ipm_mbox_setup(dev, cfg->tx, cfg->rx, cfg->flags, cfg->ack_timeout_us);
}

void ipm_mbox_release(const struct ampl_device *dev)
{
	if (!is_ipm(dev) || !atomic_exchange(&data_of(dev)->bound, false))
		return;
	free_chan(data_of(dev)->rx);
	free_chan(data_of(dev)->tx);
}

struct mbox_chan *ipm_mbox_chan(const struct ampl_device *dev, bool rx)
{
	if (!is_ipm(dev))
		return NULL;
	return rx ? data_of(dev)->rx : data_of(dev)->tx;
}

static int max_size(const struct ipm_mbox_data *d)
{
	const struct mbox_chan *c = d->tx ? d->tx : d->rx;
	size_t n = c->mbox ? c->mbox->max_msg_size : 0;
	return (int)(n < IPM_MBOX_MAX_DATA ? n : IPM_MBOX_MAX_DATA);
}

/* The remote has not consumed our last message yet (the framework's queue, or the controller's own state). */
static bool tx_busy(struct mbox_chan *tx)
{
	return (AMPL_IPM_MBOX_FRAMEWORK && mbox_client_tx_busy(tx)) || !ampl_mbox_last_tx_done(tx);
}

/*
 * One ipm_send() per device at a time. The framework channel, the message buffer and the client's blocking mode
 * (cl.tx_block, read by mbox_send_message() after it dropped the channel lock) belong to the call that holds
 * `sending`; a concurrent call answers -EBUSY at once, as it would a moment later from the controller, since the
 * holder's message occupies the channel until the remote consumes it. Never waits for the holder, so it is safe
 * from interrupt context as well.
 */
static int send_locked(struct ipm_mbox_data *d, int wait, const void *data, int size)
{
	struct mbox_chan *tx = d->tx;
	/* One message at a time per channel: busy until the remote consumed it. */
	if (tx_busy(tx))
		return -EBUSY;
	const struct mbox_controller *mbox = tx->mbox;
	void *mssg = NULL;
	if (size || (mbox->raw_msg && mbox->max_msg_size)) {
		d->tx_msg.len = (size_t)size;
		if (mbox->raw_msg)
			ampl_memset(d->tx_msg.data, 0, sizeof(d->tx_msg.data));
		ampl_memcpy(d->tx_msg.data, data, (size_t)size);
		mssg = mbox->raw_msg ? (void *)d->tx_msg.data : (void *)&d->tx_msg;
	}
	uint32_t tout_us = d->ack_timeout_us ? d->ack_timeout_us : IPM_MBOX_ACK_TIMEOUT_US;
	unsigned long tout_ms = tout_us == UINT32_MAX ? 0 : (tout_us + 999u) / 1000u; /* 0: the framework's hour */
#if AMPL_IPM_MBOX_FRAMEWORK
	d->cl.tx_block = wait != 0;
	d->cl.tx_tout = tout_ms;
	/* The channel is idle, so the message is sent inside this call (never left queued with a pointer to tx_msg),
	 * and with wait the framework returns once it was consumed or timed out. */
	int ret = mbox_send_message(tx, mssg);
#else
	int ret = ampl_mbox_send_now(tx, mssg);
	if (!ret && wait)
		ret = ampl_mbox_wait_sent(tx, tout_ms ? tout_ms : 3600000ul);
#endif
	if (ret == -ETIME)
		return -ETIMEDOUT;
	if (ret < 0 || wait)
		return ret < 0 ? ret : 0;
	/* Without wait: a message the controller discarded at once (the remote's processor offline, before this
	 * side's interrupt context marked the channel offline) was not sent; with wait the framework reported it. */
	return mbox->ops->last_tx_result && mbox->ops->last_tx_result(tx) < 0 ? -ESHUTDOWN : 0;
}

static int ipm_mbox_send(const struct ampl_device *dev, int wait, uint32_t id, const void *data, int size)
{
	if (!is_ipm(dev) || !data_of(dev)->tx || size < 0 || (size > 0 && !data) || id > 0)
		return -EINVAL;
	struct ipm_mbox_data *d = data_of(dev);
	if (size > max_size(d))
		return -EMSGSIZE;
	int ret = bind(d);
	if (ret)
		return ret;
	if (atomic_flag_test_and_set(&d->sending))
		return -EBUSY; /* another thread's send on this device has not returned: its message is (being) sent */
	ret = send_locked(d, wait, data, size);
	atomic_flag_clear(&d->sending);
	return ret;
}

static void ipm_mbox_register_callback(const struct ampl_device *dev, ipm_callback_t cb, void *user_data)
{
	if (!is_ipm(dev) || bind(data_of(dev)))
		return;
	struct ipm_mbox_data *d = data_of(dev);
	atomic_store(&d->user_data, user_data);
	atomic_store(&d->cb, cb);
	if (cb && atomic_load(&d->enabled) && atomic_exchange(&d->refused, false))
		ampl_mbox_redeliver(d->rx);
}

static int ipm_mbox_max_data_size_get(const struct ampl_device *dev)
{
	return is_ipm(dev) ? max_size(data_of(dev)) : -EINVAL;
}

static uint32_t ipm_mbox_max_id_val_get(const struct ampl_device *dev)
{
	(void)dev;
	return 0; /* one channel pair carries one id */
}

static int ipm_mbox_set_enabled(const struct ampl_device *dev, int enable)
{
	if (!is_ipm(dev) || !data_of(dev)->rx)
		return -EINVAL;
	struct ipm_mbox_data *d = data_of(dev);
	int ret = bind(d);
	if (ret)
		return ret;
	atomic_store(&d->enabled, enable != 0);
	(void)ampl_mbox_rx_enable(d->rx, enable != 0); /* a controller without rx_enable always interrupts */
	/* A message held because nobody wanted it is delivered now (not one held for ipm_complete()). */
	if (enable && atomic_load(&d->cb) && atomic_exchange(&d->refused, false))
		ampl_mbox_redeliver(d->rx);
	return 0;
}

static void ipm_mbox_complete(const struct ampl_device *dev)
{
	if (is_ipm(dev))
		ampl_mbox_ack(data_of(dev)->rx);
}

const struct ipm_driver_api ipm_mbox_api = {
	.send = ipm_mbox_send,
	.register_callback = ipm_mbox_register_callback,
	.max_data_size_get = ipm_mbox_max_data_size_get,
	.max_id_val_get = ipm_mbox_max_id_val_get,
	.set_enabled = ipm_mbox_set_enabled,
	.complete = ipm_mbox_complete,
};
