/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Persisted SR-IOV settings and the parsers of VF settings as users write them.
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
#include "sriov.h"
#include "persist.h"

/* ------------------------------------------------------------------------------------------ */
/* Parsers of settings                                                                        */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

_public_ int passthru_vf_parse_mac(const char *text, uint8_t ret[6])
{
	uint8_t mac[6];
	char sep;

	if (!text || strlen(text) != 17)
		return -EINVAL;
	sep = text[2];
	if (sep != ':' && sep != '-')
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(text[i * 3]), lo = hex_digit(text[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != sep))
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	/* A group (multicast or broadcast) address is never a station's own. */
	if (mac[0] & 1)
		return -EINVAL;
	memcpy(ret, mac, 6);
	return 0;
}

/* Decimal digits only: no sign, no space, no base prefix. */
static int parse_decimal(const char *text, unsigned long max, unsigned long *ret)
{
	unsigned long v = 0;

	if (!text || !*text)
		return -EINVAL;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		unsigned long digit = (unsigned long)(*p - '0');

		if (digit > max || v > (max - digit) / 10)
			return -ERANGE;
		v = v * 10 + digit;
	}
	*ret = v;
	return 0;
}

_public_ int passthru_vf_parse_vlan(const char *text, unsigned *ret)
{
	unsigned long v;
	int r = parse_decimal(text, 4095, &v);

	if (r < 0)
		return r;
	*ret = (unsigned)v;
	return 0;
}

_public_ int passthru_vf_parse_qos(const char *text, unsigned *ret)
{
	unsigned long v;
	int r = parse_decimal(text, 7, &v);

	if (r < 0)
		return r;
	*ret = (unsigned)v;
	return 0;
}

_public_ int passthru_vf_parse_vlan_proto(const char *text, uint16_t *ret)
{
	if (!text)
		return -EINVAL;
	if (strcasecmp(text, "802.1q") == 0)
		*ret = ETH_P_8021Q_VALUE;
	else if (strcasecmp(text, "802.1ad") == 0)
		*ret = ETH_P_8021AD_VALUE;
	else
		return -EINVAL;
	return 0;
}

_public_ int passthru_vf_parse_rate(const char *text, unsigned *ret)
{
	_cleanup_free_ char *digits = NULL;
	const char *unit;
	unsigned long v, scale;
	int r;

	if (!text)
		return -EINVAL;
	for (unit = text; *unit >= '0' && *unit <= '9'; unit++)
		;
	if (*unit == '\0' || strcasecmp(unit, "m") == 0 || strcasecmp(unit, "mbit") == 0)
		scale = 1;
	else if (strcasecmp(unit, "g") == 0 || strcasecmp(unit, "gbit") == 0)
		scale = 1000;
	else
		return -EINVAL;
	digits = strndup(text, (size_t)(unit - text));
	if (!digits)
		return -ENOMEM;
	r = parse_decimal(digits, UINT32_MAX / scale, &v);
	if (r < 0)
		return r;
	*ret = (unsigned)(v * scale);
	return 0;
}

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
		struct vf_config_vf *nv = realloc(c->vfs, (c->n_vfs + 1) * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		c->vfs = nv;
		v = &c->vfs[c->n_vfs++];
		*v = (struct vf_config_vf){.index = index};
		merge_settings(&v->settings, settings);
		qsort(c->vfs, c->n_vfs, sizeof(*c->vfs), cmp_vf);
		return 0;
	}
	merge_settings(&v->settings, settings);
	return 0;
}

static int parse_on_off(const char *s, bool *ret)
{
	if (strcmp(s, "on") == 0)
		*ret = true;
	else if (strcmp(s, "off") == 0)
		*ret = false;
	else
		return -EBADMSG;
	return 0;
}

/* "vvvv:dddd:ssss:ssss": four groups of four hex digits. */
static bool id_valid(const char *s)
{
	if (strlen(s) != 19)
		return false;
	for (int i = 0; i < 19; i++)
		if (i % 5 == 4 ? s[i] != ':' : hex_digit(s[i]) < 0)
			return false;
	return true;
}

