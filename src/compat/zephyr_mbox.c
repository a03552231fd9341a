/*
 * Zephyr's MBOX API (include/amplink/compat/zephyr/drivers/mbox.h) on the virtual SoC: each channel of an IPI destination
 * used through it gets a framework client of its own, bound on first use.
 */
#include <stdatomic.h>

#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/errno.h>
#include <amplink/mailbox_client.h>

#include <zephyr/drivers/mbox.h>

#include "compat.h"

#define MAX_BOUND 16

struct zmbox {
	struct mbox_client cl;
	const struct ampl_device *dev;
	struct xlnx_ipi_mbox *m;
	mbox_channel_id_t ch;
	_Atomic(mbox_callback_t) cb;
	void *_Atomic user_data;
	atomic_bool enabled;
	struct {
		size_t len;
		_Alignas(8) uint8_t data[AMPL_IPI_BUF_SIZE];
	} tx;
};

static struct zmbox bound[MAX_BOUND];
static unsigned num_bound;
static atomic_flag table_lock = ATOMIC_FLAG_INIT;

static struct xlnx_ipi_mbox *ipi_of(const struct ampl_device *dev)
{
	return xlnx_ipi_mbox_of(ipm_mbox_chan(dev, false));
}

static void on_rx(struct mbox_client *cl, void *mssg)
{
	struct zmbox *z = AMPL_CONTAINER_OF(cl, struct zmbox, cl);
	const struct zynqmp_ipi_message *in = mssg;
	mbox_callback_t cb = atomic_load(&z->cb);
	if (!cb || !atomic_load(&z->enabled))
		return; /* Zephyr's MBOX drops what arrives on a channel without a callback or disabled */
	struct mbox_msg msg = { .data = in ? in->data : NULL, .size = in ? in->len : 0 };
	cb(z->dev, z->ch, atomic_load(&z->user_data), in && in->len ? &msg : NULL);
}

/* The channel's binding, made on first use; NULL with *err set. */
static struct zmbox *get(const struct ampl_device *dev, mbox_channel_id_t ch, int *err)
{
	dev = ampl_compat_device(dev);
	struct xlnx_ipi_mbox *m = ipi_of(dev);
	*err = -EINVAL;
	if (!m || ch > XLNX_IPI_RX_CHAN)
		return NULL;
	while (atomic_flag_test_and_set(&table_lock))
		ampl_cpu_relax();
	struct zmbox *z = NULL;
	for (unsigned i = 0; i < num_bound && !z; i++)
		if (bound[i].m == m && bound[i].ch == ch)
			z = &bound[i];
	if (!z && num_bound < MAX_BOUND) {
		struct zmbox *n = &bound[num_bound];
		n->cl = (struct mbox_client){ .rx_callback = on_rx };
		n->dev = dev;
		n->m = m;
		n->ch = ch;
		*err = mbox_bind_client(&m->chans[ch], &n->cl);
		if (!*err) {
			z = n;
			num_bound++;
		}
	} else if (!z) {
		*err = -ENOMEM;
	}
	atomic_flag_clear(&table_lock);
	return z;
}

int mbox_send(const struct ampl_device *dev, mbox_channel_id_t channel_id, const struct mbox_msg *msg)
{
	int err;
	if (channel_id != XLNX_IPI_TX_CHAN)
		return -EINVAL;
	if (msg && msg->size && !msg->data)
		return -EINVAL;
	struct zmbox *z = get(dev, channel_id, &err);
	if (!z)
		return err;
	if (msg && msg->size > (z->m->buffered ? AMPL_IPI_BUF_SIZE : 0u))
		return -EMSGSIZE;
	struct mbox_chan *tx = &z->m->chans[XLNX_IPI_TX_CHAN];
	if (xlnx_ipi_mbox_tx_pending(z->m) || mbox_client_tx_busy(tx))
		return -EBUSY;
	void *mssg = NULL;
	if (msg) {
		z->tx.len = msg->size;
		if (msg->size)
			ampl_memcpy(z->tx.data, msg->data, msg->size);
		mssg = &z->tx;
	}
	/* The channel is idle: the request is written and triggered inside this call. */
	int ret = mbox_send_message(tx, mssg);
	return ret < 0 ? ret : 0;
}

int mbox_register_callback(const struct ampl_device *dev, mbox_channel_id_t channel_id, mbox_callback_t cb,
			   void *user_data)
{
	int err;
	if (channel_id != XLNX_IPI_RX_CHAN)
		return -EINVAL;
	struct zmbox *z = get(dev, channel_id, &err);
	if (!z)
		return err;
	atomic_store(&z->user_data, user_data);
	atomic_store(&z->cb, cb);
	return 0;
}

int mbox_set_enabled(const struct ampl_device *dev, mbox_channel_id_t channel_id, bool enabled)
{
	int err;
	if (channel_id != XLNX_IPI_RX_CHAN)
		return -EINVAL;
	struct zmbox *z = get(dev, channel_id, &err);
	if (!z)
		return err;
	return atomic_exchange(&z->enabled, enabled) == enabled ? -EALREADY : 0;
}

int mbox_mtu_get(const struct ampl_device *dev)
{
	struct xlnx_ipi_mbox *m = ipi_of(ampl_compat_device(dev));
	if (!m)
		return -EINVAL;
	return m->buffered ? (int)AMPL_IPI_BUF_SIZE : 0;
}

uint32_t mbox_max_channels_get(const struct ampl_device *dev)
{
	return ipi_of(ampl_compat_device(dev)) ? 2u : 0u;
}
