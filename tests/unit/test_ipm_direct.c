/*
 * The register-level IPM driver on the Xilinx IPI (include/amplink/drivers/xlnx_ipi_direct.h) against the IPM device
 * over the framework, on the virtual SoC's register model: every return code, the delivery rules, and concurrent
 * senders and enables that must lose nothing.
 *
 * One process plays both sides of a ZynqMP: the APU keeps its devicetree IPM device (ipi_apu_rpu0, the framework
 * driver, its interrupts run by ampl_agent_poll() or its interrupt thread); RPU0 is attached too (the model routes
 * requests to attached agents only), but its interrupt handler never runs: RPU0's side is a device of the
 * register-level driver on the same destination's registers and buffers, whose handler the test runs. A Versal's
 * bufferless IPI6 -> APU destination gives a doorbell-only device. Table rows carry an id printed on failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <amplink/device.h>
#include <amplink/drivers/xlnx_ipi_direct.h>
#include <amplink/host/soc.h>

#include "ipm_concurrent.h"
#include "rc_check.h"
#include "soc_fixture.h"

#define ACK_TIMEOUT_US 20000u

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void pattern(uint8_t *buf, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(seed * 29u + i * 5u + 3u);
}

/* ---- receive recorder ---- */

struct rx {
	atomic_int calls;
	const struct ampl_device *_Atomic dev;
	void *_Atomic data;
	_Atomic uint32_t id;
	uint8_t bytes[AMPL_IPI_BUF_SIZE];
	bool respond; /* write ~request as the response */
	atomic_int resp_rc;
};

static void rx_cb(const struct ampl_device *dev, void *ud, uint32_t id, volatile void *data)
{
	struct rx *r = ud;
	atomic_store(&r->dev, dev);
	atomic_store(&r->id, id);
	atomic_store(&r->data, (void *)data);
	if (data)
		for (unsigned i = 0; i < AMPL_IPI_BUF_SIZE; i++)
			r->bytes[i] = ((volatile uint8_t *)data)[i];
	if (r->respond) {
		uint8_t resp[AMPL_IPI_BUF_SIZE];
		for (unsigned i = 0; i < AMPL_IPI_BUF_SIZE; i++)
			resp[i] = (uint8_t)~r->bytes[i];
		atomic_store(&r->resp_rc, xlnx_ipi_direct_response_write(dev, resp, sizeof(resp)));
	}
	atomic_fetch_add(&r->calls, 1);
}

/* ---- environment ---- */

struct env {
	char zname[64], vname[64];
	struct ampl_soc *zsoc, *vsoc;
	struct ampl_agent *apu, *rpu0, *vapu, *vipi6;
	const struct ampl_device *apu_rpu0; /* the APU's framework device toward RPU0 */
	const struct ampl_device *v_apu_rx; /* the Versal APU's framework device from IPI6 (doorbells) */
	struct ampl_io_region rpu0_regs, apu_regs;
	uint32_t b_apu, b_rpu0;
	/* RPU0's and IPI6's register-level devices, on the settings of their framework destinations */
	struct xlnx_ipi_direct_device rd, vd;
};

static struct env E;

/* A register-level device on the destination of framework device @fw, as `amplink dt gen` would set it up. */
static void direct_dev(struct xlnx_ipi_direct_device *d, const struct ampl_device *fw, const char *name)
{
	const struct xlnx_ipi_ipm_config *c = fw->config;
	assert_non_null(xlnx_ipi_direct_device_on(d, c->mbox, name, ACK_TIMEOUT_US));
}

