/*
 * The ICMsg echo firmware and its host test: where the rings are in the window, and the host's option. The message
 * format and the report words are the echo protocol's (firmware/apps/common/echo.h). Portable.
 */
#ifndef ICMSG_ECHO_H
#define ICMSG_ECHO_H

#include "echo.h"

/* Window layout after the boot block (offsets from the window's start; 16-byte aligned). */
#define ECHO_RING_TO_FW 0x1000u   /* the host writes, the firmware reads */
#define ECHO_RING_TO_HOST 0x5000u /* the firmware writes, the host reads */
#define ECHO_RING_SIZE 0x4000u
#define ECHO_DCACHE_ALIGN 0u

/* struct ampl_emu_boot.arg[ICMSG_ARG_MODE]: the ICMsg unbound mode (enum icmsg_unbound_mode); 0: classic. Session
 * mode ("enable") is what survives a restart of either side. */
#define ICMSG_ARG_MODE 0u

#endif /* ICMSG_ECHO_H */
