/*
 * Board layer (include/amplink/board.h): the default board's nodes, as the loader reads them, turned into driver and
 * backend configurations with the caller's memory, through an identity view and through an address window.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <amplink/board.h>
#include <amplink/host/dt.h>
#include <amplink/errno.h>
#include <amplink/ipc/pbuf.h>

#include <stdlib.h>
#include <string.h>

static struct ampl_dt_board *board;

static int setup(void **state)
{
	(void)state;
	struct ampl_dt_diag diag;
	board = calloc(1, sizeof(*board));
	if (!board)
		return -1;
	return ampl_dt_load_blob(ampl_default_board_dtb, ampl_default_board_dtb_size, "default board", NULL, board,
				 &diag);
}

static int teardown(void **state)
{
	(void)state;
	free(board);
	return 0;
}

/* A window: physical [base, base + size) appears at local + (addr - base); anything else is unreachable. */
struct window {
	uint64_t base, size;
	uintptr_t local;
	unsigned calls;
};

static volatile void *window_map(void *ctx, uint64_t addr, uint64_t size)
{
	struct window *w = ctx;
	w->calls++;
	if (addr < w->base || size > w->size || addr - w->base > w->size - size)
		return NULL;
	return (volatile void *)(w->local + (uintptr_t)(addr - w->base));
}

static void test_icmsg_config(void **state)
{
	(void)state;
	const struct ampl_dt_icmsg *dt = ampl_dt_find_icmsg(board, "ipc_icmsg_rpu0");
	assert_non_null(dt);
	/* a window over the shared RAM, at a local address the rings fit in */
	static _Alignas(64) uint8_t ram[0x40000];
	struct window w = { .base = 0x3ed40000u, .size = 0x10000, .local = (uintptr_t)ram };
	struct ampl_board_mem mem = { .map = window_map, .ctx = &w };
	uint32_t bufsz = 0;
	assert_int_equal(ampl_board_icmsg_rx_buf_size(&mem, dt, &bufsz), 0);
	/* 0x8000 bytes, dcache-alignment 64, no handshake: the largest packet the ring's data area takes, which is
	 * what the simulation allocated before the board layer existed */
	assert_int_equal(bufsz, PBUF_MAX_PAYLOAD(0x8000 - PBUF_DATA_OFF(64, false)));
	static uint8_t rx_buf[0x8000];
	struct ampl_board_consumer bc;
	const struct ampl_dt_consumer *con = &board->consumers[dt->consumer];
	assert_int_equal(ampl_board_mbox_consumer(con, "", &bc), 0);
	struct ipc_icmsg_config cfg;
	assert_int_equal(ampl_board_icmsg_config(&mem, dt, &bc.con, rx_buf, bufsz, &cfg), 0);
	assert_ptr_equal(cfg.icmsg.tx_mem, ram + 0x8000); /* icmsg_rpu0_tx@3ed48000 */
	assert_ptr_equal(cfg.icmsg.rx_mem, ram);          /* icmsg_apu_tx@3ed40000 */
	assert_int_equal(cfg.icmsg.tx_size, 0x8000);
	assert_int_equal(cfg.icmsg.rx_size, 0x8000);
	assert_int_equal(cfg.icmsg.dcache_alignment, 64);
	assert_int_equal(cfg.icmsg.unbound_mode, ICMSG_UNBOUND_MODE_DISABLE);
	assert_true(cfg.icmsg.size_ext);
	assert_ptr_equal(cfg.icmsg.rx_buf, rx_buf);
	assert_int_equal(cfg.icmsg.rx_buf_size, bufsz);
	assert_ptr_equal(cfg.icmsg.mbox_node, &bc.con);
	/* too small a receive buffer, and a window that does not hold the rings */
	assert_int_equal(ampl_board_icmsg_config(&mem, dt, &bc.con, rx_buf, ICMSG_MIN_RX_BUF - 1, &cfg), -EINVAL);
	w.size = 0x8000;
	assert_int_equal(ampl_board_icmsg_config(&mem, dt, &bc.con, rx_buf, bufsz, &cfg), -EINVAL);
	assert_int_equal(ampl_board_icmsg_rx_buf_size(&mem, dt, &bufsz), 0); /* the rx ring is still in it */
}

