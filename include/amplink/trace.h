/*
 * Trace points of the portable core: every hardware-level event and every message at each layer, for statistics
 * and tracing (amplink stat, amplink trace; docs/trace.md).
 *
 * AMPL_TRACE(event, obj, val) records one event: @obj says which object it happened to (what it is depends on the
 * event, see enum ampl_trace_event: an agent index, a mailbox channel, an IPM or IPC instance device, ...) and @val
 * a value (a length, a result: negative errno for a failure, which statistics count by kind).
 *
 * Cost:
 *   AMPL_CONFIG_TRACE 0  the trace points are compiled out entirely (the freestanding default: code size unchanged)
 *   AMPL_CONFIG_TRACE 1  one load of ampl_trace_on and one branch, predicted not taken, while tracing is off (a
 *                        hot function reads it once for all its trace points: AMPL_TRACE_SPLIT below); when on, a
 *                        call to the port's sink ampl_trace_emit()
 * The host build (the virtual SoC) has AMPL_CONFIG_TRACE 1 (CMake option AMPL_TRACE) and its sink writes each
 * agent's events to a bounded ring in shared memory. A firmware that sets AMPL_CONFIG_TRACE 1 provides the sink
 * (the bare-metal port's weak default records nothing) and turns ampl_trace_on on when it wants events.
 */
#ifndef AMPLINK_TRACE_H
#define AMPLINK_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include <amplink/cdefs.h>

#ifndef AMPL_CONFIG_TRACE
#define AMPL_CONFIG_TRACE 0
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * enum ampl_trace_event - what happened. The comment of each says what @obj and @val are. The numbers are part of
 * the recording format of the virtual SoC (docs/trace.md): new events go at the end, before AMPL_EV_COUNT.
 */
enum ampl_trace_event {
	AMPL_EV_NONE = 0,
	/* Hardware (the virtual SoC's register models). obj: an agent index. */
	AMPL_EV_IPI_TRIG,       /* TRIG write, per destination: obj destination; val 1 line raised, 0 already pending/masked */
	AMPL_EV_IPI_DISCARD,    /* TRIG to an offline destination, discarded: obj destination; val the sender's bit */
	AMPL_EV_IPI_ACK,        /* ISR write (W1C) cleared a request: obj its sender; val the sender's bit */
	AMPL_EV_IPI_IER,        /* IER write: obj the writer; val the bits unmasked */
	AMPL_EV_IPI_IDR,        /* IDR write: obj the writer; val the bits masked */
	AMPL_EV_IRQ,            /* IPI interrupt taken with requests pending: obj the struct xlnx_ipi_host; val ISR & ~IMR */
	AMPL_EV_AGENT_OFFLINE,  /* obj the agent; val the requests pending that were discarded (bits) */
	AMPL_EV_AGENT_ONLINE,   /* obj the agent */
	AMPL_EV_ACCESS_FAULT,   /* a register access refused by access control (obj the agent whose block, val the offset) */
	AMPL_EV_CTRL_WRITE,     /* controller register write (a Messaging Unit): obj its index; val the offset */
	/* Drivers. */
	AMPL_EV_FILTER_ACCEPT,  /* IPI acceptance filter: obj the struct xlnx_ipi_mbox; val the source bit */
	AMPL_EV_FILTER_REFUSE,  /* refused (acknowledged unread or held): obj, val as above */
	/* Mailbox framework. obj: the struct mbox_chan. */
	AMPL_EV_MBOX_SEND,      /* mbox_send_message() accepted a message (val 0) or refused it (val -errno) */
	AMPL_EV_MBOX_TXDONE,    /* a message's TX done reported to its client: val its result */
	AMPL_EV_MBOX_RX,        /* a message delivered to the channel's client */
	AMPL_EV_MBOX_DOORBELL,  /* a data-less ring (ampl_mbox_ring): val its result */
	AMPL_EV_MBOX_OFFLINE,   /* mbox_chan_set_offline(): val the error (0: back online) */
	/* IPM. obj: the IPM device (struct ampl_device). */
	AMPL_EV_IPM_SEND,       /* ipm_send(): val the size, or -errno */
	AMPL_EV_IPM_RX,         /* a message passed to the device's callback: val its id */
	/* IPC service. */
	AMPL_EV_IPC_SEND,       /* ipc_service_send() / _send_nocopy(): obj the instance device; val the length or -errno */
	AMPL_EV_ICMSG_RX,       /* ICMsg message delivered: obj the struct icmsg; val its length */
	AMPL_EV_MULTI_RX,       /* multi-endpoint message delivered: obj the struct ipc_multi_data; val its length */
	AMPL_EV_RPMSG_RX,       /* RPMsg message delivered: obj the struct ipc_rpmsg_data; val its length */
	AMPL_EV_COUNT
};

