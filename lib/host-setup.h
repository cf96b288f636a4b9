/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: the host setup object shared by its files: host-setup.c (the object, its
 * plan and getters) and host-setup-apply.c (applying the plan: backups, atomic replacement of
 * the files, the commands).
 */
#pragma once

#include <sys/types.h>

#include "internal.h"

struct change {
	char *path;
	char *old; /* NULL for a new file */
	char *new;
	char *diff;
	char *backup;
	mode_t mode;	/* of a new file */
	bool generated; /* passthru's whole file: no backup */
	bool remove;	/* the file goes */
};

struct command {
	char **argv;
	char *output;
	int status;
	bool ran;
};

struct passthru_setup {
	unsigned refcount;
	struct passthru_ctx *ctx;

	char *hp_size;
	unsigned long hp_count;
	char **blacklist;
	bool force;

	bool planned;
	struct change *changes;
	size_t n_changes;
	struct command *commands;
	size_t n_commands;
	char **reboot_reasons;
	char **notes;
	char *error;
};

/* Reads a host file; -ENOENT leaves *ret NULL and returns 0. */
int setup_read_optional(struct passthru_ctx *ctx, const char *path, char **ret, size_t *ret_len);
