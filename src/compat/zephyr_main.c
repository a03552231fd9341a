/*
 * The virtual SoC's runner of a Zephyr program (include/amplink/compat/zephyr): the program's main() is compiled as
 * ampl_zephyr_main(); this main() attaches the agent ($AMPLINK_SOC, $AMPLINK_AGENT), starts the K_THREAD_DEFINE
 * threads, runs the program's main() and, once it and every thread have returned, detaches. Exit status: 0 when
 * the program's main() returned 0, 1 otherwise, 2 when the agent could not be attached.
 */
#include <pthread.h>
#include <stdio.h>

#include <zephyr/kernel.h>

#include "compat.h"

int ampl_zephyr_main(void);

static struct ampl_k_thread *threads;

void ampl_k_thread_register(struct ampl_k_thread *t)
{
	t->next = threads;
	threads = t;
}

static void *run_thread(void *arg)
{
	struct ampl_k_thread *t = arg;
	if (t->delay_ms > 0)
		k_msleep(t->delay_ms);
	t->entry(t->p1, t->p2, t->p3);
	return NULL;
}

int main(void)
{
	static pthread_t tids[64];
	unsigned n = 0;
	if (ampl_compat_attach())
		return 2;
	for (struct ampl_k_thread *t = threads; t; t = t->next) {
		if (n == sizeof(tids) / sizeof(tids[0]) || pthread_create(&tids[n], NULL, run_thread, t)) {
			fprintf(stderr, "amplink compat: cannot start thread %s\n", t->name);
			ampl_compat_detach();
			return 2;
		}
		n++;
	}
	int rc = ampl_zephyr_main();
	for (unsigned i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
	ampl_compat_detach();
	return rc ? 1 : 0;
}
