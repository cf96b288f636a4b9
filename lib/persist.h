/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: the persisted wishes under /etc/passthru (persist.c).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

#define PERSIST_PATH  "/etc/passthru/bindings.conf"
#define MODPROBE_PATH "/etc/modprobe.d/passthru-vfio.conf"

struct persist_entry {
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	uint16_t vendor, device, subvendor, subdevice;
	/* The same as "vvvv:dddd:ssss:ssss". */
	char id[20];
	/* The driver the device had before it was bound; NULL when unknown. */
	char *host_driver;
	bool force;
};

/* Parses the store; -EBADMSG with *ret_line (1-based) on the first malformed line. */
int persist_parse(const char *text, size_t len, struct persist_entry **ret, size_t *ret_n,
		  unsigned *ret_line);
int persist_format(const struct persist_entry *entries, size_t n, char **ret);
void persist_entries_free(struct persist_entry *entries, size_t n);
/* "vvvv:dddd:ssss:ssss" of a device; -ENODATA when an id cannot be read. */
int pci_identity(struct passthru_pci_device *dev, char ret[20]);
