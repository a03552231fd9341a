/*
 * Hotplug under traffic: the APU streams requests to RPU0 (another process) through the mailbox framework while
 * RPU0 is taken offline and brought back again and again. Every request the framework accepted gets exactly one
 * tx_done; one reported done was delivered exactly once; none is delivered twice; sends while RPU0 is offline fail
 * at once with -ESHUTDOWN; and after the last return every request gets through.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/mailbox_client.h>
#include <amplink/host/soc.h>
#include "child.h"

#define N_TOGGLE 400000 /* at most, requests while toggling */
#define N_AFTER 1000  /* requests after the last return: all must succeed */
#define N_ALL (N_TOGGLE + N_AFTER)

struct shared {
	_Atomic uint32_t received[N_ALL];
	_Atomic int rpu_ready, rpu_stop;
};

static struct shared *sh;

struct msg {
	size_t len;
	uint32_t seq;
	uint32_t check;
};

static void rpu_rx(struct mbox_client *cl, void *m)
{
	(void)cl;
	struct zynqmp_ipi_message *msg = m;
	uint32_t seq, check;
	memcpy(&seq, msg->data, 4);
	memcpy(&check, msg->data + 4, 4);
	if (seq < N_ALL && check == (seq ^ 0x5A5A5A5Au))
		atomic_fetch_add(&sh->received[seq], 1);
}

static int rpu_main(const char *name)
{
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	if (ampl_soc_open(name, &soc) || ampl_agent_attach(soc, "rpu0", &o, &ag))
		return 2;
	const struct mbox_consumer *con;
	if (ampl_agent_mbox_consumer(ag, "ipi_client_rpu0", &con))
		return 3;
	struct mbox_client cl = { .node = con, .rx_callback = rpu_rx };
	struct mbox_chan *rx = mbox_request_channel_byname(&cl, "apu_rx");
	if (AMPL_IS_ERR(rx))
		return 4;
	atomic_store(&sh->rpu_ready, 1);
	while (!atomic_load(&sh->rpu_stop))
		usleep(1000);
	mbox_free_channel(rx);
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	return 0;
}

static struct {
	int result[N_ALL]; /* 1: not sent yet or refused at once; else the tx_done result */
	_Atomic int ndone[N_ALL];
	int accepted, shut, ok;
	atomic_int fast_fail;
} tx;

static void apu_done(struct mbox_client *cl, void *m, int r)
{
	(void)cl;
	struct msg *msg = m;
	atomic_fetch_add(&tx.ndone[msg->seq], 1);
	tx.result[msg->seq] = r;
}

struct sender {
	struct mbox_chan *chan;
	int from, to;
	atomic_bool stop; /* set by the toggler when its cycles are over */
	bool retry_refused;
	int next;         /* first sequence number not used */
};

static void *send_range(void *arg)
{
	struct sender *s = arg;
	static struct msg msgs[N_ALL];
	int seq;
	for (seq = s->from; seq < s->to && !atomic_load(&s->stop); seq++) {
		msgs[seq].len = 8;
		msgs[seq].seq = (uint32_t)seq;
		msgs[seq].check = (uint32_t)seq ^ 0x5A5A5A5Au;
		int r = mbox_send_message(s->chan, &msgs[seq]);
		if (r == -ESHUTDOWN && atomic_load(&tx.ndone[seq]) == 0) {
			atomic_fetch_add(&tx.fast_fail, 1); /* refused before it went anywhere: no tx_done owed */
			usleep(100);
			if (s->retry_refused)
				seq--; /* the return is announced asynchronously: try this one again */
			continue;
		}
		tx.accepted++;
		if (r == -ESHUTDOWN)
			tx.shut++;
		else if (r == 0)
			tx.ok++;
		else
			fail_msg("seq %d: unexpected %s", seq, ampl_errname(r));
	}
	s->next = seq;
	return NULL;
}

