/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* PCI internals shared by the files of lib/. */
#pragma once

#include "internal.h"

/*
 * The fields of an address in the forms passthru_pci_address_parse() accepts. -EINVAL for
 * anything else.
 */
int pci_address_parse_fields(const char *text, unsigned *ret_domain, unsigned *ret_bus,
			     unsigned *ret_dev, unsigned *ret_fn);
