/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Broken hosts: garbage and missing attributes, dangling links, a device that vanished
 * mid-scan (tests/fixtures/pci/damaged.json), a host with the IOMMU off (noiommu.json), and
 * attributes that are links out of the tree or FIFOs.
 * Every problem keeps the device in the list, is reported once, and makes its getter say
 * -ENODATA / NULL.
 */
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "test-pci-fixture.h"

static void check_ids(struct passthru_pci_device *dev, uint16_t vendor, uint16_t device)
{
	uint16_t u16 = 0;

	CHECK_INT(passthru_pci_device_get_vendor_id(dev, &u16), 0);
	CHECK_INT(u16, vendor);
	CHECK_INT(passthru_pci_device_get_device_id(dev, &u16), 0);
	CHECK_INT(u16, device);
}

static void test_damaged(void)
{
	char *root = fixture_root(fixtures_dir(), "damaged.json");
	struct passthru_ctx *ctx = fixture_ctx(root);
	struct passthru_pci_list *list = NULL;
	struct passthru_pci_device *dev;
	const char *const *problems;
	uint16_t u16 = 0;
	uint32_t u32 = 0;
	uint8_t u8 = 0;
	unsigned u = 0;
	int i = 0;

	CHECK_INT(passthru_pci_scan(ctx, &list), 0);
	if (!list)
		return;

	/* The vanished function (its bus link dangles) is left out; all others are there. */
	CHECK_INT(passthru_pci_list_count(list), 9);
	CHECK(passthru_pci_list_find(list, "0000:00:1f.0") == NULL);
	dev = NULL;
	CHECK_INT(passthru_pci_device_new(ctx, "0000:00:1f.0", &dev), -ENODEV);
	CHECK(dev == NULL);

	/* Garbage numa_node. */
	dev = fixture_device(list, "0000:00:02.0");
	CHECK_INT(passthru_pci_device_get_numa_node(dev, &i), -ENODATA);
	CHECK_STR(joined(passthru_pci_device_get_problems(dev)),
		  "numa_node: invalid value \"zzz\"");
	check_ids(dev, 0x8086, 0x3e92);
	CHECK(passthru_pci_device_is_boot_vga(dev));
	CHECK_STR(passthru_pci_device_get_driver(dev), "i915");
	CHECK_STR(passthru_pci_device_get_type(dev), "GPU-VGA");
	/* Out of range is garbage too. */
	dev = fixture_device(list, "0000:00:1f.6");
	CHECK_INT(passthru_pci_device_get_numa_node(dev, &i), -ENODATA);
	CHECK_STR(joined(passthru_pci_device_get_problems(dev)), "numa_node: invalid value \"-7\"");

	/*
	 * Three bytes of config space: ids and revision come from the attribute files, the
	 * class file is empty so the class is unknown.
	 */
	dev = fixture_device(list, "0000:00:14.0");
	problems = passthru_pci_device_get_problems(dev);
	CHECK_STR(problems[0], "config: only 3 of 64 bytes");
	CHECK_STR(problems[1], "class: invalid value \"\"");
	CHECK_STR(problems[2], NULL);
	check_ids(dev, 0x8086, 0xa36d);
	CHECK_INT(passthru_pci_device_get_class(dev, &u32), -ENODATA);
	CHECK_INT(passthru_pci_device_get_revision(dev, &u8), 0);
	CHECK_INT(u8, 0x10);
	CHECK_INT(passthru_pci_device_get_subsystem_vendor_id(dev, &u16), 0);
	CHECK_INT(u16, 0x8086);
	CHECK_STR(passthru_pci_device_get_class_name(dev), NULL);
	CHECK_STR(passthru_pci_device_get_type(dev), "PCI");
	CHECK(!passthru_pci_device_is_bridge(dev));
	/* No /lib/modules in this root: no modules, not an error. */
	CHECK_STR(joined(passthru_pci_device_get_modules(dev)), "");
	CHECK_STR(passthru_pci_device_get_driver(dev), "xhci_hcd");

	/* A driver link to a driver that is not there is no driver. */
	dev = fixture_device(list, "0000:00:16.0");
	CHECK_STR(passthru_pci_device_get_driver(dev), NULL);
	CHECK_STR(joined(passthru_pci_device_get_problems(dev)),
		  "driver: link to missing driver \"mei_me\"");
	dev = NULL;
	CHECK_INT(passthru_pci_device_new(ctx, "0000:00:16.0", &dev), 0);
	if (dev) {
		CHECK_STR(passthru_pci_device_get_driver(dev), NULL);
		CHECK_STR(joined(passthru_pci_device_get_problems(dev)),
			  "driver: link to missing driver \"mei_me\"");
		passthru_pci_device_unref(dev);
	}

	/* A driver name that is not a kernel identifier (here not even UTF-8). */
	dev = fixture_device(list, "0000:00:17.0");
	CHECK_STR(passthru_pci_device_get_driver(dev), NULL);
	CHECK_STR(joined(passthru_pci_device_get_problems(dev)),
		  "driver: invalid name \"ahci\\xff\"");

	/* Group link to a group that does not exist; lazily read attributes add their lines. */
	dev = fixture_device(list, "0000:00:1f.3");
	CHECK_INT(passthru_pci_device_get_iommu_group(dev, &i), -ENODATA);
	CHECK_STR(joined(passthru_pci_device_get_iommu_group_members(dev)), "");
	problems = passthru_pci_device_get_problems(dev);
	CHECK(problems[0] && strncmp(problems[0], "iommu_group: link to missing group ", 35) == 0);
	CHECK_STR(problems[1], NULL);
	CHECK_STR(joined(passthru_pci_device_get_reset_methods(dev)), "");
	CHECK_STR(passthru_pci_device_get_current_link_speed(dev), NULL);
	CHECK_STR(passthru_pci_device_get_current_link_width(dev), "4");
	CHECK_STR(passthru_pci_device_get_max_link_speed(dev), "8.0 GT/s PCIe");
	CHECK_STR(passthru_pci_device_get_max_link_width(dev), NULL);
	problems = passthru_pci_device_get_problems(dev);
	CHECK_STR(problems[1], "reset_method: invalid value \"\\xff\\xfe\\x80\\xc3(\"");
	CHECK_STR(problems[2], "current_link_speed: invalid value \"\"");
	CHECK_STR(problems[3], "max_link_width: cannot read: File too large");
	CHECK_STR(problems[4], NULL);
	/* Asking again reads nothing again and adds nothing. */
	CHECK_STR(passthru_pci_device_get_max_link_width(dev), NULL);
	CHECK_STR(passthru_pci_device_get_problems(dev)[4], NULL);

	/* SR-IOV: garbage count, a VF with a garbage vendor, a VF without its physfn link. */
	dev = fixture_device(list, "0000:05:00.0");
	CHECK_INT(passthru_pci_device_get_sriov_totalvfs(dev, &u), 0);
	CHECK_INT(u, 8);
	CHECK_INT(passthru_pci_device_get_sriov_numvfs(dev, &u), -ENODATA);
	CHECK_STR(joined(passthru_pci_device_get_problems(dev)),
		  "sriov_numvfs: invalid value \"zzz\"");
	/* From the scan only the VF whose physfn link is there counts; the PF's links name both. */
	CHECK_STR(joined(passthru_pci_device_get_vfs(dev)), "0000:05:10.0");
	dev = NULL;
	CHECK_INT(passthru_pci_device_new(ctx, "05:00.0", &dev), 0);
	if (dev) {
		CHECK_STR(joined(passthru_pci_device_get_vfs(dev)), "0000:05:10.0,0000:05:10.2");
		passthru_pci_device_unref(dev);
	}
	dev = fixture_device(list, "0000:05:10.0");
	CHECK_INT(passthru_pci_device_get_vendor_id(dev, &u16), -ENODATA);
	CHECK_INT(passthru_pci_device_get_device_id(dev, &u16), 0);
	CHECK_INT(u16, 0x154c);
	CHECK_STR(joined(passthru_pci_device_get_problems(dev)), "vendor: invalid value \"zzz\"");
	CHECK_STR(passthru_pci_device_get_vendor_name(dev), NULL);
	CHECK_STR(passthru_pci_device_get_physfn(dev), "0000:05:00.0");
	/* Type by class alone when the ids are unknown. */
	CHECK_STR(passthru_pci_device_get_type(dev), "NIC");
	dev = fixture_device(list, "0000:05:10.2");
	CHECK_STR(passthru_pci_device_get_physfn(dev), NULL);
	check_ids(dev, 0x8086, 0x154c);
	CHECK_STR(joined(passthru_pci_device_get_problems(dev)), "");

	passthru_pci_list_unref(list);
	passthru_ctx_unref(ctx);
	free(root);
}

