/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The public face of the scan of /proc for processes holding an IOMMU group's VFIO files, which
 * the takeover's planning and the SR-IOV refusals use (vfio_group_users() in takeover.c).
 */
#include "takeover.h"

_public_ int passthru_vfio_group_get_users(struct passthru_ctx *ctx, int group, const char *address,
					   char ***ret)
{
	char **users = NULL;
	int r;

	if (!ctx || group < 0 || !ret)
		return -EINVAL;
	if (address) {
		char canonical[PASSTHRU_PCI_ADDRESS_LEN + 1];

		r = passthru_pci_address_parse(address, canonical);
		if (r < 0)
			return r;
		r = vfio_group_users(ctx, group, canonical, &users);
	} else
		r = vfio_group_users(ctx, group, NULL, &users);
	if (r < 0)
		return r;
	if (!users) {
		users = calloc(1, sizeof(char *));
		if (!users)
			return -ENOMEM;
	}
	*ret = users;
	return 0;
}

_public_ char **passthru_strv_free(char **strv)
{
	strv_free(strv);
	return NULL;
}
