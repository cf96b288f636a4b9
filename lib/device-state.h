/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: what a PCI function looks like now (device-state.c): its driver
 * and driver_override.
 */
#pragma once

#include <stdbool.h>

#include "internal.h"

/* What a device looks like now, for the repair decision. */
struct device_state {
	bool present;
	char *driver;
	char *override;
};
/*
 * Reads the driver and driver_override of a PCI function; -ENODEV when it is gone. With w, the
 * override (whose read takes the device lock) is read by the helper within timeout_ms.
 */
struct timed_writer;
int device_state_read(struct passthru_ctx *ctx, struct timed_writer *w, unsigned timeout_ms,
		      const char *address, struct device_state *ret);
void device_state_done(struct device_state *s);

/* The device's sysfs directory; -ENODEV when it is gone. */
int device_dir_open(struct passthru_ctx *ctx, const char *address);
/* The driver alone: a readlink, which no device lock holds up. *ret NULL when none. */
int device_driver_read(struct passthru_ctx *ctx, const char *address, char **ret);
/* The kernel shows an unset override as "(null)"; NULL here. Takes s. */
char *device_override_value(char *s);
