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
	printf("Usage: passthru bind [OPTIONS] DEVICE...\n"
	       "\n"
	       "Hand PCI devices to vfio-pci so that VMs can use them. Every device of an IOMMU\n"
	       "group must leave the host together; the host's own devices are refused.\n"
	       "\n"
	       "Options:\n"
	       "  -g, --group        also bind the other devices of each IOMMU group\n"
	       "  -p, --persist      bind them again at every boot (passthru apply)\n"
	       "  -f, --force        bind even what the host uses (logged)\n"
	       "  -n, --dry-run      print the plan, change nothing\n"
	       "  -t, --timeout SEC  give up on a stuck unbind after SEC seconds (default 10),\n"
	       "                     and on another passthru's lock after as long (default 30)\n"
	       "  -h, --help         show this help\n"
	       "\n"
	       "A device that passthrud has allocated to a VM is refused, even with --force:\n"
	       "passthru release ID first. So is a device of one of its Kubernetes resources\n"
	       "(the kubelet's): take it out in /etc/passthru/kubernetes.d first. The service's\n"
	       "socket: $PASSTHRUD_SOCKET, else " SERVICE_SOCKET_DEFAULT ".\n"
	       "\n"
	       "See passthru-bind(1).\n");
}

static int persist_bound(struct cli *cli, struct passthru_takeover *t, bool force)
{
	struct passthru_persist *p = NULL;
	int r, ret = EXIT_DONE;

	r = passthru_persist_load(cli->ctx, &p);
	if (r < 0) {
		cli_error("cannot read /etc/passthru/bindings.conf: %s", strerror(-r));
		cli_hint("fix or remove the file, then: passthru bind --persist ...");
		return EXIT_REFUSED;
	}
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
	r = passthru_persist_save(p);
	if (r < 0) {
		cli_error("cannot write /etc/passthru/bindings.conf: %s", strerror(-r));
		cli_hint("the devices are bound for this boot only");
		ret = EXIT_REFUSED;
	} else if (takeover_cli_write_modprobe(p) != EXIT_DONE) {
		ret = EXIT_REFUSED;
	} else {
		storage_cli_hint(cli);
	}
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
