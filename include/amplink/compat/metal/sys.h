/*
 * libmetal compatibility: <metal/sys.h>: metal_init() and metal_finish() (nothing to set up: amplink's port
 * replaces libmetal's), struct metal_init_params and METAL_INIT_DEFAULTS. Not covered: libmetal's bus, device,
 * I/O region, shared-memory and IRQ APIs (amplink's <amplink/io.h> and the devicetree take their place).
 */
#ifndef AMPLINK_COMPAT_METAL_SYS_H
#define AMPLINK_COMPAT_METAL_SYS_H

#include <metal/log.h>

struct metal_init_params {
	void (*log_handler)(enum metal_log_level level, const char *format, ...);
	enum metal_log_level log_level;
};

#define METAL_INIT_DEFAULTS { .log_handler = 0, .log_level = METAL_LOG_INFO }

static inline int metal_init(const struct metal_init_params *params)
{
	(void)params;
	return 0;
}

static inline void metal_finish(void)
{
}

#endif /* AMPLINK_COMPAT_METAL_SYS_H */
