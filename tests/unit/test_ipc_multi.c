/*
 * The multi-endpoint zero-copy backend on the virtual SoC (APU <-> RPU1, each agent with its interrupt thread):
 * binding by name in both registration orders, every zero-copy return code, traffic on several endpoints at once,
 * block exhaustion and bounded waits, hold/release across threads, deregistration, corrupt control messages, and
 * the session handshake (since wire version 2): either side closing and reopening or its process exiting and a new one
 * attaching while the other stays open (unbound, rebind by name, traffic with self-checking payloads and nothing
 * from before delivered after), blocks in flight reclaimed, 20 restarts during traffic, and the transport's
 * offline/online events.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "churn.h"
#include "ipc_side.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <amplink/ipc/ipc_multi.h>

#if !AMPL_IPC_MULTI_ZERO_COPY
#pragma GCC diagnostic ignored "-Wunused-function" /* the zero-copy tests, left out of this build */
#endif
#include <amplink/ipc_service.h>
#include <amplink/mailbox_controller.h>
#include <amplink/host/dt.h>
#include <amplink/host/soc.h>

#include "board_variant.h"

#include "one_backend.h"

static unsigned soc_counter;

struct env {
	char name[64];
	struct ampl_soc *soc;
	struct ampl_agent *apu, *rpu1;
	const struct ampl_device *da, *dr; /* APU (follower: its rx region is higher) and RPU1 (initiator) */
};

/* Both agents with an interrupt thread, or RPU1 without one (@rpu1_polled: its interrupts and its polled instance
 * run in the test's thread, ampl_agent_poll()). */
/* The default board, with `inline-max` @apu on the APU's instance and @rpu1 on RPU1's (board_variant.h). */
static void env_up_board(struct env *e, bool rpu1_polled, uint32_t apu_inline, uint32_t rpu1_inline)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "t-multi-%d-%u", (int)getpid(), soc_counter++);
	int ret = board_create_multi_inline(e->name, apu_inline, rpu1_inline);
	if (ret)
		fail_msg("ampl_soc_create: %d %s", ret, ampl_soc_last_error());
	assert_int_equal(ampl_soc_open(e->name, &e->soc), 0);
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	assert_int_equal(ampl_agent_attach(e->soc, "apu", &o, &e->apu), 0);
	o.no_irq_thread = rpu1_polled;
	assert_int_equal(ampl_agent_attach(e->soc, "rpu1", &o, &e->rpu1), 0);
	ret = ampl_agent_ipc_instance(e->apu, "ipc_multi_apu", &e->da);
	if (ret)
		fail_msg("ipc instance apu: %d %s", ret, ampl_soc_last_error());
	assert_int_equal(ampl_agent_ipc_instance(e->rpu1, "ipc_multi_rpu1", &e->dr), 0);
	assert_int_equal(ipc_service_open_instance(e->da), 0);
	assert_int_equal(ipc_service_open_instance(e->dr), 0);
	assert_int_equal(ipc_service_open_instance(e->dr), -EALREADY);
}

static void env_up_as(struct env *e, bool rpu1_polled)
{
	env_up_board(e, rpu1_polled, 0, 0);
}

static void env_up(struct env *e)
{
	env_up_as(e, false);
}

static void env_up_inline(struct env *e, uint32_t apu, uint32_t rpu1)
{
	env_up_board(e, false, apu, rpu1);
}

static void env_down(struct env *e)
{
	ampl_agent_detach(e->rpu1);
	ampl_agent_detach(e->apu);
	ampl_soc_close(e->soc);
	ampl_soc_destroy(e->name);
}

/* ---- endpoints ---- */

#define MAX_HELD 64

struct side {
	IPC_SIDE_EVENTS;
	struct ipc_ept ept;
	struct ipc_ept_cfg cfg;
	char name[16];
	_Atomic int received, bad;
	_Atomic uint32_t next_seq;
	_Atomic int hold_mode;   /* 1: hold every buffer and queue it for another thread */
	_Atomic int hold_ret[2]; /* results of hold and of a second hold */
	void *_Atomic held[MAX_HELD];
	_Atomic int nheld;
};

static void cb_received(const void *data, size_t len, void *priv)
{
	struct side *s = priv;
	const uint8_t *p = data;
	if (len >= 8) {
		uint32_t seq, sum;
		memcpy(&seq, p, 4);
		memcpy(&sum, p + 4, 4);
		if (seq != atomic_load(&s->next_seq) || sum != csum(p + 8, len - 8))
			atomic_fetch_add(&s->bad, 1);
		atomic_store(&s->next_seq, seq + 1);
	}
	if (atomic_load(&s->hold_mode)) {
		atomic_store(&s->hold_ret[0], ipc_service_hold_rx_buffer(&s->ept, (void *)data));
		atomic_store(&s->hold_ret[1], ipc_service_hold_rx_buffer(&s->ept, (void *)data));
		int n = atomic_load(&s->nheld);
		if (n < MAX_HELD) {
			atomic_store(&s->held[n], (void *)data);
			atomic_store(&s->nheld, n + 1);
		}
	}
	atomic_fetch_add(&s->received, 1);
}

static void side_init(struct side *s, const char *name)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->cfg = (struct ipc_ept_cfg){ .name = s->name,
				       .cb = { .bound = cb_bound,
					       .unbound = cb_unbound,
					       .received = cb_received,
					       .error = cb_error },
				       .priv = s };
}

static size_t make_msg(uint8_t *buf, uint32_t seq, size_t len)
{
	if (len < 8)
		len = 8;
	for (size_t i = 8; i < len; i++)
		buf[i] = (uint8_t)(seq * 31u + i);
	uint32_t sum = csum(buf + 8, len - 8);
	memcpy(buf, &seq, 4);
	memcpy(buf + 4, &sum, 4);
	return len;
}

static void reg(const struct ampl_device *dev, struct side *s)
{
	assert_int_equal(ipc_service_register_endpoint(dev, &s->ept, &s->cfg), 0);
}

/* ---- binding ---- */

static void bind_order(bool initiator_first)
{
	struct env e;
	env_up(&e);
	static const char *names[] = { "alpha", "beta", "gamma", "delta", "epsilon" };
	struct side a[5], r[5];
	for (int i = 0; i < 5; i++) {
		side_init(&a[i], names[i]);
		side_init(&r[i], names[4 - i]); /* a different registration order on each side */
	}
	for (int i = 0; i < 5; i++)
		reg(initiator_first ? e.dr : e.da, initiator_first ? &r[i] : &a[i]);
	usleep(20000);
	for (int i = 0; i < 5; i++)
		reg(initiator_first ? e.da : e.dr, initiator_first ? &a[i] : &r[i]);
	for (int i = 0; i < 5; i++) {
		assert_true(wait_for(&a[i].bound, 1));
		assert_true(wait_for(&r[i].bound, 1));
	}
	/* each name reaches its namesake */
	for (int i = 0; i < 5; i++) {
		uint8_t buf[32];
		size_t n = make_msg(buf, 0, 24);
		assert_int_equal(ipc_service_send(&a[i].ept, buf, n), (int)n);
		assert_true(wait_for(&r[4 - i].received, 1));
		assert_int_equal(r[4 - i].bad, 0);
	}
	/* a duplicate name, and a full table */
	struct side dup;
	side_init(&dup, "alpha");
	assert_int_equal(ipc_service_register_endpoint(e.da, &dup.ept, &dup.cfg), -EALREADY);
	static struct side extra[IPC_MULTI_MAX_EPT];
	int ok = 0, busy = 0;
	for (int i = 0; i < IPC_MULTI_MAX_EPT; i++) {
		char nm[16];
		snprintf(nm, sizeof(nm), "x%d", i);
		side_init(&extra[i], nm);
		int ret = ipc_service_register_endpoint(e.da, &extra[i].ept, &extra[i].cfg);
		ok += ret == 0;
		busy += ret == -EBUSY;
	}
	assert_int_equal(ok, IPC_MULTI_MAX_EPT - 5);
	assert_int_equal(busy, 5);
	assert_int_equal(ipc_multi_errors(e.da), 0);
	assert_int_equal(ipc_multi_errors(e.dr), 0);
	env_down(&e);
}

static void test_bind_initiator_first(void **state)
{
	(void)state;
	bind_order(true);
}

static void test_bind_follower_first(void **state)
{
	(void)state;
	bind_order(false);
}

/* ---- every zero-copy return code ---- */

struct zc_ctx {
	struct env e;
	struct side a, r, other;
	void *buf, *buf2;
	uint32_t size;
};

typedef int (*zc_step)(struct zc_ctx *c);

