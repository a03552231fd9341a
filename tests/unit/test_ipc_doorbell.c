/*
 * The IPC backends on a doorbell function instead of mailbox channels (<amplink/ipc/link.h>), against their peers on
 * the mailbox framework, on the virtual SoC: ICMsg (ipc_icmsg_rpu0), the multi-endpoint backend (ipc_multi_rpu1)
 * and RPMsg (ipc_rpmsg_rpu0, the remote role).
 *
 * The remote's side is an instance device of the backend on a copy of its devicetree instance's configuration,
 * rung through xlnx_ipi_direct_ring() on its IPI destination toward the APU instead of its channels; its
 * "interrupt" is a thread that calls the backend's poll whenever xlnx_ipi_direct_doorbell_taken(). The APU's side
 * is its devicetree instance through the IPC service and the mailbox framework (the IPI in signalling mode), its
 * interrupts in its own thread. The remote's agent is attached (the model delivers to attached agents), but its
 * interrupt handler never runs and none of its channels is taken.
 *
 * The hosted library's link has both ways; the backends built with AMPL_IPC_LINK_MBOX=0 (a doorbell function the
 * only way) run as firmware under QEMU against the host's (tests/firmware: test_fw_icmsg_nomailbox), and the size
 * images link them (make cross, the no-mailbox configurations).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <amplink/drivers/xlnx_ipi_direct.h>
#include <amplink/host/soc.h>
#include <amplink/ipc/ipc_icmsg.h>
#include <amplink/ipc/ipc_multi.h>
#include <amplink/ipc/ipc_rpmsg.h>
#include <amplink/ipc_service.h>

#include "ipc_side.h"
#include "soc_fixture.h"

#define MESSAGES 2000

enum backend { ICMSG, MULTI, RPMSG };

static const struct {
	const char *name, *apu_ipc, *agent, *ipc, *ipi;
} backends[] = {
	[ICMSG] = { "ICMsg", "ipc_icmsg_apu", "rpu0", "ipc_icmsg_rpu0", "ipi_rpu0_apu" },
	[MULTI] = { "multi-endpoint", "ipc_multi_apu", "rpu1", "ipc_multi_rpu1", "ipi_rpu1_apu" },
	[RPMSG] = { "RPMsg", "ipc_rpmsg_apu", "rpu0", "ipc_rpmsg_rpu0", "ipi_rpu0_apu" },
};

struct side {
	IPC_SIDE_EVENTS;
	_Atomic int received, bad;
	_Atomic uint32_t next; /* the sequence number expected next */
};

static struct {
	enum backend be;
	char name[64];
	struct ampl_soc *soc;
	struct ampl_agent *apu, *remote;
	const struct ampl_device *apu_ipc;
	struct ipc_ept apu_ept, ept;
	struct side apu_side, side;
	/* the remote's instance on the doorbell function */
	struct xlnx_ipi_mbox_config ipi; /* its destination toward the APU */
	struct ampl_ipc_doorbell bell;
	union {
		struct ipc_icmsg_config icmsg;
		struct ipc_multi_config multi;
		struct ipc_rpmsg_config rpmsg;
	} cfg;
	union {
		struct ipc_icmsg_data icmsg;
		struct ipc_multi_data multi;
		struct ipc_rpmsg_data rpmsg;
	} data;
	uint8_t rx_buf[1024];
	struct ampl_device_state st;
	struct ampl_device dev;
	pthread_t irq;
	atomic_bool stop;
	_Atomic int polls;
} E;

/* APU: each message carries a sequence number and a checksum; the remote echoes it back. */
static void apu_received(const void *data, size_t len, void *priv)
{
	struct side *s = priv;
	uint32_t seq;
	if (len != 32) {
		atomic_fetch_add(&s->bad, 1);
		return;
	}
	memcpy(&seq, data, 4);
	if (seq != atomic_load(&s->next) || csum((const uint8_t *)data, 28) != ((const uint32_t *)data)[7])
		atomic_fetch_add(&s->bad, 1);
	atomic_store(&s->next, seq + 1u);
	atomic_fetch_add(&s->received, 1);
}

/*
 * Echoes the remote could not send yet (no room: the multi-endpoint backend frees a sent block only when its RX
 * context reads the peer's release, and a callback that waited for room would hold that context), sent in order
 * from its interrupt loop once the poll has returned. The remote's poll context only.
 */
