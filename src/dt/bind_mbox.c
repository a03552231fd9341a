/*
 * Devicetree binding: mailbox consumers (mboxes, mbox-names), ampl_dt_find_consumer() and the "user" lines of
 * ampl_dt_print(); and what every mailbox controller node but the IPI's shares (dt_mbox_ctrl_add(),
 * ampl_dt_find_mbox_ctrl()).
 */
#include "dt/dt_internal.h"

#include <libfdt.h>

#include <inttypes.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------------------------ */
/* Mailbox consumers: `mboxes` = list of <&provider cells...>, `mbox-names`                                     */
/* ------------------------------------------------------------------------------------------------------------ */

/* The optional amplink,agent of node @off into @agent ("" without it). */
static int read_agent(struct dt_ctx *c, int off, const char *path, char (*agent)[32])
{
	int len;
	const char *v = fdt_getprop(c->fdt, off, "amplink,agent", &len);

	(*agent)[0] = '\0';
	if (v && (!dt_is_string(v, len) || !dt_copy_name(*agent, sizeof(*agent), v, strlen(v))))
		return dt_fail(c, path, "amplink,agent", "must be the name of an agent (shorter than %zu)",
			       sizeof(*agent));
	return 0;
}

/* Every node: the ones with a `mboxes` property are consumers, whatever their compatible. */
static int parse_consumer(struct dt_ctx *c, int off)
{
	struct ampl_dt_board *b = c->b;
	char path[AMPL_DT_PATH_MAX];
	int len, names_len = 0;
	const fdt32_t *cells = fdt_getprop(c->fdt, off, "mboxes", &len);
	const char *names = fdt_getprop(c->fdt, off, "mbox-names", &names_len);

	if (!cells)
		return 0;
	dt_path_of(c, off, path, sizeof(path));
	if (b->num_consumers >= AMPL_DT_MAX_CONSUMERS)
		return dt_fail(c, path, "mboxes", "more than %d mailbox consumers (AMPL_DT_MAX_CONSUMERS)",
			       AMPL_DT_MAX_CONSUMERS);
	if (!cells || len <= 0 || len % 4)
		return dt_fail(c, path, "mboxes", "must be a non-empty list of <&controller cells...>");
	struct ampl_dt_consumer *con = &b->consumers[b->num_consumers];
	memset(con, 0, sizeof(*con));
	int ret = dt_node_ident(c, off, &con->node);
	ret = ret ? ret : read_agent(c, off, path, &con->agent);
	if (ret)
		return ret;
	unsigned ncells = (unsigned)len / 4, i = 0;
	while (i < ncells) {
		if (con->num_mboxes >= AMPL_DT_MAX_MBOXES)
			return dt_fail(c, path, "mboxes", "more than %d entries (AMPL_DT_MAX_MBOXES)", AMPL_DT_MAX_MBOXES);
		uint32_t ph = fdt32_to_cpu(cells[i++]);
		int poff = fdt_node_offset_by_phandle(c->fdt, ph);
		if (poff < 0)
			return dt_fail(c, path, "mboxes", "entry %u: phandle 0x%x names no node", con->num_mboxes, ph);
		char ppath[AMPL_DT_PATH_MAX];
		dt_path_of(c, poff, ppath, sizeof(ppath));
		int clen;
		const fdt32_t *mc = fdt_getprop(c->fdt, poff, "#mbox-cells", &clen);
		if (!mc || clen != 4)
			return dt_fail(c, ppath, "#mbox-cells", "missing on the controller that %s's mboxes entry %u names",
				       path, con->num_mboxes);
		uint32_t n = fdt32_to_cpu(*mc);
		if (n > 4)
			return dt_fail(c, ppath, "#mbox-cells", "%u cells; at most 4 are supported", n);
		if (i + n > ncells)
			return dt_fail(c, path, "mboxes", "entry %u needs %u cells after the phandle; the list ends first",
				       con->num_mboxes, n);
		struct ampl_dt_mbox_ref *r = &con->mboxes[con->num_mboxes];
		snprintf(r->provider, sizeof(r->provider), "%s", ppath);
		r->nargs = n;
		for (uint32_t k = 0; k < n; k++)
			r->args[k] = fdt32_to_cpu(cells[i++]);
		con->num_mboxes++;
	}
	if (names) {
		if (names_len <= 0 || names[names_len - 1] != '\0')
			return dt_fail(c, path, "mbox-names", "must be a list of strings");
		unsigned k = 0;
		for (const char *nm = names; nm < names + names_len; nm += strlen(nm) + 1, k++) {
			if (k >= con->num_mboxes)
				return dt_fail(c, path, "mbox-names", "has more names than mboxes has entries (%u)",
					       con->num_mboxes);
			if (!dt_copy_name(con->mboxes[k].name, sizeof(con->mboxes[k].name), nm, strlen(nm)))
				return dt_fail(c, path, "mbox-names", "name '%s' is too long", nm);
		}
		if (k != con->num_mboxes)
			return dt_fail(c, path, "mbox-names", "%u names for %u mboxes entries", k, con->num_mboxes);
	}
	b->num_consumers++;
	return 0;
}

