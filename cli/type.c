/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthru type add NAME MATCH | remove NAME [MATCH] | list [--json]: the custom passthrough
 * types of PCI functions, rules in /etc/passthru/types.d/ (see passthru-list(1)).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "columns.h"
#include "macro.h"
#include "strv.h"
#include "options.h"

/* Only for messages: the library owns the directory. */
#define TYPES_DIR_FOR_MESSAGES "/etc/passthru/types.d"

#define MATCH_FORMS "VENDOR:DEVICE or VENDOR:DEVICE:SUBVENDOR:SUBDEVICE, 4 hex digits each"

static void help(void)
{
	printf("Usage: passthru type add NAME VENDOR:DEVICE[:SUBVENDOR:SUBDEVICE]\n"
	       "       passthru type remove NAME [VENDOR:DEVICE[:SUBVENDOR:SUBDEVICE]]\n"
	       "       passthru type list [--json]\n"
	       "\n"
	       "Custom passthrough types of PCI devices, beside the built-in GPU-VGA, GPU-HPC,\n"
	       "NIC, NVME and PCI. Rules live in " TYPES_DIR_FOR_MESSAGES "/*.conf.\n"
	       "\n"
	       "  add     give the devices with these IDs the type NAME (in NAME.conf)\n"
	       "  remove  remove the rule, or every rule of NAME without a match\n"
	       "  list    show the rules and the problems of the files\n"
	       "\n"
	       "Options:\n"
	       "  -J, --json  (list) JSON output\n"
	       "  -h, --help  show this help\n"
	       "\n"
	       "See passthru-list(1).\n");
}

/* Reports a NAME that a rule cannot have; EXIT_DONE when it is fine. */
static int check_name(const char *name)
{
	if (passthru_type_name_is_builtin(name))
		return cli_usage_error(
		    "type", "'%s' is a built-in type; custom types need another name", name);
	if (!passthru_type_name_is_valid(name))
		return cli_usage_error("type",
				       "invalid type name '%s': a letter or digit, then letters, "
				       "digits, '_', '.' or '-', at most %d characters",
				       name, PASSTHRU_TYPE_NAME_MAX);
	return EXIT_DONE;
}

static int check_match(const char *match)
{
	if (!passthru_type_match_is_valid(match))
		return cli_usage_error("type", "invalid match '%s': use " MATCH_FORMS, match);
	return EXIT_DONE;
}

static int load(struct cli *cli, struct passthru_type_list **ret)
{
	int r = passthru_type_list_load(cli->ctx, ret);

	if (r < 0) {
		cli_error("cannot read " TYPES_DIR_FOR_MESSAGES ": %s", strerror(-r));
		return EXIT_REFUSED;
	}
	return EXIT_DONE;
}

/* Matches are compared in the library's canonical form: lower case. */
static bool same_match(const struct passthru_type_rule *rule, const char *match)
{
	return strcasecmp(passthru_type_rule_get_match(rule), match) == 0;
}

static bool rule_is(const struct passthru_type_rule *rule, const char *name, const char *match)
{
	return strcmp(passthru_type_rule_get_name(rule), name) == 0 &&
	       (!match || same_match(rule, match));
}

static const struct passthru_type_rule *find_rule(const struct passthru_type_list *list,
						  const char *name, const char *match)
{
	for (size_t i = 0; i < passthru_type_list_count(list); i++) {
		const struct passthru_type_rule *rule = passthru_type_list_get(list, i);

		if (rule_is(rule, name, match))
			return rule;
	}
	return NULL;
}

/* "10de:1db4" or "10de:1db4:10de:1212" into ids; the match was checked already. */
static void parse_match(const char *match, uint16_t *vendor, uint16_t *device, int *subvendor,
			int *subdevice)
{
	unsigned v = 0, d = 0, sv = 0, sd = 0;

	if (sscanf(match, "%4x:%4x:%4x:%4x", &v, &d, &sv, &sd) == 4) {
		*subvendor = (int)sv;
		*subdevice = (int)sd;
	} else {
		*subvendor = *subdevice = -1;
	}
	*vendor = (uint16_t)v;
	*device = (uint16_t)d;
}

