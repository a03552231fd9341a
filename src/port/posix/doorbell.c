/*
 * Doorbells between processes: a sequence word in shared memory and a process-shared futex on it.
 *
 * No lost wake-up: a waiter increments `sleepers` and then re-reads `seq` before FUTEX_WAIT (which itself re-checks
 * seq atomically in the kernel); a ringer increments `seq` and then reads `sleepers`. Both are sequentially
 * consistent, so either the ringer sees the sleeper and wakes it, or the sleeper sees the new seq and does not
 * sleep. A ring with nobody asleep costs no system call (an unconditional FUTEX_WAKE costs ~210 ns here).
 *
 * Both words are in shared memory and any attached process may corrupt them: `sleepers` at 0 while a waiter sleeps
 * (or at 0xffffffff, which the waiter's own increment turns into 0) makes every ring skip the wake-up. So no sleep
 * in the kernel lasts longer than AMPL_DOORBELL_RECHECK_MS: the waiter then re-reads `seq` and returns if it moved.
 * A corrupt word costs up to that much latency per wake-up; it cannot stop a waiter for good.
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

static long futex(_Atomic uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts)
{
	/* Not FUTEX_PRIVATE_FLAG: the word is shared between processes. */
	return syscall(SYS_futex, (uint32_t *)uaddr, op, val, ts, NULL, 0);
}

void ampl_doorbell_ring(struct ampl_doorbell *db)
{
	atomic_fetch_add_explicit(&db->seq, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&db->sleepers, memory_order_seq_cst))
		futex(&db->seq, FUTEX_WAKE, INT_MAX, NULL);
}

void ampl_doorbell_wake_all(struct ampl_doorbell *db)
{
	futex(&db->seq, FUTEX_WAKE, INT_MAX, NULL);
}

static int sleep_on(struct ampl_doorbell *db, uint32_t seen, uint64_t deadline_ns)
{
	atomic_fetch_add_explicit(&db->sleepers, 1, memory_order_seq_cst);
	int ret = 0;
	while (atomic_load_explicit(&db->seq, memory_order_seq_cst) == seen) {
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
		struct timespec ts = { .tv_sec = (time_t)(left / 1000000000ull), .tv_nsec = (long)(left % 1000000000ull) };
		futex(&db->seq, FUTEX_WAIT, seen, &ts);
	}
	atomic_fetch_sub_explicit(&db->sleepers, 1, memory_order_seq_cst);
	return ret;
}

int ampl_doorbell_wait(struct ampl_doorbell *db, uint32_t seen, enum ampl_wait_mode mode, uint64_t deadline_ns)
{
	if (mode != AMPL_WAIT_BLOCK) {
		for (uint32_t i = 0;; i++) {
			if (ampl_doorbell_seq(db) != seen)
				return 0;
			if (mode == AMPL_WAIT_ADAPTIVE && i >= AMPL_ADAPTIVE_SPINS)
				break;
			/* Checking the clock every 1024 polls keeps the spin tight and the bound honest. */
			if (deadline_ns && (i & 1023u) == 1023u && ampl_now_ns() >= deadline_ns)
				return -ETIMEDOUT;
			ampl_cpu_relax();
		}
	}
	return sleep_on(db, seen, deadline_ns);
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
