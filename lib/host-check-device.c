/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The checks of one candidate device: its IOMMU group, the ACS above it, its reset, its driver,
 * and what the kernel log says about it.
 */
#include <fcntl.h>
#include <stdarg.h>

#include "host.h"
#include "host-check.h"
#include "pci.h"

/* Device checks                                                                              */

static int guard_summary(struct passthru_ctx *ctx, const char *address, char **ret)
{
	struct passthru_guard_list *g = NULL;
	int r = passthru_guard_list_check_pci(ctx, address, &g);

	*ret = NULL;
	/* Not knowing what the host uses is no "nothing": bind refuses it too. */
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		char *s;

		if (asprintf(&s, "cannot check what the host uses on it: %s", strerror(-r)) < 0)
			return -ENOMEM;
		*ret = s;
		return 0;
	}
	if (passthru_guard_list_count(g) > 0) {
		*ret = strdup(passthru_guard_list_get_reason(g, 0));
		r = *ret ? 0 : -ENOMEM;
	}
	passthru_guard_list_unref(g);
	return r;
}

/* g is dev's group; NULL when it has none, or it went away while it was read. */
static int check_device_group(struct passthru_check_report *rep, struct passthru_iommu_group *g,
			      struct passthru_pci_device *dev)
{
	const char *addr = passthru_pci_device_get_address(dev);
	struct check_item *it = check_item_add(rep, "device-group", "IOMMU group", addr);
	bool foreign = false, host_uses = false;
	_cleanup_free_ char *own = NULL;
	const char *what;
	int group, r;

	if (!it)
		return -ENOMEM;
	/* bind refuses it whatever its group: the same rule (pci_device_non_endpoint()). */
	what = pci_device_non_endpoint(dev);
	if (what) {
		r = check_item_set_seen(it, PASSTHRU_CHECK_FAIL,
					"it is %s; vfio-pci only drives endpoints", what);
		return r < 0 ? r
			     : free_and_strf(&it->fix,
					     "name the endpoints behind it instead ('passthru list "
					     "pci')");
	}
	r = passthru_pci_device_get_iommu_group(dev, &group);
	if (r < 0) {
		_cleanup_free_ char *reason = NULL;
		int on = host_ungrouped_reason(rep->ctx, &reason);

		if (on < 0)
			return on;
		r = check_item_set_seen(it, PASSTHRU_CHECK_FAIL, "%s", reason);
		if (r < 0)
			return r;
		if (on)
			return free_and_strf(&it->fix,
					     "the kernel may have said why the IOMMU left it out: "
					     "dmesg | grep %s",
					     addr);
		return free_and_strf(&it->fix, "enable the IOMMU first (see the firmware-iommu and "
					       "kernel-iommu checks)");
	}
	r = guard_summary(rep->ctx, addr, &own);
	if (r < 0)
		return r;
	for (size_t i = 0; i < passthru_iommu_group_count(g); i++) {
		const char *member =
		    passthru_pci_device_get_address(passthru_iommu_group_get(g, i));
		const char *drv = passthru_iommu_group_get_driver(g, i);
		_cleanup_free_ char *used = NULL;

		if (strcmp(member, addr) == 0)
			continue;
		if (!passthru_iommu_group_is_endpoint(g, i)) {
			r = strv_pushf(&it->details, "%s: bridge, stays with the host", member);
			if (r < 0)
				return r;
			continue;
		}
		r = guard_summary(rep->ctx, member, &used);
		if (r < 0)
			return r;
		if (used)
			host_uses = true;
		if (!pci_address_same_slot(member, addr))
			foreign = true;
		r = strv_pushf(&it->details, "%s (%s): goes to vfio-pci with it%s%s", member,
			       drv ? drv : "no driver", used ? "; the host uses it: " : "",
			       used ? used : "");
		if (r < 0)
			return r;
	}
	if (own) {
		r = check_item_set_seen(it, PASSTHRU_CHECK_FAIL,
					"group %d; the host uses the device itself: %s", group,
					own);
		return r < 0 ? r : free_and_strf(&it->fix, "stop using it on the host first");
	}
	if (host_uses) {
		r = check_item_set_seen(
		    it, PASSTHRU_CHECK_FAIL,
		    "group %d is not viable: another endpoint in it is used by the host", group);
		return r < 0
			   ? r
			   : free_and_strf(&it->fix,
					   "move the device to a slot with its own IOMMU group (a "
					   "root port or switch with ACS)");
	}
	if (foreign)
		return check_item_set_seen(
		    it, PASSTHRU_CHECK_WARN,
		    "group %d is shared with other devices: they all go to vfio-pci "
		    "together",
		    group);
	return check_item_set_seen(it, PASSTHRU_CHECK_OK, "group %d, viable", group);
}

