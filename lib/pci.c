/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PCI inventory: every function under /sys/bus/pci/devices, read the way lspci's sysfs
 * back end reads it.
 *
 * A scan reads only what every listing needs and what is cheap: the first 64 bytes of config
 * space (ids, class, revision, header type; one read instead of six attribute files),
 * numa_node, the driver, iommu_group and physfn links, and boot_vga for VGA devices. Every
 * other attribute (reset methods, link speeds, SR-IOV counts, VF list, group members, kernel
 * modules, names, type) is read on first use of its getter. A device made by a scan knows its
 * list while the list lives, and then takes VF lists and group members from it instead of
 * going back to sysfs.
 *
 * Each device directory is opened once and its attributes read relative to it. The kernel
 * keeps sysfs attributes small, so one read(2) into a small buffer usually gets all of one.
 *
 * Unreadable or garbage attributes do not cost the device its place in the list: each adds a
 * line to the device's problems and its getter answers -ENODATA (or NULL).
 *
 * This file holds the device object and its getters; pci-read.c reads one function from
 * sysfs, pci-scan.c makes the list; pci-device.h is what they share.
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "modules.h"
#include "names.h"
#include "pci.h"
#include "pci-device.h"
#include "types.h"

static const char *const link_attrs[_LINK_MAX] = {
    [LINK_CURRENT_SPEED] = "current_link_speed",
    [LINK_CURRENT_WIDTH] = "current_link_width",
    [LINK_MAX_SPEED] = "max_link_speed",
    [LINK_MAX_WIDTH] = "max_link_width",
};

/* Device object                                                                              */

_public_ int passthru_pci_device_new(struct passthru_ctx *ctx, const char *address,
				     struct passthru_pci_device **ret)
{
	char canonical[PASSTHRU_PCI_ADDRESS_LEN + 1];
	char path[sizeof(PCI_DEVICES_DIR "/") + PASSTHRU_PCI_ADDRESS_LEN];
	_cleanup_close_ int dfd = -1;
	int r;

	if (!ctx || !ret)
		return -EINVAL;
	r = passthru_pci_address_parse(address, canonical);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), PCI_DEVICES_DIR "/%s", canonical);
	dfd = root_open_dir(ctx, path);
	if (dfd < 0) {
		log_debug(ctx, "%s: %s", path, strerror(-dfd));
		if (errno_is_vanished(dfd) || dfd == -ENOTDIR)
			return -ENODEV;
		return dfd;
	}
	return pci_device_read(ctx, dfd, canonical, NULL, ret);
}

static void pci_device_free(struct passthru_pci_device *dev)
{
	free(dev->driver);
	free(dev->physfn);
	strv_free(dev->vfs);
	strv_free(dev->reset_methods);
	for (size_t i = 0; i < _LINK_MAX; i++)
		free(dev->link[i]);
	strv_free(dev->members);
	strv_free(dev->modules);
	free(dev->type_owned);
	strv_free(dev->problems);
	passthru_ctx_unref(dev->ctx);
	free(dev);
}

DEFINE_REF_UNREF_FUNC(_public_, struct passthru_pci_device, passthru_pci_device, pci_device_free);

_public_ const char *passthru_pci_device_get_address(struct passthru_pci_device *dev)
{
	return dev->address;
}

_public_ int passthru_pci_device_get_vendor_id(struct passthru_pci_device *dev, uint16_t *ret)
{
	if (dev->vendor_r < 0)
		return dev->vendor_r;
	*ret = dev->vendor;
	return 0;
}

_public_ int passthru_pci_device_get_device_id(struct passthru_pci_device *dev, uint16_t *ret)
{
	if (dev->device_r < 0)
		return dev->device_r;
	*ret = dev->device;
	return 0;
}

/* Subsystem ids of bridges, from the kernel's attributes. */
static void load_subsystem(struct passthru_pci_device *dev)
{
	_cleanup_close_ int dfd = -1;
	uint64_t sv, sd;

	if (dev->loaded & LOADED_SUBSYSTEM)
		return;
	dev->loaded |= LOADED_SUBSYSTEM;
	dfd = pci_device_open_dir(dev);
	if (dfd < 0)
		return;
	if (pci_read_hex(dev, dfd, "subsystem_vendor", 0xffff, false, &sv) == 0 &&
	    pci_read_hex(dev, dfd, "subsystem_device", 0xffff, false, &sd) == 0) {
		dev->subvendor = (uint16_t)sv;
		dev->subdevice = (uint16_t)sd;
		dev->subsystem_r = 0;
	}
}

