/*
 * NXP i.MX Messaging Unit v1: framework controller (Linux imx-mailbox semantics for the generic channel types, and
 * group channels for Zephyr's IPM through the generic IPM driver), register level, through I/O-region accessors only.
 *
 * What the driver trusts: only its own state. The peer can set any RF/GIP flag at any time, so the handler acts on
 * a flag only when this driver enabled it (a channel with a client and its interrupt on), on TE only for a TX
 * channel it has a message in flight on, and reads a group only when every RF flag of it is set.
 *
 * Locking: cr_lock serialises CR read-modify-writes, the register claims and the TX state (tx_busy, tx_defer,
 * tx_word), so the handler's "TE seen -> clear TIE -> TX done" cannot interleave with send_data's "write TR -> set
 * TIE". isr_lock keeps two contexts from running the handler at once (a host thread and ampl_agent_poll()); on
 * firmware it is uncontended. Framework callbacks run outside cr_lock.
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

/* Group channel k (0..6) of a direction: k 0-3 one word (id k), 4-5 two words (id k - 4), 6 four words (id 0). */
static uint32_t grp_words(unsigned k)
{
	return k < 4u ? 1u : k < 6u ? 2u : 4u;
}

static uint32_t grp_first(unsigned k)
{
	uint32_t w = grp_words(k);
	return (k - (8u - 8u / w)) * w;
}

static unsigned chan_type(struct nxp_mu *mu, struct mbox_chan *chan)
{
	unsigned i = (unsigned)(chan - mu->chans);
	return i < NXP_MU_NUM_CHANS ? i / NXP_MU_NUM_REGS : i < NXP_MU_GRP_CHAN(1, 1, 0) ? NXP_MU_TYPE_TXG : NXP_MU_TYPE_RXG;
}

/* The register of a TX/RX/doorbell channel, or the group number k of a group channel. */
static unsigned chan_idx(struct nxp_mu *mu, struct mbox_chan *chan)
{
	unsigned i = (unsigned)(chan - mu->chans);
	return i < NXP_MU_NUM_CHANS ? i % NXP_MU_NUM_REGS : (i - NXP_MU_NUM_CHANS) % NXP_MU_NUM_GRPS;
}

/* The registers (bit n: TRn or RRn) a channel uses; 0 for doorbells. */
static uint32_t chan_regs(struct nxp_mu *mu, struct mbox_chan *chan)
{
	unsigned type = chan_type(mu, chan), n = chan_idx(mu, chan);
	if (type == NXP_MU_TYPE_TX || type == NXP_MU_TYPE_RX)
		return 1u << n;
	if (type == NXP_MU_TYPE_TXG || type == NXP_MU_TYPE_RXG)
		return ((1u << grp_words(n)) - 1u) << grp_first(n);
	return 0;
}

/* The flags of the nibble at @base for the registers @regs (e.g. the TE flags of a group). */
static uint32_t flags_of(uint32_t regs, uint32_t base)
{
	uint32_t f = 0;
	for (uint32_t n = 0; n < NXP_MU_NUM_REGS; n++)
		if (regs & (1u << n))
			f |= NXP_MU_FLAG(base, n);
	return f;
}

static bool is_rx_type(unsigned type)
{
	return type == NXP_MU_TYPE_RX || type == NXP_MU_TYPE_RXG;
}

