/*
 * Regions of the virtual SoC backed by an external file (an emulator's RAM): ampl_soc_create_opts() with
 * backing_path/backing_base.
 *   - the regions inside the window live in the file: what a program that maps the file writes is what
 *     ampl_soc_phys() shows, in this process and in another one that opens the SoC; the IPI buffer RAM stays in
 *     the image, and backed regions take no room in it;
 *   - the file is refused as an image would be: relative path, symbolic link, not a regular file, another user's
 *     (root only), missing, a size that is not a multiple of the page, an unaligned base;
 *   - the window must hold each region it touches whole (the error names the region it cuts) and at least one;
 *   - an opener finds the file changed (resized, removed) and says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <amplink/host/soc.h>
#include "child.h"

#define SOC "test-backing"
#define WINDOW (16u << 20)
#define BASE 0x3ecf0000ull         /* 64 KiB before the default board's first reserved-memory region */
#define ICMSG_APU_TX 0x3ed40000ull /* default board: icmsg_apu_tx@3ed40000, 0x8000 */
#define IPI_BUF 0xff990000ull

static char file[64];

static void make_file(const char *path, off_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
}

static int setup(void **state)
{
	(void)state;
	snprintf(file, sizeof(file), "/dev/shm/amplink-test-backing.%d", (int)getpid());
	ampl_soc_destroy(SOC);
	make_file(file, WINDOW);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ampl_soc_destroy(SOC);
	unlink(file);
	return 0;
}

static int create(const char *path, uint64_t base)
{
	struct ampl_soc_create_opts o = { .backing_path = path, .backing_base = base };
	return ampl_soc_create_opts(SOC, &ampl_soc_zynqmp, NULL, 0, &o);
}

static off_t image_size(void)
{
	struct stat st;
	assert_int_equal(stat("/dev/shm/amplink." SOC, &st), 0);
	return st.st_size;
}

