/*
 * Devicetree binding: Xilinx IPI controllers (xlnx,zynqmp-ipi-mailbox, xlnx,versal-ipi-mailbox) and their
 * child channels, parsed against the SoC profile; ampl_dt_find_chan() and the "ipi" lines of ampl_dt_print().
 */
#include "dt/dt_internal.h"

#include <libfdt.h>

#include <inttypes.h>
#include <string.h>

/* Names of the ZynqMP child regions, in the order of struct ampl_dt_ipi_chan's addresses. */
static const char *const zynqmp_region_names[4] = {
	"local_request_region",
	"local_response_region",
	"remote_request_region",
	"remote_response_region",
};

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
		lo = p->agents[i].id < lo ? p->agents[i].id : lo;
		hi = p->agents[i].id > hi ? p->agents[i].id : hi;
	}
	if (p->num_agents > 0 && hi - lo + 1 == p->num_agents) {
		snprintf(buf, cap, "%u-%u", lo, hi);
		return;
	}
	for (unsigned i = 0; i < p->num_agents && len < cap; i++) {
		int n = snprintf(buf + len, cap - len, "%s%u", i ? ", " : "", p->agents[i].id);

		len += n > 0 ? (size_t)n : 0;
	}
}

/** Read xlnx,ipi-id of @off and map it to an agent of @p. */
static int read_agent(struct dt_ctx *c, int off, const char *path, const struct ampl_soc_profile *p, uint32_t *id,
		      const struct ampl_soc_agent **agent)
{
	char ids[64];
	int ret = dt_read_u32(c, off, path, "xlnx,ipi-id", id);

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

static uint64_t agent_buf_base(const struct ampl_soc_profile *p, const struct ampl_soc_agent *a)
{
	return p->buf_base + (uint64_t)a->ipi->buf_slot * AMPL_IPI_SLOT_STRIDE;
}

/**
 * check_ctrl_msg_regs() - Versal-style "ctrl" [+ "msg"] regions of agent @a: names, buffers, addresses.
 * Return: 0 and *@has_msg, or -EINVAL.
 */
static int check_ctrl_msg_regs(struct dt_ctx *c, const char *path, const struct ampl_soc_profile *p,
			       const struct ampl_soc_agent *a, const struct ampl_dt_region *regs, unsigned n,
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
	ctrl = dt_find_region(regs, n, "ctrl");
	msg = dt_find_region(regs, n, "msg");
	if (ctrl < 0)
		return dt_fail(c, path, "reg-names", "\"ctrl\" missing (required)");
	if (regs[ctrl].addr != a->ipi->reg_base) {
		if (p->dt_addresses_strict)
			return dt_fail(c, path, "reg",
				       "ctrl is at 0x%" PRIx64 ", expected 0x%" PRIx64 " (%s(%u)'s registers)",
				       regs[ctrl].addr, (uint64_t)a->ipi->reg_base, a->name, a->id);
		dt_warn(c, path, "reg",
			"ctrl is at 0x%" PRIx64 ", but %s(%u)'s registers are at 0x%" PRIx64
			" on %s; using the profile's address",
			regs[ctrl].addr, a->name, a->id, (uint64_t)a->ipi->reg_base, p->name);
	}
	if (msg < 0)
		return 0;
	if (a->ipi->buf_slot < 0)
		return dt_fail(c, path, "reg-names", "\"msg\" given, but %s agent %s(%u) has no message buffers",
			       p->name, a->name, a->id);
	if (regs[msg].addr != agent_buf_base(p, a)) {
		if (p->dt_addresses_strict)
			return dt_fail(c, path, "reg",
				       "msg is at 0x%" PRIx64 ", expected 0x%" PRIx64 " (%s(%u)'s buffers)",
				       regs[msg].addr, agent_buf_base(p, a), a->name, a->id);
		dt_warn(c, path, "reg",
			"msg is at 0x%" PRIx64 ", but %s(%u)'s buffers are at 0x%" PRIx64
			" on %s; using the profile's address",
			regs[msg].addr, a->name, a->id, agent_buf_base(p, a), p->name);
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

	dt_path_of(c, off, path, sizeof(path));
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
	ret = dt_node_ident(c, off, &ctrl->node);
	if (!ret)
		ret = read_agent(c, off, path, p, &ctrl->local_id, &ctrl->local);
	if (ret)
		return ret;
	for (unsigned i = 0; i < b->num_ctrls; i++)
		if (b->ctrls[i].local_id == ctrl->local_id)
			return dt_fail(c, path, "xlnx,ipi-id", "agent %s(%" PRIu32 ") already has a controller at %s",
				       ctrl->local->name, ctrl->local_id, b->ctrls[i].node.path);
	ret = dt_read_irq(c, off, path, &ctrl->irq);
	if (!ret)
		ret = dt_read_regs(c, off, path, p != &ampl_soc_zynqmp, ctrl->regs, &ctrl->num_regs);
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
				const struct ampl_soc_agent *local, const struct ampl_dt_ipi_chan *chan,
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
		idx[k] = dt_find_region(chan->regs, chan->num_regs, zynqmp_region_names[k]);
		if (idx[k] < 0)
			return dt_fail(c, path, "reg-names", "\"%s\" missing (all four of %s, %s, %s, %s are required)",
				       zynqmp_region_names[k], zynqmp_region_names[0], zynqmp_region_names[1],
				       zynqmp_region_names[2], zynqmp_region_names[3]);
	}
	if (local->ipi->buf_slot < 0 || chan->remote->ipi->buf_slot < 0) {
		const struct ampl_soc_agent *a = local->ipi->buf_slot < 0 ? local : chan->remote;

		return dt_fail(c, path, "reg", "buffer regions given, but %s agent %s(%u) has no message buffers",
			       p->name, a->name, a->id);
	}
	for (unsigned k = 0; k < 4; k++) {
		const struct ampl_dt_region *r = &chan->regs[idx[k]];

		if (r->size < AMPL_IPI_BUF_SIZE)
			return dt_fail(c, path, "reg", "%s is 0x%" PRIx64 " bytes, smaller than one %u-byte buffer",
				       r->name, r->size, AMPL_IPI_BUF_SIZE);
	}
	for (unsigned k = 0; k < 4; k++) {
		const struct ampl_dt_region *r = &chan->regs[idx[k]];
		const struct ampl_soc_agent *src = k < 2 ? local : chan->remote, *dst = k < 2 ? chan->remote : local;

		if (r->addr == expect[k])
			continue;
		if (p->dt_addresses_strict)
			return dt_fail(c, path, "reg",
				       "%s is at 0x%" PRIx64 ", expected 0x%" PRIx64 " (%s: %s %s(%u) -> %s(%u))",
				       r->name, r->addr, expect[k], p->name,
				       k % 2 ? "response to the request" : "request", src->name, src->id, dst->name,
				       dst->id);
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

	dt_path_of(c, off, path, sizeof(path));
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
	ret = dt_node_ident(c, off, &chan->node);
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
	ret = dt_read_u32(c, off, path, "#mbox-cells", &cells);
	if (ret < 0)
		return ret;
	if (ret > 0) {
		if (cells != 1)
			return dt_fail(c, path, "#mbox-cells", "%" PRIu32 ", must be 1 (cell 0 = TX, 1 = RX)", cells);
		chan->mbox_cells = 1;
	}

	ret = dt_read_regs(c, off, path, true, chan->regs, &chan->num_regs);
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
		bool child_msg, parent_msg = dt_find_region(ctrl->regs, ctrl->num_regs, "msg") >= 0;

		ret = check_ctrl_msg_regs(c, path, p, chan->remote, chan->regs, chan->num_regs, &child_msg);
		if (ret)
			return ret;
		chan->buffered = parent_msg && child_msg && ctrl->local->ipi->buf_slot >= 0 && chan->remote->ipi->buf_slot >= 0;
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

static const struct ampl_soc_profile *const ipi_profiles[] = { &ampl_soc_zynqmp, &ampl_soc_versal };

/* A node with one of the compatibles below: a controller or a channel of each profile whose compatible it has. */
static int parse_ipi_node(struct dt_ctx *c, int off)
{
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(ipi_profiles); i++) {
		const struct ampl_soc_profile *p = ipi_profiles[i];
		int ret = 0;

		if (dt_is_compatible(c->fdt, off, p->ipi_compatible))
			ret = parse_ipi_ctrl(c, off, p);
		else if (dt_is_compatible(c->fdt, off, p->dest_compatible))
			ret = parse_ipi_chan(c, off, p);
		if (ret)
			return ret;
	}
	return 0;
}

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

static void print_ipis(const struct ampl_dt_board *board, FILE *out)
{
	for (unsigned i = 0; i < board->num_ctrls; i++) {
		const struct ampl_dt_ipi_ctrl *ct = &board->ctrls[i];

		fprintf(out, "ipi   %-9s (id %2" PRIu32 ")  ", ct->local->name, ct->local_id);
		dt_print_irq(out, ct->irq);
		fprintf(out, "  %s", ct->node.path);
		dt_print_label(out, &ct->node);
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
			dt_print_label(out, &ch->node);
			fputc('\n', out);
		}
	}
}

static const char *const ipi_compatibles[] = {
	"xlnx,zynqmp-ipi-mailbox", "xlnx,zynqmp-ipi-dest-mailbox", "xlnx,versal-ipi-mailbox",
	"xlnx,versal-ipi-dest-mailbox", NULL,
};

DT_BINDING(ipi) = {
	.order = 10,
	.compatible = ipi_compatibles,
	.node = parse_ipi_node,
	.print = print_ipis,
};
