/*
 * The emulator link's window layout, host side: what the emulator-link images (firmware/apps/icmsg_echo,
 * rpmsg_remote, multi) and their host ends (fw_icmsg.c, fw_rpmsg.c, fw_multi.c) agree on, read at run time from
 * the devicetree the firmware build generates its configuration from (dts/emu-link.dts; firmware/emu_link.cmake).
 * Offsets are from the window's start: the devicetree's emu_boot region (the boot block). The host's instances
 * are the nodes labelled ipc_icmsg_host, ipc_rpmsg_host and ipc_multi_host, whose regions the firmware's
 * (ipc_*_fw) mirror.
 *
 * Why at run time: this code is also `amplink bench --firmware`, inside the amplink program that generates the
 * firmware's header (`amplink dt gen`), so it cannot be built from that header; the run-time loader and the
 * generator read the devicetree with the same code (src/dt/dt_gen.c).
 */
#ifndef FW_LAYOUT_H
#define FW_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The devicetree: AMPL_FW_LINK_DTS in the environment, else the source tree's dts/emu-link.dts. */
#define FW_LAYOUT_ENV "AMPL_FW_LINK_DTS"

/** A region of the window: @off bytes from its start, @size bytes. */
struct fw_region {
	uint32_t off, size;
};

/**
 * struct fw_layout - the host's side of the emulator link.
 * @icmsg_tx, @icmsg_rx:   ICMsg rings (this side writes tx); @icmsg_dcache, @icmsg_size_ext: the node's
 *                         dcache-alignment and amplink,max-packet-ext
 * @rpmsg:                 the RPMsg region; @rpmsg_da: its device address (the devicetree's address of the region,
 *                         da_base on both sides); @rpmsg_vring_num, @rpmsg_h2r, @rpmsg_r2h: vring size and buffer
 *                         sizes
 * @multi_tx, @multi_rx:   multi-endpoint regions; @multi_dcache, @multi_blocks, @multi_block_size (0: derived),
 *                         @multi_inline (inline-max)
 */
struct fw_layout {
	struct fw_region icmsg_tx, icmsg_rx;
	uint32_t icmsg_dcache;
	bool icmsg_size_ext;
	struct fw_region rpmsg;
	uint32_t rpmsg_da, rpmsg_vring_num, rpmsg_h2r, rpmsg_r2h;
	struct fw_region multi_tx, multi_rx;
	uint32_t multi_dcache, multi_blocks, multi_block_size, multi_inline;
};

/**
 * fw_layout_load() - load @path (NULL: the default above) and take the host's layout from it.
 * @err: what is wrong, on failure (@errlen bytes)
 * Return: 0; -ENOENT, -EINVAL, -EIO, -ENOMEM, -EFBIG (the loader's, ampl_dt_load_file()); -EINVAL also when a
 *         node is missing or a region is not inside the window (AMPL_EMU_WINDOW_SIZE from emu_boot) or not
 *         after the boot block. Context: thread (runs cpp and dtc).
 */
int fw_layout_load(const char *path, struct fw_layout *l, char *err, size_t errlen);

/**
 * fw_layout() - the layout of the default devicetree, loaded once (later calls return the same).
 * Return: the layout, or NULL (the reason printed). Context: thread; the first call not concurrently with another.
 */
const struct fw_layout *fw_layout(void);

#endif /* FW_LAYOUT_H */
