/*
 * Devicetree loader: files, cpp and dtc. Reads a .dtb as it is; runs a .dts through the C preprocessor (with
 * the dt-bindings headers built into the library) and dtc, each output and file bounded by AMPL_DT_FILE_MAX.
 */
#include "dt/dt_internal.h"
#include "dt/dt_bindings.h"

#include <libfdt.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define DTC_OUTPUT_MAX 2048

/* ------------------------------------------------------------------------------------------------------------ */
/* Files, cpp and dtc                                                                                           */
/* ------------------------------------------------------------------------------------------------------------ */

static bool has_fdt_magic(const void *buf, size_t len)
{
	const unsigned char *p = buf;

	return len >= 4 && p[0] == 0xd0 && p[1] == 0x0d && p[2] == 0xfe && p[3] == 0xed;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/**
 * Read all of @fd, at most @max bytes, into a malloc'ed buffer.
 * Return: 0, -EFBIG (more than @max bytes: a regular file by its size, anything else once @max + 1 are read),
 * -ENOMEM, or -errno of read().
 */
static int read_fd(int fd, size_t max, void **out, size_t *len)
{
	struct stat st;
	size_t cap = 4096, n = 0;
	char *buf, *nbuf;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > max)
			return -EFBIG;
		if (st.st_size > 0)
			cap = (size_t)st.st_size + 1;
	}
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n > max) {
			free(buf);
			return -EFBIG;
		}
		if (n == cap) {
			size_t ncap = cap > max / 2 ? max + 1 : cap * 2;

			nbuf = realloc(buf, ncap);
			if (!nbuf) {
				free(buf);
				return -ENOMEM;
			}
			buf = nbuf;
			cap = ncap;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

static int read_path(const char *path, void **out, size_t *len, struct ampl_dt_diag *diag)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	if (fd < 0) {
		int e = errno;

		if (e == ENOENT || e == ENOTDIR) {
			dt_set_diag(diag, path, NULL, NULL, "no such file");
			return -ENOENT;
		}
		dt_set_diag(diag, path, NULL, NULL, "cannot open: %s", strerror(e));
		return -EIO;
	}
	ret = read_fd(fd, AMPL_DT_FILE_MAX, out, len);
	close(fd);
	if (ret == -ENOMEM) {
		dt_set_diag(diag, path, NULL, NULL, "out of memory");
		return ret;
	}
	if (ret == -EFBIG) {
		dt_set_diag(diag, path, NULL, NULL, "larger than %u bytes (AMPL_DT_FILE_MAX): not a devicetree",
			 AMPL_DT_FILE_MAX);
		return ret;
	}
	if (ret) {
		dt_set_diag(diag, path, NULL, NULL, "cannot read: %s", strerror(-ret));
		return -EIO;
	}
	return 0;
}

/* Drain @fd; keep the first cap-1 bytes in @buf. */
static void read_output(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	char scratch[512];

	for (;;) {
		char *dst = n + 1 < cap ? buf + n : scratch;
		size_t room = n + 1 < cap ? cap - 1 - n : sizeof(scratch);
		ssize_t r = read(fd, dst, room);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (dst == buf + n)
			n += (size_t)r;
	}
	buf[n] = '\0';
}

/* A line of a compiler's source excerpt ("    2 | #include <x.h>", "      |          ^~~~"): not a message. */
static bool is_excerpt_line(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && s[i] == ' ')
		i++;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	while (i < len && s[i] == ' ')
		i++;
	return i > 0 && i < len && s[i] == '|';
}

/* A tool's output as one line: lines joined with "; ", blank ones and source excerpts dropped. */
static void one_line(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	while (*in && n + 1 < cap) {
		size_t len = strcspn(in, "\n");

		while (len > 0 && (in[len - 1] == '\r' || in[len - 1] == ' ' || in[len - 1] == '\t'))
			len--;
		if (len > 0 && !is_excerpt_line(in, len)) {
			int w = snprintf(out + n, cap - n, "%s%.*s", n ? "; " : "", (int)len, in);

			n += w > 0 ? (size_t)w : 0;
			if (n >= cap)
				n = cap - 1;
		}
		in += strcspn(in, "\n");
		if (*in == '\n')
			in++;
	}
}

/** One run of a tool: what it said and how it ended. */
struct tool_run {
	int spawn_err;             /* posix_spawnp()'s error, 0 when it ran */
	int status;                /* waitpid() status */
	char out[DTC_OUTPUT_MAX];  /* stdout and stderr */
};

