/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: the processes that hold /dev/vfio files and other device nodes
 * (vfio-users.c).
 */
#pragma once

#include "internal.h"

/*
 * Processes that hold the VFIO files of an IOMMU group open (/dev/vfio/<group>, and the
 * device's /dev/vfio/devices/vfioN when iommufd is used), as "pid 123 (qemu-system-x86)".
 */
int vfio_group_users(struct passthru_ctx *ctx, int group, const char *address, char ***ret);

/* A file under /dev/vfio that a process has open. */
struct vfio_opener {
	char *path;
	char *who; /* "pid 812 (qemu-system-x86)" */
};

/* Every process's open files under /dev/vfio: one pass over /proc, however many groups. */
int vfio_openers_scan(struct passthru_ctx *ctx, struct vfio_opener **ret, size_t *ret_n);
void vfio_openers_free(struct vfio_opener *o, size_t n);
/*
 * Who holds a device for a VM: /dev/vfio/<group> open, or with iommufd (6.2+) the device's own
 * cdev, listed under its vfio-dev/ directory. Lines "/dev/vfio/5 is open by pid 812 (qemu)".
 */
int vfio_openers_match(struct passthru_ctx *ctx, const struct vfio_opener *o, size_t n, int group,
		       const char *address, char ***ret);

/*
 * Processes that hold the device node path (as /proc/PID/fd shows it: "/dev/ttyS1",
 * "/dev/bus/usb/001/004") open, one line each: "/dev/ttyS1 is open by pid 812 (minicom)".
 */
int device_node_users(struct passthru_ctx *ctx, const char *path, char ***ret);
