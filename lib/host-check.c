/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host readiness checks: each one says ok, warn or fail, what it saw, and for anything short of
 * ok the exact command or setting that fixes it. The checks follow the product chapter's steps:
 * IOMMU in the firmware, kernel parameters, vfio modules, huge pages, boot loader; then the
 * candidate devices.
 *
 * This file builds the report and runs the checks: those of the host are in
 * host-check-system.c, those of a device in host-check-device.c; host-check.h is what they
 * share.
 */
#include <fcntl.h>
#include <stdarg.h>

#include "host.h"
#include "host-check.h"
#include "pci.h"
#include "storage-claim.h"

static void host_state_done(struct host_state *s)
{
	free(s->cpu_id);
	strv_free(s->kmsg);
	strv_free(s->units);
	cmdline_free(s->proc_cmdline);
	boot_info_done(&s->boot);
	free(s->regen);
}

_public_ const char *passthru_check_status_to_string(enum passthru_check_status status)
{
	switch (status) {
	case PASSTHRU_CHECK_OK:
		return "ok";
	case PASSTHRU_CHECK_WARN:
		return "warn";
	case PASSTHRU_CHECK_FAIL:
		return "fail";
	}
	return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Building the report                                                                        */

struct check_item *check_item_add(struct passthru_check_report *rep, const char *id,
				  const char *title, const char *device)
{
	struct check_item *n = ARRAY_GROW(rep->items, rep->n_items);

	if (!n)
		return NULL;
	*n = (struct check_item){.id = id, .title = title};
	if (device) {
		n->device = strdup(device);
		if (!n->device)
			return NULL;
	}
	rep->n_items++;
	return n;
}

int check_item_set_seen(struct check_item *it, enum passthru_check_status status, const char *fmt,
			...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = free_and_strfv(&it->seen, fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	it->status = status;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */

static bool is_candidate(struct passthru_pci_device *dev)
{
	const char *drv = passthru_pci_device_get_driver(dev);
	uint32_t class;

	if (drv && strcmp(drv, "vfio-pci") == 0)
		return true;
	if (passthru_pci_device_get_class(dev, &class) < 0)
		return false;
	return (class >> 16) == 0x03 && !passthru_pci_device_is_boot_vga(dev);
}

/* ------------------------------------------------------------------------------------------ */

static int gather(struct passthru_ctx *ctx, struct host_state *s)
{
	_cleanup_free_ char *cmdline = NULL, *param = NULL;
	int r;

	s->cpu_r = host_cpu_vendor(ctx, &s->cpu, &s->cpu_id);
	if (s->cpu_r == -ENOMEM)
		return s->cpu_r;
	s->firmware = host_firmware_iommu(ctx);
	s->params_kind = host_iommu_for_params(s->firmware, s->cpu);
	s->kmsg_r = host_read_kmsg(ctx, &s->kmsg);
	if (s->kmsg_r == -ENOMEM)
		return s->kmsg_r;
	s->remapping = host_interrupt_remapping(ctx, s->kmsg);
	s->firmware_remapping = host_firmware_interrupt_remapping(ctx, s->firmware);
	if (s->firmware_remapping == -ENOMEM)
		return s->firmware_remapping;
	/* The same rule as passthru setup's: the parameter only where remapping is missing. */
	s->reqs = host_iommu_params(
	    s->params_kind, host_unsafe_interrupts_needed(s->firmware_remapping, s->remapping),
	    &s->n_reqs);
	r = host_iommu_units(ctx, &s->units);
	if (r < 0 && r != -ENOENT)
		return r;
	r = host_iommu_group_count(ctx, &s->groups);
	if (r < 0 && r != -ENOENT)
		return r;
	if (root_read_file(ctx, "/proc/cmdline", &cmdline, NULL) >= 0) {
		r = cmdline_parse(cmdline, &s->proc_cmdline);
		if (r < 0)
			return r;
	}
	/* The module's parameter once it is loaded; the command line's before. */
	if (root_read_file(ctx, "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
			   &param, NULL) >= 0)
		s->unsafe_interrupts = param[0] == 'Y' || param[0] == 'y' || param[0] == '1';
	else if (s->proc_cmdline)
		s->unsafe_interrupts =
		    param_req_satisfied(&s->proc_cmdline, 1, &host_unsafe_interrupts_param);
	s->boot_r = host_boot_info(ctx, &s->boot);
	if (s->boot_r == -ENOMEM)
		return s->boot_r;
	if (s->boot_r >= 0 && s->boot.regen_argv)
		s->regen = argv_join(s->boot.regen_argv);
	else
		s->regen = strdup("the command that regenerates grub.cfg");
	return s->regen ? 0 : -ENOMEM;
}

/* The persisted storage controllers: claimed early, no disk of theirs opened by the host. */
static int check_storage(struct passthru_check_report *rep)
{
	struct storage_finding *f = NULL;
	size_t n = 0;
	int r;

	r = storage_check(rep->ctx, &f, &n);
	if (r == -EBADMSG || r == -EACCES)
		return 0; /* bindings.conf unreadable: apply's check says so */
	for (size_t i = 0; r >= 0 && i < n; i++) {
		struct check_item *it =
		    check_item_add(rep, "storage-claim", "Persisted storage", f[i].address);

		if (!it)
			r = -ENOMEM;
		else
			r = check_item_set_seen(it, f[i].status, "%s", f[i].seen);
		if (r >= 0 && f[i].fix)
			r = free_and_strf(&it->fix, "%s", f[i].fix);
	}
	storage_findings_free(f, n);
	return r;
}

_public_ int passthru_check_report_new(struct passthru_ctx *ctx, const char *const *devices,
				       struct passthru_check_report **ret)
{
	static int (*const host_checks[])(struct passthru_check_report *, struct host_state *) = {
	    check_cpu,	check_firmware, check_kernel_iommu, check_remapping,	check_cmdline,
	    check_grub, check_boot,	check_modules,	    check_modules_boot, check_hugepages,
	};
	struct passthru_check_report *rep;
	struct passthru_pci_list *all = NULL;
	struct host_state s = {0};
	int r;

	if (!ctx || !ret)
		return -EINVAL;
	/* Validate the addresses before doing any work. */
	for (size_t i = 0; devices && devices[i]; i++) {
		char canon[PASSTHRU_PCI_ADDRESS_LEN + 1];

		r = passthru_pci_address_parse(devices[i], canon);
		if (r < 0)
			return r;
	}
	rep = calloc(1, sizeof(*rep));
	if (!rep)
		return -ENOMEM;
	rep->refcount = 1;
	rep->ctx = passthru_ctx_ref(ctx);

	r = gather(ctx, &s);
	for (size_t i = 0; r >= 0 && i < ELEMENTSOF(host_checks); i++)
		r = host_checks[i](rep, &s);
	if (r >= 0)
		r = check_storage(rep);

	/* A scan that fails (no PCI bus in a fixture) only means no candidates. */
	if (r >= 0 && passthru_pci_list_scan(ctx, &all) < 0)
		all = NULL;
	if (r >= 0 && devices && devices[0]) {
		for (size_t i = 0; r >= 0 && devices[i]; i++) {
			struct passthru_pci_device *dev = NULL;

			r = passthru_pci_device_new(ctx, devices[i], &dev);
			if (r >= 0)
				r = check_device(rep, &s, dev);
			passthru_pci_device_unref(dev);
		}
	} else if (r >= 0 && all) {
		for (size_t i = 0; r >= 0 && i < passthru_pci_list_count(all); i++) {
			struct passthru_pci_device *dev = passthru_pci_list_get(all, i);

			if (is_candidate(dev))
				r = check_device(rep, &s, dev);
		}
	}
	passthru_pci_list_unref(all);
	host_state_done(&s);
	/* An item whose text could not be allocated is as bad as any other allocation failure. */
	for (size_t i = 0; r >= 0 && i < rep->n_items; i++)
		if (!rep->items[i].seen)
			r = -ENOMEM;
	if (r < 0) {
		passthru_check_report_unref(rep);
		return r;
	}
	*ret = rep;
	return 0;
}

/* The old name. */
_public_ int passthru_check_run(struct passthru_ctx *ctx, const char *const *devices,
				struct passthru_check_report **ret)
    _alias_(passthru_check_report_new);

static void check_report_free(struct passthru_check_report *report)
{
	for (size_t i = 0; i < report->n_items; i++) {
		free(report->items[i].device);
		free(report->items[i].seen);
		free(report->items[i].fix);
		strv_free(report->items[i].details);
	}
	free(report->items);
	passthru_ctx_unref(report->ctx);
	free(report);
}

DEFINE_REF_UNREF_FUNC(_public_, struct passthru_check_report, passthru_check_report,
		      check_report_free);

_public_ size_t passthru_check_report_count(const struct passthru_check_report *report)
{
	return report ? report->n_items : 0;
}

_public_ enum passthru_check_status
passthru_check_report_get_overall(const struct passthru_check_report *report)
{
	enum passthru_check_status worst = PASSTHRU_CHECK_OK;

	for (size_t i = 0; report && i < report->n_items; i++)
		if (report->items[i].status > worst)
			worst = report->items[i].status;
	return worst;
}

static const struct check_item *item(const struct passthru_check_report *report, size_t index)
{
	return report && index < report->n_items ? &report->items[index] : NULL;
}

_public_ const char *passthru_check_report_get_id(const struct passthru_check_report *report,
						  size_t index)
{
	const struct check_item *it = item(report, index);

	return it ? it->id : NULL;
}

_public_ const char *passthru_check_report_get_title(const struct passthru_check_report *report,
						     size_t index)
{
	const struct check_item *it = item(report, index);

	return it ? it->title : NULL;
}

_public_ const char *passthru_check_report_get_device(const struct passthru_check_report *report,
						      size_t index)
{
	const struct check_item *it = item(report, index);

	return it ? it->device : NULL;
}

_public_ enum passthru_check_status
passthru_check_report_get_status(const struct passthru_check_report *report, size_t index)
{
	const struct check_item *it = item(report, index);

	return it ? it->status : (enum passthru_check_status) - EINVAL;
}

_public_ const char *passthru_check_report_get_seen(const struct passthru_check_report *report,
						    size_t index)
{
	const struct check_item *it = item(report, index);

	return it ? it->seen : NULL;
}

_public_ const char *passthru_check_report_get_fix(const struct passthru_check_report *report,
						   size_t index)
{
	const struct check_item *it = item(report, index);

	return it ? it->fix : NULL;
}

_public_ const char *const *
passthru_check_report_get_details(const struct passthru_check_report *report, size_t index)
{
	const struct check_item *it = item(report, index);

	return it && it->details ? (const char *const *)it->details : strv_empty;
}