/* Run @argv (argv[0] looked up in PATH) with stdin from /dev/null, collecting its output. Return: 0 or -EIO. */
static int run_tool(const char *path, char *const argv[], struct tool_run *r, struct ampl_dt_diag *diag)
{
	posix_spawn_file_actions_t fa;
	int pfd[2], err;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		dt_set_diag(diag, path, NULL, NULL, "cannot create a pipe for %s: %s", argv[0], strerror(errno));
		return -EIO;
	}
	err = posix_spawn_file_actions_init(&fa);
	if (!err)
		err = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!err)
		err = posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	if (!err)
		err = posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	if (!err)
		err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (err) {
		close(pfd[0]);
		r->spawn_err = err;
		return 0;
	}
	read_output(pfd[0], r->out, sizeof(r->out));
	close(pfd[0]);
	while (waitpid(pid, &r->status, 0) < 0) {
		if (errno != EINTR) {
			dt_set_diag(diag, path, NULL, NULL, "waiting for %s: %s", argv[0], strerror(errno));
			return -EIO;
		}
	}
	return 0;
}

/*
 * 0 when @r ran and exited 0; otherwise -EIO with @diag saying why: "TOOL failed (exit status N): its messages", or,
 * when it is missing, that @what is not installed and which Debian @package installs it.
 */
static int tool_result(const char *path, const char *tool, const char *what, const char *package,
		       const struct tool_run *r, struct ampl_dt_diag *diag)
{
	char line[DTC_OUTPUT_MAX];

	if (!r->spawn_err && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0)
		return 0;
	one_line(r->out, line, sizeof(line));
	if (r->spawn_err == ENOENT || (!r->spawn_err && WIFEXITED(r->status) && WEXITSTATUS(r->status) == 127 &&
				      !line[0]))
		dt_set_diag(diag, path, NULL, NULL,
			 "%s (%s) is not installed or not in PATH; install the Debian package %s", tool, what, package);
	else if (r->spawn_err)
		dt_set_diag(diag, path, NULL, NULL, "cannot run %s: %s", tool, strerror(r->spawn_err));
	else if (WIFEXITED(r->status))
		dt_set_diag(diag, path, NULL, NULL, "%s failed (exit status %d): %s", tool, WEXITSTATUS(r->status),
			 line[0] ? line : "no message");
	else
		dt_set_diag(diag, path, NULL, NULL, "%s killed by signal %d: %s", tool,
			 WIFSIGNALED(r->status) ? WTERMSIG(r->status) : 0, line[0] ? line : "no message");
	return -EIO;
}

static int remove_entry(const char *fpath, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	remove(fpath);
	return 0;
}

/* Write the built-in dt-bindings headers under @inc (a new, private folder). Return: 0 or -errno. */
static int write_bindings(const char *inc)
{
	char p[PATH_MAX];

	for (unsigned i = 0; i < ampl_dt_num_bindings; i++) {
		const struct ampl_dt_embedded_file *f = &ampl_dt_bindings[i];
		int n = snprintf(p, sizeof(p), "%s/%s", inc, f->path);
		size_t done = 0;
		int fd;

		if (n < 0 || (size_t)n >= sizeof(p))
			return -ENAMETOOLONG;
		for (char *s = p + strlen(inc) + 1; (s = strchr(s, '/')) != NULL; s++) {
			*s = '\0';
			if (mkdir(p, 0700) != 0 && errno != EEXIST)
				return -errno;
			*s = '/';
		}
		fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return -errno;
		while (done < f->size) {
			ssize_t w = write(fd, f->data + done, f->size - done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				int e = w < 0 ? errno : EIO;

				close(fd);
				return -e;
			}
			done += (size_t)w;
		}
		if (close(fd) != 0)
			return -errno;
	}
	return 0;
}

