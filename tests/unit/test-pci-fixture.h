/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fixture roots for the PCI tests: tests/fixtures/pci/build-root.py (mksysfs, the root's
 * pci.ids, a depmod-made module index) run into the test's temporary directory (fixture.h).
 */
#pragma once

#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"

/* Builds tests/fixtures/pci/<spec> into a new root; exits the test when that fails. */
static inline char *fixture_root(const char *fixtures_dir, const char *spec)
{
	char *root = fixture_new_root(), *cmd;

	if (asprintf(&cmd, "'%s' '%s/build-root.py' '%s/%s' '%s'", fixture_env("PYTHON"),
		     fixtures_dir, fixtures_dir, spec, root) < 0)
		exit(1);
	fixture_run(cmd);
	free(cmd);
	return root;
}

/* The function of the scan at address; exits the test when it is not there. */
static inline struct passthru_pci_device *fixture_device(struct passthru_pci_list *list,
							 const char *address)
{
	struct passthru_pci_device *dev = passthru_pci_list_find(list, address);

	if (!dev) {
		fprintf(stderr, "%s not in the scan\n", address);
		exit(1);
	}
	return dev;
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

	snprintf(dir, sizeof(dir), "%s/pci", fixture_env("FIXTURES"));
	return dir;
}
