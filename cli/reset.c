/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthru reset DEVICE [--method M] [--force] [--timeout SEC]: reset a PCI function through
 * sysfs, after the same guards as bind.
 */
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "options.h"
#include "service-client.h"
#include "takeover-cli.h"

static void help(void)
{
	printf("Usage: passthru reset [OPTIONS] DEVICE\n"
	       "\n"
	       "Reset a PCI function through the kernel (its sysfs reset attribute). A device\n"
	       "a VM holds, or one the host uses (as bind tells), is refused.\n"
	       "\n"
	       "Options:\n"
	       "  -m, --method M     use reset method M only (flr, af_flr, pm, bus, cxl_bus;\n"
	       "                     'passthru show DEVICE' lists the device's)\n"
	       "  -f, --force        reset even what the host uses (logged)\n"
	       "  -t, --timeout SEC  give up after SEC seconds (default 10)\n"
	       "  -h, --help         show this help\n"
	       "\n"
	       "A device that passthrud has allocated to a VM is refused, even with --force:\n"
	       "passthru release ID first. So is a device of one of its Kubernetes resources\n"
	       "(the kubelet's): take it out in /etc/passthru/kubernetes.d first.\n"
	       "\n"
	       "See passthru-bind(1).\n");
}

int verb_reset(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"method", required_argument, NULL, 'm'},
	    {"force", no_argument, NULL, 'f'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct passthru_takeover *t = NULL;
	const char *method = NULL;
	unsigned timeout = 0, flags = 0;
	struct cli_options opts = {"reset", "m:ft:h", options, help, .timeout_ms = &timeout};
	int c, r, ret = EXIT_DONE;

	while ((c = cli_options_next(&opts, argc, argv)) >= 0) {
		switch (c) {
		case 'm':
			method = optarg;
			break;
		case 'f':
			flags |= PASSTHRU_TAKEOVER_FORCE;
			break;
		}
	}
	if (c == CLI_OPTIONS_EXIT)
		return opts.exit;
	if (optind != argc - 1)
		return cli_usage_error("reset", "name exactly one device");

	r = passthru_takeover_new(cli->ctx, PASSTHRU_TAKEOVER_RESET, flags, &t);
	if (r < 0) {
		cli_error("cannot start: %s", strerror(-r));
		return EXIT_REFUSED;
	}
	passthru_takeover_set_timeout(t, timeout);
	takeover_cli_say_lock_wait(t);
	if (method && passthru_takeover_set_reset_method(t, method) < 0) {
		passthru_takeover_unref(t);
		return cli_usage_error("reset", "invalid reset method '%s'", method);
	}
	ret = takeover_cli_add_devices("reset", t, 1, argv + optind);
	if (ret != EXIT_DONE)
		goto out;
	ret = service_check_takeover(cli, t, "reset");
	if (ret != EXIT_DONE)
		goto out;
	r = passthru_takeover_execute(t);
	takeover_cli_report_repair(t);
	if (r == -EPERM) {
		ret = takeover_cli_report_refusals(t, "reset");
		goto out;
	}
	if (r < 0) {
		ret = takeover_cli_report_failure(t, "reset");
		goto out;
	}
	takeover_cli_print_results(t);
	takeover_cli_print_notes(t, "reset");
out:
	passthru_takeover_unref(t);
	return ret;
}
