/*
 * The APU side of the compatibility test: makes a virtual ZynqMP from a board file, starts a program built
 * against include/amplink/compat as RPU0 ($AMPLINK_SOC, $AMPLINK_AGENT), talks to it through amplink's own API and checks
 * every answer, then checks the program's exit status.
 *
 *   compat_peer ipm    BOARD PROGRAM   IPM: the program's hello, 100 values each answered plus one, 0 ends it
 *   compat_peer mbox   BOARD PROGRAM   the same, the program using Zephyr's MBOX API (this side IPM)
 *   compat_peer icmsg  BOARD PROGRAM   ICMsg (ipc_icmsg_apu): 100 requests answered with the first word plus one
 *   compat_peer rpmsg  BOARD PROGRAM   RPMsg host (ipc_rpmsg_apu): 100 messages of 1..200 bytes echoed exactly
 *   compat_peer seed-ipm BOARD PROGRAM the seed documents' IPM examples: 0x12345678 received, ours echoed
 *   compat_peer seed-ipc BOARD PROGRAM the seed documents' IPC service example: its endpoint binds
 *                                      (the seeds' programs wait for ever: they are ended with SIGTERM)
 *   compat_peer --qemu=irq|poll icmsg|rpmsg BOARD ELF
 *                                      the same programs built as Cortex-M4 firmware (firmware/CMakeLists.txt,
 *                                      ampl_compat_firmware) run as RPU0 under qemu-system-arm through the
 *                                      virtual SoC's bridge (src/sim/emu_bridge.c), the doorbell interrupt-driven or
 *                                      polled; the SoC is backed by the firmware's window, and the image's exit
 *                                      code is the program's verdict. Exit 77 (skipped, saying why) when the image
 *                                      was not built (ELF empty: no arm-none-eabi-gcc) or QEMU is not found.
 * Every wait is bounded (30 s) and a failed one says what it waited for. Exit status 0: all checked.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <amplink/host/dt.h>
#include <amplink/errno.h>
#include <amplink/ipc_service.h>
#include <amplink/ipm.h>
#include <amplink/host/soc.h>

#include "sim/emu_bridge.h"

#define WAIT_US 30000000ull
#define ROUNDS 100u

static char soc_name[64];
static pid_t child = -1;
/* --qemu: the program is firmware under QEMU, RPU0 through the bridge. */
static struct ampl_emu_qemu qemu;
static struct ampl_emu_bridge bridge;
static bool qemu_up, bridge_up;

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "compat_peer: FAIL: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	if (bridge_up)
		ampl_emu_bridge_stop(&bridge);
	if (qemu_up)
		ampl_emu_qemu_kill(&qemu);
	ampl_soc_destroy(soc_name);
	exit(1);
}

/* Wait until *@counter exceeds @seen (bounded; fails at once when the program ends meanwhile). */
static void wait_count(_Atomic unsigned *counter, unsigned seen, const char *what)
{
	uint64_t start = now_us();
	int status;
	while (atomic_load(counter) <= seen) {
		if (now_us() - start > WAIT_US)
			fail("no %s within 30 s", what);
		if (child > 0 && waitpid(child, &status, WNOHANG) == child) {
			child = -1;
			fail("the program ended (status 0x%x) before %s", (unsigned)status, what);
		}
		if (qemu_up && atomic_load(&qemu.boot->fw_state) == AMPL_EMU_FW_STOPPED)
			fail("the firmware stopped (result %u) before %s", (unsigned)atomic_load(&qemu.boot->fw_result),
			     what);
		usleep(100);
	}
}

/* -- IPM -- */
static _Atomic unsigned ipm_count;
static _Atomic uint32_t ipm_value;

static void on_ipm(const struct ampl_device *dev, void *ud, uint32_t id, volatile void *data)
{
	(void)dev;
	(void)ud;
	(void)id;
	atomic_store(&ipm_value, ((volatile uint32_t *)data)[0]);
	atomic_fetch_add(&ipm_count, 1);
}

