/* Boot, run and report of the echo firmware under QEMU, and the echo protocol's firmware end (fw_app.h). */
#include "fw_app.h"

struct ampl_emu_boot *const fw_boot = (struct ampl_emu_boot *)(void *)__shm_start;
struct emu_doorbell fw_db;

static const struct emu_doorbell_config db_cfg = {
	.node = "/emu-doorbell",
	.uart_base = BOARD_DOORBELL_UART_BASE,
	.rx_irq = BOARD_DOORBELL_RX_IRQ,
	.boot = (struct ampl_emu_boot *)(void *)__shm_start,
};

static uint32_t mode;
static bool fresh[ECHO_MAX_EPT]; /* the endpoint's next ask may skip numbers (a new binding) */

static void say(const char *name, const char *what)
{
	board_puts(name);
	board_puts(what);
}

_Noreturn void fw_app_fail(const char *name, const char *what, int err)
{
	say(name, ": ");
	board_put_u32(what, (uint32_t)-err);
	board_exit(ECHO_EXIT_INIT);
}

void fw_app_check_window(const char *name, uintptr_t boot_addr)
{
	if (boot_addr != (uintptr_t)__shm_start) {
		say(name, ": the devicetree's window is not this board's (--map): emu_boot");
		board_put_u32(" at", (uint32_t)boot_addr);
		board_exit(ECHO_EXIT_INIT);
	}
}

void fw_app_mbox_start(const char *name, struct emu_mbox *mb, const struct emu_mbox_config *cfg, uint32_t want_mode,
		       const char *wrong_mode)
{
	int r = emu_mbox_init(mb, cfg);
	if (r == -EPROTO) {
		say(name, ": no mailbox area in the window (start me through the bridge)\n");
		board_exit(ECHO_EXIT_NO_HOST);
	}
	if (r)
		fw_app_fail(name, "mailbox start failed, errno", r);
	if (emu_mbox_mode(mb, 0) != want_mode)
		fw_app_fail(name, wrong_mode, -(int)emu_mbox_mode(mb, 0));
}

uint32_t fw_app_start(const char *name)
{
	board_init();
	/* BOOTING before the count moves: a host waiting for this boot sees READY only once it is ready. */
	atomic_store(&fw_boot->fw_state, AMPL_EMU_FW_BOOTING);
	atomic_fetch_add(&fw_boot->fw_boots, 1u);
	for (unsigned i = 0; i < ECHO_MAX_EPT; i++)
		fresh[i] = true;
	if (fw_boot->magic != AMPL_EMU_MAGIC) {
		say(name, ": no boot block in the window (start me with the host launcher)\n");
		board_exit(ECHO_EXIT_NO_HOST);
	}
	mode = fw_boot->doorbell;
	if (mode != AMPL_EMU_DOORBELL_IRQ && mode != AMPL_EMU_DOORBELL_POLL) {
		say(name, ": ");
		board_put_u32("unknown doorbell mode", mode);
		board_exit(ECHO_EXIT_BAD_MODE);
	}
	emu_trace_init((struct ampl_emu_trace *)(void *)(__shm_start + AMPL_EMU_TRACE_OFF));
	int r = emu_doorbell_init(&fw_db, &db_cfg, mode);
	if (r)
		fw_app_fail(name, "doorbell start failed, errno", r);
	return mode;
}

void fw_app_ready(const char *name)
{
	atomic_store(&fw_boot->fw_state, AMPL_EMU_FW_READY);
	say(name, mode == AMPL_EMU_DOORBELL_IRQ ? ": ready, doorbell " BOARD_DOORBELL_NAME " (interrupts)\n"
					     : ": ready, doorbell polled\n");
}

static bool stop_requested(void *arg)
{
	const struct fw_app_hooks *hooks = arg;
	return atomic_load(&fw_boot->stop) != 0 || (hooks && hooks->stop && hooks->stop());
}

/* The echo protocol's report (echo.h's words) and verdict. */
static int echo_report(const char *name)
{
	uint32_t bad = atomic_load(&fw_boot->app[ECHO_APP_BAD]), fail = atomic_load(&fw_boot->app[ECHO_APP_TX_FAIL]);
	static const struct {
		const char *label;
		unsigned word;
	} report[] = {
		{ ": asks", ECHO_APP_ASKS },          { ": bad asks", ECHO_APP_BAD },
		{ ": delivered twice", ECHO_APP_DUPS }, { ": skipped in a binding", ECHO_APP_GAPS },
		{ ": failed answers", ECHO_APP_TX_FAIL }, { ": last send error", ECHO_APP_LAST_ERR },
		{ ": answers dropped (link down)", ECHO_APP_DROPPED }, { ": bindings", ECHO_APP_BINDS },
		{ ": unbindings", ECHO_APP_UNBINDS },  { ": doorbells in", ECHO_APP_RINGS_IN },
		{ ": doorbells out", ECHO_APP_RINGS_OUT },
	};
	for (unsigned i = 0; i < sizeof(report) / sizeof(report[0]); i++) {
		board_puts(name);
		board_put_u32(report[i].label, atomic_load(&fw_boot->app[report[i].word]));
	}
	return bad || fail ? ECHO_EXIT_ERRORS : ECHO_EXIT_OK;
}

