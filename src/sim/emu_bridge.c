/*
 * The bridge between the virtual SoC's IPI and firmware under the emulator: see emu_bridge.h, and <amplink/emu.h>
 * for the mailbox area.
 */
#include "sim/emu_bridge.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <amplink/mailbox_client.h>

#include "sim/image.h"
#include "sim/trace.h"
#include "sim/trace_file.h"

/* A protocol error: counted; the first one's place and code kept for the report (ampl_emu_bridge_first_error()).
 * Under the lock. */
static void bridge_error(struct ampl_emu_bridge *b, const char *what, int code)
{
	if (atomic_fetch_add(&b->errors, 1u) == 0) {
		b->first_error = what;
		b->first_error_code = code;
	}
}

const char *ampl_emu_bridge_first_error(struct ampl_emu_bridge *b, int *code)
{
	pthread_mutex_lock(&b->lock);
	const char *what = b->first_error;
	if (code)
		*code = what ? b->first_error_code : 0;
	pthread_mutex_unlock(&b->lock);
	return what;
}

/* One doorbell on @tx (the emulator link's, or the IPI's towards a remote in signalling mode). -ESHUTDOWN: the
 * firmware has exited or is restarting (the link closed, or this processor offline), the ring lost as on the SoC:
 * counted as fw_gone, not as an error. Under the lock. */
static void ring(struct ampl_emu_bridge *b, struct mbox_chan *tx, const char *what)
{
	(void)mbox_client_tx_busy(tx); /* completes the previous ring (done at once), so this one goes out now */
	int r = mbox_send_message(tx, NULL);
	if (r == -ESHUTDOWN)
		atomic_fetch_add(&b->fw_gone, 1u);
	else if (r < 0)
		bridge_error(b, what, r);
}

static void ring_fw(struct ampl_emu_bridge *b)
{
	ring(b, &b->link.chans[0], "ringing the firmware");
}

/* A request of the remote held for the firmware: acknowledge it once the firmware has. Under the lock. */
static void finish_request(struct ampl_emu_bridge_chan *c)
{
	struct ampl_emu_slot *s = &c->b->area->chans[c->idx].to_fw;
	uint32_t seq = atomic_load_explicit(&s->seq, memory_order_relaxed);
	if (!c->held || atomic_load_explicit(&s->ack, memory_order_acquire) != seq)
		return;
	uint8_t resp[AMPL_EMU_MBOX_DATA];
	memcpy(resp, s->resp, sizeof(resp));
	xlnx_ipi_mbox_response_write(c->rx, resp, sizeof(resp));
	c->held = false;
	ampl_mbox_ack(c->rx); /* the remote's ipm_send(wait) returns now, the response in place */
}

/* The agent's interrupt context: a request or doorbell from the remote. */
static void on_ipi_rx(struct mbox_client *cl, void *mssg)
{
	struct ampl_emu_bridge_chan *c = AMPL_CONTAINER_OF(cl, struct ampl_emu_bridge_chan, cl);
	struct ampl_emu_bridge *b = c->b;
	struct ampl_emu_slot *s = &b->area->chans[c->idx].to_fw;

	pthread_mutex_lock(&b->lock);
	if (b->stopping) {
		/* Not for the firmware any more: a request stays pending (never acknowledged unread), as at detach. */
		if (c->mode == AMPL_EMU_CHAN_REQUEST && mssg)
			(void)ampl_mbox_hold(c->rx);
		pthread_mutex_unlock(&b->lock);
		return;
	}
	if (c->mode == AMPL_EMU_CHAN_REQUEST) {
		const struct zynqmp_ipi_message *m = mssg;
		if (!m || c->held) { /* a doorbell on a request channel, or a second request while one is held */
			bridge_error(b, m ? "a second request from the remote while one is held" :
					    "a doorbell from the remote on a request channel", 0);
			pthread_mutex_unlock(&b->lock);
			return;
		}
		(void)ampl_mbox_hold(c->rx);
		memset(s->req, 0, sizeof(s->req));
		memcpy(s->req, m->data, m->len < sizeof(s->req) ? m->len : sizeof(s->req));
		s->id = 0;
		c->held = true;
	}
	/* Release: the request (or what the remote wrote in the rings before its doorbell) is seen with seq. */
	atomic_store_explicit(&s->seq, atomic_load_explicit(&s->seq, memory_order_relaxed) + 1u,
			      memory_order_release);
	atomic_fetch_add(&b->to_fw, 1u);
	ring_fw(b);
	pthread_mutex_unlock(&b->lock);
}

