/*
 * Access control on the virtual SoC, as the silicon's XPPU/XMPU apertures do it (docs/security.md).
 *
 * A handle of the SoC (ampl_soc_open()) attached as no agent is the supervisor's (the creator, `amplink soc show`,
 * `amplink agent offline`): it maps the whole image as before. Once it is attached as an agent (ampl_agent_attach()),
 *   - it maps the register page of every other agent read-only (struct sim_regs: the only words of an agent's
 *     register, hotplug, routing, discard and doorbell state, each written by one agent), so a request, a discard
 *     or a ring "from apu" can only come from the process attached as apu; the same for each side's page of a
 *     controller (src/sim/ctrl.h: a Messaging Unit's side), writable only where attached as that side's agent;
 *   - it maps each devicetree aperture (amplink,aperture) of the reserved memory read-write if the agent is one of
 *     its writers, read-only if one of its readers, and not at all otherwise;
 *   - it maps the IPI message buffers its agent writes (its requests, its responses) read-write, those addressed
 *     to it read-only and every other not at all (src/sim/buffers.c lays them out a page per writer and reader);
 *   - a register access through the model's ops as another agent (ampl_soc_agent_regs() of an agent this handle is
 *     not attached as, ampl_soc_mu_regs() of another agent's side) is an access fault: the write is dropped, a read
 *     returns 0;
 *   - a plain access the protections refuse raises SIGSEGV: the handler below records the access fault and lets
 *     the signal kill the process (what a process can do of the silicon's poisoned access and error interrupt).
 * Every access fault is counted and recorded (access, address, aperture) in the register page of the agent the
 * handle is attached as, where ampl_soc_agent_faults() and `amplink soc faults` read it.
 * A process attached as several agents through one handle has the rights of all of them; its faults are recorded
 * in the page of the first (lowest index). The last detach gives the handle back its supervisor mapping.
 */
#include "sim/image.h"
#include "sim/trace.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

/* Attaches and detaches of one process change the protections one at a time. */
static pthread_mutex_t protect_lock = PTHREAD_MUTEX_INITIALIZER;

/* The protection of aperture @a for a handle attached as @roles (0: the supervisor's, everything). */
static int aperture_prot(const struct sim_aperture *a, uint32_t roles)
{
	if (!roles || (roles & a->writers))
		return PROT_READ | PROT_WRITE;
	return roles & a->readers ? PROT_READ : PROT_NONE;
}

/*
 * Map each agent's page writable if @roles has it, read-only otherwise, and the supervisor's page writable for the
 * supervisor only (@roles 0); with @grant, only the pages that become writable. Pages larger than the image's:
 * nothing (the ops still check, plain stores are not caught).
 */
static int protect_pages(struct ampl_soc *soc, uint32_t roles, bool grant)
{
	if (sysconf(_SC_PAGESIZE) != (long)SIM_PAGE)
		return 0;
	for (unsigned i = 0; i < soc->profile->num_agents; i++) {
		bool w = !roles || (roles & 1u << i);
		if ((w || !grant) && mprotect(&soc->img->regs[i], sizeof(soc->img->regs[i]), w ? PROT_READ | PROT_WRITE
												  : PROT_READ))
			return sim_error(-errno, "SoC '%s': cannot protect the register page of %s: %s", soc->name,
					 soc->profile->agents[i].name, strerror(errno));
	}
	for (unsigned c = 0; c < soc->num_ctrls; c++) {
		const struct sim_ctrl_cfg *cfg = &soc->ctrl_cfg[c];
		for (unsigned s = 0; s < cfg->num_sides; s++) {
			bool w = !roles || (roles & 1u << cfg->owner[s]);
			if ((w || !grant) && mprotect(&soc->img->ctrl_side[c][s], sizeof(soc->img->ctrl_side[c][s]),
						      w ? PROT_READ | PROT_WRITE : PROT_READ))
				return sim_error(-errno, "SoC '%s': cannot protect side %c of %s: %s", soc->name,
						 'A' + s, cfg->name, strerror(errno));
		}
	}
	if ((!roles || !grant) &&
	    mprotect(&soc->img->super, sizeof(soc->img->super), roles ? PROT_READ : PROT_READ | PROT_WRITE))
		return sim_error(-errno, "SoC '%s': cannot protect the supervisor's page: %s", soc->name, strerror(errno));
	return 0;
}

