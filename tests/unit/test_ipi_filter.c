/*
 * Acceptance filters on the IPI receive path (include/amplink/drivers/xlnx_ipi_filter.h): the rule table alone
 * (every return code, every field of a rule), then on a Versal virtual SoC in one process: RPU0 receives from the
 * APU (buffered) and from IPI6 (bufferless, doorbells) through one shared table; refuse-ack completes the sender,
 * refuse-hold keeps it pending until released (delivered or acknowledged), and nothing is delivered unless accepted.
 * Interrupts run when the test calls ampl_agent_poll(), except in the blocking-sender test. Rows carry an id.
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

#include <amplink/bytes.h>
#include <amplink/device.h>
#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/drivers/xlnx_ipi_filter.h>
#include <amplink/ipm.h>
#include <amplink/host/soc.h>

#include "rc_check.h"

/* ---- the table alone ---- */

static struct xlnx_ipi_filter_rule rule_id(uint32_t id, uint32_t mask, enum xlnx_ipi_filter_action a)
{
	struct xlnx_ipi_filter_rule r;
	memset(&r, 0, sizeof(r));
	r.id = id;
	r.id_mask = mask;
	r.action = a;
	return r;
}

static void test_table(void **state)
{
	(void)state;
	struct xlnx_ipi_filter f;
	check_rc("T01", "init NULL", xlnx_ipi_filter_init(NULL, XLNX_IPI_FILTER_ACCEPT), -EINVAL);
	check_rc("T02", "init bad default", xlnx_ipi_filter_init(&f, (enum xlnx_ipi_filter_action)7), -EINVAL);
	check_rc("T03", "init", xlnx_ipi_filter_init(&f, XLNX_IPI_FILTER_REFUSE_ACK), 0);
	struct xlnx_ipi_filter_rule r = rule_id(0x10, 0xFF, XLNX_IPI_FILTER_ACCEPT);
	check_rc("T04", "add NULL filter", xlnx_ipi_filter_add_rule(NULL, &r), -EINVAL);
	check_rc("T05", "add NULL rule", xlnx_ipi_filter_add_rule(&f, NULL), -EINVAL);
	struct xlnx_ipi_filter_rule bad = r;
	bad.action = (enum xlnx_ipi_filter_action)9;
	check_rc("T06", "add bad action", xlnx_ipi_filter_add_rule(&f, &bad), -EINVAL);
	check_rc("T07", "add", xlnx_ipi_filter_add_rule(&f, &r), 0);

	uint8_t msg[32] = { 0x10, 0x00, 0x00, 0x00, 0xAA };
	/* id 0x10 in the low byte: the rule accepts; another id falls to the default (refuse-ack). */
	assert_int_equal(xlnx_ipi_filter_check(&f, 2, msg, 32), XLNX_IPI_FILTER_ACCEPT);
	msg[0] = 0x11;
	assert_int_equal(xlnx_ipi_filter_check(&f, 2, msg, 32), XLNX_IPI_FILTER_REFUSE_ACK);
	/* The id word is little-endian: 0x10 in the high byte is not id 0x10. */
	uint8_t be[32] = { 0x00, 0x00, 0x00, 0x10 };
	assert_int_equal(xlnx_ipi_filter_check(&f, 2, be, 32), XLNX_IPI_FILTER_REFUSE_ACK);
	/* No bytes (a bufferless request): an id rule does not match. */
	msg[0] = 0x10;
	assert_int_equal(xlnx_ipi_filter_check(&f, 2, NULL, 0), XLNX_IPI_FILTER_REFUSE_ACK);
	assert_int_equal(xlnx_ipi_filter_check(&f, 2, msg, 3), XLNX_IPI_FILTER_REFUSE_ACK);
	assert_int_equal(atomic_load(&f.rules[0].hits), 1);
	assert_int_equal(atomic_load(&f.accepted), 1);
	assert_int_equal(atomic_load(&f.refused), 4);
	assert_int_equal(atomic_load(&f.refused_default), 4);

	/* Source mask, and mask/match on the bytes; the first matching rule decides. */
	check_rc("T08", "init", xlnx_ipi_filter_init(&f, XLNX_IPI_FILTER_ACCEPT), 0);
	struct xlnx_ipi_filter_rule src = rule_id(0, 0, XLNX_IPI_FILTER_REFUSE_HOLD);
	src.src_mask = 1u << 9;
	check_rc("T09", "add src", xlnx_ipi_filter_add_rule(&f, &src), 0);
	struct xlnx_ipi_filter_rule bytes = rule_id(0, 0, XLNX_IPI_FILTER_REFUSE_ACK);
	bytes.mask[4] = 0xF0;
	bytes.match[4] = 0xA0;
	bytes.mask[15] = 0xFF;
	bytes.match[15] = 0x5A;
	check_rc("T10", "add bytes", xlnx_ipi_filter_add_rule(&f, &bytes), 0);
	uint8_t m2[32];
	memset(m2, 0, sizeof(m2));
	m2[4] = 0xA7;
	m2[15] = 0x5A;
	assert_int_equal(xlnx_ipi_filter_check(&f, 9, m2, 32), XLNX_IPI_FILTER_REFUSE_HOLD); /* rule 0 first */
	assert_int_equal(xlnx_ipi_filter_check(&f, 2, m2, 32), XLNX_IPI_FILTER_REFUSE_ACK);
	m2[4] = 0xB7;
	assert_int_equal(xlnx_ipi_filter_check(&f, 2, m2, 32), XLNX_IPI_FILTER_ACCEPT);
	m2[4] = 0xA7;
	assert_int_equal(xlnx_ipi_filter_check(&f, 2, m2, 15), XLNX_IPI_FILTER_ACCEPT); /* byte 15 not there */
	assert_int_equal(xlnx_ipi_filter_check(&f, 2, NULL, 0), XLNX_IPI_FILTER_ACCEPT);
	assert_int_equal(xlnx_ipi_filter_check(&f, 9, NULL, 0), XLNX_IPI_FILTER_REFUSE_HOLD);
	assert_int_equal(atomic_load(&f.rules[0].hits), 2);
	assert_int_equal(atomic_load(&f.rules[1].hits), 1);
	assert_int_equal(atomic_load(&f.refused), 3);
	assert_int_equal(atomic_load(&f.refused_default), 0);
	assert_int_equal(atomic_load(&f.accepted), 3);

	/* Table full. */
	for (unsigned i = f.num_rules; i < XLNX_IPI_FILTER_MAX_RULES; i++)
		check_rc("T11", "add up to the maximum", xlnx_ipi_filter_add_rule(&f, &r), 0);
	check_rc("T12", "add to a full table", xlnx_ipi_filter_add_rule(&f, &r), -ENOSPC);

	/* Names. */
	enum xlnx_ipi_filter_action a;
	for (int i = 0; i <= 2; i++) {
		check_rc("T13", "parse name", xlnx_ipi_filter_action_parse(
			xlnx_ipi_filter_action_name((enum xlnx_ipi_filter_action)i), &a), 0);
		assert_int_equal(a, i);
	}
	check_rc("T14", "parse unknown", xlnx_ipi_filter_action_parse("drop", &a), -EINVAL);
	check_rc("T15", "parse NULL", xlnx_ipi_filter_action_parse(NULL, &a), -EINVAL);
	check_rc("T16", "attach NULL", xlnx_ipi_filter_attach(NULL, &f), -EINVAL);
	check_rc("T17", "release NULL", xlnx_ipi_filter_release(NULL, true), -EINVAL);
}

