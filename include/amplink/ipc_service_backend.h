/*
 * The IPC service, backend side (Zephyr's ipc_service_backend.h): what a backend implements. An instance is a
 * `struct device` whose api points at a `struct ipc_service_backend`. The front end (src/core/ipc_service.c)
 * validates handles and arguments and answers a missing operation with -EIO, checking the zero-copy operations in
 * pairs (get_tx_buffer with send_nocopy, hold with release), as Zephyr's front end does.
 */
#ifndef AMPLINK_IPC_SERVICE_BACKEND_H
#define AMPLINK_IPC_SERVICE_BACKEND_H

#include <amplink/ipc_service.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ipc_service_backend {
	int (*open_instance)(const struct device *instance);
	int (*close_instance)(const struct device *instance);
	int (*send)(const struct device *instance, void *token, const void *data, size_t len);
	int (*register_endpoint)(const struct device *instance, void **token, const struct ipc_ept_cfg *cfg);
	int (*deregister_endpoint)(const struct device *instance, void *token);
	int (*get_tx_buffer_size)(const struct device *instance, void *token);
	int (*get_tx_buffer)(const struct device *instance, void *token, void **data, uint32_t *len,
			     k_timeout_t wait);
	int (*drop_tx_buffer)(const struct device *instance, void *token, const void *data);
	int (*send_nocopy)(const struct device *instance, void *token, const void *data, size_t len);
	int (*hold_rx_buffer)(const struct device *instance, void *token, void *data);
	int (*release_rx_buffer)(const struct device *instance, void *token, void *data);
	/* amplink: true when a send on the endpoint would go through (bound, link up); any context, never blocks.
	 * Optional: without it ipc_service_wait_bound() answers -EIO. */
	bool (*is_bound)(const struct device *instance, void *token);
};

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_IPC_SERVICE_BACKEND_H */
