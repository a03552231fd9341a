/*
 * The firmware's trace sink under the emulator: the portable core's trace points (AMPL_CONFIG_TRACE 1) recorded in
 * the window's trace area (<amplink/emu.h>, struct ampl_emu_trace), which the host's bridge merges into the trace
 * of the firmware's agent on the virtual SoC: `amplink stat` and `amplink trace` show the firmware's events beside
 * the Linux processes'. Without a trace area (an image not started through the bridge) nothing is recorded.
 *
 * Objects are named once, at their first event: a device by its name ("ipc_icmsg_rpu0"), anything else by its kind
 * and address ("mbox@20001a40"). Eight objects at most; the events of more are counted under no object.
 *
 * Contexts: emu_trace_init() in main, once per boot; emu_trace_follow() anywhere (main's loop, the doorbell's
 * interrupt); the sink in any context (thread and interrupts of the single core): it masks interrupts while it
 * takes an object or a record.
 */
#ifndef EMU_TRACE_H
#define EMU_TRACE_H

#include <amplink/emu.h>

/** emu_trace_init() - use the trace area @t if the host wrote one (its magic); tracing follows its on word. */
void emu_trace_init(struct ampl_emu_trace *t);

/** emu_trace_follow() - tracing on or off as the host's on word says now. */
void emu_trace_follow(void);

#endif /* EMU_TRACE_H */
