/*
 * ICMsg: a reset after the N-th shared-memory write, N = 1..k (littlefs power-loss style), then both sides bond
 * again over the SAME memory image and 100 checksummed messages flow each way, nothing corrupted, nothing
 * delivered twice, nothing from before the reset delivered after the rebind.
 *
 * How writes are counted and stopped, without mocking the code under test: the test links its own build of the
 * real src/ipc/icmsg.c and src/ipc/pbuf.c with the cache-maintenance hooks (<amplink/cache.h>) redirected, and
 * gives the side under test (the APU, "DUT") a private copy of both regions, used as its data cache: the DUT's
 * icmsg_config points at the copy, ampl_cache_invalidate() copies shared memory into it (a line fill) and
 * ampl_cache_clean() copies it out to the shared regions in the SoC image, one 4-byte store at a time. Every store
 * that reaches shared memory counts as one write; after the N-th, stores are dropped (the power is gone). A
 * clean is where the code says a write is published, so this cuts at every publication point and between the
 * words of one (a torn packet). The peer (RPU0) uses the shared regions directly (a coherent core; the hooks do
 * nothing for its addresses). What this does not model: a cache that writes a dirty line back before it is
 * cleaned (eviction), and the DUT's CPU ringing doorbells after the cut (harmless: nothing new to read).
 *
 * The reset: the DUT is stopped (icmsg_close(); its stores are still dropped), its state and its "cache" are
 * lost (the copy is refilled from shared memory, as after power-up), then it reopens. Variant "dut": the peer
 * stays open and must follow the DUT's new session; variant "both": the peer is closed and reopened too. Session
 * mode (unbound = "enable") is used: classic bonding has no way to tell a restarted peer from old ring contents.
 *
 * Reproduction id: "reset-after-N <variant> N=<n>"; run one with RESET_N=<n> RESET_VARIANT=dut|both, change k
 * with RESET_K (default 160).
 */
#include <stddef.h>
#include <stdint.h>

#include "dut_cache.h" /* before any amplink header */

#include <amplink/ipc/icmsg.h>
#include <amplink/mailbox_controller.h>


#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include "ipc_side.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <amplink/host/soc.h>

#define APU_TX 0x3ed40000u
#define RPU0_TX 0x3ed48000u
#define REGION 0x8000u
#define D 64u
#define NMSG 100

/* ---- the DUT's "cache": a private copy of [APU_TX, RPU0_TX + REGION) ---- */

static uint8_t *cache;            /* DUT view */
static volatile uint8_t *shared_apu, *shared_rpu0; /* the two regions in the SoC image */
#define SH(w) ((w) < REGION ? &shared_apu[(w)] : &shared_rpu0[(w)-REGION])
static _Atomic long budget;       /* stores that may still reach shared memory */
static _Atomic long stores, dropped;

static bool in_cache(const void *addr, size_t len, size_t *off)
{
	const uint8_t *p = addr;
	if (!cache || p < cache || p + len > cache + 2u * REGION)
		return false;
	*off = (size_t)(p - cache);
	return true;
}

void dut_clean(const void *addr, size_t len)
{
	size_t off;
	if (!in_cache(addr, len, &off))
		return;
	for (size_t w = off & ~(size_t)3; w < off + len; w += 4) {
		if (atomic_fetch_sub(&budget, 1) <= 0) {
			atomic_fetch_add(&dropped, 1);
			continue;
		}
		uint32_t v;
		memcpy(&v, cache + w, 4);
		__atomic_store_n((uint32_t *)(void *)SH(w), v, __ATOMIC_RELEASE);
		atomic_fetch_add(&stores, 1);
	}
}

/* A line fill: every aligned 4-byte word is read in one access, as a bus reads it (never a torn index). */
static void fill_words(size_t from, size_t to)
{
	for (size_t w = from & ~(size_t)3; w < to; w += 4) {
		uint32_t v = __atomic_load_n((volatile uint32_t *)(void *)SH(w), __ATOMIC_ACQUIRE);
		memcpy(cache + w, &v, 4);
	}
}

void dut_invalidate(const void *addr, size_t len)
{
	size_t off;
	if (!in_cache(addr, len, &off))
		return;
	fill_words(off, off + len);
}

/* ---- endpoints ---- */

