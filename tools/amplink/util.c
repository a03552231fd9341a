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
