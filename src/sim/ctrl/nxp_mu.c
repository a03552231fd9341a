/*
 * Register model of the NXP i.MX Messaging Unit v1, shared by every process attached to the SoC: the virtual SoC's
 * controller model "mu" (src/sim/ctrl.h) for the `nxp,imx-mu` nodes of the board's devicetree.
 *
 * One block has two sides, A (0) and B (1), each with TR0-3, RR0-3, SR and CR (include/amplink/drivers/nxp_mu.h).
 * State, per side s (p is the other side):
 *   RF_s[4]  receive full           GIP_s[4] general interrupt pending
 *   GIE_s, RIE_s, TIE_s [4 each]    Fn_s[3]  CR flag bits
 * plus data[s][n], the word side s last wrote to TRn (which side p reads in RRn). The rest is derived, as on the
 * silicon, so no side effect ever has to update two things together:
 *   TE_s = ~RF_p  (my TRn is empty once the peer read its RRn)      GIR_s = GIP_p  (my request is pending there)
 *   SR_s = GIP_s | RF_s | TE_s (bit-reversed nibbles) | Fn_p         CR_s = GIE_s | RIE_s | TIE_s | GIR_s | Fn_s
 *
 * Side effects (as side s):
 *   write TRn    data[s][n] = v, then RF_p |= n            (TE_s drops)
 *   read  RRn    returns data[p][n]; if RF_s has n: RF_s &= ~n  (TE_p rises)
 *   write SR     GIP bits are W1C; RF, TE, Fn, EP, FUP and reserved bits are read-only (ignored)
 *   write CR     GIE/RIE/TIE/Fn = v; GIR bits written 1 set GIP_p (0: no effect); MUR (side A only): both sides
 *                back to reset, the other bits of that write ignored; MUR reads 0; reserved bits ignored
 *   read  TRn    the last word written; RRn writes and reserved offsets are ignored
 * EP and FUP read 0: the model propagates every event at once.
 *
 * Atomicity across processes: all flags and enables of both sides are one packed 64-bit word (lock-free on every
 * host we build for; checked below), and every side effect on them is one compare-and-swap from a state to the
 * pure function of that state and the access. The CASes are therefore linearisable: every process sees one order
 * of register accesses, each applied whole, and a concurrent access can only make a CAS retry, never mix with it.
 * Data words: a TR write stores the word (sequentially consistent) before the CAS that sets RF; a reader that sees
 * RF set (SR read or the RR read's own load of the state) and loads the word after it sees that word or a later
 * one (a later one only if the sender overwrote a full register, which is the sender's protocol error on the
 * silicon as well). An RR read clears RF only by a CAS from the state it saw RF in, after loading the word.
 *
 * Interrupts: side s's line is (RF_s & RIE_s) | (TE_s & TIE_s) | (GIP_s & GIE_s). Each CAS computes, from its own
 * old and new state, which of these cause bits rose; if any did, it rings the doorbell of the agent that owns
 * side s. A rise is seen by exactly the one CAS that made it, so an interrupt is raised exactly once per enabled
 * flag that becomes set (or per enable that rises on a set flag), never for a flag that was already set.
 */
#include "sim/ctrl/nxp_mu.h"
#include "sim/image.h"
#include "sim/trace.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <amplink/drivers/nxp_mu.h>
#include <libfdt.h>

#if UINT64_MAX == ULONG_MAX
_Static_assert(ATOMIC_LONG_LOCK_FREE == 2, "the MU model needs lock-free 64-bit atomics");
#else
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "the MU model needs lock-free 64-bit atomics");
#endif

/*
 * One Messaging Unit's register state, both sides: the instance's state in the image. Every flag and enable of both
 * sides is one packed 64-bit atomic word, so every register side effect is a single compare-and-swap; the data words
 * are written before the CAS that raises their RF flag.
 */
struct sim_mu {
	_Alignas(64) _Atomic uint64_t state;
	_Atomic uint32_t data[2][4];   /* data[s][n]: TRn as side s wrote it = RRn of the other side */
	struct ampl_doorbell ev[2];    /* rung when side s's SR or CR changes (register waits) */
};
_Static_assert(sizeof(struct sim_mu) <= SIM_CTRL_STATE, "an MU's state fits its slot of the image");

/* Field offsets inside one side's 32 bits of the state word (internal order: bit n is flag n). */
enum { F_RF = 0, F_GIP = 4, F_GIE = 8, F_RIE = 12, F_TIE = 16, F_FN = 20 };
#define NIB 0xFu

static inline uint32_t fld(uint64_t st, unsigned s, unsigned f, uint32_t mask)
{
	return (uint32_t)(st >> (s * 32u + f)) & mask;
}

