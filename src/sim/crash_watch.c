/*
 * Crash detection on the virtual SoC. A process killed without detaching (SIGKILL, a crash) leaves its agent
 * looking attached. Each process with an attached agent runs one small watcher thread per SoC handle that, every
 * SIM_WATCH_PERIOD_MS,
 * checks the processes recorded for the other agents, and one seen dead is offline for this process, as after
 * ampl_soc_agent_set_online(false) (pending requests discarded and reported -ESHUTDOWN, sends
 * fail with -ESHUTDOWN, the hotplug machinery of every attached process follows). Why this design:
 *   - polling a recorded identity needs nothing from the dead process (it cannot run code) and no parent/child
 *     relation between the processes; a pidfd would need a per-peer descriptor kept in sync with re-attaches, and
 *     the interrupt thread cannot carry the check because it may be absent (no_irq_thread), and its runs are
 *     paced by traffic and by its re-check period, not by this bound.
 *   - the recorded identity is one 64-bit word (pid | start token << 32, sim_owner_self()) in the agent's own page
 *     (only its process writes it), so a check and a re-attach never see a pid with another process's token; the
 *     start token (the process start time) makes a pid reused by an unrelated process count as dead, and a zombie
 *     counts as dead too (its parent has not reaped it yet).
 *   - the verdict is no shared word: each watcher records the owner value it found dead in its own process
 *     (struct ampl_soc.dead_owner), and the agent is crashed, there, while its owner word still holds that value.
 *     So no co-tenant can declare a live agent crashed (it cannot write the owner word, and every process judges
 *     the process behind it for itself), and the restarted process's ampl_agent_attach(), writing a new owner,
 *     ends the crash at once in every process (an agent taken offline by an operator stays offline). Each
 *     watcher drops the requests pending at the dead agent; the drop's compare-and-swap ends each one once.
 * Bound: a death is seen within one period (10 ms) plus the time to read /proc for each agent; the interrupt
 * threads then follow within their wake-up latency (tens of microseconds): well under 50 ms on an idle host.
 */
#include "sim/agent_internal.h"
#include "sim/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* State (field 3) and start time (field 22) of /proc/PID/stat. Return: 0; -errno (-ENOENT: no such process). */
static int proc_stat(int pid, char *state, unsigned long long *start)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int err = errno;
	close(fd);
	if (n <= 0)
		return n < 0 ? -err : -EIO;
	buf[n] = 0;
	char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
	if (!p)
		return -EIO;
	p++;
	unsigned field = 3;
	char *end;
	while (*p == ' ')
		p++;
	*state = *p;
	for (; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EIO;
		while (*p == ' ')
			p++;
	}
	*start = strtoull(p, &end, 10);
	return end == p ? -EIO : 0;
}

static uint32_t start_token(unsigned long long start)
{
	uint32_t t = (uint32_t)start;
	return t ? t : 1u; /* 0 means "unknown" */
}

uint64_t sim_owner_self(void)
{
	int pid = (int)getpid();
	char st;
	unsigned long long start;
	uint32_t tok = proc_stat(pid, &st, &start) ? 0u : start_token(start);
	return (uint64_t)(uint32_t)pid | (uint64_t)tok << 32;
}

bool sim_owner_alive(uint64_t owner)
{
	int pid = (int)(uint32_t)owner;
	uint32_t tok = (uint32_t)(owner >> 32);
	if (pid <= 0)
		return false;
	char st;
	unsigned long long start;
	int r = proc_stat(pid, &st, &start);
	if (!r)
		return st != 'Z' && st != 'X' && (!tok || start_token(start) == tok);
	if (kill(pid, 0) == -1 && errno == ESRCH)
		return false;
	return true; /* cannot tell (no /proc, another pid namespace): never take a live processor away */
}

void sim_watch_check(struct ampl_soc *soc)
{
	int me = (int)getpid();
	for (unsigned i = 0; i < soc->profile->num_agents; i++) {
		uint64_t o = atomic_load(&soc->img->regs[i].owner);
		if (!o || (int)(uint32_t)o == me || o == atomic_load(&soc->dead_owner[i]) || sim_owner_alive(o))
			continue;
		bool was_offline = sim_offline(soc, i);
		atomic_store(&soc->dead_owner[i], o);
		sim_hotplug_bump(&soc->dead_seq);
		/* Already offline (an operator's, a retirement): what was pending then was discarded then. */
		if (!was_offline)
			sim_hotplug_notify(soc, i, false, sim_drop_all(soc, i));
	}
}

struct sim_watch {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	unsigned users; /* attached agents of this SoC handle */
};

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER; /* soc->watch */

static void *watch_main(void *arg)
{
	struct ampl_soc *soc = arg;
	struct sim_watch *w = soc->watch;
	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)SIM_WATCH_PERIOD_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!w->stop && pthread_cond_timedwait(&w->cond, &w->lock, &ts) != ETIMEDOUT)
			;
		if (w->stop)
			break;
		pthread_mutex_unlock(&w->lock);
		sim_watch_check(soc);
		sim_trace_sync();
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int sim_watch_start(struct ampl_soc *soc)
{
	int ret = 0;
	pthread_mutex_lock(&watch_lock);
	if (!soc->watch) {
		struct sim_watch *w = calloc(1, sizeof(*w));
		pthread_condattr_t ca;
		if (!w) {
			ret = -ENOMEM;
			goto out;
		}
		pthread_mutex_init(&w->lock, NULL);
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&w->cond, &ca);
		pthread_condattr_destroy(&ca);
		soc->watch = w;
		ret = -pthread_create(&w->thread, NULL, watch_main, soc);
		if (ret) {
			soc->watch = NULL;
			pthread_cond_destroy(&w->cond);
			pthread_mutex_destroy(&w->lock);
			free(w);
			goto out;
		}
	}
	soc->watch->users++;
out:
	pthread_mutex_unlock(&watch_lock);
	return ret;
}

void sim_watch_stop(struct ampl_soc *soc)
{
	pthread_mutex_lock(&watch_lock);
	struct sim_watch *w = soc->watch;
	if (!w || --w->users) {
		pthread_mutex_unlock(&watch_lock);
		return;
	}
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	soc->watch = NULL;
	pthread_mutex_unlock(&watch_lock);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
