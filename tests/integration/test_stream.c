/*
 * Two agents in two processes exchange at least 100,000 messages in each direction at the same time, through the
 * IPI model and the IPM API, in every doorbell mode. Every message carries a sequence number, a direction tag, a
 * payload derived from both and a checksum; the receiver checks that nothing is lost, duplicated, reordered or
 * corrupted.
 *
 *   polling   each process is single-threaded: it sends when its previous request was acknowledged and runs
 *             the interrupt handler from its own loop (two spinners on two CPUs)
 *   adaptive  interrupt thread + sender blocked in ipm_send(wait) (spin, then futex)
 *   blocking  the same with futex waits only
 *
 * AMPL_STREAM_COUNT overrides the count (100000; 20000 with AMPL_TEST_SCALE=sanitizer, where every access costs
 * tens of times more). A side gives up only once nothing has moved for STALL_S seconds, however long the run.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <amplink/ipm.h>
#include <amplink/host/soc.h>
#include "child.h"

struct side_result {
	uint64_t sent, received, lost_or_reordered, duplicated, corrupted, send_errors;
	int first_error; /* of the first failed send */
	int done;
};

#define STALL_S 60

static uint64_t count_per_direction(void)
{
	const char *e = getenv("AMPL_STREAM_COUNT");
	if (e)
		return strtoull(e, NULL, 0);
	e = getenv("AMPL_TEST_SCALE");
	return e && !strcmp(e, "sanitizer") ? 20000 : 100000;
}

/* Progress of a side (sends and receipts): false once it has not moved for STALL_S seconds. */
struct watchdog {
	uint64_t last;
	time_t since;
};

static bool moving(struct watchdog *w, uint64_t progress)
{
	time_t now = time(NULL);
	if (progress != w->last || !w->since) {
		w->last = progress;
		w->since = now;
	}
	return now - w->since <= STALL_S;
}

