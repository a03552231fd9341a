/*
 * The IPC service, backend side (Zephyr's ipc_service_backend.h): what a backend implements. For backend authors;
 * applications use <amplink/ipc_service.h>. Portable (firmware and host).
 *
 * An instance is a `struct ampl_device` whose api points at a `struct ipc_service_backend` and whose config and
 * data are the backend's (e.g. struct ipc_icmsg_config and struct ipc_icmsg_data, <amplink/ipc/ipc_icmsg.h>).
 *
 * Ownership
 *   instance   the device, its config and its data belong to whoever defined or built it (a static
 *              AMPL_DEVICE_DEFINE, the board layer, the virtual SoC's agent); they outlive every call. The backend
 *              keeps its state in the instance's data and in the instance's shared memory, nothing elsewhere
 *              (no heap in the portable backends).
 *   token      the backend's handle of one endpoint, written by register_endpoint() into the caller's
 *              struct ipc_ept; valid from a successful register_endpoint() to a successful deregister_endpoint()
 *   cfg        the caller's struct ipc_ept_cfg: valid while the endpoint is registered; the backend may keep the
 *              pointer and call cfg->cb's callbacks with cfg->priv
 *   TX buffer  a buffer get_tx_buffer() gave belongs to the caller until send_nocopy() succeeds or
 *              drop_tx_buffer() takes it back; after a failed send_nocopy() it is still the caller's
 *   RX buffer  data passed to received() is the backend's: valid until the callback returns, unless
 *              hold_rx_buffer() was called on it in the callback; then until release_rx_buffer()
 *   shared mem everything the peer can write is validated before use (lengths, indices, offsets); a bad value is
 *              reported through cfg->cb.error() or an error return, never trusted
 *
 * What the front end (src/core/ipc_service.c) checks before an operation runs, so a backend need not:
 *   - the instance is not NULL and its api is not NULL (-EINVAL, -EIO);
 *   - for an operation on an endpoint: the struct ipc_ept is not NULL and is registered (-EINVAL, -ENOENT), and
 *     the instance passed is the one it was registered on;
 *   - register_endpoint: cfg is not NULL; ept->instance is set before the call and cleared again when it fails;
 *     deregister_endpoint: ept->instance is cleared only when it returns 0;
 *   - get_tx_buffer: data and len are not NULL; drop_tx_buffer: data is not NULL;
 *   - a missing operation: open_instance and close_instance answer 0, get_tx_buffer_size -ENOTSUP, every other
 *     -EIO; the zero-copy operations are offered in pairs (get_tx_buffer with send_nocopy, hold_rx_buffer with
 *     release_rx_buffer: either missing answers -EIO for both), as Zephyr's front end does.
 * It checks nothing else: the data pointers and lengths of send() and send_nocopy(), the timeout, whether a
 * buffer came from get_tx_buffer() are the backend's to check, with the return codes below. The front end holds no
 * lock: an operation may run on several threads at once, and from the backend's own callback context on the same
 * instance; the backend serialises what needs it.
 *
 * Return codes: 0 or a count as stated, else a negative errno. They reach the application unchanged, so they are
 * the ones <amplink/ipc_service.h> documents for the matching ipc_service_*() function; an operation returns no
 * other code.
 *
 * Calling contexts
 *   thread     may sleep (wait for a lock, for the peer, for a buffer with a timeout); not from a callback
 *   any        thread, a callback of this instance (the mailbox RX context), or interrupt context where the backend's
 *              header says so; never blocks
 * The callbacks (bound, unbound, received, error) run in the context each backend's header states (the mailbox
 * RX callback context for ICMsg, multi-endpoint and RPMsg: the agent's interrupt thread on the virtual SoC, the
 * mailbox interrupt on firmware), one at a time per instance, and must not block.
 */
#ifndef AMPLINK_IPC_SERVICE_BACKEND_H
#define AMPLINK_IPC_SERVICE_BACKEND_H

