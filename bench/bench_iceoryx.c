/*
 * iceoryx in amplink bench: the shared-memory IPC that Linux programs would use instead, measured in the same run as
 * amplink's rows and the machine's limits, through its C binding (Debian's libiceoryx-binding-c-dev).
 *
 * iceoryx needs its daemon, RouDi (iox-roudi, Debian's iceoryx package). Version 2 has one RouDi per machine, on
 * fixed names (/tmp/roudi, /dev/shm/iceoryx_mgmt), and its applications wait for RouDi without a bound, so:
 *   - bench runs take turns: a lock file (LOCK_PATH) is held from RouDi's start to its end, waited for at most
 *     LOCK_WAIT_S;
 *   - a RouDi this run did not start (one is listening on /tmp/roudi) is never stopped nor used: the rows are
 *     skipped, with that reason;
 *   - RouDi runs with this run's configuration (mempools for the sizes measured), its output to a file (never to
 *     the caller's stdout or stderr, which a test harness may wait on), dies with this process (PR_SET_PDEATHSIG),
 *     must say it is ready within ROUDI_UP_S, and is stopped (SIGTERM, then SIGKILL after ROUDI_DOWN_S) at the end
 *     of each measurement;
 *   - every iceoryx call runs in a child process this process waits for with a bound, then kills.
 * Anything missing or late skips the rows with the reason; the rows never fail the benchmark.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#ifndef AMPL_HAVE_ICEORYX

#define NO_ICEORYX "built without iceoryx (Debian's libiceoryx-binding-c-dev not found when configuring, or AMPL_BENCH_ICEORYX=OFF)"

int ampl_bench_iox_rtt(double *v, unsigned long n, unsigned long warmup, char *why, size_t whylen)
{
	(void)v;
	(void)n;
	(void)warmup;
	snprintf(why, whylen, "%s", NO_ICEORYX);
	return 1;
}

void ampl_bench_iox_stream(struct ampl_bench_tp *r, double seconds)
{
	(void)seconds;
	r->skipped = true;
	snprintf(r->why, sizeof(r->why), "%s", NO_ICEORYX);
}

#else

#include <iceoryx_binding_c/log.h>
#include <iceoryx_binding_c/publisher.h>
#include <iceoryx_binding_c/runtime.h>
#include <iceoryx_binding_c/subscriber.h>

#define LOCK_PATH "/tmp/amplink-bench-iceoryx.lock"
#define LOCK_WAIT_S 120
#define ROUDI_SOCKET "/tmp/roudi" /* iceoryx 2: IOX_UDS_SOCKET_PATH_PREFIX + IPC_CHANNEL_ROUDI_NAME */
#define ROUDI_UP_S 10
#define ROUDI_DOWN_S 5
#define CONNECT_S 10 /* publisher and subscriber find each other */
#define QUEUE 256    /* the subscriber queue (iceoryx 2's largest) */

/* RouDi's configuration: chunks for the 32-byte echo and each streamed size, more than the queues can hold. */
static const char roudi_config[] = "[general]\nversion = 1\n\n"
				   "[[segment]]\n\n"
				   "[[segment.mempool]]\nsize = 128\ncount = 2048\n\n"
				   "[[segment.mempool]]\nsize = 1024\ncount = 1024\n\n"
				   "[[segment.mempool]]\nsize = 8192\ncount = 1024\n";

/* A RouDi this run started. */
struct roudi {
	pid_t pid;
	int lock;
	char dir[64]; /* its configuration and log */
};

/* What the two sides of one measurement share. */
struct iox_shared {
	_Alignas(64) _Atomic uint64_t msgs;
	_Atomic uint64_t bytes;
	_Atomic uint64_t bad;    /* sequence breaks or wrong sizes or echoes */
	_Atomic uint32_t ready;  /* the receiver or echoing side is subscribed and offers */
	_Atomic uint32_t stop;
	_Atomic uint32_t failed; /* a child could not set up: why[] says why */
	double t0, t1;           /* the sender's streaming time (ns) */
	uint64_t sent;
	char why[256];
};

static bool file_has(const char *path, const char *text)
{
	char buf[8192];
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return strstr(buf, text) != NULL;
}

/* The last line of RouDi's log (for a reason), or "". */
static void log_tail(const char *path, char *out, size_t outlen)
{
	char buf[8192];
	out[0] = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = 0;
	char *line = strrchr(buf, '\n');
	snprintf(out, outlen, "%.160s", line ? line + 1 : buf);
}

