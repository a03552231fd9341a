/*
 * The virtual SoC's IPI seen from firmware under the emulator: a mailbox controller over the window's mailbox area
 * (<amplink/emu.h>, struct ampl_emu_mbox), rung through the emulator doorbell (emu_doorbell.h). The host end is the
 * bridge (src/sim/emu_bridge.c), which is the firmware's agent on the virtual SoC and relays to and from the IPI.
 *
 * For each mailbox channel i (one remote agent, e.g. the APU):
 *   controller channel 2i   ("tx")  to the remote: request mode, a message is NULL or 32 bytes (the request), done
 *                                   when the host acknowledged it (polled); doorbell mode, NULL, done at once
 *   controller channel 2i+1 ("rx")  from the remote: the request's 32 bytes (request mode) or NULL (doorbell mode)
 *   an IPM device (emu_ipm_api) on the same channel: Zephyr's ipm_send() / ipm_register_callback(), 32-byte
 *                                   messages, the response written with emu_ipm_response_write() in the callback
 * A channel is used through one of the two faces: an IPM callback takes the requests while it is enabled.
 *
 * The mode of each channel is the host's (written before the firmware starts): IPM wants request mode, ICMsg and
 * RPMsg doorbell mode.
 *
 * Contexts: init thread. Requests are delivered (IPM callback, rx_callback) from the doorbell's RX context: the UART
 * interrupt, or the caller of emu_doorbell_poll().
 */
#ifndef EMU_MBOX_H
#define EMU_MBOX_H

#include <amplink/emu.h>
#include <amplink/ipm.h>
#include <amplink/mailbox_controller.h>

#include "emu_doorbell.h"

/* -EPROTO (emu_mbox_init) is not in <amplink/errno.h>'s list; a board without a C library gets Linux's value. */
#ifndef EPROTO
#define EPROTO 71
#endif

/** Bound of ipm_send(wait) for the host's acknowledgement. */
#define EMU_MBOX_ACK_TIMEOUT_US 1000000u

struct emu_mbox;

/** struct emu_mbox_config - @area: the window's mailbox area; @db: the doorbell (initialised); @node: controller. */
struct emu_mbox_config {
	struct ampl_emu_mbox *area;
	struct emu_doorbell *db;
	const char *node;
};

/** IPM device over channel @chan of @mbox (AMPL_DEVICE_DEFINE's config; data: struct emu_ipm_data). */
struct emu_ipm_config {
	struct emu_mbox *mbox;
	unsigned chan;
};

struct emu_ipm_data {
	ipm_callback_t cb;
	void *user_data;
	volatile bool enabled;
};

/** struct emu_mbox - @mbox and @chans public (chans[2i] tx, chans[2i+1] rx). */
struct emu_mbox {
	struct mbox_controller mbox;
	struct mbox_chan chans[2 * AMPL_EMU_MBOX_CHANS];
	/* private */
	const struct emu_mbox_config *cfg;
	struct mbox_client ring_cl;
	struct mbox_chan *ring_tx;
	unsigned num;
	uint32_t mode[AMPL_EMU_MBOX_CHANS];
	uint32_t seen[AMPL_EMU_MBOX_CHANS];        /* to_fw.seq consumed */
	const struct ampl_device *ipm[AMPL_EMU_MBOX_CHANS]; /* the IPM device of each channel, once it was used */
	int resp_chan;                             /* the channel whose request is being delivered, or -1 */
	uint8_t rx_copy[AMPL_EMU_MBOX_DATA];
	uint32_t errors;                           /* protocol errors seen in the host's words */
};

/**
 * emu_mbox_init() - check the host's mailbox area (magic, channel count, modes), bind the doorbell's channels and
 * register the controller.
 * Return: 0; -EINVAL (NULL argument); -EPROTO (no mailbox area, or a count or mode out of range); the framework's
 * error. Context: thread, once.
 */
int emu_mbox_init(struct emu_mbox *m, const struct emu_mbox_config *cfg);

/** emu_mbox_mode() - the host's mode of channel @chan (AMPL_EMU_CHAN_*), AMPL_EMU_CHAN_UNUSED if none. */
uint32_t emu_mbox_mode(const struct emu_mbox *m, unsigned chan);

extern const struct ipm_driver_api emu_ipm_api;

/**
 * emu_ipm_response_write() - from the IPM callback: the response to the request being delivered (up to 32 bytes,
 * the rest zero). Return: 0; -EINVAL (not in the callback of this device); -EMSGSIZE; -ENOTSUP (doorbell mode).
 */
int emu_ipm_response_write(const struct ampl_device *dev, const void *data, size_t len);

/** emu_ipm_response_read() - after ipm_send(wait): the host's response. Return: 0; -EINVAL; -EMSGSIZE. */
int emu_ipm_response_read(const struct ampl_device *dev, void *buf, size_t len);

#endif /* EMU_MBOX_H */
