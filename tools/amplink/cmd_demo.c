/*
 * amplink demo: the APU and RPU0 of a virtual ZynqMP, two processes, talk through the IPI mailbox with the IPM
 * API. RPU0 answers every request through the response buffer; the APU checks every answer and times the round
 * trips.
 *
 * Request (32 bytes, little-endian words): seq, 6 payload words, checksum of the first 7.
 * Response: seq, the payload words inverted, checksum of the first 7 response words.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/host/dt.h>
#include <amplink/ipm.h>
#include <amplink/ipc/ipc_icmsg.h>
#include <amplink/ipc/ipc_multi.h>
#include <amplink/ipc_service.h>
#include <amplink/host/soc_trace.h>

#include "sim/emu_bridge.h"

#define STOP_SEQ 0xFFFFFFFFu
#define APU_DEV "ipi_apu_rpu0"
#define RPU_DEV "ipi_rpu0_apu"

static const char usage[] =
	"usage: amplink demo [--count N] [--mode polling|adaptive|blocking] [--soc NAME] [--backend ipm|icmsg|multi|rpmsg]\n"
	"                   [--firmware [FILE.elf]] [--trace]\n"
	"\n"
	"Create a virtual ZynqMP from the built-in board (" AMPL_DEFAULT_BOARD_NAME "), start an RPU0 process that\n"
	"answers every IPI request through the response buffer, send N requests from the APU (default 10000), check\n"
	"every answer, print the count, the errors and round-trip percentiles, and remove the SoC.\n"
	"--backend icmsg: the same through the IPC service (ICMsg instances ipc_icmsg_apu / ipc_icmsg_rpu0 of the\n"
	"board): RPU0 echoes every message of endpoint \"echo\" (8 to 64 bytes, checksummed).\n"
	"--backend multi: the multi-endpoint zero-copy backend (instances ipc_multi_apu / ipc_multi_rpu1, APU <-> RPU1):\n"
	"RPU1 echoes endpoints \"echo0\" and \"echo1\"; the APU alternates between them, zero-copy TX on echo1.\n"
	"--backend rpmsg: the same two endpoints over RPMsg (virtio vrings in rpmsg_shm; the APU is the host, RPU0\n"
	"the remote, instances ipc_rpmsg_apu / ipc_rpmsg_rpu0), bound through the name service.\n"
	"\n"
	"The SoC is named --soc NAME (default demo-PID; its image is /dev/shm/amplink.NAME) and is removed however\n"
	"the demo ends: success, an error, SIGINT/SIGTERM, or the remote's death. Every wait is bounded: the remote\n"
	"gets 5 s to exit after STOP and is then killed (SIGKILL), and exits by itself when the demo's process\n"
	"dies. Errors start with the backend (ipm:, icmsg:, multi:, rpmsg:); the remote stops at its first one.\n"
	"--firmware [FILE.elf]: the remote is firmware on a Cortex-M4 under QEMU (qemu-system-arm, mps2-an386),\n"
	"configured from the same board devicetree at build time; the APU side is unchanged. Without FILE, the\n"
	"backend's image of the firmware build: ipm_echo.elf (ipm), icmsg_echo_soc.elf (icmsg),\n"
	"rpmsg_remote_soc.elf (rpmsg) or multi_soc.elf (multi; the firmware is RPU1), looked up in $AMPL_FIRMWARE_DIR,\n"
	"or else in firmware/ beside this amplink program (a build tree's build/firmware/). The SoC's reserved\n"
	"memory is QEMU's RAM file (soc create --backing), a bridge in this process is the remote's agent and\n"
	"carries the IPI to the firmware (UART1 interrupts; --mode polling: polled counters). QEMU is stopped and\n"
	"its files removed however the demo ends.\n"
	"--trace: with tracing on (amplink trace) from the start, to see what it costs; prints the records each\n"
	"agent wrote and each object's events (with --firmware the firmware's too, merged into its agent's).\n"
	"Exit status: 0 success, 1 failure, 2 bad usage, 128+N after signal N.\n";

static uint32_t checksum(const uint32_t *w, unsigned n)
{
	uint32_t h = 2166136261u;
	for (unsigned i = 0; i < n; i++)
		h = (h ^ w[i]) * 16777619u;
	return h;
}

/* After the round-trip line: what the times depend on (the demo does not pin its processes). */
static void demo_timing_note(void)
{
	printf("  (times depend on this machine's load and on which CPUs the two processes run: the demo does not\n"
	       "   pin them; amplink bench pins them and measures this machine's limits beside)\n");
}

/* ---- what every wait of the demo checks ---- */

static const char *demo_backend = "ipm"; /* the label of every error (set before the fork) */
static volatile sig_atomic_t demo_signal; /* SIGINT/SIGTERM received: in the APU, stop; in the remote, too */
static pid_t demo_parent;                  /* the APU process (the remote's parent) */
static bool demo_remote;                   /* this process is the remote */
static const char *demo_agent = "apu", *demo_inst = ""; /* this process's agent and IPC instance */

/* The remote, as the APU process sees it. */
static struct {
	pid_t pid;
	const char *name;
	bool reaped;
	int status;
} rproc;

static void on_stop_signal(int sig)
{
	demo_signal = sig;
}

/* "amplink demo: BACKEND: message" on stderr; returns @code. */
static int demo_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int demo_fail(int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cli_fail(code, "demo", "%s: %s", demo_backend, msg);
}

