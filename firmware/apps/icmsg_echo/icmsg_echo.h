/*
 * The ICMsg echo firmware and its host peer: where the rings are in the window, the message format and the
 * firmware's report. Portable; the host test (tests/firmware/) includes it too.
 *
 *     host                                             firmware
 *     ask  {seq, len, ECHO_KIND_ASK, 0} payload sum ---> checks length, kind, seq (the next one), sum
 *          <--- answer {seq, len, ECHO_KIND_ANSWER, status} f(payload) sum
 *
 * The host's payload is echo_pattern(seq, i); the firmware answers with its own bytes, payload reversed and
 * XOR 0xA5, and its own checksum, so the host checks that the firmware read every byte. Little-endian.
 */
#ifndef ICMSG_ECHO_H
#define ICMSG_ECHO_H

#include <stddef.h>
#include <stdint.h>

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
#define ECHO_RX_BUF 512u          /* each side's receive buffer (its largest packet) */

/* Message: 8-byte header, payload, 4-byte FNV-1a of header and payload. */
#define ECHO_HDR 8u
#define ECHO_SUM 4u
#define ECHO_MAX_PAYLOAD 240u
#define ECHO_KIND_ASK 1u
#define ECHO_KIND_ANSWER 2u

/* Status of an answer: what the firmware found wrong with the ask. */
#define ECHO_OK 0u
#define ECHO_BAD_LEN 1u
#define ECHO_BAD_KIND 2u
#define ECHO_BAD_SUM 3u
#define ECHO_BAD_SEQ 4u

/* The firmware's words in the boot block (struct ampl_emu_boot.app). */
#define ECHO_APP_ASKS 0u      /* asks received */
#define ECHO_APP_BAD 1u       /* asks that failed a check */
#define ECHO_APP_TX_FAIL 2u   /* answers that could not be sent */
#define ECHO_APP_LAST_ERR 3u  /* the last send error (negated errno) */
#define ECHO_APP_BOUND 4u     /* 1 once the link bound */
#define ECHO_APP_RINGS_IN 5u  /* doorbells received */
#define ECHO_APP_RINGS_OUT 6u /* doorbells sent */

/* The firmware's exit codes. */
#define ECHO_EXIT_OK 0
#define ECHO_EXIT_NO_HOST 1   /* no boot block magic: not started by the host launcher */
#define ECHO_EXIT_BAD_MODE 2  /* unknown doorbell mode */
#define ECHO_EXIT_INIT 3      /* the doorbell or the IPC instance failed to start */
#define ECHO_EXIT_ERRORS 4    /* bad asks or failed answers */

static inline uint32_t echo_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void echo_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t echo_sum(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/** The payload length of ask @seq: 1..ECHO_MAX_PAYLOAD, varying. */
static inline uint32_t echo_len(uint32_t seq)
{
	return 1u + (seq * 37u + 11u) % ECHO_MAX_PAYLOAD;
}

/** Byte @i of ask @seq's payload. */
static inline uint8_t echo_pattern(uint32_t seq, uint32_t i)
{
	uint32_t x = seq * 2654435761u ^ (i + 1u) * 40503u;
	return (uint8_t)(x ^ x >> 13);
}

/** Byte @i of the answer to a payload @ask of @len bytes. */
static inline uint8_t echo_answer_byte(const uint8_t *ask, uint32_t len, uint32_t i)
{
	return (uint8_t)(ask[len - 1u - i] ^ 0xA5u);
}

/** Write header + sum around a payload already at @msg + ECHO_HDR; returns the message length. */
static inline size_t echo_seal(uint8_t *msg, uint32_t seq, uint32_t len, uint8_t kind, uint8_t status)
{
	echo_put32(msg, seq);
	msg[4] = (uint8_t)len;
	msg[5] = (uint8_t)(len >> 8);
	msg[6] = kind;
	msg[7] = status;
	echo_put32(msg + ECHO_HDR + len, echo_sum(msg, ECHO_HDR + len));
	return ECHO_HDR + len + ECHO_SUM;
}

/**
 * echo_check() - ECHO_OK if @msg (@n bytes) is a well-formed message of @kind with sequence number @seq, else the
 * first thing wrong with it (ECHO_BAD_*). Reads only inside @n.
 */
static inline uint8_t echo_check(const uint8_t *msg, size_t n, uint8_t kind, uint32_t seq)
{
	if (n < ECHO_HDR + ECHO_SUM)
		return ECHO_BAD_LEN;
	uint32_t len = (uint32_t)msg[4] | (uint32_t)msg[5] << 8;
	if (len > ECHO_MAX_PAYLOAD || n != ECHO_HDR + len + ECHO_SUM)
		return ECHO_BAD_LEN;
	if (msg[6] != kind)
		return ECHO_BAD_KIND;
	if (echo_get32(msg + ECHO_HDR + len) != echo_sum(msg, ECHO_HDR + len))
		return ECHO_BAD_SUM;
	if (echo_get32(msg) != seq)
		return ECHO_BAD_SEQ;
	return ECHO_OK;
}

#endif /* ICMSG_ECHO_H */
