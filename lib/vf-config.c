/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Persisted SR-IOV settings.
 *
 * /etc/passthru/vf.d/ holds one file per PF, named after its address, which `passthru apply`
 * brings the host to at boot (passthru_sriov_apply_persisted()):
 *
 *   # /etc/passthru/vf.d/0000:03:00.0.conf
 *   device 8086:1572:8086:0000
 *   vfs 4 autoprobe=off vfio
 *   vf 0 mac=02:11:22:33:44:55 vlan=10 qos=3 spoofchk=on trust=off max-tx-rate=100
 *   vf 1 vlan=20 proto=802.1ad
 *
 * "device" is the identity (vendor, device, subsystem ids) of the PF the settings were made
 * for: like bindings.conf, settings keyed by an address must not fall on another card that
 * later sits there. "vfs" is the count (with the autoprobe setting when one was given, and
 * "vfio" when the VFs go to vfio-pci), "vf" lines are link settings. A file per PF, rather
 * than one for all, lets configuration management own a PF's file. Files are replaced
 * atomically; comments are not kept.
 */
#include <ctype.h>

#include "pci.h"
#include "persist.h"
#include "vf-config.h"

/* ------------------------------------------------------------------------------------------ */
/* The file                                                                                   */

void vf_config_free(struct vf_config *c)
{
	if (!c)
		return;
	free(c->vfs);
	free(c);
}

