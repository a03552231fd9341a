/*
 * The virtual SoC image: the layout of the shared-memory file every agent maps. Private to the simulation.
 *
 *   +---------------------------+ 0
 *   | struct sim_image (header, |   magic, layout version, profile, memory map, apertures, controllers
 *   |  controller state,        |   (devicetree facts in the header); the controllers' supervisor words (read-
 *   |  register pages,          |   only for agents: src/sim/ctrl.h); then one page per agent of its register,
 *   |  controller side pages,   |   hotplug, routing, discard and doorbell words and buffer marks (by it
 *   |  supervisor page)         |   alone, read-only in other agents' processes: src/sim/access.c); one page
 *   |                           |   per side of each controller (by that side's agent alone); then the
 *   |                           |   supervisor's page (written by no attached agent)
 *   +---------------------------+ mems[i].off (4 KiB aligned)
 *   | IPI message-buffer RAM    |   at the profile's buffer base (mems[0]; none on a profile without IPI),
 *   |                           |   laid out by writer: a page per (writer slot, reader slot) pair
 *   |                           |   (src/sim/buffers.c)
 *   | reserved-memory regions   |   at their devicetree addresses (mems[1..]); a region inside the backing
 *   |                           |   file's window lives in that file instead (sim_mem.backed, no image space)
 *   +---------------------------+ dtb_off
 *   | the board's DTB           |
 *   +---------------------------+ image_size
 *
 * Every process validates the header when it opens the image; the header is written once at creation.
 */
#ifndef AMPL_SIM_IMAGE_H
#define AMPL_SIM_IMAGE_H

#include <stdatomic.h>
#include <stdint.h>

#include <amplink/host/soc.h>
#include "port/posix/port_posix.h"
#include "sim/ctrl.h"

#define SIM_MAGIC "AMPLSOC"
#define SIM_LAYOUT_VERSION 16u
#define SIM_MAX_AGENTS 16
#define SIM_MAX_MEMS 17 /* buffer RAM + AMPL_DT_MAX_MEMS */
#define SIM_PAGE 4096u
#define SIM_APERTURE_NAME 48u /* an aperture's name in a fault record, terminated */
/* IPI message buffers: owner slot x target slot (AMPL_SOC_BUF_SLOTS each way). */
#define SIM_BUF_SLOTS 8u
/* The buffer RAM in the image: one page per (writer slot, reader slot) pair (src/sim/buffers.c). */
#define SIM_BUF_PAGES (SIM_BUF_SLOTS * SIM_BUF_SLOTS)
#define SIM_BUF_CHAN_NAME 64u

/*
 * One side's mark on a request/response buffer pair (src/sim/buffers.c): the process whose channel uses it. Written
 * by the process attached as that side's agent, in its page; readers bound the name and check the pid's liveness.
 */
struct sim_buf_mark {
	_Atomic int32_t pid;          /* 0: not in use from this side */
	char chan[SIM_BUF_CHAN_NAME]; /* that channel's name, for tools */
};

/* An agent's doorbells (interrupt lines of the virtual SoC): sim_regs.ring[][line], sim_regs.sleepers[line]. */
#define SIM_LINE_IRQ 0u /* rung when a request to the agent is raised unmasked (and on hotplug, routing, MU events) */
#define SIM_LINE_ACK 1u /* rung when a request the agent sent is acknowledged or discarded (its OBS bit drops) */
#define SIM_LINES 2u

/*
 * One agent's register words that only that agent writes: a page of its own, which a process attached as another
 * agent maps read-only (src/sim/access.c). The source of a request is the page its counter is in, so it cannot be
 * forged. Request s -> d is pending while regs[s].raised[bit d] differs from regs[d].acked[bit s] (the
 * destination acknowledged it), from the low half of regs[s].drop[bit d] (its sender found the destination offline)
 * and from regs[d].gone[bit s] (the destination came back online with it pending): each end is written by one
 * agent. ISR and OBS are derived from these words (src/sim/ipi_model.c).
 */
