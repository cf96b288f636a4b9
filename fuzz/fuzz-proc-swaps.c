/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /proc/swaps. Beyond not crashing: every accepted area has an absolute path, and a refused
 * table says which line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct swap_table t = {0};
	size_t bad = 0;
	char *text;
	int r;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	r = swaps_parse(text, &t, &bad);
	if (r == 0) {
		for (size_t i = 0; i < t.n; i++)
			if (t.v[i].path[0] != '/')
				abort();
		swap_table_done(&t);
	} else if (r != -EBADMSG || bad == 0 || t.n != 0) {
		abort();
	}
	free(text);
	return 0;
}
