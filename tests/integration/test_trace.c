/*
 * Tracing on the virtual SoC through the library: the ring of an agent stays the size it was made with under a
 * flood, a reader that does not read meanwhile loses the overwritten records and counts them (read + lost = written),
 * the counters stay exact, and tracing off records nothing. APU and RPU0 in this process, without interrupt threads:
 * each message is sent, then each agent's handlers run once (ampl_agent_poll).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <amplink/device.h>
#include <amplink/ipm.h>
#include <amplink/host/soc.h>
#include <amplink/host/soc_trace.h>

struct env {
	char name[64];
	struct ampl_soc *soc;
	struct ampl_agent *apu, *rpu0;
	const struct ampl_device *tx, *rx;
};

static unsigned long received;

static void on_rx(const struct ampl_device *dev, void *ud, uint32_t id, volatile void *data)
{
	(void)dev;
	(void)ud;
	(void)id;
	(void)data;
	received++;
}

static int setup(void **state)
{
	static struct env e;
	snprintf(e.name, sizeof(e.name), "tracetest-%d", (int)getpid());
	ampl_soc_destroy(e.name);
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_POLL, .no_irq_thread = true };
	assert_int_equal(ampl_soc_create(e.name, &ampl_soc_zynqmp, NULL, 0), 0);
	assert_int_equal(ampl_soc_open(e.name, &e.soc), 0);
	assert_int_equal(ampl_agent_attach(e.soc, "apu", &o, &e.apu), 0);
	assert_int_equal(ampl_agent_attach(e.soc, "rpu0", &o, &e.rpu0), 0);
	e.tx = ampl_device_get_by_label("ipi_apu_rpu0");
	e.rx = ampl_device_get_by_label("ipi_rpu0_apu");
	assert_non_null(e.tx);
	assert_non_null(e.rx);
	ipm_register_callback(e.rx, on_rx, NULL);
	ipm_set_enabled(e.rx, 1);
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	ampl_agent_detach(e->rpu0);
	ampl_agent_detach(e->apu);
	ampl_soc_close(e->soc);
	ampl_soc_destroy(e->name);
	return 0;
}

/*
 * The attached agents follow the SoC's flag within a crash-watch period, one after the other: wait until both do
 * (bounded, not timed). ampl_trace_on counts the agents of this process tracing: nonzero once the first follows,
 * while the other one's events are still dropped.
 */
static void wait_tracing(bool on)
{
	uint32_t want = on ? 2u : 0u;
	for (int i = 0; i < 5000 && atomic_load(&ampl_trace_on) != want; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&ampl_trace_on), want);
}

static void send_n(struct env *e, unsigned long n)
{
	uint32_t w[8] = { 0 };
	for (unsigned long i = 0; i < n; i++) {
		w[0] = (uint32_t)i;
		assert_int_equal(ipm_send(e->tx, 0, 0, w, sizeof(w)), 0);
		ampl_agent_poll(e->rpu0);
		ampl_agent_poll(e->apu);
	}
}

static off_t file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) ? -1 : st.st_size;
}

static void test_off_records_nothing(void **state)
{
	struct env *e = *state;
	wait_tracing(false);
	received = 0;
	send_n(e, 100);
	assert_int_equal(received, 100);
	struct ampl_trace_reader *r;
	assert_int_equal(ampl_trace_reader_open(e->soc, true, &r), 0);
	assert_false(ampl_trace_reader_has(r, 0));
	assert_false(ampl_trace_reader_has(r, 1));
	ampl_trace_reader_close(r);
}

#define FLOOD 20000ul

static void test_flood_is_bounded(void **state)
{
	struct env *e = *state;
	assert_int_equal(ampl_soc_trace_set(e->soc, true), 0);
	assert_true(ampl_soc_trace_get(e->soc));
	wait_tracing(true);
	char path[128];
	snprintf(path, sizeof(path), "/dev/shm/amplink-trace.%s.apu", e->name);
	off_t size = file_size(path);
	assert_true(size > 0);

	struct ampl_trace_reader *r;
	assert_int_equal(ampl_trace_reader_open(e->soc, false, &r), 0);
	uint64_t cap, before = ampl_trace_reader_written(r, 0, &cap);
	uint64_t sent_before = ampl_trace_reader_count(r, 0, AMPL_TRACE_NO_OBJ, AMPL_EV_IPM_SEND);
	received = 0;
	send_n(e, FLOOD); /* nobody reads meanwhile: the traffic does not wait */
	assert_int_equal(received, FLOOD);
	uint64_t written = ampl_trace_reader_written(r, 0, NULL) - before;
	assert_true(written >= 4 * FLOOD); /* mbox.send, ipi.trig, mbox.txdone, ipm.send at least */
	assert_true(written > cap);
	assert_int_equal(file_size(path), size); /* the ring did not grow */

	/* Counters are exact, whatever the ring kept. */
	assert_int_equal(ampl_trace_reader_count(r, 0, AMPL_TRACE_NO_OBJ, AMPL_EV_IPM_SEND) - sent_before, FLOOD);
	assert_true(ampl_trace_reader_count(r, 1, AMPL_TRACE_NO_OBJ, AMPL_EV_IPM_RX) >= FLOOD);

	/* The reader gets the last records of the ring and counts the rest as lost. */
	struct ampl_trace_event_rec *buf = calloc(4096, sizeof(*buf));
	assert_non_null(buf);
	uint64_t got = 0, last_ts = 0;
	size_t n;
	bool ordered = true;
	while ((n = ampl_trace_reader_poll(r, buf, 4096)) > 0)
		for (size_t i = 0; i < n; i++) {
			if (buf[i].agent != 0)
				continue;
			got++;
			ordered = ordered && buf[i].ts_ns >= last_ts;
			last_ts = buf[i].ts_ns;
			assert_true(buf[i].ev > AMPL_EV_NONE && buf[i].ev < AMPL_EV_COUNT);
		}
	free(buf);
	assert_true(ordered); /* one thread wrote them: its clock only goes forward */
	assert_true(got <= cap);
	assert_true(ampl_trace_reader_lost(r, 0) > 0);
	assert_int_equal(got + ampl_trace_reader_lost(r, 0), written);
	ampl_trace_reader_close(r);

	assert_int_equal(ampl_soc_trace_set(e->soc, false), 0);
	wait_tracing(false);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off_records_nothing),
		cmocka_unit_test(test_flood_is_bounded),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
