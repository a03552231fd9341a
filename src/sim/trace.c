/*
 * Statistics and tracing on the virtual SoC: the sink of the core's trace points (amplink/trace.h), the control
 * of a SoC's trace flag, and the reader that amplink trace and amplink stat use (amplink/host/soc_trace.h). The file
 * layout is src/sim/trace_file.h; docs/trace.md tells the user's side.
 *
 * Writer: each process attached as an agent has one slot per attached agent, with its mapping of the SoC's control
 * file and, once tracing was seen on, of the agent's trace file. An event is counted (per agent, per object,
 * errors by kind) and written to the ring at position head++ (an atomic add: the threads of one process share the
 * ring; no other process writes it). The writer never waits: a full ring overwrites its oldest record.
 * ampl_trace_on, the word every trace point reads, is the number of slots tracing now; the crash watcher's thread
 * updates it every period (sim_trace_sync()), so tracing follows amplink trace --on/--off within 10 ms.
 */
#include "sim/trace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <amplink/host/soc_trace.h>

#include "sim/agent_internal.h"
#include "sim/trace_file.h"

_Atomic uint32_t ampl_trace_on;

/* ---- names ---- */

static const struct {
	const char *name;
	const char *layer;
	bool result; /* val is a result: a negative one is counted as an error */
} events[AMPL_EV_COUNT] = {
	[AMPL_EV_NONE] = { "none", "?", false },
	[AMPL_EV_IPI_TRIG] = { "ipi.trig", "hw", false },
	[AMPL_EV_IPI_DISCARD] = { "ipi.discard", "hw", false },
	[AMPL_EV_IPI_ACK] = { "ipi.ack", "hw", false },
	[AMPL_EV_IPI_IER] = { "ipi.ier", "hw", false },
	[AMPL_EV_IPI_IDR] = { "ipi.idr", "hw", false },
	[AMPL_EV_IRQ] = { "irq", "hw", false },
	[AMPL_EV_AGENT_OFFLINE] = { "agent.offline", "hw", false },
	[AMPL_EV_AGENT_ONLINE] = { "agent.online", "hw", false },
	[AMPL_EV_ACCESS_FAULT] = { "access.fault", "hw", false },
	[AMPL_EV_CTRL_WRITE] = { "ctrl.write", "hw", false },
	[AMPL_EV_FILTER_ACCEPT] = { "filter.accept", "driver", false },
	[AMPL_EV_FILTER_REFUSE] = { "filter.refuse", "driver", false },
	[AMPL_EV_MBOX_SEND] = { "mbox.send", "mbox", true },
	[AMPL_EV_MBOX_TXDONE] = { "mbox.txdone", "mbox", true },
	[AMPL_EV_MBOX_RX] = { "mbox.rx", "mbox", false },
	[AMPL_EV_MBOX_DOORBELL] = { "mbox.doorbell", "mbox", true },
	[AMPL_EV_MBOX_OFFLINE] = { "mbox.offline", "mbox", false },
	[AMPL_EV_IPM_SEND] = { "ipm.send", "ipm", true },
	[AMPL_EV_IPM_RX] = { "ipm.rx", "ipm", false },
	[AMPL_EV_IPC_SEND] = { "ipc.send", "ipc", true },
	[AMPL_EV_ICMSG_RX] = { "icmsg.rx", "ipc", false },
	[AMPL_EV_MULTI_RX] = { "multi.rx", "ipc", false },
	[AMPL_EV_RPMSG_RX] = { "rpmsg.rx", "ipc", false },
};

const char *ampl_trace_event_name(unsigned ev)
{
	return ev < AMPL_EV_COUNT && events[ev].name ? events[ev].name : "?";
}

const char *ampl_trace_layer_name(unsigned ev)
{
	return ev < AMPL_EV_COUNT && events[ev].layer ? events[ev].layer : "?";
}

static const char *const err_names[AMPL_TRACE_ERR_KINDS] = {
	"EBUSY", "ESHUTDOWN", "EIO", "ENOMEM", "EMSGSIZE", "ETIMEDOUT", "ENOBUFS", "ECANCELED", "refused", "other",
};

const char *ampl_trace_err_name(unsigned kind)
{
	return kind < AMPL_TRACE_ERR_KINDS ? err_names[kind] : "?";
}

