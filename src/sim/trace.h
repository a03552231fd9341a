/*
 * The virtual SoC's trace sink (src/sim/trace.c): the host side of amplink/trace.h. Private to the simulation.
 *
 * Each process attached as an agent writes that agent's events to the agent's trace file (src/sim/trace_file.h).
 * An event of the portable core (AMPL_TRACE) goes to the agent its object belongs to (the channel, device or
 * instance the agent made); the register models name the writing agent themselves (SIM_TRACE).
 */
#ifndef AMPL_SIM_TRACE_H
#define AMPL_SIM_TRACE_H

#include <stdint.h>

#include <amplink/trace.h>

struct ampl_soc;
struct ampl_agent;

/*
 * An event of a register model: @agent (index; SIM_TRACE_ANY: whichever agent this process has on @soc) did it;
 * @obj is an agent index (or an MU index for MU events).
 */
#define SIM_TRACE_ANY 0xFFFFFFFFu
/*
 * SIM_TRACE_IF(traced, ...): SIM_TRACE in a body that has its traced and untraced copies (AMPL_TRACE_SPLIT() of
 * amplink/trace.h): records if @traced.
 */
#if AMPL_CONFIG_TRACE
#define SIM_TRACE_IF(traced, soc, agent, ev, obj, val)                                                                \
	do {                                                                                                          \
		if (traced)                                                                                           \
			sim_trace_hw((soc), (agent), (ev), (obj), (int32_t)(val));                                    \
	} while (0)
#define SIM_TRACE(soc, agent, ev, obj, val) SIM_TRACE_IF(AMPL_TRACING(), soc, agent, ev, obj, val)
#else
#define SIM_TRACE_IF(traced, soc, agent, ev, obj, val)                                                                \
	((void)sizeof(traced), (void)sizeof(soc), (void)sizeof(agent), (void)sizeof(ev), (void)sizeof(obj),           \
	 (void)sizeof(val))
#define SIM_TRACE(soc, agent, ev, obj, val) SIM_TRACE_IF(0, soc, agent, ev, obj, val)
#endif

/** sim_trace_hw() - record a register-model event of agent @agent of @soc (dropped if this process has not it). */
void sim_trace_hw(struct ampl_soc *soc, unsigned agent, unsigned ev, unsigned obj, int32_t val) __attribute__((cold));

/*
 * Events another processor recorded for @ag (firmware under the emulator, merged by src/sim/emu_bridge.c): each
 * does nothing while @ag is not traced.
 *   sim_trace_foreign_obj()    the index of the object named @kind @name in @ag's file, named now if new;
 *                              AMPL_TRACE_NO_OBJ if @ag is not traced or its file has no room
 *   sim_trace_foreign_count()  @n more events @ev of object @obj (and of the agent)
 *   sim_trace_foreign_rec()    a record of @ev of @obj with @val at @t_ns (CLOCK_MONOTONIC); not counted (the
 *                              counts come from sim_trace_foreign_count()), but a failure is counted by its kind
 */
unsigned sim_trace_foreign_obj(struct ampl_agent *ag, const char *kind, const char *name);
void sim_trace_foreign_count(struct ampl_agent *ag, unsigned obj, unsigned ev, uint64_t n);
void sim_trace_foreign_rec(struct ampl_agent *ag, unsigned obj, unsigned ev, int32_t val, uint64_t t_ns);

/** sim_trace_attach() - @ag is attached: follow its SoC's trace flag. */
void sim_trace_attach(struct ampl_agent *ag);
/** sim_trace_detach() - @ag goes: its events stop (waits for an event being written to it). */
void sim_trace_detach(struct ampl_agent *ag);
/** sim_trace_sync() - the crash watcher's period: follow the trace flags of the SoCs of the attached agents. */
void sim_trace_sync(void);
void sim_trace_irq(void *arg);
/** sim_trace_unlink() - remove the trace files of SoC @name (ampl_soc_destroy()). */
void sim_trace_unlink(const char *name);

#endif /* AMPL_SIM_TRACE_H */
