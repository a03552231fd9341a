/*
 * The NXP MU driver over the register model: Zephyr's IPM API for 4-, 8- and 16-byte messages (every return code,
 * grouped ids, the protocol-violation check), the mailbox framework's TX, RX, TX-doorbell and RX-doorbell channels
 * with TX done by interrupt, of_xlate's bounds, side-A initialisation, the agents of an imx SoC, and a two-process
 * exchange of 100,000 words.
 *
 * Most tests drive both sides in one process with their own `struct nxp_mu` over a fresh SoC's regions and run the
 * handlers by hand (nxp_mu_isr()), so every step is deterministic; the agent tests use interrupt threads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <amplink/device.h>
#include <amplink/drivers/nxp_mu.h>
#include <amplink/host/dt.h>
#include <amplink/ipm.h>
#include <amplink/mailbox_client.h>
#include <amplink/host/soc.h>

#include "ipm_concurrent.h"
#include "rc_check.h"

enum { A = 0, B = 1 };

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait (up to 5 s) until *v >= want. */
static bool wait_for(atomic_int *v, int want)
{
	uint64_t end = now_ms() + 5000;
	while (atomic_load(v) < want) {
		if (now_ms() > end)
			return false;
		usleep(100);
	}
	return true;
}

/* ---- fixture: a fresh imx SoC, a driver instance per side ---- */

struct dfx {
	char name[64];
	char node[2][96];
	struct ampl_soc *soc;
	struct ampl_io_region reg[2];
	struct nxp_mu mu[2];
	atomic_int soft[2];
	bool up[2];
};

static unsigned counter;
/* The open fixture; fixtures are static so that teardown can close one after a failed assertion. */
static struct dfx *live;

static void count_soft_irq(void *arg)
{
	atomic_fetch_add((atomic_int *)arg, 1);
}

static void dfx_open(struct dfx *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "t-mudrv-%d-%u", (int)getpid(), counter++);
	int ret = ampl_soc_create(f->name, &ampl_soc_imx, NULL, 0);
	if (ret)
		fail_msg("ampl_soc_create: %d %s", ret, ampl_soc_last_error());
	live = f;
	assert_int_equal(ampl_soc_open(f->name, &f->soc), 0);
	for (int s = 0; s < 2; s++) {
		assert_int_equal(ampl_soc_mu_regs(f->soc, 0, (unsigned)s, &f->reg[s]), 0);
		f->mu[s].regs = f->reg[s];
		f->mu[s].side_b = s == B;
		f->mu[s].soft_irq = count_soft_irq;
		f->mu[s].soft_irq_arg = &f->soft[s];
		snprintf(f->node[s], sizeof(f->node[s]), "%s:/mu-%c", f->name, "ab"[s]);
		assert_int_equal(nxp_mu_init(&f->mu[s], f->node[s]), 0);
		f->up[s] = true;
	}
}

static void dfx_close(struct dfx *f)
{
	for (int s = 0; s < 2; s++)
		if (f->up[s])
			nxp_mu_remove(&f->mu[s]);
	f->up[0] = f->up[1] = false;
	if (f->soc)
		ampl_soc_close(f->soc);
	f->soc = NULL;
	if (f->name[0])
		ampl_soc_destroy(f->name);
	f->name[0] = 0;
	live = NULL;
}

static uint32_t rd(struct dfx *f, int s, uint32_t off)
{
	return ampl_io_read32(&f->reg[s], off);
}

static void wr(struct dfx *f, int s, uint32_t off, uint32_t v)
{
	ampl_io_write32(&f->reg[s], off, v);
}

/* ---- IPM devices over a side ---- */

struct ipmdev {
	struct ampl_device dev;
	struct ampl_device_state st;
	struct ipm_mbox_config cfg;
	struct ipm_mbox_data data;
};

/* The generic IPM driver on the side's group channels. */
static int ipmdev_init(struct ipmdev *d, struct nxp_mu *mu, uint32_t size, uint32_t tout_us)
{
	memset(d, 0, sizeof(*d));
	d->dev.name = "mu-ipm";
	d->dev.api = &ipm_mbox_api;
	d->dev.config = &d->cfg;
	d->dev.data = &d->data;
	d->dev.state = &d->st;
	int ret = nxp_mu_ipm_config(mu, size, &d->cfg);
	d->cfg.ack_timeout_us = tout_us;
	return ret ? ret : ipm_mbox_init(&d->dev);
}

struct rec {
	atomic_int calls;
	const struct ampl_device *dev;
	void *ud;
	uint32_t ids[16];
	uint32_t words[16][4];
};

static void rec_cb(const struct ampl_device *dev, void *ud, uint32_t id, volatile void *data)
{
	struct rec *r = ud;
	int i = atomic_load(&r->calls);
	if (i < 16) {
		r->ids[i] = id;
		for (unsigned k = 0; k < 4; k++)
			r->words[i][k] = ((volatile uint32_t *)data)[k];
	}
	r->dev = dev;
	r->ud = ud;
	atomic_fetch_add(&r->calls, 1);
}

static void pattern(uint32_t *w, unsigned n, uint32_t seed)
{
	for (unsigned i = 0; i < n; i++)
		w[i] = seed * 0x01010101u + i * 0x10001u + 1u;
}

/* A thread that runs a side's handler until told to stop (the receiver of a send with wait). */
struct isr_loop {
	struct nxp_mu *mu;
	atomic_bool stop;
	pthread_t t;
};

static void *isr_loop_main(void *arg)
{
	struct isr_loop *l = arg;
	while (!atomic_load(&l->stop)) {
		nxp_mu_isr(l->mu);
		usleep(50);
	}
	return NULL;
}

static void isr_loop_start(struct isr_loop *l, struct nxp_mu *mu)
{
	l->mu = mu;
	atomic_store(&l->stop, false);
	assert_int_equal(pthread_create(&l->t, NULL, isr_loop_main, l), 0);
}

static void isr_loop_stop(struct isr_loop *l)
{
	atomic_store(&l->stop, true);
	pthread_join(l->t, NULL);
}

