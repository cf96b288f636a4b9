/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The columns of PCI functions. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "columns.h"
#include "macro.h"
#include "parse.h"

enum {
	COL_ADDRESS,
	COL_VENDOR_ID,
	COL_DEVICE_ID,
	COL_SUBSYSTEM_VENDOR_ID,
	COL_SUBSYSTEM_DEVICE_ID,
	COL_REVISION,
	COL_VENDOR_NAME,
	COL_DEVICE_NAME,
	COL_SUBSYSTEM_NAME,
	COL_CLASS,
	COL_CLASS_NAME,
	COL_PROG_IF_NAME,
	COL_TYPE,
	COL_DRIVER,
	COL_MODULES,
	COL_IOMMU_GROUP,
	COL_GROUP_MEMBERS,
	COL_NUMA_NODE,
	COL_BOOT_VGA,
	COL_BRIDGE,
	COL_PHYSFN,
	COL_VFS,
	COL_SRIOV_TOTALVFS,
	COL_SRIOV_NUMVFS,
	COL_RESET_METHODS,
	COL_LINK_SPEED,
	COL_LINK_WIDTH,
	COL_MAX_LINK_SPEED,
	COL_MAX_LINK_WIDTH,
	COL_PROBLEMS,
	COL_ID,
	COL_NAME,
};

/*
 * Every column but the table conveniences ID and NAME, and the details below that cost extra
 * reads per function (SR-IOV counts, reset methods, PCIe link), is part of the stable JSON set
 * of `list --json`. The details come with -o or --output-all, and always in `show --json`.
 */
static const struct column_info infos[] = {
    [COL_ADDRESS] = {"ADDRESS", 12, 0, VALUE_STRING, true, "PCI address, DDDD:BB:DD.F"},
    [COL_VENDOR_ID] = {"VENDOR_ID", 4, 0, VALUE_STRING, true, "vendor ID, 4 hex digits"},
    [COL_DEVICE_ID] = {"DEVICE_ID", 4, 0, VALUE_STRING, true, "device ID, 4 hex digits"},
    [COL_SUBSYSTEM_VENDOR_ID] = {"SUBSYSTEM_VENDOR_ID", 4, 0, VALUE_STRING, true,
				 "subsystem vendor ID, 4 hex digits"},
    [COL_SUBSYSTEM_DEVICE_ID] = {"SUBSYSTEM_DEVICE_ID", 4, 0, VALUE_STRING, true,
				 "subsystem device ID, 4 hex digits"},
    [COL_REVISION] = {"REVISION", 2, 0, VALUE_STRING, true, "revision, 2 hex digits"},
    [COL_VENDOR_NAME] = {"VENDOR_NAME", 0.2, SCOLS_FL_TRUNC, VALUE_STRING, true,
			 "vendor name from pci.ids"},
    [COL_DEVICE_NAME] = {"DEVICE_NAME", 0.3, SCOLS_FL_TRUNC, VALUE_STRING, true,
			 "device name from pci.ids"},
    [COL_SUBSYSTEM_NAME] = {"SUBSYSTEM_NAME", 0.2, SCOLS_FL_TRUNC, VALUE_STRING, true,
			    "subsystem name from pci.ids"},
    [COL_CLASS] = {"CLASS", 6, 0, VALUE_STRING, true,
		   "class code, 6 hex digits: class, subclass, programming interface"},
    [COL_CLASS_NAME] = {"CLASS_NAME", 0.2, SCOLS_FL_TRUNC, VALUE_STRING, true,
			"class name (the subclass's when known)"},
    [COL_PROG_IF_NAME] = {"PROG_IF_NAME", 0.1, SCOLS_FL_TRUNC, VALUE_STRING, true,
			  "programming interface name"},
    [COL_TYPE] = {"TYPE", 7, 0, VALUE_STRING, true,
		  "passthrough type: GPU-VGA, GPU-HPC, NIC, NVME, PCI or a custom type"},
    [COL_DRIVER] = {"DRIVER", 8, 0, VALUE_STRING, true, "bound driver"},
    [COL_MODULES] = {"MODULES", 0.1, 0, VALUE_STRV, true,
		     "kernel modules able to drive the device"},
    [COL_IOMMU_GROUP] = {"IOMMU_GROUP", 3, SCOLS_FL_RIGHT, VALUE_NUMBER, true,
			 "IOMMU group number"},
    [COL_GROUP_MEMBERS] = {"GROUP_MEMBERS", 0.2, 0, VALUE_STRV, true,
			   "every function of the IOMMU group, this one included"},
    [COL_NUMA_NODE] = {"NUMA_NODE", 2, SCOLS_FL_RIGHT, VALUE_NUMBER, true,
		       "NUMA node, -1 for none"},
    [COL_BOOT_VGA] = {"BOOT_VGA", 3, 0, VALUE_BOOL, true, "the firmware's boot display device"},
    [COL_BRIDGE] = {"BRIDGE", 3, 0, VALUE_BOOL, true, "a PCI bridge"},
    [COL_PHYSFN] = {"PHYSFN", 12, 0, VALUE_STRING, true, "physical function of an SR-IOV VF"},
    [COL_VFS] = {"VFS", 0.2, 0, VALUE_STRV, true, "current virtual functions of an SR-IOV PF"},
    [COL_SRIOV_TOTALVFS] = {"SRIOV_TOTALVFS", 3, SCOLS_FL_RIGHT, VALUE_NUMBER, false,
			    "VFs an SR-IOV PF supports"},
    [COL_SRIOV_NUMVFS] = {"SRIOV_NUMVFS", 3, SCOLS_FL_RIGHT, VALUE_NUMBER, false,
			  "VFs an SR-IOV PF has enabled"},
    [COL_RESET_METHODS] = {"RESET_METHODS", 0.1, 0, VALUE_STRV, false,
			   "reset methods the kernel offers"},
    [COL_LINK_SPEED] = {"LINK_SPEED", 0.1, 0, VALUE_STRING, false, "current PCIe link speed"},
    [COL_LINK_WIDTH] = {"LINK_WIDTH", 2, SCOLS_FL_RIGHT, VALUE_NUMBER, false,
			"current PCIe link width (lanes)"},
    [COL_MAX_LINK_SPEED] = {"MAX_LINK_SPEED", 0.1, 0, VALUE_STRING, false,
			    "maximum PCIe link speed"},
    [COL_MAX_LINK_WIDTH] = {"MAX_LINK_WIDTH", 2, SCOLS_FL_RIGHT, VALUE_NUMBER, false,
			    "maximum PCIe link width (lanes)"},
    [COL_PROBLEMS] = {"PROBLEMS", 0.2, SCOLS_FL_TRUNC, VALUE_STRV, true,
		      "attributes that could not be read"},
    [COL_ID] = {"ID", 9, 0, VALUE_STRING, false, "vendor:device IDs"},
    [COL_NAME] = {"NAME", 0.4, SCOLS_FL_TRUNC, VALUE_STRING, false, "vendor and device names"},
};

