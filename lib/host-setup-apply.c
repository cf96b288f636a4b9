/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Applying a host setup's plan (host-setup.c makes it): every file backed up beside itself,
 * replaced atomically and read back, then the plan's commands run in the root.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "fd.h"
#include "host.h"
#include "host-setup.h"

/* Opens the directory of a host path and gives its last component. */
static int open_dir_of(struct passthru_ctx *ctx, const char *path, const char **ret_base)
{
	_cleanup_free_ char *dir = NULL;
	const char *slash = strrchr(path, '/');

	if (!slash || !slash[1])
		return -EINVAL;
	dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
	if (!dir)
		return -ENOMEM;
	*ret_base = slash + 1;
	return root_open_dir(ctx, dir);
}

/*
 * Copies content to "<path>.passthru-YYYYmmdd-HHMMSS" beside the file (with "-N" appended when
 * that name is taken), with the original's mode, and syncs it before anything else happens.
 */
static int backup(struct passthru_ctx *ctx, const char *path, const char *content, char **ret)
{
	_cleanup_close_ int dirfd = -1;
	const char *base;
	struct stat st;
	struct tm tm;
	time_t now = time(NULL);
	char stamp[32];

	dirfd = open_dir_of(ctx, path, &base);
	if (dirfd < 0)
		return dirfd;
	if (fstatat(dirfd, base, &st, 0) < 0)
		return -errno;
	if (!localtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm) == 0)
		return -EINVAL;
	for (unsigned k = 0; k < 100; k++) {
		_cleanup_free_ char *name = NULL;
		_cleanup_close_ int fd = -1;
		int r;

		if ((k == 0 ? asprintf(&name, "%s.passthru-%s", base, stamp)
			    : asprintf(&name, "%s.passthru-%s-%u", base, stamp, k)) < 0)
			return -ENOMEM;
		fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
			    st.st_mode & 07777);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0)
			return -errno;
		r = fd_write_all(fd, content, strlen(content));
		if (r >= 0 && fsync(fd) < 0)
			r = -errno;
		if (r < 0) {
			unlinkat(dirfd, name, 0);
			return r;
		}
		(void)fsync(dirfd);
		if (asprintf(ret, "%.*s%s", (int)(base - path), path, name) < 0)
			return -ENOMEM;
		return 0;
	}
	return -EEXIST;
}

/* The program's path inside the root, from the usual system directories. */
static int find_program(struct passthru_ctx *ctx, const char *name, char **ret)
{
	static const char *const dirs[] = {"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"};

	if (strchr(name, '/'))
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		char *p;

		if (asprintf(&p, "%s%s", dirs[i], name) < 0)
			return -ENOMEM;
		if (root_exists(ctx, p)) {
			*ret = p;
			return 0;
		}
		free(p);
	}
	return -ENOENT;
}

/*
 * Runs a command of the plan with its output captured. Below a sysroot other than "/" it runs
 * chrooted there: the distribution's own tool, seeing the files just written. The environment
 * is a fixed, minimal one.
 */
