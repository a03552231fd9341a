/*
 * Multi-endpoint echo firmware for mps2-an386 under QEMU: one instance of the library's multi-endpoint backend
 * (IPC service, docs/ipc_multi.md) with its two regions in the shared window, rung through the emulator doorbell,
 * and two endpoints bound by name: MULTI_EPT0 answers with copy sends, MULTI_EPT1 with zero-copy ones
 * (get_tx_buffer, fill, send_nocopy). Every ask is checked and answered by the echo protocol (common/echo.h).
 * The firmware's rx region is the lower one: it is the initiator and advertises its endpoints again after a
 * restart of either side.
 */
#include <amplink/ipc/ipc_multi.h>
#include <amplink/ipc_service.h>

#include "board_gen.h" /* dts/emu-link.dts for this board (firmware/emu_link.cmake) */
#include "fw_app.h"
#include "multi_echo.h"

#define NAME "multi"
#define ANSWER_RETRY_US 200000u /* how long an answer waits for free blocks before it counts as failed */
#define MULTI_NODE DT_NODELABEL(ipc_multi_fw)

static const struct ipc_multi_config ipc0_config = {
	.tx_mem = (uint8_t *)(uintptr_t)DT_REG_ADDR(DT_PHANDLE(MULTI_NODE, tx_region)),
	.tx_size = DT_REG_SIZE(DT_PHANDLE(MULTI_NODE, tx_region)),
	.rx_mem = (uint8_t *)(uintptr_t)DT_REG_ADDR(DT_PHANDLE(MULTI_NODE, rx_region)),
	.rx_size = DT_REG_SIZE(DT_PHANDLE(MULTI_NODE, rx_region)),
	.dcache_alignment = DT_PROP(MULTI_NODE, dcache_alignment),
	.block_count = DT_PROP(MULTI_NODE, block_count),
	.inline_max = DT_PROP(MULTI_NODE, inline_max),
	.tx_chan = &fw_db.chans[EMU_DOORBELL_TX],
	.rx_chan = &fw_db.chans[EMU_DOORBELL_RX],
};
static struct ipc_multi_data ipc0_data;
AMPL_DEVICE_DEFINE(ipc0, "ipc-multi-emu", "ipc_multi_emu", NULL, &ipc_multi_backend, &ipc0_config, &ipc0_data);

static struct ipc_ept epts[ECHO_MAX_EPT];
static uint8_t answer[ECHO_MSG_MAX];

static void on_bound(void *priv)
{
	echo_fw_rebind((unsigned)(uintptr_t)priv, true);
}

static void on_unbound(void *priv)
{
	echo_fw_rebind((unsigned)(uintptr_t)priv, false);
}

/* Endpoint 1: the answer is built straight in a buffer of the tx region. */
static int send_nocopy(struct ipc_ept *ept, const uint8_t *msg, size_t len)
{
	void *buf;
	uint32_t size = (uint32_t)len;
	int r = ipc_service_get_tx_buffer(ept, &buf, &size, AMPL_NO_WAIT);
	if (r)
		return r == -ENOBUFS ? -ENOMEM : r; /* no blocks free now: retried as a full ring is */
	uint8_t *p = buf;
	for (size_t i = 0; i < len; i++)
		p[i] = msg[i];
	r = ipc_service_send_nocopy(ept, buf, len);
	if (r < 0)
		(void)ipc_service_drop_tx_buffer(ept, buf);
	return r;
}

/* The RX context (UART interrupt, or the polling loop): one call at a time, so `answer` needs no lock. */
static void on_received(const void *data, size_t len, void *priv)
{
	unsigned i = (unsigned)(uintptr_t)priv;
	size_t total = echo_fw_answer(i, data, len, answer);
	uint64_t start = ampl_os_uptime_us();
	int r;
	do
		r = i == 0 ? ipc_service_send(&epts[0], answer, total) : send_nocopy(&epts[1], answer, total);
	while (r == -ENOMEM && ampl_os_uptime_us() - start < ANSWER_RETRY_US);
	echo_fw_sent(r < 0 ? r : 0, r == -EBUSY); /* -EBUSY: unbound (the host closed or restarted) */
}

static const struct ipc_ept_cfg ept_cfg[ECHO_MAX_EPT] = {
	{ .name = MULTI_EPT0, .priv = (void *)0,
	  .cb = { .bound = on_bound, .unbound = on_unbound, .received = on_received } },
	{ .name = MULTI_EPT1, .priv = (void *)1,
	  .cb = { .bound = on_bound, .unbound = on_unbound, .received = on_received } },
};

int main(void)
{
	(void)fw_app_start(NAME);
	fw_app_check_window(NAME, DT_REG_ADDR(DT_NODELABEL(emu_boot)));
	int r = ipc_service_open_instance(&ipc0);
	for (unsigned i = 0; !r && i < ECHO_MAX_EPT; i++)
		r = ipc_service_register_endpoint(&ipc0, &epts[i], &ept_cfg[i]);
	if (r)
		fw_app_fail(NAME, "multi-endpoint start failed, errno", r);
	fw_app_ready(NAME);
	return fw_app_run(NAME);
}
