/*
 * Zephyr compatibility: <zephyr/logging/log.h>, immediate mode only. LOG_MODULE_REGISTER(name[, level]) and
 * LOG_MODULE_DECLARE(name[, level]) name the file's module; LOG_ERR, LOG_WRN, LOG_INF, LOG_DBG print
 * "<err> name: text" lines through printk() when the level is at most the module's (default LOG_LEVEL_INF);
 * LOG_HEXDUMP_ERR/WRN/INF/DBG print the bytes after the text. Not covered: deferred logging, backends, runtime
 * filtering, LOG_INST_*, log_panic() and the Kconfig options (CONFIG_LOG_*).
 */
#ifndef AMPLINK_COMPAT_ZEPHYR_LOGGING_LOG_H
#define AMPLINK_COMPAT_ZEPHYR_LOGGING_LOG_H

#include <stddef.h>

#include <zephyr/sys/printk.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LOG_LEVEL_NONE 0
#define LOG_LEVEL_ERR 1
#define LOG_LEVEL_WRN 2
#define LOG_LEVEL_INF 3
#define LOG_LEVEL_DBG 4

/** One log line: "<lvl> module: text\n" (and the bytes of a hexdump). Private: use the LOG_* macros. */
void ampl_compat_log(int level, const char *module, const void *data, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#define AMPL_LOG_MODULE_(name, level, ...)                                                                       \
	static const char ampl_log_module_name_[] __attribute__((unused)) = #name;                             \
	enum { ampl_log_module_level_ = (level) }
#define LOG_MODULE_REGISTER(...) AMPL_LOG_MODULE_(__VA_ARGS__, LOG_LEVEL_INF, 0)
#define LOG_MODULE_DECLARE(...) AMPL_LOG_MODULE_(__VA_ARGS__, LOG_LEVEL_INF, 0)

#define AMPL_LOG_(lvl, ...)                                                                                      \
	do {                                                                                                       \
		if ((lvl) <= ampl_log_module_level_)                                                               \
			ampl_compat_log((lvl), ampl_log_module_name_, NULL, 0, __VA_ARGS__);                    \
	} while (0)
#define LOG_ERR(...) AMPL_LOG_(LOG_LEVEL_ERR, __VA_ARGS__)
#define LOG_WRN(...) AMPL_LOG_(LOG_LEVEL_WRN, __VA_ARGS__)
#define LOG_INF(...) AMPL_LOG_(LOG_LEVEL_INF, __VA_ARGS__)
#define LOG_DBG(...) AMPL_LOG_(LOG_LEVEL_DBG, __VA_ARGS__)

#define AMPL_LOG_HEX_(lvl, data, len, str)                                                                       \
	do {                                                                                                       \
		if ((lvl) <= ampl_log_module_level_)                                                               \
			ampl_compat_log((lvl), ampl_log_module_name_, (data), (len), "%s", (str));             \
	} while (0)
#define LOG_HEXDUMP_ERR(data, len, str) AMPL_LOG_HEX_(LOG_LEVEL_ERR, data, len, str)
#define LOG_HEXDUMP_WRN(data, len, str) AMPL_LOG_HEX_(LOG_LEVEL_WRN, data, len, str)
#define LOG_HEXDUMP_INF(data, len, str) AMPL_LOG_HEX_(LOG_LEVEL_INF, data, len, str)
#define LOG_HEXDUMP_DBG(data, len, str) AMPL_LOG_HEX_(LOG_LEVEL_DBG, data, len, str)

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_COMPAT_ZEPHYR_LOGGING_LOG_H */
