/*
 * The emulator link's window as both ends see it: the firmware's layout, per board, from the header the firmware
 * build generates of dts/emu-link.dts (fw_layout_view.c, built with the same command and map), against the host's,
 * which bench/firmware/fw_layout.c reads from the same devicetree at run time. Every region the firmware writes
 * must be one the host reads at the same offset from the window's start and of the same size, and the other way
 * round; the instance properties both sides configure must be equal. No emulator needed.
 */
#include <inttypes.h>
#include <stdio.h>

#include "fw_layout.h"
#include "fw_layout_view.h"

static int failures;

static void same_region(const struct fw_view *v, const char *what, struct fw_view_region fw, struct fw_region host)
{
	uint64_t off = fw.addr - v->boot;
	if (fw.addr < v->boot || off != host.off || fw.size != host.size) {
		printf("FAIL %s: %s: firmware at window offset 0x%" PRIx64 "+0x%" PRIx64 ", host at 0x%x+0x%x\n",
		       v->board, what, off, fw.size, host.off, host.size);
		failures++;
	}
}

static void same_value(const struct fw_view *v, const char *what, uint64_t fw, uint64_t host)
{
	if (fw != host) {
		printf("FAIL %s: %s: firmware 0x%" PRIx64 ", host 0x%" PRIx64 "\n", v->board, what, fw, host);
		failures++;
	}
}

static void check(const struct fw_view *v, const struct fw_layout *l)
{
	printf("%s: window at 0x%" PRIx64 "; ICMsg rings 0x%x (host tx), 0x%x (firmware tx); RPMsg 0x%x+0x%x; "
	       "multi 0x%x (host tx), 0x%x (firmware tx)\n", v->board, v->boot, l->icmsg_tx.off, l->icmsg_rx.off,
	       l->rpmsg.off, l->rpmsg.size, l->multi_tx.off, l->multi_rx.off);
	same_region(v, "ICMsg: what the firmware reads, the host writes", v->icmsg_rx, l->icmsg_tx);
	same_region(v, "ICMsg: what the firmware writes, the host reads", v->icmsg_tx, l->icmsg_rx);
	same_value(v, "ICMsg dcache-alignment", v->icmsg_dcache, l->icmsg_dcache);
	same_value(v, "ICMsg amplink,max-packet-ext", v->icmsg_size_ext, l->icmsg_size_ext);
	same_region(v, "RPMsg region", v->rpmsg, l->rpmsg);
	same_value(v, "RPMsg device address of the region (da_base)", v->rpmsg_da, l->rpmsg_da);
	same_value(v, "RPMsg amplink,vring-num", v->rpmsg_vring_num, l->rpmsg_vring_num);
	same_region(v, "multi: what the firmware reads, the host writes", v->multi_rx, l->multi_tx);
	same_region(v, "multi: what the firmware writes, the host reads", v->multi_tx, l->multi_rx);
	same_value(v, "multi dcache-alignment", v->multi_dcache, l->multi_dcache);
	same_value(v, "multi block-count", v->multi_blocks, l->multi_blocks);
	same_value(v, "multi inline-max", v->multi_inline, l->multi_inline);
	/* The firmware is the multi-endpoint initiator (firmware/apps/multi/multi_echo.h): its rx region is lower. */
	if (v->multi_rx.addr >= v->multi_tx.addr) {
		printf("FAIL %s: multi: the firmware's rx region is not the lower one (it must be the initiator)\n",
		       v->board);
		failures++;
	}
}

int main(void)
{
	struct fw_layout l;
	char err[4096];
	int e = fw_layout_load(NULL, &l, err, sizeof(err));
	if (e) {
		printf("FAIL the host's layout: %s (%d)\n", err, e);
		return 1;
	}
	check(&fw_view_mps2_an386, &l);
	check(&fw_view_riscv_virt, &l);
	if (failures)
		printf("%d difference(s) between the firmware's layout and the host's\n", failures);
	else
		printf("PASS the firmware's layout (both boards) is the host's\n");
	return failures ? 1 : 0;
}
