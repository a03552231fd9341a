/*
 * User-space channels (include/amplink/host/uchan.h): every return code, the seed's write/read semantics, readiness,
 * flow control without loss, and the release of the framework channels.
 *
 * One process plays both sides of a virtual ZynqMP (default board): the APU owns the control and its channels
 * (interrupt thread running), RPU0 is the remote with an IPM device (interrupt thread running) that records what
 * it receives and sends requests back. A Versal SoC gives a doorbell-only remote (ipi6). Return codes are checked
 * with check_rc() so a failure names the call and both codes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <amplink/device.h>
#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/ipm.h>
#include <amplink/host/soc.h>
#include <amplink/host/uchan.h>

#define ACK_MS 100u /* the control's acknowledgement bound in these tests */

static void check_rc(const char *what, long got, long want)
{
	if (got != want)
		fail_msg("%s: returned %ld (%s), expected %ld (%s)", what, got, ampl_errname((int)got), want,
			 ampl_errname((int)want));
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void msleep(unsigned ms)
{
	struct timespec ts = { ms / 1000u, (long)(ms % 1000u) * 1000000L };
	nanosleep(&ts, NULL);
}

static void pattern(uint8_t *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(seed * 31u + i * 7u + 1u);
}

/* ---- the remote's recorder (RPU0's interrupt thread) ---- */

struct rec {
	atomic_int calls;
	atomic_int null_data; /* calls with no data (doorbell-only channel) */
	uint8_t bytes[AMPL_IPI_BUF_SIZE];
};

static void rec_cb(const struct ampl_device *dev, void *ud, uint32_t id, volatile void *data)
{
	(void)dev;
	(void)id;
	struct rec *r = ud;
	if (data)
		for (unsigned i = 0; i < AMPL_IPI_BUF_SIZE; i++)
			r->bytes[i] = ((volatile uint8_t *)data)[i];
	else
		atomic_fetch_add(&r->null_data, 1);
	atomic_fetch_add(&r->calls, 1); /* last: a waiter that sees the count sees the bytes */
}

static bool wait_calls(struct rec *r, int want, unsigned ms)
{
	uint64_t end = now_ms() + ms;
	while (atomic_load(&r->calls) < want) {
		if (now_ms() > end)
			return false;
		msleep(1);
	}
	return true;
}

/* ---- environment ---- */

struct env {
	char zname[64], vname[64];
	struct ampl_soc *zsoc, *vsoc;
	struct ampl_agent *apu, *rpu0, *vapu, *vipi6;
	const struct ampl_device *rpu0_apu; /* the remote's IPM device towards the APU */
	const struct ampl_device *ipi6_apu; /* Versal: doorbell-only remote */
	struct ampl_uchan_ctl *ctl, *vctl;
	struct rec rec, vrec;
};

static struct env E;
static unsigned soc_counter;

static struct ampl_soc *make_soc(char *name, size_t len, const struct ampl_soc_profile *p)
{
	snprintf(name, len, "t-uchan-%d-%u", (int)getpid(), soc_counter++);
	int ret = ampl_soc_create(name, p, NULL, 0);
	if (ret)
		fail_msg("ampl_soc_create(%s): %d %s", name, ret, ampl_soc_last_error());
	struct ampl_soc *soc = NULL;
	ret = ampl_soc_open(name, &soc);
	if (ret)
		fail_msg("ampl_soc_open(%s): %d %s", name, ret, ampl_soc_last_error());
	return soc;
}

static struct ampl_agent *attach(struct ampl_soc *soc, const char *name)
{
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE, .ack_timeout_us = 5000000u };
	struct ampl_agent *ag = NULL;
	int ret = ampl_agent_attach(soc, name, &o, &ag);
	if (ret)
		fail_msg("ampl_agent_attach(%s): %d %s", name, ret, ampl_soc_last_error());
	return ag;
}

/* @queue_len 0: the default. The remote records but is not enabled until remote_enable(). */
static void env_up_q(unsigned queue_len)
{
	memset(&E, 0, sizeof(E));
	E.zsoc = make_soc(E.zname, sizeof(E.zname), &ampl_soc_zynqmp);
	E.apu = attach(E.zsoc, "apu");
	E.rpu0 = attach(E.zsoc, "rpu0");
	check_rc("ampl_agent_channel(rpu0, apu)", ampl_agent_channel(E.rpu0, "apu", &E.rpu0_apu), 0);
	ipm_register_callback(E.rpu0_apu, rec_cb, &E.rec);
	struct ampl_uchan_opts o = { .queue_len = queue_len, .ack_timeout_ms = ACK_MS };
	check_rc("ampl_uchan_ctl_open", ampl_uchan_ctl_open(E.apu, &o, &E.ctl), 0);
}

