/*
 * NXP i.MX Messaging Unit v1: framework controller (Linux imx-mailbox semantics for the generic channel types) and
 * Zephyr's IPM API (ipm_imx semantics), register level, through I/O-region accessors only.
 *
 * What the driver trusts: only its own state. The peer can set any RF/GIP flag at any time, so the handler acts on
 * a flag only when this driver enabled it (a channel with a client, an enabled IPM device), on TE only for a TX
 * channel it has a message in flight on, and IPM reads a group only when every RF flag of it is set.
 *
 * Locking: cr_lock serialises CR read-modify-writes and the TX state (tx_busy, tx_defer, tx_word), so the
 * handler's "TE seen -> clear TIE -> TX done" cannot interleave with send_data's "write TR -> set TIE". isr_lock
 * keeps two contexts from running the handler at once (a host thread and ampl_agent_poll()); on firmware it is
 * uncontended. Framework callbacks run outside cr_lock.
 */
#include <amplink/drivers/nxp_mu.h>
#include <amplink/trace.h>

static const struct mbox_chan_ops mu_ops;

struct nxp_mu *nxp_mu_of(struct mbox_chan *chan)
{
	if (!chan || AMPL_IS_ERR(chan) || !chan->mbox || chan->mbox->ops != &mu_ops)
		return NULL;
	return AMPL_CONTAINER_OF(chan->mbox, struct nxp_mu, ctrl);
}

static inline uint32_t rd(struct nxp_mu *mu, uint32_t off)
{
	return ampl_io_read32(&mu->regs, off);
}

static inline void wr(struct nxp_mu *mu, uint32_t off, uint32_t v)
{
	ampl_io_write32(&mu->regs, off, v);
}

/*
 * CR read-modify-write, cr_lock held. GIR bits read back as 1 while the peer has not cleared its GIP; writing them
 * back would ring the peer again after it cleared, so they are written as 0 (no effect) unless @set names them.
 * MUR is never written back either.
 */
static void cr_rmw_locked(struct nxp_mu *mu, uint32_t clr, uint32_t set)
{
	uint32_t v = rd(mu, NXP_MU_CR);
	v &= ~(clr | NXP_MU_CR_GIR_MASK | NXP_MU_CR_MUR);
	wr(mu, NXP_MU_CR, v | set);
}

static void cr_rmw(struct nxp_mu *mu, uint32_t clr, uint32_t set)
{
	unsigned key = ampl_spin_lock(&mu->cr_lock);
	cr_rmw_locked(mu, clr, set);
	ampl_spin_unlock(&mu->cr_lock, key);
}

void nxp_mu_flags_set(struct nxp_mu *mu, uint32_t flags)
{
	if (mu)
		cr_rmw(mu, NXP_MU_CR_Fn_MASK, flags & NXP_MU_CR_Fn_MASK);
}

uint32_t nxp_mu_flags_get(struct nxp_mu *mu)
{
	return mu ? rd(mu, NXP_MU_SR) & NXP_MU_SR_Fn_MASK : 0;
}

/* ---- framework channels ---- */

static unsigned chan_type(struct nxp_mu *mu, struct mbox_chan *chan)
{
	return (unsigned)(chan - mu->chans) / NXP_MU_NUM_REGS;
}

static unsigned chan_idx(struct nxp_mu *mu, struct mbox_chan *chan)
{
	return (unsigned)(chan - mu->chans) % NXP_MU_NUM_REGS;
}

/* One side is driven either by framework channels or by one IPM device. */
static int claim_framework(struct nxp_mu *mu)
{
	uint32_t u = atomic_load(&mu->users);
	do {
		if (u & NXP_MU_USER_IPM)
			return -EBUSY;
	} while (!atomic_compare_exchange_weak(&mu->users, &u, u + 1));
	return 0;
}

