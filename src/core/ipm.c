/* IPM front end: validates the handle and dispatches to the driver, as Zephyr's inline wrappers do. */
#include <amplink/ipm.h>

static const struct ipm_driver_api *api_of(const struct ampl_device *dev)
{
	return dev ? (const struct ipm_driver_api *)dev->api : NULL;
}

int ipm_send(const struct ampl_device *ipmdev, int wait, uint32_t id, const void *data, int size)
{
	const struct ipm_driver_api *api = api_of(ipmdev);
	if (!api)
		return -EINVAL;
	/* The driver records the send (AMPL_EV_IPM_SEND): it reads the trace flag once for all its events. */
	return api->send(ipmdev, wait, id, data, size);
}

void ipm_register_callback(const struct ampl_device *ipmdev, ipm_callback_t cb, void *user_data)
{
	const struct ipm_driver_api *api = api_of(ipmdev);
	if (api)
		api->register_callback(ipmdev, cb, user_data);
}

int ipm_max_data_size_get(const struct ampl_device *ipmdev)
{
	const struct ipm_driver_api *api = api_of(ipmdev);
	return api ? api->max_data_size_get(ipmdev) : -EINVAL;
}

uint32_t ipm_max_id_val_get(const struct ampl_device *ipmdev)
{
	const struct ipm_driver_api *api = api_of(ipmdev);
	return api ? api->max_id_val_get(ipmdev) : 0;
}

int ipm_set_enabled(const struct ampl_device *ipmdev, int enable)
{
	const struct ipm_driver_api *api = api_of(ipmdev);
	return api ? api->set_enabled(ipmdev, enable) : -EINVAL;
}

void ipm_complete(const struct ampl_device *ipmdev)
{
	const struct ipm_driver_api *api = api_of(ipmdev);
	if (api && api->complete)
		api->complete(ipmdev);
}