static int z_get_max(struct zc_ctx *c)
{
	c->size = 0;
	int r = ipc_service_get_tx_buffer(&c->a.ept, &c->buf, &c->size, AMPL_NO_WAIT);
	assert_int_equal(c->size, (uint32_t)ipc_service_get_tx_buffer_size(&c->a.ept));
	return r;
}
static int z_get_small(struct zc_ctx *c)
{
	c->size = 10;
	int r = ipc_service_get_tx_buffer(&c->a.ept, &c->buf, &c->size, AMPL_NO_WAIT);
	assert_true(r || c->size >= 10);
	return r;
}
static int z_get_again(struct zc_ctx *c)
{
	uint32_t sz = 10;
	return ipc_service_get_tx_buffer(&c->a.ept, &c->buf2, &sz, AMPL_NO_WAIT);
}
static int z_get_too_big(struct zc_ctx *c)
{
	uint32_t max = (uint32_t)ipc_service_get_tx_buffer_size(&c->a.ept);
	c->size = max + 1;
	int r = ipc_service_get_tx_buffer(&c->a.ept, &c->buf2, &c->size, AMPL_NO_WAIT);
	assert_int_equal(c->size, max);
	return r;
}
static int z_drop(struct zc_ctx *c)
{
	return ipc_service_drop_tx_buffer(&c->a.ept, c->buf);
}
static int z_drop_foreign(struct zc_ctx *c)
{
	static uint8_t mine[16];
	return ipc_service_drop_tx_buffer(&c->a.ept, mine);
}
static int z_drop_inside(struct zc_ctx *c)
{
	return ipc_service_drop_tx_buffer(&c->a.ept, (uint8_t *)c->buf + 4);
}
static int z_drop_other_ept(struct zc_ctx *c)
{
	return ipc_service_drop_tx_buffer(&c->other.ept, c->buf);
}
/* Waits for the delivery, so that later rows count only their own messages. */
static int z_send(struct zc_ctx *c)
{
	memset(c->buf, 0x5a, 10);
	int before = atomic_load(&c->r.received);
	int r = ipc_service_send_nocopy(&c->a.ept, c->buf, 10);
	if (r > 0)
		assert_true(wait_for(&c->r.received, before + 1));
	return r;
}
/* The buffer is not ours any more: send it again without touching it. */
static int z_send_again(struct zc_ctx *c)
{
	return ipc_service_send_nocopy(&c->a.ept, c->buf, 10);
}
static int z_send_zero(struct zc_ctx *c)
{
	return ipc_service_send_nocopy(&c->a.ept, c->buf, 0);
}
static int z_send_too_long(struct zc_ctx *c)
{
	return ipc_service_send_nocopy(&c->a.ept, c->buf, (size_t)c->size + 1);
}
static int z_send_foreign(struct zc_ctx *c)
{
	static uint8_t mine[16];
	return ipc_service_send_nocopy(&c->a.ept, mine, 4);
}
static int z_release_foreign(struct zc_ctx *c)
{
	static uint8_t mine[16];
	return ipc_service_release_rx_buffer(&c->r.ept, mine);
}
static int z_hold_outside(struct zc_ctx *c)
{
	/* a buffer the peer sent and that was delivered (not held): outside received() */
	atomic_store(&c->r.hold_mode, 0);
	int before = atomic_load(&c->r.received);
	uint8_t m[16] = { 1 };
	assert_int_equal(ipc_service_send(&c->a.ept, m, sizeof(m)), (int)sizeof(m));
	assert_true(wait_for(&c->r.received, before + 1));
	void *p = (uint8_t *)c->buf; /* the TX buffer pointer is not an rx buffer of r either */
	return ipc_service_hold_rx_buffer(&c->r.ept, p);
}
static int z_hold_in_cb(struct zc_ctx *c)
{
	atomic_store(&c->r.hold_mode, 1);
	atomic_store(&c->r.nheld, 0);
	int before = atomic_load(&c->r.received);
	uint8_t m[16] = { 2 };
	assert_int_equal(ipc_service_send(&c->a.ept, m, sizeof(m)), (int)sizeof(m));
	assert_true(wait_for(&c->r.received, before + 1));
	atomic_store(&c->r.hold_mode, 0);
	assert_int_equal(atomic_load(&c->r.nheld), 1); /* exactly this message was held */
	return atomic_load(&c->r.hold_ret[0]);
}
static int z_hold_twice_in_cb(struct zc_ctx *c)
{
	return atomic_load(&c->r.hold_ret[1]);
}
static int z_hold_again_later(struct zc_ctx *c)
{
	return ipc_service_hold_rx_buffer(&c->r.ept, atomic_load(&c->r.held[0]));
}
static int z_release_other_ept(struct zc_ctx *c)
{
	return ipc_service_release_rx_buffer(&c->other.ept, atomic_load(&c->r.held[0]));
}
static int z_release(struct zc_ctx *c)
{
	return ipc_service_release_rx_buffer(&c->r.ept, atomic_load(&c->r.held[0]));
}
static int z_send_unregistered(struct zc_ctx *c)
{
	struct ipc_ept none = { 0 };
	(void)c;
	return ipc_service_send_nocopy(&none, c->buf, 4);
}

struct zc_row {
	const char *id;
	zc_step step;
	int want;
};

static const struct zc_row zc_rows[] = {
	{ "Z01 get *size=0 -> largest", z_get_max, 0 },
	{ "Z02 get again, one unsent buffer per endpoint", z_get_again, -EALREADY },
	{ "Z03 drop a pointer inside the buffer", z_drop_inside, -ENXIO },
	{ "Z04 drop through another endpoint", z_drop_other_ept, -ENXIO },
	{ "Z05 drop", z_drop, 0 },
	{ "Z06 drop again", z_drop, -EALREADY },
	{ "Z07 send_nocopy a dropped buffer", z_send_again, -ENXIO },
	{ "Z08 drop a foreign pointer", z_drop_foreign, -ENXIO },
	{ "Z09 get too big: *size = largest", z_get_too_big, -ENOMEM },
	{ "Z10 get 10 bytes", z_get_small, 0 },
	{ "Z11 send_nocopy 0 bytes", z_send_zero, -EBADMSG },
	{ "Z12 send_nocopy more than obtained", z_send_too_long, -EBADMSG },
	{ "Z13 send_nocopy a foreign pointer", z_send_foreign, -ENXIO },
	{ "Z14 send_nocopy", z_send, 10 },
	{ "Z15 send_nocopy again (the backend's now)", z_send_again, -ENXIO },
	{ "Z16 drop after send", z_drop, -ENXIO },
	{ "Z17 send_nocopy on no endpoint", z_send_unregistered, -ENOENT },
	{ "Z18 release a foreign pointer", z_release_foreign, -ENXIO },
	{ "Z19 hold outside received()", z_hold_outside, -EINVAL },
	{ "Z20 hold inside received()", z_hold_in_cb, 0 },
	{ "Z21 hold twice inside received()", z_hold_twice_in_cb, -EALREADY },
	{ "Z22 hold a held buffer later", z_hold_again_later, -EALREADY },
	{ "Z23 release through another endpoint", z_release_other_ept, -ENXIO },
	{ "Z24 release", z_release, 0 },
	{ "Z25 release again", z_release, -ENXIO },
};

/*
 * A build with AMPL_IPC_MULTI_ZERO_COPY 0 (test_ipc_multi_copy): the IPC service answers -EIO for every zero-copy
 * call (the backend has none), and the copying send still reaches the peer.
 */
static void test_zero_copy_compiled_out(void **state)
{
	(void)state;
	struct zc_ctx *c = calloc(1, sizeof(*c));
	env_up(&c->e);
	side_init(&c->a, "zc");
	side_init(&c->r, "zc");
	reg(c->e.da, &c->a);
	reg(c->e.dr, &c->r);
	assert_true(wait_for(&c->a.bound, 1));
	assert_true(wait_for(&c->r.bound, 1));
	void *buf = NULL;
	uint32_t size = 64;
	int got = ipc_service_get_tx_buffer(&c->a.ept, &buf, &size, AMPL_NO_WAIT);
	if (AMPL_IPC_MULTI_ZERO_COPY) {
		assert_int_equal(got, 0);
		assert_int_equal(ipc_service_drop_tx_buffer(&c->a.ept, buf), 0);
	} else {
		assert_int_equal(got, -EIO);
		assert_int_equal(ipc_service_drop_tx_buffer(&c->a.ept, &size), -EIO);
		assert_int_equal(ipc_service_send_nocopy(&c->a.ept, &size, 4), -EIO);
		assert_int_equal(ipc_service_hold_rx_buffer(&c->a.ept, &size), -EIO);
		assert_int_equal(ipc_service_release_rx_buffer(&c->a.ept, &size), -EIO);
	}
	assert_int_equal(ipc_service_send(&c->a.ept, "copied", 6), 6);
	for (int i = 0; i < 5000 && !atomic_load(&c->r.received); i++)
		usleep(1000);
	assert_true(atomic_load(&c->r.received) >= 1);
	env_down(&c->e);
	free(c);
}

static void test_zero_copy_codes(void **state)
{
	(void)state;
	struct zc_ctx *c = calloc(1, sizeof(*c));
	env_up(&c->e);
	side_init(&c->a, "zc");
	side_init(&c->r, "zc");
	side_init(&c->other, "other");
	reg(c->e.da, &c->a);
	reg(c->e.da, &c->other);
	reg(c->e.dr, &c->r);
	assert_true(wait_for(&c->a.bound, 1));
	assert_true(wait_for(&c->r.bound, 1));
	int free0 = ipc_multi_free_blocks(c->e.da);
	for (size_t i = 0; i < AMPL_ARRAY_SIZE(zc_rows); i++) {
		int got = zc_rows[i].step(c);
		printf("  %-52s want %4d got %4d\n", zc_rows[i].id, zc_rows[i].want, got);
		if (got != zc_rows[i].want)
			fail_msg("%s: want %d, got %d", zc_rows[i].id, zc_rows[i].want, got);
	}
	/* every block came back */
	for (int i = 0; i < 5000 && ipc_multi_free_blocks(c->e.da) != free0; i++)
		usleep(1000);
	assert_int_equal(ipc_multi_free_blocks(c->e.da), free0);
	assert_int_equal(ipc_multi_errors(c->e.da), 0);
	assert_int_equal(ipc_multi_errors(c->e.dr), 0);
	env_down(&c->e);
	free(c);
}

/* ---- traffic on several endpoints at once ---- */

#define NEPT 4
#define NMSG 3000

struct tx_arg {
	struct side *s;
	bool nocopy;
	int sent;
};

static void *tx_thread(void *p)
{
	struct tx_arg *t = p;
	uint8_t buf[600];
	for (uint32_t seq = 0; seq < NMSG;) {
		size_t len = 8 + (seq * 37u) % 500u;
		int r;
		if (t->nocopy) {
			void *b;
			uint32_t sz = (uint32_t)len;
			r = ipc_service_get_tx_buffer(&t->s->ept, &b, &sz, AMPL_MSEC(100));
			if (r == -ENOBUFS)
				continue;
			assert_int_equal(r, 0);
			make_msg(b, seq, len);
			r = ipc_service_send_nocopy(&t->s->ept, b, len);
			if (r < 0)
				assert_int_equal(ipc_service_drop_tx_buffer(&t->s->ept, b), 0);
		} else {
			make_msg(buf, seq, len);
			r = ipc_service_send(&t->s->ept, buf, len);
		}
		if (r == -ENOMEM || r == -EBUSY) {
			usleep(50);
			continue;
		}
		assert_int_equal(r, (int)len);
		seq++;
		t->sent++;
	}
	return NULL;
}

static void test_traffic(void **state)
{
	(void)state;
	struct env e;
	env_up(&e);
	static struct side a[NEPT], r[NEPT];
	for (int i = 0; i < NEPT; i++) {
		char nm[16];
		snprintf(nm, sizeof(nm), "ch%d", i);
		side_init(&a[i], nm);
		side_init(&r[i], nm);
		reg(e.da, &a[i]);
		reg(e.dr, &r[i]);
	}
	for (int i = 0; i < NEPT; i++) {
		assert_true(wait_for(&a[i].bound, 1));
		assert_true(wait_for(&r[i].bound, 1));
	}
	pthread_t th[2 * NEPT];
	struct tx_arg args[2 * NEPT];
	for (int i = 0; i < NEPT; i++) {
		args[2 * i] = (struct tx_arg){ .s = &a[i], .nocopy = i % 2 };
		args[2 * i + 1] = (struct tx_arg){ .s = &r[i], .nocopy = !(i % 2) };
		pthread_create(&th[2 * i], NULL, tx_thread, &args[2 * i]);
		pthread_create(&th[2 * i + 1], NULL, tx_thread, &args[2 * i + 1]);
	}
	for (int i = 0; i < 2 * NEPT; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NEPT; i++) {
		assert_true(wait_for(&a[i].received, NMSG));
		assert_true(wait_for(&r[i].received, NMSG));
		assert_int_equal(a[i].received, NMSG);
		assert_int_equal(r[i].received, NMSG);
		assert_int_equal(a[i].bad, 0);
		assert_int_equal(r[i].bad, 0);
	}
	assert_int_equal(ipc_multi_errors(e.da), 0);
	assert_int_equal(ipc_multi_errors(e.dr), 0);
	env_down(&e);
}

