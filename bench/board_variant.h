/*
 * The default board, or the same with `inline-max` set on its multi-endpoint instances (ampl_dt_set_u32()), as a
 * user's devicetree would set it: the boards of the benchmarks, and of the tests that run the inline path
 * (test_ipc_multi, test_conformance_multi_inline).
 */
#ifndef AMPLINK_BENCH_BOARD_VARIANT_H
#define AMPLINK_BENCH_BOARD_VARIANT_H

#include <stdlib.h>

#include <amplink/host/dt.h>
#include <amplink/host/soc.h>

/*
 * Create SoC @name of the default board, its APU multi-endpoint instance with `inline-max` @apu and RPU1's with
 * @rpu1 (both 0: the board as it is). Return: as ampl_soc_create() (its last error says why), or
 * ampl_dt_set_u32()'s code.
 */
static inline int board_create_multi_inline(const char *name, uint32_t apu, uint32_t rpu1)
{
	if (!apu && !rpu1)
		return ampl_soc_create(name, &ampl_soc_zynqmp, NULL, 0);
	void *b1 = NULL, *b2 = NULL;
	size_t n1, n2;
	int r = ampl_dt_set_u32(ampl_default_board_dtb, ampl_default_board_dtb_size, "/ipc-multi-apu", "inline-max",
				apu, &b1, &n1);
	if (!r)
		r = ampl_dt_set_u32(b1, n1, "/ipc-multi-rpu1", "inline-max", rpu1, &b2, &n2);
	if (!r)
		r = ampl_soc_create(name, &ampl_soc_zynqmp, b2, n2);
	free(b1);
	free(b2);
	return r;
}

#endif /* AMPLINK_BENCH_BOARD_VARIANT_H */
