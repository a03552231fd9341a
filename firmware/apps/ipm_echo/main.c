/*
 * IPM echo firmware for RPU0 under QEMU (mps2-an386), reached through the virtual SoC: the bridge on the host is
 * RPU0's agent and carries the IPI to the window's mailbox area; this firmware sees it as an IPM device (Zephyr's
 * API: ipm_register_callback, ipm_set_enabled) and answers every request through the response buffer, in the
 * format of `amplink demo` (ipm_echo.h). The doorbell mode (UART1 interrupts or polling) is the host's, from the
 * boot block; the mailbox channel 0 is the APU. It exits when the host sets the boot block's stop word or sends
 * the demo's STOP request (the exit code is the verdict, QEMU's exit status).
 */
#include <amplink/emu.h>
#include <amplink/ipm.h>

#include "board.h"
#include "emu_doorbell.h"
#include "emu_mbox.h"
#include "ipm_echo.h"

static struct ampl_emu_boot *const boot = (struct ampl_emu_boot *)(void *)__shm_start;

static const struct emu_doorbell_config db_cfg = {
	.node = "/emu-doorbell",
	.uart_base = MPS2_UART1_BASE,
	.rx_irq = MPS2_UART1_RX_IRQ,
	.boot = (struct ampl_emu_boot *)(void *)__shm_start,
};
static struct emu_doorbell db;

static const struct emu_mbox_config mb_cfg = {
	.area = (struct ampl_emu_mbox *)(void *)(__shm_start + AMPL_EMU_MBOX_OFF),
	.db = &db,
	.node = "/emu-mbox",
};
static struct emu_mbox mb;

/* RPU0's IPI destination to the APU, as the board's devicetree names it (ipi_rpu0_apu: mailbox@ff990080). */
static const struct emu_ipm_config ipi_cfg = { .mbox = &mb, .chan = 0 };
static struct emu_ipm_data ipi_data;
AMPL_DEVICE_DEFINE(ipi_rpu0_apu, "mailbox@ff990080", "ipi_rpu0_apu", NULL, &emu_ipm_api, &ipi_cfg, &ipi_data);

static uint32_t next_seq;
static volatile bool stop_seen; /* the host sent STOP: exit once it is acknowledged */

static void count(unsigned word)
{
	atomic_fetch_add(&boot->app[word], 1u);
}

/* The doorbell's RX context (UART interrupt, or the polling loop). */
static void on_request(const struct device *dev, void *user_data, uint32_t id, volatile void *data)
{
	uint32_t req[IPM_ECHO_WORDS], resp[IPM_ECHO_WORDS];

	(void)user_data;
	(void)id;
	for (unsigned i = 0; i < IPM_ECHO_WORDS; i++)
		req[i] = ((volatile uint32_t *)data)[i];
	if (req[0] == IPM_ECHO_STOP_SEQ) {
		count(IPM_ECHO_APP_STOPS);
		stop_seen = true;
		return;
	}
	if (req[7] != ipm_echo_sum(req, 7) || req[0] != next_seq)
		count(IPM_ECHO_APP_BAD);
	next_seq = req[0] + 1u;
	ipm_echo_answer(req, resp);
	(void)emu_ipm_response_write(dev, resp, sizeof(resp));
	count(IPM_ECHO_APP_REQS);
}

static bool stop_requested(void *arg)
{
	(void)arg;
	return atomic_load(&boot->stop) != 0 || stop_seen;
}

int main(void)
{
	board_init();
	atomic_fetch_add(&boot->fw_boots, 1u);
	uint32_t mode = boot->doorbell;
	if (boot->magic != AMPL_EMU_MAGIC || (mode != AMPL_EMU_DOORBELL_IRQ && mode != AMPL_EMU_DOORBELL_POLL)) {
		board_puts("ipm_echo: no boot block in the window (start me with the host launcher)\n");
		return IPM_ECHO_EXIT_NO_HOST;
	}
	int r = emu_doorbell_init(&db, &db_cfg, mode);
	if (!r)
		r = emu_mbox_init(&mb, &mb_cfg);
	if (r == -EPROTO) {
		board_puts("ipm_echo: no mailbox area in the window (start me through the bridge)\n");
		return IPM_ECHO_EXIT_NO_HOST;
	}
	if (!r && emu_mbox_mode(&mb, 0) != AMPL_EMU_CHAN_REQUEST)
		r = -EINVAL;
	if (!r)
		r = ampl_device_register(&ipi_rpu0_apu);
	if (r) {
		board_put_u32("ipm_echo: start failed, errno", (uint32_t)-r);
		return IPM_ECHO_EXIT_INIT;
	}
	ipm_register_callback(&ipi_rpu0_apu, on_request, NULL);
	ipm_set_enabled(&ipi_rpu0_apu, 1);
	atomic_store(&boot->fw_state, AMPL_EMU_FW_READY);
	board_puts(mode == AMPL_EMU_DOORBELL_IRQ ? "ipm_echo: ready, doorbell UART1 (interrupts)\n"
						 : "ipm_echo: ready, doorbell polled\n");

	while (!stop_requested(NULL)) {
		if (mode == AMPL_EMU_DOORBELL_POLL) {
			(void)emu_doorbell_poll(&db);
			(void)mbox_poll_all(); /* TX done of the rings to the host */
		} else {
			board_idle(stop_requested, NULL);
		}
	}
	atomic_store(&boot->app[IPM_ECHO_APP_PROTO], mb.errors);
	uint32_t bad = atomic_load(&boot->app[IPM_ECHO_APP_BAD]);
	board_put_u32("ipm_echo: requests", atomic_load(&boot->app[IPM_ECHO_APP_REQS]));
	board_put_u32("ipm_echo: bad requests", bad);
	board_put_u32("ipm_echo: mailbox protocol errors", mb.errors);
	int result = bad || mb.errors ? IPM_ECHO_EXIT_ERRORS : IPM_ECHO_EXIT_OK;
	atomic_store(&boot->fw_result, (uint32_t)result);
	atomic_store(&boot->fw_state, AMPL_EMU_FW_STOPPED);
	return result;
}