static void test_no_iommu(void)
{
	char *root = fixture_root(fixtures_dir(), "noiommu.json");
	struct passthru_ctx *ctx = fixture_ctx(root);
	struct passthru_pci_list *list = NULL;
	int group = 42;

	CHECK_INT(passthru_pci_scan(ctx, &list), 0);
	CHECK_INT(passthru_pci_list_count(list), 3);
	for (size_t i = 0; i < passthru_pci_list_count(list); i++) {
		struct passthru_pci_device *dev = passthru_pci_list_get(list, i);

		CHECK_INT(passthru_pci_device_get_iommu_group(dev, &group), -ENOENT);
		CHECK_STR(joined(passthru_pci_device_get_iommu_group_members(dev)), "");
		CHECK_STR(joined(passthru_pci_device_get_problems(dev)), "");
	}
	CHECK_INT(group, 42);
	passthru_pci_list_unref(list);
	passthru_ctx_unref(ctx);
	free(root);
}

/*
 * Attributes that are no kernel attributes: a link to a file outside the root (read, it showed
 * the build machine's file) and a FIFO (read, it blocked the scan forever). Both are problems
 * of their device; nothing is read outside the root and nothing waits.
 */
static void test_not_attributes(void)
{
	char *root = fixture_root(fixtures_dir(), "noiommu.json");
	char outside[] = "/tmp/passthru-test-outside-XXXXXX";
	struct passthru_ctx *ctx = fixture_ctx(root);
	struct passthru_pci_list *list = NULL;
	struct passthru_pci_device *dev;
	char path[4096], target[4096];
	int fd, node = 42;

	fd = mkstemp(outside);
	CHECK(fd >= 0 && write(fd, "7\n", 2) == 2);
	close(fd);
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/0000:00:02.0/numa_node", root);
	CHECK(unlink(path) == 0 && mkfifo(path, 0644) == 0);
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/0000:00:1f.6/numa_node", root);
	CHECK(unlink(path) == 0 && symlink(outside, path) == 0);
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/0000:00:00.0/numa_node", root);
	snprintf(target, sizeof(target), "../../../../../../../../../../../../../..%s", outside);
	CHECK(unlink(path) == 0 && symlink(target, path) == 0);

	/*
	 * Before attributes were opened non-blocking, the scan hung here. Such a hang is told by
	 * meson's timeout of the test; an alarm of its own (it was 20 s) put a second, shorter
	 * bound on a loaded machine, where the fixture roots alone may take seconds.
	 */
	CHECK_INT(passthru_pci_scan(ctx, &list), 0);
	if (!list)
		return;
	dev = fixture_device(list, "0000:00:02.0");
	CHECK_INT(passthru_pci_device_get_numa_node(dev, &node), -ENODATA);
	CHECK_STR(joined(passthru_pci_device_get_problems(dev)), "numa_node: not a regular file");
	dev = fixture_device(list, "0000:00:1f.6");
	CHECK_INT(passthru_pci_device_get_numa_node(dev, &node), -ENODATA);
	CHECK_STR(joined(passthru_pci_device_get_problems(dev)),
		  "numa_node: a link out of the device's directory");
	dev = fixture_device(list, "0000:00:00.0");
	CHECK_INT(passthru_pci_device_get_numa_node(dev, &node), -ENODATA);
	CHECK_STR(joined(passthru_pci_device_get_problems(dev)),
		  "numa_node: a link out of the device's directory");
	CHECK_INT(node, 42);
	passthru_pci_list_unref(list);
	passthru_ctx_unref(ctx);
	unlink(outside);
	free(root);
}

/* A root without any PCI bus is an empty host, not an error. */
static void test_no_bus(void)
{
	char dir[] = "/tmp/passthru-test-nobus-XXXXXX";
	struct passthru_ctx *ctx;
	struct passthru_pci_list *list = NULL;
	struct passthru_pci_device *dev = NULL;

	CHECK(mkdtemp(dir) != NULL);
	ctx = fixture_ctx(dir);
	CHECK_INT(passthru_pci_scan(ctx, &list), 0);
	CHECK_INT(passthru_pci_list_count(list), 0);
	CHECK_INT(passthru_pci_device_new(ctx, "00:00.0", &dev), -ENODEV);
	passthru_pci_list_unref(list);
	passthru_ctx_unref(ctx);
	rmdir(dir);
}

int main(void)
{
	test_damaged();
	test_no_iommu();
	test_no_bus();
	test_not_attributes();
	TEST_DONE();
}
