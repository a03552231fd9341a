/*
 * Register model of the NXP i.MX Messaging Unit v1 (both sides of one block in a virtual imx SoC).
 *
 * Every flag transition is a row of a table: register accesses made as side A or side B, then the expected value
 * of SR, CR and TR0-3 of both sides (a register a row does not name must still hold its reset value: SR 0x00F00000,
 * everything else 0). Values are literals, so the bit reversal is checked against the reference manual's numbers
 * (TE0 = 0x00800000, RF0 = 0x08000000, GIP0 = 0x80000000, GIR0 = 0x00080000, ...), not against the driver's macros.
 * RRn reads consume, so they appear only as steps with their expected value.
 *
 * A second table checks the interrupt lines (white box: the doorbell of the agent owning each side): after every
 * step, exactly the sides named must have been raised, exactly once; a flag raised by one side while the other
 * sets its enable interrupts whichever comes first. A register written far more often than its write counter
 * counts stays full. Then a multi-process stress test: two processes run full-duplex traffic on all four
 * registers plus doorbells and flag bits, and nothing is lost.
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
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <amplink/drivers/nxp_mu.h>
#include <amplink/host/dt.h>
#include <amplink/host/soc.h>

#include "sim/image.h" /* white box: the agents' interrupt-line doorbells */

enum { A = 0, B = 1 };

#define TR0 0x00u
#define TR1 0x04u
#define TR2 0x08u
#define TR3 0x0Cu
#define RR0 0x10u
#define RR1 0x14u
#define RR2 0x18u
#define RR3 0x1Cu
#define SR 0x20u
#define CR 0x24u
#define SR_RESET 0x00F00000u

static const uint32_t checked[] = { SR, CR, TR0, TR1, TR2, TR3 };

static const char *off_name(uint32_t off)
{
	static const char *const names[] = { "TR0", "TR1", "TR2", "TR3", "RR0", "RR1", "RR2", "RR3", "SR", "CR" };
	return off / 4 < AMPL_ARRAY_SIZE(names) ? names[off / 4] : "?";
}

/* ---- fixture: a fresh imx SoC with its default MU ---- */

struct fx {
	char name[64];
	struct ampl_soc *soc;
	struct ampl_io_region side[2];
};

static unsigned counter;
/* The open fixture; fixtures are static so that teardown can close one after a failed assertion. */
static struct fx *live;

static void fx_open(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "t-mumodel-%d-%u", (int)getpid(), counter++);
	int ret = ampl_soc_create(f->name, &ampl_soc_imx, NULL, 0);
	if (ret)
		fail_msg("ampl_soc_create(%s): %d %s", f->name, ret, ampl_soc_last_error());
	live = f;
	ret = ampl_soc_open(f->name, &f->soc);
	if (ret)
		fail_msg("ampl_soc_open(%s): %d %s", f->name, ret, ampl_soc_last_error());
	assert_int_equal(ampl_soc_num_mus(f->soc), 1);
	assert_int_equal(ampl_soc_mu_regs(f->soc, 0, 0, &f->side[A]), 0);
	assert_int_equal(ampl_soc_mu_regs(f->soc, 0, 1, &f->side[B]), 0);
}

static void fx_close(struct fx *f)
{
	if (f->soc)
		ampl_soc_close(f->soc);
	f->soc = NULL;
	if (f->name[0])
		ampl_soc_destroy(f->name);
	f->name[0] = 0;
	live = NULL;
}

static int teardown(void **state)
{
	(void)state;
	if (live)
		fx_close(live);
	return 0;
}

/* ---- the transition table ---- */

enum op { END = 0, WR, RD };

struct step {
	int side;
	enum op op;
	uint32_t off;
	uint32_t val; /* written, or expected from the read */
};

struct expect {
	int side;
	uint32_t off; /* 0 with val 0 and side 0 ends the list: TR0 of A is never expected to be 0 explicitly */
	uint32_t val;
	bool set;
};

#define X(s, o, v) { s, o, v, true }

struct row {
	const char *name;
	struct step steps[12];
	struct expect exp[8];
};

