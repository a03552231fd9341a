/*
 * Devicetree loader: the default board, the seed snippets, and broken variants that must be rejected with a
 * message naming the node and the property.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <amplink/host/dt.h>
#include <amplink/errno.h>
#include <amplink/host/soc.h>
#include "dt/dt_internal.h"

#include <libfdt.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef AMPL_SOURCE_DIR
#error "AMPL_SOURCE_DIR must name the source tree"
#endif

static struct ampl_dt_board *new_board(void)
{
	struct ampl_dt_board *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	return b;
}

static bool blob_has_symbols(const void *dtb)
{
	return fdt_path_offset(dtb, "/__symbols__") >= 0;
}

/* Write @len bytes to a new temporary file ending in @suffix; the name goes to @path. */
static void write_temp(char *path, size_t cap, const char *suffix, const void *data, size_t len)
{
	const char *tmpdir = getenv("TMPDIR");
	int fd;

	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	assert_true((size_t)snprintf(path, cap, "%s/test_dt-XXXXXX%s", tmpdir, suffix) < cap);
	fd = mkstemps(path, (int)strlen(suffix));
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void check_node(const struct ampl_dt_node *n, const char *name, const char *path, const char *label,
		       bool labels)
{
	assert_string_equal(n->name, name);
	assert_string_equal(n->path, path);
	assert_string_equal(n->label, labels ? label : "");
}

static void check_zynqmp_chan(const struct ampl_dt_ipi_chan *ch, uint32_t remote, uint64_t lreq, uint64_t rreq)
{
	assert_non_null(ch);
	assert_int_equal(ch->remote_id, remote);
	assert_non_null(ch->remote);
	assert_int_equal(ch->remote->id, remote);
	assert_true(ch->buffered);
	assert_int_equal(ch->mbox_cells, 1);
	assert_int_equal(ch->num_regs, 4);
	assert_int_equal(ch->local_req, lreq);
	assert_int_equal(ch->local_resp, lreq + 0x20);
	assert_int_equal(ch->remote_req, rreq);
	assert_int_equal(ch->remote_resp, rreq + 0x20);
}

/* The default board, as embedded (with or without __symbols__). */
static void check_default_board(const struct ampl_dt_board *b, bool labels)
{
	const struct ampl_dt_ipi_ctrl *ct;
	const struct ampl_dt_ipi_chan *ch;

	assert_ptr_equal(b->profile, &ampl_soc_zynqmp);
	assert_int_equal(b->num_warnings, 0);
	assert_string_equal(b->warnings, "");
	assert_int_equal(b->num_ctrls, 3);
	assert_int_equal(b->num_mus, 0);
	assert_int_equal(b->num_mems, 6); /* shared_ram, the ICMsg rings, the ipc-multi regions, rpmsg_shm */

	ct = &b->ctrls[0];
	check_node(&ct->node, "apu-mailbox", "/amba/apu-mailbox", "ipi_apu", labels);
	assert_ptr_equal(ct->profile, &ampl_soc_zynqmp);
	assert_int_equal(ct->local_id, 0);
	assert_string_equal(ct->local->name, "apu");
	assert_int_equal(ct->irq, 35);
	assert_int_equal(ct->num_regs, 0);
	assert_int_equal(ct->num_chans, 2);
	check_node(&ct->chans[0].node, "mailbox@ff990400", "/amba/apu-mailbox/mailbox@ff990400", "ipi_apu_rpu0",
		   labels);
	check_zynqmp_chan(&ct->chans[0], 1, 0xff990400, 0xff990080);
	check_node(&ct->chans[1].node, "mailbox@ff990440", "/amba/apu-mailbox/mailbox@ff990440", "ipi_apu_rpu1",
		   labels);
	check_zynqmp_chan(&ct->chans[1], 2, 0xff990440, 0xff990280);
	assert_string_equal(ct->chans[1].regs[2].name, "remote_request_region");
	assert_int_equal(ct->chans[1].regs[2].addr, 0xff990280);
	assert_int_equal(ct->chans[1].regs[2].size, 0x20);

	ct = &b->ctrls[1];
	check_node(&ct->node, "rpu0-mailbox", "/amba/rpu0-mailbox", "ipi_rpu0", labels);
	assert_int_equal(ct->local_id, 1);
	assert_string_equal(ct->local->name, "rpu0");
	assert_int_equal(ct->irq, 33);
	assert_int_equal(ct->num_chans, 1);
	check_node(&ct->chans[0].node, "mailbox@ff990080", "/amba/rpu0-mailbox/mailbox@ff990080", "ipi_rpu0_apu",
		   labels);
	check_zynqmp_chan(&ct->chans[0], 0, 0xff990080, 0xff990400);

	ct = &b->ctrls[2];
	check_node(&ct->node, "rpu1-mailbox", "/amba/rpu1-mailbox", "ipi_rpu1", labels);
	assert_int_equal(ct->local_id, 2);
	assert_string_equal(ct->local->name, "rpu1");
	assert_int_equal(ct->irq, 34);
	assert_int_equal(ct->num_chans, 1);
	check_node(&ct->chans[0].node, "mailbox@ff990280", "/amba/rpu1-mailbox/mailbox@ff990280", "ipi_rpu1_apu",
		   labels);
	check_zynqmp_chan(&ct->chans[0], 0, 0xff990280, 0xff990440);

	check_node(&b->mems[0].node, "shared_ram@3ed00000", "/reserved-memory/shared_ram@3ed00000", "shared_ram",
		   labels);
	assert_int_equal(b->mems[0].addr, 0x3ed00000);
	assert_int_equal(b->mems[0].size, 0x40000);
	assert_true(b->mems[0].no_map);
	assert_int_equal(b->mems[1].addr, 0x3ed40000);
	assert_int_equal(b->mems[1].size, 0x8000);
	assert_int_equal(b->mems[2].addr, 0x3ed48000);
	assert_int_equal(b->mems[2].size, 0x8000);

	/* the two ICMsg instances, mirrored */
	assert_int_equal(b->num_icmsgs, 2);
	check_node(&b->icmsgs[0].node, "ipc-icmsg-apu", "/ipc-icmsg-apu", "ipc_icmsg_apu", labels);
	assert_int_equal(b->icmsgs[0].tx_addr, 0x3ed40000);
	assert_int_equal(b->icmsgs[0].rx_addr, 0x3ed48000);
	assert_int_equal(b->icmsgs[0].tx_size, 0x8000);
	assert_int_equal(b->icmsgs[0].dcache_alignment, 64);
	assert_int_equal(b->icmsgs[0].unbound, AMPL_DT_ICMSG_UNBOUND_DISABLE);
	assert_string_equal(b->consumers[b->icmsgs[0].consumer].mboxes[b->icmsgs[0].tx_mbox].name, "tx");
	assert_string_equal(b->consumers[b->icmsgs[0].consumer].mboxes[b->icmsgs[0].rx_mbox].name, "rx");
	check_node(&b->icmsgs[1].node, "ipc-icmsg-rpu0", "/ipc-icmsg-rpu0", "ipc_icmsg_rpu0", labels);
	assert_int_equal(b->icmsgs[1].tx_addr, 0x3ed48000);
	assert_int_equal(b->icmsgs[1].rx_addr, 0x3ed40000);
	assert_ptr_equal(ampl_dt_find_icmsg(b, "/ipc-icmsg-rpu0"), &b->icmsgs[1]);

	/* the two ipc-multi instances (APU <-> RPU1), mirrored */
	assert_int_equal(b->mems[3].addr, 0x3ed50000);
	assert_int_equal(b->mems[3].size, 0x10000);
	assert_int_equal(b->mems[4].addr, 0x3ed60000);
	assert_int_equal(b->mems[4].size, 0x10000);
	assert_int_equal(b->num_ipc_multis, 2);
	check_node(&b->ipc_multis[0].base.node, "ipc-multi-apu", "/ipc-multi-apu", "ipc_multi_apu", labels);
	assert_int_equal(b->ipc_multis[0].base.tx_addr, 0x3ed50000);
	assert_int_equal(b->ipc_multis[0].base.rx_addr, 0x3ed60000);
	assert_int_equal(b->ipc_multis[0].base.tx_size, 0x10000);
	assert_int_equal(b->ipc_multis[0].base.dcache_alignment, 64);
	assert_int_equal(b->ipc_multis[0].block_count, 32);
	assert_true(b->ipc_multis[0].block_size > 0 && b->ipc_multis[0].block_size % 64 == 0);
	assert_string_equal(b->consumers[b->ipc_multis[0].base.consumer].mboxes[b->ipc_multis[0].base.tx_mbox].provider,
			    "/amba/apu-mailbox/mailbox@ff990440");
	check_node(&b->ipc_multis[1].base.node, "ipc-multi-rpu1", "/ipc-multi-rpu1", "ipc_multi_rpu1", labels);
	assert_int_equal(b->ipc_multis[1].base.tx_addr, 0x3ed60000);
	assert_int_equal(b->ipc_multis[1].base.rx_addr, 0x3ed50000);
	assert_ptr_equal(ampl_dt_find_ipc_multi(b, "/ipc-multi-rpu1"), &b->ipc_multis[1]);
	assert_null(ampl_dt_find_ipc_multi(b, "/ipc-icmsg-apu"));

	/* the two RPMsg instances (APU host <-> RPU0 remote) over one region, on the ICMsg instances' IPI channel */
	check_node(&b->mems[5].node, "rpmsg_shm@3ed80000", "/reserved-memory/rpmsg_shm@3ed80000", "rpmsg_shm", labels);
	assert_int_equal(b->mems[5].addr, 0x3ed80000);
	assert_int_equal(b->mems[5].size, 0x40000);
	assert_true(b->mems[5].no_map);
	assert_int_equal(b->num_rpmsgs, 2);
	for (unsigned i = 0; i < 2; i++) {
		const struct ampl_dt_rpmsg *r = &b->rpmsgs[i];
		const struct ampl_dt_icmsg *im = &b->icmsgs[i];
		const struct ampl_dt_consumer *con = &b->consumers[r->consumer];
		const struct ampl_dt_consumer *icon = &b->consumers[im->consumer];

		assert_int_equal(r->role, i == 0 ? AMPL_DT_RPMSG_HOST : AMPL_DT_RPMSG_REMOTE);
		assert_int_equal(r->mem, 5);
		assert_int_equal(r->addr, 0x3ed80000);
		assert_int_equal(r->size, 0x40000);
		assert_int_equal(r->buffer_size, 512);
		assert_int_equal(r->h2r_buffer_size, 512);
		assert_int_equal(r->r2h_buffer_size, 512);
		assert_int_equal(r->vring_num, 32);
		assert_int_equal(r->vring_align, 16);
		assert_int_equal(r->notify_id, 0);
		assert_int_equal(r->min_size, 0x8740);
		assert_string_equal(con->node.path, r->node.path);
		assert_string_equal(con->mboxes[r->tx_mbox].name, "tx");
		assert_string_equal(con->mboxes[r->rx_mbox].name, "rx");
		assert_int_equal(con->mboxes[r->tx_mbox].args[0], 0);
		assert_int_equal(con->mboxes[r->rx_mbox].args[0], 1);
		/* the same IPI destination as the ICMsg instance of that side */
		assert_string_equal(con->mboxes[r->tx_mbox].provider, icon->mboxes[im->tx_mbox].provider);
		assert_string_equal(con->mboxes[r->rx_mbox].provider, icon->mboxes[im->rx_mbox].provider);
	}
	check_node(&b->rpmsgs[0].node, "ipc-rpmsg-apu", "/ipc-rpmsg-apu", "ipc_rpmsg_apu", labels);
	check_node(&b->rpmsgs[1].node, "ipc-rpmsg-rpu0", "/ipc-rpmsg-rpu0", "ipc_rpmsg_rpu0", labels);
	assert_string_equal(b->consumers[b->rpmsgs[0].consumer].mboxes[0].provider,
			    "/amba/apu-mailbox/mailbox@ff990400");
	assert_string_equal(b->consumers[b->rpmsgs[1].consumer].mboxes[0].provider,
			    "/amba/rpu0-mailbox/mailbox@ff990080");
	assert_ptr_equal(ampl_dt_find_rpmsg(b, "/ipc-rpmsg-rpu0"), &b->rpmsgs[1]);
	assert_ptr_equal(ampl_dt_find_rpmsg(b, "ipc-rpmsg-apu"), &b->rpmsgs[0]);
	if (labels)
		assert_ptr_equal(ampl_dt_find_rpmsg(b, "ipc_rpmsg_rpu0"), &b->rpmsgs[1]);
	assert_null(ampl_dt_find_rpmsg(b, "/ipc-icmsg-apu"));
	assert_null(ampl_dt_find_rpmsg(b, NULL));
	assert_null(ampl_dt_find_rpmsg(NULL, "ipc_rpmsg_apu"));

	/* both ends of the APU <-> RPU0 channel see the same buffers, mirrored */
	ch = ampl_dt_find_chan(b, 1, 0, &ct);
	assert_non_null(ch);
	assert_ptr_equal(ct, &b->ctrls[1]);
	assert_int_equal(ch->local_req, ampl_dt_find_chan(b, 0, 1, NULL)->remote_req);
	assert_int_equal(ch->remote_req, ampl_dt_find_chan(b, 0, 1, NULL)->local_req);
	assert_null(ampl_dt_find_chan(b, 1, 2, &ct));
	assert_null(ct);
	assert_null(ampl_dt_find_chan(b, 7, 0, NULL));
}

static void test_default_board(void **state)
{
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	int ret;

	(void)state;
	ret = ampl_dt_load_blob(ampl_default_board_dtb, ampl_default_board_dtb_size, AMPL_DEFAULT_BOARD_NAME, NULL, b,
				&diag);
	if (ret)
		print_error("%s\n", diag.msg);
	assert_int_equal(ret, 0);
	assert_string_equal(b->source, AMPL_DEFAULT_BOARD_NAME);
	check_default_board(b, blob_has_symbols(ampl_default_board_dtb));

	/* the same with the profile given explicitly */
	ret = ampl_dt_load_blob(ampl_default_board_dtb, ampl_default_board_dtb_size, AMPL_DEFAULT_BOARD_NAME,
				&ampl_soc_zynqmp, b, &diag);
	assert_int_equal(ret, 0);
	check_default_board(b, blob_has_symbols(ampl_default_board_dtb));
	free(b);
}

/* The blob with and without /__symbols__ (dtc without -@): labels come and go, nothing else changes. */
static void test_default_board_symbols(void **state)
{
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	size_t cap = ampl_default_board_dtb_size + 4096;
	void *buf = malloc(cap);
	int off;

	(void)state;
	assert_non_null(buf);
	assert_int_equal(fdt_open_into(ampl_default_board_dtb, buf, (int)cap), 0);

	off = fdt_path_offset(buf, "/__symbols__");
	if (off < 0) { /* embedded without -@: add what dtc -@ would */
		static const char *const sym[][2] = {
			{ "ipi_apu", "/amba/apu-mailbox" },
			{ "ipi_apu_rpu0", "/amba/apu-mailbox/mailbox@ff990400" },
			{ "ipi_apu_rpu1", "/amba/apu-mailbox/mailbox@ff990440" },
			{ "ipi_rpu0", "/amba/rpu0-mailbox" },
			{ "ipi_rpu0_apu", "/amba/rpu0-mailbox/mailbox@ff990080" },
			{ "ipi_rpu1", "/amba/rpu1-mailbox" },
			{ "ipi_rpu1_apu", "/amba/rpu1-mailbox/mailbox@ff990280" },
			{ "shared_ram", "/reserved-memory/shared_ram@3ed00000" },
			{ "rpmsg_shm", "/reserved-memory/rpmsg_shm@3ed80000" },
			{ "ipc_icmsg_apu", "/ipc-icmsg-apu" },
			{ "ipc_icmsg_rpu0", "/ipc-icmsg-rpu0" },
			{ "ipc_multi_apu", "/ipc-multi-apu" },
			{ "ipc_multi_rpu1", "/ipc-multi-rpu1" },
			{ "ipc_rpmsg_apu", "/ipc-rpmsg-apu" },
			{ "ipc_rpmsg_rpu0", "/ipc-rpmsg-rpu0" },
		};

		off = fdt_add_subnode(buf, 0, "__symbols__");
		assert_true(off >= 0);
		for (size_t i = 0; i < sizeof(sym) / sizeof(sym[0]); i++)
			assert_int_equal(fdt_setprop_string(buf, off, sym[i][0], sym[i][1]), 0);
	}
	assert_int_equal(ampl_dt_load_blob(buf, fdt_totalsize(buf), "with-symbols.dtb", NULL, b, &diag), 0);
	check_default_board(b, true);

	off = fdt_path_offset(buf, "/__symbols__");
	assert_int_equal(fdt_del_node(buf, off), 0);
	assert_int_equal(ampl_dt_load_blob(buf, fdt_totalsize(buf), "without-symbols.dtb", NULL, b, &diag), 0);
	check_default_board(b, false);

	/* a blob at an address that is not 8-byte aligned */
	{
		char *odd = malloc(fdt_totalsize(buf) + 4);

		assert_non_null(odd);
		memcpy(odd + 4, buf, fdt_totalsize(buf));
		assert_int_equal(ampl_dt_load_blob(odd + 4, fdt_totalsize(buf), "odd.dtb", NULL, b, &diag), 0);
		check_default_board(b, false);
		free(odd);
	}
	free(buf);
	free(b);
}

/* The default board's source file, through dtc, and as a .dtb file. */
static void test_default_board_files(void **state)
{
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	char path[256];
	void *dtb;
	size_t size;

	(void)state;
	assert_int_equal(ampl_dt_load_file(AMPL_SOURCE_DIR "/dts/zynqmp-apu-rpu0.dts", NULL, b, &diag), 0);
	check_default_board(b, true);
	assert_string_equal(b->source, AMPL_SOURCE_DIR "/dts/zynqmp-apu-rpu0.dts");

	assert_int_equal(ampl_dt_read_file(AMPL_SOURCE_DIR "/dts/zynqmp-apu-rpu0.dts", &dtb, &size, &diag), 0);
	assert_int_equal(fdt_magic(dtb), FDT_MAGIC);
	write_temp(path, sizeof(path), ".dtb", dtb, size);
	free(dtb);
	assert_int_equal(ampl_dt_load_file(path, NULL, b, &diag), 0);
	check_default_board(b, true);
	unlink(path);
	free(b);
}

static void test_print(void **state)
{
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	assert_int_equal(ampl_dt_load_file(AMPL_SOURCE_DIR "/dts/zynqmp-apu-rpu0.dts", NULL, b, &diag), 0);
	out = open_memstream(&text, &len);
	assert_non_null(out);
	ampl_dt_print(b, out);
	assert_int_equal(fclose(out), 0);
	assert_non_null(strstr(text, "profile    zynqmp"));
	assert_non_null(strstr(text, "apu       (id  0)  irq 35"));
	assert_non_null(strstr(text, "rpu1      (id  2)  buffered  req 0xff990440 resp 0xff990460  remote req "
				     "0xff990280 resp 0xff9902a0  &ipi_apu_rpu1"));
	assert_non_null(strstr(text, "mem   0x3ed00000 size 0x40000"));
	assert_non_null(strstr(text, "rpmsg 0x3ed80000 size 0x40000    host    needs 0x8740  vrings 32 x align 16  "
				     "buffers h2r 512 r2h 512  notify-id 0  /ipc-rpmsg-apu  &ipc_rpmsg_apu\n"));
	assert_non_null(strstr(text, "rpmsg 0x3ed80000 size 0x40000    remote  needs 0x8740"));
	assert_non_null(strstr(text, "multi tx 0x3ed50000 rx 0x3ed60000  blocks 32 x "));
	assert_non_null(strstr(text, "  inline-max 0  /ipc-multi-rpu1  &ipc_multi_rpu1\n"));
	assert_non_null(strstr(text, "warnings   0"));
	free(text);

	assert_int_equal(ampl_dt_load_file(AMPL_SOURCE_DIR "/dts/seeds/versal-ipi.dts", NULL, b, &diag), 0);
	out = open_memstream(&text, &len);
	assert_non_null(out);
	ampl_dt_print(b, out);
	assert_int_equal(fclose(out), 0);
	assert_non_null(strstr(text, "ipi5      (id  7)  doorbell"));
	assert_non_null(strstr(text, "rpu1      (id  4)  buffered  req 0xff3f0100 resp 0xff3f0120  remote req "
				     "0xff3f0800 resp 0xff3f0820"));
	assert_non_null(strstr(text, "/bus/mailbox@ff300000: reg: ctrl is at 0xff300000"));
	free(text);
	free(b);
}

/* --- the seeds ------------------------------------------------------------------------------------------- */

static void test_seed_zynqmp(void **state)
{
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	const struct ampl_dt_ipi_ctrl *ct;
	const struct ampl_dt_ipi_chan *ch;
	int ret;

	(void)state;
	ret = ampl_dt_load_file(AMPL_SOURCE_DIR "/dts/seeds/zynqmp-ipi.dts", NULL, b, &diag);
	if (ret)
		print_error("%s\n", diag.msg);
	assert_int_equal(ret, 0);
	assert_ptr_equal(b->profile, &ampl_soc_zynqmp);
	assert_int_equal(b->num_warnings, 0);
	assert_int_equal(b->num_ctrls, 1);
	ct = &b->ctrls[0];
	check_node(&ct->node, "zynqmp-mailbox", "/amba/zynqmp-mailbox", "", true);
	assert_int_equal(ct->local_id, 0);
	assert_int_equal(ct->irq, 29);
	assert_int_equal(ct->num_chans, 1);
	ch = ampl_dt_find_chan(b, 0, 4, NULL);
	assert_ptr_equal(ch, &ct->chans[0]);
	check_node(&ch->node, "mailbox@ff9905c0", "/amba/zynqmp-mailbox/mailbox@ff9905c0", "mailbox", true);
	assert_string_equal(ch->remote->name, "pmu1");
	assert_int_equal(ch->local_req, 0xff9905c0);
	assert_int_equal(ch->local_resp, 0xff9905e0);
	assert_int_equal(ch->remote_req, 0xff990e80);
	assert_int_equal(ch->remote_resp, 0xff990ea0);
	check_zynqmp_chan(ch, 4, 0xff9905c0, 0xff990e80);
	free(b);
}

static void test_seed_versal(void **state)
{
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	const struct ampl_dt_ipi_ctrl *ct;
	const struct ampl_dt_ipi_chan *ch;
	int ret;

	(void)state;
	ret = ampl_dt_load_file(AMPL_SOURCE_DIR "/dts/seeds/versal-ipi.dts", NULL, b, &diag);
	if (ret)
		print_error("%s\n", diag.msg);
	assert_int_equal(ret, 0);
	assert_ptr_equal(b->profile, &ampl_soc_versal);
	assert_true(b->num_warnings > 0);
	assert_non_null(strstr(b->warnings, "/bus/mailbox@ff300000/mailbox@ff340000: reg: "));
	assert_int_equal(b->num_ctrls, 1);
	ct = &b->ctrls[0];
	assert_string_equal(ct->node.path, "/bus/mailbox@ff300000");
	assert_int_equal(ct->local_id, 0);
	assert_int_equal(ct->irq, 29);
	assert_int_equal(ct->num_regs, 2);
	assert_string_equal(ct->regs[1].name, "msg");
	assert_int_equal(ct->num_chans, 2);

	ch = ampl_dt_find_chan(b, 0, 4, NULL);
	assert_non_null(ch);
	assert_true(ch->buffered);
	assert_int_equal(ch->mbox_cells, 1);
	/* buffers follow xlnx,ipi-id on the Versal profile, not the binding example's addresses */
	assert_int_equal(ch->local_req, ampl_ipi_request_addr(&ampl_soc_versal, ct->local, ch->remote));
	assert_int_equal(ch->local_req, 0xff3f0100);
	assert_int_equal(ch->local_resp, 0xff3f0120);
	assert_int_equal(ch->remote_req, 0xff3f0800);
	assert_int_equal(ch->remote_resp, 0xff3f0820);

	ch = ampl_dt_find_chan(b, 0, 7, NULL);
	assert_non_null(ch);
	assert_false(ch->buffered);
	assert_int_equal(ch->num_regs, 1);
	assert_int_equal(ch->local_req, 0);
	assert_int_equal(ch->local_resp, 0);
	assert_int_equal(ch->remote_req, 0);
	assert_int_equal(ch->remote_resp, 0);

	/* asking for the Versal profile gives the same */
	assert_int_equal(ampl_dt_load_file(AMPL_SOURCE_DIR "/dts/seeds/versal-ipi.dts", &ampl_soc_versal, b, &diag), 0);
	assert_int_equal(b->ctrls[0].num_chans, 2);
	free(b);
}

static void test_seed_imx_mu(void **state)
{
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	int ret;

	(void)state;
	ret = ampl_dt_load_file(AMPL_SOURCE_DIR "/dts/seeds/imx-mu.dts", NULL, b, &diag);
	if (ret)
		print_error("%s\n", diag.msg);
	assert_int_equal(ret, 0);
	assert_null(b->profile);
	assert_int_equal(b->num_ctrls, 0);
	assert_int_equal(b->num_mems, 0);
	assert_int_equal(b->num_mus, 1);
	check_node(&b->mus[0].node, "ipm@40028000", "/ipm@40028000", "ipm0", true);
	assert_string_equal(b->mus[0].alias, "ipm0");
	assert_int_equal(b->mus[0].addr, 0x40028000);
	assert_int_equal(b->mus[0].size, 0x4000);
	assert_int_equal(b->mus[0].irq, 33);
	assert_true(b->mus[0].okay);
	assert_false(b->mus[0].side_b);
	assert_int_equal(b->num_warnings, 0);
	free(b);
}

static void test_seed_shared_ram(void **state)
{
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	int ret;

	(void)state;
	ret = ampl_dt_load_file(AMPL_SOURCE_DIR "/dts/seeds/shared-ram.dts", NULL, b, &diag);
	if (ret)
		print_error("%s\n", diag.msg);
	assert_int_equal(ret, 0);
	assert_int_equal(b->num_ctrls, 0);
	assert_int_equal(b->num_mus, 0);
	assert_int_equal(b->num_mems, 1);
	check_node(&b->mems[0].node, "shared_ram@20040000", "/reserved-memory/shared_ram@20040000", "shared_ram", true);
	assert_int_equal(b->mems[0].addr, 0x20040000);
	assert_int_equal(b->mems[0].size, 0x8000);
	assert_false(b->mems[0].no_map);
	/* the snippet's reserved-memory node relies on the root's cell sizes: loaded, with a warning saying so */
	assert_non_null(strstr(b->warnings, "/reserved-memory: #address-cells: "));
	free(b);
}

/* --- broken variants ------------------------------------------------------------------------------------- */

#define ZQ_PARENT_HEAD                                                                                           \
	"/dts-v1/;\n/ {\n\tamba {\n\t\t#address-cells = <2>;\n\t\t#size-cells = <2>;\n\t\tzynqmp-mailbox {\n"     \
	"\t\t\tcompatible = \"xlnx,zynqmp-ipi-mailbox\";\n\t\t\tinterrupts = <0 29 4>;\n"                          \
	"\t\t\t#address-cells = <2>;\n\t\t\t#size-cells = <2>;\n\t\t\tranges;\n"
#define ZQ_CHILD_HEAD "\t\t\tmailbox@ff9905c0 {\n\t\t\t\tcompatible = \"xlnx,zynqmp-ipi-dest-mailbox\";\n"
#define ZQ_TAIL "\t\t\t};\n\t\t};\n\t};\n};\n"
/* a ZynqMP parent and one child, from parts */
#define ZQ(parent_props, child_props) ZQ_PARENT_HEAD parent_props ZQ_CHILD_HEAD child_props ZQ_TAIL

#define ZQ_REG(lreq, lreq_size)                                                                                   \
	"reg = <0x0 " lreq " 0x0 " lreq_size ">, <0x0 0xff9905e0 0x0 0x20>, <0x0 0xff990e80 0x0 0x20>, "         \
	"<0x0 0xff990ea0 0x0 0x20>;\n"
#define ZQ_REG_OK ZQ_REG("0xff9905c0", "0x20")
#define ZQ_NAMES_OK                                                                                               \
	"reg-names = \"local_request_region\", \"local_response_region\", \"remote_request_region\", "           \
	"\"remote_response_region\";\n"
#define ZQ_PID "xlnx,ipi-id = <0>;\n"
#define ZQ_CID "xlnx,ipi-id = <4>;\n"
#define ZQ_MBOX "#mbox-cells = <1>;\n"
#define ZQ_CHILD_OK ZQ_REG_OK ZQ_NAMES_OK ZQ_MBOX ZQ_CID

#define ZQ_PARENT "/amba/zynqmp-mailbox"
#define ZQ_CHILD "/amba/zynqmp-mailbox/mailbox@ff9905c0"

#define VS_HEAD                                                                                                   \
	"/dts-v1/;\n/ {\n\tbus {\n\t\t#address-cells = <2>;\n\t\t#size-cells = <2>;\n\t\tmailbox@ff330000 {\n"    \
	"\t\t\tcompatible = \"xlnx,versal-ipi-mailbox\";\n\t\t\t#address-cells = <2>;\n\t\t\t#size-cells = <2>;\n" \
	"\t\t\tranges;\n"
#define VS_CHILD_HEAD "\t\t\tmailbox@ff3a0000 {\n\t\t\t\tcompatible = \"xlnx,versal-ipi-dest-mailbox\";\n"
/* a Versal parent and one child, from parts */
#define VS(parent_props, child_props) VS_HEAD parent_props VS_CHILD_HEAD child_props ZQ_TAIL
#define VS_PARENT_APU                                                                                             \
	"reg = <0x0 0xff330000 0x0 0x1000>, <0x0 0xff3f0400 0x0 0x200>;\nreg-names = \"ctrl\", \"msg\";\n"       \
	"xlnx,ipi-id = <2>;\n"
#define VS_PARENT "/bus/mailbox@ff330000"
#define VS_CHILD "/bus/mailbox@ff330000/mailbox@ff3a0000"

/*
 * An RPMsg instance node (/ipc-rpmsg) over rpmsg_shm, from parts: the region's reg (2 address and 2 size cells),
 * the node's properties, and extra nodes after it. other_shm is a second region; /mbox a provider of channels.
 */
#define RP(reg, props, extra)                                                                                     \
	"/dts-v1/;\n/ {\n\t#address-cells = <2>;\n\t#size-cells = <2>;\n\treserved-memory {\n"                     \
	"\t\t#address-cells = <2>;\n\t\t#size-cells = <2>;\n\t\tranges;\n"                                          \
	"\t\trpmsg_shm: rpmsg_shm@3ed80000 {\n\t\t\treg = <" reg ">;\n\t\t\tno-map;\n\t\t};\n"                     \
	"\t\tother_shm: other_shm@3edc0000 {\n\t\t\treg = <0x0 0x3edc0000 0x0 0x8000>;\n\t\t};\n\t};\n"            \
	"\tmbox: mbox {\n\t\t#mbox-cells = <1>;\n\t};\n"                                                            \
	"\tipc-rpmsg {\n\t\tcompatible = \"zephyr,ipc-openamp-static-vrings\";\n" props "\t};\n" extra "};\n"
#define RP_REG_OK "0x0 0x3ed80000 0x0 0x40000"
#define RP_REGION "memory-region = <&rpmsg_shm>;\n"
#define RP_MBOX "mboxes = <&mbox 0>, <&mbox 1>;\nmbox-names = \"tx\", \"rx\";\n"
#define RP_HOST "role = \"host\";\n"
#define RP_OK RP_REGION RP_MBOX RP_HOST
/* a second instance node, /ipc-rpmsg-NAME, with @props */
#define RP_NODE2(name, props) \
	"\tipc-rpmsg-" name " {\n\t\tcompatible = \"zephyr,ipc-openamp-static-vrings\";\n" props "\t};\n"
#define RP_REMOTE RP_REGION RP_MBOX "role = \"remote\";\n"
#define RP_PATH "/ipc-rpmsg"
#define RP_SHM "/reserved-memory/rpmsg_shm@3ed80000"

struct bad_case {
	const char *id;
	const char *text;                        /* file content (DTS unless .dtb) */
	const char *suffix;                      /* ".dts" (default) or ".dtb" */
	const struct ampl_soc_profile *profile;  /* passed to the loader */
	int expect;                              /* return value */
	const char *want[3];                     /* substrings of the diagnostic */
};

/* An ICMsg instance node (/ipc-icmsg) over two regions, with extra properties. */
#define IC(props)                                                                                                 \
	"/dts-v1/;\n/ {\n\t#address-cells = <2>;\n\t#size-cells = <2>;\n\treserved-memory {\n"                     \
	"\t\t#address-cells = <2>;\n\t\t#size-cells = <2>;\n\t\tranges;\n"                                          \
	"\t\ta_tx: a_tx@3ed40000 {\n\t\t\treg = <0x0 0x3ed40000 0x0 0x8000>;\n\t\t};\n"                             \
	"\t\tb_tx: b_tx@3ed48000 {\n\t\t\treg = <0x0 0x3ed48000 0x0 0x8000>;\n\t\t};\n\t};\n"                      \
	"\tmbox: mbox {\n\t\t#mbox-cells = <1>;\n\t};\n"                                                            \
	"\tipc-icmsg {\n\t\tcompatible = \"zephyr,ipc-icmsg\";\n\t\ttx-region = <&a_tx>;\n"                         \
	"\t\trx-region = <&b_tx>;\n\t\t" RP_MBOX props "\t};\n};\n"

static const struct bad_case bad_cases[] = {
	{ "icmsg-peer-max-packet-0", IC("amplink,peer-max-packet = <0>;\n"), NULL, NULL, -EINVAL,
	  { ": /ipc-icmsg: amplink,peer-max-packet: ", "0: must be 1..65535" } },
	{ "icmsg-peer-max-packet-65536", IC("amplink,peer-max-packet = <65536>;\n"), NULL, NULL, -EINVAL,
	  { ": /ipc-icmsg: amplink,peer-max-packet: ", "65536: must be 1..65535" } },
	{ "icmsg-peer-max-packet-two-cells", IC("amplink,peer-max-packet = <1 2>;\n"), NULL, NULL, -EINVAL,
	  { ": /ipc-icmsg: amplink,peer-max-packet: ", "one 32-bit cell" } },
	{ "icmsg-max-packet-ext-value", IC("amplink,max-packet-ext = <1>;\n"), NULL, NULL, -EINVAL,
	  { ": /ipc-icmsg: amplink,max-packet-ext: ", "takes no value" } },
	{ "zynqmp-parent-without-ipi-id", ZQ("", ZQ_CHILD_OK), NULL, NULL, -EINVAL,
	  { ": " ZQ_PARENT ": xlnx,ipi-id: ", "missing" } },
	{ "zynqmp-child-without-ipi-id", ZQ(ZQ_PID, ZQ_REG_OK ZQ_NAMES_OK ZQ_MBOX), NULL, NULL, -EINVAL,
	  { ": " ZQ_CHILD ": xlnx,ipi-id: ", "missing" } },
	{ "zynqmp-parent-unknown-id-12", ZQ("xlnx,ipi-id = <12>;\n", ZQ_CHILD_OK), NULL, NULL, -EINVAL,
	  { ": " ZQ_PARENT ": xlnx,ipi-id: 12 is not a zynqmp IPI agent (valid: 0-10)" } },
	{ "zynqmp-child-unknown-id-12", ZQ(ZQ_PID, ZQ_REG_OK ZQ_NAMES_OK ZQ_MBOX "xlnx,ipi-id = <12>;\n"), NULL,
	  NULL, -EINVAL, { ": " ZQ_CHILD ": xlnx,ipi-id: 12 is not a zynqmp IPI agent" } },
	{ "zynqmp-ipi-id-two-cells", ZQ("xlnx,ipi-id = <0 0>;\n", ZQ_CHILD_OK), NULL, NULL, -EINVAL,
	  { ": " ZQ_PARENT ": xlnx,ipi-id: ", "one 32-bit cell" } },
	{ "zynqmp-child-id-equals-parent", ZQ(ZQ_PID, ZQ_REG_OK ZQ_NAMES_OK ZQ_MBOX "xlnx,ipi-id = <0>;\n"), NULL,
	  NULL, -EINVAL, { ": " ZQ_CHILD ": xlnx,ipi-id: ", "own agent" } },
	{ "zynqmp-local-request-off-by-0x40", ZQ(ZQ_PID, ZQ_REG("0xff990600", "0x20") ZQ_NAMES_OK ZQ_MBOX ZQ_CID),
	  NULL, NULL, -EINVAL,
	  { ": " ZQ_CHILD ": reg: ", "local_request_region is at 0xff990600", "expected 0xff9905c0" } },
	{ "zynqmp-reg-names-missing-entry",
	  ZQ(ZQ_PID, "reg = <0x0 0xff9905c0 0x0 0x20>, <0x0 0xff9905e0 0x0 0x20>, <0x0 0xff990e80 0x0 0x20>;\n"
		     "reg-names = \"local_request_region\", \"local_response_region\", \"remote_request_region\";\n"
		     ZQ_MBOX ZQ_CID),
	  NULL, NULL, -EINVAL, { ": " ZQ_CHILD ": reg-names: ", "\"remote_response_region\" missing" } },
	{ "zynqmp-reg-names-absent", ZQ(ZQ_PID, ZQ_REG_OK ZQ_MBOX ZQ_CID), NULL, NULL, -EINVAL,
	  { ": " ZQ_CHILD ": reg-names: ", "missing" } },
	{ "zynqmp-reg-names-wrong-name",
	  ZQ(ZQ_PID, ZQ_REG_OK "reg-names = \"local_request_region\", \"local_response_region\", "
			       "\"remote_request_region\", \"remote_reply_region\";\n" ZQ_MBOX ZQ_CID),
	  NULL, NULL, -EINVAL, { ": " ZQ_CHILD ": reg-names: ", "unknown region \"remote_reply_region\"" } },
	{ "zynqmp-reg-names-count", ZQ(ZQ_PID, ZQ_REG_OK "reg-names = \"local_request_region\";\n" ZQ_MBOX ZQ_CID),
	  NULL, NULL, -EINVAL, { ": " ZQ_CHILD ": reg-names: ", "1 names for 4 reg entries" } },
	{ "zynqmp-region-too-small", ZQ(ZQ_PID, ZQ_REG("0xff9905c0", "0x10") ZQ_NAMES_OK ZQ_MBOX ZQ_CID), NULL, NULL,
	  -EINVAL, { ": " ZQ_CHILD ": reg: ", "local_request_region is 0x10 bytes" } },
	{ "zynqmp-reg-bad-length",
	  ZQ(ZQ_PID, "reg = <0x0 0xff9905c0 0x0>;\nreg-names = \"local_request_region\";\n" ZQ_MBOX ZQ_CID), NULL,
	  NULL, -EINVAL, { ": " ZQ_CHILD ": reg: ", "12 bytes" } },
	{ "zynqmp-mbox-cells-2", ZQ(ZQ_PID, ZQ_REG_OK ZQ_NAMES_OK "#mbox-cells = <2>;\n" ZQ_CID), NULL, NULL, -EINVAL,
	  { ": " ZQ_CHILD ": #mbox-cells: ", "must be 1" } },
	{ "zynqmp-address-cells-3",
	  "/dts-v1/;\n/ {\n\tamba {\n\t\t#address-cells = <3>;\n\t\t#size-cells = <2>;\n"
	  "\t\tipm@0 {\n\t\t\tcompatible = \"nxp,imx-mu\";\n\t\t\treg = <0 0 0 0 0x4000>;\n\t\t};\n\t};\n};\n",
	  NULL, NULL, -EINVAL, { ": /amba: #address-cells: ", "3 cells are not supported" } },
	{ "zynqmp-dest-outside-controller",
	  "/dts-v1/;\n/ {\n\tmailbox@ff9905c0 {\n\t\tcompatible = \"xlnx,zynqmp-ipi-dest-mailbox\";\n"
	  "\t\txlnx,ipi-id = <4>;\n\t};\n};\n",
	  NULL, NULL, -EINVAL, { ": /mailbox@ff9905c0: compatible: ", "not a child" } },
	{ "versal-msg-on-bufferless-agent-9",
	  VS(VS_PARENT_APU, "reg = <0x0 0xff3a0000 0x0 0x1000>, <0x0 0xff3f0000 0x0 0x200>;\n"
			    "reg-names = \"ctrl\", \"msg\";\n#mbox-cells = <1>;\nxlnx,ipi-id = <9>;\n"),
	  NULL, NULL, -EINVAL, { ": " VS_CHILD ": reg-names: ", "\"msg\"", "ipi6(9) has no message buffers" } },
	{ "versal-parent-msg-on-bufferless-agent-9",
	  VS("reg = <0x0 0xff3a0000 0x0 0x1000>, <0x0 0xff3f0000 0x0 0x200>;\nreg-names = \"ctrl\", \"msg\";\n"
	     "xlnx,ipi-id = <9>;\n",
	     "reg = <0x0 0xff330000 0x0 0x1000>;\nreg-names = \"ctrl\";\nxlnx,ipi-id = <2>;\n"),
	  NULL, NULL, -EINVAL, { ": " VS_PARENT ": reg-names: ", "no message buffers" } },
	{ "versal-child-without-ctrl",
	  VS(VS_PARENT_APU, "reg = <0x0 0xff3f0000 0x0 0x200>;\nreg-names = \"msg\";\nxlnx,ipi-id = <3>;\n"), NULL,
	  NULL, -EINVAL, { ": " VS_CHILD ": reg-names: ", "\"ctrl\" missing" } },
	{ "versal-unknown-id-10", VS(VS_PARENT_APU, "reg = <0x0 0xff3a0000 0x0 0x1000>;\nreg-names = \"ctrl\";\n"
						     "xlnx,ipi-id = <10>;\n"),
	  NULL, NULL, -EINVAL, { ": " VS_CHILD ": xlnx,ipi-id: 10 is not a versal IPI agent (valid: 0-9)" } },
	{ "profile-mismatch-versal-tree-zynqmp-profile",
	  VS(VS_PARENT_APU, "reg = <0x0 0xff340000 0x0 0x1000>;\nreg-names = \"ctrl\";\nxlnx,ipi-id = <3>;\n"),
	  NULL, &ampl_soc_zynqmp, -EINVAL, { ": " VS_PARENT ": compatible: ", "versal", "zynqmp profile" } },
	{ "profile-mismatch-zynqmp-tree-versal-profile", ZQ(ZQ_PID, ZQ_CHILD_OK), NULL, &ampl_soc_versal, -EINVAL,
	  { ": " ZQ_PARENT ": compatible: ", "versal profile" } },
	{ "reserved-memory-child-without-reg",
	  "/dts-v1/;\n/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n\treserved-memory {\n"
	  "\t\t#address-cells = <1>;\n\t\t#size-cells = <1>;\n\t\tranges;\n"
	  "\t\tshared_ram: shared_ram@20040000 {\n\t\t\tno-map;\n\t\t};\n\t};\n};\n",
	  NULL, NULL, -EINVAL, { ": /reserved-memory/shared_ram@20040000: reg: ", "missing" } },
	{ "mu-without-reg",
	  "/dts-v1/;\n/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n"
	  "\tipm0: ipm@40028000 {\n\t\tcompatible = \"nxp,imx-mu\";\n\t\tinterrupts = <33 0>;\n\t};\n};\n",
	  NULL, NULL, -EINVAL, { ": /ipm@40028000: reg: ", "missing" } },
	/* an instance's amplink,agent: an agent of the profile that owns a side of the controller its mboxes name */
#define MU_USER(agent)                                                                                               \
	"/dts-v1/;\n/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n"                                           \
	"\tipm0: ipm@40028000 {\n\t\tcompatible = \"nxp,imx-mu\";\n\t\treg = <0x40028000 0x4000>;\n"               \
	"\t\t#mbox-cells = <2>;\n\t};\n\tuser {\n\t\tmboxes = <&ipm0 2 0>;\n\t\tamplink,agent = \"" agent "\";\n"  \
	"\t};\n};\n"
	{ "consumer-agent-not-in-profile", MU_USER("rpu0"), NULL, &ampl_soc_imx, -EINVAL,
	  { ": /user: amplink,agent: ", "'rpu0' is not an agent of the imx profile (agents: a, m4)" } },
	{ "consumer-agent-owns-no-side", MU_USER("rpu1"), NULL, &ampl_soc_zynqmp, -EINVAL,
	  { ": /user: amplink,agent: ", "rpu1 owns no side of /ipm@40028000 (its agents: apu, rpu0)" } },
	{ "consumer-agent-not-a-string", MU_USER("a\\0b"), NULL, &ampl_soc_imx, -EINVAL,
	  { ": /user: amplink,agent: ", "must be the name of an agent" } },
	/* RPMsg instances (zephyr,ipc-openamp-static-vrings) */
	{ "rpmsg-role-master", RP(RP_REG_OK, RP_REGION RP_MBOX "role = \"master\";\n", ""), NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": role: ", "'master': must be \"host\" or \"remote\"" } },
	{ "rpmsg-role-missing", RP(RP_REG_OK, RP_REGION RP_MBOX, ""), NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": role: ", "missing (required: \"host\" or \"remote\")" } },
	{ "rpmsg-role-not-a-string", RP(RP_REG_OK, RP_REGION RP_MBOX "role = <1>;\n", ""), NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": role: ", "must be a string" } },
	{ "rpmsg-vring-num-48", RP(RP_REG_OK, RP_OK "amplink,vring-num = <48>;\n", ""), NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": amplink,vring-num: ", "48: must be a power of two, 1..32768" } },
	{ "rpmsg-vring-num-0", RP(RP_REG_OK, RP_OK "amplink,vring-num = <0>;\n", ""), NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": amplink,vring-num: ", "0: must be a power of two" } },
	{ "rpmsg-vring-num-65536", RP(RP_REG_OK, RP_OK "amplink,vring-num = <65536>;\n", ""), NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": amplink,vring-num: ", "65536: must be a power of two, 1..32768" } },
	{ "rpmsg-vring-align-24", RP(RP_REG_OK, RP_OK "amplink,vring-align = <24>;\n", ""), NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": amplink,vring-align: ", "24: must be a power of two, 4..65536" } },
	{ "rpmsg-vring-align-2", RP(RP_REG_OK, RP_OK "amplink,vring-align = <2>;\n", ""), NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": amplink,vring-align: ", "2: must be a power of two, 4..65536" } },
	{ "rpmsg-region-too-small", RP("0x0 0x3ed80000 0x0 0x8000", RP_OK, ""), NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": memory-region: ",
	    RP_SHM " is 0x8000 bytes, smaller than the 0x8740 (34624) it needs: ",
	    "the 116-byte resource table and 2 vrings of 32 descriptors (854 bytes each) aligned to 16 end at 1856, "
	    "then 32 x 512-byte buffers host->remote and 32 x 512-byte buffers remote->host on 16-byte boundaries" } },
	{ "rpmsg-region-one-byte-short", RP("0x0 0x3ed80000 0x0 0x873f", RP_OK, ""), NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": memory-region: ", "is 0x873f bytes, smaller than the 0x8740" } },
	{ "rpmsg-region-too-small-linux-vrings",
	  RP(RP_REG_OK, RP_OK "amplink,vring-num = <256>;\namplink,vring-align = <0x1000>;\n", ""), NULL, NULL,
	  -EINVAL,
	  { ": " RP_PATH ": memory-region: ", "is 0x40000 bytes, smaller than the 0x46810 (288784) it needs",
	    "2 vrings of 256 descriptors (10246 bytes each) aligned to 4096 end at 26640" } },
	{ "rpmsg-region-too-small-h2r", RP(RP_REG_OK, RP_OK "amplink,h2r-buffer-size = <65536>;\n", ""), NULL, NULL,
	  -EINVAL, { ": " RP_PATH ": memory-region: ", "32 x 65536-byte buffers host->remote" } },
	{ "rpmsg-memory-region-missing", RP(RP_REG_OK, RP_MBOX RP_HOST, ""), NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": memory-region: ", "missing: an RPMsg instance needs <&region>" } },
	{ "rpmsg-memory-region-two", RP(RP_REG_OK, "memory-region = <&rpmsg_shm &other_shm>;\n" RP_MBOX RP_HOST, ""),
	  NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": memory-region: ", "must be one phandle, <&region> (it has 8 bytes)" } },
	{ "rpmsg-memory-region-not-reserved", RP(RP_REG_OK, "memory-region = <&mbox>;\n" RP_MBOX RP_HOST, ""), NULL,
	  NULL, -EINVAL, { ": " RP_PATH ": memory-region: ", "/mbox is not a reserved-memory region" } },
	{ "rpmsg-memory-region-above-4g", RP("0x1 0x0 0x0 0x40000", RP_OK, ""), NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": memory-region: ", "above 4 GiB" } },
	{ "rpmsg-buffer-size-30", RP(RP_REG_OK, RP_OK "zephyr,buffer-size = <30>;\n", ""), NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": zephyr,buffer-size: ", "30: must be 32..65536 bytes and a multiple of 4" } },
	{ "rpmsg-buffer-size-514", RP(RP_REG_OK, RP_OK "zephyr,buffer-size = <514>;\n", ""), NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": zephyr,buffer-size: ", "514: must be 32..65536 bytes and a multiple of 4" } },
	{ "rpmsg-buffer-size-65540", RP(RP_REG_OK, RP_OK "zephyr,buffer-size = <65540>;\n", ""), NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": zephyr,buffer-size: ", "65540: must be 32..65536" } },
	{ "rpmsg-r2h-buffer-size-0", RP(RP_REG_OK, RP_OK "amplink,r2h-buffer-size = <0>;\n", ""), NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": amplink,r2h-buffer-size: ", "0: must be 32..65536" } },
	{ "rpmsg-notify-id-any", RP(RP_REG_OK, RP_OK "amplink,notify-id = <0xffffffff>;\n", ""), NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": amplink,notify-id: ", "RSC_NOTIFY_ID_ANY" } },
	{ "rpmsg-mboxes-missing", RP(RP_REG_OK, RP_REGION RP_HOST, ""), NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": mboxes: ", "missing: an RPMsg instance needs <&mbox tx>, <&mbox rx>" } },
	{ "rpmsg-mbox-names-no-rx",
	  RP(RP_REG_OK, RP_REGION RP_HOST "mboxes = <&mbox 0>, <&mbox 1>;\nmbox-names = \"tx\", \"rpu0\";\n", ""),
	  NULL, NULL, -EINVAL, { ": " RP_PATH ": mbox-names: ", "must name a \"tx\" and an \"rx\" channel" } },
	{ "rpmsg-two-hosts", RP(RP_REG_OK, RP_OK, RP_NODE2("b", RP_OK)), NULL, NULL, -EINVAL,
	  { ": " RP_PATH "-b: role: ", "\"host\" on " RP_SHM ", as " RP_PATH " is; a region links one host and one "
	    "remote" } },
	{ "rpmsg-three-on-one-region", RP(RP_REG_OK, RP_OK, RP_NODE2("b", RP_REMOTE) RP_NODE2("c", RP_REMOTE)), NULL,
	  NULL, -EINVAL,
	  { ": " RP_PATH "-c: memory-region: ", RP_SHM " is already shared by " RP_PATH " and " RP_PATH "-b" } },
	{ "rpmsg-region-is-an-icmsg-ring",
	  RP(RP_REG_OK, RP_OK,
	     "\tipc-icmsg {\n\t\tcompatible = \"zephyr,ipc-icmsg\";\n\t\ttx-region = <&other_shm>;\n"
	     "\t\trx-region = <&rpmsg_shm>;\n\t\t" RP_MBOX "\t};\n"),
	  NULL, NULL, -EINVAL,
	  { ": " RP_PATH ": memory-region: ", RP_SHM " overlaps the rx-region of /ipc-icmsg" } },
	{ "dtb-garbage", "this is not a devicetree blob, just text in a file named .dtb\n", ".dtb", NULL, -EINVAL,
	  { ".dtb: ", "not a devicetree blob" } },
	{ "dts-syntax-error", "/dts-v1/;\n/ {\n\tx = <1>\n};\n", NULL, NULL, -EIO,
	  { ".dts: dtc failed", "syntax error" } },
	{ "dts-unknown-label", "/dts-v1/;\n/ {\n\tx = <&nowhere>;\n};\n", NULL, NULL, -EIO,
	  { ".dts: dtc failed", "nowhere" } },
};