#define PENDING_MAX 4096u
static uint32_t pending[PENDING_MAX][8];
static unsigned pending_head, pending_tail;

/* Send the held echoes in order, as far as there is room. */
static void remote_flush(void)
{
	while (pending_head != pending_tail) {
		int r = ipc_service_send(&E.ept, pending[pending_head % PENDING_MAX], 32);
		if (r == -ENOMEM || r == -ENOBUFS)
			return;
		if (r != 32)
			atomic_fetch_add(&E.side.bad, 1);
		pending_head++;
	}
}

/* The remote (its poll's context): echo what comes, behind the echoes still held. */
static void remote_received(const void *data, size_t len, void *priv)
{
	struct side *s = priv;
	atomic_fetch_add(&s->received, 1);
	remote_flush();
	int r = -ENOMEM;
	if (pending_head == pending_tail)
		r = ipc_service_send(&E.ept, data, len);
	if (r == -ENOMEM || r == -ENOBUFS) {
		if (len != 32 || pending_tail - pending_head == PENDING_MAX) {
			atomic_fetch_add(&s->bad, 1);
			return;
		}
		memcpy(pending[pending_tail++ % PENDING_MAX], data, 32);
	} else if (r != (int)len) {
		atomic_fetch_add(&s->bad, 1);
	}
}

static void remote_poll(void)
{
	switch (E.be) {
	case ICMSG: (void)icmsg_poll(ipc_icmsg_link(&E.dev)); break;
	case MULTI: (void)ipc_multi_poll(&E.dev); break;
	case RPMSG: (void)ipc_rpmsg_poll(&E.dev); break;
	}
}

/* The remote's interrupt: the APU rang (acknowledged), then the backend drains. */
static void *remote_irq(void *arg)
{
	(void)arg;
	while (!atomic_load(&E.stop)) {
		if (xlnx_ipi_direct_doorbell_taken(&E.ipi)) {
			remote_poll();
			atomic_fetch_add(&E.polls, 1);
		} else {
			sched_yield();
		}
		remote_flush();
	}
	return NULL;
}

static _Atomic int rings;

static void counted_ring(const void *ctx)
{
	atomic_fetch_add(&rings, 1);
	xlnx_ipi_direct_ring(ctx);
}

static void env_up(enum backend be)
{
	memset(&E, 0, sizeof(E));
	E.be = be;
	atomic_store(&rings, 0);
	pending_head = pending_tail = 0;
	soc_fixture_create("t-ipcdb", &ampl_soc_zynqmp, E.name, sizeof(E.name), &E.soc);
	struct ampl_agent_opts ao = { 0 }, ro = { .no_irq_thread = true };
	E.apu = soc_fixture_attach(E.soc, "apu", &ao);
	E.remote = soc_fixture_attach(E.soc, backends[be].agent, &ro);
	assert_int_equal(ampl_agent_ipc_instance(E.apu, backends[be].apu_ipc, &E.apu_ipc), 0);
	const struct ampl_device *r = NULL, *ipm = ampl_device_get_by_label(backends[be].ipi);
	assert_int_equal(ampl_agent_ipc_instance(E.remote, backends[be].ipc, &r), 0);
	assert_non_null(ipm);
	xlnx_ipi_direct_settings(((const struct xlnx_ipi_ipm_config *)ipm->config)->mbox, &E.ipi);
	E.bell = (struct ampl_ipc_doorbell){ .ring = counted_ring, .ctx = &E.ipi };
	/* The instance as the board has it, rung through the doorbell function instead of its channels; rung, not
	 * polled (the agent, without an interrupt thread, has its own instances polled). */
	switch (be) {
	case ICMSG:
		E.cfg.icmsg = *(const struct ipc_icmsg_config *)r->config;
		E.cfg.icmsg.icmsg.tx_chan = E.cfg.icmsg.icmsg.rx_chan = NULL;
		E.cfg.icmsg.icmsg.mbox_node = NULL;
		E.cfg.icmsg.icmsg.doorbell = &E.bell;
		E.cfg.icmsg.icmsg.polled = false;
		E.cfg.icmsg.icmsg.rx_buf = E.rx_buf;
		E.cfg.icmsg.icmsg.rx_buf_size = sizeof(E.rx_buf);
		break;
	case MULTI:
		E.cfg.multi = *(const struct ipc_multi_config *)r->config;
		E.cfg.multi.tx_chan = E.cfg.multi.rx_chan = NULL;
		E.cfg.multi.mbox_node = NULL;
		E.cfg.multi.doorbell = &E.bell;
		E.cfg.multi.polled = false;
		break;
	case RPMSG:
		E.cfg.rpmsg = *(const struct ipc_rpmsg_config *)r->config;
		E.cfg.rpmsg.tx_chan = E.cfg.rpmsg.rx_chan = NULL;
		E.cfg.rpmsg.mbox_node = NULL;
		E.cfg.rpmsg.doorbell = &E.bell;
		E.cfg.rpmsg.polled = false;
		break;
	}
	E.dev = (struct ampl_device){ .name = "t-ipcdb-remote", .api = r->api, .config = &E.cfg, .data = &E.data,
				      .state = &E.st };
	xlnx_ipi_direct_doorbell_enable(&E.ipi, true);
	assert_int_equal(pthread_create(&E.irq, NULL, remote_irq, NULL), 0);
}

