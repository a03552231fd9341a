/* The APU against RPU0 (RPU1 for multi) firmware through the virtual SoC and the bridge: see fw_bridge.h. */
#include "fw_bridge.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/host/dt.h>
#include <amplink/ipc_service.h>
#include <amplink/ipm.h>
#include <amplink/host/soc.h>

#include "ipm_echo.h"
#include "soc_echo.h"
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
	const void *dtb; /* the board's devicetree (NULL: the default board) */
	size_t dtb_size;
};

/* Before QEMU starts: the SoC backed by the window, and the mailbox area. */
static int prepare(struct ampl_emu_qemu *q, void *arg)
{
	struct prep *p = arg;
	struct ampl_soc_create_opts o = { .backing_path = q->shm_path, .backing_base = AMPL_EMU_DEFAULT_BOARD_BASE };
	ampl_soc_destroy(soc_name);
	int r = ampl_soc_create_opts(soc_name, &ampl_soc_zynqmp, p->dtb, p->dtb_size, &o);
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
	/* The reset case (IPC service backends): after the round trips, the firmware is reset through the bridge
	 * with messages in flight. */
	bool reset;
	struct ampl_emu_bridge *b;
	const struct ampl_emu_qemu_config *qcfg;
	struct ampl_emu_boot *qboot; /* the firmware's boot block (its words survive the reset) */
	uint32_t lost; /* messages in flight at the reset (and the rebind) that were never echoed */
	/* The rebind case (ICMsg and multi-endpoint, after the reset; not RPMsg: its firmware exited with 4 in two of
	 * four runs on a loaded machine, cause not found yet): this side closes its endpoints and instance mid-stream and
	 * opens them again while the firmware runs. */
	bool rebind;
};

/* ---- the IPC service backends (ICMsg, RPMsg, multi-endpoint) ---- */

static const struct bridge_kind {
	const char *name, *agent, *apu_inst;
	unsigned nept;
} kinds[] = {
	[FW_BRIDGE_IPM] = { "ipm", "rpu0", NULL, 0 },
	[FW_BRIDGE_ICMSG] = { "icmsg", "rpu0", "ipc_icmsg_apu", 1 },
	[FW_BRIDGE_RPMSG] = { "rpmsg", "rpu0", "ipc_rpmsg_apu", 2 },
	[FW_BRIDGE_MULTI] = { "multi", "rpu1", "ipc_multi_apu", 2 },
};

const char *fw_bridge_name(enum fw_bridge_kind k)
{
	return k < FW_BRIDGE_KINDS ? kinds[k].name : "?";
}

/* The messages outstanding (at most FW_IN_FLIGHT), by seq % SLOTS: each echo is compared with what was sent. */
#define SLOTS 32u
_Static_assert(SLOTS >= FW_IN_FLIGHT, "a slot per message outstanding");

static struct {
	atomic_uint bound, unbound;
	_Atomic uint32_t answers;
	atomic_uint bad;
	pthread_mutex_t lock;
	/* The reset case: echoes must come in the order sent (one ring, one answer per message, in order), each
	 * exactly the next one expected; at the reset, what was in flight is declared lost and skipped. */
	bool ordered;
	/* After a reset: a send refused because the endpoint is not bound (-EBUSY) is retried until the deadline (a
	 * late handshake of the new boot may unbind and rebind it once more; a refused message is never delivered). */
	atomic_bool retry_unbound;
	_Atomic uint32_t expect; /* the next sequence number expected */
	atomic_uint dups, gaps;
	struct {
		size_t len;
		uint8_t msg[SOC_ECHO_MAX];
	} sent[SLOTS];
	char first_bad[160];
} ic = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void ic_bound(void *priv)
{
	(void)priv;
	atomic_fetch_add(&ic.bound, 1u);
}

static void ic_unbound(void *priv)
{
	(void)priv;
	atomic_fetch_add(&ic.unbound, 1u);
}

static void ic_received(const void *data, size_t len, void *priv)
{
	const uint8_t *m = data;
	(void)priv;
	bool ok = soc_echo_ok(m, len);
	uint32_t seq = ok ? soc_echo_get32(m) : 0, expect = 0;
	const char *why = "a bad length or checksum";
	pthread_mutex_lock(&ic.lock);
	if (ok) {
		const uint8_t *sent = ic.sent[seq % SLOTS].msg;
		ok = ic.sent[seq % SLOTS].len == len && !memcmp(sent, m, len);
		why = "the echo differs from the message sent";
	}
	if (ok && ic.ordered) {
		expect = atomic_load(&ic.expect);
		if (seq < expect) {
			atomic_fetch_add(&ic.dups, 1u);
			ok = false;
			why = "delivered twice";
		} else if (seq > expect) {
			atomic_fetch_add(&ic.gaps, 1u);
			ok = false;
			why = "lost in the middle of a binding";
		}
		if (seq >= expect)
			atomic_store(&ic.expect, seq + 1u);
	}
	if (!ok && atomic_fetch_add(&ic.bad, 1u) == 0)
		snprintf(ic.first_bad, sizeof(ic.first_bad), "echo of message %u (next expected %u): %s (%zu bytes)", seq,
			 expect, why, len);
	/* Counted with the lock held, with ic.expect: a waiter that sees the last echo expected (ic_wait_expect())
	 * and then takes the lock (ic_count_check()) sees it counted too (the final count was one short twice: once
	 * counted after the unlock, once read without the lock). */
	atomic_fetch_add(&ic.answers, 1u);
	pthread_mutex_unlock(&ic.lock);
}

