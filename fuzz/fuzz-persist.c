/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /etc/passthru/bindings.conf. Beyond not crashing: what parses formats to a file that parses
 * to the same wishes (addresses, identities, host drivers, force).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "persist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct persist_entry *e = NULL, *e2 = NULL;
	size_t n = 0, n2 = 0;
	unsigned line = 0;
	char *out = NULL;

	if (size > 65536)
		return 0;
	if (persist_parse((const char *)data, size, &e, &n, &line) < 0) {
		if (line == 0)
			abort();
		return 0;
	}
	if (persist_format(e, n, &out) < 0)
		abort();
	if (persist_parse(out, strlen(out), &e2, &n2, NULL) < 0 || n2 != n)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (strcmp(e[i].address, e2[i].address) != 0 || strcmp(e[i].id, e2[i].id) != 0 ||
		    e[i].force != e2[i].force ||
		    (e[i].host_driver
			 ? !e2[i].host_driver || strcmp(e[i].host_driver, e2[i].host_driver) != 0
			 : e2[i].host_driver != NULL))
			abort();
	}
	free(out);
	persist_entries_free(e, n);
	persist_entries_free(e2, n2);
	return 0;
}
