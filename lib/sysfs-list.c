/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Listings of sysfs directories: class directories and numbered entries (virtfn0, nvme1). */
#include <fcntl.h>

#include "sysfs-list.h"

void sysfs_list_done(struct sysfs_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].path);
	}
	free(l->v);
	*l = (struct sysfs_list){0};
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct sysfs_entry *)a)->name, ((const struct sysfs_entry *)b)->name);
}

int sysfs_class_list(struct passthru_ctx *ctx, const char *dir, bool (*skip)(const char *name),
		     struct sysfs_list *ret)
{
	_cleanup_(sysfs_list_done) struct sysfs_list l = {0};
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int r;

	r = root_opendir(ctx, dir, &d);
	if (r == -ENOENT) {
		*ret = (struct sysfs_list){0};
		return 0;
	}
	if (r < 0)
		return r;

	while ((errno = 0, de = readdir(d))) {
		_cleanup_free_ char *target = NULL, *path = NULL, *name = NULL;
		struct sysfs_entry *nv;

		if (de->d_name[0] == '.' || (skip && skip(de->d_name)))
			continue;
		r = attr_readlink_at(dirfd(d), de->d_name, &target);
		if (r == -EINVAL) {
			/* A real directory: kernels built with CONFIG_SYSFS_DEPRECATED. */
			path = strf("%s/%s", dir, de->d_name);
		} else if (errno_is_vanished(r)) {
			continue; /* removed while we list: the race is inherent */
		} else if (r < 0) {
			return r;
		} else if (path_join_lexical(dir, target, &path) < 0) {
			path = NULL;
		}
		name = strdup(de->d_name);
		nv = path && name ? ARRAY_GROW(l.v, l.n) : NULL;
		if (!nv)
			return -ENOMEM;
		*nv = (struct sysfs_entry){.name = TAKE_PTR(name), .path = TAKE_PTR(path)};
		l.n++;
	}
	if (errno != 0)
		return -errno;
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), cmp_entry);
	*ret = l;
	l = (struct sysfs_list){0};
	return 0;
}

bool name_is_numbered(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(name, prefix, n) == 0 && name[n] &&
	       strspn(name + n, "0123456789") == strlen(name + n);
}

/* Same prefix, digits only, no leading zeros in kernel names: shorter is smaller. */
static int cmp_number_suffix(const char *x, const char *y)
{
	size_t a = strlen(x), b = strlen(y);

	if (a != b)
		return a < b ? -1 : 1;
	return strcmp(x, y);
}

int dir_numbered_entries(int dirfd, const char *prefix, char ***ret)
{
	_cleanup_strv_free_ char **v = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	size_t plen = strlen(prefix);
	struct dirent *de;
	int fd, r;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	while ((errno = 0, de = readdir(d)))
		if (name_is_numbered(de->d_name, prefix) && strv_push(&v, de->d_name) < 0)
			return -ENOMEM;
	if (errno != 0)
		return -errno;
	/* Insertion sort: a handful of entries, at most a few hundred VFs. */
	for (size_t i = 1; v && v[i]; i++)
		for (size_t j = i; j > 0 && cmp_number_suffix(v[j - 1] + plen, v[j] + plen) > 0;
		     j--) {
			char *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	*ret = TAKE_PTR(v);
	return 0;
}
