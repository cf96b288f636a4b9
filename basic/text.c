/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Formatting, quoting, escaping and splitting of text. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "text.h"

char *strfv(const char *format, va_list ap)
{
	char *s;

	return vasprintf(&s, format, ap) < 0 ? NULL : s;
}

char *strf(const char *format, ...)
{
	va_list ap;
	char *s;

	va_start(ap, format);
	s = strfv(format, ap);
	va_end(ap);
	return s;
}

int free_and_strfv(char **p, const char *format, va_list ap)
{
	/* Formatted first: the arguments may point into *p. */
	char *s = strfv(format, ap);

	free(*p);
	*p = s;
	return s ? 0 : -ENOMEM;
}

int free_and_strf(char **p, const char *format, ...)
{
	va_list ap;
	int r;

	va_start(ap, format);
	r = free_and_strfv(p, format, ap);
	va_end(ap);
	return r;
}

int error_setfv(char **error, int r, const char *format, va_list ap)
{
	(void)free_and_strfv(error, format, ap);
	return r;
}

int error_setf(char **error, int r, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	r = error_setfv(error, r, format, ap);
	va_end(ap);
	return r;
}

int strextendf(char **s, const char *format, ...)
{
	_cleanup_free_ char *tail = NULL;
	size_t len = *s ? strlen(*s) : 0;
	va_list ap;
	char *grown;

	va_start(ap, format);
	tail = strfv(format, ap);
	va_end(ap);
	if (!tail)
		return -ENOMEM;
	grown = realloc(*s, len + strlen(tail) + 1);
	if (!grown)
		return -ENOMEM;
	strcpy(grown + len, tail);
	*s = grown;
	return 0;
}

int append_word(char **list, const char *word)
{
	return strextendf(list, "%s%s", *list && **list ? " " : "", word);
}

char *shell_quote(const char *s)
{
	const char *safe =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-+:,@=%";
	size_t n = 2;
	char *out, *p;

	if (*s && strspn(s, safe) == strlen(s))
		return strdup(s);
	for (const char *c = s; *c; c++)
		n += *c == '\'' ? 4 : 1;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	p = out;
	*p++ = '\'';
	for (const char *c = s; *c; c++) {
		if (*c == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = *c;
		}
	}
	*p++ = '\'';
	*p = '\0';
	return out;
}

char *strip_trailing(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

char *escape_for_message(const char *s, size_t max_len)
{
	/* Each input byte becomes at most 4 output bytes ("\\xNN"), plus "..." and the NUL. */
	size_t n = 0, cap = max_len * 4 + 4;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	for (size_t i = 0; s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == max_len) {
			memcpy(out + n, "...", 3);
			n += 3;
			break;
		}
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"')
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c);
	}
	out[n] = '\0';
	return out;
}

/* ------------------------------------------------------------------------------------------ */
/* Lines and fields of /proc files                                                            */

int text_for_each_line(const char *text, int (*fn)(char *line, size_t lineno, void *data),
		       void *data, size_t *ret_bad_line)
{
	size_t lineno = 0;

	for (const char *p = text; *p;) {
		const char *eol = strchrnul(p, '\n');
		_cleanup_free_ char *line = NULL;
		int r;

		lineno++;
		if (eol > p) {
			line = strndup(p, (size_t)(eol - p));
			if (!line)
				return -ENOMEM;
			r = fn(line, lineno, data);
			if (r < 0) {
				if (r == -EBADMSG && ret_bad_line)
					*ret_bad_line = lineno;
				return r;
			}
		}
		p = *eol ? eol + 1 : eol;
	}
	return 0;
}

int text_next_line(const char **p, char **line)
{
	const char *eol;

	free(*line);
	*line = NULL;
	if (!*p || !**p)
		return 0;
	eol = strchrnul(*p, '\n');
	*line = strndup(*p, (size_t)(eol - *p));
	if (!*line)
		return -ENOMEM;
	*p = *eol ? eol + 1 : eol;
	return 1;
}

int split_fields_exact(char *line, char sep, char **fields, size_t max)
{
	size_t n = 0;

	for (char *p = line;;) {
		char *end = strchr(p, sep);

		if (n == max)
			return -EBADMSG;
		if (end)
			*end = '\0';
		if (!*p)
			return -EBADMSG;
		fields[n++] = p;
		if (!end)
			break;
		p = end + 1;
	}
	return (int)n;
}

int split_fields(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *f = strtok_r(line, " \t\r", &save); f; f = strtok_r(NULL, " \t\r", &save)) {
		if (n == max)
			return -EBADMSG;
		fields[n++] = f;
	}
	return (int)n;
}
