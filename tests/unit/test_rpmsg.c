/*
 * RPMsg over virtio, both roles in one process over one calloc'd region. Each side has an "interrupt" thread that
 * sleeps on a semaphore (its doorbell) and runs rpmsg_virtio_notified() for its device, so every callback runs in
 * another thread, as on hardware. The notify hook of one side posts the other side's semaphore.
 *
 * Covered: start in either order; name-service binding in either order; static and dynamic addresses;
 * send / trysend / sendto; RPMSG_ERR_BUFF_SIZE instead of truncation; buffer exhaustion (trysend, a blocking send
 * that sleeps until the peer releases a held buffer, a timeout); zero-copy TX and RX and their error cases; destroy
 * (the peer's ns_unbind_cb; waiting for a running callback; from inside the callback); remote restart, host
 * restart and peer_lost, with nothing stale delivered after the rebind; the peer quirks amplink tolerates; the
 * remote against a host played by the test with OpenAMP's buffer accounting (used.len taken as a buffer's size);
 * corrupt shared-memory values (error callback, no crash); a multi-threaded stress run with self-checking payloads.
 *
 * Nothing relies on a sleep for correctness: conditions are awaited with a bounded loop (WAIT_FOR, 20 s), so the
 * tests pass under ThreadSanitizer on a loaded machine. AMPL_TEST_SCALE=sanitizer shortens the stress run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "churn.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <amplink/ipc/ipc_rpmsg.h>
#include <amplink/ipc/rpmsg.h>
#include <amplink/ipc_service.h>
#include <amplink/host/soc.h>

#include "one_backend.h"

#define DA_BASE 0x20000000u

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void nap_us(long us)
{
	struct timespec ts = { 0, us * 1000 };
	nanosleep(&ts, NULL);
}

#define WAIT_MS 20000u
#define WAIT_FOR(cond)                                                                                             \
	do {                                                                                                       \
		uint64_t t0_ = now_ms();                                                                           \
		while (!(cond)) {                                                                                  \
			if (now_ms() - t0_ > WAIT_MS)                                                              \
				fail_msg("%s:%d: timed out waiting for %s", __FILE__, __LINE__, #cond);            \
			nap_us(200);                                                                               \
		}                                                                                                  \
	} while (0)

static bool sanitizer_scale(void)
{
	const char *s = getenv("AMPL_TEST_SCALE");
	return s && strcmp(s, "sanitizer") == 0;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Shared-memory pokes from the test (a corrupt or quirky peer): single-copy atomic, like the library's. */
static void poke16(uint8_t *p, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	uint16_t w;
	memcpy(&w, b, 2);
	__atomic_store_n((uint16_t *)(void *)p, w, __ATOMIC_RELEASE);
}

static void poke32(uint8_t *p, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	uint32_t w;
	memcpy(&w, b, 4);
	__atomic_store_n((uint32_t *)(void *)p, w, __ATOMIC_RELEASE);
}

static uint16_t peek16(const uint8_t *p)
{
	uint16_t w = __atomic_load_n((const uint16_t *)(const void *)p, __ATOMIC_ACQUIRE);
	uint8_t b[2];
	memcpy(b, &w, 2);
	return le16(b);
}

static uint32_t peek32(const uint8_t *p)
{
	uint32_t w = __atomic_load_n((const uint32_t *)(const void *)p, __ATOMIC_ACQUIRE);
	uint8_t b[4];
	memcpy(b, &w, 4);
	return le32(b);
}

/* ---- the two sides ---- */

struct side {
	const char *name;
	struct side *peer;
	struct rpmsg_device dev;
	struct rpmsg_virtio_config cfg;
	pthread_t thr;
	sem_t sem;
	pthread_mutex_t mu;     /* held while the interrupt thread runs notified(): restart takes it */
	bool live;              /* under mu */
	_Atomic bool stop, mute;
	_Atomic unsigned doorbells, handled, by_id[4];
	_Atomic unsigned errors, link_ups, link_downs, binds;
	_Atomic uint32_t bind_dest;
	pthread_mutex_t info_mu;
	char last_error[128], bind_name[RPMSG_NAME_SIZE];
};

struct env {
	uint8_t *shm;
	uint32_t size;
	struct side host, remote;
	struct rpmsg_ns_entry ns[8];
};

static void ring(void *priv, uint32_t notifyid)
{
	struct side *peer = priv;
	atomic_fetch_add(&peer->by_id[notifyid & 3u], 1);
	sem_post(&peer->sem);
}

static struct side *side_of(struct rpmsg_device *rdev)
{
	return rdev->cfg->priv;
}

static void on_error(struct rpmsg_device *rdev, const char *msg)
{
	struct side *s = side_of(rdev);
	pthread_mutex_lock(&s->info_mu);
	snprintf(s->last_error, sizeof(s->last_error), "%s", msg);
	pthread_mutex_unlock(&s->info_mu);
	atomic_fetch_add(&s->errors, 1);
}

static void on_link(struct rpmsg_device *rdev, bool up)
{
	struct side *s = side_of(rdev);
	atomic_fetch_add(up ? &s->link_ups : &s->link_downs, 1);
}

static void on_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	struct side *s = side_of(rdev);
	pthread_mutex_lock(&s->info_mu);
	snprintf(s->bind_name, sizeof(s->bind_name), "%s", name);
	pthread_mutex_unlock(&s->info_mu);
	atomic_store(&s->bind_dest, dest);
	atomic_fetch_add(&s->binds, 1);
}

static void last_error(struct side *s, char *out, size_t n)
{
	pthread_mutex_lock(&s->info_mu);
	snprintf(out, n, "%s", s->last_error);
	pthread_mutex_unlock(&s->info_mu);
}

static void *irq_main(void *arg)
{
	struct side *s = arg;
	for (;;) {
		while (sem_wait(&s->sem) != 0)
			;
		if (atomic_load(&s->stop))
			return NULL;
		atomic_fetch_add(&s->doorbells, 1);
		if (!atomic_load(&s->mute)) { /* else a doorbell lost (or a peer not listening) */
			pthread_mutex_lock(&s->mu);
			if (s->live)
				rpmsg_virtio_notified(&s->dev);
			pthread_mutex_unlock(&s->mu);
		}
		atomic_fetch_add(&s->handled, 1);
	}
}

static void side_setup(struct env *e, struct side *s, const char *name, int role, struct side *peer)
{
	s->name = name;
	s->peer = peer;
	sem_init(&s->sem, 0, 0);
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->info_mu, NULL);
	s->cfg = (struct rpmsg_virtio_config){
		.role = role, .shm = e->shm, .shm_size = e->size, .da_base = DA_BASE, .notify = ring,
		.notify_priv = peer, .error = on_error, .link_cb = on_link, .ns_bind_cb = on_bind, .priv = s,
	};
	if (role == RPMSG_HOST) {
		s->cfg.ns_table = e->ns;
		s->cfg.ns_table_len = 8;
	}
	pthread_create(&s->thr, NULL, irq_main, s);
}

static struct env *env_new(uint32_t size, uint32_t num, uint32_t align)
{
	struct env *e = calloc(1, sizeof(*e));
	e->size = size;
	e->shm = aligned_alloc(4096, size);
	memset(e->shm, 0, size);
	side_setup(e, &e->host, "host", RPMSG_HOST, &e->remote);
	side_setup(e, &e->remote, "remote", RPMSG_REMOTE, &e->host);
	e->remote.cfg.vring_num = num;
	e->remote.cfg.vring_align = align;
	return e;
}

/* (Re)start a side as after a reset: a fresh device object over the same region. */
static void side_start(struct side *s)
{
	pthread_mutex_lock(&s->mu);
	memset(&s->dev, 0, sizeof(s->dev));
	int rc = s->cfg.role == RPMSG_HOST ? rpmsg_virtio_init_host(&s->dev, &s->cfg)
					   : rpmsg_virtio_init_remote(&s->dev, &s->cfg);
	s->live = true;
	pthread_mutex_unlock(&s->mu);
	assert_int_equal(rc, RPMSG_SUCCESS);
}

/* The side's processor stops: nothing of it runs any more (its memory is forgotten at the next start). */
static void side_kill(struct side *s)
{
	pthread_mutex_lock(&s->mu);
	s->live = false;
	pthread_mutex_unlock(&s->mu);
}

/* Wait until the side's interrupt thread has handled every doorbell rung so far. */
static void quiesce(struct side *s)
{
	int v;
	WAIT_FOR(sem_getvalue(&s->sem, &v) == 0 && v == 0 && atomic_load(&s->handled) == atomic_load(&s->doorbells));
}

/* Stop delivering the side's doorbells, once any pass under way has ended (a test poking shared memory next). */
static void mute(struct side *s)
{
	atomic_store(&s->mute, true);
	quiesce(s);
}

static void kick(struct side *s)
{
	sem_post(&s->sem);
}

static void env_up(struct env *e, bool remote_first)
{
	if (remote_first) {
		side_start(&e->remote);
		side_start(&e->host);
	} else {
		side_start(&e->host);
		side_start(&e->remote);
	}
	WAIT_FOR(rpmsg_virtio_link_up(&e->host.dev) && rpmsg_virtio_link_up(&e->remote.dev));
}

static void side_free(struct side *s)
{
	atomic_store(&s->stop, true);
	sem_post(&s->sem);
	pthread_join(s->thr, NULL);
	if (s->live)
		rpmsg_virtio_deinit(&s->dev);
	sem_destroy(&s->sem);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->info_mu);
}

static void env_free(struct env *e)
{
	side_free(&e->host);
	side_free(&e->remote);
	free(e->shm);
	free(e);
}

/* ---- endpoints that record what they get ---- */

#define MAX_HELD 16

struct ep {
	struct rpmsg_endpoint ept;
	_Atomic unsigned rx, unbinds, bad, zero_len;
	_Atomic uint32_t last_src;
	_Atomic size_t last_len;
	_Atomic int hold;            /* 1: hold every RX buffer; 2: hold, release and hold again in the callback */
	_Atomic unsigned rehold;     /* mode 2: the second hold of a delivery was accepted (must stay 0) */
	_Atomic int echo;            /* trysend the payload back */
	_Atomic int destroy_self;    /* destroy the endpoint from inside its callback */
	_Atomic int block;           /* spin inside the callback until cleared */
	_Atomic unsigned block_at;   /* spin inside the callback of the block_at-th message (from 1) until cleared */
	_Atomic int in_cb;
	_Atomic int destroyed;       /* destroy_self done */
	_Atomic unsigned hold_fail;
	pthread_mutex_t mu;
	void *held[MAX_HELD];
	unsigned nheld;
	uint8_t last[1100];
	uint32_t next_seq[4];        /* per stream id: the next sequence number expected */
};

static struct ep *ep_of(struct rpmsg_endpoint *ept)
{
	return AMPL_CONTAINER_OF(ept, struct ep, ept);
}

static uint32_t csum(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* Self-checking payload: stream (1) | seq (4) | checksum of the rest (4) | filler. */
static size_t make_msg(uint8_t *buf, uint8_t stream, uint32_t seq, size_t len)
{
	if (len < 9)
		len = 9;
	buf[0] = stream;
	memcpy(buf + 1, &seq, 4);
	for (size_t i = 9; i < len; i++)
		buf[i] = (uint8_t)(seq * 7u + i * 13u + stream);
	uint32_t c = csum(buf + 9, len - 9);
	memcpy(buf + 5, &c, 4);
	return len;
}

static int ep_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	struct ep *ep = priv;
	assert_ptr_equal(ep, ep_of(ept));
	atomic_store(&ep->in_cb, 1);
	while (atomic_load(&ep->block) || atomic_load(&ep->block_at) == atomic_load(&ep->rx) + 1u)
		nap_us(100);
	pthread_mutex_lock(&ep->mu);
	if (len <= sizeof(ep->last))
		memcpy(ep->last, data, len);
	if (len >= 9 && ((uint8_t *)data)[0] < 4) {
		const uint8_t *p = data;
		uint32_t seq, c;
		memcpy(&seq, p + 1, 4);
		memcpy(&c, p + 5, 4);
		if (seq != ep->next_seq[p[0]] || c != csum(p + 9, len - 9))
			atomic_fetch_add(&ep->bad, 1);
		ep->next_seq[p[0]] = seq + 1;
	}
	if (atomic_load(&ep->hold) == 2) {
		if (rpmsg_hold_rx_buffer(ept, data) != RPMSG_SUCCESS || rpmsg_release_rx_buffer(ept, data) != RPMSG_SUCCESS)
			atomic_fetch_add(&ep->hold_fail, 1);
		else if (rpmsg_hold_rx_buffer(ept, data) != RPMSG_ERR_PARAM)
			atomic_fetch_add(&ep->rehold, 1);
	} else if (atomic_load(&ep->hold)) {
		if (ep->nheld < MAX_HELD && rpmsg_hold_rx_buffer(ept, data) == RPMSG_SUCCESS)
			ep->held[ep->nheld++] = data;
		else
			atomic_fetch_add(&ep->hold_fail, 1);
	}
	pthread_mutex_unlock(&ep->mu);
	atomic_store(&ep->last_src, src);
	atomic_store(&ep->last_len, len);
	if (len == 0)
		atomic_fetch_add(&ep->zero_len, 1);
	if (atomic_load(&ep->echo))
		(void)rpmsg_trysendto(ept, data, (int)len, src);
	atomic_store(&ep->in_cb, 0);
	atomic_fetch_add(&ep->rx, 1);
	if (atomic_load(&ep->destroy_self)) {
		rpmsg_destroy_ept(ept);
		atomic_store(&ep->destroyed, 1);
	}
	return RPMSG_SUCCESS;
}

static void ep_unbind(struct rpmsg_endpoint *ept)
{
	atomic_fetch_add(&ep_of(ept)->unbinds, 1);
}

static struct ep *ep_new(void)
{
	struct ep *ep = calloc(1, sizeof(*ep));
	pthread_mutex_init(&ep->mu, NULL);
	ep->ept.priv = ep;
	return ep;
}

static struct ep *ep_create(struct side *s, const char *name, uint32_t src, uint32_t dest)
{
	struct ep *ep = ep_new();
	int rc = rpmsg_create_ept(&ep->ept, &s->dev, name, src, dest, ep_cb, ep_unbind);
	if (rc)
		fail_msg("create %s on %s: %d", name ? name : "(none)", s->name, rc);
	return ep;
}

static void ep_free(struct ep *ep)
{
	if (!ep)
		return;
	rpmsg_destroy_ept(&ep->ept);
	pthread_mutex_destroy(&ep->mu);
	free(ep);
}

static void *pop_held(struct ep *ep)
{
	pthread_mutex_lock(&ep->mu);
	void *p = ep->nheld ? ep->held[--ep->nheld] : NULL;
	pthread_mutex_unlock(&ep->mu);
	return p;
}

static unsigned nheld(struct ep *ep)
{
	pthread_mutex_lock(&ep->mu);
	unsigned n = ep->nheld;
	pthread_mutex_unlock(&ep->mu);
	return n;
}

static bool last_is(struct ep *ep, const void *data, size_t len)
{
	pthread_mutex_lock(&ep->mu);
	bool eq = atomic_load(&ep->last_len) == len && memcmp(ep->last, data, len) == 0;
	pthread_mutex_unlock(&ep->mu);
	return eq;
}

static uint32_t dest(struct ep *ep)
{
	return __atomic_load_n(&ep->ept.dest_addr, __ATOMIC_RELAXED);
}

/* ---- start-up and binding ---- */

