/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NULL-terminated, heap-owned string vectors. */
#pragma once

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
/* Appends s itself, taking ownership (freed on failure too). */
int strv_consume(char ***v, char *s);
bool strv_contains(char *const *v, const char *s);
void strv_sort(char **v);
/* A static empty vector for getters that must not return NULL. */
extern const char *const strv_empty[];
