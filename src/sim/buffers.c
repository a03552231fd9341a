/*
 * IPI message-buffer management on the virtual SoC (include/amplink/host/soc.h, "IPI message buffers"): which channel of
 * which process uses each request/response pair, and reservations. The state lives in the image, so every process
 * sees the same, each word with one writer: a side's mark (struct sim_buf_mark) in the page of that side's agent,
 * written by the process attached as it; a reservation in the supervisor's page (reserving and releasing are the
 * supervisor's: from a handle attached as an agent they are access faults). A mark is still read back bounded and
 * checked (the pid is a hint: it is checked for liveness).
 *
 * Binding and reserving race without a lock, as a Dekker pair on a mark and the reservation:
 *   bind:    store pid[side] ; (seq_cst) ; load reserved   -> reserved: take the pid back, refuse
 *   reserve: store reserved  ; (seq_cst) ; load pid[0..1]  -> a live pid: take the reservation back, -EBUSY
 * In the single total order of the seq_cst operations one of the two sees the other, so a reserved buffer is never
 * used by a channel bound after the reservation; when both see each other both fail, which is safe. *
 * The buffers themselves: on the silicon an owner slot's 512 bytes interleave its requests (written by the owner)
 * with its peers' responses (written by each peer) in 32-byte pieces, which page protections cannot tell apart. In
 * the image the buffer RAM is laid out by writer instead: one page per (writer slot, reader slot) pair holding the
 * writer's request to the reader at offset 0 and the writer's response to the reader's request at offset 32. A
 * process attached as an agent maps the pages of its slot's writes writable, those addressed to its slot read-only
 * and no other (src/sim/access.c); ampl_soc_phys() of a buffer's silicon address answers its place in that page,
 * so drivers see the silicon's addresses. A buffer RAM in an emulator's backing file keeps the silicon's layout.
 */
#include "sim/image.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const struct ampl_soc_agent *agent_of_slot(const struct ampl_soc_profile *p, unsigned slot)
{
	for (unsigned i = 0; i < p->num_agents; i++)
		if (p->agents[i].ipi && p->agents[i].ipi->buf_slot == (int8_t)slot)
			return &p->agents[i];
	return NULL;
}

bool sim_buf_paged(uint64_t size)
{
	return size && size <= (uint64_t)SIM_BUF_SLOTS * AMPL_IPI_SLOT_STRIDE;
}

/* The page of (writer slot @w, reader slot @r) in the paged buffer RAM @m. */
static char *pair_page(const struct ampl_soc *soc, const struct sim_mem *m, unsigned w, unsigned r)
{
	return (char *)soc->img + m->off + (size_t)(w * SIM_BUF_SLOTS + r) * SIM_PAGE;
}

volatile void *sim_buf_phys(const struct ampl_soc *soc, const struct sim_mem *m, uint64_t addr, size_t len)
{
	uint64_t rel = addr - m->phys;
	if (rel >= m->size)
		return NULL;
	unsigned owner = (unsigned)(rel / AMPL_IPI_SLOT_STRIDE);
	unsigned target = (unsigned)(rel % AMPL_IPI_SLOT_STRIDE / AMPL_IPI_TARGET_STRIDE);
	unsigned piece = (unsigned)(rel % AMPL_IPI_TARGET_STRIDE), in = piece % AMPL_IPI_BUF_SIZE;
	bool resp = piece >= AMPL_IPI_RESP_OFFSET;
	if (len > AMPL_IPI_BUF_SIZE - in)
		return NULL; /* across two buffers, which the image does not keep side by side */
	/* A request is written by its owner for its target, a response by the target for the owner. */
	return pair_page(soc, m, resp ? target : owner, resp ? owner : target) + (resp ? AMPL_IPI_BUF_SIZE : 0u) + in;
}