/* The framework: the firmware's request went through the IPI (request mode only). */
static void on_ipi_tx_done(struct mbox_client *cl, void *mssg, int r)
{
	struct ampl_emu_bridge_chan *c = AMPL_CONTAINER_OF(cl, struct ampl_emu_bridge_chan, cl);
	struct ampl_emu_bridge *b = c->b;
	struct ampl_emu_slot *s = &b->area->chans[c->idx].to_host;

	if (!mssg)
		return; /* a doorbell */
	pthread_mutex_lock(&b->lock);
	if (b->stopping) {
		pthread_mutex_unlock(&b->lock);
		return;
	}
	if (r)
		bridge_error(b, "the firmware's request to the remote", r);
	uint8_t resp[AMPL_EMU_MBOX_DATA] = { 0 };
	if (!r)
		xlnx_ipi_mbox_response_read(c->tx, resp, sizeof(resp));
	memcpy(s->resp, resp, sizeof(resp));
	atomic_store_explicit(&s->ack, c->fw_seen, memory_order_release);
	c->fw_req_busy = false;
	ring_fw(b);
	pthread_mutex_unlock(&b->lock);
}

/* ---- the firmware's trace area, merged into the trace of its agent (src/sim/trace.c) ---- */

/* The firmware's objects named so far in the agent's file; their counters' movement since the last look. */
static void merge_counts(struct ampl_emu_bridge *b, uint32_t num_objs)
{
	struct ampl_emu_bridge_trace *t = &b->trace;
	for (unsigned i = 0; i < num_objs; i++) {
		struct ampl_emu_trace_obj *o = &t->area->objs[i];
		if (t->obj[i] == AMPL_TRACE_NO_OBJ) {
			char kind[sizeof(o->kind) + 1], name[SIM_TRACE_NAME];
			memcpy(kind, o->kind, sizeof(o->kind));
			kind[sizeof(o->kind)] = 0;
			snprintf(name, sizeof(name), "firmware:%.*s", (int)sizeof(o->name), o->name);
			t->obj[i] = sim_trace_foreign_obj(b->ag, kind, name);
			if (t->obj[i] == AMPL_TRACE_NO_OBJ)
				continue; /* the agent's file is not there yet (or full): its counts wait for it */
		}
		for (unsigned e = 0; e < AMPL_EV_COUNT; e++) {
			uint32_t c = atomic_load_explicit(&o->count[e], memory_order_relaxed);
			uint32_t d = c - t->seen[i][e];
			t->seen[i][e] = c;
			if (d)
				sim_trace_foreign_count(b->ag, t->obj[i], e, d);
		}
	}
}

/*
 * The records written since the last look, on this process's clock: the newest one is placed now (the bridge
 * reads them as soon as the firmware rings), the others that many microseconds of the firmware's clock earlier.
 */
static void merge_records(struct ampl_emu_bridge *b, uint32_t num_objs)
{
	struct ampl_emu_bridge_trace *t = &b->trace;
	uint32_t head = atomic_load_explicit(&t->area->head, memory_order_acquire);
	if (head == t->next)
		return;
	if (head - t->next > AMPL_EMU_TRACE_RECORDS) { /* overwritten before this look */
		atomic_fetch_add(&b->trace_lost, head - t->next - AMPL_EMU_TRACE_RECORDS);
		t->next = head - AMPL_EMU_TRACE_RECORDS;
	}
	uint64_t now = ampl_now_ns();
	uint32_t newest = t->area->ring[(head - 1u) & (AMPL_EMU_TRACE_RECORDS - 1u)].t_us;
	for (; t->next != head; t->next++) {
		struct ampl_emu_trace_rec *r = &t->area->ring[t->next & (AMPL_EMU_TRACE_RECORDS - 1u)];
		uint32_t seq = atomic_load_explicit(&r->seq, memory_order_acquire);
		uint32_t ev_obj = r->ev_obj, t_us = r->t_us;
		int32_t val = r->val;
		atomic_thread_fence(memory_order_acquire);
		if (seq != t->next + 1u || atomic_load_explicit(&r->seq, memory_order_relaxed) != seq) {
			atomic_fetch_add(&b->trace_lost, 1u); /* being overwritten */
			continue;
		}
		unsigned ev = ev_obj & 0xFFFFu, o = ev_obj >> 16;
		if (ev == AMPL_EV_NONE || ev >= AMPL_EV_COUNT || (o != 0xFFFFu && o >= num_objs)) {
			bridge_error(b, "a trace record of the firmware names no event or object", (int)ev_obj);
			continue;
		}
		uint64_t back = (uint64_t)(uint32_t)(newest - t_us) * 1000u;
		sim_trace_foreign_rec(b->ag, o == 0xFFFFu ? AMPL_TRACE_NO_OBJ : t->obj[o], ev, val,
				      back < now ? now - back : 0);
		atomic_fetch_add(&b->trace_records, 1u);
	}
}

