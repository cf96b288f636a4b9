/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Facts about the host's distribution and boot loader, for the readiness checks and the setup:
 * os-release, where the kernel command line of the next boot comes from (GRUB, BLS entries,
 * systemd-boot, the EFI vendor directory) and what it holds, each read through the context's
 * root.
 */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>

#include "grub.h"
#include "host.h"

/* ------------------------------------------------------------------------------------------ */
/* Distribution and boot loader                                                               */

void os_release_done(struct os_release *o)
{
	free(o->id);
	free(o->id_like);
	free(o->version_id);
	free(o->pretty_name);
	*o = (struct os_release){0};
}

/* Unquotes an os-release value: "..." (with \\ escapes), '...' or bare. NULL if malformed. */
static char *unquote_value(const char *v)
{
	size_t n = strlen(v);
	char *out, *p;

	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		char q = v[0];

		out = p = malloc(n);
		if (!out)
			return NULL;
		for (size_t i = 1; i < n - 1; i++) {
			if (q == '"' && v[i] == '\\' && i + 1 < n - 1)
				i++;
			*p++ = v[i];
		}
		*p = '\0';
		return out;
	}
	if (n > 0 && (v[0] == '"' || v[0] == '\''))
		return NULL;
	return strdup(v);
}

int os_release_parse(const char *text, struct os_release *ret)
{
	struct os_release o = {0};
	_cleanup_free_ char *line = NULL;
	const char *p = text;
	int r;

	while ((r = text_next_line(&p, &line)) > 0) {
		char *s = host_strip(line), *eq, **slot = NULL;

		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq)
			continue;
		*eq = '\0';
		if (strcmp(s, "ID") == 0)
			slot = &o.id;
		else if (strcmp(s, "ID_LIKE") == 0)
			slot = &o.id_like;
		else if (strcmp(s, "VERSION_ID") == 0)
			slot = &o.version_id;
		else if (strcmp(s, "PRETTY_NAME") == 0)
			slot = &o.pretty_name;
		if (!slot)
			continue;
		free(*slot);
		*slot = unquote_value(eq + 1);
	}
	if (r < 0) {
		os_release_done(&o);
		return r;
	}
	*ret = o;
	return 0;
}

int host_os_release(struct passthru_ctx *ctx, struct os_release *ret)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = root_read_file(ctx, "/etc/os-release", &text, NULL);
	if (r == -ENOENT)
		r = root_read_file(ctx, "/usr/lib/os-release", &text, NULL);
	if (r < 0)
		return r;
	return os_release_parse(text, ret);
}

/* Whether a space-separated list ("rhel centos fedora") holds word. */
static bool words_contain(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p && *p;) {
		while (*p == ' ')
			p++;
		if (strncmp(p, word, n) == 0 && (p[n] == ' ' || p[n] == '\0'))
			return true;
		p = strchr(p, ' ');
	}
	return false;
}

enum distro_family distro_family_of(const struct os_release *o)
{
	static const struct {
		const char *word;
		enum distro_family family;
	} table[] = {
	    {"rhel", DISTRO_RHEL},     {"centos", DISTRO_RHEL},	   {"fedora", DISTRO_RHEL},
	    {"rocky", DISTRO_RHEL},    {"almalinux", DISTRO_RHEL}, {"ol", DISTRO_RHEL},
	    {"debian", DISTRO_DEBIAN}, {"ubuntu", DISTRO_DEBIAN},  {"suse", DISTRO_SUSE},
	    {"opensuse", DISTRO_SUSE}, {"sles", DISTRO_SUSE},	   {"arch", DISTRO_ARCH},
	};

	/* ID first: Fedora's ID_LIKE is empty, Rocky's is "rhel centos fedora". */
	for (size_t i = 0; i < ELEMENTSOF(table); i++)
		if (o->id && strcmp(o->id, table[i].word) == 0)
			return table[i].family;
	for (size_t i = 0; i < ELEMENTSOF(table); i++)
		if (words_contain(o->id_like, table[i].word))
			return table[i].family;
	return DISTRO_UNKNOWN;
}

