/*
 * The generic IPM driver (include/amplink/ipm_mbox.h): Zephyr's IPM API over any mailbox framework controller,
 * through struct mbox_chan_ops only.
 *
 *   loopback   a controller written here with framework ops and nothing else (two instances wired to each
 *              other): send, receive, return codes, a message kept pending while the device is disabled or has no
 *              callback (hold / redeliver / rx_enable), asynchronous mode (hold / ack), send with wait (flush)
 *   bare       the same controller without the optional receive ops: IPM still sends and receives; asynchronous
 *              mode is refused at init
 *   MU         the NXP MU's TX0 / RX0 framework channels over the register model, driven by nxp_mu_isr()
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <amplink/device.h>
#include <amplink/drivers/nxp_mu.h>
#include <amplink/ipm.h>
#include <amplink/ipm_mbox.h>
#include <amplink/mailbox_controller.h>
#include <amplink/host/soc.h>

/* ---- the loopback controller: one message register per direction, framework ops only ---- */

#define LB_SIZE 16u

struct lb {
	struct mbox_controller ctrl;
	struct mbox_chan chans[2]; /* 0: TX to the peer, 1: RX from the peer */
	struct lb *peer;
	/* the receive side of this instance */
	bool pending, held, hold_req, rx_on;
	size_t len;
	uint8_t buf[LB_SIZE];
	struct {
		size_t len;
		uint8_t data[LB_SIZE];
	} msg;
	int deliveries;
};

static struct lb *lb_of(struct mbox_chan *chan)
{
	return AMPL_CONTAINER_OF(chan->mbox, struct lb, ctrl);
}

/* The receiving instance's interrupt: deliver the pending message unless it is held or masked. */
static void lb_isr(struct lb *c)
{
	if (!c->pending || c->held || !c->rx_on)
		return;
	c->msg.len = c->len;
	memcpy(c->msg.data, c->buf, LB_SIZE);
	c->hold_req = false;
	c->deliveries++;
	if (!ampl_mbox_chan_deliver(&c->chans[1], &c->msg))
		return; /* no client: stays pending */
	if (c->hold_req)
		c->held = true;
	else
		c->pending = false;
}

static int lb_send_data(struct mbox_chan *chan, void *data)
{
	struct lb *c = lb_of(chan);
	if (chan != &c->chans[0])
		return -EINVAL;
	if (c->peer->pending)
		return -EBUSY;
	const struct { size_t len; uint8_t data[]; } *m = data;
	c->peer->len = m ? m->len : 0;
	memset(c->peer->buf, 0, LB_SIZE);
	if (m)
		memcpy(c->peer->buf, m->data, m->len);
	c->peer->pending = true;
	return 0;
}

static bool lb_last_tx_done(struct mbox_chan *chan)
{
	return !lb_of(chan)->peer->pending;
}

/* The remote runs its interrupt while we wait (both instances live in this thread). */
static int lb_flush(struct mbox_chan *chan, unsigned long timeout)
{
	(void)timeout;
	lb_isr(lb_of(chan)->peer);
	return lb_last_tx_done(chan) ? 0 : -ETIME;
}

static int lb_startup(struct mbox_chan *chan)
{
	struct lb *c = lb_of(chan);
	if (chan == &c->chans[1])
		c->rx_on = !chan->cl->rx_off;
	return 0;
}

static void lb_hold(struct mbox_chan *chan)
{
	lb_of(chan)->hold_req = true;
}

static void lb_ack(struct mbox_chan *chan)
{
	struct lb *c = lb_of(chan);
	if (c->held)
		c->held = c->pending = false;
}

static void lb_redeliver(struct mbox_chan *chan)
{
	lb_of(chan)->held = false;
}

static void lb_rx_enable(struct mbox_chan *chan, bool on)
{
	lb_of(chan)->rx_on = on;
}

static const struct mbox_chan_ops lb_ops = {
	.send_data = lb_send_data,
	.flush = lb_flush,
	.startup = lb_startup,
	.last_tx_done = lb_last_tx_done,
	.hold = lb_hold,
	.ack = lb_ack,
	.redeliver = lb_redeliver,
	.rx_enable = lb_rx_enable,
};