struct sim_regs {
	_Alignas(SIM_PAGE) _Atomic uint32_t raised[32]; /* by destination bit: requests raised (TRIG), a counter */
	_Atomic uint32_t acked[32];                     /* by source bit: raised[] value last acknowledged (ISR W1C) */
	_Atomic uint32_t imr;
	/* Access faults of the process attached as this agent: count, then the last one (written before the count). */
	_Atomic uint32_t faults;
	_Atomic uint64_t fault_addr;
	char fault_aperture[SIM_APERTURE_NAME];
	char fault_access[16]; /* "read", "write" */
	/* Hotplug and crash detection (src/sim/hotplug.c, crash_watch.c): the agent's own words, so that no other
	 * agent can declare it offline, retired or crashed. A crash is not a word: it is the process recorded in
	 * owner being gone, which every process checks for itself (struct ampl_soc.dead_owner). */
	_Alignas(64) _Atomic uint64_t owner; /* sim_owner_self() of the attached process, 0 if none */
	_Atomic int32_t pid;                 /* process attached as this agent, 0 if none */
	_Atomic uint32_t down;               /* SIM_DOWN_*: offline by its own process's choice */
	/* Its channels' marks on the IPI buffers they use, by the remote's slot: [0] the pair this agent owns (its
	 * requests to the remote), [1] the remote's (its responses). */
	struct sim_buf_mark buf_mark[2][SIM_BUF_SLOTS];
	_Atomic uint32_t hp_seq; /* bumped after each change of owner or down (sim_hotplug_seq()) */
	/* Its interrupt routing as its process applies it (src/sim/irq_route.c: what `amplink agent route` shows),
	 * and its answer to the supervisor's last request (struct sim_super.route_req). */
	_Alignas(64) _Atomic uint32_t line_src[4]; /* sources on each interrupt line (XLNX_IPI_NUM_LINES) */
	_Atomic uint32_t masked;                   /* sources masked with ampl_agent_irq_mask() */
	_Atomic uint64_t route_done;               /* last request applied: seq | (uint64_t)-result << 32 */
	/* Discards (src/sim/ipi_model.c). By destination bit, this agent's requests discarded because the destination
	 * was offline: the count in the high half, the raised[] value of the last one dropped while pending in the low
	 * half (one word, so that counting and dropping are one compare-and-swap). Written by its process when it sees
	 * the destination offline (at its trigger, its wait for OBS, its hotplug interrupt). */
	_Alignas(64) _Atomic uint64_t drop[32];
	/* By source bit: the raised[] value of the source's request that was pending when this agent came back online
	 * (its sender had not looked yet): discarded, never delivered; its sender counts it (sim_ipi_discards()). */
	_Atomic uint32_t gone[32];
	/* Doorbells (src/port/posix/doorbell.c, doorbell sets): by target agent and line, this agent's sequence word
	 * for ringing that line; a waiter sleeps on every ringer's word of its line at once. */
	_Alignas(64) _Atomic uint32_t ring[SIM_MAX_AGENTS][SIM_LINES];
	_Atomic uint32_t sleepers[SIM_LINES]; /* by line of this agent: its waiters asleep in the kernel */
	_Atomic uint32_t ack_watchers; /* threads in ipi_wait32() on OBS: the ack line is rung only while one watches */
};
_Static_assert(sizeof(struct sim_regs) == SIM_PAGE, "an agent's words fill one page: the unit of protection");

/* sim_regs.down: taken offline by its own process (ampl_soc_agent_set_online()), retired (the next attach revives). */
#define SIM_DOWN_OFFLINE 1u
#define SIM_DOWN_RETIRED 2u

/* One side of one controller: its model's words that only that side's agent writes (src/sim/ctrl.h). */
struct sim_ctrl_page {
	_Alignas(SIM_PAGE) unsigned char words[SIM_PAGE];
};

/*
 * The supervisor's words: a page that a process attached as any agent maps read-only. An operator's offline
 * (`amplink agent offline`) lasts until the supervisor brings the agent back, whatever process attaches as it.
 */