static void ipm_for_size(uint32_t size)
{
	char id[32];
	static struct dfx f;
	dfx_open(&f);
	uint32_t words = size / 4, ids = 4 / words, max_id = ids - 1;
	struct ipmdev tx, rx;
	snprintf(id, sizeof(id), "S%u-init", size);
	check_rc(id, "init A", ipmdev_init(&tx, &f.mu[A], size, 20000), 0);
	check_rc(id, "init B", ipmdev_init(&rx, &f.mu[B], size, 20000), 0);

	/* constants */
	snprintf(id, sizeof(id), "S%u-const", size);
	check_rc(id, "ipm_max_data_size_get", ipm_max_data_size_get(&tx.dev), (int)size);
	check_rc(id, "ipm_max_id_val_get", (int)ipm_max_id_val_get(&tx.dev), (int)max_id);

	/* argument errors: nothing is written */
	uint32_t msg[4], big[5] = { 0 };
	pattern(msg, 4, 7);
	snprintf(id, sizeof(id), "S%u-E", size);
	check_rc(id, "NULL device", ipm_send(NULL, 0, 0, msg, 4), -EINVAL);
	check_rc(id, "id above the largest", ipm_send(&tx.dev, 0, max_id + 1, msg, (int)size), -EINVAL);
	check_rc(id, "id UINT32_MAX", ipm_send(&tx.dev, 1, UINT32_MAX, msg, 4), -EINVAL);
	check_rc(id, "size + 1", ipm_send(&tx.dev, 0, 0, big, (int)size + 1), -EMSGSIZE);
	check_rc(id, "size 20", ipm_send(&tx.dev, 1, 0, big, 20), -EMSGSIZE);
	check_rc(id, "negative size", ipm_send(&tx.dev, 0, 0, msg, -1), -EINVAL);
	check_rc(id, "NULL data with a size", ipm_send(&tx.dev, 0, 0, NULL, 4), -EINVAL);
	assert_int_equal(rd(&f, B, NXP_MU_SR), 0x00F00000u);

	/* every id: the group of registers id*words .. id*words+words-1, last register written last */
	uint32_t rf = 0;
	for (uint32_t i = 0; i <= max_id; i++) {
		uint32_t m[4];
		pattern(m, 4, i + 1);
		snprintf(id, sizeof(id), "S%u-send%u", size, i);
		check_rc(id, "send", ipm_send(&tx.dev, 0, i, m, (int)size), 0);
		for (uint32_t k = 0; k < words; k++) {
			assert_int_equal(rd(&f, A, NXP_MU_TR(i * words + k)), m[k]);
			rf |= NXP_MU_SR_RFn(i * words + k);
		}
		assert_int_equal(rd(&f, B, NXP_MU_SR) & NXP_MU_SR_RF_MASK, rf);
		check_rc(id, "same id again before it was read", ipm_send(&tx.dev, 0, i, m, (int)size), -EBUSY);
	}

	/* receiver: not enabled -> nothing read; enabled -> every id, highest first, with a copy of its words */
	struct rec r = { 0 };
	ipm_register_callback(&rx.dev, rec_cb, &r);
	nxp_mu_isr(&f.mu[B]);
	assert_int_equal(atomic_load(&r.calls), 0);
	assert_int_equal(rd(&f, B, NXP_MU_SR) & NXP_MU_SR_RF_MASK, rf);
	snprintf(id, sizeof(id), "S%u-enable", size);
	check_rc(id, "ipm_set_enabled", ipm_set_enabled(&rx.dev, 1), 0);
	uint32_t rie = 0;
	for (uint32_t i = 0; i <= max_id; i++)
		rie |= NXP_MU_CR_RIEn(i * words + words - 1);
	assert_int_equal(rd(&f, B, NXP_MU_CR), rie); /* RX-full interrupt on the last register of each group */
	nxp_mu_isr(&f.mu[B]);
	assert_int_equal(atomic_load(&r.calls), (int)ids);
	for (uint32_t c = 0; c < ids; c++) {
		uint32_t want_id = max_id - c, m[4];
		pattern(m, 4, want_id + 1);
		assert_int_equal(r.ids[c], want_id);
		for (uint32_t k = 0; k < words; k++)
			assert_int_equal(r.words[c][k], m[k]);
	}
	assert_ptr_equal(r.dev, &rx.dev);
	assert_ptr_equal(r.ud, &r);
	assert_int_equal(rd(&f, A, NXP_MU_SR), 0x00F00000u); /* every TE back */
	assert_int_equal(rd(&f, B, NXP_MU_SR), 0x00F00000u);

	/* wait: returns once the receiver read the last register */
	struct isr_loop loop;
	isr_loop_start(&loop, &f.mu[B]);
	snprintf(id, sizeof(id), "S%u-wait", size);
	tx.cfg.ack_timeout_us = 5000000; /* the reader thread may be scheduled late on a loaded machine */
	for (uint32_t i = 0; i <= max_id; i++)
		check_rc(id, "send wait", ipm_send(&tx.dev, 1, i, msg, (int)size), 0);
	check_rc(id, "send wait, size 0", ipm_send(&tx.dev, 1, 0, NULL, 0), 0);
	assert_true(wait_for(&r.calls, (int)(2 * ids + 1)));
	isr_loop_stop(&loop);

	/*
	 * wait with nobody reading: -ETIMEDOUT, the message stays; then -EBUSY, with wait too once the group stayed
	 * full for the whole bound (nothing written: -ETIMEDOUT would say a message is pending that never will be)
	 */
	check_rc(id, "disable", ipm_set_enabled(&rx.dev, 0), 0);
	assert_int_equal(rd(&f, B, NXP_MU_CR), 0);
	snprintf(id, sizeof(id), "S%u-timeout", size);
	tx.cfg.ack_timeout_us = 20000;
	check_rc(id, "send wait, nobody reads", ipm_send(&tx.dev, 1, max_id, msg, (int)size), -ETIMEDOUT);
	uint32_t other[4];
	pattern(other, 4, 99);
	check_rc(id, "send, still full", ipm_send(&tx.dev, 0, max_id, other, (int)size), -EBUSY);
	check_rc(id, "send wait, still full", ipm_send(&tx.dev, 1, max_id, other, (int)size), -EBUSY);
	int before = atomic_load(&r.calls);
	check_rc(id, "enable", ipm_set_enabled(&rx.dev, 1), 0);
	nxp_mu_isr(&f.mu[B]);
	assert_int_equal(atomic_load(&r.calls), before + 1); /* delivered once, not lost, not doubled */
	assert_int_equal(r.ids[before], max_id);
	for (uint32_t k = 0; k < words; k++)
		assert_int_equal(r.words[before][k], msg[k]); /* the one that timed out, not a refused one */

	/* a group whose last RF rose before the others: not read, counted; read once complete */
	if (words > 1) {
		snprintf(id, sizeof(id), "S%u-incomplete", size);
		before = atomic_load(&r.calls);
		wr(&f, A, NXP_MU_TR(words - 1), 0xEEEE0001u);
		nxp_mu_isr(&f.mu[B]);
		assert_int_equal(atomic_load(&r.calls), before);
		assert_int_equal(nxp_mu_rx_incomplete(&f.mu[B]), 1);
		assert_true(rd(&f, B, NXP_MU_SR) & NXP_MU_SR_RFn(words - 1)); /* not consumed */
		for (uint32_t k = 0; k + 1 < words; k++)
			wr(&f, A, NXP_MU_TR(k), 0xEEEE0100u + k);
		nxp_mu_isr(&f.mu[B]);
		assert_int_equal(atomic_load(&r.calls), before + 1);
		assert_int_equal(r.ids[before], 0);
		assert_int_equal(r.words[before][0], 0xEEEE0100u);
		assert_int_equal(r.words[before][words - 1], 0xEEEE0001u);
		assert_int_equal(nxp_mu_rx_incomplete(&f.mu[B]), 1);
	}

	/* a callback registered after the message arrived gets it (the driver asks for its handler to run) */
	ipm_register_callback(&rx.dev, NULL, NULL);
	check_rc(id, "send, no callback", ipm_send(&tx.dev, 0, 0, msg, (int)size), 0);
	nxp_mu_isr(&f.mu[B]);
	before = atomic_load(&r.calls);
	int soft = atomic_load(&f.soft[B]);
	ipm_register_callback(&rx.dev, rec_cb, &r);
	assert_int_equal(atomic_load(&f.soft[B]), soft + 1);
	nxp_mu_isr(&f.mu[B]);
	assert_int_equal(atomic_load(&r.calls), before + 1);

	ipm_mbox_release(&tx.dev);
	ipm_mbox_release(&rx.dev);
	assert_int_equal(rd(&f, B, NXP_MU_CR), 0);
	dfx_close(&f);
}

