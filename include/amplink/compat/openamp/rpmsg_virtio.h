/*
 * OpenAMP compatibility: <openamp/rpmsg_virtio.h>: the roles a machine layer is asked for (VIRTIO_DEV_DRIVER, the
 * host; VIRTIO_DEV_DEVICE, the remote; and their old names). The virtio device itself is amplink's
 * (rpmsg_virtio_init(), made by the machine layer from the devicetree).
 */
#ifndef AMPLINK_COMPAT_OPENAMP_RPMSG_VIRTIO_H
#define AMPLINK_COMPAT_OPENAMP_RPMSG_VIRTIO_H

#include <amplink/ipc/rpmsg.h>

#define VIRTIO_DEV_DRIVER 0UL
#define VIRTIO_DEV_DEVICE 1UL
#define VIRTIO_DEV_MASTER VIRTIO_DEV_DRIVER
#define VIRTIO_DEV_SLAVE VIRTIO_DEV_DEVICE

#endif /* AMPLINK_COMPAT_OPENAMP_RPMSG_VIRTIO_H */
