/*
 * The multi-endpoint backend between a Linux process and amplink firmware on a Cortex-M4 under QEMU
 * (firmware/apps/multi), both the library's own code, the two regions in the window QEMU shares with this process.
 * Two endpoints bound by name: on MULTI_EPT0 both sides send by copy, on MULTI_EPT1 with zero-copy buffers
 * (get_tx_buffer, fill, send_nocopy). Polled and with UART interrupts; round trips, a stream, the firmware (the
 * initiator) killed and restarted mid-stream, and this side closing and reopening its instance
 * (bench/firmware/fw_host.h for the phases and checks).
 */
#include "fw_backends.h"
#include "fw_host.h"

int main(void)
{
	const struct fw_backend *const backends[] = { &fw_multi };
	return fw_main(backends, 1);
}
