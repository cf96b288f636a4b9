/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Facts about the host for the readiness checks and the setup: what the firmware, the kernel and
 * the distribution say, each read through the context's root. What the distribution and its
 * boot loader say is in host-boot.c.
 */
#include <ctype.h>
#include <fcntl.h>
#include <libkmod.h>
#include <limits.h>

#include "acpi.h"
#include "grub.h"
#include "host.h"
#include "kver.h"
#include "modules.h"

/* ------------------------------------------------------------------------------------------ */
/* CPU and IOMMU                                                                              */

char *host_strip(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return strip_trailing(s);
}

int cpuinfo_parse_vendor(const char *text, char **ret)
{
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (len > 9 && strncmp(line, "vendor_id", 9) == 0 &&
		    (line[9] == ' ' || line[9] == '\t' || line[9] == ':')) {
			_cleanup_free_ char *copy = strndup(line, len);
			char *colon, *v;

			if (!copy)
				return -ENOMEM;
			colon = strchr(copy, ':');
			if (!colon)
				return -EBADMSG;
			v = host_strip(colon + 1);
			if (!*v)
				return -EBADMSG;
			*ret = strdup(v);
			return *ret ? 0 : -ENOMEM;
		}
		line = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

enum cpu_vendor cpu_vendor_from_id(const char *vendor_id)
{
	if (!vendor_id)
		return CPU_VENDOR_UNKNOWN;
	if (strcmp(vendor_id, "GenuineIntel") == 0)
		return CPU_VENDOR_INTEL;
	/* Hygon's Dhyana is a Zen licensee: AMD-Vi, amd_iommu, the same parameters. */
	if (strcmp(vendor_id, "AuthenticAMD") == 0 || strcmp(vendor_id, "HygonGenuine") == 0)
		return CPU_VENDOR_AMD;
	return CPU_VENDOR_OTHER;
}

const char *cpu_vendor_name(enum cpu_vendor v)
{
	switch (v) {
	case CPU_VENDOR_INTEL:
		return "Intel";
	case CPU_VENDOR_AMD:
		return "AMD";
	case CPU_VENDOR_OTHER:
		return "other";
	default:
		return "unknown";
	}
}

int host_cpu_vendor(struct passthru_ctx *ctx, enum cpu_vendor *ret, char **ret_id)
{
	_cleanup_free_ char *text = NULL, *id = NULL;
	int r;

	r = root_read_file(ctx, "/proc/cpuinfo", &text, NULL);
	if (r < 0)
		return r;
	r = cpuinfo_parse_vendor(text, &id);
	if (r < 0)
		return r;
	*ret = cpu_vendor_from_id(id);
	if (ret_id)
		*ret_id = TAKE_PTR(id);
	return 0;
}

const char *iommu_kind_name(enum iommu_kind k)
{
	switch (k) {
	case IOMMU_KIND_INTEL:
		return "Intel VT-d";
	case IOMMU_KIND_AMD:
		return "AMD-Vi";
	default:
		return "none";
	}
}

/* ACPI tables are exported as their signature, numbered from the second one on ("DMAR1"). */
static bool acpi_table_present(struct passthru_ctx *ctx, const char *sig)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	size_t n = strlen(sig);

	if (root_opendir(ctx, "/sys/firmware/acpi/tables", &d) < 0)
		return false;
	while ((de = readdir(d))) {
		const char *rest = de->d_name + n;

		if (strncmp(de->d_name, sig, n) != 0)
			continue;
		while (*rest >= '0' && *rest <= '9')
			rest++;
		if (!*rest)
			return true;
	}
	return false;
}

enum iommu_kind host_firmware_iommu(struct passthru_ctx *ctx)
{
	if (acpi_table_present(ctx, "DMAR"))
		return IOMMU_KIND_INTEL;
	if (acpi_table_present(ctx, "IVRS"))
		return IOMMU_KIND_AMD;
	return IOMMU_KIND_NONE;
}

enum iommu_kind host_iommu_for_params(enum iommu_kind firmware, enum cpu_vendor cpu)
{
	if (firmware != IOMMU_KIND_NONE)
		return firmware;
	if (cpu == CPU_VENDOR_INTEL)
		return IOMMU_KIND_INTEL;
	if (cpu == CPU_VENDOR_AMD)
		return IOMMU_KIND_AMD;
	return IOMMU_KIND_NONE;
}

const struct param_req host_unsafe_interrupts_param = {
    PARAM_REQ_SET, "vfio_iommu_type1.allow_unsafe_interrupts", "1", 0};

