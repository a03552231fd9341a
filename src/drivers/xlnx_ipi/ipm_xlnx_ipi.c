/*
 * Zephyr's IPM API on an IPI destination: the generic IPM driver (src/core/ipm_mbox.c) on the destination's TX and
 * RX framework channels, plus the IPI's response buffers through the device.
 */
#include <amplink/drivers/xlnx_ipi.h>

int xlnx_ipi_ipm_init(const struct ampl_device *dev)
{
	const struct xlnx_ipi_ipm_config *cfg = dev ? (const struct xlnx_ipi_ipm_config *)dev->config : NULL;
	if (!cfg || !cfg->mbox)
		return -EINVAL;
	struct xlnx_ipi_mbox *m = cfg->mbox;
	const struct ipm_mbox_config c = { .tx = &m->chans[XLNX_IPI_TX_CHAN], .rx = &m->chans[XLNX_IPI_RX_CHAN],
					   .flags = cfg->flags, .ack_timeout_us = cfg->ack_timeout_us };
	return ipm_mbox_setup(dev, &c);
}

int xlnx_ipi_response_write(const struct ampl_device *dev, const void *data, size_t len)
{
	return xlnx_ipi_mbox_response_write(ipm_mbox_chan(dev, true), data, len);
}

int xlnx_ipi_response_read(const struct ampl_device *dev, void *buf, size_t len)
{
	return xlnx_ipi_mbox_response_read(ipm_mbox_chan(dev, false), buf, len);
}

bool xlnx_ipi_pending(const struct ampl_device *dev)
{
	struct xlnx_ipi_mbox *m = xlnx_ipi_mbox_of(ipm_mbox_chan(dev, false));
	return m && xlnx_ipi_mbox_tx_pending(m);
}