static void check_start(bool remote_first, bool host_ep_first)
{
	struct env *e = env_new(0x20000, 16, 16);
	struct ep *h = NULL, *r;
	/* Endpoints may exist before the link: the remote's is announced when it comes up. */
	if (remote_first) {
		side_start(&e->remote);
		r = ep_create(&e->remote, "chan", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
		if (host_ep_first) {
			/* The remote sees the host's handshake only after the host's endpoint exists. */
			mute(&e->remote);
			side_start(&e->host);
			h = ep_create(&e->host, "chan", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
			atomic_store(&e->remote.mute, false);
			kick(&e->remote);
		} else {
			side_start(&e->host);
		}
	} else {
		side_start(&e->host);
		if (host_ep_first)
			h = ep_create(&e->host, "chan", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
		side_start(&e->remote);
		r = ep_create(&e->remote, "chan", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	}
	WAIT_FOR(rpmsg_virtio_link_up(&e->host.dev) && rpmsg_virtio_link_up(&e->remote.dev));
	assert_int_equal(r->ept.addr, 1024);
	if (!h) {
		/* The announcement arrives first: ns_bind_cb, remembered; the endpoint created then binds at once. */
		WAIT_FOR(atomic_load(&e->host.binds) == 1);
		assert_int_equal(atomic_load(&e->host.bind_dest), 1024);
		h = ep_create(&e->host, "chan", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
		assert_int_equal(dest(h), 1024);
	} else {
		WAIT_FOR(dest(h) == 1024);
		assert_int_equal(atomic_load(&e->host.binds), 0);
	}
	assert_true(is_rpmsg_ept_ready(&h->ept));
	/* The remote's endpoint binds on the first message (a zero-length one is delivered: a bind confirmation). */
	assert_false(is_rpmsg_ept_ready(&r->ept));
	assert_int_equal(rpmsg_send(&h->ept, NULL, 0), 0);
	WAIT_FOR(atomic_load(&r->zero_len) == 1);
	assert_int_equal(atomic_load(&r->last_src), h->ept.addr);
	assert_int_equal(dest(r), h->ept.addr);
	assert_true(is_rpmsg_ept_ready(&r->ept));
	assert_int_equal(rpmsg_send(&r->ept, "pong", 4), 4);
	WAIT_FOR(atomic_load(&h->rx) == 1);
	assert_true(last_is(h, "pong", 4));
	assert_int_equal(atomic_load(&e->host.link_ups), 1);
	assert_int_equal(atomic_load(&e->remote.link_ups), 1);
	assert_int_equal(atomic_load(&e->host.errors) + atomic_load(&e->remote.errors), 0);
	ep_free(h);
	ep_free(r);
	env_free(e);
}

static void test_start_remote_first(void **state)
{
	(void)state;
	check_start(true, false);
	check_start(true, true);
}

static void test_start_host_first(void **state)
{
	(void)state;
	check_start(false, false);
	check_start(false, true);
}

/* The host announces too (OpenAMP hosts do): the remote binds from it. */
static void test_host_announce(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 16, 16);
	e->host.cfg.host_announce = true;
	env_up(e, true);
	struct ep *r = ep_create(&e->remote, "svc", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	struct ep *h = ep_create(&e->host, "svc", 700, RPMSG_ADDR_ANY); /* an announced endpoint, fixed address */
	WAIT_FOR(dest(r) == 700 && dest(h) == r->ept.addr);
	assert_int_equal(rpmsg_send(&r->ept, "x", 1), 1);
	WAIT_FOR(atomic_load(&h->rx) == 1);
	/* The host's endpoint has an address below 1024: no DESTROY for it (as OpenAMP). */
	ep_free(h);
	h = NULL;
	nap_us(20000);
	assert_int_equal(atomic_load(&r->unbinds), 0);
	ep_free(r);
	env_free(e);
}

/*
 * The name service is a build option (AMPL_RPMSG_NS): with it, the remote offers VIRTIO_RPMSG_F_NS, the host
 * accepts it and a named endpoint binds from the peer's announcement; without it neither side offers or accepts
 * the feature, nothing is announced, a message to address 53 is dropped like any other to an address nobody has,
 * and endpoints bind to a fixed destination or from the first message they receive.
 */
static void test_name_service_option(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 16, 16);
	env_up(e, true);
	uint32_t ns_bit = 1u << VIRTIO_RPMSG_F_NS;
	if ((peek32(e->shm + 0x24) & ns_bit) != (AMPL_RPMSG_NS ? ns_bit : 0u))
		fail_msg("AMPL_RPMSG_NS %d: the remote's device features are 0x%x", AMPL_RPMSG_NS, peek32(e->shm + 0x24));
	if ((peek32(e->shm + 0x28) & ns_bit) != (AMPL_RPMSG_NS ? ns_bit : 0u))
		fail_msg("AMPL_RPMSG_NS %d: the host's accepted features are 0x%x", AMPL_RPMSG_NS, peek32(e->shm + 0x28));
	/* dev.ns is written by each side's interrupt thread when the link comes up: read it under the side's lock. */
	struct side *sides[2] = { &e->host, &e->remote };
	for (unsigned i = 0; i < 2; i++) {
		pthread_mutex_lock(&sides[i]->mu);
		bool ns = sides[i]->dev.ns;
		pthread_mutex_unlock(&sides[i]->mu);
		assert_int_equal(ns, AMPL_RPMSG_NS);
	}
	struct ep *r = ep_create(&e->remote, "chan", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	struct ep *h;
	if (AMPL_RPMSG_NS) {
		WAIT_FOR(atomic_load(&e->host.binds) == 1); /* the announcement */
		h = ep_create(&e->host, "chan", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
		assert_int_equal(dest(h), r->ept.addr);
	} else {
		h = ep_create(&e->host, "chan", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
		nap_us(20000);
		quiesce(&e->host);
		assert_int_equal(atomic_load(&e->host.binds), 0); /* nothing announced */
		assert_int_equal(dest(h), RPMSG_ADDR_ANY);
		/* A name-service message is an ordinary message to an address nobody has: dropped, counted. */
		struct ep *f = ep_create(&e->host, NULL, 900, RPMSG_ADDR_ANY);
		uint8_t ns[40] = "chan";
		ns[32] = 0x55;
		uint32_t dropped = atomic_load(&e->remote.dev.stats.dropped);
		assert_int_equal(rpmsg_trysendto(&f->ept, ns, sizeof(ns), RPMSG_NS_EPT_ADDR), (int)sizeof(ns));
		WAIT_FOR(atomic_load(&e->remote.dev.stats.dropped) == dropped + 1);
		assert_int_equal(dest(r), RPMSG_ADDR_ANY);
		ep_free(f);
		/* A fixed destination binds the host's endpoint. */
		ep_free(h);
		h = ep_create(&e->host, "chan", RPMSG_ADDR_ANY, r->ept.addr);
	}
	/* The remote's endpoint binds from the first message either way. */
	assert_int_equal(rpmsg_send(&h->ept, "ping", 4), 4);
	WAIT_FOR(atomic_load(&r->rx) == 1);
	assert_int_equal(dest(r), h->ept.addr);
	assert_int_equal(rpmsg_send(&r->ept, "pong", 4), 4);
	WAIT_FOR(atomic_load(&h->rx) == 1);
	assert_true(last_is(h, "pong", 4));
	assert_int_equal(atomic_load(&e->host.errors) + atomic_load(&e->remote.errors), 0);
	ep_free(h);
	ep_free(r);
	env_free(e);
}

/* ---- addresses ---- */

static void test_addresses(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 16, 16);
	env_up(e, true);
	/* Static: below 1024 not checked (two endpoints may even share one, as OpenAMP); >= 1024 checked. */
	struct ep *a = ep_create(&e->host, NULL, 30, 40);
	struct ep *b = ep_create(&e->remote, NULL, 40, 30);
	struct ep *c = ep_new();
	assert_int_equal(rpmsg_create_ept(&c->ept, &e->host.dev, NULL, 2000, RPMSG_ADDR_ANY, ep_cb, NULL), 0);
	struct ep *d = ep_new();
	assert_int_equal(rpmsg_create_ept(&d->ept, &e->host.dev, NULL, 2000, RPMSG_ADDR_ANY, ep_cb, NULL), RPMSG_ERR_ADDR);
	assert_int_equal(rpmsg_create_ept(&d->ept, &e->host.dev, NULL, 1030, RPMSG_ADDR_ANY, ep_cb, NULL), 0);
	/* Registering the same object twice, a NULL callback, a name too long. */
	assert_int_equal(rpmsg_create_ept(&d->ept, &e->host.dev, NULL, 1031, RPMSG_ADDR_ANY, ep_cb, NULL), RPMSG_ERR_PARAM);
	struct ep *x = ep_new();
	assert_int_equal(rpmsg_create_ept(&x->ept, &e->host.dev, NULL, RPMSG_ADDR_ANY, 1, NULL, NULL), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_create_ept(&x->ept, &e->host.dev, "0123456789abcdef0123456789abcdef", RPMSG_ADDR_ANY, 1,
					  ep_cb, NULL), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_create_ept(&x->ept, NULL, NULL, RPMSG_ADDR_ANY, 1, ep_cb, NULL), RPMSG_ERR_PARAM);
	/* Dynamic: 1024 upwards, skipping 1030 (taken by a fixed address in range); with AMPL_RPMSG_DYN_ADDR
	 * exhausted after 128 and a freed one is reused, without it a counter: no limit, never the same twice. */
	static struct rpmsg_endpoint dyn[200];
	memset(dyn, 0, sizeof(dyn));
	unsigned made = 0;
#if !AMPL_RPMSG_DYN_ADDR
	for (; made < 200; made++) {
		assert_int_equal(rpmsg_create_ept(&dyn[made], &e->host.dev, NULL, RPMSG_ADDR_ANY, 1, ep_cb, NULL), 0);
		assert_int_equal(dyn[made].addr, 1024u + made + (made >= 6));
	}
	rpmsg_destroy_ept(&dyn[10]);
	assert_int_equal(rpmsg_create_ept(&dyn[10], &e->host.dev, NULL, RPMSG_ADDR_ANY, 1, ep_cb, NULL), 0);
	assert_int_equal(dyn[10].addr, 1024u + 201u);
	/* A fixed address the counter reaches later is skipped then. */
	rpmsg_destroy_ept(&dyn[11]);
	assert_int_equal(rpmsg_create_ept(&dyn[11], &e->host.dev, NULL, 1226, RPMSG_ADDR_ANY, ep_cb, NULL), 0);
	static struct rpmsg_endpoint late;
	assert_int_equal(rpmsg_create_ept(&late, &e->host.dev, NULL, RPMSG_ADDR_ANY, 1, ep_cb, NULL), 0);
	assert_int_equal(late.addr, 1227u);
	rpmsg_destroy_ept(&late);
#else

	for (unsigned i = 0; i < 128; i++) {
		int rc = rpmsg_create_ept(&dyn[i], &e->host.dev, NULL, RPMSG_ADDR_ANY, 1, ep_cb, NULL);
		if (rc == RPMSG_ERR_ADDR)
			break;
		assert_int_equal(rc, 0);
		assert_true(dyn[i].addr >= 1024 && dyn[i].addr < 1152 && dyn[i].addr != 1030);
		made++;
	}
	assert_int_equal(made, 127);
	assert_int_equal(dyn[0].addr, 1024);
	assert_int_equal(dyn[6].addr, 1031);
	/* A freed one is reused (round robin: after the others). */
	uint32_t freed = dyn[10].addr;
	rpmsg_destroy_ept(&dyn[10]);
	assert_int_equal(rpmsg_create_ept(&dyn[10], &e->host.dev, NULL, RPMSG_ADDR_ANY, 1, ep_cb, NULL), 0);
	assert_int_equal(dyn[10].addr, freed);
#endif
	for (unsigned i = 0; i < made; i++)
		rpmsg_destroy_ept(&dyn[i]);
	/* Static endpoints talk with explicit destinations both ways. */
	assert_int_equal(rpmsg_send(&a->ept, "to40", 4), 4);
	assert_int_equal(rpmsg_trysend(&b->ept, "to30", 4), 4);
	WAIT_FOR(atomic_load(&a->rx) == 1 && atomic_load(&b->rx) == 1);
	assert_true(last_is(b, "to40", 4));
	assert_true(last_is(a, "to30", 4));
	assert_int_equal(atomic_load(&a->last_src), 40);
	/* sendto another address, and offchannel (a chosen source). */
	assert_int_equal(rpmsg_sendto(&b->ept, "c", 1, 2000), 1);
	WAIT_FOR(atomic_load(&c->rx) == 1);
	assert_int_equal(atomic_load(&c->last_src), 40);
	assert_int_equal(rpmsg_send_offchannel(&b->ept, 77, 2000, "d", 1), 1);
	WAIT_FOR(atomic_load(&c->rx) == 2);
	assert_int_equal(atomic_load(&c->last_src), 77);
	assert_int_equal(rpmsg_trysend_offchannel(&b->ept, 78, 2000, "e", 1), 1);
	WAIT_FOR(atomic_load(&c->rx) == 3);
	assert_int_equal(atomic_load(&c->last_src), 78);
	/* A message to an address nobody has is dropped and counted. */
	uint32_t dropped = atomic_load(&e->host.dev.stats.dropped);
	assert_int_equal(rpmsg_trysendto(&b->ept, "f", 1, 3333), 1);
	WAIT_FOR(atomic_load(&e->host.dev.stats.dropped) == dropped + 1);
	/* Argument errors of the sends. */
	assert_int_equal(rpmsg_trysendto(&b->ept, "f", 1, RPMSG_ADDR_ANY), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_trysendto(&b->ept, "f", -1, 30), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_trysendto(&b->ept, NULL, 1, 30), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_trysendto(NULL, "f", 1, 30), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_send(NULL, "f", 1), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_send(&d->ept, "f", 1), RPMSG_ERR_ADDR); /* not bound */
	assert_int_equal(rpmsg_trysend(&d->ept, "f", 1), RPMSG_ERR_ADDR);
	assert_int_equal(rpmsg_send_nocopy(&d->ept, "f", 1), RPMSG_ERR_ADDR);
	assert_int_equal(atomic_load(&e->host.errors) + atomic_load(&e->remote.errors), 0);
	ep_free(a);
	ep_free(b);
	ep_free(c);
	ep_free(d);
	ep_free(x);
	env_free(e);
}

/* ---- sizes ---- */

static void test_buffer_size(void **state)
{
	(void)state;
	struct env *e = env_new(0x40000, 16, 16);
	e->host.cfg.h2r_buf_size = 256;
	e->host.cfg.r2h_buf_size = 1000; /* rounded up to 1008 */
	env_up(e, false);
	struct ep *h = ep_create(&e->host, NULL, 500, 600);
	struct ep *r = ep_create(&e->remote, NULL, 600, 500);
	assert_int_equal(rpmsg_get_tx_buffer_size(&h->ept), 240);
	assert_int_equal(rpmsg_get_rx_buffer_size(&h->ept), 992);
	assert_int_equal(rpmsg_get_tx_buffer_size(&r->ept), 992); /* learnt at link up from the host's first buffer */
	static uint8_t big[1200];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 31u);
	/* No silent truncation: one byte more than the payload room is refused, nothing is sent. */
	assert_int_equal(rpmsg_send(&h->ept, big, 241), RPMSG_ERR_BUFF_SIZE);
	assert_int_equal(rpmsg_trysend(&r->ept, big, 993), RPMSG_ERR_BUFF_SIZE);
	assert_int_equal(rpmsg_get_tx_buffer_size(&r->ept), 992); /* the buffer it looked at says the same */
	assert_int_equal(rpmsg_send(&h->ept, big, 240), 240);
	assert_int_equal(rpmsg_send(&r->ept, big, 992), 992);
	WAIT_FOR(atomic_load(&h->rx) == 1 && atomic_load(&r->rx) == 1);
	assert_true(last_is(r, big, 240));
	assert_true(last_is(h, big, 992));
	assert_int_equal(rpmsg_get_rx_buffer_size(&r->ept), 240); /* desc.len of the buffer received */
	assert_int_equal(rpmsg_get_tx_buffer_size(NULL), RPMSG_ERR_PARAM);
	assert_int_equal(atomic_load(&e->host.errors) + atomic_load(&e->remote.errors), 0);
	ep_free(h);
	ep_free(r);
	env_free(e);
}

/* ---- exhaustion, blocking, timeouts ---- */

struct blocked_send {
	struct ep *ep;
	int rc;
	_Atomic bool done;
	_Atomic bool *released;
	bool released_at_return;
	uint32_t timeout_ms; /* 0: rpmsg_send() */
	uint64_t elapsed_ms;
};

static void *send_thread(void *arg)
{
	struct blocked_send *bs = arg;
	uint64_t t0 = now_ms();
	bs->rc = bs->timeout_ms ? rpmsg_sendto_timeout(&bs->ep->ept, "late", 4, bs->ep->ept.dest_addr, bs->timeout_ms)
				: rpmsg_send(&bs->ep->ept, "late", 4);
	bs->elapsed_ms = now_ms() - t0;
	bs->released_at_return = bs->released && atomic_load(bs->released);
	atomic_store(&bs->done, true);
	return NULL;
}

/* @sender's peer holds every buffer it receives (8 per direction, the slots' number): sends run dry. */
static void check_exhaustion(bool host_sends)
{
	struct env *e = env_new(0x20000, 8, 16);
	/* Longer than WAIT_FOR's bound: a sender that is not woken when the buffer comes back fails the test
	 * (its last attempt at the deadline would otherwise find the buffer and hide the missing wake-up). */
	e->host.cfg.tx_timeout_ms = e->remote.cfg.tx_timeout_ms = 2 * WAIT_MS;
	env_up(e, true);
	struct ep *h = ep_create(&e->host, NULL, 500, 600);
	struct ep *r = ep_create(&e->remote, NULL, 600, 500);
	struct ep *tx = host_sends ? h : r, *rx = host_sends ? r : h;
	atomic_store(&rx->hold, 1);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(rpmsg_trysend(&tx->ept, "held", 4), 4);
	WAIT_FOR(nheld(rx) == 8);
	assert_int_equal(atomic_load(&rx->hold_fail), 0);
	assert_int_equal(rpmsg_trysend(&tx->ept, "more", 4), RPMSG_ERR_NO_BUFF);
	assert_null(rpmsg_get_tx_payload_buffer(&tx->ept, &(uint32_t){ 0 }, 0));
	/* The reason, and a size no buffer holds refused as such at once, with no buffer free too. */
	void *zc = NULL;
	uint32_t cap = 0;
	assert_int_equal(rpmsg_reserve_tx_buffer(&tx->ept, 4, 0, &zc, &cap), RPMSG_ERR_NO_BUFF);
	assert_int_equal(rpmsg_reserve_tx_buffer(&tx->ept, 512 - 16 + 1, 100, &zc, &cap), RPMSG_ERR_BUFF_SIZE);
	assert_int_equal(cap, 512 - 16);
	assert_int_equal(rpmsg_trysend(&tx->ept, NULL, 512 - 16 + 1), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_trysend(&tx->ept, (uint8_t[512]){ 0 }, 512 - 16 + 1), RPMSG_ERR_BUFF_SIZE);

	/* A bounded wait times out with RPMSG_ERR_NO_BUFF, after the time asked. */
	struct blocked_send to = { .ep = tx, .timeout_ms = 150 };
	send_thread(&to);
	assert_int_equal(to.rc, RPMSG_ERR_NO_BUFF);
	assert_true(to.elapsed_ms >= 150 && to.elapsed_ms < WAIT_MS);

	/* A blocking send sleeps until the receiver releases one held buffer, and not before. */
	_Atomic bool released = false;
	struct blocked_send bs = { .ep = tx, .released = &released };
	pthread_t t;
	pthread_create(&t, NULL, send_thread, &bs);
	nap_us(100000); /* let it block (not needed for correctness: the check is released_at_return) */
	assert_false(atomic_load(&bs.done));
	void *p = pop_held(rx);
	assert_non_null(p);
	atomic_store(&rx->hold, 0); /* "late" is not held: p (its buffer, maybe) is then released for good */
	atomic_store(&released, true);
	assert_int_equal(rpmsg_release_rx_buffer(&rx->ept, p), RPMSG_SUCCESS);
	WAIT_FOR(atomic_load(&bs.done));
	pthread_join(t, NULL);
	assert_int_equal(bs.rc, 4);
	assert_true(bs.released_at_return);
	WAIT_FOR(atomic_load(&rx->rx) == 9); /* "late" arrived */
	assert_true(last_is(rx, "late", 4));
	/* Release errors: twice, a pointer never held, NULL. */
	assert_int_equal(rpmsg_release_rx_buffer(&rx->ept, p), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_release_rx_buffer(&rx->ept, (uint8_t *)p + 1), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_release_rx_buffer(&rx->ept, NULL), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_hold_rx_buffer(&rx->ept, p), RPMSG_ERR_PARAM); /* outside the callback */
	/* Giving every buffer back lets the sender go on. */
	assert_int_equal(nheld(rx), 7);
	for (void *q; (q = pop_held(rx));)
		assert_int_equal(rpmsg_release_rx_buffer(&rx->ept, q), RPMSG_SUCCESS);
	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(rpmsg_send(&tx->ept, "again", 5), 5);
	WAIT_FOR(atomic_load(&rx->rx) == 29);
	assert_int_equal(atomic_load(&e->host.errors) + atomic_load(&e->remote.errors), 0);
	ep_free(h);
	ep_free(r);
	env_free(e);
}

static void test_exhaustion_host_sends(void **state)
{
	(void)state;
	check_exhaustion(true);
}

static void test_exhaustion_remote_sends(void **state)
{
	(void)state;
	check_exhaustion(false);
}

/* A blocked sender fails with RPMSG_ERR_DEV_STATE when the link goes down under it. */
static void test_blocked_sender_link_down(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 8, 16);
	env_up(e, true);
	struct ep *h = ep_create(&e->host, NULL, 500, 600);
	struct ep *r = ep_create(&e->remote, NULL, 600, 500);
	mute(&e->remote); /* the remote stops taking messages: the host runs dry */
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(rpmsg_trysend(&h->ept, "x", 1), 1);
	struct blocked_send bs = { .ep = h };
	pthread_t t;
	pthread_create(&t, NULL, send_thread, &bs);
	nap_us(50000);
	rpmsg_virtio_peer_lost(&e->host.dev);
	WAIT_FOR(atomic_load(&bs.done));
	pthread_join(t, NULL);
	assert_int_equal(bs.rc, RPMSG_ERR_DEV_STATE);
	assert_false(rpmsg_virtio_link_up(&e->host.dev));
	assert_int_equal(rpmsg_trysend(&h->ept, "x", 1), RPMSG_ERR_DEV_STATE);
	ep_free(h);
	ep_free(r);
	env_free(e);
}

/*
 * The size options of a remote image. AMPL_RPMSG_SESSIONS: with it the remote's table lists the vdev and amplink's
 * session entry (remote_sid written; the host answers with its host_sid); without it only the vdev (the session
 * words stay zero and unlisted) and the link comes up on DRIVER_OK alone. AMPL_RPMSG_ZERO_COPY: without it every
 * zero-copy call fails at once (NULL, RPMSG_EOPNOTSUPP), inside a callback too; the copy sends carry the messages.
 */
static void test_size_options(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 16, 16);
	env_up(e, true);
	const uint8_t *ss = e->shm + RPMSG_RSC_SESSION_OFF;
	assert_int_equal(peek32(e->shm + 4), AMPL_RPMSG_SESSIONS ? 2u : 1u); /* entries listed */
	assert_int_equal(peek32(ss), AMPL_RPMSG_SESSIONS ? RPMSG_AMPL_RSC_TYPE : 0u);
	assert_int_equal(peek32(ss + 12) != 0, AMPL_RPMSG_SESSIONS); /* remote_sid */
	assert_int_equal(peek32(ss + 16) != 0, AMPL_RPMSG_SESSIONS); /* host_sid */
	struct ep *r = ep_create(&e->remote, NULL, 40, 30);
	struct ep *h = ep_create(&e->host, NULL, 30, 40);
	atomic_store(&r->hold, 1); /* the remote's callback holds what it receives */
	assert_int_equal(rpmsg_trysend(&h->ept, "ping", 4), 4);
	WAIT_FOR(atomic_load(&r->rx) == 1);
	assert_true(last_is(r, "ping", 4));
	assert_int_equal(atomic_load(&r->hold_fail), AMPL_RPMSG_ZERO_COPY ? 0u : 1u);
	if (AMPL_RPMSG_ZERO_COPY)
		assert_int_equal(rpmsg_release_rx_buffer(&r->ept, r->held[0]), RPMSG_SUCCESS);
	else
		assert_int_equal(rpmsg_release_rx_buffer(&r->ept, "ping"), RPMSG_EOPNOTSUPP);
	uint32_t cap = 0;
	uint8_t *b = rpmsg_get_tx_payload_buffer(&r->ept, &cap, 0);
	if (AMPL_RPMSG_ZERO_COPY) {
		assert_non_null(b);
		memcpy(b, "zc", 2);
		assert_int_equal(rpmsg_send_nocopy(&r->ept, b, 2), 2);
		WAIT_FOR(atomic_load(&h->rx) == 1);
		assert_true(last_is(h, "zc", 2));
	} else {
		assert_null(b);
		assert_int_equal(rpmsg_send_nocopy(&r->ept, "zc", 2), RPMSG_EOPNOTSUPP);
		assert_int_equal(rpmsg_release_tx_buffer(&r->ept, "zc"), RPMSG_EOPNOTSUPP);
	}
	assert_int_equal(rpmsg_trysend(&r->ept, "pong", 4), 4);
	WAIT_FOR(atomic_load(&h->rx) == (AMPL_RPMSG_ZERO_COPY ? 2u : 1u));
	assert_true(last_is(h, "pong", 4));
	assert_int_equal(atomic_load(&e->host.errors) + atomic_load(&e->remote.errors), 0);
	ep_free(h);
	ep_free(r);
	env_free(e);
}

/* ---- zero-copy ---- */

static void check_zero_copy(struct side *txs, struct ep *tx, struct ep *rx)
{
	uint32_t cap = 0;
	uint8_t *b = rpmsg_get_tx_payload_buffer(&tx->ept, &cap, 1);
	assert_non_null(b);
	assert_int_equal(cap, 512 - 16);
	assert_true(b >= (uint8_t *)txs->cfg.shm && b < (uint8_t *)txs->cfg.shm + txs->cfg.shm_size);
	memcpy(b, "zero-copy", 9);
	/* Too long: refused, and the buffer stays reserved. */
	assert_int_equal(rpmsg_send_nocopy(&tx->ept, b, (int)cap + 1), RPMSG_ERR_BUFF_SIZE);
	/* Not a reserved payload pointer: the header, an offset, a stack address, NULL. */
	assert_int_equal(rpmsg_send_nocopy(&tx->ept, b - 16, 9), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_send_nocopy(&tx->ept, b + 4, 5), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_send_nocopy(&tx->ept, &cap, 4), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_send_nocopy(&tx->ept, NULL, 4), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_release_tx_buffer(&tx->ept, b + 1), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_send_nocopy(&tx->ept, b, 9), 9);
	WAIT_FOR(atomic_load(&rx->rx) == 1);
	assert_true(last_is(rx, "zero-copy", 9));
	/* Sent: it is the peer's now; a second send or a release of it is refused. */
	assert_int_equal(rpmsg_send_nocopy(&tx->ept, b, 9), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_release_tx_buffer(&tx->ept, b), RPMSG_ERR_PARAM);

	/* rpmsg_reserve_tx_buffer(): the size asked for is checked against the buffers', and the reason comes back. */
	void *p = NULL;
	uint32_t got = 0;
	assert_int_equal(rpmsg_reserve_tx_buffer(&tx->ept, 512 - 16 + 1, 0, &p, &got), RPMSG_ERR_BUFF_SIZE);
	assert_int_equal(got, 512 - 16);
	assert_null(p);
	got = 0;
	assert_int_equal(rpmsg_reserve_tx_buffer(&tx->ept, 512 - 16, 0, &p, &got), RPMSG_SUCCESS);
	assert_int_equal(got, 512 - 16);
	assert_true((uint8_t *)p >= (uint8_t *)txs->cfg.shm && (uint8_t *)p < (uint8_t *)txs->cfg.shm + txs->cfg.shm_size);
	assert_int_equal(rpmsg_release_tx_buffer(&tx->ept, p), RPMSG_SUCCESS);
	assert_int_equal(rpmsg_reserve_tx_buffer(NULL, 1, 0, &p, &got), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_reserve_tx_buffer(&tx->ept, 1, 0, NULL, &got), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_reserve_tx_buffer(&tx->ept, 1, 0, &p, NULL), RPMSG_ERR_PARAM);

	/* Reserve, release unsent (then never sent: a second release and a send are refused). */
	uint8_t *c = rpmsg_get_tx_payload_buffer(&tx->ept, &cap, 0);
	assert_non_null(c);
	assert_int_equal(rpmsg_release_tx_buffer(&tx->ept, c), RPMSG_SUCCESS);
	assert_int_equal(rpmsg_release_tx_buffer(&tx->ept, c), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_send_nocopy(&tx->ept, c, 1), RPMSG_ERR_PARAM);
	/* sendto_nocopy, zero-length. */
	c = rpmsg_get_tx_payload_buffer(&tx->ept, &cap, 0);
	assert_non_null(c);
	assert_int_equal(rpmsg_sendto_nocopy(&tx->ept, c, 0, tx->ept.dest_addr), 0);
	WAIT_FOR(atomic_load(&rx->zero_len) == 1);
	/* More reservations than slots: the ninth fails (nothing leaks: all come back after). */
	void *r[RPMSG_BUF_SLOTS];
	for (unsigned i = 0; i < RPMSG_BUF_SLOTS; i++) {
		r[i] = rpmsg_get_tx_payload_buffer(&tx->ept, &cap, 0);
		assert_non_null(r[i]);
	}
	assert_null(rpmsg_get_tx_payload_buffer(&tx->ept, &cap, 0));
	assert_int_equal(rpmsg_reserve_tx_buffer(&tx->ept, 1, 0, &p, &got), RPMSG_ERR_NO_MEM);
	for (unsigned i = 0; i < RPMSG_BUF_SLOTS; i++)
		assert_int_equal(rpmsg_release_tx_buffer(&tx->ept, r[i]), RPMSG_SUCCESS);
	for (unsigned i = 0; i < 40; i++)
		assert_int_equal(rpmsg_send(&tx->ept, "after", 5), 5); /* every buffer usable again */
	WAIT_FOR(atomic_load(&rx->rx) == 42);

	/* Zero-copy RX: hold in the callback, read after it returned, release from this thread. */
	atomic_store(&rx->hold, 1);
	assert_int_equal(rpmsg_send(&tx->ept, "held-rx", 7), 7);
	WAIT_FOR(nheld(rx) == 1);
	uint8_t *h = pop_held(rx);
	assert_memory_equal(h, "held-rx", 7);
	atomic_store(&rx->hold, 0);
	assert_int_equal(rpmsg_release_rx_buffer(&rx->ept, h), RPMSG_SUCCESS);
	assert_int_equal(rpmsg_release_rx_buffer(&rx->ept, h), RPMSG_ERR_PARAM);
	assert_int_equal(rpmsg_hold_rx_buffer(&rx->ept, h), RPMSG_ERR_PARAM);
	/* Released in its own callback: the delivery is over for it, a second hold is refused. */
	unsigned before = atomic_load(&rx->rx);
	atomic_store(&rx->hold, 2);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(rpmsg_send(&tx->ept, "rehold", 6), 6);
	WAIT_FOR(atomic_load(&rx->rx) == before + 4);
	atomic_store(&rx->hold, 0);
	assert_int_equal(atomic_load(&rx->hold_fail), 0);
	assert_int_equal(atomic_load(&rx->rehold), 0);
	assert_int_equal(rpmsg_send(&tx->ept, "after", 5), 5); /* its buffer went back to the ring */
	WAIT_FOR(atomic_load(&rx->rx) == before + 5);
	assert_null(rpmsg_get_tx_payload_buffer(NULL, &cap, 0));
	assert_null(rpmsg_get_tx_payload_buffer(&tx->ept, NULL, 0));
}

static void test_zero_copy(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 16, 16);
	env_up(e, true);
	struct ep *h = ep_create(&e->host, NULL, 500, 600);
	struct ep *r = ep_create(&e->remote, NULL, 600, 500);
	check_zero_copy(&e->host, h, r);
	struct ep *h2 = ep_create(&e->host, NULL, 501, 601);
	struct ep *r2 = ep_create(&e->remote, NULL, 601, 501);
	check_zero_copy(&e->remote, r2, h2);
	assert_int_equal(atomic_load(&e->host.errors) + atomic_load(&e->remote.errors), 0);
	ep_free(h);
	ep_free(r);
	ep_free(h2);
	ep_free(r2);
	env_free(e);
}

/* ---- destroy ---- */

struct destroyer {
	struct ep *ep;
	_Atomic bool done;
	_Atomic int cb_running_at_return;
};

static void *destroy_thread(void *arg)
{
	struct destroyer *d = arg;
	rpmsg_destroy_ept(&d->ep->ept);
	atomic_store(&d->cb_running_at_return, atomic_load(&d->ep->in_cb));
	atomic_store(&d->done, true);
	return NULL;
}

static void test_destroy(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 16, 16);
	env_up(e, false);
	/* Destroy on the remote: the host's endpoint bound to it gets ns_unbind_cb and is unbound. */
	struct ep *r = ep_create(&e->remote, "gone", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	struct ep *h = ep_create(&e->host, "gone", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	WAIT_FOR(dest(h) == r->ept.addr);
	ep_free(r);
	WAIT_FOR(atomic_load(&h->unbinds) == 1);
	assert_int_equal(dest(h), RPMSG_ADDR_ANY);
	assert_false(is_rpmsg_ept_ready(&h->ept));
	assert_int_equal(rpmsg_send(&h->ept, "x", 1), RPMSG_ERR_ADDR);
	/* It binds again to a new announcement of that name. */
	r = ep_create(&e->remote, "gone", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	WAIT_FOR(dest(h) == r->ept.addr);
	assert_int_equal(atomic_load(&h->unbinds), 1);

	/* Destroy from a thread while the callback runs (in the interrupt thread): it waits for the callback. */
	atomic_store(&r->block, 1);
	assert_int_equal(rpmsg_send(&h->ept, "block", 5), 5);
	WAIT_FOR(atomic_load(&r->in_cb) == 1);
	struct destroyer d = { .ep = r };
	pthread_t t;
	pthread_create(&t, NULL, destroy_thread, &d);
	nap_us(50000);
	assert_false(atomic_load(&d.done)); /* still inside the callback */
	atomic_store(&r->block, 0);
	WAIT_FOR(atomic_load(&d.done));
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&d.cb_running_at_return), 0);
	assert_int_equal(atomic_load(&r->rx), 1);
	pthread_mutex_destroy(&r->mu);
	memset(r, 0xA5, sizeof(*r)); /* what freeing it would do: nothing may touch it any more */
	free(r);
	WAIT_FOR(atomic_load(&h->unbinds) == 2);
	/* Messages to its address are dropped now. */
	uint32_t dropped = atomic_load(&e->remote.dev.stats.dropped);
	assert_int_equal(rpmsg_sendto(&h->ept, "y", 1, 1024), 1);
	WAIT_FOR(atomic_load(&e->remote.dev.stats.dropped) == dropped + 1);

	/* Destroy from inside its own callback (no wait, no deadlock). */
	r = ep_create(&e->remote, "self", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	struct ep *h2 = ep_create(&e->host, "self", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	WAIT_FOR(dest(h2) == r->ept.addr);
	atomic_store(&r->destroy_self, 1);
	assert_int_equal(rpmsg_send(&h2->ept, "bye", 3), 3);
	WAIT_FOR(atomic_load(&h2->unbinds) == 1 && atomic_load(&r->destroyed));
	assert_int_equal(atomic_load(&r->rx), 1);
	assert_null(r->ept.rdev);
	rpmsg_destroy_ept(&r->ept); /* again: harmless */
	ep_free(r);
	assert_int_equal(atomic_load(&e->host.errors) + atomic_load(&e->remote.errors), 0);
	ep_free(h);
	ep_free(h2);
	env_free(e);
}

/* ---- restarts ---- */

/* Stale messages queued for the restarting side are never delivered after the rebind; the new ones are. */
static void check_restart(bool restart_remote)
{
	struct env *e = env_new(0x20000, 16, 16);
	env_up(e, true);
	struct ep *r = ep_create(&e->remote, "svc", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	struct ep *h = ep_create(&e->host, "svc", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	WAIT_FOR(dest(h) == r->ept.addr);
	assert_int_equal(rpmsg_send(&h->ept, "hello", 5), 5);
	WAIT_FOR(atomic_load(&r->rx) == 1);
	assert_int_equal(rpmsg_send(&r->ept, "hello", 5), 5);
	WAIT_FOR(atomic_load(&h->rx) == 1);

	struct side *dying = restart_remote ? &e->remote : &e->host;
	struct side *other = restart_remote ? &e->host : &e->remote;
	struct ep *keep = restart_remote ? h : r, *lost = restart_remote ? r : h;
	/* Messages for the side about to die, that it never takes (its interrupt is off). */
	atomic_store(&dying->mute, true);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(rpmsg_trysend(&keep->ept, "stale", 5), 5);
	side_kill(dying);
	atomic_store(&dying->mute, false);
	/* It comes back with fresh memory: new device object, new endpoint. */
	lost->ept.rdev = NULL; /* its old endpoint went with its memory */
	ep_free(lost);
	side_start(dying);
	struct ep *fresh = ep_create(dying, "svc", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	if (restart_remote) {
		r = fresh;
		WAIT_FOR(atomic_load(&h->unbinds) == 1 && dest(h) == r->ept.addr);
		WAIT_FOR(rpmsg_virtio_link_up(&e->remote.dev));
	} else {
		h = fresh;
		WAIT_FOR(atomic_load(&r->unbinds) == 1 && rpmsg_virtio_link_up(&e->host.dev));
		WAIT_FOR(dest(h) == r->ept.addr); /* the remote re-announced */
	}
	assert_int_equal(atomic_load(&other->link_downs), 1);
	assert_int_equal(atomic_load(&other->link_ups), 2);
	/* The survivor's unbound endpoint binds to the restarted one by the first message (or announcement). */
	assert_int_equal(rpmsg_send(&h->ept, "new", 3), 3);
	WAIT_FOR(atomic_load(&r->rx) >= 1 && last_is(r, "new", 3));
	assert_int_equal(rpmsg_send(&r->ept, "new", 3), 3);
	WAIT_FOR(last_is(h, "new", 3));
	nap_us(50000);
	/* Nothing stale reached the restarted side, nothing twice the survivor. */
	struct ep *now_fresh = restart_remote ? r : h, *survivor = restart_remote ? h : r;
	assert_int_equal(atomic_load(&now_fresh->rx), 1);
	assert_int_equal(atomic_load(&survivor->rx), 2);
	assert_int_equal(atomic_load(&e->host.errors) + atomic_load(&e->remote.errors), 0);
	ep_free(h);
	ep_free(r);
	env_free(e);
}

static void test_remote_restart(void **state)
{
	(void)state;
	check_restart(true);
}

static void test_host_restart(void **state)
{
	(void)state;
	check_restart(false);
}

/* A DRIVER_OK that is not for the current remote session (a previous handshake's, landing late) is ignored. */
static void test_session_ack(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 16, 16);
	env_up(e, true);
	mute(&e->host); /* the host does not see the remote restart yet */
	side_kill(&e->remote);
	side_start(&e->remote);
	assert_int_equal(e->shm[0x30], 0);
	assert_int_equal(peek32(e->shm + 0x68), 2);
	__atomic_store_n(&e->shm[0x30], VIRTIO_CONFIG_S_DRIVER_OK, __ATOMIC_RELEASE);
	kick(&e->remote);
	nap_us(20000);
	assert_false(rpmsg_virtio_link_up(&e->remote.dev)); /* host_ack is still 1 */
	atomic_store(&e->host.mute, false);
	kick(&e->host);
	WAIT_FOR(rpmsg_virtio_link_up(&e->remote.dev) && rpmsg_virtio_link_up(&e->host.dev));
	assert_int_equal(peek32(e->shm + 0x70), 2);
	assert_int_equal(peek32(e->shm + 0x6c), 2);
	assert_int_equal(atomic_load(&e->host.errors) + atomic_load(&e->remote.errors), 0);
	env_free(e);
}

/* The transport says the peer died; the link stays down until a new session of it (and then rebinds). */
static void test_peer_lost(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 16, 16);
	env_up(e, true);
	struct ep *r = ep_create(&e->remote, "svc", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	struct ep *h = ep_create(&e->host, "svc", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	WAIT_FOR(dest(h) == r->ept.addr);
	/* The remote's processor goes offline. */
	side_kill(&e->remote);
	/* A receive pass the interrupt thread is running does the work after this returns (rpmsg_virtio_notified()
	 * leaves it to the running pass): wait for the unbind, which follows the link going down. */
	rpmsg_virtio_peer_lost(&e->host.dev);
	WAIT_FOR(atomic_load(&h->unbinds) == 1);
	assert_false(rpmsg_virtio_link_up(&e->host.dev));
	assert_int_equal(atomic_load(&h->unbinds), 1);
	assert_int_equal(rpmsg_send(&h->ept, "x", 1), RPMSG_ERR_ADDR);
	assert_int_equal(rpmsg_sendto(&h->ept, "x", 1, 1024), RPMSG_ERR_DEV_STATE);
	/* A doorbell (any) does not bring it back: the remote session did not change. */
	rpmsg_virtio_notified(&e->host.dev);
	assert_false(rpmsg_virtio_link_up(&e->host.dev));
	/* The remote restarts: rebind. */
	r->ept.rdev = NULL;
	ep_free(r);
	side_start(&e->remote);
	r = ep_create(&e->remote, "svc", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	WAIT_FOR(dest(h) == r->ept.addr);
	assert_int_equal(rpmsg_send(&h->ept, "back", 4), 4);
	WAIT_FOR(last_is(r, "back", 4));

	/* The remote learns that the host died: down, and up again only for a new host session. */
	side_kill(&e->host);
	rpmsg_virtio_peer_lost(&e->remote.dev);
	WAIT_FOR(atomic_load(&r->unbinds) == 1);
	assert_false(rpmsg_virtio_link_up(&e->remote.dev));
	assert_int_equal(atomic_load(&r->unbinds), 1);
	kick(&e->remote);
	nap_us(20000);
	assert_false(rpmsg_virtio_link_up(&e->remote.dev));
	h->ept.rdev = NULL;
	ep_free(h);
	side_start(&e->host);
	h = ep_create(&e->host, "svc", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	WAIT_FOR(rpmsg_virtio_link_up(&e->remote.dev) && dest(h) == r->ept.addr);
	assert_int_equal(rpmsg_send(&h->ept, "again", 5), 5);
	WAIT_FOR(last_is(r, "again", 5));
	assert_int_equal(atomic_load(&e->host.errors) + atomic_load(&e->remote.errors), 0);
	ep_free(h);
	ep_free(r);
	env_free(e);
}

/* A side that closes (deinit) takes the other's link down; a new open rebinds. */
static void test_close_reopen(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 16, 16);
	env_up(e, true);
	struct ep *h = ep_create(&e->host, "svc", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	struct ep *r = ep_create(&e->remote, "svc", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	WAIT_FOR(dest(h) == r->ept.addr);
	pthread_mutex_lock(&e->remote.mu);
	rpmsg_virtio_deinit(&e->remote.dev);
	e->remote.live = false;
	pthread_mutex_unlock(&e->remote.mu);
	WAIT_FOR(!rpmsg_virtio_link_up(&e->host.dev));
	WAIT_FOR(atomic_load(&h->unbinds) == 1);
	r->ept.rdev = NULL;
	ep_free(r);
	side_start(&e->remote);
	r = ep_create(&e->remote, "svc", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	WAIT_FOR(dest(h) == r->ept.addr);
	/* The host closes: the remote goes down (status 0) and comes back with the host. */
	pthread_mutex_lock(&e->host.mu);
	rpmsg_virtio_deinit(&e->host.dev);
	e->host.live = false;
	pthread_mutex_unlock(&e->host.mu);
	WAIT_FOR(!rpmsg_virtio_link_up(&e->remote.dev));
	h->ept.rdev = NULL;
	ep_free(h);
	side_start(&e->host);
	h = ep_create(&e->host, "svc", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	WAIT_FOR(rpmsg_virtio_link_up(&e->remote.dev) && dest(h) == r->ept.addr);
	assert_int_equal(atomic_load(&e->host.errors) + atomic_load(&e->remote.errors), 0);
	ep_free(h);
	ep_free(r);
	env_free(e);
}

/* ---- the layout the tests poke (num 16, align 16; docs/rpmsg.md) ---- */

#define V0 0x80u         /* vring0 */
#define V1 0x240u        /* vring1 */
#define AVAIL 256u       /* avail ring offset in a vring of 16 */
#define USED 304u        /* used ring offset */
#define POOL 0x400u      /* r2h buffers (16 x 512), then h2r buffers */
#define H2R (POOL + 16u * 512u)

/* The descriptor the host last made available on vring1 (its last send). */
static unsigned last_h2r_desc(struct env *e)
{
	uint16_t idx = peek16(e->shm + V1 + AVAIL + 2);
	return peek16(e->shm + V1 + AVAIL + 4 + 2u * ((idx - 1u) & 15u));
}

/* The used element the remote last published on vring0 (its last send). */
static uint8_t *last_r2h_used(struct env *e)
{
	uint16_t idx = peek16(e->shm + V0 + USED + 2);
	return e->shm + V0 + USED + 4 + 8u * ((idx - 1u) & 15u);
}

/* The used element the remote last published on vring1 (the host's TX buffer it last gave back). */
static uint8_t *last_h2r_used(struct env *e)
{
	uint16_t idx = peek16(e->shm + V1 + USED + 2);
	return e->shm + V1 + USED + 4 + 8u * ((idx - 1u) & 15u);
}

struct pair_eps {
	struct ep *h, *r;
};

static struct pair_eps static_pair(struct env *e)
{
	struct pair_eps p = { ep_create(&e->host, NULL, 500, 600), ep_create(&e->remote, NULL, 600, 500) };
	return p;
}

/* ---- quirks of real peers ---- */

static void test_quirk_lengths_and_reserved(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 16, 16);
	env_up(e, true);
	struct pair_eps p = static_pair(e);
	/* Our remote writes the whole buffer (desc.len) into vring0's used.len, as OpenAMP remotes: the host takes
	 * hdr.len within it, and posts the buffer again with its whole length. */
	mute(&e->host);
	assert_int_equal(rpmsg_send(&p.r->ept, "abc", 3), 3);
	uint8_t *u = last_r2h_used(e);
	assert_int_equal(le32(u + 4), 512);
	unsigned id = le32(u);
	atomic_store(&e->host.mute, false);
	kick(&e->host);
	WAIT_FOR(atomic_load(&p.h->rx) == 1);
	assert_true(last_is(p.h, "abc", 3));
	assert_int_equal(peek32(e->shm + V0 + 16 * id + 8), 512);
	/* used.len = 16 + payload (the bytes written; older amplink remotes): taken as well, and the buffer is still
	 * posted again whole. */
	mute(&e->host);
	assert_int_equal(rpmsg_send(&p.r->ept, "xyz", 3), 3);
	u = last_r2h_used(e);
	id = le32(u);
	poke32(u + 4, 19);
	atomic_store(&e->host.mute, false);
	kick(&e->host);
	WAIT_FOR(atomic_load(&p.h->rx) == 2);
	assert_true(last_is(p.h, "xyz", 3));
	assert_int_equal(peek32(e->shm + V0 + 16 * id + 8), 512);
	/* The host's TX buffers come back with their whole length in vring1's used.len. */
	assert_int_equal(rpmsg_send(&p.h->ept, "ab", 2), 2);
	WAIT_FOR(atomic_load(&p.r->rx) == 1 && peek16(e->shm + V1 + USED + 2) == 1);
	assert_int_equal(le32(last_h2r_used(e) + 4), 512);
	/* desc.len = 16 + payload (Linux hosts) instead of the whole buffer: the remote takes it, and gives that length
	 * back in used.len. */
	mute(&e->remote);
	assert_int_equal(rpmsg_send(&p.h->ept, "abcd", 4), 4);
	unsigned d = last_h2r_desc(e);
	assert_int_equal(peek32(e->shm + V1 + 16 * d + 8), 512);
	poke32(e->shm + V1 + 16 * d + 8, 20);
	/* A sender that writes hdr.reserved (OpenAMP's hold counter and index) and hdr.flags. */
	uint8_t *hdr = e->shm + H2R + 512u * d;
	poke32(hdr + 8, 0x00010003u);
	poke16(hdr + 14, 0xFFFF);
	atomic_store(&e->remote.mute, false);
	kick(&e->remote);
	WAIT_FOR(atomic_load(&p.r->rx) == 2 && peek16(e->shm + V1 + USED + 2) == 2);
	assert_true(last_is(p.r, "abcd", 4));
	assert_int_equal(le32(last_h2r_used(e) + 4), 20);
	assert_int_equal(atomic_load(&e->host.errors) + atomic_load(&e->remote.errors), 0);
	ep_free(p.h);
	ep_free(p.r);
	env_free(e);
}

static void test_quirk_status(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 16, 16);
	/* A host that writes 0x0F (ACK|DRIVER|DRIVER_OK|FEATURES_OK, as Linux) instead of 0x04. */
	mute(&e->remote);
	side_start(&e->remote);
	side_start(&e->host);
	assert_int_equal(e->shm[0x30], 0x04);
	__atomic_store_n(&e->shm[0x30], 0x0F, __ATOMIC_RELEASE);
	atomic_store(&e->remote.mute, false);
	kick(&e->remote);
	WAIT_FOR(rpmsg_virtio_link_up(&e->remote.dev));
	struct pair_eps p = static_pair(e);
	assert_int_equal(rpmsg_send(&p.r->ept, "ok", 2), 2);
	WAIT_FOR(atomic_load(&p.h->rx) == 1);
	/* NEEDS_RESET: the remote acknowledges with status 0 (as OpenAMP) and goes down. */
	__atomic_store_n(&e->shm[0x30], 0x44, __ATOMIC_RELEASE);
	kick(&e->remote);
	WAIT_FOR(!rpmsg_virtio_link_up(&e->remote.dev));
	WAIT_FOR(__atomic_load_n(&e->shm[0x30], __ATOMIC_ACQUIRE) == 0);
	assert_int_equal(rpmsg_send(&p.r->ept, "no", 2), RPMSG_ERR_DEV_STATE);
	ep_free(p.h);
	ep_free(p.r);
	env_free(e);
}

/*
 * Link down unbinds what the link bound (AMPL_RPMSG_UNBIND): an endpoint bound from the first message it received
 * goes back to its creation destination, and gets its ns_unbind_cb only with the option.
 */
static void test_link_down_unbind(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 16, 16);
	env_up(e, true);
	struct ep *r = ep_create(&e->remote, NULL, 600, RPMSG_ADDR_ANY);
	struct ep *h = ep_create(&e->host, NULL, 500, 600);
	assert_int_equal(rpmsg_send(&h->ept, "bind", 4), 4);
	WAIT_FOR(atomic_load(&r->rx) == 1);
	assert_int_equal(dest(r), 500);
	__atomic_store_n(&e->shm[0x30], 0x44, __ATOMIC_RELEASE); /* NEEDS_RESET: the remote goes down */
	kick(&e->remote);
	/* The link is marked down before the pass runs the unbind callbacks; its link callback comes after them. */
	WAIT_FOR(atomic_load(&e->remote.link_downs) == 1);
	assert_false(rpmsg_virtio_link_up(&e->remote.dev));
	assert_int_equal(dest(r), RPMSG_ADDR_ANY);
	assert_int_equal(atomic_load(&r->unbinds), AMPL_RPMSG_UNBIND ? 1u : 0u);
	ep_free(h);
	ep_free(r);
	env_free(e);
}

/*
 * The remote's receive pass gives the host's buffers back in batches (RPMSG_RX_BATCH), but never holds back more
 * than half the ring: a pass that keeps finding messages (a host that sends the next one as soon as the echo of the
 * last comes, the remote preempted between the two) would otherwise keep every host buffer until it ends, and the
 * host's sends, which do not wait, would fail with RPMSG_ERR_NO_BUFF meanwhile.
 */
/* The remote's callback blocks on the first of 16 messages the host sends: all 16 host buffers are then with it,
 * and its pass takes the other 15 once unblocked. */
static void fill_while_held(struct ep *h, struct ep *r)
{
	atomic_store(&r->block, 1);
	assert_int_equal(rpmsg_trysend(&h->ept, "x", 1), 1);
	WAIT_FOR(atomic_load(&r->in_cb)); /* the pass holds the first message */
	for (unsigned i = 1; i < 16; i++)
		assert_int_equal(rpmsg_trysend(&h->ept, "x", 1), 1);
	assert_int_equal(rpmsg_trysend(&h->ept, "x", 1), RPMSG_ERR_NO_BUFF);
}

static void test_rx_batch_gives_back(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 16, 16);
	env_up(e, true);
	struct ep *h = ep_create(&e->host, NULL, 500, 600);
	struct ep *r = ep_create(&e->remote, NULL, 600, 500);
	uint16_t used0 = peek16(e->shm + V1 + USED + 2);
	fill_while_held(h, r);
	atomic_store(&r->block_at, 12);
	atomic_store(&r->block, 0);
	/* The same pass, in the callback of the 12th message: 11 buffers given back, at least 8 of them published. */
	WAIT_FOR(atomic_load(&r->rx) == 11 && atomic_load(&r->in_cb));
	uint16_t given = (uint16_t)(peek16(e->shm + V1 + USED + 2) - used0);
	assert_in_range(given, 8, 11);
	assert_int_equal(rpmsg_trysend(&h->ept, "y", 1), 1);
	atomic_store(&r->block_at, 0);
	WAIT_FOR(atomic_load(&r->rx) == 17);
	WAIT_FOR((uint16_t)(peek16(e->shm + V1 + USED + 2) - used0) == 17);
	/* A sender waiting for a buffer is woken when the batch ends, also when the half-ring rule has published all
	 * that the batch returned already (nothing is left to publish at its end, but the sender was not told). */
	fill_while_held(h, r);
	struct blocked_send bs = { .ep = h, .timeout_ms = 2 * WAIT_MS };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, send_thread, &bs), 0);
	nap_us(50000);
	assert_false(atomic_load(&bs.done)); /* waiting for a buffer */
	atomic_store(&r->block, 0);           /* one pass takes all 16 and returns them in two halves */
	WAIT_FOR(atomic_load(&bs.done));
	pthread_join(t, NULL);
	assert_int_equal(bs.rc, 4);
	WAIT_FOR(atomic_load(&r->rx) == 34);
	assert_int_equal(atomic_load(&e->host.errors) + atomic_load(&e->remote.errors), 0);
	ep_free(h);
	ep_free(r);
	env_free(e);
}

/* A legacy (Linux-style) host never writes the session words: the remote takes plain DRIVER_OK. */
static void test_quirk_legacy_host(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 16, 16);
	mute(&e->remote);
	side_start(&e->remote);
	side_start(&e->host);
	poke32(e->shm + 0x6c, 0); /* host_sid */
	poke32(e->shm + 0x70, 0); /* host_ack */
	atomic_store(&e->remote.mute, false);
	kick(&e->remote);
	WAIT_FOR(rpmsg_virtio_link_up(&e->remote.dev));
	struct pair_eps p = static_pair(e);
	assert_int_equal(rpmsg_send(&p.r->ept, "legacy", 6), 6);
	assert_int_equal(rpmsg_send(&p.h->ept, "legacy", 6), 6);
	WAIT_FOR(atomic_load(&p.h->rx) == 1 && atomic_load(&p.r->rx) == 1);
	assert_int_equal(atomic_load(&e->host.errors) + atomic_load(&e->remote.errors), 0);
	ep_free(p.h);
	ep_free(p.r);
	env_free(e);
}

/* Vrings the host must place (da ANY in a table without the session entry): it writes their da back. Our remote
 * places its own vrings, so it is left out of this one (killed after writing its table). */
static void test_quirk_host_places_vrings(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 16, 16);
	mute(&e->host);
	side_start(&e->remote);
	side_kill(&e->remote);
	poke32(e->shm + 4, 1);                      /* num = 1: the vdev entry only */
	poke32(e->shm + 0x34, FW_RSC_U32_ADDR_ANY); /* vring0 da */
	poke32(e->shm + 0x48, FW_RSC_U32_ADDR_ANY); /* vring1 da */
	atomic_store(&e->host.mute, false);
	side_start(&e->host);
	assert_true(rpmsg_virtio_link_up(&e->host.dev));
	/* Placed after the table (whose end is now 0x5c): 0x60 and align_up(0x60 + 438, 16) = 0x220. */
	assert_int_equal(peek32(e->shm + 0x34), DA_BASE + 0x60);
	assert_int_equal(peek32(e->shm + 0x48), DA_BASE + 0x220);
	assert_int_equal(peek16(e->shm + 0x60 + AVAIL + 2), 16); /* vring0 there, its RX buffers posted */
	assert_int_equal(peek32(e->shm + 0x60), DA_BASE + 0x3E0);  /* buffers after align_up(0x220 + 438, 16) */
	assert_int_equal(atomic_load(&e->host.errors), 0);
	env_free(e);
}

static void test_quirk_legacy_remote(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 16, 16);
	mute(&e->host);
	side_start(&e->remote);
	poke32(e->shm + 4, 1); /* an OpenAMP-style table: no session entry (our remote then sees host_sid 0) */
	atomic_store(&e->host.mute, false);
	side_start(&e->host);
	WAIT_FOR(rpmsg_virtio_link_up(&e->host.dev) && rpmsg_virtio_link_up(&e->remote.dev));
	struct pair_eps p = static_pair(e);
	assert_int_equal(rpmsg_send(&p.r->ept, "old", 3), 3);
	assert_int_equal(rpmsg_send(&p.h->ept, "old", 3), 3);
	WAIT_FOR(atomic_load(&p.h->rx) == 1 && atomic_load(&p.r->rx) == 1);
	assert_int_equal(peek32(e->shm + 0x6c), 0);
	assert_int_equal(atomic_load(&e->host.errors) + atomic_load(&e->remote.errors), 0);
	ep_free(p.h);
	ep_free(p.r);
	env_free(e);
}

/* ---- an OpenAMP-style host against our remote ----
 *
 * The test plays the host itself, on the shared memory, with the buffer accounting of OpenAMP's rpmsg_virtio host
 * (these are the facts the emulation follows; no OpenAMP code):
 *   - TX (vring1): a send first takes a buffer the remote returned (the next used element): its size is that
 *     element's len, and the payload room is that size minus the 16-byte header, as a signed int (a used.len of 0
 *     gives -16: OpenAMP then copies a negative length, i.e. until it faults). Only when nothing came back and
 *     descriptors are free does it take a fresh buffer of h2r_buf_size (512). desc.len is always 512.
 *   - RX (vring0): a message's buffer goes back to the remote with desc.len = the used.len the remote wrote for it.
 *   - No session words (host_sid 0), status DRIVER_OK, gfeatures = dfeatures & F_NS.
 * The emulation fails where OpenAMP would overrun or truncate: a payload room below the message's length, or a
 * buffer size above the 512 bytes the buffer has.
 */
#define OA_N 16u
#define OA_BUF 512u

struct oa_host {
	struct env *e;
	uint16_t tx_avail, tx_used;  /* vring1: our avail.idx, and how many used elements we consumed */
	uint16_t rx_avail, rx_used;  /* vring0 */
	unsigned fresh;              /* TX buffers taken from the pool so far (<= OA_N) */
	unsigned received, ns_msgs;
	uint8_t last[OA_BUF];
	uint32_t last_len, last_src, last_dst;
	uint32_t next_seq;           /* self-checking payloads received in order */
	unsigned bad;
};

static void oa_post(struct oa_host *h, uint32_t vring, uint16_t *avail, unsigned id, uint32_t addr, uint32_t len,
		    uint16_t flags)
{
	uint8_t *vr = h->e->shm + vring;
	poke32(vr + 16u * id, addr);
	poke32(vr + 16u * id + 4, 0);
	poke32(vr + 16u * id + 8, len);
	poke16(vr + 16u * id + 12, flags);
	poke16(vr + AVAIL + 4 + 2u * (*avail & (OA_N - 1u)), (uint16_t)id);
	poke16(vr + AVAIL + 2, ++*avail);
}

static void oa_start(struct oa_host *h, struct env *e)
{
	memset(h, 0, sizeof(*h));
	h->e = e;
	WAIT_FOR(peek32(e->shm) == 1); /* the remote's table */
	assert_int_equal(peek32(e->shm + 0x34), DA_BASE + V0);
	assert_int_equal(peek32(e->shm + 0x48), DA_BASE + V1);
	poke32(e->shm + 0x28, peek32(e->shm + 0x24) & (1u << VIRTIO_RPMSG_F_NS));
	for (unsigned i = 0; i < OA_N; i++)
		oa_post(h, V0, &h->rx_avail, i, DA_BASE + POOL + OA_BUF * i, OA_BUF, VRING_DESC_F_WRITE);
	__atomic_store_n(&e->shm[0x30], VIRTIO_CONFIG_S_DRIVER_OK, __ATOMIC_RELEASE);
	kick(&e->remote);
	WAIT_FOR(rpmsg_virtio_link_up(&e->remote.dev));
}

/* OpenAMP's trysend: RPMSG_ERR_NO_BUFF when no buffer came back and all OA_N are out; else @n, sent. */
static int oa_trysend(struct oa_host *h, uint32_t src, uint32_t dst, const void *data, uint32_t n)
{
	uint8_t *vr = h->e->shm + V1;
	unsigned id;
	uint32_t size;
	if (peek16(vr + USED + 2) != h->tx_used) {
		uint8_t *el = vr + USED + 4 + 8u * (h->tx_used++ & (OA_N - 1u));
		id = peek32(el);
		size = peek32(el + 4);
		if (id >= OA_N)
			fail_msg("vring1 used element names descriptor %u", id);
	} else if (h->fresh < OA_N) {
		id = h->fresh++;
		size = OA_BUF;
	} else {
		return RPMSG_ERR_NO_BUFF;
	}
	int room = (int)(size - RPMSG_HDR_SIZE);
	if (size > OA_BUF || room < (int)n)
		fail_msg("TX buffer %u came back with used.len %u: OpenAMP takes %d payload bytes for a %u-byte "
			 "message (negative: a copy until it faults; short: truncated; over 496: past the buffer)",
			 id, size, room, n);
	uint8_t *b = h->e->shm + H2R + OA_BUF * id;
	poke32(b, src);
	poke32(b + 4, dst);
	poke32(b + 8, 0);
	poke16(b + 12, (uint16_t)n);
	poke16(b + 14, 0);
	memcpy(b + RPMSG_HDR_SIZE, data, n);
	oa_post(h, V1, &h->tx_avail, id, DA_BASE + H2R + OA_BUF * id, OA_BUF, 0);
	kick(&h->e->remote);
	return (int)n;
}

/* OpenAMP's send with its wait: retry while no buffer is back (bounded). */
static void oa_send(struct oa_host *h, uint32_t src, uint32_t dst, const void *data, uint32_t n)
{
	uint64_t t0 = now_ms();
	while (oa_trysend(h, src, dst, data, n) == RPMSG_ERR_NO_BUFF) {
		if (now_ms() - t0 > WAIT_MS)
			fail_msg("no TX buffer came back in %u ms", WAIT_MS);
		nap_us(200);
	}
}

/* OpenAMP's RX callback: take every used element of vring0, read the message, post the buffer back with desc.len =
 * the used.len. Returns how many messages it took. */
static unsigned oa_poll(struct oa_host *h)
{
	uint8_t *vr = h->e->shm + V0;
	unsigned n = 0;
	while (peek16(vr + USED + 2) != h->rx_used) {
		uint8_t *el = vr + USED + 4 + 8u * (h->rx_used++ & (OA_N - 1u));
		unsigned id = peek32(el);
		uint32_t ulen = peek32(el + 4);
		if (id >= OA_N)
			fail_msg("vring0 used element names descriptor %u", id);
		uint8_t *b = h->e->shm + POOL + OA_BUF * id;
		uint32_t len = peek16(b + 12);
		if (len > OA_BUF - RPMSG_HDR_SIZE)
			fail_msg("hdr.len %u in a %u-byte buffer", len, OA_BUF);
		h->last_src = peek32(b);
		h->last_dst = peek32(b + 4);
		if (h->last_dst == RPMSG_NS_EPT_ADDR) {
			h->ns_msgs++;
		} else {
			memcpy(h->last, b + RPMSG_HDR_SIZE, len);
			h->last_len = len;
			h->received++;
			uint32_t seq, c;
			memcpy(&seq, h->last + 1, 4);
			memcpy(&c, h->last + 5, 4);
			if (len < 9 || seq != h->next_seq || c != csum(h->last + 9, len - 9))
				h->bad++;
			h->next_seq = seq + 1;
		}
		oa_post(h, V0, &h->rx_avail, id, DA_BASE + POOL + OA_BUF * id, ulen, VRING_DESC_F_WRITE);
		n++;
	}
	if (n)
		kick(&h->e->remote);
	return n;
}

/* Our remote returns each host TX buffer with its whole length: OpenAMP's next send (and every one after all its
 * buffers went round) has its 496 bytes. */
static void test_openamp_host_sends(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, OA_N, 16);
	side_start(&e->remote);
	struct oa_host h;
	oa_start(&h, e);
	struct ep *r = ep_create(&e->remote, NULL, 600, 500);
	uint8_t m[OA_BUF];
	uint32_t seq = 0;
	/* The first send and the second (the first that reuses a returned buffer). */
	for (int i = 0; i < 2; i++) {
		size_t n = make_msg(m, 0, seq++, 40);
		oa_send(&h, 500, 600, m, (uint32_t)n);
		WAIT_FOR(atomic_load(&r->rx) == (unsigned)i + 1 && peek16(e->shm + V1 + USED + 2) == i + 1);
		assert_true(last_is(r, m, n));
	}
	/* Exhaustion: with the remote not running, all 16 buffers go out (14 fresh, 2 returned), then none is left. */
	mute(&e->remote);
	for (unsigned i = 0; i < OA_N; i++) {
		size_t n = make_msg(m, 0, seq++, i & 1 ? OA_BUF - RPMSG_HDR_SIZE : 9 + i);
		assert_int_equal(oa_trysend(&h, 500, 600, m, (uint32_t)n), (int)n);
	}
	assert_int_equal(oa_trysend(&h, 500, 600, "x", 1), RPMSG_ERR_NO_BUFF);
	atomic_store(&e->remote.mute, false);
	kick(&e->remote);
	WAIT_FOR(atomic_load(&r->rx) == 2 + OA_N && peek16(e->shm + V1 + USED + 2) == 2 + OA_N);
	/* Every buffer has been round; three more rounds at full size, the host sending as fast as they come back. */
	for (unsigned i = 0; i < 3 * OA_N; i++) {
		size_t n = make_msg(m, 0, seq++, OA_BUF - RPMSG_HDR_SIZE);
		oa_send(&h, 500, 600, m, (uint32_t)n);
	}
	WAIT_FOR(atomic_load(&r->rx) == seq);
	assert_true(last_is(r, m, OA_BUF - RPMSG_HDR_SIZE));
	assert_int_equal(atomic_load(&r->bad), 0);
	assert_int_equal(atomic_load(&e->remote.errors), 0);
	ep_free(r);
	env_free(e);
}

/* OpenAMP posts each RX buffer back with the used.len our remote wrote: it must be the whole buffer, or the remote
 * finds the host's buffers shrunk to the last message each carried. */
static void test_openamp_host_receives(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, OA_N, 16);
	side_start(&e->remote);
	struct oa_host h;
	oa_start(&h, e);
	struct ep *r = ep_create(&e->remote, NULL, 600, 500);
	uint8_t m[OA_BUF];
	uint32_t seq = 0;
	/* Short messages until every RX buffer of the host has carried one, the last 16 exhausting them. */
	for (unsigned i = 0; i < OA_N; i++) {
		size_t n = make_msg(m, 0, seq++, 9 + i);
		assert_int_equal(rpmsg_trysend(&r->ept, m, (int)n), (int)n);
	}
	assert_int_equal(rpmsg_trysend(&r->ept, "x", 1), RPMSG_ERR_NO_BUFF);
	assert_int_equal(oa_poll(&h), OA_N);
	assert_true(h.received == OA_N && h.last_len == 9 + OA_N - 1 && h.last_src == 600 && h.last_dst == 500);
	/* Full-size messages in the same buffers, three rounds, exhausting them each time. */
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < OA_N; i++) {
			size_t n = make_msg(m, 0, seq++, OA_BUF - RPMSG_HDR_SIZE);
			int rc = rpmsg_trysend(&r->ept, m, (int)n);
			if (rc != (int)n)
				fail_msg("round %u, message %u: trysend of %zu bytes answered %d", round, i, n, rc);
		}
		assert_int_equal(rpmsg_trysend(&r->ept, "x", 1), RPMSG_ERR_NO_BUFF);
		assert_int_equal(oa_poll(&h), OA_N);
	}
	assert_int_equal(h.received, 4 * OA_N);
	assert_int_equal(h.last_len, OA_BUF - RPMSG_HDR_SIZE);
	assert_int_equal(h.bad, 0);
	assert_int_equal(rpmsg_get_tx_buffer_size(&r->ept), OA_BUF - RPMSG_HDR_SIZE);
	assert_int_equal(atomic_load(&e->remote.errors), 0);
	ep_free(r);
	env_free(e);
}

