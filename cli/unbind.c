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
	printf("Usage: passthru unbind [OPTIONS] DEVICE...\n"
	       "\n"
	       "Give PCI devices back from vfio-pci to the host: the driver they had before\n"
	       "passthru bound them, else the best matching one. A device a VM holds is refused.\n"
	       "\n"
	       "Options:\n"
	       "  -g, --group        also give back the other devices of each IOMMU group\n"
	       "  -p, --persist      no longer bind them at boot\n"
	       "  -f, --force        even from a VM that holds them: ask it to let go and\n"
	       "                     wait for it up to the timeout (logged)\n"
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

/* Forgets the persisted wish of every device named (and, with --group, given back). */
static int forget(struct cli *cli, struct passthru_takeover *t, bool force)
{
	struct passthru_persist *p = NULL;
	bool changed = false;
	int r, ret = EXIT_DONE;

	r = passthru_persist_load(cli->ctx, &p);
	if (r < 0) {
		cli_error("cannot read /etc/passthru/bindings.conf: %s", strerror(-r));
		cli_hint("fix or remove the file, then: passthru unbind --persist ...");
		return EXIT_REFUSED;
	}
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
		r = passthru_persist_save(p);
		if (r < 0) {
			cli_error("cannot write /etc/passthru/bindings.conf: %s", strerror(-r));
			ret = EXIT_REFUSED;
		} else if (takeover_cli_write_modprobe(p) != EXIT_DONE) {
			ret = EXIT_REFUSED;
		} else {
			ret = storage_cli_sync(cli);
		}
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
