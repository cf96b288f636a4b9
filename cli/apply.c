/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthru apply [--dry-run] [--timeout SEC]: bring the host to every persisted setting: the
 * SR-IOV settings of /etc/passthru/vf.d/ first (VF counts, autoprobe, VFs to vfio-pci, VF link
 * settings: the VFs must exist before bindings of VFs), then the bindings of
 * /etc/passthru/bindings.conf. What passthru-apply.service runs at boot, before VMs start.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
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
	       "  -t, --timeout SEC  give up on a stuck unbind after SEC seconds (default 10)\n"
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

/* Says why entry i does not apply to the host; EXIT_DONE when it does. */
static int check_entry(struct cli *cli, struct passthru_persist *p, size_t i)
{
	const char *address = passthru_persist_get_address(p, i);
	char wanted[64], now[64] = "something unreadable";
	int r = passthru_persist_check(p, i);

	describe_identity(passthru_persist_get_identity(p, i), wanted, sizeof(wanted));
	if (r == -ENODEV) {
		cli_error("%s: saved for %s, but there is no device at this address now", address,
			  wanted);
	} else if (r == -ESTALE) {
		struct passthru_pci_device *dev = NULL;
		uint16_t v, d, sv = 0, sd = 0;

		if (passthru_pci_device_new(cli->ctx, address, &dev) >= 0 &&
		    passthru_pci_device_get_vendor_id(dev, &v) >= 0 &&
		    passthru_pci_device_get_device_id(dev, &d) >= 0) {
			(void)passthru_pci_device_get_subsystem_vendor_id(dev, &sv);
			(void)passthru_pci_device_get_subsystem_device_id(dev, &sd);
			snprintf(now, sizeof(now), "%04x:%04x (subsystem %04x:%04x)", v, d, sv, sd);
		}
		passthru_pci_device_unref(dev);
		cli_error("%s: saved for %s, but the address now holds %s: not binding it", address,
			  wanted, now);
	} else if (r < 0) {
		cli_error("%s: cannot read it: %s", address, strerror(-r));
		return EXIT_REFUSED;
	} else {
		return EXIT_DONE;
	}
	cli_hint("'passthru unbind --persist %s' forgets the old device; 'passthru bind --persist "
		 "%s' saves the one there now",
		 address, address);
	return EXIT_REFUSED;
}

struct sriov_report {
	bool any;
	char *last_failed_pf;
};

/* One line per thing the SR-IOV settings did or refused; a hint once per PF that failed. */
static void on_sriov_report(void *userdata, const char *pf, int error, const char *message)
{
	struct sriov_report *rep = userdata;

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
	if (rep->last_failed_pf && strcmp(rep->last_failed_pf, pf) == 0)
		return;
	free(rep->last_failed_pf);
	rep->last_failed_pf = strdup(pf);
	cli_hint(
	    "'passthru sriov %s' shows the PF now; 'passthru sriov %s ... --persist' saves its "
	    "settings anew, removing /etc/passthru/vf.d/%s.conf forgets them",
	    pf, pf, pf);
}

struct bucket {
	int group;
	bool force;
	char **addresses;
};

static int apply_bucket(struct cli *cli, const struct bucket *b, bool dry_run, unsigned timeout)
{
	struct passthru_takeover *t = NULL;
	int r, ret;

	r = passthru_takeover_new(cli->ctx, PASSTHRU_TAKEOVER_BIND,
				  b->force ? PASSTHRU_TAKEOVER_FORCE : 0, &t);
	if (r < 0) {
		cli_error("cannot start: %s", strerror(-r));
		return EXIT_REFUSED;
	}
	passthru_takeover_set_timeout(t, timeout);
	ret = takeover_cli_add_devices("apply", t, (int)strv_length(b->addresses), b->addresses);
	if (ret != EXIT_DONE)
		goto out;
	if (dry_run) {
		ret = takeover_cli_dry_run(t, "bind");
		goto out;
	}
	r = passthru_takeover_execute(t);
	takeover_cli_report_repair(t);
	if (r == -EPERM)
		ret = takeover_cli_report_refusals(t, "bind");
	else if (r < 0)
		ret = takeover_cli_report_failure(t, "apply");
	else {
		takeover_cli_print_results(t);
		takeover_cli_print_notes(t, "apply");
		ret = EXIT_DONE;
	}
out:
	passthru_takeover_unref(t);
	return ret;
}

