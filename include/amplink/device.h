/*
 * Devices: Zephyr's device model under amplink's names (struct ampl_device, ampl_device_get_binding(),
 * ampl_device_is_ready()). Zephyr's own names for the same type and functions come from the compatibility header
 * <amplink/compat/zephyr/device_names.h>, which amplink/compat's <zephyr/device.h> includes.
 *
 * A device is a constant configuration, a mutable state and an API table. Applications find devices by name or by
 * devicetree node label and pass `const struct ampl_device *` to the API (ipm_send() and friends). Devices can be
 * defined statically (AMPL_DEVICE_DEFINE, no heap) and registered once, or created at run time from devicetree by
 * the host tools.
 *
 * Lifetime: a registered device must stay valid until ampl_device_unregister(). The registry has its own lock in
 * the core (a spinlock; on firmware the port masks interrupts while it is held): devices can be registered, looked
 * up and unregistered from several threads. A device pointer a lookup returned stays the caller's to use until its
 * owner unregisters it.
 */
#ifndef AMPLINK_DEVICE_H
#define AMPLINK_DEVICE_H

#include <amplink/port.h>
#include <amplink/errno.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ampl_device;

/** Device initialisation hook, run once by ampl_device_init(); returns 0 or a negative errno. */
typedef int (*ampl_device_init_fn)(const struct ampl_device *dev);

/** Mutable per-device state owned by the registry, under its lock. Private. */
struct ampl_device_state {
	int init_res;      /* result of the init hook, valid once initialized */
	bool initialized;
	struct ampl_device *next; /* registry link */
};

/**
 * struct ampl_device - one device instance.
 * @name:   unique name (public, read-only); devicetree devices use the node name, e.g. "mailbox@ff9905c0"
 * @label:  devicetree node label or NULL (public, read-only), e.g. "ipi_apu_rpu0"
 * @api:    the subsystem's API table (struct ipm_driver_api for IPM devices)
 * @config: constant driver configuration
 * @data:   mutable driver data
 * @init:   optional init hook
 * @state:  registry state (private)
 */
struct ampl_device {
	const char *name;
	const char *label;
	const void *api;
	const void *config;
	void *data;
	ampl_device_init_fn init;
	struct ampl_device_state *state;
};

/**
 * AMPL_DEVICE_DEFINE() - define a device statically.
 * Defines `struct ampl_device sym` with its state; register it with ampl_device_register(&sym).
 */
#define AMPL_DEVICE_DEFINE(sym, name_, label_, init_, api_, config_, data_)                                   \
	static struct ampl_device_state sym##_state_;                                                               \
	struct ampl_device sym = { .name = (name_), .label = (label_), .api = (api_), .config = (config_),            \
			      .data = (data_), .init = (init_), .state = &sym##_state_ }

/**
 * ampl_device_register() - add a device to the registry and run its init hook.
 * Return: 0; -EINVAL (NULL device, name or state); -EEXIST (a device of that name or label is registered);
 *         or the init hook's error (the device stays registered but not ready).
 * Context: thread.
 */
int ampl_device_register(struct ampl_device *dev);

/**
 * ampl_device_unregister() - remove a device from the registry.
 * Return: 0; -EINVAL (NULL); -ENOENT (not registered). Context: thread.
 */
int ampl_device_unregister(struct ampl_device *dev);

/** ampl_device_get_binding() - the registered device with this name or label, or NULL. Context: thread. */
const struct ampl_device *ampl_device_get_binding(const char *name);

/** ampl_device_get_by_label() - the registered device with this devicetree node label, or NULL. */
const struct ampl_device *ampl_device_get_by_label(const char *label);

/** ampl_device_is_ready() - true if @dev is registered and its init hook succeeded. Context: any. */
bool ampl_device_is_ready(const struct ampl_device *dev);

/**
 * ampl_device_foreach() - call @fn on every registered device until it returns non-zero; returns that value.
 * @fn runs with the registry locked: it must not register, unregister or look up devices. Context: thread.
 */
int ampl_device_foreach(int (*fn)(const struct ampl_device *dev, void *arg), void *arg);

#ifdef __cplusplus
}
#endif


#endif /* AMPLINK_DEVICE_H */
