/*
 * amplink ipc list|send|recv|echo: IPC service endpoints (ICMsg, multi-endpoint, RPMsg) of an agent from the shell,
 * over the same endpoint code as the files of `amplink mount` (ipc_ep.h).
 */
#include "cli.h"
#include "ipc_ep.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int cmd_ipc(int argc, char **argv);

static const char ipc_usage[] =
	"usage: amplink ipc list [--soc NAME] [--as AGENT]\n"
	"       amplink ipc send [--soc NAME] --as AGENT --instance INST --endpoint EPT [--timeout MS] [--replies N]\n"
	"                        [--linger MS] MESSAGE...\n"
	"       amplink ipc recv [--soc NAME] --as AGENT --instance INST --endpoint EPT [--count N] [--timeout MS]\n"
	"       amplink ipc echo [--soc NAME] --as AGENT --instance INST --endpoint EPT [--endpoint EPT2 ...]\n"
	"                        [--count N]\n"
	"       send, recv and echo (one endpoint) also take [--src ADDR] [--dst ADDR] on an RPMsg instance\n"
	"\n"
	"The IPC service instances of an agent are the devicetree's zephyr,ipc-icmsg, amplink,ipc-multi and\n"
	"zephyr,ipc-openamp-static-vrings nodes whose mailbox is the agent's; INST is the node's name or label.\n"
	"An endpoint binds to the peer's endpoint of the same name. One message per argument, per line printed.\n"
	"On an RPMsg instance --src ADDR fixes the endpoint's address and --dst ADDR binds it at once to the peer's\n"
	"endpoint at ADDR, whatever its name (as /dev/rpmsg_ctrlN creates one; -1 or 'any': not fixed).\n"
	"  list  the instances (of --as, or of every agent): agent, instance, backend, peer, label\n"
	"  send  register EPT, wait up to --timeout MS (default 5000) for the peer's endpoint, send each MESSAGE as\n"
	"        one message; --replies N then prints the next N messages received (each within --timeout);\n"
	"        --linger MS keeps the endpoint MS longer (default 200; SIGINT/SIGTERM end it early, status 0): a\n"
	"        backend may discard what the peer has not read yet when the sender closes (multi-endpoint)\n"
	"  recv  print the next --count N messages (default 1; 0 = until interrupted), each within --timeout MS\n"
	"        (default: without limit), one per line\n"
	"  echo  send every message received on each EPT back on it, until SIGINT/SIGTERM or --count N messages\n"
	"        (a message whose sender left before its echo is reported and skipped)\n"
	"Errors: 'Message too long' (EMSGSIZE: larger than the endpoint's maximum, nothing sent), 'Transport\n"
	"endpoint is not connected' (ENOTCONN: the peer's endpoint did not bind in time).\n"
	"The SoC defaults to $AMPLINK_SOC or 'amplink'.\n";

#define MAX_ECHO_EPTS IPCEP_MAX_EP
#define MSG_MAX 65536u

static volatile sig_atomic_t ipc_stop;

static void on_stop(int sig)
{
	(void)sig;
	ipc_stop = 1;
}

static int list_agent(struct ampl_soc *soc, const struct ampl_soc_agent *a, bool *any)
{
	struct ipcep_set *set;
	if (ipcep_set_open(soc, a, NULL, NULL, &set))
		return cli_fail(EXIT_FAIL, "ipc", "out of memory");
	for (unsigned i = 0; i < ipcep_num_inst(set); i++) {
		struct ipcep_inst *in = ipcep_inst_at(set, i);
		printf("%-6s %-20s %-6s %-6s %s\n", a->name, ipcep_inst_name(in), ipcep_inst_backend(in),
		       ipcep_inst_peer(in), ipcep_inst_label(in));
		*any = true;
	}
	ipcep_set_close(set);
	return 0;
}

