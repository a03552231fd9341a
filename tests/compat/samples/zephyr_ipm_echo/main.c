/*
 * An IPM echo written as a Zephyr application (the shape of an IPM driver sample): the callback hands each
 * message to a thread (K_THREAD_DEFINE), which sends the value plus one back through the same device; a value of 0
 * ends it. main() says hello first (0x600d). Built with no change against include/amplink/compat on the virtual SoC.
 */
#include <zephyr/device.h>
#include <zephyr/drivers/ipm.h>
#include <zephyr/kernel.h>

static const struct device *ipm = DEVICE_DT_GET(DT_NODELABEL(ipm0));

K_SEM_DEFINE(msg_sem, 0, 1);
K_SEM_DEFINE(ready_sem, 0, 1);

static volatile uint32_t last_value, last_id;

static void ipm_cb(const struct device *dev, void *context, uint32_t id, volatile void *data)
{
	(void)dev;
	(void)context;
	last_id = id;
	last_value = *(volatile uint32_t *)data;
	k_sem_give(&msg_sem);
}

static void echo_thread(void *p1, void *p2, void *p3)
{
	uint32_t n = 0;

	(void)p1;
	(void)p2;
	(void)p3;
	k_sem_take(&ready_sem, K_FOREVER);
	for (;;) {
		if (k_sem_take(&msg_sem, K_SECONDS(30))) {
			printk("ipm echo: no message within 30 s\n");
			return;
		}
		uint32_t value = last_value + 1;
		int ret;
		/* -EBUSY: the peer has taken our last answer but not acknowledged it yet; bounded at 1 s. */
		for (int tries = 0; (ret = ipm_send(ipm, 1, last_id, &value, sizeof(value))) == -EBUSY && tries < 1000;
		     tries++)
			k_usleep(1000);
		if (ret < 0) {
			printk("ipm echo: ipm_send failed: %d\n", ret);
			return;
		}
		if (value == 1)
			break;
		n++;
	}
	printk("ipm echo: %u messages echoed\n", (unsigned)n);
}

K_THREAD_DEFINE(echo_tid, 1024, echo_thread, NULL, NULL, NULL, 7, 0, 0);

int main(void)
{
	uint32_t hello = 0x600d;

	if (!device_is_ready(ipm)) {
		printk("ipm echo: device not ready\n");
		return 1;
	}
	ipm_register_callback(ipm, ipm_cb, NULL);
	if (ipm_set_enabled(ipm, 1) < 0) {
		printk("ipm echo: cannot enable\n");
		return 1;
	}
	printk("ipm echo: max data size %d\n", ipm_max_data_size_get(ipm));
	/* Tell the peer we are here, then let the thread answer: one send at a time on the device (-EBUSY). */
	int ret = ipm_send(ipm, 1, 0, &hello, sizeof(hello));
	k_sem_give(&ready_sem);
	return ret < 0;
}
