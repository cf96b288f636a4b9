/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel command lines as the kernel splits them (kernel/params.c next_arg()): tokens separated
 * by whitespace, where a double quote protects spaces ("param=\"a b\""). Every token keeps the
 * whitespace written before it so that untouched parts of a line come back unchanged.
 */
#include <ctype.h>
#include <limits.h>

#include "cmdline.h"
#include "internal.h"

static void token_clear(struct cmdline_token *t)
{
	free(t->space);
	free(t->text);
	free(t->key);
	free(t->value);
}

struct cmdline *cmdline_free(struct cmdline *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_tokens; i++)
		token_clear(&c->tokens[i]);
	free(c->tokens);
	free(c->trailing);
	free(c);
	return NULL;
}

/* A copy of s[0..n) without its double quotes. */
static char *strndup_unquoted(const char *s, size_t n)
{
	char *out = malloc(n + 1), *p = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '"')
			*p++ = s[i];
	*p = '\0';
	return out;
}

/* Fills key and value from text, as next_arg() does: the first '=' splits them. */
static int token_split(struct cmdline_token *t)
{
	const char *eq = strchr(t->text, '=');

	free(t->key);
	free(t->value);
	t->value = NULL;
	if (eq) {
		t->key = strndup_unquoted(t->text, (size_t)(eq - t->text));
		t->value = strndup_unquoted(eq + 1, strlen(eq + 1));
		if (!t->key || !t->value)
			return -ENOMEM;
	} else {
		t->key = strndup_unquoted(t->text, strlen(t->text));
		if (!t->key)
			return -ENOMEM;
	}
	return 0;
}

static int push_token(struct cmdline *c, size_t index, char *space, char *text)
{
	struct cmdline_token *n, t = {.space = space, .text = text};
	int r;

	if (!space || !text) {
		free(space);
		free(text);
		return -ENOMEM;
	}
	r = token_split(&t);
	if (r < 0) {
		token_clear(&t);
		return r;
	}
	n = ARRAY_GROW(c->tokens, c->n_tokens);
	if (!n) {
		token_clear(&t);
		return -ENOMEM;
	}
	memmove(&c->tokens[index + 1], &c->tokens[index], (c->n_tokens - index) * sizeof(*n));
	c->tokens[index] = t;
	c->n_tokens++;
	return 0;
}

int cmdline_parse(const char *text, struct cmdline **ret)
{
	struct cmdline *c = calloc(1, sizeof(*c));
	const char *p = text ? text : "";
	int r;

	if (!c)
		return -ENOMEM;
	for (;;) {
		const char *start = p, *tok;
		bool quoted = false;

		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p) {
			c->trailing = strndup(start, (size_t)(p - start));
			if (!c->trailing) {
				cmdline_free(c);
				return -ENOMEM;
			}
			break;
		}
		tok = p;
		while (*p && (quoted || !isspace((unsigned char)*p))) {
			if (*p == '"')
				quoted = !quoted;
			p++;
		}
		r = push_token(c, c->n_tokens, strndup(start, (size_t)(tok - start)),
			       strndup(tok, (size_t)(p - tok)));
		if (r < 0) {
			cmdline_free(c);
			return r;
		}
	}
	*ret = c;
	return 0;
}

int cmdline_format(const struct cmdline *c, char **ret)
{
	size_t len = strlen(c->trailing ? c->trailing : "") + 1;
	char *s, *p;

	for (size_t i = 0; i < c->n_tokens; i++)
		len += strlen(c->tokens[i].space) + strlen(c->tokens[i].text);
	s = p = malloc(len);
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_tokens; i++) {
		p = stpcpy(p, c->tokens[i].space);
		p = stpcpy(p, c->tokens[i].text);
	}
	stpcpy(p, c->trailing ? c->trailing : "");
	*ret = s;
	return 0;
}

bool cmdline_quotes_balanced(const struct cmdline *c)
{
	/* Tokens end only outside quotes: only the last one can leave a quote open. */
	size_t quotes = 0;

	if (c->n_tokens == 0)
		return true;
	for (const char *p = c->tokens[c->n_tokens - 1].text; *p; p++)
		quotes += *p == '"';
	return quotes % 2 == 0;
}

