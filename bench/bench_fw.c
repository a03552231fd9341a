/*
 * The firmware rows of amplink bench (--firmware): each backend between this process and amplink firmware on a
 * Cortex-M4 under QEMU, polled and with UART interrupts, with the tests' host code (bench/firmware/: fw_host.c over
 * the emulator link, fw_bridge.c through the virtual SoC), and the code size of each image.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"
#include "fw_backends.h"
#include "fw_bridge.h"
#include "fw_host.h"
#include "sim/emu_link.h"

const char *ampl_bench_fw_dir(void)
{
	return AMPL_FIRMWARE_DIR;
}


static const struct fw_row {
	const char *name, *image;
	bool bridge; /* through the virtual SoC (fw_bridge.c, backend kind), else the emulator link (fw_host.c, be) */
	enum fw_bridge_kind kind;
	const struct fw_backend *be;
	const char *host_poll, *host_irq;
	enum ampl_bench_tp_kind tp;
	size_t tp_size;
} rows[] = {
	{ "ICMsg, emulator link", "icmsg_echo.elf", false, 0, &fw_icmsg_classic, "ICMsg (IPC service), polling",
	  "ICMsg (IPC service), adaptive", AMPL_TP_ICMSG, 256 },
	{ "RPMsg, emulator link", "rpmsg_remote.elf", false, 0, &fw_rpmsg, "RPMsg (IPC service), polling",
	  "RPMsg (IPC service), adaptive", AMPL_TP_RPMSG_COPY, 256 },
	{ "multi-endpoint, emulator link", "multi.elf", false, 0, &fw_multi, "multi-endpoint, polling",
	  "multi-endpoint, adaptive", AMPL_TP_MULTI_COPY, 256 },
	/* Through the virtual SoC: the _soc images echo `amplink demo`'s messages (8-64 bytes): the host's 32-byte rows. */
	{ "IPM, bridge (virtual SoC)", "ipm_echo.elf", true, FW_BRIDGE_IPM, NULL, "IPM, polling", "IPM, blocking",
	  AMPL_TP_IPM, 32 },
	{ "ICMsg, bridge (virtual SoC)", "icmsg_echo_soc.elf", true, FW_BRIDGE_ICMSG, NULL,
	  "ICMsg (IPC service), polling", "ICMsg (IPC service), adaptive", AMPL_TP_ICMSG, 32 },
	{ "RPMsg, bridge (virtual SoC)", "rpmsg_remote_soc.elf", true, FW_BRIDGE_RPMSG, NULL,
	  "RPMsg (IPC service), polling", "RPMsg (IPC service), adaptive", AMPL_TP_RPMSG_COPY, 32 },
	{ "multi-endpoint, bridge (SoC)", "multi_soc.elf", true, FW_BRIDGE_MULTI, NULL, "multi-endpoint, polling",
	  "multi-endpoint, adaptive", AMPL_TP_MULTI_COPY, 32 },
};

#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

/* The image's path in @buf; false (with the reason in @why) if it is not a readable file. */
static bool image_path(const char *dir, const char *image, char *buf, size_t n, char *why, size_t why_len)
{
	struct stat st;
	snprintf(buf, n, "%s/%s", dir, image);
	if (stat(buf, &st) == 0 && S_ISREG(st.st_mode))
		return true;
	snprintf(why, why_len, "no image %s (built by make test when arm-none-eabi-gcc is installed)", buf);
	return false;
}

