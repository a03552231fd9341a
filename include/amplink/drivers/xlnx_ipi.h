/*
 * Xilinx ZynqMP / Versal IPI mailbox: a register-level controller in the mailbox framework, and Zephyr's IPM API
 * as a thin layer over it.
 *
 * For driver users and board code. One `struct xlnx_ipi_host` per local agent owns that agent's register block and
 * runs its interrupt handler. One `struct xlnx_ipi_mbox` per destination (one `xlnx,zynqmp-ipi-dest-mailbox` /
 * `xlnx,versal-ipi-dest-mailbox` child node) is a mailbox controller with two channels, as in Linux:
 *   channel 0 (TX)  requests to the remote: send_data copies the message into the request buffer and triggers;
 *                   TX done is polled (OBS drops when the remote acknowledges), or waited for by blocking senders
 *   channel 1 (RX)  requests from the remote: the interrupt handler copies the request buffer into a
 *                   `struct zynqmp_ipi_message` (len 32) and passes it to rx_callback, then acknowledges (ISR W1C)
 *
 * Buffers per destination (addresses from the SoC profile or the child node's regions):
 *   local_request   written here, read by the remote          local_response  written by the remote on ack
 *   remote_request  written by the remote, read here          remote_response written here before the ack
 * A doorbell-only destination (either side bufferless) has none: messages must be NULL or of length 0.
 *
 * Receive-side operations (struct mbox_chan_ops: hold, ack, redeliver, rx_enable, rx_data) on the RX channel: a
 * request can be held unacknowledged (its source masked) and acknowledged or released later; clients reach them
 * with ampl_mbox_hold() and the like (include/amplink/mailbox_client.h).
 *
 * Why IPM sits on the framework and not the reverse: the framework is the one place that owns queues, TX-done
 * state and channel ownership, so a driver implements one set of ops and both APIs get the same semantics (an IPM
 * device and a framework client cannot both drive one channel: the second gets -EBUSY). IPM is the generic driver
 * of include/amplink/ipm_mbox.h; the IPM path pays a channel lock and a queue slot per message; `make bench`
 * measures that cost.
 */
#ifndef AMPLINK_DRIVERS_XLNX_IPI_H
#define AMPLINK_DRIVERS_XLNX_IPI_H

#include <amplink/io.h>
#include <amplink/ipm_mbox.h>
#include <amplink/mailbox_controller.h>
#include <amplink/soc_profile.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Compile-time options of the driver: parts a firmware that only exchanges IPM messages does not need. Each is 1 in
 * the hosted build (the virtual SoC uses them all) and 0 in firmware builds (AMPL_FIRMWARE_BUILD) unless the
 * firmware sets it; the structures are the same either way.
 *   AMPL_XLNX_IPI_SIGNALLING  signalling (doorbell) mode, xlnx_ipi_mbox_set_signalling(). A firmware that runs an
 *                             IPC backend over the IPI in that mode sets it; without it set_signalling(on)
 *                             answers -ENOTSUP and a NULL message is a request without data (request mode).
 *   AMPL_XLNX_IPI_HOTPLUG     the host's discards hook: a request the remote discarded while offline is reported
 *                             -ESHUTDOWN (last_tx_result). Without it the hook is not read (no last_tx_result op).
 *   AMPL_XLNX_IPI_HOLD        the receive side's hold, ack and redeliver ops (ampl_mbox_hold() and the like).
 *                             Default: on with IPM's asynchronous mode (AMPL_IPM_ASYNC) or the acceptance filter
 *                             (AMPL_CONFIG_IPI_FILTER), which use them. Without it a request is acknowledged once
 *                             its callback returns.
 */
#ifndef AMPL_XLNX_IPI_SIGNALLING
#define AMPL_XLNX_IPI_SIGNALLING (!AMPL_FIRMWARE_BUILD)
#endif
#ifndef AMPL_XLNX_IPI_HOTPLUG
#define AMPL_XLNX_IPI_HOTPLUG (!AMPL_FIRMWARE_BUILD)
#endif
#ifndef AMPL_XLNX_IPI_HOLD
#if AMPL_IPM_ASYNC || defined(AMPL_CONFIG_IPI_FILTER)
#define AMPL_XLNX_IPI_HOLD 1
#else
#define AMPL_XLNX_IPI_HOLD 0
#endif
#endif
#if defined(AMPL_CONFIG_IPI_FILTER) && !AMPL_XLNX_IPI_HOLD
#error "the IPI acceptance filter (AMPL_CONFIG_IPI_FILTER) holds requests: it needs AMPL_XLNX_IPI_HOLD"
#endif

