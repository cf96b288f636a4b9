/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fixture roots for the takeover tests: tests/fixtures/takeover/<spec> built by mksysfs.py into
 * a temporary directory that is removed at exit. tests/meson.build sets $MKSYSFS, $FIXTURES
 * and $PYTHON.
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "passthru.h"

static char takeover_tmp[] = "/tmp/passthru-test-takeover-XXXXXX";
static int takeover_roots;

static void takeover_cleanup(void)
{
	char cmd[sizeof(takeover_tmp) + 32];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", takeover_tmp);
	(void)!system(cmd);
}

/* A fresh root from tests/fixtures/takeover/<spec>; exits the test when it cannot be built. */
static inline char *takeover_root(const char *spec)
{
	const char *python = getenv("PYTHON") ?: "python3";
	const char *mksysfs = getenv("MKSYSFS"), *fixtures = getenv("FIXTURES");
	char *root, *cmd;

	if (!mksysfs || !fixtures) {
		fprintf(stderr, "MKSYSFS and FIXTURES must be set (meson test does)\n");
		exit(1);
	}
	if (takeover_roots == 0) {
		if (!mkdtemp(takeover_tmp)) {
			perror("mkdtemp");
			exit(1);
		}
		atexit(takeover_cleanup);
	}
	if (asprintf(&root, "%s/root%d", takeover_tmp, takeover_roots++) < 0)
		exit(1);
	if (asprintf(&cmd, "'%s' '%s' '%s/takeover/%s' '%s' >/dev/null", python, mksysfs, fixtures,
		     spec, root) < 0)
		exit(1);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot build the fixture root: %s\n", cmd);
		exit(1);
	}
	free(cmd);
	return root;
}

static inline struct passthru_ctx *takeover_ctx(const char *root)
{
	struct passthru_ctx *ctx = NULL;
	int r = passthru_ctx_new(root, &ctx);

	if (r < 0) {
		fprintf(stderr, "passthru_ctx_new(%s): %s\n", root, strerror(-r));
		exit(1);
	}
	return ctx;
}

/* Writes (replaces) a file below root, creating its directories. */
static inline void takeover_put(const char *root, const char *rel, const char *content)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(content, f);
	fclose(f);
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
