/*
 * Zephyr's IPM API over the IPI controller's two framework channels (as Zephyr's drivers/ipm/ipm_mbox.c puts IPM
 * over MBOX). The device owns its destination's TX and RX channels from its first use.
 *
 *   ipm_send(wait=0)  -EBUSY while the hardware still holds our last request or another thread's ipm_send() on
 *                     the device has not returned, else mbox_send_message(); -ESHUTDOWN if the trigger was
 *                     discarded (the remote's processor offline)
 *   ipm_send(wait=1)  the same with tx_block: the framework waits on the hardware (flush) for the ack
 *   thin path         (AMPL_XLNX_IPI_IPM_FRAMEWORK 0, firmware builds) the request goes out with ampl_mbox_send_now()
 *                     and wait waits with ampl_mbox_wait_sent(): the same answers, without the framework's queue
 *   callback          rx_callback -> the IPM callback with the copied request; acknowledged on return, or held
 *                     until ipm_complete() in asynchronous mode, or held and redelivered later when the device has
 *                     no callback or is disabled (nothing is lost)
 */
#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/trace.h>

static const struct xlnx_ipi_ipm_config *cfg_of(const struct device *dev)
{
	return (const struct xlnx_ipi_ipm_config *)dev->config;
}

static struct xlnx_ipi_ipm_data *data_of(const struct device *dev)
{
	return (struct xlnx_ipi_ipm_data *)dev->data;
}

static bool is_ipm(const struct device *dev)
{
	return dev && dev->api == &xlnx_ipi_ipm_api && dev->config && dev->data && cfg_of(dev)->mbox;
}

/* Release a channel of the device the way it was used. */
static void free_chan(struct mbox_chan *chan)
{
#if AMPL_XLNX_IPI_IPM_FRAMEWORK
	mbox_free_channel(chan);
#else
	ampl_mbox_release(chan);
#endif
}

static void ipm_rx(struct mbox_client *cl, void *mssg)
{
	struct xlnx_ipi_ipm_data *d = AMPL_CONTAINER_OF(cl, struct xlnx_ipi_ipm_data, cl);
	const struct device *dev = d->self;
	struct xlnx_ipi_mbox *m = cfg_of(dev)->mbox;
	struct mbox_chan *rx = &m->chans[XLNX_IPI_RX_CHAN];
	ipm_callback_t cb = atomic_load(&d->cb);
	if (!cb || !atomic_load(&d->enabled)) {
		/* Not wanted now: keep it pending; it comes back when a callback is set and the device enabled. */
		xlnx_ipi_mbox_hold(rx);
		atomic_store(&d->refused, true);
		/* A callback or enable that raced with us saw nothing to release: release it ourselves. */
		if (atomic_load(&d->cb) && atomic_load(&d->enabled) && atomic_exchange(&d->refused, false))
			xlnx_ipi_mbox_redeliver(rx);
		return;
	}
	(void)mssg;
	if (cfg_of(dev)->flags & XLNX_IPI_ASYNC)
		xlnx_ipi_mbox_hold(rx);
	/* IPM hands out the request buffer itself (valid until acknowledged), not the framework's copy. */
	AMPL_TRACE(AMPL_EV_IPM_RX, dev, 0);
	cb(dev, atomic_load(&d->user_data), 0, m->buffered ? m->remote_req.base : NULL);
}

static int bind(const struct device *dev)
{
	struct xlnx_ipi_ipm_data *d = data_of(dev);
	if (atomic_load_explicit(&d->bound, memory_order_acquire))
		return 0;
	while (atomic_flag_test_and_set(&d->binding))
		ampl_cpu_relax();
	int ret = 0;
	if (!atomic_load(&d->bound)) {
		struct xlnx_ipi_mbox *m = cfg_of(dev)->mbox;
		m->manual_enable = true;
		ret = mbox_bind_client(&m->chans[XLNX_IPI_TX_CHAN], &d->cl);
		if (!ret) {
			ret = mbox_bind_client(&m->chans[XLNX_IPI_RX_CHAN], &d->cl);
			if (ret)
				free_chan(&m->chans[XLNX_IPI_TX_CHAN]);
		}
		if (!ret)
			atomic_store_explicit(&d->bound, true, memory_order_release);
		else
			m->manual_enable = false; /* the channels belong to someone else: leave their startup alone */
	}
	atomic_flag_clear(&d->binding);
	return ret;
}

