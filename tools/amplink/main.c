/* amplink: the command-line front end of the virtual SoC, the IPM API and the devicetree loader. */
#include "cli.h"

#include <string.h>

int cmd_mount(int argc, char **argv);
int cmd_ipc(int argc, char **argv);

static const char usage[] =
	"usage: amplink [--allow-other-owner] COMMAND [ARGS]\n"
	"       amplink --version\n"
	"\n"
	"Inter-processor communication on a virtual SoC: every processor is a process, the mailboxes are\n"
	"register-accurate models in shared memory.\n"
	"\n"
	"commands:\n"
	"  demo               APU and RPU0 of a virtual ZynqMP exchange messages through the IPI mailbox\n"
	"  soc create|destroy|list|show   manage virtual SoCs\n"
	"  agent offline|online   hotplug: take a processor away and bring it back\n"
	"  send               send one IPM message as an agent\n"
	"  recv               receive IPM messages as an agent\n"
	"  console            IPM console: print the lines an agent sends, or send standard input as lines\n"
	"  dt check FILE      load a devicetree and print what amplink understood\n"
	"  dt gen --agent A FILE -o OUT   generate C (OUT.h, OUT.c) for agent A's firmware from a devicetree\n"
	"  mount DIR          user-space channels and IPC endpoints of an agent as files (FUSE): DIR/control,\n"
	"                     DIR/<agent>, DIR/<ipc instance>/control, DIR/<ipc instance>/<endpoint>\n"
	"  ipc list|send|recv|echo   IPC service endpoints (ICMsg, multi-endpoint, RPMsg) from the shell\n"
	"  bench              round-trip latency and one-way throughput beside this machine's limits\n"
	"  trace [SOC]        tracing on/off, live events, or a recording for Perfetto (--record FILE)\n"
	"  stat [SOC]         counters per agent, channel and IPC instance, errors by kind\n"
	"\n"
	"--allow-other-owner  use SoC images that belong to another user (refused otherwise: their owner\n"
	"                     can shrink or rewrite them at any time; see docs/security.md)\n"
	"\n"
	"Run 'amplink COMMAND --help' for a command's options.\n";

int main(int argc, char **argv)
{
	while (argc >= 2 && !strcmp(argv[1], "--allow-other-owner")) {
		cli_soc_open_flags |= AMPL_SOC_ALLOW_OTHER_OWNER;
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if (argc < 2) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf("amplink %s\n", AMPL_CLI_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "soc"))
		return cmd_soc(argc - 1, argv + 1);
	if (!strcmp(cmd, "send"))
		return cmd_send(argc - 1, argv + 1);
	if (!strcmp(cmd, "recv"))
		return cmd_recv(argc - 1, argv + 1);
	if (!strcmp(cmd, "console"))
		return cmd_console(argc - 1, argv + 1);
	if (!strcmp(cmd, "dt"))
		return cmd_dt(argc - 1, argv + 1);
	if (!strcmp(cmd, "agent"))
		return cmd_agent(argc - 1, argv + 1);
	if (!strcmp(cmd, "ipc"))
		return cmd_ipc(argc - 1, argv + 1);
	if (!strcmp(cmd, "mount"))
		return cmd_mount(argc - 1, argv + 1);
	if (!strcmp(cmd, "bench"))
		return cmd_bench(argc - 1, argv + 1);
	if (!strcmp(cmd, "demo"))
		return cmd_demo(argc - 1, argv + 1);
	if (!strcmp(cmd, "trace"))
		return cmd_trace(argc - 1, argv + 1);
	if (!strcmp(cmd, "stat"))
		return cmd_stat(argc - 1, argv + 1);
	static const char *const commands[] = { "demo", "soc",   "agent", "send",    "recv", "console",
						"dt",   "mount", "ipc",   "bench",   "trace", "stat", "version", "help", NULL };
	const char *near = cli_did_you_mean(cmd, commands);
	if (near)
		fprintf(stderr, "amplink: unknown command '%s'; did you mean '%s'?\n\n%s", cmd, near, usage);
	else
		fprintf(stderr, "amplink: unknown command '%s'\n\n%s", cmd, usage);
	return EXIT_USAGE;
}
