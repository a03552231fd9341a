/*
 * amplink benchmark functions, shared by `amplink bench` and the ampl_bench program.
 *
 * Round trips (latency) between two processes on the virtual SoC, through the raw IPI registers (the register
 * protocol by hand: the floor of the model), the mailbox framework's client API, the IPM API, and ICMsg, the
 * multi-endpoint backend and RPMsg through the IPC service, beside the limits of this machine measured in the
 * same run:
 *   cache-line ping-pong   two flags on two cache lines, tight spin (the polling limit)
 *   two SPSC rings         one single-producer single-consumer ring per direction (head, tail, 64-byte slots),
 *                          32-byte messages, tight spin: the limit for a ring-based protocol such as ICMsg
 *   futex ping-pong        FUTEX_WAIT/FUTEX_WAKE on a shared word (the blocking limit)
 *   UNIX socket            SOCK_SEQPACKET socketpair, read/write (a blocking kernel IPC limit)
 * One-way streaming (throughput) of 32 B, 256 B and 4 KiB messages through a plain SPSC ring in shared memory
 * (64 KiB, memcpy in and out: the limit), ICMsg (copy), the multi-endpoint backend and RPMsg (copy and zero-copy)
 * and IPM.
 * A benchmark, never a test of speed: it fails only when a row fails functionally (errors, lost messages).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sys/socket.h>
#include <linux/futex.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/drivers/xlnx_ipi_direct.h>
#include <amplink/mailbox_client.h>
#include <amplink/mailbox_controller.h>
#include <amplink/ipm.h>
#include <amplink/ipc/ipc_icmsg.h>
#include <amplink/ipc_service.h>
#include <amplink/host/soc.h>
#include <amplink/host/soc_trace.h>
#include <amplink/errno.h>

#include "board_variant.h"

#include "bench.h"

#define WARMUP 20000u

static const char *prog = "ampl_bench";
static int failed; /* a row failed functionally: exit 1 at the end */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: FAILED: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	failed = 1;
}

double ampl_bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

void ampl_bench_pin(int cpu)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 2)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu % n, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double ampl_bench_hist_lo(unsigned k)
{
	return AMPL_BENCH_HIST_MIN_US * pow(10.0, (double)k / AMPL_BENCH_HIST_PER_DECADE);
}

/* The histogram bucket of @us microseconds (below the range: 0; above: the last). */
static unsigned hist_bucket(double us)
{
	if (!(us >= AMPL_BENCH_HIST_MIN_US))
		return 0;
	double x = floor(log10(us / AMPL_BENCH_HIST_MIN_US) * AMPL_BENCH_HIST_PER_DECADE);
	unsigned k = x >= AMPL_BENCH_HIST ? AMPL_BENCH_HIST - 1 : (unsigned)x;
	/* log10 may round across an edge: the edges decide. */
	if (k > 0 && us < ampl_bench_hist_lo(k))
		k--;
	else if (k + 1 < AMPL_BENCH_HIST && us >= ampl_bench_hist_lo(k + 1))
		k++;
	return k;
}

/* ---- progress on stderr (a terminal only, not with --quiet) ---- */

static bool progress_on;
static const char *progress_what;
static unsigned progress_done, progress_total;

static void progress_start(const char *what, unsigned total)
{
	progress_what = what;
	progress_done = 0;
	progress_total = total;
}

/* Row @name is done: "\rPROG: WHAT ROW/TOTAL: NAME", cleared by progress_end(). */
static void progress_row(const char *name)
{
	progress_done++;
	if (!progress_on)
		return;
	fprintf(stderr, "\r%s: %s %u/%u: %.50s\033[K", prog, progress_what, progress_done, progress_total, name);
	fflush(stderr);
}

static void progress_end(void)
{
	if (progress_on && progress_done)
		fprintf(stderr, "\r\033[K");
	progress_done = 0;
}

static struct ampl_bench_lat summarize(const char *name, double *v, unsigned long n)
{
	qsort(v, n, sizeof(*v), cmp);
	struct ampl_bench_lat r = { .name = name, .p50 = v[n / 2] / 1e3, .p90 = v[(n * 90) / 100] / 1e3,
				     .p99 = v[(n * 99) / 100] / 1e3, .p999 = v[(n * 999) / 1000] / 1e3,
				     .max = v[n - 1] / 1e3, .n = n };
	for (unsigned long i = 0; i < n; i++)
		r.hist[hist_bucket(v[i] / 1e3)]++;
	progress_row(name);
	return r;
}

static void *shared_alloc(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	memset(p, 0, n);
	return p;
}

/* ---- cache-line ping-pong ---- */

struct pingpong {
	_Alignas(64) _Atomic uint32_t ping;
	_Alignas(64) _Atomic uint32_t pong;
};

static struct ampl_bench_lat bench_cacheline(unsigned long n, double *v)
{
	struct pingpong *pp = shared_alloc(sizeof(*pp));
	unsigned long total = n + WARMUP;
	pid_t c = fork();
	if (c == 0) {
		ampl_bench_pin(1);
		for (uint32_t i = 1; i <= total; i++) {
			while (atomic_load_explicit(&pp->ping, memory_order_acquire) != i)
				;
			atomic_store_explicit(&pp->pong, i, memory_order_release);
		}
		_exit(0);
	}
	ampl_bench_pin(0);
	for (uint32_t i = 1; i <= total; i++) {
		double t0 = ampl_bench_now_ns();
		atomic_store_explicit(&pp->ping, i, memory_order_release);
		while (atomic_load_explicit(&pp->pong, memory_order_acquire) != i)
			;
		if (i > WARMUP)
			v[i - WARMUP - 1] = ampl_bench_now_ns() - t0;
	}
	waitpid(c, NULL, 0);
	munmap(pp, sizeof(*pp));
	return summarize("cache-line ping-pong (limit)", v, n);
}

/* ---- futex ping-pong ---- */

static long futex(_Atomic uint32_t *w, int op, uint32_t val)
{
	return syscall(SYS_futex, (uint32_t *)w, op, val, NULL, NULL, 0);
}

static void futex_wait_for(_Atomic uint32_t *w, uint32_t want)
{
	uint32_t v;
	while ((v = atomic_load(w)) != want)
		futex(w, FUTEX_WAIT, v);
}

static struct ampl_bench_lat bench_futex(unsigned long n, double *v)
{
	struct pingpong *pp = shared_alloc(sizeof(*pp));
	unsigned long total = n + WARMUP / 10;
	pid_t c = fork();
	if (c == 0) {
		ampl_bench_pin(1);
		for (uint32_t i = 1; i <= total; i++) {
			futex_wait_for(&pp->ping, i);
			atomic_store(&pp->pong, i);
			futex(&pp->pong, FUTEX_WAKE, 1);
		}
		_exit(0);
	}
	ampl_bench_pin(0);
	for (uint32_t i = 1; i <= total; i++) {
		double t0 = ampl_bench_now_ns();
		atomic_store(&pp->ping, i);
		futex(&pp->ping, FUTEX_WAKE, 1);
		futex_wait_for(&pp->pong, i);
		if (i > WARMUP / 10)
			v[i - WARMUP / 10 - 1] = ampl_bench_now_ns() - t0;
	}
	waitpid(c, NULL, 0);
	munmap(pp, sizeof(*pp));
	return summarize("futex ping-pong (limit)", v, n);
}

/* ---- two SPSC rings (one per direction), 32-byte messages ---- */

#define SPSC_SLOTS 64u

struct spsc {
	_Alignas(64) _Atomic uint32_t head; /* written by the producer */
	_Alignas(64) _Atomic uint32_t tail; /* written by the consumer */
	_Alignas(64) uint8_t slot[SPSC_SLOTS][64];
};

static void spsc_push(struct spsc *q, const void *m)
{
	uint32_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
	while (h - atomic_load_explicit(&q->tail, memory_order_acquire) >= SPSC_SLOTS)
		;
	memcpy(q->slot[h % SPSC_SLOTS], m, 32);
	atomic_store_explicit(&q->head, h + 1, memory_order_release);
}

static void spsc_pop(struct spsc *q, void *m)
{
	uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
	while (atomic_load_explicit(&q->head, memory_order_acquire) == t)
		;
	memcpy(m, q->slot[t % SPSC_SLOTS], 32);
	atomic_store_explicit(&q->tail, t + 1, memory_order_release);
}

static struct ampl_bench_lat bench_spsc(unsigned long n, double *v)
{
	struct spsc *q = shared_alloc(2 * sizeof(*q)); /* q[0] requests, q[1] responses */
	unsigned long total = n + WARMUP;
	pid_t c = fork();
	if (c == 0) {
		ampl_bench_pin(1);
		uint32_t m[8];
		for (unsigned long i = 0; i < total; i++) {
			spsc_pop(&q[0], m);
			m[0]++;
			spsc_push(&q[1], m);
		}
		_exit(0);
	}
	ampl_bench_pin(0);
	uint32_t m[8] = { 0 }, r[8];
	unsigned long bad = 0;
	for (unsigned long i = 0; i < total; i++) {
		m[0] = (uint32_t)i;
		double t0 = ampl_bench_now_ns();
		spsc_push(&q[0], m);
		spsc_pop(&q[1], r);
		double t1 = ampl_bench_now_ns();
		if (r[0] != m[0] + 1)
			bad++;
		if (i >= WARMUP)
			v[i - WARMUP] = t1 - t0;
	}
	waitpid(c, NULL, 0);
	munmap(q, 2 * sizeof(*q));
	if (bad)
		fail("%lu bad round trips in the SPSC rings", bad);
	return summarize("two SPSC rings (ring limit)", v, n);
}

/* ---- an IPC service backend (ICMsg, multi-endpoint, RPMsg): a 32-byte echo ---- */

static struct ipc_ept ic_ept;
static _Atomic uint32_t ic_got, ic_bound;
static uint32_t ic_resp[8];

static void ic_bound_cb(void *priv)
{
	(void)priv;
	atomic_store(&ic_bound, 1);
}

static void ic_echo(const void *data, size_t len, void *priv)
{
	(void)priv;
	uint32_t w[8];
	if (len != sizeof(w))
		return;
	memcpy(w, data, sizeof(w));
	w[0]++;
	(void)ipc_service_send(&ic_ept, w, sizeof(w));
}