static int parse_vf_line(char **tokens, size_t n, struct vf_config *c)
{
	struct vf_settings s = {0};
	unsigned long index;
	bool has_qos = false, has_proto = false;
	unsigned qos = 0;
	uint16_t proto = ETH_P_8021Q_VALUE;

	if (n < 3 || parse_decimal(tokens[1], 65535, &index) < 0 || find_vf(c, (unsigned)index))
		return -EBADMSG;
	for (size_t i = 2; i < n; i++) {
		char *eq = strchr(tokens[i], '=');
		const char *key = tokens[i], *value;

		if (!eq)
			return -EBADMSG;
		*eq = '\0';
		value = eq + 1;
		if (strcmp(key, "mac") == 0 && !s.has_mac) {
			if (passthru_vf_parse_mac(value, s.mac) < 0)
				return -EBADMSG;
			s.has_mac = true;
		} else if (strcmp(key, "vlan") == 0 && !s.has_vlan) {
			if (passthru_vf_parse_vlan(value, &s.vlan) < 0)
				return -EBADMSG;
			s.has_vlan = true;
		} else if (strcmp(key, "qos") == 0 && !has_qos) {
			if (passthru_vf_parse_qos(value, &qos) < 0)
				return -EBADMSG;
			has_qos = true;
		} else if (strcmp(key, "proto") == 0 && !has_proto) {
			if (passthru_vf_parse_vlan_proto(value, &proto) < 0)
				return -EBADMSG;
			has_proto = true;
		} else if (strcmp(key, "spoofchk") == 0 && !s.has_spoofchk) {
			if (parse_on_off(value, &s.spoofchk) < 0)
				return -EBADMSG;
			s.has_spoofchk = true;
		} else if (strcmp(key, "trust") == 0 && !s.has_trust) {
			if (parse_on_off(value, &s.trust) < 0)
				return -EBADMSG;
			s.has_trust = true;
		} else if (strcmp(key, "max-tx-rate") == 0 && !s.has_rate) {
			if (passthru_vf_parse_rate(value, &s.max_tx_rate) < 0)
				return -EBADMSG;
			s.has_rate = true;
		} else {
			return -EBADMSG;
		}
	}
	/* A priority or protocol belongs to a VLAN. */
	if ((has_qos || has_proto) && !s.has_vlan)
		return -EBADMSG;
	s.qos = qos;
	s.proto = proto;
	return vf_config_put_vf(c, (unsigned)index, &s);
}

