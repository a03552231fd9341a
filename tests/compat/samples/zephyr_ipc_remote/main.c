/*
 * An IPC service remote written as a Zephyr application (the shape of an ipc_service sample's remote): it opens
 * the ICMsg instance ipc0, registers an endpoint, waits for the binding, and answers each request with the same
 * bytes, its first word plus one, until a request whose first word is 0. Built with no change against
 * include/amplink/compat on the virtual SoC.
 */
#include <string.h>

#include <zephyr/device.h>
#include <zephyr/ipc/ipc_service.h>
#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>

LOG_MODULE_REGISTER(ipc_remote, LOG_LEVEL_INF);

#define MSG_MAX 64

K_SEM_DEFINE(bound_sem, 0, 1);
K_SEM_DEFINE(rx_sem, 0, 1);

static uint8_t rx_buf[MSG_MAX];
static size_t rx_len;

static void ep_bound(void *priv)
{
	(void)priv;
	k_sem_give(&bound_sem);
}

static void ep_recv(const void *data, size_t len, void *priv)
{
	(void)priv;
	rx_len = len < sizeof(rx_buf) ? len : sizeof(rx_buf);
	memcpy(rx_buf, data, rx_len);
	k_sem_give(&rx_sem);
}

static struct ipc_ept_cfg ep_cfg = {
	.name = "ep0",
	.cb = {
		.bound = ep_bound,
		.received = ep_recv,
	},
};

static struct ipc_ept ep;

int main(void)
{
	const struct device *ipc0 = DEVICE_DT_GET(DT_NODELABEL(ipc0));
	uint32_t count = 0, word;
	int ret;

	if (!device_is_ready(ipc0)) {
		LOG_ERR("ipc0 is not ready");
		return 1;
	}
	ret = ipc_service_open_instance(ipc0);
	if (ret < 0 && ret != -EALREADY) {
		LOG_ERR("ipc_service_open_instance() failed: %d", ret);
		return 1;
	}
	ret = ipc_service_register_endpoint(ipc0, &ep, &ep_cfg);
	if (ret < 0) {
		LOG_ERR("ipc_service_register_endpoint() failed: %d", ret);
		return 1;
	}
	if (k_sem_take(&bound_sem, K_SECONDS(30))) {
		LOG_ERR("not bound within 30 s");
		return 1;
	}
	LOG_INF("bound");
	for (;;) {
		uint8_t reply[MSG_MAX];

		if (k_sem_take(&rx_sem, K_SECONDS(30))) {
			LOG_ERR("no request within 30 s");
			return 1;
		}
		if (rx_len < sizeof(word)) {
			LOG_ERR("short request: %u bytes", (unsigned)rx_len);
			return 1;
		}
		memcpy(reply, rx_buf, rx_len);
		memcpy(&word, reply, sizeof(word));
		word++;
		memcpy(reply, &word, sizeof(word));
		ret = ipc_service_send(&ep, reply, rx_len);
		if (ret < 0) {
			LOG_ERR("ipc_service_send() failed: %d", ret);
			return 1;
		}
		if (word == 1)
			break;
		count++;
	}
	LOG_INF("answered %u requests", (unsigned)count);
	k_msleep(100); /* the last answer on its way before the instance goes */
	return 0;
}
