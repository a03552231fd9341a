/*
 * User-space channels: the Linux IPI mailbox driver's user-space API (a control device that requests channels, one
 * character device per requested channel) as a library of the virtual SoC. `amplink mount` serves the same objects
 * as real files through FUSE.
 *
 * Terminology
 *   control   one per attached agent (struct ampl_uchan_ctl): requests and releases channels
 *   channel   one per requested target agent (struct ampl_uchan): the "device". It owns the receive queue, which
 *             lives as long as the channel is requested (messages received while it was open and not read yet
 *             are still there at the next open)
 *   open      the channel takes the target's mailbox-framework TX and RX channels (ampl_agent_mbox(): channel 0
 *             TX, channel 1 RX) as a client; release frees them (the controller's shutdown runs)
 *
 * Host only (Linux: the virtual SoC's agents; `amplink mount` serves it as files). Calling contexts: every function
 * is thread context (a read or a write may sleep in blocking mode), never an agent's interrupt context.
 *
 * A session (the seed's flow; every call in thread context):
 *
 *     ampl_uchan_ctl_open(apu, NULL, &ctl);
 *     ampl_uchan_request(ctl, "rpu0", &ch);       // verifies the target, creates the channel
 *     ampl_uchan_open(ch, 0);                     // blocking mode; AMPL_UCHAN_NONBLOCK for non-blocking
 *     ampl_uchan_write(ch, "hello", 5);           // request buffer <- "hello" + 27 zero bytes, TRIG; 5
 *     ampl_uchan_write(ch, NULL, 0);              // TRIG only (a doorbell); 0
 *     n = ampl_uchan_read(ch, buf, sizeof(buf));  // the next request the target sent us: 32 bytes
 *     ampl_uchan_release(ch);
 *     ampl_uchan_unrequest(ch);                   // or leave it to ampl_uchan_ctl_close()
 *     ampl_uchan_ctl_close(ctl);
 *
 * Messages
 *   The IPI carries no length: a request is the whole 32-byte buffer. A write of len > 0 takes the first
 *   min(len, 32) bytes, fills the rest of the request buffer with zero bytes, triggers, and returns how many bytes
 *   it took (so a 40-byte write returns 32 and the caller may send the rest as the next message). A write of
 *   len 0 triggers without touching the buffer. A read returns the next queued request: min(len, 32) bytes of
 *   it; the message is consumed even when @len is smaller (datagram semantics). On a doorbell-only channel (an
 *   agent without buffers, e.g. Versal's ipi6) a write of len > 0 fails with -EMSGSIZE and every received
 *   doorbell is read as a message of 0 bytes.
 *
 * Flow control, nothing lost
 *   Requests from the target are acknowledged (ISR write-1-to-clear) as they enter the queue. When the queue is
 *   full (opts.queue_len, default 64) the next request is *held*: it stays pending at the hardware, unacknowledged
 *   and masked, so the target sees its request pending (ipm_send() answers -EBUSY, a blocking sender times out)
 *   and nothing is dropped; it is taken into the queue as soon as a read frees a slot. While the channel is
 *   closed the target's requests stay pending at the hardware the same way (one at a time); on release a held
 *   request stays pending too; both are delivered at the next open. Unread messages are lost only when the
 *   channel is unrequested. Reception runs in the agent's interrupt context: attach it with its interrupt thread,
 *   or call ampl_agent_poll().
 *
 *   Sending: one request at a time, as the hardware has it. The previous request is pending until the target
 *   acknowledges it (its OBS bit). A non-blocking write then fails with -EAGAIN; a blocking write waits for it,
 *   sends, and waits for the acknowledgement of its own request, each bounded by opts.ack_timeout_ms.
 *
 * Contexts: every function is thread context and may sleep unless it says otherwise. Functions on different
 * channels may run concurrently; on one channel, reads, writes and polls may run concurrently from several
 * threads; open/release/unrequest are serialised by the library. The notify callback runs in the agent's
 * interrupt context or the framework's TX-done context and must not block.
 */
#ifndef AMPLINK_UCHAN_H
#define AMPLINK_UCHAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <amplink/errno.h>
#include <amplink/host/soc.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ampl_uchan_ctl;
struct ampl_uchan;

/** Open flags. */
#define AMPL_UCHAN_NONBLOCK 0x1u /* reads and writes never wait: -EAGAIN instead */

