/* The virtual SoC fixture of the one-process tests (soc_fixture.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <unistd.h>

#include "soc_fixture.h"

static unsigned soc_counter;

void soc_fixture_create(const char *prefix, const struct ampl_soc_profile *p, char *name, size_t len,
			struct ampl_soc **soc)
{
	snprintf(name, len, "%s-%d-%u", prefix, (int)getpid(), soc_counter++);
	int ret = ampl_soc_create(name, p, NULL, 0);
	if (ret)
		fail_msg("ampl_soc_create(%s): %d %s", name, ret, ampl_soc_last_error());
	ret = ampl_soc_open(name, soc);
	if (ret)
		fail_msg("ampl_soc_open(%s): %d %s", name, ret, ampl_soc_last_error());
}

struct ampl_agent *soc_fixture_attach(struct ampl_soc *soc, const char *agent, const struct ampl_agent_opts *o)
{
	struct ampl_agent *ag = NULL;
	int ret = ampl_agent_attach(soc, agent, o, &ag);
	if (ret)
		fail_msg("ampl_agent_attach(%s): %d %s", agent, ret, ampl_soc_last_error());
	return ag;
}