/*
 * Map the pages of @soc for a handle attached as @roles (protect_pages()), each aperture as its readers and writers
 * say, and the header read-only for an agent. The page this handle rings doorbells from (sim_ring()) changes while
 * both the old and the new one are writable: between granting and revoking.
 */
static int protect(struct ampl_soc *soc, uint32_t roles)
{
	int ret = protect_pages(soc, roles, true);
	if (ret)
		return ret;
	atomic_store(&soc->ring_as, roles ? __builtin_ctz(roles) : -1);
	ret = protect_pages(soc, roles, false);
	if (ret || sysconf(_SC_PAGESIZE) != (long)SIM_PAGE)
		return ret;
	/* The header (memory map, apertures: what the next process to open the image trusts) and the devicetree. */
	int ro = roles ? PROT_READ : PROT_READ | PROT_WRITE;
	size_t dtb_from = (size_t)soc->dtb_off & ~(size_t)(SIM_PAGE - 1);
	/* Then the controllers' supervisor slots (src/sim/ctrl.h: sim_ctrl_state()). */
	if (mprotect(soc->img, offsetof(struct sim_image, regs), ro) ||
	    mprotect((char *)soc->img + dtb_from, soc->size - dtb_from, ro))
		return sim_error(-errno, "SoC '%s': cannot protect the image's header: %s", soc->name, strerror(errno));
	for (unsigned i = 0; i < soc->num_apertures; i++) {
		const struct sim_aperture *a = &soc->apertures[i];
		void *host = (void *)ampl_soc_phys(soc, a->phys, (size_t)a->size); /* validated at open */
		if (mprotect(host, (size_t)a->size, aperture_prot(a, roles)))
			return sim_error(-errno, "SoC '%s': cannot protect aperture %s: %s", soc->name, a->name,
					 strerror(errno));
	}
	return sim_buf_protect(soc, roles);
}

/* ---- plain accesses the protections refuse: SIGSEGV ---- */

#define MAX_GUARDED 16
static struct ampl_soc *_Atomic guarded[MAX_GUARDED]; /* handles attached as an agent */
static struct sigaction segv_prev;                    /* the handler ours replaced */

static void record_fault(struct ampl_soc *soc, unsigned who, uint64_t addr, const char *aperture,
			 const char *access);

/* Side @s of controller @c as an aperture's name: "mu:ipm@40028000:A" (the model, the node, the side). */
static void ctrl_side_name(const struct ampl_soc *soc, unsigned c, unsigned s, char *name, size_t cap)
{
	const struct sim_ctrl_model *m = sim_ctrl_model_of(soc, c);
	snprintf(name, cap, "%s:%s:%c", m ? m->name : "ctrl", c < soc->num_ctrls ? soc->ctrl_cfg[c].name : "none",
		 'A' + s);
}

