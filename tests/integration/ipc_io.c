/*
 * ipc_io: the IPC endpoint files of `amplink mount` through ordinary system calls (libc only: it stands for "any
 * program"), against a peer process (`amplink ipc echo`) that it starts itself, so the order of events is fixed.
 *
 *   ipc_io AMPLINK SOC DIR INSTANCE PEER_AGENT PEER_INSTANCE ENDPOINT [--unbinds]
 *
 * DIR is the mount point of agent A; INSTANCE one of A's IPC instances (DIR/INSTANCE/control); the peer runs
 * `AMPLINK ipc echo --soc SOC --as PEER_AGENT --instance PEER_INSTANCE --endpoint ENDPOINT`. Checks, in order:
 * create through the control file (EEXIST, EINVAL for bad commands), ENOTCONN and no POLLOUT before the peer is
 * there, EBUSY for a second open, POLLOUT once bound, a round trip, EMSGSIZE for a read buffer smaller than the
 * message with the message kept, EMSGSIZE for a message above the endpoint's max (nothing sent, later messages
 * fine), message boundaries for 1, 100 and max bytes, select(), a blocking read, EBUSY for destroying an open
 * endpoint, with --unbinds: POLLOUT gone and ENOTCONN once the peer exits; destroy and the file gone.
 * Every wait is bounded (10 s) and its time printed. Exit status: 0 passed, 1 failed, 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "child.h"

#define WAIT_MS 10000

static int failures;
static const char *label;

#define CHECK(cond, ...)                                                                                           \
	do {                                                                                                       \
		if (!(cond)) {                                                                                     \
			printf("FAIL: %s: line %d: ", label, __LINE__);                                            \
			printf(__VA_ARGS__);                                                                       \
			printf("\n");                                                                              \
			failures++;                                                                                \
		}                                                                                                  \
	} while (0)

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000L + (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* Write @cmd to the control file; 0 or errno. */
static int control(const char *ctl, const char *cmd)
{
	int fd = open(ctl, O_WRONLY);
	if (fd < 0)
		return errno;
	ssize_t n = write(fd, cmd, strlen(cmd));
	int e = n < 0 ? errno : n == (ssize_t)strlen(cmd) ? 0 : EIO;
	close(fd);
	return e;
}

/* The control file's line for @ep, or "" */
static void control_line(const char *ctl, const char *ep, char *line, size_t cap)
{
	line[0] = 0;
	FILE *f = fopen(ctl, "r");
	if (!f)
		return;
	char buf[512];
	size_t n = strlen(ep);
	while (fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, ep, n) && buf[n] == ' ')
			snprintf(line, cap, "%s", buf);
	fclose(f);
}

/* poll() @fd for @ev up to @ms; the revents, 0 on timeout. Prints how long it took under @what. */
static short wait_ev(int fd, short ev, int ms, const char *what)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct pollfd p = { .fd = fd, .events = ev };
	int r;
	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	printf("%s: %s after %ld ms\n", label, what, ms_since(&t0));
	return r > 0 ? (short)(p.revents & ev) : 0;
}

