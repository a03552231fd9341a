/*
 * IPC endpoints with a message queue, for `amplink mount` and `amplink ipc` (see ipc_ep.h). Uses the public API.
 *
 * Locking
 *   set->lock  (mutex)  instances and endpoint slots: create, destroy, open, release, foreach
 *   ep->qlock  (mutex)  the receive queue, the bound flag and the counters; taken by the backend's callbacks
 *                       (the agent's interrupt thread), never held while calling into the backend
 * The set lock is never held while a callback could wait for it: the callbacks take only ep->qlock. A slot's
 * struct ipc_ept stays in place while registered; an endpoint that is open cannot be destroyed, so reads, writes
 * and polls on an open endpoint need no lock of the set.
 */
#include "ipc_ep.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <amplink/board.h>
#include <amplink/host/dt.h>
#include <amplink/ipc/icmsg.h>
#include <amplink/ipc/ipc_icmsg.h>
#include <amplink/ipc/ipc_rpmsg.h>
#include <amplink/ipc_service.h>

struct msg {
	struct msg *next;
	size_t len;
	unsigned char data[];
};

struct ipcep {
	struct ipcep_inst *in;
	unsigned slot;
	bool used;
	char name[IPCEP_NAME_MAX];
	struct ipc_ept ept;
	struct ipc_ept_cfg cfg;
	pthread_mutex_t qlock;
	pthread_cond_t cond;
	struct msg *head, *tail;
	unsigned queued;
	bool bound, open;
	uint64_t received, nread, sent, dropped;
	uint32_t src, dst; /* RPMsg addresses it was created with (IPCEP_ADDR_ANY: by name) */
};

struct ipcep_inst {
	struct ipcep_set *set;
	unsigned idx;
	char name[64], label[64], backend[8], peer[32];
	const struct ampl_device *dev;
	bool opened;
	unsigned num_eps;
	struct ipcep eps[IPCEP_MAX_EP];
};

struct ipcep_set {
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	const struct ampl_soc_agent *self;
	unsigned queue_len;
	pthread_mutex_t lock;
	void (*notify)(struct ipcep *ep, void *arg);
	void *notify_arg;
	unsigned num;
	struct ipcep_inst inst[IPCEP_MAX_INST];
};

/* ---- callbacks (the agent's interrupt context) ---- */

static void notify(struct ipcep *ep)
{
	struct ipcep_set *s = ep->in->set;
	void (*fn)(struct ipcep *, void *) = s->notify;
	if (fn)
		fn(ep, s->notify_arg);
}

static void cb_bound(void *priv)
{
	struct ipcep *ep = priv;
	pthread_mutex_lock(&ep->qlock);
	ep->bound = true;
	pthread_cond_broadcast(&ep->cond);
	pthread_mutex_unlock(&ep->qlock);
	notify(ep);
}

static void cb_unbound(void *priv)
{
	struct ipcep *ep = priv;
	pthread_mutex_lock(&ep->qlock);
	ep->bound = false;
	pthread_cond_broadcast(&ep->cond);
	pthread_mutex_unlock(&ep->qlock);
	notify(ep);
}

static void cb_received(const void *data, size_t len, void *priv)
{
	struct ipcep *ep = priv;
	struct msg *m = malloc(sizeof(*m) + (len ? len : 1));
	pthread_mutex_lock(&ep->qlock);
	if (!m || ep->queued >= ep->in->set->queue_len) {
		ep->dropped++;
		pthread_mutex_unlock(&ep->qlock);
		free(m);
		return;
	}
	m->next = NULL;
	m->len = len;
	if (len)
		memcpy(m->data, data, len);
	if (ep->tail)
		ep->tail->next = m;
	else
		ep->head = m;
	ep->tail = m;
	ep->queued++;
	ep->received++;
	/* A message proves the peer's endpoint is there (RPMsg binds on the first message from a silent host). */
	ep->bound = true;
	pthread_cond_broadcast(&ep->cond);
	pthread_mutex_unlock(&ep->qlock);
	notify(ep);
}

static void cb_error(const char *message, void *priv)
{
	(void)message;
	(void)priv; /* counted by the backend; the endpoint's next send reports what it means */
}

/* ---- the set ---- */

