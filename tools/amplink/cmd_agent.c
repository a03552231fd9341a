/* amplink agent offline|online: hotplug of one processor of a virtual SoC. */
#include "cli.h"

#include <getopt.h>
#include <string.h>

static const char usage[] =
	"usage: amplink agent offline|online [--soc NAME] AGENT\n"
	"\n"
	"offline  the processor goes away: requests pending at it are discarded and every sender's channel to it\n"
	"         reports them failed (tx_done -ESHUTDOWN); new sends to or from it fail at once with -ESHUTDOWN\n"
	"online   it comes back and traffic resumes\n";

int cmd_agent(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	bool online;
	if (!strcmp(argv[1], "offline"))
		online = false;
	else if (!strcmp(argv[1], "online"))
		online = true;
	else
		return cli_unknown_sub("agent", argv[1], (const char *const[]){ "offline", "online", NULL });
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
	if (optind != argc - 1)
		return cli_fail(EXIT_USAGE, "agent", "expected one AGENT (see --help)");
	struct ampl_soc *soc;
	int ret = cli_open_soc("agent", soc_name, &soc);
	if (ret)
		return ret;
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	const struct ampl_ipi_agent *a = ampl_soc_agent_by_name(p, argv[optind]);
	int code = 0;
	if (!a) {
		code = cli_fail(EXIT_USAGE, "agent", "unknown agent '%s' on a %s SoC", argv[optind], p->name);
	} else {
		ret = ampl_soc_agent_set_online(soc, a, online);
		if (ret == -EALREADY)
			code = cli_fail(EXIT_FAIL, "agent", "%s is already %s", a->name, online ? "online" : "offline");
		else if (ret)
			code = cli_fail(EXIT_FAIL, "agent", "%s", ampl_strerror(ret));
		else
			printf("%s is %s\n", a->name, online ? "online" : "offline");
	}
	ampl_soc_close(soc);
	return code;
}