static void ic_recv(const void *data, size_t len, void *priv)
{
	(void)priv;
	if (len == sizeof(ic_resp))
		memcpy(ic_resp, data, len);
	atomic_fetch_add_explicit(&ic_got, 1, memory_order_release);
}

static const struct ampl_device *ic_setup(struct ampl_agent *ag, const char *inst,
				     void (*rx)(const void *data, size_t len, void *priv))
{
	const struct ampl_device *dev;
	static struct ipc_ept_cfg cfg;
	cfg = (struct ipc_ept_cfg){ .name = "bench", .cb = { .bound = ic_bound_cb, .received = rx } };
	if (ampl_agent_ipc_instance(ag, inst, &dev) || ipc_service_open_instance(dev) ||
	    ipc_service_register_endpoint(dev, &ic_ept, &cfg)) {
		fprintf(stderr, "%s: %s: %s\n", prog, inst, ampl_soc_last_error());
		_exit(1);
	}
	return dev;
}

/*
 * The echoing side (RPU0) runs received() in its interrupt thread, in @mode. The sender (APU) has no interrupt
 * thread: it sends, then runs its interrupt handler itself (ampl_agent_poll) until the echo is there, so the
 * round trip includes no hand-off between threads of one process.
 */
/* The IPC service backends of the default board: the remote agent and both instances. */
enum ic_backend { IC_ICMSG, IC_MULTI, IC_MULTI_INLINE, IC_RPMSG };
static const struct {
	const char *remote, *apu_inst, *rpu_inst;
	uint32_t inline_max; /* `inline-max` of both multi-endpoint instances (0: the default board as it is) */
} ic_board[] = {
	[IC_ICMSG] = { "rpu0", "ipc_icmsg_apu", "ipc_icmsg_rpu0", 0 },
	[IC_MULTI] = { "rpu1", "ipc_multi_apu", "ipc_multi_rpu1", 0 },
	[IC_MULTI_INLINE] = { "rpu1", "ipc_multi_apu", "ipc_multi_rpu1", 64 },
	[IC_RPMSG] = { "rpu0", "ipc_rpmsg_apu", "ipc_rpmsg_rpu0", 0 },
};

/* Create the SoC @name of the default board, with backend @be's `inline-max` on the multi-endpoint instances. */
static int ic_soc_create(const char *name, enum ic_backend be)
{
	return board_create_multi_inline(name, ic_board[be].inline_max, ic_board[be].inline_max);
}

/* Set while the row being measured wants tracing on (every agent's events recorded, as amplink trace --on). */
static bool ic_traced;

static struct ampl_bench_lat bench_icmsg(const char *label, enum ic_backend be, enum ampl_wait_mode mode,
					unsigned long n, double *v)
{
	const char *remote = ic_board[be].remote;
	char soc_name[64];
	snprintf(soc_name, sizeof(soc_name), "bench-ic-%d", (int)getpid());
	ampl_soc_destroy(soc_name);
	if (ic_soc_create(soc_name, be)) {
		fprintf(stderr, "%s: %s\n", prog, ampl_soc_last_error());
		exit(1);
	}
	if (ic_traced) {
		struct ampl_soc *soc;
		if (ampl_soc_open(soc_name, &soc) || ampl_soc_trace_set(soc, true)) {
			fprintf(stderr, "%s: tracing on: %s\n", prog, ampl_soc_last_error());
			exit(1);
		}
		ampl_soc_close(soc);
	}
	unsigned long total = n + WARMUP;
	pid_t c = fork();
	if (c == 0) {
		ampl_bench_pin(1);
		struct ampl_soc *soc;
		struct ampl_agent *ag;
		struct ampl_agent_opts o = { .mode = mode };
		if (ampl_soc_open(soc_name, &soc) || ampl_agent_attach(soc, remote, &o, &ag))
			_exit(1);
		ic_setup(ag, ic_board[be].rpu_inst, ic_echo);
		pause(); /* the interrupt thread echoes; SIGTERM ends it */
		_exit(0);
	}
	ampl_bench_pin(0);
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	struct ampl_agent_opts o = { .mode = mode, .no_irq_thread = true };
	if (ampl_soc_open(soc_name, &soc) || ampl_agent_attach(soc, "apu", &o, &ag)) {
		fprintf(stderr, "%s: %s\n", prog, ampl_soc_last_error());
		exit(1);
	}
	atomic_store(&ic_bound, 0);
	atomic_store(&ic_got, 0);
	ic_setup(ag, ic_board[be].apu_inst, ic_recv);
	double end = ampl_bench_now_ns() + 10e9;
	while (!atomic_load(&ic_bound) && ampl_bench_now_ns() < end) {
		ampl_agent_poll(ag);
		usleep(100);
	}
	unsigned long bad = 0;
	uint32_t w[8] = { 0 };
	for (unsigned long i = 0; atomic_load(&ic_bound) && i < total; i++) {
		w[0] = (uint32_t)i;
		uint32_t want = atomic_load(&ic_got) + 1;
		double t0 = ampl_bench_now_ns();
		int r = ipc_service_send(&ic_ept, w, sizeof(w));
		while (r == (int)sizeof(w) && atomic_load_explicit(&ic_got, memory_order_acquire) != want)
			ampl_agent_poll(ag);
		double t1 = ampl_bench_now_ns();
		if (r != (int)sizeof(w) || ic_resp[0] != w[0] + 1)
			bad++;
		if (i >= WARMUP)
			v[i - WARMUP] = t1 - t0;
		if (r != (int)sizeof(w))
			break;
	}
	if (!atomic_load(&ic_bound))
		fail("%s: not bound", label);
	kill(c, SIGTERM);
	waitpid(c, NULL, 0);
	ipc_service_deregister_endpoint(&ic_ept);
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	ampl_soc_destroy(soc_name);
	if (bad)
		fail("%lu bad round trips in %s", bad, label);
	return summarize(label, v, n);
}

/* ---- round trips on the virtual SoC: raw registers, the mailbox framework's client API, IPM ---- */

/* IPM_DIRECT: the register-level IPM driver (xlnx_ipi_direct.h) on both sides, on the destinations' settings. */
enum path { RAW, MBOX, IPM, IPM_DIRECT };

static void echo_cb(const struct ampl_device *dev, void *ud, uint32_t id, volatile void *data)
{
	(void)ud;
	(void)id;
	uint32_t w[8];
	for (unsigned i = 0; i < 8; i++)
		w[i] = ((volatile uint32_t *)data)[i] + 1;
	xlnx_ipi_response_write(dev, w, sizeof(w));
}

static struct mbox_chan *echo_rx_chan;

static void echo_rx(struct mbox_client *cl, void *mssg)
{
	(void)cl;
	struct zynqmp_ipi_message *m = mssg;
	uint32_t w[8];
	memcpy(w, m->data, sizeof(w));
	for (unsigned i = 0; i < 8; i++)
		w[i]++;
	xlnx_ipi_mbox_response_write(echo_rx_chan, w, sizeof(w));
}

static void echo_direct_cb(const struct ampl_device *dev, void *ud, uint32_t id, volatile void *data)
{
	(void)ud;
	(void)id;
	uint32_t w[8];
	for (unsigned i = 0; i < 8; i++)
		w[i] = ((volatile uint32_t *)data)[i] + 1;
	xlnx_ipi_direct_response_write(dev, w, sizeof(w));
}

/* A register-level IPM device on the destination the framework device labelled @label was set up on. */
static const struct ampl_device *direct_ipm_up(struct xlnx_ipi_direct_device *d, const char *label)
{
	const struct ampl_device *fw = ampl_device_get_by_label(label);
	return fw ? xlnx_ipi_direct_device_on(d, ((const struct xlnx_ipi_ipm_config *)fw->config)->mbox, label, 10000000)
		  : NULL;
}

/* The remote of the IPM_DIRECT path: the agent's interrupt handler never runs; this loop is RPU0's interrupt,
 * waiting for its line (the APU's request pending) as the raw path's remote does, then the driver's handler. */
static void direct_remote(struct ampl_soc *soc, enum ampl_wait_mode mode)
{
	struct ampl_agent *ag;
	struct ampl_agent_opts o = { .mode = mode, .no_irq_thread = true };
	static struct xlnx_ipi_direct_device d;
	const struct ampl_device *dev;
	if (ampl_agent_attach(soc, "rpu0", &o, &ag) || !(dev = direct_ipm_up(&d, "ipi_rpu0_apu")))
		_exit(1);
	ipm_register_callback(dev, echo_direct_cb, NULL);
	ipm_set_enabled(dev, 1);
	uint32_t bit = d.ipi.remote_mask;
	for (;;) {
		ampl_io_wait32(&d.ipi.host_regs, AMPL_IPI_ISR, bit, bit, UINT32_MAX);
		xlnx_ipi_direct_isr(dev);
	}
}

/* The remote of the raw path: the register protocol by hand, polling ISR, no driver and no framework. */
static void raw_remote(struct ampl_soc *soc, enum ampl_wait_mode mode)
{
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	const struct ampl_soc_agent *apu = ampl_soc_agent_by_name(p, "apu"), *rpu0 = ampl_soc_agent_by_name(p, "rpu0");
	struct ampl_io_region regs;
	ampl_soc_agent_regs(soc, rpu0, &regs);
	/* The register block's wait op follows the mode of the agent's port; attach sets it. */
	struct ampl_agent *ag;
	struct ampl_agent_opts o = { .mode = mode, .no_irq_thread = true, .no_dt_devices = true };
	ampl_agent_attach(soc, "rpu0", &o, &ag);
	uint64_t req = ampl_ipi_request_addr(p, apu, rpu0);
	volatile uint32_t *rq = ampl_soc_phys(soc, req, 32), *rs = ampl_soc_phys(soc, req + AMPL_IPI_RESP_OFFSET, 32);
	uint32_t bit = ampl_ipi_mask(apu);
	ampl_io_write32(&regs, AMPL_IPI_IER, bit); /* the request raises our line, which the wait below sleeps on */
	for (;;) {
		ampl_io_wait32(&regs, AMPL_IPI_ISR, bit, bit, UINT32_MAX);
		for (unsigned i = 0; i < 8; i++)
			rs[i] = rq[i] + 1;
		ampl_mb();
		ampl_io_write32(&regs, AMPL_IPI_ISR, bit);
	}
}

