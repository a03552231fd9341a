/*
 * The virtual SoC's IPI under the emulator, firmware end: see emu_mbox.h and <amplink/emu.h> (the mailbox area).
 */
#include "emu_mbox.h"

static struct emu_mbox *to_m(struct mbox_chan *chan)
{
	return AMPL_CONTAINER_OF(chan->mbox, struct emu_mbox, mbox);
}

static unsigned chan_index(struct emu_mbox *m, struct mbox_chan *chan)
{
	return (unsigned)(chan - m->chans) / 2u;
}

/* Ring the host (the bridge re-reads every slot on any ring). A full doorbell queue already holds rings: drop. */
static void ring_host(struct emu_mbox *m)
{
	(void)mbox_client_tx_busy(m->ring_tx); /* completes a ring already taken, so this one goes out now */
	(void)mbox_send_message(m->ring_tx, NULL);
}

/* Put a message in the to_host slot of @i. -EBUSY while the previous request is not acknowledged. */
static int slot_send(struct emu_mbox *m, unsigned i, uint32_t id, const void *data, size_t len)
{
	struct ampl_emu_slot *s = &m->cfg->area->chans[i].to_host;
	uint32_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);

	if (m->mode[i] == AMPL_EMU_CHAN_REQUEST) {
		if (atomic_load_explicit(&s->ack, memory_order_acquire) != seq)
			return -EBUSY;
		s->id = id;
		ampl_memset(s->req, 0, sizeof(s->req));
		if (len)
			ampl_memcpy(s->req, data, len);
	}
	/* Release: the request (or the ring's data in the protocol's rings) is visible once seq moves. */
	atomic_store_explicit(&s->seq, seq + 1u, memory_order_release);
	ring_host(m);
	return 0;
}

static int mbox_send(struct mbox_chan *chan, void *data)
{
	struct emu_mbox *m = to_m(chan);
	unsigned i = chan_index(m, chan);

	if ((unsigned)(chan - m->chans) % 2u)
		return -EINVAL; /* rx channels only receive */
	if (data && m->mode[i] != AMPL_EMU_CHAN_REQUEST)
		return -EMSGSIZE; /* a doorbell carries no data */
	return slot_send(m, i, 0, data, data ? AMPL_EMU_MBOX_DATA : 0u);
}

static bool mbox_last_tx_done(struct mbox_chan *chan)
{
	struct emu_mbox *m = to_m(chan);
	unsigned i = chan_index(m, chan);
	struct ampl_emu_slot *s = &m->cfg->area->chans[i].to_host;

	return m->mode[i] != AMPL_EMU_CHAN_REQUEST ||
	       atomic_load_explicit(&s->ack, memory_order_acquire) == atomic_load_explicit(&s->seq, memory_order_relaxed);
}

static const struct mbox_chan_ops emu_mbox_ops = {
	.send_data = mbox_send,
	.last_tx_done = mbox_last_tx_done,
};

/* Deliver what the host sent on channel @i, if anything. Runs in the doorbell's RX context only. */
static void scan_chan(struct emu_mbox *m, unsigned i)
{
	struct ampl_emu_slot *s = &m->cfg->area->chans[i].to_fw;
	uint32_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
	const struct ampl_device *dev = m->ipm[i];
	struct emu_ipm_data *d = dev ? dev->data : NULL;

	if (seq == m->seen[i])
		return;
	if (m->mode[i] == AMPL_EMU_CHAN_DOORBELL) {
		/* Record before draining: a ring the host makes after this store is seen as a new one. */
		m->seen[i] = seq;
		atomic_store_explicit(&s->ack, seq, memory_order_release);
		if (d && d->cb && d->enabled)
			d->cb(dev, d->user_data, 0, NULL);
		else
			(void)ampl_mbox_chan_deliver(&m->chans[2u * i + 1u], NULL);
		return;
	}
	if (seq - m->seen[i] != 1u)
		m->errors++; /* the host has one request in flight per direction: count it, take the newest */
	ampl_memcpy(m->rx_copy, s->req, sizeof(m->rx_copy));
	ampl_memset(s->resp, 0, sizeof(s->resp));
	m->resp_chan = (int)i;
	bool taken;
	if (d && d->cb) {
		taken = d->enabled;
		if (taken)
			d->cb(dev, d->user_data, s->id, m->rx_copy);
	} else {
		taken = ampl_mbox_chan_deliver(&m->chans[2u * i + 1u], m->rx_copy);
	}
	m->resp_chan = -1;
	if (!taken)
		return; /* no consumer yet: left pending, delivered when one appears (the host sees it unacknowledged) */
	m->seen[i] = seq;
	atomic_store_explicit(&s->ack, seq, memory_order_release);
	ring_host(m);
}

