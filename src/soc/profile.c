#include <amplink/bytes.h>
#include <amplink/soc_profile.h>

/* ZynqMP: TF-A zynqmp_ipi_table; buffer slots from PMU-FW pm_ipi_buffer.h (RPU0 0, RPU1 1, APU 2, PL0..3 3..6,
 * PMU 7; PMU1..3 share the PMU slot). */
static const struct ampl_ipi_block zynqmp_ipi[] = { /* bit, buffer slot, register base */
	{ 0, 2, 0xFF300000u },
	{ 8, 0, 0xFF310000u },
	{ 9, 1, 0xFF320000u },
	{ 16, 7, 0xFF330000u },
	{ 17, 7, 0xFF331000u },
	{ 18, 7, 0xFF332000u },
	{ 19, 7, 0xFF333000u },
	{ 24, 3, 0xFF340000u },
	{ 25, 4, 0xFF350000u },
	{ 26, 5, 0xFF360000u },
	{ 27, 6, 0xFF370000u },
};

const struct ampl_soc_agent ampl_soc_zynqmp_agents[] = {
	{ "apu", "ch0", 0, 0, &zynqmp_ipi[0] },
	{ "rpu0", "ch1", 1, 0, &zynqmp_ipi[1] },
	{ "rpu1", "ch2", 2, 0, &zynqmp_ipi[2] },
	{ "pmu0", "ch3", 3, AMPL_AGENT_FIRMWARE, &zynqmp_ipi[3] },
	{ "pmu1", "ch4", 4, AMPL_AGENT_FIRMWARE, &zynqmp_ipi[4] },
	{ "pmu2", "ch5", 5, AMPL_AGENT_FIRMWARE, &zynqmp_ipi[5] },
	{ "pmu3", "ch6", 6, AMPL_AGENT_FIRMWARE, &zynqmp_ipi[6] },
	{ "pl0", "ch7", 7, 0, &zynqmp_ipi[7] },
	{ "pl1", "ch8", 8, 0, &zynqmp_ipi[8] },
	{ "pl2", "ch9", 9, 0, &zynqmp_ipi[9] },
	{ "pl3", "ch10", 10, 0, &zynqmp_ipi[10] },
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
static const struct ampl_ipi_block versal_ipi[] = { /* bit, buffer slot, register base */
	{ 0, 0, 0xFF310000u },
	{ 1, 1, 0xFF320000u },
	{ 2, 2, 0xFF330000u },
	{ 3, 3, 0xFF340000u },
	{ 4, 4, 0xFF350000u },
	{ 5, 5, 0xFF360000u },
	{ 6, 6, 0xFF370000u },
	{ 7, 7, 0xFF380000u },
	{ 8, AMPL_IPI_NO_BUFFER, 0xFF390000u },
	{ 9, AMPL_IPI_NO_BUFFER, 0xFF3A0000u },
};

const struct ampl_soc_agent ampl_soc_versal_agents[] = {
	{ "psm", NULL, 0, AMPL_AGENT_FIRMWARE, &versal_ipi[0] },
	{ "pmc", NULL, 1, AMPL_AGENT_FIRMWARE, &versal_ipi[1] },
	{ "apu", "ipi0", 2, 0, &versal_ipi[2] },
	{ "rpu0", "ipi1", 3, 0, &versal_ipi[3] },
	{ "rpu1", "ipi2", 4, 0, &versal_ipi[4] },
	{ "ipi3", NULL, 5, 0, &versal_ipi[5] },
	{ "ipi4", NULL, 6, 0, &versal_ipi[6] },
	{ "ipi5", NULL, 7, 0, &versal_ipi[7] },
	{ "pmc-nobuf", NULL, 8, AMPL_AGENT_FIRMWARE, &versal_ipi[8] },
	{ "ipi6", NULL, 9, 0, &versal_ipi[9] },
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
const struct ampl_soc_agent ampl_soc_imx_agents[] = {
	{ "a", "cortex-a", 0, 0, NULL },
	{ "m4", "cortex-m4", 1, 0, NULL },
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

const struct ampl_soc_agent *ampl_soc_agent_by_name(const struct ampl_soc_profile *p, const char *name)
{
	for (unsigned i = 0; p && i < p->num_agents; i++)
		if (ampl_str_eq(p->agents[i].name, name) || ampl_str_eq(p->agents[i].alias, name))
			return &p->agents[i];
	return NULL;
}

/* Append @s to the @n bytes of @buf, as far as @cap leaves room for the terminator; returns the new length. */
static size_t append(char *buf, size_t n, size_t cap, const char *s)
{
	while (*s && n + 1 < cap)
		buf[n++] = *s++;
	return n;
}

char *ampl_soc_agent_names(const struct ampl_soc_profile *p, char *buf, size_t cap)
{
	size_t n = 0;
	if (!cap)
		return buf;
	for (unsigned i = 0; p && i < p->num_agents; i++) {
		if (i)
			n = append(buf, n, cap, ", ");
		n = append(buf, n, cap, p->agents[i].name);
	}
	buf[n] = 0;
	return buf;
}

const struct ampl_soc_agent *ampl_soc_agent_by_id(const struct ampl_soc_profile *p, uint32_t id)
{
	for (unsigned i = 0; p && i < p->num_agents; i++)
		if (p->agents[i].id == id)
			return &p->agents[i];
	return NULL;
}

const struct ampl_soc_agent *ampl_soc_agent_by_bit(const struct ampl_soc_profile *p, uint32_t bit)
{
	for (unsigned i = 0; p && i < p->num_agents; i++)
		if (p->agents[i].ipi && p->agents[i].ipi->bit == bit)
			return &p->agents[i];
	return NULL;
}

uint64_t ampl_ipi_request_addr(const struct ampl_soc_profile *p, const struct ampl_soc_agent *src,
			       const struct ampl_soc_agent *dst)
{
	if (!p || !src || !dst || !src->ipi || !dst->ipi || src->ipi->buf_slot < 0 || dst->ipi->buf_slot < 0)
		return 0;
	return p->buf_base + (uint64_t)src->ipi->buf_slot * AMPL_IPI_SLOT_STRIDE +
	       (uint64_t)dst->ipi->buf_slot * AMPL_IPI_TARGET_STRIDE;
}
