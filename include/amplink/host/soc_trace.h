/*
 * Statistics and tracing of a virtual SoC (amplink stat, amplink trace; docs/trace.md).
 *
 * Tracing is off by default. ampl_soc_trace_set(soc, true) turns it on for the whole SoC: within one crash-watch
 * period (10 ms) every process attached as an agent starts counting events (per agent, per object, errors by kind)
 * and writing them to its agent's ring of records in shared memory. A reader (ampl_trace_reader_*) follows every
 * agent's ring. Nothing a reader does (or fails to do: stopped, slow, absent) slows the traffic: a ring full of
 * unread records overwrites its oldest ones, which the reader counts as lost.
 *
 * Host only, with <amplink/host/soc.h>. Calling contexts: thread for everything here (switching tracing on or off, the
 * reader, the counters read the image and may sleep); the trace points themselves (<amplink/trace.h>) are what runs
 * in the agent's interrupt context.
 */
#ifndef AMPLINK_SOC_TRACE_H
#define AMPLINK_SOC_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <amplink/host/soc.h>
#include <amplink/trace.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One event, as read back. */
struct ampl_trace_event_rec {
	uint64_t ts_ns;  /* CLOCK_MONOTONIC nanoseconds */
	uint16_t ev;     /* enum ampl_trace_event */
	uint8_t agent;   /* the agent index whose process recorded it */
	uint16_t obj;    /* index of the object (ampl_trace_reader_obj()), AMPL_TRACE_NO_OBJ if none */
	int32_t val;
};

#define AMPL_TRACE_NO_OBJ 0xFFFFu

/**
 * Errors by kind in the counters (val < 0 of an event; a filter refusal counts as "refused"). ECANCELED: a message
 * still queued when its channel was freed (a closing client or instance).
 */
enum ampl_trace_err_kind {
	AMPL_TRACE_ERR_BUSY, AMPL_TRACE_ERR_SHUTDOWN, AMPL_TRACE_ERR_IO, AMPL_TRACE_ERR_NOMEM, AMPL_TRACE_ERR_MSGSIZE,
	AMPL_TRACE_ERR_TIMEOUT, AMPL_TRACE_ERR_NOBUFS, AMPL_TRACE_ERR_CANCELED, AMPL_TRACE_ERR_REFUSED, AMPL_TRACE_ERR_OTHER,
	AMPL_TRACE_ERR_KINDS
};

/**
 * ampl_soc_trace_set() - turn tracing of @soc on or off (every agent, every process attached now or later).
 * Attached processes follow within one crash-watch period. Return: 0; -EINVAL; -errno (the control file).
 */
int ampl_soc_trace_set(struct ampl_soc *soc, bool on);

/** ampl_soc_trace_get() - true if tracing of @soc is on. */
bool ampl_soc_trace_get(struct ampl_soc *soc);

/** ampl_trace_event_name() - "ipi.trig", "mbox.send", ... ("?" for an unknown number). */
const char *ampl_trace_event_name(unsigned ev);
/** ampl_trace_layer_name() - the layer of an event: "hw", "driver", "mbox", "ipm", "ipc" ("?" if unknown). */
const char *ampl_trace_layer_name(unsigned ev);
/** ampl_trace_err_name() - "EBUSY", "ESHUTDOWN", ..., "refused", "other". */
const char *ampl_trace_err_name(unsigned kind);

struct ampl_trace_reader;

/**
 * ampl_trace_reader_open() - follow the trace of every agent of @soc, from the records written from now on (or,
 * with @from_start, from the oldest record still in each ring). Agents that start tracing later are picked up by
 * ampl_trace_reader_poll(). Return: 0; -EINVAL; -ENOMEM.
 */
int ampl_trace_reader_open(struct ampl_soc *soc, bool from_start, struct ampl_trace_reader **out);

/**
 * ampl_trace_reader_poll() - the records written since the last call, at most @max, in the order each agent's
 * process wrote them (merge agents, and threads of one process, by ts_ns). Never waits. Return: the number stored in @out.
 */
size_t ampl_trace_reader_poll(struct ampl_trace_reader *r, struct ampl_trace_event_rec *out, size_t max);

/** ampl_trace_reader_lost() - records of @agent overwritten before this reader read them (or found torn). */
uint64_t ampl_trace_reader_lost(const struct ampl_trace_reader *r, unsigned agent);

/** ampl_trace_reader_has() - true if @agent has a trace (its process has traced since the SoC was made). */
bool ampl_trace_reader_has(struct ampl_trace_reader *r, unsigned agent);

/**
 * ampl_trace_reader_obj() - name and kind ("mbox", "ipm", "icmsg", "multi", "rpmsg", "ipi", "agent") of object
 * @obj of @agent. Return: 0; -ENOENT.
 */
int ampl_trace_reader_obj(struct ampl_trace_reader *r, unsigned agent, unsigned obj, char *name, size_t name_size,
			  char *kind, size_t kind_size);

/** ampl_trace_reader_objs() - how many objects @agent has named. */
unsigned ampl_trace_reader_objs(struct ampl_trace_reader *r, unsigned agent);

/**
 * ampl_trace_reader_count() - events @ev counted by @agent, of object @obj (AMPL_TRACE_NO_OBJ: all its events),
 * since its process started tracing. Counted even when the ring overwrote the records. 0 if unknown.
 */
uint64_t ampl_trace_reader_count(struct ampl_trace_reader *r, unsigned agent, unsigned obj, unsigned ev);

/** ampl_trace_reader_errors() - errors of @kind counted by @agent, of @obj (AMPL_TRACE_NO_OBJ: all). */
uint64_t ampl_trace_reader_errors(struct ampl_trace_reader *r, unsigned agent, unsigned obj, unsigned kind);

/** ampl_trace_reader_written() - records @agent's process has written to its ring (its capacity: *@capacity). */
uint64_t ampl_trace_reader_written(struct ampl_trace_reader *r, unsigned agent, uint64_t *capacity);

void ampl_trace_reader_close(struct ampl_trace_reader *r);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_SOC_TRACE_H */
