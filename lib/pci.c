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
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "modules.h"
#include "names.h"
#include "pci.h"
#include "types.h"

#define PCI_DEVICES_DIR	 "/sys/bus/pci/devices"
#define PCI_DRIVERS_DIR	 "/sys/bus/pci/drivers"
#define IOMMU_GROUPS_DIR "/sys/kernel/iommu_groups"

/* The standard header: everything we take from config space, and all an unprivileged
 * reader gets from the kernel anyway. */
#define CONFIG_HEADER_SIZE 64

/* SR-IOV allows at most 65535 VFs per PF. */
#define VF_MAX 65535

enum {
	LOADED_SUBSYSTEM = 1 << 0,
	/* SR-IOV counts, reset methods, link attributes: read together, with one open of the
	 * device directory, as whoever asks for one of them usually asks for all. */
	LOADED_DETAILS = 1 << 1,
	LOADED_VFS = 1 << 2,
	LOADED_MEMBERS = 1 << 5,
	LOADED_MODULES = 1 << 6,
	LOADED_TYPE = 1 << 7,
};

enum {
	LINK_CURRENT_SPEED,
	LINK_CURRENT_WIDTH,
	LINK_MAX_SPEED,
	LINK_MAX_WIDTH,
	_LINK_MAX,
};

static const char *const link_attrs[_LINK_MAX] = {
    [LINK_CURRENT_SPEED] = "current_link_speed",
    [LINK_CURRENT_WIDTH] = "current_link_width",
    [LINK_MAX_SPEED] = "max_link_speed",
    [LINK_MAX_WIDTH] = "max_link_width",
};

struct passthru_pci_device {
	unsigned refcount;
	struct passthru_ctx *ctx;
	/*
	 * The scan the device came from, while that list lives (the list clears it when it
	 * goes). No reference: the list holds the device.
	 */
	struct passthru_pci_list *list;
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];

	/* Each *_r is 0 when the value is known, -ENODATA when it could not be read. */
	int vendor_r, device_r, subsystem_r, class_r, revision_r, numa_r;
	uint16_t vendor, device, subvendor, subdevice;
	uint32_t class_code;
	uint8_t revision;
	/* Config space header type without the multi-function bit; -1 when unknown. */
	int header_type;
	int numa_node;
	/* The group number; -ENOENT without IOMMU, -ENODATA when the link is broken. */
	int iommu_group;
	char *driver;
	char *physfn;
	bool boot_vga;

	unsigned loaded;
	int totalvfs_r, numvfs_r;
	unsigned totalvfs, numvfs;
	char **vfs;
	char **reset_methods;
	char *link[_LINK_MAX];
	char **members;
	char **modules;
	const char *type;
	char *type_owned;

	char **problems;
	bool dir_failed;
};

struct passthru_pci_list {
	unsigned refcount;
	struct passthru_ctx *ctx;
	/* Sorted by address. */
	struct passthru_pci_device **devices;
	size_t count;
	/* Built on first use: devices with a group by (group, address), VFs by (PF, address). */
	struct passthru_pci_device **by_group, **by_physfn;
	size_t n_by_group, n_by_physfn;
	bool have_by_group, have_by_physfn;
};

/* What a scan learns once for all devices, instead of asking per device. */
struct scan_state {
	/* Names in /sys/bus/pci/drivers, sorted; valid when drivers_known. */
	char **drivers;
	size_t n_drivers;
	bool drivers_known;
	/* Group numbers in /sys/kernel/iommu_groups, sorted; valid when groups_known. */
	int *groups;
	size_t n_groups;
	bool groups_known;
};

/* ------------------------------------------------------------------------------------------ */
/* Problems and attribute reading                                                             */

static _printf_(2, 3) void add_problem(struct passthru_pci_device *dev, const char *format, ...)
{
	va_list args;
	int r;

	va_start(args, format);
	r = strv_pushfv(&dev->problems, format, args);
	va_end(args);
	/* Out of memory loses the line, not the device. */
	if (r >= 0)
		log_debug(dev->ctx, "%s: %s", dev->address, strv_last(dev->problems));
}

static void problem_invalid(struct passthru_pci_device *dev, const char *name, const char *value)
{
	_cleanup_free_ char *escaped = escape_for_message(value, 64);

	add_problem(dev, "%s: invalid value \"%s\"", name, escaped ? escaped : "");
}

