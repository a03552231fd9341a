/*
 * Zephyr compatibility: <zephyr/device.h>. struct device, device_get_binding() and device_is_ready() are
 * amplink's struct ampl_device and functions under Zephyr's names (<amplink/compat/zephyr/device_names.h>); DEVICE_DT_GET(DT_NODELABEL(x)) comes from the generated devicetree
 * (<zephyr/devicetree.h>). Not covered: DEVICE_DEFINE / DEVICE_DT_DEFINE (use AMPL_DEVICE_DEFINE), DEVICE_DT_GET_ANY,
 * DEVICE_DT_GET_ONE, DEVICE_DT_INST_*, power management.
 */
#ifndef AMPLINK_COMPAT_ZEPHYR_DEVICE_H
#define AMPLINK_COMPAT_ZEPHYR_DEVICE_H

#include <amplink/compat/zephyr/device_names.h>
#ifndef AMPL_COMPAT_LIBRARY /* the library's own sources (src/compat) have no generated devicetree */
#include <zephyr/devicetree.h>
#endif

#if defined(__linux__) && !defined(AMPL_COMPAT_FIRMWARE) && !defined(AMPL_COMPAT_VIRTUAL_SOC)
#define AMPL_COMPAT_VIRTUAL_SOC 1
#endif

#ifdef __cplusplus
extern "C" {
#endif

#ifdef AMPL_COMPAT_VIRTUAL_SOC
/**
 * ampl_compat_device() - the device behind @dev: @dev itself when it is a real device; for a DEVICE_DT_GET()
 * stand-in, the attached agent's device of that node (an IPM device of an IPI destination, or the IPC service
 * instance of a zephyr,ipc-icmsg, amplink,ipc-multi or zephyr,ipc-openamp-static-vrings node, made on first use),
 * or NULL when the agent has none (the calls then answer -EINVAL, or false for device_is_ready()).
 * Context: thread for a stand-in (the first resolution of an IPC node builds its instance); any for a real device.
 */
const struct device *ampl_compat_device(const struct device *dev);
#undef device_is_ready
#define device_is_ready(dev) ampl_device_is_ready(ampl_compat_device(dev))
#define AMPL_COMPAT_DEV(dev) ampl_compat_device(dev)
#else
#define AMPL_COMPAT_DEV(dev) (dev)
#endif

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_COMPAT_ZEPHYR_DEVICE_H */
