/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PCI inventory of a healthy host (tests/fixtures/pci/host.json): every getter of every
 * kind of function, through a scan and through passthru_pci_device_new().
 */
#include <errno.h>

#include "test.h"
#include "test-pci-fixture.h"

/* Identity, names and type of one function. */
static void check_identity(struct passthru_pci_device *dev, uint16_t vendor, uint16_t device,
			   uint16_t subvendor, uint16_t subdevice, uint32_t class_code,
			   uint8_t revision)
{
	uint16_t u16 = 0;
	uint32_t u32 = 0;
	uint8_t u8 = 0;

	fprintf(stderr, "-- %s\n", passthru_pci_device_get_address(dev));
	CHECK_INT(passthru_pci_device_get_vendor_id(dev, &u16), 0);
	CHECK_INT(u16, vendor);
	CHECK_INT(passthru_pci_device_get_device_id(dev, &u16), 0);
	CHECK_INT(u16, device);
	CHECK_INT(passthru_pci_device_get_subsystem_vendor_id(dev, &u16), 0);
	CHECK_INT(u16, subvendor);
	CHECK_INT(passthru_pci_device_get_subsystem_device_id(dev, &u16), 0);
	CHECK_INT(u16, subdevice);
	CHECK_INT(passthru_pci_device_get_class(dev, &u32), 0);
	CHECK_INT(u32, class_code);
	CHECK_INT(passthru_pci_device_get_revision(dev, &u8), 0);
	CHECK_INT(u8, revision);
	CHECK_STR(joined(passthru_pci_device_get_problems(dev)), "");
}

static void check_group(struct passthru_pci_device *dev, int group, const char *members)
{
	int g = -1;

	CHECK_INT(passthru_pci_device_get_iommu_group(dev, &g), 0);
	CHECK_INT(g, group);
	CHECK_STR(joined(passthru_pci_device_get_iommu_group_members(dev)), members);
}

static void check_links(struct passthru_pci_device *dev, const char *speed, const char *width,
			const char *max_speed, const char *max_width)
{
	CHECK_STR(passthru_pci_device_get_current_link_speed(dev), speed);
	CHECK_STR(passthru_pci_device_get_current_link_width(dev), width);
	CHECK_STR(passthru_pci_device_get_max_link_speed(dev), max_speed);
	CHECK_STR(passthru_pci_device_get_max_link_width(dev), max_width);
}

static void check_not_sriov(struct passthru_pci_device *dev)
{
	unsigned u = 0;

	CHECK_INT(passthru_pci_device_get_sriov_totalvfs(dev, &u), -ENOENT);
	CHECK_INT(passthru_pci_device_get_sriov_numvfs(dev, &u), -ENOENT);
	CHECK_STR(joined(passthru_pci_device_get_vfs(dev)), "");
}

static void test_list(struct passthru_pci_list *list)
{
	static const char *const expected[] = {
	    "0000:00:00.0", "0000:00:01.0", "0000:00:1c.0", "0000:01:00.0", "0000:01:00.1",
	    "0000:02:00.0", "0000:02:00.1", "0000:03:00.0", "0000:03:10.0", "0000:03:10.2",
	    "0000:03:10.4", "0000:03:10.6", "0000:04:00.0", "0000:05:00.0", "0000:06:00.0",
	    "0000:07:00.0", "0000:08:00.0", "0000:09:00.0",
	};
	size_t n = sizeof(expected) / sizeof(expected[0]);

	CHECK_INT(passthru_pci_list_count(list), n);
	for (size_t i = 0; i < n && i < passthru_pci_list_count(list); i++)
		CHECK_STR(passthru_pci_device_get_address(passthru_pci_list_get(list, i)),
			  expected[i]);
	CHECK(passthru_pci_list_get(list, n) == NULL);

	/* Every form of an address finds the same device; malformed or absent ones nothing. */
	CHECK(passthru_pci_list_find(list, "03:10.2") == passthru_pci_list_get(list, 9));
	CHECK(passthru_pci_list_find(list, "0000:03:10.2") == passthru_pci_list_get(list, 9));
	CHECK(passthru_pci_list_find(list, "0000:00:1C.0") == passthru_pci_list_get(list, 2));
	CHECK(passthru_pci_list_find(list, "0000:0a:00.0") == NULL);
	CHECK(passthru_pci_list_find(list, "03:10") == NULL);
	CHECK(passthru_pci_list_find(list, NULL) == NULL);
}