static const struct row rows[] = {
	{ "reset: SR = all TE, CR = 0, TR = 0", { { 0 } }, { { 0 } } },

	/* TRn write: own TEn drops, peer's RFn rises; n = 0..3, bit-reversed, both directions */
	{ "A writes TR0: A.TE0 (0x00800000) drops, B.RF0 (0x08000000) rises",
	  { { A, WR, TR0, 0x11111111 } },
	  { X(A, SR, 0x00700000), X(B, SR, 0x08F00000), X(A, TR0, 0x11111111) } },
	{ "A writes TR1: A.TE1 (0x00400000), B.RF1 (0x04000000)",
	  { { A, WR, TR1, 0x22222222 } },
	  { X(A, SR, 0x00B00000), X(B, SR, 0x04F00000), X(A, TR1, 0x22222222) } },
	{ "A writes TR2: A.TE2 (0x00200000), B.RF2 (0x02000000)",
	  { { A, WR, TR2, 0x33333333 } },
	  { X(A, SR, 0x00D00000), X(B, SR, 0x02F00000), X(A, TR2, 0x33333333) } },
	{ "A writes TR3: A.TE3 (0x00100000), B.RF3 (0x01000000)",
	  { { A, WR, TR3, 0x44444444 } },
	  { X(A, SR, 0x00E00000), X(B, SR, 0x01F00000), X(A, TR3, 0x44444444) } },
	{ "B writes TR0: B.TE0 drops, A.RF0 rises",
	  { { B, WR, TR0, 0x55555555 } },
	  { X(B, SR, 0x00700000), X(A, SR, 0x08F00000), X(B, TR0, 0x55555555) } },
	{ "B writes TR1", { { B, WR, TR1, 0x66666666 } },
	  { X(B, SR, 0x00B00000), X(A, SR, 0x04F00000), X(B, TR1, 0x66666666) } },
	{ "B writes TR2", { { B, WR, TR2, 0x77777777 } },
	  { X(B, SR, 0x00D00000), X(A, SR, 0x02F00000), X(B, TR2, 0x77777777) } },
	{ "B writes TR3", { { B, WR, TR3, 0x88888888 } },
	  { X(B, SR, 0x00E00000), X(A, SR, 0x01F00000), X(B, TR3, 0x88888888) } },

	/* RRn read: returns the word, own RFn drops, peer's TEn rises */
	{ "B reads RR0: the word, B.RF0 drops, A.TE0 rises",
	  { { A, WR, TR0, 0xA0A0A0A0 }, { B, RD, RR0, 0xA0A0A0A0 } },
	  { X(A, TR0, 0xA0A0A0A0) } },
	{ "B reads RR1", { { A, WR, TR1, 0xA1 }, { B, RD, RR1, 0xA1 } }, { X(A, TR1, 0xA1) } },
	{ "B reads RR2", { { A, WR, TR2, 0xA2 }, { B, RD, RR2, 0xA2 } }, { X(A, TR2, 0xA2) } },
	{ "B reads RR3", { { A, WR, TR3, 0xA3 }, { B, RD, RR3, 0xA3 } }, { X(A, TR3, 0xA3) } },
	{ "A reads RR0", { { B, WR, TR0, 0xB0 }, { A, RD, RR0, 0xB0 } }, { X(B, TR0, 0xB0) } },
	{ "A reads RR1", { { B, WR, TR1, 0xB1 }, { A, RD, RR1, 0xB1 } }, { X(B, TR1, 0xB1) } },
	{ "A reads RR2", { { B, WR, TR2, 0xB2 }, { A, RD, RR2, 0xB2 } }, { X(B, TR2, 0xB2) } },
	{ "A reads RR3", { { B, WR, TR3, 0xB3 }, { A, RD, RR3, 0xB3 } }, { X(B, TR3, 0xB3) } },
	{ "all four at once, then one read",
	  { { A, WR, TR0, 1 }, { A, WR, TR1, 2 }, { A, WR, TR2, 3 }, { A, WR, TR3, 4 }, { B, RD, SR, 0x0FF00000 },
	    { B, RD, RR2, 3 } },
	  { X(A, SR, 0x00200000), X(B, SR, 0x0DF00000), X(A, TR0, 1), X(A, TR1, 2), X(A, TR2, 3), X(A, TR3, 4) } },
	{ "both directions on TR0 at once are independent",
	  { { A, WR, TR0, 0xAA }, { B, WR, TR0, 0xBB } },
	  { X(A, SR, 0x08700000), X(B, SR, 0x08700000), X(A, TR0, 0xAA), X(B, TR0, 0xBB) } },
	{ "reading an empty RR returns the last word and changes nothing",
	  { { A, WR, TR1, 7 }, { B, RD, RR1, 7 }, { B, RD, RR1, 7 }, { B, RD, RR3, 0 } },
	  { X(A, TR1, 7) } },
	{ "a second TR write before the read overwrites the word (RF stays set)",
	  { { A, WR, TR0, 1 }, { A, WR, TR0, 2 }, { B, RD, SR, 0x08F00000 }, { B, RD, RR0, 2 } },
	  { X(A, TR0, 2) } },
	{ "RR is read-only: a write neither changes the word nor a flag",
	  { { A, WR, TR0, 0x1234 }, { B, WR, RR0, 0xDEAD }, { B, WR, RR1, 0xBEEF }, { B, RD, SR, 0x08F00000 },
	    { B, RD, RR0, 0x1234 } },
	  { X(A, TR0, 0x1234) } },

	/* GIRn -> peer's GIPn; GIR reads 1 until the peer clears GIP (W1C) */
	{ "A GIR0 (0x00080000) sets B.GIP0 (0x80000000)",
	  { { A, WR, CR, 0x00080000 } }, { X(A, CR, 0x00080000), X(B, SR, 0x80F00000) } },
	{ "A GIR1 (0x00040000) sets B.GIP1 (0x40000000)",
	  { { A, WR, CR, 0x00040000 } }, { X(A, CR, 0x00040000), X(B, SR, 0x40F00000) } },
	{ "A GIR2 (0x00020000) sets B.GIP2 (0x20000000)",
	  { { A, WR, CR, 0x00020000 } }, { X(A, CR, 0x00020000), X(B, SR, 0x20F00000) } },
	{ "A GIR3 (0x00010000) sets B.GIP3 (0x10000000)",
	  { { A, WR, CR, 0x00010000 } }, { X(A, CR, 0x00010000), X(B, SR, 0x10F00000) } },
	{ "B GIR0 sets A.GIP0", { { B, WR, CR, 0x00080000 } }, { X(B, CR, 0x00080000), X(A, SR, 0x80F00000) } },
	{ "B GIR3 sets A.GIP3", { { B, WR, CR, 0x00010000 } }, { X(B, CR, 0x00010000), X(A, SR, 0x10F00000) } },
	{ "B clears GIP0 (W1C): A.GIR0 drops",
	  { { A, WR, CR, 0x00080000 }, { B, WR, SR, 0x80000000 } }, { { 0 } } },
	{ "A clears GIP2 rung by B", { { B, WR, CR, 0x00020000 }, { A, WR, SR, 0x20000000 } }, { { 0 } } },
	{ "W1C clears only the bits written",
	  { { A, WR, CR, 0x000F0000 }, { B, RD, SR, 0xF0F00000 }, { B, WR, SR, 0x50000000 } },
	  { X(A, CR, 0x000A0000), X(B, SR, 0xA0F00000) } },
	{ "W1C of every GIP bit clears all",
	  { { A, WR, CR, 0x000F0000 }, { B, WR, SR, 0xF0000000 } }, { { 0 } } },
	{ "W1C of 0 or of a GIP that is not pending changes nothing",
	  { { A, WR, CR, 0x00080000 }, { B, WR, SR, 0 }, { B, WR, SR, 0x70000000 } },
	  { X(A, CR, 0x00080000), X(B, SR, 0x80F00000) } },
	{ "GIR written 0 does not cancel a pending request",
	  { { A, WR, CR, 0x00080000 }, { A, WR, CR, 0 } }, { X(A, CR, 0x00080000), X(B, SR, 0x80F00000) } },
	{ "GIR written again while pending changes nothing",
	  { { A, WR, CR, 0x00080000 }, { A, WR, CR, 0x00080000 } }, { X(A, CR, 0x00080000), X(B, SR, 0x80F00000) } },
	{ "GIP is W1C only on the side that has it",
	  { { A, WR, CR, 0x00080000 }, { A, WR, SR, 0x80000000 } }, { X(A, CR, 0x00080000), X(B, SR, 0x80F00000) } },
	{ "ring again after the clear pends again",
	  { { A, WR, CR, 0x00040000 }, { B, WR, SR, 0x40000000 }, { A, RD, CR, 0 }, { A, WR, CR, 0x00040000 } },
	  { X(A, CR, 0x00040000), X(B, SR, 0x40F00000) } },

	/* read-only SR bits */
	{ "SR RF/TE/Fn/EP/FUP and reserved bits ignore writes",
	  { { A, WR, TR0, 9 }, { B, WR, SR, 0x0FFFFFFF }, { A, WR, SR, 0x0FFFFFFF }, { B, WR, SR, 0x08000000 } },
	  { X(A, SR, 0x00700000), X(B, SR, 0x08F00000), X(A, TR0, 9) } },

	/* CR enables and flags */
	{ "CR GIE/RIE/TIE read back, and touch no flag",
	  { { A, WR, CR, 0xFFF00000 }, { B, WR, CR, 0x84200000 } },
	  { X(A, CR, 0xFFF00000), X(B, CR, 0x84200000) } },
	{ "CR reserved bits (3, 4, 6-15) ignore writes",
	  { { A, WR, CR, 0x0000FFD8 }, { B, WR, CR, 0x0000FFF8 } }, { { 0 } } },
	{ "A CR.Fn shows in B SR.Fn",
	  { { A, WR, CR, 0x00000005 } }, { X(A, CR, 0x00000005), X(B, SR, 0x00F00005) } },
	{ "B CR.Fn shows in A SR.Fn",
	  { { B, WR, CR, 0x00000003 } }, { X(B, CR, 0x00000003), X(A, SR, 0x00F00003) } },
	{ "Fn follows every write; the other CR bits keep their own meaning",
	  { { A, WR, CR, 0x00000007 }, { A, WR, CR, 0x08000002 } }, { X(A, CR, 0x08000002), X(B, SR, 0x00F00002) } },

	/* MUR: side A resets both sides; it self-clears; side B's bit 5 is reserved */
	{ "A MUR resets every flag, enable, flag bit and word of both sides",
	  { { A, WR, TR0, 1 }, { B, WR, TR2, 2 }, { A, WR, CR, 0xFFF80007 }, { B, WR, CR, 0x0F010003 },
	    { A, RD, SR, 0x12700003 }, { B, RD, SR, 0x88D00007 }, { A, WR, CR, 0x00000020 } },
	  { { 0 } } },
	{ "A MUR ignores the other bits of that write and reads back 0",
	  { { A, WR, CR, 0xF0F80027 }, { A, RD, CR, 0 } }, { { 0 } } },
	{ "A MUR drops the word B sent and B's enables and Fn; B's next writes count again",
	  { { B, WR, CR, 0x08000003 }, { B, WR, TR0, 0x77 }, { A, WR, CR, 0x00000020 }, { A, RD, RR0, 0 },
	    { B, WR, TR1, 5 }, { B, WR, CR, 0x00000001 } },
	  { X(A, SR, 0x04F00001), X(B, SR, 0x00B00000), X(B, TR1, 5), X(B, CR, 0x00000001) } },
	{ "A MUR ends the rings pending both ways; a ring after it pends again",
	  { { A, WR, CR, 0x00080000 }, { B, WR, CR, 0x00040000 }, { A, WR, CR, 0x00000020 }, { B, RD, SR, 0x00F00000 },
	    { B, WR, CR, 0x00040000 } },
	  { X(A, SR, 0x40F00000), X(B, CR, 0x00040000) } },
	{ "A MUR with words pending both ways: every TE set, no RF; sending again works",
	  { { A, WR, TR2, 3 }, { B, WR, TR2, 4 }, { A, WR, CR, 0x00000020 }, { A, WR, TR2, 6 }, { B, RD, RR2, 6 } },
	  { X(A, TR2, 6) } },
	{ "B bit 5 is not a reset",
	  { { A, WR, TR1, 5 }, { B, WR, CR, 0x00000020 } },
	  { X(A, SR, 0x00B00000), X(B, SR, 0x04F00000), X(A, TR1, 5) } },
};

