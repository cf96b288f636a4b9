/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reference counting of objects with an `unsigned refcount` member. */
#pragma once

#include <stddef.h>

/*
 * Defines name_ref() and name_unref() for type, which has an `unsigned refcount` set to 1 by its
 * constructor. Both take NULL; unref returns NULL and calls free_func(p) on the last reference.
 * scope is what goes before each definition: _public_ for the library's API, static otherwise.
 *
 *	DEFINE_REF_UNREF_FUNC(_public_, struct passthru_qmp, passthru_qmp, qmp_free);
 */
#define DEFINE_REF_UNREF_FUNC(scope, type, name, free_func)                                        \
	scope type *name##_ref(type *p)                                                            \
	{                                                                                          \
		if (p)                                                                             \
			p->refcount++;                                                             \
		return p;                                                                          \
	}                                                                                          \
	scope type *name##_unref(type *p)                                                          \
	{                                                                                          \
		if (!p || --p->refcount > 0)                                                       \
			return NULL;                                                               \
		free_func(p);                                                                      \
		return NULL;                                                                       \
	}                                                                                          \
	struct _refcount_needs_a_semicolon_##name
