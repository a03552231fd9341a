/*
 * The emulator doorbell, host end: a mailbox controller over QEMU's serial socket (interrupt mode) or the boot
 * block's counter words (polling mode). See emu_link.h; the firmware end is each board's emu_doorbell.c
 * (firmware/boards/BOARD/).
 */
#include "sim/emu_link.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>


#define SPINS_BEFORE_YIELD 64 /* polling thread: checks of the counter between two sched_yield() */
#define IDLE_BEFORE_SOCKET_CHECK 256u /* polling: empty checks of the counter between two looks at the socket */

static int start_thread(struct ampl_emu_link *l);
static void stop_thread(struct ampl_emu_link *l);

static struct ampl_emu_link *to_link(struct mbox_chan *chan)
{
	return AMPL_CONTAINER_OF(chan->mbox, struct ampl_emu_link, mbox);
}

static int link_send_data(struct mbox_chan *chan, void *data)
{
	struct ampl_emu_link *l = to_link(chan);

	(void)data;
	if (chan != &l->chans[0])
		return -EINVAL; /* the rx channel only receives */
	if (l->polling) {
		/* Release: the ring data written before the ring is visible to the firmware once the count moves. */
		atomic_fetch_add_explicit(&l->q->boot->bell_to_fw, 1u, memory_order_release);
	} else {
		const uint8_t ring = 1;
		ssize_t n;
		do
			n = send(l->q->sock, &ring, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* Full: ring bytes the firmware has not taken yet are waiting (QEMU passes one to UART1 only when
			 * DATA was read, and only when its main loop runs). The drain each of them starts covers this
			 * ring: merged. Refusing it instead (-EBUSY) left the doorbell queued in the framework while its
			 * tx_prepare had disarmed it, so every later ring queued another until the queue overflowed. */
			atomic_fetch_add(&l->rings_merged, 1u);
			return 0;
		}
		if (n < 0)
			return -ESHUTDOWN; /* QEMU is gone */
	}
	atomic_fetch_add(&l->rings_out, 1u);
	return 0;
}

static bool link_last_tx_done(struct mbox_chan *chan)
{
	(void)chan;
	return true; /* the byte is in the socket buffer, or the count moved: nothing can merge or lose it now */
}

static const struct mbox_chan_ops link_ops = {
	.send_data = link_send_data,
	.last_tx_done = link_last_tx_done,
};

/* Polling mode: one doorbell if the firmware's counter moved. */
static bool poll_counter(struct ampl_emu_link *l)
{
	/* Acquire: the ring data the firmware wrote before counting is read after this load. */
	uint32_t now = atomic_load_explicit(&l->q->boot->bell_to_host, memory_order_acquire);
	if (now == l->seen)
		return false;
	atomic_fetch_add(&l->rings_in, now - l->seen);
	l->seen = now;
	mbox_chan_received_data(&l->chans[1], NULL);
	return true;
}

/* The firmware is gone (its end of the socket closed): sends fail from now on instead of vanishing, and the
 * consumers learn it once, in the rx channel's context (this one). */
static int firmware_lost(struct ampl_emu_link *l)
{
	mbox_chan_set_offline(&l->chans[0], -ESHUTDOWN);
	if (!atomic_exchange(&l->lost, true))
		mbox_chan_set_offline(&l->chans[1], -ESHUTDOWN); /* the rx client's link_state: offline */
	return -EPIPE;
}

/* Polling mode: -EPIPE if the socket closed (QEMU exited or was killed), else 0. Looks without taking a byte. */
static int check_socket(struct ampl_emu_link *l)
{
	uint8_t b;
	ssize_t n;
	if (atomic_load(&l->lost))
		return -EPIPE;
	do
		n = recv(l->q->sock, &b, 1, MSG_DONTWAIT | MSG_PEEK);
	while (n < 0 && errno == EINTR);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
		return firmware_lost(l);
	return 0;
}

