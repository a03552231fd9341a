/* amplink send / recv: one agent's IPM traffic from the command line. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/drivers/xlnx_ipi_filter.h>
#include <amplink/ipm.h>

static const char send_usage[] =
	"usage: amplink send [--soc NAME] --as AGENT --to AGENT [--wait] [--id N] [--hex] [--mode MODE]\n"
	"                    [--timeout MS] DATA\n"
	"\n"
	"Send DATA (text, or with --hex bytes such as 'de ad be ef') from agent --as to agent --to through the\n"
	"IPI mailbox (on an imx SoC: the Messaging Unit, 16 bytes, id 0) with ipm_send(). --wait returns once\n"
	"the remote has acknowledged (IPI: and prints its response, 'response: ...', when it wrote one).\n"
	"The SoC defaults to $AMPLINK_SOC or 'amplink'. MODE: polling, adaptive (default) or blocking.\n";

static const char recv_usage[] =
	"usage: amplink recv [--soc NAME] --as AGENT [--from AGENT] [--count N] [--timeout MS] [--hex]\n"
	"                    [--reply TEXT] [--mode MODE] [--filter RULE]... [--filter-default ACTION]\n"
	"\n"
	"Receive IPM messages as agent --as (from every agent, or only --from) and print each with its source.\n"
	"--count N stops after N messages (default 1; 0 = until interrupted); --timeout MS fails if they do not\n"
	"all arrive in time. --reply writes TEXT into the response buffer before acknowledging; without it the\n"
	"response buffer is cleared (the sender's send --wait prints no response).\n"
	"--filter ACTION[,from=AGENT][,id=VALUE[/MASK]] (repeatable, first match decides) and --filter-default\n"
	"ACTION (accept unless given) filter requests before they are printed; ACTION is accept, refuse-ack\n"
	"(acknowledged unread) or refuse-hold (left pending: its sender stays busy). id is the request's first\n"
	"32-bit word, little-endian. The counts are printed to stderr at the end.\n";

/* Parse hex bytes into @out (at most @max of them are stored); *len is how many @s holds, even above @max. */
static int parse_hex(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t n = 0;
	while (*s) {
		if (isspace((unsigned char)*s) || *s == ':' || *s == ',') {
			s++;
			continue;
		}
		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]))
			return -EINVAL;
		char b[3] = { s[0], s[1], 0 };
		if (n < max)
			out[n] = (uint8_t)strtoul(b, NULL, 16);
		n++;
		s += 2;
	}
	*len = n;
	return 0;
}

