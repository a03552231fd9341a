/*
 * A third mailbox controller from one folder: the loopback controller of this folder (mbox_loop.h, its driver,
 * its register model and device in mbox_loop.c, its binding in bind_mbox_loop.c) is compiled into this program
 * only and registered through the library's registries (ampl_registries(), cmake/registry.cmake). It is loaded from
 * its devicetree node, opened by the agent that owns it on the virtual SoC, a client's channels of it carry a
 * word, traces name it, detach closes it, and `amplink dt gen` writes it for its agent's firmware. IPC instances
 * name its channels like an IPI destination's: two ICMsg instances of its agent, each the other's peer, exchange
 * messages through it. The library's Messaging Unit carries ICMsg the same way (its doorbell channels).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <amplink/board.h>
#include <amplink/errno.h>
#include <amplink/host/dt.h>
#include <amplink/host/soc.h>
#include <amplink/host/soc_trace.h>
#include <amplink/ipc_service.h>
#include <amplink/mailbox_client.h>
#include <amplink/trace.h>

#include "mbox_loop.h"
#include "sim/ctrl.h"

static const char *const dts_dirs[] = { AMPL_SOURCE_DIR "/dts" };
static const struct ampl_dt_load_opts dts_opts = { .include_dirs = dts_dirs, .num_include_dirs = 1 };
#define BOARD AMPL_SOURCE_DIR "/tests/integration/ctrl_loop/ctrl-loop-board.dts"

static _Atomic uint32_t got;
static atomic_int received, sent;

static void on_rx(struct mbox_client *cl, void *mssg)
{
	(void)cl;
	atomic_store(&got, *(const uint32_t *)mssg);
	atomic_fetch_add(&received, 1);
}

static void on_tx_done(struct mbox_client *cl, void *mssg, int r)
{
	(void)cl;
	(void)mssg;
	if (!r)
		atomic_fetch_add(&sent, 1);
}

/* Bounded wait for *@v to reach @want (the interrupt thread or the framework's poll ticker delivers). */
static void wait_for(atomic_int *v, int want)
{
	for (int i = 0; i < 10000 && atomic_load(v) < want; i++)
		usleep(1000);
	assert_int_equal(atomic_load(v), want);
}

static struct ampl_dt_board *load(const char *path, const struct ampl_soc_profile *p, int expect,
				  struct ampl_dt_diag *diag)
{
	struct ampl_dt_board *b = calloc(1, sizeof(*b));
	assert_non_null(b);
	int ret = ampl_dt_load_file_opts(path, &dts_opts, p, b, diag);
	if (ret != expect)
		fprintf(stderr, "%s\n", diag->msg);
	assert_int_equal(ret, expect);
	return b;
}

/* The loader reads the node through the binding of this folder: one controller more, with its part, in the same
 * array as the library's Messaging Units. */
static void test_loader(void **state)
{
	(void)state;
	struct ampl_dt_diag diag;
	struct ampl_dt_board *b = load(BOARD, NULL, 0, &diag);
	const struct ampl_dt_mbox_ctrl *e = ampl_dt_find_mbox_ctrl(b, "mbox_loop0");
	assert_non_null(e);
	assert_ptr_equal(ampl_dt_find_mbox_ctrl(b, "/mailbox@a0000000"), e);
	assert_string_equal(e->compatible, MBOX_LOOP_COMPATIBLE);
	assert_int_equal(e->addr, 0xa0000000);
	assert_int_equal(e->size, 0x1000);
	assert_int_equal(e->irq, 90);
	assert_true(e->okay);
	assert_string_equal(e->agent, "apu");
	assert_null(ampl_dt_find_mbox_ctrl(b, "ipi_apu")); /* the IPI is the SoC's base block: ctrls[] */
	const struct ampl_dt_consumer *con = ampl_dt_find_consumer(b, "loop_client");
	assert_non_null(con);
	assert_string_equal(con->mboxes[1].provider, "/mailbox@a0000000");
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	ampl_dt_print(b, out);
	fclose(out);
	assert_non_null(strstr(text, "loop  apu       0xa0000000 size 0x1000     okay  /mailbox@a0000000\n"));
	free(text);
	free(b);

	/* The library's Messaging Units are in the array too (their typed description: mus[], by index). */
	b = load(AMPL_SOURCE_DIR "/dts/seeds/imx-mu.dts", &ampl_soc_imx, 0, &diag);
	e = ampl_dt_find_mbox_ctrl(b, "ipm0");
	assert_non_null(e);
	assert_string_equal(e->compatible, "nxp,imx-mu");
	assert_int_equal(e->addr, b->mus[e->index].addr);
	assert_int_equal(b->num_mbox_ctrls, b->num_mus);
	free(b);

	/* Its binding's errors name the node and the property. */
	char bad[] = "/tmp/ctrl-loop-XXXXXX.dts";
	int fd = mkstemps(bad, 4);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fprintf(f, "/dts-v1/;\n/ { #address-cells = <1>; #size-cells = <1>;\n"
		   "\tm: mailbox@a0000000 { compatible = \"amplink,mbox-loop\"; reg = <0xa0000000 0x100>;"
		   " #mbox-cells = <1>; };\n};\n");
	fclose(f);
	b = load(bad, &ampl_soc_zynqmp, -EINVAL, &diag);
	unlink(bad);
	assert_non_null(strstr(diag.msg, "/mailbox@a0000000: amplink,agent: missing"));
	free(b);
}