static void on_ring(struct mbox_client *cl, void *msg)
{
	struct emu_mbox *m = AMPL_CONTAINER_OF(cl, struct emu_mbox, ring_cl);

	(void)msg;
	for (unsigned i = 0; i < m->num; i++)
		scan_chan(m, i);
}

int emu_mbox_init(struct emu_mbox *m, const struct emu_mbox_config *cfg)
{
	if (!m || !cfg || !cfg->area || !cfg->db || !cfg->node)
		return -EINVAL;
	const struct ampl_emu_mbox *a = cfg->area;
	if (a->magic != AMPL_EMU_MBOX_MAGIC || a->num_chans == 0 || a->num_chans > AMPL_EMU_MBOX_CHANS)
		return -EPROTO;
	ampl_memset(m, 0, sizeof(*m));
	m->cfg = cfg;
	m->num = a->num_chans;
	m->resp_chan = -1;
	for (unsigned i = 0; i < m->num; i++) {
		m->mode[i] = a->chans[i].mode;
		if (m->mode[i] != AMPL_EMU_CHAN_REQUEST && m->mode[i] != AMPL_EMU_CHAN_DOORBELL &&
		    m->mode[i] != AMPL_EMU_CHAN_UNUSED)
			return -EPROTO;
		/* What the host sent before this boot is not ours to answer (a reset mid-request): start from here. A
		 * request the dead boot never acknowledged was discarded on the host's side and its sender told so (the
		 * bridge's agent went offline): start past it, never answer it now. A doorbell is only "look at the
		 * rings", which a new boot does anyway: start from the last acknowledged one, as before. */
		const struct ampl_emu_slot *s = &a->chans[i].to_fw;
		m->seen[i] = m->mode[i] == AMPL_EMU_CHAN_REQUEST ? atomic_load_explicit(&s->seq, memory_order_acquire)
								  : atomic_load_explicit(&s->ack, memory_order_acquire);
	}
	m->mbox.node = cfg->node;
	m->mbox.ops = &emu_mbox_ops;
	m->mbox.chans = m->chans;
	m->mbox.num_chans = (int)(2u * m->num);
	m->mbox.txdone_poll = true;
	m->mbox.txpoll_period = 1;
	m->mbox.max_msg_size = AMPL_EMU_MBOX_DATA;
	int r = mbox_controller_register(&m->mbox);
	if (r)
		return r;
	m->ring_cl.rx_callback = on_ring;
	r = mbox_bind_client(&cfg->db->chans[EMU_DOORBELL_TX], &m->ring_cl);
	if (!r)
		r = mbox_bind_client(&cfg->db->chans[EMU_DOORBELL_RX], &m->ring_cl);
	if (r) {
		mbox_controller_unregister(&m->mbox);
		return r;
	}
	m->ring_tx = &cfg->db->chans[EMU_DOORBELL_TX];
	return 0;
}

uint32_t emu_mbox_mode(const struct emu_mbox *m, unsigned chan)
{
	return m && chan < m->num ? m->mode[chan] : AMPL_EMU_CHAN_UNUSED;
}

/* ---- IPM ---- */

static int ipm_chan(const struct ampl_device *dev, struct emu_mbox **m, unsigned *i)
{
	const struct emu_ipm_config *c = dev ? dev->config : NULL;
	if (!c || !c->mbox || c->chan >= c->mbox->num)
		return -EINVAL;
	*m = c->mbox;
	*i = c->chan;
	c->mbox->ipm[c->chan] = dev;
	return 0;
}

