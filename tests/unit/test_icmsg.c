/*
 * ICMsg and its IPC service backend on the virtual SoC: the bonding bytes in shared memory, every send return
 * code, two agents (APU and RPU0, each with its interrupt thread) exchanging traffic, the size extension and a
 * Zephyr-style peer without it, session mode (close, re-open, rebinding), detect mode (against amplink's modes and
 * against a peer that applies Zephyr's detect rule) and corrupt shared memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ipc_side.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/ipc/ipc_icmsg.h>
#include <amplink/ipc_service.h>
#include <amplink/mailbox_controller.h>
#include <amplink/host/soc.h>

#include "one_backend.h"

#if !AMPL_ICMSG_SESSIONS
#pragma GCC diagnostic ignored "-Wunused-function" /* the session-mode tests, left out of this build */
#endif

#define APU_TX 0x3ed40000u
#define RPU0_TX 0x3ed48000u
#define REGION 0x8000u
#define D 64u

static unsigned soc_counter;

struct env {
	char name[64];
	struct ampl_soc *soc;
	struct ampl_agent *apu, *rpu0;
};

static void env_up(struct env *e, bool with_rpu0, bool rpu0_devices)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "t-icmsg-%d-%u", (int)getpid(), soc_counter++);
	int ret = ampl_soc_create(e->name, &ampl_soc_zynqmp, NULL, 0);
	if (ret)
		fail_msg("ampl_soc_create: %d %s", ret, ampl_soc_last_error());
	assert_int_equal(ampl_soc_open(e->name, &e->soc), 0);
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	ret = ampl_agent_attach(e->soc, "apu", &o, &e->apu);
	if (ret)
		fail_msg("attach apu: %d %s", ret, ampl_soc_last_error());
	if (with_rpu0) {
		o.no_dt_devices = !rpu0_devices;
		ret = ampl_agent_attach(e->soc, "rpu0", &o, &e->rpu0);
		if (ret)
			fail_msg("attach rpu0: %d %s", ret, ampl_soc_last_error());
	}
}

static void env_down(struct env *e)
{
	ampl_agent_detach(e->rpu0);
	ampl_agent_detach(e->apu);
	ampl_soc_close(e->soc);
	ampl_soc_destroy(e->name);
}

/* ---- endpoint bookkeeping (callbacks run in the agents' interrupt threads) ---- */

struct side {
	IPC_SIDE_EVENTS;
	_Atomic int received, bad;
	_Atomic uint32_t next_seq;
	_Atomic size_t last_len;
	uint8_t last[256];
};

/* Messages: seq (4) + checksum of the rest (4) + payload; or short raw messages (< 8 bytes) kept in last[]. */
static void cb_received(const void *data, size_t len, void *priv)
{
	struct side *s = priv;
	const uint8_t *p = data;
	if (len <= sizeof(s->last))
		memcpy(s->last, data, len);
	atomic_store(&s->last_len, len);
	if (len >= 8) {
		uint32_t seq, sum;
		memcpy(&seq, p, 4);
		memcpy(&sum, p + 4, 4);
		if (seq != atomic_load(&s->next_seq) || sum != csum(p + 8, len - 8))
			atomic_fetch_add(&s->bad, 1);
		atomic_store(&s->next_seq, seq + 1);
	}
	atomic_fetch_add(&s->received, 1);
}

static const struct ipc_service_cb side_cb = {
	.bound = cb_bound, .unbound = cb_unbound, .received = cb_received, .error = cb_error
};

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

/*
 * A message of @len >= 8 bytes that make_msg() wrote for sender seq >> 24, its number seq & 0xFFFFFF: true, with
 * *@who and *@n, when its checksum holds and its sender is one of @senders.
 */
static bool sender_msg(const void *data, size_t len, uint32_t senders, uint32_t *who, uint32_t *n)
{
	const uint8_t *p = data;
	uint32_t seq, sum;
	memcpy(&seq, p, 4);
	memcpy(&sum, p + 4, 4);
	*who = seq >> 24;
	*n = seq & 0xFFFFFFu;
	return *who < senders && sum == csum(p + 8, len - 8);
}

static int send_retry(struct ipc_ept *ept, const void *data, size_t len)
{
	for (int i = 0; i < 1000000; i++) {
		int r = ipc_service_send(ept, data, len);
		if (r != -ENOMEM)
			return r;
		sched_yield();
	}
	return -ETIMEDOUT;
}

/* ---- 1: the bonding bytes and the send codes before bonding ---- */

static void test_wire_bonding(void **state)
{
	(void)state;
	struct env e;
	env_up(&e, false, false);
	const struct ampl_device *dev;
	assert_int_equal(ampl_agent_ipc_instance(e.apu, "ipc_icmsg_apu", &dev), 0);
	assert_ptr_equal(ampl_device_get_by_label("ipc_icmsg_apu"), dev);
	assert_ptr_equal(ampl_device_get_binding("ipc-icmsg-apu"), dev);
	const struct ampl_device *again;
	assert_int_equal(ampl_agent_ipc_instance(e.apu, "/ipc-icmsg-apu", &again), 0);
	assert_ptr_equal(again, dev);
	assert_int_equal(ampl_agent_ipc_instance(e.apu, "nope", &again), -ENOENT);
	assert_int_equal(ampl_agent_ipc_instance(e.apu, "ipc_icmsg_rpu0", &again), -EINVAL); /* rpu0's mailbox */

	volatile uint8_t *tx = ampl_soc_phys(e.soc, APU_TX, REGION);
	assert_non_null(tx);
	memset((void *)tx, 0xAA, 256);

	struct side s = { 0 };
	struct ipc_ept ept = { 0 };
	struct ipc_ept_cfg cfg = { .name = "ep", .cb = side_cb, .priv = &s };
	assert_int_equal(ipc_service_open_instance(dev), 0);
	assert_int_equal(ipc_service_register_endpoint(dev, &ept, &cfg), 0);
	struct ipc_ept ept2 = { 0 };
	assert_int_equal(ipc_service_register_endpoint(dev, &ept2, &cfg), -EBUSY); /* one endpoint per instance */

	/* rd_idx @0 = 0, wr_idx @64 = 24, data @68: BE16 len 17, 2 zero bytes, the magic, LE32 max rx size (the
	 * default board's instances set amplink,max-packet-ext). */
	uint32_t data_len = REGION - D - 4, max_rx = data_len - 8;
	static const uint8_t magic[13] = { 0x45, 0x6d, 0x31, 0x6c, 0x31, 0x4b, 0x30, 0x72, 0x6e, 0x33, 0x6c, 0x69, 0x34 };
	uint8_t want[4 + 17];
	want[0] = 0;
	want[1] = 17;
	want[2] = want[3] = 0;
	memcpy(want + 4, magic, 13);
	want[17] = (uint8_t)max_rx;
	want[18] = (uint8_t)(max_rx >> 8);
	want[19] = (uint8_t)(max_rx >> 16);
	want[20] = (uint8_t)(max_rx >> 24);
	const uint8_t idx0[4] = { 0, 0, 0, 0 }, idx24[4] = { 24, 0, 0, 0 };
	assert_memory_equal((const void *)tx, idx0, 4);
	assert_memory_equal((const void *)(tx + D), idx24, 4);
	assert_memory_equal((const void *)(tx + D + 4), want, sizeof(want));
	assert_int_equal(tx[4], 0xAA); /* no handshake word written in classic mode */

	/* Send codes without a peer. */
	assert_int_equal(ipc_service_send(&ept, "x", 1), -EBUSY); /* not bound */
	assert_int_equal(ipc_service_send(&ept, "x", 0), -EBADMSG);
	assert_int_equal(ipc_service_send(&ept, NULL, 4), -EBADMSG);
	assert_int_equal(ipc_service_send(NULL, "x", 1), -EINVAL);
	/* A poll of a link never opened (no configuration yet) or closed does nothing (as a doorbell then would). */
	static struct icmsg never;
	assert_int_equal(icmsg_poll(&never), 0);
	assert_int_equal(icmsg_poll(NULL), -EINVAL);
	void *buf;
	uint32_t sz = 0;
	assert_int_equal(ipc_service_get_tx_buffer(&ept, &buf, &sz, AMPL_NO_WAIT), -EIO); /* no zero-copy */
#if AMPL_IPC_ICMSG_DEREGISTER
	assert_int_equal(ipc_service_deregister_endpoint(&ept), 0);
	assert_int_equal(ipc_service_send(&ept, "x", 1), -ENOENT);
#else
	/* Without deregistration the endpoint stays registered; the link is closed below the IPC service. */
	assert_int_equal(ipc_service_deregister_endpoint(&ept), -EIO);
	assert_int_equal(ipc_service_register_endpoint(dev, &ept2, &cfg), -EBUSY);
	assert_int_equal(icmsg_close(ipc_icmsg_link(dev)), 0);
	assert_int_equal(ipc_service_send(&ept, "x", 1), -EBUSY);
#endif
	assert_int_equal(ipc_service_close_instance(dev), 0);
	assert_int_equal(s.errors, 0);
	env_down(&e);
}

/* Deregister @ept; without AMPL_IPC_ICMSG_DEREGISTER (test_icmsg_fixed), close its link instead. */
static int deregister(struct ipc_ept *ept)
{
	if (AMPL_IPC_ICMSG_DEREGISTER)
		return ipc_service_deregister_endpoint(ept);
	assert_int_equal(ipc_service_deregister_endpoint(ept), -EIO);
	return icmsg_close(ipc_icmsg_link(ept->instance));
}

/* ---- 2: two agents, both start orders, 10,000 messages each way ---- */

static void traffic(bool apu_first)
{
	struct env e;
	env_up(&e, true, true);
	const struct ampl_device *da, *dr;
	assert_int_equal(ampl_agent_ipc_instance(e.apu, "ipc_icmsg_apu", &da), 0);
	assert_int_equal(ampl_agent_ipc_instance(e.rpu0, "ipc_icmsg_rpu0", &dr), 0);
	static struct side sa, sr;
	memset(&sa, 0, sizeof(sa));
	memset(&sr, 0, sizeof(sr));
	struct ipc_ept ea = { 0 }, er = { 0 };
	struct ipc_ept_cfg ca = { .name = "ep", .cb = side_cb, .priv = &sa };
	struct ipc_ept_cfg cr = { .name = "ep", .cb = side_cb, .priv = &sr };
	if (apu_first) {
		assert_int_equal(ipc_service_register_endpoint(da, &ea, &ca), 0);
		usleep(20000);
		assert_int_equal(ipc_service_register_endpoint(dr, &er, &cr), 0);
	} else {
		assert_int_equal(ipc_service_register_endpoint(dr, &er, &cr), 0);
		usleep(20000);
		assert_int_equal(ipc_service_register_endpoint(da, &ea, &ca), 0);
	}
	assert_true(wait_for(&sa.bound, 1));
	assert_true(wait_for(&sr.bound, 1));
	assert_int_equal(sa.bound, 1);
	assert_int_equal(sr.bound, 1);
	uint32_t max = icmsg_peer_max(ipc_icmsg_link(da));
	assert_int_equal(max, REGION - D - 4 - 8); /* the peer advertised its buffer: the whole ring */

	static uint8_t buf[4096];
	const int n = 10000;
	for (int i = 0; i < n; i++) {
		size_t len = make_msg(buf, (uint32_t)i, 8 + ((size_t)i * 37u) % 1500u);
		assert_int_equal(send_retry(&ea, buf, len), (int)len);
		len = make_msg(buf, (uint32_t)i, 8 + ((size_t)i * 53u) % 700u);
		assert_int_equal(send_retry(&er, buf, len), (int)len);
	}
	assert_true(wait_for(&sr.received, n));
	assert_true(wait_for(&sa.received, n));
	assert_int_equal(sa.bad, 0);
	assert_int_equal(sr.bad, 0);
	assert_int_equal(sa.errors, 0);
	assert_int_equal(sr.errors, 0);

	/* Above the peer's max: refused, never dropped at the peer. */
	static uint8_t big[REGION];
	assert_int_equal(ipc_service_send(&ea, big, max + 1), -EMSGSIZE);
	/* The ring full: -ENOMEM (the peer drains concurrently, so fill until it answers so). */
	int r = 0;
	for (int i = 0; i < 100000 && r != -ENOMEM; i++)
		r = ipc_service_send(&ea, big, max);
	assert_int_equal(r, -ENOMEM);

	assert_int_equal(deregister(&ea), 0);
	assert_int_equal(deregister(&er), 0);
	env_down(&e);
}

