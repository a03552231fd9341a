/*
 * ICMsg between two processes of the virtual SoC (APU and RPU0), through the IPC service API: each sends 100,000
 * messages with sequence numbers and checksums while receiving the peer's, for each start order.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <amplink/ipc_service.h>
#include <amplink/host/soc.h>
#include "child.h"

#define COUNT 100000u

static _Atomic int bound, bad, errors;
static _Atomic uint32_t received;

static uint32_t csum(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void on_bound(void *priv)
{
	(void)priv;
	atomic_store(&bound, 1);
}

static void on_received(const void *data, size_t len, void *priv)
{
	(void)priv;
	const uint8_t *p = data;
	uint32_t seq, sum;
	if (len < 8) {
		atomic_fetch_add(&bad, 1);
		return;
	}
	memcpy(&seq, p, 4);
	memcpy(&sum, p + 4, 4);
	if (seq != atomic_load(&received) || sum != csum(p + 8, len - 8))
		atomic_fetch_add(&bad, 1);
	atomic_fetch_add(&received, 1);
}

static void on_error(const char *msg, void *priv)
{
	(void)priv;
	fprintf(stderr, "error callback: %s\n", msg);
	atomic_fetch_add(&errors, 1);
}

static int run(const char *soc_name, const char *agent, const char *inst)
{
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	if (ampl_soc_open(soc_name, &soc))
		return 10;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	if (ampl_agent_attach(soc, agent, &o, &ag)) {
		fprintf(stderr, "%s: attach: %s\n", agent, ampl_soc_last_error());
		return 11;
	}
	const struct ampl_device *dev;
	if (ampl_agent_ipc_instance(ag, inst, &dev)) {
		fprintf(stderr, "%s: instance: %s\n", agent, ampl_soc_last_error());
		return 12;
	}
	struct ipc_ept ept = { 0 };
	struct ipc_ept_cfg cfg = { .name = "stream", .cb = { .bound = on_bound, .received = on_received,
							     .error = on_error } };
	if (ipc_service_open_instance(dev) || ipc_service_register_endpoint(dev, &ept, &cfg))
		return 13;
	for (int i = 0; i < 10000 && !atomic_load(&bound); i++)
		usleep(1000);
	if (!atomic_load(&bound)) {
		fprintf(stderr, "%s: not bound\n", agent);
		return 14;
	}
	static uint8_t buf[2048];
	unsigned salt = agent[0] == 'a' ? 7u : 13u;
	for (uint32_t seq = 0; seq < COUNT; seq++) {
		size_t len = 8 + (seq * salt) % 1000u;
		for (size_t i = 8; i < len; i++)
			buf[i] = (uint8_t)(seq ^ i ^ salt);
		uint32_t sum = csum(buf + 8, len - 8);
		memcpy(buf, &seq, 4);
		memcpy(buf + 4, &sum, 4);
		int r;
		while ((r = ipc_service_send(&ept, buf, len)) == -ENOMEM)
			sched_yield();
		if (r != (int)len) {
			fprintf(stderr, "%s: send %u: %d\n", agent, seq, r);
			return 15;
		}
	}
	for (int i = 0; i < 60000 && atomic_load(&received) < COUNT; i++)
		usleep(1000);
	if (atomic_load(&received) != COUNT || atomic_load(&bad) || atomic_load(&errors)) {
		fprintf(stderr, "%s: received %u bad %d errors %d\n", agent, atomic_load(&received), atomic_load(&bad),
			atomic_load(&errors));
		return 16;
	}
	/* Stay until the peer has everything too (it reports through its exit status). */
	usleep(200000);
	ipc_service_deregister_endpoint(&ept);
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	printf("%s: sent and received %u messages\n", agent, COUNT);
	return 0;
}

static pid_t spawn(const char *soc, const char *agent, const char *inst)
{
	fflush(NULL);
	pid_t pid = test_fork();
	if (pid == 0)
		_exit(run(soc, agent, inst));
	return pid;
}

int main(void)
{
	int fails = 0;
	for (int order = 0; order < 2; order++) {
		char name[64];
		snprintf(name, sizeof(name), "t-icmsg-procs-%d-%d", (int)getpid(), order);
		if (ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0)) {
			fprintf(stderr, "soc create: %s\n", ampl_soc_last_error());
			return 1;
		}
		pid_t a, b;
		if (order == 0) {
			a = spawn(name, "apu", "ipc_icmsg_apu");
			usleep(50000);
			b = spawn(name, "rpu0", "ipc_icmsg_rpu0");
		} else {
			b = spawn(name, "rpu0", "ipc_icmsg_rpu0");
			usleep(50000);
			a = spawn(name, "apu", "ipc_icmsg_apu");
		}
		int sa, sb;
		waitpid(a, &sa, 0);
		waitpid(b, &sb, 0);
		ampl_soc_destroy(name);
		bool ok = WIFEXITED(sa) && !WEXITSTATUS(sa) && WIFEXITED(sb) && !WEXITSTATUS(sb);
		printf("order %s first: %s (apu status 0x%x, rpu0 status 0x%x)\n", order ? "rpu0" : "apu",
		       ok ? "ok" : "FAILED", sa, sb);
		fails += !ok;
	}
	return fails ? 1 : 0;
}
