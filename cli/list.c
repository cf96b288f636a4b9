/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthru list [pci|usb|serial] [options]: the devices of the host as tables (libsmartcols)
 * or as one JSON document whose format is a stable interface (see passthru-list(1)).
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

enum format {
	FORMAT_TABLE,
	FORMAT_RAW,
	FORMAT_PAIRS,
	FORMAT_JSON,
};

struct list_options {
	bool classes[_DEVICE_CLASS_MAX];
	enum format format;
	const char *format_option; /* the option that chose format, for messages */
	bool noheadings;
	bool tree;
	bool output_all;
	const char *output;
	const char *type;
};

/* One class's devices, whichever class. */
struct scan {
	struct passthru_pci_list *pci;
	struct passthru_usb_list *usb;
	struct passthru_serial_list *serial;
	size_t count;
};

static void scan_done(struct scan *s)
{
	passthru_pci_list_unref(s->pci);
	passthru_usb_list_unref(s->usb);
	passthru_serial_list_unref(s->serial);
}

static void *scan_get(const struct scan *s, enum device_class c, size_t i)
{
	switch (c) {
	case DEVICE_CLASS_PCI:
		return passthru_pci_list_get(s->pci, i);
	case DEVICE_CLASS_USB:
		return passthru_usb_list_get(s->usb, i);
	case DEVICE_CLASS_SERIAL:
		return passthru_serial_list_get(s->serial, i);
	default:
		return NULL;
	}
}

static int do_scan(struct cli *cli, enum device_class c, struct scan *s)
{
	int r;

	switch (c) {
	case DEVICE_CLASS_PCI:
		r = passthru_pci_list_scan(cli->ctx, &s->pci);
		if (r >= 0)
			s->count = passthru_pci_list_count(s->pci);
		break;
	case DEVICE_CLASS_USB:
		r = passthru_usb_list_scan(cli->ctx, &s->usb);
		if (r >= 0)
			s->count = passthru_usb_list_count(s->usb);
		break;
	case DEVICE_CLASS_SERIAL:
		r = passthru_serial_list_scan(cli->ctx, &s->serial);
		if (r >= 0)
			s->count = passthru_serial_list_count(s->serial);
		break;
	default:
		r = -EINVAL;
	}
	if (r < 0)
		device_class_scan_error(cli, c, r);
	return r;
}

static bool type_matches(const struct list_options *o, enum device_class c, void *device)
{
	const char *type;

	if (!o->type || c != DEVICE_CLASS_PCI)
		return true;
	type = passthru_pci_device_get_type(device);
	return type && strcasecmp(type, o->type) == 0;
}

static void help(void)
{
	printf("Usage: passthru list [pci|usb|serial] [options]\n"
	       "\n"
	       "List the host's PCI devices, USB devices and serial ports; all three when no\n"
	       "class is given.\n"
	       "\n"
	       "Options:\n"
	       "  -o, --output COLS   columns to show, comma-separated; +COLS adds to the default\n"
	       "      --output-all    show every column\n"
	       "  -J, --json          JSON output (always every column marked * below)\n"
	       "  -r, --raw           raw output: one line per device, no alignment\n"
	       "  -P, --pairs         KEY=\"value\" pairs\n"
	       "  -n, --noheadings    no header line\n"
	       "      --type TYPE     only PCI devices of this type: GPU-VGA, GPU-HPC, NIC,\n"
	       "                      NVME, PCI or a custom type (case-insensitive)\n"
	       "      --tree          PCI devices grouped by IOMMU group\n"
	       "  -h, --help          show this help\n");
	for (size_t c = 0; c < _DEVICE_CLASS_MAX; c++)
		columns_print_help(device_class_columns(c), stdout);
	printf("\nSee passthru-list(1).\n");
}

/*
 * -o COLS for the selected classes. With several classes a column applies to those that have
 * it; a name no selected class knows is an error.
 */
static int parse_output(const struct list_options *o, struct column_set sets[])
{
	_cleanup_free_ char *copy = NULL;
	const char *spec = o->output;
	bool append = false;
	char *save = NULL;

	if (spec[0] == '+') {
		append = true;
		spec++;
	}
	for (size_t c = 0; c < _DEVICE_CLASS_MAX; c++) {
		if (append)
			column_set_defaults(device_class_columns(c), &sets[c]);
		else
			sets[c].n = 0;
	}
	copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	if (!*copy || copy[strlen(copy) - 1] == ',' || copy[0] == ',' || strstr(copy, ",,"))
		return cli_usage_error("list", "empty column name in '%s'", o->output);
	for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		bool found = false;

		for (size_t c = 0; c < _DEVICE_CLASS_MAX; c++) {
			int id;

			if (!o->classes[c])
				continue;
			id = column_lookup(device_class_columns(c), name);
			if (id < 0)
				continue;
			column_set_add(&sets[c], (size_t)id);
			found = true;
		}
		if (!found)
			return cli_usage_error("list", "unknown column '%s'", name);
	}
	return 0;
}

