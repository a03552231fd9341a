/*
 * IPM console: text lines from one core to another over an IPM channel (what Zephyr's CONFIG_IPM_CONSOLE_SENDER
 * and CONFIG_IPM_CONSOLE_RECEIVER do), carried in the message data.
 *
 * Zephyr's sender puts each character in the message *id* and sends no data. The Xilinx IPI carries no id
 * (ipm_max_id_val_get() == 0), so this console carries the text in the data instead, many characters per message.
 *
 * Wire format
 *   Every message is exactly M = min(ipm_max_data_size_get(dev), IPM_CONSOLE_MSG_MAX) bytes (32 for the IPI):
 *   1..M bytes of console text followed by NUL (0) bytes up to M. The text never contains a NUL: the sender drops
 *   NUL bytes, so the receiver takes the bytes up to the first NUL (or all M) as the text. '\n' ends a line; a
 *   line may span any number of messages and a message may hold several lines. There is no header, no length
 *   and no sequence number: the sender sends with ipm_send(dev, 1, 0, msg, M), waiting until the receiver has
 *   consumed each message before it writes the next, so nothing is overwritten or reordered. A channel whose
 *   maximum data size is below 1 (a doorbell-only channel) cannot carry text: init answers -ENOTSUP.
 *
 * Sender (thread context; one thread per sender, or the caller serialises):
 *
 *     static struct ipm_console_sender con;
 *     ipm_console_sender_init(&con, ampl_device_get_by_label("ipi_rpu0_apu"));
 *     ipm_console_write(&con, "hello world\n", 12);     // or ipm_console_putc() from a printk hook
 *
 *   Text is buffered and sent when the buffer holds M bytes or on '\n'; ipm_console_flush() sends a partial
 *   line. When the receiver has not consumed the previous message (ipm_send() answers -EBUSY, e.g. after an
 *   acknowledgement timeout or while another sender uses the channel), the send is retried up to
 *   IPM_CONSOLE_BUSY_TRIES times with ampl_cpu_relax() between tries; then -EBUSY is returned and the text stays
 *   buffered for the next call. Any other error of ipm_send() is returned unchanged and the buffered text leaves
 *   the sender: with -ETIMEDOUT it was handed to the mailbox and stays pending there (delivered once the
 *   receiver consumes it); with another error it is dropped.
 *
 * Receiver (the callback runs in the receiving core's interrupt context and never blocks):
 *
 *     static struct ipm_console_receiver rx;
 *     ipm_console_receiver_init(&rx, ampl_device_get_by_label("ipi_apu_rpu0"), on_line, NULL);
 *
 *   on_line(line, len, arg) is called in interrupt context for every complete line, without its '\n' (line is
 *   NUL-terminated too, line[len] == 0). A line longer than IPM_CONSOLE_LINE_MAX bytes is delivered in pieces
 *   of IPM_CONSOLE_LINE_MAX bytes followed by the rest when its '\n' arrives: nothing is truncated, but a
 *   delivery of exactly IPM_CONSOLE_LINE_MAX bytes may be a piece of a longer line. Bytes other than NUL are
 *   delivered exactly as sent ('\r' included). ipm_console_receiver_flush() delivers a last line that has no
 *   '\n' yet.
 *
 * Freestanding: uses only <amplink/...> headers and the port.h hooks.
 */
#ifndef AMPLINK_IPM_CONSOLE_H
#define AMPLINK_IPM_CONSOLE_H

#include <amplink/ipm.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Largest message the console uses, in bytes (the sender's buffer). A larger channel still carries this much. */
#define IPM_CONSOLE_MSG_MAX 32u

/**
 * Bytes of one line held by the receiver; a longer line is delivered in pieces of this size. It sizes struct
 * ipm_console_receiver: define the same value for the library and the code that uses it.
 */
#ifndef IPM_CONSOLE_LINE_MAX
#define IPM_CONSOLE_LINE_MAX 256u
#endif

/** How many times a send answered -EBUSY is tried before -EBUSY is returned (a spin, no clock needed). */
#ifndef IPM_CONSOLE_BUSY_TRIES
#define IPM_CONSOLE_BUSY_TRIES 1000000u
#endif

/**
 * struct ipm_console_sender - the sending side; caller-allocated (a static object is fine), set up by
 * ipm_console_sender_init(). Fields are private.
 */
struct ipm_console_sender {
	const struct ampl_device *dev;
	uint8_t msg_size; /* M: bytes per message */
	uint8_t len;      /* bytes buffered, 0..msg_size */
	char buf[IPM_CONSOLE_MSG_MAX];
};

