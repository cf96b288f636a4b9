/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host paths as strings. */
#pragma once

#include <stdbool.h>

/* True when path is dir or lies below it ("/a/b" is below "/a", "/ab" is not). */
bool path_is_below(const char *path, const char *dir);
