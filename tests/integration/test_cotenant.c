/*
 * The virtual SoC against other processes and other users on the same machine (co-tenants):
 *   - the image file shrunk under attached processes (ftruncate by anyone who can write it): no SIGBUS, the SoC
 *     reports itself damaged;
 *   - an image created first by another user (the default name, a predictable one) is refused unless asked for,
 *     and the image name is not followed through a symbolic link;
 *   - a full /dev/shm at creation: a clear error and no half-made file (private mount namespace with a 16 KiB
 *     tmpfs; skipped where one cannot be made);
 *   - a corrupt `sleepers` word of an agent's interrupt doorbell (0, 0xffffffff, written through the supervisor's
 *     handle: an agent's process maps it read-only): messages still arrive and detach returns;
 *   - the same agent attached by two processes: the second attach answers -EBUSY naming the holder; taking over
 *     from a dead holder works;
 *   - the reasons given for a corrupt agent count and for destroying another user's SoC;
 *   - access control: a process attached as rpu0 that triggers through apu's register block (a request forged
 *     "from apu") is faulted, not delivered, and the fault is recorded (agent, address, aperture); one that stores
 *     into apu's register page is killed by SIGSEGV, and only it; a devicetree aperture of the reserved memory
 *     (writable by apu, readable by rpu0) kills rpu0 when it writes and rpu1 when it reads, and the faults are
 *     recorded;
 *   - hotplug and crash words: a process attached as rpu1 can neither take rpu0 (or apu) offline nor retire it
 *     through the API (-EACCES, an access fault on "hotplug:rpu0" counted in rpu1's record), nor by a plain store
 *     into rpu0's hotplug words, its owner word (a forged crash), its buffer marks or the supervisor's page
 *     (SIGSEGV); rpu0 stays online and keeps receiving;
 *   - IPI message buffers: a process attached as rpu1 that writes apu's request to rpu0 (a forged payload), reads
 *     it, or writes rpu0's response to apu is killed by SIGSEGV with the fault recorded (address as the driver
 *     sees it, "ipi-request:apu->rpu0" / "ipi-response:rpu0->apu"), and rpu0 receives apu's bytes only; it may
 *     still write its own request to rpu0 and read rpu0's response to it;
 *   - Messaging Unit sides: a process attached as m4 (side B of the imx board's MU) that writes side A's registers
 *     through the model (a message forged "from a") is faulted, not delivered; one that stores into side A's words
 *     (a forged TR word, a cleared flag) is killed by SIGSEGV; the faults are recorded ("mu:ipm@40028000:A"), and
 *     its own side still works;
 *   - discards and doorbells: a store by rpu1 into apu's discard word or into apu's ring of rpu0's line is killed
 *     and recorded ("discards:apu", "doorbells:apu"); a request to an agent that goes offline ends once, as
 *     discarded (-ESHUTDOWN for a blocking send), whether its sender looks before the destination comes back or
 *     after, and is never delivered.
 * Several parts need root (another user, a mount namespace) and are skipped otherwise, with the reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libfdt.h>

#include <amplink/drivers/nxp_mu.h>
#include <amplink/host/dt.h>
#include <amplink/ipm.h>
#include <amplink/host/soc.h>

#include "sim/image.h"

#define NOBODY 65534
#define BOUND_MS 5000u /* generous bound for every wait on another process; the measured time is printed */

/* Shared with the children. */
struct shared {
	_Atomic int phase;     /* parent -> children */
	_Atomic int ready;     /* children -> parent (count) */
	_Atomic uint32_t received;
	_Atomic int in_cb;     /* the child's callback is running (held) */
	_Atomic int hold;      /* the child's callback waits while set */
	_Atomic int result[2]; /* what the children saw */
	uint8_t data[AMPL_IPI_BUF_SIZE]; /* the last message received by copy_cb() */
};

static struct shared *sh;

/* What a test made, undone by teardown() whether the test passed or failed. */
static struct {
	pid_t kids[4];
	struct ampl_agent *agents[4];
	struct ampl_soc *socs[4];
	char names[4][64];
	char links[128];
} T;

static struct ampl_soc *track_soc(struct ampl_soc *soc)
{
	for (int i = 0; i < 4; i++)
		if (!T.socs[i])
			return T.socs[i] = soc;
	return soc;
}

static struct ampl_agent *track_agent(struct ampl_agent *ag)
{
	for (int i = 0; i < 4; i++)
		if (!T.agents[i])
			return T.agents[i] = ag;
	return ag;
}

static void untrack_agent(struct ampl_agent *ag)
{
	for (int i = 0; i < 4; i++)
		if (T.agents[i] == ag)
			T.agents[i] = NULL;
}

/* A forked child dies of its signals: cmocka's handlers would return it into the test runner. */
static pid_t fork_child(void)
{
	fflush(stdout);
	pid_t pid = fork();
	for (int i = 0; pid > 0 && i < 4; i++) {
		if (!T.kids[i]) {
			T.kids[i] = pid;
			break;
		}
	}
	if (pid == 0) {
		memset(&T, 0, sizeof(T)); /* the parent's to undo */
		static const int sigs[] = { SIGBUS, SIGSEGV, SIGILL, SIGFPE, SIGABRT };
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], SIG_DFL);
	}
	return pid;
}

static void soc_name(char *buf, size_t n, const char *what)
{
	snprintf(buf, n, "t-cot-%s-%d", what, (int)getpid());
	for (int i = 0; i < 4; i++) {
		if (!T.names[i][0]) {
			snprintf(T.names[i], sizeof(T.names[i]), "%s", buf);
			break;
		}
	}
}

static void shm_file(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "/dev/shm/amplink.%s", name);
}

