/*
 * Fuzz harness for RPMsg over virtio: both roles' receive paths (rpmsg_virtio_notified(): link-state processing,
 * the resource-table parser and handshake, vring consumption, message delivery, name-service parsing) fed with
 * arbitrary shared-memory contents. It checks the promises of <amplink/ipc/rpmsg.h> (trust model):
 *   - no access outside the region (a heap block of exactly its size: AddressSanitizer) or of anything else;
 *   - a delivered message lies inside the region (payload and length), and the calls return documented codes;
 *   - no hang: every call returns (the passes are bounded by the rings).
 *
 * Input layout:
 *   byte 0   bits 0-1: mode: 0 a host and a remote over one region, 1 a host over a raw image, 2 a remote over a
 *            raw image (3: like 0); bits 2-3: vring num 4, 8, 16, 32; bit 4: vring align 4 (else 16);
 *            bit 5: the host announces its endpoints; bits 6-7: buffer size 64, 128, 256, 512
 *   byte 1   region size: 2048 + 256 * byte
 *   modes 1, 2: bytes 2-3 (big-endian) image length, then the image, copied to the region start (after the
 *            remote's init in mode 2: it overwrites the remote's table and whatever the "host" writes)
 *   then     operations, one opcode byte each followed by its operands (missing bytes are 0); after each one the
 *            doorbells rung meanwhile are delivered (a bounded number of rounds), as interrupts would
 *
 * Built with clang -fsanitize=fuzzer (AMPL_LIBFUZZER defined), libFuzzer drives it. Built plainly, main() replays
 * the files, or every file of the directories, given as arguments: tests/fuzz/corpus/rpmsg/ runs as a ctest test.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amplink/ipc/rpmsg.h>

#define DA_BASE 0x40000000u
#define MAX_HELD 16

#include "fuzz_input.h"

const char fuzz_name[] = "fuzz_rpmsg";

struct ep {
	struct rpmsg_endpoint ept;
	bool hold;
	void *held[MAX_HELD];
	unsigned nheld;
};

struct side {
	struct rpmsg_device dev;
	struct rpmsg_virtio_config cfg;
	bool live;
	unsigned rung; /* doorbells rung at this side, not delivered yet */
	struct ep ep, named;
	bool named_on;
};

static struct {
	uint8_t *shm;
	uint32_t size;
	struct side host, remote;
	struct rpmsg_ns_entry ns[4];
	uint32_t errors;  /* error callbacks */
	uint32_t counted; /* stats.errors of device objects restarted since */
} F;

static void ring(void *priv, uint32_t notifyid)
{
	(void)notifyid;
	struct side *peer = priv;
	if (peer->rung < 1000)
		peer->rung++;
}

static void on_error(struct rpmsg_device *rdev, const char *msg)
{
	(void)rdev;
	if (!msg || !msg[0])
		fail("empty error message", 0, 0);
	F.errors++;
}

static bool in_region(const void *p, size_t len)
{
	const uint8_t *b = p;
	return b >= F.shm && b <= F.shm + F.size && len <= (size_t)(F.shm + F.size - b);
}

static int ep_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)src;
	struct ep *ep = priv;
	if (ep != AMPL_CONTAINER_OF(ept, struct ep, ept))
		fail("callback priv", 0, 0);
	if (!in_region(data, len))
		fail("delivered message outside the region", (long)((uint8_t *)data - F.shm), (long)len);
	if (len > 0xFFFF)
		fail("delivered length above 65535", (long)len, 0);
	/* Touch every byte (AddressSanitizer checks the whole payload). */
	volatile uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum ^= ((uint8_t *)data)[i];
	(void)sum;
	if (ep->hold && ep->nheld < MAX_HELD) {
		int rc = rpmsg_hold_rx_buffer(ept, data);
		if (rc == RPMSG_SUCCESS)
			ep->held[ep->nheld++] = data;
		else if (rc != RPMSG_ERR_NO_MEM)
			fail("hold", rc, 0);
	}
	if ((len & 7) == 5)
		(void)rpmsg_trysend(ept, data, (int)(len > 32 ? 32 : len)); /* an echo from the callback */
	return 0;
}

static void ep_unbind(struct rpmsg_endpoint *ept)
{
	(void)ept;
}

