/*
 * Zephyr's IPC service API (include/zephyr/ipc/ipc_service.h), with its names, signatures and return codes.
 *
 * Terminology
 *   instance  one physical channel between two cores: shared memory plus a mailbox, made by a backend from a
 *             devicetree node; a `const struct ampl_device *` whose api is a `struct ipc_service_backend`
 *   endpoint  registered by the user on an instance, bound to the peer's endpoint of the same name
 *   backend   the protocol under the API (ICMsg, the multi-endpoint zero-copy backend, RPMsg)
 *
 * A typical exchange:
 *
 *     core A                                         core B
 *     ipc_service_open_instance(inst)                ipc_service_open_instance(inst)
 *     ipc_service_register_endpoint(inst, &ept,      ipc_service_register_endpoint(inst, &ept,
 *                                   &cfg "echo")                                   &cfg "echo")
 *               ... both sides registered "echo": bound(priv) runs on each ...
 *     ipc_service_send(&ept, "hi", 2)  ----------->  received("hi", 2, priv)
 *                                      <-----------  ipc_service_send(&ept, ...)
 *               ... B deregisters, closes or resets: unbound(priv) runs on A; re-registration rebinds ...
 *
 * Zero-copy: TX is get -> send or drop (a buffer obtained with ipc_service_get_tx_buffer() belongs to the caller
 * until ipc_service_send_nocopy() succeeds or ipc_service_drop_tx_buffer() returns it; a second drop answers
 * -EALREADY, a buffer that was never obtained -ENXIO). RX is hold -> release (data passed to received() is valid
 * until the callback returns unless ipc_service_hold_rx_buffer() was called on it inside the callback; then until
 * ipc_service_release_rx_buffer()).
 *
 * Callback contexts are the backend's and are stated by each backend's header (the lowest-latency backends call
 * received() from the mailbox interrupt context; a backend may offer a thread instead).
 */
#ifndef AMPLINK_IPC_SERVICE_H
#define AMPLINK_IPC_SERVICE_H

#include <amplink/device.h>

