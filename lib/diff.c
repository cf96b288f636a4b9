/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A unified diff for the few-line files passthru setup edits (/etc/default/grub, modules-load.d
 * and modprobe.d files): a longest-common-subsequence table over lines, which is plenty for
 * files of a few dozen lines and keeps the output exactly what `diff -u` users expect.
 */
#include <stdint.h>

#include "diff.h"
#include "internal.h"

#define DIFF_MAX_LINES 2048
#define CONTEXT	       3

struct line {
	const char *s;
	size_t len; /* without the newline */
	bool newline;
};

static int split(const char *text, struct line **ret, size_t *ret_n)
{
	struct line *v = NULL;
	size_t n = 0;

	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		struct line *nv;

		if (n >= DIFF_MAX_LINES) {
			free(v);
			return -E2BIG;
		}
		nv = ARRAY_GROW(v, n);
		if (!nv) {
			free(v);
			return -ENOMEM;
		}
		*nv = (struct line){p, nl ? (size_t)(nl - p) : strlen(p), nl != NULL};
		n++;
		p = nl ? nl + 1 : NULL;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

static bool line_eq(const struct line *a, const struct line *b)
{
	return a->len == b->len && a->newline == b->newline && memcmp(a->s, b->s, a->len) == 0;
}

enum op { OP_EQ, OP_DEL, OP_ADD };

struct buf {
	char *s;
	size_t len, cap;
	bool failed;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 256) + n;
		char *ns = realloc(b->s, cap);

		if (!ns) {
			b->failed = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void putf(struct buf *b, const char *fmt, ...) _printf_(2, 3);
static void putf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	put(b, s, (size_t)n);
	free(s);
}

static void put_line(struct buf *b, char mark, const struct line *l)
{
	put(b, &mark, 1);
	put(b, l->s, l->len);
	put(b, "\n", 1);
	if (!l->newline)
		put(b, "\\ No newline at end of file\n", 28);
}

/* "-3,2", "-3" for one line, "-2,0" for none (the line before). */
static void put_range(struct buf *b, char sign, size_t start, size_t count)
{
	if (count == 1)
		putf(b, "%c%zu", sign, start + 1);
	else
		putf(b, "%c%zu,%zu", sign, count ? start + 1 : start, count);
}

int diff_unified(const char *old, const char *new, const char *old_label, const char *new_label,
		 char **ret)
{
	_cleanup_free_ struct line *a = NULL, *b = NULL;
	_cleanup_free_ uint16_t *lcs = NULL;
	_cleanup_free_ enum op *ops = NULL;
	struct buf out = {0};
	size_t na = 0, nb = 0, nops = 0, i, j;
	int r;

	r = split(old, &a, &na);
	if (r >= 0)
		r = split(new, &b, &nb);
	if (r < 0)
		return r;

	/* lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..]. */
	lcs = calloc((na + 1) * (nb + 1), sizeof(*lcs));
	ops = calloc(na + nb + 1, sizeof(*ops));
	if (!lcs || !ops)
		return -ENOMEM;
#define L(x, y) lcs[(x) * (nb + 1) + (y)]
	for (i = na; i-- > 0;)
		for (j = nb; j-- > 0;)
			L(i, j) = line_eq(&a[i], &b[j])	       ? (uint16_t)(L(i + 1, j + 1) + 1)
				  : L(i + 1, j) >= L(i, j + 1) ? L(i + 1, j)
							       : L(i, j + 1);
	for (i = 0, j = 0; i < na || j < nb;) {
		if (i < na && j < nb && line_eq(&a[i], &b[j])) {
			ops[nops++] = OP_EQ;
			i++;
			j++;
		} else if (i < na && (j == nb || L(i + 1, j) >= L(i, j + 1))) {
			/* Deletions before additions, as diff -u shows a replaced line. */
			ops[nops++] = OP_DEL;
			i++;
		} else {
			ops[nops++] = OP_ADD;
			j++;
		}
	}
#undef L

	put(&out, "", 0);
	for (size_t k = 0; k < nops && !out.failed;) {
		size_t start, end, ai = 0, bi = 0, ca = 0, cb = 0, last;

		if (ops[k] == OP_EQ) {
			k++;
			continue;
		}
		/* A hunk: context before, then changes joined while fewer than 2*CONTEXT equal
		 * lines separate them, then context after. */
		start = k > CONTEXT ? k - CONTEXT : 0;
		last = k;
		for (size_t m = k; m < nops; m++) {
			if (ops[m] != OP_EQ)
				last = m;
			else if (m - last > 2 * CONTEXT)
				break;
		}
		end = last + CONTEXT + 1 < nops ? last + CONTEXT + 1 : nops;
		for (size_t m = 0; m < start; m++) {
			ai += ops[m] != OP_ADD;
			bi += ops[m] != OP_DEL;
		}
		for (size_t m = start; m < end; m++) {
			ca += ops[m] != OP_ADD;
			cb += ops[m] != OP_DEL;
		}
		if (out.len == 0) {
			putf(&out, "--- %s\n", old ? old_label : "/dev/null");
			putf(&out, "+++ %s\n", new_label);
		}
		put(&out, "@@ ", 3);
		put_range(&out, '-', ai, ca);
		put(&out, " ", 1);
		put_range(&out, '+', bi, cb);
		put(&out, " @@\n", 4);
		for (size_t m = start; m < end; m++) {
			switch (ops[m]) {
			case OP_EQ:
				put_line(&out, ' ', &a[ai++]);
				bi++;
				break;
			case OP_DEL:
				put_line(&out, '-', &a[ai++]);
				break;
			case OP_ADD:
				put_line(&out, '+', &b[bi++]);
				break;
			}
		}
		k = end;
	}
	if (out.failed) {
		free(out.s);
		return -ENOMEM;
	}
	*ret = out.s;
	return 0;
}