/* ---- exhaustion, bounded waits, hold/release across threads ---- */

struct rel_arg {
	struct side *s;
	int delay_ms;
	int released;
};

static void *release_later(void *p)
{
	struct rel_arg *ra = p;
	usleep((useconds_t)ra->delay_ms * 1000u);
	int n = atomic_load(&ra->s->nheld);
	for (int i = 0; i < n; i++)
		if (!ipc_service_release_rx_buffer(&ra->s->ept, atomic_load(&ra->s->held[i])))
			ra->released++;
	return NULL;
}

static void test_exhaustion(void **state)
{
	(void)state;
	struct env e;
	env_up(&e);
	struct side a, r;
	side_init(&a, "ex");
	side_init(&r, "ex");
	reg(e.da, &a);
	reg(e.dr, &r);
	assert_true(wait_for(&a.bound, 1));
	assert_true(wait_for(&r.bound, 1));
	atomic_store(&r.hold_mode, 1); /* the peer holds everything: blocks never come back */
	int nblocks = ipc_multi_free_blocks(e.da);
	uint8_t m[16] = { 0 };
	int sent = 0;
	while (ipc_service_send(&a.ept, m, sizeof(m)) == (int)sizeof(m))
		sent++;
	assert_int_equal(sent, nblocks);
	assert_int_equal(ipc_service_send(&a.ept, m, sizeof(m)), -ENOMEM);
	assert_true(wait_for(&r.nheld, sent));
	void *b;
	uint32_t sz = 16;
	assert_int_equal(ipc_service_get_tx_buffer(&a.ept, &b, &sz, AMPL_NO_WAIT), -ENOBUFS);
	uint64_t t0 = ampl_os_uptime_us();
	assert_int_equal(ipc_service_get_tx_buffer(&a.ept, &b, &sz, AMPL_MSEC(50)), -ENOBUFS);
	uint64_t dt = ampl_os_uptime_us() - t0;
	printf("  bounded wait timed out after %llu us\n", (unsigned long long)dt);
	assert_true(dt >= 50000 && dt < 10000000); /* not before the timeout; after it only bounded (loaded CI) */
	/* another thread releases after 30 ms: a 2 s wait succeeds early */
	struct rel_arg ra = { .s = &r, .delay_ms = 30 };
	pthread_t th;
	pthread_create(&th, NULL, release_later, &ra);
	t0 = ampl_os_uptime_us();
	assert_int_equal(ipc_service_get_tx_buffer(&a.ept, &b, &sz, AMPL_MSEC(2000)), 0);
	dt = ampl_os_uptime_us() - t0;
	printf("  bounded wait succeeded after %llu us\n", (unsigned long long)dt);
	assert_true(dt < 2000000); /* woken by the release, before its 2 s deadline */
	pthread_join(th, NULL);
	assert_int_equal(ra.released, sent);
	atomic_store(&r.hold_mode, 0);
	assert_int_equal(ipc_service_send_nocopy(&a.ept, b, 8), 8);
	for (int i = 0; i < 1000 && ipc_multi_free_blocks(e.da) != nblocks; i++)
		usleep(1000);
	assert_int_equal(ipc_multi_free_blocks(e.da), nblocks);
	/* send_nocopy with a shorter length frees the tail blocks at once */
	sz = 0;
	assert_int_equal(ipc_service_get_tx_buffer(&a.ept, &b, &sz, AMPL_NO_WAIT), 0);
	assert_int_equal(ipc_multi_free_blocks(e.da), 0);
	atomic_store(&r.hold_mode, 1);
	atomic_store(&r.nheld, 0);
	assert_int_equal(ipc_service_send_nocopy(&a.ept, b, 8), 8);
	assert_int_equal(ipc_multi_free_blocks(e.da), nblocks - 1);
	assert_true(wait_for(&r.nheld, 1));
	assert_int_equal(ipc_service_release_rx_buffer(&r.ept, atomic_load(&r.held[0])), 0);
	assert_int_equal(ipc_multi_errors(e.da), 0);
	env_down(&e);
}

/* ---- deregistration ---- */

static void test_deregister(void **state)
{
	(void)state;
	struct env e;
	env_up(&e);
	struct side a1, a2, r1, r2;
	side_init(&a1, "one");
	side_init(&a2, "two");
	side_init(&r1, "one");
	side_init(&r2, "two");
	reg(e.da, &a1);
	reg(e.da, &a2);
	reg(e.dr, &r1);
	reg(e.dr, &r2);
	assert_true(wait_for(&a1.bound, 1) && wait_for(&a2.bound, 1) && wait_for(&r1.bound, 1) &&
		    wait_for(&r2.bound, 1));
	/* follower deregisters: the initiator sees unbound(); re-registration rebinds */
	assert_int_equal(ipc_service_deregister_endpoint(&a1.ept), 0);
	assert_true(wait_for(&r1.unbound, 1));
	uint8_t m[16] = { 0 };
	assert_int_equal(ipc_service_send(&r1.ept, m, sizeof(m)), -EBUSY);
	assert_int_equal(ipc_service_send(&a1.ept, m, sizeof(m)), -ENOENT);
	reg(e.da, &a1);
	assert_true(wait_for(&a1.bound, 2));
	assert_true(wait_for(&r1.bound, 2));
	/* initiator deregisters: the follower sees unbound() */
	assert_int_equal(ipc_service_deregister_endpoint(&r2.ept), 0);
	assert_true(wait_for(&a2.unbound, 1));
	assert_int_equal(ipc_service_send(&a2.ept, m, sizeof(m)), -EBUSY);
	reg(e.dr, &r2);
	assert_true(wait_for(&a2.bound, 2));
	assert_true(wait_for(&r2.bound, 2));
	assert_int_equal(ipc_service_send(&a2.ept, m, sizeof(m)), (int)sizeof(m));
	assert_true(wait_for(&r2.received, 1));
	assert_int_equal(ipc_service_close_instance(e.da), -EBUSY);
	assert_int_equal(ipc_service_deregister_endpoint(&a1.ept), 0);
	assert_int_equal(ipc_service_deregister_endpoint(&a2.ept), 0);
	assert_int_equal(ipc_service_deregister_endpoint(&a2.ept), -ENOENT);
	assert_int_equal(ipc_service_close_instance(e.da), 0);
	assert_int_equal(ipc_service_close_instance(e.da), -EALREADY);
	assert_int_equal(ipc_multi_errors(e.da), 0);
	assert_int_equal(ipc_multi_errors(e.dr), 0);
	env_down(&e);
}

/* ---- doorbells only where the reader may have stopped ---- */

static void gate_received(const void *data, size_t len, void *priv)
{
	gate_hold();
	cb_received(data, len, priv);
}

/* Wait up to 5 s for every tx block of @dev to be free again (the peer's releases), and check that they are. */
static void wait_blocks_back(const struct ampl_device *dev, int full)
{
	for (int i = 0; i < 5000 && ipc_multi_free_blocks(dev) != full; i++)
		usleep(1000);
	assert_int_equal(ipc_multi_free_blocks(dev), full);
}

/* An endpoint @a on the APU bound to @r on RPU1; with @gated, @r's received() holds while ipc_gate is set. */
static void pair_bind(struct env *e, struct side *a, struct side *r, const char *name, bool gated)
{
	side_init(a, name);
	side_init(r, name);
	if (gated)
		r->cfg.cb.received = gate_received;
	reg(e->da, a);
	reg(e->dr, r);
	assert_true(wait_for(&a->bound, 1) && wait_for(&r->bound, 1));
}

static void pair_up(struct env *e, struct side *a, struct side *r, const char *name, bool gated)
{
	env_up(e);
	pair_bind(e, a, r, name, gated);
}

/* Everything arrived intact, nothing was reported; deregister both and take the SoC down. */
static void pair_down(struct env *e, struct side *a, struct side *r)
{
	assert_int_equal(r->bad, 0);
	assert_int_equal(a->errors + r->errors, 0);
	assert_int_equal(ipc_multi_errors(e->da) + ipc_multi_errors(e->dr), 0);
	assert_int_equal(ipc_service_deregister_endpoint(&a->ept), 0);
	assert_int_equal(ipc_service_deregister_endpoint(&r->ept), 0);
	env_down(e);
}

/*
 * While the follower's reader is held in its callback for message 0, message 1 rings (the reader has consumed
 * every control message before it) and the next ones do not (message 1 is unread: the drain that takes it reads
 * them too); the same for a zero-copy send. A pass that lingers (IPC_MULTI_RX_LINGER_US) holds its ring
 * (pbuf_rx_hold()): it gives message 0's space back only when it stops, so message 1 does not ring either. Then
 * everything arrives, in order, and a send after the reader stopped (its pass ended: every block is back) rings
 * again.
 */
static void test_doorbell_only_when_needed(void **state)
{
	(void)state;
	struct env e;
	struct side a, r;
	pair_up(&e, &a, &r, "g", true);
	int full = ipc_multi_free_blocks(e.da);
	struct mbox_chan *tx = ((struct ipc_multi_data *)e.da->data)->link.tx;
	assert_non_null(tx);
	uint8_t buf[40];
	uint32_t seq = 0;
	atomic_store(&ipc_gate, 1);
	size_t len = make_msg(buf, seq++, sizeof(buf));
	assert_int_equal(ipc_service_send(&a.ept, buf, len), (int)len);
	assert_true(gate_wait_held()); /* the reader holds message 0 (consumed) */
	int n = ipc_multi_free_blocks(e.da);
	assert_true(n >= 3);
	if (n > 8)
		n = 8;
	uint32_t before = doorbells_taken(tx);
	for (int i = 0; i < n; i++) {
		len = make_msg(buf, seq++, sizeof(buf));
#if AMPL_IPC_MULTI_ZERO_COPY
		if (i == n - 1) {
			void *p;
			uint32_t sz = (uint32_t)len;
			assert_int_equal(ipc_service_get_tx_buffer(&a.ept, &p, &sz, AMPL_NO_WAIT), 0);
			memcpy(p, buf, len);
			assert_int_equal(ipc_service_send_nocopy(&a.ept, p, len), (int)len);
			continue;
		}
#endif
		assert_int_equal(ipc_service_send(&a.ept, buf, len), (int)len);
	}
	uint32_t rung = doorbells_taken(tx) - before;
	print_message("      %d messages, %u doorbells while the reader was held\n", n + 1, rung + 1);
	assert_int_equal(rung, IPC_MULTI_RX_LINGER_US ? 0 : 1);
	atomic_store(&ipc_gate, 0);
	assert_true(wait_for(&r.received, n + 1));
	/* Stopped (the pass's last flush gave every block back): the next message rings (and arrives). */
	wait_blocks_back(e.da, full);
	before = doorbells_taken(tx);
	len = make_msg(buf, seq++, sizeof(buf));
	assert_int_equal(ipc_service_send(&a.ept, buf, len), (int)len);
	assert_true(wait_for(&r.received, n + 2));
	assert_int_equal(doorbells_taken(tx) - before, 1);
	pair_down(&e, &a, &r);
}

