/*
 * The emulator link, host end: firmware running under QEMU, seen from a Linux process. Private to the host
 * library (the virtual SoC builds on it); the wire protocol is <amplink/emu.h>.
 *
 * Two parts:
 *   launcher   ampl_emu_qemu_start() creates the window file, writes the boot block, starts QEMU for the image's
 *              board (qemu-system-arm -M mps2-an386, or qemu-system-riscv32 -M virt) with the file as the
 *              machine's RAM and the doorbell UART on a unix socket, connects, and waits until the firmware
 *              says READY; ampl_emu_qemu_stop() asks it to exit and collects its exit code. Every path, failures
 *              included, ends with QEMU gone and the file and socket removed; QEMU also dies with this process
 *              (PR_SET_PDEATHSIG).
 *   doorbell   struct ampl_emu_link, a mailbox controller (<amplink/mailbox_controller.h>) with the firmware's
 *              channels mirrored: channel 0 ("tx") rings the firmware (one byte on the socket, or bell_to_fw + 1),
 *              channel 1 ("rx") delivers a NULL message when the firmware rang (a byte read, or bell_to_host
 *              moved). TX done is polled and immediate: the byte is in the kernel's socket buffer, and QEMU delivers
 *              every byte. A ring that finds the socket full is merged with the bytes already waiting there
 *              (counted in rings_merged): the firmware has not read them yet, and the drain each starts covers it.
 *
 *     ampl_emu_qemu_start(&q, &cfg)           -> QEMU running, firmware READY, q.window mapped
 *     ampl_emu_link_start(&l, "/emu", &q, thread)  -> controller registered
 *     icmsg / ipc_service over q.window with l.chans[0], l.chans[1]
 *     ampl_emu_link_stop(&l); ampl_emu_qemu_stop(&q, 10000, &code)
 *
 * The firmware's death (QEMU exits or is killed: its end of the serial socket closes) is a transport event, as a
 * processor going offline is on the virtual SoC: the link marks the tx channel offline (sends fail with
 * -ESHUTDOWN) and the rx channel offline, once, which tells the rx client (its link_state). Interrupt mode
 * sees the socket close in its receive thread; polling mode checks the socket whenever the counter has not moved
 * for a while (the receive thread, or ampl_emu_link_poll()). ampl_emu_link_restart() starts the firmware again on
 * the same window and marks both channels online again (link_state: online), so that ICMsg in session mode, the multi-endpoint backend and
 * RPMsg rebind as they do when a process of the virtual SoC is restarted.
 *
 * Contexts: everything here is thread context. The rx channel's callback runs on the link's receive thread, or
 * in the caller of ampl_emu_link_poll() when the link was started without one.
 */
#ifndef AMPL_SIM_EMU_LINK_H
#define AMPL_SIM_EMU_LINK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <amplink/emu.h>
#include <amplink/mailbox_controller.h>

struct ampl_emu_qemu;

/**
 * struct ampl_emu_qemu_config - what to run.
 * @qemu:     the emulator; NULL: $AMPL_QEMU, else the board's from PATH (qemu-system-arm, qemu-system-riscv32)
 * @board:    "mps2-an386" (Cortex-M4) or "riscv-virt" (RV32, QEMU's virt machine); NULL: the board of @kernel's
 *            ELF machine (ARM: mps2-an386, RISC-V: riscv-virt), mps2-an386 without a readable @kernel
 * @machine:  QEMU's -machine; NULL: the board's (mps2-an386, virt)
 * @kernel:   the firmware ELF (required)
 * @doorbell: AMPL_EMU_DOORBELL_IRQ or AMPL_EMU_DOORBELL_POLL, written in the boot block before start
 * @ready_timeout_ms: how long the firmware may take to say READY (0: 20 s)
 * @quiet:    the firmware's semihosting prints (QEMU's standard error by default) and QEMU's standard output go
 *            to a null device; QEMU's own messages still reach standard error
 * @arg:      the application's options, written in the boot block (struct ampl_emu_boot.arg) before start
 * @prepare:  if not NULL, called with the new window (its file's path in q->shm_path, the boot block written, its
 *            @arg included) before QEMU starts: the place to create a virtual SoC backed by the file and to write
 *            the mailbox area (src/sim/emu_bridge.h). A non-zero return stops the start with that error. Called at
 *            ampl_emu_qemu_start() only: a restart keeps the window, and what @prepare wrote in it.
 * @prepare_arg: passed to @prepare
 */
struct ampl_emu_qemu_config {
	const char *qemu;
	const char *board;
	const char *machine;
	const char *kernel;
	uint32_t doorbell;
	uint32_t ready_timeout_ms;
	bool quiet;
	uint32_t arg[AMPL_EMU_ARG_WORDS];
	int (*prepare)(struct ampl_emu_qemu *q, void *arg);
	void *prepare_arg;
};

/**
 * struct ampl_emu_qemu - one running emulator. Public, read-only: @window (the mapped file, @window_size
 * bytes, offset 0 = guest 0x21000000 on mps2-an386, 0x80000000 on riscv-virt), @boot (its boot block), @sock (the connected serial socket), @pid,
 * @doorbell. The rest is private.
 */
struct ampl_emu_qemu {
	void *window;
	size_t window_size;
	struct ampl_emu_boot *boot;
	int sock;
	pid_t pid;
	uint32_t doorbell;
	char shm_path[64];
	char dir[64];
	char sock_path[96];
};

/**
 * ampl_emu_qemu_find() - the emulator binary @cfg names (or the default) is found and executable.
 * Return: 0; -ENOENT with a message in @why (naming the emulator and its Debian package); -EINVAL (@cfg->board
 * names no board, said in @why). Context: thread.
 */
