/*
 * The mailbox framework: every return code, every TX-done mode, queueing, ownership, free and unregister, and
 * concurrent clients, on a software mailbox controller built on the framework's ops (each even channel "wires" to
 * the next odd one; the test plays the remote, consuming what was sent); then the seed's client flow on the IPI
 * controller of a virtual SoC. Hotplug under traffic is in tests/integration/test_hotplug.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ipc_side.h"

#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/mailbox_client.h>
#include <amplink/mailbox_controller.h>
#include <amplink/host/soc.h>

/* ---- a software mailbox: 4 pairs, channel 2k = TX, 2k+1 = RX ---- */

#define PAIRS 4
#define NO_MSG ((void *)1)

struct loop {
	struct mbox_controller ctrl;
	struct mbox_chan chans[2 * PAIRS];
	void *_Atomic wire[PAIRS]; /* message sent and not yet consumed, or NO_MSG */
	atomic_int startups, shutdowns, sends;
	int startup_err;
};

static struct loop *loop_of(struct mbox_chan *chan)
{
	return (struct loop *)chan->mbox; /* ctrl is the first member */
}

static int pair_of(struct mbox_chan *chan)
{
	return (int)(chan - chan->mbox->chans) / 2;
}

static int loop_send(struct mbox_chan *chan, void *data)
{
	struct loop *l = loop_of(chan);
	if ((chan - chan->mbox->chans) % 2)
		return -EINVAL; /* RX channels do not send */
	void *expected = NO_MSG;
	if (!atomic_compare_exchange_strong(&l->wire[pair_of(chan)], &expected, data))
		return -EBUSY;
	atomic_fetch_add(&l->sends, 1);
	return 0;
}

static bool loop_last_tx_done(struct mbox_chan *chan)
{
	return atomic_load(&loop_of(chan)->wire[pair_of(chan)]) == NO_MSG;
}

static int loop_flush(struct mbox_chan *chan, unsigned long timeout)
{
	for (unsigned long i = 0; i < timeout * 100; i++) {
		if (loop_last_tx_done(chan))
			return 0;
		usleep(10);
	}
	return -ETIME;
}

static int loop_startup(struct mbox_chan *chan)
{
	struct loop *l = loop_of(chan);
	atomic_fetch_add(&l->startups, 1);
	return l->startup_err;
}

static void loop_shutdown(struct mbox_chan *chan)
{
	atomic_fetch_add(&loop_of(chan)->shutdowns, 1);
}

static bool loop_peek(struct mbox_chan *chan)
{
	return atomic_load(&loop_of(chan)->wire[pair_of(chan)]) != NO_MSG;
}

static const struct mbox_chan_ops loop_ops = {
	.send_data = loop_send,
	.flush = loop_flush,
	.startup = loop_startup,
	.shutdown = loop_shutdown,
	.last_tx_done = loop_last_tx_done,
	.peek_data = loop_peek,
};

/* The remote: take what is on pair @k's wire, deliver it on the RX channel, and (IRQ mode) report TX done. */
static bool loop_consume(struct loop *l, int k)
{
	void *m = atomic_load(&l->wire[k]);
	if (m == NO_MSG)
		return false;
	mbox_chan_received_data(&l->chans[2 * k + 1], m);
	atomic_store(&l->wire[k], NO_MSG);
	if (l->ctrl.txdone_irq)
		mbox_chan_txdone(&l->chans[2 * k], 0);
	return true;
}

static void loop_init(struct loop *l, const char *node, bool irq, bool poll)
{
	memset(l, 0, sizeof(*l));
	l->ctrl.node = node;
	l->ctrl.ops = &loop_ops;
	l->ctrl.chans = l->chans;
	l->ctrl.num_chans = 2 * PAIRS;
	l->ctrl.txdone_irq = irq;
	l->ctrl.txdone_poll = poll;
	l->ctrl.txpoll_period = 1;
	for (int k = 0; k < PAIRS; k++)
		atomic_store(&l->wire[k], NO_MSG);
	assert_int_equal(mbox_controller_register(&l->ctrl), 0);
}

/* A client that records everything. */
#define LOG 256
struct rec {
	struct mbox_client cl;
	atomic_int ndone, nrx, nprep; /* published after the entry is written (one writer at a time) */
	int sdone, srx, sprep;        /* next slot */
	void *done_msg[LOG];
	int done_r[LOG];
	void *rx_msg[LOG];
	void *prep_msg[LOG];
};

static void rec_done(struct mbox_client *cl, void *m, int r)
{
	struct rec *c = (struct rec *)cl;
	int i = c->sdone++;
	if (i < LOG) {
		c->done_msg[i] = m;
		c->done_r[i] = r;
	}
	atomic_fetch_add(&c->ndone, 1);
}

static void rec_rx(struct mbox_client *cl, void *m)
{
	struct rec *c = (struct rec *)cl;
	int i = c->srx++;
	if (i < LOG)
		c->rx_msg[i] = m;
	atomic_fetch_add(&c->nrx, 1);
}

static void rec_prep(struct mbox_client *cl, void *m)
{
	struct rec *c = (struct rec *)cl;
	int i = c->sprep++;
	if (i < LOG)
		c->prep_msg[i] = m;
	atomic_fetch_add(&c->nprep, 1);
}

static void rec_init(struct rec *c, const struct mbox_consumer *node)
{
	memset(c, 0, sizeof(*c));
	c->cl.node = node;
	c->cl.tx_done = rec_done;
	c->cl.rx_callback = rec_rx;
	c->cl.tx_prepare = rec_prep;
}

static const struct mbox_spec specs[] = {
	{ "t-loop", { 0 }, 1, "tx" },
	{ "t-loop", { 1 }, 1, "rx" },
	{ "t-loop", { 99 }, 1, "bad" },
	{ "t-nowhere", { 0 }, 1, "later" },
};
static const struct mbox_consumer consumer = { "t-consumer", specs, AMPL_ARRAY_SIZE(specs) };

static void expect_err(const char *id, const void *p, long err)
{
	if (!AMPL_IS_ERR(p) || AMPL_PTR_ERR(p) != err)
		fail_msg("[%s] expected error %ld (%s), got %p", id, err, ampl_errname((int)err), p);
}

/* ---- tests ---- */