static void problem_read(struct passthru_pci_device *dev, const char *name, int r)
{
	if (r == -EBADMSG)
		add_problem(dev, "%s: invalid value (contains a NUL byte)", name);
	else if (r == -EXDEV)
		add_problem(dev, "%s: a link out of the device's directory", name);
	else if (r == -EBADFD)
		add_problem(dev, "%s: not a regular file", name);
	else
		add_problem(dev, "%s: cannot read: %s", name, strerror(-r));
}

/*
 * Reads an attribute like attr_read_at(): one read(2) into a small buffer, which holds all of
 * a typical sysfs attribute; anything that fills it goes to the general reader.
 */
static int read_attr(int dfd, const char *name, char **ret)
{
	_cleanup_close_ int fd = attr_open_at(dfd, name);
	char buf[128];
	ssize_t n;
	char *s;

	if (fd < 0)
		return fd;
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n == sizeof(buf))
		return attr_read_at(dfd, name, ret);
	if (memchr(buf, '\0', (size_t)n))
		return -EBADMSG;
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	s = strndup(buf, (size_t)n);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

/*
 * A hex attribute. Returns 0, -ENOENT when absent (a problem too unless absence is normal for
 * it), or -ENODATA after recording a problem.
 */
static int read_hex(struct passthru_pci_device *dev, int dfd, const char *name, uint64_t max,
		    bool may_be_absent, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = read_attr(dfd, name, &s);
	if (r == -ENOENT && may_be_absent)
		return -ENOENT;
	if (r < 0) {
		problem_read(dev, name, r);
		return -ENODATA;
	}
	if (parse_hex(s, max, ret) < 0) {
		problem_invalid(dev, name, s);
		return -ENODATA;
	}
	return 0;
}

static int read_long(struct passthru_pci_device *dev, int dfd, const char *name, long min, long max,
		     long *ret)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = read_attr(dfd, name, &s);
	if (r == -ENOENT)
		return -ENOENT;
	if (r < 0) {
		problem_read(dev, name, r);
		return -ENODATA;
	}
	if (parse_long(s, min, max, ret) < 0) {
		problem_invalid(dev, name, s);
		return -ENODATA;
	}
	return 0;
}

