/* amplink soc create|destroy|list|show|buffers|faults */
#include "cli.h"
#include "sim/ctrl.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <amplink/host/dt.h>

static const char usage[] =
	"usage: amplink soc create [--profile zynqmp|versal|imx] [--dts FILE [-I DIR]...] [--backing FILE@BASE] NAME\n"
	"       amplink soc destroy NAME\n"
	"       amplink soc list\n"
	"       amplink soc show NAME\n"
	"       amplink soc buffers [--all] [--reserve N | --release N] NAME\n"
	"       amplink soc faults NAME\n"
	"\n"
	"create   make a virtual SoC: register models, message buffers and the board's reserved memory in a\n"
	"         shared-memory image /dev/shm/amplink.NAME. Without --dts a ZynqMP gets the built-in board\n"
	"         (" AMPL_DEFAULT_BOARD_NAME "); the profile defaults to the one the devicetree's IPI nodes name.\n"
	"         imx: a Cortex-A (agent a, MU side A) and a Cortex-M4 (m4, side B) with the devicetree's\n"
	"         nxp,imx-mu Messaging Units (without --dts: one, ipm0 at 0x40028000); a devicetree with MUs\n"
	"         and no IPI node selects it. A .dts goes through the C preprocessor; -I DIR (repeatable) adds a\n"
	"         folder for its #include <...>, as in amplink dt check.\n"
	"         The image's pages are allocated at creation: a full /dev/shm fails here, with the size needed.\n"
	"         --backing FILE@BASE: physical memory [BASE, BASE + size of FILE) is the file FILE (an absolute\n"
	"         path; an emulator's RAM, e.g. QEMU's memory-backend-file), mapped by every process that opens\n"
	"         the SoC instead of the image. Each reserved-memory region it touches must lie wholly inside it;\n"
	"         the file is checked as the image is (regular, this user's, no symbolic link), its size a\n"
	"         multiple of 4096.\n"
	"destroy  remove it (attached processes keep their mapping until they exit)\n"
	"list     the SoCs on this machine (another user's are listed unreadable unless amplink\n"
	"         --allow-other-owner)\n"
	"show     every agent's IPI registers and the requests pending between agents; each Messaging Unit's\n"
	"         SR, CR and TR0-3 per side (RRn is the other side's TRn while its RF flag is set). PID is the\n"
	"         attached process (0: none); 'PID (dead)': it died without detaching and no attached process\n"
	"         has taken its agent offline yet\n"

	"buffers  the IPI block's request/response buffer pairs (owner -> peer, addresses): which process's\n"
	"         channel uses each (owner side and peer side) and which are reserved; only pairs in use or\n"
	"         reserved unless --all. --reserve N: no channel may use pair N until --release N (refused\n"
	"         while a live process's channel uses it).\n"
	"faults   the access faults of each agent's processes: an access, through the register model, to an\n"
	"         IPI register block the agent may not use (poisoned: the write dropped, a read 0); the last\n"
	"         one's access, physical address and aperture. A plain store there kills the process instead\n"
	"         (SIGSEGV). Exit status 1 when there is any.\n";

