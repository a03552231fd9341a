/*
 * test_fw_layout: the emulator-link firmware's layout as one board's image is built with it, from the header
 * `amplink dt gen --agent rpu0 --map <the board's map>` writes of dts/emu-link.dts (firmware/emu_link.cmake), the
 * same command and file the firmware build runs. Addresses are the firmware's (after the map).
 */
#ifndef FW_LAYOUT_VIEW_H
#define FW_LAYOUT_VIEW_H

#include <stdbool.h>
#include <stdint.h>

struct fw_view_region {
	uint64_t addr, size;
};

struct fw_view {
	const char *board;
	uint64_t boot;                              /* DT_REG_ADDR(emu_boot): the firmware's window start */
	struct fw_view_region icmsg_tx, icmsg_rx;   /* ipc_icmsg_fw's regions */
	uint32_t icmsg_dcache;
	bool icmsg_size_ext;
	struct fw_view_region rpmsg;                /* ipc_rpmsg_fw's memory-region */
	uint64_t rpmsg_da;                          /* its device address (da_base) */
	uint32_t rpmsg_vring_num;
	struct fw_view_region multi_tx, multi_rx;   /* ipc_multi_fw's regions */
	uint32_t multi_dcache, multi_blocks, multi_inline;
};

extern const struct fw_view fw_view_mps2_an386, fw_view_riscv_virt;

#endif /* FW_LAYOUT_VIEW_H */
