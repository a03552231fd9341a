/*
 * POSIX implementation of the portable core's scheduling hooks, and the TX-done poll thread of the mailbox
 * framework (Linux's hrtimer): it polls each polled controller at its own txpoll_period while one of its channels
 * is active and sleeps on a futex otherwise.
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

/*
 * ---- the TX-done poll thread ----
 *
 * One per process while a polled controller is registered: ampl_mbox_poll_attach() starts it at the first,
 * ampl_mbox_poll_detach() stops and joins it after the last. It runs mbox_poll_due(), which polls each controller at
 * its own txpoll_period, and sleeps on a futex until the next tick is due or a kick arms a controller. A forked
 * child has no thread: its first kick starts one if it has polled controllers (the fork handler, registered once).
 */

static pthread_mutex_t poll_mutex = PTHREAD_MUTEX_INITIALIZER; /* poll_users, poll_thread; changes of the atomics */
static unsigned poll_users;            /* registered polled controllers */
static pthread_t poll_thread;
static _Atomic bool poll_running;      /* poll_thread runs, in this process */
static _Atomic uint32_t poll_gen;      /* a thread runs while this is the value it was started with */
static _Atomic uint32_t poll_kicks;
static _Atomic uint32_t poll_sleeping; /* a kick makes the wake-up system call only when the thread sleeps */
static pthread_once_t poll_fork_once = PTHREAD_ONCE_INIT;

static void *poll_main(void *arg)
{
	uint32_t gen = (uint32_t)(uintptr_t)arg;
	while (atomic_load(&poll_gen) == gen) {
		uint32_t seen = atomic_load(&poll_kicks);
		uint32_t wait_us = mbox_poll_due(ampl_os_uptime_us());
		atomic_store(&poll_sleeping, 1);
		if (atomic_load(&poll_kicks) == seen && atomic_load(&poll_gen) == gen)
			ampl_os_wait(&poll_kicks, seen, wait_us);
		atomic_store(&poll_sleeping, 0);
	}
	return NULL;
}

static void poll_wake(void)
{
	atomic_fetch_add(&poll_kicks, 1);
	if (atomic_load(&poll_sleeping))
		ampl_os_wake(&poll_kicks);
}

/* In a forked child: the thread was not copied. */
static void poll_forget(void)
{
	pthread_mutex_init(&poll_mutex, NULL);
	atomic_store(&poll_running, false);
	atomic_store(&poll_sleeping, 0);
}

static void poll_fork_handler(void)
{
	pthread_atfork(NULL, NULL, poll_forget);
}

/* Start the thread if polled controllers need it. Under poll_mutex. */
static void poll_start_locked(void)
{
	if (atomic_load(&poll_running) || !poll_users)
		return;
	pthread_once(&poll_fork_once, poll_fork_handler);
	void *gen = (void *)(uintptr_t)atomic_load(&poll_gen);
	atomic_store(&poll_running, pthread_create(&poll_thread, NULL, poll_main, gen) == 0);
}

void ampl_mbox_poll_attach(struct mbox_controller *mbox)
{
	(void)mbox;
	pthread_mutex_lock(&poll_mutex);
	poll_users++;
	poll_start_locked();
	pthread_mutex_unlock(&poll_mutex);
}

void ampl_mbox_poll_detach(struct mbox_controller *mbox)
{
	(void)mbox;
	pthread_mutex_lock(&poll_mutex);
	bool stop = poll_users && --poll_users == 0 && atomic_load(&poll_running);
	pthread_t t = poll_thread;
	if (stop) {
		atomic_fetch_add(&poll_gen, 1); /* this thread ends; one started later runs */
		atomic_store(&poll_running, false);
	}
	pthread_mutex_unlock(&poll_mutex);
	if (!stop)
		return;
	poll_wake();
	if (pthread_equal(t, pthread_self()))
		pthread_detach(t); /* the last one unregistered from a TX-done callback: the thread ends by itself */
	else
		pthread_join(t, NULL);
}

void ampl_mbox_poll_kick(struct mbox_controller *mbox)
{
	(void)mbox;
	if (!atomic_load(&poll_running)) {
		/* Not started in this (forked) process, or stopping. */
		pthread_mutex_lock(&poll_mutex);
		poll_start_locked();
		pthread_mutex_unlock(&poll_mutex);
	}
	poll_wake();
}
