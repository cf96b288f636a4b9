/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The DMAR and IVRS parsers (lib/acpi.c). Beyond not reading out of bounds: the answer is yes,
 * no, or -EBADMSG, and once the input is given a matching signature and a length field that
 * fits, it is always yes or no (the walk stops at anything malformed instead of failing).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acpi.h"

static void check(int r, bool must_parse)
{
	if (r != 0 && r != 1 && (must_parse || r != -EBADMSG))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	if (size > 65536)
		return 0;
	check(acpi_dmar_interrupt_remapping(data, size), false);
	check(acpi_ivrs_interrupt_remapping(data, size), false);
	if (size < ACPI_HEADER_SIZE)
		return 0;

	/* An exact copy, so that reads past the end are caught, with a header that holds. */
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[4] = (uint8_t)size;
	copy[5] = (uint8_t)(size >> 8);
	copy[6] = copy[7] = 0;
	memcpy(copy, "DMAR", 4);
	check(acpi_dmar_interrupt_remapping(copy, size), size >= 38);
	memcpy(copy, "IVRS", 4);
	check(acpi_ivrs_interrupt_remapping(copy, size), size >= 48);
	free(copy);
	return 0;
}