/*
 * A polled instance (RPU1 without an interrupt thread: ipc_multi_poll() from ampl_agent_poll()): its control ring's
 * reader stays held between polls, so the APU's sends never ring it; each round waits for RPU1's next poll, which
 * delivers all of it. The first message after binding, sent before the reader was held, rings.
 */
static void test_polled_reader(void **state)
{
	(void)state;
	struct env e;
	struct side a, r;
	env_up_as(&e, true);
	side_init(&a, "p");
	side_init(&r, "p");
	reg(e.da, &a);
	reg(e.dr, &r);
	for (int i = 0; i < 5000 && !(atomic_load(&a.bound) && atomic_load(&r.bound)); i++) {
		ampl_agent_poll(e.rpu1);
		usleep(1000);
	}
	assert_int_equal(atomic_load(&a.bound), 1);
	assert_int_equal(atomic_load(&r.bound), 1);
	struct mbox_chan *tx = ((struct ipc_multi_data *)e.da->data)->link.tx;
	assert_non_null(tx);
	uint8_t buf[40];
	uint32_t seq = 0;
	size_t len = make_msg(buf, seq++, sizeof(buf));
	assert_int_equal(ipc_service_send(&a.ept, buf, len), (int)len);
	for (int i = 0; i < 5000 && atomic_load(&r.received) < 1; i++) {
		ampl_agent_poll(e.rpu1);
		usleep(100);
	}
	assert_int_equal(atomic_load(&r.received), 1);
	uint32_t before = doorbells_taken(tx);
	for (int round = 0; round < 4; round++) {
		int had = atomic_load(&r.received);
		for (int k = 0; k < 4; k++) {
			len = make_msg(buf, seq++, sizeof(buf));
			assert_int_equal(ipc_service_send(&a.ept, buf, len), (int)len);
		}
		usleep(20000);
		assert_int_equal(atomic_load(&r.received), had);
		assert_int_equal(ampl_agent_poll(e.rpu1), 0);
		assert_int_equal(atomic_load(&r.received), had + 4);
	}
	assert_int_equal(doorbells_taken(tx) - before, 0);
	assert_int_equal(ipc_multi_poll(NULL), -EINVAL);
	pair_down(&e, &a, &r);
}

/* The bytes @dev wrote into its control ring from its shared index @before to now (modulo the ring). */
static uint32_t ctrl_index(const struct ampl_device *dev)
{
	const struct pbuf_cfg *c = &((struct ipc_multi_data *)dev->data)->tx.cfg;
	return __atomic_load_n((const uint32_t *)((const uint8_t *)c->mem + c->wr_idx_off), __ATOMIC_ACQUIRE);
}

static uint32_t ctrl_written(const struct ampl_device *dev, uint32_t before)
{
	uint32_t ring = ((struct ipc_multi_data *)dev->data)->tx.cfg.data_len;
	return (ctrl_index(dev) + ring - before) % ring;
}

/*
 * Releases are batched per drain: while the receiver is held in its callback for message 0, n more arrive; once
 * it is let go, it reads them in the same drain and gives all n + 1 buffers (blocks 0..8 of the sender's 32) back
 * with two control messages (RELEASE_SET: one for the first 8, a quarter of the sender's blocks, one at the end of
 * the drain), not one RELEASE per buffer. Every block comes back and everything arrives in order.
 */
static void test_release_batched(void **state)
{
	(void)state;
	struct env e;
	struct side a, r;
	pair_up(&e, &a, &r, "b", true);
	int full = ipc_multi_free_blocks(e.da);
	uint8_t buf[40];
	uint32_t seq = 0;
	atomic_store(&ipc_gate, 1);
	size_t len = make_msg(buf, seq++, sizeof(buf));
	assert_int_equal(ipc_service_send(&a.ept, buf, len), (int)len);
	assert_true(gate_wait_held());
	uint32_t before = ctrl_index(e.dr);
	int n = 8;
	for (int i = 0; i < n; i++) {
		len = make_msg(buf, seq++, sizeof(buf));
		assert_int_equal(ipc_service_send(&a.ept, buf, len), (int)len);
	}
	atomic_store(&ipc_gate, 0);
	assert_true(wait_for(&r.received, n + 1));
	wait_blocks_back(e.da, full);
	uint32_t msgs = ctrl_written(e.dr, before) / IPC_MULTI_RING_PER_MSG;
	print_message("      %d buffers released with %u control messages\n", n + 1, msgs);
	assert_true(msgs >= 1 && msgs <= 2);
	pair_down(&e, &a, &r);
}

#if AMPL_IPC_MULTI_ZERO_COPY
/*
 * Blocks are obtained next fit: the buffer after one that came back starts at the block after it, not at the first
 * free block again, so a sender streaming through its blocks finds the next one without passing those in flight;
 * the search goes round to block 0 after the last.
 */
static void test_next_fit(void **state)
{
	(void)state;
	struct env e;
	struct side a, r;
	pair_up(&e, &a, &r, "nf", false);
	int full = ipc_multi_free_blocks(e.da);
	const struct ipc_multi_data *d = e.da->data;
	uintptr_t bs = d->txl.block_size, first = 0;
	for (int i = 0; i <= full; i++) {
		void *p;
		uint32_t sz = 8;
		uint8_t buf[8];
		assert_int_equal(ipc_service_get_tx_buffer(&a.ept, &p, &sz, AMPL_NO_WAIT), 0);
		if (i == 0)
			first = (uintptr_t)p;
		/* the block after the last one, round to the first after the last block */
		assert_true((uintptr_t)p == first + (uintptr_t)(i % full) * bs);
		memcpy(p, buf, make_msg(buf, (uint32_t)i, sizeof(buf)));
		assert_int_equal(ipc_service_send_nocopy(&a.ept, p, sizeof(buf)), (int)sizeof(buf));
		for (int k = 0; k < 5000 && ipc_multi_free_blocks(e.da) != full; k++)
			usleep(1000);
		assert_int_equal(ipc_multi_free_blocks(e.da), full); /* every block free again: first fit would take 0 */
	}
	assert_true(wait_for(&r.received, full + 1));
	pair_down(&e, &a, &r);
}
#endif

/*
 * A sender that waits without a bound (AMPL_FOREVER: no periodic re-check) for tx blocks is woken by every release
 * that frees one, although releases wake only when someone sleeps: a stream far longer than the blocks, the sender
 * blocked most of the time, arrives whole and in order (a lost wake-up would leave it asleep).
 */
struct stream_arg {
	struct side *s;
	int n, fail;
	_Atomic int done;
};

static void *forever_sender(void *p)
{
	struct stream_arg *sa = p;
	uint8_t buf[64];
	for (int i = 0; i < sa->n && !sa->fail; i++) {
		void *b;
		uint32_t sz = sizeof(buf);
		size_t len = make_msg(buf, (uint32_t)i, 9 + (size_t)i % 56);
		int rc = ipc_service_get_tx_buffer(&sa->s->ept, &b, &sz, AMPL_FOREVER);
		if (rc) {
			sa->fail = rc;
			break;
		}
		memcpy(b, buf, len);
		if (ipc_service_send_nocopy(&sa->s->ept, b, len) != (int)len)
			sa->fail = -1;
	}
	atomic_store(&sa->done, 1);
	return NULL;
}

static void test_blocked_sender_wakes(void **state)
{
	(void)state;
	struct env e;
	struct side a, r;
	pair_up(&e, &a, &r, "w", false);
	struct stream_arg sa = { .s = &a, .n = getenv("AMPL_TEST_SCALE") ? 2000 : 20000 };
	pthread_t th;
	pthread_create(&th, NULL, forever_sender, &sa);
	int last = -1;
	while (!wait_for(&r.received, sa.n)) {
		int now = atomic_load(&r.received);
		if (now == last) /* 5 s without a message */
			fail_msg("stream stuck after %d of %d messages (sender done: %d)", now, sa.n, atomic_load(&sa.done));
		last = now;
	}
	pthread_join(th, NULL);
	assert_int_equal(sa.fail, 0);
	assert_int_equal(atomic_load(&r.received), sa.n);
	pair_down(&e, &a, &r);
}

/* ---- corruption: the initiator (RPU1) writes bad control messages and buffers ---- */

static void inject(const struct ampl_device *dev, const uint8_t *msg, uint16_t len)
{
	struct ipc_multi_data *d = dev->data;
	unsigned key = ampl_spin_lock(&d->lock);
	assert_true(pbuf_write(&d->tx, msg, len) > 0);
	(void)mbox_send_message(d->link.tx, NULL); /* the framework starts the TX ticker if the ring is queued */
	ampl_spin_unlock(&d->lock, key);
}

/*
 * RPU1 writes control message @msg (@len bytes) into its ring and rings; the APU (endpoint @a) reports an error for
 * it if @expect_error, else none. An error is waited for (a loaded machine may take long to schedule the receiver);
 * a row that must not raise one is given 20 ms to do so anyway.
 */
static void inject_row(struct env *e, struct side *a, const char *id, const uint8_t *msg, uint16_t len,
		       bool expect_error)
{
	int before = atomic_load(&a->errors) + (int)ipc_multi_errors(e->da);
	inject(e->dr, msg, len);
	int after = before;
	for (int t = 0; t < (expect_error ? 5000 : 20); t++) {
		usleep(1000);
		after = atomic_load(&a->errors) + (int)ipc_multi_errors(e->da);
		if (after > before)
			break;
	}
	printf("  %-44s errors +%d  \"%s\"\n", id, after - before, a->last_error);
	if (expect_error)
		assert_true(after > before);
	else
		assert_int_equal(after, before);
}