static int mu_send_data(struct mbox_chan *chan, void *data)
{
	struct nxp_mu *mu = nxp_mu_of(chan);
	unsigned n = chan_idx(mu, chan);
	uint32_t bit = 1u << n;
	switch (chan_type(mu, chan)) {
	case NXP_MU_TYPE_TX: {
		if (!data)
			return -EINVAL; /* a TX message is a pointer to the word */
		uint32_t w;
		ampl_memcpy(&w, data, sizeof(w));
		unsigned key = ampl_spin_lock(&mu->cr_lock);
		if (rd(mu, NXP_MU_SR) & NXP_MU_SR_TEn(n)) {
			wr(mu, NXP_MU_TR(n), w);
		} else {
			/* TRn still holds a word the peer has not read (left by an earlier owner of the channel): never
			 * overwrite it; the handler writes ours when TEn rises. */
			mu->tx_word[n] = w;
			atomic_fetch_or(&mu->tx_defer, bit);
		}
		atomic_fetch_or(&mu->tx_busy, bit);
		/* After the write: if the peer already read it, TIEn rises on a set TEn and still interrupts. */
		cr_rmw_locked(mu, 0, NXP_MU_CR_TIEn(n));
		ampl_spin_unlock(&mu->cr_lock, key);
		return 0;
	}
	case NXP_MU_TYPE_TXDB:
		/* Ring; a doorbell still pending at the peer is simply rung again (Linux and Zephyr do the same). */
		cr_rmw(mu, 0, NXP_MU_CR_GIRn(n));
		/* No acknowledgement exists: TX done right away, but not from here (the framework holds the channel
		 * lock around send_data). The handler reports it; soft_irq makes it run. */
		atomic_fetch_or(&mu->txdb_done, bit);
		if (mu->soft_irq)
			mu->soft_irq(mu->soft_irq_arg);
		return 0;
	default:
		return -EINVAL; /* RX and RXDB channels do not send */
	}
}

/* The receive interrupt of an RX (RIEn) or RXDB (GIEn) channel, and the handler's claim on its flag. */
static void mu_rx_enable(struct mbox_chan *chan, bool on)
{
	struct nxp_mu *mu = nxp_mu_of(chan);
	unsigned n = chan_idx(mu, chan);
	bool db = chan_type(mu, chan) == NXP_MU_TYPE_RXDB;
	if (!db && chan_type(mu, chan) != NXP_MU_TYPE_RX)
		return;
	AMPL_ATOMIC(uint32_t) *claim = db ? &mu->rxdb_on : &mu->rx_on;
	uint32_t ie = db ? NXP_MU_CR_GIEn(n) : NXP_MU_CR_RIEn(n);
	/* Ours first, then the enable: an interrupt right after the enable finds the channel. */
	if (on) {
		atomic_fetch_or(claim, 1u << n);
		cr_rmw(mu, 0, ie);
	} else {
		cr_rmw(mu, ie, 0);
		atomic_fetch_and(claim, ~(1u << n));
	}
}

static int mu_startup(struct mbox_chan *chan)
{
	int ret = claim_framework(nxp_mu_of(chan));
	if (!ret && !chan->cl->rx_off)
		mu_rx_enable(chan, true);
	return ret;
}

static void mu_shutdown(struct mbox_chan *chan)
{
	struct nxp_mu *mu = nxp_mu_of(chan);
	unsigned n = chan_idx(mu, chan);
	uint32_t bit = 1u << n;
	switch (chan_type(mu, chan)) {
	case NXP_MU_TYPE_TX: {
		/* A word already in TRn stays there (the peer may still read it); we stop waiting for it. */
		unsigned key = ampl_spin_lock(&mu->cr_lock);
		if (atomic_load(&mu->tx_busy) & bit)
			cr_rmw_locked(mu, NXP_MU_CR_TIEn(n), 0);
		atomic_fetch_and(&mu->tx_busy, ~bit);
		atomic_fetch_and(&mu->tx_defer, ~bit);
		ampl_spin_unlock(&mu->cr_lock, key);
		break;
	}
	case NXP_MU_TYPE_TXDB:
		atomic_fetch_and(&mu->txdb_done, ~bit);
		break;
	default:
		mu_rx_enable(chan, false);
		break;
	}
	atomic_fetch_sub(&mu->users, 1);
}

static bool mu_peek_data(struct mbox_chan *chan)
{
	struct nxp_mu *mu = nxp_mu_of(chan);
	unsigned n = chan_idx(mu, chan);
	switch (chan_type(mu, chan)) {
	case NXP_MU_TYPE_RX:
		return (rd(mu, NXP_MU_SR) & NXP_MU_SR_RFn(n)) != 0;
	case NXP_MU_TYPE_RXDB:
		return (rd(mu, NXP_MU_SR) & NXP_MU_SR_GIPn(n)) != 0;
	default:
		return false;
	}
}

