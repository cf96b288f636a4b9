/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthru bind DEVICE... [--group] [--persist] [--force] [--dry-run] [--timeout SEC]: hand
 * PCI functions to vfio-pci (see passthru-bind(1)).
 */
#include <stdio.h>
#include <string.h>

#include "storage-cli.h"
#include "service-client.h"
#include "takeover-cli.h"

static void help(void)
{
	printf(
	    "Usage: passthru bind [OPTIONS] DEVICE...\n"
	    "\n"
	    "Hand PCI devices to vfio-pci so that VMs can use them. Every device of an IOMMU\n"
	    "group must leave the host together; the host's own devices are refused.\n"
	    "\n"
	    "Options:\n"
	    "  -g, --group        also bind the other devices of each IOMMU group\n"
	    "  -p, --persist      bind them again at every boot (passthru apply)\n"
	    "  -f, --force        bind even what the host uses (logged)\n" TAKEOVER_CLI_HELP_END);
}

static int persist_bound(struct cli *cli, struct passthru_takeover *t, bool force)
{
	struct passthru_persist *p = NULL;
	int r, ret;

	ret = takeover_cli_load_persist(cli, "bind", &p);
	if (ret != EXIT_DONE)
		return ret;
	for (size_t i = 0; i < passthru_takeover_get_count(t); i++) {
		struct passthru_pci_device *dev = NULL;
		const char *address = passthru_takeover_get_address(t, i);
		const char *result = passthru_takeover_get_result(t, i);
		enum passthru_takeover_action a = passthru_takeover_get_action(t, i);

		/* What ended on vfio-pci, as named or as part of a group bind. */
		if (a != PASSTHRU_ACTION_BIND &&
		    !(a == PASSTHRU_ACTION_NONE && passthru_takeover_is_requested(t, i)))
			continue;
		if (!result || strcmp(result, "vfio-pci") != 0)
			continue;
		r = passthru_pci_device_new(cli->ctx, address, &dev);
		if (r >= 0)
			r = passthru_persist_add(p, dev, passthru_takeover_get_original(t, i),
						 force);
		passthru_pci_device_unref(dev);
		if (r < 0) {
			cli_error("%s: cannot persist it: %s", address, strerror(-r));
			ret = EXIT_REFUSED;
		}
	}
	if (takeover_cli_save_persist(p, "the devices are bound for this boot only") != EXIT_DONE)
		ret = EXIT_REFUSED;
	else
		storage_cli_hint(cli);
	passthru_persist_unref(p);
	return ret;
}

int verb_bind(struct cli *cli, int argc, char **argv)
{
	static const struct takeover_verb bind = {
	    .name = "bind",
	    .op = PASSTHRU_TAKEOVER_BIND,
	    .help = help,
	    .prepare = storage_cli_record,
	    .persist = persist_bound,
	};

	return takeover_cli_run(cli, &bind, argc, argv);
}
