/*
 * One board's struct fw_view (fw_layout_view.h), compiled once per board with that board's generated header on
 * the include path and FW_VIEW_NAME / FW_VIEW_BOARD defined: exactly the macros firmware/apps/{icmsg_echo,
 * rpmsg_remote,multi}/main.c configure their instances with.
 */
#include "board_gen.h"
#include "fw_layout_view.h"

#define ICMSG DT_NODELABEL(ipc_icmsg_fw)
#define RPMSG DT_NODELABEL(ipc_rpmsg_fw)
#define MULTI DT_NODELABEL(ipc_multi_fw)
#define DEVICE_ADDRESS(node) DT_CAT(node, _DEVICE_ADDRESS) /* the RPMsg region's da, as dt gen names it */
#define REGION(node, prop) { DT_REG_ADDR(DT_PHANDLE(node, prop)), DT_REG_SIZE(DT_PHANDLE(node, prop)) }

const struct fw_view FW_VIEW_NAME = {
	.board = FW_VIEW_BOARD,
	.boot = DT_REG_ADDR(DT_NODELABEL(emu_boot)),
	.icmsg_tx = REGION(ICMSG, tx_region),
	.icmsg_rx = REGION(ICMSG, rx_region),
	.icmsg_dcache = DT_PROP(ICMSG, dcache_alignment),
	.icmsg_size_ext = DT_PROP(ICMSG, amplink_max_packet_ext),
	.rpmsg = REGION(RPMSG, memory_region),
	.rpmsg_da = DEVICE_ADDRESS(RPMSG),
	.rpmsg_vring_num = DT_PROP(RPMSG, amplink_vring_num),
	.multi_tx = REGION(MULTI, tx_region),
	.multi_rx = REGION(MULTI, rx_region),
	.multi_dcache = DT_PROP(MULTI, dcache_alignment),
	.multi_blocks = DT_PROP(MULTI, block_count),
	.multi_inline = DT_PROP(MULTI, inline_max),
};
