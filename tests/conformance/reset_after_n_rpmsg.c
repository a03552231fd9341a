/*
 * RPMsg over virtio: a reset after the N-th shared-memory write, N = 1..k (littlefs power-loss style), then both
 * sides rebind over the SAME memory image and 100 checksummed messages flow each way, nothing corrupted, nothing
 * delivered twice, nothing from before the reset delivered after the rebind. The RPMsg counterpart of
 * reset_after_n.c (ICMsg); the same model, read that file's header first.
 *
 * The model: the test links its own build of the real src/ipc/virtqueue.c and rpmsg*.c with the cache-maintenance
 * hooks (<amplink/cache.h>) redirected (dut_cache.h). The side under test ("DUT", the host or the remote) gets a private copy of
 * the region, used as its data cache: its rpmsg_virtio_config.shm points at the copy, ampl_cache_invalidate()
 * copies shared memory into it (a line fill) and ampl_cache_clean() copies it out one 4-byte store at a time.
 * Every store that reaches shared memory counts as one write; after the N-th, stores are dropped (the power is
 * gone). A clean is where the code says a write is published, so this cuts at every publication point and
 * between the words of one (a torn header, table or ring reset). The other side ("peer") uses the shared region
 * directly (a coherent core; the hooks do nothing for its addresses). The copy is never written back or refilled
 * behind the code's back, so a write the code never cleans never reaches the peer, and a read it does not
 * invalidate first sees whatever the DUT last fetched: a missing hook shows up as a failed case. Not modelled: a
 * cache that evicts a dirty line before it is cleaned, lines wider than 4 bytes (false sharing), a warm restart
 * (the copy is refilled at power-up, so an invalidate before the first read is never needed here), and the DUT
 * ringing doorbells after the cut (harmless: nothing new to read).
 *
 * Both sides run as in tests/unit/test_rpmsg.c: one region, one "interrupt" thread per side that sleeps on a
 * semaphore (its doorbell) and runs rpmsg_virtio_notified(); a side's notify hook posts the other side's. Each has
 * one endpoint "rst" (dynamic address, unbound), bound through the name service in both directions (the host
 * announces too: host_announce). Messages carry epoch (0 before the reset, 1 after), sequence and checksum.
 *
 * The reset: the DUT stops (its interrupt thread no longer runs it; no deinit: the power is gone), its state and
 * its "cache" are lost (the copy is refilled from shared memory, as after power-up), then it starts again with a
 * new endpoint. Variants, named "<DUT role>-<who restarts>": remote-dut and host-dut (the peer stays up, and its
 * endpoint must get ns_unbind_cb and then bind to the new DUT), remote-both and host-both (the peer restarts too).
 * The session entry is what lets either side restart; the checks: both endpoints bind again, 100 messages each
 * way arrive intact, once and in order, no epoch-0 message reaches a restarted side or a survivor after its link
 * went down, and no link change or protocol error after the rebind.
 *
 * Two interleavings are forced rather than left to the scheduler, because they are where a restart goes wrong and
 * a free-running test hits them once in thousands of cases: (1) when the DUT's link comes up, the peer runs one
 * pass before the DUT publishes anything more (peer_look()); (2) in the "-dut" variants, for N with bit 1 set,
 * the DUT restarts from inside the survivor's next send, between the survivor writing its message and writing the
 * ring entry and index, so that the survivor's last writes to its old session land after the DUT's start-up.
 *
 * Reproduction id: "reset-after-N <variant> N=<n>"; run one with RESET_N=<n> RESET_VARIANT=<variant>, change k
 * with RESET_K (default 1100: the host needs ~210 stores to bind, the remote ~55, and k covers some 40 to 60
 * messages each way after that; AMPL_TEST_SCALE=sanitizer: 400).
 */
#include <stddef.h>
#include <stdint.h>

#include "dut_cache.h" /* before any amplink header */

#include <amplink/ipc/rpmsg.h>


