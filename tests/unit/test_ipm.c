/*
 * The IPM API on the Xilinx IPI driver: every return code, and the delivery rules behind them.
 *
 * One process plays both sides of a virtual SoC: the ZynqMP default board with the APU and RPU0 attached (their
 * devicetree channels ipi_apu_rpu0 / ipi_rpu0_apu), plus a Versal SoC whose agent IPI6 has no buffers (doorbell
 * channels). Interrupts run when the test calls ampl_agent_poll(), except where a test attaches the receiver with
 * its interrupt thread. Table rows carry an id ("S01", "E04", ...) printed on failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <amplink/device.h>
#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/ipm.h>
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

/* ---- receive recorder (the callback may run in the receiver's interrupt thread) ---- */

struct rx {
	atomic_int calls;
	const struct ampl_device *_Atomic dev;
	void *_Atomic data;
	_Atomic uint32_t id;
	uint8_t bytes[AMPL_IPI_BUF_SIZE];
	/* response: when set, the callback writes ~request as the response */
	bool respond;
	atomic_int resp_rc;
	_Atomic pthread_t thread;
};

static void rx_cb(const struct ampl_device *dev, void *ud, uint32_t id, volatile void *data)
{
	struct rx *r = ud;
	atomic_store(&r->dev, dev);
	atomic_store(&r->id, id);
	atomic_store(&r->data, (void *)data);
	atomic_store(&r->thread, pthread_self());
	if (data)
		for (unsigned i = 0; i < AMPL_IPI_BUF_SIZE; i++)
			r->bytes[i] = ((volatile uint8_t *)data)[i];
	if (r->respond) {
		uint8_t resp[AMPL_IPI_BUF_SIZE];
		for (unsigned i = 0; i < AMPL_IPI_BUF_SIZE; i++)
			resp[i] = (uint8_t)~r->bytes[i];
		atomic_store(&r->resp_rc, xlnx_ipi_response_write(dev, resp, sizeof(resp)));
	}
	atomic_fetch_add(&r->calls, 1); /* last: a waiter that sees the count sees the rest */
}

static void pattern(uint8_t *buf, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(seed * 31u + i * 7u + 1u);
}

/* ---- environment: a ZynqMP SoC (apu + rpu0) and a Versal SoC (apu + ipi6) ---- */

struct env_opts {
	bool rpu0_irq_thread;     /* rpu0 runs its own interrupt thread */
	bool no_rpu0;             /* do not attach rpu0 */
	enum ampl_wait_mode mode; /* both agents */
	uint32_t ack_timeout_us;  /* apu; 0 = driver default */
	bool versal;              /* also the Versal SoC */
};

struct env {
	unsigned n;
	char zname[64], vname[64];
	struct ampl_soc *zsoc, *vsoc;
	struct ampl_soc *zsup; /* a handle of the ZynqMP attached as no agent: it drives any agent's registers */
	bool zcreated, vcreated;
	struct ampl_agent *apu, *rpu0, *vapu, *vipi6;
	const struct ampl_device *apu_rpu0, *rpu0_apu; /* devicetree channels */
	const struct ampl_device *db_tx, *db_rx;       /* versal apu -> ipi6, ipi6 -> apu: doorbells */
	struct ampl_io_region apu_regs, rpu0_regs, vapu_regs, vipi6_regs;
	uint32_t b_apu, b_rpu0, vb_apu, vb_ipi6;
	volatile uint8_t *req_apu_rpu0; /* request buffer apu -> rpu0 */
};

static struct env E;

/* RPU0's IPM device delivers to @rx (zeroed first), enabled. */
static void rx_enable(struct rx *rx)
{
	memset(rx, 0, sizeof(*rx));
	ipm_register_callback(E.rpu0_apu, rx_cb, rx);
	assert_int_equal(ipm_set_enabled(E.rpu0_apu, 1), 0);
}

static void attach_rpu0(const struct env_opts *o)
{
	struct ampl_agent_opts ro = { .mode = o->mode, .no_irq_thread = !o->rpu0_irq_thread };
	E.rpu0 = soc_fixture_attach(E.zsoc, "rpu0", &ro);
	E.rpu0_apu = ampl_device_get_by_label("ipi_rpu0_apu");
	assert_non_null(E.rpu0_apu);
}

static void env_up(const struct env_opts *o)
{
	memset(&E, 0, sizeof(E));
	const struct ampl_soc_profile *z = &ampl_soc_zynqmp;
	soc_fixture_create("t-ipm", z, E.zname, sizeof(E.zname), &E.zsoc);
	E.zcreated = true;
	struct ampl_agent_opts ao = { .mode = o->mode, .no_irq_thread = true, .ack_timeout_us = o->ack_timeout_us };
	E.apu = soc_fixture_attach(E.zsoc, "apu", &ao);
	E.apu_rpu0 = ampl_device_get_by_label("ipi_apu_rpu0");
	assert_non_null(E.apu_rpu0);
	if (!o->no_rpu0)
		attach_rpu0(o);
	assert_int_equal(ampl_soc_open(E.zname, &E.zsup), 0);
	assert_int_equal(ampl_soc_agent_regs(E.zsup, ampl_soc_agent_by_name(z, "apu"), &E.apu_regs), 0);
	assert_int_equal(ampl_soc_agent_regs(E.zsup, ampl_soc_agent_by_name(z, "rpu0"), &E.rpu0_regs), 0);
	E.b_apu = ampl_ipi_mask(ampl_soc_agent_by_name(z, "apu"));
	E.b_rpu0 = ampl_ipi_mask(ampl_soc_agent_by_name(z, "rpu0"));
	E.req_apu_rpu0 = ampl_soc_phys(E.zsoc, 0xFF990400u, AMPL_IPI_BUF_SIZE);
	assert_non_null((void *)E.req_apu_rpu0);

	if (o->versal) {
		const struct ampl_soc_profile *v = &ampl_soc_versal;
		soc_fixture_create("t-ipm", v, E.vname, sizeof(E.vname), &E.vsoc);
		E.vcreated = true;
		struct ampl_agent_opts vo = { .mode = o->mode, .no_irq_thread = true, .ack_timeout_us = ACK_TIMEOUT_US };
		E.vapu = soc_fixture_attach(E.vsoc, "apu", &vo);
		E.vipi6 = soc_fixture_attach(E.vsoc, "ipi6", &vo);
		assert_int_equal(ampl_agent_channel(E.vapu, "ipi6", &E.db_tx), 0);
		assert_int_equal(ampl_agent_channel(E.vipi6, "apu", &E.db_rx), 0);
		assert_int_equal(ampl_soc_agent_regs(E.vsoc, ampl_soc_agent_by_name(v, "apu"), &E.vapu_regs), 0);
		assert_int_equal(ampl_soc_agent_regs(E.vsoc, ampl_soc_agent_by_name(v, "ipi6"), &E.vipi6_regs), 0);
		E.vb_apu = ampl_ipi_mask(ampl_soc_agent_by_name(v, "apu"));
		E.vb_ipi6 = ampl_ipi_mask(ampl_soc_agent_by_name(v, "ipi6"));
	}
}

static void env_up_default(void)
{
	struct env_opts o = { .ack_timeout_us = ACK_TIMEOUT_US, .versal = true };
	env_up(&o);
}

/* Static asynchronous channel (defined further down); unregistered by the teardown if a test left it. */
static void async_chan_down(void);
static void late_chan_down(void);

static int teardown(void **state)
{
	(void)state;
	async_chan_down();
	late_chan_down();
	struct ampl_agent **ags[] = { &E.rpu0, &E.apu, &E.vipi6, &E.vapu };
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(ags); i++) {
		if (*ags[i])
			ampl_agent_detach(*ags[i]);
		*ags[i] = NULL;
	}
	if (E.zsoc)
		ampl_soc_close(E.zsoc);
	ampl_soc_close(E.zsup);
	if (E.vsoc)
		ampl_soc_close(E.vsoc);
	if (E.zcreated)
		ampl_soc_destroy(E.zname);
	if (E.vcreated)
		ampl_soc_destroy(E.vname);
	memset(&E, 0, sizeof(E));
	return 0;
}

static uint32_t apu_obs(void)
{
	return ampl_io_read32(&E.apu_regs, AMPL_IPI_OBS);
}

