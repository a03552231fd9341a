/*
 * What the size images share: the doorbell interrupt entry the start-up code dispatches, and the idle loop.
 * Nothing here runs on a real board as is: the images exist to be measured (scripts/cross.sh).
 */
#ifndef AMPLINK_SIZE_IMAGE_H
#define AMPLINK_SIZE_IMAGE_H

/** The doorbell interrupt (IRQ 0 on Cortex-M, the machine trap on RV32); weak default: the idle handler. */
void size_doorbell_irq(void);

/* Cortex-M system exceptions a program may define (weak default: the idle handler). */
void size_svcall_handler(void);
void size_pendsv_handler(void);
void size_systick_handler(void);

static inline void size_wait_for_interrupt(void)
{
#if defined(__arm__) || defined(__riscv)
	__asm__ volatile("wfi" ::: "memory");
#endif
}

#endif /* AMPLINK_SIZE_IMAGE_H */
