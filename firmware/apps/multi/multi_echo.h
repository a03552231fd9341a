/*
 * The multi-endpoint echo firmware and its host test: the two regions in the window and the endpoints. The message
 * format and the report words are the echo protocol's (firmware/apps/common/echo.h). Portable.
 *
 * The firmware's rx region (the host's tx region) has the lower address on both sides, so the firmware is the
 * initiator (docs/ipc_multi.md): it advertises its endpoints, and a restarted firmware advertises them again.
 */
#ifndef MULTI_ECHO_H
#define MULTI_ECHO_H

#include "echo.h"

#define MULTI_TO_FW 0x20000u   /* the host's tx region, the firmware's rx region */
#define MULTI_TO_HOST 0x30000u /* the firmware's tx region */
#define MULTI_REGION_SIZE 0x10000u
#define MULTI_BLOCKS 32u

/* Endpoint 0 is answered with copy sends, endpoint 1 with zero-copy ones (get_tx_buffer + send_nocopy); the host
 * sends the same way on each. */
#define MULTI_EPT0 "echo-copy"
#define MULTI_EPT1 "echo-nocopy"

#endif /* MULTI_ECHO_H */