/* Devices that are not IPI channels. */
static struct ampl_device_state noapi_state, foreign_state;
static struct ampl_device noapi_dev = { .name = "t-ipm-noapi", .state = &noapi_state };
static struct ampl_device foreign_dev = { .name = "t-ipm-foreign", .api = &xlnx_ipi_ipm_api, .state = &foreign_state };

/* ---- device lookup ---- */

static void test_device_lookup(void **state)
{
	(void)state;
	env_up_default();
	const struct ampl_device *d = NULL;
	assert_int_equal(ampl_agent_channel(E.apu, "rpu0", &d), 0);
	assert_ptr_equal(d, E.apu_rpu0);
	assert_ptr_equal(ampl_device_get_binding("mailbox@ff990400"), E.apu_rpu0);
	assert_ptr_equal(ampl_device_get_binding("ipi_apu_rpu0"), E.apu_rpu0);
	assert_string_equal(E.apu_rpu0->name, "mailbox@ff990400");
	assert_string_equal(E.apu_rpu0->label, "ipi_apu_rpu0");
	assert_true(ampl_device_is_ready(E.apu_rpu0));

	const struct ampl_device *r = NULL;
	assert_int_equal(ampl_agent_channel(E.rpu0, "apu", &r), 0);
	assert_ptr_equal(r, E.rpu0_apu);
	assert_ptr_equal(ampl_device_get_binding("mailbox@ff990080"), E.rpu0_apu);
	assert_true(ampl_device_is_ready(E.rpu0_apu));

	const struct ampl_device *r1 = ampl_device_get_by_label("ipi_apu_rpu1");
	assert_non_null(r1);
	assert_ptr_equal(ampl_device_get_binding("mailbox@ff990440"), r1);
	assert_int_equal(ampl_agent_channel(E.apu, "rpu1", &d), 0);
	assert_ptr_equal(d, r1);

	/* The node name is a device name, not a label. */
	assert_null(ampl_device_get_by_label("mailbox@ff990400"));
	assert_null(ampl_device_get_binding("mailbox@ff990000"));
	assert_int_equal(ampl_agent_channel(E.apu, "no-such-agent", &d), -EINVAL);
	assert_int_equal(ampl_agent_channel(NULL, "rpu0", &d), -EINVAL);

	/* Doorbell channels made from the profile are registered under "<local>-<remote>@<soc>". */
	char name[128];
	snprintf(name, sizeof(name), "apu-ipi6@%s", E.vname);
	assert_ptr_equal(ampl_device_get_binding(name), E.db_tx);
	assert_true(ampl_device_is_ready(E.db_tx));
}

/* ---- ipm_send: the table ---- */

enum dev_sel { D_NULL, D_NOAPI, D_FOREIGN, D_BUF, D_DB };

struct send_row {
	const char *id;
	const char *what;
	enum dev_sel dev;
	int wait;
	uint32_t msg_id;
	bool null_data;
	int size;
	int expect;
};

static const struct send_row send_rows[] = {
	{ "S01", "size 0, NULL data", D_BUF, 0, 0, true, 0, 0 },
	{ "S02", "size 32 (the buffer)", D_BUF, 0, 0, false, 32, 0 },
	{ "S03", "size 1", D_BUF, 0, 0, false, 1, 0 },
	{ "S04", "size 0 with data", D_BUF, 0, 0, false, 0, 0 },
	{ "S05", "size 31", D_BUF, 0, 0, false, 31, 0 },
	{ "S06", "doorbell, size 0, NULL data", D_DB, 0, 0, true, 0, 0 },
	{ "S07", "doorbell, size 0 with data", D_DB, 0, 0, false, 0, 0 },
	{ "E01", "NULL device", D_NULL, 0, 0, false, 4, -EINVAL },
	{ "E02", "NULL device, wait", D_NULL, 1, 0, false, 4, -EINVAL },
	{ "E03", "device without an API", D_NOAPI, 0, 0, false, 4, -EINVAL },
	{ "E04", "IPM device that is not an IPI channel", D_FOREIGN, 0, 0, false, 4, -EINVAL },
	{ "E05", "negative size", D_BUF, 0, 0, false, -1, -EINVAL },
	{ "E06", "size INT_MIN", D_BUF, 0, 0, false, INT_MIN, -EINVAL },
	{ "E07", "NULL data with size 4", D_BUF, 0, 0, true, 4, -EINVAL },
	{ "E08", "NULL data with size 32, wait", D_BUF, 1, 0, true, 32, -EINVAL },
	{ "E09", "id 1 > ipm_max_id_val_get() == 0", D_BUF, 0, 1, false, 4, -EINVAL },
	{ "E10", "id UINT32_MAX", D_BUF, 0, UINT32_MAX, false, 0, -EINVAL },
	{ "E11", "id 1, wait", D_BUF, 1, 1, false, 4, -EINVAL },
	{ "E12", "size 33", D_BUF, 0, 0, false, 33, -EMSGSIZE },
	{ "E13", "size 33, wait", D_BUF, 1, 0, false, 33, -EMSGSIZE },
	{ "E14", "size INT_MAX", D_BUF, 0, 0, false, INT_MAX, -EMSGSIZE },
	{ "E15", "doorbell, size 1", D_DB, 0, 0, false, 1, -EMSGSIZE },
	{ "E16", "doorbell, size 32", D_DB, 0, 0, false, 32, -EMSGSIZE },
	{ "E17", "doorbell, size 33", D_DB, 0, 0, false, 33, -EMSGSIZE },
	{ "E18", "doorbell, id 1", D_DB, 0, 1, false, 0, -EINVAL },
	{ "E19", "doorbell, negative size", D_DB, 0, 0, false, -1, -EINVAL },
};

static const struct ampl_device *dev_of(enum dev_sel s)
{
	switch (s) {
	case D_NULL: return NULL;
	case D_NOAPI: return &noapi_dev;
	case D_FOREIGN: return &foreign_dev;
	case D_BUF: return E.apu_rpu0;
	case D_DB: return E.db_tx;
	}
	return NULL;
}

static void test_send_table(void **state)
{
	(void)state;
	env_up_default();
	struct rx rx, vrx;
	memset(&rx, 0, sizeof(rx));
	memset(&vrx, 0, sizeof(vrx));
	ipm_register_callback(E.rpu0_apu, rx_cb, &rx);
	assert_int_equal(ipm_set_enabled(E.rpu0_apu, 1), 0);
	ipm_register_callback(E.db_rx, rx_cb, &vrx);
	assert_int_equal(ipm_set_enabled(E.db_rx, 1), 0);

	uint8_t data[64];
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(send_rows); i++) {
		const struct send_row *r = &send_rows[i];
		pattern(data, sizeof(data), (uint8_t)i);
		/* A sentinel in the request buffer: an error must not write it. */
		for (unsigned k = 0; k < AMPL_IPI_BUF_SIZE; k++)
			E.req_apu_rpu0[k] = 0xEE;
		uint32_t obs0 = apu_obs(), vobs0 = ampl_io_read32(&E.vapu_regs, AMPL_IPI_OBS);
		int calls0 = atomic_load(&rx.calls), vcalls0 = atomic_load(&vrx.calls);
		assert_int_equal(obs0, 0);
		assert_int_equal(vobs0, 0);

		int ret = ipm_send(dev_of(r->dev), r->wait, r->msg_id, r->null_data ? NULL : data, r->size);
		check_rc(r->id, r->what, ret, r->expect);

		if (r->expect) {
			if (apu_obs() != obs0 || ampl_io_read32(&E.vapu_regs, AMPL_IPI_OBS) != vobs0)
				fail_msg("[%s] %s: failed send triggered the remote", r->id, r->what);
			for (unsigned k = 0; k < AMPL_IPI_BUF_SIZE; k++)
				if (E.req_apu_rpu0[k] != 0xEE)
					fail_msg("[%s] %s: failed send wrote request byte %u", r->id, r->what, k);
			continue;
		}
		if (r->dev == D_BUF) {
			if (!(apu_obs() & E.b_rpu0))
				fail_msg("[%s] %s: not pending after the send", r->id, r->what);
			for (int k = 0; k < r->size; k++)
				if (E.req_apu_rpu0[k] != data[k])
					fail_msg("[%s] %s: request byte %d = 0x%02x, expected 0x%02x", r->id, r->what, k,
						 E.req_apu_rpu0[k], data[k]);
			ampl_agent_poll(E.rpu0);
			if (atomic_load(&rx.calls) != calls0 + 1)
				fail_msg("[%s] %s: receiver callback ran %d times, expected 1", r->id, r->what,
					 atomic_load(&rx.calls) - calls0);
			for (int k = 0; k < r->size; k++)
				if (rx.bytes[k] != data[k])
					fail_msg("[%s] %s: received byte %d wrong", r->id, r->what, k);
			if (apu_obs())
				fail_msg("[%s] %s: still pending after the receiver's handler", r->id, r->what);
		} else {
			if (!(ampl_io_read32(&E.vapu_regs, AMPL_IPI_OBS) & E.vb_ipi6))
				fail_msg("[%s] %s: doorbell not pending after the send", r->id, r->what);
			ampl_agent_poll(E.vipi6);
			if (atomic_load(&vrx.calls) != vcalls0 + 1)
				fail_msg("[%s] %s: doorbell callback ran %d times, expected 1", r->id, r->what,
					 atomic_load(&vrx.calls) - vcalls0);
			if (atomic_load(&vrx.data) != NULL)
				fail_msg("[%s] %s: doorbell callback got data %p, expected NULL", r->id, r->what,
					 atomic_load(&vrx.data));
			if (ampl_io_read32(&E.vapu_regs, AMPL_IPI_OBS))
				fail_msg("[%s] %s: doorbell still pending after the handler", r->id, r->what);
		}
	}
}