static int parse_vfs_line(char **tokens, size_t n, struct vf_config *c)
{
	unsigned long count;

	if (c->has_numvfs || n < 2 || parse_decimal(tokens[1], 65535, &count) < 0)
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
		if (s->has_mac)
			fprintf(f, " mac=%02x:%02x:%02x:%02x:%02x:%02x", s->mac[0], s->mac[1],
				s->mac[2], s->mac[3], s->mac[4], s->mac[5]);
		if (s->has_vlan) {
			fprintf(f, " vlan=%u", s->vlan);
			if (s->qos)
				fprintf(f, " qos=%u", s->qos);
			if (s->proto == ETH_P_8021AD_VALUE)
				fputs(" proto=802.1ad", f);
		}
		if (s->has_spoofchk)
			fprintf(f, " spoofchk=%s", s->spoofchk ? "on" : "off");
		if (s->has_trust)
			fprintf(f, " trust=%s", s->trust ? "on" : "off");
		if (s->has_rate)
			fprintf(f, " max-tx-rate=%u", s->max_tx_rate);
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

/* Loads the file of address; on -EBADMSG *ret_line says where. */
static int load(struct passthru_ctx *ctx, const char *address, struct vf_config **ret,
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
	r = load(ctx, address, ret, &line);
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

_public_ int passthru_vf_save(struct passthru_vf *vf)
{
	_cleanup_vf_config_ struct vf_config *c = NULL;
	struct passthru_pci_device *dev = NULL;
	struct passthru_ctx *ctx = vf_context(vf);
	const struct vf_settings *s = vf_get_settings(vf);
	int r;

	if (!s->has_mac && !s->has_vlan && !s->has_spoofchk && !s->has_trust && !s->has_rate)
		return -EINVAL;
	r = passthru_pci_device_new(ctx, passthru_vf_get_pf(vf), &dev);
	if (r < 0)
		return r;
	r = vf_config_for_device(ctx, dev, &c);
	passthru_pci_device_unref(dev);
	if (r < 0)
		return r;
	r = vf_config_put_vf(c, passthru_vf_get_index(vf), s);
	if (r < 0)
		return r;
	return vf_config_save(ctx, c);
}

/* ------------------------------------------------------------------------------------------ */
/* Applying at boot                                                                           */

struct reporter {
	passthru_sriov_report_fn fn;
	void *userdata;
	int first_error;
	/* For the VF counts' executions: the wait for another passthru's lock. */
	unsigned lock_timeout_ms;
	passthru_takeover_wait_fn lock_wait;
};

static void report(struct reporter *rep, const char *pf, int error, const char *format, ...)
    _printf_(4, 5);
static void report(struct reporter *rep, const char *pf, int error, const char *format, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int k;

	if (error < 0 && rep->first_error == 0)
		rep->first_error = error;
	if (!rep->fn)
		return;
	va_start(ap, format);
	k = vasprintf(&msg, format, ap);
	va_end(ap);
	rep->fn(rep->userdata, pf, error, k < 0 ? "(out of memory)" : msg);
}

/* "8086:1572 (subsystem 8086:0000)" from "8086:1572:8086:0000". */
static void describe_id(const char *id, char buf[64])
{
	snprintf(buf, 64, "%.9s (subsystem %.9s)", id, id + 10);
}

/* Whether the PF at c->address is still the device the settings were saved for. */
static bool check_identity(struct passthru_ctx *ctx, const struct vf_config *c,
			   struct reporter *rep)
{
	struct passthru_pci_device *dev = NULL;
	char now[20], wanted[64], found[64];
	int r;

	describe_id(c->id, wanted);
	r = passthru_pci_device_new(ctx, c->address, &dev);
	if (r == -ENODEV) {
		report(rep, c->address, r,
		       "saved for %s, but there is no device at this address now: not applied",
		       wanted);
		return false;
	}
	if (r < 0) {
		report(rep, c->address, r, "cannot read it: %s", strerror(-r));
		return false;
	}
	r = pci_identity(dev, now);
	passthru_pci_device_unref(dev);
	if (r < 0) {
		report(rep, c->address, r, "cannot read its identity: %s", strerror(-r));
		return false;
	}
	if (strcmp(now, c->id) != 0) {
		describe_id(now, found);
		report(rep, c->address, -ESTALE,
		       "saved for %s, but the address now holds %s: not applied", wanted, found);
		return false;
	}
	return true;
}

static void apply_count(struct passthru_ctx *ctx, const struct vf_config *c, bool dry_run,
			struct reporter *rep)
{
	struct passthru_sriov *s = NULL;
	unsigned before = 0;
	int r;

	r = passthru_sriov_new(ctx, c->address, c->bind_vfio ? PASSTHRU_SRIOV_BIND_VFIO : 0, &s);
	if (r < 0) {
		report(rep, c->address, r, "not an SR-IOV PF now: %s", strerror(-r));
		return;
	}
	(void)passthru_sriov_get_numvfs(s, &before);
	r = passthru_sriov_set_numvfs(s, c->numvfs);
	if (r < 0) {
		unsigned total = 0;

		(void)passthru_sriov_get_totalvfs(s, &total);
		report(rep, c->address, r, "%u VFs saved, but it offers at most %u", c->numvfs,
		       total);
		goto out;
	}
	if (c->autoprobe >= 0)
		(void)passthru_sriov_set_autoprobe(s, c->autoprobe);
	sriov_set_lock_timeout(s, rep->lock_timeout_ms);
	passthru_sriov_set_wait_fn(s, rep->lock_wait, rep->userdata);
	r = passthru_sriov_plan(s);
	if (r == -EPERM) {
		for (size_t i = 0; i < passthru_sriov_get_refusal_count(s); i++)
			report(rep, c->address, -EPERM, "not changing its VFs: %s: %s",
			       passthru_sriov_get_refusal_address(s, i),
			       passthru_sriov_get_refusal_reason(s, i));
		goto out;
	}
	if (r < 0) {
		report(rep, c->address, r, "cannot plan its VFs: %s", strerror(-r));
		goto out;
	}
	if (dry_run) {
		STRV_FOREACH (step, (char **)passthru_sriov_get_steps(s))
			report(rep, c->address, 0, "would %s", *step);
		if (!*passthru_sriov_get_steps(s))
			report(rep, c->address, 0, "%u VFs, nothing to do", c->numvfs);
		goto out;
	}
	r = passthru_sriov_execute(s);
	if (r < 0) {
		report(rep, c->address, r, "%s", passthru_sriov_get_error(s));
		goto out;
	}
	if (before == c->numvfs)
		report(rep, c->address, 0, "%u VFs (already there)%s", c->numvfs,
		       c->bind_vfio && c->numvfs ? ", on vfio-pci" : "");
	else
		report(rep, c->address, 0, "%u VFs made (it had %u)%s", c->numvfs, before,
		       c->bind_vfio && c->numvfs ? ", on vfio-pci" : "");
out:
	passthru_sriov_unref(s);
}

static void apply_vf(struct passthru_ctx *ctx, const struct vf_config *c,
		     const struct vf_config_vf *v, bool dry_run, struct reporter *rep)
{
	struct passthru_vf *vf = NULL;
	_cleanup_free_ char *summary = NULL;
	int r;

	r = vf_settings_summary(&v->settings, &summary);
	if (r < 0) {
		report(rep, c->address, r, "VF %u: %s", v->index, strerror(-r));
		return;
	}
	if (dry_run) {
		report(rep, c->address, 0, "would set VF %u: %s", v->index, summary);
		return;
	}
	r = passthru_vf_new(ctx, c->address, v->index, &vf);
	if (r == -ENOENT) {
		report(rep, c->address, r, "VF %u: it has no such VF now", v->index);
		return;
	}
	if (r == -ENOLINK) {
		report(rep, c->address, r, "VF %u: the PF has no network interface", v->index);
		return;
	}
	if (r < 0) {
		report(rep, c->address, r, "VF %u: %s", v->index, strerror(-r));
		return;
	}
	r = vf_set_settings(vf, &v->settings);
	if (r >= 0)
		r = passthru_vf_apply(vf);
	if (r < 0)
		report(rep, c->address, r, "VF %u on %s: cannot set %s: %s%s%s", v->index,
		       passthru_vf_get_netdev(vf), summary, strerror(-r),
		       passthru_vf_get_error(vf) ? ": " : "", passthru_vf_get_error(vf) ?: "");
	else
		report(rep, c->address, 0, "VF %u on %s: %s", v->index, passthru_vf_get_netdev(vf),
		       summary);
	passthru_vf_unref(vf);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

_public_ int passthru_sriov_apply_persisted(struct passthru_ctx *ctx, unsigned flags,
					    passthru_sriov_report_fn fn, void *userdata)
{
	return sriov_apply_persisted(ctx, flags, 0, NULL, fn, userdata);
}

int sriov_apply_persisted(struct passthru_ctx *ctx, unsigned flags, unsigned lock_timeout_ms,
			  passthru_takeover_wait_fn lock_wait, passthru_sriov_report_fn fn,
			  void *userdata)
{
	struct reporter rep = {.fn = fn,
			       .userdata = userdata,
			       .lock_timeout_ms = lock_timeout_ms,
			       .lock_wait = lock_wait};
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_strv_free_ char **pfs = NULL;
	struct dirent *de;
	bool dry_run = flags & PASSTHRU_SRIOV_APPLY_DRY_RUN;
	int r;

	if (!ctx)
		return -EINVAL;
	r = root_opendir(ctx, VF_CONFIG_DIR, &d);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		report(&rep, VF_CONFIG_DIR, r, "cannot read it: %s", strerror(-r));
		return r;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
		_cleanup_free_ char *stem = NULL;

		/* Only ADDRESS.conf, in the canonical form we write: editors leave other files. */
		if (len < 6 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		stem = strndup(de->d_name, len - 5);
		if (!stem)
			return -ENOMEM;
		if (passthru_pci_address_parse(stem, address) < 0 || strcmp(stem, address) != 0) {
			log_debug(ctx, "ignoring " VF_CONFIG_DIR "/%s: not named ADDRESS.conf",
				  de->d_name);
			continue;
		}
		r = strv_push(&pfs, address);
		if (r < 0)
			return r;
	}
	if (pfs)
		qsort(pfs, strv_length(pfs), sizeof(char *), cmp_str);

	STRV_FOREACH (pf, pfs) {
		_cleanup_vf_config_ struct vf_config *c = NULL;
		unsigned line = 0;

		r = load(ctx, *pf, &c, &line);
		if (r == -EBADMSG) {
			if (line)
				report(&rep, *pf, r, VF_CONFIG_DIR "/%s.conf:%u: malformed line",
				       *pf, line);
			else
				report(&rep, *pf, r, VF_CONFIG_DIR "/%s.conf: no device line", *pf);
			continue;
		}
		if (r < 0) {
			report(&rep, *pf, r, "cannot read " VF_CONFIG_DIR "/%s.conf: %s", *pf,
			       strerror(-r));
			continue;
		}
		if (!check_identity(ctx, c, &rep))
			continue;
		if (c->has_numvfs)
			apply_count(ctx, c, dry_run, &rep);
		for (size_t i = 0; i < c->n_vfs; i++)
			apply_vf(ctx, c, &c->vfs[i], dry_run, &rep);
	}
	return rep.first_error;
}
