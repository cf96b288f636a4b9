/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host paths as strings. */
#include <string.h>

#include "path.h"

bool path_is_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}