/* `mboxes = <&mu TYPE IDX>`: both cells bounds-checked (Linux checks only type * 4 + idx < channels). */
static struct mbox_chan *mu_xlate(struct mbox_controller *mbox, const struct mbox_spec *sp)
{
	if (!sp || sp->nargs != NXP_MU_MBOX_CELLS || sp->args[0] >= NXP_MU_NUM_TYPES || sp->args[1] >= NXP_MU_NUM_REGS)
		return AMPL_ERR_PTR(-EINVAL);
	return &mbox->chans[NXP_MU_CHAN(sp->args[0], sp->args[1])];
}

static const struct mbox_chan_ops mu_ops = {
	.send_data = mu_send_data,
	.startup = mu_startup,
	.shutdown = mu_shutdown,
	.peek_data = mu_peek_data,
	.rx_enable = mu_rx_enable,
};

/* Linux's imx_mu_init_generic() for side A: default configuration, no stale doorbell, no stale word. */
static void reset_side_a(struct nxp_mu *mu)
{
	wr(mu, NXP_MU_CR, 0);
	wr(mu, NXP_MU_SR, rd(mu, NXP_MU_SR) & NXP_MU_SR_GIP_MASK);
	for (unsigned n = 0; n < NXP_MU_NUM_REGS; n++)
		(void)rd(mu, NXP_MU_RR(n));
}

int nxp_mu_init(struct nxp_mu *mu, const char *node)
{
	if (!mu || mu->regs.size < NXP_MU_REG_SPAN)
		return -EINVAL;
	atomic_flag_clear(&mu->cr_lock);
	atomic_flag_clear(&mu->isr_lock);
	atomic_store(&mu->users, 0);
	atomic_store(&mu->rx_on, 0);
	atomic_store(&mu->rxdb_on, 0);
	atomic_store(&mu->tx_busy, 0);
	atomic_store(&mu->tx_defer, 0);
	atomic_store(&mu->txdb_done, 0);
	atomic_store(&mu->ipm, NULL);
	if (!mu->side_b && !mu->no_reset)
		reset_side_a(mu);
	ampl_memset(&mu->ctrl, 0, sizeof(mu->ctrl));
	mu->ctrl.node = node;
	mu->ctrl.ops = &mu_ops;
	mu->ctrl.chans = mu->chans;
	mu->ctrl.num_chans = (int)NXP_MU_NUM_CHANS;
	mu->ctrl.txdone_irq = true;
	mu->ctrl.of_xlate = mu_xlate;
	mu->ctrl.max_msg_size = sizeof(uint32_t);
	mu->ctrl.raw_msg = true;
	return mbox_controller_register(&mu->ctrl);
}

void nxp_mu_remove(struct nxp_mu *mu)
{
	if (mu)
		mbox_controller_unregister(&mu->ctrl); /* frees the channels: shutdown disables their interrupts */
}

/* ---- interrupt handler ---- */

/* TEn rose on TX channel n: write a deferred word, or finish the message. */
static void tx_check(struct nxp_mu *mu, unsigned n)
{
	uint32_t bit = 1u << n;
	unsigned key = ampl_spin_lock(&mu->cr_lock);
	/* Re-read under the lock: a TE seen before send_data wrote TRn must not finish the new message. */
	if (!(atomic_load(&mu->tx_busy) & bit) || !(rd(mu, NXP_MU_SR) & NXP_MU_SR_TEn(n))) {
		ampl_spin_unlock(&mu->cr_lock, key);
		return;
	}
	if (atomic_load(&mu->tx_defer) & bit) {
		atomic_fetch_and(&mu->tx_defer, ~bit);
		wr(mu, NXP_MU_TR(n), mu->tx_word[n]); /* TIEn stays set: the next TEn finishes it */
		ampl_spin_unlock(&mu->cr_lock, key);
		return;
	}
	atomic_fetch_and(&mu->tx_busy, ~bit);
	cr_rmw_locked(mu, NXP_MU_CR_TIEn(n), 0);
	ampl_spin_unlock(&mu->cr_lock, key);
	/* Only the context that cleared tx_busy gets here, and the framework submits the next message only from
	 * this tick: the completion names the message that was in flight. */
	mbox_chan_txdone(&mu->chans[NXP_MU_CHAN(NXP_MU_TYPE_TX, n)], 0);
}