struct sim_super {
	_Alignas(SIM_PAGE) _Atomic uint32_t offline[SIM_MAX_AGENTS]; /* 1: taken offline by the supervisor */
	/* By buffer index (owner slot * 8 + target slot): 1, no channel may be bound over it (ampl_soc_buf_reserve). */
	_Atomic uint32_t buf_reserved[SIM_BUF_SLOTS * SIM_BUF_SLOTS];
	_Atomic uint32_t hp_seq; /* bumped after each change of offline[] (sim_hotplug_seq()) */
	/* By agent: a routing request for the process attached as it (amplink agent route/mask/unmask), SIM_REQ_*
	 * fields, seq 0: none yet; the answer is that agent's sim_regs.route_done (src/sim/irq_route.c). */
	_Alignas(8) _Atomic uint64_t route_req[SIM_MAX_AGENTS];
	/* Doorbells rung by a handle attached as no agent (routing requests, hotplug, a tool's register writes): by
	 * target agent and line, as sim_regs.ring. */
	_Alignas(64) _Atomic uint32_t ring[SIM_MAX_AGENTS][SIM_LINES];
};

/* Crash detection period: each process with an attached agent checks the other agents' processes this often. */
#define SIM_WATCH_PERIOD_MS 10u

struct sim_mem {
	char name[64];
	uint64_t phys;
	uint64_t size;
	uint64_t off;    /* offset in the image, or in the backing file when backed */
	uint32_t backed; /* 1: the region lies in the backing file's window (off = phys - backing.phys) */
	uint32_t paged;  /* 1: the IPI buffer RAM laid out by writer, SIM_BUF_PAGES pages (src/sim/buffers.c) */
};

/* Bytes region @m takes in the image (or its backing file) from m->off. */
static inline uint64_t sim_mem_span(const struct sim_mem *m)
{
	return m->paged ? (uint64_t)SIM_BUF_PAGES * SIM_PAGE : m->size;
}

/* An access aperture of the devicetree (amplink,aperture): written once at creation, part of the header. */
struct sim_aperture {
	char name[SIM_APERTURE_NAME]; /* node name, "aperture@3ed00000" */
	uint64_t phys, size;          /* whole pages inside one memory region */
	uint32_t readers, writers;    /* agent index masks; a writer may also read */
};
#define SIM_MAX_APERTURES 16

/* A file that backs a window of physical memory (an emulator's RAM): written once at creation. */
struct sim_backing {
	char path[256]; /* absolute; "" if the SoC has no backing */
	uint64_t phys;  /* physical address of the file's first byte, page-aligned */
	uint64_t size;  /* the file's size at creation, a multiple of SIM_PAGE */
};

/* sim_super.route_req: sources (bits 0-31), line (32-35), op (36-39), seq (40-63; the done word's low 24 bits). */
#define SIM_REQ_ROUTE 1u
#define SIM_REQ_MASK 2u
#define SIM_REQ_UNMASK 3u
#define SIM_REQ_PACK(seq, op, line, src) \
	(((uint64_t)(seq) << 40) | ((uint64_t)((op) & 15u) << 36) | ((uint64_t)((line) & 15u) << 32) | (uint32_t)(src))
#define SIM_REQ_SEQ(r) ((uint32_t)((r) >> 40))
#define SIM_REQ_OP(r) ((unsigned)((r) >> 36) & 15u)
#define SIM_REQ_LINE(r) ((unsigned)((r) >> 32) & 15u)
#define SIM_REQ_SOURCES(r) ((uint32_t)(r))
#define SIM_REQ_SEQ_MASK 0xFFFFFFu

