/* amplink console: the IPM console (<amplink/ipm_console.h>) from the command line, both ends. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <amplink/ipm.h>
#include <amplink/ipm_console.h>

static const char console_usage[] =
	"usage: amplink console [--soc NAME] --as AGENT --from AGENT [--count N] [--timeout MS] [--mode MODE]\n"
	"       amplink console [--soc NAME] --as AGENT --to AGENT [--timeout MS] [--mode MODE]\n"
	"\n"
	"The IPM console: lines of text carried in the IPI message data (up to 32 bytes per message, padded with\n"
	"NUL bytes; a line may span messages and a message may hold several lines).\n"
	"\n"
	"--from AGENT  receive: attach as --as and print every line from AGENT as 'AGENT: line'. --count N stops\n"
	"              after N lines (default 0 = until interrupted); --timeout MS fails if they do not all arrive\n"
	"              in time. A line longer than 256 bytes is printed in pieces.\n"
	"--to AGENT    send: attach as --as and send standard input to AGENT, each message acknowledged before\n"
	"              the next; NUL bytes are dropped and a last line without a newline gets one at end of input.\n"
	"              --timeout MS bounds each acknowledgement (default 1000).\n"
	"Exactly one of --from and --to. The SoC defaults to $AMPLINK_SOC or 'amplink'. MODE: polling, adaptive\n"
	"(default) or blocking.\n";

/* ---- receiving side ---- */

#define LINE_RING 4096

struct line_slot {
	size_t len;
	char text[IPM_CONSOLE_LINE_MAX + 1];
};

static struct {
	struct line_slot ring[LINE_RING];
	atomic_uint head, tail;
	atomic_bool overflow;
	sem_t sem;
	volatile sig_atomic_t stop;
} con;

/* Interrupt context (the agent's interrupt thread): queue the line, never block. */
static void on_line(const char *line, size_t len, void *arg)
{
	(void)arg;
	unsigned h = atomic_load_explicit(&con.head, memory_order_relaxed);
	if (h - atomic_load_explicit(&con.tail, memory_order_acquire) >= LINE_RING) {
		atomic_store(&con.overflow, true);
	} else {
		struct line_slot *sl = &con.ring[h % LINE_RING];
		sl->len = len;
		memcpy(sl->text, line, len);
		atomic_store_explicit(&con.head, h + 1, memory_order_release);
	}
	sem_post(&con.sem);
}

static void on_signal(int sig)
{
	(void)sig;
	con.stop = 1;
	sem_post(&con.sem);
}

/* Print the queued lines, at most up to @count in all (0: no limit). */
static void print_lines(const char *from, uint64_t count, uint64_t *got)
{
	unsigned t = atomic_load_explicit(&con.tail, memory_order_relaxed);
	while (t != atomic_load_explicit(&con.head, memory_order_acquire) && (count == 0 || *got < count)) {
		const struct line_slot *sl = &con.ring[t % LINE_RING];
		printf("%s: ", from);
		fwrite(sl->text, 1, sl->len, stdout);
		putchar('\n');
		fflush(stdout);
		atomic_store_explicit(&con.tail, ++t, memory_order_release);
		(*got)++;
	}
}