/** Linux's IPI message (drivers/mailbox/zynqmp-ipi-mailbox.c): @len bytes of @data. */
struct zynqmp_ipi_message {
	size_t len;
	uint8_t data[];
};

#define XLNX_IPI_TX_CHAN 0
#define XLNX_IPI_RX_CHAN 1
#define XLNX_IPI_POLL_PERIOD_MS 1u

/** Default bound on ipm_send(wait) for the remote's acknowledgement (TF-A uses 0x4000 us; we allow 1 s). */
#define XLNX_IPI_ACK_TIMEOUT_US IPM_MBOX_ACK_TIMEOUT_US

/* Interrupt lines of one local agent (xlnx_ipi_route()): line 0 and three more. */
#define XLNX_IPI_NUM_LINES 4u

struct xlnx_ipi_mbox;
struct xlnx_ipi_filter;

/** A line's handler (xlnx_ipi_line_connect()): called for each request from @source (its bit) that line takes. */
typedef void (*xlnx_ipi_line_fn)(void *arg, unsigned line, uint32_t source);

/** One local agent. Private fields; set up with xlnx_ipi_host_init(). */
struct xlnx_ipi_host {
	struct ampl_io_region regs;
	uint32_t valid_mask;
	AMPL_ATOMIC(struct xlnx_ipi_mbox *) by_bit[32]; /* destination for each source bit, read by the interrupt handler */
	/*
	 * Optional platform hook for hotplug: how many of this agent's requests the agent with bit @bit discarded
	 * (because it went offline). A request whose count moved while it was in flight was not consumed, and is
	 * reported as failed (-ESHUTDOWN) instead of done. NULL on hardware without hotplug; read only with
	 * AMPL_XLNX_IPI_HOTPLUG.
	 */
	uint32_t (*discards)(void *ctx, unsigned bit);
	void *discards_ctx;
	/* Routing (zero-initialised: every source on line 0). line_src[l], l >= 1: the sources routed to line l; line 0
	 * takes the sources of no other line. */
	AMPL_ATOMIC(uint32_t) line_src[XLNX_IPI_NUM_LINES];
	AMPL_ATOMIC(xlnx_ipi_line_fn) line_fn[XLNX_IPI_NUM_LINES];
	AMPL_ATOMIC(void *) line_arg[XLNX_IPI_NUM_LINES];
	AMPL_ATOMIC(uint32_t) masked; /* sources masked by xlnx_ipi_mask() */
	AMPL_ATOMIC(uint32_t) busy;   /* sources a line's handler is delivering */
	AMPL_ATOMIC(uint32_t) missed; /* sources a line's handler found busy: the one delivering looks again */
};

/** One destination: a mailbox controller with a TX and an RX channel. Set up with xlnx_ipi_mbox_init(). */
struct xlnx_ipi_mbox {
	struct mbox_controller ctrl;
	struct mbox_chan chans[2];
	struct xlnx_ipi_host *host;
	uint32_t remote_mask;
	bool buffered;
	struct ampl_io_region local_req, local_resp, remote_req, remote_resp;
	/* private */
	AMPL_ATOMIC(uint32_t) tx_discards; /* written by send_data, read by whoever polls */
	AMPL_ATOMIC(uint32_t) tx_gen;   /* requests triggered */
	AMPL_ATOMIC(uint32_t) idle_gen; /* tx_gen at which OBS was last seen clear: no register read needed */
	AMPL_ATOMIC(bool) rx_enabled;  /* the RX channel wants its interrupt */
	AMPL_ATOMIC(bool) held;        /* a request is held unacknowledged (the hold op) */
	bool hold_req;           /* set by the client during rx_callback (interrupt context only) */
	AMPL_ATOMIC(bool) signalling;  /* doorbell mode (xlnx_ipi_mbox_set_signalling) */
	AMPL_ATOMIC(bool) sig_done;    /* the message in flight is a doorbell, done once triggered or coalesced */
	/* Acceptance filter (include/amplink/drivers/xlnx_ipi_filter.h); present in every build, used only with
	 * AMPL_CONFIG_IPI_FILTER. */
	AMPL_ATOMIC(struct xlnx_ipi_filter *) filter;
	AMPL_ATOMIC(bool) filter_held; /* the held request was refused by the filter (refuse-hold), not held by the client */
	AMPL_ATOMIC(bool) filter_pass; /* the next delivery skips the filter (xlnx_ipi_filter_release(deliver)) */
	struct {
		size_t len;
		AMPL_ALIGNAS(8) uint8_t data[AMPL_IPI_BUF_SIZE];
	} rx_msg;
};