/* APU process: the remote has exited (reaped here). */
/* --trace: turn tracing of SoC @name on (@on) before the agents attach, or print what each agent recorded. */
static int demo_trace(const char *name, bool on)
{
	struct ampl_soc *soc;
	struct ampl_trace_reader *r = NULL;
	if (ampl_soc_open(name, &soc))
		return demo_fail(EXIT_FAIL, "%s", ampl_soc_last_error());
	int ret = on ? ampl_soc_trace_set(soc, true) : ampl_trace_reader_open(soc, false, &r);
	if (ret)
		demo_fail(EXIT_FAIL, "%s", ampl_soc_last_error());
	for (unsigned i = 0; r && i < ampl_soc_get_profile(soc)->num_agents; i++) {
		if (!ampl_trace_reader_has(r, i))
			continue;
		printf("  traced: %s wrote %llu records\n", ampl_soc_get_profile(soc)->agents[i].name,
		       (unsigned long long)ampl_trace_reader_written(r, i, NULL));
		/* Each object's events, the firmware's too (named firmware:...). */
		for (unsigned o = 0; o < ampl_trace_reader_objs(r, i); o++) {
			char oname[64], kind[16];
			if (ampl_trace_reader_obj(r, i, o, oname, sizeof(oname), kind, sizeof(kind)))
				continue;
			printf("    %s %s:", kind, oname);
			for (unsigned ev = 1; ev < AMPL_EV_COUNT; ev++) {
				uint64_t n = ampl_trace_reader_count(r, i, o, ev);
				if (n)
					printf(" %s %llu", ampl_trace_event_name(ev), (unsigned long long)n);
			}
			putchar('\n');
		}
	}
	ampl_trace_reader_close(r);
	ampl_soc_close(soc);
	return ret ? EXIT_FAIL : 0;
}

static bool child_gone(void)
{
	if (!rproc.reaped && rproc.pid > 0 && waitpid(rproc.pid, &rproc.status, WNOHANG) == rproc.pid)
		rproc.reaped = true;
	return rproc.reaped;
}

/* Remote: the APU process has died (the remote was re-parented). */
static bool parent_gone(void)
{
	return getppid() != demo_parent;
}

/* Stop waiting: a stop signal arrived, or (APU) the remote is gone, or (remote) the APU process is gone. */
static bool demo_abort(void)
{
	return demo_signal || (demo_remote ? parent_gone() : child_gone());
}

static double now_us(void);

/*
 * APU process: tell the remote to stop. A send finds no room while the remote still holds what it was given (the
 * IPC service's sends do not wait: -ENOMEM), so it is tried again for up to a second, unless the run is aborting.
 */
static void send_stop(struct ipc_ept *ept)
{
	double end = now_us() + 1e6;
	while (ipc_service_send(ept, "STOP", 4) == -ENOMEM && !demo_abort() && now_us() < end)
		usleep(100);
}

/*
 * APU process: wait up to @ms for the remote to exit (not at all after a stop signal), then kill it with SIGKILL
 * and reap it (bounded too). True if it exited with status 0; otherwise says what happened to it (not that it was
 * killed after a stop signal or with @ms 0, after a failure of the APU's own that was said already).
 */
static bool demo_reap(unsigned ms)
{
	double end = now_us() + ms * 1000.0;
	while (!child_gone() && !demo_signal && now_us() < end)
		usleep(2000);
	if (!rproc.reaped) {
		kill(rproc.pid, SIGKILL);
		end = now_us() + 5e6;
		while (!child_gone() && now_us() < end)
			usleep(2000);
		if (!rproc.reaped) {
			demo_fail(EXIT_FAIL, "%s (pid %d) killed with SIGKILL but not gone after 5 s", rproc.name,
				  (int)rproc.pid);
			return false;
		}
		if (!demo_signal && ms)
			demo_fail(EXIT_FAIL, "%s (pid %d) did not exit within %u ms: killed it (SIGKILL)", rproc.name,
				  (int)rproc.pid, ms);
		return false;
	}
	if (WIFEXITED(rproc.status) && WEXITSTATUS(rproc.status) == 0)
		return true;
	if (WIFSIGNALED(rproc.status))
		demo_fail(EXIT_FAIL, "%s (pid %d) was killed by signal %d (%s)", rproc.name, (int)rproc.pid,
			  WTERMSIG(rproc.status), strsignal(WTERMSIG(rproc.status)));
	else
		demo_fail(EXIT_FAIL, "%s (pid %d) failed (exit status %d)", rproc.name, (int)rproc.pid,
			  WEXITSTATUS(rproc.status));
	return false;
}

static int sem_wait_ms(sem_t *s, unsigned ms);

/* Remote: wait for STOP (@done) in 200 ms slices. 0, or -1 on a stop signal or when the APU process died. */
static int remote_wait_stop(sem_t *done)
{
	while (sem_wait_ms(done, 200))
		if (demo_abort())
			return -1;
	return 0;
}

/* ---- RPU0 ---- */

static struct {
	sem_t done;
	atomic_uint bad;
	atomic_uint served;
} rpu;

static void rpu_cb(const struct ampl_device *dev, void *user_data, uint32_t id, volatile void *data)
{
	(void)user_data;
	(void)id;
	uint32_t req[8], resp[8];
	for (unsigned i = 0; i < 8; i++)
		req[i] = ((volatile uint32_t *)data)[i];
	if (req[0] == STOP_SEQ) {
		sem_post(&rpu.done);
		return;
	}
	if (checksum(req, 7) != req[7])
		atomic_fetch_add(&rpu.bad, 1);
	resp[0] = req[0];
	for (unsigned i = 1; i < 7; i++)
		resp[i] = ~req[i];
	resp[7] = checksum(resp, 7);
	xlnx_ipi_response_write(dev, resp, sizeof(resp));
	atomic_fetch_add(&rpu.served, 1);
}