/* ---- -EBUSY until the receiver acknowledges ---- */

static void test_busy_until_ack(void **state)
{
	(void)state;
	env_up_default();
	struct rx rx;
	rx_enable(&rx);

	uint8_t a[32], b[32];
	pattern(a, sizeof(a), 1);
	pattern(b, sizeof(b), 2);
	check_rc("B01", "first send", ipm_send(E.apu_rpu0, 0, 0, a, 32), 0);
	assert_true(xlnx_ipi_pending(E.apu_rpu0));
	/* The request is on the wire, and not in the framework's TX state machine (IPM sends on the thin path). */
	const struct xlnx_ipi_ipm_config *cfg = E.apu_rpu0->config;
	struct mbox_chan *tx = &cfg->mbox->chans[XLNX_IPI_TX_CHAN];
	if (tx->active)
		fail_msg("[B01] the TX channel is active in the framework: IPM went through its queue");
	check_rc("B02", "second send while pending", ipm_send(E.apu_rpu0, 0, 0, b, 32), -EBUSY);
	uint64_t t0 = now_us();
	check_rc("B03", "second send while pending, wait", ipm_send(E.apu_rpu0, 1, 0, b, 32), -EBUSY);
	if (now_us() - t0 > ACK_TIMEOUT_US / 2)
		fail_msg("[B03] -EBUSY with wait took %llu us: it must not wait", (unsigned long long)(now_us() - t0));
	check_rc("B04", "size 0 send while pending", ipm_send(E.apu_rpu0, 0, 0, NULL, 0), -EBUSY);
	/* The refused sends did not overwrite the pending request. */
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_memory_equal(rx.bytes, a, 32);
	assert_false(xlnx_ipi_pending(E.apu_rpu0));
	assert_int_equal(apu_obs(), 0);
	check_rc("B05", "send after the acknowledgement", ipm_send(E.apu_rpu0, 0, 0, b, 32), 0);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&rx.calls), 2);
	assert_memory_equal(rx.bytes, b, 32);

	/* Pending toward one remote does not block another remote. */
	const struct ampl_device *to_rpu1 = ampl_device_get_by_label("ipi_apu_rpu1");
	assert_non_null(to_rpu1);
	check_rc("B06", "send to rpu1", ipm_send(to_rpu1, 0, 0, a, 4), 0);
	check_rc("B07", "send to rpu1 again", ipm_send(to_rpu1, 0, 0, a, 4), -EBUSY);
	check_rc("B08", "send to rpu0 while rpu1 pending", ipm_send(E.apu_rpu0, 0, 0, a, 4), 0);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&rx.calls), 3);
	assert_int_equal(apu_obs(), ampl_ipi_mask(ampl_soc_agent_by_name(&ampl_soc_zynqmp, "rpu1")));
}

/* The remote's processor offline: every send refused with -ESHUTDOWN and never delivered, with or without wait,
 * also before this agent's interrupt context has seen the hotplug (the channel still online in the framework, the
 * trigger discarded by the hardware); after it is back, a send gets through once. */
static void test_offline_remote(void **state)
{
	(void)state;
	env_up_default();
	struct rx rx;
	rx_enable(&rx);
	const struct ampl_soc_agent *rpu0 = ampl_soc_agent_by_name(&ampl_soc_zynqmp, "rpu0");
	uint8_t a[32], b[32];
	pattern(a, sizeof(a), 1);
	pattern(b, sizeof(b), 2);
	assert_int_equal(ampl_soc_agent_set_online(E.zsoc, rpu0, false), 0);
	/* The APU's interrupt context has not run: the framework still has the channel online. */
	check_rc("O01", "send to an offline remote, before the hotplug is seen", ipm_send(E.apu_rpu0, 0, 0, a, 32),
		 -ESHUTDOWN);
	check_rc("O02", "send with wait to an offline remote, before the hotplug is seen",
		 ipm_send(E.apu_rpu0, 1, 0, a, 32), -ESHUTDOWN);
	ampl_agent_poll(E.apu); /* the hotplug seen: the channel offline */
	check_rc("O03", "send to an offline remote", ipm_send(E.apu_rpu0, 0, 0, a, 32), -ESHUTDOWN);
	check_rc("O04", "send with wait to an offline remote", ipm_send(E.apu_rpu0, 1, 0, a, 32), -ESHUTDOWN);
	assert_false(xlnx_ipi_pending(E.apu_rpu0));
	assert_int_equal(ampl_soc_agent_set_online(E.zsoc, rpu0, true), 0);
	ampl_agent_poll(E.apu);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&rx.calls), 0); /* nothing refused was delivered */
	check_rc("O05", "send once the remote is back", ipm_send(E.apu_rpu0, 0, 0, b, 32), 0);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_memory_equal(rx.bytes, b, 32);
	assert_false(xlnx_ipi_pending(E.apu_rpu0));
}

/* ---- sizes, ids, enable ---- */

static void test_max_sizes_and_ids(void **state)
{
	(void)state;
	env_up_default();
	static const struct {
		const char *id;
		enum dev_sel dev;
		bool rx_side;
		int size;
	} t[] = {
		{ "M01", D_BUF, false, 32 }, { "M02", D_BUF, true, 32 },     { "M03", D_DB, false, 0 },
		{ "M04", D_DB, true, 0 },    { "M05", D_NULL, false, -EINVAL }, { "M06", D_NOAPI, false, -EINVAL },
		{ "M07", D_FOREIGN, false, -EINVAL },
	};
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(t); i++) {
		const struct ampl_device *d = dev_of(t[i].dev);
		if (t[i].rx_side)
			d = t[i].dev == D_BUF ? E.rpu0_apu : E.db_rx;
		check_rc(t[i].id, "ipm_max_data_size_get", ipm_max_data_size_get(d), t[i].size);
	}
	/* Versal: a channel between buffered agents has a buffer; one to PMC_NOBUF (id 8) has none. */
	const struct ampl_device *d = NULL;
	assert_int_equal(ampl_agent_channel(E.vapu, "rpu0", &d), 0);
	check_rc("M08", "versal apu->rpu0 max size", ipm_max_data_size_get(d), 32);
	assert_int_equal(ampl_agent_channel(E.vapu, "pmc-nobuf", &d), 0);
	check_rc("M09", "versal apu->pmc-nobuf max size", ipm_max_data_size_get(d), 0);
	check_rc("M10", "versal apu->pmc-nobuf send 1 byte", ipm_send(d, 0, 0, "x", 1), -EMSGSIZE);

	assert_int_equal(ipm_max_id_val_get(E.apu_rpu0), 0);
	assert_int_equal(ipm_max_id_val_get(E.rpu0_apu), 0);
	assert_int_equal(ipm_max_id_val_get(E.db_tx), 0);
	assert_int_equal(ipm_max_id_val_get(NULL), 0);
	assert_int_equal(ipm_max_id_val_get(&noapi_dev), 0);
	/* The largest id it reports is accepted. */
	check_rc("M11", "send with id == max id", ipm_send(E.apu_rpu0, 0, ipm_max_id_val_get(E.apu_rpu0), NULL, 0), 0);
}

