/*
 * Interrupt routing on the virtual SoC: RPU0 receives from the APU and RPU1, each source routed to an interrupt
 * line of its own (its own thread and handler); a source masked keeps its request pending while the other still
 * delivers, and the request is delivered at unmask; routes flipped between the four lines under a storm from two
 * sender processes lose and duplicate nothing; an acknowledgement is never undone by another line's read of ISR
 * (at random, and forced with a read stalled by isr_read_hook.h); another process changes the routes through the
 * image (ampl_soc_irq_route(), as `amplink agent route` does), which a handle attached as another agent may not (an
 * access fault on the supervisor's page); without interrupt threads ampl_agent_poll() runs every line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/ipm.h>
#include <amplink/host/soc.h>
#include "child.h"
#include "isr_read_hook.h"

#define N_STORM 20000 /* requests per sender in the storm */

static const struct ampl_soc_agent *agent(const char *name)
{
	const struct ampl_soc_agent *a = ampl_soc_agent_by_name(&ampl_soc_zynqmp, name);
	assert_non_null(a);
	return a;
}

static uint32_t bit_of(const char *name)
{
	return 1u << agent(name)->ipi->bit;
}

static struct ampl_agent *attach(struct ampl_soc *soc, const char *name)
{
	struct ampl_agent *ag;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	int ret = ampl_agent_attach(soc, name, &o, &ag);
	if (ret)
		fail_msg("attach %s: %s (%s)", name, ampl_errname(ret), ampl_soc_last_error());
	return ag;
}

static const struct ampl_device *chan(struct ampl_agent *ag, const char *remote)
{
	const struct ampl_device *dev;
	int ret = ampl_agent_channel(ag, remote, &dev);
	if (ret)
		fail_msg("channel to %s: %s (%s)", remote, ampl_errname(ret), ampl_soc_last_error());
	return dev;
}

static bool wait_for(atomic_int *v, int want)
{
	for (int i = 0; i < 5000 && atomic_load(v) < want; i++)
		usleep(1000);
	return atomic_load(v) >= want;
}

/* ---- what the receiver saw ---- */

struct seen {
	atomic_int calls;              /* rx callbacks */
	_Atomic pthread_t thread;      /* the thread of the last one */
	atomic_int by_line[AMPL_IRQ_LINES][2]; /* line handler calls: [line][0 apu, 1 rpu1] */
	_Atomic pthread_t line_thread[AMPL_IRQ_LINES];
};

static void rx_cb(const struct ampl_device *dev, void *ud, uint32_t id, volatile void *data)
{
	(void)dev;
	(void)id;
	(void)data;
	struct seen *s = ud;
	atomic_store(&s->thread, pthread_self());
	atomic_fetch_add(&s->calls, 1);
}

static void line_cb(void *arg, unsigned line, const struct ampl_soc_agent *source)
{
	struct seen *s = arg;
	atomic_store(&s->line_thread[line], pthread_self());
	atomic_fetch_add(&s->by_line[line][strcmp(source->name, "apu") ? 1 : 0], 1);
}

struct env {
	char name[64];
	struct ampl_soc *soc;
	struct ampl_agent *rpu0, *apu, *rpu1;
	const struct ampl_device *from_apu, *from_rpu1; /* at rpu0 */
	const struct ampl_device *apu_tx, *rpu1_tx;
	struct seen s_apu, s_rpu1;
};

/* The SoC only: a test forks its other processes now, before this one has threads. */
static void env_create(struct env *e)
{
	memset(e, 0, sizeof(*e));
	static unsigned n;
	snprintf(e->name, sizeof(e->name), "t-route-%d-%u", (int)getpid(), n++);
	ampl_soc_destroy(e->name);
	assert_int_equal(ampl_soc_create(e->name, &ampl_soc_zynqmp, NULL, 0), 0);
}

