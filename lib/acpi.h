/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ACPI tables that describe the IOMMU (/sys/firmware/acpi/tables/DMAR and IVRS), read for
 * what they say about interrupt remapping before the IOMMU is even on. Parsers of the raw bytes
 * only; host_firmware_interrupt_remapping() (host.h) does the reading.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define ACPI_HEADER_SIZE 36

/*
 * DMAR (Intel VT-d specification, 8.1): after the header, Host Address Width (1 byte) and
 * Flags (1 byte) whose bit 0, INTR_REMAP, says the platform supports interrupt remapping; Linux
 * does not turn remapping on without it. Returns 1 when set, 0 when not, -EBADMSG for a table
 * that is not a DMAR, is shorter than its flags, or whose length field exceeds len.
 */
int acpi_dmar_interrupt_remapping(const uint8_t *buf, size_t len);

/*
 * IVRS (AMD I/O Virtualization Technology specification, 5.2): after the header, IVinfo
 * (4 bytes) and 8 reserved bytes, then IVHD blocks (types 10h, 11h, 40h) and IVMD blocks, each
 * with its length at offset 2. AMD-Vi remaps interrupts through the device table, which every
 * IOMMU has; what the firmware must provide is the IOAPIC of the southbridge (00:14.0) as an
 * IVHD special device entry (type 48h, variety 1): Linux disables interrupt remapping when it
 * is missing ("No southbridge IOAPIC found"). Returns 1 when some IVHD block lists it, 0 when
 * none does, -EBADMSG for a table that is not an IVRS or whose length field exceeds len.
 */
int acpi_ivrs_interrupt_remapping(const uint8_t *buf, size_t len);