size_t cmdline_n_params(const struct cmdline *c)
{
	for (size_t i = 0; i < c->n_tokens; i++)
		if (strcmp(c->tokens[i].text, "--") == 0)
			return i;
	return c->n_tokens;
}

bool cmdline_key_equal(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;

		if (x != y)
			return false;
		if (!x)
			return true;
	}
}

long cmdline_find(const struct cmdline *c, const char *key, size_t from)
{
	size_t n = cmdline_n_params(c);

	for (size_t i = from; i < n; i++)
		if (cmdline_key_equal(c->tokens[i].key, key))
			return (long)i;
	return -1;
}

const char *cmdline_get(const struct cmdline *c, const char *key, bool *ret_present)
{
	const char *value = NULL;
	bool present = false;

	for (long i = cmdline_find(c, key, 0); i >= 0; i = cmdline_find(c, key, (size_t)i + 1)) {
		present = true;
		value = c->tokens[i].value;
	}
	if (ret_present)
		*ret_present = present;
	return value;
}

static char *make_token_text(const char *key, const char *value)
{
	char *s;

	if (!value)
		return strdup(key);
	if (asprintf(&s, "%s=%s", key, value) < 0)
		return NULL;
	return s;
}

int cmdline_insert(struct cmdline *c, size_t index, const char *key, const char *value)
{
	char *space;
	int r;

	if (index > c->n_tokens)
		return -EINVAL;
	if (index < c->n_tokens) {
		/* The new token takes the place, and the leading whitespace, of the one it
		 * precedes. */
		space = strdup(c->tokens[index].space);
		if (!space)
			return -ENOMEM;
		r = push_token(c, index, space, make_token_text(key, value));
		if (r < 0)
			return r;
		free(c->tokens[index + 1].space);
		c->tokens[index + 1].space = strdup(" ");
		return c->tokens[index + 1].space ? 0 : -ENOMEM;
	}
	return push_token(c, index, strdup(c->n_tokens > 0 ? " " : ""),
			  make_token_text(key, value));
}

int cmdline_append(struct cmdline *c, const char *key, const char *value)
{
	return cmdline_insert(c, cmdline_n_params(c), key, value);
}

void cmdline_remove(struct cmdline *c, size_t index)
{
	if (index >= c->n_tokens)
		return;
	if (index == 0 && c->n_tokens > 1) {
		/* Keep the line's leading whitespace where it was. */
		free(c->tokens[1].space);
		c->tokens[1].space = TAKE_PTR(c->tokens[0].space);
	}
	token_clear(&c->tokens[index]);
	memmove(&c->tokens[index], &c->tokens[index + 1],
		(c->n_tokens - index - 1) * sizeof(c->tokens[0]));
	c->n_tokens--;
}

/* A value that the kernel would split or unquote: it cannot be written back bare. */
static bool needs_quoting(const char *v)
{
	for (; v && *v; v++)
		if (isspace((unsigned char)*v) || *v == '"')
			return true;
	return false;
}

int cmdline_set_value(struct cmdline *c, size_t index, const char *value)
{
	struct cmdline_token *t;
	char *text;

	if (index >= c->n_tokens || needs_quoting(value))
		return -EINVAL;
	t = &c->tokens[index];
	text = make_token_text(t->key, value);
	if (!text)
		return -ENOMEM;
	free(t->text);
	t->text = text;
	return token_split(t);
}

bool cmdline_list_contains(const char *value, const char *item)
{
	size_t n = strlen(item);

	if (!value)
		return false;
	for (const char *p = value;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == n && strncmp(p, item, n) == 0)
			return true;
		if (!comma)
			return false;
		p = comma + 1;
	}
}

int cmdline_parse_size(const char *text, unsigned long long *ret_kib)
{
	unsigned long long v = 0, shift = 0;
	const char *p = text;

	if (!text || !*text)
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (ULLONG_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (unsigned long long)(*p - '0');
	}
	if (p == text)
		return -EINVAL;
	switch (*p) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	case '\0':
		break;
	default:
		return -EINVAL;
	}
	if (*p && p[1])
		return -EINVAL;
	if (v == 0 || (shift && v > (ULLONG_MAX >> shift)))
		return -EINVAL;
	v <<= shift;
	if (v % 1024)
		return -EINVAL;
	*ret_kib = v / 1024;
	return 0;
}