static void test_gpu(struct passthru_pci_list *list)
{
	struct passthru_pci_device *gpu = fixture_device(list, "0000:01:00.0");
	struct passthru_pci_device *audio = fixture_device(list, "0000:01:00.1");
	int numa = -2;

	check_identity(gpu, 0x10de, 0x1b06, 0x10de, 0x120f, 0x030000, 0xa1);
	CHECK_STR(passthru_pci_device_get_vendor_name(gpu), "NVIDIA Corporation (fixture)");
	CHECK_STR(passthru_pci_device_get_device_name(gpu),
		  "GP102 [GeForce GTX 1080 Ti] (fixture)");
	CHECK_STR(passthru_pci_device_get_subsystem_name(gpu), "GeForce GTX 1080 Ti (fixture)");
	CHECK_STR(passthru_pci_device_get_class_name(gpu), "VGA compatible controller (fixture)");
	CHECK_STR(passthru_pci_device_get_prog_if_name(gpu), "VGA controller (fixture)");
	CHECK_STR(passthru_pci_device_get_type(gpu), "GPU-VGA");
	CHECK_STR(passthru_pci_device_get_driver(gpu), "vfio-pci");
	CHECK_STR(joined(passthru_pci_device_get_modules(gpu)), "nouveau");
	check_group(gpu, 2, "0000:01:00.0,0000:01:00.1");
	CHECK_INT(passthru_pci_device_get_numa_node(gpu, &numa), 0);
	CHECK_INT(numa, 0);
	CHECK(passthru_pci_device_is_boot_vga(gpu));
	CHECK(!passthru_pci_device_is_bridge(gpu));
	check_not_sriov(gpu);
	CHECK_STR(passthru_pci_device_get_physfn(gpu), NULL);
	CHECK_STR(joined(passthru_pci_device_get_reset_methods(gpu)), "bus");
	check_links(gpu, "2.5 GT/s PCIe", "16", "8.0 GT/s PCIe", "16");
	/* Lazy reads of healthy attributes add no problems. */
	CHECK_STR(joined(passthru_pci_device_get_problems(gpu)), "");

	check_identity(audio, 0x10de, 0x10ef, 0x10de, 0x120f, 0x040300, 0xa1);
	CHECK_STR(passthru_pci_device_get_device_name(audio),
		  "GP102 HDMI Audio Controller (fixture)");
	CHECK_STR(passthru_pci_device_get_class_name(audio), "Audio device (fixture)");
	/* pci.ids has no prog-if 00 for audio devices, and no subsystem 10de:120f for 10ef. */
	CHECK_STR(passthru_pci_device_get_prog_if_name(audio), NULL);
	CHECK_STR(passthru_pci_device_get_subsystem_name(audio), NULL);
	CHECK_STR(passthru_pci_device_get_type(audio), "PCI");
	CHECK_STR(joined(passthru_pci_device_get_modules(audio)), "snd_hda_intel");
	CHECK(!passthru_pci_device_is_boot_vga(audio));
	check_group(audio, 2, "0000:01:00.0,0000:01:00.1");
}

