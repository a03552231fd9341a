/*
 * ICMsg echo firmware for mps2-an386 under QEMU: the IPC service with the ICMsg backend (the library's own code),
 * its rings in the shared window, rung through the emulator doorbell in the mode the host wrote in the boot block
 * (UART1 interrupts, or polling the counter words). Every ask is checked (length, kind, sequence, checksum) and
 * answered with the firmware's own bytes and checksum; the counters go to the boot block and the verdict is the
 * exit code (icmsg_echo.h).
 */
#include <amplink/emu.h>
#include <amplink/ipc/ipc_icmsg.h>
#include <amplink/ipc_service.h>

#include "board.h"
#include "emu_doorbell.h"
#include "icmsg_echo.h"

#define ANSWER_RETRY_US 200000u /* how long an answer waits for room in the ring before it counts as failed */

static struct ampl_emu_boot *const boot = (struct ampl_emu_boot *)(void *)__shm_start;

static const struct emu_doorbell_config db_cfg = {
	.node = "/emu-doorbell",
	.uart_base = MPS2_UART1_BASE,
	.rx_irq = MPS2_UART1_RX_IRQ,
	.boot = (struct ampl_emu_boot *)(void *)__shm_start,
};
static struct emu_doorbell db;

#ifdef ECHO_VIA_SOC
#include "emu_mbox.h"
/* The IPI to the APU, carried by the host's bridge (mailbox channel 0, doorbell mode). */
static const struct emu_mbox_config mb_cfg = {
	.area = (struct ampl_emu_mbox *)(void *)(__shm_start + AMPL_EMU_MBOX_OFF),
	.db = &db,
	.node = "/emu-mbox",
};
static struct emu_mbox mb;
#define ECHO_TX_CHAN (&mb.chans[0])
#define ECHO_RX_CHAN (&mb.chans[1])
#else
#define ECHO_TX_CHAN (&db.chans[EMU_DOORBELL_TX])
#define ECHO_RX_CHAN (&db.chans[EMU_DOORBELL_RX])
#endif

static uint8_t rx_buf[ECHO_RX_BUF];

static const struct ipc_icmsg_config ipc0_config = {
	.icmsg = {
		.tx_mem = __shm_start + ECHO_RING_TO_HOST,
		.tx_size = ECHO_RING_SIZE,
		.rx_mem = __shm_start + ECHO_RING_TO_FW,
		.rx_size = ECHO_RING_SIZE,
		.dcache_alignment = ECHO_DCACHE_ALIGN,
		.unbound_mode = ICMSG_UNBOUND_MODE_DISABLE,
		.size_ext = true, /* both ends tell their receive limit (amplink,max-packet-ext) */
		.tx_chan = ECHO_TX_CHAN,
		.rx_chan = ECHO_RX_CHAN,
		.rx_buf = rx_buf,
		.rx_buf_size = sizeof(rx_buf),
	},
};
static struct ipc_icmsg_data ipc0_data;
AMPL_DEVICE_DEFINE(ipc0, "ipc-icmsg-emu", "ipc_icmsg_emu", NULL, &ipc_icmsg_backend, &ipc0_config, &ipc0_data);

static struct ipc_ept ept;
static uint32_t next_seq;
static uint8_t answer[ECHO_HDR + ECHO_MAX_PAYLOAD + ECHO_SUM];

static void count(unsigned word, uint32_t n)
{
	atomic_fetch_add(&boot->app[word], n);
}

static void on_bound(void *priv)
{
	(void)priv;
	atomic_store(&boot->app[ECHO_APP_BOUND], 1u);
}