static void test_traffic_apu_first(void **state)
{
	(void)state;
	traffic(true);
}

static void test_traffic_rpu0_first(void **state)
{
	(void)state;
	traffic(false);
}

/* Register @ca on the APU's ICMsg instance and @cr on RPU0's, APU first. */
static void register_pair(struct env *e, struct ipc_ept *ea, struct ipc_ept *er, const struct ipc_ept_cfg *ca,
			  const struct ipc_ept_cfg *cr)
{
	const struct ampl_device *da, *dr;
	assert_int_equal(ampl_agent_ipc_instance(e->apu, "ipc_icmsg_apu", &da), 0);
	assert_int_equal(ampl_agent_ipc_instance(e->rpu0, "ipc_icmsg_rpu0", &dr), 0);
	assert_int_equal(ipc_service_register_endpoint(da, ea, ca), 0);
	assert_int_equal(ipc_service_register_endpoint(dr, er, cr), 0);
}

/* pbuf's copies (tests/unit/pbuf_copy_hook.h): a sender's payload copy stalls now and then before it lands. */
static _Thread_local unsigned copy_stalls;

void pbuf_copy(void *d, const void *s, size_t n); /* tests/unit/pbuf_copy_hook.h */

/* A thread's payload copies longer than 64 bytes wait at this gate while it is closed (1). */
static _Thread_local _Atomic int *copy_gate;
static _Atomic int copies_at_gate;

void pbuf_copy(void *d, const void *s, size_t n)
{
	if (copy_stalls && n > 8 && ++copy_stalls % 4u == 0)
		usleep(200);
	if (copy_gate && n > 64) {
		atomic_fetch_add(&copies_at_gate, 1);
		while (atomic_load(copy_gate))
			usleep(100);
	}
	memcpy(d, s, n);
}

/*
 * Several threads send on one link at once, short and long messages mixed, each copy stalling now and then before
 * its bytes land (tests/unit/pbuf_copy_hook.h): a short message is copied under the TX lock or outside it
 * (AMPL_ICMSG_LOCKED_COPY_MAX; test_icmsg 0, test_icmsg_classic 64, test_icmsg_fixed all), and a short one behind a
 * long copy still running is published by the long one's sender. Classic mode resets nothing: every message
 * arrives, intact, once and in its sender's order.
 */
#define MIX_SENDERS 3u
#define MIX_EACH 3000u

static _Atomic uint32_t mix_next[MIX_SENDERS];
static _Atomic int mix_received, mix_bad;
static struct ipc_ept mix_ept;

static void mix_rx(const void *data, size_t len, void *priv)
{
	(void)priv;
	uint32_t who, n;
	if (len < 8) {
		atomic_fetch_add(&mix_bad, 1);
		return;
	}
	if (!sender_msg(data, len, MIX_SENDERS, &who, &n) || n != atomic_load(&mix_next[who]))
		atomic_fetch_add(&mix_bad, 1);
	else
		atomic_store(&mix_next[who], n + 1u);
	atomic_fetch_add(&mix_received, 1);
}

static void *mix_sender(void *arg)
{
	uint32_t who = (uint32_t)(uintptr_t)arg;
	static uint8_t bufs[MIX_SENDERS][512];
	static const size_t lens[] = { 8, 40, 64, 60, 65, 300, 12, 500, 33 };
	copy_stalls = 1;
	for (uint32_t n = 0; n < MIX_EACH; n++) {
		size_t len = make_msg(bufs[who], who << 24 | n, lens[(n + who) % (sizeof(lens) / sizeof(lens[0]))]);
		int r = send_retry(&mix_ept, bufs[who], len);
		if (r != (int)len)
			return (void *)(intptr_t)(r ? r : -1);
	}
	return NULL;
}

