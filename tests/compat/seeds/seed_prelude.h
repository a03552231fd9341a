/*
 * Force-included before the seed documents' examples (the other .c files here, compiled as written): the IPC service example
 * registers `ept` without declaring it; its program (seed_ipc_main.c) defines it.
 */
#include <zephyr/ipc/ipc_service.h>
extern struct ipc_ept ept;
