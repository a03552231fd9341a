/*
 * riscv-virt: trap dispatch (machine timer, PLIC), the machine timer behind ampl_os_uptime_us() and its 1 ms tick,
 * the idle loop (WFI) with the mailbox framework's TX-done ticker, and semihosting output and exit.
 */
#include <amplink/errno.h>
#include <amplink/mailbox_controller.h>

#include "board.h"

#define CSR_ASM(insn) ".option push\n.option arch, +zicsr\n" insn "\n.option pop\n"

#define CLINT_REG(off) (*(volatile uint32_t *)(uintptr_t)(VIRT_CLINT_BASE + (off)))
#define MTIMECMP_LO CLINT_REG(0x4000)
#define MTIMECMP_HI CLINT_REG(0x4004)
#define MTIME_LO CLINT_REG(0xBFF8)
#define MTIME_HI CLINT_REG(0xBFFC)

#define PLIC_REG(off) (*(volatile uint32_t *)(uintptr_t)(VIRT_PLIC_BASE + (off)))
#define PLIC_PRIORITY(irq) PLIC_REG(4u * (irq))
#define PLIC_ENABLE(word) PLIC_REG(0x2000u + 4u * (word)) /* context 0: hart 0, machine mode */
#define PLIC_THRESHOLD PLIC_REG(0x200000u)
#define PLIC_CLAIM PLIC_REG(0x200004u)

#define MCAUSE_INTERRUPT 0x80000000u
#define IRQ_M_TIMER 7u
#define IRQ_M_EXT 11u
#define MIE_MTIE (1u << IRQ_M_TIMER)
#define MIE_MEIE (1u << IRQ_M_EXT)

#define TICKS_PER_US (VIRT_TIMEBASE_HZ / 1000000u)
#define TICK (VIRT_TIMEBASE_HZ / 1000u) /* one timer interrupt per millisecond */

/* Semihosting (RISC-V Semihosting, v0.2; the operations are Arm's). */
#define SH_SYS_WRITE0 0x04u
#define SH_SYS_EXIT_EXTENDED 0x20u
#define SH_ADP_STOPPED_APPLICATION_EXIT 0x20026u

void virt_trap_dispatch(uint32_t mcause, uint32_t mepc);

struct irq_entry {
	void (*fn)(void *arg);
	void *arg;
};

static struct irq_entry irq_table[VIRT_NUM_IRQ];
static atomic_bool mbox_poll_pending;

static uint32_t semihost(uint32_t op, const void *arg)
{
	register uint32_t a0 __asm__("a0") = op;
	register const void *a1 __asm__("a1") = arg;

	/* The semihosting sequence: exactly these three instructions, uncompressed. */
	__asm__ volatile(".option push\n.option norvc\n"
			 "slli x0, x0, 0x1f\n"
			 "ebreak\n"
			 "srai x0, x0, 7\n"
			 ".option pop"
			 : "+r"(a0)
			 : "r"(a1)
			 : "memory");
	return a0;
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
	const uint32_t block[2] = { SH_ADP_STOPPED_APPLICATION_EXIT, (uint32_t)code };

	for (;;)
		(void)semihost(SH_SYS_EXIT_EXTENDED, block);
}

static uint64_t mtime(void)
{
	uint32_t hi, lo;

	do {
		hi = MTIME_HI;
		lo = MTIME_LO;
	} while (hi != MTIME_HI);
	return ((uint64_t)hi << 32) | lo;
}

/* Write the 64-bit compare value without a moment where it is below both its old and its new value. */
static void set_mtimecmp(uint64_t when)
{
	MTIMECMP_HI = 0xFFFFFFFFu;
	MTIMECMP_LO = (uint32_t)when;
	MTIMECMP_HI = (uint32_t)(when >> 32);
}

uint64_t ampl_os_uptime_us(void)
{
	return mtime() / TICKS_PER_US;
}

int board_irq_connect(unsigned irq, void (*fn)(void *arg), void *arg)
{
	if (irq == 0 || irq >= VIRT_NUM_IRQ || !fn)
		return -EINVAL;
	unsigned key = ampl_irq_lock();
	irq_table[irq].fn = fn;
	irq_table[irq].arg = arg;
	ampl_irq_unlock(key);
	PLIC_PRIORITY(irq) = 1u;
	PLIC_ENABLE(irq / 32u) |= 1u << (irq % 32u);
	return 0;
}

void virt_trap_dispatch(uint32_t mcause, uint32_t mepc)
{
	if (mcause == (MCAUSE_INTERRUPT | IRQ_M_TIMER)) {
		/* The tick only wakes the idle loop; the next one is a period after now (ticks missed are not owed). */
		set_mtimecmp(mtime() + TICK);
		return;
	}
	if (mcause == (MCAUSE_INTERRUPT | IRQ_M_EXT)) {
		uint32_t irq;
		/* Claim until nothing is pending; completing a source whose level is still high makes it pending again. */
		while ((irq = PLIC_CLAIM) != 0) {
			if (irq >= VIRT_NUM_IRQ || !irq_table[irq].fn) {
				board_put_u32("riscv-virt: interrupt without handler", irq);
				board_exit(BOARD_EXIT_FAULT);
			}
			irq_table[irq].fn(irq_table[irq].arg);
			PLIC_CLAIM = irq;
		}
		return;
	}
	board_put_u32("riscv-virt: unhandled trap, mcause", mcause);
	board_put_u32("riscv-virt: at mepc", mepc);
	board_exit(BOARD_EXIT_FAULT);
}

void board_init(void)
{
	PLIC_THRESHOLD = 0u;
	set_mtimecmp(mtime() + TICK);
	__asm__ volatile(CSR_ASM("csrs mie, %0") ::"r"(MIE_MTIE | MIE_MEIE) : "memory");
	__asm__ volatile(CSR_ASM("csrsi mstatus, 8") ::: "memory");
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
	 * an interrupt pending and enabled in mie even with mstatus.MIE clear, and the handler runs when it is set. */
	__asm__ volatile(CSR_ASM("csrci mstatus, 8") ::: "memory");
	if (!busy || !busy(arg))
		__asm__ volatile("wfi" ::: "memory");
	__asm__ volatile(CSR_ASM("csrsi mstatus, 8") ::: "memory");
}
