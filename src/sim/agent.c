/*
 * Agents: a process takes the role of one processor of the virtual SoC. It gets the agent's IPI register block
 * (through the register model), an interrupt context running the IPI driver's handler, one mailbox controller per
 * destination (devicetree child node, or profile pair on demand) and an IPM device over each, built with the same
 * driver code firmware uses. It also follows hotplug: when an agent goes offline or comes back, the channels
 * concerned are marked offline or online in the framework, and an ICMsg instance on one of them is told
 * (ICMSG_PEER_OFFLINE / ICMSG_PEER_ONLINE on its rx channel).
 *
 * Crash detection. A process killed without detaching (SIGKILL, a crash) leaves its agent looking attached. Each
 * process with an attached agent runs one small watcher thread per SoC handle that, every SIM_WATCH_PERIOD_MS,
 * checks the processes recorded for the other agents, and the first to see one dead takes that agent offline
 * exactly as ampl_soc_agent_set_online(false) does (pending requests discarded and reported -ESHUTDOWN, sends
 * fail with -ESHUTDOWN, the hotplug machinery of every attached process follows). Why this design:
 *   - polling a recorded identity needs nothing from the dead process (it cannot run code) and no parent/child
 *     relation between the processes; a pidfd would need a per-peer descriptor kept in sync with re-attaches, and
 *     the interrupt thread cannot carry the check because it may be absent (no_irq_thread), and its runs are
 *     paced by traffic and by its re-check period, not by this bound.
 *   - the recorded identity is one 64-bit word (pid | start token << 32, sim_owner_self()), so a check, the
 *     "mark once" compare-and-swap and a re-attach never see a pid with another process's token; the start token
 *     (the process start time) makes a pid reused by an unrelated process count as dead, and a zombie counts as
 *     dead too (its parent has not reaped it yet).
 *   - the compare-and-swap of the owner word to 0 elects one marker among all the watchers; `crashed` records
 *     that the agent is offline because of a crash, so that the restarted process's ampl_agent_attach() brings it
 *     back online (an agent taken offline by an operator stays offline).
 * Bound: a death is seen within one period (10 ms) plus the time to read /proc for each agent; the interrupt
 * threads then follow within their wake-up latency (tens of microseconds): well under 50 ms on an idle host.
 */
#include "sim/image.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <amplink/drivers/nxp_mu.h>
#include <amplink/drivers/xlnx_ipi.h>
#include <amplink/dt.h>
#include <amplink/ipc/ipc_icmsg.h>
#include <amplink/ipc/ipc_multi.h>
#include <amplink/ipc/ipc_rpmsg.h>

struct sim_chan {
	struct xlnx_ipi_mbox mbox;
	struct device dev;
	struct device_state state;
	struct xlnx_ipi_ipm_config cfg;
	struct xlnx_ipi_ipm_data data;
	const struct ampl_ipi_agent *remote;
	char node[AMPL_SHM_NAME_MAX + AMPL_DT_PATH_MAX + 2]; /* "SOC:/path/of/node" (controller name) */
	char name[AMPL_DT_NAME_MAX + AMPL_SHM_NAME_MAX + 16];
	char label[AMPL_DT_NAME_MAX];
	atomic_bool icmsg;    /* an IPC instance uses this destination: tell it about hotplug */
	_Atomic int off_seen; /* the offline state last applied to the channels */
};

/* One side of one Messaging Unit of this agent: its framework controller and its IPM device. */
struct sim_mu_dev {
	struct nxp_mu mu;
	struct device dev;
	struct device_state state;
	struct nxp_mu_ipm_config cfg;
	struct nxp_mu_ipm_data data;
	char node[AMPL_SHM_NAME_MAX + AMPL_DT_PATH_MAX + 2 + AMPL_DT_NAME_MAX]; /* "SOC:/path[:agent]" */
	char name[2 * AMPL_DT_NAME_MAX];
	char label[2 * AMPL_DT_NAME_MAX];
};

struct sim_consumer {
	struct mbox_consumer con;
	struct mbox_spec specs[AMPL_DT_MAX_MBOXES];
	char providers[AMPL_DT_MAX_MBOXES][AMPL_SHM_NAME_MAX + AMPL_DT_PATH_MAX + 2];
	const struct ampl_dt_consumer *dt;
};

/* One ICMsg IPC service instance (a `zephyr,ipc-icmsg` node) of this agent. */
struct sim_icmsg {
	struct device dev;
	struct device_state state;
	struct ipc_icmsg_config cfg;
	struct ipc_icmsg_data data;
	const struct ampl_dt_icmsg *dt;
	char name[AMPL_DT_NAME_MAX];
	char label[AMPL_DT_NAME_MAX];
	uint8_t rx_buf[]; /* cfg.icmsg.rx_buf_size bytes */
};

/* One multi-endpoint IPC service instance (an `amplink,ipc-multi` node) of this agent. */
struct sim_multi {
	struct device dev;
	struct device_state state;
	struct ipc_multi_config cfg;
	struct ipc_multi_data data;
	char name[AMPL_DT_NAME_MAX];
	char label[AMPL_DT_NAME_MAX];
};

/* One RPMsg IPC service instance (a `zephyr,ipc-openamp-static-vrings` node) of this agent. */
struct sim_rpmsg {
	struct device dev;
	struct device_state state;
	struct ipc_rpmsg_config cfg;
	struct ipc_rpmsg_data data;
	char name[AMPL_DT_NAME_MAX];
	char label[AMPL_DT_NAME_MAX];
};

