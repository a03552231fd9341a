/*
 * Fuzz harness for the ICMsg receive path: the input is a link configuration and a script of peer actions on the
 * two shared regions (arbitrary pokes anywhere, well-formed packets, bonding magic with any size word, session
 * handshake words) interleaved with doorbells, sends, and close/re-open. It checks the promises of
 * <amplink/ipc/icmsg.h> and docs/security.md:
 *   - every call returns a documented code, and icmsg_state() is one of the four states;
 *   - nothing reads or writes outside the two regions or the receive buffer (each is a heap block of exactly its
 *     size: AddressSanitizer);
 *   - received() gets a pointer to the receive buffer and at most its size; error() gets a message;
 *   - no hang: each doorbell returns (the drain is bounded by the ring).
 *
 * Input layout:
 *   byte 0     bits 0-1: unbound mode (3 = disable); bits 2-3: D = 0, 8, 32, 64; bits 4-5: receive buffer 17, 64,
 *              128 or 1024 bytes; bit 6: keep the image's rx indices (else the peer resets its ring first)
 *   byte 1, 2  tx and rx region sizes in 4-byte words (24 + byte)
 *   then       the rx region image, then the tx region image (missing bytes are 0)
 *   then       actions, one opcode byte each followed by its operands (missing operand bytes are 0)
 *
 * Built with clang -fsanitize=fuzzer (AMPL_LIBFUZZER defined), libFuzzer drives it. Built plainly, main() replays
 * the files, or every file of the directories, given as arguments: tests/fuzz/corpus/icmsg/ runs as a ctest test.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amplink/ipc/icmsg.h>
#include <amplink/mailbox_controller.h>

#include "fuzz_input.h"

const char fuzz_name[] = "fuzz_icmsg";

/* ---- a mailbox that only counts doorbells (TX done at the next poll) ---- */

static unsigned doorbells;

static int fk_send(struct mbox_chan *chan, void *data)
{
	(void)chan;
	if (data)
		fail("icmsg sent a message with data", 0, 0);
	doorbells++;
	return 0;
}

static bool fk_done(struct mbox_chan *chan)
{
	(void)chan;
	return true;
}

static const struct mbox_chan_ops fk_ops = { .send_data = fk_send, .last_tx_done = fk_done };

/* ---- callbacks ---- */

static uint8_t *rx_buf;
static uint32_t rx_buf_size;

static void on_received(const void *data, size_t len, void *priv)
{
	(void)priv;
	if ((const uint8_t *)data != rx_buf || len == 0 || len > rx_buf_size)
		fail("received() outside the receive buffer", (long)len, (long)rx_buf_size);
	volatile uint8_t sink = ((const uint8_t *)data)[len - 1];
	(void)sink;
}

static void on_error(const char *msg, void *priv)
{
	(void)priv;
	if (!msg || !msg[0])
		fail("error() without a message", 0, 0);
}

static void on_event(void *priv)
{
	(void)priv;
}

static const struct ipc_service_cb cbs = {
	.bound = on_event, .unbound = on_event, .received = on_received, .error = on_error
};

static void check_state(const struct icmsg *im)
{
	enum icmsg_state st = icmsg_state(im);
	if (st != ICMSG_STATE_OFF && st != ICMSG_STATE_BONDING && st != ICMSG_STATE_CONNECTED &&
	    st != ICMSG_STATE_DISCONNECTED)
		fail("unknown state", (long)st, 0);
}

