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
 *   - `reserved-memory` children (e.g. shared_ram@20040000).
 * `reg` is decoded with the parent's #address-cells / #size-cells. Ids and regions are checked against the SoC
 * profile. Errors name the file, the node path and the property, and say why.
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
};

/** Diagnostic of a failed load: one line "FILE: NODE: PROPERTY: why" (NODE/PROPERTY omitted when not known). */
struct ampl_dt_diag {
	char msg[AMPL_DT_DIAG_MAX];
};

/**
 * ampl_dt_load_file() - load a .dts (compiled with dtc) or a .dtb file and check it.
 * @path:    the file; ".dts"/".dtsi" or content not starting with the FDT magic is compiled with dtc
 * @profile: the SoC profile to check against, or NULL to take it from the IPI compatibles (board->profile
 *          stays NULL when the tree has no IPI node)
 * @board:   filled in; owned by the caller (it is large: allocate it, do not put it on a small stack)
 * @diag:    filled in on failure (may be NULL)
 * Return: 0; -ENOENT (no such file); -EINVAL (malformed or inconsistent; @diag says where and why);
 *         -ENOMEM; -EIO (dtc missing or failed; its messages are in @diag).
 * Context: thread; runs dtc as a child process for source files.
 */
int ampl_dt_load_file(const char *path, const struct ampl_soc_profile *profile, struct ampl_dt_board *board,
		      struct ampl_dt_diag *diag);

/** ampl_dt_load_blob() - as ampl_dt_load_file() for a DTB in memory; @source names it in messages. */
int ampl_dt_load_blob(const void *dtb, size_t size, const char *source, const struct ampl_soc_profile *profile,
		      struct ampl_dt_board *board, struct ampl_dt_diag *diag);

/**
 * ampl_dt_read_file() - read a .dts (through dtc) or .dtb into a malloc'ed DTB.
 * Return: 0 and the blob in @dtb, its length in @size (free() it); -ENOENT; -EIO (dtc failed; its output in @diag); -ENOMEM.
 */
int ampl_dt_read_file(const char *path, void **dtb, size_t *size, struct ampl_dt_diag *diag);

/** ampl_dt_print() - print what was understood (agents, channels, buffers, regions, MUs, memory) to @out. */
void ampl_dt_print(const struct ampl_dt_board *board, FILE *out);

/** ampl_dt_find_consumer() - the consumer node with this path, name or label, or NULL. */
const struct ampl_dt_consumer *ampl_dt_find_consumer(const struct ampl_dt_board *board, const char *name);

/** ampl_dt_find_icmsg() - the `zephyr,ipc-icmsg` node with this path, name or label, or NULL. */
const struct ampl_dt_icmsg *ampl_dt_find_icmsg(const struct ampl_dt_board *board, const char *name);

/** ampl_dt_find_ipc_multi() - the `amplink,ipc-multi` node with this path, name or label, or NULL. */
const struct ampl_dt_ipc_multi *ampl_dt_find_ipc_multi(const struct ampl_dt_board *board, const char *name);

/** The board built into the library: the virtual ZynqMP used by `amplink demo` (dts/zynqmp-apu-rpu0.dts). */
extern const unsigned char ampl_default_board_dtb[];
extern const unsigned int ampl_default_board_dtb_size;
#define AMPL_DEFAULT_BOARD_NAME "zynqmp-apu-rpu0"

/** ampl_dt_find_chan() - the channel whose controller is agent @local_id and whose remote is @remote_id. */
const struct ampl_dt_ipi_chan *ampl_dt_find_chan(const struct ampl_dt_board *board, uint32_t local_id,
						 uint32_t remote_id, const struct ampl_dt_ipi_ctrl **ctrl);

#endif /* AMPLINK_DT_H */
