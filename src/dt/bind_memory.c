/*
 * Devicetree binding: /reserved-memory, the board's memory map (ampl_dt_check_spans()) and the "mem" lines of
 * ampl_dt_print().
 */
#include "dt/dt_internal.h"

#include <libfdt.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>

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

		dt_path_of(c, off, path, sizeof(path));
		if (b->num_mems >= AMPL_DT_MAX_MEMS)
			return dt_fail(c, path, NULL, "more than %d reserved-memory regions (AMPL_DT_MAX_MEMS)",
				       AMPL_DT_MAX_MEMS);
		mem = &b->mems[b->num_mems];
		memset(mem, 0, sizeof(*mem));
		ret = dt_node_ident(c, off, &mem->node);
		if (!ret)
			ret = dt_read_regs(c, off, path, true, regs, &n);
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

/* Room for the spans of the memory map: the buffer RAM, the reserved memory, the bindings' register blocks. */
#define DT_MAX_SPANS (1 + AMPL_DT_MAX_MEMS + 64)

/*
 * The memory map the board gives the SoC, under ampl_dt_check_spans()'s rule (the one `soc create` applies to its
 * image): the reserved-memory regions together with the profile's IPI message-buffer RAM (when the profile is
 * known), and the register blocks the bindings name (struct dt_binding.spans: the enabled Messaging Units).
 */
int dt_check_memory_map(struct dt_ctx *c)
{
	const struct ampl_dt_board *b = c->b;
	const struct ampl_soc_profile *p = b->profile;
	const struct dt_binding *bind[DT_MAX_BINDINGS];
	unsigned nb = dt_bindings(bind);
	struct ampl_dt_span s[DT_MAX_SPANS];
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
	for (unsigned i = 0; i < nb; i++)
		if (bind[i]->spans)
			n += bind[i]->spans(b, s + n, DT_MAX_SPANS - n);
	if (ampl_dt_check_spans(s, n, &bad, why, sizeof(why)))
		return dt_fail(c, s[bad].name, "reg", "%s", why);
	return 0;
}

static void print_mems(const struct ampl_dt_board *board, FILE *out)
{
	for (unsigned i = 0; i < board->num_mems; i++) {
		const struct ampl_dt_mem *m = &board->mems[i];

		fprintf(out, "mem   0x%08" PRIx64 " size 0x%-8" PRIx64 " %-6s  %s", m->addr, m->size,
			m->no_map ? "no-map" : "", m->node.path);
		dt_print_label(out, &m->node);
		fputc('\n', out);
	}
}

/* /reserved-memory, then the whole memory map: after the walk, once every register block is known. */
static int parse_memory(struct dt_ctx *c)
{
	int ret = parse_reserved_memory(c);

	return ret ? ret : dt_check_memory_map(c);
}

DT_BINDING(memory) = {
	.order = 30,
	.board = parse_memory,
	.print = print_mems,
};
