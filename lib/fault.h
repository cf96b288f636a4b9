/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: fault injection for the crash tests (fault.c).
 */
#pragma once

#include <stdbool.h>

/* PASSTHRU_FAULT: "PHASE:STEP:N[:fail]" (see the header's Takeover section). */
struct fault {
	char phase[16];
	char step[16];
	unsigned index;
	bool fail;
	bool set;
};
int fault_parse(const char *spec, struct fault *ret);
