/*
 * amplink mount: the user-space channels (amplink/host/uchan.h) of one agent as real files, served through FUSE, so
 * echo, cat, shells and any language can use them with ordinary system calls.
 *
 *   DIR/control   write "request NAME", "release NAME" or "ring NAME" (one command per line); read: one line per
 *                 requested channel with its state and counters
 *   DIR/NAME      one file per requested channel: open = ampl_uchan_open (a second open: EBUSY), close =
 *                 ampl_uchan_release, write = ampl_uchan_write (returns the bytes taken, at most 32), read =
 *                 ampl_uchan_read (one message per read; O_NONBLOCK honoured), poll/select = ampl_uchan_poll
 *
 *   DIR/INST/control   one directory per IPC service instance of the agent (devicetree node name): write "create
 *                 NAME" or "destroy NAME"; read: one line per endpoint with its state and counters
 *   DIR/INST/NAME one file per endpoint (ipc_ep.h): one whole message per read and write (EMSGSIZE, never
 *                 truncated), ENOTCONN while unbound, poll/select; see docs/ipc_endpoints.md
 *
 * Channel files use direct I/O, so every read() and write() reaches us unchanged and maps to one message. The
 * kernel does not pass a write() of 0 bytes to a FUSE file system, so the doorbell (a write of len 0) is
 * "ring NAME" on the control file. Readiness changes are pushed to the kernel with fuse_notify_poll() from a
 * notifier thread (the library's notify callback runs in interrupt context and only wakes that thread).
 *
 * Uses only the public amplink API.
 */
#include "cli.h"
#include "ipc_ep.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <amplink/host/uchan.h>

int cmd_mount(int argc, char **argv);

static const char mount_usage[] =
	"usage: amplink mount [--soc NAME] --as AGENT [--foreground] [--mode MODE] [--timeout MS] [--queue N] DIR\n"
	"\n"
	"Serve the user-space channels of agent --as as files in directory DIR (FUSE):\n"
	"  DIR/control   write 'request NAME', 'release NAME' or 'ring NAME' (one per line); read lists the channels\n"
	"  DIR/NAME      one file per requested channel: write sends one request (at most 32 bytes are taken),\n"
	"                read returns the next received message (32 bytes; O_NONBLOCK honoured), poll/select work\n"
	"A write of 0 bytes never reaches a FUSE file system: 'ring NAME' on the control file triggers without data.\n"
	"IPC endpoints: one directory per IPC service instance of the agent (its devicetree node name):\n"
	"  DIR/INST/control  write 'create NAME [SRC DST]' (RPMsg addresses) or 'destroy NAME'; read lists them\n"
	"  DIR/INST/NAME     one message per read and write (EMSGSIZE, never truncated; ENOTCONN while the peer's\n"
	"                    endpoint is not bound, after --timeout MS for a blocking write), poll/select work\n"
	"Without --foreground the command returns once DIR is mounted and serves it in the background. Unmount\n"
	"with 'fusermount3 -u DIR' (or SIGTERM to the server): every channel is released.\n"
	"--timeout MS bounds a blocking write's wait for the acknowledgement (default 1000); --queue N bounds\n"
	"each channel's receive queue (default 64; further requests stay pending at the sender, nothing is lost) and\n"
	"each endpoint's (further messages are counted as dropped).\n"
	"The SoC defaults to $AMPLINK_SOC or 'amplink'. MODE: polling, adaptive (default) or blocking.\n";

#if AMPL_HAVE_FUSE

#define FUSE_USE_VERSION 35
#include <fuse.h>
#include <fuse_lowlevel.h>

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_BITS 32
#define READ_SLICE_MS 100 /* a blocked read checks for interrupts and unmount this often */
#define CONTROL "control"

struct mnt {
	struct ampl_soc *soc;
	struct ampl_agent *ag;
	struct ampl_uchan_ctl *ctl;
	const struct ampl_soc_profile *profile;
	struct fuse *fuse;
	/* Channel objects live while requested: lookups hold it shared, unrequest holds it exclusive. */
	pthread_rwlock_t chans_lock;
	/* Poll handles the kernel gave us, by the target's bit; notified and dropped on the next readiness change. */
	pthread_mutex_t ph_lock;
	struct fuse_pollhandle *ph[MAX_BITS];
	struct fuse_pollhandle *eph[IPCEP_MAX_INST * IPCEP_MAX_EP]; /* by ipcep_slot() */
	struct ipcep_set *ipc;
	int write_timeout_ms;
	int efd;
	atomic_bool stop;
	bool notifier_started;
	pthread_t notifier;
	struct timespec t0;
	uid_t uid;
	gid_t gid;
};

static struct mnt M;

/* ---- readiness notification ---- */

