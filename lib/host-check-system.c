/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The checks of the host itself, in the order of the product chapter's steps: the CPU and the
 * IOMMU in the firmware, the kernel's IOMMU and interrupt remapping, kernel parameters (running
 * and for the next boot), the boot loader, the vfio modules, huge pages.
 */
#include <fcntl.h>
#include <stdarg.h>

#include "grub.h"
#include "host.h"
#include "host-check.h"
#include "pci.h"

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

int check_cpu(struct passthru_check_report *rep, struct host_state *s)
{
	struct check_item *it = check_item_add(rep, "cpu-vendor", "CPU vendor", NULL);

	if (!it)
		return -ENOMEM;
	if (s->cpu_r < 0)
		return check_item_set_seen(it, PASSTHRU_CHECK_WARN,
					   "cannot read the vendor from /proc/cpuinfo: %s",
					   strerror(-s->cpu_r));
	if (s->cpu == CPU_VENDOR_OTHER)
		return check_item_set_seen(
		    it, PASSTHRU_CHECK_WARN,
		    "%s: passthru knows the IOMMU parameters of Intel and AMD only", s->cpu_id);
	/* Virtual machines mix them freely (QEMU's -cpu max is AMD-flavoured under TCG). */
	if ((s->firmware == IOMMU_KIND_INTEL && s->cpu == CPU_VENDOR_AMD) ||
	    (s->firmware == IOMMU_KIND_AMD && s->cpu == CPU_VENDOR_INTEL))
		return check_item_set_seen(
		    it, PASSTHRU_CHECK_WARN,
		    "%s (%s), but the firmware describes an %s IOMMU: the IOMMU's "
		    "parameters are the ones that apply",
		    cpu_vendor_name(s->cpu), s->cpu_id, iommu_kind_name(s->firmware));
	return check_item_set_seen(it, PASSTHRU_CHECK_OK, "%s (%s)", cpu_vendor_name(s->cpu),
				   s->cpu_id);
}

