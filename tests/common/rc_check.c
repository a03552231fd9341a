/* The return-code check of the table-driven tests (rc_check.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <amplink/errno.h>

#include "rc_check.h"

void check_rc(const char *id, const char *what, int got, int want)
{
	if (got != want)
		fail_msg("[%s] %s: returned %d (%s), expected %d (%s)", id, what, got, ampl_errname(got), want,
			 ampl_errname(want));
}
