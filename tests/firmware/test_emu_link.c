/*
 * The emulator link's doorbell without an emulator: the link over one end of a socket pair standing for QEMU's
 * serial socket, nobody reading the other end (a firmware that does not take its ring bytes for a while: QEMU
 * passes a byte to the UART only when the previous one was read, and under load its main loop runs late). Every
 * ring must be accepted: once the socket is full, bytes the firmware has not read are waiting, and the drain each
 * of them starts covers the new ring too. Then the reader sees at least one byte, and the socket closing is seen as
 * the firmware's death (the rx client's link_state reports it offline, once; sends refused with -ESHUTDOWN).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <amplink/mailbox_client.h>

#include "sim/emu_link.h"

#define RINGS 5000

static atomic_int offline_seen, online_seen, doorbells;
static atomic_bool armed;

static void on_rx(struct mbox_client *cl, void *mssg)
{
	(void)cl;
	(void)mssg;
	atomic_fetch_add(&doorbells, 1);
}

static void on_link_state(struct mbox_client *cl, bool online)
{
	(void)cl;
	atomic_fetch_add(online ? &online_seen : &offline_seen, 1);
}

static void on_tx_prepare(struct mbox_client *cl, void *mssg)
{
	(void)cl;
	(void)mssg;
	atomic_store(&armed, false);
}

#define CHECK(c)                                                                                                   \
	do {                                                                                                       \
		if (!(c)) {                                                                                        \
			printf("FAIL line %d: %s\n", __LINE__, #c);                                                \
			return 1;                                                                                  \
		}                                                                                                  \
	} while (0)

int main(void)
{
	int sv[2];
	setvbuf(stdout, NULL, _IONBF, 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	static struct ampl_emu_boot boot = { .magic = AMPL_EMU_MAGIC, .doorbell = AMPL_EMU_DOORBELL_IRQ };
	struct ampl_emu_qemu q = { .boot = &boot, .window = &boot, .sock = sv[0], .pid = getpid(),
				   .doorbell = AMPL_EMU_DOORBELL_IRQ };
	static struct ampl_emu_link l;
	CHECK(ampl_emu_link_start(&l, "/emu-doorbell", &q, true) == 0);
	struct mbox_client tx = { .tx_prepare = on_tx_prepare }, rx = { .rx_callback = on_rx, .link_state = on_link_state };
	CHECK(mbox_bind_client(&l.chans[0], &tx) == 0);
	CHECK(mbox_bind_client(&l.chans[1], &rx) == 0);

	int refused = 0, first_err = 0;
	for (int i = 0; i < RINGS; i++) {
		int r = mbox_ring_doorbell(&l.chans[0], &armed);
		if (r && !refused++)
			first_err = r;
	}
	printf("%d rings into a socket nobody reads: %d refused (first error %d), %u bytes written, %u merged\n", RINGS,
	       refused, first_err, atomic_load(&l.rings_out), atomic_load(&l.rings_merged));
	CHECK(refused == 0);
	uint8_t b;
	CHECK(recv(sv[1], &b, 1, MSG_DONTWAIT) == 1);

	/* The far end closes: the firmware is gone. */
	CHECK(send(sv[1], &b, 1, 0) == 1);
	close(sv[1]);
	for (int i = 0; i < 2000 && !atomic_load(&offline_seen); i++)
		usleep(1000);
	CHECK(atomic_load(&offline_seen) == 1);
	CHECK(atomic_load(&doorbells) >= 1);
	usleep(10000);
	CHECK(atomic_load(&offline_seen) == 1);
	CHECK(mbox_send_message(&l.chans[0], NULL) == -ESHUTDOWN);
	printf("ok: the socket closing was seen once as the link going offline; sends answer -ESHUTDOWN\n");
	mbox_free_channel(&l.chans[1]);
	mbox_free_channel(&l.chans[0]);
	ampl_emu_link_stop(&l);
	close(sv[0]);
	return 0;
}