/* Send message @seq (built from the xorshift state *@x) on @e (multi's echo1: zero-copy TX, as the demo sends it),
 * retrying while the ring is full until @deadline; its length in *@total. Return: 0 or the code. */
static int ic_send(enum fw_bridge_kind k, struct ipc_ept *e, uint32_t seq, uint32_t *x, uint64_t deadline,
		   size_t *total)
{
	uint8_t msg[SOC_ECHO_MAX];
	size_t len = soc_echo_build(msg, seq, x);
	pthread_mutex_lock(&ic.lock);
	ic.sent[seq % SLOTS].len = len;
	memcpy(ic.sent[seq % SLOTS].msg, msg, len);
	pthread_mutex_unlock(&ic.lock);
	*total = len;
	int r;
	if (k == FW_BRIDGE_MULTI && (seq & 1u)) {
		void *buf;
		uint32_t sz = (uint32_t)len;
		r = ipc_service_get_tx_buffer(e, &buf, &sz, AMPL_MSEC(1000));
		if (!r) {
			memcpy(buf, msg, len);
			r = ipc_service_send_nocopy(e, buf, len);
			if (r < 0)
				ipc_service_drop_tx_buffer(e, buf);
		}
	} else {
		while (((r = ipc_service_send(e, msg, len)) == -ENOMEM ||
			(r == -EBUSY && atomic_load(&ic.retry_unbound))) &&
		       now_ns() < deadline)
			sched_yield();
	}
	return r == (int)len ? 0 : r < 0 ? r : -EIO;
}

/* Wait until @n echoes have come; false after WAIT_MS. */
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

/* Wait until every message below @seq was echoed (in order: ic.expect), or a reset declared it lost; false after
 * WAIT_MS. */
static bool ic_wait_expect(uint32_t seq)
{
	uint64_t deadline = now_ns() + WAIT_MS * 1000000ull;
	while (atomic_load(&ic.expect) < seq) {
		if (now_ns() > deadline)
			return false;
		ampl_cpu_relax();
	}
	return true;
}

static bool wait_count(atomic_uint *v, unsigned n)
{
	uint64_t deadline = now_ns() + WAIT_MS * 1000000ull;
	while (atomic_load(v) < n) {
		if (now_ns() > deadline)
			return false;
		usleep(100);
	}
	return true;
}

/* The echoes and the messages declared lost must add up to @end; else FAIL with what the ordering check saw (a
 * message skipped by a later echo is neither echoed nor lost: a gap). @when names the phase. Return: 0 or 1. */
static int ic_count_check(const char *name, uint32_t end, uint32_t lost, const char *when)
{
	/* Under the lock: the waiter saw ic.expect reach @end without it, and the receiver moves ic.expect before it
	 * counts the echo, both inside its hold of the lock; taking the lock waits for that count. */
	pthread_mutex_lock(&ic.lock);
	uint32_t answers = atomic_load(&ic.answers);
	pthread_mutex_unlock(&ic.lock);
	if (answers + lost == end)
		return 0;
	/* The binding counts tell a loss at a bind that came late (an unbind and bind more than the phases make). */
	printf("FAIL %s: %u echoes for %u messages, %u of them lost at %s; %u bad (%u gaps, %u twice)%s%s; this side's "
	       "endpoints bound %u times, unbound %u times\n",
	       name, answers, end, lost, when, atomic_load(&ic.bad), atomic_load(&ic.gaps), atomic_load(&ic.dups),
	       atomic_load(&ic.bad) ? "; first: " : "", atomic_load(&ic.bad) ? ic.first_bad : "", atomic_load(&ic.bound),
	       atomic_load(&ic.unbound));
	return 1;
}

/*
 * The reset case: FW_IN_FLIGHT messages sent without waiting, then the firmware reset through the bridge (its
 * agent offline, QEMU killed and started again on the same window, back online). Every endpoint here must go
 * unbound and bind again; then FW_RESUME more messages with up to FW_IN_FLIGHT outstanding, every one echoed, in
 * order. Those in flight at the reset that never came back are counted in ld->lost. Return: 0 or 1 (printed).
 */
