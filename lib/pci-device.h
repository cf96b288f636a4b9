/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to the PCI inventory (pci.c, pci-read.c, pci-scan.c): the insides of the device
 * and list objects, and the readers the lazy getters share with the scan.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

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
/* pci-read.c                                                                                 */

/* A line for passthru_pci_device_get_problems(). */
_printf_(2, 3) void pci_add_problem(struct passthru_pci_device *dev, const char *format, ...);
void pci_problem_invalid(struct passthru_pci_device *dev, const char *name, const char *value);
void pci_problem_read(struct passthru_pci_device *dev, const char *name, int r);

/* Attributes relative to the device directory dfd. */
int pci_read_attr(int dfd, const char *name, char **ret);
int pci_read_hex(struct passthru_pci_device *dev, int dfd, const char *name, uint64_t max,
		 bool may_be_absent, uint64_t *ret);
int pci_read_long(struct passthru_pci_device *dev, int dfd, const char *name, long min, long max,
		  long *ret);
int pci_read_address_link(struct passthru_pci_device *dev, int dfd, const char *name,
			  char ret[PASSTHRU_PCI_ADDRESS_LEN + 1]);
bool pci_is_token(const char *s);
bool pci_is_printable(const char *s);
/* The canonical address of a function the kernel names (a sysfs entry or link). */
int pci_address_from_kernel(const char *name, char ret[PASSTHRU_PCI_ADDRESS_LEN + 1]);
/* The device's directory, for attributes read after the scan. */
int pci_device_open_dir(struct passthru_pci_device *dev);

/* qsort() comparators: strings, canonical addresses, ints. */
int pci_cmp_string(const void *a, const void *b);
int pci_cmp_address(const void *a, const void *b);
int pci_cmp_int(const void *a, const void *b);

/* A new device for address read through dfd, its directory; scan is NULL outside a scan. */
int pci_device_read(struct passthru_ctx *ctx, int dfd, const char *address,
		    const struct scan_state *scan, struct passthru_pci_device **ret);
