/*
 * The device registry: the list of registered devices, owned by this file. Its lock is a core spinlock
 * (ampl_spin_lock: on firmware the port masks interrupts around it), held only while the list or a device's
 * registry state is read or changed, never around an init hook or a caller's function, so registering, looking up
 * and unregistering are safe from several threads.
 */
#include <amplink/bytes.h>
#include <amplink/device.h>

static struct ampl_device *registry_head;
static atomic_flag registry_lock = ATOMIC_FLAG_INIT;

/* The device named or labelled @name. Under registry_lock. */
static struct ampl_device *find(const char *name)
{
	for (struct ampl_device *d = registry_head; d; d = d->state->next)
		if (ampl_str_eq(d->name, name) || ampl_str_eq(d->label, name))
			return d;
	return NULL;
}

int ampl_device_register(struct ampl_device *dev)
{
	if (!dev || !dev->name || !dev->state)
		return -EINVAL;
	unsigned key = ampl_spin_lock(&registry_lock);
	if (find(dev->name) || (dev->label && find(dev->label))) {
		ampl_spin_unlock(&registry_lock, key);
		return -EEXIST;
	}
	dev->state->next = registry_head;
	dev->state->initialized = false;
	registry_head = dev;
	ampl_spin_unlock(&registry_lock, key);
	int res = dev->init ? dev->init(dev) : 0;
	key = ampl_spin_lock(&registry_lock);
	dev->state->init_res = res;
	dev->state->initialized = true;
	ampl_spin_unlock(&registry_lock, key);
	return res;
}

int ampl_device_unregister(struct ampl_device *dev)
{
	if (!dev || !dev->state)
		return -EINVAL;
	int ret = -ENOENT;
	unsigned key = ampl_spin_lock(&registry_lock);
	for (struct ampl_device **pp = &registry_head; *pp; pp = &(*pp)->state->next) {
		if (*pp == dev) {
			*pp = dev->state->next;
			dev->state->next = NULL;
			dev->state->initialized = false;
			ret = 0;
			break;
		}
	}
	ampl_spin_unlock(&registry_lock, key);
	return ret;
}

const struct ampl_device *ampl_device_get_binding(const char *name)
{
	if (!name)
		return NULL;
	unsigned key = ampl_spin_lock(&registry_lock);
	const struct ampl_device *d = find(name);
	ampl_spin_unlock(&registry_lock, key);
	return d;
}

const struct ampl_device *ampl_device_get_by_label(const char *label)
{
	if (!label)
		return NULL;
	unsigned key = ampl_spin_lock(&registry_lock);
	struct ampl_device *d = registry_head;
	while (d && !ampl_str_eq(d->label, label))
		d = d->state->next;
	ampl_spin_unlock(&registry_lock, key);
	return d;
}

bool ampl_device_is_ready(const struct ampl_device *dev)
{
	if (!dev || !dev->state)
		return false;
	unsigned key = ampl_spin_lock(&registry_lock);
	bool ready = dev->state->initialized && dev->state->init_res == 0;
	ampl_spin_unlock(&registry_lock, key);
	return ready;
}

int ampl_device_foreach(int (*fn)(const struct ampl_device *dev, void *arg), void *arg)
{
	int r = 0;
	unsigned key = ampl_spin_lock(&registry_lock);
	for (struct ampl_device *d = registry_head; d && !r; d = d->state->next)
		r = fn(d, arg);
	ampl_spin_unlock(&registry_lock, key);
	return r;
}