#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DA_BASE 0x20000000u
#define REGION 0x2000u /* table, two vrings of VNUM, 2 x VNUM buffers of BUFSZ */
#define VNUM 8u
#define BUFSZ 256u
#define NMSG 100
#define WAIT_MS 10000

/* ---- the DUT's "cache": a private copy of the region ---- */

static uint8_t *cache;          /* DUT view */
static volatile uint8_t *shared; /* the region */
static _Atomic long budget;     /* stores that may still reach shared memory */
static _Atomic long stores, dropped;

/* The "survivor mid-send" interleaving (see one()): the peer's next clean from stall_thread restarts the DUT first. */
static _Atomic bool stall_armed;
static pthread_t stall_thread; /* written before stall_armed is set */
static _Atomic bool stalling;  /* the DUT restarts there: peer_look() must not wait for the peer (we hold its lock) */
static void restart_dut(void);

static bool in_cache(const void *addr, size_t len, size_t *off)
{
	const uint8_t *p = addr;
	if (!cache || p < cache || p + len > cache + REGION)
		return false;
	*off = (size_t)(p - cache);
	return true;
}

void dut_clean(const void *addr, size_t len)
{
	size_t off;
	if (!in_cache(addr, len, &off)) {
		if (atomic_load(&stall_armed) && pthread_equal(pthread_self(), stall_thread)) {
			atomic_store(&stall_armed, false);
			atomic_store(&stalling, true);
			restart_dut();
			atomic_store(&stalling, false);
		}
		return;
	}
	for (size_t w = off & ~(size_t)3; w < off + len; w += 4) {
		if (atomic_fetch_sub(&budget, 1) <= 0) {
			atomic_fetch_add(&dropped, 1);
			continue;
		}
		uint32_t v;
		memcpy(&v, cache + w, 4);
		__atomic_store_n((uint32_t *)(void *)&shared[w], v, __ATOMIC_RELEASE);
		atomic_fetch_add(&stores, 1);
	}
}

