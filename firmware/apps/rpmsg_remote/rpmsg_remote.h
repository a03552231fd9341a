/*
 * The RPMsg remote firmware and its host test: the region in the window, the endpoints the firmware announces.
 * The message format and the report words are the echo protocol's (firmware/apps/common/echo.h). Portable.
 *
 *     window 0x10000  resource table, vring0, vring1 (written by the remote), then the buffers the host carves
 *     device addresses: the firmware's, 0x21000000 + window offset (the host translates with the same da_base)
 */
#ifndef RPMSG_REMOTE_APP_H
#define RPMSG_REMOTE_APP_H

#include "echo.h"

#define RPMSG_APP_REGION 0x10000u
#define RPMSG_APP_REGION_SIZE 0x10000u
#define RPMSG_APP_DA_BASE (0x21000000u + RPMSG_APP_REGION)
#define RPMSG_APP_VRING_NUM 32u
#define RPMSG_APP_BUF_SIZE 512u /* host: bytes per buffer and direction, header included */

/* The endpoints, announced by the firmware (index = the echo protocol's endpoint number). */
#define RPMSG_APP_EPT0 "rpmsg-echo"
#define RPMSG_APP_EPT1 "rpmsg-echo-2"

#endif /* RPMSG_REMOTE_APP_H */
