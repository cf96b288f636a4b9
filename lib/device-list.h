/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The skeleton the device lists (pci-scan.c, usb.c, serial.c) share: a sorted vector of
 * devices with a count, their public count and get, and the scan of a sysfs directory.
 */
#pragma once

#include <stddef.h>

#include "internal.h"

/*
 * Defines name_count() and name_get() for list_type, whose `size_t count` devices are in
 * field; both take NULL, and get answers NULL for an index out of range. scope is what goes
 * before each definition, as for DEFINE_REF_UNREF_FUNC().
 *
 *	DEFINE_LIST_COUNT_GET(_public_, struct passthru_usb_list, passthru_usb_list,
 *			      struct passthru_usb_device, devices);
 */
#define DEFINE_LIST_COUNT_GET(scope, list_type, name, item_type, field)                            \
	scope size_t name##_count(const list_type *list)                                           \
	{                                                                                          \
		return list ? list->count : 0;                                                     \
	}                                                                                          \
	scope item_type *name##_get(const list_type *list, size_t index)                           \
	{                                                                                          \
		if (!list || index >= list->count)                                                 \
			return NULL;                                                               \
		return list->field[index];                                                         \
	}                                                                                          \
	struct _list_count_get_needs_a_semicolon_##name

/*
 * Calls add(ctx, name, userdata) for each entry of dir (under the context's root) but the dot
 * entries, in directory order; an add that fails ends the scan with its error. A missing dir
 * is an empty one (the kernel has no such bus or class): 0.
 */
int device_list_scan_dir(struct passthru_ctx *ctx, const char *dir,
			 int (*add)(struct passthru_ctx *ctx, const char *name, void *userdata),
			 void *userdata);