/* The aperture of @soc that host address @p falls in: its name into @name and the physical address; false if none. */
static bool fault_target(struct ampl_soc *soc, uintptr_t p, char *name, size_t cap, uint64_t *phys)
{
	uintptr_t img = (uintptr_t)soc->img, dtb_from = (uintptr_t)soc->dtb_off & ~(uintptr_t)(SIM_PAGE - 1);
	uintptr_t super = (uintptr_t)&soc->img->super;
	*phys = p - img; /* no physical address but a register block's or an aperture's: the offset in the image */
	if (p >= img && p - img < soc->size && (p - img < offsetof(struct sim_image, ctrl_state) || p - img >= dtb_from)) {
		snprintf(name, cap, "%s", p - img < dtb_from ? "image-header" : "devicetree");
		return true;
	}
	uintptr_t slots = (uintptr_t)soc->img->ctrl_state;
	if ((p >= super && p - super < sizeof(soc->img->super)) ||
	    (p >= slots && p - slots < sizeof(soc->img->ctrl_state))) {
		snprintf(name, cap, "supervisor");
		return true;
	}
	for (unsigned i = 0; i < soc->profile->num_agents; i++) {
		uintptr_t page = (uintptr_t)&soc->img->regs[i];
		if (p >= page && p - page < sizeof(soc->img->regs[i])) {
			size_t off = p - page;
			const char *what = off < offsetof(struct sim_regs, owner)      ? "ipi"
					   : off < offsetof(struct sim_regs, buf_mark) ? "hotplug"
					   : off < offsetof(struct sim_regs, line_src) ? "buffer-marks"
					   : off < offsetof(struct sim_regs, drop)     ? "routing"
					   : off < offsetof(struct sim_regs, ring)     ? "discards"
										      : "doorbells";
			snprintf(name, cap, "%s:%s", what, soc->profile->agents[i].name);
			if (off < offsetof(struct sim_regs, owner) && soc->profile->agents[i].ipi)
				*phys = soc->profile->agents[i].ipi->reg_base;
			return true;
		}
	}
	uintptr_t sides = (uintptr_t)soc->img->ctrl_side;
	if (p >= sides && p - sides < sizeof(soc->img->ctrl_side)) {
		unsigned c = (unsigned)((p - sides) / sizeof(soc->img->ctrl_side[0]));
		unsigned s = (unsigned)((p - sides) % sizeof(soc->img->ctrl_side[0]) / SIM_PAGE);
		ctrl_side_name(soc, c, s, name, cap);
		*phys = c < soc->num_ctrls ? soc->ctrl_cfg[c].addr : *phys;
		return true;
	}
	if (sim_buf_fault_target(soc, p, name, cap, phys))
		return true;
	for (unsigned i = 0; i < soc->num_apertures; i++) {
		const struct sim_aperture *a = &soc->apertures[i];
		uintptr_t host = (uintptr_t)ampl_soc_phys(soc, a->phys, (size_t)a->size);
		if (p >= host && p - host < a->size) {
			snprintf(name, cap, "%s", a->name);
			*phys = a->phys + (p - host);
			return true;
		}
	}
	return false;
}

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
	uintptr_t p = (uintptr_t)si->si_addr;
	const char *access = "access"; /* read or write: the page-fault error code says where there is one */
#if defined(__x86_64__)
	access = ((ucontext_t *)uc)->uc_mcontext.gregs[REG_ERR] & 2 ? "write" : "read";
#endif
	for (unsigned i = 0; i < MAX_GUARDED; i++) {
		struct ampl_soc *soc = atomic_load(&guarded[i]);
		uint32_t roles = soc ? atomic_load(&soc->roles) : 0;
		char name[SIM_APERTURE_NAME], msg[256];
		uint64_t phys;
		if (!roles || !fault_target(soc, p, name, sizeof(name), &phys))
			continue;
		unsigned who = (unsigned)__builtin_ctz(roles);
		record_fault(soc, who, phys, name, access);
		int n = snprintf(msg, sizeof(msg), "amplink: SoC '%s': access fault: %s of 0x%llx by %s (aperture %s); "
				 "the process is stopped\n", soc->name, access, (unsigned long long)phys,
				 soc->profile->agents[who].name, name);
		if (n > 0)
			(void)!write(STDERR_FILENO, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
		break;
	}
	/* Whoever's fault it is, the handler before ours decides (the default: the process dies of it). */
	if (segv_prev.sa_flags & SA_SIGINFO) {
		segv_prev.sa_sigaction(sig, si, uc);
	} else if (segv_prev.sa_handler != SIG_DFL && segv_prev.sa_handler != SIG_IGN) {
		segv_prev.sa_handler(sig);
	} else {
		sigaction(SIGSEGV, &segv_prev, NULL); /* the access faults again and takes that action */
	}
}

/* Install the handler unless it is in place (a handler installed since, or reset in a child, replaced it). */
static int segv_install(void)
{
	struct sigaction cur, sa;
	if (sigaction(SIGSEGV, NULL, &cur))
		return -errno;
	if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == segv_handler)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = segv_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	segv_prev = cur;
	return sigaction(SIGSEGV, &sa, NULL) ? -errno : 0;
}

/* Keep @soc in the handler's list while it is attached as an agent. */
static void guard(struct ampl_soc *soc, bool on)
{
	for (unsigned i = 0; i < MAX_GUARDED; i++) {
		struct ampl_soc *expect = on ? NULL : soc;
		if (atomic_compare_exchange_strong(&guarded[i], &expect, on ? soc : NULL))
			return;
	}
}