static void test_concurrent_senders(void **state)
{
	(void)state;
	struct env e;
	env_up(&e, true, true);
	static struct side sa, sr;
	memset(&sa, 0, sizeof(sa));
	memset(&sr, 0, sizeof(sr));
	for (unsigned i = 0; i < MIX_SENDERS; i++)
		atomic_store(&mix_next[i], 0);
	atomic_store(&mix_received, 0);
	atomic_store(&mix_bad, 0);
	struct ipc_service_cb rcb = side_cb;
	rcb.received = mix_rx;
	struct ipc_ept er = { 0 };
	struct ipc_ept_cfg ca = { .name = "ep", .cb = side_cb, .priv = &sa };
	struct ipc_ept_cfg cr = { .name = "ep", .cb = rcb, .priv = &sr };
	memset(&mix_ept, 0, sizeof(mix_ept));
	register_pair(&e, &mix_ept, &er, &ca, &cr);
	assert_true(wait_for(&sa.bound, 1));
	assert_true(wait_for(&sr.bound, 1));

	pthread_t th[MIX_SENDERS];
	for (unsigned i = 0; i < MIX_SENDERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, mix_sender, (void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < MIX_SENDERS; i++) {
		void *ret;
		assert_int_equal(pthread_join(th[i], &ret), 0);
		assert_int_equal((int)(intptr_t)ret, 0);
	}
	assert_true(wait_for(&mix_received, (int)(MIX_SENDERS * MIX_EACH)));
	assert_int_equal(atomic_load(&mix_received), (int)(MIX_SENDERS * MIX_EACH));
	assert_int_equal(atomic_load(&mix_bad), 0);
	for (unsigned i = 0; i < MIX_SENDERS; i++)
		assert_int_equal(atomic_load(&mix_next[i]), MIX_EACH);
	assert_int_equal(sa.errors + sr.errors, 0);
	assert_int_equal(deregister(&mix_ept), 0);
	assert_int_equal(deregister(&er), 0);
	env_down(&e);
}

/* Callbacks that must never run: they stand where the endpoints' configurations were overwritten. */
static _Atomic int stale_calls;
static void stale_bound(void *priv)
{
	(void)priv;
	atomic_fetch_add(&stale_calls, 1);
}
static void stale_received(const void *data, size_t len, void *priv)
{
	(void)data;
	(void)len;
	(void)priv;
	atomic_fetch_add(&stale_calls, 1);
}

/* The callbacks and their argument are copied at registration: a configuration on the caller's stack, gone or
 * reused once register returns (as the seed documents' example has it), changes nothing. */
static void test_cfg_copied_at_registration(void **state)
{
	(void)state;
	struct env e;
	env_up(&e, true, true);
	static struct side sa, sr;
	memset(&sa, 0, sizeof(sa));
	memset(&sr, 0, sizeof(sr));
	atomic_store(&stale_calls, 0);
	struct ipc_ept ea = { 0 }, er = { 0 };
	struct ipc_ept_cfg ca = { .name = "ep", .cb = side_cb, .priv = &sa };
	struct ipc_ept_cfg cr = { .name = "ep", .cb = side_cb, .priv = &sr };
	register_pair(&e, &ea, &er, &ca, &cr);
	const struct ipc_ept_cfg stale = { .name = "xx", .cb = { .bound = stale_bound, .received = stale_received },
					   .priv = NULL };
	ca = stale;
	cr = stale;
	assert_true(wait_for(&sa.bound, 1));
	assert_true(wait_for(&sr.bound, 1));
	static uint8_t buf[64];
	for (int i = 0; i < 100; i++) {
		size_t len = make_msg(buf, (uint32_t)i, 8 + (size_t)i % 40u);
		assert_int_equal(send_retry(&ea, buf, len), (int)len);
		assert_int_equal(send_retry(&er, buf, len), (int)len);
	}
	assert_true(wait_for(&sr.received, 100));
	assert_true(wait_for(&sa.received, 100));
	assert_int_equal(sa.bad + sr.bad, 0);
	assert_int_equal(atomic_load(&stale_calls), 0);
	assert_int_equal(deregister(&ea), 0);
	assert_int_equal(deregister(&er), 0);
	env_down(&e);
}

/* ---- 3: a Zephyr-style peer (bare magic), a small receive buffer, corrupt shared memory ---- */

struct raw_peer {
	struct mbox_client cl;
	struct mbox_chan *tx;
	struct pbuf pb;
};

static void raw_ring(struct raw_peer *p)
{
	for (int i = 0; i < 1000 && mbox_client_tx_busy(p->tx); i++)
		usleep(1000);
	assert_true(mbox_send_message(p->tx, NULL) >= 0);
}

static void test_zephyr_peer_and_corruption(void **state)
{
	(void)state;
	struct env e;
	env_up(&e, true, false);
	/* Our side: an icmsg link by hand with a 64-byte receive buffer. */
	const struct mbox_consumer *mc;
	assert_int_equal(ampl_agent_mbox_consumer(e.apu, "ipc_icmsg_apu", &mc), 0);
	struct mbox_controller *ctrl;
	assert_int_equal(ampl_agent_mbox(e.apu, "rpu0", &ctrl), 0);
	static uint8_t rxbuf[64];
	struct icmsg_config cfg = {
		.tx_mem = (void *)ampl_soc_phys(e.soc, APU_TX, REGION), .tx_size = REGION,
		.rx_mem = (void *)ampl_soc_phys(e.soc, RPU0_TX, REGION), .rx_size = REGION,
		.dcache_alignment = D, .mbox_node = mc, .rx_buf = rxbuf, .rx_buf_size = sizeof(rxbuf),
	};
	/* The peer: a pbuf writer on RPU0's tx region and RPU0's doorbell to the APU. */
	struct raw_peer p = { 0 };
	struct mbox_controller *rctrl;
	assert_int_equal(ampl_agent_mbox(e.rpu0, "apu", &rctrl), 0);
	assert_int_equal(mbox_bind_client(&rctrl->chans[0], &p.cl), 0);
	p.tx = &rctrl->chans[0];
	struct pbuf_cfg pc;
	assert_int_equal(pbuf_cfg_init(&pc, cfg.rx_mem, REGION, D, false), 0);
	assert_int_equal(pbuf_tx_init(&p.pb, &pc), 0);

	static struct side s;
	memset(&s, 0, sizeof(s));
	static struct icmsg im;
	memset(&im, 0, sizeof(im));
	assert_int_equal(icmsg_open(&im, &cfg, &side_cb, &s), 0);
	assert_int_equal(icmsg_open(&im, &cfg, &side_cb, &s), -EALREADY);
	assert_int_equal(icmsg_state(&im), ICMSG_STATE_BONDING);
	/* Without size_ext our bonding packet is exactly the magic: BE16 13, 2 zero bytes, the magic; wr_idx = 20. */
	const volatile uint8_t *our = cfg.tx_mem;
	const uint8_t hdr13[4] = { 0, 13, 0, 0 }, idx20[4] = { 20, 0, 0, 0 };
	assert_memory_equal((const void *)(our + D), idx20, 4);
	assert_memory_equal((const void *)(our + D + 4), hdr13, 4);
	assert_memory_equal((const void *)(our + D + 8), icmsg_magic, ICMSG_MAGIC_LEN);

	/* Garbage instead of the magic: reported, dropped, still bonding. */
	assert_int_equal(pbuf_write(&p.pb, "Em1l1K0rn3liX", 13), 13);
	raw_ring(&p);
	assert_true(wait_for(&s.errors, 1));
	assert_non_null(strstr(s.last_error, "magic"));
	assert_int_equal(icmsg_state(&im), ICMSG_STATE_BONDING);
	assert_int_equal(icmsg_send(&im, "x", 1), -EBUSY);

	/* The bare magic (Zephyr): bound, the peer's max assumed to be 128. */
	assert_int_equal(pbuf_write(&p.pb, icmsg_magic, ICMSG_MAGIC_LEN), ICMSG_MAGIC_LEN);
	raw_ring(&p);
	assert_true(wait_for(&s.bound, 1));
	assert_int_equal(icmsg_peer_max(&im), 128);
	static uint8_t big[256];
	assert_int_equal(icmsg_send(&im, big, 129), -EMSGSIZE);
	assert_int_equal(icmsg_send(&im, big, 128), 128);

	/* A packet larger than our 64-byte buffer: reported and skipped; the next one is delivered. */
	int errs = s.errors;
	assert_int_equal(pbuf_write(&p.pb, big, 100), 100);
	assert_int_equal(pbuf_write(&p.pb, "hello", 5), 5);
	raw_ring(&p);
	assert_true(wait_for(&s.received, 1));
	assert_int_equal(s.errors, errs + 1);
	assert_non_null(strstr(s.last_error, "larger than the receive buffer"));
	assert_int_equal(s.last_len, 5);
	assert_memory_equal(s.last, "hello", 5);

	/* A huge length in a header: reported once, nothing delivered, no crash. */
	volatile uint8_t *ring = (volatile uint8_t *)cfg.rx_mem + D + 4;
	uint32_t wr;
	memcpy(&wr, (const void *)((volatile uint8_t *)cfg.rx_mem + D), 4);
	__atomic_store_n((uint32_t *)(void *)&ring[wr], 0x0000FFFFu, __ATOMIC_RELAXED); /* BE16 0xFFFF, 0 */
	__atomic_store_n((uint32_t *)(void *)((uint8_t *)cfg.rx_mem + D), wr + 8, __ATOMIC_RELEASE);
	raw_ring(&p);
	assert_true(wait_for(&s.errors, errs + 2));
	assert_non_null(strstr(s.last_error, "corrupt"));
	raw_ring(&p);
	usleep(20000);
	assert_int_equal(s.errors, errs + 2); /* once */
	/* A write index out of range: reported. */
	__atomic_store_n((uint32_t *)(void *)((uint8_t *)cfg.rx_mem + D), 0xFFFFFFF0u, __ATOMIC_RELEASE);
	raw_ring(&p);
	assert_true(wait_for(&s.errors, errs + 3));
	assert_int_equal(s.received, 1);

	assert_int_equal(icmsg_close(&im), 0);
	assert_int_equal(icmsg_close(&im), -EALREADY);
	assert_int_equal(icmsg_send(&im, "x", 1), -EBUSY);
	mbox_free_channel(p.tx);
	env_down(&e);
}

/* ---- 4: session mode ---- */

static void session_cfg(struct env *e, struct icmsg_config *c, bool apu, uint8_t *buf, size_t bufsz)
{
	const struct mbox_consumer *mc;
	struct mbox_controller *ctrl;
	struct ampl_agent *ag = apu ? e->apu : e->rpu0;
	assert_int_equal(ampl_agent_mbox(ag, apu ? "rpu0" : "apu", &ctrl), 0);
	assert_int_equal(ampl_agent_mbox_consumer(ag, apu ? "ipc_icmsg_apu" : "ipc_icmsg_rpu0", &mc), 0);
	memset(c, 0, sizeof(*c));
	c->tx_mem = (void *)ampl_soc_phys(e->soc, apu ? APU_TX : RPU0_TX, REGION);
	c->rx_mem = (void *)ampl_soc_phys(e->soc, apu ? RPU0_TX : APU_TX, REGION);
	c->tx_size = c->rx_size = REGION;
	c->dcache_alignment = D;
	c->unbound_mode = ICMSG_UNBOUND_MODE_ENABLE;
	c->mbox_node = mc;
	c->rx_buf = buf;
	c->rx_buf_size = (uint32_t)bufsz;
}

static void exchange(struct icmsg *a, struct side *sa, struct icmsg *b, struct side *sb, uint32_t seq)
{
	uint8_t buf[100];
	int ra = sa->received, rb = sb->received;
	atomic_store(&sb->next_seq, seq);
	atomic_store(&sa->next_seq, seq);
	size_t len = make_msg(buf, seq, sizeof(buf));
	assert_int_equal(icmsg_send(a, buf, len), (int)len);
	assert_int_equal(icmsg_send(b, buf, len), (int)len);
	assert_true(wait_for(&sb->received, rb + 1));
	assert_true(wait_for(&sa->received, ra + 1));
	assert_int_equal(sa->bad + sb->bad, 0);
}

/*
 * A build with AMPL_ICMSG_SESSIONS 0 (test_icmsg_classic): session and detect mode are refused at open with
 * -ENOTSUP, before anything is written or a channel taken; classic mode then opens the same channels and bonds.
 */
static void test_sessions_compiled_out(void **state)
{
	(void)state;
	struct env e;
	env_up(&e, true, false);
	static uint8_t ba[128], br[128];
	static struct icmsg_config ca, cr;
	session_cfg(&e, &ca, true, ba, sizeof(ba));
	session_cfg(&e, &cr, false, br, sizeof(br));
	static struct icmsg a, r;
	static struct side sa, sr;
	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	memset(&sa, 0, sizeof(sa));
	memset(&sr, 0, sizeof(sr));
	int expect = AMPL_ICMSG_SESSIONS ? 0 : -ENOTSUP;
	ca.unbound_mode = ICMSG_UNBOUND_MODE_DETECT;
	int ret = icmsg_open(&a, &ca, &side_cb, &sa);
	if (!ret)
		assert_int_equal(icmsg_close(&a), 0);
	assert_int_equal(ret, expect);
	ca.unbound_mode = ICMSG_UNBOUND_MODE_ENABLE;
	ret = icmsg_open(&a, &ca, &side_cb, &sa);
	if (!ret)
		assert_int_equal(icmsg_close(&a), 0);
	assert_int_equal(ret, expect);
	assert_int_equal(icmsg_state(&a), ICMSG_STATE_OFF);
	ca.unbound_mode = cr.unbound_mode = ICMSG_UNBOUND_MODE_DISABLE;
	assert_int_equal(icmsg_open(&a, &ca, &side_cb, &sa), 0);
	assert_int_equal(icmsg_open(&r, &cr, &side_cb, &sr), 0);
	assert_true(wait_for(&sa.bound, 1));
	assert_true(wait_for(&sr.bound, 1));
	exchange(&a, &sa, &r, &sr, 100);
	assert_int_equal(icmsg_close(&a), 0);
	assert_int_equal(icmsg_close(&r), 0);
	env_down(&e);
}

static void test_session(void **state)
{
	(void)state;
	struct env e;
	env_up(&e, true, false);
	static uint8_t ba[128], br[128];
	static struct icmsg_config ca, cr;
	session_cfg(&e, &ca, true, ba, sizeof(ba));
	session_cfg(&e, &cr, false, br, sizeof(br));
	static struct icmsg a, r;
	static struct side sa, sr;
	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	memset(&sa, 0, sizeof(sa));
	memset(&sr, 0, sizeof(sr));

	assert_int_equal(icmsg_open(&a, &ca, &side_cb, &sa), 0);
	assert_int_equal(icmsg_send(&a, "x", 1), -EBUSY);
	assert_int_equal(icmsg_open(&r, &cr, &side_cb, &sr), 0);
	assert_true(wait_for(&sa.bound, 1));
	assert_true(wait_for(&sr.bound, 1));
	assert_int_equal(icmsg_peer_max(&a), 128); /* no size extension in session mode */
	exchange(&a, &sa, &r, &sr, 100);

	/* The peer closes: unbound() here, sends -EBUSY (no silent success). */
	assert_int_equal(icmsg_close(&r), 0);
	assert_true(wait_for(&sa.unbound, 1));
	assert_int_equal(icmsg_state(&a), ICMSG_STATE_DISCONNECTED);
	assert_int_equal(icmsg_send(&a, "x", 1), -EBUSY);

	/* The peer re-opens: bound() again on both sides, traffic resumes. */
	assert_int_equal(icmsg_open(&r, &cr, &side_cb, &sr), 0);
	assert_true(wait_for(&sa.bound, 2));
	assert_true(wait_for(&sr.bound, 2));
	exchange(&a, &sa, &r, &sr, 200);

	/* This side restarts (close + open): the peer sees unbound, then both rebind. */
	assert_int_equal(icmsg_close(&a), 0);
	assert_true(wait_for(&sr.unbound, 1));
	memset(&a, 0, sizeof(a)); /* as a restarted process: the previous session id only in shared memory */
	assert_int_equal(icmsg_open(&a, &ca, &side_cb, &sa), 0);
	assert_true(wait_for(&sa.bound, 3));
	assert_true(wait_for(&sr.bound, 3));
	exchange(&a, &sa, &r, &sr, 300);
	assert_int_equal(sa.errors + sr.errors, 0);

	assert_int_equal(icmsg_close(&a), 0);
	assert_int_equal(icmsg_close(&r), 0);

	/* The peer's limit, configured (DT amplink,peer-max-packet): sends above it answer -EMSGSIZE. */
	ca.peer_rx_max_default = 100;
	assert_int_equal(icmsg_open(&a, &ca, &side_cb, &sa), 0);
	assert_int_equal(icmsg_open(&r, &cr, &side_cb, &sr), 0);
	assert_true(wait_for(&sa.bound, 4));
	assert_true(wait_for(&sr.bound, 4));
	assert_int_equal(icmsg_peer_max(&a), 100);
	assert_int_equal(icmsg_peer_max(&r), 128);
	uint8_t big[101] = { 0 };
	assert_int_equal(icmsg_send(&a, big, 101), -EMSGSIZE);
	int before = atomic_load(&sr.received);
	assert_int_equal(icmsg_send(&a, big, 100), 100);
	assert_true(wait_for(&sr.received, before + 1));
	assert_int_equal(icmsg_close(&a), 0);
	assert_int_equal(icmsg_close(&r), 0);
	ca.peer_rx_max_default = 0;
	env_down(&e);
}

/*
 * Session mode, a read of the previous session that ends after the writer's reset: the reader (RPU0, polled from
 * this thread, as firmware whose drain loop is slow) had consumed the APU's packets; the APU closes and reopens,
 * resetting its tx ring (rd_idx = 0) and acknowledging RPU0's session; only then does RPU0's last read of the old
 * session store its old rd_idx (done here by hand, with the value it had). Once both are bound again, the APU's
 * next send must still reach RPU0: its doorbell is withheld only if RPU0 looks behind (pbuf_doorbell_needed()), and
 * a polled reader that is never rung never reads. Seen with firmware under QEMU (test_fw_icmsg, polling mode).
 */
static void test_session_stale_read_index(void **state)
{
	(void)state;
	struct env e;
	memset(&e, 0, sizeof(e));
	snprintf(e.name, sizeof(e.name), "t-icmsg-%d-%u", (int)getpid(), soc_counter++);
	assert_int_equal(ampl_soc_create(e.name, &ampl_soc_zynqmp, NULL, 0), 0);
	assert_int_equal(ampl_soc_open(e.name, &e.soc), 0);
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	assert_int_equal(ampl_agent_attach(e.soc, "apu", &o, &e.apu), 0);
	o.no_irq_thread = true;
	o.no_dt_devices = true;
	assert_int_equal(ampl_agent_attach(e.soc, "rpu0", &o, &e.rpu0), 0);
	static uint8_t ba[128], br[128];
	static struct icmsg_config ca, cr;
	session_cfg(&e, &ca, true, ba, sizeof(ba));
	session_cfg(&e, &cr, false, br, sizeof(br));
	static struct icmsg a, r;
	static struct side sa, sr;
	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	memset(&sa, 0, sizeof(sa));
	memset(&sr, 0, sizeof(sr));
	assert_int_equal(icmsg_open(&a, &ca, &side_cb, &sa), 0);
	assert_int_equal(icmsg_open(&r, &cr, &side_cb, &sr), 0);
	for (int i = 0; i < 5000 && !(atomic_load(&sa.bound) && atomic_load(&sr.bound)); i++) {
		ampl_agent_poll(e.rpu0);
		usleep(200);
	}
	assert_int_equal(sa.bound, 1);
	assert_int_equal(sr.bound, 1);

	/* RPU0 reads ten packets: its rd_idx in the APU's tx region moves. */
	uint8_t buf[48];
	for (uint32_t seq = 0; seq < 10; seq++) {
		atomic_store(&sr.next_seq, seq);
		size_t len = make_msg(buf, seq, sizeof(buf));
		assert_int_equal(icmsg_send(&a, buf, len), (int)len);
		for (int i = 0; i < 5000 && atomic_load(&sr.received) < (int)seq + 1; i++)
			ampl_agent_poll(e.rpu0);
	}
	assert_int_equal(sr.received, 10);
	uint32_t *rd_word = (uint32_t *)(void *)((uint8_t *)ca.tx_mem + PBUF_RD_IDX_OFF);
	uint32_t old_rd = __atomic_load_n(rd_word, __ATOMIC_ACQUIRE);
	assert_true(old_rd != 0);

	/* The APU restarts while RPU0 is still in its drain of the old session: RPU0 rings (as the answers of that
	 * drain do), so the APU sees RPU0's session, resets its ring again and acknowledges it. */
	assert_int_equal(icmsg_close(&a), 0);
	assert_int_equal(icmsg_open(&a, &ca, &side_cb, &sa), 0);
	uint32_t w = 0;
	for (int i = 0; i < 5000; i++) {
		if (i % 50 == 0)
			assert_int_equal(mbox_ring_doorbell(r.link.tx, &r.link.armed), 0);
		assert_int_equal(pbuf_handshake_read(&r.tx, &w), 0);
		if ((w >> 16) == r.local_sid)
			break;
		usleep(200);
	}
	assert_int_equal(w >> 16, r.local_sid);
	assert_int_equal(__atomic_load_n(rd_word, __ATOMIC_ACQUIRE), 0); /* the APU reset its ring */
	/* RPU0's last read of the old session stores its index now. */
	__atomic_store_n(rd_word, old_rd, __ATOMIC_RELEASE);

	for (int i = 0; i < 5000 && !(atomic_load(&sa.bound) == 2 && atomic_load(&sr.bound) == 2); i++) {
		ampl_agent_poll(e.rpu0);
		usleep(200);
	}
	assert_int_equal(sa.bound, 2);
	assert_int_equal(sr.bound, 2);
	/* Everything RPU0 was rung for is done: doorbells queued behind one in flight (the IPI's is in flight until
	 * RPU0's handler clears it) went out from the mailbox framework's ticker meanwhile. */
	for (int i = 0; i < 200; i++) {
		ampl_agent_poll(e.rpu0);
		usleep(500);
	}
	/* The APU sends; RPU0 only reads when rung. */
	atomic_store(&sr.next_seq, 10);
	size_t len = make_msg(buf, 10, sizeof(buf));
	assert_int_equal(icmsg_send(&a, buf, len), (int)len);
	for (int i = 0; i < 2000 && atomic_load(&sr.received) < 11; i++) {
		ampl_agent_poll(e.rpu0);
		usleep(100);
	}
	assert_int_equal(sr.received, 11);
	assert_int_equal(sr.bad + sa.errors + sr.errors, 0);
	assert_int_equal(icmsg_close(&a), 0);
	assert_int_equal(icmsg_close(&r), 0);
	env_down(&e);
}

/*
 * "detect" mode: sessions with a session-aware peer, classic bonding with a session-unaware one (Zephyr's
 * fallback), in both start orders: a detect side against detect, against enable (sessions) and against disable
 * (classic, with or without the size extension in its bonding packet). Both bind, traffic flows both ways, and the
 * detect side ends in the mode the peer speaks.
 */
static void detect_pair(enum icmsg_unbound_mode peer_mode, bool peer_ext, bool detect_first)
{
	struct env e;
	env_up(&e, true, false);
	static uint8_t ba[128], br[200];
	static struct icmsg_config ca, cr;
	session_cfg(&e, &ca, true, ba, sizeof(ba));
	session_cfg(&e, &cr, false, br, sizeof(br));
	ca.unbound_mode = ICMSG_UNBOUND_MODE_DETECT;
	cr.unbound_mode = peer_mode;
	cr.size_ext = peer_ext;
	static struct icmsg a, r;
	static struct side sa, sr;
	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	memset(&sa, 0, sizeof(sa));
	memset(&sr, 0, sizeof(sr));
	if (detect_first) {
		assert_int_equal(icmsg_open(&a, &ca, &side_cb, &sa), 0);
		usleep(2000);
		assert_int_equal(icmsg_open(&r, &cr, &side_cb, &sr), 0);
	} else {
		assert_int_equal(icmsg_open(&r, &cr, &side_cb, &sr), 0);
		usleep(2000);
		assert_int_equal(icmsg_open(&a, &ca, &side_cb, &sa), 0);
	}
	assert_true(wait_for(&sa.bound, 1));
	assert_true(wait_for(&sr.bound, 1));
	exchange(&a, &sa, &r, &sr, 10);
	exchange(&a, &sa, &r, &sr, 11);
	bool classic_peer = peer_mode == ICMSG_UNBOUND_MODE_DISABLE;
	print_message("      detect vs %s, %s first: %s; peer max %u / %u\n",
		      peer_mode == ICMSG_UNBOUND_MODE_DETECT ? "detect"
		      : !classic_peer			      ? "enable"
		      : peer_ext			      ? "disable + size extension"
							      : "disable",
		      detect_first ? "detect" : "peer", a.session ? "sessions" : "classic", icmsg_peer_max(&a),
		      icmsg_peer_max(&r));
	assert_int_equal(a.session, !classic_peer);
	if (classic_peer) {
		/* the peer's size extension, or the default without it */
		assert_int_equal(icmsg_peer_max(&a), peer_ext ? 200 : 128);
		assert_int_equal(icmsg_peer_max(&r), 128); /* ours: detect mode always sends the extension */
	} else {
		assert_int_equal(icmsg_peer_max(&a), 128); /* no size in session mode: the default */
	}
	assert_int_equal(sa.bound, 1);
	assert_int_equal(sr.bound, 1);
	assert_int_equal(sa.errors + sr.errors, 0);
	assert_int_equal(icmsg_close(&a), 0);
	assert_int_equal(icmsg_close(&r), 0);
	env_down(&e);
}

static void test_detect_mode(void **state)
{
	(void)state;
	for (int first = 0; first < 2; first++) {
		detect_pair(ICMSG_UNBOUND_MODE_DETECT, false, first);
		detect_pair(ICMSG_UNBOUND_MODE_ENABLE, false, first);
		detect_pair(ICMSG_UNBOUND_MODE_DISABLE, false, first);
		detect_pair(ICMSG_UNBOUND_MODE_DISABLE, true, first);
	}
}

/*
 * A peer that applies Zephyr's "detect" rule (unbound = "detect", Zephyr 2025+ icmsg.c), written in this test from
 * the documented behaviour, not from Zephyr's code:
 *   open    it picks a session id and publishes (id, 0) in its handshake word (in its rx region), writes nothing to
 *           its tx ring, rings the peer, and looks at its rx FIFO once (a doorbell rung before it listened stays
 *           pending in a hardware mailbox); then again on every doorbell while it is still detecting;
 *   detect  if the first packet of the rx FIFO is exactly the 13-byte classic magic, the peer is session-unaware:
 *           reset the tx ring, write the bare magic, ring, and bond session-less when it reads that magic (bonding
 *           packets may be longer than the magic there, as in classic mode);
 *           otherwise run the session handshake: a new peer session id (the peer's word, in our tx region) resets
 *           our tx ring and is acknowledged; once the peer acknowledges our id we are bound;
 *   bound   each packet is read into a 128-byte buffer (a longer one would stay in the ring) and echoed back; in
 *           session mode a packet counts only while the peer's session id is unchanged.
 */
enum zd_state { ZD_OFF, ZD_DETECT, ZD_CLASSIC_BONDING, ZD_CLASSIC, ZD_SESSION, ZD_GONE };

struct zd_peer {
	pthread_mutex_t lock;
	struct mbox_client cl_tx, cl_rx;
	struct mbox_chan *tx, *rx;
	atomic_bool armed;
	struct pbuf_cfg txc, rxc;
	struct pbuf txp, rxp;
	struct pbuf hs_view; /* a reader's view of our tx region, only to read the peer's handshake word there */
	_Atomic int st;
	bool consumed; /* a packet was read from the rx FIFO: it no longer starts at the first packet */
	uint16_t local_sid, remote_sid;
	_Atomic int bound, echoed, bad;
	atomic_bool deaf; /* a mailbox that drops doorbells rung before its receiver is enabled */
	uint8_t buf[128];
};

static const uint8_t zd_magic[13] = { 0x45, 0x6d, 0x31, 0x6c, 0x31, 0x4b, 0x30, 0x72, 0x6e, 0x33, 0x6c, 0x69, 0x34 };

static void zd_tx_prepare(struct mbox_client *cl, void *mssg)
{
	(void)mssg;
	struct zd_peer *z = AMPL_CONTAINER_OF(cl, struct zd_peer, cl_tx);
	atomic_store(&z->armed, false);
}

static void zd_ring(struct zd_peer *z)
{
	(void)mbox_ring_doorbell(z->tx, &z->armed);
}

static void zd_hs(struct zd_peer *z, uint16_t local, uint16_t ack)
{
	assert_int_equal(pbuf_handshake_write(&z->rxp, (uint32_t)local | (uint32_t)ack << 16), 0);
}

/*
 * The first packet of the rx FIFO is exactly the classic magic: looked at in place (the writer's index and the
 * packet at the start of data[]), nothing consumed and nothing remembered, since the writer may yet reset the ring.
 */
static bool zd_first_is_bare_magic(struct zd_peer *z)
{
	const volatile uint8_t *mem = z->rxc.mem;
	uint32_t wr = __atomic_load_n((const uint32_t *)(const void *)(mem + z->rxc.wr_idx_off), __ATOMIC_ACQUIRE);
	if (z->consumed || wr == 0 || wr >= z->rxc.data_len || wr < PBUF_PACKET_LEN_SZ + sizeof(zd_magic))
		return false;
	const volatile uint8_t *pkt = mem + z->rxc.data_off;
	if (((uint32_t)pkt[0] << 8 | pkt[1]) != sizeof(zd_magic))
		return false;
	for (size_t i = 0; i < sizeof(zd_magic); i++)
		if (pkt[PBUF_PACKET_LEN_SZ + i] != zd_magic[i])
			return false;
	return true;
}

static void zd_process(struct zd_peer *z) /* lock held */
{
	for (;;) {
		int st = atomic_load(&z->st);
		if (st == ZD_DETECT) {
			if (zd_first_is_bare_magic(z)) {
				assert_int_equal(pbuf_tx_init(&z->txp, &z->txc), 0);
				int n = pbuf_write(&z->txp, zd_magic, sizeof(zd_magic));
				assert_int_equal(n, (int)sizeof(zd_magic));
				atomic_store(&z->st, ZD_CLASSIC_BONDING);
				zd_ring(z);
				continue;
			}
			uint32_t w = 0;
			(void)pbuf_handshake_read(&z->hs_view, &w);
			uint16_t req = (uint16_t)(w & 0xFFFFu), ack = (uint16_t)(w >> 16);
			if (req != z->remote_sid && req != 0) {
				assert_int_equal(pbuf_tx_init(&z->txp, &z->txc), 0);
				z->remote_sid = req;
				zd_hs(z, z->local_sid, req);
				zd_ring(z);
			}
			if (ack == z->local_sid && z->remote_sid != 0) {
				atomic_store(&z->st, ZD_SESSION);
				atomic_fetch_add(&z->bound, 1);
				zd_ring(z);
				continue;
			}
			return;
		}
		if (st != ZD_CLASSIC_BONDING && st != ZD_CLASSIC && st != ZD_SESSION)
			return;
		int n = pbuf_read(&z->rxp, NULL, 0);
		if (n <= 0 || n > (int)sizeof(z->buf))
			return;
		n = pbuf_read(&z->rxp, z->buf, sizeof(z->buf));
		if (n <= 0)
			return;
		z->consumed = true;
		if (st == ZD_SESSION) {
			uint32_t w = 0;
			(void)pbuf_handshake_read(&z->hs_view, &w);
			if ((uint16_t)(w & 0xFFFFu) != z->remote_sid) {
				atomic_store(&z->st, ZD_GONE);
				return;
			}
		}
		if (st == ZD_CLASSIC_BONDING) {
			if (n < (int)sizeof(zd_magic) || memcmp(z->buf, zd_magic, sizeof(zd_magic))) {
				atomic_fetch_add(&z->bad, 1);
				return;
			}
			atomic_store(&z->st, ZD_CLASSIC);
			atomic_fetch_add(&z->bound, 1);
			zd_ring(z);
			continue;
		}
		/* counted before the echo is visible: amplink may receive it before this thread runs again */
		atomic_fetch_add(&z->echoed, 1);
		if (pbuf_write(&z->txp, z->buf, (uint16_t)n) != n)
			atomic_fetch_add(&z->bad, 1);
		zd_ring(z);
	}
}

static void zd_doorbell(struct mbox_client *cl, void *mssg)
{
	struct zd_peer *z = AMPL_CONTAINER_OF(cl, struct zd_peer, cl_rx);
	(void)mssg; /* a doorbell (this peer follows no link state) */
	if (atomic_load(&z->deaf))
		return; /* rung before this side listened: lost */
	pthread_mutex_lock(&z->lock);
	zd_process(z);
	pthread_mutex_unlock(&z->lock);
}

/* RPU0's side of the default board's ICMsg pair, as a Zephyr instance with unbound = "detect" would open it. */
/*
 * @lossy: the mailbox loses a doorbell rung before the receiver is enabled (as one without a latched pending
 * bit does), and the peer looks at its FIFO only when rung, never by itself at open.
 */
static void zd_open(struct env *e, struct zd_peer *z, bool lossy)
{
	const struct mbox_consumer *mc;
	struct mbox_controller *ctrl;
	assert_int_equal(ampl_agent_mbox(e->rpu0, "apu", &ctrl), 0); /* the IPI controller, probed */
	assert_int_equal(ampl_agent_mbox_consumer(e->rpu0, "ipc_icmsg_rpu0", &mc), 0);
	memset(z, 0, sizeof(*z));
	pthread_mutex_init(&z->lock, NULL);
	assert_int_equal(pbuf_cfg_init(&z->txc, (void *)ampl_soc_phys(e->soc, RPU0_TX, REGION), REGION, D, true), 0);
	assert_int_equal(pbuf_cfg_init(&z->rxc, (void *)ampl_soc_phys(e->soc, APU_TX, REGION), REGION, D, true), 0);
	assert_int_equal(pbuf_rx_init(&z->rxp, &z->rxc), 0);
	assert_int_equal(pbuf_rx_init(&z->hs_view, &z->txc), 0); /* our tx ring is reset once the mode is known */
	z->local_sid = 0x2a;
	atomic_store(&z->deaf, lossy);
	pthread_mutex_lock(&z->lock);
	zd_hs(z, z->local_sid, 0);
	atomic_store(&z->st, ZD_DETECT);
	z->cl_tx = (struct mbox_client){ .tx_prepare = zd_tx_prepare };
	z->cl_rx = (struct mbox_client){ .rx_callback = zd_doorbell };
	int err;
	z->tx = mbox_client_get_channel(&z->cl_tx, mc, NULL, "tx", &err);
	if (!z->tx)
		fail_msg("tx channel: %d", err);
	pthread_mutex_unlock(&z->lock);
	z->rx = mbox_client_get_channel(&z->cl_rx, mc, NULL, "rx", &err);
	if (!z->rx)
		fail_msg("rx channel: %d", err);
	if (lossy) {
		usleep(20000); /* a doorbell pending from before is delivered now, to no one */
		atomic_store(&z->deaf, false);
	}
	pthread_mutex_lock(&z->lock);
	zd_ring(z);
	if (!lossy)
		zd_process(z);
	pthread_mutex_unlock(&z->lock);
}

static void zd_close(struct zd_peer *z)
{
	atomic_store(&z->st, ZD_OFF);
	mbox_free_channel(z->rx);
	mbox_free_channel(z->tx);
	pthread_mutex_destroy(&z->lock);
}

/*
 * amplink in each mode against the Zephyr "detect" peer above, both start orders. Zephyr and amplink bond: classic
 * with "disable" (amplink's bonding packet is the bare magic by default; the peer's bare magic leaves amplink
 * assuming 128 bytes), sessions with "enable" and "detect" (detect's bonding packet carries the size extension, so
 * the Zephyr side does not take it for a classic peer). Echoes come back intact. With the size extension opted in
 * (amplink,max-packet-ext) a "disable" side does not bond with it: that is what the option costs, and why it is off.
 */
#define ZD_CHECK(cond)                                                                                        \
	do {                                                                                                  \
		if (!(cond)) {                                                                                \
			print_message("      FAILED: %s (line %d)\n", #cond, __LINE__);                           \
			ok = false;                                                                           \
			goto out;                                                                             \
		}                                                                                             \
	} while (0)

/* One pairing; false (after printing what failed) when it did not go as above. Cleans up either way. */
static bool zd_pair(enum icmsg_unbound_mode mode, bool size_ext, bool amplink_first, bool lossy)
{
	bool ok = true;
	struct env e;
	env_up(&e, true, false);
	static uint8_t ba[128];
	static struct icmsg_config ca;
	session_cfg(&e, &ca, true, ba, sizeof(ba));
	ca.unbound_mode = mode;
	ca.size_ext = size_ext;
	static struct icmsg a;
	static struct side sa;
	static struct zd_peer z;
	memset(&a, 0, sizeof(a));
	memset(&sa, 0, sizeof(sa));
	if (amplink_first) {
		assert_int_equal(icmsg_open(&a, &ca, &side_cb, &sa), 0);
		usleep(2000);
		zd_open(&e, &z, lossy);
	} else {
		zd_open(&e, &z, lossy);
		usleep(2000);
		assert_int_equal(icmsg_open(&a, &ca, &side_cb, &sa), 0);
	}
	const char *name = mode == ICMSG_UNBOUND_MODE_DISABLE ? "disable"
			   : mode == ICMSG_UNBOUND_MODE_ENABLE	? "enable"
								: "detect";
	if (mode == ICMSG_UNBOUND_MODE_DISABLE && size_ext) {
		usleep(200000); /* nothing happens: the Zephyr side waits for a session word that never comes */
		print_message("      amplink %s + size extension vs Zephyr detect, %s first: bound %d / %d\n", name,
			      amplink_first ? "amplink" : "Zephyr", atomic_load(&sa.bound), atomic_load(&z.bound));
		ZD_CHECK(atomic_load(&z.bound) == 0);
		ZD_CHECK(atomic_load(&z.st) == ZD_DETECT);
		goto out;
	}
	bool bonded = wait_for(&sa.bound, 1) && wait_for(&z.bound, 1);
	int zst = atomic_load(&z.st);
	print_message("      amplink %s vs Zephyr detect, %s first%s: %s (Zephyr side: %s), peer max %u\n", name,
		      amplink_first ? "amplink" : "Zephyr", lossy ? ", early doorbell lost" : "",
		      bonded ? "bound" : "NOT BOUND",
		      zst == ZD_CLASSIC ? "classic" : zst == ZD_SESSION ? "sessions" : "still detecting",
		      icmsg_peer_max(&a));
	ZD_CHECK(bonded);
	bool classic = mode == ICMSG_UNBOUND_MODE_DISABLE;
	ZD_CHECK(zst == (classic ? ZD_CLASSIC : ZD_SESSION));
	ZD_CHECK(a.session == !classic);
	ZD_CHECK(icmsg_peer_max(&a) == 128); /* no size from a Zephyr peer: the default */
	/* Echoes: amplink sends, the Zephyr side sends each one back. */
	uint8_t buf[128];
	for (uint32_t i = 0; i < 8; i++) {
		size_t len = make_msg(buf, i, 8 + (i * 17u) % 120u);
		int before = atomic_load(&sa.received);
		ZD_CHECK(icmsg_send(&a, buf, len) == (int)len);
		ZD_CHECK(wait_for(&sa.received, before + 1));
		ZD_CHECK(atomic_load(&sa.last_len) == len);
		ZD_CHECK(memcmp(sa.last, buf, len) == 0);
	}
	ZD_CHECK(atomic_load(&z.echoed) == 8);
	ZD_CHECK(sa.bad + z.bad == 0);
	ZD_CHECK(sa.errors == 0);
	ZD_CHECK(sa.bound == 1 && z.bound == 1);
out:
	if (!ok) {
		const volatile uint32_t *at = (const volatile uint32_t *)z.rxc.mem;
		const volatile uint32_t *rt = (const volatile uint32_t *)z.txc.mem;
		print_message("      amplink: state %d, sessions %d; Zephyr side: state %d, echoed %d; "
			      "APU ring rd %u hs 0x%x wr %u; RPU0 ring rd %u hs 0x%x wr %u\n",
			      icmsg_state(&a), a.session, atomic_load(&z.st), atomic_load(&z.echoed), at[0], at[1],
			      at[D / 4], rt[0], rt[1], rt[D / 4]);
	}
	assert_int_equal(icmsg_close(&a), 0);
	zd_close(&z);
	env_down(&e);
	return ok;
}

static void test_zephyr_detect_peer(void **state)
{
	(void)state;
	int failed = 0;
	for (int first = 0; first < 2; first++) {
		failed += !zd_pair(ICMSG_UNBOUND_MODE_DISABLE, false, first, false);
		failed += !zd_pair(ICMSG_UNBOUND_MODE_ENABLE, false, first, false);
		failed += !zd_pair(ICMSG_UNBOUND_MODE_DETECT, false, first, false);
		failed += !zd_pair(ICMSG_UNBOUND_MODE_DISABLE, true, first, false);
	}
	/* amplink opens first and its doorbell is lost: the Zephyr side's one doorbell at open must be answered */
	failed += !zd_pair(ICMSG_UNBOUND_MODE_DISABLE, false, true, true);
	failed += !zd_pair(ICMSG_UNBOUND_MODE_ENABLE, false, true, true);
	failed += !zd_pair(ICMSG_UNBOUND_MODE_DETECT, false, true, true);
	assert_int_equal(failed, 0);
}

/*
 * Both sides close and re-open at once, again and again, so the session word changes under a closing instance's
 * RX callback. A close is final: the state stays OFF after it returns (the next open succeeds), and no callback
 * runs after close() has returned until the next open.
 */
struct churn {
	struct icmsg im;
	struct icmsg_config cfg;
	struct side s;
	_Atomic int closed;  /* set after close() returned, cleared before open() */
	_Atomic int late;    /* callbacks while `closed` */
	int cycles, open_err, state_err;
	uint8_t buf[128];
};

static void churn_mark(void *priv)
{
	struct churn *c = AMPL_CONTAINER_OF((struct side *)priv, struct churn, s);
	if (atomic_load(&c->closed))
		atomic_fetch_add(&c->late, 1);
}

static void churn_bound(void *priv)
{
	churn_mark(priv);
	cb_bound(priv);
}

static void churn_unbound(void *priv)
{
	churn_mark(priv);
	cb_unbound(priv);
}

static void churn_received(const void *data, size_t len, void *priv)
{
	(void)data;
	(void)len;
	churn_mark(priv);
	atomic_fetch_add(&((struct side *)priv)->received, 1);
}

static const struct ipc_service_cb churn_cb = {
	.bound = churn_bound, .unbound = churn_unbound, .received = churn_received, .error = cb_error
};

static unsigned xorshift(unsigned *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static void *churn_thread(void *arg)
{
	struct churn *c = arg;
	unsigned seed = (unsigned)(uintptr_t)arg | 1u;
	for (int i = 0; i < c->cycles; i++) {
		atomic_store(&c->closed, 0);
		int r = icmsg_open(&c->im, &c->cfg, &churn_cb, &c->s);
		if (r) {
			c->open_err = r;
			break;
		}
		/* stay open for a varying while, sending when bound */
		int spins = (int)(xorshift(&seed) % 200u);
		for (int k = 0; k < spins; k++) {
			(void)icmsg_send(&c->im, "ping", 4);
			sched_yield();
		}
		r = icmsg_close(&c->im);
		atomic_store(&c->closed, 1);
		if (r || icmsg_state(&c->im) != ICMSG_STATE_OFF) {
			c->state_err = r ? r : 100 + (int)icmsg_state(&c->im);
			break;
		}
		usleep(xorshift(&seed) % 300u);
		if (icmsg_state(&c->im) != ICMSG_STATE_OFF) {
			c->state_err = 200 + (int)icmsg_state(&c->im);
			break;
		}
	}
	return NULL;
}

static void test_session_close_under_rebind(void **state)
{
	(void)state;
	struct env e;
	env_up(&e, true, false);
	static struct churn a, r;
	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	session_cfg(&e, &a.cfg, true, a.buf, sizeof(a.buf));
	session_cfg(&e, &r.cfg, false, r.buf, sizeof(r.buf));
	a.cycles = r.cycles = 200;
	pthread_t ta, tr;
	assert_int_equal(pthread_create(&ta, NULL, churn_thread, &a), 0);
	assert_int_equal(pthread_create(&tr, NULL, churn_thread, &r), 0);
	pthread_join(ta, NULL);
	pthread_join(tr, NULL);
	printf("  close/open churn: APU bound %d unbound %d received %d; RPU0 bound %d unbound %d received %d; "
	       "open/state errors %d/%d %d/%d; callbacks after close %d/%d\n",
	       a.s.bound, a.s.unbound, a.s.received, r.s.bound, r.s.unbound, r.s.received, a.open_err, a.state_err,
	       r.open_err, r.state_err, a.late, r.late);
	if (icmsg_state(&a.im) != ICMSG_STATE_OFF)
		(void)icmsg_close(&a.im);
	if (icmsg_state(&r.im) != ICMSG_STATE_OFF)
		(void)icmsg_close(&r.im);
	env_down(&e);
	assert_int_equal(a.open_err, 0);
	assert_int_equal(r.open_err, 0);
	assert_int_equal(a.state_err, 0);
	assert_int_equal(r.state_err, 0);
	assert_int_equal(a.late, 0);
	assert_int_equal(r.late, 0);
	assert_true(a.s.bound > 0 && r.s.bound > 0); /* the churn did bind sometimes */
	assert_int_equal(a.s.errors + r.s.errors, 0);
}

/*
 * Sends copy their payload outside the writer's lock, so the RX context can reset the tx ring for a new peer
 * session while a copy is in flight. Two APU threads stream self-checking messages of varying length (up to a
 * few KiB: long copies) while RPU0 closes and re-opens (each open is a new session, which the APU's RX context
 * answers by resetting its tx ring). No packet may come out corrupt (checksum, or a ring error reported), out of
 * order or twice per sender; packets of a session that ended may be lost. A copy in four stalls before its bytes
 * land (tests/unit/pbuf_copy_hook.h), as one interrupted or preempted would, so that resets fall inside copies.
 */
#define RACE_SENDERS 2u
#define RACE_MAX 3000u

struct race {
	struct side s;  /* RPU0's endpoint: received, bad, errors */
	_Atomic uint32_t last[RACE_SENDERS]; /* the last sequence number received from each sender, + 1 */
	_Atomic int stop, sent, dropped, send_err;
	struct icmsg a;
};

static struct race race;

static void race_received(const void *data, size_t len, void *priv)
{
	struct race *rc = AMPL_CONTAINER_OF((struct side *)priv, struct race, s);
	uint32_t who, n;
	if (len < 8) {
		atomic_fetch_add(&rc->s.bad, 1);
		return;
	}
	if (!sender_msg(data, len, RACE_SENDERS, &who, &n) || n + 1u <= atomic_load(&rc->last[who]))
		atomic_fetch_add(&rc->s.bad, 1);
	else
		atomic_store(&rc->last[who], n + 1u);
	atomic_fetch_add(&rc->s.received, 1);
}

static const struct ipc_service_cb race_cb = {
	.bound = cb_bound, .unbound = cb_unbound, .received = race_received, .error = cb_error
};

static void *race_sender(void *arg)
{
	uint32_t who = (uint32_t)(uintptr_t)arg;
	static uint8_t bufs[RACE_SENDERS][RACE_MAX];
	uint8_t *buf = bufs[who];
	unsigned seed = 0x9e3779b9u * (who + 1u);
	copy_stalls = 1;
	for (uint32_t n = 0; !atomic_load(&race.stop);) {
		size_t len = make_msg(buf, who << 24 | n, 8u + xorshift(&seed) % (RACE_MAX - 8u));
		int r = icmsg_send(&race.a, buf, len);
		if (r == (int)len) {
			atomic_fetch_add(&race.sent, 1);
			n++;
		} else if (r == -EBUSY) {
			n++; /* lost with the session it was written in, or not bound: never delivered later */
			atomic_fetch_add(&race.dropped, 1);
			sched_yield();
		} else if (r == -ENOMEM || r == -EMSGSIZE) {
			sched_yield(); /* full, or bound with a peer whose limit is not known yet */
		} else {
			atomic_store(&race.send_err, r);
			break;
		}
	}
	return NULL;
}

static void test_send_races_session_reset(void **state)
{
	(void)state;
	struct env e;
	env_up(&e, true, false);
	static uint8_t ba[RACE_MAX], br[RACE_MAX];
	static struct icmsg_config ca, cr;
	static struct icmsg r;
	memset(&race, 0, sizeof(race));
	memset(&r, 0, sizeof(r));
	session_cfg(&e, &ca, true, ba, sizeof(ba));
	session_cfg(&e, &cr, false, br, sizeof(br));
	ca.peer_rx_max_default = cr.peer_rx_max_default = RACE_MAX;
	static struct side sa;
	memset(&sa, 0, sizeof(sa));
	assert_int_equal(icmsg_open(&race.a, &ca, &side_cb, &sa), 0);
	pthread_t t[RACE_SENDERS];
	for (uintptr_t i = 0; i < RACE_SENDERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, race_sender, (void *)i), 0);
	const char *scale = getenv("AMPL_TEST_SCALE");
	int cycles = scale && !strcmp(scale, "sanitizer") ? 30 : 150;
	unsigned seed = 12345;
	for (int i = 0; i < cycles; i++) {
		int bound = atomic_load(&race.s.bound);
		assert_int_equal(icmsg_open(&r, &cr, &race_cb, &race.s), 0);
		assert_true(wait_for(&race.s.bound, bound + 1));
		usleep(xorshift(&seed) % 2000u);
		assert_int_equal(icmsg_close(&r), 0);
	}
	atomic_store(&race.stop, 1);
	for (unsigned i = 0; i < RACE_SENDERS; i++)
		pthread_join(t[i], NULL);
	printf("  sends racing %d session resets: sent %d, dropped (-EBUSY) %d, received %d, bad %d, errors %d\n",
	       cycles, race.sent, race.dropped, race.s.received, race.s.bad, race.s.errors);
	assert_int_equal(icmsg_close(&race.a), 0);
	env_down(&e);
	assert_int_equal(race.send_err, 0);
	assert_int_equal(race.s.bad, 0);
	assert_int_equal(race.s.errors + sa.errors, 0);
	assert_true(race.s.received > 0);
}

/* ---- 5: signalling mode: doorbells coalesce, the receiver clears before it drains ---- */

/* Two bound instances of the default board (ampl_agent_ipc_instance puts both destinations in signalling mode). */
static void bind_pair(struct env *e, struct side *sa, struct side *sr, struct ipc_ept *ea, struct ipc_ept *er)
{
	/* On this stack: the link copies the callbacks (test_cfg_copied_at_registration). */
	const struct ipc_ept_cfg ca = { .name = "ep", .cb = side_cb, .priv = sa };
	const struct ipc_ept_cfg cr = { .name = "ep", .cb = side_cb, .priv = sr };
	register_pair(e, ea, er, &ca, &cr);
	assert_true(wait_for(&sa->bound, 1));
	assert_true(wait_for(&sr->bound, 1));
}

/*
 * Copies run outside the TX lock, and the last one to finish publishes what was reserved before it. A short send
 * while a long copy is in flight: it answers its length at once, but the reader sees nothing until the long copy
 * lands, then both, in the order reserved.
 */
static _Atomic int long_gate = 1;

static void *long_sender(void *arg)
{
	struct ipc_ept *ep = arg;
	uint8_t buf[120];
	size_t len = make_msg(buf, 0, sizeof(buf));
	copy_gate = &long_gate;
	return (void *)(intptr_t)ipc_service_send(ep, buf, len);
}

static void test_short_send_during_long_copy(void **state)
{
	(void)state;
	struct env e;
	env_up(&e, true, true);
	static struct side sa, sr; /* the interrupt threads' callbacks may outlive a frame of this test */
	memset(&sa, 0, sizeof(sa));
	memset(&sr, 0, sizeof(sr));
	struct ipc_ept ea = { 0 }, er = { 0 };
	bind_pair(&e, &sa, &sr, &ea, &er);
	atomic_store(&long_gate, 1);
	atomic_store(&copies_at_gate, 0);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, long_sender, &ea), 0);
	for (int i = 0; i < 20000 && !atomic_load(&copies_at_gate); i++)
		usleep(100);
	assert_int_equal(atomic_load(&copies_at_gate), 1); /* the long payload's copy is waiting */
	uint8_t buf[16];
	size_t len = make_msg(buf, 1, sizeof(buf));
	assert_int_equal(ipc_service_send(&ea, buf, len), (int)len); /* reserved after it, copied, not published */
	usleep(20000);
	assert_int_equal(atomic_load(&sr.received), 0);
	atomic_store(&long_gate, 0);
	void *r;
	pthread_join(t, &r);
	assert_int_equal((int)(intptr_t)r, 120);
	assert_true(wait_for(&sr.received, 2));
	assert_int_equal(atomic_load(&sr.bad), 0); /* seq 0 (long), then seq 1 (short) */
	assert_int_equal(atomic_load(&sr.last_len), len);
	assert_int_equal(deregister(&ea), 0);
	assert_int_equal(deregister(&er), 0);
	env_down(&e);
	assert_int_equal(sa.errors + sr.errors, 0);
}

