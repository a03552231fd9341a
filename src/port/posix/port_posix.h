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

#include <amplink/host/soc.h> /* enum ampl_wait_mode */

/* ---- shared memory images, by name (/dev/shm/amplink.NAME) ---- */

/** Longest SoC name; names use [A-Za-z0-9_.-] and do not start with '.'. */
#define AMPL_SHM_NAME_MAX 48

/** Where images live: the folder shm_open() uses on Linux. */
#define AMPL_SHM_DIR "/dev/shm"

/** ampl_shm_name_valid() - 0 if @name is a valid image name, else -EINVAL. */
int ampl_shm_name_valid(const char *name);

/** ampl_shm_path() - the file of image @name ("/dev/shm/amplink.NAME") into @buf. */
void ampl_shm_path(char *buf, size_t n, const char *name);

/**
 * ampl_shm_create() - create a new zero-filled image with every page allocated, and map it.
 * Return: 0; -EINVAL; -EEXIST (the name exists, whatever it is); -ENOSPC (the file system cannot hold @size bytes:
 * nothing is left behind); -errno of open/ftruncate/posix_fallocate/mmap/sigaction; -EMFILE (too many images mapped).
 */
int ampl_shm_create(const char *name, size_t size, void **base);

/** ampl_shm_attach() flag: map an image that belongs to another user. */
#define AMPL_SHM_ANY_OWNER 1u

/**
 * ampl_shm_attach() - map an existing image. The name is not followed through a symbolic link.
 * @owner: if not NULL, the file's owner (uid) when it could be read (also on -EPERM)
 * Return: 0; -ENOENT; -ELOOP (a symbolic link); -ENOTSUP (not a regular file); -EPERM (another user's image and
 * no AMPL_SHM_ANY_OWNER); -EINVAL (empty); -EMFILE (too many images mapped); -errno.
 */
int ampl_shm_attach(const char *name, unsigned flags, void **base, size_t *size, uint32_t *owner);
/**
 * ampl_shm_attach_path() - ampl_shm_attach() for a file by path (a region backed by another program's file, such
 * as an emulator's RAM): the same rules (the last component is not followed through a symbolic link; a regular
 * file of this user unless AMPL_SHM_ANY_OWNER; not empty), the same guard against the file shrinking.
 * Return: 0; -ELOOP; -ENOTSUP (not a regular file); -EPERM (another user's); -EINVAL (empty); -errno.
 */
int ampl_shm_attach_path(const char *path, unsigned flags, void **base, size_t *size, uint32_t *owner);
/** Unmap an image mapped by ampl_shm_create() or ampl_shm_attach(). */
void ampl_shm_detach(void *base, size_t size);
/**
 * ampl_shm_damaged() - true once the file of the image mapped at @base was found shorter than the mapping: an
 * access past its end faulted, and the mapping from there on was replaced with private zero pages (no SIGBUS).
 * Context: any, including a signal handler.
 */
bool ampl_shm_damaged(const void *base);
/** ampl_shm_owner() - the owner (uid) of image @name's file. Return: 0; -ENOENT; -EINVAL; -errno. */
int ampl_shm_owner(const char *name, uint32_t *uid);
/** Remove the name (mappings stay valid until unmapped). Return: 0; -ENOENT; -EINVAL; -EPERM/-EACCES. */
int ampl_shm_unlink(const char *name);
/** Call @fn for every image name; returns the number of images. */
int ampl_shm_list(void (*fn)(const char *name, void *arg), void *arg);

/* ---- doorbells: sequence words in shared memory, rung by some processes, waited on by others ---- */

/**
 * struct ampl_doorbell - a doorbell of one sequence word, which every ringer bumps; lives in shared memory.
 * @seq:      bumped by every ring
 * @sleepers: number of waiters asleep in the kernel; a ring makes the FUTEX_WAKE system call only if non-zero
 *
 * Both words are written by every ringer and waiter. A corrupt @sleepers (0 while someone sleeps) makes rings skip
 * the wake-up: every sleep is therefore cut into slices of at most AMPL_DOORBELL_RECHECK_MS, after which the waiter
 * re-reads @seq, so a lost wake-up costs latency, not liveness.
 */
struct ampl_doorbell {
	_Atomic uint32_t seq;
	_Atomic uint32_t sleepers;
};

/** Most ringers of one doorbell set (futex_waitv() takes up to 128 words). */
#define AMPL_DOORBELL_MAX_RINGERS 32u

/**
 * struct ampl_doorbell_set - a doorbell with one sequence word per ringer: a process's view (private memory) of
 * words in shared memory. A ringer bumps its own word only, so each word has one writer; a waiter sleeps on every
 * word at once (futex_waitv(), Linux 5.16; bounded sleeps without it). Its sequence is the sum of the words, which
 * only grow, so the sum moves at every ring.
 * @seq:      each ringer's word (@n of them)
 * @n:        1 to AMPL_DOORBELL_MAX_RINGERS
 * @sleepers: waiters asleep in the kernel, in the waiters' memory: a ring makes the FUTEX_WAKE system call only if
 *            non-zero (a corrupt value costs latency, as for struct ampl_doorbell)
 * @own:      the word this process rings the doorbell with (ampl_doorbell_set_ring()), one of @seq; NULL if none
 */
