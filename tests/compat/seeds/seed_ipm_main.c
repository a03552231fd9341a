/*
 * Runs the seed documents' IPM examples (compiled as written, beside this file) as RPU0 of the virtual SoC:
 * setup_ipm() (basic operation: ipm0 enabled, an echo callback, 0x12345678 sent to the APU) and send_signal() (a
 * doorbell on mailbox0, towards RPU1, with id 0x12345678: the IPI takes no id, so it answers -EINVAL, which the
 * example ignores). access_shared() is linked, not run (its address is the SoC's). Then it waits for the peer
 * (compat_peer seed-ipm), which ends it with SIGTERM.
 */
#include <zephyr/kernel.h>

void setup_ipm(void);
void send_signal(void);
void access_shared(void);

int main(void)
{
	void (*volatile linked)(void) = access_shared;
	(void)linked;
	setup_ipm();
	send_signal();
	for (;;)
		k_msleep(1000);
	return 0;
}
