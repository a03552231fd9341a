/*
 * A fourth IPC backend from one folder: the loopback backend of this folder (loop.h, loop.c, bind_loop.c) is
 * compiled into this program only, registered through the library's registries (ampl_registries(), cmake/
 * registry.cmake) and opened on the virtual SoC from its devicetree node by the same call as the library's
 * backends; `amplink dt gen` writes its firmware configuration through its binding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <amplink/host/dt.h>
#include <amplink/host/soc.h>
#include <amplink/ipc_service.h>

#include "loop.h"

static const char *const dts_dirs[] = { AMPL_SOURCE_DIR "/dts" };
static const struct ampl_dt_load_opts dts_opts = { .include_dirs = dts_dirs, .num_include_dirs = 1 };
#define BOARD AMPL_SOURCE_DIR "/tests/integration/ipc_loop/loop-board.dts"

static char got[64];
static size_t got_len;
static int bound;

static void on_bound(void *priv)
{
	(void)priv;
	bound++;
}

static void on_received(const void *data, size_t len, void *priv)
{
	(void)priv;
	got_len = len < sizeof(got) ? len : sizeof(got);
	memcpy(got, data, got_len);
}

/* The loader reads the node through the binding of this folder: one IPC instance more, with its part. */
static void test_loader(void **state)
{
	(void)state;
	struct ampl_dt_board *b = calloc(1, sizeof(*b));
	struct ampl_dt_diag diag;
	assert_non_null(b);
	int ret = ampl_dt_load_file_opts(BOARD, &dts_opts, NULL, b, &diag);
	if (ret)
		fprintf(stderr, "%s\n", diag.msg);
	assert_int_equal(ret, 0);
	const struct ampl_dt_ipc *ipc = ampl_dt_find_ipc(b, "ipc_loop");
	assert_non_null(ipc);
	assert_string_equal(ipc->compatible, LOOP_COMPATIBLE);
	assert_string_equal(ipc->node.path, "/ipc-loop");
	assert_string_equal(b->consumers[ipc->consumer].mboxes[ipc->tx_mbox].name, "tx");
	const struct loop_node *n = (const struct loop_node *)ipc->part.bytes;
	assert_int_equal(n->tag, 42);
	assert_int_equal(n->addr, 0x3ed00000);
	assert_int_equal(n->size, 0x40000);
	/* the library's backends are in the same array */
	assert_non_null(ampl_dt_find_ipc(b, "ipc_icmsg_apu"));
	assert_string_equal(ampl_dt_find_ipc(b, "ipc_rpmsg_apu")->compatible, "zephyr,ipc-openamp-static-vrings");
	free(b);
}

