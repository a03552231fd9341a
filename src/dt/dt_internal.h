/*
 * What the devicetree loader's files share (host side, not installed): the loader state of one blob, the
 * diagnostics, the FDT property readers, the IPC-instance helpers and one parse and print entry per binding family.
 *
 *   fdt_util.c       diagnostics and property readers (this header's first half)
 *   dt.c             ampl_dt_load_blob() (walks the tree, calls the bindings) and ampl_dt_print()
 *   run.c            files, cpp and dtc: ampl_dt_read_file*(), ampl_dt_load_file*()
 *   bind_ipi.c       Xilinx IPI controllers and their child channels
 *   bind_mu.c        i.MX Messaging Units
 *   bind_memory.c    /reserved-memory and the board's memory map
 *   bind_mbox.c      mailbox consumers (mboxes, mbox-names)
 *   bind_icmsg.c     zephyr,ipc-icmsg (and what ICMsg-like instances share)
 *   bind_multi.c     amplink,ipc-multi
 *   bind_rpmsg.c     zephyr,ipc-openamp-static-vrings
 *
 * Calling context: the loader's thread; nothing here blocks or keeps state between loads. Every function that
 * returns -EINVAL has written the message ("FILE: NODE: PROPERTY: why") into the context's diagnostic first.
 */
#ifndef AMPLINK_SRC_DT_INTERNAL_H
#define AMPLINK_SRC_DT_INTERNAL_H

#include <amplink/host/dt.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DT_FMT(a, b) __attribute__((format(printf, a, b)))

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

/* ---- diagnostics (fdt_util.c) ---- */

/** dt_set_diag() - write "SRC: NODE: PROP: message" into @diag (nothing when @diag is NULL). */
void DT_FMT(5, 6)
	dt_set_diag(struct ampl_dt_diag *diag, const char *src, const char *node, const char *prop, const char *fmt, ...);
/** dt_fail() - the error line of this load, in the context's diagnostic. Return: -EINVAL. */
int DT_FMT(4, 5) dt_fail(struct dt_ctx *c, const char *node, const char *prop, const char *fmt, ...);
/** dt_warn() - append a warning line to the board (a "..." line marks a full buffer). */
void DT_FMT(4, 5) dt_warn(struct dt_ctx *c, const char *node, const char *prop, const char *fmt, ...);

/* ---- property readers (fdt_util.c) ---- */

bool dt_is_compatible(const void *fdt, int off, const char *compat);
/** dt_copy_name() - @len bytes of @s and a NUL into @dst. Return: false (nothing written) when it does not fit. */
bool dt_copy_name(char *dst, size_t cap, const char *s, size_t len);
/** dt_is_string() - is @val (of @len bytes) one NUL-terminated string? */
bool dt_is_string(const char *val, int len);
/** dt_path_of() - path of @off into @buf; on failure a placeholder that still reads well in a message. */
const char *dt_path_of(struct dt_ctx *c, int off, char *buf, size_t cap);
/** dt_read_u32() - a property of exactly one cell. Return: 1 and *@out when present, 0 when absent, -EINVAL. */
int dt_read_u32(struct dt_ctx *c, int off, const char *path, const char *prop, uint32_t *out);
/** dt_node_ident() - fill @n with the name, path and label of @off. Return: 0 or -EINVAL. */
int dt_node_ident(struct dt_ctx *c, int off, struct ampl_dt_node *n);
/**
 * dt_read_regs() - decode `reg` (with the parent's cell sizes) and `reg-names` of @off into @regs (room for
 * AMPL_DT_MAX_REGS). Return: 0 (*@num = 0 when there is no reg and it is not @required) or -EINVAL.
 */
int dt_read_regs(struct dt_ctx *c, int off, const char *path, bool required, struct ampl_dt_region *regs,
		 unsigned *num);
/** dt_find_region() - index of the region named @name in @regs, or -1. */
int dt_find_region(const struct ampl_dt_region *regs, unsigned n, const char *name);
/** dt_read_irq() - the interrupt number of @off's first `interrupts` specifier, -1 without one. Return: 0, -EINVAL. */
int dt_read_irq(struct dt_ctx *c, int off, const char *path, int *irq);
/** dt_for_each_compatible() - @parse(@c, off) for every node compatible with @compat. Return: 0 or its first error. */
int dt_for_each_compatible(struct dt_ctx *c, const char *compat, int (*parse)(struct dt_ctx *c, int off));

/** dt_node_is() - does @name (a path, a node name or a label) name @n? (the ampl_dt_find_*() rule) */
bool dt_node_is(const struct ampl_dt_node *n, const char *name);

/* ---- printing (fdt_util.c) ---- */

void dt_print_label(FILE *out, const struct ampl_dt_node *n);
void dt_print_irq(FILE *out, int irq);

/* ---- IPC instances (bind_icmsg.c): what ICMsg, ipc-multi and RPMsg nodes share ---- */

/**
 * dt_ipc_region() - the reserved-memory node that the one-phandle property @prop of @off names: its index in
 * b->mems. @missing says what the instance needs the property for, when it is absent. Return: 0 or -EINVAL.
 */
int dt_ipc_region(struct dt_ctx *c, int off, const char *path, const char *prop, const char *missing,
		  unsigned *mem);
/**
 * dt_ipc_mboxes() - the consumer entry of IPC instance node @path and the indices of its "tx" and "rx" mboxes.
 * @what names the instance kind in messages ("an ICMsg instance"). Return: 0 or -EINVAL.
 */
int dt_ipc_mboxes(struct dt_ctx *c, const char *path, const char *what, unsigned *consumer, unsigned *tx_mbox,
		  unsigned *rx_mbox);
/** dt_parse_icmsg_node() - the properties an ICMsg node and an ipc-multi node share. Return: 0 or -EINVAL. */
int dt_parse_icmsg_node(struct dt_ctx *c, int off, const char *path, struct ampl_dt_icmsg *im);

/* ---- the bindings: parse (Return: 0 or -EINVAL) and print ---- */

int dt_parse_ipi_ctrl(struct dt_ctx *c, int off, const struct ampl_soc_profile *p); /* bind_ipi.c */
int dt_parse_ipi_chan(struct dt_ctx *c, int off, const struct ampl_soc_profile *p);
void dt_print_ipis(const struct ampl_dt_board *board, FILE *out);
int dt_parse_mu(struct dt_ctx *c, int off); /* bind_mu.c */
void dt_print_mus(const struct ampl_dt_board *board, FILE *out);
int dt_parse_reserved_memory(struct dt_ctx *c); /* bind_memory.c */
int dt_check_memory_map(struct dt_ctx *c);
void dt_print_mems(const struct ampl_dt_board *board, FILE *out);
int dt_parse_consumer(struct dt_ctx *c, int off); /* bind_mbox.c */
void dt_print_consumers(const struct ampl_dt_board *board, FILE *out);
int dt_parse_icmsgs(struct dt_ctx *c);     /* bind_icmsg.c */
int dt_parse_ipc_multis(struct dt_ctx *c); /* bind_multi.c */
int dt_parse_rpmsgs(struct dt_ctx *c);     /* bind_rpmsg.c */
int dt_parse_apertures(struct dt_ctx *c);  /* bind_aperture.c, after the reserved memory */
void dt_print_apertures(const struct ampl_dt_board *board, FILE *out);
void dt_print_rpmsgs(const struct ampl_dt_board *board, FILE *out);

#endif /* AMPLINK_SRC_DT_INTERNAL_H */
