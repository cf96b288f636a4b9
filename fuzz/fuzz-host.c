/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host fact parsers of check and setup, chosen by the first byte: os-release, the
 * vendor_id of /proc/cpuinfo, /dev/kmsg records, /proc/meminfo, modules-load.d, the ACS
 * capability walk of a PCI config space, the unified diff (the input split in two at its
 * first NUL), whose hunks must rebuild the second text from the first, and the bridges named by
 * a function's sysfs path (canonical addresses, never the function's own).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "host.h"
#include "pci.h"

/* One line of a text: its bytes with the newline, if it has one. */
struct span {
	const char *s;
	size_t n;
};

static size_t split_lines(const char *text, struct span *v, size_t max)
{
	size_t n = 0;

	for (const char *p = text; *p && n < max; n++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);

		v[n] = (struct span){p, len};
		p += len;
	}
	return n;
}

/*
 * Applies a unified diff of diff_unified() to old and returns the result; NULL when it does not
 * apply (a context or removed line that is not in old, a malformed hunk header).
 */
static char *patch(const char *old, const char *diff)
{
	static struct span a[4096], d[8192];
	size_t na = split_lines(old, a, 4096), nd = split_lines(diff, d, 8192), ai = 0;
	bool in_hunk = false;
	size_t cap = strlen(old) + strlen(diff) + 1, len = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	for (size_t k = 0; k < nd; k++) {
		const char *l = d[k].s;
		bool no_newline = k + 1 < nd && strncmp(d[k + 1].s, "\\ No newline", 12) == 0;
		size_t body = d[k].n - 1 - (l[d[k].n - 1] == '\n' ? 1 : 0);

		/* Headers come before the first hunk; in a hunk "+++ x" is an added "++ x". */
		if (!in_hunk && (strncmp(l, "--- ", 4) == 0 || strncmp(l, "+++ ", 4) == 0))
			continue;
		if (l[0] == '\\')
			continue;
		if (strncmp(l, "@@ -", 4) == 0) {
			in_hunk = true;
			char *end;
			unsigned long start = strtoul(l + 4, &end, 10), count = 1;

			if (*end == ',')
				count = strtoul(end + 1, NULL, 10);
			/* Old lines before the hunk: its start, less one unless it is empty. */
			if (count > 0 && start > 0)
				start--;
			if (start < ai || start > na)
				goto fail;
			for (; ai < start; ai++) {
				memcpy(out + len, a[ai].s, a[ai].n);
				len += a[ai].n;
			}
			continue;
		}
		if (l[0] == ' ' || l[0] == '-') {
			/* The old line: the same bytes, with a newline unless marked. */
			if (ai >= na || a[ai].n != body + (no_newline ? 0 : 1) ||
			    memcmp(a[ai].s, l + 1, body) != 0)
				goto fail;
			ai++;
		}
		if (l[0] == ' ' || l[0] == '+') {
			memcpy(out + len, l + 1, body);
			len += body;
			if (!no_newline)
				out[len++] = '\n';
		}
		if (l[0] != ' ' && l[0] != '-' && l[0] != '+')
			goto fail;
	}
	for (; ai < na; ai++) {
		memcpy(out + len, a[ai].s, a[ai].n);
		len += a[ai].n;
	}
	out[len] = '\0';
	return out;
fail:
	free(out);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *s = NULL, **v = NULL;
	unsigned long long u;
	struct os_release o;
	uint16_t cap, ctrl;

	if (size < 1 || size > 65536)
		return 0;
	text = strndup((const char *)data + 1, size - 1);
	if (!text)
		return 0;
	switch (data[0] % 8) {
	case 0:
		if (os_release_parse(text, &o) >= 0) {
			(void)distro_family_of(&o);
			os_release_done(&o);
		}
		break;
	case 1:
		if (cpuinfo_parse_vendor(text, &s) >= 0) {
			if (!*s)
				abort();
			(void)cpu_vendor_from_id(s);
		}
		break;
	case 2:
		/* Records as /dev/kmsg hands them out, NUL bytes included. */
		if (kmsg_parse((const char *)data + 1, size - 1, &v) >= 0) {
			STRV_FOREACH (m, v)
				if (strchr(*m, '\n'))
					abort();
			strv_free(v);
		}
		break;
	case 3:
		(void)meminfo_parse(text, "MemTotal", &u);
		(void)meminfo_parse(text, "Hugepagesize", &u);
		break;
	case 4:
		if (modules_load_parse(text, &v) >= 0) {
			STRV_FOREACH (m, v)
				if (!**m || strchr(*m, '-') || strchr(*m, '\n'))
					abort();
			strv_free(v);
		}
		break;
	case 5:
		(void)pci_config_find_acs(data + 1, size - 1, &cap, &ctrl);
		break;
	case 6: {
		/* old NUL new: the diff must turn old into new. */
		const char *old = (const char *)data + 1, *nul = memchr(old, '\0', size - 1);
		char *a, *b, *rebuilt;

		if (!nul)
			break;
		a = strndup(old, (size_t)(nul - old));
		b = strndup(nul + 1, size - 1 - (size_t)(nul - old) - 1);
		if (a && b && !memchr(b, '\0', strlen(b)) &&
		    diff_unified(a, b, "a", "b", &s) >= 0) {
			rebuilt = patch(a, s);
			if (!rebuilt || strcmp(rebuilt, b) != 0)
				abort();
			free(rebuilt);
		}
		free(a);
		free(b);
		break;
	}
	case 7:
		if (pci_path_bridges(text, "0000:02:00.0", &v) >= 0) {
			STRV_FOREACH (b, v) {
				char canon[PASSTHRU_PCI_ADDRESS_LEN + 1];

				if (passthru_pci_address_parse(*b, canon) < 0 ||
				    strcmp(canon, *b) != 0 || strcmp(*b, "0000:02:00.0") == 0)
					abort();
			}
			strv_free(v);
		}
		break;
	}
	free(s);
	free(text);
	return 0;
}
