/*
 * IPC service backend over RPMsg (see <amplink/ipc/ipc_rpmsg.h>): endpoints of the IPC service are RPMsg
 * endpoints bound through the name service; the doorbells are a pair of mailbox channels in signalling mode.
 *
 * The receive work of an instance (the RPMsg pass, which runs message and unbind callbacks, then the binding scan,
 * which runs bound()) is done by one context at a time (run_passes()): the doorbell context, or a registering
 * thread. So an instance's endpoint callbacks never overlap and keep the order of the state changes behind them:
 * a bound() decided before a link down cannot run after that link down's unbound(), nor a received() before the
 * bound() of its binding.
 */
#include <amplink/ipc/ipc_rpmsg.h>
#include <amplink/mailbox_controller.h>
#include <amplink/trace.h>

#define CLOSE_DRAIN_US 20000u

static struct ipc_rpmsg_data *data_of(const struct ampl_device *instance)
{
	return instance && instance->api == &ipc_rpmsg_backend ? (struct ipc_rpmsg_data *)instance->data : NULL;
}

static struct ipc_rpmsg_ept *ept_of(struct ipc_rpmsg_data *d, void *token)
{
	for (unsigned i = 0; i < IPC_RPMSG_MAX_EPT; i++)
		if (token == &d->ept[i] && atomic_load(&d->ept[i].used))
			return &d->ept[i];
	return NULL;
}

/* The instance's data and the endpoint of @token: 0, -EINVAL (not an RPMsg instance) or -ENOENT (not registered). */
static int resolve(const struct ampl_device *instance, void *token, struct ipc_rpmsg_data **d, struct ipc_rpmsg_ept **e)
{
	*d = data_of(instance);
	if (!*d)
		return -EINVAL;
	*e = ept_of(*d, token);
	return *e ? 0 : -ENOENT;
}

/* The slot of e->held that holds @p (NULL: a free slot), or NULL (table lock held). */
static void **held_slot(struct ipc_rpmsg_ept *e, const void *p)
{
	for (unsigned i = 0; i < RPMSG_BUF_SLOTS; i++)
		if (e->held[i] == p)
			return &e->held[i];
	return NULL;
}

struct rpmsg_device *ipc_rpmsg_device(const struct ampl_device *instance)
{
	struct ipc_rpmsg_data *d = data_of(instance);
	return d && atomic_load(&d->open) ? &d->rdev : NULL;
}

/* ---- doorbells ---- */

/* The RPMsg device's notify hook: ring the peer (any notify id: the peer processes everything on a doorbell). */
static void ring(void *priv, uint32_t notifyid)
{
	(void)notifyid;
	struct ipc_rpmsg_data *d = priv;
	unsigned key = ampl_spin_lock(&d->tx_lock);
	(void)ampl_ipc_link_ring(&d->link);
	ampl_spin_unlock(&d->tx_lock, key);
}

/*
 * Pin @e if it is registered and not being registered or deregistered: deregister_ept() waits until it is
 * unpinned (atomic_fetch_sub(&e->busy, 1)), so its configuration stays valid while a pinned callback runs.
 */
static bool pin(struct ipc_rpmsg_data *d, struct ipc_rpmsg_ept *e)
{
	unsigned key = ampl_spin_lock(&d->lock);
	bool ok = atomic_load(&e->used) && !atomic_load(&e->closing);
	if (ok)
		atomic_fetch_add(&e->busy, 1);
	ampl_spin_unlock(&d->lock, key);
	return ok;
}

static void report(struct ipc_rpmsg_data *d, const char *msg)
{
	const struct ipc_rpmsg_config *cfg = d->dev->config;
	if (cfg->error) {
		cfg->error(d->dev, msg);
		return;
	}
	for (unsigned i = 0; i < IPC_RPMSG_MAX_EPT; i++) {
		struct ipc_rpmsg_ept *e = &d->ept[i];
		if (!pin(d, e))
			continue; /* not registered, or its deregistration runs: no callback of it after that */
		if (e->cfg->cb.error)
			e->cfg->cb.error(msg, e->cfg->priv);
		atomic_fetch_sub(&e->busy, 1);
	}
}

