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
 * Then the firmware reset mid-stream through the bridge, for IPM, ICMsg (both instances in session mode:
 * dts/zynqmp-apu-rpu0-session.dts, the SoC here and icmsg_echo_soc_session.elf generated from it), RPMsg and the
 * multi-endpoint backend, each with interrupts, IPM and ICMsg also polled (fw_bridge_reset(): QEMU killed and
 * started again with messages in flight; the APU's endpoints must go unbound and bind again, the stream resume,
 * nothing be delivered twice; then, for ICMsg and multi-endpoint, the rebind: the APU closes its endpoints and instance mid-stream and opens them
 * again while the firmware runs, under the same rules; for IPM, the request in flight answered or refused with -ESHUTDOWN, every send while
 * the firmware is down refused with -ESHUTDOWN, the requests after the restart each answered and checked, none
 * from before it answered by the new boot).
 * The _soc images are configured from the board's devicetree at build time (`amplink dt gen`), as this process is
 * at run time. The host code is bench/firmware/fw_bridge.c (shared with amplink bench --firmware).
 * The firmware's exit code is its verdict on what it received. Round trips are printed, never asserted.
 * Exits 77 (skipped) without the firmware images or qemu-system-arm, saying why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw_bridge.h"
#include "sim/emu_link.h"

int main(void)
{
	static const char *const envs[FW_BRIDGE_KINDS + 1] = {
		[FW_BRIDGE_IPM] = "AMPL_FW_IPM_ECHO",
		[FW_BRIDGE_ICMSG] = "AMPL_FW_ICMSG_ECHO_SOC",
		[FW_BRIDGE_RPMSG] = "AMPL_FW_RPMSG_REMOTE_SOC",
		[FW_BRIDGE_MULTI] = "AMPL_FW_MULTI_SOC",
		[FW_BRIDGE_KINDS] = "AMPL_FW_ICMSG_ECHO_SOC_SESSION",
	};
	if (fw_can_run(envs, FW_BRIDGE_KINDS + 1))
		return FW_SKIP;
	/* AMPL_FW_BRIDGE_ONLY=ipm|icmsg|rpmsg|multi: one backend (while investigating). */
	const char *only = getenv("AMPL_FW_BRIDGE_ONLY");
	int failed = 0;
	for (unsigned k = 0; k < FW_BRIDGE_KINDS; k++) {
		if (only && *only && strcmp(only, fw_bridge_name((enum fw_bridge_kind)k)))
			continue;
		const char *elf = getenv(envs[k]);
		failed += fw_bridge_run(elf, (enum fw_bridge_kind)k, AMPL_EMU_DOORBELL_POLL, FW_COUNT, 0, false, NULL);
		failed += fw_bridge_run(elf, (enum fw_bridge_kind)k, AMPL_EMU_DOORBELL_IRQ, FW_COUNT, 0, false, NULL);
	}
	/* The firmware reset mid-stream (AMPL_FW_BRIDGE_ONLY=ipm-reset|icmsg-reset|rpmsg-reset|multi-reset: one of them). */
	const char *dts = getenv("AMPL_FW_SESSION_DTS");
	/* With interrupts for every backend, polled for IPM and ICMsg only: polled runs are the slow ones on a loaded machine
	 * (both sides spin), and the test shares the CI's time with the rest of the suite. */
	static const struct {
		const char *only, *env;
		enum fw_bridge_kind k;
		bool session, polled;
	} resets[] = {
		{ "ipm-reset", "AMPL_FW_IPM_ECHO", FW_BRIDGE_IPM, false, true },
		{ "icmsg-reset", "AMPL_FW_ICMSG_ECHO_SOC_SESSION", FW_BRIDGE_ICMSG, true, true },
		{ "rpmsg-reset", "AMPL_FW_RPMSG_REMOTE_SOC", FW_BRIDGE_RPMSG, false, false },
		{ "multi-reset", "AMPL_FW_MULTI_SOC", FW_BRIDGE_MULTI, false, false },
	};
	for (unsigned i = 0; i < sizeof(resets) / sizeof(resets[0]); i++) {
		if (only && *only && strcmp(only, resets[i].only))
			continue;
		if (resets[i].session && (!dts || !*dts)) {
			printf("FAIL %s: AMPL_FW_SESSION_DTS does not name the session-mode board\n", resets[i].only);
			failed++;
			continue;
		}
		const char *elf = getenv(resets[i].env);
		const char *board = resets[i].session ? dts : NULL;
		if (resets[i].polled)
			failed += fw_bridge_reset(elf, resets[i].k, AMPL_EMU_DOORBELL_POLL, board);
		failed += fw_bridge_reset(elf, resets[i].k, AMPL_EMU_DOORBELL_IRQ, board);
	}
	return failed ? 1 : 0;
}