int cmdline_format_size(unsigned long long kib, char **ret)
{
	int r;

	if (kib == 0)
		return -EINVAL;
	if (kib % (1024ULL * 1024 * 1024) == 0)
		r = asprintf(ret, "%lluT", kib / (1024ULL * 1024 * 1024));
	else if (kib % (1024 * 1024) == 0)
		r = asprintf(ret, "%lluG", kib / (1024 * 1024));
	else if (kib % 1024 == 0)
		r = asprintf(ret, "%lluM", kib / 1024);
	else
		r = asprintf(ret, "%lluK", kib);
	return r < 0 ? -ENOMEM : 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Requirements                                                                               */

/* A position in a command line made of several parts. */
struct pos {
	size_t part;
	size_t index;
};

/* The next kernel parameter named key at or after *p, across parts; false at the end. */
static bool next_occurrence(struct cmdline *const *parts, size_t n_parts, const char *key,
			    struct pos *p)
{
	for (; p->part < n_parts; p->part++, p->index = 0) {
		long i = cmdline_find(parts[p->part], key, p->index);

		if (i >= 0) {
			p->index = (size_t)i;
			return true;
		}
	}
	return false;
}

/* The parts the kernel reads parameters from: what follows a bare "--" is init's. */
static size_t kernel_parts(struct cmdline *const *parts, size_t n_parts)
{
	for (size_t i = 0; i < n_parts; i++)
		if (cmdline_n_params(parts[i]) < parts[i]->n_tokens)
			return i + 1;
	return n_parts;
}

#define FOREACH_OCCURRENCE(it, parts, n, key)                                                      \
	for (struct pos it = {0, 0}; next_occurrence(parts, n, key, &it); it.index++)

static const struct cmdline_token *token_at(struct cmdline *const *parts, struct pos p)
{
	return &parts[p.part]->tokens[p.index];
}

static bool is_size_key(const char *key)
{
	return cmdline_key_equal(key, "hugepagesz") || cmdline_key_equal(key, "default_hugepagesz");
}

bool param_value_acceptable(const char *key, const char *have, const char *want)
{
	if (cmdline_key_equal(key, "intel_iommu"))
		return cmdline_list_contains(have, "on") && !cmdline_list_contains(have, "off");
	if (cmdline_key_equal(key, "iommu"))
		return cmdline_list_contains(have, "pt") && !cmdline_list_contains(have, "off") &&
		       !cmdline_list_contains(have, "soft") && !cmdline_list_contains(have, "nopt");
	if (is_size_key(key)) {
		unsigned long long a, b;

		return have && cmdline_parse_size(have, &a) >= 0 &&
		       cmdline_parse_size(want, &b) >= 0 && a == b;
	}
	/* Boolean module parameters: "param" alone, 1, y and Y all mean true (param_set_bool()). */
	if (strchr(key, '.') && strcmp(want, "1") == 0)
		return !have || strcmp(have, "1") == 0 || strcmp(have, "y") == 0 ||
		       strcmp(have, "Y") == 0;
	return have && strcmp(have, want) == 0;
}

/* The value to write over an unacceptable one: intel_iommu keeps its other options. */
static int fixed_value(const char *key, const char *have, const char *want, char **ret)
{
	/* Keep the other options only when they can be written back as they are. */
	if (cmdline_key_equal(key, "intel_iommu") && have && *have && !needs_quoting(have)) {
		char *out = NULL, *copy = strdup(have), *item, *save = NULL;
		bool has_on = false;
		size_t len = 0;

		if (!copy)
			return -ENOMEM;
		/* "off" becomes "on"; "igfx_off", "sm_on" and the like stay. */
		out = calloc(1, strlen(have) + 4);
		if (!out) {
			free(copy);
			return -ENOMEM;
		}
		for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
			if (strcmp(item, "off") == 0)
				item = "on";
			if (strcmp(item, "on") == 0) {
				if (has_on)
					continue;
				has_on = true;
			}
			len += (size_t)sprintf(out + len, "%s%s", len ? "," : "", item);
		}
		free(copy);
		if (!has_on) {
			memmove(out + 3, out, len + 1);
			memcpy(out, len ? "on," : "on\0", 3);
		}
		*ret = out;
		return 0;
	}
	*ret = strdup(want);
	return *ret ? 0 : -ENOMEM;
}

