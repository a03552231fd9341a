/*
 * Register model of the Xilinx IPI block (ZynqMP and Versal profiles).
 *
 * Every register side effect is a row of a table: a sequence of register accesses made as given agents, then the
 * expected value of every register of every agent (registers a row does not name must still hold their reset
 * value, so a side effect that touches too much fails as surely as one that touches too little). Each row runs on
 * a fresh SoC, once per profile. Agents, bits and masks are written symbolically ("apu rpu1", "imr -apu") so that
 * one row checks both profiles with their own bit layout.
 *
 * Further tests: literal reset values, the buffer address formula, the interrupt line (white box: the model's
 * doorbell) and the interrupt handler it drives (public API), and atomicity across processes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/ipm.h>
#include <amplink/host/soc.h>

#include "sim/image.h" /* white box: the interrupt line and acknowledgement doorbells of the model */

#define MAX_AGENTS 16
#define NUM_OFFS 8

static const uint32_t all_offs[NUM_OFFS] = { 0x00, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18, 0x1C };

static const char *off_name(uint32_t off)
{
	switch (off) {
	case AMPL_IPI_TRIG: return "TRIG";
	case AMPL_IPI_OBS: return "OBS";
	case 0x08: return "RSVD08";
	case 0x0C: return "RSVD0C";
	case AMPL_IPI_ISR: return "ISR";
	case AMPL_IPI_IMR: return "IMR";
	case AMPL_IPI_IER: return "IER";
	case AMPL_IPI_IDR: return "IDR";
	default: return "?";
	}
}

/* ---- fixture: one fresh SoC ---- */

struct fx {
	const struct ampl_soc_profile *p;
	char name[64];
	struct ampl_soc *soc;
	bool created;
	struct ampl_io_region regs[MAX_AGENTS];
};

static unsigned soc_counter;

/* What a failed test leaves open is closed by its teardown. */
#define MAX_LIVE 4
static struct fx *live[MAX_LIVE];
static struct ampl_agent *live_agent;
static struct ampl_soc *live_agent_soc; /* the handle live_agent is attached through */

static void fx_open(struct fx *f, const struct ampl_soc_profile *p)
{
	memset(f, 0, sizeof(*f));
	for (unsigned i = 0; i < MAX_LIVE; i++) {
		if (!live[i]) {
			live[i] = f;
			break;
		}
	}
	f->p = p;
	snprintf(f->name, sizeof(f->name), "t-ipimodel-%d-%u", (int)getpid(), soc_counter++);
	int ret = ampl_soc_create(f->name, p, NULL, 0);
	if (ret)
		fail_msg("ampl_soc_create(%s, %s): %d %s", f->name, p->name, ret, ampl_soc_last_error());
	f->created = true;
	ret = ampl_soc_open(f->name, &f->soc);
	if (ret)
		fail_msg("ampl_soc_open(%s): %d %s", f->name, ret, ampl_soc_last_error());
	assert_true(p->num_agents <= MAX_AGENTS);
	for (unsigned i = 0; i < p->num_agents; i++)
		assert_int_equal(ampl_soc_agent_regs(f->soc, &p->agents[i], &f->regs[i]), 0);
}

static void fx_close(struct fx *f)
{
	for (unsigned i = 0; i < MAX_LIVE; i++)
		if (live[i] == f)
			live[i] = NULL;
	if (f->soc)
		ampl_soc_close(f->soc);
	f->soc = NULL;
	if (f->created)
		ampl_soc_destroy(f->name);
	f->created = false;
}

static int teardown(void **state)
{
	(void)state;
	if (live_agent)
		ampl_agent_detach(live_agent);
	live_agent = NULL;
	ampl_soc_close(live_agent_soc);
	live_agent_soc = NULL;
	for (unsigned i = 0; i < MAX_LIVE; i++)
		if (live[i])
			fx_close(live[i]);
	return 0;
}

static const struct ampl_soc_agent *agent_named(const struct ampl_soc_profile *p, const char *name)
{
	const struct ampl_soc_agent *a = ampl_soc_agent_by_name(p, name);
	if (!a)
		fail_msg("no agent '%s' on %s", name, p->name);
	return a;
}

static struct ampl_io_region *regs_of(struct fx *f, const char *agent)
{
	return &f->regs[ampl_soc_agent_index(f->p, agent_named(f->p, agent))];
}

static uint32_t bit_of(const struct ampl_soc_profile *p, const char *agent)
{
	return ampl_ipi_mask(agent_named(p, agent));
}

/*
 * A value in symbolic form, evaluated left to right over space-separated tokens:
 *   agent name   OR that agent's bit           "-agent"  clear that agent's bit
 *   imr          OR the profile's IMR reset     valid / invalid  OR valid_mask / ~valid_mask
 *   0x...        OR a literal                   "-0x..." clear those literal bits
 */
static uint32_t val_of(const struct ampl_soc_profile *p, const char *spec)
{
	uint32_t v = 0;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", spec ? spec : "");
	char *save = NULL;
	for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		bool neg = tok[0] == '-';
		const char *t = neg ? tok + 1 : tok;
		uint32_t m;
		if (!strcmp(t, "imr"))
			m = p->imr_reset;
		else if (!strcmp(t, "valid"))
			m = p->valid_mask;
		else if (!strcmp(t, "invalid"))
			m = ~p->valid_mask;
		else if (t[0] >= '0' && t[0] <= '9')
			m = (uint32_t)strtoul(t, NULL, 0);
		else
			m = bit_of(p, t);
		v = neg ? (v & ~m) : (v | m);
	}
	return v;
}

/* ---- table ---- */

enum op { END = 0, WR, RD };

struct step {
	const char *agent; /* "*": every agent in turn */
	enum op op;
	uint32_t off;
	const char *val; /* written, or expected from the read */
};

struct expect {
	const char *agent; /* "*": every agent; a later entry overrides an earlier one */
	uint32_t off;
	const char *val;
};

struct row {
	const char *name;
	const char *profile; /* NULL: both profiles */
	struct step steps[12];
	struct expect exp[12];
};

#define ISR AMPL_IPI_ISR
#define OBS AMPL_IPI_OBS
#define IMR AMPL_IPI_IMR
#define IER AMPL_IPI_IER
#define IDR AMPL_IPI_IDR
#define TRIG AMPL_IPI_TRIG