static int set_format(struct list_options *o, enum format f, const char *option)
{
	if (o->format != FORMAT_TABLE && o->format != f)
		return cli_usage_error("list", "options '%s' and '%s' exclude each other",
				       o->format_option, option);
	o->format = f;
	o->format_option = option;
	return 0;
}

static int parse_args(int argc, char **argv, struct list_options *o)
{
	enum { ARG_OUTPUT_ALL = 0x100, ARG_TYPE, ARG_TREE };
	static const struct option options[] = {{"output", required_argument, NULL, 'o'},
						{"output-all", no_argument, NULL, ARG_OUTPUT_ALL},
						{"json", no_argument, NULL, 'J'},
						{"raw", no_argument, NULL, 'r'},
						{"pairs", no_argument, NULL, 'P'},
						{"noheadings", no_argument, NULL, 'n'},
						{"type", required_argument, NULL, ARG_TYPE},
						{"tree", no_argument, NULL, ARG_TREE},
						{"help", no_argument, NULL, 'h'},
						{}};
	struct cli_options opts = {"list", "o:JrPnh", options, help};
	bool any_class = false;
	int c, r;

	while ((c = cli_options_next(&opts, argc, argv)) >= 0) {
		switch (c) {
		case 'o':
			o->output = optarg;
			break;
		case ARG_OUTPUT_ALL:
			o->output_all = true;
			break;
		case 'J':
			r = set_format(o, FORMAT_JSON, "--json");
			if (r != 0)
				return r;
			break;
		case 'r':
			r = set_format(o, FORMAT_RAW, "--raw");
			if (r != 0)
				return r;
			break;
		case 'P':
			r = set_format(o, FORMAT_PAIRS, "--pairs");
			if (r != 0)
				return r;
			break;
		case 'n':
			o->noheadings = true;
			break;
		case ARG_TYPE:
			o->type = optarg;
			break;
		case ARG_TREE:
			o->tree = true;
			break;
		}
	}
	/* -1 after the help: the caller's EXIT_DONE without listing anything. */
	if (c == CLI_OPTIONS_EXIT)
		return opts.exit == EXIT_DONE ? -1 : opts.exit;

	for (int i = optind; i < argc; i++) {
		int k = device_class_from_name(argv[i]);

		if (k < 0)
			return cli_usage_error(
			    "list", "unknown device class '%s' (pci, usb or serial)", argv[i]);
		o->classes[k] = true;
		any_class = true;
	}

	if (o->output && o->output_all)
		return cli_usage_error("list",
				       "options '--output' and '--output-all' exclude each other");
	if (o->tree && o->format != FORMAT_TABLE)
		return cli_usage_error("list",
				       "option '--tree' makes a table; it cannot go with '%s'",
				       o->format_option);
	/* --type and --tree are about PCI devices: alone they select the PCI class. */
	if (o->type || o->tree) {
		const char *option = o->type ? "--type" : "--tree";

		if (any_class && (o->classes[DEVICE_CLASS_USB] || o->classes[DEVICE_CLASS_SERIAL]))
			return cli_usage_error("list", "option '%s' applies to PCI devices only",
					       option);
		o->classes[DEVICE_CLASS_PCI] = true;
		any_class = true;
	}
	if (!any_class)
		for (size_t k = 0; k < _DEVICE_CLASS_MAX; k++)
			o->classes[k] = true;
	return 0;
}

/* The built-in types and the custom types of the host's configuration. */
static int known_types(struct cli *cli, char ***ret)
{
	static const char *const builtin[] = {"GPU-VGA", "GPU-HPC", "NIC", "NVME", "PCI"};
	_cleanup_strv_free_ char **types = NULL;
	struct passthru_type_list *list = NULL;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(builtin); i++)
		if (strv_push(&types, builtin[i]) < 0)
			return -ENOMEM;
	r = passthru_type_list_load(cli->ctx, &list);
	if (r < 0)
		return r;
	for (size_t i = 0; i < passthru_type_list_count(list); i++) {
		const char *name = passthru_type_rule_get_name(passthru_type_list_get(list, i));

		if (!strv_contains(types, name) && strv_push(&types, name) < 0) {
			passthru_type_list_unref(list);
			return -ENOMEM;
		}
	}
	passthru_type_list_unref(list);
	*ret = TAKE_PTR(types);
	return 0;
}