/** xlnx_ipi_host_init() - set up the local agent. Masks and clears nothing. Return: 0; -EINVAL. */
int xlnx_ipi_host_init(struct xlnx_ipi_host *host, const struct ampl_io_region *regs, uint32_t valid_mask);

/**
 * xlnx_ipi_mbox_init() - set up one destination and register it as a controller named @node.
 * Fill host, remote_mask, buffered and the four regions (when buffered) first.
 * Return: 0; -EINVAL (bad configuration); -EEXIST (the host has a destination for that agent, or @node is
 * registered). Context: thread.
 */
int xlnx_ipi_mbox_init(struct xlnx_ipi_mbox *m, const char *node);

/**
 * struct xlnx_ipi_mbox_config - one destination's constant settings, as firmware configured at build time has them
 * (`amplink dt gen` writes <destination>_MBOX_CONFIG beside a zeroed <destination>_MBOX and <local agent>_HOST).
 * Constant, they stay in flash; the objects the driver writes are zero-initialised, so they take RAM only (an
 * initialised struct xlnx_ipi_mbox would put its whole size, channels and message queues included, in flash too).
 * @host:        the local agent, set up by the first of its destinations' xlnx_ipi_mbox_setup() calls
 * @host_regs:   its register block (this core's address)
 * @valid_mask:  the agent bits of the SoC
 * @remote_mask: the destination's agent bit
 * @buffered:    with message buffers (the four regions); @signalling: doorbell mode
 */
struct xlnx_ipi_mbox_config {
	struct xlnx_ipi_host *host;
	struct ampl_io_region host_regs;
	uint32_t valid_mask, remote_mask;
	bool buffered, signalling;
	struct ampl_io_region local_req, local_resp, remote_req, remote_resp;
};

/**
 * xlnx_ipi_mbox_setup() - xlnx_ipi_mbox_init() with the settings of @cfg: set its host up if that is not done yet
 * (xlnx_ipi_host_init()), copy the settings into @m (zeroed, or removed), register it as a controller named @node.
 * Return: as xlnx_ipi_mbox_init(); -EINVAL also for a NULL @cfg or host. Context: thread.
 */
int xlnx_ipi_mbox_setup(struct xlnx_ipi_mbox *m, const struct xlnx_ipi_mbox_config *cfg, const char *node);

/** xlnx_ipi_mbox_remove() - unregister (clients see -ENODEV for their pending messages) and detach. */
void xlnx_ipi_mbox_remove(struct xlnx_ipi_mbox *m);

/** The destination a channel belongs to, or NULL if @chan is not an IPI channel. */
struct xlnx_ipi_mbox *xlnx_ipi_mbox_of(struct mbox_chan *chan);

/**
 * xlnx_ipi_isr() - the local agent's interrupt handler. For every pending, unmasked source with an RX client:
 * copy the request, apply the destination's acceptance filter if it has one (xlnx_ipi_filter.h: a refused request
 * is acknowledged or held, never delivered), run rx_callback, acknowledge (unless the client held it). A source without a client is masked
 * and left pending: the sender sees it pending, nothing is lost. Context: interrupt.
 */
void xlnx_ipi_isr(void *host);

/*
 * ---- Interrupt routing ----
 *
 * The IPI block raises one interrupt per agent. The driver splits it into XLNX_IPI_NUM_LINES lines: each source
 * (sending agent's bit) is routed to one line, line 0 by default, and xlnx_ipi_isr_line() handles only the sources
 * on its line. Each line can run in its own context (the virtual SoC gives each line its own thread; firmware can
 * call line 0 from the interrupt and the others from lower-priority contexts) and can have a handler that sees
 * each request the line takes. Every line's handler runs on every interrupt and picks out its sources.
 *
 * A route changes at run time without losing or duplicating a request: a source is delivered by one line's
 * handler at a time (a per-source claim), a handler that finds a source claimed leaves it to the claimant, which
 * looks at it again before it returns; during the change a request may be delivered by the line it left. After a
 * change run the new line's handler once (its source may be pending already).
 *
 * Compiled with AMPL_CONFIG_IPI_ROUTING (CMake option AMPL_IPI_ROUTING: on in the host build, off by default in the
 * freestanding core). Without it line 0 takes every source, xlnx_ipi_isr_line() handles line 0 only, and
 * xlnx_ipi_route() / xlnx_ipi_line_connect() answer -ENOTSUP. xlnx_ipi_mask() is in every build.
 */