const struct param_req *host_iommu_params(enum iommu_kind kind, bool unsafe_interrupts,
					  size_t *ret_n)
{
	static const struct param_req intel[] = {
	    {PARAM_REQ_SET, "intel_iommu", "on", 0},
	    {PARAM_REQ_SET, "iommu", "pt", 0},
	    {PARAM_REQ_SET, "vfio_iommu_type1.allow_unsafe_interrupts", "1", 0},
	};
	/* amd_iommu is on by default; only an explicit "off" must go. */
	static const struct param_req amd[] = {
	    {PARAM_REQ_NOT, "amd_iommu", "off", 0},
	    {PARAM_REQ_SET, "iommu", "pt", 0},
	    {PARAM_REQ_SET, "vfio_iommu_type1.allow_unsafe_interrupts", "1", 0},
	};

	/* allow_unsafe_interrupts comes last in both: leaving it out is one element less. */
	switch (kind) {
	case IOMMU_KIND_INTEL:
		*ret_n = ELEMENTSOF(intel) - !unsafe_interrupts;
		return intel;
	case IOMMU_KIND_AMD:
		*ret_n = ELEMENTSOF(amd) - !unsafe_interrupts;
		return amd;
	default:
		*ret_n = 0;
		return NULL;
	}
}

bool host_interrupt_remapping(struct passthru_ctx *ctx, char *const *kmsg)
{
	_cleanup_free_ char *irqs = NULL;

	/* Remapped interrupt domains are named "IR-PCI-MSI", "IR-IO-APIC", "IR-PCI-MSIX-...". */
	if (root_read_file(ctx, "/proc/interrupts", &irqs, NULL) >= 0)
		for (const char *p = strstr(irqs, "IR-"); p; p = strstr(p + 3, "IR-"))
			if (p == irqs || isspace((unsigned char)p[-1]))
				return true;
	for (size_t i = 0; kmsg && kmsg[i]; i++)
		if (strstr(kmsg[i], "Enabled IRQ remapping") ||
		    strstr(kmsg[i], "Interrupt remapping enabled"))
			return true;
	return false;
}

int host_firmware_interrupt_remapping(struct passthru_ctx *ctx, enum iommu_kind kind)
{
	_cleanup_free_ char *table = NULL;
	size_t len = 0;
	int r;

	/* The first table of each signature is the one without a number. */
	switch (kind) {
	case IOMMU_KIND_INTEL:
		r = root_read_file(ctx, "/sys/firmware/acpi/tables/DMAR", &table, &len);
		return r < 0 ? r : acpi_dmar_interrupt_remapping((const uint8_t *)table, len);
	case IOMMU_KIND_AMD:
		r = root_read_file(ctx, "/sys/firmware/acpi/tables/IVRS", &table, &len);
		return r < 0 ? r : acpi_ivrs_interrupt_remapping((const uint8_t *)table, len);
	default:
		return -ENOENT;
	}
}

bool host_unsafe_interrupts_needed(int firmware_remapping, bool running_remapping)
{
	return firmware_remapping == 0 && !running_remapping;
}

int host_list_dir_sorted(struct passthru_ctx *ctx, const char *path, char ***ret)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_strv_free_ char **v = NULL;
	struct dirent *de;
	int r;

	r = root_opendir(ctx, path, &d);
	if (r == -ENOENT) {
		*ret = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		r = strv_push(&v, de->d_name);
		if (r < 0)
			return r;
	}
	strv_sort(v);
	*ret = TAKE_PTR(v);
	return 0;
}

int host_iommu_units(struct passthru_ctx *ctx, char ***ret)
{
	return host_list_dir_sorted(ctx, "/sys/class/iommu", ret);
}

int host_iommu_group_count(struct passthru_ctx *ctx, unsigned *ret)
{
	_cleanup_strv_free_ char **v = NULL;
	int r = host_list_dir_sorted(ctx, "/sys/kernel/iommu_groups", &v);

	if (r < 0)
		return r;
	*ret = (unsigned)strv_length(v);
	return 0;
}

/*
 * A device outside every group on a host with groups is outside every DMAR/IVRS scope, or
 * ignored by a quirk. A group count that cannot be read says nothing of the IOMMU being on.
 */
int host_ungrouped_reason(struct passthru_ctx *ctx, char **ret)
{
	unsigned groups = 0;
	char *s;

	if (host_iommu_group_count(ctx, &groups) < 0 || groups == 0) {
		s = strdup("it is in no IOMMU group: the IOMMU is off or absent");
		if (!s)
			return -ENOMEM;
		*ret = s;
		return 0;
	}
	if (asprintf(&s,
		     "it is in no IOMMU group, although the IOMMU is on (%u groups): the IOMMU "
		     "does not cover it, so no VM can have it",
		     groups) < 0)
		return -ENOMEM;
	*ret = s;
	return 1;
}

