/*
 * Fuzz harness for pbuf: the input is a shared-memory image, its configuration and a script of calls, with peer
 * writes (pokes) between them. It checks the promises of docs/pbuf.md (security model):
 *   - every call returns a documented code;
 *   - no access outside the region (the region is a heap block of exactly its size: AddressSanitizer) or outside
 *     the caller's buffer (also exactly sized);
 *   - pbuf_read() changes at most rd_idx, and only when it returns a packet; pbuf_write() never changes the
 *     reader's words (rd_idx, handshake); a call that fails changes nothing;
 *   - in loopback mode (writer and reader on a consistent ring, no pokes yet), the ring behaves as a FIFO: writes
 *     are accepted exactly when a model says they fit, and reads return the packets written, in order.
 *
 * Input layout:
 *   byte 0     bits 0-2: D = 0, 4, 8, 16, 32, 64, 128, or 2 (invalid); bit 3: H; bit 4: loopback;
 *              bit 5: region misaligned by 4 bytes
 *   bytes 1-2  region size in 4-byte words (big-endian, modulo 512)
 *   then       the region image (size bytes; missing bytes are 0)
 *   then       calls, one opcode byte each followed by its operands (missing operand bytes are 0)
 *
 * Built with clang -fsanitize=fuzzer (AMPL_LIBFUZZER defined), libFuzzer drives it. Built plainly, main() replays
 * the files, or every file of the directories, given as arguments: tests/fuzz/corpus/pbuf/ runs as a ctest test.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amplink/ipc/pbuf.h>

#define REGION_ALIGN 128u
#define MAX_IO 4200u

#include "fuzz_input.h"

const char fuzz_name[] = "fuzz_pbuf";

static uint32_t le32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void put_le32(uint8_t *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static uint8_t src_byte(uint32_t seed, uint32_t i)
{
	return (uint8_t)(seed * 131u + i * 7u + 3u);
}

/* Loopback model: indices and a FIFO of (length, seed). */
#define MODEL_MAX 1024u
struct model {
	bool on;
	uint32_t blen, wr, rd;
	uint32_t len[MODEL_MAX], seed[MODEL_MAX];
	unsigned head, count;
};

static bool model_fits(const struct model *m, uint32_t len)
{
	uint32_t used = (m->wr + m->blen - m->rd) % m->blen;
	return len > 0 && 4 + len + used + 4 <= m->blen;
}

/*
 * The read index (bytes 0-3) after a read: unchanged, or the reader's own index. The reader publishes once per batch
 * (docs/pbuf.md), so a call may publish what earlier calls consumed: a read that fails, or one that only asks for
 * the next length, gives that space back too; it never publishes anything but its own position.
 */
static uint32_t rd_word(const uint8_t *mem)
{
	return (uint32_t)mem[0] | (uint32_t)mem[1] << 8 | (uint32_t)mem[2] << 16 | (uint32_t)mem[3] << 24;
}