static int ic_reset_phase(enum fw_bridge_kind k, struct ipc_ept *ept, unsigned nept, const char *name,
			  struct load *ld, uint32_t *seq, uint32_t *x)
{
	char err[256];
	size_t total;
	for (unsigned i = 0; i < FW_IN_FLIGHT; i++, (*seq)++) {
		int r = ic_send(k, &ept[*seq % nept], *seq, x, now_ns() + WAIT_MS * 1000000ull, &total);
		if (r < 0) {
			printf("FAIL %s: message %u: send %d\n", name, *seq, r);
			return 1;
		}
	}
	unsigned unb = atomic_load(&ic.unbound), bnd = atomic_load(&ic.bound);
	uint32_t in_flight = *seq - atomic_load(&ic.expect);
	uint64_t t0 = now_ns();
	/* The firmware dies: every endpoint here must go unbound, and sends must be refused, while it is down. */
	int r = ampl_emu_bridge_fw_down(ld->b);
	if (r) {
		printf("FAIL %s: taking the firmware down through the bridge: %s (%d)\n", name, ampl_soc_last_error(), r);
		return 1;
	}
	if (!wait_count(&ic.unbound, unb + nept)) {
		printf("FAIL %s: reset: %u of %u endpoints went unbound within %u ms of the firmware's death\n", name,
		       atomic_load(&ic.unbound) - unb, nept, WAIT_MS);
		return 1;
	}
	double unbound_ms = (double)(now_ns() - t0) / 1e6;
	for (unsigned e = 0; e < nept; e++) {
		uint8_t msg[SOC_ECHO_MAX];
		uint32_t y = *x;
		size_t len = soc_echo_build(msg, *seq, &y);
		r = ipc_service_send(&ept[e], msg, len);
		if (r >= 0) {
			printf("FAIL %s: reset: endpoint %u accepted a message (%d) while the firmware was down\n", name, e,
			       r);
			return 1;
		}
	}
	r = ampl_emu_bridge_restart(ld->b, ld->qcfg, err, sizeof(err));
	if (r) {
		printf("FAIL %s: restarting the firmware through the bridge: %s (%d)\n", name, err, r);
		return 1;
	}
	double restart_ms = (double)(now_ns() - t0) / 1e6;
	if (!wait_count(&ic.bound, bnd + nept)) {
		printf("FAIL %s: reset: %u of %u endpoints bound again within %u ms\n", name,
		       atomic_load(&ic.bound) - bnd, nept, WAIT_MS);
		return 1;
	}
	double bound_ms = (double)(now_ns() - t0) / 1e6;
	/* What was in flight and did not come back is lost: the next echo must be that of the first message sent
	 * after the reset (a late echo of a lost one would be a message delivered twice). */
	pthread_mutex_lock(&ic.lock);
	uint32_t echoed = atomic_load(&ic.expect);
	ld->lost = *seq - echoed;
	atomic_store(&ic.expect, *seq);
	pthread_mutex_unlock(&ic.lock);
	atomic_store(&ic.retry_unbound, true);
	printf("%s: reset: %u messages sent without waiting, %u of them unanswered when QEMU was killed; every "
	       "endpoint unbound %.1f ms later and sends refused, restarted and ready at %.0f ms, bound again at %.0f "
	       "ms; %u lost (in flight)\n",
	       name, FW_IN_FLIGHT, in_flight, unbound_ms, restart_ms, bound_ms, ld->lost);
	uint32_t end = *seq + FW_RESUME;
	for (; *seq < end; (*seq)++) {
		if (*seq - atomic_load(&ic.expect) >= FW_IN_FLIGHT && !ic_wait_expect(*seq - FW_IN_FLIGHT + 1u)) {
			printf("FAIL %s: after the reset: stalled at message %u (next echo expected %u)\n", name, *seq,
			       atomic_load(&ic.expect));
			return 1;
		}
		r = ic_send(k, &ept[*seq % nept], *seq, x, now_ns() + WAIT_MS * 1000000ull, &total);
		if (r < 0) {
			printf("FAIL %s: after the reset: message %u: send %d\n", name, *seq, r);
			return 1;
		}
	}
	if (!ic_wait_expect(end)) {
		printf("FAIL %s: after the reset: echoes up to %u of %u within %u ms\n", name, atomic_load(&ic.expect), end,
		       WAIT_MS);
		return 1;
	}
	return ic_count_check(name, end, ld->lost, "the reset");
}

