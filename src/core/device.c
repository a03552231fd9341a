#include <amplink/bytes.h>
#include <amplink/device.h>

static struct device *registry_head;

static struct device *find(const char *name)
{
	for (struct device *d = registry_head; d; d = d->state->next)
		if (ampl_str_eq(d->name, name) || ampl_str_eq(d->label, name))
			return d;
	return NULL;
}

int ampl_device_register(struct device *dev)
{
	if (!dev || !dev->name || !dev->state)
		return -EINVAL;
	if (find(dev->name) || (dev->label && find(dev->label)))
		return -EEXIST;
	dev->state->next = registry_head;
	dev->state->initialized = false;
	registry_head = dev;
	dev->state->init_res = dev->init ? dev->init(dev) : 0;
	dev->state->initialized = true;
	return dev->state->init_res;
}

int ampl_device_unregister(struct device *dev)
{
	if (!dev || !dev->state)
		return -EINVAL;
	for (struct device **pp = &registry_head; *pp; pp = &(*pp)->state->next) {
		if (*pp == dev) {
			*pp = dev->state->next;
			dev->state->next = NULL;
			dev->state->initialized = false;
			return 0;
		}
	}
	return -ENOENT;
}

const struct device *device_get_binding(const char *name)
{
	return name ? find(name) : NULL;
}

const struct device *ampl_device_get_by_label(const char *label)
{
	if (!label)
		return NULL;
	for (struct device *d = registry_head; d; d = d->state->next)
		if (ampl_str_eq(d->label, label))
			return d;
	return NULL;
}

bool device_is_ready(const struct device *dev)
{
	return dev && dev->state && dev->state->initialized && dev->state->init_res == 0;
}

int ampl_device_foreach(int (*fn)(const struct device *dev, void *arg), void *arg)
{
	for (struct device *d = registry_head; d; d = d->state->next) {
		int r = fn(d, arg);
		if (r)
			return r;
	}
	return 0;
}
