/*
 * What the compat headers (include/amplink/compat) leave to a firmware, for the runners of programs built unchanged
 * against them (mps2-an386 under QEMU, reached through the virtual SoC's bridge): zephyr_fw.c (a Zephyr-style
 * main()) and openamp_fw.c (OpenAMP's machine layer, platform_info.h). See compat_fw.h.
 */
#include <stdarg.h>

#include <amplink/port.h>
#include <zephyr/device.h>
#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>

#include "compat_fw.h"

static const struct emu_mbox_config mb_cfg = {
	.area = (struct ampl_emu_mbox *)(void *)(__shm_start + AMPL_EMU_MBOX_OFF),
	.db = &fw_db,
	.node = AMPL_DT_PATH_STR(COMPAT_FW_IPI),
};
static struct emu_mbox mb;
static uint32_t db_mode;

struct wait_arg {
	_Atomic uint32_t *word;
	uint32_t seen;
};

static bool moved(void *arg)
{
	struct wait_arg *w = arg;
	return atomic_load_explicit(w->word, memory_order_acquire) != w->seen;
}

int ampl_os_wait(_Atomic uint32_t *word, uint32_t seen, uint32_t timeout_us)
{
	struct wait_arg w = { word, seen };
	uint64_t start = ampl_os_uptime_us();
	while (!moved(&w)) {
		if (timeout_us != UINT32_MAX && ampl_os_uptime_us() - start >= timeout_us)
			return -ETIMEDOUT;
		if (db_mode == AMPL_EMU_DOORBELL_POLL) {
			(void)emu_doorbell_poll(&fw_db);
			(void)mbox_poll_all();
		} else {
			board_idle(moved, &w); /* wakes on the doorbell's interrupt or the next SysTick */
		}
	}
	return 0;
}

/* -- printk ----------------------------------------------------------------------------------------------------- */

struct out {
	char buf[160];
	size_t n;
};

static void put(struct out *o, char c)
{
	if (o->n == sizeof(o->buf) - 1) {
		o->buf[o->n] = '\0';
		board_puts(o->buf);
		o->n = 0;
	}
	o->buf[o->n++] = c;
}

static void put_num(struct out *o, unsigned long long v, unsigned base, bool upper, bool neg, unsigned width,
		    char pad)
{
	char d[24];
	unsigned n = 0;
	do {
		unsigned k = (unsigned)(v % base);
		d[n++] = (char)(k < 10 ? '0' + k : (upper ? 'A' : 'a') + k - 10);
		v /= base;
	} while (v);
	if (neg)
		d[n++] = '-';
	for (unsigned i = n; i < width; i++)
		put(o, pad);
	while (n)
		put(o, d[--n]);
}

void vprintk(const char *fmt, va_list ap)
{
	struct out o = { .n = 0 };
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			put(&o, *p);
			continue;
		}
		p++;
		char pad = ' ';
		unsigned width = 0, lng = 0;
		if (*p == '0')
			pad = '0', p++;
		while (*p >= '0' && *p <= '9')
			width = width * 10u + (unsigned)(*p++ - '0');
		for (;; p++) {
			if (*p == 'l')
				lng++;
			else if (*p == 'z')
				lng = sizeof(size_t) > sizeof(unsigned) ? 1 : 0;
			else if (*p != 'h')
				break;
		}
		switch (*p) {
		case 'd':
		case 'i': {
			long long v = lng >= 2 ? va_arg(ap, long long) : lng ? va_arg(ap, long) : va_arg(ap, int);
			put_num(&o, v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v, 10, false, v < 0, width,
				pad);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			unsigned long long v = lng >= 2 ? va_arg(ap, unsigned long long)
					       : lng ? va_arg(ap, unsigned long)
						     : va_arg(ap, unsigned);
			put_num(&o, v, *p == 'u' ? 10 : 16, *p == 'X', false, width, pad);
			break;
		}
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			put_num(&o, (uintptr_t)va_arg(ap, void *), 16, false, false, width, pad);
			break;
		case 'c':
			put(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			for (s = s ? s : "(null)"; *s; s++)
				put(&o, *s);
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case '\0':
			p--;
			break;
		default:
			put(&o, '%');
			put(&o, *p);
			break;
		}
	}
	o.buf[o.n] = '\0';
	board_puts(o.buf);
}

void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

void ampl_compat_log(int level, const char *module, const void *data, size_t len, const char *fmt, ...)
{
	static const char *const names[] = { "none", "err", "wrn", "inf", "dbg" };
	va_list ap;
	printk("<%s> %s: ", names[level >= 0 && level <= 4 ? level : 0], module);
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	printk("\n");
	for (size_t i = 0; data && i < len; i += 16) {
		printk("               ");
		for (size_t k = i; k < len && k < i + 16; k++)
			printk(" %02x", ((const unsigned char *)data)[k]);
		printk("\n");
	}
}

void compat_fw_boot(const char *name, const struct ampl_device *inst)
{
	db_mode = fw_app_start(name);
	fw_app_mbox_start(name, &mb, &mb_cfg, AMPL_EMU_CHAN_DOORBELL, "mailbox channel 0 not in doorbell mode: mode");
	int r = ampl_device_register((struct ampl_device *)(uintptr_t)inst);
	if (r)
		fw_app_fail(name, "registering the IPC instance's device failed, errno", r);
	fw_app_ready(name);
}

int compat_fw_end(const char *name, int rc)
{
	board_puts(name);
	board_put_u32(": the program's main() returned", (uint32_t)rc);
	board_puts(name);
	board_put_u32(": mailbox protocol errors", mb.errors);
	int result = rc || mb.errors ? ECHO_EXIT_ERRORS : ECHO_EXIT_OK;
	atomic_store(&fw_boot->fw_result, (uint32_t)result);
	atomic_store(&fw_boot->fw_state, AMPL_EMU_FW_STOPPED);
	return result;
}
