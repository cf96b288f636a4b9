/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Option values for QEMU (a comma doubled), words for a shell and XML attribute values. Beyond
 * not crashing: each reads back as the input (QemuOpts' rule, POSIX single quotes), no lone
 * comma is left in an escaped value and no markup character in an XML attribute.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu.h"

/* Reads a word the way a POSIX shell does, for the forms shell_quote() makes. */
static char *shell_unquote(const char *q)
{
	char *s = malloc(strlen(q) + 1), *p = s;
	bool in = false;

	if (!s)
		return NULL;
	for (; *q; q++) {
		if (*q == '\'') {
			in = !in;
			continue;
		}
		if (!in && *q == '\\' && q[1]) {
			*p++ = *++q;
			continue;
		}
		if (!in && strchr(" \t\n\"$`*?[]{}()<>|&;#~!\\", *q))
			abort(); /* a character the shell would act on, unquoted */
		*p++ = *q;
	}
	if (in)
		abort();
	*p = '\0';
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, *e, *u, *q, *x;

	if (size > 65536)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	e = qemu_escape_value(s);
	if (e) {
		for (const char *c = e; *c; c++)
			if (*c == ',' && *++c != ',')
				abort();
		u = qemu_unescape_value(e);
		if (!u || strcmp(u, s) != 0)
			abort();
		free(u);
	}
	free(qemu_unescape_value(s));

	q = shell_quote(s);
	if (q) {
		u = shell_unquote(q);
		if (!u || strcmp(u, s) != 0)
			abort();
		free(u);
	}

	x = xml_escape_attribute(s);
	if (x && strpbrk(x, "<>'\""))
		abort();

	free(e);
	free(q);
	free(x);
	free(s);
	return 0;
}
