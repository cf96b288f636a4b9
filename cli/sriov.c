/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthru sriov PF [--vfs N] [--autoprobe on|off] [--bind-vfio] [--force] [--persist]
 * [--dry-run] [--timeout SEC]: make or remove a PF's VFs (see passthru-sriov(1)); without a
 * change, show them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "macro.h"
#include "options.h"
#include "takeover-cli.h"

/* On a terminal, counts this large get a live progress line. */
#define PROGRESS_MIN_VFS 8

static void help(void)
{
	printf("Usage: passthru sriov PF [--vfs N] [OPTIONS]\n"
	       "\n"
	       "Make or remove the VFs of an SR-IOV PF through its sriov_numvfs. The kernel\n"
	       "cannot change a count that is not 0, so a change removes every VF first.\n"
	       "Without --vfs, --autoprobe or --bind-vfio, show the PF's VFs.\n"
	       "\n"
	       "Options:\n"
	       "      --vfs N              end with N VFs (0 removes them)\n"
	       "      --autoprobe on|off   whether host drivers take new VFs\n"
	       "                           (sriov_drivers_autoprobe)\n"
	       "      --bind-vfio          new VFs go straight to vfio-pci (autoprobe off)\n"
	       "      --force              remove VFs that are on other drivers or that the host\n"
	       "                           uses (never those a VM holds)\n"
	       "      --persist            also save the settings for 'passthru apply'\n"
	       "  -n, --dry-run            print what would be done, change nothing\n"
	       "  -t, --timeout SEC        give up on a write after SEC seconds (default 60),\n"
	       "                           and on another passthru's lock after as long\n"
	       "                           (default 30)\n"
	       "  -h, --help               show this help\n"
	       "\n"
	       "See passthru-sriov(1).\n");
}

struct progress {
	const char *pf;
	bool tty, verbose, shown;
	unsigned min_shown;
};

static void on_progress(void *userdata, unsigned current, unsigned target)
{
	struct progress *p = userdata;

	if (p->verbose && target)
		fprintf(stderr, "passthru: %s: %u of %u VFs made\n", p->pf, current, target);
	else if (p->verbose)
		fprintf(stderr, "passthru: %s: %u VF%s left\n", p->pf, current,
			current == 1 ? "" : "s");
	else if (p->tty && (target >= p->min_shown || current >= p->min_shown)) {
		if (target)
			fprintf(stderr, "\r\033[K%s: making VFs: %u/%u", p->pf, current, target);
		else
			fprintf(stderr, "\r\033[K%s: removing VFs: %u left", p->pf, current);
		fflush(stderr);
		p->shown = true;
	}
}

static void progress_end(struct progress *p)
{
	if (p->shown)
		fputc('\n', stderr);
	p->shown = false;
}

/* "on"/"off" to 1/0; -1 for anything else. */
static int on_off(const char *s)
{
	if (strcmp(s, "on") == 0)
		return 1;
	if (strcmp(s, "off") == 0)
		return 0;
	return -1;
}

static int open_pf(struct cli *cli, const char *arg, unsigned flags, struct passthru_sriov **ret)
{
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	int r;

	if (passthru_pci_address_parse(arg, address) < 0)
		return cli_usage_error(
		    "sriov", "invalid PCI address '%s': use 0000:42:00.0 or 42:00.0", arg);
	r = passthru_sriov_new(cli->ctx, address, flags, ret);
	if (r == -ENODEV) {
		cli_error("%s: no such PCI device", address);
		cli_hint("'passthru list pci' shows the devices of this host");
		return EXIT_REFUSED;
	}
	if (r == -EOPNOTSUPP) {
		cli_error("%s: not an SR-IOV PF (it has no sriov_totalvfs)", address);
		return EXIT_REFUSED;
	}
	if (r < 0) {
		cli_error("%s: cannot read it: %s", address, strerror(-r));
		return EXIT_REFUSED;
	}
	return EXIT_DONE;
}

