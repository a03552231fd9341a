/*
 * fuse_io: ordinary system calls on a file, for tests of the mounted channel files (test_fuse.sh). Uses libc only:
 * it stands for "any program" using the files.
 *
 *   fuse_io write [--nonblock] FILE DATA...   one open; one write() per DATA ("" writes 0 bytes); prints each
 *                                             result: the count, or the errno name ("32 EAGAIN")
 *   fuse_io read [--nonblock] FILE            one open, one read() of up to 4096 bytes; prints the bytes in hex
 *                                             (or "-" for 0 bytes) or the errno name, then " ms=N" (time in read)
 *   fuse_io open2 FILE                        open, then open again while the first is open; prints both results
 *   fuse_io poll FILE in|out MS               poll() for POLLIN or POLLOUT; prints "ready ms=N" or "timeout",
 *                                             then for "in" the message read ("ready ms=N HEX")
 *   fuse_io select FILE MS                    select() for reading; prints "ready ms=N HEX" or "timeout"
 * Exit status: 0 when every call succeeded, 1 otherwise, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

static const char *errname(int e)
{
	switch (e) {
	case EAGAIN: return "EAGAIN";
	case EBUSY: return "EBUSY";
	case EINTR: return "EINTR";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case EBADF: return "EBADF";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EMSGSIZE: return "EMSGSIZE";
	case ESHUTDOWN: return "ESHUTDOWN";
	case ENOTCONN: return "ENOTCONN";
	default: return "E?";
	}
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000L + (t.tv_nsec - t0->tv_nsec) / 1000000L;
}

static void print_hex(const unsigned char *b, ssize_t n)
{
	if (n == 0)
		printf("-");
	for (ssize_t i = 0; i < n; i++)
		printf("%02x", b[i]);
}

static int usage(void)
{
	fprintf(stderr, "usage: fuse_io write|read|open2|poll|select ... (see the source)\n");
	return 2;
}

static int do_read(int fd)
{
	unsigned char buf[4096];
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ssize_t n = read(fd, buf, sizeof(buf));
	int e = errno;
	if (n < 0)
		printf("%s", errname(e));
	else
		print_hex(buf, n);
	printf(" ms=%ld\n", ms_since(&t0));
	return n < 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	const char *cmd = argv[1];
	int a = 2, flags = 0;
	if (!strcmp(argv[a], "--nonblock")) {
		flags = O_NONBLOCK;
		a++;
	}
	if (a >= argc)
		return usage();
	const char *file = argv[a++];
	if (!strcmp(cmd, "write")) {
		int fd = open(file, O_WRONLY | flags);
		if (fd < 0) {
			printf("open:%s\n", errname(errno));
			return 1;
		}
		int bad = 0;
		for (; a < argc; a++) {
			ssize_t n = write(fd, argv[a], strlen(argv[a]));
			if (n < 0) {
				printf("%s%s", errname(errno), a + 1 < argc ? " " : "");
				bad = 1;
			} else {
				printf("%zd%s", n, a + 1 < argc ? " " : "");
			}
		}
		printf("\n");
		close(fd);
		return bad;
	}
	if (!strcmp(cmd, "read")) {
		int fd = open(file, O_RDONLY | flags);
		if (fd < 0) {
			printf("open:%s\n", errname(errno));
			return 1;
		}
		int r = do_read(fd);
		close(fd);
		return r;
	}
	if (!strcmp(cmd, "open2")) {
		int fd = open(file, O_RDWR);
		int e1 = errno;
		int fd2 = open(file, O_RDWR | O_NONBLOCK);
		int e2 = errno;
		printf("%s %s\n", fd < 0 ? errname(e1) : "0", fd2 < 0 ? errname(e2) : "0");
		if (fd2 >= 0)
			close(fd2);
		if (fd >= 0)
			close(fd);
		return fd < 0 || fd2 >= 0;
	}
	if (!strcmp(cmd, "poll") || !strcmp(cmd, "select")) {
		int in = !strcmp(cmd, "select") || (a < argc && !strcmp(argv[a], "in"));
		if (!strcmp(cmd, "poll"))
			a++;
		if (a >= argc)
			return usage();
		int ms = atoi(argv[a]);
		int fd = open(file, O_RDWR);
		if (fd < 0) {
			printf("open:%s\n", errname(errno));
			return 1;
		}
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		int r;
		if (!strcmp(cmd, "poll")) {
			struct pollfd p = { .fd = fd, .events = (short)(in ? POLLIN : POLLOUT) };
			r = poll(&p, 1, ms);
			if (r > 0 && !(p.revents & (in ? POLLIN : POLLOUT)))
				r = 0;
		} else {
			fd_set rd;
			FD_ZERO(&rd);
			FD_SET(fd, &rd);
			struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
			r = select(fd + 1, &rd, NULL, NULL, &tv);
		}
		if (r <= 0) {
			printf("timeout\n");
			close(fd);
			return 1;
		}
		printf("ready ms=%ld", ms_since(&t0));
		if (in) {
			unsigned char buf[4096];
			ssize_t n = read(fd, buf, sizeof(buf));
			printf(" ");
			if (n < 0)
				printf("%s", errname(errno));
			else
				print_hex(buf, n);
		}
		printf("\n");
		close(fd);
		return 0;
	}
	return usage();
}
