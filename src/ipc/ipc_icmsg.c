/*
 * IPC service backend over ICMsg: one endpoint per instance, as Zephyr's ipc_icmsg.c.
 */
#include <amplink/ipc/ipc_icmsg.h>

static struct ipc_icmsg_data *data_of(const struct ampl_device *instance)
{
	return instance && instance->api == &ipc_icmsg_backend ? (struct ipc_icmsg_data *)instance->data : NULL;
}

struct icmsg *ipc_icmsg_link(const struct ampl_device *instance)
{
	struct ipc_icmsg_data *d = data_of(instance);
	return d ? &d->im : NULL;
}

/*
 * The endpoint's life (d->registered): register and deregister move it with one compare-and-swap each, so that
 * they never overlap; send() and is_bound() read it. Sends go to the link from the start of the registration
 * (received() may run, and the user send, before register returns) to the end of the deregistration (the closed
 * link answers them).
 */
enum { EPT_FREE, EPT_OPENING, EPT_REGISTERED, EPT_CLOSING };

static int register_ept(const struct ampl_device *instance, void **token, const struct ipc_ept_cfg *cfg)
{
	struct ipc_icmsg_data *d = data_of(instance);
	const struct ipc_icmsg_config *c = instance ? instance->config : NULL;
	if (!d || !c || !cfg)
		return -EINVAL;
	int ept = EPT_FREE;
	if (!atomic_compare_exchange_strong(&d->registered, &ept, EPT_OPENING))
		return -EBUSY; /* one endpoint per instance */
	d->cb = cfg->cb;
	*token = d;
	int ret = icmsg_open(&d->im, &c->icmsg, &d->cb, cfg->priv);
	atomic_store(&d->registered, ret ? EPT_FREE : EPT_REGISTERED);
	return ret;
}

static int deregister_ept(const struct ampl_device *instance, void *token)
{
	struct ipc_icmsg_data *d = data_of(instance);
	if (!d)
		return -EINVAL;
	if (token != d)
		return -ENOENT;
	int ept = EPT_REGISTERED;
	if (!atomic_compare_exchange_strong(&d->registered, &ept, EPT_CLOSING))
		return ept == EPT_FREE ? -ENOENT : -EBUSY;
	int ret = icmsg_close(&d->im);
	atomic_store(&d->registered, EPT_FREE);
	return ret == -EALREADY ? 0 : ret;
}

static int send(const struct ampl_device *instance, void *token, const void *data, size_t len)
{
	struct ipc_icmsg_data *d = data_of(instance);
	if (!d)
		return -EINVAL;
	if (token != d || atomic_load(&d->registered) == EPT_FREE)
		return -ENOENT;
	return icmsg_send(&d->im, data, len);
}

/* Sends go through: the endpoint is registered and the link bound. */
static bool is_bound(const struct ampl_device *instance, void *token)
{
	struct ipc_icmsg_data *d = data_of(instance);
	return d && token == d && atomic_load(&d->registered) != EPT_FREE && icmsg_is_bound(&d->im);
}

const struct ipc_service_backend ipc_icmsg_backend = {
	.register_endpoint = register_ept,
	.deregister_endpoint = deregister_ept,
	.send = send,
	.is_bound = is_bound,
};