/* After an add: an earlier rule of another name may still decide the type of these ids. */
static void warn_if_shadowed(struct cli *cli, const char *name, const char *match)
{
	struct passthru_type_list *list = NULL;
	uint16_t vendor, device;
	int subvendor, subdevice;
	const char *winner;

	if (passthru_type_list_load(cli->ctx, &list) < 0)
		return;
	parse_match(match, &vendor, &device, &subvendor, &subdevice);
	winner = passthru_type_list_match(list, vendor, device, subvendor, subdevice);
	if (winner && strcmp(winner, name) != 0) {
		const struct passthru_type_rule *rule = NULL;

		for (size_t i = 0; i < passthru_type_list_count(list) && !rule; i++) {
			const struct passthru_type_rule *r = passthru_type_list_get(list, i);

			if (strcmp(passthru_type_rule_get_name(r), winner) == 0 &&
			    passthru_type_rule_get_vendor(r) == vendor &&
			    passthru_type_rule_get_device(r) == device)
				rule = r;
		}
		if (rule)
			cli_hint("devices %s still get the type %s from the earlier rule in %s:%u",
				 match, winner, passthru_type_rule_get_file(rule),
				 passthru_type_rule_get_line(rule));
		else
			cli_hint("devices %s still get the type %s from an earlier rule", match,
				 winner);
	}
	passthru_type_list_unref(list);
}

static int type_add(struct cli *cli, int argc, char **argv)
{
	struct passthru_type_list *list = NULL;
	const char *name, *match;
	int r;

	if (argc != 3)
		return cli_usage_error("type", "add takes NAME and " MATCH_FORMS);
	name = argv[1];
	match = argv[2];
	r = check_name(name);
	if (r == EXIT_DONE)
		r = check_match(match);
	if (r != EXIT_DONE)
		return r;

	r = passthru_type_add(cli->ctx, name, match);
	if (r == -EEXIST) {
		const struct passthru_type_rule *rule = NULL;

		if (load(cli, &list) == EXIT_DONE)
			rule = find_rule(list, name, match);
		if (rule)
			printf("%s %s is already a rule (%s:%u); nothing to do.\n", name,
			       passthru_type_rule_get_match(rule),
			       passthru_type_rule_get_file(rule),
			       passthru_type_rule_get_line(rule));
		else
			printf("%s %s is already a rule; nothing to do.\n", name, match);
		passthru_type_list_unref(list);
		return EXIT_DONE;
	}
	if (r < 0) {
		cli_error("cannot add %s %s to " TYPES_DIR_FOR_MESSAGES "/%s.conf: %s", name, match,
			  name, strerror(-r));
		return EXIT_REFUSED;
	}
	printf("Added %s %s to " TYPES_DIR_FOR_MESSAGES "/%s.conf.\n", name, match, name);
	warn_if_shadowed(cli, name, match);
	return EXIT_DONE;
}

static int type_remove(struct cli *cli, int argc, char **argv)
{
	_cleanup_strv_free_ char **removed = NULL;
	struct passthru_type_list *list = NULL;
	const char *name, *match;
	int r;

	if (argc != 2 && argc != 3)
		return cli_usage_error("type", "remove takes NAME and optionally " MATCH_FORMS);
	name = argv[1];
	match = argc == 3 ? argv[2] : NULL;
	r = check_name(name);
	if (r == EXIT_DONE && match)
		r = check_match(match);
	if (r != EXIT_DONE)
		return r;

	/* What goes, with its place, to say so afterwards (and to name the files on failure). */
	r = load(cli, &list);
	if (r != EXIT_DONE)
		return r;
	for (size_t i = 0; i < passthru_type_list_count(list); i++) {
		const struct passthru_type_rule *rule = passthru_type_list_get(list, i);
		char *line;

		if (!rule_is(rule, name, match))
			continue;
		if (asprintf(&line, "%s %s (%s:%u)", name, passthru_type_rule_get_match(rule),
			     passthru_type_rule_get_file(rule),
			     passthru_type_rule_get_line(rule)) < 0 ||
		    strv_consume(&removed, line) < 0) {
			passthru_type_list_unref(list);
			return print_oom();
		}
	}

	r = passthru_type_remove(cli->ctx, name, match);
	if (r == -ENOENT) {
		printf("No rule %s%s%s; nothing to do.\n", name, match ? " " : "",
		       match ? match : "");
		passthru_type_list_unref(list);
		return EXIT_DONE;
	}
	if (r < 0) {
		const struct passthru_type_rule *rule = find_rule(list, name, match);

		cli_error("cannot remove %s%s%s from %s: %s", name, match ? " " : "",
			  match ? match : "",
			  rule ? passthru_type_rule_get_file(rule) : TYPES_DIR_FOR_MESSAGES,
			  strerror(-r));
		passthru_type_list_unref(list);
		return EXIT_REFUSED;
	}
	passthru_type_list_unref(list);
	STRV_FOREACH (s, removed)
		printf("Removed %s.\n", *s);
	return EXIT_DONE;
}

