/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The records under /run/passthru: the journal of the transaction under way, written and
 * fsync'd before the first device is touched and removed once every device is where it should
 * be, and the "held" record of the devices this boot's passthru moved to vfio-pci with the
 * driver each came from (what `passthru unbind` gives them back to).
 *
 * /run is a tmpfs: both records live exactly as long as the driver bindings they describe.
 *
 * Both are line-based text, one device a line, values percent-escaped so that any byte a user
 * wrote into driver_override survives the trip:
 *
 *   passthru-journal 1
 *   op bind
 *   pid 1234
 *   dev 0000:01:00.0 driver=nouveau override= target=vfio-pci target-override=vfio-pci
 * id=10de:1b80:1458:3702
 *
 *   passthru-held 1
 *   dev 0000:01:00.0 driver=nouveau override= id=10de:1b80:1458:3702
 *
 * An empty value is "none"; target=* means "any driver but vfio-pci, or none".
 *
 * A transaction of attribute writes (an SR-IOV change) has "write" lines instead, in the order
 * the writes are made, each with the value that undoes it:
 *
 *   passthru-journal 1
 *   op write
 *   pid 1234
 *   write 0000:03:00.0 sriov_numvfs value=0 undo=4
 *   write 0000:03:00.0 sriov_numvfs value=2 undo=0
 *
 * A transaction of VF link settings has "vf" lines: the PF, the VF's index, the settings sent
 * (the fields of /etc/passthru/vf.d, vf-settings.c), then "undo" and the same settings as the
 * driver had them before:
 *
 *   passthru-journal 1
 *   op vf
 *   pid 1234
 *   vf 0000:03:00.0 1 mac=02:11:22:33:44:55 trust=on undo mac=00:00:00:00:00:00 trust=off
 */
#include <fcntl.h>
#include <stdarg.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "journal.h"
#include "timed-io.h"

static const char *const op_names[_JOURNAL_OP_MAX] = {
    [JOURNAL_OP_BIND] = "bind",
    [JOURNAL_OP_UNBIND] = "unbind",
    [JOURNAL_OP_WRITE] = "write",
    [JOURNAL_OP_VF] = "vf",
};

static const char *magic(enum journal_kind kind)
{
	return kind == JOURNAL_KIND_TRANSACTION ? "passthru-journal 1" : "passthru-held 1";
}

/* ------------------------------------------------------------------------------------------ */
/* Escaping                                                                                   */

static bool plain_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == ':' || c == '+' || c == '-';
}

char *journal_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	char *out, *p;

	if (!s)
		return strdup("");
	for (const char *q = s; *q; q++)
		n += plain_char((unsigned char)*q) ? 1 : 3;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	p = out;
	for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
		if (plain_char(*q)) {
			*p++ = (char)*q;
		} else {
			*p++ = '%';
			*p++ = hex[*q >> 4];
			*p++ = hex[*q & 15];
		}
	}
	*p = '\0';
	return out;
}

static int unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int journal_unescape(const char *s, size_t len, char **ret)
{
	_cleanup_free_ char *out = malloc(len + 1);
	size_t n = 0;

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -EBADMSG;
			hi = unhex(s[i + 1]);
			lo = unhex(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -EBADMSG;
			c = (unsigned char)(hi * 16 + lo);
			/* A NUL would cut the value short without anyone noticing. */
			if (c == 0)
				return -EBADMSG;
			i += 2;
		} else if (!plain_char(c)) {
			return -EBADMSG;
		}
		out[n++] = (char)c;
	}
	out[n] = '\0';
	*ret = TAKE_PTR(out);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Entries                                                                                    */

static void entry_done(struct journal_entry *e)
{
	free(e->driver);
	free(e->override);
	free(e->target);
	free(e->target_override);
	free(e->id);
	memset(e, 0, sizeof(*e));
}