/* ---- on the virtual SoC ---- */

struct rx {
	atomic_int calls;
	uint8_t bytes[AMPL_IPI_BUF_SIZE];
};

static void rx_cb(const struct ampl_device *dev, void *ud, uint32_t id, volatile void *data)
{
	(void)dev;
	(void)id;
	struct rx *r = ud;
	if (data)
		for (unsigned i = 0; i < AMPL_IPI_BUF_SIZE; i++)
			r->bytes[i] = ((volatile uint8_t *)data)[i];
	atomic_fetch_add(&r->calls, 1);
}

static struct {
	char name[64];
	struct ampl_soc *soc;
	struct ampl_agent *apu, *rpu0, *ipi6;
	const struct ampl_device *apu_tx, *rpu0_rx, *ipi6_tx, *rpu0_rx6;
	struct xlnx_ipi_mbox *rx_apu, *rx_ipi6; /* rpu0's destinations for apu and ipi6 */
	struct rx from_apu, from_ipi6;
} E;

static struct xlnx_ipi_mbox *mbox_to(struct ampl_agent *ag, const char *remote)
{
	struct mbox_controller *ctrl = NULL;
	assert_int_equal(ampl_agent_mbox(ag, remote, &ctrl), 0);
	struct xlnx_ipi_mbox *m = xlnx_ipi_mbox_of(&ctrl->chans[XLNX_IPI_RX_CHAN]);
	assert_non_null(m);
	return m;
}

