/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Strings from the host (USB descriptors, sysfs attributes) are bytes, not text: they are
 * cleaned before they go into JSON, which must be UTF-8, or onto a terminal.
 */
#pragma once

#include <stddef.h>

/* Length of the well-formed UTF-8 character s starts with; 0 when it starts none. */
size_t utf8_char_length(const unsigned char *s);

/* A copy of s with each byte that does not start a well-formed character replaced by U+FFFD. */
char *utf8_make_valid(const char *s);

/*
 * A copy of s that cannot drive a terminal or break a line: bytes that are not UTF-8, C0 and
 * C1 control characters and DEL become \xHH, as libsmartcols writes them in tables.
 */
char *utf8_escape_controls(const char *s);
