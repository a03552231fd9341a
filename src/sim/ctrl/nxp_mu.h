/*
 * What the Messaging Unit model (src/sim/ctrl/nxp_mu.c) offers the agents' MU devices (src/sim/agent.c). Private
 * to the simulation.
 */
#ifndef AMPL_SIM_CTRL_NXP_MU_H
#define AMPL_SIM_CTRL_NXP_MU_H

#include "sim/ctrl.h"

/* Messaging Units in one SoC, at most: every controller instance may be one. */
#define SIM_MAX_MUS SIM_MAX_CTRLS

extern const struct sim_ctrl_model sim_ctrl_nxp_mu;

/** sim_mu_cfg() - the description of Messaging Unit @mu (0..ampl_soc_num_mus() - 1), or NULL. Context: any. */
const struct sim_ctrl_cfg *sim_mu_cfg(const struct ampl_soc *soc, unsigned mu);

#endif /* AMPL_SIM_CTRL_NXP_MU_H */