static void on_ready(struct ampl_uchan *ch, unsigned events, void *arg)
{
	(void)ch;
	(void)events;
	struct mnt *m = arg;
	uint64_t one = 1;
	/* Interrupt context: only wake the notifier thread (an eventfd write never blocks here). */
	ssize_t n = write(m->efd, &one, sizeof(one));
	(void)n;
}

static void on_ep_ready(struct ipcep *ep, void *arg)
{
	(void)ep;
	struct mnt *m = arg;
	uint64_t one = 1;
	ssize_t n = write(m->efd, &one, sizeof(one));
	(void)n;
}

static void *notifier_main(void *arg)
{
	struct mnt *m = arg;
	while (!atomic_load(&m->stop)) {
		uint64_t v;
		if (read(m->efd, &v, sizeof(v)) < 0 && errno == EINTR)
			continue;
		pthread_mutex_lock(&m->ph_lock);
		for (unsigned b = 0; b < MAX_BITS; b++) {
			if (!m->ph[b])
				continue;
			/* The kernel polls again and hands us a new handle if it still waits. */
			fuse_notify_poll(m->ph[b]);
			fuse_pollhandle_destroy(m->ph[b]);
			m->ph[b] = NULL;
		}
		for (unsigned k = 0; k < IPCEP_MAX_INST * IPCEP_MAX_EP; k++) {
			if (!m->eph[k])
				continue;
			fuse_notify_poll(m->eph[k]);
			fuse_pollhandle_destroy(m->eph[k]);
			m->eph[k] = NULL;
		}
		pthread_mutex_unlock(&m->ph_lock);
	}
	return NULL;
}

static void drop_ph(struct mnt *m, unsigned bit)
{
	pthread_mutex_lock(&m->ph_lock);
	if (m->ph[bit])
		fuse_pollhandle_destroy(m->ph[bit]);
	m->ph[bit] = NULL;
	pthread_mutex_unlock(&m->ph_lock);
}

static void drop_eph(struct mnt *m, unsigned slot)
{
	pthread_mutex_lock(&m->ph_lock);
	if (m->eph[slot])
		fuse_pollhandle_destroy(m->eph[slot]);
	m->eph[slot] = NULL;
	pthread_mutex_unlock(&m->ph_lock);
}

/* ---- lookups ---- */

static const struct ampl_soc_agent *agent_of(const struct mnt *m, const char *name)
{
	const struct ampl_soc_agent *a = ampl_soc_agent_by_name(m->profile, name);
	/* Files are named by the profile name only (not by alias). */
	return a && !strcmp(a->name, name) ? a : NULL;
}

/* The requested channel named by @path ("/rpu0"), or NULL. Call with chans_lock held. */
static struct ampl_uchan *chan_of_path(struct mnt *m, const char *path)
{
	if (path[0] != '/' || !agent_of(m, path + 1))
		return NULL;
	return ampl_uchan_find(m->ctl, path + 1);
}

static bool is_control(const char *path)
{
	return !strcmp(path, "/" CONTROL);
}

/* What @path names under an IPC instance's directory. */
enum ipc_kind { IPC_NONE, IPC_DIR, IPC_CONTROL, IPC_EP };

/* "/INST", "/INST/control" or "/INST/EP" of an IPC instance of the agent; @leaf is EP (or ""). */
static enum ipc_kind ipc_path(struct mnt *m, const char *path, struct ipcep_inst **in, const char **leaf)
{
	if (path[0] != '/' || !m->ipc)
		return IPC_NONE;
	const char *slash = strchr(path + 1, '/');
	size_t n = slash ? (size_t)(slash - path - 1) : strlen(path + 1);
	char name[128];
	if (!n || n >= sizeof(name))
		return IPC_NONE;
	memcpy(name, path + 1, n);
	name[n] = 0;
	struct ipcep_inst *i = ipcep_inst_find(m->ipc, name);
	if (!i || strcmp(ipcep_inst_name(i), name)) /* directories are named by the node name only */
		return IPC_NONE;
	*in = i;
	*leaf = slash ? slash + 1 : "";
	if (!slash)
		return IPC_DIR;
	if (!*slash || strchr(slash + 1, '/') || !slash[1])
		return IPC_NONE;
	return !strcmp(slash + 1, CONTROL) ? IPC_CONTROL : IPC_EP;
}

static struct ipcep *fh_ep(const struct fuse_file_info *fi)
{
	return (struct ipcep *)(uintptr_t)fi->fh;
}

static struct ampl_uchan *fh_chan(const struct fuse_file_info *fi)
{
	return (struct ampl_uchan *)(uintptr_t)fi->fh;
}

/* ---- control file ---- */

struct snapshot {
	size_t len, cap;
	char *text;
};