/* The registers a channel uses are its own while it has a client: a TR or RR register has one channel at a time. */
static int claim_regs(struct nxp_mu *mu, struct mbox_chan *chan)
{
	uint32_t regs = chan_regs(mu, chan);
	uint32_t *claim = is_rx_type(chan_type(mu, chan)) ? &mu->rr_claim : &mu->tr_claim;
	int ret = 0;
	unsigned key = ampl_spin_lock(&mu->cr_lock);
	if (*claim & regs)
		ret = -EBUSY;
	else
		*claim |= regs;
	ampl_spin_unlock(&mu->cr_lock, key);
	return ret;
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
		atomic_fetch_or(&mu->txdone_db, bit);
		if (mu->soft_irq)
			mu->soft_irq(mu->soft_irq_arg);
		return 0;
	case NXP_MU_TYPE_TXG: {
		/* The whole group is checked before anything is written: a message is never sent in part. */
		uint32_t w[NXP_MU_NUM_REGS] = { 0, 0, 0, 0 }, words = grp_words(n), first = grp_first(n);
		if (data)
			ampl_memcpy(w, data, words * sizeof(uint32_t));
		uint32_t te = flags_of(chan_regs(mu, chan), 20u);
		if ((rd(mu, NXP_MU_SR) & te) != te)
			return -EBUSY;
		/* In register order: the last register's RF flag is the receiver's interrupt. */
		for (uint32_t i = 0; i < words; i++)
			wr(mu, NXP_MU_TR(first + i), w[i]);
		return 0;
	}
	default:
		return -EINVAL; /* RX channels do not send */
	}
}

/* The receive interrupt of an RX (RIEn), RXDB (GIEn) or RX group (RIE of its last register) channel, and the
 * handler's claim on its flag. */
static void mu_rx_enable(struct mbox_chan *chan, bool on)
{
	struct nxp_mu *mu = nxp_mu_of(chan);
	unsigned n = chan_idx(mu, chan), type = chan_type(mu, chan);
	AMPL_ATOMIC(uint32_t) *claim;
	uint32_t ie;
	if (type == NXP_MU_TYPE_RXDB) {
		claim = &mu->rxdb_on;
		ie = NXP_MU_CR_GIEn(n);
	} else if (type == NXP_MU_TYPE_RX) {
		claim = &mu->rx_on;
		ie = NXP_MU_CR_RIEn(n);
	} else if (type == NXP_MU_TYPE_RXG) {
		claim = &mu->rxg_on;
		ie = NXP_MU_CR_RIEn(grp_first(n) + grp_words(n) - 1u);
		if (on && (atomic_load(&mu->rxg_held) & (1u << n))) {
			atomic_fetch_or(claim, 1u << n); /* unmasked once the held group is released */
			return;
		}
	} else {
		return;
	}
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
	int ret = claim_regs(nxp_mu_of(chan), chan);
	if (!ret && !chan->cl->rx_off)
		mu_rx_enable(chan, true);
	return ret;
}

static void mu_shutdown(struct mbox_chan *chan)
{
	struct nxp_mu *mu = nxp_mu_of(chan);
	unsigned n = chan_idx(mu, chan), type = chan_type(mu, chan);
	uint32_t bit = 1u << n;
	if (type == NXP_MU_TYPE_TX) {
		/* A word already in TRn stays there (the peer may still read it); we stop waiting for it. */
		unsigned key = ampl_spin_lock(&mu->cr_lock);
		if (atomic_load(&mu->tx_busy) & bit)
			cr_rmw_locked(mu, NXP_MU_CR_TIEn(n), 0);
		atomic_fetch_and(&mu->tx_busy, ~bit);
		atomic_fetch_and(&mu->tx_defer, ~bit);
		ampl_spin_unlock(&mu->cr_lock, key);
	} else if (type == NXP_MU_TYPE_TXDB) {
		atomic_fetch_and(&mu->txdone_db, ~bit);
	} else {
		mu_rx_enable(chan, false);
		if (type == NXP_MU_TYPE_RXG) { /* a held group is dropped: it was read */
			atomic_fetch_and(&mu->rxg_held, ~bit);
			atomic_fetch_and(&mu->rxg_redo, ~bit);
		}
	}
	uint32_t *claim = is_rx_type(type) ? &mu->rr_claim : &mu->tr_claim;
	unsigned key = ampl_spin_lock(&mu->cr_lock);
	*claim &= ~chan_regs(mu, chan);
	ampl_spin_unlock(&mu->cr_lock, key);
}

