/*
 * SoC profiles: facts of the silicon for the Xilinx IPI block (ZynqMP, Versal).
 *
 * Which agents exist, their devicetree id (`xlnx,ipi-id`), their bit in TRIG/OBS/ISR/IMR, the base of their register
 * block, and where their 32-byte request/response buffers live. Devicetree says which of these a piece of software
 * uses; the profile says what the chip has. Sources: TF-A zynqmp_ipi_table / Versal plat_ipi.h, xipipsu_hw.h.
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

/** One IPI agent. */
struct ampl_ipi_agent {
	const char *name;   /* amplink's name: "apu", "rpu0", "pmu1", ... */
	const char *alias;  /* another accepted name ("ipi0") or NULL */
	uint8_t ipi_id;     /* devicetree xlnx,ipi-id */
	uint8_t bit;        /* bit index in TRIG/OBS/ISR/IMR */
	int8_t buf_slot;    /* owner/target slot in the buffer RAM, or AMPL_IPI_NO_BUFFER */
	uint8_t flags;
	uint32_t reg_base;  /* physical base of the register block */
};

/** One SoC's IPI facts. */
struct ampl_soc_profile {
	const char *name;              /* "zynqmp", "versal" */
	const char *ipi_compatible;    /* parent node compatible */
	const char *dest_compatible;   /* child node compatible */
	uint32_t valid_mask;           /* bits that exist; writes to other bits are ignored */
	uint32_t imr_reset;            /* IMR after reset (all valid bits masked) */
	uint64_t buf_base;             /* physical base of the message-buffer RAM */
	uint32_t buf_size;             /* bytes of buffer RAM */
	uint8_t num_agents;
	const struct ampl_ipi_agent *agents;
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
 * 0, no buffer RAM); the agents only name the processors on the MU sides (include/amplink/drivers/nxp_mu.h). */
extern const struct ampl_soc_profile ampl_soc_imx;
/* The profiles' agent tables (p->agents), by name, for constant node descriptions (`amplink dt gen`). */
extern const struct ampl_ipi_agent ampl_soc_zynqmp_agents[];
extern const struct ampl_ipi_agent ampl_soc_versal_agents[];
extern const struct ampl_ipi_agent ampl_soc_imx_agents[];

/** ampl_soc_profile_find() - a profile by name ("zynqmp", "versal", "imx"), or NULL. Context: any. */
const struct ampl_soc_profile *ampl_soc_profile_find(const char *name);

/** Agent lookups; each returns NULL when there is no such agent. Context: any. */
const struct ampl_ipi_agent *ampl_soc_agent_by_name(const struct ampl_soc_profile *p, const char *name);
const struct ampl_ipi_agent *ampl_soc_agent_by_id(const struct ampl_soc_profile *p, uint32_t ipi_id);
const struct ampl_ipi_agent *ampl_soc_agent_by_bit(const struct ampl_soc_profile *p, uint32_t bit);

/** Index of @a in p->agents. */
static inline unsigned ampl_soc_agent_index(const struct ampl_soc_profile *p, const struct ampl_ipi_agent *a)
{
	return (unsigned)(a - p->agents);
}

static inline uint32_t ampl_ipi_mask(const struct ampl_ipi_agent *a)
{
	return 1u << a->bit;
}

/**
 * ampl_ipi_request_addr() - physical address of the request buffer that @src writes for @dst.
 * The response to it is at the returned address + AMPL_IPI_RESP_OFFSET (written by @dst, read by @src).
 * Return: the address, or 0 if either agent has no buffers.
 */
uint64_t ampl_ipi_request_addr(const struct ampl_soc_profile *p, const struct ampl_ipi_agent *src,
			       const struct ampl_ipi_agent *dst);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_SOC_PROFILE_H */