static void test_register_checks(void **state)
{
	(void)state;
	struct loop l;
	struct mbox_chan_ops no_send = loop_ops, no_last = loop_ops;
	no_send.send_data = NULL;
	no_last.last_tx_done = NULL;
	assert_int_equal(mbox_controller_register(NULL), -EINVAL);
	memset(&l, 0, sizeof(l));
	l.ctrl.node = "t-reg";
	l.ctrl.chans = l.chans;
	l.ctrl.num_chans = 2;
	assert_int_equal(mbox_controller_register(&l.ctrl), -EINVAL); /* R1: no ops */
	l.ctrl.ops = &no_send;
	assert_int_equal(mbox_controller_register(&l.ctrl), -EINVAL); /* R2: no send_data */
	l.ctrl.ops = &no_last;
	l.ctrl.txdone_poll = true;
	assert_int_equal(mbox_controller_register(&l.ctrl), -EINVAL); /* R3: poll without last_tx_done */
	l.ctrl.ops = &loop_ops;
	l.ctrl.num_chans = 0;
	assert_int_equal(mbox_controller_register(&l.ctrl), -EINVAL); /* R4: no channels */
	l.ctrl.num_chans = 2;
	assert_int_equal(mbox_controller_register(&l.ctrl), 0);
	mbox_controller_unregister(&l.ctrl);
	struct loop dup;
	loop_init(&l, "t-reg2", true, false);
	memset(&dup, 0, sizeof(dup));
	dup.ctrl = l.ctrl;
	dup.ctrl.chans = dup.chans;
	assert_int_equal(mbox_controller_register(&dup.ctrl), -EEXIST); /* R5: node taken */
	mbox_controller_unregister(&l.ctrl);
	mbox_controller_unregister(NULL);
}

static void test_request_codes(void **state)
{
	(void)state;
	struct rec a, b;
	rec_init(&a, NULL);
	expect_err("Q1 no node", mbox_request_channel(&a.cl, 0), -ENODEV);
	expect_err("Q2 no node byname", mbox_request_channel_byname(&a.cl, "tx"), -ENODEV);
	expect_err("Q3 NULL client", mbox_request_channel(NULL, 0), -ENODEV);
	rec_init(&a, &consumer);
	expect_err("Q4 not registered", mbox_request_channel(&a.cl, 0), -AMPL_EPROBE_DEFER);
	struct loop l;
	loop_init(&l, "t-loop", true, false);
	expect_err("Q5 index -1", mbox_request_channel(&a.cl, -1), -EINVAL);
	expect_err("Q6 index past the end", mbox_request_channel(&a.cl, 4), -EINVAL);
	expect_err("Q7 channel out of range", mbox_request_channel(&a.cl, 2), -EINVAL);
	expect_err("Q8 unknown name", mbox_request_channel_byname(&a.cl, "nope"), -EINVAL);
	expect_err("Q9 provider missing", mbox_request_channel_byname(&a.cl, "later"), -AMPL_EPROBE_DEFER);
	l.startup_err = -EIO;
	expect_err("Q10 startup fails", mbox_request_channel(&a.cl, 0), -EIO);
	l.startup_err = 0;
	struct mbox_chan *tx = mbox_request_channel_byname(&a.cl, "tx");
	assert_false(AMPL_IS_ERR(tx));
	assert_ptr_equal(tx, &l.chans[0]);
	rec_init(&b, &consumer);
	expect_err("Q11 owned", mbox_request_channel(&b.cl, 0), -EBUSY);
	assert_int_equal(mbox_bind_client(tx, &b.cl), -EBUSY);
	assert_int_equal(mbox_bind_client(NULL, &b.cl), -EINVAL);
	mbox_free_channel(tx);
	assert_int_equal(atomic_load(&l.shutdowns), 1);
	tx = mbox_request_channel(&b.cl, 0);
	assert_ptr_equal(tx, &l.chans[0]);
	mbox_free_channel(tx);
	mbox_controller_unregister(&l.ctrl);
	expect_err("Q12 unregistered again", mbox_request_channel(&a.cl, 0), -AMPL_EPROBE_DEFER);
}

static void test_queue_tokens(void **state)
{
	(void)state;
	struct loop l;
	loop_init(&l, "t-loop", true, false);
	struct rec tx, rx;
	rec_init(&tx, &consumer);
	rec_init(&rx, &consumer);
	struct mbox_chan *t = mbox_request_channel(&tx.cl, 0), *r = mbox_request_channel(&rx.cl, 1);
	assert_int_equal(mbox_send_message(NULL, NULL), -EINVAL);
	int msgs[32];
	/* One goes on the wire at once, twenty wait in the queue, the 22nd finds it full. */
	for (int i = 0; i < 21; i++) {
		int tok = mbox_send_message(t, &msgs[i]);
		assert_int_equal(tok, i % MBOX_TX_QUEUE_LEN);
	}
	assert_int_equal(mbox_send_message(t, &msgs[21]), -ENOBUFS);
	assert_true(mbox_client_tx_busy(t));
	assert_true(mbox_client_peek_data(r));
	assert_false(mbox_client_peek_data(NULL));
	for (int i = 0; i < 21; i++)
		assert_true(loop_consume(&l, 0));
	assert_false(loop_consume(&l, 0));
	assert_int_equal(atomic_load(&tx.ndone), 21);
	assert_int_equal(atomic_load(&rx.nrx), 21);
	assert_int_equal(atomic_load(&tx.nprep), 21);
	for (int i = 0; i < 21; i++) {
		assert_ptr_equal(tx.done_msg[i], &msgs[i]); /* in order */
		assert_int_equal(tx.done_r[i], 0);
		assert_ptr_equal(rx.rx_msg[i], &msgs[i]);
		assert_ptr_equal(tx.prep_msg[i], &msgs[i]);
	}
	assert_false(mbox_client_tx_busy(t));
	/* A NULL message is a doorbell: delivered as NULL. */
	assert_true(mbox_send_message(t, NULL) >= 0);
	assert_true(loop_consume(&l, 0));
	assert_null(rx.rx_msg[21]);
	/* Controller TX done is ignored in ACK mode and client TX done in IRQ mode. */
	assert_true(mbox_send_message(t, &msgs[0]) >= 0);
	mbox_client_txdone(t, 0);
	assert_int_equal(atomic_load(&tx.ndone), 22);
	mbox_free_channel(t);
	mbox_free_channel(r);
	mbox_controller_unregister(&l.ctrl);
}

/*
 * The link state: mbox_chan_set_offline() tells the channel's client once per change (offline, then online again),
 * after the queued messages were reported; a client without link_state and a channel without a client are fine.
 */
struct state_rec {
	struct rec r;
	int changes;
	bool online[8];
	int ndone_at_change[8];
};

static void rec_state(struct mbox_client *cl, bool online)
{
	struct state_rec *s = (struct state_rec *)cl;
	if (s->changes < 8) {
		s->online[s->changes] = online;
		s->ndone_at_change[s->changes] = atomic_load(&s->r.ndone);
	}
	s->changes++;
}