int sim_access_attach(struct ampl_soc *soc, unsigned idx)
{
	pthread_mutex_lock(&protect_lock);
	uint32_t old = atomic_load(&soc->roles), roles = old | 1u << idx;
	int ret = segv_install();
	if (ret) {
		pthread_mutex_unlock(&protect_lock);
		return sim_error(ret, "cannot install the access-fault handler: %s", strerror(-ret));
	}
	if (!old)
		guard(soc, true);
	atomic_store(&soc->roles, roles);
	ret = protect(soc, roles);
	if (ret) {
		atomic_store(&soc->roles, old);
		(void)protect(soc, old);
		if (!old)
			guard(soc, false);
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
	if (!roles)
		guard(soc, false);
	pthread_mutex_unlock(&protect_lock);
}

/* Record an access fault of the process attached as agent @who: the details first, then the count. */
static void record_fault(struct ampl_soc *soc, unsigned who, uint64_t addr, const char *aperture,
			 const char *access)
{
	struct sim_regs *r = &soc->img->regs[who];
	atomic_store(&r->fault_addr, addr);
	snprintf(r->fault_aperture, sizeof(r->fault_aperture), "%s", aperture);
	snprintf(r->fault_access, sizeof(r->fault_access), "%s", access);
	atomic_fetch_add(&r->faults, 1);
}

bool sim_access_fault(struct ampl_soc *soc, unsigned idx, uint32_t off, bool write)
{
	uint32_t roles = atomic_load_explicit(&soc->roles, memory_order_relaxed);
	if (!roles || (roles & 1u << idx))
		return true; /* attached meanwhile */
	char aperture[SIM_APERTURE_NAME];
	const struct ampl_soc_agent *a = &soc->profile->agents[idx];
	snprintf(aperture, sizeof(aperture), "ipi:%s", a->name);
	unsigned who = (unsigned)__builtin_ctz(roles);
	record_fault(soc, who, (a->ipi ? (uint64_t)a->ipi->reg_base : 0u) + off, aperture, write ? "write" : "read");
	SIM_TRACE(soc, who, AMPL_EV_ACCESS_FAULT, idx, off);
	return false;
}

bool sim_access_ctrl_fault(struct ampl_soc *soc, unsigned ctrl, unsigned side, uint32_t off, bool write)
{
	uint32_t roles = atomic_load_explicit(&soc->roles, memory_order_relaxed);
	unsigned owner = soc->ctrl_cfg[ctrl].owner[side];
	if (!roles || (roles & 1u << owner))
		return true; /* attached meanwhile */
	char aperture[SIM_APERTURE_NAME];
	ctrl_side_name(soc, ctrl, side, aperture, sizeof(aperture));
	unsigned who = (unsigned)__builtin_ctz(roles);
	record_fault(soc, who, soc->ctrl_cfg[ctrl].addr + off, aperture, write ? "write" : "read");
	SIM_TRACE(soc, who, AMPL_EV_ACCESS_FAULT, owner, off);
	return false;
}

bool sim_access_hotplug(struct ampl_soc *soc, unsigned idx, const char *what)
{
	uint32_t roles = atomic_load(&soc->roles);
	if (!roles || (roles & 1u << idx))
		return true;
	char aperture[SIM_APERTURE_NAME];
	const char *name = soc->profile->agents[idx].name;
	snprintf(aperture, sizeof(aperture), "hotplug:%s", name);
	unsigned who = (unsigned)__builtin_ctz(roles);
	uint64_t off = (uint64_t)((char *)&soc->img->regs[idx].down - (char *)soc->img);
	record_fault(soc, who, off, aperture, "write");
	SIM_TRACE(soc, who, AMPL_EV_ACCESS_FAULT, idx, (uint32_t)off);
	sim_error(-EACCES, "SoC '%s': access fault: %s may not %s %s (only its own process or the supervisor may)",
		  soc->name, soc->profile->agents[who].name, what, name);
	return false;
}

bool sim_access_super(struct ampl_soc *soc, const volatile void *word, const char *what)
{
	uint32_t roles = atomic_load(&soc->roles);
	if (!roles)
		return true;
	unsigned who = (unsigned)__builtin_ctz(roles);
	uint64_t off = (uint64_t)((const volatile char *)word - (const volatile char *)soc->img);
	record_fault(soc, who, off, "supervisor", "write");
	SIM_TRACE(soc, who, AMPL_EV_ACCESS_FAULT, who, (uint32_t)off);
	sim_error(-EACCES, "SoC '%s': access fault: %s may not %s (the supervisor's: a handle attached as no agent, "
		  "as the amplink command's)", soc->name, soc->profile->agents[who].name, what);
	return false;
}

int ampl_soc_agent_faults(const struct ampl_soc *soc, const struct ampl_soc_agent *agent, struct ampl_soc_fault *out)
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