static const struct ampl_device *ipm_setup(struct ampl_agent *apu)
{
	const struct ampl_device *to_rpu0;
	int ret = ampl_agent_channel(apu, "rpu0", &to_rpu0);
	if (ret)
		fail("ampl_agent_channel(apu, rpu0): %s", ampl_errname(ret));
	ipm_register_callback(to_rpu0, on_ipm, NULL);
	if ((ret = ipm_set_enabled(to_rpu0, 1)))
		fail("ipm_set_enabled: %s", ampl_errname(ret));
	return to_rpu0;
}

/* Send @v and wait for the answer (the IPM count was @seen before). Returns the answer. */
static uint32_t ipm_round(const struct ampl_device *dev, uint32_t v)
{
	unsigned seen = atomic_load(&ipm_count);
	int ret = ipm_send(dev, 1, 0, &v, sizeof(v));
	if (ret)
		fail("ipm_send(%u): %s", (unsigned)v, ampl_errname(ret));
	wait_count(&ipm_count, seen, "IPM answer");
	return atomic_load(&ipm_value);
}

static void run_ipm(struct ampl_agent *apu)
{
	const struct ampl_device *dev = ipm_setup(apu);
	wait_count(&ipm_count, 0, "hello from the program");
	if (atomic_load(&ipm_value) != 0x600d)
		fail("hello was 0x%x, not 0x600d", (unsigned)atomic_load(&ipm_value));
	for (uint32_t v = 1; v <= ROUNDS; v++) {
		uint32_t a = ipm_round(dev, v * 1000u);
		if (a != v * 1000u + 1)
			fail("IPM %u answered %u", (unsigned)(v * 1000u), (unsigned)a);
	}
	if (ipm_round(dev, 0) != 1)
		fail("the last IPM answer is not 1");
	printf("compat_peer: %u values echoed plus one\n", ROUNDS);
}

/* -- IPC service (ICMsg, RPMsg) -- */
static _Atomic unsigned ipc_bound, ipc_count;
static uint8_t ipc_msg[256];
static _Atomic size_t ipc_len;

static void on_bound(void *priv)
{
	(void)priv;
	atomic_fetch_add(&ipc_bound, 1);
}

static void on_received(const void *data, size_t len, void *priv)
{
	(void)priv;
	size_t n = len < sizeof(ipc_msg) ? len : sizeof(ipc_msg);
	memcpy(ipc_msg, data, n);
	atomic_store(&ipc_len, len);
	atomic_fetch_add(&ipc_count, 1);
}

static struct ipc_ept ipc_ep;

static void ipc_setup(struct ampl_agent *apu, const char *node, const char *ep_name)
{
	static struct ipc_ept_cfg cfg;
	const struct ampl_device *inst;
	cfg = (struct ipc_ept_cfg){ .name = ep_name, .cb = { .bound = on_bound, .received = on_received } };
	int ret = ampl_agent_ipc_instance(apu, node, &inst);
	if (!ret) {
		ret = ipc_service_open_instance(inst);
		if (ret == -EALREADY)
			ret = 0;
	}
	if (!ret)
		ret = ipc_service_register_endpoint(inst, &ipc_ep, &cfg);
	if (ret)
		fail("%s: %s", node, ampl_errname(ret));
}

/* Send @len bytes of @msg and wait for the answer into ipc_msg. Returns its length. */
static size_t ipc_round(const void *msg, size_t len)
{
	unsigned seen = atomic_load(&ipc_count);
	uint64_t start = now_us();
	int ret;
	while ((ret = ipc_service_send(&ipc_ep, msg, len)) == -ENOMEM || ret == -ENOBUFS) {
		if (now_us() - start > WAIT_US)
			break;
		usleep(100);
	}
	if (ret < 0)
		fail("ipc_service_send(%zu bytes): %s", len, ampl_errname(ret));
	wait_count(&ipc_count, seen, "IPC answer");
	return atomic_load(&ipc_len);
}

