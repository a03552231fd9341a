/*
 * Devicetree binding: access apertures (amplink,aperture), as the XMPU's on the silicon. docs/security.md has the
 * binding:
 *
 *     apertures {                                (a node outside /reserved-memory, e.g. at the root)
 *         #address-cells = <2>; #size-cells = <2>;
 *         shm_guard: aperture@3ed00000 {
 *             compatible = "amplink,aperture";
 *             reg = <0x0 0x3ed00000 0x0 0x1000>; (inside one reserved-memory region, 4 KiB pages)
 *             amplink,writers = "apu";           (may read and write)
 *             amplink,readers = "rpu0";          (may read)
 *         };
 *     };
 *
 * Every other agent may not touch the range. Agents are named as the profile names them (its aliases too).
 */
#include "dt/dt_internal.h"

#include <libfdt.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define APERTURE_PAGE 4096u /* the virtual SoC enforces apertures with page protections */

/* The agents that string-list property @prop of @off names, as a mask of profile indices. */
static int agent_list(struct dt_ctx *c, int off, const char *path, const char *prop, uint32_t *mask)
{
	const struct ampl_soc_profile *p = c->b->profile ? c->b->profile : c->want;
	int n = fdt_stringlist_count(c->fdt, off, prop);
	*mask = 0;
	if (n == -FDT_ERR_NOTFOUND)
		return 0;
	if (n < 0)
		return dt_fail(c, path, prop, "must be a list of agent names");
	if (!p)
		return dt_fail(c, path, prop, "names agents, but the devicetree has no IPI node to say which SoC it is");
	for (int i = 0; i < n; i++) {
		const char *name = fdt_stringlist_get(c->fdt, off, prop, i, NULL);
		const struct ampl_soc_agent *a = name ? ampl_soc_agent_by_name(p, name) : NULL;
		if (!a)
			return dt_fail(c, path, prop, "'%s' is not an agent of the %s profile", name ? name : "?",
				       p->name);
		*mask |= 1u << ampl_soc_agent_index(p, a);
	}
	return 0;
}

static int parse_aperture(struct dt_ctx *c, int off)
{
	struct ampl_dt_board *b = c->b;
	char path[AMPL_DT_PATH_MAX];
	struct ampl_dt_region regs[AMPL_DT_MAX_REGS];
	unsigned n;
	dt_path_of(c, off, path, sizeof(path));
	if (b->num_apertures >= AMPL_DT_MAX_APERTURES)
		return dt_fail(c, path, NULL, "more than %d apertures (AMPL_DT_MAX_APERTURES)", AMPL_DT_MAX_APERTURES);
	struct ampl_dt_aperture *ap = &b->apertures[b->num_apertures];
	memset(ap, 0, sizeof(*ap));
	int ret = dt_node_ident(c, off, &ap->node);
	ret = ret ? ret : dt_read_regs(c, off, path, true, regs, &n);
	ret = ret ? ret : agent_list(c, off, path, "amplink,readers", &ap->readers);
	ret = ret ? ret : agent_list(c, off, path, "amplink,writers", &ap->writers);
	if (ret)
		return ret;
	if (n != 1)
		return dt_fail(c, path, "reg", "an aperture is one range (%u given)", n);
	ap->addr = regs[0].addr;
	ap->size = regs[0].size;
	if (!ap->size || ap->addr % APERTURE_PAGE || ap->size % APERTURE_PAGE)
		return dt_fail(c, path, "reg", "0x%" PRIx64 "+0x%" PRIx64 ": must be whole %u-byte pages", ap->addr,
			       ap->size, APERTURE_PAGE);
	const struct ampl_dt_mem *in = NULL;
	for (unsigned i = 0; i < b->num_mems; i++)
		if (ap->addr >= b->mems[i].addr && ap->addr - b->mems[i].addr < b->mems[i].size &&
		    ap->size <= b->mems[i].size - (ap->addr - b->mems[i].addr))
			in = &b->mems[i];
	if (!in)
		return dt_fail(c, path, "reg", "0x%" PRIx64 "+0x%" PRIx64 " is not inside one reserved-memory region",
			       ap->addr, ap->size);
	for (unsigned i = 0; i < b->num_apertures; i++) {
		const struct ampl_dt_aperture *o = &b->apertures[i];
		if (ap->addr < o->addr + o->size && o->addr < ap->addr + ap->size)
			return dt_fail(c, path, "reg", "overlaps aperture %s", o->node.path);
	}
	b->num_apertures++;
	return 0;
}


/* Agent names of @mask, comma-separated, or "-". */
static void print_agents(const struct ampl_soc_profile *p, uint32_t mask, FILE *out)
{
	if (!mask || !p) {
		fputc('-', out);
		return;
	}
	for (unsigned i = 0, n = 0; i < p->num_agents; i++)
		if (mask & 1u << i)
			fprintf(out, "%s%s", n++ ? "," : "", p->agents[i].name);
}

static void print_apertures(const struct ampl_dt_board *board, FILE *out)
{
	for (unsigned i = 0; i < board->num_apertures; i++) {
		const struct ampl_dt_aperture *a = &board->apertures[i];
		fprintf(out, "aperture 0x%08" PRIx64 " size 0x%-8" PRIx64 " writers ", a->addr, a->size);
		print_agents(board->profile, a->writers, out);
		fputs(" readers ", out);
		print_agents(board->profile, a->readers, out);
		fprintf(out, "  %s", a->node.path);
		dt_print_label(out, &a->node);
		fputc('\n', out);
	}
}

static const char *const aperture_compatibles[] = { "amplink,aperture", NULL };

/* After the reserved memory: an aperture lies inside one region. */
DT_BINDING(aperture) = {
	.order = 40,
	.compatible = aperture_compatibles,
	.late = parse_aperture,
	.print = print_apertures,
};
