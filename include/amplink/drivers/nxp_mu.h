/*
 * NXP i.MX Messaging Unit, version 1 (i.MX6SX/7D/8M/8QM, "fsl,imx6sx-mu" / Zephyr's "nxp,imx-mu"): a register-level
 * controller in the mailbox framework (as Linux's imx-mailbox) and Zephyr's IPM API (as Zephyr's ipm_imx).
 *
 * The block has two sides, A and B, each with the same registers. Side A's TRn is side B's RRn and the reverse:
 *
 *     side A                                           side B
 *     write TRn   -> A.TEn = 0, B.RFn = 1  --------->   (interrupt if B.RIEn)   read RRn -> B.RFn = 0, A.TEn = 1
 *     (interrupt if A.TIEn) <----------------------------------------------------------'
 *     CR.GIRn = 1 -> B.GIPn = 1 (interrupt if B.GIEn); A.GIRn reads 1 until B writes 1 to GIPn (W1C)
 *     CR.Fn       -> B.SR.Fn (three flag bits, no interrupt)          CR.MUR (side A only): reset both sides
 *
 * Flag index n = 0..3 is bit-reversed inside each nibble: flag n of a group whose nibble starts at bit `base` is
 * bit base + (3 - n), so TE0 is bit 23 (0x00800000), RF0 bit 27 (0x08000000) and GIP0 bit 31 (0x80000000).
 *
 * One `struct nxp_mu` drives one side. Two ways to use it, never both on one side (the second gets -EBUSY):
 *
 *   mailbox framework  16 channels, `#mbox-cells = <2>`: <type idx>, channel = type * 4 + idx (Linux's imx-mailbox)
 *       TX   (0)  a message is a pointer to a uint32_t, written to TRn; TX done by the TEn interrupt (txdone_irq)
 *       RX   (1)  RFn interrupt: RRn is read (which frees the peer's TEn) and rx_callback gets a pointer to the word
 *       TXDB (2)  doorbell: sets GIRn; TX done at once (Linux's tasklet): reported from the next run of the
 *                 interrupt handler, which send_data asks for through the soft_irq hook
 *       RXDB (3)  GIPn interrupt: GIPn is cleared (W1C) and rx_callback gets NULL
 *     Requesting a channel enables its interrupt (RIEn / GIEn); freeing it disables it.
 *
 *   IPM                as Zephyr's ipm_imx: a message is 4, 8 or 16 bytes (a device constant); the id selects a
 *       group of size/4 registers (id 0..4/(size/4)-1), so 4-byte messages give 4 ids, 8-byte 2 and 16-byte 1.
 *       The receiver is interrupted by the RF flag of the group's last register, checks that the RF flags of the
 *       whole group are set (otherwise the peer broke the protocol: the group is not read, the event is counted),
 *       reads the group and passes a copy of its words to the callback. Reading frees the sender's TE flags.
 *       ipm_send(): -EINVAL (bad arguments, id too large), -EMSGSIZE (more than the size), -EBUSY (a TE flag of
 *       the group is clear: without wait at once; with wait once the group stayed full for ack_timeout_us, or
 *       other senders filled it first each time it emptied; nothing is written, never a partial message); with
 *       wait it waits for the group to be empty, writes it (the last register last) and returns 0 once the
 *       receiver read the message: the TE flag of the last register is set again, or another sender on this
 *       device wrote the group after it (which it can do only once the receiver read ours); -ETIMEDOUT when the
 *       message is still unread after ack_timeout_us (it stays in the registers; Zephyr spins forever). Threads
 *       may send on one device at once: a group is checked and written under a lock, and each caller's return
 *       code is true of its own message.
 *
 * Everything comes through ampl_io_read32()/ampl_io_write32() on `regs`: the same code drives the silicon and the
 * virtual SoC's register model. Control-register read-modify-writes are serialised by a spinlock inside this
 * driver; two drivers (two operating systems) on one side of one MU are not supported, as on the silicon.
 *
 * Portable: builds freestanding.
 */
#ifndef AMPLINK_DRIVERS_NXP_MU_H
#define AMPLINK_DRIVERS_NXP_MU_H

#include <amplink/io.h>
#include <amplink/ipm.h>
#include <amplink/mailbox_controller.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- register map (32-bit registers, 4-byte accesses) ---- */

#define NXP_MU_TR(n) (0x00u + 4u * (uint32_t)(n)) /* TR0-3: transmit (write: send; read: the last word written) */
#define NXP_MU_RR(n) (0x10u + 4u * (uint32_t)(n)) /* RR0-3: receive (read: consume, clears RFn) */
#define NXP_MU_SR 0x20u                           /* status */
#define NXP_MU_CR 0x24u                           /* control */
#define NXP_MU_REG_SPAN 0x28u
#define NXP_MU_NUM_REGS 4u

