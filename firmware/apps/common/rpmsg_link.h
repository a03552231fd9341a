/*
 * An RPMsg device (<amplink/ipc/rpmsg.h>, OpenAMP's API) on a pair of mailbox-framework channels used as doorbells:
 * the device's notify hook rings the tx channel, a doorbell on the rx channel runs rpmsg_virtio_notified(). The
 * rx channel's link state (link_state, <amplink/mailbox_client.h>) is followed: the peer going offline takes the
 * link down (rpmsg_virtio_peer_lost(): every learnt binding unbound, the host then waits for the remote's new
 * session) and coming back online rings the peer. Portable: the firmware (remote) and its Linux host test (host)
 * both use it.
 *
 * Contexts: start and stop in thread context; the device's callbacks run in the rx channel's context.
 */
#ifndef FW_RPMSG_LINK_H
#define FW_RPMSG_LINK_H

#include <amplink/ipc/rpmsg.h>
#include <amplink/mailbox_client.h>

/**
 * struct rpmsg_link - one device and its doorbells. @rdev and @vcfg are public: fill @vcfg (all but notify and
 * notify_priv, which rpmsg_link_start() sets) before starting; create endpoints on @rdev after it.
 */
struct rpmsg_link {
	struct rpmsg_device rdev;
	struct rpmsg_virtio_config vcfg;
	/* private */
	struct mbox_client cl_tx, cl_rx;
	struct mbox_chan *tx, *rx;
	atomic_bool armed;
	atomic_bool open;
};

/**
 * rpmsg_link_start() - zero the device, bind the channels, start the device with @init (rpmsg_virtio_init_remote
 * or rpmsg_virtio_init_host, named so that a remote-only image does not link the host's code), and run one pass
 * (a doorbell that came before).
 * Return: 0; -EINVAL (NULL argument, or rpmsg_virtio_init() refused the configuration); mbox_bind_client()'s error.
 */
int rpmsg_link_start(struct rpmsg_link *l, struct mbox_chan *tx, struct mbox_chan *rx,
		     int (*init)(struct rpmsg_device *rdev, const struct rpmsg_virtio_config *cfg));

/**
 * rpmsg_link_stop() - stop taking doorbells, rpmsg_virtio_deinit() (the peer sees this side go), let that
 * doorbell leave (up to 20 ms), free the channels. Destroy the endpoints first.
 */
void rpmsg_link_stop(struct rpmsg_link *l);

#endif /* FW_RPMSG_LINK_H */