static int ipc_list(const char *soc_name, const char *as)
{
	struct ampl_soc *soc;
	int code = cli_open_soc("ipc", soc_name, &soc);
	if (code)
		return code;
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	const struct ampl_soc_agent *only = as ? ampl_soc_agent_by_name(p, as) : NULL;
	if (as && !only) {
		ampl_soc_close(soc);
		return cli_fail(EXIT_USAGE, "ipc", "unknown agent '%s' on a %s SoC", as, p->name);
	}
	bool any = false;
	printf("%-6s %-20s %-6s %-6s %s\n", "AGENT", "INSTANCE", "KIND", "PEER", "LABEL");
	for (unsigned i = 0; !code && i < p->num_agents; i++)
		if (!only || only == &p->agents[i])
			code = list_agent(soc, &p->agents[i], &any);
	ampl_soc_close(soc);
	if (!code && !any)
		fprintf(stderr, "amplink ipc: no IPC instance in SoC %s's devicetree%s%s\n", soc_name,
			as ? " for " : "", as ? as : "");
	return code;
}

/* An attached agent with endpoints: what send, recv and echo share. */
struct session {
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	struct ipcep_set *set;
	struct ipcep_inst *in;
	unsigned n;
	struct ipcep *ep[MAX_ECHO_EPTS];
};

static void session_end(struct session *s)
{
	for (unsigned i = 0; i < s->n; i++)
		ipcep_release(s->ep[i]);
	ipcep_set_close(s->set);
	if (s->ag)
		ampl_agent_detach(s->ag);
	if (s->soc)
		ampl_soc_close(s->soc);
}

static int session_start(struct session *s, const char *soc_name, const char *as, const char *inst,
			 const char *const *epts, unsigned n, uint32_t src, uint32_t dst)
{
	memset(s, 0, sizeof(*s));
	int code = cli_open_soc("ipc", soc_name, &s->soc);
	if (code)
		return code;
	struct ampl_agent_opts ao = { .mode = AMPL_WAIT_ADAPTIVE, .no_dt_devices = true };
	if (ampl_agent_attach(s->soc, as, &ao, &s->ag)) {
		code = cli_fail(EXIT_FAIL, "ipc", "%s", ampl_soc_last_error());
		session_end(s);
		return code;
	}
	int r = ipcep_set_open(s->soc, ampl_agent_info(s->ag), s->ag, NULL, &s->set);
	if (r) {
		session_end(s);
		return cli_fail(EXIT_FAIL, "ipc", "%s", strerror(-r));
	}
	s->in = ipcep_inst_find(s->set, inst);
	if (!s->in) {
		session_end(s);
		return cli_fail(EXIT_USAGE, "ipc", "agent %s has no IPC instance '%s' (see amplink ipc list)", as, inst);
	}
	for (unsigned i = 0; i < n; i++) {
		r = ipcep_create(s->in, epts[i], src, dst, &s->ep[i]);
		if (!r && (r = ipcep_open(s->ep[i])) != 0)
			ipcep_destroy(s->in, epts[i]);
		if (r) {
			const char *why = ampl_soc_last_error();
			code = cli_fail(EXIT_FAIL, "ipc", "%s: endpoint %s: %s%s%s", ipcep_inst_name(s->in), epts[i],
					strerror(-r), *why ? ": " : "", why);
			session_end(s);
			return code;
		}
		s->n++;
	}
	return 0;
}

/* Receive one message on @ep within @timeout_ms (< 0: without limit), in slices that notice a stop signal. */
static ssize_t recv_one(struct ipcep *ep, void *buf, size_t len, int timeout_ms)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		ssize_t r = ipcep_read(ep, buf, len, 100);
		if (r != -ETIMEDOUT)
			return r;
		if (ipc_stop)
			return -EINTR;
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long ms = (now.tv_sec - t0.tv_sec) * 1000L + (now.tv_nsec - t0.tv_nsec) / 1000000L;
		if (timeout_ms >= 0 && ms >= timeout_ms)
			return -ETIMEDOUT;
	}
}

