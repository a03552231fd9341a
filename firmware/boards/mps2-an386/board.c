/*
 * mps2-an386: interrupt dispatch, the SysTick clock behind ampl_os_uptime_us(), the idle loop (WFI) with the
 * mailbox framework's TX-done ticker, and semihosting output and exit.
 */
#include <amplink/errno.h>
#include <amplink/mailbox_controller.h>

#include "board.h"

/* System control space (ARMv7-M ARM, B3.2 / B3.3 / B3.4). */
#define SCS_REG(off) (*(volatile uint32_t *)(uintptr_t)(0xE000E000u + (off)))
#define SYST_CSR SCS_REG(0x010)
#define SYST_RVR SCS_REG(0x014)
#define SYST_CVR SCS_REG(0x018)
#define NVIC_ISER(n) SCS_REG(0x100 + 4 * (n))
#define SCB_ICSR SCS_REG(0xD04)
#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2) /* the processor clock */
#define SCB_ICSR_PENDSTSET (1u << 26)

#define TICKS_PER_US (MPS2_SYSCLK_HZ / 1000000u)
#define SYST_RELOAD (MPS2_SYSCLK_HZ / 1000u - 1u) /* one interrupt per millisecond */

/* Semihosting (Arm "Semihosting for AArch32 and AArch64"): BKPT 0xAB on M-profile. */
#define SH_SYS_WRITE0 0x04u
#define SH_SYS_EXIT_EXTENDED 0x20u
#define SH_ADP_STOPPED_APPLICATION_EXIT 0x20026u

void mps2_systick_handler(void);
void mps2_irq_dispatch(void);

struct irq_entry {
	void (*fn)(void *arg);
	void *arg;
};

static struct irq_entry irq_table[MPS2_NUM_IRQ];
static volatile uint32_t ms_lo, ms_hi; /* milliseconds since board_init(), written by SysTick only */
static volatile uint32_t ms_gen;       /* odd while SysTick updates ms_lo/ms_hi */
static atomic_bool mbox_poll_pending;

static uint32_t semihost(uint32_t op, const void *arg)
{
	register uint32_t r0 __asm__("r0") = op;
	register const void *r1 __asm__("r1") = arg;

	__asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
	return r0;
}

void board_puts(const char *s)
{
	(void)semihost(SH_SYS_WRITE0, s);
}

void board_put_u32(const char *label, uint32_t value)
{
	char buf[16];
	unsigned i = sizeof(buf);

	buf[--i] = '\0';
	buf[--i] = '\n';
	do {
		buf[--i] = (char)('0' + value % 10u);
		value /= 10u;
	} while (value);
	buf[--i] = ' ';
	board_puts(label);
	board_puts(&buf[i]);
}

_Noreturn void board_exit(int code)
{
	/* SYS_EXIT_EXTENDED takes a block {reason, code} on AArch32 too, so QEMU exits with @code itself (plain
	 * SYS_EXIT only knows success or failure there). */
	const uint32_t block[2] = { SH_ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code };

	for (;;)
		(void)semihost(SH_SYS_EXIT_EXTENDED, block);
}

int board_irq_connect(unsigned irq, void (*fn)(void *arg), void *arg)
{
	if (irq >= MPS2_NUM_IRQ || !fn)
		return -EINVAL;
	unsigned key = ampl_irq_lock();
	irq_table[irq].fn = fn;
	irq_table[irq].arg = arg;
	ampl_irq_unlock(key);
	NVIC_ISER(irq / 32u) = 1u << (irq % 32u);
	return 0;
}

void mps2_irq_dispatch(void)
{
	uint32_t ipsr;

	__asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
	uint32_t irq = (ipsr & 0x1ffu) - 16u;
	if (irq < MPS2_NUM_IRQ && irq_table[irq].fn) {
		irq_table[irq].fn(irq_table[irq].arg);
		return;
	}
	board_put_u32("mps2-an386: interrupt without handler", irq);
	board_exit(BOARD_EXIT_FAULT);
}

void mps2_systick_handler(void)
{
	/* A reader in thread context retries while ms_gen is odd or changed (a 64-bit count on a 32-bit core). */
	ms_gen++;
	if (++ms_lo == 0)
		ms_hi++;
	ms_gen++;
}

void board_init(void)
{
	SYST_RVR = SYST_RELOAD;
	SYST_CVR = 0;
	SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
	__asm__ volatile("cpsie i" ::: "memory");
}

uint64_t ampl_os_uptime_us(void)
{
	uint32_t gen, lo, hi, val, pend;

	do {
		gen = ms_gen;
		lo = ms_lo;
		hi = ms_hi;
		val = SYST_CVR;
		pend = SCB_ICSR & SCB_ICSR_PENDSTSET;
	} while ((gen & 1u) || gen != ms_gen);
	uint64_t ms = ((uint64_t)hi << 32) | lo;
	/* With interrupts masked the counter may have wrapped without its handler running yet: the interrupt is
	 * pending, and a counter read after the wrap is high again (it counts down from the reload value). */
	if (pend && val > SYST_RELOAD / 2u)
		ms++;
	return ms * 1000u + (SYST_RELOAD - val) / TICKS_PER_US;
}

/* The framework's poll hook (weak default in src/port/baremetal/os.c): the idle loop runs the ticker. */
void ampl_mbox_poll_kick(struct mbox_controller *mbox)
{
	(void)mbox;
	atomic_store(&mbox_poll_pending, true);
}

void board_idle(bool (*busy)(void *arg), void *arg)
{
	if (atomic_exchange(&mbox_poll_pending, false) && mbox_poll_all())
		atomic_store(&mbox_poll_pending, true); /* still active: poll again after the next tick */
	/* Masked, so that an interrupt that makes @busy true between the test and the WFI is not lost: WFI wakes on
	 * a pending interrupt even with PRIMASK set, and the handler runs when the mask is lifted. */
	__asm__ volatile("cpsid i" ::: "memory");
	if (!busy || !busy(arg))
		__asm__ volatile("wfi" ::: "memory");
	__asm__ volatile("cpsie i" ::: "memory");
}
