#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *cli_default_soc(void)
{
	const char *e = getenv("AMPLINK_SOC");
	return e && *e ? e : "amplink";
}

int cli_fail(int code, const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "amplink %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

bool cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	if (!s || !*s || *s == '-')
		return false;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

unsigned cli_soc_open_flags;

int cli_open_soc(const char *cmd, const char *name, struct ampl_soc **soc)
{
	int ret = ampl_soc_open_flags(name, cli_soc_open_flags, soc);
	if (ret)
		return cli_fail(EXIT_FAIL, cmd, "%s", ampl_soc_last_error());
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void cli_sort(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
}

double cli_percentile(const double *sorted, size_t n, double pct)
{
	if (!n)
		return 0;
	size_t i = (size_t)(pct / 100.0 * (double)(n - 1) + 0.5);
	return sorted[i < n ? i : n - 1];
}

void cli_on_stop_signals(void (*fn)(int))
{
	struct sigaction sa = { .sa_handler = fn };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

struct timespec cli_deadline(uint64_t ms)
{
	struct timespec d;
	clock_gettime(CLOCK_REALTIME, &d);
	d.tv_sec += (time_t)(ms / 1000);
	d.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (d.tv_nsec >= 1000000000L) {
		d.tv_sec++;
		d.tv_nsec -= 1000000000L;
	}
	return d;
}

/* Optimal string alignment distance (insertions, deletions, substitutions, adjacent swaps), for short words. */
static unsigned edit_distance(const char *a, const char *b)
{
	enum { MAX = 32 };
	size_t n = strlen(a), m = strlen(b);
	if (n >= MAX || m >= MAX)
		return MAX;
	unsigned d[MAX + 1][MAX + 1];
	for (size_t i = 0; i <= n; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= n; i++) {
		for (size_t j = 1; j <= m; j++) {
			unsigned best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[n][m];
}

const char *cli_did_you_mean(const char *word, const char *const *names)
{
	const char *best = NULL;
	unsigned best_d = 0;
	size_t len = strlen(word);
	/* Up to two edits, one for words of up to four letters: "sned" is send, "xy" is nothing. */
	unsigned limit = len <= 4 ? 1 : 2;
	for (const char *const *n = names; *n; n++) {
		unsigned d = edit_distance(word, *n);
		if (d <= limit && (!best || d < best_d)) {
			best = *n;
			best_d = d;
		}
	}
	return best;
}

int cli_unknown_sub(const char *cmd, const char *word, const char *const *names)
{
	char list[160] = "";
	for (const char *const *n = names; *n; n++) {
		size_t k = strlen(list);
		snprintf(list + k, sizeof(list) - k, "%s%s", k ? ", " : "", *n);
	}
	const char *near = cli_did_you_mean(word, names);
	if (near)
		return cli_fail(EXIT_USAGE, cmd, "unknown sub-command '%s'; did you mean '%s'? (%s)", word, near, list);
	return cli_fail(EXIT_USAGE, cmd, "unknown sub-command '%s' (%s)", word, list);
}
