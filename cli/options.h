/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The option parser every verb uses: getopt_long() with one --help, one --timeout and one
 * wording for the usage errors, "passthru VERB: unknown option '-x'" and "option '--timeout'
 * needs a value".
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

/* One verb's options; fill the first four, json and timeout_ms when it has them, zero the rest. */
struct cli_options {
	const char *verb; /* "bind": for messages */
	/* getopt's short options, without the leading ':' (added here); "h" is --help */
	const char *short_options;
	const struct option *long_options; /* {"help", no_argument, NULL, 'h'} for --help */
	void (*help)(void);		   /* prints the verb's help on stdout */
	/* For a verb with "J" and {"json", no_argument, NULL, 'J'}: -J/--json sets it here. */
	bool *json;
	/*
	 * For a verb with "t:" and {"timeout", required_argument, NULL, 't'}: -t/--timeout SEC is
	 * parsed here (cli_options_parse_timeout()) into it.
	 */
	unsigned *timeout_ms;

	int exit; /* EXIT_DONE or EXIT_USAGE, when CLI_OPTIONS_EXIT was returned */
	bool started;
	char getopt_string[32];
};

/*
 * The next option of argv (argv[0] is the verb), as getopt_long() returns it with optarg; the
 * options and operands may come in any order. -h/--help prints the help, and an unknown option,
 * one without its value or a malformed --timeout is reported: both return CLI_OPTIONS_EXIT.
 * --json and --timeout, when the verb has them filled in, are parsed and never returned.
 */
int cli_options_next(struct cli_options *o, int argc, char **argv);

/*
 * Every option of argv, for a verb that has none besides those parsed here (--help, --json,
 * --timeout): CLI_OPTIONS_END, optind naming the first operand, or CLI_OPTIONS_EXIT.
 */
int cli_options_parse_all(struct cli_options *o, int argc, char **argv);

/* "--timeout SEC" (decimal seconds, > 0); EXIT_USAGE after a message when malformed. */
int cli_options_parse_timeout(const char *verb, const char *arg, unsigned *ret_ms);