/* @apu_thread: the APU's interrupts run in its own thread (else the test runs them with ampl_agent_poll()). */
static void env_up(bool apu_thread)
{
	memset(&E, 0, sizeof(E));
	const struct ampl_soc_profile *z = &ampl_soc_zynqmp;
	soc_fixture_create("t-ipmd", z, E.zname, sizeof(E.zname), &E.zsoc);
	struct ampl_agent_opts ao = { .no_irq_thread = !apu_thread, .ack_timeout_us = 2000000u };
	E.apu = soc_fixture_attach(E.zsoc, "apu", &ao);
	E.apu_rpu0 = ampl_device_get_by_label("ipi_apu_rpu0");
	assert_non_null(E.apu_rpu0);
	struct ampl_agent_opts ro = { .no_irq_thread = true };
	E.rpu0 = soc_fixture_attach(E.zsoc, "rpu0", &ro);
	const struct ampl_device *fw = ampl_device_get_by_label("ipi_rpu0_apu");
	assert_non_null(fw);
	direct_dev(&E.rd, fw, "t-ipmd-rpu0-apu");
	E.rpu0_regs = E.rd.ipi.host_regs;
	assert_int_equal(ampl_soc_agent_regs(E.zsoc, ampl_soc_agent_by_name(z, "apu"), &E.apu_regs), 0);
	E.b_apu = ampl_ipi_mask(ampl_soc_agent_by_name(z, "apu"));
	E.b_rpu0 = ampl_ipi_mask(ampl_soc_agent_by_name(z, "rpu0"));
	assert_int_equal(E.rd.ipi.remote_mask, E.b_apu);
	assert_true(E.rd.ipi.buffered);

	const struct ampl_soc_profile *v = &ampl_soc_versal;
	soc_fixture_create("t-ipmd", v, E.vname, sizeof(E.vname), &E.vsoc);
	struct ampl_agent_opts vo = { .no_irq_thread = true, .ack_timeout_us = ACK_TIMEOUT_US };
	E.vapu = soc_fixture_attach(E.vsoc, "apu", &vo);
	E.vipi6 = soc_fixture_attach(E.vsoc, "ipi6", &vo);
	assert_int_equal(ampl_agent_channel(E.vapu, "ipi6", &E.v_apu_rx), 0);
	const struct ampl_device *vfw = NULL;
	assert_int_equal(ampl_agent_channel(E.vipi6, "apu", &vfw), 0);
	direct_dev(&E.vd, vfw, "t-ipmd-ipi6-apu");
	assert_false(E.vd.ipi.buffered);
}

static int teardown(void **state)
{
	(void)state;
	struct ampl_agent **ags[] = { &E.rpu0, &E.apu, &E.vipi6, &E.vapu };
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(ags); i++)
		if (*ags[i])
			ampl_agent_detach(*ags[i]);
	if (E.zsoc) {
		ampl_soc_close(E.zsoc);
		ampl_soc_destroy(E.zname);
	}
	if (E.vsoc) {
		ampl_soc_close(E.vsoc);
		ampl_soc_destroy(E.vname);
	}
	memset(&E, 0, sizeof(E));
	return 0;
}

static uint32_t rpu0_reg(uint32_t off)
{
	return ampl_io_read32(&E.rpu0_regs, off);
}

/* RPU0's request toward the APU is pending (our OBS bit). */
static bool rpu0_pending(void)
{
	return (rpu0_reg(AMPL_IPI_OBS) & E.b_apu) != 0;
}

/* The APU's request toward RPU0 is pending. */
static bool apu_pending(void)
{
	return (ampl_io_read32(&E.apu_regs, AMPL_IPI_OBS) & E.b_rpu0) != 0;
}

static bool apu_masked_at_rpu0(void)
{
	return (rpu0_reg(AMPL_IPI_IMR) & E.b_apu) != 0;
}

/* ---- init ---- */

