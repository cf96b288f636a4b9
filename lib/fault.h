/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: fault injection for the crash tests.
 *
 * Only the test build can inject faults: fault.c goes into the static library that the unit
 * tests, the fuzz targets and the test command passthru-fault link; the shipped library and
 * command get fault-none.c, which never reads the environment and never kills anything.
 */
#pragma once

#include <stdbool.h>

#include "internal.h"

/* PASSTHRU_FAULT: "PHASE:STEP:N[:fail]" (see the header's Takeover section). */
struct fault {
	char phase[16];
	char step[16];
	unsigned index;
	bool fail;
	bool set;
};
int fault_parse(const char *spec, struct fault *ret);

/* The fault PASSTHRU_FAULT asks for; always none in the shipped library. */
void fault_from_environment(struct passthru_ctx *ctx, struct fault *ret);
/*
 * A fault point: 0 to go on, -EIO for an injected failure; an injected crash kills the process
 * with SIGKILL. Always 0 in the shipped library.
 */
int fault_hit(struct passthru_ctx *ctx, const struct fault *f, const char *phase, const char *step,
	      unsigned index);
