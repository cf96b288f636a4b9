/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthru unbind --persist gives a persisted storage controller back for good: the files that
 * claimed it early and hid its disks go, and the initramfs that carries them is regenerated,
 * so that after the next boot the host sees the drive again (passthru_storage_claim_*).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "storage-cli.h"

static void claim_unrefp(struct passthru_storage_claim **c)
{
	passthru_storage_claim_unref(*c);
}

int storage_cli_sync(struct cli *cli)
{
	_cleanup_(claim_unrefp) struct passthru_storage_claim *c = NULL;
	const char *output;
	int r;

	r = passthru_storage_claim_new(cli->ctx, &c);
	if (r < 0) {
		cli_error("cannot work out the early claim of persisted storage: %s", strerror(-r));
		return EXIT_REFUSED;
	}
	if (passthru_storage_claim_count(c) == 0)
		return EXIT_DONE;
	r = passthru_storage_claim_apply(c);
	output = passthru_storage_claim_get_output(c);
	if (r < 0) {
		cli_error("%s", passthru_storage_claim_get_error(c));
		if (output)
			fputs(output, stderr);
		return EXIT_REFUSED;
	}
	for (size_t i = 0; i < passthru_storage_claim_count(c); i++)
		printf("%s %s\n", passthru_storage_claim_get_removes(c, i) ? "Removed" : "Wrote",
		       passthru_storage_claim_get_path(c, i));
	if (passthru_storage_claim_get_command(c))
		printf("Ran %s\n", passthru_storage_claim_get_command(c));
	if (cli->verbose && output)
		fputs(output, stderr);
	return EXIT_DONE;
}

void storage_cli_record(struct cli *cli, int n, char **devices)
{
	for (int i = 0; i < n; i++) {
		int r = passthru_storage_claim_record(cli->ctx, devices[i]);

		if (r < 0 && r != -EINVAL)
			fprintf(stderr,
				"passthru: %s: cannot keep the ids of its disks in "
				"/etc/passthru/lvm-devices: %s\n",
				devices[i], strerror(-r));
	}
}

void storage_cli_hint(struct cli *cli)
{
	_cleanup_(claim_unrefp) struct passthru_storage_claim *c = NULL;

	const char *const *notes;

	if (passthru_storage_claim_new(cli->ctx, &c) < 0)
		return;
	/* Each names the drive and the commands that complete its prevention. */
	notes = passthru_storage_claim_get_notes(c);
	for (size_t i = 0; notes && notes[i]; i++)
		fprintf(stderr, "passthru: %s\n", notes[i]);
	if (passthru_storage_claim_get_target_count(c) && passthru_storage_claim_count(c))
		cli_hint("a persisted storage controller must not reach its host driver at boot: "
			 "passthru setup --apply writes its early claim (%zu files%s)",
			 passthru_storage_claim_count(c),
			 passthru_storage_claim_get_command(c) ? ", and regenerates the initramfs"
							       : "");
}
