/*
 * Doorbells between processes: sequence words in shared memory and process-shared futexes on them.
 *
 * A doorbell set has one sequence word per ringer, in memory only that ringer writes, and a `sleepers` word in the
 * waiters' memory; its sequence is the sum of the words. No lost wake-up: a waiter increments `sleepers` and then
 * re-reads every word before it sleeps on all of them with futex_waitv() (which itself re-checks each word
 * atomically in the kernel); a ringer increments its word and then reads `sleepers`. Both are sequentially
 * consistent, so either the ringer sees the sleeper and wakes it, or the sleeper sees the new word and does not
 * sleep. A ring with nobody asleep costs no system call (an unconditional FUTEX_WAKE costs ~210 ns here). A
 * doorbell of one word (struct ampl_doorbell) is a set of one, with FUTEX_WAIT.
 *
 * `sleepers` is in shared memory, and whoever can write it may corrupt it: 0 while a waiter sleeps (or 0xffffffff,
 * which the waiter's own increment turns into 0) makes every ring skip the wake-up. So no sleep in the kernel lasts
 * longer than AMPL_DOORBELL_RECHECK_MS: the waiter then re-reads the words and returns if one moved. A corrupt word
 * costs up to that much latency per wake-up; it cannot stop a waiter for good.
 */
#include "port/posix/port_posix.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <amplink/port.h>

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449 /* the same number on every architecture (Linux 5.16) */
#endif

/* struct futex_waitv of <linux/futex.h> (Linux 5.16), spelt out for older headers. */
struct waitv {
	uint64_t val;
	uint64_t uaddr;
	uint32_t flags;
	uint32_t reserved;
};
#define WAITV_U32 2u /* FUTEX_32; not FUTEX_PRIVATE_FLAG: the words are shared between processes */

/* Set once futex_waitv() answered ENOSYS: sleeps on several words are then bounded slices. */
static atomic_bool no_waitv;

static long futex(_Atomic uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts)
{
	/* Not FUTEX_PRIVATE_FLAG: the word is shared between processes. */
	return syscall(SYS_futex, (uint32_t *)uaddr, op, val, ts, NULL, 0);
}

void ampl_doorbell_ring_word(_Atomic uint32_t *seq, _Atomic uint32_t *sleepers)
{
	atomic_fetch_add_explicit(seq, 1, memory_order_seq_cst);
	if (atomic_load_explicit(sleepers, memory_order_seq_cst))
		futex(seq, FUTEX_WAKE, INT_MAX, NULL);
}

void ampl_doorbell_set_wake_all(const struct ampl_doorbell_set *s)
{
	for (unsigned i = 0; i < s->n; i++)
		futex(s->seq[i], FUTEX_WAKE, INT_MAX, NULL);
}

/* Sleep at most @left_ns on @s's words, which hold @val. */
static void sleep_words(const struct ampl_doorbell_set *s, const uint32_t *val, uint64_t left_ns)
{
	if (s->n == 1) {
		struct timespec ts = { .tv_sec = (time_t)(left_ns / 1000000000ull), .tv_nsec = (long)(left_ns % 1000000000ull) };
		futex(s->seq[0], FUTEX_WAIT, val[0], &ts);
		return;
	}
	if (!atomic_load_explicit(&no_waitv, memory_order_relaxed)) {
		struct waitv w[AMPL_DOORBELL_MAX_RINGERS];
		for (unsigned i = 0; i < s->n; i++)
			w[i] = (struct waitv){ .val = val[i], .uaddr = (uintptr_t)s->seq[i], .flags = WAITV_U32 };
		uint64_t until = ampl_now_ns() + left_ns; /* futex_waitv() takes an absolute time */
		struct timespec ts = { .tv_sec = (time_t)(until / 1000000000ull), .tv_nsec = (long)(until % 1000000000ull) };
		if (syscall(SYS_futex_waitv, w, s->n, 0, &ts, CLOCK_MONOTONIC) == 0 || errno != ENOSYS)
			return;
		atomic_store_explicit(&no_waitv, true, memory_order_relaxed);
	}
	uint64_t slice = (uint64_t)AMPL_DOORBELL_FALLBACK_US * 1000u;
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)(left_ns < slice ? left_ns : slice) };
	nanosleep(&ts, NULL);
}

