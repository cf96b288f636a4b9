/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Storage guards: the disks below a PCI function, their partitions and what is stacked on
 * them, checked against the mount table and the active swap areas.
 *
 * Which disks are the function's: those whose sysfs directory lies below the function's
 * (NVMe namespaces below .../nvme/nvmeN, SCSI/ATA disks below .../ataN/hostN/...). With NVMe
 * multipath (Debian's default, nvme_core.multipath=Y) a namespace's disk sits below
 * /sys/devices/virtual/nvme-subsystem/nvme-subsysN instead, and the subsystem's directory
 * links to its controllers: a disk there is the function's when one of them is.
 *
 * Devices are matched by number ("259:1", the dev attribute against mountinfo's third field),
 * and by name where the kernel has no number to give: btrfs mounts show an anonymous 0:N, and
 * /proc/swaps names a device by path. Names go through sysfs (/dev/nvme0n1p3 is the block
 * device nvme0n1p3, /dev/mapper/vg0-swap the dm device named vg0-swap), never through the
 * host's /dev.
 */
#include <fcntl.h>
#include <unistd.h>

#include "guard.h"
#include "sysfs-list.h"

/* Holders stack a few levels deep (partition, PV, LV, crypt); a loop would be a kernel bug. */
#define HOLDER_DEPTH_MAX 8

/* ------------------------------------------------------------------------------------------ */
/* Parsers                                                                                    */

int unescape_octal(const char *s, size_t len, char **ret)
{
	char *out = malloc(len + 1), *p = out;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		unsigned v = 0;

		if (s[i] != '\\') {
			*p++ = s[i];
			continue;
		}
		if (len - i < 4) {
			free(out);
			return -EBADMSG;
		}
		for (size_t k = 1; k <= 3; k++) {
			if (s[i + k] < '0' || s[i + k] > '7') {
				free(out);
				return -EBADMSG;
			}
			v = v * 8 + (unsigned)(s[i + k] - '0');
		}
		if (v == 0 || v > 255) {
			free(out);
			return -EBADMSG;
		}
		*p++ = (char)v;
		i += 3;
	}
	*p = '\0';
	*ret = out;
	return 0;
}

/* "259:1", as the dev attribute and mountinfo write a device number. */
static int parse_devnum(const char *s, unsigned *ret_major, unsigned *ret_minor)
{
	_cleanup_free_ char *copy = strdup(s);
	char *colon;
	unsigned major, minor;

	if (!copy)
		return -ENOMEM;
	colon = strchr(copy, ':');
	if (!colon)
		return -EBADMSG;
	*colon = '\0';
	/* MAJOR is 12 bits, MINOR 20 in the kernel's dev_t. */
	if (parse_uint(copy, 0xfff, &major) < 0 || parse_uint(colon + 1, 0xfffff, &minor) < 0)
		return -EBADMSG;
	*ret_major = major;
	*ret_minor = minor;
	return 0;
}

void mount_table_done(struct mount_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].mount_point);
		free(t->v[i].fstype);
		free(t->v[i].source);
	}
	free(t->v);
	*t = (struct mount_table){0};
}

/* Appends a mount whose fields are still escaped; frees nothing of the caller's. */
static int mount_table_add(struct mount_table *t, unsigned major, unsigned minor,
			   const char *mount_point, const char *fstype, const char *source)
{
	struct mount_entry m = {.major = major, .minor = minor};
	struct mount_entry *v;
	int r;

	r = unescape_octal(mount_point, strlen(mount_point), &m.mount_point);
	if (r >= 0)
		r = unescape_octal(source, strlen(source), &m.source);
	if (r >= 0 && !(m.fstype = strdup(fstype)))
		r = -ENOMEM;
	if (r >= 0 && !(v = ARRAY_GROW(t->v, t->n)))
		r = -ENOMEM;
	if (r < 0) {
		free(m.mount_point);
		free(m.source);
		free(m.fstype);
		return r;
	}
	*v = m;
	t->n++;
	return 0;
}

