/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PCI scan: every function under /sys/bus/pci/devices into a passthru_pci_list, with what
 * all of them share (the driver names, the IOMMU groups) read once.
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "device-list.h"
#include "pci.h"
#include "pci-device.h"

/* ------------------------------------------------------------------------------------------ */
/* Scan                                                                                       */

static void scan_state_done(struct scan_state *s)
{
	strv_free(s->drivers);
	free(s->groups);
}

/* The entries of a directory, dot files left out, as a NULL-terminated vector. */
static int dir_entries(struct passthru_ctx *ctx, const char *path, char ***ret, size_t *ret_n)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_strv_free_ char **v = NULL;
	size_t n = 0, allocated = 0;
	struct dirent *de;
	int r;

	r = root_opendir(ctx, path, &d);
	if (r < 0)
		return r;
	v = calloc(1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	errno = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		/* strv_push() would be quadratic over thousands of entries. */
		if (n + 1 >= allocated) {
			size_t na = allocated ? allocated * 2 : 64;
			char **nv = realloc(v, na * sizeof(char *));

			if (!nv)
				return -ENOMEM;
			v = nv;
			allocated = na;
		}
		v[n] = strdup(de->d_name);
		if (!v[n])
			return -ENOMEM;
		v[++n] = NULL;
		errno = 0;
	}
	if (errno)
		return -errno;
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

static void scan_state_init(struct passthru_ctx *ctx, struct scan_state *s)
{
	_cleanup_strv_free_ char **names = NULL;
	size_t n = 0;
	int r;

	r = dir_entries(ctx, PCI_DRIVERS_DIR, &s->drivers, &s->n_drivers);
	if (r == -ENOENT) {
		s->drivers = NULL;
		s->n_drivers = 0;
		r = 0;
	}
	if (r == 0) {
		/* qsort() with a NULL base is undefined even for 0 elements. */
		if (s->n_drivers > 1)
			qsort(s->drivers, s->n_drivers, sizeof(char *), pci_cmp_string);
		s->drivers_known = true;
	} else
		log_debug(ctx, "cannot list %s: %s", PCI_DRIVERS_DIR, strerror(-r));

	r = dir_entries(ctx, IOMMU_GROUPS_DIR, &names, &n);
	if (r == -ENOENT) {
		s->groups_known = true;
		return;
	}
	if (r < 0) {
		log_debug(ctx, "cannot list %s: %s", IOMMU_GROUPS_DIR, strerror(-r));
		return;
	}
	s->groups = calloc(n + 1, sizeof(int));
	if (s->groups) {
		for (size_t i = 0; i < n; i++) {
			long l;

			if (parse_long(names[i], 0, INT_MAX, &l) == 0)
				s->groups[s->n_groups++] = (int)l;
		}
		qsort(s->groups, s->n_groups, sizeof(int), pci_cmp_int);
		s->groups_known = true;
	}
}

struct entry {
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	char *name;
};

static int cmp_entry(const void *a, const void *b)
{
	return pci_address_compare(((const struct entry *)a)->address,
				   ((const struct entry *)b)->address);
}

static void list_free(struct passthru_pci_list *list)
{
	for (size_t i = 0; i < list->count; i++) {
		list->devices[i]->list = NULL;
		passthru_pci_device_unref(list->devices[i]);
	}
	free(list->devices);
	free(list->by_group);
	free(list->by_physfn);
	passthru_ctx_unref(list->ctx);
	free(list);
}

static void list_freep(struct passthru_pci_list **list)
{
	if (*list)
		list_free(*list);
}

_public_ int passthru_pci_list_scan(struct passthru_ctx *ctx, struct passthru_pci_list **ret)
{
	_cleanup_(list_freep) struct passthru_pci_list *list = NULL;
	_cleanup_(scan_state_done) struct scan_state scan = {};
	_cleanup_strv_free_ char **names = NULL;
	_cleanup_free_ struct entry *entries = NULL;
	size_t n_names = 0, n_entries = 0;
	int r;

	if (!ctx || !ret)
		return -EINVAL;
	r = DEVICE_LIST_NEW(list, ctx);
	if (r < 0)
		return r;

	r = dir_entries(ctx, PCI_DEVICES_DIR, &names, &n_names);
	if (r == -ENOENT) {
		log_debug(ctx, "%s does not exist: no PCI bus", PCI_DEVICES_DIR);
		*ret = TAKE_PTR(list);
		return 0;
	}
	if (r < 0)
		return r;
	entries = calloc(n_names + 1, sizeof(*entries));
	if (!entries)
		return -ENOMEM;
	for (size_t i = 0; i < n_names; i++) {
		if (pci_address_from_kernel(names[i], entries[n_entries].address) < 0) {
			log_debug(ctx, "%s: ignoring %s", PCI_DEVICES_DIR, names[i]);
			continue;
		}
		entries[n_entries++].name = names[i];
	}
	if (n_entries > 1)
		qsort(entries, n_entries, sizeof(*entries), cmp_entry);

	list->devices = calloc(n_entries + 1, sizeof(*list->devices));
	if (!list->devices)
		return -ENOMEM;
	scan_state_init(ctx, &scan);
	for (size_t i = 0; i < n_entries; i++) {
		char path[sizeof(PCI_DEVICES_DIR "/") + NAME_MAX];
		_cleanup_close_ int dfd = -1;
		struct passthru_pci_device *dev;

		/* Through the rooted layer: below a captured tree even an absolute link stays in
		 * it. */
		snprintf(path, sizeof(path), PCI_DEVICES_DIR "/%s", entries[i].name);
		dfd = root_open_dir(ctx, path);
		/*
		 * The device went away between listing and opening it (hot unplug, VFs being
		 * disabled). Nothing can prevent that race: the device is simply no longer part
		 * of the host. Any other failure keeps the device, with the problem.
		 */
		if (errno_is_vanished(dfd)) {
			log_debug(ctx, "%s vanished during the scan, skipped", entries[i].address);
			continue;
		}
		r = pci_device_read(ctx, dfd, entries[i].address, &scan, &dev);
		if (r < 0)
			return r;
		dev->list = list;
		list->devices[list->count++] = dev;
	}
	*ret = TAKE_PTR(list);
	return 0;
}

/* The old name. */
_public_ int passthru_pci_scan(struct passthru_ctx *ctx, struct passthru_pci_list **ret)
    _alias_(passthru_pci_list_scan);

DEFINE_REF_UNREF_FUNC(_public_, struct passthru_pci_list, passthru_pci_list, list_free);

DEFINE_LIST_COUNT_GET(_public_, struct passthru_pci_list, passthru_pci_list,
		      struct passthru_pci_device, devices);

_public_ struct passthru_pci_device *passthru_pci_list_find(const struct passthru_pci_list *list,
							    const char *address)
{
	char canonical[PASSTHRU_PCI_ADDRESS_LEN + 1];
	size_t lo = 0, hi;

	if (!list || passthru_pci_address_parse(address, canonical) < 0)
		return NULL;
	hi = list->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = pci_address_compare(list->devices[mid]->address, canonical);

		if (c == 0)
			return list->devices[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
