/*
 * Devicetree loader (host side, libfdt): what a board's devicetree says about mailboxes and shared memory.
 *
 * Understands the seeds' bindings as they are written:
 *   - `xlnx,zynqmp-ipi-mailbox` parents (xlnx,ipi-id = local agent, interrupts) with `xlnx,zynqmp-ipi-dest-mailbox`
 *     children (xlnx,ipi-id = remote agent, four regions named local_request_region, local_response_region,
 *     remote_request_region, remote_response_region, #mbox-cells = <1>);
 *   - `xlnx,versal-ipi-mailbox` parents ("ctrl" [+ "msg"]) with `xlnx,versal-ipi-dest-mailbox` children ("ctrl" and an
 *     optional "msg": without it, on either side, the channel is a doorbell);
 *   - `nxp,imx-mu` nodes and the aliases that name them;
 *   - `reserved-memory` children (e.g. shared_ram@20040000);
 *   - IPC service instances: `zephyr,ipc-icmsg`, `amplink,ipc-multi`, `zephyr,ipc-openamp-static-vrings` (RPMsg).
 * `reg` is decoded with the parent's #address-cells / #size-cells. Ids and regions are checked against the SoC
 * profile. Errors name the file, the node path and the property, and say why.
 *
 * Source files (.dts, .dtsi) go through the C preprocessor first, as Linux and Zephyr builds do
 * (`cpp -nostdinc -undef -D__DTS__ -x assembler-with-cpp`), then dtc. #include <...> searches, in this order, the
 * file's own folder, the caller's include folders (struct ampl_dt_load_opts), and the dt-bindings headers built
 * into the library (dts/include: dt-bindings/interrupt-controller/arm-gic.h and irq.h). Errors of cpp and dtc name
 * the user's file and line (cpp's line markers), not the preprocessed text.
 *
 * Host only (Linux: files, FILE *, cpp and dtc run as child processes); firmware gets its devicetree at build time
 * (ampl_dt_gen(), `amplink dt gen`) and the node descriptions from the portable <amplink/dt_nodes.h>.
 * Calling contexts: the loaders, the printer and the generator are thread context (they allocate, read and write
 * files, start child processes), never an agent's interrupt context; the ampl_dt_find_*() lookups and
 * ampl_dt_check_spans() only read what they are given: any thread.
 */
#ifndef AMPLINK_DT_H
#define AMPLINK_DT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <amplink/dt_nodes.h>
#include <amplink/soc_profile.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AMPL_DT_DIAG_MAX AMPL_DT_WARNINGS_MAX
/* The largest file the loader reads (a .dts, a .dtb, dtc's output): 4 MiB, twice what Linux takes as a DTB on arm64. */
#define AMPL_DT_FILE_MAX (4u << 20)
#define AMPL_DT_MAX_INCLUDE_DIRS 16

/**
 * ampl_dt_rpmsg_min_size() - the bytes a region needs for the resource table, two vrings of @vring_num
 * descriptors aligned to @vring_align, and @vring_num buffers each way (the layout of struct ampl_dt_rpmsg).
 * @vring_align must be a power of two; values within the binding's limits do not overflow.
 */
uint64_t ampl_dt_rpmsg_min_size(uint32_t vring_num, uint32_t vring_align, uint32_t h2r_buffer_size,
				uint32_t r2h_buffer_size);

/** Diagnostic of a failed load: one line "FILE: NODE: PROPERTY: why" (NODE/PROPERTY omitted when not known). */
struct ampl_dt_diag {
	char msg[AMPL_DT_DIAG_MAX];
};

/** Options of loading a devicetree file (a NULL options pointer means all zero). */
struct ampl_dt_load_opts {
	/* Folders for the preprocessor's #include <...> (cpp -I) and dtc's /include/ (dtc -i), searched after the
	 * file's own folder and before the built-in dt-bindings headers; at most AMPL_DT_MAX_INCLUDE_DIRS. */
	const char *const *include_dirs;
	unsigned num_include_dirs;
};