static struct {
	struct xlnx_ipi_mbox *sender;
	_Atomic int calls, with_data, pending_in_cb;
} sig_rx;

/* RPU0's RX callback in signalling mode: no copy, and the doorbell is acknowledged before it runs. */
static void sig_rx_cb(struct mbox_client *cl, void *mssg)
{
	(void)cl;
	if (mssg)
		atomic_fetch_add(&sig_rx.with_data, 1);
	if (xlnx_ipi_mbox_tx_pending(sig_rx.sender))
		atomic_fetch_add(&sig_rx.pending_in_cb, 1);
	atomic_fetch_add(&sig_rx.calls, 1);
}

static void test_signalling_coalesce(void **state)
{
	(void)state;
	struct env e;
	env_up(&e, true, false);
	struct mbox_controller *ctrl;
	assert_int_equal(ampl_agent_mbox(e.apu, "rpu0", &ctrl), 0);
	struct xlnx_ipi_mbox *m = AMPL_CONTAINER_OF(ctrl, struct xlnx_ipi_mbox, ctrl);
	xlnx_ipi_mbox_set_signalling(m, true);
	struct mbox_client cl = { 0 };
	assert_int_equal(mbox_bind_client(&ctrl->chans[XLNX_IPI_TX_CHAN], &cl), 0);
	struct mbox_chan *tx = &ctrl->chans[XLNX_IPI_TX_CHAN];
	/* RPU0 never acknowledges (no client): the first doorbell stays pending, later ones coalesce with it and
	 * every one is done at once (no wait for the TX-done poll). */
	for (int i = 0; i < 100; i++) {
		assert_true(mbox_send_message(tx, NULL) >= 0);
		assert_false(mbox_client_tx_busy(tx));
	}
	assert_true(xlnx_ipi_mbox_tx_pending(m));
	/* A message with data is a request as before: refused by the controller while one is pending. */
	static struct { size_t len; uint8_t data[4]; } msg = { 4, { 1, 2, 3, 4 } };
	assert_true(mbox_send_message(tx, &msg) >= 0);
	assert_true(mbox_client_tx_busy(tx)); /* queued behind the pending doorbell */
	mbox_free_channel(tx);

	/* RPU0 in signalling mode takes its RX channel: the pending doorbell interrupts; the callback gets NULL and
	 * runs after the acknowledgement (the sender's OBS bit is already clear: clear, then drain). */
	struct mbox_controller *rctrl;
	assert_int_equal(ampl_agent_mbox(e.rpu0, "apu", &rctrl), 0);
	xlnx_ipi_mbox_set_signalling(AMPL_CONTAINER_OF(rctrl, struct xlnx_ipi_mbox, ctrl), true);
	memset(&sig_rx, 0, sizeof(sig_rx));
	sig_rx.sender = m;
	struct mbox_client rcl = { .rx_callback = sig_rx_cb };
	assert_int_equal(mbox_bind_client(&rctrl->chans[XLNX_IPI_RX_CHAN], &rcl), 0);
	assert_true(wait_for(&sig_rx.calls, 1));
	assert_false(xlnx_ipi_mbox_tx_pending(m));
	memset(&cl, 0, sizeof(cl));
	assert_int_equal(mbox_bind_client(tx, &cl), 0);
	for (int i = 0; i < 50; i++) {
		int before = atomic_load(&sig_rx.calls);
		assert_true(mbox_send_message(tx, NULL) >= 0);
		assert_false(mbox_client_tx_busy(tx)); /* done at once (this poll tells the framework) */
		if (!wait_for(&sig_rx.calls, before + 1))
			fail_msg("doorbell %d: no callback (calls %d, pending %d)", i, before, (int)xlnx_ipi_mbox_tx_pending(m));
	}
	assert_int_equal(sig_rx.with_data, 0);
	assert_int_equal(sig_rx.pending_in_cb, 0);
	mbox_free_channel(tx);
	mbox_free_channel(&rctrl->chans[XLNX_IPI_RX_CHAN]);
	xlnx_ipi_mbox_set_signalling(m, false);
	env_down(&e);
}

