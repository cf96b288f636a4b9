/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host readiness checks: each one says ok, warn or fail, what it saw, and for anything short of
 * ok the exact command or setting that fixes it. The checks follow the product chapter's steps:
 * IOMMU in the firmware, kernel parameters, vfio modules, huge pages, boot loader; then the
 * candidate devices.
 */
#include <fcntl.h>
#include <stdarg.h>

#include "grub.h"
#include "host.h"
#include "pci.h"

struct check_item {
	const char *id;	   /* static */
	const char *title; /* static */
	char *device;
	enum passthru_check_status status;
	char *seen;
	char *fix;
	char **details;
};

struct passthru_check_report {
	unsigned refcount;
	struct passthru_ctx *ctx;
	struct check_item *items;
	size_t n_items;
};

/* Everything the host checks look at, gathered once. */
struct host_state {
	enum cpu_vendor cpu;
	char *cpu_id;
	int cpu_r;
	enum iommu_kind firmware;
	enum iommu_kind params_kind;
	const struct param_req *reqs;
	size_t n_reqs;
	char **kmsg;
	int kmsg_r;
	char **units;
	unsigned groups;
	struct cmdline *proc_cmdline;
	bool remapping;		/* the running kernel remaps interrupts */
	int firmware_remapping; /* host_firmware_interrupt_remapping() */
	bool unsafe_interrupts;
	struct boot_info boot;
	int boot_r;
	char *regen; /* the regeneration command as text, or a placeholder */
};

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

