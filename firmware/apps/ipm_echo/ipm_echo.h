/*
 * The IPM echo firmware and its host peers (amplink demo --firmware, bench/firmware/fw_bridge.c): the message
 * format of `amplink demo`'s IPM backend, answered through the IPI response buffer. Portable; little-endian words.
 *
 *   request  (32 bytes): seq, 6 payload words, FNV-1a of the first 7 words
 *   response (32 bytes): seq, the payload words inverted, FNV-1a of the first 7 response words
 *   a request with seq IPM_ECHO_STOP_SEQ is acknowledged without a response and counted, and the firmware exits
 *   (the demo's STOP)
 *
 * Sequence numbers are never reused by the host. Within one boot the firmware expects exactly the next one; the
 * first request of a later boot (the firmware was reset) may skip numbers, because a request in flight at the
 * reset may be lost. The next number lives in the boot block, so a reset firmware still knows it: a request below
 * it was delivered twice, and is counted (IPM_ECHO_APP_DUPS) and refused with an all-zero response, which fails
 * ipm_echo_check(), never answered a second time.
 */
#ifndef IPM_ECHO_H
#define IPM_ECHO_H

#include <stdint.h>

#define IPM_ECHO_WORDS 8u
#define IPM_ECHO_STOP_SEQ 0xFFFFFFFFu

/* The firmware's words in the boot block (struct ampl_emu_boot.app; they add up over resets of the firmware). Words
 * ECHO_APP_RINGS_IN and ECHO_APP_RINGS_OUT (5, 6: the doorbells in and out) are written by the common run loop
 * (firmware/apps/common/fw_app.h). */
#define IPM_ECHO_APP_REQS 0u  /* requests answered */
#define IPM_ECHO_APP_BAD 1u   /* requests with a bad checksum or an unexpected sequence number */
#define IPM_ECHO_APP_STOPS 2u /* STOP requests */
#define IPM_ECHO_APP_PROTO 3u /* protocol errors the mailbox saw in the host's words */
#define IPM_ECHO_APP_DUPS 4u  /* requests below the next sequence number: delivered twice, refused */
#define IPM_ECHO_APP_NEXT 7u  /* the next sequence number expected (survives a reset of the firmware) */
#define IPM_ECHO_APP_FIRST 8u /* the sequence number of the first request the latest boot answered */

/* Exit codes: the echo protocol's (firmware/apps/common/echo.h, ECHO_EXIT_*); ECHO_EXIT_NO_HOST also when the
 * window has no mailbox area (not started through the bridge), ECHO_EXIT_ERRORS for bad requests or mailbox
 * protocol errors. */

static inline uint32_t ipm_echo_sum(const uint32_t *w, unsigned n)
{
	uint32_t h = 2166136261u;
	for (unsigned i = 0; i < n; i++)
		h = (h ^ w[i]) * 16777619u;
	return h;
}

/** Fill @req for sequence number @seq (payload from the xorshift state *@x). */
static inline void ipm_echo_request(uint32_t req[IPM_ECHO_WORDS], uint32_t seq, uint32_t *x)
{
	req[0] = seq;
	for (unsigned k = 1; k < 7; k++) {
		*x ^= *x << 13, *x ^= *x >> 17, *x ^= *x << 5;
		req[k] = *x;
	}
	req[7] = ipm_echo_sum(req, 7);
}

/** The response to @req. */
static inline void ipm_echo_answer(const uint32_t req[IPM_ECHO_WORDS], uint32_t resp[IPM_ECHO_WORDS])
{
	resp[0] = req[0];
	for (unsigned k = 1; k < 7; k++)
		resp[k] = ~req[k];
	resp[7] = ipm_echo_sum(resp, 7);
}

/** True if @resp answers @req. */
static inline int ipm_echo_check(const uint32_t req[IPM_ECHO_WORDS], const uint32_t resp[IPM_ECHO_WORDS])
{
	if (resp[0] != req[0] || resp[7] != ipm_echo_sum(resp, 7))
		return 0;
	for (unsigned k = 1; k < 7; k++)
		if (resp[k] != ~req[k])
			return 0;
	return 1;
}

#endif /* IPM_ECHO_H */
