/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /etc/lvm/lvm.conf as far as storage prevention needs it: which of LVM's two ways of choosing
 * devices the host uses (use_devicesfile in the devices section), whether the administrator set
 * a global_filter of their own, and passthru's block inside the devices section: a global_filter
 * that rejects the persisted drives by their /dev/disk/by-path names.
 *
 * LVM's syntax: "name {" opens a section, "}" closes it, "key = value" where a value is a number,
 * a "string" (backslash escapes the next character) or a [ list ] that may span lines; "#" starts
 * a comment outside strings. The lvm.conf LVM installs lists every setting with its built-in
 * default, commented out ("# use_devicesfile = 0" on Debian 12's 2.03.16): that tells the
 * default of the installed version when the file does not set it. The block is delimited by two
 * comment lines of ours, so removing it gives the file back byte for byte. Pure functions of the
 * text: no I/O here (fuzz-lvm-conf).
 */
#include <ctype.h>

#include "storage-claim.h"

#define BLOCK_BEGIN "# BEGIN passthru"
#define BLOCK_END   "# END passthru"

/* A comment line that is exactly one of our markers (after indentation). */
static bool marker_at(const char *line, const char *end, const char *marker)
{
	size_t n = strlen(marker);

	while (line < end && (*line == ' ' || *line == '\t'))
		line++;
	return (size_t)(end - line) >= n && memcmp(line, marker, n) == 0;
}

/* "# use_devicesfile = 0": the value, into *ret. */
static void commented_default(const char *p, const char *end, int *ret)
{
	static const char key[] = "use_devicesfile";

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if ((size_t)(end - p) < sizeof(key) - 1 || memcmp(p, key, sizeof(key) - 1) != 0)
		return;
	p += sizeof(key) - 1;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p >= end || *p != '=')
		return;
	for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
		;
	if (p < end && (*p == '0' || *p == '1'))
		*ret = *p == '1';
}

int lvm_conf_scan(const char *text, size_t len, struct lvm_conf_facts *ret)
{
	struct lvm_conf_facts f = {
	    .use_devicesfile = -1, .use_devicesfile_default = -1, .devices_open = -1};
	char word[64], section[64] = "", key[64] = "";
	size_t wlen = 0, line_start = 0;
	unsigned depth = 0;
	bool in_block = false, word_done = false;
	ssize_t block_begin = -1;

	if (memchr(text, '\0', len))
		return -EBADMSG;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? text[i] : '\n';

		if (i == line_start) {
			const char *nl = memchr(text + i, '\n', len - i);
			const char *eol = nl ? nl : text + len;

			if (marker_at(text + i, eol, BLOCK_BEGIN)) {
				if (in_block || block_begin >= 0)
					return -EBADMSG;
				in_block = true;
				block_begin = (ssize_t)i;
			} else if (marker_at(text + i, eol, BLOCK_END)) {
				if (!in_block)
					return -EBADMSG;
				in_block = false;
				f.block_begin = (size_t)block_begin;
				f.block_end = nl ? (size_t)(nl - text) + 1 : len;
				f.has_block = true;
			}
		}
		if (c == '#') {
			const char *nl = memchr(text + i, '\n', len - i);

			/* lvm.conf as LVM installs it shows each default, commented out. */
			if (depth == 1 && strcmp(section, "devices") == 0)
				commented_default(text + i + 1, nl ? nl : text + len,
						  &f.use_devicesfile_default);

			i = nl ? (size_t)(nl - text) - 1 : len - 1;
			continue;
		}
		if (c == '"') {
			/* A string: skipped, escapes included; it must end on the same file. */
			for (i++; i < len && text[i] != '"'; i++)
				if (text[i] == '\\' && i + 1 < len)
					i++;
			if (i >= len)
				return -EBADMSG;
			wlen = 0;
			word_done = false;
			continue;
		}
		if (isalnum((unsigned char)c) || c == '_') {
			if (word_done)
				wlen = 0;
			word_done = false;
			if (wlen + 1 < sizeof(word))
				word[wlen++] = c;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r') {
			/* "devices {": the word stays the section's name until "{". */
			word_done = true;
			continue;
		}
		word[wlen] = '\0';
		if (c == '{') {
			if (depth == 0) {
				snprintf(section, sizeof(section), "%s", word);
				if (strcmp(section, "devices") == 0 && f.devices_open < 0)
					f.devices_open = (ssize_t)i;
			}
			if (++depth > 64)
				return -EBADMSG;
		} else if (c == '}') {
			if (depth == 0)
				return -EBADMSG;
			if (--depth == 0)
				section[0] = '\0';
		} else if (c == '=') {
			snprintf(key, sizeof(key), "%s", word);
			if (depth == 1 && strcmp(section, "devices") == 0) {
				if (strcmp(key, "global_filter") == 0 && !in_block)
					f.own_global_filter = true;
				if (strcmp(key, "use_devicesfile") == 0) {
					size_t k = i + 1;

					while (k < len && (text[k] == ' ' || text[k] == '\t'))
						k++;
					if (k < len && isdigit((unsigned char)text[k]))
						f.use_devicesfile = text[k] != '0';
				}
			}
		}
		if (c == '\n')
			line_start = i + 1;
		wlen = 0;
		word_done = false;
	}
	if (depth != 0 || in_block)
		return -EBADMSG;
	*ret = f;
	return 0;
}