/* The folder @path is in ("." for a bare name). */
static int dir_of(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (!slash)
		n = snprintf(dir, cap, ".");
	else if (slash == path)
		n = snprintf(dir, cap, "/");
	else
		n = snprintf(dir, cap, "%.*s", (int)(slash - path), path);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/*
 * Preprocess and compile the source @path as the Linux build does: cpp with the file's folder, the caller's folders
 * and the built-in dt-bindings as include folders, then dtc on its output (whose line markers make dtc report the
 * user's files and lines), with the same folders for /include/. Everything lives in a private temporary folder,
 * removed before returning.
 */
static int compile_source(const char *path, const struct ampl_dt_load_opts *opts, void **dtb, size_t *size,
			  struct ampl_dt_diag *diag)
{
	const char *tmpdir = getenv("TMPDIR");
	unsigned nuser = opts ? opts->num_include_dirs : 0;
	char work[PATH_MAX - 32], inc[PATH_MAX], pp[PATH_MAX], out[PATH_MAX], in[PATH_MAX], own[PATH_MAX];
	/* cpp: 6 fixed, 2 per folder (own, user, built-in), -o pp, in, NULL; dtc: 7 fixed, 2 per folder, -o out, pp */
	char *argv[16 + 2 * AMPL_DT_MAX_INCLUDE_DIRS];
	struct tool_run *run;
	unsigned a;
	int n, ret;

	if (nuser > AMPL_DT_MAX_INCLUDE_DIRS) {
		dt_set_diag(diag, path, NULL, NULL, "%u include folders; at most %d (AMPL_DT_MAX_INCLUDE_DIRS)", nuser,
			 AMPL_DT_MAX_INCLUDE_DIRS);
		return -EINVAL;
	}
	for (unsigned i = 0; i < nuser; i++) {
		if (!opts->include_dirs || !opts->include_dirs[i] || !opts->include_dirs[i][0]) {
			dt_set_diag(diag, path, NULL, NULL, "include folder %u is empty", i + 1);
			return -EINVAL;
		}
	}
	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	/* the tools take a leading '-' for an option */
	n = snprintf(in, sizeof(in), "%s%s", path[0] == '-' ? "./" : "", path);
	if (n < 0 || (size_t)n >= sizeof(in) || dir_of(in, own, sizeof(own))) {
		dt_set_diag(diag, path, NULL, NULL, "path is too long");
		return -EIO;
	}
	n = snprintf(work, sizeof(work), "%s/amplink-dt-XXXXXX", tmpdir);
	if (n < 0 || (size_t)n >= sizeof(work)) {
		dt_set_diag(diag, path, NULL, NULL, "TMPDIR is too long");
		return -EIO;
	}
	if (!mkdtemp(work)) {
		dt_set_diag(diag, path, NULL, NULL, "cannot create a temporary folder in %s: %s", tmpdir, strerror(errno));
		return -EIO;
	}
	snprintf(inc, sizeof(inc), "%s/include", work);
	snprintf(pp, sizeof(pp), "%s/board.dts.i", work);
	snprintf(out, sizeof(out), "%s/board.dtb", work);
	run = malloc(sizeof(*run));
	if (!run) {
		dt_set_diag(diag, path, NULL, NULL, "out of memory");
		ret = -ENOMEM;
		goto out;
	}
	ret = mkdir(inc, 0700) ? -errno : write_bindings(inc);
	if (ret) {
		dt_set_diag(diag, path, NULL, NULL, "cannot write the dt-bindings headers to %s: %s", inc, strerror(-ret));
		ret = -EIO;
		goto out;
	}

	a = 0;
	argv[a++] = "cpp";
	argv[a++] = "-nostdinc";
	argv[a++] = "-undef";
	argv[a++] = "-D__DTS__";
	argv[a++] = "-x";
	argv[a++] = "assembler-with-cpp";
	argv[a++] = "-I";
	argv[a++] = own;
	for (unsigned i = 0; i < nuser; i++) {
		argv[a++] = "-I";
		argv[a++] = (char *)opts->include_dirs[i];
	}
	argv[a++] = "-I";
	argv[a++] = inc;
	argv[a++] = "-o";
	argv[a++] = pp;
	argv[a++] = in;
	argv[a] = NULL;
	ret = run_tool(path, argv, run, diag);
	if (!ret)
		ret = tool_result(path, "cpp", "the C preprocessor, which devicetree sources go through", "cpp",
				  run, diag);
	if (ret)
		goto out;

	a = 0;
	argv[a++] = "dtc";
	argv[a++] = "-q";
	argv[a++] = "-@";
	argv[a++] = "-I";
	argv[a++] = "dts";
	argv[a++] = "-O";
	argv[a++] = "dtb";
	argv[a++] = "-i";
	argv[a++] = own;
	for (unsigned i = 0; i < nuser; i++) {
		argv[a++] = "-i";
		argv[a++] = (char *)opts->include_dirs[i];
	}
	argv[a++] = "-o";
	argv[a++] = out;
	argv[a++] = pp;
	argv[a] = NULL;
	ret = run_tool(path, argv, run, diag);
	if (!ret)
		ret = tool_result(path, "dtc", "the devicetree compiler", "device-tree-compiler", run, diag);
	if (ret)
		goto out;

	ret = read_path(out, dtb, size, diag);
	if (ret) {
		if (ret == -EFBIG)
			dt_set_diag(diag, path, NULL, NULL, "compiles to more than %u bytes (AMPL_DT_FILE_MAX)",
				 AMPL_DT_FILE_MAX);
		else if (ret != -ENOMEM)
			dt_set_diag(diag, path, NULL, NULL, "cannot read dtc's output %s", out);
		ret = ret == -ENOMEM || ret == -EFBIG ? ret : -EIO;
		goto out;
	}
	if (!has_fdt_magic(*dtb, *size)) {
		free(*dtb);
		*dtb = NULL;
		*size = 0;
		dt_set_diag(diag, path, NULL, NULL, "dtc produced no devicetree blob");
		ret = -EIO;
	}
out:
	free(run);
	nftw(work, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	return ret;
}

int ampl_dt_read_file_opts(const char *path, const struct ampl_dt_load_opts *opts, void **dtb, size_t *size,
			   struct ampl_dt_diag *diag)
{
	void *buf;
	size_t len;
	int ret;

	if (diag)
		diag->msg[0] = '\0';
	if (!path || !dtb || !size) {
		dt_set_diag(diag, path, NULL, NULL, "no file given");
		return -EINVAL;
	}
	*dtb = NULL;
	*size = 0;
	ret = read_path(path, &buf, &len, diag);
	if (ret)
		return ret;
	if (has_fdt_magic(buf, len)) {
		*dtb = buf;
		*size = len;
		return 0;
	}
	free(buf);
	if (has_suffix(path, ".dtb") || has_suffix(path, ".dtbo")) {
		dt_set_diag(diag, path, NULL, NULL, "not a devicetree blob (it does not start with the magic 0xd00dfeed)");
		return -EINVAL;
	}
	return compile_source(path, opts, dtb, size, diag);
}

int ampl_dt_read_file(const char *path, void **dtb, size_t *size, struct ampl_dt_diag *diag)
{
	return ampl_dt_read_file_opts(path, NULL, dtb, size, diag);
}

int ampl_dt_set_u32(const void *dtb, size_t size, const char *path, const char *prop, uint32_t v, void **out,
		    size_t *out_size)
{
	if (!dtb || !path || !prop || !out || !out_size || size < sizeof(struct fdt_header) ||
	    fdt_check_header(dtb) != 0 || fdt_totalsize(dtb) > size)
		return -EINVAL;
	size_t cap = fdt_totalsize(dtb) + strlen(prop) + 64u; /* room for a new property and its name */
	void *blob = malloc(cap);
	if (!blob)
		return -ENOMEM;
	int off = -1, r = fdt_open_into(dtb, blob, (int)cap);
	if (r == 0)
		off = fdt_path_offset(blob, path);
	if (r == 0 && off >= 0)
		r = fdt_setprop_u32(blob, off, prop, v);
	if (r == 0 && off >= 0)
		r = fdt_pack(blob);
	if (r != 0 || off < 0) {
		free(blob);
		return off == -FDT_ERR_NOTFOUND ? -ENOENT : r == -FDT_ERR_NOSPACE ? -ENOMEM : -EINVAL;
	}
	*out = blob;
	*out_size = fdt_totalsize(blob);
	return 0;
}

int ampl_dt_load_file_opts(const char *path, const struct ampl_dt_load_opts *opts,
			   const struct ampl_soc_profile *profile, struct ampl_dt_board *board,
			   struct ampl_dt_diag *diag)
{
	void *dtb;
	size_t size;
	int ret = ampl_dt_read_file_opts(path, opts, &dtb, &size, diag);

	if (ret)
		return ret;
	ret = ampl_dt_load_blob(dtb, size, path, profile, board, diag);
	free(dtb);
	return ret;
}

int ampl_dt_load_file(const char *path, const struct ampl_soc_profile *profile, struct ampl_dt_board *board,
		      struct ampl_dt_diag *diag)
{
	return ampl_dt_load_file_opts(path, NULL, profile, board, diag);
}
