/*
 * The IPM console over the Xilinx IPI: wire format, line assembly, long lines, NUL handling, flushes, error codes,
 * and a 10,000-line stream checked byte for byte.
 *
 * One process plays both sides of a virtual ZynqMP (built-in board): the APU sends (no interrupt thread: its
 * ipm_send() waits for the acknowledgement), RPU0 receives in its interrupt thread. ipm_send(wait) returns only
 * after the receiver's callback has returned, so once a write or flush returned, every line it completed has
 * been delivered.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <amplink/device.h>
#include <amplink/ipm.h>
#include <amplink/ipm_console.h>
#include <amplink/host/soc.h>

#include "soc_fixture.h"

#define LINE_MAX_ IPM_CONSOLE_LINE_MAX

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- line recorder: every delivery of line_cb, in order ---- */

struct rec {
	pthread_mutex_t lock;
	char *bytes; /* deliveries back to back */
	size_t nbytes, cap;
	size_t *lens; /* length of each delivery */
	size_t nlines, lcap;
	int bad_nul; /* a delivery whose line[len] was not NUL */
};

static struct rec R = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void on_line(const char *line, size_t len, void *arg)
{
	struct rec *r = arg;
	pthread_mutex_lock(&r->lock);
	if (r->nbytes + len > r->cap) {
		r->cap = (r->nbytes + len) * 2 + 1024;
		r->bytes = realloc(r->bytes, r->cap);
	}
	if (r->nlines == r->lcap) {
		r->lcap = r->lcap * 2 + 64;
		r->lens = realloc(r->lens, r->lcap * sizeof(*r->lens));
	}
	memcpy(r->bytes + r->nbytes, line, len);
	r->nbytes += len;
	r->lens[r->nlines++] = len;
	if (line[len] != '\0')
		r->bad_nul++;
	pthread_mutex_unlock(&r->lock);
}

static void rec_reset(void)
{
	pthread_mutex_lock(&R.lock);
	free(R.bytes);
	free(R.lens);
	R.bytes = NULL;
	R.lens = NULL;
	R.nbytes = R.cap = R.nlines = R.lcap = 0;
	R.bad_nul = 0;
	pthread_mutex_unlock(&R.lock);
}

static size_t rec_lines(void)
{
	pthread_mutex_lock(&R.lock);
	size_t n = R.nlines;
	pthread_mutex_unlock(&R.lock);
	return n;
}

/* Check that the deliveries are exactly the NULL-terminated list of strings @want. */
static void expect_lines(const char *const *want)
{
	pthread_mutex_lock(&R.lock);
	size_t off = 0, i = 0;
	for (; want[i]; i++) {
		if (i >= R.nlines) {
			pthread_mutex_unlock(&R.lock);
			fail_msg("delivery %zu missing: expected \"%s\" (got %zu deliveries)", i, want[i], R.nlines);
		}
		size_t wl = strlen(want[i]);
		if (R.lens[i] != wl || memcmp(R.bytes + off, want[i], wl)) {
			int gl = (int)R.lens[i];
			const char *g = R.bytes + off;
			pthread_mutex_unlock(&R.lock);
			fail_msg("delivery %zu: got \"%.*s\" (%d bytes), expected \"%s\" (%zu bytes)", i, gl, g, gl,
				 want[i], wl);
		}
		off += wl;
	}
	size_t n = R.nlines;
	int bad = R.bad_nul;
	pthread_mutex_unlock(&R.lock);
	if (n != i)
		fail_msg("got %zu deliveries, expected %zu", n, i);
	assert_int_equal(bad, 0);
}

/* ---- environment ---- */

struct env {
	char zname[64], vname[64];
	struct ampl_soc *zsoc, *vsoc;
	bool zcreated, vcreated;
	struct ampl_agent *apu, *rpu0, *rpu1, *vapu, *vipi6;
	const struct ampl_device *tx, *rx; /* apu -> rpu0, rpu0's channel from apu */
};

static struct env E;
static struct ipm_console_sender S;
static struct ipm_console_receiver RX, RX1;


