/*
 * IPM over the mailbox framework: one generic driver of Zephyr's IPM API (include/amplink/ipm.h) on any mailbox
 * controller, as Zephyr's drivers/ipm/ipm_mbox.c puts IPM over MBOX. An IPM device is a TX channel to the remote
 * and an RX channel from it (either may be absent: a one-way device); it uses the controller only through
 * struct mbox_chan_ops, so a controller that implements the framework's operations gets IPM without IPM code.
 *
 *   ipm_send(wait=0)  -EBUSY while the controller still has our last message (the framework's channel is busy, or
 *                     its last_tx_done says the remote has not consumed it) or another thread's ipm_send() on the
 *                     device has not returned, else mbox_send_message(); -ESHUTDOWN when the controller's
 *                     last_tx_result says the message was discarded (the remote's processor offline)
 *   ipm_send(wait=1)  the same with tx_block: the framework waits on the controller (flush) for the remote
 *   thin path         (AMPL_IPM_MBOX_FRAMEWORK 0, firmware builds) the message goes out with ampl_mbox_send_now()
 *                     and wait waits with ampl_mbox_wait_sent(): the same answers, without the framework's queue
 *                     (the controller needs flush for wait, and last_tx_done for -EBUSY)
 *   callback          rx_callback -> the IPM callback with the message (ampl_mbox_rx_data(): in device memory when
 *                     the controller hands it out, else its copy); acknowledged on return, or, with the
 *                     controller's hold op, held until ipm_complete() in asynchronous mode, or held and delivered
 *                     again once the device has a callback and is enabled (nothing is lost). Without hold such a
 *                     message is dropped, as Zephyr's ipm_mbox does.
 *   ipm_set_enabled   the RX channel's receive interrupt (the controller's rx_enable op); the device takes its
 *                     channels with the interrupt off (mbox_client.rx_off)
 *
 * Message format: a controller with raw_msg takes max_msg_size bytes at the pointer (the MU's word, zero-padded);
 * others a struct mbox_sized_msg. Message ids: 0 only (one channel pair carries one id). Data: up to the TX
 * controller's max_msg_size, at most IPM_MBOX_MAX_DATA bytes.
 *
 * Portable: builds freestanding.
 */
#ifndef AMPLINK_IPM_MBOX_H
#define AMPLINK_IPM_MBOX_H

#include <amplink/ipm.h>
#include <amplink/mailbox_controller.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * AMPL_IPM_MBOX_FRAMEWORK (compile-time option): how ipm_send() reaches the controller. 1, the default of the
 * hosted build: through the mailbox framework (mbox_send_message(), the TX-done state machine). 0, the default of
 * firmware builds (AMPL_FIRMWARE_BUILD): the thin path, which leaves the framework's queue, ticker and
 * blocking-send code out of the image. ipm_send() sends only on an idle channel, so both answer the same; the
 * channels are released the way they were used. AMPL_XLNX_IPI_IPM_FRAMEWORK is its older name.
 */
#ifndef AMPL_IPM_MBOX_FRAMEWORK
#ifdef AMPL_XLNX_IPI_IPM_FRAMEWORK
#define AMPL_IPM_MBOX_FRAMEWORK AMPL_XLNX_IPI_IPM_FRAMEWORK
#else
#define AMPL_IPM_MBOX_FRAMEWORK (!AMPL_FIRMWARE_BUILD)
#endif
#endif

/** Flags of a device. */
#define IPM_MBOX_ASYNC 0x1u /* hold each message until ipm_complete() instead of acknowledging it on return */

/** Default bound on ipm_send(wait) for the remote to consume the message (Zephyr spins forever). */
#define IPM_MBOX_ACK_TIMEOUT_US 1000000u

/** The most bytes one message carries (the IPI's buffer). */
#define IPM_MBOX_MAX_DATA 32u

/**
 * struct ipm_mbox_config - a device on two framework channels (ipm_mbox_init()).
 * @tx:             the channel to the remote, or NULL (receive only)
 * @rx:             the channel from the remote, or NULL (send only)
 * @flags:          IPM_MBOX_ASYNC
 * @ack_timeout_us: ipm_send(wait) bound; 0: IPM_MBOX_ACK_TIMEOUT_US; UINT32_MAX: the framework's hour
 */
struct ipm_mbox_config {
	struct mbox_chan *tx;
	struct mbox_chan *rx;
	uint32_t flags;
	uint32_t ack_timeout_us;
};

/** Mutable state of a device (its `data`). Private. */
struct ipm_mbox_data {
	struct mbox_client cl;
	const struct ampl_device *self;
	struct mbox_chan *tx, *rx;
	uint32_t flags;
	uint32_t ack_timeout_us;
	AMPL_ATOMIC(ipm_callback_t) cb;
	AMPL_ATOMIC(void *) user_data;
	AMPL_ATOMIC(bool) enabled;
	AMPL_ATOMIC(bool) refused; /* a message is held because there was no callback or the device was disabled */
	AMPL_ATOMIC(bool) bound;
	ampl_atomic_flag_t binding;
	ampl_atomic_flag_t sending; /* an ipm_send() owns the TX channel, tx_msg and cl.tx_block / tx_tout */
	struct {
		size_t len;
		AMPL_ALIGNAS(8) uint8_t data[IPM_MBOX_MAX_DATA];
	} tx_msg;
};

extern const struct ipm_driver_api ipm_mbox_api;

/**
 * ipm_mbox_setup() - set up the device @dev (api ipm_mbox_api, data a struct ipm_mbox_data) on @tx and @rx, for a
 * binding whose config is its own (the IPI's init hook calls it). The device takes the channels at its first use
 * (send, callback, enable); until then a framework client may have them, and then the IPM calls answer -EBUSY.
 * Return: 0; -EINVAL (not such a device, no channel at all, an error pointer); -ENOTSUP (IPM_MBOX_ASYNC on a
 * controller without hold and ack). Context: thread.
 */
int ipm_mbox_setup(const struct ampl_device *dev, struct mbox_chan *tx, struct mbox_chan *rx, uint32_t flags,
		   uint32_t ack_timeout_us);

/** ipm_mbox_init() - the init hook of a device whose config is a struct ipm_mbox_config: ipm_mbox_setup(). */
int ipm_mbox_init(const struct ampl_device *dev);

/** ipm_mbox_release() - give the channels back to the framework (the device is unused afterwards). */
void ipm_mbox_release(const struct ampl_device *dev);

/** ipm_mbox_chan() - the device's RX channel (@rx) or TX channel, NULL if @dev is not a set-up device. */
struct mbox_chan *ipm_mbox_chan(const struct ampl_device *dev, bool rx);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_IPM_MBOX_H */