static const char *backend_of(const struct ampl_dt_board *b, const char *name)
{
	if (ampl_dt_find_ipc_multi(b, name))
		return "multi";
	if (ampl_dt_find_rpmsg(b, name))
		return "rpmsg";
	return "icmsg";
}

static void add_inst(struct ipcep_set *s, const struct ampl_dt_board *b, const struct ampl_dt_node *node,
		     unsigned consumer, unsigned tx, unsigned rx)
{
	struct ampl_board_ipc_mbox m;
	if (ampl_board_ipc_mbox(b, consumer, tx, rx, s->self, &m, NULL) || s->num >= IPCEP_MAX_INST)
		return; /* another agent's instance */
	struct ipcep_inst *in = &s->inst[s->num];
	in->set = s;
	in->idx = s->num++;
	snprintf(in->name, sizeof(in->name), "%s", node->name);
	snprintf(in->label, sizeof(in->label), "%s", node->label);
	snprintf(in->backend, sizeof(in->backend), "%s", backend_of(b, node->name));
	/* The peer: the IPI destination's remote agent; another controller's node does not say. */
	snprintf(in->peer, sizeof(in->peer), "%s", m.ipi && m.ipi->remote ? m.ipi->remote->name : "?");
	for (unsigned k = 0; k < IPCEP_MAX_EP; k++) {
		struct ipcep *ep = &in->eps[k];
		ep->in = in;
		ep->slot = k;
		pthread_mutex_init(&ep->qlock, NULL);
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&ep->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
}

int ipcep_set_open(struct ampl_soc *soc, const struct ampl_soc_agent *self, struct ampl_agent *ag,
		   const struct ipcep_opts *opts, struct ipcep_set **out)
{
	if (!soc || !self || !out)
		return -EINVAL;
	struct ipcep_set *s = calloc(1, sizeof(*s));
	struct ampl_dt_board *b = calloc(1, sizeof(*b));
	if (!s || !b) {
		free(s);
		free(b);
		return -ENOMEM;
	}
	s->soc = soc;
	s->ag = ag;
	s->self = self;
	s->queue_len = opts && opts->queue_len ? opts->queue_len : IPCEP_QUEUE_LEN;
	pthread_mutex_init(&s->lock, NULL);
	size_t size = 0;
	const void *dtb = ampl_soc_dtb(soc, &size);
	if (dtb && size && !ampl_dt_load_blob(dtb, size, "the SoC's devicetree", ampl_soc_get_profile(soc), b, NULL)) {
		for (unsigned i = 0; i < b->num_ipcs; i++) /* every backend's instances, in one array */
			add_inst(s, b, &b->ipcs[i].node, b->ipcs[i].consumer, b->ipcs[i].tx_mbox, b->ipcs[i].rx_mbox);
	}
	free(b);
	*out = s;
	return 0;
}

static void drain(struct ipcep *ep)
{
	pthread_mutex_lock(&ep->qlock);
	while (ep->head) {
		struct msg *m = ep->head;
		ep->head = m->next;
		free(m);
	}
	ep->tail = NULL;
	ep->queued = 0;
	pthread_mutex_unlock(&ep->qlock);
}

/* Deregister slot @ep and close the instance after its last endpoint. Set lock held. */
static void destroy_locked(struct ipcep *ep)
{
	struct ipcep_inst *in = ep->in;
	if (ep->ept.instance)
		(void)ipc_service_deregister_endpoint(&ep->ept);
	drain(ep);
	pthread_mutex_lock(&ep->qlock);
	ep->used = false;
	ep->bound = false;
	ep->open = false;
	pthread_cond_broadcast(&ep->cond);
	pthread_mutex_unlock(&ep->qlock);
	if (--in->num_eps == 0 && in->opened) {
		(void)ipc_service_close_instance(in->dev);
		in->opened = false;
	}
}

void ipcep_set_close(struct ipcep_set *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->num; i++)
		for (unsigned k = 0; k < IPCEP_MAX_EP; k++)
			if (s->inst[i].eps[k].used)
				destroy_locked(&s->inst[i].eps[k]);
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < s->num; i++)
		for (unsigned k = 0; k < IPCEP_MAX_EP; k++) {
			pthread_mutex_destroy(&s->inst[i].eps[k].qlock);
			pthread_cond_destroy(&s->inst[i].eps[k].cond);
		}
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void ipcep_set_notify(struct ipcep_set *s, void (*fn)(struct ipcep *ep, void *arg), void *arg)
{
	s->notify_arg = arg;
	s->notify = fn;
}

