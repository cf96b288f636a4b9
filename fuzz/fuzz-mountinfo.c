/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /proc/self/mountinfo, and /proc/mounts (its fallback) on the same input. Beyond not
 * crashing: an accepted table has absolute, unescaped mount points, a type and a source for
 * every mount (device 0:0 from /proc/mounts), and a refused one says which line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mount_table t = {0};
	size_t bad = 0, lines = 1;
	char *text;
	int r;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (const char *p = text; (p = strchr(p, '\n')); p++)
		lines++;

	r = mountinfo_parse(text, &t, &bad);
	if (r == 0) {
		for (size_t i = 0; i < t.n; i++)
			if (t.v[i].mount_point[0] != '/' || !t.v[i].fstype[0] ||
			    !t.v[i].source[0] || t.v[i].major > 0xfff || t.v[i].minor > 0xfffff)
				abort();
		mount_table_done(&t);
	} else if (r != -EBADMSG || bad == 0 || bad > lines || t.n != 0) {
		abort();
	}

	bad = 0;
	r = proc_mounts_parse(text, &t, &bad);
	if (r == 0) {
		for (size_t i = 0; i < t.n; i++)
			if (t.v[i].mount_point[0] != '/' || !t.v[i].fstype[0] ||
			    !t.v[i].source[0] || t.v[i].major != 0 || t.v[i].minor != 0)
				abort();
		mount_table_done(&t);
	} else if (r != -EBADMSG || bad == 0 || bad > lines || t.n != 0) {
		abort();
	}
	free(text);
	return 0;
}
