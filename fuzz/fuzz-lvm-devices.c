/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * LVM's devices file and passthru's record of it (lib/lvm-devices.c). The input is a devices
 * file, then (after a line "--") a record. Beyond not crashing: what comes out of the devices
 * file goes into the record, the record parses, taking out twice is taking out once, and giving
 * the drive back leaves every line of the original file in the result. The drive's ids include
 * NVMe namespace ids of every type LVM may list them by (the record's lines are read back as
 * sysfs values too); no entry taken out can be one that names none of the drive's ids only.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage-claim.h"

static bool has_line(const char *text, const char *line, size_t len)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, line, len) == 0 && (p[len] == '\n' || p[len] == '\0'))
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *ids[] = {"sys_wwid nvme.1b36-6775657374-51454d55-00000001",
		       "sys_serial guest",
		       "devname /dev/nvme1n1p2",
		       "nvme_uuid uuid.8f5c1e2a-4b3d-4c6e-9f70-112233445566",
		       "nvme_eui64 eui.0025388b91b2a1c4",
		       NULL};
	struct lvm_drive d = {"0000:02:00.0", ids};
	struct lvm_devices_edit e, again, back;
	struct lvm_devices_record *v;
	char *text, *sep, *state = NULL;
	size_t n;

	if (size > 65536)
		return 0;
	text = strndup((const char *)data, size);
	if (!text)
		return 0;
	sep = strstr(text, "\n--\n");
	if (sep) {
		*sep = '\0';
		state = sep + 4;
	}
	/* Every line of the record as a namespace attribute's value: an id, or refused. */
	for (const char *p = state; p && *p;) {
		static const char *const attrs[] = {"uuid", "nguid", "eui"};
		const char *nl = strchr(p, '\n');
		char *line = strndup(p, nl ? (size_t)(nl - p) : strlen(p)), *id;

		for (size_t i = 0; line && i < 3; i++)
			if (lvm_devices_nvme_id(attrs[i], line, &id) >= 0) {
				if (strncmp(id, "nvme_", 5) != 0 || strchr(id, '\n'))
					abort();
				free(id);
			}
		free(line);
		p = nl ? nl + 1 : NULL;
	}
	if (lvm_devices_edit(text, state, &d, 1, true, &e) < 0) {
		free(text);
		return 0;
	}
	/* Without a record, what was taken out named one of the ids: it was not unmatched. */
	if (!state) {
		size_t before, after;

		if (lvm_devices_unmatched(text, ids, &before) < 0 ||
		    lvm_devices_unmatched(e.devices, ids, &after) < 0 || after != before)
			abort();
	}
	if (e.state) {
		if (lvm_devices_state_parse(e.state, strlen(e.state), &v, &n) < 0)
			abort();
		lvm_devices_records_free(v, n);
	} else if (e.removed) {
		abort(); /* lines taken out and no record of them */
	}
	if (lvm_devices_edit(e.devices, e.state, &d, 1, true, &again) < 0 || again.removed ||
	    again.restored || strcmp(again.devices, e.devices) != 0)
		abort();
	/* Given back: every entry line of the original is there again. */
	if (lvm_devices_edit(e.devices, e.state, NULL, 0, true, &back) < 0 || back.state)
		abort();
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (strncmp(p, "IDTYPE=", 7) == 0 && !has_line(back.devices, p, len))
			abort();
		p = nl ? nl + 1 : NULL;
	}
	free(e.devices);
	free(e.state);
	free(again.devices);
	free(again.state);
	free(back.devices);
	free(text);
	return 0;
}
