/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Rooted host access. Every host path the library touches is resolved here, below the
 * context's root directory, so that `--sysroot DIR` and the real host behave the same.
 *
 * Below a root other than "/", paths are opened with openat2(RESOLVE_IN_ROOT) so that an
 * absolute symlink in a captured tree resolves inside the tree instead of on the build
 * machine. sysfs only uses relative links, which resolve the same either way.
 *
 * Attributes are read relative to an open directory (attr_*_at()). The kernel's attributes are
 * regular files that answer at once; in a fake or damaged tree, whatever stands in their place
 * (a link to the build machine's /etc, a FIFO, a device) is refused rather than followed or
 * waited on.
 */
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "context.h"
#include "fd.h"

/* "/sys/bus" -> "sys/bus"; "/" -> ".". */
static const char *relative(const char *path)
{
	while (*path == '/')
		path++;
	return *path ? path : ".";
}

/*
 * openat2() again while it answers EAGAIN: with RESOLVE_IN_ROOT or RESOLVE_BENEATH the kernel
 * gives up on a path with ".." when a rename or mount anywhere on the system raced with the
 * look-up, and openat2(2) leaves the retry to the caller. Bounded: a real attack that keeps
 * racing gets the error. -1 with errno set, like the call.
 */
static int openat2_retry(int dirfd, const char *path, const struct open_how *how)
{
	int fd = -1;

	for (unsigned attempt = 0; attempt < 64; attempt++) {
		fd = (int)syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd;
}

static int openat_rooted(struct passthru_ctx *ctx, const char *path, int flags, mode_t mode)
{
	int fd;

	if (!path || path[0] != '/')
		return -EINVAL;
	if (!ctx->root_is_slash) {
		struct open_how how = {
			.flags = (uint64_t)flags | O_CLOEXEC,
			.mode = (flags & O_CREAT) ? mode : 0,
			.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
		};
		fd = openat2_retry(ctx->root_fd, relative(path), &how);
		if (fd >= 0 || errno != ENOSYS)
			return fd >= 0 ? fd : -errno;
	}
	fd = openat(ctx->root_fd, relative(path), flags | O_CLOEXEC, mode);
	return fd >= 0 ? fd : -errno;
}

int root_path(struct passthru_ctx *ctx, const char *path, char **ret)
{
	char *s;

	if (!path || path[0] != '/')
		return -EINVAL;
	if (ctx->root_is_slash)
		s = strdup(path);
	else if (asprintf(&s, "%s%s", ctx->sysroot, path) < 0)
		s = NULL;
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

int root_open(struct passthru_ctx *ctx, const char *path, int flags, mode_t mode)
{
	return openat_rooted(ctx, path, flags, mode);
}

int root_open_dir(struct passthru_ctx *ctx, const char *path)
{
	return openat_rooted(ctx, path, O_RDONLY | O_DIRECTORY, 0);
}

int root_opendir(struct passthru_ctx *ctx, const char *path, DIR **ret)
{
	int fd = root_open_dir(ctx, path);
	DIR *d;

	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		int r = -errno;
		close(fd);
		return r;
	}
	*ret = d;
	return 0;
}

bool root_exists(struct passthru_ctx *ctx, const char *path)
{
	_cleanup_close_ int fd = openat_rooted(ctx, path, O_PATH, 0);

	return fd >= 0;
}

/* Reads an open fd to its end, up to max bytes; NUL-terminates. */
static int read_fd_all(int fd, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, size = 0;

	for (;;) {
		ssize_t n;

		if (size - len < 2) {
			size_t nsize = size ? size * 2 : 4096;
			char *nbuf;

			if (size > max + 1)
				return -EFBIG;
			nbuf = realloc(buf, nsize);
			if (!nbuf)
				return -ENOMEM;
			buf = nbuf;
			size = nsize;
		}
		n = read(fd, buf + len, size - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max)
			return -EFBIG;
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf)
			return -ENOMEM;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	if (ret_len)
		*ret_len = len;
	return 0;
}

/* A FIFO or a device where a file should be would block a read or never end. */
static int check_regular(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	return S_ISREG(st.st_mode) ? 0 : -EBADFD;
}

int root_read_file(struct passthru_ctx *ctx, const char *path, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = openat_rooted(ctx, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
	int r;

	if (fd < 0)
		return fd;
	r = check_regular(fd);
	if (r < 0)
		return r;
	/* Configuration files may be larger than sysfs attributes, but not unboundedly. */
	return read_fd_all(fd, 16 * 1024 * 1024, ret, ret_len);
}

/* Splits a host path into an fd of its parent directory and its last component. */
static int open_parent(struct passthru_ctx *ctx, const char *path, const char **ret_base)
{
	_cleanup_free_ char *dir = NULL;
	const char *slash;

	if (!path || path[0] != '/')
		return -EINVAL;
	slash = strrchr(path, '/');
	if (!slash[1])
		return -EINVAL;
	dir = strndup(path, (size_t)(slash - path) + 1);
	if (!dir)
		return -ENOMEM;
	*ret_base = slash + 1;
	return root_open_dir(ctx, dir);
}

int root_readlink(struct passthru_ctx *ctx, const char *path, char **ret)
{
	const char *base;
	_cleanup_close_ int dirfd = open_parent(ctx, path, &base);

	if (dirfd < 0)
		return dirfd;
	return attr_readlink_at(dirfd, base, ret);
}

int root_unlink(struct passthru_ctx *ctx, const char *path)
{
	const char *base;
	_cleanup_close_ int dirfd = open_parent(ctx, path, &base);

	if (dirfd < 0)
		return dirfd;
	if (unlinkat(dirfd, base, 0) < 0)
		return -errno;
	return 0;
}

/* Creates every missing directory of a host path (like mkdir -p) and opens the last one. */
static int mkdir_p_open(struct passthru_ctx *ctx, const char *dir)
{
	_cleanup_free_ char *copy = strdup(dir);
	int fd;

	if (!copy)
		return -ENOMEM;
	fd = root_open_dir(ctx, copy);
	if (fd != -ENOENT)
		return fd;
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		{
			_cleanup_close_ int parent = -1;
			const char *base;

			parent = open_parent(ctx, copy, &base);
			if (parent < 0)
				return parent;
			if (mkdirat(parent, base, 0755) < 0 && errno != EEXIST)
				return -errno;
		}
		*p = '/';
	}
	{
		_cleanup_close_ int parent = -1;
		const char *base;

		parent = open_parent(ctx, copy, &base);
		if (parent < 0)
			return parent;
		if (mkdirat(parent, base, 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	return root_open_dir(ctx, copy);
}

int root_write_file_atomic(struct passthru_ctx *ctx, const char *path, const void *data,
			   size_t len, mode_t mode)
{
	_cleanup_free_ char *dir = NULL, *tmp = NULL;
	_cleanup_close_ int dirfd = -1, fd = -1;
	const char *base, *slash;
	struct stat st;
	struct timespec ts;
	int r;

	if (!path || path[0] != '/')
		return -EINVAL;
	slash = strrchr(path, '/');
	base = slash + 1;
	if (!*base)
		return -EINVAL;
	dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
	if (!dir)
		return -ENOMEM;
	dirfd = mkdir_p_open(ctx, dir);
	if (dirfd < 0)
		return dirfd;

	/* Keep the mode of a file we replace: an administrator may have tightened it. */
	if (fstatat(dirfd, base, &st, 0) == 0)
		mode = st.st_mode & 07777;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (asprintf(&tmp, ".%s.%d.%lx.tmp", base, (int)getpid(),
		     (unsigned long)ts.tv_nsec ^ (unsigned long)ts.tv_sec) < 0) {
		tmp = NULL;
		return -ENOMEM;
	}
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	r = fd_write_all(fd, data, len);
	if (r >= 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	if (r >= 0 && renameat(dirfd, tmp, dirfd, base) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return r;
	}
	/* The rename itself is durable only once the directory is. */
	(void)fsync(dirfd);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */

int attr_open_at(int dirfd, const char *name)
{
	const int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	struct open_how how = {
	    .flags = flags,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	_cleanup_close_ int fd = -1;
	int r;

	fd = openat2_retry(dirfd, name, &how);
	/* Before Linux 5.6: no link in an attribute's place at all. */
	if (fd < 0 && errno == ENOSYS) {
		fd = openat(dirfd, name, flags | O_NOFOLLOW);
		if (fd < 0 && errno == ELOOP)
			return -EXDEV;
	}
	if (fd < 0)
		return -errno;
	r = check_regular(fd);
	if (r < 0)
		return r;
	return TAKE_FD(fd);
}

int attr_read_at(int dirfd, const char *name, char **ret)
{
	_cleanup_close_ int fd = attr_open_at(dirfd, name);
	_cleanup_free_ char *s = NULL;
	size_t len;
	int r;

	if (fd < 0)
		return fd;
	r = read_fd_all(fd, ATTR_MAX_SIZE, &s, &len);
	if (r < 0)
		return r;
	if (strlen(s) != len)
		return -EBADMSG;
	while (len > 0 && s[len - 1] == '\n')
		s[--len] = '\0';
	*ret = TAKE_PTR(s);
	return 0;
}

ssize_t attr_read_raw_at(int dirfd, const char *name, void *buf, size_t size)
{
	_cleanup_close_ int fd = attr_open_at(dirfd, name);
	size_t len = 0;

	if (fd < 0)
		return fd;
	while (len < size) {
		ssize_t n = read(fd, (char *)buf + len, size - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}

int attr_readlink_at(int dirfd, const char *name, char **ret)
{
	size_t size = 256;

	for (;;) {
		_cleanup_free_ char *buf = malloc(size);
		ssize_t n;

		if (!buf)
			return -ENOMEM;
		n = readlinkat(dirfd, name, buf, size);
		if (n < 0)
			return -errno;
		if ((size_t)n < size) {
			buf[n] = '\0';
			*ret = TAKE_PTR(buf);
			return 0;
		}
		if (size >= 65536)
			return -ENAMETOOLONG;
		size *= 2;
	}
}

int attr_link_basename_at(int dirfd, const char *name, char **ret)
{
	_cleanup_free_ char *target = NULL;
	const char *base;
	char *s;
	int r;

	r = attr_readlink_at(dirfd, name, &target);
	if (r < 0)
		return r;
	strip_trailing(target);
	while (*target && target[strlen(target) - 1] == '/')
		target[strlen(target) - 1] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return -EBADMSG;
	s = strdup(base);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

int attr_read_hex_at(int dirfd, const char *name, uint64_t max, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = attr_read_at(dirfd, name, &s);
	if (r < 0)
		return r;
	return parse_hex(s, max, ret);
}

int attr_read_long_at(int dirfd, const char *name, long min, long max, long *ret)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = attr_read_at(dirfd, name, &s);
	if (r < 0)
		return r;
	return parse_long(s, min, max, ret);
}

/* ------------------------------------------------------------------------------------------ */

int path_join_lexical(const char *dir, const char *target, char **ret)
{
	_cleanup_free_ char *src = NULL, *buf = NULL;
	size_t len = 0;
	char *save = NULL;

	if (target[0] == '/')
		src = strdup(target);
	else if (asprintf(&src, "%s/%s", dir, target) < 0)
		src = NULL;
	if (!src)
		return -ENOMEM;
	buf = malloc(strlen(src) + 2);
	if (!buf)
		return -ENOMEM;
	buf[0] = '\0';
	for (char *c = strtok_r(src, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			char *slash = strrchr(buf, '/');

			len = slash ? (size_t)(slash - buf) : 0;
			buf[len] = '\0';
			continue;
		}
		buf[len++] = '/';
		strcpy(buf + len, c);
		len += strlen(c);
	}
	if (len == 0)
		strcpy(buf, "/");
	*ret = TAKE_PTR(buf);
	return 0;
}

int root_resolve_link(struct passthru_ctx *ctx, const char *path, char **ret)
{
	_cleanup_free_ char *target = NULL, *dir = NULL;
	const char *slash;
	int r;

	r = root_readlink(ctx, path, &target);
	if (r == -EINVAL) {
		char *s = strdup(path);

		if (!s)
			return -ENOMEM;
		*ret = s;
		return 0;
	}
	if (r < 0)
		return r;
	slash = strrchr(path, '/');
	dir = strndup(path, slash && slash != path ? (size_t)(slash - path) : 1);
	if (!dir)
		return -ENOMEM;
	return path_join_lexical(dir, target, ret);
}

/* Drops the last component of a resolved path ("" stands for "/"; ".." stops at the root). */
static void drop_last_component(char *path)
{
	char *slash = strrchr(path, '/');

	if (slash)
		*slash = '\0';
}

int root_resolve_path(struct passthru_ctx *ctx, const char *path, char **ret)
{
	_cleanup_free_ char *done = NULL, *todo = NULL;
	unsigned links = 0;

	if (!path || path[0] != '/')
		return -EINVAL;
	done = strdup("");
	todo = strdup(path);
	if (!done || !todo)
		return -ENOMEM;
	/* done never holds a link, so ".." on it is its lexical parent, as the kernel's walk. */
	for (;;) {
		_cleanup_free_ char *name = NULL, *next = NULL, *target = NULL;
		const char *p = todo, *end;
		size_t n;
		int r;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		end = strchr(p, '/');
		n = end ? (size_t)(end - p) : strlen(p);
		name = strndup(p, n);
		if (!name)
			return -ENOMEM;
		p += n;
		if (strcmp(name, ".") == 0) {
			memmove(todo, p, strlen(p) + 1);
			continue;
		}
		if (strcmp(name, "..") == 0) {
			drop_last_component(done);
			memmove(todo, p, strlen(p) + 1);
			continue;
		}
		if (asprintf(&next, "%s/%s", done, name) < 0)
			return -ENOMEM;
		r = root_readlink(ctx, next, &target);
		if (r == -EINVAL || r == -ENOENT) {
			/* Not a link, or not there (yet): the name stays as it is. */
			free(done);
			done = TAKE_PTR(next);
			memmove(todo, p, strlen(p) + 1);
			continue;
		}
		if (r < 0)
			return r;
		/* The kernel's limit (MAXSYMLINKS). */
		if (++links > 40)
			return -ELOOP;
		if (target[0] == '/')
			done[0] = '\0';
		free(next);
		if (asprintf(&next, "%s/%s", target, p) < 0)
			return -ENOMEM;
		free(todo);
		todo = TAKE_PTR(next);
	}
	if (!done[0]) {
		free(done);
		done = strdup("/");
		if (!done)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(done);
	return 0;
}
