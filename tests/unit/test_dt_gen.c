/*
 * `amplink dt gen`: the C generated at build time for RPU0 from dts/zynqmp-apu-rpu0.dts (compiled into this test,
 * tests/CMakeLists.txt) against what the run-time loader reads from the same file: every value, address, size,
 * label and configuration must be the same. tests/cli/test_dt_gen.sh compiles the same output for Cortex-M4 and
 * RV32 with -Werror and checks --map and the errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <amplink/host/dt.h>
#include <amplink/errno.h>

#include <stdlib.h>
#include <string.h>

#include "board_gen.h"

#ifndef AMPL_SOURCE_DIR
#error "AMPL_SOURCE_DIR must name the source tree"
#endif

static struct ampl_dt_board *board;

static int setup(void **state)
{
	(void)state;
	struct ampl_dt_diag diag;
	board = calloc(1, sizeof(*board));
	if (!board)
		return -1;
	/* the generator was given the same path: descriptions do not hold it, messages do */
	return ampl_dt_load_file(AMPL_SOURCE_DIR "/dts/zynqmp-apu-rpu0.dts", NULL, board, &diag);
}

static int teardown(void **state)
{
	(void)state;
	free(board);
	return 0;
}

/* The loader leaves what it wrote first after a string's end (a path is built in place): compare strings as
 * strings, everything else byte for byte. */
static void zero_tail(char *s, size_t n)
{
	size_t len = strnlen(s, n);
	memset(s + len, 0, n - len);
}

static void clean_node(struct ampl_dt_node *n)
{
	zero_tail(n->name, sizeof(n->name));
	zero_tail(n->label, sizeof(n->label));
	zero_tail(n->path, sizeof(n->path));
}

/* A description (its node first) as the generator wrote it and as the loader read it. */
#define SAME_AS_LOADER(generated, loaded)                                                                          \
	do {                                                                                                       \
		_Alignas(8) unsigned char copy_[sizeof(*(loaded))];                                               \
		_Static_assert(offsetof(__typeof__(*(loaded)), node) == 0, "the node comes first");               \
		memcpy(copy_, (loaded), sizeof(copy_));                                                            \
		clean_node((struct ampl_dt_node *)(void *)copy_);                                                  \
		assert_memory_equal((generated), copy_, sizeof(copy_));                                           \
	} while (0)

static const struct ampl_dt_mem *mem(const char *label)
{
	for (unsigned i = 0; i < board->num_mems; i++)
		if (!strcmp(board->mems[i].node.label, label))
			return &board->mems[i];
	fail_msg("no memory region %s", label);
	return NULL;
}

static const struct ampl_dt_ipi_chan *chan(const char *label, const struct ampl_dt_ipi_ctrl **ctrl)
{
	for (unsigned i = 0; i < board->num_ctrls; i++)
		for (unsigned j = 0; j < board->ctrls[i].num_chans; j++)
			if (!strcmp(board->ctrls[i].chans[j].node.label, label)) {
				*ctrl = &board->ctrls[i];
				return &board->ctrls[i].chans[j];
			}
	fail_msg("no IPI destination %s", label);
	return NULL;
}