/* Flag n of the nibble that starts at bit @base (index bit-reversed, as Linux's BIT(base + (3 - n))). */
#define NXP_MU_FLAG(base, n) (1u << ((base) + 3u - (uint32_t)(n)))

/* SR */
#define NXP_MU_SR_GIPn(n) NXP_MU_FLAG(28u, n) /* general interrupt pending (W1C) */
#define NXP_MU_SR_RFn(n) NXP_MU_FLAG(24u, n)  /* receive full (read-only; cleared by reading RRn) */
#define NXP_MU_SR_TEn(n) NXP_MU_FLAG(20u, n)  /* transmit empty (read-only; set when the peer reads its RRn) */
#define NXP_MU_SR_GIP_MASK 0xF0000000u
#define NXP_MU_SR_RF_MASK 0x0F000000u
#define NXP_MU_SR_TE_MASK 0x00F00000u
#define NXP_MU_SR_Fn_MASK 0x00000007u /* the peer's CR.Fn */
#define NXP_MU_SR_EP (1u << 4)        /* event pending (transient on the silicon; the model reads 0) */
#define NXP_MU_SR_FUP (1u << 8)       /* flags update pending (transient; the model reads 0) */

/* CR */
#define NXP_MU_CR_GIEn(n) NXP_MU_FLAG(28u, n) /* general interrupt enable */
#define NXP_MU_CR_RIEn(n) NXP_MU_FLAG(24u, n) /* receive-full interrupt enable */
#define NXP_MU_CR_TIEn(n) NXP_MU_FLAG(20u, n) /* transmit-empty interrupt enable */
#define NXP_MU_CR_GIRn(n) NXP_MU_FLAG(16u, n) /* general interrupt request (write 1; reads 1 until the peer's W1C) */
#define NXP_MU_CR_GIE_MASK 0xF0000000u
#define NXP_MU_CR_RIE_MASK 0x0F000000u
#define NXP_MU_CR_TIE_MASK 0x00F00000u
#define NXP_MU_CR_GIR_MASK 0x000F0000u
#define NXP_MU_CR_Fn_MASK 0x00000007u /* shown in the peer's SR.Fn */
#define NXP_MU_CR_MUR (1u << 5)       /* side A: reset both sides (self-clearing; reads 0) */

/* ---- mailbox framework channels (Linux dt-bindings: IMX_MU_TYPE_*) ---- */

#define NXP_MU_TYPE_TX 0u
#define NXP_MU_TYPE_RX 1u
#define NXP_MU_TYPE_TXDB 2u
#define NXP_MU_TYPE_RXDB 3u
#define NXP_MU_NUM_TYPES 4u
#define NXP_MU_NUM_CHANS (NXP_MU_NUM_TYPES * NXP_MU_NUM_REGS)
#define NXP_MU_CHAN(type, idx) ((type) * NXP_MU_NUM_REGS + (idx))
#define NXP_MU_MBOX_CELLS 2

/** Default bound on ipm_send(wait) for the remote to read the message (Zephyr spins forever). */
#define NXP_MU_ACK_TIMEOUT_US 1000000u

/**
 * struct nxp_mu - one side of one MU. Fill the first block, then nxp_mu_init().
 * @regs:         the side's registers (NXP_MU_REG_SPAN bytes)
 * @side_b:       this is side B (`fsl,mu-side-b`): init leaves the registers alone (side A owns the reset)
 * @no_reset:     side A, but do not reset either (the registers are already in use, e.g. by a bootloader that
 *                handed over, or by other processes of the same side in the virtual SoC)
 * @soft_irq:     optional: make this side's interrupt handler run soon (Linux's tasklet; firmware pends a software
 *                interrupt or the MU's own line, the virtual SoC rings the agent's interrupt line). Called from
 *                send_data with the channel lock held: it must not call into the framework. Without it, TX-doorbell
 *                completions wait for the next run of nxp_mu_isr().
 * @soft_irq_arg: its argument
 */
struct nxp_mu {
	struct ampl_io_region regs;
	bool side_b;
	bool no_reset;
	void (*soft_irq)(void *arg);
	void *soft_irq_arg;