static struct ampl_bench_lat bench_rtt(const char *label, enum path path, enum ampl_wait_mode mode, unsigned long n,
			       double *v)
{
	char soc_name[64];
	snprintf(soc_name, sizeof(soc_name), "bench-%d", (int)getpid());
	ampl_soc_destroy(soc_name);
	if (ampl_soc_create(soc_name, &ampl_soc_zynqmp, NULL, 0)) {
		fprintf(stderr, "%s: %s\n", prog, ampl_soc_last_error());
		exit(1);
	}
	unsigned long total = n + (mode == AMPL_WAIT_BLOCK ? WARMUP / 10 : WARMUP);
	pid_t c = fork();
	if (c == 0) {
		ampl_bench_pin(1);
		struct ampl_soc *soc;
		struct ampl_agent *ag;
		struct ampl_agent_opts o = { .mode = mode };
		if (ampl_soc_open(soc_name, &soc))
			_exit(1);
		if (path == RAW)
			raw_remote(soc, mode);
		if (path == IPM_DIRECT)
			direct_remote(soc, mode);
		if (ampl_agent_attach(soc, "rpu0", &o, &ag))
			_exit(1);
		if (path == IPM) {
			const struct ampl_device *dev = ampl_device_get_by_label("ipi_rpu0_apu");
			ipm_register_callback(dev, echo_cb, NULL);
			ipm_set_enabled(dev, 1);
		} else {
			static struct mbox_client cl = { .rx_callback = echo_rx };
			struct mbox_controller *ctl;
			ampl_agent_mbox(ag, "apu", &ctl);
			echo_rx_chan = &ctl->chans[XLNX_IPI_RX_CHAN];
			mbox_bind_client(echo_rx_chan, &cl);
		}
		pause(); /* the interrupt thread does the work; SIGTERM ends it */
		_exit(0);
	}
	ampl_bench_pin(0);
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	struct ampl_agent_opts o = { .mode = mode, .no_irq_thread = true, .ack_timeout_us = 10000000 };
	if (ampl_soc_open(soc_name, &soc) || ampl_agent_attach(soc, "apu", &o, &ag)) {
		fprintf(stderr, "%s: %s\n", prog, ampl_soc_last_error());
		exit(1);
	}
	const struct ampl_device *dev = ampl_device_get_by_label("ipi_apu_rpu0");
	static struct xlnx_ipi_direct_device direct;
	if (path == IPM_DIRECT && !(dev = direct_ipm_up(&direct, "ipi_apu_rpu0")))
		fail("%s: no register-level IPM device", label);
	struct mbox_controller *ctl;
	ampl_agent_mbox(ag, "rpu0", &ctl);
	struct mbox_chan *tx = &ctl->chans[XLNX_IPI_TX_CHAN];
	struct mbox_client cl = { .tx_block = true, .tx_tout = 10000 };
	if (path == MBOX)
		mbox_bind_client(tx, &cl);
	const struct ampl_soc_agent *apu = ampl_agent_info(ag);
	const struct ampl_soc_agent *rpu0 = ampl_soc_agent_by_name(ampl_soc_get_profile(soc), "rpu0");
	struct ampl_io_region regs;
	ampl_soc_agent_regs(soc, apu, &regs);
	uint64_t raddr = ampl_ipi_request_addr(ampl_soc_get_profile(soc), apu, rpu0);
	volatile uint32_t *rq = ampl_soc_phys(soc, raddr, 32), *rs = ampl_soc_phys(soc, raddr + 0x20, 32);
	struct {
		size_t len;
		uint32_t w[8];
	} msg = { 32, { 0 } };
	uint32_t resp[8];
	unsigned long bad = 0;
	for (unsigned long i = 0; i < total; i++) {
		msg.w[0] = (uint32_t)i;
		double t0 = ampl_bench_now_ns();
		int r = 0;
		if (path == RAW) {
			for (unsigned k = 0; k < 8; k++)
				rq[k] = msg.w[k];
			ampl_mb();
			ampl_io_write32(&regs, AMPL_IPI_TRIG, ampl_ipi_mask(rpu0));
			r = ampl_io_wait32(&regs, AMPL_IPI_OBS, ampl_ipi_mask(rpu0), 0, 10000000);
			ampl_mb();
			for (unsigned k = 0; k < 8; k++)
				resp[k] = rs[k];
		} else if (path == MBOX) {
			r = mbox_send_message(tx, &msg);
			xlnx_ipi_mbox_response_read(tx, resp, sizeof(resp));
		} else if (path == IPM) {
			r = ipm_send(dev, 1, 0, msg.w, sizeof(msg.w));
			xlnx_ipi_response_read(dev, resp, sizeof(resp));
		} else {
			r = ipm_send(dev, 1, 0, msg.w, sizeof(msg.w));
			xlnx_ipi_direct_response_read(dev, resp, sizeof(resp));
		}
		double t1 = ampl_bench_now_ns();
		if (r || resp[0] != msg.w[0] + 1)
			bad++;
		if (i >= total - n)
			v[i - (total - n)] = t1 - t0;
	}
	kill(c, SIGTERM);
	waitpid(c, NULL, 0);
	if (path == MBOX)
		mbox_free_channel(tx);
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	ampl_soc_destroy(soc_name);
	if (bad)
		fail("%lu bad round trips in %s", bad, label);
	return summarize(label, v, n);
}

/* ---- iceoryx (bench_iceoryx.c): the peer, a 32-byte echo, both sides busy polling ---- */

static struct ampl_bench_lat bench_iceoryx(const char *label, unsigned long n, double *v)
{
	char why[sizeof(((struct ampl_bench_lat *)0)->why)];
	int r = ampl_bench_iox_rtt(v, n, WARMUP, why, sizeof(why));
	if (!r)
		return summarize(label, v, n);
	struct ampl_bench_lat l = { .name = label, .skipped = r > 0, .failed = r < 0 };
	snprintf(l.why, sizeof(l.why), "%s", why);
	progress_row(label);
	return l;
}

/* ---- UNIX SOCK_SEQPACKET socketpair between two processes (a blocking kernel IPC limit) ---- */

static struct ampl_bench_lat bench_unix(unsigned long n, double *v)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv)) {
		fail("socketpair: %s", strerror(errno));
		return summarize("UNIX seqpacket socketpair (limit)", memset(v, 0, n * sizeof(*v)), n);
	}
	unsigned long total = n + WARMUP / 10;
	pid_t c = fork();
	if (c == 0) {
		ampl_bench_pin(1);
		close(sv[0]);
		uint32_t w[8];
		for (unsigned long i = 0; i < total; i++) {
			if (read(sv[1], w, sizeof(w)) != (ssize_t)sizeof(w))
				_exit(1);
			w[0]++;
			if (write(sv[1], w, sizeof(w)) != (ssize_t)sizeof(w))
				_exit(1);
		}
		_exit(0);
	}
	close(sv[1]);
	ampl_bench_pin(0);
	uint32_t w[8] = { 0 }, r[8];
	unsigned long bad = 0;
	for (unsigned long i = 0; i < total; i++) {
		w[0] = (uint32_t)i;
		double t0 = ampl_bench_now_ns();
		if (write(sv[0], w, sizeof(w)) != (ssize_t)sizeof(w) || read(sv[0], r, sizeof(r)) != (ssize_t)sizeof(r)) {
			bad += total - i;
			memset(v, 0, n * sizeof(*v));
			break;
		}
		double t1 = ampl_bench_now_ns();
		if (r[0] != w[0] + 1)
			bad++;
		if (i >= total - n)
			v[i - (total - n)] = t1 - t0;
	}
	close(sv[0]);
	waitpid(c, NULL, 0);
	if (bad)
		fail("%lu bad round trips in the UNIX socketpair", bad);
	return summarize("UNIX seqpacket socketpair (limit)", v, n);
}

/* ---- one-way streaming ---- */

/* What the receiving process reports; the sender reads it to know when everything has arrived. */
struct tp_shared {
	_Alignas(64) _Atomic uint64_t msgs;
	_Atomic uint64_t bytes;
	_Atomic uint64_t bad; /* sequence breaks or wrong lengths */
	_Atomic uint32_t ready;
	_Alignas(64) _Atomic uint32_t stop;
};

static struct tp_shared *tp;
static uint32_t tp_next; /* receiver: the sequence number expected next */
static uint64_t tp_msgs, tp_bytes;
static size_t tp_len;

static inline void tp_count(uint32_t seq, size_t len)
{
	if (seq != tp_next || len != tp_len)
		atomic_fetch_add_explicit(&tp->bad, 1, memory_order_relaxed);
	tp_next = seq + 1;
	tp_bytes += len;
	atomic_store_explicit(&tp->bytes, tp_bytes, memory_order_relaxed);
	atomic_store_explicit(&tp->msgs, ++tp_msgs, memory_order_release);
}

/* Wait until the receiver has counted @sent messages (at most 5 s): the end time of the run, or 0 if lost. */
static double tp_wait_all(uint64_t sent, struct ampl_agent *ag)
{
	double limit = ampl_bench_now_ns() + 5e9;
	for (;;) {
		if (atomic_load_explicit(&tp->msgs, memory_order_acquire) >= sent)
			return ampl_bench_now_ns();
		if (ag)
			ampl_agent_poll(ag);
		if (ampl_bench_now_ns() > limit)
			return 0;
	}
}

static void tp_result(struct ampl_bench_tp *r, uint64_t sent, double t0, double t1)
{
	uint64_t got = atomic_load(&tp->msgs), bad = atomic_load(&tp->bad);
	r->msgs = sent;
	if (!t1 || got != sent || bad) {
		fail("%s, %zu B: %llu sent, %llu received, %llu out of sequence", r->name, r->size,
		     (unsigned long long)sent, (unsigned long long)got, (unsigned long long)bad);
		r->failed = true;
		return;
	}
	double s = (t1 - t0) / 1e9;
	r->msgs_per_s = (double)sent / s;
	r->gb_per_s = (double)atomic_load(&tp->bytes) / s / 1e9;
}

/* The plain SPSC ring limit: 64 KiB of slots (the message size rounded up to 64 bytes), memcpy in and out. */
#define RING_BYTES 65536u