static int cmp_vf(const void *a, const void *b)
{
	const struct vf_config_vf *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static struct vf_config_vf *find_vf(struct vf_config *c, unsigned index)
{
	for (size_t i = 0; i < c->n_vfs; i++)
		if (c->vfs[i].index == index)
			return &c->vfs[i];
	return NULL;
}

static void merge_settings(struct vf_settings *dst, const struct vf_settings *src)
{
	if (src->has_mac) {
		memcpy(dst->mac, src->mac, 6);
		dst->has_mac = true;
	}
	if (src->has_vlan) {
		dst->vlan = src->vlan;
		dst->qos = src->qos;
		dst->proto = src->proto;
		dst->has_vlan = true;
	}
	if (src->has_spoofchk) {
		dst->spoofchk = src->spoofchk;
		dst->has_spoofchk = true;
	}
	if (src->has_trust) {
		dst->trust = src->trust;
		dst->has_trust = true;
	}
	if (src->has_rate) {
		dst->max_tx_rate = src->max_tx_rate;
		dst->has_rate = true;
	}
}

int vf_config_put_vf(struct vf_config *c, unsigned index, const struct vf_settings *settings)
{
	struct vf_config_vf *v = find_vf(c, index);

	if (!v) {
		v = ARRAY_GROW(c->vfs, c->n_vfs);
		if (!v)
			return -ENOMEM;
		c->n_vfs++;
		v->index = index;
		merge_settings(&v->settings, settings);
		qsort(c->vfs, c->n_vfs, sizeof(*c->vfs), cmp_vf);
		return 0;
	}
	merge_settings(&v->settings, settings);
	return 0;
}

/* "vvvv:dddd:ssss:ssss": four groups of four hex digits. */
static bool id_valid(const char *s)
{
	if (strlen(s) != 19)
		return false;
	for (int i = 0; i < 19; i++)
		if (i % 5 == 4 ? s[i] != ':' : unhexchar(s[i]) < 0)
			return false;
	return true;
}

static int parse_vf_line(char **tokens, size_t n, struct vf_config *c)
{
	struct vf_settings s;
	unsigned long index;
	int r;

	if (n < 3 || parse_ulong(tokens[1], 65535, &index) < 0 || find_vf(c, (unsigned)index))
		return -EBADMSG;
	r = vf_settings_parse_fields(tokens + 2, n - 2, &s);
	if (r < 0)
		return r;
	return vf_config_put_vf(c, (unsigned)index, &s);
}

static int parse_vfs_line(char **tokens, size_t n, struct vf_config *c)
{
	unsigned long count;

	if (c->has_numvfs || n < 2 || parse_ulong(tokens[1], 65535, &count) < 0)
		return -EBADMSG;
	for (size_t i = 2; i < n; i++) {
		if (strcmp(tokens[i], "vfio") == 0 && !c->bind_vfio)
			c->bind_vfio = true;
		else if (strcmp(tokens[i], "autoprobe=on") == 0 && c->autoprobe < 0)
			c->autoprobe = 1;
		else if (strcmp(tokens[i], "autoprobe=off") == 0 && c->autoprobe < 0)
			c->autoprobe = 0;
		else
			return -EBADMSG;
	}
	if (c->bind_vfio && c->autoprobe == 1)
		return -EBADMSG;
	c->numvfs = (unsigned)count;
	c->has_numvfs = true;
	return 0;
}

static int parse_line(char *line, struct vf_config *c)
{
	char *tokens[16];
	size_t n = 0;
	char *save = NULL;

	for (char *t = strtok_r(line, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (n == ELEMENTSOF(tokens))
			return -EBADMSG;
		tokens[n++] = t;
	}
	if (n == 0)
		return 0;
	if (strcmp(tokens[0], "device") == 0) {
		if (n != 2 || c->id[0] || !id_valid(tokens[1]))
			return -EBADMSG;
		for (int i = 0; i < 19; i++)
			c->id[i] = (char)tolower((unsigned char)tokens[1][i]);
		c->id[19] = '\0';
		return 0;
	}
	if (strcmp(tokens[0], "vfs") == 0)
		return parse_vfs_line(tokens, n, c);
	if (strcmp(tokens[0], "vf") == 0)
		return parse_vf_line(tokens, n, c);
	return -EBADMSG;
}

static struct vf_config *vf_config_new(void)
{
	struct vf_config *c = calloc(1, sizeof(*c));

	if (c)
		c->autoprobe = -1;
	return c;
}

int vf_config_parse(const char *text, size_t len, struct vf_config **ret, unsigned *ret_line)
{
	_cleanup_vf_config_ struct vf_config *c = vf_config_new();
	const char *p = text, *end = text + len;
	unsigned lineno = 0;
	int r;

	if (!c)
		return -ENOMEM;
	if (memchr(text, '\0', len)) {
		if (ret_line)
			*ret_line = 1;
		return -EBADMSG;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
		_cleanup_free_ char *line = strndup(p, l);
		char *hash;

		p = nl ? nl + 1 : end;
		lineno++;
		if (!line)
			return -ENOMEM;
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		r = parse_line(line, c);
		if (r < 0) {
			if (ret_line)
				*ret_line = lineno;
			return r;
		}
	}
	if (!c->id[0]) {
		if (ret_line)
			*ret_line = 0;
		return -EBADMSG;
	}
	*ret = TAKE_PTR(c);
	return 0;
}

int vf_config_format(const struct vf_config *c, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return -ENOMEM;
	fprintf(f,
		"# SR-IOV settings of %s, applied by 'passthru apply'.\n"
		"# Written by passthru sriov/vf --persist; comments are not kept.\n",
		c->address);
	fprintf(f, "device %s\n", c->id);
	if (c->has_numvfs) {
		fprintf(f, "vfs %u", c->numvfs);
		if (c->autoprobe >= 0)
			fprintf(f, " autoprobe=%s", c->autoprobe ? "on" : "off");
		if (c->bind_vfio)
			fputs(" vfio", f);
		fputc('\n', f);
	}
	for (size_t i = 0; i < c->n_vfs; i++) {
		const struct vf_settings *s = &c->vfs[i].settings;

		fprintf(f, "vf %u", c->vfs[i].index);
		vf_settings_write_fields(s, f);
		fputc('\n', f);
	}
	if (fclose(f) != 0)
		return -ENOMEM;
	*ret = TAKE_PTR(buf);
	return 0;
}

static int config_path(const char *address, char **ret)
{
	return asprintf(ret, VF_CONFIG_DIR "/%s.conf", address) < 0 ? -ENOMEM : 0;
}

int vf_config_read(struct passthru_ctx *ctx, const char *address, struct vf_config **ret,
		   unsigned *ret_line)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	struct vf_config *c = NULL;
	size_t len;
	int r;

	r = config_path(address, &path);
	if (r < 0)
		return r;
	r = root_read_file(ctx, path, &text, &len);
	if (r < 0)
		return r;
	r = vf_config_parse(text, len, &c, ret_line);
	if (r < 0)
		return r;
	pci_address_copy(c->address, address);
	*ret = c;
	return 0;
}

int vf_config_load(struct passthru_ctx *ctx, const char *pf, struct vf_config **ret)
{
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	unsigned line = 0;
	int r;

	if (passthru_pci_address_parse(pf, address) < 0)
		return -EINVAL;
	r = vf_config_read(ctx, address, ret, &line);
	if (r == -EBADMSG)
		log_err(ctx, VF_CONFIG_DIR "/%s.conf:%u: malformed%s", address, line,
			line == 0 ? " (no device line)" : "");
	return r;
}

int vf_config_save(struct passthru_ctx *ctx, const struct vf_config *c)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	int r;

	r = config_path(c->address, &path);
	if (r < 0)
		return r;
	r = vf_config_format(c, &text);
	if (r < 0)
		return r;
	return root_write_file_atomic(ctx, path, text, strlen(text), 0644);
}

int vf_config_for_device(struct passthru_ctx *ctx, struct passthru_pci_device *dev,
			 struct vf_config **ret)
{
	_cleanup_vf_config_ struct vf_config *c = NULL;
	const char *address = passthru_pci_device_get_address(dev);
	char id[20];
	int r;

	r = pci_identity(dev, id);
	if (r < 0)
		return r;
	r = vf_config_load(ctx, address, &c);
	if (r < 0 && r != -ENOENT)
		return r;
	if (c && strcmp(c->id, id) != 0) {
		log_debug(ctx, "%s: replacing the settings saved for %s", address, c->id);
		vf_config_free(TAKE_PTR(c));
	}
	if (!c) {
		c = vf_config_new();
		if (!c)
			return -ENOMEM;
		pci_address_copy(c->address, address);
		memcpy(c->id, id, sizeof(c->id));
	}
	*ret = TAKE_PTR(c);
	return 0;
}
