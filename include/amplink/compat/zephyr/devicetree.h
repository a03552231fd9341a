/*
 * Zephyr compatibility: <zephyr/devicetree.h>. The values come from the board's devicetree through
 * `amplink dt gen --agent AGENT board.dts -o devicetree_generated` (a devicetree_generated.h on the include path),
 * which writes Zephyr's access macros (DT_NODELABEL, DT_REG_ADDR, DT_REG_SIZE, DT_PROP, DT_IRQN, DEVICE_DT_GET,
 * ...) and the values behind them for the agent's nodes.
 *
 * Firmware compiles devicetree_generated.c as well: DEVICE_DT_GET(node) is then the node's static device.
 * On the virtual SoC the devices are made when the process attaches its agent, so DEVICE_DT_GET(node) is instead
 * a constant stand-in that names the node (its label, else its name); the compat headers' calls (ipm_*,
 * ipc_service_open_instance/close_instance/register_endpoint, device_is_ready) resolve it to the agent's device
 * on each call (ampl_compat_device()). A stand-in is valid where Zephyr's pointer is: at file scope for ever,
 * inside a function until the function returns (it is a compound literal); keep the pointer from a file-scope
 * initialiser, or the resolved one (ampl_compat_device()), not a function's. DT_REG_ADDR() is the SoC's address,
 * not one the process can dereference.
 */
#ifndef AMPLINK_COMPAT_ZEPHYR_DEVICETREE_H
#define AMPLINK_COMPAT_ZEPHYR_DEVICETREE_H

#include <stdint.h>

#include <amplink/compat/zephyr/device_names.h>

#if defined(__has_include)
#if !__has_include(<devicetree_generated.h>)
#error "devicetree_generated.h not found: amplink dt gen --agent AGENT BOARD.dts -o DIR/devicetree_generated; -I DIR"
#endif
#endif
#include <devicetree_generated.h>

#define DT_HAS_NODELABEL(label) 1 /* an unknown label fails at compile time instead */

#if defined(__linux__) && !defined(AMPL_COMPAT_FIRMWARE)
#ifndef AMPL_COMPAT_VIRTUAL_SOC
#define AMPL_COMPAT_VIRTUAL_SOC 1
#endif
#undef DEVICE_DT_GET
/* A stand-in device: no state (never registered), the node's label and name. */
#define AMPL_COMPAT_DT_DEVICE_(node_id)                                                                          \
	(&(const struct device){ .name = DT_CAT(node_id, _FULL_NAME), .label = DT_CAT(node_id, _LABEL) })
#define DEVICE_DT_GET(node_id) AMPL_COMPAT_DT_DEVICE_(node_id)
#endif

#endif /* AMPLINK_COMPAT_ZEPHYR_DEVICETREE_H */