static void test_bridges(struct passthru_pci_list *list)
{
	struct passthru_pci_device *host = fixture_device(list, "0000:00:00.0");
	struct passthru_pci_device *port = fixture_device(list, "0000:00:01.0");
	struct passthru_pci_device *port2 = fixture_device(list, "0000:00:1c.0");
	struct passthru_pci_device *nic = fixture_device(list, "0000:02:00.0");
	struct passthru_pci_device *xhci = fixture_device(list, "0000:02:00.1");
	int numa = -2;

	/* A host bridge is not a bridge a device sits behind; conventional PCI has no link. */
	check_identity(host, 0x8086, 0x3e30, 0x8086, 0x3e30, 0x060000, 0x0d);
	CHECK(!passthru_pci_device_is_bridge(host));
	CHECK_STR(passthru_pci_device_get_class_name(host), "Host bridge (fixture)");
	check_links(host, NULL, NULL, NULL, NULL);
	CHECK_STR(joined(passthru_pci_device_get_reset_methods(host)), "");
	CHECK_STR(passthru_pci_device_get_driver(host), NULL);
	CHECK_STR(joined(passthru_pci_device_get_modules(host)), "");
	check_group(host, 0, "0000:00:00.0");
	CHECK_INT(passthru_pci_device_get_numa_node(host, &numa), 0);
	CHECK_INT(numa, -1);

	/* Root ports: type 1 headers, subsystem ids from the attributes (none: 0000). */
	check_identity(port, 0x8086, 0x1901, 0, 0, 0x060400, 0x0d);
	CHECK(passthru_pci_device_is_bridge(port));
	CHECK_STR(passthru_pci_device_get_class_name(port), "PCI bridge (fixture)");
	CHECK_STR(passthru_pci_device_get_prog_if_name(port), "Normal decode (fixture)");
	/* 0000:0000 is no subsystem: no name, even where a database would offer one. */
	CHECK_STR(passthru_pci_device_get_subsystem_name(port), NULL);
	CHECK_STR(passthru_pci_device_get_driver(port), "pcieport");
	CHECK_STR(joined(passthru_pci_device_get_modules(port)), "");
	CHECK_STR(passthru_pci_device_get_type(port), "PCI");
	check_group(port, 1, "0000:00:01.0");

	/* A group with a bridge and the two functions behind it. */
	check_identity(port2, 0x8086, 0xa110, 0, 0, 0x060400, 0xf0);
	CHECK(passthru_pci_device_is_bridge(port2));
	check_group(port2, 3, "0000:00:1c.0,0000:02:00.0,0000:02:00.1");
	check_identity(nic, 0x10ec, 0x8168, 0x1458, 0xe000, 0x020000, 0x0c);
	CHECK_STR(passthru_pci_device_get_type(nic), "NIC");
	CHECK_STR(passthru_pci_device_get_vendor_name(nic),
		  "Realtek Semiconductor Co., Ltd. (fixture)");
	CHECK_STR(passthru_pci_device_get_subsystem_name(nic), NULL);
	CHECK_STR(passthru_pci_device_get_class_name(nic), "Ethernet controller (fixture)");
	CHECK_STR(joined(passthru_pci_device_get_modules(nic)), "r8169");
	CHECK_STR(passthru_pci_device_get_driver(nic), "r8169");
	check_links(nic, "2.5 GT/s PCIe", "1", "2.5 GT/s PCIe", "1");
	check_group(nic, 3, "0000:00:1c.0,0000:02:00.0,0000:02:00.1");
	check_identity(xhci, 0x1b21, 0x1142, 0x1b21, 0x1142, 0x0c0330, 0);
	/* A vendor pci.ids does not know: no name, never a number. */
	CHECK_STR(passthru_pci_device_get_vendor_name(xhci), NULL);
	CHECK_STR(passthru_pci_device_get_device_name(xhci), NULL);
	CHECK_STR(passthru_pci_device_get_prog_if_name(xhci), "XHCI (fixture)");
	CHECK_STR(joined(passthru_pci_device_get_modules(xhci)), "xhci_pci");
	CHECK_STR(joined(passthru_pci_device_get_reset_methods(xhci)), "");
	check_links(xhci, NULL, NULL, NULL, NULL);
	check_group(xhci, 3, "0000:00:1c.0,0000:02:00.0,0000:02:00.1");
}

static void test_sriov(struct passthru_pci_list *list)
{
	static const char *const vfs[] = {"0000:03:10.0", "0000:03:10.2", "0000:03:10.4",
					  "0000:03:10.6"};
	struct passthru_pci_device *pf = fixture_device(list, "0000:03:00.0");
	unsigned u = 0;
	int numa = -2;

	check_identity(pf, 0x8086, 0x1572, 0x8086, 0x0001, 0x020000, 0x01);
	CHECK_STR(passthru_pci_device_get_subsystem_name(pf),
		  "Ethernet Converged Network Adapter X710-4 (fixture)");
	CHECK_STR(passthru_pci_device_get_type(pf), "NIC");
	CHECK_INT(passthru_pci_device_get_sriov_totalvfs(pf, &u), 0);
	CHECK_INT(u, 64);
	CHECK_INT(passthru_pci_device_get_sriov_numvfs(pf, &u), 0);
	CHECK_INT(u, 4);
	CHECK_STR(joined(passthru_pci_device_get_vfs(pf)),
		  "0000:03:10.0,0000:03:10.2,0000:03:10.4,0000:03:10.6");
	CHECK_STR(passthru_pci_device_get_physfn(pf), NULL);
	CHECK_STR(joined(passthru_pci_device_get_modules(pf)), "i40e");
	CHECK_INT(passthru_pci_device_get_numa_node(pf, &numa), 0);
	CHECK_INT(numa, 1);
	check_group(pf, 4, "0000:03:00.0");
	CHECK_STR(joined(passthru_pci_device_get_reset_methods(pf)), "flr,bus");

	for (size_t i = 0; i < 4; i++) {
		struct passthru_pci_device *vf = fixture_device(list, vfs[i]);
		char members[32];

		/* Config space says ffff:ffff; the ids come from the vendor/device attributes. */
		check_identity(vf, 0x8086, 0x154c, 0x8086, 0x0001, 0x020000, 0x01);
		CHECK_STR(passthru_pci_device_get_physfn(vf), "0000:03:00.0");
		CHECK_STR(passthru_pci_device_get_device_name(vf),
			  "Ethernet Virtual Function 700 Series (fixture)");
		CHECK_STR(passthru_pci_device_get_type(vf), "NIC");
		CHECK_STR(passthru_pci_device_get_driver(vf), i == 1 ? "vfio-pci" : "iavf");
		CHECK_STR(joined(passthru_pci_device_get_modules(vf)), "iavf");
		check_not_sriov(vf);
		snprintf(members, sizeof(members), "%s", vfs[i]);
		check_group(vf, 10 + (int)i, members);
		CHECK_STR(joined(passthru_pci_device_get_reset_methods(vf)), "flr");
		CHECK_INT(passthru_pci_device_get_numa_node(vf, &numa), 0);
		CHECK_INT(numa, 1);
	}
}