static inline uint64_t with(uint64_t st, unsigned s, unsigned f, uint32_t mask, uint32_t v)
{
	unsigned sh = s * 32u + f;
	return (st & ~((uint64_t)mask << sh)) | ((uint64_t)(v & mask) << sh);
}

/* Flag n <-> register bit base + (3 - n): reverse a nibble. */
static inline uint32_t rev4(uint32_t x)
{
	return ((x & 1u) << 3) | ((x & 2u) << 1) | ((x & 4u) >> 1) | ((x & 8u) >> 3);
}

static inline uint32_t te_of(uint64_t st, unsigned s)
{
	return ~fld(st, 1u - s, F_RF, NIB) & NIB;
}

static uint32_t sr_of(uint64_t st, unsigned s)
{
	return rev4(fld(st, s, F_GIP, NIB)) << 28 | rev4(fld(st, s, F_RF, NIB)) << 24 | rev4(te_of(st, s)) << 20 |
	       fld(st, 1u - s, F_FN, 7u);
}

static uint32_t cr_of(uint64_t st, unsigned s)
{
	return rev4(fld(st, s, F_GIE, NIB)) << 28 | rev4(fld(st, s, F_RIE, NIB)) << 24 |
	       rev4(fld(st, s, F_TIE, NIB)) << 20 | rev4(fld(st, 1u - s, F_GIP, NIB)) << 16 | fld(st, s, F_FN, 7u);
}

/* The interrupt causes of side s, one bit each: RF&RIE (0-3), TE&TIE (4-7), GIP&GIE (8-11). */
static uint32_t causes(uint64_t st, unsigned s)
{
	return (fld(st, s, F_RF, NIB) & fld(st, s, F_RIE, NIB)) | (te_of(st, s) & fld(st, s, F_TIE, NIB)) << 4 |
	       (fld(st, s, F_GIP, NIB) & fld(st, s, F_GIE, NIB)) << 8;
}

/* ---- transitions: pure functions of (state, side, access) ---- */

enum op { OP_TR, OP_RR, OP_SR, OP_CR };

static uint64_t apply(uint64_t st, unsigned s, enum op op, uint32_t v)
{
	unsigned p = 1u - s;
	switch (op) {
	case OP_TR: /* v = n */
		return with(st, p, F_RF, NIB, fld(st, p, F_RF, NIB) | 1u << v);
	case OP_RR:
		return with(st, s, F_RF, NIB, fld(st, s, F_RF, NIB) & ~(1u << v));
	case OP_SR: /* W1C of GIP */
		return with(st, s, F_GIP, NIB, fld(st, s, F_GIP, NIB) & ~rev4(v >> 28));
	case OP_CR:
		st = with(st, s, F_GIE, NIB, rev4(v >> 28));
		st = with(st, s, F_RIE, NIB, rev4(v >> 24));
		st = with(st, s, F_TIE, NIB, rev4(v >> 20));
		st = with(st, s, F_FN, 7u, v & NXP_MU_CR_Fn_MASK);
		return with(st, p, F_GIP, NIB, fld(st, p, F_GIP, NIB) | rev4(v >> 16));
	}
	return st;
}

static inline struct sim_ctrl_port *port_of(const struct ampl_io_region *io)
{
	return (struct sim_ctrl_port *)io->ctx;
}

static inline struct sim_mu *mu_at(const struct sim_ctrl_port *pt)
{
	return sim_ctrl_state(pt);
}

/* The agent index that owns side @s of @pt's unit. */
static inline unsigned owner_of(const struct sim_ctrl_port *pt, unsigned s)
{
	return sim_ctrl_cfg(pt)->owner[s];
}

/* After a successful CAS old -> new: raise the lines whose causes rose; wake register waiters of changed sides. */
static void notify(const struct sim_ctrl_port *pt, uint64_t old, uint64_t nw)
{
	struct ampl_soc *soc = pt->soc;
	struct sim_mu *mu = mu_at(pt);
	for (unsigned s = 0; s < 2; s++) {
		if (causes(nw, s) & ~causes(old, s))
			sim_ring(soc, owner_of(pt, s), SIM_LINE_IRQ);
		if (sr_of(nw, s) != sr_of(old, s) || cr_of(nw, s) != cr_of(old, s))
			ampl_doorbell_ring(&mu->ev[s]);
	}
}

static void transition(const struct sim_ctrl_port *pt, enum op op, uint32_t v)
{
	struct sim_mu *mu = mu_at(pt);
	uint64_t old = atomic_load(&mu->state), nw;
	do {
		nw = apply(old, pt->side, op, v);
		if (nw == old)
			return;
	} while (!atomic_compare_exchange_weak(&mu->state, &old, nw));
	notify(pt, old, nw);
}