static void test_link_state(void **state)
{
	(void)state;
	struct loop l;
	loop_init(&l, "t-loop", true, false);
	struct state_rec tx, rx;
	memset(&tx, 0, sizeof(tx));
	memset(&rx, 0, sizeof(rx));
	rec_init(&tx.r, &consumer);
	rec_init(&rx.r, &consumer);
	tx.r.cl.link_state = rec_state;
	rx.r.cl.link_state = rec_state;
	struct mbox_chan *t = mbox_request_channel(&tx.r.cl, 0), *r = mbox_request_channel(&rx.r.cl, 1);
	int msgs[3];
	for (int i = 0; i < 3; i++)
		assert_true(mbox_send_message(t, &msgs[i]) >= 0);
	mbox_chan_set_offline(t, -ESHUTDOWN);
	assert_int_equal(tx.changes, 1);
	assert_false(tx.online[0]);
	assert_int_equal(tx.ndone_at_change[0], 3); /* the messages failed first (no last_tx_result) */
	assert_int_equal(rx.changes, 0);            /* only the channel's own client */
	mbox_chan_set_offline(t, -ESHUTDOWN);       /* no change: no call */
	mbox_chan_set_offline(t, -ENODEV);          /* still offline: no call */
	assert_int_equal(tx.changes, 1);
	mbox_chan_set_offline(r, -ESHUTDOWN);
	mbox_chan_set_offline(r, 0);
	mbox_chan_set_offline(r, 0);
	assert_int_equal(rx.changes, 2);
	assert_false(rx.online[0]);
	assert_true(rx.online[1]);
	mbox_chan_set_offline(t, 0);
	assert_int_equal(tx.changes, 2);
	assert_true(tx.online[1]);
	assert_true(loop_consume(&l, 0)); /* the wire still held one */
	mbox_free_channel(t);
	mbox_free_channel(r);
	/* No client: the state is kept, nobody is called. */
	mbox_chan_set_offline(&l.chans[0], -ESHUTDOWN);
	mbox_chan_set_offline(&l.chans[0], 0);
	assert_int_equal(tx.changes, 2);
	mbox_chan_set_offline(NULL, -ESHUTDOWN);
	mbox_controller_unregister(&l.ctrl);
}

static void test_free_reports_queued(void **state)
{
	(void)state;
	struct loop l;
	loop_init(&l, "t-loop", true, false);
	struct rec tx;
	rec_init(&tx, &consumer);
	struct mbox_chan *t = mbox_request_channel(&tx.cl, 0);
	int msgs[5];
	for (int i = 0; i < 5; i++)
		assert_true(mbox_send_message(t, &msgs[i]) >= 0);
	mbox_free_channel(t);
	assert_int_equal(atomic_load(&tx.ndone), 5); /* Linux drops them silently; we report each */
	for (int i = 0; i < 5; i++) {
		assert_ptr_equal(tx.done_msg[i], &msgs[i]);
		assert_int_equal(tx.done_r[i], -ECANCELED);
	}
	assert_int_equal(mbox_send_message(t, &msgs[0]), -EINVAL); /* no client any more */
	mbox_free_channel(t);                                       /* twice: harmless */
	assert_int_equal(atomic_load(&l.shutdowns), 1);
	/* Unregistering a controller reports -ENODEV to its clients' pending messages. */
	t = mbox_request_channel(&tx.cl, 0);
	assert_true(mbox_send_message(t, &msgs[0]) >= 0);
	mbox_controller_unregister(&l.ctrl);
	assert_int_equal(atomic_load(&tx.ndone), 6);
	assert_int_equal(tx.done_r[5], -ENODEV);
}

static void *consume_later(void *arg)
{
	struct loop *l = arg;
	usleep(20000);
	loop_consume(l, 0);
	return NULL;
}

static void test_tx_block(void **state)
{
	(void)state;
	struct loop l;
	loop_init(&l, "t-loop", true, false);
	struct rec tx;
	rec_init(&tx, &consumer);
	tx.cl.tx_block = true;
	tx.cl.tx_tout = 2000;
	struct mbox_chan *t = mbox_request_channel(&tx.cl, 0);
	int m;
	pthread_t th;
	pthread_create(&th, NULL, consume_later, &l);
	assert_int_equal(mbox_send_message(t, &m), 0); /* B1: returns once done */
	pthread_join(th, NULL);
	assert_int_equal(atomic_load(&tx.ndone), 1);
	tx.cl.tx_tout = 20;
	assert_int_equal(mbox_send_message(t, &m), -ETIME); /* B2: nobody consumes */
	assert_int_equal(atomic_load(&tx.ndone), 2);
	assert_int_equal(tx.done_r[1], -ETIME);
	loop_consume(&l, 0); /* the late acknowledgement of a timed-out message completes nothing */
	assert_int_equal(atomic_load(&tx.ndone), 2);
	mbox_free_channel(t);
	mbox_controller_unregister(&l.ctrl);
}

static void test_poll_and_ack_modes(void **state)
{
	(void)state;
	struct loop l;
	loop_init(&l, "t-loop", false, true);
	struct rec tx;
	rec_init(&tx, &consumer);
	struct mbox_chan *t = mbox_request_channel(&tx.cl, 0);
	int m[3];
	assert_int_equal(mbox_send_message(t, &m[0]), 0);
	assert_int_equal(mbox_send_message(t, &m[1]), 1);
	mbox_chan_txdone(t, 0); /* ignored: not an IRQ controller */
	assert_int_equal(atomic_load(&tx.ndone), 0);
	loop_consume(&l, 0);
	/* The poll ticker (1 ms) notices, completes m[0] and sends m[1]. */
	for (int i = 0; i < 2000 && atomic_load(&tx.ndone) < 1; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&tx.ndone), 1);
	for (int i = 0; i < 2000 && !loop_peek(&l.chans[1]); i++)
		usleep(1000);
	loop_consume(&l, 0);
	for (int i = 0; i < 2000 && atomic_load(&tx.ndone) < 2; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&tx.ndone), 2);
	assert_ptr_equal(tx.done_msg[1], &m[1]);
	/* mbox_flush() waits on the controller. */
	assert_true(mbox_send_message(t, &m[2]) >= 0);
	assert_int_equal(mbox_flush(t, 10), -ETIME);
	mbox_free_channel(t);
	/* A client that knows TX done turns polling into ACK. */
	tx.cl.knows_txdone = true;
	tx.ndone = 0;
	tx.sdone = 0;
	t = mbox_request_channel(&tx.cl, 0);
	atomic_store(&l.wire[0], NO_MSG);
	assert_true(mbox_send_message(t, &m[0]) >= 0);
	loop_consume(&l, 0);
	usleep(20000);
	assert_int_equal(atomic_load(&tx.ndone), 0); /* nobody polls it now */
	mbox_client_txdone(t, 0);
	assert_int_equal(atomic_load(&tx.ndone), 1);
	mbox_free_channel(t);
	/* Freed, the channel is polled again for the next client. */
	tx.cl.knows_txdone = false;
	t = mbox_request_channel(&tx.cl, 0);
	assert_int_equal(t->txdone_method, TXDONE_BY_POLL);
	mbox_free_channel(t);
	mbox_controller_unregister(&l.ctrl);
	assert_int_equal(mbox_flush(NULL, 1), -EINVAL);
}

