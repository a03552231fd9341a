/*
 * Fuzz harness for the multi-endpoint backend (<amplink/ipc/ipc_multi.h>, docs/ipc_multi.md): the input becomes
 * the peer's side of the link, i.e. its region (control ring, HELLO, control messages, block headers, names), its
 * handshake word, its doorbells and the transport's events, interleaved with this side's API calls, in either
 * role (initiator or follower). Callbacks make zero-copy calls themselves (hold, release, get + send_nocopy or
 * drop, copy sends), as applications may. It checks the promises of the header and of docs/security.md:
 *   - every call returns a documented code, and the state is one of the four;
 *   - nothing reads or writes outside the two regions (one heap block holding both, with poisoned red zones
 *     around each region under AddressSanitizer);
 *   - received() gets a pointer into the peer's blocks area and a length that stays inside it; error() gets a
 *     message; ipc_multi_free_blocks() never exceeds the block count;
 *   - no hang: each doorbell returns (the drain is bounded by the ring), and so does every call.
 *
 * Input layout:
 *   byte 0     bits 0-1: D = 0, 8, 32, 64; bit 2: this side is the initiator (its rx region has the lower
 *              address); bits 3-4: tx blocks 1, 3, 16, 64; bit 5: an instance-level error callback (else errors
 *              go to the endpoints); bit 6: keep the image's ring indices (else the peer resets its ring first);
 *              bit 7: callbacks hold what they receive
 *   byte 1     the peer's (rx) region: R + 64 * (1 + byte) bytes
 *   byte 2     bits 0-4: what the callbacks do besides (bit 0: reply with a copy, bit 1: reply zero-copy, bit 2:
 *              drop the zero-copy buffer instead of sending it, bit 3: release the oldest held buffer, bit 4: the
 *              peer restarts during the delivery); bit 5: tx block-size 64 given (else derived); bits 6-7: tx
 *              region slack, 64 bytes each
 *   then       u16 n + n bytes: the start of the rx region (ring indices, handshake word, packets)
 *   then       u16 n + n bytes: the start of the rx blocks area (buffer headers, names)
 *   then       actions, one opcode byte each followed by its operands (missing bytes are 0)
 *
 * Built with clang -fsanitize=fuzzer (AMPL_LIBFUZZER defined), libFuzzer drives it. Built plainly, main() replays
 * the files, or every file of the directories, given as arguments: tests/fuzz/corpus/multi/ runs as a ctest test.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amplink/ipc/ipc_multi.h>
#include <amplink/mailbox_controller.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
#endif
#ifdef FUZZ_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#include "fuzz_input.h"

const char fuzz_name[] = "fuzz_multi";

static void expect(const char *what, int r, const int *ok, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (r == ok[i])
			return;
	fail(what, r, 0);
}
#define EXPECT(what, r, ...)                                                                                    \
	do {                                                                                                    \
		const int ok_[] = { __VA_ARGS__ };                                                              \
		expect(what, r, ok_, sizeof(ok_) / sizeof(ok_[0]));                                             \
	} while (0)

/* ---- the clock: the bare-metal default advances 1 us per call; faster keeps close()'s bounded drain short ---- */

static uint64_t fake_us;

uint64_t ampl_os_uptime_us(void)
{
	return fake_us += 1000u;
}

/* ---- a mailbox that only counts doorbells (TX done at the next poll) ---- */

static unsigned doorbells;

static int fk_send(struct mbox_chan *chan, void *data)
{
	(void)chan;
	if (data)
		fail("ipc_multi sent a message with data", 0, 0);
	doorbells++;
	return 0;
}

static bool fk_done(struct mbox_chan *chan)
{
	(void)chan;
	return true;
}

static const struct mbox_chan_ops fk_ops = { .send_data = fk_send, .last_tx_done = fk_done };

/* ---- the instance and its endpoints ---- */

#define NEPT 4
#define NHELD 16

struct fept {
	struct ipc_ept_cfg cfg;
	void *token;
	bool registered;
};

