/*
 * The multi-endpoint zero-copy backend on the virtual SoC (APU <-> RPU1, each agent with its interrupt thread):
 * binding by name in both registration orders, every zero-copy return code, traffic on several endpoints at once,
 * block exhaustion and bounded waits, hold/release across threads, deregistration, and corrupt control messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <amplink/ipc/ipc_multi.h>
#include <amplink/ipc_service.h>
#include <amplink/mailbox_controller.h>
#include <amplink/soc.h>

static unsigned soc_counter;

struct env {
	char name[64];
	struct ampl_soc *soc;
	struct ampl_agent *apu, *rpu1;
	const struct device *da, *dr; /* APU (follower: its rx region is higher) and RPU1 (initiator) */
};

static void env_up(struct env *e)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "t-multi-%d-%u", (int)getpid(), soc_counter++);
	int ret = ampl_soc_create(e->name, &ampl_soc_zynqmp, NULL, 0);
	if (ret)
		fail_msg("ampl_soc_create: %d %s", ret, ampl_soc_last_error());
	assert_int_equal(ampl_soc_open(e->name, &e->soc), 0);
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	assert_int_equal(ampl_agent_attach(e->soc, "apu", &o, &e->apu), 0);
	assert_int_equal(ampl_agent_attach(e->soc, "rpu1", &o, &e->rpu1), 0);
	ret = ampl_agent_ipc_instance(e->apu, "ipc_multi_apu", &e->da);
	if (ret)
		fail_msg("ipc instance apu: %d %s", ret, ampl_soc_last_error());
	assert_int_equal(ampl_agent_ipc_instance(e->rpu1, "ipc_multi_rpu1", &e->dr), 0);
	assert_int_equal(ipc_service_open_instance(e->da), 0);
	assert_int_equal(ipc_service_open_instance(e->dr), 0);
	assert_int_equal(ipc_service_open_instance(e->dr), -EALREADY);
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
	struct ipc_ept ept;
	struct ipc_ept_cfg cfg;
	char name[16];
	_Atomic int bound, unbound, errors, received, bad;
	_Atomic uint32_t next_seq;
	_Atomic int hold_mode;   /* 1: hold every buffer and queue it for another thread */
	_Atomic int hold_ret[2]; /* results of hold and of a second hold */
	void *_Atomic held[MAX_HELD];
	_Atomic int nheld;
	char last_error[160];
};

static uint32_t csum(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void cb_bound(void *priv)
{
	atomic_fetch_add(&((struct side *)priv)->bound, 1);
}

static void cb_unbound(void *priv)
{
	atomic_fetch_add(&((struct side *)priv)->unbound, 1);
}

static void cb_error(const char *msg, void *priv)
{
	struct side *s = priv;
	snprintf(s->last_error, sizeof(s->last_error), "%s", msg);
	atomic_fetch_add(&s->errors, 1);
}

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

static bool wait_for(_Atomic int *v, int want)
{
	for (int i = 0; i < 5000; i++) {
		if (atomic_load(v) >= want)
			return true;
		usleep(1000);
	}
	return false;
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

static void reg(const struct device *dev, struct side *s)
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
	int r = ipc_service_get_tx_buffer(&c->a.ept, &c->buf, &c->size, K_NO_WAIT);
	assert_int_equal(c->size, (uint32_t)ipc_service_get_tx_buffer_size(&c->a.ept));
	return r;
}
static int z_get_small(struct zc_ctx *c)
{
	c->size = 10;
	int r = ipc_service_get_tx_buffer(&c->a.ept, &c->buf, &c->size, K_NO_WAIT);
	assert_true(r || c->size >= 10);
	return r;
}
static int z_get_again(struct zc_ctx *c)
{
	uint32_t sz = 10;
	return ipc_service_get_tx_buffer(&c->a.ept, &c->buf2, &sz, K_NO_WAIT);
}
static int z_get_too_big(struct zc_ctx *c)
{
	uint32_t max = (uint32_t)ipc_service_get_tx_buffer_size(&c->a.ept);
	c->size = max + 1;
	int r = ipc_service_get_tx_buffer(&c->a.ept, &c->buf2, &c->size, K_NO_WAIT);
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
			r = ipc_service_get_tx_buffer(&t->s->ept, &b, &sz, K_MSEC(100));
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
	assert_int_equal(ipc_service_get_tx_buffer(&a.ept, &b, &sz, K_NO_WAIT), -ENOBUFS);
	uint64_t t0 = ampl_os_uptime_us();
	assert_int_equal(ipc_service_get_tx_buffer(&a.ept, &b, &sz, K_MSEC(50)), -ENOBUFS);
	uint64_t dt = ampl_os_uptime_us() - t0;
	printf("  bounded wait timed out after %llu us\n", (unsigned long long)dt);
	assert_true(dt >= 50000 && dt < 2000000);
	/* another thread releases after 30 ms: a 2 s wait succeeds early */
	struct rel_arg ra = { .s = &r, .delay_ms = 30 };
	pthread_t th;
	pthread_create(&th, NULL, release_later, &ra);
	t0 = ampl_os_uptime_us();
	assert_int_equal(ipc_service_get_tx_buffer(&a.ept, &b, &sz, K_MSEC(2000)), 0);
	dt = ampl_os_uptime_us() - t0;
	printf("  bounded wait succeeded after %llu us\n", (unsigned long long)dt);
	assert_true(dt < 1500000);
	pthread_join(th, NULL);
	assert_int_equal(ra.released, sent);
	atomic_store(&r.hold_mode, 0);
	assert_int_equal(ipc_service_send_nocopy(&a.ept, b, 8), 8);
	for (int i = 0; i < 1000 && ipc_multi_free_blocks(e.da) != nblocks; i++)
		usleep(1000);
	assert_int_equal(ipc_multi_free_blocks(e.da), nblocks);
	/* send_nocopy with a shorter length frees the tail blocks at once */
	sz = 0;
	assert_int_equal(ipc_service_get_tx_buffer(&a.ept, &b, &sz, K_NO_WAIT), 0);
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

/* ---- corruption: the initiator (RPU1) writes bad control messages and buffers ---- */

static void inject(const struct device *dev, const uint8_t *msg, uint16_t len)
{
	struct ipc_multi_data *d = dev->data;
	unsigned key = ampl_spin_lock(&d->lock);
	assert_true(pbuf_write(&d->tx, msg, len) > 0);
	if (mbox_send_message(d->tx_chan, NULL) >= 0)
		ampl_mbox_poll_kick(d->tx_chan->mbox);
	ampl_spin_unlock(&d->lock, key);
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
		int before = atomic_load(&a.errors) + (int)ipc_multi_errors(e.da);
		inject(e.dr, rows[i].msg, rows[i].len);
		usleep(20000);
		int after = atomic_load(&a.errors) + (int)ipc_multi_errors(e.da);
		printf("  %-44s errors +%d  \"%s\"\n", rows[i].id, after - before, a.last_error);
		if (rows[i].expect_error)
			assert_true(after > before);
		else
			assert_int_equal(after, before);
	}
	/* the link still works afterwards */
	uint8_t m[32];
	size_t n = make_msg(m, 0, sizeof(m));
	assert_int_equal(ipc_service_send(&r.ept, m, n), (int)n);
	assert_true(wait_for(&a.received, 1));
	assert_int_equal(a.bad, 0);
	env_down(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind_initiator_first),
		cmocka_unit_test(test_bind_follower_first),
		cmocka_unit_test(test_zero_copy_codes),
		cmocka_unit_test(test_traffic),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_deregister),
		cmocka_unit_test(test_corruption),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