struct sim_image {
	char magic[8];
	uint32_t layout_version;
	uint32_t header_size;
	uint64_t image_size;
	char profile[16];
	char name[64];
	uint32_t num_agents;
	uint32_t num_mems;
	uint64_t dtb_off;
	uint64_t dtb_size;
	struct sim_mem mems[SIM_MAX_MEMS];
	struct sim_backing backing;
	uint32_t num_ctrls;
	struct sim_ctrl_cfg ctrl_cfg[SIM_MAX_CTRLS]; /* mailbox controllers but the IPI (src/sim/ctrl.h) */
	uint32_t num_apertures;
	struct sim_aperture apertures[SIM_MAX_APERTURES];
	/* Read-only in attached processes up to regs[]: the header, then the controllers' supervisor slots. */
	_Alignas(SIM_PAGE) unsigned char ctrl_state[SIM_MAX_CTRLS][SIM_CTRL_STATE]; /* by instance: its supervisor's words */
	struct sim_regs regs[SIM_MAX_AGENTS]; /* one page each, written by its agent only */
	struct sim_ctrl_page ctrl_side[SIM_MAX_CTRLS][SIM_CTRL_SIDES]; /* by instance and side: that side's agent's */
	struct sim_super super;               /* written by the supervisor only */
};

/* Per-process view of one agent's register block: the I/O region context. */
struct sim_port {
	struct ampl_soc *soc;
	unsigned idx;
	enum ampl_wait_mode mode;
	/* By source bit: the raised[] value of the latest request this process read pending in ISR (0: none), which
	 * its next ISR write acknowledges (src/sim/ipi_model.c). */
	_Atomic uint32_t seen[32];
	/* Set at open (sim_ipi_port_init()), so that a register read visits only words: the bits of the profile's
	 * agents, and by the other agent's bit the four words of each pair that live outside this agent's own page:
	 * its raised[] counter and drop[] word towards this agent, its acked[] and gone[] words for this agent. */
	uint32_t peers;
	/* The source bits of agents this process has seen go offline and not yet come back (its hotplug handler,
	 * src/sim/hotplug.c): their requests stay pending, unseen in ISR, until that handler has set the channels to
	 * them online again, so a doorbell of a peer that just came back never reaches a client whose channels still
	 * say offline. */
	_Atomic uint32_t gated;
	_Atomic uint32_t *in_raised[32];
	_Atomic uint64_t *in_drop[32];
	_Atomic uint32_t *out_acked[32];
	_Atomic uint32_t *out_gone[32];
};

/* Fills @soc->ports[@idx] for the profile's agent @idx (src/sim/ipi_model.c). */
void sim_ipi_port_init(struct ampl_soc *soc, unsigned idx);

struct ampl_soc {
	struct sim_image *img;
	size_t size;
	/* Validated snapshot of the header's memory map: never re-read from the shared header after open. */
	unsigned num_mems;
	struct sim_mem mems[SIM_MAX_MEMS];
	uint64_t dtb_off, dtb_size;
	struct sim_backing backing; /* validated snapshot; backing.path[0] == 0 if none */
	void *backing_map;          /* this process's mapping of the backing file (backing.size bytes) */
	const struct ampl_soc_profile *profile;
	char name[AMPL_SHM_NAME_MAX + 1];
	int8_t idx_by_bit[32]; /* agent index for each IPI bit, -1 if none */
	struct sim_port ports[SIM_MAX_AGENTS];
	struct ampl_agent *attached[SIM_MAX_AGENTS];
	/* Validated snapshot of the controllers (never re-read from the shared header), their models and ports. */
	unsigned num_ctrls;
	struct sim_ctrl_cfg ctrl_cfg[SIM_MAX_CTRLS];
	const struct sim_ctrl_model *ctrl_model[SIM_MAX_CTRLS];
	struct sim_ctrl_port ctrl_ports[SIM_MAX_CTRLS][SIM_CTRL_SIDES];
	struct sim_watch *watch; /* crash-detection thread while an agent is attached (src/sim/crash_watch.c) */
	_Atomic uint32_t roles;  /* agent indices attached through this handle (src/sim/access.c); 0: supervisor */
	_Atomic int ring_as;     /* whose words this handle rings doorbells with: an agent of roles, -1 the supervisor */
	/* By agent: the owner word this process last found dead (crash detection, src/sim/crash_watch.c); the agent is
	 * crashed while its owner word still holds that value. Private to the process: no other can forge it. */
	_Atomic uint64_t dead_owner[SIM_MAX_AGENTS];
	_Atomic uint32_t dead_seq; /* bumped after each change of dead_owner[] */
	/* Validated snapshot of the apertures (never re-read from the shared header). */
	unsigned num_apertures;
	struct sim_aperture apertures[SIM_MAX_APERTURES];
	/* By agent and line: its doorbell, every ringer's word (the profile's agents', then the supervisor's). */
	struct ampl_doorbell_set lines[SIM_MAX_AGENTS][SIM_LINES];
};

