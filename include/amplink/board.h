/*
 * Board layer: a devicetree node description (<amplink/dt_nodes.h>) -> the configuration of the driver or IPC backend
 * that node describes. One set of rules for the virtual SoC (src/sim/agent.c, at run time, from the loaded
 * devicetree) and for firmware (from the static node descriptions `amplink dt gen` writes at build time, through
 * the same functions, or through the static initialisers below for constant configurations).
 *
 * Portable and freestanding. Caller-owned memory: every function fills structures the caller provides; nothing is
 * allocated. Nothing here registers a device or a controller: the caller does, once the configuration is filled.
 *
 * Addresses. Nodes carry the SoC's physical addresses. The caller says how this core reaches them with a
 * struct ampl_board_mem (the virtual SoC maps them into its image; firmware behind an address window adds an
 * offset; plain firmware uses them as they are: a NULL struct ampl_board_mem).
 */
#ifndef AMPLINK_BOARD_H
#define AMPLINK_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/drivers/xlnx_ipi_direct.h>
#include <amplink/dt_nodes.h>
#include <amplink/ipc/ipc_icmsg.h>
#include <amplink/ipc/ipc_multi.h>
#include <amplink/ipc/ipc_rpmsg.h>
#include <amplink/mailbox_client.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct ampl_board_mem - how this core reaches a physical range a node names.
 * @map: returns this core's pointer to [addr, addr + size), or NULL when the range is not reachable; NULL means
 *       "addresses as they are" (the range must fit in a pointer)
 * @ctx: passed to @map
 * Context of @map: any (it must not block); it is called during configuration only.
 */
struct ampl_board_mem {
	volatile void *(*map)(void *ctx, uint64_t addr, uint64_t size);
	void *ctx;
};

/** ampl_board_map() - @mem's view of [addr, addr + size) (see struct ampl_board_mem; @mem may be NULL). */
volatile void *ampl_board_map(const struct ampl_board_mem *mem, uint64_t addr, uint64_t size);

/* ---- IPI (xlnx,zynqmp-ipi-mailbox / xlnx,versal-ipi-mailbox) ---- */

/**
 * ampl_board_ipi_chan_from_profile() - the node description a destination without a devicetree node has: the
 * profile's buffer layout between @local and @remote (buffered when both have buffer slots). @dt->node stays empty.
 * Context: any.
 */
void ampl_board_ipi_chan_from_profile(const struct ampl_soc_profile *p, const struct ampl_soc_agent *local,
				      const struct ampl_soc_agent *remote, struct ampl_dt_ipi_chan *dt);

/**
 * ampl_board_ipi_mbox() - fill the driver fields of one IPI destination's controller from its node: host,
 * remote_mask, buffered and (buffered) the four message buffers. The caller then registers it with
 * xlnx_ipi_mbox_init(). @mbox must be zeroed (or fresh).
 * @bad: set to the buffer address that @mem cannot reach (may be NULL)
 * Return: 0; -EINVAL (NULL argument, a node without a remote agent, or a buffer @mem cannot reach). Context: any.
 */
int ampl_board_ipi_mbox(const struct ampl_board_mem *mem, const struct ampl_dt_ipi_chan *dt,
			struct xlnx_ipi_host *host, struct xlnx_ipi_mbox *mbox, uint64_t *bad);

/**
 * struct ampl_board_ipc_mbox - the mailbox controller an IPC instance node's "tx" and "rx" name
 * (ampl_board_ipc_mbox()): one of the two is set.
 * @ipi:   an IPI destination of the local agent
 * @ctrl:  another controller node (struct ampl_dt_mbox_ctrl) of the local agent
 * @owner: on -EPERM, the name of the agent the mailbox belongs to
 */
struct ampl_board_ipc_mbox {
	const struct ampl_dt_ipi_chan *ipi;
	const struct ampl_dt_mbox_ctrl *ctrl;
	const char *owner;
};

/**
 * ampl_board_ipc_mbox() - the controller an IPC instance node's mailboxes name, checked: "tx" and "rx" must name
 * one IPI destination of a controller of @local (the agent the instance runs on), or two channels of one other
 * enabled controller node of @local. Which agents own another controller is what its binding recorded: its
 * `amplink,agent` and, for a two-sided controller (a Messaging Unit), its other side's agent (struct
 * ampl_dt_mbox_ctrl.agent, .peer; none known: any agent). An instance node with its own `amplink,agent` (struct
 * ampl_dt_consumer.agent) over such a controller is that agent's only; without it, any agent of a side.
 * @out:   the controller on success; @out->owner on -EPERM
 * @why:   on failure, a static reason ("its mailbox belongs to another agent", ...); may be NULL
 * Return: 0; -EPERM (the mailbox belongs to another agent); -EINVAL (any other reason: no such node, no "tx" or
 * "rx", two controllers, a disabled controller). Context: any.
 */