static void run_bad_case(const struct bad_case *bc)
{
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	char path[256];
	int ret;

	print_message("case %s\n", bc->id);
	write_temp(path, sizeof(path), bc->suffix ? bc->suffix : ".dts", bc->text, strlen(bc->text));
	memset(&diag, 0, sizeof(diag));
	ret = ampl_dt_load_file(path, bc->profile, b, &diag);
	print_message("     -> %d %s\n", ret, diag.msg);
	if (ret != bc->expect)
		print_error("case %s: got %d, expected %d; diag: %s\n", bc->id, ret, bc->expect, diag.msg);
	assert_int_equal(ret, bc->expect);
	/* the diagnostic starts with the file name */
	if (strncmp(diag.msg, path, strlen(path)) != 0)
		print_error("case %s: diag does not start with %s: %s\n", bc->id, path, diag.msg);
	assert_int_equal(strncmp(diag.msg, path, strlen(path)), 0);
	for (size_t i = 0; i < sizeof(bc->want) / sizeof(bc->want[0]) && bc->want[i]; i++) {
		if (!strstr(diag.msg, bc->want[i]))
			print_error("case %s: diag lacks \"%s\": %s\n", bc->id, bc->want[i], diag.msg);
		assert_non_null(strstr(diag.msg, bc->want[i]));
	}
	assert_null(strchr(diag.msg, '\n'));
	unlink(path);
	free(b);
}

