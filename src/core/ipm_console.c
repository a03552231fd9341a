/* IPM console: console text carried in IPM message data (wire format in <amplink/ipm_console.h>). Portable. */
#include <amplink/ipm_console.h>

#define INT_MAX_ ((size_t)(~0u >> 1))

/* Bytes per message on @dev: min(max data size, IPM_CONSOLE_MSG_MAX); negative errno or 0 when unusable. */
static int msg_size_of(const struct ampl_device *dev)
{
	int max = ipm_max_data_size_get(dev);
	if (max < 0)
		return max;
	return max > (int)IPM_CONSOLE_MSG_MAX ? (int)IPM_CONSOLE_MSG_MAX : max;
}

/* ---- sender ---- */

int ipm_console_sender_init(struct ipm_console_sender *s, const struct ampl_device *ipm)
{
	if (!s || !ipm)
		return -EINVAL;
	int m = msg_size_of(ipm);
	if (m < 0)
		return m;
	if (m < 1)
		return -ENOTSUP;
	s->dev = ipm;
	s->msg_size = (uint8_t)m;
	s->len = 0;
	ampl_memset(s->buf, 0, sizeof(s->buf));
	return 0;
}

static bool sender_ok(const struct ipm_console_sender *s)
{
	return s && s->dev && s->msg_size >= 1 && s->msg_size <= IPM_CONSOLE_MSG_MAX && s->len <= s->msg_size;
}

/* Send the buffered text padded with NULs. -EBUSY keeps it buffered; any other result empties the buffer. */
static int sender_send(struct ipm_console_sender *s)
{
	if (!s->len)
		return 0;
	ampl_memset(s->buf + s->len, 0, (size_t)(s->msg_size - s->len));
	int ret = -EBUSY;
	for (uint32_t tries = 0; tries < IPM_CONSOLE_BUSY_TRIES; tries++) {
		ret = ipm_send(s->dev, 1, 0, s->buf, s->msg_size);
		if (ret != -EBUSY)
			break;
		ampl_cpu_relax();
	}
	if (ret != -EBUSY)
		s->len = 0;
	return ret;
}

/* putc without the argument check. Returns the byte, or an error (see ipm_console_putc() for what was taken). */
static int sender_putc(struct ipm_console_sender *s, unsigned char c)
{
	if (c == 0)
		return 0; /* NUL is the padding of the wire format: dropped */
	int pre = 0;
	if (s->len == s->msg_size) {
		/* Left full by an earlier -EBUSY: make room first. */
		pre = sender_send(s);
		if (pre == -EBUSY)
			return -EBUSY; /* c not taken */
		/* Any other failure emptied the buffer: c is taken below and the failure reported. */
	}
	s->buf[s->len++] = (char)c;
	if (s->len == s->msg_size || c == '\n') {
		int ret = sender_send(s);
		if (ret < 0 && ret != -EBUSY)
			return ret; /* c was taken and left with the message */
		/* -EBUSY: c stays buffered, sent later; the next call that needs room reports it. */
	}
	return pre < 0 ? pre : (int)c;
}

int ipm_console_putc(struct ipm_console_sender *s, int c)
{
	if (!sender_ok(s))
		return -EINVAL;
	return sender_putc(s, (unsigned char)c);
}

int ipm_console_write(struct ipm_console_sender *s, const char *buf, size_t len)
{
	if (!sender_ok(s) || (len && !buf) || len > INT_MAX_)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int ret = sender_putc(s, (unsigned char)buf[i]);
		if (ret == -EBUSY)
			return i ? (int)i : -EBUSY;
		if (ret < 0)
			return ret;
	}
	return (int)len;
}

int ipm_console_flush(struct ipm_console_sender *s)
{
	if (!sender_ok(s))
		return -EINVAL;
	return sender_send(s);
}

/* ---- receiver ---- */

static void receiver_deliver(struct ipm_console_receiver *r)
{
	r->line[r->len] = '\0';
	r->line_cb(r->line, r->len, r->arg);
	r->len = 0;
}

static void receiver_byte(struct ipm_console_receiver *r, char c)
{
	if (c == '\n') {
		receiver_deliver(r);
		return;
	}
	/* Full: deliver the piece only now, so a line of exactly IPM_CONSOLE_LINE_MAX bytes arrives whole. */
	if (r->len == IPM_CONSOLE_LINE_MAX)
		receiver_deliver(r);
	r->line[r->len++] = c;
}

/* IPM callback, interrupt context: take the text of one message (up to the first NUL). */
static void receiver_isr(const struct ampl_device *dev, void *user_data, uint32_t id, volatile void *data)
{
	(void)dev;
	(void)id;
	struct ipm_console_receiver *r = (struct ipm_console_receiver *)user_data;
	if (!r || !data)
		return;
	/* Copy out of device memory first, with 32-bit reads where the buffer allows them. */
	char msg[IPM_CONSOLE_MSG_MAX];
	size_t m = r->msg_size, i = 0;
	if (((uintptr_t)data & 3u) == 0) {
		for (; i + 4 <= m; i += 4) {
			uint32_t w = *(volatile uint32_t *)(void *)((volatile uint8_t *)data + i);
			ampl_memcpy(msg + i, &w, 4);
		}
	}
	for (; i < m; i++)
		msg[i] = (char)((volatile uint8_t *)data)[i];
	for (i = 0; i < m && msg[i] != '\0'; i++)
		receiver_byte(r, msg[i]);
}

int ipm_console_receiver_init(struct ipm_console_receiver *r, const struct ampl_device *ipm,
			      ipm_console_line_cb_t line_cb, void *arg)
{
	if (!r || !ipm || !line_cb)
		return -EINVAL;
	int m = msg_size_of(ipm);
	if (m < 0)
		return m;
	if (m < 1)
		return -ENOTSUP;
	r->dev = ipm;
	r->line_cb = line_cb;
	r->arg = arg;
	r->msg_size = (size_t)m;
	r->len = 0;
	r->line[0] = '\0';
	ipm_register_callback(ipm, receiver_isr, r);
	int ret = ipm_set_enabled(ipm, 1);
	if (ret) {
		ipm_register_callback(ipm, NULL, NULL);
		r->dev = NULL;
	}
	return ret;
}

int ipm_console_receiver_flush(struct ipm_console_receiver *r)
{
	if (!r || !r->dev || !r->line_cb || r->len > IPM_CONSOLE_LINE_MAX)
		return -EINVAL;
	if (r->len)
		receiver_deliver(r);
	return 0;
}