/* Tracing on or off in the firmware as for this process's agents; what it recorded merged. Under the lock. */
static void merge_trace(struct ampl_emu_bridge *b)
{
	struct ampl_emu_bridge_trace *t = &b->trace;
	bool on = atomic_load_explicit(&ampl_trace_on, memory_order_relaxed) != 0;
	if (!t->area || (!on && !t->was_on))
		return;
	atomic_store_explicit(&t->area->on, on, memory_order_relaxed);
	t->was_on = on; /* once more after it goes off: what the firmware recorded until it saw that */
	uint32_t n = atomic_load_explicit(&t->area->num_objs, memory_order_acquire);
	if (n > AMPL_EMU_TRACE_OBJS) {
		bridge_error(b, "the firmware's trace area counts more objects than it holds", (int)n);
		n = AMPL_EMU_TRACE_OBJS;
	}
	merge_counts(b, n);
	merge_records(b, n);
}

/* The host doorbell's receive thread: the firmware rang. Re-read every channel. */
static void on_fw_ring(struct mbox_client *cl, void *mssg)
{
	struct ampl_emu_bridge *b = AMPL_CONTAINER_OF(cl, struct ampl_emu_bridge, ring_cl);

	(void)mssg;
	pthread_mutex_lock(&b->lock);
	if (b->stopping) {
		pthread_mutex_unlock(&b->lock);
		return;
	}
	merge_trace(b);
	for (unsigned i = 0; i < b->num; i++) {
		struct ampl_emu_bridge_chan *c = &b->ch[i];
		struct ampl_emu_slot *s = &b->area->chans[i].to_host;
		if (c->mode == AMPL_EMU_CHAN_REQUEST)
			finish_request(c);
		uint32_t seq = atomic_load_explicit(&s->seq, memory_order_acquire);
		if (seq == c->fw_seen)
			continue;
		if (c->mode == AMPL_EMU_CHAN_DOORBELL) {
			c->fw_seen = seq;
			atomic_fetch_add(&b->to_host, 1u);
			ring(b, c->tx, "the firmware's doorbell to the remote");
			continue;
		}
		if (c->fw_req_busy)
			continue; /* one at a time, as the IPI: the next after this one's acknowledgement */
		if (seq - c->fw_seen != 1u) /* the firmware has one request in flight: count, take it */
			bridge_error(b, "the firmware sent a request before the last was acknowledged", (int)(seq - c->fw_seen));
		c->fw_seen = seq;
		c->txmsg.len = AMPL_EMU_MBOX_DATA;
		memcpy(c->txmsg.data, s->req, AMPL_EMU_MBOX_DATA);
		c->fw_req_busy = true;
		atomic_fetch_add(&b->to_host, 1u);
		int r = mbox_send_message(c->tx, &c->txmsg);
		if (r < 0) {
			c->fw_req_busy = false;
			bridge_error(b, "sending the firmware's request to the remote", r);
		}
	}
	pthread_mutex_unlock(&b->lock);
}

int ampl_emu_bridge_write_mbox(void *window, const struct ampl_emu_bridge_config *cfg)
{
	if (!window || !cfg || !cfg->num_chans || cfg->num_chans > AMPL_EMU_MBOX_CHANS)
		return -EINVAL;
	struct ampl_emu_mbox *a = (struct ampl_emu_mbox *)((char *)window + AMPL_EMU_MBOX_OFF);
	memset(a, 0, sizeof(*a));
	for (unsigned i = 0; i < cfg->num_chans; i++) {
		if (cfg->modes[i] != AMPL_EMU_CHAN_REQUEST && cfg->modes[i] != AMPL_EMU_CHAN_DOORBELL)
			return -EINVAL;
		a->chans[i].mode = cfg->modes[i];
	}
	a->num_chans = cfg->num_chans;
	struct ampl_emu_trace *t = (struct ampl_emu_trace *)((char *)window + AMPL_EMU_TRACE_OFF);
	memset(t, 0, sizeof(*t));
	atomic_thread_fence(memory_order_release);
	a->magic = AMPL_EMU_MBOX_MAGIC;
	t->magic = AMPL_EMU_TRACE_MAGIC;
	return 0;
}

