/*
 * The register-level IPM driver on the Xilinx IPI (include/amplink/drivers/xlnx_ipi_direct.h): the protocol of
 * xlnx_ipi.c (send = copy the request, TRIG <- remote bit, busy while OBS & bit; acknowledge = ISR <- bit, W1C;
 * mask and unmask through IDR / IER) with the IPM device as its only user, so no framework between them.
 */
#include <amplink/drivers/xlnx_ipi_direct.h>

static const struct xlnx_ipi_mbox_config *ipi_of(const struct ampl_device *dev)
{
	const struct xlnx_ipi_direct_config *c = (const struct xlnx_ipi_direct_config *)dev->config;
	return c ? c->ipi : NULL;
}

static struct xlnx_ipi_direct_data *data_of(const struct ampl_device *dev)
{
	return (struct xlnx_ipi_direct_data *)dev->data;
}

/* The device's destination if @dev is a device of this driver with one, else NULL. */
static const struct xlnx_ipi_mbox_config *checked(const struct ampl_device *dev)
{
	return dev && dev->api == &xlnx_ipi_direct_api && dev->data ? ipi_of(dev) : NULL;
}

int xlnx_ipi_direct_init(const struct ampl_device *dev)
{
	const struct xlnx_ipi_mbox_config *ipi = checked(dev);
	if (!ipi)
		return -EINVAL;
	uint32_t bit = ipi->remote_mask;
	bool regs = ipi->host_regs.base || (AMPL_IO_OPS && ipi->host_regs.ops); /* a model has ops, no base */
	if (!regs || !bit || (bit & (bit - 1u)) || !(bit & ipi->valid_mask))
		return -EINVAL;
	if (ipi->buffered && (!ipi->local_req.base || !ipi->local_resp.base || !ipi->remote_req.base ||
			      !ipi->remote_resp.base))
		return -EINVAL;
	ampl_memset(data_of(dev), 0, sizeof(struct xlnx_ipi_direct_data));
	return 0;
}

static int direct_send(const struct ampl_device *dev, int wait, uint32_t id, const void *data, int size)
{
	const struct xlnx_ipi_mbox_config *ipi = checked(dev);
	if (!ipi || id || size < 0 || (size && !data))
		return -EINVAL;
	if ((uint32_t)size > (ipi->buffered ? AMPL_IPI_BUF_SIZE : 0u))
		return -EMSGSIZE;
	const struct ampl_io_region *regs = &ipi->host_regs;
	struct xlnx_ipi_direct_data *d = data_of(dev);
	/* One request at a time: busy until the remote acknowledged the last one, whoever sent it. */
	int ret = -EBUSY;
	unsigned key = ampl_spin_lock(&d->tx_lock);
	if (!(ampl_io_read32(regs, AMPL_IPI_OBS) & ipi->remote_mask)) {
		ampl_io_write_bytes(&ipi->local_req, 0, data, (uint32_t)size);
		ampl_mb(); /* the request bytes before the remote's ISR bit */
		ampl_io_write32(regs, AMPL_IPI_TRIG, ipi->remote_mask);
		ret = 0;
	}
	ampl_spin_unlock(&d->tx_lock, key);
	if (ret || !wait)
		return ret;
	uint32_t tout = ((const struct xlnx_ipi_direct_config *)dev->config)->ack_timeout_us;
	return ampl_io_wait32(regs, AMPL_IPI_OBS, ipi->remote_mask, 0, tout ? tout : XLNX_IPI_ACK_TIMEOUT_US);
}

/* The device wants its remote's requests now: a callback, and enabled. */
static bool wanted(struct xlnx_ipi_direct_data *d)
{
	return atomic_load(&d->cb) && atomic_load(&d->enabled);
}

/*
 * Unmask the remote if the device wants its requests (a pending one interrupts then). Every change of cb or
 * enabled is stored before this runs, and the handler masks before it looks again (xlnx_ipi_direct_isr()), so
 * whichever of the two writes comes last matches the last state.
 */
static void unmask_if_wanted(const struct xlnx_ipi_mbox_config *ipi, struct xlnx_ipi_direct_data *d)
{
	if (wanted(d))
		ampl_io_write32(&ipi->host_regs, AMPL_IPI_IER, ipi->remote_mask);
}

void xlnx_ipi_direct_isr(const struct ampl_device *dev)
{
	const struct xlnx_ipi_mbox_config *ipi = checked(dev);
	if (!ipi)
		return;
	const struct ampl_io_region *regs = &ipi->host_regs;
	uint32_t bit = ipi->remote_mask;
	if (!(ampl_io_read32(regs, AMPL_IPI_ISR) & bit))
		return;
	struct xlnx_ipi_direct_data *d = data_of(dev);
	ipm_callback_t cb = atomic_load(&d->cb);
	if (!cb || !atomic_load(&d->enabled)) {
		/* Not wanted: masked and left pending. Looked at again after the mask, against a concurrent enable. */
		ampl_io_write32(regs, AMPL_IPI_IDR, bit);
		unmask_if_wanted(ipi, d);
		return;
	}
	ampl_mb(); /* the request bytes are read after the ISR bit that announced them */
	cb(dev, atomic_load(&d->user_data), 0, ipi->buffered ? ipi->remote_req.base : NULL);
	ampl_mb(); /* the response written in the callback before the acknowledgement */
	ampl_io_write32(regs, AMPL_IPI_ISR, bit);
}

