/*
 * Register model of the NXP i.MX Messaging Unit v1, shared by every process attached to the SoC: the virtual SoC's
 * controller model "mu" (src/sim/ctrl.h) for the `nxp,imx-mu` nodes of the board's devicetree.
 *
 * One block has two sides, A (0) and B (1), each with TR0-3, RR0-3, SR and CR (include/amplink/drivers/nxp_mu.h).
 * Every word of the state has one writer: side s's page (sim_ctrl_side(), writable only in the process attached as
 * s's agent: src/sim/access.c) holds what s's register accesses change, and every flag is computed from both pages,
 * so no side can send "from" the other or clear the other's flags. Side s's words (p is the other side):
 *   tr[n]   its TRn: the word, a count of its writes, the reset epoch it was written in
 *   cr      its CR as written (GIE, RIE, TIE, Fn), its GIR request counters (4 bits each), the epoch
 *   rr[n]   the count of p's TRn writes it has read (its RRn reads)
 *   gip     p's request counters it has acknowledged (W1C of its GIP bits), 4 bits each
 *   mur     side A only: its resets (MUR) so far, the epoch; a word of an older epoch reads as reset
 * Flags, as the silicon defines them:
 *   RF_s[n]  = count(tr_p[n]) != rr_s[n]         TE_s[n] = count(tr_s[n]) == rr_p[n]
 *   GIP_s[n] = req(cr_p, n) != ack(gip_s, n)     GIR_s[n] = GIP_p[n]
 *   SR_s = GIP_s | RF_s | TE_s (bit-reversed nibbles) | Fn_p       CR_s = GIE_s | RIE_s | TIE_s | GIR_s | Fn_s
 *
 * Side effects (as side s), each one compare-and-swap of one word of s's page:
 *   write TRn    tr_s[n] = (v, count + 1): a word written over an unread one replaces it, RF_p stays set
 *   read  RRn    returns p's TRn word; if RF_s has n: rr_s[n] = count(tr_p[n]) (RF_s drops, TE_p rises)
 *   write SR     GIP bits are W1C: ack(gip_s, n) = req(cr_p, n) for each pending n written 1; RF, TE, Fn, EP, FUP
 *                and reserved bits are read-only (ignored)
 *   write CR     GIE/RIE/TIE/Fn = v; GIR bits written 1 bump req(cr_s, n) unless that request is still pending
 *                (then nothing: as on the silicon); MUR (side A only): both sides back to reset, the other bits of
 *                that write ignored; MUR reads 0; reserved bits ignored
 *   read  TRn    the last word written; RRn writes and reserved offsets are ignored
 * EP and FUP read 0: the model propagates every event at once. A count never becomes equal to the peer's read
 * count by a write (it skips that value), so a register written 2^16 times unread stays full.
 *
 * MUR: side A bumps its epoch (every enable, Fn and word of both sides reads 0 from then on), then sets its own
 * counters to B's (rr_A = B's write counts, ack_A = B's requests, A's write counts = rr_B, A's requests = ack_B):
 * every RF and GIP clear, every TE set. A's other words follow one by one, so an access B makes during a reset
 * lands before or after it word by word; B's next TR or CR write is of the new epoch.
 *
 * Atomicity: one access changes one word of its side's page by compare-and-swap from the value its new value was
 * computed from, so accesses of one side are linearisable among themselves, and a flag, a function of one word of
 * each side, changes only by the side whose word changed. An RR read loads the peer's TRn word (word and count in
 * one load) and then sets its read count to that count by a CAS from the count it saw before that load: a read
 * that lost to another read of its side retries, so a read count never goes back.
 *
 * Interrupts: side s's line is (RF_s & RIE_s) | (TE_s & TIE_s) | (GIP_s & GIE_s). After its CAS, an access loads
 * both pages and compares the causes with its word before and after (notify()); the doorbell of the agent owning
 * a side whose cause rose is rung, once per access. A flag and its enable that rise at the same moment in two
 * processes (both sequentially consistent: change, then load the other's word) are seen together by at least one
 * of them, so an enabled flag that becomes set always interrupts; by both at most, which rings twice.
 */
