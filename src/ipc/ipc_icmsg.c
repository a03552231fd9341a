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

static int register_ept(const struct ampl_device *instance, void **token, const struct ipc_ept_cfg *cfg)
{
	struct ipc_icmsg_data *d = data_of(instance);
	const struct ipc_icmsg_config *c = instance ? instance->config : NULL;
	if (!d || !c || !cfg)
		return -EINVAL;
	if (atomic_flag_test_and_set(&d->busy))
		return -EBUSY;
	int ret;
	if (d->registered) {
		ret = -EBUSY; /* one endpoint per instance */
	} else {
		d->cb = cfg->cb;
		/* The token is set before bonding starts: received() may run (and the user call send) as soon as the
		 * peer answers, before this function returns. */
		*token = d;
		atomic_store(&d->registered, true);
		ret = icmsg_open(&d->im, &c->icmsg, &d->cb, cfg->priv);
		if (ret)
			atomic_store(&d->registered, false);
	}
	atomic_flag_clear(&d->busy);
	return ret;
}

static int deregister_ept(const struct ampl_device *instance, void *token)
{
	struct ipc_icmsg_data *d = data_of(instance);
	if (!d)
		return -EINVAL;
	if (token != d)
		return -ENOENT;
	if (atomic_flag_test_and_set(&d->busy))
		return -EBUSY;
	int ret = -ENOENT;
	if (d->registered) {
		ret = icmsg_close(&d->im);
		if (ret == -EALREADY)
			ret = 0;
		atomic_store(&d->registered, false);
	}
	atomic_flag_clear(&d->busy);
	return ret;
}

static int send(const struct ampl_device *instance, void *token, const void *data, size_t len)
{
	struct ipc_icmsg_data *d = data_of(instance);
	if (!d)
		return -EINVAL;
	if (token != d || !atomic_load(&d->registered))
		return -ENOENT;
	return icmsg_send(&d->im, data, len);
}

/* Sends go through: the endpoint is registered and the link bound. */
static bool is_bound(const struct ampl_device *instance, void *token)
{
	struct ipc_icmsg_data *d = data_of(instance);
	return d && token == d && atomic_load(&d->registered) && icmsg_is_bound(&d->im);
}

const struct ipc_service_backend ipc_icmsg_backend = {
	.register_endpoint = register_ept,
	.deregister_endpoint = deregister_ept,
	.send = send,
	.is_bound = is_bound,
};