int check_firmware(struct passthru_check_report *rep, struct host_state *s)
{
	static const char *const intel_log[] = {"DMAR:", "DMAR-IR:", NULL};
	static const char *const amd_log[] = {"AMD-Vi:", NULL};
	struct check_item *it = check_item_add(rep, "firmware-iommu", "Firmware IOMMU", NULL);
	int r;

	if (!it)
		return -ENOMEM;
	switch (s->firmware) {
	case IOMMU_KIND_INTEL:
		r = check_item_set_seen(it, PASSTHRU_CHECK_OK,
					"ACPI DMAR table present (Intel VT-d)");
		if (r >= 0)
			r = add_log_lines(it, s->kmsg, intel_log, 5);
		break;
	case IOMMU_KIND_AMD:
		r = check_item_set_seen(it, PASSTHRU_CHECK_OK, "ACPI IVRS table present (AMD-Vi)");
		if (r >= 0)
			r = add_log_lines(it, s->kmsg, amd_log, 5);
		break;
	default:
		r = check_item_set_seen(
		    it, PASSTHRU_CHECK_FAIL,
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

int check_kernel_iommu(struct passthru_check_report *rep, struct host_state *s)
{
	struct check_item *it = check_item_add(rep, "kernel-iommu", "Kernel IOMMU", NULL);
	_cleanup_free_ char *units = NULL, *missing = NULL, *bad = NULL;

	if (!it)
		return -ENOMEM;
	units = s->units ? argv_join(s->units) : strdup("");
	if (!units)
		return -ENOMEM;
	if (s->units && s->groups > 0)
		return check_item_set_seen(it, PASSTHRU_CHECK_OK, "active: %s, %u IOMMU groups",
					   units, s->groups);
	if (s->firmware == IOMMU_KIND_NONE) {
		int r = check_item_set_seen(
		    it, PASSTHRU_CHECK_FAIL,
		    "no IOMMU active (/sys/class/iommu is empty, no IOMMU groups)");
		return r < 0 ? r : free_and_strf(&it->fix, "%s", bios_fix(s->cpu));
	}
	if (s->units)
		return check_item_set_seen(it, PASSTHRU_CHECK_FAIL,
					   "%s present but no IOMMU groups", units);

	/* The firmware has one and the kernel did not turn it on: the command line's business. */
	if (unmet(s->proc_cmdline, s->reqs, s->n_reqs, true, false, &missing) < 0 ||
	    unmet(s->proc_cmdline, s->reqs, s->n_reqs, true, true, &bad) < 0)
		return -ENOMEM;
	if (check_item_set_seen(it, PASSTHRU_CHECK_FAIL,
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

int check_remapping(struct passthru_check_report *rep, struct host_state *s)
{
	struct check_item *it =
	    check_item_add(rep, "interrupt-remapping", "Interrupt remapping", NULL);
	int r;

	if (!it)
		return -ENOMEM;
	if (!s->units || s->groups == 0) {
		r = check_item_set_seen(it, PASSTHRU_CHECK_WARN,
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
		r = check_item_set_seen(
		    it, PASSTHRU_CHECK_WARN,
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
		return check_item_set_seen(it, PASSTHRU_CHECK_OK, "enabled");
	if (s->firmware_remapping > 0) {
		/* The platform can: the kernel was told not to (intremap=off) or gave up. */
		r = check_item_set_seen(
		    it, s->unsafe_interrupts ? PASSTHRU_CHECK_WARN : PASSTHRU_CHECK_FAIL,
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
		r = check_item_set_seen(
		    it, PASSTHRU_CHECK_WARN,
		    "not available; vfio_iommu_type1.allow_unsafe_interrupts=1 lets vfio "
		    "assign devices anyway, with weaker isolation from the guest");
		return r < 0 ? r
			     : free_and_strf(
				   &it->fix,
				   "enable interrupt remapping (x2APIC) in the BIOS/UEFI setup "
				   "for full isolation");
	}
	r = check_item_set_seen(
	    it, PASSTHRU_CHECK_FAIL,
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

int check_cmdline(struct passthru_check_report *rep, struct host_state *s)
{
	struct check_item *it = check_item_add(rep, "kernel-cmdline", "Kernel command line", NULL);
	_cleanup_free_ char *missing = NULL, *bad = NULL, *all = NULL, *grub_error = NULL,
			    *problem = NULL, *edit = NULL;
	enum passthru_check_status status = PASSTHRU_CHECK_FAIL;
	int grub, r;

	if (!it)
		return -ENOMEM;
	if (s->params_kind == IOMMU_KIND_NONE)
		return check_item_set_seen(
		    it, PASSTHRU_CHECK_WARN,
		    "cannot tell which parameters apply: no DMAR/IVRS table and a CPU "
		    "that is neither Intel nor AMD");
	if (!s->proc_cmdline)
		return check_item_set_seen(it, PASSTHRU_CHECK_FAIL, "cannot read /proc/cmdline");
	/* s->reqs hold allow_unsafe_interrupts only where interrupt remapping is missing. */
	if (unmet(s->proc_cmdline, s->reqs, s->n_reqs, false, false, &missing) < 0 ||
	    unmet(s->proc_cmdline, s->reqs, s->n_reqs, false, true, &bad) < 0 ||
	    unmet(NULL, s->reqs, s->n_reqs, false, false, &all) < 0)
		return -ENOMEM;
	if (!missing && !bad)
		return check_item_set_seen(it, PASSTHRU_CHECK_OK, "has %s", all);

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

		r = check_item_set_seen(
		    it, status,
		    "%s; " HOST_GRUB_DEFAULT " is right: the host was not rebooted since", problem);
		if (r >= 0)
			r = boot_entries_state(rep->ctx, s, &good, &n);
		if (r < 0)
			return r;
		/* grub.cfg must carry them too, or the reboot changes nothing. */
		if (n > 0 && good == 0)
			return free_and_strf(&it->fix, "%s, then reboot", s->regen);
		return free_and_strf(&it->fix, "reboot");
	}
	r = check_item_set_seen(
	    it, status,
	    status == PASSTHRU_CHECK_WARN ? "%s (the kernel enabled VT-d by default)" : "%s",
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

int check_grub(struct passthru_check_report *rep, struct host_state *s)
{
	struct check_item *it =
	    check_item_add(rep, "grub-config", "Boot loader configuration", NULL);
	_cleanup_free_ char *all = NULL, *error = NULL;
	size_t good = 0, n = 0;
	int grub, r;

	if (!it)
		return -ENOMEM;
	if (s->params_kind == IOMMU_KIND_NONE)
		return check_item_set_seen(it, PASSTHRU_CHECK_WARN,
					   "cannot tell which parameters apply");
	if (unmet(NULL, s->reqs, s->n_reqs, false, false, &all) < 0)
		return -ENOMEM;
	grub = grub_default_state(rep->ctx, s->reqs, s->n_reqs, &error);
	if (grub == -ENOENT) {
		r = check_item_set_seen(it, PASSTHRU_CHECK_FAIL,
					"no " HOST_GRUB_DEFAULT ": passthru configures GRUB only");
		return r < 0 ? r
			     : free_and_strf(&it->fix,
					     "put \"%s\" on the kernel command line in your boot "
					     "loader's configuration",
					     all);
	}
	if (grub < 0 && error) {
		r = check_item_set_seen(it, PASSTHRU_CHECK_FAIL, "%s", error);
		return r < 0
			   ? r
			   : free_and_strf(
				 &it->fix,
				 "edit the kernel command line by hand so that it has \"%s\"", all);
	}
	if (grub < 0)
		return grub;
	if (grub == 0) {
		r = check_item_set_seen(
		    it, PASSTHRU_CHECK_FAIL,
		    "GRUB_CMDLINE_LINUX in " HOST_GRUB_DEFAULT " lacks some of %s", all);
		return r < 0 ? r : free_and_strf(&it->fix, "passthru setup --apply");
	}

	/* /etc/default/grub is right; was the boot configuration regenerated from it? */
	if (!s->boot.grub_cfg)
		return check_item_set_seen(
		    it, PASSTHRU_CHECK_WARN, HOST_GRUB_DEFAULT " has %s; cannot check grub.cfg: %s",
		    all, s->boot.problem ? s->boot.problem : "unknown location");
	r = boot_entries_state(rep->ctx, s, &good, &n);
	if (r < 0)
		return r;
	if (n == 0) {
		r = check_item_set_seen(it, PASSTHRU_CHECK_WARN,
					HOST_GRUB_DEFAULT " has %s; no kernel entry found in %s%s",
					all, s->boot.grub_cfg,
					s->boot.bls ? " or /boot/loader/entries" : "");
		return r < 0 ? r : free_and_strf(&it->fix, "%s", s->regen);
	}
	if (good == 0) {
		r = check_item_set_seen(it, PASSTHRU_CHECK_FAIL,
					HOST_GRUB_DEFAULT
					" has %s, but no boot entry does: %s was not "
					"regenerated since",
					all, s->boot.grub_cfg);
		return r < 0 ? r : free_and_strf(&it->fix, "%s", s->regen);
	}
	return check_item_set_seen(it, PASSTHRU_CHECK_OK,
				   HOST_GRUB_DEFAULT " has %s; %zu of %zu boot entries have them",
				   all, good, n);
}

int check_boot(struct passthru_check_report *rep, struct host_state *s)
{
	struct check_item *it = check_item_add(rep, "boot", "Boot mode and distribution", NULL);
	const char *mode;
	int r;

	if (!it)
		return -ENOMEM;
	if (s->boot_r < 0)
		return check_item_set_seen(it, PASSTHRU_CHECK_WARN, "cannot tell: %s",
					   strerror(-s->boot_r));
	mode = s->boot.uefi ? "UEFI" : "BIOS";
	if (!s->boot.grub_cfg) {
		r = check_item_set_seen(it, PASSTHRU_CHECK_WARN, "%s, %s: %s", mode, s->boot.distro,
					s->boot.problem);
		return r < 0
			   ? r
			   : free_and_strf(&it->fix,
					   "regenerate the boot loader configuration by hand after "
					   "changing the kernel command line");
	}
	/* No grub.cfg there: another boot loader, or an EFI partition that is not mounted. */
	if (!root_exists(rep->ctx, s->boot.grub_cfg)) {
		r = check_item_set_seen(
		    it, PASSTHRU_CHECK_WARN,
		    "%s, %s: %s does not exist (is GRUB the boot loader? is /boot%s mounted?)",
		    mode, s->boot.distro, s->boot.grub_cfg, s->boot.uefi ? "/efi" : "");
		return r < 0 ? r
			     : free_and_strf(
				   &it->fix,
				   "mount the boot partitions, or set the kernel parameters in "
				   "the boot loader in use");
	}
	return check_item_set_seen(it, PASSTHRU_CHECK_OK,
				   "%s, %s: grub.cfg is %s, regenerated with: %s", mode,
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

int check_modules(struct passthru_check_report *rep, struct host_state *s)
{
	struct check_item *it = check_item_add(rep, "vfio-modules", "vfio modules", NULL);
	_cleanup_strv_free_ char **need = NULL, **missing = NULL;
	_cleanup_free_ char *list = NULL, *miss = NULL;
	const char *release = passthru_ctx_get_kernel_release(rep->ctx);
	int r;

	if (!it)
		return -ENOMEM;
	r = host_vfio_modules(rep->ctx, &need);
	if (r == -EINVAL)
		return check_item_set_seen(
		    it, PASSTHRU_CHECK_FAIL,
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
		return check_item_set_seen(it, PASSTHRU_CHECK_OK, "%s loaded or built in", list);
	miss = argv_join(missing);
	if (!miss)
		return -ENOMEM;
	r = check_item_set_seen(it, PASSTHRU_CHECK_FAIL, "not loaded: %s", miss);
	return r < 0 ? r
		     : free_and_strf(&it->fix,
				     "modprobe -a %s (passthru setup --apply lists them for boot)",
				     miss);
}

int check_modules_boot(struct passthru_check_report *rep, struct host_state *s)
{
	struct check_item *it =
	    check_item_add(rep, "vfio-modules-boot", "vfio modules at boot", NULL);
	_cleanup_strv_free_ char **need = NULL, **listed = NULL, **lack = NULL;
	_cleanup_free_ char *text = NULL, *lacking = NULL;
	const char *release = passthru_ctx_get_kernel_release(rep->ctx);
	bool all_builtin = true;
	int r;

	if (!it)
		return -ENOMEM;
	r = host_vfio_modules(rep->ctx, &need);
	if (r == -EINVAL)
		return check_item_set_seen(it, PASSTHRU_CHECK_FAIL,
					   "cannot read the kernel release");
	if (r < 0)
		return r;
	STRV_FOREACH (m, need)
		if (host_module_state(rep->ctx, *m) != MODULE_BUILTIN)
			all_builtin = false;

	r = root_read_file(rep->ctx, HOST_VFIO_MODULES_LOAD, &text, NULL);
	if (r == -ENOENT && all_builtin)
		return check_item_set_seen(it, PASSTHRU_CHECK_OK,
					   "no " HOST_VFIO_MODULES_LOAD
					   ", none needed: the modules are built in");
	if (r < 0) {
		r = check_item_set_seen(it, PASSTHRU_CHECK_FAIL, HOST_VFIO_MODULES_LOAD ": %s",
					strerror(-r));
		return r < 0 ? r : free_and_strf(&it->fix, "passthru setup --apply (writes it)");
	}
	r = modules_load_parse(text, &listed);
	if (r < 0)
		return r;
	/* systemd-modules-load fails on a module the kernel does not have (vfio_virqfd on 6.2+). */
	if (strv_contains(listed, "vfio_virqfd") && !strv_contains(need, "vfio_virqfd")) {
		r = check_item_set_seen(it, PASSTHRU_CHECK_FAIL,
					HOST_VFIO_MODULES_LOAD
					" lists vfio_virqfd, which kernel %s does not "
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
		r = check_item_set_seen(it, PASSTHRU_CHECK_FAIL, HOST_VFIO_MODULES_LOAD " lacks %s",
					lacking);
		return r < 0 ? r : free_and_strf(&it->fix, "passthru setup --apply");
	}
	lacking = argv_join(need);
	if (!lacking)
		return -ENOMEM;
	return check_item_set_seen(it, PASSTHRU_CHECK_OK, HOST_VFIO_MODULES_LOAD " lists %s",
				   lacking);
}

int check_hugepages(struct passthru_check_report *rep, struct host_state *s)
{
	struct check_item *it = check_item_add(rep, "hugepages", "Huge pages", NULL);
	_cleanup_free_ struct hugepage_pool *pools = NULL;
	_cleanup_free_ char *summary = NULL;
	unsigned long long total_kib = 0;
	size_t n = 0;
	int r;

	if (!it)
		return -ENOMEM;
	r = host_hugepage_pools(rep->ctx, &pools, &n);
	if (r == -ENOENT)
		return check_item_set_seen(
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
		r = check_item_set_seen(it, PASSTHRU_CHECK_WARN,
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
			return check_item_set_seen(it, PASSTHRU_CHECK_OK, "%s (%llu%% of memory)",
						   summary, total_kib * 100 / mem);
	}
	return check_item_set_seen(it, PASSTHRU_CHECK_OK, "%s", summary);
}

/* ------------------------------------------------------------------------------------------ */
