/*
 * The objects of an attached agent (src/sim/agent.c), shared with its hotplug follower (src/sim/hotplug.c) and its
 * crash detection (src/sim/crash_watch.c). Internal to the simulation.
 */
#ifndef AMPLINK_SIM_AGENT_INTERNAL_H
#define AMPLINK_SIM_AGENT_INTERNAL_H

#include "sim/ctrl.h"
#include "sim/image.h"
#include "sim/ipc.h"

#include <pthread.h>

#include <amplink/board.h>
#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/host/dt.h>

_Static_assert(AMPL_BOARD_PROVIDER_MAX >= AMPL_SHM_NAME_MAX + AMPL_DT_PATH_MAX + 2, "room for \"SOC:/path\"");

struct sim_chan {
	struct xlnx_ipi_mbox mbox;
	struct ampl_device dev;
	struct ampl_device_state state;
	struct xlnx_ipi_ipm_config cfg;
	struct xlnx_ipi_ipm_data data;
	const struct ampl_soc_agent *remote;
	char node[AMPL_SHM_NAME_MAX + AMPL_DT_PATH_MAX + 2]; /* "SOC:/path/of/node" (controller name) */
	char name[AMPL_DT_NAME_MAX + AMPL_SHM_NAME_MAX + 16];
	char label[AMPL_DT_NAME_MAX];
};

struct sim_consumer {
	struct ampl_board_consumer bc; /* providers "SOC:/path" */
	const struct ampl_dt_consumer *dt;
};

/* One interrupt line of an agent (src/sim/irq_route.c): line 0 runs in the attach's interrupt thread. */
struct sim_line {
	struct ampl_agent *ag;
	unsigned n;
	struct ampl_irq_thread *thread; /* lines 1..: started on first use, none with no_irq_thread */
	_Atomic(ampl_irq_line_fn) fn;
	void *_Atomic arg;
};

struct ampl_agent {
	struct sim_ipc *ipcs[AMPL_DT_MAX_IPC]; /* by index in board->ipcs: the IPC instances opened (src/sim/ipc.h) */
	/* no_irq_thread: the instances whose backend polls, in opening order, for ampl_agent_poll() (published with
	 * npolled: an instance may be opened by another thread than the one that polls) */
	struct sim_ipc *polled[AMPL_DT_MAX_IPC];
	_Atomic unsigned npolled;
	struct ampl_soc *soc;
	const struct ampl_soc_agent *info;
	unsigned idx;
	struct ampl_agent_opts opts;
	struct xlnx_ipi_host host;
	struct ampl_irq_thread *irq;
	struct sim_chan *_Atomic chans[32]; /* by remote bit; published to the interrupt thread (hotplug) when made */
	struct ampl_dt_board *board; /* the SoC's devicetree, parsed */
	struct sim_consumer consumers[AMPL_DT_MAX_CONSUMERS];
	uint32_t hotplug_seq_seen; /* sim_hotplug_seq() when offline_seen was last computed (interrupt context) */
	uint32_t offline_seen; /* sim_offline_mask() the channels were last set to (interrupt context) */
	struct sim_ctrl_dev *ctrl_devs[SIM_MAX_CTRLS]; /* by instance index: the devices over this agent's sides */
	uint64_t owner; /* what this attach recorded in sim_regs.owner */
	bool damaged_seen; /* the image's damage was applied to the channels (interrupt context) */
	struct sim_line lines[XLNX_IPI_NUM_LINES];
	pthread_mutex_t lines_lock; /* starting line threads */
	uint32_t req_seen;          /* seq of the last supervisor request looked at (interrupt context) */
};

/* ---- detach in two steps (src/sim/agent.c), for retirement ---- */

/** sim_agent_stop_irq() - stop the agent's interrupt context (every line): nothing is delivered after it. */
void sim_agent_stop_irq(struct ampl_agent *ag);
/** sim_agent_free() - the rest of ampl_agent_detach(): devices, channels, ownership; frees @ag. */
void sim_agent_free(struct ampl_agent *ag);

/* ---- hotplug (src/sim/hotplug.c) ---- */

/** sim_unretire() - at attach, after recording the owner: a retired agent comes back online. */
void sim_unretire(struct ampl_soc *soc, unsigned idx);

/**
 * sim_gate_offline() - from now on this process's ISR reads leave out the requests of the agents in @offline (a
 * sim_offline_mask()), until its hotplug handler sees them online again. Context: attach, interrupt.
 */
void sim_gate_offline(struct ampl_agent *ag, uint32_t offline);

/** sim_offline_mask() - by agent index, the agents sim_offline() says are offline. Context: any. */
uint32_t sim_offline_mask(const struct ampl_soc *soc);
/** sim_chan_hotplug() - apply the online state of @c's two agents (and image damage) to its channels; true if off. */
bool sim_chan_hotplug(struct ampl_agent *ag, struct sim_chan *c);
/** sim_hotplug_isr() - interrupt-context handler: follow offline/online transitions of any agent (@arg: the agent). */
void sim_hotplug_isr(void *arg);

/* ---- interrupt routing (src/sim/irq_route.c) ---- */

/** sim_irq_init() - at attach, before the interrupt thread runs: line contexts, the published table reset. */
void sim_irq_init(struct ampl_agent *ag);
/** sim_irq_isr() - interrupt-context handler (line 0): apply a supervisor's request (@arg: the agent). */
void sim_irq_isr(void *arg);
/** sim_irq_poll() - run lines 1.. in the caller's thread (no_irq_thread mode; ampl_agent_poll()). */
void sim_irq_poll(struct ampl_agent *ag);
/** sim_irq_stop() - at detach: stop and join the line threads. */
void sim_irq_stop(struct ampl_agent *ag);

/* ---- crash detection (src/sim/crash_watch.c) ---- */

/** sim_watch_start() - one more attached agent on @soc: start its watcher thread if none. Return: 0; -errno. */
int sim_watch_start(struct ampl_soc *soc);
/** sim_watch_stop() - one attached agent less on @soc: the last one stops and joins the watcher. */
void sim_watch_stop(struct ampl_soc *soc);

#endif /* AMPLINK_SIM_AGENT_INTERNAL_H */
