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
 */
#ifndef AMPLINK_DT_H
#define AMPLINK_DT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <amplink/soc_profile.h>

#define AMPL_DT_NAME_MAX 64
#define AMPL_DT_PATH_MAX 256
#define AMPL_DT_MAX_CTRLS 16
#define AMPL_DT_MAX_CHANS 16 /* per controller */
#define AMPL_DT_MAX_MUS 8
#define AMPL_DT_MAX_MEMS 16
#define AMPL_DT_MAX_REGS 4
#define AMPL_DT_MAX_CONSUMERS 16
#define AMPL_DT_MAX_MBOXES 8 /* per consumer */
#define AMPL_DT_DIAG_MAX 4096
/* The largest file the loader reads (a .dts, a .dtb, dtc's output): 4 MiB, twice what Linux takes as a DTB on arm64. */
#define AMPL_DT_FILE_MAX (4u << 20)
#define AMPL_DT_MAX_INCLUDE_DIRS 16

struct ampl_dt_region {
	char name[AMPL_DT_NAME_MAX]; /* from reg-names, or "" */
	uint64_t addr;
	uint64_t size;
};

/** A node's identity, for messages and for finding devices. */
struct ampl_dt_node {
	char name[AMPL_DT_NAME_MAX];  /* "mailbox@ff9905c0" */
	char label[AMPL_DT_NAME_MAX]; /* "mailbox" ("" if none) */
	char path[AMPL_DT_PATH_MAX];  /* "/amba/zynqmp-mailbox/mailbox@ff9905c0" */
};

/** One IPI destination (a child node): a channel from the controller's agent to a remote agent. */
struct ampl_dt_ipi_chan {
	struct ampl_dt_node node;
	uint32_t remote_id;                     /* xlnx,ipi-id */
	const struct ampl_ipi_agent *remote;    /* the profile's agent for remote_id */
	unsigned num_regs;
	struct ampl_dt_region regs[AMPL_DT_MAX_REGS];
	int mbox_cells;                         /* #mbox-cells, -1 if absent */
	bool buffered;                          /* request/response buffers are used */
	/* Buffer addresses the channel uses (0 when doorbell only): after validation, from the profile. */
	uint64_t local_req, local_resp, remote_req, remote_resp;
};

/** One IPI controller (a parent node): the local agent. */
struct ampl_dt_ipi_ctrl {
	struct ampl_dt_node node;
	const struct ampl_soc_profile *profile;
	uint32_t local_id;                      /* xlnx,ipi-id */
	const struct ampl_ipi_agent *local;
	int irq;                                /* second cell of the first interrupts specifier, -1 if absent */
	unsigned num_regs;
	struct ampl_dt_region regs[AMPL_DT_MAX_REGS];
	unsigned num_chans;
	struct ampl_dt_ipi_chan chans[AMPL_DT_MAX_CHANS];
};

/** One `nxp,imx-mu` node. */
struct ampl_dt_mu {
	struct ampl_dt_node node;
	char alias[AMPL_DT_NAME_MAX];           /* the alias that names it ("ipm0"), or "" */
	uint64_t addr, size;
	int irq;                                /* -1 if absent */
	bool okay;                              /* status absent or "okay" */
	bool side_b;                            /* fsl,mu-side-b */
};

/** One reserved-memory child. */
struct ampl_dt_mem {
	struct ampl_dt_node node;
	uint64_t addr, size;
	bool no_map;
};

/** One entry of a consumer's `mboxes` (with its `mbox-names` entry): a channel of a mailbox controller. */
struct ampl_dt_mbox_ref {
	char provider[AMPL_DT_PATH_MAX]; /* the controller's node path */
	uint32_t args[4];                /* the specifier: #mbox-cells of the provider */
	unsigned nargs;
	char name[AMPL_DT_NAME_MAX];     /* "" without mbox-names */
};

/** A node that uses mailboxes: it has a `mboxes` property. */
struct ampl_dt_consumer {
	struct ampl_dt_node node;
	unsigned num_mboxes;
	struct ampl_dt_mbox_ref mboxes[AMPL_DT_MAX_MBOXES];
};

/** `unbound` of a `zephyr,ipc-icmsg` node. */
enum ampl_dt_icmsg_unbound {
	AMPL_DT_ICMSG_UNBOUND_DISABLE = 0,
	AMPL_DT_ICMSG_UNBOUND_ENABLE = 1,
	AMPL_DT_ICMSG_UNBOUND_DETECT = 2,
};

#define AMPL_DT_MAX_ICMSG 8

/**
 * One `zephyr,ipc-icmsg` instance node: tx-region / rx-region (phandles of reserved-memory nodes), mboxes with
 * mbox-names "tx" and "rx", dcache-alignment (0 when absent), unbound ("disable" when absent).
 */
