/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel release strings ("6.1.0-18-amd64", "5.14.0-362.el9.x86_64") as comparable versions. */
#pragma once

#include <stdbool.h>

struct kver {
	unsigned major;
	unsigned minor;
	unsigned patch;
};

/*
 * Reads the leading "MAJOR.MINOR[.PATCH]" of a kernel release; whatever follows the numbers
 * (a "-" or "+" suffix, a distribution tag) is ignored. -EINVAL when the release does not start
 * with MAJOR.MINOR.
 */
int kver_parse(const char *release, struct kver *ret);

/* <0, 0, >0 as v is older than, equal to or newer than major.minor (the patch level is ignored). */
int kver_compare(const struct kver *v, unsigned major, unsigned minor);

/*
 * Whether the kernel has a separate vfio_virqfd module: it was merged into vfio in 6.2
 * (commit "vfio: Fold vfio_virqfd.ko into vfio.ko").
 */
bool kver_has_vfio_virqfd(const struct kver *v);