static bool has_obj(struct ampl_trace_reader *r, unsigned agent, const char *kind, const char *name)
{
	for (unsigned i = 0; i < ampl_trace_reader_objs(r, agent); i++) {
		char n[128], k[32];
		if (!ampl_trace_reader_obj(r, agent, i, n, sizeof(n), k, sizeof(k)) && !strcmp(k, kind) &&
		    strstr(n, name))
			return true;
	}
	return false;
}

/* A SoC of @profile named "<prefix>-<pid>" (into @name, 64 bytes) from the devicetree @dts, opened. */
static struct ampl_soc *create_soc(const char *dts, const struct ampl_soc_profile *profile, const char *prefix,
				   char *name)
{
	void *dtb;
	size_t size;
	struct ampl_dt_diag diag;
	assert_int_equal(ampl_dt_read_file_opts(dts, &dts_opts, &dtb, &size, &diag), 0);
	snprintf(name, 64, "%s-%d", prefix, (int)getpid());
	assert_int_equal(ampl_soc_create(name, profile, dtb, size), 0);
	free(dtb);
	struct ampl_soc *soc;
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	return soc;
}

/* Opened by its agent at attach through its model's device hook; a client's channels carry a word through the
 * modelled registers and the agent's interrupt; traces name it; detach closes it. */