_public_ int passthru_pci_device_get_subsystem_vendor_id(struct passthru_pci_device *dev,
							 uint16_t *ret)
{
	load_subsystem(dev);
	if (dev->subsystem_r < 0)
		return dev->subsystem_r;
	*ret = dev->subvendor;
	return 0;
}

_public_ int passthru_pci_device_get_subsystem_device_id(struct passthru_pci_device *dev,
							 uint16_t *ret)
{
	load_subsystem(dev);
	if (dev->subsystem_r < 0)
		return dev->subsystem_r;
	*ret = dev->subdevice;
	return 0;
}

_public_ int passthru_pci_device_get_class(struct passthru_pci_device *dev, uint32_t *ret)
{
	if (dev->class_r < 0)
		return dev->class_r;
	*ret = dev->class_code;
	return 0;
}

_public_ int passthru_pci_device_get_revision(struct passthru_pci_device *dev, uint8_t *ret)
{
	if (dev->revision_r < 0)
		return dev->revision_r;
	*ret = dev->revision;
	return 0;
}

_public_ const char *passthru_pci_device_get_vendor_name(struct passthru_pci_device *dev)
{
	if (dev->vendor_r < 0)
		return NULL;
	return names_pci_vendor(dev->ctx, dev->vendor);
}

_public_ const char *passthru_pci_device_get_device_name(struct passthru_pci_device *dev)
{
	if (dev->vendor_r < 0 || dev->device_r < 0)
		return NULL;
	return names_pci_device(dev->ctx, dev->vendor, dev->device);
}

_public_ const char *passthru_pci_device_get_subsystem_name(struct passthru_pci_device *dev)
{
	load_subsystem(dev);
	if (dev->vendor_r < 0 || dev->device_r < 0 || dev->subsystem_r < 0)
		return NULL;
	/* 0000:0000 is no subsystem at all (bridges without the capability). */
	if (dev->subvendor == 0 && dev->subdevice == 0)
		return NULL;
	return names_pci_subsystem(dev->ctx, dev->vendor, dev->device, dev->subvendor,
				   dev->subdevice);
}

_public_ const char *passthru_pci_device_get_class_name(struct passthru_pci_device *dev)
{
	if (dev->class_r < 0)
		return NULL;
	return names_pci_class(dev->ctx, (uint8_t)(dev->class_code >> 16),
			       (uint8_t)(dev->class_code >> 8));
}

_public_ const char *passthru_pci_device_get_prog_if_name(struct passthru_pci_device *dev)
{
	if (dev->class_r < 0)
		return NULL;
	return names_pci_prog_if(dev->ctx, (uint8_t)(dev->class_code >> 16),
				 (uint8_t)(dev->class_code >> 8), (uint8_t)dev->class_code);
}

_public_ const char *passthru_pci_device_get_type(struct passthru_pci_device *dev)
{
	if (dev->loaded & LOADED_TYPE)
		return dev->type;
	dev->loaded |= LOADED_TYPE;
	if (dev->vendor_r == 0 && dev->device_r == 0) {
		const char *custom;

		load_subsystem(dev);
		custom = types_match(dev->ctx, dev->vendor, dev->device,
				     dev->subsystem_r == 0 ? dev->subvendor : -1,
				     dev->subsystem_r == 0 ? dev->subdevice : -1);
		/* Copied: the context's rules are replaced when a rule is added or removed. */
		if (custom) {
			dev->type_owned = strdup(custom);
			if (dev->type_owned) {
				dev->type = dev->type_owned;
				return dev->type;
			}
		}
	}
	dev->type = dev->class_r == 0 ? types_builtin(dev->class_code, dev->vendor) : "PCI";
	return dev->type;
}

_public_ const char *passthru_pci_device_get_driver(struct passthru_pci_device *dev)
{
	return dev->driver;
}

/* Writes value as digits upper-case hex digits (printf's "%0<digits>X"); returns the end. */
static char *put_hex(char *p, unsigned value, unsigned digits)
{
	for (unsigned i = digits; i > 0; i--, value >>= 4)
		p[i - 1] = "0123456789ABCDEF"[value & 0xf];
	return p + digits;
}