unsigned ampl_bench_firmware(struct ampl_bench_fw *r, unsigned max, const char *dir, unsigned count, double seconds)
{
	char qwhy[200] = "", path[512];
	struct ampl_emu_qemu_config qcfg = { 0 };
	bool qemu = ampl_emu_qemu_find(&qcfg, qwhy, sizeof(qwhy)) == 0;
	unsigned k = 0;
	for (unsigned i = 0; i < N_ROWS; i++)
		for (unsigned m = 0; m < 2 && k < max; m++) {
			const struct fw_row *row = &rows[i];
			struct ampl_bench_fw *o = &r[k++];
			uint32_t mode = m ? AMPL_EMU_DOORBELL_IRQ : AMPL_EMU_DOORBELL_POLL;
			memset(o, 0, sizeof(*o));
			o->name = row->name;
			o->image = row->image;
			o->doorbell = m ? "interrupts" : "polling";
			o->host_lat = m ? row->host_irq : row->host_poll;
			o->host_tp = row->tp;
			o->host_tp_size = row->tp_size;
			if (!qemu) {
				o->skipped = true;
				snprintf(o->why, sizeof(o->why), "%s", qwhy);
				continue;
			}
			if (!image_path(dir, row->image, path, sizeof(path), o->why, sizeof(o->why))) {
				o->skipped = true;
				continue;
			}
			fflush(stdout);
			struct fw_figures f;
			int e = row->bridge ? fw_bridge_run(path, row->kind, mode, count, seconds, true, &f)
					    : fw_bench(row->be, path, mode, count, seconds, &f);
			fflush(stdout);
			if (e) {
				o->failed = true;
				continue;
			}
			o->p50 = f.p50;
			o->p90 = f.p90;
			o->p99 = f.p99;
			o->max = f.max;
			o->n = f.n;
			o->msgs = f.stream_msgs;
			o->msgs_per_s = f.msgs_per_s;
			o->mb_per_s = f.mb_per_s;
		}
	return k;
}

unsigned ampl_bench_fw_sizes(struct ampl_bench_fw_size *r, unsigned max, const char *dir)
{
	static const char *const images[] = { "icmsg_echo.elf", "rpmsg_remote.elf", "multi.elf", "ipm_echo.elf",
					      "icmsg_echo_soc.elf", "rpmsg_remote_soc.elf", "multi_soc.elf" };
	char path[512], cmd[600], line[256];
	unsigned k = 0;
	for (unsigned i = 0; i < sizeof(images) / sizeof(images[0]) && k < max; i++) {
		struct ampl_bench_fw_size *o = &r[k++];
		memset(o, 0, sizeof(*o));
		o->image = images[i];
		if (!image_path(dir, images[i], path, sizeof(path), o->why, sizeof(o->why))) {
			o->skipped = true;
			continue;
		}
		/* The path comes from the build directory or --firmware=DIR: quoted for the shell. */
		if (strchr(path, '\'')) {
			o->skipped = true;
			snprintf(o->why, sizeof(o->why), "a quote in the path %s", path);
			continue;
		}
		snprintf(cmd, sizeof(cmd), "arm-none-eabi-size -B '%s' 2>/dev/null", path);
		FILE *p = popen(cmd, "r");
		bool ok = false;
		if (p) {
			/* "   text    data     bss     dec     hex filename", then the figures. */
			if (fgets(line, sizeof(line), p) && fgets(line, sizeof(line), p))
				ok = sscanf(line, "%lu %lu %lu", &o->text, &o->data, &o->bss) == 3;
			ok = pclose(p) == 0 && ok;
		}
		/* bss counts the shared window (.shm, NOLOAD, 16 MiB): reported apart, from the section list. */
		snprintf(cmd, sizeof(cmd), "arm-none-eabi-size -A '%s' 2>/dev/null", path);
		p = ok ? popen(cmd, "r") : NULL;
		if (p) {
			char sec[64];
			unsigned long size;
			while (fgets(line, sizeof(line), p))
				if (sscanf(line, "%63s %lu", sec, &size) == 2 && !strcmp(sec, ".shm"))
					o->window = size;
			ok = pclose(p) == 0 && o->window <= o->bss;
			o->bss -= o->window;
		}
		if (!ok) {
			o->skipped = true;
			snprintf(o->why, sizeof(o->why), "arm-none-eabi-size failed or is not installed (Debian package "
							 "binutils-arm-none-eabi)");
		}
	}
	return k;
}
