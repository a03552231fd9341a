/*
 * The reset-after-N tests: the cache hooks of the side under test redirected to its private "cache" (dut_clean(),
 * dut_invalidate() in the test), where stores to shared memory are counted and, after the N-th, dropped.
 * Force-included (-include) into the test's own build of the backend sources (tests/conformance/CMakeLists.txt)
 * and included first by the test: it must come before any amplink header, which then keeps these definitions
 * (<amplink/cache.h>).
 */
#ifndef AMPL_TEST_DUT_CACHE_H
#define AMPL_TEST_DUT_CACHE_H

#include <stddef.h>

void dut_clean(const void *addr, size_t len);
void dut_invalidate(const void *addr, size_t len);
#define ampl_cache_clean(a, n) dut_clean((const void *)(a), (size_t)(n))
#define ampl_cache_invalidate(a, n) dut_invalidate((const void *)(a), (size_t)(n))

#endif /* AMPL_TEST_DUT_CACHE_H */