static int list_json(const struct passthru_type_list *list)
{
	json_object *doc = json_object_new_object(), *types = json_object_new_array(),
		    *problems = json_object_new_array();
	int r = -ENOMEM;

	if (!doc || !types || !problems)
		goto finish;
	for (size_t i = 0; i < passthru_type_list_count(list); i++) {
		const struct passthru_type_rule *rule = passthru_type_list_get(list, i);
		json_object *o = json_object_new_object();

		if (!o || json_object_array_add(types, o) < 0) {
			json_object_put(o);
			goto finish;
		}
		if (json_object_object_add(
			o, "name", json_string_utf8(passthru_type_rule_get_name(rule))) < 0 ||
		    json_object_object_add(
			o, "match", json_string_utf8(passthru_type_rule_get_match(rule))) < 0 ||
		    json_object_object_add(
			o, "file", json_string_utf8(passthru_type_rule_get_file(rule))) < 0 ||
		    json_object_object_add(
			o, "line", json_object_new_int64(passthru_type_rule_get_line(rule))) < 0)
			goto finish;
	}
	for (const char *const *p = passthru_type_list_get_problems(list); *p; p++)
		if (json_object_array_add(problems, json_string_utf8(*p)) < 0)
			goto finish;
	if (json_object_object_add(doc, "types", types) < 0)
		goto finish;
	types = NULL;
	if (json_object_object_add(doc, "problems", problems) < 0)
		goto finish;
	problems = NULL;
	r = json_print(doc);
finish:
	json_object_put(types);
	json_object_put(problems);
	json_object_put(doc);
	return r;
}

static int list_table(const struct passthru_type_list *list)
{
	struct libscols_table *table;
	const char *const *problems = passthru_type_list_get_problems(list);
	int r = 0;

	if (passthru_type_list_count(list) == 0) {
		printf("No custom types (rules go in " TYPES_DIR_FOR_MESSAGES "/*.conf).\n");
	} else {
		table = scols_new_table();
		if (!table)
			return -ENOMEM;
		if (!scols_table_new_column(table, "NAME", 0.1, 0) ||
		    !scols_table_new_column(table, "MATCH", 19, 0) ||
		    !scols_table_new_column(table, "FILE", 0.3, 0) ||
		    !scols_table_new_column(table, "LINE", 4, SCOLS_FL_RIGHT))
			r = -ENOMEM;
		for (size_t i = 0; r >= 0 && i < passthru_type_list_count(list); i++) {
			const struct passthru_type_rule *rule = passthru_type_list_get(list, i);
			struct libscols_line *line = scols_table_new_line(table, NULL);
			char number[16];

			snprintf(number, sizeof(number), "%u", passthru_type_rule_get_line(rule));
			if (!line ||
			    scols_line_set_data(line, 0, passthru_type_rule_get_name(rule)) < 0 ||
			    scols_line_set_data(line, 1, passthru_type_rule_get_match(rule)) < 0 ||
			    scols_line_set_data(line, 2, passthru_type_rule_get_file(rule)) < 0 ||
			    scols_line_set_data(line, 3, number) < 0)
				r = -ENOMEM;
		}
		if (r >= 0)
			r = scols_print_table(table);
		scols_unref_table(table);
		if (r < 0)
			return r;
	}
	if (*problems) {
		printf("\nProblems:\n");
		for (const char *const *p = problems; *p; p++)
			printf("  %s\n", *p);
	}
	return 0;
}

static int type_list(struct cli *cli, bool json, int argc)
{
	struct passthru_type_list *list = NULL;
	int r;

	if (argc != 1)
		return cli_usage_error("type", "list takes no arguments besides --json");
	r = load(cli, &list);
	if (r != EXIT_DONE)
		return r;
	r = json ? list_json(list) : list_table(list);
	passthru_type_list_unref(list);
	return r < 0 ? print_oom() : EXIT_DONE;
}

int verb_type(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"json", no_argument, NULL, 'J'}, {"help", no_argument, NULL, 'h'}, {}};
	bool json = false;
	struct cli_options opts = {"type", "Jh", options, help, .json = &json};
	const char *sub;

	if (cli_options_parse_all(&opts, argc, argv) == CLI_OPTIONS_EXIT)
		return opts.exit;
	if (optind >= argc)
		return cli_usage_error("type", "what to do? add, remove or list");
	sub = argv[optind];
	argc -= optind;
	argv += optind;

	if (json && strcmp(sub, "list") != 0)
		return cli_usage_error("type", "option '--json' is for 'type list' only");
	if (strcmp(sub, "add") == 0)
		return type_add(cli, argc, argv);
	if (strcmp(sub, "remove") == 0)
		return type_remove(cli, argc, argv);
	if (strcmp(sub, "list") == 0)
		return type_list(cli, json, argc);
	return cli_usage_error("type", "unknown command '%s' (add, remove or list)", sub);
}
