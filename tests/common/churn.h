/*
 * Deregister/close/re-open churn for an IPC service backend, shared by the backends' unit tests
 * (tests/common/churn.c; failures go through cmocka).
 *
 * Both sides deregister their endpoint, close and re-open the instance (every other cycle, at random) and register
 * again, at once, again and again, with traffic while registered: the peer's session and bindings change under
 * every RX callback, and the RX context binds and unbinds while the user registers and deregisters. Checked:
 * after each deregistration no callback of that registration runs (none starts, none is still running when the
 * flag is set right after deregister returned); within a registration bound() and unbound() alternate, starting
 * with bound(), received() runs only between them, and no two callbacks of the endpoint run at once; every call
 * succeeds; a close leaves the instance closed (the backend's own check); nothing is reported through error(); the
 * churn binds sometimes; and at the end both sides bind again and exchange a message. The pass conditions do not
 * depend on timing; the only waits are bounded waits for events that must happen.
 */
#ifndef AMPL_TEST_CHURN_H
#define AMPL_TEST_CHURN_H

#include <stdbool.h>

#include <amplink/ipc_service.h>

/* Built with ThreadSanitizer: it sees the two sides of the virtual SoC in one process. */
#if defined(__SANITIZE_THREAD__)
#define CHURN_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CHURN_TSAN 1
#endif
#endif
#ifndef CHURN_TSAN
#define CHURN_TSAN 0
#endif

/* 0 when @dev is properly closed; otherwise a code printed in the failure. */
typedef int (*ipc_churn_closed_fn)(const struct ampl_device *dev);

/*
 * Run the churn over two open instances @dev[0] and @dev[1] (names @who for the report), @cycles per side, with
 * instance close/re-open when @reopen, then rebind both and exchange one message each way; the endpoints are
 * deregistered and the instances left open.
 */
void ipc_churn_run(const struct ampl_device *const dev[2], const char *const who[2], ipc_churn_closed_fn closed, int cycles,
		   bool reopen);

#endif /* AMPL_TEST_CHURN_H */