#include "sim/ctrl.h"
#include "sim/image.h"
#include "sim/trace.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amplink/drivers/nxp_mu.h>
#include <amplink/host/dt.h>
#include <libfdt.h>

#if UINT64_MAX == ULONG_MAX
_Static_assert(ATOMIC_LONG_LOCK_FREE == 2, "the MU model needs lock-free 64-bit atomics");
#else
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "the MU model needs lock-free 64-bit atomics");
#endif

/* One side's words, in its page: by W_* index. */
enum { W_TR = 0, W_CR = 4, W_RR = 5, W_GIP = 9, W_MUR = 10, W_NUM };
struct mu_side {
	_Atomic uint64_t w[W_NUM];
	/* The register-wait doorbell of each side s (rung when its SR or CR changes): this side's ring word of it, and
	 * the waiters of this side's own doorbell asleep in the kernel. A waiter sleeps on every ringer's word. */
	_Atomic uint32_t ev_ring[2];
	_Atomic uint32_t ev_sleepers;
};
_Static_assert(sizeof(struct mu_side) <= SIM_PAGE, "an MU side's words fit its page");

/* The unit's words in the supervisor's slot (read-only in attached processes): the supervisor handle's ring word
 * of each side's register-wait doorbell (`amplink` tools access both sides' registers as no agent). */
struct sim_mu {
	_Atomic uint32_t ev_ring[2];
};
_Static_assert(sizeof(struct sim_mu) <= SIM_CTRL_STATE, "an MU's supervisor words fit its slot of the image");

#define NIB 0xFu
#define CR_STORED 0xFFF00007u /* GIE, RIE, TIE, Fn: what a CR write stores */

/* Fields of tr[n]: word (0-31), count (32-47), epoch (48-63); of cr: CR_STORED bits, requests (32-47), epoch. */
static inline uint32_t count_of(uint64_t w)
{
	return (uint32_t)(w >> 32) & 0xFFFFu;
}

static inline uint32_t epoch_of(uint64_t w)
{
	return (uint32_t)(w >> 48);
}

static inline uint64_t pack(uint32_t low, uint32_t mid, uint32_t epoch)
{
	return (uint64_t)low | (uint64_t)(mid & 0xFFFFu) << 32 | (uint64_t)(epoch & 0xFFFFu) << 48;
}

/* Counter n (4 bits) of a packed set of four. */
static inline uint32_t ctr(uint32_t set, unsigned n)
{
	return set >> (4u * n) & NIB;
}

static inline uint32_t with_ctr(uint32_t set, unsigned n, uint32_t v)
{
	return (set & ~(NIB << (4u * n))) | (v & NIB) << (4u * n);
}

/* Both sides' words as one access loaded them. */
struct view {
	uint64_t w[2][W_NUM];
};

static inline uint32_t epoch_now(const struct view *v)
{
	return (uint32_t)v->w[0][W_MUR] & 0xFFFFu;
}

/* Flag n <-> register bit base + (3 - n): reverse a nibble. */
static inline uint32_t rev4(uint32_t x)
{
	return ((x & 1u) << 3) | ((x & 2u) << 1) | ((x & 4u) >> 1) | ((x & 8u) >> 3);
}

/* A TR word or CR value of side s as it reads: 0 if written before the last reset. */
static inline uint32_t current(const struct view *v, unsigned s, unsigned k)
{
	uint64_t w = v->w[s][k];
	return epoch_of(w) == epoch_now(v) ? (uint32_t)w : 0u;
}

static uint32_t rf_of(const struct view *v, unsigned s)
{
	uint32_t f = 0;
	for (unsigned n = 0; n < NXP_MU_NUM_REGS; n++)
		f |= (uint32_t)(count_of(v->w[1u - s][W_TR + n]) != (uint32_t)v->w[s][W_RR + n]) << n;
	return f;
}