static void snap_line(struct ampl_uchan *ch, void *arg)
{
	struct snapshot *s = arg;
	struct ampl_uchan_stats st;
	ampl_uchan_stats(ch, &st);
	char line[256];
	int n = snprintf(line, sizeof(line), "%s %s queued=%u received=%llu read=%llu sent=%llu held=%llu\n",
			 ampl_uchan_name(ch), st.open ? "open" : "closed", st.queued, (unsigned long long)st.received,
			 (unsigned long long)st.read, (unsigned long long)st.sent, (unsigned long long)st.held);
	if (n <= 0 || s->len + (size_t)n + 1 > s->cap)
		return;
	memcpy(s->text + s->len, line, (size_t)n);
	s->len += (size_t)n;
}

static struct snapshot *snapshot(struct mnt *m)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cap = 256u * MAX_BITS;
	s->text = malloc(s->cap);
	if (!s->text) {
		free(s);
		return NULL;
	}
	pthread_rwlock_rdlock(&m->chans_lock);
	ampl_uchan_foreach(m->ctl, snap_line, s);
	pthread_rwlock_unlock(&m->chans_lock);
	return s;
}

static void ep_line(struct ipcep *ep, void *arg)
{
	struct snapshot *s = arg;
	struct ipcep_stats st;
	ipcep_stats(ep, &st);
	char line[256];
	char addr[48] = "";
	if (st.addressed)
		snprintf(addr, sizeof(addr), " src=%s dst=%s", ipcep_addr_text(st.src, (char[12]){ 0 }),
			 ipcep_addr_text(st.dst, (char[12]){ 0 }));
	int n = snprintf(line, sizeof(line), "%s %s %s max=%d queued=%u received=%llu read=%llu sent=%llu dropped=%llu%s\n",
			 ipcep_name(ep), st.bound ? "bound" : "unbound", st.open ? "open" : "closed", st.max, st.queued,
			 (unsigned long long)st.received, (unsigned long long)st.read, (unsigned long long)st.sent,
			 (unsigned long long)st.dropped, addr);
	if (n <= 0 || s->len + (size_t)n + 1 > s->cap)
		return;
	memcpy(s->text + s->len, line, (size_t)n);
	s->len += (size_t)n;
}

static struct snapshot *ipc_snapshot(struct ipcep_inst *in)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cap = 256u * (IPCEP_MAX_EP + 1);
	s->text = malloc(s->cap);
	if (!s->text) {
		free(s);
		return NULL;
	}
	ipcep_foreach(in, ep_line, s);
	return s;
}

/* One command line of an instance's control file; returns 0 or -errno. */
static int ipc_command(struct mnt *m, struct ipcep_inst *in, char *line)
{
	(void)m;
	char *save = NULL;
	char *verb = strtok_r(line, " \t\r", &save);
	if (!verb)
		return 0;
	char *name = strtok_r(NULL, " \t\r", &save);
	char *src = strtok_r(NULL, " \t\r", &save);
	char *dst = src ? strtok_r(NULL, " \t\r", &save) : NULL;
	if (!name || (src && !dst) || strtok_r(NULL, " \t\r", &save))
		return -EINVAL;
	if (!strcmp(verb, "create")) {
		/* create NAME [SRC DST], as /dev/rpmsg_ctrlN takes them: -1 (or "any") for an address not fixed */
		uint32_t s = IPCEP_ADDR_ANY, d = IPCEP_ADDR_ANY;
		if (src && (ipcep_parse_addr(src, &s) || ipcep_parse_addr(dst, &d)))
			return -EINVAL;
		return ipcep_create(in, name, s, d, NULL);
	}
	if (src)
		return -EINVAL;
	if (!strcmp(verb, "destroy"))
		return ipcep_destroy(in, name);
	return -EINVAL;
}

static int ctl_request(struct mnt *m, const char *name)
{
	pthread_rwlock_wrlock(&m->chans_lock);
	struct ampl_uchan *ch = NULL;
	int r = ampl_uchan_request(m->ctl, name, &ch);
	if (!r)
		ampl_uchan_set_notify(ch, on_ready, m);
	pthread_rwlock_unlock(&m->chans_lock);
	return r;
}

static int ctl_release(struct mnt *m, const char *name)
{
	pthread_rwlock_wrlock(&m->chans_lock);
	const struct ampl_soc_agent *a = ampl_soc_agent_by_name(m->profile, name);
	struct ampl_uchan *ch = a ? ampl_uchan_find(m->ctl, name) : NULL;
	int r = ch ? ampl_uchan_unrequest(ch) : a ? -ENOENT : -EINVAL;
	pthread_rwlock_unlock(&m->chans_lock);
	if (!r)
		drop_ph(m, a->ipi->bit);
	return r;
}

