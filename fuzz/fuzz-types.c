/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The types.d parser. Beyond not crashing: every rule it keeps has a valid name and a match
 * the public checks accept, a line number within the input, and the matcher finds a rule for
 * the ids of every rule kept.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct passthru_type_list *list = NULL;
	size_t lines = 1;

	if (size > 65536)
		return 0;
	if (types_list_new_empty(&list) < 0)
		return 0;
	if (types_parse(list, "/etc/passthru/types.d/fuzz.conf", (const char *)data, size) < 0)
		abort();
	for (size_t i = 0; i < size; i++)
		if (data[i] == '\n')
			lines++;

	for (size_t i = 0; i < passthru_type_list_count(list); i++) {
		const struct passthru_type_rule *rule = passthru_type_list_get(list, i);
		int sv = passthru_type_rule_get_subsystem_vendor(rule);
		int sd = passthru_type_rule_get_subsystem_device(rule);

		if (!passthru_type_name_is_valid(passthru_type_rule_get_name(rule)))
			abort();
		if (!passthru_type_match_is_valid(passthru_type_rule_get_match(rule)))
			abort();
		if ((sv < 0) != (sd < 0))
			abort();
		if (passthru_type_rule_get_line(rule) < 1 ||
		    passthru_type_rule_get_line(rule) > lines)
			abort();
		if (!passthru_type_list_match(list, passthru_type_rule_get_vendor(rule),
					      passthru_type_rule_get_device(rule), sv, sd))
			abort();
	}
	for (const char *const *p = passthru_type_list_get_problems(list); *p; p++)
		if (strncmp(*p, "/etc/passthru/types.d/fuzz.conf:", 32) != 0)
			abort();
	passthru_type_list_unref(list);
	return 0;
}