/* Without the optional receive operations: the receive interrupt is always on. */
static int bare_startup(struct mbox_chan *chan)
{
	lb_of(chan)->rx_on = true;
	return 0;
}

static const struct mbox_chan_ops bare_ops = {
	.send_data = lb_send_data,
	.flush = lb_flush,
	.startup = bare_startup,
	.last_tx_done = lb_last_tx_done,
};

static struct lb lb[2];

static void lb_up(const struct mbox_chan_ops *ops)
{
	static const char *names[2] = { "/t-ipm-mbox/lb-a", "/t-ipm-mbox/lb-b" };
	memset(lb, 0, sizeof(lb));
	for (int i = 0; i < 2; i++) {
		lb[i].peer = &lb[1 - i];
		lb[i].ctrl.node = names[i];
		lb[i].ctrl.ops = ops;
		lb[i].ctrl.chans = lb[i].chans;
		lb[i].ctrl.num_chans = 2;
		lb[i].ctrl.txdone_poll = true;
		lb[i].ctrl.max_msg_size = LB_SIZE;
		assert_int_equal(mbox_controller_register(&lb[i].ctrl), 0);
	}
}

static void lb_down(void)
{
	for (int i = 0; i < 2; i++)
		mbox_controller_unregister(&lb[i].ctrl);
}

/* ---- IPM devices on framework channels ---- */

struct ipmdev {
	struct ampl_device dev;
	struct ampl_device_state st;
	struct ipm_mbox_config cfg;
	struct ipm_mbox_data data;
};

static int ipmdev_init(struct ipmdev *d, struct mbox_chan *tx, struct mbox_chan *rx, uint32_t flags)
{
	memset(d, 0, sizeof(*d));
	d->cfg.tx = tx;
	d->cfg.rx = rx;
	d->cfg.flags = flags;
	d->dev.name = "t-ipm-mbox";
	d->dev.api = &ipm_mbox_api;
	d->dev.config = &d->cfg;
	d->dev.data = &d->data;
	d->dev.state = &d->st;
	return ipm_mbox_init(&d->dev);
}

struct rec {
	int calls;
	const struct ampl_device *dev;
	void *ud;
	uint32_t id;
	uint8_t bytes[LB_SIZE];
};

static void rec_cb(const struct ampl_device *dev, void *ud, uint32_t id, volatile void *data)
{
	struct rec *r = ud;
	r->calls++;
	r->dev = dev;
	r->ud = ud;
	r->id = id;
	for (unsigned i = 0; i < LB_SIZE; i++)
		r->bytes[i] = data ? ((volatile uint8_t *)data)[i] : 0;
}

static struct ipmdev da, db;

static void lb_pair_up(const struct mbox_chan_ops *ops, uint32_t b_flags)
{
	lb_up(ops);
	assert_int_equal(ipmdev_init(&da, &lb[0].chans[0], &lb[0].chans[1], 0), 0);
	assert_int_equal(ipmdev_init(&db, &lb[1].chans[0], &lb[1].chans[1], b_flags), 0);
}

static void lb_pair_down(void)
{
	ipm_mbox_release(&da.dev);
	ipm_mbox_release(&db.dev);
	lb_down();
}

