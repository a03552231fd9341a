/*
 * Dynamic agents: a process attached as RPU0 is brought up as RPU1 (ampl_agent_reassign()) while the APU (another
 * process) streams requests to both ids, and a third process then takes RPU0. Every request is either delivered
 * exactly once, to the process holding its target id at the time, and reported done, or reported failed
 * (-ESHUTDOWN) and never delivered; nothing hangs; the APU's channel to RPU0 fails while the id is retired and
 * reaches the new process afterwards. Also the API's refusals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <amplink/ipm.h>
#include <amplink/host/soc.h>
#include "child.h"

#define N_MAX 200000 /* requests at most */

enum holder { NONE = 0, W_RPU0 = 1, W_RPU1 = 2, W2_RPU0 = 3 };

struct shared {
	_Atomic uint32_t received[N_MAX];
	_Atomic uint8_t by[N_MAX]; /* enum holder of the (last) delivery */
	atomic_int wrong;          /* delivered to a process not holding the target id */
	atomic_int w_ready, move, moved, take, w2_ready, stop;
};

static struct shared *sh;

struct msg {
	uint32_t seq, target, check;
};

struct rx_ctx {
	const char *as;
	enum holder tag;
};

static void rx_cb(const struct ampl_device *dev, void *ud, uint32_t id, volatile void *data)
{
	(void)dev;
	(void)id;
	struct rx_ctx *c = ud;
	struct msg m;
	memcpy(&m, (const void *)data, sizeof(m));
	if (m.seq >= N_MAX || m.check != (m.seq ^ 0x3C3C3C3Cu))
		return;
	const struct ampl_soc_agent *me = ampl_soc_agent_by_name(&ampl_soc_zynqmp, c->as);
	if (m.target != me->ipi->bit)
		atomic_fetch_add(&sh->wrong, 1);
	atomic_store(&sh->by[m.seq], (uint8_t)c->tag);
	atomic_fetch_add(&sh->received[m.seq], 1);
}

static bool wait_flag(atomic_int *f)
{
	for (int i = 0; i < 20000 && !atomic_load(f); i++) {
		if (getppid() == 1)
			return false; /* the test went away */
		usleep(1000);
	}
	return atomic_load(f);
}

static int listen(struct ampl_agent *ag, struct rx_ctx *c)
{
	const struct ampl_device *dev;
	if (ampl_agent_channel(ag, "apu", &dev))
		return -1;
	ipm_register_callback(dev, rx_cb, c);
	return ipm_set_enabled(dev, 1);
}

/* Attached as RPU0, then brought up as RPU1. */
static int worker_main(const char *soc_name)
{
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	static struct rx_ctx as_rpu0 = { "rpu0", W_RPU0 }, as_rpu1 = { "rpu1", W_RPU1 };
	if (ampl_soc_open(soc_name, &soc) || ampl_agent_attach(soc, "rpu0", &o, &ag) || listen(ag, &as_rpu0))
		return 2;
	atomic_store(&sh->w_ready, 1);
	if (!wait_flag(&sh->move))
		return 3;
	if (ampl_agent_reassign(&ag, "rpu1", NULL))
		return 4;
	if (strcmp(ampl_agent_info(ag)->name, "rpu1") || listen(ag, &as_rpu1))
		return 5;
	atomic_store(&sh->moved, 1);
	if (!wait_flag(&sh->stop))
		return 6;
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	return 0;
}

/* Takes RPU0 once the worker has left it and the APU has seen the id refused. */
static int worker2_main(const char *soc_name)
{
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	static struct rx_ctx as_rpu0 = { "rpu0", W2_RPU0 };
	if (!wait_flag(&sh->take))
		return 3;
	if (ampl_soc_open(soc_name, &soc) || ampl_agent_attach(soc, "rpu0", &o, &ag) || listen(ag, &as_rpu0))
		return 2;
	atomic_store(&sh->w2_ready, 1);
	if (!wait_flag(&sh->stop))
		return 6;
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	return 0;
}

static struct {
	int result[N_MAX];
	uint8_t target[N_MAX]; /* 0 rpu0, 1 rpu1 */
	atomic_int n;
	atomic_int ok[2], shut[2];
	atomic_bool stop;
	const struct ampl_device *to[2];
	uint32_t bit[2];
} tx;

