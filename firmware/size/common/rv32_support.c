/*
 * What the RV32 size images need from a C library and libatomic, which riscv64-unknown-elf-gcc does not ship
 * here: memcpy, memset, strlen (the core's builtins fall back on them) and __atomic_exchange_1 (atomic_flag: RV32A
 * has no byte-wide AMO, so GCC calls out). Byte loops, as small as they get; scripts/cross.sh counts them with
 * libgcc, not with amplink. Built with -fno-builtin -fno-tree-loop-distribute-patterns so that GCC does not turn
 * the loops back into calls to themselves.
 */
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
size_t strlen(const char *s);

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

/* __atomic_exchange_1 under another C name (GCC knows the real one as a builtin): a CAS loop on the aligned word. */
uint8_t size_atomic_exchange_1(volatile void *ptr, uint8_t val, int order) __asm__("__atomic_exchange_1");

uint8_t size_atomic_exchange_1(volatile void *ptr, uint8_t val, int order)
{
	volatile uint32_t *word = (volatile uint32_t *)((uintptr_t)ptr & ~(uintptr_t)3);
	unsigned shift = ((unsigned)(uintptr_t)ptr & 3u) * 8u; /* little-endian */
	uint32_t old = __atomic_load_n(word, __ATOMIC_RELAXED), repl;

	(void)order; /* always sequentially consistent */
	do
		repl = (old & ~(0xFFu << shift)) | ((uint32_t)val << shift);
	while (!__atomic_compare_exchange_n(word, &old, repl, 1, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
	return (uint8_t)(old >> shift);
}
