/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: what to tell about a device that failed (kmsg.c): its state and
 * the kernel's last messages about it.
 */
#pragma once

#include <stddef.h>

#include "internal.h"
#include "timed-io.h"

/*
 * Lines describing a device after a failure: its driver, driver_override, power state, and the
 * kernel's last messages about it (or its last messages at all) from /dev/kmsg. driver_override
 * is read through w, waiting at most a second.
 */
int device_describe(struct passthru_ctx *ctx, struct timed_writer *w, const char *address,
		    char ***ret);

/*
 * Parses one /dev/kmsg record ("6,1234,5678901,-;message") into "[seconds] message".
 * -EBADMSG for anything else.
 */
int kmsg_record_parse(const char *record, size_t len, char **ret);