static const size_t defaults[] = {
    COL_ADDRESS, COL_TYPE, COL_ID, COL_NAME, COL_DRIVER, COL_IOMMU_GROUP,
};

static int hex16(struct value *v, int (*get)(struct passthru_pci_device *, uint16_t *),
		 struct passthru_pci_device *dev)
{
	uint16_t id;

	if (get(dev, &id) < 0)
		return 0;
	return value_set_printf(v, "%04x", id);
}

/* "16" -> 16; anything else stays unknown. */
static void link_width(struct value *v, const char *s)
{
	long n;

	if (s && parse_long(s, 0, 64, &n) >= 0)
		value_set_number(v, n);
}

static int name(struct value *v, struct passthru_pci_device *dev)
{
	const char *vendor = passthru_pci_device_get_vendor_name(dev);
	const char *device = passthru_pci_device_get_device_name(dev);
	uint16_t vid = 0, did = 0;
	bool have_vid = passthru_pci_device_get_vendor_id(dev, &vid) >= 0;
	bool have_did = passthru_pci_device_get_device_id(dev, &did) >= 0;

	/* As lspci does: a name that pci.ids lacks is shown as its number. */
	if (vendor && device)
		return value_set_printf(v, "%s %s", vendor, device);
	if (vendor && have_did)
		return value_set_printf(v, "%s Device %04x", vendor, did);
	if (vendor)
		return value_set_string(v, vendor);
	if (have_vid && have_did)
		return value_set_printf(v, "Device %04x:%04x", vid, did);
	return 0;
}

_Static_assert(ELEMENTSOF(infos) <= COLUMNS_MAX, "a column set holds every column");