static void setup_shared(void)
{
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_ptr_not_equal(sh, MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
}

static bool wait_until(_Atomic int *v, int want, unsigned ms)
{
	uint64_t end = ampl_now_ns() + (uint64_t)ms * 1000000u;
	while (atomic_load(v) < want && ampl_now_ns() < end)
		usleep(200);
	return atomic_load(v) >= want;
}

/* Wait for @pid at most @ms; kill it if it is still there. Return: its status, or -1 if it had to be killed. */
static int reap(pid_t pid, unsigned ms)
{
	int st = -1;
	for (int i = 0; i < 4; i++)
		if (T.kids[i] == pid)
			T.kids[i] = 0;
	uint64_t end = ampl_now_ns() + (uint64_t)ms * 1000000u;
	while (ampl_now_ns() < end) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid || r < 0)
			return r == pid ? st : 0;
		usleep(1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static void expect_clean_exit(const char *who, int st)
{
	if (st == -1)
		fail_msg("%s did not exit within %u ms (killed)", who, BOUND_MS);
	if (WIFSIGNALED(st))
		fail_msg("%s was killed by signal %d (%s)", who, WTERMSIG(st), strsignal(WTERMSIG(st)));
	if (WEXITSTATUS(st))
		fail_msg("%s exited with %d", who, WEXITSTATUS(st));
}

/* A child's status @st (reap_now()): killed by SIGSEGV, as a store the protections refuse kills it. */
static void expect_segv(const char *who, int st)
{
	if (!WIFSIGNALED(st))
		fail_msg("%s exited with %d instead of being killed", who, WEXITSTATUS(st));
	assert_int_equal(WTERMSIG(st), SIGSEGV);
}

/* ---- the image shrunk under attached processes ---- */

static void count_cb(const struct ampl_device *dev, void *user, uint32_t id, volatile void *data)
{
	(void)dev, (void)user, (void)id, (void)data;
	atomic_fetch_add(&sh->received, 1);
}

/* An attached process that keeps using the SoC; after the shrink it sends, touches the memory and detaches. */
static int shrink_child(const char *name, const char *self, const char *peer, int slot)
{
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_BLOCK, .ack_timeout_us = 20000 };
	const struct ampl_device *dev;
	if (ampl_soc_open(name, &soc) || ampl_agent_attach(soc, self, &o, &ag) || ampl_agent_channel(ag, peer, &dev))
		return 2;
	ipm_register_callback(dev, count_cb, NULL);
	ipm_set_enabled(dev, 1);
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	uint64_t req = ampl_ipi_request_addr(p, ampl_soc_agent_by_name(p, self), ampl_soc_agent_by_name(p, peer));
	volatile uint8_t *ram = ampl_soc_phys(soc, req, 32); /* its IPI request buffer: its own to write */
	if (!ram)
		return 3;
	atomic_fetch_add(&sh->ready, 1);
	while (atomic_load(&sh->phase) == 0)
		usleep(500);
	/* The file is now 4 KiB: every access below is past its end. */
	uint32_t v = 0x12345678u;
	for (int i = 0; i < 10; i++) {
		(void)ipm_send(dev, 0, 0, &v, 4);
		ram[0] = (uint8_t)i;
		(void)ram[1];
		usleep(2000);
	}
	atomic_store(&sh->result[slot], ampl_soc_check(soc));
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	return 0;
}

/* ThreadSanitizer counts the SIGBUS guard's MAP_FIXED of zero pages as a write racing with every later access. */
#if defined(__SANITIZE_THREAD__)
#define AMPL_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define AMPL_UNDER_TSAN 1
#endif
#endif

/*
 * A child forked from a process with threads (the victims' interrupt and crash-watch threads) may find the
 * sanitizer's allocator lock held by one of them at the fork and wait for it forever (AddressSanitizer: seen in the
 * child's crash-watch thread, in SizeClassAllocator64::GetFromAllocator). The tests whose children fork from such a
 * process run in the builds without a sanitizer (gcc, clang).
 */
#if defined(AMPL_UNDER_TSAN) || defined(__SANITIZE_ADDRESS__)
#define AMPL_FORK_FROM_THREADS_UNSAFE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AMPL_FORK_FROM_THREADS_UNSAFE 1
#endif
#endif

static void test_shrink_under_attached(void **state)
{
	(void)state;
#ifdef AMPL_UNDER_TSAN
	skip(); /* run by the other builds (gcc, clang, ASan+UBSan) */
#endif
	char name[64], path[128];
	soc_name(name, sizeof(name), "shrink");
	shm_file(path, sizeof(path), name);
	ampl_soc_destroy(name);
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), 0);
	setup_shared();
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		kids[k] = fork_child();
		if (kids[k] == 0)
			_exit(shrink_child(name, k ? "rpu0" : "apu", k ? "apu" : "rpu0", k));
	}
	assert_true(wait_until(&sh->ready, 2, BOUND_MS));
	/* A co-tenant with write access shrinks the file. */
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4096), 0);
	close(fd);
	atomic_store(&sh->phase, 1);
	for (int k = 0; k < 2; k++)
		expect_clean_exit(k ? "rpu0" : "apu", reap(kids[k], BOUND_MS));
	for (int k = 0; k < 2; k++)
		assert_int_equal(atomic_load(&sh->result[k]), -EIO);
	/* A process opening it now is told the image is too small, not killed. */
	struct ampl_soc *soc;
	assert_int_equal(ampl_soc_open(name, &soc), -EINVAL);
	print_message("open after the shrink: %s\n", ampl_soc_last_error());
}

/* ---- another user's image ---- */

static void become_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
		_exit(90);
}

static void test_other_owner_refused(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		print_message("skipped: needs root to act as a second user (nobody)\n");
		skip();
	}
	char name[64];
	soc_name(name, sizeof(name), "owner");
	ampl_soc_destroy(name);
	/* Another user creates the name first. */
	pid_t pid = fork_child();
	if (pid == 0) {
		become_nobody();
		_exit(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0) ? 1 : 0);
	}
	expect_clean_exit("nobody's soc create", reap(pid, BOUND_MS));
	struct ampl_soc *soc = NULL;
	int r = ampl_soc_open(name, &soc);
	const char *why = ampl_soc_last_error();
	print_message("open of nobody's image: %d %s\n", r, why);
	if (!r)
		track_soc(soc);
	assert_int_equal(r, -EPERM);
	assert_non_null(strstr(why, "uid 65534"));
	assert_non_null(strstr(why, "nobody"));
	/* ...unless asked. */
	assert_int_equal(ampl_soc_open_flags(name, AMPL_SOC_ALLOW_OTHER_OWNER, &soc), 0);
	track_soc(soc);
	/* The creation of that name by us tells who has it. */
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), -EEXIST);
	assert_non_null(strstr(ampl_soc_last_error(), "nobody"));
	assert_int_equal(ampl_soc_destroy(name), 0);
}

/* Another user cannot remove our SoC, and is told why (it was an empty reason). */
static void test_destroy_other_user(void **state)
{
	(void)state;
	if (geteuid() != 0) {
		print_message("skipped: needs root to act as a second user (nobody)\n");
		skip();
	}
	char name[64];
	soc_name(name, sizeof(name), "destroy");
	ampl_soc_destroy(name);
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), 0);
	setup_shared();
	pid_t pid = fork_child();
	if (pid == 0) {
		become_nobody();
		int r = ampl_soc_destroy(name);
		const char *why = ampl_soc_last_error();
		printf("nobody's soc destroy: %d '%s'\n", r, why);
		_exit(r == -EPERM && strstr(why, "permission denied") && strstr(why, "root") ? 0 : 1);
	}
	expect_clean_exit("nobody's soc destroy", reap(pid, BOUND_MS));
	assert_int_equal(ampl_soc_destroy(name), 0);
}

/* The image name is opened without following a symbolic link. */
static void test_symlink_refused(void **state)
{
	(void)state;
	char name[64], link[64], target[128], lpath[128];
	soc_name(name, sizeof(name), "target");
	soc_name(link, sizeof(link), "link");
	shm_file(target, sizeof(target), name);
	shm_file(lpath, sizeof(lpath), link);
	ampl_soc_destroy(name);
	unlink(lpath);
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), 0);
	assert_int_equal(symlink(target, lpath), 0);
	snprintf(T.links, sizeof(T.links), "%s", lpath);
	struct ampl_soc *soc;
	int r = ampl_soc_open(link, &soc);
	print_message("open through a symbolic link: %d %s\n", r, ampl_soc_last_error());
	assert_int_equal(r, -ELOOP);
	assert_non_null(strstr(ampl_soc_last_error(), lpath));
}

/* ---- a full /dev/shm ---- */

static int full_shm_child(const char *name)
{
	if (unshare(CLONE_NEWNS)) {
		printf("skipped: no private mount namespace (unshare: %s)\n", strerror(errno));
		return 77;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=16k,mode=1777")) {
		printf("skipped: cannot mount a small tmpfs on /dev/shm (%s)\n", strerror(errno));
		return 77;
	}
	int r = ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0);
	const char *why = ampl_soc_last_error();
	printf("soc create with 16 KiB free: %d %s\n", r, why);
	char path[128];
	shm_file(path, sizeof(path), name);
	bool gone = access(path, F_OK) != 0 && errno == ENOENT;
	if (r != -ENOSPC || !strstr(why, path) || !strstr(why, "ENOSPC") || !strstr(why, "bytes"))
		return 1;
	if (!gone) {
		printf("the half-made %s was left behind\n", path);
		return 1;
	}
	return 0;
}

