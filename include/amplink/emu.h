/*
 * The emulator link: what a Linux process and firmware running under an emulator (QEMU) share, besides the
 * protocol's own rings. Portable, freestanding: the firmware includes it as well as the host.
 *
 * Terminology
 *   window     the RAM both see: on QEMU's mps2-an386 the machine RAM at guest 0x21000000 (16 MiB), which QEMU
 *              maps from a file (memory-backend-file, share=on) that the host maps too. Offset 0 of the file is
 *              guest 0x21000000 (on riscv-virt, RV32: 0x80000000, the firmware itself in the file's last MiB).
 *   boot block struct ampl_emu_boot at window offset 0: the host writes the mode before starting the emulator,
 *              the firmware says when it is up and how it ended
 *   doorbell   one ring of one side: in interrupt mode one byte on the emulator's serial line (QEMU's
 *              `-serial unix:SOCK`; on mps2-an386 UART1, RX IRQ 2; on riscv-virt UART0, PLIC source 10), one
 *              byte = one ring; in polling mode one increment of a counter word of the boot block, which the
 *              other side polls
 *
 *     host (Linux)                                  firmware (QEMU)
 *     create the file, write magic + doorbell mode
 *     start QEMU, connect to the serial socket
 *                                                   boot: fw_boots++, read the mode, open its endpoints,
 *                                                   fw_state = READY
 *     see READY, open its endpoints
 *     ring: byte on the socket / bell_to_fw++  ---> UART RX interrupt / poll sees bell_to_fw move
 *                                              <--- ring: byte on UART1 TX / bell_to_host++
 *     stop = 1, ring                          ---> fw_result = verdict, fw_state = STOPPED, semihosting exit
 *     wait for QEMU to exit (its status is the firmware's exit code), then close the socket and remove the file
 *
 * Wire layout: little-endian, fixed width (checked below). Each word has one writer, named in the comment; the
 * reader of a word the other side writes validates it (a firmware that finds no magic or an unknown mode stops).
 */
#ifndef AMPLINK_EMU_H
#define AMPLINK_EMU_H

#include <amplink/port.h>
#include <amplink/trace.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Wire version of the boot block ("EMU2"): bumped when the layout changes (2: 16 app words, 4 arg words). */
#define AMPL_EMU_MAGIC 0x32554d45u

/** Doorbell modes (struct ampl_emu_boot.doorbell). */
#define AMPL_EMU_DOORBELL_IRQ 1u  /* serial byte, interrupt-driven receive */
#define AMPL_EMU_DOORBELL_POLL 2u /* counter words, both sides poll */

/** Firmware states (struct ampl_emu_boot.fw_state). */
#define AMPL_EMU_FW_BOOTING 0u
#define AMPL_EMU_FW_READY 1u   /* its endpoints are open: the host may open its own */
#define AMPL_EMU_FW_STOPPED 2u /* fw_result is final; the firmware exits next */

/** Number of words the firmware application owns (counters it reports). */
#define AMPL_EMU_APP_WORDS 16u
/** Number of words the host writes for the application before the emulator starts (its options). */
#define AMPL_EMU_ARG_WORDS 4u

/**
 * struct ampl_emu_boot - at window offset 0.
 * @magic:        host: AMPL_EMU_MAGIC, written before the emulator starts
 * @doorbell:     host: AMPL_EMU_DOORBELL_IRQ or _POLL
 * @stop:         host: non-zero asks the firmware to exit
 * @fw_state:     firmware: AMPL_EMU_FW_*; BOOTING is written first at every boot, before @fw_boots moves, so a
 *                host that saw @fw_boots move and then READY knows the new boot is ready
 * @fw_boots:     firmware: incremented at every boot (the window outlives a reset)
 * @fw_result:    firmware: its exit code, written before fw_state = STOPPED (0: success)
 * @bell_to_fw:   host, polling mode: incremented to ring the firmware
 * @bell_to_host: firmware, polling mode: incremented to ring the host
 * @app:          firmware: words of the application (counters it reports to the host; they survive a reset of
 *                the firmware, the window does)
 * @arg:          host: the application's options (their meaning is the application's), written before the
 *                emulator starts
 */