/*
 * "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue":
 * mount id, parent id, device, root, mount point, options, optional fields up to "-",
 * filesystem type, source, super options (proc(5)).
 */
static int mountinfo_line(char *line, size_t lineno, void *data)
{
	struct mount_table *t = data;
	char *f[32];
	int n, sep = -1, r;
	unsigned id, major, minor;

	n = split_fields_exact(line, ' ', f, ELEMENTSOF(f));
	if (n < 0)
		return n;
	for (int i = 6; i < n; i++)
		if (strcmp(f[i], "-") == 0) {
			sep = i;
			break;
		}
	if (sep < 0 || n - sep - 1 < 2 || n - sep - 1 > 3)
		return -EBADMSG;
	if (parse_uint(f[0], UINT32_MAX, &id) < 0 || parse_uint(f[1], UINT32_MAX, &id) < 0)
		return -EBADMSG;
	r = parse_devnum(f[2], &major, &minor);
	if (r < 0)
		return r;
	if (f[4][0] != '/')
		return -EBADMSG;
	return mount_table_add(t, major, minor, f[4], f[sep + 1], f[sep + 2]);
}

/* "/dev/nvme0n1p2 / ext4 rw,relatime 0 0": source, mount point, type, options, 0, 0 (fstab(5)). */
static int proc_mounts_line(char *line, size_t lineno, void *data)
{
	char *f[6];
	int n;

	n = split_fields_exact(line, ' ', f, ELEMENTSOF(f));
	if (n < 0)
		return n;
	if (n != 6 || f[1][0] != '/')
		return -EBADMSG;
	return mount_table_add(data, 0, 0, f[1], f[2], f[0]);
}

int proc_mounts_parse(const char *text, struct mount_table *ret, size_t *ret_bad_line)
{
	_cleanup_(mount_table_done) struct mount_table t = {0};
	int r;

	r = text_for_each_line(text, proc_mounts_line, &t, ret_bad_line);
	if (r < 0)
		return r;
	*ret = t;
	t = (struct mount_table){0};
	return 0;
}

int mountinfo_parse(const char *text, struct mount_table *ret, size_t *ret_bad_line)
{
	_cleanup_(mount_table_done) struct mount_table t = {0};
	int r;

	r = text_for_each_line(text, mountinfo_line, &t, ret_bad_line);
	if (r < 0)
		return r;
	*ret = t;
	t = (struct mount_table){0};
	return 0;
}

void swap_table_done(struct swap_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].path);
	free(t->v);
	*t = (struct swap_table){0};
}

/*
 * "Filename  Type  Size  Used  Priority" then, per area, "/dev/nvme0n1p3  partition  8388604
 * 0  -2": the path is escaped like mountinfo's, so it has no blanks of its own.
 */
static int swaps_line(char *line, size_t lineno, void *data)
{
	struct swap_table *t = data;
	struct swap_entry *v;
	char *f[8];
	unsigned size;
	long prio;
	int n, r;
	char *path;

	if (lineno == 1 && strncmp(line, "Filename", 8) == 0)
		return 0;
	n = split_fields(line, f, ELEMENTSOF(f));
	if (n < 0)
		return n;
	if (n != 5)
		return -EBADMSG;
	if (f[0][0] != '/' || (strcmp(f[1], "partition") != 0 && strcmp(f[1], "file") != 0))
		return -EBADMSG;
	if (parse_uint(f[2], UINT32_MAX, &size) < 0 || parse_uint(f[3], UINT32_MAX, &size) < 0 ||
	    parse_long(f[4], INT32_MIN, INT32_MAX, &prio) < 0)
		return -EBADMSG;
	r = unescape_octal(f[0], strlen(f[0]), &path);
	if (r < 0)
		return r;
	v = ARRAY_GROW(t->v, t->n);
	if (!v) {
		free(path);
		return -ENOMEM;
	}
	*v = (struct swap_entry){.path = path, .is_file = strcmp(f[1], "file") == 0};
	t->n++;
	return 0;
}

