/*
 * Devicetree loader (host side): reads a .dts (through cpp and dtc) or a .dtb, walks it with libfdt and keeps
 * what it says about IPI mailboxes, i.MX messaging units, reserved memory and IPC service instances, checked
 * against the SoC profile.
 *
 * Messages are "FILE: NODE: PROPERTY: why" (NODE/PROPERTY left out when they do not apply). The loader stops at
 * the first error; things that are odd but usable (Versal example addresses, inherited #address-cells) become
 * warning lines in the board.
 */
#include <amplink/dt.h>
#include <amplink/errno.h>
#include <amplink/ipc/ipc_multi.h>

#include "dt/dt_bindings.h"

#include <libfdt.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define DT_FMT(a, b) __attribute__((format(printf, a, b)))

/* Names of the ZynqMP child regions, in the order of struct ampl_dt_ipi_chan's addresses. */
static const char *const zynqmp_region_names[4] = {
	"local_request_region",
	"local_response_region",
	"remote_request_region",
	"remote_response_region",
};

#define DTC_OUTPUT_MAX 2048

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

static void DT_FMT(5, 6)
	set_diag(struct ampl_dt_diag *diag, const char *src, const char *node, const char *prop, const char *fmt, ...)
{
	va_list ap;

	if (!diag)
		return;
	va_start(ap, fmt);
	vformat_line(diag->msg, sizeof(diag->msg), src, node, prop, fmt, ap);
	va_end(ap);
}

/** Loader state for one blob. */
struct dt_ctx {
	const void *fdt;
	const char *src;
	const struct ampl_soc_profile *want; /* the caller's profile, or NULL */
	struct ampl_dt_board *b;
	struct ampl_dt_diag *diag;
	int ctrl_off[AMPL_DT_MAX_CTRLS]; /* node offset of b->ctrls[i] */
	int symbols;                     /* /__symbols__, or < 0 */
	int aliases;                     /* /aliases, or < 0 */
	int inherit_warned[8];           /* parents already warned about inherited cells */
	unsigned num_inherit_warned;
};

static int DT_FMT(4, 5) dt_fail(struct dt_ctx *c, const char *node, const char *prop, const char *fmt, ...)
{
	va_list ap;

	if (c->diag) {
		va_start(ap, fmt);
		vformat_line(c->diag->msg, sizeof(c->diag->msg), c->src, node, prop, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void DT_FMT(4, 5) dt_warn(struct dt_ctx *c, const char *node, const char *prop, const char *fmt, ...)
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

static bool is_compatible(const void *fdt, int off, const char *compat)
{
	return fdt_node_check_compatible(fdt, off, compat) == 0;
}

static bool copy_name(char *dst, size_t cap, const char *s, size_t len)
{
	if (len >= cap)
		return false;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return true;
}

/** Is @val (of @len bytes) one NUL-terminated string? */
static bool is_string(const char *val, int len)
{
	return val && len > 0 && val[len - 1] == '\0' && strlen(val) == (size_t)len - 1;
}

/* Path of @off into @buf; on failure a placeholder that still reads well in a message. */
static const char *path_of(struct dt_ctx *c, int off, char *buf, size_t cap)
{
	if (fdt_get_path(c->fdt, off, buf, (int)cap) != 0)
		snprintf(buf, cap, "<node at offset %d>", off);
	return buf;
}

/**
 * read_u32() - a property of exactly one cell.
 * Return: 1 and *@out when present, 0 when absent, -EINVAL (with message) when malformed.
 */
static int read_u32(struct dt_ctx *c, int off, const char *path, const char *prop, uint32_t *out)
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

		if (!name || !is_string(val, len) || strcmp(val, path) != 0)
			continue;
		if (!copy_name(label, cap, name, strlen(name)))
			return dt_fail(c, path, NULL, "label \"%s\" is longer than %zu characters", name, cap - 1);
		return 0;
	}
	return 0;
}

/** Fill @n with the name, path and label of @off. */
static int node_ident(struct dt_ctx *c, int off, struct ampl_dt_node *n)
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
	if (!copy_name(n->name, sizeof(n->name), name, (size_t)len))
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
		ret = read_u32(c, node, path_of(c, node, abuf, sizeof(abuf)), prop, out);
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
			dt_warn(c, path_of(c, parent, pbuf, sizeof(pbuf)), prop,
				"absent; using <%" PRIu32 "> from %s as Linux does (the devicetree specification's "
				"default would be <%" PRIu32 ">)",
				*out, abuf, dflt);
		}
	}
	return 0;
}

/**
 * read_regs() - decode `reg` (with the parent's cell sizes) and `reg-names` of @off.
 * Return: 0 (*@num = 0 when there is no reg and it is not @required) or -EINVAL.
 */
static int read_regs(struct dt_ctx *c, int off, const char *path, bool required, struct ampl_dt_region *regs,
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
			if (!copy_name(regs[i].name, sizeof(regs[i].name), s, (size_t)slen))
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

static int find_region(const struct ampl_dt_region *regs, unsigned n, const char *name)
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
 * read_irq() - the interrupt number of @off's first `interrupts` specifier: the second cell of a 3-cell (GIC)
 * specifier, else the first cell; -1 if there is no `interrupts`.
 */
static int read_irq(struct dt_ctx *c, int off, const char *path, int *irq)
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

/* ------------------------------------------------------------------------------------------------------------ */
/* IPI                                                                                                          */
/* ------------------------------------------------------------------------------------------------------------ */

/* "0-10" (or "0, 2, 5" if the ids are not contiguous) */
static void valid_ids(const struct ampl_soc_profile *p, char *buf, size_t cap)
{
	unsigned lo = UINT_MAX, hi = 0;
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < p->num_agents; i++) {
		lo = p->agents[i].ipi_id < lo ? p->agents[i].ipi_id : lo;
		hi = p->agents[i].ipi_id > hi ? p->agents[i].ipi_id : hi;
	}
	if (p->num_agents > 0 && hi - lo + 1 == p->num_agents) {
		snprintf(buf, cap, "%u-%u", lo, hi);
		return;
	}
	for (unsigned i = 0; i < p->num_agents && len < cap; i++) {
		int n = snprintf(buf + len, cap - len, "%s%u", i ? ", " : "", p->agents[i].ipi_id);

		len += n > 0 ? (size_t)n : 0;
	}
}

/** Read xlnx,ipi-id of @off and map it to an agent of @p. */
static int read_agent(struct dt_ctx *c, int off, const char *path, const struct ampl_soc_profile *p, uint32_t *id,
		      const struct ampl_ipi_agent **agent)
{
	char ids[64];
	int ret = read_u32(c, off, path, "xlnx,ipi-id", id);

	if (ret < 0)
		return ret;
	if (ret == 0)
		return dt_fail(c, path, "xlnx,ipi-id", "missing (required: the IPI agent of this node)");
	*agent = ampl_soc_agent_by_id(p, *id);
	if (!*agent) {
		valid_ids(p, ids, sizeof(ids));
		return dt_fail(c, path, "xlnx,ipi-id", "%" PRIu32 " is not a %s IPI agent (valid: %s)", *id, p->name,
			       ids);
	}
	return 0;
}

static uint64_t agent_buf_base(const struct ampl_soc_profile *p, const struct ampl_ipi_agent *a)
{
	return p->buf_base + (uint64_t)a->buf_slot * AMPL_IPI_SLOT_STRIDE;
}

/**
 * check_ctrl_msg_regs() - Versal-style "ctrl" [+ "msg"] regions of agent @a: names, buffers, addresses.
 * Return: 0 and *@has_msg, or -EINVAL.
 */
static int check_ctrl_msg_regs(struct dt_ctx *c, const char *path, const struct ampl_soc_profile *p,
			       const struct ampl_ipi_agent *a, const struct ampl_dt_region *regs, unsigned n,
			       bool *has_msg)
{
	int ctrl, msg;

	*has_msg = false;
	for (unsigned i = 0; i < n; i++) {
		if (!regs[i].name[0])
			return dt_fail(c, path, "reg-names", "missing (required: \"ctrl\" and optionally \"msg\")");
		if (strcmp(regs[i].name, "ctrl") != 0 && strcmp(regs[i].name, "msg") != 0)
			return dt_fail(c, path, "reg-names",
				       "unknown region \"%s\" (expected \"ctrl\" and optionally \"msg\")",
				       regs[i].name);
	}
	ctrl = find_region(regs, n, "ctrl");
	msg = find_region(regs, n, "msg");
	if (ctrl < 0)
		return dt_fail(c, path, "reg-names", "\"ctrl\" missing (required)");
	if (regs[ctrl].addr != a->reg_base) {
		if (p->dt_addresses_strict)
			return dt_fail(c, path, "reg",
				       "ctrl is at 0x%" PRIx64 ", expected 0x%" PRIx64 " (%s(%u)'s registers)",
				       regs[ctrl].addr, (uint64_t)a->reg_base, a->name, a->ipi_id);
		dt_warn(c, path, "reg",
			"ctrl is at 0x%" PRIx64 ", but %s(%u)'s registers are at 0x%" PRIx64
			" on %s; using the profile's address",
			regs[ctrl].addr, a->name, a->ipi_id, (uint64_t)a->reg_base, p->name);
	}
	if (msg < 0)
		return 0;
	if (a->buf_slot < 0)
		return dt_fail(c, path, "reg-names", "\"msg\" given, but %s agent %s(%u) has no message buffers",
			       p->name, a->name, a->ipi_id);
	if (regs[msg].addr != agent_buf_base(p, a)) {
		if (p->dt_addresses_strict)
			return dt_fail(c, path, "reg",
				       "msg is at 0x%" PRIx64 ", expected 0x%" PRIx64 " (%s(%u)'s buffers)",
				       regs[msg].addr, agent_buf_base(p, a), a->name, a->ipi_id);
		dt_warn(c, path, "reg",
			"msg is at 0x%" PRIx64 ", but %s(%u)'s buffers are at 0x%" PRIx64
			" on %s; using the profile's address",
			regs[msg].addr, a->name, a->ipi_id, agent_buf_base(p, a), p->name);
	}
	*has_msg = true;
	return 0;
}