static void test_ipm_4(void **state)
{
	(void)state;
	ipm_for_size(4);
}

static void test_ipm_8(void **state)
{
	(void)state;
	ipm_for_size(8);
}

static void test_ipm_16(void **state)
{
	(void)state;
	ipm_for_size(16);
}

static void test_ipm_bad_config(void **state)
{
	(void)state;
	static struct dfx f;
	dfx_open(&f);
	struct ipmdev d;
	static const uint32_t bad[] = { 0, 1, 12, 20, 32 };
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(bad); i++)
		check_rc("C01", "init with a bad data size", ipmdev_init(&d, &f.mu[A], bad[i], 0), -EINVAL);
	check_rc("C02", "init without MU", ipmdev_init(&d, NULL, 4, 0), -EINVAL);
	check_rc("C03", "set_enabled on a device that is no MU IPM device", ipm_mbox_api.set_enabled(&d.dev, 1),
		 -EINVAL);
	check_rc("C04", "max_data_size_get on it", ipm_mbox_api.max_data_size_get(&d.dev), -EINVAL);
	assert_int_equal(ipm_mbox_api.max_id_val_get(&d.dev), 0);
	dfx_close(&f);
}

/* ---- IPM and the framework never both drive one side ---- */

static void test_exclusive(void **state)
{
	(void)state;
	static struct dfx f;
	dfx_open(&f);
	struct ipmdev d1, d2;
	assert_int_equal(ipmdev_init(&d1, &f.mu[B], 4, 0), 0);
	assert_int_equal(ipmdev_init(&d2, &f.mu[B], 8, 0), 0);
	struct mbox_client cl = { 0 };
	check_rc("X01", "IPM takes the side", ipm_set_enabled(&d1.dev, 1), 0);
	check_rc("X02", "framework channel while IPM has it",
		 mbox_bind_client(&f.mu[B].chans[NXP_MU_CHAN(NXP_MU_TYPE_RX, 0)], &cl), -EBUSY);
	check_rc("X03", "a second IPM device", ipm_send(&d2.dev, 0, 0, "x", 1), -EBUSY);
	ipm_mbox_release(&d1.dev);
	check_rc("X04", "framework channel after release",
		 mbox_bind_client(&f.mu[B].chans[NXP_MU_CHAN(NXP_MU_TYPE_TX, 1)], &cl), 0);
	check_rc("X05", "IPM send while a channel is in use", ipm_send(&d1.dev, 0, 0, "x", 1), -EBUSY);
	check_rc("X06", "IPM enable while a channel is in use", ipm_set_enabled(&d2.dev, 1), -EBUSY);
	struct rec r = { 0 };
	ipm_register_callback(&d1.dev, rec_cb, &r); /* does nothing */
	mbox_free_channel(&f.mu[B].chans[NXP_MU_CHAN(NXP_MU_TYPE_TX, 1)]);
	check_rc("X07", "IPM after the channel was freed", ipm_set_enabled(&d2.dev, 1), 0);
	ipm_mbox_release(&d2.dev);
	dfx_close(&f);
}

/* ---- framework channels ---- */

struct fcl {
	struct mbox_client cl;
	atomic_int rx, done;
	uint32_t words[32];
	void *last_mssg;
	int last_r;
};

static void fcl_rx(struct mbox_client *cl, void *mssg)
{
	struct fcl *c = AMPL_CONTAINER_OF(cl, struct fcl, cl);
	int i = atomic_load(&c->rx);
	c->last_mssg = mssg;
	if (i < 32 && mssg)
		c->words[i] = *(uint32_t *)mssg;
	atomic_fetch_add(&c->rx, 1);
}

static void fcl_done(struct mbox_client *cl, void *mssg, int r)
{
	struct fcl *c = AMPL_CONTAINER_OF(cl, struct fcl, cl);
	(void)mssg;
	c->last_r = r;
	atomic_fetch_add(&c->done, 1);
}

static void fcl_init(struct fcl *c)
{
	memset(c, 0, sizeof(*c));
	c->cl.rx_callback = fcl_rx;
	c->cl.tx_done = fcl_done;
}

static struct mbox_chan *chan(struct dfx *f, int s, unsigned type, unsigned idx)
{
	return &f->mu[s].chans[NXP_MU_CHAN(type, idx)];
}

