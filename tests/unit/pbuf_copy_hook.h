/*
 * test_icmsg: the copies of pbuf.c redirected to pbuf_copy() (test_icmsg.c), which can stall a sender before its
 * payload lands in the ring, as an interrupt or a preemption in the middle of the copy would. Force-included
 * (-include) into the build of src/ipc/pbuf.c that test_icmsg links (tests/CMakeLists.txt): it must come before
 * any amplink header, which then keeps this definition (<amplink/port.h>).
 */
#ifndef AMPL_TEST_PBUF_COPY_HOOK_H
#define AMPL_TEST_PBUF_COPY_HOOK_H

#include <stddef.h>

void pbuf_copy(void *d, const void *s, size_t n);
#define ampl_memcpy(d, s, n) pbuf_copy((d), (s), (n))

#endif /* AMPL_TEST_PBUF_COPY_HOOK_H */
