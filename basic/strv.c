/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NULL-terminated string vectors, the string list type of the library and the CLI. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"
#include "text.h"

const char *const strv_empty[] = {NULL};

void strv_free(char **v)
{
	STRV_FOREACH (s, v)
		free(*s);
	free(v);
}

size_t strv_length(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

int strv_consume(char ***v, char *s)
{
	size_t n = strv_length(*v);
	char **nv;

	if (!s)
		return -ENOMEM;
	nv = realloc(*v, (n + 2) * sizeof(char *));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	nv[n] = s;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

int strv_push(char ***v, const char *s)
{
	return strv_consume(v, strdup(s));
}

int strv_pushfv(char ***v, const char *format, va_list ap)
{
	return strv_consume(v, strfv(format, ap));
}

int strv_pushf(char ***v, const char *format, ...)
{
	va_list ap;
	int r;

	va_start(ap, format);
	r = strv_pushfv(v, format, ap);
	va_end(ap);
	return r;
}

int strv_ensure(char ***v)
{
	if (!*v)
		*v = calloc(1, sizeof(char *));
	return *v ? 0 : -ENOMEM;
}

char *strv_last(char *const *v)
{
	size_t n = strv_length(v);

	return n > 0 ? v[n - 1] : NULL;
}

bool strv_contains(char *const *v, const char *s)
{
	for (size_t i = 0; v && v[i]; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strv_sort(char **v)
{
	size_t n = strv_length(v);

	if (n > 1)
		qsort(v, n, sizeof(char *), cmp_str);
}
