/*
 * Byte order and comparisons for the portable core, which has no C library: the one copy every backend, driver and
 * registry uses. Shared memory holds little-endian words (ICMsg and pbuf indices and handshake words, the
 * multi-endpoint backend's messages, virtio rings); these convert whatever the host's byte order is.
 *
 * Every function is pure and may be called from any context.
 */
#ifndef AMPLINK_BYTES_H
#define AMPLINK_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** ampl_le16() / ampl_le32() - a little-endian value to host order, or the reverse (the same swap both ways). */
static inline uint16_t ampl_le16(uint16_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return __builtin_bswap16(v);
#else
	return v;
#endif
}

static inline uint32_t ampl_le32(uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return __builtin_bswap32(v);
#else
	return v;
#endif
}

/** ampl_get_le32() - the little-endian word at @p, read byte by byte (any alignment). */
static inline uint32_t ampl_get_le32(const volatile uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/** ampl_put_le32() - store @v little-endian at @p, byte by byte (any alignment). */
static inline void ampl_put_le32(volatile uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/** ampl_bytes_eq() - true if the @n bytes at @a and @b are equal. */
static inline bool ampl_bytes_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/** ampl_str_eq() - true if the strings @a and @b are equal; false if either is NULL. */
static inline bool ampl_str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return false;
	for (; *a == *b; a++, b++)
		if (!*a)
			return true;
	return false;
}

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_BYTES_H */