static uint32_t mix(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static uint32_t checksum(const uint32_t *w, unsigned n)
{
	uint32_t h = 2166136261u;
	for (unsigned i = 0; i < n; i++)
		h = (h ^ w[i]) * 16777619u;
	return h;
}

static void make_msg(uint32_t *m, uint32_t tag, uint32_t seq)
{
	m[0] = seq;
	m[1] = tag;
	for (unsigned i = 2; i < 7; i++)
		m[i] = mix(seq * 7u + i + tag);
	m[7] = checksum(m, 7);
}

struct rx_state {
	uint32_t expect_tag;
	uint64_t next_seq;
	struct side_result *res;
	atomic_uint_fast64_t received;
};

static void rx_cb(const struct ampl_device *dev, void *user_data, uint32_t id, volatile void *data)
{
	(void)dev;
	(void)id;
	struct rx_state *st = user_data;
	uint32_t m[8], ref[8];
	for (unsigned i = 0; i < 8; i++)
		m[i] = ((volatile uint32_t *)data)[i];
	if (checksum(m, 7) != m[7] || m[1] != st->expect_tag) {
		st->res->corrupted++;
	} else {
		make_msg(ref, st->expect_tag, m[0]);
		if (memcmp(ref, m, sizeof(m)))
			st->res->corrupted++;
		else if (m[0] == (uint32_t)st->next_seq)
			st->next_seq++;
		else if (m[0] < (uint32_t)st->next_seq)
			st->res->duplicated++;
		else {
			st->res->lost_or_reordered++;
			st->next_seq = (uint64_t)m[0] + 1;
		}
	}
	atomic_fetch_add(&st->received, 1);
}

static int run_side(const char *soc_name, const char *me, const char *peer, uint32_t tx_tag, uint32_t rx_tag,
		    enum ampl_wait_mode mode, uint64_t n, struct side_result *res)
{
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	if (ampl_soc_open(soc_name, &soc))
		return 10;
	struct ampl_agent_opts opts = { .mode = mode, .no_irq_thread = mode == AMPL_WAIT_POLL,
					.no_dt_devices = true, .ack_timeout_us = 30000000 };
	if (ampl_agent_attach(soc, me, &opts, &ag))
		return 11;
	const struct ampl_device *dev;
	if (ampl_agent_channel(ag, peer, &dev))
		return 12;
	struct rx_state st = { .expect_tag = rx_tag, .res = res };
	ipm_register_callback(dev, rx_cb, &st);
	ipm_set_enabled(dev, 1);
	uint32_t m[8];
	struct watchdog wd = { 0 };
	if (mode == AMPL_WAIT_POLL) {
		for (uint64_t i = 0; res->sent < n || atomic_load(&st.received) < n; i++) {
			if (res->sent < n) {
				make_msg(m, tx_tag, (uint32_t)res->sent);
				int r = ipm_send(dev, 0, 0, m, sizeof(m));
				if (r == 0) {
					res->sent++;
				} else if (r != -EBUSY) {
					if (!res->send_errors++)
						res->first_error = r;
				}
			}
			ampl_agent_poll(ag);
			if ((i & 0xfff) == 0 && !moving(&wd, res->sent + atomic_load(&st.received)))
				break;
		}
	} else {
		while (res->sent < n) {
			make_msg(m, tx_tag, (uint32_t)res->sent);
			int r = ipm_send(dev, 1, 0, m, sizeof(m));
			if (r) {
				res->send_errors++;
				res->first_error = r;
				break;
			}
			res->sent++;
		}
		/* The peer may still be sending: wait while its messages keep coming. */
		while (atomic_load(&st.received) < n && moving(&wd, atomic_load(&st.received)))
			usleep(1000);
	}
	res->received = atomic_load(&st.received);
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	res->done = 1;
	return 0;
}

static void stream(enum ampl_wait_mode mode)
{
	uint64_t n = count_per_direction();
	char name[64];
	snprintf(name, sizeof(name), "test-stream-%d-%d", (int)getpid(), (int)mode);
	ampl_soc_destroy(name);
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), 0);
	struct side_result *res = mmap(NULL, 2 * sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
				       -1, 0);
	assert_ptr_not_equal(res, MAP_FAILED);
	memset(res, 0, 2 * sizeof(*res));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t a = test_fork();
	if (a == 0)
		_exit(run_side(name, "apu", "rpu0", 0xA9, 0x50, mode, n, &res[0]));
	pid_t b = test_fork();
	if (b == 0)
		_exit(run_side(name, "rpu0", "apu", 0x50, 0xA9, mode, n, &res[1]));
	int sa, sb;
	waitpid(a, &sa, 0);
	waitpid(b, &sb, 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ampl_soc_destroy(name);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	for (int i = 0; i < 2; i++)
		print_message("[ %-8s ] %s: sent %llu received %llu lost/reordered %llu duplicated %llu corrupted %llu "
			      "send errors %llu%s%s (%.2f s)\n", ampl_wait_mode_name(mode), i ? "rpu0" : "apu",
			      (unsigned long long)res[i].sent, (unsigned long long)res[i].received,
			      (unsigned long long)res[i].lost_or_reordered, (unsigned long long)res[i].duplicated,
			      (unsigned long long)res[i].corrupted, (unsigned long long)res[i].send_errors,
			      res[i].send_errors ? ", the first " : "", res[i].send_errors ? strerror(-res[i].first_error) : "",
			      secs);
	assert_true(WIFEXITED(sa) && WEXITSTATUS(sa) == 0);
	assert_true(WIFEXITED(sb) && WEXITSTATUS(sb) == 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(res[i].done, 1);
		assert_int_equal(res[i].sent, n);
		assert_int_equal(res[i].received, n);
		assert_int_equal(res[i].lost_or_reordered, 0);
		assert_int_equal(res[i].duplicated, 0);
		assert_int_equal(res[i].corrupted, 0);
		assert_int_equal(res[i].send_errors, 0);
	}
	munmap(res, 2 * sizeof(*res));
}

static void test_stream_polling(void **state)
{
	(void)state;
	stream(AMPL_WAIT_POLL);
}

static void test_stream_adaptive(void **state)
{
	(void)state;
	stream(AMPL_WAIT_ADAPTIVE);
}

static void test_stream_blocking(void **state)
{
	(void)state;
	stream(AMPL_WAIT_BLOCK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_polling),
		cmocka_unit_test(test_stream_adaptive),
		cmocka_unit_test(test_stream_blocking),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
