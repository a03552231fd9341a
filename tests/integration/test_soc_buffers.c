/*
 * IPI message-buffer management (include/amplink/host/soc.h, "IPI message buffers"): enumeration of every buffer pair of
 * the ZynqMP and Versal profiles, allocation to channels as they are bound (seen by another process through the
 * image), reservation and release with every return code, and a reserved buffer refusing a channel in another
 * process. Rows carry an id printed on failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <amplink/device.h>
#include <amplink/host/soc.h>

static void check_rc(const char *id, const char *what, int got, int want)
{
	if (got != want)
		fail_msg("[%s] %s: returned %d (%s), expected %d (%s); last error: %s", id, what, got, ampl_errname(got),
			 want, ampl_errname(want), ampl_soc_last_error());
}

static char soc_name[64];
static struct ampl_soc *soc;
static pid_t child; /* killed by the teardown if a failed check left it */

static void soc_up(const struct ampl_soc_profile *p)
{
	snprintf(soc_name, sizeof(soc_name), "t-bufs-%d", (int)getpid());
	assert_int_equal(ampl_soc_create(soc_name, p, NULL, 0), 0);
	assert_int_equal(ampl_soc_open(soc_name, &soc), 0);
}

static int teardown(void **state)
{
	(void)state;
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = 0;
	}
	if (soc)
		ampl_soc_close(soc);
	soc = NULL;
	ampl_soc_destroy(soc_name);
	return 0;
}

static void test_enumerate(void **state)
{
	(void)state;
	soc_up(&ampl_soc_versal);
	check_rc("N01", "number of buffers (versal)", (int)ampl_soc_num_bufs(soc), 64);
	check_rc("N02", "num_bufs(NULL)", (int)ampl_soc_num_bufs(NULL), 0);
	struct ampl_soc_buf b;
	check_rc("N03", "info out of range", ampl_soc_buf_info(soc, 64, &b), -EINVAL);
	check_rc("N04", "info NULL", ampl_soc_buf_info(soc, 0, NULL), -EINVAL);
	const struct ampl_soc_agent *apu = ampl_soc_agent_by_name(&ampl_soc_versal, "apu");
	const struct ampl_soc_agent *rpu0 = ampl_soc_agent_by_name(&ampl_soc_versal, "rpu0");
	const struct ampl_soc_agent *ipi6 = ampl_soc_agent_by_name(&ampl_soc_versal, "ipi6");
	int i = ampl_soc_buf_find(soc, apu, rpu0);
	check_rc("N05", "find apu -> rpu0", i, 2 * 8 + 3);
	check_rc("N06", "find bufferless", ampl_soc_buf_find(soc, apu, ipi6), -ENOENT);
	check_rc("N07", "find NULL", ampl_soc_buf_find(soc, NULL, ipi6), -EINVAL);
	assert_int_equal(ampl_soc_buf_info(soc, (unsigned)i, &b), 0);
	assert_ptr_equal(b.owner, apu);
	assert_ptr_equal(b.peer, rpu0);
	assert_int_equal(b.request, ampl_ipi_request_addr(&ampl_soc_versal, apu, rpu0));
	assert_int_equal(b.response, b.request + AMPL_IPI_RESP_OFFSET);
	assert_false(b.reserved);
	assert_int_equal(b.pid[0] | b.pid[1], 0);
	/* Every pair: distinct, inside the buffer RAM, named by its agents. */
	for (unsigned k = 0; k < 64; k++) {
		assert_int_equal(ampl_soc_buf_info(soc, k, &b), 0);
		assert_non_null(b.owner);
		assert_non_null(b.peer);
		assert_int_equal(b.request, ampl_soc_get_profile(soc)->buf_base + k * 0x40u);
		assert_non_null((void *)ampl_soc_phys(soc, b.request, 32));
		assert_non_null((void *)ampl_soc_phys(soc, b.response, 32));
		assert_null((void *)ampl_soc_phys(soc, b.request, 64)); /* two buffers, two writers: not side by side */
	}
	teardown(NULL);
	/* ZynqMP: 64 too (the PMU slot is shared by pmu0-3 and listed under pmu0). */
	soc_up(&ampl_soc_zynqmp);
	check_rc("N08", "number of buffers (zynqmp)", (int)ampl_soc_num_bufs(soc), 64);
	assert_int_equal(ampl_soc_buf_info(soc, 7 * 8 + 2, &b), 0);
	assert_string_equal(b.owner->name, "pmu0");
	assert_string_equal(b.peer->name, "apu");
	teardown(NULL);
	soc_up(&ampl_soc_imx);
	check_rc("N09", "number of buffers (imx)", (int)ampl_soc_num_bufs(soc), 0);
	check_rc("N10", "reserve on imx", ampl_soc_buf_reserve(soc, 0), -EINVAL);
}

/* A child attaches rpu0 and binds its channel to the APU, then waits for SIGTERM. */
static pid_t child_with_channel(int *ready_fd_out)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives the test (a failed check) */
		close(fds[0]);
		struct ampl_soc *s;
		struct ampl_agent *ag;
		const struct ampl_device *dev;
		char rc = 1;
		if (!ampl_soc_open(soc_name, &s) && !ampl_agent_attach(s, "rpu0", NULL, &ag) &&
		    !ampl_agent_channel(ag, "apu", &dev))
			rc = 0;
		(void)!write(fds[1], &rc, 1);
		pause();
		_exit(0);
	}
	close(fds[1]);
	*ready_fd_out = fds[0];
	return pid;
}