/* ---- concurrent clients ---- */

#define CONC_N 20000
struct conc {
	struct rec r;
	struct mbox_chan *chan;
	int payload[CONC_N];
	atomic_int done_ok, order_bad;
	int last;
};
static atomic_bool conc_stop;

static void conc_done(struct mbox_client *cl, void *m, int r)
{
	struct conc *c = (struct conc *)cl;
	int v = *(int *)m;
	if (r == 0 && v == c->last + 1)
		atomic_fetch_add(&c->done_ok, 1);
	else
		atomic_fetch_add(&c->order_bad, 1);
	c->last = v;
}

static void *conc_sender(void *arg)
{
	struct conc *c = arg;
	for (int i = 0; i < CONC_N;) {
		c->payload[i] = i;
		int r = mbox_send_message(c->chan, &c->payload[i]);
		if (r == -ENOBUFS) {
			sched_yield();
			continue;
		}
		assert_true(r >= 0);
		i++;
	}
	return NULL;
}

static void *conc_remote(void *arg)
{
	struct loop *l = arg;
	while (!atomic_load(&conc_stop))
		for (int k = 0; k < PAIRS; k++)
			loop_consume(l, k);
	return NULL;
}

static void test_concurrent_clients(void **state)
{
	(void)state;
	struct loop l;
	loop_init(&l, "t-loop", true, false);
	static struct conc c[PAIRS];
	pthread_t th[PAIRS], remote;
	atomic_store(&conc_stop, false);
	for (int k = 0; k < PAIRS; k++) {
		memset(&c[k], 0, sizeof(c[k]));
		c[k].last = -1;
		c[k].r.cl.tx_done = conc_done;
		c[k].chan = &l.chans[2 * k];
		assert_int_equal(mbox_bind_client(c[k].chan, &c[k].r.cl), 0);
	}
	pthread_create(&remote, NULL, conc_remote, &l);
	for (int k = 0; k < PAIRS; k++)
		pthread_create(&th[k], NULL, conc_sender, &c[k]);
	for (int k = 0; k < PAIRS; k++)
		pthread_join(th[k], NULL);
	for (int i = 0; i < 5000; i++) {
		int sum = 0;
		for (int k = 0; k < PAIRS; k++)
			sum += atomic_load(&c[k].done_ok) + atomic_load(&c[k].order_bad);
		if (sum == PAIRS * CONC_N)
			break;
		usleep(1000);
	}
	atomic_store(&conc_stop, true);
	pthread_join(remote, NULL);
	for (int k = 0; k < PAIRS; k++) {
		assert_int_equal(atomic_load(&c[k].order_bad), 0);
		assert_int_equal(atomic_load(&c[k].done_ok), CONC_N);
		mbox_free_channel(c[k].chan);
	}
	mbox_controller_unregister(&l.ctrl);
}

/* Controllers register and unregister under traffic: every accepted message gets exactly one tx_done. */
struct churn {
	struct mbox_client cl;
	atomic_int done0, done_enodev, done_other;
};

static void churn_done(struct mbox_client *cl, void *m, int r)
{
	(void)m;
	struct churn *c = (struct churn *)cl;
	if (r == 0)
		atomic_fetch_add(&c->done0, 1);
	else if (r == -ENODEV)
		atomic_fetch_add(&c->done_enodev, 1);
	else
		atomic_fetch_add(&c->done_other, 1);
}

static void test_unregister_under_traffic(void **state)
{
	(void)state;
	static struct loop l;
	struct churn c;
	memset(&c, 0, sizeof(c));
	c.cl.tx_done = churn_done;
	c.cl.node = &consumer;
	int accepted = 0, m = 0;
	atomic_store(&conc_stop, false);
	for (int round = 0; round < 50; round++) {
		loop_init(&l, "t-loop", true, false);
		pthread_t remote;
		pthread_create(&remote, NULL, conc_remote, &l);
		struct mbox_chan *t = mbox_request_channel(&c.cl, 0);
		assert_false(AMPL_IS_ERR(t));
		for (int i = 0; i < 400; i++) {
			int r = mbox_send_message(t, &m);
			if (r >= 0)
				accepted++;
			else
				assert_int_equal(r, -ENOBUFS);
			if (i % 20 == 19)
				usleep(50); /* let the remote drain some */
		}
		if (round % 2) {
			/* Stop the remote, so the unregistration finds messages in flight and queued. */
			atomic_store(&conc_stop, true);
			pthread_join(remote, NULL);
			for (int i = 0; i < 25; i++)
				accepted += mbox_send_message(t, &m) >= 0;
		}
		mbox_controller_unregister(&l.ctrl); /* under traffic (even rounds) or with messages pending */
		if (!(round % 2)) {
			atomic_store(&conc_stop, true);
			pthread_join(remote, NULL);
		}
		atomic_store(&conc_stop, false);
		assert_int_equal(mbox_send_message(t, &m), -EINVAL);
	}
	assert_int_equal(atomic_load(&c.done_other), 0);
	assert_int_equal(atomic_load(&c.done0) + atomic_load(&c.done_enodev), accepted);
	assert_true(atomic_load(&c.done0) > 0);       /* traffic really flowed */
	assert_true(atomic_load(&c.done_enodev) > 0); /* and some was cut off by the unregistration */
	print_message("unregister under traffic: %d accepted, %d done, %d reported -ENODEV\n", accepted,
		      atomic_load(&c.done0), atomic_load(&c.done_enodev));
}


/*
 * Polled TX done and a client that waits for nothing (no tx_done, not blocking): a message queued behind the one
 * in flight must still go out once that one is consumed. The framework starts the ticker (Linux restarts its poll
 * timer at every submit); nobody here calls mbox_client_tx_busy() or the port's kick. Likewise a blocking sender
 * on a polled controller without flush, and no tx_done, is completed by the ticker rather than timing out.
 */
static void *poll_remote(void *arg)
{
	struct loop *l = arg;
	while (!atomic_load(&conc_stop)) {
		loop_consume(l, 0);
		usleep(100);
	}
	return NULL;
}

