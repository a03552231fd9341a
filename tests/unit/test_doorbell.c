/*
 * The POSIX port's doorbells (src/port/posix/doorbell.c): a wait returns once rung, times out when not, and the
 * adaptive mode's spin follows what this thread's waits needed: it shrinks to nothing while every wait has to
 * sleep or runs out of time while spinning (a waiter must not hold a CPU its ringer needs), and comes back once a
 * wait is caught by the spin.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "port/posix/port_posix.h"

static struct ampl_doorbell db;

/* One unrung adaptive wait with a 2 ms bound: the spin runs out first, then the sleep times out. */
static int unrung_wait(void)
{
	uint32_t seen = ampl_doorbell_seq(&db);
	return ampl_doorbell_wait(&db, seen, AMPL_WAIT_ADAPTIVE, ampl_now_ns() + 2000000u);
}

static void test_unrung_wait_times_out(void **state)
{
	(void)state;
	uint64_t t0 = ampl_now_ns();
	assert_int_equal(unrung_wait(), -ETIMEDOUT);
	assert_true(ampl_now_ns() - t0 >= 2000000u);
}

static void *ring_later(void *arg)
{
	(void)arg;
	usleep(20000);
	ampl_doorbell_ring(&db);
	return NULL;
}

static void test_wait_returns_when_rung(void **state)
{
	(void)state;
	for (int mode = AMPL_WAIT_POLL; mode <= AMPL_WAIT_BLOCK; mode++) {
		pthread_t t;
		uint32_t seen = ampl_doorbell_seq(&db);
		assert_int_equal(pthread_create(&t, NULL, ring_later, NULL), 0);
		assert_int_equal(ampl_doorbell_wait(&db, seen, (enum ampl_wait_mode)mode, 0), 0);
		assert_int_not_equal(ampl_doorbell_seq(&db), seen);
		pthread_join(t, NULL);
	}
}

/* In a thread of its own: the budget is per thread and starts full. */
static void *budget_thread(void *arg)
{
	int *failed = arg;
	*failed = 1;
	if (ampl_doorbell_spin_budget() != AMPL_ADAPTIVE_SPINS)
		return NULL;
	/* Every wait sleeps: the spin halves each time, to none within log2(AMPL_ADAPTIVE_SPINS) + 1 waits. */
	uint32_t last = ampl_doorbell_spin_budget();
	for (int i = 0; i < 13; i++) {
		if (unrung_wait() != -ETIMEDOUT)
			return NULL;
		uint32_t b = ampl_doorbell_spin_budget();
		if (b != last / 2)
			return NULL;
		last = b;
	}
	if (last != 0)
		return NULL;
	/* A blocking or polling wait leaves it alone. */
	ampl_doorbell_ring(&db);
	if (ampl_doorbell_wait(&db, ampl_doorbell_seq(&db) - 1u, AMPL_WAIT_BLOCK, 0) ||
	    ampl_doorbell_wait(&db, ampl_doorbell_seq(&db) - 1u, AMPL_WAIT_POLL, 0) || ampl_doorbell_spin_budget())
		return NULL;
	/* A wait the spin catches (here at its first poll) brings a spin back: twice its polls and a margin. */
	if (ampl_doorbell_wait(&db, ampl_doorbell_seq(&db) - 1u, AMPL_WAIT_ADAPTIVE, 0) ||
	    ampl_doorbell_spin_budget() != 128u)
		return NULL;
	*failed = 0;
	return NULL;
}

/* In a thread of its own: a wait whose deadline passes while it spins halves the spin too (it did not end the wait). */
static void *deadline_thread(void *arg)
{
	int *failed = arg;
	*failed = 1;
	if (ampl_doorbell_spin_budget() != AMPL_ADAPTIVE_SPINS)
		return NULL;
	/* A deadline already past: the spin's first look at the clock (its 128th poll) ends the wait. */
	if (ampl_doorbell_wait(&db, ampl_doorbell_seq(&db), AMPL_WAIT_ADAPTIVE, ampl_now_ns()) != -ETIMEDOUT)
		return NULL;
	if (ampl_doorbell_spin_budget() != AMPL_ADAPTIVE_SPINS / 2u)
		return NULL;
	*failed = 0;
	return NULL;
}

/* Run @body in a thread of its own (the spin budget is per thread, full at its start); it clears *failed on success. */
static void in_fresh_thread(void *(*body)(void *))
{
	pthread_t t;
	int failed = -1;
	assert_int_equal(pthread_create(&t, NULL, body, &failed), 0);
	pthread_join(t, NULL);
	assert_int_equal(failed, 0);
}

static void test_adaptive_spin_halves_on_deadline_in_spin(void **state)
{
	(void)state;
	in_fresh_thread(deadline_thread);
}

static void test_adaptive_spin_follows_the_waits(void **state)
{
	(void)state;
	in_fresh_thread(budget_thread);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unrung_wait_times_out),
		cmocka_unit_test(test_wait_returns_when_rung),
		cmocka_unit_test(test_adaptive_spin_follows_the_waits),
		cmocka_unit_test(test_adaptive_spin_halves_on_deadline_in_spin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