static void test_reserve_and_bind(void **state)
{
	(void)state;
	soc_up(&ampl_soc_versal);
	const struct ampl_soc_agent *apu = ampl_soc_agent_by_name(&ampl_soc_versal, "apu");
	const struct ampl_soc_agent *rpu0 = ampl_soc_agent_by_name(&ampl_soc_versal, "rpu0");
	unsigned a2r = (unsigned)ampl_soc_buf_find(soc, apu, rpu0), r2a = (unsigned)ampl_soc_buf_find(soc, rpu0, apu);

	/* Another process binds rpu0 <-> apu: both buffers show its pid and channel. */
	int fd;
	child = child_with_channel(&fd);
	char rc = 1;
	assert_int_equal(read(fd, &rc, 1), 1);
	close(fd);
	assert_int_equal(rc, 0);
	struct ampl_soc_buf b;
	assert_int_equal(ampl_soc_buf_info(soc, r2a, &b), 0);
	assert_int_equal(b.pid[0], child); /* rpu0 owns the rpu0 -> apu request buffer */
	char want[96];
	snprintf(want, sizeof(want), "rpu0-apu@%s", soc_name);
	assert_string_equal(b.chan[0], want);
	assert_int_equal(ampl_soc_buf_info(soc, a2r, &b), 0);
	assert_int_equal(b.pid[1], child); /* and reads the apu -> rpu0 one */
	assert_int_equal(b.pid[0], 0);
	check_rc("R01", "reserve a buffer in use", ampl_soc_buf_reserve(soc, a2r), -EBUSY);
	assert_non_null(strstr(ampl_soc_last_error(), "in use by process"));
	assert_int_equal(ampl_soc_buf_info(soc, a2r, &b), 0);
	assert_false(b.reserved);
	/* Its process gone (killed, no detach): the marks no longer hold the buffer. */
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	child = 0;
	assert_int_equal(ampl_soc_buf_info(soc, a2r, &b), 0);
	assert_int_equal(b.pid[1], 0);
	check_rc("R02", "reserve", ampl_soc_buf_reserve(soc, a2r), 0);
	check_rc("R03", "reserve twice", ampl_soc_buf_reserve(soc, a2r), -EALREADY);
	check_rc("R04", "reserve out of range", ampl_soc_buf_reserve(soc, 64), -EINVAL);
	check_rc("R05", "reserve NULL", ampl_soc_buf_reserve(NULL, 0), -EINVAL);
	assert_int_equal(ampl_soc_buf_info(soc, a2r, &b), 0);
	assert_true(b.reserved);

	/* A reserved buffer cannot be bound, from either end; a bufferless channel is not concerned. */
	struct ampl_agent *ag;
	const struct ampl_device *dev;
	assert_int_equal(ampl_agent_attach(soc, "apu", NULL, &ag), 0);
	check_rc("R06", "channel over a reserved buffer", ampl_agent_channel(ag, "rpu0", &dev), -EACCES);
	assert_non_null(strstr(ampl_soc_last_error(), "reserved"));
	struct mbox_controller *ctrl;
	check_rc("R07", "controller over a reserved buffer", ampl_agent_mbox(ag, "rpu0", &ctrl), -EACCES);
	check_rc("R08", "bufferless channel", ampl_agent_channel(ag, "ipi6", &dev), 0);
	ampl_agent_detach(ag);
	assert_int_equal(ampl_agent_attach(soc, "rpu0", NULL, &ag), 0);
	check_rc("R09", "the other end", ampl_agent_channel(ag, "apu", &dev), -EACCES);
	/* Nothing was left marked by the refused binds. */
	assert_int_equal(ampl_soc_buf_info(soc, r2a, &b), 0);
	assert_int_equal(b.pid[0] | b.pid[1], 0);
	/* Reservations are the supervisor's: from a handle attached as rpu0, an access fault in rpu0's record. */
	check_rc("R10", "release as an agent", ampl_soc_buf_release(soc, a2r), -EACCES);
	assert_non_null(strstr(ampl_soc_last_error(), "rpu0 may not release an IPI buffer"));
	struct ampl_soc_fault f;
	assert_int_equal(ampl_soc_agent_faults(soc, rpu0, &f), 0);
	assert_int_equal(f.count, 1);
	assert_string_equal(f.aperture, "supervisor");
	assert_int_equal(ampl_soc_buf_info(soc, a2r, &b), 0);
	assert_true(b.reserved);
	struct ampl_soc *sup;
	assert_int_equal(ampl_soc_open(soc_name, &sup), 0);
	check_rc("R10b", "release", ampl_soc_buf_release(sup, a2r), 0);
	check_rc("R11", "release twice", ampl_soc_buf_release(sup, a2r), -EALREADY);
	check_rc("R12", "release out of range", ampl_soc_buf_release(sup, 99), -EINVAL);
	ampl_soc_close(sup);
	check_rc("R13", "channel after release", ampl_agent_channel(ag, "apu", &dev), 0);
	assert_int_equal(ampl_soc_buf_info(soc, r2a, &b), 0);
	assert_int_equal(b.pid[0], getpid());
	/* Detach frees them. */
	ampl_agent_detach(ag);
	assert_int_equal(ampl_soc_buf_info(soc, r2a, &b), 0);
	assert_int_equal(b.pid[0], 0);
	check_rc("R14", "reserve after detach", ampl_soc_buf_reserve(soc, r2a), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_enumerate, teardown),
		cmocka_unit_test_teardown(test_reserve_and_bind, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