struct ampl_dt_icmsg {
	struct ampl_dt_node node;
	uint64_t tx_addr, tx_size;   /* reg of the tx-region node */
	uint64_t rx_addr, rx_size;   /* reg of the rx-region node */
	unsigned consumer;           /* index of this node in ampl_dt_board.consumers */
	unsigned tx_mbox, rx_mbox;   /* indices of "tx" / "rx" in that consumer's mboxes */
	uint32_t dcache_alignment;
	enum ampl_dt_icmsg_unbound unbound;
	uint32_t peer_max_packet;    /* amplink,peer-max-packet: what a peer that does not tell is assumed to take
				      * (1..65535; 0 when absent: 128, Zephyr's receive buffer) */
	bool max_packet_ext;         /* amplink,max-packet-ext (empty): classic bonding appends this side's receive
				      * limit to the magic (icmsg_config.size_ext; only for an amplink peer or a
				      * Zephyr peer in "disable" mode). ICMsg nodes only; no effect with
				      * unbound = "enable" (no bonding packet) or "detect" (always appended) */
};

#define AMPL_DT_MAX_IPC_MULTI 8

/**
 * One `amplink,ipc-multi` instance node (<amplink/ipc/ipc_multi.h>): the properties of an ICMsg node (`unbound`
 * is not used) plus block-size (0 when absent: derived) and block-count (16 when absent), validated against the
 * tx-region with ipc_multi_layout().
 */
struct ampl_dt_ipc_multi {
	struct ampl_dt_icmsg base;
	uint32_t block_size, block_count;
};

/** `role` of a `zephyr,ipc-openamp-static-vrings` node. */
enum ampl_dt_rpmsg_role {
	AMPL_DT_RPMSG_HOST = 0,   /* the virtio driver: carves and posts every buffer (it picks the buffer sizes) */
	AMPL_DT_RPMSG_REMOTE = 1, /* the virtio device: writes the resource table and places the two vrings */
};

#define AMPL_DT_MAX_RPMSG 8

/*
 * Limits of the RPMsg binding, checked by the loader (each with its reason):
 *   buffer sizes   AMPL_DT_RPMSG_BUF_MIN..AMPL_DT_RPMSG_BUF_MAX, a multiple of 4: a buffer is the 16-byte RPMsg
 *                  header plus the payload; 32 leaves 16 payload bytes, 65536 keeps the payload within the
 *                  header's 16-bit length; the host places buffers on 16-byte boundaries (a size is rounded up
 *                  to a multiple of 16 in the layout)
 *   vring-num      a power of two, 1..32768 (virtio's largest queue; split-ring indices wrap at 65536)
 *   vring-align    a power of two, 4..65536 (a vring holds 16-bit and 32-bit fields; 65536 is the largest page)
 *   notify-id      any 32-bit value but 0xffffffff (RSC_NOTIFY_ID_ANY: "assigned by a remoteproc host", which a
 *                  static table has not)
 *   the region     below 4 GiB (the resource table's vring addresses are 32-bit) and at least
 *                  ampl_dt_rpmsg_min_size() bytes
 */
#define AMPL_DT_RPMSG_BUF_MIN 32u
#define AMPL_DT_RPMSG_BUF_MAX 65536u
#define AMPL_DT_RPMSG_BUF_DEFAULT 512u
#define AMPL_DT_RPMSG_VRING_NUM_MAX 32768u
#define AMPL_DT_RPMSG_VRING_NUM_DEFAULT 32u
#define AMPL_DT_RPMSG_VRING_ALIGN_MIN 4u
#define AMPL_DT_RPMSG_VRING_ALIGN_MAX 65536u
#define AMPL_DT_RPMSG_VRING_ALIGN_DEFAULT 16u
/*
 * Bytes of the resource table the remote writes at the start of the region (the layout of <amplink/ipc/rpmsg.h>,
 * RPMSG_RSC_TABLE_SIZE): header {ver, num, reserved[2]} and two offsets (24) + the vdev entry {type, id, notifyid,
 * dfeatures, gfeatures, config_len, status, num_of_vrings, reserved[2]} (28) + two vring entries {da, align, num,
 * notifyid, reserved} (2 x 20) + amplink's session entry (24).
 */
#define AMPL_DT_RPMSG_RSC_TABLE_SIZE 116u
/* Alignment of the buffer pool and of each buffer in it. */
#define AMPL_DT_RPMSG_BUF_ALIGN 16u

/**
 * One `zephyr,ipc-openamp-static-vrings` instance node (RPMsg over virtio, static vrings):
 * memory-region (one reserved-memory region: resource table, two vrings, the buffers), mboxes with mbox-names
 * "tx" and "rx" (held the way struct ampl_dt_icmsg holds them), role "host" or "remote", and the optional
 * zephyr,buffer-size, amplink,h2r-buffer-size, amplink,r2h-buffer-size, amplink,vring-num, amplink,vring-align,
 * amplink,notify-id. The region holds, in this order (A = vring_align, N = vring_num, R16 = ROUND_UP(x, 16)):
 *
 *     0                                   the resource table, AMPL_DT_RPMSG_RSC_TABLE_SIZE bytes
 *     V0 = ROUND_UP(table end, A)         vring 0, vring_size(N, A) bytes
 *     V1 = ROUND_UP(V0 + vring_size, A)   vring 1
 *     B  = R16(V1 + vring_size)           N buffers of R16(r2h_buffer_size), then N of R16(h2r_buffer_size)
 *
 * so it needs B + N * (R16(h2r) + R16(r2h)) bytes at least, with virtio's vring_size(N, A) =
 * ROUND_UP(16 N + 2 (3 + N), A) + 2 * 3 + 8 N (descriptors and available ring, then the used ring).
 */