/* The item being filled; NULL on allocation failure (the report records it). */
static struct check_item *add_item(struct passthru_check_report *rep, const char *id,
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

static int set_seen(struct check_item *it, enum passthru_check_status status, const char *fmt, ...)
    _printf_(3, 4);
static int set_seen(struct check_item *it, enum passthru_check_status status, const char *fmt, ...)
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
/* Host checks                                                                                */

static const char *bios_fix(enum cpu_vendor cpu)
{
	switch (cpu) {
	case CPU_VENDOR_INTEL:
		return "enable VT-d (Intel Virtualization Technology for Directed I/O) in the "
		       "BIOS/UEFI setup";
	case CPU_VENDOR_AMD:
		return "enable AMD-Vi (the IOMMU option, next to SVM) in the BIOS/UEFI setup";
	default:
		return "enable the IOMMU (Intel VT-d or AMD-Vi) in the BIOS/UEFI setup";
	}
}

/* The kernel log lines that contain any of the needles, at most max of them. */
static int add_log_lines(struct check_item *it, char *const *kmsg, const char *const *needles,
			 size_t max)
{
	size_t n = 0;

	for (size_t i = 0; kmsg && kmsg[i] && n < max; i++)
		for (size_t k = 0; needles[k]; k++)
			if (strstr(kmsg[i], needles[k])) {
				int r = strv_pushf(&it->details, "kernel: %s", kmsg[i]);

				if (r < 0)
					return r;
				n++;
				break;
			}
	return 0;
}

static int check_cpu(struct passthru_check_report *rep, struct host_state *s)
{
	struct check_item *it = add_item(rep, "cpu-vendor", "CPU vendor", NULL);

	if (!it)
		return -ENOMEM;
	if (s->cpu_r < 0)
		return set_seen(it, PASSTHRU_CHECK_WARN,
				"cannot read the vendor from /proc/cpuinfo: %s",
				strerror(-s->cpu_r));
	if (s->cpu == CPU_VENDOR_OTHER)
		return set_seen(it, PASSTHRU_CHECK_WARN,
				"%s: passthru knows the IOMMU parameters of Intel and AMD only",
				s->cpu_id);
	/* Virtual machines mix them freely (QEMU's -cpu max is AMD-flavoured under TCG). */
	if ((s->firmware == IOMMU_KIND_INTEL && s->cpu == CPU_VENDOR_AMD) ||
	    (s->firmware == IOMMU_KIND_AMD && s->cpu == CPU_VENDOR_INTEL))
		return set_seen(it, PASSTHRU_CHECK_WARN,
				"%s (%s), but the firmware describes an %s IOMMU: the IOMMU's "
				"parameters are the ones that apply",
				cpu_vendor_name(s->cpu), s->cpu_id, iommu_kind_name(s->firmware));
	return set_seen(it, PASSTHRU_CHECK_OK, "%s (%s)", cpu_vendor_name(s->cpu), s->cpu_id);
}

static int check_firmware(struct passthru_check_report *rep, struct host_state *s)
{
	static const char *const intel_log[] = {"DMAR:", "DMAR-IR:", NULL};
	static const char *const amd_log[] = {"AMD-Vi:", NULL};
	struct check_item *it = add_item(rep, "firmware-iommu", "Firmware IOMMU", NULL);
	int r;

	if (!it)
		return -ENOMEM;
	switch (s->firmware) {
	case IOMMU_KIND_INTEL:
		r = set_seen(it, PASSTHRU_CHECK_OK, "ACPI DMAR table present (Intel VT-d)");
		if (r >= 0)
			r = add_log_lines(it, s->kmsg, intel_log, 5);
		break;
	case IOMMU_KIND_AMD:
		r = set_seen(it, PASSTHRU_CHECK_OK, "ACPI IVRS table present (AMD-Vi)");
		if (r >= 0)
			r = add_log_lines(it, s->kmsg, amd_log, 5);
		break;
	default:
		r = set_seen(it, PASSTHRU_CHECK_FAIL,
			     "no DMAR or IVRS table in /sys/firmware/acpi/tables: the IOMMU is off "
			     "in the firmware");
		if (r >= 0)
			r = free_and_strf(&it->fix, "%s", bios_fix(s->cpu));
		break;
	}
	if (r >= 0 && s->kmsg_r < 0)
		r = strv_pushf(&it->details, "kernel log not readable (%s): no further evidence",
			       strerror(-s->kmsg_r));
	return r;
}

/*
 * What p (NULL: an empty line) does wrong, space-separated, as written in a fix: with bad false
 * the parameters to add ("intel_iommu=on iommu=pt"), with bad true the values it holds that must
 * go ("intel_iommu=off", "amd_iommu=off"). *ret is NULL when there are none.
 */
static int unmet(struct cmdline *p, const struct param_req *reqs, size_t n, bool skip_unsafe,
		 bool bad, char **ret)
{
	_cleanup_free_ char *out = NULL;

	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *one = NULL;

		if (skip_unsafe &&
		    cmdline_key_equal(reqs[i].key, "vfio_iommu_type1.allow_unsafe_interrupts"))
			continue;
		if (bad) {
			/* Every occurrence that is wrong: a conflicting value, a forbidden one. */
			for (long k = p ? cmdline_find(p, reqs[i].key, 0) : -1; k >= 0;
			     k = cmdline_find(p, reqs[i].key, (size_t)k + 1)) {
				const struct cmdline_token *t = &p->tokens[k];
				bool wrong = reqs[i].kind == PARAM_REQ_NOT
						 ? cmdline_list_contains(t->value, reqs[i].value)
						 : reqs[i].kind == PARAM_REQ_SET &&
						       !param_value_acceptable(
							   reqs[i].key, t->value, reqs[i].value);

				if (wrong && append_word(&out, t->text) < 0)
					return -ENOMEM;
			}
			continue;
		}
		if (reqs[i].kind == PARAM_REQ_NOT || (p && param_req_satisfied(&p, 1, &reqs[i])))
			continue;
		if (param_req_format(&reqs[i], &one) < 0 || append_word(&out, one) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(out);
	return 0;
}

/* 'add "X" to GRUB_CMDLINE_LINUX', 'remove "Y" from', or both, for a fix. */
static char *grub_edit_text(const char *add, const char *remove)
{
	char *s;

	if (asprintf(&s, "%s%s%s%s%s%s%s", add ? "add \"" : "", add ? add : "",
		     add ? "\" to GRUB_CMDLINE_LINUX" : "", add && remove ? " and " : "",
		     remove ? "remove \"" : "", remove ? remove : "",
		     remove ? "\" from the kernel command line" : "") < 0)
		return NULL;
	return s;
}

static int check_kernel_iommu(struct passthru_check_report *rep, struct host_state *s)
{
	struct check_item *it = add_item(rep, "kernel-iommu", "Kernel IOMMU", NULL);
	_cleanup_free_ char *units = NULL, *missing = NULL, *bad = NULL;

	if (!it)
		return -ENOMEM;
	units = s->units ? argv_join(s->units) : strdup("");
	if (!units)
		return -ENOMEM;
	if (s->units && s->groups > 0)
		return set_seen(it, PASSTHRU_CHECK_OK, "active: %s, %u IOMMU groups", units,
				s->groups);
	if (s->firmware == IOMMU_KIND_NONE) {
		int r = set_seen(it, PASSTHRU_CHECK_FAIL,
				 "no IOMMU active (/sys/class/iommu is empty, no IOMMU groups)");
		return r < 0 ? r : free_and_strf(&it->fix, "%s", bios_fix(s->cpu));
	}
	if (s->units)
		return set_seen(it, PASSTHRU_CHECK_FAIL, "%s present but no IOMMU groups", units);

	/* The firmware has one and the kernel did not turn it on: the command line's business. */
	if (unmet(s->proc_cmdline, s->reqs, s->n_reqs, true, false, &missing) < 0 ||
	    unmet(s->proc_cmdline, s->reqs, s->n_reqs, true, true, &bad) < 0)
		return -ENOMEM;
	if (set_seen(it, PASSTHRU_CHECK_FAIL,
		     "the firmware describes %s, but the kernel did not enable it",
		     iommu_kind_name(s->firmware)) < 0)
		return -ENOMEM;
	if (missing || bad) {
		_cleanup_free_ char *edit = grub_edit_text(missing, bad);

		return edit ? free_and_strf(&it->fix,
					    "%s in " HOST_GRUB_DEFAULT
					    " (passthru setup --apply does it), run %s, reboot",
					    edit, s->regen)
			    : -ENOMEM;
	}
	return free_and_strf(&it->fix,
			     "the kernel command line has the parameters: look for %s errors in "
			     "the kernel log (dmesg)",
			     s->firmware == IOMMU_KIND_INTEL ? "DMAR" : "AMD-Vi");
}

/* "DMAR", "IVRS": the table that tells whether the platform can remap interrupts. */
static const char *remapping_table(enum iommu_kind k)
{
	return k == IOMMU_KIND_AMD ? "IVRS" : "DMAR";
}

static int check_remapping(struct passthru_check_report *rep, struct host_state *s)
{
	struct check_item *it = add_item(rep, "interrupt-remapping", "Interrupt remapping", NULL);
	int r;

	if (!it)
		return -ENOMEM;
	if (!s->units || s->groups == 0) {
		r = set_seen(it, PASSTHRU_CHECK_WARN,
			     "cannot tell: interrupt remapping needs an active IOMMU");
		/* What the firmware promises for when it is on. */
		if (r >= 0 && s->firmware_remapping >= 0)
			r = strv_pushf(&it->details,
				       "the firmware's %s table says the platform %s it",
				       remapping_table(s->firmware),
				       s->firmware_remapping ? "supports" : "does not support");
		return r;
	}
	if (s->remapping && s->unsafe_interrupts) {
		r = set_seen(it, PASSTHRU_CHECK_WARN,
			     "enabled, yet vfio_iommu_type1.allow_unsafe_interrupts=1 is set: it "
			     "weakens isolation and this host does not need it");
		return r < 0 ? r
			     : free_and_strf(&it->fix,
					     "remove vfio_iommu_type1.allow_unsafe_interrupts=1 "
					     "from GRUB_CMDLINE_LINUX in " HOST_GRUB_DEFAULT
					     " unless you rely on it, run %s, reboot",
					     s->regen);
	}
	if (s->remapping)
		return set_seen(it, PASSTHRU_CHECK_OK, "enabled");
	if (s->firmware_remapping > 0) {
		/* The platform can: the kernel was told not to (intremap=off) or gave up. */
		r = set_seen(it, s->unsafe_interrupts ? PASSTHRU_CHECK_WARN : PASSTHRU_CHECK_FAIL,
			     "not enabled, although the firmware's %s table says the platform "
			     "supports it%s",
			     remapping_table(s->firmware),
			     s->unsafe_interrupts
				 ? "; vfio_iommu_type1.allow_unsafe_interrupts=1 lets vfio assign "
				   "devices meanwhile, with weaker isolation"
				 : ": vfio refuses to assign devices");
		return r < 0 ? r
			     : free_and_strf(
				   &it->fix,
				   "remove intremap=off from the kernel command line if it is "
				   "there, else look for %s errors in the kernel log (dmesg)",
				   s->firmware == IOMMU_KIND_AMD ? "AMD-Vi" : "DMAR-IR");
	}
	if (s->unsafe_interrupts) {
		r = set_seen(it, PASSTHRU_CHECK_WARN,
			     "not available; vfio_iommu_type1.allow_unsafe_interrupts=1 lets vfio "
			     "assign devices anyway, with weaker isolation from the guest");
		return r < 0 ? r
			     : free_and_strf(
				   &it->fix,
				   "enable interrupt remapping (x2APIC) in the BIOS/UEFI setup "
				   "for full isolation");
	}
	r = set_seen(it, PASSTHRU_CHECK_FAIL,
		     "not available and vfio_iommu_type1.allow_unsafe_interrupts is not set: vfio "
		     "refuses to assign devices");
	return r < 0 ? r
		     : free_and_strf(
			   &it->fix,
			   "passthru setup --apply (adds vfio_iommu_type1.allow_unsafe_"
			   "interrupts=1), then reboot; until then: echo 1 > "
			   "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts");
}

/* Reads /etc/default/grub; 1 when it meets every requirement, 0 when not, <0 when unreadable or
 * unsafe (*ret_error then says why). */
static int grub_default_state(struct passthru_ctx *ctx, const struct param_req *reqs, size_t n,
			      char **ret_error)
{
	_cleanup_free_ char *text = NULL;
	struct grub_error err = {0};
	size_t len;
	int r, k;

	r = root_read_file(ctx, HOST_GRUB_DEFAULT, &text, &len);
	if (r < 0) {
		if (asprintf(ret_error, HOST_GRUB_DEFAULT ": %s", strerror(-r)) < 0)
			return -ENOMEM;
		return r;
	}
	r = grub_default_check(text, len, reqs, n, NULL, &err);
	if (r == -EBADMSG) {
		k = grub_error_format(&err, HOST_GRUB_DEFAULT, ret_error);
		return k < 0 ? k : r;
	}
	if (r < 0)
		return r;
	/* A grub.d snippet can undo the file either way. */
	k = host_grub_snippets_check(ctx, reqs, n, ret_error);
	return k < 0 ? k : r;
}

/* How many of the boot entries (grub.cfg linux lines, BLS options) carry every requirement. */
static int boot_entries_state(struct passthru_ctx *ctx, struct host_state *s, size_t *ret_good,
			      size_t *ret_n)
{
	_cleanup_strv_free_ char **lines = NULL;
	size_t good = 0, n = 0;
	int r;

	*ret_good = *ret_n = 0;
	if (s->boot_r < 0 || !s->boot.grub_cfg)
		return 0;
	r = host_boot_cmdlines(ctx, &s->boot, &lines);
	if (r < 0)
		return r;
	STRV_FOREACH (l, lines) {
		_cleanup_cmdline_ struct cmdline *c = NULL;
		bool ok = true;

		if (cmdline_parse(*l, &c) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < s->n_reqs; i++)
			ok = ok && param_req_satisfied(&c, 1, &s->reqs[i]);
		good += ok;
		n++;
	}
	*ret_good = good;
	*ret_n = n;
	return 0;
}

static int check_cmdline(struct passthru_check_report *rep, struct host_state *s)
{
	struct check_item *it = add_item(rep, "kernel-cmdline", "Kernel command line", NULL);
	_cleanup_free_ char *missing = NULL, *bad = NULL, *all = NULL, *grub_error = NULL,
			    *problem = NULL, *edit = NULL;
	enum passthru_check_status status = PASSTHRU_CHECK_FAIL;
	int grub, r;

	if (!it)
		return -ENOMEM;
	if (s->params_kind == IOMMU_KIND_NONE)
		return set_seen(it, PASSTHRU_CHECK_WARN,
				"cannot tell which parameters apply: no DMAR/IVRS table and a CPU "
				"that is neither Intel nor AMD");
	if (!s->proc_cmdline)
		return set_seen(it, PASSTHRU_CHECK_FAIL, "cannot read /proc/cmdline");
	/* s->reqs hold allow_unsafe_interrupts only where interrupt remapping is missing. */
	if (unmet(s->proc_cmdline, s->reqs, s->n_reqs, false, false, &missing) < 0 ||
	    unmet(s->proc_cmdline, s->reqs, s->n_reqs, false, true, &bad) < 0 ||
	    unmet(NULL, s->reqs, s->n_reqs, false, false, &all) < 0)
		return -ENOMEM;
	if (!missing && !bad)
		return set_seen(it, PASSTHRU_CHECK_OK, "has %s", all);

	/* Some kernels turn VT-d on by default (CONFIG_INTEL_IOMMU_DEFAULT_ON). */
	if (s->params_kind == IOMMU_KIND_INTEL && s->units && s->groups > 0 && !bad &&
	    !cmdline_get(s->proc_cmdline, "intel_iommu", NULL) && missing &&
	    strcmp(missing, "intel_iommu=on") == 0)
		status = PASSTHRU_CHECK_WARN;
	if (asprintf(&problem, "%s%s%s%s%s", missing ? "lacks " : "", missing ? missing : "",
		     missing && bad ? "; " : "", bad ? "has " : "", bad ? bad : "") < 0)
		return -ENOMEM;

	grub = grub_default_state(rep->ctx, s->reqs, s->n_reqs, &grub_error);
	if (grub == -ENOMEM)
		return grub;
	if (grub > 0) {
		size_t good = 0, n = 0;

		r = set_seen(it, status,
			     "%s; " HOST_GRUB_DEFAULT " is right: the host was not rebooted since",
			     problem);
		if (r >= 0)
			r = boot_entries_state(rep->ctx, s, &good, &n);
		if (r < 0)
			return r;
		/* grub.cfg must carry them too, or the reboot changes nothing. */
		if (n > 0 && good == 0)
			return free_and_strf(&it->fix, "%s, then reboot", s->regen);
		return free_and_strf(&it->fix, "reboot");
	}
	r = set_seen(it, status,
		     status == PASSTHRU_CHECK_WARN ? "%s (the kernel enabled VT-d by default)"
						   : "%s",
		     problem);
	if (r >= 0 && grub_error)
		r = strv_pushf(&it->details, "%s", grub_error);
	if (r < 0)
		return r;
	edit = grub_edit_text(missing, bad);
	if (!edit)
		return -ENOMEM;
	return free_and_strf(&it->fix,
			     "%s in " HOST_GRUB_DEFAULT
			     " (passthru setup --apply does it), run %s, reboot",
			     edit, s->regen);
}

static int check_grub(struct passthru_check_report *rep, struct host_state *s)
{
	struct check_item *it = add_item(rep, "grub-config", "Boot loader configuration", NULL);
	_cleanup_free_ char *all = NULL, *error = NULL;
	size_t good = 0, n = 0;
	int grub, r;

	if (!it)
		return -ENOMEM;
	if (s->params_kind == IOMMU_KIND_NONE)
		return set_seen(it, PASSTHRU_CHECK_WARN, "cannot tell which parameters apply");
	if (unmet(NULL, s->reqs, s->n_reqs, false, false, &all) < 0)
		return -ENOMEM;
	grub = grub_default_state(rep->ctx, s->reqs, s->n_reqs, &error);
	if (grub == -ENOENT) {
		r = set_seen(it, PASSTHRU_CHECK_FAIL,
			     "no " HOST_GRUB_DEFAULT ": passthru configures GRUB only");
		return r < 0 ? r
			     : free_and_strf(&it->fix,
					     "put \"%s\" on the kernel command line in your boot "
					     "loader's configuration",
					     all);
	}
	if (grub < 0 && error) {
		r = set_seen(it, PASSTHRU_CHECK_FAIL, "%s", error);
		return r < 0
			   ? r
			   : free_and_strf(
				 &it->fix,
				 "edit the kernel command line by hand so that it has \"%s\"", all);
	}
	if (grub < 0)
		return grub;
	if (grub == 0) {
		r = set_seen(it, PASSTHRU_CHECK_FAIL,
			     "GRUB_CMDLINE_LINUX in " HOST_GRUB_DEFAULT " lacks some of %s", all);
		return r < 0 ? r : free_and_strf(&it->fix, "passthru setup --apply");
	}

	/* /etc/default/grub is right; was the boot configuration regenerated from it? */
	if (!s->boot.grub_cfg)
		return set_seen(it, PASSTHRU_CHECK_WARN,
				HOST_GRUB_DEFAULT " has %s; cannot check grub.cfg: %s", all,
				s->boot.problem ? s->boot.problem : "unknown location");
	r = boot_entries_state(rep->ctx, s, &good, &n);
	if (r < 0)
		return r;
	if (n == 0) {
		r = set_seen(it, PASSTHRU_CHECK_WARN,
			     HOST_GRUB_DEFAULT " has %s; no kernel entry found in %s%s", all,
			     s->boot.grub_cfg, s->boot.bls ? " or /boot/loader/entries" : "");
		return r < 0 ? r : free_and_strf(&it->fix, "%s", s->regen);
	}
	if (good == 0) {
		r = set_seen(it, PASSTHRU_CHECK_FAIL,
			     HOST_GRUB_DEFAULT " has %s, but no boot entry does: %s was not "
					       "regenerated since",
			     all, s->boot.grub_cfg);
		return r < 0 ? r : free_and_strf(&it->fix, "%s", s->regen);
	}
	return set_seen(it, PASSTHRU_CHECK_OK,
			HOST_GRUB_DEFAULT " has %s; %zu of %zu boot entries have them", all, good,
			n);
}

static int check_boot(struct passthru_check_report *rep, struct host_state *s)
{
	struct check_item *it = add_item(rep, "boot", "Boot mode and distribution", NULL);
	const char *mode;
	int r;

	if (!it)
		return -ENOMEM;
	if (s->boot_r < 0)
		return set_seen(it, PASSTHRU_CHECK_WARN, "cannot tell: %s", strerror(-s->boot_r));
	mode = s->boot.uefi ? "UEFI" : "BIOS";
	if (!s->boot.grub_cfg) {
		r = set_seen(it, PASSTHRU_CHECK_WARN, "%s, %s: %s", mode, s->boot.distro,
			     s->boot.problem);
		return r < 0
			   ? r
			   : free_and_strf(&it->fix,
					   "regenerate the boot loader configuration by hand after "
					   "changing the kernel command line");
	}
	/* No grub.cfg there: another boot loader, or an EFI partition that is not mounted. */
	if (!root_exists(rep->ctx, s->boot.grub_cfg)) {
		r = set_seen(
		    it, PASSTHRU_CHECK_WARN,
		    "%s, %s: %s does not exist (is GRUB the boot loader? is /boot%s mounted?)",
		    mode, s->boot.distro, s->boot.grub_cfg, s->boot.uefi ? "/efi" : "");
		return r < 0 ? r
			     : free_and_strf(
				   &it->fix,
				   "mount the boot partitions, or set the kernel parameters in "
				   "the boot loader in use");
	}
	return set_seen(it, PASSTHRU_CHECK_OK, "%s, %s: grub.cfg is %s, regenerated with: %s", mode,
			s->boot.distro, s->boot.grub_cfg, s->regen);
}

static const char *module_state_text(enum module_state st)
{
	switch (st) {
	case MODULE_LOADED:
		return "loaded";
	case MODULE_BUILTIN:
		return "built in";
	case MODULE_CHANGING:
		return "loading or unloading";
	default:
		return "not loaded";
	}
}

static int check_modules(struct passthru_check_report *rep, struct host_state *s)
{
	struct check_item *it = add_item(rep, "vfio-modules", "vfio modules", NULL);
	_cleanup_strv_free_ char **need = NULL, **missing = NULL;
	_cleanup_free_ char *list = NULL, *miss = NULL;
	const char *release = passthru_ctx_get_kernel_release(rep->ctx);
	int r;

	if (!it)
		return -ENOMEM;
	r = host_vfio_modules(rep->ctx, &need);
	if (r == -EINVAL)
		return set_seen(it, PASSTHRU_CHECK_FAIL,
				"cannot read the kernel release (/proc/sys/kernel/osrelease)");
	if (r < 0)
		return r;
	STRV_FOREACH (m, need) {
		enum module_state st = host_module_state(rep->ctx, *m);

		r = strv_pushf(&it->details, "%s: %s", *m, module_state_text(st));
		if (r >= 0 && st != MODULE_LOADED && st != MODULE_BUILTIN)
			r = strv_push(&missing, *m);
		if (r < 0)
			return r;
	}
	if (!strv_contains(need, "vfio_virqfd")) {
		r = strv_pushf(&it->details,
			       "vfio_virqfd: not needed, kernel %s has it inside vfio", release);
		if (r < 0)
			return r;
	}
	list = argv_join(need);
	if (!list)
		return -ENOMEM;
	if (!missing)
		return set_seen(it, PASSTHRU_CHECK_OK, "%s loaded or built in", list);
	miss = argv_join(missing);
	if (!miss)
		return -ENOMEM;
	r = set_seen(it, PASSTHRU_CHECK_FAIL, "not loaded: %s", miss);
	return r < 0 ? r
		     : free_and_strf(&it->fix,
				     "modprobe -a %s (passthru setup --apply lists them for boot)",
				     miss);
}

static int check_modules_boot(struct passthru_check_report *rep, struct host_state *s)
{
	struct check_item *it = add_item(rep, "vfio-modules-boot", "vfio modules at boot", NULL);
	_cleanup_strv_free_ char **need = NULL, **listed = NULL, **lack = NULL;
	_cleanup_free_ char *text = NULL, *lacking = NULL;
	const char *release = passthru_ctx_get_kernel_release(rep->ctx);
	bool all_builtin = true;
	int r;

	if (!it)
		return -ENOMEM;
	r = host_vfio_modules(rep->ctx, &need);
	if (r == -EINVAL)
		return set_seen(it, PASSTHRU_CHECK_FAIL, "cannot read the kernel release");
	if (r < 0)
		return r;
	STRV_FOREACH (m, need)
		if (host_module_state(rep->ctx, *m) != MODULE_BUILTIN)
			all_builtin = false;

	r = root_read_file(rep->ctx, HOST_VFIO_MODULES_LOAD, &text, NULL);
	if (r == -ENOENT && all_builtin)
		return set_seen(it, PASSTHRU_CHECK_OK,
				"no " HOST_VFIO_MODULES_LOAD
				", none needed: the modules are built in");
	if (r < 0) {
		r = set_seen(it, PASSTHRU_CHECK_FAIL, HOST_VFIO_MODULES_LOAD ": %s", strerror(-r));
		return r < 0 ? r : free_and_strf(&it->fix, "passthru setup --apply (writes it)");
	}
	r = modules_load_parse(text, &listed);
	if (r < 0)
		return r;
	/* systemd-modules-load fails on a module the kernel does not have (vfio_virqfd on 6.2+). */
	if (strv_contains(listed, "vfio_virqfd") && !strv_contains(need, "vfio_virqfd")) {
		r = set_seen(it, PASSTHRU_CHECK_FAIL,
			     HOST_VFIO_MODULES_LOAD " lists vfio_virqfd, which kernel %s does not "
						    "have (merged into vfio in 6.2)",
			     release);
		return r < 0 ? r
			     : free_and_strf(
				   &it->fix,
				   "passthru setup --apply (or remove the vfio_virqfd line)");
	}
	STRV_FOREACH (m, need)
		if (!strv_contains(listed, *m)) {
			r = strv_push(&lack, *m);
			if (r < 0)
				return r;
		}
	if (lack) {
		lacking = argv_join(lack);
		if (!lacking)
			return -ENOMEM;
		r = set_seen(it, PASSTHRU_CHECK_FAIL, HOST_VFIO_MODULES_LOAD " lacks %s", lacking);
		return r < 0 ? r : free_and_strf(&it->fix, "passthru setup --apply");
	}
	lacking = argv_join(need);
	if (!lacking)
		return -ENOMEM;
	return set_seen(it, PASSTHRU_CHECK_OK, HOST_VFIO_MODULES_LOAD " lists %s", lacking);
}

static int check_hugepages(struct passthru_check_report *rep, struct host_state *s)
{
	struct check_item *it = add_item(rep, "hugepages", "Huge pages", NULL);
	_cleanup_free_ struct hugepage_pool *pools = NULL;
	_cleanup_free_ char *summary = NULL;
	unsigned long long total_kib = 0;
	size_t n = 0;
	int r;

	if (!it)
		return -ENOMEM;
	r = host_hugepage_pools(rep->ctx, &pools, &n);
	if (r == -ENOENT)
		return set_seen(
		    it, PASSTHRU_CHECK_WARN,
		    "no /sys/kernel/mm/hugepages: this kernel has no huge page support");
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *size = NULL;

		r = cmdline_format_size(pools[i].kib, &size);
		if (r < 0)
			return r;
		r = strv_pushf(&it->details, "%s: %lu reserved, %lu free", size, pools[i].nr,
			       pools[i].free);
		if (r < 0)
			return r;
		if (pools[i].nr == 0)
			continue;
		total_kib += pools[i].kib * pools[i].nr;
		if (strextendf(&summary, "%s%s: %lu total, %lu free", summary ? "; " : "", size,
			       pools[i].nr, pools[i].free) < 0)
			return -ENOMEM;
	}
	if (!summary) {
		r = set_seen(it, PASSTHRU_CHECK_WARN,
			     "none reserved (optional, recommended for guest memory)");
		return r < 0 ? r
			     : free_and_strf(
				   &it->fix,
				   "passthru setup --apply --hugepages 1G:COUNT (reserved at "
				   "boot)");
	}
	{
		unsigned long long mem = 0;

		if (host_meminfo(rep->ctx, "MemTotal", &mem) >= 0 && mem > 0)
			return set_seen(it, PASSTHRU_CHECK_OK, "%s (%llu%% of memory)", summary,
					total_kib * 100 / mem);
	}
	return set_seen(it, PASSTHRU_CHECK_OK, "%s", summary);
}

/* ------------------------------------------------------------------------------------------ */
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

static int check_device_group(struct passthru_check_report *rep, struct passthru_pci_list *all,
			      struct passthru_pci_device *dev)
{
	const char *addr = passthru_pci_device_get_address(dev);
	struct check_item *it = add_item(rep, "device-group", "IOMMU group", addr);
	const char *const *members;
	bool foreign = false, host_uses = false;
	_cleanup_free_ char *own = NULL;
	const char *what;
	int group, r;

	if (!it)
		return -ENOMEM;
	/* bind refuses it whatever its group: the same rule (pci_device_non_endpoint()). */
	what = pci_device_non_endpoint(dev);
	if (what) {
		r = set_seen(it, PASSTHRU_CHECK_FAIL, "it is %s; vfio-pci only drives endpoints",
			     what);
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
		r = set_seen(it, PASSTHRU_CHECK_FAIL, "%s", reason);
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
	members = passthru_pci_device_get_iommu_group_members(dev);
	for (size_t i = 0; members && members[i]; i++) {
		struct passthru_pci_device *m;
		_cleanup_free_ char *used = NULL;
		const char *drv;

		if (strcmp(members[i], addr) == 0)
			continue;
		m = all ? passthru_pci_list_find(all, members[i]) : NULL;
		if (m && pci_device_non_endpoint(m)) {
			r = strv_pushf(&it->details, "%s: bridge, stays with the host", members[i]);
			if (r < 0)
				return r;
			continue;
		}
		drv = m ? passthru_pci_device_get_driver(m) : NULL;
		r = guard_summary(rep->ctx, members[i], &used);
		if (r < 0)
			return r;
		if (used)
			host_uses = true;
		if (!pci_address_same_slot(members[i], addr))
			foreign = true;
		r = strv_pushf(&it->details, "%s (%s): goes to vfio-pci with it%s%s", members[i],
			       drv ? drv : "no driver", used ? "; the host uses it: " : "",
			       used ? used : "");
		if (r < 0)
			return r;
	}
	if (own) {
		r = set_seen(it, PASSTHRU_CHECK_FAIL,
			     "group %d; the host uses the device itself: %s", group, own);
		return r < 0 ? r : free_and_strf(&it->fix, "stop using it on the host first");
	}
	if (host_uses) {
		r = set_seen(it, PASSTHRU_CHECK_FAIL,
			     "group %d is not viable: another endpoint in it is used by the host",
			     group);
		return r < 0
			   ? r
			   : free_and_strf(&it->fix,
					   "move the device to a slot with its own IOMMU group (a "
					   "root port or switch with ACS)");
	}
	if (foreign)
		return set_seen(it, PASSTHRU_CHECK_WARN,
				"group %d is shared with other devices: they all go to vfio-pci "
				"together",
				group);
	return set_seen(it, PASSTHRU_CHECK_OK, "group %d, viable", group);
}

/* The PCI addresses of the bridges above a device, nearest first, from its sysfs path. */
static int upstream_bridges(struct passthru_ctx *ctx, const char *addr, char ***ret)
{
	_cleanup_free_ char *path = NULL, *target = NULL;
	_cleanup_strv_free_ char **v = NULL;
	char *save = NULL, *tok;
	int r;

	if (asprintf(&path, "/sys/bus/pci/devices/%s", addr) < 0)
		return -ENOMEM;
	r = root_readlink(ctx, path, &target);
	if (r < 0)
		return r;
	for (tok = strtok_r(target, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		char canon[PASSTHRU_PCI_ADDRESS_LEN + 1];

		/* Components that are PCI addresses in the kernel's own spelling. */
		if (passthru_pci_address_parse(tok, canon) < 0 || strcmp(canon, tok) != 0 ||
		    strcmp(canon, addr) == 0)
			continue;
		r = strv_push(&v, canon);
		if (r < 0)
			return r;
	}
	/* Nearest first. */
	for (size_t i = 0, n = strv_length(v); i < n / 2; i++) {
		char *t = v[i];

		v[i] = v[n - 1 - i];
		v[n - 1 - i] = t;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

static int check_device_acs(struct passthru_check_report *rep, struct passthru_pci_device *dev,
			    bool group_alone)
{
	const char *addr = passthru_pci_device_get_address(dev);
	struct check_item *it = add_item(rep, "device-acs", "ACS upstream", addr);
	_cleanup_strv_free_ char **bridges = NULL;
	bool lacking = false, unknown = false;
	int r;

	if (!it)
		return -ENOMEM;
	r = upstream_bridges(rep->ctx, addr, &bridges);
	if (r < 0 && r != -ENOENT && r != -EINVAL)
		return r;
	if (!bridges)
		return set_seen(it, PASSTHRU_CHECK_OK,
				"on a root bus: no PCIe switch or root port above it");
	STRV_FOREACH (b, bridges) {
		_cleanup_free_ char *path = NULL;
		_cleanup_free_ uint8_t *cfg = malloc(4096);
		_cleanup_close_ int fd = -1;
		uint16_t cap = 0, ctrl = 0;
		ssize_t len;

		if (!cfg || asprintf(&path, "/sys/bus/pci/devices/%s", *b) < 0)
			return -ENOMEM;
		fd = root_open_dir(rep->ctx, path);
		len = fd >= 0 ? attr_read_raw_at(fd, "config", cfg, 4096) : fd;
		r = len < 0 ? (int)len : pci_config_find_acs(cfg, (size_t)len, &cap, &ctrl);
		if (r < 0) {
			unknown = true;
			r = strv_pushf(&it->details, "%s: extended config space not readable%s", *b,
				       geteuid() != 0 ? " (run as root)" : "");
		} else if (r == 0) {
			lacking = true;
			r = strv_pushf(&it->details, "%s: no ACS capability", *b);
		} else {
			uint16_t need = PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF;

			if ((ctrl & (cap & need)) != (cap & need) || !(cap & PCI_ACS_RR))
				lacking = true;
			r = strv_pushf(
			    &it->details, "%s: ACS%s%s%s%s enabled", *b,
			    ctrl & PCI_ACS_SV ? " SV" : "", ctrl & PCI_ACS_RR ? " RR" : "",
			    ctrl & PCI_ACS_CR ? " CR" : "", ctrl & PCI_ACS_UF ? " UF" : "");
		}
		if (r < 0)
			return r;
	}
	if (!lacking && !unknown)
		return set_seen(it, PASSTHRU_CHECK_OK, "every bridge above it isolates it (ACS)");
	/* The IOMMU group is the kernel's verdict on ACS: alone in it, the device is isolated. */
	if (group_alone)
		return set_seen(it, PASSTHRU_CHECK_OK,
				"%s, but the device has its IOMMU group to "
				"itself",
				lacking ? "a bridge above it lacks ACS" : "ACS not readable");
	if (unknown && !lacking)
		return set_seen(it, PASSTHRU_CHECK_WARN, "cannot read ACS of the bridges above it");
	r = set_seen(it, PASSTHRU_CHECK_WARN,
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
	struct check_item *it = add_item(rep, "device-reset", "Reset", addr);
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
			return set_seen(it, PASSTHRU_CHECK_OK, "%s", list);
		r = set_seen(it, PASSTHRU_CHECK_WARN,
			     "only %s: the device may keep state between guests", list);
		return r < 0
			   ? r
			   : free_and_strf(&it->fix, "none in software: prefer a device with FLR");
	}
	/* Kernels before 5.15 have a reset file but do not say how. */
	if (asprintf(&path, "/sys/bus/pci/devices/%s/reset", addr) < 0)
		return -ENOMEM;
	if (root_exists(rep->ctx, path))
		return set_seen(it, PASSTHRU_CHECK_OK,
				"the kernel can reset it (this kernel does not say how)");
	r = set_seen(it, PASSTHRU_CHECK_WARN,
		     "no reset method: the device cannot be reset between guests");
	return r < 0 ? r
		     : free_and_strf(&it->fix,
				     "none in software: reboot the host between guests, or use a "
				     "device with FLR");
}

static int check_device_driver(struct passthru_check_report *rep, struct passthru_pci_device *dev)
{
	const char *addr = passthru_pci_device_get_address(dev);
	struct check_item *it = add_item(rep, "device-driver", "Host driver", addr);
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
		r = set_seen(it, PASSTHRU_CHECK_FAIL, "bound to %s, which will fight vfio-pci",
			     drv);
		return r < 0 ? r
			     : free_and_strf(&it->fix,
					     "blacklist %s: passthru setup --apply%s, then reboot",
					     names, flags);
	}
	if (fighters) {
		r = set_seen(it, PASSTHRU_CHECK_WARN, "%s; %s loaded and can take it back",
			     drv ? drv : "no driver", names);
		return r < 0 ? r
			     : free_and_strf(&it->fix,
					     "blacklist %s: passthru setup --apply%s, then reboot",
					     names, flags);
	}
	if (!drv)
		return set_seen(it, PASSTHRU_CHECK_OK, "no driver bound");
	if (strcmp(drv, "vfio-pci") == 0)
		return set_seen(it, PASSTHRU_CHECK_OK, "bound to vfio-pci");
	return set_seen(it, PASSTHRU_CHECK_OK, "bound to %s; taking it over moves it to vfio-pci",
			drv);
}

static int check_device_log(struct passthru_check_report *rep, struct host_state *s,
			    struct passthru_pci_device *dev)
{
	const char *addr = passthru_pci_device_get_address(dev);
	struct check_item *it = add_item(rep, "device-log", "Kernel log", addr);
	const char *bdf = addr + 5; /* "01:00.0": how DMAR fault reports name a device */
	_cleanup_free_ char *dmar = NULL, *amd = NULL, *amd_short = NULL;
	size_t rmrr = 0, faults = 0;
	int r;

	if (!it)
		return -ENOMEM;
	if (s->kmsg_r < 0) {
		r = set_seen(it, PASSTHRU_CHECK_WARN, "kernel log not readable: %s",
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
		r = set_seen(it, PASSTHRU_CHECK_FAIL,
			     "the kernel refuses to attach it to an IOMMU domain: the firmware "
			     "reserves memory for it (RMRR)");
		return r < 0
			   ? r
			   : free_and_strf(&it->fix,
					   "update the firmware, move the card to another slot, or "
					   "pass through another device");
	}
	if (faults > 0) {
		r = set_seen(it, PASSTHRU_CHECK_WARN, "%zu IOMMU fault(s) logged for it", faults);
		return r < 0 ? r
			     : free_and_strf(
				   &it->fix,
				   "look at the guest driver and the device firmware; faults "
				   "at boot before vfio-pci took it are harmless");
	}
	return set_seen(it, PASSTHRU_CHECK_OK, "no complaints about it");
}

static int check_device(struct passthru_check_report *rep, struct host_state *s,
			struct passthru_pci_list *all, struct passthru_pci_device *dev)
{
	const char *const *members = passthru_pci_device_get_iommu_group_members(dev);
	const char *addr = passthru_pci_device_get_address(dev);
	bool alone = true;
	int r;

	for (size_t i = 0; members && members[i]; i++) {
		struct passthru_pci_device *m =
		    all ? passthru_pci_list_find(all, members[i]) : NULL;

		if (!pci_address_same_slot(members[i], addr) && !(m && pci_device_non_endpoint(m)))
			alone = false;
	}
	r = check_device_group(rep, all, dev);
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

	/* A scan that fails (no PCI bus in a fixture) only means no candidates. */
	if (r >= 0 && passthru_pci_list_scan(ctx, &all) < 0)
		all = NULL;
	if (r >= 0 && devices && devices[0]) {
		for (size_t i = 0; r >= 0 && devices[i]; i++) {
			struct passthru_pci_device *dev = NULL;

			r = passthru_pci_device_new(ctx, devices[i], &dev);
			if (r >= 0)
				r = check_device(rep, &s, all, dev);
			passthru_pci_device_unref(dev);
		}
	} else if (r >= 0 && all) {
		for (size_t i = 0; r >= 0 && i < passthru_pci_list_count(all); i++) {
			struct passthru_pci_device *dev = passthru_pci_list_get(all, i);

			if (is_candidate(dev))
				r = check_device(rep, &s, all, dev);
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
