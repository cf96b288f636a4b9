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
#include "persist.h"
#include "pf.h"
#include "sriov.h"
#include "vf-config.h"
#include "vf.h"

/* ------------------------------------------------------------------------------------------ */
/* 1. SR-IOV: VF counts and VF settings                                                       */

/* A VF count a dry run planned: the VFs it would make do not exist yet. */
struct planned_count {
	char pf[PASSTHRU_PCI_ADDRESS_LEN + 1];
	unsigned numvfs;
};

struct reporter {
	passthru_sriov_report_fn fn;
	void *userdata;
	int first_error;
	/*
	 * For the executions of VF counts and VF settings: the wait for another passthru's lock
	 * (0: the default), and whom to tell who holds it.
	 */
	unsigned lock_timeout_ms;
	passthru_takeover_wait_fn lock_wait;
	/* In a dry run, the VF counts planned, for the bindings of VFs they would make. */
	struct planned_count *planned;
	size_t n_planned;
};

static void report(struct reporter *rep, const char *pf, int error, const char *format, ...)
    _printf_(4, 5);
static void report(struct reporter *rep, const char *pf, int error, const char *format, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int k;

	if (error < 0 && rep->first_error == 0)
		rep->first_error = error;
	if (!rep->fn)
		return;
	va_start(ap, format);
	k = vasprintf(&msg, format, ap);
	va_end(ap);
	rep->fn(rep->userdata, pf, error, k < 0 ? "(out of memory)" : msg);
}

/* "8086:1572 (subsystem 8086:0000)" from "8086:1572:8086:0000". */
static void describe_id(const char *id, char buf[64])
{
	snprintf(buf, 64, "%.9s (subsystem %.9s)", id, id + 10);
}

/* Whether the PF at c->address is still the device the settings were saved for. */
static bool check_identity(struct passthru_ctx *ctx, const struct vf_config *c,
			   struct reporter *rep)
{
	struct passthru_pci_device *dev = NULL;
	char now[20], wanted[64], found[64];
	int r;

	describe_id(c->id, wanted);
	r = passthru_pci_device_new(ctx, c->address, &dev);
	if (r == -ENODEV) {
		report(rep, c->address, r,
		       "saved for %s, but there is no device at this address now: not applied",
		       wanted);
		return false;
	}
	if (r < 0) {
		report(rep, c->address, r, "cannot read it: %s", strerror(-r));
		return false;
	}
	r = pci_identity(dev, now);
	passthru_pci_device_unref(dev);
	if (r < 0) {
		report(rep, c->address, r, "cannot read its identity: %s", strerror(-r));
		return false;
	}
	if (strcmp(now, c->id) != 0) {
		describe_id(now, found);
		report(rep, c->address, -ESTALE,
		       "saved for %s, but the address now holds %s: not applied", wanted, found);
		return false;
	}
	return true;
}

static void apply_count(struct passthru_ctx *ctx, const struct vf_config *c, bool dry_run,
			struct reporter *rep)
{
	struct passthru_sriov *s = NULL;
	unsigned before = 0;
	int r;

	r = passthru_sriov_new(ctx, c->address, c->bind_vfio ? PASSTHRU_SRIOV_BIND_VFIO : 0, &s);
	if (r < 0) {
		report(rep, c->address, r, "not an SR-IOV PF now: %s", strerror(-r));
		return;
	}
	(void)passthru_sriov_get_numvfs(s, &before);
	r = passthru_sriov_set_numvfs(s, c->numvfs);
	if (r < 0) {
		unsigned total = 0;

		(void)passthru_sriov_get_totalvfs(s, &total);
		report(rep, c->address, r, "%u VFs saved, but it offers at most %u", c->numvfs,
		       total);
		goto out;
	}
	if (c->autoprobe >= 0)
		(void)passthru_sriov_set_autoprobe(s, c->autoprobe);
	sriov_set_lock_timeout(s, rep->lock_timeout_ms);
	passthru_sriov_set_wait_fn(s, rep->lock_wait, rep->userdata);
	r = passthru_sriov_plan(s);
	if (r == -EPERM) {
		for (size_t i = 0; i < passthru_sriov_get_refusal_count(s); i++)
			report(rep, c->address, -EPERM, "not changing its VFs: %s: %s",
			       passthru_sriov_get_refusal_address(s, i),
			       passthru_sriov_get_refusal_reason(s, i));
		goto out;
	}
	if (r < 0) {
		report(rep, c->address, r, "cannot plan its VFs: %s", strerror(-r));
		goto out;
	}
	if (dry_run) {
		struct planned_count *pc =
		    c->numvfs ? ARRAY_GROW(rep->planned, rep->n_planned) : NULL;

		/* Without memory, a binding of one of its VFs is refused as absent; no worse. */
		if (pc) {
			memcpy(pc->pf, c->address, sizeof(pc->pf));
			pc->numvfs = c->numvfs;
			rep->n_planned++;
		}
		STRV_FOREACH (step, (char **)passthru_sriov_get_steps(s))
			report(rep, c->address, 0, "would %s", *step);
		if (!*passthru_sriov_get_steps(s))
			report(rep, c->address, 0, "%u VFs, nothing to do", c->numvfs);
		goto out;
	}
	r = passthru_sriov_execute(s);
	if (r < 0) {
		report(rep, c->address, r, "%s", passthru_sriov_get_error(s));
		goto out;
	}
	if (before == c->numvfs)
		report(rep, c->address, 0, "%u VFs (already there)%s", c->numvfs,
		       c->bind_vfio && c->numvfs ? ", on vfio-pci" : "");
	else
		report(rep, c->address, 0, "%u VFs made (it had %u)%s", c->numvfs, before,
		       c->bind_vfio && c->numvfs ? ", on vfio-pci" : "");
out:
	passthru_sriov_unref(s);
}

