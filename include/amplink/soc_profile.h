/*
 * SoC profiles: facts of the silicon (ZynqMP, Versal, i.MX).
 *
 * Which agents (processors) exist: their name, an alias, their devicetree id and flags, which every mailbox
 * controller uses to name its sides (struct ampl_soc_agent). On a SoC with the Xilinx IPI block each agent also has
 * its IPI facts (struct ampl_ipi_block): its bit in TRIG/OBS/ISR/IMR, the base of its register block and where its
 * 32-byte request/response buffers live; the profile holds the block's own (compatibles, valid bits, buffer RAM).
 * Devicetree says which of these a piece of software uses; the profile says what the chip has. Sources: TF-A
 * zynqmp_ipi_table / Versal plat_ipi.h, xipipsu_hw.h.
 */
#ifndef AMPLINK_SOC_PROFILE_H
#define AMPLINK_SOC_PROFILE_H

#include <amplink/port.h>

#ifdef __cplusplus
extern "C" {
#endif

/* IPI register offsets inside one agent's block (32-bit, 4-byte access only). */
#define AMPL_IPI_TRIG 0x00u /* W: 1 to a destination's bit triggers it; reads 0 */
#define AMPL_IPI_OBS 0x04u  /* R: my trigger to that destination is still pending */
#define AMPL_IPI_ISR 0x10u  /* R/W1C: request pending from that source; clearing acknowledges */
#define AMPL_IPI_IMR 0x14u  /* R: 1 = masked */
#define AMPL_IPI_IER 0x18u  /* W1: unmask (clears IMR bits) */
#define AMPL_IPI_IDR 0x1Cu  /* W1: mask (sets IMR bits) */
#define AMPL_IPI_REG_SPAN 0x20u

#define AMPL_IPI_BUF_SIZE 32u         /* bytes in one request or one response buffer */
#define AMPL_IPI_RESP_OFFSET 0x20u    /* response buffer = request buffer + 0x20 */
#define AMPL_IPI_TARGET_STRIDE 0x40u  /* request+response pair per target inside an owner slot */
#define AMPL_IPI_SLOT_STRIDE 0x200u   /* one owner slot: 8 targets */
#define AMPL_IPI_NO_BUFFER (-1)

/** Agent flags. */
#define AMPL_AGENT_FIRMWARE 0x1u /* platform-management firmware (PMU/PMC/PSM): never a user-space target */

/** One agent's IPI facts. */
struct ampl_ipi_block {
	uint8_t bit;        /* bit index in TRIG/OBS/ISR/IMR */
	int8_t buf_slot;    /* owner/target slot in the buffer RAM, or AMPL_IPI_NO_BUFFER */
	uint32_t reg_base;  /* physical base of the register block */
};

/** One agent (processor) of a SoC, as every controller names it. */
struct ampl_soc_agent {
	const char *name;   /* amplink's name: "apu", "rpu0", "pmu1", "m4", ... */
	const char *alias;  /* another accepted name ("ipi0") or NULL */
	uint8_t id;         /* its devicetree id (xlnx,ipi-id on an IPI SoC) */
	uint8_t flags;      /* AMPL_AGENT_* */
	const struct ampl_ipi_block *ipi; /* its IPI facts; NULL on a SoC without the IPI block */
};

/** One SoC's facts: its agents, and its IPI block's (none: valid_mask 0, no buffer RAM, no compatibles). */
struct ampl_soc_profile {
	const char *name;              /* "zynqmp", "versal", "imx" */
	const char *ipi_compatible;    /* IPI parent node compatible ("" without IPI) */
	const char *dest_compatible;   /* IPI child node compatible ("" without IPI) */
	uint32_t valid_mask;           /* bits that exist; writes to other bits are ignored */
	uint32_t imr_reset;            /* IMR after reset (all valid bits masked) */
	uint64_t buf_base;             /* physical base of the message-buffer RAM */
	uint32_t buf_size;             /* bytes of buffer RAM */
	uint8_t num_agents;
	const struct ampl_soc_agent *agents; /* every one has its ipi facts on a SoC with the IPI block */
	/*
	 * true: devicetree regions must equal the silicon's addresses (ZynqMP: the binding example uses the real
	 * ones). false: the binding's example addresses are illustrative (Versal), so a mismatch is a warning and
	 * buffers follow xlnx,ipi-id.
	 */
	bool dt_addresses_strict;
};

extern const struct ampl_soc_profile ampl_soc_zynqmp;
extern const struct ampl_soc_profile ampl_soc_versal;
/* i.MX with a Cortex-A ("a") and a Cortex-M4 ("m4") that talk through NXP Messaging Units: no IPI block (valid_mask
 * 0, no buffer RAM, agents without IPI facts); the agents name the processors on the MU sides
 * (include/amplink/drivers/nxp_mu.h). */
extern const struct ampl_soc_profile ampl_soc_imx;
/* The profiles' agent tables (p->agents), by name, for constant node descriptions (`amplink dt gen`). */
extern const struct ampl_soc_agent ampl_soc_zynqmp_agents[];
extern const struct ampl_soc_agent ampl_soc_versal_agents[];
extern const struct ampl_soc_agent ampl_soc_imx_agents[];

/** ampl_soc_profile_find() - a profile by name ("zynqmp", "versal", "imx"), or NULL. Context: any. */
const struct ampl_soc_profile *ampl_soc_profile_find(const char *name);

/** Agent lookups; each returns NULL when there is no such agent. Context: any. */
const struct ampl_soc_agent *ampl_soc_agent_by_name(const struct ampl_soc_profile *p, const char *name);
const struct ampl_soc_agent *ampl_soc_agent_by_id(const struct ampl_soc_profile *p, uint32_t id);
/* By IPI bit: NULL on a SoC without the IPI block. */
const struct ampl_soc_agent *ampl_soc_agent_by_bit(const struct ampl_soc_profile *p, uint32_t bit);

/**
 * ampl_soc_agent_names() - @p's agent names, ", "-separated, into @buf of @cap bytes (cut short if it is too small;
 * always terminated when @cap > 0): the list an error message about an unknown agent gives. Returns @buf.
 * Context: any.
 */
char *ampl_soc_agent_names(const struct ampl_soc_profile *p, char *buf, size_t cap);

/** Index of @a in p->agents. */
static inline unsigned ampl_soc_agent_index(const struct ampl_soc_profile *p, const struct ampl_soc_agent *a)
{
	return (unsigned)(a - p->agents);
}

/** ampl_ipi_mask() - @a's bit in the IPI registers as a mask; 0 for an agent without IPI facts. */
static inline uint32_t ampl_ipi_mask(const struct ampl_soc_agent *a)
{
	return a->ipi ? 1u << a->ipi->bit : 0u;
}

/**
 * ampl_ipi_request_addr() - physical address of the request buffer that @src writes for @dst.
 * The response to it is at the returned address + AMPL_IPI_RESP_OFFSET (written by @dst, read by @src).
 * Return: the address, or 0 if either agent has no buffers.
 */
uint64_t ampl_ipi_request_addr(const struct ampl_soc_profile *p, const struct ampl_soc_agent *src,
			       const struct ampl_soc_agent *dst);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_SOC_PROFILE_H */
