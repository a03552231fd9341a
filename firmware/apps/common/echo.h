/*
 * The echo protocol of the firmware images under QEMU (firmware/apps/) and their host tests (tests/firmware/):
 * the message format, the firmware's report words in the boot block and its exit codes. Portable; where each
 * backend's rings are in the window is dts/emu-link.dts's (firmware/emu_link.cmake, bench/firmware/fw_layout.h).
 *
 *     host                                             firmware
 *     ask  {seq, len, ECHO_KIND_ASK, 0} payload sum ---> checks length, kind, sum and the sequence number
 *          <--- answer {seq, len, ECHO_KIND_ANSWER, status} f(payload) sum
 *
 * The host's payload is echo_pattern(seq, i); the firmware answers with its own bytes, payload reversed and
 * XOR 0xA5, and its own checksum, so the host checks that the firmware read every byte. Little-endian.
 *
 * Sequence numbers, per endpoint, never reused by the host: within one binding the firmware expects exactly the
 * next one; after a new binding (its boot, a bound() or unbound(), a link down) it accepts any number not below
 * the next one, because what was in flight when the link went down may be lost. A number below the next one is a
 * message delivered twice (counted in ECHO_APP_DUPS), a skip within a binding one lost in the middle
 * (ECHO_APP_GAPS). The next number lives in the boot block, so a reset firmware still knows it.
 */
#ifndef FW_ECHO_H
#define FW_ECHO_H

#include <stddef.h>
#include <stdint.h>

/* Largest receive buffer each side needs (a whole message), and the endpoints an image may have. */
#define ECHO_RX_BUF 512u
#define ECHO_MAX_EPT 2u

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

/* The firmware's words in the boot block (struct ampl_emu_boot.app); they add up over resets of the firmware. */
#define ECHO_APP_ASKS 0u      /* asks received */
#define ECHO_APP_BAD 1u       /* asks that failed a check */
#define ECHO_APP_TX_FAIL 2u   /* answers that could not be sent while the link was up */
#define ECHO_APP_LAST_ERR 3u  /* the last send error (negated errno or RPMsg code) */
#define ECHO_APP_BINDS 4u     /* bindings seen (bound()) */
#define ECHO_APP_RINGS_IN 5u  /* doorbells received (the last boot's) */
#define ECHO_APP_RINGS_OUT 6u /* doorbells sent (the last boot's) */
#define ECHO_APP_UNBINDS 7u   /* unbindings seen (unbound(), link down) */
#define ECHO_APP_DUPS 8u      /* asks whose sequence number was seen before: delivered twice */
#define ECHO_APP_GAPS 9u      /* asks that skipped sequence numbers within one binding */
#define ECHO_APP_NEXT0 10u    /* the next sequence number of endpoint i is word ECHO_APP_NEXT0 + i */
#define ECHO_APP_ASKS0 12u    /* asks received by endpoint i: word ECHO_APP_ASKS0 + i */
#define ECHO_APP_DROPPED 14u  /* answers not sent because the link was down (the host went): not an error */

/* The firmware's exit codes. */
#define ECHO_EXIT_OK 0
#define ECHO_EXIT_NO_HOST 1   /* no boot block magic: not started by the host launcher */
#define ECHO_EXIT_BAD_MODE 2  /* unknown doorbell mode */
#define ECHO_EXIT_INIT 3      /* the doorbell or the IPC instance failed to start */
#define ECHO_EXIT_ERRORS 4    /* bad asks or failed answers */

/* Largest message. */
#define ECHO_MSG_MAX (ECHO_HDR + ECHO_MAX_PAYLOAD + ECHO_SUM)

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

#endif /* FW_ECHO_H */
