/*
 * ICMsg between a Linux process and amplink firmware running on a Cortex-M4 under QEMU (mps2-an386), both sides
 * the library's own code, the rings in the window QEMU shares with this process. For each doorbell mode (polled,
 * then UART interrupts): 1,000 asks one at a time (round trip measured), then 1,000 streamed with up to 16 in
 * flight; every ask carries a sequence number and a checksum that the firmware checks, every answer the
 * firmware's own bytes and checksum that this side checks. The firmware's exit code is its verdict.
 * Exits 77 (skipped) without the firmware image or qemu-system-arm, saying why; timings are reported, never
 * asserted.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <amplink/ipc/ipc_icmsg.h>
#include <amplink/ipc_service.h>

#include "icmsg_echo.h"
#include "sim/emu_link.h"

#define COUNT 1000u
#define IN_FLIGHT 16u
#define WAIT_MS 10000u /* bound of every wait: generous, the machine is shared */
#define SKIP 77

struct run {
	struct ampl_emu_link link;
	bool caller_polls;
	atomic_bool bound;
	_Atomic uint32_t answers; /* answers received (checked or not) */
	atomic_uint bad;          /* answers that failed a check */
	uint32_t next_seq;        /* the sequence number the next answer must carry */
	char first_bad[160];
};

static struct run run;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void note_bad(const char *what, uint32_t seq, unsigned v)
{
	if (atomic_fetch_add(&run.bad, 1u) == 0)
		snprintf(run.first_bad, sizeof(run.first_bad), "answer %u: %s (%u)", seq, what, v);
}

static void on_bound(void *priv)
{
	(void)priv;
	atomic_store(&run.bound, true);
}

/* The link's receive thread (interrupt mode) or this thread inside ampl_emu_link_poll() (polling mode). */
static void on_received(const void *data, size_t len, void *priv)
{
	const uint8_t *m = data;
	uint32_t seq = run.next_seq++;
	uint8_t st = echo_check(m, len, ECHO_KIND_ANSWER, seq);

	(void)priv;
	if (st != ECHO_OK) {
		note_bad("malformed", seq, st);
	} else if (m[7] != ECHO_OK) {
		note_bad("the firmware rejected the ask, status", seq, m[7]);
	} else {
		uint32_t n = (uint32_t)m[4] | (uint32_t)m[5] << 8;
		uint8_t ask[ECHO_MAX_PAYLOAD];
		for (uint32_t i = 0; i < echo_len(seq); i++)
			ask[i] = echo_pattern(seq, i);
		if (n != echo_len(seq))
			note_bad("payload length", seq, n);
		else
			for (uint32_t i = 0; i < n; i++)
				if (m[ECHO_HDR + i] != echo_answer_byte(ask, n, i)) {
					note_bad("payload byte", seq, i);
					break;
				}
	}
	atomic_fetch_add(&run.answers, 1u);
	ampl_os_wake(&run.answers);
}

/* Wait until answers >= @n; false after WAIT_MS. */
static bool wait_answers(uint32_t n)
{
	uint64_t deadline = now_ns() + WAIT_MS * 1000000ull;
	uint32_t seen;
	while ((seen = atomic_load(&run.answers)) < n) {
		if (now_ns() > deadline)
			return false;
		if (run.caller_polls) {
			if (ampl_emu_link_poll(&run.link) < 0)
				return false;
		} else {
			ampl_os_wait(&run.answers, seen, 1000);
		}
	}
	return true;
}