int swaps_parse(const char *text, struct swap_table *ret, size_t *ret_bad_line)
{
	_cleanup_(swap_table_done) struct swap_table t = {0};
	int r;

	r = text_for_each_line(text, swaps_line, &t, ret_bad_line);
	if (r < 0)
		return r;
	*ret = t;
	t = (struct swap_table){0};
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Block devices                                                                              */

struct blockdev {
	char *name; /* sysfs name: "nvme0n1p2", "dm-0", "cciss!c0d0" */
	char *path; /* real sysfs path */
	bool has_dev;
	unsigned major, minor;
	char *dm_name, *dm_uuid; /* device-mapper: "vg0-root", "LVM-..." */
	bool is_md;
};

static void blockdev_done(struct blockdev *b)
{
	free(b->name);
	free(b->path);
	free(b->dm_name);
	free(b->dm_uuid);
	*b = (struct blockdev){0};
}

/* Reads a block device's directory. A garbage dev number is logged and left out. */
static int blockdev_read(struct passthru_ctx *ctx, const char *name, const char *path,
			 struct blockdev *ret)
{
	_cleanup_(blockdev_done) struct blockdev b = {0};
	_cleanup_free_ char *dev = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	fd = root_open_dir(ctx, path);
	if (fd < 0)
		return fd;
	b.name = strdup(name);
	b.path = strdup(path);
	if (!b.name || !b.path)
		return -ENOMEM;

	r = attr_read_at(fd, "dev", &dev);
	if (r == -ENOMEM)
		return r;
	if (r >= 0) {
		r = parse_devnum(dev, &b.major, &b.minor);
		if (r == -ENOMEM)
			return r;
		b.has_dev = r >= 0;
		if (r < 0)
			log_debug(ctx, "%s/dev: not a device number", path);
	}
	/* Hidden disks (an NVMe multipath controller's path, nvme0c0n1) have no number. */

	if (attr_read_at(fd, "dm/name", &b.dm_name) == -ENOMEM ||
	    attr_read_at(fd, "dm/uuid", &b.dm_uuid) == -ENOMEM)
		return -ENOMEM;
	b.is_md = faccessat(fd, "md", F_OK, 0) == 0;

	*ret = b;
	b = (struct blockdev){0};
	return 0;
}

/* "dm-0 (vg0-root)", "md0 (MD RAID)", "bcache0". */
static char *blockdev_label(const struct blockdev *b)
{
	if (b->dm_name)
		return strf("%s (%s)", b->name, b->dm_name);
	if (b->is_md)
		return strf("%s (MD RAID)", b->name);
	return strdup(b->name);
}

/* The volume group of an LVM volume's dm name: "vg--data-root" -> "vg-data" ("-" doubled). */
static char *lvm_vg_name(const char *dm_name)
{
	char *vg = malloc(strlen(dm_name) + 1), *p = vg;

	if (!vg)
		return NULL;
	for (const char *c = dm_name; *c; c++) {
		if (*c == '-' && c[1] == '-') {
			*p++ = '-';
			c++;
		} else if (*c == '-') {
			break;
		} else {
			*p++ = *c;
		}
	}
	*p = '\0';
	return vg;
}

/* What releases a holder, as far as its kind tells. */
static char *holder_hint(const struct blockdev *b)
{
	_cleanup_free_ char *quoted = NULL;

	if (b->dm_name) {
		if (b->dm_uuid && strncmp(b->dm_uuid, "LVM-", 4) == 0) {
			_cleanup_free_ char *vg = lvm_vg_name(b->dm_name);

			quoted = vg ? shell_quote(vg) : NULL;
			if (!quoted)
				return NULL;
			return strf("vgchange -an %s", quoted);
		}
		quoted = shell_quote(b->dm_name);
		if (!quoted)
			return NULL;
		if (b->dm_uuid && strncmp(b->dm_uuid, "CRYPT-", 6) == 0)
			return strf("cryptsetup close %s", quoted);
		return strf("dmsetup remove %s", quoted);
	}
	if (b->is_md)
		return strf("mdadm --stop /dev/%s", b->name);
	return NULL;
}

/* "vg0" and "root" -> "vg0-root": LVM doubles the dashes of each name. */
static bool lvm_path_names(const char *rel, const char *dm_name)
{
	const char *slash = strchr(rel, '/');
	const char *d = dm_name;

	if (!slash || strchr(slash + 1, '/'))
		return false;
	for (const char *c = rel; *c; c++) {
		if (c == slash) {
			if (*d++ != '-')
				return false;
			continue;
		}
		if (*c == '-' && *d++ != '-')
			return false;
		if (*d++ != *c)
			return false;
	}
	return *d == '\0';
}

/*
 * True when a /dev path names the block device: "/dev/nvme0n1p2", "/dev/dm-0",
 * "/dev/mapper/vg0-root" or "/dev/vg0/root" for dm devices, "/dev/cciss/c0d0" for the sysfs
 * name "cciss!c0d0" (sysfs writes '/' in device names as '!').
 */
static bool dev_path_names(const char *path, const struct blockdev *b)
{
	const char *rel;
	size_t i;

	if (strncmp(path, "/dev/", 5) != 0)
		return false;
	rel = path + 5;
	if (b->dm_name && strncmp(rel, "mapper/", 7) == 0 && strcmp(rel + 7, b->dm_name) == 0)
		return true;
	for (i = 0; rel[i] && b->name[i]; i++)
		if (rel[i] != b->name[i] && !(rel[i] == '/' && b->name[i] == '!'))
			break;
	if (!rel[i] && !b->name[i])
		return true;
	return b->dm_name && lvm_path_names(rel, b->dm_name);
}

/*
 * A mount is on the device when its number says so. The source's name is believed only when
 * the number is anonymous (major 0: btrfs, overlay); otherwise a stale name (a disk renamed
 * by a replug) could point at the wrong device.
 */
static bool mount_is_on(const struct mount_entry *m, const struct blockdev *b)
{
	if (m->major != 0)
		return b->has_dev && m->major == b->major && m->minor == b->minor;
	return dev_path_names(m->source, b);
}

/* The mount a path lives on: the longest mount point above it, the last one mounted. */
static const struct mount_entry *mount_of_path(const struct mount_table *t, const char *path)
{
	const struct mount_entry *best = NULL;

	for (size_t i = 0; i < t->n; i++)
		if (path_is_below(path, t->v[i].mount_point) &&
		    (!best || strlen(t->v[i].mount_point) >= strlen(best->mount_point)))
			best = &t->v[i];
	return best;
}

/* ------------------------------------------------------------------------------------------ */
/* The check                                                                                  */

struct storage_check {
	struct passthru_ctx *ctx;
	struct passthru_guard_list *list;
	struct mount_table mounts;
	/* The mounts come from /proc/mounts: no device numbers, only the sources' names. */
	bool mounts_by_name;
	struct swap_table swaps;
	/* The block devices of each btrfs filesystem the kernel knows, by sysfs name. */
	char ***btrfs;
	size_t n_btrfs;
};

static void storage_check_done(struct storage_check *s)
{
	mount_table_done(&s->mounts);
	swap_table_done(&s->swaps);
	for (size_t i = 0; i < s->n_btrfs; i++)
		strv_free(s->btrfs[i]);
	free(s->btrfs);
}

/*
 * A btrfs filesystem spans several devices, and mountinfo names one of them (with an
 * anonymous device number). /sys/fs/btrfs/<uuid>/devices/ names them all.
 */
static int btrfs_load(struct storage_check *s)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int r;

	r = root_opendir(s->ctx, "/sys/fs/btrfs", &d);
	if (r == -ENOENT)
		return 0; /* btrfs is not loaded */
	if (r < 0)
		return r;
	while ((errno = 0, de = readdir(d))) {
		_cleanup_closedir_ DIR *devs = NULL;
		_cleanup_strv_free_ char **names = NULL;
		_cleanup_free_ char *path = NULL;
		struct dirent *dev;
		char ***v;

		if (de->d_name[0] == '.' || strcmp(de->d_name, "features") == 0)
			continue;
		path = strf("/sys/fs/btrfs/%s/devices", de->d_name);
		if (!path)
			return -ENOMEM;
		r = root_opendir(s->ctx, path, &devs);
		if (errno_is_vanished(r) || r == -ENOTDIR)
			continue; /* unmounted while we look, or no filesystem */
		if (r < 0)
			return r;
		while ((errno = 0, dev = readdir(devs)))
			if (dev->d_name[0] != '.' && strv_push(&names, dev->d_name) < 0)
				return -ENOMEM;
		if (errno != 0)
			return -errno;
		if (!names)
			continue;
		v = ARRAY_GROW(s->btrfs, s->n_btrfs);
		if (!v)
			return -ENOMEM;
		*v = TAKE_PTR(names);
		s->n_btrfs++;
	}
	return errno != 0 ? -errno : 0;
}

