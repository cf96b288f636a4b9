/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fixture roots for the PCI tests: tests/fixtures/pci/build-root.py (mksysfs, the root's
 * pci.ids, a depmod-made module index) run into a temporary directory, removed at exit.
 * tests/meson.build sets $FIXTURES (tests/fixtures) and $PYTHON.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passthru.h"

static char fixture_tmp[] = "/tmp/passthru-test-pci-XXXXXX";
static int fixture_count;

static void fixture_cleanup(void)
{
	char cmd[sizeof(fixture_tmp) + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fixture_tmp);
	(void)!system(cmd);
}

/* Builds tests/fixtures/pci/<spec> into a new root; exits the test when that fails. */
static inline char *fixture_root(const char *fixtures_dir, const char *spec)
{
	char *root, *cmd;

	if (fixture_count == 0) {
		if (!mkdtemp(fixture_tmp)) {
			perror("mkdtemp");
			exit(1);
		}
		atexit(fixture_cleanup);
	}
	if (asprintf(&root, "%s/root%d", fixture_tmp, fixture_count++) < 0)
		exit(1);
	if (asprintf(&cmd, "'%s' '%s/build-root.py' '%s/%s' '%s'",
		     getenv("PYTHON") ? getenv("PYTHON") : "python3", fixtures_dir, fixtures_dir,
		     spec, root) < 0)
		exit(1);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot build the fixture root: %s\n", cmd);
		exit(1);
	}
	free(cmd);
	return root;
}

static inline struct passthru_ctx *fixture_ctx(const char *root)
{
	struct passthru_ctx *ctx = NULL;
	int r = passthru_ctx_new(root, &ctx);

	if (r < 0) {
		fprintf(stderr, "passthru_ctx_new(%s): %s\n", root, strerror(-r));
		exit(1);
	}
	return ctx;
}

/* Joins a string array with "," for compact comparisons ("" when empty). */
static inline const char *joined(const char *const *v)
{
	static char buf[4096];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; v && v[i]; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "," : "", v[i]);
	return buf;
}

/* tests/fixtures/pci. */
static inline const char *fixtures_dir(void)
{
	static char dir[4096];
	const char *base = getenv("FIXTURES");

	if (!base) {
		fprintf(stderr, "$FIXTURES is not set (run the test through meson test)\n");
		exit(2);
	}
	snprintf(dir, sizeof(dir), "%s/pci", base);
	return dir;
}