void boot_info_done(struct boot_info *b)
{
	free(b->distro);
	free(b->grub_cfg);
	strv_free(b->regen_argv);
	strv_free(b->initrd_argv);
	*b = (struct boot_info){0};
}

static int make_argv(char ***ret, ...)
{
	_cleanup_strv_free_ char **v = NULL;
	va_list ap;
	const char *a;
	int r = 0;

	va_start(ap, ret);
	while (r >= 0 && (a = va_arg(ap, const char *)))
		r = strv_push(&v, a);
	va_end(ap);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(v);
	return 0;
}

/* The directory below /boot/efi/EFI that holds the vendor's grub.cfg (RHEL 7/8 in UEFI mode). */
static int efi_vendor_dir(struct passthru_ctx *ctx, const struct os_release *o, char **ret)
{
	static const struct {
		const char *id, *dir;
	} table[] = {
	    {"rhel", "redhat"}, {"ol", "redhat"},	    {"centos", "centos"},
	    {"rocky", "rocky"}, {"almalinux", "almalinux"}, {"fedora", "fedora"},
	};
	_cleanup_strv_free_ char **dirs = NULL;
	const char *want = NULL;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(table); i++)
		if (o->id && strcmp(o->id, table[i].id) == 0)
			want = table[i].dir;
	if (want) {
		_cleanup_free_ char *p = NULL;

		if (asprintf(&p, "/boot/efi/EFI/%s", want) < 0)
			return -ENOMEM;
		if (root_exists(ctx, p)) {
			*ret = strdup(want);
			return *ret ? 0 : -ENOMEM;
		}
	}
	/* Otherwise the one vendor directory that has a grub.cfg. */
	r = host_list_dir_sorted(ctx, "/boot/efi/EFI", &dirs);
	if (r < 0)
		return r;
	STRV_FOREACH (d, dirs) {
		_cleanup_free_ char *p = NULL;

		if (strcasecmp(*d, "BOOT") == 0)
			continue;
		if (asprintf(&p, "/boot/efi/EFI/%s/grub.cfg", *d) < 0)
			return -ENOMEM;
		if (root_exists(ctx, p)) {
			*ret = strdup(*d);
			return *ret ? 0 : -ENOMEM;
		}
	}
	if (!want && !o->id)
		return -ENOENT;
	*ret = strdup(want ? want : o->id);
	return *ret ? 0 : -ENOMEM;
}

bool host_tool_installed(struct passthru_ctx *ctx, const char *name)
{
	static const char *const dirs[] = {"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"};

	for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
		_cleanup_free_ char *p = NULL;

		if (asprintf(&p, "%s%s", dirs[i], name) < 0)
			return false;
		if (root_exists(ctx, p))
			return true;
	}
	return false;
}

/* "9.4" -> 9, 4; "39" -> 39, 0; missing -> 0, 0. */
static void version_id_split(const char *v, unsigned *major, unsigned *minor)
{
	char *end;
	unsigned long a, b = 0;

	*major = *minor = 0;
	if (!v || !isdigit((unsigned char)*v))
		return;
	a = strtoul(v, &end, 10);
	if (*end == '.' && isdigit((unsigned char)end[1]))
		b = strtoul(end + 1, NULL, 10);
	*major = a > 1000 ? 1000 : (unsigned)a;
	*minor = b > 1000 ? 1000 : (unsigned)b;
}

