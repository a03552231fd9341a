/*
 * ampl_icount: one layer of the stack sending N one-way 32-byte messages in a single thread, for instruction
 * counts under callgrind (scripts/icount.sh, make icount): numbers that do not depend on machine noise.
 *
 * usage: ampl_icount LAYER [N]     (N: messages, default 10000)
 *
 * Both sides live in this process on one virtual ZynqMP, each agent without an interrupt thread: per message the
 * sender sends, then runs the receiver's interrupt handler once (ampl_agent_poll), then its own (TX done, buffer
 * releases). The measured loop of layer X is the function icount_X; everything before it (the SoC, the agents,
 * the endpoints' bonding) is setup that callgrind does not count (--toggle-collect=icount_X). Each message is
 * checked (sequence number, length): a lost or wrong message makes the program exit 1.
 *
 * Layers:
 *   ring       two plain SPSC ring operations in ordinary memory, memcpy in and out (the reference)
 *   raw        the IPI registers by hand: request buffer, TRIG, the remote's ISR read and clear
 *   mbox       the mailbox framework's client API (mbox_send_message; TX done from mbox_controller_poll)
 *   ipm        ipm_send without wait; the remote's callback
 *   ipm-direct the same through the register-level IPM driver on both sides (xlnx_ipi_direct.h: no framework)
 *   icmsg      ipc_service_send over ICMsg (the receiving agent attached with no_ipc_poll: a doorbell per message)
 *   icmsg-polled  the same to a polled reader (ampl_agent_poll() reads the ring itself, the reader held between
 *              polls: no doorbell)
 *   icmsg-stream  the same in bursts of STREAM_BURST messages, the receiver's handler run once per burst: a stream,
 *              where a doorbell rings for the first message of a burst only (the reader is idle then) and the
 *              reader loads wr_idx and stores rd_idx once per burst
 *   multi      ipc_service_send over the multi-endpoint backend (copy)
 *   multi-zc   the same, zero-copy (get_tx_buffer, write in place, send_nocopy)
 *   multi-inline  multi on a board whose instances have inline-max = <64>: the 32-byte message goes in the
 *              control ring itself, no block
 *   rpmsg      ipc_service_send over RPMsg (copy)
 *   rpmsg-zc   the same, zero-copy
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/drivers/xlnx_ipi_direct.h>
#include <amplink/errno.h>
#include <amplink/ipc_service.h>
#include <amplink/ipm.h>
#include <amplink/mailbox_client.h>
#include <amplink/mailbox_controller.h>
#include <amplink/host/soc.h>

#include "board_variant.h"

/* Kept apart (not inlined, cloned or merged with an identical function) so that callgrind sees each by name. */
#if defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noipa))
#endif

static unsigned long got, bad; /* messages received, and those out of sequence or of the wrong length */

static void count(uint32_t seq, size_t len)
{
	if (seq != (uint32_t)got || len != 32)
		bad++;
	got++;
}

/* ---- ring: the reference ---- */

#define SLOTS 64u

struct ring {
	_Alignas(64) _Atomic uint32_t head;
	_Alignas(64) _Atomic uint32_t tail;
	_Alignas(64) uint8_t slot[SLOTS][64];
};

NOINLINE static void icount_ring(struct ring *q, unsigned long n)
{
	uint32_t m[8] = { 0 }, r[8];
	for (unsigned long i = 0; i < n; i++) {
		m[0] = (uint32_t)i;
		uint32_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
		if (h - atomic_load_explicit(&q->tail, memory_order_acquire) >= SLOTS)
			break;
		memcpy(q->slot[h % SLOTS], m, 32);
		atomic_store_explicit(&q->head, h + 1, memory_order_release);
		uint32_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
		if (atomic_load_explicit(&q->head, memory_order_acquire) == t)
			break;
		memcpy(r, q->slot[t % SLOTS], 32);
		atomic_store_explicit(&q->tail, t + 1, memory_order_release);
		count(r[0], 32);
	}
}

/* ---- the virtual SoC ---- */

struct soc_env {
	char name[64];
	struct ampl_soc *soc;
	struct ampl_agent *tx, *rx;
};

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "ampl_icount: %s: %s\n", what, ampl_soc_last_error());
	exit(1);
}

/* The icmsg-polled layer: the receiving agent reads its IPC rings in ampl_agent_poll() (no doorbell). */
static bool polled_rx;
/* The multi-inline layer: `inline-max` of both multi-endpoint instances (0: the default board as it is). */
static uint32_t multi_inline_max;

