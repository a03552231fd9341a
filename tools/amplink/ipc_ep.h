/*
 * IPC endpoints for `amplink mount` and `amplink ipc`: the IPC service instances of one agent (every
 * zephyr,ipc-icmsg, amplink,ipc-multi and zephyr,ipc-openamp-static-vrings node of the SoC's devicetree whose
 * mailbox is the agent's), and endpoints on them that read and write one message per call, in the spirit of
 * Linux's /dev/rpmsg_ctrlN (create an endpoint by name) and /dev/rpmsgN (one endpoint, one message per call).
 * Both commands use this code; the mount serves it as files.
 *
 *   set        one per attached agent: the instances, named by their devicetree node name ("ipc-icmsg-apu")
 *   instance   opened (ipc_service_open_instance()) when its first endpoint is created, closed again when its
 *              last endpoint is destroyed: an instance not in use leaves its mailbox to others
 *   endpoint   registered on the instance by name (it binds to the peer's endpoint of the same name); it keeps a
 *              receive queue of whole messages (opts.queue_len, default 64)
 *
 * Messages: a write sends the whole buffer as one message or fails; a read returns one whole message or fails.
 *   write  bytes (= @len); -EMSGSIZE (larger than the endpoint's maximum: nothing sent, never truncated); -ENOTCONN
 *          (the peer's endpoint is not bound: after waiting up to @timeout_ms for it); -EAGAIN (no room in shared
 *          memory within @timeout_ms; 0 = do not wait); -EBADMSG (len 0); -EBADF (not open); -ESHUTDOWN (the peer's
 *          processor is offline); other backend errors as ipc_service_send() returns them
 *   read   bytes; -EMSGSIZE (@len is smaller than the next message: the message stays queued, nothing is lost;
 *          ipcep_next_len() tells its size); -EAGAIN (queue empty, @timeout_ms 0); -ETIMEDOUT (queue empty after
 *          @timeout_ms > 0); -EBADF (not open)
 * A message that arrives while the queue is full is counted in `dropped` (the IPC service's received() cannot
 * push back); reading keeps the queue short.
 *
 * Contexts: thread. The receive side runs in the agent's interrupt context (its interrupt thread): attach the agent
 * with it. An endpoint is opened by one user at a time (a second open: -EBUSY) and cannot be destroyed while open.
 */
#ifndef AMPL_TOOLS_IPC_EP_H
#define AMPL_TOOLS_IPC_EP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <amplink/host/soc.h>

#define IPCEP_MAX_INST 24u /* instances per agent */
#define IPCEP_MAX_EP 8u    /* endpoints per instance */
#define IPCEP_NAME_MAX 32u /* endpoint name, with its terminating NUL */
#define IPCEP_QUEUE_LEN 64u

/** Readiness bits of ipcep_poll() (POLLIN / POLLOUT on Linux). */
#define IPCEP_POLLIN 0x1u  /* a message is queued */
#define IPCEP_POLLOUT 0x4u /* the peer's endpoint is bound: a write can send */

struct ipcep_set;
struct ipcep_inst;
struct ipcep;

struct ipcep_opts {
	unsigned queue_len; /* 0: IPCEP_QUEUE_LEN */
};

struct ipcep_stats {
	uint64_t received, read, sent, dropped;
	unsigned queued;
	bool bound, open;
	int max; /* largest message we can send now (0 while unbound or unknown) */
	bool addressed;    /* created with RPMsg addresses (ipcep_create() with @src or @dst not IPCEP_ADDR_ANY) */
	uint32_t src, dst; /* those addresses */
};

/* No RPMsg address given: the endpoint binds by name (RPMSG_ADDR_ANY). */
#define IPCEP_ADDR_ANY 0xFFFFFFFFu

/** ipcep_parse_addr() - an RPMsg address: decimal or 0x hex up to 0xffffffff, or -1 / "any" (IPCEP_ADDR_ANY).
 * Return: 0; -EINVAL (anything else). */
int ipcep_parse_addr(const char *text, uint32_t *out);
/** ipcep_addr_text() - @addr as ipcep_parse_addr() reads it ("any" or decimal) in @buf (12 bytes); returns @buf. */
const char *ipcep_addr_text(uint32_t addr, char *buf);

