/*
 * Xilinx IPI controller: register level, through I/O-region accessors only.
 * Protocol as TF-A and embeddedsw drive the block: send = copy request, TRIG <- dest bit; pending = OBS & bit;
 * acknowledge = ISR <- source bit (W1C), which drops the sender's OBS bit; mask/unmask with IDR/IER.
 * The silicon has no "acknowledged" interrupt, so TX done is polled (Linux: txdone_poll as well).
 */
#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/drivers/xlnx_ipi_filter.h>
#include <amplink/trace.h>

#include "xlnx_ipi_filter_hook.h"

static const struct mbox_chan_ops ipi_ops;

/* The destination of @chan, a channel of one (the channel operations: the framework calls them on its channels). */
static struct xlnx_ipi_mbox *ipi_of(struct mbox_chan *chan)
{
	return AMPL_CONTAINER_OF(chan->mbox, struct xlnx_ipi_mbox, ctrl);
}

static unsigned bit_index(uint32_t mask)
{
	return (unsigned)__builtin_ctz(mask);
}

struct xlnx_ipi_mbox *xlnx_ipi_mbox_of(struct mbox_chan *chan)
{
	if (!chan || AMPL_IS_ERR(chan) || !chan->mbox || chan->mbox->ops != &ipi_ops)
		return NULL;
	return ipi_of(chan);
}

static bool is_tx(struct xlnx_ipi_mbox *m, struct mbox_chan *chan)
{
	return chan == &m->chans[XLNX_IPI_TX_CHAN];
}

/* The remote's count of our requests it discarded (AMPL_XLNX_IPI_HOTPLUG; 0 without the host's hook). */
static uint32_t discards(struct xlnx_ipi_mbox *m)
{
	struct xlnx_ipi_host *h = m->host;
	return AMPL_XLNX_IPI_HOTPLUG && h->discards ? h->discards(h->discards_ctx, bit_index(m->remote_mask)) : 0;
}

/* The message in flight is a doorbell of signalling mode, done once triggered or coalesced. */
static bool sig_done(struct xlnx_ipi_mbox *m)
{
	return AMPL_XLNX_IPI_SIGNALLING && atomic_load_explicit(&m->sig_done, memory_order_relaxed);
}

int xlnx_ipi_host_init(struct xlnx_ipi_host *host, const struct ampl_io_region *regs, uint32_t valid_mask)
{
	if (!host || !regs)
		return -EINVAL;
	ampl_memset(host, 0, sizeof(*host));
	host->regs = *regs;
	host->valid_mask = valid_mask;
	return 0;
}

bool xlnx_ipi_mbox_tx_discarded(struct xlnx_ipi_mbox *m)
{
	return AMPL_XLNX_IPI_HOTPLUG && m && discards(m) != m->tx_discards;
}

/*
 * Our OBS bit can only be set by our own trigger, so once it was seen clear after the last trigger it stays clear:
 * remember that instead of reading the register again (a read that costs a cross-core miss right before every
 * send). tx_gen is bumped after each trigger, so a reader that loaded generation g and then saw OBS clear knows
 * the first g requests are done; a later trigger moves tx_gen past idle_gen. Triggers come from the channel's
 * owner only (send_data runs under the channel lock) and every reader of a message's state runs after send_data
 * returned, so the window between a trigger and its tx_gen bump is never observed. (Two processes driving the same
 * agent's channel to the same remote would defeat this, as they would on the silicon.) Only where the registers may
 * be a model in shared memory (AMPL_IO_OPS): on the silicon's registers the read costs what the remembering would.
 */
#define TX_IDLE_CACHE AMPL_IO_OPS

bool xlnx_ipi_mbox_tx_pending(struct xlnx_ipi_mbox *m)
{
	if (!TX_IDLE_CACHE)
		return (ampl_io_read32(&m->host->regs, AMPL_IPI_OBS) & m->remote_mask) != 0;
	uint32_t g = atomic_load(&m->tx_gen);
	if (atomic_load(&m->idle_gen) == g)
		return false;
	bool pending = (ampl_io_read32(&m->host->regs, AMPL_IPI_OBS) & m->remote_mask) != 0;
	if (!pending)
		atomic_store(&m->idle_gen, g);
	return pending;
}

/* ---- channel operations ---- */