static void check_rd_word(const uint8_t *mem, const uint8_t *snap, const struct pbuf *rx, int rc, const char *what)
{
	if (memcmp(mem, snap, 4) != 0 && rd_word(mem) != rx->rd_idx)
		fail(what, rc, (int)rd_word(mem));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t dsel[8] = { 0, 4, 8, 16, 32, 64, 128, 2 };
	static struct model m;
	struct in in = { data, size, 0 };

	uint8_t c = take(&in);
	uint32_t d = dsel[c & 7];
	bool h = (c >> 3) & 1, loop = (c >> 4) & 1, mis = (c >> 5) & 1;
	uint32_t rsize = 4u * (take16(&in) % 512u);

	/* The region ends exactly where the heap block ends; misaligned, it starts 4 bytes into the block. */
	void *block = NULL;
	if (posix_memalign(&block, REGION_ALIGN, (mis ? 4 : 0) + (rsize ? rsize : 1)) != 0)
		return 0;
	uint8_t *mem = (uint8_t *)block + (mis ? 4 : 0);
	for (uint32_t i = 0; i < rsize; i++)
		mem[i] = take(&in);

	/* pbuf_cfg_init() must accept exactly the valid layouts. */
	struct pbuf_cfg cfg;
	uint32_t align = d > 4 ? d : 4;
	bool d_ok = d == 0 || (d >= 4 && (d & (d - 1)) == 0);
	bool valid = d_ok && ((uintptr_t)mem % align) == 0 && rsize >= PBUF_DATA_OFF(d, h) + PBUF_MIN_DATA_LEN;
	int rc = pbuf_cfg_init(&cfg, mem, rsize, d, h);
	if (rc != (valid ? 0 : -EINVAL))
		fail("pbuf_cfg_init", rc, valid);
	if (rc) {
		struct pbuf_cfg hand = PBUF_CFG_INITIALIZER(mem, rsize, d, h);
		struct pbuf pb;
		if (pbuf_rx_init(&pb, &hand) != -EINVAL || pbuf_tx_init(&pb, &hand) != -EINVAL)
			fail("init accepted an invalid layout", rsize, d);
		free(block);
		return 0;
	}

	const uint32_t w = cfg.wr_idx_off, blen = cfg.data_len;
	uint8_t *snap = malloc(rsize);
	struct pbuf tx, rx;
	memcpy(snap, mem, rsize);
	if (pbuf_tx_init(&tx, &cfg) != 0 || pbuf_rx_init(&rx, &cfg) != 0)
		fail("init", 0, 0);
	memset(&m, 0, sizeof(m));
	if (loop) {
		m.on = true;
		m.blen = blen;
	} else {
		memcpy(mem, snap, rsize); /* the peer's garbage, indices included */
	}

	static uint8_t src[MAX_IO];
	for (unsigned op = 0; in.at < in.n && op < 4096; op++) {
		uint8_t code = take(&in);
		memcpy(snap, mem, rsize);
		switch (code % 8) {
		case 0: { /* read into a buffer of exactly n bytes */
			uint16_t n = (uint16_t)(take16(&in) % MAX_IO);
			uint8_t *buf = malloc(n ? n : 1);
			rc = pbuf_read(&rx, buf, n);
			if (!(rc == -EINVAL || rc == -EBADMSG || rc == -EAGAIN || rc == -ENOMEM ||
			      (rc >= 0 && rc <= n && (uint32_t)rc <= PBUF_MAX_PAYLOAD(blen))))
				fail("read: undocumented result", rc, n);
			for (uint32_t i = 4; i < rsize; i++)
				if (mem[i] != snap[i])
					fail("read changed the region outside rd_idx", rc, i);
			check_rd_word(mem, snap, &rx, rc, "read");
			if (m.on) {
				uint32_t want = m.count ? m.len[m.head] : 0;
				int exp = want == 0 ? 0 : want > n ? -ENOMEM : (int)want;
				if (rc != exp)
					fail("loopback read", rc, exp);
				if (rc > 0) {
					for (int i = 0; i < rc; i++)
						if (buf[i] != src_byte(m.seed[m.head], (uint32_t)i))
							fail("loopback payload", i, rc);
					m.head = (m.head + 1) % MODEL_MAX;
					m.count--;
				}
			}
			/* The writer's room follows the read index the reader published (once per batch). */
			m.rd = rd_word(mem);
			free(buf);
			break;
		}
		case 1: /* the next length */
			rc = pbuf_read(&rx, NULL, 0);
			if (!(rc == -EINVAL || rc == -EBADMSG || rc == -EAGAIN ||
			      (rc >= 0 && (uint32_t)rc <= PBUF_MAX_PAYLOAD(blen))))
				fail("read(NULL): undocumented result", rc, 0);
			if (memcmp(mem + 4, snap + 4, rsize - 4) != 0)
				fail("read(NULL) changed the region outside rd_idx", rc, 0);
			check_rd_word(mem, snap, &rx, rc, "read(NULL)");
			if (m.on && rc != (m.count ? (int)m.len[m.head] : 0))
				fail("loopback read(NULL)", rc, m.count);
			m.rd = rd_word(mem);
			break;
		case 2: { /* write n bytes */
			uint16_t n = (uint16_t)(take16(&in) % MAX_IO);
			uint32_t seed = take(&in);
			for (uint32_t i = 0; i < n; i++)
				src[i] = src_byte(seed, i);
			rc = pbuf_write(&tx, src, n);
			if (!(rc == -EINVAL || rc == -ENOMEM || (rc == n && n > 0)))
				fail("write: undocumented result", rc, n);
			for (uint32_t i = 0; i < (rc > 0 ? w : rsize); i++)
				if (mem[i] != snap[i])
					fail("write changed the reader's words, or failed and changed something", rc, i);
			if (m.on) {
				int exp = n == 0 ? -EINVAL : model_fits(&m, n) ? n : -ENOMEM;
				if (rc != exp)
					fail("loopback write", rc, exp);
				if (rc > 0) {
					if (m.count == MODEL_MAX)
						fail("model overflow", 0, 0);
					unsigned t = (m.head + m.count) % MODEL_MAX;
					m.len[t] = n;
					m.seed[t] = seed;
					m.count++;
					m.wr = (m.wr + 4 + n + 3) / 4 * 4 % blen;
				}
			}
			break;
		}
		case 3: { /* the peer writes a byte anywhere */
			uint16_t off = take16(&in);
			mem[off % rsize] = take(&in);
			m.on = false;
			break;
		}
		case 4: { /* the peer stores an index: rd_idx, wr_idx or the handshake word */
			uint8_t sel = take(&in);
			uint32_t v = take16(&in);
			if (sel & 4)
				v |= (uint32_t)take16(&in) << 16;
			uint32_t off = (sel & 3) == 0 ? 0 : (sel & 3) == 1 ? w : (h ? 4u : w);
			put_le32(mem + off, v);
			m.on = false;
			break;
		}
		case 5: { /* handshake word */
			uint32_t v = take16(&in);
			rc = pbuf_handshake_write(&rx, v);
			if (rc != (h ? 0 : -ENOTSUP))
				fail("handshake write", rc, h);
			for (uint32_t i = 0; i < rsize; i++)
				if (mem[i] != snap[i] && !(h && i >= 4 && i < 8))
					fail("handshake write changed another byte", i, 0);
			uint32_t back = 0;
			rc = pbuf_handshake_read(&tx, &back);
			if (rc != (h ? 0 : -ENOTSUP) || (h && back != v))
				fail("handshake read", rc, (long)back);
			if (h && le32(mem + 4) != v)
				fail("handshake word not little-endian at 4", (long)le32(mem + 4), v);
			break;
		}
		case 6: /* the reader restarts */
			if (pbuf_rx_init(&rx, &cfg) != 0 || memcmp(mem, snap, rsize) != 0)
				fail("rx_init", 0, 0);
			m.on = false;
			break;
		default: /* the writer restarts the ring, the reader follows: loopback again */
			if (pbuf_tx_init(&tx, &cfg) != 0 || pbuf_rx_init(&rx, &cfg) != 0)
				fail("tx_init", 0, 0);
			if (le32(mem) != 0 || le32(mem + w) != 0)
				fail("tx_init left an index", (long)le32(mem), (long)le32(mem + w));
			memset(&m, 0, sizeof(m));
			m.on = true;
			m.blen = blen;
			break;
		}
	}
	free(snap);
	free(block);
	return 0;
}
