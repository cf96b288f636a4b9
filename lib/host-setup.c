/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host preparation (the product chapter's steps 2 to 6): the IOMMU parameters in
 * GRUB_CMDLINE_LINUX, the grub.cfg regeneration, /etc/modules-load.d/vfio.conf, optional huge
 * pages and driver blacklists. A plan is worked out first and shown as diffs and commands;
 * applying it (host-setup-apply.c) backs every file up, replaces it atomically and runs the
 * commands. Everything is computed from the files as they are, so a second run finds nothing to
 * change.
 */
#include <sys/stat.h>

#include "diff.h"
#include "grub.h"
#include "host.h"
#include "host-setup.h"
#include "storage-claim.h"

static void clear_plan(struct passthru_setup *s)
{
	for (size_t i = 0; i < s->n_changes; i++) {
		free(s->changes[i].path);
		free(s->changes[i].old);
		free(s->changes[i].new);
		free(s->changes[i].diff);
		free(s->changes[i].backup);
	}
	free(s->changes);
	s->changes = NULL;
	s->n_changes = 0;
	for (size_t i = 0; i < s->n_commands; i++) {
		strv_free(s->commands[i].argv);
		free(s->commands[i].output);
	}
	free(s->commands);
	s->commands = NULL;
	s->n_commands = 0;
	strv_free(s->reboot_reasons);
	s->reboot_reasons = NULL;
	strv_free(s->notes);
	s->notes = NULL;
	free(s->error);
	s->error = NULL;
	s->planned = false;
}

_public_ int passthru_setup_new(struct passthru_ctx *ctx, struct passthru_setup **ret)
{
	struct passthru_setup *s;

	if (!ctx || !ret)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->refcount = 1;
	s->ctx = passthru_ctx_ref(ctx);
	*ret = s;
	return 0;
}

static void setup_free(struct passthru_setup *setup)
{
	clear_plan(setup);
	free(setup->hp_size);
	strv_free(setup->blacklist);
	passthru_ctx_unref(setup->ctx);
	free(setup);
}

DEFINE_REF_UNREF_FUNC(_public_, struct passthru_setup, passthru_setup, setup_free);

_public_ int passthru_setup_set_hugepages(struct passthru_setup *setup, const char *size,
					  unsigned long count)
{
	unsigned long long kib;
	char *canon;
	int r;

	if (!setup || !size || count == 0)
		return -EINVAL;
	r = cmdline_parse_size(size, &kib);
	if (r < 0)
		return r;
	r = cmdline_format_size(kib, &canon);
	if (r < 0)
		return r;
	free(setup->hp_size);
	setup->hp_size = canon;
	setup->hp_count = count;
	return 0;
}

/* Module names: what modprobe accepts and what is safe on a kernel command line. */
static bool valid_module_name(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

/* vfio and its parts (vfio_pci, vfio_pci_core, vfio_iommu_type1, vfio_virqfd): '_' names. */
static bool module_is_vfio(const char *name)
{
	return strcmp(name, "vfio") == 0 || strncmp(name, "vfio_", 5) == 0;
}

_public_ int passthru_setup_add_blacklist(struct passthru_setup *setup, const char *driver)
{
	_cleanup_free_ char *n = NULL;

	if (!setup || !valid_module_name(driver))
		return -EINVAL;
	n = strdup(driver);
	if (!n)
		return -ENOMEM;
	for (char *p = n; *p; p++)
		if (*p == '-')
			*p = '_';
	if (module_is_vfio(n))
		return error_setf(
		    &setup->error, -EPERM,
		    "refusing to blacklist %s: passthru hands devices to vfio-pci, which "
		    "needs the vfio modules; blacklisted, nothing could be passed through",
		    driver);
	if (strv_contains(setup->blacklist, n))
		return 0;
	return strv_consume(&setup->blacklist, TAKE_PTR(n));
}

_public_ int passthru_setup_set_force(struct passthru_setup *setup, bool force)
{
	if (!setup)
		return -EINVAL;
	setup->force = force;
	return 0;
}

/* Records the change from old to new (nothing when they are equal). Takes new. */
static int add_change(struct passthru_setup *s, const char *path, const char *old, char *new)
{
	_cleanup_free_ char *a = NULL, *b = NULL, *diff = NULL, *n = new;
	struct change *v;
	int r;

	if (old && strcmp(old, new) == 0)
		return 0;
	if (asprintf(&a, "a%s", path) < 0 || asprintf(&b, "b%s", path) < 0)
		return -ENOMEM;
	r = diff_unified(old, n, a, b, &diff);
	if (r < 0)
		return r;
	v = ARRAY_GROW(s->changes, s->n_changes);
	if (!v)
		return -ENOMEM;
	*v = (struct change){.path = strdup(path), .old = old ? strdup(old) : NULL};
	if (!v->path || (old && !v->old)) {
		free(v->path);
		free(v->old);
		return -ENOMEM;
	}
	v->new = TAKE_PTR(n);
	v->diff = TAKE_PTR(diff);
	s->n_changes++;
	return 1;
}

static int add_command(struct passthru_setup *s, char *const *argv)
{
	struct command *v;
	char **copy = NULL;
	int r = 0;

	for (size_t i = 0; argv[i] && r >= 0; i++)
		r = strv_push(&copy, argv[i]);
	if (r < 0) {
		strv_free(copy);
		return r;
	}
	v = ARRAY_GROW(s->commands, s->n_commands);
	if (!v) {
		strv_free(copy);
		return -ENOMEM;
	}
	*v = (struct command){.argv = copy, .status = -1};
	s->n_commands++;
	return 0;
}

/* Reads a host file; -ENOENT leaves *ret NULL and returns 0. */
int setup_read_optional(struct passthru_ctx *ctx, const char *path, char **ret, size_t *ret_len)
{
	int r = root_read_file(ctx, path, ret, ret_len);

	if (r == -ENOENT) {
		*ret = NULL;
		if (ret_len)
			*ret_len = 0;
		return 0;
	}
	return r;
}

/* nvidia's display part is nvidia-drm; the others take modeset themselves. */
static const char *modeset_module(const char *driver)
{
	if (strcmp(driver, "nvidia") == 0 || strcmp(driver, "nvidia_drm") == 0)
		return "nvidia-drm";
	return driver;
}

/*
 * The early claim and storage prevention of persisted storage controllers (storage-claim.c):
 * its files as changes, *ret_initramfs_argv the initramfs regeneration they need (or NULL).
 */
static int plan_storage(struct passthru_setup *s, char ***ret_initramfs_argv)
{
	struct storage_plan plan;
	int r;

	r = storage_plan_make(s->ctx, &plan);
	if (r < 0)
		return error_setf(&s->error, r,
				  "cannot plan the early claim of persisted storage: %s",
				  strerror(-r));
	for (size_t i = 0; r >= 0 && i < plan.n_files; i++) {
		struct storage_file *f = &plan.files[i];
		bool remove = !f->new;
		char *new = remove ? strdup("") : TAKE_PTR(f->new);

		r = new ? add_change(s, f->path, f->old, new) : -ENOMEM;
		if (r > 0) {
			s->changes[s->n_changes - 1].mode = f->mode;
			s->changes[s->n_changes - 1].generated = f->generated;
			s->changes[s->n_changes - 1].remove = remove;
		}
	}
	STRV_FOREACH (n, plan.notes)
		if (r >= 0)
			r = strv_push(&s->notes, *n);
	if (r >= 0 && plan.n_files)
		r = strv_pushf(&s->reboot_reasons, "the early claim of persisted storage "
						   "controllers takes effect at boot");
	if (r >= 0)
		*ret_initramfs_argv = TAKE_PTR(plan.initramfs_argv);
	storage_plan_done(&plan);
	return r;
}

/* Every kernel parameter requirement of this setup. The strings live in *storage. */
static int build_reqs(struct passthru_setup *s, const struct param_req *iommu, size_t n_iommu,
		      struct param_req **ret, size_t *ret_n, char ***storage)
{
	_cleanup_free_ struct param_req *v = NULL;
	size_t n = 0, max = n_iommu + 2 + 2 * strv_length(s->blacklist);

	v = calloc(max, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n_iommu; i++)
		v[n++] = iommu[i];
	if (s->hp_size) {
		v[n++] = (struct param_req){PARAM_REQ_SET, "default_hugepagesz", s->hp_size, 0};
		v[n++] =
		    (struct param_req){PARAM_REQ_HUGEPAGES, "hugepagesz", s->hp_size, s->hp_count};
	}
	STRV_FOREACH (d, s->blacklist) {
		v[n++] = (struct param_req){PARAM_REQ_MEMBER, "rd.driver.blacklist", *d, 0};
		if (driver_is_display(*d)) {
			char *key;
			int r;

			if (asprintf(&key, "%s.modeset", modeset_module(*d)) < 0)
				return -ENOMEM;
			r = strv_consume(storage, key);
			if (r < 0)
				return r;
			v[n++] = (struct param_req){PARAM_REQ_SET, key, "0", 0};
		}
	}
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

/*
 * A blacklisted driver that drives the boot display leaves the host without a console (and
 * often without a working boot): refused unless forced. nvidia and nvidia_drm count as one.
 */
static int check_blacklist_boot_vga(struct passthru_setup *s)
{
	struct passthru_pci_list *all = NULL;
	int r = 0;

	if (!s->blacklist || s->force)
		return 0;
	/* No PCI bus to look at means no boot display to protect. */
	if (passthru_pci_list_scan(s->ctx, &all) < 0)
		return 0;
	for (size_t i = 0; r >= 0 && i < passthru_pci_list_count(all); i++) {
		struct passthru_pci_device *dev = passthru_pci_list_get(all, i);
		const char *drv = passthru_pci_device_get_driver(dev);

		if (!drv || !passthru_pci_device_is_boot_vga(dev))
			continue;
		STRV_FOREACH (d, s->blacklist)
			if (cmdline_key_equal(modeset_module(*d), modeset_module(drv))) {
				r = error_setf(
				    &s->error, -EPERM,
				    "refusing to blacklist %s: %s drives the boot display (%s), "
				    "the host would be left without a console; --force "
				    "blacklists it anyway",
				    *d, drv, passthru_pci_device_get_address(dev));
				break;
			}
	}
	passthru_pci_list_unref(all);
	return r;
}

static int plan_hugepages(struct passthru_setup *s)
{
	_cleanup_free_ struct hugepage_pool *pools = NULL;
	unsigned long long kib, mem = 0;
	size_t n = 0;
	bool found = false;
	int r;

	if (!s->hp_size)
		return 0;
	r = cmdline_parse_size(s->hp_size, &kib);
	if (r < 0)
		return error_setf(&s->error, r, "invalid huge page size %s", s->hp_size);
	r = host_hugepage_pools(s->ctx, &pools, &n);
	if (r == -ENOENT)
		return error_setf(&s->error, -EOPNOTSUPP,
				  "/sys/kernel/mm/hugepages: this kernel has no huge page support");
	if (r < 0)
		return error_setf(&s->error, r, "/sys/kernel/mm/hugepages: %s", strerror(-r));
	for (size_t i = 0; i < n; i++)
		if (pools[i].kib == kib) {
			found = true;
			if (pools[i].nr < s->hp_count) {
				r = strv_pushf(&s->reboot_reasons,
					       "%lu of %lu %s huge pages reserved", pools[i].nr,
					       s->hp_count, s->hp_size);
				if (r < 0)
					return r;
			}
		}
	if (!found)
		return error_setf(&s->error, -EOPNOTSUPP,
				  "this host has no %s huge pages (no /sys/kernel/mm/hugepages/"
				  "hugepages-%llukB)",
				  s->hp_size, kib);
	if (host_meminfo(s->ctx, "MemTotal", &mem) >= 0 && mem > 0 && kib * s->hp_count >= mem)
		return error_setf(&s->error, -ERANGE,
				  "%lu %s huge pages need %llu MiB, the host has %llu MiB",
				  s->hp_count, s->hp_size, kib * s->hp_count / 1024, mem / 1024);
	return 0;
}

/* *ret_unsafe_set tells whether the file, as planned, sets allow_unsafe_interrupts. */
static int plan_grub(struct passthru_setup *s, const struct param_req *reqs, size_t n,
		     bool *ret_changed, bool *ret_unsafe_set)
{
	_cleanup_free_ char *text = NULL, *out = NULL, *snippet_error = NULL;
	struct grub_error err = {0};
	size_t len;
	int r;

	*ret_changed = false;
	r = root_read_file(s->ctx, HOST_GRUB_DEFAULT, &text, &len);
	if (r == -ENOENT)
		return error_setf(&s->error, r,
				  HOST_GRUB_DEFAULT ": not found; passthru configures GRUB only");
	if (r < 0)
		return error_setf(&s->error, r, HOST_GRUB_DEFAULT ": %s", strerror(-r));
	r = grub_default_edit(text, len, reqs, n, &out, &err);
	if (r == -EBADMSG || r == -EDOM) {
		_cleanup_free_ char *msg = NULL;

		if (grub_error_format(&err, HOST_GRUB_DEFAULT, &msg) < 0)
			return -ENOMEM;
		return error_setf(&s->error, -EBADMSG, "%s; the file was left untouched", msg);
	}
	if (r < 0)
		return error_setf(&s->error, r, HOST_GRUB_DEFAULT ": %s", strerror(-r));
	r = host_grub_snippets_check(s->ctx, reqs, n, &snippet_error);
	if (r == -EBADMSG)
		return error_setf(&s->error, r, "%s; edit it by hand", snippet_error);
	if (r < 0)
		return error_setf(&s->error, r, HOST_GRUB_DEFAULT ".d: %s", strerror(-r));
	*ret_unsafe_set =
	    grub_default_check(out, strlen(out), &host_unsafe_interrupts_param, 1, NULL, &err) == 1;
	r = add_change(s, HOST_GRUB_DEFAULT, text, TAKE_PTR(out));
	if (r < 0)
		return r;
	*ret_changed = r > 0;
	return 0;
}

/* vfio.conf: the needed modules in order; other lines kept; vfio_virqfd dropped when gone. */
static int plan_modules_load(struct passthru_setup *s, char *const *need)
{
	_cleanup_free_ char *old = NULL, *new = NULL;
	_cleanup_strv_free_ char **have = NULL;
	size_t len = 0, cap;
	int r;

	r = setup_read_optional(s->ctx, HOST_VFIO_MODULES_LOAD, &old, NULL);
	if (r < 0)
		return error_setf(&s->error, r, HOST_VFIO_MODULES_LOAD ": %s", strerror(-r));
	cap = (old ? strlen(old) : 0) + 256;
	new = malloc(cap);
	if (!new)
		return -ENOMEM;
	new[0] = '\0';
	if (!old)
		len = (size_t)sprintf(new, "# The vfio modules PCI passthrough needs, loaded at "
					   "boot.\n# Written by passthru setup.\n");
	for (const char *line = old; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) + 1 : strlen(line);
		_cleanup_strv_free_ char **names = NULL;
		_cleanup_free_ char *copy = strndup(line, n);

		if (!copy)
			return -ENOMEM;
		line += n;
		r = modules_load_parse(copy, &names);
		if (r < 0)
			return r;
		/* A module this kernel does not have makes systemd-modules-load fail. */
		if (names[0] && strcmp(names[0], "vfio_virqfd") == 0 &&
		    !strv_contains(need, "vfio_virqfd"))
			continue;
		if (names[0]) {
			r = strv_push(&have, names[0]);
			if (r < 0)
				return r;
		}
		memcpy(new + len, copy, n);
		len += n;
		if (n > 0 && copy[n - 1] != '\n')
			new[len++] = '\n';
		new[len] = '\0';
	}
	for (size_t i = 0; need[i]; i++)
		if (!strv_contains(have, need[i]))
			len += (size_t)sprintf(new + len, "%s\n", need[i]);
	r = add_change(s, HOST_VFIO_MODULES_LOAD, old, TAKE_PTR(new));
	return r < 0 ? r : 0;
}

/* The modprobe.d blacklist: existing lines kept, missing "blacklist X" lines added. */
static int plan_blacklist(struct passthru_setup *s, bool *ret_changed)
{
	_cleanup_free_ char *old = NULL, *new = NULL;
	size_t len, cap;
	int r;

	*ret_changed = false;
	if (!s->blacklist)
		return 0;
	r = setup_read_optional(s->ctx, HOST_BLACKLIST_CONF, &old, NULL);
	if (r < 0)
		return error_setf(&s->error, r, HOST_BLACKLIST_CONF ": %s", strerror(-r));
	cap = (old ? strlen(old) : 0) + 128 + 80 * strv_length(s->blacklist);
	new = malloc(cap);
	if (!new)
		return -ENOMEM;
	if (old)
		len = (size_t)sprintf(new, "%s%s", old,
				      *old && old[strlen(old) - 1] != '\n' ? "\n" : "");
	else
		len = (size_t)sprintf(new, "# Host drivers kept off passthrough devices.\n"
					   "# Written by passthru setup.\n");
	STRV_FOREACH (d, s->blacklist) {
		_cleanup_free_ char *line = NULL;
		const char *p = old;
		bool listed = false;

		while ((r = text_next_line(&p, &line)) > 0) {
			char *save = NULL, *w = strtok_r(line, " \t", &save);

			if (w && strcmp(w, "blacklist") == 0) {
				w = strtok_r(NULL, " \t", &save);
				if (w && cmdline_key_equal(w, *d))
					listed = true;
			}
		}
		if (r < 0)
			return r;
		if (!listed)
			len += (size_t)sprintf(new + len, "blacklist %s\n", *d);
	}
	r = add_change(s, HOST_BLACKLIST_CONF, old, TAKE_PTR(new));
	if (r < 0)
		return r;
	*ret_changed = r > 0;
	return 0;
}

/* Whether grub.cfg (or the BLS entries) already carry every requirement. */
static int boot_config_current(struct passthru_setup *s, const struct boot_info *b,
			       const struct param_req *reqs, size_t n)
{
	_cleanup_strv_free_ char **lines = NULL;
	int r = host_boot_cmdlines(s->ctx, b, &lines);

	if (r < 0)
		return r;
	STRV_FOREACH (l, lines) {
		_cleanup_cmdline_ struct cmdline *c = NULL;
		bool ok = true;

		r = cmdline_parse(*l, &c);
		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++)
			ok = ok && param_req_satisfied(&c, 1, &reqs[i]);
		if (ok)
			return 1;
	}
	return 0;
}

static int plan_reboot(struct passthru_setup *s, const struct param_req *reqs, size_t n,
		       char *const *need)
{
	_cleanup_free_ char *text = NULL, *lacking = NULL, *unloaded = NULL, *loaded = NULL;
	_cleanup_cmdline_ struct cmdline *c = NULL;
	int r;

	if (root_read_file(s->ctx, "/proc/cmdline", &text, NULL) >= 0) {
		r = cmdline_parse(text, &c);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *want = NULL;

		if (c && param_req_satisfied(&c, 1, &reqs[i]))
			continue;
		r = param_req_format(&reqs[i], &want);
		if (r >= 0)
			r = append_word(&lacking, want);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; need[i]; i++) {
		enum module_state st = host_module_state(s->ctx, need[i]);

		if (st != MODULE_LOADED && st != MODULE_BUILTIN &&
		    (r = append_word(&unloaded, need[i])) < 0)
			return r;
	}
	STRV_FOREACH (d, s->blacklist)
		if (host_module_state(s->ctx, *d) == MODULE_LOADED &&
		    (r = append_word(&loaded, *d)) < 0)
			return r;
	if (lacking && (r = strv_pushf(&s->reboot_reasons,
				       "the running kernel lacks %s "
				       "(/proc/cmdline)",
				       lacking)) < 0)
		return r;
	if (unloaded && (r = strv_pushf(&s->reboot_reasons, "not loaded: %s", unloaded)) < 0)
		return r;
	if (loaded &&
	    (r = strv_pushf(&s->reboot_reasons, "loaded, to be kept off: %s", loaded)) < 0)
		return r;
	return 0;
}

_public_ int passthru_setup_plan(struct passthru_setup *s)
{
	_cleanup_free_ struct param_req *reqs = NULL;
	_cleanup_strv_free_ char **storage = NULL, **need = NULL, **kmsg = NULL;
	struct boot_info boot = {0};
	enum cpu_vendor cpu = CPU_VENDOR_UNKNOWN;
	_cleanup_free_ char *cpu_id = NULL;
	const struct param_req *iommu;
	enum iommu_kind kind, firmware;
	size_t n_iommu = 0, n_reqs = 0;
	_cleanup_strv_free_ char **storage_argv = NULL;
	bool grub_changed = false, blacklist_changed = false, unsafe_set = false, remapping;
	int r, firmware_remapping;

	if (!s)
		return -EINVAL;
	clear_plan(s);

	r = host_cpu_vendor(s->ctx, &cpu, &cpu_id);
	if (r == -ENOMEM)
		return r;
	firmware = host_firmware_iommu(s->ctx);
	kind = host_iommu_for_params(firmware, cpu);
	if (host_read_kmsg(s->ctx, &kmsg) == -ENOMEM)
		return -ENOMEM;
	/* allow_unsafe_interrupts only where interrupt remapping is missing: check's rule. */
	remapping = host_interrupt_remapping(s->ctx, kmsg);
	firmware_remapping = host_firmware_interrupt_remapping(s->ctx, firmware);
	if (firmware_remapping == -ENOMEM)
		return -ENOMEM;
	iommu = host_iommu_params(
	    kind, host_unsafe_interrupts_needed(firmware_remapping, remapping), &n_iommu);
	if (kind == IOMMU_KIND_NONE)
		return error_setf(
		    &s->error, -ENXIO,
		    "cannot tell which IOMMU parameters apply: no DMAR or IVRS table and "
		    "CPU vendor %s (/proc/cpuinfo)",
		    cpu_id ? cpu_id : "unknown");
	r = host_vfio_modules(s->ctx, &need);
	if (r == -EINVAL)
		return error_setf(&s->error, r,
				  "/proc/sys/kernel/osrelease: cannot read the kernel release");
	if (r < 0)
		return r;
	r = check_blacklist_boot_vga(s);
	if (r >= 0)
		r = build_reqs(s, iommu, n_iommu, &reqs, &n_reqs, &storage);
	if (r >= 0)
		r = plan_hugepages(s);
	if (r >= 0)
		r = plan_grub(s, reqs, n_reqs, &grub_changed, &unsafe_set);
	if (r >= 0)
		r = plan_modules_load(s, need);
	if (r >= 0)
		r = plan_blacklist(s, &blacklist_changed);
	if (r >= 0) {
		r = host_boot_info(s->ctx, &boot);
		if (r < 0 && r != -ENOMEM)
			r = error_setf(&s->error, r, "cannot work out the boot configuration: %s",
				       strerror(-r));
	}
	if (r >= 0 && !grub_changed) {
		/* Nothing to edit, but a regeneration may have been missed (or failed) before. */
		r = boot_config_current(s, &boot, reqs, n_reqs);
		if (r >= 0)
			grub_changed = r == 0;
	}
	if (r >= 0 && grub_changed) {
		if (!boot.regen_argv)
			r = error_setf(&s->error, -EOPNOTSUPP, "cannot regenerate grub.cfg: %s",
				       boot.problem);
		else
			r = add_command(s, boot.regen_argv);
	}
	if (r >= 0)
		r = plan_storage(s, &storage_argv);
	if (r >= 0 && blacklist_changed && boot.initrd_argv)
		r = add_command(s, boot.initrd_argv);
	else if (r >= 0 && storage_argv)
		r = add_command(s, storage_argv);
	if (r >= 0)
		r = plan_reboot(s, reqs, n_reqs, need);
	if (r >= 0 && unsafe_set && (remapping || firmware_remapping > 0))
		r = strv_pushf(
		    &s->notes,
		    "vfio_iommu_type1.allow_unsafe_interrupts=1 (" HOST_GRUB_DEFAULT
		    ") weakens the isolation of guests; this host has interrupt "
		    "remapping, which makes it unnecessary: passthru does not set it here");
	boot_info_done(&boot);
	if (r < 0) {
		char *error = TAKE_PTR(s->error);

		clear_plan(s);
		s->error = error ? error : strdup(strerror(-r));
		return r;
	}
	s->planned = true;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Getters                                                                                    */

_public_ const char *passthru_setup_get_error(const struct passthru_setup *setup)
{
	return setup ? setup->error : NULL;
}

_public_ size_t passthru_setup_get_change_count(const struct passthru_setup *setup)
{
	return setup ? setup->n_changes : 0;
}

static const struct change *change_at(const struct passthru_setup *s, size_t i)
{
	return s && i < s->n_changes ? &s->changes[i] : NULL;
}

_public_ const char *passthru_setup_get_change_path(const struct passthru_setup *setup,
						    size_t index)
{
	const struct change *c = change_at(setup, index);

	return c ? c->path : NULL;
}

_public_ const char *passthru_setup_get_change_diff(const struct passthru_setup *setup,
						    size_t index)
{
	const struct change *c = change_at(setup, index);

	return c ? c->diff : NULL;
}

_public_ const char *passthru_setup_get_change_content(const struct passthru_setup *setup,
						       size_t index)
{
	const struct change *c = change_at(setup, index);

	return c ? c->new : NULL;
}

_public_ const char *passthru_setup_get_change_backup(const struct passthru_setup *setup,
						      size_t index)
{
	const struct change *c = change_at(setup, index);

	return c ? c->backup : NULL;
}

_public_ size_t passthru_setup_get_command_count(const struct passthru_setup *setup)
{
	return setup ? setup->n_commands : 0;
}

_public_ const char *const *passthru_setup_get_command_argv(const struct passthru_setup *setup,
							    size_t index)
{
	if (!setup || index >= setup->n_commands)
		return strv_empty;
	return (const char *const *)setup->commands[index].argv;
}

_public_ const char *passthru_setup_get_command_output(const struct passthru_setup *setup,
						       size_t index)
{
	if (!setup || index >= setup->n_commands)
		return NULL;
	return setup->commands[index].output;
}

_public_ int passthru_setup_get_command_status(const struct passthru_setup *setup, size_t index,
					       int *ret)
{
	if (!setup || index >= setup->n_commands || !ret)
		return -EINVAL;
	if (!setup->commands[index].ran)
		return -ENODATA;
	*ret = setup->commands[index].status;
	return 0;
}

_public_ bool passthru_setup_get_reboot_needed(const struct passthru_setup *setup)
{
	return setup && setup->reboot_reasons && setup->reboot_reasons[0];
}

_public_ const char *const *passthru_setup_get_reboot_reasons(const struct passthru_setup *setup)
{
	if (!setup || !setup->reboot_reasons)
		return strv_empty;
	return (const char *const *)setup->reboot_reasons;
}

_public_ const char *const *passthru_setup_get_notes(const struct passthru_setup *setup)
{
	if (!setup || !setup->notes)
		return strv_empty;
	return (const char *const *)setup->notes;
}