/* Something listens on RouDi's socket: a RouDi is running. */
static bool roudi_listening(void)
{
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return false;
	struct sockaddr_un a = { .sun_family = AF_UNIX, .sun_path = ROUDI_SOCKET };
	bool up = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(s);
	return up;
}

/* iox-roudi: $AMPL_IOX_ROUDI, else on PATH; NULL if there is none. */
static const char *roudi_path(void)
{
	static char buf[4096];
	return ampl_bench_find_program("AMPL_IOX_ROUDI", "iox-roudi", buf, sizeof(buf));
}

/* What a RouDi leaves when it does not end by itself: the lock held says it was this run's. */
static void roudi_remove_leftovers(void)
{
	char p[300];
	struct passwd *pw = getpwuid(getuid());
	unlink(ROUDI_SOCKET);
	unlink(ROUDI_SOCKET ".lock");
	unlink("/tmp/iox-unique-roudi.lock");
	unlink("/dev/shm/iceoryx_mgmt");
	if (pw) {
		snprintf(p, sizeof(p), "/dev/shm/%s", pw->pw_name);
		unlink(p);
	}
}

static void roudi_stop(struct roudi *d)
{
	if (d->pid > 0) {
		int st = 0;
		pid_t got;
		kill(d->pid, SIGTERM);
		double end = ampl_bench_now_ns() + ROUDI_DOWN_S * 1e9;
		while ((got = waitpid(d->pid, &st, WNOHANG)) == 0 && ampl_bench_now_ns() < end)
			usleep(10000);
		if (got != d->pid) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &st, 0);
		}
		if (!WIFEXITED(st))
			roudi_remove_leftovers();
		d->pid = 0;
	}
	if (d->dir[0]) {
		char p[128];
		snprintf(p, sizeof(p), "%s/roudi.toml", d->dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/roudi.log", d->dir);
		unlink(p);
		rmdir(d->dir);
		d->dir[0] = 0;
	}
	if (d->lock >= 0) {
		close(d->lock); /* releases the lock */
		d->lock = -1;
	}
}

/* Start RouDi and wait until it is ready for clients. 0, or -1 with the reason in @why. */
static int roudi_start(struct roudi *d, char *why, size_t whylen)
{
	*d = (struct roudi){ .pid = 0, .lock = -1 };
	const char *bin = roudi_path();
	if (!bin) {
		snprintf(why, whylen, "iox-roudi not found (Debian's iceoryx package%s)",
			 getenv("AMPL_IOX_ROUDI") ? "; AMPL_IOX_ROUDI names no program" : "");
		return -1;
	}
	d->lock = open(LOCK_PATH, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (d->lock < 0) {
		snprintf(why, whylen, "%s: %s", LOCK_PATH, strerror(errno));
		return -1;
	}
	double end = ampl_bench_now_ns() + LOCK_WAIT_S * 1e9;
	while (flock(d->lock, LOCK_EX | LOCK_NB)) {
		if (ampl_bench_now_ns() > end) {
			snprintf(why, whylen, "another amplink bench held RouDi (%s) for more than %d s", LOCK_PATH,
				 LOCK_WAIT_S);
			roudi_stop(d);
			return -1;
		}
		usleep(50000);
	}
	if (roudi_listening()) {
		snprintf(why, whylen, "a RouDi this run did not start is running (%s; iceoryx 2 has one per machine)",
			 ROUDI_SOCKET);
		roudi_stop(d);
		return -1;
	}
	snprintf(d->dir, sizeof(d->dir), "/tmp/amplink-iox-XXXXXX");
	if (!mkdtemp(d->dir)) {
		snprintf(why, whylen, "mkdtemp: %s", strerror(errno));
		d->dir[0] = 0;
		roudi_stop(d);
		return -1;
	}
	char cfg[128], log[128];
	snprintf(cfg, sizeof(cfg), "%s/roudi.toml", d->dir);
	snprintf(log, sizeof(log), "%s/roudi.log", d->dir);
	FILE *f = fopen(cfg, "w");
	if (!f || fputs(roudi_config, f) < 0 || fclose(f)) {
		snprintf(why, whylen, "%s: %s", cfg, strerror(errno));
		roudi_stop(d);
		return -1;
	}
	pid_t parent = getpid();
	d->pid = fork();
	if (d->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int in = open("/dev/null", O_RDONLY), out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (in < 0 || out < 0)
			_exit(127);
		dup2(in, 0);
		dup2(out, 1);
		dup2(out, 2);
		for (int fd = 3; fd < 1024; fd++)
			close(fd); /* nothing of the caller's: a harness waiting on a pipe is not kept waiting */
		execl(bin, "iox-roudi", "-c", cfg, "-l", "info", "-k", "1", (char *)NULL);
		_exit(127);
	}
	if (d->pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		d->pid = 0;
		roudi_stop(d);
		return -1;
	}
	end = ampl_bench_now_ns() + ROUDI_UP_S * 1e9;
	while (!file_has(log, "RouDi is ready for clients")) {
		int st;
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			char tail[200];
			log_tail(log, tail, sizeof(tail));
			snprintf(why, whylen, "%s exited (%s %d) before it was ready: %s", bin,
				 WIFEXITED(st) ? "status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st),
				 tail[0] ? tail : "no output");
			roudi_stop(d);
			return -1;
		}
		if (ampl_bench_now_ns() > end) {
			snprintf(why, whylen, "%s was not ready for clients within %d s", bin, ROUDI_UP_S);
			roudi_stop(d);
			return -1;
		}
		usleep(5000);
	}
	return 0;
}

