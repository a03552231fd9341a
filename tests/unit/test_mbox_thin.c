/*
 * The mailbox binding of firmware builds, without the registry (AMPL_MBOX_REGISTRY 0, as a port selects it): this
 * program, the framework (src/core/mailbox.c) and the loopback controller's driver (tests/integration/ctrl_loop/
 * mbox_loop_drv.c) are built with the switch at 0. The driver runs over a register model of its block in this
 * file (a word written to DATA(n) is pending on channel n ^ 1); the test takes the interrupt's place by calling
 * the driver's handler. Channels are given, as generated code gives them: bound, rung, delivered, refused (a
 * channel held by the other path, a channel whose controller was never set up), released; and the IPC link of
 * <amplink/ipc/link.h> on the thin path (AMPL_IPC_LINK_FRAMEWORK 0) over them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <amplink/ipc/link.h>
#include <amplink/mailbox_controller.h>

#include "mbox_loop.h"

#if AMPL_MBOX_REGISTRY || AMPL_IPC_LINK_FRAMEWORK
#error "test_mbox_thin is built with AMPL_MBOX_REGISTRY=0 and AMPL_IPC_LINK_FRAMEWORK=0"
#endif

/*
 * The POSIX port's TX-done thread calls it; it starts only when a registry lists a polled controller, which this
 * build has none of, so it never runs here (the framework's own is not built without the registry).
 */
uint32_t mbox_poll_due(uint64_t now_us);
uint32_t mbox_poll_due(uint64_t now_us)
{
	(void)now_us;
	return UINT32_MAX;
}

/* ---- the loopback block's registers (mbox_loop.h), one side ---- */

struct loop_regs {
	uint32_t data[MBOX_LOOP_CHANS], pending, enable;
};

static uint32_t regs_read32(const struct ampl_io_region *io, uint32_t off)
{
	struct loop_regs *r = io->ctx;
	if (off < MBOX_LOOP_DATA(MBOX_LOOP_CHANS)) {
		r->pending &= ~(1u << (off / 4u));
		return r->data[off / 4u];
	}
	return off == MBOX_LOOP_STATUS ? r->pending : off == MBOX_LOOP_ENABLE ? r->enable : 0u;
}

static void regs_write32(const struct ampl_io_region *io, uint32_t off, uint32_t val)
{
	struct loop_regs *r = io->ctx;
	if (off < MBOX_LOOP_DATA(MBOX_LOOP_CHANS)) {
		unsigned peer = (off / 4u) ^ 1u;
		r->data[peer] = val;
		r->pending |= 1u << peer;
	} else if (off == MBOX_LOOP_ENABLE) {
		r->enable = val;
	}
}

static const struct ampl_io_ops regs_ops = { .read32 = regs_read32, .write32 = regs_write32 };

static struct loop_regs regs;
static struct mbox_loop loop;

/* A client that counts what it receives. */
struct rx_client {
	struct mbox_client cl;
	unsigned count;
	uint32_t last;
	bool got_null;
};

static void on_rx(struct mbox_client *cl, void *mssg)
{
	struct rx_client *c = AMPL_CONTAINER_OF(cl, struct rx_client, cl);
	c->count++;
	c->got_null = !mssg;
	c->last = mssg ? *(const uint32_t *)mssg : 0u;
}

static int setup(void **state)
{
	(void)state;
	memset(&regs, 0, sizeof(regs));
	memset(&loop, 0, sizeof(loop));
	loop.regs = (struct ampl_io_region){ .base = &regs, .size = MBOX_LOOP_REG_SPAN, .ops = &regs_ops, .ctx = &regs };
	return mbox_loop_init(&loop, "/loop") ? -1 : 0;
}