static void release_chans(struct ampl_emu_bridge *b)
{
	for (unsigned i = 0; i < b->num; i++) {
		struct ampl_emu_bridge_chan *c = &b->ch[i];
		if (c->rx) {
			if (c->held)
				ampl_mbox_redeliver(c->rx); /* unanswered: pending again for whoever attaches next */
			mbox_free_channel(c->rx);
		}
		if (c->tx)
			mbox_free_channel(c->tx);
		c->rx = c->tx = NULL;
		c->held = false;
	}
}

int ampl_emu_bridge_start(struct ampl_emu_bridge *b, const struct ampl_emu_bridge_config *cfg,
			  struct ampl_emu_qemu *q)
{
	if (!b || !cfg || !cfg->soc || !cfg->agent || !q || !q->window || !cfg->num_chans ||
	    cfg->num_chans > AMPL_EMU_MBOX_CHANS)
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&b->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	int r = ampl_soc_open_flags(cfg->soc, cfg->soc_flags, &b->soc);
	if (r)
		goto fail_lock;
	struct ampl_soc_backing bk;
	if (ampl_soc_backing(b->soc, &bk) || strcmp(bk.path, q->shm_path) || bk.size < AMPL_EMU_BOOT_SIZE) {
		r = sim_error(-EINVAL, "SoC '%s' is not backed by the emulator's window %s (amplink soc create "
			      "--backing %s@BASE)", cfg->soc, q->shm_path, q->shm_path);
		goto fail_soc;
	}
	b->area = (struct ampl_emu_mbox *)((char *)bk.map + AMPL_EMU_MBOX_OFF);
	struct ampl_emu_trace *ta = (struct ampl_emu_trace *)((char *)bk.map + AMPL_EMU_TRACE_OFF);
	if (ta->magic == AMPL_EMU_TRACE_MAGIC) {
		b->trace.area = ta;
		b->trace.next = atomic_load(&ta->head);
		for (unsigned i = 0; i < AMPL_EMU_TRACE_OBJS; i++) {
			b->trace.obj[i] = AMPL_TRACE_NO_OBJ;
			for (unsigned e = 0; e < AMPL_EMU_TRACE_EVENTS; e++)
				b->trace.seen[i][e] = atomic_load(&ta->objs[i].count[e]);
		}
	}
	if (b->area->magic != AMPL_EMU_MBOX_MAGIC || b->area->num_chans != cfg->num_chans) {
		r = sim_error(-EINVAL, "the window's mailbox area was not written for this bridge "
			      "(ampl_emu_bridge_write_mbox before the emulator starts)");
		goto fail_soc;
	}
	struct ampl_agent_opts opts = { .mode = cfg->mode };
	r = ampl_agent_attach(b->soc, cfg->agent, &opts, &b->ag);
	if (r)
		goto fail_soc;
	b->num = cfg->num_chans;
	for (unsigned i = 0; i < b->num; i++) {
		struct ampl_emu_bridge_chan *c = &b->ch[i];
		struct mbox_controller *mb;
		c->b = b;
		c->idx = i;
		c->mode = cfg->modes[i];
		r = ampl_agent_mbox(b->ag, cfg->remotes[i], &mb);
		if (r)
			goto fail_chans;
		struct xlnx_ipi_mbox *x = xlnx_ipi_mbox_of(&mb->chans[XLNX_IPI_TX_CHAN]);
		if (!x || (c->mode == AMPL_EMU_CHAN_REQUEST && !x->buffered)) {
			r = sim_error(-EINVAL, "%s -> %s: %s", cfg->agent, cfg->remotes[i],
				      x ? "request mode needs a buffered IPI destination" : "not an IPI destination");
			goto fail_chans;
		}
		/* Doorbell mode: as ICMsg's instances set their ends (both ends of a pair must). */
		xlnx_ipi_mbox_set_signalling(x, c->mode == AMPL_EMU_CHAN_DOORBELL);
		c->cl.rx_callback = on_ipi_rx;
		c->cl.tx_done = on_ipi_tx_done;
		r = mbox_bind_client(&mb->chans[XLNX_IPI_TX_CHAN], &c->cl);
		if (r) {
			sim_error(r, "%s -> %s: the IPI channels are in use", cfg->agent, cfg->remotes[i]);
			goto fail_chans;
		}
		c->tx = &mb->chans[XLNX_IPI_TX_CHAN];
		r = mbox_bind_client(&mb->chans[XLNX_IPI_RX_CHAN], &c->cl);
		if (r) {
			sim_error(r, "%s -> %s: the IPI channels are in use", cfg->agent, cfg->remotes[i]);
			goto fail_chans;
		}
		c->rx = &mb->chans[XLNX_IPI_RX_CHAN];
		c->fw_seen = atomic_load(&b->area->chans[i].to_host.seq);
	}
	r = ampl_emu_link_start(&b->link, "/emu-bridge-doorbell", q, true);
	if (r) {
		sim_error(r, "the emulator doorbell: %s", strerror(-r));
		goto fail_chans;
	}
	b->ring_cl.rx_callback = on_fw_ring;
	r = mbox_bind_client(&b->link.chans[0], &b->ring_cl);
	if (!r)
		r = mbox_bind_client(&b->link.chans[1], &b->ring_cl);
	if (r) {
		sim_error(r, "the emulator doorbell's channels are in use");
		goto fail_link;
	}
	for (unsigned i = 0; i < b->num; i++)
		(void)ampl_mbox_rx_enable(b->ch[i].rx, true); /* requests that waited for us come in now */
	on_fw_ring(&b->ring_cl, NULL); /* and what the firmware sent before the doorbell was listening */
	return 0;
fail_link:
	mbox_free_channel(&b->link.chans[0]);
	mbox_free_channel(&b->link.chans[1]);
	ampl_emu_link_stop(&b->link);
fail_chans:
	release_chans(b);
	ampl_agent_detach(b->ag);
	b->ag = NULL;
fail_soc:
	ampl_soc_close(b->soc);
	b->soc = NULL;
fail_lock:
	pthread_mutex_destroy(&b->lock);
	return r;
}