int ampl_emu_qemu_find(const struct ampl_emu_qemu_config *cfg, char *why, size_t why_len);

/**
 * ampl_emu_qemu_start() - start the firmware @cfg->kernel under QEMU and wait until it is READY.
 * On failure nothing is left behind (QEMU killed and reaped, file and socket removed) and @err says why.
 * Return: 0; -EINVAL (no kernel, unknown doorbell mode or board); -ENOENT (no emulator, or no kernel file: see
 * @err); -ECHILD (QEMU exited before the firmware was ready: its status in @err); -ETIMEDOUT (no connection to the
 * socket, or no READY, in time); or the negative errno of a system call. Context: thread.
 */
int ampl_emu_qemu_start(struct ampl_emu_qemu *q, const struct ampl_emu_qemu_config *cfg, char *err, size_t err_len);

/**
 * ampl_emu_qemu_stop() - ask the firmware to exit (boot->stop, then a ring in the configured mode), wait up to
 * @timeout_ms for QEMU to exit, kill it after that; then close the socket (only now: QEMU drops bytes that were
 * not read when the socket closes), unmap and remove the file and the socket.
 * @exit_code: QEMU's exit status (the firmware's semihosting exit code), or -1 if it was killed or died of a
 *             signal. May be NULL.
 * Return: 0 (QEMU exited by itself); -ETIMEDOUT (it had to be killed); -EINVAL (not started). Context: thread.
 */
int ampl_emu_qemu_stop(struct ampl_emu_qemu *q, uint32_t timeout_ms, int *exit_code);

/** ampl_emu_qemu_kill() - kill QEMU at once and clean up as ampl_emu_qemu_stop() does. Idempotent. */
void ampl_emu_qemu_kill(struct ampl_emu_qemu *q);

/**
 * ampl_emu_qemu_restart() - reset the firmware as a power cycle would: kill QEMU (SIGKILL) if it still runs, close
 * its serial socket, and start it again with the same window file (its content, the boot block's counters
 * included, survives; the doorbell mode stays, @cfg's arg words are not written again) and a new socket; then wait
 * until the firmware boots again (fw_boots moves) and says READY. @q->window stays mapped at the same address
 * throughout, so a Linux side can keep its instance open. Use ampl_emu_link_restart() when a link runs on @q.
 * On failure QEMU is gone and everything is released as by ampl_emu_qemu_kill().
 * Return: 0; -EINVAL (@q not started, or @cfg without a kernel); -ECHILD, -ETIMEDOUT, -ENOENT or a system call's
 * error as ampl_emu_qemu_start(), with @err saying why. Context: thread.
 */
int ampl_emu_qemu_restart(struct ampl_emu_qemu *q, const struct ampl_emu_qemu_config *cfg, char *err, size_t err_len);

/** struct ampl_emu_link - the host's doorbell controller. @mbox and @chans public (chans[0] tx, chans[1] rx). */
struct ampl_emu_link {
	struct mbox_controller mbox;
	struct mbox_chan chans[2];
	/* private */
	struct ampl_emu_qemu *q;
	bool polling;
	uint32_t seen;       /* polling: bell_to_host when last delivered */
	bool has_thread;
	pthread_t thread;
	int stop_pipe[2];
	atomic_bool stopping;
	atomic_bool lost;    /* the channels went offline: the firmware is gone until ampl_emu_link_restart() */
	unsigned idle;       /* polling: checks of the counter that found nothing since the socket was last looked at */
	atomic_uint rings_in, rings_out, rings_merged;
};

/**
 * ampl_emu_link_start() - register the doorbell controller for the emulator @q as devicetree node @node.
 * @rx_thread: start a receive thread (interrupt mode: it blocks on the socket; polling mode: it spins on the
 *             counter, yielding the CPU between checks); false: the caller calls ampl_emu_link_poll().
 * Return: 0; -EINVAL (NULL argument, emulator not started); -EEXIST (a controller of that node is registered);
 * the negative errno of pipe() or pthread_create(). Context: thread.
 */
int ampl_emu_link_start(struct ampl_emu_link *l, const char *node, struct ampl_emu_qemu *q, bool rx_thread);

/**
 * ampl_emu_link_poll() - deliver one doorbell on the rx channel if the firmware rang since the last call (reads
 * the socket without blocking in interrupt mode). Only without a receive thread.
 * Return: 1 (delivered); 0 (nothing); -EINVAL (a receive thread owns the link); -EPIPE (the socket closed: QEMU
 * is gone; the rx client was told, through its link_state, the first time). Context: thread.
 */
int ampl_emu_link_poll(struct ampl_emu_link *l);

/**
 * ampl_emu_link_restart() - restart the firmware under the link (ampl_emu_qemu_restart() with @cfg, killing QEMU
 * if it still runs) while its consumers stay open: stops the receive thread, marks the channels offline if the
 * link had not seen the firmware die yet, restarts QEMU, marks the tx then the rx channel online (the rx client's
 * link_state runs in the caller's context, before the receive thread runs again), restarts the receive thread.
 * Return: 0; ampl_emu_qemu_restart()'s error (the link stays offline; stop it and kill the emulator). Context:
 * thread, never from the rx channel's callback.
 */
int ampl_emu_link_restart(struct ampl_emu_link *l, const struct ampl_emu_qemu_config *cfg, char *err,
			  size_t err_len);

/** ampl_emu_link_stop() - stop the receive thread and unregister the controller (before ampl_emu_qemu_stop). */
void ampl_emu_link_stop(struct ampl_emu_link *l);

#endif /* AMPL_SIM_EMU_LINK_H */