static int ctl_ring(struct mnt *m, const char *name)
{
	pthread_rwlock_rdlock(&m->chans_lock);
	const struct ampl_soc_agent *a = ampl_soc_agent_by_name(m->profile, name);
	struct ampl_uchan *ch = a ? ampl_uchan_find(m->ctl, name) : NULL;
	int r = ch ? 0 : a ? -ENOENT : -EINVAL;
	if (ch) {
		/* Through the open file's channel if someone holds it open, else open it for the ring. */
		r = (int)ampl_uchan_write(ch, NULL, 0);
		if (r == -EBADF && !(r = ampl_uchan_open(ch, 0))) {
			r = (int)ampl_uchan_write(ch, NULL, 0);
			ampl_uchan_release(ch);
		}
	}
	pthread_rwlock_unlock(&m->chans_lock);
	return r;
}

/* One command line; returns 0 or -errno. */
static int ctl_command(struct mnt *m, char *line)
{
	char *save = NULL;
	char *verb = strtok_r(line, " \t\r", &save);
	if (!verb)
		return 0; /* empty line */
	char *name = strtok_r(NULL, " \t\r", &save);
	if (!name || strtok_r(NULL, " \t\r", &save))
		return -EINVAL;
	if (!strcmp(verb, "request"))
		return ctl_request(m, name);
	if (!strcmp(verb, "release"))
		return ctl_release(m, name);
	if (!strcmp(verb, "ring"))
		return ctl_ring(m, name);
	return -EINVAL;
}

/* ---- file system operations ---- */

static void *fs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	(void)conn;
	/* Channel files come and go through the control file: no caching of names or attributes. */
	cfg->entry_timeout = 0;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	return &M;
}

static void fill_stat(struct mnt *m, struct stat *st, mode_t mode, nlink_t nlink)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = mode;
	st->st_nlink = nlink;
	st->st_uid = m->uid;
	st->st_gid = m->gid;
	st->st_atim = st->st_mtim = st->st_ctim = m->t0;
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	struct mnt *m = &M;
	if (!strcmp(path, "/")) {
		fill_stat(m, st, S_IFDIR | 0755, 2);
		return 0;
	}
	if (is_control(path)) {
		fill_stat(m, st, S_IFREG | 0644, 1);
		return 0;
	}
	struct ipcep_inst *in;
	const char *leaf;
	switch (ipc_path(m, path, &in, &leaf)) {
	case IPC_DIR: fill_stat(m, st, S_IFDIR | 0755, 2); return 0;
	case IPC_CONTROL: fill_stat(m, st, S_IFREG | 0644, 1); return 0;
	case IPC_EP:
		if (!ipcep_find(in, leaf))
			return -ENOENT;
		fill_stat(m, st, S_IFREG | 0660, 1);
		return 0;
	case IPC_NONE: break;
	}
	pthread_rwlock_rdlock(&m->chans_lock);
	struct ampl_uchan *ch = chan_of_path(m, path);
	pthread_rwlock_unlock(&m->chans_lock);
	if (!ch)
		return -ENOENT;
	fill_stat(m, st, S_IFREG | 0660, 1);
	return 0;
}

struct dir_fill {
	void *buf;
	fuse_fill_dir_t filler;
};

static void dir_line(struct ampl_uchan *ch, void *arg)
{
	struct dir_fill *d = arg;
	d->filler(d->buf, ampl_uchan_name(ch), NULL, 0, 0);
}