static void env_up(void)
{
	env_up_q(0);
}

static void remote_enable(bool on)
{
	check_rc("ipm_set_enabled(rpu0)", ipm_set_enabled(E.rpu0_apu, on), 0);
}

static void versal_up(void)
{
	E.vsoc = make_soc(E.vname, sizeof(E.vname), &ampl_soc_versal);
	E.vapu = attach(E.vsoc, "apu");
	E.vipi6 = attach(E.vsoc, "ipi6");
	check_rc("ampl_agent_channel(ipi6, apu)", ampl_agent_channel(E.vipi6, "apu", &E.ipi6_apu), 0);
	ipm_register_callback(E.ipi6_apu, rec_cb, &E.vrec);
	check_rc("ipm_set_enabled(ipi6)", ipm_set_enabled(E.ipi6_apu, 1), 0);
	struct ampl_uchan_opts o = { .ack_timeout_ms = ACK_MS };
	check_rc("ampl_uchan_ctl_open(versal apu)", ampl_uchan_ctl_open(E.vapu, &o, &E.vctl), 0);
}

static int teardown(void **state)
{
	(void)state;
	ampl_uchan_ctl_close(E.ctl);
	ampl_uchan_ctl_close(E.vctl);
	struct ampl_agent *ags[] = { E.rpu0, E.apu, E.vipi6, E.vapu };
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(ags); i++)
		if (ags[i])
			ampl_agent_detach(ags[i]);
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

static struct ampl_uchan *request_open(const char *target, unsigned flags)
{
	struct ampl_uchan *ch = NULL;
	check_rc("ampl_uchan_request", ampl_uchan_request(E.ctl, target, &ch), 0);
	check_rc("ampl_uchan_open", ampl_uchan_open(ch, flags), 0);
	return ch;
}

/* The remote sends one 32-byte request to the APU and waits for the acknowledgement. */
static int remote_send(const void *data)
{
	return ipm_send(E.rpu0_apu, 1, 0, data, AMPL_IPI_BUF_SIZE);
}

/* ---- control ---- */

static void test_ctl_codes(void **state)
{
	(void)state;
	env_up();
	struct ampl_uchan_ctl *c = NULL;
	check_rc("ctl_open(NULL agent)", ampl_uchan_ctl_open(NULL, NULL, &c), -EINVAL);
	check_rc("ctl_open(NULL out)", ampl_uchan_ctl_open(E.apu, NULL, NULL), -EINVAL);
	check_rc("ctl_open(a second control for the APU)", ampl_uchan_ctl_open(E.apu, NULL, &c), -EBUSY);
	struct ampl_uchan_opts big = { .queue_len = 65537 };
	check_rc("ctl_open(rpu0, queue_len 65537)", ampl_uchan_ctl_open(E.rpu0, &big, &c), -EINVAL);
	check_rc("ctl_open(rpu0)", ampl_uchan_ctl_open(E.rpu0, NULL, &c), 0);
	ampl_uchan_ctl_close(c);
	/* Closed: the agent may have a control again. */
	check_rc("ctl_open(rpu0) again", ampl_uchan_ctl_open(E.rpu0, NULL, &c), 0);
	ampl_uchan_ctl_close(c);
	ampl_uchan_ctl_close(NULL);

	/* A SoC without an IPI block (i.MX: Messaging Units) has no IPI user-space channels. */
	char iname[64];
	struct ampl_soc *isoc = make_soc(iname, sizeof(iname), &ampl_soc_imx);
	struct ampl_agent *a = attach(isoc, "a");
	check_rc("ctl_open(i.MX agent)", ampl_uchan_ctl_open(a, NULL, &c), -ENOTSUP);
	ampl_agent_detach(a);
	ampl_soc_close(isoc);
	ampl_soc_destroy(iname);
}

