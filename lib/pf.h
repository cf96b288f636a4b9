/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Library-private: a PF's sysfs (pf.c).
 */
#pragma once

#include "internal.h"

/*
 * Opens a PF's sysfs directory and writes its canonical address to ret_address. -EINVAL for a
 * malformed address, -ENODEV when absent, -EOPNOTSUPP for a VF or a function without SR-IOV.
 */
int pf_open_dir(struct passthru_ctx *ctx, const char *pf,
		char ret_address[PASSTHRU_PCI_ADDRESS_LEN + 1]);
/* Counts the PF's virtfnN links: the VFs it has now. */
unsigned pf_count_vfs(int pf_dirfd);
/* The address of VF index from the PF's virtfnN link. */
int pf_vf_address(int pf_dirfd, unsigned index, char ret[PASSTHRU_PCI_ADDRESS_LEN + 1]);
/*
 * The address VF index gets when the PF's count makes it, whether it exists or not: the PF's
 * routing ID plus sriov_offset plus index times sriov_stride. -ERANGE past the last bus.
 */
int pf_vf_address_to_be(int pf_dirfd, const char *pf, unsigned index,
			char ret[PASSTHRU_PCI_ADDRESS_LEN + 1]);

/*
 * The PF's network interface: the first entry of /sys/bus/pci/devices/PF/net/ by name, and its
 * ifindex. -ENOLINK when it has none.
 */
int pf_netdev(struct passthru_ctx *ctx, const char *pf, char **ret_name, int *ret_ifindex);