static void on_error(struct rpmsg_device *rdev, const char *msg)
{
	report(AMPL_CONTAINER_OF(rdev, struct ipc_rpmsg_data, rdev), msg);
}

/* ---- binding ---- */

/* Bind @e if it knows its peer's address now (RX context, or the registering thread before any doorbell). */
/* Host: tell a peer that does not listen to announcements (Zephyr's static vrings, Linux) our address. */
static void send_hello(struct ipc_rpmsg_ept *e)
{
	if (e->d->vcfg.role == RPMSG_HOST && atomic_load(&e->bound) && !atomic_exchange(&e->hello_sent, true) &&
	    rpmsg_trysend(&e->ep, "", 0) != 0)
		atomic_store(&e->hello_sent, false); /* no buffer now: retried at the next doorbell */
}

static void try_bind(struct ipc_rpmsg_ept *e)
{
	if (!atomic_load(&e->used) || !is_rpmsg_ept_ready(&e->ep) || atomic_exchange(&e->bound, true))
		return;
	send_hello(e);
	if (e->cfg->cb.bound)
		e->cfg->cb.bound(e->cfg->priv);
}

/*
 * Bind what can be bound (in run_passes() only, after the RPMsg pass). An endpoint is touched only while it is
 * pinned, so that deregister_ept() can wait for this scan instead of destroying the endpoint under it.
 */
static void sync_bindings(struct ipc_rpmsg_data *d)
{
	for (unsigned i = 0; i < IPC_RPMSG_MAX_EPT; i++) {
		struct ipc_rpmsg_ept *e = &d->ept[i];
		if (!pin(d, e))
			continue;
		try_bind(e);
		send_hello(e);
		atomic_fetch_sub(&e->busy, 1);
	}
}

static void on_unbind(struct rpmsg_endpoint *ep)
{
	struct ipc_rpmsg_ept *e = AMPL_CONTAINER_OF(ep, struct ipc_rpmsg_ept, ep);
	atomic_store(&e->hello_sent, false);
	if (atomic_exchange(&e->bound, false) && e->cfg->cb.unbound)
		e->cfg->cb.unbound(e->cfg->priv);
}

static int on_message(struct rpmsg_endpoint *ep, void *data, size_t len, uint32_t src, void *priv)
{
	(void)src;
	(void)priv;
	struct ipc_rpmsg_ept *e = AMPL_CONTAINER_OF(ep, struct ipc_rpmsg_ept, ep);
	try_bind(e); /* the first message binds an endpoint whose peer does not announce */
	if (len == 0 || !atomic_load(&e->bound))
		return RPMSG_SUCCESS; /* the bind message */
	struct ipc_rpmsg_data *d = e->d;
	d->rx_cur = data;
	d->rx_cur_held = false;
	AMPL_TRACE(AMPL_EV_RPMSG_RX, d, len);
	if (e->cfg->cb.received)
		e->cfg->cb.received(data, len, e->cfg->priv);
	d->rx_cur = NULL;
	return RPMSG_SUCCESS;
}

/*
 * The receive work: RPMsg passes (peer_lost first when the transport reported the peer offline) and binding scans,
 * until no more is asked for. A call that finds another context doing it only asks for one more round and returns
 * (that context loops, and looks again after it lets go), so no context ever waits for another: the doorbell
 * context can be an interrupt that preempted a registering thread.
 */
static void run_passes(struct ipc_rpmsg_data *d)
{
	atomic_store(&d->pass_due, true);
	while (!atomic_exchange(&d->pass_busy, true)) {
		while (atomic_exchange(&d->pass_due, false)) {
			if (atomic_exchange(&d->lost_due, false))
				rpmsg_virtio_peer_lost(&d->rdev);
			else
				rpmsg_virtio_notified(&d->rdev);
			sync_bindings(d);
		}
		atomic_store(&d->pass_busy, false);
		if (!atomic_load(&d->pass_due))
			break; /* else asked for while we let go, and nobody took it yet */
	}
}

#if AMPL_IPC_LINK_MBOX
static void on_doorbell(struct mbox_client *cl, void *mssg)
{
	struct ipc_rpmsg_data *d = AMPL_CONTAINER_OF(cl, struct ipc_rpmsg_data, link.cl_rx);
	(void)mssg;
	if (!atomic_load(&d->open))
		return; /* the open path polls once after init: nothing is lost */
	run_passes(d);
}
#endif