static void test_init_codes(void **state)
{
	(void)state;
	env_up(false);
	struct xlnx_ipi_mbox_config ipi = E.rd.ipi;
	struct xlnx_ipi_direct_config cfg = { .ipi = &ipi };
	struct xlnx_ipi_direct_data data;
	struct ampl_device_state st;
	struct ampl_device d = { .name = "t-ipmd-init", .api = &xlnx_ipi_direct_api, .config = &cfg, .data = &data,
				 .state = &st };
	static const struct {
		const char *id, *what;
		int field; /* which setting to break */
	} rows[] = {
		{ "I01", "no remote bit", 1 },        { "I02", "two remote bits", 2 },
		{ "I03", "bit outside the SoC's", 3 }, { "I04", "no registers", 4 },
		{ "I05", "buffered, no request buffer", 5 }, { "I06", "buffered, no response buffer", 6 },
		{ "I07", "no configuration", 7 },     { "I08", "no state", 8 },
		{ "I09", "another driver's device", 9 },
	};
	check_rc("I00", "valid settings", xlnx_ipi_direct_init(&d), 0);
	check_rc("I10", "NULL device", xlnx_ipi_direct_init(NULL), -EINVAL);
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(rows); i++) {
		ipi = E.rd.ipi;
		cfg.ipi = &ipi;
		d.config = &cfg;
		d.data = &data;
		d.api = &xlnx_ipi_direct_api;
		switch (rows[i].field) {
		case 1: ipi.remote_mask = 0; break;
		case 2: ipi.remote_mask = E.b_apu | E.b_rpu0; break;
		case 3: ipi.remote_mask = 1u << 31; ipi.valid_mask &= ~(1u << 31); break;
		case 4: ipi.host_regs.base = NULL; ipi.host_regs.ops = NULL; break;
		case 5: ipi.remote_req.base = NULL; break;
		case 6: ipi.local_resp.base = NULL; break;
		case 7: d.config = NULL; break;
		case 8: d.data = NULL; break;
		case 9: d.api = E.apu_rpu0->api; break;
		}
		check_rc(rows[i].id, rows[i].what, xlnx_ipi_direct_init(&d), -EINVAL);
		/* An invalid device is refused by every call too. */
		if (rows[i].field >= 7) {
			check_rc(rows[i].id, "send on it", xlnx_ipi_direct_api.send(&d, 0, 0, "x", 1), -EINVAL);
			check_rc(rows[i].id, "set_enabled on it", xlnx_ipi_direct_api.set_enabled(&d, 1), -EINVAL);
			check_rc(rows[i].id, "max_data_size_get on it", xlnx_ipi_direct_api.max_data_size_get(&d), -EINVAL);
			check_rc(rows[i].id, "response_write on it", xlnx_ipi_direct_response_write(&d, "x", 1), -EINVAL);
			xlnx_ipi_direct_isr(&d); /* nothing to do, no crash */
		}
	}
	/* The device on a doorbell destination needs no buffers. */
	check_rc("I11", "doorbell destination", xlnx_ipi_direct_init(&E.vd.dev), 0);
	/* Set up on a run-time destination: refused with the initialisation, given otherwise. */
	const struct xlnx_ipi_ipm_config *c = ampl_device_get_by_label("ipi_rpu0_apu")->config;
	static struct xlnx_ipi_mbox bad;
	bad = *c->mbox;
	bad.remote_mask = 0;
	static struct xlnx_ipi_direct_device dd;
	if (xlnx_ipi_direct_device_on(&dd, &bad, "t-ipmd-bad", 0))
		fail_msg("[I12] a device on a destination without a remote bit was set up");
	assert_ptr_equal(xlnx_ipi_direct_device_on(&dd, c->mbox, "t-ipmd-good", 0), &dd.dev);
	assert_ptr_equal(dd.dev.api, &xlnx_ipi_direct_api);
	assert_int_equal(dd.ipi.remote_mask, E.b_apu);
}

/* ---- ipm_send ---- */

static void test_send_table(void **state)
{
	(void)state;
	env_up(false);
	static const struct {
		const char *id, *what;
		bool db;
		int wait;
		uint32_t msg_id;
		bool null_data;
		int size, expect;
	} rows[] = {
		{ "S01", "size 0, NULL data", false, 0, 0, true, 0, 0 },
		{ "S02", "size 32", false, 0, 0, false, 32, 0 },
		{ "S03", "size 1", false, 0, 0, false, 1, 0 },
		{ "S04", "size 31", false, 0, 0, false, 31, 0 },
		{ "S05", "doorbell, size 0", true, 0, 0, true, 0, 0 },
		{ "E01", "negative size", false, 0, 0, false, -1, -EINVAL },
		{ "E02", "NULL data with size 4", false, 0, 0, true, 4, -EINVAL },
		{ "E03", "id 1", false, 0, 1, false, 4, -EINVAL },
		{ "E04", "id UINT32_MAX, wait", false, 1, UINT32_MAX, false, 4, -EINVAL },
		{ "E05", "size 33", false, 0, 0, false, 33, -EMSGSIZE },
		{ "E06", "size 33, wait", false, 1, 0, false, 33, -EMSGSIZE },
		{ "E07", "doorbell, size 1", true, 0, 0, false, 1, -EMSGSIZE },
		{ "E08", "doorbell, id 1", true, 0, 1, true, 0, -EINVAL },
	};
	struct rx apu_rx, v_rx;
	memset(&apu_rx, 0, sizeof(apu_rx));
	memset(&v_rx, 0, sizeof(v_rx));
	ipm_register_callback(E.apu_rpu0, rx_cb, &apu_rx);
	assert_int_equal(ipm_set_enabled(E.apu_rpu0, 1), 0);
	ipm_register_callback(E.v_apu_rx, rx_cb, &v_rx);
	assert_int_equal(ipm_set_enabled(E.v_apu_rx, 1), 0);
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(rows); i++) {
		uint8_t buf[40];
		pattern(buf, sizeof(buf), (uint8_t)i);
		const struct ampl_device *d = rows[i].db ? &E.vd.dev : &E.rd.dev;
		struct rx *r = rows[i].db ? &v_rx : &apu_rx;
		int before = atomic_load(&r->calls);
		check_rc(rows[i].id, rows[i].what,
			 ipm_send(d, rows[i].wait, rows[i].msg_id, rows[i].null_data ? NULL : buf, rows[i].size),
			 rows[i].expect);
		ampl_agent_poll(rows[i].db ? E.vapu : E.apu);
		int want = rows[i].expect == 0;
		if (atomic_load(&r->calls) - before != want)
			fail_msg("[%s] %s: %d deliveries, expected %d", rows[i].id, rows[i].what,
				 atomic_load(&r->calls) - before, want);
		if (want && !rows[i].db && rows[i].size)
			assert_memory_equal(apu_rx.bytes, buf, (size_t)rows[i].size);
		if (want && !rows[i].db && rows[i].size && rows[i].size % 4)
			assert_int_equal(apu_rx.bytes[rows[i].size], 0); /* the partial last word is zero-padded */
		if (rows[i].db && want)
			assert_null(atomic_load(&v_rx.data));
	}
	assert_int_equal(ipm_max_data_size_get(&E.rd.dev), 32);
	assert_int_equal(ipm_max_data_size_get(&E.vd.dev), 0);
	assert_int_equal(ipm_max_id_val_get(&E.rd.dev), 0);
}

