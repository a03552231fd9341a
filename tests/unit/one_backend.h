/*
 * The check of a test image built with AMPL_IPC_ONE_BACKEND (<amplink/ipc_service_backend.h>), included by the
 * tests of each backend: the backend's table holds no operation, so the suite's IPC service calls, which pass,
 * went to the backend directly; and an instance of another backend is refused as one without a table is.
 */
#ifndef AMPL_TEST_ONE_BACKEND_H
#define AMPL_TEST_ONE_BACKEND_H

#include <amplink/ipc_service_backend.h>

#if AMPL_IPC_ONE_BACKEND

static int one_backend_never_open(const struct ampl_device *instance)
{
	(void)instance;
	fail_msg("the front end called another backend's operation");
	return 0;
}

static int one_backend_never_register(const struct ampl_device *instance, void **token, const struct ipc_ept_cfg *cfg)
{
	(void)token;
	(void)cfg;
	return one_backend_never_open(instance);
}

static int one_backend_never_send(const struct ampl_device *instance, void *token, const void *data, size_t len)
{
	(void)token;
	(void)data;
	(void)len;
	return one_backend_never_open(instance);
}

static void check_one_backend(const struct ipc_service_backend *table)
{
	static const struct ipc_service_backend none;
	assert_memory_equal(table, &none, sizeof(none));

	static const struct ipc_service_backend other = {
		.open_instance = one_backend_never_open,
		.close_instance = one_backend_never_open,
		.register_endpoint = one_backend_never_register,
		.send = one_backend_never_send,
	};
	struct ampl_device dev = { .name = "other-backend", .api = &other };
	assert_int_equal(ipc_service_open_instance(&dev), -EIO);
	assert_int_equal(ipc_service_close_instance(&dev), -EIO);
	struct ipc_ept ept = { 0 };
	struct ipc_ept_cfg cfg = { .name = "e" };
	assert_int_equal(ipc_service_register_endpoint(&dev, &ept, &cfg), -EIO);
	assert_null(ept.instance);
	ept.instance = &dev;
	assert_int_equal(ipc_service_send(&ept, "x", 1), -EIO);
	assert_int_equal(ipc_service_deregister_endpoint(&ept), -EIO);
}

#endif /* AMPL_IPC_ONE_BACKEND */

#endif /* AMPL_TEST_ONE_BACKEND_H */
