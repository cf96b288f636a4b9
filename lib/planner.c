/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The takeover planner: what a bind, unbind or reset would do, device by device, and what
 * refuses it. It reads the host and writes nothing.
 */
#include "takeover.h"

/* ------------------------------------------------------------------------------------------ */
/* Planning                                                                                   */

/* The helper for reads and writes that may block; NULL (direct reads) when out of memory. */
struct timed_writer *takeover_writer(struct passthru_takeover *t)
{
	if (!t->writer && timed_writer_new(t->ctx, &t->writer) < 0)
		t->writer = NULL;
	return t->writer;
}

struct item *takeover_item_find(struct passthru_takeover *t, const char *address)
{
	for (size_t i = 0; i < t->n_items; i++)
		if (strcmp(t->items[i].address, address) == 0)
			return &t->items[i];
	return NULL;
}

/* Adds the function at address (once); fills what every op needs. */
int takeover_item_add(struct passthru_takeover *t, const char *address, bool requested,
		      struct item **ret)
{
	struct item *it = takeover_item_find(t, address);
	struct passthru_pci_device *dev = NULL;
	char *driver = NULL;
	int r;

	if (it) {
		it->requested |= requested;
		if (ret)
			*ret = it;
		return 0;
	}
	r = passthru_pci_device_new(t->ctx, address, &dev);
	if (r < 0)
		return r;
	/* driver_override comes later, for every device in one round trip (plan_read_overrides). */
	r = device_driver_read(t->ctx, address, &driver);
	if (r < 0) {
		passthru_pci_device_unref(dev);
		return r;
	}
	it = ARRAY_GROW(t->items, t->n_items);
	if (!it) {
		passthru_pci_device_unref(dev);
		free(driver);
		return -ENOMEM;
	}
	t->n_items++;
	memcpy(it->address, passthru_pci_device_get_address(dev), PASSTHRU_PCI_ADDRESS_LEN + 1);
	it->dev = dev;
	it->requested = requested;
	it->non_endpoint = pci_device_non_endpoint(dev);
	it->bridge = it->non_endpoint != NULL;
	if (passthru_pci_device_get_iommu_group(dev, &it->group) < 0)
		it->group = -1;
	it->driver = driver;
	if (pci_identity(dev, it->id) < 0)
		it->id[0] = '\0';
	if (ret)
		*ret = it;
	return 0;
}

int item_note(struct passthru_takeover *t, struct item *it, const char *format, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;
	int r;

	va_start(ap, format);
	s = strfv(format, ap);
	va_end(ap);
	if (!s)
		return -ENOMEM;
	r = plan_report_note(&t->report, it->address, "%s", s);
	if (r < 0)
		return r;
	return strv_consume(&it->notes, TAKE_PTR(s));
}

/*
 * The host driver a device on vfio-pci came from: this boot's record first, then the persisted
 * wish, each only when it was made for the device that is at the address now.
 */
static int find_original(struct passthru_takeover *t, struct item *it, struct journal *held,
			 struct passthru_persist *persist)
{
	struct journal_entry *e = held ? journal_find(held, it->address) : NULL;
	int k;

	if (e && (!e->id || streq_null(e->id, it->id))) {
		if (dup_or_null(e->driver, &it->original) < 0 ||
		    dup_or_null(e->override, &it->original_override) < 0)
			return -ENOMEM;
		it->original_known = true;
		return 0;
	}
	k = persist ? passthru_persist_find(persist, it->address) : -ENOENT;
	if (k >= 0 && strcmp(passthru_persist_get_identity(persist, (size_t)k), it->id) == 0 &&
	    passthru_persist_get_host_driver(persist, (size_t)k)) {
		it->original_known = true;
		return dup_or_null(passthru_persist_get_host_driver(persist, (size_t)k),
				   &it->original);
	}
	return 0;
}

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->address, ((const struct item *)b)->address);
}