static void print_bytes(FILE *f, const uint8_t *b, size_t n, bool hex)
{
	size_t end = n;
	while (end && !b[end - 1])
		end--;
	bool text = !hex;
	for (size_t i = 0; text && i < end; i++)
		if (!isprint(b[i]) && b[i] != '\t')
			text = false;
	if (text) {
		fprintf(f, "%.*s", (int)end, (const char *)b);
		return;
	}
	for (size_t i = 0; i < (hex ? n : end); i++)
		fprintf(f, "%s%02x", i ? " " : "", b[i]);
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

int cmd_send(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "soc", required_argument, NULL, 's' },     { "as", required_argument, NULL, 'a' },
		{ "to", required_argument, NULL, 't' },      { "wait", no_argument, NULL, 'w' },
		{ "id", required_argument, NULL, 'i' },      { "hex", no_argument, NULL, 'x' },
		{ "mode", required_argument, NULL, 'm' },    { "timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },          { NULL, 0, NULL, 0 }
	};
	const char *soc_name = cli_default_soc(), *as = NULL, *to = NULL;
	bool wait = false, hex = false;
	uint64_t id = 0, timeout_ms = 1000;
	enum ampl_wait_mode mode = AMPL_WAIT_ADAPTIVE;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+s:a:t:wi:xm:T:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': soc_name = optarg; break;
		case 'a': as = optarg; break;
		case 't': to = optarg; break;
		case 'w': wait = true; break;
		case 'x': hex = true; break;
		case 'i':
			if (!cli_parse_u64(optarg, 0, UINT32_MAX, &id))
				return cli_fail(EXIT_USAGE, "send", "--id: '%s' is not a number in 0..4294967295", optarg);
			break;
		case 'T':
			if (!cli_parse_u64(optarg, 1, 3600000, &timeout_ms))
				return cli_fail(EXIT_USAGE, "send", "--timeout: '%s' is not 1..3600000 ms", optarg);
			break;
		case 'm':
			if (ampl_wait_mode_parse(optarg, &mode))
				return cli_fail(EXIT_USAGE, "send", "--mode: '%s' is not polling, adaptive or blocking",
						optarg);
			break;
		case 'h': fputs(send_usage, stdout); return 0;
		default: fputs(send_usage, stderr); return EXIT_USAGE;
		}
	}
	if (!as || !to)
		return cli_fail(EXIT_USAGE, "send", "--as AGENT and --to AGENT are required (see --help)");
	if (optind != argc - 1)
		return cli_fail(EXIT_USAGE, "send", "expected one DATA argument (see --help)");
	const char *text = argv[optind];
	uint8_t buf[4096];
	size_t len; /* DATA's real length; only the first sizeof(buf) bytes are kept (more fits no channel) */
	if (hex) {
		int r = parse_hex(text, buf, sizeof(buf), &len);
		if (r)
			return cli_fail(EXIT_USAGE, "send", "DATA: '%.64s%s' is not hex bytes", text,
					strlen(text) > 64 ? "..." : "");
	} else {
		len = strlen(text);
		memcpy(buf, text, len < sizeof(buf) ? len : sizeof(buf));
	}

	struct ampl_soc *soc;
	int ret = cli_open_soc("send", soc_name, &soc);
	if (ret)
		return ret;
	struct ampl_agent *ag = NULL;
	struct ampl_agent_opts aopts = { .mode = mode, .no_irq_thread = true, .no_dt_devices = true,
					 .ack_timeout_us = (uint32_t)(timeout_ms * 1000) };
	const struct ampl_device *dev = NULL;
	int code = 0;
	if (ampl_agent_attach(soc, as, &aopts, &ag) || ampl_agent_channel(ag, to, &dev)) {
		code = cli_fail(EXIT_USAGE, "send", "%s", ampl_soc_last_error());
		goto out;
	}
	if (!strcmp(ampl_agent_info(ag)->name, to) ||
	    ampl_soc_agent_by_name(ampl_soc_get_profile(soc), to) == ampl_agent_info(ag)) {
		code = cli_fail(EXIT_USAGE, "send", "--to must name another agent than --as");
		goto out;
	}
	/* The IPI does not carry a length: pad the buffer with zeros so the receiver sees exactly DATA. */
	int max = ipm_max_data_size_get(dev);
	int wire = (int)len;
	if (len > sizeof(buf) || (max >= 0 && len > (size_t)max))
		ret = -EMSGSIZE; /* said below with DATA's real length */
	else {
		if (max > 0 && wire < max) {
			memset(buf + len, 0, (size_t)(max - wire));
			wire = max;
		}
		ret = ipm_send(dev, wait, (uint32_t)id, buf, wire);
	}
	switch (ret) {
	case 0:
		break;
	case -EMSGSIZE:
		code = cli_fail(EXIT_FAIL, "send", "message is %zu bytes; the %s -> %s channel carries at most %d", len,
				as, to, ipm_max_data_size_get(dev));
		goto out;
	case -EINVAL:
		code = cli_fail(EXIT_FAIL, "send", "--id %llu is invalid: the largest id the %s -> %s channel carries is %u",
				(unsigned long long)id, as, to, ipm_max_id_val_get(dev));
		goto out;
	case -EBUSY:
		code = cli_fail(EXIT_FAIL, "send", "%s has not consumed the previous request from %s yet (amplink soc "
				"show %s)", to, as, soc_name);
		goto out;
	case -ESHUTDOWN:
		code = cli_fail(EXIT_FAIL, "send", "%s or %s is offline (amplink agent online --soc %s ...)", to, as,
				soc_name);
		goto out;
	case -ETIMEDOUT:
		code = cli_fail(EXIT_FAIL, "send", "%s did not acknowledge within %llu ms (is a receiver attached? "
				"amplink recv --as %s)", to, (unsigned long long)timeout_ms, to);
		goto out;
	default:
		code = cli_fail(EXIT_FAIL, "send", "ipm_send: %s", ampl_strerror(ret));
		goto out;
	}
	printf("%s -> %s: sent %zu bytes%s\n", as, to, len, wait ? ", acknowledged" : "");
	uint8_t resp[AMPL_IPI_BUF_SIZE];
	/* A receiver that wrote no reply leaves the response buffer zeroed: nothing to print then. */
	if (wait && xlnx_ipi_response_read(dev, resp, sizeof(resp)) == 0 && !all_zero(resp, sizeof(resp))) {
		printf("response: ");
		print_bytes(stdout, resp, sizeof(resp), hex);
		printf("\n");
	}