/* A line fill: every aligned 4-byte word is read in one access, as a bus reads it (never a torn index). */
static void fill_words(size_t from, size_t to)
{
	for (size_t w = from & ~(size_t)3; w < to; w += 4) {
		uint32_t v = __atomic_load_n((volatile uint32_t *)(void *)&shared[w], __ATOMIC_ACQUIRE);
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

/* ---- time ---- */

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void nap_us(long us)
{
	struct timespec ts = { 0, us * 1000 };
	nanosleep(&ts, NULL);
}

/* Poll @cond (a side-effect-free expression) for up to WAIT_MS; @ok receives its final value. */
#define WAIT_UNTIL(ok, cond)                                                                                       \
	do {                                                                                                       \
		uint64_t t0_ = now_ms();                                                                           \
		while (!(cond) && now_ms() - t0_ < WAIT_MS)                                                        \
			nap_us(100);                                                                               \
		(ok) = (cond);                                                                                     \
	} while (0)

/* ---- the two sides ---- */

struct side {
	const char *name;
	bool dut;
	struct side *peer;
	struct rpmsg_device dev;
	struct rpmsg_virtio_config cfg;
	struct rpmsg_ns_entry ns[4];
	struct rpmsg_endpoint ept;
	pthread_t thr;
	sem_t sem;
	pthread_mutex_t mu; /* held while the interrupt thread runs notified(): a reset takes it */
	bool live;          /* under mu */
	_Atomic bool stop;
	_Atomic bool live_flag;                 /* live, readable without mu (peer_look) */
	_Atomic unsigned pass_started, pass_done; /* interrupt-thread passes */
	/* What the callbacks saw; reset only while the side is not live. */
	_Atomic int link_ups, link_downs, unbinds, errors, received, recv1, bad, stale, dup;
	_Atomic int down_base; /* an epoch-0 message received when link_downs > down_base is stale (INT_MAX: none
				* yet; -1: a restarted side, any is) */
	_Atomic long next[2];  /* next expected seq per epoch */
	pthread_mutex_t info_mu;
	char last_error[128];
};

static struct side host, remote;

static void ring(void *priv, uint32_t notifyid)
{
	(void)notifyid;
	sem_post(&((struct side *)priv)->sem);
}

static void on_error(struct rpmsg_device *rdev, const char *msg)
{
	struct side *s = rdev->cfg->priv;
	pthread_mutex_lock(&s->info_mu);
	snprintf(s->last_error, sizeof(s->last_error), "%s", msg);
	pthread_mutex_unlock(&s->info_mu);
	atomic_fetch_add(&s->errors, 1);
}

/*
 * settle(): let side @p run one whole pass that starts after now (a bounded wait; a side that is not running is
 * not waited for). peer_look(): the DUT's link just came up: let the peer run one pass now, before the DUT
 * publishes anything else, so that what the link-up itself wrote (the suppression flag, and whatever else the
 * same cache lines carry) is looked at every time rather than when the threads happen to interleave so.
 */
static void settle(struct side *p)
{
	unsigned st = atomic_load(&p->pass_started);
	sem_post(&p->sem);
	uint64_t t0 = now_ms();
	while (atomic_load(&p->live_flag) && atomic_load(&p->pass_done) < st + 1u && now_ms() - t0 < 1000)
		nap_us(50);
}

static void peer_look(struct side *s)
{
	if (!atomic_load(&stalling))
		settle(s->peer);
}

static void on_link(struct rpmsg_device *rdev, bool up)
{
	struct side *s = rdev->cfg->priv;
	atomic_fetch_add(up ? &s->link_ups : &s->link_downs, 1);
	if (up && s->dut)
		peer_look(s);
}

static uint32_t csum(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

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

static int ep_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept;
	(void)src;
	struct side *s = priv;
	uint8_t p[BUFSZ];
	if (len < 12 || len > sizeof(p)) {
		atomic_fetch_add(&s->bad, 1);
		return RPMSG_SUCCESS;
	}
	memcpy(p, data, len); /* shared memory: copy what is validated */
	uint32_t seq, sum;
	memcpy(&seq, p + 4, 4);
	memcpy(&sum, p + 8, 4);
	if (p[0] > 1 || sum != csum(p + 12, len - 12)) {
		atomic_fetch_add(&s->bad, 1);
		return RPMSG_SUCCESS;
	}
	int ep = p[0];
	if (ep == 0 && atomic_load(&s->link_downs) > atomic_load(&s->down_base))
		atomic_fetch_add(&s->stale, 1); /* from before the reset, after this side's link went down */
	long want = atomic_load(&s->next[ep]);
	if ((long)seq < want)
		atomic_fetch_add(&s->dup, 1); /* delivered twice (or reordered) */
	else if (ep == 1 && (long)seq != want)
		atomic_fetch_add(&s->bad, 1); /* lost after the rebind */
	atomic_store(&s->next[ep], (long)seq + 1);
	if (ep == 1)
		atomic_fetch_add(&s->recv1, 1);
	atomic_fetch_add(&s->received, 1);
	return RPMSG_SUCCESS;
}

static void ep_unbind(struct rpmsg_endpoint *ept)
{
	atomic_fetch_add(&((struct side *)ept->priv)->unbinds, 1);
}

static void *irq_main(void *arg)
{
	struct side *s = arg;
	for (;;) {
		while (sem_wait(&s->sem) != 0)
			;
		if (atomic_load(&s->stop))
			return NULL;
		pthread_mutex_lock(&s->mu);
		atomic_fetch_add(&s->pass_started, 1);
		if (s->live)
			rpmsg_virtio_notified(&s->dev);
		atomic_fetch_add(&s->pass_done, 1);
		pthread_mutex_unlock(&s->mu);
	}
}

static void side_setup(struct side *s, const char *name, int role, bool dut, struct side *peer)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->dut = dut;
	s->peer = peer;
	sem_init(&s->sem, 0, 0);
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->info_mu, NULL);
	s->cfg = (struct rpmsg_virtio_config){
		.role = role, .shm = dut ? cache : (void *)(uintptr_t)shared, .shm_size = REGION, .da_base = DA_BASE,
		.vring_num = VNUM, .h2r_buf_size = BUFSZ, .r2h_buf_size = BUFSZ, .tx_timeout_ms = WAIT_MS,
		.host_announce = true, .notify = ring, .notify_priv = peer, .error = on_error, .link_cb = on_link,
		.priv = s,
	};
	if (role == RPMSG_HOST) {
		s->cfg.ns_table = s->ns;
		s->cfg.ns_table_len = 4;
	}
	assert_int_equal(pthread_create(&s->thr, NULL, irq_main, s), 0);
}

