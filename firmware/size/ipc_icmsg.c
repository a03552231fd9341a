/*
 * Size image: the IPC service with the ICMsg backend (front end, ipc_icmsg adapter, icmsg, pbuf) and the mailbox
 * framework, over the trivial doorbell controller of common/doorbell.h. One instance defined statically (as the
 * default board's ipc_icmsg_rpu0), one endpoint that echoes what it receives, so the receive path (doorbell
 * interrupt -> icmsg -> received()) and the send path (ipc_service_send -> pbuf -> doorbell) are both linked.
 */
#include <amplink/device.h>
#include <amplink/ipc/ipc_icmsg.h>
#include <amplink/ipc_service.h>

#include "common/doorbell.h"

/* This core's ring and the peer's (the default board's icmsg_rpu0_tx and icmsg_apu_tx). */
#define SHM_TX 0x3ed48000u
#define SHM_RX 0x3ed40000u
#define SHM_SIZE 0x8000u

static uint8_t rx_buf[512];

static const struct ipc_icmsg_config ipc0_config = {
	.icmsg = {
		.tx_mem = (void *)(uintptr_t)SHM_TX,
		.tx_size = SHM_SIZE,
		.rx_mem = (void *)(uintptr_t)SHM_RX,
		.rx_size = SHM_SIZE,
		.unbound_mode = ICMSG_UNBOUND_MODE_DISABLE,
		.size_ext = true, /* amplink,max-packet-ext, as the default board's instance */
		.mbox_node = &doorbell_consumer,
		.rx_buf = rx_buf,
		.rx_buf_size = sizeof(rx_buf),
	},
};

static struct ipc_icmsg_data ipc0_data;

AMPL_DEVICE_DEFINE(ipc0, "ipc-icmsg-rpu0", "ipc_icmsg_rpu0", NULL, &ipc_icmsg_backend, &ipc0_config, &ipc0_data);

static struct ipc_ept ept;

/* The doorbell interrupt's context: echo the message back. */
static void on_received(const void *data, size_t len, void *priv)
{
	(void)priv;
	(void)ipc_service_send(&ept, data, len);
}

static const struct ipc_ept_cfg ept_cfg = {
	.name = "echo",
	.cb = { .received = on_received },
};

int main(void)
{
	if (mbox_controller_register(&doorbell) || ipc_service_open_instance(&ipc0) ||
	    ipc_service_register_endpoint(&ipc0, &ept, &ept_cfg))
		return 1;
	for (;;)
		size_wait_for_interrupt();
}
