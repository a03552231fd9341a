/*
 * Endpoint bookkeeping the IPC service tests share: what every test's endpoint ("side") counts of its link events
 * and errors, the callbacks that count them, the checksum of the self-checking messages, and a bounded wait.
 *
 * A test's struct side starts with IPC_SIDE_EVENTS, so that the callbacks below find those counters through the
 * endpoint's priv pointer (the side itself), and adds its own fields after them:
 *
 *     struct side {
 *             IPC_SIDE_EVENTS;
 *             _Atomic int received, bad;
 *     };
 *     cfg.cb = (struct ipc_service_cb){ .bound = cb_bound, .unbound = cb_unbound, .error = cb_error,
 *                                       .received = my_received };
 *     cfg.priv = &side;
 *
 * The names are the ones the tests used when each had its own copy (cb_bound, csum, wait_for, ...); a test that
 * includes this header has no functions of those names of its own.
 *
 * The callbacks run in whatever thread the backend calls them from (the agents' interrupt threads): they only
 * touch atomics and last_error.
 */
#ifndef AMPL_TEST_IPC_SIDE_H
#define AMPL_TEST_IPC_SIDE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The first members of every struct side: bound() and unbound() calls, error() calls and the last message. */
#define IPC_SIDE_EVENTS                                                                                                \
	_Atomic int bound, unbound, errors;                                                                            \
	char last_error[160]

struct ipc_side_events {
	IPC_SIDE_EVENTS;
};

/* The ipc_service_cb callbacks; @priv is a struct that starts with IPC_SIDE_EVENTS. */
void cb_bound(void *priv);
void cb_unbound(void *priv);
void cb_error(const char *msg, void *priv);

/** csum() - FNV-1a of @n bytes at @p: the checksum the tests' messages carry. */
uint32_t csum(const uint8_t *p, size_t n);

/** wait_for() - wait up to 5 s, in 1 ms steps, for *@v >= @want. Return: whether it got there. */
bool wait_for(_Atomic int *v, int want);

struct mbox_chan;

/*
 * The reader gate of the doorbell tests: a test sets ipc_gate to 1; the next received() that calls gate_hold()
 * sets it to 2 and waits there until the test sets it to 0 (the reader is held inside its drain).
 */
extern _Atomic int ipc_gate;
void gate_hold(void);

/** gate_wait_held() - wait up to 5 s for a received() to be held at the gate. Return: whether one is. */
bool gate_wait_held(void);

/** doorbells_taken() - the doorbells a tx channel has taken so far: completed, queued, or in flight. */
uint32_t doorbells_taken(struct mbox_chan *chan);

#endif /* AMPL_TEST_IPC_SIDE_H */