/**
 * ampl_dt_load_file_opts() - load a .dts (through cpp and dtc) or a .dtb file and check it.
 * @path:    the file; content not starting with the FDT magic is a source (unless named .dtb/.dtbo), run through
 *          the C preprocessor and compiled with dtc; at most AMPL_DT_FILE_MAX bytes
 * @opts:    include folders (may be NULL)
 * @profile: the SoC profile to check against, or NULL to take it from the IPI compatibles (board->profile
 *          stays NULL when the tree has no IPI node)
 * @board:   filled in; owned by the caller (it is large: allocate it, do not put it on a small stack)
 * @diag:    filled in on failure (may be NULL)
 * Return: 0; -ENOENT (no such file); -EINVAL (malformed or inconsistent, or more than AMPL_DT_MAX_INCLUDE_DIRS
 *         include folders; @diag says where and why); -EFBIG (the file, or dtc's output, is larger than
 *         AMPL_DT_FILE_MAX); -ENOMEM; -EIO (cpp or dtc missing or failed, naming the package to install; their
 *         messages, at the user's file and line, are in @diag).
 * Context: thread; runs cpp and dtc as child processes for source files, in a private temporary folder.
 */
int ampl_dt_load_file_opts(const char *path, const struct ampl_dt_load_opts *opts,
			   const struct ampl_soc_profile *profile, struct ampl_dt_board *board,
			   struct ampl_dt_diag *diag);

/** ampl_dt_load_file() - ampl_dt_load_file_opts() without options. */
int ampl_dt_load_file(const char *path, const struct ampl_soc_profile *profile, struct ampl_dt_board *board,
		      struct ampl_dt_diag *diag);

/** ampl_dt_load_blob() - as ampl_dt_load_file() for a DTB in memory; @source names it in messages. */
int ampl_dt_load_blob(const void *dtb, size_t size, const char *source, const struct ampl_soc_profile *profile,
		      struct ampl_dt_board *board, struct ampl_dt_diag *diag);

/**
 * ampl_dt_read_file_opts() - read a .dts (through cpp and dtc) or .dtb into a malloc'ed DTB, without checking it.
 * Return: 0 and the blob in @dtb, its length in @size (free() it); -ENOENT; -EINVAL (a .dtb without the magic, or
 *         too many include folders); -EFBIG; -EIO (cpp or dtc missing or failed; their output in @diag); -ENOMEM.
 * Context: as ampl_dt_load_file_opts().
 */
int ampl_dt_read_file_opts(const char *path, const struct ampl_dt_load_opts *opts, void **dtb, size_t *size,
			   struct ampl_dt_diag *diag);

/** ampl_dt_read_file() - ampl_dt_read_file_opts() without options. */
int ampl_dt_read_file(const char *path, void **dtb, size_t *size, struct ampl_dt_diag *diag);

/**
 * ampl_dt_set_u32() - a copy of the flattened devicetree @dtb (@size bytes) with property @prop of the node at @path
 * set to the cell @v (added when absent): a board derived from another in code, as tests and benchmarks do
 * (`inline-max` on the default board's multi-endpoint instances). The copy is malloc'ed: *@out, *@out_size; free() it.
 * Return: 0; -ENOENT (no node at @path); -EINVAL (NULL argument, not a devicetree, @path malformed); -ENOMEM.
 */
int ampl_dt_set_u32(const void *dtb, size_t size, const char *path, const char *prop, uint32_t v, void **out,
		    size_t *out_size);

/** A named address range, for ampl_dt_check_spans(). */
struct ampl_dt_span {
	const char *name;
	uint64_t addr, size;
};

/**
 * ampl_dt_check_spans() - the rule every memory region of a board follows, one for `amplink dt check` (the
 * loader applies it to the reserved-memory regions together with the profile's IPI message-buffer RAM, and to the
 * register blocks of the enabled Messaging Units) and for `amplink soc create` (applied to the image's regions):
 * a region is not empty, addr + size fits in 64 bits (it ends below 2^64), and no two regions overlap.
 * @spans, @n: the regions, in order: a region that breaks the rule is reported against an earlier one
 * @bad:       set to the index of the first region that breaks it
 * @why:       set to the reason, without @bad's name ("0x1000+0x2000 overlaps NAME (0x2000+0x1000)"); may be NULL
 * Return: 0, or -EINVAL with @bad and @why set. Context: any.
 */
int ampl_dt_check_spans(const struct ampl_dt_span *spans, unsigned n, unsigned *bad, char *why, size_t cap);

/** ampl_dt_print() - print what was understood (agents, channels, buffers, regions, MUs, memory) to @out. */
void ampl_dt_print(const struct ampl_dt_board *board, FILE *out);

