/*
 * Endpoint bookkeeping the IPC service tests share (ipc_side.h).
 */
#include "ipc_side.h"

#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include <amplink/mailbox_controller.h>

void cb_bound(void *priv)
{
	atomic_fetch_add(&((struct ipc_side_events *)priv)->bound, 1);
}

void cb_unbound(void *priv)
{
	atomic_fetch_add(&((struct ipc_side_events *)priv)->unbound, 1);
}

void cb_error(const char *msg, void *priv)
{
	struct ipc_side_events *s = priv;
	snprintf(s->last_error, sizeof(s->last_error), "%s", msg);
	atomic_fetch_add(&s->errors, 1);
}

uint32_t csum(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

bool wait_for(_Atomic int *v, int want)
{
	for (int i = 0; i < 5000; i++) {
		if (atomic_load(v) >= want)
			return true;
		usleep(1000);
	}
	return false;
}

_Atomic int ipc_gate; /* 1: hold the next received(); 2: one is held; 0: open */

void gate_hold(void)
{
	int one = 1;
	if (atomic_compare_exchange_strong(&ipc_gate, &one, 2))
		while (atomic_load(&ipc_gate) == 2)
			sched_yield();
}

bool gate_wait_held(void)
{
	for (int i = 0; i < 5000 && atomic_load(&ipc_gate) != 2; i++)
		usleep(1000);
	return atomic_load(&ipc_gate) == 2;
}

uint32_t doorbells_taken(struct mbox_chan *chan)
{
	unsigned key = ampl_spin_lock(&chan->lock);
	uint32_t n = chan->rung_seq + chan->done_seq + chan->msg_count + (chan->active ? 1u : 0u);
	ampl_spin_unlock(&chan->lock, key);
	return n;
}
