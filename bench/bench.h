/* amplink benchmark functions: the rows of `amplink bench` and ampl_bench (see bench_lib.c). */
#ifndef AMPL_BENCH_H
#define AMPL_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** One round-trip row: percentiles in microseconds over @n round trips. */
struct ampl_bench_lat {
	const char *name;
	double p50, p90, p99, p999, max;
	unsigned long n;
};

enum ampl_bench_tp_kind {
	AMPL_TP_RING,
	AMPL_TP_ICMSG,
	AMPL_TP_MULTI_COPY,
	AMPL_TP_MULTI_ZC,
	AMPL_TP_IPM,
	AMPL_TP_RPMSG_COPY,
	AMPL_TP_RPMSG_ZC,
};

/** One one-way streaming row. */
struct ampl_bench_tp {
	const char *name;
	enum ampl_bench_tp_kind kind;
	size_t size;         /* message bytes */
	uint64_t msgs;       /* messages sent (all received, in sequence, unless failed) */
	double msgs_per_s, gb_per_s;
	bool na;             /* the instance's largest message is smaller than size (max below) */
	bool failed;         /* errors or lost messages (reported on stderr) */
	int max;             /* the instance's largest message, -1 if not asked */
};

enum ampl_bench_what { AMPL_BENCH_ALL, AMPL_BENCH_LATENCY, AMPL_BENCH_THROUGHPUT };

struct ampl_bench_opts {
	const char *prog;     /* prefix of messages */
	unsigned long count;  /* round trips per latency row */
	double seconds;       /* streaming time per throughput row */
	enum ampl_bench_what what;
	const char *json;     /* NULL: no JSON */
};

/** Run the latency rows into @r (at most @max); *@blocking_from = the first blocking row. Returns the row count. */
unsigned ampl_bench_latency(struct ampl_bench_lat *r, unsigned max, unsigned long n, unsigned *blocking_from);

/** Run one throughput row for @seconds. */
void ampl_bench_throughput(struct ampl_bench_tp *r, enum ampl_bench_tp_kind kind, size_t size, double seconds);

/** Run the rows @o asks for, print the tables and the targets, write JSON. 0, or 1 if a row failed functionally. */
int ampl_bench_run(const struct ampl_bench_opts *o);

/** Parse options (--count --seconds --only --json --help) and run: the exit status. @prog prefixes messages. */
int ampl_bench_main(const char *prog, int argc, char **argv);

#endif /* AMPL_BENCH_H */
