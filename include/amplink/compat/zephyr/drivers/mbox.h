/*
 * Zephyr compatibility: <zephyr/drivers/mbox.h>, Zephyr's MBOX API (channels of a mailbox device, signalling or
 * data) on the virtual SoC, over amplink's mailbox framework. The device is an IPI destination
 * (DEVICE_DT_GET(DT_NODELABEL(ipi_rpu0_apu)) or device_get_binding()): channel 0 sends (XLNX_IPI_TX_CHAN), channel 1
 * receives (XLNX_IPI_RX_CHAN), as the devicetree's `mboxes = <&dest 0>, <&dest 1>` name them; MTU 32 bytes (0 on a
 * bufferless destination). A channel belongs to the MBOX API from its first use: the destination's IPM device and
 * a framework client cannot drive it as well (-EBUSY).
 *
 * Return codes
 *   mbox_send              0; -EINVAL (not an IPI destination, not channel 0, NULL device); -EMSGSIZE (above
 *                          the MTU); -EBUSY (the previous message is not consumed yet, or the channel is someone
 *                          else's); msg NULL: a doorbell (signalling)
 *   mbox_register_callback 0; -EINVAL (not channel 1); -EBUSY (the channel is someone else's)
 *   mbox_set_enabled       0; -EALREADY (already in that state); -EINVAL; -EBUSY
 *   mbox_mtu_get           the MTU; -EINVAL
 *   mbox_max_channels_get  2; 0 for a device that is not an IPI destination
 * Contexts: the callback runs in the agent's interrupt context (msg is valid until it returns; the request is
 * acknowledged on return); every call may be made from a thread or from the callback.
 * Not covered: MBOX_DT_SPEC_GET / DT_MBOX_* (`amplink dt gen` writes no mbox specifiers: fill struct mbox_dt_spec
 * with DEVICE_DT_GET and the channel number), the NXP MU, firmware (hosted only: src/compat/zephyr_mbox.c).
 */
#ifndef AMPLINK_COMPAT_ZEPHYR_DRIVERS_MBOX_H
#define AMPLINK_COMPAT_ZEPHYR_DRIVERS_MBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zephyr/device.h>
#include <zephyr/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t mbox_channel_id_t;

struct mbox_msg {
	const void *data;
	size_t size;
};

struct mbox_dt_spec {
	const struct device *dev;
	mbox_channel_id_t channel_id;
};

typedef void (*mbox_callback_t)(const struct device *dev, mbox_channel_id_t channel_id, void *user_data,
				struct mbox_msg *data);

int mbox_send(const struct device *dev, mbox_channel_id_t channel_id, const struct mbox_msg *msg);
int mbox_register_callback(const struct device *dev, mbox_channel_id_t channel_id, mbox_callback_t cb,
			   void *user_data);
int mbox_set_enabled(const struct device *dev, mbox_channel_id_t channel_id, bool enabled);
int mbox_mtu_get(const struct device *dev);
uint32_t mbox_max_channels_get(const struct device *dev);

static inline int mbox_send_dt(const struct mbox_dt_spec *spec, const struct mbox_msg *msg)
{
	return mbox_send(spec->dev, spec->channel_id, msg);
}

static inline int mbox_register_callback_dt(const struct mbox_dt_spec *spec, mbox_callback_t cb, void *user_data)
{
	return mbox_register_callback(spec->dev, spec->channel_id, cb, user_data);
}

static inline int mbox_set_enabled_dt(const struct mbox_dt_spec *spec, bool enabled)
{
	return mbox_set_enabled(spec->dev, spec->channel_id, enabled);
}

static inline int mbox_mtu_get_dt(const struct mbox_dt_spec *spec)
{
	return mbox_mtu_get(spec->dev);
}

static inline bool mbox_is_ready_dt(const struct mbox_dt_spec *spec)
{
	return device_is_ready(spec->dev);
}

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_COMPAT_ZEPHYR_DRIVERS_MBOX_H */