static const struct row rows[] = {
	{ "reset: IMR all masked, ISR/OBS/TRIG/IER/IDR/reserved read 0", NULL, { { 0 } }, { { 0 } } },
	{ "TRIG sets sender's bit in dest ISR and dest's bit in sender OBS", NULL,
	  { { "apu", WR, TRIG, "rpu0" } },
	  { { "rpu0", ISR, "apu" }, { "apu", OBS, "rpu0" } } },
	{ "TRIG reads back 0 after the write", NULL,
	  { { "apu", WR, TRIG, "rpu0" }, { "apu", RD, TRIG, "0" }, { "rpu0", RD, TRIG, "0" } },
	  { { "rpu0", ISR, "apu" }, { "apu", OBS, "rpu0" } } },
	{ "TRIG with several destination bits", NULL,
	  { { "apu", WR, TRIG, "rpu0 rpu1" } },
	  { { "rpu0", ISR, "apu" }, { "rpu1", ISR, "apu" }, { "apu", OBS, "rpu0 rpu1" } } },
	{ "TRIG to every valid bit", NULL,
	  { { "apu", WR, TRIG, "valid" } },
	  { { "*", ISR, "apu" }, { "apu", OBS, "valid" } } },
	{ "TRIG twice is the same as once", NULL,
	  { { "apu", WR, TRIG, "rpu0" }, { "apu", WR, TRIG, "rpu0" } },
	  { { "rpu0", ISR, "apu" }, { "apu", OBS, "rpu0" } } },
	{ "TRIG 0 does nothing", NULL, { { "apu", WR, TRIG, "0" } }, { { 0 } } },
	{ "self-trigger", NULL,
	  { { "apu", WR, TRIG, "apu" } },
	  { { "apu", ISR, "apu" }, { "apu", OBS, "apu" } } },
	{ "self-trigger acknowledged by self", NULL,
	  { { "apu", WR, TRIG, "apu" }, { "apu", RD, OBS, "apu" }, { "apu", WR, ISR, "apu" } },
	  { { 0 } } },
	{ "two senders to one destination set two ISR bits", NULL,
	  { { "apu", WR, TRIG, "rpu0" }, { "rpu1", WR, TRIG, "rpu0" } },
	  { { "rpu0", ISR, "apu rpu1" }, { "apu", OBS, "rpu0" }, { "rpu1", OBS, "rpu0" } } },
	{ "every agent triggers one destination", NULL,
	  { { "*", WR, TRIG, "rpu0" } },
	  { { "rpu0", ISR, "valid" }, { "*", OBS, "rpu0" } } },
	{ "ISR W1C clears only the written bit and that source's OBS bit", NULL,
	  { { "apu", WR, TRIG, "rpu0" }, { "rpu1", WR, TRIG, "rpu0" }, { "rpu0", WR, ISR, "apu" } },
	  { { "rpu0", ISR, "rpu1" }, { "rpu1", OBS, "rpu0" } } },
	{ "ISR W1C drops only the OBS bit of that destination", NULL,
	  { { "apu", WR, TRIG, "rpu0 rpu1" }, { "rpu0", WR, ISR, "apu" } },
	  { { "rpu1", ISR, "apu" }, { "apu", OBS, "rpu1" } } },
	{ "ISR write 0 changes nothing", NULL,
	  { { "apu", WR, TRIG, "rpu0" }, { "rpu0", WR, ISR, "0" } },
	  { { "rpu0", ISR, "apu" }, { "apu", OBS, "rpu0" } } },
	{ "ISR write of a bit that is not pending changes nothing", NULL,
	  { { "apu", WR, TRIG, "rpu0" }, { "rpu0", WR, ISR, "rpu1" } },
	  { { "rpu0", ISR, "apu" }, { "apu", OBS, "rpu0" } } },
	{ "ISR W1C of all ones clears every source", NULL,
	  { { "apu", WR, TRIG, "rpu0" }, { "rpu1", WR, TRIG, "rpu0" }, { "rpu0", WR, ISR, "0xFFFFFFFF" } },
	  { { 0 } } },
	{ "ISR W1C acts on the writer's own ISR only", NULL,
	  { { "apu", WR, TRIG, "rpu0" }, { "rpu1", WR, ISR, "apu" }, { "apu", WR, ISR, "apu" } },
	  { { "rpu0", ISR, "apu" }, { "apu", OBS, "rpu0" } } },
	{ "TRIG again after acknowledge pends again", NULL,
	  { { "apu", WR, TRIG, "rpu0" }, { "rpu0", WR, ISR, "apu" }, { "apu", RD, OBS, "0" },
	    { "apu", WR, TRIG, "rpu0" } },
	  { { "rpu0", ISR, "apu" }, { "apu", OBS, "rpu0" } } },
	{ "IMR is read-only (0 and all ones ignored)", NULL,
	  { { "apu", WR, IMR, "0" }, { "rpu0", WR, IMR, "0xFFFFFFFF" }, { "rpu1", WR, IMR, "0x1234" } },
	  { { 0 } } },
	{ "OBS is read-only", NULL,
	  { { "apu", WR, TRIG, "rpu0" }, { "apu", WR, OBS, "0" }, { "apu", WR, OBS, "0xFFFFFFFF" },
	    { "rpu1", WR, OBS, "0xFFFFFFFF" } },
	  { { "rpu0", ISR, "apu" }, { "apu", OBS, "rpu0" } } },
	{ "IER clears IMR bits", NULL,
	  { { "apu", WR, IER, "rpu0" } },
	  { { "apu", IMR, "imr -rpu0" } } },
	{ "IDR sets IMR bits", NULL,
	  { { "apu", WR, IER, "rpu0 rpu1" }, { "apu", RD, IMR, "imr -rpu0 -rpu1" }, { "apu", WR, IDR, "rpu0" } },
	  { { "apu", IMR, "imr -rpu1" } } },
	{ "IER/IDR read as 0", NULL,
	  { { "apu", WR, IER, "rpu0" }, { "apu", RD, IER, "0" }, { "apu", RD, IDR, "0" }, { "apu", WR, IDR, "rpu1" },
	    { "apu", RD, IDR, "0" }, { "apu", RD, IER, "0" } },
	  { { "apu", IMR, "imr -rpu0" } } },
	{ "IER all ones unmasks exactly the valid bits; IDR all ones masks them again", NULL,
	  { { "rpu0", WR, IER, "0xFFFFFFFF" }, { "rpu0", RD, IMR, "0" }, { "rpu0", WR, IDR, "0xFFFFFFFF" } },
	  { { "rpu0", IMR, "valid" } } },
	{ "IER/IDR do not touch ISR or OBS", NULL,
	  { { "apu", WR, TRIG, "rpu0" }, { "rpu0", WR, IER, "apu" }, { "rpu0", RD, ISR, "apu" },
	    { "rpu0", WR, IDR, "apu" } },
	  { { "rpu0", ISR, "apu" }, { "apu", OBS, "rpu0" } } },
	{ "a masked source still latches in ISR and OBS", NULL,
	  { { "rpu0", WR, IDR, "apu" }, { "apu", WR, TRIG, "rpu0" } },
	  { { "rpu0", ISR, "apu" }, { "apu", OBS, "rpu0" } } },
	{ "an unmasked source latches the same way", NULL,
	  { { "rpu0", WR, IER, "apu" }, { "apu", WR, TRIG, "rpu0" } },
	  { { "rpu0", ISR, "apu" }, { "apu", OBS, "rpu0" }, { "rpu0", IMR, "imr -apu" } } },
	{ "TRIG: bits outside the valid mask are ignored", NULL,
	  { { "apu", WR, TRIG, "invalid" }, { "rpu0", WR, TRIG, "0xFFFFFFFF -valid" } },
	  { { 0 } } },
	{ "TRIG: valid bits of a mixed write still act", NULL,
	  { { "apu", WR, TRIG, "rpu0 invalid" } },
	  { { "rpu0", ISR, "apu" }, { "apu", OBS, "rpu0" } } },
	{ "ISR: bits outside the valid mask are ignored", NULL,
	  { { "apu", WR, TRIG, "rpu0" }, { "rpu0", WR, ISR, "invalid" } },
	  { { "rpu0", ISR, "apu" }, { "apu", OBS, "rpu0" } } },
	{ "IER: bits outside the valid mask are ignored", NULL,
	  { { "apu", WR, IER, "invalid" } },
	  { { 0 } } },
	{ "IDR: bits outside the valid mask are ignored", NULL,
	  { { "apu", WR, IER, "valid" }, { "apu", WR, IDR, "invalid" } },
	  { { "apu", IMR, "0" } } },
	{ "reserved 0x08/0x0C read 0 and ignore writes", NULL,
	  { { "apu", WR, TRIG, "rpu0" }, { "apu", WR, 0x08, "0xFFFFFFFF" }, { "apu", WR, 0x0C, "0xFFFFFFFF" },
	    { "rpu0", WR, 0x08, "valid" }, { "rpu0", WR, 0x0C, "valid" }, { "apu", RD, 0x08, "0" },
	    { "apu", RD, 0x0C, "0" }, { "rpu0", RD, 0x08, "0" }, { "rpu0", RD, 0x0C, "0" } },
	  { { "rpu0", ISR, "apu" }, { "apu", OBS, "rpu0" } } },

	/* ZynqMP only */
	{ "bits 1 and 31 are ignored in TRIG", "zynqmp",
	  { { "apu", WR, TRIG, "0x80000002" }, { "rpu0", WR, TRIG, "0x2" } },
	  { { 0 } } },
	{ "bit 1 and 31 in TRIG next to a valid bit", "zynqmp",
	  { { "apu", WR, TRIG, "0x80000102" } },
	  { { "rpu0", ISR, "apu" }, { "apu", OBS, "0x100" } } },
	{ "bits 1 and 31 are ignored in IER/IDR", "zynqmp",
	  { { "apu", WR, IER, "0x80000002" }, { "rpu0", WR, IER, "0x0F0F0301" }, { "rpu0", WR, IDR, "0x80000002" } },
	  { { "rpu0", IMR, "0" } } },
	{ "bits 1 and 31 are ignored in ISR", "zynqmp",
	  { { "rpu1", WR, TRIG, "rpu0" }, { "rpu0", WR, ISR, "0x80000002" } },
	  { { "rpu0", ISR, "0x200" }, { "rpu1", OBS, "0x100" } } },
	{ "APU to PMU1 (PMUs share a buffer slot, not a bit)", "zynqmp",
	  { { "apu", WR, TRIG, "pmu1" } },
	  { { "pmu1", ISR, "apu" }, { "apu", OBS, "0x20000" } } },
	{ "APU to PMU1 and PMU3, PMU3 acknowledges", "zynqmp",
	  { { "apu", WR, TRIG, "pmu1 pmu3" }, { "apu", RD, OBS, "0xA0000" }, { "pmu3", WR, ISR, "apu" } },
	  { { "pmu1", ISR, "apu" }, { "apu", OBS, "pmu1" } } },
	{ "PMU1 to APU sets bit 17", "zynqmp",
	  { { "pmu1", WR, TRIG, "apu" } },
	  { { "apu", ISR, "0x20000" }, { "pmu1", OBS, "0x1" } } },
	{ "PMU0..3 to APU: four separate ISR bits", "zynqmp",
	  { { "pmu0", WR, TRIG, "apu" }, { "pmu1", WR, TRIG, "apu" }, { "pmu2", WR, TRIG, "apu" },
	    { "pmu3", WR, TRIG, "apu" }, { "apu", WR, ISR, "pmu2" } },
	  { { "apu", ISR, "0x0B0000" }, { "pmu0", OBS, "apu" }, { "pmu1", OBS, "apu" }, { "pmu3", OBS, "apu" } } },
	{ "PL3 to RPU1 (bit 27 -> bit 9)", "zynqmp",
	  { { "pl3", WR, TRIG, "rpu1" } },
	  { { "rpu1", ISR, "0x08000000" }, { "pl3", OBS, "0x200" } } },
	{ "ch-alias names reach the same block", "zynqmp",
	  { { "ch0", WR, TRIG, "ch1" } },
	  { { "rpu0", ISR, "apu" }, { "apu", OBS, "rpu0" } } },

	/* Versal only */
	{ "bits 10..31 are ignored in TRIG", "versal",
	  { { "apu", WR, TRIG, "0xFFFFFC00" } },
	  { { 0 } } },
	{ "bit 10 next to a valid bit", "versal",
	  { { "apu", WR, TRIG, "0x408" } },
	  { { "rpu0", ISR, "0x4" }, { "apu", OBS, "0x8" } } },
	{ "bits 10..31 are ignored in IER/IDR", "versal",
	  { { "apu", WR, IER, "0xFFFFFC00" }, { "rpu0", WR, IER, "0x3FF" }, { "rpu0", WR, IDR, "0xFFFFFC00" } },
	  { { "rpu0", IMR, "0" } } },
	{ "bits 10..31 are ignored in ISR", "versal",
	  { { "apu", WR, TRIG, "rpu0" }, { "rpu0", WR, ISR, "0xFFFFFC00" } },
	  { { "rpu0", ISR, "0x4" }, { "apu", OBS, "0x8" } } },
	{ "APU to the bufferless IPI6 still has register bits", "versal",
	  { { "apu", WR, TRIG, "ipi6" } },
	  { { "ipi6", ISR, "0x4" }, { "apu", OBS, "0x200" } } },
	{ "PMC_NOBUF and PMC to APU", "versal",
	  { { "pmc-nobuf", WR, TRIG, "apu" }, { "pmc", WR, TRIG, "apu" } },
	  { { "apu", ISR, "0x102" }, { "pmc-nobuf", OBS, "0x4" }, { "pmc", OBS, "0x4" } } },
	{ "ipiN aliases (ipi0 = apu, ipi1 = rpu0)", "versal",
	  { { "ipi0", WR, TRIG, "ipi1" } },
	  { { "rpu0", ISR, "apu" }, { "apu", OBS, "rpu0" } } },
};