/*
 * The kernel's modalias for a PCI function (drivers/pci/pci-sysfs.c, modalias_show()):
 * "pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X", written without printf, which costs more
 * than the module lookup it is the key of once the lookups are cached.
 */
static char *device_modalias(struct passthru_pci_device *dev)
{
	_cleanup_close_ int dfd = -1;
	char *s = NULL;
	int r;

	load_subsystem(dev);
	if (dev->vendor_r == 0 && dev->device_r == 0 && dev->subsystem_r == 0 &&
	    dev->class_r == 0) {
		char alias[sizeof("pci:v00000000d00000000sv00000000sd00000000bc00sc00i00")];
		char *p = alias;

		p = put_hex(stpcpy(p, "pci:v"), dev->vendor, 8);
		p = put_hex(stpcpy(p, "d"), dev->device, 8);
		p = put_hex(stpcpy(p, "sv"), dev->subvendor, 8);
		p = put_hex(stpcpy(p, "sd"), dev->subdevice, 8);
		p = put_hex(stpcpy(p, "bc"), dev->class_code >> 16 & 0xff, 2);
		p = put_hex(stpcpy(p, "sc"), dev->class_code >> 8 & 0xff, 2);
		p = put_hex(stpcpy(p, "i"), dev->class_code & 0xff, 2);
		*p = '\0';
		return strdup(alias);
	}
	/* Part of the identity is unknown: the kernel's own string is the next best thing. */
	dfd = pci_device_open_dir(dev);
	if (dfd < 0)
		return NULL;
	r = pci_read_attr(dfd, "modalias", &s);
	if (r < 0) {
		if (r != -ENOENT)
			pci_problem_read(dev, "modalias", r);
		return NULL;
	}
	if (!pci_is_token(s)) {
		pci_problem_invalid(dev, "modalias", s);
		free(s);
		return NULL;
	}
	return s;
}

_public_ const char *const *passthru_pci_device_get_modules(struct passthru_pci_device *dev)
{
	if (!(dev->loaded & LOADED_MODULES)) {
		_cleanup_free_ char *modalias = NULL;

		dev->loaded |= LOADED_MODULES;
		modalias = device_modalias(dev);
		if (modalias && modules_for_modalias(dev->ctx, modalias, &dev->modules) < 0)
			dev->modules = NULL;
	}
	return dev->modules ? (const char *const *)dev->modules : strv_empty;
}

struct passthru_ctx *pci_device_get_ctx(struct passthru_pci_device *dev)
{
	return dev->ctx;
}

_public_ int passthru_pci_device_get_iommu_group(struct passthru_pci_device *dev, int *ret)
{
	if (dev->iommu_group < 0)
		return dev->iommu_group;
	*ret = dev->iommu_group;
	return 0;
}

static int cmp_by_group(const void *a, const void *b)
{
	const struct passthru_pci_device *x = *(struct passthru_pci_device *const *)a;
	const struct passthru_pci_device *y = *(struct passthru_pci_device *const *)b;

	if (x->iommu_group != y->iommu_group)
		return x->iommu_group < y->iommu_group ? -1 : 1;
	return pci_address_compare(x->address, y->address);
}

static int cmp_by_physfn(const void *a, const void *b)
{
	const struct passthru_pci_device *x = *(struct passthru_pci_device *const *)a;
	const struct passthru_pci_device *y = *(struct passthru_pci_device *const *)b;
	int c = pci_address_compare(x->physfn, y->physfn);

	return c ? c : pci_address_compare(x->address, y->address);
}

/* The devices of the list matching pred, sorted by cmp; built once. */
static int list_index(struct passthru_pci_list *list, bool (*pred)(struct passthru_pci_device *),
		      int (*cmp)(const void *, const void *), struct passthru_pci_device ***index,
		      size_t *n)
{
	struct passthru_pci_device **v;
	size_t k = 0;

	v = calloc(list->count + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < list->count; i++)
		if (pred(list->devices[i]))
			v[k++] = list->devices[i];
	qsort(v, k, sizeof(*v), cmp);
	*index = v;
	*n = k;
	return 0;
}

static bool has_group(struct passthru_pci_device *dev)
{
	return dev->iommu_group >= 0;
}

static bool has_physfn(struct passthru_pci_device *dev)
{
	return dev->physfn != NULL;
}

/*
 * The addresses of n devices, as a vector made at its size (a PF can have hundreds of VFs);
 * NULL, which the getters answer as an empty vector, when there are none.
 */
