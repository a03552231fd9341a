/*
 * Zephyr compatibility: <zephyr/sys_clock.h>, the timeouts, as Zephyr names them, of amplink's (<amplink/ipc_service.h>):
 *
 *   k_timeout_t         ampl_timeout_t (microseconds; 0: do not wait; negative: for ever)
 *   K_NO_WAIT           AMPL_NO_WAIT
 *   K_FOREVER           AMPL_FOREVER
 *   K_USEC(t), K_MSEC(t) AMPL_USEC(t), AMPL_MSEC(t)
 *   K_TIMEOUT_EQ(a, b)  AMPL_TIMEOUT_EQ(a, b)
 *
 * <zephyr/kernel.h> of amplink/compat includes it. Not covered: ticks (K_TICKS, k_ticks_t), K_TIMEOUT_ABS_*.
 */
#include <amplink/ipc_service.h> /* first: the names below are for what it defines */

#ifndef AMPLINK_COMPAT_ZEPHYR_SYS_CLOCK_H
#define AMPLINK_COMPAT_ZEPHYR_SYS_CLOCK_H

typedef ampl_timeout_t k_timeout_t;

#define K_NO_WAIT AMPL_NO_WAIT
#define K_FOREVER AMPL_FOREVER
#define K_USEC(t) AMPL_USEC(t)
#define K_MSEC(t) AMPL_MSEC(t)
#define K_TIMEOUT_EQ(a, b) AMPL_TIMEOUT_EQ(a, b)

#endif /* AMPLINK_COMPAT_ZEPHYR_SYS_CLOCK_H */
