/*
 * The benchmarks' boards: the default board, or the same with `inline-max` set on both multi-endpoint instances
 * (ampl_dt_set_u32()), as a user's devicetree would set it.
 */
#ifndef AMPLINK_BENCH_BOARD_VARIANT_H
#define AMPLINK_BENCH_BOARD_VARIANT_H

#include <stdlib.h>

#include <amplink/host/dt.h>
#include <amplink/host/soc.h>

/* Create SoC @name of the default board, its multi-endpoint instances with @inline_max (0: the board as it is). */
static inline int bench_board_create(const char *name, uint32_t inline_max)
{
	if (!inline_max)
		return ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0);
	void *b1 = NULL, *b2 = NULL;
	size_t n1, n2;
	int r = ampl_dt_set_u32(ampl_default_board_dtb, ampl_default_board_dtb_size, "/ipc-multi-apu", "inline-max",
				inline_max, &b1, &n1);
	if (!r)
		r = ampl_dt_set_u32(b1, n1, "/ipc-multi-rpu1", "inline-max", inline_max, &b2, &n2);
	if (!r)
		r = ampl_soc_create(name, &ampl_soc_zynqmp, b2, n2);
	free(b1);
	free(b2);
	return r;
}

#endif /* AMPLINK_BENCH_BOARD_VARIANT_H */