static int teardown(void **state)
{
	(void)state;
	if (E.ept.instance)
		(void)ipc_service_deregister_endpoint(&E.ept);
	if (E.apu_ept.instance)
		(void)ipc_service_deregister_endpoint(&E.apu_ept);
	(void)ipc_service_close_instance(&E.dev);
	if (E.irq) {
		atomic_store(&E.stop, true);
		pthread_join(E.irq, NULL);
	}
	if (E.remote)
		ampl_agent_detach(E.remote);
	if (E.apu)
		ampl_agent_detach(E.apu);
	if (E.soc) {
		ampl_soc_close(E.soc);
		ampl_soc_destroy(E.name);
	}
	memset(&E, 0, sizeof(E));
	return 0;
}

static void remote_register(void)
{
	static struct ipc_ept_cfg c = { .name = "ep", .cb = { .bound = cb_bound, .unbound = cb_unbound,
							     .error = cb_error, .received = remote_received } };
	c.priv = &E.side;
	assert_int_equal(ipc_service_open_instance(&E.dev), 0);
	assert_int_equal(ipc_service_register_endpoint(&E.dev, &E.ept, &c), 0);
}

static void apu_register(void)
{
	static struct ipc_ept_cfg c = { .name = "ep", .cb = { .bound = cb_bound, .unbound = cb_unbound,
							     .error = cb_error, .received = apu_received } };
	c.priv = &E.apu_side;
	int r = ipc_service_open_instance(E.apu_ipc);
	assert_true(r == 0 || r == -EALREADY);
	assert_int_equal(ipc_service_register_endpoint(E.apu_ipc, &E.apu_ept, &c), 0);
}

/* @n messages from the APU, each echoed by the remote and checked in order by the APU. */
static void exchange(int n)
{
	int base = atomic_load(&E.apu_side.received);
	uint32_t first = atomic_load(&E.apu_side.next);
	for (int i = 0; i < n; i++) {
		uint32_t m[8] = { first + (uint32_t)i, 0xA5A5A5A5u, (uint32_t)i * 7u };
		m[7] = csum((const uint8_t *)m, 28);
		int r;
		while ((r = ipc_service_send(&E.apu_ept, m, sizeof(m))) == -ENOMEM || r == -ENOBUFS)
			sched_yield();
		if (r != (int)sizeof(m))
			fail_msg("%s: APU send %d: %d (%s)", backends[E.be].name, i, r, ampl_errname(r));
	}
	for (int i = 0; i < 5000 && atomic_load(&E.apu_side.received) < base + n; i++)
		usleep(1000);
	if (atomic_load(&E.apu_side.received) != base + n)
		fail_msg("%s: %d echoes of %d (the remote received %d, its interrupt polled %d times)", backends[E.be].name,
			 atomic_load(&E.apu_side.received) - base, n, atomic_load(&E.side.received), atomic_load(&E.polls));
	assert_int_equal(atomic_load(&E.apu_side.bad), 0);
	assert_int_equal(atomic_load(&E.side.bad), 0);
}