static void *region(size_t size)
{
	void *p = NULL;
	if (posix_memalign(&p, 64, size))
		abort();
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size, 0 };
	uint8_t b0 = take(&in);
	static const uint32_t ds[4] = { 0, 8, 32, 64 }, bufs[4] = { ICMSG_MIN_RX_BUF, 64, 128, 1024 };
	enum icmsg_unbound_mode mode = (enum icmsg_unbound_mode)((b0 & 3u) == 3u ? 0u : (b0 & 3u));
	uint32_t d = ds[(b0 >> 2) & 3u];
	rx_buf_size = bufs[(b0 >> 4) & 3u];
	uint32_t tx_size = (24u + take(&in)) * 4u, rx_size = (24u + take(&in)) * 4u;
	uint8_t *tx = region(tx_size), *rx = region(rx_size);
	rx_buf = malloc(rx_buf_size);
	for (uint32_t i = 0; i < rx_size; i++)
		rx[i] = take(&in);
	for (uint32_t i = 0; i < tx_size; i++)
		tx[i] = take(&in);

	static struct mbox_controller ctrl;
	static struct mbox_chan chans[2];
	memset(&ctrl, 0, sizeof(ctrl));
	memset(chans, 0, sizeof(chans));
	ctrl.node = "fuzz";
	ctrl.ops = &fk_ops;
	ctrl.chans = chans;
	ctrl.num_chans = 2;
	ctrl.txdone_poll = true;
	ctrl.txpoll_period = 1;
	if (mbox_controller_register(&ctrl))
		fail("controller registration", 0, 0);

	struct icmsg_config cfg = {
		.tx_mem = tx, .tx_size = tx_size, .rx_mem = rx, .rx_size = rx_size, .dcache_alignment = d,
		.unbound_mode = mode, .tx_chan = &chans[0], .rx_chan = &chans[1], .rx_buf = rx_buf,
		.rx_buf_size = rx_buf_size, .size_ext = (b0 >> 6) & 1u,
	};
	static struct icmsg im;
	memset(&im, 0, sizeof(im));
	/* The peer's view: a pbuf writer on our rx region (it writes packets there). */
	bool hs = mode != ICMSG_UNBOUND_MODE_DISABLE;
	struct pbuf peer;
	struct pbuf_cfg pc;
	uint8_t *image = malloc(rx_size);
	memcpy(image, rx, rx_size);
	bool peer_ok = pbuf_cfg_init(&pc, rx, rx_size, d, hs) == 0 && pbuf_tx_init(&peer, &pc) == 0;
	if (b0 & 0x40u)
		memcpy(rx, image, rx_size); /* keep the image's indices: the peer's object then disagrees with them */
	free(image);
	int r = icmsg_open(&im, &cfg, &cbs, NULL);
	if (r != 0 && r != -EINVAL)
		fail("icmsg_open: undocumented code", r, 0);
	bool open = r == 0;
	if (!open || !peer_ok)
		goto out;

	uint8_t pkt[1100];
	memset(pkt, 0, sizeof(pkt));
	for (unsigned steps = 0; in.at < in.n && steps < 512; steps++) {
		uint8_t op = take(&in);
		switch (op % 8u) {
		case 0: { /* arbitrary peer write anywhere in either region */
			uint8_t *base = (op & 8u) ? tx : rx;
			uint32_t sz = (op & 8u) ? tx_size : rx_size;
			uint32_t off = take16(&in) % sz, n = take(&in) % 16u;
			for (uint32_t i = 0; i < n && off + i < sz; i++)
				base[off + i] = take(&in);
			break;
		}
		case 1: /* a doorbell */
			mbox_chan_received_data(&chans[1], NULL);
			break;
		case 2: { /* a well-formed packet (any content) */
			uint16_t n = (uint16_t)(1u + take16(&in) % (sizeof(pkt) - 1u));
			for (uint16_t i = 0; i < n && i < 32u; i++)
				pkt[i] = take(&in);
			(void)pbuf_write(&peer, pkt, n);
			break;
		}
		case 3: { /* the bonding magic with any size word, possibly truncated */
			memcpy(pkt, icmsg_magic, ICMSG_MAGIC_LEN);
			uint32_t adv = take32(&in);
			memcpy(pkt + ICMSG_MAGIC_LEN, &adv, 4);
			uint16_t n = (uint16_t)(1u + take(&in) % (ICMSG_MAGIC_LEN + 4u));
			(void)pbuf_write(&peer, pkt, n);
			break;
		}
		case 4: { /* session: the peer's handshake word (in our tx region), maybe acknowledging our id */
			if (!hs)
				break;
			uint32_t w = take32(&in);
			if (op & 8u) {
				uint32_t mine;
				memcpy(&mine, rx + PBUF_HANDSHAKE_OFF, 4);
				w = (w & 0xFFFFu) | (mine & 0xFFFFu) << 16;
			}
			memcpy(tx + PBUF_HANDSHAKE_OFF, &w, 4);
			break;
		}
		case 5: { /* the peer restarts its ring */
			(void)pbuf_tx_init(&peer, &pc);
			break;
		}
		case 6: { /* a send from our side */
			size_t n = take16(&in) % (sizeof(pkt) + 1u);
			memset(pkt, 0x5A, sizeof(pkt));
			r = icmsg_send(&im, n ? pkt : NULL, n);
			if (r != (int)n && r != -EBUSY && r != -EMSGSIZE && r != -ENOMEM && r != -EIO && r != -EBADMSG)
				fail("icmsg_send: undocumented code", r, (long)n);
			if (r == (int)n && (n == 0 || n > icmsg_peer_max(&im)))
				fail("icmsg_send accepted a size the peer cannot take", (long)n, icmsg_peer_max(&im));
			break;
		}
		case 7: /* close and re-open */
			if (icmsg_close(&im) != 0)
				fail("icmsg_close", 0, 0);
			r = icmsg_open(&im, &cfg, &cbs, NULL);
			if (r != 0 && r != -EINVAL)
				fail("icmsg_open: undocumented code", r, 0);
			if (r) {
				open = false;
				goto out;
			}
			break;
		}
		check_state(&im);
		if (icmsg_peer_max(&im) > PBUF_MAX_PAYLOAD(tx_size) || icmsg_peer_max(&im) > 0xFFFFu)
			fail("peer max beyond the ring", (long)icmsg_peer_max(&im), (long)tx_size);
	}
out:
	if (open && icmsg_close(&im) != 0)
		fail("icmsg_close", 0, 0);
	mbox_controller_unregister(&ctrl);
	free(rx_buf);
	free(tx);
	free(rx);
	return 0;
}
