/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The column machinery shared by every device class: selections, typed values and their
 * two renderings, libsmartcols cells and json-c values.
 *
 * JSON goes through json-c rather than libsmartcols' own JSON mode: libsmartcols 2.38 (Debian
 * 12) prints an empty SCOLS_JSON_ARRAY_STRING cell as [null] instead of [] and a
 * SCOLS_JSON_BOOLEAN without data as false instead of null, and it cannot print the single
 * object `passthru show --json` wants nor the one document holding three classes. With a
 * typed value per cell, "unknown" is always null and an empty list always [].
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "columns.h"
#include "utf8.h"
#include "macro.h"
#include "strv.h"

int value_set_string(struct value *v, const char *s)
{
	/* An empty string says nothing: it is unknown too (the JSON format promises it). */
	if (!s || !*s)
		return 0;
	v->string = s;
	v->known = true;
	return 0;
}

int value_set_printf(struct value *v, const char *format, ...)
{
	va_list ap;
	int r;

	va_start(ap, format);
	r = vasprintf(&v->formatted, format, ap);
	va_end(ap);
	if (r < 0) {
		v->formatted = NULL;
		return -ENOMEM;
	}
	v->string = v->formatted;
	v->known = true;
	return 0;
}

void value_set_number(struct value *v, long long n)
{
	v->number = n;
	v->known = true;
}

void value_set_bool(struct value *v, bool b)
{
	v->boolean = b;
	v->known = true;
}

void value_set_strv(struct value *v, const char *const *strv)
{
	v->strv = strv ? strv : strv_empty;
	v->known = true;
}

void value_done(struct value *v)
{
	free(v->formatted);
	*v = (struct value){0};
}

int column_lookup(const struct column_class *cls, const char *name)
{
	for (size_t i = 0; i < cls->n_infos; i++)
		if (strcasecmp(cls->infos[i].name, name) == 0)
			return (int)i;
	return -1;
}

void column_set_add(struct column_set *set, size_t id)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->ids[i] == id)
			return;
	if (set->n < ELEMENTSOF(set->ids))
		set->ids[set->n++] = id;
}

void column_set_defaults(const struct column_class *cls, struct column_set *set)
{
	set->n = 0;
	for (size_t i = 0; i < cls->n_defaults; i++)
		column_set_add(set, cls->defaults[i]);
}

void column_set_all(const struct column_class *cls, struct column_set *set)
{
	set->n = 0;
	for (size_t i = 0; i < cls->n_infos; i++)
		column_set_add(set, i);
}

void column_set_for_json(const struct column_class *cls, const struct column_set *selected,
			 struct column_set *ret)
{
	ret->n = 0;
	for (size_t i = 0; i < cls->n_infos; i++) {
		bool wanted = cls->infos[i].json_required;

		for (size_t j = 0; !wanted && j < selected->n; j++)
			wanted = selected->ids[j] == i;
		if (wanted)
			column_set_add(ret, i);
	}
}

void column_json_key(const struct column_info *info, char key[64])
{
	size_t i;

	for (i = 0; info->name[i] && i < 63; i++)
		key[i] = (char)tolower((unsigned char)info->name[i]);
	key[i] = '\0';
}

char *value_to_text(const struct value *v, enum value_kind kind)
{
	char *s = NULL;
	size_t len = 0;

	if (!v->known)
		return NULL;
	switch (kind) {
	case VALUE_STRING:
		return v->string ? strdup(v->string) : NULL;
	case VALUE_NUMBER:
		if (asprintf(&s, "%lld", v->number) < 0)
			return NULL;
		return s;
	case VALUE_BOOL:
		return strdup(v->boolean ? "yes" : "no");
	case VALUE_STRV:
		for (const char *const *p = v->strv; *p; p++)
			len += strlen(*p) + 1;
		s = malloc(len + 1);
		if (!s)
			return NULL;
		s[0] = '\0';
		for (const char *const *p = v->strv; *p; p++) {
			if (p != v->strv)
				strcat(s, ",");
			strcat(s, *p);
		}
		return s;
	}
	return NULL;
}