struct ampl_dt_rpmsg {
	struct ampl_dt_node node;
	unsigned mem;                /* index of the memory-region node in ampl_dt_board.mems */
	uint64_t addr, size;         /* its reg */
	unsigned consumer;           /* index of this node in ampl_dt_board.consumers */
	unsigned tx_mbox, rx_mbox;   /* indices of "tx" / "rx" in that consumer's mboxes */
	enum ampl_dt_rpmsg_role role;
	uint32_t buffer_size;        /* zephyr,buffer-size (AMPL_DT_RPMSG_BUF_DEFAULT when absent) */
	/* Buffer size per direction: the amplink,*-buffer-size override or buffer_size. A remote node takes
	 * buffer_size for both (the host decides and the remote learns the sizes from the buffers it is given;
	 * overrides on a remote are ignored with a warning). */
	uint32_t h2r_buffer_size, r2h_buffer_size;
	uint32_t vring_num;          /* descriptors per vring (AMPL_DT_RPMSG_VRING_NUM_DEFAULT when absent) */
	uint32_t vring_align;        /* AMPL_DT_RPMSG_VRING_ALIGN_DEFAULT when absent; Linux peers use 0x1000 */
	uint32_t notify_id;          /* vdev notifyid written into the resource table (0 when absent) */
	uint64_t min_size;           /* ampl_dt_rpmsg_min_size() of these values */
};

/**
 * ampl_dt_rpmsg_min_size() - the bytes a region needs for the resource table, two vrings of @vring_num
 * descriptors aligned to @vring_align, and @vring_num buffers each way (the layout of struct ampl_dt_rpmsg).
 * @vring_align must be a power of two; values within the binding's limits do not overflow.
 */
uint64_t ampl_dt_rpmsg_min_size(uint32_t vring_num, uint32_t vring_align, uint32_t h2r_buffer_size,
				uint32_t r2h_buffer_size);

/** Everything the loader understood. */
struct ampl_dt_board {
	char source[AMPL_DT_PATH_MAX];          /* file name, for messages */
	const struct ampl_soc_profile *profile; /* from the IPI compatibles (NULL if the tree has no IPI node) */
	unsigned num_ctrls, num_mus, num_mems, num_consumers;
	struct ampl_dt_ipi_ctrl ctrls[AMPL_DT_MAX_CTRLS];
	struct ampl_dt_mu mus[AMPL_DT_MAX_MUS];
	struct ampl_dt_mem mems[AMPL_DT_MAX_MEMS];
	struct ampl_dt_consumer consumers[AMPL_DT_MAX_CONSUMERS];
	unsigned num_warnings;
	char warnings[AMPL_DT_DIAG_MAX];        /* one line each: "FILE: NODE: PROPERTY: text\n" */
	unsigned num_icmsgs;
	struct ampl_dt_icmsg icmsgs[AMPL_DT_MAX_ICMSG]; /* `zephyr,ipc-icmsg` instances */
	unsigned num_ipc_multis;
	struct ampl_dt_ipc_multi ipc_multis[AMPL_DT_MAX_IPC_MULTI]; /* `amplink,ipc-multi` instances */
	unsigned num_rpmsgs;
	struct ampl_dt_rpmsg rpmsgs[AMPL_DT_MAX_RPMSG]; /* `zephyr,ipc-openamp-static-vrings` instances */
};

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

/** ampl_dt_find_icmsg() - the `zephyr,ipc-icmsg` node with this path, name or label, or NULL. */
const struct ampl_dt_icmsg *ampl_dt_find_icmsg(const struct ampl_dt_board *board, const char *name);

/** ampl_dt_find_ipc_multi() - the `amplink,ipc-multi` node with this path, name or label, or NULL. */
const struct ampl_dt_ipc_multi *ampl_dt_find_ipc_multi(const struct ampl_dt_board *board, const char *name);

/** ampl_dt_find_rpmsg() - the `zephyr,ipc-openamp-static-vrings` node with this path, name or label, or NULL. */
const struct ampl_dt_rpmsg *ampl_dt_find_rpmsg(const struct ampl_dt_board *board, const char *name);

/** The board built into the library: the virtual ZynqMP used by `amplink demo` (dts/zynqmp-apu-rpu0.dts). */
extern const unsigned char ampl_default_board_dtb[];
extern const unsigned int ampl_default_board_dtb_size;
#define AMPL_DEFAULT_BOARD_NAME "zynqmp-apu-rpu0"

/** ampl_dt_find_chan() - the channel whose controller is agent @local_id and whose remote is @remote_id. */
const struct ampl_dt_ipi_chan *ampl_dt_find_chan(const struct ampl_dt_board *board, uint32_t local_id,
						 uint32_t remote_id, const struct ampl_dt_ipi_ctrl **ctrl);

#endif /* AMPLINK_DT_H */
