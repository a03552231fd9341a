/*
 * The interrupt-masking port on a real core (QEMU: Cortex-M4 on mps2-an386, RV32 on virt), with the start-up code
 * and vector table of the size images (firmware/size/common/startup.c).
 *
 * Thread code takes an ampl_spin_lock() and, inside the section, pends the interrupt whose handler takes the same
 * lock (Cortex-M: IRQ 0 through the NVIC, the doorbell's vector; RV32: the machine software interrupt through the
 * CLINT). The handler must not run inside the section (it would spin forever on one core: the handler reports it
 * and exits instead) and must run once the section ends. On Cortex-M the vector table is checked too: IRQ 0 runs
 * the doorbell's handler, SVC the SVCall handler and PendSV the PendSV handler.
 *
 * The result leaves through semihosting: SYS_EXIT_EXTENDED with the exit code, which QEMU (-semihosting-config
 * enable=on) turns into its own exit status: 0 when every check held.
 */
#include <stdint.h>

#include <amplink/port.h>

#include "size_image.h"

int main(void);

static atomic_flag lock = ATOMIC_FLAG_INIT;
static volatile int in_section;   /* thread code holds the lock */
static volatile int irq_runs;     /* the lock's interrupt handler ran (and took the lock) */
static volatile int svcall_runs, pendsv_runs;

/* ---- semihosting ---- */

#define SYS_WRITE0 0x04
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

static uintptr_t semihost(uintptr_t op, uintptr_t arg)
{
#if defined(__arm__)
	register uintptr_t r0 __asm__("r0") = op;
	register uintptr_t r1 __asm__("r1") = arg;
	__asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
	return r0;
#else
	register uintptr_t a0 __asm__("a0") = op;
	register uintptr_t a1 __asm__("a1") = arg;
	/* The RISC-V semihosting sequence: uncompressed, in this order, not across a page boundary. */
	__asm__ volatile(".option push\n\t"
			 ".option norvc\n\t"
			 ".balign 16\n\t"
			 "slli zero, zero, 0x1f\n\t"
			 "ebreak\n\t"
			 "srai zero, zero, 7\n\t"
			 ".option pop"
			 : "+r"(a0)
			 : "r"(a1)
			 : "memory");
	return a0;
#endif
}

static void say(const char *s)
{
	semihost(SYS_WRITE0, (uintptr_t)s);
}

static void finish(int code)
{
	static uintptr_t block[2];
	block[0] = ADP_STOPPED_APPLICATION_EXIT;
	block[1] = (uintptr_t)code;
	semihost(SYS_EXIT_EXTENDED, (uintptr_t)block);
	for (;;)
		size_wait_for_interrupt();
}

static void check(int ok, const char *what)
{
	say(ok ? "ok   " : "FAIL ");
	say(what);
	say("\n");
	if (!ok)
		finish(1);
}

/* ---- the interrupt and its trigger ---- */

#if defined(__arm__)
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)
#define NVIC_ISPR0 (*(volatile uint32_t *)0xE000E200u)
#define NVIC_IPR0 (*(volatile uint32_t *)0xE000E400u)
#define SCB_ICSR (*(volatile uint32_t *)0xE000ED04u)
#define ICSR_PENDSVSET (1u << 28)

static void barrier(void)
{
	__asm__ volatile("dsb\n\tisb" ::: "memory");
}

static void irq_setup(void)
{
	NVIC_IPR0 = 0x80u; /* IRQ 0 at a middle priority: masked by PRIMASK and by BASEPRI values up to 0x80 */
	NVIC_ISER0 = 1u;
	__asm__ volatile("cpsie i" ::: "memory");
	barrier();
}

static void irq_raise(void)
{
	NVIC_ISPR0 = 1u;
	barrier();
}

static int irq_pending(void)
{
	return (int)(NVIC_ISPR0 & 1u);
}

static void irq_clear(void)
{
	/* The NVIC clears IRQ 0's pending bit on entry. */
}
#else
#define CLINT_MSIP0 (*(volatile uint32_t *)0x02000000u)
#define MIE_MSIE (1u << 3)

