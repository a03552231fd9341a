#include <amplink/shm_spinlock.h>

int ampl_shm_spin_trylock(struct ampl_shm_spinlock *l, uint32_t id, uint32_t *holder)
{
	if (!l || !id)
		return -EINVAL;
	uint32_t expected = 0;
	if (atomic_compare_exchange_strong_explicit(&l->owner, &expected, id, memory_order_acquire,
						    memory_order_relaxed))
		return 0;
	if (holder)
		*holder = expected;
	return expected == id ? -EALREADY : -EBUSY;
}

int ampl_shm_spin_lock(struct ampl_shm_spinlock *l, uint32_t id, uint32_t max_spins, uint32_t *holder)
{
	if (!l || !id)
		return -EINVAL;
	for (uint32_t i = 0;; i++) {
		/* Test before test-and-set: spinning on a plain load keeps the line shared instead of bouncing it. */
		uint32_t cur = atomic_load_explicit(&l->owner, memory_order_relaxed);
		if (!cur) {
			int r = ampl_shm_spin_trylock(l, id, &cur);
			if (r != -EBUSY)
				return r;
		} else if (cur == id) {
			return -EALREADY;
		}
		if (i >= max_spins) {
			if (holder)
				*holder = cur;
			return -ETIMEDOUT;
		}
		ampl_cpu_relax();
	}
}

int ampl_shm_spin_unlock(struct ampl_shm_spinlock *l, uint32_t id)
{
	if (!l || !id)
		return -EINVAL;
	uint32_t expected = id;
	if (!atomic_compare_exchange_strong_explicit(&l->owner, &expected, 0, memory_order_release,
						     memory_order_relaxed))
		return -EPERM;
	return 0;
}

int ampl_shm_spin_break(struct ampl_shm_spinlock *l, uint32_t dead_id)
{
	if (!l || !dead_id)
		return -EINVAL;
	uint32_t expected = dead_id;
	if (!atomic_compare_exchange_strong_explicit(&l->owner, &expected, 0, memory_order_acq_rel,
						     memory_order_relaxed))
		return -EPERM;
	return 0;
}
