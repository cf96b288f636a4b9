/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The GRUB_CMDLINE_LINUX editor. /etc/default/grub is shell, sourced by grub-mkconfig; we do not
 * evaluate shell, so we only ever touch an assignment whose meaning is certain, and refuse the
 * whole file otherwise. The lexer knows just enough shell to find those assignments reliably:
 * quotes (a line inside a multi-line quoted value of another variable is not an assignment),
 * comments, backslash continuations, command separators and the block keywords that make an
 * assignment conditional.
 */
#include <ctype.h>

#include "grub.h"
#include "internal.h"

static const char *const var_names[_GRUB_VAR_MAX] = {
    [GRUB_VAR_LINUX] = "GRUB_CMDLINE_LINUX",
    [GRUB_VAR_LINUX_DEFAULT] = "GRUB_CMDLINE_LINUX_DEFAULT",
};

const char *grub_var_name(enum grub_var_id id)
{
	return id < _GRUB_VAR_MAX ? var_names[id] : NULL;
}

struct grub_default *grub_default_free(struct grub_default *g)
{
	if (!g)
		return NULL;
	for (size_t i = 0; i < _GRUB_VAR_MAX; i++)
		free(g->vars[i].value);
	free(g->text);
	free(g);
	return NULL;
}

static int fail(struct grub_error *err, unsigned line, const char *var, const char *reason)
{
	*err = (struct grub_error){.line = line, .var = var, .reason = reason};
	return -EBADMSG;
}

/* ------------------------------------------------------------------------------------------ */
/* Logical lines: physical lines joined by an open quote or a backslash-newline.               */

struct lline {
	size_t start, end;
	unsigned line;
	bool multi;
};

static bool is_word_break(char c)
{
	return c == ' ' || c == '\t' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')' ||
	       c == '<' || c == '>' || c == '\n';
}

static int split_lines(const char *s, size_t len, struct lline **ret, size_t *ret_n,
		       bool *ret_open_escape, struct grub_error *err)
{
	enum { NORMAL, SQ, DQ, COMMENT } state = NORMAL;
	_cleanup_free_ struct lline *v = NULL;
	struct lline cur = {0, 0, 1, false};
	unsigned line = 1;
	size_t n = 0;

	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? s[i] : '\n';
		bool end = false;

		/* A backslash as the very last byte would join whatever is appended to the file. */
		if (c == '\\' && (state == NORMAL || state == DQ) &&
		    (i + 1 == len || (i + 2 == len && s[i + 1] == '\n')))
			*ret_open_escape = true;
		switch (state) {
		case NORMAL:
			if (c == '\\' && i + 1 < len) {
				if (s[i + 1] == '\n') {
					cur.multi = true;
					line++;
				}
				i++;
			} else if (c == '\'') {
				state = SQ;
			} else if (c == '"') {
				state = DQ;
			} else if (c == '#' && (i == cur.start || is_word_break(s[i - 1]))) {
				state = COMMENT;
			} else if (c == '<' && i + 1 < len && s[i + 1] == '<') {
				return fail(err, line, NULL, "uses a here-document");
			} else if (c == '\n') {
				end = true;
			}
			break;
		case COMMENT:
			if (c == '\n') {
				state = NORMAL;
				end = true;
			}
			break;
		case SQ:
			if (c == '\'')
				state = NORMAL;
			break;
		case DQ:
			if (c == '\\' && i + 1 < len) {
				if (s[i + 1] == '\n') {
					cur.multi = true;
					line++;
				}
				i++;
			} else if (c == '"') {
				state = NORMAL;
			}
			break;
		}
		if (i == len && (state == SQ || state == DQ))
			return fail(err, cur.line, NULL, "has an unterminated quote");
		if (c == '\n' && !end && i < len) {
			cur.multi = true;
			line++;
			continue;
		}
		if (!end)
			continue;
		cur.end = i < len ? i : len;
		{
			struct lline *nv = ARRAY_GROW(v, n);

			if (!nv)
				return -ENOMEM;
			*nv = cur;
			n++;
		}
		line++;
		cur = (struct lline){i + 1, 0, line, false};
	}
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Words and operators of one logical line.                                                    */

