/*
 * The loopback controller (mbox_loop.h) on the virtual SoC: its register model "loop" for the `amplink,mbox-loop`
 * nodes of the board's devicetree, and the agent's device over it (the driver of mbox_loop_drv.c). One side, owned
 * by the node's amplink,agent: its page holds every word, which only that agent's process writes.
 */
#include "mbox_loop.h"

#include "sim/image.h"
#include "sim/trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The side's words, in its page. */
struct loop_side {
	_Atomic uint32_t data[MBOX_LOOP_CHANS];
	_Atomic uint32_t pending;
	_Atomic uint32_t enable;
};
_Static_assert(sizeof(struct loop_side) <= SIM_PAGE, "the side's words fit its page");

static struct loop_side *side_of(const struct ampl_io_region *io)
{
	const struct sim_ctrl_port *pt = io->ctx;
	return sim_ctrl_side(pt->soc, pt->ctrl, pt->side);
}

/* Ring the owner's interrupt line when a pending channel is enabled. */
static void raise_line(const struct ampl_io_region *io, const struct loop_side *s)
{
	const struct sim_ctrl_port *pt = io->ctx;
	if (atomic_load(&s->pending) & atomic_load(&s->enable))
		sim_ring(pt->soc, sim_ctrl_cfg(pt)->owner[pt->side], SIM_LINE_IRQ);
}

static uint32_t loop_read32(const struct ampl_io_region *io, uint32_t off)
{
	const struct sim_ctrl_port *pt = io->ctx;
	if (!sim_access_ctrl(pt->soc, pt->ctrl, pt->side, off, false))
		return 0;
	struct loop_side *s = side_of(io);
	if (off < MBOX_LOOP_DATA(MBOX_LOOP_CHANS)) {
		unsigned n = off / 4u;
		uint32_t v = atomic_load(&s->data[n]);
		atomic_fetch_and(&s->pending, ~(1u << n));
		return v;
	}
	if (off == MBOX_LOOP_STATUS)
		return atomic_load(&s->pending);
	return off == MBOX_LOOP_ENABLE ? atomic_load(&s->enable) : 0u;
}

static void loop_write32(const struct ampl_io_region *io, uint32_t off, uint32_t val)
{
	const struct sim_ctrl_port *pt = io->ctx;
	if (!sim_access_ctrl(pt->soc, pt->ctrl, pt->side, off, true))
		return;
	SIM_TRACE(pt->soc, sim_ctrl_cfg(pt)->owner[pt->side], AMPL_EV_CTRL_WRITE, pt->ctrl, off);
	struct loop_side *s = side_of(io);
	if (off < MBOX_LOOP_DATA(MBOX_LOOP_CHANS)) {
		unsigned n = off / 4u ^ 1u;
		atomic_store(&s->data[n], val);
		atomic_fetch_or(&s->pending, 1u << n);
	} else if (off == MBOX_LOOP_ENABLE) {
		atomic_store(&s->enable, val & ((1u << MBOX_LOOP_CHANS) - 1u));
	} else {
		return;
	}
	raise_line(io, s);
}

static int loop_wait32(const struct ampl_io_region *io, uint32_t off, uint32_t mask, uint32_t expect,
		       uint32_t timeout_us)
{
	(void)timeout_us;
	return (loop_read32(io, off) & mask) == expect ? 0 : -ETIMEDOUT;
}

static const struct ampl_io_ops loop_ops = {
	.read32 = loop_read32,
	.write32 = loop_write32,
	.wait32 = loop_wait32,
};

/* The enabled `amplink,mbox-loop` nodes, each owned by the agent its amplink,agent names. */
static int loop_plan(const struct ampl_dt_board *board, const struct ampl_soc_profile *profile,
		     struct sim_ctrl_cfg *cfg, unsigned cap)
{
	unsigned n = 0;
	for (unsigned i = 0; i < board->num_mbox_ctrls; i++) {
		const struct ampl_dt_mbox_ctrl *e = &board->mbox_ctrls[i];
		if (strcmp(e->compatible, MBOX_LOOP_COMPATIBLE) || !e->okay)
			continue;
		if (n == cap)
			return sim_error(-EINVAL, "%s: more than %u enabled controllers (SIM_MAX_CTRLS)", e->node.path,
					 (unsigned)SIM_MAX_CTRLS);
		const struct ampl_soc_agent *a = ampl_soc_agent_by_name(profile, e->agent);
		if (!a)
			return sim_error(-EINVAL, "%s: amplink,agent: the %s profile has no agent '%s'", e->node.path,
					 profile->name, e->agent);
		cfg[n].owner[0] = ampl_soc_agent_index(profile, a);
		sim_ctrl_cfg_node(&cfg[n++], &e->node, "", e->addr, e->size, e->irq);
	}
	return (int)n;
}

/* The agent's device: the driver on the side's registers, its interrupt handler on the agent's line. */
static int loop_open(const struct sim_ctrl_dev_ctx *ctx, struct sim_ctrl_dev *d)
{
	struct mbox_loop *l = calloc(1, sizeof(*l));
	if (!l)
		return sim_error(-ENOMEM, "out of memory");
	l->regs = ctx->regs;
	int ret = mbox_loop_init(l, d->node);
	if (ret) {
		free(l);
		return ret;
	}
	d->mbox = &l->ctrl;
	d->isr = mbox_loop_isr;
	d->isr_arg = l;
	d->priv = l;
	return 0;
}

static void loop_close(struct sim_ctrl_dev *d)
{
	mbox_loop_remove(d->priv);
}

/* `amplink soc show`'s columns: not the data registers, whose read takes the word. */
static const struct sim_ctrl_reg loop_dump[] = { { "STATUS", MBOX_LOOP_STATUS }, { "ENABLE", MBOX_LOOP_ENABLE }, { NULL, 0 } };

SIM_CTRL_MODEL(mbox_loop) = {
	.name = "loop",
	.sides = 1,
	.reg_span = MBOX_LOOP_REG_SPAN,
	.ops = &loop_ops,
	.plan = loop_plan,
	.open = loop_open,
	.close = loop_close,
	.dump = loop_dump,
};