/** Readiness bits of ampl_uchan_poll() (the values of POLLIN / POLLOUT on Linux). */
#define AMPL_UCHAN_POLLIN 0x1u  /* a message is queued: a read returns at once */
#define AMPL_UCHAN_POLLOUT 0x4u /* no request of ours is pending at the target: a write sends at once */

/** Default bound on the receive queue, in messages. */
#define AMPL_UCHAN_QUEUE_LEN 64u
/** Default bound on a blocking write's waits for acknowledgements, in ms. */
#define AMPL_UCHAN_ACK_TIMEOUT_MS 1000u

/**
 * struct ampl_uchan_opts - options of a control; a NULL pointer or zero fields mean the defaults.
 * @queue_len:      receive queue bound per channel, in messages (AMPL_UCHAN_QUEUE_LEN)
 * @ack_timeout_ms: bound on each wait of a blocking write (AMPL_UCHAN_ACK_TIMEOUT_MS)
 */
struct ampl_uchan_opts {
	unsigned queue_len;
	uint32_t ack_timeout_ms;
};

/**
 * struct ampl_uchan_stats - counters of one channel since it was requested.
 * @received:  requests taken into the queue (each acknowledged to the target)
 * @read:      messages returned by reads
 * @sent:      requests we triggered (writes of any length)
 * @held:      times a request was held because the queue was full (each is taken later, never lost)
 * @queued:    messages waiting to be read now
 * @open:      the channel is open
 */
struct ampl_uchan_stats {
	uint64_t received, read, sent, held;
	unsigned queued;
	bool open;
};

/**
 * ampl_uchan_ctl_open() - the control of agent @ag (one per agent per process).
 * @ag:   an attached agent (ampl_agent_attach()); it must outlive the control
 * @opts: NULL for the defaults
 * Return: 0; -EINVAL (NULL @ag or @out, an agent of an unknown profile, queue_len above 65536); -ENOTSUP (the
 *         SoC has no IPI block, e.g. i.MX); -EBUSY (this agent already has a control in this process); -ENOMEM.
 */
int ampl_uchan_ctl_open(struct ampl_agent *ag, const struct ampl_uchan_opts *opts, struct ampl_uchan_ctl **out);

/**
 * ampl_uchan_ctl_close() - release and unrequest every channel, then free the control. No call on any of its
 * channels may be in progress or follow. NULL is ignored.
 */
void ampl_uchan_ctl_close(struct ampl_uchan_ctl *ctl);

/**
 * ampl_uchan_request() - verify @target and create its channel (the seed's channel request).
 * @target: an agent name or alias of the SoC's profile ("rpu0", "ch1")
 * Verification, in this order:
 *   -EINVAL  NULL argument, no such agent, or @target is the control's own agent
 *   -EPERM   @target is platform-management firmware (AMPL_AGENT_FIRMWARE: PMU on ZynqMP; PSM, PMC on Versal)
 *   -EBUSY   @target is already requested through this control (by any of its names)
 * Then the mailbox controller to @target is made (ampl_agent_mbox()); its errors are returned (-ENOMEM, ...), and
 * -ENOTSUP when it is not an IPI destination.
 * Return: 0 and *@out, the channel (closed, empty queue); or one of the codes above.
 */
int ampl_uchan_request(struct ampl_uchan_ctl *ctl, const char *target, struct ampl_uchan **out);

/**
 * ampl_uchan_unrequest() - destroy a channel; its queued messages are discarded.
 * Return: 0; -EINVAL (NULL); -EBUSY (the channel is open: release it first).
 */
int ampl_uchan_unrequest(struct ampl_uchan *ch);

/** ampl_uchan_find() - the requested channel to @target (name or alias), or NULL. */
struct ampl_uchan *ampl_uchan_find(struct ampl_uchan_ctl *ctl, const char *target);

/**
 * ampl_uchan_foreach() - call @fn for every requested channel, in agent order, with the control's lock held:
 * @fn must not call ampl_uchan_request/unrequest/open/release/ctl_close. Return: the number of channels.
 */
unsigned ampl_uchan_foreach(struct ampl_uchan_ctl *ctl, void (*fn)(struct ampl_uchan *ch, void *arg), void *arg);

/** ampl_uchan_name() - the target's profile name ("rpu0" even when requested as "ch1"). */
const char *ampl_uchan_name(const struct ampl_uchan *ch);

/** ampl_uchan_max_msg() - bytes one message carries: 32, or 0 on a doorbell-only channel. */
size_t ampl_uchan_max_msg(const struct ampl_uchan *ch);

