/*
 * The cross-core spinlock in shared memory: every return code, the owner id reported on timeout, breaking a
 * dead owner's lock, and mutual exclusion between processes (a non-atomic counter in shared memory updated by
 * four processes under the lock must end exact).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <amplink/shm_spinlock.h>
#include "child.h"

static void test_codes(void **state)
{
	(void)state;
	struct ampl_shm_spinlock l;
	uint32_t holder = 0;
	ampl_shm_spin_init(&l);
	assert_int_equal(ampl_shm_spin_lock(NULL, 1, 10, NULL), -EINVAL);
	assert_int_equal(ampl_shm_spin_lock(&l, 0, 10, NULL), -EINVAL);
	assert_int_equal(ampl_shm_spin_trylock(&l, 0, NULL), -EINVAL);
	assert_int_equal(ampl_shm_spin_unlock(&l, 0), -EINVAL);
	assert_int_equal(ampl_shm_spin_unlock(&l, 7), -EPERM); /* free: nobody to release */
	assert_int_equal(ampl_shm_spin_lock(&l, 7, 10, NULL), 0);
	assert_int_equal(ampl_shm_spin_lock(&l, 7, 10, NULL), -EALREADY);
	assert_int_equal(ampl_shm_spin_trylock(&l, 7, NULL), -EALREADY);
	assert_int_equal(ampl_shm_spin_trylock(&l, 9, &holder), -EBUSY);
	assert_int_equal(holder, 7);
	holder = 0;
	assert_int_equal(ampl_shm_spin_lock(&l, 9, 1000, &holder), -ETIMEDOUT);
	assert_int_equal(holder, 7);
	assert_int_equal(ampl_shm_spin_unlock(&l, 9), -EPERM); /* not the owner: nothing changes */
	assert_int_equal(atomic_load(&l.owner), 7);
	assert_int_equal(ampl_shm_spin_break(&l, 9), -EPERM);
	assert_int_equal(ampl_shm_spin_break(&l, 7), 0);        /* 7 reset: its lock is broken */
	assert_int_equal(ampl_shm_spin_lock(&l, 9, 10, NULL), 0);
	assert_int_equal(ampl_shm_spin_unlock(&l, 9), 0);
	/* A garbage owner word written by a peer is just "taken by that id". */
	atomic_store(&l.owner, 0xDEADBEEFu);
	assert_int_equal(ampl_shm_spin_lock(&l, 1, 100, &holder), -ETIMEDOUT);
	assert_int_equal(holder, 0xDEADBEEFu);
}

struct shared {
	struct ampl_shm_spinlock lock;
	uint64_t counter; /* deliberately not atomic: the lock must make the increments exclusive */
	uint32_t timeouts;
};

static void test_processes(void **state)
{
	(void)state;
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_ptr_not_equal(sh, MAP_FAILED);
	ampl_shm_spin_init(&sh->lock);
	sh->counter = 0;
	enum { PROCS = 4, ITERS = 300000 };
	pid_t pids[PROCS];
	for (int p = 0; p < PROCS; p++) {
		pids[p] = test_fork();
		if (pids[p] == 0) {
			for (int i = 0; i < ITERS; i++) {
				while (ampl_shm_spin_lock(&sh->lock, (uint32_t)p + 1, 1u << 30, NULL))
					__atomic_fetch_add(&sh->timeouts, 1, __ATOMIC_RELAXED);
				volatile uint64_t *c = &sh->counter;
				*c = *c + 1;
				if (ampl_shm_spin_unlock(&sh->lock, (uint32_t)p + 1))
					_exit(3);
			}
			_exit(0);
		}
	}
	for (int p = 0; p < PROCS; p++) {
		int st;
		waitpid(pids[p], &st, 0);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(sh->counter, (uint64_t)PROCS * ITERS);
	assert_int_equal(atomic_load(&sh->lock.owner), 0);
	munmap(sh, sizeof(*sh));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_processes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