struct row_case {
	const struct row *row;
	const struct ampl_soc_profile *p;
};

/* The expected value of one register after a row: the last matching expectation, else the reset value. */
static uint32_t expected(const struct row *r, const struct ampl_soc_profile *p, const struct ampl_soc_agent *a,
			 uint32_t off)
{
	uint32_t v = off == AMPL_IPI_IMR ? p->imr_reset : 0;
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(r->exp) && r->exp[i].agent; i++) {
		const struct expect *e = &r->exp[i];
		if (e->off != off)
			continue;
		if (strcmp(e->agent, "*") && agent_named(p, e->agent) != a)
			continue;
		v = val_of(p, e->val);
	}
	return v;
}

static void do_step(struct fx *f, const struct row *r, unsigned si, const struct ampl_soc_agent *a)
{
	const struct step *s = &r->steps[si];
	struct ampl_io_region *io = &f->regs[ampl_soc_agent_index(f->p, a)];
	uint32_t v = val_of(f->p, s->val);
	if (s->op == WR) {
		ampl_io_write32(io, s->off, v);
	} else {
		uint32_t got = ampl_io_read32(io, s->off);
		if (got != v)
			fail_msg("[%s] %s: step %u: %s reads %s = 0x%08x, expected 0x%08x", f->p->name, r->name, si,
				 a->name, off_name(s->off), got, v);
	}
}