out:
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	return code;
}

/* ---- recv ---- */

#define RX_RING 4096

struct rx_msg {
	uint8_t src;
	uint8_t len;
	uint8_t data[AMPL_IPI_BUF_SIZE];
};

static struct {
	struct rx_msg ring[RX_RING];
	atomic_uint head, tail;
	atomic_bool overflow;
	sem_t sem;
	const char *reply;
	const struct ampl_soc_profile *profile;
	volatile sig_atomic_t stop;
} rx;

struct rx_src {
	uint8_t idx;
};

static void rx_cb(const struct ampl_device *dev, void *user_data, uint32_t id, volatile void *data)
{
	(void)id;
	const struct rx_src *src = user_data;
	unsigned h = atomic_load_explicit(&rx.head, memory_order_relaxed);
	if (h - atomic_load_explicit(&rx.tail, memory_order_acquire) >= RX_RING) {
		atomic_store(&rx.overflow, true);
	} else {
		struct rx_msg *m = &rx.ring[h % RX_RING];
		m->src = src->idx;
		/* The whole message: 32 bytes on the IPI, the device's size elsewhere (16 on a Messaging Unit). */
		int size = ipm_max_data_size_get(dev);
		unsigned n = size < 0 ? 0u : size > (int)AMPL_IPI_BUF_SIZE ? AMPL_IPI_BUF_SIZE : (unsigned)size;
		m->len = data ? (uint8_t)n : 0;
		for (unsigned i = 0; data && i < n; i++)
			m->data[i] = ((volatile uint8_t *)data)[i];
		atomic_store_explicit(&rx.head, h + 1, memory_order_release);
	}
	/* The whole response buffer: TEXT padded with zeroes, or only zeroes without --reply (the sender then prints no
	 * response, not an earlier one). */
	if (data) {
		uint8_t resp[AMPL_IPI_BUF_SIZE] = { 0 };
		if (rx.reply)
			memcpy(resp, rx.reply, strnlen(rx.reply, sizeof(resp)));
		xlnx_ipi_response_write(dev, resp, sizeof(resp));
	}
	sem_post(&rx.sem);
}

/* --filter ACTION[,from=AGENT][,id=VALUE[/MASK]] into @f. Return: 0; -EINVAL (the last error in @why). */
static int parse_filter_rule(const struct ampl_soc_profile *p, const char *spec, struct xlnx_ipi_filter *f,
			     char *why, size_t cap)
{
	char buf[128];
	if (strlen(spec) >= sizeof(buf)) {
		snprintf(why, cap, "rule too long");
		return -EINVAL;
	}
	strcpy(buf, spec);
	struct xlnx_ipi_filter_rule r;
	memset(&r, 0, sizeof(r));
	char *save = NULL;
	char *tok = strtok_r(buf, ",", &save);
	if (!tok || xlnx_ipi_filter_action_parse(tok, &r.action)) {
		snprintf(why, cap, "'%s' does not start with accept, refuse-ack or refuse-hold", spec);
		return -EINVAL;
	}
	while ((tok = strtok_r(NULL, ",", &save))) {
		if (!strncmp(tok, "from=", 5)) {
			const struct ampl_soc_agent *a = ampl_soc_agent_by_name(p, tok + 5);
			if (!a) {
				snprintf(why, cap, "unknown agent '%s'", tok + 5);
				return -EINVAL;
			}
			r.src_mask |= ampl_ipi_mask(a);
		} else if (!strncmp(tok, "id=", 3)) {
			char *end;
			errno = 0;
			unsigned long v = strtoul(tok + 3, &end, 0), m = 0xFFFFFFFFul;
			if (!errno && *end == '/')
				m = strtoul(end + 1, &end, 0);
			if (errno || *end || v > 0xFFFFFFFFul || m > 0xFFFFFFFFul || !m) {
				snprintf(why, cap, "id wants VALUE[/MASK] (32-bit, mask not 0), got '%s'", tok + 3);
				return -EINVAL;
			}
			r.id = (uint32_t)v;
			r.id_mask = (uint32_t)m;
		} else {
			snprintf(why, cap, "unknown field '%s' (from=, id=)", tok);
			return -EINVAL;
		}
	}
	if (xlnx_ipi_filter_add_rule(f, &r)) {
		snprintf(why, cap, "at most %u rules", XLNX_IPI_FILTER_MAX_RULES);
		return -EINVAL;
	}
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	rx.stop = 1;
	sem_post(&rx.sem);
}

