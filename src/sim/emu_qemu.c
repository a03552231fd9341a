/*
 * The emulator launcher: QEMU with the window file as the machine's RAM and the doorbell UART on a unix socket. See
 * emu_link.h for the contract; the facts it relies on (QEMU 7.2) are in firmware/boards/<board>/README.md.
 */
#include "sim/emu_link.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "port/posix/port_posix.h"

#define DEFAULT_READY_MS 20000u
#define CONNECT_TIMEOUT_MS 10000u

static atomic_uint window_seq;

/*
 * The boards of firmware/boards/ as QEMU runs them. @null_serials: UARTs before the doorbell's (each gets
 * `-serial null`); @loader: load the image with `-device loader` (which also points the CPU at its entry) instead
 * of -kernel, and give the machine -m (its RAM is the window file); @e_machine: the ELF machine of its images.
 */
struct emu_board {
	const char *name;
	const char *qemu;
	const char *machine;
	const char *package;
	unsigned null_serials;
	bool loader;
	uint16_t e_machine;
};

#define ELF_EM_ARM 40u
#define ELF_EM_RISCV 243u

static const struct emu_board boards[] = {
	/* The image at its link addresses (0x0 and 0x20000000): -kernel; the doorbell is UART1. */
	{ "mps2-an386", "qemu-system-arm", "mps2-an386", "qemu-system-arm", 1, false, ELF_EM_ARM },
	/* virt jumps to the start of RAM (the boot block) after -kernel: the loader starts the image at its entry
	 * (0x80F00000) instead; the doorbell is UART0, the only one. */
	{ "riscv-virt", "qemu-system-riscv32", "virt", "qemu-system-misc", 0, true, ELF_EM_RISCV },
};

/* The ELF machine of @path (0 when it cannot be read or is no ELF file). */
static unsigned elf_machine(const char *path)
{
	unsigned char h[20];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, h, sizeof(h));
	close(fd);
	if (n != (ssize_t)sizeof(h) || memcmp(h, "\x7f" "ELF", 4) != 0 || h[5] != 1 /* little-endian */)
		return 0;
	return h[18] | (unsigned)h[19] << 8;
}

/* @cfg->board by name; else the board of @cfg->kernel's ELF machine; else mps2-an386. NULL: unknown name. */
static const struct emu_board *board_of(const struct ampl_emu_qemu_config *cfg)
{
	if (cfg && cfg->board) {
		for (size_t i = 0; i < sizeof(boards) / sizeof(boards[0]); i++)
			if (strcmp(boards[i].name, cfg->board) == 0)
				return &boards[i];
		return NULL;
	}
	unsigned em = cfg && cfg->kernel ? elf_machine(cfg->kernel) : 0;
	for (size_t i = 0; i < sizeof(boards) / sizeof(boards[0]); i++)
		if (boards[i].e_machine == em)
			return &boards[i];
	return &boards[0];
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000u, (long)(ms % 1000u) * 1000000L };
	nanosleep(&ts, NULL);
}

static uint64_t now_ms(void)
{
	return ampl_now_ns() / 1000000u;
}

static const char *qemu_name(const struct ampl_emu_qemu_config *cfg, const struct emu_board *b)
{
	if (cfg && cfg->qemu)
		return cfg->qemu;
	const char *env = getenv("AMPL_QEMU");
	return env && *env ? env : b->qemu;
}

/* The path execvp() would run, or 0 chars if none. */
static bool find_in_path(const char *name, char *out, size_t len)
{
	if (strchr(name, '/')) {
		snprintf(out, len, "%s", name);
		return access(name, X_OK) == 0;
	}
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *end = strchr(path, ':');
		size_t n = end ? (size_t)(end - path) : strlen(path);
		if (n && snprintf(out, len, "%.*s/%s", (int)n, path, name) < (int)len && access(out, X_OK) == 0)
			return true;
		path += n + (end ? 1 : 0);
	}
	return false;
}

int ampl_emu_qemu_find(const struct ampl_emu_qemu_config *cfg, char *why, size_t why_len)
{
	char path[512];
	const struct emu_board *b = board_of(cfg);
	if (!b) {
		if (why && why_len)
			snprintf(why, why_len, "unknown board '%s' (mps2-an386 or riscv-virt)", cfg->board);
		return -EINVAL;
	}
	const char *name = qemu_name(cfg, b);

	if (find_in_path(name, path, sizeof(path)))
		return 0;
	if (why && why_len)
		snprintf(why, why_len,
			 "%s not found%s: install the Debian package %s (scripts/deps.sh test does), or set AMPL_QEMU",
			 name, strchr(name, '/') ? "" : " in PATH", b->package);
	return -ENOENT;
}