/* Interrupt mode: take every byte waiting (each a ring; one drain answers them all). 1, 0 or -EPIPE. */
static int read_bytes(struct ampl_emu_link *l, bool block)
{
	uint8_t buf[256];
	ssize_t n;

	if (atomic_load(&l->lost))
		return -EPIPE;
	do
		n = recv(l->q->sock, buf, sizeof(buf), block ? 0 : MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
		return firmware_lost(l); /* QEMU closed the line: it exited or was killed */
	if (n < 0)
		return 0;
	atomic_fetch_add(&l->rings_in, (unsigned)n);
	mbox_chan_received_data(&l->chans[1], NULL);
	return 1;
}

static void *rx_main(void *arg)
{
	struct ampl_emu_link *l = arg;

	if (l->polling) {
		unsigned idle = 0;
		while (!atomic_load(&l->stopping)) {
			if (poll_counter(l)) {
				idle = 0;
			} else if (++idle % SPINS_BEFORE_YIELD == 0) {
				if (idle % IDLE_BEFORE_SOCKET_CHECK == 0 && check_socket(l) < 0)
					break; /* the firmware is gone: ampl_emu_link_restart() starts a new thread */
				sched_yield(); /* two cores shared with QEMU's own spinning loop */
			} else {
				ampl_cpu_relax();
			}
		}
		return NULL;
	}
	for (;;) {
		struct pollfd fds[2] = { { .fd = l->q->sock, .events = POLLIN }, { .fd = l->stop_pipe[0], .events = POLLIN } };
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			break;
		if (atomic_load(&l->stopping) || (fds[1].revents & POLLIN))
			break;
		if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) && read_bytes(l, false) < 0)
			break;
	}
	return NULL;
}

int ampl_emu_link_start(struct ampl_emu_link *l, const char *node, struct ampl_emu_qemu *q, bool rx_thread)
{
	if (!l || !node || !q || !q->boot || q->pid <= 0)
		return -EINVAL;
	*l = (struct ampl_emu_link){ 0 };
	l->q = q;
	l->polling = q->doorbell == AMPL_EMU_DOORBELL_POLL;
	l->seen = atomic_load(&q->boot->bell_to_host);
	l->stop_pipe[0] = l->stop_pipe[1] = -1;
	l->mbox.node = node;
	l->mbox.ops = &link_ops;
	l->mbox.chans = l->chans;
	l->mbox.num_chans = 2;
	l->mbox.txdone_poll = true;
	l->mbox.txpoll_period = 1;
	int r = mbox_controller_register(&l->mbox);
	if (r)
		return r;
	if (!rx_thread)
		return 0;
	r = start_thread(l);
	if (r)
		mbox_controller_unregister(&l->mbox);
	return r;
}

int ampl_emu_link_poll(struct ampl_emu_link *l)
{
	if (!l || l->has_thread || !l->q)
		return -EINVAL;
	if (l->polling) {
		if (poll_counter(l)) {
			l->idle = 0;
			return 1;
		}
		if (++l->idle >= IDLE_BEFORE_SOCKET_CHECK) {
			l->idle = 0;
			return check_socket(l);
		}
		return atomic_load(&l->lost) ? -EPIPE : 0;
	}
	return read_bytes(l, false);
}

static int start_thread(struct ampl_emu_link *l)
{
	atomic_store(&l->stopping, false);
	if (pipe2(l->stop_pipe, O_CLOEXEC) < 0)
		return -errno;
	int r = -pthread_create(&l->thread, NULL, rx_main, l);
	if (r) {
		close(l->stop_pipe[0]);
		close(l->stop_pipe[1]);
		return r;
	}
	l->has_thread = true;
	return 0;
}

static void stop_thread(struct ampl_emu_link *l)
{
	if (!l->has_thread)
		return;
	atomic_store(&l->stopping, true);
	const char c = 0;
	ssize_t n = write(l->stop_pipe[1], &c, 1);
	(void)n; /* a full pipe already wakes the thread */
	pthread_join(l->thread, NULL);
	close(l->stop_pipe[0]);
	close(l->stop_pipe[1]);
	l->has_thread = false;
}

int ampl_emu_link_restart(struct ampl_emu_link *l, const struct ampl_emu_qemu_config *cfg, char *err,
			  size_t err_len)
{
	if (!l || !l->q)
		return -EINVAL;
	bool thread = l->has_thread;
	stop_thread(l);
	/* The consumers learn of the reset before anything of the new boot reaches them. */
	(void)firmware_lost(l);
	int r = ampl_emu_qemu_restart(l->q, cfg, err, err_len);
	if (r)
		return r;
	l->seen = atomic_load(&l->q->boot->bell_to_host);
	l->idle = 0;
	atomic_store(&l->lost, false);
	mbox_chan_set_offline(&l->chans[0], 0);
	mbox_chan_set_offline(&l->chans[1], 0); /* the rx client's link_state: online */
	return thread ? start_thread(l) : 0;
}

void ampl_emu_link_stop(struct ampl_emu_link *l)
{
	if (!l || !l->q)
		return;
	stop_thread(l);
	mbox_controller_unregister(&l->mbox);
	l->q = NULL;
}
