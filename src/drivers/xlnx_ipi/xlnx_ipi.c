/*
 * Xilinx IPI driver: register level, through I/O-region accessors only.
 * Protocol as TF-A and embeddedsw drive the block: send = copy request, TRIG <- dest bit; pending = OBS & bit;
 * acknowledge = ISR <- source bit (W1C), which drops the sender's OBS bit; mask/unmask with IDR/IER.
 */
#include <amplink/drivers/xlnx_ipi.h>

static const struct xlnx_ipi_chan_config *cfg_of(const struct device *dev)
{
	return (const struct xlnx_ipi_chan_config *)dev->config;
}

static struct xlnx_ipi_chan_data *data_of(const struct device *dev)
{
	return (struct xlnx_ipi_chan_data *)dev->data;
}

static bool is_ipi(const struct device *dev)
{
	return dev && dev->api == &xlnx_ipi_ipm_api && dev->config && dev->data;
}

int xlnx_ipi_host_init(struct xlnx_ipi_host *host, const struct ampl_io_region *regs, uint32_t valid_mask)
{
	if (!host || !regs)
		return -EINVAL;
	ampl_memset(host, 0, sizeof(*host));
	host->regs = *regs;
	host->valid_mask = valid_mask;
	return 0;
}

static unsigned bit_index(uint32_t mask)
{
	return (unsigned)__builtin_ctz(mask);
}

int xlnx_ipi_chan_init(const struct device *dev)
{
	if (!is_ipi(dev))
		return -EINVAL;
	const struct xlnx_ipi_chan_config *cfg = cfg_of(dev);
	struct xlnx_ipi_host *host = cfg->host;
	uint32_t m = cfg->remote_mask;
	if (!host || !m || (m & (m - 1)) || !(m & host->valid_mask))
		return -EINVAL;
	if (atomic_load(&host->by_bit[bit_index(m)]))
		return -EEXIST;
	struct xlnx_ipi_chan_data *d = data_of(dev);
	atomic_store(&d->cb, NULL);
	atomic_store(&d->user_data, NULL);
	atomic_store(&d->enabled, false);
	atomic_store(&d->held, false);
	/* IMR is left alone: it resets to all-masked, and another process attached as the same agent may own it. */
	atomic_store(&host->by_bit[bit_index(m)], dev);
	return 0;
}

void xlnx_ipi_chan_detach(const struct device *dev)
{
	if (!is_ipi(dev))
		return;
	const struct xlnx_ipi_chan_config *cfg = cfg_of(dev);
	if (atomic_exchange(&data_of(dev)->enabled, false))
		ampl_io_write32(&cfg->host->regs, AMPL_IPI_IDR, cfg->remote_mask);
	const struct device *expected = dev;
	atomic_compare_exchange_strong(&cfg->host->by_bit[bit_index(cfg->remote_mask)], &expected, NULL);
}

static int ipi_send(const struct device *dev, int wait, uint32_t id, const void *data, int size)
{
	if (!is_ipi(dev) || size < 0 || (size > 0 && !data) || id > 0)
		return -EINVAL;
	const struct xlnx_ipi_chan_config *cfg = cfg_of(dev);
	if (size > (cfg->buffered ? (int)AMPL_IPI_BUF_SIZE : 0))
		return -EMSGSIZE;
	const struct ampl_io_region *regs = &cfg->host->regs;
	if (ampl_io_read32(regs, AMPL_IPI_OBS) & cfg->remote_mask)
		return -EBUSY;
	if (size > 0)
		ampl_io_write_bytes(&cfg->local_req, 0, data, (uint32_t)size);
	/* The request bytes must be visible to the remote before its ISR bit is. */
	ampl_mb();
	ampl_io_write32(regs, AMPL_IPI_TRIG, cfg->remote_mask);
	if (!wait)
		return 0;
	return ampl_io_wait32(regs, AMPL_IPI_OBS, cfg->remote_mask, 0, cfg->ack_timeout_us);
}

static void ipi_register_callback(const struct device *dev, ipm_callback_t cb, void *user_data)
{
	if (!is_ipi(dev))
		return;
	struct xlnx_ipi_chan_data *d = data_of(dev);
	atomic_store(&d->user_data, user_data);
	atomic_store(&d->cb, cb);
}

static int ipi_max_data_size_get(const struct device *dev)
{
	if (!is_ipi(dev))
		return -EINVAL;
	return cfg_of(dev)->buffered ? (int)AMPL_IPI_BUF_SIZE : 0;
}

static uint32_t ipi_max_id_val_get(const struct device *dev)
{
	(void)dev;
	return 0;
}

