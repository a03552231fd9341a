/*
 * Devicetree binding of the loopback controller (mbox_loop.h): reg, interrupts, status, #mbox-cells = <1>,
 * amplink,agent (read by dt_mbox_ctrl_add(); required here: the agent that owns it); its "loop" lines of
 * ampl_dt_print(), its register block in the memory map, and its C for `amplink dt gen` (for its agent only).
 */
#include "mbox_loop.h"

#include "dt/dt_gen.h"
#include "dt/dt_internal.h"

#include <libfdt.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>

static const char *const loop_compatibles[] = { MBOX_LOOP_COMPATIBLE, NULL };

static int parse_loop(struct dt_ctx *c, int off)
{
	char path[AMPL_DT_PATH_MAX];
	uint32_t cells = 0;
	dt_path_of(c, off, path, sizeof(path));
	struct ampl_dt_mbox_ctrl *e = dt_mbox_ctrl_add(c, off, loop_compatibles, 0);
	if (!e)
		return -EINVAL;
	if (dt_read_u32(c, off, path, "#mbox-cells", &cells) < 0)
		return -EINVAL;
	if (cells != 1)
		return dt_fail(c, path, "#mbox-cells", "must be <1> (the channel, 0..%u)", MBOX_LOOP_CHANS - 1);
	if (!e->agent[0])
		return dt_fail(c, path, "amplink,agent", "missing: a loop controller needs the agent that owns it");
	return 0;
}

static void print_loops(const struct ampl_dt_board *board, FILE *out)
{
	for (unsigned i = 0; i < board->num_mbox_ctrls; i++) {
		const struct ampl_dt_mbox_ctrl *e = &board->mbox_ctrls[i];
		if (strcmp(e->compatible, MBOX_LOOP_COMPATIBLE))
			continue;
		fprintf(out, "loop  %-9s 0x%08" PRIx64 " size 0x%-8" PRIx64 " %s  %s\n",
			e->agent, e->addr, e->size,
			e->okay ? "okay" : "disabled", e->node.path);
	}
}

static unsigned loop_spans(const struct ampl_dt_board *board, struct ampl_dt_span *s, unsigned cap)
{
	unsigned n = 0;
	for (unsigned i = 0; i < board->num_mbox_ctrls && n < cap; i++) {
		const struct ampl_dt_mbox_ctrl *e = &board->mbox_ctrls[i];
		if (!strcmp(e->compatible, MBOX_LOOP_COMPATIBLE) && e->okay)
			s[n++] = (struct ampl_dt_span){ e->node.path, e->addr, e->size };
	}
	return n;
}

/* `amplink dt gen`: the agent's enabled controllers, described as struct ampl_dt_mbox_ctrl, and their macros. */
static int gen_loops(struct dt_gen *g)
{
	for (unsigned i = 0; i < g->b->num_mbox_ctrls; i++) {
		const struct ampl_dt_mbox_ctrl *e = &g->b->mbox_ctrls[i];
		char id[ID_MAX];
		if (strcmp(e->compatible, MBOX_LOOP_COMPATIBLE) || !e->okay ||
		    strcmp(e->agent, g->agent->name))
			continue;
		int ret = dt_gen_one_reg_node(g, &e->node, e->addr, e->size, "ampl_dt_mbox_ctrl", id);
		if (ret)
			return ret;
		fprintf(g->c, ",\n\t.compatible = ");
		dt_gen_str_lit(g->c, e->compatible);
		fprintf(g->c, ", .irq = %d, .okay = true,\n};\n", e->irq);
		if (e->irq >= 0)
			dt_gen_def_u(g, id, "_IRQN", (uint64_t)e->irq);
	}
	return 0;
}

/* After the IPI (10) and Messaging Units (20), before the mailbox consumers (50) that name it. */
DT_BINDING(mbox_loop) = {
	.order = 25,
	.compatible = loop_compatibles,
	.node = parse_loop,
	.spans = loop_spans,
	.print = print_loops,
	.gen_nodes = gen_loops,
};
