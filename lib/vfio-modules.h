/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: the vfio modules (vfio-modules.c).
 */
#pragma once

#include <stdbool.h>

#include "internal.h"

/*
 * Makes sure the vfio-pci driver and the type1 IOMMU backend are there, loading vfio, vfio_pci
 * and vfio_iommu_type1 through libkmod when missing. On a root other than "/" nothing can be
 * loaded: -ENOPKG when something is missing.
 */
int vfio_modules_ensure(struct passthru_ctx *ctx);
bool vfio_pci_driver_present(struct passthru_ctx *ctx);
