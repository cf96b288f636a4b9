/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Questions the tests ask of a takeover's plan. */
#pragma once

#include <stdbool.h>
#include <string.h>

#include "passthru.h"

/* True when the plan has a refusal of kind for address whose reason holds part. */
static inline bool has_refusal(struct passthru_takeover *t, enum passthru_refusal_kind kind,
			       const char *address, const char *part)
{
	for (size_t i = 0; i < passthru_takeover_get_refusal_count(t); i++)
		if (passthru_takeover_get_refusal_kind(t, i) == kind &&
		    strcmp(passthru_takeover_get_refusal_address(t, i), address) == 0 &&
		    strstr(passthru_takeover_get_refusal_reason(t, i), part))
			return true;
	return false;
}