struct ampl_agent {
	struct sim_icmsg *icmsgs[AMPL_DT_MAX_ICMSG];
	struct sim_rpmsg *rpmsgs[AMPL_DT_MAX_RPMSG];
	struct ampl_soc *soc;
	const struct ampl_ipi_agent *info;
	unsigned idx;
	struct ampl_agent_opts opts;
	struct xlnx_ipi_host host;
	struct ampl_irq_thread *irq;
	struct sim_chan *chans[32]; /* by remote bit */
	struct ampl_dt_board *board; /* the SoC's devicetree, parsed */
	struct sim_consumer consumers[AMPL_DT_MAX_CONSUMERS];
	uint32_t hotplug_seen;
	uint32_t offline_seen[SIM_MAX_AGENTS];
	struct sim_mu_dev *mus[SIM_MAX_MUS]; /* by MU index, for the MUs with a side of this agent */
	struct sim_multi *multis[AMPL_DT_MAX_IPC_MULTI];
	uint64_t owner; /* what this attach recorded in sim_agent.owner */
	bool damaged_seen; /* the image's damage was applied to the channels (interrupt context) */
};

/* The device registry is single-threaded by contract; agents of one process may attach from several threads. */
static struct ampl_lock registry_lock = AMPL_LOCK_INIT;

static void unregister_device(struct device *dev)
{
	ampl_lock(&registry_lock);
	ampl_device_unregister(dev);
	ampl_unlock(&registry_lock);
}

/*
 * Fill in and register a device the agent owns. A device whose init hook fails is taken out of the registry again,
 * so a failed registration leaves nothing behind. Return: as ampl_device_register().
 */
static int register_device(struct device *dev, struct device_state *state, const char *name, const char *label,
			   const void *api, const void *config, void *data, ampl_device_init_fn init)
{
	*dev = (struct device){ .name = name, .label = label && label[0] ? label : NULL, .api = api,
				.config = config, .data = data, .init = init, .state = state };
	ampl_lock(&registry_lock);
	int ret = ampl_device_register(dev);
	if (ret && ret != -EEXIST)
		ampl_device_unregister(dev);
	ampl_unlock(&registry_lock);
	return ret;
}

static int map_buffer(struct ampl_soc *soc, uint64_t addr, struct ampl_io_region *r)
{
	volatile void *p = ampl_soc_phys(soc, addr, AMPL_IPI_BUF_SIZE);
	if (!p)
		return sim_error(-EINVAL, "buffer 0x%llx is not in the SoC's memory", (unsigned long long)addr);
	r->base = p;
	r->size = AMPL_IPI_BUF_SIZE;
	r->ops = NULL;
	r->ctx = NULL;
	return 0;
}

static uint32_t remote_discards(void *ctx, unsigned bit)
{
	struct ampl_agent *ag = ctx;
	int8_t idx = ag->soc->idx_by_bit[bit];
	if (idx < 0)
		return 0;
	return atomic_load(&ag->soc->img->agents[idx].discards[ag->info->bit]);
}

static bool chan_hotplug(struct ampl_agent *ag, struct sim_chan *c)
{
	struct sim_agent *img = ag->soc->img->agents;
	unsigned r = ampl_soc_agent_index(ag->soc->profile, c->remote);
	/* A damaged image (its file shrank) holds nothing any more: every channel is offline for good. */
	bool offline = atomic_load(&img[r].offline) || atomic_load(&img[ag->idx].offline) || sim_damaged(ag->soc);
	for (int i = 0; i < 2; i++)
		mbox_chan_set_offline(&c->mbox.chans[i], offline ? -ESHUTDOWN : 0);
	return offline;
}

/* Interrupt-context handler: follow offline/online transitions of any agent. */
static void hotplug_isr(void *arg)
{
	struct ampl_agent *ag = arg;
	uint32_t gen = atomic_load(&ag->soc->img->hotplug_gen);
	bool damaged = sim_damaged(ag->soc);
	if (gen == ag->hotplug_seen && damaged == ag->damaged_seen)
		return;
	ag->hotplug_seen = gen;
	ag->damaged_seen = damaged;
	for (unsigned b = 0; b < 32; b++) {
		struct sim_chan *c = ag->chans[b];
		if (!c)
			continue;
		bool off = chan_hotplug(ag, c);
		/* An IPC link learns it from its rx channel, in its RX callback context (this one), serialised with
		 * its doorbells and with mbox_free_channel() at close. */
		if (atomic_exchange(&c->off_seen, (int)off) != (int)off && atomic_load(&c->icmsg))
			(void)ampl_mbox_chan_deliver(&c->mbox.chans[XLNX_IPI_RX_CHAN],
						     off ? ICMSG_PEER_OFFLINE : ICMSG_PEER_ONLINE);
	}
}

/* ---- crash detection (see the top of this file) ---- */

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
		struct sim_agent *a = &soc->img->agents[i];
		uint64_t o = atomic_load(&a->owner);
		if (!o || (int)(uint32_t)o == me || sim_owner_alive(o))
			continue;
		/* MARKING before the owner word is taken: an attach that records itself after that waits for the
		 * outcome (revive()), and one that recorded itself before makes the compare-and-swap fail. */
		uint32_t st = SIM_CRASH_NONE;
		if (!atomic_compare_exchange_strong(&a->crashed, &st, SIM_CRASH_MARKING))
			continue; /* another watcher is on it, or it is offline from an earlier crash */
		if (!atomic_compare_exchange_strong(&a->owner, &o, 0)) {
			atomic_store(&a->crashed, SIM_CRASH_NONE); /* the agent was attached again */
			continue;
		}
		int32_t pid = (int32_t)(uint32_t)o;
		atomic_compare_exchange_strong(&a->pid, &pid, 0);
		/* Already offline (an operator's): not ours to bring back at the next attach. */
		bool ours = !ampl_soc_agent_set_online(soc, &soc->profile->agents[i], false);
		atomic_store(&a->crashed, ours ? SIM_CRASH_MARKED : SIM_CRASH_NONE);
	}
}

