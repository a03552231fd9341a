/*
 * OpenAMP's machine layer (include/amplink/compat/platform/platform_info.h) as firmware, for an OpenAMP-style program built
 * unchanged against include/amplink/compat (mps2-an386 under QEMU, reached through the virtual SoC's bridge):
 *   platform_init()               boot, the bridged mailbox and the instance's device (OPENAMP_FW_IPC, default
 *                                 DT_NODELABEL(ipc_rpmsg_rpu0)) registered (compat_fw_boot)
 *   platform_create_rpmsg_vdev()  the instance opened, its role checked against @role: its RPMsg device
 *   platform_poll()               a millisecond's wait (compat_fw.c's ampl_os_wait: the polled doorbell is polled
 *                                 there, so callbacks run)
 *   platform_release_rpmsg_vdev() the instance closed
 *   platform_cleanup()            nothing: the report and the verdict (compat_fw_end) follow main()'s return
 *   printf, metal_log             through compat_fw.c's vprintk (semihosting): the C library's stdio is not used
 *   main()                        the program's main(argc, argv) (compiled as ampl_openamp_main) with argv
 *                                 { "openamp_compat", NULL }; the image's exit code is 0 when it returned 0 and
 *                                 the mailbox saw no protocol error
 * Not covered, as on the virtual SoC: @rst_cb, @ns_bind_cb, a @vdev_index other than 0.
 */
#include <stdarg.h>
#include <stdio.h>

#include <amplink/ipc/ipc_rpmsg.h>
#include <amplink/ipc_service.h>
#include <metal/log.h>
#include <zephyr/kernel.h>

#include "compat_fw.h"
#include "platform_info.h"

#define NAME "openamp_compat"
#ifndef OPENAMP_FW_IPC
#define OPENAMP_FW_IPC DT_NODELABEL(ipc_rpmsg_rpu0)
#endif

static const struct ampl_device *const inst = DEVICE_DT_GET(OPENAMP_FW_IPC);
static bool opened;

int platform_init(int argc, char *argv[], void **platform)
{
	(void)argc;
	(void)argv;
	compat_fw_boot(NAME, inst);
	*platform = (void *)(uintptr_t)inst;
	return 0;
}

struct rpmsg_device *platform_create_rpmsg_vdev(void *platform, unsigned int vdev_index, unsigned int role,
						void (*rst_cb)(void *vdev), rpmsg_ns_bind_cb ns_bind_cb)
{
	(void)rst_cb;
	(void)ns_bind_cb;
	if (platform != (void *)(uintptr_t)inst || vdev_index != 0 || role > VIRTIO_DEV_DEVICE) {
		printk(NAME ": platform_create_rpmsg_vdev: no platform, or index %u / role %u\n", vdev_index, role);
		return NULL;
	}
	if (((const struct ipc_rpmsg_config *)inst->config)->role != (int)role) {
		printk(NAME ": the instance's role is not the %s asked for\n",
		       role == VIRTIO_DEV_DEVICE ? "remote (VIRTIO_DEV_DEVICE)" : "host (VIRTIO_DEV_DRIVER)");
		return NULL;
	}
	int r = ipc_service_open_instance(inst);
	if (r && r != -EALREADY) {
		printk(NAME ": opening the RPMsg instance failed: %d\n", r);
		return NULL;
	}
	opened = true;
	return ipc_rpmsg_device(inst);
}

int platform_poll(void *platform)
{
	(void)platform;
	k_msleep(1);
	return 0;
}

void platform_release_rpmsg_vdev(struct rpmsg_device *rpdev, void *platform)
{
	(void)rpdev;
	(void)platform;
	if (opened)
		(void)ipc_service_close_instance(inst);
	opened = false;
}

void platform_cleanup(void *platform)
{
	(void)platform; /* the report follows main()'s return */
}

int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	return 0;
}

void metal_log(enum metal_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "emergency", "alert", "critical", "error",
					     "warning",   "notice", "info",     "debug" };
	va_list ap;
	if (level > METAL_LOG_INFO)
		return;
	printk("%s: ", names[level]);
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

int ampl_openamp_main(int argc, char *argv[]);

int main(void)
{
	static char prog[] = NAME;
	static char *argv[] = { prog, NULL };
	return compat_fw_end(NAME, ampl_openamp_main(1, argv));
}
