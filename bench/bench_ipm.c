/*
 * amplink benchmark: the IPI request/response round trip between two processes on the virtual SoC, through the
 * raw registers (the register protocol by hand: the floor of the model), the mailbox framework's client API and
 * the IPM API, beside the limits of this machine measured in the same run:
 *   cache-line ping-pong   two flags on two cache lines, tight spin (the polling limit)
 *   futex ping-pong        FUTEX_WAIT/FUTEX_WAKE on a shared word (the blocking limit)
 *   two SPSC rings         one single-producer single-consumer ring per direction (head, tail, 64-byte slots),
 *                          32-byte messages, tight spin: the limit for a ring-based protocol such as ICMsg
 * and the ICMsg round trip through the IPC service (a 32-byte echo between ipc_icmsg_apu and ipc_icmsg_rpu0).
 * A benchmark, never a test: it prints figures and exits 0 whatever they are.
 *
 * usage: ampl_bench [--count N] [--json FILE]
 */
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/mailbox_client.h>
#include <amplink/mailbox_controller.h>
#include <amplink/ipm.h>
#include <amplink/ipc/ipc_icmsg.h>
#include <amplink/ipc_service.h>
#include <amplink/soc.h>

#define WARMUP 20000u

struct result {
	const char *name;
	double p50, p90, p99, max;
	unsigned long n;
};

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void pin(int cpu)
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