static int parse_ipi_ctrl(struct dt_ctx *c, int off, const struct ampl_soc_profile *p)
{
	struct ampl_dt_board *b = c->b;
	struct ampl_dt_ipi_ctrl *ctrl;
	char path[AMPL_DT_PATH_MAX];
	bool has_msg;
	int ret;

	path_of(c, off, path, sizeof(path));
	if (c->want && c->want != p)
		return dt_fail(c, path, "compatible", "\"%s\" is a %s IPI controller, but the %s profile was requested",
			       p->ipi_compatible, p->name, c->want->name);
	if (b->profile && b->profile != p)
		return dt_fail(c, path, "compatible", "\"%s\" is a %s IPI controller, but the tree also has %s ones",
			       p->ipi_compatible, p->name, b->profile->name);
	b->profile = p;
	if (b->num_ctrls >= AMPL_DT_MAX_CTRLS)
		return dt_fail(c, path, NULL, "more than %d IPI controllers (AMPL_DT_MAX_CTRLS)", AMPL_DT_MAX_CTRLS);

	ctrl = &b->ctrls[b->num_ctrls];
	memset(ctrl, 0, sizeof(*ctrl));
	ctrl->profile = p;
	ret = node_ident(c, off, &ctrl->node);
	if (!ret)
		ret = read_agent(c, off, path, p, &ctrl->local_id, &ctrl->local);
	if (ret)
		return ret;
	for (unsigned i = 0; i < b->num_ctrls; i++)
		if (b->ctrls[i].local_id == ctrl->local_id)
			return dt_fail(c, path, "xlnx,ipi-id", "agent %s(%" PRIu32 ") already has a controller at %s",
				       ctrl->local->name, ctrl->local_id, b->ctrls[i].node.path);
	ret = read_irq(c, off, path, &ctrl->irq);
	if (!ret)
		ret = read_regs(c, off, path, p != &ampl_soc_zynqmp, ctrl->regs, &ctrl->num_regs);
	if (ret)
		return ret;
	if (p != &ampl_soc_zynqmp) {
		ret = check_ctrl_msg_regs(c, path, p, ctrl->local, ctrl->regs, ctrl->num_regs, &has_msg);
		if (ret)
			return ret;
	}
	c->ctrl_off[b->num_ctrls++] = off;
	return 0;
}

/** The ZynqMP child's four regions: names, sizes, and the silicon's addresses. */
static int check_zynqmp_regions(struct dt_ctx *c, const char *path, const struct ampl_soc_profile *p,
				const struct ampl_ipi_agent *local, const struct ampl_dt_ipi_chan *chan,
				const uint64_t expect[4])
{
	int idx[4];

	for (unsigned i = 0; i < chan->num_regs; i++) {
		bool known = false;

		if (!chan->regs[i].name[0])
			return dt_fail(c, path, "reg-names", "missing (required: %s, %s, %s, %s)",
				       zynqmp_region_names[0], zynqmp_region_names[1], zynqmp_region_names[2],
				       zynqmp_region_names[3]);
		for (unsigned k = 0; k < 4; k++)
			known |= strcmp(chan->regs[i].name, zynqmp_region_names[k]) == 0;
		if (!known)
			return dt_fail(c, path, "reg-names", "unknown region \"%s\" (expected %s, %s, %s, %s)",
				       chan->regs[i].name, zynqmp_region_names[0], zynqmp_region_names[1],
				       zynqmp_region_names[2], zynqmp_region_names[3]);
	}
	for (unsigned k = 0; k < 4; k++) {
		idx[k] = find_region(chan->regs, chan->num_regs, zynqmp_region_names[k]);
		if (idx[k] < 0)
			return dt_fail(c, path, "reg-names", "\"%s\" missing (all four of %s, %s, %s, %s are required)",
				       zynqmp_region_names[k], zynqmp_region_names[0], zynqmp_region_names[1],
				       zynqmp_region_names[2], zynqmp_region_names[3]);
	}
	if (local->buf_slot < 0 || chan->remote->buf_slot < 0) {
		const struct ampl_ipi_agent *a = local->buf_slot < 0 ? local : chan->remote;

		return dt_fail(c, path, "reg", "buffer regions given, but %s agent %s(%u) has no message buffers",
			       p->name, a->name, a->ipi_id);
	}
	for (unsigned k = 0; k < 4; k++) {
		const struct ampl_dt_region *r = &chan->regs[idx[k]];

		if (r->size < AMPL_IPI_BUF_SIZE)
			return dt_fail(c, path, "reg", "%s is 0x%" PRIx64 " bytes, smaller than one %u-byte buffer",
				       r->name, r->size, AMPL_IPI_BUF_SIZE);
	}
	for (unsigned k = 0; k < 4; k++) {
		const struct ampl_dt_region *r = &chan->regs[idx[k]];
		const struct ampl_ipi_agent *src = k < 2 ? local : chan->remote, *dst = k < 2 ? chan->remote : local;

		if (r->addr == expect[k])
			continue;
		if (p->dt_addresses_strict)
			return dt_fail(c, path, "reg",
				       "%s is at 0x%" PRIx64 ", expected 0x%" PRIx64 " (%s: %s %s(%u) -> %s(%u))",
				       r->name, r->addr, expect[k], p->name,
				       k % 2 ? "response to the request" : "request", src->name, src->ipi_id, dst->name,
				       dst->ipi_id);
		dt_warn(c, path, "reg",
			"%s is at 0x%" PRIx64 ", but %s uses 0x%" PRIx64 "; using the profile's address", r->name,
			r->addr, p->name, expect[k]);
	}
	return 0;
}

static int parse_ipi_chan(struct dt_ctx *c, int off, const struct ampl_soc_profile *p)
{
	struct ampl_dt_board *b = c->b;
	struct ampl_dt_ipi_ctrl *ctrl = NULL;
	struct ampl_dt_ipi_chan *chan;
	char path[AMPL_DT_PATH_MAX];
	uint64_t expect[4];
	uint32_t cells;
	int parent, ret;

	path_of(c, off, path, sizeof(path));
	parent = fdt_parent_offset(c->fdt, off);
	for (unsigned i = 0; i < b->num_ctrls; i++)
		if (c->ctrl_off[i] == parent)
			ctrl = &b->ctrls[i];
	if (!ctrl)
		return dt_fail(c, path, "compatible", "\"%s\" node is not a child of a \"%s\" node", p->dest_compatible,
			       p->ipi_compatible);
	if (ctrl->profile != p)
		return dt_fail(c, path, "compatible", "\"%s\" node inside a \"%s\" controller", p->dest_compatible,
			       ctrl->profile->ipi_compatible);
	if (ctrl->num_chans >= AMPL_DT_MAX_CHANS)
		return dt_fail(c, path, NULL, "more than %d channels in %s (AMPL_DT_MAX_CHANS)", AMPL_DT_MAX_CHANS,
			       ctrl->node.path);

	chan = &ctrl->chans[ctrl->num_chans];
	memset(chan, 0, sizeof(*chan));
	ret = node_ident(c, off, &chan->node);
	if (!ret)
		ret = read_agent(c, off, path, p, &chan->remote_id, &chan->remote);
	if (ret)
		return ret;
	if (chan->remote_id == ctrl->local_id)
		return dt_fail(c, path, "xlnx,ipi-id",
			       "%" PRIu32 " is the controller's own agent (%s, %s); a channel needs another agent",
			       chan->remote_id, ctrl->local->name, ctrl->node.path);
	for (unsigned i = 0; i < ctrl->num_chans; i++)
		if (ctrl->chans[i].remote_id == chan->remote_id)
			return dt_fail(c, path, "xlnx,ipi-id", "%" PRIu32 " (%s) already has a channel at %s",
				       chan->remote_id, chan->remote->name, ctrl->chans[i].node.path);

	chan->mbox_cells = -1;
	ret = read_u32(c, off, path, "#mbox-cells", &cells);
	if (ret < 0)
		return ret;
	if (ret > 0) {
		if (cells != 1)
			return dt_fail(c, path, "#mbox-cells", "%" PRIu32 ", must be 1 (cell 0 = TX, 1 = RX)", cells);
		chan->mbox_cells = 1;
	}

	ret = read_regs(c, off, path, true, chan->regs, &chan->num_regs);
	if (ret)
		return ret;
	expect[0] = ampl_ipi_request_addr(p, ctrl->local, chan->remote);
	expect[1] = expect[0] + AMPL_IPI_RESP_OFFSET;
	expect[2] = ampl_ipi_request_addr(p, chan->remote, ctrl->local);
	expect[3] = expect[2] + AMPL_IPI_RESP_OFFSET;

	if (p == &ampl_soc_zynqmp) {
		ret = check_zynqmp_regions(c, path, p, ctrl->local, chan, expect);
		if (ret)
			return ret;
		chan->buffered = true;
	} else {
		bool child_msg, parent_msg = find_region(ctrl->regs, ctrl->num_regs, "msg") >= 0;

		ret = check_ctrl_msg_regs(c, path, p, chan->remote, chan->regs, chan->num_regs, &child_msg);
		if (ret)
			return ret;
		chan->buffered = parent_msg && child_msg && ctrl->local->buf_slot >= 0 && chan->remote->buf_slot >= 0;
	}
	if (chan->buffered) {
		chan->local_req = expect[0];
		chan->local_resp = expect[1];
		chan->remote_req = expect[2];
		chan->remote_resp = expect[3];
	}
	ctrl->num_chans++;
	return 0;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* i.MX MU, reserved memory                                                                                     */
/* ------------------------------------------------------------------------------------------------------------ */

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

		if (!name || !is_string(val, len) || val[0] != '/')
			continue;
		if (strcmp(val, path) != 0 && fdt_path_offset(c->fdt, val) != off)
			continue;
		if (!copy_name(alias, cap, name, strlen(name)))
			return dt_fail(c, "/aliases", name, "alias name is longer than %zu characters", cap - 1);
		return 0;
	}
	return 0;
}

