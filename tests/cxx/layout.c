/* The C side of the layout comparison (layout.h): compiled as C11, like the library. */
#include "layout.h"

#include <amplink/drivers/nxp_mu.h>
#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/emu.h>
#include <amplink/ipc/icmsg.h>
#include <amplink/ipc/ipc_icmsg.h>
#include <amplink/ipc/ipc_multi.h>
#include <amplink/ipc/ipc_rpmsg.h>
#include <amplink/ipc/link.h>
#include <amplink/ipc/rpmsg.h>
#include <amplink/mailbox_controller.h>
#include <amplink/shm_spinlock.h>

#define AMPL_TEST_ROW(s) { #s, sizeof(struct s), _Alignof(struct s) },
const struct ampl_test_layout ampl_test_layout_c[] = { AMPL_TEST_LAYOUT_STRUCTS(AMPL_TEST_ROW) };
const size_t ampl_test_layout_c_count = sizeof(ampl_test_layout_c) / sizeof(ampl_test_layout_c[0]);