enum item_kind {
	ITEM_WORD,
	ITEM_SEP,   /* ; & && || | */
	ITEM_OPEN,  /* ( */
	ITEM_CLOSE, /* ) */
	ITEM_REDIR, /* < > and friends */
};

struct item {
	enum item_kind kind;
	size_t start, end;
};

static int split_items(const char *s, const struct lline *l, struct item **ret, size_t *ret_n)
{
	_cleanup_free_ struct item *v = NULL;
	size_t n = 0, i = l->start;

	while (i < l->end) {
		struct item it;
		char c = s[i];

		if (c == ' ' || c == '\t' || c == '\n') {
			i++;
			continue;
		}
		if (c == '\\' && i + 1 < l->end && s[i + 1] == '\n') {
			i += 2;
			continue;
		}
		if (c == '#')
			break;
		it.start = i;
		if (c == ';' || c == '&' || c == '|') {
			it.kind = ITEM_SEP;
			i += (i + 1 < l->end && s[i + 1] == c) ? 2 : 1;
		} else if (c == '(' || c == ')') {
			it.kind = c == '(' ? ITEM_OPEN : ITEM_CLOSE;
			i++;
		} else if (c == '<' || c == '>') {
			it.kind = ITEM_REDIR;
			i++;
		} else {
			it.kind = ITEM_WORD;
			while (i < l->end && !is_word_break(s[i])) {
				if (s[i] == '\\') {
					i += 2;
				} else if (s[i] == '\'') {
					for (i++; i < l->end && s[i] != '\''; i++)
						;
					i++;
				} else if (s[i] == '"') {
					for (i++; i < l->end && s[i] != '"'; i++)
						if (s[i] == '\\')
							i++;
					i++;
				} else {
					i++;
				}
			}
			if (i > l->end)
				i = l->end;
		}
		it.end = i;
		{
			struct item *nv = ARRAY_GROW(v, n);

			if (!nv)
				return -ENOMEM;
			*nv = it;
			n++;
		}
	}
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

static bool word_is(const char *s, const struct item *it, const char *w)
{
	size_t n = strlen(w);

	return it->kind == ITEM_WORD && it->end - it->start == n &&
	       memcmp(s + it->start, w, n) == 0;
}

static bool is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Whether s[i..end) starts with a reference to name: "$NAME" or "${NAME" with a name boundary.
 * *ret_len gets the length of the reference ("${NAME}" whole). */
static bool is_reference(const char *s, size_t i, size_t end, const char *name, size_t *ret_len)
{
	size_t n = strlen(name), j = i + 1;
	bool brace = false;

	if (s[i] != '$')
		return false;
	if (j < end && s[j] == '{') {
		brace = true;
		j++;
	}
	if (end - j < n || memcmp(s + j, name, n) != 0)
		return false;
	j += n;
	if (j < end && is_name_char(s[j]))
		return false;
	if (brace) {
		if (j >= end || s[j] != '}')
			return false;
		j++;
	}
	if (ret_len)
		*ret_len = j - i;
	return true;
}

/* The first reference to one of our variables in a word, outside single quotes; -1 if none. */
static int find_reference(const char *s, const struct item *it)
{
	bool sq = false, dq = false;

	for (size_t i = it->start; i < it->end; i++) {
		if (sq) {
			sq = s[i] != '\'';
			continue;
		}
		if (s[i] == '\'' && !dq) {
			sq = true;
			continue;
		}
		if (s[i] == '"') {
			dq = !dq;
			continue;
		}
		if (s[i] == '\\') {
			i++;
			continue;
		}
		for (int id = 0; id < _GRUB_VAR_MAX; id++)
			if (is_reference(s, i, it->end, var_names[id], NULL))
				return id;
	}
	return -1;
}

/* Characters an unquoted literal value may hold: no quoting, expansion or escape. */
static bool is_plain_char(char c)
{
	return !isspace((unsigned char)c) && c != '\'' && c != '"' && c != '$' && c != '`' &&
	       c != '\\' && c != '~' && c != ';' && c != '&' && c != '|' && c != '(' && c != ')' &&
	       c != '<' && c != '>' && (unsigned char)c >= 0x20 && c != 0x7f;
}

/*
 * Checks that raw[0..len) is a value whose meaning is certain and unquotes it. Returns NULL or
 * the reason it is not.
 */
static const char *analyze_value(const char *raw, size_t len, const char *name, bool lenient,
				 struct grub_var *var)
{
	size_t i = 0, ref = 0, body;
	char q = len > 0 ? raw[0] : 0;

	var->quote = 0;
	var->self_append = false;
	if (q == '\'' || q == '"') {
		var->quote = q;
		i = 1;
		if (q == '"' && lenient && is_reference(raw, 1, len, name, &ref)) {
			var->self_append = true;
			i += ref;
		}
		body = i;
		for (; i < len && raw[i] != q; i++) {
			if (raw[i] == '\n')
				return "has a quoted value spanning several lines";
			if (q == '\'')
				continue;
			if (raw[i] == '\\')
				return i + 1 < len && raw[i + 1] == '\n'
					   ? "continues on the next line"
					   : "uses a backslash escape";
			if (raw[i] == '`')
				return "uses command substitution (`)";
			if (raw[i] == '$')
				return "uses a shell expansion ($)";
		}
		if (i + 1 != len)
			return "is built from several quoted parts";
		var->value = strndup(raw + body, i - body);
		return var->value ? NULL : "out of memory";
	}
	for (; i < len; i++) {
		if (raw[i] == '\'' || raw[i] == '"')
			return "is built from several quoted parts";
		if (raw[i] == '\\')
			return i + 1 < len && raw[i + 1] == '\n' ? "continues on the next line"
								 : "uses a backslash escape";
		if (raw[i] == '`')
			return "uses command substitution (`)";
		if (raw[i] == '$')
			return "uses a shell expansion ($)";
		if (!is_plain_char(raw[i]))
			return "uses shell syntax passthru does not edit";
	}
	var->value = strndup(raw, len);
	return var->value ? NULL : "out of memory";
}

/* Block structure, only to know whether an assignment is conditional. */
struct blocks {
	int depth;
	int case_depth;
};

static void track_reserved(struct blocks *b, const char *s, const struct item *it)
{
	static const char *const openers[] = {"if", "while", "until", "for", "select", "{"};
	static const char *const closers[] = {"fi", "done", "}"};

	for (size_t k = 0; k < ELEMENTSOF(openers); k++)
		if (word_is(s, it, openers[k]))
			b->depth++;
	for (size_t k = 0; k < ELEMENTSOF(closers); k++)
		if (word_is(s, it, closers[k]) && b->depth > 0)
			b->depth--;
	if (word_is(s, it, "case")) {
		b->depth++;
		b->case_depth++;
	} else if (word_is(s, it, "esac")) {
		if (b->depth > 0)
			b->depth--;
		if (b->case_depth > 0)
			b->case_depth--;
	}
}

/* Words after which the next word starts a command too. */
static bool keeps_command_start(const char *s, const struct item *it)
{
	static const char *const words[] = {"then", "do", "else",  "elif", "!",
					    "{",    "if", "while", "until"};

	for (size_t k = 0; k < ELEMENTSOF(words); k++)
		if (word_is(s, it, words[k]))
			return true;
	return false;
}

/* If the word assigns one of our variables, which one (and where its '=' is); else -1. */
static int assigned_var(const char *s, const struct item *it, size_t *ret_eq, bool *ret_append)
{
	for (int id = 0; id < _GRUB_VAR_MAX; id++) {
		size_t n = strlen(var_names[id]);

		if (it->kind != ITEM_WORD || it->end - it->start <= n ||
		    memcmp(s + it->start, var_names[id], n) != 0)
			continue;
		if (s[it->start + n] == '=') {
			*ret_eq = it->start + n;
			*ret_append = false;
			return id;
		}
		if (s[it->start + n] == '+' && it->start + n + 1 < it->end &&
		    s[it->start + n + 1] == '=') {
			*ret_eq = it->start + n + 1;
			*ret_append = true;
			return id;
		}
	}
	return -1;
}

static int analyze_line(struct grub_default *g, const struct lline *l, bool lenient,
			struct blocks *b, struct grub_error *err)
{
	_cleanup_free_ struct item *items = NULL;
	const char *s = g->text;
	bool cmd_start = true;
	size_t n;
	int r;

	r = split_items(s, l, &items, &n);
	if (r < 0)
		return r;
	for (size_t k = 0; k < n; k++) {
		const struct item *it = &items[k];
		bool append, after_export = k == 1 && word_is(s, &items[0], "export");
		size_t eq;
		int id;

		if (it->kind != ITEM_WORD) {
			if (it->kind == ITEM_OPEN)
				b->depth++;
			else if (it->kind == ITEM_CLOSE && b->case_depth == 0 && b->depth > 0)
				b->depth--;
			cmd_start = it->kind != ITEM_REDIR;
			continue;
		}

		id = assigned_var(s, it, &eq, &append);
		if (id >= 0) {
			struct grub_var *var = &g->vars[id], tmp = {0};
			const char *name = var_names[id], *why;

			if (append)
				return fail(err, l->line, name, "is set with +=");
			if (!((k == 0 && cmd_start) || after_export))
				return fail(err, l->line, name, "is set in a compound command");
			if (b->depth > 0)
				return fail(err, l->line, name,
					    "is set inside a shell block (if, case or a loop)");
			why = analyze_value(s + eq + 1, it->end - eq - 1, name, lenient, &tmp);
			if (!why && k + 1 < n)
				why = items[k + 1].kind == ITEM_OPEN
					  ? "uses a shell expansion ($)"
					  : "is followed by another command";
			if (why) {
				free(tmp.value);
				return fail(err, l->line, name, why);
			}
			if (l->multi) {
				free(tmp.value);
				return fail(err, l->line, name, "continues on the next line");
			}
			if (var->present) {
				free(tmp.value);
				r = fail(err, l->line, name, "is defined more than once");
				err->other_line = var->line;
				return r;
			}
			tmp.present = true;
			tmp.line = l->line;
			tmp.value_start = eq + 1;
			tmp.value_end = it->end;
			*var = tmp;
			cmd_start = false;
			continue;
		}

		id = find_reference(s, it);
		if (id >= 0)
			return fail(err, l->line, var_names[id],
				    "is referred to outside its own assignment");
		for (int v = 0; v < _GRUB_VAR_MAX; v++)
			if (word_is(s, it, var_names[v]) && !after_export)
				return fail(err, l->line, var_names[v],
					    "is used by a command passthru cannot follow");
		if (cmd_start && (word_is(s, it, ".") || word_is(s, it, "source")))
			return fail(err, l->line, NULL,
				    "sources another file, which may set the kernel command line");
		if (cmd_start) {
			track_reserved(b, s, it);
			cmd_start = keeps_command_start(s, it);
		}
	}
	return 0;
}

int grub_default_parse(const char *text, size_t len, bool lenient, struct grub_default **ret,
		       struct grub_error *err)
{
	_cleanup_grub_default_ struct grub_default *g = NULL;
	_cleanup_free_ struct lline *lines = NULL;
	struct grub_error e = {0};
	struct blocks b = {0};
	bool open_escape = false;
	size_t n;
	int r;

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->text = malloc(len + 1);
	if (!g->text)
		return -ENOMEM;
	memcpy(g->text, text, len);
	g->text[len] = '\0';
	g->len = len;

	/* Shell reads up to a NUL at most; we refuse to guess what it sees after one. */
	{
		const char *nul = memchr(g->text, '\0', len);

		if (nul) {
			unsigned line = 1;

			for (const char *p = g->text; p < nul; p++)
				line += *p == '\n';
			if (err)
				*err = (struct grub_error){.line = line,
							   .reason = "contains a NUL byte"};
			return -EBADMSG;
		}
	}
	r = split_lines(g->text, len, &lines, &n, &open_escape, &e);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = analyze_line(g, &lines[i], lenient, &b, &e);
	/* What we append at the end must not land in an open block or a continued line. */
	if (r >= 0 && (b.depth > 0 || open_escape)) {
		g->append_problem =
		    b.depth > 0 ? "ends inside a shell block" : "ends with a line continuation";
		g->last_line = 1;
		for (size_t i = 0; i < n; i++)
			if (lines[i].end > lines[i].start)
				g->last_line = lines[i].line;
	}
	if (r == -EBADMSG && err)
		*err = e;
	if (r < 0)
		return r;
	*ret = TAKE_PTR(g);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */

static bool plain_value(const char *v)
{
	if (!*v)
		return true;
	for (; *v; v++)
		if (!is_plain_char(*v))
			return false;
	return true;
}

/* The value as written in the style q; NULL with -EINVAL when it cannot be. */
static int quote_value(const char *v, char q, char **ret)
{
	int r;

	if (q == 0 && !plain_value(v))
		q = '"';
	if (q == '"' && strpbrk(v, "\"$`\\\n"))
		return -EINVAL;
	if (q == '\'' && strchr(v, '\''))
		return -EINVAL;
	if (q)
		r = asprintf(ret, "%c%s%c", q, v, q);
	else
		r = asprintf(ret, "%s", v);
	return r < 0 ? -ENOMEM : 0;
}

int grub_default_render(const struct grub_default *g, const char *const values[_GRUB_VAR_MAX],
			char **ret)
{
	_cleanup_free_ char *out = NULL;
	size_t pos = 0, len = 0, cap;
	int order[_GRUB_VAR_MAX], n = 0;

	/* Longest possible result: the text, every value twice over, quotes and names. */
	cap = g->len + 64;
	for (int id = 0; id < _GRUB_VAR_MAX; id++)
		if (values[id])
			cap += strlen(values[id]) + strlen(var_names[id]) + 8;
	out = malloc(cap);
	if (!out)
		return -ENOMEM;

	for (int id = 0; id < _GRUB_VAR_MAX; id++)
		if (values[id] && g->vars[id].present) {
			if (g->vars[id].self_append)
				return -EINVAL;
			order[n++] = id;
		}
	if (n == 2 && g->vars[order[0]].value_start > g->vars[order[1]].value_start) {
		int t = order[0];

		order[0] = order[1];
		order[1] = t;
	}
	for (int k = 0; k < n; k++) {
		const struct grub_var *var = &g->vars[order[k]];
		_cleanup_free_ char *q = NULL;
		int r = quote_value(values[order[k]], var->quote, &q);

		if (r < 0)
			return r;
		memcpy(out + len, g->text + pos, var->value_start - pos);
		len += var->value_start - pos;
		len += (size_t)sprintf(out + len, "%s", q);
		pos = var->value_end;
	}
	memcpy(out + len, g->text + pos, g->len - pos);
	len += g->len - pos;

	for (int id = 0; id < _GRUB_VAR_MAX; id++) {
		_cleanup_free_ char *q = NULL;
		int r;

		if (!values[id] || g->vars[id].present)
			continue;
		r = quote_value(values[id], '"', &q);
		if (r < 0)
			return r;
		if (len > 0 && out[len - 1] != '\n')
			out[len++] = '\n';
		len += (size_t)sprintf(out + len, "%s=%s\n", var_names[id], q);
	}
	out[len] = '\0';
	*ret = TAKE_PTR(out);
	return 0;
}

int grub_error_format(const struct grub_error *err, const char *path, char **ret)
{
	int r;

	if (err->other_line)
		r = asprintf(ret, "%s:%u: %s %s (first on line %u)", path, err->line,
			     err->var ? err->var : "the file", err->reason, err->other_line);
	else if (err->var)
		r = asprintf(ret, "%s:%u: %s %s", path, err->line, err->var, err->reason);
	else
		r = asprintf(ret, "%s:%u: the file %s", path, err->line, err->reason);
	return r < 0 ? -ENOMEM : 0;
}

/* The two variables as command lines; an absent one is empty. */
static int parse_parts(const struct grub_default *g, struct cmdline *parts[_GRUB_VAR_MAX])
{
	for (int id = 0; id < _GRUB_VAR_MAX; id++) {
		int r = cmdline_parse(g->vars[id].present ? g->vars[id].value : "", &parts[id]);

		if (r < 0) {
			for (int k = 0; k < id; k++)
				parts[k] = cmdline_free(parts[k]);
			return r;
		}
	}
	return 0;
}

static void free_parts(struct cmdline *parts[_GRUB_VAR_MAX])
{
	for (int id = 0; id < _GRUB_VAR_MAX; id++)
		parts[id] = cmdline_free(parts[id]);
}

/*
 * The file parsed (grub_default_parse(), its -EBADMSG explained in *err when err is not NULL)
 * and its two variables as command lines (parse_parts()): what an edit and a check start from.
 */
static int parse_with_parts(const char *text, size_t len, struct grub_default **ret,
			    struct cmdline *parts[_GRUB_VAR_MAX], struct grub_error *err)
{
	_cleanup_grub_default_ struct grub_default *g = NULL;
	struct grub_error e = {0};
	int r;

	r = grub_default_parse(text, len, false, &g, &e);
	if (r < 0) {
		if (r == -EBADMSG && err)
			*err = e;
		return r;
	}
	r = parse_parts(g, parts);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(g);
	return 0;
}

int grub_default_edit(const char *text, size_t len, const struct param_req *reqs, size_t n_reqs,
		      char **ret, struct grub_error *err)
{
	_cleanup_grub_default_ struct grub_default *g = NULL;
	struct cmdline *parts[_GRUB_VAR_MAX] = {NULL};
	char *values[_GRUB_VAR_MAX] = {NULL};
	bool changed[_GRUB_VAR_MAX] = {false};
	int r;

	r = parse_with_parts(text, len, &g, parts, err);
	if (r < 0)
		return r;
	if (!g->vars[GRUB_VAR_LINUX].present && g->append_problem) {
		if (err)
			*err = (struct grub_error){
			    .line = g->last_line, .var = NULL, .reason = g->append_problem};
		free_parts(parts);
		return -EBADMSG;
	}
	/* grub-mkconfig joins the two on one line: an open quote would swallow what we add. */
	for (int id = 0; id < _GRUB_VAR_MAX; id++)
		if (!cmdline_quotes_balanced(parts[id])) {
			if (err)
				*err = (struct grub_error){.line = g->vars[id].line,
							   .var = var_names[id],
							   .reason = "leaves a double quote open"};
			free_parts(parts);
			return -EBADMSG;
		}
	for (size_t i = 0; i < n_reqs; i++) {
		char *before[_GRUB_VAR_MAX] = {NULL};

		for (int id = 0; id < _GRUB_VAR_MAX && r >= 0; id++)
			r = cmdline_format(parts[id], &before[id]);
		if (r >= 0)
			r = param_req_apply(parts, _GRUB_VAR_MAX, &reqs[i]);
		if (r < 0)
			for (int id = 0; id < _GRUB_VAR_MAX; id++)
				free(before[id]);
		if (r == -EDOM && err) {
			unsigned line = g->vars[GRUB_VAR_LINUX].line;

			*err = (struct grub_error){
			    .line = line ? line : 1,
			    .var = var_names[GRUB_VAR_LINUX],
			    .reason = "has huge page settings passthru cannot merge with safely",
			};
		}
		if (r < 0)
			break;
		/* Which variable changed: compare the text, not the fact that an edit ran. */
		for (int id = 0; id < _GRUB_VAR_MAX && r >= 0; id++) {
			_cleanup_free_ char *after = NULL;

			r = cmdline_format(parts[id], &after);
			if (r >= 0 && strcmp(after, before[id]) != 0)
				changed[id] = true;
		}
		for (int id = 0; id < _GRUB_VAR_MAX; id++)
			free(before[id]);
	}
	for (int id = 0; id < _GRUB_VAR_MAX && r >= 0; id++)
		if (changed[id])
			r = cmdline_format(parts[id], &values[id]);
	if (r >= 0)
		r = grub_default_render(g, (const char *const *)values, ret);
	free_parts(parts);
	for (int id = 0; id < _GRUB_VAR_MAX; id++)
		free(values[id]);
	if (r < 0)
		return r;
	return changed[GRUB_VAR_LINUX] || changed[GRUB_VAR_LINUX_DEFAULT];
}

int grub_default_check(const char *text, size_t len, const struct param_req *reqs, size_t n_reqs,
		       size_t *ret_missing, struct grub_error *err)
{
	_cleanup_grub_default_ struct grub_default *g = NULL;
	struct cmdline *parts[_GRUB_VAR_MAX] = {NULL};
	int r;

	r = parse_with_parts(text, len, &g, parts, err);
	if (r < 0)
		return r;
	r = 1;
	for (size_t i = 0; i < n_reqs; i++)
		if (!param_req_satisfied(parts, _GRUB_VAR_MAX, &reqs[i])) {
			if (ret_missing)
				*ret_missing = i;
			r = 0;
			break;
		}
	free_parts(parts);
	return r;
}