static void test_corruption(void **state)
{
	(void)state;
	struct env e;
	env_up(&e);
	struct side a, r;
	side_init(&a, "c");
	side_init(&r, "c");
	reg(e.da, &a);
	reg(e.dr, &r);
	assert_true(wait_for(&a.bound, 1) && wait_for(&r.bound, 1));
	struct ipc_multi_data *dr = e.dr->data;
	uint8_t *blocks = (uint8_t *)dr->cfg->tx_mem + dr->txl.blocks_off;
	uint32_t bs = dr->txl.block_size, cnt = dr->txl.block_count;
	struct {
		const char *id;
		uint8_t msg[4];
		uint16_t len;
		uint32_t hdr_len; /* written into the last block's header first (0: untouched) */
		bool expect_error;
	} rows[] = {
		{ "C01 DATA block out of range", { 0, 0, 0xE7, 0x03 }, 4, 0, true },
		{ "C02 DATA length beyond the blocks", { 0, 0, (uint8_t)(cnt - 1), 0 }, 4, 0x7FFFFFF0u, true },
		{ "C03 DATA length 0", { 0, 0, (uint8_t)(cnt - 1), 0 }, 4, 0xFFFFFFFFu, true },
		{ "C04 DATA unknown endpoint address", { 0, 200, (uint8_t)(cnt - 1), 0 }, 4, 16, true },
		{ "C05 RELEASE of a block not in flight", { 1, 0, 3, 0 }, 4, 0, true },
		{ "C06 BOUND with an invalid address", { 2, 255, (uint8_t)(cnt - 1), 0 }, 4, 0, true },
		{ "C07 BOUND block out of range", { 2, 9, 0xFF, 0x7F }, 4, 0, true },
		{ "C08 BOUND name not NUL-terminated", { 2, 9, (uint8_t)(cnt - 1), 0 }, 4, 8, true },
		{ "C09 short control message", { 0, 0 }, 2, 0, true },
		{ "C10 unknown type (ignored, no error)", { 0x7E, 0, 0, 0 }, 4, 0, false },
	};
	for (size_t i = 0; i < AMPL_ARRAY_SIZE(rows); i++) {
		uint8_t *last = blocks + (cnt - 1) * bs;
		if (rows[i].hdr_len) {
			uint32_t v = rows[i].hdr_len == 0xFFFFFFFFu ? 0 : rows[i].hdr_len;
			memcpy(last, &v, 4);
			memset(last + 4, 'x', bs - 4); /* no NUL anywhere */
		}
		inject_row(&e, &a, rows[i].id, rows[i].msg, rows[i].len, rows[i].expect_error);
	}
	/* the link still works afterwards */
	uint8_t m[32];
	size_t n = make_msg(m, 0, sizeof(m));
	assert_int_equal(ipc_service_send(&r.ept, m, n), (int)n);
	assert_true(wait_for(&a.received, 1));
	assert_int_equal(a.bad, 0);
	env_down(&e);
}

/* ---- restarts: one side closes and reopens, or its process exits and a new one attaches (since wire version 2) ---- */

enum { APU = 0, RPU1 = 1 };
enum restart_how { BY_CLOSE, BY_EXIT };

#define NREP 2          /* endpoints per side: "s0" sends with copies, "s1" zero-copy */
#define REP_HDR 16u     /* incarnation, stamp, seq, checksum */
#define MAX_MARKS 4096

static const char *const agent_name[2] = { "apu", "rpu1" };
static const char *const inst_label[2] = { "ipc_multi_apu", "ipc_multi_rpu1" };

/* (incarnation, seq) pairs: messages a receiver could not place, and messages a sender saw cross a link down. */
struct marks {
	_Atomic int n;
	_Atomic uint64_t v[MAX_MARKS];
};
static struct marks suspects, doubts;
static _Atomic uint32_t incarnations; /* the last incarnation id handed out */

static void mark(struct marks *m, uint32_t inc, uint32_t seq)
{
	int i = atomic_fetch_add(&m->n, 1);
	if (i < MAX_MARKS)
		atomic_store(&m->v[i], (uint64_t)inc << 32 | seq);
}

static bool marked(struct marks *m, uint64_t key)
{
	for (int i = 0; i < atomic_load(&m->n) && i < MAX_MARKS; i++)
		if (atomic_load(&m->v[i]) == key)
			return true;
	return false;
}

/*
 * One endpoint of one incarnation of a side. Every message carries the sender's incarnation, a stamp (how many
 * times the sender's endpoint was unbound when it built the message), its sequence number and a checksum.
 * The receiver's rules: intact; never from a peer incarnation that ended before this endpoint's last unbound()
 * (nothing from before a restart after it); per sender, strictly increasing sequence numbers (in order, once);
 * and an endpoint registered after the peer's n-th unbound() takes only stamps >= n from it, except a message
 * built before and sent after that unbound() (the sender marks those: a "doubt"; checked at the end).
 */
struct rep {
	struct ipc_ept ept;
	struct ipc_ept_cfg cfg;
	char name[8];
	uint32_t inc;
	bool nocopy;
	_Atomic int bound, unbound, errors, bad, received;
	_Atomic uint32_t peer_inc_min, stamp_min;
	uint32_t last_inc, last_seq; /* RX context only */
	bool any;
	_Atomic bool stop;
	_Atomic uint32_t next_seq;
	_Atomic int fail;
	pthread_t th;
	bool running;
	char last_error[160];
};

/* One incarnation of a side: its endpoints. */
struct incarnation {
	struct rep ep[NREP];
};

static uint32_t rep_sum(const uint8_t *p, size_t len)
{
	return csum(p, 12) ^ csum(p + REP_HDR, len - REP_HDR);
}

static size_t rep_msg(uint8_t *p, uint32_t inc, uint32_t stamp, uint32_t seq)
{
	size_t len = REP_HDR + (seq * 37u + inc * 11u) % 280u;
	memcpy(p, &inc, 4);
	memcpy(p + 4, &stamp, 4);
	memcpy(p + 8, &seq, 4);
	for (size_t i = REP_HDR; i < len; i++)
		p[i] = (uint8_t)(seq * 13u + inc + i);
	uint32_t sum = rep_sum(p, len);
	memcpy(p + 12, &sum, 4);
	return len;
}

static void rep_received(const void *data, size_t len, void *priv)
{
	struct rep *r = priv;
	const uint8_t *p = data;
	uint32_t inc, stamp, seq, sum;
	if (len < REP_HDR) {
		atomic_fetch_add(&r->bad, 1);
		return;
	}
	memcpy(&inc, p, 4);
	memcpy(&stamp, p + 4, 4);
	memcpy(&seq, p + 8, 4);
	memcpy(&sum, p + 12, 4);
	if (sum != rep_sum(p, len) || inc < atomic_load(&r->peer_inc_min) ||
	    (r->any && inc == r->last_inc && seq <= r->last_seq)) {
		atomic_fetch_add(&r->bad, 1);
	} else if (stamp < atomic_load(&r->stamp_min)) {
		mark(&suspects, inc, seq);
	}
	r->last_inc = inc;
	r->last_seq = seq;
	r->any = true;
	atomic_fetch_add(&r->received, 1);
}

static void rep_bound(void *priv)
{
	atomic_fetch_add(&((struct rep *)priv)->bound, 1);
}

static void rep_unbound(void *priv)
{
	struct rep *r = priv;
	/* The peer's incarnation ended: nothing of it may arrive any more; a new one starts its stamps at 0. */
	atomic_store(&r->peer_inc_min, atomic_load(&incarnations) + 1u);
	atomic_store(&r->stamp_min, 0);
	atomic_fetch_add(&r->unbound, 1);
}

static void rep_error(const char *msg, void *priv)
{
	struct rep *r = priv;
	snprintf(r->last_error, sizeof(r->last_error), "%s", msg);
	atomic_fetch_add(&r->errors, 1);
}

static void *rep_sender(void *p)
{
	struct rep *r = p;
	uint8_t buf[REP_HDR + 300];
	while (!atomic_load(&r->stop)) {
		uint32_t seq = atomic_load(&r->next_seq);
		int u = atomic_load(&r->unbound);
		void *zb = NULL;
		uint8_t *dst = buf;
		if (r->nocopy) {
			uint32_t sz = REP_HDR + 300;
			int g = ipc_service_get_tx_buffer(&r->ept, &zb, &sz, AMPL_NO_WAIT);
			if (g == -ENOBUFS) {
				sched_yield();
				continue;
			}
			if (g) {
				atomic_store(&r->fail, g);
				return NULL;
			}
			dst = zb;
		}
		size_t len = rep_msg(dst, r->inc, (uint32_t)u, seq);
		int rc = zb ? ipc_service_send_nocopy(&r->ept, zb, len) : ipc_service_send(&r->ept, buf, len);
		if (rc == (int)len) {
			if (atomic_load(&r->unbound) != u)
				mark(&doubts, r->inc, seq); /* built before a link down, accepted maybe after it */
			atomic_store(&r->next_seq, seq + 1);
			continue;
		}
		if (zb && ipc_service_drop_tx_buffer(&r->ept, zb)) {
			atomic_store(&r->fail, -1000);
			return NULL;
		}
		if (rc == -EBUSY)
			usleep(200); /* not bound: the peer is restarting */
		else if (rc == -ENOMEM)
			sched_yield();
		else {
			atomic_store(&r->fail, rc);
			return NULL;
		}
	}
	return NULL;
}

static const struct ampl_device **dev_of(struct env *e, int s)
{
	return s == APU ? &e->da : &e->dr;
}

static struct ampl_agent **agent_of(struct env *e, int s)
{
	return s == APU ? &e->apu : &e->rpu1;
}

/* A new incarnation of side @s registers its endpoints (the instance is open) and both ends bind by name. */
static struct incarnation *incarnation_up(struct env *e, int s, struct incarnation *peer, bool start)
{
	struct incarnation *in = calloc(1, sizeof(*in));
	assert_non_null(in);
	int peer_bound[NREP];
	for (int i = 0; i < NREP; i++) {
		struct rep *r = &in->ep[i];
		snprintf(r->name, sizeof(r->name), "s%d", i);
		r->nocopy = i == 1;
		r->inc = atomic_fetch_add(&incarnations, 1) + 1u;
		/* The peer's messages built before its last unbound() belong to the incarnation that ended. */
		atomic_store(&r->stamp_min, peer ? (uint32_t)atomic_load(&peer->ep[i].unbound) : 0u);
		r->cfg = (struct ipc_ept_cfg){ .name = r->name,
					       .cb = { .bound = rep_bound,
						       .unbound = rep_unbound,
						       .received = rep_received,
						       .error = rep_error },
					       .priv = r };
		peer_bound[i] = peer ? atomic_load(&peer->ep[i].bound) : 0;
	}
	for (int i = NREP - 1; i >= 0; i--) /* the other order than the peer's first incarnation */
		assert_int_equal(ipc_service_register_endpoint(*dev_of(e, s), &in->ep[i].ept, &in->ep[i].cfg), 0);
	for (int i = 0; peer && i < NREP; i++) { /* no peer yet: it binds when the peer registers */
		if (!wait_for(&in->ep[i].bound, 1) || !wait_for(&peer->ep[i].bound, peer_bound[i] + 1))
			fail_msg("%s %s: no rebind (bound %d, peer %d; errors %d \"%s\")", agent_name[s], in->ep[i].name,
				 atomic_load(&in->ep[i].bound), atomic_load(&peer->ep[i].bound),
				 atomic_load(&in->ep[i].errors), in->ep[i].last_error);
	}
	for (int i = 0; start && i < NREP; i++) {
		assert_int_equal(pthread_create(&in->ep[i].th, NULL, rep_sender, &in->ep[i]), 0);
		in->ep[i].running = true;
	}
	return in;
}

