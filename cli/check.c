/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthru check [--json] [DEVICE...]: is this host ready for PCI passthrough? Each check says
 * ok, warn or fail, what it saw and, short of ok, what fixes it. Exit status 0 when nothing
 * fails, 1 when something does, 2 on bad usage. The JSON form is a stable interface (see
 * passthru-check(1)).
 */
#include <errno.h>
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"

static void help(void)
{
	printf(
	    "Usage: passthru check [--json] [DEVICE...]\n"
	    "\n"
	    "Check that the host is ready for PCI passthrough: IOMMU in the firmware and the\n"
	    "kernel, kernel parameters, boot loader, vfio modules, huge pages; then each DEVICE\n"
	    "(a PCI address, 0000:42:00.0 or 42:00.0), by default every passthrough candidate:\n"
	    "IOMMU group, ACS, reset, host driver, kernel log.\n"
	    "\n"
	    "Options:\n"
	    "  -J, --json  one JSON document (see passthru-check(1))\n"
	    "  -h, --help  show this help\n"
	    "\n"
	    "Exit status: 0 nothing fails, 1 something fails, 2 bad usage.\n"
	    "See passthru-check(1).\n");
}

/* JSON text must be UTF-8: bytes that do not form UTF-8 become '?'. */
static json_object *json_text(const char *s)
{
	char *copy;
	json_object *o;
	size_t i = 0;

	if (!s)
		return NULL;
	copy = strdup(s);
	if (!copy)
		return NULL;
	while (copy[i]) {
		unsigned char c = (unsigned char)copy[i];
		size_t n = c < 0x80		? 1
			   : (c & 0xe0) == 0xc0 ? 2
			   : (c & 0xf0) == 0xe0 ? 3
			   : (c & 0xf8) == 0xf0 ? 4
						: 0;
		bool ok = n > 0 && !(n == 2 && c < 0xc2);

		for (size_t k = 1; ok && k < n; k++)
			ok = ((unsigned char)copy[i + k] & 0xc0) == 0x80;
		if (!ok) {
			copy[i++] = '?';
			continue;
		}
		i += n;
	}
	o = json_object_new_string(copy);
	free(copy);
	return o;
}

static int print_json(const struct passthru_check_report *rep)
{
	json_object *root = json_object_new_object(), *checks = json_object_new_array();
	const char *text;

	if (!root || !checks) {
		json_object_put(root);
		json_object_put(checks);
		return -ENOMEM;
	}
	json_object_object_add(root, "status",
			       json_object_new_string(passthru_check_status_to_string(
				   passthru_check_report_get_overall(rep))));
	for (size_t i = 0; i < passthru_check_report_count(rep); i++) {
		json_object *c = json_object_new_object(), *details = json_object_new_array();
		const char *const *d = passthru_check_report_get_details(rep, i);

		if (!c || !details) {
			json_object_put(c);
			json_object_put(details);
			json_object_put(root);
			json_object_put(checks);
			return -ENOMEM;
		}
		json_object_object_add(
		    c, "id", json_object_new_string(passthru_check_report_get_id(rep, i)));
		json_object_object_add(
		    c, "title", json_object_new_string(passthru_check_report_get_title(rep, i)));
		json_object_object_add(c, "device",
				       json_text(passthru_check_report_get_device(rep, i)));
		json_object_object_add(c, "status",
				       json_object_new_string(passthru_check_status_to_string(
					   passthru_check_report_get_status(rep, i))));
		json_object_object_add(c, "seen",
				       json_text(passthru_check_report_get_seen(rep, i)));
		json_object_object_add(c, "fix", json_text(passthru_check_report_get_fix(rep, i)));
		for (size_t k = 0; d[k]; k++)
			json_object_array_add(details, json_text(d[k]));
		json_object_object_add(c, "details", details);
		json_object_array_add(checks, c);
	}
	json_object_object_add(root, "checks", checks);
	text =
	    json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
	puts(text);
	json_object_put(root);
	return 0;
}

static void print_text(const struct passthru_check_report *rep)
{
	const char *group = "";
	size_t fails = 0, warns = 0;

	for (size_t i = 0; i < passthru_check_report_count(rep); i++) {
		const char *dev = passthru_check_report_get_device(rep, i);
		const char *fix = passthru_check_report_get_fix(rep, i);
		const char *const *d = passthru_check_report_get_details(rep, i);
		enum passthru_check_status st = passthru_check_report_get_status(rep, i);

		/* A heading whenever the subject changes: the host, then each device. */
		if (i == 0 || strcmp(group, dev ? dev : "") != 0) {
			printf("%s%s\n", i == 0 ? "" : "\n", dev ? dev : "Host");
			group = dev ? dev : "";
		}
		printf("  %-4s  %-26s %s\n", passthru_check_status_to_string(st),
		       passthru_check_report_get_title(rep, i),
		       passthru_check_report_get_seen(rep, i));
		if (fix && st != PASSTHRU_CHECK_OK)
			printf("        fix: %s\n", fix);
		for (size_t k = 0; d[k]; k++)
			printf("        %s\n", d[k]);
		fails += st == PASSTHRU_CHECK_FAIL;
		warns += st == PASSTHRU_CHECK_WARN;
	}
	if (fails)
		printf("\n%zu check%s failed, %zu warning%s: the fixes are above.\n", fails,
		       fails == 1 ? "" : "s", warns, warns == 1 ? "" : "s");
	else if (warns)
		printf("\nReady, with %zu warning%s.\n", warns, warns == 1 ? "" : "s");
	else
		printf("\nReady.\n");
}

int verb_check(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"json", no_argument, NULL, 'J'}, {"help", no_argument, NULL, 'h'}, {}};
	struct passthru_check_report *rep = NULL;
	bool json = false;
	struct cli_options opts = {"check", "Jh", options, help, .json = &json};
	int r;

	if (cli_options_parse_all(&opts, argc, argv) == CLI_OPTIONS_EXIT)
		return opts.exit;
	for (int i = optind; i < argc; i++) {
		char canon[PASSTHRU_PCI_ADDRESS_LEN + 1];

		if (passthru_pci_address_parse(argv[i], canon) < 0)
			return cli_usage_error(
			    "check", "'%s' is not a PCI address (0000:42:00.0 or 42:00.0)",
			    argv[i]);
	}
	/* Name the missing device, which passthru_check_report_new() would only count. */
	for (int i = optind; i < argc; i++) {
		struct passthru_pci_device *dev = NULL;

		r = passthru_pci_device_new(cli->ctx, argv[i], &dev);
		passthru_pci_device_unref(dev);
		if (r == -ENODEV) {
			cli_error("%s: no such PCI device", argv[i]);
			return EXIT_REFUSED;
		}
	}

	r = passthru_check_report_new(
	    cli->ctx, optind < argc ? (const char *const *)argv + optind : NULL, &rep);
	if (r < 0) {
		cli_error("cannot check the host: %s", strerror(-r));
		return EXIT_REFUSED;
	}
	if (json)
		r = print_json(rep);
	else
		print_text(rep);
	if (r < 0) {
		cli_error("cannot write JSON: %s", strerror(-r));
		passthru_check_report_unref(rep);
		return EXIT_REFUSED;
	}
	r = passthru_check_report_get_overall(rep) == PASSTHRU_CHECK_FAIL ? EXIT_REFUSED
									  : EXIT_DONE;
	passthru_check_report_unref(rep);
	return r;
}