static uint32_t expected(const struct row *r, int side, uint32_t off)
{
	uint32_t v = off == SR ? SR_RESET : 0;
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(r->exp) && r->exp[i].set; i++)
		if (r->exp[i].side == side && r->exp[i].off == off)
			v = r->exp[i].val;
	return v;
}

static void run_row(const struct row *r)
{
	static struct fx f;
	fx_open(&f);
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(r->steps) && r->steps[i].op != END; i++) {
		const struct step *s = &r->steps[i];
		if (s->op == WR) {
			ampl_io_write32(&f.side[s->side], s->off, s->val);
		} else {
			uint32_t got = ampl_io_read32(&f.side[s->side], s->off);
			if (got != s->val)
				fail_msg("%s: step %u: %c reads %s = 0x%08x, expected 0x%08x", r->name, i, "AB"[s->side],
					 off_name(s->off), got, s->val);
		}
	}
	int bad = 0;
	for (int side = 0; side < 2; side++) {
		for (unsigned k = 0; k < AMPL_ARRAY_SIZE(checked); k++) {
			uint32_t got = ampl_io_read32(&f.side[side], checked[k]);
			uint32_t want = expected(r, side, checked[k]);
			if (got != want) {
				print_error("%s: %c.%s = 0x%08x, expected 0x%08x\n", r->name, "AB"[side],
					    off_name(checked[k]), got, want);
				bad++;
			}
		}
	}
	fx_close(&f);
	if (bad)
		fail_msg("%s: %d register(s) wrong", r->name, bad);
}

