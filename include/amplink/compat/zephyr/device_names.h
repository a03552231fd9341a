/*
 * Zephyr compatibility: Zephyr's names of amplink's device model (<amplink/device.h>).
 *
 *   struct device          struct ampl_device (the same struct: `device` is a macro for `ampl_device`)
 *   struct device_state    struct ampl_device_state
 *   device_get_binding()   ampl_device_get_binding()
 *   device_is_ready()      ampl_device_is_ready()
 *
 * Code written for Zephyr includes <zephyr/device.h> (amplink/compat on the include path), which includes this
 * header. Include it directly to use Zephyr's names with amplink's own headers. `device` being a macro, every
 * identifier `device` after this header (a variable, a member) reads `ampl_device`: a translation unit that also
 * uses another library's `struct device` must not include it.
 */
#ifndef AMPLINK_COMPAT_ZEPHYR_DEVICE_NAMES_H
#define AMPLINK_COMPAT_ZEPHYR_DEVICE_NAMES_H

#include <amplink/device.h>

#define device ampl_device
#define device_state ampl_device_state
#define device_get_binding ampl_device_get_binding
#define device_is_ready ampl_device_is_ready

#endif /* AMPLINK_COMPAT_ZEPHYR_DEVICE_NAMES_H */
