/*
 * Mixed configurations on one SoC, end to end between processes: the Versal profile's two bufferless agents
 * (ipi6 and pmc-nobuf) and buffered ones (apu, rpu0), each agent a process with its interrupt thread.
 *
 *   apu  -> rpu0       buffered: N 32-byte requests, each answered with its complement in the response buffer
 *   apu  -> ipi6       buffered to bufferless: N doorbells (a message with data is -EMSGSIZE)
 *   apu  -> pmc-nobuf  N doorbells
 *   rpu0 -> ipi6       N doorbells
 *   ipi6 -> pmc-nobuf  bufferless to bufferless: N doorbells
 * Every send waits for the acknowledgement (ipm_send(wait=1)); each receiver counts what arrived and checks the
 * payloads; the buffer table shows the apu <-> rpu0 pairs in use by those two processes and nothing else.
 * Waits are bounded generously (20 s) and reported.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <amplink/device.h>
#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/ipm.h>
#include <amplink/host/soc.h>

#define N 50
#define ACK_US 20000000u

enum { APU, RPU0, IPI6, PMCNB, NUM };
static const char *const names[NUM] = { "apu", "rpu0", "ipi6", "pmc-nobuf" };
/* expected[r][s]: what agent r receives from agent s */
static const int expected[NUM][NUM] = {
	[RPU0] = { [APU] = N },
	[IPI6] = { [APU] = N, [RPU0] = N },
	[PMCNB] = { [APU] = N, [IPI6] = N },
};

static char soc_name[64];
static pid_t kids[NUM];

struct from {
	atomic_int calls;
	atomic_int bad; /* a payload that was not the expected pattern, or data on a doorbell channel */
	bool buffered;
	const struct ampl_device *dev;
};

static void cb(const struct ampl_device *dev, void *ud, uint32_t id, volatile void *data)
{
	(void)id;
	struct from *f = ud;
	if (f->buffered) {
		uint8_t req[32], resp[32];
		for (unsigned i = 0; i < 32; i++)
			req[i] = ((volatile uint8_t *)data)[i];
		for (unsigned i = 1; i < 32; i++)
			if (req[i] != (uint8_t)(req[0] + i))
				atomic_fetch_add(&f->bad, 1);
		for (unsigned i = 0; i < 32; i++)
			resp[i] = (uint8_t)~req[i];
		if (xlnx_ipi_response_write(dev, resp, sizeof(resp)))
			atomic_fetch_add(&f->bad, 1);
	} else if (data) {
		atomic_fetch_add(&f->bad, 1);
	}
	atomic_fetch_add(&f->calls, 1);
}

static int doorbells(const struct ampl_device *to, int n)
{
	for (int i = 0; i < n; i++) {
		int r = ipm_send(to, 1, 0, NULL, 0);
		if (r) {
			fprintf(stderr, "doorbell %d: %s\n", i, ampl_errname(r));
			return r;
		}
	}
	return 0;
}

/* One agent: attach, open a channel to every other agent, receive, send its part, wait for what it expects. */
static int run_agent(unsigned me, int ready_fd, int go_fd)
{
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_BLOCK, .ack_timeout_us = ACK_US };
	if (ampl_soc_open(soc_name, &soc) || ampl_agent_attach(soc, names[me], &o, &ag)) {
		fprintf(stderr, "%s: %s\n", names[me], ampl_soc_last_error());
		return 10;
	}
	static struct from from[NUM];
	for (unsigned s = 0; s < NUM; s++) {
		if (s == me)
			continue;
		if (ampl_agent_channel(ag, names[s], &from[s].dev)) {
			fprintf(stderr, "%s -> %s: %s\n", names[me], names[s], ampl_soc_last_error());
			return 11;
		}
		from[s].buffered = ipm_max_data_size_get(from[s].dev) > 0;
		ipm_register_callback(from[s].dev, cb, &from[s]);
		ipm_set_enabled(from[s].dev, 1);
	}
	char c = 0;
	if (write(ready_fd, &c, 1) != 1 || read(go_fd, &c, 1) != 1)
		return 12;
	int ret = 0;
	if (me == APU) {
		if (ipm_max_data_size_get(from[RPU0].dev) != 32 || ipm_max_data_size_get(from[IPI6].dev) != 0 ||
		    ipm_send(from[IPI6].dev, 0, 0, "x", 1) != -EMSGSIZE)
			return 13;
		for (int i = 0; i < N && !ret; i++) {
			uint8_t req[32], resp[32];
			for (unsigned k = 0; k < 32; k++)
				req[k] = (uint8_t)(i + k);
			ret = ipm_send(from[RPU0].dev, 1, 0, req, 32);
			if (!ret && !xlnx_ipi_response_read(from[RPU0].dev, resp, 32))
				for (unsigned k = 0; k < 32; k++)
					if ((unsigned)resp[k] + req[k] != 255u)
						ret = 14;
		}
		if (!ret)
			ret = doorbells(from[IPI6].dev, N);
		if (!ret)
			ret = doorbells(from[PMCNB].dev, N);
	} else if (me == RPU0) {
		ret = doorbells(from[IPI6].dev, N);
	} else if (me == IPI6) {
		ret = doorbells(from[PMCNB].dev, N);
	}
	if (ret) {
		fprintf(stderr, "%s: send failed: %d\n", names[me], ret);
		return 15;
	}
	/* Wait (bounded) for everything this agent expects. */
	for (int t = 0; t < 20000; t++) {
		bool all = true;
		for (unsigned s = 0; s < NUM; s++)
			if (atomic_load(&from[s].calls) < expected[me][s])
				all = false;
		if (all)
			break;
		usleep(1000);
	}
	for (unsigned s = 0; s < NUM; s++) {
		if (atomic_load(&from[s].calls) != expected[me][s] || atomic_load(&from[s].bad)) {
			fprintf(stderr, "%s: from %s %d (want %d), %d bad\n", names[me], names[s],
				atomic_load(&from[s].calls), expected[me][s], atomic_load(&from[s].bad));
			return 16;
		}
	}
	/* Hold the channels until the parent has looked at the buffer table. */
	if (write(ready_fd, &c, 1) != 1 || read(go_fd, &c, 1) != 1)
		return 17;
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	return 0;
}