/* Notification suppression set by the peer in one direction: no kicks, the receiver polls. */
static void test_quirk_suppressed_kicks(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 16, 16);
	env_up(e, true);
	struct pair_eps p = static_pair(e);
	/* The host does not want interrupts for its RX (vring0 avail.flags NO_INTERRUPT): the remote does not kick.
	 * (Its interrupt is muted too, so that a doorbell still pending from the start-up cannot deliver.) */
	mute(&e->host);
	poke16(e->shm + V0 + AVAIL, VRING_AVAIL_F_NO_INTERRUPT);
	unsigned before = atomic_load(&e->host.by_id[RPMSG_NOTIFYID_VRING0]);
	assert_int_equal(rpmsg_send(&p.r->ept, "poll me", 7), 7);
	nap_us(20000);
	assert_int_equal(atomic_load(&e->host.by_id[RPMSG_NOTIFYID_VRING0]), before);
	assert_int_equal(atomic_load(&p.h->rx), 0);
	rpmsg_virtio_poll(&e->host.dev);
	assert_int_equal(atomic_load(&p.h->rx), 1);
	assert_true(last_is(p.h, "poll me", 7));
	/* The remote does not want kicks for vring1 (used.flags NO_NOTIFY): the host does not kick it. */
	mute(&e->remote);
	poke16(e->shm + V1 + USED, VRING_USED_F_NO_NOTIFY);
	before = atomic_load(&e->remote.by_id[RPMSG_NOTIFYID_VRING1]);
	assert_int_equal(rpmsg_send(&p.h->ept, "poll me", 7), 7);
	nap_us(20000);
	assert_int_equal(atomic_load(&e->remote.by_id[RPMSG_NOTIFYID_VRING1]), before);
	assert_int_equal(atomic_load(&p.r->rx), 0);
	rpmsg_virtio_poll(&e->remote.dev);
	assert_int_equal(atomic_load(&p.r->rx), 1);
	assert_int_equal(atomic_load(&e->host.errors) + atomic_load(&e->remote.errors), 0);
	ep_free(p.h);
	ep_free(p.r);
	env_free(e);
}

