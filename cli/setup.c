/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthru setup [--apply] [--hugepages SIZE:COUNT] [--blacklist DRIVER]... [--force]: prepares
 * the host as the product chapter describes. Without --apply it only shows the change as a
 * unified diff and the commands it would run; with --apply it backs up, writes atomically, runs
 * them, and says whether a reboot is needed. A second run finds nothing to change.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"

static void help(void)
{
	printf(
	    "Usage: passthru setup [--apply] [--hugepages SIZE:COUNT] [--blacklist DRIVER]... "
	    "[--force]\n"
	    "\n"
	    "Prepare the host for PCI passthrough: the IOMMU parameters in GRUB_CMDLINE_LINUX\n"
	    "(/etc/default/grub), grub.cfg regenerated the distribution's way, the vfio modules\n"
	    "loaded at boot (/etc/modules-load.d/vfio.conf). By default only shows the changes.\n"
	    "\n"
	    "Options:\n"
	    "  --apply                  make the changes (backups beside each file)\n"
	    "  --hugepages SIZE:COUNT   also reserve COUNT huge pages of SIZE (1G, 2M) at boot\n"
	    "  --blacklist DRIVER       also keep DRIVER (nouveau, amdgpu...) off the host;\n"
	    "                           may be repeated; never vfio's own modules\n"
	    "  --force                  blacklist even the driver of the boot display\n"
	    "  -h, --help               show this help\n"
	    "\n"
	    "Exit status: 0 done (or nothing to do), 1 refused or failed, 2 bad usage.\n"
	    "See passthru-setup(1).\n");
}

static int parse_hugepages(struct passthru_setup *setup, const char *arg)
{
	const char *colon = strchr(arg, ':');
	char *size, *end;
	unsigned long count;
	int r;

	if (!colon || colon == arg || !colon[1] || colon[1] == '-' || colon[1] == '+')
		return -EINVAL;
	errno = 0;
	count = strtoul(colon + 1, &end, 10);
	if (errno || *end || count == 0)
		return -EINVAL;
	size = strndup(arg, (size_t)(colon - arg));
	if (!size)
		return -ENOMEM;
	r = passthru_setup_set_hugepages(setup, size, count);
	free(size);
	return r;
}

static void print_list(const char *heading, const char *const *v)
{
	for (size_t i = 0; v[i]; i++)
		printf("%s%s\n", i == 0 ? heading : "  ", v[i]);
}

static char *command_line(const char *const *argv)
{
	size_t len = 1;
	char *s, *p;

	for (size_t i = 0; argv[i]; i++)
		len += strlen(argv[i]) + 1;
	s = p = malloc(len);
	if (!s)
		return NULL;
	*p = '\0';
	for (size_t i = 0; argv[i]; i++)
		p += sprintf(p, "%s%s", i ? " " : "", argv[i]);
	return s;
}

static void print_reboot(const struct passthru_setup *setup)
{
	const char *const *reasons = passthru_setup_get_reboot_reasons(setup);

	if (!passthru_setup_get_reboot_needed(setup)) {
		printf("\nNo reboot needed: the running system has it all.\n");
		return;
	}
	printf("\nReboot needed:\n");
	for (size_t i = 0; reasons[i]; i++)
		printf("  %s\n", reasons[i]);
	printf("After the reboot, 'passthru check' shows every step taken effect.\n");
}

static void print_plan(const struct passthru_setup *setup)
{
	size_t changes = passthru_setup_get_change_count(setup);
	size_t commands = passthru_setup_get_command_count(setup);

	if (changes == 0 && commands == 0) {
		printf("Nothing to change.\n");
	} else {
		for (size_t i = 0; i < changes; i++)
			fputs(passthru_setup_get_change_diff(setup, i), stdout);
		if (commands)
			printf("%sCommands it would run:\n", changes ? "\n" : "");
		for (size_t i = 0; i < commands; i++) {
			char *line = command_line(passthru_setup_get_command_argv(setup, i));

			printf("  %s\n", line ? line : "?");
			free(line);
		}
		printf("\nThis was a dry run: 'passthru setup --apply' makes the changes.\n");
	}
	print_list("\nNote: ", passthru_setup_get_notes(setup));
	print_reboot(setup);
}