/* The PF's VFs, one line each: index, address, IOMMU group, driver. */
static int show(struct cli *cli, struct passthru_sriov *s)
{
	struct passthru_pci_device *pf = NULL;
	unsigned total = 0, current = 0;
	bool autoprobe = false;
	const char *const *vfs;
	int r;

	(void)passthru_sriov_get_totalvfs(s, &total);
	(void)passthru_sriov_get_numvfs(s, &current);
	r = passthru_pci_device_new(cli->ctx, passthru_sriov_get_pf(s), &pf);
	if (r < 0) {
		cli_error("%s: cannot read it: %s", passthru_sriov_get_pf(s), strerror(-r));
		return EXIT_REFUSED;
	}
	printf("%s: %u of %u VFs, driver %s, autoprobe %s\n", passthru_sriov_get_pf(s), current,
	       total, passthru_pci_device_get_driver(pf) ?: "none",
	       passthru_sriov_get_autoprobe(s, &autoprobe) < 0 ? "unknown"
	       : autoprobe				       ? "on"
							       : "off");
	vfs = passthru_pci_device_get_vfs(pf);
	if (*vfs)
		printf("%-4s %-12s %5s  %s\n", "VF", "DEVICE", "GROUP", "DRIVER");
	for (size_t i = 0; vfs[i]; i++) {
		struct passthru_pci_device *vf = NULL;
		char group[16] = "-";
		int g;

		if (passthru_pci_device_new(cli->ctx, vfs[i], &vf) < 0)
			continue; /* gone while we look */
		if (passthru_pci_device_get_iommu_group(vf, &g) >= 0)
			snprintf(group, sizeof(group), "%d", g);
		printf("%-4zu %-12s %5s  %s\n", i, vfs[i], group,
		       passthru_pci_device_get_driver(vf) ?: "-");
		passthru_pci_device_unref(vf);
	}
	passthru_pci_device_unref(pf);
	return EXIT_DONE;
}

static int report_refusals(struct passthru_sriov *s)
{
	bool in_use = false, forceable = false, no_driver = false;

	for (size_t i = 0; i < passthru_sriov_get_refusal_count(s); i++) {
		cli_error("%s: %s", passthru_sriov_get_refusal_address(s, i),
			  passthru_sriov_get_refusal_reason(s, i));
		switch (passthru_sriov_get_refusal_kind(s, i)) {
		case PASSTHRU_SRIOV_REFUSAL_IN_USE:
			in_use = true;
			break;
		case PASSTHRU_SRIOV_REFUSAL_DRIVER:
		case PASSTHRU_SRIOV_REFUSAL_GUARD:
			forceable = true;
			break;
		case PASSTHRU_SRIOV_REFUSAL_NO_DRIVER:
			no_driver = true;
			break;
		}
	}
	if (in_use || forceable)
		cli_error("%s: not changing its VFs: changing the count removes every VF first",
			  passthru_sriov_get_pf(s));
	if (in_use)
		cli_hint(
		    "shut down (or detach the VF from) the VM that holds it; nothing overrides "
		    "this");
	if (forceable)
		cli_hint("--force removes the VFs anyway");
	if (no_driver)
		cli_hint("bind the PF to its host driver first ('passthru unbind %s' if it is on "
			 "vfio-pci)",
			 passthru_sriov_get_pf(s));
	return EXIT_REFUSED;
}

static void print_plan(struct passthru_sriov *s)
{
	unsigned current = 0, target = 0;
	const char *const *steps = passthru_sriov_get_steps(s);
	const char *const *removed = passthru_sriov_get_removed(s);

	(void)passthru_sriov_get_numvfs(s, &current);
	(void)passthru_sriov_get_target(s, &target);
	printf("%s: %u VF%s now, %u after\n", passthru_sriov_get_pf(s), current,
	       current == 1 ? "" : "s", target);
	for (; *removed; removed++)
		printf("  removes %s\n", *removed);
	for (; *steps; steps++)
		printf("  would %s\n", *steps);
	for (const char *const *n = passthru_sriov_get_notes(s); *n; n++)
		printf("%s: %s\n", passthru_sriov_get_pf(s), *n);
}

