/*
 * The IPC service echo of `amplink demo` as firmware speaks it through the virtual SoC (icmsg_echo_soc,
 * rpmsg_remote_soc, multi_soc) and its host peers (amplink demo --firmware; bench/firmware/fw_bridge.c, run by
 * test_fw_bridge and amplink bench --firmware). The format is the demo's, so its APU side runs unchanged against the
 * firmware. Portable; little-endian words.
 *
 *   message  seq (u32), sum (u32), payload (0..SOC_ECHO_MAX - 8 bytes); sum is FNV-1a over the payload as
 *            zero-padded little-endian words, XOR the message length
 *   answer   the message itself, on the endpoint it came on (the sum is checked again by the host)
 *   "STOP"   (4 bytes, first endpoint) is counted, not answered, and the firmware exits
 * The firmware checks every message's sum and that its seq is the next one (one sequence over all endpoints).
 */
#ifndef SOC_ECHO_H
#define SOC_ECHO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SOC_ECHO_MAX 64u
#define SOC_ECHO_HDR 8u

/* The firmware's words in the boot block (struct ampl_emu_boot.app). Words ECHO_APP_RINGS_IN / _OUT (5, 6: the
 * doorbells in and out) are the common run loop's (firmware/apps/common/fw_app.h). */
#define SOC_ECHO_APP_ECHOED 0u /* messages checked and answered */
#define SOC_ECHO_APP_BAD 1u    /* messages with a bad length, sum or sequence number */
#define SOC_ECHO_APP_STOPS 2u  /* STOP messages */
#define SOC_ECHO_APP_FAILED 3u /* answers the backend refused */
#define SOC_ECHO_APP_BOUND 4u  /* endpoints bound */
/* Kept in the window so that they survive a reset of the firmware (QEMU killed and started again): */
#define SOC_ECHO_APP_NEXT 7u    /* the sequence number the next message must carry */
#define SOC_ECHO_APP_DUPS 8u    /* messages delivered twice (a number below NEXT; also counted as bad) */
#define SOC_ECHO_APP_UNBOUND 9u /* endpoints unbound (the APU's side went down) */

static inline uint32_t soc_echo_sum(const uint8_t *payload, size_t n, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i += 4) {
		uint32_t w = 0;
		for (size_t k = 0; k < 4 && i + k < n; k++)
			w |= (uint32_t)payload[i + k] << (8 * k);
		h = (h ^ w) * 16777619u;
	}
	return h ^ (uint32_t)len;
}

static inline uint32_t soc_echo_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void soc_echo_put32(uint8_t *p, uint32_t v)
{
	for (unsigned k = 0; k < 4; k++)
		p[k] = (uint8_t)(v >> (8 * k));
}

/** Message @seq as the demo builds it (length 8 + seq % 57, payload from the xorshift state *@x): its length. */
static inline size_t soc_echo_build(uint8_t msg[SOC_ECHO_MAX], uint32_t seq, uint32_t *x)
{
	size_t len = SOC_ECHO_HDR + (size_t)(seq % (SOC_ECHO_MAX - 7u));
	for (size_t k = SOC_ECHO_HDR; k < len; k++) {
		*x ^= *x << 13, *x ^= *x >> 17, *x ^= *x << 5;
		msg[k] = (uint8_t)*x;
	}
	soc_echo_put32(msg, seq);
	soc_echo_put32(msg + 4, soc_echo_sum(msg + SOC_ECHO_HDR, len - SOC_ECHO_HDR, len));
	return len;
}

/** True if @msg (@len bytes) is a well-formed message with its sum right. */
static inline bool soc_echo_ok(const uint8_t *msg, size_t len)
{
	return len >= SOC_ECHO_HDR && len <= SOC_ECHO_MAX &&
	       soc_echo_get32(msg + 4) == soc_echo_sum(msg + SOC_ECHO_HDR, len - SOC_ECHO_HDR, len);
}

static inline bool soc_echo_is_stop(const void *msg, size_t len)
{
	return len == 4 && !memcmp(msg, "STOP", 4);
}

#endif /* SOC_ECHO_H */