static void run_icmsg(struct ampl_agent *apu)
{
	uint8_t msg[64];
	ipc_setup(apu, "ipc_icmsg_apu", "ep0");
	wait_count(&ipc_bound, 0, "ICMsg binding");
	for (uint32_t i = 1; i <= ROUNDS + 1; i++) {
		uint32_t word = i <= ROUNDS ? i * 7u : 0, back;
		int n = snprintf((char *)msg + 4, sizeof(msg) - 4, "request %u", (unsigned)i) + 4 + 1;
		memcpy(msg, &word, 4);
		size_t len = ipc_round(msg, (size_t)n);
		memcpy(&back, ipc_msg, 4);
		if (len != (size_t)n || back != word + 1 || memcmp(ipc_msg + 4, msg + 4, (size_t)n - 4))
			fail("ICMsg request %u: answer of %zu bytes, word %u", (unsigned)i, len, (unsigned)back);
	}
	printf("compat_peer: icmsg: %u requests answered\n", ROUNDS);
}

static void run_rpmsg(struct ampl_agent *apu)
{
	uint8_t msg[200];
	ipc_setup(apu, "ipc_rpmsg_apu", "rpmsg-openamp-demo-channel");
	wait_count(&ipc_bound, 0, "RPMsg binding");
	for (unsigned i = 1; i <= ROUNDS; i++) {
		size_t n = 1 + (i * 37u) % sizeof(msg);
		if (n == 4)
			n = 5; /* 4 bytes could be the shutdown word */
		for (size_t k = 0; k < n; k++)
			msg[k] = (uint8_t)(i + k);
		size_t len = ipc_round(msg, n);
		if (len != n || memcmp(ipc_msg, msg, n))
			fail("RPMsg message %u (%zu bytes): echo of %zu bytes differs", i, n, len);
	}
	uint32_t shutdown = 0xEF56A55Au;
	if (ipc_service_send(&ipc_ep, &shutdown, sizeof(shutdown)) < 0)
		fail("cannot send the shutdown word");
	printf("compat_peer: rpmsg: %u messages echoed\n", ROUNDS);
}

static void run_seed_ipm(struct ampl_agent *apu)
{
	const struct ampl_device *dev = ipm_setup(apu);
	wait_count(&ipm_count, 0, "the seed's IPM message");
	if (atomic_load(&ipm_value) != 0x12345678u)
		fail("the seed's IPM message was 0x%x", (unsigned)atomic_load(&ipm_value));
	/* The seed echoes from its callback without looking at ipm_send()'s result: while this side has not yet
	 * acknowledged the seed's 0x12345678 (its interrupt thread acknowledges after the callback that counted it),
	 * the echo is refused with -EBUSY and lost. So ask again, up to 30 times a second apart. */
	unsigned tries = 0;
	for (;;) {
		unsigned seen = atomic_load(&ipm_count);
		uint32_t v = 0xCAFE0001u;
		int ret = ipm_send(dev, 1, 0, &v, sizeof(v));
		if (ret)
			fail("ipm_send(0xcafe0001): %s", ampl_errname(ret));
		uint64_t start = now_us();
		while (atomic_load(&ipm_count) <= seen && now_us() - start < 1000000u)
			usleep(100);
		if (atomic_load(&ipm_count) > seen)
			break;
		if (++tries == 30)
			fail("the seed's IPM callback did not echo 0xcafe0001 in 30 tries");
	}
	if (atomic_load(&ipm_value) != 0xCAFE0001u)
		fail("the seed's IPM callback echoed 0x%x, not 0xcafe0001", (unsigned)atomic_load(&ipm_value));
	if (tries)
		printf("compat_peer: seed-ipm: the echo came at try %u (the seed ignores a refused send)\n", tries + 1);
	printf("compat_peer: seed-ipm: 0x12345678 received, 0xcafe0001 echoed\n");
}

static void run_seed_ipc(struct ampl_agent *apu)
{
	static const char hello[] = "to the seed's endpoint_cb";
	ipc_setup(apu, "ipc_icmsg_apu", "my_endpoint");
	wait_count(&ipc_bound, 0, "the seed's endpoint binding");
	if (ipc_service_send(&ipc_ep, hello, sizeof(hello)) != (int)sizeof(hello))
		fail("cannot send to the seed's endpoint");
	printf("compat_peer: seed-ipc: my_endpoint bound\n");
}

