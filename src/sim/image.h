/*
 * The virtual SoC image: the layout of the shared-memory file every agent maps. Private to the simulation.
 *
 *   +---------------------------+ 0
 *   | struct sim_image (header, |   magic, layout version, profile, memory map, agent register state
 *   |  agents' register words)  |
 *   +---------------------------+ mems[i].off (4 KiB aligned)
 *   | IPI message-buffer RAM    |   at the profile's buffer base (mems[0])
 *   | reserved-memory regions   |   at their devicetree addresses (mems[1..])
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
#define SIM_LAYOUT_VERSION 2u
#define SIM_MAX_AGENTS 16
#define SIM_MAX_MEMS 17 /* buffer RAM + AMPL_DT_MAX_MEMS */
#define SIM_PAGE 4096u

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
	_Atomic uint32_t epoch;           /* bumped at every offline and online transition */
};

struct sim_mem {
	char name[64];
	uint64_t phys;
	uint64_t size;
	uint64_t off; /* offset in the image */
};

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
	_Alignas(64) _Atomic uint32_t hotplug_gen; /* bumped after any agent's offline/online change */
	struct sim_agent agents[SIM_MAX_AGENTS];
};

/* Per-process view of one agent's register block: the I/O region context. */
struct sim_port {
	struct ampl_soc *soc;
	unsigned idx;
	enum ampl_wait_mode mode;
};

struct ampl_soc {
	struct sim_image *img;
	size_t size;
	/* Validated snapshot of the header's memory map: never re-read from the shared header after open. */
	unsigned num_mems;
	struct sim_mem mems[SIM_MAX_MEMS];
	uint64_t dtb_off, dtb_size;
	const struct ampl_soc_profile *profile;
	char name[AMPL_SHM_NAME_MAX + 1];
	int8_t idx_by_bit[32]; /* agent index for each IPI bit, -1 if none */
	struct sim_port ports[SIM_MAX_AGENTS];
	struct ampl_agent *attached[SIM_MAX_AGENTS];
};

extern const struct ampl_io_ops sim_ipi_ops;

/** Set this thread's last-error text (printf-style); returns @err. */
int sim_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* AMPL_SIM_IMAGE_H */