/* A btrfs mount whose source is another device of a filesystem that has b too. */
static bool btrfs_mount_spans(const struct storage_check *s, const struct mount_entry *m,
			      const struct blockdev *b)
{
	if (m->major != 0 || strcmp(m->fstype, "btrfs") != 0)
		return false;
	for (size_t i = 0; i < s->n_btrfs; i++) {
		if (!strv_contains(s->btrfs[i], b->name))
			continue;
		STRV_FOREACH (name, s->btrfs[i]) {
			struct blockdev other = {.name = *name};

			if (dev_path_names(m->source, &other))
				return true;
		}
	}
	return false;
}

/* 1: the mount is from b; 2: from a btrfs filesystem that spans b; 0: neither. */
static int mount_uses(const struct storage_check *s, const struct mount_entry *m,
		      const struct blockdev *b)
{
	if (mount_is_on(m, b))
		return 1;
	return btrfs_mount_spans(s, m, b) ? 2 : 0;
}

static int parse_mountinfo(const char *text, void *table, size_t *bad)
{
	return mountinfo_parse(text, table, bad);
}

static int parse_swaps(const char *text, void *table, size_t *bad)
{
	return swaps_parse(text, table, bad);
}

static int parse_proc_mounts(const char *text, void *table, size_t *bad)
{
	return proc_mounts_parse(text, table, bad);
}