static void senders_stop(struct incarnation *in)
{
	for (int i = 0; i < NREP; i++) {
		struct rep *r = &in->ep[i];
		if (!r->running)
			continue;
		atomic_store(&r->stop, true);
		pthread_join(r->th, NULL);
		r->running = false;
		if (atomic_load(&r->fail))
			fail_msg("%s sender (incarnation %u): %d", r->name, r->inc, atomic_load(&r->fail));
	}
}

/* Traffic flows both ways on every endpoint: each receiver takes @more messages more (bounded wait). */
static void traffic_flows(struct incarnation *in[2], int more)
{
	for (int s = 0; s < 2; s++) {
		for (int i = 0; i < NREP; i++) {
			struct rep *r = &in[s]->ep[i];
			if (!wait_for(&r->received, atomic_load(&r->received) + more))
				fail_msg("%s %s: traffic stalled at %d messages", agent_name[s], r->name,
					 atomic_load(&r->received));
		}
	}
}

/*
 * Side @s ends its incarnation (@how: deregister and close, or its process exits: detach, endpoints left
 * registered, nothing released), the other side sees unbound() on every endpoint and its sends answer -EBUSY,
 * then a new incarnation opens: the caller registers it.
 */
static void side_restart(struct env *e, int s, enum restart_how how, struct incarnation *old, struct incarnation *peer)
{
	int peer_unbound[NREP];
	for (int i = 0; i < NREP; i++)
		peer_unbound[i] = atomic_load(&peer->ep[i].unbound);
	senders_stop(old);
	if (how == BY_CLOSE) {
		for (int i = 0; i < NREP; i++)
			assert_int_equal(ipc_service_deregister_endpoint(&old->ep[i].ept), 0);
		assert_int_equal(ipc_service_close_instance(*dev_of(e, s)), 0);
	} else {
		ampl_agent_detach(*agent_of(e, s));
		*agent_of(e, s) = NULL;
		*dev_of(e, s) = NULL;
	}
	for (int i = 0; i < NREP; i++)
		if (!wait_for(&peer->ep[i].unbound, peer_unbound[i] + 1))
			fail_msg("%s %s: no unbound() after the peer's %s", agent_name[!s], peer->ep[i].name,
				 how == BY_CLOSE ? "close" : "exit");
	uint8_t m[REP_HDR + 8] = { 0 };
	assert_int_equal(ipc_service_send(&peer->ep[0].ept, m, sizeof(m)), -EBUSY);
	if (how == BY_EXIT) {
		struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
		assert_int_equal(ampl_agent_attach(e->soc, agent_name[s], &o, agent_of(e, s)), 0);
		assert_int_equal(ampl_agent_ipc_instance(*agent_of(e, s), inst_label[s], dev_of(e, s)), 0);
	}
	assert_int_equal(ipc_service_open_instance(*dev_of(e, s)), 0);
}

static void marks_reset(void)
{
	atomic_store(&suspects.n, 0);
	atomic_store(&doubts.n, 0);
}

/* Every message a receiver could not place was built before a link down and sent after it. */
static void marks_check(void)
{
	assert_true(atomic_load(&suspects.n) <= MAX_MARKS && atomic_load(&doubts.n) <= MAX_MARKS);
	for (int i = 0; i < atomic_load(&suspects.n); i++) {
		uint64_t k = atomic_load(&suspects.v[i]);
		if (!marked(&doubts, k))
			fail_msg("message %u of incarnation %u: built before the receiver's peer restarted, delivered "
				 "after it", (unsigned)k, (unsigned)(k >> 32));
	}
	if (atomic_load(&suspects.n))
		printf("  %d message(s) built before a link down and sent after it (accepted in the new session)\n",
		       atomic_load(&suspects.n));
}

static void incarnation_check(struct incarnation *in, const char *who)
{
	for (int i = 0; i < NREP; i++) {
		struct rep *r = &in->ep[i];
		if (atomic_load(&r->bad) || atomic_load(&r->errors))
			fail_msg("%s %s (incarnation %u): %d bad messages, %d errors (\"%s\")", who, r->name, r->inc,
				 atomic_load(&r->bad), atomic_load(&r->errors), r->last_error);
	}
}

/* All blocks of both sides come back once the traffic stops (every message delivered and released). */
static void blocks_all_back(struct env *e, int full[2])
{
	for (int s = 0; s < 2; s++) {
		for (int i = 0; i < 5000 && ipc_multi_free_blocks(*dev_of(e, s)) != full[s]; i++)
			usleep(1000);
		assert_int_equal(ipc_multi_free_blocks(*dev_of(e, s)), full[s]);
	}
}

/* Restart side @s @n times (@how, or alternating when @alternate), with traffic both ways throughout. */
static void restart_run(int s, enum restart_how how, int n, bool alternate_sides, bool alternate_how)
{
	struct env e;
	env_up(&e);
	marks_reset();
	int full[2] = { ipc_multi_free_blocks(e.da), ipc_multi_free_blocks(e.dr) };
	struct incarnation *in[2];
	in[APU] = incarnation_up(&e, APU, NULL, false);
	in[RPU1] = incarnation_up(&e, RPU1, in[APU], false);
	for (int side = 0; side < 2; side++)
		for (int i = 0; i < NREP; i++) {
			assert_int_equal(pthread_create(&in[side]->ep[i].th, NULL, rep_sender, &in[side]->ep[i]), 0);
			in[side]->ep[i].running = true;
		}
	traffic_flows(in, 50);
	for (int k = 0; k < n; k++) {
		int x = alternate_sides ? (s + k) % 2 : s;
		enum restart_how h = alternate_how ? (enum restart_how)((k / (alternate_sides ? 2 : 1)) % 2) : how;
		side_restart(&e, x, h, in[x], in[!x]);
		incarnation_check(in[x], agent_name[x]);
		free(in[x]);
		in[x] = incarnation_up(&e, x, in[!x], true);
		traffic_flows(in, 50);
		incarnation_check(in[!x], agent_name[!x]);
	}
	senders_stop(in[APU]);
	senders_stop(in[RPU1]);
	blocks_all_back(&e, full);
	incarnation_check(in[APU], "apu");
	incarnation_check(in[RPU1], "rpu1");
	marks_check();
	printf("  %d restart(s): apu received %d + %d, rpu1 %d + %d in their last incarnations; errors %u / %u\n", n,
	       atomic_load(&in[APU]->ep[0].received), atomic_load(&in[APU]->ep[1].received),
	       atomic_load(&in[RPU1]->ep[0].received), atomic_load(&in[RPU1]->ep[1].received),
	       ipc_multi_errors(e.da), ipc_multi_errors(e.dr));
	assert_int_equal(ipc_multi_errors(e.da), 0);
	assert_int_equal(ipc_multi_errors(e.dr), 0);
	for (int side = 0; side < 2; side++) {
		for (int i = 0; i < NREP; i++)
			assert_int_equal(ipc_service_deregister_endpoint(&in[side]->ep[i].ept), 0);
	}
	env_down(&e);
	free(in[APU]);
	free(in[RPU1]);
}

/* The initiator (RPU1) closes and reopens twice, then its process exits and a new one attaches, twice. */
static void test_restart_initiator(void **state)
{
	(void)state;
	restart_run(RPU1, BY_CLOSE, 4, false, true);
}

/* The same with the follower (APU) restarting. */
static void test_restart_follower(void **state)
{
	(void)state;
	restart_run(APU, BY_CLOSE, 4, false, true);
}

/* Restarts during traffic, 20 times: each side in turn, by close and by process exit. */
static void test_restart_during_traffic(void **state)
{
	(void)state;
	restart_run(RPU1, BY_CLOSE, 20, true, true);
}

/*
 * Blocks in flight when the peer's process exits all come back: the peer holds every buffer it receives (so
 * none is released), its process exits (nothing released either), and ipc_multi_free_blocks() returns to the
 * full count at the link down, less a buffer obtained and not sent (it stays the caller's). A buffer the staying
 * side held from the old peer is no longer held. Both roles.
 */
static void test_restart_reclaims_blocks(void **state)
{
	(void)state;
	for (int x = 0; x < 2; x++) {
		int y = !x;
		struct env e;
		env_up(&e);
		struct side sx, sy;
		side_init(&sx, "rc");
		side_init(&sy, "rc");
		reg(*dev_of(&e, x), &sx);
		reg(*dev_of(&e, y), &sy);
		assert_true(wait_for(&sx.bound, 1) && wait_for(&sy.bound, 1));
		int full = ipc_multi_free_blocks(*dev_of(&e, y));
		/* y holds one buffer from x */
		atomic_store(&sy.hold_mode, 1);
		uint8_t m[32];
		size_t n = make_msg(m, 0, sizeof(m));
		assert_int_equal(ipc_service_send(&sx.ept, m, n), (int)n);
		assert_true(wait_for(&sy.nheld, 1));
		atomic_store(&sy.hold_mode, 0);
		/* x holds everything y sends: all of y's blocks but one buffer's go into flight */
		void *claimed;
		uint32_t csz = 8;
		assert_int_equal(ipc_service_get_tx_buffer(&sy.ept, &claimed, &csz, AMPL_NO_WAIT), 0);
		atomic_store(&sx.hold_mode, 1);
		int sent = 0;
		for (uint32_t seq = 0; ipc_service_send(&sy.ept, m, make_msg(m, seq, sizeof(m))) > 0; seq++)
			sent++;
		assert_int_equal(sent, full - 1);
		assert_int_equal(ipc_multi_free_blocks(*dev_of(&e, y)), 0);
		assert_true(wait_for(&sx.nheld, sent < MAX_HELD ? sent : MAX_HELD));
		/* x's process exits */
		ampl_agent_detach(*agent_of(&e, x));
		*agent_of(&e, x) = NULL;
		assert_true(wait_for(&sy.unbound, 1));
		for (int i = 0; i < 5000 && ipc_multi_free_blocks(*dev_of(&e, y)) != full - 1; i++)
			usleep(1000);
		printf("  %s's process exited with %d of %s's blocks in flight: %d free after unbound() (full %d, one "
		       "obtained)\n",
		       agent_name[x], sent, agent_name[y], ipc_multi_free_blocks(*dev_of(&e, y)), full);
		assert_int_equal(ipc_multi_free_blocks(*dev_of(&e, y)), full - 1);
		assert_int_equal(ipc_service_release_rx_buffer(&sy.ept, atomic_load(&sy.held[0])), -ENXIO);
		assert_int_equal(ipc_service_send_nocopy(&sy.ept, claimed, 8), -EBUSY); /* still the caller's */
		/* a new process: binds again, the obtained buffer goes out in the new session */
		struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
		assert_int_equal(ampl_agent_attach(e.soc, agent_name[x], &o, agent_of(&e, x)), 0);
		assert_int_equal(ampl_agent_ipc_instance(*agent_of(&e, x), inst_label[x], dev_of(&e, x)), 0);
		assert_int_equal(ipc_service_open_instance(*dev_of(&e, x)), 0);
		struct side sx2;
		side_init(&sx2, "rc");
		reg(*dev_of(&e, x), &sx2);
		assert_true(wait_for(&sx2.bound, 1) && wait_for(&sy.bound, 2));
		make_msg(claimed, 0, 8);
		assert_int_equal(ipc_service_send_nocopy(&sy.ept, claimed, 8), 8);
		for (uint32_t seq = 1; seq < 40; seq++) {
			n = make_msg(m, seq, sizeof(m));
			int r;
			while ((r = ipc_service_send(&sy.ept, m, n)) == -ENOMEM)
				usleep(100);
			assert_int_equal(r, (int)n);
		}
		assert_true(wait_for(&sx2.received, 40));
		assert_int_equal(sx2.received, 40);
		assert_int_equal(sx2.bad, 0); /* in order from seq 0: nothing of the old session */
		for (int i = 0; i < 5000 && ipc_multi_free_blocks(*dev_of(&e, y)) != full; i++)
			usleep(1000);
		assert_int_equal(ipc_multi_free_blocks(*dev_of(&e, y)), full);
		assert_int_equal(ipc_multi_errors(*dev_of(&e, y)), 0);
		assert_int_equal(ipc_multi_errors(*dev_of(&e, x)), 0);
		assert_int_equal(sy.errors + sx2.errors, 0);
		env_down(&e);
	}
}