/*
 * Bursts of back-to-back sends, then silence: every burst must arrive in full without another doorbell. A doorbell
 * coalesced with one the receiver acknowledges after its drain (or a receiver that drains before it clears)
 * strands the last packets of a burst, and nothing rings again until the next burst.
 */
static void test_signalling_no_stranding(void **state)
{
	(void)state;
	struct env e;
	env_up(&e, true, true);
	static struct side sa, sr;
	memset(&sa, 0, sizeof(sa));
	memset(&sr, 0, sizeof(sr));
	struct ipc_ept ea = { 0 }, er = { 0 };
	bind_pair(&e, &sa, &sr, &ea, &er);
	uint8_t buf[64];
	uint32_t seq = 0, x = 12345;
	for (int burst = 0; burst < 20000; burst++) {
		x = x * 1103515245u + 12345u;
		unsigned n = 1 + (x >> 16) % 4u;
		for (unsigned k = 0; k < n; k++, seq++) {
			size_t len = make_msg(buf, seq, 8 + (seq % 40u));
			assert_int_equal(send_retry(&ea, buf, len), (int)len);
			/* A varying gap, so that sends land at every point of the receiver's drain. */
			x = x * 1103515245u + 12345u;
			for (volatile unsigned d = (x >> 20) % 2048u; d; d--)
				;
		}
		/* Silence: up to 2 s for the burst to arrive (it takes microseconds when nothing is stranded). */
		bool ok = false;
		for (int i = 0; i < 2000000 && !ok; i++) {
			ok = atomic_load(&sr.received) == (int)seq;
			if (!ok && i > 1000)
				usleep(1);
		}
		if (!ok)
			fail_msg("burst %d: %d of %u packets arrived, the rest stranded", burst, atomic_load(&sr.received),
				 (unsigned)seq);
	}
	assert_int_equal(sr.bad, 0);
	assert_int_equal(sa.errors + sr.errors, 0);
	assert_int_equal(deregister(&ea), 0);
	assert_int_equal(deregister(&er), 0);
	env_down(&e);
}

