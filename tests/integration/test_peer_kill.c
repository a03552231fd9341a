/*
 * A peer killed with SIGKILL mid-stream: the APU streams checksummed, sequence-numbered messages to a process
 * attached as the peer that records what it receives in shared memory; the APU kills it, the SoC's crash
 * detection takes the peer offline, the APU's link goes unbound (the time is measured), sends fail until a
 * restarted peer process rebinds, and the stream resumes. Three kills, then a final stream that must arrive whole.
 * Every delivered message must be intact and delivered once; within each peer's lifetime the delivered messages
 * must be a prefix of the accepted ones (nothing lost in the middle); a refused send is never delivered.
 * Three backends: ICMsg in session mode (APU <-> RPU0), the multi-endpoint backend (APU <-> RPU1; the killed
 * peer is the initiator, so the restarted one advertises the endpoint again) and RPMsg (the APU is the host, the
 * killed RPU0 the remote: the restarted remote writes a new session id and the host re-initialises the vrings).
 *
 * Also: the liveness check behind the crash detection (a pid whose start token differs is dead, a zombie is dead).
 */
#include <errno.h>
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
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libfdt.h>

#include <amplink/ipc/ipc_icmsg.h>
#include <amplink/ipc/ipc_multi.h>
#include <amplink/ipc/ipc_rpmsg.h>
#include <amplink/ipc_service.h>
#include <amplink/host/soc.h>

#include "sim/image.h"

#define MAXSEQ 60000u
#define KILLS 3
#define PER_EPOCH 4000u /* messages accepted by a peer before it is killed (about) */
#define FINAL 4000u
#define DETECT_BOUND_MS 2000.0

/* The backend under test: the peer agent, the two instances, how to ask whether the link is up. */
struct pk_backend {
	const char *name;
	const char *peer;       /* the agent killed and restarted */
	const char *label[2];   /* APU's instance, the peer's */
	bool session_board;     /* ICMsg: the default board with unbound = "enable" */
	bool (*link_up)(const struct ampl_device *dev);
};

static bool icmsg_up(const struct ampl_device *dev)
{
	return icmsg_is_bound(ipc_icmsg_link(dev));
}

static bool rpmsg_up(const struct ampl_device *dev)
{
	struct rpmsg_device *rdev = ipc_rpmsg_device(dev);
	return rdev && rpmsg_virtio_link_up(rdev);
}

static const struct pk_backend backends[] = {
	{ "icmsg", "rpu0", { "ipc_icmsg_apu", "ipc_icmsg_rpu0" }, true, icmsg_up },
	{ "multi", "rpu1", { "ipc_multi_apu", "ipc_multi_rpu1" }, false, ipc_multi_is_connected },
	{ "rpmsg", "rpu0", { "ipc_rpmsg_apu", "ipc_rpmsg_rpu0" }, false, rpmsg_up }, /* the remote is killed */
};

/* What the peer processes saw, shared with the test. */
struct shared {
	_Atomic uint32_t count[MAXSEQ];
	_Atomic uint32_t bad;
};