/*
 * The transport's link state (the rx channel's link_state, set by the virtual SoC's hotplug):
 * RPU1 goes offline: both sides take the link down (unbound(), sends -EBUSY, blocks back); back online: both
 * bind again and traffic flows.
 */
static void test_peer_offline_online(void **state)
{
	(void)state;
	struct env e;
	env_up(&e);
	struct side a, r;
	side_init(&a, "hp");
	side_init(&r, "hp");
	reg(e.da, &a);
	reg(e.dr, &r);
	assert_true(wait_for(&a.bound, 1) && wait_for(&r.bound, 1));
	int full = ipc_multi_free_blocks(e.da);
	atomic_store(&r.hold_mode, 1); /* in flight at the offline: held by RPU1, never released */
	uint8_t m[32];
	for (uint32_t seq = 0; seq < 4; seq++)
		assert_int_equal(ipc_service_send(&a.ept, m, make_msg(m, seq, sizeof(m))), (int)sizeof(m));
	assert_true(wait_for(&r.nheld, 4));
	const struct ampl_soc_agent *rpu1 = ampl_agent_info(e.rpu1);
	assert_int_equal(ampl_soc_agent_set_online(e.soc, rpu1, false), 0);
	bool seen = false;
	for (int i = 0; i < 2000 && !seen; i++) {
		seen = atomic_load(&a.unbound) > 0;
		if (!seen)
			usleep(1000);
	}
	if (!seen) {
		assert_int_equal(ampl_soc_agent_set_online(e.soc, rpu1, true), 0);
		env_down(&e);
		printf("  SKIPPED: the virtual SoC did not report RPU1 offline to the amplink,ipc-multi instance\n");
		skip();
	}
	assert_true(wait_for(&r.unbound, 1));
	assert_int_equal(ipc_service_send(&a.ept, m, sizeof(m)), -EBUSY);
	wait_blocks_back(e.da, full);
	atomic_store(&r.hold_mode, 0);
	assert_int_equal(ampl_soc_agent_set_online(e.soc, rpu1, true), 0);
	assert_true(wait_for(&a.bound, 2) && wait_for(&r.bound, 2));
	atomic_store(&r.next_seq, 100);
	int before = atomic_load(&r.received);
	for (uint32_t seq = 100; seq < 120; seq++)
		assert_int_equal(ipc_service_send(&a.ept, m, make_msg(m, seq, sizeof(m))), (int)sizeof(m));
	assert_true(wait_for(&r.received, before + 20));
	assert_int_equal(r.received, before + 20);
	assert_int_equal(r.bad, 0);
	assert_int_equal(ipc_multi_errors(e.da) + ipc_multi_errors(e.dr), 0);
	env_down(&e);
}

/* Deregister/close/re-open churn on both sides at once (tests/common/churn.c); a close leaves the instance OFF,
 * and DATA meant for a previous registration of an address is not taken for a new one (no corruption reported). */
static int multi_closed_state(const struct ampl_device *dev)
{
	int st = atomic_load(&((struct ipc_multi_data *)dev->data)->state);
	return st == IPC_MULTI_OFF ? 0 : 100 + st;
}

static void test_close_under_rebind(void **state)
{
	(void)state;
	struct env e;
	env_up(&e);
	const struct ampl_device *const dev[2] = { *dev_of(&e, 0), *dev_of(&e, 1) };
	/* Under ThreadSanitizer without instance close/re-open: a re-opened side rewrites its ring while the peer may
	 * still read it (the session word published first makes the peer discard what it read; a byte-level race by
	 * design, as in test_reset_after_n); the plain and ASan builds run it. */
	ipc_churn_run(dev, agent_name, multi_closed_state, 200, !CHURN_TSAN);
	assert_int_equal(ipc_multi_errors(e.da) + ipc_multi_errors(e.dr), 0);
	env_down(&e);
}

/* ---- inline messages (config inline_max, devicetree `inline-max`) ---- */

/* The @n bytes at index @at of @dev's control ring (its data area, modulo its length). */
static void ctrl_bytes(const struct ampl_device *dev, uint32_t at, uint8_t *out, uint32_t n)
{
	const struct pbuf_cfg *c = &((struct ipc_multi_data *)dev->data)->tx.cfg;
	const uint8_t *ring = (const uint8_t *)c->mem + c->data_off;
	for (uint32_t i = 0; i < n; i++)
		out[i] = ring[(at + i) % c->data_len];
}

/*
 * Both sides take up to 64 bytes inline: a message of 40 and one of 64 bytes go into the control ring itself as
 * INLINE {0x06, address, length LE u16} followed by the message (one pbuf packet of 4 + 4 + length bytes), and take
 * no block; one of 65 bytes takes a block (a DATA of 8 bytes in the ring). Everything arrives intact, in order.
 */
static void test_inline_wire(void **state)
{
	(void)state;
	struct env e;
	struct side a, r;
	env_up_inline(&e, 64, 64);
	pair_bind(&e, &a, &r, "in", true);
	assert_int_equal(((struct ipc_multi_data *)e.da->data)->peer_inline, 64);
	assert_int_equal(((struct ipc_multi_data *)e.dr->data)->peer_inline, 64);
	int full = ipc_multi_free_blocks(e.da);
	uint8_t buf[80];
	uint32_t seq = 0;
	atomic_store(&ipc_gate, 1);
	size_t len = make_msg(buf, seq++, 40);
	assert_int_equal(ipc_service_send(&a.ept, buf, len), (int)len);
	assert_true(gate_wait_held());
	static const size_t sizes[] = { 40, 64, 65 };
	for (size_t i = 0; i < AMPL_ARRAY_SIZE(sizes); i++) {
		uint32_t before = ctrl_index(e.da);
		len = make_msg(buf, seq++, sizes[i]);
		assert_int_equal(ipc_service_send(&a.ept, buf, len), (int)len);
		uint32_t written = ctrl_written(e.da, before);
		if (len > 64) {
			assert_int_equal(written, IPC_MULTI_RING_PER_MSG); /* a DATA */
			assert_int_equal(ipc_multi_free_blocks(e.da), full - 1);
			continue;
		}
		assert_int_equal(written, 4u + 4u + len);
		uint8_t pkt[4 + 4 + 64];
		ctrl_bytes(e.da, before, pkt, (uint32_t)written);
		assert_int_equal(pkt[0] << 8 | pkt[1], 4 + len); /* pbuf: BE16 length, reserved half-word */
		assert_int_equal(pkt[4], IPC_MULTI_MSG_INLINE);
		assert_true(pkt[5] < IPC_MULTI_MAX_EPT); /* the initiator's slot */
		assert_int_equal(pkt[6] | pkt[7] << 8, len);
		assert_memory_equal(pkt + 8, buf, len);
		assert_int_equal(ipc_multi_free_blocks(e.da), full);
	}
	atomic_store(&ipc_gate, 0);
	assert_true(wait_for(&r.received, 4));
	wait_blocks_back(e.da, full);
	pair_down(&e, &a, &r);
}

/*
 * Each side sends inline only what its peer takes: the APU takes 64 bytes inline, RPU1 none, so the APU's 40-byte
 * message goes in a block (RPU1's HELLO said 0) and RPU1's goes inline.
 */
static void test_inline_as_the_peer_takes(void **state)
{
	(void)state;
	struct env e;
	struct side a, r;
	env_up_inline(&e, 64, 0);
	pair_bind(&e, &a, &r, "pt", false);
	assert_int_equal(((struct ipc_multi_data *)e.da->data)->peer_inline, 0);
	assert_int_equal(((struct ipc_multi_data *)e.dr->data)->peer_inline, 64);
	uint8_t buf[40];
	for (uint32_t seq = 0; seq < 3; seq++) {
		size_t len = make_msg(buf, seq, sizeof(buf));
		uint32_t before = ctrl_index(e.da);
		assert_int_equal(ipc_service_send(&a.ept, buf, len), (int)len);
		assert_int_equal(ctrl_written(e.da, before), IPC_MULTI_RING_PER_MSG);
		assert_true(wait_for(&r.received, (int)seq + 1));
		before = ctrl_index(e.dr);
		assert_int_equal(ipc_service_send(&r.ept, buf, len), (int)len);
		assert_int_equal(ctrl_written(e.dr, before), 4u + 4u + len);
		assert_true(wait_for(&a.received, (int)seq + 1));
	}
	assert_int_equal(a.bad, 0);
	pair_down(&e, &a, &r);
}