static void env_up(bool rpu0_thread)
{
	memset(&E, 0, sizeof(E));
	snprintf(E.name, sizeof(E.name), "t-filter-%d", (int)getpid());
	assert_int_equal(ampl_soc_create(E.name, &ampl_soc_versal, NULL, 0), 0);
	assert_int_equal(ampl_soc_open(E.name, &E.soc), 0);
	struct ampl_agent_opts o = { .no_irq_thread = true, .ack_timeout_us = 30000000u };
	struct ampl_agent_opts ro = { .no_irq_thread = !rpu0_thread, .mode = AMPL_WAIT_BLOCK };
	assert_int_equal(ampl_agent_attach(E.soc, "apu", &o, &E.apu), 0);
	assert_int_equal(ampl_agent_attach(E.soc, "ipi6", &o, &E.ipi6), 0);
	assert_int_equal(ampl_agent_attach(E.soc, "rpu0", &ro, &E.rpu0), 0);
	assert_int_equal(ampl_agent_channel(E.apu, "rpu0", &E.apu_tx), 0);
	assert_int_equal(ampl_agent_channel(E.rpu0, "apu", &E.rpu0_rx), 0);
	assert_int_equal(ampl_agent_channel(E.ipi6, "rpu0", &E.ipi6_tx), 0);
	assert_int_equal(ampl_agent_channel(E.rpu0, "ipi6", &E.rpu0_rx6), 0);
	E.rx_apu = mbox_to(E.rpu0, "apu");
	E.rx_ipi6 = mbox_to(E.rpu0, "ipi6");
	assert_true(E.rx_apu->buffered);
	assert_false(E.rx_ipi6->buffered);
	ipm_register_callback(E.rpu0_rx, rx_cb, &E.from_apu);
	ipm_register_callback(E.rpu0_rx6, rx_cb, &E.from_ipi6);
}

static int teardown(void **state)
{
	(void)state;
	if (E.rx_apu)
		(void)xlnx_ipi_filter_attach(E.rx_apu, NULL);
	if (E.rx_ipi6)
		(void)xlnx_ipi_filter_attach(E.rx_ipi6, NULL);
	struct ampl_agent **ags[] = { &E.rpu0, &E.ipi6, &E.apu };
	for (unsigned i = 0; i < 3; i++)
		if (*ags[i])
			ampl_agent_detach(*ags[i]);
	if (E.soc)
		ampl_soc_close(E.soc);
	ampl_soc_destroy(E.name);
	memset(&E, 0, sizeof(E));
	return 0;
}

static void send_id(uint32_t id, int wait)
{
	uint8_t msg[AMPL_IPI_BUF_SIZE];
	memset(msg, 0x33, sizeof(msg));
	ampl_put_le32(msg, id);
	assert_int_equal(ipm_send(E.apu_tx, wait, 0, msg, sizeof(msg)), 0);
}

static void test_refuse_ack(void **state)
{
	(void)state;
	env_up(false);
	static struct xlnx_ipi_filter f;
	assert_int_equal(xlnx_ipi_filter_init(&f, XLNX_IPI_FILTER_ACCEPT), 0);
	struct xlnx_ipi_filter_rule r = rule_id(0x10, 0xFFFFFFFFu, XLNX_IPI_FILTER_REFUSE_ACK);
	assert_int_equal(xlnx_ipi_filter_add_rule(&f, &r), 0);
	check_rc("A01", "attach", xlnx_ipi_filter_attach(E.rx_apu, &f), 0);
	assert_int_equal(ipm_set_enabled(E.rpu0_rx, 1), 0);

	send_id(0x10, 0);
	assert_true(xlnx_ipi_pending(E.apu_tx));
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&E.from_apu.calls), 0); /* refused: never delivered */
	assert_false(xlnx_ipi_pending(E.apu_tx));              /* but acknowledged: the sender is done */
	assert_int_equal(atomic_load(&f.refused), 1);
	assert_int_equal(atomic_load(&f.rules[0].hits), 1);
	check_rc("A02", "release with nothing held", xlnx_ipi_filter_release(E.rx_apu, true), -EALREADY);

	send_id(0x20, 0);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&E.from_apu.calls), 1);
	assert_int_equal(ampl_get_le32(E.from_apu.bytes), 0x20);
	assert_false(xlnx_ipi_pending(E.apu_tx));
	assert_int_equal(atomic_load(&f.accepted), 1);

	/* Detached: everything is delivered again. */
	check_rc("A03", "detach", xlnx_ipi_filter_attach(E.rx_apu, NULL), 0);
	send_id(0x10, 0);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&E.from_apu.calls), 2);
	assert_int_equal(atomic_load(&f.refused), 1);
}

