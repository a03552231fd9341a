/*
 * A loopback mailbox controller (`amplink,mbox-loop`) built entirely from this folder: a word written to channel n
 * is received on channel n ^ 1 of the same controller, which interrupts its one agent. It exists to show that a
 * controller outside the library's folders registers itself with the library's registries (the devicetree binding,
 * the virtual SoC's controller models and their agent devices, `amplink dt gen`) through ampl_registries() in
 * cmake/registry.cmake:
 *
 *   bind_mbox_loop.c   its binding: the node's common part (dt_mbox_ctrl_add(): amplink,agent too), its firmware C
 *   mbox_loop.c        its register model on the virtual SoC and the agent's device over it (SIM_CTRL_MODEL())
 *   mbox_loop_drv.c    its driver: a mailbox-framework controller over the registers below (portable)
 *
 * Registers (one side, owned by the node's amplink,agent), 32-bit:
 *   DATA(n)  0x00 + 4n   write: the word is received on channel n ^ 1 (its pending bit set); read: the word
 *                        waiting on channel n (its pending bit cleared)
 *   STATUS   0x20        pending bit of each channel (read-only)
 *   ENABLE   0x24        interrupt enable of each channel: the line rises when a channel is pending and enabled
 */
#ifndef AMPL_TEST_MBOX_LOOP_H
#define AMPL_TEST_MBOX_LOOP_H

#include <stdint.h>

#include <amplink/io.h>
#include <amplink/mailbox_controller.h>

#define MBOX_LOOP_COMPATIBLE "amplink,mbox-loop"
#define MBOX_LOOP_CHANS 4u
#define MBOX_LOOP_DATA(n) (4u * (n))
#define MBOX_LOOP_STATUS 0x20u
#define MBOX_LOOP_ENABLE 0x24u
#define MBOX_LOOP_REG_SPAN 0x28u

/* The driver: one controller over one side's registers. */
struct mbox_loop {
	struct ampl_io_region regs;
	struct mbox_controller ctrl;
	struct mbox_chan chans[MBOX_LOOP_CHANS];
};

/**
 * mbox_loop_init() - register @l (its @regs set) with the mailbox framework as @node: MBOX_LOOP_CHANS channels,
 * `#mbox-cells = <1>` (the channel), one 32-bit word per message, TX done when the receiving channel took the word
 * (polled). Return: as mbox_controller_register(). Context: thread.
 */
int mbox_loop_init(struct mbox_loop *l, const char *node);
/** mbox_loop_remove() - unregister @l. Context: thread. */
void mbox_loop_remove(struct mbox_loop *l);
/** mbox_loop_isr() - the interrupt handler (@arg: the struct mbox_loop): deliver every pending enabled word. */
void mbox_loop_isr(void *arg);

#endif /* AMPL_TEST_MBOX_LOOP_H */
