/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the unit tests' set-ups share: the environment tests/meson.build sets ($PYTHON,
 * $MKSYSFS, $FIXTURES), one temporary directory per test removed at exit, fixture roots built
 * in it (by tests/fixtures/mksysfs.py or another builder) and a context on a root.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "passthru.h"

static char fixture_dir[] = "/tmp/passthru-test-XXXXXX";
static bool fixture_dir_made;
static int fixture_roots;

static void fixture_remove(void)
{
	char cmd[sizeof(fixture_dir) + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fixture_dir);
	(void)!system(cmd);
}

/* $name, which meson test sets; exits the test when it is not set. */
static inline const char *fixture_env(const char *name)
{
	const char *v = getenv(name);

	if (!v) {
		fprintf(stderr, "%s is not set (run through meson test)\n", name);
		exit(2);
	}
	return v;
}

/* The test's temporary directory: made on the first call, removed at exit. */
static inline const char *fixture_tmpdir(void)
{
	if (!fixture_dir_made) {
		if (!mkdtemp(fixture_dir)) {
			perror("mkdtemp");
			exit(1);
		}
		atexit(fixture_remove);
		fixture_dir_made = true;
	}
	return fixture_dir;
}

/*
 * A path for a new root in the temporary directory: "DIR/root0", "DIR/root1"... (not made);
 * free() it.
 */
static inline char *fixture_new_root(void)
{
	char *root;

	if (asprintf(&root, "%s/root%d", fixture_tmpdir(), fixture_roots++) < 0)
		exit(1);
	return root;
}

/* Runs the shell command that builds a root; exits the test when it fails. */
static inline void fixture_run(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot build the fixture root: %s\n", cmd);
		exit(1);
	}
}

/* Builds tests/fixtures/<spec> with mksysfs.py into a new root and returns it (free() it). */
static inline char *fixture_build(const char *spec)
{
	char *root = fixture_new_root(), *cmd;

	if (asprintf(&cmd, "'%s' '%s' '%s/%s' '%s'", fixture_env("PYTHON"), fixture_env("MKSYSFS"),
		     fixture_env("FIXTURES"), spec, root) < 0)
		exit(1);
	fixture_run(cmd);
	free(cmd);
	return root;
}

/* Builds root from a mksysfs.py spec given as JSON text (on its stdin); exits on failure. */
static inline void fixture_build_text(const char *spec_json, const char *root)
{
	char *cmd;
	FILE *f;

	if (asprintf(&cmd, "'%s' '%s' - '%s'", fixture_env("PYTHON"), fixture_env("MKSYSFS"),
		     root) < 0)
		exit(1);
	f = popen(cmd, "w");
	if (!f || fputs(spec_json, f) < 0 || pclose(f) != 0) {
		fprintf(stderr, "cannot build the fixture root: %s\n", cmd);
		exit(1);
	}
	free(cmd);
}

/* Writes (replaces) root/rel, creating its directories; content NULL makes a directory. */
static inline void fixture_put(const char *root, const char *rel, const char *content)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	if (!content) {
		mkdir(path, 0755);
		return;
	}
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(content, f);
	fclose(f);
}

/* The content of root/rel (free() it), NULL when it cannot be opened. */
static inline char *fixture_get(const char *root, const char *rel)
{
	char path[8192], *s = NULL;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	if (getdelim(&s, &n, '\0', f) < 0) {
		free(s);
		s = strdup("");
	}
	fclose(f);
	return s;
}

/* A context on root; exits the test when it cannot be made. */
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
