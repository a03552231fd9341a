/*
 * Compatibility headers on the virtual SoC: the attached agent, DEVICE_DT_GET() stand-ins resolved to its
 * devices, printk() and the log macros' output.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <amplink/errno.h>
#include <zephyr/device.h>
#include <zephyr/logging/log.h>

#include "compat.h"

static struct ampl_soc *soc;
static struct ampl_agent *agent;

int ampl_compat_attach(void)
{
	const char *name = getenv("AMPLINK_SOC"), *ag = getenv("AMPLINK_AGENT"), *mode = getenv("AMPLINK_MODE");
	struct ampl_agent_opts opts = { .mode = AMPL_WAIT_BLOCK };
	if (!name || !*name) {
		fprintf(stderr, "amplink compat: set AMPLINK_SOC to the virtual SoC's name (and AMPLINK_AGENT)\n");
		return -EINVAL;
	}
	if (!ag || !*ag)
		ag = "rpu0";
	if (mode && ampl_wait_mode_parse(mode, &opts.mode)) {
		fprintf(stderr, "amplink compat: AMPLINK_MODE=%s: not polling, adaptive or blocking\n", mode);
		return -EINVAL;
	}
	int ret = ampl_soc_open(name, &soc);
	if (ret) {
		fprintf(stderr, "amplink compat: SoC %s: %s: %s\n", name, ampl_errname(ret), ampl_soc_last_error());
		return ret;
	}
	ret = ampl_agent_attach(soc, ag, &opts, &agent);
	if (ret) {
		fprintf(stderr, "amplink compat: agent %s of %s: %s: %s\n", ag, name, ampl_errname(ret),
			ampl_soc_last_error());
		ampl_soc_close(soc);
		soc = NULL;
	}
	return ret;
}

void ampl_compat_detach(void)
{
	if (agent)
		ampl_agent_detach(agent);
	if (soc)
		ampl_soc_close(soc);
	agent = NULL;
	soc = NULL;
}

struct ampl_agent *ampl_compat_agent(void)
{
	return agent;
}

const struct ampl_device *ampl_compat_device(const struct ampl_device *dev)
{
	if (!dev || dev->state)
		return dev; /* NULL, or a real (registered) device */
	const char *keys[2] = { dev->label, dev->name };
	for (unsigned i = 0; i < 2; i++) {
		const struct ampl_device *d = keys[i] && *keys[i] ? ampl_device_get_binding(keys[i]) : NULL;
		if (d)
			return d;
	}
	for (unsigned i = 0; agent && i < 2; i++) {
		const struct ampl_device *d = NULL;
		if (keys[i] && *keys[i] && !ampl_agent_ipc_instance(agent, keys[i], &d))
			return d;
	}
	return NULL;
}

void vprintk(const char *fmt, va_list ap)
{
	vprintf(fmt, ap);
	fflush(stdout);
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
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	printk("<%s> %s: %s\n", names[level >= 0 && level <= 4 ? level : 0], module, line);
	for (size_t i = 0; data && i < len; i += 16) {
		char hex[64] = "";
		for (size_t k = i; k < len && k < i + 16; k++)
			snprintf(hex + strlen(hex), sizeof(hex) - strlen(hex), "%02x ", ((const unsigned char *)data)[k]);
		printk("                %s\n", hex);
	}
}
