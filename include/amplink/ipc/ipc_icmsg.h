/*
 * The ICMsg backend of the IPC service (Zephyr's subsys/ipc/ipc_service/backends/ipc_icmsg.c): an instance is a
 * `struct ampl_device` whose api is ipc_icmsg_backend, whose config is a `struct ipc_icmsg_config` and whose data is a
 * `struct ipc_icmsg_data`. One endpoint per instance: register = icmsg_open() with the endpoint's callbacks (copied
 * with their argument: a configuration on the caller's stack, as the seed documents' example has it, may be gone
 * once register returns), a second one -EBUSY; deregister = icmsg_close()
 * (without AMPL_IPC_ICMSG_DEREGISTER: -EIO); open/close_instance do nothing; the zero-copy operations are not offered (the front
 * end answers -EIO). Callback contexts: see <amplink/ipc/icmsg.h> (the mailbox RX callback context).
 *
 * Devicetree (as Zephyr's):
 *     ipc0: ipc-icmsg {
 *         compatible = "zephyr,ipc-icmsg";
 *         tx-region = <&tx_shm>; rx-region = <&rx_shm>;
 *         mboxes = <&mbox 0>, <&mbox 1>; mbox-names = "tx", "rx";
 *         dcache-alignment = <64>; unbound = "disable" | "enable" | "detect";
 *         amplink,max-packet-ext;           optional (icmsg_config.size_ext: see <amplink/ipc/icmsg.h>)
 *         amplink,peer-max-packet = <496>;  optional (icmsg_config.peer_rx_max_default)
 *     };
 * On the virtual SoC, ampl_agent_ipc_instance() (<amplink/host/soc.h>) builds the device from such a node.
 */
#ifndef AMPLINK_IPC_IPC_ICMSG_H
#define AMPLINK_IPC_IPC_ICMSG_H

#include <amplink/ipc/icmsg.h>
#include <amplink/ipc_service_backend.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Constant configuration of an instance: the link (regions, D, mode, channels, receive buffer). */
struct ipc_icmsg_config {
	struct icmsg_config icmsg;
};

/** Mutable state of an instance (zero it). Private. */
struct ipc_icmsg_data {
	struct icmsg im; /* open while the endpoint is registered */
};

/*
 * AMPL_IPC_ICMSG_DEREGISTER (compile-time option): 1, the default: an endpoint can be deregistered (icmsg_close()).
 * 0: it stays registered for the life of the firmware; ipc_service_deregister_endpoint() answers -EIO (the backend
 * has no such operation, as in Zephyr's front end) and the close path is left out of the image (`make cross`
 * reports it). The wire is the same.
 */
#ifndef AMPL_IPC_ICMSG_DEREGISTER
#define AMPL_IPC_ICMSG_DEREGISTER 1
#endif

extern const struct ipc_service_backend ipc_icmsg_backend;
AMPL_IPC_BACKEND_OPERATIONS(icmsg);
#if AMPL_IPC_ICMSG_DEREGISTER
#define IPC_ICMSG_DEREGISTER_OP .deregister_endpoint = ipc_icmsg_deregister_endpoint,
#else
#define IPC_ICMSG_DEREGISTER_OP
#endif
/* The backend's operations, as its table holds them (see AMPL_IPC_ONE_BACKEND in <amplink/ipc_service_backend.h>). */
#define IPC_ICMSG_OPS                                                                                              \
	{ .register_endpoint = ipc_icmsg_register_endpoint, IPC_ICMSG_DEREGISTER_OP.send = ipc_icmsg_send,           \
	  .is_bound = ipc_icmsg_is_bound }

/** ipc_icmsg_link() - the ICMsg link of an instance (for its state and the peer's limit), or NULL. */
struct icmsg *ipc_icmsg_link(const struct ampl_device *instance);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_IPC_IPC_ICMSG_H */