/* Bound, @MESSAGES echoed in order, through the registers only: the remote's destination has no client. */
static void bind_and_echo(enum backend be, bool remote_first)
{
	env_up(be);
	if (remote_first) {
		remote_register();
		apu_register();
	} else {
		apu_register();
		usleep(20000); /* the APU's first doorbell comes before anyone listens */
		remote_register();
	}
	assert_true(wait_for(&E.apu_side.bound, 1));
	assert_true(wait_for(&E.side.bound, 1));
	exchange(MESSAGES);
	assert_int_equal(atomic_load(&E.side.received), MESSAGES);
	struct xlnx_ipi_mbox *m =
		((const struct xlnx_ipi_ipm_config *)ampl_device_get_by_label(backends[be].ipi)->config)->mbox;
	assert_null(m->chans[XLNX_IPI_TX_CHAN].cl);
	assert_null(m->chans[XLNX_IPI_RX_CHAN].cl);
	assert_true(atomic_load(&E.polls) > 0);
	assert_true(atomic_load(&rings) > 0);
	print_message("%s: %d messages echoed; the remote rang %d times, its interrupt polled %d times\n",
		      backends[be].name, MESSAGES, atomic_load(&rings), atomic_load(&E.polls));
}

static void test_icmsg(void **state)
{
	(void)state;
	bind_and_echo(ICMSG, true);
}

static void test_icmsg_remote_last(void **state)
{
	(void)state;
	bind_and_echo(ICMSG, false);
}

static void test_multi(void **state)
{
	(void)state;
	bind_and_echo(MULTI, true);
}

static void test_multi_remote_last(void **state)
{
	(void)state;
	bind_and_echo(MULTI, false);
}

static void test_rpmsg(void **state)
{
	(void)state;
	bind_and_echo(RPMSG, true);
}

static void test_rpmsg_remote_last(void **state)
{
	(void)state;
	bind_and_echo(RPMSG, false);
}

/* Closed, the remote's doorbell function is not called any more, even when the APU sends. */
static void test_icmsg_close(void **state)
{
	(void)state;
	env_up(ICMSG);
	remote_register();
	apu_register();
	assert_true(wait_for(&E.side.bound, 1));
	assert_true(wait_for(&E.apu_side.bound, 1));
	exchange(100);
	assert_int_equal(ipc_service_deregister_endpoint(&E.ept), 0);
	int after = atomic_load(&rings), received = atomic_load(&E.side.received);
	uint32_t m[8] = { 0 };
	for (int i = 0; i < 10; i++)
		(void)ipc_service_send(&E.apu_ept, m, sizeof(m));
	usleep(20000);
	assert_int_equal(atomic_load(&rings), after);
	assert_int_equal(atomic_load(&E.side.received), received);
}

/* Configuration codes: a doorbell without its function; neither channels nor a doorbell. */
static void test_config_codes(void **state)
{
	(void)state;
	for (enum backend be = ICMSG; be <= RPMSG; be++) {
		env_up(be);
		static const struct ampl_ipc_doorbell none = { .ring = NULL };
		for (int k = 0; k < 2; k++) {
			const struct ampl_ipc_doorbell *db = k ? NULL : &none;
			switch (be) {
			case ICMSG: E.cfg.icmsg.icmsg.doorbell = db; break;
			case MULTI: E.cfg.multi.doorbell = db; break;
			case RPMSG: E.cfg.rpmsg.doorbell = db; break;
			}
			int r = be == ICMSG ? icmsg_open(ipc_icmsg_link(&E.dev), &E.cfg.icmsg.icmsg, NULL, NULL)
					    : ipc_service_open_instance(&E.dev);
			if (r != -EINVAL)
				fail_msg("%s: open with %s: %d, expected -EINVAL", backends[be].name,
					 k ? "neither channels nor a doorbell" : "a doorbell without its function", r);
		}
		teardown(NULL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_icmsg, teardown),
		cmocka_unit_test_teardown(test_icmsg_remote_last, teardown),
		cmocka_unit_test_teardown(test_icmsg_close, teardown),
		cmocka_unit_test_teardown(test_multi, teardown),
		cmocka_unit_test_teardown(test_multi_remote_last, teardown),
		cmocka_unit_test_teardown(test_rpmsg, teardown),
		cmocka_unit_test_teardown(test_rpmsg_remote_last, teardown),
		cmocka_unit_test_teardown(test_config_codes, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
