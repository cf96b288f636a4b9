/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NULL-terminated, heap-owned string vectors. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

void strv_free(char **v);
static inline void strv_freep(char ***v)
{
	strv_free(*v);
}

#define _cleanup_strv_free_ _cleanup_(strv_freep)

#define STRV_FOREACH(s, v) for (char **s = (v); s && *s; s++)
size_t strv_length(char *const *v);
/* Appends a copy of s. */
int strv_push(char ***v, const char *s);
/* Appends s itself, taking ownership (freed on failure too; NULL is -ENOMEM). */
int strv_consume(char ***v, char *s);
/* Appends a formatted line ("forced: %s: %s"): the line appender of notes and problems. */
int strv_pushf(char ***v, const char *format, ...) _printf_(2, 3);
int strv_pushfv(char ***v, const char *format, va_list ap) _printf_(2, 0);
/* Makes *v an empty vector when it is NULL, for results that must not be NULL. -ENOMEM. */
int strv_ensure(char ***v);
/* The last string, NULL for an empty vector. */
char *strv_last(char *const *v);
bool strv_contains(char *const *v, const char *s);
void strv_sort(char **v);
/* A static empty vector for getters that must not return NULL. */
extern const char *const strv_empty[];
