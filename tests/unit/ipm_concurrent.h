/*
 * Concurrent ipm_send() on one device, shared by the IPI and MU tests: IPMC_SENDERS threads send self-checking
 * messages through the same device at once, half of them with wait = 0 and half with wait = 1, while the receiver's
 * callback checks every message it gets. Each attempt carries a fresh sequence number, so the receiver's tally can
 * be held against the return code of the very call that sent it:
 *   0           delivered exactly once (and, when ipmc.ack_after_callback, already delivered when a wait = 1 send
 *               returns: the IPI acknowledges after the callback returned; the MU frees its registers before it)
 *   -ETIMEDOUT  sent and left pending: delivered exactly once once the receiver catches up
 *   -EBUSY      nothing written: never delivered
 *   anything else is a failure, and so is a message whose checksum, sender or order is wrong.
 *
 * A message is size bytes (16 or 32) of 32-bit words: word 0 = sender << 24 | sequence, then a pattern derived
 * from word 0, then a checksum of everything before it. Nothing here depends on timing: the run stops after
 * IPMC_TARGET successful sends per sender, IPMC_MAX_ATTEMPTS attempts, or a deadline, whichever comes first.
 */
#ifndef TESTS_UNIT_IPM_CONCURRENT_H
#define TESTS_UNIT_IPM_CONCURRENT_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <amplink/ipm.h>

#define IPMC_SENDERS 4
#define IPMC_MAX_ATTEMPTS (1u << 18)
#define IPMC_MAX_WORDS 8u

struct ipmc {
	/* set by the test */
	const struct ampl_device *tx;
	int size;                 /* bytes per message: 16 or 32 (a multiple of 4, >= 12) */
	bool ack_after_callback;  /* wait = 1 returning 0 implies the callback has run */
	int target;               /* successful sends per sender */
	unsigned deadline_ms;     /* the senders stop after this (not a failure) */
	/* receiver */
	atomic_int received;
	atomic_int bad_checksum, bad_header, out_of_order;
	uint32_t first_bad[IPMC_MAX_WORDS];
	atomic_int have_first_bad;
	atomic_int last_seq[IPMC_SENDERS];
	_Atomic unsigned char delivered[IPMC_SENDERS][IPMC_MAX_ATTEMPTS];
	/* senders */
	signed char rc[IPMC_SENDERS][IPMC_MAX_ATTEMPTS]; /* -errno of each attempt */
	unsigned attempts[IPMC_SENDERS];
	int ok[IPMC_SENDERS], busy[IPMC_SENDERS], timedout[IPMC_SENDERS], other[IPMC_SENDERS];
	atomic_int early;   /* wait = 1 returned 0 before the callback saw the message */
	atomic_int go;
	uint64_t stop_at_ms;
};

static inline uint64_t ipmc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline uint32_t ipmc_sum(const uint32_t *w, unsigned n)
{
	uint32_t h = 0x811C9DC5u;
	for (unsigned i = 0; i < n; i++) {
		h ^= w[i];
		h *= 0x01000193u;
		h ^= h >> 15;
	}
	return h;
}

static inline void ipmc_make(uint32_t *w, unsigned words, unsigned sender, unsigned seq)
{
	w[0] = (uint32_t)sender << 24 | (seq & 0xFFFFFFu);
	for (unsigned i = 1; i + 1 < words; i++)
		w[i] = w[0] * 0x9E3779B1u + i * 0x01010101u;
	w[words - 1] = ipmc_sum(w, words - 1);
}

