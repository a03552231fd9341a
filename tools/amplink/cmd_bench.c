/* amplink bench: round-trip latency and one-way throughput of the stack beside this machine's limits. */
#include "cli.h"

#include "bench.h"

int cmd_bench(int argc, char **argv)
{
	return ampl_bench_main("amplink bench", argc, argv);
}