/** ampl_dt_find_consumer() - the consumer node with this path, name or label, or NULL. */
const struct ampl_dt_consumer *ampl_dt_find_consumer(const struct ampl_dt_board *board, const char *name);

/**
 * ampl_dt_find_ipc() - the IPC instance node of any backend (struct ampl_dt_ipc) with this path, name or label, or
 * NULL. Context: any; @board is not changed.
 */
const struct ampl_dt_ipc *ampl_dt_find_ipc(const struct ampl_dt_board *board, const char *name);

/**
 * ampl_dt_find_mbox_ctrl() - the mailbox controller node of any binding but the IPI's (struct ampl_dt_mbox_ctrl)
 * with this path, name or label, or NULL. Context: any; @board is not changed.
 */
const struct ampl_dt_mbox_ctrl *ampl_dt_find_mbox_ctrl(const struct ampl_dt_board *board, const char *name);

/** ampl_dt_find_icmsg() - the `zephyr,ipc-icmsg` node with this path, name or label, or NULL. */
const struct ampl_dt_icmsg *ampl_dt_find_icmsg(const struct ampl_dt_board *board, const char *name);

/** ampl_dt_find_ipc_multi() - the `amplink,ipc-multi` node with this path, name or label, or NULL. */
const struct ampl_dt_ipc_multi *ampl_dt_find_ipc_multi(const struct ampl_dt_board *board, const char *name);

/** ampl_dt_find_rpmsg() - the `zephyr,ipc-openamp-static-vrings` node with this path, name or label, or NULL. */
const struct ampl_dt_rpmsg *ampl_dt_find_rpmsg(const struct ampl_dt_board *board, const char *name);

/** One address window of `amplink dt gen --map`: the agent sees the SoC's [phys, phys + size) at local. */
struct ampl_dt_gen_map {
	uint64_t phys, size, local;
};

#define AMPL_DT_GEN_MAX_MAPS 4

/** Options of ampl_dt_gen(). */
struct ampl_dt_gen_opts {
	const char *agent;       /* the agent the firmware runs on ("rpu0") */
	const char *header_name; /* how the source file #includes the header ("board_gen.h") */
	uint32_t rx_buf_max;     /* cap on each ICMsg receive buffer (the firmware's RAM budget); 0: none */
	unsigned num_maps;
	struct ampl_dt_gen_map maps[AMPL_DT_GEN_MAX_MAPS]; /* the first that holds an address translates it */
};

/**
 * ampl_dt_gen() - write C for one agent's firmware from a loaded board (`amplink dt gen`, src/dt/dt_gen.c): to
 * @h, Zephyr's access macros (DT_NODELABEL, DT_REG_ADDR, DT_REG_SIZE, DT_PROP, DT_PHANDLE, DT_IRQN,
 * DEVICE_DT_GET, ...) and the values of the agent's IPI controllers and destinations, the enabled Messaging Units,
 * the reserved-memory regions and the IPC instances whose mailboxes are the agent's; to @c, their descriptions as
 * constants and static controllers, IPM devices, mailbox consumers, configurations (through the board layer's
 * initialisers, <amplink/board.h>), receive buffers and IPC devices. Addresses in macros and configurations are the
 * agent's (@opts->maps); descriptions keep the SoC's.
 * Return: 0; -EINVAL (no such agent on the board, two nodes with one C identifier, a region the agent cannot use:
 *         @diag names the file, node and property); -ENOMEM; -EIO (a write failed).
 * Context: thread.
 */
int ampl_dt_gen(const struct ampl_dt_board *board, const struct ampl_dt_gen_opts *opts, FILE *h, FILE *c,
		struct ampl_dt_diag *diag);

/** The board built into the library: the virtual ZynqMP used by `amplink demo` (dts/zynqmp-apu-rpu0.dts). */
extern const unsigned char ampl_default_board_dtb[];
extern const unsigned int ampl_default_board_dtb_size;
#define AMPL_DEFAULT_BOARD_NAME "zynqmp-apu-rpu0"

/** ampl_dt_find_chan() - the channel whose controller is agent @local_id and whose remote is @remote_id. */
const struct ampl_dt_ipi_chan *ampl_dt_find_chan(const struct ampl_dt_board *board, uint32_t local_id,
						 uint32_t remote_id, const struct ampl_dt_ipi_ctrl **ctrl);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_DT_H */