/* Check every register of every agent; report all mismatches, then fail. */
static void check_all(struct fx *f, const struct row *r)
{
	int bad = 0;
	for (unsigned i = 0; i < f->p->num_agents; i++) {
		const struct ampl_soc_agent *a = &f->p->agents[i];
		for (unsigned k = 0; k < NUM_OFFS; k++) {
			uint32_t want = expected(r, f->p, a, all_offs[k]);
			uint32_t got = ampl_io_read32(&f->regs[i], all_offs[k]);
			if (got != want) {
				print_error("[%s] %s: %s.%s = 0x%08x, expected 0x%08x\n", f->p->name, r->name, a->name,
					    off_name(all_offs[k]), got, want);
				bad++;
			}
		}
	}
	if (bad)
		fail_msg("[%s] row \"%s\": %d register(s) wrong", f->p->name, r->name, bad);
}

static void test_row(void **state)
{
	const struct row_case *c = *state;
	static struct fx fxs;
	struct fx *f = &fxs;
	fx_open(f, c->p);
	const struct row *r = c->row;
	for (unsigned si = 0; si < AMPL_ARRAY_SIZE(r->steps) && r->steps[si].op != END; si++) {
		if (!strcmp(r->steps[si].agent, "*")) {
			for (unsigned i = 0; i < f->p->num_agents; i++)
				do_step(f, r, si, &f->p->agents[i]);
		} else {
			do_step(f, r, si, agent_named(f->p, r->steps[si].agent));
		}
	}
	check_all(f, r);
	/* Reads have no side effects: a second full pass sees the same state. */
	check_all(f, r);
	fx_close(f);
}

/* ---- literal reset values (the table uses the profile's symbolic ones) ---- */

static void check_reset_literals(const struct ampl_soc_profile *p, uint32_t imr, uint32_t valid)
{
	assert_int_equal(p->imr_reset, imr);
	assert_int_equal(p->valid_mask, valid);
	static struct fx f;
	fx_open(&f, p);
	for (unsigned i = 0; i < p->num_agents; i++) {
		uint32_t got = ampl_io_read32(&f.regs[i], AMPL_IPI_IMR);
		if (got != imr)
			fail_msg("[%s] %s IMR after reset = 0x%08x, expected 0x%08x", p->name, p->agents[i].name, got, imr);
		assert_int_equal(ampl_io_read32(&f.regs[i], AMPL_IPI_ISR), 0);
		assert_int_equal(ampl_io_read32(&f.regs[i], AMPL_IPI_OBS), 0);
	}
	fx_close(&f);
}

static void test_reset_literals_zynqmp(void **state)
{
	(void)state;
	check_reset_literals(&ampl_soc_zynqmp, 0x0F0F0301u, 0x0F0F0301u);
}

static void test_reset_literals_versal(void **state)
{
	(void)state;
	check_reset_literals(&ampl_soc_versal, 0x3FFu, 0x3FFu);
}

/* Each agent's bit, from the reference tables (TF-A zynqmp_ipi_table, Versal plat_ipi.h). */
static void test_agent_bits(void **state)
{
	(void)state;
	static const struct {
		const struct ampl_soc_profile *p;
		const char *agent;
		uint32_t mask;
	} t[] = {
		{ &ampl_soc_zynqmp, "apu", 0x1 },      { &ampl_soc_zynqmp, "rpu0", 0x100 },
		{ &ampl_soc_zynqmp, "rpu1", 0x200 },   { &ampl_soc_zynqmp, "pmu0", 0x10000 },
		{ &ampl_soc_zynqmp, "pmu1", 0x20000 }, { &ampl_soc_zynqmp, "pmu2", 0x40000 },
		{ &ampl_soc_zynqmp, "pmu3", 0x80000 }, { &ampl_soc_zynqmp, "pl0", 0x1000000 },
		{ &ampl_soc_zynqmp, "pl3", 0x8000000 }, { &ampl_soc_versal, "psm", 0x1 },
		{ &ampl_soc_versal, "pmc", 0x2 },      { &ampl_soc_versal, "apu", 0x4 },
		{ &ampl_soc_versal, "rpu0", 0x8 },     { &ampl_soc_versal, "ipi5", 0x80 },
		{ &ampl_soc_versal, "pmc-nobuf", 0x100 }, { &ampl_soc_versal, "ipi6", 0x200 },
	};
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(t); i++) {
		uint32_t got = bit_of(t[i].p, t[i].agent);
		if (got != t[i].mask)
			fail_msg("[%s] %s bit mask 0x%x, expected 0x%x", t[i].p->name, t[i].agent, got, t[i].mask);
	}
}

/* The profile: a generic description of every agent, the IPI facts apart; a SoC without the IPI block (imx) has
 * agents with none, which no IPI lookup finds. */
static void test_agent_ipi_facts(void **state)
{
	(void)state;
	const struct ampl_soc_profile *ipi[] = { &ampl_soc_zynqmp, &ampl_soc_versal };
	for (unsigned k = 0; k < AMPL_ARRAY_SIZE(ipi); k++)
		for (unsigned i = 0; i < ipi[k]->num_agents; i++) {
			const struct ampl_soc_agent *a = &ipi[k]->agents[i];
			assert_non_null(a->ipi);
			assert_ptr_equal(ampl_soc_agent_by_bit(ipi[k], a->ipi->bit), a);
			assert_ptr_equal(ampl_soc_agent_by_id(ipi[k], a->id), a);
		}
	const struct ampl_soc_profile *mx = &ampl_soc_imx;
	assert_int_equal(mx->num_agents, 2);
	for (unsigned i = 0; i < mx->num_agents; i++) {
		const struct ampl_soc_agent *a = &mx->agents[i];
		assert_null(a->ipi);
		assert_int_equal(a->id, i);
		assert_int_equal(ampl_ipi_mask(a), 0);
		assert_null(ampl_soc_agent_by_bit(mx, i));
		assert_int_equal(ampl_ipi_request_addr(mx, a, &mx->agents[1 - i]), 0);
	}
	assert_ptr_equal(ampl_soc_agent_by_name(mx, "cortex-m4"), &mx->agents[1]);
	assert_ptr_equal(ampl_soc_agent_by_id(mx, 1), &mx->agents[1]);
}

/* ---- buffer addresses ---- */

