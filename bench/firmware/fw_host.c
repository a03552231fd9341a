/* The Linux end of the firmware tests and of the firmware benchmark: see fw_host.h. */
#include "fw_host.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <amplink/port.h>

struct fw_ept {
	_Atomic uint32_t next_seq; /* the next ask's sequence number (written by the test thread) */
	_Atomic uint32_t expect;   /* the sequence number the next answer must carry */
	atomic_bool bound;
	uint32_t lost;             /* asks declared lost at resets and rebinds */
};

struct fw_run {
	const struct fw_backend *be;
	const char *mode_name;
	struct ampl_emu_qemu q;
	struct ampl_emu_qemu_config cfg;
	struct ampl_emu_link link;
	bool caller_polls;
	struct fw_ept ept[ECHO_MAX_EPT];
	uint32_t sent;            /* asks sent, all endpoints */
	_Atomic uint32_t done;    /* asks answered or declared lost, all endpoints */
	atomic_uint bad;
	char first_bad[200];
	uint32_t lost_reset, lost_rebind;
	/* The benchmark (fw_bench()): fig non-NULL; round trips, a timed stream, no reset or rebind, quiet. */
	struct fw_figures *fig;
	unsigned count;
	double seconds;
	uint64_t bytes;    /* ask bytes sent */
	uint64_t until_ns; /* a stream stops sending at this time (0: after its count) */
};

#define FW_RTT_MAX 20000u /* round trips one run records */

static struct fw_run run;

struct fw_run *fw_current(void)
{
	return &run;
}

void *fw_window(struct fw_run *r)
{
	return r->q.window;
}

struct mbox_chan *fw_tx_chan(struct fw_run *r)
{
	return &r->link.chans[0];
}

