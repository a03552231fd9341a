/*
 * The virtual SoC the one-process tests stand up: a SoC created under a name of the test's own (prefix, process id
 * and a counter, so that tests running side by side never meet), opened, and its agents attached. Each call fails
 * the running cmocka test with the library's error text when the step fails.
 */
#ifndef TESTS_COMMON_SOC_FIXTURE_H
#define TESTS_COMMON_SOC_FIXTURE_H

#include <stddef.h>

#include <amplink/host/soc.h>

/* Create a SoC of profile @p named "<prefix>-<pid>-<n>" into @name (@len bytes) and open it into *@soc. */
void soc_fixture_create(const char *prefix, const struct ampl_soc_profile *p, char *name, size_t len,
			struct ampl_soc **soc);

/* Attach to @soc as agent @agent with @o. */
struct ampl_agent *soc_fixture_attach(struct ampl_soc *soc, const char *agent, const struct ampl_agent_opts *o);

#endif /* TESTS_COMMON_SOC_FIXTURE_H */