static void test_refuse_hold_release(void **state)
{
	(void)state;
	env_up(false);
	static struct xlnx_ipi_filter f;
	assert_int_equal(xlnx_ipi_filter_init(&f, XLNX_IPI_FILTER_REFUSE_HOLD), 0); /* default policy: hold */
	struct xlnx_ipi_filter_rule r = rule_id(0x1, 0xFF, XLNX_IPI_FILTER_ACCEPT);
	assert_int_equal(xlnx_ipi_filter_add_rule(&f, &r), 0);
	assert_int_equal(xlnx_ipi_filter_attach(E.rx_apu, &f), 0);
	assert_int_equal(ipm_set_enabled(E.rpu0_rx, 1), 0);

	send_id(0x7, 0);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&E.from_apu.calls), 0);
	assert_true(xlnx_ipi_pending(E.apu_tx)); /* held: the sender still sees it pending */
	assert_true(xlnx_ipi_filter_held(E.rx_apu));
	assert_int_equal(atomic_load(&f.refused_default), 1);
	/* Neither the interrupt, nor the client's complete, nor a disable/enable lets it through. */
	ampl_agent_poll(E.rpu0);
	ipm_complete(E.rpu0_rx);
	assert_int_equal(ipm_set_enabled(E.rpu0_rx, 0), 0);
	assert_int_equal(ipm_set_enabled(E.rpu0_rx, 1), 0);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&E.from_apu.calls), 0);
	assert_true(xlnx_ipi_pending(E.apu_tx));
	check_rc("H01", "a second send while held", ipm_send(E.apu_tx, 0, 0, "x", 1), -EBUSY);

	/* Released for delivery: the client sees it once, without a second filter check, and it is acknowledged. */
	check_rc("H02", "release deliver", xlnx_ipi_filter_release(E.rx_apu, true), 0);
	check_rc("H03", "release twice", xlnx_ipi_filter_release(E.rx_apu, true), -EALREADY);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&E.from_apu.calls), 1);
	assert_int_equal(ampl_get_le32(E.from_apu.bytes), 0x7);
	assert_false(xlnx_ipi_pending(E.apu_tx));
	assert_int_equal(atomic_load(&f.refused), 1);
	assert_int_equal(atomic_load(&f.released), 1);

	/* Held, then released unread: acknowledged, never delivered. */
	send_id(0x8, 0);
	ampl_agent_poll(E.rpu0);
	assert_true(xlnx_ipi_pending(E.apu_tx));
	check_rc("H04", "release drop", xlnx_ipi_filter_release(E.rx_apu, false), 0);
	assert_false(xlnx_ipi_pending(E.apu_tx));
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&E.from_apu.calls), 1);
	/* And the filter applies again afterwards. */
	send_id(0x1, 0);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&E.from_apu.calls), 2);
	assert_int_equal(atomic_load(&f.accepted), 1);
	assert_int_equal(atomic_load(&f.refused), 2);
}

