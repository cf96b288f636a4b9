/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The body of POST /v1/allocations, parsed and checked apart from any I/O (fuzz/fuzz-passthrud-
 * request.c drives it). Two forms:
 *     {"owner": "vm-a", "devices": ["0000:02:00.0", "03:00.0"]}
 *     {"owner": "vm-a", "type": "NIC", "count": 1, "numa_node": 1}
 * A selector may also name "vendor_id" and "device_id" (4 hex digits each, as /v1/devices
 * shows them). Unknown keys are refused: a misspelt "numa-node" must not widen a selector.
 * "devices" may also name USB devices by port path ("1-2.3") and serial ports ("/dev/ttyS1" or
 * "ttyS1"), as GET /v1/devices shows them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "passthru.h"

#define ALLOC_OWNER_MAX	  64
#define ALLOC_DEVICES_MAX 64
#define ALLOC_COUNT_MAX	  64
#define ALLOC_BODY_MAX	  65536

/* The longest device address: "/dev/" and a tty name, or a USB port path seven hubs deep. */
#define DEVICE_ADDRESS_MAX 40

enum device_kind {
	DEVICE_PCI,
	DEVICE_USB,    /* by port path, "1-2.3"; "usb1" for a root hub */
	DEVICE_SERIAL, /* by its node, "/dev/ttyS1" */
};

/*
 * The canonical address of a device as a user names it: a PCI address in any form the library
 * takes ("02:00.0" -> "0000:02:00.0"), a USB port path, a tty ("ttyS1" -> "/dev/ttyS1"). Returns
 * the kind, or -EINVAL. ret holds DEVICE_ADDRESS_MAX + 1 bytes.
 */
int device_address_canonical(const char *s, char *ret);

struct alloc_request {
	char *owner;
	/* By address: canonical addresses, without duplicates; n_devices 0 for a selector. */
	char (*devices)[DEVICE_ADDRESS_MAX + 1];
	size_t n_devices;
	/* A selector: NULL type means any; -1 any vendor, device or NUMA node. */
	char *type;
	unsigned count;
	int vendor_id, device_id, numa_node;
};

/* True for an owner name the service accepts: 1-64 of [A-Za-z0-9._:@-], starting with an
 * alphanumeric. */
bool alloc_owner_is_valid(const char *owner);

/*
 * Parses body (len bytes, not NUL-terminated). Returns 0, -EINVAL with *ret_error a one-line
 * explanation (static) for a body the service refuses, -ENOMEM.
 */
int alloc_request_parse(const char *body, size_t len, struct alloc_request *ret,
			const char **ret_error);
void alloc_request_done(struct alloc_request *req);