struct side {
	IPC_SIDE_EVENTS;
	_Atomic int received, bad, stale, dup;
	_Atomic int bound_base;           /* bound count at the reset: an epoch-0 message received while bound
					   * is above it is stale (INT_MAX before the reset, -1 for a new side) */
	_Atomic long next[2];             /* next expected seq per epoch */
};

/* epoch (1) + pad (3) + seq (4) + checksum (4) + pattern */
static size_t make_msg(uint8_t *buf, uint8_t epoch, uint32_t seq, size_t len)
{
	memset(buf, 0, 12);
	buf[0] = epoch;
	memcpy(buf + 4, &seq, 4);
	for (size_t i = 12; i < len; i++)
		buf[i] = (uint8_t)(seq * 17u + i * 3u + epoch);
	uint32_t sum = csum(buf + 12, len - 12);
	memcpy(buf + 8, &sum, 4);
	return len;
}

static void cb_received(const void *data, size_t len, void *priv)
{
	struct side *s = priv;
	const uint8_t *p = data;
	uint32_t seq, sum;
	if (len < 12 || p[0] > 1) {
		atomic_fetch_add(&s->bad, 1);
		return;
	}
	memcpy(&seq, p + 4, 4);
	memcpy(&sum, p + 8, 4);
	if (sum != csum(p + 12, len - 12))
		atomic_fetch_add(&s->bad, 1);
	int ep = p[0];
	if (ep == 0 && atomic_load(&s->bound) > atomic_load(&s->bound_base))
		atomic_fetch_add(&s->stale, 1); /* from before the reset, after the rebind */
	long want = atomic_load(&s->next[ep]);
	if ((long)seq < want)
		atomic_fetch_add(&s->dup, 1); /* delivered twice (or reordered) */
	else if (ep == 1 && (long)seq != want)
		atomic_fetch_add(&s->bad, 1); /* lost after the rebind */
	atomic_store(&s->next[ep], (long)seq + 1);
	atomic_fetch_add(&s->received, 1);
}

static const struct ipc_service_cb side_cb = {
	.bound = cb_bound, .unbound = cb_unbound, .received = cb_received, .error = cb_error
};

static bool wait_until(_Atomic int *v, int want, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (atomic_load(v) >= want)
			return true;
		usleep(1000);
	}
	return atomic_load(v) >= want;
}

/* ---- environment ---- */

struct env {
	char name[64];
	struct ampl_soc *soc;
	struct ampl_agent *apu, *rpu0;
	struct icmsg_config cd, cp; /* DUT (APU, cached view), peer (RPU0, shared) */
	uint8_t bd[REGION], bp[REGION];
	struct icmsg dut, peer;
	struct side sd, sp;
};

static void link_cfg(struct env *e, struct icmsg_config *c, bool apu, uint8_t *apu_tx, uint8_t *rpu0_tx,
		     uint8_t *buf)
{
	const struct mbox_consumer *mc;
	struct ampl_agent *ag = apu ? e->apu : e->rpu0;
	assert_int_equal(ampl_agent_mbox_consumer(ag, apu ? "ipc_icmsg_apu" : "ipc_icmsg_rpu0", &mc), 0);
	memset(c, 0, sizeof(*c));
	c->tx_mem = apu ? apu_tx : rpu0_tx;
	c->rx_mem = apu ? rpu0_tx : apu_tx;
	c->tx_size = c->rx_size = REGION;
	c->dcache_alignment = D;
	c->unbound_mode = ICMSG_UNBOUND_MODE_ENABLE;
	c->mbox_node = mc;
	c->rx_buf = buf;
	c->rx_buf_size = REGION;
}

static struct env *env_up(void)
{
	static unsigned counter;
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	snprintf(e->name, sizeof(e->name), "t-rstn-%d-%u", (int)getpid(), counter++);
	int ret = ampl_soc_create(e->name, &ampl_soc_zynqmp, NULL, 0);
	if (ret)
		fail_msg("ampl_soc_create: %d %s", ret, ampl_soc_last_error());
	assert_int_equal(ampl_soc_open(e->name, &e->soc), 0);
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	assert_int_equal(ampl_agent_attach(e->soc, "apu", &o, &e->apu), 0);
	assert_int_equal(ampl_agent_attach(e->soc, "rpu0", &o, &e->rpu0), 0);
	shared_apu = ampl_soc_phys(e->soc, APU_TX, REGION);
	shared_rpu0 = ampl_soc_phys(e->soc, RPU0_TX, REGION);
	assert_non_null(shared_apu);
	assert_non_null(shared_rpu0);
	cache = aligned_alloc(D, 2u * REGION);
	assert_non_null(cache);
	link_cfg(e, &e->cd, true, cache, cache + REGION, e->bd);
	link_cfg(e, &e->cp, false, (uint8_t *)(uintptr_t)shared_apu, (uint8_t *)(uintptr_t)shared_rpu0, e->bp);
	return e;
}