int lvm_conf_edit(const char *text, size_t len, char *const *rejects, char **ret)
{
	_cleanup_free_ char *stripped = NULL;
	struct lvm_conf_facts f;
	char *buf = NULL;
	size_t size = 0, slen, at;
	FILE *out;
	int r;

	r = lvm_conf_scan(text, len, &f);
	if (r < 0)
		return r;
	/* Ours out first: what remains is the administrator's file as it was. */
	slen = f.has_block ? len - (f.block_end - f.block_begin) : len;
	stripped = malloc(slen + 1);
	if (!stripped)
		return -ENOMEM;
	if (f.has_block) {
		memcpy(stripped, text, f.block_begin);
		memcpy(stripped + f.block_begin, text + f.block_end, len - f.block_end);
	} else {
		memcpy(stripped, text, len);
	}
	stripped[slen] = '\0';
	if (!rejects || !rejects[0]) {
		*ret = TAKE_PTR(stripped);
		return 0;
	}
	r = lvm_conf_scan(stripped, slen, &f);
	if (r < 0)
		return r;
	/* Two global_filter settings would leave one of them unused: the administrator's wins. */
	if (f.own_global_filter)
		return -EEXIST;

	out = open_memstream(&buf, &size);
	if (!out)
		return -ENOMEM;
	if (f.devices_open >= 0) {
		const char *nl =
		    memchr(stripped + f.devices_open, '\n', slen - (size_t)f.devices_open);

		at = nl ? (size_t)(nl - stripped) + 1 : slen;
		/* "devices { key = 1 }" on one line: no line of ours fits inside it. */
		for (size_t k = (size_t)f.devices_open + 1; k < at; k++) {
			if (stripped[k] == '#')
				break;
			if (!isspace((unsigned char)stripped[k])) {
				fclose(out);
				free(buf);
				return -EOPNOTSUPP;
			}
		}
		fwrite(stripped, 1, at, out);
		if (!nl)
			fputc('\n', out);
	} else {
		at = slen;
		fwrite(stripped, 1, slen, out);
		if (slen && stripped[slen - 1] != '\n')
			fputc('\n', out);
	}
	/* With no devices section the block is a whole one, so that removing it leaves none. */
	fprintf(out,
		"%s" BLOCK_BEGIN
		": the drives of /etc/passthru/bindings.conf are the VMs', not the\n"
		"%s# host's (generated by passthru setup; passthru unbind --persist removes it)\n"
		"%s\tglobal_filter = [ ",
		f.devices_open >= 0 ? "\t" : "", f.devices_open >= 0 ? "\t" : "",
		f.devices_open >= 0 ? "" : "devices {\n");
	STRV_FOREACH (p, (char **)rejects)
		fprintf(out, "%s\"r|%s|\"", p == rejects ? "" : ", ", *p);
	fprintf(out, " ]\n%s" BLOCK_END "\n", f.devices_open >= 0 ? "\t" : "}\n");
	if (f.devices_open >= 0)
		fwrite(stripped + at, 1, slen - at, out);
	if (fclose(out) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}