static void dir_ep(struct ipcep *ep, void *arg)
{
	struct dir_fill *d = arg;
	d->filler(d->buf, ipcep_name(ep), NULL, 0, 0);
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	(void)off;
	(void)fi;
	(void)flags;
	struct mnt *m = &M;
	struct ipcep_inst *in;
	const char *leaf;
	enum ipc_kind k = ipc_path(m, path, &in, &leaf);
	if (k == IPC_DIR) {
		filler(buf, ".", NULL, 0, 0);
		filler(buf, "..", NULL, 0, 0);
		filler(buf, CONTROL, NULL, 0, 0);
		struct dir_fill d = { buf, filler };
		ipcep_foreach(in, dir_ep, &d);
		return 0;
	}
	if (strcmp(path, "/"))
		return -ENOTDIR;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	filler(buf, CONTROL, NULL, 0, 0);
	for (unsigned i = 0; i < ipcep_num_inst(m->ipc); i++)
		filler(buf, ipcep_inst_name(ipcep_inst_at(m->ipc, i)), NULL, 0, 0);
	struct dir_fill d = { buf, filler };
	pthread_rwlock_rdlock(&m->chans_lock);
	ampl_uchan_foreach(m->ctl, dir_line, &d);
	pthread_rwlock_unlock(&m->chans_lock);
	return 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	struct mnt *m = &M;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	if (is_control(path)) {
		fi->fh = 0;
		if ((fi->flags & O_ACCMODE) != O_WRONLY) {
			struct snapshot *s = snapshot(m);
			if (!s)
				return -ENOMEM;
			fi->fh = (uint64_t)(uintptr_t)s;
		}
		return 0;
	}
	struct ipcep_inst *in;
	const char *leaf;
	switch (ipc_path(m, path, &in, &leaf)) {
	case IPC_DIR: return -EISDIR;
	case IPC_CONTROL:
		fi->fh = 0;
		if ((fi->flags & O_ACCMODE) != O_WRONLY) {
			struct snapshot *s = ipc_snapshot(in);
			if (!s)
				return -ENOMEM;
			fi->fh = (uint64_t)(uintptr_t)s;
		}
		return 0;
	case IPC_EP: {
		struct ipcep *ep = ipcep_find(in, leaf);
		int r = ep ? ipcep_open(ep) : -ENOENT;
		if (r)
			return r;
		fi->nonseekable = 1;
		fi->fh = (uint64_t)(uintptr_t)ep;
		return 0;
	}
	case IPC_NONE: break;
	}
	pthread_rwlock_rdlock(&m->chans_lock);
	struct ampl_uchan *ch = chan_of_path(m, path);
	int r = ch ? ampl_uchan_open(ch, (fi->flags & O_NONBLOCK) ? AMPL_UCHAN_NONBLOCK : 0) : -ENOENT;
	pthread_rwlock_unlock(&m->chans_lock);
	if (r)
		return r;
	fi->nonseekable = 1;
	fi->fh = (uint64_t)(uintptr_t)ch;
	return 0;
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
	struct mnt *m = &M;
	struct ipcep_inst *in;
	const char *leaf;
	enum ipc_kind k = ipc_path(m, path, &in, &leaf);
	if (k == IPC_EP) {
		struct ipcep *ep = fh_ep(fi);
		ipcep_release(ep);
		drop_eph(m, ipcep_slot(ep));
		return 0;
	}
	if (is_control(path) || k == IPC_CONTROL) {
		struct snapshot *s = (struct snapshot *)(uintptr_t)fi->fh;
		if (s) {
			free(s->text);
			free(s);
		}
		return 0;
	}
	struct ampl_uchan *ch = fh_chan(fi);
	if (!ch)
		return 0;
	const struct ampl_soc_agent *a = agent_of(m, ampl_uchan_name(ch));
	ampl_uchan_release(ch);
	if (a)
		drop_ph(m, a->ipi->bit);
	return 0;
}

/* One message of an endpoint file; blocking waits in slices, so an interrupted reader or an unmount is noticed. */
static int ep_read(struct mnt *m, struct ipcep *ep, char *buf, size_t size, struct fuse_file_info *fi)
{
	if (size > INT_MAX)
		size = INT_MAX;
	if (fi->flags & O_NONBLOCK)
		return (int)ipcep_read(ep, buf, size, 0);
	struct fuse_session *se = fuse_get_session(m->fuse);
	for (;;) {
		ssize_t r = ipcep_read(ep, buf, size, READ_SLICE_MS);
		if (r != -ETIMEDOUT)
			return (int)r;
		if (fuse_interrupted() || fuse_session_exited(se))
			return -EINTR;
	}
}

static int fs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct mnt *m = &M;
	struct ipcep_inst *in;
	const char *leaf;
	enum ipc_kind k = ipc_path(m, path, &in, &leaf);
	if (k == IPC_EP)
		return ep_read(m, fh_ep(fi), buf, size, fi);
	if (is_control(path) || k == IPC_CONTROL) {
		struct snapshot *s = (struct snapshot *)(uintptr_t)fi->fh;
		if (!s)
			return -EBADF;
		if (off < 0 || (size_t)off >= s->len)
			return 0;
		size_t n = s->len - (size_t)off < size ? s->len - (size_t)off : size;
		memcpy(buf, s->text + off, n);
		return (int)n;
	}
	struct ampl_uchan *ch = fh_chan(fi);
	if (size > INT_MAX)
		size = INT_MAX;
	if (fi->flags & O_NONBLOCK)
		return (int)ampl_uchan_read_timeout(ch, buf, size, 0);
	/* Blocking: wait in slices, so an interrupted reader (Ctrl-C) or an unmount does not wait for a message. */
	struct fuse_session *se = fuse_get_session(m->fuse);
	for (;;) {
		ssize_t r = ampl_uchan_read_timeout(ch, buf, size, READ_SLICE_MS);
		if (r != -ETIMEDOUT)
			return (int)r;
		if (fuse_interrupted() || fuse_session_exited(se))
			return -EINTR;
	}
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)off;
	struct mnt *m = &M;
	struct ipcep_inst *in;
	const char *leaf;
	enum ipc_kind k = ipc_path(m, path, &in, &leaf);
	if (k == IPC_EP) {
		if (size > INT_MAX)
			return -EMSGSIZE;
		return (int)ipcep_write(fh_ep(fi), buf, size, (fi->flags & O_NONBLOCK) ? 0 : m->write_timeout_ms);
	}
	if (is_control(path) || k == IPC_CONTROL) {
		char *text = strndup(buf, size);
		if (!text)
			return -ENOMEM;
		int r = 0;
		char *save = NULL;
		for (char *line = strtok_r(text, "\n", &save); line && !r; line = strtok_r(NULL, "\n", &save))
			r = k == IPC_CONTROL ? ipc_command(m, in, line) : ctl_command(m, line);
		free(text);
		return r ? r : (int)size;
	}
	struct ampl_uchan *ch = fh_chan(fi);
	/* fcntl(F_SETFL, O_NONBLOCK) after open reaches us only through each call's flags. */
	ampl_uchan_set_flags(ch, (fi->flags & O_NONBLOCK) ? AMPL_UCHAN_NONBLOCK : 0);
	return (int)ampl_uchan_write(ch, buf, size);
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)size;
	(void)fi;
	/* "echo ... > FILE" truncates first: nothing to truncate in a channel or in the control file. */
	struct ipcep_inst *in;
	const char *leaf;
	if (!strcmp(path, "/") || ipc_path(&M, path, &in, &leaf) == IPC_DIR)
		return -EISDIR;
	return 0;
}

