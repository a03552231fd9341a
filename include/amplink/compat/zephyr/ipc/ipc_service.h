/*
 * Zephyr compatibility: <zephyr/ipc/ipc_service.h>. The IPC service API is amplink's (<amplink/ipc_service.h>:
 * Zephyr's names, signatures, callbacks and return codes, with the ICMsg, multi-endpoint and RPMsg backends); on
 * the virtual SoC the instance calls resolve a DEVICE_DT_GET() stand-in first (<zephyr/device.h>). Brings in
 * <zephyr/kernel.h> and <zephyr/device.h>. Not covered: the Kconfig options (CONFIG_IPC_SERVICE_*: the backend and
 * its sizes come from the devicetree node), ipc_service_get_tx_buffer() with a k_timeout_t made by K_TICKS.
 */
#ifndef AMPLINK_COMPAT_ZEPHYR_IPC_IPC_SERVICE_H
#define AMPLINK_COMPAT_ZEPHYR_IPC_IPC_SERVICE_H

#include <amplink/ipc_service.h>
#include <zephyr/device.h>
#include <zephyr/kernel.h>

#ifdef AMPL_COMPAT_VIRTUAL_SOC
#define ipc_service_open_instance(instance) ipc_service_open_instance(AMPL_COMPAT_DEV(instance))
#define ipc_service_close_instance(instance) ipc_service_close_instance(AMPL_COMPAT_DEV(instance))
#define ipc_service_register_endpoint(instance, ept, cfg)                                                        \
	ipc_service_register_endpoint(AMPL_COMPAT_DEV(instance), ept, cfg)
#endif

#endif /* AMPLINK_COMPAT_ZEPHYR_IPC_IPC_SERVICE_H */