static void print_msg(const unsigned char *b, size_t n)
{
	fwrite(b, 1, n, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

static int ipc_send(struct session *s, char **msgs, int nmsg, int timeout_ms, uint64_t replies, uint64_t linger)
{
	static unsigned char buf[MSG_MAX];
	struct ipcep *ep = s->ep[0];
	if (ipcep_wait_bound(ep, timeout_ms))
		return cli_fail(EXIT_FAIL, "ipc", "%s: endpoint %s: the peer's endpoint did not bind within %d ms",
				ipcep_inst_name(s->in), ipcep_name(ep), timeout_ms);
	for (int i = 0; i < nmsg; i++) {
		ssize_t r = ipcep_write(ep, msgs[i], strlen(msgs[i]), timeout_ms);
		if (r < 0)
			return cli_fail(EXIT_FAIL, "ipc", "%s: endpoint %s: message %d (%zu bytes): %s",
					ipcep_inst_name(s->in), ipcep_name(ep), i + 1, strlen(msgs[i]),
					strerror((int)-r));
	}
	for (uint64_t i = 0; i < replies; i++) {
		ssize_t r = recv_one(ep, buf, sizeof(buf), timeout_ms);
		if (r < 0)
			return cli_fail(EXIT_FAIL, "ipc", "%s: endpoint %s: reply %llu: %s", ipcep_inst_name(s->in),
					ipcep_name(ep), (unsigned long long)i + 1,
					r == -ETIMEDOUT ? "none within the timeout" : strerror((int)-r));
		print_msg(buf, (size_t)r);
	}
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		uint64_t ms = (uint64_t)((now.tv_sec - t0.tv_sec) * 1000L + (now.tv_nsec - t0.tv_nsec) / 1000000L);
		if (ipc_stop || ms >= linger)
			break;
		struct timespec nap = { 0, 10000000L };
		nanosleep(&nap, NULL);
	}
	return 0;
}

static int ipc_recv(struct session *s, uint64_t count, int timeout_ms)
{
	static unsigned char buf[MSG_MAX];
	for (uint64_t i = 0; count == 0 || i < count; i++) {
		ssize_t r = recv_one(s->ep[0], buf, sizeof(buf), timeout_ms);
		if (r == -EINTR && count == 0)
			return 0;
		if (r < 0)
			return cli_fail(EXIT_FAIL, "ipc", "%s: endpoint %s: message %llu: %s", ipcep_inst_name(s->in),
					ipcep_name(s->ep[0]), (unsigned long long)i + 1,
					r == -ETIMEDOUT ? "none within the timeout" : strerror((int)-r));
		print_msg(buf, (size_t)r);
	}
	return 0;
}

static int ipc_echo(struct session *s, uint64_t count)
{
	static unsigned char buf[MSG_MAX];
	uint64_t done = 0;
	fprintf(stderr, "amplink ipc echo: %s of %s: echoing", ipcep_inst_name(s->in), ipcep_inst_peer(s->in));
	for (unsigned i = 0; i < s->n; i++)
		fprintf(stderr, " %s", ipcep_name(s->ep[i]));
	fputc('\n', stderr);
	while (!ipc_stop && (count == 0 || done < count)) {
		bool any = false;
		for (unsigned i = 0; i < s->n && (count == 0 || done < count); i++) {
			ssize_t r = ipcep_read(s->ep[i], buf, sizeof(buf), s->n == 1 ? 100 : 0);
			if (r == -EAGAIN || r == -ETIMEDOUT)
				continue;
			if (r < 0)
				return cli_fail(EXIT_FAIL, "ipc", "echo: endpoint %s: %s", ipcep_name(s->ep[i]),
						strerror((int)-r));
			any = true;
			ssize_t w = ipcep_write(s->ep[i], buf, (size_t)r, 5000);
			if (w == -ENOTCONN) { /* the peer left before its echo: say so, serve the next one */
				fprintf(stderr, "amplink ipc echo: endpoint %s: the peer left: %zd bytes not echoed\n",
					ipcep_name(s->ep[i]), r);
				continue;
			}
			if (w < 0)
				return cli_fail(EXIT_FAIL, "ipc", "echo: endpoint %s: sending back %zd bytes: %s",
						ipcep_name(s->ep[i]), r, strerror((int)-w));
			done++;
		}
		if (!any && s->n > 1) {
			struct timespec nap = { 0, 200000L };
			nanosleep(&nap, NULL);
		}
	}
	return 0;
}

int cmd_ipc(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "soc", required_argument, NULL, 's' },      { "as", required_argument, NULL, 'a' },
		{ "instance", required_argument, NULL, 'i' }, { "endpoint", required_argument, NULL, 'e' },
		{ "timeout", required_argument, NULL, 'T' },  { "count", required_argument, NULL, 'n' },
		{ "replies", required_argument, NULL, 'r' },  { "linger", required_argument, NULL, 'l' },
		{ "src", required_argument, NULL, 'S' },      { "dst", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(ipc_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	const char *verb = argv[1];
	if (strcmp(verb, "list") && strcmp(verb, "send") && strcmp(verb, "recv") && strcmp(verb, "echo"))
		return cli_fail(EXIT_USAGE, "ipc", "unknown sub-command '%s' (list, send, recv or echo)", verb);
	const char *soc_name = cli_default_soc(), *as = NULL, *inst = NULL;
	const char *epts[MAX_ECHO_EPTS];
	unsigned nept = 0;
	uint64_t timeout = 0, count = 1, replies = 0, linger = 200;
	bool timeout_set = false, count_set = false;
	uint32_t src = IPCEP_ADDR_ANY, dst = IPCEP_ADDR_ANY;
	int c;
	optind = 1;
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "s:a:i:e:T:n:r:l:S:D:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': soc_name = optarg; break;
		case 'a': as = optarg; break;
		case 'i': inst = optarg; break;
		case 'e':
			if (nept == MAX_ECHO_EPTS)
				return cli_fail(EXIT_USAGE, "ipc", "at most %u endpoints", MAX_ECHO_EPTS);
			epts[nept++] = optarg;
			break;
		case 'T':
			if (!cli_parse_u64(optarg, 1, 3600000, &timeout))
				return cli_fail(EXIT_USAGE, "ipc", "--timeout: '%s' is not 1..3600000 ms", optarg);
			timeout_set = true;
			break;
		case 'n':
			if (!cli_parse_u64(optarg, 0, UINT32_MAX, &count))
				return cli_fail(EXIT_USAGE, "ipc", "--count: '%s' is not a number", optarg);
			count_set = true;
			break;
		case 'r':
			if (!cli_parse_u64(optarg, 0, UINT32_MAX, &replies))
				return cli_fail(EXIT_USAGE, "ipc", "--replies: '%s' is not a number", optarg);
			break;
		case 'l':
			if (!cli_parse_u64(optarg, 0, 3600000, &linger))
				return cli_fail(EXIT_USAGE, "ipc", "--linger: '%s' is not 0..3600000 ms", optarg);
			break;
		case 'S':
		case 'D':
			if (ipcep_parse_addr(optarg, c == 'S' ? &src : &dst))
				return cli_fail(EXIT_USAGE, "ipc", "--%s: '%s' is not an RPMsg address (0..0xfffffffe, or -1 / any)",
						c == 'S' ? "src" : "dst", optarg);
			break;
		case 'h': fputs(ipc_usage, stdout); return 0;
		default: fputs(ipc_usage, stderr); return EXIT_USAGE;
		}
	}
	if (!strcmp(verb, "list")) {
		if (optind != argc)
			return cli_fail(EXIT_USAGE, "ipc", "list: unexpected argument '%s'", argv[optind]);
		return ipc_list(soc_name, as);
	}
	if (!as || !inst || !nept)
		return cli_fail(EXIT_USAGE, "ipc", "%s: --as, --instance and --endpoint are required (see --help)", verb);
	if (nept > 1 && strcmp(verb, "echo"))
		return cli_fail(EXIT_USAGE, "ipc", "%s: one --endpoint", verb);
	if (nept > 1 && (src != IPCEP_ADDR_ANY || dst != IPCEP_ADDR_ANY))
		return cli_fail(EXIT_USAGE, "ipc", "%s: --src and --dst take one --endpoint", verb);
	bool is_send = !strcmp(verb, "send");
	if (is_send && optind == argc)
		return cli_fail(EXIT_USAGE, "ipc", "send: no MESSAGE");
	if (!is_send && optind != argc)
		return cli_fail(EXIT_USAGE, "ipc", "%s: unexpected argument '%s'", verb, argv[optind]);
	if (!strcmp(verb, "echo") && !count_set)
		count = 0; /* echo: until stopped unless --count says otherwise */
	cli_on_stop_signals(on_stop);
	struct session s;
	int code = session_start(&s, soc_name, as, inst, epts, nept, src, dst);
	if (code)
		return code;
	if (is_send)
		code = ipc_send(&s, argv + optind, argc - optind, timeout_set ? (int)timeout : 5000, replies,
				linger);
	else if (!strcmp(verb, "recv"))
		code = ipc_recv(&s, count, timeout_set ? (int)timeout : -1);
	else
		code = ipc_echo(&s, count);
	session_end(&s);
	return code;
}