static int rpu_main(const char *soc_name, enum ampl_wait_mode mode)
{
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	if (ampl_soc_open(soc_name, &soc))
		return demo_fail(EXIT_FAIL, "rpu0: %s", ampl_soc_last_error());
	sem_init(&rpu.done, 0, 0);
	struct ampl_agent_opts opts = { .mode = mode };
	if (ampl_agent_attach(soc, "rpu0", &opts, &ag)) {
		ampl_soc_close(soc);
		return demo_fail(EXIT_FAIL, "rpu0: %s", ampl_soc_last_error());
	}
	const struct ampl_device *dev = ampl_device_get_by_label(RPU_DEV);
	if (!ampl_device_is_ready(dev)) {
		ampl_agent_detach(ag);
		ampl_soc_close(soc);
		return demo_fail(EXIT_FAIL, "rpu0: device %s is not ready", RPU_DEV);
	}
	ipm_register_callback(dev, rpu_cb, NULL);
	ipm_set_enabled(dev, 1);
	int stopped = remote_wait_stop(&rpu.done);
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	return stopped || atomic_load(&rpu.bad) ? EXIT_FAIL : 0;
}

/* ---- APU ---- */

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int apu_main(const char *soc_name, enum ampl_wait_mode mode, uint64_t count, pid_t child)
{
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	if (ampl_soc_open(soc_name, &soc)) {
		demo_reap(0);
		return demo_fail(EXIT_FAIL, "apu: %s", ampl_soc_last_error());
	}
	/* The APU only sends and waits for acknowledgements: no interrupt thread needed. The first request may wait
	 * for RPU0 to come up (it stays pending until RPU0 enables its channel), hence the generous bound. */
	struct ampl_agent_opts opts = { .mode = mode, .no_irq_thread = true, .ack_timeout_us = 10000000 };
	if (ampl_agent_attach(soc, "apu", &opts, &ag)) {
		int code = demo_fail(EXIT_FAIL, "apu: %s", ampl_soc_last_error());
		ampl_soc_close(soc);
		demo_reap(0);
		return code;
	}
	const struct ampl_device *dev = ampl_device_get_by_label(APU_DEV);
	double *rtt = calloc(count ? count : 1, sizeof(double));
	uint64_t sent = 0, answered = 0, errors = 0;
	int code = 0;
	uint32_t x = 0x9E3779B9u;
	for (uint64_t i = 0; rtt && dev && i < count; i++) {
		uint32_t req[8], resp[8];
		if (demo_signal || ((i & 63u) == 63u && child_gone()))
			break; /* said below */
		req[0] = (uint32_t)i;
		for (unsigned k = 1; k < 7; k++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			req[k] = x;
		}
		req[7] = checksum(req, 7);
		double t0 = now_us();
		int r = ipm_send(dev, 1, 0, req, sizeof(req));
		double t1 = now_us();
		if (r) {
			if (!demo_signal)
				code = demo_fail(EXIT_FAIL, "apu: request %llu: ipm_send: %s", (unsigned long long)i,
						 ampl_strerror(r));
			break;
		}
		sent++;
		xlnx_ipi_response_read(dev, resp, sizeof(resp));
		bool ok = resp[0] == req[0] && resp[7] == checksum(resp, 7);
		for (unsigned k = 1; ok && k < 7; k++)
			ok = resp[k] == ~req[k];
		if (ok)
			answered++;
		else
			errors++;
		rtt[i] = t1 - t0;
	}
	if (!dev)
		code = demo_fail(EXIT_FAIL, "apu: no device %s", APU_DEV);
	uint32_t stop[8] = { STOP_SEQ };
	if (dev && !demo_abort())
		ipm_send(dev, 1, 0, stop, sizeof(stop)); /* if it fails, the remote is killed after the bound */
	bool rpu_ok = demo_reap(5000);
	if (!rpu_ok)
		errors++;

	printf("amplink demo: virtual ZynqMP '%s' from the built-in board %s\n", soc_name, AMPL_DEFAULT_BOARD_NAME);
	printf("  apu -> rpu0 through %s (%s); rpu0 (pid %d) answers through the response buffer\n", APU_DEV,
	       dev ? dev->name : "?", (int)child);
	printf("  wait mode:  %s\n", ampl_wait_mode_name(mode));
	printf("  messages:   %llu sent, %llu answered correctly, %llu errors%s\n", (unsigned long long)sent,
	       (unsigned long long)answered, (unsigned long long)errors, rpu_ok ? "" : " (rpu0 failed)");
	if (sent) {
		cli_sort(rtt, sent);
		printf("  round trip: p50 %.2f us  p90 %.2f us  p99 %.2f us  p99.9 %.2f us  max %.2f us\n",
		       cli_percentile(rtt, sent, 50), cli_percentile(rtt, sent, 90), cli_percentile(rtt, sent, 99),
		       cli_percentile(rtt, sent, 99.9), rtt[sent - 1]);
		demo_timing_note();
	}
	free(rtt);
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	if (!code && (errors || answered != count))
		code = EXIT_FAIL;
	return code;
}

/* ---- --backend icmsg: an "echo" endpoint on each side's ICMsg instance ---- */

#define ICMSG_APU "ipc_icmsg_apu"
#define ICMSG_RPU "ipc_icmsg_rpu0"
#define ECHO_MAX 64u

static struct {
	sem_t bound, got, done;
	struct ipc_ept ept;
	atomic_uint bad;
	atomic_uint got_n;    /* echoes received (the sender spins on it, then sleeps on got) */
	atomic_bool sleeping; /* the sender sleeps on got: post it */
	pthread_mutex_t lock; /* the last echo: a corrupt ring can deliver more than the sender waits for */
	size_t len;
	uint8_t msg[ECHO_MAX];
} ie = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The last echo is @msg. */
static bool ie_echo_is(const uint8_t *msg, size_t len)
{
	pthread_mutex_lock(&ie.lock);
	bool same = ie.len == len && !memcmp(ie.msg, msg, len);
	pthread_mutex_unlock(&ie.lock);
	return same;
}

static void ie_bound(void *priv)
{
	(void)priv;
	sem_post(&ie.bound);
}

/* An error of the backend: named by backend, agent and instance. The remote stops at the first one (the APU
 * stops waiting for echoes, see ie_wait_echo()). */
static void ie_error(const char *msg, void *priv)
{
	(void)priv;
	fprintf(stderr, "amplink demo: %s: %s (%s): %s\n", demo_backend, demo_agent, demo_inst, msg);
	if (atomic_fetch_add(&ie.bad, 1) == 0 && demo_remote)
		sem_post(&ie.done);
}