/*
 * Doorbells only where the reader may have stopped: while it is held in its callback for packet 0, packet 1 rings
 * (the reader has consumed everything before it) and packets 2..200 do not (packet 1 is unconsumed: the drain
 * that takes it reads them too). A reader that lingers (ICMSG_RX_LINGER_US) polls the ring after its callback and
 * holds back packet 0's space, so packet 1 does not ring either. Then everything arrives, in order, once, and a
 * send after the reader stopped (gave everything back) rings again.
 */
static void gate_received(const void *data, size_t len, void *priv)
{
	gate_hold();
	cb_received(data, len, priv);
}

static void test_doorbell_only_when_needed(void **state)
{
	(void)state;
	struct env e;
	env_up(&e, true, true);
	static struct side sa, sr;
	memset(&sa, 0, sizeof(sa));
	memset(&sr, 0, sizeof(sr));
	static const struct ipc_service_cb gated = {
		.bound = cb_bound, .unbound = cb_unbound, .received = gate_received, .error = cb_error
	};
	const struct ampl_device *da, *dr;
	assert_int_equal(ampl_agent_ipc_instance(e.apu, "ipc_icmsg_apu", &da), 0);
	assert_int_equal(ampl_agent_ipc_instance(e.rpu0, "ipc_icmsg_rpu0", &dr), 0);
	struct ipc_ept ea = { 0 }, er = { 0 };
	struct ipc_ept_cfg ca = { .name = "ep", .cb = side_cb, .priv = &sa };
	struct ipc_ept_cfg cr = { .name = "ep", .cb = gated, .priv = &sr };
	assert_int_equal(ipc_service_register_endpoint(da, &ea, &ca), 0);
	assert_int_equal(ipc_service_register_endpoint(dr, &er, &cr), 0);
	assert_true(wait_for(&sa.bound, 1));
	assert_true(wait_for(&sr.bound, 1));
	struct mbox_chan *tx = ipc_icmsg_link(da)->link.tx;
	assert_non_null(tx);

	uint8_t buf[40];
	atomic_store(&ipc_gate, 1);
	size_t len = make_msg(buf, 0, sizeof(buf));
	assert_int_equal(ipc_service_send(&ea, buf, len), (int)len);
	assert_true(gate_wait_held()); /* the reader holds packet 0 (consumed) */
	uint32_t before = doorbells_taken(tx);
	for (uint32_t seq = 1; seq <= 200; seq++) {
		len = make_msg(buf, seq, sizeof(buf));
		assert_int_equal(ipc_service_send(&ea, buf, len), (int)len);
	}
	uint32_t rung = doorbells_taken(tx) - before;
	print_message("      201 packets, %u doorbells while the reader was held\n", rung + 1);
	assert_int_equal(rung, ICMSG_RX_LINGER_US ? 0 : 1);
	atomic_store(&ipc_gate, 0);
	assert_true(wait_for(&sr.received, 201));
	/* Caught up and stopped (rd_idx = wr_idx in the APU's tx region): the next packet rings (and arrives). */
	volatile uint8_t *ring = ampl_soc_phys(e.soc, APU_TX, REGION);
	uint32_t rd = 0, wr = 1;
	for (int i = 0; i < 10000 && rd != wr; i++) {
		/* The words the two sides store atomically (pbuf's idx_store), read the same way. */
		rd = atomic_load_explicit((_Atomic uint32_t *)(uintptr_t)ring, memory_order_acquire);
		wr = atomic_load_explicit((_Atomic uint32_t *)(uintptr_t)(ring + D), memory_order_acquire);
		if (rd != wr)
			usleep(100);
	}
	assert_int_equal(rd, wr);
	before = doorbells_taken(tx);
	len = make_msg(buf, 201, sizeof(buf));
	assert_int_equal(ipc_service_send(&ea, buf, len), (int)len);
	assert_true(wait_for(&sr.received, 202));
	assert_int_equal(doorbells_taken(tx) - before, 1);
	assert_int_equal(atomic_load(&sr.received), 202);
	assert_int_equal(sr.bad, 0);
	assert_int_equal(sa.errors + sr.errors, 0);
	assert_int_equal(deregister(&ea), 0);
	assert_int_equal(deregister(&er), 0);
	env_down(&e);
}

