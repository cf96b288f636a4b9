/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Strict number parsing for kernel attributes and user input: all or nothing. */
#include <limits.h>

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"

int parse_hex(const char *s, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;
	size_t digits = 0;

	if (!s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s; s++, digits++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -EBADMSG;
		if (v > (max - (uint64_t)d) / 16)
			return -ERANGE;
		v = v * 16 + (uint64_t)d;
	}
	if (digits == 0)
		return -EBADMSG;
	*ret = v;
	return 0;
}

int parse_long(const char *s, long min, long max, long *ret)
{
	bool negative = false;
	unsigned long v = 0, limit;
	size_t digits = 0;

	if (!s)
		return -EINVAL;
	if (*s == '-' || *s == '+')
		negative = *s++ == '-';
	limit = negative ? (unsigned long)LONG_MAX + 1 : (unsigned long)LONG_MAX;
	for (; *s; s++, digits++) {
		if (*s < '0' || *s > '9')
			return -EBADMSG;
		if (v > (limit - (unsigned long)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (digits == 0)
		return -EBADMSG;
	{
		long value = negative ? (v == (unsigned long)LONG_MAX + 1 ? LONG_MIN : -(long)v)
				      : (long)v;

		if (value < min || value > max)
			return -ERANGE;
		*ret = value;
	}
	return 0;
}

int parse_uint(const char *s, unsigned max, unsigned *ret)
{
	long v;
	int r;

	if (!*s || s[0] == '-' || s[0] == '+')
		return -EBADMSG;
	r = parse_long(s, 0, (long)max, &v);
	if (r < 0)
		return -EBADMSG;
	*ret = (unsigned)v;
	return 0;
}
