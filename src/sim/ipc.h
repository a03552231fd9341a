/*
 * The virtual SoC's IPC backends: how an agent opens an IPC service instance of one backend from its devicetree
 * node (struct ampl_dt_ipc), closes it, and names it in traces. One interface for every backend; each backend is a
 * file of src/sim/ipc/ that defines SIM_IPC_BACKEND(<its stem>), and the build lists every such file in a
 * generated table (cmake/registry.cmake), so src/sim/agent.c and src/sim/trace.c name no backend. A program may add
 * a backend of its own the same way: ampl_registries() in cmake/registry.cmake builds the tables with its files.
 *
 * What the agent does for every backend (src/sim/agent.c, ampl_agent_ipc_instance()): find the node by path, name
 * or label among the board's IPC instances, pick the backend whose @compatible the node matched, check that the
 * node's "tx" and "rx" mailboxes are one IPI destination of the agent (made if needed, put in signalling mode) and
 * build their mailbox consumer; then @open; then register the device (named and labelled after the node). At
 * detach: @close, then the device is unregistered and @priv freed. Internal to the simulation.
 */
#ifndef AMPLINK_SIM_IPC_H
#define AMPLINK_SIM_IPC_H

#include <stdbool.h>

#include <amplink/board.h>
#include <amplink/device.h>
#include <amplink/dt_nodes.h>
#include <amplink/mailbox_client.h>

/** What a backend's @open is given: the agent's board and its view of the SoC's memory, the node's mailboxes. */
struct sim_ipc_ctx {
	const struct ampl_dt_board *board;  /* the SoC's devicetree, parsed */
	struct ampl_board_mem mem;          /* the SoC's physical addresses mapped in this process */
	const struct mbox_consumer *mc;     /* the node's mailboxes ("tx", "rx"): one IPI destination of the agent */
	bool polled;                        /* no interrupt thread, no_ipc_poll unset: ampl_agent_poll() calls @poll */
};

/** One IPC instance of an agent: the device the agent registers, and the backend's own objects behind it. */
struct sim_ipc {
	const struct sim_ipc_backend *be;
	const struct ampl_dt_ipc *dt;
	struct ampl_device dev;
	struct ampl_device_state state;
	/* set by the backend's @open: the device's API, configuration and data, and the allocation that holds them */
	const void *api;
	const void *config;
	void *data;
	void *priv;
	char name[AMPL_DT_NAME_MAX];  /* the node's name: the device's name */
	char label[AMPL_DT_NAME_MAX]; /* the node's label: the device's label */
};

/**
 * struct sim_ipc_backend - one IPC backend on the virtual SoC.
 * @compatible: the devicetree compatible of its instance nodes (the one struct ampl_dt_ipc.compatible records)
 * @kind:       its name in traces and statistics ("icmsg")
 * @open:       configure instance @inst of node @dt: allocate the backend's configuration and data (@inst->priv,
 *              freed by the agent) and set @inst->api, ->config and ->data. Return: 0, or a negative errno with
 *              the reason set (sim_error(): node and why). Context: thread, the agent's.
 * @close:      before the device is unregistered at detach: close the instance if it is open, with its endpoints
 *              (optional). Context: thread, the interrupt context stopped.
 * @owns:       does trace object @obj (other than the device and its data) belong to @inst? (optional)
 * @poll:       an agent without an interrupt thread (ctx->polled at @open): drain @inst's rx ring now, as a
 *              doorbell would; ampl_agent_poll() calls it for every instance, so that the backend may keep its
 *              reader held between polls and its peer need not ring. (optional) Context: ampl_agent_poll()'s caller.
 */
struct sim_ipc_backend {
	const char *compatible;
	const char *kind;
	int (*open)(const struct sim_ipc_ctx *ctx, const struct ampl_dt_ipc *dt, struct sim_ipc *inst);
	void (*close)(struct sim_ipc *inst);
	bool (*owns)(const struct sim_ipc *inst, const void *obj);
	void (*poll)(struct sim_ipc *inst);
};

/** sim_ipc_set() - in a backend's @open: the device's @api, @config and @data, held by allocation @priv. */
static inline void sim_ipc_set(struct sim_ipc *inst, const void *api, const void *config, void *data, void *priv)
{
	inst->api = api;
	inst->config = config;
	inst->data = data;
	inst->priv = priv;
}

/* SIM_IPC_BACKEND(icmsg) = { ... }; in src/sim/ipc/icmsg.c: the table's entry for that file (the file's stem). */
#define SIM_IPC_BACKEND(stem) const struct sim_ipc_backend sim_ipc_##stem

/* The generated table: one entry per src/sim/ipc/ file (and a program's own), in file-name order. */
extern const struct sim_ipc_backend *const sim_ipc_table[];
extern const unsigned sim_ipc_table_size;

/** sim_ipc_backend_of() - the backend whose @compatible is @compatible, or NULL. Context: any. */
const struct sim_ipc_backend *sim_ipc_backend_of(const char *compatible);

#endif /* AMPLINK_SIM_IPC_H */