static int rhel_boot(struct passthru_ctx *ctx, const struct os_release *o, struct boot_info *b)
{
	unsigned major, minor;
	bool fedora = o->id && strcmp(o->id, "fedora") == 0, unified, bls_opt;
	int r;

	version_id_split(o->version_id, &major, &minor);
	/* Fedora 34 and RHEL 9 made the EFI grub.cfg a stub that loads /boot/grub2/grub.cfg. */
	unified = fedora ? major >= 34 : major >= 9;
	bls_opt = fedora ? major >= 39 : (major > 9 || (major == 9 && minor >= 3));
	if (b->uefi && !unified) {
		_cleanup_free_ char *dir = NULL;

		r = efi_vendor_dir(ctx, o, &dir);
		if (r == -ENOENT) {
			b->problem = "no vendor directory below /boot/efi/EFI";
			return 0;
		}
		if (r < 0)
			return r;
		if (asprintf(&b->grub_cfg, "/boot/efi/EFI/%s/grub.cfg", dir) < 0) {
			b->grub_cfg = NULL;
			return -ENOMEM;
		}
	} else {
		b->grub_cfg = strdup("/boot/grub2/grub.cfg");
		if (!b->grub_cfg)
			return -ENOMEM;
	}
	if (bls_opt)
		return make_argv(&b->regen_argv, "grub2-mkconfig", "-o", b->grub_cfg,
				 "--update-bls-cmdline", NULL);
	return make_argv(&b->regen_argv, "grub2-mkconfig", "-o", b->grub_cfg, NULL);
}

int host_boot_info(struct passthru_ctx *ctx, struct boot_info *ret)
{
	struct os_release o = {0};
	struct boot_info b = {0};
	int r;

	b.uefi = root_exists(ctx, "/sys/firmware/efi");
	r = host_os_release(ctx, &o);
	if (r < 0 && r != -ENOENT)
		return r;
	b.family = distro_family_of(&o);
	b.distro = strdup(o.pretty_name ? o.pretty_name : o.id ? o.id : "unknown distribution");
	b.bls = root_exists(ctx, "/boot/loader/entries");
	r = b.distro ? 0 : -ENOMEM;

	switch (r < 0 ? DISTRO_UNKNOWN : b.family) {
	case DISTRO_RHEL:
		r = rhel_boot(ctx, &o, &b);
		break;
	case DISTRO_DEBIAN:
		/* Debian's EFI grub.cfg is a stub too: /boot/grub/grub.cfg in both modes. */
		b.grub_cfg = strdup("/boot/grub/grub.cfg");
		if (!b.grub_cfg)
			r = -ENOMEM;
		else if (host_tool_installed(ctx, "update-grub") ||
			 !host_tool_installed(ctx, "grub-mkconfig"))
			r = make_argv(&b.regen_argv, "update-grub", NULL);
		else
			r = make_argv(&b.regen_argv, "grub-mkconfig", "-o", b.grub_cfg, NULL);
		if (r >= 0)
			r = make_argv(&b.initrd_argv, "update-initramfs", "-u", "-k", "all", NULL);
		break;
	case DISTRO_SUSE:
		b.grub_cfg = strdup("/boot/grub2/grub.cfg");
		r = b.grub_cfg ? make_argv(&b.regen_argv, "grub2-mkconfig", "-o", b.grub_cfg, NULL)
			       : -ENOMEM;
		break;
	case DISTRO_ARCH:
		b.grub_cfg = strdup("/boot/grub/grub.cfg");
		r = b.grub_cfg ? make_argv(&b.regen_argv, "grub-mkconfig", "-o", b.grub_cfg, NULL)
			       : -ENOMEM;
		break;
	default:
		if (r < 0)
			break;
		/* Unknown distribution: go by the grub.cfg that exists. */
		if (root_exists(ctx, "/boot/grub2/grub.cfg")) {
			b.grub_cfg = strdup("/boot/grub2/grub.cfg");
			r = b.grub_cfg
				? make_argv(&b.regen_argv, "grub2-mkconfig", "-o", b.grub_cfg, NULL)
				: -ENOMEM;
		} else if (root_exists(ctx, "/boot/grub/grub.cfg")) {
			b.grub_cfg = strdup("/boot/grub/grub.cfg");
			r = b.grub_cfg
				? make_argv(&b.regen_argv, "grub-mkconfig", "-o", b.grub_cfg, NULL)
				: -ENOMEM;
		} else {
			b.problem = "unknown distribution (/etc/os-release) and no grub.cfg found";
		}
		break;
	}
	os_release_done(&o);
	if (r < 0) {
		boot_info_done(&b);
		return r;
	}
	*ret = b;
	return 0;
}

