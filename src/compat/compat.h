/*
 * The virtual SoC's side of the compatibility headers (include/amplink/compat): the attached agent that DEVICE_DT_GET()
 * stand-ins resolve against. Hosted only.
 */
#ifndef AMPL_COMPAT_INTERNAL_H
#define AMPL_COMPAT_INTERNAL_H

#include <amplink/host/soc.h>

/**
 * ampl_compat_attach() - open the SoC named by $AMPLINK_SOC and attach the agent named by $AMPLINK_AGENT (default
 * "rpu0"), waiting in $AMPLINK_MODE (polling, adaptive, blocking; default blocking). Prints why on failure.
 * Return: 0; -EINVAL (no $AMPLINK_SOC, or a bad mode); ampl_soc_open()'s or ampl_agent_attach()'s error.
 */
int ampl_compat_attach(void);
/** ampl_compat_detach() - detach and close what ampl_compat_attach() opened. */
void ampl_compat_detach(void);
/** ampl_compat_agent() - the attached agent, or NULL. */
struct ampl_agent *ampl_compat_agent(void);

#endif