struct tp_ring {
	_Alignas(64) _Atomic uint32_t head;
	_Alignas(64) _Atomic uint32_t tail;
	_Alignas(64) uint8_t data[RING_BYTES];
};

static void tp_ring(struct ampl_bench_tp *r, double seconds)
{
	size_t len = r->size, slot = (len + 63u) & ~(size_t)63u;
	uint32_t nslots = (uint32_t)(RING_BYTES / slot);
	struct tp_ring *q = shared_alloc(sizeof(*q));
	tp_len = len;
	pid_t c = fork();
	if (c == 0) {
		ampl_bench_pin(1);
		uint8_t buf[4096];
		uint32_t t = 0;
		for (;;) {
			uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);
			if (h == t) {
				if (atomic_load_explicit(&tp->stop, memory_order_relaxed))
					_exit(0);
				continue;
			}
			memcpy(buf, q->data + (size_t)(t % nslots) * slot, len);
			atomic_store_explicit(&q->tail, ++t, memory_order_release);
			uint32_t seq;
			memcpy(&seq, buf, 4);
			tp_count(seq, len);
		}
	}
	ampl_bench_pin(0);
	uint8_t src[4096];
	memset(src, 0xA5, sizeof(src));
	uint32_t h = 0;
	double t0 = ampl_bench_now_ns(), end = t0 + seconds * 1e9;
	for (;;) {
		if ((h & 255u) == 0 && ampl_bench_now_ns() >= end)
			break;
		while (h - atomic_load_explicit(&q->tail, memory_order_acquire) >= nslots)
			;
		memcpy(src, &h, 4);
		memcpy(q->data + (size_t)(h % nslots) * slot, src, len);
		atomic_store_explicit(&q->head, ++h, memory_order_release);
	}
	double t1 = tp_wait_all(h, NULL);
	atomic_store(&tp->stop, 1);
	waitpid(c, NULL, 0);
	tp_result(r, h, t0, t1);
	munmap(q, sizeof(*q));
}

/* The receivers on the virtual SoC count in their interrupt thread. */
static void tp_ipc_rx(const void *data, size_t len, void *priv)
{
	(void)priv;
	uint32_t seq;
	memcpy(&seq, data, 4);
	tp_count(seq, len);
}

static void tp_ipm_rx(const struct ampl_device *dev, void *ud, uint32_t id, volatile void *data)
{
	(void)dev;
	(void)ud;
	(void)id;
	tp_count(((volatile uint32_t *)data)[0], 32);
}

static void tp_bound_cb(void *priv)
{
	(void)priv;
	atomic_store(&ic_bound, 1);
}

static bool retryable(int r)
{
	return r == -ENOMEM || r == -EBUSY || r == -ENOBUFS;
}

/*
 * One-way streaming on the virtual SoC: the sender (APU) has no interrupt thread and runs its handler itself only
 * when it must wait for room (the multi-endpoint backend's buffer releases arrive that way); the receiver counts
 * in its interrupt thread, polling.
 */
static void tp_soc(struct ampl_bench_tp *r, enum ampl_bench_tp_kind kind, double seconds)
{
	size_t len = r->size;
	enum ic_backend be = kind == AMPL_TP_MULTI_COPY || kind == AMPL_TP_MULTI_ZC   ? IC_MULTI
			     : kind == AMPL_TP_MULTI_INLINE                           ? IC_MULTI_INLINE
			     : kind == AMPL_TP_RPMSG_COPY || kind == AMPL_TP_RPMSG_ZC ? IC_RPMSG
										  : IC_ICMSG;
	bool zero_copy = kind == AMPL_TP_MULTI_ZC || kind == AMPL_TP_RPMSG_ZC;
	const char *remote = ic_board[be].remote;
	char soc_name[64];
	snprintf(soc_name, sizeof(soc_name), "bench-tp-%d", (int)getpid());
	ampl_soc_destroy(soc_name);
	if (ic_soc_create(soc_name, be)) {
		fail("%s: %s", r->name, ampl_soc_last_error());
		r->failed = true;
		return;
	}
	tp_len = len;
	pid_t c = fork();
	if (c == 0) {
		ampl_bench_pin(1);
		struct ampl_soc *soc;
		struct ampl_agent *ag;
		struct ampl_agent_opts o = { .mode = AMPL_WAIT_POLL };
		if (ampl_soc_open(soc_name, &soc) || ampl_agent_attach(soc, remote, &o, &ag))
			_exit(1);
		if (kind == AMPL_TP_IPM) {
			const struct ampl_device *dev = ampl_device_get_by_label("ipi_rpu0_apu");
			ipm_register_callback(dev, tp_ipm_rx, NULL);
			ipm_set_enabled(dev, 1);
		} else {
			static struct ipc_ept_cfg cfg = { .name = "bench", .cb = { .received = tp_ipc_rx } };
			const struct ampl_device *dev;
			if (ampl_agent_ipc_instance(ag, ic_board[be].rpu_inst, &dev) ||
			    ipc_service_open_instance(dev) || ipc_service_register_endpoint(dev, &ic_ept, &cfg))
				_exit(1);
		}
		atomic_store(&tp->ready, 1);
		pause(); /* SIGTERM ends it */
		_exit(0);
	}
	ampl_bench_pin(0);
	struct ampl_soc *soc = NULL;
	struct ampl_agent *ag = NULL;
	const struct ampl_device *dev = NULL;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_POLL, .no_irq_thread = true, .ack_timeout_us = 10000000 };
	uint64_t sent = 0;
	double t0 = 0, t1 = 0;
	bool ok = false;
	if (ampl_soc_open(soc_name, &soc) || ampl_agent_attach(soc, "apu", &o, &ag)) {
		fail("%s: %s", r->name, ampl_soc_last_error());
		goto out;
	}
	double limit = ampl_bench_now_ns() + 10e9;
	while (!atomic_load(&tp->ready) && ampl_bench_now_ns() < limit)
		usleep(100);
	if (kind == AMPL_TP_IPM) {
		dev = ampl_device_get_by_label("ipi_apu_rpu0");
	} else {
		static struct ipc_ept_cfg cfg = { .name = "bench", .cb = { .bound = tp_bound_cb } };
		atomic_store(&ic_bound, 0);
		if (ampl_agent_ipc_instance(ag, ic_board[be].apu_inst, &dev) ||
		    ipc_service_open_instance(dev) || ipc_service_register_endpoint(dev, &ic_ept, &cfg)) {
			fail("%s: %s", r->name, ampl_soc_last_error());
			goto out;
		}
		while (!atomic_load(&ic_bound) && ampl_bench_now_ns() < limit) {
			ampl_agent_poll(ag);
			usleep(100);
		}
		if (!atomic_load(&ic_bound)) {
			fail("%s: endpoint not bound within 10 s", r->name);
			goto out;
		}
		int max = be != IC_ICMSG ? ipc_service_get_tx_buffer_size(&ic_ept) : (int)icmsg_peer_max(ipc_icmsg_link(dev));
		r->max = max;
		if (max >= 0 && (size_t)max < len) {
			r->na = true;
			ok = true;
			goto out;
		}
	}
	if (!atomic_load(&tp->ready)) {
		fail("%s: the receiver did not start", r->name);
		goto out;
	}
	uint8_t src[4096];
	memset(src, 0x5A, sizeof(src));
	uint64_t retries = 0;
	t0 = ampl_bench_now_ns();
	double end = t0 + seconds * 1e9;
	int err = 0;
	for (;;) {
		if ((sent & 63u) == 0 && ampl_bench_now_ns() >= end)
			break;
		uint32_t seq = (uint32_t)sent;
		memcpy(src, &seq, 4);
		int rc;
		for (;;) {
			if (kind == AMPL_TP_IPM) {
				rc = ipm_send(dev, 0, 0, src, 32);
			} else if (zero_copy) {
				void *buf;
				uint32_t sz = (uint32_t)len;
				rc = ipc_service_get_tx_buffer(&ic_ept, &buf, &sz, AMPL_NO_WAIT);
				if (!rc) {
					memcpy(buf, src, len); /* the producer writes its message in place */
					while (retryable(rc = ipc_service_send_nocopy(&ic_ept, buf, len)))
						ampl_agent_poll(ag);
					if (rc < 0)
						ipc_service_drop_tx_buffer(&ic_ept, buf);
				}
			} else {
				rc = ipc_service_send(&ic_ept, src, len);
			}
			if (!retryable(rc))
				break;
			if ((++retries & 1023u) == 0 && ampl_bench_now_ns() > end + 5e9)
				break; /* no room for 5 s: reported as lost below */
			if (kind != AMPL_TP_ICMSG)
				ampl_agent_poll(ag);
		}
		if (rc < 0) {
			err = rc;
			break;
		}
		sent++;
	}
	if (err) {
		fail("%s, %zu B: message %llu: %s", r->name, len, (unsigned long long)sent, ampl_strerror(err));
		goto out;
	}
	t1 = tp_wait_all(sent, ag);
	ok = true;
out:
	kill(c, SIGTERM);
	waitpid(c, NULL, 0);
	if (dev && kind != AMPL_TP_IPM && ic_ept.instance)
		ipc_service_deregister_endpoint(&ic_ept);
	if (ag)
		ampl_agent_detach(ag);
	if (soc)
		ampl_soc_close(soc);
	ampl_soc_destroy(soc_name);
	if (!ok)
		r->failed = true;
	else if (!r->na)
		tp_result(r, sent, t0, t1);
}

static const char *const tp_names[] = {
	[AMPL_TP_RING] = "SPSC ring 64 KiB (limit)",
	[AMPL_TP_ICMSG] = "ICMsg, copy",
	[AMPL_TP_MULTI_COPY] = "multi-endpoint, copy",
	[AMPL_TP_MULTI_ZC] = "multi-endpoint, zero-copy",
	[AMPL_TP_IPM] = "IPM (IPI buffer)",
	[AMPL_TP_RPMSG_COPY] = "RPMsg, copy",
	[AMPL_TP_RPMSG_ZC] = "RPMsg, zero-copy",
	[AMPL_TP_ICEORYX] = "iceoryx, zero-copy",
	[AMPL_TP_MULTI_INLINE] = "multi-endpoint, inline",
};