struct mbox_chan *fw_rx_chan(struct fw_run *r)
{
	return &r->link.chans[1];
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void note_bad(struct fw_run *r, const char *fmt, ...)
{
	if (atomic_fetch_add(&r->bad, 1u) != 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->first_bad, sizeof(r->first_bad), fmt, ap);
	va_end(ap);
}

void fw_bound(struct fw_run *r, unsigned ept)
{
	if (ept < ECHO_MAX_EPT)
		atomic_store(&r->ept[ept].bound, true);
}

void fw_unbound(struct fw_run *r, unsigned ept)
{
	if (ept < ECHO_MAX_EPT)
		atomic_store(&r->ept[ept].bound, false);
}

void fw_answer(struct fw_run *r, unsigned ept, const void *data, size_t len)
{
	uint8_t m[ECHO_MSG_MAX];
	if (ept >= r->be->n_ept) {
		note_bad(r, "an answer on unknown endpoint %u", ept);
		return;
	}
	struct fw_ept *e = &r->ept[ept];
	if (len > sizeof(m)) {
		note_bad(r, "endpoint %u: an answer of %zu bytes", ept, len);
		atomic_fetch_add(&r->done, 1u);
		return;
	}
	memcpy(m, data, len); /* the payload may be in shared memory: checked and used from one copy */
	uint32_t seq = len >= ECHO_HDR ? echo_get32(m) : 0, expect = atomic_load(&e->expect);
	uint8_t st = echo_check(m, len, ECHO_KIND_ANSWER, seq);
	if (st != ECHO_OK) {
		note_bad(r, "endpoint %u: malformed answer near %u (status %u)", ept, expect, st);
	} else if (m[7] != ECHO_OK) {
		note_bad(r, "endpoint %u: the firmware rejected ask %u, status %u (4: sequence)", ept, seq, m[7]);
	} else if (seq < expect) {
		note_bad(r, "endpoint %u: answer %u delivered twice or after a restart (waiting for %u)", ept, seq, expect);
	} else if (seq > expect) {
		note_bad(r, "endpoint %u: answers %u..%u lost in the middle of a binding", ept, expect, seq - 1u);
	} else if (seq >= atomic_load(&e->next_seq)) {
		note_bad(r, "endpoint %u: answer to ask %u, never sent", ept, seq);
	} else {
		uint32_t n = (uint32_t)m[4] | (uint32_t)m[5] << 8;
		uint8_t ask[ECHO_MAX_PAYLOAD];
		for (uint32_t i = 0; i < echo_len(seq); i++)
			ask[i] = echo_pattern(seq, i);
		if (n != echo_len(seq))
			note_bad(r, "endpoint %u: answer %u: payload length %u", ept, seq, n);
		else
			for (uint32_t i = 0; i < n; i++)
				if (m[ECHO_HDR + i] != echo_answer_byte(ask, n, i)) {
					note_bad(r, "endpoint %u: answer %u: payload byte %u", ept, seq, i);
					break;
				}
	}
	if (seq >= expect)
		atomic_store(&e->expect, seq + 1u);
	atomic_fetch_add(&r->done, 1u);
	ampl_os_wake(&r->done);
}

/* Let the receive side work once: the caller's poll in polling mode, a short sleep otherwise. */
static void pump(struct fw_run *r, uint32_t seen)
{
	if (r->caller_polls) {
		if (ampl_emu_link_poll(&r->link) <= 0)
			sched_yield();
	} else {
		ampl_os_wait(&r->done, seen, 1000);
	}
}

/* Wait until done >= @n; false after FW_WAIT_MS. */
static bool wait_done(struct fw_run *r, uint32_t n)
{
	uint64_t deadline = now_ns() + FW_WAIT_MS * 1000000ull;
	uint32_t seen;
	while ((seen = atomic_load(&r->done)) < n) {
		if (now_ns() > deadline)
			return false;
		pump(r, seen);
	}
	return true;
}

static bool is_bound(struct fw_run *r, unsigned i)
{
	return r->be->is_bound ? r->be->is_bound(r, i) : atomic_load(&r->ept[i].bound);
}

/* Wait until every endpoint is bound (@want) or unbound; the time it took in *ms. */
static bool wait_bound(struct fw_run *r, bool want, double *ms)
{
	uint64_t t0 = now_ns(), deadline = t0 + FW_WAIT_MS * 1000000ull;
	for (;;) {
		bool all = true;
		for (unsigned i = 0; i < r->be->n_ept; i++)
			all = all && is_bound(r, i) == want;
		if (all)
			break;
		if (now_ns() > deadline)
			return false;
		if (r->caller_polls)
			(void)ampl_emu_link_poll(&r->link);
		sched_yield();
	}
	if (ms)
		*ms = (double)(now_ns() - t0) / 1e6;
	return true;
}

/* Send the next ask of endpoint @i, retrying while there is no room (@retry). Return: 0; -EBUSY (not bound);
 * -ENOMEM (no room); another negative code. */
static int send_ask(struct fw_run *r, unsigned i, bool retry)
{
	struct fw_ept *e = &r->ept[i];
	uint8_t msg[ECHO_MSG_MAX];
	uint32_t seq = atomic_load(&e->next_seq), len = echo_len(seq);
	for (uint32_t k = 0; k < len; k++)
		msg[ECHO_HDR + k] = echo_pattern(seq, k);
	size_t total = echo_seal(msg, seq, len, ECHO_KIND_ASK, 0);
	uint64_t deadline = now_ns() + FW_WAIT_MS * 1000000ull;
	/* Counted as sent before it goes: the answer can arrive before the send returns. */
	atomic_store(&e->next_seq, seq + 1u);
	int err;
	while ((err = r->be->send(r, i, msg, total)) == -ENOMEM && retry && now_ns() < deadline)
		pump(r, atomic_load(&r->done));
	if (err) {
		atomic_store(&e->next_seq, seq); /* not sent: the number is used by the next ask */
		return err;
	}
	r->sent++;
	r->bytes += total;
	return 0;
}

/* Asks outstanding at a reset or a rebind are lost; the next answer of each endpoint is its next ask's. */
static uint32_t declare_lost(struct fw_run *r)
{
	uint32_t lost = 0;
	for (unsigned i = 0; i < r->be->n_ept; i++) {
		struct fw_ept *e = &r->ept[i];
		uint32_t next = atomic_load(&e->next_seq), n = next - atomic_exchange(&e->expect, next);
		e->lost += n;
		lost += n;
	}
	atomic_fetch_add(&r->done, lost);
	return lost;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

#define FAIL(...)                                                                                                  \
	do {                                                                                                       \
		printf("FAIL %s %s: ", r->be->name, r->mode_name);                                                \
		printf(__VA_ARGS__);                                                                               \
		printf("\n");                                                                                      \
		return false;                                                                                      \
	} while (0)

/* @count asks with up to FW_IN_FLIGHT outstanding; stops after @stop_after sends (0: never) with them in flight. */
static bool stream(struct fw_run *r, uint32_t count, uint32_t stop_after, double *per_s)
{
	uint64_t t0 = now_ns();
	uint32_t base = r->sent;
	for (uint32_t k = 0; k < count; k++) {
		if (stop_after && k == stop_after)
			return true;
		if (r->until_ns && k && now_ns() >= r->until_ns) {
			count = k;
			break;
		}
		if (r->sent - atomic_load(&r->done) >= FW_IN_FLIGHT && !wait_done(r, r->sent - FW_IN_FLIGHT + 1))
			FAIL("stream stalled at ask %u (%u answered or lost)", r->sent, atomic_load(&r->done));
		int err = send_ask(r, (base + k) % r->be->n_ept, true);
		if (err)
			FAIL("ask %u: send %d", r->sent, err);
	}
	if (!wait_done(r, r->sent))
		FAIL("%u of %u asks answered within %u ms", atomic_load(&r->done), r->sent, FW_WAIT_MS);
	if (per_s)
		*per_s = count / ((double)(now_ns() - t0) / 1e9);
	return true;
}

void fw_percentiles(uint64_t *ns, unsigned n, struct fw_figures *out)
{
	qsort(ns, n, sizeof(ns[0]), cmp_u64);
	out->n = n;
	out->p50 = n ? (double)ns[n / 2] / 1e3 : 0;
	out->p90 = n ? (double)ns[(uint64_t)n * 90 / 100] / 1e3 : 0;
	out->p99 = n ? (double)ns[(uint64_t)n * 99 / 100] / 1e3 : 0;
	out->max = n ? (double)ns[n - 1] / 1e3 : 0;
}

static bool round_trips(struct fw_run *r, uint32_t n, struct fw_figures *out)
{
	static uint64_t rtt[FW_RTT_MAX];
	for (uint32_t k = 0; k < n; k++) {
		uint64_t t0 = now_ns();
		int err = send_ask(r, k % r->be->n_ept, true);
		if (err)
			FAIL("ask %u: send %d", r->sent, err);
		if (!wait_done(r, r->sent))
			FAIL("no answer to ask %u within %u ms", r->sent - 1u, FW_WAIT_MS);
		rtt[k] = now_ns() - t0;
	}
	fw_percentiles(rtt, n, out);
	return true;
}

/* The firmware reset mid-stream: QEMU killed while asks are in flight, started again on the same window. */
static bool reset_phase(struct fw_run *r)
{
	char err[256];
	double unbound_ms, bound_ms;
	if (!stream(r, FW_RESUME, FW_RESUME / 2, NULL))
		return false;
	uint32_t in_flight = r->sent - atomic_load(&r->done);
	kill(r->q.pid, SIGKILL);
	if (!wait_bound(r, false, &unbound_ms))
		FAIL("QEMU killed, but the endpoints did not go unbound within %u ms", FW_WAIT_MS);
	/* Nothing may be accepted for a firmware that is gone. */
	for (unsigned i = 0; i < r->be->n_ept; i++) {
		int e = send_ask(r, i, false);
		if (e == 0)
			FAIL("endpoint %u accepted a message while the firmware was down", i);
	}
	uint32_t lost = declare_lost(r);
	r->lost_reset += lost;
	uint64_t t0 = now_ns();
	int e = ampl_emu_link_restart(&r->link, &r->cfg, err, sizeof(err));
	if (e)
		FAIL("restarting QEMU on the same window: %s (%d)", err, e);
	double boot_ms = (double)(now_ns() - t0) / 1e6;
	if (!wait_bound(r, true, &bound_ms))
		FAIL("the restarted firmware did not bind again within %u ms", FW_WAIT_MS);
	printf("%s %s: reset: QEMU killed with %u asks in flight; unbound seen after %.1f ms; restarted and ready in "
	       "%.0f ms, bound again %.1f ms later; %u asks lost (in flight), boot %u\n",
	       r->be->name, r->mode_name, in_flight, unbound_ms, boot_ms, bound_ms, lost,
	       atomic_load(&r->q.boot->fw_boots));
	if (lost > FW_IN_FLIGHT)
		FAIL("%u asks lost, more than the %u that can be in flight", lost, FW_IN_FLIGHT);
	return stream(r, FW_RESUME, 0, NULL);
}

/* This side closes its endpoints and instance mid-stream and opens them again. */
static bool rebind_phase(struct fw_run *r)
{
	double bound_ms;
	if (!stream(r, FW_RESUME, FW_RESUME / 2, NULL))
		return false;
	uint32_t in_flight = r->sent - atomic_load(&r->done);
	r->be->close(r);
	uint32_t lost = declare_lost(r);
	r->lost_rebind += lost;
	for (unsigned i = 0; i < r->be->n_ept; i++)
		atomic_store(&r->ept[i].bound, false);
	int e = r->be->open(r);
	if (e)
		FAIL("opening again: %d", e);
	if (!wait_bound(r, true, &bound_ms))
		FAIL("not bound again within %u ms after reopening", FW_WAIT_MS);
	printf("%s %s: rebind: closed with %u asks in flight, bound again %.1f ms after reopening; %u asks lost (in "
	       "flight)\n",
	       r->be->name, r->mode_name, in_flight, bound_ms, lost);
	if (lost > FW_IN_FLIGHT)
		FAIL("%u asks lost, more than the %u that can be in flight", lost, FW_IN_FLIGHT);
	return stream(r, FW_RESUME, 0, NULL);
}

static bool phases(struct fw_run *r)
{
	double bound_ms, per_s;
	struct fw_figures f = { 0 };
	if (!wait_bound(r, true, &bound_ms))
		FAIL("the endpoints did not bind within %u ms", FW_WAIT_MS);
	if (r->fig) {
		if (!round_trips(r, r->count, r->fig))
			return false;
		uint32_t sent0 = r->sent;
		uint64_t bytes0 = r->bytes, t0 = now_ns();
		r->until_ns = t0 + (uint64_t)(r->seconds * 1e9);
		if (!stream(r, UINT32_MAX, 0, &per_s))
			return false;
		double s = (double)(now_ns() - t0) / 1e9;
		r->fig->stream_msgs = r->sent - sent0;
		r->fig->msgs_per_s = r->fig->stream_msgs / s;
		r->fig->mb_per_s = (double)(r->bytes - bytes0) / s / 1e6;
		return true;
	}
	if (!round_trips(r, FW_COUNT, &f) || !stream(r, FW_COUNT, 0, &per_s))
		return false;
	double p50 = f.p50, p99 = f.p99, max = f.max;
	printf("%s %s: round trip p50 %.1f us, p99 %.1f us, max %.1f us (%u asks); stream %.0f messages/s each way "
	       "(%u asks, %u in flight)\n",
	       r->be->name, r->mode_name, p50, p99, max, FW_COUNT, per_s, FW_COUNT, FW_IN_FLIGHT);
	printf("RESULT backend=\"%s\" doorbell=%s rtt_p50_us=%.1f stream_msgs_per_s=%.0f\n", r->be->name,
	       r->mode_name, p50, per_s);
	if (!r->be->restarts)
		return true;
	return reset_phase(r) && rebind_phase(r);
}

/* One backend in one doorbell mode (@fig: the benchmark's run, quiet, into *@fig): 0 passed, 1 failed. */
static int run_mode(const struct fw_backend *be, const char *elf, uint32_t mode, struct fw_figures *fig,
		    unsigned count, double seconds)
{
	struct fw_run *r = &run;
	char err[256];

	memset(r, 0, sizeof(*r));
	r->fig = fig;
	r->count = count < FW_RTT_MAX ? count : FW_RTT_MAX;
	r->seconds = seconds;
	r->be = be;
	r->mode_name = mode == AMPL_EMU_DOORBELL_POLL ? "polling" : "interrupts";
	r->caller_polls = mode == AMPL_EMU_DOORBELL_POLL;
	r->cfg = (struct ampl_emu_qemu_config){ .kernel = elf, .doorbell = mode, .quiet = fig != NULL };
	memcpy(r->cfg.arg, be->arg, sizeof(r->cfg.arg));
	uint64_t t0 = now_ns();
	int e = ampl_emu_qemu_start(&r->q, &r->cfg, err, sizeof(err));
	if (e) {
		printf("FAIL %s %s: starting the firmware: %s (%d)\n", be->name, r->mode_name, err, e);
		return 1;
	}
	if (!fig)
		printf("%s %s: firmware ready after %.0f ms\n", be->name, r->mode_name, (double)(now_ns() - t0) / 1e6);
	e = ampl_emu_link_start(&r->link, "/emu-doorbell", &r->q, !r->caller_polls);
	if (e) {
		printf("FAIL %s %s: doorbell controller: %d\n", be->name, r->mode_name, e);
		ampl_emu_qemu_kill(&r->q);
		return 1;
	}
	bool opened = false, ok = false;
	e = be->open(r);
	if (e)
		printf("FAIL %s %s: opening the instance: %d\n", be->name, r->mode_name, e);
	else
		opened = true;
	if (opened)
		ok = phases(r);
	/* Read the firmware's counters while the window is mapped. */
	const _Atomic uint32_t *app = r->q.boot ? r->q.boot->app : NULL;
	uint32_t fw_asks = app ? atomic_load(&app[ECHO_APP_ASKS]) : 0, dups = app ? atomic_load(&app[ECHO_APP_DUPS]) : 0,
		 gaps = app ? atomic_load(&app[ECHO_APP_GAPS]) : 0;
	if (opened)
		be->close(r);
	if (!fig)
		printf("%s %s: doorbells: this side rang %u times (%u more merged into bytes still unread) and was rung %u "
	       "times\n",
	       be->name, r->mode_name, atomic_load(&r->link.rings_out), atomic_load(&r->link.rings_merged),
	       atomic_load(&r->link.rings_in));
	ampl_emu_link_stop(&r->link);
	int code;
	e = ampl_emu_qemu_stop(&r->q, FW_WAIT_MS, &code);
	uint32_t lost = r->lost_reset + r->lost_rebind;
	if (e) {
		printf("FAIL %s %s: the firmware did not exit within %u ms (QEMU killed)\n", be->name, r->mode_name,
		       FW_WAIT_MS);
		ok = false;
	} else if (code != ECHO_EXIT_OK) {
		printf("FAIL %s %s: the firmware exited with %d (echo.h ECHO_EXIT_*)\n", be->name, r->mode_name, code);
		ok = false;
	}
	if (atomic_load(&r->bad)) {
		printf("FAIL %s %s: %u bad answers; first: %s\n", be->name, r->mode_name, atomic_load(&r->bad),
		       r->first_bad);
		ok = false;
	}
	if (dups || gaps) {
		printf("FAIL %s %s: the firmware saw %u asks delivered twice and %u skips within a binding\n", be->name,
		       r->mode_name, dups, gaps);
		ok = false;
	}
	if (fw_asks > r->sent || fw_asks + lost < r->sent) {
		printf("FAIL %s %s: the firmware counted %u asks; %u were sent, %u of them lost at restarts\n", be->name,
		       r->mode_name, fw_asks, r->sent, lost);
		ok = false;
	}
	if (ok && !fig)
		printf("ok %s %s: %u asks sent, %u answered and checked on both sides, %u lost at the reset and %u at the "
		       "rebind (all in flight; the firmware received %u of those), nothing delivered twice, firmware "
		       "exit 0\n",
		       be->name, r->mode_name, r->sent, r->sent - lost, r->lost_reset, r->lost_rebind,
		       lost - (r->sent - fw_asks));
	return ok ? 0 : 1;
}

int fw_can_run(const char *const *envs, unsigned n)
{
	char why[256];
	setvbuf(stdout, NULL, _IONBF, 0);
	for (unsigned i = 0; i < n; i++) {
		const char *elf = getenv(envs[i]);
		if (!elf || !*elf) {
			printf("SKIPPED: the firmware was not built (its cross compiler was not found when configuring: "
			       "Debian package gcc-arm-none-eabi for mps2-an386, gcc-riscv64-unknown-elf for riscv-virt)\n");
			return FW_SKIP;
		}
		/* The emulator of each image's board (the ELF machine says which). */
		struct ampl_emu_qemu_config cfg = { .kernel = elf };
		if (ampl_emu_qemu_find(&cfg, why, sizeof(why))) {
			printf("SKIPPED: %s\n", why);
			return FW_SKIP;
		}
	}
	return 0;
}

int fw_main(const struct fw_backend *const *backends, unsigned n)
{
	int failed = 0;

	const char *envs[8] = { NULL };
	unsigned k = n < 8 ? n : 8;
	for (unsigned i = 0; i < k; i++)
		envs[i] = backends[i]->image_env;
	if (fw_can_run(envs, k))
		return FW_SKIP;
	for (unsigned i = 0; i < n; i++) {
		const char *elf = getenv(backends[i]->image_env);
		failed += run_mode(backends[i], elf, AMPL_EMU_DOORBELL_POLL, NULL, FW_COUNT, 0);
		failed += run_mode(backends[i], elf, AMPL_EMU_DOORBELL_IRQ, NULL, FW_COUNT, 0);
	}
	return failed ? 1 : 0;
}

int fw_bench(const struct fw_backend *be, const char *elf, uint32_t mode, unsigned count, double seconds,
	     struct fw_figures *out)
{
	memset(out, 0, sizeof(*out));
	return run_mode(be, elf, mode, out, count ? count : 1, seconds);
}