static void print_applied(const struct passthru_setup *setup)
{
	size_t changes = passthru_setup_get_change_count(setup);
	size_t commands = passthru_setup_get_command_count(setup);

	if (changes == 0 && commands == 0)
		printf("Nothing to change.\n");
	for (size_t i = 0; i < changes; i++) {
		const char *backup = passthru_setup_get_change_backup(setup, i);

		if (backup)
			printf("Changed %s (backup: %s)\n",
			       passthru_setup_get_change_path(setup, i), backup);
		else
			printf("Created %s\n", passthru_setup_get_change_path(setup, i));
	}
	for (size_t i = 0; i < commands; i++) {
		char *line = command_line(passthru_setup_get_command_argv(setup, i));

		printf("Ran %s\n", line ? line : "?");
		free(line);
	}
	print_list("\nNote: ", passthru_setup_get_notes(setup));
	print_reboot(setup);
}

int verb_setup(struct cli *cli, int argc, char **argv)
{
	enum { ARG_APPLY = 0x100, ARG_HUGEPAGES, ARG_BLACKLIST, ARG_FORCE };
	static const struct option options[] = {
	    {"apply", no_argument, NULL, ARG_APPLY},
	    {"hugepages", required_argument, NULL, ARG_HUGEPAGES},
	    {"blacklist", required_argument, NULL, ARG_BLACKLIST},
	    {"force", no_argument, NULL, ARG_FORCE},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct cli_options opts = {"setup", "h", options, help};
	struct passthru_setup *setup = NULL;
	bool apply = false;
	int opt, r, ret = EXIT_DONE;

	r = passthru_setup_new(cli->ctx, &setup);
	if (r < 0) {
		cli_error("cannot set up: %s", strerror(-r));
		return EXIT_REFUSED;
	}
	while ((opt = cli_options_next(&opts, argc, argv)) >= 0) {
		switch (opt) {
		case ARG_APPLY:
			apply = true;
			break;
		case ARG_HUGEPAGES:
			r = parse_hugepages(setup, optarg);
			if (r < 0) {
				passthru_setup_unref(setup);
				return cli_usage_error(
				    "setup",
				    "--hugepages wants SIZE:COUNT (1G:16, 2M:1024), "
				    "not '%s'",
				    optarg);
			}
			break;
		case ARG_BLACKLIST:
			r = passthru_setup_add_blacklist(setup, optarg);
			if (r == -EPERM) {
				cli_error("%s", passthru_setup_get_error(setup));
				passthru_setup_unref(setup);
				return EXIT_REFUSED;
			}
			if (r < 0) {
				passthru_setup_unref(setup);
				return cli_usage_error("setup", "'%s' is not a kernel module name",
						       optarg);
			}
			break;
		case ARG_FORCE:
			(void)passthru_setup_set_force(setup, true);
			break;
		}
	}
	if (opt == CLI_OPTIONS_EXIT) {
		passthru_setup_unref(setup);
		return opts.exit;
	}
	if (optind < argc) {
		passthru_setup_unref(setup);
		return cli_usage_error("setup", "unexpected argument '%s'", argv[optind]);
	}

	r = passthru_setup_plan(setup);
	if (r < 0) {
		cli_error("%s", passthru_setup_get_error(setup));
		passthru_setup_unref(setup);
		return EXIT_REFUSED;
	}
	if (!apply) {
		print_plan(setup);
	} else {
		r = passthru_setup_apply(setup);
		if (r < 0) {
			for (size_t i = 0; i < passthru_setup_get_change_count(setup); i++)
				if (passthru_setup_get_change_backup(setup, i))
					printf("Changed %s (backup: %s)\n",
					       passthru_setup_get_change_path(setup, i),
					       passthru_setup_get_change_backup(setup, i));
			fflush(stdout);
			cli_error("%s", passthru_setup_get_error(setup));
			for (size_t i = 0; i < passthru_setup_get_command_count(setup); i++) {
				const char *out = passthru_setup_get_command_output(setup, i);

				if (out && *out)
					fprintf(stderr, "%s%s", out,
						out[strlen(out) - 1] == '\n' ? "" : "\n");
			}
			ret = EXIT_REFUSED;
		} else {
			if (cli->verbose)
				for (size_t i = 0; i < passthru_setup_get_command_count(setup);
				     i++) {
					const char *out =
					    passthru_setup_get_command_output(setup, i);

					if (out)
						fputs(out, stderr);
				}
			print_applied(setup);
		}
	}
	passthru_setup_unref(setup);
	return ret;
}