void ampl_bench_throughput(struct ampl_bench_tp *r, enum ampl_bench_tp_kind kind, size_t size, double seconds)
{
	memset(r, 0, sizeof(*r));
	r->name = tp_names[kind];
	r->kind = kind;
	r->size = size;
	r->max = -1;
	tp = shared_alloc(sizeof(*tp));
	tp_next = 0;
	tp_msgs = tp_bytes = 0;
	if (kind == AMPL_TP_RING)
		tp_ring(r, seconds);
	else if (kind == AMPL_TP_ICEORYX)
		ampl_bench_iox_stream(r, seconds);
	else
		tp_soc(r, kind, seconds);
	munmap(tp, sizeof(*tp));
	tp = NULL;
}

/* ---- latency rows ---- */

/* The rows a run measures (--rows): every limit row, and the others whose name holds @rows (any case; NULL: all). */
static bool row_wanted(const char *name, const char *rows)
{
	return !rows || strstr(name, "limit") || strcasestr(name, rows);
}

/* How a latency row is measured. */
enum lat_how { L_CACHELINE, L_SPSC, L_RTT, L_IPC, L_ICEORYX, L_FUTEX, L_UNIX };

/*
 * The latency rows, in their order: how each is measured, on what (L_RTT: enum path; L_IPC: enum ic_backend), in
 * which wait mode. The blocking rows (AMPL_WAIT_BLOCK) come last: they run n/10 round trips and are compared with
 * the futex limit.
 */
static const struct lat_row {
	const char *name;
	enum lat_how how;
	int what;
	enum ampl_wait_mode mode;
	bool traced; /* L_IPC: every agent's events recorded, as amplink trace --on */
} lat_rows[] = {
	{ "cache-line ping-pong (limit)", L_CACHELINE, 0, AMPL_WAIT_POLL, false },
	{ "two SPSC rings (ring limit)", L_SPSC, 0, AMPL_WAIT_POLL, false },
	{ "raw IPI registers, polling", L_RTT, RAW, AMPL_WAIT_POLL, false },
	{ "mailbox client, polling", L_RTT, MBOX, AMPL_WAIT_POLL, false },
	{ "IPM, polling", L_RTT, IPM, AMPL_WAIT_POLL, false },
	{ "IPM, register-level driver, polling", L_RTT, IPM_DIRECT, AMPL_WAIT_POLL, false },
	{ "ICMsg (IPC service), polling", L_IPC, IC_ICMSG, AMPL_WAIT_POLL, false },
	{ "ICMsg (IPC service), polling, tracing on", L_IPC, IC_ICMSG, AMPL_WAIT_POLL, true },
	{ "multi-endpoint, polling", L_IPC, IC_MULTI, AMPL_WAIT_POLL, false },
	{ "multi-endpoint, inline, polling", L_IPC, IC_MULTI_INLINE, AMPL_WAIT_POLL, false },
	{ "RPMsg (IPC service), polling", L_IPC, IC_RPMSG, AMPL_WAIT_POLL, false },
	{ "iceoryx pub/sub, polling", L_ICEORYX, 0, AMPL_WAIT_POLL, false },
	{ "raw IPI registers, adaptive", L_RTT, RAW, AMPL_WAIT_ADAPTIVE, false },
	{ "mailbox client, adaptive", L_RTT, MBOX, AMPL_WAIT_ADAPTIVE, false },
	{ "IPM, adaptive", L_RTT, IPM, AMPL_WAIT_ADAPTIVE, false },
	{ "ICMsg (IPC service), adaptive", L_IPC, IC_ICMSG, AMPL_WAIT_ADAPTIVE, false },
	{ "multi-endpoint, adaptive", L_IPC, IC_MULTI, AMPL_WAIT_ADAPTIVE, false },
	{ "multi-endpoint, inline, adaptive", L_IPC, IC_MULTI_INLINE, AMPL_WAIT_ADAPTIVE, false },
	{ "RPMsg (IPC service), adaptive", L_IPC, IC_RPMSG, AMPL_WAIT_ADAPTIVE, false },
	{ "futex ping-pong (limit)", L_FUTEX, 0, AMPL_WAIT_BLOCK, false },
	{ "UNIX seqpacket socketpair (limit)", L_UNIX, 0, AMPL_WAIT_BLOCK, false },
	{ "IPM, blocking", L_RTT, IPM, AMPL_WAIT_BLOCK, false },
};
#define LAT_ROWS (sizeof(lat_rows) / sizeof(lat_rows[0]))

bool ampl_bench_rows_match(const char *rows)
{
	for (unsigned i = 0; i < LAT_ROWS; i++)
		if (!strstr(lat_rows[i].name, "limit") && row_wanted(lat_rows[i].name, rows))
			return true;
	for (unsigned i = 0; i < sizeof(tp_names) / sizeof(tp_names[0]); i++)
		if (!strstr(tp_names[i], "limit") && row_wanted(tp_names[i], rows))
			return true;
	return false;
}

unsigned ampl_bench_latency(struct ampl_bench_lat *r, unsigned max, unsigned long n, const char *rows,
			    unsigned *blocking_from)
{
	if (n < 100)
		n = 100;
	unsigned long nb = n / 10 < 20000 ? n / 10 : 20000; /* blocking round trips cost ~60 us each here */
	if (nb < 100)
		nb = 100;
	double *v = malloc((n > nb ? n : nb) * sizeof(double));
	if (!v) {
		fail("out of memory");
		return 0;
	}
	unsigned k = 0, total = 0;
	for (unsigned i = 0; i < LAT_ROWS; i++)
		total += row_wanted(lat_rows[i].name, rows);
	progress_start("latency", total < max ? total : max);
	*blocking_from = 0;
	bool blocking = false;
	for (unsigned i = 0; i < LAT_ROWS && k < max; i++) {
		const struct lat_row *row = &lat_rows[i];
		const char *nm = row->name;
		if (row->mode == AMPL_WAIT_BLOCK && !blocking) {
			blocking = true;
			*blocking_from = k;
		}
		if (!row_wanted(nm, rows))
			continue;
		unsigned long m = blocking ? nb : n;
		switch (row->how) {
		case L_CACHELINE: r[k] = bench_cacheline(m, v); break;
		case L_SPSC: r[k] = bench_spsc(m, v); break;
		case L_RTT: r[k] = bench_rtt(nm, (enum path)row->what, row->mode, m, v); break;
		case L_IPC:
			ic_traced = row->traced;
			r[k] = bench_icmsg(nm, (enum ic_backend)row->what, row->mode, m, v);
			ic_traced = false;
			break;
		case L_ICEORYX: r[k] = bench_iceoryx(nm, m, v); break;
		case L_FUTEX: r[k] = bench_futex(m, v); break;
		case L_UNIX: r[k] = bench_unix(m, v); break;
		}
		k++;
	}
	progress_end();
	free(v);
	return k;
}

static const struct ampl_bench_lat *lat_find(const struct ampl_bench_lat *r, unsigned k, const char *name)
{
	for (unsigned i = 0; i < k; i++)
		if (!strcmp(r[i].name, name))
			return &r[i];
	return NULL;
}

static const struct ampl_bench_tp *tp_find(const struct ampl_bench_tp *t, unsigned k, enum ampl_bench_tp_kind kind,
					   size_t size)
{
	for (unsigned i = 0; i < k; i++)
		if (t[i].kind == kind && t[i].size == size)
			return &t[i];
	return NULL;
}

static void json_str(FILE *f, const char *s);

/* The start of row @i of a JSON array: {"@key": "@val" */
static void json_row(FILE *f, unsigned i, const char *key, const char *val)
{
	fprintf(f, "%s\n    {\"%s\": ", i ? "," : "", key);
	json_str(f, val);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else
			fputc(*s, f);
	fputc('"', f);
}

/* ---- figures (gnuplot) ---- */

const char *ampl_bench_find_program(const char *env_var, const char *name, char *buf, size_t len)
{
	const char *env = getenv(env_var);
	if (env && *env)
		return access(env, X_OK) ? NULL : env;
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		if (n && n + strlen(name) + 2 <= len) {
			snprintf(buf, len, "%.*s/%s", (int)n, path, name);
			if (!access(buf, X_OK))
				return buf;
		}
		path += n + (path[n] == ':');
	}
	return NULL;
}

/* The gnuplot to run: $AMPL_GNUPLOT, else gnuplot on PATH; NULL if there is none. */
static const char *gnuplot_path(void)
{
	static char buf[4096];
	return ampl_bench_find_program("AMPL_GNUPLOT", "gnuplot", buf, sizeof(buf));
}

/* A name for gnuplot: in double quotes, without the quotes it cannot hold. */
static void gp_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++)
		if (*s != '"' && *s != '\\')
			fputc(*s, f);
	fputc('"', f);
}

/* Which latency rows a figure shows: the limits beside the polling, the adaptive or the blocking rows. */
enum lat_fig { FIG_POLLING, FIG_ADAPTIVE, FIG_BLOCKING };

static bool lat_in_fig(const struct ampl_bench_lat *r, unsigned i, unsigned blocking_from, enum lat_fig fig)
{
	if (fig == FIG_BLOCKING)
		return i >= blocking_from;
	if (i >= blocking_from || !r[i].n)
		return false;
	return strstr(r[i].name, "(limit)") || strstr(r[i].name, "ring limit") ||
	       strstr(r[i].name, fig == FIG_POLLING ? ", polling" : ", adaptive");
}

/*
 * Write the figures of this run into @dir: latency-polling, latency-adaptive and latency-blocking (the share of
 * round trips per histogram bucket, log time axis) and throughput (msgs/s per mechanism and size), as @fmt (svg or
 * png), with the data files and the gnuplot script beside them. 0, or -1 (reported).
 */
