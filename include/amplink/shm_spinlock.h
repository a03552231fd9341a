/*
 * A spinlock in shared memory between cores (Zephyr's advice: k_spinlock for cross-core synchronisation).
 *
 * The lock word holds the owner's id (any non-zero number the cores agree on, e.g. agent id + 1), so a lock left
 * taken by a core that reset can be seen, named and broken. Taking it spins for a bounded number of attempts and
 * fails with -ETIMEDOUT and the owner's id instead of hanging. The word is validated like everything a peer
 * writes: any non-zero value counts as "taken by that id", nothing is asserted.
 *
 * Memory ordering: a successful lock is an acquire, unlock a release; the data the lock protects must live in
 * memory coherent between the cores (or be cleaned/invalidated around the section on a non-coherent core).
 */
#ifndef AMPLINK_SHM_SPINLOCK_H
#define AMPLINK_SHM_SPINLOCK_H

#include <amplink/port.h>
#include <amplink/errno.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The lock word: 0 = free, else the owner's id. Lives in shared memory; 4-byte aligned. */
struct ampl_shm_spinlock {
	AMPL_ATOMIC(uint32_t) owner;
};

/** ampl_shm_spin_init() - make the lock free (only when no core can be using it). */
static inline void ampl_shm_spin_init(struct ampl_shm_spinlock *l)
{
#ifndef __cplusplus
	atomic_store_explicit(&l->owner, 0, memory_order_release);
#else
	/* C++ sees the word as opaque storage (amplink/cdefs.h). No core uses the lock now (see above), so a release
	 * fence and a plain store of zeros do the same. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	ampl_memset(&l->owner, 0, sizeof(l->owner));
#endif
}

/**
 * ampl_shm_spin_lock() - take the lock as @id (non-zero), trying at most @max_spins times.
 * Return: 0; -EINVAL (NULL lock, id 0); -EALREADY (@id already holds it: not recursive);
 *         -ETIMEDOUT (still taken after @max_spins tries: *@holder, if not NULL, gets the owner's id).
 * Context: any; it never sleeps.
 */
int ampl_shm_spin_lock(struct ampl_shm_spinlock *l, uint32_t id, uint32_t max_spins, uint32_t *holder);

/** ampl_shm_spin_trylock() - one attempt. Return: 0; -EINVAL; -EALREADY (own); -EBUSY (*@holder gets the owner). */
int ampl_shm_spin_trylock(struct ampl_shm_spinlock *l, uint32_t id, uint32_t *holder);

/** ampl_shm_spin_unlock() - release. Return: 0; -EINVAL; -EPERM (@id does not hold it: nothing changes). */
int ampl_shm_spin_unlock(struct ampl_shm_spinlock *l, uint32_t id);

/**
 * ampl_shm_spin_break() - free a lock held by @dead_id, a core known to have reset (only then).
 * Return: 0; -EINVAL; -EPERM (not held by @dead_id: nothing changes).
 */
int ampl_shm_spin_break(struct ampl_shm_spinlock *l, uint32_t dead_id);

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_SHM_SPINLOCK_H */
