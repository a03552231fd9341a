/*
 * The backend of test_fw_multi and of amplink bench --firmware (fw_backends.h).
 *
 * The multi-endpoint backend between a Linux process and amplink firmware on a Cortex-M4 under QEMU
 * (firmware/apps/multi), both the library's own code, the two regions in the window QEMU shares with this process.
 * Two endpoints bound by name: on MULTI_EPT0 both sides send by copy, on MULTI_EPT1 with zero-copy buffers
 * (get_tx_buffer, fill, send_nocopy). Polled and with UART interrupts; round trips, a stream, the firmware (the
 * initiator) killed and restarted mid-stream, and this side closing and reopening its instance
 * (bench/firmware/fw_host.h for the phases and checks).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <amplink/ipc/ipc_multi.h>
#include <amplink/ipc_service.h>

#include "fw_backends.h"
#include "fw_host.h"
#include "fw_layout.h"
#include "multi_echo.h"

static struct ipc_multi_config mcfg;
static struct ipc_multi_data mdata;
static struct ampl_device_state dstate;
static struct ampl_device inst = { .name = "ipc-multi-emu", .api = &ipc_multi_backend, .config = &mcfg, .data = &mdata,
			      .state = &dstate };
static struct ipc_ept epts[ECHO_MAX_EPT];

static void on_bound(void *priv)
{
	fw_bound(fw_current(), (unsigned)(uintptr_t)priv);
}

static void on_unbound(void *priv)
{
	fw_unbound(fw_current(), (unsigned)(uintptr_t)priv);
}

/* The link's receive thread (interrupt mode) or the test thread inside ampl_emu_link_poll() (polling mode). */
static void on_received(const void *data, size_t len, void *priv)
{
	fw_answer(fw_current(), (unsigned)(uintptr_t)priv, data, len);
}

static void on_error(const char *msg, void *priv)
{
	printf("multi-endpoint error (endpoint %u): %s\n", (unsigned)(uintptr_t)priv, msg);
}

static const struct ipc_ept_cfg ecfg[ECHO_MAX_EPT] = {
	{ .name = MULTI_EPT0, .priv = (void *)0,
	  .cb = { .bound = on_bound, .unbound = on_unbound, .received = on_received, .error = on_error } },
	{ .name = MULTI_EPT1, .priv = (void *)1,
	  .cb = { .bound = on_bound, .unbound = on_unbound, .received = on_received, .error = on_error } },
};

static int open_multi(struct fw_run *r)
{
	const struct fw_layout *l = fw_layout();
	if (!l)
		return -EINVAL;
	uint8_t *w = fw_window(r);
	mcfg = (struct ipc_multi_config){
		.tx_mem = w + l->multi_tx.off,
		.tx_size = l->multi_tx.size,
		.rx_mem = w + l->multi_rx.off,
		.rx_size = l->multi_rx.size,
		.dcache_alignment = l->multi_dcache,
		.block_size = l->multi_block_size,
		.block_count = l->multi_blocks,
		.inline_max = (uint8_t)l->multi_inline,
		.tx_chan = fw_tx_chan(r),
		.rx_chan = fw_rx_chan(r),
	};
	int e = ipc_service_open_instance(&inst);
	for (unsigned i = 0; !e && i < ECHO_MAX_EPT; i++)
		e = ipc_service_register_endpoint(&inst, &epts[i], &ecfg[i]);
	return e;
}

static int send_multi(struct fw_run *r, unsigned i, const uint8_t *msg, size_t len)
{
	(void)r;
	int e;
	if (i == 0) {
		e = ipc_service_send(&epts[0], msg, len);
		/* Sent, so bound in a session whose HELLO was read: the firmware's inline-max is the one its devicetree
		 * gave it (dts/emu-link.dts), and the short asks went inline. */
		uint8_t fw_inline = __atomic_load_n(&mdata.peer_inline, __ATOMIC_RELAXED);
		if (e >= 0 && fw_inline != fw_layout()->multi_inline) {
			printf("multi-endpoint: the firmware's HELLO says it takes %u bytes inline, its devicetree %u\n",
			       fw_inline, (unsigned)fw_layout()->multi_inline);
			return -EPROTO;
		}
		return e < 0 ? e : 0;
	}
	void *buf;
	uint32_t size = (uint32_t)len;
	e = ipc_service_get_tx_buffer(&epts[1], &buf, &size, AMPL_NO_WAIT);
	if (e)
		return e == -ENOBUFS ? -ENOMEM : e;
	memcpy(buf, msg, len);
	e = ipc_service_send_nocopy(&epts[1], buf, len);
	if (e < 0)
		(void)ipc_service_drop_tx_buffer(&epts[1], buf);
	return e < 0 ? e : 0;
}

static void close_multi(struct fw_run *r)
{
	(void)r;
	for (unsigned i = 0; i < ECHO_MAX_EPT; i++)
		(void)ipc_service_deregister_endpoint(&epts[i]);
	(void)ipc_service_close_instance(&inst);
}

const struct fw_backend fw_multi = {
	.name = "multi-endpoint",
	.image_env = "AMPL_FW_MULTI",
	.n_ept = ECHO_MAX_EPT,
	.restarts = true,
	.open = open_multi,
	.send = send_multi,
	.close = close_multi,
};