static void test_request_verification(void **state)
{
	(void)state;
	env_up();
	struct ampl_uchan *ch = NULL, *again = NULL;
	check_rc("request(NULL ctl)", ampl_uchan_request(NULL, "rpu0", &ch), -EINVAL);
	check_rc("request(NULL target)", ampl_uchan_request(E.ctl, NULL, &ch), -EINVAL);
	check_rc("request(NULL out)", ampl_uchan_request(E.ctl, "rpu0", NULL), -EINVAL);
	check_rc("request(unknown agent)", ampl_uchan_request(E.ctl, "gpu", &ch), -EINVAL);
	check_rc("request(itself)", ampl_uchan_request(E.ctl, "apu", &ch), -EINVAL);
	check_rc("request(itself by alias)", ampl_uchan_request(E.ctl, "ch0", &ch), -EINVAL);
	static const char *const pmus[] = { "pmu0", "pmu1", "pmu2", "pmu3", "ch3", "ch6" };
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(pmus); i++) {
		char what[64];
		snprintf(what, sizeof(what), "request(%s: PMU firmware)", pmus[i]);
		check_rc(what, ampl_uchan_request(E.ctl, pmus[i], &ch), -EPERM);
	}
	assert_int_equal(ampl_uchan_foreach(E.ctl, NULL, NULL), 0);

	check_rc("request(rpu0)", ampl_uchan_request(E.ctl, "rpu0", &ch), 0);
	assert_non_null(ch);
	assert_string_equal(ampl_uchan_name(ch), "rpu0");
	assert_int_equal(ampl_uchan_max_msg(ch), AMPL_IPI_BUF_SIZE);
	check_rc("request(rpu0) twice", ampl_uchan_request(E.ctl, "rpu0", &again), -EBUSY);
	check_rc("request(ch1 = rpu0) twice", ampl_uchan_request(E.ctl, "ch1", &again), -EBUSY);
	assert_ptr_equal(ampl_uchan_find(E.ctl, "ch1"), ch);
	assert_null(ampl_uchan_find(E.ctl, "rpu1"));
	check_rc("request(pl0)", ampl_uchan_request(E.ctl, "pl0", &again), 0);
	assert_int_equal(ampl_uchan_foreach(E.ctl, NULL, NULL), 2);

	check_rc("unrequest(NULL)", ampl_uchan_unrequest(NULL), -EINVAL);
	check_rc("unrequest(pl0)", ampl_uchan_unrequest(again), 0);
	check_rc("unrequest(rpu0)", ampl_uchan_unrequest(ch), 0);
	assert_null(ampl_uchan_find(E.ctl, "rpu0"));
	check_rc("request(rpu0) after unrequest", ampl_uchan_request(E.ctl, "rpu0", &ch), 0);

	/* Versal: PSM and both PMC agents are firmware; ipi6 is a doorbell-only target. */
	versal_up();
	static const char *const fw[] = { "psm", "pmc", "pmc-nobuf" };
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(fw); i++) {
		char what[64];
		snprintf(what, sizeof(what), "versal request(%s: firmware)", fw[i]);
		check_rc(what, ampl_uchan_request(E.vctl, fw[i], &again), -EPERM);
	}
	check_rc("versal request(ipi0 = itself)", ampl_uchan_request(E.vctl, "ipi0", &again), -EINVAL);
	check_rc("versal request(ipi6)", ampl_uchan_request(E.vctl, "ipi6", &again), 0);
	assert_int_equal(ampl_uchan_max_msg(again), 0);
}

/* ---- open / release ---- */

static void test_open_release_codes(void **state)
{
	(void)state;
	env_up();
	struct ampl_uchan *ch = NULL;
	check_rc("request(rpu0)", ampl_uchan_request(E.ctl, "rpu0", &ch), 0);
	uint8_t buf[32] = { 0 };
	check_rc("write before open", ampl_uchan_write(ch, buf, 4), -EBADF);
	check_rc("read before open", ampl_uchan_read(ch, buf, sizeof(buf)), -EBADF);
	check_rc("release before open", ampl_uchan_release(ch), -EBADF);
	check_rc("set_flags before open", ampl_uchan_set_flags(ch, 0), -EBADF);
	assert_int_equal(ampl_uchan_poll(ch), 0);
	check_rc("open(NULL)", ampl_uchan_open(NULL, 0), -EINVAL);
	check_rc("open(unknown flags)", ampl_uchan_open(ch, 0x80), -EINVAL);
	check_rc("write(NULL)", ampl_uchan_write(NULL, buf, 4), -EINVAL);
	check_rc("read(NULL)", ampl_uchan_read(NULL, buf, 4), -EINVAL);
	check_rc("release(NULL)", ampl_uchan_release(NULL), -EINVAL);

	check_rc("open", ampl_uchan_open(ch, 0), 0);
	check_rc("open a second time", ampl_uchan_open(ch, 0), -EBUSY);
	check_rc("open a second time, non-blocking", ampl_uchan_open(ch, AMPL_UCHAN_NONBLOCK), -EBUSY);
	check_rc("write(NULL buf, 4)", ampl_uchan_write(ch, NULL, 4), -EINVAL);
	check_rc("read(NULL buf, 4)", ampl_uchan_read(ch, NULL, 4), -EINVAL);
	check_rc("set_flags(unknown)", ampl_uchan_set_flags(ch, 0x80), -EINVAL);
	check_rc("unrequest while open", ampl_uchan_unrequest(ch), -EBUSY);

	/* The framework channels are ours while open. */
	struct mbox_controller *mbox = NULL;
	check_rc("ampl_agent_mbox(apu, rpu0)", ampl_agent_mbox(E.apu, "rpu0", &mbox), 0);
	struct mbox_client other = { 0 };
	check_rc("bind TX while open", mbox_bind_client(&mbox->chans[XLNX_IPI_TX_CHAN], &other), -EBUSY);
	check_rc("bind RX while open", mbox_bind_client(&mbox->chans[XLNX_IPI_RX_CHAN], &other), -EBUSY);
	/* The APU's IPM device over the same controller cannot send either. */
	const struct ampl_device *ipm = NULL;
	check_rc("ampl_agent_channel(apu, rpu0)", ampl_agent_channel(E.apu, "rpu0", &ipm), 0);
	check_rc("ipm_send on the channel we own", ipm_send(ipm, 0, 0, buf, 4), -EBUSY);

	check_rc("release", ampl_uchan_release(ch), 0);
	check_rc("release twice", ampl_uchan_release(ch), -EBADF);
	check_rc("read after release", ampl_uchan_read(ch, buf, sizeof(buf)), -EBADF);

	/* Released: a new client binds both channels. */
	check_rc("bind TX after release", mbox_bind_client(&mbox->chans[XLNX_IPI_TX_CHAN], &other), 0);
	check_rc("bind RX after release", mbox_bind_client(&mbox->chans[XLNX_IPI_RX_CHAN], &other), 0);
	check_rc("open while another client owns the channels", ampl_uchan_open(ch, 0), -EBUSY);
	mbox_free_channel(&mbox->chans[XLNX_IPI_RX_CHAN]);
	mbox_free_channel(&mbox->chans[XLNX_IPI_TX_CHAN]);
	check_rc("open again", ampl_uchan_open(ch, 0), 0);
	check_rc("release again", ampl_uchan_release(ch), 0);

	/* An IPM device in use owns them too. */
	xlnx_ipi_ipm_release(ipm);
	check_rc("ipm_send (the IPM device takes the channels)", ipm_send(ipm, 0, 0, NULL, 0), 0);
	check_rc("open while the IPM device owns them", ampl_uchan_open(ch, 0), -EBUSY);
	xlnx_ipi_ipm_release(ipm);
	remote_enable(true); /* consume the ring */
	check_rc("open after the IPM device let go", ampl_uchan_open(ch, 0), 0);
}

