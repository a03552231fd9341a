/*
 * Endpoint bookkeeping the IPC service tests share (ipc_side.h).
 */
#include "ipc_side.h"

#include <stdio.h>
#include <unistd.h>

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