/* Opened on the virtual SoC by ampl_agent_ipc_instance(), as ICMsg is: a message goes through the region. */
static void test_open_on_soc(void **state)
{
	(void)state;
	void *dtb;
	size_t size;
	struct ampl_dt_diag diag;
	assert_int_equal(ampl_dt_read_file_opts(BOARD, &dts_opts, &dtb, &size, &diag), 0);
	char name[64];
	snprintf(name, sizeof(name), "t-ipc-loop-%d", (int)getpid());
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, dtb, size), 0);
	free(dtb);
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	int ret = ampl_agent_attach(soc, "apu", NULL, &ag);
	assert_int_equal(ret, 0);
	const struct ampl_device *dev;
	ret = ampl_agent_ipc_instance(ag, "ipc_loop", &dev);
	if (ret)
		fprintf(stderr, "%s\n", ampl_soc_last_error());
	assert_int_equal(ret, 0);
	assert_ptr_equal(dev->api, &loop_backend);
	assert_string_equal(dev->name, "ipc-loop");
	const struct loop_config *cfg = dev->config;
	assert_int_equal(cfg->tag, 42);
	assert_int_equal(cfg->size, 0x40000);
	assert_ptr_equal(cfg->region, ampl_soc_phys(soc, 0x3ed00000, 0x40000));
	const struct ampl_device *again;
	assert_int_equal(ampl_agent_ipc_instance(ag, "/ipc-loop", &again), 0);
	assert_ptr_equal(again, dev);
	assert_int_equal(ampl_device_get_binding("ipc_loop") == dev, 1);

	struct ipc_ept ept = { 0 };
	struct ipc_ept_cfg ecfg = { .name = "loop", .cb = { .bound = on_bound, .received = on_received } };
	assert_int_equal(ipc_service_open_instance(dev), 0);
	assert_int_equal(ipc_service_register_endpoint(dev, &ept, &ecfg), 0);
	assert_int_equal(bound, 1);
	assert_int_equal(ipc_service_send(&ept, "through the region", 18), 18);
	assert_int_equal(got_len, 18);
	assert_memory_equal(got, "through the region", 18);
	assert_memory_equal((const void *)cfg->region, "through the region", 18);

	/* the library's backends still open by the same call */
	assert_int_equal(ampl_agent_ipc_instance(ag, "ipc_icmsg_apu", &again), 0);
	assert_ptr_not_equal(again, dev);
	assert_int_equal(ampl_agent_ipc_instance(ag, "no-such-node", &again), -ENOENT);
	assert_non_null(strstr(ampl_soc_last_error(), LOOP_COMPATIBLE));
	ampl_agent_detach(ag); /* closes the instance through the backend's close hook */
	assert_null(ampl_device_get_binding("ipc_loop"));
	ampl_soc_close(soc);
	assert_int_equal(ampl_soc_destroy(name), 0);
}

/* `amplink dt gen` writes its configuration and device through its binding. */
static void test_dt_gen(void **state)
{
	(void)state;
	struct ampl_dt_board *b = calloc(1, sizeof(*b));
	struct ampl_dt_diag diag;
	assert_non_null(b);
	assert_int_equal(ampl_dt_load_file_opts(BOARD, &dts_opts, NULL, b, &diag), 0);
	char *hbuf = NULL, *cbuf = NULL;
	size_t hlen = 0, clen = 0;
	FILE *h = open_memstream(&hbuf, &hlen), *c = open_memstream(&cbuf, &clen);
	struct ampl_dt_gen_opts o = { .agent = "apu", .header_name = "board_gen.h" };
	int ret = ampl_dt_gen(b, &o, h, c, &diag);
	if (ret)
		fprintf(stderr, "%s\n", diag.msg);
	assert_int_equal(ret, 0);
	fclose(h);
	fclose(c);
	assert_non_null(strstr(hbuf, "#define DT_N_S_ipc_loop_P_amplink_loop_tag 0x2au\n"));
	assert_non_null(strstr(hbuf, "#define DT_N_NODELABEL_ipc_loop DT_N_S_ipc_loop\n"));
	assert_non_null(strstr(cbuf, "static const struct loop_config DT_N_S_ipc_loop_CONFIG"));
	assert_non_null(strstr(cbuf, "AMPL_DEVICE_DEFINE(DT_N_S_ipc_loop_DEVICE, DT_N_S_ipc_loop_NAME_STR, "
				     "DT_N_S_ipc_loop_LABEL_STR, NULL, &loop_backend"));
	/* not the RPU0's: its mailboxes are the APU's */
	o.agent = "rpu0";
	free(hbuf);
	free(cbuf);
	h = open_memstream(&hbuf, &hlen);
	c = open_memstream(&cbuf, &clen);
	assert_int_equal(ampl_dt_gen(b, &o, h, c, &diag), 0);
	fclose(h);
	fclose(c);
	assert_null(strstr(hbuf, "DT_N_S_ipc_loop"));
	free(hbuf);
	free(cbuf);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loader),
		cmocka_unit_test(test_open_on_soc),
		cmocka_unit_test(test_dt_gen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
