/*
 * Xilinx ZynqMP / Versal IPI mailbox driver (register level), exposed through the IPM API.
 *
 * For driver users and board code. One `struct xlnx_ipi_host` per local agent owns that agent's register block and
 * runs its interrupt handler; one IPM device (a "channel") per remote agent, matching one
 * `xlnx,zynqmp-ipi-dest-mailbox` / `xlnx,versal-ipi-dest-mailbox` devicetree child node.
 *
 * Buffers, per channel (addresses from the SoC profile or from the child node's regions):
 *   local_request   written here, read by the remote           (what ipm_send() copies into)
 *   local_response  written by the remote when it acknowledges (read with xlnx_ipi_response_read())
 *   remote_request  written by the remote, read here           (what the callback's data points at)
 *   remote_response written here before acknowledging          (xlnx_ipi_response_write())
 * A doorbell-only channel (either side bufferless) has none: max data size 0, callback data NULL.
 *
 * The id of ipm_send() is not carried by the IPI hardware, so the only id is 0 (ipm_max_id_val_get() == 0) and a
 * larger id is -EINVAL rather than silently dropped (Zephyr's ipm_xlnx_ipi ignores it).
 */
#ifndef AMPLINK_DRIVERS_XLNX_IPI_H
#define AMPLINK_DRIVERS_XLNX_IPI_H

#include <amplink/io.h>
#include <amplink/ipm.h>
#include <amplink/soc_profile.h>

/** Default bound on ipm_send(wait) for the remote's acknowledgement (TF-A uses 0x4000 us; we allow 1 s). */
#define XLNX_IPI_ACK_TIMEOUT_US 1000000u

/** Channel flags. */
#define XLNX_IPI_ASYNC 0x1u /* hold each message until ipm_complete() instead of acknowledging on return */

struct xlnx_ipi_host;

/** Constant configuration of one channel (one remote agent). */
struct xlnx_ipi_chan_config {
	struct xlnx_ipi_host *host;
	uint32_t remote_mask;   /* the remote agent's bit */
	bool buffered;          /* false: doorbell only */
	uint32_t flags;         /* XLNX_IPI_ASYNC */
	uint32_t ack_timeout_us; /* ipm_send(wait) bound; UINT32_MAX waits forever, as Zephyr does */
	struct ampl_io_region local_req, local_resp, remote_req, remote_resp;
};

/** Mutable state of one channel. Private. */
struct xlnx_ipi_chan_data {
	_Atomic(ipm_callback_t) cb;
	void *_Atomic user_data;
	atomic_bool enabled; /* receive interrupt wanted by the user */
	atomic_bool held;    /* asynchronous mode: a message awaits ipm_complete() */
};

/** One local agent. Fields are private; set up with xlnx_ipi_host_init(). */
struct xlnx_ipi_host {
	struct ampl_io_region regs;        /* this agent's register block */
	const struct device *_Atomic by_bit[32]; /* channel for each source bit, read by the interrupt handler */
	uint32_t valid_mask;
};

extern const struct ipm_driver_api xlnx_ipi_ipm_api;

/**
 * xlnx_ipi_host_init() - set up the local agent.
 * @regs:       its register block
 * @valid_mask: the profile's valid bits
 * Masks nothing and clears nothing: requests already pending stay pending until a channel is enabled.
 * Return: 0; -EINVAL. Context: thread.
 */
int xlnx_ipi_host_init(struct xlnx_ipi_host *host, const struct ampl_io_region *regs, uint32_t valid_mask);

/**
 * xlnx_ipi_chan_init() - the device init hook of a channel (use as AMPL_DEVICE_DEFINE's init).
 * Attaches the channel to its host. The receive interrupt stays as it is (masked after reset) until
 * ipm_set_enabled(dev, 1).
 * Return: 0; -EINVAL (bad config); -EEXIST (the host already has a channel for that remote).
 */
int xlnx_ipi_chan_init(const struct device *dev);

/** xlnx_ipi_chan_detach() - undo xlnx_ipi_chan_init(): mask the source if this channel enabled it, detach. */
void xlnx_ipi_chan_detach(const struct device *dev);

/**
 * xlnx_ipi_isr() - the local agent's interrupt handler.
 * For every pending, unmasked source: calls that channel's callback with the remote request buffer, then
 * acknowledges (W1C ISR) unless the channel is asynchronous. A source with no channel or no callback is masked and
 * left pending, so nothing is lost and no interrupt storm follows. Context: interrupt.
 */
void xlnx_ipi_isr(void *host);

/**
 * xlnx_ipi_response_write() - write the response to the request being handled (before it is acknowledged).
 * Return: 0; -EINVAL (NULL); -EMSGSIZE (@len > 32); -ENOTSUP (doorbell-only channel).
 * Context: the callback, or a thread before ipm_complete() in asynchronous mode.
 */
int xlnx_ipi_response_write(const struct device *dev, const void *data, size_t len);

/**
 * xlnx_ipi_response_read() - read the remote's response to our last request (after ipm_send(wait) returned 0).
 * Return: 0; -EINVAL; -EMSGSIZE (@len > 32); -ENOTSUP (doorbell-only channel). Context: any.
 */
int xlnx_ipi_response_read(const struct device *dev, void *buf, size_t len);

/** xlnx_ipi_pending() - true while our last request on @dev has not been acknowledged (OBS bit). */
bool xlnx_ipi_pending(const struct device *dev);

#endif /* AMPLINK_DRIVERS_XLNX_IPI_H */