/* -EBUSY while the APU has not acknowledged, with or without wait, and the refused send writes nothing. */
static void test_busy_until_ack(void **state)
{
	(void)state;
	env_up(false);
	struct rx rx;
	memset(&rx, 0, sizeof(rx));
	ipm_register_callback(E.apu_rpu0, rx_cb, &rx);
	assert_int_equal(ipm_set_enabled(E.apu_rpu0, 1), 0);
	uint8_t a[32], b[32];
	pattern(a, sizeof(a), 1);
	pattern(b, sizeof(b), 2);
	check_rc("B01", "first send", ipm_send(&E.rd.dev, 0, 0, a, 32), 0);
	assert_true(rpu0_pending());
	check_rc("B02", "second send while pending", ipm_send(&E.rd.dev, 0, 0, b, 32), -EBUSY);
	uint64_t t0 = now_us();
	check_rc("B03", "second send while pending, wait", ipm_send(&E.rd.dev, 1, 0, b, 32), -EBUSY);
	if (now_us() - t0 > ACK_TIMEOUT_US / 2)
		fail_msg("[B03] -EBUSY with wait took %llu us: it must not wait", (unsigned long long)(now_us() - t0));
	ampl_agent_poll(E.apu);
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_memory_equal(rx.bytes, a, 32);
	assert_false(rpu0_pending());
	check_rc("B04", "send after the acknowledgement", ipm_send(&E.rd.dev, 0, 0, b, 32), 0);
	ampl_agent_poll(E.apu);
	assert_int_equal(atomic_load(&rx.calls), 2);
	assert_memory_equal(rx.bytes, b, 32);
}

/* wait: 0 once the APU's handler acknowledged (its callback ran before), -ETIMEDOUT when nobody does. */
static void test_wait(void **state)
{
	(void)state;
	env_up(true);
	struct rx rx;
	memset(&rx, 0, sizeof(rx));
	rx.respond = false;
	ipm_register_callback(E.apu_rpu0, rx_cb, &rx);
	assert_int_equal(ipm_set_enabled(E.apu_rpu0, 1), 0);
	uint8_t a[32];
	pattern(a, sizeof(a), 7);
	for (int i = 0; i < 20; i++) {
		a[0] = (uint8_t)i;
		check_rc("W01", "send with wait, the APU's interrupt thread running", ipm_send(&E.rd.dev, 1, 0, a, 32), 0);
		if (atomic_load(&rx.calls) != i + 1)
			fail_msg("[W01] wait returned 0 with %d deliveries of %d", atomic_load(&rx.calls), i + 1);
		assert_false(rpu0_pending());
	}
	/* The APU stops taking requests: the next one is left pending and the wait gives up after its bound. */
	assert_int_equal(ipm_set_enabled(E.apu_rpu0, 0), 0);
	uint64_t t0 = now_us();
	check_rc("W02", "send with wait, nobody acknowledging", ipm_send(&E.rd.dev, 1, 0, a, 32), -ETIMEDOUT);
	uint64_t took = now_us() - t0;
	if (took < ACK_TIMEOUT_US * 9 / 10)
		fail_msg("[W02] -ETIMEDOUT after %llu us, before the %u us bound", (unsigned long long)took,
			 ACK_TIMEOUT_US);
	assert_true(rpu0_pending()); /* sent, not taken back */
	int calls = atomic_load(&rx.calls);
	assert_int_equal(ipm_set_enabled(E.apu_rpu0, 1), 0);
	for (int i = 0; i < 2000 && atomic_load(&rx.calls) == calls; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&rx.calls), calls + 1); /* delivered once the APU wants it again */
}

