/*
 * IPM over the mailbox framework: one generic driver of Zephyr's IPM API (include/amplink/ipm.h) on any mailbox
 * controller, as Zephyr's drivers/ipm/ipm_mbox.c puts IPM over MBOX. An IPM device is, per message id, a TX channel
 * to the remote and an RX channel from it (either side may be absent: a one-way device); it uses the controller
 * only through struct mbox_chan_ops, so a controller that implements the framework's operations gets IPM without
 * IPM code. Id n uses the channels tx + n and rx + n (consecutive channels of one controller).
 *
 *   ipm_send(wait=0)  -EBUSY while the controller still has our last message on the id's channel (its
 *                     last_tx_done), else the controller's send_data through ampl_mbox_send_now() (no queue, no
 *                     TX-done state machine: the channel registry of the framework is all it links); -ESHUTDOWN
 *                     when the controller's last_tx_result says the message was discarded (the remote offline)
 *   ipm_send(wait=1)  the same, then waits on the controller (its flush op, in slices) until the remote consumed
 *                     the message or another sender on the device wrote the id after it (which it can only do once
 *                     ours was consumed): 0; -ETIMEDOUT after ack_timeout_us (the message stays pending). With
 *                     IPM_MBOX_WAIT_IDLE (AMPL_NXP_MU_IPM) a busy id is waited for first (up to ack_timeout_us,
 *                     then -EBUSY: nothing written); without it -EBUSY at once.
 *                     Threads may send on one device at once: the check and the write are made under a lock, and
 *                     each caller's return code is true of its own message.
 *   callback          rx_callback -> the IPM callback with the id and the message (ampl_mbox_rx_data(): in device
 *                     memory when the controller hands it out, else its copy); acknowledged on return, or, with the
 *                     controller's hold op, held until ipm_complete() in asynchronous mode, or held and delivered
 *                     again once the device has a callback and is enabled (nothing is lost). Without hold (or
 *                     without AMPL_IPM_ASYNC) such a message is dropped, as Zephyr's ipm_mbox does.
 *   ipm_set_enabled   the RX channels' receive interrupts (the controller's rx_enable op); the device takes its
 *                     channels with the interrupts off (mbox_client.rx_off)
 *
 * Message format: a controller with raw_msg takes the device's size in bytes at the pointer (zero-padded); others a
 * struct mbox_sized_msg. Data: up to the device's size (its config, else the controller's max_msg_size), at most
 * IPM_MBOX_MAX_DATA bytes. The controller needs last_tx_done for -EBUSY and flush for wait.
 *
 * Portable: builds freestanding.
 */
#ifndef AMPLINK_IPM_MBOX_H
#define AMPLINK_IPM_MBOX_H

#include <amplink/ipm.h>
#include <amplink/trace.h>
#include <amplink/mailbox_controller.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * AMPL_NXP_MU_IPM (compile-time option): what the driver carries only for the NXP MU's IPM (nxp_mu_ipm_config()):
 * IPM_MBOX_WAIT_IDLE, and devices of several ids (IPM_MBOX_MAX_IDS 4). Default: 1 in the hosted build (the virtual
 * SoC has MUs), 0 in firmware builds (AMPL_FIRMWARE_BUILD), whose IPM over the IPI then does not link them; a
 * firmware with an MU sets it to 1. Without it ipm_mbox_setup() refuses IPM_MBOX_WAIT_IDLE (-ENOTSUP) and more ids
 * than IPM_MBOX_MAX_IDS (1 unless set, -EINVAL), and nxp_mu_ipm_config() answers -ENOTSUP.
 */
#ifndef AMPL_NXP_MU_IPM
#define AMPL_NXP_MU_IPM (!AMPL_FIRMWARE_BUILD)
#endif

/*
 * AMPL_IPM_ASYNC (compile-time option): messages held unacknowledged by the device: the asynchronous mode
 * (IPM_MBOX_ASYNC, ipm_complete()) and the hold of a message that arrives while the device has no callback or is
 * disabled (delivered again once it has one and is enabled). Default: 1 in the hosted build, 0 in firmware builds
 * (AMPL_FIRMWARE_BUILD), whose IPM then links neither the hold nor the controller's hold ops; a firmware that holds
 * messages sets it to 1. Without it ipm_mbox_setup() refuses IPM_MBOX_ASYNC (-ENOTSUP), ipm_complete() does
 * nothing, and a message that arrives while the device has no callback is acknowledged unread, as Zephyr's ipm_mbox
 * drops it. A disabled device needs no hold on a controller with rx_enable (the IPI): its interrupt is masked, its
 * messages stay pending at the hardware and come in once it is enabled, in either build.
 */
#ifndef AMPL_IPM_ASYNC
#define AMPL_IPM_ASYNC (!AMPL_FIRMWARE_BUILD)
#endif