static void test_ctl_close_releases(void **state)
{
	(void)state;
	env_up();
	struct ampl_uchan *ch = request_open("rpu0", 0);
	(void)ch;
	struct mbox_controller *mbox = NULL;
	check_rc("ampl_agent_mbox(apu, rpu0)", ampl_agent_mbox(E.apu, "rpu0", &mbox), 0);
	ampl_uchan_ctl_close(E.ctl);
	E.ctl = NULL;
	struct mbox_client other = { 0 };
	check_rc("bind TX after ctl_close", mbox_bind_client(&mbox->chans[XLNX_IPI_TX_CHAN], &other), 0);
	check_rc("bind RX after ctl_close", mbox_bind_client(&mbox->chans[XLNX_IPI_RX_CHAN], &other), 0);
	mbox_free_channel(&mbox->chans[XLNX_IPI_RX_CHAN]);
	mbox_free_channel(&mbox->chans[XLNX_IPI_TX_CHAN]);
}

/* ---- write ---- */

static void test_write_takes_32(void **state)
{
	(void)state;
	env_up();
	remote_enable(true);
	struct ampl_uchan *ch = request_open("rpu0", 0);
	uint8_t big[40];
	pattern(big, sizeof(big), 7);
	check_rc("write(40 bytes)", ampl_uchan_write(ch, big, sizeof(big)), 32);
	assert_true(wait_calls(&E.rec, 1, 2000));
	assert_memory_equal(E.rec.bytes, big, 32);

	/* A short write: the data, then zero bytes (the IPI carries no length). */
	check_rc("write(5 bytes)", ampl_uchan_write(ch, "hello", 5), 5);
	assert_true(wait_calls(&E.rec, 2, 2000));
	uint8_t want[32] = "hello";
	assert_memory_equal(E.rec.bytes, want, 32);

	check_rc("write(32 bytes)", ampl_uchan_write(ch, big + 8, 32), 32);
	assert_true(wait_calls(&E.rec, 3, 2000));
	assert_memory_equal(E.rec.bytes, big + 8, 32);
	check_rc("write(1 byte)", ampl_uchan_write(ch, "x", 1), 1);
	assert_true(wait_calls(&E.rec, 4, 2000));

	struct ampl_uchan_stats st;
	check_rc("stats", ampl_uchan_stats(ch, &st), 0);
	assert_int_equal(st.sent, 4);
	assert_true(st.open);
	check_rc("stats(NULL)", ampl_uchan_stats(NULL, &st), -EINVAL);
}

