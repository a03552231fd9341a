/*
 * What every echo firmware under QEMU does besides its backend: boot against the host launcher (boot block,
 * doorbell in the mode the host wrote), run until the host asks it to stop, report, exit; and the echo protocol's
 * firmware end (echo.h): check each ask, track its sequence number per endpoint in the boot block, build the
 * answer. Firmware only (any board of firmware/boards: its board.h and emu_doorbell.c).
 *
 *     fw_app_start("name")            board up, BOOTING, boot counted, doorbell started (exits on failure)
 *     open the backend on fw_db.chans[EMU_DOORBELL_TX / _RX]
 *     fw_app_ready()                  READY: the host opens its side
 *     return fw_app_run("name")       until boot->stop; counters to the boot block; the verdict
 *
 * An application that needs more than the doorbell (the mailbox of the virtual SoC's bridge, emu_mbox.h) or reports
 * words of its own (ipm_echo) runs with fw_app_run_with() and its struct fw_app_hooks.
 *
 * Contexts: fw_app_* in main; echo_fw_* in the backend's receive context (the UART interrupt, or the polling
 * loop of fw_app_run()), one call at a time.
 */
#ifndef FW_APP_H
#define FW_APP_H

#include <amplink/emu.h>

#include "board.h"
#include "echo.h"
#include "emu_doorbell.h"
#include "emu_mbox.h"
#include "emu_trace.h"

/** The window's boot block, and the doorbell controller (node "/emu-doorbell"). */
extern struct ampl_emu_boot *const fw_boot;
extern struct emu_doorbell fw_db;

/** fw_app_start() - see above. Return: the doorbell mode (AMPL_EMU_DOORBELL_*); on failure it exits. */
uint32_t fw_app_start(const char *name);

/** fw_app_fail() - report "@name: @what, errno N" and exit with ECHO_EXIT_INIT. */
_Noreturn void fw_app_fail(const char *name, const char *what, int err);

/**
 * fw_app_mbox_start() - start the bridged mailbox @mb (an image reached through the virtual SoC) and require its
 * channel 0 (the APU) in @want_mode (AMPL_EMU_CHAN_*; otherwise @wrong_mode is reported with the mode found); on failure
 * it exits: no mailbox area in the window (not started through the bridge) with ECHO_EXIT_NO_HOST, anything else
 * with ECHO_EXIT_INIT.
 */
void fw_app_mbox_start(const char *name, struct emu_mbox *mb, const struct emu_mbox_config *cfg, uint32_t want_mode,
		       const char *wrong_mode);

/**
 * fw_app_check_window() - exit with ECHO_EXIT_INIT unless @boot_addr, where the image's devicetree puts the boot
 * block (emu_boot of dts/emu-link.dts through the board's --map), is this board's window (__shm_start): every
 * region the image takes from the same generated header is then where the host, reading the devicetree, expects it.
 */
void fw_app_check_window(const char *name, uintptr_t boot_addr);

/** fw_app_ready() - tell the host the backend is open. */
void fw_app_ready(const char *name);

/** fw_app_run() - poll or sleep until the host asks to stop; report; return the exit code (ECHO_EXIT_*). */
int fw_app_run(const char *name);

/**
 * struct fw_app_hooks - what an application adds to fw_app_run(); each may be NULL.
 * @poll:   polled doorbell mode: called after each poll of the doorbell (e.g. mbox_poll_all() for the TX done of
 *          the bridged mailbox)
 * @stop:   a reason of the application's own to stop, besides the host's stop word (e.g. a STOP request); read
 *          from main between polls or wake-ups
 * @report: the application's report and verdict (ECHO_EXIT_*) instead of the echo protocol's (its words in the
 *          boot block are then its own, but for ECHO_APP_RINGS_IN and ECHO_APP_RINGS_OUT, which fw_app_run_with()
 *          writes before it calls @report)
 */
struct fw_app_hooks {
	void (*poll)(void);
	bool (*stop)(void);
	int (*report)(const char *name);
};

/** fw_app_run_with() - fw_app_run() with @hooks (NULL: none). */
int fw_app_run_with(const char *name, const struct fw_app_hooks *hooks);

/** echo_fw_rebind() - endpoint @ept bound or unbound (@bound): its next ask may skip what was in flight. */
void echo_fw_rebind(unsigned ept, bool bound);

/**
 * echo_fw_answer() - check @ask (@len bytes, read once into the checks) arrived on endpoint @ept and write the
 * answer into @answer (ECHO_MSG_MAX bytes). Return: the answer's length.
 */
size_t echo_fw_answer(unsigned ept, const uint8_t *ask, size_t len, uint8_t *answer);

/**
 * echo_fw_sent() - the result @r of sending an answer: < 0 with @link_down (the backend said the link is down:
 * the host closed or restarted, and what was in flight is lost) is counted as dropped; any other < 0 as failed,
 * and kept as the last error.
 */
void echo_fw_sent(int r, bool link_down);

#endif /* FW_APP_H */
