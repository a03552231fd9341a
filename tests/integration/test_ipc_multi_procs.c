/*
 * The multi-endpoint backend between two processes of the virtual SoC (APU and RPU1), through the IPC service API:
 * 3 endpoints, one sending thread per endpoint on each side, 100,002 messages in all with sequence numbers and
 * checksums. The APU sends zero-copy (get_tx_buffer + send_nocopy, or drop on error) and holds every buffer it
 * receives on endpoint 0, releasing it from its sending thread; RPU1 sends with copies. Both start orders.
 */
#include <errno.h>
#include <pthread.h>
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

#define NEPT 3
#define PER_EPT 16667u /* per endpoint and direction: 6 * 16667 = 100,002 messages */
#define HELD_RING 64

struct ep {
	struct ipc_ept ept;
	struct ipc_ept_cfg cfg;
	char name[8];
	int idx;
	bool zc_tx, hold_rx;
	_Atomic int bound;
	_Atomic uint32_t received, bad, errors;
	void *_Atomic held[HELD_RING];
	_Atomic uint32_t held_wr, held_rd;
	unsigned salt;
};

static uint32_t csum(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void on_bound(void *priv)
{
	atomic_store(&((struct ep *)priv)->bound, 1);
}

static void on_received(const void *data, size_t len, void *priv)
{
	struct ep *e = priv;
	const uint8_t *p = data;
	uint32_t seq, sum;
	if (len < 8) {
		atomic_fetch_add(&e->bad, 1);
		return;
	}
	memcpy(&seq, p, 4);
	memcpy(&sum, p + 4, 4);
	if (seq != atomic_load(&e->received) || sum != csum(p + 8, len - 8))
		atomic_fetch_add(&e->bad, 1);
	atomic_fetch_add(&e->received, 1);
	if (e->hold_rx) {
		uint32_t w = atomic_load(&e->held_wr);
		if (w - atomic_load(&e->held_rd) < HELD_RING &&
		    ipc_service_hold_rx_buffer(&e->ept, (void *)data) == 0) {
			atomic_store(&e->held[w % HELD_RING], (void *)data);
			atomic_store(&e->held_wr, w + 1);
		}
	}
}

static void on_error(const char *msg, void *priv)
{
	fprintf(stderr, "error callback: %s\n", msg);
	atomic_fetch_add(&((struct ep *)priv)->errors, 1);
}

static int release_held(struct ep *e)
{
	int bad = 0;
	while (atomic_load(&e->held_rd) != atomic_load(&e->held_wr)) {
		uint32_t r = atomic_load(&e->held_rd);
		bad += ipc_service_release_rx_buffer(&e->ept, atomic_load(&e->held[r % HELD_RING])) != 0;
		atomic_store(&e->held_rd, r + 1);
	}
	return bad;
}

static void *sender(void *p)
{
	struct ep *e = p;
	static __thread uint8_t buf[2048];
	for (uint32_t seq = 0; seq < PER_EPT;) {
		if (e->hold_rx && release_held(e))
			return (void *)1;
		size_t len = 8 + (seq * e->salt) % 700u;
		uint8_t *dst = buf;
		void *zb = NULL;
		if (e->zc_tx) {
			uint32_t sz = (uint32_t)len;
			int r = ipc_service_get_tx_buffer(&e->ept, &zb, &sz, AMPL_MSEC(10));
			if (r == -ENOBUFS)
				continue;
			if (r || sz < len) {
				fprintf(stderr, "%s: get_tx_buffer %d\n", e->name, r);
				return (void *)1;
			}
			dst = zb;
		}
		for (size_t i = 8; i < len; i++)
			dst[i] = (uint8_t)(seq ^ i ^ e->salt);
		uint32_t sum = csum(dst + 8, len - 8);
		memcpy(dst, &seq, 4);
		memcpy(dst + 4, &sum, 4);
		int r = zb ? ipc_service_send_nocopy(&e->ept, zb, len) : ipc_service_send(&e->ept, buf, len);
		if (r == -ENOMEM || r == -EBUSY) {
			if (zb && ipc_service_drop_tx_buffer(&e->ept, zb))
				return (void *)1;
			sched_yield();
			continue;
		}
		if (r != (int)len) {
			fprintf(stderr, "%s: send %u: %d\n", e->name, seq, r);
			return (void *)1;
		}
		seq++;
	}
	return NULL;
}

static int run(const char *soc_name, const char *agent, const char *inst)
{
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	bool apu = agent[0] == 'a';
	if (ampl_soc_open(soc_name, &soc))
		return 10;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	if (ampl_agent_attach(soc, agent, &o, &ag)) {
		fprintf(stderr, "%s: attach: %s\n", agent, ampl_soc_last_error());
		return 11;
	}
	const struct ampl_device *dev;
	if (ampl_agent_ipc_instance(ag, inst, &dev) || ipc_service_open_instance(dev)) {
		fprintf(stderr, "%s: instance: %s\n", agent, ampl_soc_last_error());
		return 12;
	}
	static struct ep eps[NEPT];
	for (int i = 0; i < NEPT; i++) {
		struct ep *e = &eps[i];
		snprintf(e->name, sizeof(e->name), "ep%d", apu ? i : NEPT - 1 - i); /* other registration order */
		e->idx = i;
		e->zc_tx = apu;
		e->hold_rx = apu && !strcmp(e->name, "ep0");
		e->salt = apu ? 7u : 13u;
		e->cfg = (struct ipc_ept_cfg){ .name = e->name,
					       .cb = { .bound = on_bound, .received = on_received, .error = on_error },
					       .priv = e };
		if (ipc_service_register_endpoint(dev, &e->ept, &e->cfg))
			return 13;
	}
	for (int i = 0; i < NEPT; i++) {
		for (int k = 0; k < 10000 && !atomic_load(&eps[i].bound); k++)
			usleep(1000);
		if (!atomic_load(&eps[i].bound)) {
			fprintf(stderr, "%s: %s not bound\n", agent, eps[i].name);
			return 14;
		}
	}
	pthread_t th[NEPT];
	for (int i = 0; i < NEPT; i++)
		pthread_create(&th[i], NULL, sender, &eps[i]);
	int fail = 0;
	for (int i = 0; i < NEPT; i++) {
		void *r;
		pthread_join(th[i], &r);
		fail |= r != NULL;
	}
	if (fail)
		return 15;
	for (int i = 0; i < NEPT; i++) {
		struct ep *e = &eps[i];
		for (int k = 0; k < 60000 && atomic_load(&e->received) < PER_EPT; k++) {
			if (e->hold_rx)
				release_held(e);
			usleep(1000);
		}
		if (e->hold_rx)
			release_held(e);
		if (atomic_load(&e->received) != PER_EPT || atomic_load(&e->bad) || atomic_load(&e->errors)) {
			fprintf(stderr, "%s: %s received %u bad %u errors %u\n", agent, e->name, atomic_load(&e->received),
				atomic_load(&e->bad), atomic_load(&e->errors));
			return 16;
		}
	}
	usleep(300000); /* until the peer has everything too (it reports through its exit status) */
	for (int i = 0; i < NEPT; i++)
		ipc_service_deregister_endpoint(&eps[i].ept);
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	printf("%s: sent and received %u messages on %d endpoints\n", agent, NEPT * PER_EPT, NEPT);
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
		snprintf(name, sizeof(name), "t-multi-procs-%d-%d", (int)getpid(), order);
		if (ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0)) {
			fprintf(stderr, "soc create: %s\n", ampl_soc_last_error());
			return 1;
		}
		pid_t a, b;
		if (order == 0) {
			a = spawn(name, "apu", "ipc_multi_apu");
			usleep(50000);
			b = spawn(name, "rpu1", "ipc_multi_rpu1");
		} else {
			b = spawn(name, "rpu1", "ipc_multi_rpu1");
			usleep(50000);
			a = spawn(name, "apu", "ipc_multi_apu");
		}
		int sa, sb;
		waitpid(a, &sa, 0);
		waitpid(b, &sb, 0);
		ampl_soc_destroy(name);
		bool ok = WIFEXITED(sa) && !WEXITSTATUS(sa) && WIFEXITED(sb) && !WEXITSTATUS(sb);
		printf("order %s first: %s (apu status 0x%x, rpu1 status 0x%x)\n", order ? "rpu1" : "apu",
		       ok ? "ok" : "FAILED", sa, sb);
		fails += !ok;
	}
	return fails ? 1 : 0;
}
