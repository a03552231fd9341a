/*
 * Devicetree loader: the diagnostics and the FDT property readers every binding uses (src/dt/dt_internal.h).
 */
#include "dt/dt_internal.h"

#include <libfdt.h>

#include <inttypes.h>
#include <string.h>

#include <errno.h>
#include <stdarg.h>

/* ------------------------------------------------------------------------------------------------------------ */
/* Messages                                                                                                     */
/* ------------------------------------------------------------------------------------------------------------ */

static void vformat_line(char *buf, size_t cap, const char *src, const char *node, const char *prop, const char *fmt,
			 va_list ap)
{
	int n = snprintf(buf, cap, "%s: ", src && *src ? src : "<devicetree>");
	size_t len = n > 0 ? (size_t)n : 0;

	if (len < cap && node && *node) {
		n = snprintf(buf + len, cap - len, "%s: ", node);
		len += n > 0 ? (size_t)n : 0;
	}
	if (len < cap && prop && *prop) {
		n = snprintf(buf + len, cap - len, "%s: ", prop);
		len += n > 0 ? (size_t)n : 0;
	}
	if (len < cap)
		vsnprintf(buf + len, cap - len, fmt, ap);
}

void DT_FMT(5, 6)
	dt_set_diag(struct ampl_dt_diag *diag, const char *src, const char *node, const char *prop, const char *fmt, ...)
{
	va_list ap;

	if (!diag)
		return;
	va_start(ap, fmt);
	vformat_line(diag->msg, sizeof(diag->msg), src, node, prop, fmt, ap);
	va_end(ap);
}