static void test_tx_rx(void **state)
{
	(void)state;
	static struct dfx f;
	dfx_open(&f);
	static const uint32_t tie[4] = { 0x00800000, 0x00400000, 0x00200000, 0x00100000 };
	static const uint32_t rie[4] = { 0x08000000, 0x04000000, 0x02000000, 0x01000000 };
	for (unsigned n = 0; n < 4; n++) {
		struct fcl tx, rx;
		fcl_init(&tx);
		fcl_init(&rx);
		assert_int_equal(mbox_bind_client(chan(&f, A, NXP_MU_TYPE_TX, n), &tx.cl), 0);
		assert_int_equal(rd(&f, A, NXP_MU_CR), 0); /* a TX channel enables nothing until it sends */
		assert_int_equal(mbox_bind_client(chan(&f, B, NXP_MU_TYPE_RX, n), &rx.cl), 0);
		assert_int_equal(rd(&f, B, NXP_MU_CR), rie[n]); /* startup: RIEn */
		uint32_t w = 0xC0DE0000u + n;
		assert_true(mbox_send_message(chan(&f, A, NXP_MU_TYPE_TX, n), &w) >= 0);
		assert_int_equal(rd(&f, A, NXP_MU_TR(n)), w);
		assert_int_equal(rd(&f, A, NXP_MU_CR), tie[n]); /* TIEn while in flight */
		assert_int_equal(rd(&f, B, NXP_MU_SR), 0x00F00000u | rie[n]);
		assert_true(mbox_client_peek_data(chan(&f, B, NXP_MU_TYPE_RX, n)));
		nxp_mu_isr(&f.mu[A]); /* TE still clear: nothing */
		assert_int_equal(atomic_load(&tx.done), 0);
		nxp_mu_isr(&f.mu[B]);
		assert_int_equal(atomic_load(&rx.rx), 1);
		assert_int_equal(rx.words[0], w);
		assert_false(mbox_client_peek_data(chan(&f, B, NXP_MU_TYPE_RX, n)));
		assert_int_equal(rd(&f, A, NXP_MU_SR), 0x00F00000u); /* TEn back */
		nxp_mu_isr(&f.mu[A]);
		assert_int_equal(atomic_load(&tx.done), 1);
		assert_int_equal(tx.last_r, 0);
		assert_int_equal(rd(&f, A, NXP_MU_CR), 0); /* TIEn cleared with the TX done */
		nxp_mu_isr(&f.mu[A]);
		assert_int_equal(atomic_load(&tx.done), 1);
		mbox_free_channel(chan(&f, B, NXP_MU_TYPE_RX, n));
		assert_int_equal(rd(&f, B, NXP_MU_CR), 0); /* shutdown: RIEn off */
		mbox_free_channel(chan(&f, A, NXP_MU_TYPE_TX, n));
	}

	/* queue: one word in flight at a time, in order */
	struct fcl tx, rx;
	fcl_init(&tx);
	fcl_init(&rx);
	assert_int_equal(mbox_bind_client(chan(&f, A, NXP_MU_TYPE_TX, 0), &tx.cl), 0);
	assert_int_equal(mbox_bind_client(chan(&f, B, NXP_MU_TYPE_RX, 0), &rx.cl), 0);
	uint32_t q[3] = { 11, 22, 33 };
	for (int i = 0; i < 3; i++)
		assert_true(mbox_send_message(chan(&f, A, NXP_MU_TYPE_TX, 0), &q[i]) >= 0);
	assert_int_equal(rd(&f, A, NXP_MU_TR(0)), 11);
	for (int i = 0; i < 3; i++) {
		nxp_mu_isr(&f.mu[B]);
		nxp_mu_isr(&f.mu[A]);
		assert_int_equal(atomic_load(&tx.done), i + 1);
	}
	assert_int_equal(atomic_load(&rx.rx), 3);
	assert_int_equal(rx.words[0], 11);
	assert_int_equal(rx.words[1], 22);
	assert_int_equal(rx.words[2], 33);

	/* a word left unread in TR0 by someone else is never overwritten: ours follows it */
	wr(&f, A, NXP_MU_TR(0), 0xDEAD);
	uint32_t w = 0x1111;
	assert_true(mbox_send_message(chan(&f, A, NXP_MU_TYPE_TX, 0), &w) >= 0);
	assert_int_equal(rd(&f, A, NXP_MU_TR(0)), 0xDEAD);
	nxp_mu_isr(&f.mu[B]);
	assert_int_equal(rx.words[3], 0xDEAD);
	nxp_mu_isr(&f.mu[A]); /* TE: our deferred word is written now, not yet done */
	assert_int_equal(rd(&f, A, NXP_MU_TR(0)), 0x1111);
	assert_int_equal(atomic_load(&tx.done), 3);
	nxp_mu_isr(&f.mu[B]);
	assert_int_equal(rx.words[4], 0x1111);
	nxp_mu_isr(&f.mu[A]);
	assert_int_equal(atomic_load(&tx.done), 4);
	assert_int_equal(tx.last_r, 0);

	/* a TX message is a pointer to the word; NULL is refused (reported to tx_done) */
	assert_true(mbox_send_message(chan(&f, A, NXP_MU_TYPE_TX, 0), NULL) >= 0);
	assert_int_equal(atomic_load(&tx.done), 5);
	assert_int_equal(tx.last_r, -EINVAL);

	/* RX channels do not send */
	assert_true(mbox_send_message(chan(&f, B, NXP_MU_TYPE_RX, 0), &w) >= 0);
	assert_int_equal(atomic_load(&rx.done), 1);
	assert_int_equal(rx.last_r, -EINVAL);

	/* a word for a channel without a client stays in RR */
	wr(&f, A, NXP_MU_TR(2), 0x2222);
	nxp_mu_isr(&f.mu[B]);
	assert_int_equal(atomic_load(&rx.rx), 5);
	assert_true(rd(&f, B, NXP_MU_SR) & NXP_MU_SR_RFn(2));
	mbox_free_channel(chan(&f, A, NXP_MU_TYPE_TX, 0));
	mbox_free_channel(chan(&f, B, NXP_MU_TYPE_RX, 0));

	/* a channel freed with a word in flight: TIE off, the message cancelled */
	fcl_init(&tx);
	assert_int_equal(mbox_bind_client(chan(&f, B, NXP_MU_TYPE_TX, 3), &tx.cl), 0);
	assert_true(mbox_send_message(chan(&f, B, NXP_MU_TYPE_TX, 3), &w) >= 0);
	assert_int_equal(rd(&f, B, NXP_MU_CR), 0x00100000u);
	mbox_free_channel(chan(&f, B, NXP_MU_TYPE_TX, 3));
	assert_int_equal(rd(&f, B, NXP_MU_CR), 0);
	assert_int_equal(tx.last_r, -ECANCELED);
	dfx_close(&f);
}

static void test_doorbells(void **state)
{
	(void)state;
	static struct dfx f;
	dfx_open(&f);
	static const uint32_t gir[4] = { 0x00080000, 0x00040000, 0x00020000, 0x00010000 };
	static const uint32_t gip[4] = { 0x80000000, 0x40000000, 0x20000000, 0x10000000 };
	for (unsigned n = 0; n < 4; n++) {
		struct fcl tx, rx;
		fcl_init(&tx);
		fcl_init(&rx);
		assert_int_equal(mbox_bind_client(chan(&f, A, NXP_MU_TYPE_TXDB, n), &tx.cl), 0);
		assert_int_equal(mbox_bind_client(chan(&f, B, NXP_MU_TYPE_RXDB, n), &rx.cl), 0);
		assert_int_equal(rd(&f, B, NXP_MU_CR), gip[n]); /* startup: GIEn (same bit as GIPn) */
		int soft = atomic_load(&f.soft[A]);
		assert_true(mbox_send_message(chan(&f, A, NXP_MU_TYPE_TXDB, n), NULL) >= 0);
		assert_int_equal(atomic_load(&f.soft[A]), soft + 1); /* asked for our handler */
		assert_int_equal(rd(&f, A, NXP_MU_CR), gir[n]);
		assert_int_equal(rd(&f, B, NXP_MU_SR), 0x00F00000u | gip[n]);
		assert_true(mbox_client_peek_data(chan(&f, B, NXP_MU_TYPE_RXDB, n)));
		assert_int_equal(atomic_load(&tx.done), 0);
		nxp_mu_isr(&f.mu[A]); /* TX done at once, whether or not the peer took it */
		assert_int_equal(atomic_load(&tx.done), 1);
		assert_int_equal(tx.last_r, 0);
		nxp_mu_isr(&f.mu[B]);
		assert_int_equal(atomic_load(&rx.rx), 1);
		assert_null(rx.last_mssg);
		assert_int_equal(rd(&f, B, NXP_MU_SR), 0x00F00000u); /* GIPn cleared (W1C) */
		assert_int_equal(rd(&f, A, NXP_MU_CR), 0);           /* so GIRn reads 0 */
		/* two rings before the peer looks are one pending doorbell */
		assert_true(mbox_send_message(chan(&f, A, NXP_MU_TYPE_TXDB, n), NULL) >= 0);
		nxp_mu_isr(&f.mu[A]);
		assert_true(mbox_send_message(chan(&f, A, NXP_MU_TYPE_TXDB, n), NULL) >= 0);
		nxp_mu_isr(&f.mu[A]);
		assert_int_equal(atomic_load(&tx.done), 3);
		nxp_mu_isr(&f.mu[B]);
		nxp_mu_isr(&f.mu[B]);
		assert_int_equal(atomic_load(&rx.rx), 2);
		mbox_free_channel(chan(&f, B, NXP_MU_TYPE_RXDB, n));
		assert_int_equal(rd(&f, B, NXP_MU_CR), 0); /* shutdown: GIEn off */
		mbox_free_channel(chan(&f, A, NXP_MU_TYPE_TXDB, n));
	}
	/* a doorbell without an RXDB client stays pending */
	struct fcl tx;
	fcl_init(&tx);
	assert_int_equal(mbox_bind_client(chan(&f, B, NXP_MU_TYPE_TXDB, 1), &tx.cl), 0);
	assert_true(mbox_send_message(chan(&f, B, NXP_MU_TYPE_TXDB, 1), NULL) >= 0);
	nxp_mu_isr(&f.mu[A]);
	assert_int_equal(rd(&f, A, NXP_MU_SR), 0x40F00000u);
	/* freeing a TXDB channel whose done is still due cancels it */
	assert_true(mbox_send_message(chan(&f, B, NXP_MU_TYPE_TXDB, 1), NULL) >= 0);
	mbox_free_channel(chan(&f, B, NXP_MU_TYPE_TXDB, 1));
	assert_int_equal(tx.last_r, -ECANCELED);
	nxp_mu_isr(&f.mu[B]);
	dfx_close(&f);
}