static int fs_poll(const char *path, struct fuse_file_info *fi, struct fuse_pollhandle *ph, unsigned *reventsp)
{
	struct mnt *m = &M;
	struct ipcep_inst *in;
	const char *leaf;
	enum ipc_kind k = ipc_path(m, path, &in, &leaf);
	if (is_control(path) || k == IPC_CONTROL) {
		if (ph)
			fuse_pollhandle_destroy(ph);
		*reventsp = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;
		return 0;
	}
	if (k == IPC_EP) {
		struct ipcep *ep = fh_ep(fi);
		if (ph) {
			/* Store the handle before looking, so a change after the look is notified. */
			unsigned slot = ipcep_slot(ep);
			pthread_mutex_lock(&m->ph_lock);
			if (m->eph[slot])
				fuse_pollhandle_destroy(m->eph[slot]);
			m->eph[slot] = ph;
			pthread_mutex_unlock(&m->ph_lock);
		}
		unsigned bits = ipcep_poll(ep), ev = 0;
		if (bits & IPCEP_POLLIN)
			ev |= POLLIN | POLLRDNORM;
		if (bits & IPCEP_POLLOUT)
			ev |= POLLOUT | POLLWRNORM;
		*reventsp = ev;
		return 0;
	}
	struct ampl_uchan *ch = fh_chan(fi);
	const struct ampl_soc_agent *a = agent_of(m, ampl_uchan_name(ch));
	if (ph && a) {
		/* Store the handle before looking, so a change after the look is notified. */
		pthread_mutex_lock(&m->ph_lock);
		if (m->ph[a->ipi->bit])
			fuse_pollhandle_destroy(m->ph[a->ipi->bit]);
		m->ph[a->ipi->bit] = ph;
		pthread_mutex_unlock(&m->ph_lock);
	} else if (ph) {
		fuse_pollhandle_destroy(ph);
	}
	unsigned bits = ampl_uchan_poll(ch), ev = 0;
	if (bits & AMPL_UCHAN_POLLIN)
		ev |= POLLIN | POLLRDNORM;
	if (bits & AMPL_UCHAN_POLLOUT)
		ev |= POLLOUT | POLLWRNORM;
	*reventsp = ev;
	return 0;
}

static const struct fuse_operations fs_ops = {
	.init = fs_init,
	.getattr = fs_getattr,
	.readdir = fs_readdir,
	.open = fs_open,
	.release = fs_release,
	.read = fs_read,
	.write = fs_write,
	.truncate = fs_truncate,
	.poll = fs_poll,
};

/* ---- the command ---- */

struct mount_args {
	const char *soc, *as, *dir;
	bool foreground;
	enum ampl_wait_mode mode;
	uint64_t timeout_ms, queue;
};