static unsigned err_kind(int32_t val)
{
	switch (-val) {
	case EBUSY:
		return AMPL_TRACE_ERR_BUSY;
	case ESHUTDOWN:
		return AMPL_TRACE_ERR_SHUTDOWN;
	case EIO:
		return AMPL_TRACE_ERR_IO;
	case ENOMEM:
		return AMPL_TRACE_ERR_NOMEM;
	case EMSGSIZE:
		return AMPL_TRACE_ERR_MSGSIZE;
	case ETIME:
	case ETIMEDOUT:
		return AMPL_TRACE_ERR_TIMEOUT;
	case ENOBUFS:
		return AMPL_TRACE_ERR_NOBUFS;
	case ECANCELED:
		return AMPL_TRACE_ERR_CANCELED;
	default:
		return AMPL_TRACE_ERR_OTHER;
	}
}

/* ---- files ---- */

#define CTL_SIZE 4096u

static void ctl_path(char *buf, size_t n, const char *soc)
{
	snprintf(buf, n, AMPL_SHM_DIR "/" SIM_TRACE_PREFIX "%s", soc);
}

static void agent_path(char *buf, size_t n, const char *soc, const char *agent)
{
	snprintf(buf, n, AMPL_SHM_DIR "/" SIM_TRACE_PREFIX "%s.%s", soc, agent);
}

#define PATH_SIZE (sizeof(AMPL_SHM_DIR) + sizeof(SIM_TRACE_PREFIX) + AMPL_SHM_NAME_MAX + 32)

/* Map the file at @path, made with @size zero bytes if it does not exist or is shorter. Return: 0 or -errno. */
static int map_file(const char *path, size_t size, void **base, size_t *mapped)
{
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0660);
	if (fd < 0)
		return -errno;
	struct stat st;
	int ret = 0;
	if (fstat(fd, &st) < 0)
		ret = -errno;
	else if (!S_ISREG(st.st_mode))
		ret = -ENOTSUP;
	else if ((size_t)st.st_size < size && ftruncate(fd, (off_t)size) < 0)
		ret = -errno;
	close(fd);
	if (ret)
		return ret;
	/* Mapped through the image guard: a file someone shrinks marks the mapping damaged instead of a SIGBUS. */
	ret = ampl_shm_attach_path(path, 0, base, mapped, NULL);
	if (!ret && *mapped < size) {
		ampl_shm_detach(*base, *mapped);
		ret = -EIO;
	}
	return ret;
}

static struct sim_trace_ctl *ctl_map(const char *soc, size_t *mapped)
{
	char path[PATH_SIZE];
	void *base;
	ctl_path(path, sizeof(path), soc);
	if (map_file(path, CTL_SIZE, &base, mapped))
		return NULL;
	return base;
}

int ampl_soc_trace_set(struct ampl_soc *soc, bool on)
{
	if (!soc)
		return sim_error(-EINVAL, "no SoC");
	char path[PATH_SIZE];
	void *base;
	size_t mapped;
	ctl_path(path, sizeof(path), soc->name);
	int ret = map_file(path, CTL_SIZE, &base, &mapped);
	if (ret)
		return sim_error(ret, "cannot open the trace control file %s: %s", path, strerror(-ret));
	struct sim_trace_ctl *ctl = base;
	memcpy(ctl->magic, SIM_TRACE_MAGIC, sizeof(ctl->magic));
	atomic_store(&ctl->flags, on ? SIM_TRACE_ON : 0u);
	ampl_shm_detach(base, mapped);
	return 0;
}

bool ampl_soc_trace_get(struct ampl_soc *soc)
{
	char path[PATH_SIZE];
	void *base;
	size_t mapped;
	if (!soc)
		return false;
	ctl_path(path, sizeof(path), soc->name);
	if (ampl_shm_attach_path(path, 0, &base, &mapped, NULL))
		return false;
	bool on = mapped >= sizeof(struct sim_trace_ctl) && (atomic_load(&((struct sim_trace_ctl *)base)->flags) & SIM_TRACE_ON);
	ampl_shm_detach(base, mapped);
	return on;
}

void sim_trace_unlink(const char *name)
{
	char path[PATH_SIZE];
	if (ampl_shm_name_valid(name))
		return;
	ctl_path(path, sizeof(path), name);
	unlink(path);
	/* The agent files: every agent name of every profile (the image, which says which profile, is gone). */
	const struct ampl_soc_profile *const profiles[] = { &ampl_soc_zynqmp, &ampl_soc_versal, &ampl_soc_imx };
	for (unsigned p = 0; p < AMPL_ARRAY_SIZE(profiles); p++)
		for (unsigned i = 0; i < profiles[p]->num_agents; i++) {
			agent_path(path, sizeof(path), name, profiles[p]->agents[i].name);
			unlink(path);
		}
}