static void test_mixed(void **state)
{
	(void)state;
	snprintf(soc_name, sizeof(soc_name), "t-mixed-%d", (int)getpid());
	assert_int_equal(ampl_soc_create(soc_name, &ampl_soc_versal, NULL, 0), 0);
	/* One pair of pipes per agent: a child that finishes early must not take another's "go". */
	int ready[NUM][2], go[NUM][2];
	for (unsigned a = 0; a < NUM; a++) {
		assert_int_equal(pipe(ready[a]), 0);
		assert_int_equal(pipe(go[a]), 0);
	}
	for (unsigned a = 0; a < NUM; a++) {
		kids[a] = fork();
		assert_true(kids[a] >= 0);
		if (!kids[a]) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			/* Keep only our own ends: the parent sees end-of-file on our pipe when we exit. */
			for (unsigned b = 0; b < NUM; b++) {
				close(ready[b][0]);
				close(go[b][1]);
				if (b != a) {
					close(ready[b][1]);
					close(go[b][0]);
				}
			}
			_exit(run_agent(a, ready[a][1], go[a][0]));
		}
	}
	for (unsigned a = 0; a < NUM; a++) {
		close(ready[a][1]);
		close(go[a][0]);
	}
	char c = 0;
	for (unsigned a = 0; a < NUM; a++)
		if (read(ready[a][0], &c, 1) != 1)
			fail_msg("agent %s did not come up", names[a]);
	for (unsigned a = 0; a < NUM; a++)
		assert_int_equal(write(go[a][1], &c, 1), 1);
	/* Each agent reports again when it has sent and received everything (end-of-file if it failed). */
	struct ampl_soc *soc;
	assert_int_equal(ampl_soc_open(soc_name, &soc), 0);
	bool all = true;
	for (unsigned a = 0; a < NUM; a++)
		if (read(ready[a][0], &c, 1) != 1)
			all = false;
	if (all) {
		/* Buffers: apu -> rpu0 and rpu0 -> apu in use by those processes; nothing else (bufferless channels). */
		const struct ampl_soc_profile *p = &ampl_soc_versal;
		int a2r = ampl_soc_buf_find(soc, ampl_soc_agent_by_name(p, "apu"), ampl_soc_agent_by_name(p, "rpu0"));
		int r2a = ampl_soc_buf_find(soc, ampl_soc_agent_by_name(p, "rpu0"), ampl_soc_agent_by_name(p, "apu"));
		unsigned used = 0;
		for (unsigned i = 0; i < ampl_soc_num_bufs(soc); i++) {
			struct ampl_soc_buf b;
			assert_int_equal(ampl_soc_buf_info(soc, i, &b), 0);
			if (b.pid[0] || b.pid[1])
				used++;
			if ((int)i == a2r) {
				assert_int_equal(b.pid[0], kids[APU]);
				assert_int_equal(b.pid[1], kids[RPU0]);
			}
			if ((int)i == r2a) {
				assert_int_equal(b.pid[0], kids[RPU0]);
				assert_int_equal(b.pid[1], kids[APU]);
			}
		}
		assert_int_equal(used, 2);
	}
	ampl_soc_close(soc);
	for (unsigned a = 0; a < NUM; a++) {
		(void)!write(go[a][1], &c, 1);
		close(go[a][1]);
		close(ready[a][0]);
	}
	for (unsigned a = 0; a < NUM; a++) {
		int st = 0;
		assert_int_equal(waitpid(kids[a], &st, 0), kids[a]);
		kids[a] = 0;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fail_msg("agent %s: exit status 0x%x", names[a], st);
	}
	assert_true(all);
}

static int teardown(void **state)
{
	(void)state;
	for (unsigned a = 0; a < NUM; a++) {
		if (kids[a] > 0) {
			kill(kids[a], SIGKILL);
			waitpid(kids[a], NULL, 0);
		}
	}
	ampl_soc_destroy(soc_name);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_mixed, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
