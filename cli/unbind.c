/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthru unbind DEVICE... [--group] [--persist] [--dry-run] [--timeout SEC]: give devices
 * back from vfio-pci to their host drivers (see passthru-bind(1)).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "storage-cli.h"
#include "service-client.h"
#include "takeover-cli.h"

static void help(void)
{
	printf(
	    "Usage: passthru unbind [OPTIONS] DEVICE...\n"
	    "\n"
	    "Give PCI devices back from vfio-pci to the host: the driver they had before\n"
	    "passthru bound them, else the best matching one. A device a VM holds is refused.\n"
	    "\n"
	    "Options:\n"
	    "  -g, --group        also give back the other devices of each IOMMU group\n"
	    "  -p, --persist      no longer bind them at boot\n"
	    "  -f, --force        even from a VM that holds them: ask it to let go and\n"
	    "                     wait for it up to the timeout (logged)\n" TAKEOVER_CLI_HELP_END);
}

/* Forgets the persisted wish of every device named (and, with --group, given back). */
static int forget(struct cli *cli, struct passthru_takeover *t, bool force)
{
	struct passthru_persist *p = NULL;
	bool changed = false;
	int ret;

	ret = takeover_cli_load_persist(cli, "unbind", &p);
	if (ret != EXIT_DONE)
		return ret;
	for (size_t i = 0; i < passthru_takeover_get_count(t); i++) {
		const char *address = passthru_takeover_get_address(t, i);

		if (!passthru_takeover_is_requested(t, i) &&
		    passthru_takeover_get_action(t, i) != PASSTHRU_ACTION_UNBIND)
			continue;
		if (passthru_persist_remove(p, address) >= 0) {
			printf("%s: no longer bound at boot\n", address);
			changed = true;
		}
	}
	if (changed) {
		ret = takeover_cli_save_persist(p, NULL);
		if (ret == EXIT_DONE)
			ret = storage_cli_sync(cli);
	}
	passthru_persist_unref(p);
	return ret;
}

int verb_unbind(struct cli *cli, int argc, char **argv)
{
	static const struct takeover_verb unbind = {
	    .name = "unbind",
	    .op = PASSTHRU_TAKEOVER_UNBIND,
	    .help = help,
	    .persist = forget,
	};

	return takeover_cli_run(cli, &unbind, argc, argv);
}
