/*
 * The bounded wait for the peer: ipc_service_wait_bound() on each backend and rpmsg_virtio_wait_link() on RPMsg.
 * This process opens its instance and registers an endpoint with no peer there: the waits time out cleanly (at
 * once with AMPL_NO_WAIT / 0, after the bound with a timeout). Then a child process attaches as the peer a little
 * later and registers the same endpoint name: the waits return success, and sends go through at once.
 * RPMsg: this process is the remote (RPU0), the child the host (APU); once the link is up,
 * rpmsg_get_tx_buffer_size() answers the host's buffer size before the remote has sent anything (it answered
 * RPMSG_ERR_DEV_STATE until the first send).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <amplink/ipc/ipc_rpmsg.h>
#include <amplink/ipc_service.h>
#include <amplink/host/soc.h>

/* Generous: the peer process starts on a shared, possibly loaded machine. */
#define BIND_TIMEOUT_MS 30000
#define SHORT_TIMEOUT_MS 200
#define PEER_DELAY_US 300000

struct lw_backend {
	const char *name;
	const char *agent[2];   /* this process's agent, the peer's */
	const char *label[2];   /* their instances */
};

static const struct lw_backend backends[] = {
	{ "icmsg", { "apu", "rpu0" }, { "ipc_icmsg_apu", "ipc_icmsg_rpu0" } },
	{ "multi", { "apu", "rpu1" }, { "ipc_multi_apu", "ipc_multi_rpu1" } },
	{ "rpmsg", { "rpu0", "apu" }, { "ipc_rpmsg_rpu0", "ipc_rpmsg_apu" } }, /* we are the remote */
};

static void on_received(const void *data, size_t len, void *priv)
{
	(void)data, (void)len, (void)priv;
}

static int raw_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)ept, (void)data, (void)len, (void)src, (void)priv;
	return RPMSG_SUCCESS;
}

static const struct ipc_ept_cfg ept_cfg = { .name = "wait", .cb = { .received = on_received } };

/* ---- the peer's process ---- */

static int child_main(const char *soc_name, const struct lw_backend *bk)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	usleep(PEER_DELAY_US); /* the test's waits are already running */
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	const struct ampl_device *dev;
	if (ampl_soc_open(soc_name, &soc))
		return 11;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	if (ampl_agent_attach(soc, bk->agent[1], &o, &ag) || ampl_agent_ipc_instance(ag, bk->label[1], &dev)) {
		fprintf(stderr, "%s: %s\n", bk->agent[1], ampl_soc_last_error());
		return 12;
	}
	static struct ipc_ept ept;
	if (ipc_service_open_instance(dev) || ipc_service_register_endpoint(dev, &ept, &ept_cfg))
		return 13;
	for (;;)
		pause(); /* until killed */
}

/* ---- the test ---- */

static pid_t spawn_child(const char *soc_name, const struct lw_backend *bk)
{
	char *argv[] = { "test_link_wait", "child", (char *)soc_name, (char *)bk->name, NULL };
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	return pid;
}

static double ms_since(uint64_t t0)
{
	return (double)(ampl_os_uptime_us() - t0) / 1e3;
}