/* Register the endpoints of @k on @inst (the backend keeps each configuration). Return: 0 or the code. */
static int ic_register(const struct ampl_device *inst, enum fw_bridge_kind k, struct ipc_ept *ept, const char **failed)
{
	static const char *const names[2][2] = { { "echo", NULL }, { "echo0", "echo1" } };
	static struct ipc_ept_cfg ecfg[2];
	unsigned nept = kinds[k].nept;
	for (unsigned e = 0; e < nept; e++) {
		ecfg[e] = (struct ipc_ept_cfg){ .name = names[nept - 1][e],
						.cb = { .bound = ic_bound, .unbound = ic_unbound, .received = ic_received } };
		int r = ipc_service_register_endpoint(inst, &ept[e], &ecfg[e]);
		if (r) {
			*failed = ecfg[e].name;
			return r;
		}
	}
	return 0;
}

/*
 * The rebind case (after the reset case): FW_IN_FLIGHT messages sent without waiting, then this side closes its
 * endpoints and its instance while the firmware runs, and opens them again: every endpoint must bind again and
 * FW_RESUME more messages be echoed, each exactly the next one expected (a late echo of a message sent before the
 * close would be delivered twice). What was in flight at the close and never came back is added to ld->lost.
 * Return: 0 or 1 (printed).
 */
static int ic_rebind_phase(enum fw_bridge_kind k, const struct ampl_device *inst, struct ipc_ept *ept, const char *name,
			   struct load *ld, uint32_t *seq, uint32_t *x)
{
	unsigned nept = kinds[k].nept;
	size_t total;
	for (unsigned i = 0; i < FW_IN_FLIGHT; i++, (*seq)++) {
		int r = ic_send(k, &ept[*seq % nept], *seq, x, now_ns() + WAIT_MS * 1000000ull, &total);
		if (r < 0) {
			printf("FAIL %s: rebind: message %u: send %d\n", name, *seq, r);
			return 1;
		}
	}
	uint32_t in_flight = *seq - atomic_load(&ic.expect);
	for (unsigned e = 0; e < nept; e++) {
		int r = ipc_service_deregister_endpoint(&ept[e]);
		if (r) {
			printf("FAIL %s: rebind: deregistering endpoint %u: %d\n", name, e, r);
			return 1;
		}
	}
	int r = ipc_service_close_instance(inst);
	if (r) {
		printf("FAIL %s: rebind: closing %s: %d\n", name, kinds[k].apu_inst, r);
		return 1;
	}
	/* Closed: nothing more comes from before; what did not come back is lost. */
	pthread_mutex_lock(&ic.lock);
	uint32_t lost = *seq - atomic_load(&ic.expect);
	atomic_store(&ic.expect, *seq);
	pthread_mutex_unlock(&ic.lock);
	ld->lost += lost;
	unsigned bnd = atomic_load(&ic.bound);
	uint64_t t0 = now_ns();
	const char *which = "";
	r = ipc_service_open_instance(inst);
	if (r || (r = ic_register(inst, k, ept, &which)) != 0) {
		printf("FAIL %s: rebind: opening %s again (%s): %d\n", name, kinds[k].apu_inst, which, r);
		return 1;
	}
	if (!wait_count(&ic.bound, bnd + nept)) {
		printf("FAIL %s: rebind: %u of %u endpoints bound again within %u ms of reopening\n", name,
		       atomic_load(&ic.bound) - bnd, nept, WAIT_MS);
		return 1;
	}
	double bound_ms = (double)(now_ns() - t0) / 1e6;
	printf("%s: rebind: closed with %u messages unanswered, bound again %.1f ms after reopening; %u lost (in "
	       "flight)\n", name, in_flight, bound_ms, lost);
	uint32_t end = *seq + FW_RESUME;
	for (; *seq < end; (*seq)++) {
		if (*seq - atomic_load(&ic.expect) >= FW_IN_FLIGHT && !ic_wait_expect(*seq - FW_IN_FLIGHT + 1u)) {
			printf("FAIL %s: after the rebind: stalled at message %u (next echo expected %u)\n", name, *seq,
			       atomic_load(&ic.expect));
			return 1;
		}
		r = ic_send(k, &ept[*seq % nept], *seq, x, now_ns() + WAIT_MS * 1000000ull, &total);
		if (r < 0) {
			printf("FAIL %s: after the rebind: message %u: send %d\n", name, *seq, r);
			return 1;
		}
	}
	if (!ic_wait_expect(end)) {
		printf("FAIL %s: after the rebind: echoes up to %u of %u within %u ms\n", name, atomic_load(&ic.expect),
		       end, WAIT_MS);
		return 1;
	}
	return ic_count_check(name, end, ld->lost, "the reset and the rebind");
}