/* RPU0: echo (interrupt context; one message is in flight at a time, so the ring has room). */
static void ie_rpu_received(const void *data, size_t len, void *priv)
{
	(void)priv;
	if (len == 4 && !memcmp(data, "STOP", 4)) {
		sem_post(&ie.done);
		return;
	}
	if (ipc_service_send(&ie.ept, data, len) != (int)len)
		atomic_fetch_add(&ie.bad, 1);
}

/* APU: keep the echo for the sender. */
static void ie_apu_received(const void *data, size_t len, void *priv)
{
	(void)priv;
	pthread_mutex_lock(&ie.lock);
	ie.len = len <= ECHO_MAX ? len : 0;
	if (ie.len)
		memcpy(ie.msg, data, len);
	pthread_mutex_unlock(&ie.lock);
	atomic_fetch_add(&ie.got_n, 1);
	if (atomic_load(&ie.sleeping))
		sem_post(&ie.got);
}

/*
 * Wait for echo number @want (1-based). Polling and adaptive: the sender has no interrupt thread and runs the
 * interrupt handler itself (ampl_agent_poll(), so received() runs in this thread: no hand-off between threads);
 * adaptive backs off to 20 us naps after 4000 polls. Blocking: received() runs in the interrupt thread and posts
 * the semaphore when the sender announced it sleeps (a stale post only costs a loop). 0, or -1 after @ms, after an
 * error report, a stop signal, or the remote's exit.
 */
static int ie_wait_echo(struct ampl_agent *ag, unsigned want, enum ampl_wait_mode mode, unsigned ms)
{
	double end = now_us() + ms * 1000.0;
	if (mode != AMPL_WAIT_BLOCK) {
		for (unsigned i = 0; atomic_load(&ie.got_n) < want; i++) {
			ampl_agent_poll(ag);
			if (atomic_load(&ie.got_n) >= want)
				break;
			if ((i & 255u) == 255u && (now_us() > end || atomic_load(&ie.bad) || demo_abort()))
				return -1;
			if (mode == AMPL_WAIT_ADAPTIVE && i >= 4000u)
				usleep(20);
		}
		return 0;
	}
	while (atomic_load(&ie.got_n) < want) {
		atomic_store(&ie.sleeping, true);
		int r = atomic_load(&ie.got_n) >= want ? 0 : sem_wait_ms(&ie.got, 100);
		atomic_store(&ie.sleeping, false);
		if (r && atomic_load(&ie.got_n) < want && (now_us() > end || atomic_load(&ie.bad) || demo_abort()))
			return -1;
	}
	return 0;
}

/* Why echo @i did not come (ie_wait_echo() failed): said unless a stop signal ended the wait. EXIT_FAIL. */
static int echo_missing(uint64_t i)
{
	if (demo_signal)
		return EXIT_FAIL;
	if (atomic_load(&ie.bad))
		return demo_fail(EXIT_FAIL, "apu: message %llu: no echo: the backend reported an error",
				 (unsigned long long)i);
	if (child_gone())
		return demo_fail(EXIT_FAIL, "apu: message %llu: no echo: %s exited", (unsigned long long)i, rproc.name);
	return demo_fail(EXIT_FAIL, "apu: message %llu: no echo within 5 s", (unsigned long long)i);
}

/* Wait up to 10 s for bound(); without an interrupt thread, run the handler meanwhile. 0, or -1 after 10 s, a
 * stop signal or the remote's exit. */
static int ie_wait_bound(struct ampl_agent *ag, bool no_irq)
{
	double end = now_us() + 10e6;
	while (no_irq ? sem_trywait(&ie.bound) : sem_wait_ms(&ie.bound, 100)) {
		if (now_us() > end || demo_abort())
			return -1;
		if (no_irq) {
			ampl_agent_poll(ag);
			usleep(100);
		}
	}
	return 0;
}

static int ie_attach(const char *soc_name, const char *agent, const char *inst, enum ampl_wait_mode mode,
		     bool no_irq, struct ampl_soc **soc, struct ampl_agent **ag, const struct ampl_device **dev)
{
	demo_agent = agent;
	demo_inst = inst;
	if (ampl_soc_open(soc_name, soc))
		return demo_fail(EXIT_FAIL, "%s: %s", agent, ampl_soc_last_error());
	struct ampl_agent_opts opts = { .mode = mode, .no_irq_thread = no_irq };
	if (ampl_agent_attach(*soc, agent, &opts, ag)) {
		int code = demo_fail(EXIT_FAIL, "%s: %s", agent, ampl_soc_last_error());
		ampl_soc_close(*soc);
		return code;
	}
	if (ampl_agent_ipc_instance(*ag, inst, dev) || ipc_service_open_instance(*dev)) {
		int code = demo_fail(EXIT_FAIL, "%s (%s): %s", agent, inst, ampl_soc_last_error());
		ampl_agent_detach(*ag);
		ampl_soc_close(*soc);
		return code;
	}
	return 0;
}

static int sem_wait_ms(sem_t *s, unsigned ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000u;
	ts.tv_nsec += (long)(ms % 1000u) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	int r;
	while ((r = sem_timedwait(s, &ts)) && errno == EINTR)
		;
	return r;
}

/* The remote of the IPC service demos: register @n endpoints on instance @inst as @agent and echo until STOP. */
static int rpu_ipc_main(const char *soc_name, const char *agent, const char *inst, enum ampl_wait_mode mode,
			struct ipc_ept *epts, const struct ipc_ept_cfg *cfgs, unsigned n)
{
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	const struct ampl_device *dev;
	sem_init(&ie.bound, 0, 0);
	sem_init(&ie.done, 0, 0);
	int code = ie_attach(soc_name, agent, inst, mode, false, &soc, &ag, &dev);
	if (code)
		return code;
	for (unsigned i = 0; i < n && !code; i++)
		if (ipc_service_register_endpoint(dev, &epts[i], &cfgs[i]))
			code = demo_fail(EXIT_FAIL, "%s (%s): cannot register endpoint %s", agent, inst, cfgs[i].name);
	if (!code && remote_wait_stop(&ie.done))
		code = EXIT_FAIL;
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	return code ? code : atomic_load(&ie.bad) ? EXIT_FAIL : 0;
}