static int soc_create(int argc, char **argv)
{
	static const struct option opts[] = { { "profile", required_argument, NULL, 'p' },
					      { "dts", required_argument, NULL, 'd' },
					      { "include", required_argument, NULL, 'I' },
					      { "backing", required_argument, NULL, 'b' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	const char *profile_name = NULL, *dts = NULL;
	char backing[512] = "";
	struct ampl_soc_create_opts copts = { .flags = cli_soc_open_flags };
	const char *dirs[AMPL_DT_MAX_INCLUDE_DIRS];
	struct ampl_dt_load_opts load = { .include_dirs = dirs, .num_include_dirs = 0 };
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+p:d:I:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b': {
			const char *at = strrchr(optarg, '@');
			char *end;
			if (!at || at == optarg || !at[1] || (size_t)(at - optarg) >= sizeof(backing))
				return cli_fail(EXIT_USAGE, "soc create", "--backing wants FILE@BASE, got '%s'", optarg);
			errno = 0;
			copts.backing_base = strtoull(at + 1, &end, 0);
			if (errno || *end || at[1] == '-')
				return cli_fail(EXIT_USAGE, "soc create", "--backing: '%s' is not an address", at + 1);
			snprintf(backing, sizeof(backing), "%.*s", (int)(at - optarg), optarg);
			copts.backing_path = backing;
			break;
		}
		case 'p':
			profile_name = optarg;
			break;
		case 'd':
			dts = optarg;
			break;
		case 'I':
			if (load.num_include_dirs == AMPL_DT_MAX_INCLUDE_DIRS)
				return cli_fail(EXIT_USAGE, "soc create", "more than %d -I folders",
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
		return cli_fail(EXIT_USAGE, "soc create", "expected one NAME (see --help)");
	if (load.num_include_dirs && !dts)
		return cli_fail(EXIT_USAGE, "soc create", "-I is for the --dts file's #include");
	const char *name = argv[optind];
	const struct ampl_soc_profile *profile = NULL;
	if (profile_name && !(profile = ampl_soc_profile_find(profile_name)))
		return cli_fail(EXIT_USAGE, "soc create", "unknown profile '%s' (zynqmp, versal or imx)", profile_name);

	void *dtb = NULL;
	size_t dtb_size = 0;
	if (dts) {
		struct ampl_dt_diag diag;
		struct ampl_dt_board *board = calloc(1, sizeof(*board));
		if (!board)
			return cli_fail(EXIT_FAIL, "soc create", "out of memory");
		int ret = ampl_dt_read_file_opts(dts, &load, &dtb, &dtb_size, &diag);
		if (!ret)
			ret = ampl_dt_load_blob(dtb, dtb_size, dts, profile, board, &diag);
		if (!ret && !profile)
			profile = board->profile ? board->profile : sim_ctrl_board_profile(dtb, dtb_size);
		free(board);
		if (ret) {
			free(dtb);
			return cli_fail(EXIT_FAIL, "soc create", "%s", diag.msg);
		}
	}
	if (!profile)
		profile = &ampl_soc_zynqmp;
	int ret = ampl_soc_create_opts(name, profile, dtb, dtb_size, &copts);
	free(dtb);
	if (ret)
		return cli_fail(EXIT_FAIL, "soc create", "%s", ampl_soc_last_error());
	printf("created SoC %s (%s, %s)\n", name, profile->name, dts ? dts : (profile == &ampl_soc_zynqmp ?
			"built-in board " AMPL_DEFAULT_BOARD_NAME : profile == &ampl_soc_imx ?
			"one Messaging Unit, ipm0 at 0x40028000" : "no board devicetree"));
	if (copts.backing_path)
		printf("  memory from 0x%llx backed by %s\n", (unsigned long long)copts.backing_base, backing);
	return 0;
}

static int soc_destroy(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc != 2)
		return cli_fail(EXIT_USAGE, "soc destroy", "expected one NAME (see --help)");
	if (ampl_soc_destroy(argv[1]))
		return cli_fail(EXIT_FAIL, "soc destroy", "%s", ampl_soc_last_error());
	printf("destroyed SoC %s\n", argv[1]);
	return 0;
}

static void list_one(const char *name, void *arg)
{
	(void)arg;
	struct ampl_soc *soc;
	if (ampl_soc_open_flags(name, cli_soc_open_flags, &soc)) {
		printf("%-24s (unreadable: %s)\n", name, ampl_soc_last_error());
		return;
	}
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	char attached[256] = "";
	for (unsigned i = 0; i < p->num_agents; i++) {
		int pid = ampl_soc_agent_pid(soc, &p->agents[i]);
		if (pid > 0 && ampl_soc_agent_alive(soc, &p->agents[i])) {
			size_t n = strlen(attached);
			snprintf(attached + n, sizeof(attached) - n, "%s%s(pid %d)", n ? " " : "", p->agents[i].name, pid);
		}
	}
	printf("%-24s %-7s %s\n", name, p->name, attached[0] ? attached : "-");
	ampl_soc_close(soc);
}

static int soc_list(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc != 1)
		return cli_fail(EXIT_USAGE, "soc list", "takes no arguments");
	printf("%-24s %-7s %s\n", "NAME", "PROFILE", "ATTACHED");
	int n = ampl_soc_list(list_one, NULL);
	if (n < 0)
		return cli_fail(EXIT_FAIL, "soc list", "cannot read /dev/shm");
	return 0;
}