/* Kernel identifiers (driver names, reset methods, link speeds words): printable, no blanks. */
static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* Printable ASCII, spaces allowed, not empty: what the kernel prints for link attributes. */
static bool is_printable(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/*
 * The basename of a link. -ENOENT when absent; -ENODATA after recording a problem when the
 * link cannot be read.
 */
static int read_link(struct passthru_pci_device *dev, int dfd, const char *name, char **ret)
{
	int r;

	r = attr_link_basename_at(dfd, name, ret);
	if (r == -ENOENT)
		return -ENOENT;
	if (r == -EBADMSG) {
		add_problem(dev, "%s: link without a target name", name);
		return -ENODATA;
	}
	if (r < 0) {
		add_problem(dev, "%s: cannot read link: %s", name, strerror(-r));
		return -ENODATA;
	}
	return 0;
}

/*
 * The canonical address of a function the kernel names (a sysfs entry or link). The kernel's
 * names are canonical already: they are checked and copied, without the formatting of
 * passthru_pci_address_parse(), which would cost more than all else a scan does per device.
 */
static int address_from_kernel(const char *name, char ret[PASSTHRU_PCI_ADDRESS_LEN + 1])
{
	unsigned domain, bus, device, function;
	size_t len = strlen(name);

	if (len == PCI_ADDRESS_SHORT_LEN ||
	    pci_address_parse_fields(name, &domain, &bus, &device, &function) < 0)
		return passthru_pci_address_parse(name, ret);
	for (const char *p = name; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			return passthru_pci_address_parse(name, ret);
	memcpy(ret, name, len + 1);
	return 0;
}

/* A link whose basename is a PCI address (physfn, virtfnN); the canonical address. */
static int read_address_link(struct passthru_pci_device *dev, int dfd, const char *name,
			     char ret[PASSTHRU_PCI_ADDRESS_LEN + 1])
{
	_cleanup_free_ char *target = NULL;
	int r;

	r = read_link(dev, dfd, name, &target);
	if (r < 0)
		return r;
	if (address_from_kernel(target, ret) < 0) {
		_cleanup_free_ char *escaped = escape_for_message(target, 64);

		add_problem(dev, "%s: link to \"%s\", not a PCI address", name,
			    escaped ? escaped : "");
		return -ENODATA;
	}
	return 0;
}

/* The device's directory, for attributes read after the scan. */
static int device_open_dir(struct passthru_pci_device *dev)
{
	char path[sizeof(PCI_DEVICES_DIR "/") + PASSTHRU_PCI_ADDRESS_LEN];
	int fd;

	snprintf(path, sizeof(path), PCI_DEVICES_DIR "/%s", dev->address);
	fd = root_open_dir(dev->ctx, path);
	if (fd < 0 && !dev->dir_failed) {
		/* Most likely the device went away since the scan. */
		add_problem(dev, "cannot open %s: %s", path, strerror(-fd));
		dev->dir_failed = true;
	}
	return fd;
}

static int cmp_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_address(const void *a, const void *b)
{
	return pci_address_compare(*(char *const *)a, *(char *const *)b);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* ------------------------------------------------------------------------------------------ */
/* Reading one function                                                                       */

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/*
 * Identity from config space, falling back to the attribute files for what it cannot give.
 * An SR-IOV VF reads 0xffff as vendor and device in config space (the spec leaves them to
 * the PF); the kernel fills its vendor/device attributes from the PF's SR-IOV capability,
 * while class, revision and subsystem ids in a VF's config space are real. A device that
 * does not answer at all (powered off, surprise-removed) reads all ones.
 */
static void read_identity(struct passthru_pci_device *dev, int dfd)
{
	uint8_t cfg[CONFIG_HEADER_SIZE];
	bool ids_ok = false, header_ok = false;
	uint64_t v;
	ssize_t n;

	n = attr_read_raw_at(dfd, "config", cfg, sizeof(cfg));
	if (n < 0)
		problem_read(dev, "config", (int)n);
	else if ((size_t)n < sizeof(cfg))
		add_problem(dev, "config: only %zd of %zu bytes", n, sizeof(cfg));
	else {
		uint32_t class_code =
		    (uint32_t)cfg[0x0b] << 16 | (uint32_t)cfg[0x0a] << 8 | cfg[0x09];

		header_ok = !(class_code == 0xffffff && cfg[0x0e] == 0xff);
		ids_ok = header_ok && le16(cfg) != 0xffff;
		if (header_ok) {
			dev->class_code = class_code;
			dev->revision = cfg[0x08];
			dev->header_type = cfg[0x0e] & 0x7f;
			dev->class_r = dev->revision_r = 0;
			/*
			 * Only a type 0 header has subsystem ids at 0x2c; a bridge keeps them in a
			 * capability, which the kernel's attributes report (read when asked).
			 */
			if (dev->header_type == 0) {
				dev->subvendor = le16(cfg + 0x2c);
				dev->subdevice = le16(cfg + 0x2e);
				dev->subsystem_r = 0;
				dev->loaded |= LOADED_SUBSYSTEM;
			}
		}
		if (ids_ok) {
			dev->vendor = le16(cfg);
			dev->device = le16(cfg + 2);
			dev->vendor_r = dev->device_r = 0;
		}
	}

	if (!ids_ok) {
		if (read_hex(dev, dfd, "vendor", 0xffff, false, &v) == 0) {
			dev->vendor = (uint16_t)v;
			dev->vendor_r = 0;
		}
		if (read_hex(dev, dfd, "device", 0xffff, false, &v) == 0) {
			dev->device = (uint16_t)v;
			dev->device_r = 0;
		}
	}
	if (!header_ok) {
		if (read_hex(dev, dfd, "class", 0xffffff, false, &v) == 0) {
			dev->class_code = (uint32_t)v;
			dev->class_r = 0;
		}
		if (read_hex(dev, dfd, "revision", 0xff, false, &v) == 0) {
			dev->revision = (uint8_t)v;
			dev->revision_r = 0;
		}
	}
}

static void read_numa_node(struct passthru_pci_device *dev, int dfd)
{
	long l;
	int r;

	r = read_long(dev, dfd, "numa_node", -1, INT_MAX, &l);
	if (r == -ENOENT) {
		/* A kernel without NUMA support has no numa_node: no affinity. */
		dev->numa_node = -1;
		dev->numa_r = 0;
	} else if (r == 0) {
		dev->numa_node = (int)l;
		dev->numa_r = 0;
	}
}

static void read_driver(struct passthru_pci_device *dev, int dfd, const struct scan_state *scan)
{
	_cleanup_free_ char *name = NULL;
	bool exists;

	if (read_link(dev, dfd, "driver", &name) < 0)
		return;
	if (!is_token(name)) {
		_cleanup_free_ char *escaped = escape_for_message(name, 64);

		add_problem(dev, "driver: invalid name \"%s\"", escaped ? escaped : "");
		return;
	}
	/*
	 * A driver link that leads nowhere is no driver. A scan lists the drivers once instead of
	 * following every link.
	 */
	if (scan && scan->drivers_known) {
		char *key = name;

		exists = bsearch(&key, scan->drivers, scan->n_drivers, sizeof(char *),
				 cmp_string) != NULL;
	} else {
		struct stat st;

		exists = fstatat(dfd, "driver", &st, 0) == 0;
	}
	if (!exists) {
		add_problem(dev, "driver: link to missing driver \"%s\"", name);
		return;
	}
	dev->driver = TAKE_PTR(name);
}

static void read_iommu_group(struct passthru_pci_device *dev, int dfd,
			     const struct scan_state *scan)
{
	_cleanup_free_ char *name = NULL;
	bool exists;
	long group;
	int r;

	r = read_link(dev, dfd, "iommu_group", &name);
	if (r < 0) {
		/* No link: the IOMMU is off or does not cover the device. */
		dev->iommu_group = r == -ENOENT ? -ENOENT : -ENODATA;
		return;
	}
	if (parse_long(name, 0, INT_MAX, &group) < 0) {
		_cleanup_free_ char *escaped = escape_for_message(name, 64);

		add_problem(dev, "iommu_group: link to \"%s\", not a group number",
			    escaped ? escaped : "");
		dev->iommu_group = -ENODATA;
		return;
	}
	if (scan && scan->groups_known) {
		int key = (int)group;

		exists = bsearch(&key, scan->groups, scan->n_groups, sizeof(int), cmp_int) != NULL;
	} else {
		struct stat st;

		exists = fstatat(dfd, "iommu_group", &st, 0) == 0;
	}
	if (!exists) {
		add_problem(dev, "iommu_group: link to missing group %ld", group);
		dev->iommu_group = -ENODATA;
		return;
	}
	dev->iommu_group = (int)group;
}

static void read_physfn(struct passthru_pci_device *dev, int dfd)
{
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];

	if (read_address_link(dev, dfd, "physfn", address) < 0)
		return;
	dev->physfn = strdup(address);
}

static void read_boot_vga(struct passthru_pci_device *dev, int dfd)
{
	long l;

	/* The kernel has boot_vga only for VGA class devices. */
	if (dev->class_r < 0 || dev->class_code >> 8 != 0x0300)
		return;
	if (read_long(dev, dfd, "boot_vga", 0, 1, &l) == 0)
		dev->boot_vga = l == 1;
}

static int device_read(struct passthru_ctx *ctx, int dfd, const char *address,
		       const struct scan_state *scan, struct passthru_pci_device **ret)
{
	struct passthru_pci_device *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return -ENOMEM;
	dev->refcount = 1;
	dev->ctx = passthru_ctx_ref(ctx);
	memcpy(dev->address, address, sizeof(dev->address));
	dev->vendor_r = dev->device_r = dev->subsystem_r = -ENODATA;
	dev->class_r = dev->revision_r = dev->numa_r = -ENODATA;
	dev->header_type = -1;
	dev->iommu_group = -ENODATA;

	if (dfd < 0)
		add_problem(dev, "cannot open the device directory: %s", strerror(-dfd));
	else {
		read_identity(dev, dfd);
		read_numa_node(dev, dfd);
		read_driver(dev, dfd, scan);
		read_iommu_group(dev, dfd, scan);
		read_physfn(dev, dfd);
		read_boot_vga(dev, dfd);
	}
	*ret = dev;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
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
	return device_read(ctx, dfd, canonical, NULL, ret);
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
	dfd = device_open_dir(dev);
	if (dfd < 0)
		return;
	if (read_hex(dev, dfd, "subsystem_vendor", 0xffff, false, &sv) == 0 &&
	    read_hex(dev, dfd, "subsystem_device", 0xffff, false, &sd) == 0) {
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
	dfd = device_open_dir(dev);
	if (dfd < 0)
		return NULL;
	r = read_attr(dfd, "modalias", &s);
	if (r < 0) {
		if (r != -ENOENT)
			problem_read(dev, "modalias", r);
		return NULL;
	}
	if (!is_token(s)) {
		problem_invalid(dev, "modalias", s);
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

/* Members of dev's group from the list: the range of its group in the group index. */
static int members_from_list(struct passthru_pci_device *dev, char ***ret)
{
	struct passthru_pci_list *list = dev->list;
	size_t lo = 0, hi, end;
	int r;

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
	return addresses_of(list->by_group + lo, end - lo, ret);
}

static int members_from_sysfs(struct passthru_pci_device *dev, char ***ret)
{
	_cleanup_strv_free_ char **members = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	char path[sizeof(IOMMU_GROUPS_DIR "//devices") + 12];
	struct dirent *de;
	int r;

	snprintf(path, sizeof(path), IOMMU_GROUPS_DIR "/%d/devices", dev->iommu_group);
	r = root_opendir(dev->ctx, path, &d);
	if (r < 0) {
		add_problem(dev, "cannot open %s: %s", path, strerror(-r));
		return r;
	}
	while ((de = readdir(d))) {
		char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (address_from_kernel(de->d_name, address) < 0) {
			log_debug(dev->ctx, "%s: ignoring %s", path, de->d_name);
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
		qsort(members, strv_length(members), sizeof(char *), cmp_address);
	*ret = TAKE_PTR(members);
	return 0;
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
	dev->totalvfs_r = read_long(dev, dfd, "sriov_totalvfs", 0, VF_MAX, &l);
	if (dev->totalvfs_r == 0)
		dev->totalvfs = (unsigned)l;
	dev->numvfs_r = read_long(dev, dfd, "sriov_numvfs", 0, VF_MAX, &l);
	if (dev->numvfs_r == 0)
		dev->numvfs = (unsigned)l;
}

static void read_reset_methods(struct passthru_pci_device *dev, int dfd)
{
	_cleanup_free_ char *s = NULL;
	char *save = NULL;
	int r;

	/* Absent on kernels before 5.15, and on devices without any reset method. */
	r = read_attr(dfd, "reset_method", &s);
	if (r < 0) {
		if (r != -ENOENT)
			problem_read(dev, "reset_method", r);
		return;
	}
	for (char *tok = strtok_r(s, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (!is_token(tok)) {
			problem_invalid(dev, "reset_method", tok);
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
		int r = read_attr(dfd, link_attrs[i], &s);

		if (r < 0) {
			if (r != -ENOENT)
				problem_read(dev, link_attrs[i], r);
			continue;
		}
		if (!is_printable(s)) {
			problem_invalid(dev, link_attrs[i], s);
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
	dfd = device_open_dir(dev);
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

	dfd = device_open_dir(dev);
	if (dfd < 0)
		return dfd;
	for (unsigned i = 0; i < VF_MAX; i++) {
		char name[32], address[PASSTHRU_PCI_ADDRESS_LEN + 1];
		int r;

		snprintf(name, sizeof(name), "virtfn%u", i);
		r = read_address_link(dev, dfd, name, address);
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
			qsort(s->drivers, s->n_drivers, sizeof(char *), cmp_string);
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
		qsort(s->groups, s->n_groups, sizeof(int), cmp_int);
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
	list = calloc(1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	list->refcount = 1;
	list->ctx = passthru_ctx_ref(ctx);

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
		if (address_from_kernel(names[i], entries[n_entries].address) < 0) {
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
		r = device_read(ctx, dfd, entries[i].address, &scan, &dev);
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

_public_ size_t passthru_pci_list_count(const struct passthru_pci_list *list)
{
	return list ? list->count : 0;
}

_public_ struct passthru_pci_device *passthru_pci_list_get(const struct passthru_pci_list *list,
							   size_t index)
{
	if (!list || index >= list->count)
		return NULL;
	return list->devices[index];
}

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
