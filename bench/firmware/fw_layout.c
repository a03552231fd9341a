/*
 * The emulator link's window layout from its devicetree (fw_layout.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amplink/host/dt.h>
#include <amplink/emu.h>

#include "fw_layout.h"

#ifndef AMPL_FW_LINK_DTS_DEFAULT
#define AMPL_FW_LINK_DTS_DEFAULT "dts/emu-link.dts"
#endif

static const struct ampl_dt_mem *mem_by_label(const struct ampl_dt_board *b, const char *label)
{
	for (unsigned i = 0; i < b->num_mems; i++)
		if (!strcmp(b->mems[i].node.label, label))
			return &b->mems[i];
	return NULL;
}

/* @addr..+@size as an offset in the window that starts at @base, after the boot block. */
static int region(uint64_t base, uint64_t addr, uint64_t size, const char *what, struct fw_region *out, char *err,
		  size_t errlen)
{
	if (addr < base + AMPL_EMU_BOOT_SIZE || size == 0 || addr - base > AMPL_EMU_WINDOW_SIZE ||
	    size > AMPL_EMU_WINDOW_SIZE - (addr - base)) {
		snprintf(err, errlen, "%s: 0x%" PRIx64 "+0x%" PRIx64 " is not inside the window after the boot block "
			 "(emu_boot 0x%" PRIx64 "+0x%x)", what, addr, size, base, AMPL_EMU_WINDOW_SIZE);
		return -EINVAL;
	}
	out->off = (uint32_t)(addr - base);
	out->size = (uint32_t)size;
	return 0;
}

static int from_board(const struct ampl_dt_board *b, struct fw_layout *l, char *err, size_t errlen)
{
	const struct ampl_dt_mem *boot = mem_by_label(b, "emu_boot");
	if (!boot) {
		snprintf(err, errlen, "%s: no reserved-memory node labelled emu_boot (the window's start)", b->source);
		return -EINVAL;
	}
	const struct ampl_dt_icmsg *ic = NULL;
	const struct ampl_dt_ipc_multi *mu = NULL;
	const struct ampl_dt_rpmsg *rp = NULL;
	for (unsigned i = 0; i < b->num_icmsgs; i++)
		if (!strcmp(b->icmsgs[i].node.label, "ipc_icmsg_host"))
			ic = &b->icmsgs[i];
	for (unsigned i = 0; i < b->num_ipc_multis; i++)
		if (!strcmp(b->ipc_multis[i].base.node.label, "ipc_multi_host"))
			mu = &b->ipc_multis[i];
	for (unsigned i = 0; i < b->num_rpmsgs; i++)
		if (!strcmp(b->rpmsgs[i].node.label, "ipc_rpmsg_host"))
			rp = &b->rpmsgs[i];
	if (!ic || !mu || !rp) {
		snprintf(err, errlen, "%s: no %s node", b->source,
			 !ic ? "ICMsg ipc_icmsg_host" : !mu ? "multi-endpoint ipc_multi_host" : "RPMsg ipc_rpmsg_host");
		return -EINVAL;
	}
	uint64_t base = boot->addr;
	int e = region(base, ic->tx_addr, ic->tx_size, "ipc_icmsg_host tx-region", &l->icmsg_tx, err, errlen);
	if (!e)
		e = region(base, ic->rx_addr, ic->rx_size, "ipc_icmsg_host rx-region", &l->icmsg_rx, err, errlen);
	if (!e)
		e = region(base, rp->addr, rp->size, "ipc_rpmsg_host memory-region", &l->rpmsg, err, errlen);
	if (!e)
		e = region(base, mu->base.tx_addr, mu->base.tx_size, "ipc_multi_host tx-region", &l->multi_tx, err, errlen);
	if (!e)
		e = region(base, mu->base.rx_addr, mu->base.rx_size, "ipc_multi_host rx-region", &l->multi_rx, err, errlen);
	if (e)
		return e;
	if (rp->role != AMPL_DT_RPMSG_HOST) {
		snprintf(err, errlen, "%s: ipc_rpmsg_host: role is not \"host\"", b->source);
		return -EINVAL;
	}
	l->icmsg_dcache = ic->dcache_alignment;
	l->icmsg_size_ext = ic->max_packet_ext;
	l->rpmsg_da = (uint32_t)rp->addr; /* below 4 GiB: the loader's check */
	l->rpmsg_vring_num = rp->vring_num;
	l->rpmsg_h2r = rp->h2r_buffer_size;
	l->rpmsg_r2h = rp->r2h_buffer_size;
	l->multi_dcache = mu->base.dcache_alignment;
	l->multi_blocks = mu->block_count;
	l->multi_block_size = mu->block_size;
	l->multi_inline = mu->inline_max;
	return 0;
}

int fw_layout_load(const char *path, struct fw_layout *l, char *err, size_t errlen)
{
	if (!path)
		path = getenv(FW_LAYOUT_ENV);
	if (!path || !*path)
		path = AMPL_FW_LINK_DTS_DEFAULT;
	struct ampl_dt_board *b = calloc(1, sizeof(*b));
	struct ampl_dt_diag diag = { 0 };
	if (!b) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	int e = ampl_dt_load_file(path, NULL, b, &diag);
	if (e)
		snprintf(err, errlen, "%s: %s", path, diag.msg);
	else
		e = from_board(b, l, err, errlen);
	free(b);
	return e;
}

const struct fw_layout *fw_layout(void)
{
	static struct fw_layout layout;
	static bool loaded;
	if (!loaded) {
		char err[AMPL_DT_DIAG_MAX];
		int e = fw_layout_load(NULL, &layout, err, sizeof(err));
		if (e) {
			printf("the emulator link's devicetree: %s (%d)\n", err, e);
			return NULL;
		}
		loaded = true;
	}
	return &layout;
}
