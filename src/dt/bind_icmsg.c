/*
 * Devicetree binding: ICMsg instances (zephyr,ipc-icmsg), and what every IPC instance node shares: its
 * reserved-memory regions and its "tx" and "rx" mailboxes.
 */
#include "dt/dt_gen.h"
#include "dt/dt_internal.h"

#include <libfdt.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------------------------ */
/* ICMsg instances: compatible = "zephyr,ipc-icmsg"                                                             */
/* ------------------------------------------------------------------------------------------------------------ */

/*
 * The reserved-memory node that the one-phandle property @prop of @off names: its index in b->mems. @missing says
 * what the instance needs the property for, when it is absent.
 */
int dt_ipc_region(struct dt_ctx *c, int off, const char *path, const char *prop, const char *missing,
		  unsigned *mem)
{
	uint32_t ph;
	int ret = dt_read_u32(c, off, path, prop, &ph);
	if (ret < 0)
		return ret;
	if (ret == 0)
		return dt_fail(c, path, prop, "missing: %s", missing);
	int roff = fdt_node_offset_by_phandle(c->fdt, ph);
	if (roff < 0)
		return dt_fail(c, path, prop, "phandle 0x%x names no node", ph);
	char rpath[AMPL_DT_PATH_MAX];
	dt_path_of(c, roff, rpath, sizeof(rpath));
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
	int ret = dt_ipc_region(c, off, path, prop, "an ICMsg instance needs <&region> for each direction", &mem);
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
int dt_ipc_mboxes(struct dt_ctx *c, const char *path, const char *what, unsigned *consumer, unsigned *tx_mbox,
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

struct ampl_dt_ipc *dt_ipc_add(struct dt_ctx *c, const struct ampl_dt_node *node, const char *compatible,
			       unsigned consumer, unsigned tx_mbox, unsigned rx_mbox, unsigned index)
{
	struct ampl_dt_board *b = c->b;
	if (b->num_ipcs >= AMPL_DT_MAX_IPC) {
		dt_fail(c, node->path, NULL, "more than %d IPC instances (AMPL_DT_MAX_IPC)", AMPL_DT_MAX_IPC);
		return NULL;
	}
	struct ampl_dt_ipc *ipc = &b->ipcs[b->num_ipcs++];
	memset(ipc, 0, sizeof(*ipc));
	ipc->node = *node;
	dt_copy_name(ipc->compatible, sizeof(ipc->compatible), compatible, strlen(compatible));
	ipc->consumer = consumer;
	ipc->tx_mbox = tx_mbox;
	ipc->rx_mbox = rx_mbox;
	ipc->index = index;
	return ipc;
}

const struct ampl_dt_ipc *ampl_dt_find_ipc(const struct ampl_dt_board *board, const char *name)
{
	for (unsigned i = 0; board && name && i < board->num_ipcs; i++)
		if (dt_node_is(&board->ipcs[i].node, name))
			return &board->ipcs[i];
	return NULL;
}

static int parse_icmsg(struct dt_ctx *c, int off)
{
	struct ampl_dt_board *b = c->b;
	char path[AMPL_DT_PATH_MAX];
	dt_path_of(c, off, path, sizeof(path));
	if (b->num_icmsgs >= AMPL_DT_MAX_ICMSG)
		return dt_fail(c, path, NULL, "more than %d ICMsg instances (AMPL_DT_MAX_ICMSG)", AMPL_DT_MAX_ICMSG);
	struct ampl_dt_icmsg *im = &b->icmsgs[b->num_icmsgs];
	int ret = dt_parse_icmsg_node(c, off, path, im);
	if (ret)
		return ret;
	/* amplink,max-packet-ext: a boolean (empty) property (classic bonding only; see <amplink/host/dt.h>). */
	int len;
	if (fdt_getprop(c->fdt, off, "amplink,max-packet-ext", &len)) {
		if (len != 0)
			return dt_fail(c, path, "amplink,max-packet-ext", "takes no value (it is a boolean property)");
		im->max_packet_ext = true;
	}
	if (!dt_ipc_add(c, &im->node, "zephyr,ipc-icmsg", im->consumer, im->tx_mbox, im->rx_mbox, b->num_icmsgs))
		return -EINVAL;
	b->num_icmsgs++;
	return 0;
}

/* The properties an ICMsg node and an ipc-multi node share (tx/rx regions, mboxes, dcache-alignment, unbound). */
int dt_parse_icmsg_node(struct dt_ctx *c, int off, const char *path, struct ampl_dt_icmsg *im)
{
	memset(im, 0, sizeof(*im));
	int ret = dt_node_ident(c, off, &im->node);
	if (!ret)
		ret = icmsg_region(c, off, path, "tx-region", &im->tx_addr, &im->tx_size);
	if (!ret)
		ret = icmsg_region(c, off, path, "rx-region", &im->rx_addr, &im->rx_size);
	if (ret)
		return ret;
	if (im->tx_addr < im->rx_addr + im->rx_size && im->rx_addr < im->tx_addr + im->tx_size)
		return dt_fail(c, path, "rx-region", "overlaps tx-region (0x%" PRIx64 "+0x%" PRIx64 " and 0x%" PRIx64
			       "+0x%" PRIx64 ")", im->tx_addr, im->tx_size, im->rx_addr, im->rx_size);
	ret = dt_ipc_mboxes(c, path, "an ICMsg instance", &im->consumer, &im->tx_mbox, &im->rx_mbox);
	if (ret)
		return ret;
	uint32_t d = 0;
	ret = dt_read_u32(c, off, path, "dcache-alignment", &d);
	if (ret < 0)
		return ret;
	if (d && (d < 4 || (d & (d - 1))))
		return dt_fail(c, path, "dcache-alignment", "%u: must be 0 or a power of two >= 4", d);
	im->dcache_alignment = d;
	int len;
	const char *ub = fdt_getprop(c->fdt, off, "unbound", &len);
	im->unbound = AMPL_DT_ICMSG_UNBOUND_DISABLE;
	if (ub) {
		if (!dt_is_string(ub, len))
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
	ret = dt_read_u32(c, off, path, "amplink,peer-max-packet", &pm);
	if (ret < 0)
		return ret;
	if (ret > 0 && (pm == 0 || pm > 0xFFFFu))
		return dt_fail(c, path, "amplink,peer-max-packet", "%u: must be 1..65535 (bytes of one packet)", pm);
	im->peer_max_packet = pm;
	return 0;
}

const struct ampl_dt_icmsg *ampl_dt_find_icmsg(const struct ampl_dt_board *board, const char *name)
{
	for (unsigned i = 0; board && name && i < board->num_icmsgs; i++) {
		const struct ampl_dt_node *n = &board->icmsgs[i].node;
		if (dt_node_is(n, name))
			return &board->icmsgs[i];
	}
	return NULL;
}

/* ---- `amplink dt gen`: the C of an instance for firmware (src/dt/dt_gen.h) ---- */

/* The properties and description of an ICMsg-like node (zephyr,ipc-icmsg or the base of amplink,ipc-multi). */
int dt_gen_icmsg_common(struct dt_gen *g, const struct ampl_dt_icmsg *dt, const char *id, const char *type)
{
	static const char *const unbound[] = { "disable", "enable", "detect" };
	const struct ampl_dt_mem *tx = dt_gen_find_mem(g->b, dt->tx_addr, dt->tx_size);
	const struct ampl_dt_mem *rx = dt_gen_find_mem(g->b, dt->rx_addr, dt->rx_size);
	if (!tx || !rx)
		return dt_gen_fail(g, dt->node.path, tx ? "rx-region" : "tx-region", "not a reserved-memory node");
	dt_gen_node_common(g, &dt->node, id);
	dt_gen_def_id(g, id, "_P_tx_region_IDX_0_PH", &tx->node);
	dt_gen_def_id(g, id, "_P_rx_region_IDX_0_PH", &rx->node);
	dt_gen_def_u(g, id, "_P_dcache_alignment", dt->dcache_alignment);
	dt_gen_def_s(g, id, "_P_unbound", unbound[dt->unbound]);
	dt_gen_def_u(g, id, "_P_unbound_ENUM_IDX", dt->unbound);
	dt_gen_def_u(g, id, "_P_amplink_peer_max_packet", dt->peer_max_packet);
	dt_gen_def_u(g, id, "_P_amplink_max_packet_ext", dt->max_packet_ext);
	fprintf(g->h, "extern const struct %s %s_NODE;\nextern struct ampl_device %s_DEVICE;\n", type, id, id);
	return 0;
}

void dt_gen_c_icmsg_fields(FILE *f, const struct ampl_dt_icmsg *dt)
{
	fprintf(f, "\t.tx_addr = ");
	dt_gen_u64(f, dt->tx_addr);
	fprintf(f, ", .tx_size = ");
	dt_gen_u64(f, dt->tx_size);
	fprintf(f, ",\n\t.rx_addr = ");
	dt_gen_u64(f, dt->rx_addr);
	fprintf(f, ", .rx_size = ");
	dt_gen_u64(f, dt->rx_size);
	fprintf(f, ",\n\t.consumer = %u, .tx_mbox = %u, .rx_mbox = %u,\n", dt->consumer, dt->tx_mbox, dt->rx_mbox);
	fprintf(f, "\t.dcache_alignment = %u, .unbound = (enum ampl_dt_icmsg_unbound)%u, .peer_max_packet = %u, "
		".max_packet_ext = %s,\n", dt->dcache_alignment, (unsigned)dt->unbound, dt->peer_max_packet,
		dt->max_packet_ext ? "true" : "false");
}

static int gen_icmsg(struct dt_gen *g, const struct ampl_dt_ipc *ipc)
{
	const struct ampl_dt_icmsg *dt = &g->b->icmsgs[ipc->index];
	char id[ID_MAX];
	dt_gen_node_id(&dt->node, id);
	int ret = dt_gen_icmsg_common(g, dt, id, "ampl_dt_icmsg");
	if (ret)
		return ret;
	struct ampl_board_mem mem = { .map = dt_gen_map, .ctx = g };
	uint32_t bufsz;
	if (ampl_board_icmsg_rx_buf_size(&mem, dt, &bufsz))
		return dt_gen_fail(g, dt->node.path, "rx-region", "0x%" PRIx64 "+0x%" PRIx64 " is not a valid ring for "
			    "dcache-alignment %u at this agent's address 0x%" PRIx64, dt->rx_addr, dt->rx_size,
			    dt->dcache_alignment, dt_gen_local_addr(g, dt->rx_addr));
	if (g->o->rx_buf_max && bufsz > g->o->rx_buf_max)
		bufsz = g->o->rx_buf_max;
	dt_gen_def_u(g, id, "_RX_BUF_SIZE", bufsz);
	FILE *f = g->c;
	fprintf(f, "\n/* %s */\nconst struct ampl_dt_icmsg %s_NODE = {\n", dt->node.path, id);
	dt_gen_c_node(f, &dt->node);
	dt_gen_c_icmsg_fields(f, dt);
	fprintf(f, "};\n");
	dt_gen_c_ipc_head(g, &dt->node, id, dt->consumer);
	fprintf(f, "static uint8_t %s_RX_BUF[%s_RX_BUF_SIZE];\n", id, id);
	fprintf(f, "static const struct ipc_icmsg_config %s_CONFIG = AMPL_BOARD_ICMSG_CONFIG_INIT(\n"
		"\tDT_REG_ADDR(DT_PHANDLE(%s, tx_region)), DT_REG_SIZE(DT_PHANDLE(%s, tx_region)),\n"
		"\tDT_REG_ADDR(DT_PHANDLE(%s, rx_region)), DT_REG_SIZE(DT_PHANDLE(%s, rx_region)),\n"
		"\t%s_P_dcache_alignment, %s_P_unbound_ENUM_IDX, %s_P_amplink_peer_max_packet, "
		"%s_P_amplink_max_packet_ext,\n\t%s_MBOXES, %s_RX_BUF, %s_RX_BUF_SIZE);\n",
		id, id, id, id, id, id, id, id, id, id, id, id);
	dt_gen_c_ipc_device(g, &dt->node, id, "ipc_icmsg", "ipc_icmsg_backend");
	return 0;
}

static const char *const icmsg_compatibles[] = { "zephyr,ipc-icmsg", NULL };

/* After the reserved memory and the mailbox consumers, which an instance names. */
DT_BINDING(icmsg) = {
	.gen = gen_icmsg,
	.order = 60,
	.compatible = icmsg_compatibles,
	.late = parse_icmsg,
};
