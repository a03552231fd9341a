/*
 * Devicetree binding: i.MX Messaging Units (nxp,imx-mu, fsl,imx6sx-mu), their register blocks in the memory map and
 * the "mu" lines of ampl_dt_print(), their C in `amplink dt gen`, and the agents of their two sides.
 */
#include "dt/dt_gen.h"
#include "dt/dt_internal.h"

#include <libfdt.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>

static int find_alias(struct dt_ctx *c, int off, const char *path, char *alias, size_t cap)
{
	int poff;

	alias[0] = '\0';
	if (c->aliases < 0)
		return 0;
	fdt_for_each_property_offset(poff, c->fdt, c->aliases) {
		const char *name;
		int len;
		const char *val = fdt_getprop_by_offset(c->fdt, poff, &name, &len);

		if (!name || !dt_is_string(val, len) || val[0] != '/')
			continue;
		if (strcmp(val, path) != 0 && fdt_path_offset(c->fdt, val) != off)
			continue;
		if (!dt_copy_name(alias, cap, name, strlen(name)))
			return dt_fail(c, "/aliases", name, "alias name is longer than %zu characters", cap - 1);
		return 0;
	}
	return 0;
}

static const char *const mu_compatibles[] = { "nxp,imx-mu", "fsl,imx6sx-mu", NULL };

static int parse_mu(struct dt_ctx *c, int off)
{
	struct ampl_dt_board *b = c->b;
	const struct ampl_dt_mbox_ctrl *e;
	struct ampl_dt_mu *mu;
	char path[AMPL_DT_PATH_MAX];

	dt_path_of(c, off, path, sizeof(path));
	if (b->num_mus >= AMPL_DT_MAX_MUS)
		return dt_fail(c, path, NULL, "more than %d messaging units (AMPL_DT_MAX_MUS)", AMPL_DT_MAX_MUS);
	e = dt_mbox_ctrl_add(c, off, mu_compatibles, b->num_mus);
	if (!e)
		return -EINVAL;
	mu = &b->mus[b->num_mus];
	memset(mu, 0, sizeof(*mu));
	mu->node = e->node;
	mu->addr = e->addr;
	mu->size = e->size;
	mu->irq = e->irq;
	mu->okay = e->okay;
	int ret = find_alias(c, off, path, mu->alias, sizeof(mu->alias));
	if (ret)
		return ret;
	mu->side_b = fdt_getprop(c->fdt, off, "fsl,mu-side-b", NULL) != NULL;
	b->num_mus++;
	return 0;
}

/*
 * Once the profile is known: the agents of each unit's two sides (struct ampl_dt_mbox_ctrl.agent, .peer). The node's
 * side (A, or B with fsl,mu-side-b) is its amplink,agent's, else the profile's first application processor (not
 * AMPL_AGENT_FIRMWARE); the other side is the profile's first other application processor. The virtual SoC gives
 * the sides to these agents; an IPC instance over the unit is theirs.
 */
static int mu_sides(struct dt_ctx *c)
{
	struct ampl_dt_board *b = c->b;
	const struct ampl_soc_profile *p = b->profile;

	for (unsigned i = 0; p && i < b->num_mbox_ctrls; i++) {
		struct ampl_dt_mbox_ctrl *e = &b->mbox_ctrls[i];
		const char *const *cp = mu_compatibles;

		while (*cp && strcmp(*cp, e->compatible))
			cp++;
		for (unsigned k = 0; *cp && k < p->num_agents && !e->peer[0]; k++) {
			const char *name = p->agents[k].name;
			if (p->agents[k].flags & AMPL_AGENT_FIRMWARE || !strcmp(name, e->agent))
				continue;
			dt_copy_name(e->agent[0] ? e->peer : e->agent, sizeof(e->agent), name, strlen(name));
		}
	}
	return 0;
}

static void print_mus(const struct ampl_dt_board *board, FILE *out)
{
	for (unsigned i = 0; i < board->num_mus; i++) {
		const struct ampl_dt_mu *mu = &board->mus[i];

		fprintf(out, "mu    %-9s 0x%08" PRIx64 " size 0x%-8" PRIx64 " ", mu->alias[0] ? mu->alias : "-",
			mu->addr, mu->size);
		dt_print_irq(out, mu->irq);
		fprintf(out, "  %-8s side %c  %s", mu->okay ? "okay" : "disabled", mu->side_b ? 'B' : 'A',
			mu->node.path);
		dt_print_label(out, &mu->node);
		fputc('\n', out);
	}
}

/* The register blocks of the enabled units. */
static unsigned mu_spans(const struct ampl_dt_board *board, struct ampl_dt_span *s, unsigned cap)
{
	unsigned n = 0;

	for (unsigned i = 0; i < board->num_mus && n < cap; i++)
		if (board->mus[i].okay)
			s[n++] = (struct ampl_dt_span){ board->mus[i].node.path, board->mus[i].addr, board->mus[i].size };
	return n;
}

/* `amplink dt gen`: the enabled units' values (their description, registers, interrupt, side, alias). */
static int gen_mus(struct dt_gen *g)
{
	for (unsigned i = 0; i < g->b->num_mus; i++) {
		const struct ampl_dt_mu *m = &g->b->mus[i];
		char id[ID_MAX];

		if (!m->okay)
			continue;
		int ret = dt_gen_one_reg_node(g, &m->node, m->addr, m->size, "ampl_dt_mu", id);
		if (ret)
			return ret;
		fprintf(g->c, ",\n\t.alias = ");
		dt_gen_str_lit(g->c, m->alias);
		fprintf(g->c, ", .irq = %d, .okay = true, .side_b = %s,\n};\n", m->irq, m->side_b ? "true" : "false");
		if (m->irq >= 0)
			dt_gen_def_u(g, id, "_IRQN", (uint64_t)m->irq);
		dt_gen_def_u(g, id, "_P_fsl_mu_side_b", m->side_b);
		if (m->alias[0])
			dt_gen_def_s(g, id, "_ALIAS", m->alias);
	}
	return 0;
}

DT_BINDING(mu) = {
	.order = 20,
	.compatible = mu_compatibles,
	.node = parse_mu,
	.board = mu_sides,
	.spans = mu_spans,
	.print = print_mus,
	.gen_nodes = gen_mus,
};