static int run_ipc(struct ampl_agent *ag, enum fw_bridge_kind k, const char *name, struct load *ld)
{
	const struct ampl_device *inst;
	struct ipc_ept ept[2];
	unsigned nept = kinds[k].nept;
	size_t total;
	pthread_mutex_lock(&ic.lock);
	memset(ic.sent, 0, sizeof(ic.sent));
	ic.first_bad[0] = '\0';
	ic.ordered = ld->reset;
	atomic_store(&ic.retry_unbound, false);
	pthread_mutex_unlock(&ic.lock);
	atomic_store(&ic.bound, 0u);
	atomic_store(&ic.unbound, 0u);
	atomic_store(&ic.answers, 0u);
	atomic_store(&ic.bad, 0u);
	atomic_store(&ic.expect, 0u);
	atomic_store(&ic.dups, 0u);
	atomic_store(&ic.gaps, 0u);
	if (ampl_agent_ipc_instance(ag, kinds[k].apu_inst, &inst) || ipc_service_open_instance(inst)) {
		printf("FAIL %s: opening %s: %s\n", name, kinds[k].apu_inst, ampl_soc_last_error());
		return 1;
	}
	const char *which = "";
	if (ic_register(inst, k, ept, &which)) {
		printf("FAIL %s: registering endpoint %s\n", name, which);
		return 1;
	}
	uint64_t deadline = now_ns() + WAIT_MS * 1000000ull;
	while (atomic_load(&ic.bound) < nept && now_ns() < deadline)
		usleep(100);
	if (atomic_load(&ic.bound) < nept) {
		printf("FAIL %s: %u of %u endpoints bound within %u ms\n", name, atomic_load(&ic.bound), nept, WAIT_MS);
		return 1;
	}
	uint32_t x = 0x9E3779B9u, seq = 0;
	for (; seq < ld->count; seq++) {
		uint64_t t0 = now_ns();
		int r = ic_send(k, &ept[seq % nept], seq, &x, now_ns() + WAIT_MS * 1000000ull, &total);
		if (r < 0) {
			printf("FAIL %s: message %u: send %d\n", name, seq, r);
			return 1;
		}
		if (!ic_wait(seq + 1u)) {
			printf("FAIL %s: no echo of message %u within %u ms\n", name, seq, WAIT_MS);
			return 1;
		}
		ld->rtt[seq] = now_ns() - t0;
		if (atomic_load(&ic.bad)) {
			printf("FAIL %s: message %u: %s\n", name, seq, ic.first_bad);
			return 1;
		}
	}
	if (ld->reset && ic_reset_phase(k, ept, nept, name, ld, &seq, &x))
		return 1;
	if (ld->rebind && ic_rebind_phase(k, inst, ept, name, ld, &seq, &x))
		return 1;
	/* The stream: up to FW_IN_FLIGHT messages outstanding for ld->seconds, the endpoints in turn. */
	uint64_t t0 = now_ns(), until = t0 + (uint64_t)(ld->seconds * 1e9);
	for (uint32_t n = 0; ld->seconds > 0 && (n == 0 || now_ns() < until); n++, seq++) {
		if (seq - atomic_load(&ic.answers) >= FW_IN_FLIGHT && !ic_wait(seq - FW_IN_FLIGHT + 1u)) {
			printf("FAIL %s: stream stalled at message %u\n", name, seq);
			return 1;
		}
		int r = ic_send(k, &ept[seq % nept], seq, &x, now_ns() + WAIT_MS * 1000000ull, &total);
		if (r < 0) {
			printf("FAIL %s: message %u: send %d\n", name, seq, r);
			return 1;
		}
		ld->stream_msgs++;
		ld->stream_bytes += total;
	}
	if (!ic_wait(seq - ld->lost)) {
		printf("FAIL %s: %u of %u messages echoed within %u ms (%u lost at a reset)\n", name,
		       atomic_load(&ic.answers), seq, WAIT_MS, ld->lost);
		return 1;
	}
	ld->stream_s = (double)(now_ns() - t0) / 1e9;
	ld->sent = seq;
	int r = ipc_service_send(&ept[0], "STOP", 4); /* the firmware exits on it */
	if (r != 4)
		printf("note %s: STOP not sent (%d): the stop word ends the firmware\n", name, r);
	for (unsigned e = 0; e < nept; e++)
		ipc_service_deregister_endpoint(&ept[e]);
	if (atomic_load(&ic.bad)) {
		printf("FAIL %s: %u bad echoes; first: %s\n", name, atomic_load(&ic.bad), ic.first_bad);
		return 1;
	}
	return 0;
}

/* ---- IPM ---- */

/* Request @seq with ipm_send(wait), its response checked. Return: 0 or 1 (printed). */
static int ipm_one(const struct ampl_device *dev, const char *name, uint32_t seq, uint32_t *x, uint64_t *ns)
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

/* The request in flight when the firmware is taken down: sent by its own thread with ipm_send(wait). */
struct ipm_flight {
	const struct ampl_device *dev;
	uint32_t req[IPM_ECHO_WORDS], resp[IPM_ECHO_WORDS];
	int r;
	atomic_bool done;
};