static void framework_isr(struct nxp_mu *mu)
{
	uint32_t done = atomic_exchange(&mu->txdb_done, 0);
	for (unsigned n = 0; done && n < NXP_MU_NUM_REGS; n++)
		if (done & (1u << n))
			mbox_chan_txdone(&mu->chans[NXP_MU_CHAN(NXP_MU_TYPE_TXDB, n)], 0);

	uint32_t sr = rd(mu, NXP_MU_SR);
	/* General-purpose interrupts first, then data (Zephyr's order): clear, then tell the client (Linux). */
	uint32_t on = atomic_load(&mu->rxdb_on);
	for (unsigned n = 0; n < NXP_MU_NUM_REGS; n++) {
		if ((on & (1u << n)) && (sr & NXP_MU_SR_GIPn(n))) {
			wr(mu, NXP_MU_SR, NXP_MU_SR_GIPn(n));
			mbox_chan_received_data(&mu->chans[NXP_MU_CHAN(NXP_MU_TYPE_RXDB, n)], NULL);
		}
	}
	on = atomic_load(&mu->rx_on);
	for (unsigned n = 0; n < NXP_MU_NUM_REGS; n++) {
		if ((on & (1u << n)) && (sr & NXP_MU_SR_RFn(n))) {
			mu->rx_word[n] = rd(mu, NXP_MU_RR(n)); /* frees the peer's TEn */
			mbox_chan_received_data(&mu->chans[NXP_MU_CHAN(NXP_MU_TYPE_RX, n)], &mu->rx_word[n]);
		}
	}
	uint32_t busy = atomic_load(&mu->tx_busy);
	for (unsigned n = 0; busy && n < NXP_MU_NUM_REGS; n++)
		if ((busy & (1u << n)) && (sr & NXP_MU_SR_TEn(n)))
			tx_check(mu, n);
}

static void ipm_isr(struct nxp_mu *mu, const struct ampl_device *dev);

void nxp_mu_isr(void *arg)
{
	struct nxp_mu *mu = (struct nxp_mu *)arg;
	unsigned key = ampl_spin_lock(&mu->isr_lock);
	const struct ampl_device *ipm = atomic_load(&mu->ipm);
	if (ipm)
		ipm_isr(mu, ipm);
	else
		framework_isr(mu);
	/* Flag writes reach the MU before the handler returns (ARM erratum 838869: Zephyr's DSB at ISR exit). */
	ampl_mb();
	ampl_spin_unlock(&mu->isr_lock, key);
}

/* ---- IPM ---- */

static const struct nxp_mu_ipm_config *cfg_of(const struct ampl_device *dev)
{
	return (const struct nxp_mu_ipm_config *)dev->config;
}

static struct nxp_mu_ipm_data *data_of(const struct ampl_device *dev)
{
	return (struct nxp_mu_ipm_data *)dev->data;
}

static bool size_ok(uint32_t size)
{
	return size == 4u || size == 8u || size == 16u;
}

static bool is_ipm(const struct ampl_device *dev)
{
	return dev && dev->api == &nxp_mu_ipm_api && dev->config && dev->data && cfg_of(dev)->mu &&
	       size_ok(cfg_of(dev)->data_size);
}

static uint32_t group_words(const struct nxp_mu_ipm_config *cfg)
{
	return cfg->data_size / 4u;
}

static uint32_t max_id(const struct nxp_mu_ipm_config *cfg)
{
	return NXP_MU_NUM_REGS / group_words(cfg) - 1u;
}

/* RIE of the last register of every group: the receive interrupts an enabled device wants. */
static uint32_t rie_mask(const struct nxp_mu_ipm_config *cfg)
{
	uint32_t m = 0, words = group_words(cfg);
	for (uint32_t id = 0; id <= max_id(cfg); id++)
		m |= NXP_MU_CR_RIEn(id * words + words - 1u);
	return m;
}

static void ipm_isr(struct nxp_mu *mu, const struct ampl_device *dev)
{
	const struct nxp_mu_ipm_config *cfg = cfg_of(dev);
	struct nxp_mu_ipm_data *d = data_of(dev);
	ipm_callback_t cb = atomic_load(&d->cb);
	if (!atomic_load(&d->enabled) || !cb)
		return; /* left in RR: delivered once the device is enabled and has a callback */
	uint32_t words = group_words(cfg);
	uint32_t sr = rd(mu, NXP_MU_SR);
	/* Highest id first, as Zephyr's ipm_imx. */
	for (uint32_t k = 0; k <= max_id(cfg); k++) {
		uint32_t id = max_id(cfg) - k, first = id * words, last = first + words - 1u;
		if (!(sr & NXP_MU_SR_RFn(last)))
			continue;
		uint32_t need = 0;
		for (uint32_t i = 0; i < words; i++)
			need |= NXP_MU_SR_RFn(first + i);
		if ((sr & need) != need) {
			/* The peer raised the group's last flag before filling the group: a protocol violation. Do not
			 * read (reading would free registers the peer still thinks full); count it. */
			atomic_fetch_add(&d->rx_incomplete, 1);
			continue;
		}
		for (uint32_t i = 0; i < words; i++)
			d->rx_buf[i] = rd(mu, NXP_MU_RR(first + i));
		AMPL_TRACE(AMPL_EV_IPM_RX, dev, id);
		cb(dev, atomic_load(&d->user_data), id, d->rx_buf);
	}
}

