/*
 * The IPC service front end: handle and argument checks, then the backend's operation. Mirrors Zephyr's
 * subsys/ipc/ipc_service/ipc_service.c: a missing operation is -EIO (not -ENOTSUP), the zero-copy operations are
 * checked in pairs, and register sets ept->instance before calling the backend.
 */
#include <amplink/ipc_service_backend.h>
#include <amplink/trace.h>

/*
 * An instance's operations: its api table, or with AMPL_IPC_ONE_BACKEND the one backend's operations, constants
 * (the calls direct), for an instance whose api is that backend's table.
 */
#if AMPL_IPC_ONE_BACKEND == AMPL_IPC_ICMSG
#include <amplink/ipc/ipc_icmsg.h>
#define ONE_TABLE ipc_icmsg_backend
static const struct ipc_service_backend one_ops = IPC_ICMSG_OPS;
#elif AMPL_IPC_ONE_BACKEND == AMPL_IPC_MULTI
#include <amplink/ipc/ipc_multi.h>
#define ONE_TABLE ipc_multi_backend
static const struct ipc_service_backend one_ops = IPC_MULTI_OPS;
#elif AMPL_IPC_ONE_BACKEND == AMPL_IPC_RPMSG
#include <amplink/ipc/ipc_rpmsg.h>
#define ONE_TABLE ipc_rpmsg_backend
static const struct ipc_service_backend one_ops = IPC_RPMSG_OPS;
#elif AMPL_IPC_ONE_BACKEND
#error "AMPL_IPC_ONE_BACKEND: not a backend (AMPL_IPC_ICMSG, AMPL_IPC_MULTI or AMPL_IPC_RPMSG)"
#endif

#ifdef ONE_TABLE
#define HAS_OPS(instance) ((instance)->api == &ONE_TABLE)
#define OPS(instance) (&one_ops)
#else
#define HAS_OPS(instance) ((instance)->api != NULL)
#define OPS(instance) ((const struct ipc_service_backend *)(instance)->api)
#endif

int ipc_service_open_instance(const struct ampl_device *instance)
{
	if (!instance)
		return -EINVAL;
	if (!HAS_OPS(instance))
		return -EIO;
	const struct ipc_service_backend *b = OPS(instance);
	return b->open_instance ? b->open_instance(instance) : 0;
}

int ipc_service_close_instance(const struct ampl_device *instance)
{
	if (!instance)
		return -EINVAL;
	if (!HAS_OPS(instance))
		return -EIO;
	const struct ipc_service_backend *b = OPS(instance);
	return b->close_instance ? b->close_instance(instance) : 0;
}

int ipc_service_register_endpoint(const struct ampl_device *instance, struct ipc_ept *ept,
				  const struct ipc_ept_cfg *cfg)
{
	if (!instance || !ept || !cfg)
		return -EINVAL;
	const struct ipc_service_backend *b = OPS(instance);
	if (!HAS_OPS(instance) || !b->register_endpoint)
		return -EIO;
	ept->instance = instance;
	int ret = b->register_endpoint(instance, &ept->token, cfg);
	if (ret)
		ept->instance = NULL; /* a failed registration leaves the endpoint unregistered */
	return ret;
}

/* The common checks of the calls on a registered endpoint: 0, or the error. */
static int check(const struct ipc_ept *ept)
{
	if (!ept)
		return -EINVAL;
	if (!ept->instance)
		return -ENOENT;
	return HAS_OPS(ept->instance) ? 0 : -EIO;
}

int ipc_service_deregister_endpoint(struct ipc_ept *ept)
{
	int err = check(ept);
	if (err)
		return err;
	const struct ipc_service_backend *b = OPS(ept->instance);
	if (!b->deregister_endpoint)
		return -EIO;
	int ret = b->deregister_endpoint(ept->instance, ept->token);
	if (ret)
		return ret;
	ept->instance = NULL;
	return 0;
}

/*
 * The backend's @send (send or send_nocopy) of @ept while tracing is on. The flag is read before the send, so that
 * the untraced send is a tail call.
 */
