/*
 * Devicetree binding: multi-endpoint instances (amplink,ipc-multi), an ICMsg-like node plus the block geometry
 * of <amplink/ipc/ipc_multi.h>, and the "multi" lines of ampl_dt_print().
 */
#include "dt/dt_gen.h"
#include "dt/dt_internal.h"
#include <amplink/ipc/ipc_multi.h>

#include <libfdt.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* Multi-endpoint instances: compatible = "amplink,ipc-multi" (an ICMsg-like node plus the block geometry). */
static int parse_ipc_multi(struct dt_ctx *c, int off)
{
	struct ampl_dt_board *b = c->b;
	char path[AMPL_DT_PATH_MAX];
	dt_path_of(c, off, path, sizeof(path));
	if (b->num_ipc_multis >= AMPL_DT_MAX_IPC_MULTI)
		return dt_fail(c, path, NULL, "more than %d ipc-multi instances (AMPL_DT_MAX_IPC_MULTI)",
			       AMPL_DT_MAX_IPC_MULTI);
	struct ampl_dt_ipc_multi *m = &b->ipc_multis[b->num_ipc_multis];
	int ret = dt_parse_icmsg_node(c, off, path, &m->base);
	if (ret)
		return ret;
	if (m->base.unbound != AMPL_DT_ICMSG_UNBOUND_DISABLE)
		return dt_fail(c, path, "unbound", "not used by amplink,ipc-multi (its bonding is its own)");
	uint32_t bs = 0, bc = 16, im = 0;
	ret = dt_read_u32(c, off, path, "block-size", &bs);
	if (ret >= 0)
		ret = dt_read_u32(c, off, path, "block-count", &bc);
	if (ret >= 0)
		ret = dt_read_u32(c, off, path, "inline-max", &im);
	if (ret < 0)
		return ret;
	if (bc == 0 || bc > IPC_MULTI_MAX_BLOCKS)
		return dt_fail(c, path, "block-count", "%u: must be 1..%u", bc, IPC_MULTI_MAX_BLOCKS);
	if (im > IPC_MULTI_INLINE_MAX)
		return dt_fail(c, path, "inline-max", "%u: must be 0..%u (IPC_MULTI_INLINE_MAX of this build)", im,
			       (unsigned)IPC_MULTI_INLINE_MAX);
	struct ipc_multi_layout lo;
	if (m->base.tx_size > UINT32_MAX || m->base.rx_size > UINT32_MAX ||
	    ipc_multi_layout(&lo, (uint32_t)m->base.tx_size, m->base.dcache_alignment, bs, bc))
		return dt_fail(c, path, "block-size", "%u x %u blocks (multiple of MAX(dcache-alignment, 4), >= 8) do "
			       "not fit tx-region 0x%" PRIx64 " after its control ring", bs, bc, m->base.tx_size);
	m->block_size = lo.block_size;
	m->block_count = bc;
	m->inline_max = im;
	if (!dt_ipc_add(c, &m->base.node, "amplink,ipc-multi", m->base.consumer, m->base.tx_mbox, m->base.rx_mbox,
			b->num_ipc_multis))
		return -EINVAL;
	b->num_ipc_multis++;
	return 0;
}

const struct ampl_dt_ipc_multi *ampl_dt_find_ipc_multi(const struct ampl_dt_board *board, const char *name)
{
	for (unsigned i = 0; board && name && i < board->num_ipc_multis; i++) {
		const struct ampl_dt_node *n = &board->ipc_multis[i].base.node;
		if (dt_node_is(n, name))
			return &board->ipc_multis[i];
	}
	return NULL;
}

static void print_multis(const struct ampl_dt_board *board, FILE *out)
{
	for (unsigned i = 0; i < board->num_ipc_multis; i++) {
		const struct ampl_dt_ipc_multi *m = &board->ipc_multis[i];
		fprintf(out,
			"multi tx 0x%08" PRIx64 " rx 0x%08" PRIx64 "  blocks %" PRIu32 " x %" PRIu32 "  inline-max %" PRIu32
			"  %s",
			m->base.tx_addr, m->base.rx_addr, m->block_count, m->block_size, m->inline_max, m->base.node.path);
		dt_print_label(out, &m->base.node);
		fputc('\n', out);
	}
}

/* ---- `amplink dt gen`: the C of an instance for firmware (src/dt/dt_gen.h) ---- */

static int gen_multi(struct dt_gen *g, const struct ampl_dt_ipc *ipc)
{
	const struct ampl_dt_ipc_multi *mdt = &g->b->ipc_multis[ipc->index];
	char id[ID_MAX];
	const struct ampl_dt_icmsg *dt = &mdt->base;
	dt_gen_node_id(&dt->node, id);
	int ret = dt_gen_icmsg_common(g, dt, id, "ampl_dt_ipc_multi");
	if (ret)
		return ret;
	dt_gen_def_u(g, id, "_P_block_size", mdt->block_size);
	dt_gen_def_u(g, id, "_P_block_count", mdt->block_count);
	dt_gen_def_u(g, id, "_P_inline_max", mdt->inline_max);
	FILE *f = g->c;
	fprintf(f, "\n/* %s */\nconst struct ampl_dt_ipc_multi %s_NODE = {\n\t.base = {\n", dt->node.path, id);
	dt_gen_c_node(f, &dt->node);
	dt_gen_c_icmsg_fields(f, dt);
	fprintf(f, "\t},\n\t.block_size = %u, .block_count = %u, .inline_max = %u,\n};\n", mdt->block_size,
		mdt->block_count, mdt->inline_max);
	dt_gen_c_ipc_head(g, &dt->node, id, dt->consumer);
	fprintf(f, "static const struct ipc_multi_config %s_CONFIG = AMPL_BOARD_IPC_MULTI_CONFIG_INIT(\n"
		"\tDT_REG_ADDR(DT_PHANDLE(%s, tx_region)), DT_REG_SIZE(DT_PHANDLE(%s, tx_region)),\n"
		"\tDT_REG_ADDR(DT_PHANDLE(%s, rx_region)), DT_REG_SIZE(DT_PHANDLE(%s, rx_region)),\n"
		"\t%s_P_dcache_alignment, %s_P_block_size, %s_P_block_count, %s_P_inline_max, %s_MBOXES);\n",
		id, id, id, id, id, id, id, id, id, id);
	dt_gen_c_ipc_device(g, &dt->node, id, "ipc_multi", "ipc_multi_backend");
	return 0;
}

static const char *const multi_compatibles[] = { "amplink,ipc-multi", NULL };

/* After the reserved memory and the mailbox consumers, which an instance names. */
DT_BINDING(multi) = {
	.gen = gen_multi,
	.order = 70,
	.compatible = multi_compatibles,
	.late = parse_ipc_multi,
	.print = print_multis,
};
