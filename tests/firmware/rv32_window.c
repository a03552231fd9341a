/*
 * RV32 guest of test_rv32_window (QEMU virt, -bios none, RAM at 0x80000000 backed by the host's file): proves the
 * shared window both ways. At RAM + 0x100000 (file offset 0x100000), one writer per word:
 *   w[3]  written by the host before QEMU starts: must read 0x33333333 (the file's content is the guest's RAM)
 *   w[0]  written here: 0x11111111 (the host waits for it)
 *   w[1]  written by the host once it saw w[0]: 0x22222222 (waited for here)
 *   w[2]  written here after that: w[1] + 1 (the host checks it after QEMU exits)
 * Exits through semihosting: 0, 1 (w[3] wrong), 2 (w[1] never came).
 */
#include <stdint.h>

#define WIN ((volatile uint32_t *)0x80100000u)

int main(void);
void size_entry(void) __attribute__((naked, section(".vectors")));
void size_entry(void) /* the entry rv32-virt.ld names */
{
	__asm__ volatile("la sp, __stack_top\n j main");
}

static void semihost_exit(long code)
{
	long args[2] = { 0x20026 /* ADP_Stopped_ApplicationExit */, code };
	register long a0 __asm__("a0") = 0x20; /* SYS_EXIT_EXTENDED */
	register long a1 __asm__("a1") = (long)args;
	/* The RISC-V semihosting sequence: these three instructions, uncompressed. */
	__asm__ volatile(".option push\n.option norvc\n slli x0, x0, 0x1f\n ebreak\n srai x0, x0, 7\n.option pop"
			 : "+r"(a0)
			 : "r"(a1)
			 : "memory");
	for (;;)
		;
}

int main(void)
{
	if (WIN[3] != 0x33333333u)
		semihost_exit(1);
	WIN[0] = 0x11111111u;
	/* Bounded: the host answers within milliseconds; this only turns a missing answer into exit 2 (a few s). */
	for (uint32_t n = 0; WIN[1] != 0x22222222u; n++)
		if (n > 400000000u)
			semihost_exit(2);
	WIN[2] = WIN[1] + 1u;
	semihost_exit(0);
	return 0;
}