static int sleep_on(const struct ampl_doorbell_set *s, uint32_t seen, uint64_t deadline_ns)
{
	atomic_fetch_add_explicit(s->sleepers, 1, memory_order_seq_cst);
	int ret = 0;
	for (;;) {
		/* The words only grow: if their sum is still @seen, none moved, and these are the values to sleep on. */
		uint32_t val[AMPL_DOORBELL_MAX_RINGERS], sum = 0;
		for (unsigned i = 0; i < s->n; i++)
			sum += val[i] = atomic_load_explicit(s->seq[i], memory_order_seq_cst);
		if (sum != seen)
			break;
		uint64_t left = (uint64_t)AMPL_DOORBELL_RECHECK_MS * 1000000u;
		if (deadline_ns) {
			uint64_t now = ampl_now_ns();
			if (now >= deadline_ns) {
				ret = -ETIMEDOUT;
				break;
			}
			if (deadline_ns - now < left)
				left = deadline_ns - now;
		}
		sleep_words(s, val, left);
	}
	atomic_fetch_sub_explicit(s->sleepers, 1, memory_order_seq_cst);
	return ret;
}

/*
 * The adaptive spin of this thread: how many polls its waits have needed lately. A wait that the spin ended grows
 * it to twice the polls it took (and a margin); a wait that had to sleep, or ran out of time while it spun, halves
 * it, down to no spin at all, so a thread whose peers cannot run while it spins (more spinners than CPUs) soon stops
 * taking their CPU. Every SPIN_PROBE-th wait spins the whole AMPL_ADAPTIVE_SPINS, to find out whether spinning pays
 * again.
 */
#define SPIN_PROBE 32u
static _Thread_local uint32_t spin_budget = AMPL_ADAPTIVE_SPINS;
static _Thread_local uint32_t spin_waits;

uint32_t ampl_doorbell_spin_budget(void)
{
	return spin_budget;
}

int ampl_doorbell_set_wait(const struct ampl_doorbell_set *s, uint32_t seen, enum ampl_wait_mode mode,
			   uint64_t deadline_ns)
{
	if (mode != AMPL_WAIT_BLOCK) {
		bool adaptive = mode == AMPL_WAIT_ADAPTIVE;
		uint32_t limit = !adaptive ? UINT32_MAX : ++spin_waits % SPIN_PROBE ? spin_budget : AMPL_ADAPTIVE_SPINS;
		uint64_t spin_end = 0; /* read the clock only once the first polls found nothing */
		for (uint32_t i = 0;; i++) {
			if (ampl_doorbell_set_seq(s) != seen) {
				uint32_t want = 2u * i + 128u;
				if (adaptive && spin_budget < want)
					spin_budget = want < AMPL_ADAPTIVE_SPINS ? want : AMPL_ADAPTIVE_SPINS;
				return 0;
			}
			if (i >= limit)
				break;
			/* The clock every 128 polls keeps the spin tight and its bounds honest. */
			if ((i & 127u) == 127u && (deadline_ns || adaptive)) {
				uint64_t now = ampl_now_ns();
				if (deadline_ns && now >= deadline_ns) {
					/* Out of time while spinning (a slow or preempted thread): the spin did not end the wait. */
					if (adaptive)
						spin_budget /= 2u;
					return -ETIMEDOUT;
				}
				if (adaptive && !spin_end)
					spin_end = now + AMPL_ADAPTIVE_SPIN_NS;
				else if (adaptive && now >= spin_end)
					break;
			}
			ampl_cpu_relax();
		}
		spin_budget /= 2u;
	}
	return sleep_on(s, seen, deadline_ns);
}

int ampl_doorbell_wait(struct ampl_doorbell *db, uint32_t seen, enum ampl_wait_mode mode, uint64_t deadline_ns)
{
	struct ampl_doorbell_set one = { .seq = { &db->seq }, .n = 1, .sleepers = &db->sleepers };
	return ampl_doorbell_set_wait(&one, seen, mode, deadline_ns);
}

int ampl_wait_mode_parse(const char *s, enum ampl_wait_mode *mode)
{
	if (!s || !mode)
		return -EINVAL;
	if (!strcmp(s, "poll") || !strcmp(s, "polling"))
		*mode = AMPL_WAIT_POLL;
	else if (!strcmp(s, "adaptive"))
		*mode = AMPL_WAIT_ADAPTIVE;
	else if (!strcmp(s, "block") || !strcmp(s, "blocking"))
		*mode = AMPL_WAIT_BLOCK;
	else
		return -EINVAL;
	return 0;
}

const char *ampl_wait_mode_name(enum ampl_wait_mode mode)
{
	switch (mode) {
	case AMPL_WAIT_POLL:
		return "polling";
	case AMPL_WAIT_ADAPTIVE:
		return "adaptive";
	case AMPL_WAIT_BLOCK:
		return "blocking";
	}
	return "?";
}