static void test_buffer_addresses(void **state)
{
	(void)state;
	static const struct {
		const struct ampl_soc_profile *p;
		const char *src, *dst;
		uint64_t addr;
	} t[] = {
		{ &ampl_soc_zynqmp, "apu", "rpu0", 0xFF990400u },
		{ &ampl_soc_zynqmp, "rpu0", "apu", 0xFF990080u },
		{ &ampl_soc_zynqmp, "apu", "pmu1", 0xFF9905C0u },
		{ &ampl_soc_zynqmp, "pmu1", "apu", 0xFF990E80u },
		{ &ampl_soc_zynqmp, "pmu0", "apu", 0xFF990E80u }, /* PMU0..3 share slot 7 */
		{ &ampl_soc_zynqmp, "pmu3", "apu", 0xFF990E80u },
		{ &ampl_soc_zynqmp, "apu", "rpu1", 0xFF990440u },
		{ &ampl_soc_zynqmp, "rpu1", "apu", 0xFF990280u },
		{ &ampl_soc_zynqmp, "rpu0", "rpu1", 0xFF990040u },
		{ &ampl_soc_zynqmp, "pl0", "rpu0", 0xFF990600u },
		{ &ampl_soc_zynqmp, "pl3", "pmu0", 0xFF990DC0u },
		{ &ampl_soc_zynqmp, "apu", "apu", 0xFF990480u },
		{ &ampl_soc_versal, "apu", "rpu0", 0xFF3F0000u + 2 * 0x200 + 3 * 0x40 },
		{ &ampl_soc_versal, "rpu0", "apu", 0xFF3F0000u + 3 * 0x200 + 2 * 0x40 },
		{ &ampl_soc_versal, "apu", "pmc", 0xFF3F0440u }, /* "mailbox@ff3f0440" of a real Versal boot log */
		{ &ampl_soc_versal, "psm", "ipi5", 0xFF3F01C0u },
		{ &ampl_soc_versal, "ipi5", "psm", 0xFF3F0E00u },
		{ &ampl_soc_versal, "apu", "pmc-nobuf", 0 },
		{ &ampl_soc_versal, "pmc-nobuf", "apu", 0 },
		{ &ampl_soc_versal, "apu", "ipi6", 0 },
		{ &ampl_soc_versal, "ipi6", "apu", 0 },
		{ &ampl_soc_versal, "ipi6", "pmc-nobuf", 0 },
	};
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(t); i++) {
		uint64_t got = ampl_ipi_request_addr(t[i].p, agent_named(t[i].p, t[i].src), agent_named(t[i].p, t[i].dst));
		if (got != t[i].addr)
			fail_msg("[%s] req(%s->%s) = 0x%llx, expected 0x%llx", t[i].p->name, t[i].src, t[i].dst,
				 (unsigned long long)got, (unsigned long long)t[i].addr);
	}
	/* Versal ids 8 and 9 are the bufferless ones. */
	assert_non_null(ampl_soc_agent_by_id(&ampl_soc_versal, 8));
	assert_non_null(ampl_soc_agent_by_id(&ampl_soc_versal, 9));
	assert_int_equal(ampl_soc_agent_by_id(&ampl_soc_versal, 8)->ipi->buf_slot, AMPL_IPI_NO_BUFFER);
	assert_int_equal(ampl_soc_agent_by_id(&ampl_soc_versal, 9)->ipi->buf_slot, AMPL_IPI_NO_BUFFER);
	assert_int_equal(ampl_ipi_request_addr(&ampl_soc_versal, ampl_soc_agent_by_id(&ampl_soc_versal, 2),
					       ampl_soc_agent_by_id(&ampl_soc_versal, 8)), 0);
	assert_int_equal(ampl_ipi_request_addr(&ampl_soc_versal, ampl_soc_agent_by_id(&ampl_soc_versal, 9),
					       ampl_soc_agent_by_id(&ampl_soc_versal, 3)), 0);
	/* NULL arguments. */
	assert_int_equal(ampl_ipi_request_addr(NULL, &ampl_soc_zynqmp.agents[0], &ampl_soc_zynqmp.agents[1]), 0);
	assert_int_equal(ampl_ipi_request_addr(&ampl_soc_zynqmp, NULL, &ampl_soc_zynqmp.agents[1]), 0);
	assert_int_equal(ampl_ipi_request_addr(&ampl_soc_zynqmp, &ampl_soc_zynqmp.agents[0], NULL), 0);
}

/* Every buffered pair's request and response buffers are SoC memory, inside the buffer RAM. */
static void check_buffers_mapped(const struct ampl_soc_profile *p)
{
	static struct fx f;
	fx_open(&f, p);
	for (unsigned i = 0; i < p->num_agents; i++) {
		for (unsigned j = 0; j < p->num_agents; j++) {
			uint64_t a = ampl_ipi_request_addr(p, &p->agents[i], &p->agents[j]);
			if (!a)
				continue;
			assert_true(a >= p->buf_base && a + 2 * AMPL_IPI_BUF_SIZE <= p->buf_base + p->buf_size);
			if (!ampl_soc_phys(f.soc, a, AMPL_IPI_BUF_SIZE) ||
			    !ampl_soc_phys(f.soc, a + AMPL_IPI_RESP_OFFSET, AMPL_IPI_BUF_SIZE))
				fail_msg("[%s] buffers of %s->%s at 0x%llx are not mapped", p->name, p->agents[i].name,
					 p->agents[j].name, (unsigned long long)a);
		}
	}
	assert_null(ampl_soc_phys(f.soc, p->buf_base + p->buf_size - 16, 32));
	fx_close(&f);
}

static void test_buffers_mapped(void **state)
{
	(void)state;
	check_buffers_mapped(&ampl_soc_zynqmp);
	check_buffers_mapped(&ampl_soc_versal);
}

/* ---- the interrupt line (white box: the model's doorbells) ---- */

static uint32_t line_seq(struct fx *f, const char *agent)
{
	struct sim_port *pt = (struct sim_port *)regs_of(f, agent)->ctx;
	return ampl_doorbell_set_seq(&pt->soc->lines[pt->idx][SIM_LINE_IRQ]);
}

static uint32_t ack_seq(struct fx *f, const char *agent)
{
	struct sim_port *pt = (struct sim_port *)regs_of(f, agent)->ctx;
	return ampl_doorbell_set_seq(&pt->soc->lines[pt->idx][SIM_LINE_ACK]);
}

struct line_step {
	const char *agent;
	uint32_t off;
	const char *val;
	int rpu0_rings;  /* expected rings of RPU0's interrupt line caused by this write */
	int apu_acks;    /* expected rings of the APU's acknowledgement doorbell */
	const char *why;
};

