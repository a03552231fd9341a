/*
 * RPMsg remote firmware for mps2-an386 under QEMU: the library's RPMsg remote role (OpenAMP's API) with its
 * resource table, vrings and the host's buffers in the shared window, rung through the emulator doorbell. It
 * announces two endpoints through the name service (RPMSG_APP_EPT0/1) and answers every ask by the echo protocol
 * (common/echo.h), to the address the ask came from. A restarted firmware writes a new session id into the table
 * it finds in the window, so the host re-initialises the vrings and both sides rebind.
 */
#include <amplink/ipc/rpmsg.h>

#include "board_gen.h" /* dts/emu-link.dts for this board (firmware/emu_link.cmake) */
#include "fw_app.h"
#include "rpmsg_link.h"
#include "rpmsg_remote.h"

#define NAME "rpmsg_remote"
#define ANSWER_RETRY_US 200000u /* how long an answer waits for a buffer of the host before it counts as failed */
#define RPMSG_NODE DT_NODELABEL(ipc_rpmsg_fw)
#define DEVICE_ADDRESS(node) DT_CAT(node, _DEVICE_ADDRESS) /* the region's device address, as dt gen names it */

static struct rpmsg_link link; /* configured in main(): zero-initialised, it costs no flash */
static struct rpmsg_endpoint epts[ECHO_MAX_EPT];
static uint8_t answer[ECHO_MSG_MAX];

static unsigned index_of(const struct rpmsg_endpoint *ept)
{
	return (unsigned)(ept - epts);
}

/* The doorbell's context (UART interrupt, or the polling loop): callbacks of the device run one at a time. */
static int on_message(struct rpmsg_endpoint *ept, void *data, size_t len, uint32_t src, void *priv)
{
	(void)priv;
	if (len == 0)
		return RPMSG_SUCCESS; /* a bind confirmation */
	size_t total = echo_fw_answer(index_of(ept), data, len, answer);
	/* The host takes its messages independently of us and posts the buffers again: waiting ends; bounded. */
	uint64_t start = ampl_os_uptime_us();
	int r;
	while ((r = rpmsg_trysendto(ept, answer, (int)total, src)) == RPMSG_ERR_NO_BUFF &&
	       ampl_os_uptime_us() - start < ANSWER_RETRY_US)
		;
	echo_fw_sent(r < 0 ? r : 0, r == RPMSG_ERR_DEV_STATE); /* the host stopped or restarted its device */
	return RPMSG_SUCCESS;
}

static void on_unbind(struct rpmsg_endpoint *ept)
{
	echo_fw_rebind(index_of(ept), false);
}

/* Link down (the host went, or restarted): what was in flight is gone; the next ask of each endpoint may skip it. */
static void on_link(struct rpmsg_device *rdev, bool up)
{
	(void)rdev;
	for (unsigned i = 0; i < ECHO_MAX_EPT; i++)
		echo_fw_rebind(i, up);
}

int main(void)
{
	static const char *const names[ECHO_MAX_EPT] = { RPMSG_APP_EPT0, RPMSG_APP_EPT1 };

	(void)fw_app_start(NAME);
	fw_app_check_window(NAME, DT_REG_ADDR(DT_NODELABEL(emu_boot)));
	link.vcfg = (struct rpmsg_virtio_config){
		.role = RPMSG_REMOTE,
		.shm = (uint8_t *)(uintptr_t)DT_REG_ADDR(DT_PHANDLE(RPMSG_NODE, memory_region)),
		.shm_size = DT_REG_SIZE(DT_PHANDLE(RPMSG_NODE, memory_region)),
		.da_base = DEVICE_ADDRESS(RPMSG_NODE),
		.vring_num = DT_PROP(RPMSG_NODE, amplink_vring_num),
		.link_cb = on_link,
	};
	int r = rpmsg_link_start(&link, &fw_db.chans[EMU_DOORBELL_TX], &fw_db.chans[EMU_DOORBELL_RX],
				 rpmsg_virtio_init_remote);
	if (r)
		fw_app_fail(NAME, "RPMsg start failed, errno", r);
	for (unsigned i = 0; i < ECHO_MAX_EPT; i++) {
		r = rpmsg_create_ept(&epts[i], &link.rdev, names[i], RPMSG_ADDR_ANY, RPMSG_ADDR_ANY, on_message,
				     on_unbind);
		if (r)
			fw_app_fail(NAME, "endpoint creation failed, code", r);
	}
	fw_app_ready(NAME);
	return fw_app_run(NAME);
}