int ipc_rpmsg_poll(const struct ampl_device *instance)
{
	struct ipc_rpmsg_data *d = data_of(instance);
	if (!d)
		return -EINVAL;
	if (atomic_load(&d->open))
		run_passes(d);
	return 0;
}

#if AMPL_IPC_LINK_MBOX
/* The transport saw the peer go offline (peer_lost at the next round) or come back (ring it). */
static void on_link_state(struct mbox_client *cl, bool online)
{
	struct ipc_rpmsg_data *d = AMPL_CONTAINER_OF(ampl_ipc_link_state(cl), struct ipc_rpmsg_data, link);
	if (!atomic_load(&d->open))
		return;
	if (!online)
		atomic_store(&d->lost_due, true);
	else
		ring(d, RPMSG_NOTIFYID_VDEV);
	run_passes(d);
}
#endif

/* ---- instance ---- */


int ipc_rpmsg_open_instance(const struct ampl_device *instance)
{
	struct ipc_rpmsg_data *d = data_of(instance);
	const struct ipc_rpmsg_config *cfg = instance ? instance->config : NULL;
	if (!d || !cfg || !cfg->shm)
		return -EINVAL;
	if (!ampl_ipc_link_configured(cfg->doorbell, cfg->mbox_node, cfg->tx_chan, cfg->rx_chan))
		return -EINVAL;
	if (cfg->role != RPMSG_HOST && cfg->role != RPMSG_REMOTE)
		return -EINVAL;
	if (atomic_load(&d->open))
		return -EALREADY;
	d->dev = instance;
	ampl_memset(&d->rdev, 0, sizeof(d->rdev));
	ampl_memset(d->ns_table, 0, sizeof(d->ns_table));
	atomic_flag_clear(&d->lock);
	atomic_flag_clear(&d->tx_lock);
	atomic_store(&d->pass_busy, false);
	atomic_store(&d->pass_due, false);
	atomic_store(&d->lost_due, false);
	d->vcfg = (struct rpmsg_virtio_config){
		.role = cfg->role,
		.shm = cfg->shm,
		.shm_size = cfg->shm_size,
		.da_base = cfg->da_base,
		.vring_num = cfg->vring_num,
		.vring_align = cfg->vring_align,
		.h2r_buf_size = cfg->h2r_buf_size,
		.r2h_buf_size = cfg->r2h_buf_size,
		.host_announce = true,
		.notify = ring,
		.notify_priv = d,
		.error = on_error,
		.ns_table = d->ns_table,
		.ns_table_len = IPC_RPMSG_NS_TABLE,
		.polled = cfg->polled,
		.priv = d,
	};
	int err = ampl_ipc_link_open(&d->link, &d->tx_lock, cfg->doorbell, cfg->mbox_node, cfg->tx_chan, cfg->rx_chan,
				     AMPL_IPC_LINK_CB(on_doorbell), AMPL_IPC_LINK_CB(on_link_state));
	if (err)
		return err;
	if (rpmsg_virtio_init(&d->rdev, &d->vcfg)) {
		ampl_ipc_link_stop(&d->link);
		ampl_ipc_link_close(&d->link, &d->tx_lock, 0);
		return -EINVAL; /* the region cannot hold the layout */
	}
	atomic_store(&d->open, 1);
	run_passes(d); /* a doorbell that came before `open` was set */
	return 0;
}

int ipc_rpmsg_close_instance(const struct ampl_device *instance)
{
	struct ipc_rpmsg_data *d = data_of(instance);
	if (!d)
		return -EINVAL;
	if (!atomic_load(&d->open))
		return -EALREADY;
	for (unsigned i = 0; i < IPC_RPMSG_MAX_EPT; i++)
		if (atomic_load(&d->ept[i].used))
			return -EBUSY;
	atomic_store(&d->open, 0);
	ampl_ipc_link_stop(&d->link); /* waits for a running RX callback */
	rpmsg_virtio_deinit(&d->rdev); /* tells the peer, and rings it */
	/* Let the doorbell reach the peer before the channel goes (a queued one would be cancelled). */
	ampl_ipc_link_close(&d->link, &d->tx_lock, CLOSE_DRAIN_US);
	return 0;
}

