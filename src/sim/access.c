/*
 * Access control on the virtual SoC, as the silicon's XPPU/XMPU apertures do it (docs/security.md).
 *
 * A handle of the SoC (ampl_soc_open()) attached as no agent is the supervisor's (the creator, `amplink soc show`,
 * `amplink agent offline`): it maps the whole image as before. Once it is attached as an agent (ampl_agent_attach()),
 * it maps the register page of every other agent read-only (struct sim_regs: the only words of an agent's register
 * state, each written by one agent), so that
 *   - a register access through the model's ops as another agent (ampl_soc_agent_regs() of an agent this handle is
 *     not attached as) is an access fault: the write is dropped, a read returns 0, and the fault is counted and
 *     recorded (agent, address, aperture) in the register page of the agent the handle is attached as, where
 *     ampl_soc_agent_faults() and `amplink soc faults` read it;
 *   - a plain store into another agent's page raises SIGSEGV, which kills the storing process (what a process can
 *     do of the silicon's poisoned access and error interrupt): a request "from apu" can only come from the process
 *     attached as apu.
 * A process attached as several agents through one handle writes the pages of all of them; its faults are recorded
 * in the page of the first (lowest index). The last detach gives the handle back its supervisor mapping.
 */
#include "sim/image.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Attaches and detaches of one process change the protections one at a time. */
static pthread_mutex_t protect_lock = PTHREAD_MUTEX_INITIALIZER;

/* Map each agent's register page of @soc writable if @roles has it (or is 0), read-only otherwise. */
static int protect(struct ampl_soc *soc, uint32_t roles)
{
	if (sysconf(_SC_PAGESIZE) != (long)SIM_PAGE)
		return 0; /* pages larger than the image's: the ops still check, plain stores are not caught */
	for (unsigned i = 0; i < soc->profile->num_agents; i++) {
		int prot = !roles || (roles & 1u << i) ? PROT_READ | PROT_WRITE : PROT_READ;
		if (mprotect(&soc->img->regs[i], sizeof(soc->img->regs[i]), prot))
			return sim_error(-errno, "SoC '%s': cannot protect the register page of %s: %s", soc->name,
					 soc->profile->agents[i].name, strerror(errno));
	}
	return 0;
}

int sim_access_attach(struct ampl_soc *soc, unsigned idx)
{
	pthread_mutex_lock(&protect_lock);
	uint32_t old = atomic_load(&soc->roles), roles = old | 1u << idx;
	atomic_store(&soc->roles, roles);
	int ret = protect(soc, roles);
	if (ret) {
		atomic_store(&soc->roles, old);
		(void)protect(soc, old);
	}
	pthread_mutex_unlock(&protect_lock);
	return ret;
}

void sim_access_detach(struct ampl_soc *soc, unsigned idx)
{
	pthread_mutex_lock(&protect_lock);
	uint32_t roles = atomic_load(&soc->roles) & ~(1u << idx);
	(void)protect(soc, roles);
	atomic_store(&soc->roles, roles);
	pthread_mutex_unlock(&protect_lock);
}

/* Record an access fault of the process attached as agent @who: the details first, then the count. */
static void record_fault(struct ampl_soc *soc, unsigned who, uint64_t addr, const char *aperture, bool write)
{
	struct sim_regs *r = &soc->img->regs[who];
	atomic_store(&r->fault_addr, addr);
	snprintf(r->fault_aperture, sizeof(r->fault_aperture), "%s", aperture);
	snprintf(r->fault_access, sizeof(r->fault_access), "%s", write ? "write" : "read");
	atomic_fetch_add(&r->faults, 1);
}

bool sim_access_regs(struct ampl_soc *soc, unsigned idx, uint32_t off, bool write)
{
	uint32_t roles = atomic_load_explicit(&soc->roles, memory_order_relaxed);
	if (!roles || (roles & 1u << idx))
		return true;
	char aperture[SIM_APERTURE_NAME];
	const struct ampl_ipi_agent *a = &soc->profile->agents[idx];
	snprintf(aperture, sizeof(aperture), "ipi:%s", a->name);
	record_fault(soc, (unsigned)__builtin_ctz(roles), (uint64_t)a->reg_base + off, aperture, write);
	return false;
}

int ampl_soc_agent_faults(const struct ampl_soc *soc, const struct ampl_ipi_agent *agent, struct ampl_soc_fault *out)
{
	if (!soc || !agent || !out || agent < soc->profile->agents ||
	    agent >= soc->profile->agents + soc->profile->num_agents)
		return -EINVAL;
	const struct sim_regs *r = &soc->img->regs[ampl_soc_agent_index(soc->profile, agent)];
	memset(out, 0, sizeof(*out));
	out->count = atomic_load(&r->faults);
	out->addr = atomic_load(&r->fault_addr);
	/* Written by the agent's process at any time: copied bounded and terminated. */
	memcpy(out->aperture, r->fault_aperture, sizeof(out->aperture) - 1);
	memcpy(out->access, r->fault_access, sizeof(out->access) - 1);
	return 0;
}
