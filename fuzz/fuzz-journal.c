/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The /run/passthru records and the small parsers of the takeover. The first byte picks the
 * parser: 0 the transaction journal, 1 the held record, 2 a /dev/kmsg record, 3 a
 * PASSTHRU_FAULT spec, 4 /proc/locks (the lock holder's pid, for the file 00:19:1234). Beyond not
 * crashing: a record that parses formats to a text that parses again to the same text (nothing is
 * lost or invented on the way).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "journal.h"
#include "kmsg.h"

static void record(const char *text, size_t len, enum journal_kind kind)
{
	struct journal *j = NULL, *k = NULL;
	char *out = NULL, *again = NULL;
	unsigned line = 0;

	if (journal_parse(text, len, kind, &j, &line) < 0) {
		if (line == 0)
			abort();
		return;
	}
	if (journal_format(j, kind, &out) < 0)
		abort();
	if (journal_parse(out, strlen(out), kind, &k, NULL) < 0)
		abort();
	if (journal_format(k, kind, &again) < 0 || strcmp(out, again) != 0)
		abort();
	if (k->n_entries != j->n_entries || k->n_writes != j->n_writes || k->n_vfs != j->n_vfs)
		abort();
	free(out);
	free(again);
	journal_free(j);
	journal_free(k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;
	size_t len = size ? size - 1 : 0;

	if (size == 0 || size > 65536)
		return 0;
	switch (data[0] % 5) {
	case 0:
		record(text, len, JOURNAL_KIND_TRANSACTION);
		break;
	case 1:
		record(text, len, JOURNAL_KIND_HELD);
		break;
	case 2: {
		char *s = NULL;

		if (kmsg_record_parse(text, len, &s) == 0 && (!s || s[0] != '['))
			abort();
		free(s);
		break;
	}
	case 3: {
		char *s = strndup(text, len);
		struct fault f;

		if (s && fault_parse(s, &f) == 0 && (!f.set || f.index == 0))
			abort();
		free(s);
		break;
	}
	case 4: {
		char *s = strndup(text, len);
		long pid = 0;

		if (s && proc_locks_flock_pid(s, 0, 0x19, 1234, &pid) == 0 && pid <= 0)
			abort();
		free(s);
		break;
	}
	}
	return 0;
}