static int ipi_send_data(struct mbox_chan *chan, void *data)
{
	struct xlnx_ipi_mbox *m = ipi_of(chan);
	if (!is_tx(m, chan))
		return -EINVAL;
	const struct zynqmp_ipi_message *msg = (const struct zynqmp_ipi_message *)data;
	size_t len = msg ? msg->len : 0;
	/* No silent truncation at this layer: a message must fit the 32-byte buffer. */
	if (len > (m->buffered ? AMPL_IPI_BUF_SIZE : 0u))
		return -EMSGSIZE;
	bool doorbell = AMPL_XLNX_IPI_SIGNALLING && !msg && atomic_load_explicit(&m->signalling, memory_order_relaxed);
	if (AMPL_XLNX_IPI_SIGNALLING)
		atomic_store_explicit(&m->sig_done, doorbell, memory_order_relaxed);
	if (doorbell) {
		/*
		 * Signalling mode: coalesce with a doorbell still pending. Ordering (a Dekker pair on the remote's ISR
		 * word, from which our OBS bit is derived; on silicon the same with DMB/DSB around the register
		 * accesses):
		 *   here:   the caller's ring write (wr_idx published) ; full barrier ; read OBS
		 *   remote: W1C of ISR (drops our OBS bit)            ; full barrier ; drain (read wr_idx)
		 * If our read still sees OBS set, it precedes the remote's W1C, so our barrier precedes the remote's
		 * in the single total order of full barriers, and the remote's drain after its W1C sees our write.
		 * If it sees OBS clear, we trigger. Either way the data is read without another doorbell.
		 */
		ampl_mb();
		if (xlnx_ipi_mbox_tx_pending(m))
			return 0; /* done at once: the pending doorbell covers this write */
	} else if (xlnx_ipi_mbox_tx_pending(m)) {
		return -EBUSY;
	}
	if (len)
		ampl_io_write_bytes(&m->local_req, 0, msg->data, (uint32_t)len);
	if (AMPL_XLNX_IPI_HOTPLUG)
		m->tx_discards = discards(m);
	/* The request bytes must be visible to the remote before its ISR bit is. */
	ampl_mb();
	ampl_io_write32(&m->host->regs, AMPL_IPI_TRIG, m->remote_mask);
	if (TX_IDLE_CACHE)
		atomic_fetch_add(&m->tx_gen, 1);
	return 0;
}

static bool ipi_last_tx_done(struct mbox_chan *chan)
{
	struct xlnx_ipi_mbox *m = ipi_of(chan);
	/* A discarded request also drops its OBS bit: done either way, last_tx_result tells which. A doorbell in
	 * signalling mode is done once triggered or coalesced (its acknowledgement is not waited for). */
	return sig_done(m) || !xlnx_ipi_mbox_tx_pending(m);
}

#if AMPL_XLNX_IPI_HOTPLUG
static int ipi_last_tx_result(struct mbox_chan *chan)
{
	struct xlnx_ipi_mbox *m = ipi_of(chan);
	if (sig_done(m))
		return 0;
	return xlnx_ipi_mbox_tx_discarded(m) ? -ESHUTDOWN : 0;
}
#else
#define ipi_last_tx_result NULL /* a request is done once OBS drops */
#endif

static int ipi_flush(struct mbox_chan *chan, unsigned long timeout)
{
	struct xlnx_ipi_mbox *m = ipi_of(chan);
	if (!is_tx(m, chan) || sig_done(m))
		return 0;
	uint32_t t = timeout >= (UINT32_MAX - 1u) / 1000u ? UINT32_MAX - 1u : (uint32_t)timeout * 1000u;
	uint32_t g = TX_IDLE_CACHE ? atomic_load(&m->tx_gen) : 0u;
	int r = ampl_io_wait32(&m->host->regs, AMPL_IPI_OBS, m->remote_mask, 0, t);
	if (TX_IDLE_CACHE && !r)
		atomic_store(&m->idle_gen, g);
	return r ? -ETIME : 0;
}