static void test_on_soc(void **state)
{
	(void)state;
	char name[64], node[128];
	struct ampl_soc *soc = create_soc(BOARD, &ampl_soc_zynqmp, "t-ctrl-loop", name);
	snprintf(node, sizeof(node), "%s:/mailbox@a0000000", name);
	struct ampl_agent *apu, *rpu0;
	int ret = ampl_agent_attach(soc, "apu", NULL, &apu);
	if (ret)
		fprintf(stderr, "%s\n", ampl_soc_last_error());
	assert_int_equal(ret, 0);
	assert_int_equal(ampl_agent_attach(soc, "rpu0", NULL, &rpu0), 0);

	struct mbox_controller *mbox;
	ret = ampl_agent_mbox_of(apu, "mbox_loop0", &mbox);
	if (ret)
		fprintf(stderr, "%s\n", ampl_soc_last_error());
	assert_int_equal(ret, 0);
	assert_string_equal(mbox->node, node);
	assert_int_equal(mbox->num_chans, MBOX_LOOP_CHANS);
	struct mbox_controller *again;
	assert_int_equal(ampl_agent_mbox_of(apu, "/mailbox@a0000000", &again), 0);
	assert_ptr_equal(again, mbox);
	assert_int_equal(ampl_agent_mbox_of(rpu0, "mbox_loop0", &again), -ENODEV); /* not its controller */
	assert_int_equal(ampl_agent_mbox_of(apu, "no-such-node", &again), -ENOENT);

	assert_int_equal(ampl_soc_trace_set(soc, true), 0);
	for (int i = 0; i < 5000 && !atomic_load(&ampl_trace_on); i++)
		usleep(1000);
	assert_true(atomic_load(&ampl_trace_on));

	const struct mbox_consumer *mc;
	assert_int_equal(ampl_agent_mbox_consumer(apu, "loop_client", &mc), 0);
	struct mbox_client tx_cl = { .node = mc, .tx_done = on_tx_done };
	struct mbox_client rx_cl = { .node = mc, .rx_callback = on_rx };
	struct mbox_chan *rx = mbox_request_channel_byname(&rx_cl, "rx");
	struct mbox_chan *tx = mbox_request_channel_byname(&tx_cl, "tx");
	assert_false(AMPL_IS_ERR(rx));
	assert_false(AMPL_IS_ERR(tx));
	assert_ptr_equal(tx, &mbox->chans[0]);
	assert_ptr_equal(rx, &mbox->chans[1]);
	uint32_t word = 0xc0ffee;
	assert_true(mbox_send_message(tx, &word) >= 0);
	wait_for(&received, 1);
	assert_int_equal(atomic_load(&got), 0xc0ffee);
	wait_for(&sent, 1); /* TX done once the receiving channel took the word */

	struct ampl_trace_reader *r;
	assert_int_equal(ampl_trace_reader_open(soc, true, &r), 0);
	assert_true(ampl_trace_reader_count(r, 0, AMPL_TRACE_NO_OBJ, AMPL_EV_CTRL_WRITE) >= 1);
	assert_true(has_obj(r, 0, "loop", "mailbox@a0000000"));     /* the model's register writes */
	assert_true(has_obj(r, 0, "mbox", "/mailbox@a0000000#0"));  /* the device's channels */
	ampl_trace_reader_close(r);
	assert_int_equal(ampl_soc_trace_set(soc, false), 0);

	mbox_free_channel(tx);
	mbox_free_channel(rx);
	ampl_agent_detach(apu); /* closes the device through the model's close hook */
	struct mbox_spec spec = { .provider = node, .args = { 0 }, .nargs = 1 };
	struct mbox_consumer con = { .name = "after", .mboxes = &spec, .num_mboxes = 1 };
	struct mbox_client cl = { .node = &con };
	struct mbox_chan *gone = mbox_request_channel(&cl, 0);
	assert_true(AMPL_IS_ERR(gone));
	assert_int_equal(AMPL_PTR_ERR(gone), -AMPL_EPROBE_DEFER);
	ampl_agent_detach(rpu0);
	ampl_soc_close(soc);
	assert_int_equal(ampl_soc_destroy(name), 0);
}

/* `amplink soc show`'s register dump (sim_ctrl_show()): the loop model's registers, named by its table, read as its
 * side; the Messaging Units' under their own header. */
static void test_show(void **state)
{
	(void)state;
	char name[64];
	struct ampl_soc *soc = create_soc(BOARD, &ampl_soc_zynqmp, "t-ctrl-show", name);
	struct ampl_agent *apu;
	assert_int_equal(ampl_agent_attach(soc, "apu", NULL, &apu), 0);
	int i = sim_ctrl_nth(soc, sim_ctrl_model_find("loop"), 0);
	assert_true(i >= 0);
	struct ampl_io_region regs;
	assert_int_equal(sim_ctrl_regs(soc, (unsigned)i, 0, &regs), 0);
	ampl_io_write32(&regs, MBOX_LOOP_ENABLE, 0x5);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	sim_ctrl_show(soc, out);
	fclose(out);
	assert_non_null(strstr(text, "LOOP             SIDE AGENT  STATUS     ENABLE\n"
				     "mailbox@a0000000 A    apu    0x00000000 0x00000005\n"
				     "                 /mailbox@a0000000 at 0xa0000000\n"));
	free(text);
	ampl_agent_detach(apu);
	ampl_soc_close(soc);
	assert_int_equal(ampl_soc_destroy(name), 0);
}

/* `amplink soc create --dts`'s profile for a board without IPI nodes: the one a model of its controllers declares
 * (the MU: imx), none for a board of no such model (the loop model declares none; this board has IPI nodes). */
