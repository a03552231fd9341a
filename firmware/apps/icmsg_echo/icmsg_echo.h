/*
 * The ICMsg echo firmware and its host test: where the rings are in the window, and the host's option. The message
 * format and the report words are the echo protocol's (firmware/apps/common/echo.h). Portable.
 */
#ifndef ICMSG_ECHO_H
#define ICMSG_ECHO_H

#include "echo.h"

#ifdef ECHO_VIA_SOC
/*
 * Through the virtual SoC (icmsg_echo_soc.elf): the rings are the default board's ICMsg regions, in a window based
 * at AMPL_EMU_DEFAULT_BOARD_BASE (icmsg_apu_tx@3ed40000 and icmsg_rpu0_tx@3ed48000, 0x8000 each, dcache-alignment
 * 64), and the doorbell is the IPI carried by the bridge (mailbox channel 0, doorbell mode).
 */
#define ECHO_RING_TO_FW 0x50000u   /* icmsg_apu_tx: the APU writes */
#define ECHO_RING_TO_HOST 0x58000u /* icmsg_rpu0_tx: RPU0 writes */
#define ECHO_RING_SIZE 0x8000u
#define ECHO_DCACHE_ALIGN 64u
#else
/* Window layout after the boot block (offsets from the window's start; 16-byte aligned). */
#define ECHO_RING_TO_FW 0x1000u   /* the host writes, the firmware reads */
#define ECHO_RING_TO_HOST 0x5000u /* the firmware writes, the host reads */
#define ECHO_RING_SIZE 0x4000u
#define ECHO_DCACHE_ALIGN 0u
#endif

/* struct ampl_emu_boot.arg[ICMSG_ARG_MODE]: the ICMsg unbound mode (enum icmsg_unbound_mode); 0: classic. Session
 * mode ("enable") is what survives a restart of either side. */
#define ICMSG_ARG_MODE 0u

#endif /* ICMSG_ECHO_H */
