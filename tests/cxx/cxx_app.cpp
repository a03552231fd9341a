/*
 * A C++ program that uses amplink: every public header together in one C++ translation unit (the ports for
 * firmware CPUs aside), the structs laid out as the C library lays them out, and an IPM exchange on a virtual ZynqMP
 * (the README's app.c, in C++): the APU sends numbers to RPU0, which answers each with the number plus one from its
 * interrupt context.
 */
#include <amplink/board.h>
#include <amplink/bytes.h>
#include <amplink/cache.h>
#include <amplink/cdefs.h>
#include <amplink/device.h>
#include <amplink/drivers/nxp_mu.h>
#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/host/dt.h>
#include <amplink/dt_nodes.h>
#include <amplink/emu.h>
#include <amplink/errno.h>
#include <amplink/io.h>
#include <amplink/ipc/icmsg.h>
#include <amplink/ipc/ipc_icmsg.h>
#include <amplink/ipc/ipc_multi.h>
#include <amplink/ipc/ipc_rpmsg.h>
#include <amplink/ipc/link.h>
#include <amplink/ipc/pbuf.h>
#include <amplink/ipc/rpmsg.h>
#include <amplink/ipc/virtio.h>
#include <amplink/ipc/virtqueue.h>
#include <amplink/ipc_service.h>
#include <amplink/ipc_service_backend.h>
#include <amplink/ipm.h>
#include <amplink/ipm_console.h>
#include <amplink/mailbox_client.h>
#include <amplink/mailbox_controller.h>
#include <amplink/port.h>
#include <amplink/shm_spinlock.h>
#include <amplink/host/soc.h>
#include <amplink/soc_profile.h>
#include <amplink/host/uchan.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>

#include "layout.h"

namespace {

int failures;

void check(bool ok, const std::string &what)
{
	if (!ok) {
		std::fprintf(stderr, "FAIL: %s\n", what.c_str());
		failures++;
	}
}

void on_request(const struct ampl_device *dev, void *user_data, uint32_t id, volatile void *data)
{
	uint32_t answer = static_cast<volatile uint32_t *>(data)[0] + 1;

	(void)id;
	static_cast<unsigned *>(user_data)[0]++;
	xlnx_ipi_response_write(dev, &answer, sizeof(answer));
}

#define AMPL_TEST_ROW(s) { #s, sizeof(struct s), alignof(struct s) },
const struct ampl_test_layout layout_cxx[] = { AMPL_TEST_LAYOUT_STRUCTS(AMPL_TEST_ROW) };

void check_layout()
{
	const size_t n = sizeof(layout_cxx) / sizeof(layout_cxx[0]);
	const int before = failures;
	check(n == ampl_test_layout_c_count, "the C and C++ tables list the same structs");
	for (size_t i = 0; i < n && i < ampl_test_layout_c_count; i++) {
		const ampl_test_layout &c = ampl_test_layout_c[i], &x = layout_cxx[i];
		check(std::strcmp(c.name, x.name) == 0 && c.size == x.size && c.align == x.align,
		      std::string("struct ") + x.name + ": C " + std::to_string(c.size) + " bytes, align " +
			      std::to_string(c.align) + "; C++ " + std::to_string(x.size) + " bytes, align " +
			      std::to_string(x.align));
	}
	if (failures == before)
		std::printf("%zu structs laid out alike in C and C++\n", n);
}

} // namespace

int main()
{
	check_layout();

	ampl_agent_opts opts{};
	opts.mode = AMPL_WAIT_BLOCK;
	ampl_soc *soc = nullptr;
	ampl_agent *apu = nullptr, *rpu0 = nullptr;
	const ampl_device *to_rpu0 = nullptr, *to_apu = nullptr;
	unsigned served = 0;
	const std::string name = "cxx-app-" + std::to_string(getpid());

	int rc = ampl_soc_create(name.c_str(), &ampl_soc_zynqmp, nullptr, 0);
	if (rc) {
		std::fprintf(stderr, "ampl_soc_create: %s: %s\n", ampl_errname(rc), ampl_soc_last_error());
		return 1;
	}
	rc = ampl_soc_open(name.c_str(), &soc);
	if (!rc)
		rc = ampl_agent_attach(soc, "apu", &opts, &apu);
	if (!rc)
		rc = ampl_agent_attach(soc, "rpu0", &opts, &rpu0);
	if (!rc)
		rc = ampl_agent_channel(apu, "rpu0", &to_rpu0);
	if (!rc)
		rc = ampl_agent_channel(rpu0, "apu", &to_apu);
	if (!rc) {
		ipm_register_callback(to_apu, on_request, &served);
		rc = ipm_set_enabled(to_apu, 1);
	}
	check(rc == 0, std::string("open the SoC, attach apu and rpu0, enable rpu0's channel: ") + ampl_errname(rc));

	for (uint32_t request = 41; !rc && request < 51; request++) {
		uint32_t answer = 0;
		rc = ipm_send(to_rpu0, 1, 0, &request, sizeof(request));
		if (!rc)
			rc = xlnx_ipi_response_read(to_rpu0, &answer, sizeof(answer));
		check(rc == 0 && answer == request + 1, "apu -> rpu0: " + std::to_string(request) + ", answer " +
								 std::to_string(answer) + " (" + ampl_errname(rc) + ")");
	}
	check(served == 10, "rpu0 served " + std::to_string(served) + " requests, not 10");
	check(std::string(ampl_errname(-EBUSY)) == "EBUSY", "ampl_errname(-EBUSY)");
	std::printf("apu -> rpu0: 10 requests, %u answered (%s)\n", served, ampl_errname(rc));

	if (rpu0)
		ampl_agent_detach(rpu0);
	if (apu)
		ampl_agent_detach(apu);
	if (soc)
		ampl_soc_close(soc);
	ampl_soc_destroy(name.c_str());
	return failures ? 1 : 0;
}