static void test_poll_queued_without_tx_done(void **state)
{
	(void)state;
	usleep(20000); /* a ticker earlier tests started has gone back to sleep: only these sends can start it */
	struct loop l;
	loop_init(&l, "t-loop", false, true);
	struct rec tx, rx;
	rec_init(&tx, &consumer);
	rec_init(&rx, &consumer);
	tx.cl.tx_done = NULL;
	tx.cl.tx_prepare = NULL;
	struct mbox_chan *t = mbox_request_channel(&tx.cl, 0), *r = mbox_request_channel(&rx.cl, 1);
	assert_false(AMPL_IS_ERR(t) || AMPL_IS_ERR(r));
	int m[2];
	assert_int_equal(mbox_send_message(t, &m[0]), 0);
	assert_int_equal(mbox_send_message(t, &m[1]), 1); /* queued behind m[0] */
	assert_true(loop_consume(&l, 0));                 /* the remote takes m[0] */
	int waited = 0;
	while (waited < 5000 && !loop_peek(&l.chans[0])) {
		usleep(1000);
		waited++;
	}
	if (!loop_peek(&l.chans[0]))
		fail_msg("the queued message was not sent within %d ms of the first one's consumption", waited);
	assert_true(loop_consume(&l, 0));
	assert_int_equal(atomic_load(&rx.nrx), 2);
	assert_ptr_equal(rx.rx_msg[0], &m[0]);
	assert_ptr_equal(rx.rx_msg[1], &m[1]);
	mbox_free_channel(t);
	mbox_free_channel(r);
	mbox_controller_unregister(&l.ctrl);

	/* Blocking, on a controller that cannot flush: the ticker completes the message. */
	struct mbox_chan_ops no_flush = loop_ops;
	no_flush.flush = NULL;
	loop_init(&l, "t-loop", false, true);
	l.ctrl.ops = &no_flush;
	rec_init(&tx, &consumer);
	tx.cl.tx_done = NULL;
	tx.cl.tx_block = true;
	tx.cl.tx_tout = 10000;
	t = mbox_request_channel(&tx.cl, 0);
	assert_false(AMPL_IS_ERR(t));
	atomic_store(&conc_stop, false);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, poll_remote, &l), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mbox_send_message(t, &m[0]), 0);
	atomic_store(&conc_stop, true);
	pthread_join(th, NULL);
	mbox_free_channel(t);
	mbox_controller_unregister(&l.ctrl);
}

/*
 * mbox_ring_doorbell(), an IPC backend's ring through the framework: on an idle channel whose controller says the
 * last ring is done, straight to send_data (no tx_prepare, no tx_done); while that ring is still on the wire, the
 * framework adopts it and queues one ring behind it (never written over it, however many rings come), submitted
 * by the ticker once the remote took the first; once the framework's part is done, the next ring goes straight
 * again. The doorbells counted (rung at once + the framework's) match what went on the wire. A client with tx_done
 * is rung through the framework and told of each doorbell.
 */
static atomic_bool ring_armed;

static void ring_prepare(struct mbox_client *cl, void *m)
{
	rec_prep(cl, m);
	atomic_store(&ring_armed, false);
}

static void test_ring_doorbell(void **state)
{
	(void)state;
	struct loop l;
	loop_init(&l, "t-loop", false, true);
	struct rec tx, rx;
	rec_init(&tx, &consumer);
	rec_init(&rx, &consumer);
	tx.cl.tx_prepare = ring_prepare;
	tx.cl.tx_done = NULL; /* as the IPC link's client: nobody waits for a doorbell */
	struct mbox_chan *t = mbox_request_channel(&tx.cl, 0), *r = mbox_request_channel(&rx.cl, 1);
	assert_false(AMPL_IS_ERR(t) || AMPL_IS_ERR(r));
	atomic_store(&ring_armed, false);

	/* Idle: rung at once, nothing of the framework's. */
	assert_int_equal(mbox_ring_doorbell(t, &ring_armed), 0);
	assert_int_equal(atomic_load(&l.sends), 1);
	assert_true(loop_peek(&l.chans[0]));
	assert_false(t->active);
	assert_int_equal(t->msg_count, 0);
	assert_int_equal(atomic_load(&tx.nprep), 0);
	assert_int_equal(doorbells_taken(t), 1);

	/* Still on the wire: adopted, one ring queued behind it (armed), the wire left alone. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(mbox_ring_doorbell(t, &ring_armed), 0);
	assert_int_equal(atomic_load(&l.sends), 1);
	assert_true(t->active);
	assert_int_equal(t->msg_count, 1);
	assert_true(atomic_load(&ring_armed));
	assert_int_equal(doorbells_taken(t), 2);

	/* The remote takes the first: the ticker submits the queued one. */
	assert_true(loop_consume(&l, 0));
	int waited = 0;
	while (waited < 5000 && !loop_peek(&l.chans[0])) {
		usleep(1000);
		waited++;
	}
	if (!loop_peek(&l.chans[0]))
		fail_msg("the queued ring was not submitted within %d ms of the first one's consumption", waited);
	assert_int_equal(atomic_load(&l.sends), 2);
	assert_int_equal(atomic_load(&tx.nprep), 1);
	assert_false(atomic_load(&ring_armed));
	assert_true(loop_consume(&l, 0));
	assert_int_equal(atomic_load(&rx.nrx), 2);
	assert_null(rx.rx_msg[0]);
	assert_null(rx.rx_msg[1]);

	/* The framework's ring is done: the next ring ticks it and goes at once; the framework is idle after it. */
	assert_int_equal(mbox_ring_doorbell(t, &ring_armed), 0);
	assert_int_equal(atomic_load(&l.sends), 3);
	assert_false(t->active);
	assert_int_equal(t->msg_count, 0);
	assert_int_equal(atomic_load(&tx.nprep), 1);
	assert_int_equal(doorbells_taken(t), 3);
	assert_true(loop_consume(&l, 0));
	assert_int_equal(mbox_ring_doorbell(t, &ring_armed), 0);
	assert_int_equal(atomic_load(&l.sends), 4);
	assert_false(t->active);
	assert_true(loop_consume(&l, 0));
	assert_int_equal(atomic_load(&rx.nrx), 4);

	/* A client that asked for TX done: its doorbells go through the framework, and it hears of each. */
	tx.cl.tx_done = rec_done;
	assert_int_equal(mbox_ring_doorbell(t, &ring_armed), 0);
	assert_int_equal(atomic_load(&l.sends), 5);
	assert_int_equal(atomic_load(&tx.nprep), 2);
	assert_true(t->active);
	assert_true(loop_consume(&l, 0));
	waited = 0;
	while (waited < 5000 && atomic_load(&tx.ndone) < 1) {
		(void)mbox_client_tx_busy(t); /* polls: ticks it */
		usleep(1000);
		waited++;
	}
	assert_int_equal(atomic_load(&tx.ndone), 1);
	assert_null(tx.done_msg[0]);
	assert_int_equal(tx.done_r[0], 0);
	tx.cl.tx_done = NULL;

	/* Offline: the ring answers the offline error at once, and nothing goes on the wire. */
	mbox_chan_set_offline(t, -ESHUTDOWN);
	assert_int_equal(mbox_ring_doorbell(t, &ring_armed), -ESHUTDOWN);
	assert_int_equal(atomic_load(&l.sends), 5);
	mbox_chan_set_offline(t, 0);
	mbox_free_channel(t);
	mbox_free_channel(r);
	/* A channel without a client: -EINVAL, as mbox_send_message() answers. */
	assert_int_equal(mbox_ring_doorbell(t, &ring_armed), -EINVAL);
	assert_int_equal(mbox_ring_doorbell(NULL, &ring_armed), -EINVAL);
	mbox_controller_unregister(&l.ctrl);
}

