/*
 * amplink agent: one processor of a virtual SoC. Hotplug (offline|online), retirement (retire), the agents and their
 * processes (list), and the interrupt routing of the process attached as an agent (route|mask|unmask).
 */
#include "cli.h"

#include <getopt.h>
#include <string.h>

static const char usage[] =
	"usage: amplink agent offline|online|retire [--soc NAME] AGENT\n"
	"       amplink agent list [--soc NAME]\n"
	"       amplink agent route [--soc NAME] AGENT [SOURCE LINE]\n"
	"       amplink agent mask|unmask [--soc NAME] AGENT SOURCE\n"
	"\n"
	"offline  the processor goes away: requests pending at it are discarded and every sender's channel to it\n"
	"         reports them failed (tx_done -ESHUTDOWN); new sends to or from it fail at once with -ESHUTDOWN\n"
	"online   it comes back and traffic resumes\n"
	"retire   the id goes offline until a process attaches as it, which brings it back online (the process\n"
	"         holding it, if any, keeps it with every channel offline until it detaches)\n"
	"list     every agent: the process attached as it and whether it is online, offline or retired\n"
	"route    the interrupt line (0-3) of AGENT that takes the requests of SOURCE; without SOURCE LINE, the\n"
	"         routing the process attached as AGENT applies\n"
	"mask     SOURCE's requests to AGENT stay pending (the other sources still interrupt); unmask delivers them\n"
	"SOURCE is an agent name, several separated by commas, or 'all'. route, mask and unmask are applied by the\n"
	"process attached as AGENT, which must be running its interrupt thread.\n";

#define REQUEST_TIMEOUT_MS 2000u