static void test_set_enabled_codes(void **state)
{
	(void)state;
	env_up_default();
	check_rc("N01", "ipm_set_enabled(NULL, 1)", ipm_set_enabled(NULL, 1), -EINVAL);
	check_rc("N02", "ipm_set_enabled(NULL, 0)", ipm_set_enabled(NULL, 0), -EINVAL);
	check_rc("N03", "device without an API", ipm_set_enabled(&noapi_dev, 1), -EINVAL);
	check_rc("N04", "not an IPI channel", ipm_set_enabled(&foreign_dev, 1), -EINVAL);

	/* rpu0's channel from the apu controls rpu0's mask bit of the apu. */
	assert_int_equal(ampl_io_read32(&E.rpu0_regs, AMPL_IPI_IMR) & E.b_apu, E.b_apu);
	check_rc("N05", "enable", ipm_set_enabled(E.rpu0_apu, 1), 0);
	assert_int_equal(ampl_io_read32(&E.rpu0_regs, AMPL_IPI_IMR) & E.b_apu, 0);
	check_rc("N06", "enable again", ipm_set_enabled(E.rpu0_apu, 1), 0);
	assert_int_equal(ampl_io_read32(&E.rpu0_regs, AMPL_IPI_IMR) & E.b_apu, 0);
	check_rc("N07", "disable", ipm_set_enabled(E.rpu0_apu, 0), 0);
	assert_int_equal(ampl_io_read32(&E.rpu0_regs, AMPL_IPI_IMR) & E.b_apu, E.b_apu);
	check_rc("N08", "enable with 2", ipm_set_enabled(E.rpu0_apu, 2), 0);
	assert_int_equal(ampl_io_read32(&E.rpu0_regs, AMPL_IPI_IMR) & E.b_apu, 0);
	/* Only that bit changed. */
	assert_int_equal(ampl_io_read32(&E.rpu0_regs, AMPL_IPI_IMR), ampl_soc_zynqmp.imr_reset & ~E.b_apu);
	/* The apu side's channel controls the apu's mask of rpu0. */
	check_rc("N09", "enable apu side", ipm_set_enabled(E.apu_rpu0, 1), 0);
	assert_int_equal(ampl_io_read32(&E.apu_regs, AMPL_IPI_IMR), ampl_soc_zynqmp.imr_reset & ~E.b_rpu0);
	check_rc("N10", "enable doorbell receiver", ipm_set_enabled(E.db_rx, 1), 0);
	assert_int_equal(ampl_io_read32(&E.vipi6_regs, AMPL_IPI_IMR) & E.vb_apu, 0);

	/* Void calls on bad devices are harmless. */
	ipm_register_callback(NULL, rx_cb, NULL);
	ipm_register_callback(&noapi_dev, rx_cb, NULL);
	ipm_register_callback(&foreign_dev, rx_cb, NULL);
	ipm_complete(NULL);
	ipm_complete(&noapi_dev);
	ipm_complete(&foreign_dev);
}

/* ---- ipm_send(wait) ---- */

struct timeout_row {
	const char *id;
	enum ampl_wait_mode mode;
};

static void test_wait_timeout(void **state)
{
	(void)state;
	static const struct timeout_row t[] = {
		{ "T01", AMPL_WAIT_POLL }, { "T02", AMPL_WAIT_ADAPTIVE }, { "T03", AMPL_WAIT_BLOCK },
	};
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(t); i++) {
		struct env_opts o = { .mode = t[i].mode, .ack_timeout_us = ACK_TIMEOUT_US };
		env_up(&o);
		struct rx rx;
		rx_enable(&rx);
		uint8_t a[8];
		pattern(a, sizeof(a), 9);
		uint64_t t0 = now_us();
		int ret = ipm_send(E.apu_rpu0, 1, 0, a, 8);
		uint64_t el = now_us() - t0;
		check_rc(t[i].id, "wait with no receiver running", ret, -ETIMEDOUT);
		/* Not before the timeout; after it, only "bounded": a loaded machine may take seconds to schedule us. */
		if (el + 1000 < ACK_TIMEOUT_US || el > ACK_TIMEOUT_US + 10000000)
			fail_msg("[%s] -ETIMEDOUT after %llu us, expected about %u us", t[i].id, (unsigned long long)el,
				 ACK_TIMEOUT_US);
		/* The message stays pending. */
		if (!(apu_obs() & E.b_rpu0))
			fail_msg("[%s] message no longer pending after -ETIMEDOUT", t[i].id);
		check_rc(t[i].id, "send after -ETIMEDOUT", ipm_send(E.apu_rpu0, 0, 0, NULL, 0), -EBUSY);
		check_rc(t[i].id, "send(wait) after -ETIMEDOUT", ipm_send(E.apu_rpu0, 1, 0, NULL, 0), -EBUSY);
		/* The receiver catches up: the message is the original one, and sending works again. */
		ampl_agent_poll(E.rpu0);
		assert_int_equal(atomic_load(&rx.calls), 1);
		assert_memory_equal(rx.bytes, a, 8);
		assert_int_equal(apu_obs(), 0);
		check_rc(t[i].id, "send after the receiver caught up", ipm_send(E.apu_rpu0, 0, 0, NULL, 0), 0);
		teardown(NULL);
	}
}

static void check_wait_with_receiver_thread(const char *id, enum ampl_wait_mode mode)
{
	struct env_opts o = { .mode = mode, .rpu0_irq_thread = true };
	env_up(&o);
	struct rx rx;
	memset(&rx, 0, sizeof(rx));
	rx.respond = true;
	atomic_store(&rx.resp_rc, 1);
	ipm_register_callback(E.rpu0_apu, rx_cb, &rx);
	assert_int_equal(ipm_set_enabled(E.rpu0_apu, 1), 0);
	for (int i = 0; i < 200; i++) {
		uint8_t req[32], resp[32];
		pattern(req, sizeof(req), (uint8_t)i);
		int ret = ipm_send(E.apu_rpu0, 1, 0, req, 32);
		if (ret)
			fail_msg("[%s] iteration %d: ipm_send(wait) returned %d (%s)", id, i, ret, ampl_errname(ret));
		assert_int_equal(atomic_load(&rx.calls), i + 1);
		assert_false(xlnx_ipi_pending(E.apu_rpu0));
		check_rc(id, "xlnx_ipi_response_write in the callback", atomic_load(&rx.resp_rc), 0);
		memset(resp, 0, sizeof(resp));
		check_rc(id, "xlnx_ipi_response_read", xlnx_ipi_response_read(E.apu_rpu0, resp, 32), 0);
		for (int k = 0; k < 32; k++) {
			uint8_t want = (uint8_t)(0xFFu ^ req[k]);
			if (resp[k] != want)
				fail_msg("[%s] iteration %d: response byte %d = 0x%02x, expected 0x%02x", id, i, k,
					 resp[k], want);
		}
		assert_memory_equal(rx.bytes, req, 32);
		/* A short read gets the first bytes. */
		uint8_t part[5];
		check_rc(id, "xlnx_ipi_response_read 5 bytes", xlnx_ipi_response_read(E.apu_rpu0, part, 5), 0);
		assert_memory_equal(part, resp, 5);
	}
	/* It ran in the receiver's interrupt thread, not here. */
	assert_false(pthread_equal(atomic_load(&rx.thread), pthread_self()));
	teardown(NULL);
}

static void test_wait_with_receiver_thread(void **state)
{
	(void)state;
	check_wait_with_receiver_thread("W01 adaptive", AMPL_WAIT_ADAPTIVE);
	check_wait_with_receiver_thread("W02 blocking", AMPL_WAIT_BLOCK);
	check_wait_with_receiver_thread("W03 polling", AMPL_WAIT_POLL);
}

/* ---- response buffers ---- */

struct resp_row {
	const char *id;
	const char *what;
	enum { RW, RR } op;
	enum { R_RX, R_TX, R_DB_RX, R_DB_TX, R_NULL, R_FOREIGN } dev;
	bool null_buf;
	size_t len;
	int expect;
};