/* The buffer slots of the agents in @roles. */
static uint32_t slots_of(const struct ampl_soc *soc, uint32_t roles)
{
	uint32_t slots = 0;
	for (unsigned i = 0; i < soc->profile->num_agents; i++) {
		const struct ampl_ipi_block *ipi = soc->profile->agents[i].ipi;
		int8_t slot = ipi ? ipi->buf_slot : AMPL_IPI_NO_BUFFER;
		if ((roles & 1u << i) && slot >= 0 && slot < (int)SIM_BUF_SLOTS)
			slots |= 1u << slot;
	}
	return slots;
}

int sim_buf_protect(struct ampl_soc *soc, uint32_t roles)
{
	const struct sim_mem *m = &soc->mems[0];
	if (!soc->num_mems || !m->paged)
		return 0;
	uint32_t mine = slots_of(soc, roles);
	for (unsigned w = 0; w < SIM_BUF_SLOTS; w++) {
		for (unsigned r = 0; r < SIM_BUF_SLOTS; r++) {
			int prot = PROT_NONE;
			if (!roles || (mine & 1u << w))
				prot = PROT_READ | PROT_WRITE; /* its writer's (the supervisor writes everything) */
			else if (mine & 1u << r)
				prot = PROT_READ; /* addressed to it */
			if (mprotect(pair_page(soc, m, w, r), SIM_PAGE, prot))
				return sim_error(-errno, "SoC '%s': cannot protect the IPI buffers of slot %u: %s",
						 soc->name, w, strerror(errno));
		}
	}
	return 0;
}

bool sim_buf_fault_target(const struct ampl_soc *soc, uintptr_t p, char *name, size_t cap, uint64_t *phys)
{
	const struct sim_mem *m = &soc->mems[0];
	uintptr_t base = (uintptr_t)pair_page(soc, m, 0, 0);
	if (!soc->num_mems || !m->paged || p < base || p - base >= (uintptr_t)SIM_BUF_PAGES * SIM_PAGE)
		return false;
	unsigned page = (unsigned)((p - base) / SIM_PAGE), w = page / SIM_BUF_SLOTS, r = page % SIM_BUF_SLOTS;
	unsigned in = (unsigned)((p - base) % SIM_PAGE);
	const struct ampl_soc_agent *wa = agent_of_slot(soc->profile, w), *ra = agent_of_slot(soc->profile, r);
	const char *wn = wa ? wa->name : "?", *rn = ra ? ra->name : "?";
	if (in >= 2 * AMPL_IPI_BUF_SIZE) { /* the rest of the page: no silicon address, the offset in the image */
		*phys = p - (uintptr_t)soc->img;
		snprintf(name, cap, "ipi-buffers");
	} else if (in < AMPL_IPI_BUF_SIZE) {
		*phys = m->phys + (uint64_t)w * AMPL_IPI_SLOT_STRIDE + (uint64_t)r * AMPL_IPI_TARGET_STRIDE + in;
		snprintf(name, cap, "ipi-request:%s->%s", wn, rn);
	} else {
		*phys = m->phys + (uint64_t)r * AMPL_IPI_SLOT_STRIDE + (uint64_t)w * AMPL_IPI_TARGET_STRIDE + in;
		snprintf(name, cap, "ipi-response:%s->%s", wn, rn);
	}
	return true;
}

static bool has_bufs(const struct ampl_soc *soc)
{
	const struct ampl_soc_profile *p = soc->profile;
	return p->valid_mask && p->buf_size >= SIM_BUF_SLOTS * AMPL_IPI_SLOT_STRIDE;
}

unsigned ampl_soc_num_bufs(const struct ampl_soc *soc)
{
	return soc && has_bufs(soc) ? SIM_BUF_SLOTS * SIM_BUF_SLOTS : 0u;
}

/* A pid read from the image: a live process, or 0. */
static int live_pid(int32_t pid)
{
	if (pid <= 0)
		return 0;
	return kill(pid, 0) == 0 || errno == EPERM ? pid : 0;
}