static void env_down(struct env *e)
{
	ampl_agent_detach(e->rpu0);
	ampl_agent_detach(e->apu);
	ampl_soc_close(e->soc);
	ampl_soc_destroy(e->name);
	uint8_t *c = cache;
	cache = NULL;
	free(c);
	free(e);
}

/* @bound_base: see struct side (INT_MAX before any reset: nothing is stale yet). */
static void power_up_dut(struct env *e, int bound_base)
{
	fill_words(0, 2u * REGION); /* a cold cache: what memory holds */
	memset(&e->dut, 0, sizeof(e->dut));
	memset(&e->sd, 0, sizeof(e->sd));
	atomic_store(&e->sd.bound_base, bound_base);
	assert_int_equal(icmsg_open(&e->dut, &e->cd, &side_cb, &e->sd), 0);
}

static int send_retry(struct icmsg *im, const void *d, size_t n)
{
	for (long i = 0; i < 2000000; i++) {
		int r = icmsg_send(im, d, n);
		if (r != -ENOMEM)
			return r;
		sched_yield();
	}
	return -ETIMEDOUT;
}

/* One case; returns 0 or fails. */
static void one(struct env *e, bool both, long n)
{
	char id[64];
	snprintf(id, sizeof(id), "reset-after-N %s N=%ld", both ? "both" : "dut", n);
	memset((void *)shared_apu, 0, REGION);
	memset((void *)shared_rpu0, 0, REGION);
	memset(&e->peer, 0, sizeof(e->peer));
	memset(&e->sp, 0, sizeof(e->sp));
	atomic_store(&e->sp.bound_base, INT_MAX); /* until the reset nothing is stale */
	atomic_store(&budget, n);
	atomic_store(&stores, 0);
	atomic_store(&dropped, 0);

	/* before the reset: bond and exchange until the DUT's N-th write */
	if (n & 1) {
		power_up_dut(e, INT_MAX);
		assert_int_equal(icmsg_open(&e->peer, &e->cp, &side_cb, &e->sp), 0);
	} else {
		assert_int_equal(icmsg_open(&e->peer, &e->cp, &side_cb, &e->sp), 0);
		power_up_dut(e, INT_MAX);
	}
	uint8_t buf[256];
	uint32_t seq = 0;
	int exch = 0;
	for (int spins = 0; atomic_load(&budget) > 0 && exch < 2000; spins++) {
		/* the callbacks' count, not icmsg_is_bound(): the state flips before bound() runs */
		if (atomic_load(&e->sd.bound) < 1 || atomic_load(&e->sp.bound) < 1) {
			if (spins > 5000)
				fail_msg("%s: no bonding with the full budget (%ld stores)", id, (long)stores);
			usleep(1000);
			continue;
		}
		size_t len = make_msg(buf, 0, seq, 12 + (seq * 13u) % 60u);
		int rd = icmsg_send(&e->dut, buf, len), rp = icmsg_send(&e->peer, buf, len);
		if ((rd < 0 && rd != -ENOMEM && rd != -EBUSY) || (rp < 0 && rp != -ENOMEM && rp != -EBUSY))
			fail_msg("%s: send before the reset: %d / %d", id, rd, rp);
		seq++;
		exch++;
		sched_yield();
	}
	long cut_at = atomic_load(&stores);
	const char *phase = exch ? "traffic" : "bonding";

	/* the reset */
	atomic_store(&e->sp.bound_base, atomic_load(&e->sp.bound));
	if (both)
		assert_int_equal(icmsg_close(&e->peer), 0);
	assert_int_equal(icmsg_close(&e->dut), 0);
	atomic_store(&budget, LONG_MAX);
	if (both) {
		memset(&e->peer, 0, sizeof(e->peer)); /* a restarted peer too: only shared memory remembers */
		atomic_store(&e->sp.next[0], 0);
		atomic_store(&e->sp.next[1], 0);
		atomic_store(&e->sp.bound_base, -1); /* any epoch-0 message now is stale */
	}
	int pbound = atomic_load(&e->sp.bound);
	if (both && (n & 2))
		assert_int_equal(icmsg_open(&e->peer, &e->cp, &side_cb, &e->sp), 0);
	power_up_dut(e, -1); /* a new DUT: nothing from before the reset may arrive */
	if (both && !(n & 2))
		assert_int_equal(icmsg_open(&e->peer, &e->cp, &side_cb, &e->sp), 0);
	if (!wait_until(&e->sd.bound, 1, 5000) || !wait_until(&e->sp.bound, pbound + 1, 5000))
		fail_msg("%s: no rebind (cut after %ld stores in %s; dut bound %d state %d, peer bound %d state %d, "
			 "errors %d/%d \"%s\" \"%s\")",
			 id, cut_at, phase, e->sd.bound, icmsg_state(&e->dut), e->sp.bound, icmsg_state(&e->peer),
			 e->sd.errors, e->sp.errors, e->sd.last_error, e->sp.last_error);
	int errs = e->sd.errors + e->sp.errors;
	int rd0 = e->sd.received, rp0 = e->sp.received;

	/* after the rebind: 100 checksummed messages each way */
	for (uint32_t i = 0; i < NMSG; i++) {
		size_t len = make_msg(buf, 1, i, 12 + (i * 29u) % 117u) /* <= 128: session mode assumes 128 */;
		int r = send_retry(&e->dut, buf, len);
		if (r != (int)len)
			fail_msg("%s: dut send %u after the rebind: %d", id, i, r);
		r = send_retry(&e->peer, buf, len);
		if (r != (int)len)
			fail_msg("%s: peer send %u after the rebind: %d", id, i, r);
	}
	bool ok = wait_until(&e->sp.received, rp0 + NMSG, 5000) && wait_until(&e->sd.received, rd0 + NMSG, 5000);
	usleep(2000);
	printf("  %-28s cut after %4ld stores (%s, %3d exchanges): rebound; %d/%d delivered, bad %d/%d, "
	       "stale %d/%d, dup %d/%d, errors before the rebind %d\n",
	       id, cut_at, phase, exch, e->sd.received - rd0, e->sp.received - rp0, e->sd.bad, e->sp.bad,
	       e->sd.stale, e->sp.stale, e->sd.dup, e->sp.dup, errs);
	if (!ok || e->sd.received - rd0 != NMSG || e->sp.received - rp0 != NMSG || e->sd.bad || e->sp.bad ||
	    e->sd.stale || e->sp.stale || e->sd.dup || e->sp.dup || e->sd.errors + e->sp.errors != errs)
		fail_msg("%s: traffic after the rebind is wrong (errors \"%s\" / \"%s\")", id, e->sd.last_error,
			 e->sp.last_error);
	assert_int_equal(icmsg_close(&e->dut), 0);
	assert_int_equal(icmsg_close(&e->peer), 0);
}

