/*
 * An RPMsg echo written as an OpenAMP application (the shape of OpenAMP's echo demo): the machine layer gives the
 * RPMsg device, an endpoint is created with rpmsg_create_ept() and its callback sends each message back with
 * rpmsg_send() until the shutdown word arrives. Built with no change against include/amplink/compat on the virtual SoC.
 */
#include <stdio.h>
#include <string.h>

#include <metal/log.h>
#include <metal/sys.h>
#include <openamp/open_amp.h>

#include "platform_info.h"

#define RPMSG_SERVICE_NAME "rpmsg-openamp-demo-channel"
#define SHUTDOWN_MSG 0xEF56A55Au

#define LPRINTF(format, ...) printf(format, __VA_ARGS__)
#define LPERROR(format, ...) metal_log(METAL_LOG_ERROR, format, __VA_ARGS__)

static struct rpmsg_endpoint lept;
static volatile int shutdown_req;
static volatile unsigned int echoed;

static int rpmsg_endpoint_cb(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	uint32_t word;

	(void)priv;
	(void)src;
	if (len == 0)
		return RPMSG_SUCCESS; /* a host's bind confirmation */
	if (len == sizeof(word)) {
		memcpy(&word, data, sizeof(word));
		if (word == SHUTDOWN_MSG) {
			shutdown_req = 1;
			return RPMSG_SUCCESS;
		}
	}
	if (rpmsg_send(ept, data, (int)len) < 0)
		LPERROR("rpmsg_send failed (%u bytes)\n", (unsigned)len);
	else
		echoed++;
	return RPMSG_SUCCESS;
}

static void rpmsg_service_unbind(struct rpmsg_endpoint *ept)
{
	(void)ept;
	shutdown_req = 1;
}

static int app(struct rpmsg_device *rdev, void *priv)
{
	int ret = rpmsg_create_ept(&lept, rdev, RPMSG_SERVICE_NAME, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY,
				   rpmsg_endpoint_cb, rpmsg_service_unbind);
	if (ret) {
		LPERROR("Failed to create endpoint: %d\n", ret);
		return -1;
	}
	LPRINTF("%s\n", "Waiting for messages");
	while (!shutdown_req)
		platform_poll(priv);
	rpmsg_destroy_ept(&lept);
	LPRINTF("echoed %u messages\n", echoed);
	return 0;
}

int main(int argc, char *argv[])
{
	struct metal_init_params params = METAL_INIT_DEFAULTS;
	struct rpmsg_device *rpdev;
	void *platform;
	int ret;

	metal_init(&params);
	ret = platform_init(argc, argv, &platform);
	if (ret) {
		LPERROR("Failed to initialize platform: %d\n", ret);
		return 2;
	}
	rpdev = platform_create_rpmsg_vdev(platform, 0, VIRTIO_DEV_DEVICE, NULL, NULL);
	if (!rpdev) {
		LPERROR("%s\n", "Failed to create rpmsg virtio device");
		ret = -1;
	} else {
		ret = app(rpdev, platform);
		platform_release_rpmsg_vdev(rpdev, platform);
	}
	platform_cleanup(platform);
	metal_finish();
	return ret ? 1 : 0;
}