/* At attach (after recording the owner): an agent offline because its previous process died comes back. */
static void revive(struct ampl_soc *soc, unsigned idx)
{
	struct sim_agent *a = &soc->img->agents[idx];
	/* A watcher in the middle of marking it finishes within microseconds; one that died there is waited out. */
	uint64_t end = ampl_now_ns() + 100000000u;
	while (atomic_load(&a->crashed) == SIM_CRASH_MARKING && ampl_now_ns() < end)
		usleep(100);
	uint32_t st = atomic_load(&a->crashed);
	if (st != SIM_CRASH_NONE && atomic_compare_exchange_strong(&a->crashed, &st, SIM_CRASH_NONE))
		(void)ampl_soc_agent_set_online(soc, &soc->profile->agents[idx], true);
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
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static int watch_start(struct ampl_soc *soc)
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

static void watch_stop(struct ampl_soc *soc)
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

/* Build and register one destination (controller + IPM device) to @remote. @dt may be NULL (profile layout). */
static int make_chan(struct ampl_agent *ag, const struct ampl_ipi_agent *remote, const struct ampl_dt_ipi_chan *dt)
{
	struct ampl_soc *soc = ag->soc;
	const struct ampl_soc_profile *p = soc->profile;
	if (ag->chans[remote->bit])
		return -EEXIST;
	struct sim_chan *c = calloc(1, sizeof(*c));
	if (!c)
		return sim_error(-ENOMEM, "out of memory");
	c->remote = remote;
	c->mbox.host = &ag->host;
	c->mbox.remote_mask = ampl_ipi_mask(remote);
	uint64_t lreq, lresp, rreq, rresp;
	if (dt) {
		c->mbox.buffered = dt->buffered;
		lreq = dt->local_req, lresp = dt->local_resp, rreq = dt->remote_req, rresp = dt->remote_resp;
		snprintf(c->name, sizeof(c->name), "%s", dt->node.name);
		snprintf(c->label, sizeof(c->label), "%s", dt->node.label);
		snprintf(c->node, sizeof(c->node), "%s:%s", soc->name, dt->node.path);
	} else {
		lreq = ampl_ipi_request_addr(p, ag->info, remote);
		rreq = ampl_ipi_request_addr(p, remote, ag->info);
		lresp = lreq + AMPL_IPI_RESP_OFFSET;
		rresp = rreq + AMPL_IPI_RESP_OFFSET;
		c->mbox.buffered = lreq && rreq;
		snprintf(c->name, sizeof(c->name), "%s-%s@%s", ag->info->name, remote->name, soc->name);
		snprintf(c->node, sizeof(c->node), "%s:%s->%s", soc->name, ag->info->name, remote->name);
	}
	int ret = 0;
	if (c->mbox.buffered) {
		ret = map_buffer(soc, lreq, &c->mbox.local_req);
		ret = ret ? ret : map_buffer(soc, lresp, &c->mbox.local_resp);
		ret = ret ? ret : map_buffer(soc, rreq, &c->mbox.remote_req);
		ret = ret ? ret : map_buffer(soc, rresp, &c->mbox.remote_resp);
	}
	if (!ret) {
		ret = xlnx_ipi_mbox_init(&c->mbox, c->node);
		if (ret)
			sim_error(ret, "cannot register the mailbox controller %s: %s", c->node, ampl_strerror(ret));
	}
	if (ret) {
		free(c);
		return ret;
	}
	c->cfg.mbox = &c->mbox;
	c->cfg.ack_timeout_us = ag->opts.ack_timeout_us;
	ret = register_device(&c->dev, &c->state, c->name, c->label, &xlnx_ipi_ipm_api, &c->cfg, &c->data,
			      xlnx_ipi_ipm_init);
	if (ret == -EEXIST)
		sim_error(ret, "a device named '%s' is already registered in this process", c->name);
	else if (ret)
		sim_error(ret, "cannot initialise channel %s: %s", c->name, ampl_strerror(ret));
	if (ret) {
		xlnx_ipi_mbox_remove(&c->mbox);
		free(c);
		return ret;
	}
	ag->chans[remote->bit] = c;
	atomic_store(&c->off_seen, (int)chan_hotplug(ag, c));
	return 0;
}

static void free_chans(struct ampl_agent *ag)
{
	for (unsigned b = 0; b < 32; b++) {
		struct sim_chan *c = ag->chans[b];
		if (!c)
			continue;
		xlnx_ipi_ipm_release(&c->dev);
		unregister_device(&c->dev);
		xlnx_ipi_mbox_remove(&c->mbox);
		free(c);
		ag->chans[b] = NULL;
	}
}

/* ---- NXP Messaging Units ---- */

#define SIM_MU_DATA_SIZE 16u /* bytes per IPM message on an MU (Zephyr's default CONFIG_IPM_IMX_MAX_DATA_SIZE) */

static void mu_soft_irq(void *line)
{
	ampl_doorbell_ring(line); /* our own interrupt line: the handler runs soon, in the interrupt context */
}

/* Build and register this agent's side of MU @block: controller "SOC:<path>" and IPM device <name>/<alias>. */
static int make_mu(struct ampl_agent *ag, unsigned block)
{
	struct ampl_soc *soc = ag->soc;
	const struct sim_mu_cfg *cfg = &soc->mu_cfg[block];
	if (ag->mus[block])
		return 0;
	struct sim_mu_dev *m = calloc(1, sizeof(*m));
	if (!m)
		return sim_error(-ENOMEM, "out of memory");
	unsigned side = cfg->owner[0] == ag->idx ? 0u : 1u;
	ampl_soc_mu_regs(soc, block, side, &m->mu.regs);
	m->mu.side_b = side == 1;
	/* The image is created in reset and other processes of this side may already use it: no side-A reset. */
	m->mu.no_reset = true;
	m->mu.soft_irq = mu_soft_irq;
	m->mu.soft_irq_arg = &soc->img->agents[ag->idx].irq;
	m->cfg.mu = &m->mu;
	m->cfg.data_size = SIM_MU_DATA_SIZE;
	m->cfg.ack_timeout_us = ag->opts.ack_timeout_us;
	const char *label = cfg->alias[0] ? cfg->alias : cfg->label[0] ? cfg->label : NULL;
	int ret = -EEXIST;
	/* The node's names; if this process already has them (it attached the other side too): "<name>:<agent>". */
	for (int pass = 0; pass < 2 && ret == -EEXIST; pass++) {
		const char *sep = pass ? ":" : "", *who = pass ? ag->info->name : "";
		snprintf(m->node, sizeof(m->node), "%s:%s%s%s", soc->name, cfg->path, sep, who);
		snprintf(m->name, sizeof(m->name), "%s%s%s", cfg->name, sep, who);
		snprintf(m->label, sizeof(m->label), "%s%s%s", label ? label : "", sep, who);
		ret = nxp_mu_init(&m->mu, m->node);
		if (ret)
			continue;
		ret = register_device(&m->dev, &m->state, m->name, label ? m->label : NULL, &nxp_mu_ipm_api, &m->cfg,
				      &m->data, nxp_mu_ipm_init);
		if (ret)
			nxp_mu_remove(&m->mu);
	}
	bool up = !ret;
	if (up && ag->irq)
		ret = ampl_irq_connect(ag->irq, nxp_mu_isr, &m->mu);
	if (ret) {
		sim_error(ret, "cannot set up side %c of the Messaging Unit %s: %s", side ? 'B' : 'A', cfg->path,
			  ampl_strerror(ret));
		if (up) {
			unregister_device(&m->dev);
			nxp_mu_remove(&m->mu);
		}
		free(m);
		return ret;
	}
	ag->mus[block] = m;
	return 0;
}

static void free_mus(struct ampl_agent *ag)
{
	for (unsigned i = 0; i < SIM_MAX_MUS; i++) {
		struct sim_mu_dev *m = ag->mus[i];
		if (!m)
			continue;
		nxp_mu_ipm_release(&m->dev);
		unregister_device(&m->dev);
		nxp_mu_remove(&m->mu);
		free(m);
		ag->mus[i] = NULL;
	}
}

static void agent_names(const struct ampl_soc_profile *p, char *buf, size_t cap);

/* The first MU between this agent and @remote (made on first use). */
static int find_mu(struct ampl_agent *ag, const char *remote, struct sim_mu_dev **out)
{
	const struct ampl_ipi_agent *r = ampl_soc_agent_by_name(ag->soc->profile, remote);
	if (!r) {
		char valid[256];
		agent_names(ag->soc->profile, valid, sizeof(valid));
		return sim_error(-EINVAL, "unknown agent '%s' on a %s SoC (agents: %s)", remote ? remote : "(null)",
				 ag->soc->profile->name, valid);
	}
	unsigned ri = ampl_soc_agent_index(ag->soc->profile, r);
	for (unsigned i = 0; i < ag->soc->num_mus; i++) {
		const uint32_t *o = ag->soc->mu_cfg[i].owner;
		if ((o[0] == ag->idx && o[1] == ri) || (o[1] == ag->idx && o[0] == ri)) {
			int ret = make_mu(ag, i);
			if (!ret)
				*out = ag->mus[i];
			return ret;
		}
	}
	return sim_error(-ENOENT, "no Messaging Unit between %s and %s on SoC %s", ag->info->name, r->name,
			 ag->soc->name);
}

static void agent_names(const struct ampl_soc_profile *p, char *buf, size_t cap)
{
	buf[0] = 0;
	for (unsigned i = 0; i < p->num_agents; i++) {
		size_t n = strlen(buf);
		snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", p->agents[i].name);
	}
}

int ampl_agent_attach(struct ampl_soc *soc, const char *agent, const struct ampl_agent_opts *opts,
		      struct ampl_agent **out)
{
	if (!soc || !out)
		return sim_error(-EINVAL, "no SoC");
	const struct ampl_ipi_agent *info = ampl_soc_agent_by_name(soc->profile, agent);
	if (!info) {
		char valid[256];
		agent_names(soc->profile, valid, sizeof(valid));
		return sim_error(-EINVAL, "unknown agent '%s' on a %s SoC (agents: %s)", agent ? agent : "(null)",
				 soc->profile->name, valid);
	}
	unsigned idx = ampl_soc_agent_index(soc->profile, info);
	if (sim_damaged(soc))
		return sim_damaged_error(soc);
	if (soc->attached[idx])
		return sim_error(-EBUSY, "this process is already attached to %s as %s", soc->name, info->name);
	struct ampl_agent *ag = calloc(1, sizeof(*ag));
	if (!ag)
		return sim_error(-ENOMEM, "out of memory");
	/* One live process per agent. Claimed before anything else, so that no watcher takes the restarted processor
	 * for the dead one; a holder that died without detaching is replaced (the compare-and-swap and the watcher's
	 * own one on the same word decide who goes first, see sim_watch_check()). */
	ag->owner = sim_owner_self();
	struct sim_agent *sa = &soc->img->agents[idx];
	for (;;) {
		uint64_t cur = atomic_load(&sa->owner);
		if (cur && sim_owner_alive(cur)) {
			free(ag);
			if (cur == sim_owner_self())
				return sim_error(-EBUSY, "this process is already attached to %s as %s (through another "
						 "SoC handle)", soc->name, info->name);
			return sim_error(-EBUSY, "agent %s of SoC %s is held by process %d, which is alive: one process "
					 "per agent (stop that one first)", info->name, soc->name, (int)(uint32_t)cur);
		}
		if (atomic_compare_exchange_strong(&sa->owner, &cur, ag->owner))
			break;
	}
	ag->soc = soc;
	ag->info = info;
	ag->idx = idx;
	if (opts)
		ag->opts = *opts;
	soc->ports[idx].mode = ag->opts.mode;
	struct ampl_io_region regs;
	ampl_soc_agent_regs(soc, info, &regs);
	xlnx_ipi_host_init(&ag->host, &regs, soc->profile->valid_mask);
	ag->host.discards = remote_discards;
	ag->host.discards_ctx = ag;
	revive(soc, idx);
	ag->hotplug_seen = atomic_load(&soc->img->hotplug_gen);

	int ret = watch_start(soc);
	bool watching = !ret;
	ag->board = calloc(1, sizeof(*ag->board));
	struct ampl_dt_diag *diag = calloc(1, sizeof(*diag));
	if (ret) {
		sim_error(ret, "cannot start the crash-detection thread: %s", strerror(-ret));
		goto fail;
	}
	size_t dtb_size;
	const void *shared_dtb = ampl_soc_dtb(soc, &dtb_size);
	/* Parse a private copy: libfdt must not see the blob change under it. */
	void *dtb = malloc(dtb_size ? dtb_size : 1);
	if (!ag->board || !diag || !dtb) {
		free(dtb);
		ret = sim_error(-ENOMEM, "out of memory");
		goto fail;
	}
	memcpy(dtb, shared_dtb, dtb_size);
	ret = ampl_dt_load_blob(dtb, dtb_size, "SoC devicetree", soc->profile, ag->board, diag);
	free(dtb);
	if (ret) {
		sim_error(ret, "%s", diag->msg);
		goto fail;
	}
	for (unsigned i = 0; !ag->opts.no_dt_devices && i < ag->board->num_ctrls; i++) {
		const struct ampl_dt_ipi_ctrl *ctrl = &ag->board->ctrls[i];
		if (ctrl->local != info)
			continue;
		for (unsigned j = 0; j < ctrl->num_chans; j++) {
			ret = make_chan(ag, ctrl->chans[j].remote, &ctrl->chans[j]);
			if (ret)
				goto fail;
		}
	}
	ret = ampl_irq_thread_create(&ag->irq, &soc->img->agents[idx].irq, ag->opts.mode);
	if (ret)
		goto fail;
	ampl_irq_connect(ag->irq, xlnx_ipi_isr, &ag->host);
	ampl_irq_connect(ag->irq, hotplug_isr, ag);
	for (unsigned i = 0; !ag->opts.no_dt_devices && i < soc->num_mus; i++) {
		if (soc->mu_cfg[i].owner[0] != idx && soc->mu_cfg[i].owner[1] != idx)
			continue;
		ret = make_mu(ag, i);
		if (ret)
			goto fail;
	}
	if (!ag->opts.no_irq_thread) {
		ret = ampl_irq_thread_run(ag->irq);
		if (ret) {
			sim_error(ret, "cannot start the interrupt thread: %s", strerror(-ret));
			goto fail;
		}
	}
	atomic_store(&soc->img->agents[idx].pid, (int32_t)getpid());
	soc->attached[idx] = ag;
	free(diag);
	*out = ag;
	return 0;
fail:
	ampl_irq_thread_stop(ag->irq);
	free_chans(ag);
	free_mus(ag);
	if (watching)
		watch_stop(soc);
	atomic_compare_exchange_strong(&soc->img->agents[idx].owner, &ag->owner, 0);
	free(ag->board);
	free(diag);
	free(ag);
	return ret;
}

static void free_icmsgs(struct ampl_agent *ag)
{
	for (unsigned i = 0; i < AMPL_DT_MAX_ICMSG; i++) {
		struct sim_icmsg *m = ag->icmsgs[i];
		if (!m)
			continue;
		if (m->data.registered)
			icmsg_close(&m->data.im);
		unregister_device(&m->dev);
		free(m);
		ag->icmsgs[i] = NULL;
	}
}

static void free_multis(struct ampl_agent *ag)
{
	for (unsigned i = 0; i < AMPL_DT_MAX_IPC_MULTI; i++) {
		struct sim_multi *m = ag->multis[i];
		if (!m)
			continue;
		for (unsigned k = 0; k < IPC_MULTI_MAX_EPT; k++)
			m->data.ept[k].used = false; /* endpoints left registered go with the instance */
		(void)ipc_multi_backend.close_instance(&m->dev);
		unregister_device(&m->dev);
		free(m);
		ag->multis[i] = NULL;
	}
}

static void free_rpmsgs(struct ampl_agent *ag)
{
	for (unsigned i = 0; i < AMPL_DT_MAX_RPMSG; i++) {
		struct sim_rpmsg *m = ag->rpmsgs[i];
		if (!m)
			continue;
		for (unsigned k = 0; k < IPC_RPMSG_MAX_EPT; k++)
			if (atomic_load(&m->data.ept[k].used))
				(void)ipc_rpmsg_backend.deregister_endpoint(&m->dev, &m->data.ept[k]);
		(void)ipc_rpmsg_backend.close_instance(&m->dev);
		unregister_device(&m->dev);
		free(m);
		ag->rpmsgs[i] = NULL;
	}
}

void ampl_agent_detach(struct ampl_agent *ag)
{
	if (!ag)
		return;
	ampl_irq_thread_stop(ag->irq); /* no handler runs after this */
	free_icmsgs(ag); /* before the controllers their channels belong to */
	free_multis(ag);
	free_rpmsgs(ag);
	free_chans(ag);
	free_mus(ag);
	int32_t me = (int32_t)getpid();
	atomic_compare_exchange_strong(&ag->soc->img->agents[ag->idx].pid, &me, 0);
	atomic_compare_exchange_strong(&ag->soc->img->agents[ag->idx].owner, &ag->owner, 0);
	ag->soc->attached[ag->idx] = NULL;
	watch_stop(ag->soc);
	free(ag->board);
	free(ag);
}

static int find_or_make(struct ampl_agent *ag, const char *remote, struct sim_chan **out)
{
	if (!ag)
		return -EINVAL;
	const struct ampl_ipi_agent *r = ampl_soc_agent_by_name(ag->soc->profile, remote);
	if (!r) {
		char valid[256];
		agent_names(ag->soc->profile, valid, sizeof(valid));
		return sim_error(-EINVAL, "unknown agent '%s' on a %s SoC (agents: %s)", remote ? remote : "(null)",
				 ag->soc->profile->name, valid);
	}
	if (!ag->chans[r->bit]) {
		const struct ampl_dt_ipi_chan *dt = ampl_dt_find_chan(ag->board, ag->info->ipi_id, r->ipi_id, NULL);
		int ret = make_chan(ag, r, dt);
		if (ret)
			return ret;
	}
	*out = ag->chans[r->bit];
	return 0;
}

int ampl_agent_channel(struct ampl_agent *ag, const char *remote, const struct device **dev)
{
	struct sim_chan *c;
	if (!dev)
		return -EINVAL;
	if (ag && !ag->soc->profile->valid_mask) { /* no IPI block: the Messaging Units carry IPM */
		struct sim_mu_dev *m;
		int ret = find_mu(ag, remote, &m);
		if (!ret)
			*dev = &m->dev;
		return ret;
	}
	int ret = find_or_make(ag, remote, &c);
	if (!ret)
		*dev = &c->dev;
	return ret;
}

int ampl_agent_mbox(struct ampl_agent *ag, const char *remote, struct mbox_controller **mbox)
{
	struct sim_chan *c;
	if (!mbox)
		return -EINVAL;
	if (ag && !ag->soc->profile->valid_mask) {
		struct sim_mu_dev *m;
		int ret = find_mu(ag, remote, &m);
		if (!ret)
			*mbox = &m->mu.ctrl;
		return ret;
	}
	int ret = find_or_make(ag, remote, &c);
	if (!ret)
		*mbox = &c->mbox.ctrl;
	return ret;
}

int ampl_agent_mbox_consumer(struct ampl_agent *ag, const char *node, const struct mbox_consumer **consumer)
{
	if (!ag || !consumer)
		return -EINVAL;
	const struct ampl_dt_consumer *dt = ampl_dt_find_consumer(ag->board, node);
	if (!dt)
		return sim_error(-ENOENT, "the SoC's devicetree has no node '%s' with mboxes", node ? node : "(null)");
	unsigned i = (unsigned)(dt - ag->board->consumers);
	struct sim_consumer *sc = &ag->consumers[i];
	if (sc->dt != dt) {
		sc->dt = dt;
		for (unsigned k = 0; k < dt->num_mboxes; k++) {
			snprintf(sc->providers[k], sizeof(sc->providers[k]), "%s:%s", ag->soc->name, dt->mboxes[k].provider);
			sc->specs[k].provider = sc->providers[k];
			sc->specs[k].nargs = dt->mboxes[k].nargs;
			memcpy(sc->specs[k].args, dt->mboxes[k].args, sizeof(sc->specs[k].args));
			sc->specs[k].name = dt->mboxes[k].name[0] ? dt->mboxes[k].name : NULL;
		}
		sc->con.name = dt->node.path;
		sc->con.mboxes = sc->specs;
		sc->con.num_mboxes = dt->num_mboxes;
	}
	*consumer = &sc->con;
	return 0;
}

int ampl_agent_poll(struct ampl_agent *ag)
{
	if (!ag)
		return -EINVAL;
	ampl_irq_run_handlers(ag->irq);
	return 0;
}

const struct ampl_ipi_agent *ampl_agent_info(const struct ampl_agent *ag)
{
	return ag ? ag->info : NULL;
}

const struct ampl_soc_profile *ampl_agent_profile(const struct ampl_agent *ag)
{
	return ag ? ag->soc->profile : NULL;
}

static int ipc_multi_instance(struct ampl_agent *ag, const struct ampl_dt_ipc_multi *mdt,
			      const struct device **dev);
static int ipc_icmsg_make(struct ampl_agent *ag, const struct ampl_dt_icmsg *dt, unsigned idx,
			  const struct mbox_consumer *mc, const struct device **dev);
/* The mailbox part of an IPC instance node. */
struct ipc_node {
	const char *path;
	unsigned consumer, tx_mbox, rx_mbox;
};

static int ipc_node_mailbox(struct ampl_agent *ag, const struct ipc_node *dt, const struct mbox_consumer **mc,
			    struct sim_chan **chan);
static int ipc_rpmsg_instance(struct ampl_agent *ag, const struct ampl_dt_rpmsg *rdt, const struct device **dev);

int ampl_agent_ipc_instance(struct ampl_agent *ag, const char *label, const struct device **dev)
{
	if (!ag || !dev)
		return -EINVAL;
	const struct ampl_dt_icmsg *dt = ampl_dt_find_icmsg(ag->board, label);
	const struct ampl_dt_ipc_multi *mdt = dt ? NULL : ampl_dt_find_ipc_multi(ag->board, label);
	const struct ampl_dt_rpmsg *rdt = dt || mdt ? NULL : ampl_dt_find_rpmsg(ag->board, label);
	if (mdt)
		return ipc_multi_instance(ag, mdt, dev);
	if (rdt)
		return ipc_rpmsg_instance(ag, rdt, dev);
	if (!dt)
		return sim_error(-ENOENT,
				 "the SoC's devicetree has no zephyr,ipc-icmsg, amplink,ipc-multi or "
				 "zephyr,ipc-openamp-static-vrings node '%s'",
				 label ? label : "(null)");
	unsigned idx = (unsigned)(dt - ag->board->icmsgs);
	if (ag->icmsgs[idx]) {
		*dev = &ag->icmsgs[idx]->dev;
		return 0;
	}
	const struct mbox_consumer *mc;
	struct sim_chan *sc;
	struct ipc_node in = { dt->node.path, dt->consumer, dt->tx_mbox, dt->rx_mbox };
	int ret = ipc_node_mailbox(ag, &in, &mc, &sc);
	if (ret)
		return ret;
	ret = ipc_icmsg_make(ag, dt, idx, mc, dev);
	if (!ret)
		atomic_store(&sc->icmsg, true);
	return ret;
}

/* The consumer of an IPC instance node, after checking that its "tx"/"rx" name one IPI destination of this agent. */
static int ipc_node_mailbox(struct ampl_agent *ag, const struct ipc_node *dt, const struct mbox_consumer **mc,
			    struct sim_chan **chan_out)
{
	/* The mailbox the node's "tx" entry names must be one of this agent's destinations. */
	const struct ampl_dt_consumer *con = &ag->board->consumers[dt->consumer];
	const char *prov = con->mboxes[dt->tx_mbox].provider;
	const struct ampl_dt_ipi_chan *chan = NULL;
	for (unsigned i = 0; !chan && i < ag->board->num_ctrls; i++) {
		const struct ampl_dt_ipi_ctrl *ct = &ag->board->ctrls[i];
		for (unsigned j = 0; j < ct->num_chans; j++) {
			if (!strcmp(ct->chans[j].node.path, prov)) {
				if (ct->local != ag->info)
					return sim_error(-EINVAL, "%s: its mailbox %s belongs to %s, not to %s", dt->path,
							 prov, ct->local->name, ag->info->name);
				chan = &ct->chans[j];
				break;
			}
		}
	}
	if (!chan || strcmp(con->mboxes[dt->rx_mbox].provider, prov))
		return sim_error(-EINVAL, "%s: mboxes must name both channels of one IPI destination of %s",
				 dt->path, ag->info->name);
	struct sim_chan *sc;
	int ret = find_or_make(ag, chan->remote->name, &sc); /* the controller exists */
	if (ret)
		return ret;
	/* ICMsg uses the destination for doorbells only: signalling mode (both sides' instances set it). */
	xlnx_ipi_mbox_set_signalling(&sc->mbox, true);
	if (chan_out)
		*chan_out = sc;
	return ampl_agent_mbox_consumer(ag, dt->path, mc);
}

/* Register an IPC instance device (named after its node); on failure free @owner, the object holding it, and say
 * why. */
static int register_ipc_instance(struct device *dev, struct device_state *st, const char *name, const char *label,
				 const void *api, const void *cfg, void *data, void *owner)
{
	int ret = register_device(dev, st, name, label, api, cfg, data, NULL);
	if (ret) {
		free(owner);
		return sim_error(ret, "cannot register the IPC instance %s: %s", name, ampl_strerror(ret));
	}
	return 0;
}

static int ipc_icmsg_make(struct ampl_agent *ag, const struct ampl_dt_icmsg *dt, unsigned idx,
			  const struct mbox_consumer *mc, const struct device **dev)
{
	int ret;
	volatile void *tx = ampl_soc_phys(ag->soc, dt->tx_addr, (size_t)dt->tx_size);
	volatile void *rx = ampl_soc_phys(ag->soc, dt->rx_addr, (size_t)dt->rx_size);
	if (!tx || !rx)
		return sim_error(-EINVAL, "%s: its regions are not in the SoC's memory", dt->node.path);
	bool hs = dt->unbound != AMPL_DT_ICMSG_UNBOUND_DISABLE;
	struct pbuf_cfg pc;
	if (pbuf_cfg_init(&pc, (void *)rx, (size_t)dt->rx_size, dt->dcache_alignment, hs))
		return sim_error(-EINVAL, "%s: rx-region 0x%llx+0x%llx is not a valid ring for dcache-alignment %u",
				 dt->node.path, (unsigned long long)dt->rx_addr, (unsigned long long)dt->rx_size,
				 dt->dcache_alignment);
	uint32_t bufsz = PBUF_MAX_PAYLOAD(pc.data_len);
	if (bufsz > 0xFFFFu)
		bufsz = 0xFFFFu;
	if (bufsz < ICMSG_MIN_RX_BUF)
		bufsz = ICMSG_MIN_RX_BUF;
	struct sim_icmsg *m = calloc(1, sizeof(*m) + bufsz);
	if (!m)
		return sim_error(-ENOMEM, "out of memory");
	m->dt = dt;
	snprintf(m->name, sizeof(m->name), "%s", dt->node.name);
	snprintf(m->label, sizeof(m->label), "%s", dt->node.label);
	struct icmsg_config *ic = &m->cfg.icmsg;
	ic->tx_mem = (void *)tx;
	ic->tx_size = (uint32_t)dt->tx_size;
	ic->rx_mem = (void *)rx;
	ic->rx_size = (uint32_t)dt->rx_size;
	ic->dcache_alignment = dt->dcache_alignment;
	ic->unbound_mode = (enum icmsg_unbound_mode)dt->unbound;
	ic->peer_rx_max_default = dt->peer_max_packet;
	ic->size_ext = dt->max_packet_ext;
	ic->mbox_node = mc;
	ic->rx_buf = m->rx_buf;
	ic->rx_buf_size = bufsz;
	ret = register_ipc_instance(&m->dev, &m->state, m->name, m->label, &ipc_icmsg_backend, &m->cfg, &m->data, m);
	if (ret)
		return ret;
	ag->icmsgs[idx] = m;
	*dev = &m->dev;
	return 0;
}

static int ipc_multi_instance(struct ampl_agent *ag, const struct ampl_dt_ipc_multi *mdt, const struct device **dev)
{
	const struct ampl_dt_icmsg *dt = &mdt->base;
	unsigned idx = (unsigned)(mdt - ag->board->ipc_multis);
	if (ag->multis[idx]) {
		*dev = &ag->multis[idx]->dev;
		return 0;
	}
	const struct mbox_consumer *mc;
	struct sim_chan *sc;
	struct ipc_node in = { dt->node.path, dt->consumer, dt->tx_mbox, dt->rx_mbox };
	int ret = ipc_node_mailbox(ag, &in, &mc, &sc);
	if (ret)
		return ret;
	volatile void *tx = ampl_soc_phys(ag->soc, dt->tx_addr, (size_t)dt->tx_size);
	volatile void *rx = ampl_soc_phys(ag->soc, dt->rx_addr, (size_t)dt->rx_size);
	if (!tx || !rx)
		return sim_error(-EINVAL, "%s: its regions are not in the SoC's memory", dt->node.path);
	struct sim_multi *m = calloc(1, sizeof(*m));
	if (!m)
		return sim_error(-ENOMEM, "out of memory");
	snprintf(m->name, sizeof(m->name), "%s", dt->node.name);
	snprintf(m->label, sizeof(m->label), "%s", dt->node.label);
	m->cfg = (struct ipc_multi_config){
		.tx_mem = (void *)tx,
		.tx_size = (uint32_t)dt->tx_size,
		.rx_mem = (void *)rx,
		.rx_size = (uint32_t)dt->rx_size,
		.dcache_alignment = dt->dcache_alignment,
		.block_size = mdt->block_size,
		.block_count = mdt->block_count,
		.mbox_node = mc,
	};
	ret = register_ipc_instance(&m->dev, &m->state, m->name, m->label, &ipc_multi_backend, &m->cfg, &m->data, m);
	if (ret)
		return ret;
	atomic_store(&sc->icmsg, true); /* hotplug events reach it as ICMSG_PEER_OFFLINE / ONLINE */
	ag->multis[idx] = m;
	*dev = &m->dev;
	return 0;
}

static int ipc_rpmsg_instance(struct ampl_agent *ag, const struct ampl_dt_rpmsg *rdt, const struct device **dev)
{
	unsigned idx = (unsigned)(rdt - ag->board->rpmsgs);
	if (ag->rpmsgs[idx]) {
		*dev = &ag->rpmsgs[idx]->dev;
		return 0;
	}
	const struct mbox_consumer *mc;
	struct sim_chan *sc;
	struct ipc_node in = { rdt->node.path, rdt->consumer, rdt->tx_mbox, rdt->rx_mbox };
	int ret = ipc_node_mailbox(ag, &in, &mc, &sc);
	if (ret)
		return ret;
	volatile void *shm = ampl_soc_phys(ag->soc, rdt->addr, (size_t)rdt->size);
	if (!shm || rdt->addr > UINT32_MAX)
		return sim_error(-EINVAL, "%s: its memory-region is not in the SoC's memory", rdt->node.path);
	struct sim_rpmsg *m = calloc(1, sizeof(*m));
	if (!m)
		return sim_error(-ENOMEM, "out of memory");
	snprintf(m->name, sizeof(m->name), "%s", rdt->node.name);
	snprintf(m->label, sizeof(m->label), "%s", rdt->node.label);
	m->cfg = (struct ipc_rpmsg_config){
		.role = rdt->role == AMPL_DT_RPMSG_HOST ? RPMSG_HOST : RPMSG_REMOTE,
		.shm = (void *)shm,
		.shm_size = (uint32_t)rdt->size,
		.da_base = (uint32_t)rdt->addr,
		.vring_num = rdt->vring_num,
		.vring_align = rdt->vring_align,
		.h2r_buf_size = rdt->h2r_buffer_size,
		.r2h_buf_size = rdt->r2h_buffer_size,
		.mbox_node = mc,
	};
	ret = register_ipc_instance(&m->dev, &m->state, m->name, m->label, &ipc_rpmsg_backend, &m->cfg, &m->data, m);
	if (ret)
		return ret;
	atomic_store(&sc->icmsg, true); /* hotplug events reach it as ICMSG_PEER_OFFLINE / ONLINE */
	ag->rpmsgs[idx] = m;
	*dev = &m->dev;
	return 0;
}