/* The PID column: the attached process, "0" for none, "PID (dead)" for one that died without detaching (the next
 * process to attach, or an attached one's crash detection, takes the agent offline and clears it). */
static const char *pid_text(struct ampl_soc *soc, const struct ampl_soc_agent *a, char *buf, size_t n)
{
	int pid = ampl_soc_agent_pid(soc, a);
	snprintf(buf, n, pid > 0 && !ampl_soc_agent_alive(soc, a) ? "%d (dead)" : "%d", pid);
	return buf;
}

static int soc_show(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc != 2)
		return cli_fail(EXIT_USAGE, "soc show", "expected one NAME (see --help)");
	struct ampl_soc *soc;
	int r = cli_open_soc("soc show", argv[1], &soc);
	if (r)
		return r;
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	printf("SoC %s (%s)\n", ampl_soc_name(soc), p->name);
	struct ampl_soc_backing bk;
	if (!ampl_soc_backing(soc, &bk))
		printf("memory [0x%llx, 0x%llx) backed by %s\n", (unsigned long long)bk.base,
		       (unsigned long long)(bk.base + bk.size), bk.path);
	if (!p->valid_mask) { /* no IPI block: the processors, then their Messaging Units */
		printf("%-10s %s\n", "AGENT", "PID");
		for (unsigned i = 0; i < p->num_agents; i++) {
			char pb[32];
			printf("%-10s %s\n", p->agents[i].name, pid_text(soc, &p->agents[i], pb, sizeof(pb)));
		}
		sim_ctrl_show(soc, stdout);
		ampl_soc_close(soc);
		return 0;
	}
	printf("%-10s %3s %3s %10s  %-10s %-10s %-10s %-10s %s\n", "AGENT", "ID", "BIT", "REGS", "TRIG", "OBS", "ISR",
	       "IMR", "PID");
	uint32_t isr[32] = { 0 };
	for (unsigned i = 0; i < p->num_agents; i++) {
		const struct ampl_soc_agent *a = &p->agents[i];
		struct ampl_io_region regs;
		ampl_soc_agent_regs(soc, a, &regs);
		isr[i] = ampl_io_read32(&regs, AMPL_IPI_ISR);
		char pb[32];
		printf("%-10s %3u %3u 0x%08x  0x%08x 0x%08x 0x%08x 0x%08x %s\n", a->name, a->id, a->ipi->bit, a->ipi->reg_base,
		       ampl_io_read32(&regs, AMPL_IPI_TRIG), ampl_io_read32(&regs, AMPL_IPI_OBS), isr[i],
		       ampl_io_read32(&regs, AMPL_IPI_IMR), pid_text(soc, a, pb, sizeof(pb)));
	}
	unsigned pending = 0;
	for (unsigned d = 0; d < p->num_agents; d++) {
		for (unsigned s = 0; s < p->num_agents; s++) {
			if (isr[d] & ampl_ipi_mask(&p->agents[s])) {
				if (!pending++)
					printf("pending requests:\n");
				printf("  %s -> %s\n", p->agents[s].name, p->agents[d].name);
			}
		}
	}
	if (!pending)
		printf("no pending requests\n");
	sim_ctrl_show(soc, stdout);
	ampl_soc_close(soc);
	return 0;
}