static int rpu_icmsg_main(const char *soc_name, enum ampl_wait_mode mode)
{
	static const struct ipc_ept_cfg cfg = { .name = "echo",
						.cb = { .bound = ie_bound, .received = ie_rpu_received,
							.error = ie_error } };
	return rpu_ipc_main(soc_name, "rpu0", ICMSG_RPU, mode, &ie.ept, &cfg, 1);
}

static int apu_icmsg_main(const char *soc_name, enum ampl_wait_mode mode, uint64_t count, pid_t child)
{
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	const struct ampl_device *dev;
	sem_init(&ie.bound, 0, 0);
	sem_init(&ie.got, 0, 0);
	int code = ie_attach(soc_name, "apu", ICMSG_APU, mode, mode != AMPL_WAIT_BLOCK, &soc, &ag, &dev);
	if (code) {
		demo_reap(0);
		return code;
	}
	static const struct ipc_ept_cfg cfg = { .name = "echo",
						.cb = { .bound = ie_bound, .received = ie_apu_received,
							.error = ie_error } };
	double *rtt = calloc(count ? count : 1, sizeof(double));
	uint64_t sent = 0, answered = 0, errors = 0;
	bool bound = false;
	if (!rtt || ipc_service_register_endpoint(dev, &ie.ept, &cfg))
		code = demo_fail(EXIT_FAIL, "apu: cannot register endpoint echo");
	else if (ie_wait_bound(ag, mode != AMPL_WAIT_BLOCK)) {
		if (!demo_signal)
			code = demo_fail(EXIT_FAIL, "apu: endpoint echo not bound%s", child_gone() ? "" : " within 10 s");
	} else {
		bound = true;
	}
	uint32_t x = 0x9E3779B9u;
	for (uint64_t i = 0; bound && i < count && !demo_signal; i++) {
		uint8_t msg[ECHO_MAX];
		size_t len = 8 + (size_t)(i % (ECHO_MAX - 7)); /* 8..64 bytes */
		uint32_t seq = (uint32_t)i;
		for (size_t k = 8; k < len; k++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			msg[k] = (uint8_t)x;
		}
		uint32_t words[ECHO_MAX / 4] = { 0 };
		memcpy(words, msg + 8, len - 8);
		uint32_t sum = checksum(words, (unsigned)((len - 8 + 3) / 4)) ^ (uint32_t)len;
		memcpy(msg, &seq, 4);
		memcpy(msg + 4, &sum, 4);
		double t0 = now_us();
		int r = ipc_service_send(&ie.ept, msg, len);
		if (r != (int)len) {
			if (!demo_signal)
				code = demo_fail(EXIT_FAIL, "apu: message %llu: ipc_service_send: %s",
						 (unsigned long long)i, ampl_strerror(r));
			break;
		}
		sent++;
		if (ie_wait_echo(ag, (unsigned)i + 1u, mode, 5000)) {
			code = echo_missing(i);
			break;
		}
		rtt[i] = now_us() - t0;
		if (ie_echo_is(msg, len))
			answered++;
		else
			errors++;
	}
	if (bound && !demo_abort())
		send_stop(&ie.ept);
	bool rpu_ok = demo_reap(5000);
	if (!rpu_ok || atomic_load(&ie.bad))
		errors++;
	printf("amplink demo: virtual ZynqMP '%s' from the built-in board %s\n", soc_name, AMPL_DEFAULT_BOARD_NAME);
	printf("  apu -> rpu0 through the IPC service, ICMsg instance %s (%s); rpu0 (pid %d) echoes endpoint echo\n",
	       ICMSG_APU, dev->name, (int)child);
	printf("  wait mode:  %s; peer's max message %u bytes\n", ampl_wait_mode_name(mode),
	       icmsg_peer_max(ipc_icmsg_link(dev)));
	printf("  messages:   %llu sent, %llu answered correctly, %llu errors%s\n", (unsigned long long)sent,
	       (unsigned long long)answered, (unsigned long long)errors, rpu_ok ? "" : " (rpu0 failed)");
	if (answered + errors) {
		uint64_t n = sent;
		cli_sort(rtt, n);
		printf("  round trip: p50 %.2f us  p90 %.2f us  p99 %.2f us  p99.9 %.2f us  max %.2f us\n",
		       cli_percentile(rtt, n, 50), cli_percentile(rtt, n, 90), cli_percentile(rtt, n, 99),
		       cli_percentile(rtt, n, 99.9), rtt[n - 1]);
		demo_timing_note();
	}
	free(rtt);
	if (ie.ept.instance)
		ipc_service_deregister_endpoint(&ie.ept);
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	if (!code && (errors || answered != count))
		code = EXIT_FAIL;
	return code;
}

/* ---- --backend multi: endpoints "echo0" and "echo1" on the ipc-multi instances (APU <-> RPU1) ---- */

static struct ipc_ept me_ept[2];

static void me_rpu_received(const void *data, size_t len, void *priv)
{
	struct ipc_ept *ept = priv;
	if (len == 4 && !memcmp(data, "STOP", 4)) {
		sem_post(&ie.done);
		return;
	}
	if (ipc_service_send(ept, data, len) != (int)len)
		atomic_fetch_add(&ie.bad, 1);
}

/* A multi-endpoint demo: the remote agent, both instances, and how the instance is described. */
struct me_target {
	const char *rpu, *apu_inst, *rpu_inst, *what;
};