/* TX group channels: done once the peer read the group (every TE flag of it set). */
static bool mu_last_tx_done(struct mbox_chan *chan)
{
	struct nxp_mu *mu = nxp_mu_of(chan);
	unsigned type = chan_type(mu, chan);
	if (type == NXP_MU_TYPE_TX)
		return !(atomic_load(&mu->tx_busy) & (1u << chan_idx(mu, chan)));
	uint32_t te = flags_of(chan_regs(mu, chan), 20u);
	return type != NXP_MU_TYPE_TXG || (rd(mu, NXP_MU_SR) & te) == te;
}

static int mu_flush(struct mbox_chan *chan, unsigned long timeout)
{
	struct nxp_mu *mu = nxp_mu_of(chan);
	if (chan_type(mu, chan) != NXP_MU_TYPE_TXG)
		return -ENOTSUP;
	uint32_t te = flags_of(chan_regs(mu, chan), 20u);
	uint64_t us = (uint64_t)timeout * 1000u;
	return ampl_io_wait32(&mu->regs, NXP_MU_SR, te, te, us < UINT32_MAX ? (uint32_t)us : UINT32_MAX - 1u) ? -ETIME
														: 0;
}

/* RX group channels, from rx_callback: keep the group just read (its interrupt masked) until redeliver. */
static void mu_hold(struct mbox_chan *chan)
{
	struct nxp_mu *mu = nxp_mu_of(chan);
	if (chan_type(mu, chan) == NXP_MU_TYPE_RXG)
		atomic_fetch_or(&mu->rxg_held, 1u << chan_idx(mu, chan));
}

/* Deliver the held group again from the handler, which soft_irq makes run. */
static void mu_redeliver(struct mbox_chan *chan)
{
	struct nxp_mu *mu = nxp_mu_of(chan);
	uint32_t bit = 1u << chan_idx(mu, chan);
	if (chan_type(mu, chan) != NXP_MU_TYPE_RXG || !(atomic_load(&mu->rxg_held) & bit))
		return;
	atomic_fetch_or(&mu->rxg_redo, bit);
	if (mu->soft_irq)
		mu->soft_irq(mu->soft_irq_arg);
}