/* The RX context (UART interrupt, or the polling loop): one call at a time, so `answer` needs no lock. */
static void on_received(const void *data, size_t len, void *priv)
{
	const uint8_t *ask = data;
	uint8_t status = echo_check(ask, len, ECHO_KIND_ASK, next_seq);
	uint32_t seq = len >= ECHO_HDR ? echo_get32(ask) : next_seq;
	uint32_t n = 0;

	(void)priv;
	count(ECHO_APP_ASKS, 1);
	if (status == ECHO_OK || status == ECHO_BAD_SEQ) {
		n = (uint32_t)ask[4] | (uint32_t)ask[5] << 8; /* well-formed: the length was checked */
		for (uint32_t i = 0; i < n; i++)
			answer[ECHO_HDR + i] = echo_answer_byte(ask + ECHO_HDR, n, i);
	}
	if (status != ECHO_OK)
		count(ECHO_APP_BAD, 1);
	next_seq = seq + 1u; /* resynchronise after a bad one: one error is counted once */
	size_t total = echo_seal(answer, seq, n, ECHO_KIND_ANSWER, status);

	/* The host reads its ring independently of us, so waiting here for room ends; bounded all the same. */
	uint64_t start = ampl_os_uptime_us();
	int r;
	while ((r = ipc_service_send(&ept, answer, total)) == -ENOMEM &&
	       ampl_os_uptime_us() - start < ANSWER_RETRY_US)
		;
	if (r < 0) {
		count(ECHO_APP_TX_FAIL, 1);
		atomic_store(&boot->app[ECHO_APP_LAST_ERR], (uint32_t)-r);
	}
}

static const struct ipc_ept_cfg ept_cfg = {
	.name = "echo",
	.cb = { .bound = on_bound, .received = on_received },
};

static bool stop_requested(void *arg)
{
	(void)arg;
	return atomic_load(&boot->stop) != 0;
}

int main(void)
{
	board_init();
	atomic_fetch_add(&boot->fw_boots, 1u);
	if (boot->magic != AMPL_EMU_MAGIC) {
		board_puts("icmsg_echo: no boot block in the window (start me with the host launcher)\n");
		return ECHO_EXIT_NO_HOST;
	}
	uint32_t mode = boot->doorbell;
	if (mode != AMPL_EMU_DOORBELL_IRQ && mode != AMPL_EMU_DOORBELL_POLL) {
		board_put_u32("icmsg_echo: unknown doorbell mode", mode);
		return ECHO_EXIT_BAD_MODE;
	}
	int r = emu_doorbell_init(&db, &db_cfg, mode);
#ifdef ECHO_VIA_SOC
	if (!r)
		r = emu_mbox_init(&mb, &mb_cfg);
	if (!r && emu_mbox_mode(&mb, 0) != AMPL_EMU_CHAN_DOORBELL)
		r = -EINVAL;
#endif
	if (!r)
		r = ipc_service_open_instance(&ipc0);
	if (!r)
		r = ipc_service_register_endpoint(&ipc0, &ept, &ept_cfg);
	if (r) {
		board_put_u32("icmsg_echo: start failed, errno", (uint32_t)-r);
		return ECHO_EXIT_INIT;
	}
	atomic_store(&boot->fw_state, AMPL_EMU_FW_READY);
	board_puts(mode == AMPL_EMU_DOORBELL_IRQ ? "icmsg_echo: ready, doorbell UART1 (interrupts)\n"
						 : "icmsg_echo: ready, doorbell polled\n");

	while (!stop_requested(NULL)) {
		if (mode == AMPL_EMU_DOORBELL_POLL) {
			(void)emu_doorbell_poll(&db);
#ifdef ECHO_VIA_SOC
			(void)mbox_poll_all(); /* TX done of the rings to the host */
#endif
		}
		else
			board_idle(stop_requested, NULL);
	}

	uint32_t in, out;
	emu_doorbell_rings(&db, &in, &out);
	atomic_store(&boot->app[ECHO_APP_RINGS_IN], in);
	atomic_store(&boot->app[ECHO_APP_RINGS_OUT], out);
	uint32_t bad = atomic_load(&boot->app[ECHO_APP_BAD]), fail = atomic_load(&boot->app[ECHO_APP_TX_FAIL]);
	board_put_u32("icmsg_echo: asks", atomic_load(&boot->app[ECHO_APP_ASKS]));
	board_put_u32("icmsg_echo: bad asks", bad);
	board_put_u32("icmsg_echo: failed answers", fail);
	board_put_u32("icmsg_echo: doorbells in", in);
	board_put_u32("icmsg_echo: doorbells out", out);
	int result = bad || fail ? ECHO_EXIT_ERRORS : ECHO_EXIT_OK;
	atomic_store(&boot->fw_result, (uint32_t)result);
	/* The host waits for QEMU's exit, not for this word, before it closes the serial socket. */
	atomic_store(&boot->fw_state, AMPL_EMU_FW_STOPPED);
	return result;
}
