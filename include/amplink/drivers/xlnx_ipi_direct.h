/*
 * Zephyr's IPM API straight on the Xilinx IPI registers, without the mailbox framework: the register-level IPM
 * driver, for a remote core's firmware that only exchanges IPM messages (Zephyr's own ipm_xlnx_ipi driver has this
 * shape). One device per destination; its send and its interrupt handler touch only that destination's bit.
 *
 * Against the IPM device over the framework (include/amplink/drivers/xlnx_ipi.h, xlnx_ipi_ipm_api) it keeps the
 * same return codes, the same rule for a request nobody wants (masked and left pending: the sender sees it pending
 * and nothing is lost) and the same buffers: the callback gets the request buffer itself, valid until it returns,
 * and the response buffers are reached with xlnx_ipi_direct_response_write() / _read(). It leaves out what needs the
 * framework or a second client: channel ownership (nothing stops a framework client from driving the same
 * destination: use one or the other), asynchronous mode (ipm_complete() does nothing), signalling mode, interrupt
 * lines and the acceptance filter, the hotplug report (-ESHUTDOWN), tracing.
 *
 * Configuration: the destination's constant settings as `amplink dt gen` writes them (<destination>_IPI_CONFIG,
 * a struct xlnx_ipi_mbox_config: the local agent's registers, the remote's bit, the four buffers), of which this
 * driver reads host_regs, valid_mask, remote_mask, buffered and the regions; its host field is not used (NULL in
 * _IPI_CONFIG, so that the local agent's xlnx_ipi_host, which the framework's <destination>_MBOX_CONFIG points to,
 * is not linked: 216 bytes of RAM on Cortex-M4).
 *
 *   static const struct xlnx_ipi_direct_config cfg = { .ipi = AMPL_DT_IPI_CONFIG(IPI_APU) };
 *   static struct xlnx_ipi_direct_data data;
 *   AMPL_DEVICE_DEFINE(ipm_apu, "ipm-apu", NULL, xlnx_ipi_direct_init, &xlnx_ipi_direct_api, &cfg, &data);
 *   ...the IPI interrupt: xlnx_ipi_direct_isr(&ipm_apu), once per device of the local agent
 */
#ifndef AMPLINK_DRIVERS_XLNX_IPI_DIRECT_H
#define AMPLINK_DRIVERS_XLNX_IPI_DIRECT_H

#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/ipm.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * AMPL_XLNX_IPI_DIRECT (compile-time option, default 0): 1 makes the IPM device `amplink dt gen` writes for each IPI
 * destination (<destination>_DEVICE, DEVICE_DT_GET()) a device of this driver instead of the framework's IPM device,
 * on the same settings; the firmware's code does not change, only its interrupt handler calls
 * xlnx_ipi_direct_isr(). Build the generated board file with it.
 */
#ifndef AMPL_XLNX_IPI_DIRECT
#define AMPL_XLNX_IPI_DIRECT 0
#endif

/**
 * struct xlnx_ipi_direct_config - a device's constant settings.
 * @ipi:            the destination (see above)
 * @ack_timeout_us: how long ipm_send(wait) waits for the remote's acknowledgement; 0: XLNX_IPI_ACK_TIMEOUT_US
 */
struct xlnx_ipi_direct_config {
	const struct xlnx_ipi_mbox_config *ipi;
	uint32_t ack_timeout_us;
};

/** A device's state (zero-initialised). Private. */
struct xlnx_ipi_direct_data {
	AMPL_ATOMIC(ipm_callback_t) cb;
	AMPL_ATOMIC(void *) user_data;
	AMPL_ATOMIC(bool) enabled;
	ampl_atomic_flag_t tx_lock; /* a send's test of OBS and its trigger are one step */
};

extern const struct ipm_driver_api xlnx_ipi_direct_api;

/**
 * xlnx_ipi_direct_init() - the device's init hook: checks its configuration (one remote bit, inside the valid mask;
 * registers; the four buffers when buffered) and clears its state. The remote's interrupt is left as it is (masked
 * from reset) until ipm_set_enabled(). Return: 0; -EINVAL.
 */
int xlnx_ipi_direct_init(const struct ampl_device *dev);