static bool mu_peek_data(struct mbox_chan *chan)
{
	struct nxp_mu *mu = nxp_mu_of(chan);
	unsigned n = chan_idx(mu, chan);
	switch (chan_type(mu, chan)) {
	case NXP_MU_TYPE_RXG:
		n = grp_first(n) + grp_words(n) - 1u;
		/* fall through */
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
	.last_tx_done = mu_last_tx_done,
	.flush = mu_flush,
	.hold = mu_hold,
	.redeliver = mu_redeliver,
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
	mu->tr_claim = mu->rr_claim = 0;
	atomic_store(&mu->rx_on, 0);
	atomic_store(&mu->rxdb_on, 0);
	atomic_store(&mu->rxg_on, 0);
	atomic_store(&mu->rxg_held, 0);
	atomic_store(&mu->rxg_redo, 0);
	atomic_store(&mu->rx_incomplete, 0);
	atomic_store(&mu->tx_busy, 0);
	atomic_store(&mu->tx_defer, 0);
	atomic_store(&mu->txdone_db, 0);
	if (!mu->side_b && !mu->no_reset)
		reset_side_a(mu);
	ampl_memset(&mu->ctrl, 0, sizeof(mu->ctrl));
	mu->ctrl.node = node;
	mu->ctrl.ops = &mu_ops;
	mu->ctrl.chans = mu->chans;
	mu->ctrl.num_chans = (int)NXP_MU_NUM_ALL_CHANS;
	mu->ctrl.txdone_irq = true;
	mu->ctrl.of_xlate = mu_xlate;
	mu->ctrl.max_msg_size = sizeof(uint32_t); /* a group channel: its group's words */
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

/* Deliver RX group k from its buffer; a group the client held stays masked until redeliver. */
static void grp_deliver(struct nxp_mu *mu, unsigned k)
{
	uint32_t first = grp_first(k), last = first + grp_words(k) - 1u;
	ampl_mbox_chan_deliver(&mu->chans[NXP_MU_NUM_CHANS + NXP_MU_NUM_GRPS + k], mu->grp_buf[first]);
	if (atomic_load(&mu->rxg_held) & (1u << k))
		cr_rmw(mu, NXP_MU_CR_RIEn(last), 0);
}

/* RX groups: the held ones asked for again, then complete groups, highest id first (as Zephyr's ipm_imx). */
static void grp_isr(struct nxp_mu *mu, uint32_t sr)
{
	uint32_t redo = atomic_exchange(&mu->rxg_redo, 0);
	for (unsigned k = 0; redo && k < NXP_MU_NUM_GRPS; k++) {
		uint32_t bit = 1u << k;
		if (!(redo & bit))
			continue;
		atomic_fetch_and(&mu->rxg_held, ~bit);
		grp_deliver(mu, k);
		if (!(atomic_load(&mu->rxg_held) & bit) && (atomic_load(&mu->rxg_on) & bit))
			cr_rmw(mu, 0, NXP_MU_CR_RIEn(grp_first(k) + grp_words(k) - 1u));
	}
	uint32_t on = atomic_load(&mu->rxg_on) & ~atomic_load(&mu->rxg_held);
	for (unsigned k = NXP_MU_NUM_GRPS; on && k-- > 0;) {
		uint32_t words = grp_words(k), first = grp_first(k), last = first + words - 1u;
		if (!(on & (1u << k)) || !(sr & NXP_MU_SR_RFn(last)))
			continue;
		uint32_t need = flags_of(((1u << words) - 1u) << first, 24u);
		if ((sr & need) != need) {
			/* The peer raised the group's last flag before filling the group: a protocol violation. Do not
			 * read (reading would free registers the peer still thinks full); count it. */
			atomic_fetch_add(&mu->rx_incomplete, 1);
			continue;
		}
		for (uint32_t i = 0; i < words; i++)
			mu->grp_buf[first][i] = rd(mu, NXP_MU_RR(first + i)); /* frees the peer's TE flags */
		grp_deliver(mu, k);
	}
}

void nxp_mu_isr(void *arg)
{
	struct nxp_mu *mu = (struct nxp_mu *)arg;
	unsigned key = ampl_spin_lock(&mu->isr_lock);
	uint32_t done = atomic_exchange(&mu->txdone_db, 0);
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
	grp_isr(mu, sr);
	uint32_t busy = atomic_load(&mu->tx_busy);
	for (unsigned n = 0; busy && n < NXP_MU_NUM_REGS; n++)
		if ((busy & (1u << n)) && (sr & NXP_MU_SR_TEn(n)))
			tx_check(mu, n);
	/* Flag writes reach the MU before the handler returns (ARM erratum 838869: Zephyr's DSB at ISR exit). */
	ampl_mb();
	ampl_spin_unlock(&mu->isr_lock, key);
}

int nxp_mu_ipm_config(struct nxp_mu *mu, uint32_t size, struct ipm_mbox_config *cfg)
{
	if (!AMPL_NXP_MU_IPM)
		return -ENOTSUP; /* IPM_MBOX_WAIT_IDLE and the ids are not built in */
	if (!mu || !cfg || (size != 4u && size != 8u && size != 16u))
		return -EINVAL;
	uint32_t words = size / 4u;
	cfg->tx = &mu->chans[NXP_MU_GRP_CHAN(0, words, 0)];
	cfg->rx = &mu->chans[NXP_MU_GRP_CHAN(1, words, 0)];
	cfg->num_ids = NXP_MU_NUM_REGS / words;
	cfg->size = size;
	cfg->flags = IPM_MBOX_WAIT_IDLE;
	return 0;
}

uint32_t nxp_mu_rx_incomplete(struct nxp_mu *mu)
{
	return mu ? atomic_load(&mu->rx_incomplete) : 0;
}
