/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Human names of PCI and USB ids. PCI names come from pci.ids through libpci (the root's own
 * pci.ids when it has one), USB names from udev's hwdb. Every function returns NULL when the
 * database has no name (never a numeric stand-in) or cannot be loaded. Strings are owned by
 * the context and stay valid for its lifetime; the databases are loaded on first use.
 */
#pragma once

#include "internal.h"

const char *names_pci_vendor(struct passthru_ctx *ctx, uint16_t vendor);
const char *names_pci_device(struct passthru_ctx *ctx, uint16_t vendor, uint16_t device);
/* The subsystem's own name ("GeForce GTX 1080 Ti"), as lspci's "Subsystem:" line. */
const char *names_pci_subsystem(struct passthru_ctx *ctx, uint16_t vendor, uint16_t device,
				uint16_t subvendor, uint16_t subdevice);
/* The subclass name, else the base class name. */
const char *names_pci_class(struct passthru_ctx *ctx, uint8_t base, uint8_t sub);
const char *names_pci_prog_if(struct passthru_ctx *ctx, uint8_t base, uint8_t sub, uint8_t prog_if);

const char *names_usb_vendor(struct passthru_ctx *ctx, uint16_t vendor);
const char *names_usb_product(struct passthru_ctx *ctx, uint16_t vendor, uint16_t product);
