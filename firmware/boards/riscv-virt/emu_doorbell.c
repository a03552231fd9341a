/*
 * The emulator doorbell (emu_doorbell.h) on the virt machine's NS16550A UART as QEMU 7.2 models it
 * (hw/char/serial.c): byte-wide registers, a 16-byte FIFO each way (enabled here, the receive interrupt at one
 * byte), a level interrupt to the PLIC while received data waits, so a byte that arrives while the handler drains
 * raises it again after the claim is completed and no ring is lost. Unlike mps2-an386's UART, no dummy read of
 * the receive register after enabling it: with the FIFO on, QEMU offers the socket's bytes while there is room, and
 * a dummy read could swallow a ring.
 */
#include "emu_doorbell.h"
#include "emu_trace.h"

#include "board.h"

#define UART_RBR 0u /* read: receive buffer; write: THR */
#define UART_THR 0u
#define UART_IER 1u
#define UART_FCR 2u /* write */
#define UART_LCR 3u
#define UART_LSR 5u
#define IER_RDI 0x01u   /* received data available */
#define FCR_ENABLE 0x01u
#define FCR_CLEAR_RX 0x02u
#define FCR_CLEAR_TX 0x04u /* trigger level bits 7:6 zero: one byte */
#define LCR_8N1 0x03u
#define LSR_DR 0x01u   /* data ready */
#define LSR_THRE 0x20u /* the transmit FIFO is empty */

static volatile uint8_t *uart_reg(const struct emu_doorbell *db, uint32_t off)
{
	return (volatile uint8_t *)(db->cfg->uart_base + off);
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
		if (!(*uart_reg(db, UART_LSR) & LSR_THRE))
			return -EBUSY; /* the previous byte is still leaving: the framework retries */
		/* The ring data lives in normal memory and THR is a device register: order them for the host. */
		ampl_mb();
		*uart_reg(db, UART_THR) = 1u;
	}
	db->rings_out++;
	return 0;
}

static bool db_last_tx_done(struct mbox_chan *chan)
{
	struct emu_doorbell *db = to_db(chan);

	return db->polling || (*uart_reg(db, UART_LSR) & LSR_THRE);
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

	while (*uart_reg(db, UART_LSR) & LSR_DR) {
		(void)*uart_reg(db, UART_RBR);
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

	/* TX is always usable (the host may wait for a ring in either mode); RX interrupts in interrupt mode only. */
	*uart_reg(db, UART_IER) = 0u;
	*uart_reg(db, UART_LCR) = LCR_8N1;
	*uart_reg(db, UART_FCR) = FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX;
	int r = mbox_controller_register(&db->mbox);
	if (r || db->polling)
		return r;
	r = board_irq_connect(cfg->rx_irq, db_rx_isr, db);
	if (r) {
		mbox_controller_unregister(&db->mbox);
		return r;
	}
	*uart_reg(db, UART_IER) = IER_RDI;
	return 0;
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