static void test_loopback_send_receive(void **state)
{
	(void)state;
	lb_pair_up(&lb_ops, 0);
	struct rec r;
	memset(&r, 0, sizeof(r));
	ipm_register_callback(&db.dev, rec_cb, &r);
	assert_int_equal(ipm_set_enabled(&db.dev, 1), 0);
	assert_int_equal(ipm_max_data_size_get(&da.dev), (int)LB_SIZE);
	assert_int_equal(ipm_max_id_val_get(&da.dev), 0);

	uint8_t m[LB_SIZE];
	for (unsigned i = 0; i < LB_SIZE; i++)
		m[i] = (uint8_t)(0x40 + i);
	assert_int_equal(ipm_send(&da.dev, 0, 0, m, LB_SIZE + 1), -EMSGSIZE);
	assert_int_equal(ipm_send(&da.dev, 0, 1, m, 4), -EINVAL);
	assert_int_equal(ipm_send(&da.dev, 0, 0, NULL, 4), -EINVAL);
	assert_int_equal(ipm_send(&da.dev, 0, 0, m, LB_SIZE), 0);
	/* One message at a time, as on a one-register mailbox. */
	assert_int_equal(ipm_send(&da.dev, 0, 0, m, 4), -EBUSY);
	lb_isr(&lb[1]);
	assert_int_equal(r.calls, 1);
	assert_ptr_equal(r.dev, &db.dev);
	assert_ptr_equal(r.ud, &r);
	assert_int_equal(r.id, 0);
	assert_memory_equal(r.bytes, m, LB_SIZE);
	assert_false(lb[1].pending); /* acknowledged on return from the callback */

	/* With wait: returns once the remote consumed it. */
	m[0] = 0x99;
	assert_int_equal(ipm_send(&da.dev, 1, 0, m, 8), 0);
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.bytes[0], 0x99);
	assert_false(lb[1].pending);
	lb_pair_down();
}

static void test_loopback_kept_pending(void **state)
{
	(void)state;
	lb_pair_up(&lb_ops, 0);
	struct rec r;
	memset(&r, 0, sizeof(r));
	uint8_t m[4] = { 1, 2, 3, 4 };
	/* The device's first use takes the channels with the receive interrupt off. */
	ipm_register_callback(&db.dev, rec_cb, &r);
	assert_false(lb[1].rx_on);
	assert_int_equal(ipm_send(&da.dev, 0, 0, m, 4), 0);
	lb_isr(&lb[1]);
	assert_int_equal(lb[1].deliveries, 0);
	assert_int_equal(ipm_set_enabled(&db.dev, 1), 0);
	assert_true(lb[1].rx_on);
	lb_isr(&lb[1]);
	assert_int_equal(r.calls, 1);

	/* Enabled without a callback: held, not lost; the sender sees it pending until a callback is set. */
	ipm_register_callback(&db.dev, NULL, NULL);
	assert_int_equal(ipm_send(&da.dev, 0, 0, m, 4), 0);
	lb_isr(&lb[1]);
	assert_int_equal(r.calls, 1);
	if (!AMPL_IPM_ASYNC) {
		/* Built without the hold: acknowledged unread (dropped, as Zephyr's ipm_mbox does); the next one goes. */
		assert_false(lb[1].held);
		assert_false(lb[1].pending);
		ipm_register_callback(&db.dev, rec_cb, &r);
		assert_int_equal(ipm_send(&da.dev, 0, 0, m, 4), 0);
		lb_isr(&lb[1]);
		assert_int_equal(r.calls, 2);
		lb_pair_down();
		return;
	}
	assert_true(lb[1].held);
	assert_int_equal(ipm_send(&da.dev, 0, 0, m, 4), -EBUSY);
	ipm_register_callback(&db.dev, rec_cb, &r);
	assert_false(lb[1].held);
	lb_isr(&lb[1]);
	assert_int_equal(r.calls, 2);
	assert_false(lb[1].pending);

	/* Disabled: masked again. */
	assert_int_equal(ipm_set_enabled(&db.dev, 0), 0);
	assert_false(lb[1].rx_on);
	lb_pair_down();
}

static void test_loopback_async(void **state)
{
	(void)state;
	if (!AMPL_IPM_ASYNC) {
		/* Built without it: refused, and ipm_complete() does nothing. */
		lb_up(&lb_ops);
		assert_int_equal(ipmdev_init(&db, &lb[1].chans[0], &lb[1].chans[1], IPM_MBOX_ASYNC), -ENOTSUP);
		assert_int_equal(ipmdev_init(&db, &lb[1].chans[0], &lb[1].chans[1], 0), 0);
		ipm_complete(&db.dev);
		lb_down();
		return;
	}
	lb_pair_up(&lb_ops, IPM_MBOX_ASYNC);
	struct rec r;
	memset(&r, 0, sizeof(r));
	ipm_register_callback(&db.dev, rec_cb, &r);
	assert_int_equal(ipm_set_enabled(&db.dev, 1), 0);
	uint8_t m[4] = { 9, 8, 7, 6 };
	assert_int_equal(ipm_send(&da.dev, 0, 0, m, 4), 0);
	lb_isr(&lb[1]);
	assert_int_equal(r.calls, 1);
	/* Held until ipm_complete(): the sender still sees it pending. */
	assert_true(lb[1].held);
	assert_int_equal(ipm_send(&da.dev, 0, 0, m, 4), -EBUSY);
	ipm_complete(&db.dev);
	assert_false(lb[1].pending);
	assert_int_equal(ipm_send(&da.dev, 0, 0, m, 4), 0);
	lb_pair_down();
}