static inline uint32_t te_of(const struct view *v, unsigned s)
{
	return ~rf_of(v, 1u - s) & NIB;
}

/* GIP_s: the requests of p that s has not acknowledged. */
static uint32_t gip_of(const struct view *v, unsigned s)
{
	uint32_t req = count_of(v->w[1u - s][W_CR]), ack = (uint32_t)v->w[s][W_GIP], f = 0;
	for (unsigned n = 0; n < NXP_MU_NUM_REGS; n++)
		f |= (uint32_t)(ctr(req, n) != ctr(ack, n)) << n;
	return f;
}

static uint32_t sr_of(const struct view *v, unsigned s)
{
	return rev4(gip_of(v, s)) << 28 | rev4(rf_of(v, s)) << 24 | rev4(te_of(v, s)) << 20 |
	       (current(v, 1u - s, W_CR) & NXP_MU_CR_Fn_MASK);
}

static uint32_t cr_of(const struct view *v, unsigned s)
{
	return (current(v, s, W_CR) & CR_STORED) | rev4(gip_of(v, 1u - s)) << 16;
}

/* The interrupt causes of side s, one bit each: RF&RIE (0-3), TE&TIE (4-7), GIP&GIE (8-11). */
static uint32_t causes(const struct view *v, unsigned s)
{
	uint32_t cr = current(v, s, W_CR);
	return (rf_of(v, s) & rev4(cr >> 24 & NIB)) | (te_of(v, s) & rev4(cr >> 20 & NIB)) << 4 |
	       (gip_of(v, s) & rev4(cr >> 28)) << 8;
}

/* ---- accesses: the new value of one word of the accessing side, a pure function of (view, access) ---- */

enum op {
	OP_TR,  /* write TRn (n, v) */
	OP_RR,  /* read RRn (n) */
	OP_SR,  /* write SR (v): W1C of GIP */
	OP_CR,  /* write CR (v) without MUR */
	OP_MUR, /* reset, in its steps: the epoch, then n = 0..3 of tr and rr, then gip and cr */
	OP_RESET_TR, OP_RESET_RR, OP_RESET_GIP, OP_RESET_CR,
};

static unsigned word_of(enum op op, unsigned n)
{
	switch (op) {
	case OP_TR:
	case OP_RESET_TR:
		return W_TR + n;
	case OP_RR:
	case OP_RESET_RR:
		return W_RR + n;
	case OP_SR:
	case OP_RESET_GIP:
		return W_GIP;
	case OP_CR:
	case OP_RESET_CR:
		return W_CR;
	case OP_MUR:
		break;
	}
	return W_MUR;
}

static uint64_t next(const struct view *v, unsigned s, enum op op, unsigned n, uint32_t val)
{
	unsigned p = 1u - s;
	uint64_t old = v->w[s][word_of(op, n)];
	uint32_t peer_req = count_of(v->w[p][W_CR]), peer_ack = (uint32_t)v->w[p][W_GIP];
	switch (op) {
	case OP_TR: {
		uint32_t c = (count_of(old) + 1u) & 0xFFFFu;
		if (c == (uint32_t)v->w[p][W_RR + n]) /* full stays full: never land on the peer's read count */
			c = (c + 1u) & 0xFFFFu;
		return pack(val, c, epoch_now(v));
	}
	case OP_RR:
	case OP_RESET_RR:
		return count_of(v->w[p][W_TR + n]);
	case OP_SR: {
		uint32_t ack = (uint32_t)old, clr = rev4(val >> 28) & gip_of(v, s);
		for (unsigned i = 0; i < NXP_MU_NUM_REGS; i++)
			if (clr & (1u << i))
				ack = with_ctr(ack, i, ctr(peer_req, i));
		return ack;
	}
	case OP_CR: {
		uint32_t req = count_of(old), ring = rev4(val >> 16 & NIB) & ~gip_of(v, p);
		for (unsigned i = 0; i < NXP_MU_NUM_REGS; i++)
			if (ring & (1u << i))
				req = with_ctr(req, i, ctr(req, i) + 1u);
		return pack(val & CR_STORED, req, epoch_now(v));
	}
	case OP_MUR:
		return (old + 1u) & 0xFFFFu;
	case OP_RESET_TR: /* the word stays of the old epoch: it reads 0 */
		return pack((uint32_t)old, (uint32_t)v->w[p][W_RR + n], epoch_of(old));
	case OP_RESET_GIP:
		return peer_req;
	case OP_RESET_CR:
		return pack(0, peer_ack, epoch_now(v));
	}
	return old;
}