int cmd_recv(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "soc", required_argument, NULL, 's' },   { "as", required_argument, NULL, 'a' },
		{ "from", required_argument, NULL, 'f' },  { "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 'T' }, { "hex", no_argument, NULL, 'x' },
		{ "reply", required_argument, NULL, 'r' }, { "mode", required_argument, NULL, 'm' },
		{ "filter", required_argument, NULL, 'F' }, { "filter-default", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },        { NULL, 0, NULL, 0 }
	};
	const char *soc_name = cli_default_soc(), *as = NULL, *from = NULL;
	uint64_t count = 1, timeout_ms = 0;
	bool hex = false;
	enum ampl_wait_mode mode = AMPL_WAIT_ADAPTIVE;
	int c;
	optind = 1;
	rx.reply = NULL;
	const char *rules[XLNX_IPI_FILTER_MAX_RULES + 1];
	unsigned num_rules = 0;
	static struct xlnx_ipi_filter filter;
	enum xlnx_ipi_filter_action dflt = XLNX_IPI_FILTER_ACCEPT;
	bool filtering = false;
	while ((c = getopt_long(argc, argv, "+s:a:f:n:T:xr:m:F:D:h", opts, NULL)) != -1) {
		switch (c) {
		case 'F':
			if (num_rules > XLNX_IPI_FILTER_MAX_RULES)
				return cli_fail(EXIT_USAGE, "recv", "--filter: at most %u rules", XLNX_IPI_FILTER_MAX_RULES);
			rules[num_rules++] = optarg;
			filtering = true;
			break;
		case 'D':
			if (xlnx_ipi_filter_action_parse(optarg, &dflt))
				return cli_fail(EXIT_USAGE, "recv", "--filter-default: '%s' is not accept, refuse-ack or "
						"refuse-hold", optarg);
			filtering = true;
			break;
		case 's': soc_name = optarg; break;
		case 'a': as = optarg; break;
		case 'f': from = optarg; break;
		case 'x': hex = true; break;
		case 'r':
			if (strlen(optarg) > AMPL_IPI_BUF_SIZE)
				return cli_fail(EXIT_USAGE, "recv", "--reply is %zu bytes; a response buffer holds %u",
						strlen(optarg), AMPL_IPI_BUF_SIZE);
			rx.reply = optarg;
			break;
		case 'n':
			if (!cli_parse_u64(optarg, 0, UINT32_MAX, &count))
				return cli_fail(EXIT_USAGE, "recv", "--count: '%s' is not a number", optarg);
			break;
		case 'T':
			if (!cli_parse_u64(optarg, 1, 86400000, &timeout_ms))
				return cli_fail(EXIT_USAGE, "recv", "--timeout: '%s' is not 1..86400000 ms", optarg);
			break;
		case 'm':
			if (ampl_wait_mode_parse(optarg, &mode))
				return cli_fail(EXIT_USAGE, "recv", "--mode: '%s' is not polling, adaptive or blocking",
						optarg);
			break;
		case 'h': fputs(recv_usage, stdout); return 0;
		default: fputs(recv_usage, stderr); return EXIT_USAGE;
		}
	}
	if (!as)
		return cli_fail(EXIT_USAGE, "recv", "--as AGENT is required (see --help)");
	if (optind != argc)
		return cli_fail(EXIT_USAGE, "recv", "unexpected argument '%s' (see --help)", argv[optind]);

	struct ampl_soc *soc;
	int ret = cli_open_soc("recv", soc_name, &soc);
	if (ret)
		return ret;
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	rx.profile = p;
	atomic_store(&rx.head, 0);
	atomic_store(&rx.tail, 0);
	sem_init(&rx.sem, 0, 0);
	struct ampl_agent *ag = NULL;
	struct ampl_agent_opts aopts = { .mode = mode, .no_dt_devices = true };
	struct rx_src srcs[32];
	int code = 0;
	if (ampl_agent_attach(soc, as, &aopts, &ag)) {
		code = cli_fail(EXIT_USAGE, "recv", "%s", ampl_soc_last_error());
		goto out;
	}
	if (from && (!ampl_soc_agent_by_name(p, from) || ampl_soc_agent_by_name(p, from) == ampl_agent_info(ag))) {
		code = cli_fail(EXIT_USAGE, "recv", "--from: '%s' is not another agent of this %s SoC", from, p->name);
		goto out;
	}
	xlnx_ipi_filter_init(&filter, dflt);
	for (unsigned i = 0; i < num_rules; i++) {
		char why[160];
		if (parse_filter_rule(p, rules[i], &filter, why, sizeof(why))) {
			code = cli_fail(EXIT_USAGE, "recv", "--filter: %s", why);
			goto out;
		}
	}
	if (filtering && !p->valid_mask) {
		code = cli_fail(EXIT_USAGE, "recv", "--filter: only on the IPI (a %s SoC has none)", p->name);
		goto out;
	}
	for (unsigned i = 0; i < p->num_agents; i++) {
		const struct ampl_soc_agent *a = &p->agents[i];
		if (a == ampl_agent_info(ag) || (from && a != ampl_soc_agent_by_name(p, from)))
			continue;
		const struct ampl_device *dev;
		if (ampl_agent_channel(ag, a->name, &dev)) {
			code = cli_fail(EXIT_FAIL, "recv", "%s", ampl_soc_last_error());
			goto out;
		}
		srcs[i].idx = (uint8_t)i;
		if (filtering) {
			struct mbox_controller *ctrl;
			if (ampl_agent_mbox(ag, a->name, &ctrl) ||
			    xlnx_ipi_filter_attach(xlnx_ipi_mbox_of(&ctrl->chans[XLNX_IPI_RX_CHAN]), &filter)) {
				code = cli_fail(EXIT_FAIL, "recv", "--filter: cannot attach to the channel from %s", a->name);
				goto out;
			}
		}
		ipm_register_callback(dev, rx_cb, &srcs[i]);
		ipm_set_enabled(dev, 1);
	}
	cli_on_stop_signals(on_signal);
	struct timespec deadline = cli_deadline(timeout_ms);
	uint64_t got = 0;
	while (!rx.stop && (count == 0 || got < count)) {
		int w = timeout_ms ? sem_timedwait(&rx.sem, &deadline) : sem_wait(&rx.sem);
		if (w && errno == ETIMEDOUT) {
			code = cli_fail(EXIT_FAIL, "recv", "timed out after %llu ms: received %llu of %llu messages",
					(unsigned long long)timeout_ms, (unsigned long long)got,
					(unsigned long long)count);
			break;
		}
		unsigned t = atomic_load_explicit(&rx.tail, memory_order_relaxed);
		while (t != atomic_load_explicit(&rx.head, memory_order_acquire) && (count == 0 || got < count)) {
			struct rx_msg *m = &rx.ring[t % RX_RING];
			printf("%s: ", p->agents[m->src].name);
			if (m->len)
				print_bytes(stdout, m->data, m->len, hex);
			else
				printf("(doorbell)");
			printf("\n");
			fflush(stdout);
			atomic_store_explicit(&rx.tail, ++t, memory_order_release);
			got++;
		}
		if (atomic_load(&rx.overflow)) {
			code = cli_fail(EXIT_FAIL, "recv", "receive queue overflowed: messages were not printed");
			break;
		}
	}
out:
	if (filtering && ag)
		fprintf(stderr, "filter: accepted %u, refused %u (%u by the default), released %u\n",
			atomic_load(&filter.accepted), atomic_load(&filter.refused), atomic_load(&filter.refused_default),
			atomic_load(&filter.released));
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	sem_destroy(&rx.sem);
	return code;
}
