/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the verbs of the passthru command share. */
#pragma once

#include <stdbool.h>

#include "passthru.h"

/* Exit codes: the contract with scripts. */
#define EXIT_DONE 0
#define EXIT_REFUSED 1
#define EXIT_USAGE 2

/* Global state of one run: the context and what the global options said. */
struct cli {
	struct passthru_ctx *ctx;
	bool verbose;
};

/*
 * A verb gets its own argv (argv[0] is the verb's name) with the global options already
 * removed, and returns an exit code.
 */
typedef int (*verb_fn)(struct cli *cli, int argc, char **argv);

struct verb {
	const char *name;
	verb_fn run;
	const char *summary;
};

int verb_list(struct cli *cli, int argc, char **argv);
int verb_show(struct cli *cli, int argc, char **argv);
int verb_type(struct cli *cli, int argc, char **argv);
int verb_check(struct cli *cli, int argc, char **argv);
int verb_setup(struct cli *cli, int argc, char **argv);
int verb_bind(struct cli *cli, int argc, char **argv);
int verb_unbind(struct cli *cli, int argc, char **argv);
int verb_reset(struct cli *cli, int argc, char **argv);
int verb_apply(struct cli *cli, int argc, char **argv);
int verb_repair(struct cli *cli, int argc, char **argv);
int verb_qemu_args(struct cli *cli, int argc, char **argv);
int verb_attach(struct cli *cli, int argc, char **argv);
int verb_detach(struct cli *cli, int argc, char **argv);
int verb_libvirt_xml(struct cli *cli, int argc, char **argv);
int verb_sriov(struct cli *cli, int argc, char **argv);
int verb_vf(struct cli *cli, int argc, char **argv);

/* "passthru: <message>" on stderr, one line. */
void cli_error(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* "hint: <message>" on stderr, one line. */
void cli_hint(const char *format, ...) __attribute__((format(printf, 1, 2)));
/*
 * The command line of this run as a shell would take it, with -v added: "passthru -v bind
 * 42:00.0". For hints; "passthru -v ..." when it could not be made.
 */
const char *cli_verbose_command(void);
/* Reports a bad usage of verb and returns EXIT_USAGE. */
int cli_usage_error(const char *verb, const char *format, ...) __attribute__((format(printf, 2, 3)));
