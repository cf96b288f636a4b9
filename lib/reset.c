/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Function resets through sysfs. Writing 1 to a function's "reset" attribute makes the kernel
 * reset it with the first method of "reset_method" that works (flr, af_flr, pm, bus, cxl_bus
 * in the kernel's order); writing a method name to reset_method first restricts it to that one.
 * A reset can wait for the device (an FLR waits up to a second and more for it to come back,
 * a bus reset for every function behind the bridge) and for the device lock, so the write goes
 * through the timed writer like an unbind.
 */
#include <fcntl.h>

#include "reset.h"

int pci_reset_run(struct passthru_ctx *ctx, struct timed_writer *w, const char *address,
		  const char *method, unsigned timeout_ms)
{
	_cleanup_free_ char *dir = NULL, *reset = NULL, *methods_path = NULL, *saved = NULL;
	_cleanup_close_ int fd = -1;
	int r, q;

	if (asprintf(&dir, "/sys/bus/pci/devices/%s", address) < 0 ||
	    asprintf(&reset, "%s/reset", dir) < 0 ||
	    asprintf(&methods_path, "%s/reset_method", dir) < 0)
		return -ENOMEM;
	fd = root_open_dir(ctx, dir);
	if (fd < 0)
		return fd == -ENOENT ? -ENODEV : fd;
	/* No reset attribute: the kernel knows no way to reset this function. */
	if (faccessat(fd, "reset", F_OK, 0) < 0)
		return -EOPNOTSUPP;

	if (method) {
		r = attr_read_at(fd, "reset_method", &saved);
		if (r < 0)
			return r == -ENOENT ? -EOPNOTSUPP : r;
		r = timed_write(w, methods_path, method, timeout_ms);
		if (r < 0)
			return r;
	}
	r = timed_write(w, reset, "1", timeout_ms);
	if (method) {
		/* Put the kernel's list back: the choice was for this reset only. */
		q = timed_write(w, methods_path, saved && *saved ? saved : "default", timeout_ms);
		if (q < 0)
			log_debug(ctx, "%s: cannot restore reset_method \"%s\": %s", address,
				  saved ? saved : "default", strerror(-q));
	}
	return r;
}