static int check_device_acs(struct passthru_check_report *rep, struct passthru_pci_device *dev,
			    bool group_alone)
{
	const char *addr = passthru_pci_device_get_address(dev);
	struct check_item *it = check_item_add(rep, "device-acs", "ACS upstream", addr);
	_cleanup_strv_free_ char **bridges = NULL;
	bool lacking = false, unknown = false;
	int r;

	if (!it)
		return -ENOMEM;
	r = pci_upstream_bridges(rep->ctx, addr, &bridges);
	if (r < 0 && r != -ENOENT && r != -EINVAL)
		return r;
	if (!bridges)
		return check_item_set_seen(it, PASSTHRU_CHECK_OK,
					   "on a root bus: no PCIe switch or root port above it");
	STRV_FOREACH (b, bridges) {
		uint16_t cap = 0, ctrl = 0;

		r = pci_function_acs(rep->ctx, *b, &cap, &ctrl);
		if (r == -ENOMEM)
			return r;
		if (r == -ENOENT) {
			lacking = true;
			r = strv_pushf(&it->details, "%s: no ACS capability", *b);
		} else if (r < 0) {
			unknown = true;
			r = strv_pushf(&it->details, "%s: extended config space not readable%s", *b,
				       geteuid() != 0 ? " (run as root)" : "");
		} else {
			if (!pci_acs_isolates(cap, ctrl))
				lacking = true;
			r = strv_pushf(&it->details, "%s: ACS%s%s%s%s enabled", *b,
				       ctrl & PASSTHRU_ACS_SV ? " SV" : "",
				       ctrl & PASSTHRU_ACS_RR ? " RR" : "",
				       ctrl & PASSTHRU_ACS_CR ? " CR" : "",
				       ctrl & PASSTHRU_ACS_UF ? " UF" : "");
		}
		if (r < 0)
			return r;
	}
	if (!lacking && !unknown)
		return check_item_set_seen(it, PASSTHRU_CHECK_OK,
					   "every bridge above it isolates it (ACS)");
	/* The IOMMU group is the kernel's verdict on ACS: alone in it, the device is isolated. */
	if (group_alone)
		return check_item_set_seen(it, PASSTHRU_CHECK_OK,
					   "%s, but the device has its IOMMU group to "
					   "itself",
					   lacking ? "a bridge above it lacks ACS"
						   : "ACS not readable");
	if (unknown && !lacking)
		return check_item_set_seen(it, PASSTHRU_CHECK_WARN,
					   "cannot read ACS of the bridges above it");
	r = check_item_set_seen(
	    it, PASSTHRU_CHECK_WARN,
	    "a bridge above it lacks ACS: devices below it share an IOMMU group");
	return r < 0 ? r
		     : free_and_strf(&it->fix,
				     "use a slot below a root port or switch that supports ACS");
}

