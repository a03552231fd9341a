/*
 * Language glue of the public headers: every header under amplink/ compiles alone as C11 (also with
 * -pedantic-errors -Wcast-qual) and as C++17 and later, and declares its functions with C linkage in C++
 * (tests/headers checks all of them).
 *
 * AMPL_ATOMIC(T) declares an object of atomic type T: _Atomic(T) in C. C++ before C++23 has no _Atomic, and
 * std::atomic<T> is not promised to have C's layout, so a C++ translation unit sees opaque storage of T's size and
 * alignment in its place: a struct the C library was compiled with keeps its size and every member its offset, and
 * C++ code reaches the member only through the library's functions. T is an integer, bool or a pointer; for those,
 * _Atomic(T) has T's size and alignment on every ABI amplink builds for, which the C side checks below at compile
 * time (and the C++ side checks for its storage).
 *
 * ampl_atomic_flag_t is atomic_flag in C, and opaque storage of its size (AMPL_ATOMIC_FLAG_SIZE, checked) in C++.
 *
 * AMPL_STATIC_ASSERT(cond, msg) and AMPL_ALIGNAS(n): _Static_assert and _Alignas in C, their C++ spellings in C++.
 */
#ifndef AMPLINK_CDEFS_H
#define AMPLINK_CDEFS_H

#include <stdbool.h>
#include <stdint.h>

#define AMPL_ATOMIC_FLAG_SIZE 1

#ifdef __cplusplus

#define AMPL_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#define AMPL_ALIGNAS(n) alignas(n)

/* C++ linkage even where a user includes the header inside extern "C" { }: a template cannot have C linkage. */
extern "C++" {
template <typename T> struct ampl_atomic_opaque {
	alignas(T) unsigned char ampl_opaque[sizeof(T)];
};
struct ampl_atomic_flag_opaque {
	unsigned char ampl_opaque[AMPL_ATOMIC_FLAG_SIZE];
};
}
#define AMPL_ATOMIC(T) ampl_atomic_opaque<T>
typedef struct ampl_atomic_flag_opaque ampl_atomic_flag_t;

static_assert(sizeof(ampl_atomic_opaque<uint32_t>) == sizeof(uint32_t) &&
		      alignof(ampl_atomic_opaque<uint32_t>) == alignof(uint32_t), "opaque atomic uint32_t");
static_assert(sizeof(ampl_atomic_opaque<int>) == sizeof(int) && alignof(ampl_atomic_opaque<int>) == alignof(int),
	      "opaque atomic int");
static_assert(sizeof(ampl_atomic_opaque<bool>) == sizeof(bool) && alignof(ampl_atomic_opaque<bool>) == alignof(bool),
	      "opaque atomic bool");
static_assert(sizeof(ampl_atomic_opaque<void *>) == sizeof(void *) &&
		      alignof(ampl_atomic_opaque<void *>) == alignof(void *), "opaque atomic pointer");
static_assert(sizeof(ampl_atomic_flag_t) == AMPL_ATOMIC_FLAG_SIZE && alignof(ampl_atomic_flag_t) == 1,
	      "opaque atomic_flag");

#else /* C */

#include <stdatomic.h>

#define AMPL_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#define AMPL_ALIGNAS(n) _Alignas(n)
#define AMPL_ATOMIC(T) _Atomic(T)
typedef atomic_flag ampl_atomic_flag_t;

/* What C++ sees in place of each kind of atomic the headers use must have its size and alignment. */
_Static_assert(sizeof(_Atomic(uint32_t)) == sizeof(uint32_t) && _Alignof(_Atomic(uint32_t)) == _Alignof(uint32_t),
	       "_Atomic(uint32_t) has the layout of uint32_t");
_Static_assert(sizeof(_Atomic(unsigned)) == sizeof(unsigned) && _Alignof(_Atomic(unsigned)) == _Alignof(unsigned),
	       "_Atomic(unsigned) has the layout of unsigned");
_Static_assert(sizeof(_Atomic(int)) == sizeof(int) && _Alignof(_Atomic(int)) == _Alignof(int),
	       "_Atomic(int) has the layout of int");
_Static_assert(sizeof(_Atomic(bool)) == sizeof(bool) && _Alignof(_Atomic(bool)) == _Alignof(bool),
	       "_Atomic(bool) has the layout of bool");
_Static_assert(sizeof(_Atomic(void *)) == sizeof(void *) && _Alignof(_Atomic(void *)) == _Alignof(void *),
	       "_Atomic(void *) has the layout of void *");
_Static_assert(sizeof(_Atomic(void (*)(void))) == sizeof(void (*)(void)) &&
		       _Alignof(_Atomic(void (*)(void))) == _Alignof(void (*)(void)),
	       "an atomic function pointer has the layout of a function pointer");
_Static_assert(sizeof(atomic_flag) == AMPL_ATOMIC_FLAG_SIZE && _Alignof(atomic_flag) == 1,
	       "atomic_flag is one byte");

#endif /* __cplusplus */

#endif /* AMPLINK_CDEFS_H */
