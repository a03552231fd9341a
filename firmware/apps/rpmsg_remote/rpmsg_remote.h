/*
 * The RPMsg remote firmware and its host test: the endpoints the firmware announces. The message format and the
 * report words are the echo protocol's (firmware/apps/common/echo.h). Portable.
 *
 * The region (resource table, vring0, vring1, written by the remote, then the buffers the host carves), its size,
 * the vring size and buffer size are dts/emu-link.dts's (ipc_rpmsg_fw, ipc_rpmsg_host); device addresses are the
 * region's address in that devicetree (both sides take it as da_base).
 */
#ifndef RPMSG_REMOTE_APP_H
#define RPMSG_REMOTE_APP_H

#include "echo.h"

/* The endpoints, announced by the firmware (index = the echo protocol's endpoint number). */
#define RPMSG_APP_EPT0 "rpmsg-echo"
#define RPMSG_APP_EPT1 "rpmsg-echo-2"

#endif /* RPMSG_REMOTE_APP_H */
