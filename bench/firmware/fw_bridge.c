/* The APU against RPU0 firmware through the virtual SoC and the bridge: see fw_bridge.h. */
#include "fw_bridge.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/ipc_service.h>
#include <amplink/ipm.h>
#include <amplink/soc.h>

#define ECHO_VIA_SOC 1
#include "icmsg_echo.h"
#include "ipm_echo.h"
#include "sim/emu_bridge.h"

#define WAIT_MS FW_WAIT_MS
#define RTT_MAX 20000u

static char soc_name[64];

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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

/* What one run sent and measured. */
struct load {
	unsigned count;  /* round trips */
	double seconds;  /* stream time (0: none) */
	uint64_t *rtt;   /* count round trips, ns */
	uint32_t sent;   /* messages sent in all */
	uint64_t stream_msgs, stream_bytes;
	double stream_s;
};

/* ---- ICMsg ---- */

static struct {
	atomic_bool bound;
	_Atomic uint32_t answers;
	atomic_uint bad;
	uint32_t next_seq;
	char first_bad[160];
} ic;

static void ic_bound(void *priv)
{
	(void)priv;
	atomic_store(&ic.bound, true);
}

static void ic_received(const void *data, size_t len, void *priv)
{
	const uint8_t *m = data;
	uint32_t seq = ic.next_seq++;
	uint8_t st = echo_check(m, len, ECHO_KIND_ANSWER, seq);
	(void)priv;
	bool ok = st == ECHO_OK && m[7] == ECHO_OK;
	if (ok) {
		uint32_t n = (uint32_t)m[4] | (uint32_t)m[5] << 8;
		uint8_t ask[ECHO_MAX_PAYLOAD];
		for (uint32_t i = 0; i < echo_len(seq); i++)
			ask[i] = echo_pattern(seq, i);
		ok = n == echo_len(seq);
		for (uint32_t i = 0; ok && i < n; i++)
			ok = m[ECHO_HDR + i] == echo_answer_byte(ask, n, i);
	}
	if (!ok && atomic_fetch_add(&ic.bad, 1u) == 0)
		snprintf(ic.first_bad, sizeof(ic.first_bad), "answer %u: status %u/%u", seq, st, len > 7 ? m[7] : 0);
	atomic_fetch_add(&ic.answers, 1u);
}

/* Send ask @seq (retrying while the ring is full, until @deadline); its length in *@total. Return: 0 or the code. */
static int ic_send(struct ipc_ept *ept, uint32_t seq, uint64_t deadline, size_t *total)
{
	uint8_t msg[ECHO_HDR + ECHO_MAX_PAYLOAD + ECHO_SUM];
	uint32_t len = echo_len(seq);
	for (uint32_t i = 0; i < len; i++)
		msg[ECHO_HDR + i] = echo_pattern(seq, i);
	*total = echo_seal(msg, seq, len, ECHO_KIND_ASK, 0);
	int r;
	while ((r = ipc_service_send(ept, msg, *total)) == -ENOMEM && now_ns() < deadline)
		sched_yield();
	return r < 0 ? r : 0;
}

/* Wait until @n answers have come; false after WAIT_MS. */
static bool ic_wait(uint32_t n)
{
	uint64_t deadline = now_ns() + WAIT_MS * 1000000ull;
	while (atomic_load(&ic.answers) < n) {
		if (now_ns() > deadline)
			return false;
		ampl_cpu_relax();
	}
	return true;
}

static int run_icmsg(struct ampl_agent *ag, const char *name, struct load *ld)
{
	const struct device *inst;
	struct ipc_ept ept;
	const struct ipc_ept_cfg ecfg = { .name = "echo", .cb = { .bound = ic_bound, .received = ic_received } };
	size_t total;
	memset(&ic, 0, sizeof(ic));
	if (ampl_agent_ipc_instance(ag, "ipc_icmsg_apu", &inst) || ipc_service_open_instance(inst) ||
	    ipc_service_register_endpoint(inst, &ept, &ecfg)) {
		printf("FAIL %s icmsg: opening ipc_icmsg_apu: %s\n", name, ampl_soc_last_error());
		return 1;
	}
	uint64_t deadline = now_ns() + WAIT_MS * 1000000ull;
	while (!atomic_load(&ic.bound) && now_ns() < deadline)
		usleep(100);
	if (!atomic_load(&ic.bound)) {
		printf("FAIL %s icmsg: not bound within %u ms\n", name, WAIT_MS);
		return 1;
	}
	uint32_t seq = 0;
	for (; seq < ld->count; seq++) {
		uint64_t t0 = now_ns();
		int r = ic_send(&ept, seq, now_ns() + WAIT_MS * 1000000ull, &total);
		if (r < 0) {
			printf("FAIL %s icmsg: ask %u: send %d\n", name, seq, r);
			return 1;
		}
		if (!ic_wait(seq + 1u)) {
			printf("FAIL %s icmsg: no answer to ask %u within %u ms\n", name, seq, WAIT_MS);
			return 1;
		}
		ld->rtt[seq] = now_ns() - t0;
	}
	/* The stream: up to FW_IN_FLIGHT asks outstanding for ld->seconds. */
	uint64_t t0 = now_ns(), until = t0 + (uint64_t)(ld->seconds * 1e9);
	for (uint32_t k = 0; ld->seconds > 0 && (k == 0 || now_ns() < until); k++, seq++) {
		if (seq - atomic_load(&ic.answers) >= FW_IN_FLIGHT && !ic_wait(seq - FW_IN_FLIGHT + 1u)) {
			printf("FAIL %s icmsg: stream stalled at ask %u\n", name, seq);
			return 1;
		}
		int r = ic_send(&ept, seq, now_ns() + WAIT_MS * 1000000ull, &total);
		if (r < 0) {
			printf("FAIL %s icmsg: ask %u: send %d\n", name, seq, r);
			return 1;
		}
		ld->stream_msgs++;
		ld->stream_bytes += total;
	}
	if (!ic_wait(seq)) {
		printf("FAIL %s icmsg: %u of %u asks answered within %u ms\n", name, atomic_load(&ic.answers), seq,
		       WAIT_MS);
		return 1;
	}
	ld->stream_s = (double)(now_ns() - t0) / 1e9;
	ld->sent = seq;
	ipc_service_deregister_endpoint(&ept);
	if (atomic_load(&ic.bad)) {
		printf("FAIL %s icmsg: %u bad answers; first: %s\n", name, atomic_load(&ic.bad), ic.first_bad);
		return 1;
	}
	return 0;
}