static void test_rows(void **state)
{
	(void)state;
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(rows); i++)
		run_row(&rows[i]);
}

/* The driver's macros match the reference manual's literals. */
static void test_macros(void **state)
{
	(void)state;
	static const uint32_t te[4] = { 0x00800000, 0x00400000, 0x00200000, 0x00100000 };
	static const uint32_t rf[4] = { 0x08000000, 0x04000000, 0x02000000, 0x01000000 };
	static const uint32_t gip[4] = { 0x80000000, 0x40000000, 0x20000000, 0x10000000 };
	static const uint32_t gir[4] = { 0x00080000, 0x00040000, 0x00020000, 0x00010000 };
	for (unsigned n = 0; n < 4; n++) {
		assert_int_equal(NXP_MU_SR_TEn(n), te[n]);
		assert_int_equal(NXP_MU_SR_RFn(n), rf[n]);
		assert_int_equal(NXP_MU_SR_GIPn(n), gip[n]);
		assert_int_equal(NXP_MU_CR_TIEn(n), te[n]);
		assert_int_equal(NXP_MU_CR_RIEn(n), rf[n]);
		assert_int_equal(NXP_MU_CR_GIEn(n), gip[n]);
		assert_int_equal(NXP_MU_CR_GIRn(n), gir[n]);
		assert_int_equal(NXP_MU_TR(n), 4 * n);
		assert_int_equal(NXP_MU_RR(n), 0x10 + 4 * n);
	}
	assert_int_equal(NXP_MU_SR, 0x20);
	assert_int_equal(NXP_MU_CR, 0x24);
	assert_int_equal(NXP_MU_CR_MUR, 0x20);
	assert_int_equal(NXP_MU_SR_EP, 0x10);
	assert_int_equal(NXP_MU_SR_FUP, 0x100);
	assert_int_equal(NXP_MU_CR_Fn_MASK, 7);
	assert_int_equal(NXP_MU_SR_Fn_MASK, 7);
}

/* ---- interrupt lines ---- */

#define NONE 0
#define IRQ_A 1
#define IRQ_B 2

struct istep {
	int side;
	enum op op;
	uint32_t off;
	uint32_t val;
	int irq; /* the lines that must be raised by this step, each exactly once */
};

struct irow {
	const char *name;
	struct istep steps[10];
};