/*
 * Nonzero while events are wanted. Read at every trace point, written by the port (host: amplink trace --on).
 * Hidden: the library's own word, so that position-independent code (the shared library) reads it with one load
 * rather than through the GOT; a program that links the library statically (or a firmware) still reaches it.
 */
extern AMPL_ATOMIC(uint32_t) ampl_trace_on __attribute__((visibility("hidden")));

/**
 * ampl_trace_emit() - port hook, the sink: record @ev about @obj with @val. Called only while ampl_trace_on is
 * nonzero. It must never block or sleep and must not call back into amplink. Context: any (thread, interrupt).
 */
void ampl_trace_emit(unsigned ev, const void *obj, int32_t val) __attribute__((cold));

/*
 * AMPL_TRACING()                 nonzero while tracing is on (one relaxed load, predicted 0); constant 0 compiled out
 * AMPL_TRACE(ev, obj, val)       the trace point: if AMPL_TRACING(), AMPL_TRACE_EMIT(ev, obj, val)
 * AMPL_TRACE_EMIT(ev, obj, val)  record the event, tracing known to be on: for a function that tests AMPL_TRACING()
 *                                once for several events, or to do the bookkeeping an event needs only while on
 * AMPL_TRACED_PATH               attribute of a function a caller runs only while AMPL_TRACING(): out of line and
 *                                cold, so that the caller's untraced path keeps no frame, register or tail call
 *                                lost for it
 * Compiled out, the arguments are not evaluated but count as used (no unused-variable warnings).
 *
 * A hot function whose message crosses several trace points, or whose trace point would keep registers alive on
 * the untraced path (a loop, a call after it), reads the flag once and runs one of two copies of its body: the body
 * is an AMPL_TRACE_BODY function whose first parameter is `bool traced` (a constant in each copy, so that the
 * untraced copy has no trace code at all), and the traced copy is an AMPL_TRACED_PATH function named body_traced
 * that calls body(true, ...).
 * AMPL_TRACE_BODY                      attribute of such a body (static, always inlined)
 * AMPL_TRACE_IF(traced, ev, obj, val)  a trace point of such a body: AMPL_TRACE_EMIT() if @traced
 * AMPL_TRACE_SPLIT(body, ...)          body(AMPL_TRACING(), ...): body_traced(...) while tracing is on, else
 *                                      body(false, ...); compiled out body(false, ...) only (body_traced unused)
 */
#define AMPL_TRACED_PATH __attribute__((noinline, cold))
#define AMPL_TRACE_BODY static inline __attribute__((always_inline))
#define AMPL_TRACE_IF(traced, ev, obj, val)                                                                           \
	do {                                                                                                          \
		if (traced)                                                                                           \
			AMPL_TRACE_EMIT(ev, obj, val);                                                                \
	} while (0)
#define AMPL_TRACE_SPLIT(body, ...) (AMPL_TRACING() ? body##_traced(__VA_ARGS__) : body(false, __VA_ARGS__))
#if AMPL_CONFIG_TRACE
#ifndef __cplusplus
#define AMPL_TRACING() __builtin_expect(atomic_load_explicit(&ampl_trace_on, memory_order_relaxed) != 0, 0)
#define AMPL_TRACE_EMIT(ev, obj, val) ampl_trace_emit((ev), (const void *)(uintptr_t)(obj), (int32_t)(val))
#define AMPL_TRACE(ev, obj, val)                                                                                      \
	do {                                                                                                          \
		if (AMPL_TRACING())                                                                                   \
			AMPL_TRACE_EMIT(ev, obj, val);                                                                \
	} while (0)
#endif
#else
#define AMPL_TRACING() 0
#define AMPL_TRACE_EMIT(ev, obj, val) ((void)sizeof(ev), (void)sizeof(obj), (void)sizeof(val))
#define AMPL_TRACE(ev, obj, val) AMPL_TRACE_EMIT(ev, obj, val)
#endif

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_TRACE_H */