static void child_fail(struct iox_shared *s, const char *fmt, const char *arg)
{
	snprintf(s->why, sizeof(s->why), fmt, arg);
	atomic_store(&s->failed, 1);
	exit(1);
}

static void child_init(const char *role, int cpu)
{
	char name[64];
	snprintf(name, sizeof(name), "amplink-bench-%s-%d", role, (int)getpid());
	ampl_bench_pin(cpu);
	iox_set_loglevel(Iceoryx_LogLevel_Warn); /* not its registration chatter on the caller's stderr */
	iox_runtime_init(name);
}

static iox_pub_t pub_new(iox_pub_storage_t *st, const char *event)
{
	iox_pub_options_t o;
	iox_pub_options_init(&o);
	o.subscriberTooSlowPolicy = ConsumerTooSlowPolicy_WAIT_FOR_CONSUMER;
	return iox_pub_init(st, "amplink", "bench", event, &o);
}

static iox_sub_t sub_new(iox_sub_storage_t *st, const char *event)
{
	iox_sub_options_t o;
	iox_sub_options_init(&o);
	o.queueCapacity = QUEUE;
	o.queueFullPolicy = QueueFullPolicy_BLOCK_PRODUCER;
	return iox_sub_init(st, "amplink", "bench", event, &o);
}

/* Wait (at most CONNECT_S) until @pub has a subscriber and @sub (if any) is subscribed. */
static bool connected(iox_pub_t pub, iox_sub_t sub)
{
	double end = ampl_bench_now_ns() + CONNECT_S * 1e9;
	while (!iox_pub_has_subscribers(pub) || (sub && iox_sub_get_subscription_state(sub) != SubscribeState_SUBSCRIBED)) {
		if (ampl_bench_now_ns() > end)
			return false;
		usleep(1000);
	}
	return true;
}

/*
 * Wait for the children @a and @b until @s->stop is set by @a's exit or @limit_s pass; then both are ended. 0, or
 * -1 with the reason in @why.
 */
static int reap(pid_t a, pid_t b, struct iox_shared *s, double limit_s, char *why, size_t whylen)
{
	double end = ampl_bench_now_ns() + limit_s * 1e9;
	int st = 0, ret = 0;
	pid_t got;
	while ((got = waitpid(a, &st, WNOHANG)) == 0 && ampl_bench_now_ns() < end && !atomic_load(&s->failed))
		usleep(2000);
	if (got != a) {
		kill(a, SIGKILL);
		waitpid(a, &st, 0);
		if (!atomic_load(&s->failed))
			snprintf(why, whylen, "no result within %.0f s", limit_s);
		ret = -1;
	} else if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		if (!atomic_load(&s->failed))
			snprintf(why, whylen, "the sending process ended with %s %d", WIFEXITED(st) ? "status" : "signal",
				 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		ret = -1;
	}
	atomic_store(&s->stop, 1);
	end = ampl_bench_now_ns() + 2e9;
	while ((got = waitpid(b, &st, WNOHANG)) == 0 && ampl_bench_now_ns() < end)
		usleep(2000);
	if (got != b) {
		kill(b, SIGKILL);
		waitpid(b, NULL, 0);
	}
	if (atomic_load(&s->failed)) {
		snprintf(why, whylen, "%s", s->why);
		ret = -1;
	}
	return ret;
}