int DT_FMT(4, 5) dt_fail(struct dt_ctx *c, const char *node, const char *prop, const char *fmt, ...)
{
	va_list ap;

	if (c->diag) {
		va_start(ap, fmt);
		vformat_line(c->diag->msg, sizeof(c->diag->msg), c->src, node, prop, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

void DT_FMT(4, 5) dt_warn(struct dt_ctx *c, const char *node, const char *prop, const char *fmt, ...)
{
	static const char more[] = "...\n";
	struct ampl_dt_board *b = c->b;
	char line[512];
	size_t used = strlen(b->warnings), room = sizeof(b->warnings) - used, n;
	va_list ap;

	va_start(ap, fmt);
	vformat_line(line, sizeof(line) - 1, c->src, node, prop, fmt, ap);
	va_end(ap);
	n = strlen(line);
	line[n++] = '\n';
	line[n] = '\0';
	b->num_warnings++;
	/* every line leaves room for the "..." that marks a full buffer */
	if (n + sizeof(more) <= room)
		memcpy(b->warnings + used, line, n + 1);
	else if (used < sizeof(more) - 1 || strcmp(b->warnings + used - (sizeof(more) - 1), more) != 0)
		memcpy(b->warnings + used, more, sizeof(more));
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Small property readers                                                                                       */
/* ------------------------------------------------------------------------------------------------------------ */

bool dt_is_compatible(const void *fdt, int off, const char *compat)
{
	return fdt_node_check_compatible(fdt, off, compat) == 0;
}

bool dt_copy_name(char *dst, size_t cap, const char *s, size_t len)
{
	if (len >= cap)
		return false;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return true;
}

/** Is @val (of @len bytes) one NUL-terminated string? */
bool dt_is_string(const char *val, int len)
{
	return val && len > 0 && val[len - 1] == '\0' && strlen(val) == (size_t)len - 1;
}

/* Path of @off into @buf; on failure a placeholder that still reads well in a message. */
const char *dt_path_of(struct dt_ctx *c, int off, char *buf, size_t cap)
{
	if (fdt_get_path(c->fdt, off, buf, (int)cap) != 0)
		snprintf(buf, cap, "<node at offset %d>", off);
	return buf;
}

/**
 * dt_read_u32() - a property of exactly one cell.
 * Return: 1 and *@out when present, 0 when absent, -EINVAL (with message) when malformed.
 */
int dt_read_u32(struct dt_ctx *c, int off, const char *path, const char *prop, uint32_t *out)
{
	int len;
	const void *val = fdt_getprop(c->fdt, off, prop, &len);

	if (!val) {
		if (len != -FDT_ERR_NOTFOUND)
			return dt_fail(c, path, prop, "cannot read: %s", fdt_strerror(len));
		return 0;
	}
	if (len != 4)
		return dt_fail(c, path, prop, "must be one 32-bit cell (it has %d bytes)", len);
	*out = fdt32_ld((const fdt32_t *)val);
	return 1;
}

/** Label of @path from /__symbols__ ("" if none or if the blob was compiled without dtc -@). */
static int find_label(struct dt_ctx *c, const char *path, char *label, size_t cap)
{
	int poff;

	label[0] = '\0';
	if (c->symbols < 0)
		return 0;
	fdt_for_each_property_offset(poff, c->fdt, c->symbols) {
		const char *name;
		int len;
		const char *val = fdt_getprop_by_offset(c->fdt, poff, &name, &len);

		if (!name || !dt_is_string(val, len) || strcmp(val, path) != 0)
			continue;
		if (!dt_copy_name(label, cap, name, strlen(name)))
			return dt_fail(c, path, NULL, "label \"%s\" is longer than %zu characters", name, cap - 1);
		return 0;
	}
	return 0;
}

int dt_for_each_compatible(struct dt_ctx *c, const char *compat, int (*parse)(struct dt_ctx *c, int off))
{
	for (int off = fdt_node_offset_by_compatible(c->fdt, -1, compat); off >= 0;
	     off = fdt_node_offset_by_compatible(c->fdt, off, compat)) {
		int ret = parse(c, off);
		if (ret)
			return ret;
	}
	return 0;
}

bool dt_node_is(const struct ampl_dt_node *n, const char *name)
{
	return !strcmp(n->path, name) || !strcmp(n->name, name) || (n->label[0] && !strcmp(n->label, name));
}

/** Fill @n with the name, path and label of @off. */
int dt_node_ident(struct dt_ctx *c, int off, struct ampl_dt_node *n)
{
	int len, err;
	const char *name;

	err = fdt_get_path(c->fdt, off, n->path, sizeof(n->path));
	if (err == -FDT_ERR_NOSPACE)
		return dt_fail(c, fdt_get_name(c->fdt, off, NULL), NULL, "node path is longer than %zu characters",
			       sizeof(n->path) - 1);
	if (err)
		return dt_fail(c, NULL, NULL, "cannot get the path of the node at offset %d: %s", off,
			       fdt_strerror(err));
	name = fdt_get_name(c->fdt, off, &len);
	if (!name)
		return dt_fail(c, n->path, NULL, "cannot get the node name: %s", fdt_strerror(len));
	if (!dt_copy_name(n->name, sizeof(n->name), name, (size_t)len))
		return dt_fail(c, n->path, NULL, "node name is longer than %zu characters", sizeof(n->name) - 1);
	return find_label(c, n->path, n->label, sizeof(n->label));
}

/* ------------------------------------------------------------------------------------------------------------ */
/* reg, reg-names, interrupts                                                                                   */
/* ------------------------------------------------------------------------------------------------------------ */

/**
 * bus_cells() - #address-cells or #size-cells that apply to the children of @parent.
 * The parent's own property; when absent, the nearest ancestor's (with a warning: the DT spec says the default
 * applies, Linux and older dtc-based tools inherit); when no ancestor has one, the spec default @dflt.
 */
static int bus_cells(struct dt_ctx *c, int parent, const char *child_path, const char *prop, uint32_t dflt,
		     uint32_t max, uint32_t *out)
{
	char pbuf[AMPL_DT_PATH_MAX], abuf[AMPL_DT_PATH_MAX];
	int node = parent;
	int ret;

	for (;;) {
		ret = dt_read_u32(c, node, dt_path_of(c, node, abuf, sizeof(abuf)), prop, out);
		if (ret < 0)
			return ret;
		if (ret > 0)
			break;
		if (node == 0) {
			*out = dflt;
			return 0;
		}
		node = fdt_parent_offset(c->fdt, node);
		if (node < 0)
			return dt_fail(c, child_path, NULL, "cannot find the parent node: %s", fdt_strerror(node));
	}
	if (*out > max)
		return dt_fail(c, abuf, prop, "%" PRIu32 " cells are not supported (at most %" PRIu32 ")", *out, max);
	if (node != parent) {
		bool seen = false;

		for (unsigned i = 0; i < c->num_inherit_warned; i++)
			seen |= c->inherit_warned[i] == parent;
		if (!seen) {
			if (c->num_inherit_warned < AMPL_ARRAY_SIZE(c->inherit_warned))
				c->inherit_warned[c->num_inherit_warned++] = parent;
			dt_warn(c, dt_path_of(c, parent, pbuf, sizeof(pbuf)), prop,
				"absent; using <%" PRIu32 "> from %s as Linux does (the devicetree specification's "
				"default would be <%" PRIu32 ">)",
				*out, abuf, dflt);
		}
	}
	return 0;
}

/**
 * dt_read_regs() - decode `reg` (with the parent's cell sizes) and `reg-names` of @off.
 * Return: 0 (*@num = 0 when there is no reg and it is not @required) or -EINVAL.
 */
int dt_read_regs(struct dt_ctx *c, int off, const char *path, bool required, struct ampl_dt_region *regs,
		 unsigned *num)
{
	uint32_t ac, sc;
	int len, nlen, parent, ret, count;
	const fdt32_t *cell;
	const char *names;
	unsigned n, entry;

	*num = 0;
	cell = fdt_getprop(c->fdt, off, "reg", &len);
	if (!cell) {
		if (len != -FDT_ERR_NOTFOUND)
			return dt_fail(c, path, "reg", "cannot read: %s", fdt_strerror(len));
		if (required)
			return dt_fail(c, path, "reg", "missing (required)");
		if (fdt_getprop(c->fdt, off, "reg-names", NULL))
			return dt_fail(c, path, "reg-names", "given without reg");
		return 0;
	}
	parent = fdt_parent_offset(c->fdt, off);
	if (parent < 0)
		return dt_fail(c, path, "reg", "cannot find the parent node: %s", fdt_strerror(parent));
	ret = bus_cells(c, parent, path, "#address-cells", 2, 2, &ac);
	if (ret)
		return ret;
	ret = bus_cells(c, parent, path, "#size-cells", 1, 2, &sc);
	if (ret)
		return ret;
	if (ac == 0)
		return dt_fail(c, path, "reg", "the parent's #address-cells is 0, so there can be no reg");
	entry = (ac + sc) * 4u;
	if (len == 0 || (unsigned)len % entry != 0)
		return dt_fail(c, path, "reg",
			       "%d bytes is not a whole number of entries (#address-cells = %" PRIu32
			       ", #size-cells = %" PRIu32 ")",
			       len, ac, sc);
	n = (unsigned)len / entry;
	if (n > AMPL_DT_MAX_REGS)
		return dt_fail(c, path, "reg", "%u entries; at most %d are supported (AMPL_DT_MAX_REGS)", n,
			       AMPL_DT_MAX_REGS);
	for (unsigned i = 0; i < n; i++) {
		uint64_t v[2] = { 0, 0 };

		for (unsigned k = 0; k < ac + sc; k++) {
			unsigned which = k < ac ? 0 : 1;

			v[which] = (v[which] << 32) | fdt32_ld(cell++);
		}
		regs[i].name[0] = '\0';
		regs[i].addr = v[0];
		regs[i].size = v[1];
	}

	names = fdt_getprop(c->fdt, off, "reg-names", &nlen);
	if (names) {
		count = fdt_stringlist_count(c->fdt, off, "reg-names");
		if (count < 0)
			return dt_fail(c, path, "reg-names", "not a list of strings");
		if ((unsigned)count != n)
			return dt_fail(c, path, "reg-names", "%d names for %u reg entries", count, n);
		for (int i = 0; i < count; i++) {
			int slen;
			const char *s = fdt_stringlist_get(c->fdt, off, "reg-names", i, &slen);

			if (!s)
				return dt_fail(c, path, "reg-names", "cannot read name %d: %s", i, fdt_strerror(slen));
			if (!dt_copy_name(regs[i].name, sizeof(regs[i].name), s, (size_t)slen))
				return dt_fail(c, path, "reg-names", "\"%s\" is longer than %zu characters", s,
					       sizeof(regs[i].name) - 1);
			for (int j = 0; j < i; j++)
				if (strcmp(regs[j].name, regs[i].name) == 0)
					return dt_fail(c, path, "reg-names", "\"%s\" appears twice", s);
		}
	} else if (nlen != -FDT_ERR_NOTFOUND) {
		return dt_fail(c, path, "reg-names", "cannot read: %s", fdt_strerror(nlen));
	}
	*num = n;
	return 0;
}

int dt_find_region(const struct ampl_dt_region *regs, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(regs[i].name, name) == 0)
			return (int)i;
	return -1;
}

/** #interrupt-cells of @off's interrupt parent, or 0 if the tree does not say. */
static uint32_t interrupt_cells(struct dt_ctx *c, int off)
{
	int node = off;

	for (;;) {
		int len;
		const void *val = fdt_getprop(c->fdt, node, "interrupt-parent", &len);

		if (val && len == 4) {
			int ic = fdt_node_offset_by_phandle(c->fdt, fdt32_ld((const fdt32_t *)val));
			const void *cells = ic >= 0 ? fdt_getprop(c->fdt, ic, "#interrupt-cells", &len) : NULL;

			return cells && len == 4 ? fdt32_ld((const fdt32_t *)cells) : 0;
		}
		if (node == 0)
			return 0;
		node = fdt_parent_offset(c->fdt, node);
		if (node < 0)
			return 0;
	}
}

/**
 * dt_read_irq() - the interrupt number of @off's first `interrupts` specifier: the second cell of a 3-cell (GIC)
 * specifier, else the first cell; -1 if there is no `interrupts`.
 */
int dt_read_irq(struct dt_ctx *c, int off, const char *path, int *irq)
{
	int len;
	const fdt32_t *val = fdt_getprop(c->fdt, off, "interrupts", &len);
	uint32_t ncells, spec, v;

	*irq = -1;
	if (!val) {
		if (len != -FDT_ERR_NOTFOUND)
			return dt_fail(c, path, "interrupts", "cannot read: %s", fdt_strerror(len));
		return 0;
	}
	if (len == 0 || len % 4 != 0)
		return dt_fail(c, path, "interrupts", "%d bytes is not a whole number of 32-bit cells", len);
	ncells = (uint32_t)len / 4u;
	spec = interrupt_cells(c, off);
	if (spec > 0 && ncells < spec)
		return dt_fail(c, path, "interrupts",
			       "%" PRIu32 " cells, fewer than one specifier (#interrupt-cells = %" PRIu32 ")", ncells,
			       spec);
	if (spec == 0) /* no interrupt controller in the tree: guess from the length */
		spec = (ncells % 3 == 0 && ncells % 2 != 0) ? 3 : 1;
	v = fdt32_ld(&val[spec == 3 ? 1 : 0]);
	if (v > (uint32_t)INT_MAX)
		return dt_fail(c, path, "interrupts", "interrupt number %" PRIu32 " is out of range", v);
	*irq = (int)v;
	return 0;
}

void dt_print_label(FILE *out, const struct ampl_dt_node *n)
{
	if (n->label[0])
		fprintf(out, "  &%s", n->label);
}

void dt_print_irq(FILE *out, int irq)
{
	if (irq >= 0)
		fprintf(out, "irq %-4d", irq);
	else
		fprintf(out, "irq -   ");
}
