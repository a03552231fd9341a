/*
 * Devicetree loader (host side): reads a .dts (through cpp and dtc) or a .dtb, walks it with libfdt and keeps
 * what it says about IPI mailboxes, i.MX messaging units, reserved memory and IPC service instances, checked
 * against the SoC profile.
 *
 * Messages are "FILE: NODE: PROPERTY: why" (NODE/PROPERTY left out when they do not apply). The loader stops at
 * the first error; things that are odd but usable (Versal example addresses, inherited #address-cells) become
 * warning lines in the board.
 *
 * This file walks the blob and hands each node to the bindings that declare its compatible (src/dt/bind_*.c, one
 * file per binding family, parse and print together, each registered with DT_BINDING(); it names none of them); src/dt/run.c reads files and runs cpp and dtc; src/dt/fdt_util.c holds the
 * diagnostics and property readers they share (src/dt/dt_internal.h).
 */
#include "dt/dt_internal.h"

#include <libfdt.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------------------------ */
/* Loading                                                                                                      */
/* ------------------------------------------------------------------------------------------------------------ */

unsigned dt_bindings(const struct dt_binding **out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < dt_binding_table_size && n < DT_MAX_BINDINGS; i++) {
		const struct dt_binding *d = dt_binding_table[i];
		unsigned k = n++;

		for (; k > 0 && out[k - 1]->order > d->order; k--) /* insertion: stable for equal orders */
			out[k] = out[k - 1];
		out[k] = d;
	}
	return n;
}

static bool matches(const struct dt_ctx *c, int off, const struct dt_binding *d)
{
	if (!d->compatible)
		return true;
	for (const char *const *cp = d->compatible; *cp; cp++)
		if (dt_is_compatible(c->fdt, off, *cp))
			return true;
	return false;
}

static int walk(struct dt_ctx *c)
{
	const struct dt_binding *bind[DT_MAX_BINDINGS];
	unsigned nb = dt_bindings(bind);
	int off, ret;

	for (off = fdt_next_node(c->fdt, -1, NULL); off >= 0; off = fdt_next_node(c->fdt, off, NULL)) {
		for (unsigned i = 0; i < nb; i++) {
			if (!bind[i]->node || !matches(c, off, bind[i]))
				continue;
			ret = bind[i]->node(c, off);
			if (ret)
				return ret;
		}
	}
	if (off != -FDT_ERR_NOTFOUND)
		return dt_fail(c, NULL, NULL, "malformed structure block: %s", fdt_strerror(off));
	for (unsigned i = 0; i < nb; i++) {
		const struct dt_binding *d = bind[i];

		ret = d->board ? d->board(c) : 0;
		for (const char *const *cp = d->compatible; !ret && d->late && cp && *cp; cp++)
			ret = dt_for_each_compatible(c, *cp, d->late);
		if (ret)
			return ret;
	}
	return 0;
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
		dt_set_diag(diag, source, NULL, NULL, "no %s given", board ? "blob" : "board");
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
			dt_set_diag(diag, source, NULL, NULL, "out of memory");
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

void ampl_dt_print(const struct ampl_dt_board *board, FILE *out)
{
	const struct dt_binding *bind[DT_MAX_BINDINGS];
	unsigned nb = dt_bindings(bind);

	if (!board || !out)
		return;
	fprintf(out, "devicetree %s\n", board->source);
	fprintf(out, "profile    %s\n", board->profile ? board->profile->name : "- (no IPI node)");
	for (unsigned i = 0; i < nb; i++)
		if (bind[i]->print)
			bind[i]->print(board, out);
	fprintf(out, "warnings   %u\n", board->num_warnings);
	if (board->num_warnings)
		fputs(board->warnings, out);
}