/* The APU's request reaches RPU0's callback with id 0 and the request buffer itself; the response goes back. */
static void test_receive_and_respond(void **state)
{
	(void)state;
	env_up(false);
	struct rx rx;
	memset(&rx, 0, sizeof(rx));
	rx.respond = true;
	ipm_register_callback(&E.rd.dev, rx_cb, &rx);
	check_rc("R01", "enable", ipm_set_enabled(&E.rd.dev, 1), 0);
	assert_false(apu_masked_at_rpu0());
	uint8_t a[32];
	pattern(a, sizeof(a), 3);
	check_rc("R02", "APU send", ipm_send(E.apu_rpu0, 0, 0, a, 32), 0);
	assert_true(apu_pending());
	xlnx_ipi_direct_isr(&E.rd.dev);
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_ptr_equal(atomic_load(&rx.dev), &E.rd.dev);
	assert_int_equal(atomic_load(&rx.id), 0);
	assert_ptr_equal(atomic_load(&rx.data), (void *)E.rd.ipi.remote_req.base);
	assert_memory_equal(rx.bytes, a, 32);
	check_rc("R03", "response write in the callback", atomic_load(&rx.resp_rc), 0);
	assert_false(apu_pending()); /* acknowledged after the callback */
	uint8_t resp[32], want[32];
	for (unsigned i = 0; i < 32; i++)
		want[i] = (uint8_t)~a[i];
	check_rc("R04", "APU reads the response", xlnx_ipi_response_read(E.apu_rpu0, resp, sizeof(resp)), 0);
	assert_memory_equal(resp, want, 32);
	/* Nothing pending: the handler does nothing. */
	xlnx_ipi_direct_isr(&E.rd.dev);
	assert_int_equal(atomic_load(&rx.calls), 1);

	/* RPU0 reads the APU's response to its own request. */
	struct rx apu_rx;
	memset(&apu_rx, 0, sizeof(apu_rx));
	ipm_register_callback(E.apu_rpu0, rx_cb, &apu_rx);
	assert_int_equal(ipm_set_enabled(E.apu_rpu0, 1), 0);
	uint8_t r_from_apu[32];
	pattern(r_from_apu, sizeof(r_from_apu), 9);
	check_rc("R05", "RPU0 send", ipm_send(&E.rd.dev, 0, 0, a, 8), 0);
	assert_int_equal(xlnx_ipi_response_write(E.apu_rpu0, r_from_apu, 32), 0); /* before its handler acks */
	ampl_agent_poll(E.apu);
	assert_int_equal(atomic_load(&apu_rx.calls), 1);
	uint8_t got[13];
	check_rc("R06", "response read, 13 bytes", xlnx_ipi_direct_response_read(&E.rd.dev, got, sizeof(got)), 0);
	assert_memory_equal(got, r_from_apu, sizeof(got));

	/* Response codes. */
	check_rc("R07", "response write, 33 bytes", xlnx_ipi_direct_response_write(&E.rd.dev, a, 33), -EMSGSIZE);
	check_rc("R08", "response read, 33 bytes", xlnx_ipi_direct_response_read(&E.rd.dev, got, 33), -EMSGSIZE);
	check_rc("R09", "response write, NULL with a length", xlnx_ipi_direct_response_write(&E.rd.dev, NULL, 4), -EINVAL);
	check_rc("R10", "response read, NULL with a length", xlnx_ipi_direct_response_read(&E.rd.dev, NULL, 4), -EINVAL);
	check_rc("R11", "response write, doorbell destination", xlnx_ipi_direct_response_write(&E.vd.dev, a, 4),
		 -ENOTSUP);
	check_rc("R12", "response read, doorbell destination", xlnx_ipi_direct_response_read(&E.vd.dev, got, 4),
		 -ENOTSUP);
	check_rc("R13", "response write, a framework device", xlnx_ipi_direct_response_write(E.apu_rpu0, a, 4),
		 -EINVAL);
	check_rc("R14", "response write, NULL device", xlnx_ipi_direct_response_write(NULL, a, 4), -EINVAL);
}