static void test_zero_length_write(void **state)
{
	(void)state;
	env_up();
	remote_enable(true);
	struct ampl_uchan *ch = request_open("rpu0", 0);
	check_rc("write(5 bytes)", ampl_uchan_write(ch, "first", 5), 5);
	assert_true(wait_calls(&E.rec, 1, 2000));
	memset(E.rec.bytes, 0xEE, sizeof(E.rec.bytes));
	/* len 0: TRIG only; the remote's interrupt fires and it reads the buffer as it was. */
	check_rc("write(NULL, 0)", ampl_uchan_write(ch, NULL, 0), 0);
	assert_true(wait_calls(&E.rec, 2, 2000));
	uint8_t want[32] = "first";
	assert_memory_equal(E.rec.bytes, want, 32);
	check_rc("write(buf, 0)", ampl_uchan_write(ch, "ignored", 0), 0);
	assert_true(wait_calls(&E.rec, 3, 2000));
	assert_memory_equal(E.rec.bytes, want, 32);
	/* Non-blocking too. */
	check_rc("set_flags(NONBLOCK)", ampl_uchan_set_flags(ch, AMPL_UCHAN_NONBLOCK), 0);
	long r;
	while ((r = ampl_uchan_write(ch, NULL, 0)) == -EAGAIN)
		msleep(1);
	check_rc("non-blocking write(NULL, 0)", r, 0);
	assert_true(wait_calls(&E.rec, 4, 2000));
}

static void test_write_pending(void **state)
{
	(void)state;
	env_up();
	/* The remote is not enabled: our request stays pending (masked at the remote, unacknowledged). */
	struct ampl_uchan *ch = request_open("rpu0", AMPL_UCHAN_NONBLOCK);
	check_rc("poll before any write", ampl_uchan_poll(ch), AMPL_UCHAN_POLLOUT);
	check_rc("non-blocking write", ampl_uchan_write(ch, "one", 3), 3);
	check_rc("poll with our request pending", ampl_uchan_poll(ch), 0);
	check_rc("non-blocking write while pending", ampl_uchan_write(ch, "two", 3), -EAGAIN);
	check_rc("non-blocking ring while pending", ampl_uchan_write(ch, NULL, 0), -EAGAIN);

	check_rc("set_flags(blocking)", ampl_uchan_set_flags(ch, 0), 0);
	uint64_t t0 = now_ms();
	check_rc("blocking write while pending", ampl_uchan_write(ch, "two", 3), -ETIMEDOUT);
	uint64_t took = now_ms() - t0;
	if (took < ACK_MS - 5 || took > ACK_MS + 2000)
		fail_msg("blocking write waited %llu ms for a bound of %u ms", (unsigned long long)took, ACK_MS);

	/* The remote takes it: the first request arrives, and the channel is writable again. */
	remote_enable(true);
	assert_true(wait_calls(&E.rec, 1, 2000));
	assert_string_equal((const char *)E.rec.bytes, "one");
	uint64_t end = now_ms() + 2000;
	while (!(ampl_uchan_poll(ch) & AMPL_UCHAN_POLLOUT) && now_ms() < end)
		msleep(1);
	check_rc("poll after the acknowledgement", ampl_uchan_poll(ch), AMPL_UCHAN_POLLOUT);
	check_rc("blocking write", ampl_uchan_write(ch, "two", 3), 3);
	assert_true(wait_calls(&E.rec, 2, 2000));
	assert_string_equal((const char *)E.rec.bytes, "two");

	/* A blocking write whose own request is not acknowledged: -ETIMEDOUT, and it stays pending. */
	remote_enable(false);
	check_rc("blocking write, remote not listening", ampl_uchan_write(ch, "three", 5), -ETIMEDOUT);
	remote_enable(true);
	assert_true(wait_calls(&E.rec, 3, 2000));
	assert_string_equal((const char *)E.rec.bytes, "three");
}

static void test_write_offline(void **state)
{
	(void)state;
	env_up();
	remote_enable(true);
	struct ampl_uchan *ch = request_open("rpu0", 0);
	const struct ampl_soc_agent *rpu0 = ampl_soc_agent_by_name(&ampl_soc_zynqmp, "rpu0");
	check_rc("rpu0 offline", ampl_soc_agent_set_online(E.zsoc, rpu0, false), 0);
	/* The APU's interrupt context follows the hotplug event; then sends fail at once. */
	long r = 0;
	uint64_t end = now_ms() + 2000;
	do {
		r = ampl_uchan_write(ch, "x", 1);
		if (r != -ESHUTDOWN)
			msleep(1);
	} while (r != -ESHUTDOWN && now_ms() < end);
	check_rc("write to an offline remote", r, -ESHUTDOWN);
	check_rc("ring an offline remote", ampl_uchan_write(ch, NULL, 0), -ESHUTDOWN);
	check_rc("rpu0 online", ampl_soc_agent_set_online(E.zsoc, rpu0, true), 0);
	end = now_ms() + 2000;
	do {
		r = ampl_uchan_write(ch, "back", 4);
		if (r != 4)
			msleep(1);
	} while (r != 4 && now_ms() < end);
	check_rc("write once the remote is back", r, 4);
}