static const struct resp_row resp_rows[] = {
	{ "R01", "write 32", RW, R_RX, false, 32, 0 },
	{ "R02", "read 32", RR, R_TX, false, 32, 0 },
	{ "R03", "write 33", RW, R_RX, false, 33, -EMSGSIZE },
	{ "R04", "read 33", RR, R_TX, false, 33, -EMSGSIZE },
	{ "R05", "write SIZE_MAX", RW, R_RX, false, SIZE_MAX, -EMSGSIZE },
	{ "R06", "write on a doorbell", RW, R_DB_RX, false, 4, -ENOTSUP },
	{ "R07", "read on a doorbell", RR, R_DB_TX, false, 4, -ENOTSUP },
	{ "R08", "write 0 on a doorbell", RW, R_DB_RX, true, 0, -ENOTSUP },
	{ "R09", "write NULL device", RW, R_NULL, false, 4, -EINVAL },
	{ "R10", "read NULL device", RR, R_NULL, false, 4, -EINVAL },
	{ "R11", "write NULL data", RW, R_RX, true, 4, -EINVAL },
	{ "R12", "read NULL buffer", RR, R_TX, true, 4, -EINVAL },
	{ "R13", "write not an IPI channel", RW, R_FOREIGN, false, 4, -EINVAL },
	{ "R14", "read not an IPI channel", RR, R_FOREIGN, false, 4, -EINVAL },
	{ "R15", "write 0 bytes", RW, R_RX, true, 0, 0 },
	/* Reads 0 bytes into NULL: the driver then calls memcpy(NULL, words, 0), undefined behaviour that the
	 * AMPL_SANITIZE=undefined build reports (xlnx_ipi_response_read). */
	{ "R16", "read 0 bytes into NULL", RR, R_TX, true, 0, 0 },
	{ "R17", "read 1 byte", RR, R_TX, false, 1, 0 },
};

static void test_response_codes(void **state)
{
	(void)state;
	env_up_default();
	uint8_t buf[64];
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(resp_rows); i++) {
		const struct resp_row *r = &resp_rows[i];
		const struct ampl_device *d = NULL;
		switch (r->dev) {
		case R_RX: d = E.rpu0_apu; break;
		case R_TX: d = E.apu_rpu0; break;
		case R_DB_RX: d = E.db_rx; break;
		case R_DB_TX: d = E.db_tx; break;
		case R_NULL: d = NULL; break;
		case R_FOREIGN: d = &foreign_dev; break;
		}
		pattern(buf, sizeof(buf), (uint8_t)(i + 100));
		int ret = r->op == RW ? xlnx_ipi_response_write(d, r->null_buf ? NULL : buf, r->len)
				      : xlnx_ipi_response_read(d, r->null_buf ? NULL : buf, r->len);
		check_rc(r->id, r->what, ret, r->expect);
	}

	/* Round trip: what rpu0 writes as its response to the apu is what the apu reads (same RAM). */
	uint8_t w[32], rd[32];
	pattern(w, sizeof(w), 42);
	assert_int_equal(xlnx_ipi_response_write(E.rpu0_apu, w, 32), 0);
	assert_int_equal(xlnx_ipi_response_read(E.apu_rpu0, rd, 32), 0);
	assert_memory_equal(w, rd, 32);
	volatile uint8_t *ram = ampl_soc_phys(E.zsoc, 0xFF990420u, 32);
	assert_non_null((void *)ram);
	for (int k = 0; k < 32; k++)
		assert_int_equal(ram[k], w[k]);
	/* A refused write leaves the response alone. */
	uint8_t big[33];
	pattern(big, sizeof(big), 7);
	assert_int_equal(xlnx_ipi_response_write(E.rpu0_apu, big, 33), -EMSGSIZE);
	assert_int_equal(xlnx_ipi_response_read(E.apu_rpu0, rd, 32), 0);
	assert_memory_equal(w, rd, 32);
	/* An odd length is copied exactly (the rest of the last word is zero). */
	assert_int_equal(xlnx_ipi_response_write(E.rpu0_apu, big, 5), 0);
	assert_int_equal(xlnx_ipi_response_read(E.apu_rpu0, rd, 8), 0);
	assert_memory_equal(rd, big, 5);
	assert_int_equal(rd[5] | rd[6] | rd[7], 0);
}

/* ---- doorbell channel ---- */

static void test_doorbell(void **state)
{
	(void)state;
	env_up_default();
	struct rx rx;
	memset(&rx, 0, sizeof(rx));
	atomic_store(&rx.data, (void *)&rx); /* anything but NULL */
	ipm_register_callback(E.db_rx, rx_cb, &rx);
	assert_int_equal(ipm_set_enabled(E.db_rx, 1), 0);
	check_rc("D01", "doorbell send size 0", ipm_send(E.db_tx, 0, 0, NULL, 0), 0);
	assert_int_equal(ampl_io_read32(&E.vapu_regs, AMPL_IPI_OBS), E.vb_ipi6);
	assert_int_equal(ampl_io_read32(&E.vipi6_regs, AMPL_IPI_ISR), E.vb_apu);
	check_rc("D02", "doorbell send while pending", ipm_send(E.db_tx, 0, 0, NULL, 0), -EBUSY);
	ampl_agent_poll(E.vipi6);
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_null(atomic_load(&rx.data));
	assert_ptr_equal(atomic_load(&rx.dev), E.db_rx);
	assert_int_equal(ampl_io_read32(&E.vapu_regs, AMPL_IPI_OBS), 0);
	ampl_agent_poll(E.vipi6);
	assert_int_equal(atomic_load(&rx.calls), 1);
	/* The other direction. */
	struct rx back;
	memset(&back, 0, sizeof(back));
	ipm_register_callback(E.db_tx, rx_cb, &back);
	assert_int_equal(ipm_set_enabled(E.db_tx, 1), 0);
	check_rc("D03", "doorbell ipi6 -> apu", ipm_send(E.db_rx, 0, 0, NULL, 0), 0);
	ampl_agent_poll(E.vapu);
	assert_int_equal(atomic_load(&back.calls), 1);
	assert_null(atomic_load(&back.data));
	assert_int_equal(ampl_io_read32(&E.vipi6_regs, AMPL_IPI_OBS), 0);
}

/* ---- delivery rules ---- */

static void test_callback_args(void **state)
{
	(void)state;
	env_up_default();
	struct rx rx;
	rx_enable(&rx);
	uint8_t a[32];
	pattern(a, sizeof(a), 3);
	assert_int_equal(ipm_send(E.apu_rpu0, 0, 0, a, 32), 0);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_ptr_equal(atomic_load(&rx.dev), E.rpu0_apu);
	assert_int_equal(atomic_load(&rx.id), 0);
	assert_ptr_equal(atomic_load(&rx.data), (void *)E.req_apu_rpu0);
	assert_memory_equal(rx.bytes, a, 32);

	/* A new registration replaces the old one (callback and user data). */
	struct rx rx2;
	memset(&rx2, 0, sizeof(rx2));
	ipm_register_callback(E.rpu0_apu, rx_cb, &rx2);
	assert_int_equal(ipm_send(E.apu_rpu0, 0, 0, a, 4), 0);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_int_equal(atomic_load(&rx2.calls), 1);

	/* ipm_complete() on a synchronous channel does nothing: it does not acknowledge a pending request. */
	assert_int_equal(ipm_send(E.apu_rpu0, 0, 0, a, 4), 0);
	ipm_complete(E.rpu0_apu);
	assert_true(xlnx_ipi_pending(E.apu_rpu0));
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&rx2.calls), 2);
	assert_false(xlnx_ipi_pending(E.apu_rpu0));
}

static void test_pending_before_enable(void **state)
{
	(void)state;
	env_up_default();
	struct rx rx;
	memset(&rx, 0, sizeof(rx));
	ipm_register_callback(E.rpu0_apu, rx_cb, &rx);
	uint8_t a[16];
	pattern(a, sizeof(a), 5);
	check_rc("P01", "send before the receiver enabled", ipm_send(E.apu_rpu0, 0, 0, a, 16), 0);
	for (int i = 0; i < 3; i++)
		ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&rx.calls), 0);
	assert_true(xlnx_ipi_pending(E.apu_rpu0));
	assert_int_equal(ipm_set_enabled(E.rpu0_apu, 1), 0);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_memory_equal(rx.bytes, a, 16);
	assert_false(xlnx_ipi_pending(E.apu_rpu0));
	/* Disabled again: the next one waits the same way. */
	assert_int_equal(ipm_set_enabled(E.rpu0_apu, 0), 0);
	check_rc("P02", "send while the receiver is disabled", ipm_send(E.apu_rpu0, 0, 0, a, 4), 0);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_int_equal(ipm_set_enabled(E.rpu0_apu, 1), 0);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&rx.calls), 2);
}