static int get(void *device, size_t column, struct value *v)
{
	struct passthru_pci_device *dev = device;
	uint32_t class;
	uint8_t rev;
	uint16_t vid, did;
	unsigned u;
	int n;

	switch (column) {
	case COL_ADDRESS:
		return value_set_string(v, passthru_pci_device_get_address(dev));
	case COL_VENDOR_ID:
		return hex16(v, passthru_pci_device_get_vendor_id, dev);
	case COL_DEVICE_ID:
		return hex16(v, passthru_pci_device_get_device_id, dev);
	case COL_SUBSYSTEM_VENDOR_ID:
		return hex16(v, passthru_pci_device_get_subsystem_vendor_id, dev);
	case COL_SUBSYSTEM_DEVICE_ID:
		return hex16(v, passthru_pci_device_get_subsystem_device_id, dev);
	case COL_REVISION:
		if (passthru_pci_device_get_revision(dev, &rev) < 0)
			return 0;
		return value_set_printf(v, "%02x", rev);
	case COL_VENDOR_NAME:
		return value_set_string(v, passthru_pci_device_get_vendor_name(dev));
	case COL_DEVICE_NAME:
		return value_set_string(v, passthru_pci_device_get_device_name(dev));
	case COL_SUBSYSTEM_NAME:
		return value_set_string(v, passthru_pci_device_get_subsystem_name(dev));
	case COL_CLASS:
		if (passthru_pci_device_get_class(dev, &class) < 0)
			return 0;
		return value_set_printf(v, "%06x", class & 0xffffff);
	case COL_CLASS_NAME:
		return value_set_string(v, passthru_pci_device_get_class_name(dev));
	case COL_PROG_IF_NAME:
		return value_set_string(v, passthru_pci_device_get_prog_if_name(dev));
	case COL_TYPE:
		return value_set_string(v, passthru_pci_device_get_type(dev));
	case COL_DRIVER:
		return value_set_string(v, passthru_pci_device_get_driver(dev));
	case COL_MODULES:
		value_set_strv(v, passthru_pci_device_get_modules(dev));
		return 0;
	case COL_IOMMU_GROUP:
		if (passthru_pci_device_get_iommu_group(dev, &n) >= 0)
			value_set_number(v, n);
		return 0;
	case COL_GROUP_MEMBERS:
		value_set_strv(v, passthru_pci_device_get_iommu_group_members(dev));
		return 0;
	case COL_NUMA_NODE:
		if (passthru_pci_device_get_numa_node(dev, &n) >= 0)
			value_set_number(v, n);
		return 0;
	case COL_BOOT_VGA:
		value_set_bool(v, passthru_pci_device_is_boot_vga(dev));
		return 0;
	case COL_BRIDGE:
		value_set_bool(v, passthru_pci_device_is_bridge(dev));
		return 0;
	case COL_PHYSFN:
		return value_set_string(v, passthru_pci_device_get_physfn(dev));
	case COL_VFS:
		value_set_strv(v, passthru_pci_device_get_vfs(dev));
		return 0;
	case COL_SRIOV_TOTALVFS:
		if (passthru_pci_device_get_sriov_totalvfs(dev, &u) >= 0)
			value_set_number(v, u);
		return 0;
	case COL_SRIOV_NUMVFS:
		if (passthru_pci_device_get_sriov_numvfs(dev, &u) >= 0)
			value_set_number(v, u);
		return 0;
	case COL_RESET_METHODS:
		value_set_strv(v, passthru_pci_device_get_reset_methods(dev));
		return 0;
	case COL_LINK_SPEED:
		return value_set_string(v, passthru_pci_device_get_current_link_speed(dev));
	case COL_LINK_WIDTH:
		link_width(v, passthru_pci_device_get_current_link_width(dev));
		return 0;
	case COL_MAX_LINK_SPEED:
		return value_set_string(v, passthru_pci_device_get_max_link_speed(dev));
	case COL_MAX_LINK_WIDTH:
		link_width(v, passthru_pci_device_get_max_link_width(dev));
		return 0;
	case COL_PROBLEMS:
		value_set_strv(v, passthru_pci_device_get_problems(dev));
		return 0;
	case COL_ID:
		if (passthru_pci_device_get_vendor_id(dev, &vid) < 0 ||
		    passthru_pci_device_get_device_id(dev, &did) < 0)
			return 0;
		return value_set_printf(v, "%04x:%04x", vid, did);
	case COL_NAME:
		return name(v, dev);
	}
	return 0;
}

const struct column_class pci_columns = {
    .name = "pci",
    .title = "PCI devices",
    .scan_dir = "/sys/bus/pci/devices",
    .infos = infos,
    .n_infos = ELEMENTSOF(infos),
    .defaults = defaults,
    .n_defaults = ELEMENTSOF(defaults),
    .get = get,
};
