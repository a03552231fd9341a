/*
 * An MBOX echo written as a Zephyr application (the shape of an MBOX driver sample): a receive channel whose
 * callback hands each message to main(), which sends the value plus one on the transmit channel; a value of 0 ends
 * it. main() says hello first (0x600d). The channels are RPU0's IPI destination to the APU, 0 transmit and 1
 * receive. Built with no change against include/amplink/compat on the virtual SoC.
 */
#include <string.h>

#include <zephyr/device.h>
#include <zephyr/drivers/mbox.h>
#include <zephyr/kernel.h>

static const struct mbox_dt_spec tx_channel = { .dev = DEVICE_DT_GET(DT_NODELABEL(ipm0)), .channel_id = 0 };
static const struct mbox_dt_spec rx_channel = { .dev = DEVICE_DT_GET(DT_NODELABEL(ipm0)), .channel_id = 1 };

K_SEM_DEFINE(rx_sem, 0, 1);

static volatile uint32_t rx_value;

static void callback(const struct device *dev, mbox_channel_id_t channel_id, void *user_data, struct mbox_msg *data)
{
	uint32_t v = 0;

	(void)dev;
	(void)channel_id;
	(void)user_data;
	if (data && data->size >= sizeof(v))
		memcpy(&v, data->data, sizeof(v));
	rx_value = v;
	k_sem_give(&rx_sem);
}

static int send_value(uint32_t value)
{
	struct mbox_msg msg = { .data = &value, .size = sizeof(value) };
	int ret;

	/* -EBUSY: the peer has taken the last message but not acknowledged it yet; bounded at 1 s. */
	for (int tries = 0; (ret = mbox_send_dt(&tx_channel, &msg)) == -EBUSY && tries < 1000; tries++)
		k_usleep(1000);
	return ret;
}

int main(void)
{
	uint32_t n = 0;
	int ret;

	if (!mbox_is_ready_dt(&rx_channel)) {
		printk("mbox echo: device not ready\n");
		return 1;
	}
	printk("mbox echo: MTU %d, %u channels\n", mbox_mtu_get_dt(&tx_channel),
	       (unsigned)mbox_max_channels_get(tx_channel.dev));
	ret = mbox_register_callback_dt(&rx_channel, callback, NULL);
	if (ret < 0) {
		printk("mbox echo: mbox_register_callback failed: %d\n", ret);
		return 1;
	}
	ret = mbox_set_enabled_dt(&rx_channel, true);
	if (ret < 0) {
		printk("mbox echo: mbox_set_enabled failed: %d\n", ret);
		return 1;
	}
	if (send_value(0x600d) < 0)
		return 1;
	for (;;) {
		if (k_sem_take(&rx_sem, K_SECONDS(30))) {
			printk("mbox echo: no message within 30 s\n");
			return 1;
		}
		uint32_t value = rx_value + 1;
		ret = send_value(value);
		if (ret < 0) {
			printk("mbox echo: mbox_send failed: %d\n", ret);
			return 1;
		}
		if (value == 1)
			break;
		n++;
	}
	printk("mbox echo: %u messages echoed\n", (unsigned)n);
	return 0;
}