/* RPU0 attached, its channels from the APU and RPU1 enabled; with @senders, the APU and RPU1 in this process. */
static void env_attach(struct env *e, bool senders)
{
	assert_int_equal(ampl_soc_open(e->name, &e->soc), 0);
	e->rpu0 = attach(e->soc, "rpu0");
	e->from_apu = chan(e->rpu0, "apu");
	e->from_rpu1 = chan(e->rpu0, "rpu1");
	ipm_register_callback(e->from_apu, rx_cb, &e->s_apu);
	ipm_register_callback(e->from_rpu1, rx_cb, &e->s_rpu1);
	assert_int_equal(ipm_set_enabled(e->from_apu, 1), 0);
	assert_int_equal(ipm_set_enabled(e->from_rpu1, 1), 0);
	if (!senders)
		return;
	e->apu = attach(e->soc, "apu");
	e->rpu1 = attach(e->soc, "rpu1");
	e->apu_tx = chan(e->apu, "rpu0");
	e->rpu1_tx = chan(e->rpu1, "rpu0");
}

static void env_up(struct env *e, bool senders)
{
	env_create(e);
	env_attach(e, senders);
}

static void env_down(struct env *e)
{
	ampl_agent_detach(e->apu);
	ampl_agent_detach(e->rpu1);
	ampl_agent_detach(e->rpu0);
	ampl_soc_close(e->soc);
	ampl_soc_destroy(e->name);
}

/* Each source on its own line: its requests run that line's handler, in that line's thread, and only that one. */
static void test_route_to_lines(void **state)
{
	(void)state;
	static struct env e;
	env_up(&e, true);
	struct seen lines = { 0 };
	for (unsigned l = 0; l < AMPL_IRQ_LINES; l++)
		assert_int_equal(ampl_agent_irq_connect(e.rpu0, l, line_cb, &lines), 0);
	assert_int_equal(ampl_agent_irq_route(e.rpu0, bit_of("rpu1"), 2), 0);
	assert_int_equal(ampl_agent_irq_route(e.rpu0, bit_of("apu"), 1), 0);

	struct ampl_irq_table t;
	assert_int_equal(ampl_soc_irq_table(e.soc, agent("rpu0"), &t), 0);
	assert_int_equal(t.line_src[1], bit_of("apu"));
	assert_int_equal(t.line_src[2], bit_of("rpu1"));
	assert_int_equal(t.line_src[3], 0);
	assert_int_equal(t.line_src[0] & (bit_of("apu") | bit_of("rpu1")), 0);

	uint8_t msg[4] = { 1, 2, 3, 4 };
	for (int i = 0; i < 10; i++) {
		assert_int_equal(ipm_send(e.apu_tx, 1, 0, msg, sizeof(msg)), 0);
		assert_int_equal(ipm_send(e.rpu1_tx, 1, 0, msg, sizeof(msg)), 0);
	}
	assert_true(wait_for(&e.s_apu.calls, 10));
	assert_true(wait_for(&e.s_rpu1.calls, 10));
	assert_int_equal(atomic_load(&lines.by_line[1][0]), 10);
	assert_int_equal(atomic_load(&lines.by_line[2][1]), 10);
	assert_int_equal(atomic_load(&lines.by_line[0][0]) + atomic_load(&lines.by_line[0][1]), 0);
	assert_int_equal(atomic_load(&lines.by_line[1][1]) + atomic_load(&lines.by_line[2][0]), 0);
	assert_int_equal(atomic_load(&lines.by_line[3][0]) + atomic_load(&lines.by_line[3][1]), 0);
	/* Two lines, two threads: each source's callback ran in its line's thread. */
	assert_true(pthread_equal(atomic_load(&e.s_apu.thread), atomic_load(&lines.line_thread[1])));
	assert_true(pthread_equal(atomic_load(&e.s_rpu1.thread), atomic_load(&lines.line_thread[2])));
	assert_false(pthread_equal(atomic_load(&lines.line_thread[1]), atomic_load(&lines.line_thread[2])));

	/* Back to line 0. */
	assert_int_equal(ampl_agent_irq_route(e.rpu0, bit_of("apu") | bit_of("rpu1"), 0), 0);
	assert_int_equal(ipm_send(e.apu_tx, 1, 0, msg, sizeof(msg)), 0);
	assert_true(wait_for(&e.s_apu.calls, 11));
	assert_int_equal(atomic_load(&lines.by_line[0][0]), 1);

	/* Bad arguments say why. */
	assert_int_equal(ampl_agent_irq_route(e.rpu0, bit_of("apu"), AMPL_IRQ_LINES), -EINVAL);
	assert_non_null(strstr(ampl_soc_last_error(), "line 4"));
	assert_int_equal(ampl_agent_irq_route(e.rpu0, 1u << 30, 1), -EINVAL);
	assert_int_equal(ampl_agent_irq_mask(e.rpu0, 1u << 30, true), -EINVAL);
	assert_int_equal(ampl_agent_irq_connect(NULL, 0, line_cb, NULL), -EINVAL);
	env_down(&e);
}

