/*
 * OpenAMP compatibility: <openamp/open_amp.h> for endpoint code. The RPMsg API is amplink's
 * (<amplink/ipc/rpmsg.h>: OpenAMP's names, signatures, callbacks and RPMSG_* codes: rpmsg_create_ept,
 * rpmsg_destroy_ept, is_rpmsg_ept_ready, rpmsg_send/sendto/send_offchannel and their try and nocopy forms,
 * rpmsg_get_tx_payload_buffer, rpmsg_hold/release_rx_buffer, the name-service callbacks). The RPMsg device comes
 * from the machine layer: <platform_info.h> of include/amplink/compat/platform on the virtual SoC. Not covered:
 * remoteproc (remoteproc_init/load/start, the ELF loader), rpmsg_init_vdev() with a caller's virtio device and
 * shared-memory pool (the device is made from the devicetree node instead), virtio device drivers other than
 * RPMsg, rpmsg_get_buffer_size's per-direction variants.
 */
#ifndef AMPLINK_COMPAT_OPENAMP_OPEN_AMP_H
#define AMPLINK_COMPAT_OPENAMP_OPEN_AMP_H

#include <openamp/rpmsg.h>
#include <openamp/rpmsg_virtio.h>

#endif /* AMPLINK_COMPAT_OPENAMP_OPEN_AMP_H */