/*
 * A receiver inside its receive pass reads every message published meanwhile without a kick: it raises its
 * suppression flag on the vring it reads (host: vring0 avail.flags NO_INTERRUPT; remote: vring1 used.flags
 * NO_NOTIFY) while the pass runs, and clears it, then looks again, before the pass ends. A receiver whose pass
 * ended is always kicked. Then a burst much larger than the ring: nothing is lost (no missed wake-up).
 */
/* A linked pair of static endpoints, one way: the sender, the receiver, its side and the kicks it got. */
struct one_way {
	struct env *e;
	struct pair_eps p;
	struct ep *tx, *rx;
	struct side *rxs;
	_Atomic unsigned *kicks;
};

static struct one_way one_way_up(bool host_sends)
{
	struct one_way w = { .e = env_new(0x20000, 16, 16) };
	env_up(w.e, true);
	w.p = static_pair(w.e);
	w.tx = host_sends ? w.p.h : w.p.r;
	w.rx = host_sends ? w.p.r : w.p.h;
	w.rxs = host_sends ? &w.e->remote : &w.e->host;
	w.kicks = &w.rxs->by_id[host_sends ? RPMSG_NOTIFYID_VRING1 : RPMSG_NOTIFYID_VRING0];
	quiesce(w.rxs);
	return w;
}