static void ns_bind(struct rpmsg_device *rdev, const char *name, uint32_t dest)
{
	(void)rdev;
	(void)dest;
	if (strnlen(name, RPMSG_NAME_SIZE) >= RPMSG_NAME_SIZE)
		fail("ns_bind_cb name not terminated", 0, 0);
}

static void create_eps(struct side *s)
{
	memset(&s->ep, 0, sizeof(s->ep));
	memset(&s->named, 0, sizeof(s->named));
	s->ep.ept.priv = &s->ep;
	s->named.ept.priv = &s->named;
	s->named_on = false;
	int rc = rpmsg_create_ept(&s->ep.ept, &s->dev, "fz", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, ep_cb, ep_unbind);
	if (rc)
		fail("create_ept", rc, 0);
}

static void side_init(struct side *s)
{
	if (s->live)
		F.counted += atomic_load(&s->dev.stats.errors);
	memset(&s->dev, 0, sizeof(s->dev));
	int rc = s->cfg.role == RPMSG_HOST ? rpmsg_virtio_init_host(&s->dev, &s->cfg)
					   : rpmsg_virtio_init_remote(&s->dev, &s->cfg);
	if (rc)
		fail("init", rc, s->cfg.role);
	s->live = true;
	create_eps(s);
}

static void deliver(void)
{
	for (unsigned round = 0; round < 8 && (F.host.rung || F.remote.rung); round++) {
		struct side *s[2] = { &F.host, &F.remote };
		for (unsigned i = 0; i < 2; i++)
			if (s[i]->rung) {
				s[i]->rung = 0;
				if (s[i]->live)
					rpmsg_virtio_notified(&s[i]->dev);
			}
	}
}

static void check_send_rc(int rc, int len)
{
	if (rc != len && rc != RPMSG_ERR_NO_BUFF && rc != RPMSG_ERR_DEV_STATE && rc != RPMSG_ERR_BUFF_SIZE &&
	    rc != RPMSG_ERR_ADDR && rc != RPMSG_ERR_PARAM)
		fail("send returned an undocumented code", rc, len);
}