/* One table on two destinations: the rules tell the sources apart; a bufferless request has no id. */
static void test_shared_table_sources(void **state)
{
	(void)state;
	env_up(false);
	static struct xlnx_ipi_filter f;
	assert_int_equal(xlnx_ipi_filter_init(&f, XLNX_IPI_FILTER_ACCEPT), 0);
	struct xlnx_ipi_filter_rule by_src = rule_id(0, 0, XLNX_IPI_FILTER_REFUSE_ACK);
	by_src.src_mask = ampl_ipi_mask(ampl_soc_agent_by_name(&ampl_soc_versal, "ipi6"));
	struct xlnx_ipi_filter_rule any_id = rule_id(0x33333333u, 0xFFFFFFFFu, XLNX_IPI_FILTER_REFUSE_HOLD);
	assert_int_equal(xlnx_ipi_filter_add_rule(&f, &any_id), 0);
	assert_int_equal(xlnx_ipi_filter_add_rule(&f, &by_src), 0);
	assert_int_equal(xlnx_ipi_filter_attach(E.rx_apu, &f), 0);
	assert_int_equal(xlnx_ipi_filter_attach(E.rx_ipi6, &f), 0);
	assert_int_equal(ipm_set_enabled(E.rpu0_rx, 1), 0);
	assert_int_equal(ipm_set_enabled(E.rpu0_rx6, 1), 0);

	/* IPI6's doorbell: the id rule cannot match it (no bytes), the source rule refuses it with an ack. */
	check_rc("S01", "doorbell from ipi6", ipm_send(E.ipi6_tx, 0, 0, NULL, 0), 0);
	assert_true(xlnx_ipi_pending(E.ipi6_tx));
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&E.from_ipi6.calls), 0);
	assert_false(xlnx_ipi_pending(E.ipi6_tx));
	assert_int_equal(atomic_load(&f.rules[0].hits), 0);
	assert_int_equal(atomic_load(&f.rules[1].hits), 1);
	/* The APU's request is not from IPI6: accepted by default. */
	send_id(0x44, 0);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&E.from_apu.calls), 1);
	/* The APU's request with id 0x33333333 is held; IPI6 keeps being refused meanwhile. */
	send_id(0x33333333u, 0);
	ampl_agent_poll(E.rpu0);
	assert_true(xlnx_ipi_filter_held(E.rx_apu));
	assert_false(xlnx_ipi_filter_held(E.rx_ipi6));
	check_rc("S02", "doorbell from ipi6 again", ipm_send(E.ipi6_tx, 0, 0, NULL, 0), 0);
	ampl_agent_poll(E.rpu0);
	assert_false(xlnx_ipi_pending(E.ipi6_tx));
	assert_int_equal(atomic_load(&f.rules[1].hits), 2);
	assert_int_equal(atomic_load(&E.from_apu.calls), 1);
	check_rc("S03", "release the APU's", xlnx_ipi_filter_release(E.rx_apu, true), 0);
	ampl_agent_poll(E.rpu0);
	assert_int_equal(atomic_load(&E.from_apu.calls), 2);
	assert_int_equal(atomic_load(&E.from_ipi6.calls), 0);
	assert_int_equal(atomic_load(&f.refused), 3);
}

/* ipm_send(wait=1) does not return while its request is held by the receiver's filter. */
struct sender {
	atomic_int done;
	int rc;
};

static void *send_wait(void *arg)
{
	struct sender *s = arg;
	uint8_t msg[8] = { 0x99 };
	s->rc = ipm_send(E.apu_tx, 1, 0, msg, sizeof(msg));
	atomic_store(&s->done, 1);
	return NULL;
}

static void test_hold_blocks_waiting_sender(void **state)
{
	(void)state;
	env_up(true); /* rpu0 runs its interrupt thread */
	static struct xlnx_ipi_filter f;
	assert_int_equal(xlnx_ipi_filter_init(&f, XLNX_IPI_FILTER_REFUSE_HOLD), 0);
	assert_int_equal(xlnx_ipi_filter_attach(E.rx_apu, &f), 0);
	assert_int_equal(ipm_set_enabled(E.rpu0_rx, 1), 0);
	struct sender s = { 0 };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, send_wait, &s), 0);
	/* Wait (bounded generously) until the receiver's filter held it. */
	for (int i = 0; i < 20000 && !xlnx_ipi_filter_held(E.rx_apu); i++)
		usleep(1000);
	assert_true(xlnx_ipi_filter_held(E.rx_apu));
	usleep(50000);
	assert_int_equal(atomic_load(&s.done), 0); /* still waiting for the acknowledgement */
	assert_int_equal(atomic_load(&E.from_apu.calls), 0);
	assert_int_equal(xlnx_ipi_filter_release(E.rx_apu, true), 0);
	pthread_join(t, NULL);
	check_rc("W01", "ipm_send(wait) after release", s.rc, 0);
	for (int i = 0; i < 20000 && atomic_load(&E.from_apu.calls) == 0; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&E.from_apu.calls), 1);
	assert_int_equal(E.from_apu.bytes[0], 0x99);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test_teardown(test_refuse_ack, teardown),
		cmocka_unit_test_teardown(test_refuse_hold_release, teardown),
		cmocka_unit_test_teardown(test_shared_table_sources, teardown),
		cmocka_unit_test_teardown(test_hold_blocks_waiting_sender, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