#ifdef __cplusplus
extern "C" {
#endif

/** API version of this header (wire-protocol versions belong to each backend). */
#define AMPL_IPC_SERVICE_API_VERSION "1.0.0"

/**
 * ampl_timeout_t - a timeout, as Zephyr's: microseconds, 0 = do not wait, negative = wait for ever. Zephyr's names
 * of the type and of the macros below come from <amplink/compat/zephyr/sys_clock.h>.
 */
typedef struct {
	int64_t us;
} ampl_timeout_t;

#define AMPL_NO_WAIT ((ampl_timeout_t){ 0 })
#define AMPL_FOREVER ((ampl_timeout_t){ -1 })
#define AMPL_USEC(t) ((ampl_timeout_t){ (int64_t)(t) })
#define AMPL_MSEC(t) ((ampl_timeout_t){ (int64_t)(t) * 1000 })
#define AMPL_TIMEOUT_EQ(a, b) ((a).us == (b).us)

/** Endpoint callbacks. Each may be NULL. Contexts: see the backend. None may block. */
struct ipc_service_cb {
	/** The endpoint is bound to the peer's endpoint of the same name. */
	void (*bound)(void *priv);
	/** The peer deregistered the endpoint, closed the instance or reset; register again to rebind. */
	void (*unbound)(void *priv);
	/** A message: @data is valid until the callback returns, unless held. `recv` is the same member under the
	 * name the seed documents' Zephyr example uses (<zephyr/ipc/ipc_service.h> of include/amplink/compat). */
	union {
		void (*received)(const void *data, size_t len, void *priv);
		void (*recv)(const void *data, size_t len, void *priv);
	};
	/** Something went wrong that no call can report (e.g. the peer wrote garbage to shared memory). */
	void (*error)(const char *message, void *priv);
};

/**
 * struct ipc_ept - an endpoint (caller-allocated).
 * @instance: the instance it is registered on (NULL when not registered); set by register, cleared by deregister
 * @token:    the backend's handle
 */
struct ipc_ept {
	const struct ampl_device *instance;
	void *token;
};

/**
 * struct ipc_ept_cfg - endpoint configuration; must stay valid while the endpoint is registered.
 * @name: endpoint name; the peer's endpoint of the same name is the one it binds to
 * @prio: priority (backend-specific; ignored by single-endpoint backends)
 * @cb:   callbacks
 * @priv: passed to every callback
 */
struct ipc_ept_cfg {
	const char *name;
	int prio;
	struct ipc_service_cb cb;
	void *priv;
};

/**
 * ipc_service_open_instance() - set up an instance (shared memory, mailbox, bonding).
 * Return: 0 (also when the backend has nothing to open); -EINVAL (NULL instance or bad configuration); -EIO (not
 * an IPC instance); -EALREADY (already open or being opened); or the backend's error. Context: thread.
 */
int ipc_service_open_instance(const struct ampl_device *instance);

/**
 * ipc_service_close_instance() - the reverse of open.
 * Return: 0 (also when the backend has nothing to close); -EINVAL; -EIO; -EALREADY (not open); -EBUSY (an
 * endpoint is still registered). Context: thread.
 */
int ipc_service_close_instance(const struct ampl_device *instance);

/**
 * ipc_service_register_endpoint() - register @ept with @cfg on @instance; bound() runs once the peer has the same
 * name. Return: 0; -EINVAL (NULL argument); -EIO (no backend or no register op); -EBUSY (instance busy, e.g. a
 * single-endpoint backend that has one); -EALREADY; or the backend's error. Context: thread.
 */
int ipc_service_register_endpoint(const struct ampl_device *instance, struct ipc_ept *ept,
				  const struct ipc_ept_cfg *cfg);

/**
 * ipc_service_deregister_endpoint() - the reverse of register; the peer sees unbound().
 * Return: 0; -EINVAL (NULL); -ENOENT (not registered); -EIO (no backend or op); -EBUSY. Context: thread.
 */
int ipc_service_deregister_endpoint(struct ipc_ept *ept);

/**
 * ipc_service_wait_bound() - wait until @ept is bound (sends go through), up to @timeout; amplink's, not Zephyr's.
 * ipc_service_open_instance() and ipc_service_register_endpoint() return before the peer is there (OpenAMP's
 * remote init waits for the host instead); this is the bounded wait for it, for every backend: ICMsg's bonding,
 * the multi-endpoint backend's connection and binding, RPMsg's link up and name-service binding. The state is
 * looked at every millisecond (the backend's bound() callback may run just before or after this returns 0). The
 * endpoint must stay registered while it waits; the peer may go away again at any time after.
 * @timeout: AMPL_NO_WAIT: look once; AMPL_FOREVER: no limit
 * Return: 0 (bound); -EINVAL (NULL endpoint); -ENOENT (not registered); -EIO (no backend, or the backend cannot
 * tell); -ETIMEDOUT (not bound within @timeout, or not now with AMPL_NO_WAIT). Context: thread, not from an endpoint
 * callback (the binding it waits for would come through the context it blocks); may sleep.
 */
int ipc_service_wait_bound(struct ipc_ept *ept, ampl_timeout_t timeout);

/**
 * ipc_service_send() - copy @len bytes to the peer's endpoint.
 * Return: bytes sent (@len); -EINVAL (NULL endpoint); -ENOENT (not registered); -EIO (no backend or op);
 * -EBADMSG (no data or zero length); -EMSGSIZE (larger than the peer accepts: never silently dropped); -EBUSY (not
 * bound yet, or the peer is gone: never a silent success); -ENOMEM (no room now); -ENOBUFS; -ESHUTDOWN (the peer's
 * processor is offline; ICMsg: the data is in the ring but the peer was not signalled, see icmsg_send()). Context: thread, and
 * interrupt where the backend says so.
 */
int ipc_service_send(struct ipc_ept *ept, const void *data, size_t len);

/** ipc_service_get_tx_buffer_size() - the largest buffer get_tx_buffer can give. Return: the size; -EINVAL;
 * -ENOENT; -EIO; -ENOTSUP. */
int ipc_service_get_tx_buffer_size(struct ipc_ept *ept);

/**
 * ipc_service_get_tx_buffer() - obtain a buffer in shared memory to fill and send without a copy.
 * @size: in: bytes wanted (0: the largest); out: bytes obtained (the largest possible on -ENOMEM)
 * @wait: how long to wait for a buffer
 * Return: 0; -EINVAL; -ENOENT; -EIO (the backend lacks get_tx_buffer or send_nocopy); -ENOTSUP (this timeout not
 * supported); -ENOBUFS (none free within @wait); -EALREADY (already claimed); -ENOMEM (@size too big).
 */
int ipc_service_get_tx_buffer(struct ipc_ept *ept, void **data, uint32_t *size, ampl_timeout_t wait);

/** ipc_service_drop_tx_buffer() - give back an obtained buffer without sending.
 * Return: 0; -EINVAL; -ENOENT; -EIO; -ENOTSUP; -EALREADY (dropped already); -ENXIO (not from get_tx_buffer). */
int ipc_service_drop_tx_buffer(struct ipc_ept *ept, const void *data);

/**
 * ipc_service_send_nocopy() - send @len bytes of an obtained buffer; on success the buffer belongs to the backend,
 * on error it stays the caller's (drop it or retry).
 * Return: bytes sent; -EINVAL; -ENOENT; -EIO; -EBADMSG; -EBUSY; -ENXIO (not an obtained buffer).
 */
int ipc_service_send_nocopy(struct ipc_ept *ept, const void *data, size_t len);

/** ipc_service_hold_rx_buffer() - from received(): keep @data valid after the callback returns.
 * Return: 0; -EINVAL; -ENOENT; -EIO (the backend lacks hold or release); -EALREADY; -ENOTSUP. */
int ipc_service_hold_rx_buffer(struct ipc_ept *ept, void *data);

/** ipc_service_release_rx_buffer() - give back a held buffer.
 * Return: 0; -EINVAL; -ENOENT; -EIO; -EALREADY; -ENOTSUP; -ENXIO (not held). */
int ipc_service_release_rx_buffer(struct ipc_ept *ept, void *data);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_IPC_SERVICE_H */