static void soc_up(struct soc_env *e, const char *rx_agent, bool devices)
{
	snprintf(e->name, sizeof(e->name), "icount-%d", (int)getpid());
	ampl_soc_destroy(e->name);
	struct ampl_agent_opts o = {
		.mode = AMPL_WAIT_POLL, .no_irq_thread = true, .no_dt_devices = !devices, .no_ipc_poll = !polled_rx
	};
	if (board_create_multi_inline(e->name, multi_inline_max, multi_inline_max) || ampl_soc_open(e->name, &e->soc))
		die("create");
	if (ampl_agent_attach(e->soc, "apu", &o, &e->tx) || ampl_agent_attach(e->soc, rx_agent, &o, &e->rx))
		die("attach");
}

static void soc_down(struct soc_env *e)
{
	ampl_agent_detach(e->rx);
	ampl_agent_detach(e->tx);
	ampl_soc_close(e->soc);
	ampl_soc_destroy(e->name);
}

/* raw: APU writes the request buffer and TRIG; RPU0 reads ISR, copies the request out, clears ISR. */
struct raw {
	struct ampl_io_region apu, rpu0;
	volatile uint32_t *rq;
	uint32_t dst_bit, src_bit;
};

NOINLINE static void icount_raw(struct raw *x, unsigned long n)
{
	uint32_t m[8] = { 0 }, r[8];
	for (unsigned long i = 0; i < n; i++) {
		m[0] = (uint32_t)i;
		for (unsigned k = 0; k < 8; k++)
			x->rq[k] = m[k];
		ampl_mb();
		ampl_io_write32(&x->apu, AMPL_IPI_TRIG, x->dst_bit);
		if (!(ampl_io_read32(&x->rpu0, AMPL_IPI_ISR) & x->src_bit))
			break;
		for (unsigned k = 0; k < 8; k++)
			r[k] = x->rq[k];
		ampl_mb();
		ampl_io_write32(&x->rpu0, AMPL_IPI_ISR, x->src_bit);
		if (ampl_io_read32(&x->apu, AMPL_IPI_OBS) & x->dst_bit)
			break;
		count(r[0], 32);
	}
}

static void run_raw(unsigned long n)
{
	struct soc_env e;
	soc_up(&e, "rpu0", false);
	const struct ampl_soc_profile *p = ampl_soc_get_profile(e.soc);
	const struct ampl_soc_agent *apu = ampl_soc_agent_by_name(p, "apu"), *rpu0 = ampl_soc_agent_by_name(p, "rpu0");
	struct raw x;
	ampl_soc_agent_regs(e.soc, apu, &x.apu);
	ampl_soc_agent_regs(e.soc, rpu0, &x.rpu0);
	x.rq = ampl_soc_phys(e.soc, ampl_ipi_request_addr(p, apu, rpu0), 32);
	x.dst_bit = ampl_ipi_mask(rpu0);
	x.src_bit = ampl_ipi_mask(apu);
	icount_raw(&x, n);
	soc_down(&e);
}

/* mbox: the framework's client API on both sides. */
static void mbox_rx(struct mbox_client *cl, void *mssg)
{
	(void)cl;
	struct zynqmp_ipi_message *m = mssg;
	uint32_t seq;
	memcpy(&seq, m->data, 4);
	count(seq, m->len);
}

NOINLINE static void icount_mbox(struct soc_env *e, struct mbox_chan *tx, struct mbox_controller *ctl,
				 unsigned long n)
{
	struct {
		size_t len;
		uint32_t w[8];
	} msg = { 32, { 0 } };
	for (unsigned long i = 0; i < n; i++) {
		msg.w[0] = (uint32_t)i;
		if (mbox_send_message(tx, &msg) < 0)
			break;
		ampl_agent_poll(e->rx);
		mbox_controller_poll(ctl);
	}
}

static void run_mbox(unsigned long n)
{
	struct soc_env e;
	soc_up(&e, "rpu0", true);
	struct mbox_controller *tctl, *rctl;
	if (ampl_agent_mbox(e.tx, "rpu0", &tctl) || ampl_agent_mbox(e.rx, "apu", &rctl))
		die("mailbox");
	static struct mbox_client rcl = { .rx_callback = mbox_rx };
	struct mbox_client tcl = { 0 };
	struct mbox_chan *tx = &tctl->chans[XLNX_IPI_TX_CHAN];
	if (mbox_bind_client(&rctl->chans[XLNX_IPI_RX_CHAN], &rcl) || mbox_bind_client(tx, &tcl))
		die("mbox_bind_client");
	icount_mbox(&e, tx, tctl, n);
	mbox_free_channel(tx);
	mbox_free_channel(&rctl->chans[XLNX_IPI_RX_CHAN]);
	soc_down(&e);
}

/* ipm */
static void ipm_rx(const struct ampl_device *dev, void *ud, uint32_t id, volatile void *data)
{
	(void)dev;
	(void)ud;
	(void)id;
	count(((volatile uint32_t *)data)[0], 32);
}

