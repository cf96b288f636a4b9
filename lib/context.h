/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The context's layout: known only to context.c and sysroot.c. */
#pragma once

#include "internal.h"

struct passthru_ctx {
	unsigned refcount;
	char *sysroot;
	/* O_PATH fd of the root directory; every host path is opened relative to it. */
	int root_fd;
	bool root_is_slash;

	passthru_log_fn log_fn;
	void *log_userdata;
	int log_priority;

	char *kernel_release;
	bool kernel_release_failed;

	struct {
		void *data;
		void (*destroy)(void *);
	} slots[_CTX_SLOT_MAX];
};