static void test_types_and_storage(struct passthru_pci_list *list)
{
	struct passthru_pci_device *nvme = fixture_device(list, "0000:04:00.0");
	struct passthru_pci_device *v100 = fixture_device(list, "0000:05:00.0");
	struct passthru_pci_device *mi100 = fixture_device(list, "0000:06:00.0");
	struct passthru_pci_device *flex = fixture_device(list, "0000:07:00.0");
	struct passthru_pci_device *fpga = fixture_device(list, "0000:08:00.0");
	struct passthru_pci_device *v100b = fixture_device(list, "0000:09:00.0");

	check_identity(nvme, 0x144d, 0xa808, 0x144d, 0xa801, 0x010802, 0);
	CHECK_STR(passthru_pci_device_get_type(nvme), "NVME");
	CHECK_STR(passthru_pci_device_get_class_name(nvme),
		  "Non-Volatile memory controller (fixture)");
	CHECK_STR(passthru_pci_device_get_prog_if_name(nvme), "NVM Express (fixture)");
	CHECK_STR(passthru_pci_device_get_subsystem_name(nvme), "SSD 970 EVO/PRO (fixture)");
	CHECK_STR(joined(passthru_pci_device_get_modules(nvme)), "nvme");
	check_links(nvme, "8.0 GT/s PCIe", "4", "16.0 GT/s PCIe", "4");

	/*
	 * 10de:1db4 has two rules: "ACCEL-ANY 10de:1db4" in 15-any.conf and the more specific
	 * "ACCEL 10de:1db4:10de:1212" in 20-accel.conf. The specific one wins for its
	 * subsystem, the other for any other.
	 */
	check_identity(v100, 0x10de, 0x1db4, 0x10de, 0x1212, 0x030200, 0xa1);
	CHECK_STR(passthru_pci_device_get_type(v100), "ACCEL");
	CHECK_STR(passthru_pci_device_get_class_name(v100), "3D controller (fixture)");
	CHECK_STR(passthru_pci_device_get_driver(v100), NULL);
	CHECK_STR(joined(passthru_pci_device_get_modules(v100)), "nouveau");
	check_identity(v100b, 0x10de, 0x1db4, 0x10de, 0x124d, 0x030200, 0xa1);
	CHECK_STR(passthru_pci_device_get_type(v100b), "ACCEL-ANY");

	/* 0380 is an accelerator for AMD and NVIDIA only. */
	check_identity(mi100, 0x1002, 0x738c, 0x1002, 0x738c, 0x038000, 0x01);
	CHECK_STR(passthru_pci_device_get_type(mi100), "GPU-HPC");
	CHECK_STR(passthru_pci_device_get_class_name(mi100), "Display controller (fixture)");
	CHECK_STR(joined(passthru_pci_device_get_modules(mi100)), "amdgpu");
	check_identity(flex, 0x8086, 0x56c0, 0x8086, 0x56c0, 0x038000, 0x08);
	CHECK_STR(passthru_pci_device_get_type(flex), "PCI");

	/* Custom type by vendor:device; the module comes from the root's own modprobe.d alias. */
	check_identity(fpga, 0x10ee, 0x7038, 0x10ee, 0x7038, 0x058000, 0);
	CHECK_STR(passthru_pci_device_get_type(fpga), "FPGA");
	CHECK_STR(passthru_pci_device_get_vendor_name(fpga), "Xilinx Corporation (fixture)");
	CHECK_STR(passthru_pci_device_get_device_name(fpga), NULL);
	/* Unknown subclass 80 of a known base class: the base class name. */
	CHECK_STR(passthru_pci_device_get_class_name(fpga), "Memory controller (fixture)");
	CHECK_STR(joined(passthru_pci_device_get_modules(fpga)), "xdma");
}

