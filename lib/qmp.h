/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The QMP client's internals: the message stream parser and query-pci, for qemu-hotplug.c and
 * tests.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

/* A QMP message larger than this is refused (query-pci of a big VM is some 100 KiB). */
#define QMP_MESSAGE_MAX (16u * 1024 * 1024)

/*
 * QEMU writes JSON objects one after another, each followed by CRLF, compact or (with
 * pretty=on) across lines. The stream parser takes bytes as they come and hands out whole
 * objects.
 */
struct qmp_stream {
	struct json_tokener *tok;
	char *buf;
	size_t len, size, pos;
	/* Bytes of the message being parsed that the tokener already took. */
	size_t taken;
};

int qmp_stream_init(struct qmp_stream *s);
void qmp_stream_done(struct qmp_stream *s);
/* Appends bytes. -EMSGSIZE when a message grows beyond QMP_MESSAGE_MAX. */
int qmp_stream_push(struct qmp_stream *s, const void *data, size_t len);
/*
 * The next complete message: 1 and *ret (a JSON object, the caller's reference), 0 when more
 * bytes are needed, -EBADMSG for bytes that are not JSON, a NUL byte or a value that is not an
 * object, -EMSGSIZE for a message too large. After an error the stream is unusable.
 */
int qmp_stream_next(struct qmp_stream *s, struct json_object **ret);

/* One PCI function of a VM, from query-pci. */
struct qmp_pci_device {
	unsigned bus, slot, function;
	uint16_t vendor, device, class_code;
	/* The device's id; NULL when it has none. */
	char *qdev_id;
	/* A bridge: its secondary bus number and how many functions are behind it; else -1, 0. */
	int secondary;
	size_t behind;
};

/*
 * Flattens query-pci's return value (buses with devices, bridges with their own devices) into
 * one list in the order QEMU gave. -EBADMSG when it does not have query-pci's shape.
 */
int qmp_parse_query_pci(struct json_object *ret_value, struct qmp_pci_device **ret, size_t *ret_n);
void qmp_pci_devices_free(struct qmp_pci_device *v, size_t n);

/*
 * The names of the properties a qom-list returned whose name starts with name_prefix and whose
 * type starts with type_prefix (either NULL: any), in QEMU's order: "child[" names are the
 * devices on a bus, "child<" types the devices below /machine/peripheral. Entries without a
 * string name and type are left out. -EBADMSG when value is not a list. *ret is never NULL.
 */
int qmp_parse_qom_list(struct json_object *value, const char *name_prefix, const char *type_prefix,
		       char ***ret);

/*
 * Runs a command (args borrowed, may be NULL). *ret (when not NULL) gets a reference to the
 * return value. -EREMOTEIO with passthru_qmp_get_error() = QEMU's desc.
 */
int qmp_execute(struct passthru_qmp *qmp, const char *command, struct json_object *args,
		struct json_object **ret);
/*
 * The next event, from those queued while commands ran, else from the socket, waiting until
 * deadline (CLOCK_MONOTONIC, in ms; see qmp_now_ms()). -ETIMEDOUT after it.
 */
int qmp_next_event(struct passthru_qmp *qmp, uint64_t deadline, struct json_object **ret);
uint64_t qmp_now_ms(void);
unsigned qmp_get_timeout(const struct passthru_qmp *qmp);
