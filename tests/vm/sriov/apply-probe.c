/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sriov-apply-probe [--dry-run]: runs passthru_sriov_apply_persisted(), the hook `passthru
 * apply` calls at boot, and prints each report as "PF ERRNO MESSAGE". Exits 0 when everything
 * was applied, 1 otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "passthru.h"

static void report(void *userdata, const char *pf, int error, const char *message)
{
	(void)userdata;
	printf("%s %d %s\n", pf, error, message);
}

int main(int argc, char **argv)
{
	struct passthru_ctx *ctx = NULL;
	unsigned flags = 0;
	int r;

	if (argc > 1 && strcmp(argv[1], "--dry-run") == 0)
		flags |= PASSTHRU_SRIOV_APPLY_DRY_RUN;
	r = passthru_ctx_new(NULL, &ctx);
	if (r < 0) {
		fprintf(stderr, "passthru_ctx_new: %s\n", strerror(-r));
		return 1;
	}
	r = passthru_sriov_apply_persisted(ctx, flags, report, NULL);
	printf("result %d\n", r);
	passthru_ctx_unref(ctx);
	return r < 0 ? 1 : 0;
}