const struct ampl_dt_consumer *ampl_dt_find_consumer(const struct ampl_dt_board *board, const char *name)
{
	for (unsigned i = 0; board && name && i < board->num_consumers; i++) {
		const struct ampl_dt_node *n = &board->consumers[i].node;
		if (dt_node_is(n, name))
			return &board->consumers[i];
	}
	return NULL;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Mailbox controllers but the IPI: the board's array of every controller node (struct ampl_dt_mbox_ctrl)       */
/* ------------------------------------------------------------------------------------------------------------ */

struct ampl_dt_mbox_ctrl *dt_mbox_ctrl_add(struct dt_ctx *c, int off, const char *const *compatible, unsigned index)
{
	struct ampl_dt_board *b = c->b;
	struct ampl_dt_region regs[AMPL_DT_MAX_REGS];
	char path[AMPL_DT_PATH_MAX];
	unsigned n;
	int len;

	dt_path_of(c, off, path, sizeof(path));
	if (b->num_mbox_ctrls >= AMPL_DT_MAX_MBOX_CTRLS) {
		dt_fail(c, path, NULL, "more than %d mailbox controllers (AMPL_DT_MAX_MBOX_CTRLS)",
			AMPL_DT_MAX_MBOX_CTRLS);
		return NULL;
	}
	struct ampl_dt_mbox_ctrl *e = &b->mbox_ctrls[b->num_mbox_ctrls];
	memset(e, 0, sizeof(*e));
	if (dt_node_ident(c, off, &e->node) || dt_read_regs(c, off, path, true, regs, &n) ||
	    dt_read_irq(c, off, path, &e->irq))
		return NULL;
	while (*compatible && !dt_is_compatible(c->fdt, off, *compatible))
		compatible++;
	if (*compatible)
		dt_copy_name(e->compatible, sizeof(e->compatible), *compatible, strlen(*compatible));
	e->addr = regs[0].addr;
	e->size = regs[0].size;
	const char *status = fdt_getprop(c->fdt, off, "status", &len);
	e->okay = !status || (dt_is_string(status, len) && (strcmp(status, "okay") == 0 || strcmp(status, "ok") == 0));
	e->index = index;
	if (read_agent(c, off, path, &e->agent))
		return NULL;
	b->num_mbox_ctrls++;
	return e;
}

const struct ampl_dt_mbox_ctrl *ampl_dt_find_mbox_ctrl(const struct ampl_dt_board *board, const char *name)
{
	for (unsigned i = 0; board && name && i < board->num_mbox_ctrls; i++)
		if (dt_node_is(&board->mbox_ctrls[i].node, name))
			return &board->mbox_ctrls[i];
	return NULL;
}

/* Once the board is read: a consumer's amplink,agent is an agent of the profile that owns a side of each
 * controller its mboxes name (where the controller's agents are known). */
static int check_consumer_agents(struct dt_ctx *c)
{
	const struct ampl_dt_board *b = c->b;

	for (unsigned i = 0; i < b->num_consumers; i++) {
		const struct ampl_dt_consumer *con = &b->consumers[i];
		const struct ampl_soc_profile *p = b->profile;

		if (!con->agent[0])
			continue;
		if (p && !ampl_soc_agent_by_name(p, con->agent)) {
			char names[256];
			ampl_soc_agent_names(p, names, sizeof(names));
			return dt_fail(c, con->node.path, "amplink,agent", "'%s' is not an agent of the %s profile (agents: %s)",
				       con->agent, p->name, names);
		}
		for (unsigned k = 0; k < con->num_mboxes; k++) {
			const struct ampl_dt_mbox_ctrl *e = ampl_dt_find_mbox_ctrl(b, con->mboxes[k].provider);
			if (e && e->agent[0] && strcmp(e->agent, con->agent) && strcmp(e->peer, con->agent))
				return dt_fail(c, con->node.path, "amplink,agent", "%s owns no side of %s (its agents: %s%s%s)",
					       con->agent, e->node.path, e->agent, e->peer[0] ? ", " : "", e->peer);
		}
	}
	return 0;
}

static void print_consumers(const struct ampl_dt_board *board, FILE *out)
{
	for (unsigned i = 0; i < board->num_consumers; i++) {
		const struct ampl_dt_consumer *con = &board->consumers[i];

		fprintf(out, "user  %s", con->node.path);
		dt_print_label(out, &con->node);
		if (con->agent[0])
			fprintf(out, "  agent %s", con->agent);
		fputc('\n', out);
		for (unsigned k = 0; k < con->num_mboxes; k++) {
			const struct ampl_dt_mbox_ref *r = &con->mboxes[k];

			fprintf(out, "  mbox %-8s %s <", r->name[0] ? r->name : "-", r->provider);
			for (unsigned a = 0; a < r->nargs; a++)
				fprintf(out, "%s%" PRIu32, a ? " " : "", r->args[a]);
			fprintf(out, ">\n");
		}
	}
}

DT_BINDING(mbox) = {
	.order = 50,
	.node = parse_consumer,
	.board = check_consumer_agents,
	.print = print_consumers,
};
