/*
 * Devicetree binding of the loopback backend (loop.h): memory-region (one reserved-memory node), mboxes "tx" and
 * "rx", amplink,loop-tag (required); and its C for `amplink dt gen`.
 */
#include "loop.h"

#include "dt/dt_gen.h"
#include "dt/dt_internal.h"

#include <errno.h>
#include <string.h>

_Static_assert(sizeof(struct loop_node) <= AMPL_DT_IPC_PART_MAX, "the node's part fits struct ampl_dt_ipc");

static int parse_loop(struct dt_ctx *c, int off)
{
	char path[AMPL_DT_PATH_MAX];
	struct ampl_dt_node node;
	struct loop_node n = { 0 };
	unsigned consumer, tx, rx;
	dt_path_of(c, off, path, sizeof(path));
	int ret = dt_node_ident(c, off, &node);
	if (!ret)
		ret = dt_ipc_region(c, off, path, "memory-region", "a loop instance needs <&region>", &n.mem);
	if (!ret)
		ret = dt_ipc_mboxes(c, path, "a loop instance", &consumer, &tx, &rx);
	if (ret)
		return ret;
	ret = dt_read_u32(c, off, path, "amplink,loop-tag", &n.tag);
	if (ret < 0)
		return ret;
	if (ret == 0)
		return dt_fail(c, path, "amplink,loop-tag", "missing: a loop instance needs its tag");
	n.addr = c->b->mems[n.mem].addr;
	n.size = c->b->mems[n.mem].size;
	struct ampl_dt_ipc *ipc = dt_ipc_add(c, &node, LOOP_COMPATIBLE, consumer, tx, rx, 0);
	if (!ipc)
		return -EINVAL;
	memcpy(ipc->part.bytes, &n, sizeof(n));
	return 0;
}

/* Its macros and a device built from them (the configuration's region is the agent's address of the region). */
static int gen_loop(struct dt_gen *g, const struct ampl_dt_ipc *ipc)
{
	const struct loop_node *n = (const struct loop_node *)ipc->part.bytes;
	char id[ID_MAX];
	dt_gen_node_id(&ipc->node, id);
	dt_gen_node_common(g, &ipc->node, id);
	dt_gen_def_id(g, id, "_P_memory_region_IDX_0_PH", &g->b->mems[n->mem].node);
	dt_gen_def_u(g, id, "_P_amplink_loop_tag", n->tag);
	fprintf(g->h, "extern struct ampl_device %s_DEVICE;\n", id);
	dt_gen_c_ipc_head(g, &ipc->node, id, ipc->consumer);
	fprintf(g->c, "static const struct loop_config %s_CONFIG = { .region = (volatile uint8_t *)(uintptr_t)"
		"DT_REG_ADDR(DT_PHANDLE(%s, memory_region)),\n\t.size = DT_REG_SIZE(DT_PHANDLE(%s, memory_region)), "
		".tag = %s_P_amplink_loop_tag, .mc = &%s_MBOX_CONSUMER };\n", id, id, id, id, id);
	dt_gen_c_ipc_device(g, &ipc->node, id, "loop", "loop_backend");
	return 0;
}

static const char *const loop_compatibles[] = { LOOP_COMPATIBLE, NULL };

/* After the reserved memory and the mailbox consumers, which an instance names. */
DT_BINDING(loop) = {
	.order = 90,
	.compatible = loop_compatibles,
	.late = parse_loop,
	.gen = gen_loop,
};
