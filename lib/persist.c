/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Persisted wishes: the devices `passthru apply` binds to vfio-pci at boot, in
 * /etc/passthru/bindings.conf. A wish is keyed by the address and the identity of the device
 * that was there (vendor:device and subsystem ids), because addresses move: a card changes
 * slot, firmware renumbers a bus, and the wish must not fall on whatever now sits there.
 *
 * The store is a text file, one device a line, because it is short (a handful of devices),
 * an administrator reads and diffs it, and configuration management writes it:
 *
 *   0000:01:00.0 10de:1b80 1458:3702 host=nouveau
 *   0000:01:00.1 10de:10f0 1458:3702 host=snd_hda_intel force
 *
 * host= is the driver the device had before it was bound (what unbind gives it back to after a
 * reboot); force records that the wish was made past a guard.
 *
 * For GPUs the store also yields /etc/modprobe.d/passthru-vfio.conf: a host driver that binds
 * a GPU at boot may never let it go cleanly (a console on it, a driver that cannot unbind), so
 * vfio-pci is made to load first and claim the ids itself.
 */
#include <ctype.h>

#include "persist.h"

struct passthru_persist {
	unsigned refcount;
	struct passthru_ctx *ctx;
	struct persist_entry *entries;
	size_t n_entries;
};

static void entry_done(struct persist_entry *e)
{
	free(e->host_driver);
	e->host_driver = NULL;
}

void persist_entries_free(struct persist_entry *entries, size_t n)
{
	for (size_t i = 0; i < n; i++)
		entry_done(&entries[i]);
	free(entries);
}

static void format_id(struct persist_entry *e)
{
	snprintf(e->id, sizeof(e->id), "%04x:%04x:%04x:%04x", e->vendor, e->device, e->subvendor,
		 e->subdevice);
}

int pci_identity(struct passthru_pci_device *dev, char ret[20])
{
	uint16_t v, d, sv, sd;

	if (passthru_pci_device_get_vendor_id(dev, &v) < 0 ||
	    passthru_pci_device_get_device_id(dev, &d) < 0)
		return -ENODATA;
	/* Bridges and some functions have no subsystem ids: they read as 0 in config space. */
	if (passthru_pci_device_get_subsystem_vendor_id(dev, &sv) < 0)
		sv = 0;
	if (passthru_pci_device_get_subsystem_device_id(dev, &sd) < 0)
		sd = 0;
	snprintf(ret, 20, "%04x:%04x:%04x:%04x", v, d, sv, sd);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing                                                                                    */

/* "10de:1b80" in any case, exactly four digits each side. */
static int parse_id_pair(const char *s, uint16_t *ret_a, uint16_t *ret_b)
{
	uint64_t a, b;
	char left[5], right[5];

	if (strlen(s) != 9 || s[4] != ':')
		return -EBADMSG;
	memcpy(left, s, 4);
	left[4] = '\0';
	memcpy(right, s + 5, 4);
	right[4] = '\0';
	/* parse_hex takes an optional 0x; "0x12" would be four characters but two digits. */
	if (strchr(left, 'x') || strchr(left, 'X') || strchr(right, 'x') || strchr(right, 'X'))
		return -EBADMSG;
	if (parse_hex(left, 0xffff, &a) < 0 || parse_hex(right, 0xffff, &b) < 0)
		return -EBADMSG;
	*ret_a = (uint16_t)a;
	*ret_b = (uint16_t)b;
	return 0;
}

static bool driver_name_ok(const char *s)
{
	if (!*s || strlen(s) > 64 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.+:", *s))
			return false;
	return true;
}

static int parse_line(char *line, struct persist_entry *e)
{
	char *tokens[8];
	size_t n = 0;
	char *save = NULL;

	for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == ELEMENTSOF(tokens))
			return -EBADMSG;
		tokens[n++] = t;
	}
	if (n < 3)
		return -EBADMSG;
	if (passthru_pci_address_parse(tokens[0], e->address) < 0)
		return -EBADMSG;
	if (parse_id_pair(tokens[1], &e->vendor, &e->device) < 0 ||
	    parse_id_pair(tokens[2], &e->subvendor, &e->subdevice) < 0)
		return -EBADMSG;
	for (size_t i = 3; i < n; i++) {
		if (strncmp(tokens[i], "host=", 5) == 0 && !e->host_driver) {
			if (!driver_name_ok(tokens[i] + 5))
				return -EBADMSG;
			e->host_driver = strdup(tokens[i] + 5);
			if (!e->host_driver)
				return -ENOMEM;
		} else if (strcmp(tokens[i], "force") == 0 && !e->force) {
			e->force = true;
		} else {
			return -EBADMSG;
		}
	}
	format_id(e);
	return 0;
}

