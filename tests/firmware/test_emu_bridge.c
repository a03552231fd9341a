/*
 * The firmware bridge without an emulator: the window is a file this test maps, the emulator's serial socket one
 * end of a socket pair, and this test plays the firmware (it moves a doorbell channel's to_host.seq and writes a
 * ring byte, as firmware/boards/mps2-an386/emu_mbox.c does). The remote agent (apu) is attached but does not take
 * its doorbells for a while (no interrupt thread: it polls only at the end), as a loaded host process does not: the firmware keeps ringing. Every ring must be
 * relayed without a protocol error; a doorbell still pending at the IPI covers the rings after it (one queued
 * behind it is enough), and once the remote takes it, it sees at least one more.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <amplink/host/soc.h>

#include "sim/emu_bridge.h"

#define RINGS 200

#define CHECK(c)                                                                                                   \
	do {                                                                                                       \
		if (!(c)) {                                                                                        \
			printf("FAIL line %d: %s\n", __LINE__, #c);                                                \
			return 1;                                                                                  \
		}                                                                                                  \
	} while (0)

static atomic_int remote_doorbells;

static void on_remote_rx(struct mbox_client *cl, void *mssg)
{
	(void)cl;
	(void)mssg;
	atomic_fetch_add(&remote_doorbells, 1);
}

/* Waits up to 5 s for *v to reach n. */
static int wait_for(atomic_uint *v, unsigned n)
{
	for (int i = 0; i < 5000 && atomic_load(v) < n; i++)
		usleep(1000);
	return atomic_load(v) >= n ? 0 : -ETIMEDOUT;
}