/* ---- the seed's client flow on the IPI of a virtual SoC ---- */

struct ipi_client {
	struct mbox_client cl;
	struct mbox_chan *tx, *rx;
	atomic_int ndone, nrx, last_r;
	uint8_t last_rx[32];
};

static void ipi_done(struct mbox_client *cl, void *m, int r)
{
	(void)m;
	struct ipi_client *c = (struct ipi_client *)cl;
	atomic_store(&c->last_r, r);
	atomic_fetch_add(&c->ndone, 1);
}

static void ipi_rx(struct mbox_client *cl, void *m)
{
	struct ipi_client *c = (struct ipi_client *)cl;
	struct zynqmp_ipi_message *msg = m;
	assert_int_equal(msg->len, 32);
	memcpy(c->last_rx, msg->data, 32);
	/* Answer through the response buffer before the acknowledgement. */
	uint8_t resp[32];
	for (int i = 0; i < 32; i++)
		resp[i] = (uint8_t)(msg->data[i] ^ 0xFF);
	assert_int_equal(xlnx_ipi_mbox_response_write(c->rx, resp, 32), 0);
	atomic_fetch_add(&c->nrx, 1);
}

/*
 * The thin doorbell path: ampl_mbox_ring() goes straight to send_data with NULL, queues nothing and reports
 * nothing to tx_done; -EBUSY waits for last_tx_done and rings again; offline and ownership as for the framework;
 * ampl_mbox_release() frees the channel (shutdown, no tx_done) so that it can be taken again.
 */
struct busy_ctrl {
	struct mbox_controller ctrl;
	struct mbox_chan chans[1];
	int busy_left; /* send_data answers -EBUSY this many more times */
	int sends, refused, done_polls;
};

static int busy_send(struct mbox_chan *chan, void *data)
{
	struct busy_ctrl *b = (struct busy_ctrl *)chan->mbox;
	assert_null(data);
	if (b->busy_left > 0) {
		b->busy_left--;
		b->refused++;
		return -EBUSY;
	}
	b->sends++;
	return 0;
}

static bool busy_last_tx_done(struct mbox_chan *chan)
{
	struct busy_ctrl *b = (struct busy_ctrl *)chan->mbox;
	return ++b->done_polls % 3 == 0; /* the previous ring leaves after a few looks */
}

static const struct mbox_chan_ops busy_ops = { .send_data = busy_send, .last_tx_done = busy_last_tx_done };

static void test_doorbell_thin(void **state)
{
	(void)state;
	struct loop l;
	loop_init(&l, "t-loop", false, true); /* TX done polled: the framework would queue and tick */
	struct rec tx, rx, other;
	rec_init(&tx, &consumer);
	rec_init(&rx, &consumer);
	rec_init(&other, &consumer);
	assert_int_equal(ampl_mbox_ring(NULL), -EINVAL);
	assert_int_equal(ampl_mbox_ring(&l.chans[0]), -EINVAL); /* no client */
	int err = 1;
	struct mbox_chan *t = mbox_client_get_channel(&tx.cl, &consumer, NULL, "tx", &err);
	assert_ptr_equal(t, &l.chans[0]);
	assert_int_equal(err, 0);
	struct mbox_chan *r = mbox_client_get_channel(&rx.cl, &consumer, NULL, "rx", &err);
	assert_ptr_equal(r, &l.chans[1]);

	/* D1: one ring is one send_data(NULL), on the wire at once; nothing queued, no tx_prepare, no tx_done. */
	assert_int_equal(ampl_mbox_ring(t), 0);
	assert_int_equal(atomic_load(&l.sends), 1);
	assert_null(atomic_load(&l.wire[0]));
	assert_int_equal(t->msg_count, 0u);
	assert_false(t->active);
	assert_int_equal(atomic_load(&tx.nprep), 0);
	assert_int_equal(atomic_load(&tx.ndone), 0);
	/* D2: the remote takes it: the rx channel's client gets a NULL message. */
	assert_true(loop_consume(&l, 0));
	assert_int_equal(atomic_load(&rx.nrx), 1);
	assert_null(rx.rx_msg[0]);
	assert_int_equal(atomic_load(&tx.ndone), 0);
	/* D3: a ring the controller keeps refusing (the wire stays full): -EBUSY after the bound, nothing queued. */
	assert_int_equal(ampl_mbox_ring(t), 0);
	assert_int_equal(ampl_mbox_ring(t), -EBUSY);
	assert_int_equal(t->msg_count, 0u);
	assert_true(loop_consume(&l, 0));
	assert_false(loop_consume(&l, 0));
	/* D4: offline: the error at once, send_data not called; online again: rings. */
	int sends = atomic_load(&l.sends);
	mbox_chan_set_offline(t, -ESHUTDOWN);
	assert_int_equal(ampl_mbox_ring(t), -ESHUTDOWN);
	assert_int_equal(atomic_load(&l.sends), sends);
	mbox_chan_set_offline(t, 0);
	assert_int_equal(ampl_mbox_ring(t), 0);
	assert_true(loop_consume(&l, 0));
	/* D5: the channel is owned: a framework client cannot take it. */
	expect_err("D5 owned", mbox_request_channel_byname(&other.cl, "tx"), -EBUSY);
	/* D6: release: shutdown runs, tx_done never; the channel has no client (a ring is refused) and can be taken
	 * again, by a framework client too. */
	int shut = atomic_load(&l.shutdowns);
	ampl_mbox_release(t);
	ampl_mbox_release(NULL);
	ampl_mbox_release(t); /* twice: nothing */
	assert_int_equal(atomic_load(&l.shutdowns), shut + 1);
	assert_int_equal(atomic_load(&tx.ndone), 0);
	assert_int_equal(ampl_mbox_ring(t), -EINVAL);
	assert_ptr_equal(mbox_request_channel_byname(&other.cl, "tx"), t);
	mbox_free_channel(t);
	ampl_mbox_release(r);
	assert_int_equal(ampl_mbox_ring(r), -EINVAL);
	mbox_controller_unregister(&l.ctrl);

	/* D7: -EBUSY while the previous ring is on its way: wait for last_tx_done, then ring again. */
	struct busy_ctrl b;
	memset(&b, 0, sizeof(b));
	b.ctrl = (struct mbox_controller){ .node = "t-busy", .ops = &busy_ops, .chans = b.chans, .num_chans = 1 };
	assert_int_equal(mbox_controller_register(&b.ctrl), 0);
	struct rec c;
	rec_init(&c, NULL);
	assert_int_equal(mbox_bind_client(&b.chans[0], &c.cl), 0);
	b.busy_left = 2;
	assert_int_equal(ampl_mbox_ring(&b.chans[0]), 0);
	assert_int_equal(b.refused, 2);
	assert_int_equal(b.sends, 1);
	assert_true(b.done_polls >= 2 * 3); /* it waited for last_tx_done before each retry */
	ampl_mbox_release(&b.chans[0]);
	mbox_controller_unregister(&b.ctrl);
}