/* ------------------------------------------------------------------------------------------ */
/* Kernel log                                                                                 */

/* "6,339,5140900,-;" or "6,339,5140900,-,caller=T1;": the length of the prefix, else 0. */
static size_t kmsg_prefix(const char *line, size_t len)
{
	size_t i = 0;
	int commas = 0;

	if (len == 0 || !isdigit((unsigned char)line[0]))
		return 0;
	for (; i < len && line[i] != ';'; i++) {
		if (line[i] == ',')
			commas++;
		else if (commas < 3 && !isdigit((unsigned char)line[i]))
			return 0;
	}
	if (i == len || commas < 3)
		return 0;
	return i + 1;
}

int kmsg_parse(const char *buf, size_t len, char ***ret)
{
	_cleanup_strv_free_ char **v = NULL;
	size_t i = 0;
	int r;

	while (i < len) {
		const char *line = buf + i, *nl = memchr(line, '\n', len - i);
		size_t n = nl ? (size_t)(nl - line) : len - i, skip;

		i += n + (nl ? 1 : 0);
		/* " SUBSYSTEM=pci" and friends continue the record before. */
		if (n == 0 || line[0] == ' ')
			continue;
		skip = kmsg_prefix(line, n);
		if (memchr(line, '\0', n))
			continue;
		r = strv_consume(&v, strndup(line + skip, n - skip));
		if (r < 0)
			return r;
	}
	if (strv_ensure(&v) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(v);
	return 0;
}

int host_read_kmsg(struct passthru_ctx *ctx, char ***ret)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, size = 0;
	/* A /dev/kmsg read returns one record and fails with EINVAL if it does not fit. */
	const size_t record_max = 8192, total_max = 32 * 1024 * 1024;

	fd = root_open(ctx, "/dev/kmsg", O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0)
		return fd;
	for (;;) {
		ssize_t n;

		if (size - len < record_max + 1) {
			size_t nsize = size ? size * 2 : 65536;
			char *nbuf;

			if (nsize > total_max)
				break;
			nbuf = realloc(buf, nsize);
			if (!nbuf)
				return -ENOMEM;
			buf = nbuf;
			size = nsize;
		}
		n = read(fd, buf + len, record_max);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* EPIPE: records were overwritten while we read; go on with the next. */
			if (errno == EPIPE)
				continue;
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		/* Records from the device end in '\n' already; a regular file may not. */
	}
	return kmsg_parse(buf ? buf : "", len, ret);
}

/* ------------------------------------------------------------------------------------------ */
/* Kernel modules                                                                             */

static char *module_name_normalize(const char *name)
{
	char *s = strdup(name);

	for (char *p = s; p && *p; p++)
		if (*p == '-')
			*p = '_';
	return s;
}

enum module_state host_module_state(struct passthru_ctx *ctx, const char *name)
{
	_cleanup_free_ char *n = module_name_normalize(name), *path = NULL, *state = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	if (!n || strchr(n, '/') || asprintf(&path, "/sys/module/%s", n) < 0)
		return MODULE_ABSENT;
	fd = root_open_dir(ctx, path);
	if (fd < 0)
		return MODULE_ABSENT;
	r = attr_read_at(fd, "initstate", &state);
	if (r == -ENOENT)
		return MODULE_BUILTIN;
	if (r < 0)
		return MODULE_ABSENT;
	if (strcmp(state, "live") == 0)
		return MODULE_LOADED;
	return MODULE_CHANGING;
}

int host_module_exists(struct passthru_ctx *ctx, const char *name)
{
	const char *release = passthru_ctx_get_kernel_release(ctx);
	static const char *const no_config[] = {NULL};
	_cleanup_free_ char *dir = NULL, *index = NULL;
	struct kmod_module *mod = NULL;
	struct kmod_ctx *k;
	int r;

	if (!release)
		return -ENOENT;
	if (asprintf(&index, "/lib/modules/%s/modules.dep.bin", release) < 0)
		return -ENOMEM;
	if (!root_exists(ctx, index))
		return -ENOENT;
	r = root_path(ctx, index, &dir);
	if (r < 0)
		return r;
	*strrchr(dir, '/') = '\0';
	/* No configuration: aliases and blacklists do not change whether a module exists. */
	k = kmod_new(dir, no_config);
	if (!k)
		return -ENOMEM;
	kmod_set_log_fn(k, kmod_log_forward, ctx);
	r = kmod_module_new_from_name_lookup(k, name, &mod);
	if (r >= 0)
		r = mod ? 1 : 0;
	kmod_module_unref(mod);
	kmod_unref(k);
	return r;
}