static void op(struct in *in)
{
	static uint8_t payload[600];
	uint8_t o = take(in);
	struct side *s = (o & 0x10) ? &F.remote : &F.host;
	if (!s->live)
		s = s == &F.host ? &F.remote : &F.host;
	if (!s->live)
		return;
	switch (o & 0x0F) {
	case 0:
	case 1:
		rpmsg_virtio_notified(&s->dev);
		break;
	case 2: { /* a copy send: to the bound peer, or sendto an address */
		int len = take(in) * 2;
		for (int i = 0; i < len; i++)
			payload[i] = (uint8_t)(i * 7 + len);
		int rc = (o & 0x20) ? rpmsg_trysendto(&s->ep.ept, payload, len, 1024u + take(in) % 4)
				    : rpmsg_trysend(&s->ep.ept, payload, len);
		check_send_rc(rc, len);
		break;
	}
	case 3: { /* poke bytes */
		uint32_t off = take16(in) % F.size;
		unsigned n = take(in) % 16;
		for (unsigned i = 0; i < n && off + i < F.size; i++)
			F.shm[off + i] = take(in);
		break;
	}
	case 4: { /* poke a u16 / u32 (aligned: an index, a flag, a descriptor field) */
		uint32_t off = (take16(in) % F.size) & ~3u;
		uint32_t v = take16(in);
		if (off + 4 <= F.size) {
			if (o & 0x20)
				memcpy(F.shm + off, &v, 2);
			else {
				v = v << 16 | take16(in);
				memcpy(F.shm + off, &v, 4);
			}
		}
		break;
	}
	case 5: { /* zero-copy TX */
		uint32_t cap = 0;
		uint8_t *b = rpmsg_get_tx_payload_buffer(&s->ep.ept, &cap, 0);
		if (!b)
			break;
		if (!in_region(b, cap))
			fail("zero-copy buffer outside the region", (long)(b - F.shm), (long)cap);
		uint8_t a = take(in);
		int len = a % 2 ? (int)(cap < 40 ? cap : 40) : (int)cap + (a & 2);
		memset(b, a, cap);
		int rc;
		if (a & 4)
			rc = rpmsg_send_nocopy(&s->ep.ept, b, len);
		else
			rc = rpmsg_sendto_nocopy(&s->ep.ept, b, len, RPMSG_NS_EPT_ADDR); /* a raw name-service message */
		check_send_rc(rc, len);
		if (rc != len && rpmsg_release_tx_buffer(&s->ep.ept, b) != RPMSG_SUCCESS && rc != RPMSG_ERR_DEV_STATE)
			fail("release of an unsent reserved buffer", rc, len);
		if (rpmsg_release_tx_buffer(&s->ep.ept, b) != RPMSG_ERR_PARAM)
			fail("second release accepted", 0, 0);
		break;
	}
	case 6: /* hold mode, release held buffers */
		s->ep.hold = !s->ep.hold;
		while (s->ep.nheld) {
			int rc = rpmsg_release_rx_buffer(&s->ep.ept, s->ep.held[--s->ep.nheld]);
			if (rc != RPMSG_SUCCESS && rc != RPMSG_ERR_PARAM)
				fail("release_rx", rc, 0);
		}
		break;
	case 7:
		rpmsg_virtio_peer_lost(&s->dev);
		break;
	case 8: /* the side restarts (fresh memory) */
		side_init(s);
		break;
	case 9: { /* a named endpoint comes or goes */
		if (s->named_on) {
			rpmsg_destroy_ept(&s->named.ept);
			s->named_on = false;
		} else {
			char name[8] = "n";
			name[1] = (char)('a' + take(in) % 4);
			int rc = rpmsg_create_ept(&s->named.ept, &s->dev, name, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, ep_cb,
						  ep_unbind);
			if (rc && rc != RPMSG_ERR_ADDR)
				fail("create named", rc, 0);
			s->named_on = rc == 0;
		}
		break;
	}
	case 10:
		(void)is_rpmsg_ept_ready(&s->ep.ept);
		(void)rpmsg_get_tx_buffer_size(&s->ep.ept);
		(void)rpmsg_get_rx_buffer_size(&s->ep.ept);
		break;
	case 11: /* a doorbell rung at this side */
		s->rung++;
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size, 0 };
	uint8_t m = take(&in);
	unsigned mode = m & 3u;
	static const uint32_t nums[4] = { 4, 8, 16, 32 }, bufs[4] = { 64, 128, 256, 512 };
	memset(&F, 0, sizeof(F));
	F.size = 2048u + 256u * take(&in);
	F.shm = malloc(F.size);
	memset(F.shm, 0, F.size);
	struct side *sides[2] = { &F.host, &F.remote };
	for (unsigned i = 0; i < 2; i++) {
		struct side *s = sides[i];
		s->cfg = (struct rpmsg_virtio_config){
			.role = i ? RPMSG_REMOTE : RPMSG_HOST, .shm = F.shm, .shm_size = F.size, .da_base = DA_BASE,
			.vring_num = nums[m >> 2 & 3u], .vring_align = (m & 0x10) ? 4 : 16,
			.h2r_buf_size = bufs[m >> 6], .r2h_buf_size = bufs[(m >> 6) ^ 1u], .tx_timeout_ms = 1,
			.host_announce = (m & 0x20) != 0, .notify = ring, .notify_priv = sides[i ^ 1u],
			.error = on_error, .ns_bind_cb = ns_bind, .priv = s,
		};
	}
	F.host.cfg.ns_table = F.ns;
	F.host.cfg.ns_table_len = 4;

	if (mode == 1 || mode == 2) {
		if (mode == 2)
			side_init(&F.remote);
		size_t len = take16(&in);
		for (size_t i = 0; i < len && i < F.size; i++)
			F.shm[i] = take(&in);
		if (mode == 1)
			side_init(&F.host);
		else
			F.remote.rung++;
	} else {
		side_init(&F.remote);
		side_init(&F.host);
	}
	deliver();
	for (unsigned n = 0; in.at < in.n && n < 4096; n++) {
		op(&in);
		deliver();
	}
	uint32_t errs = F.counted;
	for (unsigned i = 0; i < 2; i++)
		if (sides[i]->live)
			errs += atomic_load(&sides[i]->dev.stats.errors);
	if (F.errors > errs)
		fail("more error callbacks than counted errors", (long)F.errors, (long)errs);
	for (unsigned i = 0; i < 2; i++)
		if (sides[i]->live) {
			if (sides[i]->named_on)
				rpmsg_destroy_ept(&sides[i]->named.ept);
			rpmsg_destroy_ept(&sides[i]->ep.ept);
			rpmsg_virtio_deinit(&sides[i]->dev);
		}
	free(F.shm);
	return 0;
}