/** Flags of a device. */
#define IPM_MBOX_ASYNC 0x1u     /* hold each message until ipm_complete(), not acknowledged on return (AMPL_IPM_ASYNC) */
#define IPM_MBOX_WAIT_IDLE 0x2u /* ipm_send(wait) waits for a busy id to be free (Zephyr's ipm_imx; AMPL_NXP_MU_IPM) */

/** Default bound on ipm_send(wait) for the remote to consume the message (Zephyr spins forever). */
#define IPM_MBOX_ACK_TIMEOUT_US 1000000u

/** The most bytes one message carries (the IPI's buffer). */
#define IPM_MBOX_MAX_DATA 32u

/*
 * The most message ids of one device (compile-time option): 4, the MU's four registers, with AMPL_NXP_MU_IPM; else
 * 1 (the IPI): the per-id loops and state go.
 */
#ifndef IPM_MBOX_MAX_IDS
#define IPM_MBOX_MAX_IDS (AMPL_NXP_MU_IPM ? 4u : 1u)
#endif

/**
 * struct ipm_mbox_config - a device on framework channels (ipm_mbox_init()).
 * @tx:             the channel of id 0 to the remote (id n: tx + n), or NULL (receive only)
 * @rx:             the channel of id 0 from the remote (id n: rx + n), or NULL (send only)
 * @num_ids:        message ids, 1..IPM_MBOX_MAX_IDS (0: 1)
 * @size:           bytes per message (0: the controller's max_msg_size), at most IPM_MBOX_MAX_DATA
 * @flags:          IPM_MBOX_ASYNC, IPM_MBOX_WAIT_IDLE
 * @ack_timeout_us: ipm_send(wait) bound; 0: IPM_MBOX_ACK_TIMEOUT_US; UINT32_MAX: no bound (Zephyr)
 */
struct ipm_mbox_config {
	struct mbox_chan *tx;
	struct mbox_chan *rx;
	uint32_t num_ids;
	uint32_t size;
	uint32_t flags;
	uint32_t ack_timeout_us;
};

/** The client of one id's channels of a device. Private. */
struct ipm_mbox_rx {
	struct mbox_client cl;
	struct ipm_mbox_data *d;
};

/** Mutable state of a device (its `data`). Private. */
struct ipm_mbox_data {
	struct ipm_mbox_config cfg;
	struct ipm_mbox_rx rx[IPM_MBOX_MAX_IDS];
	const struct ampl_device *self;
	AMPL_ATOMIC(ipm_callback_t) cb;
	AMPL_ATOMIC(void *) user_data;
	AMPL_ATOMIC(bool) enabled;
	AMPL_ATOMIC(uint32_t) refused; /* ids whose message is held because there was no callback or it was disabled */
	AMPL_ATOMIC(bool) bound;
	ampl_atomic_flag_t binding;
	ampl_atomic_flag_t tx_lock;                   /* the check and the write of a message */
	AMPL_ATOMIC(uint32_t) tx_seq[IPM_MBOX_MAX_IDS]; /* messages written per id (under tx_lock) */
#if AMPL_CONFIG_TRACE
	AMPL_ATOMIC(uint32_t) done_seq[IPM_MBOX_MAX_IDS]; /* the last of them traced as consumed (mbox.txdone) */
#endif
};

extern const struct ipm_driver_api ipm_mbox_api;

/**
 * ipm_mbox_setup() - set up the device @dev (api ipm_mbox_api, data a struct ipm_mbox_data) on the channels of
 * @cfg (copied), for a binding whose config is its own (the IPI's init hook calls it). The device takes its
 * channels at its first use (send, callback, enable); until then a framework client may have them, and then the
 * IPM calls answer -EBUSY.
 * Return: 0; -EINVAL (not such a device, no channel at all, an error pointer, more ids than IPM_MBOX_MAX_IDS, too
 * large a size); -ENOTSUP (IPM_MBOX_ASYNC on a controller without hold and ack or without AMPL_IPM_ASYNC,
 * IPM_MBOX_WAIT_IDLE without AMPL_NXP_MU_IPM). Context: thread.
 */
int ipm_mbox_setup(const struct ampl_device *dev, const struct ipm_mbox_config *cfg);

/** ipm_mbox_init() - the init hook of a device whose config is a struct ipm_mbox_config: ipm_mbox_setup(). */
int ipm_mbox_init(const struct ampl_device *dev);

/** ipm_mbox_release() - give the channels back to the framework (the device is unused afterwards). */
void ipm_mbox_release(const struct ampl_device *dev);

/** ipm_mbox_chan() - the device's RX channel (@rx) or TX channel of id 0, NULL if @dev is not a set-up device. */
struct mbox_chan *ipm_mbox_chan(const struct ampl_device *dev, bool rx);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_IPM_MBOX_H */
