/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Listings of sysfs directories; links resolve with path_join_lexical/root_resolve_link. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "internal.h"

/* One entry of a class directory (/sys/block, /sys/class/net): its name and real path. */
struct sysfs_entry {
	char *name;
	char *path;
};

struct sysfs_list {
	struct sysfs_entry *v;
	size_t n;
};

void sysfs_list_done(struct sysfs_list *l);

/*
 * Lists a class directory: every entry with its real path, sorted by name. An entry that
 * vanishes while we look is left out, and so is one that skip (when not NULL) names: reading
 * a link costs more than anything else here. A missing directory is an empty list.
 */
int sysfs_class_list(struct passthru_ctx *ctx, const char *dir, bool (*skip)(const char *name),
		     struct sysfs_list *ret);

/* The entries of a directory whose names are prefix and a number, sorted by the number. */
int dir_numbered_entries(int dirfd, const char *prefix, char ***ret);

/* True when name is prefix and digits only ("virtfn12" for "virtfn", not "virtfn" or "virtfnx"). */
bool name_is_numbered(const char *name, const char *prefix);