static bool wait_calls(struct rx *rx, int n, unsigned ms)
{
	for (unsigned i = 0; i < ms; i++) {
		if (atomic_load(&rx->calls) >= n)
			return true;
		usleep(1000);
	}
	return atomic_load(&rx->calls) >= n;
}

/* With the receiver's interrupt thread: enabling is what delivers, and a request sent before the receiver even
 * attached is not lost. */
static void test_pending_before_enable_thread(void **state)
{
	(void)state;
	struct env_opts o = { .mode = AMPL_WAIT_ADAPTIVE, .no_rpu0 = true };
	env_up(&o);
	uint8_t a[32];
	pattern(a, sizeof(a), 77);
	check_rc("P03", "send before the receiver attached", ipm_send(E.apu_rpu0, 0, 0, a, 32), 0);
	o.rpu0_irq_thread = true;
	attach_rpu0(&o);
	struct rx rx;
	memset(&rx, 0, sizeof(rx));
	ipm_register_callback(E.rpu0_apu, rx_cb, &rx);
	usleep(30000);
	assert_int_equal(atomic_load(&rx.calls), 0);
	assert_true(xlnx_ipi_pending(E.apu_rpu0));
	assert_int_equal(ipm_set_enabled(E.rpu0_apu, 1), 0);
	if (!wait_calls(&rx, 1, 2000))
		fail_msg("[P04] the request pending before attach/enable was not delivered once enabled");
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_memory_equal(rx.bytes, a, 32);
	for (int i = 0; i < 2000 && xlnx_ipi_pending(E.apu_rpu0); i++)
		usleep(1000);
	assert_false(xlnx_ipi_pending(E.apu_rpu0));
	usleep(20000);
	assert_int_equal(atomic_load(&rx.calls), 1); /* delivered once */
}

static void test_null_callback(void **state)
{
	(void)state;
	env_up_default();
	uint8_t a[32];
	pattern(a, sizeof(a), 11);
	/* Enabled with no callback registered. */
	assert_int_equal(ipm_set_enabled(E.rpu0_apu, 1), 0);
	check_rc("C01", "send to a receiver without a callback", ipm_send(E.apu_rpu0, 0, 0, a, 32), 0);
	ampl_agent_poll(E.rpu0);
	if (!AMPL_IPM_ASYNC) {
		/* Built without the hold: acknowledged unread (dropped, as Zephyr's driver does), the source unmasked. */
		assert_int_equal(ampl_io_read32(&E.rpu0_regs, AMPL_IPI_IMR) & E.b_apu, 0);
		assert_int_equal(ampl_io_read32(&E.rpu0_regs, AMPL_IPI_ISR), 0);
		assert_false(xlnx_ipi_pending(E.apu_rpu0));
		struct rx rx0;
		memset(&rx0, 0, sizeof(rx0));
		ipm_register_callback(E.rpu0_apu, rx_cb, &rx0);
		check_rc("C02", "send once a callback is set", ipm_send(E.apu_rpu0, 0, 0, a, 4), 0);
		ampl_agent_poll(E.rpu0);
		assert_int_equal(atomic_load(&rx0.calls), 1);
		assert_false(xlnx_ipi_pending(E.apu_rpu0));
		return;
	}
	/* Masked and left pending: not acknowledged, not lost. */
	assert_int_equal(ampl_io_read32(&E.rpu0_regs, AMPL_IPI_IMR) & E.b_apu, E.b_apu);
	assert_int_equal(ampl_io_read32(&E.rpu0_regs, AMPL_IPI_ISR), E.b_apu);
	assert_true(xlnx_ipi_pending(E.apu_rpu0));
	check_rc("C02", "send while the first is held", ipm_send(E.apu_rpu0, 0, 0, a, 4), -EBUSY);
	ampl_agent_poll(E.rpu0); /* no storm, no change */
	assert_true(xlnx_ipi_pending(E.apu_rpu0));
	/* Registering a callback and enabling again delivers the original request once. */
	struct rx rx;
	rx_enable(&rx);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_memory_equal(rx.bytes, a, 32);
	assert_false(xlnx_ipi_pending(E.apu_rpu0));

	/* Cleared with NULL: the same again. */
	ipm_register_callback(E.rpu0_apu, NULL, NULL);
	check_rc("C03", "send after the callback was cleared", ipm_send(E.apu_rpu0, 0, 0, a, 8), 0);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_true(xlnx_ipi_pending(E.apu_rpu0));
	assert_int_equal(ampl_io_read32(&E.rpu0_regs, AMPL_IPI_IMR) & E.b_apu, E.b_apu);
	ipm_register_callback(E.rpu0_apu, rx_cb, &rx);
	assert_int_equal(ipm_set_enabled(E.rpu0_apu, 1), 0);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&rx.calls), 2);
	assert_false(xlnx_ipi_pending(E.apu_rpu0));
}

/* ---- asynchronous mode on a statically defined channel ---- */

static struct xlnx_ipi_host async_host;
static struct xlnx_ipi_mbox async_mbox;
static struct xlnx_ipi_ipm_config async_cfg;
static struct xlnx_ipi_ipm_data async_data;
AMPL_DEVICE_DEFINE(async_dev, "t-ipm-async@rpu0", "t_ipm_async_rpu0_apu", xlnx_ipi_ipm_init, &xlnx_ipi_ipm_api,
		   &async_cfg, &async_data);
static bool async_registered;

static void async_chan_down(void)
{
	if (!async_registered)
		return;
	xlnx_ipi_ipm_release(&async_dev);
	ampl_device_unregister(&async_dev);
	xlnx_ipi_mbox_remove(&async_mbox);
	async_registered = false;
}

/* rpu0's buffers as the supervisor's handle maps them (E.zsoc, attached as apu, may not write rpu0's). */
static void map_buf(uint64_t addr, struct ampl_io_region *r)
{
	r->base = ampl_soc_phys(E.zsup, addr, AMPL_IPI_BUF_SIZE);
	assert_non_null((void *)r->base);
	r->size = AMPL_IPI_BUF_SIZE;
	r->ops = NULL;
	r->ctx = NULL;
}

/* RPU0's destination toward the APU, @m (not registered yet), on @host set up over RPU0's registers @regs, with the
 * request and response buffers of both directions mapped. */
static void rpu0_apu_dest(struct xlnx_ipi_host *host, const struct ampl_io_region *regs, struct xlnx_ipi_mbox *m)
{
	const struct ampl_soc_profile *p = &ampl_soc_zynqmp;
	const struct ampl_soc_agent *apu = ampl_soc_agent_by_name(p, "apu"), *rpu0 = ampl_soc_agent_by_name(p, "rpu0");
	assert_int_equal(xlnx_ipi_host_init(host, regs, p->valid_mask), 0);
	memset(m, 0, sizeof(*m));
	m->host = host;
	m->remote_mask = ampl_ipi_mask(apu);
	m->buffered = true;
	uint64_t lreq = ampl_ipi_request_addr(p, rpu0, apu), rreq = ampl_ipi_request_addr(p, apu, rpu0);
	map_buf(lreq, &m->local_req);
	map_buf(lreq + AMPL_IPI_RESP_OFFSET, &m->local_resp);
	map_buf(rreq, &m->remote_req);
	map_buf(rreq + AMPL_IPI_RESP_OFFSET, &m->remote_resp);
}

/*
 * ---- a client that comes while the interrupt handler masks a request nobody took ----
 *
 * RPU0's destination toward the APU set up by this test on RPU0's registers seen through a wrapper of the model's
 * ops (and, for the second test, its request buffer too), so that a client can bind or the mode change at the exact
 * point a process's main thread once did beside its interrupt thread: a restarted peer that rang before this side's
 * instance was open was never heard (test_peer_kill's rare stall).
 */
static struct xlnx_ipi_host late_host;
static struct xlnx_ipi_mbox late_mbox;
static struct ampl_io_region late_regs_model, late_req_model;
static struct mbox_client late_cl;
static atomic_int late_calls, late_null_calls, late_null_after_ack;
static atomic_bool bind_on_idr, switch_on_req_read;
static bool late_up;

static void late_rx(struct mbox_client *cl, void *mssg)
{
	(void)cl;
	atomic_fetch_add(&late_calls, 1);
	if (!mssg) {
		atomic_fetch_add(&late_null_calls, 1);
		if (!xlnx_ipi_pending(E.apu_rpu0))
			atomic_fetch_add(&late_null_after_ack, 1);
	}
}