int verb_apply(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"dry-run", no_argument, NULL, 'n'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct sriov_report sriov = {0};
	struct passthru_persist *p = NULL;
	struct bucket *buckets = NULL;
	size_t n_buckets = 0;
	unsigned timeout = 0;
	bool dry_run = false;
	int c, r, ret = EXIT_DONE;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":nt:h", options, NULL)) >= 0) {
		switch (c) {
		case 'n':
			dry_run = true;
			break;
		case 't':
			ret = takeover_cli_parse_timeout("apply", optarg, &timeout);
			if (ret != EXIT_DONE)
				return ret;
			break;
		case 'h':
			help();
			return EXIT_DONE;
		case ':':
			return cli_usage_error("apply", "option '%s' needs a value",
					       argv[optind - 1]);
		default:
			return cli_usage_error("apply", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error("apply", "unexpected argument '%s'", argv[optind]);

	/* VFs first: bindings of VFs need them to exist. */
	r = passthru_sriov_apply_persisted(cli->ctx, dry_run ? PASSTHRU_SRIOV_APPLY_DRY_RUN : 0,
					   on_sriov_report, &sriov);
	free(sriov.last_failed_pf);
	if (r < 0) {
		if (!sriov.any)
			cli_error("cannot read /etc/passthru/vf.d: %s", strerror(-r));
		ret = EXIT_REFUSED;
	}

	r = passthru_persist_load(cli->ctx, &p);
	if (r < 0) {
		cli_error("cannot read /etc/passthru/bindings.conf: %s", strerror(-r));
		cli_hint("fix the line named above, or remove the file and persist again");
		return EXIT_REFUSED;
	}

	/* One transaction per IOMMU group: a bad device does not keep the others from VMs. */
	for (size_t i = 0; i < passthru_persist_get_count(p); i++) {
		struct passthru_pci_device *dev = NULL;
		const char *address = passthru_persist_get_address(p, i);
		struct bucket *b = NULL;
		int group = -1;

		if (check_entry(cli, p, i) != EXIT_DONE) {
			ret = EXIT_REFUSED;
			continue;
		}
		if (passthru_pci_device_new(cli->ctx, address, &dev) >= 0 &&
		    passthru_pci_device_get_iommu_group(dev, &group) < 0)
			group = -1;
		passthru_pci_device_unref(dev);
		for (size_t k = 0; group >= 0 && k < n_buckets; k++)
			if (buckets[k].group == group)
				b = &buckets[k];
		if (!b) {
			struct bucket *nb = realloc(buckets, (n_buckets + 1) * sizeof(*nb));

			if (!nb) {
				ret = EXIT_REFUSED;
				break;
			}
			buckets = nb;
			b = &buckets[n_buckets++];
			*b = (struct bucket){.group = group};
		}
		b->force |= passthru_persist_get_force(p, i);
		if (strv_push(&b->addresses, address) < 0) {
			ret = EXIT_REFUSED;
			break;
		}
	}
	for (size_t k = 0; k < n_buckets; k++)
		if (apply_bucket(cli, &buckets[k], dry_run, timeout) != EXIT_DONE)
			ret = EXIT_REFUSED;
	if (!dry_run && takeover_cli_write_modprobe(p) != EXIT_DONE)
		ret = EXIT_REFUSED;
	if (passthru_persist_get_count(p) == 0 && !sriov.any)
		printf("Nothing is persisted.\n");

	for (size_t k = 0; k < n_buckets; k++)
		strv_free(buckets[k].addresses);
	free(buckets);
	passthru_persist_unref(p);
	return ret;
}
