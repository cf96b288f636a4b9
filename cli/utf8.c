/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cleaning host strings for JSON and for the terminal. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

size_t utf8_char_length(const unsigned char *s)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	/* A NUL is no continuation byte: the scan never passes the end of the string. */
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF are not UTF-8. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

char *utf8_make_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t out = 0;
	char *fixed;

	/* Each bad byte becomes the 3 bytes of U+FFFD. */
	fixed = malloc(strlen(s) * 3 + 1);
	if (!fixed)
		return NULL;
	while (*p) {
		size_t n = utf8_char_length(p);

		if (n == 0) {
			memcpy(fixed + out, "\xef\xbf\xbd", 3);
			out += 3;
			p++;
			continue;
		}
		memcpy(fixed + out, p, n);
		out += n;
		p += n;
	}
	fixed[out] = '\0';
	return fixed;
}

char *utf8_escape_controls(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t out = 0;
	char *escaped;

	/* Each escaped byte becomes the 4 bytes of \xHH. */
	escaped = malloc(strlen(s) * 4 + 1);
	if (!escaped)
		return NULL;
	while (*p) {
		size_t n = utf8_char_length(p), bad = 0;

		if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f)))
			bad = 1;
		else if (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)
			bad = 2; /* U+0080..U+009F, the C1 controls (0x9b is a CSI) */
		if (bad) {
			for (size_t i = 0; i < bad; i++)
				out += (size_t)sprintf(escaped + out, "\\x%02x", p[i]);
			p += bad;
			continue;
		}
		memcpy(escaped + out, p, n);
		out += n;
		p += n;
	}
	escaped[out] = '\0';
	return escaped;
}
