/*
 * ICMsg between a Linux process and amplink firmware under QEMU, as test_fw_icmsg, against the image whose ICMsg and
 * IPC adapter are built without session mode and without deregistration (firmware/apps/icmsg_echo built as
 * icmsg_echo_fixed): classic bonding with amplink's size extension, round trips and a stream, polled and then with
 * UART interrupts.
 */
#include "fw_backends.h"
#include "fw_host.h"

int main(void)
{
	const struct fw_backend *const backends[] = { &fw_icmsg_classic };
	return fw_main(backends, 1);
}