/* Huge page counts as the kernel reads them: each hugepages= belongs to the hugepagesz= before
 * it, or to the default size when none precedes it. */
struct hp_count {
	unsigned long long kib;
	struct pos pos;
	const char *value;
};

static unsigned long long default_hugepage_kib(struct cmdline *const *parts, size_t n_parts)
{
	unsigned long long kib = 2048; /* x86's default huge page size */

	FOREACH_OCCURRENCE(p, parts, n_parts, "default_hugepagesz")
	{
		unsigned long long v;

		if (cmdline_parse_size(token_at(parts, p)->value, &v) >= 0)
			kib = v;
	}
	return kib;
}

/* Every hugepages= with the size it applies to; *ret_n counts them. A malformed hugepagesz=
 * gives size 0 to the counts after it. */
static int hugepage_counts(struct cmdline *const *parts, size_t n_parts, struct hp_count **ret,
			   size_t *ret_n)
{
	unsigned long long def = default_hugepage_kib(parts, n_parts), cur = 0;
	struct hp_count *v = NULL;
	size_t n = 0;
	bool sized = false;

	for (size_t part = 0; part < n_parts; part++) {
		size_t np = cmdline_n_params(parts[part]);

		for (size_t i = 0; i < np; i++) {
			const struct cmdline_token *t = &parts[part]->tokens[i];

			if (cmdline_key_equal(t->key, "hugepagesz")) {
				sized = true;
				if (cmdline_parse_size(t->value, &cur) < 0)
					cur = 0;
			} else if (cmdline_key_equal(t->key, "hugepages")) {
				struct hp_count *nv = ARRAY_GROW(v, n);

				if (!nv) {
					free(v);
					return -ENOMEM;
				}
				*nv = (struct hp_count){sized ? cur : def, {part, i}, t->value};
				n++;
			}
		}
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Whether the counts of every size other than kib are the same in a and b. */
static bool other_sizes_unchanged(const struct hp_count *a, size_t na, const struct hp_count *b,
				  size_t nb, unsigned long long kib)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < na && a[i].kib == kib)
			i++;
		while (j < nb && b[j].kib == kib)
			j++;
		if (i == na || j == nb)
			return i == na && j == nb;
		if (a[i].kib != b[j].kib || !a[i].value != !b[j].value ||
		    (a[i].value && strcmp(a[i].value, b[j].value) != 0))
			return false;
		i++;
		j++;
	}
}

static bool count_equal(const char *value, unsigned long count)
{
	long v;

	return value && parse_long(value, 0, LONG_MAX, &v) >= 0 && (unsigned long)v == count;
}

static bool hugepages_satisfied(struct cmdline *const *parts, size_t n_parts,
				const struct param_req *r)
{
	_cleanup_free_ struct hp_count *v = NULL;
	unsigned long long kib;
	size_t n;
	bool found = false;

	if (cmdline_parse_size(r->value, &kib) < 0 || hugepage_counts(parts, n_parts, &v, &n) < 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i].kib != kib)
			continue;
		if (!count_equal(v[i].value, r->count))
			return false;
		found = true;
	}
	return found;
}

bool param_req_satisfied(struct cmdline *const *parts, size_t n_parts, const struct param_req *r)
{
	bool found = false;

	n_parts = kernel_parts(parts, n_parts);

	switch (r->kind) {
	case PARAM_REQ_SET:
		FOREACH_OCCURRENCE(p, parts, n_parts, r->key)
		{
			if (!param_value_acceptable(r->key, token_at(parts, p)->value, r->value))
				return false;
			found = true;
		}
		return found;
	case PARAM_REQ_NOT:
		FOREACH_OCCURRENCE(p, parts, n_parts, r->key)
		if (cmdline_list_contains(token_at(parts, p)->value, r->value))
			return false;
		return true;
	case PARAM_REQ_MEMBER:
		FOREACH_OCCURRENCE(p, parts, n_parts, r->key)
		if (cmdline_list_contains(token_at(parts, p)->value, r->value))
			return true;
		return false;
	case PARAM_REQ_HUGEPAGES:
		return hugepages_satisfied(parts, n_parts, r);
	}
	return false;
}