static int check_device_reset(struct passthru_check_report *rep, struct passthru_pci_device *dev)
{
	static const char *const good[] = {"flr",  "af_flr", "bus", "device_specific",
					   "acpi", "cxl_bus"};
	const char *addr = passthru_pci_device_get_address(dev);
	struct check_item *it = check_item_add(rep, "device-reset", "Reset", addr);
	const char *const *methods = passthru_pci_device_get_reset_methods(dev);
	_cleanup_free_ char *path = NULL, *list = NULL;
	bool usable = false;
	int r;

	if (!it)
		return -ENOMEM;
	for (size_t i = 0; methods && methods[i]; i++)
		for (size_t k = 0; k < ELEMENTSOF(good); k++)
			if (strcmp(methods[i], good[k]) == 0)
				usable = true;
	if (methods && methods[0]) {
		list = argv_join((char *const *)methods);
		if (!list)
			return -ENOMEM;
		if (usable)
			return check_item_set_seen(it, PASSTHRU_CHECK_OK, "%s", list);
		r = check_item_set_seen(it, PASSTHRU_CHECK_WARN,
					"only %s: the device may keep state between guests", list);
		return r < 0
			   ? r
			   : free_and_strf(&it->fix, "none in software: prefer a device with FLR");
	}
	/* Kernels before 5.15 have a reset file but do not say how. */
	if (asprintf(&path, "/sys/bus/pci/devices/%s/reset", addr) < 0)
		return -ENOMEM;
	if (root_exists(rep->ctx, path))
		return check_item_set_seen(
		    it, PASSTHRU_CHECK_OK,
		    "the kernel can reset it (this kernel does not say how)");
	r = check_item_set_seen(it, PASSTHRU_CHECK_WARN,
				"no reset method: the device cannot be reset between guests");
	return r < 0 ? r
		     : free_and_strf(&it->fix,
				     "none in software: reboot the host between guests, or use a "
				     "device with FLR");
}

static int check_device_driver(struct passthru_check_report *rep, struct passthru_pci_device *dev)
{
	const char *addr = passthru_pci_device_get_address(dev);
	struct check_item *it = check_item_add(rep, "device-driver", "Host driver", addr);
	const char *drv = passthru_pci_device_get_driver(dev);
	const char *const *mods = passthru_pci_device_get_modules(dev);
	_cleanup_strv_free_ char **fighters = NULL;
	_cleanup_free_ char *flags = NULL, *names = NULL;
	int r;

	if (!it)
		return -ENOMEM;
	/* Display drivers loaded on the host that can drive it: they grab it at boot or rebind. */
	if (drv && driver_is_display(drv) && (r = strv_push(&fighters, drv)) < 0)
		return r;
	for (size_t i = 0; mods && mods[i]; i++) {
		enum module_state st = host_module_state(rep->ctx, mods[i]);

		if (!driver_is_display(mods[i]) || strv_contains(fighters, mods[i]))
			continue;
		if (st != MODULE_LOADED && st != MODULE_BUILTIN)
			continue;
		r = strv_push(&fighters, mods[i]);
		if (r < 0)
			return r;
	}
	STRV_FOREACH (f, fighters)
		if (strextendf(&flags, " --blacklist %s", *f) < 0)
			return -ENOMEM;
	names = fighters ? argv_join(fighters) : NULL;
	if (drv && driver_is_display(drv)) {
		r = check_item_set_seen(it, PASSTHRU_CHECK_FAIL,
					"bound to %s, which will fight vfio-pci", drv);
		return r < 0 ? r
			     : free_and_strf(&it->fix,
					     "blacklist %s: passthru setup --apply%s, then reboot",
					     names, flags);
	}
	if (fighters) {
		r = check_item_set_seen(it, PASSTHRU_CHECK_WARN,
					"%s; %s loaded and can take it back",
					drv ? drv : "no driver", names);
		return r < 0 ? r
			     : free_and_strf(&it->fix,
					     "blacklist %s: passthru setup --apply%s, then reboot",
					     names, flags);
	}
	if (!drv)
		return check_item_set_seen(it, PASSTHRU_CHECK_OK, "no driver bound");
	if (strcmp(drv, "vfio-pci") == 0)
		return check_item_set_seen(it, PASSTHRU_CHECK_OK, "bound to vfio-pci");
	return check_item_set_seen(it, PASSTHRU_CHECK_OK,
				   "bound to %s; taking it over moves it to vfio-pci", drv);
}

