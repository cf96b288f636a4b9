/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthru repair [--timeout SEC]: finish or roll back a bind or unbind that was cut short
 * (the process killed, the machine reset) using the journal in /run/passthru.
 */
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "options.h"
#include "takeover-cli.h"

static void help(void)
{
	printf("Usage: passthru repair [--timeout SEC]\n"
	       "\n"
	       "Finish a bind or unbind that was interrupted, or put its devices back on the\n"
	       "drivers they had: no device stays half-moved. Every passthru command that\n"
	       "changes devices does this first.\n"
	       "\n"
	       "Options:\n"
	       "  -t, --timeout SEC  give up on a stuck unbind after SEC seconds (default 10),\n"
	       "                     and on another passthru's lock after as long (default 30)\n"
	       "  -h, --help         show this help\n"
	       "\n"
	       "See passthru-bind(1).\n");
}

int verb_repair(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct passthru_takeover *t = NULL;
	unsigned timeout = 0;
	struct cli_options opts = {"repair", "t:h", options, help, .timeout_ms = &timeout};
	int r, ret = EXIT_DONE;

	if (cli_options_parse_all(&opts, argc, argv) == CLI_OPTIONS_EXIT)
		return opts.exit;
	if (optind < argc)
		return cli_usage_error("repair", "unexpected argument '%s'", argv[optind]);

	r = passthru_takeover_new(cli->ctx, PASSTHRU_TAKEOVER_REPAIR, 0, &t);
	if (r < 0) {
		cli_error("cannot start: %s", strerror(-r));
		return EXIT_REFUSED;
	}
	passthru_takeover_set_timeout(t, timeout);
	takeover_cli_say_lock_wait(t);
	r = passthru_takeover_execute(t);
	if (r < 0) {
		ret = takeover_cli_report_failure(t, "repair");
		goto out;
	}
	switch (passthru_takeover_get_repair_outcome(t)) {
	case PASSTHRU_REPAIR_NOTHING:
		printf("Nothing to repair.\n");
		break;
	case PASSTHRU_REPAIR_COMPLETED:
		printf("The interrupted transaction had completed:\n");
		break;
	case PASSTHRU_REPAIR_ROLLED_BACK:
		printf("Rolled back the interrupted transaction:\n");
		break;
	}
	for (size_t i = 0; i < passthru_takeover_get_count(t); i++)
		printf("%s: %s\n", passthru_takeover_get_address(t, i),
		       passthru_takeover_get_result(t, i) ?: "no driver");
out:
	passthru_takeover_unref(t);
	return ret;
}