static void apply_vf(struct passthru_ctx *ctx, const struct vf_config *c,
		     const struct vf_config_vf *v, bool dry_run, struct reporter *rep)
{
	struct passthru_vf *vf = NULL;
	_cleanup_free_ char *summary = NULL;
	int r;

	r = vf_settings_summary(&v->settings, &summary);
	if (r < 0) {
		report(rep, c->address, r, "VF %u: %s", v->index, strerror(-r));
		return;
	}
	if (dry_run) {
		report(rep, c->address, 0, "would set VF %u: %s", v->index, summary);
		return;
	}
	r = passthru_vf_new(ctx, c->address, v->index, &vf);
	if (r == -ENOENT) {
		report(rep, c->address, r, "VF %u: it has no such VF now", v->index);
		return;
	}
	if (r == -ENOLINK) {
		report(rep, c->address, r, "VF %u: the PF has no network interface", v->index);
		return;
	}
	if (r < 0) {
		report(rep, c->address, r, "VF %u: %s", v->index, strerror(-r));
		return;
	}
	passthru_vf_set_timeout(vf, rep->lock_timeout_ms);
	passthru_vf_set_wait_fn(vf, rep->lock_wait, rep->userdata);
	r = vf_set_settings(vf, &v->settings);
	if (r >= 0)
		r = passthru_vf_apply(vf);
	if (r < 0)
		report(rep, c->address, r, "VF %u on %s: cannot set %s: %s%s%s", v->index,
		       passthru_vf_get_netdev(vf), summary, strerror(-r),
		       passthru_vf_get_error(vf) ? ": " : "", passthru_vf_get_error(vf) ?: "");
	else
		report(rep, c->address, 0, "VF %u on %s: %s", v->index, passthru_vf_get_netdev(vf),
		       summary);
	passthru_vf_unref(vf);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Each change of a VF count or of a VF's settings waits for another passthru's lock at most
 * rep->lock_timeout_ms (0: 30 s) and tells rep->lock_wait who holds it. Returns the first error
 * reported.
 */
static int sriov_apply_persisted(struct passthru_ctx *ctx, unsigned flags, struct reporter *rep)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_strv_free_ char **pfs = NULL;
	struct dirent *de;
	bool dry_run = flags & PASSTHRU_SRIOV_APPLY_DRY_RUN;
	int r;

	if (!ctx)
		return -EINVAL;
	r = root_opendir(ctx, VF_CONFIG_DIR, &d);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		report(rep, VF_CONFIG_DIR, r, "cannot read it: %s", strerror(-r));
		return r;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
		_cleanup_free_ char *stem = NULL;

		/* Only ADDRESS.conf, in the canonical form we write: editors leave other files. */
		if (len < 6 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		stem = strndup(de->d_name, len - 5);
		if (!stem)
			return -ENOMEM;
		if (passthru_pci_address_parse(stem, address) < 0 || strcmp(stem, address) != 0) {
			log_debug(ctx, "ignoring " VF_CONFIG_DIR "/%s: not named ADDRESS.conf",
				  de->d_name);
			continue;
		}
		r = strv_push(&pfs, address);
		if (r < 0)
			return r;
	}
	if (pfs)
		qsort(pfs, strv_length(pfs), sizeof(char *), cmp_str);

	STRV_FOREACH (pf, pfs) {
		_cleanup_vf_config_ struct vf_config *c = NULL;
		unsigned line = 0;

		r = vf_config_read(ctx, *pf, &c, &line);
		if (r == -EBADMSG) {
			if (line)
				report(rep, *pf, r, VF_CONFIG_DIR "/%s.conf:%u: malformed line",
				       *pf, line);
			else
				report(rep, *pf, r, VF_CONFIG_DIR "/%s.conf: no device line", *pf);
			continue;
		}
		if (r < 0) {
			report(rep, *pf, r, "cannot read " VF_CONFIG_DIR "/%s.conf: %s", *pf,
			       strerror(-r));
			continue;
		}
		if (!check_identity(ctx, c, rep))
			continue;
		if (c->has_numvfs)
			apply_count(ctx, c, dry_run, rep);
		for (size_t i = 0; i < c->n_vfs; i++)
			apply_vf(ctx, c, &c->vfs[i], dry_run, rep);
	}
	return rep->first_error;
}

