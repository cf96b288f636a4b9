/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The skeleton the device lists (pci-scan.c, usb.c, serial.c) share: a sorted vector of
 * devices with a count, a new list, their public count and get, and the scan of a sysfs
 * directory (for usb and serial, the whole of the list's scan).
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
 * Makes list (a variable of a pointer to list type, with `unsigned refcount` and `struct
 * passthru_ctx *ctx`) a new zeroed list holding one reference and one on ctx: 0, or -ENOMEM
 * (list is then NULL). The caller frees it with its list's free function.
 */
#define DEVICE_LIST_NEW(list, context)                                                             \
	({                                                                                         \
		(list) = calloc(1, sizeof(*(list)));                                               \
		if (list) {                                                                        \
			(list)->refcount = 1;                                                      \
			(list)->ctx = passthru_ctx_ref(context);                                   \
		}                                                                                  \
		(list) ? 0 : -ENOMEM;                                                              \
	})

/*
 * Defines `scope int name_scan(struct passthru_ctx *ctx, list_type **ret)`, the scan of a list
 * whose devices are the entries of one sysfs directory: a new list (DEVICE_LIST_NEW()), then
 * add(ctx, entry, list) for each entry of dir (device_list_scan_dir()), which puts a device in
 * the list's `size_t count` devices at field or skips the entry, then the devices sorted with
 * cmp. Either argument NULL is -EINVAL; on any failure free_func(list) frees what was read and
 * *ret is untouched.
 *
 *	DEFINE_LIST_SCAN(_public_, struct passthru_usb_list, passthru_usb_list,
 *			 "/sys/bus/usb/devices", usb_list_add_entry, devices, cmp_device,
 *			 usb_list_free);
 */
#define DEFINE_LIST_SCAN(scope, list_type, name, dir, add, field, cmp, free_func)                  \
	scope int name##_scan(struct passthru_ctx *ctx, list_type **ret)                           \
	{                                                                                          \
		list_type *list;                                                                   \
		int r;                                                                             \
                                                                                                   \
		if (!ctx || !ret)                                                                  \
			return -EINVAL;                                                            \
		r = DEVICE_LIST_NEW(list, ctx);                                                    \
		if (r < 0)                                                                         \
			return r;                                                                  \
		r = device_list_scan_dir(ctx, dir, add, list);                                     \
		if (r < 0) {                                                                       \
			free_func(list);                                                           \
			return r;                                                                  \
		}                                                                                  \
		if (list->count > 1)                                                               \
			qsort(list->field, list->count, sizeof(*list->field), cmp);                \
		*ret = list;                                                                       \
		return 0;                                                                          \
	}                                                                                          \
	struct _list_scan_needs_a_semicolon_##name

/*
 * Calls add(ctx, name, userdata) for each entry of dir (under the context's root) but the dot
 * entries, in directory order; an add that fails ends the scan with its error. A missing dir
 * is an empty one (the kernel has no such bus or class): 0.
 */
int device_list_scan_dir(struct passthru_ctx *ctx, const char *dir,
			 int (*add)(struct passthru_ctx *ctx, const char *name, void *userdata),
			 void *userdata);
