/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthru apply [--dry-run] [--timeout SEC]: bring the host to every persisted setting: the
 * SR-IOV settings of /etc/passthru/vf.d/ first (VF counts, autoprobe, VFs to vfio-pci, VF link
 * settings: the VFs must exist before bindings of VFs), then the bindings of
 * /etc/passthru/bindings.conf. What passthru-apply.service runs at boot, before VMs start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "options.h"
#include "takeover-cli.h"

static void help(void)
{
	printf("Usage: passthru apply [OPTIONS]\n"
	       "\n"
	       "Apply every persisted setting: first the SR-IOV settings saved with 'passthru\n"
	       "sriov --persist' and 'passthru vf --persist' (VF counts, autoprobe, VFs to\n"
	       "vfio-pci, VF link settings), then bind the devices saved with 'passthru bind\n"
	       "--persist' to vfio-pci, one IOMMU group at a time. A device that is no longer\n"
	       "the one that was saved at its address is refused.\n"
	       "\n"
	       "Options:\n"
	       "  -n, --dry-run      print the plans, change nothing\n"
	       "  -t, --timeout SEC  give up on a stuck unbind after SEC seconds (default 10),\n"
	       "                     and on another passthru's lock after as long (default 30)\n"
	       "  -h, --help         show this help\n"
	       "\n"
	       "See passthru-bind(1) and passthru-sriov(1).\n");
}

/* "10de:1b80 (subsystem 1458:3702)" from "10de:1b80:1458:3702". */
static void describe_identity(const char *id, char *buf, size_t size)
{
	if (strlen(id) == 19)
		snprintf(buf, size, "%.9s (subsystem %.9s)", id, id + 10);
	else
		snprintf(buf, size, "%s", id);
}

struct apply_state {
	struct cli *cli;
	bool dry_run;
	/* Something persisted was seen: a setting, a binding, an unreadable store. */
	bool any;
	char *last_failed_pf;
};

/* Says why entry i of the bindings does not apply to the host. */
static void on_binding_refused(void *userdata, struct passthru_persist *p, size_t i, int r)
{
	struct apply_state *st = userdata;
	const char *address = passthru_persist_get_address(p, i);
	char wanted[64], now[64] = "something unreadable";

	st->any = true;
	describe_identity(passthru_persist_get_identity(p, i), wanted, sizeof(wanted));
	if (r == -ENODEV) {
		cli_error("%s: saved for %s, but there is no device at this address now", address,
			  wanted);
	} else if (r == -ESTALE) {
		struct passthru_pci_device *dev = NULL;
		uint16_t v, d, sv = 0, sd = 0;

		if (passthru_pci_device_new(st->cli->ctx, address, &dev) >= 0 &&
		    passthru_pci_device_get_vendor_id(dev, &v) >= 0 &&
		    passthru_pci_device_get_device_id(dev, &d) >= 0) {
			(void)passthru_pci_device_get_subsystem_vendor_id(dev, &sv);
			(void)passthru_pci_device_get_subsystem_device_id(dev, &sd);
			snprintf(now, sizeof(now), "%04x:%04x (subsystem %04x:%04x)", v, d, sv, sd);
		}
		passthru_pci_device_unref(dev);
		cli_error("%s: saved for %s, but the address now holds %s: not binding it", address,
			  wanted, now);
	} else {
		cli_error("%s: cannot read it: %s", address, strerror(-r));
		return;
	}
	cli_hint("'passthru unbind --persist %s' forgets the old device; 'passthru bind --persist "
		 "%s' saves the one there now",
		 address, address);
}

static void on_bindings_unreadable(void *userdata, int r)
{
	struct apply_state *st = userdata;

	st->any = true;
	cli_error("cannot read /etc/passthru/bindings.conf: %s", strerror(-r));
	cli_hint("fix the line named above, or remove the file and persist again");
}

/* One IOMMU group's bindings: its plan (dry run) or what its execution did. */
static void on_group(void *userdata, struct passthru_takeover *t, int r)
{
	struct apply_state *st = userdata;

	st->any = true;
	if (!t) {
		cli_error("cannot start: %s", strerror(-r));
		return;
	}
	if (st->dry_run) {
		(void)takeover_cli_report_plan(t, r, "bind");
		return;
	}
	takeover_cli_report_repair(t);
	if (r == -EPERM) {
		(void)takeover_cli_report_refusals(t, "bind");
	} else if (r < 0) {
		(void)takeover_cli_report_failure(t, "apply");
	} else {
		takeover_cli_print_results(t);
		takeover_cli_print_notes(t, "apply");
	}
}

static void on_modprobe(void *userdata, struct passthru_persist *p, int r)
{
	(void)userdata;
	(void)p;
	(void)takeover_cli_report_modprobe(r);
}

/* One line per thing the SR-IOV settings did or refused; a hint once per PF that failed. */
static void on_sriov_report(void *userdata, const char *pf, int error, const char *message)
{
	struct apply_state *rep = userdata;

	rep->any = true;
	if (error >= 0) {
		printf("%s: %s\n", pf, message);
		return;
	}
	/* Some of the library's messages name the file or the PF already. */
	if (strncmp(message, "/etc/passthru/vf.d/", 19) == 0 ||
	    strncmp(message, pf, strlen(pf)) == 0)
		cli_error("%s", message);
	else
		cli_error("%s: %s", pf, message);
	if (pf[0] == '/' || (rep->last_failed_pf && strcmp(rep->last_failed_pf, pf) == 0))
		return;
	free(rep->last_failed_pf);
	rep->last_failed_pf = strdup(pf);
	cli_hint(
	    "'passthru sriov %s' shows the PF now; 'passthru sriov %s ... --persist' saves its "
	    "settings anew, removing /etc/passthru/vf.d/%s.conf forgets them",
	    pf, pf, pf);
}

int verb_apply(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	unsigned timeout = 0;
	struct cli_options opts = {"apply", "nt:h", options, help, .timeout_ms = &timeout};
	static const struct passthru_apply_ops ops = {
	    .sriov = on_sriov_report,
	    .bindings_unreadable = on_bindings_unreadable,
	    .binding_refused = on_binding_refused,
	    .group = on_group,
	    .lock_wait = takeover_cli_on_lock_wait,
	    .modprobe = on_modprobe,
	};
	struct apply_state st = {.cli = cli};
	bool dry_run = false;
	int c, r, ret = EXIT_DONE;

	while ((c = cli_options_next(&opts, argc, argv)) >= 0) {
		switch (c) {
		case 'n':
			dry_run = true;
			break;
		}
	}
	if (c == CLI_OPTIONS_EXIT)
		return opts.exit;
	if (optind < argc)
		return cli_usage_error("apply", "unexpected argument '%s'", argv[optind]);

	st.dry_run = dry_run;
	r = passthru_apply_persisted(cli->ctx, dry_run ? PASSTHRU_APPLY_DRY_RUN : 0, timeout, &ops,
				     &st);
	free(st.last_failed_pf);
	if (r < 0)
		ret = EXIT_REFUSED;
	if (!st.any)
		printf("Nothing is persisted.\n");
	return ret;
}
