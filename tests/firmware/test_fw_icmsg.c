/*
 * ICMsg between a Linux process and amplink firmware on a Cortex-M4 under QEMU (mps2-an386), both sides the
 * library's own code, the rings in the window QEMU shares with this process (firmware/apps/icmsg_echo). Two
 * configurations, each polled and then with UART interrupts (bench/firmware/fw_host.h for the phases and checks):
 * classic bonding (with amplink's size extension), round trips and a stream; and session mode ("enable"), which
 * also survives the firmware killed and restarted mid-stream and this side closing and reopening.
 */
#include "fw_backends.h"
#include "fw_host.h"

int main(void)
{
	const struct fw_backend *const backends[] = { &fw_icmsg_classic, &fw_icmsg_session };
	return fw_main(backends, 2);
}