extern const struct ampl_io_ops sim_ipi_ops;

/**
 * sim_owner_self() - this process's identity as recorded in sim_regs.owner: pid in bits 0-31, a start token (the
 * low 32 bits of the process start time, /proc/PID/stat field 22, never 0; 0 if /proc cannot tell) in bits 32-63.
 */
uint64_t sim_owner_self(void);
/**
 * sim_owner_alive() - false when the process recorded as @owner is gone: no such pid, a zombie, or a pid reused by
 * a process that started at another time (its start token differs). True when it cannot tell.
 */
bool sim_owner_alive(uint64_t owner);
/** sim_watch_check() - one crash-detection pass over @soc's agents (what the watcher thread runs every period). */
void sim_watch_check(struct ampl_soc *soc);

/**
 * sim_offline() - is agent @idx offline as this process sees it: taken offline by the supervisor, by its own process
 * (or retired), or crashed (the process recorded as its owner was found dead by this process's crash detection,
 * and no process attached as it since)? Context: any.
 */
static inline bool sim_offline(const struct ampl_soc *soc, unsigned idx)
{
	const struct sim_regs *r = &soc->img->regs[idx];
	uint64_t o = atomic_load(&r->owner);
	return atomic_load(&soc->img->super.offline[idx]) || atomic_load(&r->down) ||
	       (o && o == atomic_load(&soc->dead_owner[idx]));
}

/*
 * A change of what sim_offline() reads is followed by a bump of a counter its writer may write (the agent's page,
 * the supervisor's, or this process's dead_seq), so that an interrupt context tells "nothing changed" from the sum
 * of the counters instead of every agent's words. sim_hotplug_bump() after the change; sim_hotplug_seq() before
 * reading the words.
 */
static inline void sim_hotplug_bump(_Atomic uint32_t *seq)
{
	atomic_fetch_add(seq, 1);
}

static inline uint32_t sim_hotplug_seq(const struct ampl_soc *soc)
{
	uint32_t s = atomic_load(&soc->img->super.hp_seq) + atomic_load(&soc->dead_seq);
	for (unsigned i = 0; i < soc->profile->num_agents; i++)
		s += atomic_load(&soc->img->regs[i].hp_seq);
	return s;
}

/**
 * sim_hotplug_notify() - agent @idx went offline (@online false) or came back: trace it and ring every agent's
 * interrupt line, whose interrupt contexts re-read the hotplug state (src/sim/hotplug.c). Context: any.
 */
void sim_hotplug_notify(struct ampl_soc *soc, unsigned idx, bool online, uint32_t dropped);
/**
 * sim_drop_all() - agent @idx went offline: end every request pending at it from a sender this handle acts for (the
 * agents it is attached as; every agent for the supervisor's handle) as discarded: each sender is told (its OBS
 * bit drops with the discard count moved). The other senders' processes do it for theirs (sim_drop_offline()).
 * Return: the bits of the senders whose request was dropped.
 */
uint32_t sim_drop_all(struct ampl_soc *soc, unsigned idx);
/**
 * sim_drop_offline() - end as discarded every request of agent @s to a destination of @bits (IPI bits) pending at a
 * destination that is offline as this process sees it (its hotplug interrupt, its wait for OBS).
 * Context: any, in the process attached as @s (or the supervisor's).
 */