struct prep {
	const void *dtb;
	size_t size;
	const struct ampl_emu_bridge_config *bcfg;
};

/* Before QEMU starts: the SoC backed by the firmware's window, and the bridge's mailbox area in it. */
static int prepare(struct ampl_emu_qemu *q, void *arg)
{
	const struct prep *p = arg;
	struct ampl_soc_create_opts o = { .backing_path = q->shm_path, .backing_base = AMPL_EMU_DEFAULT_BOARD_BASE };
	ampl_soc_destroy(soc_name);
	int ret = ampl_soc_create_opts(soc_name, &ampl_soc_zynqmp, p->dtb, p->size, &o);
	if (ret) {
		fprintf(stderr, "compat_peer: ampl_soc_create_opts: %s: %s\n", ampl_errname(ret), ampl_soc_last_error());
		return ret;
	}
	return ampl_emu_bridge_write_mbox(q->window, p->bcfg);
}

/* --qemu: RPU0 is @elf under QEMU (doorbell @db_mode), the APU this process; the exchange of @mode. */
static int run_firmware(const char *mode, const char *elf, uint32_t db_mode, void *dtb, size_t size)
{
	char err[256];
	struct ampl_emu_bridge_config bcfg = {
		.soc = soc_name, .agent = "rpu0", .remotes = { "apu" }, .modes = { AMPL_EMU_CHAN_DOORBELL },
		.num_chans = 1, .mode = db_mode == AMPL_EMU_DOORBELL_POLL ? AMPL_WAIT_ADAPTIVE : AMPL_WAIT_BLOCK,
	};
	struct prep p = { dtb, size, &bcfg };
	struct ampl_emu_qemu_config qcfg = { .kernel = elf, .doorbell = db_mode, .prepare = prepare, .prepare_arg = &p };
	struct ampl_agent_opts opts = { .mode = AMPL_WAIT_BLOCK };
	struct ampl_soc *soc = NULL;
	struct ampl_agent *apu = NULL;
	int ret, code;

	if (strcmp(mode, "icmsg") && strcmp(mode, "rpmsg"))
		fail("--qemu runs the icmsg and rpmsg exchanges, not %s", mode);
	if (!elf || !*elf) {
		printf("SKIPPED: the firmware image was not built (no arm-none-eabi-gcc)\n");
		return 77;
	}
	if (ampl_emu_qemu_find(&qcfg, err, sizeof(err))) {
		printf("SKIPPED: %s\n", err);
		return 77;
	}
	if ((ret = ampl_emu_qemu_start(&qemu, &qcfg, err, sizeof(err))))
		fail("starting %s under QEMU: %s (%s)", elf, err, ampl_errname(ret));
	qemu_up = true;
	if ((ret = ampl_emu_bridge_start(&bridge, &bcfg, &qemu)))
		fail("the bridge: %s: %s", ampl_errname(ret), ampl_soc_last_error());
	bridge_up = true;
	if ((ret = ampl_soc_open(soc_name, &soc)) || (ret = ampl_agent_attach(soc, "apu", &opts, &apu)))
		fail("attach apu: %s: %s", ampl_errname(ret), ampl_soc_last_error());
	if (!strcmp(mode, "icmsg"))
		run_icmsg(apu);
	else
		run_rpmsg(apu);
	/* The program ends on its own after the last answer: its runner writes the verdict, then exits. */
	uint64_t start = now_us();
	while (atomic_load(&qemu.boot->fw_state) != AMPL_EMU_FW_STOPPED) {
		if (now_us() - start > WAIT_US)
			fail("the firmware did not stop within 30 s");
		usleep(1000);
	}
	ampl_agent_detach(apu);
	ampl_soc_close(soc);
	unsigned errors = atomic_load(&bridge.errors);
	ampl_emu_bridge_stop(&bridge);
	bridge_up = false;
	qemu_up = false;
	if ((ret = ampl_emu_qemu_stop(&qemu, WAIT_US / 1000u, &code)))
		fail("QEMU did not exit within 30 s (killed)");
	ampl_soc_destroy(soc_name);
	if (code != 0 || errors) {
		fprintf(stderr, "compat_peer: FAIL: the firmware exited with %d; the bridge counted %u errors\n", code,
			errors);
		return 1;
	}
	printf("compat_peer: %s: the firmware ended as expected (exit 0, %s doorbell)\n", mode,
	       db_mode == AMPL_EMU_DOORBELL_POLL ? "polled" : "interrupt");
	return 0;
}

