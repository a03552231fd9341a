/*
 * The firmware's trace sink under the emulator: see emu_trace.h, and <amplink/emu.h> for the trace area.
 */
#include "emu_trace.h"

#include <amplink/device.h>

#if !AMPL_CONFIG_TRACE
/* The trace points compiled out: nothing calls the sink, and there is nothing to follow. */
void emu_trace_init(struct ampl_emu_trace *t)
{
	(void)t;
}

void emu_trace_follow(void)
{
}
#else
static struct ampl_emu_trace *area;
/* The object of each index this boot (a new boot finds its objects again by name: the area outlives a reset). */
static const void *known[AMPL_EMU_TRACE_OBJS];

void emu_trace_init(struct ampl_emu_trace *t)
{
	for (unsigned i = 0; i < AMPL_EMU_TRACE_OBJS; i++)
		known[i] = NULL;
	area = t && t->magic == AMPL_EMU_TRACE_MAGIC ? t : NULL;
	emu_trace_follow();
}

void emu_trace_follow(void)
{
	uint32_t on = area && atomic_load_explicit(&area->on, memory_order_relaxed) != 0;
	atomic_store_explicit(&ampl_trace_on, on, memory_order_relaxed);
}

/* What an event's object is (amplink/trace.h, enum ampl_trace_event). */
static const char *kind_of(unsigned ev)
{
	if (ev <= AMPL_EV_CTRL_WRITE)
		return "hw";
	if (ev <= AMPL_EV_FILTER_REFUSE)
		return "ipi";
	if (ev <= AMPL_EV_MBOX_OFFLINE)
		return "mbox";
	if (ev <= AMPL_EV_IPM_RX)
		return "ipm";
	switch (ev) {
	case AMPL_EV_IPC_SEND:
		return "ipc";
	case AMPL_EV_ICMSG_RX:
		return "icmsg";
	case AMPL_EV_MULTI_RX:
		return "multi";
	default:
		return "rpmsg";
	}
}

static void copy_str(char *dst, unsigned n, const char *src)
{
	unsigned i = 0;
	for (; src && src[i] && i + 1 < n; i++)
		dst[i] = src[i];
	for (; i < n; i++)
		dst[i] = 0;
}

/* "KIND@ADDRESS" (hexadecimal) into @dst. */
static void addr_name(char *dst, unsigned n, const char *kind, const void *obj)
{
	char buf[AMPL_EMU_TRACE_NAME];
	unsigned k = 0;
	for (; kind[k] && k < 8u; k++)
		buf[k] = kind[k];
	buf[k++] = '@';
	uintptr_t a = (uintptr_t)obj;
	for (int shift = (int)sizeof(a) * 8 - 4; shift >= 0; shift -= 4)
		buf[k++] = "0123456789abcdef"[(a >> shift) & 0xFu];
	buf[k] = 0;
	copy_str(dst, n, buf);
}

static bool same_name(const char *a, const char *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (a[i] != b[i])
			return false;
		if (!a[i])
			return true;
	}
	return true;
}

/* The index of @obj (named now if new), or 0xFFFF. Interrupts masked by the caller. */
static unsigned object(unsigned ev, const void *obj)
{
	for (unsigned i = 0; i < AMPL_EMU_TRACE_OBJS; i++)
		if (known[i] == obj)
			return i;
	const char *kind = kind_of(ev);
	char name[AMPL_EMU_TRACE_NAME];
	bool device = ev == AMPL_EV_IPM_SEND || ev == AMPL_EV_IPM_RX || ev == AMPL_EV_IPC_SEND;
	if (device)
		copy_str(name, sizeof(name), ((const struct ampl_device *)obj)->name);
	else
		addr_name(name, sizeof(name), kind, obj);
	uint32_t n = atomic_load_explicit(&area->num_objs, memory_order_relaxed);
	n = n < AMPL_EMU_TRACE_OBJS ? n : AMPL_EMU_TRACE_OBJS;
	for (unsigned i = 0; i < n; i++) /* named by an earlier boot of this image */
		if (same_name(area->objs[i].name, name, sizeof(name)) && same_name(area->objs[i].kind, kind, 8)) {
			known[i] = obj;
			return i;
		}
	if (n == AMPL_EMU_TRACE_OBJS)
		return 0xFFFFu;
	copy_str(area->objs[n].kind, sizeof(area->objs[n].kind), kind);
	copy_str(area->objs[n].name, sizeof(area->objs[n].name), name);
	for (unsigned e = 0; e < AMPL_EMU_TRACE_EVENTS; e++)
		atomic_store_explicit(&area->objs[n].count[e], 0, memory_order_relaxed);
	atomic_store_explicit(&area->num_objs, n + 1u, memory_order_release); /* after its name */
	known[n] = obj;
	return n;
}

/* The portable core's sink (amplink/trace.h): the port's default records nothing. */
void ampl_trace_emit(unsigned ev, const void *obj, int32_t val)
{
	if (!area || ev == AMPL_EV_NONE || ev >= AMPL_EV_COUNT)
		return;
	unsigned key = ampl_irq_lock();
	unsigned o = obj ? object(ev, obj) : 0xFFFFu;
	if (o < AMPL_EMU_TRACE_OBJS) {
		_Atomic uint32_t *c = &area->objs[o].count[ev];
		atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1u, memory_order_relaxed);
	}
	uint32_t pos = atomic_load_explicit(&area->head, memory_order_relaxed);
	struct ampl_emu_trace_rec *r = &area->ring[pos & (AMPL_EMU_TRACE_RECORDS - 1u)];
	atomic_store_explicit(&r->seq, 0, memory_order_relaxed);
	atomic_thread_fence(memory_order_release); /* a reader that sees the new words sees seq 0 first */
	r->ev_obj = ev | (uint32_t)o << 16;
	r->val = val;
	r->t_us = (uint32_t)ampl_os_uptime_us();
	atomic_store_explicit(&r->seq, pos + 1u, memory_order_release);
	atomic_store_explicit(&area->head, pos + 1u, memory_order_release);
	ampl_irq_unlock(key);
}
#endif /* AMPL_CONFIG_TRACE */
