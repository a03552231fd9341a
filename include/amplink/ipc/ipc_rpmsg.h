/*
 * The RPMsg backend of the IPC service (Zephyr's ipc_rpmsg_static_vrings.c, over <amplink/ipc/rpmsg.h>): an
 * instance is one RPMsg virtio device over one shared region, host or remote, signalled through a pair of mailbox
 * channels used as doorbells (signalling mode). An instance is a `struct ampl_device` whose api is ipc_rpmsg_backend,
 * whose config is a `struct ipc_rpmsg_config` and whose data is a `struct ipc_rpmsg_data`.
 *
 * Endpoints are bound by name through the RPMsg name service, in either registration order and either start
 * order: both sides announce their named endpoints (the host too: host_announce), and an endpoint is bound when
 * it knows its peer's address, from the peer's announcement or, for a peer that does not announce (Zephyr's
 * static-vrings host, Linux), from the first message it receives: the host sends an empty message when its
 * endpoint binds, as Zephyr's backend does. Empty messages are therefore reserved: send() refuses len 0 and
 * received() never sees one. unbound() runs when the peer destroys its endpoint (NS DESTROY), deregisters,
 * closes its instance, restarts, or its processor goes offline; the endpoint stays registered and binds again
 * when the peer comes back.
 *
 * Devicetree (Zephyr's binding, plus amplink's optional sizes; see the README):
 *     ipc_rpmsg_apu: ipc-rpmsg-apu {
 *         compatible = "zephyr,ipc-openamp-static-vrings";
 *         memory-region = <&rpmsg_shm>;
 *         mboxes = <&ipi_apu_rpu0 0>, <&ipi_apu_rpu0 1>; mbox-names = "tx", "rx";
 *         role = "host";                      (or "remote")
 *     };
 * On the virtual SoC, ampl_agent_ipc_instance() (<amplink/host/soc.h>) builds the device from such a node.
 *
 * Return codes (beyond the front end's, <amplink/ipc_service.h>)
 *   send             bytes; -EBADMSG (len 0); -EBUSY (not bound, link down); -EMSGSIZE (above the buffer
 *                    payload: no truncation); -ENOMEM (no buffer now: never waits)
 *   get_tx_buffer    0; -EALREADY (this endpoint holds an unsent buffer); -ENOMEM (*size above the payload;
 *                    *size = the payload); -ENOBUFS (none within @wait); -EBUSY (not bound)
 *   drop_tx_buffer   0; -EALREADY (dropped already); -ENXIO (not the endpoint's obtained buffer)
 *   send_nocopy      bytes; -ENXIO (not the endpoint's obtained buffer); -EBADMSG (len 0 or above what was
 *                    obtained: the buffer stays the caller's); -EBUSY (link down: the buffer is gone with it)
 *   hold_rx_buffer   0; -EALREADY (held already); -EINVAL (not the buffer being delivered); -ENOMEM (too many held)
 *   release_rx_buffer 0; -ENXIO (not held)
 *
 * Contexts: bound, unbound, received and error run in the mailbox RX callback context (the agent's interrupt
 * context in the virtual SoC; the mailbox ISR on firmware) and must not block; they may send, get a buffer with
 * AMPL_NO_WAIT, hold and release; they must not deregister or close (deregistration waits for them). While
 * register_endpoint() runs, the receive work (and so these callbacks) may run in the registering thread instead: a
 * doorbell that arrives meanwhile leaves it to that thread. Either way one context at a time per instance, so an
 * instance's callbacks never overlap, and bound(), received() and unbound() keep the order of the events behind
 * them. error() may also run in a sending thread that found a corrupt ring. open/close, register/deregister and
 * get_tx_buffer with a wait: thread.
 */
#ifndef AMPLINK_IPC_IPC_RPMSG_H
#define AMPLINK_IPC_IPC_RPMSG_H

#include <amplink/ipc/link.h>
#include <amplink/ipc/rpmsg.h>
#include <amplink/ipc_service_backend.h>
#include <amplink/mailbox_client.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef IPC_RPMSG_MAX_EPT
#define IPC_RPMSG_MAX_EPT 8u
#endif
#ifndef IPC_RPMSG_NS_TABLE
#define IPC_RPMSG_NS_TABLE 8u
#endif

/**
 * struct ipc_rpmsg_config - constant configuration of an instance.
 * @role:        RPMSG_HOST or RPMSG_REMOTE
 * @shm, @shm_size, @da_base: the region (this core's address, size, device address)
 * @vring_num, @vring_align, @h2r_buf_size, @r2h_buf_size: as struct rpmsg_virtio_config (0: defaults)
 * @tx_chan, @rx_chan: mailbox channels not yet bound to a client; or NULL and then @mbox_node names "tx"/"rx"
 * @doorbell:    instead of the channels, a doorbell function (<amplink/ipc/link.h>); the firmware's doorbell
 *               interrupt calls ipc_rpmsg_poll(); the only way with AMPL_IPC_LINK_MBOX 0
 * @error:       optional: instance-level protocol errors (no endpoint to report them to)
 * @polled:      the owner drains the instance with ipc_rpmsg_poll() in a loop (struct rpmsg_virtio_config's @polled)
 */