/* Everything but the process: socket, mapping, file, socket file, directory. */
static void release(struct ampl_emu_qemu *q)
{
	if (q->sock >= 0)
		close(q->sock);
	q->sock = -1;
	if (q->window)
		munmap(q->window, q->window_size);
	q->window = NULL;
	q->boot = NULL;
	if (q->shm_path[0])
		unlink(q->shm_path);
	q->shm_path[0] = '\0';
	if (q->sock_path[0])
		unlink(q->sock_path);
	q->sock_path[0] = '\0';
	if (q->dir[0])
		rmdir(q->dir);
	q->dir[0] = '\0';
}

void ampl_emu_qemu_kill(struct ampl_emu_qemu *q)
{
	if (!q)
		return;
	if (q->pid > 0) {
		kill(q->pid, SIGKILL);
		while (waitpid(q->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	q->pid = 0;
	release(q);
}

/* 1: exited (status in *st), 0: running, <0: error. */
static int reap(struct ampl_emu_qemu *q, int *st)
{
	pid_t p = waitpid(q->pid, st, WNOHANG);
	if (p == q->pid) {
		q->pid = 0;
		return 1;
	}
	return p < 0 ? -errno : 0;
}

static void describe_exit(int st, char *err, size_t len, const char *when)
{
	if (WIFEXITED(st))
		snprintf(err, len, "QEMU exited with status %d %s", WEXITSTATUS(st), when);
	else
		snprintf(err, len, "QEMU died of signal %d %s", WIFSIGNALED(st) ? WTERMSIG(st) : 0, when);
}

static int create_window(struct ampl_emu_qemu *q, const struct ampl_emu_qemu_config *cfg)
{
	snprintf(q->shm_path, sizeof(q->shm_path), "/dev/shm/amplink-emu.%d.%u", (int)getpid(),
		 atomic_fetch_add(&window_seq, 1u));
	int fd = open(q->shm_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		q->shm_path[0] = '\0';
		return -errno;
	}
	int r = 0;
	q->window_size = AMPL_EMU_WINDOW_SIZE;
	if (ftruncate(fd, (off_t)q->window_size) < 0) {
		r = -errno;
	} else {
		void *p = mmap(NULL, q->window_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			r = -errno;
		else
			q->window = p;
	}
	close(fd);
	if (r)
		return r;
	/* A new file is zero: only the mode and, last, the magic that makes the rest valid. */
	q->boot = q->window;
	q->boot->doorbell = cfg->doorbell;
	for (unsigned i = 0; i < AMPL_EMU_ARG_WORDS; i++)
		q->boot->arg[i] = cfg->arg[i];
	atomic_thread_fence(memory_order_release);
	q->boot->magic = AMPL_EMU_MAGIC;
	return 0;
}

static int spawn(struct ampl_emu_qemu *q, const struct ampl_emu_qemu_config *cfg, char *err, size_t err_len)
{
	const struct emu_board *b = board_of(cfg);
	if (!b)
		return -EINVAL; /* ampl_emu_qemu_find() said why */
	char machine[128], object[256], serial[160], mem[16], loader[600];
	snprintf(machine, sizeof(machine), "%s,memory-backend=ampl_window", cfg->machine ? cfg->machine : b->machine);
	snprintf(object, sizeof(object), "memory-backend-file,id=ampl_window,size=%zuM,mem-path=%s,share=on",
		 q->window_size >> 20, q->shm_path);
	snprintf(serial, sizeof(serial), "unix:%s,server=on,wait=on", q->sock_path);
	snprintf(mem, sizeof(mem), "%zuM", q->window_size >> 20);
	if (snprintf(loader, sizeof(loader), "loader,file=%s,cpu-num=0", cfg->kernel) >= (int)sizeof(loader)) {
		snprintf(err, err_len, "firmware image path too long: %s", cfg->kernel);
		return -ENAMETOOLONG;
	}
	const char *qemu = qemu_name(cfg, b);
	/* QEMU writes the firmware's semihosting output to its standard error unless given a character device:
	 * quiet, a null one. */
	char *argv[32];
	unsigned na = 0;
	argv[na++] = (char *)qemu;
	argv[na++] = "-machine";
	argv[na++] = machine;
	argv[na++] = "-object";
	argv[na++] = object;
	if (b->loader) {
		argv[na++] = "-m";
		argv[na++] = mem;
		argv[na++] = "-bios";
		argv[na++] = "none";
		/* One hart runs; a second possible one makes QEMU translate for parallel CPUs, and only then are the
		 * guest's fences real host barriers (a single-CPU translation drops them). The window is shared with
		 * this process: without them a store of the firmware could pass its next load (x86 reorders a store
		 * after a later load), and a lowered notification flag and the re-check of a ring raced with the host's
		 * (a lost doorbell, 1 run in 13 of test_fw_rpmsg_rv32's polled phase). */
		argv[na++] = "-smp";
		argv[na++] = "1,maxcpus=2";
	}
	argv[na++] = "-display";
	argv[na++] = "none";
	argv[na++] = "-monitor";
	argv[na++] = "none";
	for (unsigned i = 0; i < b->null_serials && na < 24; i++) {
		argv[na++] = "-serial";
		argv[na++] = "null";
	}
	argv[na++] = "-serial";
	argv[na++] = serial;
	argv[na++] = "-semihosting-config";
	argv[na++] = cfg->quiet ? "enable=on,target=native,chardev=ampl_semi" : "enable=on,target=native";
	if (b->loader) {
		argv[na++] = "-device";
		argv[na++] = loader;
	} else {
		argv[na++] = "-kernel";
		argv[na++] = (char *)cfg->kernel;
	}
	if (cfg->quiet) {
		argv[na++] = "-chardev";
		argv[na++] = "null,id=ampl_semi";
	}
	argv[na] = NULL;

	/* exec's outcome travels back on a close-on-exec pipe: EOF means QEMU is running. */
	int ep[2];
	if (pipe2(ep, O_CLOEXEC) < 0)
		return -errno;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(ep[0]);
		close(ep[1]);
		return r;
	}
	if (pid == 0) {
		/* QEMU must not outlive the process that owns the window (a crashed test leaves no emulator). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			if (cfg->quiet)
				dup2(null, STDOUT_FILENO);
		}
		execvp(qemu, argv);
		int e = errno;
		ssize_t n = write(ep[1], &e, sizeof(e));
		(void)n;
		_exit(127);
	}
	close(ep[1]);
	q->pid = pid;
	int e = 0;
	ssize_t n;
	do
		n = read(ep[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(ep[0]);
	if (n == (ssize_t)sizeof(e)) {
		snprintf(err, err_len, "cannot run %s: %s (Debian package %s)", qemu, strerror(e), b->package);
		return e == ENOENT ? -ENOENT : -e;
	}
	return 0;
}

/* QEMU listens on the socket and waits (wait=on) for us before it runs the machine. */
static int connect_serial(struct ampl_emu_qemu *q, char *err, size_t err_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", q->sock_path);
	uint64_t deadline = now_ms() + CONNECT_TIMEOUT_MS;
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			q->sock = fd;
			return 0;
		}
		int e = errno;
		close(fd);
		if (e != ENOENT && e != ECONNREFUSED && e != EAGAIN && e != EINTR) {
			snprintf(err, err_len, "connecting to QEMU's serial socket %s: %s", q->sock_path, strerror(e));
			return -e;
		}
		int st;
		if (reap(q, &st) == 1) {
			describe_exit(st, err, err_len, "before it opened its serial socket (see its messages above)");
			return -ECHILD;
		}
		if (now_ms() > deadline) {
			snprintf(err, err_len, "QEMU did not open its serial socket within %u ms", CONNECT_TIMEOUT_MS);
			return -ETIMEDOUT;
		}
		sleep_ms(2);
	}
}

/* READY of a boot after @boots_before (the firmware writes BOOTING before it counts the boot). */
static int wait_ready(struct ampl_emu_qemu *q, uint32_t boots_before, uint32_t timeout_ms, char *err, size_t err_len)
{
	uint64_t deadline = now_ms() + timeout_ms;
	while (atomic_load(&q->boot->fw_boots) == boots_before || atomic_load(&q->boot->fw_state) != AMPL_EMU_FW_READY) {
		int st;
		if (reap(q, &st) == 1) {
			describe_exit(st, err, err_len, "before the firmware was ready");
			return -ECHILD;
		}
		if (now_ms() > deadline) {
			snprintf(err, err_len, "the firmware did not say READY within %u ms (state %u, boots %u)",
				 timeout_ms, atomic_load(&q->boot->fw_state), atomic_load(&q->boot->fw_boots));
			return -ETIMEDOUT;
		}
		sleep_ms(1);
	}
	return 0;
}

int ampl_emu_qemu_start(struct ampl_emu_qemu *q, const struct ampl_emu_qemu_config *cfg, char *err, size_t err_len)
{
	char dummy[8];
	if (!err || !err_len) {
		err = dummy;
		err_len = sizeof(dummy);
	}
	err[0] = '\0';
	if (!q)
		return -EINVAL;
	*q = (struct ampl_emu_qemu){ .sock = -1 };
	if (!cfg || !cfg->kernel ||
	    (cfg->doorbell != AMPL_EMU_DOORBELL_IRQ && cfg->doorbell != AMPL_EMU_DOORBELL_POLL)) {
		snprintf(err, err_len, "no firmware image, or an unknown doorbell mode");
		return -EINVAL;
	}
	int r = ampl_emu_qemu_find(cfg, err, err_len);
	if (r)
		return r;
	if (access(cfg->kernel, R_OK) < 0) {
		r = -errno;
		snprintf(err, err_len, "firmware image %s: %s", cfg->kernel, strerror(errno));
		return r;
	}
	q->doorbell = cfg->doorbell;
	snprintf(q->dir, sizeof(q->dir), "/tmp/amplink-emu.XXXXXX");
	if (!mkdtemp(q->dir)) {
		r = -errno;
		q->dir[0] = '\0';
		snprintf(err, err_len, "mkdtemp: %s", strerror(-r));
		return r;
	}
	snprintf(q->sock_path, sizeof(q->sock_path), "%s/uart1", q->dir);
	r = create_window(q, cfg);
	if (r) {
		snprintf(err, err_len, "creating the window file: %s", strerror(-r));
		goto fail;
	}
	if (cfg->prepare && (r = cfg->prepare(q, cfg->prepare_arg)) != 0) {
		if (!err[0])
			snprintf(err, err_len, "preparing the window: %s", strerror(r < 0 ? -r : r));
		goto fail;
	}
	r = spawn(q, cfg, err, err_len);
	if (!r)
		r = connect_serial(q, err, err_len);
	if (!r)
		r = wait_ready(q, 0, cfg->ready_timeout_ms ? cfg->ready_timeout_ms : DEFAULT_READY_MS, err, err_len);
	if (!r)
		return 0;
fail:
	ampl_emu_qemu_kill(q);
	return r;
}

int ampl_emu_qemu_stop(struct ampl_emu_qemu *q, uint32_t timeout_ms, int *exit_code)
{
	if (exit_code)
		*exit_code = -1;
	if (!q || q->pid <= 0 || !q->boot)
		return -EINVAL;
	atomic_store(&q->boot->stop, 1u);
	/* Ring so that a sleeping firmware looks at the stop word now rather than at its next tick. */
	if (q->doorbell == AMPL_EMU_DOORBELL_POLL) {
		atomic_fetch_add(&q->boot->bell_to_fw, 1u);
	} else if (q->sock >= 0) {
		const uint8_t ring = 1;
		ssize_t n = send(q->sock, &ring, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		(void)n; /* the firmware also sees the word at its next SysTick */
	}
	uint64_t deadline = now_ms() + timeout_ms;
	int st = 0, r = 0;
	for (;;) {
		int k = reap(q, &st);
		if (k == 1)
			break;
		if (k < 0 || now_ms() > deadline) {
			r = -ETIMEDOUT;
			break;
		}
		sleep_ms(1);
	}
	if (r) {
		ampl_emu_qemu_kill(q);
		return r;
	}
	if (exit_code && WIFEXITED(st))
		*exit_code = WEXITSTATUS(st);
	release(q); /* the socket closes only now that QEMU is gone */
	return 0;
}

int ampl_emu_qemu_restart(struct ampl_emu_qemu *q, const struct ampl_emu_qemu_config *cfg, char *err, size_t err_len)
{
	char dummy[8];
	if (!err || !err_len) {
		err = dummy;
		err_len = sizeof(dummy);
	}
	err[0] = '\0';
	if (!q || !q->boot || !q->dir[0] || !cfg || !cfg->kernel) {
		snprintf(err, err_len, "the emulator was not started, or no firmware image");
		return -EINVAL;
	}
	if (q->pid > 0) {
		kill(q->pid, SIGKILL);
		while (waitpid(q->pid, NULL, 0) < 0 && errno == EINTR)
			;
		q->pid = 0;
	}
	/* QEMU is gone: its socket can close now, and the file (the window) stays. */
	if (q->sock >= 0)
		close(q->sock);
	q->sock = -1;
	unlink(q->sock_path);
	uint32_t boots = atomic_load(&q->boot->fw_boots);
	/* The machine's state is new: the host's words are those of a fresh start (the firmware's stay). */
	atomic_store(&q->boot->stop, 0u);
	struct ampl_emu_qemu_config again = *cfg;
	again.doorbell = q->doorbell;
	int r = spawn(q, &again, err, err_len);
	if (!r)
		r = connect_serial(q, err, err_len);
	if (!r)
		r = wait_ready(q, boots, cfg->ready_timeout_ms ? cfg->ready_timeout_ms : DEFAULT_READY_MS, err, err_len);
	if (r)
		ampl_emu_qemu_kill(q);
	return r;
}