static int parse_mu(struct dt_ctx *c, int off)
{
	struct ampl_dt_board *b = c->b;
	struct ampl_dt_region regs[AMPL_DT_MAX_REGS];
	struct ampl_dt_mu *mu;
	unsigned n;
	int len, ret;
	const char *status;
	char path[AMPL_DT_PATH_MAX];

	path_of(c, off, path, sizeof(path));
	if (b->num_mus >= AMPL_DT_MAX_MUS)
		return dt_fail(c, path, NULL, "more than %d messaging units (AMPL_DT_MAX_MUS)", AMPL_DT_MAX_MUS);
	mu = &b->mus[b->num_mus];
	memset(mu, 0, sizeof(*mu));
	ret = node_ident(c, off, &mu->node);
	if (!ret)
		ret = read_regs(c, off, path, true, regs, &n);
	if (!ret)
		ret = read_irq(c, off, path, &mu->irq);
	if (!ret)
		ret = find_alias(c, off, path, mu->alias, sizeof(mu->alias));
	if (ret)
		return ret;
	mu->addr = regs[0].addr;
	mu->size = regs[0].size;
	status = fdt_getprop(c->fdt, off, "status", &len);
	mu->okay = !status || (is_string(status, len) && (strcmp(status, "okay") == 0 || strcmp(status, "ok") == 0));
	mu->side_b = fdt_getprop(c->fdt, off, "fsl,mu-side-b", NULL) != NULL;
	b->num_mus++;
	return 0;
}

static int parse_reserved_memory(struct dt_ctx *c)
{
	struct ampl_dt_board *b = c->b;
	int rm = fdt_path_offset(c->fdt, "/reserved-memory");
	int off;

	if (rm < 0)
		return 0;
	fdt_for_each_subnode(off, c->fdt, rm) {
		struct ampl_dt_region regs[AMPL_DT_MAX_REGS];
		struct ampl_dt_mem *mem;
		char path[AMPL_DT_PATH_MAX];
		unsigned n;
		int ret;

		path_of(c, off, path, sizeof(path));
		if (b->num_mems >= AMPL_DT_MAX_MEMS)
			return dt_fail(c, path, NULL, "more than %d reserved-memory regions (AMPL_DT_MAX_MEMS)",
				       AMPL_DT_MAX_MEMS);
		mem = &b->mems[b->num_mems];
		memset(mem, 0, sizeof(*mem));
		ret = node_ident(c, off, &mem->node);
		if (!ret)
			ret = read_regs(c, off, path, true, regs, &n);
		if (ret)
			return ret;
		mem->addr = regs[0].addr;
		mem->size = regs[0].size;
		mem->no_map = fdt_getprop(c->fdt, off, "no-map", NULL) != NULL;
		b->num_mems++;
	}
	return 0;
}

int ampl_dt_check_spans(const struct ampl_dt_span *spans, unsigned n, unsigned *bad, char *why, size_t cap)
{
	char dummy[1];

	if (!why) {
		why = dummy;
		cap = sizeof(dummy);
	}
	for (unsigned i = 0; i < n; i++) {
		const struct ampl_dt_span *s = &spans[i];

		if (bad)
			*bad = i;
		if (s->size == 0) {
			snprintf(why, cap, "0x%" PRIx64 "+0x0 is empty", s->addr);
			return -EINVAL;
		}
		if (s->size > UINT64_MAX - s->addr) {
			snprintf(why, cap,
				 "0x%" PRIx64 "+0x%" PRIx64 " runs past the end of the 64-bit address space (its end, "
				 "address + size, must be below 2^64)",
				 s->addr, s->size);
			return -EINVAL;
		}
		for (unsigned j = 0; j < i; j++) {
			const struct ampl_dt_span *o = &spans[j];

			/* both ends fit in 64 bits: o was checked first */
			if (s->addr < o->addr + o->size && o->addr < s->addr + s->size) {
				snprintf(why, cap, "0x%" PRIx64 "+0x%" PRIx64 " overlaps %s (0x%" PRIx64 "+0x%" PRIx64 ")",
					 s->addr, s->size, o->name ? o->name : "another region", o->addr, o->size);
				return -EINVAL;
			}
		}
	}
	return 0;
}

/*
 * The memory map the board gives the SoC, under ampl_dt_check_spans()'s rule (the one `soc create` applies to its
 * image): the reserved-memory regions together with the profile's IPI message-buffer RAM (when the profile is
 * known), and the register blocks of the enabled Messaging Units.
 */
static int check_memory_map(struct dt_ctx *c)
{
	const struct ampl_dt_board *b = c->b;
	const struct ampl_soc_profile *p = b->profile;
	struct ampl_dt_span s[1 + AMPL_DT_MAX_MEMS + AMPL_DT_MAX_MUS];
	char ram[AMPL_DT_NAME_MAX + 48], why[512];
	unsigned n = 0, first, bad;

	if (p && p->buf_size) {
		snprintf(ram, sizeof(ram), "the %s IPI message-buffer RAM", p->name);
		s[n++] = (struct ampl_dt_span){ ram, p->buf_base, p->buf_size };
	}
	first = n;
	for (unsigned i = 0; i < b->num_mems; i++)
		s[n++] = (struct ampl_dt_span){ b->mems[i].node.path, b->mems[i].addr, b->mems[i].size };
	if (ampl_dt_check_spans(s, n, &bad, why, sizeof(why)))
		return dt_fail(c, bad >= first ? s[bad].name : NULL, bad >= first ? "reg" : NULL, "%s", why);
	n = 0;
	for (unsigned i = 0; i < b->num_mus; i++)
		if (b->mus[i].okay)
			s[n++] = (struct ampl_dt_span){ b->mus[i].node.path, b->mus[i].addr, b->mus[i].size };
	if (ampl_dt_check_spans(s, n, &bad, why, sizeof(why)))
		return dt_fail(c, s[bad].name, "reg", "%s", why);
	return 0;
}


/* ------------------------------------------------------------------------------------------------------------ */
/* Mailbox consumers: `mboxes` = list of <&provider cells...>, `mbox-names`                                     */
/* ------------------------------------------------------------------------------------------------------------ */

static int parse_consumer(struct dt_ctx *c, int off)
{
	struct ampl_dt_board *b = c->b;
	char path[AMPL_DT_PATH_MAX];
	int len, names_len = 0;
	const fdt32_t *cells = fdt_getprop(c->fdt, off, "mboxes", &len);
	const char *names = fdt_getprop(c->fdt, off, "mbox-names", &names_len);

	path_of(c, off, path, sizeof(path));
	if (b->num_consumers >= AMPL_DT_MAX_CONSUMERS)
		return dt_fail(c, path, "mboxes", "more than %d mailbox consumers (AMPL_DT_MAX_CONSUMERS)",
			       AMPL_DT_MAX_CONSUMERS);
	if (!cells || len <= 0 || len % 4)
		return dt_fail(c, path, "mboxes", "must be a non-empty list of <&controller cells...>");
	struct ampl_dt_consumer *con = &b->consumers[b->num_consumers];
	memset(con, 0, sizeof(*con));
	int ret = node_ident(c, off, &con->node);
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
		path_of(c, poff, ppath, sizeof(ppath));
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
			if (!copy_name(con->mboxes[k].name, sizeof(con->mboxes[k].name), nm, strlen(nm)))
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
		if (!strcmp(n->path, name) || !strcmp(n->name, name) || (n->label[0] && !strcmp(n->label, name)))
			return &board->consumers[i];
	}
	return NULL;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* ICMsg instances: compatible = "zephyr,ipc-icmsg"                                                             */
/* ------------------------------------------------------------------------------------------------------------ */

/*
 * The reserved-memory node that the one-phandle property @prop of @off names: its index in b->mems. @missing says
 * what the instance needs the property for, when it is absent.
 */
static int ipc_region(struct dt_ctx *c, int off, const char *path, const char *prop, const char *missing,
		      unsigned *mem)
{
	uint32_t ph;
	int ret = read_u32(c, off, path, prop, &ph);
	if (ret < 0)
		return ret;
	if (ret == 0)
		return dt_fail(c, path, prop, "missing: %s", missing);
	int roff = fdt_node_offset_by_phandle(c->fdt, ph);
	if (roff < 0)
		return dt_fail(c, path, prop, "phandle 0x%x names no node", ph);
	char rpath[AMPL_DT_PATH_MAX];
	path_of(c, roff, rpath, sizeof(rpath));
	for (unsigned i = 0; i < c->b->num_mems; i++) {
		if (!strcmp(c->b->mems[i].node.path, rpath)) {
			*mem = i;
			return 0;
		}
	}
	return dt_fail(c, path, prop, "%s is not a reserved-memory region", rpath);
}

