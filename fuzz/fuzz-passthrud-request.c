/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthrud's POST /v1/allocations body (daemon/request.c). Beyond not crashing: a body that is
 * accepted has a valid owner and exactly one form, by address (canonical, distinct addresses,
 * 1 to 64 of them) or a selector (count 1 to 64, a type or a vendor); a refused body always
 * comes with a reason.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct alloc_request req;
	const char *err = NULL;
	int r;

	if (size > ALLOC_BODY_MAX + 16)
		return 0;
	r = alloc_request_parse((const char *)data, size, &req, &err);
	if (r == -ENOMEM)
		return 0;
	if (r < 0) {
		if (r != -EINVAL || !err || !*err)
			abort();
		return 0;
	}
	if (!req.owner || !alloc_owner_is_valid(req.owner))
		abort();
	if (req.n_devices > 0) {
		if (req.n_devices > ALLOC_DEVICES_MAX || req.type || req.count != 0 ||
		    req.numa_node != -1 || req.vendor_id != -1 || req.device_id != -1)
			abort();
		for (size_t i = 0; i < req.n_devices; i++) {
			char again[DEVICE_ADDRESS_MAX + 1];

			if (device_address_canonical(req.devices[i], again) < 0 ||
			    strcmp(again, req.devices[i]) != 0)
				abort();
			for (size_t j = 0; j < i; j++)
				if (strcmp(req.devices[i], req.devices[j]) == 0)
					abort();
		}
	} else {
		if (req.count < 1 || req.count > ALLOC_COUNT_MAX || (!req.type && req.vendor_id < 0) ||
		    (req.device_id >= 0 && req.vendor_id < 0) || req.vendor_id > 0xffff ||
		    req.device_id > 0xffff || req.numa_node < -1)
			abort();
		if (req.type && (strlen(req.type) == 0 || strlen(req.type) > PASSTHRU_TYPE_NAME_MAX))
			abort();
	}
	alloc_request_done(&req);
	return 0;
}
