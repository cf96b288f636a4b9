/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Growing arrays that are a pointer and a count. */
#pragma once

#include <stdlib.h>
#include <string.h>

/*
 * Makes room for one more element at the end of array, which holds n: reallocates it to n + 1
 * elements and returns a pointer to the new one, zeroed, or NULL when out of memory (array is
 * then untouched). The caller fills the element and then increments n, so a failure while
 * filling it leaves the array as it was:
 *
 *	struct item *it = ARRAY_GROW(list->items, list->n_items);
 *	if (!it)
 *		return -ENOMEM;
 *	*it = (struct item){...};
 *	list->n_items++;
 *
 * One element at a time, as the lists here are short (devices, refusals, lines of a /proc file).
 */
#define ARRAY_GROW(array, n)                                                                       \
	({                                                                                         \
		size_t _n = (n);                                                                   \
		__typeof__(array) _a = reallocarray((array), _n + 1, sizeof(*(array)));            \
		if (_a) {                                                                          \
			(array) = _a;                                                              \
			_a += _n;                                                                  \
			memset(_a, 0, sizeof(*_a));                                                \
		}                                                                                  \
		_a;                                                                                \
	})