/* Side @side's mark on buffer @index in agent @idx's page (the owner's side 0, the peer's side 1). */
static struct sim_buf_mark *mark_of(const struct ampl_soc *soc, unsigned idx, unsigned index, unsigned side)
{
	unsigned o = index / SIM_BUF_SLOTS, t = index % SIM_BUF_SLOTS;
	return &soc->img->regs[idx].buf_mark[side][side ? o : t];
}

/* The live mark on side @side of buffer @index: of any agent of that side's slot (several share the PMU's). */
static const struct sim_buf_mark *live_mark(const struct ampl_soc *soc, unsigned index, unsigned side, int *pid)
{
	unsigned slot = side ? index % SIM_BUF_SLOTS : index / SIM_BUF_SLOTS;
	for (unsigned i = 0; i < soc->profile->num_agents; i++) {
		if (soc->profile->agents[i].ipi->buf_slot != (int8_t)slot)
			continue;
		const struct sim_buf_mark *m = mark_of(soc, i, index, side);
		*pid = live_pid(atomic_load(&m->pid));
		if (*pid)
			return m;
	}
	*pid = 0;
	return NULL;
}

static const char *buf_name(const struct ampl_soc *soc, unsigned index, char *out, size_t cap)
{
	const struct ampl_soc_agent *o = agent_of_slot(soc->profile, index / SIM_BUF_SLOTS);
	const struct ampl_soc_agent *t = agent_of_slot(soc->profile, index % SIM_BUF_SLOTS);
	snprintf(out, cap, "%u (%s -> %s, request at 0x%llx)", index, o ? o->name : "?", t ? t->name : "?",
		 (unsigned long long)(soc->profile->buf_base + (uint64_t)(index / SIM_BUF_SLOTS) * AMPL_IPI_SLOT_STRIDE +
				      (uint64_t)(index % SIM_BUF_SLOTS) * AMPL_IPI_TARGET_STRIDE));
	return out;
}

int ampl_soc_buf_info(const struct ampl_soc *soc, unsigned index, struct ampl_soc_buf *out)
{
	if (!soc || !out || index >= ampl_soc_num_bufs(soc))
		return -EINVAL;
	const struct ampl_soc_profile *p = soc->profile;
	memset(out, 0, sizeof(*out));
	out->index = index;
	out->owner = agent_of_slot(p, index / SIM_BUF_SLOTS);
	out->peer = agent_of_slot(p, index % SIM_BUF_SLOTS);
	out->request = p->buf_base + (uint64_t)(index / SIM_BUF_SLOTS) * AMPL_IPI_SLOT_STRIDE +
		       (uint64_t)(index % SIM_BUF_SLOTS) * AMPL_IPI_TARGET_STRIDE;
	out->response = out->request + AMPL_IPI_RESP_OFFSET;
	out->reserved = atomic_load(&soc->img->super.buf_reserved[index]) != 0;
	for (unsigned s = 0; s < 2; s++) {
		const struct sim_buf_mark *m = live_mark(soc, index, s, &out->pid[s]);
		if (m) {
			/* Another process may be writing the name: copy what is there, bounded and terminated. */
			memcpy(out->chan[s], m->chan, sizeof(out->chan[s]) - 1);
			out->chan[s][sizeof(out->chan[s]) - 1] = 0;
		}
	}
	return 0;
}

int ampl_soc_buf_find(const struct ampl_soc *soc, const struct ampl_soc_agent *owner, const struct ampl_soc_agent *peer)
{
	if (!soc || !owner || !peer)
		return -EINVAL;
	if (!ampl_soc_num_bufs(soc) || owner->ipi->buf_slot < 0 || peer->ipi->buf_slot < 0 ||
	    owner->ipi->buf_slot >= (int)SIM_BUF_SLOTS || peer->ipi->buf_slot >= (int)SIM_BUF_SLOTS)
		return -ENOENT;
	return owner->ipi->buf_slot * (int)SIM_BUF_SLOTS + peer->ipi->buf_slot;
}