static void check_rx_pass_suppression(bool host_sends)
{
	struct one_way w = one_way_up(host_sends);
	struct env *e = w.e;
	struct pair_eps p = w.p;
	struct ep *tx = w.tx, *rx = w.rx;
	struct side *rxs = w.rxs;
	_Atomic unsigned *kicks = w.kicks;

	atomic_store(&rx->block, 1);
	unsigned before = atomic_load(kicks);
	assert_int_equal(rpmsg_send(&tx->ept, "one", 3), 3);
	WAIT_FOR(atomic_load(&rx->in_cb));
	assert_int_equal(atomic_load(kicks), before + 1); /* idle receiver: kicked */
	/* Its pass runs (the callback spins): these two are read by it without a kick. */
	assert_int_equal(rpmsg_send(&tx->ept, "two", 3), 3);
	assert_int_equal(rpmsg_send(&tx->ept, "three", 5), 5);
	assert_int_equal(atomic_load(kicks), before + 1);
	atomic_store(&rx->block, 0);
	WAIT_FOR(atomic_load(&rx->rx) == 3);
	assert_true(last_is(rx, "three", 5));
	quiesce(rxs);

	/* The pass ended: the next message kicks again. */
	unsigned k = atomic_load(kicks);
	assert_int_equal(rpmsg_send(&tx->ept, "four", 4), 4);
	WAIT_FOR(atomic_load(&rx->rx) == 4);
	assert_int_equal(atomic_load(kicks), k + 1);

	/* A burst: every message arrives, whichever kicks were suppressed. */
	unsigned n = sanitizer_scale() ? 2000 : 20000;
	uint8_t buf[64];
	for (uint32_t seq = 0; seq < n; seq++) {
		size_t len = make_msg(buf, 1, seq, 9 + seq % 50);
		uint64_t t0 = now_ms();
		int rc;
		while ((rc = rpmsg_trysend(&tx->ept, buf, (int)len)) == RPMSG_ERR_NO_BUFF && now_ms() - t0 < WAIT_MS)
			sched_yield();
		assert_int_equal(rc, (int)len);
	}
	WAIT_FOR(atomic_load(&rx->rx) == 4 + n);
	assert_int_equal(atomic_load(&rx->bad), 0);
	assert_int_equal(atomic_load(&e->host.errors) + atomic_load(&e->remote.errors), 0);
	ep_free(p.h);
	ep_free(p.r);
	env_free(e);
}

