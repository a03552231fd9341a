/*
 * ICMsg echo firmware for mps2-an386 under QEMU: the IPC service with the ICMsg backend (the library's own code),
 * its rings in the shared window, rung through the emulator doorbell in the mode the host wrote in the boot block,
 * in the ICMsg mode the host chose (arg ICMSG_ARG_MODE: classic bonding, or session mode, which survives a restart
 * of either side). Every ask is checked and answered by the echo protocol (common/echo.h, common/fw_app.h).
 * Built with AMPL_IPC_LINK_MBOX 0 (icmsg_echo_nomailbox) the instance takes no mailbox channel: it rings through a
 * doorbell function (<amplink/ipc/link.h>), and the board's doorbell interrupt calls icmsg_poll().
 */
#include <amplink/ipc/ipc_icmsg.h>
#include <amplink/ipc_service.h>

#include "board_gen.h" /* dts/emu-link.dts for this board (firmware/emu_link.cmake) */
#include "fw_app.h"
#include "icmsg_echo.h"

#define NAME "icmsg_echo"
#define ANSWER_RETRY_US 200000u /* how long an answer waits for room in the ring before it counts as failed */

#define ECHO_TX_CHAN (&fw_db.chans[EMU_DOORBELL_TX])
#define ECHO_RX_CHAN (&fw_db.chans[EMU_DOORBELL_RX])

#if !AMPL_IPC_LINK_MBOX
/*
 * No mailbox in the ICMsg link: the instance rings the host through this function, and the board's doorbell (a
 * controller of its own, emu_doorbell.h) is the transport underneath: its tx channel rung, its rx channel's
 * callback running icmsg_poll(), as a firmware's IPI interrupt would (xlnx_ipi_direct_doorbell_taken()).
 */
static void ring_host(const void *ctx)
{
	(void)ctx;
	(void)ampl_mbox_ring(ECHO_TX_CHAN);
}

static const struct ampl_ipc_doorbell host_bell = { .ring = ring_host };
#endif
#define ECHO_HOOKS NULL
#define ECHO_NODE DT_NODELABEL(ipc_icmsg_fw)
#define ECHO_REGION(prop) ((uint8_t *)(uintptr_t)DT_REG_ADDR(DT_PHANDLE(ECHO_NODE, prop)))

static uint8_t rx_buf[ECHO_RX_BUF];

/* Not const: the unbound mode comes from the boot block. */
static struct ipc_icmsg_config ipc0_config = {
	.icmsg = {
		.tx_mem = ECHO_REGION(tx_region),
		.tx_size = DT_REG_SIZE(DT_PHANDLE(ECHO_NODE, tx_region)),
		.rx_mem = ECHO_REGION(rx_region),
		.rx_size = DT_REG_SIZE(DT_PHANDLE(ECHO_NODE, rx_region)),
		.dcache_alignment = DT_PROP(ECHO_NODE, dcache_alignment),
		.unbound_mode = ICMSG_UNBOUND_MODE_DISABLE,
		.size_ext = DT_PROP(ECHO_NODE, amplink_max_packet_ext), /* classic: both ends tell their limit */
#if AMPL_IPC_LINK_MBOX
		.tx_chan = ECHO_TX_CHAN,
		.rx_chan = ECHO_RX_CHAN,
#else
		.doorbell = &host_bell,
#endif
		.rx_buf = rx_buf,
		.rx_buf_size = sizeof(rx_buf),
		.peer_rx_max_default = ECHO_RX_BUF, /* session mode: the peer's limit (amplink,peer-max-packet) */
	},
};
static struct ipc_icmsg_data ipc0_data;
AMPL_DEVICE_DEFINE(ipc0, "ipc-icmsg-emu", "ipc_icmsg_emu", NULL, &ipc_icmsg_backend, &ipc0_config, &ipc0_data);

static struct ipc_ept ept;
static uint8_t answer[ECHO_MSG_MAX];

static void on_bound(void *priv)
{
	(void)priv;
	echo_fw_rebind(0, true);
}

static void on_unbound(void *priv)
{
	(void)priv;
	echo_fw_rebind(0, false);
}

/* The RX context (UART interrupt, or the polling loop): one call at a time, so `answer` needs no lock. */
static void on_received(const void *data, size_t len, void *priv)
{
	(void)priv;
	size_t total = echo_fw_answer(0, data, len, answer);
	/* The host reads its ring independently of us, so waiting here for room ends; bounded all the same. */
	uint64_t start = ampl_os_uptime_us();
	int r;
	while ((r = ipc_service_send(&ept, answer, total)) == -ENOMEM && ampl_os_uptime_us() - start < ANSWER_RETRY_US)
		;
	echo_fw_sent(r, r == -EBUSY); /* -EBUSY: unbound (session mode: the host closed or restarted) */
}

static const struct ipc_ept_cfg ept_cfg = {
	.name = "echo",
	.cb = { .bound = on_bound, .unbound = on_unbound, .received = on_received },
};

#if !AMPL_IPC_LINK_MBOX
static void on_host_ring(struct mbox_client *cl, void *mssg)
{
	(void)cl;
	(void)mssg;
	(void)icmsg_poll(ipc_icmsg_link(&ipc0));
}

static struct mbox_client db_tx_cl, db_rx_cl = { .rx_callback = on_host_ring };

/* The board's doorbell channels, taken for the ring function and the poll (before the instance opens). */
static int doorbell_take(void)
{
	int r = ampl_mbox_bind(ECHO_TX_CHAN, &db_tx_cl);
	return r ? r : ampl_mbox_bind(ECHO_RX_CHAN, &db_rx_cl);
}
#else
static int doorbell_take(void)
{
	return 0;
}
#endif

int main(void)
{
	(void)fw_app_start(NAME);
	fw_app_check_window(NAME, DT_REG_ADDR(DT_NODELABEL(emu_boot)));
	uint32_t mode = fw_boot->arg[ICMSG_ARG_MODE];
	if (mode > ICMSG_UNBOUND_MODE_DETECT)
		fw_app_fail(NAME, "unknown ICMsg mode", -(int)mode);
	ipc0_config.icmsg.unbound_mode = (enum icmsg_unbound_mode)mode;
	int r = doorbell_take();
	if (!r)
		r = ipc_service_open_instance(&ipc0);
	if (!r)
		r = ipc_service_register_endpoint(&ipc0, &ept, &ept_cfg);
	if (r)
		fw_app_fail(NAME, "ICMsg start failed, errno", r);
	fw_app_ready(NAME);
	return fw_app_run_with(NAME, ECHO_HOOKS);
}