/**
 * ampl_uchan_open() - take the target's mailbox channels (the seed's open: "request the IPI mailbox channel").
 * @flags: 0 (blocking) or AMPL_UCHAN_NONBLOCK
 * The RX channel's startup unmasks the target's requests: one left pending at the hardware (sent while the
 * channel was closed, or held at a release) is delivered at once.
 * Return: 0; -EINVAL (NULL, unknown flags); -EBUSY (already open, or another client of this process took the
 *         mailbox channels); or the framework's startup error.
 */
int ampl_uchan_open(struct ampl_uchan *ch, unsigned flags);

/** ampl_uchan_set_flags() - change the open flags (fcntl(F_SETFL) for O_NONBLOCK). Return: 0; -EINVAL; -EBADF
 * (not open). */
int ampl_uchan_set_flags(struct ampl_uchan *ch, unsigned flags);

/**
 * ampl_uchan_release() - free the mailbox channels (the seed's release: "shutdown the IPI mailbox channel").
 * The target's requests are masked again and stay pending at the hardware; a request of ours still in flight
 * stays triggered (the target may still consume it); the queue is kept. Readers blocked on the channel return
 * -EBADF. Return: 0; -EINVAL (NULL); -EBADF (not open).
 */
int ampl_uchan_release(struct ampl_uchan *ch);

/**
 * ampl_uchan_write() - send a request to the target (the seed's write).
 * @len > 0: copies min(@len, 32) bytes of @buf into the request buffer, zero bytes after them, triggers.
 * @len == 0: triggers only (@buf may be NULL): the target's interrupt fires with the buffer unchanged.
 * Non-blocking: returns at once once triggered; POLLOUT (or a later write) tells when the target acknowledged.
 * Blocking: waits for a pending previous request first, then for the acknowledgement of this one.
 * Return: bytes taken (0..32; 0 for len 0); -EINVAL (NULL @ch, NULL @buf with @len); -EBADF (not open);
 *         -EMSGSIZE (@len > 0 on a doorbell-only channel); -EAGAIN (non-blocking, the previous request is still
 *         pending); -ETIMEDOUT (blocking: the previous request was not acknowledged within the bound, nothing was
 *         sent; or ours was not, and it stays pending: the target may still consume it); -ESHUTDOWN (the target
 *         is offline, or went offline before consuming it); -ECANCELED (the channel was released meanwhile).
 */
ssize_t ampl_uchan_write(struct ampl_uchan *ch, const void *buf, size_t len);

/**
 * ampl_uchan_read() - take the next queued message (the seed's read), blocking or not as the channel is open.
 * Copies min(@len, message length) bytes; @len 0 returns 0 and takes nothing. Blocking waits without limit.
 * Return: bytes copied; -EINVAL (NULL @ch, NULL @buf with @len); -EBADF (not open, or released while waiting);
 *         -EAGAIN (non-blocking and the queue is empty).
 */
ssize_t ampl_uchan_read(struct ampl_uchan *ch, void *buf, size_t len);

/**
 * ampl_uchan_read_timeout() - as ampl_uchan_read() with an explicit wait whatever the open flags:
 * @timeout_ms 0: do not wait (-EAGAIN); > 0: wait at most that long (-ETIMEDOUT); < 0: without limit.
 */
ssize_t ampl_uchan_read_timeout(struct ampl_uchan *ch, void *buf, size_t len, int timeout_ms);

/**
 * ampl_uchan_poll() - readiness now: AMPL_UCHAN_POLLIN when a message is queued, AMPL_UCHAN_POLLOUT when no
 * request of ours is pending at the target. 0 for NULL or a channel that is not open. Context: thread.
 */
unsigned ampl_uchan_poll(struct ampl_uchan *ch);

/**
 * ampl_uchan_set_notify() - @fn(ch, events, arg) is called when readiness may have changed: AMPL_UCHAN_POLLIN
 * when a message entered the queue, AMPL_UCHAN_POLLOUT when our request was acknowledged (or failed). It runs in
 * interrupt or TX-done context: it must not block and must not call back into this channel (wake a thread that
 * does). NULL @fn removes it. Return: 0; -EINVAL.
 */
int ampl_uchan_set_notify(struct ampl_uchan *ch, void (*fn)(struct ampl_uchan *ch, unsigned events, void *arg),
			  void *arg);

/** ampl_uchan_stats() - the channel's counters. Return: 0; -EINVAL. Context: any thread. */
int ampl_uchan_stats(struct ampl_uchan *ch, struct ampl_uchan_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_UCHAN_H */
