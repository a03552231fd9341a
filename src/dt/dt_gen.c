/*
 * Devicetree at build time (`amplink dt gen`): C for one agent's firmware from what the run-time loader understood
 * of a board (struct ampl_dt_board). Written in C on top of the loader on purpose: the generator and the loader
 * read the devicetree with the same code, so they cannot disagree on any binding rule (defaults, limits, which
 * node a phandle names, how `reg` is decoded); the configurations come from the board layer's initialisers, so
 * firmware and the virtual SoC cannot disagree on how a node becomes a configuration either.
 *
 * Output, for the agent's IPI controllers and destinations, the enabled Messaging Units, the reserved-memory
 * regions and the IPC instances whose mailboxes are the agent's:
 *   header  Zephyr's access macros (DT_NODELABEL, DT_REG_ADDR, DT_REG_SIZE, DT_PROP, DEVICE_DT_GET, ...) and the
 *           per-node values behind them, named as Zephyr names them (DT_N_S_amba_S_..._P_<property>);
 *   source  each node's description as a constant (the loader's structure) and, for the agent, static
 *           controllers, IPM devices, mailbox consumers, configurations, receive buffers and IPC devices.
 * Addresses in the access macros and configurations are the agent's (after --map); descriptions keep the SoC's.
 */
#include "dt/dt_gen.h"
#include "dt/dt_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dt_gen_fail(struct dt_gen *g, const char *node, const char *prop, const char *fmt, ...)
{
	if (g->diag) {
		size_t n = (size_t)snprintf(g->diag->msg, sizeof(g->diag->msg), "%s: %s%s%s%s", g->b->source,
					    node ? node : "", node ? ": " : "", prop ? prop : "", prop ? ": " : "");
		va_list ap;
		va_start(ap, fmt);
		if (n < sizeof(g->diag->msg))
			vsnprintf(g->diag->msg + n, sizeof(g->diag->msg) - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Zephyr's node identifier: DT_N, then _S_<component> per path component, lower case, other characters '_'. */
void dt_gen_node_id(const struct ampl_dt_node *n, char *out)
{
	size_t k = (size_t)sprintf(out, "DT_N");
	for (const char *p = n->path; *p && k < ID_MAX - 4; p++) {
		if (*p == '/') {
			if (p[1])
				k += (size_t)sprintf(out + k, "_S_");
			continue;
		}
		char ch = *p;
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
			ch = '_';
		out[k++] = ch;
	}
	out[k] = 0;
}

/* The agent's address for the SoC's @addr (the first --map window that holds it; unchanged outside them). */
uint64_t dt_gen_local_addr(const struct dt_gen *g, uint64_t addr)
{
	for (unsigned i = 0; i < g->o->num_maps; i++) {
		const struct ampl_dt_gen_map *m = &g->o->maps[i];
		if (addr >= m->phys && addr - m->phys < m->size)
			return m->local + (addr - m->phys);
	}
	return addr;
}

volatile void *dt_gen_map(void *ctx, uint64_t addr, uint64_t size)
{
	(void)size;
	uint64_t a = dt_gen_local_addr(ctx, addr);
	return (volatile void *)(uintptr_t)(a ? a : 1); /* alignment checks only: never dereferenced */
}

static int add_node(struct dt_gen *g, const struct ampl_dt_node *n)
{
	char id[ID_MAX], other[ID_MAX];
	dt_gen_node_id(n, id);
	for (unsigned i = 0; i < g->num; i++) {
		if (g->nodes[i] == n)
			return 0;
		dt_gen_node_id(g->nodes[i], other);
		if (!strcmp(id, other))
			return dt_gen_fail(g, n->path, NULL, "its C identifier %s is also %s's: rename one of the two nodes", id,
				    g->nodes[i]->path);
		if (n->label[0] && !strcmp(n->label, g->nodes[i]->label))
			return dt_gen_fail(g, n->path, NULL, "label %s is also %s's", n->label, g->nodes[i]->path);
	}
	if (g->num == sizeof(g->nodes) / sizeof(g->nodes[0]))
		return dt_gen_fail(g, n->path, NULL, "too many nodes");
	g->nodes[g->num++] = n;
	return 0;
}

void dt_gen_str_lit(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void dt_gen_u64(FILE *f, uint64_t v)
{
	if (v > UINT32_MAX)
		fprintf(f, "0x%" PRIx64 "ull", v);
	else
		fprintf(f, "0x%" PRIx64 "u", v);
}

/* "#define <id><suffix> value" lines */
void dt_gen_def_u(struct dt_gen *g, const char *id, const char *suffix, uint64_t v)
{
	fprintf(g->h, "#define %s%s ", id, suffix);
	dt_gen_u64(g->h, v);
	fputc('\n', g->h);
}

void dt_gen_def_s(struct dt_gen *g, const char *id, const char *suffix, const char *s)
{
	fprintf(g->h, "#define %s%s ", id, suffix);
	dt_gen_str_lit(g->h, s);
	fputc('\n', g->h);
}

void dt_gen_def_id(struct dt_gen *g, const char *id, const char *suffix, const struct ampl_dt_node *target)
{
	char t[ID_MAX];
	dt_gen_node_id(target, t);
	fprintf(g->h, "#define %s%s %s\n", id, suffix, t);
}

/* Identity: path, full name, label, and the `reg` entries (agent's addresses). */
void dt_gen_node_common(struct dt_gen *g, const struct ampl_dt_node *n, const char *id)
{
	fprintf(g->h, "\n/* %s%s%s%s */\n", n->path, n->label[0] ? " (" : "", n->label, n->label[0] ? ")" : "");
	if (n->label[0])
		fprintf(g->h, "#define DT_N_NODELABEL_%s %s\n", n->label, id);
	dt_gen_def_s(g, id, "_PATH", n->path);
	dt_gen_def_s(g, id, "_FULL_NAME", n->name);
	dt_gen_def_s(g, id, "_LABEL", n->label);
}

static void regs(struct dt_gen *g, const char *id, const struct ampl_dt_region *r, unsigned num)
{
	char sfx[AMPL_DT_NAME_MAX + 48];
	fprintf(g->h, "#define %s_REG_NUM %u\n", id, num);
	for (unsigned i = 0; i < num; i++) {
		snprintf(sfx, sizeof(sfx), "_REG_IDX_%u_VAL_ADDRESS", i);
		dt_gen_def_u(g, id, sfx, dt_gen_local_addr(g, r[i].addr));
		snprintf(sfx, sizeof(sfx), "_REG_IDX_%u_VAL_SIZE", i);
		dt_gen_def_u(g, id, sfx, r[i].size);
		if (!r[i].name[0])
			continue;
		snprintf(sfx, sizeof(sfx), "_REG_NAME_%s_VAL_ADDRESS", r[i].name);
		dt_gen_def_u(g, id, sfx, dt_gen_local_addr(g, r[i].addr));
		snprintf(sfx, sizeof(sfx), "_REG_NAME_%s_VAL_SIZE", r[i].name);
		dt_gen_def_u(g, id, sfx, r[i].size);
	}
}

/* ---- constant node descriptions (the .c file) ---- */

/*
 * The strings a node's objects use, as arrays: each in its own section, so the linker drops those of objects the
 * firmware does not use (literals would share one section per file and all stay). The path is global: a
 * controller's name, which its consumers' mbox_spec.provider names too (AMPL_DT_PATH_STR()).
 */
static void c_strings(struct dt_gen *g, const struct ampl_dt_node *n, const char *id, bool path)
{
	FILE *f = g->c;
	if (path) {
		fprintf(g->h, "extern const char %s_PATH_STR[];\n", id);
		fprintf(f, "const char %s_PATH_STR[] = %s_PATH;\n", id, id);
	}
	fprintf(f, "static const char %s_NAME_STR[] = %s_FULL_NAME;\n", id, id);
	if (n->label[0])
		fprintf(f, "static const char %s_LABEL_STR[] = %s_LABEL;\n", id, id);
}

static const char *label_str(const struct ampl_dt_node *n, const char *id, char *buf)
{
	if (!n->label[0])
		return "NULL";
	sprintf(buf, "%s_LABEL_STR", id);
	return buf;
}

void dt_gen_c_node(FILE *f, const struct ampl_dt_node *n)
{
	fprintf(f, "\t.node = { .name = ");
	dt_gen_str_lit(f, n->name);
	fprintf(f, ", .label = ");
	dt_gen_str_lit(f, n->label);
	fprintf(f, ", .path = ");
	dt_gen_str_lit(f, n->path);
	fprintf(f, " },\n");
}

static void c_regions(FILE *f, const struct ampl_dt_region *r, unsigned num)
{
	fprintf(f, "\t.num_regs = %u,\n\t.regs = {\n", num);
	for (unsigned i = 0; i < num; i++) {
		fprintf(f, "\t\t{ .name = ");
		dt_gen_str_lit(f, r[i].name);
		fprintf(f, ", .addr = ");
		dt_gen_u64(f, r[i].addr);
		fprintf(f, ", .size = ");
		dt_gen_u64(f, r[i].size);
		fprintf(f, " },\n");
	}
	fprintf(f, "\t},\n");
}

static const char *profile_sym(const struct ampl_soc_profile *p)
{
	return p == &ampl_soc_zynqmp ? "zynqmp" : p == &ampl_soc_versal ? "versal" : "imx";
}

static void c_agent(FILE *f, const struct ampl_soc_profile *p, const char *field, const struct ampl_soc_agent *a)
{
	if (a)
		fprintf(f, "\t.%s = &ampl_soc_%s_agents[%u],\n", field, profile_sym(p), ampl_soc_agent_index(p, a));
}

/* Whether an IPC instance is this agent's (the board layer's rule: its mailboxes name one of its controllers), and
 * the IPI destination they name (*@ipi, if not NULL: NULL for another controller). */
static bool agent_ipc(const struct dt_gen *g, const struct ampl_dt_ipc *d, const struct ampl_dt_ipi_chan **ipi)
{
	struct ampl_board_ipc_mbox m;
	int ret = ampl_board_ipc_mbox(g->b, d->consumer, d->tx_mbox, d->rx_mbox, g->agent, &m, NULL);
	if (ipi)
		*ipi = m.ipi;
	return !ret;
}

/* ---- IPI ---- */

static int gen_ipi(struct dt_gen *g, const struct ampl_dt_ipi_ctrl *ct)
{
	char cid[ID_MAX], id[ID_MAX];
	const struct ampl_soc_profile *p = g->b->profile;
	int ret = add_node(g, &ct->node);
	if (ret)
		return ret;
	dt_gen_node_id(&ct->node, cid);
	dt_gen_node_common(g, &ct->node, cid);
	dt_gen_def_u(g, cid, "_P_xlnx_ipi_id", ct->local_id);
	if (ct->irq >= 0)
		dt_gen_def_u(g, cid, "_IRQN", (uint64_t)ct->irq);
	dt_gen_def_u(g, cid, "_IPI_REGS_ADDR", ct->local->ipi->reg_base);
	dt_gen_def_u(g, cid, "_IPI_VALID_MASK", p->valid_mask);
	fprintf(g->h, "extern struct xlnx_ipi_host %s_HOST;\n", cid);
	/* Zeroed (RAM only): its first destination's xlnx_ipi_mbox_setup() sets it up from that one's constant
	 * configuration. */
	fprintf(g->c, "\n/* %s */\nstruct xlnx_ipi_host %s_HOST;\n", ct->node.path, cid);
	for (unsigned j = 0; j < ct->num_chans; j++) {
		const struct ampl_dt_ipi_chan *ch = &ct->chans[j];
		if ((ret = add_node(g, &ch->node)))
			return ret;
		dt_gen_node_id(&ch->node, id);
		dt_gen_node_common(g, &ch->node, id);
		regs(g, id, ch->regs, ch->num_regs);
		dt_gen_def_u(g, id, "_P_xlnx_ipi_id", ch->remote_id);
		dt_gen_def_u(g, id, "_REMOTE_MASK", ampl_ipi_mask(ch->remote));
		dt_gen_def_u(g, id, "_BUFFERED", ch->buffered);
		/* An IPC instance of this agent on the destination makes it a doorbell (the board layer's rule). */
		bool doorbell = false;
		for (unsigned k = 0; k < g->b->num_ipcs; k++) {
			const struct ampl_dt_ipi_chan *ipi;
			doorbell |= agent_ipc(g, &g->b->ipcs[k], &ipi) && ipi == ch;
		}
		dt_gen_def_u(g, id, "_DOORBELL", doorbell);
		fprintf(g->h, "extern const struct ampl_dt_ipi_chan %s_NODE;\nextern struct xlnx_ipi_mbox %s_MBOX;\n"
			"extern const struct xlnx_ipi_mbox_config %s_MBOX_CONFIG;\n"
			"extern const struct xlnx_ipi_mbox_config %s_IPI_CONFIG;\nextern struct ampl_device %s_DEVICE;\n",
			id, id, id, id, id);
		FILE *f = g->c;
		fprintf(f, "\n/* %s */\nconst struct ampl_dt_ipi_chan %s_NODE = {\n", ch->node.path, id);
		dt_gen_c_node(f, &ch->node);
		fprintf(f, "\t.remote_id = %u,\n", ch->remote_id);
		c_agent(f, p, "remote", ch->remote);
		c_regions(f, ch->regs, ch->num_regs);
		fprintf(f, "\t.mbox_cells = %d,\n\t.buffered = %s,\n", ch->mbox_cells, ch->buffered ? "true" : "false");
		fprintf(f, "\t.local_req = ");
		dt_gen_u64(f, ch->local_req);
		fprintf(f, ", .local_resp = ");
		dt_gen_u64(f, ch->local_resp);
		fprintf(f, ", .remote_req = ");
		dt_gen_u64(f, ch->remote_req);
		fprintf(f, ", .remote_resp = ");
		dt_gen_u64(f, ch->remote_resp);
		fprintf(f, ",\n};\n");
		/* The controller zeroed (RAM only), its settings constant (flash): xlnx_ipi_mbox_setup(). */
		fprintf(f, "struct xlnx_ipi_mbox %s_MBOX;\n", id);
		/* Twice: with the local agent's host for the framework's setup (_MBOX_CONFIG), and without it for the
		 * register-level functions (_IPI_CONFIG), so that an image that rings and serves the destination on its
		 * registers only does not link the host's RAM. */
		uint64_t bufs[4] = { ch->local_req, ch->local_resp, ch->remote_req, ch->remote_resp };
		for (unsigned v = 0; v < 2; v++) {
			fprintf(f, "const struct xlnx_ipi_mbox_config %s_%s_CONFIG = AMPL_BOARD_XLNX_IPI_MBOX_CONFIG_INIT(",
				id, v ? "IPI" : "MBOX");
			if (v)
				fprintf(f, "NULL, ");
			else
				fprintf(f, "&%s_HOST, ", cid);
			fprintf(f, "%s_IPI_REGS_ADDR,\n\t%s_IPI_VALID_MASK, %s_REMOTE_MASK, %s_BUFFERED, ", cid, cid, id, id);
			for (unsigned k = 0; k < 4; k++) {
				dt_gen_u64(f, ch->buffered ? dt_gen_local_addr(g, bufs[k]) : 0);
				fprintf(f, ", ");
			}
			fprintf(f, "%s_DOORBELL);\n", id);
		}
		/* Its doorbell function for an IPC instance without the mailbox framework (AMPL_IPC_LINK_MBOX 0). */
		fprintf(g->h, "extern const struct ampl_ipc_doorbell %s_IPC_DOORBELL;\n", id);
		fprintf(f, "const struct ampl_ipc_doorbell %s_IPC_DOORBELL = { .ring = xlnx_ipi_direct_ring, "
			".ctx = &%s_IPI_CONFIG };\n", id, id);
		/* The IPM device: over the framework, or with AMPL_XLNX_IPI_DIRECT the register-level driver on the same
		 * constant settings (include/amplink/drivers/xlnx_ipi_direct.h). */
		char lb[ID_MAX + 16];
		const char *label = label_str(&ch->node, id, lb);
		c_strings(g, &ch->node, id, true);
		fprintf(f, "#if AMPL_XLNX_IPI_DIRECT\n"
			"static const struct xlnx_ipi_direct_config %s_IPM_CONFIG = { .ipi = &%s_IPI_CONFIG };\n"
			"static struct xlnx_ipi_direct_data %s_IPM_DATA;\n"
			"AMPL_DEVICE_DEFINE(%s_DEVICE, %s_NAME_STR, %s, xlnx_ipi_direct_init, &xlnx_ipi_direct_api,\n"
			"\t\t   &%s_IPM_CONFIG, &%s_IPM_DATA);\n#else\n", id, id, id, id, id, label, id, id);
		fprintf(f, "static const struct xlnx_ipi_ipm_config %s_IPM_CONFIG = { .mbox = &%s_MBOX };\n", id, id);
		fprintf(f, "static struct xlnx_ipi_ipm_data %s_IPM_DATA;\n", id);
		fprintf(f, "AMPL_DEVICE_DEFINE(%s_DEVICE, %s_NAME_STR, %s, xlnx_ipi_ipm_init, &xlnx_ipi_ipm_api,\n"
			"\t\t   &%s_IPM_CONFIG, &%s_IPM_DATA);\n#endif\n", id, id, label, id, id);
	}
	return 0;
}

/* ---- IPC instances ---- */

const struct ampl_dt_mem *dt_gen_find_mem(const struct ampl_dt_board *b, uint64_t addr, uint64_t size)
{
	for (unsigned i = 0; i < b->num_mems; i++)
		if (b->mems[i].addr == addr && b->mems[i].size == size)
			return &b->mems[i];
	return NULL;
}

/*
 * The channel entry @name of @con names, as a constant expression: a channel of an IPI destination of this agent
 * (its controller, <destination>_MBOX, is written above; `#mbox-cells = <1>`: the channel index), or with @doorbell
 * that destination's doorbell function (<destination>_IPC_DOORBELL); or else AMPL_DT_MBOX_NOT_GENERATED (no controller
 * written for it: only the registry can find it).
 */
static void c_chan_ref(struct dt_gen *g, const struct ampl_dt_consumer *con, const char *name, bool doorbell)
{
	for (unsigned k = 0; k < con->num_mboxes; k++) {
		const struct ampl_dt_mbox_ref *m = &con->mboxes[k];
		if (strcmp(m->name, name))
			continue;
		for (unsigned i = 0; i < g->b->num_ctrls; i++) {
			const struct ampl_dt_ipi_ctrl *ct = &g->b->ctrls[i];
			for (unsigned j = 0; ct->local == g->agent && j < ct->num_chans; j++) {
				if (strcmp(ct->chans[j].node.path, m->provider) || m->nargs < 1 || m->args[0] >= 2)
					continue;
				char pid[ID_MAX];
				dt_gen_node_id(&ct->chans[j].node, pid);
				if (doorbell)
					fprintf(g->c, "&%s_IPC_DOORBELL", pid);
				else
					fprintf(g->c, "&%s_MBOX.chans[%u]", pid, m->args[0]);
				return;
			}
		}
	}
	fprintf(g->c, "AMPL_DT_MBOX_NOT_GENERATED");
}

static void c_consumer(struct dt_gen *g, const char *id, const struct ampl_dt_consumer *con)
{
	FILE *f = g->c;
	fprintf(f, "static const struct mbox_spec %s_MBOX_SPECS[%u] = {\n", id, con->num_mboxes);
	for (unsigned k = 0; k < con->num_mboxes; k++) {
		const struct ampl_dt_mbox_ref *m = &con->mboxes[k];
		fprintf(f, "\t{ .provider = ");
		const struct ampl_dt_node *prov = NULL;
		for (unsigned i = 0; i < g->num && !prov; i++)
			if (!strcmp(g->nodes[i]->path, m->provider))
				prov = g->nodes[i];
		if (prov) {
			/* an IPI destination's path array (its controller's name); another controller's path */
			char pid[ID_MAX];
			dt_gen_node_id(prov, pid);
			fprintf(f, "%s_PATH%s", pid, ampl_dt_find_mbox_ctrl(g->b, prov->path) ? "" : "_STR");
		} else {
			dt_gen_str_lit(f, m->provider);
		}
		fprintf(f, ", .args = {");
		for (unsigned a = 0; a < m->nargs; a++)
			fprintf(f, "%s%u", a ? ", " : " ", m->args[a]);
		fprintf(f, "%s}, .nargs = %u, .name = ", m->nargs ? " " : "", m->nargs);
		if (m->name[0])
			dt_gen_str_lit(f, m->name);
		else
			fprintf(f, "NULL");
		fprintf(f, " },\n");
	}
	/* The consumer's name is for messages only: the node's name, which the device's name already holds. */
	fprintf(f, "};\nconst struct mbox_consumer %s_MBOX_CONSUMER = { .name = %s_NAME_STR, .mboxes = %s_MBOX_SPECS, "
		".num_mboxes = %u };\n", id, id, id, con->num_mboxes);
	fprintf(g->h, "extern const struct mbox_consumer %s_MBOX_CONSUMER;\n", id);
	/* What the instance's configuration names: the consumer, its channels, or the tx destination's doorbell function
	 * (AMPL_BOARD_MBOXES()). */
	fprintf(f, "#define %s_MBOXES AMPL_BOARD_MBOXES(&%s_MBOX_CONSUMER, ", id, id);
	c_chan_ref(g, con, "tx", false);
	fprintf(f, ", ");
	c_chan_ref(g, con, "rx", false);
	fprintf(f, ", ");
	c_chan_ref(g, con, "tx", true);
	fprintf(f, ")\n");
}

/* An IPC instance's strings and mailbox consumer (before its configuration). */
void dt_gen_c_ipc_head(struct dt_gen *g, const struct ampl_dt_node *n, const char *id, unsigned consumer)
{
	c_strings(g, n, id, false);
	c_consumer(g, id, &g->b->consumers[consumer]);
}

/* An IPC instance's data and device (after its configuration, <id>_CONFIG). */
void dt_gen_c_ipc_device(struct dt_gen *g, const struct ampl_dt_node *n, const char *id, const char *type,
			 const char *backend)
{
	char lb[ID_MAX + 16];
	fprintf(g->c, "static struct %s_data %s_DATA;\n", type, id);
	fprintf(g->c, "AMPL_DEVICE_DEFINE(%s_DEVICE, %s_NAME_STR, %s, NULL, &%s, &%s_CONFIG, &%s_DATA);\n", id, id,
		label_str(n, id, lb), backend, id, id);
}

/* An IPC instance of this agent: the C of the binding that read its node (struct dt_binding.gen). */
static int gen_ipc(struct dt_gen *g, const struct ampl_dt_ipc *ipc)
{
	const struct dt_binding *bind[DT_MAX_BINDINGS];
	unsigned nb = dt_bindings(bind);
	for (unsigned i = 0; i < nb; i++)
		for (const char *const *cp = bind[i]->compatible; bind[i]->gen && cp && *cp; cp++)
			if (!strcmp(*cp, ipc->compatible))
				return bind[i]->gen(g, ipc);
	return dt_gen_fail(g, ipc->node.path, NULL, "no firmware configuration for a %s instance in `amplink dt gen`",
			   ipc->compatible);
}

/* A node with one `reg` entry (a memory region, a Messaging Unit): its macros and the start of its description. */
int dt_gen_one_reg_node(struct dt_gen *g, const struct ampl_dt_node *n, uint64_t addr, uint64_t size,
			const char *type, char *id)
{
	int ret = add_node(g, n);
	if (ret)
		return ret;
	dt_gen_node_id(n, id);
	dt_gen_node_common(g, n, id);
	struct ampl_dt_region r = { .addr = addr, .size = size };
	regs(g, id, &r, 1);
	fprintf(g->h, "extern const struct %s %s_NODE;\n", type, id);
	fprintf(g->c, "\n/* %s */\nconst struct %s %s_NODE = {\n", n->path, type, id);
	dt_gen_c_node(g->c, n);
	fprintf(g->c, "\t.addr = ");
	dt_gen_u64(g->c, addr);
	fprintf(g->c, ", .size = ");
	dt_gen_u64(g->c, size);
	return 0;
}

static int gen_mem(struct dt_gen *g, const struct ampl_dt_mem *m)
{
	char id[ID_MAX];
	int ret = dt_gen_one_reg_node(g, &m->node, m->addr, m->size, "ampl_dt_mem", id);
	if (!ret)
		fprintf(g->c, ", .no_map = %s,\n};\n", m->no_map ? "true" : "false");
	return ret;
}

static const char access_macros[] =
	"/* Zephyr's devicetree access macros, over the values below. */\n"
	"#define DT_CAT(a, b) a##b\n"
	"#define DT_CAT3(a, b, c) a##b##c\n"
	"#define DT_CAT4(a, b, c, d) a##b##c##d\n"
	"#define DT_NODELABEL(label) DT_CAT(DT_N_NODELABEL_, label)\n"
	"#define DT_NODE_PATH(node_id) DT_CAT(node_id, _PATH)\n"
	"#define DT_NODE_FULL_NAME(node_id) DT_CAT(node_id, _FULL_NAME)\n"
	"#define DT_PROP(node_id, prop) DT_CAT3(node_id, _P_, prop)\n"
	"#define DT_ENUM_IDX(node_id, prop) DT_CAT4(node_id, _P_, prop, _ENUM_IDX)\n"
	"#define DT_PHANDLE(node_id, prop) DT_CAT4(node_id, _P_, prop, _IDX_0_PH)\n"
	"#define DT_NUM_REGS(node_id) DT_CAT(node_id, _REG_NUM)\n"
	"#define DT_REG_ADDR_BY_IDX(node_id, idx) DT_CAT4(node_id, _REG_IDX_, idx, _VAL_ADDRESS)\n"
	"#define DT_REG_SIZE_BY_IDX(node_id, idx) DT_CAT4(node_id, _REG_IDX_, idx, _VAL_SIZE)\n"
	"#define DT_REG_ADDR(node_id) DT_REG_ADDR_BY_IDX(node_id, 0)\n"
	"#define DT_REG_SIZE(node_id) DT_REG_SIZE_BY_IDX(node_id, 0)\n"
	"#define DT_REG_ADDR_BY_NAME(node_id, name) DT_CAT4(node_id, _REG_NAME_, name, _VAL_ADDRESS)\n"
	"#define DT_REG_SIZE_BY_NAME(node_id, name) DT_CAT4(node_id, _REG_NAME_, name, _VAL_SIZE)\n"
	"#define DT_IRQN(node_id) DT_CAT(node_id, _IRQN)\n"
	"#define DEVICE_DT_GET(node_id) (&DT_CAT(node_id, _DEVICE))\n"
	"/* amplink's: a node's description (the loader's structure), an IPI destination's controller and its\n"
	" * settings (xlnx_ipi_mbox_setup()), the same settings without the local agent's host for the register-level\n"
	" * functions (xlnx_ipi_direct.h), an IPC instance's mailbox consumer. */\n"
	"#define AMPL_DT_NODE(node_id) (&DT_CAT(node_id, _NODE))\n"
	"#define AMPL_DT_IPI_MBOX(node_id) (&DT_CAT(node_id, _MBOX))\n"
	"#define AMPL_DT_IPI_MBOX_CONFIG(node_id) (&DT_CAT(node_id, _MBOX_CONFIG))\n"
	"#define AMPL_DT_IPI_CONFIG(node_id) (&DT_CAT(node_id, _IPI_CONFIG))\n"
	"#define AMPL_DT_MBOX_CONSUMER(node_id) (&DT_CAT(node_id, _MBOX_CONSUMER))\n"
	"/* an IPI destination's path as one array: its controller's name, which the consumers' specs point to */\n"
	"#define AMPL_DT_PATH_STR(node_id) DT_CAT(node_id, _PATH_STR)\n";

int ampl_dt_gen(const struct ampl_dt_board *board, const struct ampl_dt_gen_opts *opts, FILE *h, FILE *c,
		struct ampl_dt_diag *diag)
{
	static const struct ampl_dt_gen_opts none;
	struct dt_gen *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	*g = (struct dt_gen){ .b = board, .o = opts ? opts : &none, .h = h, .c = c, .diag = diag };
	int ret = 0;
	if (!board || !h || !c || !g->o->agent || !g->o->header_name) {
		ret = -EINVAL;
		if (diag)
			snprintf(diag->msg, sizeof(diag->msg), "no board, agent, header name or output");
		goto out;
	}
	if (!board->profile || !(g->agent = ampl_soc_agent_by_name(board->profile, g->o->agent))) {
		char names[256];
		ampl_soc_agent_names(board->profile, names, sizeof(names));
		if (board->profile)
			ret = dt_gen_fail(g, NULL, NULL, "--agent %s: no such agent on a %s SoC (agents: %s)", g->o->agent,
				   board->profile->name, names);
		else
			ret = dt_gen_fail(g, NULL, NULL, "--agent %s: the board has no IPI node, so no agents", g->o->agent);
		goto out;
	}
	fprintf(h, "/*\n * Generated by `amplink dt gen` from %s for agent %s. Do not edit: change the devicetree "
		"and\n * generate again.\n */\n#ifndef AMPL_DT_GEN_H\n#define AMPL_DT_GEN_H\n\n#include <stdbool.h>\n"
		"#include <stdint.h>\n\n#include <amplink/board.h>\n#include <amplink/device.h>\n\n%s\n"
		"#define AMPL_DT_AGENT \"%s\"\n", board->source, g->agent->name, access_macros, g->agent->name);
	for (unsigned i = 0; i < g->o->num_maps; i++)
		fprintf(h, "/* --map 0x%" PRIx64 "=0x%" PRIx64 ",0x%" PRIx64 ": this agent sees the SoC's 0x%" PRIx64
			"..0x%" PRIx64 " at 0x%" PRIx64 " */\n", opts->maps[i].phys, opts->maps[i].local,
			opts->maps[i].size, opts->maps[i].phys, opts->maps[i].phys + opts->maps[i].size - 1,
			opts->maps[i].local);
	fprintf(c, "/* Generated by `amplink dt gen` from %s for agent %s. Do not edit. */\n#include \"%s\"\n",
		board->source, g->agent->name, g->o->header_name);
	for (unsigned i = 0; !ret && i < board->num_mems; i++)
		ret = gen_mem(g, &board->mems[i]);
	for (unsigned i = 0; !ret && i < board->num_ctrls; i++)
		if (board->ctrls[i].local == g->agent)
			ret = gen_ipi(g, &board->ctrls[i]);
	const struct dt_binding *bind[DT_MAX_BINDINGS];
	unsigned nb = dt_bindings(bind);
	for (unsigned i = 0; !ret && i < nb; i++) /* controller nodes (Messaging Units): their binding writes them */
		if (bind[i]->gen_nodes)
			ret = bind[i]->gen_nodes(g);
	for (unsigned i = 0; !ret && i < board->num_ipcs; i++) { /* IPC instances: their binding writes them */
		const struct ampl_dt_ipc *d = &board->ipcs[i];
		if (agent_ipc(g, d, NULL) && !(ret = add_node(g, &d->node)))
			ret = gen_ipc(g, d);
	}
	fprintf(h, "\n#endif /* AMPL_DT_GEN_H */\n");
	if (!ret && (ferror(h) || ferror(c))) {
		ret = -EIO;
		if (diag)
			snprintf(diag->msg, sizeof(diag->msg), "cannot write the generated files");
	}
out:
	free(g);
	return ret;
}
