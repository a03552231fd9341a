/*
 * What the fuzz harnesses share: reading the input a byte at a time (missing bytes read as 0, so every input is a
 * complete program) and stopping on a broken invariant with a line that names the harness.
 *
 * Built into each harness (tests/fuzz/CMakeLists.txt), which defines fuzz_name.
 */
#ifndef AMPL_TEST_FUZZ_INPUT_H
#define AMPL_TEST_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

/* The input: @n bytes at @p, the next one at @at. */
struct in {
	const uint8_t *p;
	size_t n, at;
};

/* The next byte, 16 or 32 bits (big-endian: the corpus files read left to right), 0 past the end. */
uint8_t take(struct in *in);
uint16_t take16(struct in *in);
uint32_t take32(struct in *in);

/* The harness's name, for fail()'s line: defined by each harness. */
extern const char fuzz_name[];

/* Print "<fuzz_name>: @what (@a, @b)" and abort (the fuzzer keeps the input). */
_Noreturn void fail(const char *what, long a, long b);

#endif /* AMPL_TEST_FUZZ_INPUT_H */