/* ---- read ---- */

struct reader {
	struct ampl_uchan *ch;
	atomic_bool done;
	long ret;
	uint8_t buf[64];
};

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	rd->ret = ampl_uchan_read(rd->ch, rd->buf, sizeof(rd->buf));
	atomic_store(&rd->done, true);
	return NULL;
}

static void test_read_empty_queue(void **state)
{
	(void)state;
	env_up();
	struct ampl_uchan *ch = request_open("rpu0", AMPL_UCHAN_NONBLOCK);
	uint8_t buf[32];
	check_rc("non-blocking read, empty queue", ampl_uchan_read(ch, buf, sizeof(buf)), -EAGAIN);
	check_rc("read_timeout(0), empty queue", ampl_uchan_read_timeout(ch, buf, sizeof(buf), 0), -EAGAIN);
	uint64_t t0 = now_ms();
	check_rc("read_timeout(50), empty queue", ampl_uchan_read_timeout(ch, buf, sizeof(buf), 50), -ETIMEDOUT);
	assert_true(now_ms() - t0 >= 49);
	check_rc("read(len 0)", ampl_uchan_read(ch, buf, 0), 0);

	/* Blocking: the read waits until a message arrives. */
	check_rc("set_flags(blocking)", ampl_uchan_set_flags(ch, 0), 0);
	struct reader rd = { .ch = ch };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, reader_main, &rd), 0);
	msleep(150);
	assert_false(atomic_load(&rd.done));
	uint8_t msg[32];
	pattern(msg, sizeof(msg), 3);
	check_rc("remote send", remote_send(msg), 0);
	pthread_join(t, NULL);
	check_rc("blocking read", rd.ret, 32);
	assert_memory_equal(rd.buf, msg, 32);

	/* Blocking again, then the channel is released: the reader returns -EBADF. */
	struct reader rd2 = { .ch = ch };
	assert_int_equal(pthread_create(&t, NULL, reader_main, &rd2), 0);
	msleep(50);
	assert_false(atomic_load(&rd2.done));
	check_rc("release with a blocked reader", ampl_uchan_release(ch), 0);
	pthread_join(t, NULL);
	check_rc("blocked read after release", rd2.ret, -EBADF);
}

static void test_read_semantics(void **state)
{
	(void)state;
	env_up();
	struct ampl_uchan *ch = request_open("rpu0", AMPL_UCHAN_NONBLOCK);
	uint8_t a[32], b[32], buf[64];
	pattern(a, sizeof(a), 1);
	pattern(b, sizeof(b), 2);
	check_rc("remote send a", remote_send(a), 0);
	check_rc("remote send b", remote_send(b), 0);
	/* A short read takes the whole message (datagram): the next read is the next message. */
	check_rc("read 10 bytes of a", ampl_uchan_read(ch, buf, 10), 10);
	assert_memory_equal(buf, a, 10);
	check_rc("read b into 64 bytes", ampl_uchan_read(ch, buf, sizeof(buf)), 32);
	assert_memory_equal(buf, b, 32);
	check_rc("read, empty again", ampl_uchan_read(ch, buf, sizeof(buf)), -EAGAIN);

	/* Messages received while open and not read stay queued across release and open. */
	check_rc("remote send a", remote_send(a), 0);
	check_rc("release", ampl_uchan_release(ch), 0);
	check_rc("open", ampl_uchan_open(ch, AMPL_UCHAN_NONBLOCK), 0);
	check_rc("read after reopen", ampl_uchan_read(ch, buf, sizeof(buf)), 32);
	assert_memory_equal(buf, a, 32);

	/* Sent while closed: pending at the hardware, delivered at open. */
	check_rc("release", ampl_uchan_release(ch), 0);
	check_rc("remote send while closed", ipm_send(E.rpu0_apu, 0, 0, b, 32), 0);
	check_rc("open", ampl_uchan_open(ch, 0), 0);
	check_rc("read the request sent while closed", ampl_uchan_read_timeout(ch, buf, sizeof(buf), 2000), 32);
	assert_memory_equal(buf, b, 32);
}

/* ---- readiness ---- */

static atomic_int notified_in, notified_out;

static void on_notify(struct ampl_uchan *ch, unsigned events, void *arg)
{
	(void)ch;
	assert_ptr_equal(arg, &E);
	if (events & AMPL_UCHAN_POLLIN)
		atomic_fetch_add(&notified_in, 1);
	if (events & AMPL_UCHAN_POLLOUT)
		atomic_fetch_add(&notified_out, 1);
}