/* ZynqMP: apu (sender, no interrupt thread) and, unless @no_rpu0, rpu0 receiving with a console receiver. */
static void env_up_ack(uint32_t ack_timeout_us, bool no_rpu0)
{
	memset(&E, 0, sizeof(E));
	memset(&S, 0, sizeof(S));
	memset(&RX, 0, sizeof(RX));
	memset(&RX1, 0, sizeof(RX1));
	rec_reset();
	soc_fixture_create("t-con", &ampl_soc_zynqmp, E.zname, sizeof(E.zname), &E.zsoc);
	E.zcreated = true;
	struct ampl_agent_opts ao = { .mode = AMPL_WAIT_ADAPTIVE, .no_irq_thread = true,
				      .ack_timeout_us = ack_timeout_us };
	E.apu = soc_fixture_attach(E.zsoc, "apu", &ao);
	assert_int_equal(ampl_agent_channel(E.apu, "rpu0", &E.tx), 0);
	assert_int_equal(ipm_console_sender_init(&S, E.tx), 0);
	if (no_rpu0)
		return;
	struct ampl_agent_opts ro = { .mode = AMPL_WAIT_ADAPTIVE };
	E.rpu0 = soc_fixture_attach(E.zsoc, "rpu0", &ro);
	assert_int_equal(ampl_agent_channel(E.rpu0, "apu", &E.rx), 0);
	assert_int_equal(ipm_console_receiver_init(&RX, E.rx, on_line, &R), 0);
}

static void env_up(void)
{
	env_up_ack(0, false);
}

static int teardown(void **state)
{
	(void)state;
	struct ampl_agent **ags[] = { &E.rpu0, &E.rpu1, &E.apu, &E.vipi6, &E.vapu };
	for (unsigned i = 0; i < AMPL_ARRAY_SIZE(ags); i++) {
		if (*ags[i])
			ampl_agent_detach(*ags[i]);
		*ags[i] = NULL;
	}
	if (E.zsoc)
		ampl_soc_close(E.zsoc);
	if (E.vsoc)
		ampl_soc_close(E.vsoc);
	if (E.zcreated)
		ampl_soc_destroy(E.zname);
	if (E.vcreated)
		ampl_soc_destroy(E.vname);
	memset(&E, 0, sizeof(E));
	rec_reset();
	return 0;
}

static void write_all(const char *buf, size_t len)
{
	int ret = ipm_console_write(&S, buf, len);
	if (ret != (int)len)
		fail_msg("ipm_console_write(%zu bytes) returned %d (%s)", len, ret, ret < 0 ? ampl_errname(ret) : "short");
}

static void write_str(const char *s)
{
	write_all(s, strlen(s));
}

/* ---- tests ---- */

static void test_short_line(void **state)
{
	(void)state;
	env_up();
	write_str("hello world\n");
	expect_lines((const char *const[]){ "hello world", NULL });

	/* putc returns the character; the line goes out on '\n'. */
	const char *t = "abc\n";
	for (const char *p = t; *p; p++)
		assert_int_equal(ipm_console_putc(&S, *p), *p);
	expect_lines((const char *const[]){ "hello world", "abc", NULL });

	/* An empty line is a line. */
	assert_int_equal(ipm_console_putc(&S, '\n'), '\n');
	expect_lines((const char *const[]){ "hello world", "abc", "", NULL });
}

static void test_wire_format(void **state)
{
	(void)state;
	env_up();
	volatile uint8_t *req = ampl_soc_phys(E.zsoc, 0xFF990400u, AMPL_IPI_BUF_SIZE); /* apu -> rpu0 request */
	assert_non_null((void *)req);
	write_str("hi\n");
	/* "hi\n" then NUL padding up to 32 bytes, in one message. */
	uint8_t want[AMPL_IPI_BUF_SIZE] = { 'h', 'i', '\n' };
	for (unsigned i = 0; i < AMPL_IPI_BUF_SIZE; i++)
		if (req[i] != want[i])
			fail_msg("request byte %u: 0x%02x, expected 0x%02x", i, req[i], want[i]);
	/* A full message has no NUL at all. */
	char full[AMPL_IPI_BUF_SIZE];
	for (unsigned i = 0; i < sizeof(full); i++)
		full[i] = (char)('A' + i % 26);
	write_all(full, sizeof(full));
	for (unsigned i = 0; i < AMPL_IPI_BUF_SIZE; i++)
		assert_int_equal(req[i], (uint8_t)full[i]);
	expect_lines((const char *const[]){ "hi", NULL });
	assert_int_equal(ipm_console_receiver_flush(&RX), 0);
	expect_lines((const char *const[]){ "hi", "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEF", NULL });
}