int main(void)
{
	char soc[64], shm[64];
	setvbuf(stdout, NULL, _IONBF, 0);
	snprintf(soc, sizeof(soc), "test-emu-bridge-%d", (int)getpid());
	snprintf(shm, sizeof(shm), "/dev/shm/ampl-test-emu-bridge-%d", (int)getpid());

	int fd = open(shm, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, AMPL_EMU_WINDOW_SIZE) == 0);
	void *window = mmap(NULL, AMPL_EMU_WINDOW_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(window != MAP_FAILED);
	close(fd);

	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	static struct ampl_emu_qemu q;
	q.window = window;
	q.window_size = AMPL_EMU_WINDOW_SIZE;
	q.boot = window;
	q.sock = sv[0];
	q.pid = getpid();
	q.doorbell = AMPL_EMU_DOORBELL_IRQ;
	snprintf(q.shm_path, sizeof(q.shm_path), "%s", shm);

	struct ampl_soc_create_opts o = { .backing_path = shm, .backing_base = AMPL_EMU_DEFAULT_BOARD_BASE };
	int r = ampl_soc_create_opts(soc, &ampl_soc_zynqmp, NULL, 0, &o);
	if (r)
		printf("soc create: %s\n", ampl_soc_last_error());
	CHECK(r == 0);
	struct ampl_emu_bridge_config cfg = {
		.soc = soc, .agent = "rpu0", .remotes = { "apu" }, .modes = { AMPL_EMU_CHAN_DOORBELL }, .num_chans = 1,
		.mode = AMPL_WAIT_POLL,
	};
	CHECK(ampl_emu_bridge_write_mbox(window, &cfg) == 0);
	static struct ampl_emu_bridge b;
	r = ampl_emu_bridge_start(&b, &cfg, &q);
	if (r)
		printf("bridge start: %d %s\n", r, ampl_soc_last_error());
	CHECK(r == 0);

	/* The firmware rings before the remote's process has attached (it starts after the bridge). */
	struct ampl_emu_slot *to_host = &((struct ampl_emu_mbox *)((char *)window + AMPL_EMU_MBOX_OFF))->chans[0].to_host;
	for (unsigned i = 1; i <= 5; i++) {
		atomic_fetch_add_explicit(&to_host->seq, 1u, memory_order_release);
		const uint8_t ring = 1;
		CHECK(send(sv[1], &ring, 1, 0) == 1);
		CHECK(wait_for(&b.to_host, i) == 0);
	}
	int code = 0;
	const char *what = ampl_emu_bridge_first_error(&b, &code);
	printf("5 firmware rings before the remote attached: %u errors (%s, %d)\n", atomic_load(&b.errors),
	       what ? what : "none", code);
	CHECK(atomic_load(&b.errors) == 0);

	/* The remote: attached, its doorbell channel from rpu0 in signalling mode as an ICMsg instance sets it, but
	 * without an interrupt thread: nothing is taken until it polls. */
	struct ampl_soc *s;
	struct ampl_agent *apu;
	struct mbox_controller *mb;
	CHECK(ampl_soc_open(soc, &s) == 0);
	struct ampl_agent_opts ao = { .mode = AMPL_WAIT_POLL, .no_irq_thread = true };
	CHECK(ampl_agent_attach(s, "apu", &ao, &apu) == 0);
	CHECK(ampl_agent_mbox(apu, "rpu0", &mb) == 0);
	struct xlnx_ipi_mbox *x = xlnx_ipi_mbox_of(&mb->chans[XLNX_IPI_TX_CHAN]);
	CHECK(x != NULL);
	xlnx_ipi_mbox_set_signalling(x, true);
	struct mbox_client cl = { .rx_callback = on_remote_rx };
	CHECK(mbox_bind_client(&mb->chans[XLNX_IPI_RX_CHAN], &cl) == 0);

	for (unsigned i = 6; i <= RINGS; i++) {
		atomic_fetch_add_explicit(&to_host->seq, 1u, memory_order_release);
		const uint8_t ring = 1;
		CHECK(send(sv[1], &ring, 1, 0) == 1);
		CHECK(wait_for(&b.to_host, i) == 0);
	}
	printf("%d firmware rings relayed to a remote that takes none: %u errors\n", RINGS, atomic_load(&b.errors));
	CHECK(atomic_load(&b.errors) == 0 && ampl_emu_bridge_first_error(&b, NULL) == NULL);

	/* The remote takes its interrupts now (from this thread). */
	for (int i = 0; i < 5000 && atomic_load(&remote_doorbells) < 1; i++) {
		ampl_agent_poll(apu);
		usleep(1000);
	}
	printf("the remote, once it takes its interrupts, saw %d doorbell(s)\n", atomic_load(&remote_doorbells));
	CHECK(atomic_load(&remote_doorbells) >= 1);
	CHECK(atomic_load(&b.errors) == 0);

	/* The firmware exits (QEMU closes its socket), and the remote still rings it: the last messages of a run, as
	 * the multi-endpoint backend's endpoint deregistrations after the firmware's stop word. Those rings find the
	 * firmware gone: counted as such, not as protocol errors. */
	close(sv[1]);
	for (int i = 0; i < 5000 && !atomic_load(&b.link.lost); i++)
		usleep(1000);
	CHECK(atomic_load(&b.link.lost));
	struct mbox_client txcl = { 0 };
	CHECK(mbox_bind_client(&mb->chans[XLNX_IPI_TX_CHAN], &txcl) == 0);
	unsigned to_fw = atomic_load(&b.to_fw);
	for (unsigned i = 1; i <= 3; i++) {
		CHECK(mbox_send_message(&mb->chans[XLNX_IPI_TX_CHAN], NULL) >= 0);
		CHECK(wait_for(&b.to_fw, to_fw + i) == 0);
		(void)mbox_client_tx_busy(&mb->chans[XLNX_IPI_TX_CHAN]);
	}
	printf("3 rings after the firmware exited: %u errors, %u found the firmware gone\n", atomic_load(&b.errors),
	       atomic_load(&b.fw_gone));
	CHECK(atomic_load(&b.errors) == 0 && atomic_load(&b.fw_gone) >= 1);

	mbox_free_channel(&mb->chans[XLNX_IPI_TX_CHAN]);
	mbox_free_channel(&mb->chans[XLNX_IPI_RX_CHAN]);
	ampl_agent_detach(apu);
	ampl_soc_close(s);
	ampl_emu_bridge_stop(&b);
	close(sv[0]);
	ampl_soc_destroy(soc);
	munmap(window, AMPL_EMU_WINDOW_SIZE);
	unlink(shm);
	printf("ok\n");
	return 0;
}
