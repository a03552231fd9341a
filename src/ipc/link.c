/* The doorbell link of an IPC backend (see <amplink/ipc/link.h>). */
#include <amplink/ipc/link.h>

static void on_tx_prepare(struct mbox_client *cl, void *mssg)
{
	(void)mssg;
	atomic_store(&AMPL_CONTAINER_OF(cl, struct ampl_ipc_link, cl_tx)->armed, false);
}

static void on_rx(struct mbox_client *cl, void *mssg)
{
	(void)mssg;
	struct ampl_ipc_link *l = AMPL_CONTAINER_OF(cl, struct ampl_ipc_link, cl_rx);
	l->doorbell(l);
}

static void on_state(struct mbox_client *cl, bool online)
{
	struct ampl_ipc_link *l = AMPL_CONTAINER_OF(cl, struct ampl_ipc_link, cl_rx);
	atomic_store(&l->armed, false); /* a doorbell queued meanwhile was dropped, not submitted */
	if (l->state)
		l->state(l, online);
}

int ampl_ipc_link_open(struct ampl_ipc_link *l, const struct mbox_consumer *node, struct mbox_chan *tx,
		       struct mbox_chan *rx, void (*doorbell)(struct ampl_ipc_link *l),
		       void (*state)(struct ampl_ipc_link *l, bool online))
{
	int err;
	atomic_flag_clear(&l->lock);
	atomic_store(&l->armed, false);
	l->doorbell = doorbell;
	l->state = state;
	/* No tx_done callback: with one, the framework wakes its TX-done poll thread for every doorbell (a system call
	 * and a thread on a busy CPU per message). */
	l->cl_tx = (struct mbox_client){ .tx_prepare = on_tx_prepare };
	l->cl_rx = (struct mbox_client){ .rx_callback = on_rx, .link_state = on_state };
	tx = mbox_client_get_channel(&l->cl_tx, node, tx, "tx", &err);
	if (!tx)
		return err;
	unsigned key = ampl_spin_lock(&l->lock);
	l->tx = tx;
	ampl_spin_unlock(&l->lock, key);
	l->rx = mbox_client_get_channel(&l->cl_rx, node, rx, "rx", &err);
	if (!l->rx)
		ampl_ipc_link_close(l, 0);
	return err;
}

int ampl_ipc_link_ring(struct ampl_ipc_link *l)
{
	unsigned key = ampl_spin_lock(&l->lock);
	int r = l->tx ? mbox_ring_doorbell(l->tx, &l->armed) : 0;
	ampl_spin_unlock(&l->lock, key);
	return r;
}

void ampl_ipc_link_stop(struct ampl_ipc_link *l)
{
	if (l->rx)
		mbox_free_channel(l->rx); /* waits for a running RX callback */
	l->rx = NULL;
}

void ampl_ipc_link_close(struct ampl_ipc_link *l, uint32_t drain_us)
{
	ampl_ipc_link_stop(l);
	if (drain_us) {
		uint64_t end = ampl_os_uptime_us() + drain_us;
		while ((atomic_load(&l->armed) || mbox_client_tx_busy(l->tx)) && ampl_os_uptime_us() < end)
			ampl_cpu_relax();
	}
	unsigned key = ampl_spin_lock(&l->lock);
	struct mbox_chan *tx = l->tx;
	l->tx = NULL;
	ampl_spin_unlock(&l->lock, key);
	if (tx)
		mbox_free_channel(tx);
}