static const struct me_target me_multi = { "rpu1", "ipc_multi_apu", "ipc_multi_rpu1", "multi-endpoint" };
static const struct me_target me_rpmsg = { "rpu0", "ipc_rpmsg_apu", "ipc_rpmsg_rpu0", "RPMsg (virtio, host)" };

static int rpu_multi_main(const char *soc_name, enum ampl_wait_mode mode, const struct me_target *t)
{
	static const struct ipc_ept_cfg cfg[2] = {
		{ .name = "echo0", .cb = { .received = me_rpu_received, .error = ie_error }, .priv = &me_ept[0] },
		{ .name = "echo1", .cb = { .received = me_rpu_received, .error = ie_error }, .priv = &me_ept[1] },
	};
	return rpu_ipc_main(soc_name, t->rpu, t->rpu_inst, mode, me_ept, cfg, 2);
}

static int apu_multi_main(const char *soc_name, enum ampl_wait_mode mode, uint64_t count, pid_t child,
			  const struct me_target *t)
{
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	const struct ampl_device *dev;
	sem_init(&ie.bound, 0, 0);
	sem_init(&ie.got, 0, 0);
	bool no_irq = mode != AMPL_WAIT_BLOCK;
	int code = ie_attach(soc_name, "apu", t->apu_inst, mode, no_irq, &soc, &ag, &dev);
	if (code) {
		demo_reap(0);
		return code;
	}
	static const struct ipc_ept_cfg cfg[2] = {
		{ .name = "echo0", .cb = { .bound = ie_bound, .received = ie_apu_received, .error = ie_error } },
		{ .name = "echo1", .cb = { .bound = ie_bound, .received = ie_apu_received, .error = ie_error } },
	};
	double *rtt = calloc(count ? count : 1, sizeof(double));
	uint64_t sent = 0, answered = 0, errors = 0;
	bool bound = false;
	if (!rtt || ipc_service_register_endpoint(dev, &me_ept[0], &cfg[0]) ||
	    ipc_service_register_endpoint(dev, &me_ept[1], &cfg[1]))
		code = demo_fail(EXIT_FAIL, "apu: cannot register endpoints echo0/echo1");
	else if (ie_wait_bound(ag, no_irq) || ie_wait_bound(ag, no_irq)) {
		if (!demo_signal)
			code = demo_fail(EXIT_FAIL, "apu: endpoints echo0/echo1 not bound%s",
					 child_gone() ? "" : " within 10 s");
	} else {
		bound = true;
	}
	uint32_t x = 0x9E3779B9u;
	for (uint64_t i = 0; bound && i < count && !demo_signal; i++) {
		uint8_t msg[ECHO_MAX];
		size_t len = 8 + (size_t)(i % (ECHO_MAX - 7));
		uint32_t seq = (uint32_t)i;
		for (size_t k = 8; k < len; k++) {
			x ^= x << 13, x ^= x >> 17, x ^= x << 5;
			msg[k] = (uint8_t)x;
		}
		uint32_t words[ECHO_MAX / 4] = { 0 };
		memcpy(words, msg + 8, len - 8);
		uint32_t sum = checksum(words, (unsigned)((len - 8 + 3) / 4)) ^ (uint32_t)len;
		memcpy(msg, &seq, 4);
		memcpy(msg + 4, &sum, 4);
		struct ipc_ept *ept = &me_ept[i & 1u];
		double t0 = now_us();
		int r;
		if (i & 1u) { /* echo1: zero-copy TX */
			void *buf;
			uint32_t sz = (uint32_t)len;
			r = ipc_service_get_tx_buffer(ept, &buf, &sz, AMPL_MSEC(1000));
			if (!r) {
				memcpy(buf, msg, len);
				r = ipc_service_send_nocopy(ept, buf, len);
				if (r < 0)
					ipc_service_drop_tx_buffer(ept, buf);
			}
		} else {
			r = ipc_service_send(ept, msg, len);
		}
		if (r != (int)len) {
			if (!demo_signal)
				code = demo_fail(EXIT_FAIL, "apu: message %llu: send: %s", (unsigned long long)i,
						 ampl_strerror(r));
			break;
		}
		sent++;
		if (ie_wait_echo(ag, (unsigned)i + 1u, mode, 5000)) {
			code = echo_missing(i);
			break;
		}
		rtt[i] = now_us() - t0;
		if (ie_echo_is(msg, len))
			answered++;
		else
			errors++;
	}
	if (bound && !demo_abort())
		send_stop(&me_ept[0]);
	bool rpu_ok = demo_reap(5000);
	if (!rpu_ok || atomic_load(&ie.bad))
		errors++;
	printf("amplink demo: virtual ZynqMP '%s' from the built-in board %s\n", soc_name, AMPL_DEFAULT_BOARD_NAME);
	printf("  apu -> %s through the IPC service, %s instance %s (%s); %s (pid %d)\n"
	       "  echoes endpoints echo0 (copy) and echo1 (zero-copy TX), alternately\n",
	       t->rpu, t->what, t->apu_inst, dev->name, t->rpu, (int)child);
	printf("  wait mode:  %s; largest buffer %d bytes\n", ampl_wait_mode_name(mode),
	       bound ? ipc_service_get_tx_buffer_size(&me_ept[0]) : 0);
	printf("  messages:   %llu sent, %llu answered correctly, %llu errors%s\n", (unsigned long long)sent,
	       (unsigned long long)answered, (unsigned long long)errors, rpu_ok ? "" : " (the remote failed)");
	if (answered + errors && sent) {
		cli_sort(rtt, sent);
		printf("  round trip: p50 %.2f us  p90 %.2f us  p99 %.2f us  p99.9 %.2f us  max %.2f us\n",
		       cli_percentile(rtt, sent, 50), cli_percentile(rtt, sent, 90), cli_percentile(rtt, sent, 99),
		       cli_percentile(rtt, sent, 99.9), rtt[sent - 1]);
		demo_timing_note();
	}
	free(rtt);
	for (int k = 0; k < 2; k++)
		if (me_ept[k].instance)
			ipc_service_deregister_endpoint(&me_ept[k]);
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	if (!code && (errors || answered != count))
		code = EXIT_FAIL;
	return code;
}