static void test_bad_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		run_bad_case(&bad_cases[i]);
}

/* Truncated and damaged blobs: -EINVAL naming the source. */
static void test_bad_blobs(void **state)
{
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	char path[256];
	unsigned char *copy;
	size_t n = ampl_default_board_dtb_size;

	(void)state;
	print_message("case dtb-truncated-file\n");
	write_temp(path, sizeof(path), ".dtb", ampl_default_board_dtb, n / 2);
	assert_int_equal(ampl_dt_load_file(path, NULL, b, &diag), -EINVAL);
	assert_int_equal(strncmp(diag.msg, path, strlen(path)), 0);
	assert_non_null(strstr(diag.msg, "truncated"));
	unlink(path);

	print_message("case dtb-truncated-blob\n");
	assert_int_equal(ampl_dt_load_blob(ampl_default_board_dtb, n - 1, "cut.dtb", NULL, b, &diag), -EINVAL);
	assert_non_null(strstr(diag.msg, "cut.dtb: "));

	print_message("case dtb-shorter-than-header\n");
	assert_int_equal(ampl_dt_load_blob(ampl_default_board_dtb, 16, "tiny.dtb", NULL, b, &diag), -EINVAL);
	assert_non_null(strstr(diag.msg, "tiny.dtb: "));

	copy = malloc(n);
	assert_non_null(copy);

	print_message("case dtb-bad-magic\n");
	memcpy(copy, ampl_default_board_dtb, n);
	copy[0] = 0;
	assert_int_equal(ampl_dt_load_blob(copy, n, "magic.dtb", NULL, b, &diag), -EINVAL);
	assert_non_null(strstr(diag.msg, "magic.dtb: "));

	print_message("case dtb-bad-version\n");
	memcpy(copy, ampl_default_board_dtb, n);
	copy[24] = copy[25] = copy[26] = copy[27] = 0xff; /* last compatible version */
	assert_int_equal(ampl_dt_load_blob(copy, n, "version.dtb", NULL, b, &diag), -EINVAL);
	assert_non_null(strstr(diag.msg, "version.dtb: "));

	print_message("case dtb-garbage-structure\n");
	memcpy(copy, ampl_default_board_dtb, n);
	for (size_t i = 0x40; i < 0x80 && i < n; i++)
		copy[i] = 0xa5;
	assert_int_equal(ampl_dt_load_blob(copy, n, "garbage.dtb", NULL, b, &diag), -EINVAL);
	assert_non_null(strstr(diag.msg, "garbage.dtb: "));

	free(copy);
	free(b);
}