static void direct_register_callback(const struct ampl_device *dev, ipm_callback_t cb, void *user_data)
{
	const struct xlnx_ipi_mbox_config *ipi = checked(dev);
	if (!ipi)
		return;
	struct xlnx_ipi_direct_data *d = data_of(dev);
	atomic_store(&d->user_data, user_data);
	atomic_store(&d->cb, cb);
	unmask_if_wanted(ipi, d);
}

static int direct_set_enabled(const struct ampl_device *dev, int enable)
{
	const struct xlnx_ipi_mbox_config *ipi = checked(dev);
	if (!ipi)
		return -EINVAL;
	struct xlnx_ipi_direct_data *d = data_of(dev);
	atomic_store(&d->enabled, enable != 0);
	if (enable)
		unmask_if_wanted(ipi, d);
	else
		ampl_io_write32(&ipi->host_regs, AMPL_IPI_IDR, ipi->remote_mask);
	return 0;
}

static int direct_max_data_size_get(const struct ampl_device *dev)
{
	const struct xlnx_ipi_mbox_config *ipi = checked(dev);
	if (!ipi)
		return -EINVAL;
	return ipi->buffered ? (int)AMPL_IPI_BUF_SIZE : 0;
}

static uint32_t direct_max_id_val_get(const struct ampl_device *dev)
{
	(void)dev;
	return 0;
}

const struct ipm_driver_api xlnx_ipi_direct_api = {
	.send = direct_send,
	.register_callback = direct_register_callback,
	.max_data_size_get = direct_max_data_size_get,
	.max_id_val_get = direct_max_id_val_get,
	.set_enabled = direct_set_enabled,
	.complete = NULL, /* nothing is ever held */
};

int xlnx_ipi_direct_response_write(const struct ampl_device *dev, const void *data, size_t len)
{
	const struct xlnx_ipi_mbox_config *ipi = checked(dev);
	return ipi ? xlnx_ipi_buf_write(&ipi->remote_resp, ipi->buffered, data, len) : -EINVAL;
}

int xlnx_ipi_direct_response_read(const struct ampl_device *dev, void *buf, size_t len)
{
	const struct xlnx_ipi_mbox_config *ipi = checked(dev);
	return ipi ? xlnx_ipi_buf_read(&ipi->local_resp, ipi->buffered, buf, len) : -EINVAL;
}

/*
 * Doorbells (signalling): the Dekker pair of xlnx_ipi.c's signalling mode, on the remote's ISR word from which our
 * OBS bit is derived. Here: the caller's ring write; full barrier; read OBS (set: coalesced). Remote: W1C of ISR;
 * full barrier; drain. If our read still sees OBS set, the remote's acknowledgement, and so its drain, comes later.
 */
void xlnx_ipi_direct_ring(const void *ipi_cfg)
{
	const struct xlnx_ipi_mbox_config *ipi = (const struct xlnx_ipi_mbox_config *)ipi_cfg;
	ampl_mb();
	if (!(ampl_io_read32(&ipi->host_regs, AMPL_IPI_OBS) & ipi->remote_mask))
		ampl_io_write32(&ipi->host_regs, AMPL_IPI_TRIG, ipi->remote_mask);
}

bool xlnx_ipi_direct_doorbell_taken(const struct xlnx_ipi_mbox_config *ipi)
{
	if (!(ampl_io_read32(&ipi->host_regs, AMPL_IPI_ISR) & ipi->remote_mask))
		return false;
	ampl_io_write32(&ipi->host_regs, AMPL_IPI_ISR, ipi->remote_mask);
	ampl_mb();
	return true;
}

void xlnx_ipi_direct_doorbell_enable(const struct xlnx_ipi_mbox_config *ipi, bool on)
{
	ampl_io_write32(&ipi->host_regs, on ? AMPL_IPI_IER : AMPL_IPI_IDR, ipi->remote_mask);
}

void xlnx_ipi_direct_settings(const struct xlnx_ipi_mbox *m, struct xlnx_ipi_mbox_config *out)
{
	*out = (struct xlnx_ipi_mbox_config){ .host_regs = m->host->regs, .valid_mask = m->host->valid_mask,
					      .remote_mask = m->remote_mask, .buffered = m->buffered,
					      .local_req = m->local_req, .local_resp = m->local_resp,
					      .remote_req = m->remote_req, .remote_resp = m->remote_resp };
}

const struct ampl_device *xlnx_ipi_direct_device_on(struct xlnx_ipi_direct_device *d, const struct xlnx_ipi_mbox *m,
						     const char *name, uint32_t ack_timeout_us)
{
	xlnx_ipi_direct_settings(m, &d->ipi);
	d->cfg = (struct xlnx_ipi_direct_config){ .ipi = &d->ipi, .ack_timeout_us = ack_timeout_us };
	d->dev = (struct ampl_device){ .name = name, .api = &xlnx_ipi_direct_api, .config = &d->cfg, .data = &d->data,
				       .init = xlnx_ipi_direct_init, .state = &d->state };
	return xlnx_ipi_direct_init(&d->dev) ? NULL : &d->dev;
}
