/* An RPMsg device on two doorbell channels (rpmsg_link.h). */
#include "rpmsg_link.h"

#define STOP_DRAIN_US 20000u

static void on_tx_prepare(struct mbox_client *cl, void *mssg)
{
	(void)mssg;
	atomic_store(&AMPL_CONTAINER_OF(cl, struct rpmsg_link, cl_tx)->armed, false);
}

/* The device's notify hook: any notify id rings the peer, which looks at everything on a doorbell. */
static void ring(void *priv, uint32_t notifyid)
{
	struct rpmsg_link *l = priv;
	(void)notifyid;
	(void)mbox_ring_doorbell(l->tx, &l->armed);
}

static void on_doorbell(struct mbox_client *cl, void *mssg)
{
	struct rpmsg_link *l = AMPL_CONTAINER_OF(cl, struct rpmsg_link, cl_rx);
	(void)mssg;
	if (!atomic_load(&l->open))
		return; /* the start path runs a pass after it set `open` */
	rpmsg_virtio_notified(&l->rdev);
}

/* The transport's link state (the rx channel's link_state): offline takes the device down, online rings the peer. */
static void on_link_state(struct mbox_client *cl, bool online)
{
	struct rpmsg_link *l = AMPL_CONTAINER_OF(cl, struct rpmsg_link, cl_rx);
	if (!atomic_load(&l->open))
		return;
	if (!online) {
		rpmsg_virtio_peer_lost(&l->rdev);
		return;
	}
	ring(l, RPMSG_NOTIFYID_VDEV);
	rpmsg_virtio_notified(&l->rdev);
}

int rpmsg_link_start(struct rpmsg_link *l, struct mbox_chan *tx, struct mbox_chan *rx,
		     int (*init)(struct rpmsg_device *rdev, const struct rpmsg_virtio_config *cfg))
{
	if (!l || !tx || !rx || !init)
		return -EINVAL;
	ampl_memset(&l->rdev, 0, sizeof(l->rdev));
	atomic_store(&l->open, false);
	atomic_store(&l->armed, false);
	l->vcfg.notify = ring;
	l->vcfg.notify_priv = l;
	l->cl_tx = (struct mbox_client){ .tx_prepare = on_tx_prepare };
	l->cl_rx = (struct mbox_client){ .rx_callback = on_doorbell, .link_state = on_link_state };
	int r = mbox_bind_client(tx, &l->cl_tx);
	if (r)
		return r;
	l->tx = tx;
	r = mbox_bind_client(rx, &l->cl_rx);
	if (r) {
		mbox_free_channel(tx);
		return r;
	}
	l->rx = rx;
	if (init(&l->rdev, &l->vcfg) != RPMSG_SUCCESS) {
		mbox_free_channel(rx);
		mbox_free_channel(tx);
		return -EINVAL;
	}
	atomic_store(&l->open, true);
	rpmsg_virtio_notified(&l->rdev); /* a doorbell that came before `open` */
	return 0;
}

void rpmsg_link_stop(struct rpmsg_link *l)
{
	if (!l || !atomic_exchange(&l->open, false))
		return;
	mbox_free_channel(l->rx); /* waits for a running doorbell callback */
	rpmsg_virtio_deinit(&l->rdev); /* tells the peer, and rings it */
	uint64_t end = ampl_os_uptime_us() + STOP_DRAIN_US;
	while ((atomic_load(&l->armed) || mbox_client_tx_busy(l->tx)) && ampl_os_uptime_us() < end)
		ampl_cpu_relax();
	mbox_free_channel(l->tx);
}