static void test_line_spans_messages(void **state)
{
	(void)state;
	env_up();
	char line[101];
	for (unsigned i = 0; i < 100; i++)
		line[i] = (char)('a' + i % 26);
	line[100] = '\0';
	write_str(line);
	assert_int_equal(rec_lines(), 0); /* three full messages sent, no '\n' yet */
	write_str("\n");
	expect_lines((const char *const[]){ line, NULL });

	/* Exactly one message of text followed by the newline in the next message. */
	char l32[33];
	memset(l32, 'z', 32);
	l32[32] = '\0';
	write_str(l32);
	write_str("\n");
	expect_lines((const char *const[]){ line, l32, NULL });
}

static void test_several_lines_one_write(void **state)
{
	(void)state;
	env_up();
	write_str("one\ntwo\n\nthree\nfour is a line longer than one message of 32 bytes\nfive\n");
	expect_lines((const char *const[]){ "one", "two", "", "three", "four is a line longer than one message of 32 bytes",
					    "five", NULL });
}

static void test_long_line_in_pieces(void **state)
{
	(void)state;
	env_up();
	/* 1000 bytes: three pieces of LINE_MAX, then the rest when '\n' arrives. Nothing lost. */
	static char big[1001];
	for (unsigned i = 0; i < 1000; i++)
		big[i] = (char)('!' + i % 90);
	big[1000] = '\0';
	write_str(big);
	write_str("\n");
	pthread_mutex_lock(&R.lock);
	size_t n = R.nlines, nb = R.nbytes;
	size_t l0 = n > 0 ? R.lens[0] : 0, l3 = n > 3 ? R.lens[3] : 0;
	int same = nb == 1000 && !memcmp(R.bytes, big, 1000);
	pthread_mutex_unlock(&R.lock);
	assert_int_equal(n, 4);
	assert_int_equal(l0, LINE_MAX_);
	assert_int_equal(l3, 1000 - 3 * LINE_MAX_);
	assert_true(same);

	/* A line of exactly LINE_MAX bytes arrives whole; LINE_MAX + 1 as a piece and one byte. */
	rec_reset();
	static char exact[LINE_MAX_ + 2];
	memset(exact, 'e', LINE_MAX_ + 1);
	exact[LINE_MAX_] = '\0';
	write_str(exact);
	write_str("\n");
	expect_lines((const char *const[]){ exact, NULL });
	exact[LINE_MAX_] = 'f';
	exact[LINE_MAX_ + 1] = '\0';
	write_str(exact);
	write_str("\n");
	exact[LINE_MAX_] = '\0';
	expect_lines((const char *const[]){ exact, exact, "f", NULL });
}

static void test_nul_dropped(void **state)
{
	(void)state;
	env_up();
	static const char in[] = "ab\0c\0\nd\0\n\0";
	assert_int_equal(ipm_console_write(&S, in, sizeof(in) - 1), (int)sizeof(in) - 1);
	assert_int_equal(ipm_console_putc(&S, '\0'), 0);
	assert_int_equal(ipm_console_putc(&S, 0x100), 0); /* only the low byte counts: a NUL */
	assert_int_equal(ipm_console_putc(&S, 'x'), 'x');
	assert_int_equal(ipm_console_putc(&S, '\n'), '\n');
	expect_lines((const char *const[]){ "abc", "d", "x", NULL });
	/* A message of NULs only is never sent: nothing is buffered. */
	assert_int_equal(ipm_console_write(&S, "\0\0\0", 3), 3);
	assert_int_equal(ipm_console_flush(&S), 0);
	assert_int_equal(ipm_console_receiver_flush(&RX), 0);
	expect_lines((const char *const[]){ "abc", "d", "x", NULL });
}