/* A masked source keeps its request pending while the other source still delivers; unmasked, it is delivered. */
static void test_mask_per_source(void **state)
{
	(void)state;
	static struct env e;
	env_up(&e, true);
	uint8_t msg[4] = { 5, 6, 7, 8 };
	assert_int_equal(ampl_agent_irq_mask(e.rpu0, bit_of("apu"), true), 0);
	struct ampl_irq_table t;
	assert_int_equal(ampl_soc_irq_table(e.soc, agent("rpu0"), &t), 0);
	assert_int_equal(t.masked, bit_of("apu"));

	assert_int_equal(ipm_send(e.apu_tx, 0, 0, msg, sizeof(msg)), 0); /* no wait: it stays pending */
	for (int i = 0; i < 5; i++)
		assert_int_equal(ipm_send(e.rpu1_tx, 1, 0, msg, sizeof(msg)), 0);
	assert_true(wait_for(&e.s_rpu1.calls, 5));
	usleep(20000);
	assert_int_equal(atomic_load(&e.s_apu.calls), 0);
	assert_true(xlnx_ipi_pending(e.apu_tx));
	/* The channel enabling its interrupt again does not undo the mask. */
	assert_int_equal(ipm_set_enabled(e.from_apu, 1), 0);
	usleep(20000);
	assert_int_equal(atomic_load(&e.s_apu.calls), 0);

	assert_int_equal(ampl_agent_irq_mask(e.rpu0, bit_of("apu"), false), 0);
	assert_true(wait_for(&e.s_apu.calls, 1));
	for (int i = 0; i < 1000 && xlnx_ipi_pending(e.apu_tx); i++)
		usleep(1000);
	assert_false(xlnx_ipi_pending(e.apu_tx));
	assert_int_equal(atomic_load(&e.s_apu.calls), 1);
	assert_int_equal(ampl_soc_irq_table(e.soc, agent("rpu0"), &t), 0);
	assert_int_equal(t.masked, 0);
	env_down(&e);
}

/* ---- the storm: two sender processes, the route of both flipped continuously ---- */

struct storm {
	_Atomic uint32_t received[2][N_STORM];
	atomic_int ready, go;
	atomic_int sent[2], failed[2];
	atomic_uint flips; /* route changes so far */
};

static struct storm *st;

static void storm_rx(const struct ampl_device *dev, void *ud, uint32_t id, volatile void *data)
{
	(void)dev;
	(void)id;
	int who = (int)(intptr_t)ud;
	uint32_t seq, check;
	memcpy(&seq, (const void *)data, 4);
	memcpy(&check, (const uint8_t *)data + 4, 4);
	if (seq < N_STORM && check == (seq ^ 0xA5A5A5A5u))
		atomic_fetch_add(&st->received[who][seq], 1);
}