struct ampl_doorbell_set {
	_Atomic uint32_t *seq[AMPL_DOORBELL_MAX_RINGERS];
	unsigned n;
	_Atomic uint32_t *sleepers;
	_Atomic uint32_t *own;
};

/** Longest a waiter sleeps in the kernel before it re-reads the sequence (and an interrupt thread its registers). */
#define AMPL_DOORBELL_RECHECK_MS 20u

/*
 * An adaptive waiter polls at most AMPL_ADAPTIVE_SPINS times and at most AMPL_ADAPTIVE_SPIN_NS, whichever ends
 * first, then sleeps: about 65 us of 4000 polls here, but a slower poll (an instrumented build, a doorbell of many
 * words) must not stretch the spin, which holds a CPU that the thread it waits for may need.
 */
#define AMPL_ADAPTIVE_SPINS 4000u
#define AMPL_ADAPTIVE_SPIN_NS 50000u

static inline uint32_t ampl_doorbell_seq(struct ampl_doorbell *db)
{
	return atomic_load_explicit(&db->seq, memory_order_acquire);
}

/** ampl_doorbell_set_seq() - the sum of @s's words: it moves at every ring. Context: any. */
static inline uint32_t ampl_doorbell_set_seq(const struct ampl_doorbell_set *s)
{
	uint32_t sum = 0;
	for (unsigned i = 0; i < s->n; i++)
		sum += atomic_load_explicit(s->seq[i], memory_order_acquire);
	return sum;
}

/**
 * ampl_doorbell_ring_word() - bump the ringer's sequence word @seq and wake the sleepers if @sleepers says there are
 * any (one FUTEX_WAKE on @seq: a waiter sleeps on every ringer's word). Context: any (no blocking).
 */
void ampl_doorbell_ring_word(_Atomic uint32_t *seq, _Atomic uint32_t *sleepers);

/** ampl_doorbell_ring() - bump the sequence and wake sleepers, if any. Context: any (no blocking). */
static inline void ampl_doorbell_ring(struct ampl_doorbell *db)
{
	ampl_doorbell_ring_word(&db->seq, &db->sleepers);
}

/** ampl_doorbell_set_ring() - ring @s with this process's word (@s->own, not NULL). Context: any. */
static inline void ampl_doorbell_set_ring(const struct ampl_doorbell_set *s)
{
	ampl_doorbell_ring_word(s->own, s->sleepers);
}

/** ampl_doorbell_set_wake_all() - wake every sleeper of @s whatever @sleepers says (one system call a word). */
void ampl_doorbell_set_wake_all(const struct ampl_doorbell_set *s);

/**
 * ampl_doorbell_set_wait() - wait until the sequence (ampl_doorbell_set_seq()) differs from @seen.
 * @mode:        polling spins, adaptive spins then sleeps, blocking sleeps at once
 * @deadline_ns: absolute monotonic time, or 0 for no limit (the sequence is still re-read at least every
 *               AMPL_DOORBELL_RECHECK_MS while asleep)
 * A sleep waits on every word at once with futex_waitv(); on a kernel without it (ENOSYS) it is cut into slices of
 * AMPL_DOORBELL_FALLBACK_US instead, each ending with a re-read.
 * Return: 0 (rung), -ETIMEDOUT.
 */
int ampl_doorbell_set_wait(const struct ampl_doorbell_set *s, uint32_t seen, enum ampl_wait_mode mode,
			   uint64_t deadline_ns);

/** ampl_doorbell_spin_budget() - how many polls this thread's next adaptive wait spins before it sleeps. */
uint32_t ampl_doorbell_spin_budget(void);

/** Sleep slice of a waiter on several words when the kernel has no futex_waitv(). */
#define AMPL_DOORBELL_FALLBACK_US 200u

/** ampl_doorbell_wait() - ampl_doorbell_set_wait() for a doorbell of one word. */
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
 * Once running, the thread waits on @line (copied; its @own word is rung by ampl_irq_connect()) in @mode and, each time it rings, runs every connected handler (level
 * semantics: it runs them again if the line rang while they ran). It also runs them when AMPL_DOORBELL_RECHECK_MS
 * pass without a ring, so a wake-up lost to corrupt doorbell words delays an interrupt, never loses it: handlers
 * must re-read their hardware state and tolerate a run with nothing to do. Handlers must not block.
 * Return: 0; -ENOMEM.
 */
int ampl_irq_thread_create(struct ampl_irq_thread **out, const struct ampl_doorbell_set *line,
			   enum ampl_wait_mode mode);
/** Connect a handler (before or after run); it runs once soon after, since the line may already be high.
 * Return: 0; -ENOSPC. */
int ampl_irq_connect(struct ampl_irq_thread *t, void (*isr)(void *arg), void *arg);
/** Start the thread. Return: 0; -errno of pthread_create. */
int ampl_irq_thread_run(struct ampl_irq_thread *t);
/** Run the connected handlers once in the caller's thread (the no-thread mode). */
void ampl_irq_run_handlers(struct ampl_irq_thread *t);
/** Stop and join the thread (if running) and free it; after it returns no handler runs. The stop request is a
 * process-private flag that the thread reads at least every AMPL_DOORBELL_RECHECK_MS, whatever the shared doorbell
 * words hold; an unconditional wake-up makes it prompt in the normal case. */
void ampl_irq_thread_stop(struct ampl_irq_thread *t);

#endif /* AMPL_PORT_POSIX_H */