/**
 * xlnx_ipi_route() - route the sources in @sources (bits of sending agents) to @line.
 * Return: 0; -EINVAL (NULL host, @line >= XLNX_IPI_NUM_LINES, or a bit outside the valid mask); -ENOTSUP (built
 * without AMPL_CONFIG_IPI_ROUTING). Context: any.
 */
int xlnx_ipi_route(struct xlnx_ipi_host *host, uint32_t sources, unsigned line);

/** xlnx_ipi_route_get() - the sources routed to @line (0 for a bad line or NULL host). Context: any. */
uint32_t xlnx_ipi_route_get(struct xlnx_ipi_host *host, unsigned line);

/**
 * xlnx_ipi_line_connect() - call @fn(@arg, line, source) for each request @line takes, in that line's context,
 * before the request goes to its channel's client; @fn NULL disconnects. The handler must not block.
 * Return: 0; -EINVAL (NULL host or bad line); -ENOTSUP (built without AMPL_CONFIG_IPI_ROUTING). Context: any.
 */
int xlnx_ipi_line_connect(struct xlnx_ipi_host *host, unsigned line, xlnx_ipi_line_fn fn, void *arg);

/** xlnx_ipi_isr_line() - the handler of interrupt line @line: xlnx_ipi_isr() for the sources on it.
 * xlnx_ipi_isr() is line 0. Context: interrupt (one context per line). */
void xlnx_ipi_isr_line(struct xlnx_ipi_host *host, unsigned line);

/**
 * xlnx_ipi_mask() - mask (true) or unmask (false) the sources in @sources, through IDR / IER. A masked source
 * interrupts no line; its requests stay pending (the sender sees them pending) and are delivered once it is
 * unmasked. The mask adds to the driver's own (a channel without a client, a held request): unmasking a source
 * whose channel does not want interrupts leaves it masked in IMR.
 * Return: 0; -EINVAL (NULL host, or a bit outside the valid mask). Context: any.
 */
int xlnx_ipi_mask(struct xlnx_ipi_host *host, uint32_t sources, bool mask);

/** xlnx_ipi_masked() - the sources masked by xlnx_ipi_mask(). Context: any. */
uint32_t xlnx_ipi_masked(struct xlnx_ipi_host *host);

/** xlnx_ipi_mbox_response_write() - on the RX channel: the response to the request being handled.
 * Return: 0; -EINVAL; -EMSGSIZE (> 32 bytes); -ENOTSUP (doorbell only). Context: rx_callback, or before ack. */
int xlnx_ipi_mbox_response_write(struct mbox_chan *rx, const void *data, size_t len);

/** xlnx_ipi_mbox_response_read() - on the TX channel: the remote's response to our last request (after TX done).
 * Return: 0; -EINVAL; -EMSGSIZE; -ENOTSUP. Context: any. */
int xlnx_ipi_mbox_response_read(struct mbox_chan *tx, void *buf, size_t len);

/**
 * xlnx_ipi_buf_write() / xlnx_ipi_buf_read() - @len bytes into / out of one of a destination's 32-byte buffers
 * @buf (@buffered: the destination has buffers), as the response functions of both IPM drivers use them; the read
 * is ordered after the acknowledgement that published the bytes. Return: 0; -EINVAL (NULL with a length);
 * -EMSGSIZE (> 32 bytes); -ENOTSUP (doorbell only).
 */
int xlnx_ipi_buf_write(const struct ampl_io_region *buf, bool buffered, const void *data, size_t len);
int xlnx_ipi_buf_read(const struct ampl_io_region *buf, bool buffered, void *dst, size_t len);

