/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: resets of a PCI function (reset.c).
 */
#pragma once

#include "internal.h"
#include "timed-io.h"

/*
 * Resets a PCI function through its reset attribute, with method (one of the kernel's
 * reset_method values) chosen for this reset only when given.
 */
int pci_reset_run(struct passthru_ctx *ctx, struct timed_writer *w, const char *address,
		  const char *method, unsigned timeout_ms);
