/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthru unbind --persist gives a persisted storage controller back for good: the files that
 * claimed it early and hid its disks (lib/storage-claim.c) go, and the initramfs that carries
 * them is regenerated, so that after the next boot the host sees the drive again.
 */
#include <stdio.h>
#include <string.h>

#include "host.h"
#include "storage-claim.h"
#include "storage-cli.h"

int storage_cli_sync(struct cli *cli)
{
	_cleanup_free_ char *output = NULL, *error = NULL, *line = NULL;
	struct storage_plan plan;
	int r;

	r = storage_plan_make(cli->ctx, &plan);
	if (r < 0) {
		cli_error("cannot work out the early claim of persisted storage: %s", strerror(-r));
		return EXIT_REFUSED;
	}
	if (plan.n_files == 0) {
		storage_plan_done(&plan);
		return EXIT_DONE;
	}
	r = storage_plan_apply(cli->ctx, &plan, &output, &error);
	if (r < 0) {
		cli_error("%s", error ? error : strerror(-r));
		if (output && *output)
			fputs(output, stderr);
		storage_plan_done(&plan);
		return EXIT_REFUSED;
	}
	for (size_t i = 0; i < plan.n_files; i++)
		printf("%s %s\n", plan.files[i].new ? "Wrote" : "Removed", plan.files[i].path);
	if (plan.initramfs_argv) {
		line = argv_join(plan.initramfs_argv);
		printf("Ran %s\n", line ? line : plan.initramfs_argv[0]);
	}
	if (cli->verbose && output)
		fputs(output, stderr);
	storage_plan_done(&plan);
	return EXIT_DONE;
}

void storage_cli_hint(struct cli *cli)
{
	struct storage_plan plan;

	if (storage_plan_make(cli->ctx, &plan) < 0)
		return;
	if (plan.n_targets && plan.n_files)
		cli_hint("a persisted storage controller must not reach its host driver at boot: "
			 "passthru setup --apply writes its early claim (%zu files%s)",
			 plan.n_files,
			 plan.initramfs_argv ? ", and regenerates the initramfs" : "");
	storage_plan_done(&plan);
}