static void check_line(const struct ampl_soc_profile *p)
{
	static const struct line_step t[] = {
		{ "apu", TRIG, "rpu0", 0, 0, "trigger of a masked source: ISR & ~IMR stays 0" },
		{ "rpu0", IER, "rpu1", 0, 0, "unmask a source that is not pending" },
		{ "rpu0", IER, "apu", 1, 0, "unmask a pending source: ISR & ~IMR becomes non-zero" },
		{ "rpu0", IER, "apu", 0, 0, "unmask it again: already unmasked" },
		{ "apu", TRIG, "rpu0", 0, 0, "trigger an already pending source" },
		{ "rpu0", IDR, "apu", 0, 0, "mask" },
		{ "rpu0", IER, "apu", 1, 0, "unmask the pending source again" },
		{ "rpu0", ISR, "apu", 0, 1, "acknowledge: sender's ack doorbell" },
		{ "rpu0", ISR, "apu", 0, 0, "acknowledge again: nothing was pending" },
		{ "apu", TRIG, "rpu0", 1, 0, "trigger an unmasked source" },
		{ "rpu1", TRIG, "rpu0", 1, 0, "a second unmasked source arrives" },
		{ "apu", TRIG, "rpu1", 0, 0, "a trigger to someone else" },
		{ "rpu0", ISR, "rpu1", 0, 0, "ack of another source: not the apu's doorbell" },
		{ "rpu0", ISR, "apu", 0, 1, "ack of the apu" },
		{ "apu", TRIG, "invalid", 0, 0, "invalid bits" },
		{ "rpu0", IDR, "valid", 0, 0, "mask all" },
		{ "apu", TRIG, "rpu0", 0, 0, "masked again" },
		{ "rpu0", 0x08, "0xFFFFFFFF", 0, 0, "reserved write" },
		{ "rpu0", IER, "invalid", 0, 0, "unmask invalid bits only" },
		{ "rpu0", IER, "valid", 1, 0, "unmask all with the apu pending" },
	};
	static struct fx f;
	fx_open(&f, p);
	/* The acknowledgement doorbell rings only while a thread waits on OBS (ipi_wait32): first without one, an
	 * acknowledgement leaves it alone; then with one counted, as such a thread would be, the steps below. */
	_Atomic uint32_t *watchers = &f.soc->img->regs[ampl_soc_agent_index(p, ampl_soc_agent_by_name(p, "apu"))]
					     .ack_watchers;
	uint32_t a_unwatched = ack_seq(&f, "apu");
	ampl_io_write32(regs_of(&f, "rpu0"), IER, val_of(p, "apu"));
	ampl_io_write32(regs_of(&f, "apu"), TRIG, val_of(p, "rpu0"));
	(void)ampl_io_read32(regs_of(&f, "rpu0"), ISR);
	ampl_io_write32(regs_of(&f, "rpu0"), ISR, val_of(p, "apu"));
	if (ack_seq(&f, "apu") != a_unwatched)
		fail_msg("[%s] an acknowledgement rang the apu's doorbell with no thread waiting on OBS", p->name);
	if (ampl_io_read32(regs_of(&f, "apu"), OBS))
		fail_msg("[%s] the unwatched acknowledgement did not clear the apu's OBS", p->name);
	ampl_io_write32(regs_of(&f, "rpu0"), IDR, val_of(p, "valid"));
	atomic_fetch_add(watchers, 1);
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(t); i++) {
		uint32_t l0 = line_seq(&f, "rpu0"), a0 = ack_seq(&f, "apu");
		ampl_io_write32(regs_of(&f, t[i].agent), t[i].off, val_of(p, t[i].val));
		int rings = (int)(line_seq(&f, "rpu0") - l0), acks = (int)(ack_seq(&f, "apu") - a0);
		if (rings != t[i].rpu0_rings || acks != t[i].apu_acks)
			fail_msg("[%s] line step %u (%s): rpu0 line rang %d (expected %d), apu ack rang %d (expected %d)",
				 p->name, i, t[i].why, rings, t[i].rpu0_rings, acks, t[i].apu_acks);
	}
	atomic_fetch_sub(watchers, 1);
	fx_close(&f);
}

static void test_irq_line_model(void **state)
{
	(void)state;
	check_line(&ampl_soc_zynqmp);
	check_line(&ampl_soc_versal);
}

/* ---- the interrupt handler driven by the model (public API) ---- */

struct rx {
	int calls;
	volatile void *data;
	uint8_t bytes[AMPL_IPI_BUF_SIZE];
	uint32_t id;
	const struct ampl_device *dev;
};

static void rx_cb(const struct ampl_device *dev, void *ud, uint32_t id, volatile void *data)
{
	struct rx *r = ud;
	r->calls++;
	r->dev = dev;
	r->id = id;
	r->data = data;
	if (data)
		for (unsigned i = 0; i < AMPL_IPI_BUF_SIZE; i++)
			r->bytes[i] = ((volatile uint8_t *)data)[i];
}

static void fill(volatile void *buf, uint8_t seed)
{
	for (unsigned i = 0; i < AMPL_IPI_BUF_SIZE; i++)
		((volatile uint8_t *)buf)[i] = (uint8_t)(seed + i * 7u);
}

static void check_bytes(const uint8_t *got, uint8_t seed)
{
	for (unsigned i = 0; i < AMPL_IPI_BUF_SIZE; i++)
		if (got[i] != (uint8_t)(seed + i * 7u))
			fail_msg("request byte %u = 0x%02x, expected 0x%02x", i, got[i], (uint8_t)(seed + i * 7u));
}

static void check_irq_delivery(const struct ampl_soc_profile *p)
{
	static struct fx f;
	fx_open(&f, p);
	struct ampl_agent *ag = NULL;
	struct ampl_agent_opts opts = { .no_irq_thread = true, .no_dt_devices = true };
	/* The agent through a handle of its own: f.soc, attached as no agent, drives every register block. */
	assert_int_equal(ampl_soc_open(f.name, &live_agent_soc), 0);
	int ret = ampl_agent_attach(live_agent_soc, "rpu0", &opts, &ag);
	if (ret)
		fail_msg("[%s] attach rpu0: %d %s", p->name, ret, ampl_soc_last_error());
	live_agent = ag;
	const struct ampl_device *dev = NULL;
	assert_int_equal(ampl_agent_channel(ag, "apu", &dev), 0);
	assert_non_null(dev);
	struct rx rx;
	memset(&rx, 0, sizeof(rx));
	ipm_register_callback(dev, rx_cb, &rx);

	struct ampl_io_region *apu = regs_of(&f, "apu"), *rpu0 = regs_of(&f, "rpu0");
	uint32_t b_apu = bit_of(p, "apu"), b_rpu0 = bit_of(p, "rpu0");
	uint64_t req = ampl_ipi_request_addr(p, agent_named(p, "apu"), agent_named(p, "rpu0"));
	volatile void *buf = ampl_soc_phys(f.soc, req, AMPL_IPI_BUF_SIZE); /* apu's: rpu0 maps it read-only */
	volatile void *seen = ampl_soc_phys(live_agent_soc, req, AMPL_IPI_BUF_SIZE); /* as the agent maps it */
	assert_non_null(buf);
	assert_non_null(seen);

	/* Masked source: the handler does not deliver, the request stays pending. */
	fill(buf, 0x11);
	uint32_t l0 = line_seq(&f, "rpu0");
	ampl_io_write32(apu, AMPL_IPI_TRIG, b_rpu0);
	assert_int_equal(line_seq(&f, "rpu0"), l0);
	for (int i = 0; i < 3; i++)
		ampl_agent_poll(ag);
	assert_int_equal(rx.calls, 0);
	assert_int_equal(ampl_io_read32(apu, AMPL_IPI_OBS) & b_rpu0, b_rpu0);
	assert_int_equal(ampl_io_read32(rpu0, AMPL_IPI_ISR), b_apu);

	/* Enabling unmasks the source and raises the line; the handler delivers once and acknowledges. */
	assert_int_equal(ipm_set_enabled(dev, 1), 0);
	assert_int_equal(ampl_io_read32(rpu0, AMPL_IPI_IMR) & b_apu, 0);
	assert_int_equal(line_seq(&f, "rpu0"), l0 + 1);
	ampl_agent_poll(ag);
	assert_int_equal(rx.calls, 1);
	assert_ptr_equal(rx.dev, dev);
	assert_int_equal(rx.id, 0);
	assert_ptr_equal((void *)rx.data, (void *)seen);
	check_bytes(rx.bytes, 0x11);
	assert_int_equal(ampl_io_read32(apu, AMPL_IPI_OBS) & b_rpu0, 0);
	assert_int_equal(ampl_io_read32(rpu0, AMPL_IPI_ISR), 0);
	ampl_agent_poll(ag);
	assert_int_equal(rx.calls, 1);

	/* A second request, unmasked this time: the trigger itself raises the line. */
	fill(buf, 0x5A);
	ampl_io_write32(apu, AMPL_IPI_TRIG, b_rpu0);
	assert_int_equal(line_seq(&f, "rpu0"), l0 + 2);
	ampl_agent_poll(ag);
	assert_int_equal(rx.calls, 2);
	check_bytes(rx.bytes, 0x5A);
	assert_int_equal(ampl_io_read32(apu, AMPL_IPI_OBS), 0);

	/* A source with no channel: masked by the handler and left pending, never delivered to the apu channel. */
	ampl_io_write32(regs_of(&f, "rpu1"), AMPL_IPI_TRIG, b_rpu0);
	ampl_io_write32(rpu0, AMPL_IPI_IER, bit_of(p, "rpu1"));
	ampl_agent_poll(ag);
	assert_int_equal(rx.calls, 2);
	assert_int_equal(ampl_io_read32(rpu0, AMPL_IPI_IMR) & bit_of(p, "rpu1"), bit_of(p, "rpu1"));
	assert_int_equal(ampl_io_read32(rpu0, AMPL_IPI_ISR), bit_of(p, "rpu1"));
	assert_int_equal(ampl_io_read32(regs_of(&f, "rpu1"), AMPL_IPI_OBS), b_rpu0);

	/* Disabled again: a new request is latched but not delivered. */
	assert_int_equal(ipm_set_enabled(dev, 0), 0);
	assert_int_equal(ampl_io_read32(rpu0, AMPL_IPI_IMR) & b_apu, b_apu);
	ampl_io_write32(apu, AMPL_IPI_TRIG, b_rpu0);
	ampl_agent_poll(ag);
	assert_int_equal(rx.calls, 2);
	assert_int_equal(ampl_io_read32(apu, AMPL_IPI_OBS), b_rpu0);

	ampl_agent_detach(ag);
	live_agent = NULL;
	ampl_soc_close(live_agent_soc);
	live_agent_soc = NULL;
	fx_close(&f);
}

