/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who holds a device node: the processes that have it open, found in one pass over /proc
 * (for a group: every /dev/vfio file at once).
 */
#include <fcntl.h>
#include <limits.h>

#include "vfio-users.h"

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

void vfio_openers_free(struct vfio_opener *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(o[i].path);
		free(o[i].who);
	}
	free(o);
}

/* Every process's open files whose path begins with prefix: one pass over /proc. */
static int openers_scan(struct passthru_ctx *ctx, const char *prefix, struct vfio_opener **ret,
			size_t *ret_n)
{
	size_t prefix_len = strlen(prefix);
	_cleanup_closedir_ DIR *proc = NULL;
	struct vfio_opener *list = NULL;
	struct dirent *de;
	size_t n = 0;
	int r;

	r = root_opendir(ctx, "/proc", &proc);
	if (r < 0)
		return r;
	while ((de = readdir(proc))) {
		_cleanup_free_ char *fddir = NULL, *who = NULL;
		_cleanup_closedir_ DIR *fds = NULL;
		struct dirent *fe;

		if (!all_digits(de->d_name))
			continue;
		if (asprintf(&fddir, "/proc/%s/fd", de->d_name) < 0)
			goto oom;
		/* Processes come and go while we look: a vanished one holds nothing. */
		if (root_opendir(ctx, fddir, &fds) < 0)
			continue;
		while ((fe = readdir(fds))) {
			_cleanup_free_ char *target = NULL;
			bool seen = false;

			if (fe->d_name[0] == '.' ||
			    attr_readlink_at(dirfd(fds), fe->d_name, &target) < 0 ||
			    strncmp(target, prefix, prefix_len) != 0)
				continue;
			for (size_t i = 0; i < n && !seen; i++)
				seen = strcmp(list[i].path, target) == 0 && who &&
				       strcmp(list[i].who, who) == 0;
			if (seen)
				continue;
			if (!who) {
				_cleanup_free_ char *commpath = NULL, *comm = NULL, *clean = NULL;

				if (asprintf(&commpath, "/proc/%s/comm", de->d_name) < 0)
					goto oom;
				if (root_read_file(ctx, commpath, &comm, NULL) >= 0) {
					strip_trailing(comm);
					clean = escape_for_message(comm, 64);
				}
				if (asprintf(&who, "pid %s (%s)", de->d_name, clean ?: "?") < 0) {
					who = NULL;
					goto oom;
				}
			}
			if (!ARRAY_GROW(list, n))
				goto oom;
			list[n].path = TAKE_PTR(target);
			list[n].who = strdup(who);
			if (!list[n++].who)
				goto oom;
		}
	}
	*ret = list;
	*ret_n = n;
	return 0;
oom:
	vfio_openers_free(list, n);
	return -ENOMEM;
}

/* Every process's open files under /dev/vfio: one pass over /proc, however many groups. */
int vfio_openers_scan(struct passthru_ctx *ctx, struct vfio_opener **ret, size_t *ret_n)
{
	return openers_scan(ctx, "/dev/vfio/", ret, ret_n);
}