/* ---- round trips: a 32-byte echo, each side busy polling its subscriber ---- */

static void rtt_echo(struct iox_shared *s)
{
	iox_pub_storage_t ps;
	iox_sub_storage_t ss;
	child_init("echo", 1);
	iox_sub_t sub = sub_new(&ss, "ping");
	iox_pub_t pub = pub_new(&ps, "pong");
	atomic_store(&s->ready, 1);
	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		const void *in;
		if (iox_sub_take_chunk(sub, &in) != ChunkReceiveResult_SUCCESS)
			continue;
		void *out;
		if (iox_pub_loan_chunk(pub, &out, 32) != AllocationResult_SUCCESS)
			child_fail(s, "echo: %s", "loan failed");
		uint32_t w[8];
		memcpy(w, in, sizeof(w));
		iox_sub_release_chunk(sub, in);
		w[0]++;
		memcpy(out, w, sizeof(w));
		iox_pub_publish_chunk(pub, out);
	}
	iox_pub_deinit(pub);
	iox_sub_deinit(sub);
	iox_runtime_shutdown();
	exit(0); /* the runtime deregisters from RouDi in its destructor */
}

static void rtt_ping(struct iox_shared *s, double *v, unsigned long n, unsigned long warmup)
{
	iox_pub_storage_t ps;
	iox_sub_storage_t ss;
	child_init("ping", 0);
	iox_pub_t pub = pub_new(&ps, "ping");
	iox_sub_t sub = sub_new(&ss, "pong");
	if (!connected(pub, sub))
		child_fail(s, "ping: %s", "the echo process did not connect within 10 s");
	unsigned long total = n + warmup;
	for (unsigned long i = 0; i < total; i++) {
		uint32_t w[8] = { (uint32_t)i }, r[8];
		double t0 = ampl_bench_now_ns();
		void *out;
		if (iox_pub_loan_chunk(pub, &out, sizeof(w)) != AllocationResult_SUCCESS)
			child_fail(s, "ping: %s", "loan failed");
		memcpy(out, w, sizeof(w));
		iox_pub_publish_chunk(pub, out);
		const void *in;
		while (iox_sub_take_chunk(sub, &in) != ChunkReceiveResult_SUCCESS)
			;
		double t1 = ampl_bench_now_ns();
		memcpy(r, in, sizeof(r));
		iox_sub_release_chunk(sub, in);
		if (r[0] != w[0] + 1)
			atomic_fetch_add(&s->bad, 1);
		if (i >= warmup)
			v[i - warmup] = t1 - t0;
	}
	iox_sub_deinit(sub);
	iox_pub_deinit(pub);
	iox_runtime_shutdown();
	exit(0); /* the runtime deregisters from RouDi in its destructor */
}

int ampl_bench_iox_rtt(double *v, unsigned long n, unsigned long warmup, char *why, size_t whylen)
{
	struct roudi d;
	if (roudi_start(&d, why, whylen))
		return 1;
	struct iox_shared *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	double *sv = mmap(NULL, n * sizeof(double), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int ret = -1;
	if (s == MAP_FAILED || sv == MAP_FAILED) {
		snprintf(why, whylen, "mmap: %s", strerror(errno));
		goto out;
	}
	memset(s, 0, sizeof(*s));
	fflush(NULL); /* the children exit(): nothing of ours buffered twice */
	pid_t b = fork();
	if (b == 0)
		rtt_echo(s);
	pid_t a = fork();
	if (a == 0)
		rtt_ping(s, sv, n, warmup);
	/* A guard against a hang, not a time limit: 60 s and 2 ms per round trip (on a loaded machine of 2 CPUs shared
	 * with other pinned spinning processes every polling row has shown 5-30 ms at p99.9). */
	ret = reap(a, b, s, 60 + (double)(n + warmup) * 2e-3, why, whylen);
	if (!ret && atomic_load(&s->bad)) {
		snprintf(why, whylen, "%llu wrong echoes", (unsigned long long)atomic_load(&s->bad));
		ret = -1;
	}
	if (!ret)
		memcpy(v, sv, n * sizeof(double));
out:
	if (sv != MAP_FAILED)
		munmap(sv, n * sizeof(double));
	if (s != MAP_FAILED)
		munmap(s, sizeof(*s));
	roudi_stop(&d);
	return ret;
}

/* ---- one-way streaming: loan, write the message in place, publish; the receiver checks and counts ---- */

static void stream_rx(struct iox_shared *s, size_t len)
{
	iox_sub_storage_t ss;
	child_init("rx", 1);
	iox_sub_t sub = sub_new(&ss, "stream");
	atomic_store(&s->ready, 1);
	uint32_t next = 0;
	uint64_t msgs = 0, bytes = 0;
	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		const void *in;
		if (iox_sub_take_chunk(sub, &in) != ChunkReceiveResult_SUCCESS)
			continue;
		uint32_t seq, size; /* the sender writes the size beside the sequence number */
		memcpy(&seq, in, 4);
		memcpy(&size, (const uint8_t *)in + 4, 4);
		iox_sub_release_chunk(sub, in);
		if (seq != next || size != len)
			atomic_fetch_add_explicit(&s->bad, 1, memory_order_relaxed);
		next = seq + 1;
		bytes += size;
		atomic_store_explicit(&s->bytes, bytes, memory_order_relaxed);
		atomic_store_explicit(&s->msgs, ++msgs, memory_order_release);
	}
	iox_sub_deinit(sub);
	iox_runtime_shutdown();
	exit(0); /* the runtime deregisters from RouDi in its destructor */
}

