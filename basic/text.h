/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Formatting, quoting, escaping and splitting of text. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "macro.h"

/* A formatted string on the heap; NULL when out of memory. */
char *strf(const char *format, ...) _printf_(1, 2);
char *strfv(const char *format, va_list ap) _printf_(1, 0);

/* Replaces the heap string *p (freed) with a formatted one; -ENOMEM, *p NULL, without memory. */
int free_and_strf(char **p, const char *format, ...) _printf_(2, 3);
int free_and_strfv(char **p, const char *format, va_list ap) _printf_(2, 0);

/*
 * The error message of an object: replaces *error (freed) with the formatted message and returns
 * r, so that a function fails with `return error_setf(&x->error, -EIO, "...", ...)`. Out of
 * memory leaves *error NULL and still returns r.
 */
int error_setf(char **error, int r, const char *format, ...) _printf_(3, 4);
int error_setfv(char **error, int r, const char *format, va_list ap) _printf_(3, 0);

/* Appends formatted text to the heap string *s (NULL: empty), growing it. -ENOMEM, *s kept. */
int strextendf(char **s, const char *format, ...) _printf_(2, 3);
/* Appends word to the space-separated list *list (NULL: empty), growing it. -ENOMEM. */
int append_word(char **list, const char *word);

/* A word for a shell: as it is when it needs no quoting, else in single quotes. */
char *shell_quote(const char *s);

/* Removes trailing whitespace in place. */
char *strip_trailing(char *s);
/* Copies at most a printable, escaped rendition of s (for messages about garbage values). */
char *escape_for_message(const char *s, size_t max_len);

/* ------------------------------------------------------------------------------------------ */
/* Lines and fields of /proc files                                                            */

/*
 * Calls fn on a copy of each non-empty line (without its newline); stops at the first error.
 * -EBADMSG from fn stores the line's number (1-based) in *ret_bad_line when not NULL.
 */
int text_for_each_line(const char *text, int (*fn)(char *line, size_t lineno, void *data),
		       void *data, size_t *ret_bad_line);
/*
 * The lines of text one at a time, as getline(3) reads a file: replaces *line (freed) with a
 * heap copy of the line at *p, without its newline, and moves *p past it. Returns 1 for a line,
 * 0 at the end of the text, -ENOMEM; *line is NULL after 0 or -ENOMEM. *p NULL is the end. An
 * empty line is a line; a last line without a newline is one.
 *
 *	_cleanup_free_ char *line = NULL;
 *	const char *p = text;
 *	while ((r = text_next_line(&p, &line)) > 0)
 *		...
 *	if (r < 0)
 *		return r;
 */
int text_next_line(const char **p, char **line);
/* Splits line in place at each sep into at most max fields; an empty field is -EBADMSG. */
int split_fields_exact(char *line, char sep, char **fields, size_t max);
/* Splits line in place at runs of blanks (space, tab, CR); more than max fields is -EBADMSG. */
int split_fields(char *line, char **fields, size_t max);