static void late_bind(void)
{
	memset(&late_cl, 0, sizeof(late_cl));
	late_cl.rx_callback = late_rx;
	assert_int_equal(mbox_bind_client(&late_mbox.chans[XLNX_IPI_RX_CHAN], &late_cl), 0);
}

static uint32_t late_regs_read32(const struct ampl_io_region *io, uint32_t off)
{
	(void)io;
	return ampl_io_read32(&late_regs_model, off);
}

/* The client binds (its startup unmasks) just before the handler's IDR reaches the registers. */
static void late_regs_write32(const struct ampl_io_region *io, uint32_t off, uint32_t val)
{
	(void)io;
	if (off == AMPL_IPI_IDR && atomic_exchange(&bind_on_idr, false))
		late_bind();
	ampl_io_write32(&late_regs_model, off, val);
}

/* Signalling mode turned on, and the client bound, just after the handler read the mode (its request's first
 * word is the next thing it reads). */
static uint32_t late_req_read32(const struct ampl_io_region *io, uint32_t off)
{
	(void)io;
	if (atomic_exchange(&switch_on_req_read, false)) {
		assert_int_equal(xlnx_ipi_mbox_set_signalling(&late_mbox, true), 0);
		late_bind();
	}
	return ampl_io_read32(&late_req_model, off);
}

static void late_write_none(const struct ampl_io_region *io, uint32_t off, uint32_t val)
{
	(void)io;
	(void)off;
	(void)val;
	fail_msg("the request buffer written by its reader");
}

static const struct ampl_io_ops late_regs_ops = { .read32 = late_regs_read32, .write32 = late_regs_write32 };
static const struct ampl_io_ops late_req_ops = { .read32 = late_req_read32, .write32 = late_write_none };

static void late_chan_down(void)
{
	if (!late_up)
		return;
	if (late_mbox.chans[XLNX_IPI_RX_CHAN].cl)
		mbox_free_channel(&late_mbox.chans[XLNX_IPI_RX_CHAN]);
	xlnx_ipi_mbox_remove(&late_mbox);
	late_up = false;
}

/* RPU0's destination toward the APU on the wrapped registers (and request buffer), no client, its source unmasked
 * (as a client's enable before left it); the APU's request pending. */
static void late_setup(void)
{
	struct env_opts o = { .no_rpu0 = true, .ack_timeout_us = ACK_TIMEOUT_US };
	env_up(&o);
	late_regs_model = E.rpu0_regs;
	struct ampl_io_region regs = { .base = NULL, .size = late_regs_model.size, .ops = &late_regs_ops };
	rpu0_apu_dest(&late_host, &regs, &late_mbox);
	late_req_model = late_mbox.remote_req;
	late_mbox.remote_req = (struct ampl_io_region){ .base = NULL, .size = AMPL_IPI_BUF_SIZE, .ops = &late_req_ops };
	assert_int_equal(xlnx_ipi_mbox_init(&late_mbox, "t-ipm-late-node"), 0);
	late_up = true;
	atomic_store(&late_calls, 0);
	atomic_store(&late_null_calls, 0);
	atomic_store(&late_null_after_ack, 0);
	ampl_io_write32(&late_regs_model, AMPL_IPI_IER, E.b_apu);
	uint8_t a[32];
	pattern(a, sizeof(a), 5);
	assert_int_equal(ipm_send(E.apu_rpu0, 0, 0, a, 32), 0);
	assert_true(xlnx_ipi_pending(E.apu_rpu0));
}

/*
 * The handler finds no client for the request and masks it; a client binds in between (its startup unmasks just
 * before that mask lands). The handler looks again after masking: the request is not left masked for good, and
 * the next interrupt delivers it.
 */
static void test_client_binds_during_mask(void **state)
{
	(void)state;
	late_setup();
	atomic_store(&bind_on_idr, true);
	xlnx_ipi_isr(&late_host); /* nobody takes it: masked; the client binds just before the mask */
	assert_false(atomic_load(&bind_on_idr));
	assert_int_equal(atomic_load(&late_calls), 0);
	if (ampl_io_read32(&late_regs_model, AMPL_IPI_IMR) & E.b_apu)
		fail_msg("[L01] the request stays masked after a client bound beside the handler's mask");
	xlnx_ipi_isr(&late_host); /* the interrupt the unmask raises */
	assert_int_equal(atomic_load(&late_calls), 1);
	assert_false(xlnx_ipi_pending(E.apu_rpu0));
	late_chan_down();
}

/*
 * Signalling mode turned on, and the client bound, after the handler read the mode: it delivers the request as
 * a request (the callback before the acknowledgement), so a doorbell the peer rang in between was merged into it
 * and cleared with it. The handler drains once more after the acknowledgement: a second callback, with no message,
 * once the request is acknowledged.
 */
static void test_signalling_set_during_delivery(void **state)
{
	(void)state;
	if (!AMPL_XLNX_IPI_SIGNALLING) {
		assert_int_equal(xlnx_ipi_mbox_set_signalling(&late_mbox, true), -ENOTSUP);
		return;
	}
	late_setup();
	atomic_store(&switch_on_req_read, true);
	xlnx_ipi_isr(&late_host);
	assert_false(atomic_load(&switch_on_req_read));
	assert_false(xlnx_ipi_pending(E.apu_rpu0));
	assert_int_equal(atomic_load(&late_calls), 2);
	if (atomic_load(&late_null_after_ack) != 1)
		fail_msg("[L02] no drain after the acknowledgement of a request delivered as the mode changed");
	late_chan_down();
}