static void test_missing_file(void **state)
{
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	void *dtb = (void *)&diag;
	size_t size = 1;

	(void)state;
	print_message("case missing-file\n");
	assert_int_equal(ampl_dt_load_file("/nonexistent/amplink/board.dts", NULL, b, &diag), -ENOENT);
	assert_string_equal(diag.msg, "/nonexistent/amplink/board.dts: no such file");
	assert_int_equal(ampl_dt_read_file("no-such-board.dtb", &dtb, &size, &diag), -ENOENT);
	assert_null(dtb);
	assert_int_equal(size, 0);
	assert_non_null(strstr(diag.msg, "no-such-board.dtb"));
	/* a NULL diag is allowed */
	assert_int_equal(ampl_dt_load_file("no-such-board.dts", NULL, b, NULL), -ENOENT);
	free(b);
}

/* Versal: doorbell when either side lacks "msg"; example addresses are warnings, not errors. */
static void test_versal_buffering(void **state)
{
	static const char parent_ctrl_only[] =
		VS("reg = <0x0 0xff330000 0x0 0x1000>;\nreg-names = \"ctrl\";\nxlnx,ipi-id = <2>;\n",
		   "reg = <0x0 0xff340000 0x0 0x1000>, <0x0 0xff3f0600 0x0 0x200>;\nreg-names = \"ctrl\", \"msg\";\n"
		   "xlnx,ipi-id = <3>;\n");
	static const char exact[] =
		VS(VS_PARENT_APU, "reg = <0x0 0xff3f0600 0x0 0x200>, <0x0 0xff340000 0x0 0x1000>;\n"
				  "reg-names = \"msg\", \"ctrl\";\nxlnx,ipi-id = <3>;\n");
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	char path[256];

	(void)state;
	print_message("case versal-parent-without-msg\n");
	write_temp(path, sizeof(path), ".dts", parent_ctrl_only, strlen(parent_ctrl_only));
	assert_int_equal(ampl_dt_load_file(path, NULL, b, &diag), 0);
	assert_int_equal(b->num_warnings, 0);
	assert_false(b->ctrls[0].chans[0].buffered);
	assert_int_equal(b->ctrls[0].chans[0].local_req, 0);
	unlink(path);

	print_message("case versal-exact-addresses\n");
	write_temp(path, sizeof(path), ".dts", exact, strlen(exact));
	assert_int_equal(ampl_dt_load_file(path, NULL, b, &diag), 0);
	if (b->num_warnings)
		print_error("%s", b->warnings);
	assert_int_equal(b->num_warnings, 0);
	assert_true(b->ctrls[0].chans[0].buffered);
	/* APU (slot 2) -> RPU0 (slot 3) and back */
	assert_int_equal(b->ctrls[0].chans[0].local_req, 0xff3f0400 + 3 * 0x40);
	assert_int_equal(b->ctrls[0].chans[0].remote_req, 0xff3f0600 + 2 * 0x40);
	unlink(path);
	free(b);
}

