/*
 * Size image: the RPMsg remote role (virtio device) on its own, as a firmware that talks to a Linux or amplink
 * host would link it: rpmsg_virtio_init_remote() (the resource table, the session entry), one named endpoint
 * announced through the name service, the doorbell interrupt delivering through rpmsg_virtio_notified(), and an
 * echo with rpmsg_trysend(). The doorbell is one register write (no mailbox framework), as rpmsg-lite's
 * platform layer does, so the figure compares with rpmsg-lite's linked core. The host role is not linked.
 */
#include <amplink/ipc/rpmsg.h>

#include "common/size_image.h"

/* The default board's rpmsg_shm, and the RPU0 IPI agent's registers (the APU is the peer). */
#define SHM_BASE 0x3ed80000u
#define SHM_SIZE 0x40000u
#define IPI_BASE 0xFF310000u
#define IPI_TRIG 0x00u
#define IPI_ISR 0x10u
#define IPI_APU 0x1u

static volatile uint32_t *ipi(uint32_t off)
{
	return (volatile uint32_t *)(uintptr_t)(IPI_BASE + off);
}

static void notify(void *priv, uint32_t notifyid)
{
	(void)priv;
	(void)notifyid;
	*ipi(IPI_TRIG) = IPI_APU;
}

static const struct rpmsg_virtio_config cfg = {
	.role = RPMSG_REMOTE,
	.shm = (void *)(uintptr_t)SHM_BASE,
	.shm_size = SHM_SIZE,
	.da_base = SHM_BASE,
	.notify = notify,
};

static struct rpmsg_device rdev;
static struct rpmsg_endpoint ept;

/* The doorbell interrupt's context: echo the message back to its sender. */
static int on_message(struct rpmsg_endpoint *e, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	(void)rpmsg_trysendto(e, data, (int)len, src);
	return RPMSG_SUCCESS;
}

void size_doorbell_irq(void)
{
	uint32_t isr = *ipi(IPI_ISR);
	*ipi(IPI_ISR) = isr;
	if (isr & IPI_APU)
		rpmsg_virtio_notified(&rdev);
}

int main(void)
{
	if (rpmsg_virtio_init_remote(&rdev, &cfg) ||
	    rpmsg_create_ept(&ept, &rdev, "echo", RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, on_message, NULL))
		return 1;
	for (;;)
		size_wait_for_interrupt();
}