/* Take the side for this device (first use). -EBUSY when framework channels or another IPM device have it. */
static int bind(const struct ampl_device *dev)
{
	struct nxp_mu_ipm_data *d = data_of(dev);
	if (atomic_load_explicit(&d->bound, memory_order_acquire))
		return 0;
	struct nxp_mu *mu = cfg_of(dev)->mu;
	for (;;) {
		uint32_t expect = 0;
		if (atomic_compare_exchange_strong(&mu->users, &expect, NXP_MU_USER_IPM)) {
			atomic_store(&mu->ipm, dev);
			atomic_store_explicit(&d->bound, true, memory_order_release);
			return 0;
		}
		if (expect != NXP_MU_USER_IPM)
			return -EBUSY;
		const struct ampl_device *owner = atomic_load(&mu->ipm);
		if (owner)
			return owner == dev ? 0 : -EBUSY;
		ampl_cpu_relax(); /* another thread is between its two stores above */
	}
}

int nxp_mu_ipm_init(const struct ampl_device *dev)
{
	if (!is_ipm(dev))
		return -EINVAL;
	struct nxp_mu_ipm_data *d = data_of(dev);
	atomic_store(&d->cb, NULL);
	atomic_store(&d->user_data, NULL);
	atomic_store(&d->enabled, false);
	atomic_store(&d->bound, false);
	atomic_flag_clear(&d->tx_lock);
	for (unsigned i = 0; i < NXP_MU_NUM_REGS; i++)
		atomic_store(&d->tx_seq[i], 0);
	atomic_store(&d->rx_incomplete, 0);
	ampl_memset(d->rx_buf, 0, sizeof(d->rx_buf));
	return 0;
}

void nxp_mu_ipm_release(const struct ampl_device *dev)
{
	if (!is_ipm(dev) || !atomic_exchange(&data_of(dev)->bound, false))
		return;
	struct nxp_mu *mu = cfg_of(dev)->mu;
	atomic_store(&data_of(dev)->enabled, false);
	cr_rmw(mu, rie_mask(cfg_of(dev)), 0);
	atomic_store(&mu->ipm, NULL);
	atomic_store(&mu->users, 0);
}

uint32_t nxp_mu_ipm_rx_incomplete(const struct ampl_device *dev)
{
	return is_ipm(dev) ? atomic_load(&data_of(dev)->rx_incomplete) : 0;
}

/* The waits of ipm_send(): sliced, so that a sender also sees what other senders did in between (tx_seq). */
#define IPM_WAIT_SLICE_US 1000u

/*
 * Wait up to one slice for every @mask bit of SR to be set. False once @tout_us (UINT32_MAX: no bound) is spent,
 * counted both by the clock from @start and by the slices that ran out (a port without a clock still stops).
 */
static bool ipm_wait_slice(struct nxp_mu *mu, uint32_t mask, uint32_t tout_us, uint64_t start, uint32_t *spent)
{
	if (tout_us == UINT32_MAX) {
		(void)ampl_io_wait32(&mu->regs, NXP_MU_SR, mask, mask, IPM_WAIT_SLICE_US);
		return true;
	}
	if (*spent >= tout_us || ampl_os_uptime_us() - start >= tout_us)
		return false;
	uint32_t slice = tout_us - *spent < IPM_WAIT_SLICE_US ? tout_us - *spent : IPM_WAIT_SLICE_US;
	if (ampl_io_wait32(&mu->regs, NXP_MU_SR, mask, mask, slice))
		*spent += slice;
	return true;
}