/* The receive callback (user_data: the struct ipmc). Runs in the receiver's interrupt context. */
static inline void ipmc_rx_cb(const struct ampl_device *dev, void *ud, uint32_t id, volatile void *data)
{
	(void)dev;
	(void)id;
	struct ipmc *c = ud;
	unsigned words = (unsigned)c->size / 4u;
	uint32_t w[IPMC_MAX_WORDS] = { 0 }, want[IPMC_MAX_WORDS];
	for (unsigned i = 0; i < words; i++)
		w[i] = ((volatile uint32_t *)data)[i];
	unsigned sender = w[0] >> 24, seq = w[0] & 0xFFFFFFu;
	bool ok = true;
	if (w[words - 1] != ipmc_sum(w, words - 1)) {
		atomic_fetch_add(&c->bad_checksum, 1);
		ok = false;
	} else if (sender >= IPMC_SENDERS || seq >= IPMC_MAX_ATTEMPTS) {
		atomic_fetch_add(&c->bad_header, 1);
		ok = false;
	} else {
		ipmc_make(want, words, sender, seq);
		if (memcmp(w, want, words * 4u)) {
			atomic_fetch_add(&c->bad_checksum, 1);
			ok = false;
		}
	}
	if (!ok) {
		if (!atomic_exchange(&c->have_first_bad, 1))
			memcpy(c->first_bad, w, words * 4u);
		return;
	}
	/* One sender's messages arrive in the order it sent them (each send starts after the previous returned). */
	if ((int)seq <= atomic_load(&c->last_seq[sender]))
		atomic_fetch_add(&c->out_of_order, 1);
	atomic_store(&c->last_seq[sender], (int)seq);
	atomic_fetch_add(&c->delivered[sender][seq], 1);
	atomic_fetch_add(&c->received, 1);
}

struct ipmc_arg {
	struct ipmc *c;
	unsigned sender;
};

static inline void *ipmc_sender(void *arg)
{
	struct ipmc_arg *a = arg;
	struct ipmc *c = a->c;
	unsigned s = a->sender, words = (unsigned)c->size / 4u;
	int wait = (int)(s & 1u); /* senders 0, 2: wait = 0; 1, 3: wait = 1 */
	while (!atomic_load(&c->go))
		sched_yield();
	unsigned seq = 0;
	for (; seq < IPMC_MAX_ATTEMPTS && c->ok[s] < c->target; seq++) {
		if ((seq & 63u) == 0 && ipmc_now_ms() > c->stop_at_ms)
			break;
		uint32_t w[IPMC_MAX_WORDS];
		ipmc_make(w, words, s, seq);
		int rc = ipm_send(c->tx, wait, 0, w, c->size);
		c->rc[s][seq] = (signed char)(rc < -127 ? -127 : rc > 0 ? 1 : rc);
		if (rc == 0) {
			c->ok[s]++;
			if (wait && c->ack_after_callback && atomic_load(&c->delivered[s][seq]) != 1)
				atomic_fetch_add(&c->early, 1);
		} else if (rc == -EBUSY) {
			c->busy[s]++;
			sched_yield();
		} else if (rc == -ETIMEDOUT) {
			c->timedout[s]++;
		} else {
			c->other[s]++;
		}
	}
	c->attempts[s] = seq;
	return NULL;
}

/*
 * Run the senders against c->tx (whose receiver must already call ipmc_rx_cb with c) and check the tally.
 * @drain: called while waiting for messages still pending at the end (e.g. to run the receiver's handler), may be
 *         NULL; @drain_arg its argument. @label names the run in messages. Fails the test on any inconsistency.
 */
