/*
 * OpenAMP's machine layer (include/amplink/compat/platform/platform_info.h) on the virtual SoC: the RPMsg device of an
 * opened `zephyr,ipc-openamp-static-vrings` instance of the attached agent.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <amplink/errno.h>
#include <amplink/ipc/ipc_rpmsg.h>
#include <amplink/ipc_service.h>
#include <metal/log.h>
#include <platform_info.h>
#include <zephyr/kernel.h>

#include "compat.h"

static const struct ampl_device *rpmsg_instance;

int platform_init(int argc, char *argv[], void **platform)
{
	(void)argc;
	(void)argv;
	int ret = ampl_compat_attach();
	if (!ret)
		*platform = ampl_compat_agent();
	return ret;
}

struct rpmsg_device *platform_create_rpmsg_vdev(void *platform, unsigned int vdev_index, unsigned int role,
						void (*rst_cb)(void *vdev), rpmsg_ns_bind_cb ns_bind_cb)
{
	const struct ampl_soc_agent *info = platform ? ampl_agent_info(platform) : NULL;
	const char *node = getenv("AMPLINK_RPMSG");
	char dflt[64];
	const struct ampl_device *dev = NULL;
	(void)rst_cb;
	if (!info || vdev_index != 0 || role > VIRTIO_DEV_DEVICE) {
		fprintf(stderr, "amplink compat: platform_create_rpmsg_vdev: no platform, or index %u / role %u\n",
			vdev_index, role);
		return NULL;
	}
	if (!node || !*node) {
		snprintf(dflt, sizeof(dflt), "ipc_rpmsg_%s", info->name);
		node = dflt;
	}
	int ret = ampl_agent_ipc_instance(platform, node, &dev);
	if (!ret && dev->api != &ipc_rpmsg_backend)
		ret = -EINVAL;
	if (!ret && ((const struct ipc_rpmsg_config *)dev->config)->role != (int)role) {
		fprintf(stderr, "amplink compat: %s: its role is not the %s asked for\n", node,
			role == VIRTIO_DEV_DEVICE ? "remote (VIRTIO_DEV_DEVICE)" : "host (VIRTIO_DEV_DRIVER)");
		return NULL;
	}
	if (!ret)
		ret = ipc_service_open_instance(dev);
	if (ret && ret != -EALREADY) {
		fprintf(stderr, "amplink compat: RPMsg node %s: %s\n", node, ampl_errname(ret));
		return NULL;
	}
	(void)ns_bind_cb; /* the instance's own: announcements are bound to endpoints of the same name */
	rpmsg_instance = dev;
	return ipc_rpmsg_device(dev);
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
	if (rpmsg_instance)
		(void)ipc_service_close_instance(rpmsg_instance);
	rpmsg_instance = NULL;
}

void platform_cleanup(void *platform)
{
	(void)platform;
	ampl_compat_detach();
}

void metal_log(enum metal_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "emergency", "alert", "critical", "error",
					     "warning",   "notice", "info",     "debug" };
	va_list ap;
	if (level > METAL_LOG_INFO)
		return;
	fprintf(stderr, "%s: ", names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}