/* ---- endpoints ---- */

static int register_at(const struct ampl_device *instance, void **token, const struct ipc_ept_cfg *cfg, uint32_t src,
		       uint32_t dst)
{
	struct ipc_rpmsg_data *d = data_of(instance);
	if (!d || !cfg || !token || !cfg->name || !cfg->name[0] || src == RPMSG_NS_EPT_ADDR || dst == RPMSG_NS_EPT_ADDR)
		return -EINVAL;
	if (!atomic_load(&d->open))
		return -EBUSY; /* open the instance first */
	if (__builtin_strlen(cfg->name) >= RPMSG_NAME_SIZE)
		return -EINVAL;
	unsigned key = ampl_spin_lock(&d->lock);
	struct ipc_rpmsg_ept *e = NULL;
	for (unsigned i = 0; i < IPC_RPMSG_MAX_EPT; i++) {
		struct ipc_rpmsg_ept *x = &d->ept[i];
		if (atomic_load(&x->used)) {
			if (!__builtin_strcmp(x->cfg->name, cfg->name)) {
				ampl_spin_unlock(&d->lock, key);
				return -EALREADY;
			}
		} else if (!e) {
			e = x;
		}
	}
	if (!e) {
		ampl_spin_unlock(&d->lock, key);
		return -EBUSY; /* all IPC_RPMSG_MAX_EPT slots in use */
	}
	ampl_memset(e, 0, sizeof(*e)); /* a free slot is never pinned: nothing else touches it now */
	e->cfg = cfg;
	e->d = d;
	atomic_store(&e->closing, true); /* pinned only once the RPMsg endpoint exists */
	atomic_store(&e->used, true);
	ampl_spin_unlock(&d->lock, key);
	/* The token is set before the endpoint exists: bound() and received() may run before this returns. */
	*token = e;
	int r = rpmsg_create_ept(&e->ep, &d->rdev, cfg->name, src, dst, on_message, on_unbind);
	key = ampl_spin_lock(&d->lock);
	if (r)
		atomic_store(&e->used, false);
	else
		atomic_store(&e->closing, false);
	ampl_spin_unlock(&d->lock, key);
	if (r)
		return r == RPMSG_ERR_ADDR ? -EBUSY : -EINVAL;
	/* A remembered announcement binds at once (here, or in the doorbell context if it is running passes now);
	 * the doorbell context binds the rest. */
	run_passes(d);
	return 0;
}

int ipc_rpmsg_register_endpoint(const struct ampl_device *instance, void **token, const struct ipc_ept_cfg *cfg)
{
	return register_at(instance, token, cfg, RPMSG_ADDR_ANY, RPMSG_ADDR_ANY);
}

int ipc_rpmsg_register_endpoint_at(const struct ampl_device *instance, struct ipc_ept *ept, const struct ipc_ept_cfg *cfg,
				   uint32_t src, uint32_t dst)
{
	if (!instance || !ept || !cfg)
		return -EINVAL;
	if (!data_of(instance))
		return -ENOTSUP; /* another backend: endpoints without addresses */
	ept->instance = instance;
	int r = register_at(instance, &ept->token, cfg, src, dst);
	if (r)
		ept->instance = NULL;
	return r;
}

int ipc_rpmsg_deregister_endpoint(const struct ampl_device *instance, void *token)
{
	struct ipc_rpmsg_data *d;
	struct ipc_rpmsg_ept *e;
	int err = resolve(instance, token, &d, &e);
	if (err)
		return err;
	unsigned key = ampl_spin_lock(&d->lock);
	atomic_store(&e->closing, true); /* no new scan pins it */
	ampl_spin_unlock(&d->lock, key);
	while (atomic_load(&e->busy))
		ampl_cpu_relax(); /* a scan that pinned it finishes (callbacks must not deregister) */
	key = ampl_spin_lock(&d->lock);
	void *tx = e->tx_buf;
	e->tx_buf = NULL;
	void *held[RPMSG_BUF_SLOTS];
	ampl_memcpy(held, e->held, sizeof(held));
	ampl_memset(e->held, 0, sizeof(e->held));
	ampl_spin_unlock(&d->lock, key);
	if (tx)
		(void)rpmsg_release_tx_buffer(&e->ep, tx);
	for (unsigned i = 0; i < RPMSG_BUF_SLOTS; i++)
		if (held[i])
			(void)rpmsg_release_rx_buffer(&e->ep, held[i]);
	rpmsg_destroy_ept(&e->ep); /* NS DESTROY: the peer's unbound(); no callback of ours runs after it */
	key = ampl_spin_lock(&d->lock);
	atomic_store(&e->bound, false);
	atomic_store(&e->used, false);
	ampl_spin_unlock(&d->lock, key);
	return 0;
}