static void test_full_shm(void **state)
{
	(void)state;
	char name[64];
	soc_name(name, sizeof(name), "full");
	pid_t pid = fork_child();
	if (pid == 0) {
		int r = full_shm_child(name);
		fflush(stdout);
		_exit(r);
	}
	int st = reap(pid, BOUND_MS);
	if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 77)
		skip();
	expect_clean_exit("soc create on a full /dev/shm", st);
}

/* ---- a corrupt sleepers word ---- */

static void held_cb(const struct ampl_device *dev, void *user, uint32_t id, volatile void *data)
{
	(void)dev, (void)user, (void)id, (void)data;
	atomic_store(&sh->in_cb, 1);
	uint64_t end = ampl_now_ns() + (uint64_t)BOUND_MS * 1000000u;
	while (atomic_load(&sh->hold) && ampl_now_ns() < end)
		usleep(200);
	atomic_store(&sh->in_cb, 0);
	atomic_fetch_add(&sh->received, 1);
}

static int sleepers_child(const char *name)
{
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_BLOCK };
	const struct ampl_device *dev;
	if (ampl_soc_open(name, &soc) || ampl_agent_attach(soc, "rpu0", &o, &ag) ||
	    ampl_agent_channel(ag, "apu", &dev))
		return 2;
	ipm_register_callback(dev, held_cb, NULL);
	ipm_set_enabled(dev, 1);
	atomic_store(&sh->ready, 1);
	while (atomic_load(&sh->phase) == 0)
		usleep(500);
	ampl_agent_detach(ag); /* as on SIGTERM: must return */
	ampl_soc_close(soc);
	return 0;
}

/* Wait until the interrupt thread counted in @sleepers sleeps on its line (blocking mode: the word is 1). */
static bool irq_thread_asleep(_Atomic uint32_t *sleepers)
{
	uint64_t end = ampl_now_ns() + (uint64_t)BOUND_MS * 1000000u;
	while (atomic_load(sleepers) != 1 && ampl_now_ns() < end)
		usleep(200);
	usleep(2000); /* and has gone into the kernel */
	return atomic_load(sleepers) == 1;
}

/* Send @n messages one at a time, each waiting until the receiver counted it. Returns the worst latency (ms). */
static double send_each(const struct ampl_device *dev, unsigned n)
{
	double worst = 0;
	for (unsigned i = 0; i < n; i++) {
		uint32_t before = atomic_load(&sh->received);
		uint64_t t0 = ampl_now_ns(), end = t0 + (uint64_t)BOUND_MS * 1000000u;
		int r;
		while ((r = ipm_send(dev, 0, 0, &i, 4)) == -EBUSY && ampl_now_ns() < end)
			usleep(200);
		assert_int_equal(r, 0);
		while (atomic_load(&sh->received) == before && ampl_now_ns() < end)
			usleep(200);
		if (atomic_load(&sh->received) == before)
			fail_msg("message %u of %u not delivered within %u ms", i + 1, n, BOUND_MS);
		double ms = (double)(ampl_now_ns() - t0) / 1e6;
		worst = ms > worst ? ms : worst;
	}
	return worst;
}

static void corrupt_sleepers(uint32_t value)
{
	char name[64];
	soc_name(name, sizeof(name), value ? "sleepf" : "sleep0");
	ampl_soc_destroy(name);
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), 0);
	setup_shared();
	pid_t pid = fork_child();
	if (pid == 0)
		_exit(sleepers_child(name));
	struct ampl_soc *soc;
	struct ampl_agent *apu;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	const struct ampl_device *dev;
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	track_soc(soc);
	assert_int_equal(ampl_agent_attach(soc, "apu", &o, &apu), 0);
	track_agent(apu);
	assert_int_equal(ampl_agent_channel(apu, "rpu0", &dev), 0);
	assert_true(wait_until(&sh->ready, 1, BOUND_MS));
	/* The word is in rpu0's page, read-only for a process attached as another agent: the supervisor's handle
	 * (attached as none) writes it, as a process that undoes its protections could. */
	struct ampl_soc *sup;
	assert_int_equal(ampl_soc_open(name, &sup), 0);
	track_soc(sup);
	const struct ampl_soc_profile *p = ampl_soc_get_profile(sup);
	_Atomic uint32_t *rpu_sleepers =
		&sup->img->regs[ampl_soc_agent_index(p, ampl_soc_agent_by_name(p, "rpu0"))].sleepers[SIM_LINE_IRQ];
	assert_true(irq_thread_asleep(rpu_sleepers));
	if (value == 0) {
		/* The thread sleeps (the word is 1): a peer zeroes it, so no ring wakes the thread. */
		atomic_store(rpu_sleepers, 0);
	} else {
		/* While the thread runs (the word is 0) a peer writes 0xffffffff: its next sleep makes it 0. */
		atomic_store(&sh->hold, 1);
		uint32_t x = 0;
		assert_int_equal(ipm_send(dev, 0, 0, &x, 4), 0);
		assert_true(wait_until(&sh->in_cb, 1, BOUND_MS));
		atomic_store(rpu_sleepers, value);
		atomic_store(&sh->hold, 0);
		uint64_t end = ampl_now_ns() + (uint64_t)BOUND_MS * 1000000u;
		while (atomic_load(&sh->received) < 1 && ampl_now_ns() < end)
			usleep(200);
		assert_int_equal(atomic_load(&sh->received), 1);
		usleep(20000); /* the thread goes back to sleep, with the word at 0 */
	}
	double worst = send_each(dev, 20);
	print_message("sleepers = 0x%x: 20 messages delivered, worst latency %.1f ms\n", value, worst);
	/* Corrupt it again while the thread sleeps, then stop the process: its detach must return. */
	usleep(20000);
	atomic_store(rpu_sleepers, 0);
	uint64_t t0 = ampl_now_ns();
	atomic_store(&sh->phase, 1);
	int st = reap(pid, BOUND_MS);
	print_message("detach with a corrupt sleepers word returned after %.1f ms\n", (double)(ampl_now_ns() - t0) / 1e6);
	expect_clean_exit("rpu0 (detach)", st);
}

static void test_sleepers_zero(void **state)
{
	(void)state;
	corrupt_sleepers(0);
}

static void test_sleepers_all_ones(void **state)
{
	(void)state;
	corrupt_sleepers(0xffffffffu);
}

/* ---- the same agent attached by two processes ---- */

static int holder_child(const char *name)
{
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_BLOCK };
	if (ampl_soc_open(name, &soc) || ampl_agent_attach(soc, "rpu0", &o, &ag))
		return 2;
	atomic_store(&sh->ready, 1);
	while (atomic_load(&sh->phase) == 0)
		usleep(500);
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	return 0;
}

static void test_attach_twice(void **state)
{
	(void)state;
	char name[64];
	soc_name(name, sizeof(name), "twice");
	ampl_soc_destroy(name);
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), 0);
	setup_shared();
	pid_t pid = fork_child();
	if (pid == 0)
		_exit(holder_child(name));
	assert_true(wait_until(&sh->ready, 1, BOUND_MS));
	struct ampl_soc *soc, *soc2;
	struct ampl_agent *ag = NULL;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_BLOCK };
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	track_soc(soc);
	int r = ampl_agent_attach(soc, "rpu0", &o, &ag);
	print_message("second attach of rpu0: %d %s\n", r, ampl_soc_last_error());
	if (!r)
		track_agent(ag);
	assert_int_equal(r, -EBUSY);
	char pidtxt[32];
	snprintf(pidtxt, sizeof(pidtxt), "%d", (int)pid);
	assert_non_null(strstr(ampl_soc_last_error(), pidtxt));
	/* The refused attach changed nothing: the holder is still recorded. */
	const struct ampl_soc_agent *rpu0 = ampl_soc_agent_by_name(ampl_soc_get_profile(soc), "rpu0");
	assert_int_equal(ampl_soc_agent_pid(soc, rpu0), pid);
	/* The holder dies without detaching: taking over is allowed. */
	kill(pid, SIGKILL);
	assert_true(reap(pid, BOUND_MS) != -1);
	assert_int_equal(ampl_agent_attach(soc, "rpu0", &o, &ag), 0);
	track_agent(ag);
	assert_int_equal(ampl_soc_agent_pid(soc, rpu0), getpid());
	/* A second handle in this process is refused too. */
	assert_int_equal(ampl_soc_open(name, &soc2), 0);
	track_soc(soc2);
	struct ampl_agent *ag2 = NULL;
	r = ampl_agent_attach(soc2, "rpu0", &o, &ag2);
	if (!r)
		track_agent(ag2);
	assert_int_equal(r, -EBUSY);
	/* Detach, then attach again: the word was released. */
	untrack_agent(ag);
	ampl_agent_detach(ag);
	assert_int_equal(ampl_agent_attach(soc2, "rpu0", &o, &ag2), 0);
	track_agent(ag2);
}

