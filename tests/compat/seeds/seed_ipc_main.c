/*
 * Runs the seed documents' IPC service example (compiled as written, beside this file) as RPU0 of the virtual
 * SoC: init_ipc_service() registers "my_endpoint" on ipc0 (the ICMsg instance; registration opens it, as Zephyr's
 * ICMsg backend does). It defines the `ept` the example uses without declaring it. Then it waits for the peer
 * (compat_peer seed-ipc, which sees the endpoint bind), which ends it with SIGTERM.
 */
#include <zephyr/ipc/ipc_service.h>
#include <zephyr/kernel.h>

struct ipc_ept ept;

void init_ipc_service(void);

int main(void)
{
	init_ipc_service();
	printk("seed: endpoint %s\n", ept.instance ? "registered" : "NOT registered");
	for (;;)
		k_msleep(1000);
	return 0;
}