/*
 * The tables the check needs. One that cannot be read is a guard on the function's first
 * disk, never an empty table: a missing mountinfo once planned to bind the controller that
 * held /. The check goes on with what could be read, so that everything else is said too.
 * /proc/mounts stands in for mountinfo, without device numbers.
 */
static int storage_check_load(struct storage_check *s, const char *disk)
{
	int r, k;

	r = guard_load_table(s->ctx, "/proc/self/mountinfo", parse_mountinfo, &s->mounts);
	if (r < 0 && r != -ENOMEM) {
		k = guard_load_table(s->ctx, "/proc/mounts", parse_proc_mounts, &s->mounts);
		if (k >= 0) {
			log_debug(s->ctx, "/proc/self/mountinfo: %s; mounts from /proc/mounts",
				  strerror(-r));
			s->mounts_by_name = true;
			r = 0;
		} else if (k == -ENOMEM) {
			r = k;
		}
	}
	if (r < 0)
		r = guard_add_unreadable(s->list, disk, "/proc/self/mountinfo", r);
	if (r < 0)
		return r;

	r = guard_load_table(s->ctx, "/proc/swaps", parse_swaps, &s->swaps);
	if (r < 0)
		r = guard_add_unreadable(s->list, disk, "/proc/swaps", r);
	if (r < 0)
		return r;

	r = btrfs_load(s);
	if (r < 0)
		r = guard_add_unreadable(s->list, disk, "/sys/fs/btrfs", r);
	return r;
}

