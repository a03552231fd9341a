/*
 * The trace files of a virtual SoC (src/sim/trace.c; docs/trace.md). Private to the simulation.
 *
 *   /dev/shm/amplink-trace.SOC          control: the SoC's trace flags (written by amplink trace --on/--off)
 *   /dev/shm/amplink-trace.SOC.AGENT    one per agent: its counters, its objects' names and counters, and a ring
 *                                       of event records; written only by the process attached as AGENT
 *
 * Agent files are made when a process attached as the agent first sees tracing on; they keep their size (the ring
 * overwrites its oldest records: the writer never waits for a reader). ampl_soc_destroy() removes them all.
 * Readers (amplink trace, amplink stat) validate everything they read: another process writes these files.
 */
#ifndef AMPL_SIM_TRACE_FILE_H
#define AMPL_SIM_TRACE_FILE_H

#include <stdatomic.h>
#include <stdint.h>

#include <amplink/host/soc_trace.h>

#define SIM_TRACE_PREFIX "amplink-trace."
#define SIM_TRACE_MAGIC "AMPLTRC"
#define SIM_TRACE_VERSION 1u
#define SIM_TRACE_RECORDS 32768u /* ring size, a power of two: 1 MiB of records per agent */
#define SIM_TRACE_OBJS 64u       /* named objects (channels, devices, instances) per agent */
#define SIM_TRACE_NAME 64u

/* Control file flags. */
#define SIM_TRACE_ON 1u

struct sim_trace_ctl {
	char magic[8];
	_Atomic uint32_t flags;
};

/*
 * One record: 32 bytes, four words written with relaxed stores between two stores of @seq. @seq is 0 while the
 * record is being written and its ring position + 1 once complete; a reader copies the words and keeps them only
 * if @seq was that value before and after.
 *   w[0] timestamp, monotonic nanoseconds (CLOCK_MONOTONIC: the same clock in every process)
 *   w[1] event (bits 0-15), agent index (16-23), object index (32-47; 0xFFFF: none)
 *   w[2] value (int32, bits 0-31)
 */
struct sim_trace_rec {
	_Atomic uint64_t seq;
	_Atomic uint64_t w[3];
};

/* One named object of an agent: "ipi_apu_rpu0" (an IPM device), "SOC:/path#0" (a mailbox channel), ... */
struct sim_trace_obj {
	char name[SIM_TRACE_NAME];
	char kind[16]; /* "agent", "mbox", "ipm", "icmsg", "multi", "rpmsg", "ipi" */
	_Atomic uint64_t count[AMPL_EV_COUNT];
	_Atomic uint64_t err[AMPL_TRACE_ERR_KINDS];
};

struct sim_trace_file {
	char magic[8];
	uint32_t version;
	uint32_t records;   /* SIM_TRACE_RECORDS */
	uint32_t agent;     /* the agent's index */
	_Atomic int32_t pid; /* the process writing it */
	char agent_name[16];
	_Atomic uint32_t num_objs; /* objs[0..num_objs) are named (published after the name is written) */
	_Alignas(64) _Atomic uint64_t head; /* records written so far: the next one goes to ring[head % records] */
	_Alignas(64) _Atomic uint64_t count[AMPL_EV_COUNT];
	_Atomic uint64_t err[AMPL_TRACE_ERR_KINDS];
	struct sim_trace_obj objs[SIM_TRACE_OBJS];
	_Alignas(64) struct sim_trace_rec ring[SIM_TRACE_RECORDS];
};

#endif /* AMPL_SIM_TRACE_FILE_H */