static void side_free(struct side *s)
{
	atomic_store(&s->stop, true);
	sem_post(&s->sem);
	pthread_join(s->thr, NULL);
	sem_destroy(&s->sem);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->info_mu);
}

/* Forget what the callbacks saw (the side is not live: nothing runs them). */
static void side_clear(struct side *s, int down_base)
{
	atomic_store(&s->link_ups, 0);
	atomic_store(&s->link_downs, 0);
	atomic_store(&s->unbinds, 0);
	atomic_store(&s->errors, 0);
	atomic_store(&s->received, 0);
	atomic_store(&s->recv1, 0);
	atomic_store(&s->bad, 0);
	atomic_store(&s->stale, 0);
	atomic_store(&s->dup, 0);
	atomic_store(&s->down_base, down_base);
	atomic_store(&s->next[0], 0);
	atomic_store(&s->next[1], 0);
	s->last_error[0] = 0;
}

/* Power up: a fresh device object and endpoint over the region (the DUT with a cold cache: what memory holds).
 * The endpoint is created before the interrupt thread may run a pass, so that the peer's announcement finds it. */
static void side_start(struct side *s)
{
	pthread_mutex_lock(&s->mu);
	if (s->dut)
		fill_words(0, REGION);
	memset(&s->dev, 0, sizeof(s->dev));
	memset(&s->ept, 0, sizeof(s->ept));
	memset(s->ns, 0, sizeof(s->ns)); /* its RAM: nothing remembered */
	s->ept.priv = s;
	int rc = rpmsg_virtio_init(&s->dev, &s->cfg);
	int rc2 = rc ? rc : rpmsg_create_ept(&s->ept, &s->dev, "rst", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, ep_cb, ep_unbind);
	s->live = true;
	atomic_store(&s->live_flag, true);
	pthread_mutex_unlock(&s->mu);
	assert_int_equal(rc, RPMSG_SUCCESS);
	assert_int_equal(rc2, RPMSG_SUCCESS);
}

/* The side's processor stops: nothing of it runs any more (its memory is forgotten at the next start). */
static void side_kill(struct side *s)
{
	atomic_store(&s->live_flag, false);
	pthread_mutex_lock(&s->mu);
	s->live = false;
	pthread_mutex_unlock(&s->mu);
}

static bool ready(struct side *s)
{
	return is_rpmsg_ept_ready(&s->ept) != 0;
}

static void last_error(struct side *s, char *out, size_t n)
{
	pthread_mutex_lock(&s->info_mu);
	snprintf(out, n, "%s", s->last_error);
	pthread_mutex_unlock(&s->info_mu);
}

/* ---- one case ---- */

struct variant {
	const char *name;
	bool dut_host; /* the DUT is the host (else the remote) */
	bool both;     /* the peer restarts too */
};

static const struct variant variants[] = {
	{ "remote-dut", false, false },
	{ "remote-both", false, true },
	{ "host-dut", true, false },
	{ "host-both", true, true },
};

static struct side *dut_of(const struct variant *v)
{
	return v->dut_host ? &host : &remote;
}

static struct side *peer_of(const struct variant *v)
{
	return v->dut_host ? &remote : &host;
}

/* Stats over a run, for the summary. */
static long cases, cut_bonding, cut_traffic, errors_before, mid_send;
static uint64_t max_case_ms;

static struct side *restarting;

static void restart_dut(void)
{
	side_start(restarting);
}

