/*
 * Zephyr compatibility: <zephyr/drivers/ipm.h>. The IPM API is amplink's (<amplink/ipm.h>: Zephyr's names,
 * signatures and return codes, for the Xilinx IPI and the NXP MU); on the virtual SoC each call resolves a
 * DEVICE_DT_GET() stand-in first (<zephyr/device.h>). Brings in <zephyr/kernel.h> and <zephyr/device.h>, as
 * Zephyr's header does. Not covered: CONFIG_IPM_* Kconfig options, ipm_register_callback() replacing a callback
 * while messages arrive (the driver's rule, see <amplink/ipm.h>).
 */
#ifndef AMPLINK_COMPAT_ZEPHYR_DRIVERS_IPM_H
#define AMPLINK_COMPAT_ZEPHYR_DRIVERS_IPM_H

#include <amplink/ipm.h>
#include <zephyr/device.h>
#include <zephyr/kernel.h>

#ifdef AMPL_COMPAT_VIRTUAL_SOC
#define ipm_send(dev, wait, id, data, size) ipm_send(AMPL_COMPAT_DEV(dev), wait, id, data, size)
#define ipm_register_callback(dev, cb, user_data) ipm_register_callback(AMPL_COMPAT_DEV(dev), cb, user_data)
#define ipm_max_data_size_get(dev) ipm_max_data_size_get(AMPL_COMPAT_DEV(dev))
#define ipm_max_id_val_get(dev) ipm_max_id_val_get(AMPL_COMPAT_DEV(dev))
#define ipm_set_enabled(dev, enable) ipm_set_enabled(AMPL_COMPAT_DEV(dev), enable)
#define ipm_complete(dev) ipm_complete(AMPL_COMPAT_DEV(dev))
#endif

#endif /* AMPLINK_COMPAT_ZEPHYR_DRIVERS_IPM_H */