static int console_receive(struct ampl_soc *soc, const char *as, const char *from, uint64_t count,
			   uint64_t timeout_ms, enum ampl_wait_mode mode)
{
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	static struct ipm_console_receiver rx;
	struct ampl_agent *ag = NULL;
	struct ampl_agent_opts aopts = { .mode = mode, .no_dt_devices = true };
	const struct ampl_device *dev = NULL;
	int code = 0;

	atomic_store(&con.head, 0);
	atomic_store(&con.tail, 0);
	atomic_store(&con.overflow, false);
	con.stop = 0;
	sem_init(&con.sem, 0, 0);
	if (ampl_agent_attach(soc, as, &aopts, &ag)) {
		code = cli_fail(EXIT_USAGE, "console", "%s", ampl_soc_last_error());
		goto out;
	}
	const struct ampl_soc_agent *src = ampl_soc_agent_by_name(p, from);
	if (!src || src == ampl_agent_info(ag)) {
		code = cli_fail(EXIT_USAGE, "console", "--from: '%s' is not another agent of this %s SoC", from,
				p->name);
		goto out;
	}
	if (ampl_agent_channel(ag, src->name, &dev)) {
		code = cli_fail(EXIT_FAIL, "console", "%s", ampl_soc_last_error());
		goto out;
	}
	int ret = ipm_console_receiver_init(&rx, dev, on_line, NULL);
	if (ret == -ENOTSUP) {
		code = cli_fail(EXIT_FAIL, "console", "the %s -> %s channel is doorbell-only (no data): the console needs "
				"a channel with message buffers", src->name, ampl_agent_info(ag)->name);
		goto out;
	} else if (ret) {
		code = cli_fail(EXIT_FAIL, "console", "ipm_console_receiver_init: %s", ampl_strerror(ret));
		goto out;
	}

	cli_on_stop_signals(on_signal);
	struct timespec deadline = cli_deadline(timeout_ms);
	uint64_t got = 0;
	bool timed_out = false;
	while (!con.stop && (count == 0 || got < count)) {
		int w = timeout_ms ? sem_timedwait(&con.sem, &deadline) : sem_wait(&con.sem);
		if (w && errno == ETIMEDOUT) {
			timed_out = true;
			break;
		}
		print_lines(src->name, count, &got);
		if (atomic_load(&con.overflow)) {
			code = cli_fail(EXIT_FAIL, "console", "line queue overflowed: lines were not printed");
			goto out;
		}
	}
	if (timed_out || con.stop) {
		/* Stopped early: once no handler runs any more, show a last line that has no newline yet. */
		ampl_agent_detach(ag);
		ag = NULL;
		ipm_console_receiver_flush(&rx);
		print_lines(src->name, count, &got);
	}
	if (timed_out && (count == 0 || got < count)) {
		if (count)
			code = cli_fail(EXIT_FAIL, "console", "timed out after %llu ms: received %llu of %llu lines from %s",
					(unsigned long long)timeout_ms, (unsigned long long)got,
					(unsigned long long)count, src->name);
		else
			code = cli_fail(EXIT_FAIL, "console", "timed out after %llu ms (%llu lines received from %s)",
					(unsigned long long)timeout_ms, (unsigned long long)got, src->name);
	}
out:
	ampl_agent_detach(ag);
	sem_destroy(&con.sem);
	return code;
}

/* ---- sending side ---- */

static int send_fail(int ret, const char *as, const char *to, uint64_t timeout_ms)
{
	switch (ret) {
	case -EBUSY:
		return cli_fail(EXIT_FAIL, "console", "%s has not consumed the previous message from %s (is a receiver "
				"running? amplink console --as %s --from %s)", to, as, to, as);
	case -ETIMEDOUT:
		return cli_fail(EXIT_FAIL, "console", "%s did not acknowledge within %llu ms (is a receiver running? "
				"amplink console --as %s --from %s)", to, (unsigned long long)timeout_ms, to, as);
	default:
		return cli_fail(EXIT_FAIL, "console", "ipm_send: %s", ampl_strerror(ret));
	}
}

static int console_send(struct ampl_soc *soc, const char *as, const char *to, uint64_t timeout_ms,
			enum ampl_wait_mode mode)
{
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	static struct ipm_console_sender tx;
	struct ampl_agent *ag = NULL;
	struct ampl_agent_opts aopts = { .mode = mode, .no_irq_thread = true, .no_dt_devices = true,
					 .ack_timeout_us = (uint32_t)(timeout_ms * 1000) };
	const struct ampl_device *dev = NULL;
	int code = 0;
	if (ampl_agent_attach(soc, as, &aopts, &ag)) {
		code = cli_fail(EXIT_USAGE, "console", "%s", ampl_soc_last_error());
		goto out;
	}
	const struct ampl_soc_agent *dst = ampl_soc_agent_by_name(p, to);
	if (!dst || dst == ampl_agent_info(ag)) {
		code = cli_fail(EXIT_USAGE, "console", "--to: '%s' is not another agent of this %s SoC", to, p->name);
		goto out;
	}
	if (ampl_agent_channel(ag, dst->name, &dev)) {
		code = cli_fail(EXIT_FAIL, "console", "%s", ampl_soc_last_error());
		goto out;
	}
	as = ampl_agent_info(ag)->name;
	to = dst->name;
	int ret = ipm_console_sender_init(&tx, dev);
	if (ret == -ENOTSUP) {
		code = cli_fail(EXIT_FAIL, "console", "the %s -> %s channel is doorbell-only (no data): the console needs "
				"a channel with message buffers", as, to);
		goto out;
	} else if (ret) {
		code = cli_fail(EXIT_FAIL, "console", "ipm_console_sender_init: %s", ampl_strerror(ret));
		goto out;
	}