static int sender_main(const char *soc_name, const char *name, int who)
{
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	struct ampl_agent_opts o = { .mode = AMPL_WAIT_ADAPTIVE };
	const struct ampl_device *tx;
	if (ampl_soc_open(soc_name, &soc) || ampl_agent_attach(soc, name, &o, &ag) || ampl_agent_channel(ag, "rpu0", &tx))
		return 2;
	atomic_fetch_add(&st->ready, 1);
	for (int i = 0; !atomic_load(&st->go); i++)
		if (i > 300000 || getppid() == 1) /* the test failed and went away */
			return 5;
		else
			usleep(100);
	for (uint32_t seq = 0; seq < N_STORM; seq++) {
		uint32_t m[2] = { seq, seq ^ 0xA5A5A5A5u };
		/* Every 500 requests, let the route change at least once (bounded): changes land among the traffic
		 * however the processes are scheduled. */
		unsigned f = atomic_load(&st->flips);
		for (int i = 0; seq % 500 == 0 && i < 5000 && atomic_load(&st->flips) == f; i++)
			usleep(1000);
		int r = ipm_send(tx, 1, 0, m, sizeof(m));
		if (r)
			atomic_fetch_add(&st->failed[who], 1);
		else
			atomic_fetch_add(&st->sent[who], 1);
	}
	ampl_agent_detach(ag);
	ampl_soc_close(soc);
	return 0;
}