/* Append to a growing DTS text. */
__attribute__((format(printf, 3, 4))) static void append(char *buf, size_t cap, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	assert_true((size_t)vsnprintf(buf + len, cap - len, fmt, ap) < cap - len);
	va_end(ap);
}

static int load_text(const char *id, const char *text, struct ampl_dt_board *b, struct ampl_dt_diag *diag)
{
	char path[256];
	int ret;

	print_message("case %s\n", id);
	write_temp(path, sizeof(path), ".dts", text, strlen(text));
	ret = ampl_dt_load_file(path, NULL, b, diag);
	print_message("     -> %d %s\n", ret, ret ? diag->msg : "");
	unlink(path);
	return ret;
}

/* AMPL_DT_MAX_* are enforced with a message; a full warnings buffer ends in "..." and keeps counting. */
static void test_limits(void **state)
{
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	size_t cap = 64 * 1024;
	char *text = malloc(cap);

	(void)state;
	assert_non_null(text);

	text[0] = '\0';
	append(text, cap, "/dts-v1/;\n/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n"
			  "\treserved-memory {\n\t\t#address-cells = <1>;\n\t\t#size-cells = <1>;\n");
	for (unsigned i = 0; i <= AMPL_DT_MAX_MEMS; i++)
		append(text, cap, "\t\tr@%x { reg = <0x%x 0x100>; };\n", 0x1000 * i, 0x1000 * i);
	append(text, cap, "\t};\n};\n");
	assert_int_equal(load_text("too-many-mems", text, b, &diag), -EINVAL);
	assert_non_null(strstr(diag.msg, ": /reserved-memory/r@10000: more than 16 reserved-memory regions"));

	text[0] = '\0';
	append(text, cap, "/dts-v1/;\n/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n");
	for (unsigned i = 0; i <= AMPL_DT_MAX_MUS; i++)
		append(text, cap,
		       "\tmu@%x { compatible = \"fsl,imx8mq-mu\", \"fsl,imx6sx-mu\"; reg = <0x%x 0x100>; };\n",
		       0x1000 * i, 0x1000 * i);
	append(text, cap, "};\n");
	assert_int_equal(load_text("too-many-mus", text, b, &diag), -EINVAL);
	assert_non_null(strstr(diag.msg, ": /mu@8000: more than 8 messaging units"));

	/* every Versal agent as a controller with a channel to every other one, all at wrong ctrl addresses */
	text[0] = '\0';
	append(text, cap, "/dts-v1/;\n/ {\n\tbus {\n\t\t#address-cells = <2>;\n\t\t#size-cells = <2>;\n");
	for (unsigned i = 0; i < ampl_soc_versal.num_agents; i++) {
		append(text, cap,
		       "\t\tmailbox@%x {\n\t\t\tcompatible = \"xlnx,versal-ipi-mailbox\";\n"
		       "\t\t\t#address-cells = <2>;\n\t\t\t#size-cells = <2>;\n\t\t\tranges;\n"
		       "\t\t\treg = <0 0x%x 0 0x1000>;\n\t\t\treg-names = \"ctrl\";\n\t\t\txlnx,ipi-id = <%u>;\n",
		       0x1000 * i, 0x1000 * i, i);
		for (unsigned k = 0; k < ampl_soc_versal.num_agents; k++)
			if (k != i)
				append(text, cap,
				       "\t\t\tmailbox@%x { compatible = \"xlnx,versal-ipi-dest-mailbox\"; "
				       "reg = <0 0x%x 0 0x1000>; reg-names = \"ctrl\"; xlnx,ipi-id = <%u>; };\n",
				       0x100 * k, 0x100 * k, k);
		append(text, cap, "\t\t};\n");
	}
	append(text, cap, "\t};\n};\n");
	assert_int_equal(load_text("warnings-overflow", text, b, &diag), 0);
	assert_int_equal(b->num_ctrls, ampl_soc_versal.num_agents);
	assert_int_equal(b->num_warnings, ampl_soc_versal.num_agents * ampl_soc_versal.num_agents);
	assert_true(strlen(b->warnings) < sizeof(b->warnings));
	assert_string_equal(b->warnings + strlen(b->warnings) - 4, "...\n");
	assert_null(strstr(b->warnings, "...\n...\n"));
	for (unsigned i = 0; i < b->num_ctrls; i++) {
		assert_int_equal(b->ctrls[i].num_chans, ampl_soc_versal.num_agents - 1);
		for (unsigned k = 0; k < b->ctrls[i].num_chans; k++)
			assert_false(b->ctrls[i].chans[k].buffered);
	}

	free(text);
	free(b);
}