/* passthru_pci_device_new() reads sysfs for what a scan derives from its list. */
static void test_device_new(struct passthru_ctx *ctx, struct passthru_pci_list *list)
{
	struct passthru_pci_device *dev = NULL;
	unsigned u = 0;

	CHECK_INT(passthru_pci_device_new(ctx, "03:00.0", &dev), 0);
	if (dev) {
		CHECK_STR(passthru_pci_device_get_address(dev), "0000:03:00.0");
		CHECK(dev != passthru_pci_list_find(list, "03:00.0"));
		check_identity(dev, 0x8086, 0x1572, 0x8086, 0x0001, 0x020000, 0x01);
		CHECK_STR(joined(passthru_pci_device_get_vfs(dev)),
			  "0000:03:10.0,0000:03:10.2,0000:03:10.4,0000:03:10.6");
		CHECK_INT(passthru_pci_device_get_sriov_numvfs(dev, &u), 0);
		CHECK_INT(u, 4);
		check_group(dev, 4, "0000:03:00.0");
		CHECK_STR(passthru_pci_device_get_driver(dev), "i40e");
		CHECK(passthru_pci_device_ref(dev) == dev);
		passthru_pci_device_unref(dev);
		passthru_pci_device_unref(dev);
	}
	dev = NULL;
	CHECK_INT(passthru_pci_device_new(ctx, "0000:02:00.1", &dev), 0);
	if (dev) {
		check_group(dev, 3, "0000:00:1c.0,0000:02:00.0,0000:02:00.1");
		passthru_pci_device_unref(dev);
	}
	dev = NULL;
	CHECK_INT(passthru_pci_device_new(ctx, "0000:03:10.6", &dev), 0);
	if (dev) {
		check_identity(dev, 0x8086, 0x154c, 0x8086, 0x0001, 0x020000, 0x01);
		CHECK_STR(passthru_pci_device_get_physfn(dev), "0000:03:00.0");
		CHECK_STR(joined(passthru_pci_device_get_vfs(dev)), "");
		passthru_pci_device_unref(dev);
	}

	dev = NULL;
	CHECK_INT(passthru_pci_device_new(ctx, "0000:0a:00.0", &dev), -ENODEV);
	CHECK_INT(passthru_pci_device_new(ctx, "0000:03:10.8", &dev), -EINVAL);
	CHECK_INT(passthru_pci_device_new(ctx, "../../..", &dev), -EINVAL);
	CHECK(dev == NULL);
}

/* A device kept past its list falls back to sysfs for what it used to take from the list. */
static void test_outlives_list(struct passthru_ctx *ctx)
{
	struct passthru_pci_list *list = NULL;
	struct passthru_pci_device *pf, *gpu;

	CHECK_INT(passthru_pci_scan(ctx, &list), 0);
	if (!list)
		return;
	pf = passthru_pci_device_ref(passthru_pci_list_find(list, "0000:03:00.0"));
	gpu = passthru_pci_device_ref(passthru_pci_list_find(list, "0000:01:00.1"));
	CHECK(passthru_pci_list_ref(list) == list);
	passthru_pci_list_unref(list);
	passthru_pci_list_unref(list);
	CHECK_STR(joined(passthru_pci_device_get_vfs(pf)),
		  "0000:03:10.0,0000:03:10.2,0000:03:10.4,0000:03:10.6");
	check_group(gpu, 2, "0000:01:00.0,0000:01:00.1");
	passthru_pci_device_unref(pf);
	passthru_pci_device_unref(gpu);
}

int main(void)
{
	char *root = fixture_root(fixtures_dir(), "host.json");
	struct passthru_ctx *ctx = fixture_ctx(root);
	struct passthru_pci_list *list = NULL;

	CHECK_INT(passthru_pci_scan(ctx, &list), 0);
	if (!list)
		TEST_DONE();
	test_list(list);
	test_gpu(list);
	test_bridges(list);
	test_sriov(list);
	test_types_and_storage(list);
	test_device_new(ctx, list);
	passthru_pci_list_unref(list);
	test_outlives_list(ctx);
	CHECK(passthru_pci_list_unref(NULL) == NULL);
	CHECK(passthru_pci_device_unref(NULL) == NULL);
	CHECK_INT(passthru_pci_list_count(NULL), 0);
	passthru_ctx_unref(ctx);
	free(root);
	TEST_DONE();
}