static uint32_t csum(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static size_t make_msg(uint8_t *buf, uint32_t seq)
{
	size_t len = 8 + (seq * 7u) % 112u; /* at most 119: session mode assumes the peer takes 128 bytes */
	for (size_t i = 8; i < len; i++)
		buf[i] = (uint8_t)(seq ^ i ^ 0x5a);
	uint32_t sum = csum(buf + 8, len - 8);
	memcpy(buf, &seq, 4);
	memcpy(buf + 4, &sum, 4);
	return len;
}

/* ---- the peer's process ---- */

static struct shared *child_sh;

static void child_received(const void *data, size_t len, void *priv)
{
	(void)priv;
	const uint8_t *p = data;
	uint32_t seq, sum;
	if (len < 8) {
		atomic_fetch_add(&child_sh->bad, 1);
		return;
	}
	memcpy(&seq, p, 4);
	memcpy(&sum, p + 4, 4);
	if (seq >= MAXSEQ || sum != csum(p + 8, len - 8)) {
		atomic_fetch_add(&child_sh->bad, 1);
		return;
	}
	atomic_fetch_add(&child_sh->count[seq], 1);
}

static int child_main(const char *soc_name, int fd, const struct pk_backend *bk)
{
	child_sh = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (child_sh == MAP_FAILED)
		return 10;
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	const struct ampl_device *dev;
	if (ampl_soc_open(soc_name, &soc))
		return 11;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	if (ampl_agent_attach(soc, bk->peer, &o, &ag) || ampl_agent_ipc_instance(ag, bk->label[1], &dev)) {
		fprintf(stderr, "%s: %s\n", bk->peer, ampl_soc_last_error());
		return 12;
	}
	static struct ipc_ept ept;
	static const struct ipc_ept_cfg cfg = { .name = "stream", .cb = { .received = child_received } };
	int r = ipc_service_open_instance(dev);
	if (!r)
		r = ipc_service_register_endpoint(dev, &ept, &cfg);
	if (r) {
		fprintf(stderr, "%s: opening %s or registering its endpoint: %d\n", bk->peer, bk->label[1], r);
		return 13;
	}
	for (;;)
		pause(); /* until killed */
}

/* ---- the APU side ---- */

static _Atomic int bound_count, unbound_count, apu_bad;
static _Atomic uint64_t unbound_ns;

static void apu_bound(void *priv)
{
	(void)priv;
	atomic_fetch_add(&bound_count, 1);
}

static void apu_unbound(void *priv)
{
	(void)priv;
	atomic_store(&unbound_ns, ampl_now_ns());
	atomic_fetch_add(&unbound_count, 1);
}

static void apu_received(const void *data, size_t len, void *priv)
{
	(void)data, (void)len, (void)priv;
	atomic_fetch_add(&apu_bad, 1); /* the peer never sends */
}

static void apu_error(const char *msg, void *priv)
{
	(void)priv;
	fprintf(stderr, "apu error callback: %s\n", msg);
	atomic_fetch_add(&apu_bad, 1);
}

static pid_t spawn_child(const char *soc_name, int fd, const struct pk_backend *bk)
{
	char fdstr[16];
	snprintf(fdstr, sizeof(fdstr), "%d", fd);
	char *argv[] = { "test_peer_kill", "child", (char *)soc_name, fdstr, (char *)bk->name, NULL };
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	return pid;
}

static bool wait_for(_Atomic int *v, int target, unsigned ms)
{
	for (unsigned i = 0; i < ms && atomic_load(v) < target; i++)
		usleep(1000);
	return atomic_load(v) >= target;
}

/* The default board with both ICMsg nodes in session mode (`unbound = "enable"`). */
static void *session_board(size_t *size)
{
	char name[64];
	snprintf(name, sizeof(name), "t-peer-kill-dtb-%d", (int)getpid());
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), 0);
	struct ampl_soc *soc;
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	size_t n;
	const void *dtb = ampl_soc_dtb(soc, &n);
	size_t cap = n + 1024;
	void *buf = malloc(cap);
	assert_non_null(buf);
	assert_int_equal(fdt_open_into(dtb, buf, (int)cap), 0);
	ampl_soc_close(soc);
	ampl_soc_destroy(name);
	int nodes = 0;
	for (int off = fdt_node_offset_by_compatible(buf, -1, "zephyr,ipc-icmsg"); off >= 0;
	     off = fdt_node_offset_by_compatible(buf, off, "zephyr,ipc-icmsg")) {
		assert_int_equal(fdt_setprop_string(buf, off, "unbound", "enable"), 0);
		nodes++;
	}
	assert_int_equal(nodes, 2);
	assert_int_equal(fdt_pack(buf), 0);
	*size = fdt_totalsize(buf);
	return buf;
}

enum { SENT_NONE = 0, SENT_OK, SENT_FAILED };

