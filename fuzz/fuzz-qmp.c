/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What QEMU sends on a QMP socket: the stream parser taking the bytes in pieces of varying
 * size, and every message through what the client reads of it (the return values of query-pci
 * and qom-list, errors, events). Beyond not crashing: the parser hands out objects only, the
 * same bytes give the same messages whether they come at once or in pieces, and qom-list names
 * have the prefix asked for.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmp.h"

#define MAX_MESSAGES 64

static void look_at(struct json_object *m)
{
	struct json_object *v, *e, *d;
	struct qmp_pci_device *devices = NULL;
	char **names = NULL;
	size_t n = 0;

	if (!json_object_is_type(m, json_type_object))
		abort();
	if (json_object_object_get_ex(m, "return", &v) &&
	    qmp_parse_query_pci(v, &devices, &n) >= 0) {
		for (size_t i = 0; i < n; i++)
			if (devices[i].slot > 31 || devices[i].function > 7 ||
			    devices[i].bus > 255 || devices[i].secondary > 255 ||
			    devices[i].behind > n)
				abort();
		qmp_pci_devices_free(devices, n);
	}
	if (json_object_object_get_ex(m, "return", &v) &&
	    qmp_parse_qom_list(v, "child[", NULL, &names) >= 0) {
		if (!names)
			abort();
		for (char **name = names; *name; name++)
			if (strncmp(*name, "child[", 6) != 0)
				abort();
		strv_free(names);
	}
	if (json_object_object_get_ex(m, "error", &e) && json_object_object_get_ex(e, "desc", &d))
		(void)json_object_get_string(d);
}

/* Feeds data in pieces of the sizes the first bytes say; returns the messages' JSON texts. */
static size_t parse(const uint8_t *data, size_t size, const uint8_t *sizes, size_t n_sizes,
		    char **texts)
{
	struct qmp_stream s;
	size_t pos = 0, k = 0, count = 0;
	int r = 0;

	if (qmp_stream_init(&s) < 0)
		return 0;
	while (pos < size && r >= 0) {
		size_t piece = n_sizes ? (size_t)sizes[k++ % n_sizes] + 1 : size;
		struct json_object *m;

		if (piece > size - pos)
			piece = size - pos;
		r = qmp_stream_push(&s, data + pos, piece);
		pos += piece;
		while (r >= 0 && (r = qmp_stream_next(&s, &m)) > 0) {
			look_at(m);
			if (count < MAX_MESSAGES)
				texts[count++] = strdup(json_object_to_json_string(m));
			json_object_put(m);
		}
	}
	qmp_stream_done(&s);
	return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *whole[MAX_MESSAGES] = {0}, *pieces[MAX_MESSAGES] = {0};
	size_t n_sizes, a, b;

	if (size > 1 << 20)
		return 0;
	/* The first byte says how many of the next bytes are piece sizes. */
	n_sizes = size ? data[0] % 8 : 0;
	if (size < 1 + n_sizes)
		return 0;
	a = parse(data + 1 + n_sizes, size - 1 - n_sizes, NULL, 0, whole);
	b = parse(data + 1 + n_sizes, size - 1 - n_sizes, data + 1, n_sizes, pieces);
	/* A stream that breaks may break at a different message in pieces, never before. */
	for (size_t i = 0; i < a && i < b; i++)
		if (!whole[i] || !pieces[i] || strcmp(whole[i], pieces[i]) != 0)
			abort();
	for (size_t i = 0; i < MAX_MESSAGES; i++) {
		free(whole[i]);
		free(pieces[i]);
	}
	return 0;
}