/** A complete line (or a piece of a long one), without '\n', NUL-terminated at @len. Interrupt context. */
typedef void (*ipm_console_line_cb_t)(const char *line, size_t len, void *arg);

/**
 * struct ipm_console_receiver - the receiving side; caller-allocated (a static object is fine), set up by
 * ipm_console_receiver_init(). Must stay valid while the channel can deliver. Fields are private.
 */
struct ipm_console_receiver {
	const struct ampl_device *dev;
	ipm_console_line_cb_t line_cb;
	void *arg;
	size_t msg_size; /* M */
	size_t len;      /* bytes of the current line held in line[] */
	char line[IPM_CONSOLE_LINE_MAX + 1];
};

/**
 * ipm_console_sender_init() - set up a sender on the outbound channel @ipm.
 * Return: 0; -EINVAL (NULL @s or @ipm, or not an IPM device); -ENOTSUP (the channel carries no data: a doorbell).
 * Context: thread.
 */
int ipm_console_sender_init(struct ipm_console_sender *s, const struct ampl_device *ipm);

/**
 * ipm_console_putc() - buffer one character; send the buffer when it is full or @c is '\n'.
 * A NUL (@c & 0xff == 0) is dropped (the wire format reserves it as padding) and counts as written.
 *
 * Return:
 * * (unsigned char)@c (that is @c for 0..255) when @c was taken and no send it caused failed
 * * -EBUSY     @c was NOT taken: the buffer is full and the receiver did not consume the previous message within
 *              IPM_CONSOLE_BUSY_TRIES tries; the text stays buffered; call again later
 * * -EINVAL    NULL or uninitialised @s; @c not taken
 * * other      the error of ipm_send() (-ETIMEDOUT, ...) for a send @c caused; @c was taken and must not be
 *              written again (see the header comment for where the text went)
 * A send that @c triggers and that answers -EBUSY after the retries leaves @c buffered and returns @c: the
 * text is sent by a later call, and ipm_console_flush() reports the -EBUSY.
 * Context: thread (ipm_send() waits for the acknowledgement).
 */
int ipm_console_putc(struct ipm_console_sender *s, int c);

/**
 * ipm_console_write() - ipm_console_putc() for each of @len bytes of @buf.
 * Return: the bytes taken: @len when all were (NULs are taken and dropped), fewer when the sender became busy
 * (the rest could not be taken: -EBUSY of ipm_console_putc()); -EBUSY when no byte could be taken; -EINVAL (NULL
 * or uninitialised @s, NULL @buf with @len > 0, or @len above INT_MAX); or any other error of ipm_send() at once
 * (the bytes before it and the one that caused it were taken). Context: thread.
 */
int ipm_console_write(struct ipm_console_sender *s, const char *buf, size_t len);

/**
 * ipm_console_flush() - send the buffered text now (a partial line). Nothing is sent when nothing is buffered.
 * Return: 0; -EBUSY (after the retries; the text stays buffered); -EINVAL (NULL or uninitialised @s); or the
 * error of ipm_send(). Context: thread.
 */
int ipm_console_flush(struct ipm_console_sender *s);

/**
 * ipm_console_receiver_init() - receive console text on the inbound channel @ipm.
 * @line_cb: called for every complete line (and for the pieces of a line longer than IPM_CONSOLE_LINE_MAX);
 *           runs in interrupt context, must not block
 * @arg:     passed to @line_cb
 * Registers the receiver's IPM callback on @ipm (replacing any other) and enables the channel, so messages
 * already pending are delivered from now on.
 * Return: 0; -EINVAL (NULL @r, @ipm or @line_cb, or not an IPM device); -ENOTSUP (doorbell-only channel); or the
 * error of ipm_set_enabled() (the callback is unregistered again). Context: thread.
 */
int ipm_console_receiver_init(struct ipm_console_receiver *r, const struct ampl_device *ipm,
			      ipm_console_line_cb_t line_cb, void *arg);

/**
 * ipm_console_receiver_flush() - deliver the line received so far that has no '\n' yet (nothing if empty).
 * It does not lock against the IPM callback: call it when no message can be in delivery, e.g. once the sender's
 * ipm_console_flush() returned 0 (the callback had returned before the acknowledgement), or after the channel's
 * interrupt context has stopped.
 * Return: 0; -EINVAL (NULL or uninitialised @r). Context: thread.
 */
int ipm_console_receiver_flush(struct ipm_console_receiver *r);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_IPM_CONSOLE_H */
