// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The parser of kubernetes.d and the grouping of matching functions into devices (see
 * kubernetes-config.h). No I/O: fuzzed by fuzz/fuzz-kubernetes-config.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kubernetes-config.h"
#include "passthru.h"

static void resource_done(struct kube_resource *r)
{
	free(r->name);
	free(r->type);
	free(r->file);
}

void kube_config_done(struct kube_config *cfg)
{
	for (size_t i = 0; i < cfg->n; i++)
		resource_done(&cfg->v[i]);
	free(cfg->v);
	for (size_t i = 0; i < cfg->n_problems; i++)
		free(cfg->problems[i]);
	free(cfg->problems);
	for (size_t i = 0; i < cfg->n_files; i++)
		free(cfg->files[i].path);
	free(cfg->files);
	*cfg = (struct kube_config){};
}

/* FNV-1a: a change of a file is told by its digest, not kept as a copy of its text. */
static uint64_t text_digest(const char *text, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)text[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

int kube_config_add_file(struct kube_config *cfg, const char *file, const char *text, size_t len)
{
	struct kube_file *v = realloc(cfg->files, (cfg->n_files + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	cfg->files = v;
	v[cfg->n_files].path = strdup(file);
	if (!v[cfg->n_files].path)
		return -ENOMEM;
	v[cfg->n_files].digest = text_digest(text, len);
	cfg->n_files++;
	return 0;
}

const struct kube_file *kube_config_problem_file(const struct kube_config *cfg, const char *problem)
{
	for (size_t i = 0; i < cfg->n_files; i++) {
		size_t len = strlen(cfg->files[i].path);

		if (strncmp(problem, cfg->files[i].path, len) == 0 && problem[len] == ':')
			return &cfg->files[i];
	}
	return NULL;
}

static int add_problem_v(struct kube_config *cfg, const char *format, va_list ap)
{
	char **v = realloc(cfg->problems, (cfg->n_problems + 2) * sizeof(*v));
	char *s;

	if (!v)
		return -ENOMEM;
	cfg->problems = v;
	if (vasprintf(&s, format, ap) < 0)
		return -ENOMEM;
	v[cfg->n_problems++] = s;
	v[cfg->n_problems] = NULL;
	return 0;
}

int kube_config_add_problem(struct kube_config *cfg, const char *format, ...)
{
	va_list ap;
	int r;

	va_start(ap, format);
	r = add_problem_v(cfg, format, ap);
	va_end(ap);
	return r;
}

const struct kube_resource *kube_config_find(const struct kube_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n; i++)
		if (strcmp(cfg->v[i].name, name) == 0)
			return &cfg->v[i];
	return NULL;
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A DNS subdomain (RFC 1123): lower-case labels of [a-z0-9-], alnum at both ends, dots between. */
static bool domain_is_valid(const char *s, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && s[len - 1] != '-';
}

bool kube_resource_name_is_valid(const char *name)
{
	const char *slash = strchr(name, '/');
	const char *n;
	size_t len;

	/* The device manager takes only names with a domain ("vendor-domain/resourcetype"). */
	if (!slash || !domain_is_valid(name, (size_t)(slash - name)))
		return false;
	n = slash + 1;
	len = strlen(n);
	if (len == 0 || len > 63 || !is_alnum(n[0]) || !is_alnum(n[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(n[i]) && n[i] != '-' && n[i] != '_' && n[i] != '.')
			return false;
	return true;
}

char *kube_resource_env_name(const char *name)
{
	static const char prefix[] = "PCI_RESOURCE_";
	size_t len = strlen(name);
	char *s = malloc(sizeof(prefix) + len);

	if (!s)
		return NULL;
	memcpy(s, prefix, sizeof(prefix) - 1);
	for (size_t i = 0; i <= len; i++) {
		char c = name[i];

		s[sizeof(prefix) - 1 + i] =
		    c == '/' || c == '.' ? '_' : (char)toupper((unsigned char)c);
	}
	return s;
}

static int hex4(const char *s, int *ret)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			v = v * 16 + (c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v * 16 + (c - 'A' + 10);
		else
			return -EINVAL;
	}
	*ret = v;
	return 0;
}

/* Parses one selector into r; returns NULL or a static message. */
static const char *parse_selector(struct kube_resource *r, const char *word)
{
	if (strncmp(word, "id=", 3) == 0) {
		const char *v = word + 3;

		if (r->vendor_id >= 0)
			return "id= given twice";
		if (strlen(v) != 9 || v[4] != ':' || hex4(v, &r->vendor_id) < 0 ||
		    hex4(v + 5, &r->device_id) < 0) {
			r->vendor_id = r->device_id = -1;
			return "id= needs VVVV:DDDD (4 hex digits each)";
		}
		return NULL;
	}
	if (strncmp(word, "type=", 5) == 0) {
		const char *v = word + 5;

		if (r->type)
			return "type= given twice";
		if (!passthru_type_name_is_valid(v) && !passthru_type_name_is_builtin(v))
			return "type= needs a type name (GPU-VGA, GPU-HPC, NIC, NVME, PCI or a "
			       "custom type)";
		r->type = strdup(v);
		return r->type ? NULL : "out of memory";
	}
	if (strncmp(word, "numa=", 5) == 0) {
		const char *v = word + 5;
		char *end;
		long n;

		if (r->numa_node >= 0)
			return "numa= given twice";
		if (*v < '0' || *v > '9')
			return "numa= needs a NUMA node number";
		errno = 0;
		n = strtol(v, &end, 10);
		if (*end || errno || n > 4095)
			return "numa= needs a NUMA node number";
		r->numa_node = (int)n;
		return NULL;
	}
	return "unknown selector (id=VVVV:DDDD, type=TYPE, numa=N)";
}

/* The words of line, split at blanks, comment removed; modifies line. */
static size_t split_words(char *line, char **words, size_t max)
{
	size_t n = 0;
	char *hash = strchr(line, '#');

	if (hash)
		*hash = '\0';
	for (char *p = line; *p;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p)
			break;
		if (n < max)
			words[n] = p;
		n++;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

#define WORDS_MAX 8

static int parse_line(struct kube_config *cfg, const char *file, unsigned lineno, char *line)
{
	struct kube_resource r = {
	    .vendor_id = -1, .device_id = -1, .numa_node = -1, .line = lineno};
	char *words[WORDS_MAX];
	size_t n = split_words(line, words, WORDS_MAX);
	const char *problem = NULL;
	struct kube_resource *v;

	if (n == 0)
		return 0;
	if (n > WORDS_MAX)
		return kube_config_add_problem(cfg, "%s:%u: too many selectors", file, lineno);
	if (!kube_resource_name_is_valid(words[0]))
		return kube_config_add_problem(
		    cfg, "%s:%u: invalid resource name \"%.*s\" (DOMAIN/NAME, e.g. passthru.io/vf)",
		    file, lineno, KUBE_RESOURCE_NAME_MAX, words[0]);
	if (kube_config_find(cfg, words[0]))
		return kube_config_add_problem(cfg, "%s:%u: resource %s is defined again", file,
					       lineno, words[0]);
	if (n == 1)
		return kube_config_add_problem(cfg, "%s:%u: resource %s has no selector", file,
					       lineno, words[0]);
	for (size_t i = 1; i < n && !problem; i++) {
		problem = parse_selector(&r, words[i]);
		if (problem) {
			resource_done(&r);
			return kube_config_add_problem(cfg, "%s:%u: \"%.40s\": %s", file, lineno,
						       words[i], problem);
		}
	}
	if (r.vendor_id < 0 && !r.type) {
		resource_done(&r);
		return kube_config_add_problem(cfg, "%s:%u: resource %s needs id= or type=", file,
					       lineno, words[0]);
	}
	r.name = strdup(words[0]);
	r.file = strdup(file);
	v = realloc(cfg->v, (cfg->n + 1) * sizeof(*v));
	if (!r.name || !r.file || !v) {
		resource_done(&r);
		if (v)
			cfg->v = v;
		return -ENOMEM;
	}
	cfg->v = v;
	cfg->v[cfg->n++] = r;
	return 0;
}

int kube_config_parse(struct kube_config *cfg, const char *file, const char *text, size_t len)
{
	unsigned lineno = 0;
	size_t at = 0;

	if (kube_config_add_file(cfg, file, text, len) < 0)
		return -ENOMEM;

	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t l = nl ? (size_t)(nl - (text + at)) : len - at;
		char *line;
		int r;

		lineno++;
		if (memchr(text + at, '\0', l)) {
			r = kube_config_add_problem(cfg, "%s:%u: a NUL byte", file, lineno);
		} else {
			line = strndup(text + at, l);
			if (!line)
				return -ENOMEM;
			r = parse_line(cfg, file, lineno, line);
			free(line);
		}
		if (r < 0)
			return r;
		at += l + 1;
	}
	return 0;
}

bool kube_resource_matches(const struct kube_resource *r, const struct kube_function *f)
{
	if (f->non_endpoint)
		return false;
	if (r->vendor_id >= 0 && (f->vendor_id != r->vendor_id || f->device_id != r->device_id))
		return false;
	if (r->type) {
		bool builtin = passthru_type_name_is_builtin(r->type);

		if (!f->type || (builtin ? strcasecmp(f->type, r->type) : strcmp(f->type, r->type)))
			return false;
	}
	if (r->numa_node >= 0 && f->numa_node != r->numa_node)
		return false;
	return true;
}

/* The first resource matching an endpoint of group g, or -1. */
static int group_owner(const struct kube_config *cfg, const struct kube_function *f, size_t n,
		       int g)
{
	for (size_t ri = 0; ri < cfg->n; ri++)
		for (size_t i = 0; i < n; i++)
			if (f[i].group == g && kube_resource_matches(&cfg->v[ri], &f[i]))
				return (int)ri;
	return -1;
}

int kube_config_owner(const struct kube_config *cfg, const struct kube_function *f, size_t n,
		      const char *address)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(f[i].address, address) != 0)
			continue;
		/* Without an IOMMU group a function is no resource's device. */
		if (f[i].group < 0)
			return -1;
		return group_owner(cfg, f, n, f[i].group);
	}
	return -1;
}

void kube_devices_done(struct kube_devices *devs)
{
	for (size_t i = 0; i < devs->n; i++)
		free(devs->v[i].addresses);
	free(devs->v);
	*devs = (struct kube_devices){};
}

static bool group_seen(const struct kube_devices *devs, int g)
{
	for (size_t i = 0; i < devs->n; i++)
		if (devs->v[i].group == g)
			return true;
	return false;
}

static bool on_vfio(const struct kube_function *f)
{
	return f->driver && strcmp(f->driver, "vfio-pci") == 0;
}

int kube_resource_devices(const struct kube_config *cfg, size_t ri, const struct kube_function *f,
			  size_t n, struct kube_devices *ret)
{
	struct kube_devices devs = {};

	for (size_t i = 0; i < n; i++) {
		struct kube_device *d;
		struct kube_device *v;
		int g = f[i].group;

		/* A function without an IOMMU group cannot be given to a VM: never a device. */
		if (g < 0 || f[i].non_endpoint || group_seen(&devs, g) ||
		    !kube_resource_matches(&cfg->v[ri], &f[i]) ||
		    group_owner(cfg, f, n, g) != (int)ri)
			continue;
		v = realloc(devs.v, (devs.n + 1) * sizeof(*v));
		if (!v) {
			kube_devices_done(&devs);
			return -ENOMEM;
		}
		devs.v = v;
		d = &devs.v[devs.n++];
		*d = (struct kube_device){.group = g, .healthy = true};
		d->addresses = calloc(n + 1, sizeof(*d->addresses));
		if (!d->addresses) {
			kube_devices_done(&devs);
			return -ENOMEM;
		}
		for (size_t j = 0; j < n; j++) {
			if (f[j].group != g || f[j].non_endpoint)
				continue;
			if (!d->id) {
				d->id = f[j].address;
				d->numa_node = f[j].numa_node;
			}
			d->addresses[d->n_addresses++] = f[j].address;
			if (!on_vfio(&f[j]))
				d->healthy = false;
		}
	}
	*ret = devs;
	return 0;
}