/*
 * The APU with its interrupt thread, RPU0 without one (its interrupts run in this thread, ampl_agent_poll()): both
 * ICMsg endpoints registered (RPU0's with @rpu0_cb) and bound, polled from here.
 */
static void env_up_rpu0_polled(struct env *e, struct side *sa, struct side *sr, const struct ipc_service_cb *rpu0_cb,
			       struct ipc_ept *ea, struct ipc_ept *er, const struct ampl_device **da)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->name, sizeof(e->name), "t-icmsg-%d-%u", (int)getpid(), soc_counter++);
	assert_int_equal(ampl_soc_create(e->name, &ampl_soc_zynqmp, NULL, 0), 0);
	assert_int_equal(ampl_soc_open(e->name, &e->soc), 0);
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	assert_int_equal(ampl_agent_attach(e->soc, "apu", &o, &e->apu), 0);
	o.no_irq_thread = true;
	assert_int_equal(ampl_agent_attach(e->soc, "rpu0", &o, &e->rpu0), 0);
	memset(sa, 0, sizeof(*sa));
	memset(sr, 0, sizeof(*sr));
	const struct ampl_device *dr;
	assert_int_equal(ampl_agent_ipc_instance(e->apu, "ipc_icmsg_apu", da), 0);
	assert_int_equal(ampl_agent_ipc_instance(e->rpu0, "ipc_icmsg_rpu0", &dr), 0);
	*ea = (struct ipc_ept){ 0 };
	*er = (struct ipc_ept){ 0 };
	struct ipc_ept_cfg ca = { .name = "ep", .cb = side_cb, .priv = sa };
	struct ipc_ept_cfg cr = { .name = "ep", .cb = *rpu0_cb, .priv = sr };
	assert_int_equal(ipc_service_register_endpoint(*da, ea, &ca), 0);
	assert_int_equal(ipc_service_register_endpoint(dr, er, &cr), 0);
	for (int i = 0; i < 5000 && !(atomic_load(&sa->bound) && atomic_load(&sr->bound)); i++) {
		ampl_agent_poll(e->rpu0);
		usleep(1000);
	}
	assert_int_equal(sa->bound, 1);
	assert_int_equal(sr->bound, 1);
}

