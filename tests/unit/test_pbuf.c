/*
 * pbuf, the ICMsg packet ring: every return code, the wire format byte by byte, parameter permutations against an
 * independent model of the memory image, the cache-maintenance points, corrupt peer fields, and a two-thread
 * stress run with self-checking payloads.
 *
 * test_pbuf links its own build of src/ipc/pbuf.c with the cache hooks and the barriers redirected to a recorder
 * (pbuf_hooks.h), so the tests see every clean, invalidate and barrier the library issues (and the shared indices
 * at that moment).
 *
 * Failures print an id. Permutation ids are "P/<data_len>/<D>/<H>/<start>/<size>" and random-corruption ids
 * "R/<iteration>"; set AMPL_PBUF_CASE to one id to run only that case.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- hook recorder (pbuf_hooks.h): must come before any amplink header ---- */

#include "pbuf_hooks.h"
#include "rc_check.h"

#include <amplink/errno.h>
#include <amplink/ipc/pbuf.h>

#define MAX_EV 32

struct ev {
	char kind;
	long off; /* from the region base; -1 for a barrier */
	size_t len;
	uint32_t wr_mem, rd_mem; /* the shared indices when the hook ran */
};

static struct {
	atomic_bool on;
	const struct pbuf_cfg *cfg;
	unsigned n;
	struct ev ev[MAX_EV];
} hk;