/* ---- an IPM device next to doorbell channels ---- */

/* IPM uses the TR/RR registers only: the doorbells (GIR/GIP) of the same side stay free for framework clients, and
 * one run of the handler serves both. */
static void test_ipm_with_doorbells(void **state)
{
	(void)state;
	static struct dfx f;
	dfx_open(&f);
	struct ipmdev tx, rx;
	check_rc("G01", "init A", ipmdev_init(&tx, &f.mu[A], 4, 20000), 0);
	check_rc("G01", "init B", ipmdev_init(&rx, &f.mu[B], 4, 20000), 0);
	struct rec r = { 0 };
	ipm_register_callback(&rx.dev, rec_cb, &r);
	check_rc("G01", "enable", ipm_set_enabled(&rx.dev, 1), 0);
	struct fcl db_tx, db_rx;
	fcl_init(&db_tx);
	fcl_init(&db_rx);
	check_rc("G02", "TX doorbell next to the IPM device", mbox_bind_client(chan(&f, A, NXP_MU_TYPE_TXDB, 2), &db_tx.cl),
		 0);
	check_rc("G02", "RX doorbell next to the IPM device", mbox_bind_client(chan(&f, B, NXP_MU_TYPE_RXDB, 2), &db_rx.cl),
		 0);
	check_rc("G03", "a word channel on the device's registers",
		 mbox_bind_client(chan(&f, B, NXP_MU_TYPE_RX, 3), &db_rx.cl), -EBUSY);
	uint32_t m[4];
	pattern(m, 4, 5);
	check_rc("G04", "IPM send", ipm_send(&tx.dev, 0, 3, m, 4), 0);
	assert_true(mbox_send_message(chan(&f, A, NXP_MU_TYPE_TXDB, 2), NULL) >= 0);
	nxp_mu_isr(&f.mu[B]);
	assert_int_equal(atomic_load(&db_rx.rx), 1);
	assert_int_equal(atomic_load(&r.calls), 1);
	assert_int_equal(r.ids[0], 3);
	assert_int_equal(r.words[0][0], m[0]);
	mbox_free_channel(chan(&f, B, NXP_MU_TYPE_RXDB, 2));
	mbox_free_channel(chan(&f, A, NXP_MU_TYPE_TXDB, 2));
	ipm_mbox_release(&tx.dev);
	ipm_mbox_release(&rx.dev);
	assert_int_equal(rd(&f, B, NXP_MU_CR), 0);
	dfx_close(&f);
}

/* ---- of_xlate: `mboxes = <&mu TYPE IDX>` ---- */

static void test_xlate(void **state)
{
	(void)state;
	static struct dfx f;
	dfx_open(&f);
	struct {
		unsigned nargs;
		uint32_t a0, a1;
		int want; /* channel index, or -EINVAL */
	} rows[] = {
		{ 2, 0, 0, 0 },       { 2, 0, 3, 3 },        { 2, 1, 0, 4 },       { 2, 1, 3, 7 },
		{ 2, 2, 1, 9 },       { 2, 3, 3, 15 },       { 2, 4, 0, -EINVAL }, { 2, 5, 0, -EINVAL },
		{ 2, 0, 4, -EINVAL }, { 2, 1, 5, -EINVAL },  { 2, UINT32_MAX, 0, -EINVAL },
		{ 2, 0, UINT32_MAX, -EINVAL }, { 1, 0, 0, -EINVAL }, { 3, 0, 0, -EINVAL }, { 0, 0, 0, -EINVAL },
	};
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(rows); i++) {
		struct mbox_spec sp = { .provider = f.node[A], .nargs = rows[i].nargs, .args = { rows[i].a0, rows[i].a1 } };
		struct mbox_consumer con = { .name = "/client", .mboxes = &sp, .num_mboxes = 1 };
		struct fcl c;
		fcl_init(&c);
		c.cl.node = &con;
		struct mbox_chan *ch = mbox_request_channel(&c.cl, 0);
		char id[16];
		snprintf(id, sizeof(id), "L%02u", i);
		if (rows[i].want < 0) {
			assert_true(AMPL_IS_ERR(ch));
			check_rc(id, "mbox_request_channel", (int)AMPL_PTR_ERR(ch), rows[i].want);
		} else {
			if (AMPL_IS_ERR(ch))
				fail_msg("[%s] mbox_request_channel: %ld", id, AMPL_PTR_ERR(ch));
			assert_ptr_equal(ch, &f.mu[A].chans[rows[i].want]);
			mbox_free_channel(ch);
		}
	}
	/* Linux's 16 channels, then the 14 group channels IPM uses (not named by devicetree: types 4 and 5 are rejected
	 * above) */
	assert_int_equal(f.mu[A].ctrl.num_chans, 16 + 14);
	assert_true(f.mu[A].ctrl.txdone_irq);
	dfx_close(&f);
}

/* ---- side A initialisation ---- */

static void dirty(struct dfx *f)
{
	for (unsigned n = 0; n < 4; n++)
		wr(f, B, NXP_MU_TR(n), 0xB0 + n); /* A: every RF */
	wr(f, B, NXP_MU_CR, 0x000F0000);          /* A: every GIP */
	wr(f, A, NXP_MU_CR, 0xFFF00005);          /* A: every enable, Fn 5 */
}