static int soc_faults(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc != 2)
		return cli_fail(EXIT_USAGE, "soc faults", "expected one NAME (see --help)");
	struct ampl_soc *soc;
	int r = cli_open_soc("soc faults", argv[1], &soc);
	if (r)
		return r;
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	unsigned total = 0;
	printf("%-10s %8s  %s\n", "AGENT", "FAULTS", "LAST");
	for (unsigned i = 0; i < p->num_agents; i++) {
		struct ampl_soc_fault f;
		ampl_soc_agent_faults(soc, &p->agents[i], &f);
		total += f.count;
		if (f.count)
			printf("%-10s %8u  %s of 0x%08llx (aperture %s)\n", p->agents[i].name, f.count,
			       f.access, (unsigned long long)f.addr, f.aperture);
		else
			printf("%-10s %8u  -\n", p->agents[i].name, 0u);
	}
	ampl_soc_close(soc);
	return total ? EXIT_FAIL : 0;
}

static int soc_buffers(int argc, char **argv)
{
	static const struct option opts[] = { { "all", no_argument, NULL, 'a' },
					      { "reserve", required_argument, NULL, 'r' },
					      { "release", required_argument, NULL, 'R' },
					      { "help", no_argument, NULL, 'h' },
					      { NULL, 0, NULL, 0 } };
	bool all = false;
	int op = 0;
	long idx = -1;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+ar:R:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'r':
		case 'R': {
			char *end;
			errno = 0;
			idx = strtol(optarg, &end, 0);
			if (errno || *end || idx < 0 || op)
				return cli_fail(EXIT_USAGE, "soc buffers", "--reserve/--release want one buffer number, "
						"got '%s'", optarg);
			op = c;
			break;
		}
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return cli_fail(EXIT_USAGE, "soc buffers", "expected one NAME (see --help)");
	struct ampl_soc *soc;
	int r = cli_open_soc("soc buffers", argv[optind], &soc);
	if (r)
		return r;
	if (op) {
		int ret = op == 'r' ? ampl_soc_buf_reserve(soc, (unsigned)idx) : ampl_soc_buf_release(soc, (unsigned)idx);
		ampl_soc_close(soc);
		if (ret)
			return cli_fail(EXIT_FAIL, "soc buffers", "%s", ampl_soc_last_error());
		printf("buffer %ld %s\n", idx, op == 'r' ? "reserved" : "released");
		return 0;
	}
	unsigned n = ampl_soc_num_bufs(soc);
	printf("SoC %s: %u IPI buffer pairs\n", ampl_soc_name(soc), n);
	if (n)
		printf("%-3s %-10s %-10s %-10s %-10s %-8s %s\n", "N", "OWNER", "PEER", "REQUEST", "RESPONSE", "STATE",
		       "USED BY (owner side; peer side)");
	for (unsigned i = 0; i < n; i++) {
		struct ampl_soc_buf b;
		if (ampl_soc_buf_info(soc, i, &b))
			continue;
		bool used = b.pid[0] || b.pid[1];
		if (!all && !used && !b.reserved)
			continue;
		char who[2][96];
		for (unsigned s = 0; s < 2; s++) {
			if (b.pid[s])
				snprintf(who[s], sizeof(who[s]), "%d %s", b.pid[s], b.chan[s]);
			else
				snprintf(who[s], sizeof(who[s]), "-");
		}
		printf("%-3u %-10s %-10s 0x%08llx 0x%08llx %-8s %s; %s\n", i, b.owner ? b.owner->name : "?",
		       b.peer ? b.peer->name : "?", (unsigned long long)b.request, (unsigned long long)b.response,
		       b.reserved ? "reserved" : used ? "in use" : "free", who[0], who[1]);
	}
	ampl_soc_close(soc);
	return 0;
}

int cmd_soc(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "create"))
		return soc_create(argc - 1, argv + 1);
	if (!strcmp(sub, "destroy"))
		return soc_destroy(argc - 1, argv + 1);
	if (!strcmp(sub, "list"))
		return soc_list(argc - 1, argv + 1);
	if (!strcmp(sub, "show"))
		return soc_show(argc - 1, argv + 1);
	if (!strcmp(sub, "buffers"))
		return soc_buffers(argc - 1, argv + 1);
	if (!strcmp(sub, "faults"))
		return soc_faults(argc - 1, argv + 1);
	static const char *const subs[] = { "create", "destroy", "list", "show", "buffers", "faults", NULL };
	return cli_unknown_sub("soc", sub, subs);
}