static void test_consumer(void **state)
{
	(void)state;
	const struct ampl_dt_icmsg *dt = ampl_dt_find_icmsg(board, "ipc_icmsg_apu");
	assert_non_null(dt);
	struct ampl_board_consumer bc;
	assert_int_equal(ampl_board_mbox_consumer(&board->consumers[dt->consumer], "soc1:", &bc), 0);
	assert_string_equal(bc.con.name, "/ipc-icmsg-apu");
	assert_int_equal(bc.con.num_mboxes, 2);
	assert_string_equal(bc.specs[0].provider, "soc1:/amba/apu-mailbox/mailbox@ff990400");
	assert_string_equal(bc.specs[0].name, "tx");
	assert_int_equal(bc.specs[0].nargs, 1);
	assert_int_equal(bc.specs[0].args[0], 0);
	assert_string_equal(bc.specs[1].name, "rx");
	assert_int_equal(bc.specs[1].args[0], 1);
	/* a prefix that leaves no room for the path */
	char prefix[AMPL_BOARD_PROVIDER_MAX];
	memset(prefix, 'x', sizeof(prefix) - 10);
	prefix[sizeof(prefix) - 10] = 0;
	assert_int_equal(ampl_board_mbox_consumer(&board->consumers[dt->consumer], prefix, &bc), -ENOSPC);
}

static void test_ipc_mbox(void **state)
{
	(void)state;
	const struct ampl_soc_agent *apu = ampl_soc_agent_by_name(board->profile, "apu");
	const struct ampl_soc_agent *rpu0 = ampl_soc_agent_by_name(board->profile, "rpu0");
	const struct ampl_dt_icmsg *dt = ampl_dt_find_icmsg(board, "ipc_icmsg_rpu0");
	const char *why = NULL;
	struct ampl_board_ipc_mbox m;
	assert_int_equal(ampl_board_ipc_mbox(board, dt->consumer, dt->tx_mbox, dt->rx_mbox, rpu0, &m, &why), 0);
	const struct ampl_dt_ipi_chan *c = m.ipi;
	assert_non_null(c);
	assert_null(m.ctrl);
	assert_string_equal(c->node.path, "/amba/rpu0-mailbox/mailbox@ff990080");
	assert_ptr_equal(c->remote, apu);
	/* the APU cannot run RPU0's instance */
	assert_int_equal(ampl_board_ipc_mbox(board, dt->consumer, dt->tx_mbox, dt->rx_mbox, apu, &m, &why), -EPERM);
	assert_null(m.ipi);
	assert_string_equal(m.owner, rpu0->name);
	assert_non_null(strstr(why, "another agent"));
	/* "tx" and "rx" on two destinations */
	assert_int_equal(ampl_board_ipc_mbox(board, dt->consumer, dt->tx_mbox, dt->tx_mbox, rpu0, &m, &why), 0);
	assert_non_null(m.ipi); /* both entries name the same destination: fine */
	const struct ampl_dt_consumer *client = ampl_dt_find_consumer(board, "ipi_client_apu");
	unsigned ci = (unsigned)(client - board->consumers);
	assert_int_equal(ampl_board_ipc_mbox(board, ci, 0, 2, apu, &m, &why), -EINVAL); /* rpu0 and rpu1 */
	assert_null(m.ipi);
	assert_non_null(strstr(why, "both channels of one IPI destination"));
	assert_int_equal(ampl_board_ipc_mbox(board, board->num_consumers, 0, 1, apu, &m, &why), -EINVAL);
	assert_null(m.ipi);
}

static void test_ipi_mbox(void **state)
{
	(void)state;
	const struct ampl_soc_agent *apu = ampl_soc_agent_by_name(board->profile, "apu");
	const struct ampl_soc_agent *rpu0 = ampl_soc_agent_by_name(board->profile, "rpu0");
	const struct ampl_dt_ipi_chan *dt = ampl_dt_find_chan(board, rpu0->id, apu->id, NULL);
	assert_non_null(dt);
	/* the node and the profile's layout agree on the default board */
	struct ampl_dt_ipi_chan prof;
	ampl_board_ipi_chan_from_profile(board->profile, rpu0, apu, &prof);
	assert_true(prof.buffered);
	assert_int_equal(prof.local_req, dt->local_req);
	assert_int_equal(prof.local_resp, dt->local_resp);
	assert_int_equal(prof.remote_req, dt->remote_req);
	assert_int_equal(prof.remote_resp, dt->remote_resp);
	static uint8_t bufram[0x1000];
	struct window w = { .base = board->profile->buf_base, .size = sizeof(bufram), .local = (uintptr_t)bufram };
	struct ampl_board_mem mem = { .map = window_map, .ctx = &w };
	struct xlnx_ipi_host host;
	struct xlnx_ipi_mbox mbox;
	memset(&mbox, 0, sizeof(mbox));
	uint64_t bad = 0;
	assert_int_equal(ampl_board_ipi_mbox(&mem, dt, &host, &mbox, &bad), 0);
	assert_ptr_equal(mbox.host, &host);
	assert_int_equal(mbox.remote_mask, ampl_ipi_mask(apu));
	assert_true(mbox.buffered);
	assert_ptr_equal(mbox.local_req.base, bufram + (dt->local_req - w.base));
	assert_ptr_equal(mbox.remote_resp.base, bufram + (dt->remote_resp - w.base));
	assert_int_equal(mbox.local_resp.size, AMPL_IPI_BUF_SIZE);
	/* a buffer outside the window is named */
	w.size = dt->remote_req - w.base;
	memset(&mbox, 0, sizeof(mbox));
	assert_int_equal(ampl_board_ipi_mbox(&mem, dt, &host, &mbox, &bad), -EINVAL);
	assert_int_equal(bad, dt->remote_req);
	/* a profile pair without buffers (the PMU's doorbell-only agents on ZynqMP have none) stays unbuffered */
	const struct ampl_soc_agent *pmu = NULL;
	for (unsigned i = 0; i < board->profile->num_agents; i++)
		if (board->profile->agents[i].ipi->buf_slot == AMPL_IPI_NO_BUFFER)
			pmu = &board->profile->agents[i];
	if (pmu) {
		ampl_board_ipi_chan_from_profile(board->profile, rpu0, pmu, &prof);
		assert_false(prof.buffered);
		memset(&mbox, 0, sizeof(mbox));
		assert_int_equal(ampl_board_ipi_mbox(&mem, &prof, &host, &mbox, &bad), 0);
		assert_false(mbox.buffered);
		assert_null(mbox.local_req.base);
	}
}