#include <amplink/ipc_service.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct ipc_service_backend - the operations of one backend; any may be NULL (see above for what that answers).
 *
 * @open_instance:       set up the instance: shared memory, mailbox channels, the bonding or link handshake; returns
 *                       before the peer is there. Return: 0; -EINVAL (bad configuration); -EALREADY (open or being
 *                       opened); the mailbox's or the memory's error. Context: thread.
 * @close_instance:      the reverse of open: stop the mailbox channels, forget the peer. Return: 0; -EALREADY (not
 *                       open); -EBUSY (an endpoint is still registered). Context: thread.
 * @send:                copy @len bytes of @data to the peer's endpoint of @token. Return: @len; -EBADMSG (NULL
 *                       @data or @len 0); -EMSGSIZE (larger than the peer accepts); -EBUSY (not bound, or the peer
 *                       is gone); -ENOMEM or -ENOBUFS (no room now); -ESHUTDOWN (the peer's processor is offline).
 *                       Context: any.
 * @register_endpoint:   make an endpoint for @cfg and write its handle to *@token; bind to the peer's endpoint of
 *                       the same name when there is one (bound() then runs, now or later). Return: 0; -EINVAL (bad
 *                       @cfg, e.g. no name or too long; the instance not open); -EBUSY (another register or
 *                       deregister on the instance is in progress, or no room for another endpoint); -EALREADY.
 *                       Context: thread.
 * @deregister_endpoint: remove the endpoint of @token; the peer sees unbound(). Return: 0; -EINVAL (the instance
 *                       has no backend data); -ENOENT (@token is not an endpoint of @instance); -EBUSY (another
 *                       register or deregister on the instance is in progress). Context: thread.
 * @get_tx_buffer_size:  the largest buffer get_tx_buffer() can give on @token. Return: the size; -ENOTSUP.
 *                       Context: any.
 * @get_tx_buffer:       claim a buffer in shared memory of *@len bytes (0: the largest) and set *@data and *@len.
 *                       @wait: AMPL_NO_WAIT looks once; a positive timeout or AMPL_FOREVER waits for a release.
 *                       Return: 0; -ENOMEM (*@len too big: *@len is set to the largest); -ENOBUFS (none free within
 *                       @wait); -ENOTSUP (a wait this backend cannot do); -EALREADY (already claimed). Context: any
 *                       with AMPL_NO_WAIT, thread with a timeout.
 * @drop_tx_buffer:      take back a buffer get_tx_buffer() gave, unsent. Return: 0; -ENOTSUP; -EALREADY (dropped
 *                       already); -ENXIO (not a buffer get_tx_buffer() gave). Context: any.
 * @send_nocopy:         send @len bytes of a buffer get_tx_buffer() gave; on success it is the backend's again.
 *                       Return: @len; -EBADMSG; -EBUSY; -ENXIO (not an obtained buffer). Context: any.
 * @hold_rx_buffer:      from received(): keep @data valid after the callback returns. Return: 0; -EALREADY (held
 *                       already); -ENOTSUP. Context: the endpoint's received() callback.
 * @release_rx_buffer:   give back a held buffer to the peer. Return: 0; -EALREADY; -ENOTSUP; -ENXIO (not held).
 *                       Context: any.
 * @is_bound:            amplink's: true when a send on @token would go through now (bound, link up); reads state
 *                       only. Optional: without it ipc_service_wait_bound() answers -EIO. Context: any; never
 *                       blocks (ipc_service_wait_bound() calls it every millisecond).
 */
struct ipc_service_backend {
	int (*open_instance)(const struct ampl_device *instance);
	int (*close_instance)(const struct ampl_device *instance);
	int (*send)(const struct ampl_device *instance, void *token, const void *data, size_t len);
	int (*register_endpoint)(const struct ampl_device *instance, void **token, const struct ipc_ept_cfg *cfg);
	int (*deregister_endpoint)(const struct ampl_device *instance, void *token);
	int (*get_tx_buffer_size)(const struct ampl_device *instance, void *token);
	int (*get_tx_buffer)(const struct ampl_device *instance, void *token, void **data, uint32_t *len,
			     ampl_timeout_t wait);
	int (*drop_tx_buffer)(const struct ampl_device *instance, void *token, const void *data);
	int (*send_nocopy)(const struct ampl_device *instance, void *token, const void *data, size_t len);
	int (*hold_rx_buffer)(const struct ampl_device *instance, void *token, void *data);
	int (*release_rx_buffer)(const struct ampl_device *instance, void *token, void *data);
	bool (*is_bound)(const struct ampl_device *instance, void *token);
};

/*
 * AMPL_IPC_ONE_BACKEND (compile-time option, for firmware that uses one backend): 0, the default: the front end
 * calls each instance's operations through its api table, and an image may use several backends. AMPL_IPC_ICMSG,
 * AMPL_IPC_MULTI or AMPL_IPC_RPMSG: every instance is of that backend. The front end then calls the backend's
 * operations directly (the functions its header lists in IPC_<BACKEND>_OPS), the checks above unchanged, so that
 * an image links only the operations it calls; that backend's table holds none (an instance's api still points at
 * it, and an instance whose api is anything else answers -EIO). Build the front end and the backend with the same
 * value. The API and the wire are the same.
 */
#define AMPL_IPC_ICMSG 1
#define AMPL_IPC_MULTI 2
#define AMPL_IPC_RPMSG 3
#ifndef AMPL_IPC_ONE_BACKEND
#define AMPL_IPC_ONE_BACKEND 0
#endif

/* The operations of backend @b as functions, ipc_<b>_<operation>(): a backend defines those its table holds. */
#define AMPL_IPC_BACKEND_OPERATIONS(b)                                                                              \
	int ipc_##b##_open_instance(const struct ampl_device *instance);                                            \
	int ipc_##b##_close_instance(const struct ampl_device *instance);                                           \
	int ipc_##b##_send(const struct ampl_device *instance, void *token, const void *data, size_t len);           \
	int ipc_##b##_register_endpoint(const struct ampl_device *instance, void **token,                            \
					const struct ipc_ept_cfg *cfg);                                              \
	int ipc_##b##_deregister_endpoint(const struct ampl_device *instance, void *token);                          \
	int ipc_##b##_get_tx_buffer_size(const struct ampl_device *instance, void *token);                           \
	int ipc_##b##_get_tx_buffer(const struct ampl_device *instance, void *token, void **data, uint32_t *len,     \
				    ampl_timeout_t wait);                                                            \
	int ipc_##b##_drop_tx_buffer(const struct ampl_device *instance, void *token, const void *data);             \
	int ipc_##b##_send_nocopy(const struct ampl_device *instance, void *token, const void *data, size_t len);     \
	int ipc_##b##_hold_rx_buffer(const struct ampl_device *instance, void *token, void *data);                   \
	int ipc_##b##_release_rx_buffer(const struct ampl_device *instance, void *token, void *data);                \
	bool ipc_##b##_is_bound(const struct ampl_device *instance, void *token)

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_IPC_SERVICE_BACKEND_H */
