/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Strict number parsing for kernel attributes and user input: all or nothing. Each has a fuzz
 * target through the parsers that use it. */
#pragma once

#include <stdint.h>

/* The value of a hex digit, either case; -EINVAL for anything else. */
int unhexchar(char c);

/* "0x8086" or "8086" (hex, optional 0x), no sign, no trailing junk; value <= max. */
int parse_hex(const char *s, uint64_t max, uint64_t *ret);
/* Decimal with optional sign, no trailing junk, within [min, max]. */
int parse_long(const char *s, long min, long max, long *ret);
/*
 * Decimal digits only: no sign, no blank, no base prefix, no trailing junk. -EBADMSG for
 * anything else (the empty string too), -ERANGE above max.
 */
int parse_ulong(const char *s, unsigned long max, unsigned long *ret);
int parse_uint(const char *s, unsigned max, unsigned *ret);
