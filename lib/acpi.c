/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * DMAR and IVRS: the interrupt remapping support the firmware declares. Every offset is checked
 * against the table's own length, which is checked against the bytes read; the checksum is not
 * (Linux uses tables with a wrong one, with a warning).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "acpi.h"

#define DMAR_FLAGS_OFFSET    37
#define DMAR_FLAG_INTR_REMAP 0x01
#define IVRS_FIRST_BLOCK     48
#define IVHD_DEV_SPECIAL     0x48
#define IVHD_SPECIAL_IOAPIC  1
#define IOAPIC_SB_DEVID	     0x00a0 /* 00:14.0, the southbridge */

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The table's length from its header, after checking the signature; -EBADMSG when it is not
 * sig, or claims more bytes than len or fewer than min. */
static int acpi_table_length(const uint8_t *buf, size_t len, const char *sig, size_t min,
			     size_t *ret)
{
	uint32_t n;

	if (!buf || len < ACPI_HEADER_SIZE || memcmp(buf, sig, 4) != 0)
		return -EBADMSG;
	n = le32(buf + 4);
	if (n > len || n < min)
		return -EBADMSG;
	*ret = n;
	return 0;
}

int acpi_dmar_interrupt_remapping(const uint8_t *buf, size_t len)
{
	size_t n;
	int r;

	r = acpi_table_length(buf, len, "DMAR", DMAR_FLAGS_OFFSET + 1, &n);
	if (r < 0)
		return r;
	return (buf[DMAR_FLAGS_OFFSET] & DMAR_FLAG_INTR_REMAP) ? 1 : 0;
}

/* The size of an IVHD device entry: the type's top two bits for the fixed ones (4, 8, 16 or 32
 * bytes), offset 21 for the variable ACPI HID entry (F0h); 0 for a type the layout does not
 * tell the size of. */
static size_t ivhd_entry_size(const uint8_t *e, size_t room)
{
	if (e[0] < 0x80)
		return (size_t)4 << (e[0] >> 6);
	if (e[0] == 0xf0)
		return room > 21 ? 22 + (size_t)e[21] : 0;
	return 0;
}

static bool ivhd_lists_sb_ioapic(const uint8_t *block, size_t len)
{
	/* Type 10h has a 24-byte header; 11h and 40h add the EFR image: 40 bytes. */
	size_t off = block[0] == 0x10 ? 24 : 40;

	while (off + 4 <= len) {
		const uint8_t *e = block + off;
		size_t size = ivhd_entry_size(e, len - off);

		if (size == 0 || size > len - off)
			return false;
		if (e[0] == IVHD_DEV_SPECIAL && e[7] == IVHD_SPECIAL_IOAPIC &&
		    le16(e + 5) == IOAPIC_SB_DEVID)
			return true;
		off += size;
	}
	return false;
}

int acpi_ivrs_interrupt_remapping(const uint8_t *buf, size_t len)
{
	size_t n, off = IVRS_FIRST_BLOCK;
	int r;

	r = acpi_table_length(buf, len, "IVRS", IVRS_FIRST_BLOCK, &n);
	if (r < 0)
		return r;
	while (off + 4 <= n) {
		const uint8_t *block = buf + off;
		size_t size = le16(block + 2);

		/* A block shorter than its own header ends the walk: nothing after it can be
		 * found reliably. */
		if (size < 4 || size > n - off)
			break;
		if ((block[0] == 0x10 || block[0] == 0x11 || block[0] == 0x40) &&
		    ivhd_lists_sb_ioapic(block, size))
			return 1;
		off += size;
	}
	return 0;
}
