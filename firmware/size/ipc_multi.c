/*
 * Size image: the IPC service with the multi-endpoint backend (front end, ipc_multi, pbuf) and the mailbox
 * framework's thin doorbell path (channels bound at build time, or by name with AMPL_MBOX_REGISTRY 1), over the
 * trivial doorbell controller of common/doorbell.h. One instance defined statically (as the
 * default board's ipc_multi_rpu1), one endpoint that echoes what it receives through the copying send, so the
 * receive path (doorbell interrupt -> control ring -> received() -> release) and the send path (block
 * allocation, control ring, doorbell) are both linked; the zero-copy calls are not used here. With
 * AMPL_IPC_LINK_MBOX 0 (the `no-mailbox` configurations) the instance rings the same register through a doorbell
 * function and the interrupt calls ipc_multi_poll(): no mailbox framework.
 */
#include <amplink/board.h>
#include <amplink/device.h>
#include <amplink/ipc/ipc_multi.h>
#include <amplink/ipc_service.h>

#include "common/doorbell.h"

/* This core's block region and the peer's (the default board's multi_rpu1_tx and multi_apu_tx). */
#define SHM_TX 0x3ed60000u
#define SHM_RX 0x3ed50000u
#define SHM_SIZE 0x10000u

static const struct ipc_multi_config ipc0_config = {
	.tx_mem = (void *)(uintptr_t)SHM_TX,
	.tx_size = SHM_SIZE,
	.rx_mem = (void *)(uintptr_t)SHM_RX,
	.rx_size = SHM_SIZE,
	.dcache_alignment = 64,
	.block_count = 32,
	AMPL_BOARD_MBOXES(&doorbell_consumer, DOORBELL_TX, DOORBELL_RX, &doorbell_fn),
};

static struct ipc_multi_data ipc0_data;

AMPL_DEVICE_DEFINE(ipc0, "ipc-multi-rpu1", "ipc_multi_rpu1", NULL, &ipc_multi_backend, &ipc0_config, &ipc0_data);

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

#if !AMPL_IPC_LINK_MBOX
void size_doorbell_rx(void)
{
	(void)ipc_multi_poll(&ipc0);
}
#endif

int main(void)
{
	if (size_doorbell_start() || ipc_service_open_instance(&ipc0) ||
	    ipc_service_register_endpoint(&ipc0, &ept, &ept_cfg))
		return 1;
	for (;;)
		size_wait_for_interrupt();
}