static int addresses_of(struct passthru_pci_device *const *devices, size_t n, char ***ret)
{
	_cleanup_strv_free_ char **v = NULL;

	if (n == 0) {
		*ret = NULL;
		return 0;
	}
	v = calloc(n + 1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i] = strdup(devices[i]->address);
		if (!v[i])
			return -ENOMEM;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

int pci_device_scan_group(struct passthru_pci_device *dev, struct passthru_pci_device *const **ret,
			  size_t *ret_n)
{
	struct passthru_pci_list *list = dev->list;
	size_t lo = 0, hi, end;
	int r;

	if (!list || dev->iommu_group < 0)
		return -ENOENT;
	if (!list->have_by_group) {
		r = list_index(list, has_group, cmp_by_group, &list->by_group, &list->n_by_group);
		if (r < 0)
			return r;
		list->have_by_group = true;
	}
	/* First device of the group. */
	hi = list->n_by_group;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (list->by_group[mid]->iommu_group < dev->iommu_group)
			lo = mid + 1;
		else
			hi = mid;
	}
	end = lo;
	while (end < list->n_by_group && list->by_group[end]->iommu_group == dev->iommu_group)
		end++;
	*ret = list->by_group + lo;
	*ret_n = end - lo;
	return 0;
}

/* Members of dev's group from the list: the range of its group in the group index. */
static int members_from_list(struct passthru_pci_device *dev, char ***ret)
{
	struct passthru_pci_device *const *devices;
	size_t n;
	int r;

	r = pci_device_scan_group(dev, &devices, &n);
	if (r < 0)
		return r;
	return addresses_of(devices, n, ret);
}

int pci_iommu_group_addresses(struct passthru_ctx *ctx, int group, char ***ret)
{
	_cleanup_strv_free_ char **members = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	char path[sizeof(IOMMU_GROUPS_DIR "//devices") + 12];
	struct dirent *de;
	int r;

	snprintf(path, sizeof(path), IOMMU_GROUPS_DIR "/%d/devices", group);
	r = root_opendir(ctx, path, &d);
	if (r < 0)
		return r;
	while ((de = readdir(d))) {
		char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (pci_address_from_kernel(de->d_name, address) < 0) {
			log_debug(ctx, "%s: ignoring %s", path, de->d_name);
			continue;
		}
		/* A member that vanished leaves a dangling link for a moment: not a member. */
		if (fstatat(dirfd(d), de->d_name, &st, 0) < 0)
			continue;
		r = strv_push(&members, address);
		if (r < 0)
			return r;
	}
	if (members)
		qsort(members, strv_length(members), sizeof(char *), pci_cmp_address);
	*ret = TAKE_PTR(members);
	return 0;
}

static int members_from_sysfs(struct passthru_pci_device *dev, char ***ret)
{
	int r = pci_iommu_group_addresses(dev->ctx, dev->iommu_group, ret);

	if (r < 0)
		pci_add_problem(dev, "cannot open " IOMMU_GROUPS_DIR "/%d/devices: %s",
				dev->iommu_group, strerror(-r));
	return r;
}

_public_ const char *const *
passthru_pci_device_get_iommu_group_members(struct passthru_pci_device *dev)
{
	if (!(dev->loaded & LOADED_MEMBERS)) {
		dev->loaded |= LOADED_MEMBERS;
		if (dev->iommu_group >= 0) {
			int r = dev->list ? members_from_list(dev, &dev->members)
					  : members_from_sysfs(dev, &dev->members);
			if (r < 0)
				dev->members = NULL;
		}
	}
	return dev->members ? (const char *const *)dev->members : strv_empty;
}

_public_ int passthru_pci_device_get_numa_node(struct passthru_pci_device *dev, int *ret)
{
	if (dev->numa_r < 0)
		return dev->numa_r;
	*ret = dev->numa_node;
	return 0;
}

_public_ bool passthru_pci_device_is_boot_vga(struct passthru_pci_device *dev)
{
	return dev->boot_vga;
}

_public_ bool passthru_pci_device_is_bridge(struct passthru_pci_device *dev)
{
	/* Type 1 is a PCI-to-PCI bridge, type 2 a CardBus bridge. */
	if (dev->header_type == 1 || dev->header_type == 2)
		return true;
	/*
	 * When config space could not tell, the class does. A host bridge (0600) is an ordinary
	 * function, and so are ISA and other bridges that lead to no PCI bus.
	 */
	return dev->class_r == 0 &&
	       (dev->class_code >> 8 == 0x0604 || dev->class_code >> 8 == 0x0607);
}

