/*
 * The host side unchanged: a Linux process attached to the virtual SoC as the APU talks to RPU0 running as firmware
 * under QEMU with the ordinary APIs, through the bridge (src/sim/emu_bridge.c) and regions backed by the emulator's
 * RAM file. For each doorbell mode (polled, then UART interrupts):
 *   IPM    1,000 checksummed requests with ipm_send(wait) on the board's ipi_apu_rpu0, each answered by ipm_echo.elf
 *          through the IPI response buffer with its own checksummed words (checked here);
 *   ICMsg  1,000 checksummed messages on the board's ipc_icmsg_apu instance (ipc_service_* from the devicetree,
 *          rings in the backed region), each checked and echoed by icmsg_echo_soc.elf (`amplink demo`'s format,
 *          soc_echo.h), the echo checked here;
 *   RPMsg  the same on ipc_rpmsg_apu (the APU the virtio host) against rpmsg_remote_soc.elf, alternately on its
 *          name-service endpoints echo0 and echo1;
 *   multi  the same on ipc_multi_apu (APU <-> RPU1: the bridge is rpu1) against multi_soc.elf, echo1's messages
 *          sent zero-copy.
 * The _soc images are configured from the board's devicetree at build time (`amplink dt gen`), as this process is
 * at run time.
 * The firmware's exit code is its verdict on what it received. Round trips are printed, never asserted.
 * Exits 77 (skipped) without the firmware images or qemu-system-arm, saying why.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/ipc_service.h>
#include <amplink/ipm.h>
#include <amplink/soc.h>

#include "ipm_echo.h"
#include "soc_echo.h"
#include "sim/emu_bridge.h"

#define COUNT 1000u
#define WAIT_MS 10000u
#define SKIP 77

static char soc_name[64];

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct prep {
	struct ampl_emu_bridge_config *bcfg;
};

/* Before QEMU starts: the SoC backed by the window, and the mailbox area. */
static int prepare(struct ampl_emu_qemu *q, void *arg)
{
	struct prep *p = arg;
	struct ampl_soc_create_opts o = { .backing_path = q->shm_path, .backing_base = AMPL_EMU_DEFAULT_BOARD_BASE };
	ampl_soc_destroy(soc_name);
	int r = ampl_soc_create_opts(soc_name, &ampl_soc_zynqmp, NULL, 0, &o);
	if (r) {
		printf("soc create: %s\n", ampl_soc_last_error());
		return r;
	}
	return ampl_emu_bridge_write_mbox(q->window, p->bcfg);
}

/* ---- the IPC service backends (ICMsg, RPMsg, multi-endpoint) ---- */

enum kind { K_IPM, K_ICMSG, K_RPMSG, K_MULTI };

static const struct {
	const char *name, *elf_env, *agent, *apu_inst;
	unsigned nept;
} kinds[] = {
	[K_IPM] = { "ipm", "AMPL_FW_IPM_ECHO", "rpu0", NULL, 0 },
	[K_ICMSG] = { "icmsg", "AMPL_FW_ICMSG_ECHO_SOC", "rpu0", "ipc_icmsg_apu", 1 },
	[K_RPMSG] = { "rpmsg", "AMPL_FW_RPMSG_REMOTE_SOC", "rpu0", "ipc_rpmsg_apu", 2 },
	[K_MULTI] = { "multi", "AMPL_FW_MULTI_SOC", "rpu1", "ipc_multi_apu", 2 },
};

static struct {
	atomic_uint bound;
	_Atomic uint32_t answers;
	atomic_uint bad;
	pthread_mutex_t lock;
	size_t len;
	uint8_t msg[SOC_ECHO_MAX];
} ic = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void ic_bound(void *priv)
{
	(void)priv;
	atomic_fetch_add(&ic.bound, 1u);
}

static void ic_received(const void *data, size_t len, void *priv)
{
	(void)priv;
	pthread_mutex_lock(&ic.lock);
	ic.len = len <= sizeof(ic.msg) ? len : 0;
	if (ic.len)
		memcpy(ic.msg, data, len);
	pthread_mutex_unlock(&ic.lock);
	if (!soc_echo_ok(data, len))
		atomic_fetch_add(&ic.bad, 1u);
	atomic_fetch_add(&ic.answers, 1u);
}

