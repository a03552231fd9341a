/*
 * ICMsg instances (`zephyr,ipc-icmsg`, src/ipc/ipc_icmsg.c) on the virtual SoC: the board layer's configuration of
 * the node, with a receive buffer as large as the node's ring can deliver; polled (icmsg_poll()) by an agent
 * without an interrupt thread.
 */
#include "sim/image.h"
#include "sim/ipc.h"

#include <amplink/ipc/ipc_icmsg.h>

#include <errno.h>
#include <stdlib.h>

struct icmsg_inst {
	struct ipc_icmsg_config cfg;
	struct ipc_icmsg_data data;
	uint8_t rx_buf[]; /* cfg.icmsg.rx_buf_size bytes */
};

static int open_icmsg(const struct sim_ipc_ctx *ctx, const struct ampl_dt_ipc *ipc, struct sim_ipc *inst)
{
	const struct ampl_dt_icmsg *dt = &ctx->board->icmsgs[ipc->index];
	uint32_t bufsz;
	if (!ampl_board_map(&ctx->mem, dt->tx_addr, dt->tx_size) || !ampl_board_map(&ctx->mem, dt->rx_addr, dt->rx_size))
		return sim_error(-EINVAL, "%s: its regions are not in the SoC's memory", dt->node.path);
	if (ampl_board_icmsg_rx_buf_size(&ctx->mem, dt, &bufsz))
		return sim_error(-EINVAL, "%s: rx-region 0x%llx+0x%llx is not a valid ring for dcache-alignment %u",
				 dt->node.path, (unsigned long long)dt->rx_addr, (unsigned long long)dt->rx_size,
				 dt->dcache_alignment);
	struct icmsg_inst *m = calloc(1, sizeof(*m) + bufsz);
	if (!m)
		return sim_error(-ENOMEM, "out of memory");
	int ret = ampl_board_icmsg_config(&ctx->mem, dt, ctx->mc, m->rx_buf, bufsz, &m->cfg);
	if (ret) {
		free(m);
		return sim_error(ret, "%s: cannot configure the instance", dt->node.path);
	}
	m->cfg.icmsg.polled = ctx->polled;
	sim_ipc_set(inst, &ipc_icmsg_backend, &m->cfg, &m->data, m);
	return 0;
}

static void close_icmsg(struct sim_ipc *inst)
{
	struct icmsg_inst *m = inst->priv;
	(void)icmsg_close(&m->data.im); /* -EALREADY: no endpoint registered */
}

/* The ICMsg layer's events name its struct icmsg_data. */
static bool owns_icmsg(const struct sim_ipc *inst, const void *obj)
{
	const struct icmsg_inst *m = inst->priv;
	return (const void *)&m->data.im == obj;
}

/* An agent without an interrupt thread: its application's poll drains the ring, the reader held in between. */
static void poll_icmsg(struct sim_ipc *inst)
{
	struct icmsg_inst *m = inst->priv;
	(void)icmsg_poll(&m->data.im);
}

SIM_IPC_BACKEND(icmsg) = {
	.compatible = "zephyr,ipc-icmsg",
	.kind = "icmsg",
	.open = open_icmsg,
	.close = close_icmsg,
	.owns = owns_icmsg,
	.poll = poll_icmsg,
};