/* RPMsg nodes that load: every optional property, the defaults, a remote's ignored overrides, an exact fit. */
static void test_icmsg_peer_max_packet(void **state)
{
	(void)state;
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	assert_int_equal(load_text("icmsg-peer-max-packet", IC("unbound = \"enable\";\namplink,peer-max-packet = <496>;\n"),
				   b, &diag), 0);
	assert_int_equal(b->num_icmsgs, 1);
	assert_int_equal(b->icmsgs[0].peer_max_packet, 496);
	assert_int_equal(b->icmsgs[0].unbound, AMPL_DT_ICMSG_UNBOUND_ENABLE);
	assert_int_equal(b->icmsgs[0].max_packet_ext, false);
	assert_int_equal(load_text("icmsg-no-peer-max-packet", IC(""), b, &diag), 0);
	assert_int_equal(b->icmsgs[0].peer_max_packet, 0); /* absent: the library's default (128) */
	assert_int_equal(b->icmsgs[0].max_packet_ext, false); /* absent: the bare magic */
	assert_int_equal(load_text("icmsg-max-packet-ext", IC("amplink,max-packet-ext;\n"), b, &diag), 0);
	assert_int_equal(b->icmsgs[0].max_packet_ext, true);
	free(b);
}

static void test_rpmsg_valid(void **state)
{
	static const char full[] =
		RP(RP_REG_OK,
		   RP_OK "zephyr,buffer-size = <256>;\namplink,h2r-buffer-size = <1024>;\n"
			 "amplink,r2h-buffer-size = <128>;\namplink,vring-num = <64>;\n"
			 "amplink,vring-align = <0x1000>;\namplink,notify-id = <7>;\n",
		   RP_NODE2("remote", RP_REMOTE "zephyr,buffer-size = <256>;\namplink,h2r-buffer-size = <1024>;\n"
						"amplink,vring-num = <64>;\namplink,vring-align = <0x1000>;\n"
						"amplink,notify-id = <7>;\n"));
	static const char exact[] = RP("0x0 0x3ed80000 0x0 0x8740", RP_REMOTE, "");
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	const struct ampl_dt_rpmsg *r;

	(void)state;
	assert_int_equal(load_text("rpmsg-every-property", full, b, &diag), 0);
	assert_int_equal(b->num_rpmsgs, 2);
	r = ampl_dt_find_rpmsg(b, RP_PATH);
	assert_ptr_equal(r, &b->rpmsgs[0]);
	check_node(&r->node, "ipc-rpmsg", RP_PATH, "", true);
	assert_string_equal(b->mems[r->mem].node.path, RP_SHM);
	assert_int_equal(r->addr, 0x3ed80000);
	assert_int_equal(r->size, 0x40000);
	assert_int_equal(r->role, AMPL_DT_RPMSG_HOST);
	assert_int_equal(r->buffer_size, 256);
	assert_int_equal(r->h2r_buffer_size, 1024);
	assert_int_equal(r->r2h_buffer_size, 128);
	assert_int_equal(r->vring_num, 64);
	assert_int_equal(r->vring_align, 0x1000);
	assert_int_equal(r->notify_id, 7);
	/* table 0..116, vring 0 at 4096, vring 1 at 12288 (4614 bytes each), buffers from 16912: 64 x (1024 + 128) */
	assert_int_equal(r->min_size, 16912 + 64 * (1024 + 128));
	assert_string_equal(b->consumers[r->consumer].node.path, RP_PATH);
	assert_string_equal(b->consumers[r->consumer].mboxes[r->tx_mbox].provider, "/mbox");
	assert_int_equal(b->consumers[r->consumer].mboxes[r->rx_mbox].args[0], 1);

	/* the remote takes zephyr,buffer-size both ways; its override is a warning naming node and property */
	r = ampl_dt_find_rpmsg(b, "ipc-rpmsg-remote");
	assert_ptr_equal(r, &b->rpmsgs[1]);
	assert_int_equal(r->role, AMPL_DT_RPMSG_REMOTE);
	assert_int_equal(r->h2r_buffer_size, 256);
	assert_int_equal(r->r2h_buffer_size, 256);
	assert_int_equal(r->min_size, 16912 + 64 * (256 + 256));
	assert_int_equal(b->num_warnings, 1);
	assert_non_null(strstr(b->warnings, ": " RP_PATH "-remote: amplink,h2r-buffer-size: ignored on a \"remote\" "
					    "node"));

	/* the defaults, in a region of exactly the minimum */
	assert_int_equal(load_text("rpmsg-defaults-exact-fit", exact, b, &diag), 0);
	assert_int_equal(b->num_rpmsgs, 1);
	r = &b->rpmsgs[0];
	assert_int_equal(r->role, AMPL_DT_RPMSG_REMOTE);
	assert_int_equal(r->buffer_size, AMPL_DT_RPMSG_BUF_DEFAULT);
	assert_int_equal(r->h2r_buffer_size, 512);
	assert_int_equal(r->r2h_buffer_size, 512);
	assert_int_equal(r->vring_num, AMPL_DT_RPMSG_VRING_NUM_DEFAULT);
	assert_int_equal(r->vring_align, AMPL_DT_RPMSG_VRING_ALIGN_DEFAULT);
	assert_int_equal(r->notify_id, 0);
	assert_int_equal(r->min_size, r->size);
	assert_int_equal(b->num_warnings, 0);
	free(b);
}

/* The minimum region size: the formula of dt.h at the binding's corners. */
static void test_rpmsg_min_size(void **state)
{
	(void)state;
	/* defaults: vring 0 at 128, vring 1 at 992 (854 bytes each), buffers from 1856: 32 x (512 + 512) */
	assert_int_equal(ampl_dt_rpmsg_min_size(32, 16, 512, 512), 1856 + 32 * 1024);
	/* buffer sizes are placed on 16-byte boundaries */
	assert_int_equal(ampl_dt_rpmsg_min_size(32, 16, 516, 516), 1856 + 32 * 2 * 528);
	/* a Linux peer's vrings (256 descriptors of 10246 bytes, 4 KiB aligned): at 4096 and 16384, buffers from 26640 */
	assert_int_equal(ampl_dt_rpmsg_min_size(256, 0x1000, 512, 512), 26640 + 256 * 1024);
	/* the smallest: vrings of 38 bytes at 116 and 156, buffers from 208 */
	assert_int_equal(ampl_dt_rpmsg_min_size(1, 4, 32, 32), 208 + 64);
	/* the largest does not overflow: vrings of 917510 bytes at 65536 and 1048576, buffers from 1966096 */
	assert_true(ampl_dt_rpmsg_min_size(32768, 65536, 65536, 65536) == 1966096ull + 32768ull * 131072ull);
}

/* Every reserved-memory region of the default board is RAM in the virtual SoC image, shared by every process. */
static void test_default_board_soc_memory(void **state)
{
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	struct ampl_soc *one, *two;
	char name[64];
	int ret;

	(void)state;
	assert_int_equal(ampl_dt_load_blob(ampl_default_board_dtb, ampl_default_board_dtb_size, AMPL_DEFAULT_BOARD_NAME,
					   NULL, b, &diag),
			 0);
	snprintf(name, sizeof(name), "t-dt-%d", (int)getpid());
	ret = ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0);
	if (ret)
		fail_msg("ampl_soc_create: %d %s", ret, ampl_soc_last_error());
	assert_int_equal(ampl_soc_open(name, &one), 0);
	assert_int_equal(ampl_soc_open(name, &two), 0);
	for (unsigned i = 0; i < b->num_mems; i++) {
		const struct ampl_dt_mem *m = &b->mems[i];
		volatile uint8_t *p1 = ampl_soc_phys(one, m->addr, (size_t)m->size);
		volatile uint8_t *p2 = ampl_soc_phys(two, m->addr, (size_t)m->size);

		print_message("region %s 0x%llx+0x%llx\n", m->node.path, (unsigned long long)m->addr,
			      (unsigned long long)m->size);
		assert_non_null(p1);
		assert_non_null(p2);
		/* first and last byte, written through one mapping, read through the other */
		p1[0] = (uint8_t)(0x5a + i);
		p1[m->size - 1] = (uint8_t)(0xa5 - i);
		assert_int_equal(p2[0], (uint8_t)(0x5a + i));
		assert_int_equal(p2[m->size - 1], (uint8_t)(0xa5 - i));
		/* nothing past the end belongs to the region */
		assert_null(ampl_soc_phys(one, m->addr, (size_t)m->size + 1));
	}
	/* the RPMsg region, whole */
	assert_non_null(ampl_soc_phys(one, 0x3ed80000, 0x40000));
	ampl_soc_close(two);
	ampl_soc_close(one);
	assert_int_equal(ampl_soc_destroy(name), 0);
	free(b);
}

/* --- the C preprocessor ---------------------------------------------------------------------------------- */

/* Every file in dts/seeds/ loads; the IPI seeds are written as the seed writes them (GIC macros, #include). */
static void test_seeds_all_load(void **state)
{
	static const char *const gic_seeds[] = { "zynqmp-ipi.dts", "versal-ipi.dts" };
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	DIR *d = opendir(AMPL_SOURCE_DIR "/dts/seeds");
	struct dirent *e;
	unsigned loaded = 0;
	char path[512];

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		int ret;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/dts/seeds/%s", AMPL_SOURCE_DIR, e->d_name);
		print_message("seed %s\n", e->d_name);
		ret = ampl_dt_load_file(path, NULL, b, &diag);
		if (ret)
			print_error("%s: %d %s\n", e->d_name, ret, diag.msg);
		assert_int_equal(ret, 0);
		loaded++;
	}
	closedir(d);
	assert_true(loaded >= 4);
	for (size_t i = 0; i < sizeof(gic_seeds) / sizeof(gic_seeds[0]); i++) {
		void *text;
		size_t len;
		FILE *f;

		snprintf(path, sizeof(path), "%s/dts/seeds/%s", AMPL_SOURCE_DIR, gic_seeds[i]);
		f = fopen(path, "r");
		assert_non_null(f);
		text = calloc(1, 65536);
		assert_non_null(text);
		len = fread(text, 1, 65535, f);
		fclose(f);
		assert_true(len > 0);
		assert_non_null(strstr(text, "#include <dt-bindings/interrupt-controller/arm-gic.h>"));
		assert_non_null(strstr(text, "interrupts = <GIC_SPI 29 IRQ_TYPE_LEVEL_HIGH>;"));
		free(text);
		/* the macros give the GIC specifier <0 29 4>: interrupt 29 */
		assert_int_equal(ampl_dt_load_file(path, NULL, b, &diag), 0);
		assert_int_equal(b->ctrls[0].irq, 29);
	}
	free(b);
}