static void *sender(void *arg)
{
	(void)arg;
	int seq;
	for (seq = 0; seq < N_MAX && !atomic_load(&tx.stop); seq++) {
		int t = seq & 1;
		struct msg m = { (uint32_t)seq, tx.bit[t], (uint32_t)seq ^ 0x3C3C3C3Cu };
		tx.target[seq] = (uint8_t)t;
		int r = ipm_send(tx.to[t], 1, 0, &m, sizeof(m));
		tx.result[seq] = r;
		if (r == 0)
			atomic_fetch_add(&tx.ok[t], 1);
		else if (r == -ESHUTDOWN)
			atomic_fetch_add(&tx.shut[t], 1);
		atomic_store(&tx.n, seq + 1);
		if (r)
			usleep(50); /* refused: the peer's id is changing hands */
	}
	return NULL;
}

static bool wait_count(atomic_int *v, int want)
{
	for (int i = 0; i < 20000 && atomic_load(v) < want; i++)
		usleep(1000);
	return atomic_load(v) >= want;
}

static void test_reassign_under_traffic(void **state)
{
	(void)state;
	char name[64];
	snprintf(name, sizeof(name), "t-dyn-%d", (int)getpid());
	ampl_soc_destroy(name);
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), 0);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_ptr_not_equal(sh, MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	pid_t w = test_fork();
	if (w == 0)
		_exit(worker_main(name));
	pid_t w2 = test_fork();
	if (w2 == 0)
		_exit(worker2_main(name));

	struct ampl_soc *soc;
	struct ampl_agent *apu;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE, .ack_timeout_us = 3000000 };
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	const struct ampl_soc_agent *rpu0 = ampl_soc_agent_by_name(&ampl_soc_zynqmp, "rpu0");
	const struct ampl_soc_agent *rpu1 = ampl_soc_agent_by_name(&ampl_soc_zynqmp, "rpu1");
	/* RPU1 has no process yet: retired, so that requests to it fail at once instead of waiting for an ack. */
	assert_int_equal(ampl_soc_agent_retire(soc, rpu1), 0);
	assert_int_equal(ampl_soc_agent_retire(soc, rpu1), -EALREADY);
	assert_true(ampl_soc_agent_retired(soc, rpu1));
	assert_true(wait_flag(&sh->w_ready));
	assert_int_equal(ampl_agent_attach(soc, "apu", &o, &apu), 0);
	assert_int_equal(ampl_agent_channel(apu, "rpu0", &tx.to[0]), 0);
	assert_int_equal(ampl_agent_channel(apu, "rpu1", &tx.to[1]), 0);
	tx.bit[0] = rpu0->ipi->bit;
	tx.bit[1] = rpu1->ipi->bit;

	pthread_t th;
	pthread_create(&th, NULL, sender, NULL);
	assert_true(wait_count(&tx.ok[0], 500));
	assert_true(wait_count(&tx.shut[1], 1));
	atomic_store(&sh->move, 1);
	assert_true(wait_flag(&sh->moved));
	int shut0 = atomic_load(&tx.shut[0]);
	assert_true(wait_count(&tx.shut[0], shut0 + 1)); /* RPU0 is retired: refused */
	atomic_store(&sh->take, 1);
	assert_true(wait_flag(&sh->w2_ready));
	int ok0 = atomic_load(&tx.ok[0]), ok1 = atomic_load(&tx.ok[1]);
	assert_true(wait_count(&tx.ok[0], ok0 + 500));
	assert_true(wait_count(&tx.ok[1], ok1 + 500));
	atomic_store(&tx.stop, true);
	pthread_join(th, NULL);
	atomic_store(&sh->stop, 1);
	int st1, st2;
	waitpid(w, &st1, 0);
	waitpid(w2, &st2, 0);
	assert_false(ampl_soc_agent_retired(soc, rpu0));
	assert_false(ampl_soc_agent_retired(soc, rpu1));
	ampl_agent_detach(apu);
	ampl_soc_close(soc);
	ampl_soc_destroy(name);
	assert_true(WIFEXITED(st1) && WEXITSTATUS(st1) == 0);
	assert_true(WIFEXITED(st2) && WEXITSTATUS(st2) == 0);

	int n = atomic_load(&tx.n);
	print_message("%d requests: to rpu0 %d done, %d -ESHUTDOWN; to rpu1 %d done, %d -ESHUTDOWN\n", n,
		      atomic_load(&tx.ok[0]), atomic_load(&tx.shut[0]), atomic_load(&tx.ok[1]),
		      atomic_load(&tx.shut[1]));
	assert_int_equal(atomic_load(&sh->wrong), 0);
	int last_w = -1, first_w2 = n, shut_between = 0;
	for (int seq = 0; seq < n; seq++) {
		uint32_t got = atomic_load(&sh->received[seq]);
		int by = atomic_load(&sh->by[seq]), r = tx.result[seq];
		if (r == 0 && got != 1)
			fail_msg("seq %d reported done, delivered %u times", seq, got);
		if (r == -ESHUTDOWN && got != 0)
			fail_msg("seq %d reported -ESHUTDOWN, delivered %u times", seq, got);
		if (r != 0 && r != -ESHUTDOWN)
			fail_msg("seq %d: unexpected %s", seq, ampl_errname(r));
		if (!got)
			continue;
		int want = tx.target[seq] ? W_RPU1 : (by == W2_RPU0 ? W2_RPU0 : W_RPU0);
		if (by != want)
			fail_msg("seq %d to %s delivered by holder %d", seq, tx.target[seq] ? "rpu1" : "rpu0", by);
		if (by == W_RPU0)
			last_w = seq;
		if (by == W2_RPU0 && seq < first_w2)
			first_w2 = seq;
	}
	/* RPU0 changed hands once: the old process's deliveries all come before the new one's, with the id
	 * refused in between (the APU's channel went offline, then online). */
	for (int seq = last_w + 1; seq < first_w2; seq++)
		shut_between += tx.target[seq] == 0 && tx.result[seq] == -ESHUTDOWN;
	assert_true(last_w >= 0 && first_w2 < n && last_w < first_w2);
	assert_true(shut_between > 0);
}