static const struct irow irows[] = {
	{ "RF with RIE raises the receiver once; a second write to a full register does not",
	  { { B, WR, CR, 0x08000000, NONE }, { A, WR, TR0, 1, IRQ_B }, { A, WR, TR0, 2, NONE },
	    { B, RD, RR0, 2, NONE }, { A, WR, TR0, 3, IRQ_B } } },
	{ "RF1 with RIE1", { { B, WR, CR, 0x04000000, NONE }, { A, WR, TR1, 1, IRQ_B } } },
	{ "RF2 with RIE2", { { B, WR, CR, 0x02000000, NONE }, { A, WR, TR2, 1, IRQ_B } } },
	{ "RF3 with RIE3", { { A, WR, CR, 0x01000000, NONE }, { B, WR, TR3, 1, IRQ_A } } },
	{ "RF without its RIE raises nothing",
	  { { B, WR, CR, 0x04000000, NONE }, { A, WR, TR0, 1, NONE }, { A, WR, TR2, 1, NONE } } },
	{ "RIE rising on a full register raises it",
	  { { A, WR, TR0, 1, NONE }, { B, WR, CR, 0x08000000, IRQ_B }, { B, WR, CR, 0x08000000, NONE } } },
	{ "RIE rising on an empty register raises nothing", { { B, WR, CR, 0x0F000000, NONE } } },
	{ "TE with TIE raises the sender when the peer reads",
	  { { A, WR, TR0, 1, NONE }, { A, WR, CR, 0x00800000, NONE }, { B, RD, RR0, 1, IRQ_A },
	    { B, RD, RR0, 1, NONE } } },
	{ "TE3 with TIE3 (B sends)",
	  { { B, WR, TR3, 1, NONE }, { B, WR, CR, 0x00100000, NONE }, { A, RD, RR3, 1, IRQ_B } } },
	{ "TIE rising on empty registers raises once",
	  { { A, WR, CR, 0x00F00000, IRQ_A }, { A, WR, CR, 0x00F00000, NONE }, { A, WR, CR, 0x00800000, NONE },
	    { A, WR, CR, 0x00C00000, IRQ_A } } },
	{ "TE without TIE raises nothing",
	  { { A, WR, TR0, 1, NONE }, { A, WR, CR, 0x00400000, IRQ_A }, { B, RD, RR0, 1, NONE } } },
	{ "GIP with GIE raises the peer; a second ring while pending does not; after the clear it does",
	  { { B, WR, CR, 0x80000000, NONE }, { A, WR, CR, 0x00080000, IRQ_B }, { A, WR, CR, 0x00080000, NONE },
	    { B, WR, SR, 0x80000000, NONE }, { A, WR, CR, 0x00080000, IRQ_B } } },
	{ "GIP3 with GIE3 on side A",
	  { { A, WR, CR, 0x10000000, NONE }, { B, WR, CR, 0x00010000, IRQ_A } } },
	{ "GIE rising on a pending GIP raises it",
	  { { A, WR, CR, 0x00040000, NONE }, { B, WR, CR, 0x40000000, IRQ_B } } },
	{ "GIP without its GIE raises nothing",
	  { { B, WR, CR, 0x80000000, NONE }, { A, WR, CR, 0x00040000, NONE } } },
	{ "a cause rising while another is already up still raises",
	  { { B, WR, CR, 0xCC000000, NONE }, { A, WR, TR0, 1, IRQ_B }, { A, WR, TR1, 1, IRQ_B },
	    { A, WR, CR, 0x00080000, IRQ_B }, { A, WR, CR, 0x00040000, IRQ_B } } },
	{ "the reader's own line is not raised by its read, nor by clearing GIP",
	  { { B, WR, CR, 0x88000000, NONE }, { A, WR, TR0, 1, IRQ_B }, { A, WR, CR, 0x00080000, IRQ_B },
	    { B, RD, RR0, 1, NONE }, { B, WR, SR, 0x80000000, NONE } } },
	{ "Fn changes raise nothing",
	  { { A, WR, CR, 0xFF000000, NONE }, { B, WR, CR, 0xFF000005, NONE }, { A, WR, CR, 0xFF000003, NONE } } },
	{ "MUR raises nothing (every enable is cleared with it)",
	  { { A, WR, CR, 0xFFF00000, IRQ_A }, { B, WR, CR, 0xFF000000, NONE }, { A, WR, TR0, 1, IRQ_B },
	    { A, WR, CR, 0x00000020, NONE }, { A, WR, TR0, 1, NONE } } },
};

static void test_irq_rows(void **state)
{
	(void)state;
	for (unsigned r = 0; r < AMPL_ARRAY_SIZE(irows); r++) {
		const struct irow *row = &irows[r];
		static struct fx f;
		fx_open(&f);
		struct ampl_soc_mu mu;
		assert_int_equal(ampl_soc_mu_info(f.soc, 0, &mu), 0);
		assert_string_equal(mu.side[0]->name, "a");
		assert_string_equal(mu.side[1]->name, "m4");
		const struct ampl_doorbell_set *line[2] = {
			&f.soc->lines[ampl_soc_agent_index(&ampl_soc_imx, mu.side[0])][SIM_LINE_IRQ],
			&f.soc->lines[ampl_soc_agent_index(&ampl_soc_imx, mu.side[1])][SIM_LINE_IRQ],
		};
		for (unsigned i = 0; i < AMPL_ARRAY_SIZE(row->steps) && row->steps[i].op != END; i++) {
			const struct istep *s = &row->steps[i];
			uint32_t before[2] = { ampl_doorbell_set_seq(line[0]), ampl_doorbell_set_seq(line[1]) };
			if (s->op == WR) {
				ampl_io_write32(&f.side[s->side], s->off, s->val);
			} else {
				uint32_t got = ampl_io_read32(&f.side[s->side], s->off);
				if (got != s->val)
					fail_msg("%s: step %u: %c reads %s = 0x%08x, expected 0x%08x", row->name, i,
						 "AB"[s->side], off_name(s->off), got, s->val);
			}
			for (int side = 0; side < 2; side++) {
				uint32_t rings = ampl_doorbell_set_seq(line[side]) - before[side];
				uint32_t want = (s->irq >> side) & 1u;
				if (rings != want)
					fail_msg("%s: step %u: side %c's line raised %u times, expected %u", row->name, i,
						 "AB"[side], rings, want);
			}
		}
		fx_close(&f);
	}
}