/* IER for @m's source if its client wants interrupts, no request is held and xlnx_ipi_mask() did not mask it. */
static void unmask_if_wanted(struct xlnx_ipi_mbox *m)
{
	if (atomic_load(&m->rx_enabled) && !(AMPL_XLNX_IPI_HOLD && atomic_load(&m->held)) &&
	    !(atomic_load(&m->host->masked) & m->remote_mask))
		ampl_io_write32(&m->host->regs, AMPL_IPI_IER, m->remote_mask);
}

static void ipi_rx_enable(struct mbox_chan *rx, bool on)
{
	struct xlnx_ipi_mbox *m = ipi_of(rx);
	atomic_store(&m->rx_enabled, on);
	if (on)
		unmask_if_wanted(m);
	else
		ampl_io_write32(&m->host->regs, AMPL_IPI_IDR, m->remote_mask);
}

int xlnx_ipi_mbox_set_signalling(struct xlnx_ipi_mbox *m, bool on)
{
	if (!m)
		return -EINVAL;
	if (!AMPL_XLNX_IPI_SIGNALLING && on)
		return -ENOTSUP;
	atomic_store(&m->signalling, on);
	return 0;
}

static int ipi_startup(struct mbox_chan *chan)
{
	struct xlnx_ipi_mbox *m = ipi_of(chan);
	if (!is_tx(m, chan) && !chan->cl->rx_off)
		ipi_rx_enable(chan, true);
	return 0;
}

static void ipi_shutdown(struct mbox_chan *chan)
{
	struct xlnx_ipi_mbox *m = ipi_of(chan);
	if (!is_tx(m, chan) && atomic_load(&m->rx_enabled))
		ipi_rx_enable(chan, false);
}

static bool ipi_peek_data(struct mbox_chan *chan)
{
	struct xlnx_ipi_mbox *m = ipi_of(chan);
	return !is_tx(m, chan) && (ampl_io_read32(&m->host->regs, AMPL_IPI_ISR) & m->remote_mask);
}

#if AMPL_XLNX_IPI_HOLD
static void ipi_hold(struct mbox_chan *rx);
static void ipi_ack(struct mbox_chan *rx);
static void ipi_redeliver(struct mbox_chan *rx);
#else
/* A request is acknowledged once its callback returns. */
#define ipi_hold NULL
#define ipi_ack NULL
#define ipi_redeliver NULL
#endif

/* IPM hands out the request buffer itself (valid until acknowledged), not the copy rx_callback got. */
static volatile void *ipi_rx_data(struct mbox_chan *rx)
{
	struct xlnx_ipi_mbox *m = ipi_of(rx);
	return m->buffered ? m->remote_req.base : NULL;
}

static const struct mbox_chan_ops ipi_ops = {
	.send_data = ipi_send_data,
	.flush = ipi_flush,
	.startup = ipi_startup,
	.shutdown = ipi_shutdown,
	.last_tx_done = ipi_last_tx_done,
	.last_tx_result = ipi_last_tx_result,
	.peek_data = ipi_peek_data,
	.hold = ipi_hold,
	.ack = ipi_ack,
	.redeliver = ipi_redeliver,
	.rx_enable = ipi_rx_enable,
	.rx_data = ipi_rx_data,
};

int xlnx_ipi_mbox_init(struct xlnx_ipi_mbox *m, const char *node)
{
	if (!m || !m->host)
		return -EINVAL;
	uint32_t bit = m->remote_mask;
	if (!bit || (bit & (bit - 1)) || !(bit & m->host->valid_mask))
		return -EINVAL;
	if (atomic_load(&m->host->by_bit[bit_index(bit)]))
		return -EEXIST;
	ampl_memset(&m->ctrl, 0, sizeof(m->ctrl));
	m->ctrl.node = node;
	m->ctrl.ops = &ipi_ops;
	m->ctrl.chans = m->chans;
	m->ctrl.num_chans = 2;
	m->ctrl.txdone_poll = true;
	m->ctrl.txpoll_period = XLNX_IPI_POLL_PERIOD_MS;
	m->ctrl.max_msg_size = m->buffered ? AMPL_IPI_BUF_SIZE : 0;
	/* Nobody reaches @m before the registration (under the framework's lock) and the by_bit store below publish
	 * it: its initial state needs no ordering of its own. */
	atomic_store_explicit(&m->rx_enabled, false, memory_order_relaxed);
	atomic_store_explicit(&m->held, false, memory_order_relaxed);
	atomic_store_explicit(&m->sig_done, false, memory_order_relaxed);
#ifdef AMPL_CONFIG_IPI_FILTER
	atomic_store_explicit(&m->filter, NULL, memory_order_relaxed);
	atomic_store_explicit(&m->filter_held, false, memory_order_relaxed);
	atomic_store_explicit(&m->filter_pass, false, memory_order_relaxed);
#endif
	atomic_store_explicit(&m->tx_gen, 0, memory_order_relaxed);
	/* unknown: read OBS once (another process may have left a request) */
	atomic_store_explicit(&m->idle_gen, 1, memory_order_relaxed);
	m->hold_req = false;
	int ret = mbox_controller_register(&m->ctrl);
	if (ret)
		return ret;
	/* IMR is left alone: it resets to all-masked, and another process attached as this agent may own it. */
	atomic_store(&m->host->by_bit[bit_index(bit)], m);
	return 0;
}

