/*
 * Shared-memory images by name: files AMPL_SHM_DIR/amplink.NAME (/dev/shm/amplink.NAME, what shm_open() names
 * "/amplink.NAME").
 *
 * The file is something a co-tenant may control (docs/security.md): anyone with write access can shrink it, and
 * any user can create a name first. So:
 *   - an image is opened without following a symbolic link, must be a regular file, and must belong to the
 *     effective user unless the caller allows another owner;
 *   - creation allocates every page (fallocate): a full file system fails there, not at the first access;
 *   - every mapping is registered with a SIGBUS handler. When the file shrinks under a mapping, the next access past
 *     its end faults; the handler replaces the mapping from the faulting page to its end with private zero pages,
 *     marks the image damaged (ampl_shm_damaged()) and returns, so the access completes on zeros instead of killing
 *     the process. A fault outside every image goes to the handler that was installed before.
 */
#include "port/posix/port_posix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHM_PREFIX "amplink."

int ampl_shm_name_valid(const char *name)
{
	if (!name || !*name || name[0] == '.' || strlen(name) > AMPL_SHM_NAME_MAX)
		return -EINVAL;
	for (const char *c = name; *c; c++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
			  *c == '_' || *c == '-' || *c == '.';
		if (!ok)
			return -EINVAL;
	}
	return 0;
}

void ampl_shm_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, AMPL_SHM_DIR "/" SHM_PREFIX "%s", name ? name : "");
}

/* ---- the SIGBUS guard ---- */

#define GUARD_SLOTS 256

static struct guard {
	_Atomic uintptr_t base; /* 0: free */
	_Atomic size_t size;
	atomic_bool damaged;
} guards[GUARD_SLOTS];

static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction guard_prev; /* the handler ours replaced: faults outside every image go there */
static uintptr_t guard_page;

static void guard_sigbus(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	uintptr_t a = (uintptr_t)si->si_addr;
	for (unsigned i = 0; i < GUARD_SLOTS; i++) {
		struct guard *g = &guards[i];
		uintptr_t base = atomic_load_explicit(&g->base, memory_order_acquire);
		size_t size = atomic_load_explicit(&g->size, memory_order_relaxed);
		if (!base || a < base || a - base >= size)
			continue;
		/* The file ends before @a, so it ends before every later byte of the mapping too. */
		uintptr_t from = a & ~(guard_page - 1);
		void *p = mmap((void *)from, base + size - from, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (p == MAP_FAILED)
			break; /* nothing left to do but the default action */
		atomic_store(&g->damaged, true);
		errno = saved;
		return; /* the access is retried, on zero pages */
	}
	errno = saved;
	if (guard_prev.sa_flags & SA_SIGINFO) {
		guard_prev.sa_sigaction(sig, si, uc);
	} else if (guard_prev.sa_handler != SIG_DFL && guard_prev.sa_handler != SIG_IGN) {
		guard_prev.sa_handler(sig);
	} else {
		/* Not ours: put back what was there; the access faults again and takes that action. */
		sigaction(SIGBUS, &guard_prev, NULL);
	}
}

/* Install the handler unless it is in place: at every mapping, since a handler installed since (a test framework,
 * a forked child resetting its signals) replaces ours. Return: 0; -errno of sigaction. */
static int guard_install(void)
{
	int ret = 0;
	pthread_mutex_lock(&guard_lock);
	struct sigaction cur;
	if (sigaction(SIGBUS, NULL, &cur)) {
		ret = -errno;
	} else if (!(cur.sa_flags & SA_SIGINFO) || cur.sa_sigaction != guard_sigbus) {
		guard_page = (uintptr_t)sysconf(_SC_PAGESIZE);
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = guard_sigbus;
		sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
		sigemptyset(&sa.sa_mask);
		guard_prev = cur;
		if (sigaction(SIGBUS, &sa, NULL))
			ret = -errno;
	}
	pthread_mutex_unlock(&guard_lock);
	return ret;
}

/* Register a mapping with the SIGBUS guard. Return: 0; -EMFILE (too many images mapped); -errno of sigaction. */
static int guard_add(void *base, size_t size)
{
	int ret = guard_install();
	if (ret)
		return ret;
	for (unsigned i = 0; i < GUARD_SLOTS; i++) {
		uintptr_t expect = 0;
		if (atomic_compare_exchange_strong(&guards[i].base, &expect, (uintptr_t)base)) {
			atomic_store(&guards[i].damaged, false);
			atomic_store_explicit(&guards[i].size, size, memory_order_release);
			return 0;
		}
	}
	return -EMFILE;
}

static struct guard *guard_of(const void *base)
{
	for (unsigned i = 0; i < GUARD_SLOTS; i++)
		if (base && atomic_load(&guards[i].base) == (uintptr_t)base)
			return &guards[i];
	return NULL;
}

bool ampl_shm_damaged(const void *base)
{
	struct guard *g = guard_of(base);
	return g && atomic_load(&g->damaged);
}

/* ---- images ---- */

static int map(int fd, size_t size, void **base)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	int ret = guard_add(p, size);
	if (ret) {
		munmap(p, size);
		return ret;
	}
	*base = p;
	return 0;
}

