/*
 * The Linux end of the firmware tests (tests/firmware/test_fw_*.c): one echo firmware under QEMU, one backend
 * instance in this process over the window, the echo protocol (firmware/apps/common/echo.h) checked on both sides.
 * A test describes its backend (struct fw_backend: open, send, close, the image) and calls fw_main(); the helper
 * runs, for each doorbell mode (polled, then UART interrupts):
 *
 *   round trips  FW_COUNT asks one at a time, the endpoints in turn (p50, p99, max reported)
 *   stream       FW_COUNT asks with FW_IN_FLIGHT outstanding (messages per second each way reported)
 *   reset        (restartable backends) mid-stream, with asks in flight, QEMU is killed (SIGKILL): every endpoint
 *                here must go unbound (the link sees the serial socket close: the channels go offline) and sends must
 *                be refused; QEMU is started again on the same window file while this side keeps its instance
 *                open; every endpoint must bind again and FW_RESUME asks must all be answered
 *   rebind       (restartable backends) mid-stream, this side closes its endpoints and instance and opens them
 *                again while the firmware runs; FW_RESUME asks must all be answered
 *
 * Sequence numbers are per endpoint and never reused. An answer must carry exactly the next sequence number this
 * side waits for: a lower one is a message delivered twice (or a stale one from before a restart), a higher one a
 * message lost in the middle of a binding; both fail the test. Only at a reset or a rebind are the asks still
 * outstanding declared lost (at most FW_IN_FLIGHT; counted and reported), and the next answer must then be that of
 * the first ask sent after it. The firmware checks the same from its side (ECHO_APP_DUPS, ECHO_APP_GAPS, kept in the
 * window across its resets) and its exit code is its verdict. Timings are reported, never asserted; every wait is
 * bounded by FW_WAIT_MS. Without the image or qemu-system-arm the test exits 77 (skipped) and says why.
 */
#ifndef FW_HOST_H
#define FW_HOST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "echo.h"
#include "sim/emu_link.h"

#define FW_COUNT 1000u
#define FW_IN_FLIGHT 16u
#define FW_RESUME 300u   /* asks after a reset or a rebind */
#define FW_WAIT_MS 10000u /* bound of every wait: generous, the machine is shared */
#define FW_SKIP 77

struct fw_run;

/**
 * struct fw_backend - one backend under test.
 * @name:      for the report
 * @image_env: the environment variable that names the firmware image (empty or unset: skipped)
 * @n_ept:     endpoints (1..ECHO_MAX_EPT); ask i goes to endpoint i % n_ept
 * @arg:       the firmware's options (struct ampl_emu_boot.arg)
 * @restarts:  run the reset and rebind phases
 * @open:      open the instance and its endpoints over fw_window(); the callbacks call fw_bound(), fw_unbound()
 *             and fw_answer(). Return: 0 or a negative code (reported)
 * @send:      send @len bytes on endpoint @ept without blocking. Return: 0; -ENOMEM (no room now: retried);
 *             -EBUSY (not bound); another negative code (fails the test)
 * @close:     deregister the endpoints and close the instance (no callback runs after it returns)
 * @is_bound:  optional: whether endpoint @ept is bound (else the fw_bound()/fw_unbound() calls decide)
 */
struct fw_backend {
	const char *name;
	const char *image_env;
	unsigned n_ept;
	uint32_t arg[AMPL_EMU_ARG_WORDS];
	bool restarts;
	int (*open)(struct fw_run *r);
	int (*send)(struct fw_run *r, unsigned ept, const uint8_t *msg, size_t len);
	void (*close)(struct fw_run *r);
	bool (*is_bound)(struct fw_run *r, unsigned ept);
};

/** The window this process maps (offset 0 = the firmware's .shm, emu_boot of dts/emu-link.dts) and the doorbell
 * channels (tx, rx). */
void *fw_window(struct fw_run *r);
struct mbox_chan *fw_tx_chan(struct fw_run *r);
struct mbox_chan *fw_rx_chan(struct fw_run *r);

/** Callbacks of the backend's receive context. */
void fw_bound(struct fw_run *r, unsigned ept);
void fw_unbound(struct fw_run *r, unsigned ept);
void fw_answer(struct fw_run *r, unsigned ept, const void *data, size_t len);

/** The run in progress (one at a time), for backends' callbacks that have no pointer of their own. */
struct fw_run *fw_current(void);

/**
 * struct fw_figures - what the benchmark measures of one backend in one doorbell mode.
 * @p50..@max:  round trip in microseconds over @n asks sent one at a time
 * @stream_msgs: asks streamed (up to FW_IN_FLIGHT outstanding, for the time asked), all answered and checked
 * @msgs_per_s:  asks per second Linux to QEMU (each answered: the same number of answers QEMU to Linux)
 * @mb_per_s:    megabytes (10^6) of asks per second Linux to QEMU, headers and checksums included
 */
struct fw_figures {
	double p50, p90, p99, max;
	unsigned n;
	uint64_t stream_msgs;
	double msgs_per_s, mb_per_s;
};

/**
 * fw_bench() - start @elf under QEMU in doorbell @mode, open @be, run @count round trips and a stream of @seconds,
 * check every answer and the firmware's verdict, stop. Only the failures are printed.
 * Return: 0 (@out filled), 1 (failed: printed)
 */
int fw_bench(const struct fw_backend *be, const char *elf, uint32_t mode, unsigned count, double seconds,
	     struct fw_figures *out);

/** fw_percentiles() - sort the @n round trips @ns (nanoseconds) and fill @out's p50..max and n. */
void fw_percentiles(uint64_t *ns, unsigned n, struct fw_figures *out);

/**
 * fw_can_run() - the images the @n environment variables @envs name are set (built) and QEMU is found; if not,
 * prints "SKIPPED: " and the reason. Also makes stdout unbuffered. Return: 0, or FW_SKIP
 */
int fw_can_run(const char *const *envs, unsigned n);

/** fw_main() - run @n backends in both doorbell modes. Return: the process exit code (0, 1, or FW_SKIP). */
int fw_main(const struct fw_backend *const *backends, unsigned n);

#endif /* FW_HOST_H */