/* Reserved memory: every region, its description and DT_REG_ADDR / DT_REG_SIZE. */
static void test_memory(void **state)
{
	(void)state;
#define CHECK_MEM(l)                                                                                               \
	do {                                                                                                       \
		const struct ampl_dt_mem *m = mem(#l);                                                             \
		assert_int_equal(DT_REG_ADDR(DT_NODELABEL(l)), m->addr);                                           \
		assert_int_equal(DT_REG_SIZE(DT_NODELABEL(l)), m->size);                                           \
		assert_int_equal(DT_NUM_REGS(DT_NODELABEL(l)), 1);                                                 \
		assert_string_equal(DT_NODE_PATH(DT_NODELABEL(l)), m->node.path);                                  \
		assert_string_equal(DT_NODE_FULL_NAME(DT_NODELABEL(l)), m->node.name);                             \
		SAME_AS_LOADER(AMPL_DT_NODE(DT_NODELABEL(l)), m);                                 \
	} while (0)
	CHECK_MEM(shared_ram);
	CHECK_MEM(icmsg_apu_tx);
	CHECK_MEM(icmsg_rpu0_tx);
	CHECK_MEM(multi_apu_tx);
	CHECK_MEM(multi_rpu1_tx);
	CHECK_MEM(rpmsg_shm);
	assert_int_equal(board->num_mems, 6); /* and there are no others */
}

/* RPU0's IPI destination: registers by index and name, properties, the controller and the IPM device. */
static void test_ipi(void **state)
{
	(void)state;
	const struct ampl_dt_ipi_ctrl *ct;
	const struct ampl_dt_ipi_chan *c = chan("ipi_rpu0_apu", &ct);
#define N DT_NODELABEL(ipi_rpu0_apu)
	struct ampl_dt_ipi_chan cc = *c;
	clean_node(&cc.node);
	for (unsigned i = 0; i < AMPL_DT_MAX_REGS; i++)
		zero_tail(cc.regs[i].name, sizeof(cc.regs[i].name));
	assert_memory_equal(AMPL_DT_NODE(N), &cc, sizeof(cc));
	assert_int_equal(DT_NUM_REGS(N), c->num_regs);
	assert_int_equal(DT_REG_ADDR(N), c->regs[0].addr);
	assert_int_equal(DT_REG_SIZE_BY_IDX(N, 3), c->regs[3].size);
	assert_int_equal(DT_REG_ADDR_BY_NAME(N, local_request_region), c->local_req);
	assert_int_equal(DT_REG_ADDR_BY_NAME(N, local_response_region), c->local_resp);
	assert_int_equal(DT_REG_ADDR_BY_NAME(N, remote_request_region), c->remote_req);
	assert_int_equal(DT_REG_ADDR_BY_NAME(N, remote_response_region), c->remote_resp);
	assert_int_equal(DT_PROP(N, xlnx_ipi_id), c->remote_id);
	assert_int_equal(DT_PROP(DT_NODELABEL(ipi_rpu0), xlnx_ipi_id), ct->local_id);
	assert_int_equal(DT_IRQN(DT_NODELABEL(ipi_rpu0)), ct->irq);
	/* The controller is what the board layer makes of the node, in doorbell mode (RPU0's IPC instances): the
	 * settings constant, the controller and its host zeroed until xlnx_ipi_mbox_setup(). */
	struct xlnx_ipi_host host;
	const struct ampl_io_region regs = { .base = (volatile void *)(uintptr_t)ct->local->ipi->reg_base,
					     .size = AMPL_IPI_REG_SPAN };
	assert_int_equal(xlnx_ipi_host_init(&host, &regs, ct->profile->valid_mask), 0);
	struct xlnx_ipi_mbox want;
	memset(&want, 0, sizeof(want));
	assert_int_equal(ampl_board_ipi_mbox(NULL, c, &host, &want, NULL), 0);
	const struct xlnx_ipi_mbox_config *mc = AMPL_DT_IPI_MBOX_CONFIG(N);
	struct xlnx_ipi_mbox *got = AMPL_DT_IPI_MBOX(N);
	struct xlnx_ipi_mbox zero;
	memset(&zero, 0, sizeof(zero));
	assert_memory_equal(got, &zero, sizeof(zero));
	assert_null(DT_N_S_amba_S_rpu0_mailbox_HOST.regs.base);
	assert_ptr_equal(mc->host, &DT_N_S_amba_S_rpu0_mailbox_HOST);
	assert_ptr_equal(mc->host_regs.base, host.regs.base);
	assert_int_equal(mc->host_regs.size, host.regs.size);
	assert_int_equal(mc->valid_mask, host.valid_mask);
	assert_int_equal(mc->remote_mask, want.remote_mask);
	assert_true(mc->signalling);
	/* set up: the controller and its host as the board layer has them, registered under the node's path */
	assert_int_equal(xlnx_ipi_mbox_setup(got, mc, AMPL_DT_PATH_STR(N)), 0);
	assert_int_equal(got->remote_mask, want.remote_mask);
	assert_int_equal(got->buffered, want.buffered);
	assert_ptr_equal(got->local_req.base, want.local_req.base);
	assert_ptr_equal(got->local_resp.base, want.local_resp.base);
	assert_ptr_equal(got->remote_req.base, want.remote_req.base);
	assert_ptr_equal(got->remote_resp.base, want.remote_resp.base);
	assert_int_equal(got->local_req.size, AMPL_IPI_BUF_SIZE);
	assert_true(atomic_load(&got->signalling));
	assert_ptr_equal(got->host, &DT_N_S_amba_S_rpu0_mailbox_HOST);
	assert_ptr_equal(got->host->regs.base, host.regs.base);
	assert_int_equal(got->host->valid_mask, host.valid_mask);
	assert_ptr_equal(got->ctrl.node, AMPL_DT_PATH_STR(N));
	assert_int_equal(xlnx_ipi_mbox_setup(got, NULL, "x"), -EINVAL);
	assert_int_equal(xlnx_ipi_mbox_setup(NULL, mc, "x"), -EINVAL);
	struct xlnx_ipi_mbox_config no_host = *mc;
	no_host.host = NULL;
	struct xlnx_ipi_mbox other;
	memset(&other, 0, sizeof(other));
	assert_int_equal(xlnx_ipi_mbox_setup(&other, &no_host, "x"), -EINVAL);
	/* The register-level functions' copy of the settings: the same, without the host (not linked through it);
	 * the doorbell function rings through it. */
	const struct xlnx_ipi_mbox_config *ic = AMPL_DT_IPI_CONFIG(N);
	assert_null(ic->host);
	assert_ptr_equal(ic->host_regs.base, mc->host_regs.base);
	assert_int_equal(ic->host_regs.size, mc->host_regs.size);
	assert_int_equal(ic->valid_mask, mc->valid_mask);
	assert_int_equal(ic->remote_mask, mc->remote_mask);
	assert_int_equal(ic->buffered, mc->buffered);
	assert_int_equal(ic->signalling, mc->signalling);
	assert_ptr_equal(ic->local_req.base, mc->local_req.base);
	assert_ptr_equal(ic->local_resp.base, mc->local_resp.base);
	assert_ptr_equal(ic->remote_req.base, mc->remote_req.base);
	assert_ptr_equal(ic->remote_resp.base, mc->remote_resp.base);
	assert_int_equal(ic->remote_resp.size, mc->remote_resp.size);
	assert_ptr_equal(DT_N_S_amba_S_rpu0_mailbox_S_mailbox_ff990080_IPC_DOORBELL.ctx, AMPL_DT_IPI_CONFIG(N));
	xlnx_ipi_mbox_remove(got);
	const struct ampl_device *dev = DEVICE_DT_GET(N);
	assert_string_equal(dev->name, c->node.name);
	assert_string_equal(dev->label, "ipi_rpu0_apu");
	assert_ptr_equal(dev->api, &xlnx_ipi_ipm_api);
	assert_ptr_equal(((const struct xlnx_ipi_ipm_config *)dev->config)->mbox, got);
#undef N
	/* only RPU0's: the APU's controllers and destinations are not generated */
#ifdef DT_N_NODELABEL_ipi_apu_rpu0
	fail_msg("the APU's destination was generated for RPU0");
#endif
#ifdef DT_N_NODELABEL_ipi_apu
	fail_msg("the APU's controller was generated for RPU0");
#endif
}

static void check_consumer(const struct mbox_consumer *got, const struct ampl_dt_consumer *dt)
{
	struct ampl_board_consumer want;
	assert_int_equal(ampl_board_mbox_consumer(dt, "", &want), 0);
	assert_int_equal(got->num_mboxes, want.con.num_mboxes);
	for (unsigned k = 0; k < got->num_mboxes; k++) {
		assert_string_equal(got->mboxes[k].provider, want.specs[k].provider);
		assert_int_equal(got->mboxes[k].nargs, want.specs[k].nargs);
		assert_memory_equal(got->mboxes[k].args, want.specs[k].args, sizeof(want.specs[k].args));
		assert_string_equal(got->mboxes[k].name, want.specs[k].name);
	}
	/* the provider is the controller's own name (one array) */
	assert_ptr_equal(got->mboxes[0].provider, AMPL_DT_PATH_STR(DT_NODELABEL(ipi_rpu0_apu)));
}

/* Field by field: a configuration built by assignment may leave its padding bytes as they were. */
static void check_icmsg_config(const struct icmsg_config *got, const struct icmsg_config *want)
{
	assert_ptr_equal(got->tx_mem, want->tx_mem);
	assert_int_equal(got->tx_size, want->tx_size);
	assert_ptr_equal(got->rx_mem, want->rx_mem);
	assert_int_equal(got->rx_size, want->rx_size);
	assert_int_equal(got->dcache_alignment, want->dcache_alignment);
	assert_int_equal(got->unbound_mode, want->unbound_mode);
	assert_ptr_equal(got->tx_chan, want->tx_chan);
	assert_ptr_equal(got->rx_chan, want->rx_chan);
	assert_ptr_equal(got->mbox_node, want->mbox_node);
	assert_ptr_equal(got->rx_buf, want->rx_buf);
	assert_int_equal(got->rx_buf_size, want->rx_buf_size);
	assert_int_equal(got->peer_rx_max_default, want->peer_rx_max_default);
	assert_int_equal(got->size_ext, want->size_ext);
}

static void check_rpmsg_config(const struct ipc_rpmsg_config *got, const struct ipc_rpmsg_config *want)
{
	assert_int_equal(got->role, want->role);
	assert_ptr_equal(got->shm, want->shm);
	assert_int_equal(got->shm_size, want->shm_size);
	assert_int_equal(got->da_base, want->da_base);
	assert_int_equal(got->vring_num, want->vring_num);
	assert_int_equal(got->vring_align, want->vring_align);
	assert_int_equal(got->h2r_buf_size, want->h2r_buf_size);
	assert_int_equal(got->r2h_buf_size, want->r2h_buf_size);
	assert_ptr_equal(got->tx_chan, want->tx_chan);
	assert_ptr_equal(got->rx_chan, want->rx_chan);
	assert_ptr_equal(got->mbox_node, want->mbox_node);
	assert_ptr_equal(got->error, want->error);
}

/* RPU0's ICMsg instance: properties, phandles, the configuration the board layer makes, the device. */
static void test_icmsg(void **state)
{
	(void)state;
	const struct ampl_dt_icmsg *dt = ampl_dt_find_icmsg(board, "ipc_icmsg_rpu0");
	assert_non_null(dt);
#define N DT_NODELABEL(ipc_icmsg_rpu0)
	SAME_AS_LOADER(AMPL_DT_NODE(N), dt);
	assert_int_equal(DT_PROP(N, dcache_alignment), dt->dcache_alignment);
	assert_int_equal(DT_ENUM_IDX(N, unbound), dt->unbound);
	assert_string_equal(DT_PROP(N, unbound), "disable");
	assert_int_equal(DT_PROP(N, amplink_max_packet_ext), dt->max_packet_ext);
	assert_int_equal(DT_REG_ADDR(DT_PHANDLE(N, tx_region)), dt->tx_addr);
	assert_int_equal(DT_REG_SIZE(DT_PHANDLE(N, rx_region)), dt->rx_size);
	const struct ampl_device *dev = DEVICE_DT_GET(N);
	assert_string_equal(dev->name, dt->node.name);
	assert_string_equal(dev->label, dt->node.label);
	assert_ptr_equal(dev->api, &ipc_icmsg_backend);
	const struct ipc_icmsg_config *got = dev->config;
	uint32_t bufsz;
	assert_int_equal(ampl_board_icmsg_rx_buf_size(NULL, dt, &bufsz), 0);
	assert_int_equal(got->icmsg.rx_buf_size, bufsz); /* no --rx-buf-max: the largest packet */
	struct ipc_icmsg_config want;
	assert_int_equal(ampl_board_icmsg_config(NULL, dt, got->icmsg.mbox_node, got->icmsg.rx_buf, bufsz, &want), 0);
	check_icmsg_config(&got->icmsg, &want.icmsg);
	check_consumer(got->icmsg.mbox_node, &board->consumers[dt->consumer]);
#undef N
#ifdef DT_N_NODELABEL_ipc_icmsg_apu
	fail_msg("the APU's instance was generated for RPU0");
#endif
#ifdef DT_N_NODELABEL_ipc_multi_rpu1
	fail_msg("RPU1's instance was generated for RPU0");
#endif
}

/* RPU0's RPMsg instance. */
static void test_rpmsg(void **state)
{
	(void)state;
	const struct ampl_dt_rpmsg *dt = ampl_dt_find_rpmsg(board, "ipc_rpmsg_rpu0");
	assert_non_null(dt);
#define N DT_NODELABEL(ipc_rpmsg_rpu0)
	SAME_AS_LOADER(AMPL_DT_NODE(N), dt);
	assert_string_equal(DT_PROP(N, role), "remote");
	assert_int_equal(DT_PROP(N, zephyr_buffer_size), dt->buffer_size);
	assert_int_equal(DT_PROP(N, amplink_vring_num), dt->vring_num);
	assert_int_equal(DT_PROP(N, amplink_vring_align), dt->vring_align);
	assert_int_equal(DT_REG_ADDR(DT_PHANDLE(N, memory_region)), dt->addr);
	const struct ampl_device *dev = DEVICE_DT_GET(N);
	assert_string_equal(dev->label, "ipc_rpmsg_rpu0");
	const struct ipc_rpmsg_config *got = dev->config;
	struct ipc_rpmsg_config want;
	assert_int_equal(ampl_board_rpmsg_config(NULL, dt, got->mbox_node, &want), 0);
	check_rpmsg_config(got, &want);
	check_consumer(got->mbox_node, &board->consumers[dt->consumer]);
#undef N
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_ipi),
		cmocka_unit_test(test_icmsg),
		cmocka_unit_test(test_rpmsg),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