int persist_parse(const char *text, size_t len, struct persist_entry **ret, size_t *ret_n,
		  unsigned *ret_line)
{
	struct persist_entry *entries = NULL;
	size_t n = 0;
	unsigned lineno = 0;
	const char *p = text, *end = text + len;
	int r = 0;

	if (memchr(text, '\0', len)) {
		lineno = 1;
		r = -EBADMSG;
		goto fail;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		_cleanup_free_ char *line = strndup(p, l);
		struct persist_entry e = {0};
		char *hash, *s;

		p = nl ? nl + 1 : end;
		lineno++;
		if (!line) {
			r = -ENOMEM;
			goto fail;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		for (s = line; *s == ' ' || *s == '\t'; s++)
			;
		strip_trailing(s);
		if (!*s)
			continue;
		r = parse_line(s, &e);
		if (r < 0) {
			entry_done(&e);
			goto fail;
		}
		for (size_t i = 0; i < n; i++)
			if (strcmp(entries[i].address, e.address) == 0) {
				entry_done(&e);
				r = -EBADMSG;
				goto fail;
			}
		if (!ARRAY_GROW(entries, n)) {
			entry_done(&e);
			r = -ENOMEM;
			goto fail;
		}
		entries[n++] = e;
	}
	*ret = entries;
	*ret_n = n;
	return 0;
fail:
	if (ret_line)
		*ret_line = lineno;
	persist_entries_free(entries, n);
	return r;
}

int persist_format(const struct persist_entry *entries, size_t n, char **ret)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return -ENOMEM;
	fputs("# Devices passthru binds to vfio-pci at boot (passthru apply).\n"
	      "# Written by 'passthru bind --persist' and 'passthru unbind --persist'.\n"
	      "# ADDRESS VENDOR:DEVICE SUBVENDOR:SUBDEVICE [host=DRIVER] [force]\n",
	      f);
	for (size_t i = 0; i < n; i++) {
		const struct persist_entry *e = &entries[i];

		fprintf(f, "%s %04x:%04x %04x:%04x", e->address, e->vendor, e->device, e->subvendor,
			e->subdevice);
		if (e->host_driver)
			fprintf(f, " host=%s", e->host_driver);
		if (e->force)
			fputs(" force", f);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* The store                                                                                  */

_public_ int passthru_persist_load(struct passthru_ctx *ctx, struct passthru_persist **ret)
{
	_cleanup_free_ char *text = NULL;
	struct passthru_persist *p;
	size_t len = 0;
	unsigned line = 0;
	int r;

	if (!ctx || !ret)
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->refcount = 1;
	p->ctx = passthru_ctx_ref(ctx);

	r = root_read_file(ctx, PERSIST_PATH, &text, &len);
	if (r == -ENOENT) {
		*ret = p;
		return 0;
	}
	if (r >= 0) {
		r = persist_parse(text, len, &p->entries, &p->n_entries, &line);
		if (r == -EBADMSG)
			log_err(ctx, "%s: line %u: malformed entry", PERSIST_PATH, line);
	}
	if (r < 0) {
		passthru_persist_unref(p);
		return r;
	}
	*ret = p;
	return 0;
}

static void persist_free(struct passthru_persist *p)
{
	persist_entries_free(p->entries, p->n_entries);
	passthru_ctx_unref(p->ctx);
	free(p);
}

DEFINE_REF_UNREF_FUNC(_public_, struct passthru_persist, passthru_persist, persist_free);

_public_ size_t passthru_persist_get_count(const struct passthru_persist *p)
{
	return p ? p->n_entries : 0;
}

_public_ const char *passthru_persist_get_address(const struct passthru_persist *p, size_t i)
{
	return p && i < p->n_entries ? p->entries[i].address : NULL;
}

_public_ const char *passthru_persist_get_identity(const struct passthru_persist *p, size_t i)
{
	return p && i < p->n_entries ? p->entries[i].id : NULL;
}

_public_ const char *passthru_persist_get_host_driver(const struct passthru_persist *p, size_t i)
{
	return p && i < p->n_entries ? p->entries[i].host_driver : NULL;
}

_public_ bool passthru_persist_get_force(const struct passthru_persist *p, size_t i)
{
	return p && i < p->n_entries && p->entries[i].force;
}

_public_ int passthru_persist_find(const struct passthru_persist *p, const char *address)
{
	char canonical[PASSTHRU_PCI_ADDRESS_LEN + 1];

	if (!p || passthru_pci_address_parse(address, canonical) < 0)
		return -EINVAL;
	for (size_t i = 0; i < p->n_entries; i++)
		if (strcmp(p->entries[i].address, canonical) == 0)
			return (int)i;
	return -ENOENT;
}

_public_ int passthru_persist_check(struct passthru_persist *p, size_t i)
{
	struct passthru_pci_device *dev = NULL;
	char id[20];
	int r;

	if (!p || i >= p->n_entries)
		return -EINVAL;
	r = passthru_pci_device_new(p->ctx, p->entries[i].address, &dev);
	if (r < 0)
		return r == -ENOENT ? -ENODEV : r;
	r = pci_identity(dev, id);
	passthru_pci_device_unref(dev);
	if (r < 0)
		return r;
	return strcmp(id, p->entries[i].id) == 0 ? 0 : -ESTALE;
}

_public_ int passthru_persist_add(struct passthru_persist *p, struct passthru_pci_device *dev,
				  const char *host_driver, bool force)
{
	struct persist_entry e = {0};
	char id[20];
	int r, i;

	if (!p || !dev)
		return -EINVAL;
	if (host_driver && (!driver_name_ok(host_driver) || strcmp(host_driver, "vfio-pci") == 0))
		host_driver = NULL;
	r = pci_identity(dev, id);
	if (r < 0)
		return r;
	memcpy(e.address, passthru_pci_device_get_address(dev), PASSTHRU_PCI_ADDRESS_LEN + 1);
	if (sscanf(id, "%4hx:%4hx:%4hx:%4hx", &e.vendor, &e.device, &e.subvendor, &e.subdevice) !=
	    4)
		return -EINVAL;
	format_id(&e);
	e.force = force;

	i = passthru_persist_find(p, e.address);
	if (i >= 0) {
		struct persist_entry *old = &p->entries[i];

		/* Keep what an earlier wish knew about the host driver of the same device. */
		if (!host_driver && old->host_driver && strcmp(old->id, e.id) == 0)
			host_driver = old->host_driver;
		e.force = force || (old->force && strcmp(old->id, e.id) == 0);
	}
	if (host_driver) {
		e.host_driver = strdup(host_driver);
		if (!e.host_driver)
			return -ENOMEM;
	}
	if (i >= 0) {
		entry_done(&p->entries[i]);
		p->entries[i] = e;
		return 0;
	}
	if (!ARRAY_GROW(p->entries, p->n_entries)) {
		entry_done(&e);
		return -ENOMEM;
	}
	p->entries[p->n_entries++] = e;
	return 0;
}

_public_ int passthru_persist_remove(struct passthru_persist *p, const char *address)
{
	int i = passthru_persist_find(p, address);

	if (i < 0)
		return i;
	entry_done(&p->entries[i]);
	memmove(&p->entries[i], &p->entries[i + 1],
		(p->n_entries - (size_t)i - 1) * sizeof(*p->entries));
	p->n_entries--;
	return 0;
}

_public_ int passthru_persist_save(struct passthru_persist *p)
{
	_cleanup_free_ char *text = NULL;
	int r;

	if (!p)
		return -EINVAL;
	r = persist_format(p->entries, p->n_entries, &text);
	if (r < 0)
		return r;
	return root_write_file_atomic(p->ctx, PERSIST_PATH, text, strlen(text), 0644);
}

/* ------------------------------------------------------------------------------------------ */
/* modprobe.d for GPUs                                                                        */

static bool is_gpu(struct passthru_pci_device *dev)
{
	uint32_t class;

	return passthru_pci_device_get_class(dev, &class) >= 0 && (class >> 16) == 0x03;
}

/* A persisted entry whose device is at its address now, else NULL. */
static struct passthru_pci_device *entry_device(struct passthru_persist *p,
						const struct passthru_pci_list *list, size_t i)
{
	struct passthru_pci_device *dev = passthru_pci_list_find(list, p->entries[i].address);
	char id[20];

	if (!dev || pci_identity(dev, id) < 0 || strcmp(id, p->entries[i].id) != 0)
		return NULL;
	return dev;
}

static bool entry_wanted_for_modprobe(struct passthru_persist *p,
				      const struct passthru_pci_list *list, size_t i)
{
	struct passthru_pci_device *dev = entry_device(p, list, i);
	struct passthru_iommu_group *g = NULL;
	bool wanted = false;

	if (!dev)
		return false;
	if (is_gpu(dev))
		return true;
	/* The other functions of a GPU's group (its HDMI audio) go with it. */
	if (passthru_iommu_group_new_for_device(dev, &g) < 0)
		return false;
	for (size_t m = 0; m < passthru_iommu_group_count(g) && !wanted; m++) {
		const char *address =
		    passthru_pci_device_get_address(passthru_iommu_group_get(g, m));
		int k = passthru_persist_find(p, address);

		if (k >= 0 && (size_t)k != i) {
			struct passthru_pci_device *other = entry_device(p, list, (size_t)k);

			wanted = other && is_gpu(other);
		}
	}
	passthru_iommu_group_unref(g);
	return wanted;
}

_public_ int passthru_persist_write_modprobe(struct passthru_persist *p)
{
	_cleanup_strv_free_ char **ids = NULL, **modules = NULL, **shared = NULL;
	_cleanup_free_ char *text = NULL, *old = NULL;
	struct passthru_pci_list *list = NULL;
	char *buf = NULL;
	size_t size = 0;
	FILE *f;
	int r;

	if (!p)
		return -EINVAL;
	r = passthru_pci_scan(p->ctx, &list);
	if (r < 0)
		return r;

	for (size_t i = 0; i < p->n_entries; i++) {
		struct passthru_pci_device *dev;
		char vd[10];
		bool elsewhere = false;

		if (!entry_wanted_for_modprobe(p, list, i))
			continue;
		dev = entry_device(p, list, i);
		snprintf(vd, sizeof(vd), "%04x:%04x", p->entries[i].vendor, p->entries[i].device);
		/*
		 * ids= claims every device with these ids, like new_id: leave out ids that a
		 * device the host keeps also has (two identical GPUs, one for the host).
		 */
		for (size_t k = 0; k < passthru_pci_list_count(list); k++) {
			struct passthru_pci_device *o = passthru_pci_list_get(list, k);
			uint16_t v, d;

			if (passthru_pci_device_get_vendor_id(o, &v) < 0 ||
			    passthru_pci_device_get_device_id(o, &d) < 0 ||
			    v != p->entries[i].vendor || d != p->entries[i].device)
				continue;
			if (passthru_persist_find(p, passthru_pci_device_get_address(o)) < 0)
				elsewhere = true;
		}
		if (elsewhere) {
			if (!strv_contains(shared, vd) && strv_push(&shared, vd) < 0)
				goto oom;
			continue;
		}
		if (!strv_contains(ids, vd) && strv_push(&ids, vd) < 0)
			goto oom;
		STRV_FOREACH (m, (char **)passthru_pci_device_get_modules(dev)) {
			if (strcmp(*m, "vfio_pci") == 0 || strcmp(*m, "vfio-pci") == 0)
				continue;
			if (!strv_contains(modules, *m) && strv_push(&modules, *m) < 0)
				goto oom;
		}
	}
	passthru_pci_list_unref(list);
	list = NULL;

	if (!ids) {
		r = root_unlink(p->ctx, MODPROBE_PATH);
		if (r == -ENOENT)
			return 0;
		return r < 0 ? r : 1;
	}

	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	fprintf(f,
		"# Generated by passthru from %s: do not edit.\n"
		"# vfio-pci claims the persisted GPUs before their host drivers load.\n",
		PERSIST_PATH);
	STRV_FOREACH (s, shared)
		fprintf(f, "# %s left out of ids=: the host keeps another device with these ids\n",
			*s);
	STRV_FOREACH (m, modules)
		fprintf(f, "softdep %s pre: vfio-pci\n", *m);
	fputs("options vfio-pci ids=", f);
	STRV_FOREACH (s, ids)
		fprintf(f, "%s%s", s == ids ? "" : ",", *s);
	fputc('\n', f);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	text = buf;

	if (root_read_file(p->ctx, MODPROBE_PATH, &old, NULL) >= 0 && strcmp(old, text) == 0)
		return 0;
	r = root_write_file_atomic(p->ctx, MODPROBE_PATH, text, strlen(text), 0644);
	return r < 0 ? r : 1;
oom:
	passthru_pci_list_unref(list);
	return -ENOMEM;
}