/* A register written far more often than a counter of its writes can count, never read: it stays full (RF set,
 * TE clear), and one read returns the last word and empties it. */
static void test_overwrite_many(void **state)
{
	(void)state;
	static struct fx f;
	fx_open(&f);
	for (uint32_t i = 1; i <= 140000u; i++) {
		ampl_io_write32(&f.side[A], TR3, i);
		if ((i & 0xFFFFu) == 0 || i == 140000u) {
			assert_int_equal(ampl_io_read32(&f.side[B], SR), 0x01F00000u);
			assert_int_equal(ampl_io_read32(&f.side[A], SR), 0x00E00000u);
		}
	}
	assert_int_equal(ampl_io_read32(&f.side[B], RR3), 140000u);
	assert_int_equal(ampl_io_read32(&f.side[B], SR), SR_RESET);
	assert_int_equal(ampl_io_read32(&f.side[A], SR), SR_RESET);
	fx_close(&f);
}

/* ---- a flag and its enable rising at the same moment, one on each side ---- */

#define RACE_ROUNDS 2000u

struct race {
	struct fx *f;
	pthread_barrier_t go;
	uint32_t off, val; /* what side A writes in each round (raises the flag at B) */
};

static void *race_sender(void *arg)
{
	struct race *r = arg;
	for (unsigned i = 0; i < RACE_ROUNDS; i++) {
		pthread_barrier_wait(&r->go);
		ampl_io_write32(&r->f->side[A], r->off, r->val);
		pthread_barrier_wait(&r->go);
		pthread_barrier_wait(&r->go); /* B puts the flag and its enable back */
	}
	return NULL;
}

/* Side A raises a flag of B (@off, @val) while B sets its enable @enable; B's line must be raised every round,
 * whichever of the two comes first; then B clears the flag (@clear: RR read or GIP W1C) and the enable. */
static void race_round_trip(uint32_t off, uint32_t val, uint32_t enable, uint32_t clear_off, uint32_t clear_val)
{
	static struct fx f;
	fx_open(&f);
	struct ampl_soc_mu mu;
	assert_int_equal(ampl_soc_mu_info(f.soc, 0, &mu), 0);
	const struct ampl_doorbell_set *line = &f.soc->lines[ampl_soc_agent_index(&ampl_soc_imx, mu.side[1])][SIM_LINE_IRQ];
	struct race r = { .f = &f, .off = off, .val = val };
	pthread_barrier_init(&r.go, NULL, 2);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, race_sender, &r), 0);
	unsigned missed = 0;
	for (unsigned i = 0; i < RACE_ROUNDS; i++) {
		uint32_t before = ampl_doorbell_set_seq(line);
		pthread_barrier_wait(&r.go);
		ampl_io_write32(&f.side[B], CR, enable);
		pthread_barrier_wait(&r.go);
		missed += ampl_doorbell_set_seq(line) == before;
		if (clear_off == SR)
			ampl_io_write32(&f.side[B], SR, clear_val);
		else
			(void)ampl_io_read32(&f.side[B], clear_off);
		ampl_io_write32(&f.side[B], CR, 0);
		pthread_barrier_wait(&r.go);
	}
	pthread_join(t, NULL);
	pthread_barrier_destroy(&r.go);
	fx_close(&f);
	if (missed)
		fail_msg("write 0x%08x at 0x%02x racing enable 0x%08x: B's line not raised in %u of %u rounds", val, off,
			 enable, missed, RACE_ROUNDS);
}

static void test_enable_races_flag(void **state)
{
	(void)state;
	race_round_trip(TR0, 1, 0x08000000u, RR0, 0);            /* RF0 and RIE0 */
	race_round_trip(CR, 0x00080000u, 0x80000000u, SR, 0x80000000u); /* GIP0 and GIE0 */
}

/* ---- info and region checks ---- */

