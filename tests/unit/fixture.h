/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A fixture root built by tests/fixtures/mksysfs.py from a spec under tests/fixtures, in a
 * temporary directory removed at exit. tests/meson.build sets $PYTHON, $MKSYSFS, $FIXTURES.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>

static char fixture_dir[] = "/tmp/passthru-test-XXXXXX";

static void fixture_remove(void)
{
	char cmd[sizeof(fixture_dir) + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fixture_dir);
	(void)!system(cmd);
}

/* Builds tests/fixtures/<spec> and returns the root; exits the test when that fails. */
static inline const char *fixture_build(const char *spec)
{
	const char *python = getenv("PYTHON"), *mksysfs = getenv("MKSYSFS"),
		   *fixtures = getenv("FIXTURES");
	char cmd[8192];

	if (!python || !mksysfs || !fixtures) {
		fprintf(stderr, "PYTHON, MKSYSFS and FIXTURES must be set (run through meson test)\n");
		exit(1);
	}
	if (!mkdtemp(fixture_dir)) {
		perror("mkdtemp");
		exit(1);
	}
	atexit(fixture_remove);
	snprintf(cmd, sizeof(cmd), "'%s' '%s' '%s/%s' '%s' --force", python, mksysfs, fixtures,
		 spec, fixture_dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot build fixture: %s\n", cmd);
		exit(1);
	}
	return fixture_dir;
}