static void test_route_flip_under_storm(void **state)
{
	(void)state;
	static struct env e;
	env_create(&e);
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_ptr_not_equal(st, MAP_FAILED);
	memset(st, 0, sizeof(*st));
	pid_t pids[2];
	const char *names[2] = { "apu", "rpu1" };
	for (int i = 0; i < 2; i++) {
		pids[i] = test_fork();
		if (pids[i] == 0)
			_exit(sender_main(e.name, names[i], i));
	}
	env_attach(&e, false);
	ipm_register_callback(e.from_apu, storm_rx, (void *)(intptr_t)0);
	ipm_register_callback(e.from_rpu1, storm_rx, (void *)(intptr_t)1);
	while (atomic_load(&st->ready) < 2)
		usleep(1000);
	atomic_store(&st->go, 1);
	uint32_t both = bit_of("apu") | bit_of("rpu1");
	unsigned flips = 0;
	while (atomic_load(&st->sent[0]) + atomic_load(&st->failed[0]) < N_STORM ||
	       atomic_load(&st->sent[1]) + atomic_load(&st->failed[1]) < N_STORM) {
		/* Each source on its own line, then both on one, round the four lines. */
		unsigned l = flips % AMPL_IRQ_LINES;
		assert_int_equal(ampl_agent_irq_route(e.rpu0, bit_of("apu"), l), 0);
		assert_int_equal(ampl_agent_irq_route(e.rpu0, bit_of("rpu1"), (l + 1 + flips / 4 % 3) % AMPL_IRQ_LINES), 0);
		if (flips % 7 == 6)
			assert_int_equal(ampl_agent_irq_route(e.rpu0, both, l), 0);
		flips++;
		atomic_store(&st->flips, flips);
		usleep(50);
	}
	for (int i = 0; i < 2; i++) {
		int status;
		waitpid(pids[i], &status, 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	print_message("%u route changes during %d + %d requests\n", flips, atomic_load(&st->sent[0]),
		      atomic_load(&st->sent[1]));
	for (int who = 0; who < 2; who++) {
		assert_int_equal(atomic_load(&st->failed[who]), 0);
		for (int seq = 0; seq < N_STORM; seq++)
			if (atomic_load(&st->received[who][seq]) != 1)
				fail_msg("%s seq %d delivered %u times", names[who], seq,
					 atomic_load(&st->received[who][seq]));
	}
	assert_true(flips >= 2 * N_STORM / 500);
	munmap(st, sizeof(*st));
	env_down(&e);
}

/* ---- concurrent ISR reads: every line's handler reads ISR on every ring, while another line serves a request ---- */

/* Requests raised and acknowledged beside the readers (AMPL_TEST_SCALE set: a tenth), and the readers: more threads
 * than this machine kind's two CPUs, so that now and then one is preempted in the middle of its read. */
#define N_ISR_ROUNDS 1000000
#define N_ISR_READERS 3

struct isr_reader {
	struct ampl_io_region regs; /* rpu0's */
	atomic_bool stop;
};

/* A SoC opened as no agent (the supervisor's handle: nothing attached reads or acknowledges), the APU's registers
 * in @apu and RPU0's in @rpu0. */
static void regs_env(struct env *e, struct ampl_io_region *apu, struct ampl_io_region *rpu0)
{
	env_create(e);
	assert_int_equal(ampl_soc_open(e->name, &e->soc), 0);
	assert_int_equal(ampl_soc_agent_regs(e->soc, agent("apu"), apu), 0);
	assert_int_equal(ampl_soc_agent_regs(e->soc, agent("rpu0"), rpu0), 0);
}

static void *isr_reader_main(void *arg)
{
	struct isr_reader *r = arg;
	while (!atomic_load(&r->stop))
		(void)ampl_io_read32(&r->regs, AMPL_IPI_ISR);
	return NULL;
}

/*
 * An acknowledgement of the request a handler read is never ignored, however the other lines' handlers read ISR
 * meanwhile. The model remembers, per source, the request the process last read in ISR, so that an acknowledgement
 * about a request that was dropped meanwhile leaves the next one pending; a read that found the previous request
 * pending and stored that after its acknowledgement once made the handler of the next one look like such a stale
 * acknowledgement: the request stayed pending and was delivered a second time (the likely cause of the storm's one
 * duplicate, in a loaded run). Here the APU raises, RPU0 reads and acknowledges, with other threads reading ISR as
 * RPU0 meanwhile, and every acknowledgement must end its request at once. Register level (the supervisor's handle,
 * no process attached): the race is the model's, and without interrupt threads nothing else reads or acknowledges.
 */
static void test_ack_beside_isr_reads(void **state)
{
	(void)state;
	static struct env e;
	struct ampl_io_region apu;
	static struct isr_reader rd;
	atomic_store(&rd.stop, false);
	regs_env(&e, &apu, &rd.regs);
	uint32_t b_apu = bit_of("apu"), b_rpu0 = bit_of("rpu0");
	int n = getenv("AMPL_TEST_SCALE") ? N_ISR_ROUNDS / 10 : N_ISR_ROUNDS;
	pthread_t t[N_ISR_READERS];
	for (int i = 0; i < N_ISR_READERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, isr_reader_main, &rd), 0);
	int ignored = 0, rounds = 0;
	for (; rounds < n && !ignored; rounds++) {
		ampl_io_write32(&apu, AMPL_IPI_TRIG, b_rpu0);
		if (!(ampl_io_read32(&rd.regs, AMPL_IPI_ISR) & b_apu))
			break;
		ampl_io_write32(&rd.regs, AMPL_IPI_ISR, b_apu);
		if (ampl_io_read32(&apu, AMPL_IPI_OBS) & b_rpu0)
			ignored++;
	}
	atomic_store(&rd.stop, true);
	for (int i = 0; i < N_ISR_READERS; i++)
		pthread_join(t[i], NULL);
	if (ignored)
		fail_msg("round %d: the acknowledgement of the request read was ignored (still pending)", rounds);
	assert_int_equal(rounds, n);
	ampl_soc_close(e.soc);
	ampl_soc_destroy(e.name);
}

/* The model's ISR reads call this after they found a request pending, before they remember it (isr_read_hook.h). */
static _Atomic int stall_bit = -1; /* armed: the next read that finds this source pending stalls, once */
static atomic_int stalled, resume;

void isr_read_hook(unsigned bit, uint32_t raised)
{
	(void)raised;
	int want = (int)bit;
	if (atomic_load(&stall_bit) != want || !atomic_compare_exchange_strong(&stall_bit, &want, -1))
		return; /* unarmed (every other read of the test program), or another source */
	atomic_store(&stalled, 1);
	while (!atomic_load(&resume))
		usleep(100);
}

static void *isr_read_once(void *arg)
{
	(void)ampl_io_read32(arg, AMPL_IPI_ISR);
	return NULL;
}

/*
 * The same, forced: another line's read of ISR finds request 1 pending and stalls before it remembers it; request 1
 * is read and acknowledged, request 2 raised and read; the stalled read goes on; request 2's acknowledgement must end
 * it, not be taken for one about request 1.
 */
static void test_ack_beside_stalled_isr_read(void **state)
{
	(void)state;
	static struct env e;
	struct ampl_io_region apu;
	static struct ampl_io_region rpu0;
	regs_env(&e, &apu, &rpu0);
	uint32_t b_apu = bit_of("apu"), b_rpu0 = bit_of("rpu0");
	atomic_store(&stalled, 0);
	atomic_store(&resume, 0);

	ampl_io_write32(&apu, AMPL_IPI_TRIG, b_rpu0); /* request 1 */
	atomic_store(&stall_bit, (int)agent("apu")->ipi->bit);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, isr_read_once, &rpu0), 0);
	bool was_stalled = wait_for(&stalled, 1);
	if (!was_stalled)
		atomic_store(&stall_bit, -1); /* never reached: this thread's reads below must not stall instead */

	/* The reader goes on before anything is asserted: a failure leaves no thread stalled behind. */
	bool read1 = ampl_io_read32(&rpu0, AMPL_IPI_ISR) & b_apu;
	ampl_io_write32(&rpu0, AMPL_IPI_ISR, b_apu);
	bool acked1 = !(ampl_io_read32(&apu, AMPL_IPI_OBS) & b_rpu0);
	ampl_io_write32(&apu, AMPL_IPI_TRIG, b_rpu0); /* request 2 */
	bool read2 = ampl_io_read32(&rpu0, AMPL_IPI_ISR) & b_apu;
	atomic_store(&stall_bit, -1);
	atomic_store(&resume, 1);
	pthread_join(t, NULL);
	assert_true(was_stalled);
	assert_true(read1);
	assert_true(acked1);
	assert_true(read2);
	ampl_io_write32(&rpu0, AMPL_IPI_ISR, b_apu);
	assert_false(ampl_io_read32(&apu, AMPL_IPI_OBS) & b_rpu0); /* request 2 acknowledged */
	assert_false(ampl_io_read32(&rpu0, AMPL_IPI_ISR) & b_apu);
	ampl_soc_close(e.soc);
	ampl_soc_destroy(e.name);
}

