/* The amplink command: shared helpers of the sub-commands. Uses the public API only. */
#ifndef AMPL_TOOLS_CLI_H
#define AMPL_TOOLS_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <amplink/host/soc.h>

/** Exit codes: 0 success, 1 the operation failed, 2 bad usage. */
#define EXIT_FAIL 1
#define EXIT_USAGE 2

/** The SoC used when --soc is not given: $AMPLINK_SOC, else "amplink". */
const char *cli_default_soc(void);

/** Print "amplink CMD: message\n" to stderr; returns @code. */
int cli_fail(int code, const char *cmd, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/** Parse an unsigned decimal or 0x-hex number in [min, max]; false on error. */
bool cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/** Flags of every SoC open: AMPL_SOC_ALLOW_OTHER_OWNER with `amplink --allow-other-owner`. */
extern unsigned cli_soc_open_flags;

/** Open SoC @name (with cli_soc_open_flags), printing the reason on failure; returns 0 or an exit code. */
int cli_open_soc(const char *cmd, const char *name, struct ampl_soc **soc);

/** Run @fn on SIGINT and SIGTERM (it must only set flags and post semaphores). */
void cli_on_stop_signals(void (*fn)(int));

/** The CLOCK_REALTIME time @ms milliseconds from now, for sem_timedwait(). */
struct timespec cli_deadline(uint64_t ms);

/**
 * cli_did_you_mean() - the name of the NULL-terminated list @names closest to the mistyped @word (at most one edit
 * for words of up to four letters, else two: a letter added, dropped, changed, or two swapped), or NULL.
 */
const char *cli_did_you_mean(const char *word, const char *const *names);

/** Print "unknown sub-command" for @word of command @cmd, the sub-commands @names and the nearest; EXIT_USAGE. */
int cli_unknown_sub(const char *cmd, const char *word, const char *const *names);

/** Percentile (0..100) of @n sorted values. */
double cli_percentile(const double *sorted, size_t n, double pct);
/** Sort doubles ascending. */
void cli_sort(double *v, size_t n);

int cmd_soc(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_recv(int argc, char **argv);
int cmd_dt(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_stat(int argc, char **argv);

#endif /* AMPL_TOOLS_CLI_H */