unsigned ipcep_num_inst(const struct ipcep_set *s)
{
	return s ? s->num : 0;
}

struct ipcep_inst *ipcep_inst_at(struct ipcep_set *s, unsigned i)
{
	return s && i < s->num ? &s->inst[i] : NULL;
}

struct ipcep_inst *ipcep_inst_find(struct ipcep_set *s, const char *name)
{
	for (unsigned i = 0; s && name && i < s->num; i++)
		if (!strcmp(s->inst[i].name, name) || (s->inst[i].label[0] && !strcmp(s->inst[i].label, name)))
			return &s->inst[i];
	return NULL;
}

const char *ipcep_inst_name(const struct ipcep_inst *in)
{
	return in->name;
}

const char *ipcep_inst_label(const struct ipcep_inst *in)
{
	return in->label;
}

const char *ipcep_inst_backend(const struct ipcep_inst *in)
{
	return in->backend;
}

const char *ipcep_inst_peer(const struct ipcep_inst *in)
{
	return in->peer;
}

/* ---- endpoints ---- */

static bool valid_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (!n || n >= IPCEP_NAME_MAX || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] == '/' || (unsigned char)name[i] <= ' ' || name[i] == 0x7f)
			return false;
	return true;
}

static struct ipcep *find_locked(struct ipcep_inst *in, const char *name)
{
	for (unsigned k = 0; k < IPCEP_MAX_EP; k++)
		if (in->eps[k].used && !strcmp(in->eps[k].name, name))
			return &in->eps[k];
	return NULL;
}