static void test_side_a_init(void **state)
{
	(void)state;
	static struct dfx f;
	dfx_open(&f);
	nxp_mu_remove(&f.mu[A]);
	dirty(&f);
	assert_int_equal(rd(&f, A, NXP_MU_SR), 0xFFF00000u);
	assert_int_equal(rd(&f, B, NXP_MU_SR), 0x00000005u);
	/* side B: nothing touched */
	struct nxp_mu mb = { .regs = f.reg[A], .side_b = true };
	assert_int_equal(nxp_mu_init(&mb, NULL), 0);
	assert_int_equal(rd(&f, A, NXP_MU_SR), 0xFFF00000u);
	assert_int_equal(rd(&f, A, NXP_MU_CR), 0xFFF00005u);
	nxp_mu_remove(&mb);
	/* no_reset: nothing touched either */
	struct nxp_mu mn = { .regs = f.reg[A], .no_reset = true };
	assert_int_equal(nxp_mu_init(&mn, NULL), 0);
	assert_int_equal(rd(&f, A, NXP_MU_CR), 0xFFF00005u);
	nxp_mu_remove(&mn);
	/* side A: CR = 0, GIP cleared, RR drained (so B's TE are back) */
	f.mu[A].no_reset = false;
	assert_int_equal(nxp_mu_init(&f.mu[A], f.node[A]), 0);
	assert_int_equal(rd(&f, A, NXP_MU_CR), 0);
	assert_int_equal(rd(&f, A, NXP_MU_SR), 0x00F00000u);
	assert_int_equal(rd(&f, B, NXP_MU_SR), 0x00F00000u);
	assert_int_equal(rd(&f, B, NXP_MU_CR), 0);
	/* flags */
	nxp_mu_flags_set(&f.mu[A], 6);
	assert_int_equal(nxp_mu_flags_get(&f.mu[B]), 6);
	assert_int_equal(rd(&f, A, NXP_MU_CR), 6);
	nxp_mu_flags_set(&f.mu[B], 0xFF);
	assert_int_equal(nxp_mu_flags_get(&f.mu[A]), 7);
	/* bad arguments */
	struct nxp_mu small = { .regs = { .size = 0x20 } };
	assert_int_equal(nxp_mu_init(&small, NULL), -EINVAL);
	assert_int_equal(nxp_mu_init(NULL, NULL), -EINVAL);
	struct nxp_mu dup = { .regs = f.reg[B], .side_b = true };
	assert_int_equal(nxp_mu_init(&dup, f.node[A]), -EEXIST);
	dfx_close(&f);
}

/* ---- the agents of an imx SoC ---- */

static void test_agents(void **state)
{
	(void)state;
	char name[64];
	snprintf(name, sizeof(name), "t-mudrv-%d-ag", (int)getpid());
	assert_int_equal(ampl_soc_create(name, &ampl_soc_imx, NULL, 0), 0);
	struct ampl_soc *soc;
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	struct ampl_agent_opts opts = { .mode = AMPL_WAIT_ADAPTIVE, .ack_timeout_us = 2000000 };
	struct ampl_agent *a, *m4;
	int ret = ampl_agent_attach(soc, "a", &opts, &a);
	if (ret)
		fail_msg("attach a: %d %s", ret, ampl_soc_last_error());
	assert_int_equal(ampl_agent_attach(soc, "m4", &opts, &m4), 0);
	/* names: the node's for the first side in this process, with ":<agent>" for the second */
	const struct ampl_device *da = ampl_device_get_binding("ipm0"), *dm = ampl_device_get_binding("ipm0:m4");
	assert_non_null(da);
	assert_non_null(dm);
	assert_string_equal(da->name, "ipm@40028000");
	assert_string_equal(dm->name, "ipm@40028000:m4");
	const struct ampl_device *ch;
	assert_int_equal(ampl_agent_channel(a, "m4", &ch), 0);
	assert_ptr_equal(ch, da);
	assert_int_equal(ampl_agent_channel(m4, "a", &ch), 0);
	assert_ptr_equal(ch, dm);
	assert_int_equal(ampl_agent_channel(a, "gpu", &ch), -EINVAL);
	assert_int_equal(ampl_agent_channel(a, "a", &ch), -ENOENT);
	assert_int_equal(ipm_max_data_size_get(da), 16);
	assert_int_equal(ipm_max_id_val_get(da), 0);

	/* IPM both ways through the interrupt threads */
	struct rec ra = { 0 }, rm = { 0 };
	ipm_register_callback(dm, rec_cb, &rm);
	assert_int_equal(ipm_set_enabled(dm, 1), 0);
	ipm_register_callback(da, rec_cb, &ra);
	assert_int_equal(ipm_set_enabled(da, 1), 0);
	uint32_t msg[4] = { 1, 2, 3, 4 };
	for (int i = 0; i < 10; i++) {
		msg[0] = (uint32_t)i;
		assert_int_equal(ipm_send(da, 1, 0, msg, 16), 0);
		assert_int_equal(ipm_send(dm, 1, 0, msg, 12), 0);
	}
	assert_true(wait_for(&rm.calls, 10));
	assert_true(wait_for(&ra.calls, 10));
	assert_int_equal(rm.words[9][0], 9);
	assert_int_equal(rm.words[9][3], 4);
	assert_int_equal(ra.words[9][3], 0); /* 12 bytes: the last word is zero */
	/* the framework controller of a side the IPM device has: -EBUSY */
	struct mbox_controller *ctrl;
	assert_int_equal(ampl_agent_mbox(a, "m4", &ctrl), 0);
	struct fcl c;
	fcl_init(&c);
	assert_int_equal(mbox_bind_client(&ctrl->chans[0], &c.cl), -EBUSY);
	ampl_agent_detach(m4);
	ampl_agent_detach(a);

	/* the framework through the agents: blocking TX (TX done by the TE interrupt) and TXDB (by soft_irq) */
	struct ampl_agent_opts nodev = { .mode = AMPL_WAIT_ADAPTIVE, .no_dt_devices = true };
	assert_int_equal(ampl_agent_attach(soc, "m4", &nodev, &m4), 0);
	assert_int_equal(ampl_agent_attach(soc, "a", &nodev, &a), 0);
	struct mbox_controller *ca, *cm;
	assert_int_equal(ampl_agent_mbox(m4, "a", &cm), 0); /* made first: registered under SOC:<path> */
	assert_int_equal(ampl_agent_mbox(a, "m4", &ca), 0);
	char want[128];
	snprintf(want, sizeof(want), "%s:/ipm@40028000", name);
	assert_string_equal(cm->node, want);
	snprintf(want, sizeof(want), "%s:/ipm@40028000:a", name);
	assert_string_equal(ca->node, want);
	struct fcl tx, rx, dbtx, dbrx;
	fcl_init(&tx);
	fcl_init(&rx);
	fcl_init(&dbtx);
	fcl_init(&dbrx);
	tx.cl.tx_block = true;
	tx.cl.tx_tout = 5000;
	dbtx.cl.tx_block = true;
	dbtx.cl.tx_tout = 5000;
	assert_int_equal(mbox_bind_client(&ca->chans[NXP_MU_CHAN(NXP_MU_TYPE_TX, 2)], &tx.cl), 0);
	assert_int_equal(mbox_bind_client(&cm->chans[NXP_MU_CHAN(NXP_MU_TYPE_RX, 2)], &rx.cl), 0);
	assert_int_equal(mbox_bind_client(&ca->chans[NXP_MU_CHAN(NXP_MU_TYPE_TXDB, 0)], &dbtx.cl), 0);
	assert_int_equal(mbox_bind_client(&cm->chans[NXP_MU_CHAN(NXP_MU_TYPE_RXDB, 0)], &dbrx.cl), 0);
	for (uint32_t i = 0; i < 100; i++) {
		uint32_t w = 0x5000 + i;
		assert_int_equal(mbox_send_message(&ca->chans[NXP_MU_CHAN(NXP_MU_TYPE_TX, 2)], &w), 0);
		assert_int_equal(mbox_send_message(&ca->chans[NXP_MU_CHAN(NXP_MU_TYPE_TXDB, 0)], NULL), 0);
	}
	assert_true(wait_for(&rx.rx, 100));
	assert_int_equal(rx.words[31], 0x5000 + 31);
	assert_true(wait_for(&dbrx.rx, 1));
	assert_int_equal(atomic_load(&tx.done), 100);
	assert_int_equal(atomic_load(&dbtx.done), 100);
	ampl_agent_detach(a);
	ampl_agent_detach(m4);
	ampl_soc_close(soc);
	ampl_soc_destroy(name);
}

