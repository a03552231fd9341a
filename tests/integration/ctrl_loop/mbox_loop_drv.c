/* The loopback controller's driver (mbox_loop.h): the mailbox framework's ops over its registers. Portable. */
#include "mbox_loop.h"

static struct mbox_loop *loop_of(struct mbox_chan *chan)
{
	return chan->con_priv;
}

static unsigned index_of(struct mbox_chan *chan)
{
	return (unsigned)(chan - loop_of(chan)->chans);
}

static int loop_send(struct mbox_chan *chan, void *data)
{
	ampl_io_write32(&loop_of(chan)->regs, MBOX_LOOP_DATA(index_of(chan)), data ? *(const uint32_t *)data : 0u);
	return 0;
}

static bool loop_last_tx_done(struct mbox_chan *chan)
{
	return !(ampl_io_read32(&loop_of(chan)->regs, MBOX_LOOP_STATUS) & 1u << (index_of(chan) ^ 1u));
}

static int loop_startup(struct mbox_chan *chan)
{
	struct mbox_loop *l = loop_of(chan);
	ampl_io_write32(&l->regs, MBOX_LOOP_ENABLE, ampl_io_read32(&l->regs, MBOX_LOOP_ENABLE) | 1u << index_of(chan));
	return 0;
}

static void loop_shutdown(struct mbox_chan *chan)
{
	struct mbox_loop *l = loop_of(chan);
	ampl_io_write32(&l->regs, MBOX_LOOP_ENABLE, ampl_io_read32(&l->regs, MBOX_LOOP_ENABLE) & ~(1u << index_of(chan)));
}

static const struct mbox_chan_ops loop_ops = {
	.send_data = loop_send,
	.startup = loop_startup,
	.shutdown = loop_shutdown,
	.last_tx_done = loop_last_tx_done,
};

int mbox_loop_init(struct mbox_loop *l, const char *node)
{
	for (unsigned i = 0; i < MBOX_LOOP_CHANS; i++)
		l->chans[i] = (struct mbox_chan){ .con_priv = l };
	l->ctrl = (struct mbox_controller){ .node = node, .ops = &loop_ops, .chans = l->chans,
					    .num_chans = MBOX_LOOP_CHANS, .txdone_poll = true, .max_msg_size = 4,
					    .raw_msg = true };
	return mbox_controller_register(&l->ctrl);
}

void mbox_loop_remove(struct mbox_loop *l)
{
	mbox_controller_unregister(&l->ctrl);
}

void mbox_loop_isr(void *arg)
{
	struct mbox_loop *l = arg;
	uint32_t due = ampl_io_read32(&l->regs, MBOX_LOOP_STATUS) & ampl_io_read32(&l->regs, MBOX_LOOP_ENABLE);
	for (unsigned i = 0; i < MBOX_LOOP_CHANS; i++) {
		if (!(due & 1u << i))
			continue;
		uint32_t word = ampl_io_read32(&l->regs, MBOX_LOOP_DATA(i));
		mbox_chan_received_data(&l->chans[i], &word);
	}
}