static void test_rx_pass_suppression_host_sends(void **state)
{
	(void)state;
	check_rx_pass_suppression(true);
}

static void test_rx_pass_suppression_remote_sends(void **state)
{
	(void)state;
	check_rx_pass_suppression(false);
}

/*
 * A receiver whose pass delivered something keeps its suppression flag raised and watches its vring for
 * RPMSG_RX_LINGER_US more before the pass ends: a stream into it needs no kicks. test_rpmsg_linger builds the
 * library with a linger of 30 s, so that nothing here depends on timing: a message sent during the linger is read
 * without a kick, a call of rpmsg_virtio_notified() from another context ends the linger at once (the pass runs
 * once more and lowers the flag), and the next message kicks again.
 */
static void check_rx_linger(bool host_sends)
{
#if RPMSG_RX_LINGER_US < 1000000
	(void)host_sends;
	skip();
#else
	struct one_way w = one_way_up(host_sends);

	unsigned before = atomic_load(w.kicks);
	assert_int_equal(rpmsg_send(&w.tx->ept, "one", 3), 3);
	WAIT_FOR(atomic_load(&w.rx->rx) == 1);
	assert_int_equal(atomic_load(w.kicks), before + 1); /* idle receiver: kicked */
	/* Its pass lingers: these are read without a kick. */
	for (int i = 0; i < 40; i++)
		assert_int_equal(rpmsg_send(&w.tx->ept, "two", 3), 3);
	WAIT_FOR(atomic_load(&w.rx->rx) == 41);
	assert_int_equal(atomic_load(w.kicks), before + 1);
	assert_true(atomic_load(&w.rxs->handled) < atomic_load(&w.rxs->doorbells)); /* still in that pass */
	/* Another context asks for a pass: the lingering one runs it and ends. */
	rpmsg_virtio_notified(&w.rxs->dev);
	quiesce(w.rxs);
	assert_int_equal(rpmsg_send(&w.tx->ept, "three", 5), 5);
	WAIT_FOR(atomic_load(&w.rx->rx) == 42);
	assert_int_equal(atomic_load(w.kicks), before + 2);
	rpmsg_virtio_notified(&w.rxs->dev);
	quiesce(w.rxs);
	assert_int_equal(atomic_load(&w.rx->bad), 0);
	assert_int_equal(atomic_load(&w.e->host.errors) + atomic_load(&w.e->remote.errors), 0);
	ep_free(w.p.h);
	ep_free(w.p.r);
	env_free(w.e);
#endif
}