static void test_board_profile(void **state)
{
	(void)state;
	void *dtb;
	size_t size;
	struct ampl_dt_diag diag;
	assert_int_equal(ampl_dt_read_file_opts(AMPL_SOURCE_DIR "/dts/seeds/imx-mu.dts", &dts_opts, &dtb, &size, &diag), 0);
	assert_ptr_equal(sim_ctrl_board_profile(dtb, size), &ampl_soc_imx);
	free(dtb);
	assert_int_equal(ampl_dt_read_file_opts(BOARD, &dts_opts, &dtb, &size, &diag), 0);
	assert_null(sim_ctrl_board_profile(dtb, size));
	free(dtb);
}

/* The board layer's rule for an IPC instance's mailboxes: "tx" and "rx" on one controller of the local agent. */
static void test_ipc_mbox(void **state)
{
	(void)state;
	struct ampl_dt_diag diag;
	struct ampl_dt_board *b = load(BOARD, NULL, 0, &diag);
	const struct ampl_soc_agent *apu = ampl_soc_agent_by_name(b->profile, "apu");
	const struct ampl_soc_agent *rpu0 = ampl_soc_agent_by_name(b->profile, "rpu0");
	const struct ampl_dt_ipc *a = ampl_dt_find_ipc(b, "loop_icmsg_a");
	assert_non_null(a);
	struct ampl_board_ipc_mbox m;
	const char *why = NULL;
	assert_int_equal(ampl_board_ipc_mbox(b, a->consumer, a->tx_mbox, a->rx_mbox, apu, &m, &why), 0);
	assert_null(m.ipi);
	assert_ptr_equal(m.ctrl, ampl_dt_find_mbox_ctrl(b, "mbox_loop0"));
	/* not RPU0's: its owner is the node's amplink,agent */
	assert_int_equal(ampl_board_ipc_mbox(b, a->consumer, a->tx_mbox, a->rx_mbox, rpu0, &m, &why), -EPERM);
	assert_string_equal(m.owner, "apu");
	assert_non_null(strstr(why, "another agent"));
	/* an IPI destination's instance still resolves to its destination */
	const struct ampl_dt_ipc *ipi = ampl_dt_find_ipc(b, "ipc_icmsg_apu");
	assert_int_equal(ampl_board_ipc_mbox(b, ipi->consumer, ipi->tx_mbox, ipi->rx_mbox, apu, &m, &why), 0);
	assert_null(m.ctrl);
	assert_string_equal(m.ipi->node.path, "/amba/apu-mailbox/mailbox@ff990400");
	/* "tx" on the loop controller, "rx" on an IPI destination */
	b->consumers[a->consumer].mboxes[a->rx_mbox] = b->consumers[ipi->consumer].mboxes[ipi->rx_mbox];
	assert_int_equal(ampl_board_ipc_mbox(b, a->consumer, a->tx_mbox, a->rx_mbox, apu, &m, &why), -EINVAL);
	assert_non_null(strstr(why, "both channels of one mailbox controller"));
	/* a disabled controller */
	b->consumers[a->consumer].mboxes[a->rx_mbox] = b->consumers[a->consumer].mboxes[a->tx_mbox];
	b->mbox_ctrls[0].okay = false;
	assert_int_equal(ampl_board_ipc_mbox(b, a->consumer, a->tx_mbox, a->rx_mbox, apu, &m, &why), -EINVAL);
	assert_non_null(strstr(why, "disabled"));
	free(b);
}

/* One endpoint's view: bound, messages received, the last one's text. */
struct side {
	atomic_int bound, got;
	char text[32];
};
static struct side side_a, side_b;

static void bound_cb(void *priv)
{
	atomic_fetch_add(&((struct side *)priv)->bound, 1);
}

static void received_cb(const void *data, size_t len, void *priv)
{
	struct side *sd = priv;
	snprintf(sd->text, sizeof(sd->text), "%.*s", (int)len, (const char *)data);
	atomic_fetch_add(&sd->got, 1);
}

static const struct ipc_service_cb side_cb = { .bound = bound_cb, .received = received_cb };

/* ICMsg over the loop controller: two instances of the APU, rings crossed, each the other's peer; an agent without
 * a side of it is refused with the node, the mailbox and its owner. */