void journal_free(struct journal *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n_entries; i++)
		entry_done(&j->entries[i]);
	free(j->entries);
	for (size_t i = 0; i < j->n_writes; i++) {
		free(j->writes[i].name);
		free(j->writes[i].value);
		free(j->writes[i].undo);
	}
	free(j->writes);
	free(j->vfs);
	free(j);
}

int journal_new(enum journal_op op, struct journal **ret)
{
	struct journal *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->op = op;
	*ret = j;
	return 0;
}

static int dup_or_null(const char *s, char **ret)
{
	*ret = NULL;
	if (!s)
		return 0;
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

int journal_entry_set(struct journal_entry *e, const char *address, const char *driver,
		      const char *override, const char *target, bool target_any,
		      const char *target_override, const char *id)
{
	struct journal_entry n = {0};

	/* Canonical addresses only: they are written out as they are. */
	if (!address || passthru_pci_address_parse(address, n.address) < 0 ||
	    strcmp(n.address, address) != 0)
		return -EINVAL;
	n.target_any = target_any;
	if (dup_or_null(driver, &n.driver) < 0 || dup_or_null(override, &n.override) < 0 ||
	    dup_or_null(target_any ? NULL : target, &n.target) < 0 ||
	    dup_or_null(target_override, &n.target_override) < 0 || dup_or_null(id, &n.id) < 0) {
		entry_done(&n);
		return -ENOMEM;
	}
	entry_done(e);
	*e = n;
	return 0;
}

struct journal_entry *journal_find(const struct journal *j, const char *address)
{
	for (size_t i = 0; i < j->n_entries; i++)
		if (strcmp(j->entries[i].address, address) == 0)
			return &j->entries[i];
	return NULL;
}

int journal_put(struct journal *j, const struct journal_entry *e)
{
	struct journal_entry *slot = journal_find(j, e->address);

	if (!slot) {
		slot = ARRAY_GROW(j->entries, j->n_entries);
		if (!slot)
			return -ENOMEM;
		j->n_entries++;
	}
	return journal_entry_set(slot, e->address, e->driver, e->override, e->target, e->target_any,
				 e->target_override, e->id);
}

/* An attribute name becomes a path component under the device's directory. */
static bool attr_name_valid(const char *s)
{
	if (!s || !*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

int journal_add_write(struct journal *j, const char *address, const char *name, const char *value,
		      const char *undo)
{
	struct journal_write w = {0}, *slot;

	if (!address || passthru_pci_address_parse(address, w.address) < 0 ||
	    strcmp(w.address, address) != 0 || !attr_name_valid(name) || !value || !*value ||
	    !undo || !*undo)
		return -EINVAL;
	slot = ARRAY_GROW(j->writes, j->n_writes);
	if (!slot)
		return -ENOMEM;
	w.name = strdup(name);
	w.value = strdup(value);
	w.undo = strdup(undo);
	if (!w.name || !w.value || !w.undo) {
		free(w.name);
		free(w.value);
		free(w.undo);
		return -ENOMEM;
	}
	*slot = w;
	j->n_writes++;
	return 0;
}

static bool vf_settings_valid(const struct vf_settings *s)
{
	if (s->has_mac && (s->mac[0] & 1))
		return false;
	if (s->has_vlan && (s->vlan > 4095 || s->qos > 7 ||
			    (s->proto != ETH_P_8021Q_VALUE && s->proto != ETH_P_8021AD_VALUE)))
		return false;
	return s->has_mac || s->has_vlan || s->has_spoofchk || s->has_trust || s->has_rate;
}

int journal_add_vf(struct journal *j, const char *pf, unsigned index,
		   const struct vf_settings *value, const struct vf_settings *undo)
{
	struct journal_vf v = {0}, *slot;

	if (!pf || passthru_pci_address_parse(pf, v.pf) < 0 || strcmp(v.pf, pf) != 0 ||
	    index > 65535 || !value || !undo || !vf_settings_valid(value) ||
	    !vf_settings_valid(undo) || value->has_mac != undo->has_mac ||
	    value->has_vlan != undo->has_vlan || value->has_spoofchk != undo->has_spoofchk ||
	    value->has_trust != undo->has_trust || value->has_rate != undo->has_rate)
		return -EINVAL;
	slot = ARRAY_GROW(j->vfs, j->n_vfs);
	if (!slot)
		return -ENOMEM;
	v.index = index;
	v.value = *value;
	v.undo = *undo;
	*slot = v;
	j->n_vfs++;
	return 0;
}

int journal_remove(struct journal *j, const char *address)
{
	struct journal_entry *e = journal_find(j, address);
	size_t i;

	if (!e)
		return -ENOENT;
	i = (size_t)(e - j->entries);
	entry_done(e);
	memmove(&j->entries[i], &j->entries[i + 1], (j->n_entries - i - 1) * sizeof(*e));
	j->n_entries--;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing                                                                                    */

/* A driver name becomes a path component under /sys/bus/pci/drivers. */
static bool driver_name_valid(const char *s)
{
	return *s && strlen(s) <= 255 && !strchr(s, '/') && strcmp(s, ".") != 0 &&
	       strcmp(s, "..") != 0;
}

static bool id_valid(const char *s)
{
	if (strlen(s) != 19)
		return false;
	for (size_t i = 0; i < 19; i++) {
		if (i % 5 == 4) {
			if (s[i] != ':')
				return false;
		} else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
			return false;
		}
	}
	return true;
}

enum entry_key {
	KEY_DRIVER,
	KEY_OVERRIDE,
	KEY_TARGET,
	KEY_TARGET_OVERRIDE,
	KEY_ID,
	_KEY_MAX,
};

static const char *const key_names[_KEY_MAX] = {
    [KEY_DRIVER] = "driver", [KEY_OVERRIDE] = "override",
    [KEY_TARGET] = "target", [KEY_TARGET_OVERRIDE] = "target-override",
    [KEY_ID] = "id",
};

/* Parses "dev ADDRESS key=value..." (line without its "dev " and newline) into e. */
static int parse_dev_line(const char *line, size_t len, enum journal_kind kind,
			  struct journal_entry *e)
{
	char *values[_KEY_MAX] = {0};
	bool seen[_KEY_MAX] = {0};
	char canonical[PASSTHRU_PCI_ADDRESS_LEN + 1];
	const char *p = line, *end = line + len;
	int r = -EBADMSG;

	/* The address, in the kernel's own spelling only. */
	{
		const char *space = memchr(p, ' ', len);
		size_t alen = space ? (size_t)(space - p) : len;
		char addr[PASSTHRU_PCI_ADDRESS_LEN + 1];

		if (alen > PASSTHRU_PCI_ADDRESS_LEN)
			return -EBADMSG;
		memcpy(addr, p, alen);
		addr[alen] = '\0';
		if (passthru_pci_address_parse(addr, canonical) < 0 || strcmp(addr, canonical) != 0)
			return -EBADMSG;
		p += alen;
	}

	while (p < end) {
		const char *tok, *eq, *tok_end;
		int k;

		if (*p != ' ')
			goto out;
		tok = ++p;
		tok_end = memchr(tok, ' ', (size_t)(end - tok));
		if (!tok_end)
			tok_end = end;
		eq = memchr(tok, '=', (size_t)(tok_end - tok));
		if (!eq)
			goto out;
		for (k = 0; k < _KEY_MAX; k++)
			if ((size_t)(eq - tok) == strlen(key_names[k]) &&
			    memcmp(tok, key_names[k], (size_t)(eq - tok)) == 0)
				break;
		if (k == _KEY_MAX || seen[k])
			goto out;
		if (kind == JOURNAL_KIND_HELD && (k == KEY_TARGET || k == KEY_TARGET_OVERRIDE))
			goto out;
		seen[k] = true;
		if (k == KEY_TARGET && tok_end - eq == 2 && eq[1] == '*') {
			e->target_any = true;
		} else {
			r = journal_unescape(eq + 1, (size_t)(tok_end - eq - 1), &values[k]);
			if (r < 0)
				goto out;
			r = -EBADMSG;
			if (!*values[k]) {
				free(values[k]);
				values[k] = NULL;
			}
		}
		p = tok_end;
	}

	if (!seen[KEY_DRIVER] || !seen[KEY_OVERRIDE])
		goto out;
	if (kind == JOURNAL_KIND_TRANSACTION && (!seen[KEY_TARGET] || !seen[KEY_TARGET_OVERRIDE]))
		goto out;
	if ((values[KEY_DRIVER] && !driver_name_valid(values[KEY_DRIVER])) ||
	    (values[KEY_TARGET] && !driver_name_valid(values[KEY_TARGET])))
		goto out;
	/* driver_override is one line: the kernel strips a trailing newline, nothing more. */
	if ((values[KEY_OVERRIDE] && strchr(values[KEY_OVERRIDE], '\n')) ||
	    (values[KEY_TARGET_OVERRIDE] && strchr(values[KEY_TARGET_OVERRIDE], '\n')))
		goto out;
	if (values[KEY_ID] && !id_valid(values[KEY_ID]))
		goto out;

	memcpy(e->address, canonical, sizeof(canonical));
	e->driver = TAKE_PTR(values[KEY_DRIVER]);
	e->override = TAKE_PTR(values[KEY_OVERRIDE]);
	e->target = TAKE_PTR(values[KEY_TARGET]);
	e->target_override = TAKE_PTR(values[KEY_TARGET_OVERRIDE]);
	e->id = TAKE_PTR(values[KEY_ID]);
	r = 0;
out:
	for (int k = 0; k < _KEY_MAX; k++)
		free(values[k]);
	return r;
}

/* Parses "write ADDRESS NAME value=V undo=U" (without its "write " and newline) into j. */
static int parse_write_line(const char *line, size_t len, struct journal *j)
{
	_cleanup_free_ char *copy = strndup(line, len), *value = NULL, *undo = NULL;
	char *fields[4];
	int r;

	if (!copy)
		return -ENOMEM;
	/* Exactly four fields, one space apart. */
	if (split_fields_exact(copy, ' ', fields, ELEMENTSOF(fields)) != 4 ||
	    strncmp(fields[2], "value=", 6) != 0 || strncmp(fields[3], "undo=", 5) != 0)
		return -EBADMSG;
	r = journal_unescape(fields[2] + 6, strlen(fields[2] + 6), &value);
	if (r >= 0)
		r = journal_unescape(fields[3] + 5, strlen(fields[3] + 5), &undo);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return -EBADMSG;
	r = journal_add_write(j, fields[0], fields[1], value, undo);
	return r == -EINVAL ? -EBADMSG : r;
}

/*
 * Parses "vf PF INDEX FIELD... undo FIELD..." (without its "vf " and newline) into j, one
 * space between fields.
 */
static int parse_vf_line(const char *line, size_t len, struct journal *j)
{
	_cleanup_free_ char *copy = strndup(line, len);
	_cleanup_free_ char **fields = NULL;
	struct vf_settings value, undo;
	unsigned long index;
	size_t n = 0, undo_at = 0;
	char *p;
	int r;

	if (!copy)
		return -ENOMEM;
	/* Split on single spaces: an empty field (two spaces, a space at an end) is an error. */
	fields = calloc(len / 2 + 2, sizeof(*fields));
	if (!fields)
		return -ENOMEM;
	for (p = copy;;) {
		char *sp = strchr(p, ' ');

		if (sp)
			*sp = '\0';
		if (!*p)
			return -EBADMSG;
		fields[n++] = p;
		if (!sp)
			break;
		p = sp + 1;
	}
	for (size_t i = 2; i < n; i++)
		if (strcmp(fields[i], "undo") == 0) {
			if (undo_at)
				return -EBADMSG;
			undo_at = i;
		}
	/* PF, index, at least one setting, undo, at least one setting. */
	if (n < 5 || undo_at < 3 || undo_at + 1 >= n)
		return -EBADMSG;
	/* Canonical decimal: no sign, no leading zero. */
	if ((fields[1][0] == '0' && fields[1][1]) || parse_ulong(fields[1], 65535, &index) < 0)
		return -EBADMSG;
	if (vf_settings_parse_fields(fields + 2, undo_at - 2, &value) < 0 ||
	    vf_settings_parse_fields(fields + undo_at + 1, n - undo_at - 1, &undo) < 0)
		return -EBADMSG;
	r = journal_add_vf(j, fields[0], (unsigned)index, &value, &undo);
	return r == -EINVAL ? -EBADMSG : r;
}

static bool line_is(const char *line, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(line, word, len) == 0;
}

static bool line_starts(const char *line, size_t len, const char *prefix)
{
	return len >= strlen(prefix) && memcmp(line, prefix, strlen(prefix)) == 0;
}

int journal_parse(const char *text, size_t len, enum journal_kind kind, struct journal **ret,
		  unsigned *ret_line)
{
	_cleanup_journal_ struct journal *j = NULL;
	const char *p = text, *end = text + len;
	bool have_magic = false, have_op = false, have_pid = false;
	unsigned lineno = 0;
	int r;

	if (memchr(text, '\0', len))
		goto bad;
	r = journal_new(JOURNAL_OP_BIND, &j);
	if (r < 0)
		return r;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *line = p;

		p = nl ? nl + 1 : end;
		lineno++;
		if (n == 0)
			continue;
		if (!have_magic) {
			if (!line_is(line, n, magic(kind)))
				goto bad;
			have_magic = true;
		} else if (kind == JOURNAL_KIND_TRANSACTION && line_starts(line, n, "op ")) {
			bool found = false;

			if (have_op || j->n_entries > 0 || j->n_writes > 0 || j->n_vfs > 0)
				goto bad;
			for (int o = 0; o < _JOURNAL_OP_MAX; o++)
				if (line_is(line + 3, n - 3, op_names[o])) {
					j->op = (enum journal_op)o;
					found = true;
				}
			if (!found)
				goto bad;
			have_op = true;
		} else if (kind == JOURNAL_KIND_TRANSACTION && line_starts(line, n, "pid ")) {
			_cleanup_free_ char *s = strndup(line + 4, n - 4);
			long pid;

			if (!s)
				return -ENOMEM;
			if (have_pid || parse_long(s, 1, INT32_MAX, &pid) < 0 || s[0] == '+' ||
			    s[0] == '-')
				goto bad;
			j->pid = pid;
			have_pid = true;
		} else if (line_starts(line, n, "dev ")) {
			struct journal_entry e = {0};

			if (kind == JOURNAL_KIND_TRANSACTION &&
			    (!have_op || j->op == JOURNAL_OP_WRITE || j->op == JOURNAL_OP_VF))
				goto bad;
			r = parse_dev_line(line + 4, n - 4, kind, &e);
			if (r == -ENOMEM)
				return r;
			if (r < 0 || journal_find(j, e.address)) {
				entry_done(&e);
				goto bad;
			}
			r = journal_put(j, &e);
			entry_done(&e);
			if (r < 0)
				return r;
		} else if (kind == JOURNAL_KIND_TRANSACTION && line_starts(line, n, "write ")) {
			if (!have_op || j->op != JOURNAL_OP_WRITE)
				goto bad;
			r = parse_write_line(line + 6, n - 6, j);
			if (r == -ENOMEM)
				return r;
			if (r < 0)
				goto bad;
		} else if (kind == JOURNAL_KIND_TRANSACTION && line_starts(line, n, "vf ")) {
			if (!have_op || j->op != JOURNAL_OP_VF)
				goto bad;
			r = parse_vf_line(line + 3, n - 3, j);
			if (r == -ENOMEM)
				return r;
			if (r < 0)
				goto bad;
		} else {
			goto bad;
		}
	}
	lineno++;
	if (!have_magic || (kind == JOURNAL_KIND_TRANSACTION && !have_op))
		goto bad;
	*ret = TAKE_PTR(j);
	return 0;
bad:
	if (ret_line)
		*ret_line = lineno ? lineno : 1;
	return -EBADMSG;
}

/* ------------------------------------------------------------------------------------------ */
/* Formatting                                                                                 */

static int append(char **buf, size_t *len, const char *format, ...) _printf_(3, 4);
static int append(char **buf, size_t *len, const char *format, ...)
{
	_cleanup_free_ char *s = NULL;
	va_list ap;
	size_t n;
	char *nb;
	int k;

	va_start(ap, format);
	k = vasprintf(&s, format, ap);
	va_end(ap);
	if (k < 0)
		return -ENOMEM;
	n = (size_t)k;
	nb = realloc(*buf, *len + n + 1);
	if (!nb)
		return -ENOMEM;
	memcpy(nb + *len, s, n + 1);
	*buf = nb;
	*len += n;
	return 0;
}

int journal_format(const struct journal *j, enum journal_kind kind, char **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	r = append(&buf, &len, "%s\n", magic(kind));
	if (r < 0)
		return r;
	if (kind == JOURNAL_KIND_TRANSACTION) {
		r = append(&buf, &len, "op %s\n", op_names[j->op]);
		if (r >= 0 && j->pid > 0)
			r = append(&buf, &len, "pid %ld\n", j->pid);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; kind == JOURNAL_KIND_TRANSACTION && i < j->n_writes; i++) {
		const struct journal_write *w = &j->writes[i];
		_cleanup_free_ char *v = journal_escape(w->value), *u = journal_escape(w->undo);

		if (!v || !u)
			return -ENOMEM;
		r = append(&buf, &len, "write %s %s value=%s undo=%s\n", w->address, w->name, v, u);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; kind == JOURNAL_KIND_TRANSACTION && i < j->n_vfs; i++) {
		const struct journal_vf *v = &j->vfs[i];
		_cleanup_free_ char *line = NULL;
		size_t size = 0;
		FILE *f = open_memstream(&line, &size);

		if (!f)
			return -ENOMEM;
		fprintf(f, "vf %s %u", v->pf, v->index);
		vf_settings_write_fields(&v->value, f);
		fputs(" undo", f);
		vf_settings_write_fields(&v->undo, f);
		if (fclose(f) != 0)
			return -ENOMEM;
		r = append(&buf, &len, "%s\n", line);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < j->n_entries; i++) {
		const struct journal_entry *e = &j->entries[i];
		_cleanup_free_ char *d = journal_escape(e->driver),
				    *o = journal_escape(e->override),
				    *t = journal_escape(e->target),
				    *to = journal_escape(e->target_override);

		if (!d || !o || !t || !to)
			return -ENOMEM;
		r = append(&buf, &len, "dev %s driver=%s override=%s", e->address, d, o);
		if (r >= 0 && kind == JOURNAL_KIND_TRANSACTION)
			r = append(&buf, &len, " target=%s target-override=%s",
				   e->target_any ? "*" : t, to);
		if (r >= 0 && e->id)
			r = append(&buf, &len, " id=%s", e->id);
		if (r >= 0)
			r = append(&buf, &len, "\n");
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(buf);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Files                                                                                      */

int journal_load(struct passthru_ctx *ctx, const char *path, enum journal_kind kind,
		 struct journal **ret)
{
	_cleanup_free_ char *text = NULL;
	size_t len;
	unsigned line = 0;
	int r;

	r = root_read_file(ctx, path, &text, &len);
	if (r < 0)
		return r;
	r = journal_parse(text, len, kind, ret, &line);
	if (r == -EBADMSG)
		log_debug(ctx, "%s: line %u: malformed", path, line);
	return r;
}

int journal_save(struct passthru_ctx *ctx, const char *path, enum journal_kind kind,
		 const struct journal *j)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = journal_format(j, kind, &text);
	if (r < 0)
		return r;
	return root_write_file_atomic(ctx, path, text, strlen(text), 0600);
}

/* Opens /run/passthru, creating it (and /run in a bare fixture root) when missing. */
static int run_dir_open(struct passthru_ctx *ctx)
{
	_cleanup_close_ int run = -1;
	int fd;

	fd = root_open_dir(ctx, RUN_DIR);
	if (fd != -ENOENT)
		return fd;
	run = root_open_dir(ctx, "/run");
	if (run == -ENOENT) {
		_cleanup_close_ int top = root_open_dir(ctx, "/");

		if (top < 0)
			return top;
		if (mkdirat(top, "run", 0755) < 0 && errno != EEXIST)
			return -errno;
		run = root_open_dir(ctx, "/run");
	}
	if (run < 0)
		return run;
	/* Only root reads the originals of devices. */
	if (mkdirat(run, "passthru", 0700) < 0 && errno != EEXIST)
		return -errno;
	return root_open_dir(ctx, RUN_DIR);
}

int proc_locks_flock_pid(const char *text, unsigned major, unsigned minor, unsigned long ino,
			 long *ret)
{
	/* "1: FLOCK  ADVISORY  WRITE 812 00:19:1234 0 EOF"; waiters are "1: -> FLOCK ...". */
	for (const char *line = text; line && *line;) {
		const char *nl = strchr(line, '\n');
		char type[16];
		unsigned maj, min;
		unsigned long i;
		long pid;

		if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%lu", type, &pid, &maj, &min, &i) ==
			5 &&
		    strcmp(type, "FLOCK") == 0 && maj == major && min == minor && i == ino &&
		    pid > 0) {
			*ret = pid;
			return 0;
		}
		line = nl ? nl + 1 : NULL;
	}
	return -ENOENT;
}

/*
 * Who holds the flock of fd: "pid 812 (passthru bind 0000:42:00.0)", from /proc/locks and the
 * holder's command line (its comm when that is unreadable). -ENOENT when /proc/locks does not
 * name it: it was released meanwhile, or the holder is in another PID namespace.
 */
static int lock_holder(struct passthru_ctx *ctx, int fd, char **ret)
{
	_cleanup_free_ char *locks = NULL, *path = NULL, *cmdline = NULL, *comm = NULL,
			    *clean = NULL;
	struct stat st;
	size_t len = 0;
	long pid;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	r = root_read_file(ctx, "/proc/locks", &locks, NULL);
	if (r < 0)
		return r;
	r = proc_locks_flock_pid(locks, major(st.st_dev), minor(st.st_dev),
				 (unsigned long)st.st_ino, &pid);
	if (r < 0)
		return r;
	if (asprintf(&path, "/proc/%ld/cmdline", pid) < 0)
		return -ENOMEM;
	if (root_read_file(ctx, path, &cmdline, &len) >= 0 && len > 0) {
		/* NUL-separated arguments; the program by its name, as a user would type it. */
		char *program = cmdline, *slash;

		for (size_t k = 0; k + 1 < len; k++)
			if (cmdline[k] == '\0')
				cmdline[k] = ' ';
		slash = memrchr(cmdline, '/', strcspn(cmdline, " "));
		if (slash)
			program = slash + 1;
		strip_trailing(program);
		clean = escape_for_message(program, 200);
	} else {
		free(path);
		path = NULL;
		if (asprintf(&path, "/proc/%ld/comm", pid) < 0)
			return -ENOMEM;
		if (root_read_file(ctx, path, &comm, NULL) >= 0) {
			strip_trailing(comm);
			clean = escape_for_message(comm, 64);
		}
	}
	{
		char *holder;

		if (clean && *clean)
			r = asprintf(&holder, "pid %ld (%s)", pid, clean);
		else
			r = asprintf(&holder, "pid %ld", pid);
		if (r < 0)
			return -ENOMEM;
		*ret = holder;
	}
	return 0;
}

int journal_lock_wait(struct passthru_ctx *ctx, unsigned timeout_ms, journal_lock_wait_fn on_wait,
		      void *userdata)
{
	_cleanup_close_ int dir = run_dir_open(ctx), fd = -1;
	struct timespec start, now;
	bool told = false;

	if (dir < 0)
		return dir;
	fd = openat(dir, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		long elapsed;

		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return TAKE_FD(fd);
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		if (!told && on_wait) {
			_cleanup_free_ char *holder = NULL;

			(void)lock_holder(ctx, fd, &holder);
			on_wait(userdata, holder);
		}
		told = true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed =
		    (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
		if (elapsed >= (long)timeout_ms)
			return -EBUSY;
		usleep(20 * 1000);
	}
}

struct lock_waiting {
	struct passthru_ctx *ctx;
	journal_lock_wait_fn fn;
	void *userdata;
	char *holder;
};

static void lock_waiting(void *userdata, const char *holder)
{
	struct lock_waiting *w = userdata;

	free(w->holder);
	w->holder = holder ? strdup(holder) : NULL;
	log_debug(w->ctx, "waiting for %s, held by %s", LOCK_PATH, holder ?: "another process");
	if (w->fn)
		w->fn(w->userdata, holder);
}

int journal_lock_take(struct passthru_ctx *ctx, unsigned timeout_ms, journal_lock_wait_fn on_wait,
		      void *userdata, char **ret_error)
{
	struct lock_waiting w = {.ctx = ctx, .fn = on_wait, .userdata = userdata};
	_cleanup_free_ char *holder = NULL;
	char buf[32];
	int fd, k;

	fd = journal_lock_wait(ctx, timeout_ms, lock_waiting, &w);
	holder = w.holder;
	if (fd >= 0)
		return fd;
	if (fd == -EBUSY)
		k = asprintf(ret_error,
			     "another passthru is changing devices: %s holds %s; gave up waiting "
			     "after %s",
			     holder ?: "another process", LOCK_PATH, ms_text(timeout_ms, buf));
	else
		k = asprintf(ret_error, "cannot lock %s: %s", LOCK_PATH, strerror(-fd));
	if (k < 0)
		*ret_error = NULL;
	return fd;
}

void journal_log_line(struct passthru_ctx *ctx, const char *format, ...)
{
	_cleanup_close_ int dir = run_dir_open(ctx), fd = -1;
	_cleanup_free_ char *msg = NULL, *line = NULL;
	char stamp[64] = "";
	struct tm tm;
	time_t now = time(NULL);
	va_list ap;
	int k;

	if (dir < 0)
		return;
	fd = openat(dir, "log", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	va_start(ap, format);
	k = vasprintf(&msg, format, ap);
	va_end(ap);
	if (k < 0)
		return;
	if (gmtime_r(&now, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	k = asprintf(&line, "%s passthru[%d]: %s\n", stamp, (int)getpid(), msg);
	if (k < 0)
		return;
	(void)!write(fd, line, (size_t)k);
}

/* ------------------------------------------------------------------------------------------ */
/* Repair decision                                                                            */

static bool streq_null(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool journal_entry_at_target(const struct journal_entry *e, const struct device_state *state)
{
	if (!state->present)
		return false;
	if (!streq_null(e->target_override, state->override))
		return false;
	if (e->target_any)
		return !state->driver || strcmp(state->driver, "vfio-pci") != 0;
	return streq_null(e->target, state->driver);
}

bool journal_entry_at_origin(const struct journal_entry *e, const struct device_state *state)
{
	return state->present && streq_null(e->driver, state->driver) &&
	       streq_null(e->override, state->override);
}

enum repair_decision journal_decide(const struct journal *j, const struct device_state *states)
{
	for (size_t i = 0; i < j->n_entries; i++)
		if (states[i].present && !journal_entry_at_target(&j->entries[i], &states[i]))
			return REPAIR_ROLLBACK;
	return REPAIR_COMMIT;
}