static void test_rx_linger_host_sends(void **state)
{
	(void)state;
	check_rx_linger(true);
}

static void test_rx_linger_remote_sends(void **state)
{
	(void)state;
	check_rx_linger(false);
}

/* ---- corrupt shared memory: error callback, no crash, no hang ---- */

/* The last error @s was told of has @substr (AMPL_ERROR_TEXT 0: the layer's one short text instead). */
static bool last_error_has(struct side *s, const char *substr, char *msg, size_t n)
{
	last_error(s, msg, n);
	return strstr(msg, substr) || (!AMPL_ERROR_TEXT && !strcmp(msg, "rpmsg: peer error"));
}

/*
 * Wait until @s counted @n protocol errors (stats.errors), the last reported with @substr. Errors noted in one pass
 * under the device lock are reported by one callback (the last message), so the callbacks may be fewer; and an
 * error is counted when it is noted, under the lock, but reported after it, so the count can be reached before its
 * report: the wait is for both.
 */
#define expect_error(s, n, substr) expect_error_(s, n, substr, __LINE__)
static void expect_error_(struct side *s, unsigned n, const char *substr, int line)
{
	uint64_t t0 = now_ms();
	char msg[128];
	while (atomic_load(&s->dev.stats.errors) < n || atomic_load(&s->errors) == 0 ||
	       !last_error_has(s, substr, msg, sizeof(msg))) {
		if (now_ms() - t0 > WAIT_MS) {
			if (atomic_load(&s->dev.stats.errors) < n || atomic_load(&s->errors) == 0)
				fail_msg("line %d: %s has %u errors, expected %u", line, s->name,
					 atomic_load(&s->dev.stats.errors), n);
			break;
		}
		nap_us(200);
	}
	assert_int_equal(atomic_load(&s->dev.stats.errors), n);
	if (!last_error_has(s, substr, msg, sizeof(msg)))
		fail_msg("line %d: %s: last error \"%s\", expected one with \"%s\"", line, s->name, msg, substr);
	assert_true(atomic_load(&s->errors) <= n);
}

static void test_corrupt_rings(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 16, 16);
	env_up(e, true);
	struct pair_eps p = static_pair(e);

	/* vring0 used element naming a descriptor out of range. */
	mute(&e->host);
	uint16_t ui = peek16(e->shm + V0 + USED + 2);
	poke32(e->shm + V0 + USED + 4 + 8u * (ui & 15u), 9999);
	poke16(e->shm + V0 + USED + 2, (uint16_t)(ui + 1));
	atomic_store(&e->host.mute, false);
	kick(&e->host);
	expect_error(&e->host, 1, "vring0");
	/* The remote's shadow of used.idx is one behind now: its next message lands on the slot consumed. The
	 * one after it is delivered. */
	assert_int_equal(rpmsg_send(&p.r->ept, "1", 1), 1);
	assert_int_equal(rpmsg_send(&p.r->ept, "2", 1), 1);
	WAIT_FOR(atomic_load(&p.h->rx) >= 1);

	/* vring1 used element naming a descriptor that is not in flight (the host's TX returns). */
	ui = peek16(e->shm + V1 + USED + 2);
	poke32(e->shm + V1 + USED + 4 + 8u * (ui & 15u), 15);
	poke16(e->shm + V1 + USED + 2, (uint16_t)(ui + 1));
	assert_int_equal(rpmsg_send(&p.h->ept, "a", 1), 1); /* the host reclaims returned buffers first */
	expect_error(&e->host, 2, "vring1");
	WAIT_FOR(last_is(p.r, "a", 1));

	/* A descriptor pointing outside the region. */
	mute(&e->remote);
	unsigned rx0 = atomic_load(&p.r->rx);
	assert_int_equal(rpmsg_send(&p.h->ept, "b", 1), 1);
	unsigned d = last_h2r_desc(e);
	poke32(e->shm + V1 + 16u * d, DA_BASE + 0x100000u);
	atomic_store(&e->remote.mute, false);
	kick(&e->remote);
	expect_error(&e->remote, 1, "vring1");
	/* A descriptor whose length runs past the region end, and one with NEXT set. */
	mute(&e->remote);
	assert_int_equal(rpmsg_send(&p.h->ept, "c", 1), 1);
	d = last_h2r_desc(e);
	poke32(e->shm + V1 + 16u * d + 8, 0x20000u);
	assert_int_equal(rpmsg_send(&p.h->ept, "d", 1), 1);
	d = last_h2r_desc(e);
	poke16(e->shm + V1 + 16u * d + 12, VRING_DESC_F_NEXT);
	atomic_store(&e->remote.mute, false);
	kick(&e->remote);
	expect_error(&e->remote, 3, "vring1");
	/* hdr.len larger than the buffer. */
	mute(&e->remote);
	assert_int_equal(rpmsg_send(&p.h->ept, "e", 1), 1);
	d = last_h2r_desc(e);
	poke16(e->shm + H2R + 512u * d + 12, 60000);
	atomic_store(&e->remote.mute, false);
	kick(&e->remote);
	expect_error(&e->remote, 4, "hdr.len");
	nap_us(20000);
	assert_int_equal(atomic_load(&p.r->rx), rx0); /* none of those delivered */
	/* The ring still works. */
	assert_int_equal(rpmsg_send(&p.h->ept, "fine", 4), 4);
	WAIT_FOR(last_is(p.r, "fine", 4));

	/* The host makes available again a descriptor the remote still holds: refused, not delivered twice. */
	atomic_store(&p.r->hold, 1);
	assert_int_equal(rpmsg_send(&p.h->ept, "held", 4), 4);
	WAIT_FOR(nheld(p.r) == 1);
	unsigned held = last_h2r_desc(e), rx1 = atomic_load(&p.r->rx);
	uint16_t ai0 = peek16(e->shm + V1 + AVAIL + 2);
	poke16(e->shm + V1 + AVAIL + 4 + 2u * (ai0 & 15u), (uint16_t)held);
	poke16(e->shm + V1 + AVAIL + 2, (uint16_t)(ai0 + 1));
	kick(&e->remote);
	expect_error(&e->remote, 5, "vring1");
	assert_int_equal(atomic_load(&p.r->rx), rx1);
	atomic_store(&p.r->hold, 0);
	assert_int_equal(rpmsg_release_rx_buffer(&p.r->ept, pop_held(p.r)), RPMSG_SUCCESS);

	/* avail.idx jumping more than num ahead: reported once, the ring is not read further. */
	mute(&e->remote);
	uint16_t ai = peek16(e->shm + V1 + AVAIL + 2);
	poke16(e->shm + V1 + AVAIL + 2, (uint16_t)(ai + 100));
	atomic_store(&e->remote.mute, false);
	kick(&e->remote);
	expect_error(&e->remote, 6, "vring1");
	kick(&e->remote);
	kick(&e->remote);
	nap_us(20000);
	assert_int_equal(atomic_load(&e->remote.dev.stats.errors), 6);
	/* used.idx of vring0 jumping: the host reports it once. */
	mute(&e->host);
	ui = peek16(e->shm + V0 + USED + 2);
	poke16(e->shm + V0 + USED + 2, (uint16_t)(ui - 1000));
	atomic_store(&e->host.mute, false);
	kick(&e->host);
	expect_error(&e->host, 3, "vring0");
	kick(&e->host);
	nap_us(20000);
	assert_int_equal(atomic_load(&e->host.dev.stats.errors), 3);
	/* A restart of the remote heals both (fresh rings). */
	side_kill(&e->remote);
	p.r->ept.rdev = NULL;
	ep_free(p.r);
	side_start(&e->remote);
	WAIT_FOR(rpmsg_virtio_link_up(&e->remote.dev) && rpmsg_virtio_link_up(&e->host.dev));
	p.r = ep_create(&e->remote, NULL, 600, 500);
	assert_int_equal(rpmsg_send(&p.h->ept, "healed", 6), 6);
	WAIT_FOR(last_is(p.r, "healed", 6));
	assert_int_equal(rpmsg_send(&p.r->ept, "healed", 6), 6);
	WAIT_FOR(last_is(p.h, "healed", 6));
	ep_free(p.h);
	ep_free(p.r);
	env_free(e);
}

/*
 * used.len written by the remote, as the host reads it. vring0: a value above the buffer or below 16 + hdr.len is
 * refused as Linux refuses it (the message is not delivered, the buffer is posted again whole). vring1: 0 (older
 * amplink remotes) is fine; above the buffer is an error, and the buffer is the host's again all the same: with
 * every buffer round that way, the host still sends.
 */
static void test_corrupt_used_len(void **state)
{
	(void)state;
	struct env *e = env_new(0x20000, 16, 16);
	env_up(e, true);
	struct pair_eps p = static_pair(e);
	static const uint32_t bad0[] = { 0, 15, 18, 513, 0xFFFFFFFFu }; /* "abc": 19..512 would do */
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(bad0); i++) {
		mute(&e->host);
		assert_int_equal(rpmsg_send(&p.r->ept, "abc", 3), 3);
		uint8_t *u = last_r2h_used(e);
		unsigned id = le32(u);
		poke32(u + 4, bad0[i]);
		poke32(e->shm + V0 + 16 * id + 8, 7); /* to see it posted again whole */
		atomic_store(&e->host.mute, false);
		kick(&e->host);
		expect_error(&e->host, i + 1, bad0[i] == 18 ? "hdr.len" : "used.len in vring0");
		WAIT_FOR(peek32(e->shm + V0 + 16 * id + 8) == 512);
		assert_int_equal(atomic_load(&p.h->rx), 0);
	}
	assert_int_equal(rpmsg_send(&p.r->ept, "fine", 4), 4);
	WAIT_FOR(last_is(p.h, "fine", 4));

	/* All 16 host TX buffers out, back with used.len 513 (8 of them) or 0 (8), then out again, twice. */
	unsigned errs = (unsigned)AMPL_ARRAY_SIZE(bad0);
	for (unsigned round = 0; round < 2; round++) {
		uint16_t ui = peek16(e->shm + V1 + USED + 2);
		mute(&e->remote);
		for (unsigned i = 0; i < 16; i++)
			assert_int_equal(rpmsg_trysend(&p.h->ept, "tx", 2), 2); /* the first reclaims those poked */
		if (round > 0)
			expect_error(&e->host, errs += 8, "used.len in vring1");
		assert_int_equal(rpmsg_trysend(&p.h->ept, "tx", 2), RPMSG_ERR_NO_BUFF);
		atomic_store(&e->remote.mute, false);
		kick(&e->remote);
		WAIT_FOR(peek16(e->shm + V1 + USED + 2) == (uint16_t)(ui + 16));
		for (unsigned i = 0; i < 16; i++)
			poke32(e->shm + V1 + USED + 4 + 8u * ((ui + i) & 15u) + 4, i % 2 ? 0u : 513u);
	}
	WAIT_FOR(atomic_load(&p.r->rx) == 2 * 16);
	assert_int_equal(rpmsg_send(&p.h->ept, "last", 4), 4);
	expect_error(&e->host, errs += 8, "used.len in vring1");
	WAIT_FOR(last_is(p.r, "last", 4));
	assert_int_equal(atomic_load(&e->remote.errors), 0);
	ep_free(p.h);
	ep_free(p.r);
	env_free(e);
}

/* A corrupt resource table: one value at one offset, and the error the host reports; then a good table works. */
struct table_case {
	uint32_t off, value;
	uint8_t width;
	const char *error;
};

static void test_corrupt_table(void **state)
{
	(void)state;
	static const struct table_case cases[] = {
		{ 0x00, 2, 4, "version" },
		{ 0x04, 0, 4, "entry count" },
		{ 0x04, 1000, 4, "entry count" },
		{ 0x10, 0x7FFFFFF0u, 4, "offset out of range" },
		{ 0x10, 4, 4, "offset out of range" },       /* inside the header */
		{ 0x10, 0x1E, 4, "offset out of range" },    /* misaligned */
		{ 0x14, 0x1FFFE, 4, "offset out of range" },
		{ 0x18, 9, 4, "no rpmsg vdev" },              /* the vdev entry is another type */
		{ 0x1c, 5, 4, "no rpmsg vdev" },              /* another virtio device */
		{ 0x31, 3, 1, "2 vrings" },
		{ 0x31, 200, 1, "vdev entry out of range" }, /* in range actually, but not 2 vrings: first check */
		{ 0x2c, 0xFFFFFF00u, 4, "vdev entry out of range" }, /* config_len */
		{ 0x3c, 12, 4, "vring num" },
		{ 0x3c, 0, 4, "vring num" },
		{ 0x3c, 512, 4, "vring num" },                /* above RPMSG_VQ_MAX_NUM */
		{ 0x38, 3, 4, "vring align" },
		{ 0x38, 0x20000, 4, "vring align" },
		{ 0x34, DA_BASE - 0x100, 4, "vring da" },
		{ 0x34, DA_BASE + 0x81, 4, "vring da" },
		{ 0x34, DA_BASE + 0x1FF00, 4, "vring outside" },
		{ 0x34, DA_BASE + 0x40, 4, "overlaps the resource table" },
		{ 0x48, DA_BASE + 0x100, 4, "vrings overlap" },
		{ 0x34, 0x00000080u, 4, "vring da" },        /* a da below da_base */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct table_case *c = &cases[i];
		struct env *e = env_new(0x20000, 16, 16);
		side_start(&e->remote);
		uint8_t good[4];
		memcpy(good, e->shm + c->off, 4);
		if (c->width == 4)
			poke32(e->shm + c->off, c->value);
		else
			__atomic_store_n(&e->shm[c->off], (uint8_t)c->value, __ATOMIC_RELEASE);
		side_start(&e->host);
		WAIT_FOR(atomic_load(&e->host.errors) >= 1);
		char msg[128];
		last_error(&e->host, msg, sizeof(msg));
		if (!strstr(msg, c->error) && !(i == 10 && strstr(msg, "2 vrings")))
			fail_msg("case %zu (0x%x = 0x%x): error \"%s\", expected \"%s\"", i, c->off, c->value, msg,
				 c->error);
		assert_false(rpmsg_virtio_link_up(&e->host.dev));
		/* Reported once, not at every doorbell. */
		kick(&e->host);
		kick(&e->host);
		nap_us(5000);
		assert_int_equal(atomic_load(&e->host.errors), 1);
		/* Repaired (as a remote rewriting its table would): the handshake goes through. */
		for (unsigned k = 0; k < 4; k++)
			__atomic_store_n(&e->shm[c->off + k], good[k], __ATOMIC_RELEASE);
		kick(&e->host);
		uint64_t t0 = now_ms();
		while (!(rpmsg_virtio_link_up(&e->host.dev) && rpmsg_virtio_link_up(&e->remote.dev)))
			if (now_ms() - t0 > WAIT_MS)
				fail_msg("case %zu: no link after the repair (host %d, remote %d, errors %u)", i,
					 rpmsg_virtio_link_up(&e->host.dev), rpmsg_virtio_link_up(&e->remote.dev),
					 atomic_load(&e->host.errors));
			else
				nap_us(200);
		env_free(e);
	}
	/* A region still blank (no remote yet) is not an error. */
	struct env *e = env_new(0x20000, 16, 16);
	side_start(&e->host);
	kick(&e->host);
	nap_us(5000);
	assert_int_equal(atomic_load(&e->host.errors), 0);
	assert_false(rpmsg_virtio_link_up(&e->host.dev));
	env_free(e);
}

