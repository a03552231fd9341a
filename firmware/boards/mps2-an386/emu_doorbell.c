/*
 * The emulator doorbell on a CMSDK APB UART (Arm DDI0479C, 4.3), as QEMU 7.2 models it (hw/char/cmsdk-apb-uart.c):
 * a one-byte holding register each way, no FIFO; QEMU offers the next byte of the socket only once DATA was read.
 */
#include "emu_doorbell.h"
#include "emu_trace.h"

#include "board.h"

#define UART_DATA 0x00u
#define UART_STATE 0x04u
#define UART_CTRL 0x08u
#define UART_INTSTATUS 0x0Cu /* read: status; write 1: clear */
#define UART_BAUDDIV 0x10u
#define STATE_TXFULL (1u << 0)
#define STATE_RXFULL (1u << 1)
#define CTRL_TX_EN (1u << 0)
#define CTRL_RX_EN (1u << 1)
#define CTRL_RX_INTEN (1u << 3)
#define INT_RX (1u << 1)
#define BAUDDIV_MIN 16u /* QEMU ignores the line below it */

static volatile uint32_t *uart_reg(const struct emu_doorbell *db, uint32_t off)
{
	return (volatile uint32_t *)(db->cfg->uart_base + off);
}

static struct emu_doorbell *to_db(struct mbox_chan *chan)
{
	return AMPL_CONTAINER_OF(chan->mbox, struct emu_doorbell, mbox);
}

static int db_send_data(struct mbox_chan *chan, void *data)
{
	struct emu_doorbell *db = to_db(chan);

	(void)data;
	if (chan != &db->chans[EMU_DOORBELL_TX])
		return -EINVAL; /* the rx channel only receives */
	if (db->polling) {
		/* Release: the ring data the consumer wrote before ringing is visible before the count moves. */
		atomic_fetch_add_explicit(&db->cfg->boot->bell_to_host, 1u, memory_order_release);
	} else {
		if (*uart_reg(db, UART_STATE) & STATE_TXFULL)
			return -EBUSY; /* the previous byte is still leaving: the framework retries */
		/* The ring data lives in normal memory and DATA is a device register: order them for the host. */
		ampl_mb();
		*uart_reg(db, UART_DATA) = 1u;
	}
	db->rings_out++;
	return 0;
}

static bool db_last_tx_done(struct mbox_chan *chan)
{
	struct emu_doorbell *db = to_db(chan);

	return db->polling || !(*uart_reg(db, UART_STATE) & STATE_TXFULL);
}

static const struct mbox_chan_ops db_ops = {
	.send_data = db_send_data,
	.last_tx_done = db_last_tx_done,
};

static void db_rx_isr(void *arg)
{
	struct emu_doorbell *db = arg;
	bool rang = false;

	/* Tracing as the host says now, not as main's loop last read it before it slept: a host that turned tracing
	 * on before its first ring sees every event of the pass that ring starts. */
	emu_trace_follow();

	/* Clear before draining: a byte that arrives after the last read raises the interrupt again. Clearing after
	 * the drain would lose that byte's interrupt and leave the core asleep with a ring pending. */
	*uart_reg(db, UART_INTSTATUS) = INT_RX;
	while (*uart_reg(db, UART_STATE) & STATE_RXFULL) {
		(void)*uart_reg(db, UART_DATA);
		db->rings_in++;
		rang = true;
	}
	if (rang)
		mbox_chan_received_data(&db->chans[EMU_DOORBELL_RX], NULL);
}

int emu_doorbell_init(struct emu_doorbell *db, const struct emu_doorbell_config *cfg, uint32_t mode)
{
	if (!db || !cfg || !cfg->node || !cfg->boot ||
	    (mode != AMPL_EMU_DOORBELL_IRQ && mode != AMPL_EMU_DOORBELL_POLL))
		return -EINVAL;
	db->cfg = cfg;
	db->polling = mode == AMPL_EMU_DOORBELL_POLL;
	db->seen = atomic_load_explicit(&cfg->boot->bell_to_fw, memory_order_acquire);
	db->mbox.node = cfg->node;
	db->mbox.ops = &db_ops;
	db->mbox.chans = db->chans;
	db->mbox.num_chans = 2;
	db->mbox.txdone_poll = true;
	db->mbox.txpoll_period = 1;

	/* TX is always on (the host may wait for a ring in either mode); RX raises an interrupt in interrupt mode. */
	*uart_reg(db, UART_BAUDDIV) = BAUDDIV_MIN;
	*uart_reg(db, UART_CTRL) = CTRL_TX_EN | (db->polling ? 0u : CTRL_RX_EN | CTRL_RX_INTEN);
	int r = mbox_controller_register(&db->mbox);
	if (r || db->polling)
		return r;
	/* QEMU 7.2: the socket is offered to the UART again only when its main loop next polls it; a read of DATA
	 * right after enabling RX makes the first bytes arrive at once instead of about a second later. */
	(void)*uart_reg(db, UART_DATA);
	r = board_irq_connect(cfg->rx_irq, db_rx_isr, db);
	if (r)
		mbox_controller_unregister(&db->mbox);
	return r;
}

bool emu_doorbell_poll(struct emu_doorbell *db)
{
	/* Acquire: the ring data the host wrote before moving the count is read after it. */
	uint32_t now = atomic_load_explicit(&db->cfg->boot->bell_to_fw, memory_order_acquire);

	if (now == db->seen)
		return false;
	db->rings_in += now - db->seen;
	db->seen = now;
	mbox_chan_received_data(&db->chans[EMU_DOORBELL_RX], NULL);
	return true;
}

void emu_doorbell_rings(const struct emu_doorbell *db, uint32_t *in, uint32_t *out)
{
	*in = db->rings_in;
	*out = db->rings_out;
}