static void test_bare_controller(void **state)
{
	(void)state;
	lb_up(&bare_ops);
	/* Asynchronous mode needs hold and ack from the controller. */
	assert_int_equal(ipmdev_init(&db, &lb[1].chans[0], &lb[1].chans[1], IPM_MBOX_ASYNC), -ENOTSUP);
	assert_int_equal(ipmdev_init(&da, &lb[0].chans[0], &lb[0].chans[1], 0), 0);
	assert_int_equal(ipmdev_init(&db, &lb[1].chans[0], &lb[1].chans[1], 0), 0);
	struct rec r;
	memset(&r, 0, sizeof(r));
	ipm_register_callback(&db.dev, rec_cb, &r);
	assert_int_equal(ipm_set_enabled(&db.dev, 1), 0);
	uint8_t m[LB_SIZE] = { 0x11, 0x22 };
	assert_int_equal(ipm_send(&da.dev, 1, 0, m, LB_SIZE), 0);
	assert_int_equal(r.calls, 1);
	assert_memory_equal(r.bytes, m, LB_SIZE);
	lb_pair_down();
}

/* A device with only one direction. */
static void test_one_way(void **state)
{
	(void)state;
	lb_up(&lb_ops);
	assert_int_equal(ipmdev_init(&da, &lb[0].chans[0], NULL, 0), 0);
	assert_int_equal(ipmdev_init(&db, NULL, &lb[1].chans[1], 0), 0);
	assert_int_equal(ipmdev_init(&db, NULL, NULL, 0), -EINVAL);
	assert_int_equal(ipmdev_init(&db, NULL, &lb[1].chans[1], 0), 0);
	struct rec r;
	memset(&r, 0, sizeof(r));
	ipm_register_callback(&db.dev, rec_cb, &r);
	assert_int_equal(ipm_set_enabled(&db.dev, 1), 0);
	assert_int_equal(ipm_set_enabled(&da.dev, 1), -EINVAL); /* no inbound channel */
	uint8_t m[2] = { 5, 6 };
	assert_int_equal(ipm_send(&db.dev, 0, 0, m, 2), -EINVAL); /* no outbound channel */
	assert_int_equal(ipm_send(&da.dev, 0, 0, m, 2), 0);
	lb_isr(&lb[1]);
	assert_int_equal(r.calls, 1);
	lb_pair_down();
}

/*
 * What the driver carries only for the MU (AMPL_NXP_MU_IPM: on in the hosted build, off in firmware and in
 * test_ipm_mbox_no_mu): a device that waits for an idle id, a device of several ids, the MU's IPM configuration.
 * Without it each is refused at setup, never half-built.
 */
static void test_mu_rules(void **state)
{
	(void)state;
	lb_up(&lb_ops);
	assert_int_equal(ipmdev_init(&da, &lb[0].chans[0], &lb[0].chans[1], IPM_MBOX_WAIT_IDLE),
			 AMPL_NXP_MU_IPM ? 0 : -ENOTSUP);
	assert_int_equal(ipmdev_init(&da, &lb[0].chans[0], NULL, 0), 0);
	da.cfg.num_ids = 2; /* ids 0 and 1: TX channels 0 and 1 */
	assert_int_equal(ipm_mbox_init(&da.dev), AMPL_NXP_MU_IPM ? 0 : -EINVAL);
	assert_int_equal(ipm_max_id_val_get(&da.dev), AMPL_NXP_MU_IPM ? 1u : 0u);
	static struct nxp_mu mu;
	struct ipm_mbox_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(nxp_mu_ipm_config(&mu, 4, &cfg), AMPL_NXP_MU_IPM ? 0 : -ENOTSUP);
	assert_int_equal(cfg.flags, AMPL_NXP_MU_IPM ? IPM_MBOX_WAIT_IDLE : 0u);
	lb_down();
}

