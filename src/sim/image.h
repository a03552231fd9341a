/*
 * The virtual SoC image: the layout of the shared-memory file every agent maps. Private to the simulation.
 *
 *   +---------------------------+ 0
 *   | struct sim_image (header, |   magic, layout version, profile, memory map, agent register state,
 *   |  agents' register words,  |   Messaging Units (devicetree facts in the header, register state after
 *   |  Messaging Units)         |   the agents)
 *   +---------------------------+ mems[i].off (4 KiB aligned)
 *   | IPI message-buffer RAM    |   at the profile's buffer base (mems[0]; none on a profile without IPI)
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

#include <amplink/soc.h>
#include "port/posix/port_posix.h"

#define SIM_MAGIC "AMPLSOC"
#define SIM_LAYOUT_VERSION 7u
#define SIM_MAX_AGENTS 16
#define SIM_MAX_MEMS 17 /* buffer RAM + AMPL_DT_MAX_MEMS */
#define SIM_PAGE 4096u
#define SIM_MAX_MUS 4 /* NXP Messaging Units in one SoC */

/* One agent's IPI register state. TRIG has no state (it reads 0); OBS is derived from the destinations' ISRs. */
struct sim_agent {
	/* Line 1: what a sender writes (ISR) and the interrupt line it raises, so a trigger dirties one line. */
	_Alignas(64) _Atomic uint32_t isr;
	_Atomic uint32_t imr;
	struct ampl_doorbell irq; /* rung when ISR & ~IMR gains a bit */
	/* Line 2: rung when a request this agent sent is acknowledged (its OBS bit drops). */
	_Alignas(64) struct ampl_doorbell ack;
	/* Line 3: bookkeeping for tools, and hotplug. */
	_Alignas(64) _Atomic int32_t pid; /* process attached as this agent, 0 if none */
	_Atomic uint32_t offline;         /* 1 while the processor is offline (amplink agent offline) */
	_Atomic uint64_t owner;           /* crash detection: sim_owner_self() of the attached process, 0 if none */
	_Atomic uint32_t crashed;         /* SIM_CRASH_*: offline because its process died (attach revives it) */
	/* Line 4+: requests from each source bit that this agent discarded because it was offline. */
	_Alignas(64) _Atomic uint32_t discards[32];
};

/* Kept in an agent's ISR word (above every valid bit): the agent is offline. TRIG to it discards the request, its
 * own ISR writes are ignored (a powered-down core writes nothing), and reads never show the bit. */
#define SIM_ISR_OFFLINE 0x80000000u

/* sim_agent.crashed: 0; a watcher is taking the agent offline; it is offline because its process died. */
#define SIM_CRASH_NONE 0u
#define SIM_CRASH_MARKING 1u
#define SIM_CRASH_MARKED 2u

/* Crash detection period: each process with an attached agent checks the other agents' processes this often. */
#define SIM_WATCH_PERIOD_MS 10u

struct sim_mem {
	char name[64];
	uint64_t phys;
	uint64_t size;
	uint64_t off;    /* offset in the image, or in the backing file when backed */
	uint32_t backed; /* 1: the region lies in the backing file's window (off = phys - backing.phys) */
	uint32_t pad;
};

/* A file that backs a window of physical memory (an emulator's RAM): written once at creation. */
struct sim_backing {
	char path[256]; /* absolute; "" if the SoC has no backing */
	uint64_t phys;  /* physical address of the file's first byte, page-aligned */
	uint64_t size;  /* the file's size at creation, a multiple of SIM_PAGE */
};

/* One Messaging Unit: what the devicetree said, written once at creation (part of the validated header). */
struct sim_mu_cfg {
	char name[64];      /* node name, "ipm@40028000" */
	char alias[64];     /* "ipm0", or "" */
	char label[64];     /* node label, or "" */
	char path[256];     /* node path, "/ipm@40028000" */
	uint64_t addr, size;
	int32_t irq;
	uint32_t owner[2];  /* agent index on side A [0] and side B [1] */
};

/*
 * One Messaging Unit's register state, both sides (src/sim/mu_model.c). Every flag and enable of both sides is one
 * packed 64-bit atomic word, so every register side effect is a single compare-and-swap; the data words are
 * written before the CAS that raises their RF flag.
 */
struct sim_mu {
	_Alignas(64) _Atomic uint64_t state;
	_Atomic uint32_t data[2][4];   /* data[s][n]: TRn as side s wrote it = RRn of the other side */
	struct ampl_doorbell ev[2];    /* rung when side s's SR or CR changes (register waits) */
};

/* IPI message buffers: owner slot x target slot (AMPL_SOC_BUF_SLOTS each way). */
#define SIM_BUF_SLOTS 8u
#define SIM_BUF_CHAN_NAME 64u