/* ---- a devicetree consumer: `mboxes = <&mu TYPE IDX>` resolved through the agent's controller ---- */

static void test_dt_consumer(void **state)
{
	(void)state;
	char dts[128], name[64];
	snprintf(dts, sizeof(dts), "/tmp/t-mudrv-%d.dts", (int)getpid());
	FILE *out = fopen(dts, "w");
	assert_non_null(out);
	fputs("/dts-v1/;\n/ {\n\t#address-cells = <1>;\n\t#size-cells = <1>;\n"
	      "\tmu: mailbox@30aa0000 { compatible = \"fsl,imx6sx-mu\"; reg = <0x30aa0000 0x10000>;"
	      " interrupts = <88>; #mbox-cells = <2>; };\n"
	      "\tclient { mboxes = <&mu 0 1>, <&mu 1 1>, <&mu 3 2>, <&mu 4 0>;"
	      " mbox-names = \"tx\", \"rx\", \"db\", \"rst\"; };\n};\n",
	      out);
	fclose(out);
	void *dtb;
	size_t size;
	struct ampl_dt_diag diag;
	int ret = ampl_dt_read_file(dts, &dtb, &size, &diag);
	unlink(dts);
	if (ret)
		fail_msg("ampl_dt_read_file: %d %s", ret, diag.msg);
	snprintf(name, sizeof(name), "t-mudrv-%d-dt", (int)getpid());
	assert_int_equal(ampl_soc_create(name, &ampl_soc_imx, dtb, size), 0);
	free(dtb);
	struct ampl_soc *soc;
	struct ampl_agent *a;
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	struct ampl_agent_opts opts = { .mode = AMPL_WAIT_ADAPTIVE };
	assert_int_equal(ampl_agent_attach(soc, "a", &opts, &a), 0);
	assert_non_null(ampl_device_get_binding("mailbox@30aa0000")); /* no alias: the node label is the label */
	assert_non_null(ampl_device_get_by_label("mu"));
	struct mbox_controller *ctrl;
	assert_int_equal(ampl_agent_mbox(a, "m4", &ctrl), 0);
	const struct mbox_consumer *con;
	assert_int_equal(ampl_agent_mbox_consumer(a, "client", &con), 0);
	struct fcl c;
	fcl_init(&c);
	c.cl.node = con;
	static const struct {
		const char *name;
		int chan;
	} want[] = { { "tx", 1 }, { "rx", 5 }, { "db", 14 }, { "rst", -EINVAL } };
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(want); i++) {
		struct mbox_chan *ch = mbox_request_channel_byname(&c.cl, want[i].name);
		if (want[i].chan < 0) {
			assert_true(AMPL_IS_ERR(ch));
			assert_int_equal(AMPL_PTR_ERR(ch), want[i].chan);
		} else {
			assert_false(AMPL_IS_ERR(ch));
			assert_ptr_equal(ch, &ctrl->chans[want[i].chan]);
		}
	}
	ampl_agent_detach(a);
	ampl_soc_close(soc);
	ampl_soc_destroy(name);
}

/* ---- two processes: 100,000 words with sequence numbers ---- */

#define XWORDS 100000u

struct xstate {
	atomic_uint next;
	atomic_uint bad;
	atomic_int finished;
	struct mbox_chan *report;
	uint32_t report_word;
};

static struct xstate xs;

static void x_rx(struct mbox_client *cl, void *mssg)
{
	(void)cl;
	uint32_t w = *(uint32_t *)mssg;
	unsigned n = atomic_load(&xs.next);
	if (w != n)
		atomic_fetch_add(&xs.bad, 1);
	atomic_store(&xs.next, n + 1);
	if (n + 1 == XWORDS) {
		/* the last one: report back from the interrupt context (non-blocking send) */
		xs.report_word = 0xF1000000u | atomic_load(&xs.bad);
		mbox_send_message(xs.report, &xs.report_word);
	}
}

static void x_report_done(struct mbox_client *cl, void *mssg, int r)
{
	(void)cl;
	(void)mssg;
	atomic_store(&xs.finished, r == 0 ? 1 : -1);
}

static int x_child(const char *soc_name)
{
	alarm(120);
	struct ampl_soc *soc;
	struct ampl_agent *m4;
	struct mbox_controller *ctrl;
	struct ampl_agent_opts opts = { .mode = AMPL_WAIT_ADAPTIVE, .no_dt_devices = true };
	if (ampl_soc_open(soc_name, &soc) || ampl_agent_attach(soc, "m4", &opts, &m4) ||
	    ampl_agent_mbox(m4, "a", &ctrl))
		return 10;
	static struct mbox_client rx = { .rx_callback = x_rx }, tx = { .tx_done = x_report_done };
	xs.report = &ctrl->chans[NXP_MU_CHAN(NXP_MU_TYPE_TX, 1)];
	if (mbox_bind_client(xs.report, &tx) || mbox_bind_client(&ctrl->chans[NXP_MU_CHAN(NXP_MU_TYPE_RX, 0)], &rx))
		return 11;
	while (!atomic_load(&xs.finished))
		usleep(1000);
	int code = atomic_load(&xs.finished) == 1 && atomic_load(&xs.bad) == 0 && atomic_load(&xs.next) == XWORDS ? 0
														      : 12;
	ampl_agent_detach(m4);
	ampl_soc_close(soc);
	return code;
}

static atomic_int report_got;
static uint32_t report_word;

static void p_rx(struct mbox_client *cl, void *mssg)
{
	(void)cl;
	report_word = *(uint32_t *)mssg;
	atomic_store(&report_got, 1);
}

