/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Passthrough types: the built-in classification of PCI functions and the administrator's
 * own rules in /etc/passthru/types.d/ *.conf. A malformed line is reported and skipped, never
 * fatal: one typo must not hide every other rule (nor stop a listing).
 */
#include <ctype.h>

#include "types.h"

#define TYPE_MATCH_LEN 19 /* "vvvv:dddd:ssss:tttt" */

struct passthru_type_rule {
	char *name;
	char match[TYPE_MATCH_LEN + 1];
	uint16_t vendor, device;
	int subvendor, subdevice;
	char *file;
	unsigned line;
};

struct passthru_type_list {
	unsigned refcount;
	/* A reference for lists handed out; NULL for the context's own cache. */
	struct passthru_ctx *ctx;
	struct passthru_type_rule *rules;
	size_t count, allocated;
	char **problems;
};

static const char *const builtin_types[] = {"GPU-VGA", "GPU-HPC", "NIC", "NVME", "PCI"};

const char *types_builtin(uint32_t class_code, uint16_t vendor)
{
	uint32_t cls = class_code >> 8;

	if (cls == 0x0300)
		return "GPU-VGA";
	/* 0380 ("Display controller") is how NVIDIA and AMD accelerators without display show. */
	if (cls == 0x0302 || (cls == 0x0380 && (vendor == 0x10de || vendor == 0x1002)))
		return "GPU-HPC";
	if (cls >> 8 == 0x02)
		return "NIC";
	if (class_code == 0x010802)
		return "NVME";
	return "PCI";
}

_public_ bool passthru_type_name_is_builtin(const char *name)
{
	if (!name)
		return false;
	for (size_t i = 0; i < ELEMENTSOF(builtin_types); i++)
		if (strcasecmp(name, builtin_types[i]) == 0)
			return true;
	return false;
}