/*
 * The thin path's own way to take a channel: ampl_mbox_get_channel() / ampl_mbox_bind() answer what
 * mbox_client_get_channel() / mbox_bind_client() answer, and take the channel without touching the framework's
 * queue or TX-done method (a polled controller stays polled); release makes it free for any client again.
 */
static void test_thin_get_channel(void **state)
{
	(void)state;
	struct rec a, b;
	rec_init(&a, NULL);
	rec_init(&b, NULL);
	int err = 1;
	assert_null(ampl_mbox_get_channel(&a.cl, NULL, NULL, "tx", &err));
	assert_int_equal(err, -ENODEV);
	assert_null(ampl_mbox_get_channel(&a.cl, &consumer, NULL, "tx", &err));
	assert_int_equal(err, -AMPL_EPROBE_DEFER);
	assert_ptr_equal(a.cl.node, &consumer);
	struct loop l;
	loop_init(&l, "t-loop", false, true); /* TX done polled */
	assert_null(ampl_mbox_get_channel(&a.cl, &consumer, NULL, "nope", &err));
	assert_int_equal(err, -EINVAL);
	assert_null(ampl_mbox_get_channel(&a.cl, &consumer, NULL, NULL, &err));
	assert_int_equal(err, -EINVAL);
	assert_null(ampl_mbox_get_channel(&a.cl, &consumer, NULL, "bad", &err));
	assert_int_equal(err, -EINVAL);
	assert_null(ampl_mbox_get_channel(&a.cl, &consumer, NULL, "later", &err));
	assert_int_equal(err, -AMPL_EPROBE_DEFER);
	assert_int_equal(ampl_mbox_bind(NULL, &a.cl), -EINVAL);
	assert_int_equal(ampl_mbox_bind(&l.chans[0], NULL), -EINVAL);
	/* startup refused: its error, the channel free again */
	l.startup_err = -EIO;
	assert_null(ampl_mbox_get_channel(&a.cl, &consumer, NULL, "tx", &err));
	assert_int_equal(err, -EIO);
	assert_null(l.chans[0].cl);
	l.startup_err = 0;
	/* by name, then a given channel; the second client of a channel gets -EBUSY */
	a.cl.knows_txdone = true; /* the framework's bind would make the channel ACK-driven: not the thin one */
	struct mbox_chan *t = ampl_mbox_get_channel(&a.cl, &consumer, NULL, "tx", &err);
	assert_ptr_equal(t, &l.chans[0]);
	assert_int_equal(err, 0);
	assert_ptr_equal(t->cl, &a.cl);
	assert_int_equal(t->txdone_method, TXDONE_BY_POLL);
	assert_null(ampl_mbox_get_channel(&b.cl, &consumer, t, NULL, &err));
	assert_int_equal(err, -EBUSY);
	assert_int_equal(ampl_mbox_bind(t, &b.cl), -EBUSY);
	expect_err("T1 owned", mbox_request_channel_byname(&b.cl, "tx"), -EBUSY);
	assert_ptr_equal(ampl_mbox_get_channel(&b.cl, NULL, &l.chans[1], NULL, &err), &l.chans[1]);
	assert_int_equal(err, 0);
	assert_int_equal(ampl_mbox_ring(t), 0);
	assert_true(loop_consume(&l, 0));
	assert_int_equal(atomic_load(&b.nrx), 1);
	int starts = atomic_load(&l.startups), shut = atomic_load(&l.shutdowns);
	ampl_mbox_release(t);
	ampl_mbox_release(&l.chans[1]);
	assert_int_equal(atomic_load(&l.shutdowns), shut + 2);
	assert_int_equal(atomic_load(&l.startups), starts);
	b.cl.node = &consumer;
	assert_ptr_equal(mbox_request_channel_byname(&b.cl, "tx"), t);
	mbox_free_channel(t);
	mbox_controller_unregister(&l.ctrl);
}

/*
 * The thin path with a message: ampl_mbox_send_now() is one send_data(mssg) under the lock, nothing queued and no
 * retry; ampl_mbox_wait_sent() waits on the controller's flush and answers its last_tx_result.
 */
static int discard_result(struct mbox_chan *chan)
{
	(void)chan;
	return -ESHUTDOWN;
}

static void test_send_now_thin(void **state)
{
	(void)state;
	struct loop l;
	loop_init(&l, "t-loop", false, true);
	struct rec tx, rx;
	rec_init(&tx, &consumer);
	rec_init(&rx, &consumer);
	int m[2] = { 1, 2 };
	assert_int_equal(ampl_mbox_send_now(NULL, &m[0]), -EINVAL);
	assert_int_equal(ampl_mbox_send_now(&l.chans[0], &m[0]), -EINVAL); /* no client */
	assert_int_equal(ampl_mbox_wait_sent(NULL, 1), -EINVAL);
	assert_int_equal(ampl_mbox_wait_sent(&l.chans[0], 1), -EINVAL);
	int err = 1;
	struct mbox_chan *t = mbox_client_get_channel(&tx.cl, &consumer, NULL, "tx", &err);
	assert_ptr_equal(t, &l.chans[0]);
	struct mbox_chan *r = mbox_client_get_channel(&rx.cl, &consumer, NULL, "rx", &err);
	assert_ptr_equal(r, &l.chans[1]);

	/* N1: the message is on the wire at once; nothing queued, no tx_prepare, no tx_done. */
	assert_int_equal(ampl_mbox_send_now(t, &m[0]), 0);
	assert_ptr_equal(atomic_load(&l.wire[0]), &m[0]);
	assert_int_equal(t->msg_count, 0u);
	assert_false(t->active);
	assert_int_equal(atomic_load(&tx.nprep), 0);
	/* N2: the wire is full: -EBUSY at once (no wait, no retry), the message on the wire untouched. */
	assert_int_equal(ampl_mbox_send_now(t, &m[1]), -EBUSY);
	assert_ptr_equal(atomic_load(&l.wire[0]), &m[0]);
	/* N3: not taken in time: the flush's -ETIME; taken: its result (no last_tx_result: 0). */
	assert_int_equal(ampl_mbox_wait_sent(t, 1), -ETIME);
	assert_true(loop_consume(&l, 0));
	assert_ptr_equal(rx.rx_msg[0], &m[0]);
	assert_int_equal(ampl_mbox_wait_sent(t, 1), 0);
	assert_int_equal(atomic_load(&tx.ndone), 0);
	/* N4: offline: the error, send_data not called. */
	int sends = atomic_load(&l.sends);
	mbox_chan_set_offline(t, -ESHUTDOWN);
	assert_int_equal(ampl_mbox_send_now(t, &m[1]), -ESHUTDOWN);
	assert_int_equal(atomic_load(&l.sends), sends);
	mbox_chan_set_offline(t, 0);
	/* N5: the controller's verdict on the message: last_tx_result; no flush op: -ENOTSUP. */
	struct mbox_chan_ops ops = loop_ops;
	ops.last_tx_result = discard_result;
	l.ctrl.ops = &ops;
	assert_int_equal(ampl_mbox_send_now(t, &m[1]), 0);
	assert_true(loop_consume(&l, 0));
	assert_int_equal(ampl_mbox_wait_sent(t, 1), -ESHUTDOWN);
	ops.flush = NULL;
	assert_int_equal(ampl_mbox_wait_sent(t, 1), -ENOTSUP);
	l.ctrl.ops = &loop_ops;
	ampl_mbox_release(t);
	ampl_mbox_release(r);
	assert_int_equal(ampl_mbox_send_now(t, &m[0]), -EINVAL);
	mbox_controller_unregister(&l.ctrl);
}