static int send_ask(struct ipc_ept *ept, uint32_t seq)
{
	uint8_t msg[ECHO_HDR + ECHO_MAX_PAYLOAD + ECHO_SUM];
	uint32_t len = echo_len(seq);
	for (uint32_t i = 0; i < len; i++)
		msg[ECHO_HDR + i] = echo_pattern(seq, i);
	size_t total = echo_seal(msg, seq, len, ECHO_KIND_ASK, 0);
	uint64_t deadline = now_ns() + WAIT_MS * 1000000ull;
	int r;
	while ((r = ipc_service_send(ept, msg, total)) == -ENOMEM && now_ns() < deadline) {
		if (run.caller_polls)
			(void)ampl_emu_link_poll(&run.link);
		else
			sched_yield();
	}
	return r < 0 ? r : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* One mode: 0 passed, 1 failed. */
static int run_mode(const char *elf, uint32_t mode)
{
	const char *name = mode == AMPL_EMU_DOORBELL_POLL ? "polling" : "interrupts";
	static uint64_t rtt[COUNT];
	struct ampl_emu_qemu q;
	char err[256];
	int failed = 1;

	memset(&run, 0, sizeof(run));
	run.caller_polls = mode == AMPL_EMU_DOORBELL_POLL;
	struct ampl_emu_qemu_config cfg = { .kernel = elf, .doorbell = mode };
	uint64_t t_start = now_ns();
	int r = ampl_emu_qemu_start(&q, &cfg, err, sizeof(err));
	if (r) {
		printf("FAIL %s: starting the firmware: %s (%d)\n", name, err, r);
		return 1;
	}
	printf("%s: firmware ready after %.0f ms\n", name, (double)(now_ns() - t_start) / 1e6);
	r = ampl_emu_link_start(&run.link, "/emu-doorbell", &q, !run.caller_polls);
	if (r) {
		printf("FAIL %s: doorbell controller: %d\n", name, r);
		ampl_emu_qemu_kill(&q);
		return 1;
	}

	static uint8_t rx_buf[ECHO_RX_BUF];
	struct ipc_icmsg_config icfg = {
		.icmsg = {
			.tx_mem = (uint8_t *)q.window + ECHO_RING_TO_FW,
			.tx_size = ECHO_RING_SIZE,
			.rx_mem = (uint8_t *)q.window + ECHO_RING_TO_HOST,
			.rx_size = ECHO_RING_SIZE,
			.unbound_mode = ICMSG_UNBOUND_MODE_DISABLE,
			.size_ext = true, /* both ends tell their receive limit (amplink,max-packet-ext) */
			.tx_chan = &run.link.chans[0],
			.rx_chan = &run.link.chans[1],
			.rx_buf = rx_buf,
			.rx_buf_size = sizeof(rx_buf),
		},
	};
	static struct ipc_icmsg_data idata;
	static struct device_state dstate;
	memset(&idata, 0, sizeof(idata));
	memset(&dstate, 0, sizeof(dstate));
	struct device inst = { .name = "ipc-icmsg-emu", .api = &ipc_icmsg_backend, .config = &icfg, .data = &idata,
			       .state = &dstate };
	struct ipc_ept ept;
	const struct ipc_ept_cfg ecfg = { .name = "echo", .cb = { .bound = on_bound, .received = on_received } };
	r = ipc_service_open_instance(&inst);
	if (!r)
		r = ipc_service_register_endpoint(&inst, &ept, &ecfg);
	if (r) {
		printf("FAIL %s: opening the ICMsg endpoint: %d\n", name, r);
		goto out_link;
	}
	uint64_t deadline = now_ns() + WAIT_MS * 1000000ull;
	while (!atomic_load(&run.bound) && now_ns() < deadline)
		if (!run.caller_polls || ampl_emu_link_poll(&run.link) == 0)
			sched_yield();
	if (!atomic_load(&run.bound)) {
		printf("FAIL %s: the link did not bind within %u ms\n", name, WAIT_MS);
		goto out_ept;
	}

	/* Round trips: one ask at a time. */
	uint32_t seq = 0;
	for (uint32_t i = 0; i < COUNT; i++, seq++) {
		uint64_t t0 = now_ns();
		r = send_ask(&ept, seq);
		if (r) {
			printf("FAIL %s: ask %u: send %d\n", name, seq, r);
			goto out_ept;
		}
		if (!wait_answers(seq + 1)) {
			printf("FAIL %s: no answer to ask %u within %u ms\n", name, seq, WAIT_MS);
			goto out_ept;
		}
		rtt[i] = now_ns() - t0;
	}
	/* Stream: up to IN_FLIGHT asks outstanding, so both rings and both doorbells queue. */
	uint64_t t_stream = now_ns();
	for (uint32_t i = 0; i < COUNT; i++, seq++) {
		if (seq >= IN_FLIGHT && !wait_answers(seq - IN_FLIGHT + 1)) {
			printf("FAIL %s: stream stalled at ask %u (answers %u)\n", name, seq, atomic_load(&run.answers));
			goto out_ept;
		}
		r = send_ask(&ept, seq);
		if (r) {
			printf("FAIL %s: ask %u: send %d\n", name, seq, r);
			goto out_ept;
		}
	}
	if (!wait_answers(seq)) {
		printf("FAIL %s: %u of %u answers within %u ms\n", name, atomic_load(&run.answers), seq, WAIT_MS);
		goto out_ept;
	}
	double stream_s = (double)(now_ns() - t_stream) / 1e9;
	uint32_t fw_asks = atomic_load(&q.boot->app[ECHO_APP_ASKS]);

	qsort(rtt, COUNT, sizeof(rtt[0]), cmp_u64);
	printf("%s: round trip p50 %.1f us, p99 %.1f us, max %.1f us (%u asks); stream %.0f answers/s (%u asks, %u in "
	       "flight)\n",
	       name, (double)rtt[COUNT / 2] / 1e3, (double)rtt[COUNT * 99 / 100] / 1e3, (double)rtt[COUNT - 1] / 1e3,
	       COUNT, COUNT / stream_s, COUNT, IN_FLIGHT);
	if (atomic_load(&run.bad)) {
		printf("FAIL %s: %u bad answers; first: %s\n", name, atomic_load(&run.bad), run.first_bad);
	} else if (fw_asks != seq) {
		printf("FAIL %s: the firmware counted %u asks, %u were sent\n", name, fw_asks, seq);
	} else {
		failed = 0;
	}
out_ept:
	ipc_service_deregister_endpoint(&ept);
out_link:
	ampl_emu_link_stop(&run.link);
	int code;
	r = ampl_emu_qemu_stop(&q, WAIT_MS, &code);
	if (r) {
		printf("FAIL %s: the firmware did not exit within %u ms (QEMU killed)\n", name, WAIT_MS);
		failed = 1;
	} else if (code != ECHO_EXIT_OK) {
		printf("FAIL %s: the firmware exited with %d (icmsg_echo.h ECHO_EXIT_*)\n", name, code);
		failed = 1;
	}
	if (!failed)
		printf("ok %s: %u asks and %u answers checked on both sides, firmware exit 0\n", name, seq, seq);
	return failed;
}

int main(void)
{
	const char *elf = getenv("AMPL_FW_ICMSG_ECHO");
	char why[256];

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!elf || !*elf) {
		printf("SKIPPED: the firmware was not built (arm-none-eabi-gcc not found when configuring; Debian "
		       "package gcc-arm-none-eabi)\n");
		return SKIP;
	}
	struct ampl_emu_qemu_config cfg = { 0 };
	if (ampl_emu_qemu_find(&cfg, why, sizeof(why))) {
		printf("SKIPPED: %s\n", why);
		return SKIP;
	}
	int failed = run_mode(elf, AMPL_EMU_DOORBELL_POLL);
	failed += run_mode(elf, AMPL_EMU_DOORBELL_IRQ);
	return failed ? 1 : 0;
}
