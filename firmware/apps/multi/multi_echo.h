/*
 * The multi-endpoint echo firmware and its host test: the endpoints. The message format and the report words are
 * the echo protocol's (firmware/apps/common/echo.h); the two regions and the block count are dts/emu-link.dts's
 * (ipc_multi_fw, ipc_multi_host).
 *
 * The firmware's rx region (the host's tx region) has the lower address on both sides, so the firmware is the
 * initiator (docs/ipc_multi.md): it advertises its endpoints, and a restarted firmware advertises them again.
 */
#ifndef MULTI_ECHO_H
#define MULTI_ECHO_H

#include "echo.h"

/* Endpoint 0 is answered with copy sends, endpoint 1 with zero-copy ones (get_tx_buffer + send_nocopy); the host
 * sends the same way on each. */
#define MULTI_EPT0 "echo-copy"
#define MULTI_EPT1 "echo-nocopy"

#endif /* MULTI_ECHO_H */
