/* The loopback backend (loop.h) and its entry in the virtual SoC's IPC backends (src/sim/ipc.h). */
#include "loop.h"

#include "sim/image.h"
#include "sim/ipc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int loop_open(const struct ampl_device *inst)
{
	struct loop_data *d = inst->data;
	if (d->open)
		return -EALREADY;
	d->open = true;
	return 0;
}

static int loop_close(const struct ampl_device *inst)
{
	struct loop_data *d = inst->data;
	if (!d->open)
		return -ENOENT;
	d->open = false;
	d->registered = false;
	return 0;
}

static int loop_register(const struct ampl_device *inst, void **token, const struct ipc_ept_cfg *cfg)
{
	struct loop_data *d = inst->data;
	if (d->registered)
		return -EBUSY;
	d->ept = *cfg;
	d->registered = true;
	*token = d;
	if (cfg->cb.bound)
		cfg->cb.bound(cfg->priv);
	return 0;
}

static int loop_deregister(const struct ampl_device *inst, void *token)
{
	struct loop_data *d = inst->data;
	if (token != d || !d->registered)
		return -ENOENT;
	d->registered = false;
	return 0;
}

/* The message goes through the shared region and comes back to the endpoint that sent it. */
static int loop_send(const struct ampl_device *inst, void *token, const void *data, size_t len)
{
	const struct loop_config *cfg = inst->config;
	struct loop_data *d = inst->data;
	if (token != d || !d->registered)
		return -ENOENT;
	if (len > cfg->size)
		return -EMSGSIZE;
	uint8_t copy[256];
	if (len > sizeof(copy))
		return -EMSGSIZE;
	for (size_t i = 0; i < len; i++)
		cfg->region[i] = ((const uint8_t *)data)[i];
	for (size_t i = 0; i < len; i++)
		copy[i] = cfg->region[i];
	if (d->ept.cb.received)
		d->ept.cb.received(copy, len, d->ept.priv);
	return (int)len;
}

const struct ipc_service_backend loop_backend = {
	.open_instance = loop_open,
	.close_instance = loop_close,
	.send = loop_send,
	.register_endpoint = loop_register,
	.deregister_endpoint = loop_deregister,
};

/* ---- on the virtual SoC ---- */

struct loop_inst {
	struct loop_config cfg;
	struct loop_data data;
};

static int open_loop(const struct sim_ipc_ctx *ctx, const struct ampl_dt_ipc *ipc, struct sim_ipc *inst)
{
	const struct loop_node *n = (const struct loop_node *)ipc->part.bytes;
	volatile void *region = ampl_board_map(&ctx->mem, n->addr, n->size);
	if (!region || n->size > UINT32_MAX)
		return sim_error(-EINVAL, "%s: its memory-region is not in the SoC's memory", ipc->node.path);
	struct loop_inst *m = calloc(1, sizeof(*m));
	if (!m)
		return sim_error(-ENOMEM, "out of memory");
	m->cfg = (struct loop_config){ .region = region, .size = (uint32_t)n->size, .tag = n->tag, .mc = ctx->mc };
	sim_ipc_set(inst, &loop_backend, &m->cfg, &m->data, m);
	return 0;
}

static void close_loop(struct sim_ipc *inst)
{
	(void)loop_close(&inst->dev);
}

SIM_IPC_BACKEND(loop) = {
	.compatible = LOOP_COMPATIBLE,
	.kind = "loop",
	.open = open_loop,
	.close = close_loop,
};