static void *ipm_flight_send(void *arg)
{
	struct ipm_flight *f = arg;
	f->r = ipm_send(f->dev, 1, 0, f->req, sizeof(f->req));
	if (!f->r)
		xlnx_ipi_response_read(f->dev, f->resp, sizeof(f->resp));
	atomic_store(&f->done, true);
	return NULL;
}

/*
 * The reset case for IPM: request *@seq sent with ipm_send(wait) and the firmware taken down as soon as the bridge
 * has passed it on (in flight: answered before the firmware died, or discarded and reported -ESHUTDOWN; never
 * anything else, never a hang); while it is down ipm_send (wait and no wait) must fail at once with -ESHUTDOWN;
 * then the firmware restarted and FW_RESUME more requests, each response checked (the response carries the
 * request's sequence number and checksum: a stale or repeated answer fails). A request refused while the APU's
 * channel is still offline is sent again with the same number (a refused request is never delivered). The one
 * discarded at the reset is counted in ld->lost. Return: 0 or 1 (printed).
 */
static int ipm_reset_phase(const struct ampl_device *dev, const char *name, struct load *ld, uint32_t *seq, uint32_t *x)
{
	char err[256];
	static struct ipm_flight f;
	f = (struct ipm_flight){ .dev = dev };
	ipm_echo_request(f.req, *seq, x);
	uint32_t to_fw = atomic_load(&ld->b->to_fw);
	pthread_t th;
	if (pthread_create(&th, NULL, ipm_flight_send, &f)) {
		printf("FAIL %s ipm: reset: no thread\n", name);
		return 1;
	}
	uint64_t deadline = now_ns() + WAIT_MS * 1000000ull;
	while (atomic_load(&ld->b->to_fw) == to_fw && !atomic_load(&f.done) && now_ns() < deadline)
		ampl_cpu_relax();
	bool answered_first = atomic_load(&f.done);
	uint64_t t0 = now_ns();
	int r = ampl_emu_bridge_fw_down(ld->b);
	if (r) {
		pthread_join(th, NULL);
		printf("FAIL %s ipm: taking the firmware down through the bridge: %s (%d)\n", name, ampl_soc_last_error(),
		       r);
		return 1;
	}
	/* Bounded: the APU's acknowledgement timeout is WAIT_MS, and the discard must end the wait long before. */
	deadline = now_ns() + 2u * WAIT_MS * 1000000ull;
	while (!atomic_load(&f.done) && now_ns() < deadline)
		usleep(100);
	if (!atomic_load(&f.done)) {
		pthread_detach(th);
		printf("FAIL %s ipm: reset: ipm_send of request %u still waiting %u ms after the firmware was taken down\n",
		       name, *seq, 2u * WAIT_MS);
		return 1;
	}
	pthread_join(th, NULL);
	double flight_ms = (double)(now_ns() - t0) / 1e6;
	if (f.r == 0 && !ipm_echo_check(f.req, f.resp)) {
		printf("FAIL %s ipm: reset: request %u in flight returned 0 with a wrong response (seq %u)\n", name, *seq,
		       f.resp[0]);
		return 1;
	}
	if (f.r != 0 && f.r != -ESHUTDOWN) {
		printf("FAIL %s ipm: reset: request %u in flight: ipm_send %d (0 or -ESHUTDOWN expected)\n", name, *seq,
		       f.r);
		return 1;
	}
	ld->lost = f.r ? 1u : 0u;
	(*seq)++;
	/* While the firmware is down: refused at once, both ways; the next number is used again after the restart. */
	for (int wait = 1; wait >= 0; wait--) {
		uint32_t req[IPM_ECHO_WORDS], y = *x;
		ipm_echo_request(req, *seq, &y);
		uint64_t t1 = now_ns();
		r = ipm_send(dev, wait, 0, req, sizeof(req));
		double ms = (double)(now_ns() - t1) / 1e6;
		if (r != -ESHUTDOWN) {
			printf("FAIL %s ipm: reset: ipm_send(wait=%d) returned %d after %.1f ms while the firmware was down "
			       "(-ESHUTDOWN expected)\n", name, wait, r, ms);
			return 1;
		}
	}
	r = ampl_emu_bridge_restart(ld->b, ld->qcfg, err, sizeof(err));
	if (r) {
		printf("FAIL %s ipm: restarting the firmware through the bridge: %s (%d)\n", name, err, r);
		return 1;
	}
	double restart_ms = (double)(now_ns() - t0) / 1e6;
	printf("%s ipm: reset: request %u %s when QEMU was killed: %s %.1f ms later; ipm_send refused (-ESHUTDOWN) "
	       "while down; restarted and ready at %.0f ms\n", name, *seq - 1u,
	       answered_first ? "already answered" : "passed to the firmware",
	       f.r ? "discarded (-ESHUTDOWN)" : "answered, response checked,", flight_ms, restart_ms);
	uint32_t end = *seq + FW_RESUME, refused = 0;
	for (; *seq < end; (*seq)++) {
		uint32_t req[IPM_ECHO_WORDS], resp[IPM_ECHO_WORDS];
		ipm_echo_request(req, *seq, x);
		/* The APU's channel comes back online when its interrupt context sees the agent online again. */
		deadline = now_ns() + WAIT_MS * 1000000ull;
		while ((r = ipm_send(dev, 1, 0, req, sizeof(req))) == -ESHUTDOWN && now_ns() < deadline) {
			refused++;
			usleep(100);
		}
		if (r) {
			printf("FAIL %s ipm: after the reset: request %u: ipm_send %d\n", name, *seq, r);
			return 1;
		}
		xlnx_ipi_response_read(dev, resp, sizeof(resp));
		if (!ipm_echo_check(req, resp)) {
			printf("FAIL %s ipm: after the reset: request %u: wrong response (seq %u)\n", name, *seq, resp[0]);
			return 1;
		}
	}
	/* What the APU sent before the restart is not the new boot's: its first answer is to the first request sent
	 * after the restart (the one in flight at the reset was answered by the dead firmware, or discarded and
	 * reported so: answering it now would answer a request its sender was told was never answered). */
	uint32_t first = atomic_load(&ld->qboot->app[IPM_ECHO_APP_FIRST]);
	if (first != end - FW_RESUME) {
		printf("FAIL %s ipm: after the reset: the new boot's first answer was to request %u, not %u (the first "
		       "sent after the restart)\n", name, first, end - FW_RESUME);
		return 1;
	}
	printf("%s ipm: reset: %u requests after the restart, each response checked, the first answered by the new "
	       "boot %u (%u sends refused while the channel came back)\n", name, FW_RESUME, first, refused);
	return 0;
}

