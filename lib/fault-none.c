/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shipped library's fault injection: none. The environment is not read and nothing is
 * killed; the test build links fault.c instead (see fault.h).
 */
#include "fault.h"

void fault_from_environment(struct passthru_ctx *ctx, struct fault *ret)
{
	memset(ret, 0, sizeof(*ret));
}

int fault_hit(struct passthru_ctx *ctx, const struct fault *f, const char *phase, const char *step,
	      unsigned index)
{
	return 0;
}