/* SOURCE: "all", or agent names separated by commas; each an agent other than @self. */
static int parse_sources(const struct ampl_soc_profile *p, const struct ampl_soc_agent *self, const char *arg,
			 uint32_t *out)
{
	*out = 0;
	if (!strcmp(arg, "all")) {
		*out = p->valid_mask & ~(1u << self->ipi->bit);
		return 0;
	}
	char buf[256];
	if (strlen(arg) >= sizeof(buf))
		return cli_fail(EXIT_USAGE, "agent", "SOURCE is too long");
	strcpy(buf, arg);
	char *save = NULL;
	for (char *name = strtok_r(buf, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		const struct ampl_soc_agent *a = ampl_soc_agent_by_name(p, name);
		if (!a)
			return cli_fail(EXIT_USAGE, "agent", "SOURCE: unknown agent '%s' on a %s SoC", name, p->name);
		if (a == self)
			return cli_fail(EXIT_USAGE, "agent", "SOURCE: '%s' is AGENT itself, not a source", name);
		*out |= 1u << a->ipi->bit;
	}
	return *out ? 0 : cli_fail(EXIT_USAGE, "agent", "SOURCE: no agent named");
}

/* "apu,rpu1" for the agents of @mask, "-" for none. */
static const char *names_of(const struct ampl_soc_profile *p, uint32_t mask, char *buf, size_t cap)
{
	buf[0] = 0;
	for (unsigned i = 0; i < p->num_agents; i++) {
		if (!(mask & (1u << p->agents[i].ipi->bit)) || (i && p->agents[i].ipi->bit == p->agents[i - 1].ipi->bit))
			continue;
		size_t n = strlen(buf);
		snprintf(buf + n, cap - n, "%s%s", n ? "," : "", p->agents[i].name);
	}
	return buf[0] ? buf : "-";
}

static int show_routes(struct ampl_soc *soc, const struct ampl_soc_agent *a)
{
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	struct ampl_irq_table t;
	if (ampl_soc_irq_table(soc, a, &t))
		return cli_fail(EXIT_FAIL, "agent", "%s", ampl_soc_last_error());
	char buf[512];
	for (unsigned l = 0; l < AMPL_IRQ_LINES; l++)
		printf("line %u: %s\n", l, names_of(p, t.line_src[l] & ~(1u << a->ipi->bit), buf, sizeof(buf)));
	printf("masked: %s\n", names_of(p, t.masked, buf, sizeof(buf)));
	return 0;
}

static void list_agents(struct ampl_soc *soc)
{
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	printf("%-8s %-8s %s\n", "AGENT", "STATE", "PROCESS");
	for (unsigned i = 0; i < p->num_agents; i++) {
		const struct ampl_soc_agent *a = &p->agents[i];
		const char *state = ampl_soc_agent_retired(soc, a) ? "retired"
				    : ampl_soc_agent_online(soc, a) ? "online" : "offline";
		int pid = ampl_soc_agent_pid(soc, a);
		if (pid > 0)
			printf("%-8s %-8s %d%s\n", a->name, state, pid, ampl_soc_agent_alive(soc, a) ? "" : " (dead)");
		else
			printf("%-8s %-8s -\n", a->name, state);
	}
}

static int hotplug(struct ampl_soc *soc, const struct ampl_soc_agent *a, const char *sub)
{
	if (!strcmp(sub, "retire")) {
		int ret = ampl_soc_agent_retire(soc, a);
		if (ret == -EALREADY)
			return cli_fail(EXIT_FAIL, "agent", "%s is already retired", a->name);
		if (ret)
			return cli_fail(EXIT_FAIL, "agent", "%s", ampl_soc_last_error());
		printf("%s is retired\n", a->name);
		return 0;
	}
	bool online = !strcmp(sub, "online");
	int ret = ampl_soc_agent_set_online(soc, a, online);
	if (ret == -EALREADY)
		return cli_fail(EXIT_FAIL, "agent", "%s is already %s", a->name, online ? "online" : "offline");
	if (ret)
		return cli_fail(EXIT_FAIL, "agent", "%s", ampl_strerror(ret));
	printf("%s is %s\n", a->name, online ? "online" : "offline");
	return 0;
}

/* route / mask / unmask, with @argv the arguments after AGENT. */
static int routing(struct ampl_soc *soc, const struct ampl_soc_agent *a, const char *sub, int argc, char **argv)
{
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	bool route = !strcmp(sub, "route");
	if (route && argc == 0)
		return show_routes(soc, a);
	if (argc != (route ? 2 : 1))
		return cli_fail(EXIT_USAGE, "agent", route ? "expected AGENT, or AGENT SOURCE LINE (see --help)"
							  : "expected AGENT SOURCE (see --help)");
	if (!p->valid_mask)
		return cli_fail(EXIT_USAGE, "agent", "a %s SoC has no IPI block: no interrupt routing", p->name);
	uint32_t sources;
	int code = parse_sources(p, a, argv[0], &sources);
	if (code)
		return code;
	uint64_t line = 0;
	if (route && !cli_parse_u64(argv[1], 0, AMPL_IRQ_LINES - 1, &line))
		return cli_fail(EXIT_USAGE, "agent", "LINE: '%s' is not a line (0 to %u)", argv[1], AMPL_IRQ_LINES - 1);
	int ret = route ? ampl_soc_irq_route(soc, a, sources, (unsigned)line, REQUEST_TIMEOUT_MS)
			: ampl_soc_irq_mask(soc, a, sources, !strcmp(sub, "mask"), REQUEST_TIMEOUT_MS);
	if (ret)
		return cli_fail(EXIT_FAIL, "agent", "%s", ampl_soc_last_error());
	char buf[512];
	if (route)
		printf("%s: %s on line %u\n", a->name, names_of(p, sources, buf, sizeof(buf)), (unsigned)line);
	else
		printf("%s: %s %s\n", a->name, names_of(p, sources, buf, sizeof(buf)), sub[0] == 'm' ? "masked" : "unmasked");
	return 0;
}

int cmd_agent(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	static const char *const subs[] = { "offline", "online", "retire", "list", "route", "mask", "unmask", NULL };
	const char *sub = argv[1];
	unsigned s = 0;
	while (subs[s] && strcmp(subs[s], sub))
		s++;
	if (!subs[s])
		return cli_unknown_sub("agent", sub, subs);
	static const struct option opts[] = { { "soc", required_argument, NULL, 's' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	const char *soc_name = cli_default_soc();
	int c;
	optind = 1;
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			soc_name = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	bool list = !strcmp(sub, "list"), rt = s >= 4;
	if (list ? optind != argc : rt ? optind >= argc : optind != argc - 1)
		return cli_fail(EXIT_USAGE, "agent", list ? "list takes no arguments" : "expected one AGENT (see --help)");
	struct ampl_soc *soc;
	int ret = cli_open_soc("agent", soc_name, &soc);
	if (ret)
		return ret;
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	const struct ampl_soc_agent *a = list ? NULL : ampl_soc_agent_by_name(p, argv[optind]);
	int code = 0;
	if (list)
		list_agents(soc);
	else if (!a)
		code = cli_fail(EXIT_USAGE, "agent", "unknown agent '%s' on a %s SoC", argv[optind], p->name);
	else if (rt)
		code = routing(soc, a, sub, argc - optind - 1, argv + optind + 1);
	else
		code = hotplug(soc, a, sub);
	ampl_soc_close(soc);
	return code;
}