static inline struct sim_ctrl_port *port_of(const struct ampl_io_region *io)
{
	return (struct sim_ctrl_port *)io->ctx;
}

static inline struct sim_mu *mu_at(const struct sim_ctrl_port *pt)
{
	return sim_ctrl_state(pt);
}

static inline struct mu_side *side_at(const struct sim_ctrl_port *pt, unsigned s)
{
	return sim_ctrl_side(pt->soc, pt->ctrl, s);
}

/* The agent index that owns side @s of @pt's unit. */
static inline unsigned owner_of(const struct sim_ctrl_port *pt, unsigned s)
{
	return sim_ctrl_cfg(pt)->owner[s];
}

/* Both pages into @v: @pt's side first, so that a word of the peer is never older than one of its own. */
static void load(const struct sim_ctrl_port *pt, struct view *v)
{
	for (unsigned i = 0; i < 2; i++) {
		unsigned s = i ? 1u - pt->side : pt->side;
		struct mu_side *m = side_at(pt, s);
		for (unsigned k = 0; k < W_NUM; k++)
			v->w[s][k] = atomic_load(&m->w[k]);
	}
}

/*
 * After a CAS of word @k of @pt's side from @old to @nw: load both pages, and compare them with that word at @old
 * and at @nw; raise the lines whose causes rose; wake register waiters of the sides whose SR or CR changed. Every
 * doorbell the model rings is rung here.
 */
static void notify(const struct sim_ctrl_port *pt, unsigned k, uint64_t old, uint64_t nw)
{
	struct ampl_soc *soc = pt->soc;
	/* The access passed sim_access_ctrl(): this handle is attached as the side's agent (its page is writable
	 * here), or it is the supervisor's. */
	bool supervisor = atomic_load_explicit(&soc->ring_as, memory_order_relaxed) < 0;
	_Atomic uint32_t *ev_ring = supervisor ? mu_at(pt)->ev_ring : side_at(pt, pt->side)->ev_ring;
	struct view before, after;
	load(pt, &after);
	after.w[pt->side][k] = nw;
	before = after;
	before.w[pt->side][k] = old;
	for (unsigned s = 0; s < 2; s++) {
		if (causes(&after, s) & ~causes(&before, s))
			sim_ring(soc, owner_of(pt, s), SIM_LINE_IRQ);
		if (sr_of(&after, s) != sr_of(&before, s) || cr_of(&after, s) != cr_of(&before, s))
			ampl_doorbell_ring_word(&ev_ring[s], &side_at(pt, s)->ev_sleepers);
	}
}

/* Apply access @op of @pt's side: one CAS of one word of its page. Return: the view the new value came from. */
static struct view transition(const struct sim_ctrl_port *pt, enum op op, unsigned n, uint32_t val)
{
	unsigned k = word_of(op, n);
	_Atomic uint64_t *w = &side_at(pt, pt->side)->w[k];
	struct view v;
	for (;;) {
		load(pt, &v);
		uint64_t old = v.w[pt->side][k], nw = next(&v, pt->side, op, n, val);
		if (nw == old)
			return v;
		if (atomic_compare_exchange_strong(w, &old, nw)) {
			notify(pt, k, old, nw);
			return v;
		}
	}
}

/* MUR: both sides to reset, by side A's words only (see the top of this file). */
static void reset(const struct sim_ctrl_port *pt)
{
	transition(pt, OP_MUR, 0, 0);
	for (unsigned n = 0; n < NXP_MU_NUM_REGS; n++) {
		transition(pt, OP_RESET_RR, n, 0);
		transition(pt, OP_RESET_TR, n, 0);
	}
	transition(pt, OP_RESET_GIP, 0, 0);
	transition(pt, OP_RESET_CR, 0, 0);
}