/* Attach, mount; on success the file system is mounted and ready to be served. Prints its own errors. */
static int setup(const struct mount_args *a)
{
	struct mnt *m = &M;
	memset(m, 0, sizeof(*m));
	m->efd = -1;
	pthread_rwlock_init(&m->chans_lock, NULL);
	pthread_mutex_init(&m->ph_lock, NULL);
	clock_gettime(CLOCK_REALTIME, &m->t0);
	m->uid = getuid();
	m->gid = getgid();
	int code = cli_open_soc("mount", a->soc, &m->soc);
	if (code)
		return code;
	m->profile = ampl_soc_get_profile(m->soc);
	/* Our threads (interrupt context, notifier) take no signals: SIGTERM/SIGINT go to the FUSE loop. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	struct ampl_agent_opts ao = { .mode = a->mode, .no_dt_devices = true };
	struct ampl_uchan_opts uo = { .queue_len = (unsigned)a->queue, .ack_timeout_ms = (uint32_t)a->timeout_ms };
	int r = ampl_agent_attach(m->soc, a->as, &ao, &m->ag);
	if (r) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return cli_fail(EXIT_FAIL, "mount", "%s", ampl_soc_last_error());
	}
	m->write_timeout_ms = (int)a->timeout_ms;
	r = ampl_uchan_ctl_open(m->ag, &uo, &m->ctl);
	struct ipcep_opts io = { .queue_len = (unsigned)a->queue };
	if (!r && !(r = ipcep_set_open(m->soc, ampl_agent_info(m->ag), m->ag, &io, &m->ipc)))
		ipcep_set_notify(m->ipc, on_ep_ready, m);
	if (!r) {
		m->efd = eventfd(0, EFD_CLOEXEC);
		if (m->efd < 0)
			r = -errno;
		else if ((r = -pthread_create(&m->notifier, NULL, notifier_main, m)) == 0)
			m->notifier_started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r == -ENOTSUP)
		return cli_fail(EXIT_FAIL, "mount", "SoC %s (%s) has no IPI mailbox: user-space channels need one",
				ampl_soc_name(m->soc), m->profile->name);
	if (r)
		return cli_fail(EXIT_FAIL, "mount", "cannot set up the channels of %s: %s", a->as, strerror(-r));

	char fsname[128];
	snprintf(fsname, sizeof(fsname), "fsname=amplink:%s:%s,subtype=amplink", ampl_soc_name(m->soc),
		 ampl_agent_info(m->ag)->name);
	char *argv[] = { (char *)"amplink", (char *)"-o", fsname, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	m->fuse = fuse_new(&args, &fs_ops, sizeof(fs_ops), m);
	fuse_opt_free_args(&args);
	if (!m->fuse)
		return cli_fail(EXIT_FAIL, "mount", "cannot create the FUSE session");
	if (fuse_mount(m->fuse, a->dir)) {
		fuse_destroy(m->fuse);
		m->fuse = NULL;
		return cli_fail(EXIT_FAIL, "mount", "%s: mounting failed (see the message above; is FUSE permitted "
				"here?)", a->dir);
	}
	return 0;
}

/* Undo setup(); every channel is released. */
static void teardown(void)
{
	struct mnt *m = &M;
	if (m->fuse) {
		fuse_unmount(m->fuse);
	}
	if (m->notifier_started) {
		atomic_store(&m->stop, true);
		uint64_t one = 1;
		ssize_t n = write(m->efd, &one, sizeof(one));
		(void)n;
		pthread_join(m->notifier, NULL);
	}
	for (unsigned b = 0; b < MAX_BITS; b++)
		drop_ph(m, b);
	ipcep_set_close(m->ipc);
	for (unsigned k = 0; k < IPCEP_MAX_INST * IPCEP_MAX_EP; k++)
		drop_eph(m, k);
	ampl_uchan_ctl_close(m->ctl);
	if (m->fuse)
		fuse_destroy(m->fuse);
	ampl_agent_detach(m->ag);
	if (m->soc)
		ampl_soc_close(m->soc);
	if (m->efd >= 0)
		close(m->efd);
	pthread_rwlock_destroy(&m->chans_lock);
	pthread_mutex_destroy(&m->ph_lock);
	memset(m, 0, sizeof(*m));
}

static int serve(void)
{
	struct mnt *m = &M;
	struct fuse_session *se = fuse_get_session(m->fuse);
	if (fuse_set_signal_handlers(se))
		return cli_fail(EXIT_FAIL, "mount", "cannot install the signal handlers");
	struct fuse_loop_config cfg = { .clone_fd = 0, .max_idle_threads = 10 };
	int r = fuse_loop_mt(m->fuse, &cfg);
	fuse_remove_signal_handlers(se);
	return r < 0 ? EXIT_FAIL : 0;
}

static int check_env(const char *dir, const char *as, const char *soc_name)
{
	struct stat st;
	if (stat(dir, &st))
		return cli_fail(EXIT_FAIL, "mount", "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return cli_fail(EXIT_FAIL, "mount", "%s: not a directory", dir);
	struct ampl_soc *soc;
	int code = cli_open_soc("mount", soc_name, &soc);
	if (code)
		return code;
	const struct ampl_soc_profile *p = ampl_soc_get_profile(soc);
	if (!ampl_soc_agent_by_name(p, as)) {
		char valid[256];
		ampl_soc_agent_names(p, valid, sizeof(valid));
		ampl_soc_close(soc);
		return cli_fail(EXIT_USAGE, "mount", "unknown agent '%s' on a %s SoC (agents: %s)", as, p->name, valid);
	}
	ampl_soc_close(soc);
	if (access("/dev/fuse", F_OK))
		return cli_fail(EXIT_FAIL, "mount", "/dev/fuse is missing: FUSE is not available here (load the fuse "
				"module; in a container, give it the device /dev/fuse)");
	if (access("/dev/fuse", R_OK | W_OK))
		return cli_fail(EXIT_FAIL, "mount", "/dev/fuse: %s", strerror(errno));
	return 0;
}

static int run(const struct mount_args *a)
{
	int code = check_env(a->dir, a->as, a->soc);
	if (code)
		return code;
	char abs[PATH_MAX];
	const char *shown = realpath(a->dir, abs) ? abs : a->dir;
	/* The absolute path: the server leaves its working directory, and unmounts by that path. */
	struct mount_args args = *a;
	args.dir = shown;
	a = &args;
	if (a->foreground) {
		code = setup(a);
		if (!code) {
			fprintf(stderr, "amplink mount: %s: channels of %s on SoC %s; unmount with fusermount3 -u %s\n",
				shown, a->as, a->soc, shown);
			code = serve();
		}
		teardown();
		return code;
	}
	/* Background: the child mounts and reports through a pipe, so errors still reach this terminal. */
	int pfd[2];
	if (pipe(pfd))
		return cli_fail(EXIT_FAIL, "mount", "pipe: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return cli_fail(EXIT_FAIL, "mount", "fork: %s", strerror(errno));
	if (pid > 0) {
		close(pfd[1]);
		unsigned char status = EXIT_FAIL;
		ssize_t n;
		do
			n = read(pfd[0], &status, 1);
		while (n < 0 && errno == EINTR);
		close(pfd[0]);
		if (n != 1) {
			waitpid(pid, NULL, 0);
			return cli_fail(EXIT_FAIL, "mount", "%s: the server exited before mounting", shown);
		}
		if (status) {
			waitpid(pid, NULL, 0);
			return status;
		}
		printf("%s: channels of %s on SoC %s, served by pid %d; unmount with: fusermount3 -u %s\n", shown, a->as,
		       a->soc, (int)pid, shown);
		return 0;
	}
	close(pfd[0]);
	code = setup(a);
	unsigned char status = (unsigned char)code;
	if (code) {
		teardown();
		ssize_t n = write(pfd[1], &status, 1);
		(void)n;
		_exit(code);
	}
	setsid();
	int cd = chdir("/"); /* do not keep the caller's directory busy */
	(void)cd;
	int devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (devnull > 2)
			close(devnull);
	}
	ssize_t n = write(pfd[1], &status, 1);
	(void)n;
	close(pfd[1]);
	code = serve();
	teardown();
	_exit(code);
}

#endif /* AMPL_HAVE_FUSE */

int cmd_mount(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "soc", required_argument, NULL, 's' },      { "as", required_argument, NULL, 'a' },
		{ "foreground", no_argument, NULL, 'f' },     { "mode", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 'T' },  { "queue", required_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },           { NULL, 0, NULL, 0 }
	};
	const char *soc_name = cli_default_soc(), *as = NULL;
	bool foreground = false;
	enum ampl_wait_mode mode = AMPL_WAIT_ADAPTIVE;
	uint64_t timeout_ms = AMPL_UCHAN_ACK_TIMEOUT_MS, queue = AMPL_UCHAN_QUEUE_LEN;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "s:a:fm:T:q:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': soc_name = optarg; break;
		case 'a': as = optarg; break;
		case 'f': foreground = true; break;
		case 'm':
			if (ampl_wait_mode_parse(optarg, &mode))
				return cli_fail(EXIT_USAGE, "mount", "--mode: '%s' is not polling, adaptive or blocking",
						optarg);
			break;
		case 'T':
			if (!cli_parse_u64(optarg, 1, 3600000, &timeout_ms))
				return cli_fail(EXIT_USAGE, "mount", "--timeout: '%s' is not 1..3600000 ms", optarg);
			break;
		case 'q':
			if (!cli_parse_u64(optarg, 1, 65536, &queue))
				return cli_fail(EXIT_USAGE, "mount", "--queue: '%s' is not 1..65536", optarg);
			break;
		case 'h': fputs(mount_usage, stdout); return 0;
		default: fputs(mount_usage, stderr); return EXIT_USAGE;
		}
	}
	if (!as)
		return cli_fail(EXIT_USAGE, "mount", "--as AGENT is required (see --help)");
	if (optind != argc - 1)
		return cli_fail(EXIT_USAGE, "mount", "expected one directory DIR (see --help)");
#if AMPL_HAVE_FUSE
	struct mount_args a = { soc_name, as, argv[optind], foreground, mode, timeout_ms, queue };
	return run(&a);
#else
	(void)foreground;
	(void)mode;
	return cli_fail(EXIT_FAIL, "mount", "this amplink was built without libfuse3 (install libfuse3-dev and "
			"rebuild)");
#endif
}