/* "kernelopts=root=/dev/sda1 ro" from a grubenv block. */
static char *grubenv_get(const char *env, const char *key)
{
	size_t n = strlen(key);

	for (const char *line = env; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (len > n && strncmp(line, key, n) == 0 && line[n] == '=')
			return strndup(line + n + 1, len - n - 1);
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* The options line of a BLS entry, $kernelopts expanded. */
static int bls_entry_options(const char *text, const char *grubenv, char **ret)
{
	_cleanup_free_ char *line = NULL;
	const char *p = text;
	int r;

	while ((r = text_next_line(&p, &line)) > 0) {
		char *s = host_strip(line);

		if (strncmp(s, "options", 7) != 0 || !isspace((unsigned char)s[7]))
			continue;
		s = host_strip(s + 7);
		if (strstr(s, "$kernelopts")) {
			_cleanup_free_ char *opts =
			    grubenv ? grubenv_get(grubenv, "kernelopts") : NULL;
			char *pos = strstr(s, "$kernelopts"), *out;

			if (asprintf(&out, "%.*s%s%s", (int)(pos - s), s, opts ? opts : "",
				     pos + strlen("$kernelopts")) < 0)
				return -ENOMEM;
			*ret = out;
			return 0;
		}
		*ret = strdup(s);
		return *ret ? 0 : -ENOMEM;
	}
	if (r < 0)
		return r;
	*ret = NULL;
	return 0;
}

int host_boot_cmdlines(struct passthru_ctx *ctx, const struct boot_info *b, char ***ret)
{
	_cleanup_strv_free_ char **v = NULL;
	_cleanup_free_ char *cfg = NULL;
	int r;

	if (b->grub_cfg && root_read_file(ctx, b->grub_cfg, &cfg, NULL) >= 0) {
		_cleanup_free_ char *line = NULL;
		const char *p = cfg;

		while ((r = text_next_line(&p, &line)) > 0) {
			char *s = host_strip(line), *rest;

			if (strncmp(s, "linux", 5) != 0)
				continue;
			rest = s + 5;
			if (strncmp(rest, "16", 2) == 0)
				rest += 2;
			else if (strncmp(rest, "efi", 3) == 0)
				rest += 3;
			if (!isspace((unsigned char)*rest))
				continue;
			/* The kernel image, then its command line. */
			rest = host_strip(rest);
			rest += strcspn(rest, " \t");
			r = strv_push(&v, host_strip(rest));
			if (r < 0)
				return r;
		}
		if (r < 0)
			return r;
	}
	if (b->bls) {
		_cleanup_free_ char *env = NULL;
		_cleanup_strv_free_ char **names = NULL;

		(void)root_read_file(ctx, "/boot/grub2/grubenv", &env, NULL);
		r = host_list_dir_sorted(ctx, "/boot/loader/entries", &names);
		if (r < 0)
			return r;
		STRV_FOREACH (n, names) {
			_cleanup_free_ char *path = NULL, *text = NULL, *opts = NULL;
			size_t len = strlen(*n);

			if (len < 5 || strcmp(*n + len - 5, ".conf") != 0)
				continue;
			if (asprintf(&path, "/boot/loader/entries/%s", *n) < 0)
				return -ENOMEM;
			if (root_read_file(ctx, path, &text, NULL) < 0)
				continue;
			r = bls_entry_options(text, env, &opts);
			if (r < 0)
				return r;
			if (opts) {
				r = strv_consume(&v, TAKE_PTR(opts));
				if (r < 0)
					return r;
			}
		}
	}
	*ret = TAKE_PTR(v);
	return 0;
}

char *argv_join(char *const *argv)
{
	size_t len = 1;
	char *s, *p;

	for (size_t i = 0; argv && argv[i]; i++)
		len += strlen(argv[i]) + 3;
	s = p = malloc(len);
	if (!s)
		return NULL;
	*p = '\0';
	for (size_t i = 0; argv && argv[i]; i++) {
		bool quote = strpbrk(argv[i], " \t") != NULL;

		p += sprintf(p, "%s%s%s%s", p == s ? "" : " ", quote ? "'" : "", argv[i],
			     quote ? "'" : "");
	}
	return s;
}
