/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fault injection for the crash tests: PASSTHRU_FAULT="PHASE:STEP:N[:fail]". Test build only
 * (see fault.h); the shipped library has fault-none.c instead.
 */
#include <signal.h>

#include "fault.h"

static const char *const fault_steps[] = {
    "after-journal", "after-override", "after-unbind",
    "after-probe",   "before-commit",  "after-write",
};

int fault_parse(const char *spec, struct fault *ret)
{
	_cleanup_free_ char *copy = NULL;
	char *parts[5];
	size_t n = 0;
	char *save = NULL;
	unsigned long index;
	bool step_ok = false;

	if (!spec || strlen(spec) > 128)
		return -EINVAL;
	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save)) {
		if (n == ELEMENTSOF(parts))
			return -EINVAL;
		parts[n++] = t;
	}
	if (n < 3 || n > 4)
		return -EINVAL;
	if (strcmp(parts[0], "bind") != 0 && strcmp(parts[0], "unbind") != 0 &&
	    strcmp(parts[0], "rollback") != 0 && strcmp(parts[0], "repair") != 0 &&
	    strcmp(parts[0], "write") != 0)
		return -EINVAL;
	for (size_t i = 0; i < ELEMENTSOF(fault_steps); i++)
		if (strcmp(parts[1], fault_steps[i]) == 0)
			step_ok = true;
	if (!step_ok || parse_ulong(parts[2], 100000, &index) < 0 || index < 1)
		return -EINVAL;
	if (n == 4 && strcmp(parts[3], "fail") != 0)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->phase, sizeof(ret->phase), "%s", parts[0]);
	snprintf(ret->step, sizeof(ret->step), "%s", parts[1]);
	ret->index = (unsigned)index;
	ret->fail = n == 4;
	ret->set = true;
	return 0;
}

void fault_from_environment(struct passthru_ctx *ctx, struct fault *ret)
{
	const char *spec = getenv("PASSTHRU_FAULT");

	memset(ret, 0, sizeof(*ret));
	if (spec && *spec && fault_parse(spec, ret) < 0) {
		log_debug(ctx, "ignoring malformed PASSTHRU_FAULT");
		memset(ret, 0, sizeof(*ret));
	}
}

int fault_hit(struct passthru_ctx *ctx, const struct fault *f, const char *phase, const char *step,
	      unsigned index)
{
	if (!f->set || strcmp(f->phase, phase) != 0 || strcmp(f->step, step) != 0 ||
	    f->index != index)
		return 0;
	if (f->fail) {
		log_debug(ctx, "injected failure at %s:%s:%u", phase, step, index);
		return -EIO;
	}
	log_debug(ctx, "injected crash at %s:%s:%u", phase, step, index);
	raise(SIGKILL);
	return -EIO;
}