static void print_result(struct passthru_sriov *s, unsigned before)
{
	unsigned now = 0;
	const char *const *vfs = passthru_sriov_get_vfs(s);
	struct passthru_takeover *t = passthru_sriov_get_takeover(s);

	(void)passthru_sriov_get_numvfs(s, &now);
	if (now == before)
		printf("%s: %u VF%s (as before)", passthru_sriov_get_pf(s), now,
		       now == 1 ? "" : "s");
	else
		printf("%s: %u VF%s (it had %u)", passthru_sriov_get_pf(s), now,
		       now == 1 ? "" : "s", before);
	for (; *vfs; vfs++)
		printf(" %s", *vfs);
	putchar('\n');
	if (t)
		takeover_cli_print_results(t);
	for (const char *const *n = passthru_sriov_get_notes(s); *n; n++) {
		fprintf(stderr, "passthru: %s: %s\n", passthru_sriov_get_pf(s), *n);
		if (strncmp(*n, "forced", 6) == 0) {
			openlog("passthru", LOG_PID, LOG_USER);
			syslog(LOG_WARNING, "sriov %s: %s", passthru_sriov_get_pf(s), *n);
			closelog();
		}
	}
}

static int report_failure(struct passthru_sriov *s, int r)
{
	struct passthru_takeover *t = passthru_sriov_get_takeover(s);
	const char *error = passthru_sriov_get_error(s);

	cli_error("%s", error ?: "failed");
	if (t) {
		for (const char *const *d = passthru_takeover_get_error_details(t); *d; d++)
			fprintf(stderr, "  %s\n", *d);
		cli_hint("'passthru bind' of the VFs tries the binding again");
	} else if (r == -EIO) {
		cli_hint("'dmesg' says why its driver did not make them; 'passthru sriov %s' shows "
			 "the VFs it has",
			 passthru_sriov_get_pf(s));
	} else if (error && strstr(error, "did not return within")) {
		cli_hint("the kernel may still finish: look at 'dmesg' and 'passthru sriov %s'",
			 passthru_sriov_get_pf(s));
	} else if (error && strstr(error, "/run/passthru/lock")) {
		cli_hint("wait for the other passthru to finish, then try again");
	}
	return EXIT_REFUSED;
}

