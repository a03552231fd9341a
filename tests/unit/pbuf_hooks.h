/*
 * test_pbuf: the cache hooks and the barriers redirected to a recorder (hook_ev() in test_pbuf.c), so the tests
 * see every clean, invalidate and barrier the library issues. Force-included (-include) into the build of
 * src/ipc/pbuf.c that test_pbuf links (tests/CMakeLists.txt), and included first by test_pbuf.c: it must come
 * before any amplink header, which then keeps these definitions (<amplink/cache.h>, <amplink/port.h>).
 */
#ifndef AMPL_TEST_PBUF_HOOKS_H
#define AMPL_TEST_PBUF_HOOKS_H

#include <stddef.h>

void hook_ev(char kind, const volatile void *addr, size_t len);
#define ampl_cache_clean(a, n) hook_ev('C', (a), (n))
#define ampl_cache_invalidate(a, n) hook_ev('I', (a), (n))
#define ampl_mb() hook_ev('B', NULL, 0)
#define ampl_wmb() hook_ev('W', NULL, 0)
#define ampl_rmb() hook_ev('R', NULL, 0)

#endif /* AMPL_TEST_PBUF_HOOKS_H */