static void test_regions_in_file(void **state)
{
	(void)state;
	assert_int_equal(ampl_soc_create(SOC, &ampl_soc_zynqmp, NULL, 0), 0);
	off_t plain = image_size();
	assert_int_equal(ampl_soc_destroy(SOC), 0);

	assert_int_equal(create(file, BASE), 0);
	off_t backed = image_size();
	printf("image: %lld bytes without the backing, %lld with it\n", (long long)plain, (long long)backed);
	assert_true(backed < plain); /* the default board's 1.3 MiB of regions are in the file */

	int fd = open(file, O_RDWR);
	assert_true(fd >= 0);
	uint8_t *win = mmap(NULL, WINDOW, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	assert_true(win != MAP_FAILED);

	struct ampl_soc *soc;
	assert_int_equal(ampl_soc_open(SOC, &soc), 0);
	struct ampl_soc_backing bk;
	assert_int_equal(ampl_soc_backing(soc, &bk), 0);
	assert_string_equal(bk.path, file);
	assert_true(bk.base == BASE && bk.size == WINDOW);

	volatile uint8_t *r = ampl_soc_phys(soc, ICMSG_APU_TX, 0x8000);
	assert_non_null(r);
	assert_true(r >= (volatile uint8_t *)bk.map && r < (volatile uint8_t *)bk.map + WINDOW);
	/* Written through the file (as the emulator does) and seen through the SoC, both ways. */
	win[ICMSG_APU_TX - BASE] = 0x5a;
	assert_int_equal(r[0], 0x5a);
	r[0x7fff] = 0xa5;
	assert_int_equal(win[ICMSG_APU_TX - BASE + 0x7fff], 0xa5);
	/* The window outside any region is not SoC memory; the IPI buffers stay in the image. */
	assert_null(ampl_soc_phys(soc, BASE, 4));
	volatile uint8_t *ipi = ampl_soc_phys(soc, IPI_BUF, 32);
	assert_non_null(ipi);
	assert_false(ipi >= (volatile uint8_t *)bk.map && ipi < (volatile uint8_t *)bk.map + WINDOW);

	/* Another process opens the SoC and maps the same file. */
	pid_t pid = test_fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ampl_soc *s2;
		if (ampl_soc_open(SOC, &s2))
			_exit(2);
		volatile uint8_t *p = ampl_soc_phys(s2, ICMSG_APU_TX, 1);
		int ok = p && p[0] == 0x5a;
		if (p)
			p[1] = 0x77;
		ampl_soc_close(s2);
		_exit(ok ? 0 : 3);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(win[ICMSG_APU_TX - BASE + 1], 0x77);
	assert_int_equal(ampl_soc_check(soc), 0);
	ampl_soc_close(soc);
	munmap(win, WINDOW);

	/* Without a backing: no file to report. */
	assert_int_equal(ampl_soc_destroy(SOC), 0);
	assert_int_equal(ampl_soc_create(SOC, &ampl_soc_zynqmp, NULL, 0), 0);
	assert_int_equal(ampl_soc_open(SOC, &soc), 0);
	assert_int_equal(ampl_soc_backing(soc, &bk), -ENOENT);
	ampl_soc_close(soc);
}

static void expect_refused(int ret, int err, const char *words)
{
	assert_int_equal(ret, err);
	printf("refused (%d): %s\n", ret, ampl_soc_last_error());
	assert_non_null(strstr(ampl_soc_last_error(), words));
	assert_int_equal(access("/dev/shm/amplink." SOC, F_OK), -1); /* nothing was created */
}

static void test_window_rules(void **state)
{
	(void)state;
	/* Starts inside shared_ram@3ed00000 (0x40000): cuts it. */
	expect_refused(create(file, 0x3ed10000), -EINVAL, "cuts memory region shared_ram@3ed00000");
	/* Ends inside rpmsg_shm@3ed80000: a 16 MiB window ending at 0x3ed90000. */
	expect_refused(create(file, 0x3ed90000ull - WINDOW), -EINVAL, "cuts memory region rpmsg_shm@3ed80000");
	expect_refused(create(file, 0x10000000), -EINVAL, "holds no memory region");
	expect_refused(create(file, BASE + 0x100), -EINVAL, "not a multiple of the 4096-byte page");
}

static void test_file_rules(void **state)
{
	(void)state;
	char other[96];
	expect_refused(create("amplink-relative", BASE), -EINVAL, "absolute path");
	snprintf(other, sizeof(other), "%s.missing", file);
	expect_refused(create(other, BASE), -ENOENT, "does not exist");
	snprintf(other, sizeof(other), "%s.link", file);
	assert_int_equal(symlink(file, other), 0);
	expect_refused(create(other, BASE), -ELOOP, "symbolic link");
	unlink(other);
	snprintf(other, sizeof(other), "%s.dir", file);
	assert_int_equal(mkdir(other, 0700), 0);
	int r = create(other, BASE);
	rmdir(other);
	assert_true(r < 0); /* a directory does not open read-write */
	snprintf(other, sizeof(other), "%s.fifo", file);
	assert_int_equal(mkfifo(other, 0600), 0);
	expect_refused(create(other, BASE), -EINVAL, "not a regular file");
	unlink(other);
	snprintf(other, sizeof(other), "%s.odd", file);
	make_file(other, 5000);
	expect_refused(create(other, BASE), -EINVAL, "not a multiple of the 4096-byte page");
	unlink(other);
	if (geteuid() == 0) {
		assert_int_equal(chown(file, 65534, 65534), 0);
		expect_refused(create(file, BASE), -EPERM, "belongs to");
		/* Asked for: accepted, and an opener must ask too. */
		struct ampl_soc_create_opts o = { .backing_path = file, .backing_base = BASE,
						  .flags = AMPL_SOC_ALLOW_OTHER_OWNER };
		assert_int_equal(ampl_soc_create_opts(SOC, &ampl_soc_zynqmp, NULL, 0, &o), 0);
		struct ampl_soc *soc;
		assert_int_equal(ampl_soc_open(SOC, &soc), -EPERM);
		assert_non_null(strstr(ampl_soc_last_error(), "backing file"));
		assert_int_equal(ampl_soc_open_flags(SOC, AMPL_SOC_ALLOW_OTHER_OWNER, &soc), 0);
		ampl_soc_close(soc);
		assert_int_equal(ampl_soc_destroy(SOC), 0);
		assert_int_equal(chown(file, 0, 0), 0);
	} else {
		printf("skipped the other-owner case: needs root to give the file away\n");
	}
}

static void test_file_changed(void **state)
{
	(void)state;
	struct ampl_soc *soc;
	assert_int_equal(create(file, BASE), 0);
	assert_int_equal(truncate(file, WINDOW / 2), 0);
	assert_int_equal(ampl_soc_open(SOC, &soc), -EINVAL);
	printf("resized: %s\n", ampl_soc_last_error());
	assert_non_null(strstr(ampl_soc_last_error(), "when the SoC was created"));
	unlink(file);
	assert_int_equal(ampl_soc_open(SOC, &soc), -ENOENT);
	printf("removed: %s\n", ampl_soc_last_error());
	assert_non_null(strstr(ampl_soc_last_error(), "does not exist"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_regions_in_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_changed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