/* ---- writer ---- */

#define SLOTS 32u
#define CACHE 256u

/* One attached agent of this process. */
struct slot {
	struct sim_trace_file *_Atomic f; /* the agent's trace file, once tracing was seen on; NULL while not tracing */
	_Atomic unsigned inflight;        /* events being written to f (detach waits for 0 before unmapping) */
	struct ampl_agent *_Atomic ag;    /* NULL: the slot is free */
	struct sim_trace_ctl *ctl;
	size_t ctl_size, f_size;
	bool tracing;                     /* counted in ampl_trace_on */
};

static struct slot slots[SLOTS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * Which agent an object belongs to, and its index in that agent's file: found once (describe()), then cached. The
 * key is the pointer the trace point passed, or, for events that name an agent by index, the index + 1 (small: no
 * pointer), which is looked up in the slot that recorded it.
 */
static struct {
	const void *_Atomic key;
	_Atomic uint32_t who; /* slot << 16 | object index */
} cache[CACHE];
static _Atomic unsigned cached;
static atomic_flag naming = ATOMIC_FLAG_INIT; /* held while an object is named */

#define ANY_SLOT SLOTS

static uint32_t cache_find(const void *key, unsigned slot)
{
	unsigned n = atomic_load_explicit(&cached, memory_order_acquire);
	for (unsigned i = 0; i < n && i < CACHE; i++) {
		if (atomic_load_explicit(&cache[i].key, memory_order_relaxed) != key)
			continue;
		uint32_t who = atomic_load_explicit(&cache[i].who, memory_order_relaxed);
		if (slot == ANY_SLOT || who >> 16 == slot)
			return who;
	}
	return UINT32_MAX;
}

static void cache_add(const void *key, uint32_t who)
{
	unsigned n = atomic_load(&cached);
	if (n >= CACHE)
		return; /* full: found again at every event (slower, still right) */
	atomic_store_explicit(&cache[n].who, who, memory_order_relaxed);
	atomic_store_explicit(&cache[n].key, key, memory_order_relaxed);
	atomic_store_explicit(&cached, n + 1, memory_order_release);
}

/* @src into @dst (@n bytes), cut to fit: names are for people, and long ones keep their start. */
static void set_name(char *dst, size_t n, const char *src)
{
	size_t len = strnlen(src, n - 1);
	memcpy(dst, src, len);
	dst[len] = 0;
}

/* The index of the object named @kind @name in @f, named now if new; AMPL_TRACE_NO_OBJ if there is no room. */
static unsigned obj_in(struct sim_trace_file *f, const char *kind, const char *name)
{
	unsigned n = atomic_load(&f->num_objs);
	n = n < SIM_TRACE_OBJS ? n : SIM_TRACE_OBJS;
	for (unsigned i = 0; i < n; i++) /* named by this process, or by an earlier one of this agent */
		if (!strncmp(f->objs[i].name, name, SIM_TRACE_NAME) && !strncmp(f->objs[i].kind, kind, 16))
			return i;
	if (n == SIM_TRACE_OBJS)
		return AMPL_TRACE_NO_OBJ;
	set_name(f->objs[n].name, sizeof(f->objs[n].name), name);
	set_name(f->objs[n].kind, sizeof(f->objs[n].kind), kind);
	atomic_store_explicit(&f->num_objs, n + 1, memory_order_release); /* published after its name */
	return n;
}

/* "NODE#INDEX" into @dst (@n bytes): a node too long keeps its end (the node's own name, not the SoC's). */
static void chan_name(char *dst, size_t n, const char *node, int i)
{
	char idx[16];
	size_t k = (size_t)snprintf(idx, sizeof(idx), "#%d", i);
	size_t len = strlen(node), room = n - 1 - k;
	const char *tail = len > room ? node + len - room : node;
	size_t t = strlen(tail);
	memcpy(dst, tail, t);
	memcpy(dst + t, idx, k + 1);
}

static bool dev_in(const struct ampl_device *d, const void *obj)
{
	return d == obj || d->data == obj;
}

/*
 * Whether @obj of event @ev is @ag's, and then its key (one per object: an IPC instance's device whether the event
 * named the device or the backend's data), kind and name.
 */
static bool describe(struct ampl_agent *ag, unsigned ev, const void *obj, const void **key, const char **kind,
		     char *name, size_t n)
{
	const struct ampl_soc_profile *p = ag->soc->profile;
	*key = obj;
	if (obj == (const void *)&ag->host) { /* the IPI driver's interrupt */
		*key = (const void *)(uintptr_t)(ag->idx + 1u);
		*kind = "agent";
		set_name(name, n, ag->info->name);
		return true;
	}
	if (ev <= AMPL_EV_ACCESS_FAULT) { /* an agent by index + 1 (from sim_trace_hw()) */
		uintptr_t i = (uintptr_t)obj - 1u;
		if (i >= p->num_agents)
			return false;
		*kind = "agent";
		set_name(name, n, p->agents[i].name);
		return true;
	}
	if (ev == AMPL_EV_CTRL_WRITE) { /* a controller instance by index + 1: its model's and its node's names */
		uintptr_t i = (uintptr_t)obj - 1u;
		if (i >= ag->soc->num_ctrls)
			return false;
		*kind = ag->soc->ctrl_model[i]->name;
		set_name(name, n, ag->soc->ctrl_cfg[i].name);
		return true;
	}
	for (unsigned b = 0; b < 32; b++) {
		struct sim_chan *c = atomic_load(&ag->chans[b]);
		if (!c)
			continue;
		if ((const void *)&c->mbox == obj || dev_in(&c->dev, obj)) { /* filter decisions, IPM */
			*key = &c->dev;
			*kind = "ipm";
			set_name(name, n, c->name);
			return true;
		}
		for (int i = 0; i < c->mbox.ctrl.num_chans; i++)
			if ((const void *)&c->mbox.ctrl.chans[i] == obj) {
				*kind = "mbox";
				chan_name(name, n, c->node, i);
				return true;
			}
	}
	for (unsigned k = 0; k < SIM_MAX_CTRLS; k++) { /* the other controllers' devices (src/sim/ctrl.h) */
		struct sim_ctrl_dev *d = ag->ctrl_devs[k];
		if (!d)
			continue;
		if (d->api && dev_in(&d->dev, obj)) {
			*kind = "ipm";
			set_name(name, n, d->name);
			return true;
		}
		for (int i = 0; d->mbox && i < d->mbox->num_chans; i++)
			if ((const void *)&d->mbox->chans[i] == obj) {
				*kind = "mbox";
				chan_name(name, n, d->node, i);
				return true;
			}
	}
	for (unsigned i = 0; i < AMPL_DT_MAX_IPC; i++) { /* IPC instances: their backend's kind */
		struct sim_ipc *m = ag->ipcs[i];
		if (m && (dev_in(&m->dev, obj) || (m->be->owns && m->be->owns(m, obj)))) {
			*key = &m->dev;
			*kind = m->be->kind;
			set_name(name, n, m->name);
			return true;
		}
	}
	return false;
}

/*
 * The slot and object index of @obj (in @slot only, or ANY_SLOT: the agent it belongs to), found and named on
 * first use. UINT32_MAX if no agent of this process has it (an object of a program's own, not the SoC's).
 */
static uint32_t owner(unsigned ev, const void *obj, unsigned slot)
{
	uint32_t who = cache_find(obj, slot);
	if (who != UINT32_MAX)
		return who;
	/* First sight of this pointer: one thread at a time (another one waits a few hundred cycles). */
	while (atomic_flag_test_and_set_explicit(&naming, memory_order_acquire))
		ampl_cpu_relax();
	who = cache_find(obj, slot);
	for (unsigned s = slot == ANY_SLOT ? 0 : slot; who == UINT32_MAX && s < SLOTS && (slot == ANY_SLOT || s == slot); s++) {
		struct ampl_agent *ag = atomic_load(&slots[s].ag);
		struct sim_trace_file *f = atomic_load(&slots[s].f);
		const void *key;
		const char *kind;
		char name[SIM_TRACE_NAME];
		if (!ag || !f || !describe(ag, ev, obj, &key, &kind, name, sizeof(name)))
			continue;
		unsigned idx = obj_in(f, kind, name);
		who = (uint32_t)s << 16 | idx;
		cache_add(obj, who);
		if (key != obj && cache_find(key, s) == UINT32_MAX)
			cache_add(key, who);
	}
	atomic_flag_clear_explicit(&naming, memory_order_release);
	return who;
}

/* Write a record of @ev of object @o with @val at @t_ns in @s's file; count it (@counted) and its failure kind. */
static void put_at(struct slot *s, unsigned ev, unsigned o, int32_t val, uint64_t t_ns, bool counted)
{
	atomic_fetch_add_explicit(&s->inflight, 1, memory_order_acquire);
	struct sim_trace_file *f = atomic_load_explicit(&s->f, memory_order_acquire);
	if (!f)
		goto out;
	unsigned kind = AMPL_TRACE_ERR_KINDS;
	if (ev == AMPL_EV_FILTER_REFUSE)
		kind = AMPL_TRACE_ERR_REFUSED;
	else if (events[ev].result && val < 0)
		kind = err_kind(val);
	if (counted)
		atomic_fetch_add_explicit(&f->count[ev], 1, memory_order_relaxed);
	if (kind < AMPL_TRACE_ERR_KINDS)
		atomic_fetch_add_explicit(&f->err[kind], 1, memory_order_relaxed);
	if (o < SIM_TRACE_OBJS) {
		if (counted)
			atomic_fetch_add_explicit(&f->objs[o].count[ev], 1, memory_order_relaxed);
		if (kind < AMPL_TRACE_ERR_KINDS)
			atomic_fetch_add_explicit(&f->objs[o].err[kind], 1, memory_order_relaxed);
	}
	uint64_t pos = atomic_fetch_add_explicit(&f->head, 1, memory_order_relaxed);
	struct sim_trace_rec *r = &f->ring[pos & (SIM_TRACE_RECORDS - 1u)];
	atomic_store_explicit(&r->seq, 0, memory_order_relaxed);
	atomic_thread_fence(memory_order_release); /* a reader that sees the new words sees seq 0 first */
	atomic_store_explicit(&r->w[0], t_ns, memory_order_relaxed);
	atomic_store_explicit(&r->w[1], ev | (uint64_t)f->agent << 16 | (uint64_t)o << 32, memory_order_relaxed);
	atomic_store_explicit(&r->w[2], (uint32_t)val, memory_order_relaxed);
	atomic_store_explicit(&r->seq, pos + 1, memory_order_release);
out:
	atomic_fetch_sub_explicit(&s->inflight, 1, memory_order_release);
}

static void put(struct slot *s, unsigned ev, unsigned o, int32_t val)
{
	put_at(s, ev, o, val, ampl_now_ns(), true);
}

/* Record in @slot (or the slot of @obj's agent) what @obj did. */
static void record(unsigned ev, const void *obj, int32_t val, unsigned slot)
{
	if (ev == AMPL_EV_NONE || ev >= AMPL_EV_COUNT || !obj)
		return;
	uint32_t who = owner(ev, obj, slot);
	if (who != UINT32_MAX)
		put(&slots[who >> 16], ev, who & 0xFFFFu, val);
}

void ampl_trace_emit(unsigned ev, const void *obj, int32_t val)
{
	record(ev, obj, val, ANY_SLOT);
}

void sim_trace_hw(struct ampl_soc *soc, unsigned agent, unsigned ev, unsigned obj, int32_t val)
{
	for (unsigned i = 0; i < SLOTS; i++) {
		struct ampl_agent *ag = atomic_load(&slots[i].ag);
		if (ag && ag->soc == soc && (agent == SIM_TRACE_ANY || ag->idx == agent)) {
			record(ev, (const void *)(uintptr_t)(obj + 1u), val, i);
			return;
		}
	}
}

/* ---- events of another processor (firmware), merged by its bridge ---- */

static struct slot *slot_of(struct ampl_agent *ag)
{
	for (unsigned i = 0; i < SLOTS; i++)
		if (atomic_load(&slots[i].ag) == ag)
			return &slots[i];
	return NULL;
}

unsigned sim_trace_foreign_obj(struct ampl_agent *ag, const char *kind, const char *name)
{
	struct slot *s = slot_of(ag);
	unsigned o = AMPL_TRACE_NO_OBJ;
	if (!s)
		return o;
	atomic_fetch_add_explicit(&s->inflight, 1, memory_order_acquire);
	struct sim_trace_file *f = atomic_load_explicit(&s->f, memory_order_acquire);
	if (f) {
		while (atomic_flag_test_and_set_explicit(&naming, memory_order_acquire))
			ampl_cpu_relax();
		o = obj_in(f, kind, name);
		atomic_flag_clear_explicit(&naming, memory_order_release);
	}
	atomic_fetch_sub_explicit(&s->inflight, 1, memory_order_release);
	return o;
}

void sim_trace_foreign_count(struct ampl_agent *ag, unsigned obj, unsigned ev, uint64_t n)
{
	struct slot *s = slot_of(ag);
	if (!s || ev >= AMPL_EV_COUNT || !n)
		return;
	atomic_fetch_add_explicit(&s->inflight, 1, memory_order_acquire);
	struct sim_trace_file *f = atomic_load_explicit(&s->f, memory_order_acquire);
	if (f) {
		atomic_fetch_add_explicit(&f->count[ev], n, memory_order_relaxed);
		if (obj < SIM_TRACE_OBJS)
			atomic_fetch_add_explicit(&f->objs[obj].count[ev], n, memory_order_relaxed);
	}
	atomic_fetch_sub_explicit(&s->inflight, 1, memory_order_release);
}

void sim_trace_foreign_rec(struct ampl_agent *ag, unsigned obj, unsigned ev, int32_t val, uint64_t t_ns)
{
	struct slot *s = slot_of(ag);
	if (s && ev != AMPL_EV_NONE && ev < AMPL_EV_COUNT)
		put_at(s, ev, obj, val, t_ns, false);
}

/* Start or stop tracing in slot @s as its control word says (slots_lock held). */
static void follow(struct slot *s)
{
	struct ampl_agent *ag = atomic_load(&s->ag);
	bool on = s->ctl && (atomic_load(&s->ctl->flags) & SIM_TRACE_ON) && !ampl_shm_damaged(s->ctl);
	if (on && !atomic_load(&s->f)) {
		char path[PATH_SIZE];
		void *base;
		agent_path(path, sizeof(path), ag->soc->name, ag->info->name);
		if (map_file(path, sizeof(struct sim_trace_file), &base, &s->f_size))
			return; /* not traced (no room in /dev/shm?): tried again next period */
		struct sim_trace_file *f = base;
		/* A file left by an earlier process of this agent keeps its records, counters and objects (found again
		 * by name): the ring goes on. */
		if (memcmp(f->magic, SIM_TRACE_MAGIC, sizeof(f->magic)) || f->version != SIM_TRACE_VERSION ||
		    f->records != SIM_TRACE_RECORDS || f->agent != ag->idx || atomic_load(&f->num_objs) > SIM_TRACE_OBJS) {
			memset((void *)f, 0, sizeof(*f) - sizeof(f->ring));
			f->version = SIM_TRACE_VERSION;
			f->records = SIM_TRACE_RECORDS;
			f->agent = ag->idx;
			set_name(f->agent_name, sizeof(f->agent_name), ag->info->name);
			memcpy(f->magic, SIM_TRACE_MAGIC, sizeof(f->magic));
		}
		atomic_store(&f->pid, (int32_t)getpid());
		atomic_store_explicit(&s->f, f, memory_order_release);
	}
	if (on != s->tracing) {
		s->tracing = on;
		if (on)
			atomic_fetch_add(&ampl_trace_on, 1);
		else
			atomic_fetch_sub(&ampl_trace_on, 1);
	}
}

void sim_trace_sync(void)
{
	pthread_mutex_lock(&slots_lock);
	for (unsigned i = 0; i < SLOTS; i++)
		if (atomic_load(&slots[i].ag))
			follow(&slots[i]);
	pthread_mutex_unlock(&slots_lock);
}

void sim_trace_attach(struct ampl_agent *ag)
{
	pthread_mutex_lock(&slots_lock);
	for (unsigned i = 0; i < SLOTS; i++) {
		struct slot *s = &slots[i];
		if (atomic_load(&s->ag))
			continue;
		s->ctl = ctl_map(ag->soc->name, &s->ctl_size);
		atomic_store(&s->ag, ag);
		follow(s);
		break;
	}
	pthread_mutex_unlock(&slots_lock); /* no free slot (32 agents attached): this one is not traced */
}

void sim_trace_detach(struct ampl_agent *ag)
{
	pthread_mutex_lock(&slots_lock);
	for (unsigned i = 0; i < SLOTS; i++) {
		struct slot *s = &slots[i];
		if (atomic_load(&s->ag) != ag)
			continue;
		if (s->tracing)
			atomic_fetch_sub(&ampl_trace_on, 1);
		struct sim_trace_file *f = atomic_exchange(&s->f, NULL);
		while (atomic_load(&s->inflight)) /* an event being written to f */
			ampl_cpu_relax();
		/* Its objects are forgotten: their memory may hold another agent's objects next. */
		while (atomic_flag_test_and_set_explicit(&naming, memory_order_acquire))
			ampl_cpu_relax();
		for (unsigned k = 0; k < CACHE; k++)
			if (atomic_load(&cache[k].who) >> 16 == i)
				atomic_store(&cache[k].key, NULL);
		atomic_flag_clear_explicit(&naming, memory_order_release);
		if (f)
			ampl_shm_detach(f, s->f_size);
		if (s->ctl)
			ampl_shm_detach(s->ctl, s->ctl_size);
		s->ctl = NULL;
		s->tracing = false;
		atomic_store(&s->ag, NULL);
	}
	pthread_mutex_unlock(&slots_lock);
}

/* ---- reader ---- */

struct agent_view {
	struct sim_trace_file *f;
	size_t size;
	uint64_t next; /* ring position of the next record to read */
	uint64_t lost;
	unsigned stuck; /* polls that found the next record unfinished */
};

struct ampl_trace_reader {
	struct ampl_soc *soc;
	bool from_start;
	unsigned polls;
	struct agent_view a[SIM_MAX_AGENTS];
};

static bool view_valid(const struct sim_trace_file *f, size_t size, unsigned agent)
{
	return size >= sizeof(*f) && !memcmp(f->magic, SIM_TRACE_MAGIC, sizeof(f->magic)) &&
	       f->version == SIM_TRACE_VERSION && f->records == SIM_TRACE_RECORDS && f->agent == agent &&
	       !ampl_shm_damaged(f);
}

/* Map @agent's trace file if it exists and is valid. */
static struct agent_view *view(struct ampl_trace_reader *r, unsigned agent)
{
	struct agent_view *v = &r->a[agent];
	if (v->f && !view_valid(v->f, v->size, agent)) {
		ampl_shm_detach(v->f, v->size);
		v->f = NULL;
	}
	if (v->f || agent >= r->soc->profile->num_agents)
		return v->f ? v : NULL;
	char path[PATH_SIZE];
	void *base;
	size_t size;
	agent_path(path, sizeof(path), r->soc->name, r->soc->profile->agents[agent].name);
	if (ampl_shm_attach_path(path, 0, &base, &size, NULL))
		return NULL;
	if (!view_valid(base, size, agent)) {
		ampl_shm_detach(base, size);
		return NULL;
	}
	v->f = base;
	v->size = size;
	uint64_t head = atomic_load_explicit(&v->f->head, memory_order_acquire);
	v->next = !r->from_start ? head : head > SIM_TRACE_RECORDS ? head - SIM_TRACE_RECORDS : 0;
	return v;
}

int ampl_trace_reader_open(struct ampl_soc *soc, bool from_start, struct ampl_trace_reader **out)
{
	if (!soc || !out)
		return sim_error(-EINVAL, "no SoC");
	struct ampl_trace_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return sim_error(-ENOMEM, "out of memory");
	r->soc = soc;
	r->from_start = from_start;
	for (unsigned i = 0; i < soc->profile->num_agents; i++)
		(void)view(r, i);
	r->from_start = true; /* an agent that starts tracing later: everything it wrote */
	*out = r;
	return 0;
}

/* Polls that may find a record unfinished before it is counted lost (its writer died while writing it). */
#define STUCK_POLLS 3u

static size_t read_agent(struct agent_view *v, unsigned agent, struct ampl_trace_event_rec *out, size_t max)
{
	struct sim_trace_file *f = v->f;
	uint64_t head = atomic_load_explicit(&f->head, memory_order_acquire);
	size_t n = 0;
	if (head < v->next) /* the file was made again: start over */
		v->next = 0;
	if (head - v->next > SIM_TRACE_RECORDS) {
		v->lost += head - v->next - SIM_TRACE_RECORDS;
		v->next = head - SIM_TRACE_RECORDS;
	}
	while (v->next < head && n < max) {
		struct sim_trace_rec *rec = &f->ring[v->next & (SIM_TRACE_RECORDS - 1u)];
		uint64_t want = v->next + 1;
		uint64_t seq = atomic_load_explicit(&rec->seq, memory_order_acquire);
		if (seq < want) { /* being written */
			if (++v->stuck < STUCK_POLLS)
				break;
			v->lost++;
			v->next++;
			continue;
		}
		v->stuck = 0;
		uint64_t w0 = atomic_load_explicit(&rec->w[0], memory_order_relaxed);
		uint64_t w1 = atomic_load_explicit(&rec->w[1], memory_order_relaxed);
		uint64_t w2 = atomic_load_explicit(&rec->w[2], memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		uint64_t again = atomic_load_explicit(&rec->seq, memory_order_relaxed);
		v->next++;
		unsigned ev = (unsigned)(w1 & 0xFFFFu);
		unsigned o = (unsigned)(w1 >> 32 & 0xFFFFu);
		if (seq != want || again != want || ev == AMPL_EV_NONE || ev >= AMPL_EV_COUNT ||
		    (o != AMPL_TRACE_NO_OBJ && o >= SIM_TRACE_OBJS)) {
			v->lost++; /* overwritten meanwhile, or not a record */
			continue;
		}
		out[n++] = (struct ampl_trace_event_rec){ .ts_ns = w0, .ev = (uint16_t)ev, .agent = (uint8_t)agent,
							  .obj = (uint16_t)o, .val = (int32_t)(uint32_t)w2 };
	}
	return n;
}

size_t ampl_trace_reader_poll(struct ampl_trace_reader *r, struct ampl_trace_event_rec *out, size_t max)
{
	if (!r || !out)
		return 0;
	size_t n = 0;
	bool rescan = r->polls++ % 16u == 0; /* look for agents that started tracing about every 16 polls */
	for (unsigned i = 0; i < r->soc->profile->num_agents && n < max; i++) {
		struct agent_view *v = r->a[i].f || rescan ? view(r, i) : NULL;
		if (v)
			n += read_agent(v, i, out + n, max - n);
	}
	return n;
}

uint64_t ampl_trace_reader_lost(const struct ampl_trace_reader *r, unsigned agent)
{
	return r && agent < SIM_MAX_AGENTS ? r->a[agent].lost : 0;
}

bool ampl_trace_reader_has(struct ampl_trace_reader *r, unsigned agent)
{
	return r && agent < SIM_MAX_AGENTS && view(r, agent);
}

unsigned ampl_trace_reader_objs(struct ampl_trace_reader *r, unsigned agent)
{
	struct agent_view *v = r && agent < SIM_MAX_AGENTS ? view(r, agent) : NULL;
	if (!v)
		return 0;
	unsigned n = atomic_load_explicit(&v->f->num_objs, memory_order_acquire);
	return n < SIM_TRACE_OBJS ? n : SIM_TRACE_OBJS;
}

/* Copy a name another process wrote: at most @n - 1 bytes, printable ASCII only, terminated. */
static void copy_name(char *dst, size_t n, const char *src, size_t src_size)
{
	size_t i = 0;
	for (; i + 1 < n && i < src_size && src[i]; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7F ? src[i] : '?';
	if (n)
		dst[i] = 0;
}

int ampl_trace_reader_obj(struct ampl_trace_reader *r, unsigned agent, unsigned obj, char *name, size_t name_size,
			  char *kind, size_t kind_size)
{
	if (obj >= ampl_trace_reader_objs(r, agent))
		return -ENOENT;
	const struct sim_trace_obj *o = &r->a[agent].f->objs[obj];
	if (name)
		copy_name(name, name_size, o->name, sizeof(o->name));
	if (kind)
		copy_name(kind, kind_size, o->kind, sizeof(o->kind));
	return 0;
}

/* Counter @i of @agent's events (@err: of its errors), of object @obj or of all (AMPL_TRACE_NO_OBJ); 0 if none. */
static uint64_t counter(struct ampl_trace_reader *r, unsigned agent, unsigned obj, bool err, unsigned i)
{
	if (i >= (err ? AMPL_TRACE_ERR_KINDS : AMPL_EV_COUNT))
		return 0;
	struct agent_view *v = r && agent < SIM_MAX_AGENTS ? view(r, agent) : NULL;
	if (!v || (obj != AMPL_TRACE_NO_OBJ && obj >= ampl_trace_reader_objs(r, agent)))
		return 0;
	if (obj == AMPL_TRACE_NO_OBJ)
		return atomic_load(err ? &v->f->err[i] : &v->f->count[i]);
	return atomic_load(err ? &v->f->objs[obj].err[i] : &v->f->objs[obj].count[i]);
}

uint64_t ampl_trace_reader_count(struct ampl_trace_reader *r, unsigned agent, unsigned obj, unsigned ev)
{
	return counter(r, agent, obj, false, ev);
}

uint64_t ampl_trace_reader_errors(struct ampl_trace_reader *r, unsigned agent, unsigned obj, unsigned kind)
{
	return counter(r, agent, obj, true, kind);
}

uint64_t ampl_trace_reader_written(struct ampl_trace_reader *r, unsigned agent, uint64_t *capacity)
{
	if (capacity)
		*capacity = SIM_TRACE_RECORDS;
	struct agent_view *v = r && agent < SIM_MAX_AGENTS ? view(r, agent) : NULL;
	return v ? atomic_load(&v->f->head) : 0;
}

void ampl_trace_reader_close(struct ampl_trace_reader *r)
{
	if (!r)
		return;
	for (unsigned i = 0; i < SIM_MAX_AGENTS; i++)
		if (r->a[i].f)
			ampl_shm_detach(r->a[i].f, r->a[i].size);
	free(r);
}