static int plot(const char *dir, const char *fmt, const struct ampl_bench_lat *lat, unsigned nl, unsigned blocking_from,
		const struct ampl_bench_tp *tpr, unsigned nt, const struct ampl_bench_opts *o)
{
	const char *gp = gnuplot_path();
	if (!gp) {
		fprintf(stderr, "%s: --plot: gnuplot not found (install Debian's gnuplot-nox: apt-get install gnuplot-nox)\n",
			prog);
		return -1;
	}
	if (mkdir(dir, 0777) && errno != EEXIST) {
		fprintf(stderr, "%s: --plot: %s: %s\n", prog, dir, strerror(errno));
		return -1;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/bench.gp", dir);
	FILE *g = fopen(path, "w");
	if (!g) {
		fprintf(stderr, "%s: --plot: %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	bool png = !strcmp(fmt, "png");
	fprintf(g, "# amplink bench figures: gnuplot bench.gp (in this directory)\n");
	fprintf(g, "set terminal %s size 1100,650 noenhanced\nset grid\nset key outside right top\n",
		png ? "png" : "svg");
	if (nl) {
		snprintf(path, sizeof(path), "%s/latency.dat", dir);
		FILE *d = fopen(path, "w");
		if (!d) {
			fprintf(stderr, "%s: --plot: %s: %s\n", prog, path, strerror(errno));
			fclose(g);
			return -1;
		}
		/* One block per row (gnuplot's index i): bucket lower edge in us, share of the row's round trips. */
		fprintf(d, "# latency histograms: one block per row; lower edge (us), upper edge (us), count, share\n");
		for (unsigned i = 0; i < nl; i++) {
			fprintf(d, "# %s\n", lat[i].name);
			for (unsigned k = 0; k < AMPL_BENCH_HIST; k++)
				fprintf(d, "%.6g %.6g %lu %.6g\n", ampl_bench_hist_lo(k), ampl_bench_hist_lo(k + 1),
					lat[i].hist[k], lat[i].n ? (double)lat[i].hist[k] / (double)lat[i].n : 0.0);
			fprintf(d, "\n\n");
		}
		fclose(d);
		static const char *const fig_name[] = { "polling", "adaptive", "blocking" };
		for (enum lat_fig fig = FIG_POLLING; fig <= FIG_BLOCKING; fig++) {
			fprintf(g, "\nset output 'latency-%s.%s'\n", fig_name[fig], fmt);
			/* The time axis spans the non-empty buckets of the figure's rows. */
			unsigned lo = AMPL_BENCH_HIST, hi = 0;
			for (unsigned i = 0; i < nl; i++)
				for (unsigned k = 0; k < AMPL_BENCH_HIST && lat_in_fig(lat, i, blocking_from, fig); k++)
					if (lat[i].hist[k]) {
						lo = k < lo ? k : lo;
						hi = k > hi ? k : hi;
					}
			if (lo > hi)
				lo = hi = 0;
			fprintf(g, "set title \"Round trip, 32 bytes: %s rows beside the limits, %lu round trips per row\\n"
				   "(times depend on this machine's load and on CPU placement)\"\n",
				fig_name[fig], fig == FIG_BLOCKING && blocking_from < nl ? lat[blocking_from].n : o->count);
			fprintf(g, "set logscale x\nset xrange [%g:%g]\nset xlabel 'round trip (us)'\n"
				   "set ylabel 'share of round trips'\nset format x '%%g'\nset style data steps\n",
				ampl_bench_hist_lo(lo), ampl_bench_hist_lo(hi + 1));
			fprintf(g, "plot");
			bool any = false;
			for (unsigned i = 0; i < nl; i++) {
				if (!lat_in_fig(lat, i, blocking_from, fig))
					continue;
				fprintf(g, "%s 'latency.dat' index %u using 1:4 with steps lw 2 title ", any ? "," : "", i);
				gp_str(g, lat[i].name);
				any = true;
			}
			if (!any)
				fprintf(g, " NaN notitle");
			fprintf(g, "\n");
		}
		fprintf(g, "\nunset logscale x\nset xrange [*:*]\nunset title\n");
	}
	if (nt) {
		snprintf(path, sizeof(path), "%s/throughput.dat", dir);
		FILE *d = fopen(path, "w");
		if (!d) {
			fprintf(stderr, "%s: --plot: %s: %s\n", prog, path, strerror(errno));
			fclose(g);
			return -1;
		}
		/* One line per mechanism: millions of messages per second at 32 B, 256 B, 4 KiB ('-': n/a or failed). */
		static const size_t sizes[] = { 32, 256, 4096 };
		fprintf(d, "# mechanism, M msgs/s at 32 B, 256 B, 4096 B ('-': not run, n/a or failed)\n");
		for (unsigned i = 0; i < nt; i++) {
			bool seen = false;
			for (unsigned j = 0; j < i; j++)
				seen |= tpr[j].kind == tpr[i].kind;
			if (seen)
				continue;
			gp_str(d, tpr[i].name);
			for (unsigned s = 0; s < 3; s++) {
				const struct ampl_bench_tp *t = tp_find(tpr, nt, tpr[i].kind, sizes[s]);
				if (t && !t->na && !t->failed && !t->skipped)
					fprintf(d, " %.4f", t->msgs_per_s / 1e6);
				else
					fprintf(d, " -");
			}
			fprintf(d, "\n");
		}
		fclose(d);
		fprintf(g, "\nset output 'throughput.%s'\n", fmt);
		fprintf(g, "set title \"One-way streaming, %.2f s per row, polling\\n"
			   "(rates depend on this machine's load and on CPU placement)\"\n",
			o->seconds);
		fprintf(g, "set datafile missing '-'\nset style data histograms\nset style histogram clustered gap 1\n"
			   "set style fill solid 0.8 border -1\nset boxwidth 0.9\nset xtics rotate by -30\n"
			   "set xlabel ''\nset ylabel 'million messages per second (log)'\nset logscale y\n"
			   "set yrange [*:*]\n");
		fprintf(g, "plot 'throughput.dat' using 2:xtic(1) title '32 B', '' using 3 title '256 B', "
			   "'' using 4 title '4 KiB'\n");
	}
	fclose(g);
	pid_t c = fork();
	if (c == 0) {
		if (chdir(dir))
			_exit(127);
		execl(gp, "gnuplot", "bench.gp", (char *)NULL);
		_exit(127);
	}
	int st = 0;
	if (c < 0 || waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "%s: --plot: %s failed on %s/bench.gp\n", prog, gp, dir);
		return -1;
	}
	printf("\nFigures in %s:%s%s%s (.%s; data and gnuplot script beside them)\n", dir,
	       nl ? " latency-polling, latency-adaptive, latency-blocking" : "", nl && nt ? "," : "",
	       nt ? " throughput" : "", fmt);
	return 0;
}

int ampl_bench_run(const struct ampl_bench_opts *o)
{
	if (o->prog)
		prog = o->prog;
	failed = 0;
	progress_on = !o->quiet && isatty(STDERR_FILENO);
	struct ampl_bench_lat lat[32];
	struct ampl_bench_tp tpr[32];
	unsigned nl = 0, nt = 0, blocking_from = 0;
	if (o->what != AMPL_BENCH_THROUGHPUT) {
		nl = ampl_bench_latency(lat, 32, o->count, o->rows, &blocking_from);
		printf("Round trip, 32-byte request and response, two processes pinned to CPUs 0/1 (us)\n");
		printf("%-40s %9s %9s %9s %9s %10s %8s %12s\n", "mechanism", "p50", "p90", "p99", "p99.9", "max", "n",
		       "p50 / limit");
		for (unsigned i = 0; i < nl; i++) {
			double limit = i >= blocking_from ? lat[blocking_from].p50 : lat[0].p50;
			if (lat[i].skipped || lat[i].failed) {
				printf("%-40s %s: %s\n", lat[i].name, lat[i].skipped ? "skipped" : "FAILED", lat[i].why);
				continue;
			}
			printf("%-40s %9.3f %9.3f %9.3f %9.3f %10.1f %8lu %11.2fx\n", lat[i].name, lat[i].p50, lat[i].p90,
			       lat[i].p99, lat[i].p999, lat[i].max, lat[i].n, lat[i].p50 / limit);
		}
		printf("(polling and adaptive rows are compared with the cache-line limit, blocking rows with the futex\n"
		       " limit; ICMsg, multi-endpoint and RPMsg are a 32-byte echo through ipc_service_send, the two-ring row\n"
		       " their ring-based limit; iceoryx is the same echo through its publish/subscribe, its own RouDi\n"
		       " started for the row, both sides busy polling their subscriber)\n");
	}
	static const size_t sizes[] = { 32, 256, 4096 };
	if (o->what != AMPL_BENCH_LATENCY) {
		static const enum ampl_bench_tp_kind kinds[] = {
			AMPL_TP_RING,	    AMPL_TP_ICMSG,    AMPL_TP_MULTI_COPY, AMPL_TP_MULTI_ZC, AMPL_TP_MULTI_INLINE,
			AMPL_TP_RPMSG_COPY, AMPL_TP_RPMSG_ZC, AMPL_TP_ICEORYX,	  AMPL_TP_IPM
		};
		unsigned total = 0;
		for (unsigned pass = 0; pass < 2; pass++) {
			if (pass)
				progress_start("throughput", total);
			for (unsigned s = 0; s < 3; s++)
				for (unsigned k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
					if ((kinds[k] == AMPL_TP_IPM || kinds[k] == AMPL_TP_MULTI_INLINE) && sizes[s] != 32)
						continue; /* the IPI buffer holds one 32-byte message; inline: up to 64 */
					if (!row_wanted(tp_names[kinds[k]], o->rows))
						continue;
					if (!pass) {
						total++;
						continue;
					}
					ampl_bench_throughput(&tpr[nt], kinds[k], sizes[s], o->seconds);
					progress_row(tpr[nt++].name);
				}
		}
		progress_end();
		if (nl)
			printf("\n");
		printf("One-way streaming, %.2f s per row, sender on CPU 0, receiver on CPU 1, polling\n", o->seconds);
		printf("%6s  %-28s %12s %9s %12s\n", "size", "mechanism", "msgs/s", "GB/s", "rate / limit");
		for (unsigned i = 0; i < nt; i++) {
			const struct ampl_bench_tp *t = &tpr[i], *lim = tp_find(tpr, nt, AMPL_TP_RING, t->size);
			if (t->na)
				printf("%6zu  %-28s %12s (max %d)\n", t->size, t->name, "n/a", t->max);
			else if (t->skipped)
				printf("%6zu  %-28s skipped: %s\n", t->size, t->name, t->why);
			else if (t->failed)
				printf("%6zu  %-28s %12s%s%s\n", t->size, t->name, "FAILED", t->why[0] ? ": " : "", t->why);
			else
				printf("%6zu  %-28s %11.2fM %9.3f %11.2fx\n", t->size, t->name, t->msgs_per_s / 1e6,
				       t->gb_per_s, lim && lim->msgs_per_s > 0 ? t->msgs_per_s / lim->msgs_per_s : 0.0);
		}
		printf("(the sender copies each message in, or writes it in place for zero-copy; the receiver checks a\n"
		       " sequence number and counts bytes; the ring limit also copies each message out; iceoryx loans a\n"
		       " chunk, writes the message in it and publishes it, to a subscriber queue of 256 that blocks the\n"
		       " publisher when full)\n");
	}
	static struct ampl_bench_fw fw[16];
	static struct ampl_bench_fw_size fsz[8];
	unsigned nf = 0, ns = 0;
	if (o->firmware) {
		/* Round trips through QEMU take 10 us to milliseconds: a share of --count, bounded. */
		unsigned long fn = o->count / 20;
		fn = fn < 100 ? 100 : fn > 2000 ? 2000 : fn;
		printf("\nLinux to firmware under QEMU (Cortex-M4, mps2-an386; images in %s)\n", o->firmware);
		fflush(stdout);
		nf = ampl_bench_firmware(fw, 16, o->firmware, (unsigned)fn, o->seconds);
		printf("Round trip (us, %lu asks of 13-252 bytes, 8-64 through the bridge, one at a time) and one-way stream "
		       "(%.2f s, up to 16\nin flight; each ask answered), beside the host-only rows of this run (p50 us; "
		       "msgs/s at the size shown)\n", fn, o->seconds);
		printf("%-30s %-10s %9s %9s %9s %6s %10s %7s %10s %12s\n", "backend", "doorbell", "p50", "p90", "p99", "n",
		       "msgs/s", "MB/s", "host p50", "host msgs/s");
		for (unsigned i = 0; i < nf; i++) {
			const struct ampl_bench_fw *f = &fw[i];
			const struct ampl_bench_lat *hl = lat_find(lat, nl, f->host_lat);
			const struct ampl_bench_tp *ht = tp_find(tpr, nt, f->host_tp, f->host_tp_size);
			char hp[32] = "-", hm[32] = "-";
			if (hl)
				snprintf(hp, sizeof(hp), "%.3f", hl->p50);
			if (ht && !ht->na && !ht->failed)
				snprintf(hm, sizeof(hm), "%.2fM %zuB", ht->msgs_per_s / 1e6, ht->size);
			if (f->skipped)
				printf("%-30s %-10s skipped: %s\n", f->name, f->doorbell, f->why);
			else if (f->failed)
				printf("%-30s %-10s FAILED (see above)\n", f->name, f->doorbell);
			else
				printf("%-30s %-10s %9.1f %9.1f %9.1f %6u %10.0f %7.2f %10s %12s\n", f->name, f->doorbell,
				       f->p50, f->p90, f->p99, f->n, f->msgs_per_s, f->mb_per_s, hp, hm);
			if (f->failed)
				failed = 1;
		}
		printf("(host p50: the same backend between two processes, polling beside polling, adaptive beside\n"
		       " interrupts, IPM blocking beside IPM interrupts; IPM streams one request at a time)\n");
		ns = ampl_bench_fw_sizes(fsz, 8, o->firmware);
		printf("\nFirmware images of this build (arm-none-eabi-size, bytes; window: the shared 16 MiB, NOLOAD, not in bss)\n");
		printf("%-22s %9s %9s %9s %9s\n", "image", "text", "data", "bss", "window");
		for (unsigned i = 0; i < ns; i++)
			if (fsz[i].skipped)
				printf("%-22s skipped: %s\n", fsz[i].image, fsz[i].why);
			else
				printf("%-22s %9lu %9lu %9lu %9lu\n", fsz[i].image, fsz[i].text, fsz[i].data, fsz[i].bss,
				       fsz[i].window);
	}
	/* The project's targets, reported against, never enforced. */
	printf("\nTargets (reported, not enforced):\n");
	const struct ampl_bench_lat *ring = lat_find(lat, nl, "two SPSC rings (ring limit)");
	static const struct {
		const char *row, *base;
		double max;
	} rt[] = {
		{ "ICMsg (IPC service), polling", NULL, 1.0 },
		{ "multi-endpoint, polling", NULL, 1.5 },
		{ "multi-endpoint, inline, polling", NULL, 1.5 },
		{ "RPMsg (IPC service), polling", NULL, 1.5 },
		{ "ICMsg (IPC service), adaptive", "ICMsg (IPC service), polling", 1.1 },
		{ "multi-endpoint, adaptive", "multi-endpoint, polling", 1.1 },
		{ "multi-endpoint, inline, adaptive", "multi-endpoint, inline, polling", 1.1 },
		{ "RPMsg (IPC service), adaptive", "RPMsg (IPC service), polling", 1.1 },
		{ "ICMsg (IPC service), polling, tracing on", "ICMsg (IPC service), polling", 0 },
	};
	for (unsigned i = 0; i < sizeof(rt) / sizeof(rt[0]); i++) {
		const struct ampl_bench_lat *a = lat_find(lat, nl, rt[i].row);
		const struct ampl_bench_lat *b = rt[i].base ? lat_find(lat, nl, rt[i].base) : ring;
		if (!a || !b || a->skipped || a->failed || b->p50 <= 0)
			continue;
		char what[120];
		snprintf(what, sizeof(what), "round trip %s / %s", rt[i].row, rt[i].base ? "polling" : "two-ring limit");
		if (rt[i].max > 0)
			printf("  %-70s %6.2fx  (target <= %.1fx)\n", what, a->p50 / b->p50, rt[i].max);
		else
			printf("  %-70s %6.2fx  (the cost of tracing on)\n", what, a->p50 / b->p50);
	}
	static const struct {
		enum ampl_bench_tp_kind kind;
		size_t size;
		double min;
	} tt[] = {
		{ AMPL_TP_ICMSG, 32, 0.8 },      { AMPL_TP_ICMSG, 256, 0.8 },       { AMPL_TP_RPMSG_COPY, 32, 0.5 },
		{ AMPL_TP_RPMSG_COPY, 256, 0.5 }, { AMPL_TP_MULTI_COPY, 32, 0.5 },  { AMPL_TP_MULTI_COPY, 256, 0.5 },
		{ AMPL_TP_MULTI_ZC, 4096, 0.9 },  { AMPL_TP_RPMSG_ZC, 4096, 0.9 },   { AMPL_TP_MULTI_INLINE, 32, 0.5 },
	};
	for (unsigned i = 0; i < sizeof(tt) / sizeof(tt[0]); i++) {
		const struct ampl_bench_tp *a = tp_find(tpr, nt, tt[i].kind, tt[i].size);
		const struct ampl_bench_tp *lim = tp_find(tpr, nt, AMPL_TP_RING, tt[i].size);
		if (!a || !lim || a->na || a->failed || a->skipped || lim->msgs_per_s <= 0)
			continue;
		char what[120];
		snprintf(what, sizeof(what), "one way %s at %zu B / ring limit", a->name, tt[i].size);
		printf("  %-70s %6.2fx  (target >= %.1fx)\n", what, a->msgs_per_s / lim->msgs_per_s, tt[i].min);
	}
	static const struct {
		enum ampl_bench_tp_kind zc, copy;
	} zc[] = { { AMPL_TP_MULTI_ZC, AMPL_TP_MULTI_COPY }, { AMPL_TP_RPMSG_ZC, AMPL_TP_RPMSG_COPY } };
	static const size_t zc_sizes[] = { 32, 256, 4096 };
	for (unsigned i = 0; i < sizeof(zc) / sizeof(zc[0]); i++)
		for (unsigned k = 0; k < sizeof(zc_sizes) / sizeof(zc_sizes[0]); k++) {
			const struct ampl_bench_tp *z = tp_find(tpr, nt, zc[i].zc, zc_sizes[k]);
			const struct ampl_bench_tp *c = tp_find(tpr, nt, zc[i].copy, zc_sizes[k]);
			if (!z || !c || z->na || c->na || z->failed || c->failed || c->msgs_per_s <= 0)
				continue;
			char what[120];
			snprintf(what, sizeof(what), "one way %s / copy at %zu B", z->name, zc_sizes[k]);
			printf("  %-70s %6.2fx  (target >= 1.0x)\n", what, z->msgs_per_s / c->msgs_per_s);
		}
	if (o->json) {
		FILE *f = fopen(o->json, "w");
		if (!f) {
			fprintf(stderr, "%s: %s: %s\n", prog, o->json, strerror(errno));
			return 1;
		}
		fprintf(f, "{\n  \"unit\": \"us\",\n  \"count\": %lu,\n  \"seconds\": %g,\n", o->count, o->seconds);
		fprintf(f, "  \"histogram_buckets\": {\"per_decade\": %d, \"min_us\": %g, \"buckets\": %d},\n",
			AMPL_BENCH_HIST_PER_DECADE, AMPL_BENCH_HIST_MIN_US, AMPL_BENCH_HIST);
		fprintf(f, "  \"results\": [");
		for (unsigned i = 0; i < nl; i++) {
			json_row(f, i, "name", lat[i].name);
			if (lat[i].skipped || lat[i].failed) {
				fprintf(f, ", \"status\": \"%s\", \"reason\": ", lat[i].skipped ? "skipped" : "failed");
				json_str(f, lat[i].why);
				fprintf(f, "}");
				continue;
			}
			fprintf(f, ", \"status\": \"ok\", \"p50\": %.4f, \"p90\": %.4f, \"p99\": %.4f, \"p999\": %.4f, \"max\": %.3f, \"n\": %lu, "
				   "\"blocking\": %s, \"histogram\": [",
				lat[i].p50, lat[i].p90, lat[i].p99, lat[i].p999, lat[i].max, lat[i].n,
				i >= blocking_from ? "true" : "false");
			for (unsigned k = 0, first = 1; k < AMPL_BENCH_HIST; k++)
				if (lat[i].hist[k]) {
					fprintf(f, "%s[%.6g, %.6g, %lu]", first ? "" : ", ", ampl_bench_hist_lo(k),
						ampl_bench_hist_lo(k + 1), lat[i].hist[k]);
					first = 0;
				}
			fprintf(f, "]}");
		}
		fprintf(f, "\n  ],\n  \"throughput\": [");
		for (unsigned i = 0; i < nt; i++) {
			const struct ampl_bench_tp *t = &tpr[i];
			json_row(f, i, "name", t->name);
			fprintf(f, ", \"size\": %zu, ", t->size);
			if (t->na) {
				fprintf(f, "\"status\": \"n/a\", \"max\": %d}", t->max);
			} else if (t->skipped || t->failed) {
				fprintf(f, "\"status\": \"%s\"", t->skipped ? "skipped" : "failed");
				if (t->why[0]) {
					fprintf(f, ", \"reason\": ");
					json_str(f, t->why);
				}
				fprintf(f, "}");
			} else {
				fprintf(f, "\"status\": \"ok\", \"msgs\": %llu, \"msgs_per_s\": %.0f, \"gb_per_s\": %.4f}",
					(unsigned long long)t->msgs, t->msgs_per_s, t->gb_per_s);
			}
		}
		fprintf(f, "\n  ],\n  \"firmware\": [");
		for (unsigned i = 0; i < nf; i++) {
			const struct ampl_bench_fw *w = &fw[i];
			json_row(f, i, "name", w->name);
			fprintf(f, ", \"doorbell\": \"%s\", \"image\": ", w->doorbell);
			json_str(f, w->image);
			fprintf(f, ", \"host_row\": ");
			json_str(f, w->host_lat);
			if (w->skipped) {
				fprintf(f, ", \"status\": \"skipped\", \"reason\": ");
				json_str(f, w->why);
				fprintf(f, "}");
			} else if (w->failed) {
				fprintf(f, ", \"status\": \"failed\"}");
			} else {
				fprintf(f, ", \"status\": \"ok\", \"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, \"max\": %.3f, "
					   "\"n\": %u, \"msgs\": %llu, \"msgs_per_s\": %.0f, \"mb_per_s\": %.4f}",
					w->p50, w->p90, w->p99, w->max, w->n, (unsigned long long)w->msgs, w->msgs_per_s,
					w->mb_per_s);
			}
		}
		fprintf(f, "\n  ],\n  \"firmware_size\": [");
		for (unsigned i = 0; i < ns; i++) {
			json_row(f, i, "image", fsz[i].image);
			if (fsz[i].skipped) {
				fprintf(f, ", \"status\": \"skipped\", \"reason\": ");
				json_str(f, fsz[i].why);
				fprintf(f, "}");
			} else {
				fprintf(f, ", \"status\": \"ok\", \"text\": %lu, \"data\": %lu, \"bss\": %lu, \"window\": %lu}",
					fsz[i].text, fsz[i].data, fsz[i].bss, fsz[i].window);
			}
		}
		fprintf(f, "\n  ],\n  \"failed\": %s\n}\n", failed ? "true" : "false");
		fclose(f);
	}
	if (o->plot && plot(o->plot, o->plot_format ? o->plot_format : "svg", lat, nl, blocking_from, tpr, nt, o))
		return 1;
	if (failed)
		fprintf(stderr, "%s: a row failed functionally (see above)\n", prog);
	return failed ? 1 : 0;
}

static void usage(FILE *f, const char *p)
{
	fprintf(f,
		"usage: %s [--count N] [--seconds S] [--only latency|throughput] [--rows TEXT] [--firmware[=DIR]]\n"
		"       [--json FILE] [--plot DIR] [--plot-format svg|png] [--quiet]\n"
		"\n"
		"Round-trip latency (32-byte echo) and one-way throughput of every layer on a virtual ZynqMP, beside\n"
		"this machine's limits measured in the same run. Two processes pinned to CPUs 0 and 1. The rows:\n"
		"\n"
		"  latency      cache-line ping-pong (limit); two SPSC rings (ring limit);\n"
		"               raw IPI registers, polling; mailbox client, polling; IPM, polling;\n"
		"               IPM, register-level driver, polling;\n"
		"               ICMsg (IPC service), polling; ICMsg (IPC service), polling, tracing on;\n"
		"               multi-endpoint, polling; multi-endpoint, inline, polling;\n"
		"               RPMsg (IPC service), polling; iceoryx pub/sub, polling;\n"
		"               raw IPI registers, adaptive; mailbox client, adaptive; IPM, adaptive;\n"
		"               ICMsg (IPC service), adaptive; multi-endpoint, adaptive;\n"
		"               multi-endpoint, inline, adaptive; RPMsg (IPC service), adaptive;\n"
		"               futex ping-pong (limit); UNIX seqpacket socketpair (limit); IPM, blocking\n"
		"               (multi-endpoint, inline: both instances with inline-max = <64>)\n"
		"  throughput   at 32 B, 256 B and 4 KiB: SPSC ring 64 KiB (limit); ICMsg, copy;\n"
		"               multi-endpoint, copy; multi-endpoint, zero-copy; RPMsg, copy; RPMsg, zero-copy;\n"
		"               iceoryx, zero-copy; at 32 B only: multi-endpoint, inline; IPM (IPI buffer)\n"
		"  --firmware   ICMsg, emulator link; RPMsg, emulator link; multi-endpoint, emulator link;\n"
		"               IPM, bridge (virtual SoC); ICMsg, bridge (virtual SoC); RPMsg, bridge (virtual SoC);\n"
		"               multi-endpoint, bridge (SoC); and each image's code size\n"
		"\n"
		"  --count N       round trips per latency row after warm-up (default 100000; blocking rows N/10)\n"
		"  --seconds S     streaming time per throughput row (default 0.5)\n"
		"  --only WHAT     latency or throughput: run one half only\n"
		"  --rows TEXT     only the rows whose name holds TEXT (any case), beside the limit rows, which always\n"
		"                  run: e.g. --rows icmsg (the --firmware rows are not filtered)\n"
		"  --firmware[=DIR] also run each backend against firmware under QEMU (polled and with interrupts;\n"
		"                  round trips: N/20, 100..2000; streams: S) and print the images' code size; images\n"
		"                  from DIR (default: this build's firmware/); without QEMU or an image: skipped\n"
		"  --json FILE     also write the results as JSON, with each latency row's histogram (log-scaled:\n"
		"                  10 buckets per decade from 0.01 us; [lower us, upper us, count] per non-empty bucket)\n"
		"  --plot DIR      also draw the latency distributions and the throughput table with gnuplot\n"
		"                  (Debian's gnuplot-nox) into DIR, with their data and script\n"
		"  --plot-format F svg (default) or png\n"
		"  --quiet         no progress on stderr (there is none either when stderr is not a terminal)\n"
		"\n"
		"The iceoryx rows (Debian's libiceoryx-binding-c-dev and iceoryx) start their own RouDi (iox-roudi on\n"
		"PATH, or $AMPL_IOX_ROUDI) for each measurement and stop it; they say why when they cannot run.\n"
		"\n"
		"The figures depend on this machine's load and on CPU placement: compare the ratios of one run.\n"
		"\n"
		"A benchmark: it exits 0 whatever the times; 1 only if one of amplink's rows fails functionally\n"
		"(errors, lost messages) or gnuplot fails, 2 on bad usage or --plot without gnuplot.\n",
		p);
}

int ampl_bench_main(const char *p, int argc, char **argv)
{
	static const struct option lopts[] = { { "count", required_argument, NULL, 'n' },
					       { "seconds", required_argument, NULL, 's' },
					       { "only", required_argument, NULL, 'o' },
					       { "rows", required_argument, NULL, 'r' },
					       { "json", required_argument, NULL, 'j' },
					       { "firmware", optional_argument, NULL, 'f' },
					       { "plot", required_argument, NULL, 'p' },
					       { "plot-format", required_argument, NULL, 'F' },
					       { "quiet", no_argument, NULL, 'q' },
					       { "help", no_argument, NULL, 'h' },
					       { NULL, 0, NULL, 0 } };
	struct ampl_bench_opts o = { .prog = p, .count = 100000, .seconds = 0.5, .what = AMPL_BENCH_ALL,
				     .plot_format = "svg" };
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:s:o:j:qh", lopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'n':
			errno = 0;
			o.count = strtoul(optarg, &end, 0);
			if (errno || *end || !*optarg || *optarg == '-') {
				fprintf(stderr, "%s: --count: '%s' is not a number\n", p, optarg);
				return 2;
			}
			break;
		case 's':
			o.seconds = strtod(optarg, &end);
			if (*end || !*optarg || !(o.seconds > 0) || o.seconds > 3600) {
				fprintf(stderr, "%s: --seconds: '%s' is not a duration in (0, 3600]\n", p, optarg);
				return 2;
			}
			break;
		case 'o':
			if (!strcmp(optarg, "latency"))
				o.what = AMPL_BENCH_LATENCY;
			else if (!strcmp(optarg, "throughput"))
				o.what = AMPL_BENCH_THROUGHPUT;
			else {
				fprintf(stderr, "%s: --only: '%s' is not latency or throughput\n", p, optarg);
				return 2;
			}
			break;
		case 'r':
			if (!ampl_bench_rows_match(optarg)) {
				fprintf(stderr, "%s: --rows: no row's name holds '%s' (see --help for the rows)\n", p, optarg);
				return 2;
			}
			o.rows = optarg;
			break;
		case 'j':
			o.json = optarg;
			break;
		case 'f':
			o.firmware = optarg && *optarg ? optarg : ampl_bench_fw_dir();
			break;
		case 'p':
			o.plot = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "svg") && strcmp(optarg, "png")) {
				fprintf(stderr, "%s: --plot-format: '%s' is not svg or png\n", p, optarg);
				return 2;
			}
			o.plot_format = optarg;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			usage(stdout, p);
			return 0;
		default:
			usage(stderr, p);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", p, argv[optind]);
		usage(stderr, p);
		return 2;
	}
	if (o.plot && !gnuplot_path()) {
		fprintf(stderr, "%s: --plot: gnuplot not found (install Debian's gnuplot-nox: apt-get install gnuplot-nox)\n",
			p);
		return 2;
	}
	fflush(stdout);
	return ampl_bench_run(&o);
}