int xlnx_ipi_ipm_init(const struct device *dev)
{
	if (!is_ipm(dev))
		return -EINVAL;
	struct xlnx_ipi_ipm_data *d = data_of(dev);
	ampl_memset(&d->cl, 0, sizeof(d->cl));
	d->cl.rx_callback = ipm_rx;
	d->self = dev;
	atomic_store(&d->cb, NULL);
	atomic_store(&d->user_data, NULL);
	atomic_store(&d->enabled, false);
	atomic_store(&d->refused, false);
	atomic_store(&d->bound, false);
	atomic_flag_clear(&d->binding);
	atomic_flag_clear(&d->sending);
	return 0;
}

void xlnx_ipi_ipm_release(const struct device *dev)
{
	if (!is_ipm(dev) || !atomic_exchange(&data_of(dev)->bound, false))
		return;
	struct xlnx_ipi_mbox *m = cfg_of(dev)->mbox;
	free_chan(&m->chans[XLNX_IPI_RX_CHAN]);
	free_chan(&m->chans[XLNX_IPI_TX_CHAN]);
	m->manual_enable = false;
}

/*
 * One ipm_send() per device at a time. The framework channel, the message buffer and the client's blocking mode
 * (cl.tx_block, read by mbox_send_message() after it dropped the channel lock) belong to the call that holds
 * `sending`; a concurrent call answers -EBUSY at once, as it would a moment later from the hardware, since the
 * holder's request occupies the destination's one request buffer until the remote consumes it. Never waits for
 * the holder, so it is safe from interrupt context as well.
 */
static int ipi_send_locked(const struct device *dev, int wait, const void *data, int size)
{
	const struct xlnx_ipi_ipm_config *cfg = cfg_of(dev);
	struct xlnx_ipi_mbox *m = cfg->mbox;
	struct mbox_chan *tx = &m->chans[XLNX_IPI_TX_CHAN];
	/* One request at a time per destination, as the hardware has it: busy until the remote consumed it. */
	if (xlnx_ipi_mbox_tx_pending(m) || (AMPL_XLNX_IPI_IPM_FRAMEWORK && mbox_client_tx_busy(tx)))
		return -EBUSY;
	struct xlnx_ipi_ipm_data *d = data_of(dev);
	void *mssg = NULL;
	if (size) {
		d->tx_msg.len = (size_t)size;
		ampl_memcpy(d->tx_msg.data, data, (size_t)size);
		mssg = &d->tx_msg;
	}
	uint32_t tout_us = cfg->ack_timeout_us ? cfg->ack_timeout_us : XLNX_IPI_ACK_TIMEOUT_US;
	unsigned long tout_ms = tout_us == UINT32_MAX ? 0 : (tout_us + 999u) / 1000u; /* 0: the framework's hour */
#if AMPL_XLNX_IPI_IPM_FRAMEWORK
	d->cl.tx_block = wait != 0;
	d->cl.tx_tout = tout_ms;
	/* The channel is idle, so the request is written and triggered inside this call (never left queued with a
	 * pointer to tx_msg), and with wait the framework returns once it was consumed or timed out. */
	int ret = mbox_send_message(tx, mssg);
#else
	int ret = ampl_mbox_send_now(tx, mssg);
	if (!ret && wait)
		ret = ampl_mbox_wait_sent(tx, tout_ms ? tout_ms : 3600000ul);
#endif
	if (ret == -ETIME)
		return -ETIMEDOUT;
	if (ret < 0)
		return ret;
	/* Without wait: a request the hardware discarded at the trigger (the remote's processor offline, before this
	 * agent's interrupt context marked the channel offline) was not sent; with wait the framework reported it. */
	return !wait && xlnx_ipi_mbox_tx_discarded(m) ? -ESHUTDOWN : 0;
}