/* ---- a corrupt agent count ---- */

static void test_corrupt_agent_count(void **state)
{
	(void)state;
	char name[64], path[128];
	soc_name(name, sizeof(name), "count");
	shm_file(path, sizeof(path), name);
	ampl_soc_destroy(name);
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), 0);
	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	uint32_t bad = 7;
	assert_int_equal(pwrite(fd, &bad, 4, offsetof(struct sim_image, num_agents)), 4);
	close(fd);
	struct ampl_soc *soc;
	assert_int_equal(ampl_soc_open(name, &soc), -EINVAL);
	const char *why = ampl_soc_last_error();
	print_message("%s\n", why);
	char want[64];
	snprintf(want, sizeof(want), "(7; a zynqmp image has %u)", ampl_soc_zynqmp.num_agents);
	assert_non_null(strstr(why, "agent count is corrupt"));
	assert_non_null(strstr(why, want));
	assert_null(strstr(why, "unknown profile"));
}

/* The ISR of @agent as the supervisor sees it (a handle attached as no agent). */
static uint32_t isr_of(const char *name, const char *agent)
{
	struct ampl_soc *soc;
	struct ampl_io_region regs;
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	assert_int_equal(ampl_soc_agent_regs(soc, ampl_soc_agent_by_name(p, agent), &regs), 0);
	uint32_t isr = ampl_io_read32(&regs, AMPL_IPI_ISR);
	ampl_soc_close(soc);
	return isr;
}

/* Child: attached as rpu0, forge a request "from apu" to rpu1 through apu's register block, read apu's ISR, then
 * send a genuine one (rpu0 -> rpu1); with @raw 1, store into apu's register page instead, with 2 into the image's
 * header (SIGSEGV). */
/* Open SoC @name and attach as @agent with no interrupt thread and no devices: the handle, or NULL. */
static struct ampl_soc *attach_bare(const char *name, const char *agent, struct ampl_agent **ag)
{
	struct ampl_soc *soc;
	struct ampl_agent_opts o = { .no_irq_thread = true, .no_dt_devices = true };
	if (ampl_soc_open(name, &soc))
		return NULL;
	if (!ampl_agent_attach(soc, agent, &o, ag))
		return soc;
	ampl_soc_close(soc);
	return NULL;
}

/* Reap child @pid (the teardown has nothing left to do for it): its wait status. */
static int reap_now(pid_t pid)
{
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	for (int i = 0; i < 4; i++)
		if (T.kids[i] == pid)
			T.kids[i] = 0;
	return st;
}

static int forging_child(const char *name, int raw)
{
	struct ampl_agent *ag;
	struct ampl_soc *soc = attach_bare(name, "rpu0", &ag);
	if (!soc)
		return 10;
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	const struct ampl_soc_agent *apu = ampl_soc_agent_by_name(p, "apu"), *rpu0 = ampl_soc_agent_by_name(p, "rpu0");
	uint32_t to_rpu1 = ampl_ipi_mask(ampl_soc_agent_by_name(p, "rpu1"));
	if (raw == 1)
		atomic_fetch_add(&soc->img->regs[ampl_soc_agent_index(p, apu)].raised[__builtin_ctz(to_rpu1)], 1);
	if (raw == 2) /* the header every later opener trusts: give rpu0 an aperture's rights */
		soc->img->apertures[0].writers = ~0u;
	if (raw)
		return 11; /* not reached */
	struct ampl_io_region apu_regs, own;
	ampl_soc_agent_regs(soc, apu, &apu_regs);
	ampl_soc_agent_regs(soc, rpu0, &own);
	ampl_io_write32(&apu_regs, AMPL_IPI_TRIG, to_rpu1);   /* faulted: dropped */
	if (ampl_io_read32(&apu_regs, AMPL_IPI_OBS) != 0)     /* faulted: reads 0 */
		return 12;
	ampl_io_write32(&own, AMPL_IPI_TRIG, to_rpu1);        /* allowed */
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	return 0;
}

static void test_forged_request_faulted(void **state)
{
	(void)state;
	char name[64];
	soc_name(name, sizeof(name), "forge");
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), 0);
	const struct ampl_soc_profile *p = &ampl_soc_zynqmp;
	const struct ampl_soc_agent *apu = ampl_soc_agent_by_name(p, "apu"), *rpu0 = ampl_soc_agent_by_name(p, "rpu0");
	pid_t pid = fork_child();
	if (pid == 0)
		_exit(forging_child(name, 0));
	int st = reap_now(pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	/* Only the genuine request arrived: rpu1's ISR has rpu0's bit, not apu's. */
	assert_int_equal(isr_of(name, "rpu1"), ampl_ipi_mask(rpu0));
	struct ampl_soc *soc;
	struct ampl_soc_fault f;
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	track_soc(soc);
	assert_int_equal(ampl_soc_agent_faults(soc, rpu0, &f), 0);
	assert_int_equal(f.count, 2);
	assert_string_equal(f.access, "read");
	assert_int_equal(f.addr, (uint64_t)apu->ipi->reg_base + AMPL_IPI_OBS);
	assert_string_equal(f.aperture, "ipi:apu");
	assert_int_equal(ampl_soc_agent_faults(soc, apu, &f), 0);
	assert_int_equal(f.count, 0);
	/* The supervisor (attached as no agent) may trigger as apu: the same write is delivered from there. */
	struct ampl_io_region regs;
	ampl_soc_agent_regs(soc, apu, &regs);
	ampl_io_write32(&regs, AMPL_IPI_TRIG, ampl_ipi_mask(ampl_soc_agent_by_name(p, "rpu1")));
	assert_int_equal(isr_of(name, "rpu1"), ampl_ipi_mask(rpu0) | ampl_ipi_mask(apu));
}