/* A request nobody wants (no callback, or disabled) is masked and left pending, and delivered once wanted. */
static void test_pending_until_wanted(void **state)
{
	(void)state;
	env_up(false);
	uint8_t a[32];
	pattern(a, sizeof(a), 5);
	check_rc("P01", "APU send before RPU0 is set up", ipm_send(E.apu_rpu0, 0, 0, a, 32), 0);
	xlnx_ipi_direct_isr(&E.rd.dev); /* as a spurious or shared interrupt would run it */
	assert_true(apu_pending());
	assert_true(apu_masked_at_rpu0());
	struct rx rx;
	memset(&rx, 0, sizeof(rx));
	ipm_register_callback(&E.rd.dev, rx_cb, &rx);
	assert_true(apu_masked_at_rpu0()); /* a callback alone does not enable */
	xlnx_ipi_direct_isr(&E.rd.dev);
	assert_int_equal(atomic_load(&rx.calls), 0);
	check_rc("P02", "enable", ipm_set_enabled(&E.rd.dev, 1), 0);
	assert_false(apu_masked_at_rpu0());
	xlnx_ipi_direct_isr(&E.rd.dev);
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_memory_equal(rx.bytes, a, 32);
	assert_false(apu_pending());

	/* Disabled: pending again, delivered after the enable. */
	check_rc("P03", "disable", ipm_set_enabled(&E.rd.dev, 0), 0);
	assert_true(apu_masked_at_rpu0());
	a[0] ^= 0xFF;
	check_rc("P04", "APU send while disabled", ipm_send(E.apu_rpu0, 0, 0, a, 32), 0);
	xlnx_ipi_direct_isr(&E.rd.dev);
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_true(apu_pending());
	/* Enabled but the callback removed: still pending; a callback set again brings it. */
	check_rc("P05", "enable", ipm_set_enabled(&E.rd.dev, 1), 0);
	ipm_register_callback(&E.rd.dev, NULL, NULL);
	xlnx_ipi_direct_isr(&E.rd.dev);
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_true(apu_pending());
	assert_true(apu_masked_at_rpu0());
	ipm_register_callback(&E.rd.dev, rx_cb, &rx);
	assert_false(apu_masked_at_rpu0());
	xlnx_ipi_direct_isr(&E.rd.dev);
	assert_int_equal(atomic_load(&rx.calls), 2);
	assert_memory_equal(rx.bytes, a, 32);
	assert_false(apu_pending());
}

/*
 * An enable that lands between the handler's finding the request unwanted and its mask: the handler looks again
 * after masking, so the request is not stranded masked (the interrupt would never come back). The interleaving is
 * made exact by RPU0's register window seen through a wrapper of the model's ops that runs the enable just before
 * the handler's IDR write reaches the model.
 */
static struct ampl_io_region model_regs;
static atomic_bool enable_on_idr;
static atomic_int idr_writes;

static void (*_Atomic on_obs_read)(void);

static uint32_t wrap_read32(const struct ampl_io_region *io, uint32_t off)
{
	(void)io;
	uint32_t v = ampl_io_read32(&model_regs, off);
	void (*hook)(void) = off == AMPL_IPI_OBS ? atomic_exchange(&on_obs_read, NULL) : NULL;
	if (hook)
		hook();
	return v;
}

static void wrap_write32(const struct ampl_io_region *io, uint32_t off, uint32_t val)
{
	(void)io;
	if (off == AMPL_IPI_IDR) {
		atomic_fetch_add(&idr_writes, 1);
		if (atomic_exchange(&enable_on_idr, false))
			assert_int_equal(ipm_set_enabled(&E.rd.dev, 1), 0);
	}
	ampl_io_write32(&model_regs, off, val);
}

static const struct ampl_io_ops wrap_ops = { .read32 = wrap_read32, .write32 = wrap_write32 };

/* The environment with RPU0's register window seen through the wrapper, and @rx zeroed. */
static void env_up_wrapped(struct rx *rx)
{
	env_up(false);
	model_regs = E.rd.ipi.host_regs;
	E.rd.ipi.host_regs = (struct ampl_io_region){ .base = NULL, .size = model_regs.size, .ops = &wrap_ops };
	memset(rx, 0, sizeof(*rx));
}

