/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel modules able to drive a device, from the (rooted) host's module index. */
#pragma once

#include <stdarg.h>

#include "internal.h"

/*
 * Looks a modalias ("pci:v00008086d00001572sv...", "usb:v046DpC52B...") up in
 * /lib/modules/<release>/ of the context's root, as modprobe would. *ret gets a newly
 * allocated NULL-terminated list of module names as lsmod and lspci -k print them
 * (underscores), without duplicates, in the index's order; empty (not an error) when the host
 * has no module directory. The module index is opened once per context.
 */
/*
 * A libkmod log function (kmod_set_log_fn(k, kmod_log_forward, ctx)): libkmod's messages become
 * the context's, at debug level, as the library never logs above it.
 */
void kmod_log_forward(void *data, int priority, const char *file, int line, const char *fn,
		      const char *format, va_list args) _printf_(6, 0);

int modules_for_modalias(struct passthru_ctx *ctx, const char *modalias, char ***ret);
