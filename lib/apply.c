/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Applying every persisted setting at boot (`passthru apply`, passthru-apply.service), in the
 * order the host needs it:
 *   1. the SR-IOV settings of /etc/passthru/vf.d/ (passthru_sriov_apply_persisted()): a VF
 *      exists only once its PF's count was written, and bindings.conf may name VFs;
 *   2. the bindings of /etc/passthru/bindings.conf, one takeover per IOMMU group, so that one
 *      bad device does not keep the others from their VMs (a group leaves the host whole:
 *      its persisted devices go in one transaction, forced when any of them was);
 *   3. /etc/modprobe.d/passthru-vfio.conf, kept in step with the bindings.
 * Nothing here prints: every step is told to the caller through its ops.
 */
#include "internal.h"
#include "sriov.h"

struct group {
	int iommu_group; /* -1: none known, a group of its own */
	bool force;
	char **addresses;
	size_t *indexes; /* the entries of bindings.conf, for the refusals of adding them */
};

static void groups_free(struct group *groups, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		strv_free(groups[i].addresses);
		free(groups[i].indexes);
	}
	free(groups);
}

/* The group of the persisted entry i, made when it is the first of its IOMMU group. */
static int group_add(struct group **groups, size_t *n, int iommu_group, const char *address,
		     size_t index, bool force)
{
	struct group *g = NULL;
	size_t *ni;
	int r;

	for (size_t k = 0; iommu_group >= 0 && k < *n; k++)
		if ((*groups)[k].iommu_group == iommu_group)
			g = &(*groups)[k];
	if (!g) {
		struct group *ng = realloc(*groups, (*n + 1) * sizeof(*ng));

		if (!ng)
			return -ENOMEM;
		*groups = ng;
		g = &ng[(*n)++];
		*g = (struct group){.iommu_group = iommu_group};
	}
	ni = realloc(g->indexes, (strv_length(g->addresses) + 1) * sizeof(*ni));
	if (!ni)
		return -ENOMEM;
	g->indexes = ni;
	ni[strv_length(g->addresses)] = index;
	r = strv_push(&g->addresses, address);
	if (r < 0)
		return r;
	g->force |= force;
	return 0;
}

static int apply_group(struct passthru_ctx *ctx, struct passthru_persist *p, const struct group *g,
		       unsigned flags, unsigned timeout_ms, const struct passthru_apply_ops *ops,
		       void *userdata)
{
	struct passthru_takeover *t = NULL;
	size_t added = 0;
	int r;

	r = passthru_takeover_new(ctx, PASSTHRU_TAKEOVER_BIND,
				  g->force ? PASSTHRU_TAKEOVER_FORCE : 0, &t);
	if (r < 0) {
		if (ops->group)
			ops->group(userdata, NULL, r);
		return r;
	}
	if (timeout_ms)
		passthru_takeover_set_timeout(t, timeout_ms);
	if (ops->lock_wait)
		passthru_takeover_set_wait_fn(t, ops->lock_wait, userdata);
	for (size_t k = 0; g->addresses[k]; k++) {
		int a = passthru_takeover_add_device(t, g->addresses[k]);

		/* Gone since it was checked: the race is inherent; the others go on. */
		if (a < 0) {
			if (ops->binding_refused)
				ops->binding_refused(userdata, p, g->indexes[k],
						     errno_is_vanished(a) ? -ENODEV : a);
			r = r < 0 ? r : a;
			continue;
		}
		added++;
	}
	if (added > 0) {
		int e = (flags & PASSTHRU_APPLY_DRY_RUN) ? passthru_takeover_plan(t)
							 : passthru_takeover_execute(t);

		if (ops->group)
			ops->group(userdata, t, e);
		r = r < 0 ? r : e;
	}
	passthru_takeover_unref(t);
	return r;
}

_public_ int passthru_apply_persisted(struct passthru_ctx *ctx, unsigned flags, unsigned timeout_ms,
				      const struct passthru_apply_ops *ops, void *userdata)
{
	static const struct passthru_apply_ops none = {0};
	struct passthru_persist *p = NULL;
	struct group *groups = NULL;
	size_t n_groups = 0;
	int first = 0, r;

	if (!ctx)
		return -EINVAL;
	if (!ops)
		ops = &none;

	/* 1. VFs first: bindings of VFs need them to exist. */
	r = sriov_apply_persisted(
	    ctx, (flags & PASSTHRU_APPLY_DRY_RUN) ? PASSTHRU_SRIOV_APPLY_DRY_RUN : 0, timeout_ms,
	    ops->lock_wait, ops->sriov, userdata);
	if (r < 0 && first == 0)
		first = r;

	/* 2. The bindings, one transaction per IOMMU group. */
	r = passthru_persist_load(ctx, &p);
	if (r < 0) {
		if (ops->bindings_unreadable)
			ops->bindings_unreadable(userdata, r);
		return first < 0 ? first : r;
	}
	for (size_t i = 0; i < passthru_persist_get_count(p); i++) {
		struct passthru_pci_device *dev = NULL;
		const char *address = passthru_persist_get_address(p, i);
		int group = -1;

		r = passthru_persist_check(p, i);
		if (r < 0) {
			if (ops->binding_refused)
				ops->binding_refused(userdata, p, i, r);
			if (first == 0)
				first = r;
			continue;
		}
		if (passthru_pci_device_new(ctx, address, &dev) >= 0 &&
		    passthru_pci_device_get_iommu_group(dev, &group) < 0)
			group = -1;
		passthru_pci_device_unref(dev);
		r = group_add(&groups, &n_groups, group, address, i,
			      passthru_persist_get_force(p, i));
		if (r < 0) {
			if (first == 0)
				first = r;
			break;
		}
	}
	for (size_t k = 0; k < n_groups; k++) {
		r = apply_group(ctx, p, &groups[k], flags, timeout_ms, ops, userdata);
		if (r < 0 && first == 0)
			first = r;
	}
	groups_free(groups, n_groups);

	/* 3. modprobe.d for the persisted GPUs. */
	if (!(flags & PASSTHRU_APPLY_DRY_RUN)) {
		r = passthru_persist_write_modprobe(p);
		if (ops->modprobe)
			ops->modprobe(userdata, p, r);
		/* Early at boot /etc may still be read-only: the bindings matter, the file waits.
		 */
		if (r < 0 && r != -EROFS && first == 0)
			first = r;
	}
	passthru_persist_unref(p);
	return first;
}