struct ampl_emu_boot {
	uint32_t magic;
	uint32_t doorbell;
	AMPL_ATOMIC(uint32_t) stop;
	AMPL_ATOMIC(uint32_t) fw_state;
	AMPL_ATOMIC(uint32_t) fw_boots;
	AMPL_ATOMIC(uint32_t) fw_result;
	AMPL_ATOMIC(uint32_t) bell_to_fw;
	AMPL_ATOMIC(uint32_t) bell_to_host;
	AMPL_ATOMIC(uint32_t) app[AMPL_EMU_APP_WORDS];
	uint32_t arg[AMPL_EMU_ARG_WORDS];
};

AMPL_STATIC_ASSERT(sizeof(AMPL_ATOMIC(uint32_t)) == 4, "boot block words are 32-bit");
AMPL_STATIC_ASSERT(offsetof(struct ampl_emu_boot, bell_to_fw) == 24, "boot block layout");
AMPL_STATIC_ASSERT(offsetof(struct ampl_emu_boot, app) == 32, "boot block layout");
AMPL_STATIC_ASSERT(offsetof(struct ampl_emu_boot, arg) == 96, "boot block layout");
AMPL_STATIC_ASSERT(sizeof(struct ampl_emu_boot) == 112, "boot block layout");

/** Bytes reserved for the boot block at the start of the window; protocols' regions start at or after it. */
#define AMPL_EMU_BOOT_SIZE 0x1000u

/** Size of the window on QEMU's mps2 boards (QEMU refuses any other size for their RAM backend). */
#define AMPL_EMU_WINDOW_SIZE 0x1000000u

/*
 * The mailbox area: the IPI of the virtual SoC carried to firmware under the emulator (src/sim/emu_bridge.c on the
 * host, firmware/boards/common/emu_mbox.c in the firmware). It lies inside the boot block's page, at
 * AMPL_EMU_MBOX_OFF, so it moves nothing the protocols use, and outside every devicetree region of the SoC (the
 * window's base is chosen so that its first AMPL_EMU_LINK_SIZE bytes hold no region).
 *
 * One channel per remote agent of the firmware's processor (channel i is the i-th agent the bridge was given).
 * Each direction of a channel is one slot with one sender and one receiver:
 *
 *     sender                                        receiver
 *     req[] (and id) written, then seq + 1, ring --> sees seq != ack: consumes req[] (request mode: writes resp[])
 *                                               <--  then ack = seq, and rings back (request mode only)
 *     request mode: done when ack == seq; resp[] is the answer
 *
 * Request mode (AMPL_EMU_CHAN_REQUEST) is the IPI with its buffers, for IPM: one request at a time per direction,
 * as the silicon's one request buffer per pair. Doorbell mode (AMPL_EMU_CHAN_DOORBELL) is the IPI in signalling mode,
 * for ICMsg and RPMsg: a ring with no data; the receiver records seq (its ack) before it drains, the sender never
 * waits, rings are counted and never lost.
 *
 * Why this shape: every word has exactly one writer (seq, id, req by the sender; ack, resp by the receiver; the
 * header and modes by the host before the firmware starts), so neither side needs an atomic read-modify-write on
 * memory the other side writes (the emulator's and the host's atomics do not have to agree), and a reader can check
 * what it reads: seq - ack is 0 or 1 in request mode (anything else is a protocol error, counted and ignored), a
 * mode or channel count out of range is refused. Fixed width, little-endian (both ends are).
 */

