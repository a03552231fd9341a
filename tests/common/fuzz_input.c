/*
 * What the fuzz harnesses share (fuzz_input.h).
 */
#include "fuzz_input.h"

#include <stdio.h>
#include <stdlib.h>

uint8_t take(struct in *in)
{
	return in->at < in->n ? in->p[in->at++] : 0;
}

uint16_t take16(struct in *in)
{
	uint16_t hi = take(in);
	return (uint16_t)(hi << 8 | take(in));
}

uint32_t take32(struct in *in)
{
	uint32_t hi = take16(in);
	return hi << 16 | take16(in);
}

void fail(const char *what, long a, long b)
{
	fprintf(stderr, "%s: %s (%ld, %ld)\n", fuzz_name, what, a, b);
	abort();
}
