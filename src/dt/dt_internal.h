/*
 * What the devicetree loader's files share (host side, not installed): the loader state of one blob, the
 * diagnostics, the FDT property readers, the IPC-instance helpers and the bindings' registration.
 *
 *   fdt_util.c       diagnostics and property readers (this header's first half)
 *   dt.c             ampl_dt_load_blob() (walks the tree, runs the bindings) and ampl_dt_print()
 *   run.c            files, cpp and dtc: ampl_dt_read_file*(), ampl_dt_load_file*()
 *   bind_*.c         one binding family each, registered with DT_BINDING() (struct dt_binding below):
 *     bind_ipi.c       Xilinx IPI controllers and their child channels
 *     bind_mu.c        i.MX Messaging Units
 *     bind_memory.c    /reserved-memory and the board's memory map
 *     bind_aperture.c  amplink,aperture
 *     bind_mbox.c      mailbox consumers (mboxes, mbox-names), the controller nodes' common part
 *     bind_icmsg.c     zephyr,ipc-icmsg (and what ICMsg-like instances share)
 *     bind_multi.c     amplink,ipc-multi
 *     bind_rpmsg.c     zephyr,ipc-openamp-static-vrings
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

struct dt_gen;

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

/* ---- mailbox controllers but the IPI (bind_mbox.c) ---- */

/**
 * dt_mbox_ctrl_add() - read what every controller node has (identity, first `reg` entry, interrupt, status) of
 * @off, which matched one of its binding's @compatible, and record it in the board's array of every controller
 * with @index in the binding's typed array (0 when it has none). Return: the entry (the binding may fill its part),
 * or NULL with -EINVAL's message written (a bad property, or the array is full).
 */
struct ampl_dt_mbox_ctrl *dt_mbox_ctrl_add(struct dt_ctx *c, int off, const char *const *compatible, unsigned index);

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
/**
 * dt_ipc_add() - record IPC instance node @node (already parsed by its binding, which matched @compatible) in the
 * board's array of every instance: its mailboxes and @index in the binding's typed array (0 when it has none).
 * Return: the entry (the binding may fill its part), or NULL with -EINVAL's message written when the array is full.
 */
struct ampl_dt_ipc *dt_ipc_add(struct dt_ctx *c, const struct ampl_dt_node *node, const char *compatible,
			       unsigned consumer, unsigned tx_mbox, unsigned rx_mbox, unsigned index);
/** dt_parse_icmsg_node() - the properties an ICMsg node and an ipc-multi node share. Return: 0 or -EINVAL. */
int dt_parse_icmsg_node(struct dt_ctx *c, int off, const char *path, struct ampl_dt_icmsg *im);

/* ---- the bindings (src/dt/bind_*.c): each file registers itself with DT_BINDING() ---- */

/**
 * struct dt_binding - one binding family: the nodes it reads, when, and its lines of ampl_dt_print(). The build
 * lists the DT_BINDING() of every src/dt/bind_*.c file in a generated table (CMakeLists.txt), so a new binding is a
 * new file and nothing else; ampl_dt_load_blob() and ampl_dt_print() run the bindings by @order, lowest first.
 * Every hook is optional. A parse hook returns 0 or -EINVAL (the message written with dt_fail()).
 * @order:      place among the bindings, in each pass below (IPI 10, MU 20, memory 30, apertures 40, mailbox
 *              consumers 50, ICMsg 60, ipc-multi 70, RPMsg 80)
 * @compatible: NULL-terminated list of the compatibles of its nodes; NULL: @node sees every node and decides
 * @node:       the walk, in document order: each node compatible with one of @compatible (once per node)
 * @board:      after the walk, once per blob: what is not one compatible node (/reserved-memory)
 * @late:       after the walk, each node of each of @compatible in turn: nodes that refer to the reserved
 *              memory and the mailbox consumers the walk found (IPC instances, apertures)
 * @spans:      the register blocks of its nodes (at most @cap into @s): the memory-map check tells an overlap
 *              between any two of them. Return: how many.
 * @print:      its lines of ampl_dt_print()
 * @gen:        `amplink dt gen`: the C of one IPC instance of its compatibles for the agent (src/dt/dt_gen.h).
 *              Return: 0, -EINVAL (the message written with dt_gen_fail()). An instance without it is refused.
 * @gen_nodes:  `amplink dt gen`: the C of its other nodes the agent has (a controller's enabled nodes), after the
 *              IPI controllers and before the IPC instances, bindings by @order. Return: as @gen.
 */
struct dt_binding {
	unsigned order;
	const char *const *compatible;
	int (*node)(struct dt_ctx *c, int off);
	int (*board)(struct dt_ctx *c);
	int (*late)(struct dt_ctx *c, int off);
	unsigned (*spans)(const struct ampl_dt_board *board, struct ampl_dt_span *s, unsigned cap);
	void (*print)(const struct ampl_dt_board *board, FILE *out);
	int (*gen)(struct dt_gen *g, const struct ampl_dt_ipc *ipc);
	int (*gen_nodes)(struct dt_gen *g);
};

/* DT_BINDING(mu) = { ... }; in src/dt/bind_mu.c: the table's entry for that file (the name is the file's stem). */
#define DT_BINDING(stem) const struct dt_binding dt_binding_##stem

/* The generated table: one entry per src/dt/bind_*.c file, in file-name order (dt.c sorts by order). */
extern const struct dt_binding *const dt_binding_table[];
extern const unsigned dt_binding_table_size;

#define DT_MAX_BINDINGS 32
/** dt_bindings() - the bindings by order into @out (room for DT_MAX_BINDINGS). Return: how many. Context: any. */
unsigned dt_bindings(const struct dt_binding **out);

/* ---- what one binding offers another ---- */

/** dt_check_memory_map() - the reserved memory, the IPI buffer RAM and every binding's @spans (bind_memory.c). */
int dt_check_memory_map(struct dt_ctx *c);

#endif /* AMPLINK_SRC_DT_INTERNAL_H */