#define REGIONS_SIZE (4 * sizeof(struct ampl_io_region))
AMPL_STATIC_ASSERT(offsetof(struct xlnx_ipi_mbox, remote_resp) + sizeof(struct ampl_io_region) -
			   offsetof(struct xlnx_ipi_mbox, local_req) == REGIONS_SIZE,
		   "the destination's four regions are contiguous");
AMPL_STATIC_ASSERT(offsetof(struct xlnx_ipi_mbox_config, remote_resp) + sizeof(struct ampl_io_region) -
			   offsetof(struct xlnx_ipi_mbox_config, local_req) == REGIONS_SIZE,
		   "the configuration's four regions are contiguous");

int xlnx_ipi_mbox_setup(struct xlnx_ipi_mbox *m, const struct xlnx_ipi_mbox_config *cfg, const char *node)
{
	if (!m || !cfg || !cfg->host)
		return -EINVAL;
	if (!cfg->host->regs.base) /* the host's first destination */
		(void)xlnx_ipi_host_init(cfg->host, &cfg->host_regs, cfg->valid_mask);
	m->host = cfg->host;
	m->remote_mask = cfg->remote_mask;
	m->buffered = cfg->buffered;
	/* The four regions follow each other in both structures (same type, so no padding between them). */
	ampl_memcpy(&m->local_req, &cfg->local_req, REGIONS_SIZE);
	atomic_store_explicit(&m->signalling, cfg->signalling, memory_order_relaxed);
	return xlnx_ipi_mbox_init(m, node);
}

void xlnx_ipi_mbox_remove(struct xlnx_ipi_mbox *m)
{
	if (!m)
		return;
	mbox_controller_unregister(&m->ctrl);
	struct xlnx_ipi_mbox *expected = m;
	atomic_compare_exchange_strong(&m->host->by_bit[bit_index(m->remote_mask)], &expected, NULL);
}

/* ---- receiving ---- */

#if AMPL_XLNX_IPI_HOLD
static void ipi_hold(struct mbox_chan *rx)
{
	struct xlnx_ipi_mbox *m = ipi_of(rx);
	if (atomic_load(&m->held) || atomic_load(&m->signalling))
		return; /* signalling mode: the doorbell is acknowledged already */
	/* Level-triggered: mask it now, inside the callback, so the held request does not fire again and so the
	 * mask is in place before anyone can ack (which unmasks). */
	ampl_io_write32(&m->host->regs, AMPL_IPI_IDR, m->remote_mask);
	atomic_store(&m->held, true);
	m->hold_req = true;
}

/*
 * End the client's hold of @rx's request: acknowledged (@ack: the sender sees it consumed) or delivered again. A
 * request held by the acceptance filter is not the client's: only xlnx_ipi_filter_release() ends that hold.
 */
static void release_held(struct mbox_chan *rx, bool ack)
{
	struct xlnx_ipi_mbox *m = ipi_of(rx);
#ifdef AMPL_CONFIG_IPI_FILTER
	if (atomic_load(&m->filter_held))
		return; /* the filter's hold, not the client's */
#endif
	if (!atomic_exchange(&m->held, false))
		return;
	if (ack) {
		/* Response bytes written before the acknowledgement must be visible first. */
		ampl_mb();
		ampl_io_write32(&m->host->regs, AMPL_IPI_ISR, m->remote_mask);
	}
	unmask_if_wanted(m);
}

