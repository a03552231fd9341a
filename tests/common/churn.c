/*
 * Deregister/close/re-open churn for an IPC service backend (churn.h).
 */
#include "churn.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <amplink/ipc_service.h>

struct ipc_churn {
	const struct ampl_device *dev;
	const char *who;
	ipc_churn_closed_fn closed_state;
	struct ipc_ept ept;
	struct ipc_ept_cfg cfg;
	_Atomic int closed; /* set after deregister returned, cleared before register */
	_Atomic int late;   /* callbacks that started or were still running while `closed` */
	_Atomic int view;   /* 1 between bound() and unbound() */
	_Atomic int order;  /* bound() while bound, unbound() or received() while not, or two callbacks at once */
	_Atomic int inside; /* callbacks running */
	_Atomic int bound, unbound, received, errors;
	int cycles, err, err_step, closes;
	bool reopen; /* close and re-open the instance on about half the cycles */
	unsigned seed;
};

static uint64_t churn_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static unsigned churn_rand(unsigned *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void churn_mark(struct ipc_churn *c)
{
	if (atomic_load(&c->closed))
		atomic_fetch_add(&c->late, 1);
}

static void churn_enter(struct ipc_churn *c)
{
	churn_mark(c);
	if (atomic_fetch_add(&c->inside, 1) != 0)
		atomic_fetch_add(&c->order, 1);
}

/*
 * Stay in the callback a little (busy, @us): a deregistration that does not wait for it returns meanwhile, and a
 * callback the backend runs in another context at the same time overlaps it.
 */
static void churn_leave(struct ipc_churn *c, unsigned us)
{
	uint64_t end = churn_now_us() + us;
	while (churn_now_us() < end)
		;
	churn_mark(c);
	atomic_fetch_sub(&c->inside, 1);
}

static void churn_bound(void *priv)
{
	struct ipc_churn *c = priv;
	churn_enter(c);
	if (atomic_exchange(&c->view, 1) != 0)
		atomic_fetch_add(&c->order, 1);
	atomic_fetch_add(&c->bound, 1);
	churn_leave(c, 200); /* binds are few: long enough for the peer's first messages to arrive meanwhile */
}

static void churn_unbound(void *priv)
{
	struct ipc_churn *c = priv;
	churn_enter(c);
	if (atomic_exchange(&c->view, 0) != 1)
		atomic_fetch_add(&c->order, 1);
	atomic_fetch_add(&c->unbound, 1);
	churn_leave(c, 20);
}

static void churn_received(const void *data, size_t len, void *priv)
{
	(void)data;
	(void)len;
	struct ipc_churn *c = priv;
	churn_enter(c);
	if (atomic_load(&c->view) != 1)
		atomic_fetch_add(&c->order, 1);
	atomic_fetch_add(&c->received, 1);
	churn_leave(c, 20);
}

static void churn_error(const char *msg, void *priv)
{
	(void)msg;
	struct ipc_churn *c = priv;
	churn_mark(c);
	atomic_fetch_add(&c->errors, 1);
}

#define CHURN_FAIL(c, step, r)                                                                                     \
	do {                                                                                                       \
		(c)->err = (r);                                                                                    \
		(c)->err_step = (step);                                                                            \
		return NULL;                                                                                       \
	} while (0)

static void *churn_thread(void *arg)
{
	struct ipc_churn *c = arg;
	for (int i = 0; i < c->cycles; i++) {
		atomic_store(&c->view, 0);
		atomic_store(&c->closed, 0);
		int r = ipc_service_register_endpoint(c->dev, &c->ept, &c->cfg);
		if (r)
			CHURN_FAIL(c, 1, r);
		/* stay registered for a varying while (up to 1.5 ms), sending when bound */
		uint64_t until = churn_now_us() + churn_rand(&c->seed) % 1500u;
		do {
			r = ipc_service_send(&c->ept, "ping", 4);
			if (r != 4 && r != -EBUSY && r != -ENOMEM)
				CHURN_FAIL(c, 2, r);
			usleep(20);
		} while (churn_now_us() < until);
		r = ipc_service_deregister_endpoint(&c->ept);
		atomic_store(&c->closed, 1);
		if (r)
			CHURN_FAIL(c, 3, r);
		if ((churn_rand(&c->seed) & 1u) && c->reopen) {
			r = ipc_service_close_instance(c->dev);
			if (r)
				CHURN_FAIL(c, 4, r);
			if ((r = c->closed_state(c->dev)) != 0)
				CHURN_FAIL(c, 5, r);
			usleep(churn_rand(&c->seed) % 300u);
			if ((r = c->closed_state(c->dev)) != 0)
				CHURN_FAIL(c, 6, r);
			r = ipc_service_open_instance(c->dev);
			if (r)
				CHURN_FAIL(c, 7, r);
			c->closes++;
		} else {
			usleep(churn_rand(&c->seed) % 300u);
		}
	}
	return NULL;
}

/* Wait up to 10 s for @v >= @want (for both sides' counters). */
static int churn_wait(_Atomic int *v, int want)
{
	for (int i = 0; i < 10000; i++) {
		if (atomic_load(v) >= want)
			return 1;
		usleep(1000);
	}
	return atomic_load(v) >= want;
}

/*
 * Run the churn over two open instances @dev[0] and @dev[1] (names @who for the report), @cycles per side, with
 * instance close/re-open when @reopen, then rebind both and exchange one message each way; the endpoints are
 * deregistered and the instances left open.
 */
void ipc_churn_run(const struct ampl_device *const dev[2], const char *const who[2], ipc_churn_closed_fn closed, int cycles,
		   bool reopen)
{
	static struct ipc_churn ch[2];
	memset(ch, 0, sizeof(ch));
	for (int s = 0; s < 2; s++) {
		struct ipc_churn *c = &ch[s];
		c->dev = dev[s];
		c->who = who[s];
		c->closed_state = closed;
		c->cycles = cycles;
		c->reopen = reopen;
		c->seed = 0x9E3779B9u * (unsigned)(s + 1);
		c->cfg = (struct ipc_ept_cfg){ .name = "churn",
					       .cb = { .bound = churn_bound,
						       .unbound = churn_unbound,
						       .received = churn_received,
						       .error = churn_error },
					       .priv = c };
	}
	pthread_t th[2];
	uint64_t start = churn_now_us();
	for (int s = 0; s < 2; s++)
		assert_int_equal(pthread_create(&th[s], NULL, churn_thread, &ch[s]), 0);
	for (int s = 0; s < 2; s++)
		pthread_join(th[s], NULL);
	printf("  %d cycles per side in %u ms\n", cycles, (unsigned)((churn_now_us() - start) / 1000u));
	for (int s = 0; s < 2; s++)
		printf("  churn %s: %d closes; bound %d unbound %d received %d errors %d; failed step %d (%d); "
		       "callbacks after deregister %d, out of order %d\n",
		       ch[s].who, ch[s].closes, ch[s].bound, ch[s].unbound, ch[s].received, ch[s].errors, ch[s].err_step,
		       ch[s].err, ch[s].late, ch[s].order);
	for (int s = 0; s < 2; s++) {
		if (ch[s].err_step)
			fail_msg("%s: step %d answered %d", ch[s].who, ch[s].err_step, ch[s].err);
		assert_int_equal(atomic_load(&ch[s].late), 0);
		assert_int_equal(atomic_load(&ch[s].order), 0);
		assert_int_equal(atomic_load(&ch[s].errors), 0);
		assert_true(atomic_load(&ch[s].bound) > 0); /* the churn did bind sometimes */
	}
	/* Afterwards both sides bind again and traffic flows. */
	for (int s = 0; s < 2; s++) {
		atomic_store(&ch[s].closed, 0);
		atomic_store(&ch[s].view, 0);
		atomic_store(&ch[s].bound, 0);
		atomic_store(&ch[s].received, 0);
		assert_int_equal(ipc_service_register_endpoint(ch[s].dev, &ch[s].ept, &ch[s].cfg), 0);
	}
	for (int s = 0; s < 2; s++)
		assert_true(churn_wait(&ch[s].bound, 1));
	for (int s = 0; s < 2; s++) {
		int r;
		for (int i = 0; i < 10000 && (r = ipc_service_send(&ch[s].ept, "ping", 4)) == -ENOMEM; i++)
			usleep(1000);
		assert_int_equal(r, 4);
	}
	for (int s = 0; s < 2; s++)
		assert_true(churn_wait(&ch[s].received, 1));
	for (int s = 0; s < 2; s++) {
		assert_int_equal(ipc_service_deregister_endpoint(&ch[s].ept), 0);
		atomic_store(&ch[s].closed, 1);
	}
	assert_int_equal(ch[0].late + ch[1].late + ch[0].order + ch[1].order, 0);
}