/* MUR: both sides to reset. The words first, so no reader that sees the reset state reads an old word. */
static void reset(const struct sim_ctrl_port *pt)
{
	struct sim_mu *mu = mu_at(pt);
	for (unsigned s = 0; s < 2; s++)
		for (unsigned n = 0; n < NXP_MU_NUM_REGS; n++)
			atomic_store(&mu->data[s][n], 0);
	uint64_t old = atomic_exchange(&mu->state, 0);
	if (old)
		notify(pt, old, 0);
}

static uint32_t read_rr(const struct sim_ctrl_port *pt, unsigned n)
{
	struct sim_mu *mu = mu_at(pt);
	unsigned s = pt->side;
	uint64_t old = atomic_load(&mu->state);
	for (;;) {
		uint32_t w = atomic_load(&mu->data[1u - s][n]); /* after the state load that saw (or not) RF */
		if (!(fld(old, s, F_RF, NIB) & (1u << n)))
			return w; /* empty: the last word again, no side effect */
		uint64_t nw = apply(old, s, OP_RR, n);
		if (atomic_compare_exchange_weak(&mu->state, &old, nw)) {
			notify(pt, old, nw);
			return w;
		}
	}
}

static uint32_t mu_read32(const struct ampl_io_region *io, uint32_t off)
{
	const struct sim_ctrl_port *pt = port_of(io);
	struct sim_mu *mu = mu_at(pt);
	if (off < NXP_MU_RR(0))
		return atomic_load(&mu->data[pt->side][off / 4u]);
	if (off < NXP_MU_SR)
		return read_rr(pt, (off - NXP_MU_RR(0)) / 4u);
	if (off == NXP_MU_SR)
		return sr_of(atomic_load(&mu->state), pt->side);
	if (off == NXP_MU_CR)
		return cr_of(atomic_load(&mu->state), pt->side);
	return 0; /* reserved */
}

static void mu_write32(const struct ampl_io_region *io, uint32_t off, uint32_t val)
{
	const struct sim_ctrl_port *pt = port_of(io);
	struct sim_mu *mu = mu_at(pt);
	SIM_TRACE(pt->soc, owner_of(pt, pt->side), AMPL_EV_CTRL_WRITE, pt->ctrl, off);
	if (off < NXP_MU_RR(0)) {
		unsigned n = off / 4u;
		atomic_store(&mu->data[pt->side][n], val); /* before the CAS that sets the peer's RF */
		transition(pt, OP_TR, n);
	} else if (off == NXP_MU_SR) {
		transition(pt, OP_SR, val);
	} else if (off == NXP_MU_CR) {
		if (pt->side == 0 && (val & NXP_MU_CR_MUR))
			reset(pt);
		else
			transition(pt, OP_CR, val);
	}
	/* RRn and reserved offsets ignore writes */
}

static int mu_wait32(const struct ampl_io_region *io, uint32_t off, uint32_t mask, uint32_t expect,
		     uint32_t timeout_us)
{
	const struct sim_ctrl_port *pt = port_of(io);
	struct ampl_doorbell *db = &mu_at(pt)->ev[pt->side];
	enum ampl_wait_mode mode = pt->soc->ports[owner_of(pt, pt->side)].mode;
	/* Waiting on RRn would consume it: only the side-effect-free registers can be waited on. */
	if (off >= NXP_MU_RR(0) && off < NXP_MU_SR)
		return (mu_read32(io, off) & mask) == expect ? 0 : -ETIMEDOUT;
	uint64_t deadline = timeout_us == UINT32_MAX ? 0 : ampl_now_ns() + (uint64_t)timeout_us * 1000u;
	for (;;) {
		uint32_t seen = ampl_doorbell_seq(db);
		if ((mu_read32(io, off) & mask) == expect)
			return 0;
		if (ampl_doorbell_wait(db, seen, mode, deadline) == -ETIMEDOUT)
			return (mu_read32(io, off) & mask) == expect ? 0 : -ETIMEDOUT;
	}
}

static const struct ampl_io_ops mu_ops = {
	.read32 = mu_read32,
	.write32 = mu_write32,
	.wait32 = mu_wait32,
};

/* ---- the model: instances from the devicetree ---- */

