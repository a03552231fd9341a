/*
 * The IPC service echo of `amplink demo` as firmware for mps2-an386 under QEMU, reached through the virtual SoC:
 * the host's bridge is this firmware's agent and carries the IPI to the window's mailbox area (emu_mbox.h). Written
 * as Zephyr code is: the instance is DEVICE_DT_GET(DT_NODELABEL(...)) of the board's devicetree, generated at
 * build time (`amplink dt gen --agent A --map 0x3ecf0000=0x21000000,0x1000000`: board_gen.h/.c, rings, buffers and
 * mailbox consumer included), and no address is written here. The instance's mboxes name the IPI destination to
 * the APU; the bridged mailbox is registered under that destination's path, so the consumer's channels 0 (tx) and
 * 1 (rx) are mailbox channel 0 (the APU, doorbell mode) of the bridge.
 *
 * One image per backend (firmware/CMakeLists.txt):
 *   icmsg_echo_soc    SOC_ECHO_ICMSG  rpu0's ipc_icmsg_rpu0, endpoint "echo"
 *   rpmsg_remote_soc  SOC_ECHO_RPMSG  rpu0's ipc_rpmsg_rpu0 (RPMsg remote, name service), "echo0" and "echo1"
 *   multi_soc         SOC_ECHO_MULTI  rpu1's ipc_multi_rpu1 (multi-endpoint), "echo0" and "echo1"
 *   icmsg_echo_soc_session  SOC_ECHO_ICMSG, configured from dts/zynqmp-apu-rpu0-session.dts (both ICMsg
 *                           instances in session mode, unbound = "enable"): survives a reset of either side
 * Every message is checked and echoed (soc_echo.h); "STOP" on the first endpoint ends the run, as does the host's
 * stop word. The sequence number the next message must carry is kept in the window (SOC_ECHO_APP_NEXT), so a
 * firmware reset mid-stream still recognises a message delivered twice (a lower number); a higher one is accepted
 * only as the first message after a boot or a (re)binding, when what was in flight may have been lost. The exit
 * code is the verdict: ECHO_EXIT_ERRORS if a message was bad or an answer failed.
 */
#include <amplink/ipc_service.h>

#include "board_gen.h"
#include "emu_mbox.h"
#include "fw_app.h"
#include "soc_echo.h"

#if defined(SOC_ECHO_ICMSG)
#define NAME "icmsg_echo_soc"
#define INST DT_NODELABEL(ipc_icmsg_rpu0)
#define IPI DT_NODELABEL(ipi_rpu0_apu)
#define EPT_NAMES { "echo" }
#elif defined(SOC_ECHO_RPMSG)
#define NAME "rpmsg_remote_soc"
#define INST DT_NODELABEL(ipc_rpmsg_rpu0)
#define IPI DT_NODELABEL(ipi_rpu0_apu)
#define EPT_NAMES { "echo0", "echo1" }
#elif defined(SOC_ECHO_MULTI)
#define NAME "multi_soc"
#define INST DT_NODELABEL(ipc_multi_rpu1)
#define IPI DT_NODELABEL(ipi_rpu1_apu)
#define EPT_NAMES { "echo0", "echo1" }
#else
#error "define SOC_ECHO_ICMSG, SOC_ECHO_RPMSG or SOC_ECHO_MULTI"
#endif

#define ANSWER_RETRY_US 200000u /* how long an answer waits for room before it counts as failed */

/* The IPI destination the instance's mboxes name, carried by the host's bridge. */
static const struct emu_mbox_config mb_cfg = {
	.area = (struct ampl_emu_mbox *)(void *)(__shm_start + AMPL_EMU_MBOX_OFF),
	.db = &fw_db,
	.node = AMPL_DT_PATH_STR(IPI),
};
static struct emu_mbox mb;

static const char *const ept_names[] = EPT_NAMES;
#define NUM_EPT (sizeof(ept_names) / sizeof(ept_names[0]))
static struct ipc_ept epts[NUM_EPT];
static bool fresh = true; /* the next message may skip numbers: the first of a boot or of a new binding */
static volatile bool stop_seen;

static void count(unsigned word)
{
	atomic_fetch_add(&fw_boot->app[word], 1u);
}

static void on_bound(void *priv)
{
	(void)priv;
	fresh = true;
	count(SOC_ECHO_APP_BOUND);
}