static void test_hotplug_under_traffic(void **state)
{
	(void)state;
	char name[64];
	snprintf(name, sizeof(name), "t-hotplug-%d", (int)getpid());
	ampl_soc_destroy(name);
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), 0);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_ptr_not_equal(sh, MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	pid_t rpu = test_fork();
	if (rpu == 0)
		_exit(rpu_main(name));
	while (!atomic_load(&sh->rpu_ready)) {
		int st;
		assert_int_equal(waitpid(rpu, &st, WNOHANG), 0); /* the rpu process is still starting */
		usleep(1000);
	}

	struct ampl_soc *soc;
	struct ampl_agent *ag;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	assert_int_equal(ampl_agent_attach(soc, "apu", &o, &ag), 0);
	const struct mbox_consumer *con;
	assert_int_equal(ampl_agent_mbox_consumer(ag, "ipi_client_apu", &con), 0);
	struct mbox_client cl = { .node = con, .tx_done = apu_done, .tx_block = true, .tx_tout = 5000 };
	struct mbox_chan *chan = mbox_request_channel_byname(&cl, "rpu0");
	assert_false(AMPL_IS_ERR(chan));
	const struct ampl_soc_agent *rpu0 = ampl_soc_agent_by_name(&ampl_soc_zynqmp, "rpu0");
	/* The operator: a handle attached as no agent (a handle attached as apu may not take rpu0 offline). */
	struct ampl_soc *op;
	assert_int_equal(ampl_soc_open(name, &op), 0);

	struct sender s = { .chan = chan, .from = 0, .to = N_TOGGLE };
	pthread_t th;
	pthread_create(&th, NULL, send_range, &s);
	int cycles;
	for (cycles = 0; cycles < 20; cycles++) {
		usleep(2000);
		assert_int_equal(ampl_soc_agent_set_online(op, rpu0, false), 0);
		assert_false(ampl_soc_agent_online(soc, rpu0));
		assert_int_equal(ampl_soc_agent_set_online(op, rpu0, false), -EALREADY);
		/* Stay offline until the sender has been refused at least once (bounded; not a timing assumption). */
		int ff = atomic_load(&tx.fast_fail);
		for (int i = 0; i < 5000 && atomic_load(&tx.fast_fail) == ff; i++)
			usleep(1000);
		assert_int_equal(ampl_soc_agent_set_online(op, rpu0, true), 0);
		assert_true(ampl_soc_agent_online(soc, rpu0));
	}
	atomic_store(&s.stop, true);
	pthread_join(th, NULL);
	int shut_during = tx.shut, fast_during = atomic_load(&tx.fast_fail);

	/* Back for good: traffic resumes, every request gets through. */
	struct sender after = { .chan = chan, .from = N_TOGGLE, .to = N_ALL, .retry_refused = true };
	send_range(&after);

	atomic_store(&sh->rpu_stop, 1);
	int status;
	waitpid(rpu, &status, 0);
	mbox_free_channel(chan);
	ampl_agent_detach(ag);
	ampl_soc_close(op);
	ampl_soc_close(soc);
	ampl_soc_destroy(name);
	print_message("%d offline/online cycles: %d accepted, %d done, %d reported -ESHUTDOWN, %d refused at once\n",
		      cycles, tx.accepted, tx.ok, shut_during, fast_during);
	assert_true(fast_during >= cycles); /* every offline period refused sends */

	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(fast_during > 0);
	assert_true(s.next < N_TOGGLE);
	int delivered = 0;
	for (int seq = 0; seq < N_ALL; seq++) {
		if (seq >= s.next && seq < N_TOGGLE)
			continue; /* never used */
		int nd = atomic_load(&tx.ndone[seq]);
		uint32_t got = atomic_load(&sh->received[seq]);
		if (got > 1)
			fail_msg("seq %d delivered %u times", seq, got);
		if (nd > 1)
			fail_msg("seq %d reported %d times", seq, nd);
		if (nd == 1 && tx.result[seq] == 0 && got != 1)
			fail_msg("seq %d reported done but not delivered", seq);
		if (nd == 0 && got)
			fail_msg("seq %d delivered but never accepted", seq);
		if (seq >= N_TOGGLE && (nd != 1 || tx.result[seq] != 0 || got != 1))
			fail_msg("seq %d after the last return: reported %d (%s), delivered %u", seq, nd,
				 ampl_errname(tx.result[seq]), got);
		delivered += (int)got;
	}
	int reported = 0;
	for (int seq = 0; seq < N_ALL; seq++)
		reported += atomic_load(&tx.ndone[seq]);
	assert_int_equal(reported, tx.accepted);
	assert_true(delivered >= tx.ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hotplug_under_traffic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
