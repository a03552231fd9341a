/*
 * POSIX implementation of the portable core's scheduling hooks, and the TX-done poll thread of the mailbox
 * framework (Linux's hrtimer): it runs mbox_poll_all() every millisecond while some polled channel is active and
 * sleeps on a futex otherwise.
 */
#include "port/posix/port_posix.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <amplink/mailbox_controller.h>

uint64_t ampl_os_uptime_us(void)
{
	return ampl_now_ns() / 1000u;
}

int ampl_os_wait(_Atomic uint32_t *word, uint32_t seen, uint32_t timeout_us)
{
	struct timespec ts = { .tv_sec = timeout_us / 1000000u, .tv_nsec = (long)(timeout_us % 1000000u) * 1000 };
	long r = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, seen,
			 timeout_us == UINT32_MAX ? NULL : &ts, NULL, 0);
	return r < 0 && errno == ETIMEDOUT ? -ETIMEDOUT : 0;
}

void ampl_os_wake(_Atomic uint32_t *word)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* ---- the TX-done poll thread ---- */

#define POLL_PERIOD_NS 1000000L /* 1 ms: the finest txpoll_period honoured */

static atomic_flag poll_started = ATOMIC_FLAG_INIT;
static _Atomic uint32_t poll_kicks;
static _Atomic uint32_t poll_sleeping; /* a kick makes the wake-up system call only when the thread sleeps */

static void *poll_main(void *arg)
{
	(void)arg;
	for (;;) {
		uint32_t seen = atomic_load(&poll_kicks);
		if (!mbox_poll_all()) {
			atomic_store(&poll_sleeping, 1);
			if (atomic_load(&poll_kicks) == seen)
				ampl_os_wait(&poll_kicks, seen, UINT32_MAX);
			atomic_store(&poll_sleeping, 0);
			continue;
		}
		struct timespec ts = { 0, POLL_PERIOD_NS };
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* A forked child has no poll thread: let its first kick start one. */
static void poll_forget(void)
{
	atomic_flag_clear(&poll_started);
}

static void poll_start(void)
{
	pthread_atfork(NULL, NULL, poll_forget);
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_create(&t, &attr, poll_main, NULL);
	pthread_attr_destroy(&attr);
}

void ampl_mbox_poll_kick(struct mbox_controller *mbox)
{
	(void)mbox;
	if (!atomic_flag_test_and_set(&poll_started))
		poll_start();
	atomic_fetch_add(&poll_kicks, 1);
	if (atomic_load(&poll_sleeping))
		ampl_os_wake(&poll_kicks);
}
