/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Library-private declarations shared by the files of lib/. */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/types.h>
#include <unistd.h>

#include "passthru.h"

#include "array.h"
#include "macro.h"
#include "parse.h"
#include "path.h"
#include "refcount.h"
#include "strv.h"
#include "text.h"

#define _public_ __attribute__((visibility("default")))
/* Another name of the function name, defined in the same file: an old public name kept. */
#define _alias_(name) __attribute__((alias(#name)))

/* ------------------------------------------------------------------------------------------ */
/* Context                                                                                    */

/*
 * Lazily created per-context state of the other parts of the library (names database,
 * module index, custom types). Each slot has its owner's destructor.
 */
enum ctx_slot {
	CTX_SLOT_PCI_NAMES,
	CTX_SLOT_USB_NAMES,
	CTX_SLOT_KMOD,
	CTX_SLOT_TYPES,
	CTX_SLOT_CONSOLES,
	CTX_SLOT_VF_LINK,
	_CTX_SLOT_MAX,
};

void *ctx_slot_get(struct passthru_ctx *ctx, enum ctx_slot slot);
void ctx_slot_set(struct passthru_ctx *ctx, enum ctx_slot slot, void *data, void (*destroy)(void *));

void ctx_log(struct passthru_ctx *ctx, int priority, const char *file, int line, const char *fn,
	     const char *format, ...) _printf_(6, 7);

#define ctx_log_cond(ctx, prio, ...)                                                               \
	do {                                                                                       \
		if (passthru_ctx_get_log_priority(ctx) >= (prio))                                  \
			ctx_log(ctx, prio, __FILE__, __LINE__, __func__, __VA_ARGS__);             \
	} while (0)
#define log_debug(ctx, ...) ctx_log_cond(ctx, LOG_DEBUG, __VA_ARGS__)
#define log_info(ctx, ...) ctx_log_cond(ctx, LOG_INFO, __VA_ARGS__)
#define log_err(ctx, ...) ctx_log_cond(ctx, LOG_ERR, __VA_ARGS__)

/* ------------------------------------------------------------------------------------------ */
/* Rooted host access (sysroot.c): the only code that turns a host path into a real one.      */
/* Every `path` below is an absolute host path ("/sys/bus/pci/devices"); it is resolved      */
/* below the context's root. Every fd is O_CLOEXEC.                                           */

/* The real path of a host path, for libraries that want a path string. */
int root_path(struct passthru_ctx *ctx, const char *path, char **ret);
int root_open(struct passthru_ctx *ctx, const char *path, int flags, mode_t mode);
/* Opens a directory (following symlinks) as an O_DIRECTORY fd. */
int root_open_dir(struct passthru_ctx *ctx, const char *path);
int root_opendir(struct passthru_ctx *ctx, const char *path, DIR **ret);
int root_read_file(struct passthru_ctx *ctx, const char *path, char **ret, size_t *ret_len);
int root_readlink(struct passthru_ctx *ctx, const char *path, char **ret);
bool root_exists(struct passthru_ctx *ctx, const char *path);

/*
 * Replaces a host file atomically: writes a temporary file beside it, fsyncs, renames over
 * the original and fsyncs the directory. Creates missing parent directories (0755).
 */
int root_write_file_atomic(struct passthru_ctx *ctx, const char *path, const void *data,
			   size_t len, mode_t mode);
int root_unlink(struct passthru_ctx *ctx, const char *path);

/*
 * Joins a symlink's target to the directory holding the link and folds "." and ".."
 * lexically, as the kernel would resolve them: sysfs paths below /sys/devices contain no
 * symlinked directories, so ".." is the parent. ("/sys/class/tty", "../../devices/x") ->
 * "/sys/devices/x".
 */
int path_join_lexical(const char *dir, const char *target, char **ret);
/* The host path a symlink at path points to, resolved lexically; path itself when it is no
 * link. */
int root_resolve_link(struct passthru_ctx *ctx, const char *path, char **ret);
/*
 * The host path that path names once every symlink in it is followed, inside the root as
 * openat2(RESOLVE_IN_ROOT) does: an absolute target starts again at the root, ".." stops there.
 * Components that do not exist are kept as written. -ELOOP after 40 links.
 */
int root_resolve_path(struct passthru_ctx *ctx, const char *path, char **ret);

/* ------------------------------------------------------------------------------------------ */
/* Attribute access relative to an open directory (sysfs device dirs).                        */

/* Largest attribute we accept; sysfs attributes are at most a page, config space 4096. */
#define ATTR_MAX_SIZE 65536

/*
 * Opens an attribute for reading, the way every attribute read does: below dirfd only (a
 * symlink that leaves dirfd is refused with -EXDEV), without waiting (O_NONBLOCK), and regular
 * files only (-EBADFD for a FIFO or device in an attribute's place, -EISDIR for a directory).
 * Returns the fd.
 */
int attr_open_at(int dirfd, const char *name);
/*
 * Reads a whole attribute as a NUL-terminated string with trailing newlines removed.
 * -EFBIG when larger than ATTR_MAX_SIZE, -EBADMSG when it holds a NUL byte.
 */
int attr_read_at(int dirfd, const char *name, char **ret);
/* Reads at most size bytes; returns the count read. */
ssize_t attr_read_raw_at(int dirfd, const char *name, void *buf, size_t size);
/* Reads a symlink. */
int attr_readlink_at(int dirfd, const char *name, char **ret);
/* The last component of a symlink's target ("../../bus/pci/drivers/e1000e" -> "e1000e"). */
int attr_link_basename_at(int dirfd, const char *name, char **ret);
/* Strict numbers: the whole attribute must parse ("0x8086", "-1", "16"). -EBADMSG if not. */
int attr_read_hex_at(int dirfd, const char *name, uint64_t max, uint64_t *ret);
int attr_read_long_at(int dirfd, const char *name, long min, long max, long *ret);
