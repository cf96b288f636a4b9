/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The library context: the host root, logging and lazily built per-context state. */
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "context.h"

static void log_stderr(void *userdata _unused_, int priority _unused_, const char *file _unused_,
		       int line _unused_, const char *fn _unused_, const char *format, va_list args)
{
	fputs("libpassthru: ", stderr);
	vfprintf(stderr, format, args);
	fputc('\n', stderr);
}

void ctx_log(struct passthru_ctx *ctx, int priority, const char *file, int line, const char *fn,
	     const char *format, ...)
{
	va_list args;

	if (!ctx->log_fn)
		return;
	va_start(args, format);
	ctx->log_fn(ctx->log_userdata, priority, file, line, fn, format, args);
	va_end(args);
}

_public_ int passthru_ctx_new(const char *sysroot, struct passthru_ctx **ret)
{
	_cleanup_free_ char *root = NULL;
	struct passthru_ctx *ctx;
	struct stat st;
	int fd;

	if (!ret)
		return -EINVAL;
	if (!sysroot || !*sysroot)
		sysroot = getenv("PASSTHRU_SYSROOT");
	if (!sysroot || !*sysroot)
		sysroot = "/";

	root = realpath(sysroot, NULL);
	if (!root)
		return -errno;
	fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		close(fd);
		return -ENOTDIR;
	}

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		close(fd);
		return -ENOMEM;
	}
	ctx->refcount = 1;
	ctx->root_fd = fd;
	ctx->root_is_slash = strcmp(root, "/") == 0;
	ctx->sysroot = TAKE_PTR(root);
	ctx->log_fn = log_stderr;
	ctx->log_priority = LOG_ERR;
	*ret = ctx;
	return 0;
}

static void ctx_free(struct passthru_ctx *ctx)
{
	/* Destroy in reverse order of the slots: later slots may use earlier ones. */
	for (int i = _CTX_SLOT_MAX - 1; i >= 0; i--)
		if (ctx->slots[i].destroy)
			ctx->slots[i].destroy(ctx->slots[i].data);
	free(ctx->kernel_release);
	free(ctx->sysroot);
	close(ctx->root_fd);
	free(ctx);
}

DEFINE_REF_UNREF_FUNC(_public_, struct passthru_ctx, passthru_ctx, ctx_free);

_public_ const char *passthru_ctx_get_sysroot(const struct passthru_ctx *ctx)
{
	return ctx->sysroot;
}

_public_ const char *passthru_ctx_get_kernel_release(struct passthru_ctx *ctx)
{
	_cleanup_free_ char *release = NULL;
	int r;

	if (ctx->kernel_release || ctx->kernel_release_failed)
		return ctx->kernel_release;

	r = root_read_file(ctx, "/proc/sys/kernel/osrelease", &release, NULL);
	if (r < 0) {
		log_debug(ctx, "cannot read /proc/sys/kernel/osrelease: %s", strerror(-r));
		ctx->kernel_release_failed = true;
		return NULL;
	}
	strip_trailing(release);
	/* A release is one path component: it becomes part of /lib/modules/<release>. */
	if (!*release || strchr(release, '/') || strcmp(release, "..") == 0 ||
	    strcmp(release, ".") == 0) {
		log_debug(ctx, "ignoring malformed kernel release");
		ctx->kernel_release_failed = true;
		return NULL;
	}
	ctx->kernel_release = TAKE_PTR(release);
	return ctx->kernel_release;
}

_public_ void passthru_ctx_set_log_fn(struct passthru_ctx *ctx, passthru_log_fn fn, void *userdata)
{
	ctx->log_fn = fn;
	ctx->log_userdata = userdata;
}

_public_ void passthru_ctx_set_log_priority(struct passthru_ctx *ctx, int priority)
{
	ctx->log_priority = priority;
}

_public_ int passthru_ctx_get_log_priority(const struct passthru_ctx *ctx)
{
	return ctx->log_priority;
}

void *ctx_slot_get(struct passthru_ctx *ctx, enum ctx_slot slot)
{
	return ctx->slots[slot].data;
}

void ctx_slot_set(struct passthru_ctx *ctx, enum ctx_slot slot, void *data, void (*destroy)(void *))
{
	if (ctx->slots[slot].destroy)
		ctx->slots[slot].destroy(ctx->slots[slot].data);
	ctx->slots[slot].data = data;
	ctx->slots[slot].destroy = destroy;
}