static void test_raw_store_kills_offender(void **state)
{
	(void)state;
#ifdef AMPL_UNDER_TSAN
	/* Its children fork from a process with threads (this one is attached) and then start their own, which
	 * ThreadSanitizer refuses (it kills them with status 66): run by the other builds (gcc, clang, ASan+UBSan). */
	skip();
#endif
	char name[64];
	soc_name(name, sizeof(name), "raw");
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), 0);
	struct ampl_agent *rpu1;
	struct ampl_soc *soc = attach_bare(name, "rpu1", &rpu1);
	assert_non_null(soc);
	track_soc(soc);
	track_agent(rpu1);
	struct ampl_soc_fault f;
	const struct ampl_soc_profile *zp = ampl_soc_get_profile(soc);
	for (int raw = 1; raw <= 2; raw++) {
		pid_t pid = fork_child();
		if (pid == 0)
			_exit(forging_child(name, raw));
		expect_segv(raw == 1 ? "rpu0 storing into apu's raised counter" : "rpu0 storing into the image's header",
			    reap_now(pid));
		assert_int_equal(ampl_soc_agent_faults(soc, ampl_soc_agent_by_name(zp, "rpu0"), &f), 0);
		assert_int_equal(f.count, (uint32_t)raw);
		assert_string_equal(f.aperture, raw == 1 ? "ipi:apu" : "image-header");
	}
	/* Nothing was raised, and this process (attached as rpu1) goes on: its own register block works. */
	assert_int_equal(isr_of(name, "rpu1"), 0);
	struct ampl_io_region regs;
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	ampl_soc_agent_regs(soc, ampl_soc_agent_by_name(p, "rpu1"), &regs);
	ampl_io_write32(&regs, AMPL_IPI_IER, ampl_ipi_mask(ampl_soc_agent_by_name(p, "apu")));
	assert_int_equal(ampl_io_read32(&regs, AMPL_IPI_IMR) & ampl_ipi_mask(ampl_soc_agent_by_name(p, "apu")), 0);
}

#define AP_BASE 0x3ed00000u /* the default board's shared_ram: its first page is the aperture */

/* The default board with /apertures/@node (aperture@3ed00000): one page of shared_ram, written by apu, read by
 * rpu0 (@writer may name another agent, and @node be another name, for the refusal tests). */
static void *aperture_board(const char *node, const char *writer, size_t *size)
{
	static _Alignas(8) char buf[64 * 1024];
	assert_int_equal(fdt_open_into(ampl_default_board_dtb, buf, sizeof(buf)), 0);
	int ap = fdt_add_subnode(buf, 0, "apertures");
	assert_true(ap >= 0);
	assert_int_equal(fdt_setprop_u32(buf, ap, "#address-cells", 2), 0);
	assert_int_equal(fdt_setprop_u32(buf, ap, "#size-cells", 2), 0);
	int n = fdt_add_subnode(buf, ap, node);
	assert_true(n >= 0);
	fdt32_t reg[4] = { cpu_to_fdt32(0), cpu_to_fdt32(AP_BASE), cpu_to_fdt32(0), cpu_to_fdt32(0x1000) };
	assert_int_equal(fdt_setprop_string(buf, n, "compatible", "amplink,aperture"), 0);
	assert_int_equal(fdt_setprop(buf, n, "reg", reg, sizeof(reg)), 0);
	assert_int_equal(fdt_setprop_string(buf, n, "amplink,writers", writer), 0);
	assert_int_equal(fdt_setprop_string(buf, n, "amplink,readers", "rpu0"), 0);
	assert_int_equal(fdt_pack(buf), 0);
	*size = fdt_totalsize(buf);
	return buf;
}

/* Child attached as @agent: read the aperture's first word (exit 20 if it is not 0x1234), write the page after the
 * aperture (open to all), then write into the aperture. */
static int aperture_child(const char *name, const char *agent)
{
	struct ampl_agent *ag;
	struct ampl_soc *soc = attach_bare(name, agent, &ag);
	if (!soc)
		return 10;
	volatile uint32_t *w = ampl_soc_phys(soc, AP_BASE, 0x2000);
	w[0x1000 / 4] = 0x5678;
	if (w[1] != 0x1234)
		return 20;
	w[2] = 0xbad;
	return 11; /* not reached */
}

/* Fork @agent's aperture_child and expect it killed by SIGSEGV. */
static void expect_killed(const char *name, const char *agent)
{
	pid_t pid = fork_child();
	if (pid == 0)
		_exit(aperture_child(name, agent));
	expect_segv(agent, reap_now(pid));
}

static void test_aperture_enforced(void **state)
{
	(void)state;
#ifdef AMPL_UNDER_TSAN
	/* Its children fork from a process with threads (this one is attached) and then start their own, which
	 * ThreadSanitizer refuses (it kills them with status 66): run by the other builds (gcc, clang, ASan+UBSan). */
	skip();
#endif
	char name[64];
	size_t size;
	soc_name(name, sizeof(name), "aperture");
	const void *dtb = aperture_board("aperture@3ed00000", "nobody", &size);
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, dtb, size), -EINVAL);
	print_message("aperture naming no agent: %s\n", ampl_soc_last_error());
	assert_non_null(strstr(ampl_soc_last_error(), "/apertures/aperture@3ed00000: amplink,writers"));
	/* A node name the fault record cannot hold whole is refused, named, not cut short. */
	static const char long_node[] = "aperture-whose-node-name-is-too-long-for-a-record@3ed00000";
	dtb = aperture_board(long_node, "apu", &size);
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, dtb, size), -EINVAL);
	print_message("aperture with a long name: %s\n", ampl_soc_last_error());
	assert_non_null(strstr(ampl_soc_last_error(), long_node));
	assert_non_null(strstr(ampl_soc_last_error(), "longer than 47 bytes"));
	dtb = aperture_board("aperture@3ed00000", "apu", &size);
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, dtb, size), 0);
	struct ampl_agent *apu;
	struct ampl_soc *soc = attach_bare(name, "apu", &apu);
	assert_non_null(soc);
	track_soc(soc);
	track_agent(apu);
	volatile uint32_t *w = ampl_soc_phys(soc, AP_BASE, 0x2000);
	w[1] = 0x1234; /* apu is the aperture's writer */
	expect_killed(name, "rpu0"); /* a reader: reads, then its write kills it */
	assert_int_equal(w[0x1000 / 4], 0x5678);
	assert_int_equal(w[2], 0);
	w[0x1000 / 4] = 0;
	expect_killed(name, "rpu1"); /* neither: its first read of the aperture kills it */
	assert_int_equal(w[0x1000 / 4], 0x5678);
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	struct ampl_soc_fault f;
	assert_int_equal(ampl_soc_agent_faults(soc, ampl_soc_agent_by_name(p, "rpu0"), &f), 0);
	assert_int_equal(f.count, 1);
	assert_int_equal(f.addr, AP_BASE + 8);
	assert_string_equal(f.aperture, "aperture@3ed00000");
#if defined(__x86_64__)
	assert_string_equal(f.access, "write");
#endif
	assert_int_equal(ampl_soc_agent_faults(soc, ampl_soc_agent_by_name(p, "rpu1"), &f), 0);
	assert_int_equal(f.count, 1);
	assert_int_equal(f.addr, AP_BASE + 4);
	assert_int_equal(ampl_soc_agent_faults(soc, ampl_soc_agent_by_name(p, "apu"), &f), 0);
	assert_int_equal(f.count, 0);
}

/* ---- hotplug and crash words ---- */

/* Child attached as rpu1: with @raw 0, try to take rpu0 and apu offline and retire rpu0 through the API (exit 0 if
 * every call is refused with -EACCES and says why); with @raw 1, store into rpu0's down word, 2 its owner word (a
 * forged crash: a dead process's identity), 3 the supervisor's offline word, 4 rpu0's mark on a buffer, 5 rpu0's
 * published interrupt routes, 6 apu's discard word for its requests to rpu0 (a forged discard), 7 apu's ring of
 * rpu0's interrupt line (a forged ring) (SIGSEGV). */
