/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PCI addresses. Beyond not crashing: whatever the parser accepts comes out canonical
 * (12 to 16 characters, lower case) and parses again to itself, and it equals the input up to case
 * and the optional "0000:" domain.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "passthru.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[PASSTHRU_PCI_ADDRESS_LEN + 1], again[PASSTHRU_PCI_ADDRESS_LEN + 1];
	char *s;

	if (size > 256)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (passthru_pci_address_parse(s, out) == 0) {
		if (strlen(out) < 12 || strlen(out) > PASSTHRU_PCI_ADDRESS_LEN)
			abort();
		for (const char *p = out; *p; p++)
			if (*p >= 'A' && *p <= 'F')
				abort();
		if (passthru_pci_address_parse(out, again) != 0 || strcmp(out, again) != 0)
			abort();
		if (strcasecmp(s, out) != 0 && strcasecmp(s, out + 5) != 0)
			abort();
		if (strcasecmp(s, out + 5) == 0 && strncmp(out, "0000:", 5) != 0)
			abort();
	}
	free(s);
	return 0;
}
