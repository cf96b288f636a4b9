/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lvm.conf as storage prevention reads and edits it (lib/lvm-conf.c). Beyond not crashing: a
 * file that scans takes passthru's block and then gives it back byte for byte, the edited file
 * scans with the block in it, and editing twice is editing once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage-claim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *rejects[] = {"^/dev/disk/by-path/pci-0000:02:00[.]0-", NULL};
	const char *text = (const char *)data;
	char *base = NULL, *edited = NULL, *again = NULL, *back = NULL;
	struct lvm_conf_facts f;
	int r;

	if (size > 65536)
		return 0;
	if (lvm_conf_scan(text, size, &f) < 0)
		return 0;
	if (f.devices_open >= 0 && ((size_t)f.devices_open >= size || text[f.devices_open] != '{'))
		abort();
	if (lvm_conf_edit(text, size, NULL, &base) < 0)
		abort();
	r = lvm_conf_edit(text, size, rejects, &edited);
	if (r == 0) {
		if (lvm_conf_scan(edited, strlen(edited), &f) < 0 || !f.has_block ||
		    f.own_global_filter)
			abort();
		if (lvm_conf_edit(edited, strlen(edited), rejects, &again) < 0 ||
		    strcmp(again, edited) != 0)
			abort();
		/* Back byte for byte, but for the newline a file without one at its end gets. */
		if (lvm_conf_edit(edited, strlen(edited), NULL, &back) < 0 ||
		    (strcmp(back, base) != 0 &&
		     !(strlen(back) == strlen(base) + 1 && strncmp(back, base, strlen(base)) == 0 &&
		       back[strlen(base)] == '\n')))
			abort();
	} else if (r != -EEXIST && r != -EOPNOTSUPP && r != -EBADMSG) {
		abort();
	}
	free(base);
	free(edited);
	free(again);
	free(back);
	return 0;
}