static int check_device_log(struct passthru_check_report *rep, struct host_state *s,
			    struct passthru_pci_device *dev)
{
	const char *addr = passthru_pci_device_get_address(dev);
	struct check_item *it = check_item_add(rep, "device-log", "Kernel log", addr);
	const char *bdf = addr + 5; /* "01:00.0": how DMAR fault reports name a device */
	_cleanup_free_ char *dmar = NULL, *amd = NULL, *amd_short = NULL;
	size_t rmrr = 0, faults = 0;
	int r;

	if (!it)
		return -ENOMEM;
	if (s->kmsg_r < 0) {
		r = check_item_set_seen(it, PASSTHRU_CHECK_WARN, "kernel log not readable: %s",
					strerror(-s->kmsg_r));
		if (r < 0 || (s->kmsg_r != -EACCES && s->kmsg_r != -EPERM))
			return r;
		return free_and_strf(&it->fix,
				     "run passthru check as root (or set kernel.dmesg_restrict=0)");
	}
	if (asprintf(&dmar, "[%s]", bdf) < 0 || asprintf(&amd, "device=%s", addr) < 0 ||
	    asprintf(&amd_short, "device=%s ", bdf) < 0)
		return -ENOMEM;
	STRV_FOREACH (m, s->kmsg) {
		bool mine = strstr(*m, addr) ||
			    (strncmp(addr, "0000:", 5) == 0 &&
			     (strstr(*m, dmar) || strstr(*m, amd_short))) ||
			    strstr(*m, amd);

		if (!mine)
			continue;
		if (strstr(*m, "ineligible for IOMMU domain attach")) {
			rmrr++;
		} else if (strstr(*m, "DMAR: [DMA") || strstr(*m, "DMAR: [INTR-REMAP") ||
			   strstr(*m, "IO_PAGE_FAULT") || strstr(*m, "PAGE_FAULT")) {
			faults++;
		} else {
			continue;
		}
		r = strv_pushf(&it->details, "kernel: %s", *m);
		if (r < 0)
			return r;
	}
	if (rmrr > 0) {
		r = check_item_set_seen(
		    it, PASSTHRU_CHECK_FAIL,
		    "the kernel refuses to attach it to an IOMMU domain: the firmware "
		    "reserves memory for it (RMRR)");
		return r < 0
			   ? r
			   : free_and_strf(&it->fix,
					   "update the firmware, move the card to another slot, or "
					   "pass through another device");
	}
	if (faults > 0) {
		r = check_item_set_seen(it, PASSTHRU_CHECK_WARN, "%zu IOMMU fault(s) logged for it",
					faults);
		return r < 0 ? r
			     : free_and_strf(
				   &it->fix,
				   "look at the guest driver and the device firmware; faults "
				   "at boot before vfio-pci took it are harmless");
	}
	return check_item_set_seen(it, PASSTHRU_CHECK_OK, "no complaints about it");
}

int check_device(struct passthru_check_report *rep, struct host_state *s,
		 struct passthru_pci_device *dev)
{
	const char *addr = passthru_pci_device_get_address(dev);
	struct passthru_iommu_group *g = NULL;
	bool alone = true;
	int r;

	/* No group, or one that went away while it was read: checked as one without members. */
	r = passthru_iommu_group_new_for_device(dev, &g);
	if (r == -ENOMEM)
		return r;
	for (size_t i = 0; i < passthru_iommu_group_count(g); i++)
		if (passthru_iommu_group_is_endpoint(g, i) &&
		    !pci_address_same_slot(
			passthru_pci_device_get_address(passthru_iommu_group_get(g, i)), addr))
			alone = false;
	r = check_device_group(rep, g, dev);
	passthru_iommu_group_unref(g);
	if (r >= 0)
		r = check_device_acs(rep, dev, alone);
	if (r >= 0)
		r = check_device_reset(rep, dev);
	if (r >= 0)
		r = check_device_driver(rep, dev);
	if (r >= 0)
		r = check_device_log(rep, s, dev);
	return r;
}

/* Functions bound to vfio-pci, and display controllers that do not drive the host's console. */
