/*
 * amplink trace: turn a SoC's tracing on or off, watch its events live, or record them as Chrome trace-event JSON
 * (Perfetto, chrome://tracing). amplink stat: its counters per agent, per object (channel, device, IPC instance)
 * and errors by kind. docs/trace.md.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <amplink/errno.h>
#include <amplink/soc_profile.h>
#include <amplink/host/soc_trace.h>

static const char trace_usage[] =
	"usage: amplink trace [SOC] --on | --off | --status\n"
	"       amplink trace [SOC] [--seconds N] [--from-start]\n"
	"       amplink trace [SOC] --record FILE [--seconds N] [--from-start]\n"
	"\n"
	"Events of every agent of the SoC (default: $AMPLINK_SOC, else \"amplink\"; or --soc NAME): register writes\n"
	"with their side effects, interrupts, acknowledgements, hotplug, filter decisions, and every message at each\n"
	"layer (mailbox, IPM, IPC service), timestamped. Tracing is off until --on; processes attached as agents\n"
	"follow within 10 ms. Each agent's process writes a bounded ring in shared memory and never waits for a\n"
	"reader: records overwritten before they were read are counted as lost.\n"
	"\n"
	"--on, --off      turn the SoC's tracing on or off (counters and records); --status prints which\n"
	"(no action)      print events as they come, merged by time, until SIGINT/SIGTERM or --seconds N\n"
	"--record FILE    write them as Chrome trace-event JSON ({\"traceEvents\": [...]}, one track per agent),\n"
	"                 for Perfetto (ui.perfetto.dev) or chrome://tracing, after --seconds N (default 10) or\n"
	"                 SIGINT/SIGTERM\n"
	"--from-start     begin with the oldest records still in the rings, not with the next ones\n"
	"Exit status: 0 success, 1 failure, 2 bad usage.\n";

static const char stat_usage[] =
	"usage: amplink stat [SOC] [--agent AGENT] [--json]\n"
	"\n"
	"Counters of the SoC's trace (amplink trace SOC --on): per agent, the events of each kind and the errors by\n"
	"kind (EBUSY, ESHUTDOWN, EIO, ENOMEM, EMSGSIZE, ETIMEDOUT, ENOBUFS, ECANCELED: queued when its channel was\n"
	"freed, refused by a filter, other), then the same\n"
	"per object: mailbox channel, IPM device, IPC instance (icmsg, multi, rpmsg), agent. Counted while tracing is\n"
	"on, exactly, whatever the ring kept. --json: one JSON object. Exit status: 0, 1 failure, 2 bad usage.\n";

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/* ---- options shared by trace and stat ---- */

struct opts {
	const char *soc;
	const char *record;
	const char *agent;
	int action; /* 0 follow, 'n' on, 'f' off, 's' status */
	double seconds;
	bool from_start;
	bool json;
};

