/*
 * amplink data-cache maintenance hooks for memory shared with another core.
 *
 * Terminology
 *   clean       write the dirty lines that cover [addr, addr + len) back to memory, so that another core (or a
 *               device) reading memory sees this core's stores. The lines stay valid. Some vendors call it flush.
 *   invalidate  discard the lines that cover [addr, addr + len), so that this core's next loads fetch memory and
 *               see the other core's stores. Dirty data in those lines is lost: invalidate only memory this core
 *               does not write, or that lives on cache lines of its own (the reason shared layouts are aligned
 *               to the cache line, see the pbuf dcache alignment).
 *
 * On coherent systems (the Linux host, Cortex-M4 and most RV32 microcontrollers, which have no data cache) both
 * hooks are no-ops, which is the default here. A port for a core with a data cache over shared memory (Cortex-M7,
 * Cortex-R5, Cortex-A with non-cacheable aliases missing) defines them in its AMPL_PORT_HEADER (see port.h), for
 * example as SCB_CleanDCache_by_Addr() / SCB_InvalidateDCache_by_Addr(), or Zephyr's sys_cache_data_flush_range()
 * / sys_cache_data_invd_range(). Requirements on a port's hooks:
 *   - they round the range out to whole cache lines themselves (callers pass exact byte ranges);
 *   - they complete before returning (a DSB at the end on ARM), so that a later load or store is ordered after
 *     the maintenance;
 *   - they may be called from interrupt context and never block;
 *   - len may be any value from 1 up; addr has no alignment guarantee beyond the caller's data.
 *
 * The hooks are macros so that a translation unit may redirect them (tests count the calls): define them before
 * including any amplink header.
 */
#ifndef AMPLINK_CACHE_H
#define AMPLINK_CACHE_H

#include <amplink/port.h> /* includes AMPL_PORT_HEADER first, where a port defines the hooks */

#ifdef __cplusplus
extern "C" {
#endif

#ifndef ampl_cache_clean
/** ampl_cache_clean() - write back the data-cache lines of [addr, addr + len). Default: no-op (coherent). */
#define ampl_cache_clean(addr, len) ((void)(addr), (void)(len))
#endif

#ifndef ampl_cache_invalidate
/** ampl_cache_invalidate() - discard the data-cache lines of [addr, addr + len). Default: no-op (coherent). */
#define ampl_cache_invalidate(addr, len) ((void)(addr), (void)(len))
#endif

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_CACHE_H */
