/*
 * The device registry from several threads at once: each thread registers, looks up (by name and by label),
 * checks and unregisters devices of its own while the others do the same, and walks the registry; every lookup
 * finds the thread's own device and the registry ends as it began. Run under ThreadSanitizer by make test-tsan.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>

#include <amplink/device.h>

#define THREADS 4
#define DEVS 16
#define ROUNDS 200

struct dev_slot {
	struct ampl_device dev;
	struct ampl_device_state state;
	char name[32], label[32];
};

static struct dev_slot slots[THREADS][DEVS];
static atomic_int inits;

static int count_init(const struct ampl_device *dev)
{
	(void)dev;
	atomic_fetch_add(&inits, 1);
	return 0;
}

static int count_dev(const struct ampl_device *dev, void *arg)
{
	(void)dev;
	(*(int *)arg)++;
	return 0;
}

static void *churn(void *arg)
{
	int t = (int)(intptr_t)arg;
	long bad = 0;
	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < DEVS; i++) {
			struct dev_slot *s = &slots[t][i];
			bad += ampl_device_register(&s->dev) != 0;
		}
		for (int i = 0; i < DEVS; i++) {
			struct dev_slot *s = &slots[t][i];
			bad += ampl_device_get_binding(s->name) != &s->dev;
			bad += ampl_device_get_by_label(s->label) != &s->dev;
			bad += !ampl_device_is_ready(&s->dev);
			bad += ampl_device_register(&s->dev) != -EEXIST;
		}
		int n = 0;
		ampl_device_foreach(count_dev, &n);
		bad += n < DEVS;
		for (int i = 0; i < DEVS; i++) {
			struct dev_slot *s = &slots[t][i];
			bad += ampl_device_unregister(&s->dev) != 0;
			bad += ampl_device_is_ready(&s->dev);
			bad += ampl_device_get_binding(s->name) != NULL;
		}
	}
	return (void *)bad;
}

static void test_registry_threads(void **state)
{
	(void)state;
	for (int t = 0; t < THREADS; t++)
		for (int i = 0; i < DEVS; i++) {
			struct dev_slot *s = &slots[t][i];
			snprintf(s->name, sizeof(s->name), "dev@%d-%d", t, i);
			snprintf(s->label, sizeof(s->label), "dev_%d_%d", t, i);
			s->dev = (struct ampl_device){ .name = s->name, .label = s->label, .init = count_init, .state = &s->state };
		}
	int before = 0;
	ampl_device_foreach(count_dev, &before);
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, churn, (void *)(intptr_t)t), 0);
	for (int t = 0; t < THREADS; t++) {
		void *bad;
		pthread_join(th[t], &bad);
		assert_int_equal((intptr_t)bad, 0);
	}
	assert_int_equal(atomic_load(&inits), THREADS * DEVS * ROUNDS);
	int after = 0;
	ampl_device_foreach(count_dev, &after);
	assert_int_equal(after, before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
