/*
 * Zephyr's Inter-Processor Mailbox (IPM) API, with Zephyr's names, signatures and return codes.
 *
 * Terminology
 *   device   one mailbox channel from this core to one remote core (for the Xilinx IPI: one
 *            `xlnx,zynqmp-ipi-dest-mailbox` child node, i.e. one local agent / remote agent pair)
 *   message  up to ipm_max_data_size_get() bytes plus an id, delivered to the remote's callback
 *   consumed the remote's interrupt handler has finished with the message (the IPI: it cleared its ISR bit)
 *
 * A typical exchange with the Xilinx IPI (APU sends, RPU0 answers through the response buffer):
 *
 *     APU thread                    IPI model / silicon                     RPU0 interrupt context
 *     ipm_send(dev, 1, 0, req, n)
 *       copy req -> request buffer
 *       TRIG <- rpu0 bit      ----> RPU0.ISR |= apu bit, APU.OBS |= rpu0 bit
 *                                   irq(RPU0) = ISR & ~IMR != 0  ---->  cb(dev, ud, id, request buffer)
 *                                                                         xlnx_ipi_response_write(dev, r, n)
 *       wait OBS & rpu0 bit == 0    <---- RPU0 writes ISR (W1C) apu bit     (ack after the callback returns)
 *     returns 0
 *     xlnx_ipi_response_read(dev, buf, n)
 *
 * The size is not sent: the receiver learns the length from the id or its protocol, as in Zephyr.
 */
#ifndef AMPLINK_IPM_H
#define AMPLINK_IPM_H

#include <amplink/device.h>

#ifdef __cplusplus
extern "C" {
#endif

/** API version of this header (separate from any wire format version). */
#define AMPL_IPM_API_VERSION "1.0.0"

/**
 * ipm_callback_t - message received.
 * @ipmdev:    the device the message arrived on
 * @user_data: as given to ipm_register_callback()
 * @id:        the message id
 * @data:      the request buffer in device memory; valid until the callback returns (or, for a device in
 *             asynchronous mode, until ipm_complete()). Read it with volatile accesses.
 * Context: the receiving core's interrupt context. Must not block.
 */
typedef void (*ipm_callback_t)(const struct ampl_device *ipmdev, void *user_data, uint32_t id, volatile void *data);

/** Operations an IPM driver implements (Zephyr's struct ipm_driver_api). All are required except complete. */
struct ipm_driver_api {
	int (*send)(const struct ampl_device *ipmdev, int wait, uint32_t id, const void *data, int size);
	void (*register_callback)(const struct ampl_device *ipmdev, ipm_callback_t cb, void *user_data);
	int (*max_data_size_get)(const struct ampl_device *ipmdev);
	uint32_t (*max_id_val_get)(const struct ampl_device *ipmdev);
	int (*set_enabled)(const struct ampl_device *ipmdev, int enable);
	void (*complete)(const struct ampl_device *ipmdev);
};

/**
 * ipm_send() - send a message to the remote.
 * @ipmdev: the channel
 * @wait:   0: return at once after triggering; non-zero: return once the remote has consumed the message
 * @id:     message id, 0..ipm_max_id_val_get()
 * @data:   @size bytes to copy into the request buffer (may be NULL when @size is 0); stays the caller's
 * @size:   bytes to send, 0..ipm_max_data_size_get()
 *
 * Return:
 * * 0           sent (and, with @wait, consumed)
 * * -EBUSY      the remote has not consumed the previous message on this channel, or (drivers say which) another
 *               thread's ipm_send() on this device is in progress; nothing of this message was written
 * * -EMSGSIZE   @size is above ipm_max_data_size_get() (any data on a doorbell-only channel)
 * * -EINVAL     NULL device, negative size, NULL data with a size, or @id above ipm_max_id_val_get()
 * * -ETIMEDOUT  with @wait: the driver's acknowledgement timeout passed (amplink extension: Zephyr spins
 *               forever); the message stays pending and a later send answers -EBUSY until the remote consumes it
 * * -ESHUTDOWN  the remote's processor is offline, or went offline before consuming the message (amplink
 *               extension: hotplug of the virtual SoC, a firmware reset); the message was discarded, never
 *               answered; drivers without hotplug never return it
 * Context: thread; without @wait also interrupt context. Several threads may send on one device at once: each
 * gets the return code of its own message, and no message is lost, doubled or mixed with another.
 */
int ipm_send(const struct ampl_device *ipmdev, int wait, uint32_t id, const void *data, int size);

/**
 * ipm_register_callback() - set (or with @cb NULL, clear) the receive callback.
 * Register it before ipm_set_enabled(dev, 1). Context: thread.
 */
void ipm_register_callback(const struct ampl_device *ipmdev, ipm_callback_t cb, void *user_data);

/** ipm_max_data_size_get() - bytes in one message (32 for an IPI buffer, 0 for a doorbell-only channel). */
int ipm_max_data_size_get(const struct ampl_device *ipmdev);

/** ipm_max_id_val_get() - the highest id ipm_send() accepts (0 when NULL is passed). */
uint32_t ipm_max_id_val_get(const struct ampl_device *ipmdev);

/**
 * ipm_set_enabled() - enable or disable the receive interrupt of this channel.
 * Messages already pending are delivered as soon as it is enabled.
 * Return: 0; -EINVAL (NULL device, or not an inbound channel). Context: thread or interrupt.
 */
int ipm_set_enabled(const struct ampl_device *ipmdev, int enable);

/**
 * ipm_complete() - acknowledge the message held by a device in asynchronous mode.
 * The remote sees the message consumed (its ipm_send(wait) returns) only now. Does nothing when no message is
 * held or the driver acknowledges on return from the callback. Context: thread or interrupt.
 */
void ipm_complete(const struct ampl_device *ipmdev);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_IPM_H */