/* The reg of the reserved-memory node that phandle property @prop of an ICMsg-like node names. */
static int icmsg_region(struct dt_ctx *c, int off, const char *path, const char *prop, uint64_t *addr,
			uint64_t *size)
{
	unsigned mem;
	int ret = ipc_region(c, off, path, prop, "an ICMsg instance needs <&region> for each direction", &mem);
	if (ret)
		return ret;
	*addr = c->b->mems[mem].addr;
	*size = c->b->mems[mem].size;
	return 0;
}

/*
 * The consumer entry of IPC instance node @path and the indices of its "tx" and "rx" mboxes. @what names the
 * instance kind in messages ("an ICMsg instance").
 */
static int ipc_mboxes(struct dt_ctx *c, const char *path, const char *what, unsigned *consumer, unsigned *tx_mbox,
		      unsigned *rx_mbox)
{
	struct ampl_dt_board *b = c->b;
	const struct ampl_dt_consumer *con = NULL;
	for (unsigned i = 0; i < b->num_consumers; i++) {
		if (!strcmp(b->consumers[i].node.path, path)) {
			con = &b->consumers[i];
			*consumer = i;
		}
	}
	if (!con)
		return dt_fail(c, path, "mboxes", "missing: %s needs <&mbox tx>, <&mbox rx>", what);
	bool tx = false, rx = false;
	for (unsigned k = 0; k < con->num_mboxes; k++) {
		if (!strcmp(con->mboxes[k].name, "tx")) {
			*tx_mbox = k;
			tx = true;
		} else if (!strcmp(con->mboxes[k].name, "rx")) {
			*rx_mbox = k;
			rx = true;
		}
	}
	if (!tx || !rx)
		return dt_fail(c, path, "mbox-names", "must name a \"tx\" and an \"rx\" channel");
	return 0;
}

static int parse_icmsg_node(struct dt_ctx *c, int off, const char *path, struct ampl_dt_icmsg *im);

static int parse_icmsg(struct dt_ctx *c, int off)
{
	struct ampl_dt_board *b = c->b;
	char path[AMPL_DT_PATH_MAX];
	path_of(c, off, path, sizeof(path));
	if (b->num_icmsgs >= AMPL_DT_MAX_ICMSG)
		return dt_fail(c, path, NULL, "more than %d ICMsg instances (AMPL_DT_MAX_ICMSG)", AMPL_DT_MAX_ICMSG);
	struct ampl_dt_icmsg *im = &b->icmsgs[b->num_icmsgs];
	int ret = parse_icmsg_node(c, off, path, im);
	if (ret)
		return ret;
	/* amplink,max-packet-ext: a boolean (empty) property (classic bonding only; see <amplink/dt.h>). */
	int len;
	if (fdt_getprop(c->fdt, off, "amplink,max-packet-ext", &len)) {
		if (len != 0)
			return dt_fail(c, path, "amplink,max-packet-ext", "takes no value (it is a boolean property)");
		im->max_packet_ext = true;
	}
	b->num_icmsgs++;
	return 0;
}

/* The properties an ICMsg node and an ipc-multi node share (tx/rx regions, mboxes, dcache-alignment, unbound). */
static int parse_icmsg_node(struct dt_ctx *c, int off, const char *path, struct ampl_dt_icmsg *im)
{
	memset(im, 0, sizeof(*im));
	int ret = node_ident(c, off, &im->node);
	if (!ret)
		ret = icmsg_region(c, off, path, "tx-region", &im->tx_addr, &im->tx_size);
	if (!ret)
		ret = icmsg_region(c, off, path, "rx-region", &im->rx_addr, &im->rx_size);
	if (ret)
		return ret;
	if (im->tx_addr < im->rx_addr + im->rx_size && im->rx_addr < im->tx_addr + im->tx_size)
		return dt_fail(c, path, "rx-region", "overlaps tx-region (0x%" PRIx64 "+0x%" PRIx64 " and 0x%" PRIx64
			       "+0x%" PRIx64 ")", im->tx_addr, im->tx_size, im->rx_addr, im->rx_size);
	ret = ipc_mboxes(c, path, "an ICMsg instance", &im->consumer, &im->tx_mbox, &im->rx_mbox);
	if (ret)
		return ret;
	uint32_t d = 0;
	ret = read_u32(c, off, path, "dcache-alignment", &d);
	if (ret < 0)
		return ret;
	if (d && (d < 4 || (d & (d - 1))))
		return dt_fail(c, path, "dcache-alignment", "%u: must be 0 or a power of two >= 4", d);
	im->dcache_alignment = d;
	int len;
	const char *ub = fdt_getprop(c->fdt, off, "unbound", &len);
	im->unbound = AMPL_DT_ICMSG_UNBOUND_DISABLE;
	if (ub) {
		if (!is_string(ub, len))
			return dt_fail(c, path, "unbound", "must be a string: \"disable\", \"enable\" or \"detect\"");
		if (!strcmp(ub, "enable"))
			im->unbound = AMPL_DT_ICMSG_UNBOUND_ENABLE;
		else if (!strcmp(ub, "detect"))
			im->unbound = AMPL_DT_ICMSG_UNBOUND_DETECT;
		else if (strcmp(ub, "disable"))
			return dt_fail(c, path, "unbound", "'%s': must be \"disable\", \"enable\" or \"detect\"", ub);
	}
	if (im->unbound == AMPL_DT_ICMSG_UNBOUND_DETECT && d < 8)
		return dt_fail(c, path, "dcache-alignment", "unbound = \"detect\" needs dcache-alignment >= 8");
	uint32_t pm = 0;
	ret = read_u32(c, off, path, "amplink,peer-max-packet", &pm);
	if (ret < 0)
		return ret;
	if (ret > 0 && (pm == 0 || pm > 0xFFFFu))
		return dt_fail(c, path, "amplink,peer-max-packet", "%u: must be 1..65535 (bytes of one packet)", pm);
	im->peer_max_packet = pm;
	return 0;
}

static int parse_icmsgs(struct dt_ctx *c)
{
	int off;
	for (off = fdt_node_offset_by_compatible(c->fdt, -1, "zephyr,ipc-icmsg"); off >= 0;
	     off = fdt_node_offset_by_compatible(c->fdt, off, "zephyr,ipc-icmsg")) {
		int ret = parse_icmsg(c, off);
		if (ret)
			return ret;
	}
	return 0;
}

/* Multi-endpoint instances: compatible = "amplink,ipc-multi" (an ICMsg-like node plus the block geometry). */
static int parse_ipc_multi(struct dt_ctx *c, int off)
{
	struct ampl_dt_board *b = c->b;
	char path[AMPL_DT_PATH_MAX];
	path_of(c, off, path, sizeof(path));
	if (b->num_ipc_multis >= AMPL_DT_MAX_IPC_MULTI)
		return dt_fail(c, path, NULL, "more than %d ipc-multi instances (AMPL_DT_MAX_IPC_MULTI)",
			       AMPL_DT_MAX_IPC_MULTI);
	struct ampl_dt_ipc_multi *m = &b->ipc_multis[b->num_ipc_multis];
	int ret = parse_icmsg_node(c, off, path, &m->base);
	if (ret)
		return ret;
	if (m->base.unbound != AMPL_DT_ICMSG_UNBOUND_DISABLE)
		return dt_fail(c, path, "unbound", "not used by amplink,ipc-multi (its bonding is its own)");
	uint32_t bs = 0, bc = 16;
	ret = read_u32(c, off, path, "block-size", &bs);
	if (ret >= 0)
		ret = read_u32(c, off, path, "block-count", &bc);
	if (ret < 0)
		return ret;
	if (bc == 0 || bc > IPC_MULTI_MAX_BLOCKS)
		return dt_fail(c, path, "block-count", "%u: must be 1..%u", bc, IPC_MULTI_MAX_BLOCKS);
	struct ipc_multi_layout lo;
	if (m->base.tx_size > UINT32_MAX || m->base.rx_size > UINT32_MAX ||
	    ipc_multi_layout(&lo, (uint32_t)m->base.tx_size, m->base.dcache_alignment, bs, bc))
		return dt_fail(c, path, "block-size", "%u x %u blocks (multiple of MAX(dcache-alignment, 4), >= 8) do "
			       "not fit tx-region 0x%" PRIx64 " after its control ring", bs, bc, m->base.tx_size);
	m->block_size = lo.block_size;
	m->block_count = bc;
	b->num_ipc_multis++;
	return 0;
}