static void test_icmsg(void **state)
{
	(void)state;
	char name[64];
	struct ampl_soc *soc = create_soc(BOARD, &ampl_soc_zynqmp, "t-ctrl-icmsg", name);
	struct ampl_agent *apu, *rpu0;
	assert_int_equal(ampl_agent_attach(soc, "apu", NULL, &apu), 0);
	assert_int_equal(ampl_agent_attach(soc, "rpu0", NULL, &rpu0), 0);

	const struct ampl_device *dev_a, *dev_b, *dev;
	int ret = ampl_agent_ipc_instance(apu, "loop_icmsg_a", &dev_a);
	if (ret)
		fprintf(stderr, "%s\n", ampl_soc_last_error());
	assert_int_equal(ret, 0);
	assert_int_equal(ampl_agent_ipc_instance(apu, "loop_icmsg_b", &dev_b), 0);
	assert_int_equal(ampl_agent_ipc_instance(rpu0, "loop_icmsg_a", &dev), -EINVAL);
	assert_non_null(strstr(ampl_soc_last_error(), "/loop-icmsg-a: its mailbox /mailbox@a0000000 belongs to apu, "
						      "not to rpu0"));

	struct ipc_ept ept_a = { 0 }, ept_b = { 0 };
	struct ipc_ept_cfg cfg_a = { .name = "ept", .cb = side_cb, .priv = &side_a };
	struct ipc_ept_cfg cfg_b = { .name = "ept", .cb = side_cb, .priv = &side_b };
	assert_int_equal(ipc_service_open_instance(dev_a), 0);
	assert_int_equal(ipc_service_open_instance(dev_b), 0);
	assert_int_equal(ipc_service_register_endpoint(dev_a, &ept_a, &cfg_a), 0);
	assert_int_equal(ipc_service_register_endpoint(dev_b, &ept_b, &cfg_b), 0);
	wait_for(&side_a.bound, 1);
	wait_for(&side_b.bound, 1);
	assert_int_equal(ipc_service_send(&ept_a, "hello b", 7), 7);
	wait_for(&side_b.got, 1);
	assert_string_equal(side_b.text, "hello b");
	assert_int_equal(ipc_service_send(&ept_b, "hello a", 7), 7);
	wait_for(&side_a.got, 1);
	assert_string_equal(side_a.text, "hello a");

	ampl_agent_detach(apu);
	ampl_agent_detach(rpu0);
	ampl_soc_close(soc);
	assert_int_equal(ampl_soc_destroy(name), 0);
}

/* The Cortex-M4's side of test_icmsg_mu(), in a child process (a process attaches one side of a Messaging Unit
 * under the node's name): echo one message, then wait for the parent's word on @done. Return: the exit status. */
static int mu_echo(const char *name, int done)
{
	struct ampl_soc *soc;
	struct ampl_agent *m4;
	const struct ampl_device *dev;
	side_b = (struct side){ 0 }; /* test_icmsg()'s, in this copy of the parent */
	if (ampl_soc_open(name, &soc) || ampl_agent_attach(soc, "m4", NULL, &m4) ||
	    ampl_agent_ipc_instance(m4, "icmsg_m4", &dev)) {
		fprintf(stderr, "m4: %s\n", ampl_soc_last_error());
		return 1;
	}
	struct ipc_ept ept = { 0 };
	struct ipc_ept_cfg cfg = { .name = "ept", .cb = side_cb, .priv = &side_b };
	if (ipc_service_open_instance(dev) || ipc_service_register_endpoint(dev, &ept, &cfg))
		return 2;
	for (int i = 0; i < 10000 && !atomic_load(&side_b.got); i++)
		usleep(1000);
	int len = (int)strlen(side_b.text);
	if (!atomic_load(&side_b.got) || ipc_service_send(&ept, side_b.text, (size_t)len) != len)
		return 3;
	char c;
	if (read(done, &c, 1) != 1)
		return 4;
	ampl_agent_detach(m4);
	ampl_soc_close(soc);
	return 0;
}

/* ICMsg over the i.MX Messaging Unit: the Cortex-A and the Cortex-M4 (another process) ring each other on a
 * doorbell channel; a message goes there and back. */
