/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCI internals shared by the files of lib/. */
#pragma once

#include "internal.h"

/* Length of the short form "BB:DD.F" (domain 0) without its NUL. */
#define PCI_ADDRESS_SHORT_LEN 7

/*
 * The fields of an address in the forms passthru_pci_address_parse() accepts. -EINVAL for
 * anything else.
 */
int pci_address_parse_fields(const char *text, unsigned *ret_domain, unsigned *ret_bus,
			     unsigned *ret_dev, unsigned *ret_fn);

/*
 * Orders canonical addresses by their numbers, like strcmp(). The kernel's names of
 * domains from 0x10000 up are longer and have no leading zero: longer is greater.
 */
int pci_address_compare(const char *a, const char *b);

/* Whether two canonical addresses are functions of one slot (equal up to the function). */
bool pci_address_same_slot(const char *a, const char *b);

/*
 * Copies a canonical address into a buffer of PASSTHRU_PCI_ADDRESS_LEN + 1, whatever the size
 * of the string it comes from (a 12-character address may sit in a buffer of its own size).
 */
static inline void pci_address_copy(char dst[static PASSTHRU_PCI_ADDRESS_LEN + 1], const char *src)
{
	size_t n = strnlen(src, PASSTHRU_PCI_ADDRESS_LEN);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * The one rule for what may go to vfio-pci: endpoints. Returns what the function is instead
 * ("a bridge", "a host bridge", "the IOMMU"...), a static string, or NULL for an endpoint.
 * A function whose class and header type cannot be read is not taken for an endpoint.
 */
const char *pci_device_non_endpoint(struct passthru_pci_device *dev);

/* The context dev belongs to. */
struct passthru_ctx *pci_device_get_ctx(struct passthru_pci_device *dev);

/*
 * The devices of dev's IOMMU group in the scan dev came from, sorted by address: borrowed from
 * the scan's group index, valid while the scan lives. -ENOENT when dev is of no scan (or the scan
 * is gone) or in no group.
 */
int pci_device_scan_group(struct passthru_pci_device *dev, struct passthru_pci_device *const **ret,
			  size_t *ret_n);

/*
 * The addresses of the members of IOMMU group number, from its devices directory, sorted; NULL
 * when it is empty. A member that vanished (its link dangles) is left out. Fails as opening
 * the directory fails (-ENOENT: no such group).
 */
int pci_iommu_group_addresses(struct passthru_ctx *ctx, int group, char ***ret);

/*
 * The PCI addresses in target, the link of /sys/bus/pci/devices/<address>
 * ("../../../devices/pci0000:00/0000:00:1c.0/0000:02:00.0"), other than address itself: the
 * bridges above the function, nearest first (iommu-group.c). The parser of the next function.
 */
int pci_path_bridges(const char *target, const char *address, char ***ret);

/*
 * The PCI addresses of the bridges above a function, nearest first, from its sysfs path
 * (iommu-group.c). -ENOENT when the function is gone, -EINVAL when its entry is not a link.
 */
int pci_upstream_bridges(struct passthru_ctx *ctx, const char *address, char ***ret);

/*
 * The ACS capability and control registers of a function, from its config space (iommu-group.c):
 * 0, -ENOENT without an ACS capability, -ENODATA when the extended config space is not readable.
 */
int pci_function_acs(struct passthru_ctx *ctx, const char *address, uint16_t *ret_cap,
		     uint16_t *ret_ctrl);

/* Whether ACS with these registers isolates the functions below it: what the kernel wants. */
bool pci_acs_isolates(uint16_t cap, uint16_t ctrl);