static void on_unbound(void *priv)
{
	(void)priv;
	fresh = true;
	count(SOC_ECHO_APP_UNBOUND);
}

/* The RX context (UART interrupt, or the polling loop): one call at a time. */
static void on_received(const void *data, size_t len, void *priv)
{
	struct ipc_ept *ept = priv;
	uint8_t msg[SOC_ECHO_MAX];

	if (ept == &epts[0] && soc_echo_is_stop(data, len)) {
		count(SOC_ECHO_APP_STOPS);
		stop_seen = true;
		return;
	}
	/* One copy (the message may be in shared memory): checked and answered from it. */
	size_t n = len <= sizeof(msg) ? len : sizeof(msg);
	memcpy(msg, data, n);
	bool bad = n != len || !soc_echo_ok(msg, n);
	if (!bad) {
		uint32_t seq = soc_echo_get32(msg), next = atomic_load(&fw_boot->app[SOC_ECHO_APP_NEXT]);
		if (seq < next) {
			count(SOC_ECHO_APP_DUPS);
			bad = true;
		} else if (seq > next && !fresh) {
			bad = true; /* lost in the middle of a binding */
		}
		if (seq >= next)
			atomic_store(&fw_boot->app[SOC_ECHO_APP_NEXT], seq + 1u);
		fresh = false;
	}
	if (bad)
		count(SOC_ECHO_APP_BAD);
	uint64_t start = ampl_os_uptime_us();
	int r;
	while ((r = ipc_service_send(ept, msg, n)) == -ENOMEM && ampl_os_uptime_us() - start < ANSWER_RETRY_US)
		;
	count(r == (int)n ? SOC_ECHO_APP_ECHOED : SOC_ECHO_APP_FAILED);
}

static void poll_mbox(void)
{
	(void)mbox_poll_all(); /* TX done of the rings to the host */
}

static bool stop_sent(void)
{
	return stop_seen;
}

static int report(const char *name)
{
	static const struct {
		const char *label;
		unsigned word;
	} what[] = {
		{ ": messages echoed", SOC_ECHO_APP_ECHOED }, { ": bad messages", SOC_ECHO_APP_BAD },
		{ ": delivered twice", SOC_ECHO_APP_DUPS },   { ": STOP messages", SOC_ECHO_APP_STOPS },
		{ ": answers failed", SOC_ECHO_APP_FAILED },  { ": endpoints bound", SOC_ECHO_APP_BOUND },
		{ ": endpoints unbound", SOC_ECHO_APP_UNBOUND },
	};
	for (unsigned i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
		board_puts(name);
		board_put_u32(what[i].label, atomic_load(&fw_boot->app[what[i].word]));
	}
	board_puts(name);
	board_put_u32(": mailbox protocol errors", mb.errors);
	return atomic_load(&fw_boot->app[SOC_ECHO_APP_BAD]) || atomic_load(&fw_boot->app[SOC_ECHO_APP_FAILED]) ||
			       mb.errors
		       ? ECHO_EXIT_ERRORS
		       : ECHO_EXIT_OK;
}

static const struct fw_app_hooks hooks = { .poll = poll_mbox, .stop = stop_sent, .report = report };

int main(void)
{
	const struct ampl_device *inst = DEVICE_DT_GET(INST);

	(void)fw_app_start(NAME);
	fw_app_mbox_start(NAME, &mb, &mb_cfg, AMPL_EMU_CHAN_DOORBELL, "mailbox channel 0 not in doorbell mode: mode");
	int r = ipc_service_open_instance(inst);
	if (r && r != -EALREADY)
		fw_app_fail(NAME, "opening the IPC instance failed, errno", r);
	static struct ipc_ept_cfg cfgs[NUM_EPT]; /* the backend keeps the configuration */
	for (unsigned i = 0; i < NUM_EPT; i++) {
		cfgs[i] = (struct ipc_ept_cfg){
			.name = ept_names[i],
			.cb = { .bound = on_bound, .unbound = on_unbound, .received = on_received },
			.priv = &epts[i],
		};
		r = ipc_service_register_endpoint(inst, &epts[i], &cfgs[i]);
		if (r)
			fw_app_fail(NAME, "endpoint registration failed, errno", r);
	}
	fw_app_ready(NAME);
	return fw_app_run_with(NAME, &hooks);
}
