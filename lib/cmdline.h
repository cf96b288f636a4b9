/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel command lines: /proc/cmdline, and the values of GRUB_CMDLINE_LINUX(_DEFAULT).
 *
 * A command line is kept as tokens with the whitespace written before each, so that an edit
 * changes only the tokens it means to and cmdline_format() of an untouched line gives the text
 * back byte for byte. Parameters after a bare "--" belong to init and are never looked at.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct cmdline_token {
	char *space; /* whitespace before the token, as written */
	char *text;  /* the token as written, quotes included */
	char *key;   /* before the first '=', without quotes */
	char *value; /* after the first '=', without quotes; NULL when there is no '=' */
};

struct cmdline {
	struct cmdline_token *tokens;
	size_t n_tokens;
	char *trailing; /* whitespace after the last token */
};

/* Splits text the way the kernel does (whitespace outside double quotes). Never fails on content.
 */
int cmdline_parse(const char *text, struct cmdline **ret);
struct cmdline *cmdline_free(struct cmdline *c);
static inline void cmdline_freep(struct cmdline **c)
{
	cmdline_free(*c);
}
#define _cleanup_cmdline_ __attribute__((cleanup(cmdline_freep)))

/* The line as text: the parsed input itself when nothing was changed. */
int cmdline_format(const struct cmdline *c, char **ret);

/* False when the line leaves a double quote open: the kernel takes everything after it as part
 * of one parameter, so nothing can be appended safely. */
bool cmdline_quotes_balanced(const struct cmdline *c);

/* The number of kernel parameters: the index of a bare "--", else every token. */
size_t cmdline_n_params(const struct cmdline *c);

/* Parameter names compare like the kernel's parameq(): '-' and '_' are the same. */
bool cmdline_key_equal(const char *a, const char *b);

/* Index of the first kernel parameter named key at or after from; -1 when none. */
long cmdline_find(const struct cmdline *c, const char *key, size_t from);

/* The value of the last occurrence of key (the one the kernel ends up with), NULL when absent
 * or when it has no value; *ret_present tells the two apart when not NULL. */
const char *cmdline_get(const struct cmdline *c, const char *key, bool *ret_present);

/* Inserts "key=value" (or "key" when value is NULL) before token index. */
int cmdline_insert(struct cmdline *c, size_t index, const char *key, const char *value);
/* Appends as the last kernel parameter (before a "--"). */
int cmdline_append(struct cmdline *c, const char *key, const char *value);
void cmdline_remove(struct cmdline *c, size_t index);
int cmdline_set_value(struct cmdline *c, size_t index, const char *value);

/* Whether value's comma-separated list ("on,igfx_off") holds item. */
bool cmdline_list_contains(const char *value, const char *item);

/*
 * Sizes as the kernel's memparse() reads them ("1G", "2048K", "2M"), in KiB.
 * -EINVAL when malformed or not a whole number of KiB.
 */
int cmdline_parse_size(const char *text, unsigned long long *ret_kib);
/* "1G", "2M", "64K": the largest unit that divides the size. */
int cmdline_format_size(unsigned long long kib, char **ret);

/* ------------------------------------------------------------------------------------------ */
/*
 * Requirements on a kernel command line made of several parts in the order the kernel gets them
 * (GRUB_CMDLINE_LINUX, then GRUB_CMDLINE_LINUX_DEFAULT; or /proc/cmdline alone).
 */

enum param_req_kind {
	/* key must be set, every occurrence to an acceptable value; fixed to value. */
	PARAM_REQ_SET,
	/* no occurrence of key may hold value in its comma list (amd_iommu=off). */
	PARAM_REQ_NOT,
	/* some occurrence of key must hold value in its comma list (rd.driver.blacklist). */
	PARAM_REQ_MEMBER,
	/* count huge pages of size value: hugepagesz=value hugepages=count. */
	PARAM_REQ_HUGEPAGES,
};

struct param_req {
	enum param_req_kind kind;
	const char *key;
	const char *value;
	unsigned long count;
};

/*
 * Whether a value of key is acceptable where want is asked for: intel_iommu needs "on" in its
 * list and no "off"; iommu needs "pt" and none of off/soft/nopt; boolean module parameters
 * accept 1/y/Y or no value; sizes compare as sizes; anything else compares as text.
 */
bool param_value_acceptable(const char *key, const char *have, const char *want);

bool param_req_satisfied(struct cmdline *const *parts, size_t n_parts, const struct param_req *r);

/*
 * Edits parts so that r is satisfied, touching as little as possible: a conflicting value is
 * replaced where it stands (removed when another occurrence already has a good value), later
 * duplicates are removed, a missing parameter is appended to parts[0]. Returns 1 when something
 * changed, 0 when r was already satisfied, -EDOM when the edit cannot satisfy it (e.g. huge page
 * settings that cannot be merged safely).
 */
int param_req_apply(struct cmdline **parts, size_t n_parts, const struct param_req *r);

/* "intel_iommu=on", "hugepagesz=1G hugepages=4": the requirement as one would write it. */
int param_req_format(const struct param_req *r, char **ret);