void sim_drop_offline(struct ampl_soc *soc, unsigned s, uint32_t bits);
/**
 * sim_discard_pending() - agent @idx comes back online: record every request pending at it as discarded, in its
 * page (sim_regs.gone), so that none raised before it went offline is delivered after; each sender is told and
 * counts it. Call it before the agent is online again. Context: thread, in the process attached as @idx or the
 * supervisor's.
 */
void sim_discard_pending(struct ampl_soc *soc, unsigned idx);
/**
 * sim_ring() - ring line @line (SIM_LINE_*) of agent @idx with this handle's word: in the page of an agent it is
 * attached as (the first), or in the supervisor's page for a handle attached as none. Context: any.
 */
static inline void sim_ring(struct ampl_soc *soc, unsigned idx, unsigned line)
{
	int as = atomic_load_explicit(&soc->ring_as, memory_order_relaxed);
	_Atomic uint32_t *w = as >= 0 ? &soc->img->regs[as].ring[idx][line] : &soc->img->super.ring[idx][line];
	ampl_doorbell_ring_word(w, &soc->img->regs[idx].sleepers[line]);
}
/**
 * sim_line() - agent @idx's line @line as a doorbell set to wait on, rung by this process with the word of agent
 * @self (its own interrupt line: the interrupt thread's ampl_irq_connect()). Context: any.
 */
struct ampl_doorbell_set sim_line(const struct ampl_soc *soc, unsigned idx, unsigned line, unsigned self);

/** sim_damaged() - true once @soc's image file was found shorter than its mapping (src/port/posix/shm.c). */
bool sim_damaged(const struct ampl_soc *soc);
/** sim_damaged_error() - set the last error for a damaged image; returns -EIO. */
int sim_damaged_error(const struct ampl_soc *soc);

/**
 * sim_buf_bind() - a channel named @chan of agent @local to @remote is being made over the profile's buffers: mark
 * the two buffers it uses (local->remote as owner, remote->local as peer) as used by this process. Return: 0;
 * -EACCES (one of them is reserved: the last error names it; nothing is marked). No-op (0) for a bufferless pair.
 */
int sim_buf_bind(struct ampl_soc *soc, const struct ampl_soc_agent *local, const struct ampl_soc_agent *remote,
		 const char *chan);
/** sim_buf_unbind() - undo sim_buf_bind() (marks of this process only). */
void sim_buf_unbind(struct ampl_soc *soc, const struct ampl_soc_agent *local, const struct ampl_soc_agent *remote);
/**
 * sim_buf_paged() - can the profile's buffer RAM of @size bytes be laid out by writer (every owner slot below
 * SIM_BUF_SLOTS)? ampl_soc_create() then gives it SIM_BUF_PAGES pages (unless it lies in a backing file).
 */
bool sim_buf_paged(uint64_t size);
/**
 * sim_buf_phys() - the host pointer of [@addr, @addr + @len) in the paged buffer RAM @m: inside one request or one
 * response buffer (32 bytes), which is contiguous in its writer's page; NULL for a range across two buffers.
 * Context: any.
 */
volatile void *sim_buf_phys(const struct ampl_soc *soc, const struct sim_mem *m, uint64_t addr, size_t len);
/**
 * sim_buf_protect() - map the paged buffer RAM's pages for a handle attached as @roles (0: the supervisor,
 * everything writable): a page writable by the agents of its writer slot, readable by those of its reader slot,
 * not mapped for any other. Return: 0 or -errno of mprotect (the last error set). Context: thread.
 */
int sim_buf_protect(struct ampl_soc *soc, uint32_t roles);
/**
 * sim_buf_fault_target() - does host address @p fall in the paged buffer RAM? Then the buffer's name into @name
 * ("ipi-request:apu->rpu0", "ipi-response:rpu0->apu": writer -> reader) and its physical address into @phys.
 */
bool sim_buf_fault_target(const struct ampl_soc *soc, uintptr_t p, char *name, size_t cap, uint64_t *phys);

/* ---- the IPI register model (src/sim/ipi_model.c) ---- */