static int run_command(struct passthru_ctx *ctx, struct command *c, char **ret_error)
{
	static char *const env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL};
	const char *root = passthru_ctx_get_sysroot(ctx);
	_cleanup_free_ char *prog = NULL, *out = NULL;
	_cleanup_close_ int devnull = -1;
	size_t len = 0, cap = 0;
	int pipefd[2], status, r;
	pid_t pid;

	r = find_program(ctx, c->argv[0], &prog);
	if (r < 0) {
		if (asprintf(ret_error, "%s: not installed%s%s", c->argv[0],
			     strcmp(root, "/") ? " below " : "", strcmp(root, "/") ? root : "") < 0)
			*ret_error = NULL;
		return r;
	}
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0)
		return -errno;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return r;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls from here on. */
		if (dup2(devnull, 0) < 0 || dup2(pipefd[1], 1) < 0 || dup2(pipefd[1], 2) < 0)
			_exit(126);
		if (strcmp(root, "/") != 0 && (chroot(root) < 0 || chdir("/") < 0)) {
			static const char msg[] = "passthru: cannot chroot into the sysroot\n";

			(void)!write(2, msg, sizeof(msg) - 1);
			_exit(126);
		}
		execve(prog, c->argv, env);
		_exit(127);
	}
	close(pipefd[1]);
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *grown;

			if (cap >= 4 * 1024 * 1024) {
				/* Enough: keep draining so that the child does not block. */
				char sink[4096];

				n = read(pipefd[0], sink, sizeof(sink));
				if (n > 0 || (n < 0 && errno == EINTR))
					continue;
				break;
			}
			grown = realloc(out, cap + 65536);
			if (!grown) {
				close(pipefd[0]);
				(void)waitpid(pid, NULL, 0);
				return -ENOMEM;
			}
			out = grown;
			cap += 65536;
		}
		n = read(pipefd[0], out + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!out) {
		out = strdup("");
		if (!out)
			return -ENOMEM;
	}
	out[len] = '\0';
	c->output = TAKE_PTR(out);
	c->ran = true;
	c->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (c->status != 0) {
		_cleanup_free_ char *line = argv_join(c->argv);
		const char *last = c->output;
		size_t n = strlen(c->output);

		/* The last line of its output says the most. */
		while (n > 0 && c->output[n - 1] == '\n')
			n--;
		for (size_t i = 0; i < n; i++)
			if (c->output[i] == '\n')
				last = c->output + i + 1;
		if (asprintf(ret_error, "%s failed with status %d%s%.*s", line ? line : c->argv[0],
			     c->status, n ? ": " : "", (int)(c->output + n - last), last) < 0)
			*ret_error = NULL;
		return -EIO;
	}
	return 0;
}

int host_run_command(struct passthru_ctx *ctx, char *const *argv, char **ret_output,
		     char **ret_error)
{
	struct command c = {.argv = (char **)argv, .status = -1};
	int r;

	*ret_error = NULL;
	r = run_command(ctx, &c, ret_error);
	*ret_output = c.output;
	return r;
}

_public_ int passthru_setup_apply(struct passthru_setup *s)
{
	int r;

	if (!s)
		return -EINVAL;
	if (!s->planned)
		return error_setf(&s->error, -EINVAL, "no plan: call passthru_setup_plan() first");
	free(s->error);
	s->error = NULL;

	for (size_t i = 0; i < s->n_changes; i++) {
		struct change *c = &s->changes[i];
		_cleanup_free_ char *now = NULL, *real = NULL;

		/* The file must still be what the plan was made from. */
		r = setup_read_optional(s->ctx, c->path, &now, NULL);
		if (r < 0)
			return error_setf(&s->error, r, "%s: %s", c->path, strerror(-r));
		if ((now == NULL) != (c->old == NULL) || (now && strcmp(now, c->old) != 0))
			return error_setf(&s->error, -ESTALE,
					  "%s: changed since the plan was made; run again",
					  c->path);
		/* A symlinked file (/etc/default/grub -> grub.local) is edited where it lives and
		 * the link stays: the rename would replace the link itself. */
		r = root_resolve_path(s->ctx, c->path, &real);
		if (r < 0)
			return error_setf(&s->error, r, "%s: %s", c->path, strerror(-r));
		if (c->remove) {
			r = root_unlink(s->ctx, real);
			if (r < 0 && r != -ENOENT)
				return error_setf(&s->error, r, "%s: %s", real, strerror(-r));
			continue;
		}
		if (c->old && !c->generated) {
			r = backup(s->ctx, real, c->old, &c->backup);
			if (r < 0)
				return error_setf(&s->error, r, "%s: cannot make a backup: %s",
						  real, strerror(-r));
		}
		r = root_write_file_atomic(s->ctx, real, c->new, strlen(c->new),
					   c->mode ? c->mode : 0644);
		if (r < 0)
			return error_setf(&s->error, r, "%s: %s", real, strerror(-r));
		/* Read back: what boots next is what is on the disk. */
		free(now);
		now = NULL;
		r = root_read_file(s->ctx, real, &now, NULL);
		if (r >= 0 && strcmp(now, c->new) != 0)
			r = -EIO;
		if (r < 0)
			return error_setf(&s->error, r, "%s: reading it back: %s", real,
					  strerror(-r));
	}
	for (size_t i = 0; i < s->n_commands; i++) {
		_cleanup_free_ char *error = NULL;

		r = run_command(s->ctx, &s->commands[i], &error);
		if (r < 0) {
			if (error)
				return error_setf(&s->error, r, "%s", error);
			return error_setf(&s->error, r, "%s: %s", s->commands[i].argv[0],
					  strerror(-r));
		}
	}
	return 0;
}