/* Write @text to @dir/@name (creating nothing else). */
static void write_in(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void remove_in(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(remove(path), 0);
}

static unsigned count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* One cell property of @node in a blob. */
static const fdt32_t *blob_cells(const void *dtb, const char *node, const char *prop, int *count)
{
	int off = fdt_path_offset(dtb, node), len = 0;
	const fdt32_t *v;

	assert_true(off >= 0);
	v = fdt_getprop(dtb, off, prop, &len);
	assert_non_null(v);
	*count = len / 4;
	return v;
}

/*
 * A board file as Linux writes it: #include "..." and #include <...> from the file's folder, from an include folder
 * the caller gives, and from the built-in dt-bindings; macros; -undef and __DTS__ as in the kernel's build. Errors
 * name the user's file and line, not the preprocessed text; the private temporary folder is removed.
 */
static void test_preprocessor(void **state)
{
	static const char board[] =
		"/dts-v1/;\n"                                                       /* 1 */
		"#include <dt-bindings/interrupt-controller/arm-gic.h>\n"           /* 2 */
		"#include <vendor/soc.h>\n"                                         /* 3 */
		"#include \"common.dtsi\"\n"                                        /* 4 */
		"\n"                                                                /* 5 */
		"/ {\n"                                                             /* 6 */
		"\tvals = <GIC_SPI GIC_PPI GIC_ESPI GIC_EPPI IRQ_TYPE_NONE IRQ_TYPE_EDGE_RISING IRQ_TYPE_EDGE_FALLING\n"
		"\t\tIRQ_TYPE_EDGE_BOTH IRQ_TYPE_LEVEL_HIGH IRQ_TYPE_LEVEL_LOW GIC_CPU_MASK_SIMPLE(4)>;\n"
		"#if defined(__DTS__) && !defined(linux) && !defined(unix) && !defined(__linux__)\n"
		"\tpredefined = <0>;\n"
		"#else\n"
		"\tpredefined = <1>;\n"
		"#endif\n"
		"\tgic: interrupt-controller { #interrupt-cells = <3>; };\n"
		"\tamba {\n"
		"\t\t#address-cells = <2>;\n\t\t#size-cells = <2>;\n"
		"\t\tzynqmp-mailbox {\n"
		"\t\t\tcompatible = \"xlnx,zynqmp-ipi-mailbox\";\n"
		"\t\t\tinterrupt-parent = <&gic>;\n"
		"\t\t\tinterrupts = <GIC_SPI VENDOR_IPI_IRQ IRQ_TYPE_LEVEL_HIGH>;\n"
		"\t\t\txlnx,ipi-id = <0>;\n"
		"\t\t};\n\t};\n};\n";
	static const char common[] = "/ {\n\treserved-memory {\n\t\t#address-cells = <1>;\n\t\t#size-cells = <1>;\n"
				     "\t\tranges;\n\t\tshm@VENDOR_SHM_NODE {\n\t\t\treg = <VENDOR_SHM_BASE 0x1000>;\n"
				     "\t\t};\n\t};\n};\n";
	static const char vendor[] = "#define VENDOR_IPI_IRQ 35\n#define VENDOR_SHM_NODE 3ed00000\n"
				     "#define VENDOR_SHM_BASE 0x3ed00000\n";
	/* a syntax error on line 7 of the user's file (the ';' missing after line 6), after three #include lines */
	static const char bad_line[] = "/dts-v1/;\n#include <dt-bindings/interrupt-controller/irq.h>\n"
				       "#include <vendor/soc.h>\n#include \"common.dtsi\"\n/ {\n\tx = <1>\n};\n";
	/* a syntax error on line 2 of an included file */
	static const char bad_inc[] = "/dts-v1/;\n#include \"broken.dtsi\"\n";
	static const char broken[] = "/ {\n\ty = <2>\n};\n";
	static const char stdinc[] = "/dts-v1/;\n#include <stdint.h>\n/ { };\n";
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	char root[256], inc[300], vdir[320], work[300], path[512], want[600];
	const char *old_tmpdir = getenv("TMPDIR");
	char *saved_tmpdir = old_tmpdir ? strdup(old_tmpdir) : NULL;
	const char *dirs[AMPL_DT_MAX_INCLUDE_DIRS + 1];
	struct ampl_dt_load_opts opts = { .include_dirs = dirs, .num_include_dirs = 1 };
	const fdt32_t *v;
	void *dtb;
	size_t size;
	int n;

	(void)state;
	snprintf(root, sizeof(root), "%s/test_dt-cpp-XXXXXX", old_tmpdir && *old_tmpdir ? old_tmpdir : "/tmp");
	assert_non_null(mkdtemp(root));
	snprintf(inc, sizeof(inc), "%s/inc", root);
	snprintf(vdir, sizeof(vdir), "%s/inc/vendor", root);
	snprintf(work, sizeof(work), "%s/tmp", root);
	assert_int_equal(mkdir(inc, 0700), 0);
	assert_int_equal(mkdir(vdir, 0700), 0);
	assert_int_equal(mkdir(work, 0700), 0);
	write_in(root, "board.dts", board);
	write_in(root, "common.dtsi", common);
	write_in(vdir, "soc.h", vendor);
	write_in(root, "badline.dts", bad_line);
	write_in(root, "badinc.dts", bad_inc);
	write_in(root, "broken.dtsi", broken);
	write_in(root, "stdinc.dts", stdinc);
	dirs[0] = inc;
	/* the loader's temporary files go to TMPDIR: a folder of our own, to see that they are removed */
	assert_int_equal(setenv("TMPDIR", work, 1), 0);

	print_message("case cpp-includes-and-macros\n");
	snprintf(path, sizeof(path), "%s/board.dts", root);
	n = ampl_dt_load_file_opts(path, &opts, NULL, b, &diag);
	if (n)
		print_error("%s\n", diag.msg);
	assert_int_equal(n, 0);
	assert_ptr_equal(b->profile, &ampl_soc_zynqmp);
	assert_int_equal(b->ctrls[0].irq, 35);
	assert_int_equal(b->num_mems, 1);
	assert_string_equal(b->mems[0].node.path, "/reserved-memory/shm@3ed00000");
	assert_int_equal(b->mems[0].addr, 0x3ed00000);
	assert_int_equal(b->mems[0].size, 0x1000);
	assert_string_equal(b->source, path);

	print_message("case cpp-binding-values\n");
	assert_int_equal(ampl_dt_read_file_opts(path, &opts, &dtb, &size, &diag), 0);
	v = blob_cells(dtb, "/", "vals", &n);
	{
		static const uint32_t expect[] = { 0, 1, 2, 3, 0, 1, 2, 3, 4, 8, 0xf00 };

		assert_int_equal(n, (int)(sizeof(expect) / sizeof(expect[0])));
		for (int i = 0; i < n; i++)
			assert_int_equal(fdt32_to_cpu(v[i]), expect[i]);
	}
	v = blob_cells(dtb, "/", "predefined", &n);
	assert_int_equal(n, 1);
	assert_int_equal(fdt32_to_cpu(v[0]), 0); /* -undef -D__DTS__: no "linux" or "unix" to expand */
	free(dtb);

	print_message("case cpp-without-the-include-folder\n");
	assert_int_equal(ampl_dt_load_file(path, NULL, b, &diag), -EIO);
	print_message("     -> %s\n", diag.msg);
	snprintf(want, sizeof(want), "%s: cpp failed", path);
	assert_non_null(strstr(diag.msg, want));
	snprintf(want, sizeof(want), "%s:3:10: fatal error: vendor/soc.h: No such file or directory", path);
	assert_non_null(strstr(diag.msg, want));
	assert_null(strstr(diag.msg, "| #include")); /* no source excerpt */
	assert_null(strchr(diag.msg, '\n'));

	print_message("case cpp-dtc-error-at-the-users-line\n");
	snprintf(path, sizeof(path), "%s/badline.dts", root);
	assert_int_equal(ampl_dt_load_file_opts(path, &opts, NULL, b, &diag), -EIO);
	print_message("     -> %s\n", diag.msg);
	snprintf(want, sizeof(want), "%s:7.1-2 syntax error", path);
	assert_non_null(strstr(diag.msg, want));
	assert_null(strstr(diag.msg, "board.dts.i"));

	print_message("case cpp-dtc-error-in-an-included-file\n");
	snprintf(path, sizeof(path), "%s/badinc.dts", root);
	assert_int_equal(ampl_dt_load_file_opts(path, &opts, NULL, b, &diag), -EIO);
	print_message("     -> %s\n", diag.msg);
	snprintf(want, sizeof(want), "%s/broken.dtsi:3.1-2 syntax error", root);
	assert_non_null(strstr(diag.msg, want));

	print_message("case cpp-nostdinc\n");
	snprintf(path, sizeof(path), "%s/stdinc.dts", root);
	assert_int_equal(ampl_dt_load_file_opts(path, &opts, NULL, b, &diag), -EIO);
	print_message("     -> %s\n", diag.msg);
	assert_non_null(strstr(diag.msg, "stdint.h: No such file or directory"));

	print_message("case cpp-too-many-include-folders\n");
	for (unsigned i = 0; i <= AMPL_DT_MAX_INCLUDE_DIRS; i++)
		dirs[i] = inc;
	opts.num_include_dirs = AMPL_DT_MAX_INCLUDE_DIRS + 1;
	assert_int_equal(ampl_dt_load_file_opts(path, &opts, NULL, b, &diag), -EINVAL);
	assert_non_null(strstr(diag.msg, "include folders; at most 16"));
	opts.num_include_dirs = AMPL_DT_MAX_INCLUDE_DIRS;
	snprintf(path, sizeof(path), "%s/board.dts", root);
	assert_int_equal(ampl_dt_load_file_opts(path, &opts, NULL, b, &diag), 0);

	/* nothing left behind in TMPDIR, whatever the outcome */
	assert_int_equal(count_entries(work), 0);

	if (saved_tmpdir)
		setenv("TMPDIR", saved_tmpdir, 1);
	else
		unsetenv("TMPDIR");
	free(saved_tmpdir);
	remove_in(vdir, "soc.h");
	remove_in(inc, "vendor");
	remove_in(root, "inc");
	remove_in(root, "tmp");
	remove_in(root, "board.dts");
	remove_in(root, "common.dtsi");
	remove_in(root, "badline.dts");
	remove_in(root, "badinc.dts");
	remove_in(root, "broken.dtsi");
	remove_in(root, "stdinc.dts");
	assert_int_equal(rmdir(root), 0);
	free(b);
}

/* Without cpp in PATH: a clear error naming the package; a .dtb needs neither tool. */
static void test_preprocessor_missing(void **state)
{
	const char *old_path = getenv("PATH");
	char *saved = old_path ? strdup(old_path) : NULL;
	char dir[256], link[300], dtc[512] = "";
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	const char *tmpdir = getenv("TMPDIR");

	(void)state;
	assert_non_null(saved);
	/* dtc from PATH, alone in a folder of its own */
	for (char *p = saved, *end; *p; p = *end ? end + 1 : end) {
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		snprintf(dtc, sizeof(dtc), "%.*s/dtc", (int)(end - p), p);
		if (access(dtc, X_OK) == 0)
			break;
		dtc[0] = '\0';
	}
	assert_true(dtc[0] != '\0');
	snprintf(dir, sizeof(dir), "%s/test_dt-path-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/dtc", dir);
	assert_int_equal(symlink(dtc, link), 0);
	assert_int_equal(setenv("PATH", dir, 1), 0);

	print_message("case cpp-not-installed\n");
	assert_int_equal(ampl_dt_load_file(AMPL_SOURCE_DIR "/dts/seeds/zynqmp-ipi.dts", NULL, b, &diag), -EIO);
	print_message("     -> %s\n", diag.msg);
	assert_non_null(strstr(diag.msg, "zynqmp-ipi.dts: cpp (the C preprocessor"));
	assert_non_null(strstr(diag.msg, "install the Debian package cpp"));

	setenv("PATH", saved, 1);
	free(saved);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(rmdir(dir), 0);
	free(b);
}

/* --- files the loader reads ------------------------------------------------------------------------------ */

/* A file larger than AMPL_DT_FILE_MAX is refused before it is read whole: a regular file by its size, a device
 * (/dev/zero: endless) after AMPL_DT_FILE_MAX + 1 bytes. */
static void test_file_bound(void **state)
{
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	char path[256];
	void *dtb = NULL;
	size_t size = 1;
	int fd;

	(void)state;
	print_message("case file-too-large\n");
	write_temp(path, sizeof(path), ".dts", "/dts-v1/;\n/ { };\n", 17);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)AMPL_DT_FILE_MAX + 1), 0); /* sparse: a valid start, then zeros */
	close(fd);
	assert_int_equal(ampl_dt_load_file(path, NULL, b, &diag), -EFBIG);
	print_message("     -> %s\n", diag.msg);
	assert_int_equal(strncmp(diag.msg, path, strlen(path)), 0);
	assert_non_null(strstr(diag.msg, ": larger than 4194304 bytes (AMPL_DT_FILE_MAX)"));
	/* exactly the limit is read (and then refused by dtc for the zeros, not for its size) */
	assert_int_equal(truncate(path, (off_t)AMPL_DT_FILE_MAX), 0);
	assert_int_equal(ampl_dt_load_file(path, NULL, b, &diag), -EIO);
	assert_null(strstr(diag.msg, "AMPL_DT_FILE_MAX"));
	unlink(path);

	print_message("case dev-zero\n");
	assert_int_equal(ampl_dt_read_file("/dev/zero", &dtb, &size, &diag), -EFBIG);
	print_message("     -> %s\n", diag.msg);
	assert_null(dtb);
	assert_int_equal(size, 0);
	assert_string_equal(diag.msg, "/dev/zero: larger than 4194304 bytes (AMPL_DT_FILE_MAX): not a devicetree");
	free(b);
}

