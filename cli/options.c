/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The option parser every verb uses (options.h). */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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

int cli_options_parse_timeout(const char *verb, const char *arg, unsigned *ret_ms)
{
	char *end = NULL;
	double sec;

	errno = 0;
	sec = strtod(arg, &end);
	if (errno || !end || *end || end == arg || !(sec > 0) || sec > 3600)
		return cli_usage_error(
		    verb, "invalid timeout '%s': seconds, more than 0, at most 3600", arg);
	*ret_ms = (unsigned)(sec * 1000 + 0.5);
	if (*ret_ms == 0)
		*ret_ms = 1;
	return EXIT_DONE;
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
	case 'J':
		if (!o->json)
			return c;
		*o->json = true;
		return cli_options_next(o, argc, argv);
	case 't':
		if (!o->timeout_ms)
			return c;
		o->exit = cli_options_parse_timeout(o->verb, optarg, o->timeout_ms);
		if (o->exit != EXIT_DONE)
			return CLI_OPTIONS_EXIT;
		return cli_options_next(o, argc, argv);
	default:
		return c;
	}
}

int cli_options_parse_all(struct cli_options *o, int argc, char **argv)
{
	int c;

	while ((c = cli_options_next(o, argc, argv)) >= 0)
		; /* the verb has no option of its own: nothing is returned but the end */
	return c;
}