static int map_send_error(int r)
{
	switch (r) {
	case RPMSG_ERR_NO_BUFF:
		return -ENOMEM;
	case RPMSG_ERR_BUFF_SIZE:
		return -EMSGSIZE;
	case RPMSG_ERR_DEV_STATE:
	case RPMSG_ERR_ADDR:
		return -EBUSY;
	default:
		return r < 0 ? -EINVAL : r;
	}
}

int ipc_rpmsg_send(const struct ampl_device *instance, void *token, const void *data, size_t len)
{
	struct ipc_rpmsg_data *d;
	struct ipc_rpmsg_ept *e;
	int err = resolve(instance, token, &d, &e);
	if (err)
		return err;
	if (!data || len == 0)
		return -EBADMSG;
	if (!atomic_load(&e->bound))
		return -EBUSY;
	if (len > 0xFFFFu)
		return -EMSGSIZE;
	return map_send_error(rpmsg_trysend(&e->ep, data, (int)len));
}

/* Sends go through: the endpoint is bound (as send() checks). */
bool ipc_rpmsg_is_bound(const struct ampl_device *instance, void *token)
{
	struct ipc_rpmsg_data *d;
	struct ipc_rpmsg_ept *e;
	return !resolve(instance, token, &d, &e) && atomic_load(&e->bound);
}

int ipc_rpmsg_get_tx_buffer_size(const struct ampl_device *instance, void *token)
{
	struct ipc_rpmsg_data *d;
	struct ipc_rpmsg_ept *e;
	int err = resolve(instance, token, &d, &e);
	if (err)
		return err;
	int r = rpmsg_get_tx_buffer_size(&e->ep);
	return r < 0 ? -EBUSY : r;
}

int ipc_rpmsg_get_tx_buffer(const struct ampl_device *instance, void *token, void **data, uint32_t *size, ampl_timeout_t wait)
{
	if (!data || !size)
		return -EINVAL;
	struct ipc_rpmsg_data *d;
	struct ipc_rpmsg_ept *e;
	int err = resolve(instance, token, &d, &e);
	if (err)
		return err;
	if (!atomic_load(&e->bound))
		return -EBUSY;
	if (atomic_load_explicit(&e->tx_buf, memory_order_relaxed))
		return -EALREADY;
	uint32_t timeout_ms = wait.us < 0 ? UINT32_MAX : (uint32_t)((wait.us + 999) / 1000);
	uint32_t got = 0;
	void *buf;
	/* The size test, the wait and the reservation under one hold of the device's lock. */
	int r = rpmsg_reserve_tx_buffer(&e->ep, *size, timeout_ms, &buf, &got);
	if (r == RPMSG_ERR_BUFF_SIZE) {
		*size = got;
		return -ENOMEM;
	}
	if (r)
		return r != RPMSG_ERR_DEV_STATE && rpmsg_virtio_link_up(&d->rdev) ? -ENOBUFS : -EBUSY;
	unsigned key = ampl_spin_lock(&d->lock);
	if (e->tx_buf) { /* another thread of this endpoint won the race */
		ampl_spin_unlock(&d->lock, key);
		(void)rpmsg_release_tx_buffer(&e->ep, buf);
		return -EALREADY;
	}
	e->tx_buf = buf;
	e->tx_cap = got;
	e->tx_dropped = NULL;
	ampl_spin_unlock(&d->lock, key);
	*data = buf;
	*size = got;
	return 0;
}

