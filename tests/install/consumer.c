/* A program built against the installed amplink: finds the profile and names an error. */
#include <stdio.h>
#include <string.h>

#include <amplink/errno.h>
#include <amplink/ipm.h>
#include <amplink/soc.h>

int main(void)
{
	const struct ampl_soc_profile *p = ampl_soc_profile_find("zynqmp");
	if (!p || p->num_agents != 11 || strcmp(ampl_errname(-EBUSY), "EBUSY"))
		return 1;
	if (ipm_send(NULL, 0, 0, NULL, 0) != -EINVAL)
		return 1;
	printf("consumer ok: %s has %u agents\n", p->name, p->num_agents);
	return 0;
}