static void peer_kill(const struct pk_backend *bk)
{
	size_t dtb_size = 0;
	void *dtb = bk->session_board ? session_board(&dtb_size) : NULL;
	char name[64];
	snprintf(name, sizeof(name), "t-peer-kill-%s-%d", bk->name, (int)getpid());
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, dtb, dtb_size), 0);
	free(dtb);
	atomic_store(&bound_count, 0);
	atomic_store(&unbound_count, 0);
	atomic_store(&apu_bad, 0);

	int fd = memfd_create("peer-kill", 0);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, sizeof(struct shared)), 0);
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(sh != MAP_FAILED);
	uint8_t *sent = calloc(MAXSEQ, 1);
	uint8_t *epoch_of = calloc(MAXSEQ, 1);
	assert_non_null(sent);
	assert_non_null(epoch_of);

	struct ampl_soc *soc;
	struct ampl_agent *ag;
	const struct ampl_device *dev;
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	assert_int_equal(ampl_agent_attach(soc, "apu", &o, &ag), 0);
	assert_int_equal(ampl_agent_ipc_instance(ag, bk->label[0], &dev), 0);
	const struct ampl_soc_agent *peer = ampl_soc_agent_by_name(ampl_soc_get_profile(soc), bk->peer);
	static struct ipc_ept ept;
	memset(&ept, 0, sizeof(ept));
	static const struct ipc_ept_cfg cfg = {
		.name = "stream",
		.cb = { .bound = apu_bound, .unbound = apu_unbound, .received = apu_received, .error = apu_error },
	};
	assert_int_equal(ipc_service_open_instance(dev), 0);
	assert_int_equal(ipc_service_register_endpoint(dev, &ept, &cfg), 0);

	pid_t child = spawn_child(name, fd, bk);
	assert_true(child > 0);
	assert_true(wait_for(&bound_count, 1, 10000));

	uint8_t buf[128];
	uint32_t seq = 0;
	unsigned in_doubt = 0, refused = 0, lost = 0;
	double worst_ms = 0;
	for (int epoch = 0; epoch <= KILLS; epoch++) {
		bool last = epoch == KILLS;
		uint32_t accepted = 0, kill_at = PER_EPOCH / 2 + (uint32_t)rand() % PER_EPOCH;
		uint64_t t_kill = 0, full_since = 0;
		int unb = atomic_load(&unbound_count);
		/* Stream; kill the peer mid-stream and keep sending until the link reports it gone. */
		for (;;) {
			if (!last && !t_kill && accepted == kill_at) {
				t_kill = ampl_now_ns();
				assert_int_equal(kill(child, SIGKILL), 0);
			}
			if (t_kill && atomic_load(&unbound_count) > unb)
				break;
			if (last && accepted == FINAL)
				break;
			assert_true(seq < MAXSEQ);
			size_t len = make_msg(buf, seq);
			int r = ipc_service_send(&ept, buf, len);
			if (r == -ENOMEM) { /* ring full now: retry the same message */
				sched_yield();
				if (t_kill && ampl_now_ns() - t_kill > 10000000000ull)
					fail_msg("no unbound() 10 s after the kill");
				if (!full_since)
					full_since = ampl_now_ns();
				else if (ampl_now_ns() - full_since > 30000000000ull)
					fail_msg("[%s] message %u: no room for 30 s with the peer alive: it stopped draining",
						 bk->name, seq);
				continue;
			}
			full_since = 0;
			epoch_of[seq] = (uint8_t)epoch;
			if (r == (int)len) {
				sent[seq] = SENT_OK;
				accepted++;
				in_doubt += t_kill != 0;
			} else {
				assert_true(t_kill != 0); /* before the kill every send goes through */
				sent[seq] = SENT_FAILED;
				refused++;
			}
			seq++;
		}
		if (last)
			break;
		double ms = (double)(atomic_load(&unbound_ns) - t_kill) / 1e6;
		printf("[%s] kill %d: after %u messages, unbound() %.3f ms after SIGKILL\n", bk->name, epoch + 1, accepted,
		       ms);
		if (ms > worst_ms)
			worst_ms = ms;
		assert_true(ms < DETECT_BOUND_MS);
		assert_false(ampl_soc_agent_online(soc, peer));
		int st;
		assert_int_equal(waitpid(child, &st, 0), child);
		assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

		/* Until the restarted peer rebinds, every send fails. */
		int bnd = atomic_load(&bound_count);
		for (int i = 0; i < 20; i++, seq++) {
			size_t len = make_msg(buf, seq);
			int r = ipc_service_send(&ept, buf, len);
			assert_true(r < 0);
			sent[seq] = SENT_FAILED;
			epoch_of[seq] = (uint8_t)epoch;
			refused++;
			usleep(500);
		}
		child = spawn_child(name, fd, bk);
		assert_true(child > 0);
		/* 10 s to rebind (30 s in a sanitizer build: a restart under ThreadSanitizer with other tests beside it
		 * once took longer than 10 s) */
		const char *scale = getenv("AMPL_TEST_SCALE");
		uint64_t end = ampl_now_ns() + (scale && !strcmp(scale, "sanitizer") ? 30000000000ull : 10000000000ull);
		while (atomic_load(&bound_count) == bnd) {
			assert_true(ampl_now_ns() < end);
			if (waitpid(child, &st, WNOHANG) == child)
				fail_msg("the restarted peer ended before it bound (status %#x)", st);
			size_t len = make_msg(buf, seq);
			int r = ipc_service_send(&ept, buf, len);
			epoch_of[seq] = (uint8_t)(epoch + 1);
			if (r == (int)len) {
				/* Only possible once the new session is up (bound() runs right after). */
				assert_true(bk->link_up(dev));
				sent[seq] = SENT_OK;
			} else {
				assert_true(r < 0);
				sent[seq] = SENT_FAILED;
				refused++;
			}
			seq++;
			usleep(200);
		}
		assert_true(ampl_soc_agent_online(soc, peer));
	}

	/* The final stream arrives whole. */
	uint64_t end = ampl_now_ns() + 20000000000ull;
	for (uint32_t s = 0; s < seq; s++) {
		if (epoch_of[s] != KILLS || sent[s] != SENT_OK)
			continue;
		while (!atomic_load(&sh->count[s]) && ampl_now_ns() < end)
			usleep(1000);
		assert_int_equal(atomic_load(&sh->count[s]), 1);
	}
	/* Every delivered message was intact and delivered once; a refused one never; per peer, a prefix. */
	assert_int_equal(atomic_load(&sh->bad), 0);
	assert_int_equal(atomic_load(&apu_bad), 0);
	for (int epoch = 0; epoch <= KILLS; epoch++) {
		bool gap = false;
		for (uint32_t s = 0; s < seq; s++) {
			if (epoch_of[s] != epoch)
				continue;
			uint32_t c = atomic_load(&sh->count[s]);
			assert_true(c <= 1);
			if (sent[s] == SENT_FAILED) {
				assert_int_equal(c, 0);
				continue;
			}
			if (!c) {
				gap = true;
				lost++;
			} else if (gap) {
				fail_msg("epoch %d: message %u delivered after an undelivered one", epoch, s);
			}
		}
	}
	printf("[%s] %u messages; %u refused while the peer was gone; %u accepted between a kill and its detection; "
	       "%u accepted but lost with a killed peer; worst detection %.3f ms\n",
	       bk->name, seq, refused, in_doubt, lost, worst_ms);

	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	ipc_service_deregister_endpoint(&ept);
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	ampl_soc_destroy(name);
	munmap(sh, sizeof(*sh));
	close(fd);
	free(sent);
	free(epoch_of);
}

