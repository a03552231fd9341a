/*
 * RPMsg instances (`zephyr,ipc-openamp-static-vrings`, src/ipc/ipc_rpmsg.c) on the virtual SoC: the board layer's
 * configuration of the node; polled (ipc_rpmsg_poll()) by an agent without an interrupt thread.
 */
#include "sim/image.h"
#include "sim/ipc.h"

#include <amplink/ipc/ipc_rpmsg.h>

#include <errno.h>
#include <stdlib.h>

struct rpmsg_inst {
	struct ipc_rpmsg_config cfg;
	struct ipc_rpmsg_data data;
};

static int open_rpmsg(const struct sim_ipc_ctx *ctx, const struct ampl_dt_ipc *ipc, struct sim_ipc *inst)
{
	const struct ampl_dt_rpmsg *rdt = &ctx->board->rpmsgs[ipc->index];
	struct ipc_rpmsg_config cfg;
	if (ampl_board_rpmsg_config(&ctx->mem, rdt, ctx->mc, &cfg))
		return sim_error(-EINVAL, "%s: its memory-region is not in the SoC's memory", rdt->node.path);
	struct rpmsg_inst *m = calloc(1, sizeof(*m));
	if (!m)
		return sim_error(-ENOMEM, "out of memory");
	m->cfg = cfg;
	m->cfg.polled = ctx->polled;
	sim_ipc_set(inst, &ipc_rpmsg_backend, &m->cfg, &m->data, m);
	return 0;
}

static void close_rpmsg(struct sim_ipc *inst)
{
	struct rpmsg_inst *m = inst->priv;
	for (unsigned k = 0; k < IPC_RPMSG_MAX_EPT; k++)
		if (atomic_load(&m->data.ept[k].used))
			(void)ipc_rpmsg_deregister_endpoint(&inst->dev, &m->data.ept[k]);
	(void)ipc_rpmsg_close_instance(&inst->dev);
}

/* An agent without an interrupt thread: its application's poll runs the receive pass, the peer's kicks off. */
static void poll_rpmsg(struct sim_ipc *inst)
{
	(void)ipc_rpmsg_poll(&inst->dev);
}

SIM_IPC_BACKEND(rpmsg) = {
	.compatible = "zephyr,ipc-openamp-static-vrings",
	.kind = "rpmsg",
	.open = open_rpmsg,
	.close = close_rpmsg,
	.poll = poll_rpmsg,
};