/*
 * One request/response buffer pair's bookkeeping (src/sim/buffers.c). Written by any process, so every reader
 * bounds what it reads (the names are copied and terminated; a pid is only a hint, checked for liveness).
 */
struct sim_buf {
	_Atomic uint32_t reserved;              /* 1: no channel may be bound over it (ampl_soc_buf_reserve) */
	_Atomic int32_t pid[2];                 /* process whose channel uses it: [0] the owner's side, [1] the peer's */
	char chan[2][SIM_BUF_CHAN_NAME];        /* that channel's name, for tools */
};

/*
 * One agent's interrupt routing and retirement (src/sim/irq_route.c, src/sim/hotplug.c). Kept apart from struct
 * sim_agent's register words; each word has the writers its comment names, and every reader validates it.
 */
struct sim_agent_ctl {
	/* Written by the process attached as the agent: the routing it applies (what `amplink agent route` shows). */
	_Alignas(64) _Atomic uint32_t line_src[4]; /* sources on each interrupt line (XLNX_IPI_NUM_LINES) */
	_Atomic uint32_t masked;                   /* sources masked with ampl_agent_irq_mask() */
	_Atomic uint64_t done;                     /* last supervisor request applied: seq | (uint64_t)-result << 32 */
	/* Written by a supervisor (amplink agent route/mask/unmask) only: a request for the attached process. */
	_Alignas(64) _Atomic uint64_t req;         /* SIM_REQ_* fields; seq 0: none yet */
	/* Written by the process that retires the agent, and cleared by the next one to attach as it. */
	_Alignas(64) _Atomic uint32_t retired;     /* 1: offline because its process retired it (attach revives) */
};

/* sim_agent_ctl.req: sources (bits 0-31), line (32-35), op (36-39), seq (40-63; the done word's low 24 bits). */
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
	uint32_t num_mus;
	struct sim_mu_cfg mu_cfg[SIM_MAX_MUS];
	_Alignas(64) _Atomic uint32_t hotplug_gen; /* bumped after any agent's offline/online change */
	struct sim_agent agents[SIM_MAX_AGENTS];
	struct sim_mu mus[SIM_MAX_MUS];
	struct sim_buf bufs[SIM_BUF_SLOTS * SIM_BUF_SLOTS]; /* by owner slot * 8 + target slot */
	struct sim_agent_ctl ctl[SIM_MAX_AGENTS];
};

/* Per-process view of one agent's register block: the I/O region context. */
struct sim_port {
	struct ampl_soc *soc;
	unsigned idx;
	enum ampl_wait_mode mode;
};

/* Per-process view of one side of one Messaging Unit: the I/O region context. */
struct sim_mu_port {
	struct ampl_soc *soc;
	unsigned mu;
	unsigned side; /* 0 = A, 1 = B */
};

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
	/* Validated snapshot of the Messaging Units (never re-read from the shared header). */
	unsigned num_mus;
	struct sim_mu_cfg mu_cfg[SIM_MAX_MUS];
	struct sim_mu_port mu_ports[SIM_MAX_MUS][2];
	struct sim_watch *watch; /* crash-detection thread while an agent is attached (src/sim/crash_watch.c) */
};

extern const struct ampl_io_ops sim_ipi_ops;
extern const struct ampl_io_ops sim_mu_ops;

/**
 * sim_owner_self() - this process's identity as recorded in sim_agent.owner: pid in bits 0-31, a start token (the
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

/** sim_damaged() - true once @soc's image file was found shorter than its mapping (src/port/posix/shm.c). */
bool sim_damaged(const struct ampl_soc *soc);
/** sim_damaged_error() - set the last error for a damaged image; returns -EIO. */
int sim_damaged_error(const struct ampl_soc *soc);

/**
 * sim_buf_bind() - a channel named @chan of agent @local to @remote is being made over the profile's buffers: mark
 * the two buffers it uses (local->remote as owner, remote->local as peer) as used by this process. Return: 0;
 * -EACCES (one of them is reserved: the last error names it; nothing is marked). No-op (0) for a bufferless pair.
 */
int sim_buf_bind(struct ampl_soc *soc, const struct ampl_ipi_agent *local, const struct ampl_ipi_agent *remote,
		 const char *chan);
/** sim_buf_unbind() - undo sim_buf_bind() (marks of this process only). */
void sim_buf_unbind(struct ampl_soc *soc, const struct ampl_ipi_agent *local, const struct ampl_ipi_agent *remote);

/** Set this thread's last-error text (printf-style); returns @err. */
int sim_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* AMPL_SIM_IMAGE_H */
