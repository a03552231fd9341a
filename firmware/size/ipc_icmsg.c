/*
 * Size image: the IPC service with the ICMsg backend (front end, ipc_icmsg adapter, icmsg, pbuf) and the mailbox
 * framework's thin doorbell path (its channel bound at build time: AMPL_MBOX_REGISTRY 0, the firmware default; the
 * `registry` configuration looks it up by name), over the trivial doorbell controller of common/doorbell.h. The
 * instance is the default board's
 * ipc_icmsg_rpu0, configured from devicetree at build time: scripts/cross.sh runs
 * `amplink dt gen --agent rpu0 --rx-buf-max 512 dts/zynqmp-apu-rpu0.dts -o board_gen`, and board_gen.c defines the
 * instance's device, configuration, receive buffer and mailbox consumer (no address is written here). One endpoint
 * echoes what it receives, so the receive path (doorbell interrupt -> icmsg -> received()) and the send path
 * (ipc_service_send -> pbuf -> doorbell) are both linked. With AMPL_IPC_LINK_MBOX 0 (the `no-mailbox`
 * configurations) the generated configuration rings the IPI destination through its doorbell function
 * (xlnx_ipi_direct_ring()), and the IPI interrupt calls icmsg_poll() when the APU rang: no mailbox framework and no
 * controller.
 */
#include <amplink/device.h>
#include <amplink/ipc/ipc_icmsg.h>
#include <amplink/ipc_service.h>

#include "board_gen.h"

#if AMPL_IPC_LINK_MBOX
/* The doorbell stands in for the IPI destination the instance's mboxes name: its name and its channels. */
#define DOORBELL_NODE AMPL_DT_PATH_STR(DT_NODELABEL(ipi_rpu0_apu))
#define DOORBELL_CHANS (AMPL_DT_IPI_MBOX(DT_NODELABEL(ipi_rpu0_apu))->chans)
#include "common/doorbell.h"
#else
#include "common/size_image.h"
#define IPI_APU AMPL_DT_IPI_CONFIG(DT_NODELABEL(ipi_rpu0_apu))
#endif

#define IPC0 DEVICE_DT_GET(DT_NODELABEL(ipc_icmsg_rpu0))

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
/* The IPI interrupt: the APU rang (acknowledged, then the ring is drained). */
void size_doorbell_irq(void)
{
	if (xlnx_ipi_direct_doorbell_taken(IPI_APU))
		(void)icmsg_poll(ipc_icmsg_link(IPC0));
}

static inline int size_doorbell_start(void)
{
	xlnx_ipi_direct_doorbell_enable(IPI_APU, true);
	return 0;
}
#endif

int main(void)
{
	if (size_doorbell_start() || ipc_service_open_instance(IPC0) ||
	    ipc_service_register_endpoint(IPC0, &ept, &ept_cfg))
		return 1;
	for (;;)
		size_wait_for_interrupt();
}
