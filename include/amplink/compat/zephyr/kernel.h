/*
 * Zephyr compatibility: a subset of <zephyr/kernel.h> for code written for Zephyr (samples, drivers' users), over
 * amplink's port hooks (<amplink/port.h>). Covered:
 *   k_sem          K_SEM_DEFINE, k_sem_init, k_sem_give, k_sem_take (K_NO_WAIT: -EBUSY; timeout: -EAGAIN),
 *                  k_sem_count_get, k_sem_reset; on ampl_os_wait()/ampl_os_wake() (a futex on the host, spinning
 *                  on bare metal)
 *   time           k_msleep, k_usleep, k_sleep (K_FOREVER sleeps for ever), k_busy_wait, k_uptime_get,
 *                  k_uptime_get_32, k_yield, K_SECONDS / K_MSEC / K_USEC / K_NO_WAIT / K_FOREVER
 *   threads        K_THREAD_DEFINE (virtual SoC only: a POSIX thread started before main(); stack size, priority
 *                  and options are ignored, the delay is honoured)
 *   output         printk (virtual SoC: standard output; firmware provides its own printk: the QEMU images'
 *                  runner, firmware/apps/compat/zephyr_fw.c, writes it with semihosting)
 * Not covered: k_thread_create and the rest of the thread API, k_mutex, k_work, k_timer, k_fifo/k_msgq, k_poll,
 * k_spinlock, ISR_DIRECT and IRQ_CONNECT, SYS_INIT. See the README (Zephyr and OpenAMP code).
 *
 * On the virtual SoC a Zephyr program is one agent's process: its main() is compiled as ampl_zephyr_main()
 * (-Dmain=ampl_zephyr_main, done by the amplink_zephyr_compat CMake target) and the library's runner attaches the
 * agent named by AMPLINK_AGENT on the SoC named by AMPLINK_SOC, starts the K_THREAD_DEFINE threads, runs main()
 * and, when main() and every such thread have returned, detaches and exits (status 0 if main() returned 0).
 */
#ifndef AMPLINK_COMPAT_ZEPHYR_KERNEL_H
#define AMPLINK_COMPAT_ZEPHYR_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <amplink/errno.h>
#include <amplink/compat/zephyr/sys_clock.h> /* k_timeout_t, K_NO_WAIT, K_FOREVER, K_MSEC, K_USEC */
#include <amplink/port.h>
#include <zephyr/sys/printk.h>