/*
 * Callback context chosen by the application: RPU0 without an interrupt thread runs its interrupts from its own
 * thread (ampl_agent_poll()); received() then runs in that thread, where it may block (here: sleep on every tenth
 * message) without losing or reordering anything.
 */
static pthread_t poll_thread;
static _Atomic int wrong_thread, slept;

static void thread_received(const void *data, size_t len, void *priv)
{
	if (!pthread_equal(pthread_self(), poll_thread))
		atomic_fetch_add(&wrong_thread, 1);
	cb_received(data, len, priv);
	if (atomic_load(&((struct side *)priv)->received) % 10 == 0) {
		usleep(200); /* blocking is allowed in the application's thread */
		atomic_fetch_add(&slept, 1);
	}
}

static void test_callbacks_in_app_thread(void **state)
{
	(void)state;
	struct env e;
	static struct side sa, sr;
	static const struct ipc_service_cb in_thread = {
		.bound = cb_bound, .unbound = cb_unbound, .received = thread_received, .error = cb_error
	};
	struct ipc_ept ea, er;
	const struct ampl_device *da;
	poll_thread = pthread_self();
	atomic_store(&wrong_thread, 0);
	atomic_store(&slept, 0);
	env_up_rpu0_polled(&e, &sa, &sr, &in_thread, &ea, &er, &da);

	/* 300 messages sent from the APU; RPU0's thread polls; it takes whatever arrives, blocking now and then. */
	uint8_t buf[48];
	uint32_t sent = 0;
	for (int spins = 0; spins < 2000000 && atomic_load(&sr.received) < 300; spins++) {
		if (sent < 300) {
			size_t len = make_msg(buf, sent, sizeof(buf));
			int r = ipc_service_send(&ea, buf, len);
			if (r == (int)len)
				sent++;
			else
				assert_int_equal(r, -ENOMEM);
		}
		ampl_agent_poll(e.rpu0);
	}
	assert_int_equal(sent, 300);
	assert_int_equal(atomic_load(&sr.received), 300);
	assert_int_equal(sr.bad, 0);
	assert_int_equal(atomic_load(&wrong_thread), 0);
	assert_true(atomic_load(&slept) >= 30);
	assert_int_equal(sa.errors + sr.errors, 0);
	assert_int_equal(deregister(&ea), 0);
	assert_int_equal(deregister(&er), 0);
	env_down(&e);
}

/*
 * A polled link (an agent without an interrupt thread: icmsg_poll() from ampl_agent_poll()): its reader stays held
 * between polls, so the peer, seeing it behind, does not ring; what the peer sends waits for the next poll and is
 * all delivered by it. Only the first message after the link is up (the reader caught up, not yet held) rings.
 */
static void test_polled_reader(void **state)
{
	(void)state;
	struct env e;
	static struct side sa, sr;
	struct ipc_ept ea, er;
	const struct ampl_device *da;
	env_up_rpu0_polled(&e, &sa, &sr, &side_cb, &ea, &er, &da);
	struct mbox_chan *tx = ipc_icmsg_link(da)->link.tx;
	assert_non_null(tx);

	/* The first message: RPU0's reader is caught up and not held yet, so the APU rings it. */
	uint8_t buf[24];
	size_t len = make_msg(buf, 0, sizeof(buf));
	assert_int_equal(ipc_service_send(&ea, buf, len), (int)len);
	for (int i = 0; i < 5000 && atomic_load(&sr.received) < 1; i++) {
		ampl_agent_poll(e.rpu0);
		usleep(100);
	}
	assert_int_equal(atomic_load(&sr.received), 1);

	/* Four rounds of 16: no doorbell, nothing delivered until RPU0 polls, then all of them at once. */
	uint32_t seq = 1, before = doorbells_taken(tx);
	for (int round = 0; round < 4; round++) {
		int had = atomic_load(&sr.received);
		for (int k = 0; k < 16; k++, seq++) {
			len = make_msg(buf, seq, sizeof(buf));
			assert_int_equal(ipc_service_send(&ea, buf, len), (int)len);
		}
		usleep(20000);
		assert_int_equal(atomic_load(&sr.received), had);
		assert_int_equal(ampl_agent_poll(e.rpu0), 0);
		assert_int_equal(atomic_load(&sr.received), had + 16);
	}
	assert_int_equal(doorbells_taken(tx) - before, 0);
	assert_int_equal(sr.bad, 0);

	/* The other way is a link like any other: RPU0's sends reach the APU's interrupt thread. */
	for (uint32_t k = 0; k < 20; k++) {
		len = make_msg(buf, k, sizeof(buf));
		assert_int_equal(send_retry(&er, buf, len), (int)len);
	}
	assert_true(wait_for(&sa.received, 20));
	assert_int_equal(sa.bad, 0);
	assert_int_equal(sa.errors + sr.errors, 0);
	assert_int_equal(deregister(&ea), 0);
	assert_int_equal(deregister(&er), 0);
	env_down(&e);
}

/* ---- 6: the peer's processor goes offline: sends answer -ESHUTDOWN, not a silent success ---- */

static void test_send_peer_offline(void **state)
{
	(void)state;
	struct env e;
	env_up(&e, true, true);
	static struct side sa, sr;
	memset(&sa, 0, sizeof(sa));
	memset(&sr, 0, sizeof(sr));
	struct ipc_ept ea = { 0 }, er = { 0 };
	bind_pair(&e, &sa, &sr, &ea, &er);
	uint8_t buf[32];
	uint32_t seq = 0;
	size_t len = make_msg(buf, seq, sizeof(buf));
	assert_int_equal(ipc_service_send(&ea, buf, len), (int)len);
	seq++;
	assert_true(wait_for(&sr.received, 1));

	const struct ampl_soc_agent *rpu0 = ampl_agent_info(e.rpu0);
	assert_int_equal(ampl_soc_agent_set_online(e.soc, rpu0, false), 0);
	/* Until the APU has seen the hotplug event a send may still go through (its doorbell is discarded). */
	int r = 0;
	for (int i = 0; i < 5000 && r != -ESHUTDOWN; i++) {
		len = make_msg(buf, seq, sizeof(buf));
		r = ipc_service_send(&ea, buf, len);
		if (r != (int)len && r != -ESHUTDOWN)
			fail_msg("send %u while the peer goes offline: %d", seq, r);
		seq++; /* published either way: -ESHUTDOWN leaves the packet in the ring */
		if (r != -ESHUTDOWN)
			usleep(1000);
	}
	assert_int_equal(r, -ESHUTDOWN);
	/* The packet is in the ring: APU's write index moved past it. */
	volatile uint8_t *tx = ampl_soc_phys(e.soc, APU_TX, REGION);
	uint32_t wr;
	memcpy(&wr, (const void *)(tx + D), 4);
	assert_int_not_equal(wr, 0);
	int before = atomic_load(&sr.received);
	assert_true(before < (int)seq);

	/* Back online: the next doorbell delivers everything published meanwhile, in order, once. */
	assert_int_equal(ampl_soc_agent_set_online(e.soc, rpu0, true), 0);
	r = -ESHUTDOWN;
	for (int i = 0; i < 5000 && r == -ESHUTDOWN; i++) {
		len = make_msg(buf, seq, sizeof(buf));
		r = ipc_service_send(&ea, buf, len);
		seq++;
		if (r == -ESHUTDOWN)
			usleep(1000);
	}
	assert_int_equal(r, (int)len);
	assert_true(wait_for(&sr.received, (int)seq));
	assert_int_equal(atomic_load(&sr.received), (int)seq);
	assert_int_equal(sr.bad, 0);
	assert_int_equal(deregister(&ea), 0);
	assert_int_equal(deregister(&er), 0);
	env_down(&e);
}

#if AMPL_IPC_ONE_BACKEND
/* The front end built for this backend alone (AMPL_IPC_ONE_BACKEND): see one_backend.h. */
static void test_one_backend(void **state)
{
	(void)state;
	check_one_backend(&ipc_icmsg_backend);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_bonding),
		cmocka_unit_test(test_traffic_apu_first),
		cmocka_unit_test(test_traffic_rpu0_first),
		cmocka_unit_test(test_concurrent_senders),
		cmocka_unit_test(test_cfg_copied_at_registration),
		cmocka_unit_test(test_zephyr_peer_and_corruption),
		cmocka_unit_test(test_sessions_compiled_out),
#if AMPL_IPC_ONE_BACKEND
		cmocka_unit_test(test_one_backend),
#endif
#if AMPL_ICMSG_SESSIONS /* they open links in session or detect mode */
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_session_stale_read_index),
		cmocka_unit_test(test_session_close_under_rebind),
		cmocka_unit_test(test_send_races_session_reset),
		cmocka_unit_test(test_short_send_during_long_copy),
		cmocka_unit_test(test_detect_mode),
		cmocka_unit_test(test_zephyr_detect_peer),
		cmocka_unit_test(test_signalling_coalesce),
		cmocka_unit_test(test_signalling_no_stranding),
		cmocka_unit_test(test_doorbell_only_when_needed),
		cmocka_unit_test(test_callbacks_in_app_thread),
		cmocka_unit_test(test_polled_reader),
		cmocka_unit_test(test_send_peer_offline),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