/*
 * A handler reads request A in ISR; the receiver goes offline (A is dropped: the sender is told) and comes back; the
 * sender raises request B on the same bit. The handler's W1C was about A: it must leave B pending, or B would be
 * reported done to its sender without its handler ever reading it.
 */
static void test_ack_of_dropped_request(void **state)
{
	(void)state;
	static struct fx f;
	fx_open(&f, &ampl_soc_zynqmp);
	const struct ampl_soc_profile *p = f.p;
	struct ampl_io_region *apu = regs_of(&f, "apu"), *rpu0 = regs_of(&f, "rpu0");
	uint32_t b_apu = bit_of(p, "apu"), b_rpu0 = bit_of(p, "rpu0");
	ampl_io_write32(apu, AMPL_IPI_TRIG, b_rpu0);                         /* A */
	assert_int_equal(ampl_io_read32(rpu0, AMPL_IPI_ISR), b_apu);          /* the handler reads A */
	assert_int_equal(ampl_soc_agent_set_online(f.soc, agent_named(p, "rpu0"), false), 0);
	assert_int_equal(ampl_io_read32(apu, AMPL_IPI_OBS) & b_rpu0, 0);      /* A ended, discarded */
	assert_int_equal(ampl_soc_agent_set_online(f.soc, agent_named(p, "rpu0"), true), 0);
	ampl_io_write32(apu, AMPL_IPI_TRIG, b_rpu0);                         /* B */
	ampl_io_write32(rpu0, AMPL_IPI_ISR, b_apu);                          /* the W1C about A */
	assert_int_equal(ampl_io_read32(apu, AMPL_IPI_OBS) & b_rpu0, b_rpu0); /* B still pending */
	assert_int_equal(ampl_io_read32(rpu0, AMPL_IPI_ISR), b_apu);          /* the handler reads B */
	ampl_io_write32(rpu0, AMPL_IPI_ISR, b_apu);
	assert_int_equal(ampl_io_read32(apu, AMPL_IPI_OBS) & b_rpu0, 0);      /* B acknowledged */
	fx_close(&f);
}

/*
 * The raised counter of a pair wraps after 2^32 requests. It skips 0, which the model takes for "no request" (the
 * value a handler remembers from its ISR read): a request raised as 0 would stay invisible in ISR while its OBS bit
 * kept its sender from raising another, and the pair would be stuck.
 */
static void test_counter_wrap(void **state)
{
	(void)state;
	static struct fx f;
	fx_open(&f, &ampl_soc_zynqmp);
	const struct ampl_soc_profile *p = f.p;
	struct ampl_io_region *apu = regs_of(&f, "apu"), *rpu0 = regs_of(&f, "rpu0");
	uint32_t b_apu = bit_of(p, "apu"), b_rpu0 = bit_of(p, "rpu0");
	unsigned i_apu = ampl_soc_agent_index(p, agent_named(p, "apu"));
	unsigned i_rpu0 = ampl_soc_agent_index(p, agent_named(p, "rpu0"));
	unsigned k_apu = (unsigned)__builtin_ctz(b_apu), k_rpu0 = (unsigned)__builtin_ctz(b_rpu0);
	/* The pair as after 2^32 - 1 requests, the last one acknowledged. */
	atomic_store(&f.soc->img->regs[i_apu].raised[k_rpu0], UINT32_MAX);
	atomic_store(&f.soc->img->regs[i_rpu0].acked[k_apu], UINT32_MAX);
	assert_int_equal(ampl_io_read32(apu, AMPL_IPI_OBS) & b_rpu0, 0);
	for (int round = 0; round < 2; round++) {
		ampl_io_write32(apu, AMPL_IPI_TRIG, b_rpu0);
		assert_int_equal(ampl_io_read32(apu, AMPL_IPI_OBS) & b_rpu0, b_rpu0);
		assert_int_equal(ampl_io_read32(rpu0, AMPL_IPI_ISR) & b_apu, b_apu);
		ampl_io_write32(rpu0, AMPL_IPI_ISR, b_apu);
		assert_int_equal(ampl_io_read32(apu, AMPL_IPI_OBS) & b_rpu0, 0);
		assert_int_equal(ampl_io_read32(rpu0, AMPL_IPI_ISR) & b_apu, 0);
	}
	assert_int_equal(atomic_load(&f.soc->img->regs[i_apu].raised[k_rpu0]), 2);
	fx_close(&f);
}

static void test_irq_delivery(void **state)
{
	(void)state;
	check_irq_delivery(&ampl_soc_zynqmp);
	check_irq_delivery(&ampl_soc_versal);
}

/* ---- atomicity across processes ---- */

#define NPAIRS 8
#define CYCLES 20000

struct pair {
	const char *src, *dst;
};

static const struct pair zynqmp_pairs[NPAIRS] = {
	{ "rpu0", "apu" }, { "rpu1", "apu" }, { "pmu0", "apu" }, { "pl0", "apu" },
	{ "apu", "rpu0" }, { "pmu1", "rpu0" }, { "pl1", "rpu0" }, { "pl2", "rpu0" },
};
static const struct pair versal_pairs[NPAIRS] = {
	{ "psm", "apu" }, { "pmc", "apu" }, { "rpu1", "apu" }, { "ipi3", "apu" },
	{ "apu", "rpu0" }, { "ipi4", "rpu0" }, { "ipi5", "rpu0" }, { "ipi6", "rpu0" },
};

