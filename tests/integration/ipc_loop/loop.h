/*
 * A loopback IPC backend (`amplink,ipc-loop`) built entirely from this folder: what a message sent on an endpoint
 * becomes is a copy in the node's shared-memory region, delivered back to the same endpoint. It exists to show
 * that a backend outside the library's folders registers itself with the library's registries (the devicetree
 * binding, the virtual SoC's IPC backends, `amplink dt gen`) through ampl_registries() in cmake/registry.cmake.
 */
#ifndef AMPL_TEST_IPC_LOOP_H
#define AMPL_TEST_IPC_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include <amplink/ipc_service_backend.h>
#include <amplink/mailbox_client.h>

#define LOOP_COMPATIBLE "amplink,ipc-loop"

/* The binding's part of the node (struct ampl_dt_ipc.part). */
struct loop_node {
	unsigned mem;          /* memory-region: index in the board's mems */
	uint64_t addr, size;   /* its reg */
	uint32_t tag;          /* amplink,loop-tag */
};

struct loop_config {
	volatile uint8_t *region; /* the node's memory-region, mapped */
	uint32_t size;
	uint32_t tag;
	const struct mbox_consumer *mc;
};

struct loop_data {
	bool open;
	struct ipc_ept_cfg ept;
	bool registered;
};

extern const struct ipc_service_backend loop_backend;

#endif /* AMPL_TEST_IPC_LOOP_H */