static void test_flush_partial_line(void **state)
{
	(void)state;
	env_up();
	write_str("partial");
	assert_int_equal(rec_lines(), 0);
	assert_int_equal(ipm_console_flush(&S), 0); /* sent; the receiver holds it: no '\n' yet */
	assert_int_equal(rec_lines(), 0);
	assert_int_equal(ipm_console_receiver_flush(&RX), 0);
	expect_lines((const char *const[]){ "partial", NULL });
	/* Nothing buffered on either side: no message, no delivery. */
	assert_int_equal(ipm_console_flush(&S), 0);
	assert_int_equal(ipm_console_receiver_flush(&RX), 0);
	expect_lines((const char *const[]){ "partial", NULL });
	/* A flushed partial line continues when more text follows. */
	write_str("con");
	assert_int_equal(ipm_console_flush(&S), 0);
	write_str("tinued\n");
	expect_lines((const char *const[]){ "partial", "continued", NULL });
}

static void test_doorbell_enotsup(void **state)
{
	(void)state;
	memset(&E, 0, sizeof(E));
	soc_fixture_create("t-con", &ampl_soc_versal, E.vname, sizeof(E.vname), &E.vsoc);
	E.vcreated = true;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE, .no_irq_thread = true };
	E.vapu = soc_fixture_attach(E.vsoc, "apu", &o);
	E.vipi6 = soc_fixture_attach(E.vsoc, "ipi6", &o);
	const struct ampl_device *db_tx, *db_rx;
	assert_int_equal(ampl_agent_channel(E.vapu, "ipi6", &db_tx), 0);
	assert_int_equal(ampl_agent_channel(E.vipi6, "apu", &db_rx), 0);
	assert_int_equal(ipm_max_data_size_get(db_tx), 0);
	struct ipm_console_sender s;
	struct ipm_console_receiver r;
	assert_int_equal(ipm_console_sender_init(&s, db_tx), -ENOTSUP);
	assert_int_equal(ipm_console_receiver_init(&r, db_rx, on_line, &R), -ENOTSUP);
	/* A refused sender stays unusable. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(ipm_console_sender_init(&s, db_tx), -ENOTSUP);
	assert_int_equal(ipm_console_putc(&s, 'a'), -EINVAL);
}

static struct ampl_device_state noapi_state;
static struct ampl_device noapi_dev = { .name = "t-con-noapi", .state = &noapi_state };

static void test_einval(void **state)
{
	(void)state;
	env_up();
	struct ipm_console_sender s;
	struct ipm_console_receiver r;
	assert_int_equal(ipm_console_sender_init(NULL, E.tx), -EINVAL);
	assert_int_equal(ipm_console_sender_init(&s, NULL), -EINVAL);
	assert_int_equal(ipm_console_sender_init(&s, &noapi_dev), -EINVAL);
	assert_int_equal(ipm_console_putc(NULL, 'a'), -EINVAL);
	assert_int_equal(ipm_console_write(NULL, "a", 1), -EINVAL);
	assert_int_equal(ipm_console_write(&S, NULL, 1), -EINVAL);
	assert_int_equal(ipm_console_write(&S, NULL, 0), 0);
	assert_int_equal(ipm_console_write(&S, "a", (size_t)INT32_MAX + 1), -EINVAL);
	assert_int_equal(ipm_console_flush(NULL), -EINVAL);
	struct ipm_console_sender zero;
	memset(&zero, 0, sizeof(zero)); /* never initialised */
	assert_int_equal(ipm_console_putc(&zero, 'a'), -EINVAL);
	assert_int_equal(ipm_console_write(&zero, "a", 1), -EINVAL);
	assert_int_equal(ipm_console_flush(&zero), -EINVAL);

	assert_int_equal(ipm_console_receiver_init(NULL, E.rx, on_line, &R), -EINVAL);
	assert_int_equal(ipm_console_receiver_init(&r, NULL, on_line, &R), -EINVAL);
	assert_int_equal(ipm_console_receiver_init(&r, E.rx, NULL, &R), -EINVAL);
	assert_int_equal(ipm_console_receiver_init(&r, &noapi_dev, on_line, &R), -EINVAL);
	assert_int_equal(ipm_console_receiver_flush(NULL), -EINVAL);
	struct ipm_console_receiver rzero;
	memset(&rzero, 0, sizeof(rzero));
	assert_int_equal(ipm_console_receiver_flush(&rzero), -EINVAL);

	/* The refused calls changed nothing: the console still works. */
	write_str("still fine\n");
	expect_lines((const char *const[]){ "still fine", NULL });
}