/* Nearly every string from the host is ASCII, which needs no cleaning. */
static bool is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

json_object *json_string_utf8(const char *s)
{
	_cleanup_free_ char *valid = NULL;

	/* JSON text must be UTF-8, and json-c copies bytes through as they are. */
	if (is_ascii(s))
		return json_object_new_string(s);
	valid = utf8_make_valid(s);
	if (!valid)
		return NULL;
	return json_object_new_string(valid);
}

json_object *value_to_json(const struct value *v, enum value_kind kind)
{
	json_object *a;

	if (!v->known)
		return NULL;
	switch (kind) {
	case VALUE_STRING:
		return v->string ? json_string_utf8(v->string) : NULL;
	case VALUE_NUMBER:
		return json_object_new_int64(v->number);
	case VALUE_BOOL:
		return json_object_new_boolean(v->boolean);
	case VALUE_STRV:
		a = json_object_new_array();
		if (!a)
			return NULL;
		for (const char *const *p = v->strv; *p; p++) {
			json_object *e = json_string_utf8(*p);

			if (!e || json_object_array_add(a, e) < 0) {
				json_object_put(e);
				json_object_put(a);
				return NULL;
			}
		}
		return a;
	}
	return NULL;
}

int columns_add_to_table(const struct column_class *cls, const struct column_set *set,
			 struct libscols_table *table, bool tree)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct column_info *info = &cls->infos[set->ids[i]];
		int flags = info->flags;

		if (i == 0 && tree)
			flags |= SCOLS_FL_TREE;
		if (!scols_table_new_column(table, info->name, info->whint, flags))
			return -ENOMEM;
	}
	return 0;
}

int columns_fill_line(const struct column_class *cls, const struct column_set *set, void *device,
		      struct libscols_line *line)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct column_info *info = &cls->infos[set->ids[i]];
		struct value v = {0};
		bool known;
		char *text;
		int r;

		r = cls->get(device, set->ids[i], &v);
		if (r < 0) {
			value_done(&v);
			return r;
		}
		text = value_to_text(&v, info->kind);
		known = v.known;
		value_done(&v);
		if (!text) {
			if (known)
				return -ENOMEM;
			continue;
		}
		/* libsmartcols takes ownership of referred data. */
		if (scols_line_refer_data(line, i, text) < 0) {
			free(text);
			return -ENOMEM;
		}
	}
	return 0;
}

/*
 * Gives j the value v in j's own storage when both are of one JSON type (and a string needs
 * no UTF-8 cleaning); false when j must be replaced.
 */
static bool value_update_json(json_object *j, const struct value *v, enum value_kind kind)
{
	if (!j || !v->known)
		return false;
	switch (kind) {
	case VALUE_STRING:
		return json_object_is_type(j, json_type_string) && v->string &&
		       is_ascii(v->string) && json_object_set_string(j, v->string);
	case VALUE_NUMBER:
		return json_object_is_type(j, json_type_int) && json_object_set_int64(j, v->number);
	case VALUE_BOOL:
		return json_object_is_type(j, json_type_boolean) &&
		       json_object_set_boolean(j, v->boolean);
	case VALUE_STRV:
		return false;
	}
	return false;
}

int columns_fill_json(const struct column_class *cls, const struct column_set *set, void *device,
		      json_object *o)
{
	/* The keys o has: set's first ones, in set order. */
	struct lh_entry *e = lh_table_head(json_object_get_object(o));

	for (size_t i = 0; i < set->n; i++) {
		const struct column_info *info = &cls->infos[set->ids[i]];
		struct value v = {0};
		json_object *j;
		char key[64];
		int r;

		r = cls->get(device, set->ids[i], &v);
		if (r < 0) {
			value_done(&v);
			return r;
		}
		if (e && value_update_json((json_object *)lh_entry_v(e), &v, info->kind)) {
			value_done(&v);
			e = lh_entry_next(e);
			continue;
		}
		j = value_to_json(&v, info->kind);
		if (!j && v.known) {
			value_done(&v);
			return -ENOMEM;
		}
		value_done(&v);
		if (e) {
			/* The key is there, in its place: only the value changes. */
			json_object_put((json_object *)lh_entry_v(e));
			lh_entry_set_val(e, j);
			e = lh_entry_next(e);
			continue;
		}
		column_json_key(info, key);
		if (json_object_object_add(o, key, j) < 0) {
			json_object_put(j);
			return -ENOMEM;
		}
	}
	return 0;
}