/* ---- --firmware: RPU0 is firmware under QEMU, reached through the bridge ---- */

struct fw_prep {
	const char *soc;
	const struct ampl_emu_bridge_config *bcfg;
	bool created;
	bool trace;
};

/* Before QEMU starts: the SoC with its reserved memory in QEMU's RAM file, and the window's mailbox area. */
static int fw_prepare(struct ampl_emu_qemu *q, void *arg)
{
	struct fw_prep *p = arg;
	struct ampl_soc_create_opts o = { .backing_path = q->shm_path, .backing_base = AMPL_EMU_DEFAULT_BOARD_BASE };
	int r = ampl_soc_create_opts(p->soc, &ampl_soc_zynqmp, NULL, 0, &o);
	if (r)
		return demo_fail(r, "%s", ampl_soc_last_error());
	p->created = true;
	if (p->trace && demo_trace(p->soc, true))
		return -EIO;
	return ampl_emu_bridge_write_mbox(q->window, p->bcfg);
}

/* The image --firmware without a file runs for @backend: $AMPL_FIRMWARE_DIR/IMG, or firmware/IMG beside this
 * program (the build tree's layout). 0 with @out set, or EXIT_FAIL after saying where it looked. */
static int firmware_default(const char *backend, char *out, size_t size)
{
	const char *img = !strcmp(backend, "icmsg")   ? "icmsg_echo_soc.elf"
			  : !strcmp(backend, "rpmsg") ? "rpmsg_remote_soc.elf"
			  : !strcmp(backend, "multi") ? "multi_soc.elf"
						      : "ipm_echo.elf";
	const char *dir = getenv("AMPL_FIRMWARE_DIR");
	char self[2048], where[2200];
	if (dir && *dir) {
		snprintf(where, sizeof(where), "%s (AMPL_FIRMWARE_DIR)", dir);
		snprintf(out, size, "%s/%s", dir, img);
	} else {
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			return demo_fail(EXIT_FAIL, "--firmware: cannot find this program's directory (%s): give the "
					 "file, or set AMPL_FIRMWARE_DIR", strerror(errno));
		self[n] = 0;
		char *slash = strrchr(self, '/');
		if (slash)
			*slash = 0;
		snprintf(where, sizeof(where), "%.2047s/firmware (beside this amplink)", self);
		snprintf(out, size, "%.2047s/firmware/%s", self, img);
	}
	if (access(out, R_OK))
		return demo_fail(EXIT_FAIL, "--firmware: %s is not built: no %s in %s. The firmware is built with the "
				 "host build when arm-none-eabi-gcc is installed (make; Debian package gcc-arm-none-eabi); "
				 "or give the file, or set AMPL_FIRMWARE_DIR", backend, img, where);
	return 0;
}

static int demo_firmware(const char *name, enum ampl_wait_mode mode, uint64_t count, const char *elf, bool icmsg,
			 const struct me_target *me, bool trace)
{
	char err[512];
	const char *agent = me ? me->rpu : "rpu0";
	struct ampl_emu_qemu_config probe = { 0 };
	if (ampl_emu_qemu_find(&probe, err, sizeof(err)))
		return demo_fail(EXIT_FAIL, "--firmware: %s", err);
	uint32_t doorbell = mode == AMPL_WAIT_POLL ? AMPL_EMU_DOORBELL_POLL : AMPL_EMU_DOORBELL_IRQ;
	struct ampl_emu_bridge_config bcfg = {
		.soc = name, .agent = agent, .remotes = { "apu" },
		.modes = { me || icmsg ? AMPL_EMU_CHAN_DOORBELL : AMPL_EMU_CHAN_REQUEST }, .num_chans = 1,
		.mode = mode == AMPL_WAIT_POLL ? AMPL_WAIT_ADAPTIVE : mode,
	};
	struct fw_prep prep = { .soc = name, .bcfg = &bcfg, .trace = trace };
	struct ampl_emu_qemu_config qcfg = { .kernel = elf, .doorbell = doorbell, .quiet = true,
					     .prepare = fw_prepare, .prepare_arg = &prep };
	struct ampl_emu_qemu q;
	struct ampl_emu_bridge b;
	int r = ampl_emu_qemu_start(&q, &qcfg, err, sizeof(err));
	if (r) {
		if (prep.created)
			ampl_soc_destroy(name);
		return err[0] ? demo_fail(EXIT_FAIL, "--firmware %s: %s", elf, err) : EXIT_FAIL;
	}
	r = ampl_emu_bridge_start(&b, &bcfg, &q);
	if (r) {
		int code = demo_fail(EXIT_FAIL, "bridge: %s", ampl_soc_last_error());
		ampl_emu_qemu_kill(&q);
		ampl_soc_destroy(name);
		return code;
	}
	printf("amplink demo: %s is %s under QEMU (pid %d, %s doorbell), bridged to the virtual SoC\n", agent, elf,
	       (int)q.pid, doorbell == AMPL_EMU_DOORBELL_POLL ? "polled" : "UART interrupt");
	fflush(stdout);
	/* The APU exactly as against the Linux remote; the remote it waits for is QEMU (the firmware exits on STOP). */
	char rname[64];
	snprintf(rname, sizeof(rname), "%s firmware (QEMU)", agent);
	rproc.name = rname;
	rproc.pid = q.pid;
	int code = me      ? apu_multi_main(name, mode, count, q.pid, me)
		   : icmsg ? apu_icmsg_main(name, mode, count, q.pid)
			   : apu_main(name, mode, count, q.pid);
	if (rproc.reaped)
		q.pid = 0; /* apu_main reaped it */
	ampl_emu_bridge_stop(&b);
	if (trace) {
		/* Read after the stop: the bridge merged the last ones then. */
		unsigned fw_records = atomic_load(&b.trace_records), fw_lost = atomic_load(&b.trace_lost);
		printf("  traced: the firmware's %u records merged into %s's, %u overwritten before they were read\n",
		       fw_records, agent, fw_lost);
		(void)demo_trace(name, false); /* while the SoC's memory (QEMU's RAM file) is still there */
	}
	ampl_emu_qemu_kill(&q); /* gone already, or killed now; its window file and socket removed */
	ampl_soc_destroy(name);
	if (demo_signal) {
		fflush(stdout);
		cli_fail(EXIT_FAIL, "demo", "stopped by signal %d (%s): QEMU stopped, SoC %s removed", (int)demo_signal,
			 strsignal(demo_signal), name);
		return 128 + demo_signal;
	}
	return code;
}