static void ipi_ack(struct mbox_chan *rx)
{
	release_held(rx, true);
}

static void ipi_redeliver(struct mbox_chan *rx)
{
	release_held(rx, false);
}
#endif

/*
 * Mask the request from @bit that nobody takes (@m: its destination, NULL if none is set up), leaving it pending: the
 * sender sees it pending, nothing is lost. Then look again: a destination set up, or a client that enabled its
 * channel, since the caller looked may have unmasked (IER) before this IDR, which would leave the request masked for
 * good (a peer that rang before this side's client bound would never be heard). The barrier orders the IDR before
 * the loads, as ipi_rx_enable() orders its flag before its IER.
 */
static void mask_unwanted(struct xlnx_ipi_host *host, uint32_t bit, struct xlnx_ipi_mbox *m)
{
	ampl_io_write32(&host->regs, AMPL_IPI_IDR, bit);
	ampl_mb();
	if (!m)
		m = atomic_load(&host->by_bit[bit_index(bit)]);
	if (m)
		unmask_if_wanted(m);
}

/* Deliver the request pending from @bit (claimed by the caller, seen pending and unmasked after the claim). */
static void deliver(struct xlnx_ipi_host *host, uint32_t bit, unsigned line)
{
	const struct ampl_io_region *regs = &host->regs;
	struct xlnx_ipi_mbox *m = atomic_load(&host->by_bit[bit_index(bit)]);
	if (!m) {
		/* Nobody to deliver to: mask and keep it pending (the sender sees it pending; nothing is lost). */
		mask_unwanted(host, bit, NULL);
		return;
	}
	bool signalling = AMPL_XLNX_IPI_SIGNALLING && atomic_load_explicit(&m->signalling, memory_order_relaxed);
	if (signalling && !atomic_load(&m->rx_enabled)) {
		/* No client (or it is going): mask and keep the doorbell pending, as above. */
		mask_unwanted(host, bit, m);
		return;
	}
#ifdef AMPL_CONFIG_IPI_ROUTING
	xlnx_ipi_line_fn fn = atomic_load(&host->line_fn[line]);
	if (fn)
		fn(atomic_load(&host->line_arg[line]), line, bit);
#else
	(void)line;
#endif
	if (signalling) {
		/* Clear, then drain: a doorbell that arrives after this acknowledgement interrupts again, and data
		 * written before a doorbell it clears is seen by the callback (see ipi_send_data). */
		ampl_io_write32(regs, AMPL_IPI_ISR, bit);
		ampl_mb();
		(void)ampl_mbox_chan_deliver(&m->chans[XLNX_IPI_RX_CHAN], NULL);
		return;
	}
	m->rx_msg.len = m->buffered ? AMPL_IPI_BUF_SIZE : 0;
	if (m->buffered)
		ampl_io_read_words(&m->remote_req, 0, m->rx_msg.data, AMPL_IPI_BUF_SIZE);
	if (AMPL_XLNX_IPI_HOLD)
		m->hold_req = false;
#ifdef AMPL_CONFIG_IPI_FILTER
	if (xlnx_ipi_filter_hook(m, bit))
		return; /* refused: acknowledged or held by the filter, counted there */
#endif
	bool taken = ampl_mbox_chan_deliver(&m->chans[XLNX_IPI_RX_CHAN], &m->rx_msg);
	if (!taken) {
		/* The channel has no client: mask and keep the request pending, as above. */
		mask_unwanted(host, bit, m);
		return;
	}
	if (AMPL_XLNX_IPI_HOLD && m->hold_req)
		return; /* held: the hold op masked it; ack or redeliver releases it */
	/* The response written in the callback must be visible before the acknowledgement. */
	ampl_mb();
	ampl_io_write32(regs, AMPL_IPI_ISR, bit);
	/* Signalling mode turned on after it was read above (the client bound meanwhile): the callback ran before
	 * the acknowledgement, and a doorbell the peer rang in between was merged into this request and is cleared
	 * with it. Drain once more after the acknowledgement, as the signalling path does. */
	if (AMPL_XLNX_IPI_SIGNALLING && atomic_load_explicit(&m->signalling, memory_order_relaxed)) {
		ampl_mb();
		(void)ampl_mbox_chan_deliver(&m->chans[XLNX_IPI_RX_CHAN], NULL);
	}
}

