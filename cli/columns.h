/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Column tables of `passthru list` and `passthru show`, in the manner of lsblk: per device
 * class, an enum of columns and one infos[] table (name, width hint, flags, value kind, help)
 * drive -o/--output, --output-all, the JSON keys and --help. A class's get() function turns
 * one device and one column into a typed value; the value is then rendered as a table cell
 * (libsmartcols) or as a JSON value (json-c), so list and show can never disagree on a key.
 */
#pragma once

#include <json-c/json.h>
#include <libsmartcols/libsmartcols.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "cli.h"

/* What a column holds; this decides its JSON type. */
enum value_kind {
	VALUE_STRING, /* JSON string */
	VALUE_NUMBER, /* JSON integer */
	VALUE_BOOL,   /* JSON true/false */
	VALUE_STRV,   /* JSON array of strings; a comma-separated list in tables */
};

/* One cell. A value that is not known stays null: an empty cell, JSON null. */
struct value {
	bool known;
	const char *string;	 /* VALUE_STRING: borrowed, or formatted */
	char *formatted;	 /* value_set_printf()'s string, owned */
	long long number;	 /* VALUE_NUMBER */
	bool boolean;		 /* VALUE_BOOL */
	const char *const *strv; /* VALUE_STRV, borrowed from the device object; never NULL */
};

/* s is borrowed, like a string vector: it must outlive v (a device object's strings do). */
int value_set_string(struct value *v, const char *s);
int value_set_printf(struct value *v, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
void value_set_number(struct value *v, long long n);
void value_set_bool(struct value *v, bool b);
void value_set_strv(struct value *v, const char *const *strv);
void value_done(struct value *v);

struct column_info {
	/* The -o name and the table header; its lower-case form is the JSON key. */
	const char *name;
	/* libsmartcols width hint: < 1 a fraction of the terminal, >= 1 columns. */
	double whint;
	/* SCOLS_FL_* */
	int flags;
	enum value_kind kind;
	/* Part of the stable JSON set: always in JSON output, whatever -o says. */
	bool json_required;
	const char *help;
};

/* The columns of one device class. */
struct column_class {
	/* "pci", "usb", "serial": the class argument of list and the JSON array's key. */
	const char *name;
	/* "PCI devices", for help and messages. */
	const char *title;
	/* The host directory the library scans, for messages. */
	const char *scan_dir;
	const struct column_info *infos;
	size_t n_infos;
	/* Text-mode default columns, in display order. */
	const size_t *defaults;
	size_t n_defaults;
	/* Fills *ret (zero-initialized) for one device; negative errno on allocation failure. */
	int (*get)(void *device, size_t column, struct value *ret);
};

extern const struct column_class pci_columns;
extern const struct column_class usb_columns;
extern const struct column_class serial_columns;

enum device_class {
	DEVICE_CLASS_PCI,
	DEVICE_CLASS_USB,
	DEVICE_CLASS_SERIAL,
	_DEVICE_CLASS_MAX,
};

const struct column_class *device_class_columns(enum device_class c);
/* "pci", "usb", "serial" -> the class; -1 for anything else. */
int device_class_from_name(const char *name);
/* "passthru: cannot read PCI devices under /sys/bus/pci/devices: <error>". */
void device_class_scan_error(struct cli *cli, enum device_class c, int error);
/* "passthru: out of memory"; returns EXIT_REFUSED. */
int print_oom(void);

/* The column with this name (case-insensitive), or -1. */
int column_lookup(const struct column_class *cls, const char *name);

/* Most columns a class may have. */
#define COLUMNS_MAX 64

/* An ordered set of columns of one class, each at most once. */
struct column_set {
	size_t ids[COLUMNS_MAX];
	size_t n;
};

void column_set_defaults(const struct column_class *cls, struct column_set *set);
void column_set_all(const struct column_class *cls, struct column_set *set);
/* Adds a column unless it is there already. */
void column_set_add(struct column_set *set, size_t id);
/* The JSON set: the selection plus every required column, in infos[] order. */
void column_set_for_json(const struct column_class *cls, const struct column_set *selected,
			 struct column_set *ret);

/* The lower-case JSON key of a column; at most 63 characters. */
void column_json_key(const struct column_info *info, char key[64]);

/* Cell text for a table, NULL for an unknown value; the caller owns it. */
char *value_to_text(const struct value *v, enum value_kind kind);
/* A JSON string of s, with bytes that are not UTF-8 replaced by U+FFFD; NULL when out of memory. */
json_object *json_string_utf8(const char *s);
/* JSON value, NULL (JSON null) for an unknown value; NULL also when out of memory. */
json_object *value_to_json(const struct value *v, enum value_kind kind);

/* Adds one device's columns to a table line, in set order. */
int columns_fill_line(const struct column_class *cls, const struct column_set *set, void *device,
		      struct libscols_line *line);
/* One device as a JSON object with the columns of set, in set order. */
int columns_to_json(const struct column_class *cls, const struct column_set *set, void *device,
		    json_object **ret);
/*
 * Sets the keys of set in o to one device's values. o is new or was filled before with the
 * same class and set: its keys keep their places and get the new values. Filling one object
 * for device after device makes its keys and its print buffer once instead of once per device.
 */
int columns_fill_json(const struct column_class *cls, const struct column_set *set, void *device,
		      json_object *o);

/* Creates set's columns in a table; with tree, the first column holds the tree art. */
int columns_add_to_table(const struct column_class *cls, const struct column_set *set,
			 struct libscols_table *table, bool tree);

/* Prints every column of a class with its help text, for --help. */
void columns_print_help(const struct column_class *cls, FILE *f);

/* json-c output flags of every JSON the CLI prints. */
#define CLI_JSON_FLAGS                                                                             \
	(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Prints a JSON document to stdout, with a final newline. */
int json_print(json_object *o);
/*
 * Prints a value of a larger document to stdout, indented as json_print() would print it at
 * depth level of that document (1 for the document's members), without a newline at its end:
 * for documents too large to hold, printed piece by piece.
 */
int json_print_nested(json_object *o, unsigned level);
