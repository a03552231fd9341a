/*
 * The firmware runner of a Zephyr-style program built unchanged against include/amplink/compat (mps2-an386 under QEMU,
 * reached through the virtual SoC's bridge): boot, the bridged mailbox and the program's IPC instance
 * (ZEPHYR_FW_IPC, default DT_NODELABEL(ipc0)) registered (compat_fw_boot), then the program's main() (compiled as
 * ampl_zephyr_main, -Dmain=ampl_zephyr_main), then the report and the verdict (compat_fw_end): the image's exit
 * code is 0 when main() returned 0 and the mailbox saw no protocol error. printk, the log lines and the waits of
 * k_sem_take()/k_msleep() are compat_fw.c's.
 */
#include <zephyr/kernel.h>

#include "compat_fw.h"

#define NAME "zephyr_compat"
#ifndef ZEPHYR_FW_IPC
#define ZEPHYR_FW_IPC DT_NODELABEL(ipc0)
#endif

int ampl_zephyr_main(void);

int main(void)
{
	compat_fw_boot(NAME, DEVICE_DT_GET(ZEPHYR_FW_IPC));
	return compat_fw_end(NAME, ampl_zephyr_main());
}