static void test_icmsg_mu(void **state)
{
	(void)state;
	char name[64];
	struct ampl_soc *soc = create_soc(AMPL_SOURCE_DIR "/tests/integration/ctrl_loop/imx-icmsg-board.dts",
					  &ampl_soc_imx, "t-ctrl-mu", name);
	int done[2];
	assert_int_equal(pipe(done), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(done[1]);
		_exit(mu_echo(name, done[0]));
	}
	close(done[0]);
	struct ampl_agent *a;
	const struct ampl_device *dev;
	assert_int_equal(ampl_agent_attach(soc, "a", NULL, &a), 0);
	int ret = ampl_agent_ipc_instance(a, "icmsg_a", &dev);
	if (ret)
		fprintf(stderr, "%s\n", ampl_soc_last_error());
	assert_int_equal(ret, 0);
	side_a = (struct side){ 0 };
	struct ipc_ept ept = { 0 };
	struct ipc_ept_cfg cfg = { .name = "ept", .cb = side_cb, .priv = &side_a };
	assert_int_equal(ipc_service_open_instance(dev), 0);
	assert_int_equal(ipc_service_register_endpoint(dev, &ept, &cfg), 0);
	wait_for(&side_a.bound, 1);
	assert_int_equal(ipc_service_send(&ept, "over the MU", 11), 11);
	wait_for(&side_a.got, 1);
	assert_string_equal(side_a.text, "over the MU");
	assert_int_equal(write(done[1], "x", 1), 1);
	close(done[1]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	ampl_agent_detach(a);
	ampl_soc_close(soc);
	assert_int_equal(ampl_soc_destroy(name), 0);
}

/* `amplink dt gen` for @agent: the header and the source into *@h and *@c (freed by the caller). */
static void gen(const struct ampl_dt_board *b, const char *agent, char **h, char **c)
{
	struct ampl_dt_diag diag;
	size_t hlen = 0, clen = 0;
	FILE *hf = open_memstream(h, &hlen), *cf = open_memstream(c, &clen);
	struct ampl_dt_gen_opts o = { .agent = agent, .header_name = "board_gen.h" };
	int ret = ampl_dt_gen(b, &o, hf, cf, &diag);
	if (ret)
		fprintf(stderr, "%s\n", diag.msg);
	assert_int_equal(ret, 0);
	fclose(hf);
	fclose(cf);
}

/* `amplink dt gen` writes its description and macros through its binding, for its agent only. */
static void test_dt_gen(void **state)
{
	(void)state;
	struct ampl_dt_diag diag;
	struct ampl_dt_board *b = load(BOARD, NULL, 0, &diag);
	char *h, *c;
	gen(b, "apu", &h, &c);
	assert_non_null(strstr(h, "#define DT_N_S_mailbox_a0000000_IRQN 0x5au\n"));
	assert_non_null(strstr(h, "#define DT_N_NODELABEL_mbox_loop0 DT_N_S_mailbox_a0000000\n"));
	assert_non_null(strstr(h, "extern const struct ampl_dt_mbox_ctrl DT_N_S_mailbox_a0000000_NODE;\n"));
	assert_non_null(strstr(c, "const struct ampl_dt_mbox_ctrl DT_N_S_mailbox_a0000000_NODE = {"));
	assert_non_null(strstr(c, ".compatible = \"amplink,mbox-loop\", .irq = 90, .okay = true,\n};\n"));
	/* Its agent's IPC instances over it, their mailboxes naming it by its path */
	assert_non_null(strstr(h, "extern struct ampl_device DT_N_S_loop_icmsg_a_DEVICE;\n"));
	assert_non_null(strstr(h, "extern struct ampl_device DT_N_S_loop_icmsg_b_DEVICE;\n"));
	assert_non_null(strstr(c, "{ .provider = DT_N_S_mailbox_a0000000_PATH, .args = { 3 }, .nargs = 1, "
				  ".name = \"rx\" },\n"));
	/* The description is a struct ampl_dt_mbox_ctrl of the library's header: the generated C compiles. */
	char dir[] = "/tmp/ctrl-loop-gen-XXXXXX", path[128], cmd[512];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/board_gen.h", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(h, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/board_gen.c", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(c, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cc -std=c11 -Wall -Wextra -Werror -pedantic -I%s -I%s/include -c %s -o %s/board_gen.o "
		 "&& rm -r %s", dir, AMPL_SOURCE_DIR, path, dir, dir);
	assert_int_equal(system(cmd), 0);
	free(h);
	free(c);
	gen(b, "rpu0", &h, &c); /* not the RPU0's */
	assert_null(strstr(h, "DT_N_S_mailbox_a0000000"));
	assert_null(strstr(h, "DT_N_S_loop_icmsg_a"));
	free(h);
	free(c);
	free(b);
}

/* An instance over a Messaging Unit is its amplink,agent's: the board layer refuses the other side's agent (and an
 * agent that owns no side: the MU's sides are the profile's "a" and "m4"), `amplink dt gen` writes it for its owner
 * only. */
static void test_mu_owner(void **state)
{
	(void)state;
	struct ampl_dt_diag diag;
	struct ampl_dt_board *b = load(AMPL_SOURCE_DIR "/tests/integration/ctrl_loop/imx-icmsg-board.dts", &ampl_soc_imx,
				       0, &diag);
	const struct ampl_soc_agent *a = ampl_soc_agent_by_name(b->profile, "a");
	const struct ampl_soc_agent *m4 = ampl_soc_agent_by_name(b->profile, "m4");
	const struct ampl_dt_ipc *ia = ampl_dt_find_ipc(b, "icmsg_a"), *im = ampl_dt_find_ipc(b, "icmsg_m4");
	const struct ampl_dt_mbox_ctrl *mu = ampl_dt_find_mbox_ctrl(b, "ipm0");
	assert_string_equal(mu->agent, "a"); /* side A: the profile's first processor */
	assert_string_equal(mu->peer, "m4");
	struct ampl_board_ipc_mbox m;
	const char *why = NULL;
	assert_int_equal(ampl_board_ipc_mbox(b, ia->consumer, ia->tx_mbox, ia->rx_mbox, a, &m, &why), 0);
	assert_ptr_equal(m.ctrl, mu);
	assert_int_equal(ampl_board_ipc_mbox(b, im->consumer, im->tx_mbox, im->rx_mbox, m4, &m, &why), 0);
	assert_int_equal(ampl_board_ipc_mbox(b, ia->consumer, ia->tx_mbox, ia->rx_mbox, m4, &m, &why), -EPERM);
	assert_string_equal(m.owner, "a");
	assert_non_null(strstr(why, "another agent"));
	assert_int_equal(ampl_board_ipc_mbox(b, im->consumer, im->tx_mbox, im->rx_mbox, a, &m, &why), -EPERM);
	assert_string_equal(m.owner, "m4");
	char *h, *c;
	gen(b, "a", &h, &c);
	assert_non_null(strstr(h, "extern struct ampl_device DT_N_S_icmsg_a_DEVICE;\n"));
	assert_null(strstr(h, "DT_N_S_icmsg_m4_DEVICE"));
	free(h);
	free(c);
	gen(b, "m4", &h, &c);
	assert_non_null(strstr(h, "extern struct ampl_device DT_N_S_icmsg_m4_DEVICE;\n"));
	assert_null(strstr(h, "DT_N_S_icmsg_a_DEVICE"));
	free(h);
	free(c);
	/* without amplink,agent: either side's agent, and no agent that owns no side of it */
	b->consumers[ia->consumer].agent[0] = '\0';
	assert_int_equal(ampl_board_ipc_mbox(b, ia->consumer, ia->tx_mbox, ia->rx_mbox, m4, &m, &why), 0);
	assert_int_equal(ampl_board_ipc_mbox(b, ia->consumer, ia->tx_mbox, ia->rx_mbox, a, &m, &why), 0);
	const struct ampl_soc_agent *other = ampl_soc_agent_by_name(&ampl_soc_zynqmp, "rpu1");
	assert_int_equal(ampl_board_ipc_mbox(b, ia->consumer, ia->tx_mbox, ia->rx_mbox, other, &m, &why), -EPERM);
	assert_string_equal(m.owner, "a");
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loader),
		cmocka_unit_test(test_on_soc),
		cmocka_unit_test(test_show),
		cmocka_unit_test(test_board_profile),
		cmocka_unit_test(test_ipc_mbox),
		cmocka_unit_test(test_icmsg),
		cmocka_unit_test(test_icmsg_mu),
		cmocka_unit_test(test_dt_gen),
		cmocka_unit_test(test_mu_owner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
