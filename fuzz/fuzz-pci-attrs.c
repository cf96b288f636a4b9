/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Attribute parsing of a PCI function: the input becomes the sysfs directory of one function
 * in a scratch root, which is then read through the public API, every getter included, both
 * by passthru_pci_device_new() and by a scan.
 *
 * Input: one byte N, then N bytes of config space, then the values below separated by NUL
 * bytes, in this order. A value that starts with byte 0x01 (or is missing) leaves the file
 * out; attribute values are written as they are, link values become the link's target.
 *
 * Beyond not crashing: getters answer 0 or their documented errors, strings they return are
 * printable kernel tokens, and every problem line names an attribute.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "passthru.h"

static const char *const attrs[] = {
    "vendor",
    "device",
    "subsystem_vendor",
    "subsystem_device",
    "class",
    "revision",
    "numa_node",
    "boot_vga",
    "reset_method",
    "current_link_speed",
    "current_link_width",
    "max_link_speed",
    "max_link_width",
    "sriov_totalvfs",
    "sriov_numvfs",
    "modalias",
};
static const char *const links[] = {"driver", "iommu_group", "physfn", "virtfn0", "virtfn1"};

#define ADDRESS "0000:00:00.0"

static char root[] = "/tmp/passthru-fuzz-pci-XXXXXX";
static int devfd = -1;

static void mkdirs(const char *rel)
{
	char path[4096];
	char cmd[4200];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
	if (system(cmd) != 0)
		abort();
}

static void cleanup(void)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	(void)!system(cmd);
}

static void setup(void)
{
	char path[4096];
	int fd;

	if (devfd >= 0)
		return;
	if (!mkdtemp(root))
		abort();
	atexit(cleanup);
	mkdirs("sys/bus/pci/devices/" ADDRESS);
	mkdirs("sys/bus/pci/drivers/fuzz");
	mkdirs("sys/kernel/iommu_groups/7/devices");
	mkdirs("usr/share/misc");
	/* An empty pci.ids of the root's own: no names, and no loading of the machine's. */
	snprintf(path, sizeof(path), "%s/usr/share/misc/pci.ids", root);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	close(fd);
	snprintf(path, sizeof(path), "%s/sys/kernel/iommu_groups/7/devices/" ADDRESS, root);
	if (symlink("../../../../bus/pci/devices/" ADDRESS, path) < 0)
		abort();
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/" ADDRESS, root);
	devfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (devfd < 0)
		abort();
}

static void put(const char *name, const uint8_t *data, size_t size, bool link)
{
	(void)unlinkat(devfd, name, 0);
	if (!data || (size > 0 && data[0] == 0x01))
		return;
	if (link) {
		char target[4096];

		if (size == 0 || size >= sizeof(target))
			return;
		memcpy(target, data, size);
		target[size] = '\0';
		(void)symlinkat(target, devfd, name);
	} else {
		int fd = openat(devfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd < 0)
			abort();
		if (size > 0 && write(fd, data, size) != (ssize_t)size)
			abort();
		close(fd);
	}
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static void check_strv(const char *const *v)
{
	if (!v)
		abort();
	for (; *v; v++)
		if (!**v || !printable(*v))
			abort();
}

static void check_str(const char *s)
{
	if (s && (!*s || !printable(s)))
		abort();
}

static void check_int(int r, int other_allowed)
{
	if (r != 0 && r != -ENODATA && r != other_allowed)
		abort();
}

static void exercise(struct passthru_pci_device *dev)
{
	uint16_t u16;
	uint32_t u32;
	uint8_t u8;
	unsigned u;
	int i;

	if (strcmp(passthru_pci_device_get_address(dev), ADDRESS) != 0)
		abort();
	check_int(passthru_pci_device_get_vendor_id(dev, &u16), 0);
	check_int(passthru_pci_device_get_device_id(dev, &u16), 0);
	check_int(passthru_pci_device_get_subsystem_vendor_id(dev, &u16), 0);
	check_int(passthru_pci_device_get_subsystem_device_id(dev, &u16), 0);
	check_int(passthru_pci_device_get_class(dev, &u32), 0);
	if (passthru_pci_device_get_class(dev, &u32) == 0 && u32 > 0xffffff)
		abort();
	check_int(passthru_pci_device_get_revision(dev, &u8), 0);
	check_str(passthru_pci_device_get_vendor_name(dev));
	check_str(passthru_pci_device_get_device_name(dev));
	check_str(passthru_pci_device_get_subsystem_name(dev));
	check_str(passthru_pci_device_get_class_name(dev));
	check_str(passthru_pci_device_get_prog_if_name(dev));
	check_str(passthru_pci_device_get_type(dev));
	check_str(passthru_pci_device_get_driver(dev));
	check_strv(passthru_pci_device_get_modules(dev));
	check_int(passthru_pci_device_get_iommu_group(dev, &i), -ENOENT);
	check_strv(passthru_pci_device_get_iommu_group_members(dev));
	check_int(passthru_pci_device_get_numa_node(dev, &i), 0);
	if (passthru_pci_device_get_numa_node(dev, &i) == 0 && i < -1)
		abort();
	(void)passthru_pci_device_is_boot_vga(dev);
	(void)passthru_pci_device_is_bridge(dev);
	check_int(passthru_pci_device_get_sriov_totalvfs(dev, &u), -ENOENT);
	check_int(passthru_pci_device_get_sriov_numvfs(dev, &u), -ENOENT);
	check_str(passthru_pci_device_get_physfn(dev));
	check_strv(passthru_pci_device_get_vfs(dev));
	check_strv(passthru_pci_device_get_reset_methods(dev));
	check_str(passthru_pci_device_get_current_link_speed(dev));
	check_str(passthru_pci_device_get_current_link_width(dev));
	check_str(passthru_pci_device_get_max_link_speed(dev));
	check_str(passthru_pci_device_get_max_link_width(dev));
	/* Problems quote garbage escaped: always printable. */
	check_strv(passthru_pci_device_get_problems(dev));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct passthru_ctx *ctx = NULL;
	struct passthru_pci_device *dev = NULL;
	struct passthru_pci_list *list = NULL;
	size_t pos = 0, config_len;

	if (size > 65536)
		return 0;
	setup();

	config_len = size > 0 ? data[0] : 0;
	pos = size > 0 ? 1 : 0;
	if (config_len > size - pos)
		config_len = size - pos;
	put("config", data + pos, config_len, false);
	pos += config_len;

	for (size_t k = 0; k < sizeof(attrs) / sizeof(attrs[0]) + sizeof(links) / sizeof(links[0]);
	     k++) {
		const uint8_t *value = NULL;
		size_t len = 0;

		if (pos < size) {
			const uint8_t *end = memchr(data + pos, '\0', size - pos);

			value = data + pos;
			len = end ? (size_t)(end - value) : size - pos;
			pos += len + 1;
		} else
			pos = size + 1;
		if (k < sizeof(attrs) / sizeof(attrs[0]))
			put(attrs[k], value, len, false);
		else
			put(links[k - sizeof(attrs) / sizeof(attrs[0])], value, len, true);
	}

	if (passthru_ctx_new(root, &ctx) < 0)
		abort();
	if (passthru_pci_device_new(ctx, ADDRESS, &dev) == 0) {
		exercise(dev);
		passthru_pci_device_unref(dev);
	}
	if (passthru_pci_scan(ctx, &list) == 0) {
		for (size_t i = 0; i < passthru_pci_list_count(list); i++)
			exercise(passthru_pci_list_get(list, i));
		passthru_pci_list_unref(list);
	}
	passthru_ctx_unref(ctx);
	return 0;
}