static uint32_t mu_read32(const struct ampl_io_region *io, uint32_t off)
{
	const struct sim_ctrl_port *pt = port_of(io);
	if (!sim_access_ctrl(pt->soc, pt->ctrl, pt->side, off, false))
		return 0;
	struct view v;
	if (off >= NXP_MU_RR(0) && off < NXP_MU_SR) {
		unsigned n = (off - NXP_MU_RR(0)) / 4u;
		v = transition(pt, OP_RR, n, 0);
		return current(&v, 1u - pt->side, W_TR + n);
	}
	load(pt, &v);
	if (off < NXP_MU_RR(0))
		return current(&v, pt->side, W_TR + off / 4u);
	if (off == NXP_MU_SR)
		return sr_of(&v, pt->side);
	if (off == NXP_MU_CR)
		return cr_of(&v, pt->side);
	return 0; /* reserved */
}

static void mu_write32(const struct ampl_io_region *io, uint32_t off, uint32_t val)
{
	const struct sim_ctrl_port *pt = port_of(io);
	if (!sim_access_ctrl(pt->soc, pt->ctrl, pt->side, off, true))
		return;
	SIM_TRACE(pt->soc, owner_of(pt, pt->side), AMPL_EV_CTRL_WRITE, pt->ctrl, off);
	if (off < NXP_MU_RR(0)) {
		transition(pt, OP_TR, off / 4u, val);
	} else if (off == NXP_MU_SR) {
		transition(pt, OP_SR, 0, val);
	} else if (off == NXP_MU_CR) {
		if (pt->side == 0 && (val & NXP_MU_CR_MUR))
			reset(pt);
		else
			transition(pt, OP_CR, 0, val);
	}
	/* RRn and reserved offsets ignore writes */
}

static int mu_wait32(const struct ampl_io_region *io, uint32_t off, uint32_t mask, uint32_t expect,
		     uint32_t timeout_us)
{
	const struct sim_ctrl_port *pt = port_of(io);
	if (!sim_access_ctrl(pt->soc, pt->ctrl, pt->side, off, false))
		return expect ? -ETIMEDOUT : 0; /* a poisoned read is 0 for good */
	unsigned me = pt->side;
	struct ampl_doorbell_set set = {
		.seq = { &side_at(pt, 0)->ev_ring[me], &side_at(pt, 1)->ev_ring[me], &mu_at(pt)->ev_ring[me] },
		.n = 3,
		.sleepers = &side_at(pt, me)->ev_sleepers,
	};
	const struct ampl_doorbell_set *db = &set;
	enum ampl_wait_mode mode = pt->soc->ports[owner_of(pt, pt->side)].mode;
	/* Waiting on RRn would consume it: only the side-effect-free registers can be waited on. */
	if (off >= NXP_MU_RR(0) && off < NXP_MU_SR)
		return (mu_read32(io, off) & mask) == expect ? 0 : -ETIMEDOUT;
	uint64_t deadline = timeout_us == UINT32_MAX ? 0 : ampl_now_ns() + (uint64_t)timeout_us * 1000u;
	for (;;) {
		uint32_t seen = ampl_doorbell_set_seq(db);
		if ((mu_read32(io, off) & mask) == expect)
			return 0;
		if (ampl_doorbell_set_wait(db, seen, mode, deadline) == -ETIMEDOUT)
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

/* The enabled `nxp,imx-mu` nodes; their sides' agents are the binding's (src/dt/bind_mu.c: the node's side, A or
 * with fsl,mu-side-b B, is the first application processor's or its amplink,agent's). */
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
		const struct ampl_dt_mbox_ctrl *e = ampl_dt_find_mbox_ctrl(board, m->node.path);
		const struct ampl_soc_agent *own = e ? ampl_soc_agent_by_name(profile, e->agent) : NULL;
		const struct ampl_soc_agent *peer = e ? ampl_soc_agent_by_name(profile, e->peer) : NULL;
		if (!own || !peer)
			return sim_error(-EINVAL, "%s: the %s profile has no two processors for a Messaging Unit",
					 m->node.path, profile->name);
		cfg[n].owner[m->side_b] = ampl_soc_agent_index(profile, own);
		cfg[n].owner[!m->side_b] = ampl_soc_agent_index(profile, peer);
		sim_ctrl_cfg_node(&cfg[n++], &m->node, m->alias, m->addr, m->size, m->irq);
	}
	return (int)n;
}

