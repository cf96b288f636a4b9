/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The option parser every verb uses (options.h). */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "options.h"

/*
 * getopt_long() does not say which word it failed on; this works it out from what glibc does.
 * A long option always ends its word and advances optind: argv[optind - 1] is what was typed
 * ("--frobnicate", "--json=1", "--time" for --timeout). A short option may stand inside a
 * cluster ("-xJ", where optind has not moved), so it is named by optopt alone. optopt is 0
 * for an unknown or ambiguous long option and the option's value for a long option given a
 * value it does not take; for an unknown short option it is a character the verb does not
 * know, which tells the two apart.
 */
static bool failed_on_long_option(const struct cli_options *o, char **argv, bool missing_value)
{
	if (missing_value)
		return strncmp(argv[optind - 1], "--", 2) == 0;
	if (optopt == 0 || optopt >= 0x100)
		return true;
	return optopt != ':' && strchr(o->short_options, optopt);
}

static int usage_error(struct cli_options *o, char **argv, bool missing_value)
{
	char short_option[3] = {'-', (char)optopt, '\0'};
	const char *name =
	    failed_on_long_option(o, argv, missing_value) ? argv[optind - 1] : short_option;

	o->exit = missing_value ? cli_usage_error(o->verb, "option '%s' needs a value", name)
				: cli_usage_error(o->verb, "unknown option '%s'", name);
	return CLI_OPTIONS_EXIT;
}

int cli_options_next(struct cli_options *o, int argc, char **argv)
{
	int c;

	if (!o->started) {
		int n =
		    snprintf(o->getopt_string, sizeof(o->getopt_string), ":%s", o->short_options);

		assert(n > 0 && (size_t)n < sizeof(o->getopt_string));
		/* Each verb parses its own argv: 0 makes glibc start afresh. */
		optind = 0;
		opterr = 0;
		o->started = true;
	}
	c = getopt_long(argc, argv, o->getopt_string, o->long_options, NULL);
	switch (c) {
	case 'h':
		o->help();
		o->exit = EXIT_DONE;
		return CLI_OPTIONS_EXIT;
	case ':':
		return usage_error(o, argv, true);
	case '?':
		return usage_error(o, argv, false);
	case -1:
		return CLI_OPTIONS_END;
	default:
		return c;
	}
}