/*
 * The VF guard speaks of bind: taking the PF from its driver disables SR-IOV and removes the
 * VFs. A PF's reset leaves them listed and bound (the kernel keeps their devices), but it
 * resets each VF under whoever uses it, and may leave it unresponsive: a PF's FLR clears VF
 * Enable, and in the guest QEMU's NVMe VFs no longer answered afterwards (tests/vm/takeover/
 * test-sriov.sh). *ret stays NULL when the guard's words stand.
 */
static int reset_vf_reason(struct passthru_takeover *t, const struct passthru_guard_list *g,
			   size_t index, char **ret)
{
	_cleanup_free_ char *driver = NULL;
	const char *vf = passthru_guard_list_get_resource(g, index);
	int k;

	*ret = NULL;
	if (t->op != PASSTHRU_TAKEOVER_RESET ||
	    passthru_guard_list_get_kind(g, index) != PASSTHRU_GUARD_VFS_IN_USE || !vf)
		return 0;
	if (device_driver_read(t->ctx, vf, &driver) < 0)
		driver = NULL; /* gone since the guard looked: it was in use then */
	if (driver)
		k = asprintf(ret,
			     "VF %s is bound to %s; resetting the PF resets the VF too, under "
			     "whoever uses it, and can leave it unresponsive until the VFs are "
			     "created again",
			     vf, driver);
	else
		k = asprintf(ret,
			     "VF %s is in use; resetting the PF resets the VF too, under "
			     "whoever uses it, and can leave it unresponsive until the VFs are "
			     "created again",
			     vf);
	if (k < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int plan_guards(struct passthru_takeover *t, struct item *it)
{
	bool vfs_guarded = false;
	int r;

	r = passthru_guard_check_pci(t->ctx, it->address, &it->guards);
	if (r < 0) {
		/* Not knowing what the host uses is no licence to take it. */
		if (t->flags & PASSTHRU_TAKEOVER_FORCE)
			return item_note(t, it, "forced without guard checks (%s)", strerror(-r));
		return plan_report_refuse(&t->report, PASSTHRU_REFUSAL_GUARD, it->address,
					  "cannot check what the host uses on it: %s",
					  strerror(-r));
	}
	for (size_t g = 0; g < passthru_guard_list_count(it->guards); g++) {
		_cleanup_free_ char *own = NULL;
		const char *reason;

		r = reset_vf_reason(t, it->guards, g, &own);
		if (r < 0)
			return r;
		reason = own ?: passthru_guard_list_get_reason(it->guards, g);

		if (passthru_guard_list_get_kind(it->guards, g) == PASSTHRU_GUARD_VFS_IN_USE)
			vfs_guarded = true;
		if (t->flags & PASSTHRU_TAKEOVER_FORCE)
			r = item_note(t, it, "forced past a guard: %s",
				      reason ?: "(no reason given)");
		else
			r = plan_report_refuse(&t->report, PASSTHRU_REFUSAL_GUARD, it->address,
					       "%s", reason ?: "the host uses it");
		if (r < 0)
			return r;
	}
	if (vfs_guarded)
		return 0;
	return 1;
}

/* A PF whose VFs are on vfio-pci: taking its driver away takes the VFs from under their VMs. */
static int plan_vfs(struct passthru_takeover *t, struct item *it)
{
	_cleanup_strv_free_ char **bound = NULL;
	_cleanup_free_ char *list = NULL;
	size_t len = 0;

	STRV_FOREACH (vf, (char **)passthru_pci_device_get_vfs(it->dev)) {
		_cleanup_free_ char *driver = NULL;

		if (device_driver_read(t->ctx, *vf, &driver) < 0)
			continue;
		if (is_vfio(driver) && strv_push(&bound, *vf) < 0)
			return -ENOMEM;
	}
	if (!bound)
		return 0;
	STRV_FOREACH (b, bound)
		len += strlen(*b) + 2;
	list = calloc(1, len + 1);
	if (!list)
		return -ENOMEM;
	STRV_FOREACH (b, bound) {
		if (b != bound)
			strcat(list, ", ");
		strcat(list, *b);
	}
	if (t->flags & PASSTHRU_TAKEOVER_FORCE)
		return item_note(t, it, "forced although its VFs %s are on vfio-pci", list);
	if (t->op == PASSTHRU_TAKEOVER_RESET)
		return plan_report_refuse(
		    &t->report, PASSTHRU_REFUSAL_VFS_BOUND, it->address,
		    "its VFs %s are on vfio-pci: resetting it resets them under their "
		    "VMs, and can leave them unresponsive until they are created again",
		    list);
	return plan_report_refuse(&t->report, PASSTHRU_REFUSAL_VFS_BOUND, it->address,
				  "its VFs %s are on vfio-pci and would go with it", list);
}

/*
 * What the host uses on the device (its guards), then the VMs its VFs serve. Binding and
 * resetting hurt them alike: a reset takes the device from its driver for a moment, and a
 * PF's reset resets its VFs.
 */
static int plan_host_use(struct passthru_takeover *t, struct item *it)
{
	int r = plan_guards(t, it);

	if (r <= 0)
		return r;
	return plan_vfs(t, it);
}

static int note_reset(struct passthru_takeover *t, struct item *it)
{
	const char *const *methods = passthru_pci_device_get_reset_methods(it->dev);
	_cleanup_free_ char *list = NULL;
	size_t len = 1;

	for (size_t i = 0; methods[i]; i++) {
		if (strcmp(methods[i], "flr") == 0)
			return 0;
		len += strlen(methods[i]) + 1;
	}
	if (!methods[0])
		return item_note(
		    t, it, "no reset method at all: a VM may find it as the last one left it");
	list = calloc(1, len);
	if (!list)
		return -ENOMEM;
	for (size_t i = 0; methods[i]; i++) {
		if (i)
			strcat(list, " ");
		strcat(list, methods[i]);
	}
	return item_note(t, it, "no function-level reset (reset methods: %s)", list);
}

/*
 * The driver_override of n devices in one round trip of the helper: the kernel takes the
 * device lock to show it, and a device stuck in an earlier unbind must not hold us up.
 * ret[i] is NULL for none. On failure the error names the device.
 */
int takeover_overrides_read(struct passthru_takeover *t, const char *const *addresses, size_t n,
			    char **ret)
{
	_cleanup_free_ struct timed_step *steps = NULL;
	size_t failed = 0;
	int r = 0;

	if (n == 0)
		return 0;
	if (!takeover_writer(t))
		return -ENOMEM;
	steps = calloc(n, sizeof(*steps));
	if (!steps)
		return -ENOMEM;
	for (size_t i = 0; i < n && r >= 0; i++) {
		char *path;

		if (asprintf(&path, "/sys/bus/pci/devices/%s/driver_override", addresses[i]) < 0)
			r = -ENOMEM;
		else
			steps[i] = (struct timed_step){.op = 'r', .path = path};
	}
	if (r >= 0)
		r = timed_steps(t->writer, steps, n, t->timeout_ms, &failed);
	if (r == -ETIMEDOUT)
		plan_report_set_error(
		    &t->report,
		    "%s: cannot read its driver_override: the device is locked (an unbind "
		    "or a probe is stuck on it)",
		    addresses[failed]);
	for (size_t i = 0; i < n; i++) {
		/* Kernels before 3.16 have no driver_override: none. */
		if (r >= 0 && steps[i].err < 0 && steps[i].err != -ENOENT) {
			r = steps[i].err;
			plan_report_set_error(&t->report, "%s: cannot read its driver_override: %s",
					      addresses[i], strerror(-r));
		}
		ret[i] = r >= 0 ? device_override_value(TAKE_PTR(steps[i].result)) : NULL;
		free(steps[i].result);
		free((char *)steps[i].path);
	}
	if (r < 0)
		for (size_t i = 0; i < n; i++) {
			free(ret[i]);
			ret[i] = NULL;
		}
	return r;
}

/* The items sorted by address, then the driver_override of each (one round trip). */
static int plan_read_overrides(struct passthru_takeover *t)
{
	_cleanup_free_ const char **addresses = calloc(t->n_items + 1, sizeof(char *));
	_cleanup_free_ char **values = calloc(t->n_items + 1, sizeof(char *));
	int r;

	qsort(t->items, t->n_items, sizeof(*t->items), cmp_item);

	if (!addresses || !values)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_items; i++)
		addresses[i] = t->items[i].address;
	r = takeover_overrides_read(t, addresses, t->n_items, values);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t->n_items; i++) {
		free(t->items[i].override);
		t->items[i].override = values[i];
	}
	return 0;
}

