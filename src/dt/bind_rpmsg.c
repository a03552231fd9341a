/*
 * Devicetree binding: RPMsg instances (zephyr,ipc-openamp-static-vrings), with the region layout of
 * <amplink/ipc/rpmsg.h>, and the "rpmsg" lines of ampl_dt_print().
 */
#include "dt/dt_gen.h"
#include "dt/dt_internal.h"

#include <amplink/ipc/rpmsg.h>

#include <libfdt.h>

#include <errno.h>
#include <inttypes.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------------------------ */
/* RPMsg instances: compatible = "zephyr,ipc-openamp-static-vrings"                                             */
/* ------------------------------------------------------------------------------------------------------------ */

#define DT_RPMSG_COMPATIBLE "zephyr,ipc-openamp-static-vrings"

/* The loader sizes a region with the remote's own layout arithmetic (<amplink/ipc/rpmsg.h>). */
_Static_assert(AMPL_DT_RPMSG_RSC_TABLE_SIZE == RPMSG_RSC_TABLE_SIZE, "the resource table dt_nodes.h describes");
_Static_assert(AMPL_DT_RPMSG_BUF_ALIGN == RPMSG_BUF_ALIGN, "the buffer alignment dt_nodes.h describes");
_Static_assert(AMPL_DT_RPMSG_VRING_NUM_MAX <= VRING_MAX_NUM && AMPL_DT_RPMSG_VRING_ALIGN_MAX <= VRING_MAX_ALIGN,
	       "the binding's limits keep the layout arithmetic in 32 bits");

uint64_t ampl_dt_rpmsg_min_size(uint32_t vring_num, uint32_t vring_align, uint32_t h2r_buffer_size,
				uint32_t r2h_buffer_size)
{
	uint32_t a = vring_align ? vring_align : 1;
	uint64_t h2r = vring_align_up(h2r_buffer_size, RPMSG_BUF_ALIGN);
	uint64_t r2h = vring_align_up(r2h_buffer_size, RPMSG_BUF_ALIGN);

	return rpmsg_pool_off(vring_num, a) + (uint64_t)vring_num * (h2r + r2h);
}

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