/* The controller is set up, not listed: a second controller under the same node is no conflict. */
static void test_register_without_list(void **state)
{
	(void)state;
	static struct mbox_loop other;
	other.regs = loop.regs;
	assert_int_equal(mbox_loop_init(&other, "/loop"), 0);
	assert_ptr_equal(other.chans[0].mbox, &other.ctrl);
	assert_ptr_equal(loop.chans[3].mbox, &loop.ctrl);
	mbox_loop_remove(&other);
	/* What registration still refuses. */
	struct mbox_controller bad = { .ops = NULL, .chans = other.chans, .num_chans = 1 };
	assert_int_equal(mbox_controller_register(&bad), -EINVAL);
}

/* A ring is the controller's send_data; the word arrives on the peer channel and reaches its client's callback. */
static void test_ring_and_rx(void **state)
{
	(void)state;
	struct mbox_client tx = { 0 };
	struct rx_client rx = { .cl = { .rx_callback = on_rx } };
	assert_int_equal(ampl_mbox_bind(&loop.chans[0], &tx), 0);
	assert_int_equal(ampl_mbox_bind(&loop.chans[1], &rx.cl), 0);
	assert_true(regs.enable & (1u << 1)); /* the controller's startup ran for the rx channel */

	assert_int_equal(ampl_mbox_ring(&loop.chans[0]), 0);
	assert_int_equal(regs.pending, 1u << 1);
	assert_int_equal(rx.count, 0);
	mbox_loop_isr(&loop);
	assert_int_equal(rx.count, 1);
	assert_int_equal(rx.last, 0u);
	assert_int_equal(regs.pending, 0u);

	uint32_t word = 0xC0FFEEu;
	assert_int_equal(ampl_mbox_send_now(&loop.chans[0], &word), 0);
	mbox_loop_isr(&loop);
	assert_int_equal(rx.count, 2);
	assert_int_equal(rx.last, 0xC0FFEEu);

	/* mbox_chan_received_data() from a controller reaches the client as it is. */
	mbox_chan_received_data(&loop.chans[1], NULL);
	assert_int_equal(rx.count, 3);
	assert_true(rx.got_null);

	ampl_mbox_release(&loop.chans[1]);
	assert_false(regs.enable & (1u << 1)); /* shutdown ran */
	assert_false(ampl_mbox_chan_deliver(&loop.chans[1], NULL));
	assert_int_equal(rx.count, 3);
	ampl_mbox_release(&loop.chans[0]);
}

/* One client per channel, whichever path holds it; a channel whose controller was not set up is refused. */
static void test_refusals(void **state)
{
	(void)state;
	struct mbox_client a = { 0 }, b = { 0 };
	assert_int_equal(ampl_mbox_bind(&loop.chans[2], &a), 0);
	assert_int_equal(ampl_mbox_bind(&loop.chans[2], &b), -EBUSY);
	assert_int_equal(ampl_mbox_bind(&loop.chans[2], &a), -EBUSY);
	/* The framework path refuses the channel the thin path holds. */
	assert_int_equal(mbox_bind_client(&loop.chans[2], &b), -EBUSY);
	int err = 0;
	assert_null(mbox_client_get_channel(&b, NULL, &loop.chans[2], "tx", &err));
	assert_int_equal(err, -EBUSY);
	assert_null(ampl_mbox_get_channel(&b, NULL, &loop.chans[2], "tx", &err));
	assert_int_equal(err, -EBUSY);
	/* A channel of no set-up controller, none at all, no client. */
	static struct mbox_chan loose;
	assert_int_equal(ampl_mbox_bind(&loose, &b), -EINVAL);
	assert_int_equal(ampl_mbox_bind(NULL, &b), -EINVAL);
	assert_int_equal(ampl_mbox_bind(&loop.chans[3], NULL), -EINVAL);
	assert_int_equal(ampl_mbox_ring(&loop.chans[3]), -EINVAL); /* no client */
	assert_int_equal(ampl_mbox_ring(NULL), -EINVAL);
	/* Nothing to look a name up in: the channel must be given. */
	struct mbox_spec spec = { .provider = "/loop", .args = { 3 }, .nargs = 1, .name = "rx" };
	struct mbox_consumer node = { .name = "ipc", .mboxes = &spec, .num_mboxes = 1 };
	assert_null(ampl_mbox_get_channel(&b, &node, NULL, "rx", &err));
	assert_int_equal(err, -ENODEV);
	assert_null(mbox_client_get_channel(&b, &node, NULL, "rx", &err));
	assert_int_equal(err, -ENODEV);
	/* Released, the channel is free for either path. */
	ampl_mbox_release(&loop.chans[2]);
	assert_int_equal(mbox_bind_client(&loop.chans[2], &b), 0);
	assert_int_equal(ampl_mbox_bind(&loop.chans[2], &a), -EBUSY);
	mbox_free_channel(&loop.chans[2]);
	assert_int_equal(ampl_mbox_bind(&loop.chans[2], &a), 0);
	ampl_mbox_release(&loop.chans[2]);
}