	char buf[4096];
	char last = '\n'; /* the last byte sent other than NUL; nothing sent counts as a finished line */
	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			code = cli_fail(EXIT_FAIL, "console", "reading standard input: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i])
				last = buf[i];
		for (size_t off = 0; off < (size_t)n;) {
			ret = ipm_console_write(&tx, buf + off, (size_t)n - off);
			if (ret < 0) {
				code = send_fail(ret, as, to, timeout_ms);
				goto out;
			}
			off += (size_t)ret;
		}
	}
	if (last != '\n') {
		ret = ipm_console_putc(&tx, '\n');
		if (ret < 0) {
			code = send_fail(ret, as, to, timeout_ms);
			goto out;
		}
	}
	ret = ipm_console_flush(&tx);
	if (ret < 0)
		code = send_fail(ret, as, to, timeout_ms);
out:
	ampl_agent_detach(ag);
	return code;
}

int cmd_console(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "soc", required_argument, NULL, 's' },     { "as", required_argument, NULL, 'a' },
		{ "from", required_argument, NULL, 'f' },    { "to", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' },   { "timeout", required_argument, NULL, 'T' },
		{ "mode", required_argument, NULL, 'm' },    { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *soc_name = cli_default_soc(), *as = NULL, *from = NULL, *to = NULL;
	uint64_t count = 0, timeout_ms = 0;
	bool count_set = false;
	enum ampl_wait_mode mode = AMPL_WAIT_ADAPTIVE;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+s:a:f:t:n:T:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': soc_name = optarg; break;
		case 'a': as = optarg; break;
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'n':
			if (!cli_parse_u64(optarg, 0, UINT32_MAX, &count))
				return cli_fail(EXIT_USAGE, "console", "--count: '%s' is not a number", optarg);
			count_set = true;
			break;
		case 'T':
			if (!cli_parse_u64(optarg, 1, 86400000, &timeout_ms))
				return cli_fail(EXIT_USAGE, "console", "--timeout: '%s' is not 1..86400000 ms", optarg);
			break;
		case 'm':
			if (ampl_wait_mode_parse(optarg, &mode))
				return cli_fail(EXIT_USAGE, "console", "--mode: '%s' is not polling, adaptive or blocking",
						optarg);
			break;
		case 'h': fputs(console_usage, stdout); return 0;
		default: fputs(console_usage, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_fail(EXIT_USAGE, "console", "unexpected argument '%s' (see --help)", argv[optind]);
	if (!as)
		return cli_fail(EXIT_USAGE, "console", "--as AGENT is required (see --help)");
	if (from && to)
		return cli_fail(EXIT_USAGE, "console", "--from and --to are mutually exclusive: receive with --from, "
				"send with --to");
	if (!from && !to)
		return cli_fail(EXIT_USAGE, "console", "one of --from AGENT (receive) or --to AGENT (send) is required "
				"(see --help)");
	if (to && count_set)
		return cli_fail(EXIT_USAGE, "console", "--count is for receiving (--from); the sender sends all of "
				"standard input");

	struct ampl_soc *soc;
	int ret = cli_open_soc("console", soc_name, &soc);
	if (ret)
		return ret;
	int code = from ? console_receive(soc, as, from, count, timeout_ms, mode)
			: console_send(soc, as, to, timeout_ms ? timeout_ms : 1000, mode);
	ampl_soc_close(soc);
	return code;
}