/**
 * xlnx_ipi_mbox_set_signalling() - put a destination in signalling (doorbell) mode, or back in request mode.
 *
 * For shared-memory protocols (ICMsg) that use the IPI only to say "look at the rings", as Zephyr's MU driver in
 * signalling mode: a pending doorbell is enough. In this mode:
 *   RX  the interrupt handler acknowledges (ISR W1C) BEFORE rx_callback, then calls it with NULL (no copy of the
 *       request buffer; no response can be given; ampl_mbox_hold() does nothing). So the receiver clears, then
 *       drains: anything the sender wrote before a doorbell that this acknowledgement clears is seen by the drain.
 *   TX  a NULL message while our previous doorbell is still pending (OBS set: the remote has not acknowledged)
 *       completes at once without a trigger (coalesced: the remote's drain, which follows its acknowledgement, will
 *       see our data); otherwise it triggers and is done at once too (TX done does not wait for the
 *       acknowledgement; the framework learns it at its next poll of the channel: mbox_client_tx_busy(), as ICMsg
 *       calls before each doorbell, or the TX tick). A message with data is a request as in request mode.
 * Both ends of the pair must use it (the coalescing relies on the remote clearing before draining).
 * Set it while the destination's channels are not in use.
 * Return: 0; -EINVAL (@m NULL); -ENOTSUP (@on in a build without AMPL_XLNX_IPI_SIGNALLING). Context: thread.
 */
int xlnx_ipi_mbox_set_signalling(struct xlnx_ipi_mbox *m, bool on);

/** xlnx_ipi_mbox_tx_pending() - our last request is not acknowledged yet (the OBS bit). */
bool xlnx_ipi_mbox_tx_pending(struct xlnx_ipi_mbox *m);

/**
 * xlnx_ipi_mbox_tx_discarded() - our last request was discarded instead of consumed: the remote's processor was
 * offline when it was triggered, or went offline before consuming it (hardware with hotplug only: the host's
 * discards hook; false without it or without AMPL_XLNX_IPI_HOTPLUG). Context: any.
 */
bool xlnx_ipi_mbox_tx_discarded(struct xlnx_ipi_mbox *m);

/* ---- IPM on top ----
 *
 * An IPM device over one destination is the generic IPM driver (include/amplink/ipm_mbox.h) on the destination's
 * TX and RX channels: its api is ipm_mbox_api (xlnx_ipi_ipm_api), its data a struct ipm_mbox_data, its init hook
 * xlnx_ipi_ipm_init(). A send while the destination's one request buffer holds a request the remote has not
 * acknowledged answers -EBUSY at once and writes nothing, with or without wait. The callback gets the request
 * buffer itself (valid until acknowledged).
 */

/** IPM channel flags. */
#define XLNX_IPI_ASYNC IPM_MBOX_ASYNC /* hold each message until ipm_complete() instead of acknowledging on return */

/** Constant configuration of an IPM device over one destination. */
struct xlnx_ipi_ipm_config {
	struct xlnx_ipi_mbox *mbox;
	uint32_t flags;          /* XLNX_IPI_ASYNC */
	uint32_t ack_timeout_us; /* ipm_send(wait) bound; 0: XLNX_IPI_ACK_TIMEOUT_US */
};

/** Mutable state of an IPM device: the generic driver's. Private. */
struct xlnx_ipi_ipm_data {
	struct ipm_mbox_data ipm;
};

#define xlnx_ipi_ipm_api ipm_mbox_api

/**
 * xlnx_ipi_ipm_init() - the init hook of an IPM device (AMPL_DEVICE_DEFINE's init): ipm_mbox_setup() on the
 * destination's channels. The device takes them at its first use (send, callback, enable); until then a framework
 * client may have them. Return: 0; -EINVAL.
 */
int xlnx_ipi_ipm_init(const struct ampl_device *dev);

/** xlnx_ipi_ipm_release() - give the channels back to the framework (device unused afterwards). */
#define xlnx_ipi_ipm_release ipm_mbox_release

/** Responses through an IPM device: as the xlnx_ipi_mbox_ functions, on the device's RX / TX channel. */
int xlnx_ipi_response_write(const struct ampl_device *dev, const void *data, size_t len);
int xlnx_ipi_response_read(const struct ampl_device *dev, void *buf, size_t len);

/** xlnx_ipi_pending() - true while our last request on @dev has not been acknowledged (OBS bit). */
bool xlnx_ipi_pending(const struct ampl_device *dev);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_DRIVERS_XLNX_IPI_H */
