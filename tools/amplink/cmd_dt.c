/*
 * amplink dt check [-I DIR]... FILE
 * amplink dt gen --agent NAME [-I DIR]... [--map PHYS=LOCAL[,SIZE]]... [--rx-buf-max BYTES] FILE -o OUT
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <amplink/host/dt.h>
#include <amplink/ipc/icmsg.h>

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

static const char gen_usage[] =
	"usage: amplink dt gen --agent NAME [--profile P] [-I DIR]... [--map PHYS=LOCAL[,SIZE]]...\n"
	"                      [--rx-buf-max BYTES] FILE -o OUT\n"
	"\n"
	"Generate C for the firmware of agent NAME from FILE (a .dts or .dtb, read by the same loader as `dt check`):\n"
	"OUT.h with Zephyr's access macros (DT_NODELABEL, DT_REG_ADDR, DT_REG_SIZE, DT_PROP, DT_PHANDLE, DT_IRQN,\n"
	"DEVICE_DT_GET) and the values of the agent's mailboxes, memory regions and IPC instances; OUT.c with their\n"
	"descriptions as constants and the static controllers, IPM devices, configurations and IPC devices built\n"
	"from them by the board layer (<amplink/board.h>). Compile OUT.c into the firmware; unused objects go with\n"
	"--gc-sections.\n"
	"\n"
	"--agent NAME       the agent the firmware runs on (rpu0, apu, ...)\n"
	"--map PHYS=LOCAL[,SIZE]  the agent sees the SoC's PHYS..PHYS+SIZE-1 at LOCAL (default SIZE: to the end\n"
	"                   of the address space); repeatable, the first window that holds an address wins\n"
	"--rx-buf-max BYTES cap each ICMsg receive buffer (default: the largest packet its ring holds)\n"
	"--profile, -I      as for `dt check`\n";

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -1;
	*v = x;
	return (int)(end - s);
}

/* PHYS=LOCAL[,SIZE] */
static int parse_map(const char *arg, struct ampl_dt_gen_map *m)
{
	uint64_t phys, local, size = 0;
	int n = parse_u64(arg, &phys);
	if (n <= 0 || arg[n] != '=')
		return -1;
	arg += n + 1;
	n = parse_u64(arg, &local);
	if (n <= 0)
		return -1;
	arg += n;
	if (*arg == ',') {
		n = parse_u64(arg + 1, &size);
		if (n <= 0 || arg[1 + n] || !size || size - 1 > UINT64_MAX - phys || size - 1 > UINT64_MAX - local)
			return -1;
	} else if (*arg) {
		return -1;
	} else {
		size = phys ? 0 - phys : UINT64_MAX;
	}
	*m = (struct ampl_dt_gen_map){ .phys = phys, .size = size, .local = local };
	return 0;
}