static void test_poll(void **state)
{
	(void)state;
	env_up();
	atomic_store(&notified_in, 0);
	atomic_store(&notified_out, 0);
	struct ampl_uchan *ch = NULL;
	check_rc("request", ampl_uchan_request(E.ctl, "rpu0", &ch), 0);
	check_rc("poll(NULL)", ampl_uchan_poll(NULL), 0);
	check_rc("poll, closed", ampl_uchan_poll(ch), 0);
	check_rc("set_notify(NULL)", ampl_uchan_set_notify(NULL, on_notify, &E), -EINVAL);
	check_rc("set_notify", ampl_uchan_set_notify(ch, on_notify, &E), 0);
	check_rc("open", ampl_uchan_open(ch, AMPL_UCHAN_NONBLOCK), 0);
	check_rc("poll, idle", ampl_uchan_poll(ch), AMPL_UCHAN_POLLOUT);
	uint8_t m[32] = "ping";
	check_rc("remote send", remote_send(m), 0);
	check_rc("poll, one queued", ampl_uchan_poll(ch), AMPL_UCHAN_POLLIN | AMPL_UCHAN_POLLOUT);
	assert_int_equal(atomic_load(&notified_in), 1);
	uint8_t buf[32];
	check_rc("read", ampl_uchan_read(ch, buf, sizeof(buf)), 32);
	check_rc("poll, drained", ampl_uchan_poll(ch), AMPL_UCHAN_POLLOUT);

	/* Writable again is announced when the remote acknowledges (the TX-done ticker). */
	check_rc("write", ampl_uchan_write(ch, "x", 1), 1);
	check_rc("poll, our request pending", ampl_uchan_poll(ch) & AMPL_UCHAN_POLLOUT, 0);
	remote_enable(true);
	uint64_t end = now_ms() + 2000;
	while (!atomic_load(&notified_out) && now_ms() < end)
		msleep(1);
	assert_true(atomic_load(&notified_out) >= 1);
	check_rc("poll, acknowledged", ampl_uchan_poll(ch), AMPL_UCHAN_POLLOUT);
	check_rc("set_notify(NULL fn)", ampl_uchan_set_notify(ch, NULL, NULL), 0);
}

/* ---- flow control ---- */

static void test_full_queue_holds(void **state)
{
	(void)state;
	env_up_q(4);
	struct ampl_uchan *ch = request_open("rpu0", AMPL_UCHAN_NONBLOCK);
	uint8_t m[6][32];
	for (unsigned i = 0; i < 6; i++)
		pattern(m[i], 32, 10 + i);
	for (unsigned i = 0; i < 4; i++)
		check_rc("remote send into the queue", remote_send(m[i]), 0);
	/* The fifth finds the queue full: held, unacknowledged, so the remote cannot send a sixth. */
	check_rc("remote send, queue full", ipm_send(E.rpu0_apu, 0, 0, m[4], 32), 0);
	msleep(50);
	assert_true(xlnx_ipi_pending(E.rpu0_apu));
	check_rc("remote send while the fifth is held", ipm_send(E.rpu0_apu, 0, 0, m[5], 32), -EBUSY);
	struct ampl_uchan_stats st;
	ampl_uchan_stats(ch, &st);
	assert_int_equal(st.queued, 4);
	assert_true(st.held >= 1);

	/* Held across release and open: nothing is lost. */
	check_rc("release", ampl_uchan_release(ch), 0);
	assert_true(xlnx_ipi_pending(E.rpu0_apu));
	check_rc("open", ampl_uchan_open(ch, AMPL_UCHAN_NONBLOCK), 0);
	uint8_t buf[32];
	for (unsigned i = 0; i < 5; i++) {
		long r = ampl_uchan_read_timeout(ch, buf, sizeof(buf), 2000);
		check_rc("read in order", r, 32);
		if (memcmp(buf, m[i], 32))
			fail_msg("message %u out of order or corrupted", i);
	}
	/* The fifth is acknowledged right after it entered the queue. */
	uint64_t end = now_ms() + 2000;
	while (xlnx_ipi_pending(E.rpu0_apu) && now_ms() < end)
		msleep(1);
	assert_false(xlnx_ipi_pending(E.rpu0_apu));
	check_rc("remote send after the drain", remote_send(m[5]), 0);
	check_rc("read the last", ampl_uchan_read_timeout(ch, buf, sizeof(buf), 2000), 32);
	assert_memory_equal(buf, m[5], 32);
	ampl_uchan_stats(ch, &st);
	assert_int_equal(st.received, 6);
	assert_int_equal(st.read, 6);
	assert_int_equal(st.queued, 0);
}