struct ipc_rpmsg_config {
	int role;
	void *shm;
	uint32_t shm_size;
	uint32_t da_base;
	uint32_t vring_num, vring_align;
	uint32_t h2r_buf_size, r2h_buf_size;
	struct mbox_chan *tx_chan, *rx_chan;
	const struct mbox_consumer *mbox_node;
	const struct ampl_ipc_doorbell *doorbell;
	void (*error)(const struct ampl_device *instance, const char *msg);
	bool polled;
};

/** One endpoint slot. Private. */
struct ipc_rpmsg_ept {
	struct rpmsg_endpoint ep;
	const struct ipc_ept_cfg *cfg;
	struct ipc_rpmsg_data *d;
	AMPL_ATOMIC(bool) used;
	AMPL_ATOMIC(bool) closing;   /* being registered or deregistered: binding scans leave it alone */
	AMPL_ATOMIC(int) busy;      /* binding scans using it now */
	AMPL_ATOMIC(bool) bound;
	AMPL_ATOMIC(bool) hello_sent; /* host: the empty bind message went out for the current binding */
	AMPL_ATOMIC(void *) tx_buf; /* the obtained, unsent buffer (NULL: none); written under the lock, read without it
				* by get_tx_buffer()'s first test */
	uint32_t tx_cap;       /* what was obtained */
	const void *tx_dropped; /* the last dropped buffer, until another is obtained */
	void *held[RPMSG_BUF_SLOTS];
};

/** Mutable state of an instance (zero it). Private. */
struct ipc_rpmsg_data {
	const struct ampl_device *dev;
	struct rpmsg_device rdev;
	struct rpmsg_virtio_config vcfg;
	struct rpmsg_ns_entry ns_table[IPC_RPMSG_NS_TABLE];
	struct ipc_rpmsg_ept ept[IPC_RPMSG_MAX_EPT];
	struct ampl_ipc_link link; /* the doorbells (<amplink/ipc/link.h>) */
	ampl_atomic_flag_t lock;      /* endpoint table and the zero-copy records */
	ampl_atomic_flag_t tx_lock;   /* the doorbell */
	AMPL_ATOMIC(int) open;
	AMPL_ATOMIC(bool) pass_busy; /* a context runs the receive work (run_passes()) */
	AMPL_ATOMIC(bool) pass_due;  /* one more round of it was asked for */
	AMPL_ATOMIC(bool) lost_due;  /* the transport reported the peer offline: peer_lost at the next round */
	const void *rx_cur;    /* the payload being delivered (receive work only) */
	bool rx_cur_held;
};

extern const struct ipc_service_backend ipc_rpmsg_backend;
AMPL_IPC_BACKEND_OPERATIONS(rpmsg);
/* The backend's operations, as its table holds them (see AMPL_IPC_ONE_BACKEND in <amplink/ipc_service_backend.h>). */
#define IPC_RPMSG_OPS                                                                                              \
	{ .open_instance = ipc_rpmsg_open_instance, .close_instance = ipc_rpmsg_close_instance,                      \
	  .register_endpoint = ipc_rpmsg_register_endpoint, .deregister_endpoint = ipc_rpmsg_deregister_endpoint,     \
	  .send = ipc_rpmsg_send, .get_tx_buffer_size = ipc_rpmsg_get_tx_buffer_size,                                \
	  .get_tx_buffer = ipc_rpmsg_get_tx_buffer, .drop_tx_buffer = ipc_rpmsg_drop_tx_buffer,                      \
	  .send_nocopy = ipc_rpmsg_send_nocopy, .hold_rx_buffer = ipc_rpmsg_hold_rx_buffer,                           \
	  .release_rx_buffer = ipc_rpmsg_release_rx_buffer, .is_bound = ipc_rpmsg_is_bound }

/**
 * ipc_rpmsg_poll() - run the instance's receive pass now, as a doorbell would (nothing while closed); for an
 * instance configured @polled, whose owner calls it in a loop. Return: 0; -EINVAL (not an instance of this backend).
 * Context: the instance's RX context.
 */
int ipc_rpmsg_poll(const struct ampl_device *instance);

/** ipc_rpmsg_device() - the RPMsg device of an open instance (statistics, link state), or NULL. */
struct rpmsg_device *ipc_rpmsg_device(const struct ampl_device *instance);

/**
 * ipc_rpmsg_register_endpoint_at() - ipc_service_register_endpoint() with RPMsg addresses, as Linux's
 * /dev/rpmsg_ctrlN creates an endpoint from a name, a source and a destination.
 * @src: this endpoint's address, or RPMSG_ADDR_ANY (one is chosen, as ipc_service_register_endpoint() does)
 * @dst: the peer's address, or RPMSG_ADDR_ANY (bound by name, from the peer's announcement or first message).
 *       With a fixed @dst the endpoint announces nothing and is bound as soon as the link is up (bound() runs in
 *       this call or in the doorbell context), to the peer's endpoint at @dst whatever its name.
 * Return: as ipc_service_register_endpoint(); -EINVAL also for the name service's address (53) as @src or @dst;
 * -EBUSY also for a fixed @src in use; -ENOTSUP (@instance is not an RPMsg instance: ICMsg and the multi-endpoint
 * backend have no addresses). Context: thread.
 */
int ipc_rpmsg_register_endpoint_at(const struct ampl_device *instance, struct ipc_ept *ept, const struct ipc_ept_cfg *cfg,
				   uint32_t src, uint32_t dst);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_IPC_IPC_RPMSG_H */