/* ---- stress ---- */

#define STREAMS 3

struct stress_sender {
	struct ep *ep;
	uint8_t stream;
	unsigned n, mode; /* 0 blocking send, 1 trysend with retries, 2 zero-copy */
	unsigned cap;
	_Atomic unsigned sent;
	int fail;
};

static void *stress_send(void *arg)
{
	struct stress_sender *s = arg;
	uint8_t buf[512];
	uint32_t rnd = 12345u + s->stream * 77u + s->mode;
	for (uint32_t seq = 0; seq < s->n; seq++) {
		rnd = rnd * 1103515245u + 12345u;
		size_t len = make_msg(buf, s->stream, seq, 9 + (rnd >> 16) % (s->cap - 9 + 1));
		int rc;
		if (s->mode == 0) {
			rc = rpmsg_send(&s->ep->ept, buf, (int)len);
		} else if (s->mode == 1) {
			uint64_t t0 = now_ms();
			while ((rc = rpmsg_trysend(&s->ep->ept, buf, (int)len)) == RPMSG_ERR_NO_BUFF &&
			       now_ms() - t0 < WAIT_MS)
				sched_yield();
		} else {
			uint32_t cap = 0;
			void *p = rpmsg_get_tx_payload_buffer(&s->ep->ept, &cap, 1);
			rc = RPMSG_ERR_NO_BUFF;
			if (p && cap >= len) {
				memcpy(p, buf, len);
				rc = rpmsg_send_nocopy(&s->ep->ept, p, (int)len);
			}
		}
		if (rc != (int)len) {
			s->fail = rc ? rc : -1;
			return NULL;
		}
		atomic_fetch_add(&s->sent, 1);
	}
	return NULL;
}

static void test_stress(void **state)
{
	(void)state;
	unsigned n = sanitizer_scale() ? 300 : 3000;
	struct env *e = env_new(0x40000, 32, 16);
	env_up(e, true);
	struct ep *h[STREAMS], *r[STREAMS];
	for (unsigned i = 0; i < STREAMS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "stress%u", i);
		r[i] = ep_create(&e->remote, name, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
		h[i] = ep_create(&e->host, name, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
	}
	for (unsigned i = 0; i < STREAMS; i++) {
		WAIT_FOR(dest(h[i]) == r[i]->ept.addr);
		assert_int_equal(rpmsg_send(&h[i]->ept, NULL, 0), 0); /* binds the remote side */
		WAIT_FOR(dest(r[i]) == h[i]->ept.addr);
	}
	struct stress_sender s[2 * STREAMS];
	pthread_t t[2 * STREAMS];
	for (unsigned i = 0; i < STREAMS; i++) {
		s[2 * i] = (struct stress_sender){ .ep = h[i], .stream = (uint8_t)i, .n = n, .mode = i, .cap = 496 };
		s[2 * i + 1] = (struct stress_sender){ .ep = r[i], .stream = (uint8_t)i, .n = n, .mode = 2 - i,
						       .cap = 496 };
	}
	for (unsigned i = 0; i < 2 * STREAMS; i++)
		pthread_create(&t[i], NULL, stress_send, &s[i]);
	for (unsigned i = 0; i < 2 * STREAMS; i++)
		pthread_join(t[i], NULL);
	for (unsigned i = 0; i < 2 * STREAMS; i++)
		if (s[i].fail)
			fail_msg("sender %u (mode %u) failed at %u: %d", i, s[i].mode, atomic_load(&s[i].sent), s[i].fail);
	for (unsigned i = 0; i < STREAMS; i++) {
		WAIT_FOR(atomic_load(&h[i]->rx) == n && atomic_load(&r[i]->rx) == n + 1);
		assert_int_equal(atomic_load(&h[i]->bad), 0);
		assert_int_equal(atomic_load(&r[i]->bad), 0);
	}
	assert_int_equal(atomic_load(&e->host.errors) + atomic_load(&e->remote.errors), 0);
	for (unsigned i = 0; i < STREAMS; i++) {
		ep_free(h[i]);
		ep_free(r[i]);
	}
	env_free(e);
}

/* ---- the IPC service backend over RPMsg: both sides close and re-open at once ---- */

/*
 * The virtual SoC's RPMsg instances (APU: host, RPU0: remote), each agent with its interrupt thread, through the
 * deregister/close/re-open churn of tests/common/churn.c; a close leaves the instance closed and its link down.
 */
/* Closed: not open, and its RPMsg link down (nothing brought it up again after the close). */
static int churn_closed_state(const struct ampl_device *dev)
{
	struct ipc_rpmsg_data *d = dev->data;
	if (ipc_rpmsg_device(dev))
		return 1;
	return rpmsg_virtio_link_up(&d->rdev) ? 2 : 0;
}

/* A virtual ZynqMP of the default board for an IPC-service test, named into @name (64 bytes), opened. */
static struct ampl_soc *ipc_soc_up(char *name)
{
	static unsigned soc_counter;
	snprintf(name, 64, "t-rpmsg-%d-%u", (int)getpid(), soc_counter++);
	int ret = ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0);
	if (ret)
		fail_msg("ampl_soc_create: %d %s", ret, ampl_soc_last_error());
	struct ampl_soc *soc;
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	return soc;
}

static void test_ipc_close_under_rebind(void **state)
{
	(void)state;
	char name[64];
	struct ampl_soc *soc = ipc_soc_up(name);
	int ret;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	struct ampl_agent *ag[2];
	static const char *const agents[2] = { "apu", "rpu0" };
	static const char *const labels[2] = { "ipc_rpmsg_apu", "ipc_rpmsg_rpu0" };
	const struct ampl_device *dev[2];
	for (int s = 0; s < 2; s++) {
		assert_int_equal(ampl_agent_attach(soc, agents[s], &o, &ag[s]), 0);
		ret = ampl_agent_ipc_instance(ag[s], labels[s], &dev[s]);
		if (ret)
			fail_msg("ipc instance %s: %d %s", labels[s], ret, ampl_soc_last_error());
		assert_int_equal(ipc_service_open_instance(dev[s]), 0);
	}
	ipc_churn_run(dev, agents, churn_closed_state, 200, true);
	for (int s = 0; s < 2; s++) {
		struct rpmsg_device *rdev = ipc_rpmsg_device(dev[s]);
		assert_non_null(rdev);
		assert_int_equal(atomic_load(&rdev->stats.errors), 0);
		assert_int_equal(ipc_service_close_instance(dev[s]), 0);
	}
	for (int s = 1; s >= 0; s--)
		ampl_agent_detach(ag[s]);
	ampl_soc_close(soc);
	ampl_soc_destroy(name);
}

/*
 * A polled remote (RPU0's agent without an interrupt thread: ipc_rpmsg_poll() from ampl_agent_poll()): its receive
 * vring's suppression flag stays raised between polls, so the host's sends never kick it; each round waits for the
 * next poll, which delivers all of it.
 */
uint32_t doorbells_taken(struct mbox_chan *chan); /* tests/common/ipc_side.c (its header's names clash here) */

static _Atomic int polled_rx, polled_bound;

static void polled_bound_cb(void *priv)
{
	(void)priv;
	atomic_fetch_add(&polled_bound, 1);
}

static void polled_received(const void *data, size_t len, void *priv)
{
	(void)priv;
	if (len == 4 && !memcmp(data, "ping", 4))
		atomic_fetch_add(&polled_rx, 1);
}

static void test_ipc_polled_remote(void **state)
{
	(void)state;
	char name[64];
	struct ampl_soc *soc = ipc_soc_up(name);
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	struct ampl_agent *apu, *rpu0;
	assert_int_equal(ampl_agent_attach(soc, "apu", &o, &apu), 0);
	o.no_irq_thread = true;
	assert_int_equal(ampl_agent_attach(soc, "rpu0", &o, &rpu0), 0);
	const struct ampl_device *dh, *dr;
	assert_int_equal(ampl_agent_ipc_instance(apu, "ipc_rpmsg_apu", &dh), 0);
	assert_int_equal(ampl_agent_ipc_instance(rpu0, "ipc_rpmsg_rpu0", &dr), 0);
	assert_int_equal(ipc_service_open_instance(dh), 0);
	assert_int_equal(ipc_service_open_instance(dr), 0);
	atomic_store(&polled_rx, 0);
	atomic_store(&polled_bound, 0);
	static const struct ipc_ept_cfg cfg = { .name = "polled",
						.cb = { .bound = polled_bound_cb, .received = polled_received } };
	struct ipc_ept eh = { 0 }, er = { 0 };
	assert_int_equal(ipc_service_register_endpoint(dh, &eh, &cfg), 0);
	assert_int_equal(ipc_service_register_endpoint(dr, &er, &cfg), 0);
	for (int i = 0; i < 5000 && atomic_load(&polled_bound) < 2; i++) {
		ampl_agent_poll(rpu0);
		usleep(1000);
	}
	assert_int_equal(atomic_load(&polled_bound), 2);
	struct mbox_chan *tx = ((struct ipc_rpmsg_data *)dh->data)->link.tx;
	assert_non_null(tx);
	/* The first message (the remote's last pass lowered its flag before polling began): a kick. */
	assert_int_equal(ipc_service_send(&eh, "ping", 4), 4);
	for (int i = 0; i < 5000 && atomic_load(&polled_rx) < 1; i++) {
		ampl_agent_poll(rpu0);
		usleep(100);
	}
	assert_int_equal(atomic_load(&polled_rx), 1);
	uint32_t before = doorbells_taken(tx);
	for (int round = 0; round < 4; round++) {
		int had = atomic_load(&polled_rx);
		for (int k = 0; k < 4; k++)
			assert_int_equal(ipc_service_send(&eh, "ping", 4), 4);
		usleep(20000);
		assert_int_equal(atomic_load(&polled_rx), had);
		assert_int_equal(ampl_agent_poll(rpu0), 0);
		assert_int_equal(atomic_load(&polled_rx), had + 4);
	}
	assert_int_equal(doorbells_taken(tx) - before, 0);
	assert_int_equal(ipc_rpmsg_poll(NULL), -EINVAL);
	struct rpmsg_device *rh = ipc_rpmsg_device(dh), *rr = ipc_rpmsg_device(dr);
	assert_int_equal(atomic_load(&rh->stats.errors) + atomic_load(&rr->stats.errors), 0);
	assert_int_equal(ipc_service_deregister_endpoint(&eh), 0);
	assert_int_equal(ipc_service_deregister_endpoint(&er), 0);
	assert_int_equal(ipc_service_close_instance(dr), 0);
	assert_int_equal(ipc_service_close_instance(dh), 0);
	ampl_agent_detach(rpu0);
	ampl_agent_detach(apu);
	ampl_soc_close(soc);
	ampl_soc_destroy(name);
}

/* A test that needs a feature option (AMPL_RPMSG_*) off in this build: reported skipped. */
static void skipped_option_off(void **state)
{
	(void)state;
	skip();
}
#define OPT_TEST(f, on) { #f, (on) ? f : skipped_option_off, NULL, NULL, NULL }
/* Binds endpoints from announcements (AMPL_RPMSG_NS), restarts a side (AMPL_RPMSG_SESSIONS), holds or reserves
 * buffers (AMPL_RPMSG_ZERO_COPY). */
#define NS_TEST(f) OPT_TEST(f, AMPL_RPMSG_NS)
#define SESS AMPL_RPMSG_SESSIONS
#define ZC AMPL_RPMSG_ZERO_COPY

#if AMPL_IPC_ONE_BACKEND
/* The front end built for this backend alone (AMPL_IPC_ONE_BACKEND): see one_backend.h. */
static void test_one_backend(void **state)
{
	(void)state;
	check_one_backend(&ipc_rpmsg_backend);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		NS_TEST(test_start_remote_first),
		NS_TEST(test_start_host_first),
		NS_TEST(test_host_announce),
		cmocka_unit_test(test_name_service_option),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_buffer_size),
		cmocka_unit_test(test_size_options),
		OPT_TEST(test_exhaustion_host_sends, ZC),
		OPT_TEST(test_exhaustion_remote_sends, ZC),
		cmocka_unit_test(test_blocked_sender_link_down),
		OPT_TEST(test_zero_copy, ZC),
		NS_TEST(test_destroy),
		OPT_TEST(test_remote_restart, AMPL_RPMSG_NS && SESS),
		OPT_TEST(test_host_restart, AMPL_RPMSG_NS && SESS),
		OPT_TEST(test_session_ack, SESS),
		OPT_TEST(test_peer_lost, AMPL_RPMSG_NS && SESS),
		OPT_TEST(test_close_reopen, AMPL_RPMSG_NS && SESS),
		cmocka_unit_test(test_quirk_lengths_and_reserved),
		cmocka_unit_test(test_quirk_status),
		cmocka_unit_test(test_link_down_unbind),
		cmocka_unit_test(test_rx_batch_gives_back),
		cmocka_unit_test(test_quirk_legacy_host),
		cmocka_unit_test(test_quirk_host_places_vrings),
		cmocka_unit_test(test_quirk_legacy_remote),
		cmocka_unit_test(test_quirk_suppressed_kicks),
		cmocka_unit_test(test_rx_pass_suppression_host_sends),
		cmocka_unit_test(test_rx_pass_suppression_remote_sends),
		cmocka_unit_test(test_rx_linger_host_sends),
		cmocka_unit_test(test_rx_linger_remote_sends),
		cmocka_unit_test(test_openamp_host_sends),
		cmocka_unit_test(test_openamp_host_receives),
		OPT_TEST(test_corrupt_rings, SESS && ZC),
#if AMPL_IPC_ONE_BACKEND
		cmocka_unit_test(test_one_backend),
#endif
		cmocka_unit_test(test_corrupt_used_len),
		OPT_TEST(test_corrupt_table, SESS),
		OPT_TEST(test_stress, AMPL_RPMSG_NS && ZC),
		OPT_TEST(test_ipc_close_under_rebind, AMPL_RPMSG_NS && SESS),
		NS_TEST(test_ipc_polled_remote),
	};
	if (getenv("RPMSG_TEST"))
		cmocka_set_test_filter(getenv("RPMSG_TEST"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
