/*
 * The host side unchanged, run against firmware: an APU process attached to the virtual SoC talks to RPU0 running
 * as firmware under QEMU through the bridge (src/sim/emu_bridge.c), IPM on ipi_apu_rpu0 (ipm_echo.elf), ICMsg on
 * ipc_icmsg_apu (icmsg_echo_soc.elf), RPMsg on ipc_rpmsg_apu (rpmsg_remote_soc.elf, endpoints echo0 and echo1), or
 * to RPU1 with the multi-endpoint backend on ipc_multi_apu (multi_soc.elf, echo1's messages sent zero-copy). The
 * _soc images speak `amplink demo`'s format (firmware/apps/soc_echo/soc_echo.h). Shared by test_fw_bridge and the
 * benchmark (amplink bench --firmware).
 */
#ifndef FW_BRIDGE_H
#define FW_BRIDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "fw_host.h"

/* The backends through the bridge (the order of test_fw_bridge's runs). */
enum fw_bridge_kind { FW_BRIDGE_IPM, FW_BRIDGE_ICMSG, FW_BRIDGE_RPMSG, FW_BRIDGE_MULTI, FW_BRIDGE_KINDS };

/** fw_bridge_name() - the backend's short name: "ipm", "icmsg", "rpmsg" or "multi". */
const char *fw_bridge_name(enum fw_bridge_kind k);

/**
 * fw_bridge_run() - start @elf under QEMU with doorbell @mode behind a SoC backed by its window and the bridge,
 * attach as the APU (backend @k) and send @count checksummed messages one at a time (IPM: ipm_send with wait, the
 * response checked; the IPC service backends: a message, its echo compared byte for byte, the endpoints in turn),
 * then, if @seconds > 0, stream for @seconds (IPM one request at a time, as the IPI buffer holds one; the others
 * with up to FW_IN_FLIGHT messages outstanding), and send the IPC service backends' STOP. Checks the firmware's
 * count of messages and (IPC service) of bad ones, the bridge's error count and the firmware's exit code. @quiet:
 * only failures are printed (else the test's report lines). @out: the figures (may be NULL).
 * Return: 0 (passed), 1 (failed: printed)
 */
int fw_bridge_run(const char *elf, enum fw_bridge_kind k, uint32_t mode, unsigned count, double seconds, bool quiet,
		  struct fw_figures *out);

/**
 * fw_bridge_reset() - the firmware reset mid-stream through the bridge, for backend @k: as fw_bridge_run() with
 * FW_RESUME round trips and no stream, the SoC created from @dts (NULL: the default board; ICMsg needs both
 * instances in session mode, dts/zynqmp-apu-rpu0-session.dts, and @elf generated from it), then the firmware reset
 * (its agent offline, QEMU killed with SIGKILL and started again on the same window, back online:
 * ampl_emu_bridge_fw_down() and ampl_emu_bridge_restart()).
 * IPC service backends (ICMsg, RPMsg, multi): FW_IN_FLIGHT messages sent without waiting before the reset; every
 * endpoint here must go unbound and bind again, and FW_RESUME more messages must all be echoed. Every echo must be
 * exactly the next one expected (nothing delivered twice, nothing lost within a binding; only what was in flight
 * at the reset may be lost, counted; the firmware's count of echoes may miss one more, sent just before the kill).
 * Then (ICMsg and multi-endpoint) the rebind: FW_IN_FLIGHT more sent without waiting, this side's endpoints deregistered and its instance
 * closed while the firmware runs, opened and registered again; every endpoint must bind again and FW_RESUME more
 * messages be echoed under the same rules (what was in flight at the close may be lost, counted).
 * IPM: the firmware taken down as soon as the bridge passed on a request sent with ipm_send(wait) (that call must
 * return 0 with the right response, or -ESHUTDOWN; never hang); while it is down ipm_send (with and without wait)
 * must return -ESHUTDOWN; after the restart FW_RESUME more requests, each response checked, and the new boot's
 * first answer must be to the first request sent after the restart (never to one from before it).
 * The firmware checks the same from its side (its next sequence number is kept in the window: a request below it
 * is counted as delivered twice) and its exit code is its verdict. Return: 0 (passed), 1 (failed: printed)
 */
int fw_bridge_reset(const char *elf, enum fw_bridge_kind k, uint32_t mode, const char *dts);

#endif /* FW_BRIDGE_H */