static void barrier(void)
{
	__asm__ volatile("fence iorw, iorw" ::: "memory");
}

static void irq_setup(void)
{
	__asm__ volatile(".option push\n\t"
			 ".option arch, +zicsr\n\t"
			 "csrs mie, %0\n\t"
			 "csrsi mstatus, 8\n\t"
			 ".option pop" ::"r"(MIE_MSIE)
			 : "memory");
}

static void irq_raise(void)
{
	CLINT_MSIP0 = 1u;
	barrier();
}

static int irq_pending(void)
{
	unsigned long mip;
	__asm__ volatile(".option push\n\t"
			 ".option arch, +zicsr\n\t"
			 "csrr %0, mip\n\t"
			 ".option pop"
			 : "=r"(mip));
	return (mip & MIE_MSIE) != 0;
}

static void irq_clear(void)
{
	CLINT_MSIP0 = 0u;
	barrier();
}
#endif

/* IRQ 0 on Cortex-M (the doorbell's vector); every machine trap on RV32 (startup.c's size_trap). */
void size_doorbell_irq(void)
{
	irq_clear();
	if (in_section) {
		/* On one core the lock below would spin forever: say so and stop. */
		say("FAIL the interrupt ran inside the spinlock section (interrupts not masked)\n");
		finish(2);
	}
	unsigned key = ampl_spin_lock(&lock);
	irq_runs = irq_runs + 1;
	ampl_spin_unlock(&lock, key);
}

#if defined(__arm__)
void size_svcall_handler(void)
{
	svcall_runs = svcall_runs + 1;
}

void size_pendsv_handler(void)
{
	pendsv_runs = pendsv_runs + 1;
}
#endif

/*
 * Wait until the handler has run @n times in all. A pended interrupt is taken within a few instructions once
 * unmasked (QEMU: at the end of the translation block); the bound is generous and only ends a wait that fails.
 */
static int runs_reach(int n)
{
	for (long i = 0; i < 1000000 && irq_runs < n; i++)
		barrier();
	return irq_runs == n;
}

int main(void)
{
#if defined(__arm__)
#ifdef AMPL_CORTEX_M_BASEPRI
	say("Cortex-M4, BASEPRI port\n");
#else
	say("Cortex-M4, PRIMASK port\n");
#endif
#else
	say("RV32, mstatus.MIE port\n");
#endif
	irq_setup();

	/* The interrupt is taken outside a section: the vector reaches the handler. */
	irq_raise();
	check(runs_reach(1), "the interrupt runs its handler outside a spinlock section");

	unsigned key = ampl_spin_lock(&lock);
	in_section = 1;
	irq_raise();
	for (volatile int i = 0; i < 1000; i++)
		;
	check(irq_pending(), "inside the section the interrupt is pending");
	check(irq_runs == 1, "inside the section its handler has not run");
	in_section = 0;
	ampl_spin_unlock(&lock, key);
	check(runs_reach(2), "the handler ran once the section ended, and took the lock");

	/* Nested sections: the inner unlock leaves interrupts masked. */
	key = ampl_spin_lock(&lock);
	in_section = 1;
	static atomic_flag inner = ATOMIC_FLAG_INIT;
	unsigned key2 = ampl_spin_lock(&inner);
	irq_raise();
	ampl_spin_unlock(&inner, key2);
	for (volatile int i = 0; i < 1000; i++)
		;
	check(irq_runs == 2, "an inner section's unlock keeps interrupts masked");
	in_section = 0;
	ampl_spin_unlock(&lock, key);
	check(runs_reach(3), "the outer section's unlock lets the interrupt in");

#if defined(__arm__)
	__asm__ volatile("svc 0" ::: "memory");
	barrier();
	check(svcall_runs == 1, "SVC runs the SVCall handler (vector table entry 11)");
	SCB_ICSR = ICSR_PENDSVSET;
	barrier();
	check(pendsv_runs == 1, "PendSV runs the PendSV handler (vector table entry 14)");
#endif
	say("all checks passed\n");
	finish(0);
	return 0;
}