static int parse(const char *cmd, const char *usage, int argc, char **argv, struct opts *o)
{
	static const struct option opts[] = { { "soc", required_argument, NULL, 'S' },
					      { "on", no_argument, NULL, 'n' },
					      { "off", no_argument, NULL, 'f' },
					      { "status", no_argument, NULL, 's' },
					      { "record", required_argument, NULL, 'r' },
					      { "seconds", required_argument, NULL, 't' },
					      { "from-start", no_argument, NULL, 'b' },
					      { "agent", required_argument, NULL, 'a' },
					      { "json", no_argument, NULL, 'j' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	bool is_stat = !strcmp(cmd, "stat");
	*o = (struct opts){ .soc = cli_default_soc() };
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		bool for_trace = c == 'n' || c == 'f' || c == 's' || c == 'r' || c == 't' || c == 'b';
		if ((is_stat && for_trace) || (!is_stat && (c == 'a' || c == 'j')))
			return cli_fail(EXIT_USAGE, cmd, "%s is not an option of amplink %s (see --help)", argv[optind - 1],
					cmd);
		switch (c) {
		case 'S':
			o->soc = optarg;
			break;
		case 'n':
		case 'f':
		case 's':
			if (o->action && o->action != c)
				return cli_fail(EXIT_USAGE, cmd, "--on, --off and --status exclude each other");
			o->action = c;
			break;
		case 'r':
			o->record = optarg;
			break;
		case 't': {
			char *end;
			o->seconds = strtod(optarg, &end);
			if (end == optarg || *end || !(o->seconds > 0) || o->seconds > 86400)
				return cli_fail(EXIT_USAGE, cmd, "--seconds: '%s' is not a duration in seconds (0 < N <= 86400)",
						optarg);
			break;
		}
		case 'b':
			o->from_start = true;
			break;
		case 'a':
			o->agent = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return -1;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		o->soc = argv[optind++];
	if (optind < argc)
		return cli_fail(EXIT_USAGE, cmd, "unexpected argument '%s' (see --help)", argv[optind]);
	if (o->action && (o->record || o->seconds > 0 || o->from_start))
		return cli_fail(EXIT_USAGE, cmd, "--%s takes no other option", o->action == 'n' ? "on" : o->action == 'f' ? "off" : "status");
	return 0;
}

/* ---- reading ---- */

struct rec {
	struct ampl_trace_event_rec e;
	uint64_t order; /* arrival: keeps each agent's order among equal timestamps */
};

static int by_time(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	if (x->e.ts_ns != y->e.ts_ns)
		return x->e.ts_ns < y->e.ts_ns ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

#define BATCH 4096u
#define POLL_US 5000u
/* Records a recording keeps (about 130 MB; the live view: waiting to be printed); beyond, they are dropped and
 * counted. */
#define RECORD_MAX (4u << 20)

static void obj_name(struct ampl_trace_reader *r, const struct ampl_trace_event_rec *e, char *buf, size_t n)
{
	if (e->obj == AMPL_TRACE_NO_OBJ || ampl_trace_reader_obj(r, e->agent, e->obj, buf, n, NULL, 0))
		snprintf(buf, n, "-");
}

/* JSON string contents: names are printable ASCII (the reader made them so); escape the quote and backslash. */
static void json_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
}

static int write_chrome(const char *path, struct ampl_soc *soc, struct ampl_trace_reader *r, struct rec *v, size_t n,
			uint64_t dropped)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return cli_fail(EXIT_FAIL, "trace", "cannot write %s: %s", path, strerror(errno));
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	fprintf(f, "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n");
	fprintf(f, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"SoC ");
	json_str(f, ampl_soc_name(soc));
	fprintf(f, "\"}}");
	for (unsigned i = 0; i < p->num_agents; i++) {
		fprintf(f, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":%u,\"args\":{\"name\":\"", i + 1);
		json_str(f, p->agents[i].name);
		fprintf(f, "\"}},\n{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":1,\"tid\":%u,\"args\":"
			   "{\"sort_index\":%u}}", i + 1, i);
	}
	for (size_t i = 0; i < n; i++) {
		const struct ampl_trace_event_rec *e = &v[i].e;
		char name[96];
		obj_name(r, e, name, sizeof(name));
		fprintf(f, ",\n{\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":%u,\"ts\":%llu.%03u,\"name\":\"%s\",\"cat\":\"%s\","
			   "\"args\":{\"obj\":\"", e->agent + 1u, (unsigned long long)(e->ts_ns / 1000u),
			(unsigned)(e->ts_ns % 1000u), ampl_trace_event_name(e->ev), ampl_trace_layer_name(e->ev));
		json_str(f, name);
		fprintf(f, "\",\"val\":%d}}", (int)e->val);
	}
	fprintf(f, "\n],\"otherData\":{\"soc\":\"");
	json_str(f, ampl_soc_name(soc));
	fprintf(f, "\",\"events\":%zu,\"dropped_by_recorder\":%llu", n, (unsigned long long)dropped);
	for (unsigned i = 0; i < p->num_agents; i++)
		fprintf(f, ",\"lost_%s\":%llu", p->agents[i].name, (unsigned long long)ampl_trace_reader_lost(r, i));
	fprintf(f, "}}\n");
	if (fclose(f))
		return cli_fail(EXIT_FAIL, "trace", "cannot write %s: %s", path, strerror(errno));
	return 0;
}

static void print_live(struct ampl_soc *soc, struct ampl_trace_reader *r, const struct rec *v, size_t n)
{
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	for (size_t i = 0; i < n; i++) {
		const struct ampl_trace_event_rec *e = &v[i].e;
		char name[96];
		obj_name(r, e, name, sizeof(name));
		printf("%llu.%09llu %-6s %-6s %-14s %-28s %d\n", (unsigned long long)(e->ts_ns / 1000000000u),
		       (unsigned long long)(e->ts_ns % 1000000000u),
		       e->agent < p->num_agents ? p->agents[e->agent].name : "?", ampl_trace_layer_name(e->ev),
		       ampl_trace_event_name(e->ev), name, (int)e->val);
	}
	fflush(stdout);
}

/* Keep @x (growing @v up to RECORD_MAX records); false if there is no room. */
static bool keep_rec(struct rec **v, size_t *n, size_t *cap, struct rec x)
{
	if (*n == *cap && *cap < RECORD_MAX) {
		size_t ncap = *cap ? *cap * 2 : 65536;
		struct rec *nv = realloc(*v, ncap * sizeof(*nv));
		if (nv) {
			*v = nv;
			*cap = ncap;
		}
	}
	if (*n == *cap)
		return false;
	(*v)[(*n)++] = x;
	return true;
}

static uint64_t mono_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/*
 * The live view prints an event once it is LIVE_DELAY_NS old, so that events of an agent whose records arrive a
 * little later (a process that just started tracing, found at the next rescan) are still printed in time order.
 */
#define LIVE_DELAY_NS 200000000u

static int follow(struct ampl_soc *soc, const struct opts *o)
{
	struct ampl_trace_reader *r;
	if (ampl_trace_reader_open(soc, o->from_start, &r))
		return cli_fail(EXIT_FAIL, "trace", "%s", ampl_soc_last_error());
	if (!ampl_soc_trace_get(soc))
		fprintf(stderr, "amplink trace: tracing is off on SoC %s: nothing comes until 'amplink trace %s --on'\n",
			ampl_soc_name(soc), ampl_soc_name(soc));
	cli_on_stop_signals(on_stop);
	double seconds = o->seconds > 0 ? o->seconds : o->record ? 10.0 : 0;
	uint64_t t0 = mono_ns();
	struct ampl_trace_event_rec *batch = malloc(BATCH * sizeof(*batch));
	struct rec *keep = NULL;
	size_t kept = 0, cap = 0;
	uint64_t order = 0, dropped = 0;
	int code = batch ? 0 : cli_fail(EXIT_FAIL, "trace", "out of memory");
	for (bool last = false; !code;) {
		size_t n;
		while ((n = ampl_trace_reader_poll(r, batch, BATCH)) > 0)
			for (size_t i = 0; i < n; i++)
				if (!keep_rec(&keep, &kept, &cap, (struct rec){ batch[i], order++ }))
					dropped++;
		uint64_t now = mono_ns();
		if (stop || (seconds > 0 && (double)(now - t0) / 1e9 >= seconds))
			last = true;
		if (!o->record && kept) {
			qsort(keep, kept, sizeof(*keep), by_time);
			size_t ripe = 0; /* old enough, or everything at the end or when the buffer is full */
			while (ripe < kept && (last || kept == cap || keep[ripe].e.ts_ns + LIVE_DELAY_NS <= now))
				ripe++;
			print_live(soc, r, keep, ripe);
			memmove(keep, keep + ripe, (kept - ripe) * sizeof(*keep));
			kept -= ripe;
		}
		if (last)
			break;
		usleep(POLL_US);
	}
	if (!code && o->record) {
		qsort(keep, kept, sizeof(*keep), by_time);
		code = write_chrome(o->record, soc, r, keep, kept, dropped);
		if (!code) {
			uint64_t lost = 0;
			for (unsigned i = 0; i < ampl_soc_get_profile(soc)->num_agents; i++)
				lost += ampl_trace_reader_lost(r, i);
			printf("recorded %zu events to %s (lost in the rings: %llu; dropped by the recorder: %llu)\n", kept,
			       o->record, (unsigned long long)lost, (unsigned long long)dropped);
		}
	}
	free(keep);
	free(batch);
	ampl_trace_reader_close(r);
	return code;
}

/* The time every attached process takes to follow the flag: two crash-watch periods. */
#define FOLLOW_US 25000u

int cmd_trace(int argc, char **argv)
{
	struct opts o;
	int ret = parse("trace", trace_usage, argc, argv, &o);
	if (ret)
		return ret < 0 ? 0 : ret;
	struct ampl_soc *soc;
	ret = cli_open_soc("trace", o.soc, &soc);
	if (ret)
		return ret;
	int code = 0;
	if (o.action == 's') {
		printf("tracing is %s for SoC %s\n", ampl_soc_trace_get(soc) ? "on" : "off", ampl_soc_name(soc));
	} else if (o.action) {
		ret = ampl_soc_trace_set(soc, o.action == 'n');
		if (ret) {
			code = cli_fail(EXIT_FAIL, "trace", "%s", ampl_soc_last_error());
		} else {
			usleep(FOLLOW_US);
			printf("tracing is %s for SoC %s\n", o.action == 'n' ? "on" : "off", ampl_soc_name(soc));
		}
	} else {
		code = follow(soc, &o);
	}
	ampl_soc_close(soc);
	return code;
}

/* ---- stat ---- */

/* The nonzero counters of list @err (errors by kind, or events) of @obj of agent @a; true if there was none. */
static bool stat_list(struct ampl_trace_reader *r, unsigned a, unsigned obj, bool err, bool json)
{
	bool none = true;
	for (unsigned i = err ? 0 : 1; i < (err ? AMPL_TRACE_ERR_KINDS : AMPL_EV_COUNT); i++) {
		uint64_t n = err ? ampl_trace_reader_errors(r, a, obj, i) : ampl_trace_reader_count(r, a, obj, i);
		const char *name = err ? ampl_trace_err_name(i) : ampl_trace_event_name(i);
		if (!n)
			continue;
		if (json)
			printf("%s\"%s\":%llu", none ? "" : ",", name, (unsigned long long)n);
		else
			printf(" %s=%llu", name, (unsigned long long)n);
		none = false;
	}
	return none;
}

static void stat_counts(struct ampl_trace_reader *r, unsigned a, unsigned obj, bool json)
{
	if (json) {
		printf("\"counts\":{");
		stat_list(r, a, obj, false, true);
		printf("},\"errors\":{");
		stat_list(r, a, obj, true, true);
		printf("}");
		return;
	}
	printf(stat_list(r, a, obj, false, false) ? " (no events)\n      errors:" : "\n      errors:");
	printf("%s\n", stat_list(r, a, obj, true, false) ? " none" : "");
}

int cmd_stat(int argc, char **argv)
{
	struct opts o;
	int ret = parse("stat", stat_usage, argc, argv, &o);
	if (ret)
		return ret < 0 ? 0 : ret;
	struct ampl_soc *soc;
	ret = cli_open_soc("stat", o.soc, &soc);
	if (ret)
		return ret;
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	int only = -1;
	if (o.agent) {
		const struct ampl_soc_agent *a = ampl_soc_agent_by_name(p, o.agent);
		if (!a) {
			ampl_soc_close(soc);
			return cli_fail(EXIT_USAGE, "stat", "--agent: unknown agent '%s' on a %s SoC", o.agent, p->name);
		}
		only = (int)(a - p->agents);
	}
	struct ampl_trace_reader *r;
	if (ampl_trace_reader_open(soc, false, &r)) {
		ampl_soc_close(soc);
		return cli_fail(EXIT_FAIL, "stat", "%s", ampl_soc_last_error());
	}
	bool on = ampl_soc_trace_get(soc);
	if (o.json)
		printf("{\"soc\":\"%s\",\"tracing\":%s,\"agents\":[", ampl_soc_name(soc), on ? "true" : "false");
	else
		printf("SoC %s: tracing %s%s\n", ampl_soc_name(soc), on ? "on" : "off",
		       on ? "" : " (counters grow only while it is on: amplink trace SOC --on)");
	bool first = true;
	for (unsigned a = 0; a < p->num_agents; a++) {
		if ((only >= 0 && (unsigned)only != a) || !ampl_trace_reader_has(r, a))
			continue;
		uint64_t cap;
		uint64_t written = ampl_trace_reader_written(r, a, &cap);
		if (o.json) {
			printf("%s{\"agent\":\"%s\",\"records\":%llu,\"ring\":%llu,", first ? "" : ",", p->agents[a].name,
			       (unsigned long long)written, (unsigned long long)cap);
		} else {
			printf("agent %s: %llu records written (ring of %llu: the last %llu kept)\n  all:", p->agents[a].name,
			       (unsigned long long)written, (unsigned long long)cap,
			       (unsigned long long)(written < cap ? written : cap));
		}
		stat_counts(r, a, AMPL_TRACE_NO_OBJ, o.json);
		if (o.json)
			printf(",\"objects\":[");
		unsigned nobj = ampl_trace_reader_objs(r, a);
		for (unsigned i = 0; i < nobj; i++) {
			char name[96], kind[32];
			if (ampl_trace_reader_obj(r, a, i, name, sizeof(name), kind, sizeof(kind)))
				continue;
			if (o.json) {
				printf("%s{\"name\":\"", i ? "," : "");
				json_str(stdout, name);
				printf("\",\"kind\":\"%s\",", kind);
			} else {
				printf("  %s %s:", kind, name);
			}
			stat_counts(r, a, i, o.json);
			if (o.json)
				printf("}");
		}
		if (o.json)
			printf("]}");
		first = false;
	}
	if (o.json)
		printf("]}\n");
	else if (first)
		printf("no agent has traced%s yet\n", only >= 0 ? " (that agent)" : "");
	ampl_trace_reader_close(r);
	ampl_soc_close(soc);
	return 0;
}
