/*
 * The host side unchanged: a Linux process attached to the virtual SoC as the APU talks to RPU0 running as firmware
 * under QEMU with the ordinary APIs, through the bridge (src/sim/emu_bridge.c) and regions backed by the emulator's
 * RAM file. For each doorbell mode (polled, then UART interrupts):
 *   IPM    1,000 checksummed requests with ipm_send(wait) on the board's ipi_apu_rpu0, each answered by ipm_echo.elf
 *          through the IPI response buffer with its own checksummed words (checked here);
 *   ICMsg  1,000 checksummed asks on the board's ipc_icmsg_apu instance (ipc_service_* from the devicetree, rings in
 *          the backed region), each answered by icmsg_echo_soc.elf with its own bytes and checksum.
 * The firmware's exit code is its verdict on what it received. Round trips are printed, never asserted.
 * Exits 77 (skipped) without the firmware images or qemu-system-arm, saying why.
 */
#include <stdlib.h>

#include "fw_bridge.h"
#include "sim/emu_link.h"

int main(void)
{
	static const char *const envs[] = { "AMPL_FW_IPM_ECHO", "AMPL_FW_ICMSG_ECHO_SOC" };
	if (fw_can_run(envs, 2))
		return FW_SKIP;
	const char *ipm_elf = getenv(envs[0]), *icmsg_elf = getenv(envs[1]);
	int failed = fw_bridge_run(ipm_elf, true, AMPL_EMU_DOORBELL_POLL, FW_COUNT, 0, false, NULL);
	failed += fw_bridge_run(ipm_elf, true, AMPL_EMU_DOORBELL_IRQ, FW_COUNT, 0, false, NULL);
	failed += fw_bridge_run(icmsg_elf, false, AMPL_EMU_DOORBELL_POLL, FW_COUNT, 0, false, NULL);
	failed += fw_bridge_run(icmsg_elf, false, AMPL_EMU_DOORBELL_IRQ, FW_COUNT, 0, false, NULL);
	return failed ? 1 : 0;
}
