/* amplink benchmark functions: the rows of `amplink bench` and ampl_bench (see bench_lib.c). */
#ifndef AMPL_BENCH_H
#define AMPL_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The latency histogram: log-scaled, AMPL_BENCH_HIST_PER_DECADE buckets per decade from AMPL_BENCH_HIST_MIN_US;
 * bucket k counts the round trips in [ampl_bench_hist_lo(k), ampl_bench_hist_lo(k + 1)) microseconds. The first
 * bucket also counts every time below the range, the last every time above it, so the counts sum to n.
 */
#define AMPL_BENCH_HIST_PER_DECADE 10
#define AMPL_BENCH_HIST_MIN_US 0.01 /* 10 ns */
#define AMPL_BENCH_HIST 80          /* 8 decades: 10 ns to 1 s */

/** The lower edge of histogram bucket @k in microseconds (k = AMPL_BENCH_HIST: the upper edge of the last). */
double ampl_bench_hist_lo(unsigned k);

/**
 * One round-trip row: percentiles in microseconds over @n round trips, and their histogram; or, for a peer's row
 * (iceoryx), skipped (the peer is not there) or failed, with the reason.
 */
struct ampl_bench_lat {
	const char *name;
	double p50, p90, p99, p999, max;
	unsigned long n;
	unsigned long hist[AMPL_BENCH_HIST];
	bool skipped, failed;
	char why[256];
};

enum ampl_bench_tp_kind {
	AMPL_TP_RING,
	AMPL_TP_ICMSG,
	AMPL_TP_MULTI_COPY,
	AMPL_TP_MULTI_ZC,
	AMPL_TP_IPM,
	AMPL_TP_RPMSG_COPY,
	AMPL_TP_RPMSG_ZC,
	AMPL_TP_ICEORYX,
	AMPL_TP_MULTI_INLINE, /* the multi-endpoint backend with inline-max 64 on both sides: 32 B inline */
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
	bool skipped;        /* a peer's row (iceoryx) that could not run: why says why */
	char why[256];       /* skipped, or a peer's row failed: the reason */
};

/**
 * One firmware row: a backend between this process and firmware under QEMU in one doorbell mode, round trips
 * (percentiles in microseconds over @n) and a one-way stream, beside the host-only row of the same backend.
 */
struct ampl_bench_fw {
	const char *name;      /* backend and path */
	const char *doorbell;  /* "polling" or "interrupts" */
	const char *image;     /* the firmware image's file name */
	const char *host_lat;  /* the host-only round-trip row beside it (ampl_bench_latency's name) */
	enum ampl_bench_tp_kind host_tp;
	size_t host_tp_size;   /* the host-only streaming row beside it */
	bool skipped, failed;
	char why[640];         /* skipped: the reason */
	double p50, p90, p99, max;
	unsigned n;
	uint64_t msgs;         /* streamed one way (each answered) */
	double msgs_per_s, mb_per_s;
};

/**
 * The code size of one firmware image (arm-none-eabi-size, Berkeley format: text, data, bss in bytes); the shared
 * window (section .shm, NOLOAD) is not in bss but in @window.
 */
struct ampl_bench_fw_size {
	const char *image;
	bool skipped;
	char why[640];
	unsigned long text, data, bss, window;
};

enum ampl_bench_what { AMPL_BENCH_ALL, AMPL_BENCH_LATENCY, AMPL_BENCH_THROUGHPUT };

struct ampl_bench_opts {
	const char *prog;     /* prefix of messages */
	unsigned long count;  /* round trips per latency row */
	double seconds;       /* streaming time per throughput row */
	enum ampl_bench_what what;
	const char *json;     /* NULL: no JSON */
	const char *firmware; /* NULL: no firmware rows; else the directory of the firmware images */
	const char *plot;     /* NULL: no figures; else the directory gnuplot writes them to */
	const char *plot_format; /* "svg" or "png" */
	bool quiet;           /* no progress on stderr (there is none either when stderr is not a terminal) */
	const char *rows;     /* NULL: every row; else the limit rows and those whose name holds it (any case) */
};

/** The default directory of the firmware images (the build's firmware/). */
const char *ampl_bench_fw_dir(void);

/**
 * Run the firmware rows into @r (at most @max), images from @dir: @count round trips and @seconds of streaming
 * each; rows that cannot run (no image, no QEMU) are marked skipped with the reason. Returns the row count.
 */
unsigned ampl_bench_firmware(struct ampl_bench_fw *r, unsigned max, const char *dir, unsigned count, double seconds);

/** The code size of each firmware image in @dir into @r (at most @max). Returns the row count. */
unsigned ampl_bench_fw_sizes(struct ampl_bench_fw_size *r, unsigned max, const char *dir);

/**
 * Run the latency rows into @r (at most @max): the limit rows, and the others whose name holds @rows (any case;
 * NULL: all); *@blocking_from = the first blocking row. Returns the row count.
 */
unsigned ampl_bench_latency(struct ampl_bench_lat *r, unsigned max, unsigned long n, const char *rows,
			    unsigned *blocking_from);

/** Does @rows (--rows) select a row besides the limits? */
bool ampl_bench_rows_match(const char *rows);

/** Run one throughput row for @seconds. */
void ampl_bench_throughput(struct ampl_bench_tp *r, enum ampl_bench_tp_kind kind, size_t size, double seconds);

/** The monotonic clock in nanoseconds. */
double ampl_bench_now_ns(void);

/** The program @name to run: $@env_var if set (NULL if it is not executable), else the first on PATH, in @buf. */
const char *ampl_bench_find_program(const char *env_var, const char *name, char *buf, size_t len);

/** Pin the calling process to CPU @cpu (modulo the CPUs online; nothing on a single CPU). */
void ampl_bench_pin(int cpu);

/**
 * iceoryx (bench_iceoryx.c), the peer Linux programs would use, in the same run: a 32-byte echo between two
 * processes, each busy polling its subscriber; @n round trips after @warmup into @v (ns). Starts and stops its own
 * RouDi. 0; 1 if it cannot run here (no iceoryx in this build, no iox-roudi, RouDi not ready in time, another
 * RouDi running); -1 if it failed; the reason in @why.
 */
int ampl_bench_iox_rtt(double *v, unsigned long n, unsigned long warmup, char *why, size_t whylen);

/**
 * iceoryx one-way streaming of @r->size bytes for @seconds into @r: loan, write in place, publish; the receiver
 * checks a sequence number and counts. Starts and stops its own RouDi. If it cannot run here, @r->skipped; if it
 * fails, @r->failed; the reason in @r->why.
 */
void ampl_bench_iox_stream(struct ampl_bench_tp *r, double seconds);

/** Run the rows @o asks for, print the tables and the targets, write JSON. 0, or 1 if a row failed functionally. */
int ampl_bench_run(const struct ampl_bench_opts *o);

/** Parse options (--count --seconds --only --json --help) and run: the exit status. @prog prefixes messages. */
int ampl_bench_main(const char *prog, int argc, char **argv);

#endif /* AMPL_BENCH_H */
