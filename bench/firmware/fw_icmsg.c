/*
 * The backend of test_fw_icmsg and of amplink bench --firmware (fw_backends.h).
 *
 * ICMsg between a Linux process and amplink firmware on a Cortex-M4 under QEMU (mps2-an386), both sides the
 * library's own code, the rings in the window QEMU shares with this process (firmware/apps/icmsg_echo). Two
 * configurations, each polled and then with UART interrupts (bench/firmware/fw_host.h for the phases and checks):
 * classic bonding (with amplink's size extension), round trips and a stream; and session mode ("enable"), which
 * also survives the firmware killed and restarted mid-stream and this side closing and reopening.
 */
#include <errno.h>
#include <string.h>

#include <amplink/ipc/ipc_icmsg.h>
#include <amplink/ipc_service.h>

#include "fw_backends.h"
#include "fw_host.h"
#include "fw_layout.h"
#include "icmsg_echo.h"

static uint8_t rx_buf[ECHO_RX_BUF];
static struct ipc_icmsg_config icfg;
static struct ipc_icmsg_data idata;
static struct ampl_device_state dstate;
static struct ampl_device inst = { .name = "ipc-icmsg-emu", .api = &ipc_icmsg_backend, .config = &icfg, .data = &idata,
			      .state = &dstate };
static struct ipc_ept ept;

static void on_bound(void *priv)
{
	(void)priv;
	fw_bound(fw_current(), 0);
}

static void on_unbound(void *priv)
{
	(void)priv;
	fw_unbound(fw_current(), 0);
}

/* The link's receive thread (interrupt mode) or the test thread inside ampl_emu_link_poll() (polling mode). */
static void on_received(const void *data, size_t len, void *priv)
{
	(void)priv;
	fw_answer(fw_current(), 0, data, len);
}

static const struct ipc_ept_cfg ecfg = {
	.name = "echo",
	.cb = { .bound = on_bound, .unbound = on_unbound, .received = on_received },
};

static int open_icmsg(struct fw_run *r, enum icmsg_unbound_mode mode)
{
	const struct fw_layout *l = fw_layout();
	if (!l)
		return -EINVAL;
	uint8_t *w = fw_window(r);
	icfg = (struct ipc_icmsg_config){
		.icmsg = {
			.tx_mem = w + l->icmsg_tx.off,
			.tx_size = l->icmsg_tx.size,
			.rx_mem = w + l->icmsg_rx.off,
			.rx_size = l->icmsg_rx.size,
			.dcache_alignment = l->icmsg_dcache,
			.unbound_mode = mode,
			.size_ext = l->icmsg_size_ext, /* classic: both ends tell their limit (amplink,max-packet-ext) */
			.tx_chan = fw_tx_chan(r),
			.rx_chan = fw_rx_chan(r),
			.rx_buf = rx_buf,
			.rx_buf_size = sizeof(rx_buf),
			.peer_rx_max_default = ECHO_RX_BUF, /* session mode: the peer's limit (amplink,peer-max-packet) */
		},
	};
	/* The instance object outlives a close (session mode keeps its id across close/open): zeroed only once per
	 * run, when the window is new. */
	int e = ipc_service_open_instance(&inst);
	if (!e)
		e = ipc_service_register_endpoint(&inst, &ept, &ecfg);
	return e;
}

static int open_classic(struct fw_run *r)
{
	return open_icmsg(r, ICMSG_UNBOUND_MODE_DISABLE);
}

static int open_session(struct fw_run *r)
{
	return open_icmsg(r, ICMSG_UNBOUND_MODE_ENABLE);
}

static int send_icmsg(struct fw_run *r, unsigned i, const uint8_t *msg, size_t len)
{
	(void)r;
	(void)i;
	int e = ipc_service_send(&ept, msg, len);
	return e < 0 ? e : 0;
}

static void close_icmsg(struct fw_run *r)
{
	(void)r;
	(void)ipc_service_deregister_endpoint(&ept);
	(void)ipc_service_close_instance(&inst);
}

const struct fw_backend fw_icmsg_classic = {
	.name = "ICMsg classic",
	.image_env = "AMPL_FW_ICMSG_ECHO",
	.n_ept = 1,
	.arg = { [ICMSG_ARG_MODE] = ICMSG_UNBOUND_MODE_DISABLE },
	.open = open_classic,
	.send = send_icmsg,
	.close = close_icmsg,
};

const struct fw_backend fw_icmsg_session = {
	.name = "ICMsg session",
	.image_env = "AMPL_FW_ICMSG_ECHO",
	.n_ept = 1,
	.arg = { [ICMSG_ARG_MODE] = ICMSG_UNBOUND_MODE_ENABLE },
	.restarts = true,
	.open = open_session,
	.send = send_icmsg,
	.close = close_icmsg,
};