static void link_wait(const struct lw_backend *bk)
{
	char name[64];
	snprintf(name, sizeof(name), "t-link-wait-%s-%d", bk->name, (int)getpid());
	assert_int_equal(ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0), 0);
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	const struct ampl_device *dev;
	assert_int_equal(ampl_soc_open(name, &soc), 0);
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	assert_int_equal(ampl_agent_attach(soc, bk->agent[0], &o, &ag), 0);
	assert_int_equal(ampl_agent_ipc_instance(ag, bk->label[0], &dev), 0);

	static struct ipc_ept ept;
	memset(&ept, 0, sizeof(ept));
	assert_int_equal(ipc_service_wait_bound(NULL, AMPL_NO_WAIT), -EINVAL);
	assert_int_equal(ipc_service_wait_bound(&ept, AMPL_NO_WAIT), -ENOENT); /* not registered */
	assert_int_equal(ipc_service_open_instance(dev), 0);
	assert_int_equal(ipc_service_register_endpoint(dev, &ept, &ept_cfg), 0);

	/* No peer: the waits time out, the short one after its bound (never before). */
	struct rpmsg_device *rdev = NULL;
	if (!strcmp(bk->name, "rpmsg")) {
		rdev = ipc_rpmsg_device(dev);
		assert_non_null(rdev);
		assert_int_equal(rpmsg_virtio_wait_link(NULL, 0), RPMSG_ERR_PARAM);
		assert_int_equal(rpmsg_virtio_wait_link(rdev, 0), RPMSG_ERR_DEV_STATE);
		uint64_t t0 = ampl_os_uptime_us();
		assert_int_equal(rpmsg_virtio_wait_link(rdev, SHORT_TIMEOUT_MS), RPMSG_ERR_DEV_STATE);
		assert_true(ms_since(t0) >= SHORT_TIMEOUT_MS);
		assert_true(ipc_service_get_tx_buffer_size(&ept) < 0); /* not known: no host yet */
	}
	assert_int_equal(ipc_service_wait_bound(&ept, AMPL_NO_WAIT), -ETIMEDOUT);
	uint64_t t0 = ampl_os_uptime_us();
	assert_int_equal(ipc_service_wait_bound(&ept, AMPL_MSEC(SHORT_TIMEOUT_MS)), -ETIMEDOUT);
	double waited = ms_since(t0);
	assert_true(waited >= SHORT_TIMEOUT_MS);
	printf("[%s] no peer: -ETIMEDOUT after %.1f ms (bound %d ms)\n", bk->name, waited, SHORT_TIMEOUT_MS);
	assert_int_equal(ipc_service_send(&ept, "hi", 2), -EBUSY);

	/* RPMsg: no endpoint while the link comes up, so that nothing (no announcement) takes a buffer before the
	 * size is asked. */
	if (rdev)
		assert_int_equal(ipc_service_deregister_endpoint(&ept), 0);

	/* The peer starts later in another process: the waits return once it is there. */
	pid_t child = spawn_child(name, bk);
	assert_true(child > 0);
	t0 = ampl_os_uptime_us();
	if (rdev) {
		assert_int_equal(rpmsg_virtio_wait_link(rdev, BIND_TIMEOUT_MS), RPMSG_SUCCESS);
		printf("[%s] link up after %.1f ms\n", bk->name, ms_since(t0));
		assert_true(rpmsg_virtio_link_up(rdev));
		assert_int_equal(rpmsg_virtio_wait_link(rdev, 0), RPMSG_SUCCESS);
		/* The host's buffer size, before this side sent anything: an endpoint without a name or a peer. */
		static struct rpmsg_endpoint raw;
		memset(&raw, 0, sizeof(raw));
		assert_int_equal(rpmsg_create_ept(&raw, rdev, NULL, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, raw_cb, NULL),
				 RPMSG_SUCCESS);
		assert_int_equal(rpmsg_get_tx_buffer_size(&raw), (int)(RPMSG_BUFFER_SIZE_DEFAULT - RPMSG_HDR_SIZE));
		rpmsg_destroy_ept(&raw);
		assert_int_equal(ipc_service_register_endpoint(dev, &ept, &ept_cfg), 0);
	}
	assert_int_equal(ipc_service_wait_bound(&ept, AMPL_MSEC(BIND_TIMEOUT_MS)), 0);
	printf("[%s] bound after %.1f ms (the peer started %d ms in)\n", bk->name, ms_since(t0), PEER_DELAY_US / 1000);
	assert_int_equal(ipc_service_wait_bound(&ept, AMPL_NO_WAIT), 0);
	assert_int_equal(ipc_service_send(&ept, "hi", 2), 2);

	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	ipc_service_deregister_endpoint(&ept);
	ipc_service_close_instance(dev);
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	ampl_soc_destroy(name);
}

static void test_link_wait_icmsg(void **state)
{
	(void)state;
	link_wait(&backends[0]);
}

static void test_link_wait_multi(void **state)
{
	(void)state;
	link_wait(&backends[1]);
}

static void test_link_wait_rpmsg(void **state)
{
	(void)state;
	link_wait(&backends[2]);
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "child")) {
		for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
			if (!strcmp(argv[3], backends[i].name))
				return child_main(argv[2], &backends[i]);
		return 2;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_wait_icmsg),
		cmocka_unit_test(test_link_wait_multi),
		cmocka_unit_test(test_link_wait_rpmsg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