static int emu_ipm_send(const struct ampl_device *dev, int wait, uint32_t id, const void *data, int size)
{
	struct emu_mbox *m;
	unsigned i;
	if (ipm_chan(dev, &m, &i) || size < 0 || (size && !data) || id > 0)
		return -EINVAL;
	if (m->mode[i] != AMPL_EMU_CHAN_REQUEST && size)
		return -EMSGSIZE;
	if ((unsigned)size > AMPL_EMU_MBOX_DATA)
		return -EMSGSIZE;
	int r = slot_send(m, i, id, data, (size_t)size);
	if (r || !wait || m->mode[i] != AMPL_EMU_CHAN_REQUEST)
		return r;
	struct ampl_emu_slot *s = &m->cfg->area->chans[i].to_host;
	uint32_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
	uint64_t start = ampl_os_uptime_us();
	while (atomic_load_explicit(&s->ack, memory_order_acquire) != seq) {
		if (ampl_os_uptime_us() - start > EMU_MBOX_ACK_TIMEOUT_US)
			return -ETIMEDOUT;
		ampl_cpu_relax();
	}
	return 0;
}

static void emu_ipm_register_callback(const struct ampl_device *dev, ipm_callback_t cb, void *user_data)
{
	struct emu_mbox *m;
	unsigned i;
	if (ipm_chan(dev, &m, &i))
		return;
	struct emu_ipm_data *d = dev->data;
	d->cb = cb;
	d->user_data = user_data;
}

static int emu_ipm_max_data_size_get(const struct ampl_device *dev)
{
	struct emu_mbox *m;
	unsigned i;
	if (ipm_chan(dev, &m, &i))
		return 0;
	return m->mode[i] == AMPL_EMU_CHAN_REQUEST ? (int)AMPL_EMU_MBOX_DATA : 0;
}

static uint32_t emu_ipm_max_id_val_get(const struct ampl_device *dev)
{
	(void)dev;
	return 0; /* the IPI has no message id */
}

static int emu_ipm_set_enabled(const struct ampl_device *dev, int enable)
{
	struct emu_mbox *m;
	unsigned i;
	if (ipm_chan(dev, &m, &i))
		return -EINVAL;
	struct emu_ipm_data *d = dev->data;
	d->enabled = enable != 0;
	if (enable) {
		/* A request that waited for a consumer: deliver it now, in the RX context's place (interrupts off). */
		unsigned key = ampl_irq_lock();
		scan_chan(m, i);
		ampl_irq_unlock(key);
	}
	return 0;
}

const struct ipm_driver_api emu_ipm_api = {
	.send = emu_ipm_send,
	.register_callback = emu_ipm_register_callback,
	.max_data_size_get = emu_ipm_max_data_size_get,
	.max_id_val_get = emu_ipm_max_id_val_get,
	.set_enabled = emu_ipm_set_enabled,
};

int emu_ipm_response_write(const struct ampl_device *dev, const void *data, size_t len)
{
	struct emu_mbox *m;
	unsigned i;
	if (ipm_chan(dev, &m, &i) || m->resp_chan != (int)i || (len && !data))
		return -EINVAL;
	if (m->mode[i] != AMPL_EMU_CHAN_REQUEST)
		return -ENOTSUP;
	if (len > AMPL_EMU_MBOX_DATA)
		return -EMSGSIZE;
	ampl_memcpy(m->cfg->area->chans[i].to_fw.resp, data, len);
	return 0;
}

int emu_ipm_response_read(const struct ampl_device *dev, void *buf, size_t len)
{
	struct emu_mbox *m;
	unsigned i;
	if (ipm_chan(dev, &m, &i) || (len && !buf))
		return -EINVAL;
	if (len > AMPL_EMU_MBOX_DATA)
		return -EMSGSIZE;
	ampl_memcpy(buf, m->cfg->area->chans[i].to_host.resp, len);
	return 0;
}