static void one(const struct variant *v, long n)
{
	struct side *d = dut_of(v), *p = peer_of(v);
	restarting = d;
	char id[64];
	snprintf(id, sizeof(id), "reset-after-N %s N=%ld", v->name, n);
	uint64_t t_case = now_ms();
	for (size_t i = 0; i < REGION; i++)
		shared[i] = 0;
	side_clear(d, INT_MAX);
	side_clear(p, INT_MAX); /* until the reset nothing is stale */
	atomic_store(&budget, n);
	atomic_store(&stores, 0);
	atomic_store(&dropped, 0);

	/* before the reset: bind and exchange until the DUT's N-th write */
	if (n & 1) {
		side_start(d);
		side_start(p);
	} else {
		side_start(p);
		side_start(d);
	}
	uint8_t buf[BUFSZ];
	uint32_t seq[2] = { 0, 0 }; /* DUT, peer */
	long bound_at = -1;
	uint64_t t0 = now_ms();
	while (atomic_load(&budget) > 0 && seq[0] + seq[1] < 4000) {
		if (!ready(d) || !ready(p)) {
			if (now_ms() - t0 > WAIT_MS)
				fail_msg("%s: no binding with the full budget (%ld stores; dut %s ready %d, peer %s ready %d)",
					 id, atomic_load(&stores), d->name, ready(d), p->name, ready(p));
			nap_us(100);
			continue;
		}
		if (bound_at < 0)
			bound_at = atomic_load(&stores);
		bool sent = false;
		for (int i = 0; i < 2; i++) {
			struct side *s = i ? p : d;
			size_t len = make_msg(buf, 0, seq[i], 12 + (seq[i] * 13u) % 28u);
			int r = rpmsg_trysend(&s->ept, buf, (int)len);
			if (r == (int)len) {
				seq[i]++;
				sent = true;
			} else if (r != RPMSG_ERR_NO_BUFF && !(atomic_load(&budget) <= 0 && i == 0)) {
				fail_msg("%s: %s send before the reset: %d", id, s->name, r);
			}
		}
		if (!sent)
			nap_us(30); /* the rings are full: let the interrupt threads run (a yield does not, under load) */
	}
	long cut_at = atomic_load(&stores);
	bool traffic = bound_at >= 0;
	if (traffic)
		cut_traffic++;
	else
		cut_bonding++;

	/* the reset */
	bool peer_was_bound = ready(p);
	int unbinds0 = atomic_load(&p->unbinds);
	atomic_store(&p->down_base, atomic_load(&p->link_downs));
	if (v->both)
		side_kill(p);
	side_kill(d);
	atomic_store(&budget, LONG_MAX);
	side_clear(d, -1); /* a new DUT: nothing from before the reset may reach it */
	if (v->both)
		side_clear(p, -1);
	int pdowns = atomic_load(&p->link_downs), pups = atomic_load(&p->link_ups);
	if (v->both && (n & 2))
		side_start(p);
	if (!v->both && (n & 2) && peer_was_bound) {
		/* The survivor is in the middle of a send when the DUT comes back: the DUT starts from inside the
		 * survivor's first publication (its clean of the message, before the ring entry and the index are
		 * written), so the survivor's ring writes for its old session land after the DUT's start-up. Nothing
		 * of that message may reach the new DUT. If the survivor finds no buffer, it is a plain restart. */
		size_t len = make_msg(buf, 0, seq[1], 16);
		stall_thread = pthread_self();
		atomic_store(&stall_armed, true);
		int r = rpmsg_trysend(&p->ept, buf, (int)len);
		if (atomic_exchange(&stall_armed, false)) {
			side_start(d);
		} else {
			mid_send++;
		}
		if (r != (int)len && r != RPMSG_ERR_NO_BUFF && r != RPMSG_ERR_DEV_STATE)
			fail_msg("%s: %s send while the DUT restarts: %d", id, p->name, r);
	} else {
		side_start(d);
	}
	if (v->both && !(n & 2))
		side_start(p);
	/* The survivor's endpoint learnt its destination from the old DUT: it is unbound first, then binds again. */
	bool unbound = true, rebound = false;
	if (!v->both && peer_was_bound)
		WAIT_UNTIL(unbound, atomic_load(&p->unbinds) > unbinds0);
	if (unbound)
		WAIT_UNTIL(rebound, ready(d) && ready(p));
	if (!rebound) {
		char ed[128], ep[128];
		last_error(d, ed, sizeof(ed));
		last_error(p, ep, sizeof(ep));
		fail_msg("%s: no rebind (cut after %ld stores in %s; dut %s link %d ready %d, peer %s link %d ready %d "
			 "unbinds %d->%d, errors %d/%d \"%s\" \"%s\")",
			 id, cut_at, traffic ? "traffic" : "binding", d->name, rpmsg_virtio_link_up(&d->dev), ready(d),
			 p->name, rpmsg_virtio_link_up(&p->dev), ready(p), unbinds0, atomic_load(&p->unbinds),
			 atomic_load(&d->errors), atomic_load(&p->errors), ed, ep);
	}
	int errs = atomic_load(&d->errors) + atomic_load(&p->errors);
	int downs = atomic_load(&d->link_downs) + atomic_load(&p->link_downs);
	if (errs) {
		char ed[128], ep[128];
		last_error(d, ed, sizeof(ed));
		last_error(p, ep, sizeof(ep));
		printf("  %s: %d protocol error(s) reported before the rebind: \"%s\" / \"%s\"\n", id, errs, ed, ep);
		errors_before++;
	}

	/* after the rebind: 100 checksummed messages each way (blocking sends: they wait for returned buffers) */
	for (uint32_t i = 0; i < NMSG; i++) {
		size_t len = make_msg(buf, 1, i, 12 + (i * 29u) % 117u);
		for (int k = 0; k < 2; k++) {
			struct side *s = k ? p : d;
			int r = rpmsg_send(&s->ept, buf, (int)len);
			if (r != (int)len) {
				char ed[128], ep[128];
				last_error(d, ed, sizeof(ed));
				last_error(p, ep, sizeof(ep));
				fail_msg("%s: %s send %u after the rebind: %d (cut after %ld stores in %s; received %d/%d, "
					 "errors %d/%d \"%s\" / \"%s\", link downs %d/%d)",
					 id, s->name, i, r, cut_at, traffic ? "traffic" : "binding", atomic_load(&d->recv1),
					 atomic_load(&p->recv1), atomic_load(&d->errors), atomic_load(&p->errors), ed, ep,
					 atomic_load(&d->link_downs), atomic_load(&p->link_downs));
			}
		}
	}
	bool ok;
	WAIT_UNTIL(ok, atomic_load(&d->recv1) >= NMSG && atomic_load(&p->recv1) >= NMSG);
	/* One more pass of each side, so that a message delivered twice after the 100th would show. */
	settle(d);
	settle(p);
	int errs_after = atomic_load(&d->errors) + atomic_load(&p->errors) - errs;
	int downs_after = atomic_load(&d->link_downs) + atomic_load(&p->link_downs) - downs;
	printf("  %-30s cut after %4ld stores (%s, %u/%u sent): rebound; %d/%d delivered, bad %d/%d, stale %d/%d, "
	       "dup %d/%d; %llu ms\n",
	       id, cut_at, traffic ? "traffic" : "binding", seq[0], seq[1], atomic_load(&d->recv1),
	       atomic_load(&p->recv1), atomic_load(&d->bad), atomic_load(&p->bad), atomic_load(&d->stale),
	       atomic_load(&p->stale), atomic_load(&d->dup), atomic_load(&p->dup),
	       (unsigned long long)(now_ms() - t_case));
	if (!ok || atomic_load(&d->recv1) != NMSG || atomic_load(&p->recv1) != NMSG || atomic_load(&d->bad) ||
	    atomic_load(&p->bad) || atomic_load(&d->stale) || atomic_load(&p->stale) || atomic_load(&d->dup) ||
	    atomic_load(&p->dup) || errs_after || downs_after) {
		char ed[128], ep[128];
		last_error(d, ed, sizeof(ed));
		last_error(p, ep, sizeof(ep));
		fail_msg("%s: traffic after the rebind is wrong (cut after %ld stores in %s): delivered %d/%d, bad %d/%d, "
			 "stale %d/%d, dup %d/%d, errors after %d (\"%s\" / \"%s\"), link downs after %d (survivor "
			 "downs %d->%d ups %d->%d since the reset)",
			 id, cut_at, traffic ? "traffic" : "binding", atomic_load(&d->recv1), atomic_load(&p->recv1),
			 atomic_load(&d->bad), atomic_load(&p->bad), atomic_load(&d->stale), atomic_load(&p->stale),
			 atomic_load(&d->dup), atomic_load(&p->dup), errs_after, ed, ep, downs_after, pdowns,
			 atomic_load(&p->link_downs), pups, atomic_load(&p->link_ups));
	}
	side_kill(d);
	side_kill(p);
	cases++;
	uint64_t ms = now_ms() - t_case;
	if (ms > max_case_ms)
		max_case_ms = ms;
}

