/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The scan of a sysfs directory into a device list (device-list.h). */
#include <dirent.h>

#include "device-list.h"

int device_list_scan_dir(struct passthru_ctx *ctx, const char *dir,
			 int (*add)(struct passthru_ctx *ctx, const char *name, void *userdata),
			 void *userdata)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int r;

	r = root_opendir(ctx, dir, &d);
	if (r == -ENOENT) {
		log_debug(ctx, "%s: %s", dir, strerror(-r));
		return 0;
	}
	if (r < 0)
		return r;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		r = add(ctx, de->d_name, userdata);
		if (r < 0)
			return r;
	}
	return 0;
}