static int parse_ipc_multis(struct dt_ctx *c)
{
	int off;
	for (off = fdt_node_offset_by_compatible(c->fdt, -1, "amplink,ipc-multi"); off >= 0;
	     off = fdt_node_offset_by_compatible(c->fdt, off, "amplink,ipc-multi")) {
		int ret = parse_ipc_multi(c, off);
		if (ret)
			return ret;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* RPMsg instances: compatible = "zephyr,ipc-openamp-static-vrings"                                             */
/* ------------------------------------------------------------------------------------------------------------ */

#define DT_RPMSG_COMPATIBLE "zephyr,ipc-openamp-static-vrings"

/* @a: a power of two */
static uint64_t round_up_pow2(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* virtio's vring_size(): descriptors (16 N) and the available ring (2 (3 + N)), aligned, then the used ring. */
static uint64_t vring_bytes(uint32_t num, uint32_t align)
{
	return round_up_pow2(16ull * num + 2ull * (3ull + num), align) + 2ull * 3 + 8ull * num;
}

/* Offset of the buffer pool: after the table and the two vrings (the layout of struct ampl_dt_rpmsg). */
static uint64_t rpmsg_pool_offset(uint32_t vring_num, uint32_t vring_align)
{
	uint64_t a = vring_align ? vring_align : 1;
	uint64_t vring = vring_bytes(vring_num, (uint32_t)a);
	uint64_t v0 = round_up_pow2(AMPL_DT_RPMSG_RSC_TABLE_SIZE, a), v1 = round_up_pow2(v0 + vring, a);

	return round_up_pow2(v1 + vring, AMPL_DT_RPMSG_BUF_ALIGN);
}

uint64_t ampl_dt_rpmsg_min_size(uint32_t vring_num, uint32_t vring_align, uint32_t h2r_buffer_size,
				uint32_t r2h_buffer_size)
{
	return rpmsg_pool_offset(vring_num, vring_align) +
	       (uint64_t)vring_num * (round_up_pow2(h2r_buffer_size, AMPL_DT_RPMSG_BUF_ALIGN) +
				      round_up_pow2(r2h_buffer_size, AMPL_DT_RPMSG_BUF_ALIGN));
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* An optional buffer-size property: 1 and *@out when present and valid, 0 when absent (*@out kept), -EINVAL. */
static int read_rpmsg_buffer_size(struct dt_ctx *c, int off, const char *path, const char *prop, uint32_t *out)
{
	uint32_t v;
	int ret = read_u32(c, off, path, prop, &v);

	if (ret <= 0)
		return ret;
	if (v < AMPL_DT_RPMSG_BUF_MIN || v > AMPL_DT_RPMSG_BUF_MAX || v % 4)
		return dt_fail(c, path, prop,
			       "%" PRIu32 ": must be %u..%u bytes and a multiple of 4 (a buffer is the 16-byte RPMsg "
			       "header and the payload, whose length is 16-bit)",
			       v, AMPL_DT_RPMSG_BUF_MIN, AMPL_DT_RPMSG_BUF_MAX);
	*out = v;
	return 1;
}

/* memory-region, role, mboxes: what an RPMsg node must have. */
static int parse_rpmsg_required(struct dt_ctx *c, int off, const char *path, struct ampl_dt_rpmsg *r)
{
	int len;
	const void *val = fdt_getprop(c->fdt, off, "memory-region", &len);

	if (val && len != 4)
		return dt_fail(c, path, "memory-region",
			       "must be one phandle, <&region> (it has %d bytes): the resource table, the vrings and "
			       "the buffers share one reserved-memory region",
			       len);
	int ret = ipc_region(c, off, path, "memory-region",
			     "an RPMsg instance needs <&region>, the reserved-memory region that holds its resource "
			     "table, vrings and buffers",
			     &r->mem);
	if (ret)
		return ret;
	r->addr = c->b->mems[r->mem].addr;
	r->size = c->b->mems[r->mem].size;

	const char *role = fdt_getprop(c->fdt, off, "role", &len);
	if (!role) {
		if (len != -FDT_ERR_NOTFOUND)
			return dt_fail(c, path, "role", "cannot read: %s", fdt_strerror(len));
		return dt_fail(c, path, "role", "missing (required: \"host\" or \"remote\")");
	}
	if (!is_string(role, len))
		return dt_fail(c, path, "role", "must be a string: \"host\" or \"remote\"");
	if (!strcmp(role, "host"))
		r->role = AMPL_DT_RPMSG_HOST;
	else if (!strcmp(role, "remote"))
		r->role = AMPL_DT_RPMSG_REMOTE;
	else
		return dt_fail(c, path, "role", "'%s': must be \"host\" or \"remote\"", role);
	return ipc_mboxes(c, path, "an RPMsg instance", &r->consumer, &r->tx_mbox, &r->rx_mbox);
}

/* The optional properties, with their defaults and limits (dt.h). */
static int parse_rpmsg_optional(struct dt_ctx *c, int off, const char *path, struct ampl_dt_rpmsg *r)
{
	static const char *const overrides[2] = { "amplink,h2r-buffer-size", "amplink,r2h-buffer-size" };
	uint32_t *dir[2] = { &r->h2r_buffer_size, &r->r2h_buffer_size };
	int ret;

	r->buffer_size = AMPL_DT_RPMSG_BUF_DEFAULT;
	ret = read_rpmsg_buffer_size(c, off, path, "zephyr,buffer-size", &r->buffer_size);
	if (ret < 0)
		return ret;
	for (unsigned i = 0; i < 2; i++) {
		uint32_t v = r->buffer_size;

		ret = read_rpmsg_buffer_size(c, off, path, overrides[i], &v);
		if (ret < 0)
			return ret;
		if (ret > 0 && r->role == AMPL_DT_RPMSG_REMOTE)
			dt_warn(c, path, overrides[i],
				"ignored on a \"remote\" node: the host picks the buffer sizes and the remote learns "
				"them from the buffers it is given (zephyr,buffer-size = %" PRIu32 " is used here)",
				r->buffer_size);
		*dir[i] = r->role == AMPL_DT_RPMSG_HOST ? v : r->buffer_size;
	}

	r->vring_num = AMPL_DT_RPMSG_VRING_NUM_DEFAULT;
	ret = read_u32(c, off, path, "amplink,vring-num", &r->vring_num);
	if (ret < 0)
		return ret;
	if (!is_pow2(r->vring_num) || r->vring_num > AMPL_DT_RPMSG_VRING_NUM_MAX)
		return dt_fail(c, path, "amplink,vring-num",
			       "%" PRIu32 ": must be a power of two, 1..%u (descriptors per vring; virtio's largest "
			       "queue is %u)",
			       r->vring_num, AMPL_DT_RPMSG_VRING_NUM_MAX, AMPL_DT_RPMSG_VRING_NUM_MAX);

	r->vring_align = AMPL_DT_RPMSG_VRING_ALIGN_DEFAULT;
	ret = read_u32(c, off, path, "amplink,vring-align", &r->vring_align);
	if (ret < 0)
		return ret;
	if (!is_pow2(r->vring_align) || r->vring_align < AMPL_DT_RPMSG_VRING_ALIGN_MIN ||
	    r->vring_align > AMPL_DT_RPMSG_VRING_ALIGN_MAX)
		return dt_fail(c, path, "amplink,vring-align", "%" PRIu32 ": must be a power of two, %u..%u",
			       r->vring_align, AMPL_DT_RPMSG_VRING_ALIGN_MIN, AMPL_DT_RPMSG_VRING_ALIGN_MAX);

	r->notify_id = 0;
	ret = read_u32(c, off, path, "amplink,notify-id", &r->notify_id);
	if (ret < 0)
		return ret;
	if (r->notify_id == UINT32_MAX)
		return dt_fail(c, path, "amplink,notify-id",
			       "0xffffffff is RSC_NOTIFY_ID_ANY (an id a remoteproc host assigns); a static resource "
			       "table needs a fixed id");
	return 0;
}

/* The region against the layout, and against the other IPC instances' shared memory. */
static int check_rpmsg_region(struct dt_ctx *c, const char *path, struct ampl_dt_rpmsg *r)
{
	const struct ampl_dt_board *b = c->b;
	const char *region = b->mems[r->mem].node.path;

	if (r->addr + r->size > (1ull << 32) || r->addr + r->size < r->addr)
		return dt_fail(c, path, "memory-region",
			       "%s is at 0x%" PRIx64 "+0x%" PRIx64 ", above 4 GiB: the resource table's vring "
			       "addresses are 32-bit",
			       region, r->addr, r->size);
	r->min_size = ampl_dt_rpmsg_min_size(r->vring_num, r->vring_align, r->h2r_buffer_size, r->r2h_buffer_size);
	if (r->size < r->min_size)
		return dt_fail(c, path, "memory-region",
			       "%s is 0x%" PRIx64 " bytes, smaller than the 0x%" PRIx64 " (%" PRIu64
			       ") it needs: the %u-byte resource table and 2 vrings of %" PRIu32
			       " descriptors (%" PRIu64 " bytes each) aligned to %" PRIu32 " end at %" PRIu64
			       ", then %" PRIu32 " x %" PRIu32 "-byte buffers host->remote and %" PRIu32 " x %" PRIu32
			       "-byte buffers remote->host on %u-byte boundaries",
			       region, r->size, r->min_size, r->min_size, AMPL_DT_RPMSG_RSC_TABLE_SIZE, r->vring_num,
			       vring_bytes(r->vring_num, r->vring_align), r->vring_align,
			       rpmsg_pool_offset(r->vring_num, r->vring_align), r->vring_num, r->h2r_buffer_size,
			       r->vring_num, r->r2h_buffer_size, AMPL_DT_RPMSG_BUF_ALIGN);

	/* one backend's shared memory is not another's */
	for (unsigned i = 0; i < b->num_icmsgs + b->num_ipc_multis; i++) {
		const struct ampl_dt_icmsg *im =
			i < b->num_icmsgs ? &b->icmsgs[i] : &b->ipc_multis[i - b->num_icmsgs].base;
		const char *which = NULL;

		if (r->addr < im->tx_addr + im->tx_size && im->tx_addr < r->addr + r->size)
			which = "tx-region";
		else if (r->addr < im->rx_addr + im->rx_size && im->rx_addr < r->addr + r->size)
			which = "rx-region";
		if (which)
			return dt_fail(c, path, "memory-region",
				       "%s overlaps the %s of %s; an RPMsg region is used by RPMsg only", region, which,
				       im->node.path);
	}
	/* the two ends of one region: one host, one remote */
	const struct ampl_dt_rpmsg *peer = NULL;
	for (unsigned i = 0; i < b->num_rpmsgs; i++) {
		const struct ampl_dt_rpmsg *o = &b->rpmsgs[i];

		if (o->mem != r->mem)
			continue;
		if (peer)
			return dt_fail(c, path, "memory-region",
				       "%s is already shared by %s and %s; a region links one host and one remote",
				       region, peer->node.path, o->node.path);
		peer = o;
	}
	if (peer && peer->role == r->role)
		return dt_fail(c, path, "role", "\"%s\" on %s, as %s is; a region links one host and one remote",
			       r->role == AMPL_DT_RPMSG_HOST ? "host" : "remote", region, peer->node.path);
	return 0;
}

static int parse_rpmsg(struct dt_ctx *c, int off)
{
	struct ampl_dt_board *b = c->b;
	char path[AMPL_DT_PATH_MAX];
	path_of(c, off, path, sizeof(path));
	if (b->num_rpmsgs >= AMPL_DT_MAX_RPMSG)
		return dt_fail(c, path, NULL, "more than %d RPMsg instances (AMPL_DT_MAX_RPMSG)", AMPL_DT_MAX_RPMSG);
	struct ampl_dt_rpmsg *r = &b->rpmsgs[b->num_rpmsgs];
	memset(r, 0, sizeof(*r));
	int ret = node_ident(c, off, &r->node);
	if (!ret)
		ret = parse_rpmsg_required(c, off, path, r);
	if (!ret)
		ret = parse_rpmsg_optional(c, off, path, r);
	if (!ret)
		ret = check_rpmsg_region(c, path, r);
	if (!ret)
		b->num_rpmsgs++;
	return ret;
}

static int parse_rpmsgs(struct dt_ctx *c)
{
	int off;
	for (off = fdt_node_offset_by_compatible(c->fdt, -1, DT_RPMSG_COMPATIBLE); off >= 0;
	     off = fdt_node_offset_by_compatible(c->fdt, off, DT_RPMSG_COMPATIBLE)) {
		int ret = parse_rpmsg(c, off);
		if (ret)
			return ret;
	}
	return 0;
}

const struct ampl_dt_rpmsg *ampl_dt_find_rpmsg(const struct ampl_dt_board *board, const char *name)
{
	for (unsigned i = 0; board && name && i < board->num_rpmsgs; i++) {
		const struct ampl_dt_node *n = &board->rpmsgs[i].node;
		if (!strcmp(n->path, name) || !strcmp(n->name, name) || (n->label[0] && !strcmp(n->label, name)))
			return &board->rpmsgs[i];
	}
	return NULL;
}

const struct ampl_dt_ipc_multi *ampl_dt_find_ipc_multi(const struct ampl_dt_board *board, const char *name)
{
	for (unsigned i = 0; board && name && i < board->num_ipc_multis; i++) {
		const struct ampl_dt_node *n = &board->ipc_multis[i].base.node;
		if (!strcmp(n->path, name) || !strcmp(n->name, name) || (n->label[0] && !strcmp(n->label, name)))
			return &board->ipc_multis[i];
	}
	return NULL;
}

const struct ampl_dt_icmsg *ampl_dt_find_icmsg(const struct ampl_dt_board *board, const char *name)
{
	for (unsigned i = 0; board && name && i < board->num_icmsgs; i++) {
		const struct ampl_dt_node *n = &board->icmsgs[i].node;
		if (!strcmp(n->path, name) || !strcmp(n->name, name) || (n->label[0] && !strcmp(n->label, name)))
			return &board->icmsgs[i];
	}
	return NULL;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Loading                                                                                                      */
/* ------------------------------------------------------------------------------------------------------------ */

static const struct ampl_soc_profile *const ipi_profiles[] = { &ampl_soc_zynqmp, &ampl_soc_versal };

static int walk(struct dt_ctx *c)
{
	int off, ret;

	for (off = fdt_next_node(c->fdt, -1, NULL); off >= 0; off = fdt_next_node(c->fdt, off, NULL)) {
		for (unsigned i = 0; i < AMPL_ARRAY_SIZE(ipi_profiles); i++) {
			const struct ampl_soc_profile *p = ipi_profiles[i];

			ret = 0;
			if (is_compatible(c->fdt, off, p->ipi_compatible))
				ret = parse_ipi_ctrl(c, off, p);
			else if (is_compatible(c->fdt, off, p->dest_compatible))
				ret = parse_ipi_chan(c, off, p);
			if (ret)
				return ret;
		}
		if (is_compatible(c->fdt, off, "nxp,imx-mu") || is_compatible(c->fdt, off, "fsl,imx6sx-mu")) {
			ret = parse_mu(c, off);
			if (ret)
				return ret;
		}
		if (fdt_getprop(c->fdt, off, "mboxes", NULL)) {
			ret = parse_consumer(c, off);
			if (ret)
				return ret;
		}
	}
	if (off != -FDT_ERR_NOTFOUND)
		return dt_fail(c, NULL, NULL, "malformed structure block: %s", fdt_strerror(off));
	ret = parse_reserved_memory(c);
	if (!ret)
		ret = check_memory_map(c);
	if (!ret)
		ret = parse_icmsgs(c);
	if (!ret)
		ret = parse_ipc_multis(c);
	return ret ? ret : parse_rpmsgs(c);
}

int ampl_dt_load_blob(const void *dtb, size_t size, const char *source, const struct ampl_soc_profile *profile,
		      struct ampl_dt_board *board, struct ampl_dt_diag *diag)
{
	struct dt_ctx c;
	void *copy = NULL;
	const void *fdt = dtb;
	int err, ret;

	if (diag)
		diag->msg[0] = '\0';
	if (!source || !*source)
		source = "<devicetree blob>";
	if (!board || !dtb) {
		set_diag(diag, source, NULL, NULL, "no %s given", board ? "blob" : "board");
		return -EINVAL;
	}
	memset(board, 0, sizeof(*board));
	snprintf(board->source, sizeof(board->source), "%s", source);
	memset(&c, 0, sizeof(c));
	c.src = board->source;
	c.want = profile;
	c.b = board;
	c.diag = diag;

	if (size < sizeof(struct fdt_header))
		return dt_fail(&c, NULL, NULL, "not a devicetree blob: %zu bytes, shorter than the %zu-byte header",
			       size, sizeof(struct fdt_header));
	if ((uintptr_t)dtb % 8 != 0) { /* libfdt wants 8-byte alignment */
		copy = malloc(size);
		if (!copy) {
			set_diag(diag, source, NULL, NULL, "out of memory");
			return -ENOMEM;
		}
		memcpy(copy, dtb, size);
		fdt = copy;
	}
	c.fdt = fdt;
	if (fdt_magic(fdt) != FDT_MAGIC) {
		ret = dt_fail(&c, NULL, NULL, "not a devicetree blob (magic 0x%08" PRIx32 ", expected 0x%08x)",
			      (uint32_t)fdt_magic(fdt), (unsigned)FDT_MAGIC);
		goto out;
	}
	err = fdt_check_header(fdt);
	if (err) {
		ret = dt_fail(&c, NULL, NULL, "bad devicetree header: %s", fdt_strerror(err));
		goto out;
	}
	if (fdt_totalsize(fdt) > size) {
		ret = dt_fail(&c, NULL, NULL,
			      "truncated devicetree blob: the header says %" PRIu32 " bytes, there are %zu",
			      (uint32_t)fdt_totalsize(fdt), size);
		goto out;
	}
	err = fdt_check_full(fdt, size);
	if (err) {
		ret = dt_fail(&c, NULL, NULL, "malformed devicetree blob: %s", fdt_strerror(err));
		goto out;
	}
	c.symbols = fdt_path_offset(fdt, "/__symbols__");
	c.aliases = fdt_path_offset(fdt, "/aliases");
	board->profile = profile;
	ret = walk(&c);
out:
	free(copy);
	return ret;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Files, cpp and dtc                                                                                           */
/* ------------------------------------------------------------------------------------------------------------ */

static bool has_fdt_magic(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	return len >= 4 && p[0] == 0xd0 && p[1] == 0x0d && p[2] == 0xfe && p[3] == 0xed;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/**
 * Read all of @fd, at most @max bytes, into a malloc'ed buffer.
 * Return: 0, -EFBIG (more than @max bytes: a regular file by its size, anything else once @max + 1 are read),
 * -ENOMEM, or -errno of read().
 */
static int read_fd(int fd, size_t max, void **out, size_t *len)
{
	struct stat st;
	size_t cap = 4096, n = 0;
	char *buf, *nbuf;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > max)
			return -EFBIG;
		if (st.st_size > 0)
			cap = (size_t)st.st_size + 1;
	}
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n > max) {
			free(buf);
			return -EFBIG;
		}
		if (n == cap) {
			size_t ncap = cap > max / 2 ? max + 1 : cap * 2;

			nbuf = realloc(buf, ncap);
			if (!nbuf) {
				free(buf);
				return -ENOMEM;
			}
			buf = nbuf;
			cap = ncap;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

static int read_path(const char *path, void **out, size_t *len, struct ampl_dt_diag *diag)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0) {
		int e = errno;

		if (e == ENOENT || e == ENOTDIR) {
			set_diag(diag, path, NULL, NULL, "no such file");
			return -ENOENT;
		}
		set_diag(diag, path, NULL, NULL, "cannot open: %s", strerror(e));
		return -EIO;
	}
	ret = read_fd(fd, AMPL_DT_FILE_MAX, out, len);
	close(fd);
	if (ret == -ENOMEM) {
		set_diag(diag, path, NULL, NULL, "out of memory");
		return ret;
	}
	if (ret == -EFBIG) {
		set_diag(diag, path, NULL, NULL, "larger than %u bytes (AMPL_DT_FILE_MAX): not a devicetree",
			 AMPL_DT_FILE_MAX);
		return ret;
	}
	if (ret) {
		set_diag(diag, path, NULL, NULL, "cannot read: %s", strerror(-ret));
		return -EIO;
	}
	return 0;
}

/* Drain @fd; keep the first cap-1 bytes in @buf. */
static void read_output(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	char scratch[512];

	for (;;) {
		char *dst = n + 1 < cap ? buf + n : scratch;
		size_t room = n + 1 < cap ? cap - 1 - n : sizeof(scratch);
		ssize_t r = read(fd, dst, room);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (dst == buf + n)
			n += (size_t)r;
	}
	buf[n] = '\0';
}

/* A line of a compiler's source excerpt ("    2 | #include <x.h>", "      |          ^~~~"): not a message. */
static bool is_excerpt_line(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] == ' ')
		i++;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	while (i < len && s[i] == ' ')
		i++;
	return i > 0 && i < len && s[i] == '|';
}

/* A tool's output as one line: lines joined with "; ", blank ones and source excerpts dropped. */
static void one_line(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	while (*in && n + 1 < cap) {
		size_t len = strcspn(in, "\n");

		while (len > 0 && (in[len - 1] == '\r' || in[len - 1] == ' ' || in[len - 1] == '\t'))
			len--;
		if (len > 0 && !is_excerpt_line(in, len)) {
			int w = snprintf(out + n, cap - n, "%s%.*s", n ? "; " : "", (int)len, in);

			n += w > 0 ? (size_t)w : 0;
			if (n >= cap)
				n = cap - 1;
		}
		in += strcspn(in, "\n");
		if (*in == '\n')
			in++;
	}
}

/** One run of a tool: what it said and how it ended. */
struct tool_run {
	int spawn_err;             /* posix_spawnp()'s error, 0 when it ran */
	int status;                /* waitpid() status */
	char out[DTC_OUTPUT_MAX];  /* stdout and stderr */
};

/* Run @argv (argv[0] looked up in PATH) with stdin from /dev/null, collecting its output. Return: 0 or -EIO. */
static int run_tool(const char *path, char *const argv[], struct tool_run *r, struct ampl_dt_diag *diag)
{
	posix_spawn_file_actions_t fa;
	int pfd[2], err;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		set_diag(diag, path, NULL, NULL, "cannot create a pipe for %s: %s", argv[0], strerror(errno));
		return -EIO;
	}
	err = posix_spawn_file_actions_init(&fa);
	if (!err)
		err = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!err)
		err = posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	if (!err)
		err = posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	if (!err)
		err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (err) {
		close(pfd[0]);
		r->spawn_err = err;
		return 0;
	}
	read_output(pfd[0], r->out, sizeof(r->out));
	close(pfd[0]);
	while (waitpid(pid, &r->status, 0) < 0) {
		if (errno != EINTR) {
			set_diag(diag, path, NULL, NULL, "waiting for %s: %s", argv[0], strerror(errno));
			return -EIO;
		}
	}
	return 0;
}