int ampl_emu_bridge_fw_down(struct ampl_emu_bridge *b)
{
	if (!b || !b->soc || !b->ag || !b->link.q)
		return -EINVAL;
	/* The processor goes offline first: the other agents' sends to it fail from now on, their links go down
	 * (hotplug), and nothing of theirs reaches a firmware that is about to die. */
	int r = ampl_soc_agent_set_online(b->soc, ampl_agent_info(b->ag), false);
	if (r)
		return r;
	struct ampl_emu_qemu *q = b->link.q;
	if (q->pid > 0)
		kill(q->pid, SIGKILL); /* reaped by ampl_emu_link_restart() */
	return 0;
}

int ampl_emu_bridge_restart(struct ampl_emu_bridge *b, const struct ampl_emu_qemu_config *cfg, char *err,
			    size_t err_len)
{
	if (!b || !b->soc || !b->ag || !b->link.q || !cfg) {
		if (err && err_len)
			snprintf(err, err_len, "the bridge was not started");
		return -EINVAL;
	}
	const struct ampl_soc_agent *me = ampl_agent_info(b->ag);
	int r = ampl_soc_agent_online(b->soc, me) ? ampl_emu_bridge_fw_down(b) : 0;
	if (r) {
		if (err && err_len)
			snprintf(err, err_len, "taking %s offline: %s", me->name, ampl_soc_last_error());
		return r;
	}
	r = ampl_emu_link_restart(&b->link, cfg, err, err_len);
	if (r)
		return r; /* the processor stays offline; stop the bridge */
	pthread_mutex_lock(&b->lock);
	for (unsigned i = 0; i < b->num; i++) {
		struct ampl_emu_bridge_chan *c = &b->ch[i];
		if (c->mode != AMPL_EMU_CHAN_REQUEST)
			continue; /* doorbell mode: rings of the new boot still go out once the processor is back */
		if (c->held)
			ampl_mbox_redeliver(c->rx); /* released: the SoC discarded it at the offline, its sender told */
		c->held = false;
		/* The dead firmware's request is void; the new boot's count continues from the window's. */
		c->fw_seen = atomic_load(&b->area->chans[i].to_host.seq);
		c->fw_req_busy = false;
	}
	pthread_mutex_unlock(&b->lock);
	r = ampl_soc_agent_set_online(b->soc, me, true);
	if (r) {
		if (err && err_len)
			snprintf(err, err_len, "bringing %s back online: %s", me->name, ampl_soc_last_error());
		return r;
	}
	on_fw_ring(&b->ring_cl, NULL); /* what the new boot rang while the processor was offline */
	return 0;
}

void ampl_emu_bridge_stop(struct ampl_emu_bridge *b)
{
	if (!b || !b->soc)
		return;
	pthread_mutex_lock(&b->lock);
	merge_trace(b); /* what the firmware recorded after its last ring */
	b->stopping = true; /* from now on a callback still running on either side rings nothing */
	pthread_mutex_unlock(&b->lock);
	if (b->link.q) {
		mbox_free_channel(&b->link.chans[0]);
		mbox_free_channel(&b->link.chans[1]);
		ampl_emu_link_stop(&b->link);
	}
	release_chans(b);
	ampl_agent_detach(b->ag);
	ampl_soc_close(b->soc);
	b->ag = NULL;
	b->soc = NULL;
	pthread_mutex_destroy(&b->lock);
}