/* The imx profile's board without a devicetree: one Messaging Unit as the seed describes it (ipm0 at 0x40028000). */
static int mu_default_tree(const struct ampl_soc_profile *profile, void *buf, int cap)
{
	static const char path[] = "/ipm@40028000";
	if (profile != &ampl_soc_imx)
		return 0;
	int r = fdt_create_empty_tree(buf, cap);
	r = r ? r : fdt_setprop_u32(buf, 0, "#address-cells", 1);
	r = r ? r : fdt_setprop_u32(buf, 0, "#size-cells", 1);
	int n = r ? r : fdt_add_subnode(buf, 0, "ipm@40028000");
	if (n < 0)
		return n;
	r = fdt_setprop_string(buf, n, "compatible", "nxp,imx-mu");
	r = r ? r : fdt_setprop_u32(buf, n, "reg", 0x40028000u);
	r = r ? r : fdt_appendprop_u32(buf, n, "reg", 0x4000u);
	r = r ? r : fdt_setprop_u32(buf, n, "interrupts", 33u);
	r = r ? r : fdt_appendprop_u32(buf, n, "interrupts", 0u);
	r = r ? r : fdt_setprop_u32(buf, n, "#mbox-cells", 2u);
	r = r ? r : fdt_setprop_string(buf, n, "status", "okay");
	int a = r ? r : fdt_add_subnode(buf, 0, "aliases");
	r = a < 0 ? a : fdt_setprop_string(buf, a, "ipm0", path);
	int y = r ? r : fdt_add_subnode(buf, 0, "__symbols__");
	r = y < 0 ? y : fdt_setprop_string(buf, y, "ipm0", path);
	r = r ? r : fdt_pack(buf);
	return r ? r : 1;
}

/* The enabled `nxp,imx-mu` nodes; side A belongs to the profile's first application processor, fsl,mu-side-b
 * swaps the sides. */
static int mu_plan(const struct ampl_dt_board *board, const struct ampl_soc_profile *profile,
		   struct sim_ctrl_cfg *cfg, unsigned cap)
{
	unsigned n = 0;
	for (unsigned i = 0; i < board->num_mus; i++) {
		const struct ampl_dt_mu *m = &board->mus[i];
		if (!m->okay)
			continue;
		if (n == cap)
			return sim_error(-EINVAL, "%s: more than %u enabled controllers (SIM_MAX_CTRLS)", m->node.path,
					 (unsigned)SIM_MAX_CTRLS);
		for (unsigned j = 0; j < n; j++)
			if (cfg[j].addr == m->addr)
				return sim_error(-EINVAL, "%s: a second Messaging Unit at 0x%llx (%s)", m->node.path,
						 (unsigned long long)m->addr, cfg[j].path);
		if (sim_ctrl_owners(profile, m->side_b, cfg[n].owner))
			return sim_error(-EINVAL, "%s: the %s profile has no two processors for a Messaging Unit",
					 m->node.path, profile->name);
		snprintf(cfg[n].name, sizeof(cfg[n].name), "%s", m->node.name);
		snprintf(cfg[n].alias, sizeof(cfg[n].alias), "%s", m->alias);
		snprintf(cfg[n].label, sizeof(cfg[n].label), "%s", m->node.label);
		snprintf(cfg[n].path, sizeof(cfg[n].path), "%s", m->node.path);
		cfg[n].addr = m->addr;
		cfg[n].size = m->size;
		cfg[n].irq = m->irq;
		n++;
	}
	return (int)n;
}

SIM_CTRL_MODEL(nxp_mu) = {
	.name = "mu",
	.sides = 2,
	.state_size = sizeof(struct sim_mu),
	.reg_span = NXP_MU_REG_SPAN,
	.ops = &mu_ops,
	.plan = mu_plan,
	.default_tree = mu_default_tree,
};

/* ---- public accessors (<amplink/host/soc.h>): the MU instances among the SoC's controllers ---- */

const struct sim_ctrl_cfg *sim_mu_cfg(const struct ampl_soc *soc, unsigned mu)
{
	int i = sim_ctrl_nth(soc, &sim_ctrl_nxp_mu, mu);
	return i < 0 ? NULL : &soc->ctrl_cfg[i];
}

unsigned ampl_soc_num_mus(const struct ampl_soc *soc)
{
	return sim_ctrl_count(soc, &sim_ctrl_nxp_mu);
}

int ampl_soc_mu_info(const struct ampl_soc *soc, unsigned mu, struct ampl_soc_mu *info)
{
	const struct sim_ctrl_cfg *c = soc ? sim_mu_cfg(soc, mu) : NULL;
	if (!c || !info)
		return -EINVAL;
	info->name = c->name;
	info->alias = c->alias;
	info->label = c->label;
	info->path = c->path;
	info->addr = c->addr;
	info->irq = c->irq;
	info->side[0] = &soc->profile->agents[c->owner[0]];
	info->side[1] = &soc->profile->agents[c->owner[1]];
	return 0;
}

int ampl_soc_mu_regs(struct ampl_soc *soc, unsigned mu, unsigned side, struct ampl_io_region *regs)
{
	int i = soc ? sim_ctrl_nth(soc, &sim_ctrl_nxp_mu, mu) : -1;
	return i < 0 ? -EINVAL : sim_ctrl_regs(soc, (unsigned)i, side, regs);
}