static uint32_t pending_unmasked(struct xlnx_ipi_host *host)
{
	const struct ampl_io_region *regs = &host->regs;
	return ampl_io_read32(regs, AMPL_IPI_ISR) & ~ampl_io_read32(regs, AMPL_IPI_IMR) & host->valid_mask;
}

/* Deliver each request of @pending (read from ISR & ~IMR, claimed by the caller) on @line, lowest bit first. */
static void deliver_each(struct xlnx_ipi_host *host, uint32_t pending, unsigned line)
{
	/* Request bytes are read only after the ISR bit that announced them. */
	ampl_mb();
	while (pending) {
		uint32_t bit = pending & (~pending + 1u);
		pending &= ~bit;
		deliver(host, bit, line);
	}
}

/*
 * The interrupt event of @pending, traced; returns @pending. Out of line, so that deliver_each() has one copy (its
 * deliver() inlined), and @pending comes back in the return register rather than kept in one across the call.
 */
AMPL_TRACED_PATH static uint32_t irq_traced(struct xlnx_ipi_host *host, uint32_t pending)
{
	AMPL_TRACE_EMIT(AMPL_EV_IRQ, host, pending);
	return pending;
}

static void deliver_pending(struct xlnx_ipi_host *host, uint32_t pending, unsigned line)
{
	if (pending && AMPL_TRACING())
		pending = irq_traced(host, pending);
	deliver_each(host, pending, line);
}

#ifdef AMPL_CONFIG_IPI_ROUTING

/* The sources on @line: its own, or for line 0 those of no other line. */
static uint32_t line_sources(struct xlnx_ipi_host *host, unsigned line)
{
	if (line)
		return atomic_load(&host->line_src[line]);
	uint32_t others = 0;
	for (unsigned l = 1; l < XLNX_IPI_NUM_LINES; l++)
		others |= atomic_load(&host->line_src[l]);
	return ~others;
}

void xlnx_ipi_isr_line(struct xlnx_ipi_host *host, unsigned line)
{
	if (!host || line >= XLNX_IPI_NUM_LINES)
		return;
	uint32_t want = line_sources(host, line) & host->valid_mask;
	/*
	 * One line's handler at a time per source (a route may change under us): the handler claims its sources
	 * (busy) before it reads what is pending, and delivers only what it claimed. A source another line holds
	 * is marked missed, then claimed once more: either that second claim comes after the holder's release and
	 * wins, or the holder reads missed after its release and sees the mark (all sequentially consistent), so
	 * the holder looks again and nothing is dropped. Missed is cleared for what was claimed before pending is
	 * read, so anything the other handler was raised for is seen by that read or by the next round. Without
	 * contention that is two read-modify-writes (claim, release) and two loads.
	 */
	while (want) {
		uint32_t won = want & ~atomic_fetch_or(&host->busy, want);
		uint32_t lost = want & ~won;
		if (lost) {
			atomic_fetch_or(&host->missed, lost);
			won |= lost & ~atomic_fetch_or(&host->busy, lost);
		}
		if (!won)
			return;
		if (atomic_load(&host->missed) & won)
			atomic_fetch_and(&host->missed, ~won);
		deliver_pending(host, pending_unmasked(host) & won, line);
		atomic_fetch_and(&host->busy, ~won);
		want = atomic_load(&host->missed) & won;
	}
}

int xlnx_ipi_route(struct xlnx_ipi_host *host, uint32_t sources, unsigned line)
{
	if (!host || line >= XLNX_IPI_NUM_LINES || (sources & ~host->valid_mask))
		return -EINVAL;
	/* Added to the new line before it leaves the old one: always on some line (on two for a moment, which the
	 * per-source claim makes harmless). */
	if (line)
		atomic_fetch_or(&host->line_src[line], sources);
	for (unsigned l = 1; l < XLNX_IPI_NUM_LINES; l++)
		if (l != line)
			atomic_fetch_and(&host->line_src[l], ~sources);
	return 0;
}

uint32_t xlnx_ipi_route_get(struct xlnx_ipi_host *host, unsigned line)
{
	if (!host || line >= XLNX_IPI_NUM_LINES)
		return 0;
	return line_sources(host, line) & host->valid_mask;
}