int main(int argc, char **argv)
{
	if (argc < 8 || argc > 9) {
		fprintf(stderr, "usage: ipc_io AMPLINK SOC DIR INSTANCE PEER_AGENT PEER_INSTANCE ENDPOINT [--unbinds]\n");
		return 2;
	}
	const char *amp = argv[1], *soc = argv[2], *dir = argv[3], *inst = argv[4], *peer = argv[5],
		   *pinst = argv[6], *name = argv[7];
	int unbinds = argc == 9 && !strcmp(argv[8], "--unbinds");
	label = inst;
	setvbuf(stdout, NULL, _IOLBF, 0);
	char ctl[1024], path[1024], cmd[256], line[512];
	snprintf(ctl, sizeof(ctl), "%s/%s/control", dir, inst);
	snprintf(path, sizeof(path), "%s/%s/%s", dir, inst, name);

	/* ---- the control file ---- */
	struct stat st;
	CHECK(stat(path, &st) && errno == ENOENT, "%s exists before create", path);
	snprintf(cmd, sizeof(cmd), "create %s\n", name);
	int e = control(ctl, cmd);
	CHECK(e == 0, "create: %s", strerror(e));
	CHECK(!stat(path, &st) && S_ISREG(st.st_mode), "%s missing after create", path);
	e = control(ctl, cmd);
	CHECK(e == EEXIST, "second create: %s, wanted EEXIST", strerror(e));
	e = control(ctl, "frobnicate x\n");
	CHECK(e == EINVAL, "unknown command: %s, wanted EINVAL", strerror(e));
	e = control(ctl, "create a/b\n");
	CHECK(e == EINVAL, "name with '/': %s, wanted EINVAL", strerror(e));
	e = control(ctl, "destroy nosuch\n");
	CHECK(e == ENOENT, "destroy of no endpoint: %s, wanted ENOENT", strerror(e));

	/* ---- before the peer is there ---- */
	int fd = open(path, O_RDWR | O_NONBLOCK);
	CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	if (fd < 0)
		return 1;
	int fd2 = open(path, O_RDWR);
	CHECK(fd2 < 0 && errno == EBUSY, "second open: %d %s, wanted EBUSY", fd2, strerror(errno));
	if (fd2 >= 0)
		close(fd2);
	struct pollfd p0 = { .fd = fd, .events = POLLIN | POLLOUT };
	CHECK(poll(&p0, 1, 0) == 0, "poll before the peer: revents 0x%x, wanted none", p0.revents);
	ssize_t n = write(fd, "early", 5);
	CHECK(n < 0 && errno == ENOTCONN, "write before the peer: %zd %s, wanted ENOTCONN", n, strerror(errno));
	char buf[70000];
	n = read(fd, buf, sizeof(buf));
	CHECK(n < 0 && errno == EAGAIN, "non-blocking read of nothing: %zd %s, wanted EAGAIN", n, strerror(errno));

	/* ---- the peer ---- */
	pid_t pid = test_fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, 1);
		execl(amp, amp, "ipc", "echo", "--soc", soc, "--as", peer, "--instance", pinst, "--endpoint", name,
		      (char *)NULL);
		_exit(127);
	}
	CHECK(pid > 0, "fork: %s", strerror(errno));
	CHECK(wait_ev(fd, POLLOUT, WAIT_MS, "bound (POLLOUT)") == POLLOUT, "no POLLOUT within %d ms", WAIT_MS);
	control_line(ctl, name, line, sizeof(line));
	int max = 0;
	const char *mx = strstr(line, "max=");
	if (mx)
		max = atoi(mx + 4);
	CHECK(strstr(line, " bound open ") && max > 0, "control line '%s'", line);
	printf("%s: %s", label, line);

	/* ---- a round trip; a read buffer too small keeps the message ---- */
	n = write(fd, "hello", 5);
	CHECK(n == 5, "write hello: %zd %s", n, strerror(errno));
	CHECK(wait_ev(fd, POLLIN, WAIT_MS, "echo (POLLIN)") == POLLIN, "no echo within %d ms", WAIT_MS);
	n = read(fd, buf, 2);
	CHECK(n < 0 && errno == EMSGSIZE, "read of 2 bytes: %zd %s, wanted EMSGSIZE", n, strerror(errno));
	n = read(fd, buf, sizeof(buf));
	CHECK(n == 5 && !memcmp(buf, "hello", 5), "read after EMSGSIZE: %zd %s", n, n < 0 ? strerror(errno) : "");

	/* ---- above the maximum: EMSGSIZE, nothing sent, never truncated ---- */
	if (max > 0 && max + 1 <= (int)sizeof(buf)) {
		memset(buf, 'x', (size_t)max + 1);
		n = write(fd, buf, (size_t)max + 1);
		CHECK(n < 0 && errno == EMSGSIZE, "write of max+1 = %d bytes: %zd %s, wanted EMSGSIZE", max + 1, n,
		      strerror(errno));
	}

	/* ---- boundaries: 1, 100 and max bytes, each one message; the blocking mode ---- */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	size_t sizes[3] = { 1, 100, (size_t)(max > 0 && max <= 60000 ? max : 60000) };
	for (int i = 0; i < 3; i++) {
		for (size_t k = 0; k < sizes[i]; k++)
			buf[k] = (char)('a' + (k + (size_t)i) % 26);
		n = write(fd, buf, sizes[i]);
		CHECK(n == (ssize_t)sizes[i], "write of %zu bytes: %zd %s", sizes[i], n, strerror(errno));
	}
	for (int i = 0; i < 3; i++) {
		CHECK(wait_ev(fd, POLLIN, WAIT_MS, "echo of a message (POLLIN)") == POLLIN, "no echo %d", i);
		n = read(fd, buf, sizeof(buf)); /* blocking read */
		int same = n == (ssize_t)sizes[i];
		for (ssize_t k = 0; same && k < n; k++)
			same = buf[k] == (char)('a' + ((size_t)k + (size_t)i) % 26);
		CHECK(same, "echo %d: %zd bytes, wanted %zu, same content", i, n, sizes[i]);
	}

	/* ---- select() ---- */
	n = write(fd, "sel", 3);
	CHECK(n == 3, "write sel: %zd", n);
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(fd, &rd);
	struct timeval tv = { WAIT_MS / 1000, 0 };
	int r = select(fd + 1, &rd, NULL, NULL, &tv);
	CHECK(r == 1 && FD_ISSET(fd, &rd), "select: %d", r);
	n = read(fd, buf, sizeof(buf));
	CHECK(n == 3 && !memcmp(buf, "sel", 3), "read after select: %zd", n);

	/* ---- an open endpoint cannot be destroyed ---- */
	snprintf(cmd, sizeof(cmd), "destroy %s\n", name);
	e = control(ctl, cmd);
	CHECK(e == EBUSY, "destroy while open: %s, wanted EBUSY", strerror(e));

	/* ---- the peer goes away ---- */
	kill(pid, SIGTERM);
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the echo peer's status 0x%x", status);
	if (unbinds) {
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		while (poll(&p, 1, 0) == 1 && ms_since(&t0) < WAIT_MS) {
			struct timespec nap = { 0, 10000000L };
			nanosleep(&nap, NULL);
		}
		printf("%s: unbound after %ld ms\n", label, ms_since(&t0));
		CHECK(!(p.revents & POLLOUT) || poll(&p, 1, 0) == 0, "still POLLOUT after the peer exited");
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		n = write(fd, "late", 4);
		CHECK(n < 0 && errno == ENOTCONN, "write after the peer left: %zd %s, wanted ENOTCONN", n,
		      strerror(errno));
	}
	close(fd);

	/* ---- destroy ---- */
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do /* the release reaches the server just after close() returns */
		e = control(ctl, cmd);
	while (e == EBUSY && ms_since(&t0) < WAIT_MS);
	CHECK(e == 0, "destroy: %s", strerror(e));
	CHECK(stat(path, &st) && errno == ENOENT, "%s still there after destroy", path);
	printf("%s: %s\n", label, failures ? "FAILED" : "passed");
	return failures ? 1 : 0;
}
