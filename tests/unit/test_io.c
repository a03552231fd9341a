/*
 * The I/O-region accessors (<amplink/io.h>) on a region in ordinary memory: plain accesses without ops, the model's
 * ops with them (AMPL_IO_OPS 1, the hosted default), and plain accesses with them too when built with AMPL_IO_OPS 0
 * (the firmware default: every region is hardware; test_io_direct is this file built so).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <amplink/io.h>

static uint32_t mem[16];
static int reads, writes, waits;

static uint32_t rec_read32(const struct ampl_io_region *io, uint32_t off)
{
	(void)io;
	reads++;
	return 0xA0000000u | off;
}

static void rec_write32(const struct ampl_io_region *io, uint32_t off, uint32_t val)
{
	(void)io;
	(void)off;
	(void)val;
	writes++;
}

static int rec_wait32(const struct ampl_io_region *io, uint32_t off, uint32_t mask, uint32_t expect,
		      uint32_t timeout_us)
{
	(void)io;
	(void)off;
	(void)mask;
	(void)expect;
	(void)timeout_us;
	waits++;
	return 0;
}

static const struct ampl_io_ops rec_ops = { .read32 = rec_read32, .write32 = rec_write32, .wait32 = rec_wait32 };

static void reset(void)
{
	memset(mem, 0, sizeof(mem));
	reads = writes = waits = 0;
}

/* Without ops: every accessor reads and writes the memory itself. */
static void test_plain(void **state)
{
	(void)state;
	reset();
	struct ampl_io_region io = { .base = mem, .size = sizeof(mem) };
	ampl_io_write32(&io, 8, 0x12345678u);
	assert_int_equal(mem[2], 0x12345678u);
	mem[3] = 0xCAFEu;
	assert_int_equal(ampl_io_read32(&io, 12), 0xCAFEu);
	/* write_bytes: whole words, and a partial last word zero-padded. */
	mem[5] = 0xFFFFFFFFu;
	const uint8_t src[6] = { 1, 2, 3, 4, 5, 6 };
	ampl_io_write_bytes(&io, 16, src, sizeof(src));
	uint8_t back[8];
	ampl_io_read_words(&io, 16, back, sizeof(back));
	const uint8_t want[8] = { 1, 2, 3, 4, 5, 6, 0, 0 };
	assert_memory_equal(back, want, sizeof(want));
	/* wait32: 0 once the bits match; -ETIMEDOUT after the bound when they never do. */
	mem[0] = 0x5u;
	assert_int_equal(ampl_io_wait32(&io, 0, 0x4u, 0x4u, 10), 0);
	assert_int_equal(ampl_io_wait32(&io, 0, 0x2u, 0x2u, 10), -ETIMEDOUT);
}

/* With ops: the model's ops (AMPL_IO_OPS 1), or the memory as if there were none (AMPL_IO_OPS 0). */
static void test_with_ops(void **state)
{
	(void)state;
	reset();
	struct ampl_io_region io = { .base = mem, .size = sizeof(mem), .ops = &rec_ops };
	mem[1] = 0x77u;
	uint32_t v = ampl_io_read32(&io, 4);
	ampl_io_write32(&io, 8, 0x99u);
	int w = ampl_io_wait32(&io, 4, 0xFFu, 0x77u, 10);
	assert_int_equal(w, 0);
	if (AMPL_IO_OPS) {
		assert_int_equal(v, 0xA0000004u);
		assert_int_equal(mem[2], 0u);
		assert_int_equal(reads, 1);
		assert_int_equal(writes, 1);
		assert_int_equal(waits, 1);
	} else {
		assert_int_equal(v, 0x77u);
		assert_int_equal(mem[2], 0x99u);
		assert_int_equal(reads + writes + waits, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_with_ops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