/** Where the mailbox area starts in the window (inside the boot block's AMPL_EMU_BOOT_SIZE). */
#define AMPL_EMU_MBOX_OFF 0x100u
/** Wire version of the mailbox area ("EMB1"). */
#define AMPL_EMU_MBOX_MAGIC 0x31424d45u
/** Channels in the mailbox area, and bytes of one message (the IPI's buffer size). */
#define AMPL_EMU_MBOX_CHANS 4u
#define AMPL_EMU_MBOX_DATA 32u

/** Channel modes (struct ampl_emu_mbox_chan.mode). */
#define AMPL_EMU_CHAN_UNUSED 0u
#define AMPL_EMU_CHAN_REQUEST 1u  /* 32-byte request, 32-byte response, acknowledged */
#define AMPL_EMU_CHAN_DOORBELL 2u /* a ring without data, never waited for */

/** Bytes at the window's start that belong to the link (boot block and mailbox area): no SoC region there. */
#define AMPL_EMU_LINK_SIZE 0x10000u

/**
 * The window's physical base on the virtual SoC's default board (zynqmp-apu-rpu0): AMPL_EMU_LINK_SIZE below its
 * first reserved-memory region (shared_ram@3ed00000), so the link's page is outside every region and all the
 * board's regions (0x3ed00000-0x3edc0000) are inside the 16 MiB window: region at P is window offset P - base,
 * guest address 0x21000000 + P - base.
 */
#define AMPL_EMU_DEFAULT_BOARD_BASE 0x3ecf0000u

/** One direction of one channel. @seq, @id, @req: the sender. @ack, @resp: the receiver. */
struct ampl_emu_slot {
	AMPL_ATOMIC(uint32_t) seq;
	AMPL_ATOMIC(uint32_t) ack;
	uint32_t id;
	uint32_t reserved;
	uint8_t req[AMPL_EMU_MBOX_DATA];
	uint8_t resp[AMPL_EMU_MBOX_DATA];
};

/**
 * struct ampl_emu_mbox_chan - one channel. @mode: the host, before the firmware starts; @peer: 0 (reserved).
 * @to_fw: the host sends, the firmware receives. @to_host: the reverse.
 */
struct ampl_emu_mbox_chan {
	uint32_t mode;
	uint32_t peer;
	uint32_t reserved[2];
	struct ampl_emu_slot to_fw;
	struct ampl_emu_slot to_host;
};

/** struct ampl_emu_mbox - at window offset AMPL_EMU_MBOX_OFF. @magic (written last), @num_chans: the host. */
struct ampl_emu_mbox {
	uint32_t magic;
	uint32_t num_chans;
	uint32_t reserved[2];
	struct ampl_emu_mbox_chan chans[AMPL_EMU_MBOX_CHANS];
};

AMPL_STATIC_ASSERT(sizeof(struct ampl_emu_slot) == 80, "mailbox layout");
AMPL_STATIC_ASSERT(sizeof(struct ampl_emu_mbox_chan) == 176, "mailbox layout");
AMPL_STATIC_ASSERT(offsetof(struct ampl_emu_mbox, chans) == 16, "mailbox layout");
AMPL_STATIC_ASSERT(AMPL_EMU_MBOX_OFF >= sizeof(struct ampl_emu_boot) &&
		       AMPL_EMU_MBOX_OFF + sizeof(struct ampl_emu_mbox) <= AMPL_EMU_BOOT_SIZE,
	       "the mailbox area fits in the boot block's page");