static int run_ipc(struct ampl_agent *ag, enum kind k, const char *name, uint64_t *rtt)
{
	static const char *const names[2][2] = { { "echo", NULL }, { "echo0", "echo1" } };
	const struct device *inst;
	struct ipc_ept ept[2];
	unsigned nept = kinds[k].nept;
	ic.len = 0;
	atomic_store(&ic.bound, 0u);
	atomic_store(&ic.answers, 0u);
	atomic_store(&ic.bad, 0u);
	if (ampl_agent_ipc_instance(ag, kinds[k].apu_inst, &inst) || ipc_service_open_instance(inst)) {
		printf("FAIL %s: opening %s: %s\n", name, kinds[k].apu_inst, ampl_soc_last_error());
		return 1;
	}
	static struct ipc_ept_cfg ecfg[2]; /* the backend keeps the configuration */
	for (unsigned e = 0; e < nept; e++) {
		ecfg[e] = (struct ipc_ept_cfg){ .name = names[nept - 1][e],
						.cb = { .bound = ic_bound, .received = ic_received } };
		if (ipc_service_register_endpoint(inst, &ept[e], &ecfg[e])) {
			printf("FAIL %s: registering endpoint %s\n", name, ecfg[e].name);
			return 1;
		}
	}
	uint64_t deadline = now_ns() + WAIT_MS * 1000000ull;
	while (atomic_load(&ic.bound) < nept && now_ns() < deadline)
		usleep(100);
	if (atomic_load(&ic.bound) < nept) {
		printf("FAIL %s: %u of %u endpoints bound within %u ms\n", name, atomic_load(&ic.bound), nept, WAIT_MS);
		return 1;
	}
	uint32_t x = 0x9E3779B9u;
	for (uint32_t seq = 0; seq < COUNT; seq++) {
		uint8_t msg[SOC_ECHO_MAX];
		size_t len = soc_echo_build(msg, seq, &x);
		struct ipc_ept *e = &ept[seq % nept];
		uint64_t t0 = now_ns();
		int r;
		if (k == K_MULTI && (seq & 1u)) { /* echo1: zero-copy TX, as the demo sends it */
			void *buf;
			uint32_t sz = (uint32_t)len;
			r = ipc_service_get_tx_buffer(e, &buf, &sz, K_MSEC(1000));
			if (!r) {
				memcpy(buf, msg, len);
				r = ipc_service_send_nocopy(e, buf, len);
				if (r < 0)
					ipc_service_drop_tx_buffer(e, buf);
			}
		} else {
			while ((r = ipc_service_send(e, msg, len)) == -ENOMEM && now_ns() < deadline)
				sched_yield();
		}
		if (r != (int)len) {
			printf("FAIL %s: message %u: send %d\n", name, seq, r);
			return 1;
		}
		deadline = now_ns() + WAIT_MS * 1000000ull;
		while (atomic_load(&ic.answers) <= seq) {
			if (now_ns() > deadline) {
				printf("FAIL %s: no echo of message %u within %u ms\n", name, seq, WAIT_MS);
				return 1;
			}
			ampl_cpu_relax();
		}
		rtt[seq] = now_ns() - t0;
		pthread_mutex_lock(&ic.lock);
		bool same = ic.len == len && !memcmp(ic.msg, msg, len);
		pthread_mutex_unlock(&ic.lock);
		if (!same) {
			printf("FAIL %s: message %u: the echo differs (%zu bytes, %zu sent)\n", name, seq, ic.len, len);
			return 1;
		}
	}
	int r = ipc_service_send(&ept[0], "STOP", 4); /* the firmware exits on it */
	if (r != 4)
		printf("note %s: STOP not sent (%d): the stop word ends the firmware\n", name, r);
	for (unsigned e = 0; e < nept; e++)
		ipc_service_deregister_endpoint(&ept[e]);
	if (atomic_load(&ic.bad)) {
		printf("FAIL %s: %u echoes with a bad checksum\n", name, atomic_load(&ic.bad));
		return 1;
	}
	return 0;
}

/* ---- IPM ---- */

static int run_ipm(struct ampl_agent *ag, const char *name, uint64_t *rtt)
{
	(void)ag;
	const struct device *dev = ampl_device_get_by_label("ipi_apu_rpu0");
	if (!device_is_ready(dev)) {
		printf("FAIL %s ipm: no device ipi_apu_rpu0\n", name);
		return 1;
	}
	uint32_t x = 0x9E3779B9u;
	for (uint32_t seq = 0; seq < COUNT; seq++) {
		uint32_t req[IPM_ECHO_WORDS], resp[IPM_ECHO_WORDS];
		ipm_echo_request(req, seq, &x);
		uint64_t t0 = now_ns();
		int r = ipm_send(dev, 1, 0, req, sizeof(req));
		rtt[seq] = now_ns() - t0;
		if (r) {
			printf("FAIL %s ipm: request %u: ipm_send %d\n", name, seq, r);
			return 1;
		}
		xlnx_ipi_response_read(dev, resp, sizeof(resp));
		if (!ipm_echo_check(req, resp)) {
			printf("FAIL %s ipm: request %u: wrong response (seq %u)\n", name, seq, resp[0]);
			return 1;
		}
	}
	return 0;
}

