/*
 * Interrupt context on the host: one thread per attached agent. It sleeps (or spins) on the agent's interrupt
 * line, a doorbell set (one word per ringer), and runs the connected handlers. The line is level-triggered: the
 * handlers re-read the hardware state, and the thread runs them again if the line rang while they ran, so a raise
 * is never lost.
 *
 * The line's words are in shared memory, where another process can corrupt them so that a ring does not wake this
 * thread. So it never waits longer than AMPL_DOORBELL_RECHECK_MS: it then runs the handlers anyway (they re-read
 * the registers) and looks at its stop flag, which is private to this process. A corrupt line costs interrupt
 * latency, and ampl_irq_thread_stop() returns within that period whatever the shared words hold.
 */
#include "port/posix/port_posix.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct ampl_irq_thread {
	pthread_t thread;
	struct ampl_doorbell_set line;
	enum ampl_wait_mode mode;
	atomic_bool stop;
	bool started;
	atomic_uint num;
	struct {
		void (*_Atomic isr)(void *);
		void *_Atomic arg;
	} handlers[AMPL_IRQ_MAX_HANDLERS];
};

int ampl_irq_connect(struct ampl_irq_thread *t, void (*isr)(void *arg), void *arg)
{
	unsigned n = atomic_load(&t->num);
	if (n >= AMPL_IRQ_MAX_HANDLERS)
		return -ENOSPC;
	atomic_store(&t->handlers[n].arg, arg);
	atomic_store(&t->handlers[n].isr, isr);
	atomic_store(&t->num, n + 1);
	ampl_doorbell_set_ring(&t->line); /* run it once: the line may already be high */
	return 0;
}

void ampl_irq_run_handlers(struct ampl_irq_thread *t)
{
	unsigned n = atomic_load(&t->num);
	for (unsigned i = 0; i < n; i++) {
		void (*isr)(void *) = atomic_load(&t->handlers[i].isr);
		if (isr)
			isr(atomic_load(&t->handlers[i].arg));
	}
}

static void *irq_main(void *arg)
{
	struct ampl_irq_thread *t = arg;
	uint32_t seen = ampl_doorbell_set_seq(&t->line);
	ampl_irq_run_handlers(t);
	while (!atomic_load_explicit(&t->stop, memory_order_relaxed)) {
		uint64_t deadline = ampl_now_ns() + (uint64_t)AMPL_DOORBELL_RECHECK_MS * 1000000u;
		ampl_doorbell_set_wait(&t->line, seen, t->mode, deadline); /* rung or not: re-check */
		seen = ampl_doorbell_set_seq(&t->line);
		if (atomic_load_explicit(&t->stop, memory_order_relaxed))
			break;
		ampl_irq_run_handlers(t);
	}
	return NULL;
}

int ampl_irq_thread_create(struct ampl_irq_thread **out, const struct ampl_doorbell_set *line,
			   enum ampl_wait_mode mode)
{
	struct ampl_irq_thread *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->line = *line;
	t->mode = mode;
	*out = t;
	return 0;
}

int ampl_irq_thread_run(struct ampl_irq_thread *t)
{
	int r = pthread_create(&t->thread, NULL, irq_main, t);
	if (r)
		return -r;
	t->started = true;
	return 0;
}

void ampl_irq_thread_stop(struct ampl_irq_thread *t)
{
	if (!t)
		return;
	if (t->started) {
		atomic_store(&t->stop, true);
		ampl_doorbell_set_ring(&t->line);
		ampl_doorbell_set_wake_all(&t->line); /* even if the shared sleepers word says nobody sleeps */
		pthread_join(t->thread, NULL);
	}
	free(t);
}