static struct ampl_device dev;
static struct ipc_multi_config cfg;
static struct ipc_multi_data data;
static struct fept epts[NEPT];
static const char *const names[NEPT] = { "a", "echo", "sensor-17", "0123456789abcdef0123456789abcde" };
static uint8_t *rx_blocks_lo, *rx_end; /* what received() may be given */
static uint8_t cb_mode, hold_all;
static unsigned depth;
/* What an input reached (-DFUZZ_MULTI_TRACE prints it per input: to check that a seed does what it says). */
static unsigned n_received, n_bound, n_unbound, n_errors, max_state;

static struct {
	struct fept *e;
	void *p;
} held[NHELD];
static unsigned nheld;

static const struct ipc_service_backend *be = &ipc_multi_backend;

static uint32_t word_at(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void put_word(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* The peer's handshake word (in our tx region) and its writer of our rx ring, for callbacks that restart it. */
static uint8_t *peer_word;
static struct pbuf *peer_tx;
static struct pbuf_cfg *peer_tx_cfg;

static void release_oldest(void)
{
	if (!nheld)
		return;
	int r = be->release_rx_buffer(&dev, held[0].e->token, held[0].p);
	EXPECT("release_rx_buffer", r, 0, -ENXIO, -ENOENT);
	memmove(&held[0], &held[1], sizeof(held[0]) * (nheld - 1u));
	nheld--;
}

/* Get a buffer of @len bytes (0: the largest), then send @send bytes of it (0: all; more than obtained is
 * refused), drop it, or keep it (the endpoint's deregistration or a later get finds it). */
enum zc_end { ZC_SEND, ZC_DROP, ZC_KEEP };

static void zc_send(struct fept *e, uint32_t len, uint32_t send, enum zc_end end)
{
	void *p = NULL;
	uint32_t sz = len;
	int r = be->get_tx_buffer(&dev, e->token, &p, &sz, AMPL_NO_WAIT);
	EXPECT("get_tx_buffer", r, 0, -EALREADY, -ENOMEM, -ENOBUFS, -EBUSY, -ENOENT);
	int max = be->get_tx_buffer_size(&dev, e->token);
	if (r == -ENOMEM && (int)sz != max)
		fail("get_tx_buffer -ENOMEM: *size is not the largest", (long)sz, max);
	if (r)
		return;
	if (!p || sz < len || (int)sz > max)
		fail("get_tx_buffer: a buffer smaller than asked or larger than the largest", (long)sz, (long)len);
	memset(p, 0xA5, sz);
	len = send ? send : sz;
	if (end == ZC_KEEP)
		return;
	if (end == ZC_DROP) {
		EXPECT("drop_tx_buffer", be->drop_tx_buffer(&dev, e->token, p), 0);
		EXPECT("drop_tx_buffer again", be->drop_tx_buffer(&dev, e->token, p), -EALREADY, -ENXIO);
		return;
	}
	r = be->send_nocopy(&dev, e->token, p, len);
	if (len > sz)
		EXPECT("send_nocopy beyond the buffer", r, -EBADMSG);
	else
		EXPECT("send_nocopy", r, (int)len, -EBUSY);
	if (r < 0)
		EXPECT("drop after a refused send_nocopy", be->drop_tx_buffer(&dev, e->token, p), 0);
	else
		EXPECT("send_nocopy again", be->send_nocopy(&dev, e->token, p, len), -ENXIO);
}

static void on_received(const void *d, size_t len, void *priv)
{
	struct fept *e = priv;
	const uint8_t *p = d;
	if (p < rx_blocks_lo || len == 0 || len > (size_t)(rx_end - p))
		fail("received() outside the peer's blocks", (long)(p - rx_blocks_lo), (long)len);
	volatile uint8_t sink = p[0];
	sink = p[len - 1];
	(void)sink;
	n_received++;
	if (depth++ == 0) { /* a reply's doorbell does not re-enter here: no deeper than one */
		if (hold_all && nheld < NHELD) {
			int r = be->hold_rx_buffer(&dev, e->token, (void *)d);
			EXPECT("hold_rx_buffer", r, 0);
			EXPECT("hold_rx_buffer again", be->hold_rx_buffer(&dev, e->token, (void *)d), -EALREADY);
			held[nheld].e = e;
			held[nheld].p = (void *)d;
			nheld++;
		}
		if (cb_mode & 1u) {
			int r = be->send(&dev, e->token, d, len);
			EXPECT("send in received()", r, (int)len, -EBUSY, -ENOMEM, -EMSGSIZE);
		}
		if (cb_mode & 2u)
			zc_send(e, (uint32_t)(len & 0xFFu), (uint32_t)(len & 0x3Fu), (cb_mode & 4u) ? ZC_DROP : ZC_SEND);
		if (cb_mode & 8u)
			release_oldest();
		if (cb_mode & 0x10u) {
			/* The peer restarts while we deliver: a new id, its ring reset. Nothing read after this
			 * may be taken (the id is checked after every read). */
			uint32_t w = word_at(peer_word);
			put_word(peer_word, ((w & 0xFFFFu) + 1u) | (w & 0xFFFF0000u));
			(void)pbuf_tx_init(peer_tx, peer_tx_cfg);
		}
	}
	depth--;
}

static void on_error(const char *msg, void *priv)
{
	(void)priv;
	if (!msg || !msg[0])
		fail("error() without a message", 0, 0);
	n_errors++;
}

static void on_bound(void *priv)
{
	struct fept *e = priv;
	if (!e || !e->registered)
		fail("bound() for an endpoint not registered", 0, 0);
	n_bound++;
}

static void on_unbound(void *priv)
{
	struct fept *e = priv;
	if (!e || !e->registered)
		fail("unbound() for an endpoint not registered", 0, 0);
	n_unbound++;
}

static void check_state(void)
{
	int st = atomic_load(&data.state);
	if (st < IPC_MULTI_OFF || st > IPC_MULTI_FAULT)
		fail("unknown state", st, 0);
	if (st == IPC_MULTI_CONNECTED || (st == IPC_MULTI_FAULT && max_state != IPC_MULTI_CONNECTED))
		max_state = (unsigned)st;
	if (st != IPC_MULTI_OFF) {
		int f = ipc_multi_free_blocks(&dev);
		if (f < 0 || (uint32_t)f > data.txl.block_count)
			fail("free blocks beyond the count", f, (long)data.txl.block_count);
	}
}

/* ---- the peer's view ---- */

struct peer {
	struct pbuf tx;      /* writer of our rx ring */
	struct pbuf_cfg txc;
	struct pbuf rx;      /* reader of our tx ring */
	struct pbuf_cfg rxc;
	bool ok;
	uint8_t *rx_region, *tx_region;
	uint32_t rx_size, ring, d;
};

static void peer_hello(struct peer *pr, uint8_t version, uint32_t bs, uint32_t cnt, uint16_t len)
{
	uint8_t h[IPC_MULTI_HELLO_LEN + 4] = { 'A', 'M', 'P', 'L', 'M', 'B', version, 0 };
	put_word(h + 8, bs);
	put_word(h + 12, cnt);
	(void)pbuf_write(&pr->tx, h, len);
}

/* A geometry for the peer's blocks that fits its region (or, with @raw, whatever the input says). */
static void peer_geometry(const struct peer *pr, uint8_t sel, uint32_t *bs, uint32_t *cnt)
{
	uint32_t a = pr->d > 4u ? pr->d : 4u;
	uint32_t room = pr->rx_size - pr->ring;
	uint32_t c = 1u + sel % 8u;
	uint32_t b = (room / c) & ~(a - 1u);
	if (b < 8u) {
		c = 1;
		b = room & ~(a - 1u);
	}
	if (sel & 8u && b >= 2u * a)
		b = a * (1u + (sel >> 4) % (b / a)); /* smaller blocks than the region allows */
	*bs = b;
	*cnt = c;
}

/* The peer drains our ring and answers what a cooperating peer would: RELEASE for DATA (with @mode bit 1: a
 * RELEASE_SET of that one block), RELEASE_BOUND for BOUND. */
static void peer_answer(struct peer *pr, uint8_t mode)
{
	uint8_t m[64];
	for (unsigned i = 0; i < 600; i++) {
		int n = pbuf_read(&pr->rx, m, sizeof(m));
		if (n <= 0)
			return;
		if (n < 4 || (mode & 1u))
			continue;
		uint8_t a[4] = { 0, m[1], m[2], m[3] };
		if (m[0] == IPC_MULTI_MSG_DATA && (mode & 2u)) { /* as a version-3 receiver: a set of one */
			uint32_t mask = 1u << (m[2] % 16u);
			a[0] = IPC_MULTI_MSG_RELEASE_SET;
			a[1] = (uint8_t)(m[2] & ~15u);
			a[2] = (uint8_t)mask;
			a[3] = (uint8_t)(mask >> 8);
		} else if (m[0] == IPC_MULTI_MSG_DATA)
			a[0] = IPC_MULTI_MSG_RELEASE;
		else if (m[0] == IPC_MULTI_MSG_BOUND)
			a[0] = IPC_MULTI_MSG_RELEASE_BOUND;
		else
			continue;
		(void)pbuf_write(&pr->tx, a, sizeof(a));
	}
}

/* ---- memory: both regions in one heap block, in the order the role needs, red zones poisoned ---- */

#define GAP 64u

int LLVMFuzzerTestOneInput(const uint8_t *in_data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *in_data, size_t size)
{
	struct in in = { in_data, size, 0 };
	uint8_t b0 = take(&in), b1 = take(&in);
	cb_mode = take(&in);
	static const uint32_t ds[4] = { 0, 8, 32, 64 }, counts[4] = { 1, 3, 16, 64 };
	uint32_t d = ds[b0 & 3u];
	bool initiator = b0 & 4u;
	struct ipc_multi_layout probe;
	if (ipc_multi_layout(&probe, 1u << 20, d, 64, 1))
		fail("layout of a large region", 0, 0);
	uint32_t ring = probe.ring_size;
	uint32_t tx_count = counts[(b0 >> 3) & 3u];
	uint32_t tx_size = ring + tx_count * 64u + 64u * (cb_mode >> 6);
	uint32_t rx_size = ring + 64u * (1u + b1);
	hold_all = (b0 >> 7) & 1u;

	/* [lo region][GAP][hi region][GAP]: initiator <=> rx is lo */
	uint32_t lo_size = initiator ? rx_size : tx_size, hi_size = initiator ? tx_size : rx_size;
	size_t total = (size_t)lo_size + GAP + hi_size + GAP;
	uint8_t *mem = NULL;
	if (posix_memalign((void **)&mem, 64, total))
		abort();
	memset(mem, 0, total);
	uint8_t *lo = mem, *hi = mem + lo_size + GAP;
	POISON(lo + lo_size, GAP);
	POISON(hi + hi_size, GAP);
	uint8_t *rx = initiator ? lo : hi, *tx = initiator ? hi : lo;

	uint16_t n = take16(&in);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t v = take(&in);
		if (i < rx_size)
			rx[i] = v;
	}
	n = take16(&in);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t v = take(&in);
		if (ring + i < rx_size)
			rx[ring + i] = v;
	}
	rx_blocks_lo = rx + ring + IPC_MULTI_BUF_HDR;
	rx_end = rx + rx_size;

	static struct mbox_controller ctrl;
	static struct mbox_chan chans[2];
	memset(&ctrl, 0, sizeof(ctrl));
	memset(chans, 0, sizeof(chans));
	ctrl.node = "fuzz";
	ctrl.ops = &fk_ops;
	ctrl.chans = chans;
	ctrl.num_chans = 2;
	ctrl.txdone_poll = true;
	ctrl.txpoll_period = 1;
	if (mbox_controller_register(&ctrl))
		fail("controller registration", 0, 0);

	cfg = (struct ipc_multi_config){
		.tx_mem = tx, .tx_size = tx_size, .rx_mem = rx, .rx_size = rx_size, .dcache_alignment = d,
		.block_size = (cb_mode & 0x20u) ? 64u : 0u, .block_count = tx_count, .tx_chan = &chans[0],
		.rx_chan = &chans[1], .error = (b0 & 0x20u) ? on_error : NULL,
		.inline_max = (b0 & 0x80u) ? (uint8_t)IPC_MULTI_INLINE_MAX : 0u, /* INLINE taken (the peer's: its HELLO) */
	};
	memset(&data, 0, sizeof(data));
	dev = (struct ampl_device){ .name = "fuzz-multi", .api = &ipc_multi_backend, .config = &cfg, .data = &data };
	memset(epts, 0, sizeof(epts));
	for (unsigned i = 0; i < NEPT; i++)
		epts[i].cfg = (struct ipc_ept_cfg){ .name = names[i],
						    .cb = { .bound = on_bound,
							    .unbound = on_unbound,
							    .received = on_received,
							    .error = on_error },
						    .priv = &epts[i] };
	nheld = 0;
	depth = 0;
	n_received = n_bound = n_unbound = n_errors = max_state = 0;

	/* The peer: a writer of our rx ring, a reader of our tx ring. */
	struct peer pr = { .rx_region = rx, .tx_region = tx, .rx_size = rx_size, .ring = ring, .d = d };
	uint8_t *image = malloc(ring);
	memcpy(image, rx, ring);
	pr.ok = pbuf_cfg_init(&pr.txc, rx, ring, d, true) == 0 && pbuf_tx_init(&pr.tx, &pr.txc) == 0 &&
		pbuf_cfg_init(&pr.rxc, tx, ring, d, true) == 0 && pbuf_rx_init(&pr.rx, &pr.rxc) == 0;
	if (b0 & 0x40u)
		memcpy(rx, image, ring); /* keep the image's indices: the peer's object then disagrees with them */
	free(image);
	if (!pr.ok)
		fail("the peer's view of a valid layout", (long)ring, (long)d);
	peer_word = tx + PBUF_HANDSHAKE_OFF;
	peer_tx = &pr.tx;
	peer_tx_cfg = &pr.txc;

	int r = be->open_instance(&dev);
	EXPECT("open_instance", r, 0, -EINVAL);
	bool open = r == 0;
	if (!open)
		goto out;
	EXPECT("open_instance again", be->open_instance(&dev), -EALREADY);

	for (unsigned steps = 0; in.at < in.n && steps < 512; steps++) {
		uint8_t op = take(&in);
		switch (op % 18u) {
		case 0: { /* arbitrary peer write anywhere in either region */
			uint8_t *base = (op & 0x80u) ? tx : rx;
			uint32_t sz = (op & 0x80u) ? tx_size : rx_size;
			uint32_t off = take16(&in) % sz, cnt = take(&in) % 16u;
			for (uint32_t i = 0; i < cnt && off + i < sz; i++)
				base[off + i] = take(&in);
			break;
		}
		case 1: /* a doorbell */
			mbox_chan_received_data(&chans[1], NULL);
			break;
		case 2: { /* a raw packet in our rx ring (any content, any length) */
			uint8_t pkt[80];
			uint16_t len = (uint16_t)(1u + take(&in) % sizeof(pkt));
			for (uint16_t i = 0; i < len; i++)
				pkt[i] = take(&in);
			(void)pbuf_write(&pr.tx, pkt, len);
			break;
		}
		case 3: { /* a control message {type, ept, block}, maybe longer */
			uint8_t m[8] = { (uint8_t)(take(&in) % 6u), take(&in), take(&in), take(&in) };
			if (op & 0x80u)
				m[3] = 0; /* blocks < 256 */
			(void)pbuf_write(&pr.tx, m, (op & 0x40u) ? 8 : 4);
			break;
		}
		case 4: { /* HELLO: a geometry that fits, or the input's; this version or the input's; maybe truncated */
			uint32_t bs, cnt;
			uint8_t sel = take(&in);
			peer_geometry(&pr, sel, &bs, &cnt);
			uint8_t version = IPC_MULTI_WIRE_VERSION;
			if (op & 0x80u) {
				bs = take32(&in);
				cnt = take32(&in);
			}
			if (op & 0x40u)
				version = take(&in);
			uint16_t len = (op & 0x20u) ? (uint16_t)(1u + take(&in) % (IPC_MULTI_HELLO_LEN + 4u))
						    : (uint16_t)IPC_MULTI_HELLO_LEN;
			peer_hello(&pr, version, bs, cnt, len);
			break;
		}
		case 5: { /* the peer's handshake word (in our tx region), maybe acknowledging our id */
			uint32_t w = take32(&in);
			if (op & 0x80u)
				w = (w & 0xFFFFu) | (word_at(rx + PBUF_HANDSHAKE_OFF) & 0xFFFFu) << 16;
			put_word(tx + PBUF_HANDSHAKE_OFF, w);
			break;
		}
		case 6: /* the peer restarts its ring */
			(void)pbuf_tx_init(&pr.tx, &pr.txc);
			break;
		case 7: { /* the peer writes a buffer into one of its blocks: header, then a name or bytes */
			uint32_t bs, cnt;
			peer_geometry(&pr, take(&in), &bs, &cnt);
			uint32_t blk = take(&in) % cnt;
			uint8_t *p = rx + ring + blk * bs;
			uint32_t len = (op & 0x80u) ? take32(&in) : (uint32_t)(1u + take(&in) % 40u);
			put_word(p, len);
			uint8_t k = take(&in);
			if (op & 0x40u) { /* an endpoint's name, NUL-terminated */
				const char *nm = names[k % NEPT];
				size_t nl = strlen(nm) + 1u;
				if (IPC_MULTI_BUF_HDR + nl <= bs)
					memcpy(p + IPC_MULTI_BUF_HDR, nm, nl);
			} else {
				for (uint32_t i = IPC_MULTI_BUF_HDR; i < bs && i < IPC_MULTI_BUF_HDR + 40u; i++)
					p[i] = (uint8_t)(k + i);
			}
			break;
		}
		case 8: /* the transport: the peer went offline, or came back */
			mbox_chan_set_offline(&chans[1], (op & 0x80u) ? 0 : -ESHUTDOWN); /* link_state, on a change */
			break;
		case 9: { /* register an endpoint */
			struct fept *e = &epts[take(&in) % NEPT];
			e->registered = true; /* bound() may run inside (the follower matches a waiting BOUND) */
			r = be->register_endpoint(&dev, &e->token, &e->cfg);
			EXPECT("register_endpoint", r, 0, -EALREADY, -EBUSY);
			if (r == -EALREADY && !e->token)
				fail("register_endpoint: -EALREADY for a name not registered", 0, 0);
			if (r && r != -EALREADY)
				e->registered = false;
			break;
		}
		case 10: { /* deregister an endpoint */
			struct fept *e = &epts[take(&in) % NEPT];
			if (!e->registered)
				break;
			EXPECT("deregister_endpoint", be->deregister_endpoint(&dev, e->token), 0);
			EXPECT("deregister_endpoint again", be->deregister_endpoint(&dev, e->token), -ENOENT);
			e->registered = false;
			for (unsigned i = 0; i < nheld;) { /* released by the deregistration */
				if (held[i].e == e) {
					memmove(&held[i], &held[i + 1], sizeof(held[0]) * (nheld - i - 1u));
					nheld--;
				} else {
					i++;
				}
			}
			break;
		}
		case 11: { /* a copy send */
			struct fept *e = &epts[take(&in) % NEPT];
			if (!e->registered)
				break;
			static uint8_t buf[4096];
			size_t len = take16(&in) % sizeof(buf);
			memset(buf, 0x5A, sizeof(buf));
			r = be->send(&dev, e->token, len ? buf : NULL, len);
			EXPECT("send", r, (int)len, -EBUSY, -ENOMEM, -EMSGSIZE, -EBADMSG);
			if (r == 0)
				fail("send of 0 bytes succeeded", 0, 0);
			break;
		}
		case 12: { /* zero-copy: get, then send (all or part), drop or keep */
			struct fept *e = &epts[take(&in) % NEPT];
			uint32_t len = take16(&in) % 2048u, send = take16(&in) % 2048u;
			if (e->registered)
				zc_send(e, len, send, (op & 0x80u) ? ZC_DROP : (op & 0x40u) ? ZC_KEEP : ZC_SEND);
			break;
		}
		case 13: /* release the oldest held buffer */
			release_oldest();
			break;
		case 14: { /* close (refused while endpoints are registered) and re-open */
			r = be->close_instance(&dev);
			bool any = false;
			for (unsigned i = 0; i < NEPT; i++)
				any |= epts[i].registered;
			EXPECT("close_instance", r, any ? -EBUSY : 0);
			if (r)
				break;
			nheld = 0;
			EXPECT("close_instance again", be->close_instance(&dev), -EALREADY);
			r = be->open_instance(&dev);
			EXPECT("re-open", r, 0);
			break;
		}
		case 15: { /* a cooperating peer connects: ring restart, HELLO that fits, id acknowledging ours */
			uint32_t bs, cnt;
			peer_geometry(&pr, take(&in), &bs, &cnt);
			uint16_t psid = (uint16_t)(take16(&in) | 1u);
			(void)pbuf_tx_init(&pr.tx, &pr.txc);
			peer_hello(&pr, IPC_MULTI_WIRE_VERSION, bs, cnt, IPC_MULTI_HELLO_LEN);
			put_word(tx + PBUF_HANDSHAKE_OFF, psid | (word_at(rx + PBUF_HANDSHAKE_OFF) & 0xFFFFu) << 16);
			(void)pbuf_rx_init(&pr.rx, &pr.rxc); /* our ring restarts for the peer's new id */
			mbox_chan_received_data(&chans[1], NULL);
			break;
		}
		case 16: /* the peer reads our ring and answers DATA with RELEASE (or RELEASE_SET), BOUND with RELEASE_BOUND */
			peer_answer(&pr, (uint8_t)((op >> 7) | ((op >> 5) & 2u)));
			break;
		case 17: /* the peer restarts its view of our ring */
			(void)pbuf_rx_init(&pr.rx, &pr.rxc);
			break;
		}
		(void)mbox_controller_poll(&ctrl); /* doorbells taken: the next one is sent at once */
		check_state();
	}
out:
	if (open) {
		for (unsigned i = 0; i < NEPT; i++) {
			if (epts[i].registered) {
				EXPECT("deregister_endpoint at the end", be->deregister_endpoint(&dev, epts[i].token), 0);
				epts[i].registered = false;
			}
		}
		(void)mbox_controller_poll(&ctrl);
		EXPECT("close_instance at the end", be->close_instance(&dev), 0);
	}
#ifdef FUZZ_MULTI_TRACE
	fprintf(stderr, "fuzz_multi: %s, %s; received %u, bound %u, unbound %u, errors %u, doorbells %u%s\n",
		initiator ? "initiator" : "follower", open ? "opened" : "not opened", n_received, n_bound, n_unbound,
		n_errors, doorbells, max_state == IPC_MULTI_CONNECTED ? ", connected" : max_state ? ", fault" : "");
#endif
	mbox_controller_unregister(&ctrl);
	UNPOISON(lo + lo_size, GAP);
	UNPOISON(hi + hi_size, GAP);
	free(mem);
	return 0;
}