	/* the framework controller; everything below is private */
	struct mbox_controller ctrl;
	struct mbox_chan chans[NXP_MU_NUM_CHANS];
	ampl_atomic_flag_t cr_lock;           /* CR read-modify-write; TX state */
	ampl_atomic_flag_t isr_lock;          /* one run of the handler at a time (the host may run it from two threads) */
	AMPL_ATOMIC(uint32_t) users;        /* NXP_MU_USER_IPM, or the number of framework channels in use */
	AMPL_ATOMIC(uint32_t) rx_on;        /* RX channels (bit n) with a client: their RIEn is ours */
	AMPL_ATOMIC(uint32_t) rxdb_on;      /* RXDB channels with a client: their GIEn is ours */
	AMPL_ATOMIC(uint32_t) tx_busy;      /* TX channels with a message in flight (under cr_lock) */
	AMPL_ATOMIC(uint32_t) tx_defer;     /* ... whose word waits for TEn before it is written (under cr_lock) */
	AMPL_ATOMIC(uint32_t) txdb_done;    /* TXDB channels whose TX done is due */
	uint32_t tx_word[NXP_MU_NUM_REGS];
	uint32_t rx_word[NXP_MU_NUM_REGS]; /* the word rx_callback points to (interrupt context) */
	AMPL_ATOMIC(const struct ampl_device *) ipm;  /* the IPM device driving this side, or NULL */
};

#define NXP_MU_USER_IPM 0x80000000u

/**
 * nxp_mu_init() - set up one side and register its framework controller under @node (may be NULL).
 * Side A (unless no_reset) is reset as Linux does: CR = 0, pending GIP flags cleared, RR0-3 drained.
 * Return: 0; -EINVAL (no regions); -EEXIST (a controller named @node is registered). Context: thread.
 */
int nxp_mu_init(struct nxp_mu *mu, const char *node);

/** nxp_mu_remove() - unregister the controller (clients see -ENODEV) and disable every interrupt this driver set. */
void nxp_mu_remove(struct nxp_mu *mu);

/** nxp_mu_of() - the MU a framework channel belongs to, or NULL if @chan is not an MU channel. */
struct nxp_mu *nxp_mu_of(struct mbox_chan *chan);

/**
 * nxp_mu_isr() - the side's interrupt handler (@mu is the struct nxp_mu). In this order: TX-doorbell completions,
 * RX doorbells (GIP), received words (RF), transmit-empty (TE) completions of TX channels; or, when an IPM device
 * drives the side, complete groups of enabled ids. Acts only on flags whose channel or id this driver enabled.
 * Context: interrupt.
 */
void nxp_mu_isr(void *mu);

/** nxp_mu_flags_set() - write CR.Fn (3 bits, seen by the peer in its SR.Fn). nxp_mu_flags_get() - the peer's. */
void nxp_mu_flags_set(struct nxp_mu *mu, uint32_t flags);
uint32_t nxp_mu_flags_get(struct nxp_mu *mu);

/* ---- IPM on top ---- */

/**
 * Constant configuration of an IPM device over one side.
 * @mu:             the side (set up with nxp_mu_init())
 * @data_size:      bytes per message: 4, 8 or 16 (Zephyr's CONFIG_IPM_IMX_MAX_DATA_SIZE)
 * @ack_timeout_us: ipm_send(wait) bound; 0: NXP_MU_ACK_TIMEOUT_US; UINT32_MAX: no bound (Zephyr)
 */
struct nxp_mu_ipm_config {
	struct nxp_mu *mu;
	uint32_t data_size;
	uint32_t ack_timeout_us;
};

/** Mutable state of an IPM device. Private. */
struct nxp_mu_ipm_data {
	AMPL_ATOMIC(ipm_callback_t) cb;
	AMPL_ATOMIC(void *) user_data;
	AMPL_ATOMIC(bool) enabled;
	AMPL_ATOMIC(bool) bound;
	ampl_atomic_flag_t tx_lock;                      /* check-and-write of a group */
	AMPL_ATOMIC(uint32_t) tx_seq[NXP_MU_NUM_REGS]; /* messages written per id (under tx_lock) */
	AMPL_ATOMIC(uint32_t) rx_incomplete;
	uint32_t rx_buf[NXP_MU_NUM_REGS];
};

extern const struct ipm_driver_api nxp_mu_ipm_api;

/**
 * nxp_mu_ipm_init() - the init hook of an IPM device (AMPL_DEVICE_DEFINE's init). The device takes the side at
 * its first use (send, callback, enable); from then on framework channels of that side answer -EBUSY, and if a
 * framework channel is in use first, the IPM calls answer -EBUSY (ipm_register_callback does nothing).
 * Return: 0; -EINVAL (no MU, or a data size other than 4, 8, 16).
 */
int nxp_mu_ipm_init(const struct ampl_device *dev);

/** nxp_mu_ipm_release() - disable the device's interrupts and give the side back (device unused afterwards). */
void nxp_mu_ipm_release(const struct ampl_device *dev);

/** nxp_mu_ipm_rx_incomplete() - how many times the handler found a group whose last RF flag was set but not all
 * the others (a peer that breaks the protocol); such a group is not read. */
uint32_t nxp_mu_ipm_rx_incomplete(const struct ampl_device *dev);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_DRIVERS_NXP_MU_H */