static void test_info(void **state)
{
	(void)state;
	static struct fx f;
	fx_open(&f);
	struct ampl_soc_mu mu;
	assert_int_equal(ampl_soc_mu_info(f.soc, 0, &mu), 0);
	assert_string_equal(mu.name, "ipm@40028000");
	assert_string_equal(mu.alias, "ipm0");
	assert_string_equal(mu.path, "/ipm@40028000");
	assert_int_equal(mu.addr, 0x40028000u);
	assert_int_equal(mu.irq, 33);
	assert_int_equal(ampl_soc_mu_info(f.soc, 1, &mu), -EINVAL);
	struct ampl_io_region r;
	assert_int_equal(ampl_soc_mu_regs(f.soc, 1, 0, &r), -EINVAL);
	assert_int_equal(ampl_soc_mu_regs(f.soc, 0, 2, &r), -EINVAL);
	assert_int_equal(ampl_soc_mu_regs(f.soc, 0, 1, &r), 0);
	assert_int_equal(r.size, NXP_MU_REG_SPAN);
	fx_close(&f);

	/* From a devicetree: enabled nodes only, in order; fsl,mu-side-b puts the first processor on side B; a
	 * profile with an IPI block gives the sides to apu and rpu0. */
	char dts[128], name[64];
	snprintf(dts, sizeof(dts), "/tmp/t-mumodel-%d.dts", (int)getpid());
	FILE *out = fopen(dts, "w");
	assert_non_null(out);
	fputs("/dts-v1/;\n/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n"
	      "\tmu0: mu@30aa0000 { compatible = \"fsl,imx6sx-mu\"; reg = <0x30aa0000 0x10000>; interrupts = <88>;"
	      " fsl,mu-side-b; };\n"
	      "\tmu@30ab0000 { compatible = \"nxp,imx-mu\"; reg = <0x30ab0000 0x10000>; status = \"disabled\"; };\n"
	      "\tmu@30ac0000 { compatible = \"nxp,imx-mu\"; reg = <0x30ac0000 0x10000>; };\n};\n",
	      out);
	fclose(out);
	void *dtb;
	size_t size;
	struct ampl_dt_diag diag;
	int ret = ampl_dt_read_file(dts, &dtb, &size, &diag);
	unlink(dts);
	if (ret)
		fail_msg("ampl_dt_read_file: %d %s", ret, diag.msg);
	snprintf(name, sizeof(name), "t-mumodel-%d-dt", (int)getpid());
	assert_int_equal(ampl_soc_create(name, &ampl_soc_imx, dtb, size), 0);
	struct ampl_soc *soc;
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	assert_int_equal(ampl_soc_num_mus(soc), 2);
	assert_int_equal(ampl_soc_mu_info(soc, 0, &mu), 0);
	assert_string_equal(mu.name, "mu@30aa0000");
	assert_string_equal(mu.label, "mu0");
	assert_string_equal(mu.alias, "");
	assert_int_equal(mu.irq, 88);
	assert_string_equal(mu.side[0]->name, "m4");
	assert_string_equal(mu.side[1]->name, "a");
	assert_int_equal(ampl_soc_mu_info(soc, 1, &mu), 0);
	assert_int_equal(mu.addr, 0x30ac0000u);
	assert_string_equal(mu.side[0]->name, "a");
	assert_string_equal(mu.side[1]->name, "m4");
	ampl_soc_close(soc);
	ampl_soc_destroy(name);

	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, dtb, size), 0);
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	assert_int_equal(ampl_soc_num_mus(soc), 2);
	assert_int_equal(ampl_soc_mu_info(soc, 1, &mu), 0);
	assert_string_equal(mu.side[0]->name, "apu");
	assert_string_equal(mu.side[1]->name, "rpu0");
	ampl_soc_close(soc);
	ampl_soc_destroy(name);
	free(dtb);

	/* The built-in ZynqMP board has no MU. */
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), 0);
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	assert_int_equal(ampl_soc_num_mus(soc), 0);
	ampl_soc_close(soc);
	ampl_soc_destroy(name);
}

/* ---- atomicity across processes ---- */

#define STRESS_WORDS 40000u
#define STRESS_RING_EVERY 64u

struct stress_result {
	uint32_t received, bad_order, rings_sent, rings_seen, bad_bits;
	int done;
};

/* Side @s: send STRESS_WORDS words round-robin on TR0-3 and receive as many; ring the peer's GIP(s) whenever our
 * previous ring was cleared; clear the GIP the peer rings at us; keep rewriting our enables and Fn. */
static void stress_side(const char *soc_name, int s, struct stress_result *res)
{
	alarm(120);
	struct ampl_soc *soc;
	if (ampl_soc_open(soc_name, &soc))
		_exit(3);
	struct ampl_io_region io;
	ampl_soc_mu_regs(soc, 0, (unsigned)s, &io);
	uint32_t sent = 0, got = 0, since_ring = 0, fn = 0;
	uint32_t my_gir = NXP_MU_CR_GIRn(s), peer_gip = NXP_MU_SR_GIPn(1 - s);
	while (sent < STRESS_WORDS || got < STRESS_WORDS) {
		uint32_t sr = ampl_io_read32(&io, NXP_MU_SR);
		if (sr & 0x000FFFF8u) /* EP, FUP and the reserved bits read 0 whatever happens */
			res->bad_bits++;
		if (sent < STRESS_WORDS && (sr & NXP_MU_SR_TEn(sent % 4))) {
			ampl_io_write32(&io, NXP_MU_TR(sent % 4), (uint32_t)s << 31 | sent);
			sent++;
			since_ring++;
		}
		if (got < STRESS_WORDS && (sr & NXP_MU_SR_RFn(got % 4))) {
			uint32_t w = ampl_io_read32(&io, NXP_MU_RR(got % 4));
			if (w != ((uint32_t)(1 - s) << 31 | got)) /* word k travels in register k % 4 */
				res->bad_order++;
			got++;
		}
		if (sr & peer_gip) {
			ampl_io_write32(&io, NXP_MU_SR, peer_gip);
			res->rings_seen++;
		}
		/* A CR write carries our enables and Fn; GIR only when our last ring was cleared. */
		uint32_t cr = ampl_io_read32(&io, NXP_MU_CR);
		uint32_t enables = (sent * 2654435761u) & 0xFFF00000u;
		uint32_t v = enables | (fn++ & 7u);
		if (since_ring >= STRESS_RING_EVERY && !(cr & my_gir)) {
			v |= my_gir;
			res->rings_sent++;
			since_ring = 0;
		}
		ampl_io_write32(&io, NXP_MU_CR, v);
	}
	res->received = got;
	__atomic_store_n(&res->done, 1, __ATOMIC_SEQ_CST);
	ampl_soc_close(soc);
}