static int hotplug_child(const char *name, int raw)
{
	struct ampl_agent *ag;
	struct ampl_soc *soc = attach_bare(name, "rpu1", &ag);
	if (!soc)
		return 10;
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	const struct ampl_soc_agent *rpu0 = ampl_soc_agent_by_name(p, "rpu0"), *apu = ampl_soc_agent_by_name(p, "apu");
	unsigned v = ampl_soc_agent_index(p, rpu0);
	if (raw == 1)
		atomic_store(&soc->img->regs[v].down, SIM_DOWN_OFFLINE);
	if (raw == 2)
		atomic_store(&soc->img->regs[v].owner, 1ull | 0x77ull << 32);
	if (raw == 3)
		atomic_store(&soc->img->super.offline[v], 1);
	if (raw == 4)
		atomic_store(&soc->img->regs[v].buf_mark[0][0].pid, 1);
	if (raw == 5)
		atomic_store(&soc->img->regs[v].line_src[0], 0u);
	unsigned a = ampl_soc_agent_index(p, apu);
	if (raw == 6)
		atomic_fetch_add(&soc->img->regs[a].drop[rpu0->ipi->bit], 1ull << 32);
	if (raw == 7)
		atomic_fetch_add(&soc->img->regs[a].ring[v][SIM_LINE_IRQ], 1);
	if (raw)
		return 11; /* not reached */
	if (ampl_soc_agent_set_online(soc, apu, false) != -EACCES)
		return 12;
	if (ampl_soc_agent_set_online(soc, rpu0, false) != -EACCES)
		return 13;
	if (ampl_soc_agent_retire(soc, rpu0) != -EACCES)
		return 14;
	if (!strstr(ampl_soc_last_error(), "rpu1 may not retire rpu0"))
		return 15;
	if (!ampl_soc_agent_online(soc, rpu0) || ampl_soc_agent_retired(soc, rpu0))
		return 16;
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	return 0;
}

/*
 * Create a ZynqMP SoC named after @what (into @name) and attach this process, the victim of the tests below, as rpu0
 * (receiving from apu through @cb, enabled) and as apu through the same handle: the handle, apu's channel in @tx.
 */
static struct ampl_soc *victims_up(char *name, size_t cap, const char *what, ipm_callback_t cb,
				   const struct ampl_device **tx)
{
	soc_name(name, cap, what);
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), 0);
	setup_shared();
	struct ampl_soc *soc;
	struct ampl_agent *rpu0_ag, *apu_ag;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_BLOCK, .ack_timeout_us = 2000000 };
	const struct ampl_device *rx;
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	track_soc(soc);
	assert_int_equal(ampl_agent_attach(soc, "rpu0", &o, &rpu0_ag), 0);
	track_agent(rpu0_ag);
	assert_int_equal(ampl_agent_attach(soc, "apu", &o, &apu_ag), 0);
	track_agent(apu_ag);
	assert_int_equal(ampl_agent_channel(rpu0_ag, "apu", &rx), 0);
	assert_int_equal(ampl_agent_channel(apu_ag, "rpu0", tx), 0);
	ipm_register_callback(rx, cb, NULL);
	ipm_set_enabled(rx, 1);
	return soc;
}

/* Send @len bytes of @msg on @tx and wait (bounded) until the victim's callback has counted @n messages. */
static void send_received(const struct ampl_device *tx, const void *msg, size_t len, uint32_t n)
{
	assert_int_equal(ipm_send(tx, 1, 0, msg, (int)len), 0);
	uint64_t end = ampl_now_ns() + (uint64_t)BOUND_MS * 1000000u;
	while (atomic_load(&sh->received) < n && ampl_now_ns() < end)
		usleep(200);
	assert_int_equal(atomic_load(&sh->received), n);
}