/* ---- an agent's device over its side: the driver's framework controller and the generic IPM device over it ---- */

#define SIM_MU_DATA_SIZE 16u /* bytes per IPM message on an MU (Zephyr's default CONFIG_IPM_IMX_MAX_DATA_SIZE) */

struct mu_dev {
	struct nxp_mu mu;
	struct ipm_mbox_config cfg; /* the generic IPM driver on the side's group channels */
	struct ipm_mbox_data data;
};

static void mu_soft_irq(void *arg)
{
	const struct sim_ctrl_dev *d = arg;
	sim_ring(d->soc, d->agent, SIM_LINE_IRQ); /* the agent's own interrupt line: the handler runs soon */
}

static int mu_open(const struct sim_ctrl_dev_ctx *ctx, struct sim_ctrl_dev *d)
{
	struct mu_dev *m = calloc(1, sizeof(*m));
	if (!m)
		return sim_error(-ENOMEM, "out of memory");
	m->mu.regs = ctx->regs;
	m->mu.side_b = d->side == 1;
	/* The image is created in reset and other processes of this side may already use it: no side-A reset. */
	m->mu.no_reset = true;
	m->mu.soft_irq = mu_soft_irq;
	m->mu.soft_irq_arg = d;
	(void)nxp_mu_ipm_config(&m->mu, SIM_MU_DATA_SIZE, &m->cfg);
	m->cfg.ack_timeout_us = ctx->ack_timeout_us;
	int ret = nxp_mu_init(&m->mu, d->node);
	if (ret) {
		free(m);
		return ret;
	}
	d->mbox = &m->mu.ctrl;
	d->api = &ipm_mbox_api;
	d->config = &m->cfg;
	d->data = &m->data;
	d->init = ipm_mbox_init;
	d->isr = nxp_mu_isr;
	d->isr_arg = &m->mu;
	d->priv = m;
	return 0;
}

static void mu_close(struct sim_ctrl_dev *d)
{
	struct mu_dev *m = d->priv;
	ipm_mbox_release(&d->dev);
	nxp_mu_remove(&m->mu);
}

/* `amplink soc show`'s columns: not RRn, whose read consumes the word. */
static const struct sim_ctrl_reg mu_dump[] = {
	{ "SR", NXP_MU_SR },       { "CR", NXP_MU_CR },       { "TR0", NXP_MU_TR(0) },
	{ "TR1", NXP_MU_TR(1) },   { "TR2", NXP_MU_TR(2) },   { "TR3", NXP_MU_TR(3) },
	{ NULL, 0 },
};

SIM_CTRL_MODEL(nxp_mu) = {
	.name = "mu",
	.sides = 2,
	.state_size = sizeof(struct sim_mu),
	.reg_span = NXP_MU_REG_SPAN,
	.ops = &mu_ops,
	.plan = mu_plan,
	.default_tree = mu_default_tree,
	.open = mu_open,
	.close = mu_close,
	.profile = &ampl_soc_imx,
	.dump = mu_dump,
};

/* ---- public accessors (<amplink/host/soc.h>): the MU instances among the SoC's controllers ---- */

/* The description of Messaging Unit @mu (0..ampl_soc_num_mus() - 1), or NULL. */
static const struct sim_ctrl_cfg *sim_mu_cfg(const struct ampl_soc *soc, unsigned mu)
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
