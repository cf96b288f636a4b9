/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The option parser every verb uses: getopt_long() with one --help and one wording for the
 * usage errors, "passthru VERB: unknown option '-x'" and "option '--timeout' needs a value".
 */
#pragma once

#include <getopt.h>
#include <stdbool.h>

#include "cli.h"

/* What cli_options_next() returns besides an option. */
enum {
	/* No option left: optind names the first operand. */
	CLI_OPTIONS_END = -1,
	/* The help was printed or a usage error reported: the verb returns its exit field. */
	CLI_OPTIONS_EXIT = -2,
};

/* One verb's options; fill the first four, zero the rest. */
struct cli_options {
	const char *verb; /* "bind": for messages */
	/* getopt's short options, without the leading ':' (added here); "h" is --help */
	const char *short_options;
	const struct option *long_options; /* {"help", no_argument, NULL, 'h'} for --help */
	void (*help)(void);		   /* prints the verb's help on stdout */

	int exit; /* EXIT_DONE or EXIT_USAGE, when CLI_OPTIONS_EXIT was returned */
	bool started;
	char getopt_string[32];
};

/*
 * The next option of argv (argv[0] is the verb), as getopt_long() returns it with optarg; the
 * options and operands may come in any order. -h/--help prints the help, and an unknown option
 * or one without its value is reported: both return CLI_OPTIONS_EXIT.
 */
int cli_options_next(struct cli_options *o, int argc, char **argv);