static void test_multi_rpmsg_config(void **state)
{
	(void)state;
	const struct ampl_dt_ipc_multi *mdt = ampl_dt_find_ipc_multi(board, "ipc_multi_rpu1");
	const struct ampl_dt_rpmsg *rdt = ampl_dt_find_rpmsg(board, "ipc_rpmsg_rpu0");
	assert_non_null(mdt);
	assert_non_null(rdt);
	struct ampl_board_consumer bc;
	assert_int_equal(ampl_board_mbox_consumer(&board->consumers[mdt->base.consumer], "", &bc), 0);
	/* identity view (NULL): the addresses as they are */
	struct ipc_multi_config mc;
	assert_int_equal(ampl_board_ipc_multi_config(NULL, mdt, &bc.con, &mc), 0);
	assert_ptr_equal(mc.tx_mem, (void *)(uintptr_t)0x3ed60000u);
	assert_ptr_equal(mc.rx_mem, (void *)(uintptr_t)0x3ed50000u);
	assert_int_equal(mc.tx_size, 0x10000);
	assert_int_equal(mc.block_count, 32);
	assert_int_equal(mc.block_size, mdt->block_size);
	assert_int_equal(mc.dcache_alignment, 64);
	struct ipc_rpmsg_config rc;
	assert_int_equal(ampl_board_rpmsg_config(NULL, rdt, &bc.con, &rc), 0);
	assert_int_equal(rc.role, RPMSG_REMOTE);
	assert_ptr_equal(rc.shm, (void *)(uintptr_t)0x3ed80000u);
	assert_int_equal(rc.da_base, 0x3ed80000u);
	assert_int_equal(rc.shm_size, 0x40000);
	assert_int_equal(rc.vring_num, AMPL_DT_RPMSG_VRING_NUM_DEFAULT);
	assert_int_equal(rc.vring_align, AMPL_DT_RPMSG_VRING_ALIGN_DEFAULT);
	assert_int_equal(rc.h2r_buf_size, AMPL_DT_RPMSG_BUF_DEFAULT);
	assert_int_equal(rc.r2h_buf_size, AMPL_DT_RPMSG_BUF_DEFAULT);
	/* a window elsewhere: the device address stays the SoC's, the pointer is the window's */
	static uint8_t shm[0x40000];
	struct window w = { .base = 0x3ed80000u, .size = sizeof(shm), .local = (uintptr_t)shm };
	struct ampl_board_mem mem = { .map = window_map, .ctx = &w };
	assert_int_equal(ampl_board_rpmsg_config(&mem, rdt, &bc.con, &rc), 0);
	assert_ptr_equal(rc.shm, shm);
	assert_int_equal(rc.da_base, 0x3ed80000u);
	/* a region above 4 GiB cannot be in a resource table */
	struct ampl_dt_rpmsg high = *rdt;
	high.addr = 0x100000000ull;
	assert_int_equal(ampl_board_rpmsg_config(NULL, &high, &bc.con, &rc), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_icmsg_config),
		cmocka_unit_test(test_consumer),
		cmocka_unit_test(test_ipc_mbox),
		cmocka_unit_test(test_ipi_mbox),
		cmocka_unit_test(test_multi_rpmsg_config),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