/* A device in no IOMMU group: the IOMMU is off, or on and leaving it out (host.h). */
static int refuse_ungrouped(struct passthru_takeover *t, const char *address)
{
	_cleanup_free_ char *reason = NULL;
	int on = host_ungrouped_reason(t->ctx, &reason);

	if (on < 0)
		return on;
	return plan_report_refuse(&t->report,
				  on ? PASSTHRU_REFUSAL_NO_GROUP : PASSTHRU_REFUSAL_NO_IOMMU,
				  address, "%s", reason);
}

/*
 * The IOMMU group of the item at index, kept on it, and the group's other functions added as
 * items (one that vanished meanwhile is left out). *ret_grouped is false when it is in no group.
 */
static int add_group_members(struct passthru_takeover *t, size_t index, bool *ret_grouped)
{
	struct passthru_iommu_group *g = NULL;
	int r;

	*ret_grouped = false;
	r = passthru_iommu_group_new_for_device(t->items[index].dev, &g);
	if (r == -ENOENT || r == -ENODATA)
		return 0;
	if (r < 0)
		return r;
	/* The item owns the group; adding items below may move the items, not the group. */
	passthru_iommu_group_unref(t->items[index].iommu_group);
	t->items[index].iommu_group = g;
	*ret_grouped = true;
	for (size_t i = 0; i < passthru_iommu_group_count(g); i++) {
		r = takeover_item_add(
		    t, passthru_pci_device_get_address(passthru_iommu_group_get(g, i)), false,
		    NULL);
		if (r < 0 && !errno_is_vanished(r))
			return r;
	}
	return 0;
}