static struct env *cur;

static void run_variant(bool both)
{
	const char *only = getenv("RESET_VARIANT");
	if (only && strcmp(only, both ? "both" : "dut"))
		skip();
	/* k: 160 covers bonding and a few dozen exchanges; the sanitizer builds (10x slower) cover the first 48 */
	const char *scale = getenv("AMPL_TEST_SCALE");
	long k = getenv("RESET_K") ? atol(getenv("RESET_K")) : scale && !strcmp(scale, "sanitizer") ? 48 : 160;
	long n1 = 1, n2 = k;
	if (getenv("RESET_N"))
		n1 = n2 = atol(getenv("RESET_N"));
	assert_true(n2 >= 1);
	cur = env_up();
	for (long n = n1; n <= n2; n++)
		one(cur, both, n);
	env_down(cur);
	cur = NULL;
}

static int teardown(void **state)
{
	(void)state;
	if (cur) { /* a failed case: release the SoC for the next test */
		atomic_store(&budget, LONG_MAX);
		(void)icmsg_close(&cur->dut);
		(void)icmsg_close(&cur->peer);
		env_down(cur);
		cur = NULL;
	}
	return 0;
}

static void test_reset_dut(void **state)
{
	(void)state;
	run_variant(false);
}

static void test_reset_both(void **state)
{
	(void)state;
	run_variant(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_reset_dut, teardown),
		cmocka_unit_test_teardown(test_reset_both, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