/*
 * Bridges of every kind belong to the host: a PCI-to-PCI or CardBus bridge carries the bus
 * below it, a host bridge is the way to memory, an ISA/LPC bridge has the firmware, the
 * keyboard controller and the clocks behind it. The IOMMU (AMD's is a PCI function, class
 * 0806) and a root complex event collector (0807) serve the whole platform.
 */
const char *pci_device_non_endpoint(struct passthru_pci_device *dev)
{
	if (passthru_pci_device_is_bridge(dev))
		return "a PCI bridge";
	if (dev->class_r < 0)
		return "a function of unknown class";
	switch (dev->class_code >> 8) {
	case 0x0600:
		return "a host bridge";
	case 0x0601:
		return "an ISA bridge";
	case 0x0806:
		return "the IOMMU";
	case 0x0807:
		return "a root complex event collector";
	}
	if (dev->class_code >> 16 == 0x06)
		return "a bridge";
	return NULL;
}

_public_ bool passthru_pci_device_is_endpoint(struct passthru_pci_device *dev)
{
	return !pci_device_non_endpoint(dev);
}

static void read_sriov(struct passthru_pci_device *dev, int dfd)
{
	long l;

	dev->totalvfs_r = dev->numvfs_r = -ENOENT;
	/*
	 * Only a PF has the SR-IOV attributes, and neither a VF nor a bridge can be one (the
	 * SR-IOV capability is for type 0 functions, and VFs do not nest).
	 */
	if (dev->physfn || dev->header_type > 0)
		return;
	dev->totalvfs_r = pci_read_long(dev, dfd, "sriov_totalvfs", 0, VF_MAX, &l);
	if (dev->totalvfs_r == 0)
		dev->totalvfs = (unsigned)l;
	dev->numvfs_r = pci_read_long(dev, dfd, "sriov_numvfs", 0, VF_MAX, &l);
	if (dev->numvfs_r == 0)
		dev->numvfs = (unsigned)l;
}

