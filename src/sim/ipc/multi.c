/*
 * Multi-endpoint instances (`amplink,ipc-multi`, src/ipc/ipc_multi.c) on the virtual SoC: the board layer's
 * configuration of the node; polled (ipc_multi_poll()) by an agent without an interrupt thread.
 */
#include "sim/image.h"
#include "sim/ipc.h"

#include <amplink/ipc/ipc_multi.h>

#include <errno.h>
#include <stdlib.h>

struct multi_inst {
	struct ipc_multi_config cfg;
	struct ipc_multi_data data;
};

static int open_multi(const struct sim_ipc_ctx *ctx, const struct ampl_dt_ipc *ipc, struct sim_ipc *inst)
{
	const struct ampl_dt_ipc_multi *mdt = &ctx->board->ipc_multis[ipc->index];
	struct ipc_multi_config cfg;
	if (ampl_board_ipc_multi_config(&ctx->mem, mdt, ctx->mc, &cfg))
		return sim_error(-EINVAL, "%s: its regions are not in the SoC's memory", mdt->base.node.path);
	struct multi_inst *m = calloc(1, sizeof(*m));
	if (!m)
		return sim_error(-ENOMEM, "out of memory");
	m->cfg = cfg;
	m->cfg.polled = ctx->polled;
	sim_ipc_set(inst, &ipc_multi_backend, &m->cfg, &m->data, m);
	return 0;
}

static void close_multi(struct sim_ipc *inst)
{
	struct multi_inst *m = inst->priv;
	for (unsigned k = 0; k < IPC_MULTI_MAX_EPT; k++)
		m->data.ept[k].used = false; /* endpoints left registered go with the instance */
	(void)ipc_multi_close_instance(&inst->dev);
}

/* An agent without an interrupt thread: its application's poll drains the ring, the reader held in between. */
static void poll_multi(struct sim_ipc *inst)
{
	(void)ipc_multi_poll(&inst->dev);
}

SIM_IPC_BACKEND(multi) = {
	.compatible = "amplink,ipc-multi",
	.kind = "multi",
	.open = open_multi,
	.close = close_multi,
	.poll = poll_multi,
};
