/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The CLI's cleaning of host strings (cli/utf8.c). Beyond not crashing: utf8_make_valid()
 * gives well-formed UTF-8 that keeps every valid character of the input, and
 * utf8_escape_controls() gives well-formed UTF-8 without a single control character, which
 * turns back into the input when the escapes are undone.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz-cli-utf8: %s\n", what);
		abort();
	}
}

static int is_valid(const char *s, int allow_controls)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n = utf8_char_length(p);

		if (n == 0)
			return 0;
		if (!allow_controls && ((n == 1 && (*p < 0x20 || *p == 0x7f)) ||
					(n == 2 && p[0] == 0xc2 && p[1] < 0xa0)))
			return 0;
		p += n;
	}
	return 1;
}

static int hex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *valid, *escaped, *back;
	size_t out = 0;

	if (size > 65536)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	valid = utf8_make_valid(s);
	check(valid != NULL, "utf8_make_valid failed");
	check(is_valid(valid, 1), "utf8_make_valid gave invalid UTF-8");
	/* Valid input is left alone. */
	if (is_valid(s, 1))
		check(strcmp(valid, s) == 0, "utf8_make_valid changed valid UTF-8");

	escaped = utf8_escape_controls(s);
	check(escaped != NULL, "utf8_escape_controls failed");
	check(is_valid(escaped, 0), "utf8_escape_controls left a control or invalid byte");

	/* Undo the escapes: only the input's bytes can come back, backslashes included. */
	back = malloc(strlen(escaped) + 1);
	check(back != NULL, "out of memory");
	for (const char *p = escaped; *p;) {
		if (p[0] == '\\' && p[1] == 'x' && hex(p[2]) >= 0 && hex(p[3]) >= 0) {
			back[out++] = (char)(hex(p[2]) << 4 | hex(p[3]));
			p += 4;
		} else {
			back[out++] = *p++;
		}
	}
	back[out] = '\0';
	/* A literal "\x41" of the input reads back as "A": compare only inputs without one. */
	if (!strstr(s, "\\x"))
		check(strcmp(back, s) == 0, "escapes do not give the input back");

	free(back);
	free(escaped);
	free(valid);
	free(s);
	return 0;
}
