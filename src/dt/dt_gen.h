/*
 * What `amplink dt gen` (src/dt/dt_gen.c) offers the bindings that write the C of their own nodes (struct
 * dt_binding.gen, src/dt/dt_internal.h): the generator's state for one agent and its writers of the header's
 * macros and of the source's constants. Host side, not installed. Calling context: the generator's thread.
 *
 * An IPC instance's binding writes, for node <id> (dt_gen_node_id()): its macros (dt_gen_node_common() and its
 * properties, named as Zephyr names them), "extern const struct <type> <id>_NODE;" and "extern struct ampl_device
 * <id>_DEVICE;" in the header; in the source its description <id>_NODE, then dt_gen_c_ipc_head() (strings and
 * mailbox consumer <id>_MBOX_CONSUMER), its configuration <id>_CONFIG (from the board layer's initialiser), and
 * dt_gen_c_ipc_device() (its data and device). A controller's binding writes its other nodes of the agent in its
 * gen_nodes hook (a Messaging Unit: dt_gen_one_reg_node(), the rest of its description and its macros).
 */
#ifndef AMPLINK_SRC_DT_GEN_H
#define AMPLINK_SRC_DT_GEN_H

#include <amplink/board.h>
#include <amplink/host/dt.h>

#include <stdio.h>

#define ID_MAX (AMPL_DT_PATH_MAX * 2 + 8) /* bytes of a node's C identifier */

/** The generator's state for one agent of one board. */
struct dt_gen {
	const struct ampl_dt_board *b;
	const struct ampl_dt_gen_opts *o;
	const struct ampl_soc_agent *agent;
	FILE *h, *c;
	struct ampl_dt_diag *diag;
	/* every node written, for the label map and collision check */
	unsigned num;
	const struct ampl_dt_node *nodes[AMPL_DT_MAX_CTRLS * (AMPL_DT_MAX_CHANS + 1) + AMPL_DT_MAX_MBOX_CTRLS +
					AMPL_DT_MAX_MEMS + AMPL_DT_MAX_IPC];
};

/** dt_gen_fail() - "SOURCE: NODE: PROP: why" into the diagnostic. Return: -EINVAL. */
int dt_gen_fail(struct dt_gen *g, const char *node, const char *prop, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/** dt_gen_node_id() - Zephyr's identifier of @n (DT_N_S_...) into @out (ID_MAX bytes). */
void dt_gen_node_id(const struct ampl_dt_node *n, char *out);
/** dt_gen_local_addr() - the agent's address for the SoC's @addr (after --map). */
uint64_t dt_gen_local_addr(const struct dt_gen *g, uint64_t addr);
/** dt_gen_map() - struct ampl_board_mem's map for alignment checks at the agent's addresses (@ctx: the dt_gen). */
volatile void *dt_gen_map(void *ctx, uint64_t addr, uint64_t size);
/** dt_gen_str_lit() - @s as a C string literal. */
void dt_gen_str_lit(FILE *f, const char *s);
/** dt_gen_u64() - @v as a C unsigned constant. */
void dt_gen_u64(FILE *f, uint64_t v);
/** dt_gen_def_u(), dt_gen_def_s(), dt_gen_def_id() - "#define <id><suffix> <value>" (a number, a string, a node). */
void dt_gen_def_u(struct dt_gen *g, const char *id, const char *suffix, uint64_t v);
void dt_gen_def_s(struct dt_gen *g, const char *id, const char *suffix, const char *s);
void dt_gen_def_id(struct dt_gen *g, const char *id, const char *suffix, const struct ampl_dt_node *target);
/** dt_gen_node_common() - a node's identity macros: path, full name, label (and DT_N_NODELABEL_<label>). */
void dt_gen_node_common(struct dt_gen *g, const struct ampl_dt_node *n, const char *id);
/**
 * dt_gen_one_reg_node() - a node with one `reg` entry: its macros, "extern const struct <type> <id>_NODE;" and its
 * description up to ".size = <size>" (the caller ends it), its identifier into @id (ID_MAX bytes). Return: 0, -EINVAL
 * (two nodes with one identifier, the message written).
 */
int dt_gen_one_reg_node(struct dt_gen *g, const struct ampl_dt_node *n, uint64_t addr, uint64_t size,
			const char *type, char *id);
/** dt_gen_c_node() - the .node initialiser of a description. */
void dt_gen_c_node(FILE *f, const struct ampl_dt_node *n);
/** dt_gen_find_mem() - the reserved-memory node with this reg, or NULL. */
const struct ampl_dt_mem *dt_gen_find_mem(const struct ampl_dt_board *b, uint64_t addr, uint64_t size);
/** dt_gen_c_ipc_head() - an IPC instance's strings and mailbox consumer (before its configuration). */
void dt_gen_c_ipc_head(struct dt_gen *g, const struct ampl_dt_node *n, const char *id, unsigned consumer);
/** dt_gen_c_ipc_device() - an IPC instance's data (struct <type>_data) and device over @backend (after <id>_CONFIG). */
void dt_gen_c_ipc_device(struct dt_gen *g, const struct ampl_dt_node *n, const char *id, const char *type,
			 const char *backend);

/* ---- what ICMsg-like nodes share (bind_icmsg.c): zephyr,ipc-icmsg and the base of amplink,ipc-multi ---- */

/** dt_gen_icmsg_common() - the macros of an ICMsg-like node and its header lines (@type: its description's). */
int dt_gen_icmsg_common(struct dt_gen *g, const struct ampl_dt_icmsg *dt, const char *id, const char *type);
/** dt_gen_c_icmsg_fields() - the fields of struct ampl_dt_icmsg after .node, as initialisers. */
void dt_gen_c_icmsg_fields(FILE *f, const struct ampl_dt_icmsg *dt);

#endif /* AMPLINK_SRC_DT_GEN_H */
