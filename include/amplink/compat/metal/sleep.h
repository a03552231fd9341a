/* libmetal compatibility: <metal/sleep.h>: metal_sleep_usec() on amplink's port (<zephyr/kernel.h>'s sleep). */
#ifndef AMPLINK_COMPAT_METAL_SLEEP_H
#define AMPLINK_COMPAT_METAL_SLEEP_H

#include <zephyr/kernel.h>

static inline int metal_sleep_usec(unsigned int usec)
{
	ampl_compat_sleep_us(usec);
	return 0;
}

#endif /* AMPLINK_COMPAT_METAL_SLEEP_H */