/* One firmware in one doorbell mode: 0 passed, 1 failed. */
static int run(const char *elf, enum kind k, uint32_t mode)
{
	bool ipm = k == K_IPM;
	char name[64], err[256];
	static uint64_t rtt[COUNT];
	snprintf(name, sizeof(name), "%s %s", kinds[k].name, mode == AMPL_EMU_DOORBELL_POLL ? "polling" : "interrupts");
	snprintf(soc_name, sizeof(soc_name), "fw-bridge-%d", (int)getpid());
	struct ampl_emu_bridge_config bcfg = {
		.soc = soc_name, .agent = kinds[k].agent, .remotes = { "apu" },
		.modes = { ipm ? AMPL_EMU_CHAN_REQUEST : AMPL_EMU_CHAN_DOORBELL }, .num_chans = 1,
		.mode = mode == AMPL_EMU_DOORBELL_POLL ? AMPL_WAIT_ADAPTIVE : AMPL_WAIT_BLOCK,
	};
	struct prep p = { &bcfg };
	struct ampl_emu_qemu_config qcfg = { .kernel = elf, .doorbell = mode, .prepare = prepare, .prepare_arg = &p,
					     .quiet = true };
	struct ampl_emu_qemu q;
	struct ampl_emu_bridge b;
	struct ampl_soc *soc = NULL;
	struct ampl_agent *ag = NULL;
	int failed = 1;
	int r = ampl_emu_qemu_start(&q, &qcfg, err, sizeof(err));
	if (r) {
		printf("FAIL %s: starting the firmware: %s (%d)\n", name, err, r);
		ampl_soc_destroy(soc_name);
		return 1;
	}
	r = ampl_emu_bridge_start(&b, &bcfg, &q);
	if (r) {
		printf("FAIL %s: bridge: %s (%d)\n", name, ampl_soc_last_error(), r);
		goto out_qemu;
	}
	/* The APU exactly as in the host-only demo: open the SoC, attach, use the devicetree's devices. */
	struct ampl_agent_opts opts = { .mode = AMPL_WAIT_ADAPTIVE, .ack_timeout_us = WAIT_MS * 1000u };
	if (ampl_soc_open(soc_name, &soc) || ampl_agent_attach(soc, "apu", &opts, &ag)) {
		printf("FAIL %s: apu: %s\n", name, ampl_soc_last_error());
		goto out_bridge;
	}
	failed = ipm ? run_ipm(ag, name, rtt) : run_ipc(ag, k, name, rtt);
	if (!failed) {
		qsort(rtt, COUNT, sizeof(rtt[0]), cmp_u64);
		printf("%s: round trip p50 %.1f us, p99 %.1f us, max %.1f us (%u messages each way); bridge %u to the "
		       "firmware, %u to the host, %u errors\n", name, rtt[COUNT / 2] / 1e3, rtt[COUNT * 99 / 100] / 1e3,
		       rtt[COUNT - 1] / 1e3, COUNT, atomic_load(&b.to_fw), atomic_load(&b.to_host),
		       atomic_load(&b.errors));
		uint32_t fw_n = atomic_load(&q.boot->app[ipm ? IPM_ECHO_APP_REQS : SOC_ECHO_APP_ECHOED]);
		if (fw_n != COUNT) {
			printf("FAIL %s: the firmware counted %u messages, %u were sent\n", name, fw_n, COUNT);
			failed = 1;
		}
		uint32_t fw_bad = ipm ? 0 : atomic_load(&q.boot->app[SOC_ECHO_APP_BAD]);
		if (fw_bad) {
			printf("FAIL %s: the firmware found %u bad messages\n", name, fw_bad);
			failed = 1;
		}
		if (atomic_load(&b.errors)) {
			printf("FAIL %s: the bridge counted %u protocol errors\n", name, atomic_load(&b.errors));
			failed = 1;
		}
	}
	ampl_agent_detach(ag);
out_bridge:
	if (soc)
		ampl_soc_close(soc);
	ampl_emu_bridge_stop(&b);
out_qemu:;
	int code;
	r = ampl_emu_qemu_stop(&q, WAIT_MS, &code);
	if (r) {
		printf("FAIL %s: the firmware did not exit within %u ms (QEMU killed)\n", name, WAIT_MS);
		failed = 1;
	} else if (code != 0) {
		printf("FAIL %s: the firmware exited with %d\n", name, code);
		failed = 1;
	}
	ampl_soc_destroy(soc_name);
	if (!failed)
		printf("ok %s: %u messages each way checked on both sides, firmware exit 0\n", name, COUNT);
	return failed;
}

int main(void)
{
	const char *elf[4];
	char why[256];
	setvbuf(stdout, NULL, _IONBF, 0);
	for (unsigned k = 0; k < 4; k++) {
		elf[k] = getenv(kinds[k].elf_env);
		if (!elf[k] || !*elf[k]) {
			printf("SKIPPED: the firmware was not built (arm-none-eabi-gcc not found when configuring; Debian "
			       "package gcc-arm-none-eabi)\n");
			return SKIP;
		}
	}
	struct ampl_emu_qemu_config cfg = { 0 };
	if (ampl_emu_qemu_find(&cfg, why, sizeof(why))) {
		printf("SKIPPED: %s\n", why);
		return SKIP;
	}
	/* AMPL_FW_BRIDGE_ONLY=ipm|icmsg|rpmsg|multi: one backend (while investigating). */
	const char *only = getenv("AMPL_FW_BRIDGE_ONLY");
	int failed = 0;
	for (unsigned k = 0; k < 4; k++) {
		if (only && *only && strcmp(only, kinds[k].name))
			continue;
		failed += run(elf[k], (enum kind)k, AMPL_EMU_DOORBELL_POLL);
		failed += run(elf[k], (enum kind)k, AMPL_EMU_DOORBELL_IRQ);
	}
	return failed ? 1 : 0;
}