static void test_hotplug_words_protected(void **state)
{
	(void)state;
#ifdef AMPL_FORK_FROM_THREADS_UNSAFE
	skip(); /* children that fork from a process with threads (see AMPL_FORK_FROM_THREADS_UNSAFE) */
#endif
	char name[64];
	const struct ampl_device *tx;
	struct ampl_soc *soc = victims_up(name, sizeof(name), "hotplug", count_cb, &tx);
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	const struct ampl_soc_agent *rpu0 = ampl_soc_agent_by_name(p, "rpu0"), *rpu1 = ampl_soc_agent_by_name(p, "rpu1");
	static const char *const aperture[] = { "hotplug:rpu0", "hotplug:rpu0", "hotplug:rpu0", "supervisor",
						"buffer-marks:rpu0", "routing:rpu0", "discards:apu", "doorbells:apu" };
	struct ampl_soc_fault f;
	uint32_t x = 0, expect_count = 0;
	for (int raw = 0; raw <= 7; raw++) {
		pid_t pid = fork_child();
		if (pid == 0)
			_exit(hotplug_child(name, raw));
		int st = reap_now(pid);
		if (!raw) {
			if (!WIFEXITED(st) || WEXITSTATUS(st))
				fail_msg("API child: status 0x%x (exit %d)", st, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			expect_count = 3;
		} else {
			char who[64];
			snprintf(who, sizeof(who), "rpu1 with raw store %d", raw);
			expect_segv(who, st);
			expect_count++;
		}
		assert_int_equal(ampl_soc_agent_faults(soc, rpu1, &f), 0);
		assert_int_equal(f.count, expect_count);
		assert_string_equal(f.aperture, aperture[raw]);
		assert_int_equal(ampl_soc_agent_faults(soc, rpu0, &f), 0);
		assert_int_equal(f.count, 0);
		/* The victim is online, not retired, and receives: over the crash detection's period, too. */
		usleep(3 * SIM_WATCH_PERIOD_MS * 1000);
		assert_true(ampl_soc_agent_online(soc, rpu0));
		assert_false(ampl_soc_agent_retired(soc, rpu0));
		send_received(tx, &x, 4, (uint32_t)raw + 1);
	}
	/* The supervisor's handle (attached as none) still may: an operator's offline and online. */
	struct ampl_soc *sup;
	assert_int_equal(ampl_soc_open(name, &sup), 0);
	track_soc(sup);
	assert_int_equal(ampl_soc_agent_set_online(sup, rpu0, false), 0);
	assert_false(ampl_soc_agent_online(soc, rpu0));
	assert_int_equal(ampl_soc_agent_set_online(sup, rpu0, true), 0);
	assert_true(ampl_soc_agent_online(soc, rpu0));
}

/* ---- IPI message buffers ---- */

static void copy_cb(const struct ampl_device *dev, void *user, uint32_t id, volatile void *data)
{
	(void)dev, (void)user, (void)id;
	for (unsigned i = 0; i < AMPL_IPI_BUF_SIZE; i++)
		sh->data[i] = ((volatile uint8_t *)data)[i];
	atomic_fetch_add(&sh->received, 1);
}

/* Child attached as rpu1: @raw 1 writes a forged payload into apu's request to rpu0, 2 reads that request, 3 writes
 * rpu0's response to apu (SIGSEGV each); 0 writes its own request to rpu0 and reads rpu0's response to it (exit 0). */
static int buffer_child(const char *name, int raw)
{
	struct ampl_agent *ag;
	struct ampl_soc *soc = attach_bare(name, "rpu1", &ag);
	if (!soc)
		return 10;
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	const struct ampl_soc_agent *apu = ampl_soc_agent_by_name(p, "apu"), *rpu0 = ampl_soc_agent_by_name(p, "rpu0");
	const struct ampl_soc_agent *rpu1 = ampl_soc_agent_by_name(p, "rpu1");
	uint64_t req = ampl_ipi_request_addr(p, apu, rpu0);
	volatile uint8_t *b = ampl_soc_phys(soc, raw == 3 ? req + AMPL_IPI_RESP_OFFSET : req, AMPL_IPI_BUF_SIZE);
	if (!b)
		return 12;
	if (raw == 1)
		memcpy((void *)b, "forged by rpu1", 15);
	if (raw == 2 && b[0] == 0x5a)
		return 13;
	if (raw == 3)
		b[0] = 0x5a;
	if (raw)
		return 11; /* not reached */
	uint64_t own = ampl_ipi_request_addr(p, rpu1, rpu0);
	volatile uint8_t *mine = ampl_soc_phys(soc, own, AMPL_IPI_BUF_SIZE);
	volatile uint8_t *resp = ampl_soc_phys(soc, own + AMPL_IPI_RESP_OFFSET, AMPL_IPI_BUF_SIZE);
	if (!mine || !resp)
		return 14;
	mine[0] = resp[0];
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	return 0;
}

static void test_buffers_single_writer(void **state)
{
	(void)state;
#ifdef AMPL_FORK_FROM_THREADS_UNSAFE
	skip(); /* children that fork from a process with threads (see AMPL_FORK_FROM_THREADS_UNSAFE) */
#endif
	char name[64];
	const struct ampl_device *tx;
	struct ampl_soc *soc = victims_up(name, sizeof(name), "buffers", copy_cb, &tx);
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	const struct ampl_soc_agent *apu = ampl_soc_agent_by_name(p, "apu"), *rpu0 = ampl_soc_agent_by_name(p, "rpu0");
	const struct ampl_soc_agent *rpu1 = ampl_soc_agent_by_name(p, "rpu1");
	uint64_t req = ampl_ipi_request_addr(p, apu, rpu0);
	static const char *const aperture[] = { "", "ipi-request:apu->rpu0", "ipi-request:apu->rpu0",
						"ipi-response:rpu0->apu" };
	static const char *const access[] = { "", "write", "read", "write" };
	struct ampl_soc_fault f;
	for (int raw = 1; raw <= 3; raw++) {
		pid_t pid = fork_child();
		if (pid == 0)
			_exit(buffer_child(name, raw));
		char who[96];
		snprintf(who, sizeof(who), "rpu1 with buffer access %d (%s of %s)", raw, access[raw], aperture[raw]);
		expect_segv(who, reap_now(pid));
		assert_int_equal(ampl_soc_agent_faults(soc, rpu1, &f), 0);
		assert_int_equal(f.count, (uint32_t)raw);
		assert_string_equal(f.aperture, aperture[raw]);
		assert_string_equal(f.access, access[raw]);
		/* Inside the buffer: which byte faults first is the compiler's copy's choice (clang's starts at 7). */
		uint64_t buf = raw == 3 ? req + AMPL_IPI_RESP_OFFSET : req;
		assert_in_range(f.addr, buf, buf + AMPL_IPI_BUF_SIZE - 1u);
		/* Nothing forged arrives: rpu0 receives apu's bytes, and only when apu sends. */
		assert_int_equal(atomic_load(&sh->received), (uint32_t)raw - 1);
		uint8_t msg[AMPL_IPI_BUF_SIZE];
		memset(msg, 0, sizeof(msg));
		snprintf((char *)msg, sizeof(msg), "genuine %d from apu", raw);
		send_received(tx, msg, sizeof(msg), (uint32_t)raw);
		assert_memory_equal(sh->data, msg, sizeof(msg));
	}
	/* Its own request and the response addressed to it are rpu1's to write and read. */
	pid_t pid = fork_child();
	if (pid == 0)
		_exit(buffer_child(name, 0));
	expect_clean_exit("rpu1 using its own buffers", reap_now(pid));
	assert_int_equal(ampl_soc_agent_faults(soc, rpu1, &f), 0);
	assert_int_equal(f.count, 3);
	assert_int_equal(ampl_soc_agent_faults(soc, rpu0, &f), 0);
	assert_int_equal(f.count, 0);
}

/* ---- Messaging Unit sides ---- */

/* Child attached as m4 (side B of the imx board's MU): @raw 0 writes TR0 and CR (GIR0) of side A through the
 * model and reads side A's SR (faulted: dropped, 0), then sends 0x1234 on its own TR1 (exit 0); @raw 1 stores a
 * forged word into the first word of side A's page, @raw 2 into its last, @raw 3 into the unit's supervisor slot
 * (the supervisor's ring words of the register-wait doorbells) (SIGSEGV each). */
static int mu_child(const char *name, int raw)
{
	struct ampl_agent *ag;
	struct ampl_soc *soc = attach_bare(name, "m4", &ag);
	if (!soc)
		return 10;
	_Atomic uint32_t *side_a = sim_ctrl_side(soc, 0, 0);
	if (raw == 1)
		atomic_store(&side_a[0], 0x0bad0001u);
	if (raw == 2)
		atomic_store(&side_a[SIM_PAGE / 4 - 1], 0x0bad0002u);
	if (raw == 3)
		atomic_store((_Atomic uint32_t *)soc->img->ctrl_state[0], 0x0bad0003u);
	if (raw)
		return 11; /* not reached */
	struct ampl_io_region a, b;
	if (ampl_soc_mu_regs(soc, 0, 0, &a) || ampl_soc_mu_regs(soc, 0, 1, &b))
		return 12;
	ampl_io_write32(&a, NXP_MU_TR(0), 0xF0F0F0F0u);  /* faulted: dropped */
	ampl_io_write32(&a, NXP_MU_CR, NXP_MU_CR_GIRn(0)); /* faulted: dropped */
	if (ampl_io_read32(&a, NXP_MU_SR) != 0)            /* faulted: reads 0 */
		return 13;
	ampl_io_write32(&b, NXP_MU_TR(1), 0x1234u);        /* allowed */
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	return 0;
}

static void test_mu_sides_single_writer(void **state)
{
	(void)state;
	char name[64];
	soc_name(name, sizeof(name), "mu");
	assert_int_equal(ampl_soc_create(name, &ampl_soc_imx, NULL, 0), 0);
	struct ampl_soc *soc;
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	track_soc(soc);
	const struct ampl_soc_agent *m4 = ampl_soc_agent_by_name(&ampl_soc_imx, "m4");
	const struct ampl_soc_agent *a = ampl_soc_agent_by_name(&ampl_soc_imx, "a");
	struct ampl_io_region ra, rb;
	assert_int_equal(ampl_soc_mu_regs(soc, 0, 0, &ra), 0);
	assert_int_equal(ampl_soc_mu_regs(soc, 0, 1, &rb), 0);
	struct ampl_soc_fault f;
	for (int raw = 0; raw <= 3; raw++) {
		pid_t pid = fork_child();
		if (pid == 0)
			_exit(mu_child(name, raw));
		int st = reap_now(pid);
		if (!raw) {
			expect_clean_exit("m4 using its own side", st);
		} else {
			char who[96];
			snprintf(who, sizeof(who), "m4 with raw store %d (side A's page, the unit's supervisor slot)", raw);
			expect_segv(who, st);
		}
		assert_int_equal(ampl_soc_agent_faults(soc, m4, &f), 0);
		assert_int_equal(f.count, 3u + (uint32_t)raw);
		if (raw == 3) {
			assert_string_equal(f.aperture, "supervisor");
			assert_int_equal(f.addr, offsetof(struct sim_image, ctrl_state));
		} else {
			assert_string_equal(f.aperture, "mu:ipm@40028000:A");
			assert_int_equal(f.addr, raw ? 0x40028000u : 0x40028000u + NXP_MU_SR);
		}
		assert_int_equal(ampl_soc_agent_faults(soc, a, &f), 0);
		assert_int_equal(f.count, 0);
		/* Side A sent nothing and rang nothing (m4 has no word, no GIP); m4's own word on TR1 waits for A. */
		assert_int_equal(ampl_io_read32(&rb, NXP_MU_SR) & 0xFFF00000u, 0x00B00000u);
		assert_int_equal(ampl_io_read32(&ra, NXP_MU_TR(0)), 0);
		assert_int_equal(ampl_io_read32(&ra, NXP_MU_CR), 0);
		assert_int_equal(ampl_io_read32(&ra, NXP_MU_SR) & 0xFFF00000u, 0x04F00000u);
	}
	assert_int_equal(ampl_io_read32(&ra, NXP_MU_RR(1)), 0x1234u);
}

/* ---- discards: a request to an agent that goes offline ends once, as discarded, for its sender ---- */

struct blocking_send {
	const struct ampl_device *tx;
	_Atomic int result, done;
};

static void *blocking_send_main(void *arg)
{
	struct blocking_send *b = arg;
	uint32_t x = 7;
	atomic_store(&b->result, ipm_send(b->tx, 1, 0, &x, 4));
	atomic_store(&b->done, 1);
	return NULL;
}

/* Wait (bounded) until @bit is pending in @regs' ISR. */
static bool isr_has(const struct ampl_io_region *regs, uint32_t bit)
{
	uint64_t end = ampl_now_ns() + (uint64_t)BOUND_MS * 1000000u;
	while (!(ampl_io_read32(regs, AMPL_IPI_ISR) & bit) && ampl_now_ns() < end)
		usleep(200);
	return ampl_io_read32(regs, AMPL_IPI_ISR) & bit;
}

static void test_discard_ends_once(void **state)
{
	(void)state;
	char name[64];
	soc_name(name, sizeof(name), "discard");
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), 0);
	const struct ampl_soc_profile *p = &ampl_soc_zynqmp;
	const struct ampl_soc_agent *apu = ampl_soc_agent_by_name(p, "apu"), *rpu0 = ampl_soc_agent_by_name(p, "rpu0");
	unsigned a = ampl_soc_agent_index(p, apu), r = ampl_soc_agent_index(p, rpu0);
	/* Two handles of this process: the sender as apu (no interrupt thread: it looks only when it sends or waits),
	 * the destination as rpu0 (no interrupt thread: it acknowledges only when told). */
	struct ampl_soc *sa, *sr;
	struct ampl_agent *ag_a, *ag_r;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_BLOCK, .no_irq_thread = true, .ack_timeout_us = 2000000 };
	assert_int_equal(ampl_soc_open(name, &sa), 0);
	track_soc(sa);
	assert_int_equal(ampl_agent_attach(sa, "apu", &o, &ag_a), 0);
	track_agent(ag_a);
	sr = attach_bare(name, "rpu0", &ag_r);
	assert_non_null(sr);
	track_soc(sr);
	track_agent(ag_r);
	struct ampl_io_region regs_a, regs_r;
	ampl_soc_agent_regs(sa, apu, &regs_a);
	ampl_soc_agent_regs(sr, rpu0, &regs_r);

	/* 1. A raised request, the destination offline and back online before the sender looks: ended, counted once,
	 * never delivered. */
	ampl_io_write32(&regs_a, AMPL_IPI_TRIG, ampl_ipi_mask(rpu0));
	assert_true(isr_has(&regs_r, ampl_ipi_mask(apu)));
	assert_int_equal(ampl_soc_agent_set_online(sr, rpu0, false), 0);
	assert_int_equal(ampl_soc_agent_set_online(sr, rpu0, true), 0);
	assert_int_equal(ampl_io_read32(&regs_r, AMPL_IPI_ISR) & ampl_ipi_mask(apu), 0);
	assert_int_equal(ampl_io_read32(&regs_a, AMPL_IPI_OBS) & ampl_ipi_mask(rpu0), 0);
	assert_int_equal(sim_ipi_discards(sa, a, r), 1);
	/* The next request is delivered, and the count stays. */
	ampl_io_write32(&regs_a, AMPL_IPI_TRIG, ampl_ipi_mask(rpu0));
	assert_int_equal(sim_ipi_discards(sa, a, r), 1);
	assert_true(isr_has(&regs_r, ampl_ipi_mask(apu)));
	ampl_io_write32(&regs_r, AMPL_IPI_ISR, ampl_ipi_mask(apu));
	assert_int_equal(ampl_io_read32(&regs_a, AMPL_IPI_OBS) & ampl_ipi_mask(rpu0), 0);
	assert_int_equal(sim_ipi_discards(sa, a, r), 1);
	assert_int_equal(sim_ipi_discards(sr, a, r), 1); /* what any other process shows */

	/* 2. A blocking send waiting for its acknowledgement when the destination goes offline: -ESHUTDOWN, once. */
	struct blocking_send b = { 0 };
	pthread_t t;
	assert_int_equal(ampl_agent_channel(ag_a, "rpu0", &b.tx), 0);
	assert_int_equal(pthread_create(&t, NULL, blocking_send_main, &b), 0);
	assert_true(isr_has(&regs_r, ampl_ipi_mask(apu)));
	assert_int_equal(ampl_soc_agent_set_online(sr, rpu0, false), 0);
	uint64_t end = ampl_now_ns() + (uint64_t)BOUND_MS * 1000000u;
	while (!atomic_load(&b.done) && ampl_now_ns() < end)
		usleep(200);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(atomic_load(&b.result), -ESHUTDOWN);
	assert_int_equal(ampl_soc_agent_set_online(sr, rpu0, true), 0);
	assert_int_equal(ampl_io_read32(&regs_r, AMPL_IPI_ISR) & ampl_ipi_mask(apu), 0);
	assert_int_equal(sim_ipi_discards(sa, a, r), 2);
	/* Then a send that the destination acknowledges: done, not discarded. */
	atomic_store(&b.done, 0);
	assert_int_equal(pthread_create(&t, NULL, blocking_send_main, &b), 0);
	assert_true(isr_has(&regs_r, ampl_ipi_mask(apu)));
	ampl_io_write32(&regs_r, AMPL_IPI_ISR, ampl_ipi_mask(apu));
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(atomic_load(&b.result), 0);
	assert_int_equal(sim_ipi_discards(sa, a, r), 2);
}

