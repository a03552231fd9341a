/*
 * Devicetree node descriptions: what the devicetree loader (<amplink/host/dt.h>, host only) understood of each node a
 * driver or an IPC backend is configured from, as plain data. Portable: the board layer (<amplink/board.h>) turns
 * these into driver and backend configurations on the virtual SoC and in firmware, and the build-time generator
 * (`amplink dt gen`) writes them as static constants for firmware, so both sides read one description of a node.
 * Addresses are the SoC's physical ones, as the devicetree writes them.
 */
#ifndef AMPLINK_DT_NODES_H
#define AMPLINK_DT_NODES_H

#include <stdbool.h>
#include <stdint.h>

#include <amplink/soc_profile.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AMPL_DT_NAME_MAX 64
#define AMPL_DT_PATH_MAX 256
#define AMPL_DT_MAX_CTRLS 16
#define AMPL_DT_MAX_CHANS 16 /* per controller */
#define AMPL_DT_MAX_MUS 8
#define AMPL_DT_MAX_MEMS 16
#define AMPL_DT_MAX_REGS 4
#define AMPL_DT_MAX_CONSUMERS 16
#define AMPL_DT_MAX_MBOXES 8 /* per consumer */
#define AMPL_DT_MAX_APERTURES 16

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
	const struct ampl_soc_agent *remote;    /* the profile's agent for remote_id */
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
	const struct ampl_soc_agent *local;
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
	char agent[32]; /* amplink,agent: the agent whose node it is (of a controller with two sides), or "" */
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
 * tx-region with ipc_multi_layout(), and inline-max (0 when absent: the longest message taken inline, at most
 * IPC_MULTI_INLINE_MAX).
 */
struct ampl_dt_ipc_multi {
	struct ampl_dt_icmsg base;
	uint32_t block_size, block_count, inline_max;
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
 * One access aperture (`compatible = "amplink,aperture"`): which agents may read and write [addr, addr + size) of
 * a reserved-memory region, as an XMPU aperture on the silicon. Masks by agent index of the profile (bit i:
 * profile->agents[i]); a writer may also read. Memory outside every aperture is open to every agent.
 */
struct ampl_dt_aperture {
	struct ampl_dt_node node;
	uint64_t addr, size;
	uint32_t readers, writers;
};

#define AMPL_DT_MAX_IPC (AMPL_DT_MAX_ICMSG + AMPL_DT_MAX_IPC_MULTI + AMPL_DT_MAX_RPMSG)
#define AMPL_DT_IPC_PART_MAX 256 /* bytes of a binding's own description of an instance (struct ampl_dt_ipc.part) */

/**
 * One IPC service instance node of any backend: what every instance has (its identity, its compatible, its "tx"
 * and "rx" mailboxes), in one array of the board whatever the backend, so that the virtual SoC and `amplink dt gen`
 * find and open an instance without naming its backend. The rest is the binding's: the three backends of the
 * library keep their typed description in their own array of the board (@index: icmsgs[], ipc_multis[] or
 * rpmsgs[]); another binding keeps it in @part (at most AMPL_DT_IPC_PART_MAX bytes, 8-byte aligned).
 */
struct ampl_dt_ipc {
	struct ampl_dt_node node;
	char compatible[AMPL_DT_NAME_MAX]; /* the binding's compatible that the node matched */
	unsigned consumer;                 /* index of this node in ampl_dt_board.consumers */
	unsigned tx_mbox, rx_mbox;         /* indices of "tx" / "rx" in that consumer's mboxes */
	unsigned index;                    /* in the binding's typed array, for the library's backends */
	union {
		uint64_t align;
		unsigned char bytes[AMPL_DT_IPC_PART_MAX];
	} part;
};

#define AMPL_DT_MAX_MBOX_CTRLS 16
#define AMPL_DT_MBOX_CTRL_PART_MAX 128 /* bytes of a binding's own description of a controller (.part) */

/**
 * One mailbox controller node of any binding but the IPI's (the SoC's base block: ctrls[]): what every controller
 * node has (its identity, its compatible, its first register block, interrupt and status, and the agents that own
 * its sides: amplink,agent, or for a two-sided controller such as a Messaging Unit its binding's rule over the SoC's
 * profile; an IPC instance's mailboxes are checked against them), in one array of the board whatever the controller, so that the virtual SoC's controller models and a program find a controller's
 * node without naming its binding. The rest is the binding's: the Messaging Units keep their typed description in
 * mus[] (@index); another binding keeps it in @part (at most AMPL_DT_MBOX_CTRL_PART_MAX bytes, 8-byte aligned).
 */
struct ampl_dt_mbox_ctrl {
	struct ampl_dt_node node;
	char compatible[AMPL_DT_NAME_MAX]; /* the binding's compatible that the node matched */
	uint64_t addr, size;               /* its first reg entry */
	int irq;                           /* -1 if absent */
	bool okay;                         /* status absent or "okay" */
	unsigned index;                    /* in the binding's typed array, for the library's controllers */
	char agent[32];                    /* the agent that owns it (its side): amplink,agent, or "" (unknown) */
	char peer[32];                     /* a two-sided controller's other side's agent, or "" (none, unknown) */
	union {
		uint64_t align;
		unsigned char bytes[AMPL_DT_MBOX_CTRL_PART_MAX];
	} part;
};

/* Bytes of the loader's warnings text in struct ampl_dt_board (and of a diagnostic, AMPL_DT_DIAG_MAX). */
#define AMPL_DT_WARNINGS_MAX 4096

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
	char warnings[AMPL_DT_WARNINGS_MAX];        /* one line each: "FILE: NODE: PROPERTY: text\n" */
	unsigned num_icmsgs;
	struct ampl_dt_icmsg icmsgs[AMPL_DT_MAX_ICMSG]; /* `zephyr,ipc-icmsg` instances */
	unsigned num_ipc_multis;
	struct ampl_dt_ipc_multi ipc_multis[AMPL_DT_MAX_IPC_MULTI]; /* `amplink,ipc-multi` instances */
	unsigned num_rpmsgs;
	struct ampl_dt_rpmsg rpmsgs[AMPL_DT_MAX_RPMSG]; /* `zephyr,ipc-openamp-static-vrings` instances */
	unsigned num_apertures;
	struct ampl_dt_aperture apertures[AMPL_DT_MAX_APERTURES]; /* `amplink,aperture` nodes */
	unsigned num_ipcs;
	struct ampl_dt_ipc ipcs[AMPL_DT_MAX_IPC]; /* every IPC instance node, of every backend, in load order */
	unsigned num_mbox_ctrls;
	struct ampl_dt_mbox_ctrl mbox_ctrls[AMPL_DT_MAX_MBOX_CTRLS]; /* every controller node but the IPI's, in load order */
};

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_DT_NODES_H */