int ampl_board_ipc_mbox(const struct ampl_dt_board *board, unsigned consumer, unsigned tx_mbox, unsigned rx_mbox,
			const struct ampl_soc_agent *local, struct ampl_board_ipc_mbox *out, const char **why);

/**
 * AMPL_BOARD_IPC_DOORBELL - the mode of an IPI destination an IPC instance uses: a doorbell (signalling mode,
 * xlnx_ipi_mbox_set_signalling()); other controllers' drivers ring a doorbell for a NULL message. ICMsg, the multi-endpoint backend and RPMsg carry their data in shared memory.
 */
#define AMPL_BOARD_IPC_DOORBELL true

/* ---- mailbox consumers (mboxes / mbox-names) ---- */

#define AMPL_BOARD_PROVIDER_MAX (AMPL_DT_PATH_MAX + 72)

/** A consumer's mbox_consumer with the storage it points to (caller-owned; fill with ampl_board_mbox_consumer()). */
struct ampl_board_consumer {
	struct mbox_consumer con;
	struct mbox_spec specs[AMPL_DT_MAX_MBOXES];
	char providers[AMPL_DT_MAX_MBOXES][AMPL_BOARD_PROVIDER_MAX];
};

/**
 * ampl_board_mbox_consumer() - the framework's view (struct mbox_consumer) of a node's `mboxes`: each provider is
 * @prefix followed by the controller's node path, the name under which the caller registered its controllers
 * (the virtual SoC: "SOC:"; firmware: ""). @out->con.name points into @dt: @dt must outlive @out.
 * Return: 0; -EINVAL (NULL argument); -ENOSPC (@prefix + a path longer than AMPL_BOARD_PROVIDER_MAX - 1).
 * Context: any.
 */
int ampl_board_mbox_consumer(const struct ampl_dt_consumer *dt, const char *prefix, struct ampl_board_consumer *out);

/* ---- IPC instances ---- */

/**
 * ampl_board_icmsg_rx_buf_size() - the receive buffer a `zephyr,ipc-icmsg` instance needs to take the largest
 * packet its rx-region can hold (capped at 65535, ICMsg's length field, and at least ICMSG_MIN_RX_BUF).
 * Return: 0 and @size; -EINVAL (the rx-region, as @mem reaches it, is not a valid ring for dcache-alignment).
 * Context: any.
 */
int ampl_board_icmsg_rx_buf_size(const struct ampl_board_mem *mem, const struct ampl_dt_icmsg *dt, uint32_t *size);

/**
 * ampl_board_icmsg_config() - a `zephyr,ipc-icmsg` node -> struct ipc_icmsg_config (tx/rx regions, dcache
 * alignment, unbound mode, amplink,peer-max-packet, amplink,max-packet-ext). @mc is the node's consumer (its
 * "tx"/"rx" mailboxes); @rx_buf (@rx_buf_size bytes, at least ICMSG_MIN_RX_BUF; ampl_board_icmsg_rx_buf_size()
 * takes any packet) is the caller's and must outlive the instance.
 * Return: 0; -EINVAL (NULL argument, a region @mem cannot reach, a receive buffer below ICMSG_MIN_RX_BUF).
 * Context: any.
 */
int ampl_board_icmsg_config(const struct ampl_board_mem *mem, const struct ampl_dt_icmsg *dt,
			    const struct mbox_consumer *mc, void *rx_buf, uint32_t rx_buf_size,
			    struct ipc_icmsg_config *cfg);

/**
 * ampl_board_ipc_multi_config() - an `amplink,ipc-multi` node -> struct ipc_multi_config.
 * Return: 0; -EINVAL (NULL argument, a region @mem cannot reach). Context: any.
 */
int ampl_board_ipc_multi_config(const struct ampl_board_mem *mem, const struct ampl_dt_ipc_multi *dt,
				const struct mbox_consumer *mc, struct ipc_multi_config *cfg);

/**
 * ampl_board_rpmsg_config() - a `zephyr,ipc-openamp-static-vrings` node -> struct ipc_rpmsg_config (role, region,
 * its device address, vring geometry, buffer sizes per direction).
 * Return: 0; -EINVAL (NULL argument, a region @mem cannot reach or above 4 GiB). Context: any.
 */
int ampl_board_rpmsg_config(const struct ampl_board_mem *mem, const struct ampl_dt_rpmsg *dt,
			    const struct mbox_consumer *mc, struct ipc_rpmsg_config *cfg);

/*
 * Static initialisers: the same rules as the functions above, as constant expressions, for firmware whose node
 * values are compile-time constants (the macros `amplink dt gen` writes). Addresses are this core's (LOCAL_*).
 */

