/* amplink dt check [-I DIR]... FILE */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <amplink/dt.h>

static const char usage[] =
	"usage: amplink dt check [--profile zynqmp|versal|imx] [--strict] [-I DIR]... FILE\n"
	"\n"
	"Load FILE (a .dts through the C preprocessor and dtc, or a .dtb) and print the agents, channels, buffers and\n"
	"memory regions amplink understood. Malformed or inconsistent input is named by file, node and property, with\n"
	"exit status 1.\n"
	"\n"
	"--profile P      check against SoC profile P: zynqmp, versal or imx (default: the one the IPI nodes name)\n"
	"--strict         also fail on warnings (e.g. Versal addresses that differ from the silicon's)\n"
	"-I, --include DIR  a folder for #include <...> and /include/ (repeatable); searched after FILE's folder and\n"
	"                 before the built-in dt-bindings headers (interrupt-controller/arm-gic.h and irq.h)\n";

int cmd_dt(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (strcmp(argv[1], "check"))
		return cli_fail(EXIT_USAGE, "dt", "unknown sub-command '%s' (check)", argv[1]);
	static const struct option opts[] = { { "profile", required_argument, NULL, 'p' },
					      { "strict", no_argument, NULL, 's' },
					      { "include", required_argument, NULL, 'I' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	const struct ampl_soc_profile *profile = NULL;
	const char *dirs[AMPL_DT_MAX_INCLUDE_DIRS];
	struct ampl_dt_load_opts load = { .include_dirs = dirs, .num_include_dirs = 0 };
	bool strict = false;
	int c;
	optind = 1;
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "+p:sI:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!(profile = ampl_soc_profile_find(optarg)))
				return cli_fail(EXIT_USAGE, "dt check", "unknown profile '%s' (zynqmp, versal or imx)",
						optarg);
			break;
		case 's':
			strict = true;
			break;
		case 'I':
			if (load.num_include_dirs == AMPL_DT_MAX_INCLUDE_DIRS)
				return cli_fail(EXIT_USAGE, "dt check", "more than %d -I folders",
						AMPL_DT_MAX_INCLUDE_DIRS);
			dirs[load.num_include_dirs++] = optarg;
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
		return cli_fail(EXIT_USAGE, "dt check", "expected one FILE (see --help)");
	struct ampl_dt_board *board = calloc(1, sizeof(*board));
	struct ampl_dt_diag *diag = calloc(1, sizeof(*diag));
	if (!board || !diag) {
		free(board);
		free(diag);
		return cli_fail(EXIT_FAIL, "dt check", "out of memory");
	}
	int code = 0;
	int ret = ampl_dt_load_file_opts(argv[optind], &load, profile, board, diag);
	if (ret) {
		fprintf(stderr, "amplink dt check: %s\n", diag->msg);
		code = EXIT_FAIL;
	} else {
		ampl_dt_print(board, stdout);
		if (strict && board->num_warnings) {
			fprintf(stderr, "amplink dt check: %u warning(s) and --strict\n", board->num_warnings);
			code = EXIT_FAIL;
		}
	}
	free(board);
	free(diag);
	return code;
}