static int mu_ipm_send(const struct ampl_device *dev, int wait, uint32_t id, const void *data, int size)
{
	if (!is_ipm(dev) || size < 0 || (size > 0 && !data))
		return -EINVAL;
	const struct nxp_mu_ipm_config *cfg = cfg_of(dev);
	if (id > max_id(cfg))
		return -EINVAL;
	if ((uint32_t)size > cfg->data_size)
		return -EMSGSIZE;
	int ret = bind(dev);
	if (ret)
		return ret;
	struct nxp_mu *mu = cfg->mu;
	struct nxp_mu_ipm_data *d = data_of(dev);
	uint32_t words = group_words(cfg), first = id * words, last = first + words - 1u;
	uint32_t buf[NXP_MU_NUM_REGS] = { 0, 0, 0, 0 };
	if (size)
		ampl_memcpy(buf, data, (size_t)size);
	uint32_t te = 0;
	for (uint32_t i = 0; i < words; i++)
		te |= NXP_MU_SR_TEn(first + i);
	uint32_t tout = cfg->ack_timeout_us ? cfg->ack_timeout_us : NXP_MU_ACK_TIMEOUT_US;
	uint64_t start = wait ? ampl_os_uptime_us() : 0;
	uint32_t spent = 0, seq;
	for (;;) {
		/* The whole group is checked before anything is written: a message is never sent in part. */
		unsigned key = ampl_spin_lock(&d->tx_lock);
		if ((rd(mu, NXP_MU_SR) & te) == te) {
			/* In register order: the last register's RF flag is the receiver's interrupt. */
			for (uint32_t i = 0; i < words; i++)
				wr(mu, NXP_MU_TR(first + i), buf[i]);
			seq = atomic_fetch_add(&d->tx_seq[id], 1u) + 1u;
			ampl_spin_unlock(&d->tx_lock, key);
			break;
		}
		ampl_spin_unlock(&d->tx_lock, key);
		/* Nothing written: the group is still full (with wait: for the whole bound, or other senders got it
		 * first each time it emptied). */
		if (!wait || !ipm_wait_slice(mu, te, tout, start, &spent))
			return -EBUSY;
	}
	if (!wait)
		return 0;
	/*
	 * Consumed once the receiver read the last register: its TE flag is set, or another sender wrote the group
	 * after ours (it writes only into an empty group, so the receiver had read ours). Without the second test a
	 * sender whose message was read, then replaced by another one before it looked, would wait for that one.
	 */
	start = ampl_os_uptime_us();
	spent = 0;
	for (;;) {
		if ((rd(mu, NXP_MU_SR) & NXP_MU_SR_TEn(last)) || atomic_load(&d->tx_seq[id]) != seq)
			return 0;
		if (!ipm_wait_slice(mu, NXP_MU_SR_TEn(last), tout, start, &spent))
			return -ETIMEDOUT;
	}
}

static void mu_ipm_register_callback(const struct ampl_device *dev, ipm_callback_t cb, void *user_data)
{
	if (!is_ipm(dev) || bind(dev))
		return;
	struct nxp_mu_ipm_data *d = data_of(dev);
	atomic_store(&d->user_data, user_data);
	atomic_store(&d->cb, cb);
	/* A group that arrived while there was no callback is delivered now. */
	struct nxp_mu *mu = cfg_of(dev)->mu;
	if (cb && atomic_load(&d->enabled) && mu->soft_irq)
		mu->soft_irq(mu->soft_irq_arg);
}

static int mu_ipm_max_data_size_get(const struct ampl_device *dev)
{
	return is_ipm(dev) ? (int)cfg_of(dev)->data_size : -EINVAL;
}

static uint32_t mu_ipm_max_id_val_get(const struct ampl_device *dev)
{
	return is_ipm(dev) ? max_id(cfg_of(dev)) : 0;
}

static int mu_ipm_set_enabled(const struct ampl_device *dev, int enable)
{
	if (!is_ipm(dev))
		return -EINVAL;
	int ret = bind(dev);
	if (ret)
		return ret;
	struct nxp_mu_ipm_data *d = data_of(dev);
	struct nxp_mu *mu = cfg_of(dev)->mu;
	atomic_store(&d->enabled, enable != 0);
	/* Enabling with a group already full interrupts at once (the RF flag is set, its enable rises). */
	if (enable)
		cr_rmw(mu, 0, rie_mask(cfg_of(dev)));
	else
		cr_rmw(mu, rie_mask(cfg_of(dev)), 0);
	return 0;
}

const struct ipm_driver_api nxp_mu_ipm_api = {
	.send = mu_ipm_send,
	.register_callback = mu_ipm_register_callback,
	.max_data_size_get = mu_ipm_max_data_size_get,
	.max_id_val_get = mu_ipm_max_id_val_get,
	.set_enabled = mu_ipm_set_enabled,
	.complete = NULL,
};