/* --type must name a type that exists, so a typo does not look like "no such devices". */
static int check_type(struct cli *cli, const char *type)
{
	_cleanup_strv_free_ char **known = NULL;
	_cleanup_free_ char *joined = NULL;
	size_t len = 0;
	int r;

	r = known_types(cli, &known);
	if (r < 0)
		return r;
	STRV_FOREACH (k, known) {
		if (strcasecmp(*k, type) == 0)
			return 0;
		len += strlen(*k) + 2;
	}
	joined = calloc(1, len + 1);
	if (!joined)
		return -ENOMEM;
	STRV_FOREACH (k, known) {
		if (k != known)
			strcat(joined, ", ");
		strcat(joined, *k);
	}
	return cli_usage_error("list", "unknown type '%s' (known: %s)", type, joined);
}

/* --tree: a parent line per IOMMU group, the group's functions as its children. */
struct tree_entry {
	bool has_group;
	int group;
	size_t index;
};

static int tree_entry_compare(const void *a, const void *b)
{
	const struct tree_entry *x = a, *y = b;

	/* Devices without a group go last, under one "no IOMMU group" line. */
	if (x->has_group != y->has_group)
		return x->has_group ? -1 : 1;
	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int fill_tree(const struct list_options *o, const struct column_set *set,
		     const struct scan *s, struct libscols_table *table)
{
	_cleanup_free_ struct tree_entry *entries =
	    calloc(s->count ? s->count : 1, sizeof(*entries));
	struct libscols_line *parent = NULL;
	size_t n = 0;
	int r;

	if (!entries)
		return -ENOMEM;
	for (size_t i = 0; i < s->count; i++) {
		struct passthru_pci_device *dev = passthru_pci_list_get(s->pci, i);

		if (!type_matches(o, DEVICE_CLASS_PCI, dev))
			continue;
		entries[n].index = i;
		entries[n].has_group =
		    passthru_pci_device_get_iommu_group(dev, &entries[n].group) >= 0;
		n++;
	}
	qsort(entries, n, sizeof(*entries), tree_entry_compare);

	for (size_t i = 0; i < n; i++) {
		struct libscols_line *line;

		if (i == 0 || entries[i].has_group != entries[i - 1].has_group ||
		    entries[i].group != entries[i - 1].group) {
			_cleanup_free_ char *title = NULL;

			parent = scols_table_new_line(table, NULL);
			if (!parent)
				return -ENOMEM;
			if (entries[i].has_group)
				r = asprintf(&title, "IOMMU group %d", entries[i].group);
			else
				r = asprintf(&title, "no IOMMU group");
			if (r < 0) {
				title = NULL;
				return -ENOMEM;
			}
			if (scols_line_set_data(parent, 0, title) < 0)
				return -ENOMEM;
		}
		line = scols_table_new_line(table, parent);
		if (!line)
			return -ENOMEM;
		r = columns_fill_line(&pci_columns, set,
				      passthru_pci_list_get(s->pci, entries[i].index), line);
		if (r < 0)
			return r;
	}
	return 0;
}

static int print_table(const struct list_options *o, enum device_class c,
		       const struct column_set *set, const struct scan *s, bool *printed)
{
	const struct column_class *cls = device_class_columns(c);
	struct libscols_table *table = scols_new_table();
	int r;

	if (!table)
		return -ENOMEM;
	scols_table_enable_raw(table, o->format == FORMAT_RAW);
	scols_table_enable_export(table, o->format == FORMAT_PAIRS);
	scols_table_enable_noheadings(table, o->noheadings);

	r = columns_add_to_table(cls, set, table, o->tree);
	if (r >= 0 && o->tree)
		r = fill_tree(o, set, s, table);
	else
		for (size_t i = 0; r >= 0 && i < s->count; i++) {
			void *dev = scan_get(s, c, i);
			struct libscols_line *line;

			if (!type_matches(o, c, dev))
				continue;
			line = scols_table_new_line(table, NULL);
			if (!line) {
				r = -ENOMEM;
				break;
			}
			r = columns_fill_line(cls, set, dev, line);
		}
	if (r >= 0 && scols_table_get_nlines(table) > 0) {
		/* Tables of several classes are set apart by an empty line. */
		if (*printed)
			fputc('\n', stdout);
		r = scols_print_table(table);
		*printed = true;
	}
	scols_unref_table(table);
	return r;
}

/*
 * JSON is printed as it is made, one device at a time: a host with thousands of functions
 * never has its whole document in memory. The bytes are those json-c prints for the document
 * {"pci": [...], "usb": [...], "serial": [...]} with CLI_JSON_FLAGS: the envelope is written
 * here in json-c's layout, each device by json-c at its depth (2) in the document.
 */
static int print_class_json(const struct list_options *o, enum device_class c,
			    const struct column_set *selected, const struct scan *s)
{
	const struct column_class *cls = device_class_columns(c);
	struct column_set set;
	/* One object for every device: see columns_fill_json(). */
	json_object *entry = json_object_new_object();
	bool any = false;
	int r = 0;

	if (!entry)
		return -ENOMEM;
	column_set_for_json(cls, selected, &set);
	printf("  \"%s\": [\n", cls->name);
	for (size_t i = 0; r >= 0 && i < s->count; i++) {
		void *dev = scan_get(s, c, i);

		if (!type_matches(o, c, dev))
			continue;
		r = columns_fill_json(cls, &set, dev, entry);
		if (r < 0)
			break;
		if (any)
			fputs(",\n", stdout);
		r = json_print_nested(entry, 2);
		any = true;
	}
	json_object_put(entry);
	if (r >= 0)
		fputs(any ? "\n  ]" : "  ]", stdout);
	return r;
}

static int list_json(struct cli *cli, const struct list_options *o, const struct column_set sets[])
{
	/*
	 * The document goes out at once and can be megabytes: a buffer larger than stdio's one
	 * block spares most write(2) calls. Set before anything is written to stdout.
	 */
	static char stdout_buffer[64 * 1024];
	struct scan scans[_DEVICE_CLASS_MAX] = {};
	bool failed = false, first = true;

	setvbuf(stdout, stdout_buffer, _IOFBF, sizeof(stdout_buffer));

	/*
	 * Every class is read before anything is printed: a class that cannot be read fails the
	 * listing without leaving half a document behind.
	 */
	for (size_t c = 0; c < _DEVICE_CLASS_MAX; c++)
		if (o->classes[c] && do_scan(cli, c, &scans[c]) < 0)
			failed = true;
	if (!failed) {
		fputs("{\n", stdout);
		for (size_t c = 0; c < _DEVICE_CLASS_MAX; c++) {
			int r;

			if (!o->classes[c])
				continue;
			if (!first)
				fputs(",\n", stdout);
			first = false;
			r = print_class_json(o, c, &sets[c], &scans[c]);
			if (r < 0) {
				cli_error("cannot print %s: %s", device_class_columns(c)->title,
					  strerror(-r));
				failed = true;
				break;
			}
		}
		if (!failed)
			fputs("\n}\n", stdout);
	}
	for (size_t c = 0; c < _DEVICE_CLASS_MAX; c++)
		scan_done(&scans[c]);
	return failed ? EXIT_REFUSED : EXIT_DONE;
}

int verb_list(struct cli *cli, int argc, char **argv)
{
	struct list_options o = {.format_option = ""};
	struct column_set sets[_DEVICE_CLASS_MAX] = {};
	struct scan scans[_DEVICE_CLASS_MAX] = {};
	bool failed = false, printed = false;
	int r;

	r = parse_args(argc, argv, &o);
	if (r != 0)
		return r < 0 ? EXIT_DONE : r;

	/* JSON always has the stable keys; only -o or --output-all add the table-only ones. */
	for (size_t c = 0; c < _DEVICE_CLASS_MAX; c++) {
		if (o.output_all)
			column_set_all(device_class_columns(c), &sets[c]);
		else if (o.format != FORMAT_JSON)
			column_set_defaults(device_class_columns(c), &sets[c]);
	}
	if (o.output) {
		r = parse_output(&o, sets);
		if (r != 0)
			return r < 0 ? print_oom() : r;
	}
	if (o.type) {
		r = check_type(cli, o.type);
		if (r == -ENOMEM)
			return print_oom();
		if (r < 0) {
			cli_error("cannot read /etc/passthru/types.d: %s", strerror(-r));
			return EXIT_REFUSED;
		}
		if (r != 0)
			return r;
	}

	if (o.format == FORMAT_JSON)
		return list_json(cli, &o, sets);

	for (size_t c = 0; c < _DEVICE_CLASS_MAX; c++) {
		if (!o.classes[c])
			continue;
		/* A class with none of the -o columns is left out of the tables. */
		if (sets[c].n == 0)
			continue;
		r = do_scan(cli, c, &scans[c]);
		if (r < 0) {
			failed = true;
			continue;
		}
		r = print_table(&o, c, &sets[c], &scans[c], &printed);
		if (r < 0) {
			cli_error("cannot print %s: %s", device_class_columns(c)->title,
				  strerror(-r));
			failed = true;
		}
	}
	for (size_t c = 0; c < _DEVICE_CLASS_MAX; c++)
		scan_done(&scans[c]);
	return failed ? EXIT_REFUSED : EXIT_DONE;
}