int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = { { "count", required_argument, NULL, 'n' },
					      { "mode", required_argument, NULL, 'm' },
					      { "soc", required_argument, NULL, 's' },
					      { "backend", required_argument, NULL, 'b' },
					      { "firmware", optional_argument, NULL, 'f' },
					      { "trace", no_argument, NULL, 't' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	uint64_t count = 10000;
	enum ampl_wait_mode mode = AMPL_WAIT_ADAPTIVE;
	bool icmsg = false;
	const struct me_target *me = NULL;
	char name[64];
	snprintf(name, sizeof(name), "demo-%d", (int)getpid());
	int c;
	optind = 1;
	const char *firmware = NULL;
	bool trace = false;
	while ((c = getopt_long(argc, argv, "+n:m:s:b:f::th", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			trace = true;
			break;
		case 'f':
			/* --firmware FILE as well as --firmware=FILE; alone, the backend's built image */
			if (!optarg && optind < argc && argv[optind][0] != '-')
				optarg = argv[optind++];
			firmware = optarg ? optarg : "";
			break;
		case 'n':
			if (!cli_parse_u64(optarg, 1, 100000000, &count))
				return cli_fail(EXIT_USAGE, "demo", "--count: '%s' is not 1..100000000", optarg);
			break;
		case 'm':
			if (ampl_wait_mode_parse(optarg, &mode))
				return cli_fail(EXIT_USAGE, "demo", "--mode: '%s' is not polling, adaptive or blocking",
						optarg);
			break;
		case 's':
			snprintf(name, sizeof(name), "%s", optarg);
			break;
		case 'b':
			if (strcmp(optarg, "ipm") && strcmp(optarg, "icmsg") && strcmp(optarg, "multi") &&
			    strcmp(optarg, "rpmsg"))
				return cli_fail(EXIT_USAGE, "demo", "--backend: '%s' is not ipm, icmsg, multi or rpmsg",
						optarg);
			icmsg = !strcmp(optarg, "icmsg");
			me = !strcmp(optarg, "multi") ? &me_multi : !strcmp(optarg, "rpmsg") ? &me_rpmsg : NULL;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_fail(EXIT_USAGE, "demo", "unexpected argument '%s' (see --help)", argv[optind]);
	demo_backend = me == &me_multi ? "multi" : me == &me_rpmsg ? "rpmsg" : icmsg ? "icmsg" : "ipm";
	if (firmware) {
		char path[2200];
		if (!*firmware) {
			int code = firmware_default(demo_backend, path, sizeof(path));
			if (code)
				return code;
			firmware = path;
		}
		cli_on_stop_signals(on_stop_signal);
		return demo_firmware(name, mode, count, firmware, icmsg, me, trace);
	}
	/* From here on the SoC is removed however the demo ends; a stop signal ends every wait (and is reported
	 * after the clean-up, as exit status 128 + N). */
	cli_on_stop_signals(on_stop_signal);
	if (ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0))
		return demo_fail(EXIT_FAIL, "%s", ampl_soc_last_error());
	if (trace && demo_trace(name, true)) {
		ampl_soc_destroy(name);
		return EXIT_FAIL;
	}
	fflush(stdout);
	fflush(stderr);
	demo_parent = getpid();
	rproc.name = me ? me->rpu : "rpu0";
	rproc.pid = demo_signal ? -1 : fork();
	if (rproc.pid < 0) {
		int code = demo_signal ? 0 : demo_fail(EXIT_FAIL, "fork: %s", strerror(errno));
		ampl_soc_destroy(name);
		return demo_signal ? 128 + demo_signal : code;
	}
	if (rproc.pid == 0) {
		/* The remote: told when the APU process dies (SIGTERM, which ends its waits), and checks that it
		 * did not die before this call. Left alone by the APU process, it removes the SoC itself. */
		demo_remote = true;
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		int code = EXIT_FAIL;
		if (!parent_gone())
			code = me ? rpu_multi_main(name, mode, me) : icmsg ? rpu_icmsg_main(name, mode) : rpu_main(name, mode);
		if (parent_gone()) {
			ampl_soc_destroy(name);
			demo_fail(EXIT_FAIL, "%s: the demo's process (pid %d) died: removed SoC %s", rproc.name,
				  (int)demo_parent, name);
		}
		fflush(stdout);
		_exit(code);
	}
	int code = me      ? apu_multi_main(name, mode, count, rproc.pid, me)
		   : icmsg ? apu_icmsg_main(name, mode, count, rproc.pid)
			   : apu_main(name, mode, count, rproc.pid);
	if (!rproc.reaped)
		demo_reap(0); /* every path reaps it already; never leave it running */
	if (trace)
		(void)demo_trace(name, false);
	ampl_soc_destroy(name);
	if (demo_signal) {
		fflush(stdout);
		cli_fail(EXIT_FAIL, "demo", "stopped by signal %d (%s): %s (pid %d) stopped, SoC %s removed",
			 (int)demo_signal, strsignal(demo_signal), rproc.name, (int)rproc.pid, name);
		return 128 + demo_signal;
	}
	return code;
}
