/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fixture roots for the takeover tests: tests/fixtures/takeover/<spec> built by mksysfs.py into
 * the test's temporary directory (fixture.h), and files below a root.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"

/* A fresh root from tests/fixtures/takeover/<spec>; exits the test when it cannot be built. */
static inline char *takeover_root(const char *spec)
{
	char *root = fixture_new_root(), *cmd;

	if (asprintf(&cmd, "'%s' '%s' '%s/takeover/%s' '%s' >/dev/null", fixture_env("PYTHON"),
		     fixture_env("MKSYSFS"), fixture_env("FIXTURES"), spec, root) < 0)
		exit(1);
	fixture_run(cmd);
	free(cmd);
	return root;
}

static inline void takeover_remove(const char *root, const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	unlink(path);
}

/* The content of a file below root, NULL when absent; static buffer. */
static inline const char *takeover_get(const char *root, const char *rel)
{
	static char buf[65536];
	char path[4096];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}
