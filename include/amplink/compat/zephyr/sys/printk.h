/*
 * Zephyr compatibility: <zephyr/sys/printk.h>. printk() prints to standard output on the virtual SoC (the
 * library's Zephyr runner, flushed at each call); a firmware defines its own printk() (its console).
 */
#ifndef AMPLINK_COMPAT_ZEPHYR_SYS_PRINTK_H
#define AMPLINK_COMPAT_ZEPHYR_SYS_PRINTK_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vprintk(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_COMPAT_ZEPHYR_SYS_PRINTK_H */
