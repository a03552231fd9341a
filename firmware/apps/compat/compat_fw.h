/*
 * The firmware side of the compat headers (include/amplink/compat) for programs built unchanged as mps2-an386 images under
 * QEMU, reached through the virtual SoC's bridge (compat_fw.c):
 *
 *   compat_fw_boot()  boot against the host launcher (fw_app_start), the bridged mailbox registered under the IPI
 *                     destination the program's IPC instance names (COMPAT_FW_IPI, default DT_NODELABEL(ipm0): the
 *                     compat board's RPU0 to APU, tests/compat/compat-board.dts), the instance's device registered
 *                     (as Zephyr initialises its devices before main(): ampl_device_is_ready() is then true), READY
 *   compat_fw_end()   the report and the verdict in the boot block (STOPPED): the image's exit code
 *   ampl_os_wait      the port hook behind k_sem_take(), k_msleep() and platform_poll(): instead of spinning, it
 *                     idles the core (board_idle: WFI, the mailbox's TX done polled) until the word moves or the
 *                     timeout passes; with the polled doorbell it polls the doorbell itself, so the program's
 *                     receive callbacks run from its own waits (there is no other thread)
 *   printk, vprintk   formatted here (%d %i %u %x %X %c %s %p %%, the l, ll, z and h length modifiers, a field width,
 *                     0 padding) and written with semihosting (board_puts: QEMU's standard output)
 *   ampl_compat_log   LOG_ERR/WRN/INF/DBG as "<lvl> module: text" through printk
 * No threads: K_THREAD_DEFINE stays refused at compile time (include/amplink/compat/zephyr/kernel.h).
 * Context: main (thread) for all but printk/vprintk/ampl_compat_log, which any context may call.
 */
#ifndef COMPAT_FW_H
#define COMPAT_FW_H

#include <zephyr/device.h>

#include "fw_app.h"

#ifndef COMPAT_FW_IPI
#define COMPAT_FW_IPI DT_NODELABEL(ipm0)
#endif

/** compat_fw_boot() - see above; @inst: the program's IPC instance (its device). On failure it exits. */
void compat_fw_boot(const char *name, const struct ampl_device *inst);

/** compat_fw_end() - see above; @rc: the program's main()'s value. Return: ECHO_EXIT_OK (0 and no mailbox protocol
 * error) or ECHO_EXIT_ERRORS. */
int compat_fw_end(const char *name, int rc);

#endif /* COMPAT_FW_H */
