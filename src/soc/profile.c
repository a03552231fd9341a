#include <amplink/bytes.h>
#include <amplink/soc_profile.h>

/* ZynqMP: TF-A zynqmp_ipi_table; buffer slots from PMU-FW pm_ipi_buffer.h (RPU0 0, RPU1 1, APU 2, PL0..3 3..6,
 * PMU 7; PMU1..3 share the PMU slot). */
const struct ampl_ipi_agent ampl_soc_zynqmp_agents[] = {
	{ "apu", "ch0", 0, 0, 2, 0, 0xFF300000u },
	{ "rpu0", "ch1", 1, 8, 0, 0, 0xFF310000u },
	{ "rpu1", "ch2", 2, 9, 1, 0, 0xFF320000u },
	{ "pmu0", "ch3", 3, 16, 7, AMPL_AGENT_FIRMWARE, 0xFF330000u },
	{ "pmu1", "ch4", 4, 17, 7, AMPL_AGENT_FIRMWARE, 0xFF331000u },
	{ "pmu2", "ch5", 5, 18, 7, AMPL_AGENT_FIRMWARE, 0xFF332000u },
	{ "pmu3", "ch6", 6, 19, 7, AMPL_AGENT_FIRMWARE, 0xFF333000u },
	{ "pl0", "ch7", 7, 24, 3, 0, 0xFF340000u },
	{ "pl1", "ch8", 8, 25, 4, 0, 0xFF350000u },
	{ "pl2", "ch9", 9, 26, 5, 0, 0xFF360000u },
	{ "pl3", "ch10", 10, 27, 6, 0, 0xFF370000u },
};

const struct ampl_soc_profile ampl_soc_zynqmp = {
	.name = "zynqmp",
	.ipi_compatible = "xlnx,zynqmp-ipi-mailbox",
	.dest_compatible = "xlnx,zynqmp-ipi-dest-mailbox",
	.valid_mask = 0x0F0F0301u,
	.imr_reset = 0x0F0F0301u,
	.buf_base = 0xFF990000u,
	.buf_size = 8u * AMPL_IPI_SLOT_STRIDE,
	.num_agents = (uint8_t)AMPL_ARRAY_SIZE(ampl_soc_zynqmp_agents),
	.agents = ampl_soc_zynqmp_agents,
	.dt_addresses_strict = true,
};

/* Versal: TF-A versal plat_ipi.h / embeddedsw platform_info_versal.h. id == bit for every agent; slot == bit for
 * the buffered ones (PSM 0, PMC 1, IPI0..IPI5 2..7); PMC_NOBUF (bit 8) and IPI6 (bit 9) have no buffers. */
const struct ampl_ipi_agent ampl_soc_versal_agents[] = {
	{ "psm", NULL, 0, 0, 0, AMPL_AGENT_FIRMWARE, 0xFF310000u },
	{ "pmc", NULL, 1, 1, 1, AMPL_AGENT_FIRMWARE, 0xFF320000u },
	{ "apu", "ipi0", 2, 2, 2, 0, 0xFF330000u },
	{ "rpu0", "ipi1", 3, 3, 3, 0, 0xFF340000u },
	{ "rpu1", "ipi2", 4, 4, 4, 0, 0xFF350000u },
	{ "ipi3", NULL, 5, 5, 5, 0, 0xFF360000u },
	{ "ipi4", NULL, 6, 6, 6, 0, 0xFF370000u },
	{ "ipi5", NULL, 7, 7, 7, 0, 0xFF380000u },
	{ "pmc-nobuf", NULL, 8, 8, AMPL_IPI_NO_BUFFER, AMPL_AGENT_FIRMWARE, 0xFF390000u },
	{ "ipi6", NULL, 9, 9, AMPL_IPI_NO_BUFFER, 0, 0xFF3A0000u },
};

const struct ampl_soc_profile ampl_soc_versal = {
	.name = "versal",
	.ipi_compatible = "xlnx,versal-ipi-mailbox",
	.dest_compatible = "xlnx,versal-ipi-dest-mailbox",
	.valid_mask = 0x3FFu,
	.imr_reset = 0x3FFu,
	.buf_base = 0xFF3F0000u,
	.buf_size = 8u * AMPL_IPI_SLOT_STRIDE,
	.num_agents = (uint8_t)AMPL_ARRAY_SIZE(ampl_soc_versal_agents),
	.agents = ampl_soc_versal_agents,
	.dt_addresses_strict = false,
};

/* i.MX: a Cortex-A and a Cortex-M4. No IPI block: they communicate through the Messaging Units of the board's
 * devicetree (side A: a, side B: m4). */
const struct ampl_ipi_agent ampl_soc_imx_agents[] = {
	{ "a", "cortex-a", 0, 0, AMPL_IPI_NO_BUFFER, 0, 0 },
	{ "m4", "cortex-m4", 1, 1, AMPL_IPI_NO_BUFFER, 0, 0 },
};

const struct ampl_soc_profile ampl_soc_imx = {
	.name = "imx",
	.ipi_compatible = "",
	.dest_compatible = "",
	.valid_mask = 0,
	.imr_reset = 0,
	.buf_base = 0,
	.buf_size = 0,
	.num_agents = (uint8_t)AMPL_ARRAY_SIZE(ampl_soc_imx_agents),
	.agents = ampl_soc_imx_agents,
	.dt_addresses_strict = false,
};

const struct ampl_soc_profile *ampl_soc_profile_find(const char *name)
{
	if (ampl_str_eq(name, ampl_soc_zynqmp.name))
		return &ampl_soc_zynqmp;
	if (ampl_str_eq(name, ampl_soc_versal.name))
		return &ampl_soc_versal;
	if (ampl_str_eq(name, ampl_soc_imx.name))
		return &ampl_soc_imx;
	return NULL;
}

const struct ampl_ipi_agent *ampl_soc_agent_by_name(const struct ampl_soc_profile *p, const char *name)
{
	for (unsigned i = 0; p && i < p->num_agents; i++)
		if (ampl_str_eq(p->agents[i].name, name) || ampl_str_eq(p->agents[i].alias, name))
			return &p->agents[i];
	return NULL;
}

const struct ampl_ipi_agent *ampl_soc_agent_by_id(const struct ampl_soc_profile *p, uint32_t ipi_id)
{
	for (unsigned i = 0; p && i < p->num_agents; i++)
		if (p->agents[i].ipi_id == ipi_id)
			return &p->agents[i];
	return NULL;
}

const struct ampl_ipi_agent *ampl_soc_agent_by_bit(const struct ampl_soc_profile *p, uint32_t bit)
{
	for (unsigned i = 0; p && i < p->num_agents; i++)
		if (p->agents[i].bit == bit)
			return &p->agents[i];
	return NULL;
}

uint64_t ampl_ipi_request_addr(const struct ampl_soc_profile *p, const struct ampl_ipi_agent *src,
			       const struct ampl_ipi_agent *dst)
{
	if (!p || !src || !dst || src->buf_slot < 0 || dst->buf_slot < 0)
		return 0;
	return p->buf_base + (uint64_t)src->buf_slot * AMPL_IPI_SLOT_STRIDE +
	       (uint64_t)dst->buf_slot * AMPL_IPI_TARGET_STRIDE;
}