/* Another process asks the attached one through the image; bad requests and absent agents are refused. */
static void test_supervisor_request(void **state)
{
	(void)state;
	static struct env e;
	env_create(&e);
	atomic_int *go = mmap(NULL, sizeof(*go), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_ptr_not_equal(go, MAP_FAILED);
	atomic_store(go, 0);
	pid_t pid = test_fork();
	if (pid == 0) {
		struct ampl_soc *soc;
		for (int i = 0; !atomic_load(go); i++)
			if (i > 30000 || getppid() == 1) /* the test failed and went away */
				_exit(7);
			else
				usleep(1000);
		if (ampl_soc_open(e.name, &soc))
			_exit(2);
		int code = 0;
		if (ampl_soc_irq_route(soc, agent("rpu0"), bit_of("apu"), 3, 2000))
			code = 3;
		else if (ampl_soc_irq_mask(soc, agent("rpu0"), bit_of("rpu1"), true, 2000))
			code = 4;
		else if (ampl_soc_irq_route(soc, agent("rpu0"), bit_of("apu"), 7, 2000) != -EINVAL)
			code = 5;
		else if (ampl_soc_irq_route(soc, agent("rpu1"), bit_of("apu"), 1, 2000) != -ENOENT ||
			 !strstr(ampl_soc_last_error(), "no process is attached as rpu1"))
			code = 6;
		/* Attached as an agent, the handle is no longer the supervisor's: rpu0's routing is not its to ask. */
		struct ampl_agent *ag = NULL;
		struct ampl_agent_opts o = { .no_irq_thread = true, .no_dt_devices = true };
		if (!code && ampl_agent_attach(soc, "rpu1", &o, &ag))
			code = 8;
		else if (!code && (ampl_soc_irq_route(soc, agent("rpu0"), bit_of("apu"), 1, 2000) != -EACCES ||
				   !strstr(ampl_soc_last_error(), "rpu1 may not change the interrupt routing")))
			code = 9;
		ampl_agent_detach(ag);
		ampl_soc_close(soc);
		_exit(code);
	}
	env_attach(&e, false);
	atomic_store(go, 1);
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	struct ampl_irq_table t;
	assert_int_equal(ampl_soc_irq_table(e.soc, agent("rpu0"), &t), 0);
	assert_int_equal(t.line_src[3], bit_of("apu"));
	assert_int_equal(t.masked, bit_of("rpu1"));
	assert_int_equal(ampl_soc_irq_table(e.soc, agent("apu"), &t), -ENOENT);
	/* The route is in force: a request from the APU runs line 3. */
	struct seen lines = { 0 };
	assert_int_equal(ampl_agent_irq_connect(e.rpu0, 3, line_cb, &lines), 0);
	e.apu = attach(e.soc, "apu");
	uint8_t msg[4] = { 0 };
	assert_int_equal(ipm_send(chan(e.apu, "rpu0"), 1, 0, msg, sizeof(msg)), 0);
	assert_true(wait_for(&lines.by_line[3][0], 1));
	munmap(go, sizeof(*go));
	env_down(&e);
}

/* Without interrupt threads, ampl_agent_poll() runs every line (and applies the requests of other processes). */
static void test_lines_polled(void **state)
{
	(void)state;
	static struct env e;
	env_create(&e);
	assert_int_equal(ampl_soc_open(e.name, &e.soc), 0);
	struct ampl_agent_opts o = { .no_irq_thread = true };
	assert_int_equal(ampl_agent_attach(e.soc, "rpu0", &o, &e.rpu0), 0);
	e.from_apu = chan(e.rpu0, "apu");
	ipm_register_callback(e.from_apu, rx_cb, &e.s_apu);
	assert_int_equal(ipm_set_enabled(e.from_apu, 1), 0);
	struct seen lines = { 0 };
	assert_int_equal(ampl_agent_irq_connect(e.rpu0, 3, line_cb, &lines), 0);
	assert_int_equal(ampl_agent_irq_route(e.rpu0, bit_of("apu"), 3), 0);
	e.apu = attach(e.soc, "apu");
	e.apu_tx = chan(e.apu, "rpu0");
	uint8_t msg[4] = { 9 };
	assert_int_equal(ipm_send(e.apu_tx, 0, 0, msg, sizeof(msg)), 0);
	usleep(20000);
	assert_int_equal(atomic_load(&e.s_apu.calls), 0); /* nobody ran the lines */
	assert_int_equal(ampl_agent_poll(e.rpu0), 0);
	assert_int_equal(atomic_load(&e.s_apu.calls), 1);
	assert_int_equal(atomic_load(&lines.by_line[3][0]), 1);
	assert_true(pthread_equal(atomic_load(&e.s_apu.thread), pthread_self()));
	env_down(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_to_lines),
		cmocka_unit_test(test_mask_per_source),
		cmocka_unit_test(test_route_flip_under_storm),
		cmocka_unit_test(test_ack_beside_isr_reads),
		cmocka_unit_test(test_ack_beside_stalled_isr_read),
		cmocka_unit_test(test_supervisor_request),
		cmocka_unit_test(test_lines_polled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
