/*
 * The host side unchanged, run against firmware: an APU process attached to the virtual SoC talks to RPU0 running
 * as firmware under QEMU through the bridge (src/sim/emu_bridge.c), IPM on ipi_apu_rpu0 (ipm_echo.elf) or ICMsg on
 * ipc_icmsg_apu (icmsg_echo_soc.elf). Shared by test_fw_bridge and the benchmark (amplink bench --firmware).
 */
#ifndef FW_BRIDGE_H
#define FW_BRIDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "fw_host.h"

/**
 * fw_bridge_run() - start @elf under QEMU with doorbell @mode behind a SoC backed by its window and the bridge,
 * attach as the APU and send @count checksummed messages one at a time (IPM: ipm_send with wait, the response
 * checked; ICMsg: an ask, its answer checked), then, if @seconds > 0, stream for @seconds (IPM one request at a
 * time, as the IPI buffer holds one; ICMsg with up to FW_IN_FLIGHT asks outstanding). Checks the firmware's count,
 * the bridge's error count and the firmware's exit code. @quiet: only failures are printed (else the test's
 * report lines). @out: the figures (may be NULL).
 * Return: 0 (passed), 1 (failed: printed)
 */
int fw_bridge_run(const char *elf, bool ipm, uint32_t mode, unsigned count, double seconds, bool quiet,
		  struct fw_figures *out);

#endif /* FW_BRIDGE_H */
