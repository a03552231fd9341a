/*
 * RV32 on QEMU's virt machine shares its RAM with a Linux process the way mps2-an386 does (README, Firmware under
 * QEMU): qemu-system-riscv32 -machine virt,memory-backend=ram0 -object memory-backend-file,...,share=on, RAM at
 * guest 0x80000000 = file offset 0. The guest (rv32_window.c, built by test_rv32_window.sh) and this process check
 * it both ways through words at offset 0x100000, with the file mapped here while QEMU runs.
 * usage: test_rv32_window GUEST.elf   Exit 0, 1 (failed), 77 (skipped: no qemu-system-riscv32).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SIZE (16u << 20)
#define OFF 0x100000u
#define WAIT_MS 20000u

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Wait for QEMU for at most @ms; kill it after that. Return: its exit status, or -1 (killed or signalled). */
static int reap(pid_t pid, double ms)
{
	double deadline = now_ms() + ms;
	int st;
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		usleep(1000);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(int argc, char **argv)
{
	char path[64], backend[160];
	if (argc != 2) {
		fprintf(stderr, "usage: test_rv32_window GUEST.elf\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	if (system("command -v qemu-system-riscv32 >/dev/null 2>&1") != 0) {
		printf("SKIPPED: qemu-system-riscv32 is not installed (Debian package qemu-system-misc)\n");
		return 77;
	}
	snprintf(path, sizeof(path), "/dev/shm/ampl-rv32-window-%d", (int)getpid());
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || ftruncate(fd, SIZE)) {
		printf("FAIL: %s: %s\n", path, strerror(errno));
		return 1;
	}
	volatile uint32_t *w = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (w == MAP_FAILED) {
		printf("FAIL: mmap: %s\n", strerror(errno));
		unlink(path);
		return 1;
	}
	w += OFF / 4;
	w[3] = 0x33333333u; /* before QEMU starts: the guest must read it */
	snprintf(backend, sizeof(backend), "memory-backend-file,id=ram0,size=16M,mem-path=%s,share=on", path);
	pid_t pid = fork();
	if (pid == 0) {
		execlp("qemu-system-riscv32", "qemu-system-riscv32", "-machine", "virt,memory-backend=ram0", "-object",
		       backend, "-m", "16M", "-bios", "none", "-nographic", "-monitor", "none", "-serial", "none",
		       "-semihosting-config", "enable=on,target=native", "-kernel", argv[1], (char *)NULL);
		_exit(127);
	}
	int failed = 0;
	double t0 = now_ms();
	while (w[0] != 0x11111111u && now_ms() - t0 < WAIT_MS && waitpid(pid, NULL, WNOHANG) == 0)
		usleep(100);
	if (w[0] != 0x11111111u) {
		printf("FAIL: the guest's word never appeared in the file (0x%08x)\n", w[0]);
		failed = 1;
	} else {
		printf("guest to host: 0x%08x seen at file offset 0x%x after %.0f ms\n", w[0], OFF + 0u, now_ms() - t0);
		w[1] = 0x22222222u;
	}
	int code = reap(pid, failed ? 0 : WAIT_MS);
	if (!failed && code != 0) {
		printf("FAIL: QEMU exited with %d (1: the guest did not read the word written before boot, 2: it never "
		       "saw the host's word, -1: killed)\n", code);
		failed = 1;
	} else if (!failed && w[2] != 0x22222223u) {
		printf("FAIL: the guest's answer is 0x%08x, not 0x22222223\n", w[2]);
		failed = 1;
	}
	if (!failed)
		printf("ok: host to guest (before boot and live) and guest to host through the file at guest "
		       "0x80000000; guest exit 0\n");
	munmap((void *)(w - OFF / 4), SIZE);
	unlink(path);
	return failed;
}