NOINLINE static void icount_ipm(struct soc_env *e, const struct ampl_device *dev, unsigned long n)
{
	uint32_t w[8] = { 0 };
	for (unsigned long i = 0; i < n; i++) {
		w[0] = (uint32_t)i;
		if (ipm_send(dev, 0, 0, w, sizeof(w)))
			break;
		ampl_agent_poll(e->rx);
		ampl_agent_poll(e->tx);
	}
}

static void run_ipm(unsigned long n)
{
	struct soc_env e;
	soc_up(&e, "rpu0", true);
	const struct ampl_device *rx = ampl_device_get_by_label("ipi_rpu0_apu"), *tx = ampl_device_get_by_label("ipi_apu_rpu0");
	if (!rx || !tx)
		die("ipm devices");
	ipm_register_callback(rx, ipm_rx, NULL);
	ipm_set_enabled(rx, 1);
	icount_ipm(&e, tx, n);
	soc_down(&e);
}

/* ipm-direct: register-level devices on the destinations the agents set up (their interrupt handlers never run). */
static const struct ampl_device *direct_up(struct xlnx_ipi_direct_device *d, const char *label)
{
	const struct ampl_device *fw = ampl_device_get_by_label(label), *dev;
	if (!fw)
		die(label);
	if (!(dev = xlnx_ipi_direct_device_on(d, ((const struct xlnx_ipi_ipm_config *)fw->config)->mbox, label, 0)))
		die("xlnx_ipi_direct_init");
	return dev;
}

NOINLINE static void icount_ipm_direct(const struct ampl_device *tx, const struct ampl_device *rx, unsigned long n)
{
	uint32_t w[8] = { 0 };
	for (unsigned long i = 0; i < n; i++) {
		w[0] = (uint32_t)i;
		if (ipm_send(tx, 0, 0, w, sizeof(w)))
			break;
		xlnx_ipi_direct_isr(rx);
	}
}

static void run_ipm_direct(unsigned long n)
{
	struct soc_env e;
	soc_up(&e, "rpu0", true);
	static struct xlnx_ipi_direct_device txd, rxd;
	const struct ampl_device *tx = direct_up(&txd, "ipi_apu_rpu0"), *rx = direct_up(&rxd, "ipi_rpu0_apu");
	ipm_register_callback(rx, ipm_rx, NULL);
	ipm_set_enabled(rx, 1);
	icount_ipm_direct(tx, rx, n);
	soc_down(&e);
}

/* The IPC service backends. */
static struct ipc_ept tx_ept, rx_ept;
static _Atomic int bound;

static void ipc_bound(void *priv)
{
	(void)priv;
	atomic_fetch_add(&bound, 1);
}

static void ipc_rx(const void *data, size_t len, void *priv)
{
	(void)priv;
	uint32_t seq;
	memcpy(&seq, data, 4);
	count(seq, len);
}

/* Sends @n messages, the receiver's handler (then the sender's) run after every @burst of them and after the last. */
NOINLINE static void icount_ipc_copy(struct soc_env *e, unsigned long n, unsigned long burst)
{
	uint32_t w[8] = { 0 };
	for (unsigned long i = 0, left = burst; i < n; i++) {
		w[0] = (uint32_t)i;
		if (ipc_service_send(&tx_ept, w, sizeof(w)) != (int)sizeof(w))
			break;
		if (--left == 0 || i == n - 1u) {
			left = burst;
			ampl_agent_poll(e->rx);
			ampl_agent_poll(e->tx);
		}
	}
}

NOINLINE static void icount_ipc_zc(struct soc_env *e, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		void *buf;
		uint32_t size = 32, seq = (uint32_t)i;
		if (ipc_service_get_tx_buffer(&tx_ept, &buf, &size, AMPL_NO_WAIT))
			break;
		memset(buf, 0, 32);
		memcpy(buf, &seq, 4);
		if (ipc_service_send_nocopy(&tx_ept, buf, 32) < 0) {
			ipc_service_drop_tx_buffer(&tx_ept, buf);
			break;
		}
		ampl_agent_poll(e->rx);
		ampl_agent_poll(e->tx);
	}
}

#define STREAM_BURST 16u

/* One function per layer, so that each has its own name for --toggle-collect. */
NOINLINE static void icount_icmsg(struct soc_env *e, unsigned long n) { icount_ipc_copy(e, n, 1); }
NOINLINE static void icount_icmsg_polled(struct soc_env *e, unsigned long n) { icount_ipc_copy(e, n, 1); }
NOINLINE static void icount_icmsg_stream(struct soc_env *e, unsigned long n) { icount_ipc_copy(e, n, STREAM_BURST); }
NOINLINE static void icount_multi(struct soc_env *e, unsigned long n) { icount_ipc_copy(e, n, 1); }
NOINLINE static void icount_multi_inline(struct soc_env *e, unsigned long n) { icount_ipc_copy(e, n, 1); }
NOINLINE static void icount_multi_zc(struct soc_env *e, unsigned long n) { icount_ipc_zc(e, n); }
NOINLINE static void icount_rpmsg(struct soc_env *e, unsigned long n) { icount_ipc_copy(e, n, 1); }
NOINLINE static void icount_rpmsg_zc(struct soc_env *e, unsigned long n) { icount_ipc_zc(e, n); }

