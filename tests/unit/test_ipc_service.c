/*
 * The IPC service front end's own return codes (Zephyr's ipc_service.c behaviour): NULL handles, instances that
 * are not IPC instances, unregistered endpoints, and backends that lack operations (a missing operation is -EIO,
 * zero-copy operations are gated in pairs, open/close without an operation succeed). Backend behaviour is tested
 * by the conformance suite of each backend.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <amplink/ipc_service_backend.h>

static const struct ipc_service_backend empty_backend; /* a backend with no operations at all */
static struct ampl_device_state s1, s2;
static struct ampl_device no_api = { .name = "t-no-api", .state = &s1 };
static struct ampl_device empty = { .name = "t-empty", .api = &empty_backend, .state = &s2 };

struct row {
	const char *id;
	int got, want;
};

static void check(const struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].got != rows[i].want)
			fail_msg("[%s] got %d (%s), want %d (%s)", rows[i].id, rows[i].got, ampl_errname(rows[i].got),
				 rows[i].want, ampl_errname(rows[i].want));
}

static void test_front_end_codes(void **state)
{
	(void)state;
	struct ipc_ept ept = { 0 }, reg_none = { .instance = &no_api }, reg_empty = { .instance = &empty };
	struct ipc_ept_cfg cfg = { .name = "e" };
	void *data = NULL;
	uint32_t size = 0;
	char buf[4];
	const struct row rows[] = {
		{ "O1 open NULL", ipc_service_open_instance(NULL), -EINVAL },
		{ "O2 open no backend", ipc_service_open_instance(&no_api), -EIO },
		{ "O3 open without op", ipc_service_open_instance(&empty), 0 },
		{ "C1 close NULL", ipc_service_close_instance(NULL), -EINVAL },
		{ "C2 close no backend", ipc_service_close_instance(&no_api), -EIO },
		{ "C3 close without op", ipc_service_close_instance(&empty), 0 },
		{ "R1 register NULL instance", ipc_service_register_endpoint(NULL, &ept, &cfg), -EINVAL },
		{ "R2 register NULL ept", ipc_service_register_endpoint(&empty, NULL, &cfg), -EINVAL },
		{ "R3 register NULL cfg", ipc_service_register_endpoint(&empty, &ept, NULL), -EINVAL },
		{ "R4 register no backend", ipc_service_register_endpoint(&no_api, &ept, &cfg), -EIO },
		{ "R5 register without op", ipc_service_register_endpoint(&empty, &ept, &cfg), -EIO },
		{ "D1 deregister NULL", ipc_service_deregister_endpoint(NULL), -EINVAL },
		{ "D2 deregister unregistered", ipc_service_deregister_endpoint(&ept), -ENOENT },
		{ "D3 deregister no backend", ipc_service_deregister_endpoint(&reg_none), -EIO },
		{ "D4 deregister without op", ipc_service_deregister_endpoint(&reg_empty), -EIO },
		{ "S1 send NULL", ipc_service_send(NULL, buf, 1), -EINVAL },
		{ "S2 send unregistered", ipc_service_send(&ept, buf, 1), -ENOENT },
		{ "S3 send no backend", ipc_service_send(&reg_none, buf, 1), -EIO },
		{ "S4 send without op", ipc_service_send(&reg_empty, buf, 1), -EIO },
		{ "Z1 size NULL", ipc_service_get_tx_buffer_size(NULL), -EINVAL },
		{ "Z2 size unregistered", ipc_service_get_tx_buffer_size(&ept), -ENOENT },
		{ "Z3 size without op", ipc_service_get_tx_buffer_size(&reg_empty), -ENOTSUP },
		{ "G1 get NULL ept", ipc_service_get_tx_buffer(NULL, &data, &size, AMPL_NO_WAIT), -EINVAL },
		{ "G2 get NULL data", ipc_service_get_tx_buffer(&reg_empty, NULL, &size, AMPL_NO_WAIT), -EINVAL },
		{ "G3 get NULL size", ipc_service_get_tx_buffer(&reg_empty, &data, NULL, AMPL_NO_WAIT), -EINVAL },
		{ "G4 get unregistered", ipc_service_get_tx_buffer(&ept, &data, &size, AMPL_NO_WAIT), -ENOENT },
		{ "G5 get without ops", ipc_service_get_tx_buffer(&reg_empty, &data, &size, AMPL_NO_WAIT), -EIO },
		{ "P1 drop NULL data", ipc_service_drop_tx_buffer(&reg_empty, NULL), -EINVAL },
		{ "P2 drop unregistered", ipc_service_drop_tx_buffer(&ept, buf), -ENOENT },
		{ "P3 drop without op", ipc_service_drop_tx_buffer(&reg_empty, buf), -EIO },
		{ "N1 nocopy NULL", ipc_service_send_nocopy(NULL, buf, 1), -EINVAL },
		{ "N2 nocopy unregistered", ipc_service_send_nocopy(&ept, buf, 1), -ENOENT },
		{ "N3 nocopy without ops", ipc_service_send_nocopy(&reg_empty, buf, 1), -EIO },
		{ "H1 hold NULL", ipc_service_hold_rx_buffer(NULL, buf), -EINVAL },
		{ "H2 hold unregistered", ipc_service_hold_rx_buffer(&ept, buf), -ENOENT },
		{ "H3 hold without ops", ipc_service_hold_rx_buffer(&reg_empty, buf), -EIO },
		{ "L1 release NULL", ipc_service_release_rx_buffer(NULL, buf), -EINVAL },
		{ "L2 release unregistered", ipc_service_release_rx_buffer(&ept, buf), -ENOENT },
		{ "L3 release without ops", ipc_service_release_rx_buffer(&reg_empty, buf), -EIO },
	};
	check(rows, AMPL_ARRAY_SIZE(rows));
	/* A failed registration leaves the endpoint unregistered. */
	assert_null(ept.instance);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_front_end_codes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
