/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel modules able to drive a device, from the (rooted) host's module index. */
#pragma once

#include "internal.h"

/*
 * Looks a modalias ("pci:v00008086d00001572sv...", "usb:v046DpC52B...") up in
 * /lib/modules/<release>/ of the context's root, as modprobe would. *ret gets a newly
 * allocated NULL-terminated list of module names as lsmod and lspci -k print them
 * (underscores), without duplicates, in the index's order; empty (not an error) when the host
 * has no module directory. The module index is opened once per context.
 */
int modules_for_modalias(struct passthru_ctx *ctx, const char *modalias, char ***ret);
