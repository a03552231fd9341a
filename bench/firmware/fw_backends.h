/*
 * The backends over the emulator link that the firmware tests (tests/firmware/test_fw_*.c) and the benchmark
 * (amplink bench --firmware) run against the firmware images (fw_host.h: struct fw_backend).
 */
#ifndef FW_BACKENDS_H
#define FW_BACKENDS_H

#include "fw_host.h"

extern const struct fw_backend fw_icmsg_classic; /* icmsg_echo.elf, classic bonding */
extern const struct fw_backend fw_icmsg_session; /* icmsg_echo.elf, session mode; reset and rebind */
extern const struct fw_backend fw_rpmsg;         /* rpmsg_remote.elf, this side the RPMsg host */
extern const struct fw_backend fw_multi;         /* multi.elf, two endpoints (copy, zero-copy) */

#endif /* FW_BACKENDS_H */