static int plan_bind(struct passthru_takeover *t)
{
	int r;

	STRV_FOREACH (a, t->requested) {
		struct item *it;
		bool grouped;

		r = takeover_item_add(t, *a, true, &it);
		if (r < 0)
			return r;
		if (it->bridge) {
			r = plan_report_refuse(&t->report, PASSTHRU_REFUSAL_BRIDGE, it->address,
					       "it is %s; vfio-pci only drives endpoints",
					       it->non_endpoint);
			if (r < 0)
				return r;
			continue;
		}
		r = add_group_members(t, (size_t)(it - t->items), &grouped);
		if (r < 0)
			return r;
		/* Without a group nothing was added, so it has not moved. */
		if (!grouped) {
			r = refuse_ungrouped(t, it->address);
			if (r < 0)
				return r;
		}
	}
	r = plan_read_overrides(t);
	if (r < 0)
		return r;

	for (size_t i = 0; i < t->n_items; i++) {
		struct item *it = &t->items[i];

		if (it->bridge && !it->requested) {
			it->action = PASSTHRU_ACTION_KEEP_BRIDGE;
		} else if (is_vfio(it->driver)) {
			it->action = PASSTHRU_ACTION_NONE;
			r = item_note(t, it, "already on vfio-pci");
			if (r < 0)
				return r;
		} else if (it->requested || (t->flags & PASSTHRU_TAKEOVER_GROUP)) {
			if (it->bridge || it->group < 0)
				continue; /* refused above */
			it->action = PASSTHRU_ACTION_BIND;
			if (dup_or_null(it->driver, &it->original) < 0 ||
			    dup_or_null(it->override, &it->original_override) < 0 ||
			    dup_or_null("vfio-pci", &it->target) < 0 ||
			    dup_or_null("vfio-pci", &it->target_override) < 0)
				return -ENOMEM;
		} else if (!it->driver || strcmp(it->driver, "pci-stub") == 0) {
			/* VFIO accepts a group with driverless (or pci-stub) members. */
			it->action = PASSTHRU_ACTION_NONE;
			r = item_note(t, it,
				      "left %s; a host driver loaded later could take it "
				      "(--group binds it too)",
				      it->driver ? "on pci-stub" : "without a driver");
			if (r < 0)
				return r;
		} else {
			it->action = PASSTHRU_ACTION_NONE;
		}
	}

	/* Siblings on host drivers, told on each requested device of their group. */
	for (size_t i = 0; i < t->n_items; i++) {
		struct item *req = &t->items[i];
		_cleanup_free_ char *list = NULL;

		if (!req->requested || !req->iommu_group || req->bridge)
			continue;
		/* The endpoints in VFIO's way, but for those the plan binds. */
		STRV_FOREACH (b, (char **)passthru_iommu_group_get_blocking(req->iommu_group)) {
			const struct item *sib = takeover_item_find(t, *b);
			char *n;

			if (!sib || sib->requested || sib->action != PASSTHRU_ACTION_NONE ||
			    !sib->driver || is_vfio(sib->driver) ||
			    strcmp(sib->driver, "pci-stub") == 0)
				continue;
			if (asprintf(&n, "%s%s%s (%s)", list ?: "", list ? ", " : "", sib->address,
				     sib->driver) < 0)
				return -ENOMEM;
			free(list);
			list = n;
		}
		if (list) {
			r = plan_report_refuse(&t->report, PASSTHRU_REFUSAL_GROUP, req->address,
					       "IOMMU group %d also holds %s, on host drivers",
					       req->group, list);
			if (r < 0)
				return r;
		}
	}

	for (size_t i = 0; i < t->n_items; i++) {
		struct item *it = &t->items[i];

		if (it->action == PASSTHRU_ACTION_BIND) {
			r = plan_host_use(t, it);
			if (r < 0)
				return r;
			r = note_reset(t, it);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int plan_in_use(struct passthru_takeover *t, enum passthru_takeover_action action)
{
	struct vfio_opener *openers = NULL;
	size_t n_openers = 0;
	bool scanned = false;
	int r = 0;

	for (size_t i = 0; i < t->n_items && r >= 0; i++) {
		struct item *it = &t->items[i];
		_cleanup_strv_free_ char **users = NULL;

		if (it->action != action || it->group < 0)
			continue;
		if (!scanned) {
			r = vfio_openers_scan(t->ctx, &openers, &n_openers);
			if (r < 0) {
				log_debug(t->ctx, "cannot look for users of VFIO groups: %s",
					  strerror(-r));
				return 0;
			}
			scanned = true;
		}
		r = vfio_openers_match(t->ctx, openers, n_openers, it->group, it->address, &users);
		STRV_FOREACH (u, users) {
			/*
			 * Forced, the unbind asks the VM to let go (vfio-pci relays the request to
			 * its QEMU, which unplugs the device if the guest agrees) and waits for it,
			 * up to the timeout.
			 */
			if (t->flags & PASSTHRU_TAKEOVER_FORCE)
				r = item_note(t, it, "forced although %s", *u);
			else
				r = plan_report_refuse(&t->report, PASSTHRU_REFUSAL_IN_USE,
						       it->address, "%s", *u);
			if (r < 0)
				break;
		}
	}
	vfio_openers_free(openers, n_openers);
	return r < 0 ? r : 0;
}

static int plan_unbind(struct passthru_takeover *t)
{
	_cleanup_journal_ struct journal *held = NULL;
	struct passthru_persist *persist = NULL;
	int r;

	STRV_FOREACH (a, t->requested) {
		struct item *it;

		bool grouped;

		r = takeover_item_add(t, *a, true, &it);
		if (r < 0)
			return r;
		if (!(t->flags & PASSTHRU_TAKEOVER_GROUP))
			continue;
		r = add_group_members(t, (size_t)(it - t->items), &grouped);
		if (r < 0)
			return r;
	}
	r = plan_read_overrides(t);
	if (r < 0)
		return r;

	r = journal_load(t->ctx, HELD_PATH, JOURNAL_KIND_HELD, &held);
	if (r < 0 && r != -ENOENT)
		log_debug(t->ctx, "ignoring unreadable %s: %s", HELD_PATH, strerror(-r));
	if (passthru_persist_load(t->ctx, &persist) < 0)
		persist = NULL;

	for (size_t i = 0; i < t->n_items && r != -ENOMEM; i++) {
		struct item *it = &t->items[i];

		r = 0;
		if (it->bridge && !it->requested) {
			it->action = PASSTHRU_ACTION_KEEP_BRIDGE;
		} else if (!is_vfio(it->driver)) {
			it->action = PASSTHRU_ACTION_NONE;
			if (it->driver)
				r = item_note(t, it, "not on vfio-pci (driver %s)", it->driver);
			else
				r = item_note(t, it, "not on vfio-pci (no driver)");
		} else {
			it->action = PASSTHRU_ACTION_UNBIND;
			r = find_original(t, it, held, persist);
			if (r >= 0)
				r = dup_or_null(it->original, &it->target);
			if (r >= 0)
				r = dup_or_null(it->original_override, &it->target_override);
			/*
			 * An original override of vfio-pci would put the device straight back:
			 * giving it back means clearing it.
			 */
			if (r >= 0 && is_vfio(it->target_override)) {
				free(it->target_override);
				it->target_override = NULL;
			}
			it->target_any = !it->original_known;
			if (r >= 0 && is_vfio(it->target)) {
				free(it->target);
				it->target = NULL;
				it->target_any = true;
			}
			if (r >= 0 && passthru_pci_device_get_vfs(it->dev)[0])
				r = plan_vfs(t, it);
		}
	}
	passthru_persist_unref(persist);
	if (r < 0)
		return r;
	return plan_in_use(t, PASSTHRU_ACTION_UNBIND);
}

static int plan_reset(struct passthru_takeover *t)
{
	int r;

	STRV_FOREACH (a, t->requested) {
		const char *const *methods;
		struct item *it;
		bool offered = false;

		r = takeover_item_add(t, *a, true, &it);
		if (r < 0)
			return r;
		it->action = PASSTHRU_ACTION_RESET;
		methods = passthru_pci_device_get_reset_methods(it->dev);
		for (size_t m = 0; methods[m]; m++)
			if (t->reset_method && strcmp(methods[m], t->reset_method) == 0)
				offered = true;
		if (!methods[0])
			r = plan_report_refuse(&t->report, PASSTHRU_REFUSAL_NO_RESET, it->address,
					       "the kernel offers no reset method for it");
		else if (t->reset_method && !offered)
			r = plan_report_refuse(&t->report, PASSTHRU_REFUSAL_NO_RESET, it->address,
					       "the kernel offers no reset method '%s' for it",
					       t->reset_method);
		if (r < 0)
			return r;
		r = plan_host_use(t, it);
		if (r < 0)
			return r;
	}
	qsort(t->items, t->n_items, sizeof(*t->items), cmp_item);
	return plan_in_use(t, PASSTHRU_ACTION_RESET);
}

_public_ int passthru_takeover_plan(struct passthru_takeover *t)
{
	int r = 0;

	if (!t)
		return -EINVAL;
	takeover_plan_clear(t);
	switch (t->op) {
	case PASSTHRU_TAKEOVER_BIND:
		r = plan_bind(t);
		break;
	case PASSTHRU_TAKEOVER_UNBIND:
		r = plan_unbind(t);
		break;
	case PASSTHRU_TAKEOVER_RESET:
		r = plan_reset(t);
		break;
	case PASSTHRU_TAKEOVER_REPAIR:
		break;
	}
	if (r < 0) {
		takeover_plan_clear(t);
		return r;
	}
	t->planned = true;
	return t->report.n_refusals > 0 ? -EPERM : 0;
}
