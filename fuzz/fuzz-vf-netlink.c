/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The parser of a PF driver's VF report (the RTM_NEWLINK answer to RTM_GETLINK with
 * RTEXT_FILTER_VF). Beyond not crashing or reading past the message: the VFs come out sorted,
 * with settings in range.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vf-netlink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vf_report *v = NULL;
	size_t n = 0;
	void *msg;

	if (size > 65536)
		return 0;
	/* Netlink messages arrive 4-byte aligned; give the parser an exact-size copy. */
	msg = malloc(size ? size : 1);
	if (!msg)
		return 0;
	memcpy(msg, data, size);
	if (vf_netlink_parse_link(msg, size, &v, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (i > 0 && v[i].vf < v[i - 1].vf)
				abort();
			if (v[i].has_mac && strlen(v[i].mac) != 17)
				abort();
			if (v[i].has_link_state && v[i].link_state > 2)
				abort();
		}
		free(v);
	}
	free(msg);
	return 0;
}