#define STREAM_N 10000u

struct sender {
	unsigned sent;
	long err;
};

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	uint8_t m[32];
	for (uint32_t seq = 0; seq < STREAM_N;) {
		memset(m, 0, sizeof(m));
		memcpy(m, &seq, sizeof(seq));
		pattern(m + 4, 28, seq);
		int r = remote_send(m);
		if (r == 0 || r == -ETIMEDOUT) {
			/* -ETIMEDOUT: the request is still pending (held by a full queue) and is delivered later. */
			seq++;
			s->sent = seq;
			continue;
		}
		if (r != -EBUSY) {
			s->err = r;
			return NULL;
		}
		sched_yield();
	}
	return NULL;
}

static void test_stream_in_order(void **state)
{
	(void)state;
	env_up();
	struct ampl_uchan *ch = request_open("rpu0", 0);
	struct sender s = { 0 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, sender_main, &s), 0);
	/* Let the queue fill up first, so the hold path carries part of the stream (waited for, not timed: a slow
	 * build only takes longer). */
	for (int i = 0; i < 30000; i++) {
		struct ampl_uchan_stats fill;
		ampl_uchan_stats(ch, &fill);
		if (fill.held >= 1)
			break;
		msleep(1);
	}
	uint8_t buf[32], want[28];
	for (uint32_t seq = 0; seq < STREAM_N; seq++) {
		long r = ampl_uchan_read_timeout(ch, buf, sizeof(buf), 5000);
		if (r != 32)
			fail_msg("read of message %u: %ld (%s), sender at %u err %ld", seq, r, ampl_errname((int)r),
				 s.sent, s.err);
		uint32_t got;
		memcpy(&got, buf, sizeof(got));
		if (got != seq)
			fail_msg("message %u arrived as %u", seq, got);
		pattern(want, sizeof(want), seq);
		if (memcmp(buf + 4, want, sizeof(want)))
			fail_msg("message %u corrupted", seq);
	}
	pthread_join(t, NULL);
	assert_int_equal(s.err, 0);
	check_rc("read after the stream", ampl_uchan_read_timeout(ch, buf, sizeof(buf), 0), -EAGAIN);
	struct ampl_uchan_stats st;
	ampl_uchan_stats(ch, &st);
	assert_int_equal(st.received, STREAM_N);
	assert_int_equal(st.read, STREAM_N);
	assert_true(st.held >= 1);
}

/* ---- doorbell-only channel ---- */

static void test_doorbell_channel(void **state)
{
	(void)state;
	env_up();
	versal_up();
	struct ampl_uchan *ch = NULL;
	check_rc("request(ipi6)", ampl_uchan_request(E.vctl, "ipi6", &ch), 0);
	check_rc("open", ampl_uchan_open(ch, AMPL_UCHAN_NONBLOCK), 0);
	check_rc("write(1 byte) on a doorbell channel", ampl_uchan_write(ch, "x", 1), -EMSGSIZE);
	check_rc("write(NULL, 0) on a doorbell channel", ampl_uchan_write(ch, NULL, 0), 0);
	assert_true(wait_calls(&E.vrec, 1, 2000));
	assert_int_equal(atomic_load(&E.vrec.null_data), 1);
	/* The remote rings: a message of 0 bytes. */
	check_rc("ipi6 rings", ipm_send(E.ipi6_apu, 1, 0, NULL, 0), 0);
	check_rc("poll", ampl_uchan_poll(ch) & AMPL_UCHAN_POLLIN, AMPL_UCHAN_POLLIN);
	uint8_t buf[32];
	check_rc("read a doorbell", ampl_uchan_read(ch, buf, sizeof(buf)), 0);
	check_rc("read, empty", ampl_uchan_read(ch, buf, sizeof(buf)), -EAGAIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_ctl_codes, teardown),
		cmocka_unit_test_teardown(test_request_verification, teardown),
		cmocka_unit_test_teardown(test_open_release_codes, teardown),
		cmocka_unit_test_teardown(test_ctl_close_releases, teardown),
		cmocka_unit_test_teardown(test_write_takes_32, teardown),
		cmocka_unit_test_teardown(test_zero_length_write, teardown),
		cmocka_unit_test_teardown(test_write_pending, teardown),
		cmocka_unit_test_teardown(test_write_offline, teardown),
		cmocka_unit_test_teardown(test_read_empty_queue, teardown),
		cmocka_unit_test_teardown(test_read_semantics, teardown),
		cmocka_unit_test_teardown(test_poll, teardown),
		cmocka_unit_test_teardown(test_full_queue_holds, teardown),
		cmocka_unit_test_teardown(test_stream_in_order, teardown),
		cmocka_unit_test_teardown(test_doorbell_channel, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
