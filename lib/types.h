/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Passthrough types of PCI functions: the built-in rules and the custom ones of types.d. */
#pragma once

#include "internal.h"

#define TYPES_DIR "/etc/passthru/types.d"

/* The built-in type of a function from its 24-bit class code and vendor ("GPU-VGA" ... "PCI"). */
const char *types_builtin(uint32_t class_code, uint16_t vendor);

/*
 * The custom type of a function, from the rules as they were when first asked for in this
 * context (passthru_type_add() and passthru_type_remove() made through the same context
 * refresh them). subvendor/subdevice are -1 when unknown. NULL when no rule matches; the
 * string is valid until the rules are refreshed: copy it.
 */
const char *types_match(struct passthru_ctx *ctx, uint16_t vendor, uint16_t device, int subvendor,
			int subdevice);

/*
 * Parses the text of one types.d file into list (rules appended, problems recorded as
 * "file:line: ..."). Exposed for the fuzz target; file is only used in messages.
 */
int types_parse(struct passthru_type_list *list, const char *file, const char *text, size_t len);
/* An empty list not tied to a context (for the fuzz target and the context's cache). */
int types_list_new_empty(struct passthru_type_list **ret);