static void stream_tx(struct iox_shared *s, size_t len, double seconds)
{
	iox_pub_storage_t ps;
	child_init("tx", 0);
	iox_pub_t pub = pub_new(&ps, "stream");
	if (!connected(pub, NULL))
		child_fail(s, "stream: %s", "the receiving process did not subscribe within 10 s");
	uint8_t src[4096];
	memset(src, 0x5A, sizeof(src));
	uint32_t size = (uint32_t)len;
	memcpy(src + 4, &size, 4);
	uint64_t sent = 0;
	double t0 = ampl_bench_now_ns(), end = t0 + seconds * 1e9;
	for (;;) {
		if ((sent & 63u) == 0 && ampl_bench_now_ns() >= end)
			break;
		void *out;
		enum iox_AllocationResult a;
		while ((a = iox_pub_loan_chunk(pub, &out, (uint32_t)len)) == AllocationResult_RUNNING_OUT_OF_CHUNKS)
			;
		if (a != AllocationResult_SUCCESS)
			child_fail(s, "stream: %s", "loan failed");
		uint32_t seq = (uint32_t)sent;
		memcpy(src, &seq, 4);
		memcpy(out, src, len); /* the producer writes its message in place */
		iox_pub_publish_chunk(pub, out);
		sent++;
	}
	double limit = ampl_bench_now_ns() + 5e9;
	while (atomic_load_explicit(&s->msgs, memory_order_acquire) < sent && ampl_bench_now_ns() < limit)
		;
	s->t0 = t0;
	s->t1 = ampl_bench_now_ns();
	s->sent = sent;
	iox_pub_deinit(pub);
	iox_runtime_shutdown();
	exit(0); /* the runtime deregisters from RouDi in its destructor */
}

void ampl_bench_iox_stream(struct ampl_bench_tp *r, double seconds)
{
	struct roudi d;
	if (roudi_start(&d, r->why, sizeof(r->why))) {
		r->skipped = true;
		return;
	}
	struct iox_shared *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED) {
		snprintf(r->why, sizeof(r->why), "mmap: %s", strerror(errno));
		r->failed = true;
		roudi_stop(&d);
		return;
	}
	memset(s, 0, sizeof(*s));
	fflush(NULL); /* the children exit(): nothing of ours buffered twice */
	pid_t b = fork();
	if (b == 0)
		stream_rx(s, r->size);
	pid_t a = fork();
	if (a == 0)
		stream_tx(s, r->size, seconds);
	if (reap(a, b, s, 60 + seconds, r->why, sizeof(r->why))) {
		r->failed = true;
	} else if (atomic_load(&s->msgs) != s->sent || atomic_load(&s->bad)) {
		snprintf(r->why, sizeof(r->why), "%llu sent, %llu received, %llu out of sequence",
			 (unsigned long long)s->sent, (unsigned long long)atomic_load(&s->msgs),
			 (unsigned long long)atomic_load(&s->bad));
		r->failed = true;
	} else {
		double sec = (s->t1 - s->t0) / 1e9;
		r->msgs = s->sent;
		r->msgs_per_s = (double)s->sent / sec;
		r->gb_per_s = (double)atomic_load(&s->bytes) / sec / 1e9;
	}
	munmap(s, sizeof(*s));
	roudi_stop(&d);
}

#endif /* AMPL_HAVE_ICEORYX */