int host_vfio_modules(struct passthru_ctx *ctx, char ***ret)
{
	_cleanup_strv_free_ char **v = NULL;
	const char *release = passthru_ctx_get_kernel_release(ctx);
	struct kver kv;
	bool virqfd;
	int r;

	if (!release || kver_parse(release, &kv) < 0)
		return -EINVAL;
	virqfd = kver_has_vfio_virqfd(&kv);
	/* A distribution kernel may have merged it earlier than 6.2: its module index knows. */
	r = host_module_exists(ctx, "vfio_virqfd");
	if (r >= 0) {
		if ((r > 0) != virqfd)
			log_debug(ctx, "kernel %s %s vfio_virqfd, against the 6.2 rule", release,
				  r > 0 ? "has" : "does not have");
		virqfd = r > 0;
	}
	r = strv_push(&v, "vfio");
	if (r >= 0)
		r = strv_push(&v, "vfio_iommu_type1");
	if (r >= 0)
		r = strv_push(&v, "vfio_pci");
	if (r >= 0 && virqfd)
		r = strv_push(&v, "vfio_virqfd");
	if (r < 0)
		return r;
	*ret = TAKE_PTR(v);
	return 0;
}

int modules_load_parse(const char *text, char ***ret)
{
	_cleanup_strv_free_ char **v = NULL;
	_cleanup_free_ char *line = NULL;
	const char *p = text;
	int r;

	while ((r = text_next_line(&p, &line)) > 0) {
		char *s = host_strip(line);

		/* modules-load.d(5): '#' and ';' start comments. */
		if (!*s || *s == '#' || *s == ';')
			continue;
		r = strv_consume(&v, module_name_normalize(s));
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	if (strv_ensure(&v) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(v);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Memory                                                                                     */

static int cmp_pool(const void *a, const void *b)
{
	const struct hugepage_pool *x = a, *y = b;

	return x->kib < y->kib ? -1 : x->kib > y->kib;
}

int host_hugepage_pools(struct passthru_ctx *ctx, struct hugepage_pool **ret, size_t *ret_n)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ struct hugepage_pool *v = NULL;
	struct dirent *de;
	size_t n = 0;
	int r;

	r = root_opendir(ctx, "/sys/kernel/mm/hugepages", &d);
	if (r < 0)
		return r;
	while ((de = readdir(d))) {
		_cleanup_close_ int fd = -1;
		struct hugepage_pool p = {0};
		char *end;
		long nr = 0, fr = 0;

		if (strncmp(de->d_name, "hugepages-", 10) != 0)
			continue;
		errno = 0;
		p.kib = strtoull(de->d_name + 10, &end, 10);
		if (errno || strcmp(end, "kB") != 0 || p.kib == 0)
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (attr_read_long_at(fd, "nr_hugepages", 0, LONG_MAX, &nr) < 0)
			nr = 0;
		if (attr_read_long_at(fd, "free_hugepages", 0, LONG_MAX, &fr) < 0)
			fr = 0;
		p.nr = (unsigned long)nr;
		p.free = (unsigned long)fr;
		{
			struct hugepage_pool *nv = ARRAY_GROW(v, n);

			if (!nv)
				return -ENOMEM;
			*nv = p;
			n++;
		}
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_pool);
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

int meminfo_parse(const char *text, const char *key, unsigned long long *ret)
{
	size_t n = strlen(key);

	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (len > n && strncmp(line, key, n) == 0 && line[n] == ':') {
			_cleanup_free_ char *copy = strndup(line + n + 1, len - n - 1);
			char *s, *end;
			unsigned long long v;

			if (!copy)
				return -ENOMEM;
			s = host_strip(copy);
			if (!isdigit((unsigned char)*s))
				return -EBADMSG;
			errno = 0;
			v = strtoull(s, &end, 10);
			if (errno)
				return -EBADMSG;
			end = host_strip(end);
			if (*end && strcmp(end, "kB") != 0)
				return -EBADMSG;
			*ret = v;
			return 0;
		}
		line = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

int host_meminfo(struct passthru_ctx *ctx, const char *key, unsigned long long *ret)
{
	_cleanup_free_ char *text = NULL;
	int r = root_read_file(ctx, "/proc/meminfo", &text, NULL);

	if (r < 0)
		return r;
	return meminfo_parse(text, key, ret);
}

bool driver_is_display(const char *driver)
{
	static const char *const display[] = {"nouveau", "nvidia", "nvidia_drm", "amdgpu",
					      "radeon",	 "i915",   "xe"};
	_cleanup_free_ char *n = module_name_normalize(driver);

	for (size_t i = 0; n && i < ELEMENTSOF(display); i++)
		if (strcmp(n, display[i]) == 0)
			return true;
	return false;
}

/* Whether a snippet's command line sets something against r. *ret_what gets the token. */
static bool snippet_conflicts(const struct cmdline *c, const struct param_req *r,
			      const char **ret_what)
{
	size_t n = cmdline_n_params(c);

	for (size_t i = 0; i < n; i++) {
		const struct cmdline_token *t = &c->tokens[i];
		bool bad = false;

		switch (r->kind) {
		case PARAM_REQ_SET:
			bad = cmdline_key_equal(t->key, r->key) &&
			      !param_value_acceptable(r->key, t->value, r->value);
			break;
		case PARAM_REQ_NOT:
			bad = cmdline_key_equal(t->key, r->key) &&
			      cmdline_list_contains(t->value, r->value);
			break;
		case PARAM_REQ_HUGEPAGES:
			bad = cmdline_key_equal(t->key, "hugepages") ||
			      cmdline_key_equal(t->key, "hugepagesz");
			break;
		case PARAM_REQ_MEMBER:
			break;
		}
		if (bad) {
			*ret_what = t->text;
			return true;
		}
	}
	return false;
}

int host_grub_snippets_check(struct passthru_ctx *ctx, const struct param_req *reqs, size_t n,
			     char **ret_error)
{
	_cleanup_strv_free_ char **names = NULL;
	int r;

	r = host_list_dir_sorted(ctx, HOST_GRUB_DEFAULT_D, &names);
	if (r < 0)
		return r;
	STRV_FOREACH (name, names) {
		_cleanup_free_ char *path = NULL, *text = NULL;
		_cleanup_grub_default_ struct grub_default *g = NULL;
		struct grub_error err = {0};
		size_t len = strlen(*name), tlen;

		if (len < 4 || strcmp(*name + len - 4, ".cfg") != 0)
			continue;
		if (asprintf(&path, HOST_GRUB_DEFAULT_D "/%s", *name) < 0)
			return -ENOMEM;
		r = root_read_file(ctx, path, &text, &tlen);
		if (r < 0)
			continue;
		r = grub_default_parse(text, tlen, true, &g, &err);
		if (r == -EBADMSG) {
			r = grub_error_format(&err, path, ret_error);
			return r < 0 ? r : -EBADMSG;
		}
		if (r < 0)
			return r;
		for (int id = 0; id < _GRUB_VAR_MAX; id++) {
			const struct grub_var *v = &g->vars[id];
			_cleanup_cmdline_ struct cmdline *c = NULL;
			const char *what = NULL;

			if (!v->present)
				continue;
			if (id == GRUB_VAR_LINUX && !v->self_append) {
				r = asprintf(ret_error,
					     "%s:%u: GRUB_CMDLINE_LINUX replaces the one "
					     "of " HOST_GRUB_DEFAULT,
					     path, v->line);
				return r < 0 ? -ENOMEM : -EBADMSG;
			}
			r = cmdline_parse(v->value, &c);
			if (r < 0)
				return r;
			for (size_t k = 0; k < n; k++) {
				_cleanup_free_ char *want = NULL;

				if (!snippet_conflicts(c, &reqs[k], &what))
					continue;
				r = param_req_format(&reqs[k], &want);
				if (r < 0)
					return r;
				r = asprintf(ret_error, "%s:%u: %s sets %s, against %s", path,
					     v->line, grub_var_name(id), what, want);
				return r < 0 ? -ENOMEM : -EBADMSG;
			}
		}
	}
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int pci_config_find_acs(const uint8_t *cfg, size_t len, uint16_t *ret_cap, uint16_t *ret_ctrl)
{
	size_t off = 0x100;

	if (len < 0x104)
		return -ENODATA;
	/* Each capability is at least 4 bytes in a 4 KiB space: more hops than that is a loop. */
	for (int hops = 0; hops < 1024; hops++) {
		uint32_t hdr;

		if (off < 0x100 || off + 4 > len)
			return 0;
		hdr = le32(cfg + off);
		if (hdr == 0 || hdr == 0xffffffff)
			return 0;
		if ((hdr & 0xffff) == 0x000d) {
			if (off + 8 > len)
				return 0;
			*ret_cap = (uint16_t)(cfg[off + 4] | cfg[off + 5] << 8);
			*ret_ctrl = (uint16_t)(cfg[off + 6] | cfg[off + 7] << 8);
			return 1;
		}
		off = (hdr >> 20) & 0xffc;
		if (off == 0)
			return 0;
	}
	return 0;
}
