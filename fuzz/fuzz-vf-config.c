/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The parser of /etc/passthru/vf.d files. Beyond not crashing: a file it accepts has a device
 * line, VF lines sorted and unique, valid settings, and what is written back from it parses
 * to the same text again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vf-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vf_config *c = NULL, *again = NULL;
	char *text = NULL, *text2 = NULL;
	unsigned line = 0;

	if (size > 65536)
		return 0;
	if (vf_config_parse((const char *)data, size, &c, &line) < 0)
		return 0;
	if (strlen(c->id) != 19)
		abort();
	for (size_t i = 0; i < c->n_vfs; i++) {
		const struct vf_settings *s = &c->vfs[i].settings;

		if (i > 0 && c->vfs[i].index <= c->vfs[i - 1].index)
			abort();
		if ((s->has_mac && (s->mac[0] & 1)) || s->vlan > 4095 || s->qos > 7)
			abort();
	}
	if (c->bind_vfio && c->autoprobe == 1)
		abort();
	memcpy(c->address, "0000:03:00.0", 13);
	if (vf_config_format(c, &text) < 0)
		abort();
	if (vf_config_parse(text, strlen(text), &again, &line) < 0)
		abort();
	memcpy(again->address, "0000:03:00.0", 13);
	if (vf_config_format(again, &text2) < 0 || strcmp(text, text2) != 0)
		abort();
	free(text);
	free(text2);
	vf_config_free(c);
	vf_config_free(again);
	return 0;
}