/**
 * sim_ipi_drop() - end request @s -> @d (agent indices) as discarded if it is pending: count it in @s's discard
 * count for @d (@s's page) and ring @s's acknowledgement doorbell. Return: true if this call dropped it.
 * Context: any, in the process attached as @s or the supervisor's.
 */
bool sim_ipi_drop(struct ampl_soc *soc, unsigned s, unsigned d);
/**
 * sim_ipi_discards() - how many requests of agent @s were discarded because @d was offline: @s's count, plus its
 * last request if @d recorded it discarded when it came back and @s has not counted it yet. Context: any.
 */
uint32_t sim_ipi_discards(struct ampl_soc *soc, unsigned s, unsigned d);

/* ---- access control (src/sim/access.c) ---- */

/**
 * sim_access_attach() - this handle now acts as agent @idx: map its register page writable and every other agent's
 * read-only, and apply the devicetree's apertures to the memory regions. Return: 0; -errno of mprotect (the last
 * error says which region). Context: thread, under ampl_agent_attach().
 */
int sim_access_attach(struct ampl_soc *soc, unsigned idx);
/** sim_access_detach() - undo sim_access_attach(); the last agent gone, the handle maps everything as it was. */
void sim_access_detach(struct ampl_soc *soc, unsigned idx);
/**
 * sim_access_regs() - may this handle access agent @idx's IPI register at @off (@write)? True when it is attached
 * as @idx or as no agent; otherwise the access is an access fault: counted and recorded in the register page of the
 * agent it is attached as, and false (the caller drops the write, reads 0). Context: any. sim_access_fault() is its
 * slow path: it records the fault and returns false.
 */
bool sim_access_fault(struct ampl_soc *soc, unsigned idx, uint32_t off, bool write);
static inline bool sim_access_regs(struct ampl_soc *soc, unsigned idx, uint32_t off, bool write)
{
	uint32_t roles = atomic_load_explicit(&soc->roles, memory_order_relaxed);
	return !roles || (roles & 1u << idx) || sim_access_fault(soc, idx, off, write);
}
/**
 * sim_access_ctrl() - may this handle access side @side of controller @ctrl at register offset @off (@write)? True
 * when it is attached as that side's agent or as no agent; otherwise an access fault on aperture
 * "MODEL:NODE:SIDE" ("mu:ipm@40028000:A"), counted and recorded as sim_access_regs() does, and false (the caller
 * drops the write, reads 0). Context: any. sim_access_ctrl_fault() is its slow path.
 */
bool sim_access_ctrl_fault(struct ampl_soc *soc, unsigned ctrl, unsigned side, uint32_t off, bool write);
static inline bool sim_access_ctrl(struct ampl_soc *soc, unsigned ctrl, unsigned side, uint32_t off, bool write)
{
	uint32_t roles = atomic_load_explicit(&soc->roles, memory_order_relaxed);
	return !roles || (roles & 1u << soc->ctrl_cfg[ctrl].owner[side]) ||
	       sim_access_ctrl_fault(soc, ctrl, side, off, write);
}
/**
 * sim_access_hotplug() - may this handle change agent @idx's hotplug state (@what: "offline", "retire", for the
 * fault record)? True for the supervisor (attached as no agent) and for a handle attached as @idx; otherwise an access
 * fault on @idx's hotplug words (aperture "hotplug:AGENT"), counted and recorded as sim_access_regs() does, and
 * false with the last error set. Context: thread.
 */
bool sim_access_hotplug(struct ampl_soc *soc, unsigned idx, const char *what);
/**
 * sim_access_super() - may this handle write the supervisor's word at @word (@what: what the call does, for the
 * last error)? True for the supervisor; otherwise an access fault on aperture "supervisor" (counted and recorded as
 * sim_access_regs() does), and false with the last error set. Context: thread.
 */
bool sim_access_super(struct ampl_soc *soc, const volatile void *word, const char *what);

/** Set this thread's last-error text (printf-style); returns @err. */
int sim_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* AMPL_SIM_IMAGE_H */
