/*
 * RPMsg between a Linux process (the host role: the virtio driver, which carves and posts the buffers) and amplink
 * firmware on a Cortex-M4 under QEMU (the remote role, firmware/apps/rpmsg_remote), both the library's own code
 * with OpenAMP's API, the resource table, vrings and buffers in the window QEMU shares with this process. The
 * firmware announces two endpoints through the name service; this side creates endpoints of those names, which
 * bind to the announcements, and the asks alternate between them. Polled and with UART interrupts; round trips, a
 * stream, the firmware killed and restarted mid-stream (the host sees the link go down, unbinds, and
 * re-initialises the vrings for the restarted remote's new session), and this side's device stopped and started
 * again (bench/firmware/fw_host.h for the phases and checks).
 */
#include "fw_backends.h"
#include "fw_host.h"

int main(void)
{
	const struct fw_backend *const backends[] = { &fw_rpmsg };
	return fw_main(backends, 1);
}
