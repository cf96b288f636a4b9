/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a PCI function looks like now: its driver (a readlink) and its driver_override
 * (whose read takes the device lock, so it may go through the timed helper).
 */
#include "device-state.h"
#include "timed-io.h"

void device_state_done(struct device_state *s)
{
	free(s->driver);
	free(s->override);
	s->driver = s->override = NULL;
	s->present = false;
}

int device_dir_open(struct passthru_ctx *ctx, const char *address)
{
	_cleanup_free_ char *path = NULL;
	int fd;

	if (asprintf(&path, "/sys/bus/pci/devices/%s", address) < 0)
		return -ENOMEM;
	fd = root_open_dir(ctx, path);
	return fd == -ENOENT ? -ENODEV : fd;
}

/* The driver of the device whose directory is fd; *ret NULL when none. */
static int driver_read_at(int fd, char **ret)
{
	char *driver = NULL;
	int r = attr_link_basename_at(fd, "driver", &driver);

	if (r < 0 && r != -ENOENT)
		return r;
	*ret = driver;
	return 0;
}

/* The driver alone: a readlink, which no device lock holds up. NULL when none. */
int device_driver_read(struct passthru_ctx *ctx, const char *address, char **ret)
{
	_cleanup_close_ int fd = device_dir_open(ctx, address);

	if (fd < 0)
		return fd;
	return driver_read_at(fd, ret);
}

/* The kernel shows an unset override as "(null)"; NULL here. Takes s. */
char *device_override_value(char *s)
{
	if (s && (!*s || strcmp(s, "(null)") == 0)) {
		free(s);
		return NULL;
	}
	return s;
}

int device_state_read(struct passthru_ctx *ctx, struct timed_writer *w, unsigned timeout_ms,
		      const char *address, struct device_state *ret)
{
	_cleanup_close_ int fd = device_dir_open(ctx, address);
	_cleanup_free_ char *driver = NULL, *override = NULL;
	int r;

	if (fd < 0)
		return fd;
	r = driver_read_at(fd, &driver);
	if (r < 0)
		return r;
	/*
	 * Showing driver_override takes the device lock, which a stuck unbind or probe holds:
	 * with a helper, the read is abandoned after the timeout like a write.
	 */
	if (w) {
		_cleanup_free_ char *path = NULL;

		if (asprintf(&path, "/sys/bus/pci/devices/%s/driver_override", address) < 0)
			return -ENOMEM;
		r = timed_read(w, path, timeout_ms, &override);
	} else {
		r = attr_read_at(fd, "driver_override", &override);
	}
	if (r < 0 && r != -ENOENT)
		return r;
	ret->present = true;
	ret->driver = TAKE_PTR(driver);
	ret->override = device_override_value(TAKE_PTR(override));
	return 0;
}