/*
 * Nobody consumes: the first send times out (-ETIMEDOUT passed through, the message stays pending in the
 * mailbox), later sends are -EBUSY after a bounded number of tries and the text stays buffered. Once a receiver
 * comes up everything arrives, in order, nothing lost or duplicated.
 */
static void test_busy_bounded_then_delivered(void **state)
{
	(void)state;
	env_up_ack(20000, true);
	/* apu -> rpu1: rpu1 is not attached yet. */
	const struct ampl_device *to_rpu1;
	assert_int_equal(ampl_agent_channel(E.apu, "rpu1", &to_rpu1), 0);
	assert_int_equal(ipm_console_sender_init(&S, to_rpu1), 0);
	assert_int_equal(ipm_console_write(&S, "first\n", 6), -ETIMEDOUT);

	char x[41];
	memset(x, 'x', 40);
	x[40] = '\0';
	uint64_t t0 = now_us();
	/* The 32nd byte fills the message: its send is -EBUSY, the text stays buffered and the byte is taken; the
	 * 33rd cannot be taken. */
	assert_int_equal(ipm_console_write(&S, x, 40), 32);
	assert_int_equal(ipm_console_write(&S, x + 32, 8), -EBUSY);
	assert_int_equal(ipm_console_putc(&S, 'x'), -EBUSY);
	assert_int_equal(ipm_console_flush(&S), -EBUSY);
	uint64_t busy_us = now_us() - t0;
	print_message("four bounded -EBUSY retry loops took %.1f ms\n", (double)busy_us / 1000.0);
	assert_true(busy_us < 60u * 1000000u);

	struct ampl_agent_opts ro = { .mode = AMPL_WAIT_ADAPTIVE };
	E.rpu1 = soc_fixture_attach(E.zsoc, "rpu1", &ro);
	const struct ampl_device *from_apu;
	assert_int_equal(ampl_agent_channel(E.rpu1, "apu", &from_apu), 0);
	assert_int_equal(ipm_console_receiver_init(&RX1, from_apu, on_line, &R), 0);
	/* The pending message is delivered once the channel is enabled. */
	uint64_t deadline = now_us() + 5000000u;
	while (rec_lines() < 1 && now_us() < deadline)
		usleep(1000);
	expect_lines((const char *const[]){ "first", NULL });
	/* The buffered 32 bytes go out first, then the rest. */
	write_all(x + 32, 8);
	write_str("\n");
	expect_lines((const char *const[]){ "first", x, NULL });
}

/* ---- 10,000 lines of varying length, checked byte for byte and by checksum ---- */