static void run_ipc(const char *rx_agent, const char *tx_inst, const char *rx_inst,
		    void (*loop)(struct soc_env *, unsigned long), unsigned long n)
{
	struct soc_env e;
	soc_up(&e, rx_agent, true);
	const struct ampl_device *td, *rd;
	static struct ipc_ept_cfg tcfg = { .name = "icount", .cb = { .bound = ipc_bound } };
	static struct ipc_ept_cfg rcfg = { .name = "icount", .cb = { .bound = ipc_bound, .received = ipc_rx } };
	if (ampl_agent_ipc_instance(e.tx, tx_inst, &td) || ampl_agent_ipc_instance(e.rx, rx_inst, &rd) ||
	    ipc_service_open_instance(td) || ipc_service_open_instance(rd) ||
	    ipc_service_register_endpoint(rd, &rx_ept, &rcfg) || ipc_service_register_endpoint(td, &tx_ept, &tcfg))
		die("ipc instance");
	for (int i = 0; i < 100000 && atomic_load(&bound) < 2; i++) {
		ampl_agent_poll(e.tx);
		ampl_agent_poll(e.rx);
	}
	if (atomic_load(&bound) < 2) {
		fprintf(stderr, "ampl_icount: %s: the endpoints did not bind\n", tx_inst);
		exit(1);
	}
	loop(&e, n);
	ipc_service_deregister_endpoint(&tx_ept);
	ipc_service_deregister_endpoint(&rx_ept);
	soc_down(&e);
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: ampl_icount ring|raw|mbox|ipm|ipm-direct|icmsg|icmsg-polled|icmsg-stream|multi|multi-zc|multi-inline|rpmsg|"
				"rpmsg-zc [N]\n");
		return 2;
	}
	const char *layer = argv[1];
	unsigned long n = 10000;
	if (argc == 3) {
		char *end;
		n = strtoul(argv[2], &end, 0);
		if (*end || !n) {
			fprintf(stderr, "ampl_icount: '%s' is not a message count\n", argv[2]);
			return 2;
		}
	}
	if (!strcmp(layer, "ring")) {
		static struct ring q;
		icount_ring(&q, n);
	} else if (!strcmp(layer, "raw")) {
		run_raw(n);
	} else if (!strcmp(layer, "mbox")) {
		run_mbox(n);
	} else if (!strcmp(layer, "ipm")) {
		run_ipm(n);
	} else if (!strcmp(layer, "ipm-direct")) {
		run_ipm_direct(n);
	} else if (!strcmp(layer, "icmsg")) {
		run_ipc("rpu0", "ipc_icmsg_apu", "ipc_icmsg_rpu0", icount_icmsg, n);
	} else if (!strcmp(layer, "icmsg-polled")) {
		polled_rx = true;
		run_ipc("rpu0", "ipc_icmsg_apu", "ipc_icmsg_rpu0", icount_icmsg_polled, n);
	} else if (!strcmp(layer, "icmsg-stream")) {
		run_ipc("rpu0", "ipc_icmsg_apu", "ipc_icmsg_rpu0", icount_icmsg_stream, n);
	} else if (!strcmp(layer, "multi")) {
		run_ipc("rpu1", "ipc_multi_apu", "ipc_multi_rpu1", icount_multi, n);
	} else if (!strcmp(layer, "multi-inline")) {
		multi_inline_max = 64;
		run_ipc("rpu1", "ipc_multi_apu", "ipc_multi_rpu1", icount_multi_inline, n);
	} else if (!strcmp(layer, "multi-zc")) {
		run_ipc("rpu1", "ipc_multi_apu", "ipc_multi_rpu1", icount_multi_zc, n);
	} else if (!strcmp(layer, "rpmsg")) {
		run_ipc("rpu0", "ipc_rpmsg_apu", "ipc_rpmsg_rpu0", icount_rpmsg, n);
	} else if (!strcmp(layer, "rpmsg-zc")) {
		run_ipc("rpu0", "ipc_rpmsg_apu", "ipc_rpmsg_rpu0", icount_rpmsg_zc, n);
	} else {
		fprintf(stderr, "ampl_icount: unknown layer '%s'\n", layer);
		return 2;
	}
	if (got != n || bad) {
		fprintf(stderr, "ampl_icount: %s: %lu of %lu messages received, %lu wrong\n", layer, got, n, bad);
		return 1;
	}
	printf("%s: %lu messages\n", layer, n);
	return 0;
}