int ampl_shm_create(const char *name, size_t size, void **base)
{
	char path[sizeof(AMPL_SHM_DIR) + AMPL_SHM_NAME_MAX + 16];
	if (ampl_shm_name_valid(name) || !size)
		return -EINVAL;
	ampl_shm_path(path, sizeof(path), name);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0660);
	if (fd < 0)
		return -errno;
	int ret = 0;
	if (ftruncate(fd, (off_t)size) < 0)
		ret = -errno;
	/* Every page now: the file is sparse otherwise, and a full file system would make the first access a SIGBUS. */
	if (!ret)
		ret = -posix_fallocate(fd, 0, (off_t)size);
	if (!ret)
		ret = map(fd, size, base);
	if (ret)
		unlink(path);
	close(fd);
	return ret;
}

int ampl_shm_attach(const char *name, unsigned flags, void **base, size_t *size, uint32_t *owner)
{
	char path[sizeof(AMPL_SHM_DIR) + AMPL_SHM_NAME_MAX + 16];
	if (ampl_shm_name_valid(name))
		return -EINVAL;
	ampl_shm_path(path, sizeof(path), name);
	return ampl_shm_attach_path(path, flags, base, size, owner);
}

int ampl_shm_attach_path(const char *path, unsigned flags, void **base, size_t *size, uint32_t *owner)
{
	if (!path || !base || !size)
		return -EINVAL;
	/* O_NONBLOCK: a FIFO planted under the name must not block the open (it is refused below). */
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP || errno == EMLINK ? -ELOOP : -errno;
	struct stat st;
	int ret = 0;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
	} else {
		if (owner)
			*owner = (uint32_t)st.st_uid;
		if (!S_ISREG(st.st_mode))
			ret = -ENOTSUP;
		else if (st.st_uid != geteuid() && !(flags & AMPL_SHM_ANY_OWNER))
			ret = -EPERM;
		else if (st.st_size <= 0)
			ret = -EINVAL;
		else if ((ret = map(fd, (size_t)st.st_size, base)) == 0)
			*size = (size_t)st.st_size;
	}
	close(fd);
	return ret;
}

void ampl_shm_detach(void *base, size_t size)
{
	if (!base)
		return;
	struct guard *g = guard_of(base);
	munmap(base, size);
	if (g)
		atomic_store_explicit(&g->base, 0, memory_order_release);
}

int ampl_shm_owner(const char *name, uint32_t *uid)
{
	char path[sizeof(AMPL_SHM_DIR) + AMPL_SHM_NAME_MAX + 16];
	if (ampl_shm_name_valid(name))
		return -EINVAL;
	ampl_shm_path(path, sizeof(path), name);
	struct stat st;
	if (lstat(path, &st) < 0)
		return -errno;
	*uid = (uint32_t)st.st_uid;
	return 0;
}

int ampl_shm_unlink(const char *name)
{
	char path[sizeof(AMPL_SHM_DIR) + AMPL_SHM_NAME_MAX + 16];
	if (ampl_shm_name_valid(name))
		return -EINVAL;
	ampl_shm_path(path, sizeof(path), name);
	return unlink(path) < 0 ? -errno : 0;
}

int ampl_shm_list(void (*fn)(const char *name, void *arg), void *arg)
{
	DIR *d = opendir(AMPL_SHM_DIR);
	if (!d)
		return -errno;
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (strncmp(e->d_name, SHM_PREFIX, strlen(SHM_PREFIX)) != 0)
			continue;
		const char *name = e->d_name + strlen(SHM_PREFIX);
		if (ampl_shm_name_valid(name))
			continue;
		if (fn)
			fn(name, arg);
		n++;
	}
	closedir(d);
	return n;
}