static int ipi_set_enabled(const struct device *dev, int enable)
{
	if (!is_ipi(dev))
		return -EINVAL;
	const struct xlnx_ipi_chan_config *cfg = cfg_of(dev);
	struct xlnx_ipi_chan_data *d = data_of(dev);
	atomic_store(&d->enabled, enable != 0);
	/* A held (asynchronous) message keeps its source masked until ipm_complete(). */
	if (enable && !atomic_load(&d->held))
		ampl_io_write32(&cfg->host->regs, AMPL_IPI_IER, cfg->remote_mask);
	else if (!enable)
		ampl_io_write32(&cfg->host->regs, AMPL_IPI_IDR, cfg->remote_mask);
	return 0;
}

static void ipi_complete(const struct device *dev)
{
	if (!is_ipi(dev))
		return;
	const struct xlnx_ipi_chan_config *cfg = cfg_of(dev);
	struct xlnx_ipi_chan_data *d = data_of(dev);
	if (!atomic_exchange(&d->held, false))
		return;
	/* Response bytes written before the acknowledgement must be visible first. */
	ampl_mb();
	ampl_io_write32(&cfg->host->regs, AMPL_IPI_ISR, cfg->remote_mask);
	if (atomic_load(&d->enabled))
		ampl_io_write32(&cfg->host->regs, AMPL_IPI_IER, cfg->remote_mask);
}

void xlnx_ipi_isr(void *arg)
{
	struct xlnx_ipi_host *host = (struct xlnx_ipi_host *)arg;
	const struct ampl_io_region *regs = &host->regs;
	uint32_t pending = ampl_io_read32(regs, AMPL_IPI_ISR) & ~ampl_io_read32(regs, AMPL_IPI_IMR);
	pending &= host->valid_mask;
	/* Request bytes are read only after the ISR bit that announced them. */
	ampl_mb();
	while (pending) {
		uint32_t m = pending & (~pending + 1u);
		pending &= ~m;
		const struct device *dev = atomic_load(&host->by_bit[bit_index(m)]);
		ipm_callback_t cb = dev ? atomic_load(&data_of(dev)->cb) : NULL;
		if (!cb) {
			/* Nobody to deliver to: mask and keep it pending (the sender sees -EBUSY, nothing is lost). */
			ampl_io_write32(regs, AMPL_IPI_IDR, m);
			continue;
		}
		const struct xlnx_ipi_chan_config *cfg = cfg_of(dev);
		struct xlnx_ipi_chan_data *d = data_of(dev);
		volatile void *buf = cfg->buffered ? cfg->remote_req.base : NULL;
		if (cfg->flags & XLNX_IPI_ASYNC) {
			/* Level-triggered: mask before the callback so the held request does not fire again. */
			ampl_io_write32(regs, AMPL_IPI_IDR, m);
			atomic_store(&d->held, true);
			cb(dev, atomic_load(&d->user_data), 0, buf);
			continue;
		}
		cb(dev, atomic_load(&d->user_data), 0, buf);
		/* The response written in the callback must be visible before the acknowledgement. */
		ampl_mb();
		ampl_io_write32(regs, AMPL_IPI_ISR, m);
	}
}

int xlnx_ipi_response_write(const struct device *dev, const void *data, size_t len)
{
	if (!is_ipi(dev) || (len && !data))
		return -EINVAL;
	const struct xlnx_ipi_chan_config *cfg = cfg_of(dev);
	if (!cfg->buffered)
		return -ENOTSUP;
	if (len > AMPL_IPI_BUF_SIZE)
		return -EMSGSIZE;
	ampl_io_write_bytes(&cfg->remote_resp, 0, data, (uint32_t)len);
	return 0;
}

int xlnx_ipi_response_read(const struct device *dev, void *buf, size_t len)
{
	if (!is_ipi(dev) || (len && !buf))
		return -EINVAL;
	const struct xlnx_ipi_chan_config *cfg = cfg_of(dev);
	if (!cfg->buffered)
		return -ENOTSUP;
	if (len > AMPL_IPI_BUF_SIZE)
		return -EMSGSIZE;
	if (!len)
		return 0;
	uint32_t words[AMPL_IPI_BUF_SIZE / 4];
	ampl_mb();
	ampl_io_read_words(&cfg->local_resp, 0, words, (uint32_t)((len + 3) & ~(size_t)3));
	ampl_memcpy(buf, words, len);
	return 0;
}

bool xlnx_ipi_pending(const struct device *dev)
{
	if (!is_ipi(dev))
		return false;
	const struct xlnx_ipi_chan_config *cfg = cfg_of(dev);
	return (ampl_io_read32(&cfg->host->regs, AMPL_IPI_OBS) & cfg->remote_mask) != 0;
}

const struct ipm_driver_api xlnx_ipi_ipm_api = {
	.send = ipi_send,
	.register_callback = ipi_register_callback,
	.max_data_size_get = ipi_max_data_size_get,
	.max_id_val_get = ipi_max_id_val_get,
	.set_enabled = ipi_set_enabled,
	.complete = ipi_complete,
};