static void test_async_static_channel(void **state)
{
	(void)state;
	/* rpu0 is not attached: this test's own host drives rpu0's registers. */
	struct env_opts o = { .no_rpu0 = true, .ack_timeout_us = ACK_TIMEOUT_US };
	env_up(&o);
	struct ampl_io_region regs;
	assert_int_equal(ampl_soc_agent_regs(E.zsup, ampl_soc_agent_by_name(&ampl_soc_zynqmp, "rpu0"), &regs), 0);
	rpu0_apu_dest(&async_host, &regs, &async_mbox);
	check_rc("A00", "xlnx_ipi_mbox_init(static destination)", xlnx_ipi_mbox_init(&async_mbox, "t-ipm-async-node"),
		 0);
	memset(&async_cfg, 0, sizeof(async_cfg));
	async_cfg.mbox = &async_mbox;
	async_cfg.flags = XLNX_IPI_ASYNC;
	async_cfg.ack_timeout_us = ACK_TIMEOUT_US;
	if (!AMPL_IPM_ASYNC) {
		/* Built without asynchronous mode: the device refuses it at its init. */
		check_rc("A01", "ampl_device_register(static async channel, no AMPL_IPM_ASYNC)",
			 ampl_device_register(&async_dev), -ENOTSUP);
		xlnx_ipi_mbox_remove(&async_mbox);
		return;
	}

	check_rc("A01", "ampl_device_register(static async channel)", ampl_device_register(&async_dev), 0);
	async_registered = true;
	assert_true(ampl_device_is_ready(&async_dev));
	assert_ptr_equal(ampl_device_get_binding("t-ipm-async@rpu0"), &async_dev);
	assert_ptr_equal(ampl_device_get_by_label("t_ipm_async_rpu0_apu"), &async_dev);
	check_rc("A02", "register the same device again", ampl_device_register(&async_dev), -EEXIST);
	check_rc("A03", "max data size", ipm_max_data_size_get(&async_dev), 32);

	struct rx rx;
	memset(&rx, 0, sizeof(rx));
	ipm_register_callback(&async_dev, rx_cb, &rx);
	check_rc("A04", "enable", ipm_set_enabled(&async_dev, 1), 0);

	uint8_t a[32], resp[32], got[32];
	pattern(a, sizeof(a), 21);
	check_rc("A05", "apu sends", ipm_send(E.apu_rpu0, 0, 0, a, 32), 0);
	xlnx_ipi_isr(&async_host);
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_ptr_equal(atomic_load(&rx.dev), &async_dev);
	assert_ptr_equal(atomic_load(&rx.data), (void *)async_mbox.remote_req.base);
	assert_memory_equal(rx.bytes, a, 32);
	/* Held: the sender still sees it pending and cannot send the next one. */
	if (!xlnx_ipi_pending(E.apu_rpu0))
		fail_msg("[A06] asynchronous channel acknowledged on return from the callback");
	check_rc("A07", "apu sends while held", ipm_send(E.apu_rpu0, 0, 0, a, 4), -EBUSY);
	/* A second interrupt does not deliver it again; enabling while held does not unmask it. */
	xlnx_ipi_isr(&async_host);
	assert_int_equal(atomic_load(&rx.calls), 1);
	check_rc("A08", "enable while held", ipm_set_enabled(&async_dev, 1), 0);
	assert_int_equal(ampl_io_read32(&regs, AMPL_IPI_IMR) & async_mbox.remote_mask, async_mbox.remote_mask);
	xlnx_ipi_isr(&async_host);
	assert_int_equal(atomic_load(&rx.calls), 1);
	/* The request stays readable until completion; a response can be written from thread context. */
	for (int k = 0; k < 32; k++)
		assert_int_equal(E.req_apu_rpu0[k], a[k]);
	pattern(resp, sizeof(resp), 99);
	check_rc("A09", "response write while held", xlnx_ipi_response_write(&async_dev, resp, 32), 0);
	ipm_complete(&async_dev);
	if (xlnx_ipi_pending(E.apu_rpu0))
		fail_msg("[A10] ipm_complete() did not acknowledge");
	assert_int_equal(ampl_io_read32(&regs, AMPL_IPI_IMR) & async_mbox.remote_mask, 0);
	check_rc("A11", "apu reads the response", xlnx_ipi_response_read(E.apu_rpu0, got, 32), 0);
	assert_memory_equal(got, resp, 32);
	/* Nothing held: a second complete does nothing (in particular does not acknowledge the next request). */
	ipm_complete(&async_dev);
	check_rc("A12", "apu sends again", ipm_send(E.apu_rpu0, 0, 0, a, 8), 0);
	ipm_complete(&async_dev);
	assert_true(xlnx_ipi_pending(E.apu_rpu0));
	xlnx_ipi_isr(&async_host);
	assert_int_equal(atomic_load(&rx.calls), 2);
	assert_true(xlnx_ipi_pending(E.apu_rpu0));
	/* Completed while disabled: acknowledged, and the source stays masked. */
	assert_int_equal(ipm_set_enabled(&async_dev, 0), 0);
	ipm_complete(&async_dev);
	assert_false(xlnx_ipi_pending(E.apu_rpu0));
	assert_int_equal(ampl_io_read32(&regs, AMPL_IPI_IMR) & async_mbox.remote_mask, async_mbox.remote_mask);

	/* ipm_send(wait) from the apu returns once the asynchronous receiver completes. */
	assert_int_equal(ipm_set_enabled(&async_dev, 1), 0);
	check_rc("A13", "wait with the receiver holding", ipm_send(E.apu_rpu0, 1, 0, a, 4), -ETIMEDOUT);
	xlnx_ipi_isr(&async_host);
	assert_int_equal(atomic_load(&rx.calls), 3);
	ipm_complete(&async_dev);
	assert_false(xlnx_ipi_pending(E.apu_rpu0));

	async_chan_down();
	assert_null(ampl_device_get_binding("t-ipm-async@rpu0"));
	assert_false(ampl_device_is_ready(&async_dev));
	check_rc("A14", "unregister twice", ampl_device_unregister(&async_dev), -ENOENT);
}


/* ---- concurrent senders on one device ---- */

/*
 * Four threads send through the apu's channel to rpu0 at once (two with wait, two without) while rpu0's interrupt
 * thread checks every message (tests/unit/ipm_concurrent.h): no message corrupt, lost, doubled or out of order, and
 * each return code true of the call that got it. Once in each wait mode of the receiver.
 */
static struct ipmc ipi_conc;

static void test_concurrent_senders(void **state)
{
	(void)state;
	static const struct {
		const char *id;
		enum ampl_wait_mode mode;
	} t[] = { { "C01 adaptive", AMPL_WAIT_ADAPTIVE }, { "C02 blocking", AMPL_WAIT_BLOCK } };
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(t); i++) {
		struct env_opts o = { .mode = t[i].mode, .rpu0_irq_thread = true, .ack_timeout_us = 2000000u };
		env_up(&o);
		memset(&ipi_conc, 0, sizeof(ipi_conc));
		ipi_conc.tx = E.apu_rpu0;
		ipi_conc.size = 32;
		ipi_conc.ack_after_callback = true;
		ipi_conc.target = 4000;
		ipi_conc.deadline_ms = 20000;
		ipm_register_callback(E.rpu0_apu, ipmc_rx_cb, &ipi_conc);
		assert_int_equal(ipm_set_enabled(E.rpu0_apu, 1), 0);
		ipmc_run(&ipi_conc, t[i].id, NULL, NULL);
		assert_false(xlnx_ipi_pending(E.apu_rpu0));
		teardown(NULL);
	}
}

/*
 * The driver's size options (include/amplink/drivers/xlnx_ipi.h) as this build has them: signalling mode is refused
 * without AMPL_XLNX_IPI_SIGNALLING (request mode stays), and without AMPL_XLNX_IPI_HOLD the RX channel has no hold
 * op, so a request is acknowledged once its callback returns.
 */
static void test_size_options(void **state)
{
	(void)state;
	env_up_default();
	struct xlnx_ipi_mbox *m = xlnx_ipi_mbox_of(ipm_mbox_chan(E.rpu0_apu, true));
	assert_non_null(m);
	check_rc("Z01", "set_signalling(NULL)", xlnx_ipi_mbox_set_signalling(NULL, true), -EINVAL);
	check_rc("Z02", "set_signalling(on)", xlnx_ipi_mbox_set_signalling(m, true),
		 AMPL_XLNX_IPI_SIGNALLING ? 0 : -ENOTSUP);
	check_rc("Z03", "set_signalling(off)", xlnx_ipi_mbox_set_signalling(m, false), 0);
	assert_int_equal(m->ctrl.ops->hold != NULL, AMPL_XLNX_IPI_HOLD);
	assert_int_equal(m->ctrl.ops->last_tx_result != NULL, AMPL_XLNX_IPI_HOTPLUG);
	/* Request mode either way: a message goes through and is acknowledged on return. */
	struct rx rx;
	rx_enable(&rx);
	uint8_t a[32];
	pattern(a, sizeof(a), 3);
	check_rc("Z04", "send", ipm_send(E.apu_rpu0, 0, 0, a, 32), 0);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&rx.calls), 1);
	assert_memory_equal(rx.bytes, a, 32);
	assert_false(xlnx_ipi_pending(E.apu_rpu0));
}

/* A test that needs a size option (firmware/size/configs.txt) off in this build: reported skipped. */
static void skipped_option_off(void **state)
{
	(void)state;
	skip();
}
#define OPT_TEST(f, on) { #f, (on) ? f : skipped_option_off, NULL, teardown, NULL }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_device_lookup, teardown),
		cmocka_unit_test_teardown(test_send_table, teardown),
		cmocka_unit_test_teardown(test_busy_until_ack, teardown),
		OPT_TEST(test_offline_remote, AMPL_XLNX_IPI_HOTPLUG), /* the host's discards hook */
		cmocka_unit_test_teardown(test_max_sizes_and_ids, teardown),
		cmocka_unit_test_teardown(test_set_enabled_codes, teardown),
		cmocka_unit_test_teardown(test_wait_timeout, teardown),
		cmocka_unit_test_teardown(test_wait_with_receiver_thread, teardown),
		cmocka_unit_test_teardown(test_response_codes, teardown),
		cmocka_unit_test_teardown(test_doorbell, teardown),
		cmocka_unit_test_teardown(test_callback_args, teardown),
		cmocka_unit_test_teardown(test_pending_before_enable, teardown),
		cmocka_unit_test_teardown(test_pending_before_enable_thread, teardown),
		cmocka_unit_test_teardown(test_null_callback, teardown),
		cmocka_unit_test_teardown(test_async_static_channel, teardown),
		cmocka_unit_test_teardown(test_client_binds_during_mask, teardown),
		cmocka_unit_test_teardown(test_signalling_set_during_delivery, teardown),
		cmocka_unit_test_teardown(test_concurrent_senders, teardown),
		cmocka_unit_test_teardown(test_size_options, teardown),
	};
	return cmocka_run_group_tests_name("ipm", tests, NULL, NULL);
}