static int run_ipm(struct ampl_agent *ag, const char *name, struct load *ld)
{
	(void)ag;
	const struct ampl_device *dev = ampl_device_get_by_label("ipi_apu_rpu0");
	if (!ampl_device_is_ready(dev)) {
		printf("FAIL %s ipm: no device ipi_apu_rpu0\n", name);
		return 1;
	}
	uint32_t x = 0x9E3779B9u, seq = 0;
	uint64_t ns;
	for (; seq < ld->count; seq++)
		if (ipm_one(dev, name, seq, &x, &ld->rtt[seq]))
			return 1;
	if (ld->reset && ipm_reset_phase(dev, name, ld, &seq, &x))
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

static int bridge_run(const char *elf, enum fw_bridge_kind k, uint32_t mode, unsigned count, double seconds,
		      bool quiet, struct fw_figures *out, const char *dts, bool reset)
{
	char name[80], err[256];
	static uint64_t rtt[RTT_MAX];
	struct load ld = { .count = count < RTT_MAX ? count : RTT_MAX, .seconds = seconds, .rtt = rtt, .reset = reset,
			   .rebind = reset && (k == FW_BRIDGE_ICMSG || k == FW_BRIDGE_MULTI) };
	bool ipm = k == FW_BRIDGE_IPM;
	snprintf(name, sizeof(name), "%s %s%s", kinds[k].name, mode == AMPL_EMU_DOORBELL_POLL ? "polling" : "interrupts",
		 reset ? " reset" : "");
	void *dtb = NULL;
	size_t dtb_size = 0;
	if (dts) {
		struct ampl_dt_diag diag = { { 0 } };
		int e = ampl_dt_read_file(dts, &dtb, &dtb_size, &diag);
		if (e) {
			printf("FAIL %s: reading %s: %s (%d)\n", name, dts, diag.msg, e);
			return 1;
		}
	}
	snprintf(soc_name, sizeof(soc_name), "fw-bridge-%d", (int)getpid());
	struct ampl_emu_bridge_config bcfg = {
		.soc = soc_name, .agent = kinds[k].agent, .remotes = { "apu" },
		.modes = { ipm ? AMPL_EMU_CHAN_REQUEST : AMPL_EMU_CHAN_DOORBELL }, .num_chans = 1,
		.mode = mode == AMPL_EMU_DOORBELL_POLL ? AMPL_WAIT_ADAPTIVE : AMPL_WAIT_BLOCK,
	};
	struct prep p = { &bcfg, dtb, dtb_size };
	struct ampl_emu_qemu_config qcfg = { .kernel = elf, .doorbell = mode, .prepare = prepare, .prepare_arg = &p,
					     .quiet = true };
	struct ampl_emu_qemu q;
	struct ampl_emu_bridge b;
	struct ampl_soc *soc = NULL;
	struct ampl_agent *ag = NULL;
	int failed = 1;
	uint32_t fw_count = 0;
	if (out)
		memset(out, 0, sizeof(*out));
	int r = ampl_emu_qemu_start(&q, &qcfg, err, sizeof(err));
	if (r) {
		printf("FAIL %s: starting the firmware: %s (%d)\n", name, err, r);
		ampl_soc_destroy(soc_name);
		free(dtb);
		return 1;
	}
	ld.b = &b;
	ld.qcfg = &qcfg;
	ld.qboot = q.boot;
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
	failed = ipm ? run_ipm(ag, name, &ld) : run_ipc(ag, k, name, &ld);
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
		/* The counts are the window's: they add up over the firmware's boots. A message lost at a reset may
		 * have reached the firmware (its echo was lost) or not, and the killed firmware may have sent one echo
		 * (it answers one message at a time) without counting it yet. */
		/* The firmware counts an echo after sending it, so the host may see the last echo before its count:
		 * wait (bounded) for the count to catch up. */
		uint32_t uncounted = reset ? 1u : 0u;
		unsigned app = ipm ? IPM_ECHO_APP_REQS : SOC_ECHO_APP_ECHOED;
		uint32_t fw_n = atomic_load(&q.boot->app[app]);
		for (uint64_t t0 = now_ns(); fw_n + ld.lost + uncounted < ld.sent && now_ns() - t0 < WAIT_MS * 1000000ull;
		     fw_n = atomic_load(&q.boot->app[app]))
			usleep(200);
		fw_count = fw_n;
		if (fw_n > ld.sent || fw_n + ld.lost + uncounted < ld.sent) {
			printf("FAIL %s: the firmware counted %u messages, %u were sent, %u of them lost at a reset\n", name,
			       fw_n, ld.sent, ld.lost);
			failed = 1;
		}
		uint32_t fw_dups = atomic_load(&q.boot->app[ipm ? IPM_ECHO_APP_DUPS : SOC_ECHO_APP_DUPS]);
		if (fw_dups) {
			printf("FAIL %s: the firmware received %u messages twice\n", name, fw_dups);
			failed = 1;
		}
		uint32_t fw_bad = atomic_load(&q.boot->app[ipm ? IPM_ECHO_APP_BAD : SOC_ECHO_APP_BAD]);
		if (fw_bad) {
			printf("FAIL %s: the firmware found %u bad messages\n", name, fw_bad);
			failed = 1;
		}
		if (atomic_load(&b.errors)) {
			int code = 0;
			const char *what = ampl_emu_bridge_first_error(&b, &code);
			printf("FAIL %s: the bridge counted %u protocol errors, the first: %s (%d)\n", name,
			       atomic_load(&b.errors), what ? what : "?", code);
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
	uint32_t words[AMPL_EMU_APP_WORDS] = { 0 }; /* the firmware's words, for the report of a failed exit */
	for (unsigned i = 0; q.boot && i < AMPL_EMU_APP_WORDS; i++)
		words[i] = atomic_load(&q.boot->app[i]);
	r = ampl_emu_qemu_stop(&q, WAIT_MS, &code);
	if (r) {
		printf("FAIL %s: the firmware did not exit within %u ms (QEMU killed)\n", name, WAIT_MS);
		failed = 1;
	} else if (code != 0) {
		printf("FAIL %s: the firmware exited with %d; its words:", name, code);
		for (unsigned i = 0; i < AMPL_EMU_APP_WORDS; i++)
			printf(" %u", words[i]);
		printf("\n");
		failed = 1;
	}
	ampl_soc_destroy(soc_name);
	free(dtb);
	if (!failed && !quiet && reset)
		printf("ok %s: %u messages sent, %u echoed and checked on both sides, %u lost in flight at the reset%s, "
		       "the firmware counted %u over its boots, nothing delivered twice, firmware exit 0\n", name, ld.sent,
		       ld.sent - ld.lost, ld.lost, ld.rebind ? " and the rebind" : "", fw_count);
	else if (!failed && !quiet)
		printf("ok %s: %u messages each way checked on both sides, firmware exit 0\n", name, ld.sent);
	return failed;
}

int fw_bridge_run(const char *elf, enum fw_bridge_kind k, uint32_t mode, unsigned count, double seconds, bool quiet,
		  struct fw_figures *out)
{
	return bridge_run(elf, k, mode, count, seconds, quiet, out, NULL, false);
}

int fw_bridge_reset(const char *elf, enum fw_bridge_kind k, uint32_t mode, const char *dts)
{
	if (k >= FW_BRIDGE_KINDS) {
		printf("FAIL fw_bridge_reset: no backend %u\n", (unsigned)k);
		return 1;
	}
	/* FW_RESUME round trips before the reset and FW_RESUME messages after it (the 1,000 each way of the backend are
	 * fw_bridge_run()'s): the reset case's CI time stays small. */
	return bridge_run(elf, k, mode, FW_RESUME, 0, false, NULL, dts, true);
}