static void test_ipi_client_flow(void **state)
{
	(void)state;
	char name[64];
	snprintf(name, sizeof(name), "t-mbox-%d", (int)getpid());
	ampl_soc_destroy(name);
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), 0);
	struct ampl_soc *soc;
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	struct ampl_agent *apu, *rpu0;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	assert_int_equal(ampl_agent_attach(soc, "apu", &o, &apu), 0);
	assert_int_equal(ampl_agent_attach(soc, "rpu0", &o, &rpu0), 0);
	const struct mbox_consumer *capu, *crpu;
	assert_int_equal(ampl_agent_mbox_consumer(apu, "ipi_client_apu", &capu), 0);
	assert_int_equal(ampl_agent_mbox_consumer(rpu0, "/ipi-client-rpu0", &crpu), 0);
	assert_int_equal(ampl_agent_mbox_consumer(apu, "no-such-node", &capu), -ENOENT);
	assert_int_equal(ampl_agent_mbox_consumer(apu, "ipi-client-apu", &capu), 0);

	struct ipi_client a, r;
	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	a.cl.node = capu;
	a.cl.tx_done = ipi_done;
	a.cl.tx_block = true;
	a.cl.tx_tout = 1000;
	r.cl.node = crpu;
	r.cl.rx_callback = ipi_rx;
	a.tx = mbox_request_channel_byname(&a.cl, "rpu0");
	r.rx = mbox_request_channel_byname(&r.cl, "apu_rx");
	assert_false(AMPL_IS_ERR(a.tx));
	assert_false(AMPL_IS_ERR(r.rx));
	assert_non_null(xlnx_ipi_mbox_of(a.tx));
	/* The IPM device over the same destination cannot take a channel the framework client owns. */
	const struct ampl_device *ipm = ampl_device_get_by_label("ipi_apu_rpu0");
	uint8_t x[4] = { 1, 2, 3, 4 };
	assert_int_equal(ipm_send(ipm, 0, 0, x, 4), -EBUSY);

	uint8_t buf[40], resp[32];
	for (int i = 0; i < 40; i++)
		buf[i] = (uint8_t)(i * 7);
	struct {
		size_t len;
		uint8_t data[40];
	} msg;
	msg.len = 32;
	memcpy(msg.data, buf, 32);
	for (int n = 1; n <= 100; n++) {
		msg.data[0] = (uint8_t)n;
		assert_int_equal(mbox_send_message(a.tx, &msg), 0);
		assert_int_equal(atomic_load(&a.ndone), n);
		assert_int_equal(atomic_load(&a.last_r), 0);
		assert_int_equal(xlnx_ipi_mbox_response_read(a.tx, resp, 32), 0);
		for (int i = 0; i < 32; i++)
			assert_int_equal(resp[i], (uint8_t)(msg.data[i] ^ 0xFF));
	}
	assert_int_equal(atomic_load(&r.nrx), 100);
	/* No silent truncation: 33 bytes fail, and tx_done says so. */
	msg.len = 33;
	assert_int_equal(mbox_send_message(a.tx, &msg), -EMSGSIZE);
	assert_int_equal(atomic_load(&a.last_r), -EMSGSIZE);
	/* A NULL message rings without data. */
	assert_int_equal(mbox_send_message(a.tx, NULL), 0);
	assert_int_equal(atomic_load(&r.nrx), 101);
	/* Nobody receiving: the blocking send times out with -ETIME. */
	mbox_free_channel(r.rx);
	a.cl.tx_tout = 30;
	msg.len = 4;
	assert_int_equal(mbox_send_message(a.tx, &msg), -ETIME);
	assert_int_equal(atomic_load(&a.last_r), -ETIME);
	/* peek: the request waits at RPU0. */
	struct ipi_client p;
	memset(&p, 0, sizeof(p));
	p.cl.node = crpu;
	p.cl.rx_callback = ipi_rx;
	struct mbox_controller *ctl;
	assert_int_equal(ampl_agent_mbox(rpu0, "apu", &ctl), 0);
	p.rx = &ctl->chans[XLNX_IPI_RX_CHAN]; /* before binding: the callback uses it */
	assert_int_equal(mbox_bind_client(p.rx, &p.cl), 0);
	for (int i = 0; i < 1000 && atomic_load(&p.nrx) < 1; i++)
		usleep(1000);
	assert_int_equal(atomic_load(&p.nrx), 1); /* the pending request is delivered once a client binds */
	mbox_free_channel(p.rx);
	mbox_free_channel(a.tx);
	/* Freed by the framework client, the IPM device can use the destination. */
	ampl_agent_detach(rpu0);
	ampl_agent_detach(apu);
	ampl_soc_close(soc);
	ampl_soc_destroy(name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_checks),
		cmocka_unit_test(test_request_codes),
		cmocka_unit_test(test_queue_tokens),
		cmocka_unit_test(test_link_state),
		cmocka_unit_test(test_free_reports_queued),
		cmocka_unit_test(test_tx_block),
		cmocka_unit_test(test_poll_and_ack_modes),
		cmocka_unit_test(test_concurrent_clients),
		cmocka_unit_test(test_unregister_under_traffic),
		cmocka_unit_test(test_poll_queued_without_tx_done),
		cmocka_unit_test(test_ring_doorbell),
		cmocka_unit_test(test_doorbell_thin),
		cmocka_unit_test(test_thin_get_channel),
		cmocka_unit_test(test_send_now_thin),
		cmocka_unit_test(test_ipi_client_flow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