static struct result summarize(const char *name, double *v, unsigned long n)
{
	qsort(v, n, sizeof(*v), cmp);
	struct result r = { name, v[n / 2] / 1e3, v[(n * 90) / 100] / 1e3, v[(n * 99) / 100] / 1e3, v[n - 1] / 1e3, n };
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

static struct result bench_cacheline(unsigned long n, double *v)
{
	struct pingpong *pp = shared_alloc(sizeof(*pp));
	unsigned long total = n + WARMUP;
	pid_t c = fork();
	if (c == 0) {
		pin(1);
		for (uint32_t i = 1; i <= total; i++) {
			while (atomic_load_explicit(&pp->ping, memory_order_acquire) != i)
				;
			atomic_store_explicit(&pp->pong, i, memory_order_release);
		}
		_exit(0);
	}
	pin(0);
	for (uint32_t i = 1; i <= total; i++) {
		double t0 = now_ns();
		atomic_store_explicit(&pp->ping, i, memory_order_release);
		while (atomic_load_explicit(&pp->pong, memory_order_acquire) != i)
			;
		if (i > WARMUP)
			v[i - WARMUP - 1] = now_ns() - t0;
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

static struct result bench_futex(unsigned long n, double *v)
{
	struct pingpong *pp = shared_alloc(sizeof(*pp));
	unsigned long total = n + WARMUP / 10;
	pid_t c = fork();
	if (c == 0) {
		pin(1);
		for (uint32_t i = 1; i <= total; i++) {
			futex_wait_for(&pp->ping, i);
			atomic_store(&pp->pong, i);
			futex(&pp->pong, FUTEX_WAKE, 1);
		}
		_exit(0);
	}
	pin(0);
	for (uint32_t i = 1; i <= total; i++) {
		double t0 = now_ns();
		atomic_store(&pp->ping, i);
		futex(&pp->ping, FUTEX_WAKE, 1);
		futex_wait_for(&pp->pong, i);
		if (i > WARMUP / 10)
			v[i - WARMUP / 10 - 1] = now_ns() - t0;
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

static struct result bench_spsc(unsigned long n, double *v)
{
	struct spsc *q = shared_alloc(2 * sizeof(*q)); /* q[0] requests, q[1] responses */
	unsigned long total = n + WARMUP;
	pid_t c = fork();
	if (c == 0) {
		pin(1);
		uint32_t m[8];
		for (unsigned long i = 0; i < total; i++) {
			spsc_pop(&q[0], m);
			m[0]++;
			spsc_push(&q[1], m);
		}
		_exit(0);
	}
	pin(0);
	uint32_t m[8] = { 0 }, r[8];
	unsigned long bad = 0;
	for (unsigned long i = 0; i < total; i++) {
		m[0] = (uint32_t)i;
		double t0 = now_ns();
		spsc_push(&q[0], m);
		spsc_pop(&q[1], r);
		double t1 = now_ns();
		if (r[0] != m[0] + 1)
			bad++;
		if (i >= WARMUP)
			v[i - WARMUP] = t1 - t0;
	}
	waitpid(c, NULL, 0);
	munmap(q, 2 * sizeof(*q));
	if (bad)
		fprintf(stderr, "ampl_bench: %lu bad round trips in the SPSC rings\n", bad);
	return summarize("two SPSC rings (ring limit)", v, n);
}

/* ---- ICMsg through the IPC service: a 32-byte echo ---- */

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

static const struct device *ic_setup(struct ampl_agent *ag, const char *inst,
				     void (*rx)(const void *data, size_t len, void *priv))
{
	const struct device *dev;
	static struct ipc_ept_cfg cfg;
	cfg = (struct ipc_ept_cfg){ .name = "bench", .cb = { .bound = ic_bound_cb, .received = rx } };
	if (ampl_agent_ipc_instance(ag, inst, &dev) || ipc_service_open_instance(dev) ||
	    ipc_service_register_endpoint(dev, &ic_ept, &cfg)) {
		fprintf(stderr, "ampl_bench: %s: %s\n", inst, ampl_soc_last_error());
		_exit(1);
	}
	return dev;
}

/*
 * The echoing side (RPU0) runs received() in its interrupt thread, in @mode. The sender (APU) has no interrupt
 * thread: it sends, then runs its interrupt handler itself (ampl_agent_poll) until the echo is there, so the
 * round trip includes no hand-off between threads of one process.
 */
static struct result bench_icmsg(const char *label, enum ampl_wait_mode mode, unsigned long n, double *v)
{
	char soc_name[64];
	snprintf(soc_name, sizeof(soc_name), "bench-ic-%d", (int)getpid());
	ampl_soc_destroy(soc_name);
	if (ampl_soc_create(soc_name, &ampl_soc_zynqmp, NULL, 0)) {
		fprintf(stderr, "ampl_bench: %s\n", ampl_soc_last_error());
		exit(1);
	}
	unsigned long total = n + WARMUP;
	pid_t c = fork();
	if (c == 0) {
		pin(1);
		struct ampl_soc *soc;
		struct ampl_agent *ag;
		struct ampl_agent_opts o = { .mode = mode };
		if (ampl_soc_open(soc_name, &soc) || ampl_agent_attach(soc, "rpu0", &o, &ag))
			_exit(1);
		ic_setup(ag, "ipc_icmsg_rpu0", ic_echo);
		pause(); /* the interrupt thread echoes; SIGTERM ends it */
		_exit(0);
	}
	pin(0);
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	struct ampl_agent_opts o = { .mode = mode, .no_irq_thread = true };
	if (ampl_soc_open(soc_name, &soc) || ampl_agent_attach(soc, "apu", &o, &ag)) {
		fprintf(stderr, "ampl_bench: %s\n", ampl_soc_last_error());
		exit(1);
	}
	atomic_store(&ic_bound, 0);
	atomic_store(&ic_got, 0);
	ic_setup(ag, "ipc_icmsg_apu", ic_recv);
	double end = now_ns() + 10e9;
	while (!atomic_load(&ic_bound) && now_ns() < end) {
		ampl_agent_poll(ag);
		usleep(100);
	}
	unsigned long bad = 0;
	uint32_t w[8] = { 0 };
	for (unsigned long i = 0; atomic_load(&ic_bound) && i < total; i++) {
		w[0] = (uint32_t)i;
		uint32_t want = atomic_load(&ic_got) + 1;
		double t0 = now_ns();
		int r = ipc_service_send(&ic_ept, w, sizeof(w));
		while (r == (int)sizeof(w) && atomic_load_explicit(&ic_got, memory_order_acquire) != want)
			ampl_agent_poll(ag);
		double t1 = now_ns();
		if (r != (int)sizeof(w) || ic_resp[0] != w[0] + 1)
			bad++;
		if (i >= WARMUP)
			v[i - WARMUP] = t1 - t0;
		if (r != (int)sizeof(w))
			break;
	}
	if (!atomic_load(&ic_bound))
		fprintf(stderr, "ampl_bench: %s: not bound\n", label);
	kill(c, SIGTERM);
	waitpid(c, NULL, 0);
	ipc_service_deregister_endpoint(&ic_ept);
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	ampl_soc_destroy(soc_name);
	if (bad)
		fprintf(stderr, "ampl_bench: %lu bad round trips in %s\n", bad, label);
	return summarize(label, v, n);
}

/* ---- round trips on the virtual SoC: raw registers, the mailbox framework's client API, IPM ---- */

enum path { RAW, MBOX, IPM };

static void echo_cb(const struct device *dev, void *ud, uint32_t id, volatile void *data)
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

/* The remote of the raw path: the register protocol by hand, polling ISR, no driver and no framework. */
static void raw_remote(struct ampl_soc *soc, enum ampl_wait_mode mode)
{
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	const struct ampl_ipi_agent *apu = ampl_soc_agent_by_name(p, "apu"), *rpu0 = ampl_soc_agent_by_name(p, "rpu0");
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

static struct result bench_rtt(const char *label, enum path path, enum ampl_wait_mode mode, unsigned long n,
			       double *v)
{
	char soc_name[64];
	snprintf(soc_name, sizeof(soc_name), "bench-%d", (int)getpid());
	ampl_soc_destroy(soc_name);
	if (ampl_soc_create(soc_name, &ampl_soc_zynqmp, NULL, 0)) {
		fprintf(stderr, "ampl_bench: %s\n", ampl_soc_last_error());
		exit(1);
	}
	unsigned long total = n + (mode == AMPL_WAIT_BLOCK ? WARMUP / 10 : WARMUP);
	pid_t c = fork();
	if (c == 0) {
		pin(1);
		struct ampl_soc *soc;
		struct ampl_agent *ag;
		struct ampl_agent_opts o = { .mode = mode };
		if (ampl_soc_open(soc_name, &soc))
			_exit(1);
		if (path == RAW)
			raw_remote(soc, mode);
		if (ampl_agent_attach(soc, "rpu0", &o, &ag))
			_exit(1);
		if (path == IPM) {
			const struct device *dev = ampl_device_get_by_label("ipi_rpu0_apu");
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
	pin(0);
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	struct ampl_agent_opts o = { .mode = mode, .no_irq_thread = true, .ack_timeout_us = 10000000 };
	if (ampl_soc_open(soc_name, &soc) || ampl_agent_attach(soc, "apu", &o, &ag)) {
		fprintf(stderr, "ampl_bench: %s\n", ampl_soc_last_error());
		exit(1);
	}
	const struct device *dev = ampl_device_get_by_label("ipi_apu_rpu0");
	struct mbox_controller *ctl;
	ampl_agent_mbox(ag, "rpu0", &ctl);
	struct mbox_chan *tx = &ctl->chans[XLNX_IPI_TX_CHAN];
	struct mbox_client cl = { .tx_block = true, .tx_tout = 10000 };
	if (path == MBOX)
		mbox_bind_client(tx, &cl);
	const struct ampl_ipi_agent *apu = ampl_agent_info(ag);
	const struct ampl_ipi_agent *rpu0 = ampl_soc_agent_by_name(ampl_soc_get_profile(soc), "rpu0");
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
		double t0 = now_ns();
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
		} else {
			r = ipm_send(dev, 1, 0, msg.w, sizeof(msg.w));
			xlnx_ipi_response_read(dev, resp, sizeof(resp));
		}
		double t1 = now_ns();
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
		fprintf(stderr, "ampl_bench: %lu bad round trips in %s\n", bad, label);
	return summarize(label, v, n);
}

int main(int argc, char **argv)
{
	unsigned long n = 100000;
	const char *json = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--count") && i + 1 < argc)
			n = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json = argv[++i];
		else {
			fprintf(stderr, "usage: ampl_bench [--count N] [--json FILE]\n");
			return 2;
		}
	}
	if (n < 100)
		n = 100;
	double *v = malloc(n * sizeof(double));
	struct result r[16];
	unsigned k = 0;
	unsigned long nb = n / 10 < 20000 ? n / 10 : 20000; /* blocking round trips cost ~60 us each here */
	if (nb < 100)
		nb = 100;
	r[k++] = bench_cacheline(n, v);
	r[k++] = bench_spsc(n, v);
	r[k++] = bench_rtt("raw IPI registers, polling", RAW, AMPL_WAIT_POLL, n, v);
	r[k++] = bench_rtt("mailbox client, polling", MBOX, AMPL_WAIT_POLL, n, v);
	r[k++] = bench_rtt("IPM, polling", IPM, AMPL_WAIT_POLL, n, v);
	r[k++] = bench_icmsg("ICMsg (IPC service), polling", AMPL_WAIT_POLL, n, v);
	r[k++] = bench_rtt("raw IPI registers, adaptive", RAW, AMPL_WAIT_ADAPTIVE, n, v);
	r[k++] = bench_rtt("mailbox client, adaptive", MBOX, AMPL_WAIT_ADAPTIVE, n, v);
	r[k++] = bench_rtt("IPM, adaptive", IPM, AMPL_WAIT_ADAPTIVE, n, v);
	r[k++] = bench_icmsg("ICMsg (IPC service), adaptive", AMPL_WAIT_ADAPTIVE, n, v);
	unsigned futex_row = k;
	r[k++] = bench_futex(nb, v);
	r[k++] = bench_rtt("IPM, blocking", IPM, AMPL_WAIT_BLOCK, nb, v);

	printf("IPI request/response round trip, 32-byte request and response, two processes pinned to CPUs 0/1\n");
	printf("%-32s %9s %9s %9s %10s %8s %14s\n", "mechanism", "p50 us", "p90 us", "p99 us", "max us", "n",
	       "p50 / limit");
	for (unsigned i = 0; i < k; i++) {
		double limit = i >= futex_row ? r[futex_row].p50 : r[0].p50;
		printf("%-32s %9.3f %9.3f %9.3f %10.1f %8lu %13.2fx\n", r[i].name, r[i].p50, r[i].p90, r[i].p99,
		       r[i].max, r[i].n, r[i].p50 / limit);
	}
	printf("(polling and adaptive are compared with the cache-line limit, blocking with the futex limit;\n"
	       " ICMsg is a 32-byte echo through ipc_service_send, the SPSC row its ring-based limit)\n");
	if (json) {
		FILE *f = fopen(json, "w");
		if (!f) {
			perror(json);
			return 1;
		}
		fprintf(f, "{\n  \"unit\": \"us\",\n  \"results\": [\n");
		for (unsigned i = 0; i < k; i++)
			fprintf(f, "    {\"name\": \"%s\", \"p50\": %.4f, \"p90\": %.4f, \"p99\": %.4f, \"max\": %.3f, "
				   "\"n\": %lu}%s\n", r[i].name, r[i].p50, r[i].p90, r[i].p99, r[i].max, r[i].n,
				i + 1 < k ? "," : "");
		fprintf(f, "  ]\n}\n");
		fclose(f);
	}
	free(v);
	return 0;
}
