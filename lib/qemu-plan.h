/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private to lib/: the parts of the VM device planning (qemu-plan.c) that hot-plug
 * (qemu-hotplug.c) plans with again against the running VM.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "qemu.h"

/* One endpoint of a named PCI device's IOMMU group. */
struct endpoint {
	char *address;
	char *driver;
	uint32_t pci_class;
};

/*
 * The endpoints of the group of a named device (the device itself included), sorted by
 * address, with their drivers. Members that vanish while we look are left out.
 */
int vm_group_endpoints(struct passthru_pci_device *dev, struct endpoint **ret, size_t *ret_n);
void vm_endpoints_free(struct endpoint *v, size_t n);

/* Puts d on bus at "slot.function" addr (either NULL: QEMU chooses). */
int guest_device_set_placement(struct guest_device *d, const char *bus, const char *addr);
