/*
 * NXP i.MX Messaging Unit, version 1 (i.MX6SX/7D/8M/8QM, "fsl,imx6sx-mu" / Zephyr's "nxp,imx-mu"): a register-level
 * controller in the mailbox framework (as Linux's imx-mailbox), whose group channels carry Zephyr's IPM API (as
 * Zephyr's ipm_imx) through the generic IPM driver.
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
 * One `struct nxp_mu` drives one side: one framework controller. A TR or RR register belongs to one channel with a
 * client at a time (the second gets -EBUSY from request/bind); doorbells use no TR/RR register.
 *
 *   Linux channels     16 channels, `#mbox-cells = <2>`: <type idx>, channel = type * 4 + idx (Linux's imx-mailbox)
 *       TX   (0)  a message is a pointer to a uint32_t, written to TRn; TX done by the TEn interrupt (txdone_irq)
 *       RX   (1)  RFn interrupt: RRn is read (which frees the peer's TEn) and rx_callback gets a pointer to the word
 *       TXDB (2)  doorbell: sets GIRn; TX done at once (Linux's tasklet): reported from the next run of the
 *                 interrupt handler, which send_data asks for through the soft_irq hook
 *       RXDB (3)  GIPn interrupt: GIPn is cleared (W1C) and rx_callback gets NULL
 *     Requesting a channel enables its interrupt (RIEn / GIEn) unless the client asks for rx_off; freeing it
 *     disables it.
 *
 *   group channels     for IPM (Zephyr's ipm_imx) through the generic IPM driver (include/amplink/ipm_mbox.h):
 *       a group is size/4 consecutive registers (size 4, 8 or 16 bytes), id = group (id 0..4/(size/4)-1), so
 *       4-byte messages give 4 ids, 8-byte 2 and 16-byte 1. nxp_mu_ipm_config() names a device's channels
 *       (NXP_MU_GRP_CHAN). Used on the thin path (ampl_mbox_send_now(), the flush op); TX done is not reported.
 *       TX group  send_data: -EBUSY unless every TE flag of the group is set (nothing written, never a partial
 *                 message), else writes the group from the message (size bytes at the pointer), the last register
 *                 last; last_tx_done: every TE flag of the group set again (the receiver read it); flush waits
 *                 for that
 *       RX group  the RF flag of the group's last register interrupts (rx_enable: its RIE); the handler checks
 *                 that the RF flags of the whole group are set (otherwise the peer broke the protocol: the group
 *                 is not read, the event is counted: nxp_mu_rx_incomplete()), reads the group (freeing the
 *                 sender's TE flags) and passes a copy of its words to rx_callback. hold keeps that copy (the
 *                 group's interrupt masked) until redeliver, which delivers it again from the handler (soft_irq).
 *     An IPM device (ipm_mbox_api with nxp_mu_ipm_config()) answers as Zephyr's ipm_imx: ipm_send() -EINVAL (bad
 *     arguments, id too large), -EMSGSIZE (more than the size), -EBUSY (a TE flag of the group is clear: without
 *     wait at once; with wait once the group stayed full for ack_timeout_us, or other senders filled it first
 *     each time it emptied; nothing is written); with wait it waits for the group to be empty, writes it and
 *     returns 0 once the receiver read the message (or another sender on the device wrote the group after it);
 *     -ETIMEDOUT when the message is still unread after ack_timeout_us (it stays in the registers; Zephyr spins
 *     forever). Threads may send on one device at once; each caller's return code is true of its own message.
 *     A group that arrives while the device is disabled stays in the registers; one that arrives while it has no
 *     callback is held and delivered once it has one.
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
#include <amplink/ipm_mbox.h>

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

/* ---- group channels (after the Linux ones; not named by devicetree) ---- */

#define NXP_MU_TYPE_TXG 4u
#define NXP_MU_TYPE_RXG 5u
#define NXP_MU_NUM_GRPS 7u /* per direction: four 1-word groups, two 2-word groups, one 4-word group */
/* The channel of group @id of @words words (1, 2, 4), @rx 0 (TX) or 1 (RX); ids of one size are consecutive. */
#define NXP_MU_GRP_CHAN(rx, words, id) \
	(NXP_MU_NUM_CHANS + (rx) * NXP_MU_NUM_GRPS + (8u - 8u / (words)) + (id))