static void test_enable_races_mask(void **state)
{
	(void)state;
	struct rx rx;
	env_up_wrapped(&rx);
	ipm_register_callback(&E.rd.dev, rx_cb, &rx); /* a callback, not enabled */
	uint8_t a[32];
	pattern(a, sizeof(a), 11);
	check_rc("M01", "APU send", ipm_send(E.apu_rpu0, 0, 0, a, 32), 0);
	atomic_store(&enable_on_idr, true);
	atomic_store(&idr_writes, 0);
	xlnx_ipi_direct_isr(&E.rd.dev); /* unwanted: masks; the enable lands just before the mask */
	assert_int_equal(atomic_load(&idr_writes), 1);
	assert_false(atomic_load(&enable_on_idr));
	assert_int_equal(atomic_load(&rx.calls), 0);
	if (apu_masked_at_rpu0())
		fail_msg("[M02] the request stays masked after an enable that raced the handler's mask");
	xlnx_ipi_direct_isr(&E.rd.dev); /* the interrupt the unmask raises */
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_memory_equal(rx.bytes, a, 32);
	assert_false(apu_pending());
}

/*
 * A second sender that comes between the first one's test of OBS (clear) and its trigger must not also find the
 * destination free: it would overwrite the request buffer under the first request. The second sender is a thread
 * started from inside the first one's OBS read (the register wrapper above); the first waits up to 100 ms for it
 * to finish before it goes on. Exactly one of the two sends succeeds, and the request delivered is its message.
 */
static uint8_t race_a[32], race_b[32];
static atomic_int second_rc = 1;
static atomic_bool second_done;

static void *second_sender(void *arg)
{
	(void)arg;
	atomic_store(&second_rc, ipm_send(&E.rd.dev, 0, 0, race_b, 32));
	atomic_store(&second_done, true);
	return NULL;
}

static pthread_t second_thread;

static void start_second_sender(void)
{
	assert_int_equal(pthread_create(&second_thread, NULL, second_sender, NULL), 0);
	for (int i = 0; i < 100 && !atomic_load(&second_done); i++)
		usleep(1000);
}

static void test_senders_race_trigger(void **state)
{
	(void)state;
	struct rx rx;
	env_up_wrapped(&rx);
	ipm_register_callback(E.apu_rpu0, rx_cb, &rx);
	assert_int_equal(ipm_set_enabled(E.apu_rpu0, 1), 0);
	pattern(race_a, sizeof(race_a), 21);
	pattern(race_b, sizeof(race_b), 22);
	atomic_store(&second_rc, 1);
	atomic_store(&second_done, false);
	atomic_store(&on_obs_read, start_second_sender);
	int first = ipm_send(&E.rd.dev, 0, 0, race_a, 32);
	pthread_join(second_thread, NULL);
	int second = atomic_load(&second_rc);
	if ((first == 0) + (second == 0) != 1 || (first && first != -EBUSY) || (second && second != -EBUSY))
		fail_msg("[T01] two senders racing for the trigger returned %d and %d: exactly one must succeed, the "
			 "other get -EBUSY", first, second);
	ampl_agent_poll(E.apu);
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_memory_equal(rx.bytes, first == 0 ? race_a : race_b, 32);
	assert_false(rpu0_pending());
}

/* The doorbell destination: the callback gets NULL, and the sender sees it consumed after the handler. */
static void test_doorbell(void **state)
{
	(void)state;
	env_up(false);
	struct rx rx;
	memset(&rx, 0, sizeof(rx));
	ipm_register_callback(&E.vd.dev, rx_cb, &rx);
	assert_int_equal(ipm_set_enabled(&E.vd.dev, 1), 0);
	const struct ampl_device *v_apu_tx = NULL;
	assert_int_equal(ampl_agent_channel(E.vapu, "ipi6", &v_apu_tx), 0);
	check_rc("D01", "APU doorbell", ipm_send(v_apu_tx, 0, 0, NULL, 0), 0);
	xlnx_ipi_direct_isr(&E.vd.dev);
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_null(atomic_load(&rx.data));
	check_rc("D02", "APU doorbell again (the first consumed)", ipm_send(v_apu_tx, 0, 0, NULL, 0), 0);
}

/*
 * Four threads send through RPU0's register-level device at once (two with wait) while the APU's interrupt thread
 * checks every message (tests/unit/ipm_concurrent.h): nothing corrupt, lost, doubled or out of order.
 */