int fw_app_run_with(const char *name, const struct fw_app_hooks *hooks)
{
	void *arg = (void *)(uintptr_t)hooks; /* board_idle()'s callback argument; read only */
	while (!stop_requested(arg)) {
		emu_trace_follow();
		if (mode == AMPL_EMU_DOORBELL_POLL) {
			(void)emu_doorbell_poll(&fw_db);
			if (hooks && hooks->poll)
				hooks->poll();
		} else {
			board_idle(stop_requested, arg);
		}
	}

	uint32_t in, out;
	emu_doorbell_rings(&fw_db, &in, &out);
	atomic_store(&fw_boot->app[ECHO_APP_RINGS_IN], in);
	atomic_store(&fw_boot->app[ECHO_APP_RINGS_OUT], out);
	int result = hooks && hooks->report ? hooks->report(name) : echo_report(name);
	atomic_store(&fw_boot->fw_result, (uint32_t)result);
	/* The host waits for QEMU's exit, not for this word, before it closes the serial socket. */
	atomic_store(&fw_boot->fw_state, AMPL_EMU_FW_STOPPED);
	return result;
}

int fw_app_run(const char *name)
{
	return fw_app_run_with(name, NULL);
}

static void count(unsigned word, uint32_t n)
{
	atomic_fetch_add(&fw_boot->app[word], n);
}

void echo_fw_rebind(unsigned ept, bool bound)
{
	if (ept < ECHO_MAX_EPT)
		fresh[ept] = true;
	count(bound ? ECHO_APP_BINDS : ECHO_APP_UNBINDS, 1);
}

size_t echo_fw_answer(unsigned ept, const uint8_t *shared, size_t len, uint8_t *answer)
{
	/* The ask may be in shared memory (RPMsg, multi-endpoint): checked and used from one copy. */
	static uint8_t ask[ECHO_MSG_MAX];
	if (len > sizeof(ask))
		len = sizeof(ask) + 1u; /* too long: echo_check() says ECHO_BAD_LEN from the copied header */
	for (size_t i = 0; i < len && i < sizeof(ask); i++)
		ask[i] = shared[i];
	uint32_t seq = len >= ECHO_HDR ? echo_get32(ask) : 0;
	uint8_t status = echo_check(ask, len, ECHO_KIND_ASK, seq); /* length, kind, checksum */
	uint32_t n = 0;

	count(ECHO_APP_ASKS, 1);
	if (ept < ECHO_MAX_EPT) {
		count(ECHO_APP_ASKS0 + ept, 1);
		if (status == ECHO_OK) {
			uint32_t next = atomic_load(&fw_boot->app[ECHO_APP_NEXT0 + ept]);
			if (seq < next) {
				status = ECHO_BAD_SEQ;
				count(ECHO_APP_DUPS, 1);
			} else if (seq > next && !fresh[ept]) {
				status = ECHO_BAD_SEQ;
				count(ECHO_APP_GAPS, 1);
			}
			if (seq >= next)
				atomic_store(&fw_boot->app[ECHO_APP_NEXT0 + ept], seq + 1u);
			fresh[ept] = false;
		}
	} else {
		status = ECHO_BAD_KIND;
	}
	if (status == ECHO_OK || status == ECHO_BAD_SEQ) {
		n = (uint32_t)ask[4] | (uint32_t)ask[5] << 8; /* well-formed: the length was checked */
		for (uint32_t i = 0; i < n; i++)
			answer[ECHO_HDR + i] = echo_answer_byte(ask + ECHO_HDR, n, i);
	}
	if (status != ECHO_OK)
		count(ECHO_APP_BAD, 1);
	return echo_seal(answer, seq, n, ECHO_KIND_ANSWER, status);
}

void echo_fw_sent(int r, bool link_down)
{
	if (r < 0 && link_down) {
		count(ECHO_APP_DROPPED, 1);
	} else if (r < 0) {
		count(ECHO_APP_TX_FAIL, 1);
		atomic_store(&fw_boot->app[ECHO_APP_LAST_ERR], (uint32_t)-r);
	}
}