/* ---- over the NXP MU's framework channels ---- */

static void test_mu_channels(void **state)
{
	(void)state;
	char name[64], node[2][96];
	snprintf(name, sizeof(name), "t-ipmmbox-%d", (int)getpid());
	assert_int_equal(ampl_soc_create(name, &ampl_soc_imx, NULL, 0), 0);
	struct ampl_soc *soc = NULL;
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	static struct nxp_mu mu[2];
	memset(mu, 0, sizeof(mu));
	for (unsigned s = 0; s < 2; s++) {
		assert_int_equal(ampl_soc_mu_regs(soc, 0, s, &mu[s].regs), 0);
		mu[s].side_b = s == 1;
		snprintf(node[s], sizeof(node[s]), "%s:/mu-%c", name, "ab"[s]);
		assert_int_equal(nxp_mu_init(&mu[s], node[s]), 0);
	}
	struct mbox_chan *tx[2], *rx[2];
	for (unsigned s = 0; s < 2; s++) {
		tx[s] = &mu[s].chans[NXP_MU_CHAN(NXP_MU_TYPE_TX, 0)];
		rx[s] = &mu[s].chans[NXP_MU_CHAN(NXP_MU_TYPE_RX, 0)];
	}
	assert_int_equal(ipmdev_init(&da, tx[0], rx[0], 0), 0);
	assert_int_equal(ipmdev_init(&db, tx[1], rx[1], 0), 0);
	assert_int_equal(ipm_max_data_size_get(&da.dev), 4);
	struct rec r;
	memset(&r, 0, sizeof(r));
	ipm_register_callback(&db.dev, rec_cb, &r);

	uint32_t w = 0xA5A50001u;
	assert_int_equal(ipm_send(&da.dev, 0, 0, &w, 4), 0);
	/* Disabled: the receive interrupt is off (RIE0 clear), the word stays in the register. */
	nxp_mu_isr(&mu[1]);
	assert_int_equal(r.calls, 0);
	assert_int_equal(ampl_io_read32(&mu[1].regs, NXP_MU_CR) & NXP_MU_CR_RIEn(0), 0);
	assert_int_equal(ipm_set_enabled(&db.dev, 1), 0);
	assert_true(ampl_io_read32(&mu[1].regs, NXP_MU_CR) & NXP_MU_CR_RIEn(0));
	nxp_mu_isr(&mu[1]);
	assert_int_equal(r.calls, 1);
	uint32_t got;
	memcpy(&got, r.bytes, 4);
	assert_int_equal(got, w);
	/* TX done by the TE interrupt: then the next message goes. */
	assert_int_equal(ipm_send(&da.dev, 0, 0, &w, 4), -EBUSY);
	nxp_mu_isr(&mu[0]);
	w++;
	assert_int_equal(ipm_send(&da.dev, 0, 0, &w, 4), 0);
	nxp_mu_isr(&mu[1]);
	assert_int_equal(r.calls, 2);
	memcpy(&got, r.bytes, 4);
	assert_int_equal(got, w);

	ipm_mbox_release(&da.dev);
	ipm_mbox_release(&db.dev);
	for (unsigned s = 0; s < 2; s++)
		nxp_mu_remove(&mu[s]);
	ampl_soc_close(soc);
	ampl_soc_destroy(name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback_send_receive),
		cmocka_unit_test(test_loopback_kept_pending),
		cmocka_unit_test(test_loopback_async),
		cmocka_unit_test(test_bare_controller),
		cmocka_unit_test(test_one_way),
		cmocka_unit_test(test_mu_rules),
		cmocka_unit_test(test_mu_channels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