#define NXP_MU_NUM_ALL_CHANS (NXP_MU_NUM_CHANS + 2u * NXP_MU_NUM_GRPS)

/** Default bound on ipm_send(wait) for the remote to read the message (Zephyr spins forever). */
#define NXP_MU_ACK_TIMEOUT_US IPM_MBOX_ACK_TIMEOUT_US

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
	struct mbox_chan chans[NXP_MU_NUM_ALL_CHANS];
	ampl_atomic_flag_t cr_lock;           /* CR read-modify-write; register claims; TX state */
	ampl_atomic_flag_t isr_lock;          /* one run of the handler at a time (the host may run it from two threads) */
	uint32_t tr_claim, rr_claim;          /* TR / RR registers (bit n) of channels with a client (under cr_lock) */
	AMPL_ATOMIC(uint32_t) rx_on;        /* RX channels (bit n) with their interrupt on: their RIEn is ours */
	AMPL_ATOMIC(uint32_t) rxdb_on;      /* RXDB channels with their interrupt on: their GIEn is ours */
	AMPL_ATOMIC(uint32_t) rxg_on;       /* RX group channels (bit k) with their interrupt on */
	AMPL_ATOMIC(uint32_t) rxg_held;     /* ... whose last group is held by the client (its RIE masked) */
	AMPL_ATOMIC(uint32_t) rxg_redo;     /* ... whose held group is to be delivered again */
	AMPL_ATOMIC(uint32_t) rx_incomplete; /* groups found with the last RF flag set but not all the others */
	AMPL_ATOMIC(uint32_t) tx_busy;      /* TX channels with a message in flight (under cr_lock) */
	AMPL_ATOMIC(uint32_t) tx_defer;     /* ... whose word waits for TEn before it is written (under cr_lock) */
	AMPL_ATOMIC(uint32_t) txdone_db;    /* TXDB channels whose TX done is due */
	uint32_t tx_word[NXP_MU_NUM_REGS];
	uint32_t rx_word[NXP_MU_NUM_REGS]; /* the word rx_callback points to (interrupt context) */
	uint32_t grp_buf[NXP_MU_NUM_REGS][NXP_MU_NUM_REGS]; /* the copy of a group, by its first register */
};

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
 * RX doorbells (GIP), received words (RF), held groups to deliver again, complete groups (highest id first),
 * transmit-empty (TE) completions of TX channels. Acts only on flags whose channel this driver enabled.
 * Context: interrupt.
 */
void nxp_mu_isr(void *mu);

/** nxp_mu_flags_set() - write CR.Fn (3 bits, seen by the peer in its SR.Fn). nxp_mu_flags_get() - the peer's. */
void nxp_mu_flags_set(struct nxp_mu *mu, uint32_t flags);
uint32_t nxp_mu_flags_get(struct nxp_mu *mu);

/* ---- IPM ---- */

/**
 * nxp_mu_ipm_config() - the channels of an IPM device of @size bytes per message (4, 8 or 16: Zephyr's
 * CONFIG_IPM_IMX_MAX_DATA_SIZE) on @mu, for the generic IPM driver (ipm_mbox_api, init hook ipm_mbox_init): sets
 * @cfg's tx, rx, num_ids, size and flags (IPM_MBOX_WAIT_IDLE); ack_timeout_us is the caller's. The device takes
 * its channels, and so the registers of every id, at its first use (send, callback, enable).
 * Return: 0; -EINVAL (no MU or @cfg, another size); -ENOTSUP (built without AMPL_NXP_MU_IPM, <amplink/ipm_mbox.h>).
 * Context: any.
 */
int nxp_mu_ipm_config(struct nxp_mu *mu, uint32_t size, struct ipm_mbox_config *cfg);

/** nxp_mu_rx_incomplete() - how many times the handler found a group whose last RF flag was set but not all the
 * others (a peer that breaks the protocol); such a group is not read. */
uint32_t nxp_mu_rx_incomplete(struct nxp_mu *mu);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_DRIVERS_NXP_MU_H */
