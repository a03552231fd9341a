/*
 * libmetal compatibility: <metal/log.h>. metal_log(level, fmt, ...) prints levels up to METAL_LOG_INFO to standard
 * error ("level: text", no newline added, as libmetal's default handler). Not covered: metal_set_log_handler,
 * metal_set_log_level.
 */
#ifndef AMPLINK_COMPAT_METAL_LOG_H
#define AMPLINK_COMPAT_METAL_LOG_H

enum metal_log_level {
	METAL_LOG_EMERGENCY,
	METAL_LOG_ALERT,
	METAL_LOG_CRITICAL,
	METAL_LOG_ERROR,
	METAL_LOG_WARNING,
	METAL_LOG_NOTICE,
	METAL_LOG_INFO,
	METAL_LOG_DEBUG,
};

#ifdef __cplusplus
extern "C" {
#endif

void metal_log(enum metal_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_COMPAT_METAL_LOG_H */