static int ipi_send(const struct device *dev, int wait, uint32_t id, const void *data, int size)
{
	if (!is_ipm(dev) || size < 0 || (size > 0 && !data) || id > 0)
		return -EINVAL;
	if ((size_t)size > (cfg_of(dev)->mbox->buffered ? AMPL_IPI_BUF_SIZE : 0u))
		return -EMSGSIZE;
	int ret = bind(dev);
	if (ret)
		return ret;
	struct xlnx_ipi_ipm_data *d = data_of(dev);
	if (atomic_flag_test_and_set(&d->sending))
		return -EBUSY; /* another thread's send on this device has not returned: its request is (being) sent */
	ret = ipi_send_locked(dev, wait, data, size);
	atomic_flag_clear(&d->sending);
	return ret;
}

static void ipi_register_callback(const struct device *dev, ipm_callback_t cb, void *user_data)
{
	if (!is_ipm(dev) || bind(dev))
		return;
	struct xlnx_ipi_ipm_data *d = data_of(dev);
	atomic_store(&d->user_data, user_data);
	atomic_store(&d->cb, cb);
	if (cb && atomic_load(&d->enabled) && atomic_exchange(&d->refused, false))
		xlnx_ipi_mbox_redeliver(&cfg_of(dev)->mbox->chans[XLNX_IPI_RX_CHAN]);
}

static int ipi_max_data_size_get(const struct device *dev)
{
	if (!is_ipm(dev))
		return -EINVAL;
	return cfg_of(dev)->mbox->buffered ? (int)AMPL_IPI_BUF_SIZE : 0;
}

static uint32_t ipi_max_id_val_get(const struct device *dev)
{
	(void)dev;
	return 0; /* the IPI carries no id */
}

static int ipi_set_enabled(const struct device *dev, int enable)
{
	if (!is_ipm(dev))
		return -EINVAL;
	int ret = bind(dev);
	if (ret)
		return ret;
	struct xlnx_ipi_ipm_data *d = data_of(dev);
	struct mbox_chan *rx = &cfg_of(dev)->mbox->chans[XLNX_IPI_RX_CHAN];
	atomic_store(&d->enabled, enable != 0);
	xlnx_ipi_mbox_rx_enable(rx, enable != 0);
	/* A request held because nobody wanted it is delivered now (not one held for ipm_complete()). */
	if (enable && atomic_load(&d->cb) && atomic_exchange(&d->refused, false))
		xlnx_ipi_mbox_redeliver(rx);
	return 0;
}

static void ipi_complete(const struct device *dev)
{
	if (is_ipm(dev))
		xlnx_ipi_mbox_ack(&cfg_of(dev)->mbox->chans[XLNX_IPI_RX_CHAN]);
}

int xlnx_ipi_response_write(const struct device *dev, const void *data, size_t len)
{
	if (!is_ipm(dev))
		return -EINVAL;
	return xlnx_ipi_mbox_response_write(&cfg_of(dev)->mbox->chans[XLNX_IPI_RX_CHAN], data, len);
}

int xlnx_ipi_response_read(const struct device *dev, void *buf, size_t len)
{
	if (!is_ipm(dev))
		return -EINVAL;
	return xlnx_ipi_mbox_response_read(&cfg_of(dev)->mbox->chans[XLNX_IPI_TX_CHAN], buf, len);
}

bool xlnx_ipi_pending(const struct device *dev)
{
	return is_ipm(dev) && xlnx_ipi_mbox_tx_pending(cfg_of(dev)->mbox);
}

const struct ipm_driver_api xlnx_ipi_ipm_api = {
	.send = ipi_send,
	.register_callback = ipi_register_callback,
	.max_data_size_get = ipi_max_data_size_get,
	.max_id_val_get = ipi_max_id_val_get,
	.set_enabled = ipi_set_enabled,
	.complete = ipi_complete,
};
