/*
 * ICMsg between a Linux process and amplink firmware under QEMU, as test_fw_icmsg, against the image whose ICMsg and
 * IPC adapter are built without the mailbox in their link (firmware/apps/icmsg_echo built as icmsg_echo_nomailbox,
 * AMPL_IPC_LINK_MBOX=0: the instance rings through a doorbell function and the doorbell's interrupt calls
 * icmsg_poll()): classic bonding and session mode, round trips and a stream, polled and then with UART interrupts.
 */
#include "fw_backends.h"
#include "fw_host.h"

int main(void)
{
	const struct fw_backend *const backends[] = { &fw_icmsg_classic, &fw_icmsg_session };
	return fw_main(backends, 2);
}