/*
 * The trace area: what the firmware's trace points (<amplink/trace.h>, AMPL_CONFIG_TRACE 1) saw, for the host,
 * which merges it into the trace of the firmware's agent on the virtual SoC (`amplink stat`, `amplink trace`;
 * src/sim/emu_bridge.c on the host, firmware/boards/common/emu_trace.c in the firmware). It lies in the boot
 * block's page after the mailbox area. A firmware that finds no magic records nothing.
 *
 *   host      before the emulator starts: everything zero, then @magic; @on while the SoC's tracing is on (the
 *             firmware follows it within a millisecond)
 *   firmware  per object (a channel, a device, an instance it traced): its name in @objs[i] (@num_objs moves
 *             after the name is written) and a counter per event; per event a record in @ring: @seq 0, the words,
 *             then @seq = position + 1; @head = records written (the ring keeps the last AMPL_EMU_TRACE_RECORDS)
 *   host      counters: exact (what moved since its last look); records: copied while @seq is their position + 1
 *             before and after, the others counted lost. Every word the firmware wrote is checked (an object
 *             index, an event number or @num_objs out of range is ignored and counted as a protocol error).
 * Each word has one writer. Timestamps are the firmware's ampl_os_uptime_us(), 32 bits (they wrap after 71
 * minutes); the host places them on its own clock from the first record it reads after the firmware booted.
 */

/** Where the trace area starts in the window (inside the boot block's AMPL_EMU_BOOT_SIZE, after the mailbox). */
#define AMPL_EMU_TRACE_OFF 0x400u
/** Wire version of the trace area ("ETR1"). */
#define AMPL_EMU_TRACE_MAGIC 0x31525445u
/** Objects the firmware can name, event counters per object, records in the ring, bytes of a name. */
#define AMPL_EMU_TRACE_OBJS 8u
#define AMPL_EMU_TRACE_EVENTS 32u
#define AMPL_EMU_TRACE_RECORDS 64u
#define AMPL_EMU_TRACE_NAME 24u

/** One object of the firmware: @kind ("icmsg", "mbox", ...) and @name, then its counter of each event. */
struct ampl_emu_trace_obj {
	char kind[8];
	char name[AMPL_EMU_TRACE_NAME];
	AMPL_ATOMIC(uint32_t) count[AMPL_EMU_TRACE_EVENTS];
};

/** One record: @ev_obj = event (bits 0-15) | object index (16-31, 0xFFFF: none); @val; @t_us the firmware's clock. */
struct ampl_emu_trace_rec {
	AMPL_ATOMIC(uint32_t) seq;
	uint32_t ev_obj;
	int32_t val;
	uint32_t t_us;
};

/** struct ampl_emu_trace - at window offset AMPL_EMU_TRACE_OFF. @magic, @on: the host. The rest: the firmware. */
struct ampl_emu_trace {
	uint32_t magic;
	AMPL_ATOMIC(uint32_t) on;
	AMPL_ATOMIC(uint32_t) head;
	AMPL_ATOMIC(uint32_t) num_objs;
	uint32_t reserved[4];
	struct ampl_emu_trace_obj objs[AMPL_EMU_TRACE_OBJS];
	struct ampl_emu_trace_rec ring[AMPL_EMU_TRACE_RECORDS];
};

AMPL_STATIC_ASSERT(sizeof(struct ampl_emu_trace_obj) == 160, "trace area layout");
AMPL_STATIC_ASSERT(sizeof(struct ampl_emu_trace_rec) == 16, "trace area layout");
AMPL_STATIC_ASSERT(offsetof(struct ampl_emu_trace, objs) == 32, "trace area layout");
AMPL_STATIC_ASSERT(AMPL_EMU_TRACE_OFF >= AMPL_EMU_MBOX_OFF + sizeof(struct ampl_emu_mbox) &&
		       AMPL_EMU_TRACE_OFF + sizeof(struct ampl_emu_trace) <= AMPL_EMU_BOOT_SIZE,
	       "the trace area fits in the boot block's page, after the mailbox area");
AMPL_STATIC_ASSERT((AMPL_EMU_TRACE_RECORDS & (AMPL_EMU_TRACE_RECORDS - 1u)) == 0, "a power of two");
AMPL_STATIC_ASSERT(AMPL_EV_COUNT <= AMPL_EMU_TRACE_EVENTS, "a counter for every event");

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_EMU_H */