int ipc_rpmsg_drop_tx_buffer(const struct ampl_device *instance, void *token, const void *data)
{
	struct ipc_rpmsg_data *d;
	struct ipc_rpmsg_ept *e;
	int err = resolve(instance, token, &d, &e);
	if (err)
		return err;
	unsigned key = ampl_spin_lock(&d->lock);
	int r;
	if (data && data == e->tx_buf) {
		e->tx_buf = NULL;
		e->tx_dropped = data;
		r = 0;
	} else {
		r = data && data == e->tx_dropped ? -EALREADY : -ENXIO;
	}
	ampl_spin_unlock(&d->lock, key);
	if (!r)
		(void)rpmsg_release_tx_buffer(&e->ep, (void *)(uintptr_t)data);
	return r;
}

int ipc_rpmsg_send_nocopy(const struct ampl_device *instance, void *token, const void *data, size_t len)
{
	struct ipc_rpmsg_data *d;
	struct ipc_rpmsg_ept *e;
	int err = resolve(instance, token, &d, &e);
	if (err)
		return err;
	unsigned key = ampl_spin_lock(&d->lock);
	int r = 0;
	if (!data || data != e->tx_buf)
		r = -ENXIO;
	else if (len == 0 || len > e->tx_cap)
		r = -EBADMSG;
	else if (!atomic_load(&e->bound))
		r = -EBUSY;
	else
		e->tx_buf = NULL; /* ours to send now: no second send or drop of it */
	ampl_spin_unlock(&d->lock, key);
	if (r)
		return r;
	r = rpmsg_send_nocopy(&e->ep, data, (int)len);
	if (r == (int)len)
		return r;
	if (r == RPMSG_ERR_ADDR) { /* not bound after all: the buffer stays the caller's */
		key = ampl_spin_lock(&d->lock);
		e->tx_buf = (void *)(uintptr_t)data;
		ampl_spin_unlock(&d->lock, key);
	}
	return map_send_error(r);
}

int ipc_rpmsg_hold_rx_buffer(const struct ampl_device *instance, void *token, void *data)
{
	struct ipc_rpmsg_data *d;
	struct ipc_rpmsg_ept *e;
	int err = resolve(instance, token, &d, &e);
	if (err)
		return err;
	unsigned key = ampl_spin_lock(&d->lock);
	bool held = data && held_slot(e, data);
	ampl_spin_unlock(&d->lock, key);
	if (held)
		return -EALREADY;
	if (!data || data != d->rx_cur)
		return -EINVAL; /* only the buffer being delivered, inside received() */
	int r = rpmsg_hold_rx_buffer(&e->ep, data);
	if (r == RPMSG_ERR_NO_MEM)
		return -ENOMEM;
	if (r)
		return -EINVAL;
	key = ampl_spin_lock(&d->lock);
	void **slot = held_slot(e, NULL); /* the core refuses more than RPMSG_BUF_SLOTS holds: one is free */
	if (slot)
		*slot = data;
	ampl_spin_unlock(&d->lock, key);
	return 0;
}

int ipc_rpmsg_release_rx_buffer(const struct ampl_device *instance, void *token, void *data)
{
	struct ipc_rpmsg_data *d;
	struct ipc_rpmsg_ept *e;
	int err = resolve(instance, token, &d, &e);
	if (err)
		return err;
	unsigned key = ampl_spin_lock(&d->lock);
	void **slot = data ? held_slot(e, data) : NULL;
	bool found = slot != NULL;
	if (slot)
		*slot = NULL;
	ampl_spin_unlock(&d->lock, key);
	if (!found)
		return -ENXIO;
	/* After a link down the buffer belongs to the old session: nothing to give back (the core says PARAM). */
	(void)rpmsg_release_rx_buffer(&e->ep, data);
	return 0;
}

/* Empty when AMPL_IPC_ONE_BACKEND names this backend (see <amplink/ipc_service_backend.h>). */
#if AMPL_IPC_ONE_BACKEND == AMPL_IPC_RPMSG
const struct ipc_service_backend ipc_rpmsg_backend;
#else
const struct ipc_service_backend ipc_rpmsg_backend = IPC_RPMSG_OPS;
#endif