int main(int argc, char **argv)
{
	struct ampl_dt_diag diag;
	struct ampl_agent_opts opts = { .mode = AMPL_WAIT_BLOCK };
	struct ampl_soc *soc = NULL;
	struct ampl_agent *apu = NULL;
	void *dtb;
	size_t size;
	int ret, status;

	uint32_t db_mode = 0;
	bool qemu_arg = argc > 1 && !strncmp(argv[1], "--qemu", 6);
	if (qemu_arg) {
		db_mode = !strcmp(argv[1], "--qemu=irq")    ? AMPL_EMU_DOORBELL_IRQ
			  : !strcmp(argv[1], "--qemu=poll") ? AMPL_EMU_DOORBELL_POLL
							    : 0;
		argc--;
		argv++;
	}
	if (argc != 4 || (qemu_arg && !db_mode)) {
		fprintf(stderr, "usage: compat_peer [--qemu=irq|poll] ipm|mbox|icmsg|rpmsg|seed-ipm|seed-ipc BOARD.dts "
				"PROGRAM\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	snprintf(soc_name, sizeof(soc_name), "compat-%d", (int)getpid());
	if ((ret = ampl_dt_read_file(argv[2], &dtb, &size, &diag)))
		fail("%s: %s", argv[2], diag.msg);
	if (db_mode) {
		ret = run_firmware(argv[1], argv[3], db_mode, dtb, size);
		free(dtb);
		return ret;
	}
	if ((ret = ampl_soc_create(soc_name, &ampl_soc_zynqmp, dtb, size)))
		fail("ampl_soc_create: %s: %s", ampl_errname(ret), ampl_soc_last_error());
	free(dtb);
	if ((ret = ampl_soc_open(soc_name, &soc)) || (ret = ampl_agent_attach(soc, "apu", &opts, &apu)))
		fail("attach apu: %s: %s", ampl_errname(ret), ampl_soc_last_error());
	child = fork();
	if (child == 0) {
		setenv("AMPLINK_SOC", soc_name, 1);
		setenv("AMPLINK_AGENT", "rpu0", 1);
		execl(argv[3], argv[3], (char *)NULL);
		_exit(127);
	}
	if (!strcmp(argv[1], "ipm") || !strcmp(argv[1], "mbox"))
		run_ipm(apu); /* the MBOX sample has the IPM sample's exchange */
	else if (!strcmp(argv[1], "icmsg"))
		run_icmsg(apu);
	else if (!strcmp(argv[1], "rpmsg"))
		run_rpmsg(apu);
	else if (!strcmp(argv[1], "seed-ipm"))
		run_seed_ipm(apu);
	else if (!strcmp(argv[1], "seed-ipc"))
		run_seed_ipc(apu);
	else
		fail("unknown mode %s", argv[1]);
	bool seed = !strncmp(argv[1], "seed", 4); /* the seeds' programs wait for ever */
	if (seed)
		kill(child, SIGTERM);
	uint64_t start = now_us();
	while (waitpid(child, &status, WNOHANG) == 0) {
		if (now_us() - start > WAIT_US)
			fail("the program did not end within 30 s");
		usleep(1000);
	}
	child = -1;
	ampl_agent_detach(apu);
	ampl_soc_close(soc);
	ampl_soc_destroy(soc_name);
	if (seed ? !(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)
				     : !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		fprintf(stderr, "compat_peer: FAIL: the program ended with status 0x%x\n", (unsigned)status);
		return 1;
	}
	printf("compat_peer: %s: the program ended as expected\n", argv[1]);
	return 0;
}