static void test_multiprocess(void **state)
{
	(void)state;
	static struct fx f;
	fx_open(&f);
	struct stress_result *res =
		mmap(NULL, 2 * sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(res != MAP_FAILED);
	memset(res, 0, 2 * sizeof(*res));
	pid_t pids[2];
	for (int s = 0; s < 2; s++) {
		pids[s] = fork();
		assert_true(pids[s] >= 0);
		if (pids[s] == 0) {
			stress_side(f.name, s, &res[s]);
			_exit(0);
		}
	}
	for (int s = 0; s < 2; s++) {
		int status;
		assert_int_equal(waitpid(pids[s], &status, 0), pids[s]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	/* A ring of side s (its GIRs, the peer's GIPs) outstanding at the end was never seen: clear and count it. */
	for (int s = 0; s < 2; s++) {
		uint32_t gip = NXP_MU_SR_GIPn(s);
		if (ampl_io_read32(&f.side[1 - s], NXP_MU_SR) & gip) {
			ampl_io_write32(&f.side[1 - s], NXP_MU_SR, gip);
			res[1 - s].rings_seen++;
		}
	}
	for (int s = 0; s < 2; s++) {
		assert_int_equal(res[s].received, STRESS_WORDS);
		assert_int_equal(res[s].bad_order, 0);
		assert_int_equal(res[s].bad_bits, 0);
		assert_true(res[s].rings_sent > 0);
		/* every ring is seen exactly once: GIP is never lost or duplicated by concurrent CR/TR/RR traffic */
		assert_int_equal(res[1 - s].rings_seen, res[s].rings_sent);
	}
	/* All words consumed: every TE set, no RF, no GIP. */
	assert_int_equal(ampl_io_read32(&f.side[A], NXP_MU_SR) & 0xFFF00000u, SR_RESET);
	assert_int_equal(ampl_io_read32(&f.side[B], NXP_MU_SR) & 0xFFF00000u, SR_RESET);
	munmap(res, 2 * sizeof(*res));
	fx_close(&f);
}

/* ---- the MU behind the controller-model interface (src/sim/ctrl.h) ---- */

/* The MU is the "mu" model of the registry; its record in the image names it, and open checks the record. */
static void test_ctrl_model(void **state)
{
	(void)state;
	const struct sim_ctrl_model *m = sim_ctrl_model_find("mu");
	assert_non_null(m);
	assert_int_equal(m->sides, 2);
	assert_true(m->state_size > 0 && m->state_size <= SIM_CTRL_STATE);
	assert_int_equal(m->reg_span, NXP_MU_REG_SPAN);
	assert_null(sim_ctrl_model_find("ipi")); /* the IPI is the SoC's base block, not a model */

	static struct fx f;
	fx_open(&f);
	assert_int_equal(f.soc->num_ctrls, 1);
	assert_string_equal(f.soc->ctrl_cfg[0].model, "mu");
	assert_ptr_equal(sim_ctrl_model_of(f.soc, 0), m);
	struct ampl_io_region r;
	assert_int_equal(sim_ctrl_regs(f.soc, 0, 1, &r), 0);
	assert_ptr_equal(r.ops, m->ops);
	assert_int_equal(sim_ctrl_regs(f.soc, 1, 0, &r), -EINVAL);
	assert_int_equal(sim_ctrl_regs(f.soc, 0, 2, &r), -EINVAL);

	/* A record another process could have written is checked at open: an unknown model, shared side owners. */
	struct ampl_soc *soc;
	struct sim_ctrl_cfg saved = f.soc->img->ctrl_cfg[0];
	memcpy(f.soc->img->ctrl_cfg[0].model, "xyz", 4);
	assert_int_equal(ampl_soc_open(f.name, &soc), -EINVAL);
	assert_non_null(strstr(ampl_soc_last_error(), "controller 0 has an unknown model"));
	memset(f.soc->img->ctrl_cfg[0].model, 'm', sizeof(saved.model)); /* unterminated */
	assert_int_equal(ampl_soc_open(f.name, &soc), -EINVAL);
	f.soc->img->ctrl_cfg[0] = saved;
	f.soc->img->ctrl_cfg[0].owner[1] = saved.owner[0];
	assert_int_equal(ampl_soc_open(f.name, &soc), -EINVAL);
	assert_non_null(strstr(ampl_soc_last_error(), "controller 0 (mu) has bad side owners"));
	f.soc->img->ctrl_cfg[0] = saved;
	f.soc->img->num_ctrls = SIM_MAX_CTRLS + 1;
	assert_int_equal(ampl_soc_open(f.name, &soc), -EINVAL);
	assert_non_null(strstr(ampl_soc_last_error(), "bad controller table"));
	f.soc->img->num_ctrls = 1;
	assert_int_equal(ampl_soc_open(f.name, &soc), 0);
	ampl_soc_close(soc);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_macros, teardown),
		cmocka_unit_test_teardown(test_rows, teardown),
		cmocka_unit_test_teardown(test_irq_rows, teardown),
		cmocka_unit_test_teardown(test_overwrite_many, teardown),
		cmocka_unit_test_teardown(test_enable_races_flag, teardown),
		cmocka_unit_test_teardown(test_info, teardown),
		cmocka_unit_test_teardown(test_ctrl_model, teardown),
		cmocka_unit_test_teardown(test_multiprocess, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