static bool name_syntax_ok(const char *name, size_t len)
{
	if (len == 0 || len > PASSTHRU_TYPE_NAME_MAX)
		return false;
	if (!isascii((unsigned char)name[0]) || !isalnum((unsigned char)name[0]))
		return false;
	for (size_t i = 1; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (!isascii(c) || !(isalnum(c) || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

_public_ bool passthru_type_name_is_valid(const char *name)
{
	return name && name_syntax_ok(name, strlen(name)) && !passthru_type_name_is_builtin(name);
}

/* Exactly four hex digits. */
static int hex4(const char *s, uint16_t *ret)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		int d = unhexchar(s[i]);

		if (d < 0)
			return -EINVAL;
		v = v * 16 + (unsigned)d;
	}
	*ret = (uint16_t)v;
	return 0;
}

/* "VVVV:DDDD" or "VVVV:DDDD:SSSS:TTTT" of exactly len bytes into rule's ids and match. */
static int match_parse(const char *s, size_t len, struct passthru_type_rule *rule)
{
	uint16_t ids[4];
	size_t n;

	if (len == 9)
		n = 2;
	else if (len == TYPE_MATCH_LEN)
		n = 4;
	else
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (hex4(s + i * 5, &ids[i]) < 0)
			return -EINVAL;
		if (i + 1 < n && s[i * 5 + 4] != ':')
			return -EINVAL;
	}
	rule->vendor = ids[0];
	rule->device = ids[1];
	rule->subvendor = n == 4 ? ids[2] : -1;
	rule->subdevice = n == 4 ? ids[3] : -1;
	if (n == 4)
		snprintf(rule->match, sizeof(rule->match), "%04x:%04x:%04x:%04x", ids[0], ids[1],
			 ids[2], ids[3]);
	else
		snprintf(rule->match, sizeof(rule->match), "%04x:%04x", ids[0], ids[1]);
	return 0;
}

_public_ bool passthru_type_match_is_valid(const char *match)
{
	struct passthru_type_rule rule;

	return match && match_parse(match, strlen(match), &rule) == 0;
}

/* ------------------------------------------------------------------------------------------ */

static void rule_done(struct passthru_type_rule *rule)
{
	free(rule->name);
	free(rule->file);
}

int types_list_new_empty(struct passthru_type_list **ret)
{
	struct passthru_type_list *list = calloc(1, sizeof(*list));

	if (!list)
		return -ENOMEM;
	list->refcount = 1;
	*ret = list;
	return 0;
}

static void type_list_free(struct passthru_type_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		rule_done(&list->rules[i]);
	free(list->rules);
	strv_free(list->problems);
	passthru_ctx_unref(list->ctx);
	free(list);
}

DEFINE_REF_UNREF_FUNC(_public_, struct passthru_type_list, passthru_type_list, type_list_free);

static void type_list_unrefp(struct passthru_type_list **list)
{
	passthru_type_list_unref(*list);
}

_public_ size_t passthru_type_list_count(const struct passthru_type_list *list)
{
	return list ? list->count : 0;
}

_public_ const struct passthru_type_rule *
passthru_type_list_get(const struct passthru_type_list *list, size_t index)
{
	if (!list || index >= list->count)
		return NULL;
	return &list->rules[index];
}

_public_ const char *const *passthru_type_list_get_problems(const struct passthru_type_list *list)
{
	if (!list || !list->problems)
		return strv_empty;
	return (const char *const *)list->problems;
}

_public_ const char *passthru_type_list_match(const struct passthru_type_list *list,
					      uint16_t vendor, uint16_t device, int subvendor,
					      int subdevice)
{
	if (!list)
		return NULL;
	/* A rule naming the subsystem is more specific: it beats any rule that does not. */
	if (subvendor >= 0 && subdevice >= 0)
		for (size_t i = 0; i < list->count; i++) {
			const struct passthru_type_rule *r = &list->rules[i];

			if (r->subvendor >= 0 && r->vendor == vendor && r->device == device &&
			    r->subvendor == subvendor && r->subdevice == subdevice)
				return r->name;
		}
	for (size_t i = 0; i < list->count; i++) {
		const struct passthru_type_rule *r = &list->rules[i];

		if (r->subvendor < 0 && r->vendor == vendor && r->device == device)
			return r->name;
	}
	return NULL;
}

_public_ const char *passthru_type_rule_get_name(const struct passthru_type_rule *rule)
{
	return rule->name;
}

_public_ const char *passthru_type_rule_get_match(const struct passthru_type_rule *rule)
{
	return rule->match;
}

_public_ uint16_t passthru_type_rule_get_vendor(const struct passthru_type_rule *rule)
{
	return rule->vendor;
}

_public_ uint16_t passthru_type_rule_get_device(const struct passthru_type_rule *rule)
{
	return rule->device;
}

_public_ int passthru_type_rule_get_subsystem_vendor(const struct passthru_type_rule *rule)
{
	return rule->subvendor;
}

_public_ int passthru_type_rule_get_subsystem_device(const struct passthru_type_rule *rule)
{
	return rule->subdevice;
}

_public_ const char *passthru_type_rule_get_file(const struct passthru_type_rule *rule)
{
	return rule->file;
}

_public_ unsigned passthru_type_rule_get_line(const struct passthru_type_rule *rule)
{
	return rule->line;
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing                                                                                    */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Appends the problem "file:line: what \"quoted\"tail" (the quoted part escaped, if any). */
static int add_problem(struct passthru_type_list *list, const char *file, unsigned line,
		       const char *what, const char *quoted, size_t len, const char *tail)
{
	_cleanup_free_ char *raw = NULL, *escaped = NULL;
	char *problem;
	int r;

	if (quoted) {
		raw = strndup(quoted, len);
		if (!raw)
			return -ENOMEM;
		escaped = escape_for_message(raw, 64);
		if (!escaped)
			return -ENOMEM;
		r = asprintf(&problem, "%s:%u: %s \"%s\"%s", file, line, what, escaped, tail);
	} else
		r = asprintf(&problem, "%s:%u: %s", file, line, what);
	if (r < 0)
		return -ENOMEM;
	return strv_consume(&list->problems, problem);
}

enum line_result {
	LINE_EMPTY,
	LINE_RULE,
	LINE_BAD,
};

/*
 * Parses one line (without its newline). On LINE_RULE, rule->name (allocated) and the ids
 * are set; on LINE_BAD a problem has been recorded (when list is given).
 */
static int parse_line(struct passthru_type_list *list, const char *file, unsigned lineno,
		      const char *line, size_t len, struct passthru_type_rule *rule)
{
	const char *p, *end, *name, *match;
	size_t name_len, match_len;
	const char *hash;

	if (memchr(line, '\0', len)) {
		if (list)
			return add_problem(list, file, lineno, "line contains a NUL byte", NULL, 0,
					   NULL)
				   ?: LINE_BAD;
		return LINE_BAD;
	}
	hash = memchr(line, '#', len);
	end = hash ? hash : line + len;
	p = line;
	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	if (p == end)
		return LINE_EMPTY;

	name = p;
	while (p < end && !is_blank(*p))
		p++;
	name_len = (size_t)(p - name);
	while (p < end && is_blank(*p))
		p++;
	match = p;
	while (p < end && !is_blank(*p))
		p++;
	match_len = (size_t)(p - match);
	while (p < end && is_blank(*p))
		p++;

#define BAD(what, s, l, tail)                                                                      \
	return list ? (add_problem(list, file, lineno, what, s, l, tail) ?: LINE_BAD) : LINE_BAD
	if (!name_syntax_ok(name, name_len))
		BAD("invalid type name", name, name_len,
		    " (a letter or digit, then letters, digits, '_', '.', '-'; at most 32 "
		    "characters)");
	{
		_cleanup_free_ char *n = strndup(name, name_len);

		if (!n)
			return -ENOMEM;
		if (passthru_type_name_is_builtin(n))
			BAD("built-in type name", name, name_len, " cannot be redefined");
	}
	if (match_len == 0)
		BAD("missing VENDOR:DEVICE after", name, name_len, "");
	if (p < end)
		BAD("unexpected", p, (size_t)(end - p), " after the rule");
	if (match_parse(match, match_len, rule) < 0)
		BAD("invalid match", match, match_len,
		    ", expected VENDOR:DEVICE or VENDOR:DEVICE:SUBVENDOR:SUBDEVICE (4 hex digits "
		    "each)");
#undef BAD
	rule->name = strndup(name, name_len);
	if (!rule->name)
		return -ENOMEM;
	rule->line = lineno;
	return LINE_RULE;
}

static int list_append(struct passthru_type_list *list, struct passthru_type_rule *rule)
{
	if (list->count == list->allocated) {
		size_t n = list->allocated ? list->allocated * 2 : 16;
		struct passthru_type_rule *nr = realloc(list->rules, n * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		list->rules = nr;
		list->allocated = n;
	}
	list->rules[list->count++] = *rule;
	return 0;
}

int types_parse(struct passthru_type_list *list, const char *file, const char *text, size_t len)
{
	unsigned lineno = 0;
	size_t pos = 0;

	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - line) : len - pos;
		struct passthru_type_rule rule = {};
		int r;

		lineno++;
		pos += line_len + (nl ? 1 : 0);
		r = parse_line(list, file, lineno, line, line_len, &rule);
		if (r < 0)
			return r;
		if (r != LINE_RULE)
			continue;
		rule.file = strdup(file);
		if (!rule.file) {
			rule_done(&rule);
			return -ENOMEM;
		}
		r = list_append(list, &rule);
		if (r < 0) {
			rule_done(&rule);
			return r;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Files                                                                                      */

static bool is_conf_name(const char *name)
{
	size_t len = strlen(name);

	/* Hidden files include the temporary files of an atomic replace. */
	return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".conf") == 0;
}

/* The *.conf file names of types.d, sorted; empty when the directory does not exist. */
static int list_conf_files(struct passthru_ctx *ctx, char ***ret)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_strv_free_ char **names = NULL;
	struct dirent *de;
	int r;

	r = root_opendir(ctx, TYPES_DIR, &d);
	if (r == -ENOENT) {
		*ret = NULL;
		return 0;
	}
	if (r < 0)
		return r;
	errno = 0;
	while ((de = readdir(d))) {
		if (!is_conf_name(de->d_name))
			continue;
		r = strv_push(&names, de->d_name);
		if (r < 0)
			return r;
		errno = 0;
	}
	if (errno)
		return -errno;
	/* Lexical order, by byte value as C strings compare: independent of the locale. */
	strv_sort(names);
	*ret = TAKE_PTR(names);
	return 0;
}

static int types_load_into(struct passthru_ctx *ctx, struct passthru_type_list *list)
{
	_cleanup_strv_free_ char **files = NULL;
	int r;

	r = list_conf_files(ctx, &files);
	if (r < 0)
		return r;
	STRV_FOREACH (f, files) {
		_cleanup_free_ char *path = NULL, *text = NULL;
		size_t len;

		if (asprintf(&path, TYPES_DIR "/%s", *f) < 0)
			return -ENOMEM;
		r = root_read_file(ctx, path, &text, &len);
		if (r == -ENOENT)
			continue; /* Removed since we listed the directory. */
		if (r < 0) {
			char *problem;

			if (asprintf(&problem, "%s: cannot read: %s", path, strerror(-r)) < 0)
				return -ENOMEM;
			r = strv_consume(&list->problems, problem);
			if (r < 0)
				return r;
			continue;
		}
		r = types_parse(list, path, text, len);
		if (r < 0)
			return r;
	}
	return 0;
}

_public_ int passthru_type_list_load(struct passthru_ctx *ctx, struct passthru_type_list **ret)
{
	_cleanup_(type_list_unrefp) struct passthru_type_list *list = NULL;
	int r;

	if (!ctx || !ret)
		return -EINVAL;
	r = types_list_new_empty(&list);
	if (r < 0)
		return r;
	r = types_load_into(ctx, list);
	if (r < 0)
		return r;
	list->ctx = passthru_ctx_ref(ctx);
	*ret = TAKE_PTR(list);
	return 0;
}

/* The old name. */
_public_ int passthru_types_load(struct passthru_ctx *ctx, struct passthru_type_list **ret)
    _alias_(passthru_type_list_load);

static void types_cache_free(void *p)
{
	passthru_type_list_unref(p);
}

const char *types_match(struct passthru_ctx *ctx, uint16_t vendor, uint16_t device, int subvendor,
			int subdevice)
{
	struct passthru_type_list *list = ctx_slot_get(ctx, CTX_SLOT_TYPES);

	if (!list) {
		int r = types_list_new_empty(&list);

		if (r < 0)
			return NULL;
		r = types_load_into(ctx, list);
		if (r < 0)
			log_debug(ctx, "cannot read %s: %s", TYPES_DIR, strerror(-r));
		STRV_FOREACH (p, list->problems)
			log_debug(ctx, "%s", *p);
		/* The cache holds no reference on the context: the context holds the cache. */
		ctx_slot_set(ctx, CTX_SLOT_TYPES, list, types_cache_free);
	}
	return passthru_type_list_match(list, vendor, device, subvendor, subdevice);
}

static void types_cache_forget(struct passthru_ctx *ctx)
{
	ctx_slot_set(ctx, CTX_SLOT_TYPES, NULL, NULL);
}

_public_ int passthru_type_add(struct passthru_ctx *ctx, const char *name, const char *match)
{
	_cleanup_(type_list_unrefp) struct passthru_type_list *list = NULL;
	_cleanup_free_ char *path = NULL, *old = NULL, *text = NULL;
	struct passthru_type_rule rule = {};
	size_t old_len = 0;
	int r;

	if (!ctx || !passthru_type_name_is_valid(name) || !match ||
	    match_parse(match, strlen(match), &rule) < 0)
		return -EINVAL;

	r = passthru_type_list_load(ctx, &list);
	if (r < 0)
		return r;
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->rules[i].name, name) == 0 &&
		    strcmp(list->rules[i].match, rule.match) == 0)
			return -EEXIST;

	if (asprintf(&path, TYPES_DIR "/%s.conf", name) < 0)
		return -ENOMEM;
	r = root_read_file(ctx, path, &old, &old_len);
	if (r < 0 && r != -ENOENT)
		return r;
	if (asprintf(&text, "%s%s%s %s\n", old ? old : "",
		     old_len > 0 && old[old_len - 1] != '\n' ? "\n" : "", name, rule.match) < 0)
		return -ENOMEM;
	r = root_write_file_atomic(ctx, path, text, strlen(text), 0644);
	if (r < 0)
		return r;
	types_cache_forget(ctx);
	return 0;
}

