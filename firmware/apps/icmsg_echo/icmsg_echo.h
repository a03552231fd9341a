/*
 * The ICMsg echo firmware and its host test: the host's option. The message format and the report words are the
 * echo protocol's (firmware/apps/common/echo.h); where the rings are in the window is dts/emu-link.dts's
 * (ipc_icmsg_fw, ipc_icmsg_host). Portable.
 */
#ifndef ICMSG_ECHO_H
#define ICMSG_ECHO_H

#include "echo.h"

/* struct ampl_emu_boot.arg[ICMSG_ARG_MODE]: the ICMsg unbound mode (enum icmsg_unbound_mode); 0: classic. Session
 * mode ("enable") is what survives a restart of either side. */
#define ICMSG_ARG_MODE 0u

#endif /* ICMSG_ECHO_H */