static uint32_t le32_at(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void put_le32(void *p, uint32_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

void hook_ev(char kind, const volatile void *addr, size_t len)
{
	if (kind == 'B' || kind == 'W' || kind == 'R')
		atomic_thread_fence(memory_order_seq_cst); /* still a real barrier for the stress test */
	if (!atomic_load_explicit(&hk.on, memory_order_relaxed) || hk.n >= MAX_EV)
		return;
	const uint8_t *base = hk.cfg->mem;
	struct ev *e = &hk.ev[hk.n++];
	e->kind = kind;
	e->off = addr ? (long)((const uint8_t *)(const void *)addr - base) : -1;
	e->len = len;
	e->wr_mem = le32_at(base + hk.cfg->wr_idx_off);
	e->rd_mem = le32_at(base);
}

static void hook_start(const struct pbuf_cfg *cfg)
{
	hk.cfg = cfg;
	hk.n = 0;
	atomic_store(&hk.on, true);
}

/* The recorded events as "I0+4 B C36+7 B C32+4". */
static const char *hook_stop(void)
{
	static char s[MAX_EV * 16];
	size_t o = 0;
	atomic_store(&hk.on, false);
	s[0] = 0;
	for (unsigned i = 0; i < hk.n; i++) {
		const struct ev *e = &hk.ev[i];
		if (e->kind == 'B' || e->kind == 'W' || e->kind == 'R')
			o += (size_t)snprintf(s + o, sizeof(s) - o, "%s%c", i ? " " : "", e->kind);
		else
			o += (size_t)snprintf(s + o, sizeof(s) - o, "%s%c%ld+%zu", i ? " " : "", e->kind, e->off, e->len);
	}
	return s;
}

/* ---- helpers ---- */

static const char *only_case(void)
{
	const char *s = getenv("AMPL_PBUF_CASE");
	return s && *s ? s : NULL;
}

/* A region in a heap block of exactly its size (AddressSanitizer sees one byte past it), 64-aligned. */
static uint8_t *region_alloc(size_t size)
{
	void *p = NULL;
	assert_int_equal(posix_memalign(&p, 64, size ? size : 1), 0);
	memset(p, 0, size);
	return p;
}

struct ring {
	uint8_t *mem;
	struct pbuf_cfg cfg;
	struct pbuf tx, rx;
};

static void ring_open(struct ring *r, uint32_t size, uint32_t d, bool h, uint8_t fill)
{
	r->mem = region_alloc(size);
	memset(r->mem, fill, size);
	assert_int_equal(pbuf_cfg_init(&r->cfg, r->mem, size, d, h), 0);
	assert_int_equal(pbuf_tx_init(&r->tx, &r->cfg), 0);
	assert_int_equal(pbuf_rx_init(&r->rx, &r->cfg), 0);
}

static void ring_close(struct ring *r)
{
	free(r->mem);
	r->mem = NULL;
}

static void pattern(uint8_t *buf, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)(seed * 31u + i * 7u + 1u);
}

static void expect_bytes(const char *id, const uint8_t *got, const uint8_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (got[i] != want[i])
			fail_msg("[%s] byte %zu of the region is %02x, expected %02x", id, i, got[i], want[i]);
}

/* ---- layout ---- */

static void test_layout(void **state)
{
	(void)state;
	static const struct {
		uint32_t d;
		bool h;
		uint32_t w, data;
	} rows[] = {
		{ 0, false, 4, 8 },   { 0, true, 8, 12 },   { 4, false, 4, 8 },   { 4, true, 8, 12 },
		{ 8, false, 8, 12 },  { 8, true, 8, 12 },   { 32, false, 32, 36 }, { 32, true, 32, 36 },
		{ 64, false, 64, 68 }, { 64, true, 64, 68 },
	};
	uint8_t *mem = region_alloc(256);
	for (size_t i = 0; i < AMPL_ARRAY_SIZE(rows); i++) {
		char id[32];
		snprintf(id, sizeof(id), "L/%u/%d", rows[i].d, rows[i].h);
		struct pbuf_cfg cfg = { 0 };
		check_rc(id, "pbuf_cfg_init", pbuf_cfg_init(&cfg, mem, 256, rows[i].d, rows[i].h), 0);
		if (cfg.wr_idx_off != rows[i].w || cfg.data_off != rows[i].data || cfg.data_len != 256 - rows[i].data)
			fail_msg("[%s] layout W=%u data=%u len=%u", id, cfg.wr_idx_off, cfg.data_off, cfg.data_len);
		/* The static form gives the same configuration, and the inits accept it. */
		struct pbuf_cfg st = PBUF_CFG_INITIALIZER(mem, 256, rows[i].d, rows[i].h);
		if (st.wr_idx_off != cfg.wr_idx_off || st.data_off != cfg.data_off || st.data_len != cfg.data_len)
			fail_msg("[%s] PBUF_CFG_INITIALIZER differs from pbuf_cfg_init", id);
		struct pbuf pb;
		check_rc(id, "pbuf_rx_init(static cfg)", pbuf_rx_init(&pb, &st), 0);
	}
	free(mem);
}

/* ---- every return code, table-driven ---- */

enum rc_op { OP_CFG, OP_TX_INIT, OP_RX_INIT, OP_WRITE, OP_READ, OP_READ_NULL, OP_HS_READ, OP_HS_WRITE };
enum rc_obj {
	OBJ_OK,
	OBJ_NULL,     /* NULL object (or NULL cfg for OP_CFG) */
	OBJ_NULL_ARG, /* NULL second argument: mem, cfg, data, or value */
	OBJ_ZERO,     /* a pbuf never initialised */
	OBJ_OTHER,    /* the other role: the reader for a write, the writer for a read */
	OBJ_BADCFG,   /* a hand-filled configuration whose data_len does not match */
};

struct rc_case {
	const char *id;
	const char *what;
	uint32_t size, d;
	bool h;
	uint32_t mis;       /* OP_CFG: offset added to the 64-aligned base */
	uint16_t fill[3];   /* packets written first (0 ends the list) */
	int consume;        /* 1: the first packet is read back before the others are written */
	int poke_off;       /* -1: none; else a region offset where 4 bytes are overwritten as a peer would */
	uint8_t poke[4];
	enum rc_op op;
	enum rc_obj obj;
	int arg;            /* write: length; read: buffer length */
	int want;
};

#define NOPOKE -1, { 0 }
/* Region of 64 bytes with D = 0, H = 0: rd_idx @0, wr_idx @4, data @8, data_len 56, largest payload 48. */
static const struct rc_case rc_cases[] = {
	/* pbuf_cfg_init */
	{ "C01", "NULL cfg", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_CFG, OBJ_NULL, 0, -EINVAL },
	{ "C02", "NULL mem", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_CFG, OBJ_NULL_ARG, 0, -EINVAL },
	{ "C03", "D = 2", 64, 2, 0, 0, { 0 }, 0, NOPOKE, OP_CFG, OBJ_OK, 0, -EINVAL },
	{ "C04", "D = 3", 64, 3, 0, 0, { 0 }, 0, NOPOKE, OP_CFG, OBJ_OK, 0, -EINVAL },
	{ "C05", "D = 12, not a power of two", 64, 12, 0, 0, { 0 }, 0, NOPOKE, OP_CFG, OBJ_OK, 0, -EINVAL },
	{ "C06", "D = 32, mem 4-aligned only", 128, 32, 0, 4, { 0 }, 0, NOPOKE, OP_CFG, OBJ_OK, 0, -EINVAL },
	{ "C07", "D = 0, mem 2-aligned only", 64, 0, 0, 2, { 0 }, 0, NOPOKE, OP_CFG, OBJ_OK, 0, -EINVAL },
	{ "C08", "D = 64, mem 32-aligned only", 256, 64, 0, 32, { 0 }, 0, NOPOKE, OP_CFG, OBJ_OK, 0, -EINVAL },
	{ "C09", "D = 32, mem 32-aligned", 128, 32, 0, 32, { 0 }, 0, NOPOKE, OP_CFG, OBJ_OK, 0, 0 },
	{ "C10", "size not a multiple of 4", 62, 0, 0, 0, { 0 }, 0, NOPOKE, OP_CFG, OBJ_OK, 0, -EINVAL },
	{ "C11", "data_len 8 (D0 H0, size 16)", 16, 0, 0, 0, { 0 }, 0, NOPOKE, OP_CFG, OBJ_OK, 0, -EINVAL },
	{ "C12", "data_len 12 (D0 H0, size 20)", 20, 0, 0, 0, { 0 }, 0, NOPOKE, OP_CFG, OBJ_OK, 0, 0 },
	{ "C13", "data_len 8 (D0 H1, size 20)", 20, 0, 1, 0, { 0 }, 0, NOPOKE, OP_CFG, OBJ_OK, 0, -EINVAL },
	{ "C14", "data_len 12 (D0 H1, size 24)", 24, 0, 1, 0, { 0 }, 0, NOPOKE, OP_CFG, OBJ_OK, 0, 0 },
	{ "C15", "data_len 8 (D32, size 44)", 44, 32, 0, 0, { 0 }, 0, NOPOKE, OP_CFG, OBJ_OK, 0, -EINVAL },
	{ "C16", "data_len 12 (D32, size 48)", 48, 32, 1, 0, { 0 }, 0, NOPOKE, OP_CFG, OBJ_OK, 0, 0 },
	{ "C17", "D = 4", 20, 4, 0, 0, { 0 }, 0, NOPOKE, OP_CFG, OBJ_OK, 0, 0 },
	{ "C18", "size 2 GiB", 0x80000000u, 0, 0, 0, { 0 }, 0, NOPOKE, OP_CFG, OBJ_OK, 0, -EINVAL },
	/* pbuf_tx_init / pbuf_rx_init */
	{ "I01", "tx_init NULL pbuf", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_TX_INIT, OBJ_NULL, 0, -EINVAL },
	{ "I02", "tx_init NULL cfg", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_TX_INIT, OBJ_NULL_ARG, 0, -EINVAL },
	{ "I03", "tx_init inconsistent cfg", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_TX_INIT, OBJ_BADCFG, 0, -EINVAL },
	{ "I04", "tx_init", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_TX_INIT, OBJ_OK, 0, 0 },
	{ "I05", "rx_init NULL pbuf", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_RX_INIT, OBJ_NULL, 0, -EINVAL },
	{ "I06", "rx_init NULL cfg", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_RX_INIT, OBJ_NULL_ARG, 0, -EINVAL },
	{ "I07", "rx_init inconsistent cfg", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_RX_INIT, OBJ_BADCFG, 0, -EINVAL },
	{ "I08", "rx_init", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_RX_INIT, OBJ_OK, 0, 0 },
	/* pbuf_write */
	{ "W01", "NULL pbuf", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_WRITE, OBJ_NULL, 3, -EINVAL },
	{ "W02", "NULL data", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_WRITE, OBJ_NULL_ARG, 3, -EINVAL },
	{ "W03", "len 0", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_WRITE, OBJ_OK, 0, -EINVAL },
	{ "W04", "not initialised", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_WRITE, OBJ_ZERO, 3, -EINVAL },
	{ "W05", "on the reader", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_WRITE, OBJ_OTHER, 3, -EINVAL },
	/* The writer loads rd_idx when its last view of it leaves no room: a full ring ({ 48 }) makes it load. */
	{ "W06", "rd_idx 2: unaligned", 64, 0, 0, 0, { 48 }, 0, 0, { 2, 0, 0, 0 }, OP_WRITE, OBJ_OK, 1, -EINVAL },
	{ "W07", "rd_idx 56 = data_len", 64, 0, 0, 0, { 48 }, 0, 0, { 56, 0, 0, 0 }, OP_WRITE, OBJ_OK, 1, -EINVAL },
	{ "W08", "rd_idx 0xfffffffc", 64, 0, 0, 0, { 48 }, 0, 0, { 0xfc, 0xff, 0xff, 0xff }, OP_WRITE, OBJ_OK, 1,
	  -EINVAL },
	{ "W09", "rd_idx 0x80000000", 64, 0, 0, 0, { 48 }, 0, 0, { 0, 0, 0, 0x80 }, OP_WRITE, OBJ_OK, 1, -EINVAL },
	{ "W20", "rd_idx 2 not loaded: the last view leaves room", 64, 0, 0, 0, { 0 }, 0, 0, { 2, 0, 0, 0 },
	  OP_WRITE, OBJ_OK, 3, 3 },
	{ "W10", "len 3", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_WRITE, OBJ_OK, 3, 3 },
	{ "W11", "len 48: exactly the free space less the header", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_WRITE, OBJ_OK,
	  48, 48 },
	{ "W12", "len 49 on an empty ring", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_WRITE, OBJ_OK, 49, -ENOMEM },
	{ "W13", "len 65535", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_WRITE, OBJ_OK, 65535, -ENOMEM },
	{ "W14", "full ring, len 1", 64, 0, 0, 0, { 48 }, 0, NOPOKE, OP_WRITE, OBJ_OK, 1, -ENOMEM },
	{ "W15", "24 bytes in use, len 24 fits", 64, 0, 0, 0, { 20 }, 0, NOPOKE, OP_WRITE, OBJ_OK, 24, 24 },
	{ "W16", "24 bytes in use, len 25", 64, 0, 0, 0, { 20 }, 0, NOPOKE, OP_WRITE, OBJ_OK, 25, -ENOMEM },
	{ "W17", "after a wrap, free again", 64, 0, 0, 0, { 40, 4 }, 1, NOPOKE, OP_WRITE, OBJ_OK, 32, 32 },
	{ "W18", "full; valid rd_idx 48 written by the reader", 64, 0, 0, 0, { 48 }, 0, 0, { 48, 0, 0, 0 },
	  OP_WRITE, OBJ_OK, 44, 44 },
	{ "W19", "full; valid rd_idx 48, len 45", 64, 0, 0, 0, { 48 }, 0, 0, { 48, 0, 0, 0 }, OP_WRITE, OBJ_OK, 45,
	  -ENOMEM },
	/* pbuf_read */
	{ "R01", "NULL pbuf", 64, 0, 0, 0, { 3 }, 0, NOPOKE, OP_READ, OBJ_NULL, 64, -EINVAL },
	{ "R02", "on the writer", 64, 0, 0, 0, { 3 }, 0, NOPOKE, OP_READ, OBJ_OTHER, 64, -EINVAL },
	{ "R03", "not initialised", 64, 0, 0, 0, { 3 }, 0, NOPOKE, OP_READ, OBJ_ZERO, 64, -EINVAL },
	{ "R04", "empty", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_READ, OBJ_OK, 64, 0 },
	{ "R05", "empty, NULL buffer", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_READ_NULL, OBJ_OK, 0, 0 },
	{ "R06", "NULL buffer: the length", 64, 0, 0, 0, { 3 }, 0, NOPOKE, OP_READ_NULL, OBJ_OK, 0, 3 },
	{ "R07", "buffer 2 for 3", 64, 0, 0, 0, { 3 }, 0, NOPOKE, OP_READ, OBJ_OK, 2, -ENOMEM },
	{ "R08", "buffer 0 for 3", 64, 0, 0, 0, { 3 }, 0, NOPOKE, OP_READ, OBJ_OK, 0, -ENOMEM },
	{ "R09", "buffer 3 for 3", 64, 0, 0, 0, { 3 }, 0, NOPOKE, OP_READ, OBJ_OK, 3, 3 },
	{ "R10", "largest packet", 64, 0, 0, 0, { 48 }, 0, NOPOKE, OP_READ, OBJ_OK, 48, 48 },
	{ "R11", "wrapped packet", 64, 0, 0, 0, { 40, 30 }, 1, NOPOKE, OP_READ, OBJ_OK, 64, 30 },
	{ "R12", "wr_idx 6: unaligned", 64, 0, 0, 0, { 3 }, 0, 4, { 6, 0, 0, 0 }, OP_READ, OBJ_OK, 64, -EINVAL },
	{ "R13", "wr_idx 56 = data_len", 64, 0, 0, 0, { 3 }, 0, 4, { 56, 0, 0, 0 }, OP_READ, OBJ_OK, 64, -EINVAL },
	{ "R14", "wr_idx 0x80000000", 64, 0, 0, 0, { 3 }, 0, 4, { 0, 0, 0, 0x80 }, OP_READ, OBJ_OK, 64, -EINVAL },
	{ "R15", "wr_idx unaligned, NULL buffer", 64, 0, 0, 0, { 3 }, 0, 4, { 5, 0, 0, 0 }, OP_READ_NULL, OBJ_OK, 0,
	  -EINVAL },
	{ "R16", "header length 0", 64, 0, 0, 0, { 3 }, 0, 8, { 0, 0, 0, 0 }, OP_READ, OBJ_OK, 64, -EBADMSG },
	{ "R17", "header length 49 > 48", 64, 0, 0, 0, { 3 }, 0, 8, { 0, 49, 0, 0 }, OP_READ, OBJ_OK, 64, -EBADMSG },
	{ "R18", "header length 0xffff", 64, 0, 0, 0, { 3 }, 0, 8, { 0xff, 0xff, 0, 0 }, OP_READ, OBJ_OK, 64,
	  -EBADMSG },
	{ "R19", "header length 0xffff, NULL buffer", 64, 0, 0, 0, { 3 }, 0, 8, { 0xff, 0xff, 0, 0 }, OP_READ_NULL,
	  OBJ_OK, 0, -EBADMSG },
	{ "R20", "header length 20, 8 bytes published", 64, 0, 0, 0, { 3 }, 0, 8, { 0, 20, 0, 0 }, OP_READ, OBJ_OK,
	  64, -EAGAIN },
	{ "R21", "header length 48, 8 bytes published, NULL buffer", 64, 0, 0, 0, { 3 }, 0, 8, { 0, 48, 0, 0 },
	  OP_READ_NULL, OBJ_OK, 0, -EAGAIN },
	{ "R22", "wr_idx 4: a header and no payload", 64, 0, 0, 0, { 3 }, 0, 4, { 4, 0, 0, 0 }, OP_READ, OBJ_OK, 64,
	  -EAGAIN },
	{ "R23", "-EAGAIN before -ENOMEM", 64, 0, 0, 0, { 3 }, 0, 8, { 0, 20, 0, 0 }, OP_READ, OBJ_OK, 1, -EAGAIN },
	{ "R24", "reserved bytes ignored", 64, 0, 0, 0, { 3 }, 0, 8, { 0, 3, 0xab, 0xcd }, OP_READ, OBJ_OK, 64, 3 },
	/* pbuf_handshake_read / pbuf_handshake_write */
	{ "H01", "read: NULL pbuf", 64, 0, 1, 0, { 0 }, 0, NOPOKE, OP_HS_READ, OBJ_NULL, 0, -EINVAL },
	{ "H02", "read: NULL value", 64, 0, 1, 0, { 0 }, 0, NOPOKE, OP_HS_READ, OBJ_NULL_ARG, 0, -EINVAL },
	{ "H03", "read: not initialised", 64, 0, 1, 0, { 0 }, 0, NOPOKE, OP_HS_READ, OBJ_ZERO, 0, -EINVAL },
	{ "H04", "read: no handshake word", 64, 0, 0, 0, { 0 }, 0, NOPOKE, OP_HS_READ, OBJ_OK, 0, -ENOTSUP },
	{ "H05", "read", 64, 0, 1, 0, { 0 }, 0, NOPOKE, OP_HS_READ, OBJ_OK, 0, 0 },
	{ "H06", "read on the reader", 64, 0, 1, 0, { 0 }, 0, NOPOKE, OP_HS_READ, OBJ_OTHER, 0, 0 },
	{ "H07", "write: NULL pbuf", 64, 0, 1, 0, { 0 }, 0, NOPOKE, OP_HS_WRITE, OBJ_NULL, 0, -EINVAL },
	{ "H08", "write: not initialised", 64, 0, 1, 0, { 0 }, 0, NOPOKE, OP_HS_WRITE, OBJ_ZERO, 0, -EINVAL },
	{ "H09", "write: no handshake word", 64, 32, 0, 0, { 0 }, 0, NOPOKE, OP_HS_WRITE, OBJ_OK, 0, -ENOTSUP },
	{ "H10", "write", 64, 32, 1, 0, { 0 }, 0, NOPOKE, OP_HS_WRITE, OBJ_OK, 0x00020001, 0 },
};

static void run_rc_case(const struct rc_case *c)
{
	size_t alloc = c->size <= 65536 ? c->size + c->mis : 64;
	uint8_t *mem = region_alloc(alloc);
	uint8_t src[65535], dst[256];
	pattern(src, sizeof(src), 7);
	int rc;

	if (c->op == OP_CFG) {
		struct pbuf_cfg cfg;
		rc = pbuf_cfg_init(c->obj == OBJ_NULL ? NULL : &cfg, c->obj == OBJ_NULL_ARG ? NULL : mem + c->mis,
				   c->size, c->d, c->h);
		check_rc(c->id, c->what, rc, c->want);
		free(mem);
		return;
	}

	struct ring r = { .mem = mem };
	check_rc(c->id, "pbuf_cfg_init", pbuf_cfg_init(&r.cfg, mem, c->size, c->d, c->h), 0);
	check_rc(c->id, "pbuf_tx_init", pbuf_tx_init(&r.tx, &r.cfg), 0);
	check_rc(c->id, "pbuf_rx_init", pbuf_rx_init(&r.rx, &r.cfg), 0);
	for (int i = 0; i < 3 && c->fill[i]; i++) {
		check_rc(c->id, "fill", pbuf_write(&r.tx, src, c->fill[i]), c->fill[i]);
		if (i == 0 && c->consume)
			check_rc(c->id, "consume", pbuf_read(&r.rx, dst, sizeof(dst)), c->fill[0]);
	}
	if (c->poke_off >= 0)
		memcpy(mem + c->poke_off, c->poke, 4);

	struct pbuf zero;
	memset(&zero, 0, sizeof(zero));
	struct pbuf_cfg bad = r.cfg;
	bad.data_len += 4;
	struct pbuf *writer = c->obj == OBJ_NULL ? NULL : c->obj == OBJ_ZERO ? &zero : c->obj == OBJ_OTHER ? &r.rx : &r.tx;
	struct pbuf *reader = c->obj == OBJ_NULL ? NULL : c->obj == OBJ_ZERO ? &zero : c->obj == OBJ_OTHER ? &r.tx : &r.rx;
	const struct pbuf_cfg *cfgp = c->obj == OBJ_NULL_ARG ? NULL : c->obj == OBJ_BADCFG ? &bad : &r.cfg;
	struct pbuf fresh;

	uint8_t *before = malloc(c->size);
	memcpy(before, mem, c->size);
	struct pbuf tx0 = r.tx, rx0 = r.rx;
	uint32_t hs = 0;

	switch (c->op) {
	case OP_TX_INIT:
		rc = pbuf_tx_init(c->obj == OBJ_NULL ? NULL : &fresh, cfgp);
		break;
	case OP_RX_INIT:
		rc = pbuf_rx_init(c->obj == OBJ_NULL ? NULL : &fresh, cfgp);
		break;
	case OP_WRITE:
		rc = pbuf_write(writer, c->obj == OBJ_NULL_ARG ? NULL : src, (uint16_t)c->arg);
		break;
	case OP_READ: {
		/* A buffer of exactly c->arg bytes, so that AddressSanitizer sees any overrun. */
		uint8_t *b = malloc(c->arg ? (size_t)c->arg : 1);
		rc = pbuf_read(reader, b, (uint16_t)c->arg);
		if (rc > 0 && rc <= c->arg && c->poke_off < 0) {
			uint8_t want[65535];
			pattern(want, sizeof(want), 7);
			if (memcmp(b, want, (size_t)rc) != 0)
				fail_msg("[%s] payload differs", c->id);
		}
		free(b);
		break;
	}
	case OP_READ_NULL:
		rc = pbuf_read(reader, NULL, 0);
		break;
	case OP_HS_READ:
		rc = pbuf_handshake_read(writer, c->obj == OBJ_NULL_ARG ? NULL : &hs);
		break;
	case OP_HS_WRITE:
		rc = pbuf_handshake_write(writer, (uint32_t)c->arg);
		break;
	default:
		rc = 1;
	}
	check_rc(c->id, c->what, rc, c->want);

	/* An error changes nothing: not shared memory, not the local indices (the packet stays). */
	if (rc < 0 || (rc == 0 && (c->op == OP_READ || c->op == OP_READ_NULL))) {
		if (memcmp(before, mem, c->size) != 0)
			fail_msg("[%s] shared memory changed by a call that returned %d", c->id, rc);
		if (tx0.wr_idx != r.tx.wr_idx || rx0.rd_idx != r.rx.rd_idx)
			fail_msg("[%s] local index changed by a call that returned %d", c->id, rc);
	}
	if (c->op == OP_HS_WRITE && rc == 0 && le32_at(mem + PBUF_HANDSHAKE_OFF) != (uint32_t)c->arg)
		fail_msg("[%s] handshake word not stored little-endian at offset 4", c->id);
	free(before);
	free(mem);
}

static void test_retcodes(void **state)
{
	(void)state;
	for (size_t i = 0; i < AMPL_ARRAY_SIZE(rc_cases); i++)
		run_rc_case(&rc_cases[i]);
	print_message("      %zu return-code cases\n", AMPL_ARRAY_SIZE(rc_cases));
}

/*
 * pbuf_tx_start() / pbuf_rx_start(): a layout that pbuf_cfg_init() filled in place works as pbuf_tx_init() /
 * pbuf_rx_init() with it; whatever the objects held before (role, hold, indices) is replaced, and the writer resets
 * both shared indices.
 */
static void test_start_in_place(void **state)
{
	(void)state;
	_Alignas(8) uint8_t mem[64];
	memset(mem, 0xEE, sizeof(mem));
	struct pbuf tx, rx;
	memset(&tx, 0x5A, sizeof(tx));
	memset(&rx, 0x5A, sizeof(rx));
	assert_int_equal(pbuf_cfg_init(&tx.cfg, mem, sizeof(mem), 0, false), 0);
	assert_int_equal(pbuf_cfg_init(&rx.cfg, mem, sizeof(mem), 0, false), 0);
	pbuf_tx_start(&tx);
	pbuf_rx_start(&rx);
	assert_int_equal(le32_at(mem), 0);     /* rd_idx */
	assert_int_equal(le32_at(mem + 4), 0); /* wr_idx */
	check_rc("start", "write", pbuf_write(&tx, "abc", 3), 3);
	expect_bytes("start", mem + 4, (const uint8_t *)"\x08\x00\x00\x00\x00\x03\x00\x00" "abc", 11);
	char buf[8];
	check_rc("start", "read", pbuf_read(&rx, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "abc", 3);
	check_rc("start", "read empty", pbuf_read(&rx, buf, sizeof(buf)), 0);
	assert_int_equal(le32_at(mem), 8); /* the reader gave the packet back: not held */
	check_rc("start", "reader cannot write", pbuf_write(&rx, "x", 1), -EINVAL);
	check_rc("start", "writer cannot read", pbuf_read(&tx, buf, sizeof(buf)), -EINVAL);
}

/* ---- the wire, byte by byte against hand-computed images ---- */

static void test_wire_abc(void **state)
{
	(void)state;
	struct ring r;

	/* D = 0: rd_idx @0 = 0, wr_idx @4 = 8, data @8: 00 03 00 00 'a' 'b' 'c' 00 */
	static const uint8_t d0[16] = { 0, 0, 0, 0, 8, 0, 0, 0, 0x00, 0x03, 0x00, 0x00, 0x61, 0x62, 0x63, 0x00 };
	ring_open(&r, 64, 0, false, 0);
	check_rc("abc/D0", "write", pbuf_write(&r.tx, "abc", 3), 3);
	expect_bytes("abc/D0", r.mem, d0, sizeof(d0));
	for (size_t i = sizeof(d0); i < 64; i++)
		if (r.mem[i])
			fail_msg("[abc/D0] byte %zu written", i);
	ring_close(&r);

	/* D = 32: wr_idx @32 = 8, data @36. */
	ring_open(&r, 64, 32, false, 0);
	check_rc("abc/D32", "write", pbuf_write(&r.tx, "abc", 3), 3);
	uint8_t d32[64] = { 0 };
	d32[32] = 8;
	memcpy(d32 + 36, "\x00\x03\x00\x00" "abc", 7);
	expect_bytes("abc/D32", r.mem, d32, sizeof(d32));
	ring_close(&r);

	/* D = 0, H = 1: handshake @4 untouched, wr_idx @8 = 8, data @12. */
	ring_open(&r, 64, 0, true, 0);
	check_rc("abc/D0H1", "write", pbuf_write(&r.tx, "abc", 3), 3);
	uint8_t h1[64] = { 0 };
	h1[8] = 8;
	memcpy(h1 + 12, "\x00\x03\x00\x00" "abc", 7);
	expect_bytes("abc/D0H1", r.mem, h1, sizeof(h1));

	/* The reader stores rd_idx = 8 at offset 0 and nothing else. */
	char buf[8];
	check_rc("abc/D0H1", "read", pbuf_read(&r.rx, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "abc", 3);
	h1[0] = 8;
	expect_bytes("abc/D0H1 read", r.mem, h1, sizeof(h1));
	ring_close(&r);

	/* D = 32, H = 1 (Zephyr session mode on a cached core): handshake @4, wr_idx @32, data @36. */
	ring_open(&r, 128, 32, true, 0);
	check_rc("abc/D32H1", "handshake", pbuf_handshake_write(&r.rx, 0x00020001), 0);
	check_rc("abc/D32H1", "write", pbuf_write(&r.tx, "abc", 3), 3);
	uint8_t h32[128] = { 0 };
	memcpy(h32 + 4, "\x01\x00\x02\x00", 4);
	h32[32] = 8;
	memcpy(h32 + 36, "\x00\x03\x00\x00" "abc", 7);
	expect_bytes("abc/D32H1", r.mem, h32, sizeof(h32));
	ring_close(&r);

	/* A 300-byte payload: the length is big-endian (01 2c). */
	ring_open(&r, 512, 0, false, 0);
	uint8_t big[300];
	pattern(big, sizeof(big), 3);
	check_rc("be16", "write", pbuf_write(&r.tx, big, sizeof(big)), 300);
	static const uint8_t be[8] = { 0x30, 0x01, 0, 0, 0x01, 0x2c, 0x00, 0x00 }; /* wr_idx 304, header */
	expect_bytes("be16", r.mem + 4, be, sizeof(be));
	ring_close(&r);
}

static void test_wire_wrap(void **state)
{
	(void)state;
	struct ring r;
	char buf[32];

	/* 32 bytes, D = 0: data @8, data_len 24. "0123456789" at 0, read; "ABCDEFGHI" at 16 wraps after "ABCD". */
	ring_open(&r, 32, 0, false, 0);
	check_rc("wrap", "write 1", pbuf_write(&r.tx, "0123456789", 10), 10);
	check_rc("wrap", "read 1", pbuf_read(&r.rx, buf, sizeof(buf)), 10);
	check_rc("wrap", "write 2", pbuf_write(&r.tx, "ABCDEFGHI", 9), 9);
	static const uint8_t img[32] = {
		0x10, 0x00, 0x00, 0x00,                         /* rd_idx 16 */
		0x08, 0x00, 0x00, 0x00,                         /* wr_idx 8 = ROUND_UP(20 + 9 - 24, 4) */
		'E',  'F',  'G',  'H',  'I', '1', '2', '3',     /* data[0..4]: the wrapped part; then old bytes */
		'4',  '5',  '6',  '7',  '8', '9', 0x00, 0x00,   /* data[8..15]: old payload, never-written padding */
		0x00, 0x09, 0x00, 0x00, 'A', 'B', 'C', 'D',     /* data[16..23]: header, first 4 payload bytes */
	};
	expect_bytes("wrap", r.mem, img, sizeof(img));
	check_rc("wrap", "read NULL", pbuf_read(&r.rx, NULL, 0), 9);
	check_rc("wrap", "read 2", pbuf_read(&r.rx, buf, sizeof(buf)), 9);
	assert_memory_equal(buf, "ABCDEFGHI", 9);
	assert_int_equal(le32_at(r.mem), 8);
	check_rc("wrap", "empty", pbuf_read(&r.rx, buf, sizeof(buf)), 0);
	ring_close(&r);

	/* The header ends exactly at the end of data[]: the payload starts at data[0]. */
	ring_open(&r, 32, 0, false, 0);
	check_rc("hdr-end", "write 1", pbuf_write(&r.tx, "abcdefghijklmnop", 16), 16);
	check_rc("hdr-end", "read 1", pbuf_read(&r.rx, buf, sizeof(buf)), 16);
	check_rc("hdr-end", "write 2", pbuf_write(&r.tx, "xyz", 3), 3);
	static const uint8_t img2[32] = {
		0x14, 0x00, 0x00, 0x00,                                 /* rd_idx 20 */
		0x04, 0x00, 0x00, 0x00,                                 /* wr_idx 4 */
		'x',  'y',  'z',  0x00, 'a', 'b', 'c', 'd',             /* data[0..2] new payload, [3] old header */
		'e',  'f',  'g',  'h',  'i', 'j', 'k', 'l',
		'm',  'n',  'o',  'p',  0x00, 0x03, 0x00, 0x00,         /* data[20..23]: the header */
	};
	expect_bytes("hdr-end", r.mem, img2, sizeof(img2));
	check_rc("hdr-end", "read 2", pbuf_read(&r.rx, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "xyz", 3);
	ring_close(&r);
}

/* Payload lengths 1..8 move wr_idx by 8, 8, 8, 8, 12, 12, 12, 12; padding bytes are never written. */
static void test_padding(void **state)
{
	(void)state;
	struct ring r;
	ring_open(&r, 256, 0, false, 0xee);
	uint32_t wr = 0;
	for (uint16_t len = 1; len <= 8; len++) {
		uint8_t p[8];
		memset(p, (int)len, sizeof(p));
		check_rc("pad", "write", pbuf_write(&r.tx, p, len), len);
		uint32_t next = wr + 4 + ((len + 3u) & ~3u);
		assert_int_equal(le32_at(r.mem + 4), next);
		for (uint32_t i = wr + 4 + len; i < next; i++)
			if (r.mem[8 + i] != 0xee)
				fail_msg("[pad/%u] padding byte data[%u] written", len, i);
		wr = next;
	}
	for (uint16_t len = 1; len <= 8; len++) {
		uint8_t b[8];
		check_rc("pad", "read", pbuf_read(&r.rx, b, sizeof(b)), len);
		for (unsigned i = 0; i < len; i++)
			assert_int_equal(b[i], len);
	}
	ring_close(&r);
}

/* ---- permutations against an independent model of the image ---- */

/* The reader gives space back (stores rd_idx) once per batch: see pbuf_read(). @view: the wr_idx it loaded last;
 * @pub: the rd_idx it stored last, all the writer can see. */
struct model {
	uint8_t *img;
	uint32_t size, w, doff, blen, wr, rd, view, pub;
};

static void model_reset(struct model *m)
{
	m->wr = m->rd = m->view = m->pub = 0;
	put_le32(m->img, 0);
	put_le32(m->img + m->w, 0);
}

static uint32_t model_used(const struct model *m)
{
	return (m->wr + m->blen - m->pub) % m->blen;
}

static bool model_fits(const struct model *m, uint32_t len)
{
	return 4 + len + model_used(m) + 4 <= m->blen;
}

static void model_write(struct model *m, const uint8_t *p, uint32_t len)
{
	uint8_t *d = m->img + m->doff;
	d[m->wr] = (uint8_t)(len >> 8);
	d[m->wr + 1] = (uint8_t)len;
	d[m->wr + 2] = 0;
	d[m->wr + 3] = 0;
	for (uint32_t i = 0; i < len; i++)
		d[(m->wr + 4 + i) % m->blen] = p[i];
	m->wr = (m->wr + 4 + len + 3) / 4 * 4 % m->blen;
	put_le32(m->img + m->w, m->wr);
}

static void model_publish(struct model *m)
{
	m->pub = m->rd;
	put_le32(m->img, m->rd);
}

static void model_read(struct model *m, uint32_t len)
{
	if (m->rd == m->view)
		m->view = m->wr;
	m->rd = (m->rd + 4 + len + 3) / 4 * 4 % m->blen;
	if (m->rd == m->view || (m->rd + m->blen - m->pub) % m->blen >= m->blen / 2)
		model_publish(m);
}

static void perm_compare(const char *id, const char *step, const struct model *m, const uint8_t *mem)
{
	if (memcmp(mem, m->img, m->size) == 0)
		return;
	for (uint32_t i = 0; i < m->size; i++)
		if (mem[i] != m->img[i])
			fail_msg("[%s] %s: region byte %u is %02x, the model says %02x", id, step, i, mem[i], m->img[i]);
}

static bool perm_write(const char *id, struct ring *r, struct model *m, const uint8_t *p, uint32_t len)
{
	bool fits = model_fits(m, len);
	int rc = pbuf_write(&r->tx, p, (uint16_t)len);
	check_rc(id, "write", rc, fits ? (int)len : -ENOMEM);
	if (fits)
		model_write(m, p, len);
	perm_compare(id, "after write", m, r->mem);
	return fits;
}

static void perm_read(const char *id, struct ring *r, struct model *m, const uint8_t *p, uint32_t len)
{
	uint8_t buf[PBUF_MAX_PAYLOAD(256)];
	check_rc(id, "read NULL", pbuf_read(&r->rx, NULL, 0), (int)len);
	if (len > 1) {
		check_rc(id, "read short", pbuf_read(&r->rx, buf, (uint16_t)(len - 1)), -ENOMEM);
		model_publish(m); /* an error return gives back what was read before */
	}
	check_rc(id, "read", pbuf_read(&r->rx, buf, (uint16_t)len), (int)len);
	if (memcmp(buf, p, len) != 0)
		fail_msg("[%s] payload read back differs", id);
	model_read(m, len);
	perm_compare(id, "after read", m, r->mem);
}

/* pbuf_skip(): the packet consumed exactly as a read consumes it, without a copy. */
static void perm_skip(const char *id, struct ring *r, struct model *m, uint32_t len)
{
	check_rc(id, "skip", pbuf_skip(&r->rx), (int)len);
	model_read(m, len);
	perm_compare(id, "after skip", m, r->mem);
}

static void test_permutations(void **state)
{
	(void)state;
	static const uint32_t lens[] = { 12, 16, 20, 28, 60, 124, 252 };
	static const uint32_t ds[] = { 0, 32, 64 };
	const char *only = only_case();
	unsigned long cases = 0;
	uint8_t src[256], pay[256];
	pattern(src, sizeof(src), 11);

	for (size_t li = 0; li < AMPL_ARRAY_SIZE(lens); li++)
		for (size_t di = 0; di < AMPL_ARRAY_SIZE(ds); di++)
			for (int h = 0; h <= 1; h++) {
				uint32_t blen = lens[li], d = ds[di];
				uint32_t size = PBUF_REGION_SIZE(d, h, blen);
				struct ring r;
				ring_open(&r, size, d, h, 0x5a);
				struct model m = { .img = malloc(size), .size = size, .w = r.cfg.wr_idx_off,
						   .doff = r.cfg.data_off, .blen = blen };
				memcpy(m.img, r.mem, size);
				for (uint32_t start = 0; start < blen; start += 4)
					for (uint32_t len = 1; len <= PBUF_MAX_PAYLOAD(blen); len++) {
						char id[64];
						snprintf(id, sizeof(id), "P/%u/%u/%d/%u/%u", blen, d, h, start, len);
						if (only && strcmp(only, id) != 0)
							continue;
						cases++;
						/* Restart the ring (the data bytes stay), then move both indices to start. */
						check_rc(id, "tx_init", pbuf_tx_init(&r.tx, &r.cfg), 0);
						check_rc(id, "rx_init", pbuf_rx_init(&r.rx, &r.cfg), 0);
						model_reset(&m);
						perm_compare(id, "after init", &m, r.mem);
						while (m.wr != start) {
							uint32_t step = (start + blen - m.wr) % blen;
							uint32_t f = step >= 8 ? step - 4 : PBUF_MAX_PAYLOAD(blen);
							perm_write(id, &r, &m, src, f);
							perm_read(id, &r, &m, src, f);
						}
						/* Fill with packets of len until the model says it is full; the ring
						 * must agree on every attempt, then give them all back in order. */
						unsigned n = 0;
						while (model_fits(&m, len)) {
							pattern(pay, len, n);
							perm_write(id, &r, &m, pay, len);
							n++;
						}
						perm_write(id, &r, &m, pay, len); /* -ENOMEM */
						/* A 1-byte packet takes what is left, if the model says it fits. */
						uint8_t one = 0xa5;
						bool extra = len > 1 && perm_write(id, &r, &m, &one, 1);
						for (unsigned k = 0; k < n; k++) {
							pattern(pay, len, k);
							if (k % 3 == 1)
								perm_skip(id, &r, &m, len);
							else
								perm_read(id, &r, &m, pay, len);
						}
						if (extra)
							perm_read(id, &r, &m, &one, 1);
						check_rc(id, "empty", pbuf_read(&r.rx, pay, sizeof(pay)), 0);
						check_rc(id, "skip empty", pbuf_skip(&r.rx), 0);
					}
				free(m.img);
				ring_close(&r);
			}
	print_message("      %lu permutations (data_len x D x H x start x size)\n", cases);
	if (!only)
		assert_true(cases > 10000);
}

/* ---- cache-maintenance points ---- */

static void expect_events(const char *id, const char *want)
{
	const char *got = hook_stop();
	if (strcmp(got, want) != 0)
		fail_msg("[%s] hooks: \"%s\", expected \"%s\"", id, got, want);
}

static void test_cache_hooks(void **state)
{
	(void)state;
	struct ring r;
	uint8_t buf[128], src[128];
	pattern(src, sizeof(src), 1);

	/* 128 bytes, D = 32: rd_idx @0, wr_idx @32, data @36, data_len 92. */
	ring_open(&r, 128, 32, false, 0);
	hook_start(&r.cfg);
	check_rc("K/tx_init", "tx_init", pbuf_tx_init(&r.tx, &r.cfg), 0);
	expect_events("K/tx_init", "B C32+4 C0+4");
	hook_start(&r.cfg);
	check_rc("K/rx_init", "rx_init", pbuf_rx_init(&r.rx, &r.cfg), 0);
	expect_events("K/rx_init", "");

	/* Writer (its last view of rd_idx leaves room: not loaded): clean header+payload, store barrier, store
	 * wr_idx, clean wr_idx. */
	hook_start(&r.cfg);
	check_rc("K/write", "write", pbuf_write(&r.tx, src, 3), 3);
	expect_events("K/write", "C36+7 W C32+4");
	if (hk.ev[1].wr_mem != 0 || hk.ev[2].wr_mem != 8)
		fail_msg("[K/write] wr_idx published before the barrier or after its clean (%u, %u)", hk.ev[1].wr_mem,
			 hk.ev[2].wr_mem);

	/* Doorbell check: a full barrier (store-load: our wr_idx store before the load), invalidate rd_idx, load it
	 * once; the reader is at 0: it may have stopped before the packet. */
	hook_start(&r.cfg);
	assert_true(pbuf_doorbell_needed(&r.tx, 0));
	expect_events("K/doorbell", "B I0+4");
	/* Behind (a packet before 0..4 not consumed): the same single load decides. */
	hook_start(&r.cfg);
	assert_false(pbuf_doorbell_needed(&r.tx, 4));
	expect_events("K/doorbell-behind", "B I0+4");
	assert_true(pbuf_doorbell_needed(NULL, 0));

	/* Reader query (all it saw is consumed): invalidate wr_idx, barrier, invalidate the header; nothing stored. */
	hook_start(&r.cfg);
	check_rc("K/read-null", "read", pbuf_read(&r.rx, NULL, 0), 3);
	expect_events("K/read-null", "I32+4 B I36+4");
	/* A packet below the wr_idx seen: only its header is fetched. */
	hook_start(&r.cfg);
	check_rc("K/read-nomem", "read", pbuf_read(&r.rx, buf, 2), -ENOMEM);
	expect_events("K/read-nomem", "I36+4");

	/* Reader: ... invalidate the payload, barrier, store rd_idx, clean rd_idx. */
	hook_start(&r.cfg);
	check_rc("K/read", "read", pbuf_read(&r.rx, buf, sizeof(buf)), 3);
	expect_events("K/read", "I36+4 I40+3 B C0+4");
	if (hk.ev[2].rd_mem != 0 || hk.ev[3].rd_mem != 8)
		fail_msg("[K/read] rd_idx stored before the barrier or after its clean");
	hook_start(&r.cfg);
	check_rc("K/empty", "read", pbuf_read(&r.rx, buf, sizeof(buf)), 0);
	expect_events("K/empty", "I32+4 B");

	/* Move to 76: a 20-byte packet then wraps after 12 bytes (header 76..79, payload 80..91, 0..7). */
	check_rc("K/move", "write", pbuf_write(&r.tx, src, 64), 64);
	check_rc("K/move", "read", pbuf_read(&r.rx, buf, sizeof(buf)), 64);
	assert_int_equal(r.tx.wr_idx, 76);
	hook_start(&r.cfg);
	check_rc("K/write-wrap", "write", pbuf_write(&r.tx, src, 20), 20);
	expect_events("K/write-wrap", "I0+4 B C112+16 C36+8 W C32+4");
	hook_start(&r.cfg);
	check_rc("K/read-wrap", "read", pbuf_read(&r.rx, buf, sizeof(buf)), 20);
	expect_events("K/read-wrap", "I32+4 B I112+4 I116+12 I36+8 B C0+4");

	/* From 8, move to 88: the header ends at the end of data[], the payload starts at data[0]. */
	check_rc("K/move2", "write", pbuf_write(&r.tx, src, 76), 76);
	check_rc("K/move2", "read", pbuf_read(&r.rx, buf, sizeof(buf)), 76);
	assert_int_equal(r.tx.wr_idx, 88);
	hook_start(&r.cfg);
	check_rc("K/write-hdr-end", "write", pbuf_write(&r.tx, src, 5), 5);
	expect_events("K/write-hdr-end", "I0+4 B C124+4 C36+5 W C32+4");
	hook_start(&r.cfg);
	check_rc("K/read-hdr-end", "read", pbuf_read(&r.rx, buf, sizeof(buf)), 5);
	expect_events("K/read-hdr-end", "I32+4 B I124+4 I36+5 B C0+4");

	/* Errors: the writer looked at rd_idx and published nothing. */
	hook_start(&r.cfg);
	check_rc("K/write-nomem", "write", pbuf_write(&r.tx, src, 89), -ENOMEM);
	expect_events("K/write-nomem", "I0+4 B");
	put_le32(r.mem, 6);
	hook_start(&r.cfg);
	check_rc("K/write-badrd", "write", pbuf_write(&r.tx, src, 88), -EINVAL); /* more than the last view leaves */
	expect_events("K/write-badrd", "I0+4 B");
	hook_start(&r.cfg);
	check_rc("K/write-len0", "write", pbuf_write(&r.tx, src, 0), -EINVAL);
	expect_events("K/write-len0", "");
	ring_close(&r);

	/* Handshake word: invalidate before reading it, clean after storing it. */
	ring_open(&r, 128, 32, true, 0);
	hook_start(&r.cfg);
	check_rc("K/hs-write", "write", pbuf_handshake_write(&r.rx, 0x10001), 0);
	expect_events("K/hs-write", "B C4+4");
	uint32_t v = 0;
	hook_start(&r.cfg);
	check_rc("K/hs-read", "read", pbuf_handshake_read(&r.tx, &v), 0);
	expect_events("K/hs-read", "I4+4 R");
	assert_int_equal(v, 0x10001);
	ring_close(&r);
}

/* ---- corrupt peer fields ---- */

static void test_corrupt_peer(void **state)
{
	(void)state;
	struct ring r;
	uint8_t buf[64];

	/* One table of peer corruptions over a ring holding one 3-byte packet (D = 0: wr_idx @4, data @8). */
	static const struct {
		const char *id;
		int off;
		uint32_t val; /* stored little-endian (indices) */
		bool be_len;  /* store val as the BE16 header length instead */
		int want_read, want_write;
	} rows[] = {
		/* The writer's last view of rd_idx leaves room for "xyz": it does not load it (W06..W09: it does). */
		{ "X01 rd_idx unaligned", 0, 1, false, 3, 3 },
		{ "X02 rd_idx = data_len", 0, 56, false, 3, 3 },
		{ "X03 rd_idx huge", 0, 0xfffffff0u, false, 3, 3 },
		{ "X04 wr_idx unaligned", 4, 10, false, -EINVAL, 3 },
		{ "X05 wr_idx = data_len", 4, 56, false, -EINVAL, 3 },
		{ "X06 wr_idx huge", 4, 0xfffffffcu, false, -EINVAL, 3 },
		{ "X07 length > data area", 8, 57, true, -EBADMSG, 3 },
		{ "X08 length > largest payload", 8, 49, true, -EBADMSG, 3 },
		{ "X09 length 0", 8, 0, true, -EBADMSG, 3 },
		{ "X10 length > published", 8, 5, true, -EAGAIN, 3 },
	};
	for (size_t i = 0; i < AMPL_ARRAY_SIZE(rows); i++) {
		ring_open(&r, 64, 0, false, 0);
		check_rc(rows[i].id, "write", pbuf_write(&r.tx, "abc", 3), 3);
		if (rows[i].be_len) {
			r.mem[rows[i].off] = (uint8_t)(rows[i].val >> 8);
			r.mem[rows[i].off + 1] = (uint8_t)rows[i].val;
		} else {
			put_le32(r.mem + rows[i].off, rows[i].val);
		}
		uint8_t snap[64];
		memcpy(snap, r.mem, 64);
		/* The reader: the documented code, nothing stored, and the same answer again (nothing consumed). */
		int want = rows[i].want_read;
		check_rc(rows[i].id, "read", pbuf_read(&r.rx, buf, sizeof(buf)), want);
		if (want < 0) {
			assert_memory_equal(snap, r.mem, 64);
			check_rc(rows[i].id, "read again", pbuf_read(&r.rx, buf, sizeof(buf)), want);
			check_rc(rows[i].id, "read NULL", pbuf_read(&r.rx, NULL, 0), want);
		}
		/* The writer, with the reader's index as the peer left it. */
		memcpy(r.mem, snap, 64);
		check_rc(rows[i].id, "write", pbuf_write(&r.tx, "xyz", 3), rows[i].want_write);
		if (rows[i].want_write < 0)
			assert_memory_equal(snap, r.mem, 64);
		ring_close(&r);
	}

	/*
	 * Random images and random peer writes (R/<iteration>): every call returns a documented code, a read changes
	 * at most rd_idx, a write never touches the reader's words, an error changes nothing, and the region lives
	 * in a block of exactly its size, so AddressSanitizer sees any access outside it.
	 */
	const char *only = only_case();
	uint64_t x = 0x9e3779b97f4a7c15ull;
#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, (uint32_t)(x >> 11))
	static const uint32_t ds[] = { 0, 4, 8, 16, 32, 64 };
	uint8_t src[400];
	pattern(src, sizeof(src), 5);
	unsigned long calls = 0;
	for (unsigned it = 0; it < 20000; it++) {
		char id[32];
		snprintf(id, sizeof(id), "R/%u", it);
		uint32_t d = ds[RND() % AMPL_ARRAY_SIZE(ds)];
		bool h = RND() & 1;
		uint32_t blen = 12 + 4 * (RND() % 48);
		uint32_t size = PBUF_REGION_SIZE(d, h, blen);
		uint32_t w = PBUF_WR_IDX_OFF(d, h);
		uint8_t *mem = region_alloc(size);
		uint8_t *snap = malloc(size);
		struct pbuf_cfg cfg;
		struct pbuf tx, rx;
		int ops = 24;
		if (only && strcmp(only, id) != 0) {
			/* keep the random sequence identical for every iteration */
			for (uint32_t i = 0; i < size + 2; i++)
				(void)RND();
			for (int k = 0; k < ops; k++)
				(void)RND(), (void)RND(), (void)RND();
			free(snap);
			free(mem);
			continue;
		}
		check_rc(id, "cfg", pbuf_cfg_init(&cfg, mem, size, d, h), 0);
		check_rc(id, "tx_init", pbuf_tx_init(&tx, &cfg), 0);
		check_rc(id, "rx_init", pbuf_rx_init(&rx, &cfg), 0);
		for (uint32_t i = 0; i < size; i++)
			mem[i] = (uint8_t)RND();
		/* Half of the time an index in range, so that the paths past the index checks are common. */
		uint32_t r0 = RND(), r1 = RND();
		if (r0 & 1)
			put_le32(mem, (r0 >> 1) % blen);
		if (r1 & 1)
			put_le32(mem + w, (r1 >> 1) % blen);
		for (int k = 0; k < ops; k++) {
			uint32_t op = RND() % 5, a = RND(), b = RND();
			memcpy(snap, mem, size);
			int rc;
			calls++;
			switch (op) {
			case 0: { /* read into a buffer of exactly n bytes */
				uint16_t n = (uint16_t)(a % 300);
				uint8_t *dst = malloc(n ? n : 1);
				rc = pbuf_read(&rx, dst, n);
				free(dst);
				if (!(rc == -EINVAL || rc == -EBADMSG || rc == -EAGAIN || rc == -ENOMEM ||
				      (rc >= 0 && rc <= n && (uint32_t)rc <= blen - 8)))
					fail_msg("[%s] read(%u) returned %d", id, n, rc);
				/* rd_idx may change: to the reader's own index (an error return gives back
				 * what was read before it), never to anything the peer wrote. */
				if (le32_at(mem) != le32_at(snap) && le32_at(mem) != rx.rd_idx)
					fail_msg("[%s] read returning %d stored rd_idx %u, not its own %u", id, rc,
						 le32_at(mem), rx.rd_idx);
				for (uint32_t i = 4; i < size; i++)
					if (mem[i] != snap[i])
						fail_msg("[%s] read returning %d changed byte %u", id, rc, i);
				break;
			}
			case 1:
				rc = pbuf_read(&rx, NULL, 0);
				if (!(rc == -EINVAL || rc == -EBADMSG || rc == -EAGAIN ||
				      (rc >= 0 && (uint32_t)rc <= blen - 8)))
					fail_msg("[%s] read(NULL) returned %d", id, rc);
				if (le32_at(mem) != le32_at(snap) && (rc >= 0 || le32_at(mem) != rx.rd_idx))
					fail_msg("[%s] read(NULL) returning %d stored rd_idx %u", id, rc, le32_at(mem));
				if (memcmp(mem + 4, snap + 4, size - 4) != 0)
					fail_msg("[%s] read(NULL) changed the region", id);
				break;
			case 2: { /* write */
				uint16_t n = (uint16_t)(a % 300);
				rc = pbuf_write(&tx, src, n);
				if (!(rc == -EINVAL || rc == -ENOMEM || (rc == n && n > 0)))
					fail_msg("[%s] write(%u) returned %d", id, n, rc);
				for (uint32_t i = 0; i < (rc > 0 ? w : size); i++)
					if (mem[i] != snap[i])
						fail_msg("[%s] write returning %d changed byte %u", id, rc, i);
				break;
			}
			case 3: /* the peer stores an index */
				put_le32(mem + ((a & 1) ? 0 : w), (b & 1) ? b % (blen + 8) : b);
				break;
			default: /* the peer scribbles on data[] */
				mem[cfg.data_off + a % blen] = (uint8_t)b;
				break;
			}
		}
		free(snap);
		free(mem);
	}
#undef RND
	print_message("      %lu calls on random images\n", calls);
}

/* ---- handshake word and restarts ---- */

static void test_handshake_and_restart(void **state)
{
	(void)state;
	struct ring r;
	uint8_t buf[64];
	ring_open(&r, 128, 0, true, 0);

	/* The word is stored little-endian at offset 4 and touches nothing else. */
	check_rc("hs", "write", pbuf_handshake_write(&r.rx, 0xa1b2c3d4u), 0);
	static const uint8_t want[12] = { 0, 0, 0, 0, 0xd4, 0xc3, 0xb2, 0xa1, 0, 0, 0, 0 };
	expect_bytes("hs", r.mem, want, sizeof(want));
	uint32_t v;
	check_rc("hs", "read", pbuf_handshake_read(&r.tx, &v), 0);
	assert_int_equal(v, 0xa1b2c3d4u);

	/* Packets do not touch it, and pbuf_tx_init() resets wr_idx and rd_idx but leaves it. */
	check_rc("hs", "write packet", pbuf_write(&r.tx, "hello", 5), 5);
	check_rc("hs", "read packet", pbuf_read(&r.rx, buf, sizeof(buf)), 5);
	check_rc("hs", "write packet", pbuf_write(&r.tx, "again", 5), 5);
	assert_int_equal(le32_at(r.mem), 12);
	assert_int_equal(le32_at(r.mem + 8), 24);
	check_rc("restart", "tx_init", pbuf_tx_init(&r.tx, &r.cfg), 0);
	assert_int_equal(le32_at(r.mem), 0);
	assert_int_equal(le32_at(r.mem + 8), 0);
	assert_int_equal(le32_at(r.mem + 4), 0xa1b2c3d4u);

	/*
	 * A reader that has not resynchronised keeps its old index: here it finds the old "again" packet there and
	 * delivers it again. Nothing in the ring can tell it; the session protocol must make it re-run
	 * pbuf_rx_init() (docs/pbuf.md). After that it reads from 0; rx_init touches no shared memory.
	 */
	check_rc("restart", "stale read", pbuf_read(&r.rx, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "again", 5);
	uint8_t snap[128];
	memcpy(snap, r.mem, sizeof(snap));
	check_rc("restart", "rx_init", pbuf_rx_init(&r.rx, &r.cfg), 0);
	assert_memory_equal(snap, r.mem, sizeof(snap));
	check_rc("restart", "read", pbuf_read(&r.rx, buf, sizeof(buf)), 0);
	check_rc("restart", "write", pbuf_write(&r.tx, "fresh", 5), 5);
	check_rc("restart", "read", pbuf_read(&r.rx, buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "fresh", 5);
	ring_close(&r);
}

/* ---- two threads, self-checking payloads ---- */

#define STRESS_PACKETS 100000u

static uint32_t mix32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* Packet seq: [seq LE32][body from mix32][FNV-1a of everything before, LE32]; length from seq, >= 8. */
static uint16_t stress_len(uint32_t seq, uint32_t maxp)
{
	return (uint16_t)(8 + mix32(seq ^ 0xabcdu) % (maxp - 8 + 1));
}

static void stress_fill(uint8_t *p, uint32_t seq, uint16_t len)
{
	put_le32(p, seq);
	for (uint16_t i = 4; i + 4 < len; i++)
		p[i] = (uint8_t)mix32(seq * 131u + i);
	put_le32(p + len - 4, fnv1a(p, len - 4u));
}

struct stress {
	struct ring r;
	uint32_t maxp;
	bool doorbell_reader; /* the reader drains on each doorbell, as an interrupt handler would */
	atomic_uint bell;
	atomic_bool failed;
	char why[160];
	unsigned long full, empty;
};

static void stress_fail(struct stress *s, const char *fmt, uint32_t a, int b)
{
	if (!atomic_exchange(&s->failed, true))
		snprintf(s->why, sizeof(s->why), fmt, a, b);
}

static void *stress_writer(void *arg)
{
	struct stress *s = arg;
	uint8_t p[256];
	for (uint32_t seq = 0; seq < STRESS_PACKETS && !atomic_load(&s->failed); seq++) {
		uint16_t len = stress_len(seq, s->maxp);
		stress_fill(p, seq, len);
		int rc;
		while ((rc = pbuf_write(&s->r.tx, p, len)) == -ENOMEM && !atomic_load(&s->failed)) {
			s->full++;
			sched_yield();
		}
		if (rc != len && !atomic_load(&s->failed))
			stress_fail(s, "write of packet %u returned %d", seq, rc);
		atomic_fetch_add(&s->bell, 1);
	}
	return NULL;
}

static void *stress_reader(void *arg)
{
	struct stress *s = arg;
	uint8_t p[256], want[256];
	uint32_t seq = 0, seen = 0;
	while (seq < STRESS_PACKETS && !atomic_load(&s->failed)) {
		if (s->doorbell_reader) {
			/* Sleep until a doorbell (spinning here), then drain everything that is there. */
			uint32_t b;
			while ((b = atomic_load(&s->bell)) == seen && !atomic_load(&s->failed))
				sched_yield();
			seen = b;
		}
		for (;;) {
			int rc = pbuf_read(&s->r.rx, p, sizeof(p));
			if (rc == 0) {
				s->empty++;
				if (!s->doorbell_reader)
					sched_yield();
				break;
			}
			uint16_t len = stress_len(seq, s->maxp);
			if (rc != len) {
				stress_fail(s, "packet %u: read returned %d", seq, rc);
				return NULL;
			}
			stress_fill(want, seq, len);
			if (le32_at(p) != seq || le32_at(p + len - 4) != fnv1a(p, len - 4u) || memcmp(p, want, len)) {
				stress_fail(s, "packet %u: bad content (sequence %d)", seq, (int)le32_at(p));
				return NULL;
			}
			if (++seq == STRESS_PACKETS)
				break;
		}
	}
	return NULL;
}

/*
 * Reader hold (pbuf_rx_hold()): while held, the read that empties the ring gives nothing back until a sixteenth
 * of data[] waits, then only up to the start of the last packet, and an empty read stores nothing (its load needs a
 * load barrier only: a held reader does not stop on it), so the writer sees the reader behind and skips the
 * doorbell; after the release, the next empty read stores rd_idx and only then loads wr_idx after the full barrier
 * (the order a stopping reader owes the writer's doorbell check).
 */
static void test_rx_hold(void **state)
{
	(void)state;
	struct ring r;
	uint8_t buf[64], src[64];
	pattern(src, sizeof(src), 3);
	ring_open(&r, 512, 0, false, 0); /* data_len 504: a sixteenth is 31 bytes */
	assert_int_equal(pbuf_rx_hold(NULL, true), -EINVAL);
	assert_int_equal(pbuf_rx_hold(&r.tx, true), -EINVAL);
	assert_int_equal(pbuf_rx_hold(&r.rx, true), 0);

	check_rc("H/write1", "write", pbuf_write(&r.tx, src, 8), 8);   /* 0..12 */
	check_rc("H/write2", "write", pbuf_write(&r.tx, src, 12), 12); /* 12..28 */
	check_rc("H/read1", "read", pbuf_read(&r.rx, buf, sizeof(buf)), 8);
	check_rc("H/read2", "read", pbuf_read(&r.rx, buf, sizeof(buf)), 12);
	expect_bytes("H/read2", buf, src, 12);
	/* The batch is read, 12 bytes below the start of its last packet: less than a sixteenth, nothing stored. */
	assert_int_equal(le32_at(r.mem), 0);
	hook_start(&r.cfg);
	check_rc("H/empty", "read", pbuf_read(&r.rx, buf, sizeof(buf)), 0);
	expect_events("H/empty", "I4+4 R");
	assert_int_equal(le32_at(r.mem), 0);

	/* A packet written now needs no doorbell: the reader is still looking. */
	uint32_t prev = r.tx.wr_idx;
	check_rc("H/write3", "write", pbuf_write(&r.tx, src, 4), 4); /* 28..36 */
	assert_false(pbuf_doorbell_needed(&r.tx, prev));
	check_rc("H/write4", "write", pbuf_write(&r.tx, src, 4), 4); /* 36..44 */
	check_rc("H/read3", "read", pbuf_read(&r.rx, buf, sizeof(buf)), 4);
	check_rc("H/read4", "read", pbuf_read(&r.rx, buf, sizeof(buf)), 4);
	/* 36 bytes below the start of the batch's last packet: given back up to there. */
	assert_int_equal(le32_at(r.mem), 36);

	/* Released: the next empty read stores rd_idx, then loads wr_idx after the full barrier. */
	assert_int_equal(pbuf_rx_hold(&r.rx, false), 0);
	hook_start(&r.cfg);
	check_rc("H/release", "read", pbuf_read(&r.rx, buf, sizeof(buf)), 0);
	expect_events("H/release", "B C0+4 I4+4 B");
	assert_int_equal(le32_at(r.mem), 44);
	prev = r.tx.wr_idx;
	check_rc("H/write5", "write", pbuf_write(&r.tx, src, 4), 4);
	assert_true(pbuf_doorbell_needed(&r.tx, prev));

	/* Not held: the read that empties the batch stores all of it. */
	check_rc("H/read5", "read", pbuf_read(&r.rx, buf, sizeof(buf)), 4);
	assert_int_equal(le32_at(r.mem), 52);
	ring_close(&r);
}

static void test_stress(void **state)
{
	(void)state;
	static const struct {
		uint32_t size, d;
		bool h;
	} cfgs[] = { { 64, 0, false }, { 320, 32, true }, { 4096 + 68, 64, false } };
	for (size_t c = 0; c < AMPL_ARRAY_SIZE(cfgs); c++)
		for (int swap = 0; swap <= 1; swap++) {
			struct stress *s = calloc(1, sizeof(*s));
			ring_open(&s->r, cfgs[c].size, cfgs[c].d, cfgs[c].h, 0);
			uint32_t maxp = PBUF_MAX_PAYLOAD(s->r.cfg.data_len);
			s->maxp = maxp > 256 ? 256 : maxp;
			s->doorbell_reader = swap;
			pthread_t t;
			/* Roles swapped: writer in the new thread and polling reader here, then the reverse with a
			 * reader that drains on doorbells. */
			assert_int_equal(pthread_create(&t, NULL, swap ? stress_reader : stress_writer, s), 0);
			if (swap)
				stress_writer(s);
			else
				stress_reader(s);
			pthread_join(t, NULL);
			if (atomic_load(&s->failed))
				fail_msg("[S/%u/%u/%d/%s] %s", cfgs[c].size, cfgs[c].d, cfgs[c].h,
					 swap ? "doorbell-reader" : "polling-reader", s->why);
			print_message("      S/%u/%u/%d/%s: %u packets, writer found it full %lu times, reader found it "
				      "empty %lu times\n",
				      cfgs[c].size, cfgs[c].d, cfgs[c].h, swap ? "doorbell-reader" : "polling-reader",
				      STRESS_PACKETS, s->full, s->empty);
			ring_close(&s->r);
			free(s);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_retcodes),
		cmocka_unit_test(test_start_in_place),
		cmocka_unit_test(test_wire_abc),
		cmocka_unit_test(test_wire_wrap),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_permutations),
		cmocka_unit_test(test_cache_hooks),
		cmocka_unit_test(test_corrupt_peer),
		cmocka_unit_test(test_handshake_and_restart),
		cmocka_unit_test(test_rx_hold),
		cmocka_unit_test(test_stress),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