static uint32_t lcg(uint32_t *st)
{
	*st = *st * 1664525u + 1013904223u;
	return *st >> 8;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

#define STREAM_LINES 10000u
#define STREAM_MAXLEN 600u

static void test_stream_10000_lines(void **state)
{
	(void)state;
	env_up();
	uint32_t st = 12345;
	/* The sent text, and the deliveries the receiver must make: each line, split into pieces of LINE_MAX bytes
	 * when longer (want_end marks the delivery that ends a line). */
	size_t cap = (size_t)STREAM_LINES * (STREAM_MAXLEN + 1);
	char *text = malloc(cap), *want = malloc(cap);
	size_t *want_lens = malloc(sizeof(size_t) * STREAM_LINES * 4);
	bool *want_end = malloc(sizeof(bool) * STREAM_LINES * 4);
	assert_true(text && want && want_lens && want_end);
	size_t tlen = 0, nwant = 0, want_bytes = 0;
	for (unsigned l = 0; l < STREAM_LINES; l++) {
		/* Mostly short lines, some spanning messages, a few longer than the receiver's buffer. */
		uint32_t r = lcg(&st) % 100;
		size_t len = r < 70 ? lcg(&st) % 40 : r < 97 ? lcg(&st) % LINE_MAX_ : lcg(&st) % STREAM_MAXLEN;
		for (size_t i = 0; i < len; i++) {
			uint8_t b;
			do
				b = (uint8_t)lcg(&st);
			while (b == 0 || b == '\n'); /* any byte but NUL and the line end: '\r' and 0xff included */
			text[tlen + i] = (char)b;
		}
		memcpy(want + want_bytes, text + tlen, len);
		want_bytes += len;
		tlen += len;
		text[tlen++] = '\n';
		size_t left = len;
		while (left > LINE_MAX_) {
			want_end[nwant] = false;
			want_lens[nwant++] = LINE_MAX_;
			left -= LINE_MAX_;
		}
		want_end[nwant] = true;
		want_lens[nwant++] = left;
	}

	/* Send it in chunks of varying size, some byte by byte through putc. */
	uint64_t t0 = now_us();
	size_t off = 0;
	while (off < tlen) {
		size_t n = 1 + lcg(&st) % 700;
		if (n > tlen - off)
			n = tlen - off;
		if (lcg(&st) % 8 == 0) {
			for (size_t i = 0; i < n; i++) {
				int ret = ipm_console_putc(&S, text[off + i]);
				if (ret != (unsigned char)text[off + i])
					fail_msg("putc at byte %zu: returned %d", off + i, ret);
			}
		} else {
			write_all(text + off, n);
		}
		off += n;
	}
	assert_int_equal(ipm_console_flush(&S), 0);
	uint64_t us = now_us() - t0;

	/* Checksum of everything sent (with the '\n's) against everything received (a '\n' after each delivery
	 * that ends a line), then the deliveries one by one. */
	uint64_t sent_sum = fnv1a(0xcbf29ce484222325ull, text, tlen);
	pthread_mutex_lock(&R.lock);
	size_t nlines = R.nlines, nbytes = R.nbytes, first_bad = SIZE_MAX, bad_len = 0;
	uint64_t got_sum = 0xcbf29ce484222325ull;
	for (size_t i = 0, pos = 0; i < nlines; i++) {
		got_sum = fnv1a(got_sum, R.bytes + pos, R.lens[i]);
		if (i < nwant && want_end[i])
			got_sum = fnv1a(got_sum, "\n", 1);
		pos += R.lens[i];
		if (first_bad == SIZE_MAX && (i >= nwant || R.lens[i] != want_lens[i])) {
			first_bad = i;
			bad_len = R.lens[i];
		}
	}
	bool same = nbytes == want_bytes && !memcmp(R.bytes, want, want_bytes);
	int bad_nul = R.bad_nul;
	pthread_mutex_unlock(&R.lock);

	print_message("%u lines, %zu bytes in %.1f ms\n", STREAM_LINES, tlen, (double)us / 1000.0);
	if (got_sum != sent_sum)
		fail_msg("checksum of the received text %016llx != sent %016llx (%zu deliveries, %zu bytes; expected "
			 "%zu, %zu)", (unsigned long long)got_sum, (unsigned long long)sent_sum, nlines, nbytes, nwant,
			 want_bytes);
	if (first_bad != SIZE_MAX)
		fail_msg("delivery %zu has %zu bytes, expected %zu", first_bad, bad_len,
			 first_bad < nwant ? want_lens[first_bad] : (size_t)0);
	assert_int_equal(nlines, nwant);
	assert_true(same);
	assert_int_equal(bad_nul, 0);
	free(text);
	free(want);
	free(want_lens);
	free(want_end);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_short_line, teardown),
		cmocka_unit_test_teardown(test_wire_format, teardown),
		cmocka_unit_test_teardown(test_line_spans_messages, teardown),
		cmocka_unit_test_teardown(test_several_lines_one_write, teardown),
		cmocka_unit_test_teardown(test_long_line_in_pieces, teardown),
		cmocka_unit_test_teardown(test_nul_dropped, teardown),
		cmocka_unit_test_teardown(test_flush_partial_line, teardown),
		cmocka_unit_test_teardown(test_doorbell_enotsup, teardown),
		cmocka_unit_test_teardown(test_einval, teardown),
		cmocka_unit_test_teardown(test_busy_bounded_then_delivered, teardown),
		cmocka_unit_test_teardown(test_stream_10000_lines, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