/* An optional buffer-size property: 1 and *@out when present and valid, 0 when absent (*@out kept), -EINVAL. */
static int read_rpmsg_buffer_size(struct dt_ctx *c, int off, const char *path, const char *prop, uint32_t *out)
{
	uint32_t v;
	int ret = dt_read_u32(c, off, path, prop, &v);

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
	int ret = dt_ipc_region(c, off, path, "memory-region",
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
	if (!dt_is_string(role, len))
		return dt_fail(c, path, "role", "must be a string: \"host\" or \"remote\"");
	if (!strcmp(role, "host"))
		r->role = AMPL_DT_RPMSG_HOST;
	else if (!strcmp(role, "remote"))
		r->role = AMPL_DT_RPMSG_REMOTE;
	else
		return dt_fail(c, path, "role", "'%s': must be \"host\" or \"remote\"", role);
	return dt_ipc_mboxes(c, path, "an RPMsg instance", &r->consumer, &r->tx_mbox, &r->rx_mbox);
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
	ret = dt_read_u32(c, off, path, "amplink,vring-num", &r->vring_num);
	if (ret < 0)
		return ret;
	if (!is_pow2(r->vring_num) || r->vring_num > AMPL_DT_RPMSG_VRING_NUM_MAX)
		return dt_fail(c, path, "amplink,vring-num",
			       "%" PRIu32 ": must be a power of two, 1..%u (descriptors per vring; virtio's largest "
			       "queue is %u)",
			       r->vring_num, AMPL_DT_RPMSG_VRING_NUM_MAX, AMPL_DT_RPMSG_VRING_NUM_MAX);

	r->vring_align = AMPL_DT_RPMSG_VRING_ALIGN_DEFAULT;
	ret = dt_read_u32(c, off, path, "amplink,vring-align", &r->vring_align);
	if (ret < 0)
		return ret;
	if (!is_pow2(r->vring_align) || r->vring_align < AMPL_DT_RPMSG_VRING_ALIGN_MIN ||
	    r->vring_align > AMPL_DT_RPMSG_VRING_ALIGN_MAX)
		return dt_fail(c, path, "amplink,vring-align", "%" PRIu32 ": must be a power of two, %u..%u",
			       r->vring_align, AMPL_DT_RPMSG_VRING_ALIGN_MIN, AMPL_DT_RPMSG_VRING_ALIGN_MAX);

	r->notify_id = 0;
	ret = dt_read_u32(c, off, path, "amplink,notify-id", &r->notify_id);
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
			       (uint64_t)vring_size(r->vring_num, r->vring_align), r->vring_align,
			       (uint64_t)rpmsg_pool_off(r->vring_num, r->vring_align), r->vring_num, r->h2r_buffer_size,
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
	dt_path_of(c, off, path, sizeof(path));
	if (b->num_rpmsgs >= AMPL_DT_MAX_RPMSG)
		return dt_fail(c, path, NULL, "more than %d RPMsg instances (AMPL_DT_MAX_RPMSG)", AMPL_DT_MAX_RPMSG);
	struct ampl_dt_rpmsg *r = &b->rpmsgs[b->num_rpmsgs];
	memset(r, 0, sizeof(*r));
	int ret = dt_node_ident(c, off, &r->node);
	if (!ret)
		ret = parse_rpmsg_required(c, off, path, r);
	if (!ret)
		ret = parse_rpmsg_optional(c, off, path, r);
	if (!ret)
		ret = check_rpmsg_region(c, path, r);
	if (!ret && !dt_ipc_add(c, &r->node, DT_RPMSG_COMPATIBLE, r->consumer, r->tx_mbox, r->rx_mbox, b->num_rpmsgs))
		ret = -EINVAL;
	if (!ret)
		b->num_rpmsgs++;
	return ret;
}

const struct ampl_dt_rpmsg *ampl_dt_find_rpmsg(const struct ampl_dt_board *board, const char *name)
{
	for (unsigned i = 0; board && name && i < board->num_rpmsgs; i++) {
		const struct ampl_dt_node *n = &board->rpmsgs[i].node;
		if (dt_node_is(n, name))
			return &board->rpmsgs[i];
	}
	return NULL;
}

static void print_rpmsgs(const struct ampl_dt_board *board, FILE *out)
{
	for (unsigned i = 0; i < board->num_rpmsgs; i++) {
		const struct ampl_dt_rpmsg *r = &board->rpmsgs[i];

		fprintf(out,
			"rpmsg 0x%08" PRIx64 " size 0x%-8" PRIx64 " %-6s  needs 0x%" PRIx64 "  vrings %" PRIu32
			" x align %" PRIu32 "  buffers h2r %" PRIu32 " r2h %" PRIu32 "  notify-id %" PRIu32 "  %s",
			r->addr, r->size, r->role == AMPL_DT_RPMSG_HOST ? "host" : "remote", r->min_size, r->vring_num,
			r->vring_align, r->h2r_buffer_size, r->r2h_buffer_size, r->notify_id, r->node.path);
		dt_print_label(out, &r->node);
		fputc('\n', out);
	}
}

/* ---- `amplink dt gen`: the C of an instance for firmware (src/dt/dt_gen.h) ---- */

static int gen_rpmsg(struct dt_gen *g, const struct ampl_dt_ipc *ipc)
{
	const struct ampl_dt_rpmsg *dt = &g->b->rpmsgs[ipc->index];
	char id[ID_MAX];
	dt_gen_node_id(&dt->node, id);
	if (dt->addr > UINT32_MAX)
		return dt_gen_fail(g, dt->node.path, "memory-region", "0x%" PRIx64 " is above 4 GiB", dt->addr);
	dt_gen_node_common(g, &dt->node, id);
	dt_gen_def_id(g, id, "_P_memory_region_IDX_0_PH", &g->b->mems[dt->mem].node);
	dt_gen_def_s(g, id, "_P_role", dt->role == AMPL_DT_RPMSG_HOST ? "host" : "remote");
	dt_gen_def_u(g, id, "_P_role_ENUM_IDX", dt->role);
	dt_gen_def_u(g, id, "_P_zephyr_buffer_size", dt->buffer_size);
	dt_gen_def_u(g, id, "_P_amplink_h2r_buffer_size", dt->h2r_buffer_size);
	dt_gen_def_u(g, id, "_P_amplink_r2h_buffer_size", dt->r2h_buffer_size);
	dt_gen_def_u(g, id, "_P_amplink_vring_num", dt->vring_num);
	dt_gen_def_u(g, id, "_P_amplink_vring_align", dt->vring_align);
	dt_gen_def_u(g, id, "_P_amplink_notify_id", dt->notify_id);
	dt_gen_def_u(g, id, "_DEVICE_ADDRESS", dt->addr); /* the SoC's: the resource table's addresses */
	fprintf(g->h, "extern const struct ampl_dt_rpmsg %s_NODE;\nextern struct ampl_device %s_DEVICE;\n", id, id);
	FILE *f = g->c;
	fprintf(f, "\n/* %s */\nconst struct ampl_dt_rpmsg %s_NODE = {\n", dt->node.path, id);
	dt_gen_c_node(f, &dt->node);
	fprintf(f, "\t.mem = %u, .addr = ", dt->mem);
	dt_gen_u64(f, dt->addr);
	fprintf(f, ", .size = ");
	dt_gen_u64(f, dt->size);
	fprintf(f, ",\n\t.consumer = %u, .tx_mbox = %u, .rx_mbox = %u,\n", dt->consumer, dt->tx_mbox, dt->rx_mbox);
	fprintf(f, "\t.role = (enum ampl_dt_rpmsg_role)%u, .buffer_size = %u, .h2r_buffer_size = %u, "
		".r2h_buffer_size = %u,\n\t.vring_num = %u, .vring_align = %u, .notify_id = %u, .min_size = ",
		(unsigned)dt->role, dt->buffer_size, dt->h2r_buffer_size, dt->r2h_buffer_size, dt->vring_num,
		dt->vring_align, dt->notify_id);
	dt_gen_u64(f, dt->min_size);
	fprintf(f, ",\n};\n");
	dt_gen_c_ipc_head(g, &dt->node, id, dt->consumer);
	fprintf(f, "static const struct ipc_rpmsg_config %s_CONFIG = AMPL_BOARD_RPMSG_CONFIG_INIT(\n"
		"\t%s_P_role_ENUM_IDX, DT_REG_ADDR(DT_PHANDLE(%s, memory_region)), "
		"DT_REG_SIZE(DT_PHANDLE(%s, memory_region)),\n\t%s_DEVICE_ADDRESS, %s_P_amplink_vring_num, "
		"%s_P_amplink_vring_align, %s_P_amplink_h2r_buffer_size,\n\t%s_P_amplink_r2h_buffer_size, "
		"%s_MBOXES);\n", id, id, id, id, id, id, id, id, id, id);
	dt_gen_c_ipc_device(g, &dt->node, id, "ipc_rpmsg", "ipc_rpmsg_backend");
	return 0;
}

static const char *const rpmsg_compatibles[] = { DT_RPMSG_COMPATIBLE, NULL };

/* After the reserved memory and the mailbox consumers, which an instance names. */
DT_BINDING(rpmsg) = {
	.gen = gen_rpmsg,
	.order = 80,
	.compatible = rpmsg_compatibles,
	.late = parse_rpmsg,
	.print = print_rpmsgs,
};
