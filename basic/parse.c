/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Strict number parsing for kernel attributes and user input: all or nothing. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse.h"

int unhexchar(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -EINVAL;
}

int parse_hex(const char *s, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;
	size_t digits = 0;

	if (!s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s; s++, digits++) {
		int d = unhexchar(*s);

		if (d < 0)
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
		long value =
		    negative ? (v == (unsigned long)LONG_MAX + 1 ? LONG_MIN : -(long)v) : (long)v;

		if (value < min || value > max)
			return -ERANGE;
		*ret = value;
	}
	return 0;
}

int parse_ulong(const char *s, unsigned long max, unsigned long *ret)
{
	unsigned long v = 0;

	if (!s || !*s)
		return -EBADMSG;
	for (; *s; s++) {
		unsigned long digit;

		if (*s < '0' || *s > '9')
			return -EBADMSG;
		digit = (unsigned long)(*s - '0');
		if (digit > max || v > (max - digit) / 10)
			return -ERANGE;
		v = v * 10 + digit;
	}
	*ret = v;
	return 0;
}

int parse_uint(const char *s, unsigned max, unsigned *ret)
{
	unsigned long v;
	int r;

	r = parse_ulong(s, max, &v);
	if (r < 0)
		return r;
	*ret = (unsigned)v;
	return 0;
}
