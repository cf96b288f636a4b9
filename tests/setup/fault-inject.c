/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Crash injection for the setup tests, by LD_PRELOAD: PASSTHRU_FAULT=WHEN:NAME kills the process
 * with SIGKILL around the rename that replaces a file named NAME, the last step of
 * root_write_file_atomic(). WHEN is
 *   after-write-before-rename  the new content is written and synced to the temporary file, the
 *                              original has not been replaced: it must survive intact
 *   after-rename               the file is replaced, the files after it are not: a second run
 *                              must finish the job
 * Nothing in the library knows about this; the tests prove what a power cut at that instant
 * leaves behind.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h> /* declares renameat(), which this file replaces */
#include <stdlib.h>
#include <string.h>

typedef int (*renameat_fn)(int, const char *, int, const char *);

static int matches(const char *newpath, const char *when)
{
	const char *fault = getenv("PASSTHRU_FAULT"), *colon, *base;
	size_t n = strlen(when);

	if (!fault || strncmp(fault, when, n) != 0 || fault[n] != ':')
		return 0;
	colon = fault + n;
	base = strrchr(newpath, '/');
	base = base ? base + 1 : newpath;
	return strcmp(base, colon + 1) == 0;
}

__attribute__((visibility("default"))) int renameat(int olddirfd, const char *oldpath, int newdirfd,
						    const char *newpath)
{
	renameat_fn real = (renameat_fn)dlsym(RTLD_NEXT, "renameat");
	int r;

	if (matches(newpath, "after-write-before-rename"))
		raise(SIGKILL);
	r = real(olddirfd, oldpath, newdirfd, newpath);
	if (r == 0 && matches(newpath, "after-rename"))
		raise(SIGKILL);
	return r;
}