static void test_two_processes(void **state)
{
	(void)state;
	char name[64];
	snprintf(name, sizeof(name), "t-mudrv-%d-2p", (int)getpid());
	assert_int_equal(ampl_soc_create(name, &ampl_soc_imx, NULL, 0), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(x_child(name));
	struct ampl_soc *soc;
	struct ampl_agent *a;
	struct mbox_controller *ctrl;
	struct ampl_agent_opts opts = { .mode = AMPL_WAIT_ADAPTIVE, .no_dt_devices = true };
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	assert_int_equal(ampl_agent_attach(soc, "a", &opts, &a), 0);
	assert_int_equal(ampl_agent_mbox(a, "m4", &ctrl), 0);
	struct mbox_client tx = { .tx_block = true, .tx_tout = 10000 }, rx = { .rx_callback = p_rx };
	assert_int_equal(mbox_bind_client(&ctrl->chans[NXP_MU_CHAN(NXP_MU_TYPE_TX, 0)], &tx), 0);
	assert_int_equal(mbox_bind_client(&ctrl->chans[NXP_MU_CHAN(NXP_MU_TYPE_RX, 1)], &rx), 0);
	/* The child may attach after our first words: they wait in TR0 (RF set, no RIE yet) and are read once it
	 * enables RX0; nothing is lost. */
	for (uint32_t i = 0; i < XWORDS; i++) {
		int r = mbox_send_message(&ctrl->chans[NXP_MU_CHAN(NXP_MU_TYPE_TX, 0)], &i);
		if (r)
			fail_msg("word %u: %d (%s)", i, r, ampl_errname(r));
	}
	atomic_int *got = &report_got;
	assert_true(wait_for(got, 1));
	assert_int_equal(report_word, 0xF1000000u); /* 0 words out of order */
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	ampl_agent_detach(a);
	ampl_soc_close(soc);
	ampl_soc_destroy(name);
}

/* ---- concurrent senders on one IPM device ---- */

/* Four threads send 16-byte messages through side A's device at once (two with wait) while a thread runs side B's
 * handler and checks every message (tests/unit/ipm_concurrent.h). */
static struct ipmc mu_conc;

static void test_ipm_concurrent(void **state)
{
	(void)state;
	static struct dfx f;
	dfx_open(&f);
	struct ipmdev tx, rx;
	check_rc("K01", "init A", ipmdev_init(&tx, &f.mu[A], 16, 2000000), 0);
	check_rc("K01", "init B", ipmdev_init(&rx, &f.mu[B], 16, 2000000), 0);
	memset(&mu_conc, 0, sizeof(mu_conc));
	mu_conc.tx = &tx.dev;
	mu_conc.size = 16;
	mu_conc.ack_after_callback = false; /* the handler reads the registers (the ack) before the callback */
	mu_conc.target = 1500;
	mu_conc.deadline_ms = 20000;
	ipm_register_callback(&rx.dev, ipmc_rx_cb, &mu_conc);
	check_rc("K01", "enable", ipm_set_enabled(&rx.dev, 1), 0);
	struct isr_loop loop;
	isr_loop_start(&loop, &f.mu[B]);
	ipmc_run(&mu_conc, "K02 mu 16 bytes", NULL, NULL);
	isr_loop_stop(&loop);
	ipm_mbox_release(&tx.dev);
	ipm_mbox_release(&rx.dev);
	dfx_close(&f);
}

/*
 * A sender with wait whose message the receiver read, and that another sender replaced before the first looked:
 * the first must still answer 0 (its message was consumed), not wait for the second one. Deterministic: side A's
 * register accessors hold the waiting thread at its first register wait (as if it were preempted right after
 * writing) until the test has had the message read and the second one written.
 */
static const struct ampl_io_ops *gate_orig;
static _Thread_local bool gate_mine;
static atomic_int gate_state; /* 0 off, 1 armed, 2 holding the sender, 3 open */

static uint32_t gate_read32(const struct ampl_io_region *io, uint32_t off)
{
	return gate_orig->read32(io, off);
}

static void gate_write32(const struct ampl_io_region *io, uint32_t off, uint32_t val)
{
	gate_orig->write32(io, off, val);
}

static int gate_wait32(const struct ampl_io_region *io, uint32_t off, uint32_t mask, uint32_t expect,
		       uint32_t timeout_us)
{
	int armed = 1;
	if (gate_mine && atomic_compare_exchange_strong(&gate_state, &armed, 2)) {
		uint64_t end = now_ms() + 10000;
		while (atomic_load(&gate_state) != 3 && now_ms() < end)
			usleep(100);
	}
	return gate_orig->wait32(io, off, mask, expect, timeout_us);
}

static const struct ampl_io_ops gate_ops = { .read32 = gate_read32, .write32 = gate_write32, .wait32 = gate_wait32 };

struct gated_send {
	const struct ampl_device *dev;
	uint32_t msg[4];
	int rc;
};

static void *gated_send_main(void *arg)
{
	struct gated_send *g = arg;
	gate_mine = true;
	g->rc = ipm_send(g->dev, 1, 0, g->msg, 16);
	return NULL;
}

static void test_ipm_wait_replaced(void **state)
{
	(void)state;
	static struct dfx f;
	dfx_open(&f);
	struct ipmdev tx, rx;
	check_rc("W01", "init A", ipmdev_init(&tx, &f.mu[A], 16, 20000), 0);
	check_rc("W01", "init B", ipmdev_init(&rx, &f.mu[B], 16, 20000), 0);
	struct rec r = { 0 };
	ipm_register_callback(&rx.dev, rec_cb, &r);
	check_rc("W01", "enable", ipm_set_enabled(&rx.dev, 1), 0);
	gate_orig = f.mu[A].regs.ops;
	assert_non_null(gate_orig);
	assert_non_null(gate_orig->wait32);
	f.mu[A].regs.ops = &gate_ops;
	atomic_store(&gate_state, 1);

	struct gated_send g = { .dev = &tx.dev, .rc = 1 };
	pattern(g.msg, 4, 41);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, gated_send_main, &g), 0);
	uint64_t end = now_ms() + 5000;
	while (atomic_load(&gate_state) != 2 && now_ms() < end)
		usleep(100);
	if (atomic_load(&gate_state) != 2) {
		atomic_store(&gate_state, 3);
		pthread_join(t, NULL);
		fail_msg("[W01] the sender with wait never waited for its message (returned %d)", g.rc);
	}
	/* The receiver reads the first message; a second sender fills the group again. */
	nxp_mu_isr(&f.mu[B]);
	assert_int_equal(atomic_load(&r.calls), 1);
	assert_memory_equal(r.words[0], g.msg, 16);
	uint32_t m2[4];
	pattern(m2, 4, 42);
	check_rc("W02", "second sender, no wait, into the emptied group", ipm_send(&tx.dev, 0, 0, m2, 16), 0);
	atomic_store(&gate_state, 3);
	pthread_join(t, NULL);
	f.mu[A].regs.ops = gate_orig;
	check_rc("W03", "first sender (wait): its message was read before the second was written", g.rc, 0);
	nxp_mu_isr(&f.mu[B]);
	assert_int_equal(atomic_load(&r.calls), 2);
	assert_memory_equal(r.words[1], m2, 16);
	ipm_mbox_release(&tx.dev);
	ipm_mbox_release(&rx.dev);
	dfx_close(&f);
}

static int teardown(void **state)
{
	(void)state;
	if (live)
		dfx_close(live);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_ipm_4, teardown),
		cmocka_unit_test_teardown(test_ipm_8, teardown),
		cmocka_unit_test_teardown(test_ipm_16, teardown),
		cmocka_unit_test_teardown(test_ipm_bad_config, teardown),
		cmocka_unit_test_teardown(test_ipm_concurrent, teardown),
		cmocka_unit_test_teardown(test_ipm_wait_replaced, teardown),
		cmocka_unit_test_teardown(test_exclusive, teardown),
		cmocka_unit_test_teardown(test_ipm_with_doorbells, teardown),
		cmocka_unit_test_teardown(test_tx_rx, teardown),
		cmocka_unit_test_teardown(test_doorbells, teardown),
		cmocka_unit_test_teardown(test_xlate, teardown),
		cmocka_unit_test_teardown(test_side_a_init, teardown),
		cmocka_unit_test_teardown(test_agents, teardown),
		cmocka_unit_test_teardown(test_dt_consumer, teardown),
		cmocka_unit_test_teardown(test_two_processes, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