static int apply_set(struct cmdline **parts, size_t n_parts, const struct param_req *r)
{
	struct pos p = {0, 0};
	bool first = true;
	int changed = 0, k;

	/* When some occurrence already has a good value, every conflicting one just goes:
	 * replacing one would write the good value a second time. */
	FOREACH_OCCURRENCE(q, parts, n_parts, r->key)
	{
		if (param_value_acceptable(r->key, token_at(parts, q)->value, r->value))
			first = false;
	}

	while (next_occurrence(parts, n_parts, r->key, &p)) {
		const struct cmdline_token *t = token_at(parts, p);

		if (param_value_acceptable(r->key, t->value, r->value)) {
			first = false;
			p.index++;
			continue;
		}
		if (first) {
			_cleanup_free_ char *value = NULL;

			/* Replace the conflicting value where it stands. */
			k = fixed_value(r->key, t->value, r->value, &value);
			if (k < 0)
				return k;
			k = cmdline_set_value(parts[p.part], p.index, value);
			if (k < 0)
				return k;
			first = false;
			p.index++;
		} else {
			/* A later conflicting duplicate: it would win, so it goes. */
			cmdline_remove(parts[p.part], p.index);
		}
		changed = 1;
	}
	if (first) {
		k = cmdline_append(parts[0], r->key, r->value);
		if (k < 0)
			return k;
		changed = 1;
	}
	return changed;
}

/* Removes item from the comma lists of every occurrence of key; drops emptied tokens. */
static int apply_not(struct cmdline **parts, size_t n_parts, const struct param_req *r)
{
	struct pos p = {0, 0};
	int changed = 0, k;

	while (next_occurrence(parts, n_parts, r->key, &p)) {
		const struct cmdline_token *t = token_at(parts, p);
		_cleanup_free_ char *copy = NULL, *rest = NULL;
		char *item, *save = NULL;
		size_t len = 0;

		if (!cmdline_list_contains(t->value, r->value)) {
			p.index++;
			continue;
		}
		copy = strdup(t->value);
		rest = calloc(1, strlen(t->value) + 1);
		if (!copy || !rest)
			return -ENOMEM;
		for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save))
			if (strcmp(item, r->value) != 0)
				len += (size_t)sprintf(rest + len, "%s%s", len ? "," : "", item);
		/* A quoted value with spaces cannot be rewritten bare: the token goes whole. */
		if (len == 0 || needs_quoting(rest)) {
			cmdline_remove(parts[p.part], p.index);
		} else {
			k = cmdline_set_value(parts[p.part], p.index, rest);
			if (k < 0)
				return k;
			p.index++;
		}
		changed = 1;
	}
	return changed;
}

static int apply_hugepages(struct cmdline **parts, size_t n_parts, const struct param_req *r)
{
	_cleanup_free_ struct hp_count *v = NULL;
	_cleanup_free_ char *count = NULL;
	unsigned long long kib;
	size_t n;
	bool seen = false;
	int changed = 0, k;

	if (cmdline_parse_size(r->value, &kib) < 0)
		return -EINVAL;
	if (asprintf(&count, "%lu", r->count) < 0)
		return -ENOMEM;
	k = hugepage_counts(parts, n_parts, &v, &n);
	if (k < 0)
		return k;
	/* Backwards, so that removing a token leaves the positions still to visit valid. */
	for (size_t i = n; i-- > 0;) {
		bool is_first = true;

		if (v[i].kib != kib)
			continue;
		for (size_t j = 0; j < i; j++)
			if (v[j].kib == kib)
				is_first = false;
		seen = true;
		if (!is_first) {
			cmdline_remove(parts[v[i].pos.part], v[i].pos.index);
			changed = 1;
		} else if (!count_equal(v[i].value, r->count)) {
			k = cmdline_set_value(parts[v[i].pos.part], v[i].pos.index, count);
			if (k < 0)
				return k;
			changed = 1;
		}
	}
	if (seen)
		return changed;

	/* A hugepagesz= of this size without a count: give it one right after it. */
	FOREACH_OCCURRENCE(p, parts, n_parts, "hugepagesz")
	{
		unsigned long long s;

		if (cmdline_parse_size(token_at(parts, p)->value, &s) < 0 || s != kib)
			continue;
		k = cmdline_insert(parts[p.part], p.index + 1, "hugepages", count);
		return k < 0 ? k : 1;
	}
	k = cmdline_append(parts[0], "hugepagesz", r->value);
	if (k >= 0)
		k = cmdline_append(parts[0], "hugepages", count);
	return k < 0 ? k : 1;
}

