/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The body of POST /v1/allocations, parsed and checked apart from any I/O (fuzz/fuzz-passthrud-
 * request.c drives it). Two forms:
 *     {"owner": "vm-a", "devices": ["0000:02:00.0", "03:00.0"]}
 *     {"owner": "vm-a", "type": "NIC", "count": 1, "numa_node": 1}
 * A selector may also name "vendor_id" and "device_id" (4 hex digits each, as /v1/devices
 * shows them). Unknown keys are refused: a misspelt "numa-node" must not widen a selector.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "passthru.h"

#define ALLOC_OWNER_MAX	  64
#define ALLOC_DEVICES_MAX 64
#define ALLOC_COUNT_MAX	  64
#define ALLOC_BODY_MAX	  65536

struct alloc_request {
	char *owner;
	/* By address: canonical addresses, without duplicates; n_devices 0 for a selector. */
	char (*devices)[PASSTHRU_PCI_ADDRESS_LEN + 1];
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