/* ---- the runs ---- */

static bool env_active;

static void env_up(const struct variant *v)
{
	shared = aligned_alloc(64, REGION);
	cache = aligned_alloc(64, REGION);
	assert_non_null((void *)(uintptr_t)shared);
	assert_non_null(cache);
	side_setup(&host, "host", RPMSG_HOST, v->dut_host, &remote);
	side_setup(&remote, "remote", RPMSG_REMOTE, !v->dut_host, &host);
	env_active = true;
}

static void env_down(void)
{
	if (!env_active)
		return;
	side_kill(&host);
	side_kill(&remote);
	side_free(&host);
	side_free(&remote);
	free((void *)(uintptr_t)shared);
	uint8_t *c = cache;
	cache = NULL;
	free(c);
	shared = NULL;
	env_active = false;
}

static void run_variant(const struct variant *v)
{
	const char *only = getenv("RESET_VARIANT");
	if (only && strcmp(only, v->name))
		skip();
	/* k: 1100 covers the handshake and the announcements (the host binds after ~210 stores, the remote after ~55)
	 * and some 40 to 60 messages each way; the sanitizer builds cover the first 400 */
	const char *scale = getenv("AMPL_TEST_SCALE");
	long k = getenv("RESET_K") ? atol(getenv("RESET_K")) : scale && !strcmp(scale, "sanitizer") ? 400 : 1100;
	long n1 = 1, n2 = k;
	if (getenv("RESET_N"))
		n1 = n2 = atol(getenv("RESET_N"));
	assert_true(n2 >= 1);
	cases = cut_bonding = cut_traffic = errors_before = mid_send = 0;
	max_case_ms = 0;
	uint64_t t0 = now_ms();
	env_up(v);
	for (long n = n1; n <= n2; n++)
		one(v, n);
	env_down();
	printf("  %s: N = %ld..%ld, %ld cases (cut while binding %ld, in traffic %ld; restarted while the survivor "
	       "was sending %ld), %ld with errors before the rebind, %llu ms (slowest case %llu ms)\n",
	       v->name, n1, n2, cases, cut_bonding, cut_traffic, mid_send, errors_before,
	       (unsigned long long)(now_ms() - t0), (unsigned long long)max_case_ms);
}

static int teardown(void **state)
{
	(void)state;
	atomic_store(&budget, LONG_MAX);
	env_down(); /* a failed case: stop the threads for the next test */
	return 0;
}

static void test_variant(void **state)
{
	run_variant(*state);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0); /* case lines in order with the failure messages (stderr) */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate_setup_teardown(test_variant, NULL, teardown, (void *)(uintptr_t)&variants[0]),
		cmocka_unit_test_prestate_setup_teardown(test_variant, NULL, teardown, (void *)(uintptr_t)&variants[1]),
		cmocka_unit_test_prestate_setup_teardown(test_variant, NULL, teardown, (void *)(uintptr_t)&variants[2]),
		cmocka_unit_test_prestate_setup_teardown(test_variant, NULL, teardown, (void *)(uintptr_t)&variants[3]),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