static int cmd_dt_gen(int argc, char **argv)
{
	static const struct option opts[] = { { "agent", required_argument, NULL, 'a' },
					      { "profile", required_argument, NULL, 'p' },
					      { "include", required_argument, NULL, 'I' },
					      { "map", required_argument, NULL, 'm' },
					      { "rx-buf-max", required_argument, NULL, 'r' },
					      { "output", required_argument, NULL, 'o' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	const struct ampl_soc_profile *profile = NULL;
	const char *dirs[AMPL_DT_MAX_INCLUDE_DIRS];
	struct ampl_dt_load_opts load = { .include_dirs = dirs, .num_include_dirs = 0 };
	struct ampl_dt_gen_opts gen = { 0 };
	const char *out = NULL;
	uint64_t v = 0;
	int c;
	optind = 0; /* options may follow FILE: glibc re-initialises (and permutes) */
	while ((c = getopt_long(argc, argv, "a:p:I:m:r:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			gen.agent = optarg;
			break;
		case 'p':
			if (!(profile = ampl_soc_profile_find(optarg)))
				return cli_fail(EXIT_USAGE, "dt gen", "unknown profile '%s' (zynqmp, versal or imx)",
						optarg);
			break;
		case 'I':
			if (load.num_include_dirs == AMPL_DT_MAX_INCLUDE_DIRS)
				return cli_fail(EXIT_USAGE, "dt gen", "more than %d -I folders",
						AMPL_DT_MAX_INCLUDE_DIRS);
			dirs[load.num_include_dirs++] = optarg;
			break;
		case 'm':
			if (gen.num_maps == AMPL_DT_GEN_MAX_MAPS)
				return cli_fail(EXIT_USAGE, "dt gen", "more than %d --map windows", AMPL_DT_GEN_MAX_MAPS);
			if (parse_map(optarg, &gen.maps[gen.num_maps]))
				return cli_fail(EXIT_USAGE, "dt gen",
						"--map '%s': expected PHYS=LOCAL[,SIZE] (numbers, SIZE > 0, no wrap)",
						optarg);
			gen.num_maps++;
			break;
		case 'r':
			if (parse_u64(optarg, &v) != (int)strlen(optarg) || v < ICMSG_MIN_RX_BUF || v > 65535)
				return cli_fail(EXIT_USAGE, "dt gen", "--rx-buf-max '%s': expected %u..65535 bytes", optarg,
						(unsigned)ICMSG_MIN_RX_BUF);
			gen.rx_buf_max = (uint32_t)v;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			fputs(gen_usage, stdout);
			return 0;
		default:
			fputs(gen_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || !out || !gen.agent)
		return cli_fail(EXIT_USAGE, "dt gen", "expected --agent NAME, one FILE and -o OUT (see --help)");
	size_t n = strlen(out);
	if (n > 2 && !strcmp(out + n - 2, ".h"))
		n -= 2; /* -o board_gen.h: the same as -o board_gen */
	char *hpath = malloc(n + 3), *cpath = malloc(n + 3);
	struct ampl_dt_board *board = calloc(1, sizeof(*board));
	struct ampl_dt_diag *diag = calloc(1, sizeof(*diag));
	FILE *h = NULL, *cf = NULL;
	int code = EXIT_FAIL;
	if (!hpath || !cpath || !board || !diag) {
		cli_fail(EXIT_FAIL, "dt gen", "out of memory");
		goto out;
	}
	snprintf(hpath, n + 3, "%.*s.h", (int)n, out);
	snprintf(cpath, n + 3, "%.*s.c", (int)n, out);
	const char *slash = strrchr(hpath, '/');
	gen.header_name = slash ? slash + 1 : hpath;
	if (ampl_dt_load_file_opts(argv[optind], &load, profile, board, diag)) {
		fprintf(stderr, "amplink dt gen: %s\n", diag->msg);
		goto out;
	}
	if (!(h = fopen(hpath, "w")) || !(cf = fopen(cpath, "w"))) {
		cli_fail(EXIT_FAIL, "dt gen", "cannot write %s: %s", h ? cpath : hpath, strerror(errno));
		goto out;
	}
	int ret = ampl_dt_gen(board, &gen, h, cf, diag);
	if (fclose(h) && !ret)
		ret = -EIO;
	if (fclose(cf) && !ret)
		ret = -EIO;
	h = cf = NULL;
	if (ret) {
		fprintf(stderr, "amplink dt gen: %s\n", ret == -EIO && !diag->msg[0] ? "write failed" : diag->msg);
		remove(hpath);
		remove(cpath);
		goto out;
	}
	code = 0;
out:
	if (h)
		fclose(h);
	if (cf)
		fclose(cf);
	if (code) {
		if (hpath)
			remove(hpath);
		if (cpath)
			remove(cpath);
	}
	free(hpath);
	free(cpath);
	free(board);
	free(diag);
	return code;
}

int cmd_dt(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "gen"))
		return cmd_dt_gen(argc - 1, argv + 1);
	static const char *const subs[] = { "check", "gen", NULL };
	if (strcmp(argv[1], "check"))
		return cli_unknown_sub("dt", argv[1], subs);
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
