/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading one PCI function from sysfs for the inventory (pci.c): its attributes relative to
 * the device directory opened once, config space, the links, and the problems of what could
 * not be read.
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include "pci.h"
#include "pci-device.h"

/* ------------------------------------------------------------------------------------------ */
/* Problems and attribute reading                                                             */

_printf_(2, 3) void pci_add_problem(struct passthru_pci_device *dev, const char *format, ...)
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

void pci_problem_invalid(struct passthru_pci_device *dev, const char *name, const char *value)
{
	_cleanup_free_ char *escaped = escape_for_message(value, 64);

	pci_add_problem(dev, "%s: invalid value \"%s\"", name, escaped ? escaped : "");
}

void pci_problem_read(struct passthru_pci_device *dev, const char *name, int r)
{
	if (r == -EBADMSG)
		pci_add_problem(dev, "%s: invalid value (contains a NUL byte)", name);
	else if (r == -EXDEV)
		pci_add_problem(dev, "%s: a link out of the device's directory", name);
	else if (r == -EBADFD)
		pci_add_problem(dev, "%s: not a regular file", name);
	else
		pci_add_problem(dev, "%s: cannot read: %s", name, strerror(-r));
}

/*
 * Reads an attribute like attr_read_at(): one read(2) into a small buffer, which holds all of
 * a typical sysfs attribute; anything that fills it goes to the general reader.
 */
int pci_read_attr(int dfd, const char *name, char **ret)
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
int pci_read_hex(struct passthru_pci_device *dev, int dfd, const char *name, uint64_t max,
		 bool may_be_absent, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = pci_read_attr(dfd, name, &s);
	if (r == -ENOENT && may_be_absent)
		return -ENOENT;
	if (r < 0) {
		pci_problem_read(dev, name, r);
		return -ENODATA;
	}
	if (parse_hex(s, max, ret) < 0) {
		pci_problem_invalid(dev, name, s);
		return -ENODATA;
	}
	return 0;
}

int pci_read_long(struct passthru_pci_device *dev, int dfd, const char *name, long min, long max,
		  long *ret)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = pci_read_attr(dfd, name, &s);
	if (r == -ENOENT)
		return -ENOENT;
	if (r < 0) {
		pci_problem_read(dev, name, r);
		return -ENODATA;
	}
	if (parse_long(s, min, max, ret) < 0) {
		pci_problem_invalid(dev, name, s);
		return -ENODATA;
	}
	return 0;
}

/* Kernel identifiers (driver names, reset methods, link speeds words): printable, no blanks. */
bool pci_is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* Printable ASCII, spaces allowed, not empty: what the kernel prints for link attributes. */
bool pci_is_printable(const char *s)
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
		pci_add_problem(dev, "%s: link without a target name", name);
		return -ENODATA;
	}
	if (r < 0) {
		pci_add_problem(dev, "%s: cannot read link: %s", name, strerror(-r));
		return -ENODATA;
	}
	return 0;
}

/*
 * The canonical address of a function the kernel names (a sysfs entry or link). The kernel's
 * names are canonical already: they are checked and copied, without the formatting of
 * passthru_pci_address_parse(), which would cost more than all else a scan does per device.
 */
int pci_address_from_kernel(const char *name, char ret[PASSTHRU_PCI_ADDRESS_LEN + 1])
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
int pci_read_address_link(struct passthru_pci_device *dev, int dfd, const char *name,
			  char ret[PASSTHRU_PCI_ADDRESS_LEN + 1])
{
	_cleanup_free_ char *target = NULL;
	int r;

	r = read_link(dev, dfd, name, &target);
	if (r < 0)
		return r;
	if (pci_address_from_kernel(target, ret) < 0) {
		_cleanup_free_ char *escaped = escape_for_message(target, 64);

		pci_add_problem(dev, "%s: link to \"%s\", not a PCI address", name,
				escaped ? escaped : "");
		return -ENODATA;
	}
	return 0;
}