/* The framework's queue and TX done on a given channel, ticked per controller (no list to tick). */
static unsigned done_count;
static int done_result;

static void on_tx_done(struct mbox_client *cl, void *mssg, int r)
{
	(void)cl;
	(void)mssg;
	done_count++;
	done_result = r;
}

static void test_framework_without_registry(void **state)
{
	(void)state;
	struct mbox_client tx = { .tx_done = on_tx_done };
	struct rx_client rx = { .cl = { .rx_callback = on_rx } };
	done_count = 0;
	assert_int_equal(mbox_bind_client(&loop.chans[0], &tx), 0);
	assert_int_equal(ampl_mbox_bind(&loop.chans[1], &rx.cl), 0);
	uint32_t a = 1, b = 2;
	assert_true(mbox_send_message(&loop.chans[0], &a) >= 0);
	assert_true(mbox_send_message(&loop.chans[0], &b) >= 0); /* queued behind a */
	assert_true(mbox_controller_poll(&loop.ctrl));           /* a not taken yet */
	assert_int_equal(done_count, 0);
	mbox_loop_isr(&loop); /* the receiver takes a */
	assert_int_equal(rx.last, 1u);
	assert_true(mbox_controller_poll(&loop.ctrl)); /* a done, b submitted */
	assert_int_equal(done_count, 1);
	mbox_loop_isr(&loop);
	assert_int_equal(rx.last, 2u);
	assert_false(mbox_controller_poll(&loop.ctrl));
	assert_int_equal(done_count, 2);
	assert_int_equal(done_result, 0);
	mbox_free_channel(&loop.chans[0]);
	ampl_mbox_release(&loop.chans[1]);
}

/* ---- the IPC link on the thin path, over given channels ---- */

struct link_user {
	struct ampl_ipc_link link;
	atomic_flag lock;
	unsigned doorbells;
};

static void on_doorbell(struct mbox_client *cl, void *mssg)
{
	(void)mssg;
	struct ampl_ipc_link *l = AMPL_CONTAINER_OF(cl, struct ampl_ipc_link, cl_rx);
	AMPL_CONTAINER_OF(l, struct link_user, link)->doorbells++;
}

static void on_state(struct mbox_client *cl, bool online)
{
	(void)ampl_ipc_link_state(cl);
	(void)online;
}