/* Rewrites one file without the rules of name (and match, if given); returns how many went. */
static int remove_from_file(struct passthru_ctx *ctx, const char *path, const char *name,
			    const char *match)
{
	_cleanup_free_ char *text = NULL, *out = NULL;
	size_t len, pos = 0, out_len = 0;
	unsigned lineno = 0;
	bool blank = true;
	int removed = 0, r;

	r = root_read_file(ctx, path, &text, &len);
	if (r < 0) {
		/* Unreadable files hold no rules for the loader either (it reports them). */
		log_debug(ctx, "%s: cannot read: %s", path, strerror(-r));
		return 0;
	}
	out = malloc(len + 1);
	if (!out)
		return -ENOMEM;

	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - line) : len - pos;
		size_t full = line_len + (nl ? 1 : 0);
		struct passthru_type_rule rule = {};

		lineno++;
		pos += full;
		r = parse_line(NULL, path, lineno, line, line_len, &rule);
		if (r < 0)
			return r;
		if (r == LINE_RULE) {
			bool drop = strcmp(rule.name, name) == 0 &&
				    (!match || strcmp(rule.match, match) == 0);

			rule_done(&rule);
			if (drop) {
				removed++;
				continue;
			}
		}
		memcpy(out + out_len, line, full);
		out_len += full;
		for (size_t i = 0; i < line_len; i++)
			if (!is_blank(line[i]))
				blank = false;
	}
	if (removed == 0)
		return 0;
	if (blank)
		r = root_unlink(ctx, path);
	else
		r = root_write_file_atomic(ctx, path, out, out_len, 0644);
	if (r < 0)
		return r;
	return removed;
}

_public_ int passthru_type_remove(struct passthru_ctx *ctx, const char *name, const char *match)
{
	_cleanup_strv_free_ char **files = NULL;
	struct passthru_type_rule rule = {};
	int removed = 0, r;

	/* A built-in name is syntactically fine here: it simply has no rules to remove. */
	if (!ctx || !name || !name_syntax_ok(name, strlen(name)))
		return -EINVAL;
	if (match && match_parse(match, strlen(match), &rule) < 0)
		return -EINVAL;

	r = list_conf_files(ctx, &files);
	if (r < 0)
		return r;
	STRV_FOREACH (f, files) {
		_cleanup_free_ char *path = NULL;

		if (asprintf(&path, TYPES_DIR "/%s", *f) < 0)
			return -ENOMEM;
		r = remove_from_file(ctx, path, name, match ? rule.match : NULL);
		if (r < 0)
			return r;
		removed += r;
	}
	if (removed > 0)
		types_cache_forget(ctx);
	return removed > 0 ? removed : -ENOENT;
}