static struct ipmc conc;

static void test_concurrent_senders(void **state)
{
	(void)state;
	env_up(true);
	memset(&conc, 0, sizeof(conc));
	E.rd.cfg.ack_timeout_us = 2000000u;
	conc.tx = &E.rd.dev;
	conc.size = 32;
	conc.ack_after_callback = true;
	conc.target = 3000;
	conc.deadline_ms = 20000;
	ipm_register_callback(E.apu_rpu0, ipmc_rx_cb, &conc);
	assert_int_equal(ipm_set_enabled(E.apu_rpu0, 1), 0);
	ipmc_run(&conc, "C01 direct senders", NULL, NULL);
	assert_false(rpu0_pending());
}

/*
 * The APU's senders against RPU0's register-level device, whose handler runs in a thread of its own while another
 * thread keeps disabling and enabling the device and replacing its callback: every request is delivered exactly once
 * (a request that arrives while unwanted stays pending; an enable racing the handler's mask does not strand it).
 */
struct rx_loop {
	atomic_bool stop;
	atomic_int toggles;
};

static void *rx_loop(void *arg)
{
	struct rx_loop *l = arg;
	while (!atomic_load(&l->stop)) {
		xlnx_ipi_direct_isr(&E.rd.dev);
		sched_yield();
	}
	return NULL;
}

static void *toggler(void *arg)
{
	struct rx_loop *l = arg;
	for (unsigned i = 0; !atomic_load(&l->stop); i++) {
		if (i & 1u) {
			/* The same user_data: a handler that loaded the old callback may load it after the change. */
			ipm_register_callback(&E.rd.dev, NULL, &conc);
			ipm_register_callback(&E.rd.dev, ipmc_rx_cb, &conc);
		} else {
			(void)ipm_set_enabled(&E.rd.dev, 0);
			(void)ipm_set_enabled(&E.rd.dev, 1);
		}
		atomic_fetch_add(&l->toggles, 1);
		usleep(50);
	}
	return NULL;
}

static void drain_rx(void *arg)
{
	(void)arg;
	xlnx_ipi_direct_isr(&E.rd.dev);
}

static void test_concurrent_receive_and_toggle(void **state)
{
	(void)state;
	env_up(false);
	memset(&conc, 0, sizeof(conc));
	conc.tx = E.apu_rpu0;
	conc.size = 32;
	conc.ack_after_callback = true;
	conc.target = 2000;
	conc.deadline_ms = 20000;
	ipm_register_callback(&E.rd.dev, ipmc_rx_cb, &conc);
	assert_int_equal(ipm_set_enabled(&E.rd.dev, 1), 0);
	struct rx_loop l;
	atomic_init(&l.stop, false);
	atomic_init(&l.toggles, 0);
	pthread_t rt, tt;
	assert_int_equal(pthread_create(&rt, NULL, rx_loop, &l), 0);
	assert_int_equal(pthread_create(&tt, NULL, toggler, &l), 0);
	ipmc_run(&conc, "C02 toggled receiver", NULL, NULL);
	atomic_store(&l.stop, true);
	pthread_join(tt, NULL);
	pthread_join(rt, NULL);
	printf("[C02] %d enable or callback changes during the run\n", atomic_load(&l.toggles));
	/* Settled: wanted again, nothing stranded. */
	ipm_register_callback(&E.rd.dev, ipmc_rx_cb, &conc);
	assert_int_equal(ipm_set_enabled(&E.rd.dev, 1), 0);
	drain_rx(NULL);
	assert_false(apu_pending());
	assert_false(apu_masked_at_rpu0());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_init_codes, teardown),
		cmocka_unit_test_teardown(test_send_table, teardown),
		cmocka_unit_test_teardown(test_busy_until_ack, teardown),
		cmocka_unit_test_teardown(test_wait, teardown),
		cmocka_unit_test_teardown(test_receive_and_respond, teardown),
		cmocka_unit_test_teardown(test_pending_until_wanted, teardown),
		cmocka_unit_test_teardown(test_enable_races_mask, teardown),
		cmocka_unit_test_teardown(test_senders_race_trigger, teardown),
		cmocka_unit_test_teardown(test_doorbell, teardown),
		cmocka_unit_test_teardown(test_concurrent_senders, teardown),
		cmocka_unit_test_teardown(test_concurrent_receive_and_toggle, teardown),
	};
	return cmocka_run_group_tests_name("ipm_direct", tests, NULL, NULL);
}