/*
 * 0 when @r ran and exited 0; otherwise -EIO with @diag saying why: "TOOL failed (exit status N): its messages", or,
 * when it is missing, that @what is not installed and which Debian @package installs it.
 */
static int tool_result(const char *path, const char *tool, const char *what, const char *package,
		       const struct tool_run *r, struct ampl_dt_diag *diag)
{
	char line[DTC_OUTPUT_MAX];

	if (!r->spawn_err && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0)
		return 0;
	one_line(r->out, line, sizeof(line));
	if (r->spawn_err == ENOENT || (!r->spawn_err && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 127 &&
				      !line[0]))
		set_diag(diag, path, NULL, NULL,
			 "%s (%s) is not installed or not in PATH; install the Debian package %s", tool, what, package);
	else if (r->spawn_err)
		set_diag(diag, path, NULL, NULL, "cannot run %s: %s", tool, strerror(r->spawn_err));
	else if (WIFEXITED(r->status))
		set_diag(diag, path, NULL, NULL, "%s failed (exit status %d): %s", tool, WEXITSTATUS(r->status),
			 line[0] ? line : "no message");
	else
		set_diag(diag, path, NULL, NULL, "%s killed by signal %d: %s", tool,
			 WIFSIGNALED(r->status) ? WTERMSIG(r->status) : 0, line[0] ? line : "no message");
	return -EIO;
}