/**
 * ipcep_set_open() - the instances of agent @self on @soc. @ag: the attached agent (with its interrupt thread), or
 * NULL to list the instances only (ipcep_create() then answers -EINVAL). A SoC without a devicetree has none.
 * Return: 0; -EINVAL (NULL @soc, @self or @out); -ENOMEM.
 */
int ipcep_set_open(struct ampl_soc *soc, const struct ampl_soc_agent *self, struct ampl_agent *ag,
		   const struct ipcep_opts *opts, struct ipcep_set **out);
/** Destroy every endpoint (open or not), close the instances, free the set. NULL is ignored. */
void ipcep_set_close(struct ipcep_set *set);

/** Called when an endpoint's readiness may have changed (interrupt context or a thread; must not block). */
void ipcep_set_notify(struct ipcep_set *set, void (*fn)(struct ipcep *ep, void *arg), void *arg);

unsigned ipcep_num_inst(const struct ipcep_set *set);
struct ipcep_inst *ipcep_inst_at(struct ipcep_set *set, unsigned i);
/** By node name or label; NULL if the agent has no such instance. */
struct ipcep_inst *ipcep_inst_find(struct ipcep_set *set, const char *name);
const char *ipcep_inst_name(const struct ipcep_inst *in);    /* node name */
const char *ipcep_inst_label(const struct ipcep_inst *in);   /* node label or "" */
const char *ipcep_inst_backend(const struct ipcep_inst *in); /* "icmsg", "multi" or "rpmsg" */
const char *ipcep_inst_peer(const struct ipcep_inst *in);    /* the agent at the other end */

/**
 * ipcep_create() - register endpoint @name on @in (opening the instance first if it is not open), bound by name
 * (@src and @dst IPCEP_ADDR_ANY), or on an RPMsg instance with RPMsg addresses as /dev/rpmsg_ctrlN creates one
 * (ipc_rpmsg_register_endpoint_at(): a fixed @dst binds at once).
 * Return: 0; -EINVAL (bad name: empty, longer than IPCEP_NAME_MAX - 1, or with '/' or white space; an address of
 * 53, the name service's); -EEXIST (an endpoint of that name exists); -ENOSPC (IPCEP_MAX_EP endpoints); -EBUSY (the
 * backend takes no more endpoints, e.g. ICMsg has one; the mailbox is in use by another instance or channel; a
 * fixed @src in use); -ENOTSUP (addresses on an ICMsg or multi-endpoint instance); -ENOMEM; or the backend's error.
 */
int ipcep_create(struct ipcep_inst *in, const char *name, uint32_t src, uint32_t dst, struct ipcep **out);
/** ipcep_destroy() - deregister and free the queue. 0; -EBUSY (open); -ENOENT (no such endpoint). */
int ipcep_destroy(struct ipcep_inst *in, const char *name);
struct ipcep *ipcep_find(struct ipcep_inst *in, const char *name);
/** Every endpoint of @in, in creation slot order, with the set's lock held (@fn must not create or destroy). */
unsigned ipcep_foreach(struct ipcep_inst *in, void (*fn)(struct ipcep *ep, void *arg), void *arg);
const char *ipcep_name(const struct ipcep *ep);
struct ipcep_inst *ipcep_inst_of(struct ipcep *ep);
/** A number unique in the set: instance index * IPCEP_MAX_EP + slot. */
unsigned ipcep_slot(const struct ipcep *ep);

/** Open for reading and writing: 0; -EBUSY (open already). */
int ipcep_open(struct ipcep *ep);
/** Close; a reader waiting returns -EBADF. The queue is kept. */
void ipcep_release(struct ipcep *ep);

/** One message: see the top of this file. @timeout_ms: 0 no wait, > 0 at most that long, < 0 without limit. */
ssize_t ipcep_write(struct ipcep *ep, const void *buf, size_t len, int timeout_ms);
ssize_t ipcep_read(struct ipcep *ep, void *buf, size_t len, int timeout_ms);
/** Length of the next queued message, or -EAGAIN when none. */
ssize_t ipcep_next_len(struct ipcep *ep);
/** Wait up to @timeout_ms (< 0: without limit) for the peer's endpoint to bind: 0 or -ETIMEDOUT. */
int ipcep_wait_bound(struct ipcep *ep, int timeout_ms);
unsigned ipcep_poll(struct ipcep *ep);
void ipcep_stats(struct ipcep *ep, struct ipcep_stats *st);

#endif /* AMPL_TOOLS_IPC_EP_H */
