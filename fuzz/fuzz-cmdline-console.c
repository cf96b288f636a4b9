/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The consoles of a kernel command line (and of console/active). Beyond not crashing: every
 * console found by name is a valid tty name, is no virtual terminal, is found once, and
 * matches itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct consoles c = {0};
	const char *tty;
	char *s;

	if (size > 65536)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (consoles_parse_cmdline(&c, s) == 0 && consoles_parse_active(&c, s) == 0) {
		for (size_t i = 0; i < c.n; i++) {
			const struct console_spec *a = &c.v[i];

			if (a->kind == CONSOLE_NAME) {
				if (!a->name || tty_name_parse(a->name, &tty) < 0 || tty != a->name)
					abort();
				if (strcmp(a->name, "tty0") == 0 || strcmp(a->name, "null") == 0)
					abort();
				if (!consoles_match(&c, a->name, 0, 0))
					abort();
			} else if (a->address == 0 || a->name) {
				abort();
			}
			for (size_t j = i + 1; j < c.n; j++)
				if (a->kind == c.v[j].kind &&
				    (a->kind == CONSOLE_NAME ? strcmp(a->name, c.v[j].name) == 0
							     : a->address == c.v[j].address))
					abort();
		}
	}
	consoles_done(&c);
	(void)tty_name_parse(s, &tty);
	free(s);
	return 0;
}
