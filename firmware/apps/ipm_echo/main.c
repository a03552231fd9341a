/*
 * IPM echo firmware for RPU0 under QEMU (mps2-an386), reached through the virtual SoC: the bridge on the host is
 * RPU0's agent and carries the IPI to the window's mailbox area; this firmware sees it as an IPM device (Zephyr's
 * API: ipm_register_callback, ipm_set_enabled) and answers every request through the response buffer, in the
 * format of `amplink demo` (ipm_echo.h). Boot, run loop and exit are the echo firmware's (common/fw_app.h): the
 * doorbell mode (UART1 interrupts or polling) is the host's, from the boot block; the mailbox channel 0 is the APU.
 * It exits when the host sets the boot block's stop word or sends the demo's STOP request (the exit code is the
 * verdict, QEMU's exit status). The IPI destination is the board devicetree's ipi_rpu0_apu (board_gen.h, generated at
 * build time by `amplink dt gen --agent rpu0`): the bridged mailbox is registered under its path and the IPM device
 * takes its name and label, as the Linux RPU0's device has them; no address is written here.
 */
#include <amplink/ipm.h>

#include "board_gen.h"
#include "emu_mbox.h"
#include "fw_app.h"
#include "ipm_echo.h"

#define NAME "ipm_echo"
#define IPI DT_NODELABEL(ipi_rpu0_apu) /* RPU0's IPI destination to the APU */

static const struct emu_mbox_config mb_cfg = {
	.area = (struct ampl_emu_mbox *)(void *)(__shm_start + AMPL_EMU_MBOX_OFF),
	.db = &fw_db,
	.node = AMPL_DT_PATH_STR(IPI),
};
static struct emu_mbox mb;

/* RPU0's IPI destination to the APU (mailbox channel 0 of the bridge), named as the devicetree names it. */
#define NODE_LABEL_(node_id) node_id##_LABEL
#define NODE_LABEL(node_id) NODE_LABEL_(node_id) /* the node's label (expanded first) */
static const struct emu_ipm_config ipi_cfg = { .mbox = &mb, .chan = 0 };
static struct emu_ipm_data ipi_data;
AMPL_DEVICE_DEFINE(ipi_rpu0_apu, DT_NODE_FULL_NAME(IPI), NODE_LABEL(IPI), NULL, &emu_ipm_api, &ipi_cfg, &ipi_data);

static bool resumed;      /* a later boot (the firmware was reset) whose first request has not come yet */
static bool first_of_boot = true;
static volatile bool stop_seen; /* the host sent STOP: exit once it is acknowledged */

static void count(unsigned word)
{
	atomic_fetch_add(&fw_boot->app[word], 1u);
}

/* The doorbell's RX context (UART interrupt, or the polling loop). */
static void on_request(const struct ampl_device *dev, void *user_data, uint32_t id, volatile void *data)
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
	uint32_t next = atomic_load(&fw_boot->app[IPM_ECHO_APP_NEXT]);
	if (req[0] < next) {
		/* Answered before (by this boot or an earlier one): refused, never answered twice. */
		for (unsigned i = 0; i < IPM_ECHO_WORDS; i++)
			resp[i] = 0;
		(void)emu_ipm_response_write(dev, resp, sizeof(resp));
		count(IPM_ECHO_APP_DUPS);
		return;
	}
	/* A skip is a request lost, allowed only across a reset (the one in flight when the firmware died). */
	if (req[7] != ipm_echo_sum(req, 7) || (req[0] != next && !resumed))
		count(IPM_ECHO_APP_BAD);
	if (first_of_boot)
		atomic_store(&fw_boot->app[IPM_ECHO_APP_FIRST], req[0]);
	first_of_boot = false;
	resumed = false;
	atomic_store(&fw_boot->app[IPM_ECHO_APP_NEXT], req[0] + 1u);
	ipm_echo_answer(req, resp);
	(void)emu_ipm_response_write(dev, resp, sizeof(resp));
	count(IPM_ECHO_APP_REQS);
}

static void poll_mbox(void)
{
	(void)mbox_poll_all(); /* TX done of the requests to the host */
}

static bool stop_sent(void)
{
	return stop_seen;
}

static int report(const char *name)
{
	atomic_store(&fw_boot->app[IPM_ECHO_APP_PROTO], mb.errors);
	uint32_t bad = atomic_load(&fw_boot->app[IPM_ECHO_APP_BAD]), dups = atomic_load(&fw_boot->app[IPM_ECHO_APP_DUPS]);
	board_puts(name);
	board_put_u32(": requests", atomic_load(&fw_boot->app[IPM_ECHO_APP_REQS]));
	board_puts(name);
	board_put_u32(": bad requests", bad);
	board_puts(name);
	board_put_u32(": requests delivered twice (refused)", dups);
	board_puts(name);
	board_put_u32(": STOP requests", atomic_load(&fw_boot->app[IPM_ECHO_APP_STOPS]));
	board_puts(name);
	board_put_u32(": mailbox protocol errors", mb.errors);
	board_puts(name);
	board_put_u32(": doorbells in", atomic_load(&fw_boot->app[ECHO_APP_RINGS_IN]));
	board_puts(name);
	board_put_u32(": doorbells out", atomic_load(&fw_boot->app[ECHO_APP_RINGS_OUT]));
	return bad || dups || mb.errors ? ECHO_EXIT_ERRORS : ECHO_EXIT_OK;
}

static const struct fw_app_hooks hooks = { .poll = poll_mbox, .stop = stop_sent, .report = report };

int main(void)
{
	(void)fw_app_start(NAME);
	resumed = atomic_load(&fw_boot->fw_boots) > 1u;
	fw_app_mbox_start(NAME, &mb, &mb_cfg, AMPL_EMU_CHAN_REQUEST, "mailbox channel 0 not in request mode: mode");
	int r = ampl_device_register(&ipi_rpu0_apu);
	if (r)
		fw_app_fail(NAME, "IPM device start failed, errno", r);
	ipm_register_callback(&ipi_rpu0_apu, on_request, NULL);
	ipm_set_enabled(&ipi_rpu0_apu, 1);
	fw_app_ready(NAME);
	return fw_app_run_with(NAME, &hooks);
}