static int remove_entry(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	remove(fpath);
	return 0;
}

/* Write the built-in dt-bindings headers under @inc (a new, private folder). Return: 0 or -errno. */
static int write_bindings(const char *inc)
{
	char p[PATH_MAX];

	for (unsigned i = 0; i < ampl_dt_num_bindings; i++) {
		const struct ampl_dt_embedded_file *f = &ampl_dt_bindings[i];
		int n = snprintf(p, sizeof(p), "%s/%s", inc, f->path);
		size_t done = 0;
		int fd;

		if (n < 0 || (size_t)n >= sizeof(p))
			return -ENAMETOOLONG;
		for (char *s = p + strlen(inc) + 1; (s = strchr(s, '/')) != NULL; s++) {
			*s = '\0';
			if (mkdir(p, 0700) != 0 && errno != EEXIST)
				return -errno;
			*s = '/';
		}
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return -errno;
		while (done < f->size) {
			ssize_t w = write(fd, f->data + done, f->size - done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				int e = w < 0 ? errno : EIO;

				close(fd);
				return -e;
			}
			done += (size_t)w;
		}
		if (close(fd) != 0)
			return -errno;
	}
	return 0;
}

/* The folder @path is in ("." for a bare name). */
static int dir_of(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (!slash)
		n = snprintf(dir, cap, ".");
	else if (slash == path)
		n = snprintf(dir, cap, "/");
	else
		n = snprintf(dir, cap, "%.*s", (int)(slash - path), path);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/*
 * Preprocess and compile the source @path as the Linux build does: cpp with the file's folder, the caller's folders
 * and the built-in dt-bindings as include folders, then dtc on its output (whose line markers make dtc report the
 * user's files and lines), with the same folders for /include/. Everything lives in a private temporary folder,
 * removed before returning.
 */
static int compile_source(const char *path, const struct ampl_dt_load_opts *opts, void **dtb, size_t *size,
			  struct ampl_dt_diag *diag)
{
	const char *tmpdir = getenv("TMPDIR");
	unsigned nuser = opts ? opts->num_include_dirs : 0;
	char work[PATH_MAX - 32], inc[PATH_MAX], pp[PATH_MAX], out[PATH_MAX], in[PATH_MAX], own[PATH_MAX];
	/* cpp: 6 fixed, 2 per folder (own, user, built-in), -o pp, in, NULL; dtc: 7 fixed, 2 per folder, -o out, pp */
	char *argv[16 + 2 * AMPL_DT_MAX_INCLUDE_DIRS];
	struct tool_run *run;
	unsigned a;
	int n, ret;

	if (nuser > AMPL_DT_MAX_INCLUDE_DIRS) {
		set_diag(diag, path, NULL, NULL, "%u include folders; at most %d (AMPL_DT_MAX_INCLUDE_DIRS)", nuser,
			 AMPL_DT_MAX_INCLUDE_DIRS);
		return -EINVAL;
	}
	for (unsigned i = 0; i < nuser; i++) {
		if (!opts->include_dirs || !opts->include_dirs[i] || !opts->include_dirs[i][0]) {
			set_diag(diag, path, NULL, NULL, "include folder %u is empty", i + 1);
			return -EINVAL;
		}
	}
	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	/* the tools take a leading '-' for an option */
	n = snprintf(in, sizeof(in), "%s%s", path[0] == '-' ? "./" : "", path);
	if (n < 0 || (size_t)n >= sizeof(in) || dir_of(in, own, sizeof(own))) {
		set_diag(diag, path, NULL, NULL, "path is too long");
		return -EIO;
	}
	n = snprintf(work, sizeof(work), "%s/amplink-dt-XXXXXX", tmpdir);
	if (n < 0 || (size_t)n >= sizeof(work)) {
		set_diag(diag, path, NULL, NULL, "TMPDIR is too long");
		return -EIO;
	}
	if (!mkdtemp(work)) {
		set_diag(diag, path, NULL, NULL, "cannot create a temporary folder in %s: %s", tmpdir, strerror(errno));
		return -EIO;
	}
	snprintf(inc, sizeof(inc), "%s/include", work);
	snprintf(pp, sizeof(pp), "%s/board.dts.i", work);
	snprintf(out, sizeof(out), "%s/board.dtb", work);
	run = malloc(sizeof(*run));
	if (!run) {
		set_diag(diag, path, NULL, NULL, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	ret = mkdir(inc, 0700) ? -errno : write_bindings(inc);
	if (ret) {
		set_diag(diag, path, NULL, NULL, "cannot write the dt-bindings headers to %s: %s", inc, strerror(-ret));
		ret = -EIO;
		goto out;
	}

	a = 0;
	argv[a++] = "cpp";
	argv[a++] = "-nostdinc";
	argv[a++] = "-undef";
	argv[a++] = "-D__DTS__";
	argv[a++] = "-x";
	argv[a++] = "assembler-with-cpp";
	argv[a++] = "-I";
	argv[a++] = own;
	for (unsigned i = 0; i < nuser; i++) {
		argv[a++] = "-I";
		argv[a++] = (char *)opts->include_dirs[i];
	}
	argv[a++] = "-I";
	argv[a++] = inc;
	argv[a++] = "-o";
	argv[a++] = pp;
	argv[a++] = in;
	argv[a] = NULL;
	ret = run_tool(path, argv, run, diag);
	if (!ret)
		ret = tool_result(path, "cpp", "the C preprocessor, which devicetree sources go through", "cpp",
				  run, diag);
	if (ret)
		goto out;

	a = 0;
	argv[a++] = "dtc";
	argv[a++] = "-q";
	argv[a++] = "-@";
	argv[a++] = "-I";
	argv[a++] = "dts";
	argv[a++] = "-O";
	argv[a++] = "dtb";
	argv[a++] = "-i";
	argv[a++] = own;
	for (unsigned i = 0; i < nuser; i++) {
		argv[a++] = "-i";
		argv[a++] = (char *)opts->include_dirs[i];
	}
	argv[a++] = "-o";
	argv[a++] = out;
	argv[a++] = pp;
	argv[a] = NULL;
	ret = run_tool(path, argv, run, diag);
	if (!ret)
		ret = tool_result(path, "dtc", "the devicetree compiler", "device-tree-compiler", run, diag);
	if (ret)
		goto out;

	ret = read_path(out, dtb, size, diag);
	if (ret) {
		if (ret == -EFBIG)
			set_diag(diag, path, NULL, NULL, "compiles to more than %u bytes (AMPL_DT_FILE_MAX)",
				 AMPL_DT_FILE_MAX);
		else if (ret != -ENOMEM)
			set_diag(diag, path, NULL, NULL, "cannot read dtc's output %s", out);
		ret = ret == -ENOMEM || ret == -EFBIG ? ret : -EIO;
		goto out;
	}
	if (!has_fdt_magic(*dtb, *size)) {
		free(*dtb);
		*dtb = NULL;
		*size = 0;
		set_diag(diag, path, NULL, NULL, "dtc produced no devicetree blob");
		ret = -EIO;
	}
out:
	free(run);
	nftw(work, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	return ret;
}

int ampl_dt_read_file_opts(const char *path, const struct ampl_dt_load_opts *opts, void **dtb, size_t *size,
			   struct ampl_dt_diag *diag)
{
	void *buf;
	size_t len;
	int ret;

	if (diag)
		diag->msg[0] = '\0';
	if (!path || !dtb || !size) {
		set_diag(diag, path, NULL, NULL, "no file given");
		return -EINVAL;
	}
	*dtb = NULL;
	*size = 0;
	ret = read_path(path, &buf, &len, diag);
	if (ret)
		return ret;
	if (has_fdt_magic(buf, len)) {
		*dtb = buf;
		*size = len;
		return 0;
	}
	free(buf);
	if (has_suffix(path, ".dtb") || has_suffix(path, ".dtbo")) {
		set_diag(diag, path, NULL, NULL, "not a devicetree blob (it does not start with the magic 0xd00dfeed)");
		return -EINVAL;
	}
	return compile_source(path, opts, dtb, size, diag);
}

int ampl_dt_read_file(const char *path, void **dtb, size_t *size, struct ampl_dt_diag *diag)
{
	return ampl_dt_read_file_opts(path, NULL, dtb, size, diag);
}

int ampl_dt_load_file_opts(const char *path, const struct ampl_dt_load_opts *opts,
			   const struct ampl_soc_profile *profile, struct ampl_dt_board *board,
			   struct ampl_dt_diag *diag)
{
	void *dtb;
	size_t size;
	int ret = ampl_dt_read_file_opts(path, opts, &dtb, &size, diag);

	if (ret)
		return ret;
	ret = ampl_dt_load_blob(dtb, size, path, profile, board, diag);
	free(dtb);
	return ret;
}

int ampl_dt_load_file(const char *path, const struct ampl_soc_profile *profile, struct ampl_dt_board *board,
		      struct ampl_dt_diag *diag)
{
	return ampl_dt_load_file_opts(path, NULL, profile, board, diag);
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Queries and printing                                                                                         */
/* ------------------------------------------------------------------------------------------------------------ */

const struct ampl_dt_ipi_chan *ampl_dt_find_chan(const struct ampl_dt_board *board, uint32_t local_id,
						 uint32_t remote_id, const struct ampl_dt_ipi_ctrl **ctrl)
{
	if (ctrl)
		*ctrl = NULL;
	if (!board)
		return NULL;
	for (unsigned i = 0; i < board->num_ctrls; i++) {
		const struct ampl_dt_ipi_ctrl *ct = &board->ctrls[i];

		if (ct->local_id != local_id)
			continue;
		for (unsigned k = 0; k < ct->num_chans; k++) {
			if (ct->chans[k].remote_id == remote_id) {
				if (ctrl)
					*ctrl = ct;
				return &ct->chans[k];
			}
		}
	}
	return NULL;
}

static void print_label(FILE *out, const struct ampl_dt_node *n)
{
	if (n->label[0])
		fprintf(out, "  &%s", n->label);
}

static void print_irq(FILE *out, int irq)
{
	if (irq >= 0)
		fprintf(out, "irq %-4d", irq);
	else
		fprintf(out, "irq -   ");
}

void ampl_dt_print(const struct ampl_dt_board *board, FILE *out)
{
	if (!board || !out)
		return;
	fprintf(out, "devicetree %s\n", board->source);
	fprintf(out, "profile    %s\n", board->profile ? board->profile->name : "- (no IPI node)");
	for (unsigned i = 0; i < board->num_ctrls; i++) {
		const struct ampl_dt_ipi_ctrl *ct = &board->ctrls[i];

		fprintf(out, "ipi   %-9s (id %2" PRIu32 ")  ", ct->local->name, ct->local_id);
		print_irq(out, ct->irq);
		fprintf(out, "  %s", ct->node.path);
		print_label(out, &ct->node);
		fputc('\n', out);
		for (unsigned k = 0; k < ct->num_chans; k++) {
			const struct ampl_dt_ipi_chan *ch = &ct->chans[k];

			char bufs[128];

			if (ch->buffered)
				snprintf(bufs, sizeof(bufs),
					 "buffered  req 0x%08" PRIx64 " resp 0x%08" PRIx64 "  remote req 0x%08" PRIx64
					 " resp 0x%08" PRIx64,
					 ch->local_req, ch->local_resp, ch->remote_req, ch->remote_resp);
			else
				snprintf(bufs, sizeof(bufs), "doorbell  (no buffers)");
			fprintf(out, "  ->  %-9s (id %2" PRIu32 ")  %-*s", ch->remote->name, ch->remote_id,
				ch->node.label[0] ? 79 : 0, bufs);
			print_label(out, &ch->node);
			fputc('\n', out);
		}
	}
	for (unsigned i = 0; i < board->num_mus; i++) {
		const struct ampl_dt_mu *mu = &board->mus[i];

		fprintf(out, "mu    %-9s 0x%08" PRIx64 " size 0x%-8" PRIx64 " ", mu->alias[0] ? mu->alias : "-",
			mu->addr, mu->size);
		print_irq(out, mu->irq);
		fprintf(out, "  %-8s side %c  %s", mu->okay ? "okay" : "disabled", mu->side_b ? 'B' : 'A',
			mu->node.path);
		print_label(out, &mu->node);
		fputc('\n', out);
	}
	for (unsigned i = 0; i < board->num_mems; i++) {
		const struct ampl_dt_mem *m = &board->mems[i];

		fprintf(out, "mem   0x%08" PRIx64 " size 0x%-8" PRIx64 " %-6s  %s", m->addr, m->size,
			m->no_map ? "no-map" : "", m->node.path);
		print_label(out, &m->node);
		fputc('\n', out);
	}
	for (unsigned i = 0; i < board->num_consumers; i++) {
		const struct ampl_dt_consumer *con = &board->consumers[i];

		fprintf(out, "user  %s", con->node.path);
		print_label(out, &con->node);
		fputc('\n', out);
		for (unsigned k = 0; k < con->num_mboxes; k++) {
			const struct ampl_dt_mbox_ref *r = &con->mboxes[k];

			fprintf(out, "  mbox %-8s %s <", r->name[0] ? r->name : "-", r->provider);
			for (unsigned a = 0; a < r->nargs; a++)
				fprintf(out, "%s%" PRIu32, a ? " " : "", r->args[a]);
			fprintf(out, ">\n");
		}
	}
	for (unsigned i = 0; i < board->num_rpmsgs; i++) {
		const struct ampl_dt_rpmsg *r = &board->rpmsgs[i];

		fprintf(out,
			"rpmsg 0x%08" PRIx64 " size 0x%-8" PRIx64 " %-6s  needs 0x%" PRIx64 "  vrings %" PRIu32
			" x align %" PRIu32 "  buffers h2r %" PRIu32 " r2h %" PRIu32 "  notify-id %" PRIu32 "  %s",
			r->addr, r->size, r->role == AMPL_DT_RPMSG_HOST ? "host" : "remote", r->min_size, r->vring_num,
			r->vring_align, r->h2r_buffer_size, r->r2h_buffer_size, r->notify_id, r->node.path);
		print_label(out, &r->node);
		fputc('\n', out);
	}
	fprintf(out, "warnings   %u\n", board->num_warnings);
	if (board->num_warnings)
		fputs(board->warnings, out);
}