static void read_reset_methods(struct passthru_pci_device *dev, int dfd)
{
	_cleanup_free_ char *s = NULL;
	char *save = NULL;
	int r;

	/* Absent on kernels before 5.15, and on devices without any reset method. */
	r = pci_read_attr(dfd, "reset_method", &s);
	if (r < 0) {
		if (r != -ENOENT)
			pci_problem_read(dev, "reset_method", r);
		return;
	}
	for (char *tok = strtok_r(s, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (!pci_is_token(tok)) {
			pci_problem_invalid(dev, "reset_method", tok);
			continue;
		}
		if (strv_push(&dev->reset_methods, tok) < 0)
			return;
	}
}

static void read_links(struct passthru_pci_device *dev, int dfd)
{
	/* Only PCI Express functions have the link attributes. */
	for (size_t i = 0; i < _LINK_MAX; i++) {
		_cleanup_free_ char *s = NULL;
		int r = pci_read_attr(dfd, link_attrs[i], &s);

		if (r < 0) {
			if (r != -ENOENT)
				pci_problem_read(dev, link_attrs[i], r);
			continue;
		}
		if (!pci_is_printable(s)) {
			pci_problem_invalid(dev, link_attrs[i], s);
			continue;
		}
		/*
		 * Functions without a link of their own (root complex integrated endpoints,
		 * a link that is down) still have the attributes: the kernel prints the speed
		 * as "Unknown", the current width as 0 and the maximum width as 255
		 * (PCIE_LNK_WIDTH_UNKNOWN). Those mean "no link", not a value.
		 */
		if (strcmp(s, "Unknown") == 0 || strcmp(s, "0") == 0 || strcmp(s, "255") == 0)
			continue;
		dev->link[i] = TAKE_PTR(s);
	}
}

static void load_details(struct passthru_pci_device *dev)
{
	_cleanup_close_ int dfd = -1;

	if (dev->loaded & LOADED_DETAILS)
		return;
	dev->loaded |= LOADED_DETAILS;
	dev->totalvfs_r = dev->numvfs_r = -ENODATA;
	dfd = pci_device_open_dir(dev);
	if (dfd < 0)
		return;
	read_sriov(dev, dfd);
	read_reset_methods(dev, dfd);
	read_links(dev, dfd);
}

_public_ int passthru_pci_device_get_sriov_totalvfs(struct passthru_pci_device *dev, unsigned *ret)
{
	load_details(dev);
	if (dev->totalvfs_r < 0)
		return dev->totalvfs_r;
	*ret = dev->totalvfs;
	return 0;
}

_public_ int passthru_pci_device_get_sriov_numvfs(struct passthru_pci_device *dev, unsigned *ret)
{
	load_details(dev);
	if (dev->numvfs_r < 0)
		return dev->numvfs_r;
	*ret = dev->numvfs;
	return 0;
}

_public_ const char *passthru_pci_device_get_physfn(struct passthru_pci_device *dev)
{
	return dev->physfn;
}

/*
 * The VFs of dev from the list: the devices whose physfn link names it. A VF's routing id is
 * the PF's plus a fixed offset plus its index times a fixed stride, so address order is VF
 * index order.
 */
static int vfs_from_list(struct passthru_pci_device *dev, char ***ret)
{
	struct passthru_pci_list *list = dev->list;
	size_t lo = 0, hi, end;
	int r;

	if (!list->have_by_physfn) {
		r = list_index(list, has_physfn, cmp_by_physfn, &list->by_physfn,
			       &list->n_by_physfn);
		if (r < 0)
			return r;
		list->have_by_physfn = true;
	}
	hi = list->n_by_physfn;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pci_address_compare(list->by_physfn[mid]->physfn, dev->address) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	end = lo;
	while (end < list->n_by_physfn && strcmp(list->by_physfn[end]->physfn, dev->address) == 0)
		end++;
	return addresses_of(list->by_physfn + lo, end - lo, ret);
}

/* The PF's virtfn0, virtfn1, ... links: the kernel numbers them without gaps. */
static int vfs_from_sysfs(struct passthru_pci_device *dev, char ***ret)
{
	_cleanup_strv_free_ char **vfs = NULL;
	_cleanup_close_ int dfd = -1;

	dfd = pci_device_open_dir(dev);
	if (dfd < 0)
		return dfd;
	for (unsigned i = 0; i < VF_MAX; i++) {
		char name[32], address[PASSTHRU_PCI_ADDRESS_LEN + 1];
		int r;

		snprintf(name, sizeof(name), "virtfn%u", i);
		r = pci_read_address_link(dev, dfd, name, address);
		if (r == -ENOENT)
			break;
		if (r < 0)
			continue;
		r = strv_push(&vfs, address);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(vfs);
	return 0;
}

_public_ const char *const *passthru_pci_device_get_vfs(struct passthru_pci_device *dev)
{
	if (!(dev->loaded & LOADED_VFS)) {
		int r;

		dev->loaded |= LOADED_VFS;
		/* A VF has no VFs of its own. */
		if (!dev->physfn) {
			r = dev->list ? vfs_from_list(dev, &dev->vfs)
				      : vfs_from_sysfs(dev, &dev->vfs);
			if (r < 0)
				dev->vfs = NULL;
		}
	}
	return dev->vfs ? (const char *const *)dev->vfs : strv_empty;
}

_public_ const char *const *passthru_pci_device_get_reset_methods(struct passthru_pci_device *dev)
{
	load_details(dev);
	return dev->reset_methods ? (const char *const *)dev->reset_methods : strv_empty;
}

static const char *get_link(struct passthru_pci_device *dev, unsigned which)
{
	load_details(dev);
	return dev->link[which];
}

_public_ const char *passthru_pci_device_get_current_link_speed(struct passthru_pci_device *dev)
{
	return get_link(dev, LINK_CURRENT_SPEED);
}

_public_ const char *passthru_pci_device_get_current_link_width(struct passthru_pci_device *dev)
{
	return get_link(dev, LINK_CURRENT_WIDTH);
}

_public_ const char *passthru_pci_device_get_max_link_speed(struct passthru_pci_device *dev)
{
	return get_link(dev, LINK_MAX_SPEED);
}

_public_ const char *passthru_pci_device_get_max_link_width(struct passthru_pci_device *dev)
{
	return get_link(dev, LINK_MAX_WIDTH);
}

_public_ const char *const *passthru_pci_device_get_problems(struct passthru_pci_device *dev)
{
	return dev->problems ? (const char *const *)dev->problems : strv_empty;
}