_public_ int passthru_sriov_apply_persisted(struct passthru_ctx *ctx, unsigned flags,
					    passthru_sriov_report_fn fn, void *userdata)
{
	struct reporter rep = {.fn = fn, .userdata = userdata};
	int r;

	r = sriov_apply_persisted(ctx, flags, &rep);
	free(rep.planned);
	return r;
}

/*
 * In a dry run, whether address, where no device is, is a VF that a planned count would make:
 * the dry run made none, so the binding saved for it cannot be planned. Says so, under the PF:
 * a note, not a failure.
 */
static bool vf_to_be(struct passthru_ctx *ctx, struct reporter *rep, const char *address)
{
	for (size_t k = 0; k < rep->n_planned; k++) {
		const struct planned_count *pc = &rep->planned[k];
		char pf[PASSTHRU_PCI_ADDRESS_LEN + 1], vf[PASSTHRU_PCI_ADDRESS_LEN + 1];
		_cleanup_close_ int dfd = pf_open_dir(ctx, pc->pf, pf);

		for (unsigned i = 0; dfd >= 0 && i < pc->numvfs; i++) {
			if (pf_vf_address_to_be(dfd, pf, i, vf) < 0)
				break;
			if (strcmp(vf, address) != 0)
				continue;
			report(rep, pf, 0,
			       "VF %u would appear at %s once the VF count is applied; its binding "
			       "of bindings.conf is planned then, not in a dry run",
			       i, address);
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------------------------------------ */
/* 2. Bindings, one takeover per IOMMU group                                                  */

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
		g = ARRAY_GROW(*groups, *n);
		if (!g)
			return -ENOMEM;
		(*n)++;
		g->iommu_group = iommu_group;
	}
	ni = ARRAY_GROW(g->indexes, strv_length(g->addresses));
	if (!ni)
		return -ENOMEM;
	*ni = index;
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
	struct reporter rep = {0};
	struct passthru_persist *p = NULL;
	struct group *groups = NULL;
	size_t n_groups = 0;
	int first = 0, r;

	if (!ctx)
		return -EINVAL;
	if (!ops)
		ops = &none;

	/* 1. VFs first: bindings of VFs need them to exist. */
	rep = (struct reporter){.fn = ops->sriov,
				.userdata = userdata,
				.lock_timeout_ms = timeout_ms,
				.lock_wait = ops->lock_wait};
	r = sriov_apply_persisted(
	    ctx, (flags & PASSTHRU_APPLY_DRY_RUN) ? PASSTHRU_SRIOV_APPLY_DRY_RUN : 0, &rep);
	if (r < 0 && first == 0)
		first = r;

	/* 2. The bindings, one transaction per IOMMU group. */
	r = passthru_persist_load(ctx, &p);
	if (r < 0) {
		free(rep.planned);
		if (ops->bindings_unreadable)
			ops->bindings_unreadable(userdata, r);
		return first < 0 ? first : r;
	}
	for (size_t i = 0; i < passthru_persist_get_count(p); i++) {
		struct passthru_pci_device *dev = NULL;
		const char *address = passthru_persist_get_address(p, i);
		int group = -1;

		r = passthru_persist_check(p, i);
		if (r == -ENODEV && vf_to_be(ctx, &rep, address))
			continue;
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
	free(rep.planned);

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
