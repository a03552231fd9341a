/*
 * ampl_bench: the amplink benchmark as a program of its own; the same as `amplink bench` (see bench_lib.c).
 *
 * usage: ampl_bench [--count N] [--seconds S] [--only latency|throughput] [--firmware[=DIR]] [--json FILE]
 *                   [--plot DIR] [--plot-format svg|png] [--quiet]
 */
#include "bench.h"

int main(int argc, char **argv)
{
	return ampl_bench_main("ampl_bench", argc, argv);
}
