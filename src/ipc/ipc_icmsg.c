/*
 * IPC service backend over ICMsg: one endpoint per instance, as Zephyr's ipc_icmsg.c. The endpoint's life is the
 * link's (icmsg_open() claims the link, icmsg_close() releases it); the front end calls these operations only on
 * an instance whose api is ipc_icmsg_backend.
 */
#include <amplink/ipc/ipc_icmsg.h>

struct icmsg *ipc_icmsg_link(const struct ampl_device *instance)
{
	return instance && instance->api == &ipc_icmsg_backend ? &((struct ipc_icmsg_data *)instance->data)->im
							       : NULL;
}

static struct icmsg *link_of(const struct ampl_device *instance)
{
	return &((struct ipc_icmsg_data *)instance->data)->im;
}

/* The link copies the endpoint's callbacks and their argument when it opens: the configuration may be gone once
 * this returns. The token is the link. */
int ipc_icmsg_register_endpoint(const struct ampl_device *instance, void **token, const struct ipc_ept_cfg *cfg)
{
	const struct ipc_icmsg_config *c = instance->config;
	struct icmsg *im = link_of(instance);
	*token = im;
	int ret = icmsg_open(im, &c->icmsg, &cfg->cb, cfg->priv);
	return ret == -EALREADY ? -EBUSY : ret; /* one endpoint per instance */
}

#if AMPL_IPC_ICMSG_DEREGISTER
int ipc_icmsg_deregister_endpoint(const struct ampl_device *instance, void *token)
{
	struct icmsg *im = link_of(instance);
	if (token != im)
		return -ENOENT;
	int ret = icmsg_close(im);
	return ret == -EALREADY ? -ENOENT : ret;
}
#endif

int ipc_icmsg_send(const struct ampl_device *instance, void *token, const void *data, size_t len)
{
	struct icmsg *im = link_of(instance);
	return token == im ? icmsg_send(im, data, len) : -ENOENT;
}

/* Sends go through: the link is bound. */
bool ipc_icmsg_is_bound(const struct ampl_device *instance, void *token)
{
	return token == link_of(instance) && icmsg_is_bound(token);
}

/* Empty when AMPL_IPC_ONE_BACKEND names this backend (see <amplink/ipc_service_backend.h>). */
#if AMPL_IPC_ONE_BACKEND == AMPL_IPC_ICMSG
const struct ipc_service_backend ipc_icmsg_backend;
#else
const struct ipc_service_backend ipc_icmsg_backend = IPC_ICMSG_OPS;
#endif