/*
 * Changing the default size changes what a hugepages= before any hugepagesz= counts: pin such
 * counts to the old default first by giving them an explicit hugepagesz=.
 */
static int pin_default_counts(struct cmdline **parts, size_t n_parts, const char *new_size)
{
	_cleanup_free_ struct hp_count *v = NULL;
	_cleanup_free_ char *old = NULL;
	unsigned long long def, want;
	size_t n;
	int k;

	if (cmdline_parse_size(new_size, &want) < 0)
		return -EINVAL;
	def = default_hugepage_kib(parts, n_parts);
	if (def == want)
		return 0;
	k = hugepage_counts(parts, n_parts, &v, &n);
	if (k < 0)
		return k;
	for (size_t i = 0; i < n; i++) {
		bool sized = false;

		/* Bare counts come before every hugepagesz=; the first one is where to pin. */
		for (size_t part = 0; part <= v[i].pos.part && !sized; part++)
			for (size_t j = 0; j < parts[part]->n_tokens; j++) {
				if (part == v[i].pos.part && j >= v[i].pos.index)
					break;
				if (cmdline_key_equal(parts[part]->tokens[j].key, "hugepagesz"))
					sized = true;
			}
		if (sized)
			return 0;
		k = cmdline_format_size(def, &old);
		if (k < 0)
			return k;
		return cmdline_insert(parts[v[i].pos.part], v[i].pos.index, "hugepagesz", old);
	}
	return 0;
}

int param_req_apply(struct cmdline **parts, size_t n_parts, const struct param_req *r)
{
	_cleanup_free_ struct hp_count *before = NULL, *after = NULL;
	unsigned long long kib = 0;
	size_t nb = 0, na = 0;
	int k, changed;

	if (n_parts == 0)
		return -EINVAL;
	n_parts = kernel_parts(parts, n_parts);
	if (param_req_satisfied(parts, n_parts, r))
		return 0;
	k = hugepage_counts(parts, n_parts, &before, &nb);
	if (k < 0)
		return k;

	switch (r->kind) {
	case PARAM_REQ_SET:
		if (cmdline_key_equal(r->key, "default_hugepagesz")) {
			k = pin_default_counts(parts, n_parts, r->value);
			if (k < 0)
				return k;
		}
		changed = apply_set(parts, n_parts, r);
		break;
	case PARAM_REQ_NOT:
		changed = apply_not(parts, n_parts, r);
		break;
	case PARAM_REQ_MEMBER:
		k = cmdline_append(parts[0], r->key, r->value);
		changed = k < 0 ? k : 1;
		break;
	case PARAM_REQ_HUGEPAGES:
		if (cmdline_parse_size(r->value, &kib) < 0)
			return -EINVAL;
		changed = apply_hugepages(parts, n_parts, r);
		break;
	default:
		return -EINVAL;
	}
	if (changed < 0)
		return changed;

	/* The edit must have worked and must not have changed any other huge page count. */
	if (!param_req_satisfied(parts, n_parts, r))
		return -EDOM;
	k = hugepage_counts(parts, n_parts, &after, &na);
	if (k < 0)
		return k;
	if (!other_sizes_unchanged(before, nb, after, na, kib))
		return -EDOM;
	return changed;
}

int param_req_format(const struct param_req *r, char **ret)
{
	int k;

	switch (r->kind) {
	case PARAM_REQ_SET:
	case PARAM_REQ_MEMBER:
		k = asprintf(ret, "%s=%s", r->key, r->value);
		break;
	case PARAM_REQ_NOT:
		k = asprintf(ret, "no %s=%s", r->key, r->value);
		break;
	case PARAM_REQ_HUGEPAGES:
		k = asprintf(ret, "hugepagesz=%s hugepages=%lu", r->value, r->count);
		break;
	default:
		return -EINVAL;
	}
	return k < 0 ? -ENOMEM : 0;
}