static inline void ipmc_run(struct ipmc *c, const char *label, void (*drain)(void *), void *drain_arg)
{
	const char *scale = getenv("AMPL_TEST_SCALE");
	if (scale && !strcmp(scale, "sanitizer"))
		c->target = c->target > 40 ? 40 : c->target;
	for (unsigned s = 0; s < IPMC_SENDERS; s++)
		atomic_store(&c->last_seq[s], -1);
	c->stop_at_ms = ipmc_now_ms() + c->deadline_ms;
	pthread_t t[IPMC_SENDERS];
	struct ipmc_arg args[IPMC_SENDERS];
	for (unsigned s = 0; s < IPMC_SENDERS; s++) {
		args[s].c = c;
		args[s].sender = s;
		if (pthread_create(&t[s], NULL, ipmc_sender, &args[s]))
			fail_msg("[%s] pthread_create", label);
	}
	uint64_t started = ipmc_now_ms();
	atomic_store(&c->go, 1);
	for (unsigned s = 0; s < IPMC_SENDERS; s++)
		pthread_join(t[s], NULL);
	uint64_t sending = ipmc_now_ms() - started;

	/* Everything sent (0 or -ETIMEDOUT) must arrive: wait for it (bounded generously; reported, not judged). */
	int expected = 0;
	for (unsigned s = 0; s < IPMC_SENDERS; s++)
		expected += c->ok[s] + c->timedout[s];
	uint64_t t0 = ipmc_now_ms();
	while (atomic_load(&c->received) < expected && ipmc_now_ms() - t0 < 10000) {
		if (drain)
			drain(drain_arg);
		usleep(1000);
	}
	usleep(20000); /* a duplicate or a refused message that was written anyway would arrive now */
	if (drain)
		drain(drain_arg);

	char counts[512];
	int n = 0;
	for (unsigned s = 0; s < IPMC_SENDERS; s++)
		n += snprintf(counts + n, sizeof(counts) - (size_t)n, " s%u(wait=%u): %u attempts, %d ok, %d -EBUSY, %d -ETIMEDOUT;",
			      s, s & 1u, c->attempts[s], c->ok[s], c->busy[s], c->timedout[s]);
	printf("[%s] %d messages received of %d sent (%llu ms sending, %llu ms draining);%s\n", label,
	       atomic_load(&c->received), expected, (unsigned long long)sending,
	       (unsigned long long)(ipmc_now_ms() - t0), counts);
	fflush(stdout);

	if (atomic_load(&c->bad_checksum) || atomic_load(&c->bad_header))
		fail_msg("[%s] %d corrupt messages and %d with a bad header received (first: %08x %08x %08x ... %08x)",
			 label, atomic_load(&c->bad_checksum), atomic_load(&c->bad_header), c->first_bad[0],
			 c->first_bad[1], c->first_bad[2], c->first_bad[c->size / 4 - 1]);
	/* Tally every attempt against its return code; report how many of each kind, with the first example. */
	enum { LOST, DOUBLED, REFUSED_ARRIVED, UNSENT_ARRIVED, KINDS };
	static const char *const kind[KINDS] = { "sent (0 or -ETIMEDOUT) but never delivered",
						 "delivered more than once", "refused (-EBUSY) but delivered",
						 "never sent but delivered" };
	int bad[KINDS] = { 0 };
	char first[KINDS][160];
	for (unsigned s = 0; s < IPMC_SENDERS; s++) {
		if (c->other[s])
			fail_msg("[%s] sender %u: %d sends returned a code other than 0, -EBUSY, -ETIMEDOUT", label, s,
				 c->other[s]);
		for (unsigned q = 0; q < IPMC_MAX_ATTEMPTS; q++) {
			int rc = q < c->attempts[s] ? c->rc[s][q] : 1;
			unsigned d = atomic_load(&c->delivered[s][q]);
			int k = -1;
			if ((rc == 0 || rc == -ETIMEDOUT) && d == 0)
				k = LOST;
			else if (d > 1)
				k = DOUBLED;
			else if (rc == -EBUSY && d)
				k = REFUSED_ARRIVED;
			else if (rc == 1 && d)
				k = UNSENT_ARRIVED;
			if (k < 0)
				continue;
			if (!bad[k]++)
				snprintf(first[k], sizeof(first[k]), "sender %u (wait=%u) message %u: returned %d (%s), delivered %u times",
					 s, s & 1u, q, rc, rc == 1 ? "not sent" : ampl_errname(rc), d);
		}
	}
	for (int k = 0; k < KINDS; k++)
		if (bad[k])
			print_error("[%s] %d messages %s; first: %s\n", label, bad[k], kind[k], first[k]);
	if (bad[LOST] || bad[DOUBLED] || bad[REFUSED_ARRIVED] || bad[UNSENT_ARRIVED])
		fail_msg("[%s] return codes and deliveries disagree (above)", label);
	if (atomic_load(&c->out_of_order))
		fail_msg("[%s] %d messages arrived out of their sender's order", label, atomic_load(&c->out_of_order));
	if (atomic_load(&c->early))
		fail_msg("[%s] %d sends with wait returned 0 before the receiver had the message", label,
			 atomic_load(&c->early));
	int total = 0;
	for (unsigned s = 0; s < IPMC_SENDERS; s++)
		total += c->ok[s];
	if (!total)
		fail_msg("[%s] no send succeeded in %u ms", label, c->deadline_ms);
}

#endif /* TESTS_UNIT_IPM_CONCURRENT_H */