int xlnx_ipi_line_connect(struct xlnx_ipi_host *host, unsigned line, xlnx_ipi_line_fn fn, void *arg)
{
	if (!host || line >= XLNX_IPI_NUM_LINES)
		return -EINVAL;
	atomic_store(&host->line_fn[line], NULL);
	atomic_store(&host->line_arg[line], arg);
	atomic_store(&host->line_fn[line], fn);
	return 0;
}

#else /* !AMPL_CONFIG_IPI_ROUTING: one line, line 0, takes every source; the entry points answer that */

void xlnx_ipi_isr_line(struct xlnx_ipi_host *host, unsigned line)
{
	if (!host || line)
		return;
	deliver_pending(host, pending_unmasked(host), 0);
}

int xlnx_ipi_route(struct xlnx_ipi_host *host, uint32_t sources, unsigned line)
{
	(void)sources;
	return host && line < XLNX_IPI_NUM_LINES ? -ENOTSUP : -EINVAL;
}

uint32_t xlnx_ipi_route_get(struct xlnx_ipi_host *host, unsigned line)
{
	return host && !line ? host->valid_mask : 0;
}

int xlnx_ipi_line_connect(struct xlnx_ipi_host *host, unsigned line, xlnx_ipi_line_fn fn, void *arg)
{
	(void)fn;
	(void)arg;
	return host && line < XLNX_IPI_NUM_LINES ? -ENOTSUP : -EINVAL;
}

#endif

void xlnx_ipi_isr(void *arg)
{
	xlnx_ipi_isr_line((struct xlnx_ipi_host *)arg, 0);
}

int xlnx_ipi_mask(struct xlnx_ipi_host *host, uint32_t sources, bool mask)
{
	if (!host || (sources & ~host->valid_mask))
		return -EINVAL;
	if (mask) {
		atomic_fetch_or(&host->masked, sources);
		ampl_io_write32(&host->regs, AMPL_IPI_IDR, sources);
		return 0;
	}
	atomic_fetch_and(&host->masked, ~sources);
	/* A pending request of a source unmasked here interrupts now (the model and the silicon raise the line). */
	for (uint32_t bits = sources; bits; bits &= bits - 1) {
		struct xlnx_ipi_mbox *m = atomic_load(&host->by_bit[__builtin_ctz(bits)]);
		if (m)
			unmask_if_wanted(m);
	}
	return 0;
}

uint32_t xlnx_ipi_masked(struct xlnx_ipi_host *host)
{
	return host ? atomic_load(&host->masked) : 0;
}

int xlnx_ipi_buf_write(const struct ampl_io_region *buf, bool buffered, const void *data, size_t len)
{
	if (len && !data)
		return -EINVAL;
	if (!buffered)
		return -ENOTSUP;
	if (len > AMPL_IPI_BUF_SIZE)
		return -EMSGSIZE;
	ampl_io_write_bytes(buf, 0, data, (uint32_t)len);
	return 0;
}

int xlnx_ipi_buf_read(const struct ampl_io_region *buf, bool buffered, void *dst, size_t len)
{
	if (len && !dst)
		return -EINVAL;
	if (!buffered)
		return -ENOTSUP;
	if (len > AMPL_IPI_BUF_SIZE)
		return -EMSGSIZE;
	if (!len)
		return 0;
	uint32_t words[AMPL_IPI_BUF_SIZE / 4];
	ampl_mb();
	ampl_io_read_words(buf, 0, words, (uint32_t)((len + 3) & ~(size_t)3));
	ampl_memcpy(dst, words, len);
	return 0;
}

int xlnx_ipi_mbox_response_write(struct mbox_chan *rx, const void *data, size_t len)
{
	struct xlnx_ipi_mbox *m = xlnx_ipi_mbox_of(rx);
	return m ? xlnx_ipi_buf_write(&m->remote_resp, m->buffered, data, len) : -EINVAL;
}

int xlnx_ipi_mbox_response_read(struct mbox_chan *tx, void *buf, size_t len)
{
	struct xlnx_ipi_mbox *m = xlnx_ipi_mbox_of(tx);
	return m ? xlnx_ipi_buf_read(&m->local_resp, m->buffered, buf, len) : -EINVAL;
}