/*
 * AMPL_BOARD_MBOXES() - an instance's mailboxes in a static configuration (the @mboxes_ argument of the IPC
 * initialisers below): with the registry (AMPL_MBOX_REGISTRY 1) its consumer node @mc_, whose "tx" and "rx" are
 * looked up by name when the instance opens (whatever controller registered under the node they name: the
 * virtual SoC's bridge stands in for an IPI destination so); without it, the channels themselves, @tx_ and @rx_,
 * known at build time (the IPI destination's own, `amplink dt gen` writes &<destination>_MBOX.chans[n]): the
 * backend binds them directly. The argument a build does not use is not expanded, so the generator writes
 * AMPL_DT_MBOX_NOT_GENERATED for a channel whose controller it does not write: a firmware without the registry
 * then fails to compile on that name. Without the mailbox (AMPL_IPC_LINK_MBOX 0, <amplink/ipc/link.h>): @db_, the
 * doorbell function of the tx channel's IPI destination (<destination>_IPC_DOORBELL: xlnx_ipi_direct_ring() on its
 * settings); the firmware's IPI interrupt then calls the backend's poll when xlnx_ipi_direct_doorbell_taken().
 */
#if !AMPL_IPC_LINK_MBOX
#define AMPL_BOARD_MBOXES(mc_, tx_, rx_, db_) .doorbell = (db_)
#elif AMPL_MBOX_REGISTRY
#define AMPL_BOARD_MBOXES(mc_, tx_, rx_, db_) .mbox_node = (mc_)
#else
#define AMPL_BOARD_MBOXES(mc_, tx_, rx_, db_) .tx_chan = (tx_), .rx_chan = (rx_)
#endif
#define AMPL_BOARD_IPI_BUF_(local_) { .base = (volatile void *)(uintptr_t)(local_), .size = AMPL_IPI_BUF_SIZE }

/* A destination's struct xlnx_ipi_mbox_config, its local agent's @host_ (at @host_regs_ with @valid_mask_) included. */
#define AMPL_BOARD_XLNX_IPI_MBOX_CONFIG_INIT(host_, host_regs_, valid_mask_, remote_mask_, buffered_, lreq_, lresp_,  \
					     rreq_, rresp_, doorbell_)                                             \
	{ .host = (host_),                                                                                          \
	  .host_regs = { .base = (volatile void *)(uintptr_t)(host_regs_), .size = AMPL_IPI_REG_SPAN },             \
	  .valid_mask = (valid_mask_), .remote_mask = (remote_mask_), .buffered = (buffered_),                      \
	  .signalling = (doorbell_), .local_req = AMPL_BOARD_IPI_BUF_(lreq_),                                       \
	  .local_resp = AMPL_BOARD_IPI_BUF_(lresp_), .remote_req = AMPL_BOARD_IPI_BUF_(rreq_),                     \
	  .remote_resp = AMPL_BOARD_IPI_BUF_(rresp_) }

#define AMPL_BOARD_ICMSG_CONFIG_INIT(tx_, tx_size_, rx_, rx_size_, dcache_, unbound_, peer_max_, size_ext_,         \
				     mboxes_, rx_buf_, rx_buf_size_)                                               \
	{ .icmsg = { .tx_mem = (void *)(uintptr_t)(tx_), .tx_size = (uint32_t)(tx_size_),                           \
		     .rx_mem = (void *)(uintptr_t)(rx_), .rx_size = (uint32_t)(rx_size_),                           \
		     .dcache_alignment = (dcache_), .unbound_mode = (enum icmsg_unbound_mode)(unbound_),            \
		     mboxes_, .rx_buf = (rx_buf_), .rx_buf_size = (rx_buf_size_),                                   \
		     .peer_rx_max_default = (peer_max_), .size_ext = (size_ext_) } }

#define AMPL_BOARD_IPC_MULTI_CONFIG_INIT(tx_, tx_size_, rx_, rx_size_, dcache_, block_size_, block_count_,         \
					 inline_max_, mboxes_)                                                     \
	{ .tx_mem = (void *)(uintptr_t)(tx_), .tx_size = (uint32_t)(tx_size_), .rx_mem = (void *)(uintptr_t)(rx_),  \
	  .rx_size = (uint32_t)(rx_size_), .dcache_alignment = (dcache_), .block_size = (block_size_),              \
	  .block_count = (block_count_), .inline_max = (uint8_t)(inline_max_), mboxes_ }

#define AMPL_BOARD_RPMSG_CONFIG_INIT(role_, shm_, shm_size_, da_, vring_num_, vring_align_, h2r_, r2h_, mboxes_)   \
	{ .role = (role_) == AMPL_DT_RPMSG_HOST ? RPMSG_HOST : RPMSG_REMOTE, .shm = (void *)(uintptr_t)(shm_),       \
	  .shm_size = (uint32_t)(shm_size_), .da_base = (uint32_t)(da_), .vring_num = (vring_num_),                 \
	  .vring_align = (vring_align_), .h2r_buf_size = (h2r_), .r2h_buf_size = (r2h_), mboxes_ }

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_BOARD_H */