AMPL_TRACED_PATH static int send_traced(int (*send)(const struct ampl_device *, void *, const void *, size_t),
					struct ipc_ept *ept, const void *data, size_t len)
{
	int r = send(ept->instance, ept->token, data, len);
	AMPL_TRACE_EMIT(AMPL_EV_IPC_SEND, ept->instance, r);
	return r;
}

int ipc_service_send(struct ipc_ept *ept, const void *data, size_t len)
{
	int err = check(ept);
	if (err)
		return err;
	const struct ipc_service_backend *b = OPS(ept->instance);
	if (!b->send)
		return -EIO;
	if (AMPL_TRACING())
		return send_traced(b->send, ept, data, len);
	return b->send(ept->instance, ept->token, data, len);
}

int ipc_service_get_tx_buffer_size(struct ipc_ept *ept)
{
	int err = check(ept);
	if (err)
		return err;
	const struct ipc_service_backend *b = OPS(ept->instance);
	if (!b->get_tx_buffer_size)
		return -ENOTSUP;
	return b->get_tx_buffer_size(ept->instance, ept->token);
}

int ipc_service_get_tx_buffer(struct ipc_ept *ept, void **data, uint32_t *size, ampl_timeout_t wait)
{
	if (!data || !size)
		return -EINVAL;
	int err = check(ept);
	if (err)
		return err;
	const struct ipc_service_backend *b = OPS(ept->instance);
	if (!b->get_tx_buffer || !b->send_nocopy)
		return -EIO;
	return b->get_tx_buffer(ept->instance, ept->token, data, size, wait);
}

int ipc_service_drop_tx_buffer(struct ipc_ept *ept, const void *data)
{
	if (!data)
		return -EINVAL;
	int err = check(ept);
	if (err)
		return err;
	const struct ipc_service_backend *b = OPS(ept->instance);
	if (!b->drop_tx_buffer)
		return -EIO;
	return b->drop_tx_buffer(ept->instance, ept->token, data);
}

int ipc_service_send_nocopy(struct ipc_ept *ept, const void *data, size_t len)
{
	int err = check(ept);
	if (err)
		return err;
	const struct ipc_service_backend *b = OPS(ept->instance);
	if (!b->get_tx_buffer || !b->send_nocopy)
		return -EIO;
	if (AMPL_TRACING())
		return send_traced(b->send_nocopy, ept, data, len);
	return b->send_nocopy(ept->instance, ept->token, data, len);
}

int ipc_service_hold_rx_buffer(struct ipc_ept *ept, void *data)
{
	int err = check(ept);
	if (err)
		return err;
	const struct ipc_service_backend *b = OPS(ept->instance);
	if (!b->hold_rx_buffer || !b->release_rx_buffer)
		return -EIO;
	return b->hold_rx_buffer(ept->instance, ept->token, data);
}

int ipc_service_release_rx_buffer(struct ipc_ept *ept, void *data)
{
	int err = check(ept);
	if (err)
		return err;
	const struct ipc_service_backend *b = OPS(ept->instance);
	if (!b->hold_rx_buffer || !b->release_rx_buffer)
		return -EIO;
	return b->release_rx_buffer(ept->instance, ept->token, data);
}

/* How often ipc_service_wait_bound() looks: the backends keep their link state in atomics nobody wakes on. */
#define WAIT_BOUND_STEP_US 1000u

int ipc_service_wait_bound(struct ipc_ept *ept, ampl_timeout_t timeout)
{
	int err = check(ept);
	if (err)
		return err;
	const struct ipc_service_backend *b = OPS(ept->instance);
	if (!b->is_bound)
		return -EIO;
	uint64_t end = UINT64_MAX;
	if (timeout.us >= 0)
		end = ampl_os_uptime_us() + (uint64_t)timeout.us;
	for (;;) {
		if (b->is_bound(ept->instance, ept->token))
			return 0;
		uint64_t now = ampl_os_uptime_us();
		if (now >= end)
			return -ETIMEDOUT;
		uint64_t left = end - now;
		_Atomic uint32_t nap = 0; /* nobody changes it: ampl_os_wait() sleeps for the step */
		(void)ampl_os_wait(&nap, 0, left < WAIT_BOUND_STEP_US ? (uint32_t)left : WAIT_BOUND_STEP_US);
	}
}