static void test_link_given_channels(void **state)
{
	(void)state;
	static struct link_user u = { .lock = ATOMIC_FLAG_INIT };
	static struct link_user peer = { .lock = ATOMIC_FLAG_INIT };
	/* No channels given and no registry: the link cannot open. */
	assert_int_equal(ampl_ipc_link_open(&u.link, &u.lock, NULL, NULL, NULL, NULL, on_doorbell, on_state), -ENODEV);
	/* This side rings on channel 0 and hears channel 1; the peer side the other way round. */
	assert_int_equal(ampl_ipc_link_open(&u.link, &u.lock, NULL, NULL, &loop.chans[0], &loop.chans[1],
					    on_doorbell, on_state), 0);
	assert_int_equal(ampl_ipc_link_open(&peer.link, &peer.lock, NULL, NULL, &loop.chans[2], &loop.chans[3],
					    on_doorbell, on_state), 0);
	/* The loopback block answers on the neighbour channel: each side's ring comes back to its own rx channel. */
	assert_int_equal(ampl_ipc_link_ring(&u.link), 0);
	assert_int_equal(ampl_ipc_link_ring(&peer.link), 0);
	assert_int_equal(ampl_ipc_link_ring(&peer.link), 0);
	mbox_loop_isr(&loop);
	assert_int_equal(u.doorbells, 1);
	assert_int_equal(peer.doorbells, 1); /* the second ring found the first still pending: one doorbell */
	/* A second link over the same channels is refused and holds nothing. */
	static struct link_user dup = { .lock = ATOMIC_FLAG_INIT };
	assert_int_equal(ampl_ipc_link_open(&dup.link, &dup.lock, NULL, NULL, &loop.chans[0], &loop.chans[1],
					    on_doorbell, on_state), -EBUSY);
	ampl_ipc_link_stop(&u.link);
	ampl_ipc_link_close(&u.link, &u.lock, 0);
	ampl_ipc_link_stop(&peer.link);
	ampl_ipc_link_close(&peer.link, &peer.lock, 0);
	assert_int_equal(ampl_ipc_link_ring(&u.link), 0); /* closed: nothing */
	for (unsigned i = 0; i < MBOX_LOOP_CHANS; i++)
		assert_null(loop.chans[i].cl);
}

/* A link on a doorbell function: no channel taken, a ring is one call of the function, nothing once closed. */
static int fn_rings;
static const void *fn_ctx;

static void count_ring(const void *ctx)
{
	fn_rings++;
	fn_ctx = ctx;
}

static void test_link_doorbell_function(void **state)
{
	(void)state;
	static struct link_user u = { .lock = ATOMIC_FLAG_INIT };
	static const struct ampl_ipc_doorbell none = { .ring = NULL };
	static const int ctx = 42;
	static const struct ampl_ipc_doorbell db = { .ring = count_ring, .ctx = &ctx };
	fn_rings = 0;
	assert_int_equal(ampl_ipc_link_open(&u.link, &u.lock, &none, NULL, &loop.chans[0], &loop.chans[1],
					    on_doorbell, on_state), -EINVAL);
	/* The channels given beside it are not taken. */
	assert_int_equal(ampl_ipc_link_open(&u.link, &u.lock, &db, NULL, &loop.chans[0], &loop.chans[1],
					    on_doorbell, on_state), 0);
	for (unsigned i = 0; i < MBOX_LOOP_CHANS; i++)
		assert_null(loop.chans[i].cl);
	assert_int_equal(ampl_ipc_link_ring(&u.link), 0);
	assert_int_equal(ampl_ipc_link_ring(&u.link), 0);
	assert_int_equal(fn_rings, 2);
	assert_ptr_equal(fn_ctx, &ctx);
	assert_int_equal(ampl_ipc_link_offline(&u.link), 0);
	mbox_loop_isr(&loop);
	assert_int_equal(u.doorbells, 0); /* nothing went through the mailbox */
	ampl_ipc_link_stop(&u.link);
	ampl_ipc_link_close(&u.link, &u.lock, 1000);
	assert_int_equal(ampl_ipc_link_ring(&u.link), 0);
	assert_int_equal(fn_rings, 2); /* closed: not called */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_register_without_list, setup),
		cmocka_unit_test_setup(test_ring_and_rx, setup),
		cmocka_unit_test_setup(test_refusals, setup),
		cmocka_unit_test_setup(test_framework_without_registry, setup),
		cmocka_unit_test_setup(test_link_given_channels, setup),
		cmocka_unit_test_setup(test_link_doorbell_function, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