int ipcep_parse_addr(const char *text, uint32_t *out)
{
	if (!text || !*text)
		return -EINVAL;
	if (!strcmp(text, "any") || !strcmp(text, "-1")) {
		*out = IPCEP_ADDR_ANY;
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 0);
	if (*text == '-' || *end || errno || v > 0xFFFFFFFFull)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

const char *ipcep_addr_text(uint32_t addr, char *buf)
{
	if (addr == IPCEP_ADDR_ANY)
		snprintf(buf, 12, "any");
	else
		snprintf(buf, 12, "%u", addr);
	return buf;
}

int ipcep_create(struct ipcep_inst *in, const char *name, uint32_t src, uint32_t dst, struct ipcep **out)
{
	if (!in || !valid_name(name) || !in->set->ag)
		return -EINVAL;
	struct ipcep_set *s = in->set;
	pthread_mutex_lock(&s->lock);
	int r = 0;
	struct ipcep *ep = NULL;
	if (find_locked(in, name))
		r = -EEXIST;
	for (unsigned k = 0; !r && !ep && k < IPCEP_MAX_EP; k++)
		if (!in->eps[k].used)
			ep = &in->eps[k];
	if (!r && !ep)
		r = -ENOSPC;
	if (!r && !in->dev)
		r = ampl_agent_ipc_instance(s->ag, in->name, &in->dev);
	if (!r && !in->opened) {
		r = ipc_service_open_instance(in->dev);
		if (r == -EALREADY)
			r = 0;
		if (!r)
			in->opened = true;
	}
	if (!r) {
		snprintf(ep->name, sizeof(ep->name), "%s", name);
		memset(&ep->ept, 0, sizeof(ep->ept));
		ep->cfg = (struct ipc_ept_cfg){ .name = ep->name,
						.cb = { .bound = cb_bound, .unbound = cb_unbound,
							.received = cb_received, .error = cb_error },
						.priv = ep };
		ep->bound = false;
		ep->open = false;
		ep->received = ep->nread = ep->sent = ep->dropped = 0;
		ep->used = true;
		ep->src = src;
		ep->dst = dst;
		in->num_eps++;
		if (src == IPCEP_ADDR_ANY && dst == IPCEP_ADDR_ANY)
			r = ipc_service_register_endpoint(in->dev, &ep->ept, &ep->cfg);
		else
			r = ipc_rpmsg_register_endpoint_at(in->dev, &ep->ept, &ep->cfg, src, dst);
		if (r) {
			ep->used = false;
			drain(ep);
			if (--in->num_eps == 0) {
				(void)ipc_service_close_instance(in->dev);
				in->opened = false;
			}
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (!r && out)
		*out = ep;
	return r;
}

int ipcep_destroy(struct ipcep_inst *in, const char *name)
{
	if (!in || !name)
		return -EINVAL;
	pthread_mutex_lock(&in->set->lock);
	struct ipcep *ep = find_locked(in, name);
	int r = !ep ? -ENOENT : ep->open ? -EBUSY : 0;
	if (!r)
		destroy_locked(ep);
	pthread_mutex_unlock(&in->set->lock);
	return r;
}

struct ipcep *ipcep_find(struct ipcep_inst *in, const char *name)
{
	if (!in || !name)
		return NULL;
	pthread_mutex_lock(&in->set->lock);
	struct ipcep *ep = find_locked(in, name);
	pthread_mutex_unlock(&in->set->lock);
	return ep;
}

unsigned ipcep_foreach(struct ipcep_inst *in, void (*fn)(struct ipcep *ep, void *arg), void *arg)
{
	unsigned n = 0;
	pthread_mutex_lock(&in->set->lock);
	for (unsigned k = 0; k < IPCEP_MAX_EP; k++)
		if (in->eps[k].used) {
			fn(&in->eps[k], arg);
			n++;
		}
	pthread_mutex_unlock(&in->set->lock);
	return n;
}

const char *ipcep_name(const struct ipcep *ep)
{
	return ep->name;
}

struct ipcep_inst *ipcep_inst_of(struct ipcep *ep)
{
	return ep->in;
}

unsigned ipcep_slot(const struct ipcep *ep)
{
	return ep->in->idx * IPCEP_MAX_EP + ep->slot;
}

int ipcep_open(struct ipcep *ep)
{
	pthread_mutex_lock(&ep->in->set->lock);
	pthread_mutex_lock(&ep->qlock);
	int r = !ep->used ? -ENOENT : ep->open ? -EBUSY : 0;
	if (!r)
		ep->open = true;
	pthread_mutex_unlock(&ep->qlock);
	pthread_mutex_unlock(&ep->in->set->lock);
	return r;
}

void ipcep_release(struct ipcep *ep)
{
	pthread_mutex_lock(&ep->in->set->lock);
	pthread_mutex_lock(&ep->qlock);
	ep->open = false;
	pthread_cond_broadcast(&ep->cond);
	pthread_mutex_unlock(&ep->qlock);
	pthread_mutex_unlock(&ep->in->set->lock);
}

/* The CLOCK_MONOTONIC time @ms from now. */
static struct timespec deadline(int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

static bool passed(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

enum wait_for { FOR_BOUND, FOR_BOUND_OR_CLOSED, FOR_MESSAGE_OR_CLOSED };

static bool waited(const struct ipcep *ep, enum wait_for what)
{
	switch (what) {
	case FOR_BOUND: return ep->bound || !ep->used;
	case FOR_BOUND_OR_CLOSED: return ep->bound || !ep->open;
	default: return ep->head || !ep->open;
	}
}

/* Wait on ep->cond (qlock held) until @what or the deadline @end (@ms 0: no wait, < 0: none); false on timeout. */
static bool wait_until(struct ipcep *ep, enum wait_for what, int ms, const struct timespec *end)
{
	while (!waited(ep, what)) {
		if (ms == 0)
			return false;
		if (ms < 0)
			pthread_cond_wait(&ep->cond, &ep->qlock);
		else if (pthread_cond_timedwait(&ep->cond, &ep->qlock, end) == ETIMEDOUT)
			return waited(ep, what);
	}
	return true;
}

int ipcep_wait_bound(struct ipcep *ep, int timeout_ms)
{
	struct timespec end = deadline(timeout_ms > 0 ? timeout_ms : 0);
	pthread_mutex_lock(&ep->qlock);
	bool ok = wait_until(ep, FOR_BOUND, timeout_ms, &end) && ep->bound;
	pthread_mutex_unlock(&ep->qlock);
	return ok ? 0 : -ETIMEDOUT;
}

ssize_t ipcep_write(struct ipcep *ep, const void *buf, size_t len, int timeout_ms)
{
	if (!ep || (!buf && len))
		return -EINVAL;
	if (!len)
		return -EBADMSG;
	if (len > INT32_MAX)
		return -EMSGSIZE;
	struct timespec end = deadline(timeout_ms > 0 ? timeout_ms : 0);
	pthread_mutex_lock(&ep->qlock);
	bool bound = ep->open && wait_until(ep, FOR_BOUND_OR_CLOSED, timeout_ms, &end) && ep->bound;
	bool open = ep->open;
	pthread_mutex_unlock(&ep->qlock);
	if (!open)
		return -EBADF;
	if (!bound)
		return -ENOTCONN;
	for (;;) {
		int r = ipc_service_send(&ep->ept, buf, len);
		if (r >= 0) {
			pthread_mutex_lock(&ep->qlock);
			ep->sent++;
			pthread_mutex_unlock(&ep->qlock);
			return r;
		}
		if (r == -EBUSY)
			return -ENOTCONN; /* not bound (any more) */
		if (r != -ENOMEM && r != -ENOBUFS)
			return r;
		/* No room in shared memory now: retry until the deadline. */
		pthread_mutex_lock(&ep->qlock);
		open = ep->open;
		pthread_mutex_unlock(&ep->qlock);
		if (!open)
			return -EBADF;
		if (timeout_ms == 0 || (timeout_ms > 0 && passed(&end)))
			return -EAGAIN;
		struct timespec nap = { 0, 200000L };
		nanosleep(&nap, NULL);
	}
}

ssize_t ipcep_read(struct ipcep *ep, void *buf, size_t len, int timeout_ms)
{
	if (!ep || (!buf && len))
		return -EINVAL;
	struct timespec end = deadline(timeout_ms > 0 ? timeout_ms : 0);
	pthread_mutex_lock(&ep->qlock);
	if (!ep->open) {
		pthread_mutex_unlock(&ep->qlock);
		return -EBADF;
	}
	bool got = wait_until(ep, FOR_MESSAGE_OR_CLOSED, timeout_ms, &end);
	ssize_t r;
	if (!ep->open)
		r = -EBADF;
	else if (!got || !ep->head)
		r = timeout_ms == 0 ? -EAGAIN : -ETIMEDOUT;
	else if (len < ep->head->len)
		r = -EMSGSIZE; /* kept: a larger buffer reads it */
	else {
		struct msg *m = ep->head;
		ep->head = m->next;
		if (!ep->head)
			ep->tail = NULL;
		ep->queued--;
		ep->nread++;
		memcpy(buf, m->data, m->len);
		r = (ssize_t)m->len;
		free(m);
	}
	pthread_mutex_unlock(&ep->qlock);
	return r;
}

ssize_t ipcep_next_len(struct ipcep *ep)
{
	pthread_mutex_lock(&ep->qlock);
	ssize_t r = ep->head ? (ssize_t)ep->head->len : -EAGAIN;
	pthread_mutex_unlock(&ep->qlock);
	return r;
}

unsigned ipcep_poll(struct ipcep *ep)
{
	pthread_mutex_lock(&ep->qlock);
	unsigned ev = (ep->head ? IPCEP_POLLIN : 0u) | (ep->bound ? IPCEP_POLLOUT : 0u);
	pthread_mutex_unlock(&ep->qlock);
	return ev;
}

static int max_of(struct ipcep *ep)
{
	if (!ep->ept.instance)
		return 0;
	int r = ipc_service_get_tx_buffer_size(&ep->ept);
	if (r > 0)
		return r;
	if (!strcmp(ep->in->backend, "icmsg")) {
		struct icmsg *im = ipc_icmsg_link(ep->in->dev);
		return im ? (int)icmsg_peer_max(im) : 0;
	}
	return 0;
}

void ipcep_stats(struct ipcep *ep, struct ipcep_stats *st)
{
	pthread_mutex_lock(&ep->qlock);
	st->received = ep->received;
	st->read = ep->nread;
	st->sent = ep->sent;
	st->dropped = ep->dropped;
	st->queued = ep->queued;
	st->bound = ep->bound;
	st->open = ep->open;
	st->addressed = ep->src != IPCEP_ADDR_ANY || ep->dst != IPCEP_ADDR_ANY;
	st->src = ep->src;
	st->dst = ep->dst;
	bool bound = ep->bound;
	pthread_mutex_unlock(&ep->qlock);
	st->max = bound ? max_of(ep) : 0;
}
