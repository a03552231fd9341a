/* Shared-memory images by name: POSIX shm objects "/amplink.NAME" (/dev/shm/amplink.NAME on Linux). */
#include "port/posix/port_posix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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

static void shm_path(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "/" SHM_PREFIX "%s", name);
}

int ampl_shm_create(const char *name, size_t size, void **base)
{
	char path[AMPL_SHM_NAME_MAX + 16];
	if (ampl_shm_name_valid(name) || !size)
		return -EINVAL;
	shm_path(path, sizeof(path), name);
	int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL, 0660);
	if (fd < 0)
		return -errno;
	int ret = 0;
	if (ftruncate(fd, (off_t)size) < 0) {
		ret = -errno;
		shm_unlink(path);
	} else {
		void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			ret = -errno;
			shm_unlink(path);
		} else {
			*base = p;
		}
	}
	close(fd);
	return ret;
}

int ampl_shm_attach(const char *name, void **base, size_t *size)
{
	char path[AMPL_SHM_NAME_MAX + 16];
	if (ampl_shm_name_valid(name))
		return -EINVAL;
	shm_path(path, sizeof(path), name);
	int fd = shm_open(path, O_RDWR, 0);
	if (fd < 0)
		return -errno;
	struct stat st;
	int ret = 0;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
	} else if (st.st_size <= 0) {
		ret = -EINVAL;
	} else {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			ret = -errno;
		} else {
			*base = p;
			*size = (size_t)st.st_size;
		}
	}
	close(fd);
	return ret;
}

void ampl_shm_detach(void *base, size_t size)
{
	if (base)
		munmap(base, size);
}

int ampl_shm_unlink(const char *name)
{
	char path[AMPL_SHM_NAME_MAX + 16];
	if (ampl_shm_name_valid(name))
		return -EINVAL;
	shm_path(path, sizeof(path), name);
	return shm_unlink(path) < 0 ? -errno : 0;
}

int ampl_shm_list(void (*fn)(const char *name, void *arg), void *arg)
{
	DIR *d = opendir("/dev/shm");
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