/* The device's directory, for attributes read after the scan. */
int pci_device_open_dir(struct passthru_pci_device *dev)
{
	char path[sizeof(PCI_DEVICES_DIR "/") + PASSTHRU_PCI_ADDRESS_LEN];
	int fd;

	snprintf(path, sizeof(path), PCI_DEVICES_DIR "/%s", dev->address);
	fd = root_open_dir(dev->ctx, path);
	if (fd < 0 && !dev->dir_failed) {
		/* Most likely the device went away since the scan. */
		pci_add_problem(dev, "cannot open %s: %s", path, strerror(-fd));
		dev->dir_failed = true;
	}
	return fd;
}

int pci_cmp_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int pci_cmp_address(const void *a, const void *b)
{
	return pci_address_compare(*(char *const *)a, *(char *const *)b);
}

int pci_cmp_int(const void *a, const void *b)
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
		pci_problem_read(dev, "config", (int)n);
	else if ((size_t)n < sizeof(cfg))
		pci_add_problem(dev, "config: only %zd of %zu bytes", n, sizeof(cfg));
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
		if (pci_read_hex(dev, dfd, "vendor", 0xffff, false, &v) == 0) {
			dev->vendor = (uint16_t)v;
			dev->vendor_r = 0;
		}
		if (pci_read_hex(dev, dfd, "device", 0xffff, false, &v) == 0) {
			dev->device = (uint16_t)v;
			dev->device_r = 0;
		}
	}
	if (!header_ok) {
		if (pci_read_hex(dev, dfd, "class", 0xffffff, false, &v) == 0) {
			dev->class_code = (uint32_t)v;
			dev->class_r = 0;
		}
		if (pci_read_hex(dev, dfd, "revision", 0xff, false, &v) == 0) {
			dev->revision = (uint8_t)v;
			dev->revision_r = 0;
		}
	}
}

static void read_numa_node(struct passthru_pci_device *dev, int dfd)
{
	long l;
	int r;

	r = pci_read_long(dev, dfd, "numa_node", -1, INT_MAX, &l);
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
	if (!pci_is_token(name)) {
		_cleanup_free_ char *escaped = escape_for_message(name, 64);

		pci_add_problem(dev, "driver: invalid name \"%s\"", escaped ? escaped : "");
		return;
	}
	/*
	 * A driver link that leads nowhere is no driver. A scan lists the drivers once instead of
	 * following every link.
	 */
	if (scan && scan->drivers_known) {
		char *key = name;

		exists = bsearch(&key, scan->drivers, scan->n_drivers, sizeof(char *),
				 pci_cmp_string) != NULL;
	} else {
		struct stat st;

		exists = fstatat(dfd, "driver", &st, 0) == 0;
	}
	if (!exists) {
		pci_add_problem(dev, "driver: link to missing driver \"%s\"", name);
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

		pci_add_problem(dev, "iommu_group: link to \"%s\", not a group number",
				escaped ? escaped : "");
		dev->iommu_group = -ENODATA;
		return;
	}
	if (scan && scan->groups_known) {
		int key = (int)group;

		exists =
		    bsearch(&key, scan->groups, scan->n_groups, sizeof(int), pci_cmp_int) != NULL;
	} else {
		struct stat st;

		exists = fstatat(dfd, "iommu_group", &st, 0) == 0;
	}
	if (!exists) {
		pci_add_problem(dev, "iommu_group: link to missing group %ld", group);
		dev->iommu_group = -ENODATA;
		return;
	}
	dev->iommu_group = (int)group;
}

static void read_physfn(struct passthru_pci_device *dev, int dfd)
{
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];

	if (pci_read_address_link(dev, dfd, "physfn", address) < 0)
		return;
	dev->physfn = strdup(address);
}

static void read_boot_vga(struct passthru_pci_device *dev, int dfd)
{
	long l;

	/* The kernel has boot_vga only for VGA class devices. */
	if (dev->class_r < 0 || dev->class_code >> 8 != 0x0300)
		return;
	if (pci_read_long(dev, dfd, "boot_vga", 0, 1, &l) == 0)
		dev->boot_vga = l == 1;
}

int pci_device_read(struct passthru_ctx *ctx, int dfd, const char *address,
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
		pci_add_problem(dev, "cannot open the device directory: %s", strerror(-dfd));
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