#ifdef __cplusplus
extern "C" {
#endif

#define K_SECONDS(s) K_MSEC((int64_t)(s) * 1000)
#define K_TICKS_FOREVER (-1)

/* -- semaphores ------------------------------------------------------------------------------------------------- */

struct k_sem {
	_Atomic uint32_t count;
	uint32_t limit;
};

#define K_SEM_MAX_LIMIT UINT32_MAX
#define Z_SEM_INITIALIZER(obj, initial, lim) { .count = (initial), .limit = (lim) }
/** K_SEM_DEFINE() - a semaphore with @initial_count, counting up to @count_limit. */
#define K_SEM_DEFINE(name, initial_count, count_limit)                                                          \
	struct k_sem name = Z_SEM_INITIALIZER(name, initial_count, count_limit)

/** k_sem_init() - 0; -EINVAL (limit 0 or initial above limit). Context: thread. */
static inline int k_sem_init(struct k_sem *sem, unsigned int initial_count, unsigned int limit)
{
	if (!sem || limit == 0 || initial_count > limit)
		return -EINVAL;
	sem->limit = limit;
	atomic_store(&sem->count, initial_count);
	return 0;
}

/** k_sem_give() - count up (not past the limit) and wake a taker. Context: any, interrupt context included. */
static inline void k_sem_give(struct k_sem *sem)
{
	uint32_t c = atomic_load(&sem->count);
	do {
		if (c >= sem->limit)
			return;
	} while (!atomic_compare_exchange_weak(&sem->count, &c, c + 1));
	ampl_os_wake(&sem->count);
}

/**
 * k_sem_take() - count down, waiting up to @timeout for a give.
 * Return: 0; -EBUSY (K_NO_WAIT and the count is 0); -EAGAIN (the timeout passed). Context: thread (interrupt
 * context with K_NO_WAIT only).
 */
static inline int k_sem_take(struct k_sem *sem, k_timeout_t timeout)
{
	uint64_t start = ampl_os_uptime_us();
	for (;;) {
		uint32_t c = atomic_load(&sem->count);
		while (c) {
			if (atomic_compare_exchange_weak(&sem->count, &c, c - 1))
				return 0;
		}
		if (timeout.us == 0)
			return -EBUSY;
		uint32_t left = UINT32_MAX;
		if (timeout.us > 0) {
			uint64_t spent = ampl_os_uptime_us() - start;
			if (spent >= (uint64_t)timeout.us)
				return -EAGAIN;
			uint64_t rest = (uint64_t)timeout.us - spent;
			left = rest < UINT32_MAX - 1 ? (uint32_t)rest : UINT32_MAX - 1;
		}
		(void)ampl_os_wait(&sem->count, 0, left);
	}
}

static inline unsigned int k_sem_count_get(struct k_sem *sem)
{
	return atomic_load(&sem->count);
}

static inline void k_sem_reset(struct k_sem *sem)
{
	atomic_store(&sem->count, 0);
}

/* -- time -------------------------------------------------------------------------------------------------------- */

/** k_uptime_get() - milliseconds since an arbitrary start (the port's monotonic clock). */
static inline int64_t k_uptime_get(void)
{
	return (int64_t)(ampl_os_uptime_us() / 1000u);
}

static inline uint32_t k_uptime_get_32(void)
{
	return (uint32_t)k_uptime_get();
}

/** k_busy_wait() - spin for @usec microseconds. */
static inline void k_busy_wait(uint32_t usec)
{
	uint64_t start = ampl_os_uptime_us();
	while (ampl_os_uptime_us() - start < usec)
		ampl_cpu_relax();
}

/* Sleep @us microseconds (UINT64_MAX: for ever) on a word nobody changes. */
static inline void ampl_compat_sleep_us(uint64_t us)
{
	_Atomic uint32_t never = 0;
	uint64_t start = ampl_os_uptime_us();
	for (;;) {
		uint64_t spent = ampl_os_uptime_us() - start;
		if (us != UINT64_MAX && spent >= us)
			return;
		uint64_t rest = us == UINT64_MAX ? UINT32_MAX - 1 : us - spent;
		(void)ampl_os_wait(&never, 0, rest < UINT32_MAX - 1 ? (uint32_t)rest : UINT32_MAX - 1);
	}
}

/** k_sleep() - sleep for @timeout (K_FOREVER: never returns). Return: 0 (the time left: never woken early). */
static inline int32_t k_sleep(k_timeout_t timeout)
{
	ampl_compat_sleep_us(timeout.us < 0 ? UINT64_MAX : (uint64_t)timeout.us);
	return 0;
}

static inline int32_t k_msleep(int32_t ms)
{
	ampl_compat_sleep_us(ms > 0 ? (uint64_t)ms * 1000u : 0);
	return 0;
}

static inline int32_t k_usleep(int32_t us)
{
	ampl_compat_sleep_us(us > 0 ? (uint64_t)us : 0);
	return 0;
}

static inline void k_yield(void)
{
	ampl_compat_sleep_us(0);
}

/* -- threads ----------------------------------------------------------------------------------------------------- */

typedef void (*k_thread_entry_t)(void *p1, void *p2, void *p3);

/** A thread defined with K_THREAD_DEFINE (the virtual SoC's runner starts it). Private but for its name. */
struct ampl_k_thread {
	const char *name;
	k_thread_entry_t entry;
	void *p1, *p2, *p3;
	int32_t delay_ms;
	struct ampl_k_thread *next;
	void *impl; /* the runner's */
};
typedef struct ampl_k_thread *k_tid_t;

#if defined(__linux__) && !defined(AMPL_COMPAT_FIRMWARE)
/** ampl_k_thread_register() - the runner starts @t before main(). Called by K_THREAD_DEFINE's constructor. */
void ampl_k_thread_register(struct ampl_k_thread *t);

/**
 * K_THREAD_DEFINE() - a thread running @entry(@p1, @p2, @p3), started @delay milliseconds after the program
 * (before main() when 0). @stack_size, @prio and @options are accepted and ignored. Virtual SoC only.
 */
#define K_THREAD_DEFINE(name, stack_size, entry, p1, p2, p3, prio, options, delay)                               \
	static struct ampl_k_thread name##_ampl_thread = { #name, (entry), (void *)(p1), (void *)(p2),            \
							   (void *)(p3), (delay), NULL, NULL };                    \
	__attribute__((constructor)) static void name##_ampl_register(void)                                      \
	{                                                                                                          \
		(void)(stack_size);                                                                              \
		(void)(prio);                                                                                    \
		(void)(options);                                                                                 \
		ampl_k_thread_register(&name##_ampl_thread);                                                     \
	}                                                                                                          \
	const k_tid_t name = &name##_ampl_thread

#ifdef AMPL_ZEPHYR_MAIN
/* The program's main(), renamed (-Dmain=ampl_zephyr_main) so that the runner's main() runs it. */
int main(void);
#endif
#else
/* Firmware has no thread runner here: say so at compile time. */
#define K_THREAD_DEFINE(name, ...)                                                                               \
	_Static_assert(0, "K_THREAD_DEFINE is not covered in firmware by include/amplink/compat (see the README)")
#ifdef AMPL_ZEPHYR_MAIN
/* The program's main(), renamed (-Dmain=ampl_zephyr_main) so that the firmware's runner runs it
 * (firmware/apps/compat/zephyr_fw.c). */
int main(void);
#endif
#endif

#ifdef __cplusplus
}
#endif

#endif /* AMPLINK_COMPAT_ZEPHYR_KERNEL_H */