int columns_to_json(const struct column_class *cls, const struct column_set *set, void *device,
		    json_object **ret)
{
	json_object *o = json_object_new_object();
	int r;

	if (!o)
		return -ENOMEM;
	r = columns_fill_json(cls, set, device, o);
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	*ret = o;
	return 0;
}

void columns_print_help(const struct column_class *cls, FILE *f)
{
	size_t width = 0;

	for (size_t i = 0; i < cls->n_infos; i++)
		if (strlen(cls->infos[i].name) > width)
			width = strlen(cls->infos[i].name);
	fprintf(f, "\nColumns of %s (JSON key: the name in lower case; * always in JSON):\n",
		cls->title);
	for (size_t i = 0; i < cls->n_infos; i++)
		fprintf(f, " %c%*s  %s\n", cls->infos[i].json_required ? '*' : ' ', -(int)width,
			cls->infos[i].name, cls->infos[i].help);
}

int json_print(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, CLI_JSON_FLAGS);

	if (!s)
		return -ENOMEM;
	fputs(s, stdout);
	fputc('\n', stdout);
	return 0;
}

int json_print_nested(json_object *o, unsigned level)
{
	size_t len, lines = 1, indent = 2 * (size_t)level;
	const char *s = json_object_to_json_string_length(o, CLI_JSON_FLAGS, &len);
	const char *end = s + len;
	_cleanup_free_ char *buf = NULL;
	char *out;

	if (!s)
		return -ENOMEM;
	/*
	 * json-c indents by two spaces per level and breaks lines only between values (a string
	 * has its newlines escaped): printed alone, each line of o just stands 2 * level further
	 * left than in the whole document.
	 */
	for (const char *p = s; (p = memchr(p, '\n', (size_t)(end - p))); p++)
		lines++;
	buf = malloc(len + lines * indent);
	if (!buf)
		return -ENOMEM;
	out = buf;
	for (const char *p = s; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl + 1 - p) : (size_t)(end - p);

		memset(out, ' ', indent);
		memcpy(out + indent, p, n);
		out += indent + n;
		p += n;
	}
	fwrite(buf, 1, (size_t)(out - buf), stdout);
	return 0;
}

const struct column_class *device_class_columns(enum device_class c)
{
	static const struct column_class *const classes[_DEVICE_CLASS_MAX] = {
	    [DEVICE_CLASS_PCI] = &pci_columns,
	    [DEVICE_CLASS_USB] = &usb_columns,
	    [DEVICE_CLASS_SERIAL] = &serial_columns,
	};

	return classes[c];
}

int device_class_from_name(const char *name)
{
	for (int c = 0; c < _DEVICE_CLASS_MAX; c++)
		if (strcmp(device_class_columns(c)->name, name) == 0)
			return c;
	return -1;
}

void device_class_scan_error(struct cli *cli, enum device_class c, int error)
{
	const char *root = passthru_ctx_get_sysroot(cli->ctx);
	const struct column_class *cls = device_class_columns(c);

	/* The real host's root is "/": do not print "//sys/...". */
	cli_error("cannot read %s under %s%s: %s", cls->title, strcmp(root, "/") == 0 ? "" : root,
		  cls->scan_dir, strerror(-error));
}

int print_oom(void)
{
	cli_error("out of memory");
	return EXIT_REFUSED;
}