struct shared_ctl {
	_Atomic int ready;
	_Atomic int go;
};

/* Child: its own mapping of the SoC, trigger-then-clear on its pair; with @leave_set a final trigger. */
static int child_run(const char *soc_name, const struct pair *pr, struct shared_ctl *ctl, bool leave_set)
{
	struct ampl_soc *soc;
	if (ampl_soc_open(soc_name, &soc))
		return 100;
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	const struct ampl_soc_agent *s = ampl_soc_agent_by_name(p, pr->src), *d = ampl_soc_agent_by_name(p, pr->dst);
	struct ampl_io_region rs, rd;
	if (!s || !d || ampl_soc_agent_regs(soc, s, &rs) || ampl_soc_agent_regs(soc, d, &rd))
		return 101;
	uint32_t bs = ampl_ipi_mask(s), bd = ampl_ipi_mask(d);
	atomic_fetch_add(&ctl->ready, 1);
	while (!atomic_load(&ctl->go))
		;
	int errors = 0;
	for (int i = 0; i < CYCLES; i++) {
		ampl_io_write32(&rs, AMPL_IPI_TRIG, bd);
		if (!(ampl_io_read32(&rd, AMPL_IPI_ISR) & bs))
			errors++;
		if (!(ampl_io_read32(&rs, AMPL_IPI_OBS) & bd))
			errors++;
		ampl_io_write32(&rd, AMPL_IPI_ISR, bs);
		if (ampl_io_read32(&rd, AMPL_IPI_ISR) & bs)
			errors++;
		if (ampl_io_read32(&rs, AMPL_IPI_OBS) & bd)
			errors++;
	}
	if (leave_set)
		ampl_io_write32(&rs, AMPL_IPI_TRIG, bd);
	ampl_soc_close(soc);
	return errors ? 1 : 0;
}

static void run_children(struct fx *f, const struct pair *pairs, bool leave_set)
{
	struct shared_ctl *ctl = mmap(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(ctl != MAP_FAILED);
	atomic_store(&ctl->ready, 0);
	atomic_store(&ctl->go, 0);
	pid_t pids[NPAIRS];
	for (int i = 0; i < NPAIRS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(child_run(f->name, &pairs[i], ctl, leave_set));
	}
	while (atomic_load(&ctl->ready) < NPAIRS)
		usleep(100);
	atomic_store(&ctl->go, 1);
	int failed = 0;
	for (int i = 0; i < NPAIRS; i++) {
		int st = 0;
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			print_error("[%s] child %s->%s: status 0x%x (1 = a lost or stale bit was seen)\n", f->p->name,
				    pairs[i].src, pairs[i].dst, st);
			failed++;
		}
	}
	munmap(ctl, sizeof(*ctl));
	if (failed)
		fail_msg("[%s] %d of %d processes saw inconsistent registers", f->p->name, failed, NPAIRS);
}

static void check_concurrency(const struct ampl_soc_profile *p, const struct pair *pairs)
{
	static struct fx f;
	fx_open(&f, p);

	/* Phase 1: trigger-then-clear; everything is clear at the end. */
	run_children(&f, pairs, false);
	struct row clear = { .name = "after concurrent trigger/clear cycles" };
	check_all(&f, &clear);

	/* Phase 2: the same, each leaving its bit set: the final state has exactly every pair's bits. */
	run_children(&f, pairs, true);
	struct row set = { .name = "after concurrent cycles, each leaving its trigger pending" };
	uint32_t isr[MAX_AGENTS] = { 0 }, obs[MAX_AGENTS] = { 0 };
	for (int i = 0; i < NPAIRS; i++) {
		const struct ampl_soc_agent *s = agent_named(p, pairs[i].src), *d = agent_named(p, pairs[i].dst);
		isr[ampl_soc_agent_index(p, d)] |= ampl_ipi_mask(s);
		obs[ampl_soc_agent_index(p, s)] |= ampl_ipi_mask(d);
	}
	int bad = 0;
	for (unsigned i = 0; i < p->num_agents; i++) {
		uint32_t gi = ampl_io_read32(&f.regs[i], AMPL_IPI_ISR), go = ampl_io_read32(&f.regs[i], AMPL_IPI_OBS);
		if (gi != isr[i] || go != obs[i]) {
			print_error("[%s] %s: %s ISR 0x%08x (expected 0x%08x) OBS 0x%08x (expected 0x%08x)\n", p->name,
				    set.name, p->agents[i].name, gi, isr[i], go, obs[i]);
			bad++;
		}
		if (ampl_io_read32(&f.regs[i], AMPL_IPI_IMR) != p->imr_reset)
			bad++;
	}
	if (bad)
		fail_msg("[%s] %s: %d agent(s) wrong", p->name, set.name, bad);
	fx_close(&f);
}

static void test_concurrency_zynqmp(void **state)
{
	(void)state;
	check_concurrency(&ampl_soc_zynqmp, zynqmp_pairs);
}

static void test_concurrency_versal(void **state)
{
	(void)state;
	check_concurrency(&ampl_soc_versal, versal_pairs);
}

/* ---- main: one test per table row and profile, then the rest ---- */

#define MAX_TESTS (2 * AMPL_ARRAY_SIZE(rows) + 16)

int main(void)
{
	static struct CMUnitTest tests[MAX_TESTS];
	static struct row_case cases[2 * AMPL_ARRAY_SIZE(rows)];
	static char names[2 * AMPL_ARRAY_SIZE(rows)][160];
	const struct ampl_soc_profile *profiles[2] = { &ampl_soc_zynqmp, &ampl_soc_versal };
	size_t n = 0, nc = 0;
	for (unsigned pi = 0; pi < 2; pi++) {
		for (unsigned r = 0; r < AMPL_ARRAY_SIZE(rows); r++) {
			if (rows[r].profile && strcmp(rows[r].profile, profiles[pi]->name))
				continue;
			cases[nc].row = &rows[r];
			cases[nc].p = profiles[pi];
			snprintf(names[nc], sizeof(names[nc]), "%s: %s", profiles[pi]->name, rows[r].name);
			tests[n].name = names[nc];
			tests[n].test_func = test_row;
			tests[n].initial_state = &cases[nc];
			tests[n].teardown_func = teardown;
			n++, nc++;
		}
	}
	const struct CMUnitTest rest[] = {
		cmocka_unit_test(test_reset_literals_zynqmp),
		cmocka_unit_test(test_reset_literals_versal),
		cmocka_unit_test(test_agent_bits),
		cmocka_unit_test(test_agent_ipi_facts),
		cmocka_unit_test(test_buffer_addresses),
		cmocka_unit_test(test_buffers_mapped),
		cmocka_unit_test(test_irq_line_model),
		cmocka_unit_test(test_irq_delivery),
		cmocka_unit_test(test_ack_of_dropped_request),
		cmocka_unit_test(test_counter_wrap),
		cmocka_unit_test(test_concurrency_zynqmp),
		cmocka_unit_test(test_concurrency_versal),
	};
	for (size_t i = 0; i < AMPL_ARRAY_SIZE(rest); i++) {
		tests[n] = rest[i];
		tests[n++].teardown_func = teardown;
	}
	return _cmocka_run_group_tests("ipi_model", tests, n, NULL, NULL);
}