/* What the calls refuse, and a retired id coming back at attach. */
static void test_refusals(void **state)
{
	(void)state;
	char name[64];
	snprintf(name, sizeof(name), "t-dyn2-%d", (int)getpid());
	ampl_soc_destroy(name);
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), 0);
	struct ampl_soc *soc;
	struct ampl_agent *ag, *other;
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	assert_int_equal(ampl_agent_attach(soc, "rpu0", NULL, &ag), 0);
	assert_int_equal(ampl_agent_attach(soc, "rpu1", NULL, &other), 0);
	struct ampl_agent *keep = ag;
	assert_int_equal(ampl_agent_reassign(&ag, "nosuch", NULL), -EINVAL);
	assert_non_null(strstr(ampl_soc_last_error(), "unknown agent 'nosuch'"));
	assert_int_equal(ampl_agent_reassign(&ag, "rpu0", NULL), -EINVAL);
	assert_int_equal(ampl_agent_reassign(&ag, "rpu1", NULL), -EBUSY); /* held (by this process) */
	assert_ptr_equal(ag, keep);
	assert_string_equal(ampl_agent_info(ag)->name, "rpu0");
	assert_int_equal(ampl_agent_reassign(NULL, "rpu1", NULL), -EINVAL);
	assert_int_equal(ampl_agent_retire(NULL), -EINVAL);

	const struct ampl_soc_agent *rpu0 = ampl_soc_agent_by_name(&ampl_soc_zynqmp, "rpu0");
	assert_int_equal(ampl_agent_reassign(&ag, "apu", NULL), 0);
	assert_string_equal(ampl_agent_info(ag)->name, "apu");
	assert_true(ampl_soc_agent_retired(soc, rpu0));
	assert_false(ampl_soc_agent_online(soc, rpu0));
	assert_int_equal(ampl_soc_agent_pid(soc, rpu0), 0);
	/* The APU's channel to the retired id fails at once. */
	const struct ampl_device *dev;
	assert_int_equal(ampl_agent_channel(ag, "rpu0", &dev), 0);
	uint32_t v = 1;
	for (int i = 0; i < 1000 && ipm_send(dev, 0, 0, &v, sizeof(v)) != -ESHUTDOWN; i++)
		usleep(1000);
	assert_int_equal(ipm_send(dev, 0, 0, &v, sizeof(v)), -ESHUTDOWN);
	/* Attaching as it brings it back. */
	struct ampl_agent *back;
	assert_int_equal(ampl_agent_attach(soc, "rpu0", NULL, &back), 0);
	assert_false(ampl_soc_agent_retired(soc, rpu0));
	assert_true(ampl_soc_agent_online(soc, rpu0));
	/* Retiring an id this process holds from the SoC handle is ampl_agent_retire(). */
	assert_int_equal(ampl_soc_agent_retire(soc, rpu0), 0);
	assert_true(ampl_soc_agent_retired(soc, rpu0));
	ampl_agent_detach(ag);
	ampl_agent_detach(other);
	ampl_soc_close(soc);
	ampl_soc_destroy(name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reassign_under_traffic),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