/**
 * xlnx_ipi_direct_isr() - the IPI interrupt, for @dev's destination: if its remote has a request pending and the
 * device a callback and is enabled, run the callback with the request buffer (NULL for a doorbell-only
 * destination), then acknowledge (ISR W1C), after which the remote sees the request consumed. A request the device
 * does not want now is masked and left pending, and comes back with ipm_set_enabled(1) or a callback. A firmware
 * with several destinations calls it once per device. Context: interrupt (one at a time per device).
 */
void xlnx_ipi_direct_isr(const struct ampl_device *dev);

/*
 * ---- Doorbells for an IPC backend, on the same registers ----
 *
 * An ICMsg, multi-endpoint or RPMsg instance can ring an IPI destination without the mailbox framework: its
 * configuration's @doorbell is { xlnx_ipi_direct_ring, <destination>_IPI_CONFIG } (<amplink/ipc/link.h>; `amplink dt
 * gen` writes it with AMPL_IPC_LINK_MBOX 0), and the IPI interrupt calls the backend's poll when
 * xlnx_ipi_direct_doorbell_taken() says the remote rang. It is the protocol of the framework driver's signalling
 * mode (xlnx_ipi_mbox_set_signalling()), so either side may be the framework's: a ring while our previous one is
 * still pending is coalesced with it (the remote's drain, which follows its acknowledgement, sees the new data);
 * the receiver acknowledges before it drains.
 */

/**
 * xlnx_ipi_direct_ring() - ring the destination (@ipi: its const struct xlnx_ipi_mbox_config): after a full barrier
 * (the caller's ring writes before the test), trigger unless our previous doorbell is still pending. Context: any.
 */
void xlnx_ipi_direct_ring(const void *ipi);

/**
 * xlnx_ipi_direct_doorbell_taken() - the remote of @ipi rang: its ISR bit is set. Then acknowledge it (W1C) and
 * order the caller's drain after that (a full barrier), and return true; false if it did not ring. The remote's
 * interrupt stays as it is (unmask it once with xlnx_ipi_direct_doorbell_enable()). Context: interrupt.
 */
bool xlnx_ipi_direct_doorbell_taken(const struct xlnx_ipi_mbox_config *ipi);

/** xlnx_ipi_direct_doorbell_enable() - unmask (@on) or mask the remote's interrupt (IER / IDR). Context: any. */
void xlnx_ipi_direct_doorbell_enable(const struct xlnx_ipi_mbox_config *ipi, bool on);

/**
 * xlnx_ipi_direct_settings() - the constant settings of a destination that was set up at run time (a struct
 * xlnx_ipi_mbox, as the virtual SoC's agents have them) into @out, for a device of this driver on the same registers
 * and buffers; out->host is NULL. Only one of the two drivers may serve a destination's requests at a time.
 */
void xlnx_ipi_direct_settings(const struct xlnx_ipi_mbox *m, struct xlnx_ipi_mbox_config *out);

/** struct xlnx_ipi_direct_device - a device of this driver and everything it points at, set up at run time. */
struct xlnx_ipi_direct_device {
	struct xlnx_ipi_mbox_config ipi;
	struct xlnx_ipi_direct_config cfg;
	struct xlnx_ipi_direct_data data;
	struct ampl_device_state state;
	struct ampl_device dev;
};

/**
 * xlnx_ipi_direct_device_on() - set @d up as a device of this driver named @name on the destination @m (its settings
 * taken with xlnx_ipi_direct_settings()), with @ack_timeout_us as its configuration's bound, and initialise it
 * (xlnx_ipi_direct_init()); the device is not registered. Return: &d->dev; NULL if the initialisation refused it.
 */
const struct ampl_device *xlnx_ipi_direct_device_on(struct xlnx_ipi_direct_device *d, const struct xlnx_ipi_mbox *m,
						     const char *name, uint32_t ack_timeout_us);

/**
 * xlnx_ipi_direct_response_write() - the response to the request being handled (from its callback).
 * xlnx_ipi_direct_response_read() - the remote's response to our last request, once it was acknowledged.
 * Return: 0; -EINVAL (not a device of this driver, NULL buffer with a length); -EMSGSIZE (> 32 bytes); -ENOTSUP
 * (a doorbell-only destination).
 */
int xlnx_ipi_direct_response_write(const struct ampl_device *dev, const void *data, size_t len);
int xlnx_ipi_direct_response_read(const struct ampl_device *dev, void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_DRIVERS_XLNX_IPI_DIRECT_H */