/* --- one memory-map rule for dt check and soc create ----------------------------------------------------- */

static void test_check_spans(void **state)
{
	const struct ampl_dt_span ok[] = {
		{ "a", 0x1000, 0x1000 },
		{ "b", 0x2000, 0x1000 },                          /* touches a */
		{ "top", 0xfffffffffffff000ull, 0xfff },          /* ends at 2^64 - 1 */
	};
	const struct ampl_dt_span overlap[] = { { "a", 0x1000, 0x1000 }, { "b", 0x1fff, 0x10 } };
	const struct ampl_dt_span wrap[] = { { "a", 0x1000, 0x1000 }, { "w", 0xfffffffffffff000ull, 0x2000 } };
	const struct ampl_dt_span to_end[] = { { "e", 0xfffffffffffff000ull, 0x1000 } }; /* ends at 2^64 */
	const struct ampl_dt_span empty[] = { { "a", 0x1000, 0x1000 }, { "b", 0x1000, 0 }, { "c", 0, 1 } };
	/* wrapped, [0xffff...f000, 0x1000) would overlap "low" if its end were taken modulo 2^64 */
	const struct ampl_dt_span inside[] = { { "low", 0x0, 0x800 }, { "w", 0xfffffffffffff000ull, 0x1800 } };
	unsigned bad = 99;
	char why[256];

	(void)state;
	assert_int_equal(ampl_dt_check_spans(ok, 3, &bad, why, sizeof(why)), 0);
	assert_int_equal(ampl_dt_check_spans(NULL, 0, &bad, why, sizeof(why)), 0);
	assert_int_equal(ampl_dt_check_spans(overlap, 2, &bad, why, sizeof(why)), -EINVAL);
	assert_int_equal(bad, 1);
	assert_string_equal(why, "0x1fff+0x10 overlaps a (0x1000+0x1000)");
	assert_int_equal(ampl_dt_check_spans(wrap, 2, &bad, why, sizeof(why)), -EINVAL);
	assert_int_equal(bad, 1);
	assert_non_null(strstr(why, "0xfffffffffffff000+0x2000 runs past the end of the 64-bit address space"));
	assert_int_equal(ampl_dt_check_spans(to_end, 1, &bad, NULL, 0), -EINVAL);
	assert_int_equal(bad, 0);
	assert_int_equal(ampl_dt_check_spans(empty, 3, &bad, why, sizeof(why)), -EINVAL);
	assert_int_equal(bad, 1);
	assert_string_equal(why, "0x1000+0x0 is empty");
	assert_int_equal(ampl_dt_check_spans(inside, 2, &bad, why, sizeof(why)), -EINVAL);
	assert_int_equal(bad, 1);
	assert_non_null(strstr(why, "runs past the end"));
}

/*
 * Boards whose memory map breaks the rule: dt check (the loader) and soc create refuse each one, for the same
 * reason; boards that keep it are taken by both.
 */
struct map_case {
	const char *id;
	const struct ampl_soc_profile *profile; /* for the loader; soc create takes the board's, else zynqmp */
	const char *text;
	const char *want; /* NULL: loads and creates */
};

#define MAP_HEAD                                                                                                  \
	"/dts-v1/;\n/ {\n\t#address-cells = <2>;\n\t#size-cells = <2>;\n\treserved-memory {\n"                     \
	"\t\t#address-cells = <2>;\n\t\t#size-cells = <2>;\n\t\tranges;\n"
#define MAP_MEM(name, reg) "\t\t" name " { reg = <" reg ">; };\n"
#define MAP_TAIL "\t};\n};\n"
#define MAP_MU(name, reg, status)                                                                                 \
	"\t" name " { compatible = \"nxp,imx-mu\"; reg = <" reg ">; status = \"" status "\"; };\n"

static const struct map_case map_cases[] = {
	{ "mem-overlap", NULL,
	  MAP_HEAD MAP_MEM("a@3ed00000", "0x0 0x3ed00000 0x0 0x10000") MAP_MEM("b@3ed08000", "0x0 0x3ed08000 0x0 0x1000")
		  MAP_TAIL,
	  "/reserved-memory/b@3ed08000: reg: 0x3ed08000+0x1000 overlaps /reserved-memory/a@3ed00000 "
	  "(0x3ed00000+0x10000)" },
	{ "mem-wraps", NULL, MAP_HEAD MAP_MEM("w@fffff000", "0xffffffff 0xfffff000 0x0 0x2000") MAP_TAIL,
	  "/reserved-memory/w@fffff000: reg: 0xfffffffffffff000+0x2000 runs past the end of the 64-bit address "
	  "space" },
	{ "mem-to-2^64", NULL, MAP_HEAD MAP_MEM("e@fffff000", "0xffffffff 0xfffff000 0x0 0x1000") MAP_TAIL,
	  "/reserved-memory/e@fffff000: reg: 0xfffffffffffff000+0x1000 runs past the end" },
	{ "mem-empty", NULL, MAP_HEAD MAP_MEM("z@3ed00000", "0x0 0x3ed00000 0x0 0x0") MAP_TAIL,
	  "/reserved-memory/z@3ed00000: reg: 0x3ed00000+0x0 is empty" },
	{ "mem-over-ipi-buffers", &ampl_soc_zynqmp,
	  MAP_HEAD MAP_MEM("shm@ff990000", "0x0 0xff990000 0x0 0x1000") MAP_TAIL,
	  "/reserved-memory/shm@ff990000: reg: 0xff990000+0x1000 overlaps the zynqmp IPI message-buffer RAM "
	  "(0xff990000+" },
	{ "mu-overlap", NULL,
	  MAP_HEAD MAP_TAIL "/ {\n" MAP_MU("mu@30aa0000", "0x0 0x30aa0000 0x0 0x10000", "okay")
		  MAP_MU("mu@30aa8000", "0x0 0x30aa8000 0x0 0x10000", "okay") "};\n",
	  "/mu@30aa8000: reg: 0x30aa8000+0x10000 overlaps /mu@30aa0000 (0x30aa0000+0x10000)" },
	{ "fits", NULL,
	  MAP_HEAD MAP_MEM("a@3ed00000", "0x0 0x3ed00000 0x0 0x8000") MAP_MEM("b@3ed08000", "0x0 0x3ed08000 0x0 0x8000")
		  MAP_TAIL,
	  NULL },
	{ "fits-below-ipi-buffers", &ampl_soc_zynqmp,
	  MAP_HEAD MAP_MEM("shm@ff980000", "0x0 0xff980000 0x0 0x10000") MAP_TAIL, NULL },
	{ "mu-disabled-overlap", NULL,
	  MAP_HEAD MAP_TAIL "/ {\n" MAP_MU("mu@30aa0000", "0x0 0x30aa0000 0x0 0x10000", "okay")
		  MAP_MU("mu@30aa8000", "0x0 0x30aa8000 0x0 0x10000", "disabled") "};\n",
	  NULL },
};

static void test_memory_map_rule(void **state)
{
	struct ampl_dt_board *b = new_board();
	struct ampl_dt_diag diag;
	char path[256], name[64];

	(void)state;
	snprintf(name, sizeof(name), "t-dtmap-%d", (int)getpid());
	for (size_t i = 0; i < sizeof(map_cases) / sizeof(map_cases[0]); i++) {
		const struct map_case *mc = &map_cases[i];
		const struct ampl_soc_profile *p;
		void *dtb;
		size_t size;
		int ret;

		print_message("case %s\n", mc->id);
		write_temp(path, sizeof(path), ".dts", mc->text, strlen(mc->text));
		ret = ampl_dt_load_file(path, mc->profile, b, &diag);
		print_message("     dt check   -> %d %s\n", ret, ret ? diag.msg : "");
		if (mc->want) {
			assert_int_equal(ret, -EINVAL);
			assert_int_equal(strncmp(diag.msg, path, strlen(path)), 0);
			assert_non_null(strstr(diag.msg, mc->want));
		} else {
			assert_int_equal(ret, 0);
		}
		/* soc create: the profile as `amplink soc create --dts` picks it */
		p = mc->profile ? mc->profile : b->profile ? b->profile : b->num_mus ? &ampl_soc_imx : &ampl_soc_zynqmp;
		if (!mc->want)
			p = b->profile ? b->profile : b->num_mus ? &ampl_soc_imx : p;
		assert_int_equal(ampl_dt_read_file(path, &dtb, &size, &diag), 0);
		ret = ampl_soc_create(name, p, dtb, size);
		print_message("     soc create -> %d %s\n", ret, ret ? ampl_soc_last_error() : "");
		free(dtb);
		if (mc->want) {
			assert_int_equal(ret, -EINVAL);
			/* the same reason, from the node on (the source is "board devicetree" there) */
			assert_non_null(strstr(ampl_soc_last_error(), mc->want));
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(ampl_soc_destroy(name), 0);
		}
		unlink(path);
	}
	free(b);
}

/* --- the bindings' registry -------------------------------------------------------------------------------- */

/* The loader finds every binding through the generated table (each src/dt/bind_*.c registers itself): all of them,
 * in their order, each compatible claimed by one binding only. */
static void test_binding_registry(void **state)
{
	static const char *const want[] = { "xlnx,zynqmp-ipi-mailbox", "xlnx,versal-ipi-dest-mailbox", "nxp,imx-mu",
					    "fsl,imx6sx-mu", "amplink,aperture", "zephyr,ipc-icmsg", "amplink,ipc-multi",
					    "zephyr,ipc-openamp-static-vrings" };
	const struct dt_binding *bind[DT_MAX_BINDINGS];
	unsigned n = dt_bindings(bind), printers = 0, walkers = 0;

	(void)state;
	assert_int_equal(n, dt_binding_table_size);
	assert_int_equal(n, 8); /* ipi, mu, memory, aperture, mbox, icmsg, multi, rpmsg */
	for (unsigned i = 0; i < n; i++) {
		if (i)
			assert_true(bind[i - 1]->order < bind[i]->order);
		printers += bind[i]->print != NULL;
		walkers += bind[i]->node != NULL;
		for (const char *const *c = bind[i]->compatible; c && *c; c++)
			for (unsigned k = 0; k < n; k++)
				for (const char *const *d = bind[k]->compatible; k != i && d && *d; d++)
					assert_string_not_equal(*c, *d);
	}
	assert_int_equal(printers, 7); /* ipi, mu, mem, aperture, user, multi, rpmsg lines */
	assert_int_equal(walkers, 3);  /* ipi, mu, mailbox consumers */
	for (unsigned w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		unsigned found = 0;

		for (unsigned i = 0; i < n; i++)
			for (const char *const *c = bind[i]->compatible; c && *c; c++)
				found += strcmp(*c, want[w]) == 0;
		assert_int_equal(found, 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_board),
		cmocka_unit_test(test_default_board_symbols),
		cmocka_unit_test(test_default_board_files),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_seed_zynqmp),
		cmocka_unit_test(test_seed_versal),
		cmocka_unit_test(test_seed_imx_mu),
		cmocka_unit_test(test_seed_shared_ram),
		cmocka_unit_test(test_bad_cases),
		cmocka_unit_test(test_bad_blobs),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_versal_buffering),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_icmsg_peer_max_packet),
		cmocka_unit_test(test_rpmsg_valid),
		cmocka_unit_test(test_rpmsg_min_size),
		cmocka_unit_test(test_default_board_soc_memory),
		cmocka_unit_test(test_seeds_all_load),
		cmocka_unit_test(test_preprocessor),
		cmocka_unit_test(test_preprocessor_missing),
		cmocka_unit_test(test_file_bound),
		cmocka_unit_test(test_check_spans),
		cmocka_unit_test(test_memory_map_rule),
		cmocka_unit_test(test_binding_registry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