static int teardown(void **state)
{
	(void)state;
	if (sh) {
		atomic_store(&sh->hold, 0);
		atomic_store(&sh->phase, 1);
	}
	for (int i = 0; i < 4; i++)
		if (T.kids[i])
			(void)reap(T.kids[i], BOUND_MS);
	for (int i = 0; i < 4; i++)
		ampl_agent_detach(T.agents[i]);
	for (int i = 0; i < 4; i++)
		ampl_soc_close(T.socs[i]);
	for (int i = 0; i < 4; i++)
		if (T.names[i][0])
			ampl_soc_destroy(T.names[i]);
	if (T.links[0])
		unlink(T.links);
	if (sh)
		munmap(sh, sizeof(*sh));
	sh = NULL;
	memset(&T, 0, sizeof(T));
	return 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_shrink_under_attached, teardown),
		cmocka_unit_test_teardown(test_other_owner_refused, teardown),
		cmocka_unit_test_teardown(test_destroy_other_user, teardown),
		cmocka_unit_test_teardown(test_symlink_refused, teardown),
		cmocka_unit_test_teardown(test_full_shm, teardown),
		cmocka_unit_test_teardown(test_sleepers_zero, teardown),
		cmocka_unit_test_teardown(test_sleepers_all_ones, teardown),
		cmocka_unit_test_teardown(test_attach_twice, teardown),
		cmocka_unit_test_teardown(test_corrupt_agent_count, teardown),
		cmocka_unit_test_teardown(test_forged_request_faulted, teardown),
		cmocka_unit_test_teardown(test_raw_store_kills_offender, teardown),
		cmocka_unit_test_teardown(test_aperture_enforced, teardown),
		cmocka_unit_test_teardown(test_hotplug_words_protected, teardown),
		cmocka_unit_test_teardown(test_buffers_single_writer, teardown),
		cmocka_unit_test_teardown(test_mu_sides_single_writer, teardown),
		cmocka_unit_test_teardown(test_discard_ends_once, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
