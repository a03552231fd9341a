/*
 * POSIX port: shared-memory images, doorbells, interrupt-context threads, time.
 * Private to the host library; the virtual SoC is built on it.
 */
#ifndef AMPL_PORT_POSIX_H
#define AMPL_PORT_POSIX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <amplink/soc.h> /* enum ampl_wait_mode */

/* ---- shared memory images, by name (/dev/shm/amplink.NAME) ---- */

/** Longest SoC name; names use [A-Za-z0-9_.-] and do not start with '.'. */
#define AMPL_SHM_NAME_MAX 48

/** ampl_shm_name_valid() - 0 if @name is a valid image name, else -EINVAL. */
int ampl_shm_name_valid(const char *name);

/** Create a new zero-filled image. Return: 0; -EINVAL; -EEXIST; -errno of shm_open/ftruncate/mmap. */
int ampl_shm_create(const char *name, size_t size, void **base);
/** Map an existing image. Return: 0; -ENOENT; -EINVAL (too small); -errno. */
int ampl_shm_attach(const char *name, void **base, size_t *size);
/** Unmap. */
void ampl_shm_detach(void *base, size_t size);
/** Remove the name (mappings stay valid until unmapped). Return: 0; -ENOENT; -EINVAL. */
int ampl_shm_unlink(const char *name);
/** Call @fn for every image name; returns the number of images. */
int ampl_shm_list(void (*fn)(const char *name, void *arg), void *arg);

/* ---- doorbells: a sequence word in shared memory, rung by one process, waited on by others ---- */

/**
 * struct ampl_doorbell - lives in shared memory.
 * @seq:      bumped by every ring
 * @sleepers: number of waiters asleep in the kernel; a ring makes the FUTEX_WAKE system call only if non-zero
 */
struct ampl_doorbell {
	_Atomic uint32_t seq;
	_Atomic uint32_t sleepers;
};

/** Polls before an adaptive waiter sleeps (about 4000 polls, a few microseconds). */
#define AMPL_ADAPTIVE_SPINS 4000u

static inline uint32_t ampl_doorbell_seq(struct ampl_doorbell *db)
{
	return atomic_load_explicit(&db->seq, memory_order_acquire);
}

/** ampl_doorbell_ring() - bump the sequence and wake sleepers, if any. Context: any (no blocking). */
void ampl_doorbell_ring(struct ampl_doorbell *db);

/**
 * ampl_doorbell_wait() - wait until the sequence differs from @seen.
 * @mode:        polling spins, adaptive spins then sleeps, blocking sleeps at once
 * @deadline_ns: absolute monotonic time, or 0 for no limit
 * Return: 0 (rung), -ETIMEDOUT.
 */
int ampl_doorbell_wait(struct ampl_doorbell *db, uint32_t seen, enum ampl_wait_mode mode, uint64_t deadline_ns);

/* ---- locks (within one process) ---- */

#include <pthread.h>

/** A sleeping lock for thread context; never taken in an interrupt handler. */
struct ampl_lock {
	pthread_mutex_t m;
};
#define AMPL_LOCK_INIT { PTHREAD_MUTEX_INITIALIZER }

static inline void ampl_lock(struct ampl_lock *l)
{
	pthread_mutex_lock(&l->m);
}

static inline void ampl_unlock(struct ampl_lock *l)
{
	pthread_mutex_unlock(&l->m);
}

/* ---- time ---- */

/** Monotonic nanoseconds. */
uint64_t ampl_now_ns(void);

/* ---- interrupt context: one thread that runs handlers when a doorbell rings ---- */

#define AMPL_IRQ_MAX_HANDLERS 8

struct ampl_irq_thread;

/**
 * ampl_irq_thread_create() - the interrupt context of one agent, not yet running.
 * Once running, the thread waits on @line in @mode and, each time it rings, runs every connected handler (level
 * semantics: it runs them again if the line rang while they ran). Handlers must not block.
 * Return: 0; -ENOMEM.
 */
int ampl_irq_thread_create(struct ampl_irq_thread **out, struct ampl_doorbell *line, enum ampl_wait_mode mode);
/** Connect a handler (before or after run); it runs once soon after, since the line may already be high.
 * Return: 0; -ENOSPC. */
int ampl_irq_connect(struct ampl_irq_thread *t, void (*isr)(void *arg), void *arg);
/** Start the thread. Return: 0; -errno of pthread_create. */
int ampl_irq_thread_run(struct ampl_irq_thread *t);
/** Run the connected handlers once in the caller's thread (the no-thread mode). */
void ampl_irq_run_handlers(struct ampl_irq_thread *t);
/** Stop and join the thread (if running) and free it; after it returns no handler runs. */
void ampl_irq_thread_stop(struct ampl_irq_thread *t);

#endif /* AMPL_PORT_POSIX_H */