static void test_peer_kill(void **state)
{
	(void)state;
	peer_kill(&backends[0]);
}

static void test_peer_kill_multi(void **state)
{
	(void)state;
	peer_kill(&backends[1]);
}

static void test_peer_kill_rpmsg(void **state)
{
	(void)state;
	peer_kill(&backends[2]);
}

/* The liveness check: a pid reused by another process (another start token) and a zombie are dead. */
static void test_owner_liveness(void **state)
{
	(void)state;
	uint64_t self = sim_owner_self();
	assert_int_equal((uint32_t)self, (uint32_t)getpid());
	assert_true(self >> 32); /* /proc tells the start time */
	assert_true(sim_owner_alive(self));
	uint64_t reused = self ^ (0x5a5aull << 32);
	assert_false(sim_owner_alive(reused));
	assert_false(sim_owner_alive(0));

	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	assert_true(pid > 0);
	/* A zombie (not reaped yet) is dead. */
	uint64_t zombie = (uint32_t)pid;
	for (int i = 0; i < 2000 && sim_owner_alive(zombie); i++)
		usleep(1000);
	assert_false(sim_owner_alive(zombie));
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	assert_false(sim_owner_alive(zombie));
}

/* The watcher: an agent whose recorded process is gone (here: a reused pid) goes offline; attaching revives it. */
static void test_watch_marks_offline(void **state)
{
	(void)state;
	char name[64];
	snprintf(name, sizeof(name), "t-peer-kill-w-%d", (int)getpid());
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), 0);
	struct ampl_soc *soc;
	struct ampl_agent *apu, *rpu;
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_BLOCK };
	assert_int_equal(ampl_agent_attach(soc, "apu", &o, &apu), 0);
	const struct ampl_soc_agent *rpu0 = ampl_soc_agent_by_name(ampl_soc_get_profile(soc), "rpu0");
	unsigned idx = ampl_soc_agent_index(ampl_soc_get_profile(soc), rpu0);
	/* rpu0's process died and its pid went to a live process (our parent's, with another start time). A process
	 * attached as apu cannot write rpu0's owner word: the supervisor's handle (attached as none) plays the dead
	 * process's last store. */
	struct ampl_soc *sup;
	assert_int_equal(ampl_soc_open(name, &sup), 0);
	assert_true(sim_owner_alive((uint32_t)getppid()));
	uint64_t dead = (uint64_t)(uint32_t)getppid() | 0x77ull << 32;
	atomic_store(&sup->img->regs[idx].owner, dead);
	uint64_t t0 = ampl_now_ns();
	while (ampl_soc_agent_online(soc, rpu0) && ampl_now_ns() - t0 < 2000000000ull)
		usleep(500);
	assert_false(ampl_soc_agent_online(soc, rpu0));
	printf("watcher: rpu0 offline %.3f ms after its owner was replaced\n", (double)(ampl_now_ns() - t0) / 1e6);
	/* The verdict is this process's own: the owner word is left as the dead process wrote it. */
	assert_int_equal(atomic_load(&soc->img->regs[idx].owner), dead);
	/* The restarted processor attaches: online again. */
	assert_int_equal(ampl_agent_attach(soc, "rpu0", &o, &rpu), 0);
	assert_true(ampl_soc_agent_online(soc, rpu0));
	usleep(50000); /* the watcher leaves a live owner alone */
	assert_true(ampl_soc_agent_online(soc, rpu0));
	ampl_agent_detach(rpu);
	/* An operator's offline (the supervisor's) is not undone by an attach. */
	assert_int_equal(ampl_soc_agent_set_online(sup, rpu0, false), 0);
	assert_int_equal(ampl_agent_attach(soc, "rpu0", &o, &rpu), 0);
	assert_false(ampl_soc_agent_online(soc, rpu0));
	ampl_agent_detach(rpu);
	ampl_agent_detach(apu);
	ampl_soc_close(sup);
	ampl_soc_close(soc);
	ampl_soc_destroy(name);
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "child")) {
		/* A child pauses until it is killed: if a failed check ends the test first, it must not outlive it (it
		 * would hold CTest's output pipe open until the test's timeout). */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() == 1)
			return 8;
		for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
			if (!strcmp(argv[4], backends[i].name))
				return child_main(argv[2], atoi(argv[3]), &backends[i]);
		return 9;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	srand((unsigned)getpid());
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owner_liveness),
		cmocka_unit_test(test_watch_marks_offline),
		cmocka_unit_test(test_peer_kill),
		cmocka_unit_test(test_peer_kill_multi),
		cmocka_unit_test(test_peer_kill_rpmsg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