/* Names of the entries of <path>/holders, sorted. */
static int holders_list(struct passthru_ctx *ctx, const char *path, char ***ret)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_strv_free_ char **v = NULL;
	struct dirent *de;
	int r;

	dir = strf("%s/holders", path);
	if (!dir)
		return -ENOMEM;
	r = root_opendir(ctx, dir, &d);
	if (errno_is_vanished(r)) {
		*ret = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	while ((errno = 0, de = readdir(d)))
		if (de->d_name[0] != '.' && strv_push(&v, de->d_name) < 0)
			return -ENOMEM;
	if (errno != 0)
		return -errno;
	strv_sort(v);
	*ret = TAKE_PTR(v);
	return 0;
}

static int check_blockdev(struct storage_check *s, const struct blockdev *origin,
			  const struct blockdev *b, unsigned depth);

static int check_holders(struct storage_check *s, const struct blockdev *origin,
			 const struct blockdev *b, unsigned depth)
{
	_cleanup_strv_free_ char **holders = NULL;
	int r;

	r = holders_list(s->ctx, b->path, &holders);
	if (r < 0)
		return r;
	STRV_FOREACH (h, holders) {
		_cleanup_(blockdev_done) struct blockdev holder = {0};
		_cleanup_free_ char *link = NULL, *path = NULL, *label = NULL, *hint = NULL;

		link = strf("/sys/block/%s", *h);
		if (!link)
			return -ENOMEM;
		r = root_resolve_link(s->ctx, link, &path);
		if (r >= 0)
			r = blockdev_read(s->ctx, *h, path, &holder);
		if (errno_is_vanished(r))
			continue; /* taken down while we look */
		if (r < 0)
			return r;

		/* What sits on the holder first: the hints then read in the order to run them
		 * (umount, swapoff, then vgchange). */
		if (depth + 1 < HOLDER_DEPTH_MAX) {
			r = check_blockdev(s, origin, &holder, depth + 1);
			if (r < 0)
				return r;
		} else {
			log_debug(s->ctx, "%s: holders nest deeper than %d; not followed", *h,
				  HOLDER_DEPTH_MAX);
		}
		if (depth > 0)
			continue;
		label = blockdev_label(&holder);
		if (!label)
			return -ENOMEM;
		hint = holder_hint(&holder);
		r = guard_list_add(s->list, PASSTHRU_GUARD_HOLDER, origin->name, hint,
				   "%s is held by %s", origin->name, label);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The mounts, swap areas and holders of one device (the function's, or one stacked on it). */
static int check_blockdev(struct storage_check *s, const struct blockdev *origin,
			  const struct blockdev *b, unsigned depth)
{
	_cleanup_free_ char *desc = NULL;
	int r;

	if (depth == 0)
		desc = strdup(b->name);
	else if (b->dm_name)
		desc = strf("%s (%s) on %s", b->dm_name, b->name, origin->name);
	else
		desc = strf("%s on %s", b->name, origin->name);
	if (!desc)
		return -ENOMEM;

	for (size_t i = 0; i < s->mounts.n; i++) {
		const struct mount_entry *m = &s->mounts.v[i];
		_cleanup_free_ char *quoted = NULL, *hint = NULL;
		int how = mount_uses(s, m, b);

		if (how == 0)
			continue;
		quoted = shell_quote(m->mount_point);
		hint = quoted ? strf("umount %s", quoted) : NULL;
		if (!hint)
			return -ENOMEM;
		if (how == 1)
			r = guard_list_add(s->list, PASSTHRU_GUARD_MOUNT, origin->name, hint,
					   "%s is mounted from %s", m->mount_point, desc);
		else
			r = guard_list_add(s->list, PASSTHRU_GUARD_MOUNT, origin->name, hint,
					   "%s is mounted from a btrfs filesystem that spans %s",
					   m->mount_point, desc);
		if (r < 0)
			return r;
	}

	for (size_t i = 0; i < s->swaps.n; i++) {
		const struct swap_entry *sw = &s->swaps.v[i];
		_cleanup_free_ char *quoted = NULL, *hint = NULL;
		const struct mount_entry *m;

		if (sw->is_file) {
			/* A swap file keeps the filesystem it lives on busy. */
			m = mount_of_path(&s->mounts, sw->path);
			if (!m || mount_uses(s, m, b) == 0)
				continue;
		} else if (!dev_path_names(sw->path, b)) {
			continue;
		}
		quoted = shell_quote(sw->path);
		hint = quoted ? strf("swapoff %s", quoted) : NULL;
		if (!hint)
			return -ENOMEM;
		if (sw->is_file)
			r = guard_list_add(s->list, PASSTHRU_GUARD_SWAP, origin->name, hint,
					   "swap file %s is active on %s", sw->path, desc);
		else
			r = guard_list_add(s->list, PASSTHRU_GUARD_SWAP, origin->name, hint,
					   "swap is active on %s", desc);
		if (r < 0)
			return r;
	}

	return check_holders(s, origin, b, depth);
}

/*
 * With NVMe multipath the disk's directory is below its subsystem
 * (/sys/devices/virtual/nvme-subsystem/nvme-subsys0/nvme0n1), which links to its controllers
 * ("nvme0 -> ../../../pci0000:00/0000:00:03.0/nvme/nvme0").
 */
static int disk_via_nvme_subsystem(struct passthru_ctx *ctx, const char *disk_path,
				   const char *devpath, bool *ret)
{
	_cleanup_free_ char *subsys = NULL, *kind = NULL;
	_cleanup_strv_free_ char **ctrls = NULL;
	_cleanup_close_ int fd = -1;
	char *slash;
	int r;

	*ret = false;
	subsys = strdup(disk_path);
	if (!subsys)
		return -ENOMEM;
	slash = strrchr(subsys, '/');
	if (!slash || slash == subsys)
		return 0;
	*slash = '\0';
	fd = root_open_dir(ctx, subsys);
	if (fd < 0)
		return errno_is_vanished(fd) ? 0 : fd;
	r = attr_link_basename_at(fd, "subsystem", &kind);
	if (r == -ENOMEM)
		return r;
	if (r < 0 || strcmp(kind, "nvme-subsystem") != 0)
		return 0;

	r = dir_numbered_entries(fd, "nvme", &ctrls);
	if (r < 0)
		return r;
	STRV_FOREACH (c, ctrls) {
		_cleanup_free_ char *target = NULL, *ctrl = NULL;

		r = attr_readlink_at(fd, *c, &target);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			continue; /* not a link: no controller */
		if (path_join_lexical(subsys, target, &ctrl) < 0)
			return -ENOMEM;
		if (path_is_below(ctrl, devpath)) {
			*ret = true;
			return 0;
		}
	}
	return 0;
}

/* The partitions of a disk: subdirectories with a "partition" attribute, sorted. */
static int disk_partitions(struct passthru_ctx *ctx, const char *disk_path, char ***ret)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_strv_free_ char **v = NULL;
	struct dirent *de;
	int r;

	r = root_opendir(ctx, disk_path, &d);
	if (r < 0)
		return r;
	while ((errno = 0, de = readdir(d))) {
		_cleanup_free_ char *attr = NULL;

		if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
			continue;
		attr = strf("%s/partition", de->d_name);
		if (!attr)
			return -ENOMEM;
		if (faccessat(dirfd(d), attr, F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
		    strv_push(&v, de->d_name) < 0)
			return -ENOMEM;
	}
	if (errno != 0)
		return -errno;
	strv_sort(v);
	*ret = TAKE_PTR(v);
	return 0;
}

struct blockdevs {
	struct blockdev *v;
	size_t n;
};

static void blockdevs_done(struct blockdevs *d)
{
	for (size_t i = 0; i < d->n; i++)
		blockdev_done(&d->v[i]);
	free(d->v);
}

/* Adds a disk and its partitions to the devices to check. */
static int add_disk(struct passthru_ctx *ctx, const struct sysfs_entry *disk,
		    struct blockdevs *devs)
{
	_cleanup_strv_free_ char **parts = NULL;
	struct blockdev *v;
	int r;

	r = disk_partitions(ctx, disk->path, &parts);
	if (r < 0)
		return r;
	v = realloc(devs->v, (devs->n + 1 + strv_length(parts)) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	devs->v = v;
	r = blockdev_read(ctx, disk->name, disk->path, &v[devs->n]);
	if (r < 0)
		return r;
	devs->n++;
	STRV_FOREACH (p, parts) {
		_cleanup_free_ char *path = NULL;

		path = strf("%s/%s", disk->path, *p);
		if (!path)
			return -ENOMEM;
		r = blockdev_read(ctx, *p, path, &v[devs->n]);
		if (errno_is_vanished(r))
			continue;
		if (r < 0)
			return r;
		devs->n++;
	}
	return 0;
}

/*
 * With mounts from /proc/mounts a mount is known by its source's name only. A source that is a
 * /dev path naming no block device of the host ("/dev/root", the kernel's name for the root it
 * mounted itself; a /dev/disk/by-* link) could be on any disk, this function's too: fail
 * closed.
 */
static int check_sources_known(struct storage_check *s, const struct sysfs_list *disks,
			       const char *disk)
{
	_cleanup_(blockdevs_done) struct blockdevs all = {0};
	int r;

	for (size_t i = 0; i < disks->n; i++) {
		r = add_disk(s->ctx, &disks->v[i], &all);
		if (errno_is_vanished(r))
			continue;
		if (r < 0)
			return guard_add_unreadable(s->list, disk, disks->v[i].path, r);
	}
	for (size_t i = 0; i < s->mounts.n; i++) {
		const struct mount_entry *m = &s->mounts.v[i];
		bool known = false;

		if (strncmp(m->source, "/dev/", 5) != 0)
			continue;
		for (size_t j = 0; j < all.n && !known; j++)
			known = dev_path_names(m->source, &all.v[j]);
		if (known)
			continue;
		r = guard_list_add(s->list, PASSTHRU_GUARD_UNREADABLE, disk, NULL,
				   "cannot tell which disk %s is mounted from: /proc/mounts names "
				   "%s, no block device here, and /proc/self/mountinfo, which has "
				   "the device numbers, cannot be read",
				   m->mount_point, m->source);
		if (r < 0)
			return r;
	}
	return 0;
}

int guard_check_storage(struct passthru_ctx *ctx, const char *devpath,
			struct passthru_guard_list *list)
{
	_cleanup_(sysfs_list_done) struct sysfs_list disks = {0};
	_cleanup_(storage_check_done) struct storage_check s = {.ctx = ctx, .list = list};
	_cleanup_(blockdevs_done) struct blockdevs devs = {0};
	int r;

	/* A kernel without block devices has no /sys/block: an empty list. */
	r = sysfs_class_list(ctx, "/sys/block", NULL, &disks);
	if (r < 0) {
		const char *slash = strrchr(devpath, '/');

		return guard_add_unreadable(list, slash ? slash + 1 : devpath, "/sys/block", r);
	}
	for (size_t i = 0; i < disks.n; i++) {
		bool mine = path_is_below(disks.v[i].path, devpath);

		/* The kernel puts class devices without a parent below virtual/<class>. */
		if (!mine &&
		    path_is_below(disks.v[i].path, "/sys/devices/virtual/nvme-subsystem")) {
			r = disk_via_nvme_subsystem(ctx, disks.v[i].path, devpath, &mine);
			if (r < 0)
				return r;
		}
		if (!mine)
			continue;
		log_debug(ctx, "disk %s is on %s", disks.v[i].name, devpath);
		r = add_disk(ctx, &disks.v[i], &devs);
		if (errno_is_vanished(r))
			continue; /* a disk that goes away while we look is no longer in use */
		if (r < 0)
			return r;
	}
	/* No disk: the /proc files are not even read. */
	if (devs.n == 0)
		return 0;

	r = storage_check_load(&s, devs.v[0].name);
	if (r < 0)
		return r;
	if (s.mounts_by_name) {
		r = check_sources_known(&s, &disks, devs.v[0].name);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < devs.n; i++) {
		r = check_blockdev(&s, &devs.v[i], &devs.v[i], 0);
		if (r < 0)
			return r;
	}
	return 0;
}