/* ---- IPM ---- */

/* Request @seq with ipm_send(wait), its response checked. Return: 0 or 1 (printed). */
static int ipm_one(const struct device *dev, const char *name, uint32_t seq, uint32_t *x, uint64_t *ns)
{
	uint32_t req[IPM_ECHO_WORDS], resp[IPM_ECHO_WORDS];
	ipm_echo_request(req, seq, x);
	uint64_t t0 = now_ns();
	int r = ipm_send(dev, 1, 0, req, sizeof(req));
	*ns = now_ns() - t0;
	if (r) {
		printf("FAIL %s ipm: request %u: ipm_send %d\n", name, seq, r);
		return 1;
	}
	xlnx_ipi_response_read(dev, resp, sizeof(resp));
	if (!ipm_echo_check(req, resp)) {
		printf("FAIL %s ipm: request %u: wrong response (seq %u)\n", name, seq, resp[0]);
		return 1;
	}
	return 0;
}

static int run_ipm(struct ampl_agent *ag, const char *name, struct load *ld)
{
	(void)ag;
	const struct device *dev = ampl_device_get_by_label("ipi_apu_rpu0");
	if (!device_is_ready(dev)) {
		printf("FAIL %s ipm: no device ipi_apu_rpu0\n", name);
		return 1;
	}
	uint32_t x = 0x9E3779B9u, seq = 0;
	uint64_t ns;
	for (; seq < ld->count; seq++)
		if (ipm_one(dev, name, seq, &x, &ld->rtt[seq]))
			return 1;
	/* The stream: one request at a time (the IPI buffer holds one), for ld->seconds. */
	uint64_t t0 = now_ns(), until = t0 + (uint64_t)(ld->seconds * 1e9);
	for (uint32_t k = 0; ld->seconds > 0 && (k == 0 || now_ns() < until); k++, seq++) {
		if (ipm_one(dev, name, seq, &x, &ns))
			return 1;
		ld->stream_msgs++;
		ld->stream_bytes += IPM_ECHO_WORDS * 4u;
	}
	ld->stream_s = (double)(now_ns() - t0) / 1e9;
	ld->sent = seq;
	return 0;
}

int fw_bridge_run(const char *elf, bool ipm, uint32_t mode, unsigned count, double seconds, bool quiet,
		  struct fw_figures *out)
{
	char name[64], err[256];
	static uint64_t rtt[RTT_MAX];
	struct load ld = { .count = count < RTT_MAX ? count : RTT_MAX, .seconds = seconds, .rtt = rtt };
	snprintf(name, sizeof(name), "%s %s", ipm ? "ipm" : "icmsg", mode == AMPL_EMU_DOORBELL_POLL ? "polling" : "interrupts");
	snprintf(soc_name, sizeof(soc_name), "fw-bridge-%d", (int)getpid());
	struct ampl_emu_bridge_config bcfg = {
		.soc = soc_name, .agent = "rpu0", .remotes = { "apu" },
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
	if (out)
		memset(out, 0, sizeof(*out));
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
	failed = ipm ? run_ipm(ag, name, &ld) : run_icmsg(ag, name, &ld);
	if (!failed) {
		struct fw_figures f = { 0 };
		fw_percentiles(rtt, ld.count, &f);
		f.stream_msgs = ld.stream_msgs;
		f.msgs_per_s = ld.stream_s > 0 ? ld.stream_msgs / ld.stream_s : 0;
		f.mb_per_s = ld.stream_s > 0 ? ld.stream_bytes / ld.stream_s / 1e6 : 0;
		if (out)
			*out = f;
		if (!quiet)
			printf("%s: round trip p50 %.1f us, p99 %.1f us, max %.1f us (%u messages each way); bridge %u to "
			       "the firmware, %u to the host, %u errors\n", name, f.p50, f.p99, f.max, ld.sent,
			       atomic_load(&b.to_fw), atomic_load(&b.to_host), atomic_load(&b.errors));
		uint32_t fw_n = atomic_load(&q.boot->app[ipm ? IPM_ECHO_APP_REQS : ECHO_APP_ASKS]);
		if (fw_n != ld.sent) {
			printf("FAIL %s: the firmware counted %u messages, %u were sent\n", name, fw_n, ld.sent);
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
	if (!failed && !quiet)
		printf("ok %s: %u messages each way checked on both sides, firmware exit 0\n", name, ld.sent);
	return failed;
}
