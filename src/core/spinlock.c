/*
 * The framework's spinlock (<amplink/port.h>) out of line in firmware builds: one copy in the image instead of one
 * outlined in every file that takes it. The hosted build keeps it inline and compiles nothing here.
 */
#include <amplink/port.h>

#if AMPL_FIRMWARE_BUILD
unsigned ampl_spin_lock(atomic_flag *l)
{
	return ampl_spin_lock_inline(l);
}

void ampl_spin_unlock(atomic_flag *l, unsigned key)
{
	ampl_spin_unlock_inline(l, key);
}
#endif
