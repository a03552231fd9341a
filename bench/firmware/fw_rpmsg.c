/*
 * The backend of test_fw_rpmsg and of amplink bench --firmware (fw_backends.h).
 *
 * RPMsg between a Linux process (the host role: the virtio driver, which carves and posts the buffers) and amplink
 * firmware on a Cortex-M4 under QEMU (the remote role, firmware/apps/rpmsg_remote), both the library's own code
 * with OpenAMP's API, the resource table, vrings and buffers in the window QEMU shares with this process. The
 * firmware announces two endpoints through the name service; this side creates endpoints of those names, which
 * bind to the announcements, and the asks alternate between them. Polled and with UART interrupts; round trips, a
 * stream, the firmware killed and restarted mid-stream (the host sees the link go down, unbinds, and
 * re-initialises the vrings for the restarted remote's new session), and this side's device stopped and started
 * again (bench/firmware/fw_host.h for the phases and checks).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <amplink/ipc/rpmsg.h>

#include "fw_backends.h"
#include "fw_host.h"
#include "fw_layout.h"
#include "rpmsg_link.h"
#include "rpmsg_remote.h"

static struct rpmsg_link link;
static struct rpmsg_ns_entry ns_table[4];
static struct rpmsg_endpoint epts[ECHO_MAX_EPT];
static const char *const names[ECHO_MAX_EPT] = { RPMSG_APP_EPT0, RPMSG_APP_EPT1 };

static unsigned index_of(const struct rpmsg_endpoint *ept)
{
	return (unsigned)(ept - epts);
}

/* The link's receive thread (interrupt mode) or the test thread inside ampl_emu_link_poll() (polling mode). */
static int on_message(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)src;
	(void)priv;
	if (len)
		fw_answer(fw_current(), index_of(ept), data, len);
	return RPMSG_SUCCESS;
}

static void on_unbind(struct rpmsg_endpoint *ept)
{
	fw_unbound(fw_current(), index_of(ept));
}

static void on_error(struct rpmsg_device *rdev, const char *msg)
{
	(void)rdev;
	printf("RPMsg error: %s\n", msg);
}

static int open_rpmsg(struct fw_run *r)
{
	const struct fw_layout *l = fw_layout();
	if (!l)
		return -EINVAL;
	memset(ns_table, 0, sizeof(ns_table));
	memset(epts, 0, sizeof(epts));
	link.vcfg = (struct rpmsg_virtio_config){
		.role = RPMSG_HOST,
		.shm = (uint8_t *)fw_window(r) + l->rpmsg.off,
		.shm_size = l->rpmsg.size,
		.da_base = l->rpmsg_da,
		.h2r_buf_size = l->rpmsg_h2r,
		.r2h_buf_size = l->rpmsg_r2h,
		.error = on_error,
		.ns_table = ns_table,
		.ns_table_len = 4,
	};
	int e = rpmsg_link_start(&link, fw_tx_chan(r), fw_rx_chan(r), rpmsg_virtio_init_host);
	for (unsigned i = 0; !e && i < ECHO_MAX_EPT; i++) {
		e = rpmsg_create_ept(&epts[i], &link.rdev, names[i], RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, on_message,
				     on_unbind);
		if (e)
			printf("rpmsg_create_ept(%s): %d\n", names[i], e);
	}
	return e;
}

static bool is_bound(struct fw_run *r, unsigned i)
{
	(void)r;
	return is_rpmsg_ept_ready(&epts[i]) != 0;
}

static int send_rpmsg(struct fw_run *r, unsigned i, const uint8_t *msg, size_t len)
{
	(void)r;
	int e = rpmsg_trysend(&epts[i], msg, (int)len);
	if (e >= 0)
		return 0;
	switch (e) {
	case RPMSG_ERR_NO_BUFF:
		rpmsg_virtio_poll(&link.rdev); /* take back the buffers the firmware returned */
		return -ENOMEM;
	case RPMSG_ERR_DEV_STATE:
	case RPMSG_ERR_ADDR:
		return -EBUSY;
	default:
		return e;
	}
}

static void close_rpmsg(struct fw_run *r)
{
	(void)r;
	for (unsigned i = 0; i < ECHO_MAX_EPT; i++)
		rpmsg_destroy_ept(&epts[i]);
	rpmsg_link_stop(&link);
}

const struct fw_backend fw_rpmsg = {
	.name = "RPMsg",
	.image_env = "AMPL_FW_RPMSG_REMOTE",
	.n_ept = ECHO_MAX_EPT,
	.restarts = true,
	.open = open_rpmsg,
	.send = send_rpmsg,
	.close = close_rpmsg,
	.is_bound = is_bound,
};