#if AMPL_IPC_MULTI_ZERO_COPY
/* A message received inline cannot be held (-ENOTSUP; it lives in the receive pass's stack); one in a block can. */
static void test_inline_hold(void **state)
{
	(void)state;
	struct env e;
	struct side a, r;
	env_up_inline(&e, 64, 64);
	pair_bind(&e, &a, &r, "ho", false);
	atomic_store(&r.hold_mode, 1);
	uint8_t buf[100];
	size_t len = make_msg(buf, 0, 40);
	assert_int_equal(ipc_service_send(&a.ept, buf, len), (int)len);
	assert_true(wait_for(&r.received, 1));
	assert_int_equal(atomic_load(&r.hold_ret[0]), -ENOTSUP);
	assert_int_equal(atomic_load(&r.hold_ret[1]), -ENOTSUP);
	assert_int_equal(ipc_service_release_rx_buffer(&r.ept, atomic_load(&r.held[0])), -ENXIO);
	len = make_msg(buf, 1, sizeof(buf));
	assert_int_equal(ipc_service_send(&a.ept, buf, len), (int)len);
	assert_true(wait_for(&r.received, 2));
	assert_int_equal(atomic_load(&r.hold_ret[0]), 0);
	assert_int_equal(atomic_load(&r.hold_ret[1]), -EALREADY);
	assert_int_equal(ipc_service_release_rx_buffer(&r.ept, atomic_load(&r.held[1])), 0);
	pair_down(&e, &a, &r);
}
#endif

/*
 * A reader held in its callback while the sender streams 64-byte messages: they go inline until the control ring
 * has only the room it keeps for control messages, then in blocks until the blocks run out (-ENOMEM). So more
 * messages are in flight than there are blocks, and the ring still takes every DATA. Once the reader goes on,
 * everything arrives in order and every block comes back.
 */
static void test_inline_ring_full(void **state)
{
	(void)state;
	struct env e;
	struct side a, r;
	env_up_inline(&e, 64, 64);
	pair_bind(&e, &a, &r, "rf", true);
	struct ipc_multi_data *d = e.da->data;
	int full = ipc_multi_free_blocks(e.da);
	uint8_t buf[64];
	uint32_t seq = 0;
	atomic_store(&ipc_gate, 1);
	size_t len = make_msg(buf, seq++, sizeof(buf));
	assert_int_equal(ipc_service_send(&a.ept, buf, len), (int)len);
	assert_true(gate_wait_held());
	int inl = 0, blk = 0, r_last = 0;
	for (;;) {
		len = make_msg(buf, seq, sizeof(buf));
		int had = ipc_multi_free_blocks(e.da);
		r_last = ipc_service_send(&a.ept, buf, len);
		if (r_last != (int)len)
			break;
		seq++;
		if (ipc_multi_free_blocks(e.da) == had)
			inl++;
		else
			blk++;
		assert_true(inl + blk < 10000);
	}
	assert_int_equal(r_last, -ENOMEM);
	uint32_t blen = d->tx.cfg.data_len, wr = ctrl_index(e.da);
	uint32_t rd = __atomic_load_n((const uint32_t *)d->tx.cfg.mem, __ATOMIC_ACQUIRE); /* PBUF_RD_IDX_OFF 0 */
	uint32_t room = blen - (wr + blen - rd) % blen;
	print_message("      %d inline, then %d in blocks (of %d); %u bytes of the ring left, %u kept\n", inl, blk, full,
		      room, d->ring_keep);
	assert_true(inl > 0);
	assert_int_equal(blk, full);
	/* the blocks' DATA went into the room kept: some of it is still there */
	assert_true(room + (uint32_t)blk * IPC_MULTI_RING_PER_MSG >= d->ring_keep);
	atomic_store(&ipc_gate, 0);
	assert_true(wait_for(&r.received, inl + blk + 1));
	wait_blocks_back(e.da, full);
	/* and inline again */
	uint32_t before = ctrl_index(e.da);
	len = make_msg(buf, seq++, 40);
	assert_int_equal(ipc_service_send(&a.ept, buf, len), (int)len);
	assert_int_equal(ctrl_written(e.da, before), 4u + 4u + len);
	assert_true(wait_for(&r.received, inl + blk + 2));
	pair_down(&e, &a, &r);
}

/*
 * A corrupt INLINE is reported and dropped, and the link goes on: a length that disagrees with the packet, 0, or
 * above what this side takes (the APU takes 32 bytes here), and an unknown address. A valid one is delivered.
 */
static void test_inline_corruption(void **state)
{
	(void)state;
	struct env e;
	struct side a, r;
	env_up_inline(&e, 32, 64);
	pair_bind(&e, &a, &r, "ic", false);
	struct ipc_multi_data *dr = e.dr->data;
	uint8_t addr = 0xFF;
	for (unsigned i = 0; i < IPC_MULTI_MAX_EPT; i++)
		if (dr->ept[i].used && dr->ept[i].cfg == &r.cfg)
			addr = (uint8_t)i; /* RPU1 is the initiator: the address is its slot */
	assert_true(addr < IPC_MULTI_MAX_EPT);
	struct {
		const char *id;
		uint8_t hdr[4];
		uint16_t payload; /* bytes after the header */
		bool expect_error;
	} rows[] = {
		{ "I01 INLINE length above the packet", { 6, addr, 9, 0 }, 8, true },
		{ "I02 INLINE length below the packet", { 6, addr, 7, 0 }, 8, true },
		{ "I03 INLINE length 0", { 6, addr, 0, 0 }, 0, true },
		{ "I04 INLINE above this side's inline-max", { 6, addr, 40, 0 }, 40, true },
		{ "I05 INLINE to an unknown address", { 6, 200, 8, 0 }, 8, true },
		{ "I06 INLINE valid", { 6, addr, 8, 0 }, 8, false },
	};
	for (size_t i = 0; i < AMPL_ARRAY_SIZE(rows); i++) {
		uint8_t pkt[4 + 40];
		memcpy(pkt, rows[i].hdr, 4);
		/* the valid one continues the sequence (make_msg() writes at least 8 bytes) */
		(void)make_msg(pkt + 4, atomic_load(&a.next_seq), rows[i].payload);
		int got = atomic_load(&a.received);
		inject_row(&e, &a, rows[i].id, pkt, (uint16_t)(4 + rows[i].payload), rows[i].expect_error);
		if (rows[i].expect_error)
			assert_int_equal(atomic_load(&a.received), got);
		else
			assert_true(wait_for(&a.received, got + 1));
	}
	assert_int_equal(a.bad, 0);
	/* the link still works afterwards, both ways */
	uint8_t m[32];
	size_t n = make_msg(m, 0, sizeof(m));
	assert_int_equal(ipc_service_send(&a.ept, m, n), (int)n);
	assert_true(wait_for(&r.received, 1));
	assert_int_equal(r.bad, 0);
	assert_int_equal(ipc_service_deregister_endpoint(&a.ept), 0);
	assert_int_equal(ipc_service_deregister_endpoint(&r.ept), 0);
	env_down(&e);
}

/* `inline-max` above what this build reads (IPC_MULTI_INLINE_MAX) is refused by name, node and property, and a
 * configuration's inline_max above it by ipc_multi_open_instance(). */
static void test_inline_max_checked(void **state)
{
	(void)state;
	char name[64];
	snprintf(name, sizeof(name), "t-multi-%d-%u", (int)getpid(), soc_counter++);
	assert_int_equal(board_create_multi_inline(name, IPC_MULTI_INLINE_MAX + 1u, 0), -EINVAL);
	const char *why = ampl_soc_last_error();
	print_message("      %s\n", why);
	assert_non_null(strstr(why, "ipc-multi-apu"));
	assert_non_null(strstr(why, "inline-max"));
	void *out;
	size_t size;
	assert_int_equal(ampl_dt_set_u32(ampl_default_board_dtb, ampl_default_board_dtb_size, "/no-such-node", "x", 1,
					 &out, &size), -ENOENT);
	assert_int_equal(ampl_dt_set_u32("not a tree", 10, "/", "x", 1, &out, &size), -EINVAL);

	/* A configuration written by hand is checked at open: the APU's, its channels free again, with inline_max one
	 * above the build's limit is refused; at the limit it opens. */
	struct env e;
	env_up(&e);
	assert_int_equal(ipc_service_close_instance(e.da), 0);
	struct ipc_multi_config cfg = *(const struct ipc_multi_config *)e.da->config;
	static struct ipc_multi_data data;
	memset(&data, 0, sizeof(data));
	struct ampl_device dev = { .name = "multi-hand", .api = &ipc_multi_backend, .config = &cfg, .data = &data };
	cfg.inline_max = (uint8_t)(IPC_MULTI_INLINE_MAX + 1u);
	assert_int_equal(ipc_multi_open_instance(&dev), -EINVAL);
	cfg.inline_max = (uint8_t)IPC_MULTI_INLINE_MAX;
	assert_int_equal(ipc_multi_open_instance(&dev), 0);
	assert_int_equal(ipc_multi_close_instance(&dev), 0);
	env_down(&e);
}

#if AMPL_IPC_ONE_BACKEND
/* The front end built for this backend alone (AMPL_IPC_ONE_BACKEND): see one_backend.h. */
static void test_one_backend(void **state)
{
	(void)state;
	check_one_backend(&ipc_multi_backend);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind_initiator_first),
		cmocka_unit_test(test_bind_follower_first),
		cmocka_unit_test(test_zero_copy_compiled_out),
#if AMPL_IPC_MULTI_ZERO_COPY /* they use the zero-copy calls */
		cmocka_unit_test(test_zero_copy_codes),
		cmocka_unit_test(test_traffic),
		cmocka_unit_test(test_exhaustion),
#endif
		cmocka_unit_test(test_deregister),
		cmocka_unit_test(test_doorbell_only_when_needed),
		cmocka_unit_test(test_polled_reader),
		cmocka_unit_test(test_release_batched),
#if AMPL_IPC_MULTI_ZERO_COPY
		cmocka_unit_test(test_next_fit),
		cmocka_unit_test(test_blocked_sender_wakes),
		cmocka_unit_test(test_corruption),
#endif
#if AMPL_IPC_MULTI_ZERO_COPY
		cmocka_unit_test(test_restart_initiator),
		cmocka_unit_test(test_restart_follower),
		cmocka_unit_test(test_restart_reclaims_blocks),
		cmocka_unit_test(test_restart_during_traffic),
#endif
#if AMPL_IPC_ONE_BACKEND
		cmocka_unit_test(test_one_backend),
#endif
		cmocka_unit_test(test_peer_offline_online),
		cmocka_unit_test(test_close_under_rebind),
		cmocka_unit_test(test_inline_wire),
		cmocka_unit_test(test_inline_as_the_peer_takes),
#if AMPL_IPC_MULTI_ZERO_COPY
		cmocka_unit_test(test_inline_hold),
#endif
		cmocka_unit_test(test_inline_ring_full),
		cmocka_unit_test(test_inline_corruption),
		cmocka_unit_test(test_inline_max_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
