/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /etc/default/grub: a shell script that grub-mkconfig sources. passthru edits only the values
 * of GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT, and only when it can tell for sure what
 * the shell would make of them: a plain assignment on a line of its own, with a literal value
 * (unquoted, '...' or "..." without expansions). Anything else is refused with the line and the
 * reason, and the file is left alone.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "cmdline.h"

enum grub_var_id {
	GRUB_VAR_LINUX,		/* GRUB_CMDLINE_LINUX: every entry, recovery included */
	GRUB_VAR_LINUX_DEFAULT, /* GRUB_CMDLINE_LINUX_DEFAULT: normal entries, after the former */
	_GRUB_VAR_MAX,
};

const char *grub_var_name(enum grub_var_id id);

struct grub_var {
	bool present;
	unsigned line;	    /* 1-based line of the assignment */
	size_t value_start; /* byte span of the value as written, quotes included */
	size_t value_end;
	char quote;	  /* '"', '\'' or 0 (unquoted) */
	bool self_append; /* lenient mode: the value starts with $NAME (a grub.d snippet) */
	char *value;	  /* the value the shell sees (without a leading $NAME) */
};

struct grub_default {
	char *text;
	size_t len;
	struct grub_var vars[_GRUB_VAR_MAX];
	/* Why nothing can be appended at the end (an open block, a trailing backslash), static;
	 * NULL when it can. */
	const char *append_problem;
	unsigned last_line;
};

/* Why a file cannot be edited safely. reason is a static string. */
struct grub_error {
	unsigned line;
	unsigned other_line; /* the first definition, for "defined twice"; else 0 */
	const char *var;     /* the variable concerned, NULL for the whole file */
	const char *reason;
};

/*
 * Parses the text of a defaults file. lenient accepts a value that starts by expanding the same
 * variable ("$GRUB_CMDLINE_LINUX_DEFAULT quiet"), as /etc/default/grub.d snippets do to append.
 * Returns -EBADMSG and fills *err when the file cannot be edited safely; err is untouched on
 * success.
 */
int grub_default_parse(const char *text, size_t len, bool lenient, struct grub_default **ret,
		       struct grub_error *err);
struct grub_default *grub_default_free(struct grub_default *g);
static inline void grub_default_freep(struct grub_default **g)
{
	grub_default_free(*g);
}
#define _cleanup_grub_default_ __attribute__((cleanup(grub_default_freep)))

/*
 * The file with new values: values[id] NULL keeps a variable as it is. A variable that was not
 * in the file is appended as VAR="value". The quoting style of each value is kept (an unquoted
 * value gets double quotes when it needs them). -EINVAL when a value cannot be written in the
 * kept style (a quote character, '$', '`' or '\\' it would need to escape).
 */
int grub_default_render(const struct grub_default *g, const char *const values[_GRUB_VAR_MAX],
			char **ret);

/* "/etc/default/grub:7: GRUB_CMDLINE_LINUX uses a shell expansion ($)". */
int grub_error_format(const struct grub_error *err, const char *path, char **ret);

/*
 * Edits the kernel command line of a defaults file (GRUB_CMDLINE_LINUX, then
 * GRUB_CMDLINE_LINUX_DEFAULT, as grub-mkconfig joins them) until every requirement holds; new
 * parameters go to GRUB_CMDLINE_LINUX. *ret gets the new text, the same as the old one when
 * nothing had to change. Returns 1 when the text changed, 0 when not, -EBADMSG with *err filled
 * when the file cannot be edited safely, -EDOM with *err filled when a requirement cannot be met
 * by an edit that is certain (huge page settings that do not merge).
 */
int grub_default_edit(const char *text, size_t len, const struct param_req *reqs, size_t n_reqs,
		      char **ret, struct grub_error *err);

/* Returns 1 when the text's kernel command line meets every requirement, else 0 with
 * *ret_missing (when not NULL) the index of the first one that is not met; -EBADMSG with *err
 * as above. */
int grub_default_check(const char *text, size_t len, const struct param_req *reqs, size_t n_reqs,
		       size_t *ret_missing, struct grub_error *err);