int verb_sriov(struct cli *cli, int argc, char **argv)
{
	enum {
		OPT_VFS = 0x100,
		OPT_AUTOPROBE,
		OPT_BIND_VFIO,
		OPT_FORCE,
		OPT_PERSIST,
	};
	static const struct option options[] = {
	    {"vfs", required_argument, NULL, OPT_VFS},
	    {"autoprobe", required_argument, NULL, OPT_AUTOPROBE},
	    {"bind-vfio", no_argument, NULL, OPT_BIND_VFIO},
	    {"force", no_argument, NULL, OPT_FORCE},
	    {"persist", no_argument, NULL, OPT_PERSIST},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct passthru_sriov *s = NULL;
	struct progress progress = {.min_shown = PROGRESS_MIN_VFS};
	unsigned flags = 0, timeout = 0, before = 0, numvfs = 0, total = 0;
	struct cli_options opts = {"sriov", "nt:h", options, help, .timeout_ms = &timeout};
	bool has_vfs = false, persist = false, dry_run = false;
	int autoprobe = -1, c, r, ret;

	while ((c = cli_options_next(&opts, argc, argv)) >= 0) {
		switch (c) {
		case OPT_VFS: {
			char *end = NULL;
			unsigned long n;

			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || !end || *end || end == optarg || optarg[0] < '0' ||
			    optarg[0] > '9' || n > 65535)
				return cli_usage_error("sriov", "invalid VF count '%s'", optarg);
			numvfs = (unsigned)n;
			has_vfs = true;
			break;
		}
		case OPT_AUTOPROBE:
			autoprobe = on_off(optarg);
			if (autoprobe < 0)
				return cli_usage_error(
				    "sriov", "--autoprobe takes on or off, not '%s'", optarg);
			break;
		case OPT_BIND_VFIO:
			flags |= PASSTHRU_SRIOV_BIND_VFIO;
			break;
		case OPT_FORCE:
			flags |= PASSTHRU_SRIOV_FORCE;
			break;
		case OPT_PERSIST:
			persist = true;
			break;
		case 'n':
			dry_run = true;
			break;
		}
	}
	if (c == CLI_OPTIONS_EXIT)
		return opts.exit;
	if (optind >= argc)
		return cli_usage_error("sriov", "which PF?");
	if (optind + 1 < argc)
		return cli_usage_error("sriov", "unexpected argument '%s'", argv[optind + 1]);
	if ((flags & PASSTHRU_SRIOV_BIND_VFIO) && autoprobe == 1)
		return cli_usage_error("sriov", "--bind-vfio keeps host drivers off the new VFs: "
						"it cannot go with --autoprobe on");

	ret = open_pf(cli, argv[optind], flags, &s);
	if (ret != EXIT_DONE)
		return ret;
	if (!has_vfs && autoprobe < 0 && !(flags & PASSTHRU_SRIOV_BIND_VFIO)) {
		if (persist || dry_run || (flags & PASSTHRU_SRIOV_FORCE))
			ret = cli_usage_error("sriov", "nothing to do: give --vfs, --autoprobe or "
						       "--bind-vfio");
		else
			ret = show(cli, s);
		goto out;
	}

	(void)passthru_sriov_get_numvfs(s, &before);
	(void)passthru_sriov_get_totalvfs(s, &total);
	if (has_vfs && passthru_sriov_set_numvfs(s, numvfs) == -ERANGE) {
		cli_error("%s: cannot have %u VFs: it offers at most %u (sriov_totalvfs)",
			  passthru_sriov_get_pf(s), numvfs, total);
		ret = EXIT_REFUSED;
		goto out;
	}
	(void)passthru_sriov_set_autoprobe(s, autoprobe);
	passthru_sriov_set_timeout(s, timeout);
	passthru_sriov_set_wait_fn(s, takeover_cli_on_lock_wait, NULL);
	progress.pf = passthru_sriov_get_pf(s);
	progress.tty = isatty(STDERR_FILENO);
	progress.verbose = cli->verbose;
	passthru_sriov_set_progress_fn(s, on_progress, &progress);

	r = passthru_sriov_plan(s);
	if (r == -EPERM) {
		if (dry_run)
			print_plan(s);
		ret = report_refusals(s);
		goto out;
	}
	if (r < 0) {
		cli_error("%s: cannot plan: %s", passthru_sriov_get_pf(s), strerror(-r));
		ret = EXIT_REFUSED;
		goto out;
	}
	if (dry_run) {
		print_plan(s);
		ret = EXIT_DONE;
		goto out;
	}
	r = passthru_sriov_execute(s);
	progress_end(&progress);
	if (r == -EPERM && !passthru_sriov_get_takeover(s) && passthru_sriov_get_refusal_count(s)) {
		ret = report_refusals(s);
		goto out;
	}
	if (r < 0) {
		ret = report_failure(s, r);
		goto out;
	}
	print_result(s, before);
	ret = EXIT_DONE;
	if (persist) {
		r = passthru_sriov_save(s);
		if (r < 0) {
			cli_error("%s: cannot save the settings in /etc/passthru/vf.d: %s",
				  passthru_sriov_get_pf(s), strerror(-r));
			ret = EXIT_REFUSED;
		} else {
			printf("%s: saved in /etc/passthru/vf.d/%s.conf for 'passthru apply'\n",
			       passthru_sriov_get_pf(s), passthru_sriov_get_pf(s));
		}
	}
out:
	passthru_sriov_unref(s);
	return ret;
}
