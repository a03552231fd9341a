/*
 * The public structs whose atomics C++ sees as opaque storage (amplink/cdefs.h), and those holding them: layout.c
 * records each one's size and alignment as the C compiler (and so the library) lays it out, and cxx_app.cpp
 * compares what the C++ compiler makes of the same headers.
 */
#ifndef AMPL_TEST_CXX_LAYOUT_H
#define AMPL_TEST_CXX_LAYOUT_H

#include <stddef.h>

#define AMPL_TEST_LAYOUT_STRUCTS(X)                                                                               \
	X(mbox_chan) X(ampl_shm_spinlock) X(ampl_ipc_link) X(nxp_mu) X(ipm_mbox_data) X(xlnx_ipi_host)             \
	X(xlnx_ipi_mbox) X(xlnx_ipi_ipm_data) X(ampl_emu_boot) X(ampl_emu_slot) X(icmsg) X(ipc_icmsg_data)          \
	X(ipc_multi_ept) X(ipc_multi_data) X(ipc_rpmsg_ept) X(ipc_rpmsg_data) X(rpmsg_virtio_stats) X(rpmsg_device)

struct ampl_test_layout {
	const char *name;
	size_t size;
	size_t align;
};

#ifdef __cplusplus
extern "C" {
#endif
extern const struct ampl_test_layout ampl_test_layout_c[];
extern const size_t ampl_test_layout_c_count;
#ifdef __cplusplus
}
#endif

#endif