/* Lines "PATH is open by WHO" for the openers of any of paths, in the scan's order. */
static int openers_lines(const struct vfio_opener *o, size_t n, char *const *paths, char ***ret)
{
	_cleanup_strv_free_ char **users = NULL;
	char *p;
	int r;

	for (size_t i = 0; i < n; i++) {
		if (!strv_contains(paths, o[i].path))
			continue;
		if (asprintf(&p, "%s is open by %s", o[i].path, o[i].who) < 0)
			return -ENOMEM;
		r = strv_consume(&users, p);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(users);
	return 0;
}

/*
 * Who holds a device for a VM: /dev/vfio/<group> open, or with iommufd (6.2+) the device's own
 * cdev, listed under its vfio-dev/ directory. Lines "/dev/vfio/5 is open by pid 812 (qemu)".
 */
int vfio_openers_match(struct passthru_ctx *ctx, const struct vfio_opener *o, size_t n, int group,
		       const char *address, char ***ret)
{
	_cleanup_strv_free_ char **paths = NULL;
	char *p;
	int r;

	if (asprintf(&p, "/dev/vfio/%d", group) < 0)
		return -ENOMEM;
	r = strv_consume(&paths, p);
	if (r < 0)
		return r;
	if (address) {
		_cleanup_free_ char *dir = NULL;
		_cleanup_closedir_ DIR *d = NULL;
		struct dirent *de;

		if (asprintf(&dir, "/sys/bus/pci/devices/%s/vfio-dev", address) < 0)
			return -ENOMEM;
		if (root_opendir(ctx, dir, &d) >= 0)
			while ((de = readdir(d))) {
				if (strncmp(de->d_name, "vfio", 4) != 0 ||
				    !all_digits(de->d_name + 4))
					continue;
				if (asprintf(&p, "/dev/vfio/devices/%s", de->d_name) < 0)
					return -ENOMEM;
				r = strv_consume(&paths, p);
				if (r < 0)
					return r;
			}
	}
	return openers_lines(o, n, paths, ret);
}

int vfio_group_users(struct passthru_ctx *ctx, int group, const char *address, char ***ret)
{
	struct vfio_opener *o = NULL;
	size_t n = 0;
	int r;

	r = vfio_openers_scan(ctx, &o, &n);
	if (r < 0)
		return r;
	r = vfio_openers_match(ctx, o, n, group, address, ret);
	vfio_openers_free(o, n);
	return r;
}

/* The public face of vfio_group_users(), for passthrud's release and adoption. */
_public_ int passthru_vfio_group_get_users(struct passthru_ctx *ctx, int group, const char *address,
					   char ***ret)
{
	char **users = NULL;
	int r;

	if (!ctx || group < 0 || !ret)
		return -EINVAL;
	if (address) {
		char canonical[PASSTHRU_PCI_ADDRESS_LEN + 1];

		r = passthru_pci_address_parse(address, canonical);
		if (r < 0)
			return r;
		r = vfio_group_users(ctx, group, canonical, &users);
	} else
		r = vfio_group_users(ctx, group, NULL, &users);
	if (r >= 0)
		r = strv_ensure(&users);
	if (r < 0)
		return r;
	*ret = users;
	return 0;
}

/* "/dev/" and then components, none empty, "." or "..": a node's path as /proc shows it. */
static bool device_node_path_is_valid(const char *path)
{
	const char *c;

	if (strncmp(path, "/dev/", 5) != 0 || strlen(path) >= PATH_MAX)
		return false;
	for (c = path + 5;;) {
		size_t len = strcspn(c, "/");

		if (len == 0 || (len == 1 && c[0] == '.') ||
		    (len == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
				return false;
		if (!c[len])
			return true;
		c += len + 1;
	}
}

int device_node_users(struct passthru_ctx *ctx, const char *path, char ***ret)
{
	struct vfio_opener *o = NULL;
	char *paths[] = {(char *)path, NULL};
	size_t n = 0;
	int r;

	r = openers_scan(ctx, path, &o, &n);
	if (r < 0)
		return r;
	r = openers_lines(o, n, paths, ret);
	vfio_openers_free(o, n);
	return r;
}

_public_ int passthru_device_node_get_users(struct passthru_ctx *ctx, const char *path, char ***ret)
{
	char **users = NULL;
	int r;

	if (!ctx || !path || !ret || !device_node_path_is_valid(path))
		return -EINVAL;
	r = device_node_users(ctx, path, &users);
	if (r >= 0)
		r = strv_ensure(&users);
	if (r < 0)
		return r;
	*ret = users;
	return 0;
}

_public_ char **passthru_strv_free(char **strv)
{
	strv_free(strv);
	return NULL;
}