int ampl_soc_buf_reserve(struct ampl_soc *soc, unsigned index)
{
	if (!soc || index >= ampl_soc_num_bufs(soc))
		return sim_error(-EINVAL, "no IPI buffer %u on this SoC (%u buffers)", index, ampl_soc_num_bufs(soc));
	_Atomic uint32_t *reserved = &soc->img->super.buf_reserved[index];
	uint32_t was = 0;
	char name[96];
	if (!sim_access_super(soc, reserved, "reserve an IPI buffer"))
		return -EACCES;
	if (!atomic_compare_exchange_strong(reserved, &was, 1u))
		return sim_error(-EALREADY, "IPI buffer %s is reserved already", buf_name(soc, index, name, sizeof(name)));
	struct ampl_soc_buf info;
	ampl_soc_buf_info(soc, index, &info);
	for (unsigned s = 0; s < 2; s++) {
		if (info.pid[s]) {
			atomic_store(reserved, 0u);
			return sim_error(-EBUSY, "IPI buffer %s is in use by process %d (channel %s)",
					 buf_name(soc, index, name, sizeof(name)), info.pid[s], info.chan[s]);
		}
	}
	return 0;
}

int ampl_soc_buf_release(struct ampl_soc *soc, unsigned index)
{
	if (!soc || index >= ampl_soc_num_bufs(soc))
		return sim_error(-EINVAL, "no IPI buffer %u on this SoC (%u buffers)", index, ampl_soc_num_bufs(soc));
	char name[96];
	if (!sim_access_super(soc, &soc->img->super.buf_reserved[index], "release an IPI buffer"))
		return -EACCES;
	if (!atomic_exchange(&soc->img->super.buf_reserved[index], 0u))
		return sim_error(-EALREADY, "IPI buffer %s is not reserved", buf_name(soc, index, name, sizeof(name)));
	return 0;
}

/* Mark side @side of buffer @index as this process's channel @chan of agent @idx; refuse if reserved. */
static int take(struct ampl_soc *soc, unsigned idx, int index, unsigned side, const char *chan)
{
	struct sim_buf_mark *m = mark_of(soc, idx, (unsigned)index, side); /* the binding agent's own page */
	int32_t me = (int32_t)getpid();
	snprintf(m->chan, sizeof(m->chan), "%s", chan);
	atomic_store(&m->pid, me);
	if (atomic_load(&soc->img->super.buf_reserved[index])) {
		atomic_compare_exchange_strong(&m->pid, &me, 0);
		char name[96];
		return sim_error(-EACCES, "IPI buffer %s is reserved: channel %s cannot use it (amplink soc buffers "
				 "--release %d)", buf_name(soc, (unsigned)index, name, sizeof(name)), chan, index);
	}
	return 0;
}

static void drop(struct ampl_soc *soc, unsigned idx, int index, unsigned side)
{
	int32_t me = (int32_t)getpid();
	atomic_compare_exchange_strong(&mark_of(soc, idx, (unsigned)index, side)->pid, &me, 0);
}

int sim_buf_bind(struct ampl_soc *soc, const struct ampl_soc_agent *local, const struct ampl_soc_agent *remote,
		 const char *chan)
{
	int own = ampl_soc_buf_find(soc, local, remote), peer = ampl_soc_buf_find(soc, remote, local);
	if (own < 0 || peer < 0)
		return 0; /* bufferless: nothing to allocate */
	unsigned idx = ampl_soc_agent_index(soc->profile, local);
	int ret = take(soc, idx, own, 0, chan);
	if (ret)
		return ret;
	ret = take(soc, idx, peer, 1, chan);
	if (ret)
		drop(soc, idx, own, 0);
	return ret;
}

void sim_buf_unbind(struct ampl_soc *soc, const struct ampl_soc_agent *local, const struct ampl_soc_agent *remote)
{
	int own = ampl_soc_buf_find(soc, local, remote), peer = ampl_soc_buf_find(soc, remote, local);
	if (own < 0 || peer < 0)
		return;
	unsigned idx = ampl_soc_agent_index(soc->profile, local);
	drop(soc, idx, own, 0);
	drop(soc, idx, peer, 1);
}
