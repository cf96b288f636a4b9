/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What bind, unbind, repair, reset and apply share: options, plan tables, messages (also
 * sriov's and attach --bind's wait for the lock).
 */
#pragma once

#include <stdbool.h>

#include "cli.h"

/* Says on stderr whose lock a takeover waits for (a passthru_takeover_wait_fn). */
void takeover_cli_on_lock_wait(void *userdata, const char *holder);

/*
 * Makes execution say on stderr who holds the lock when it has to wait for it:
 * "passthru: waiting for the lock held by pid 812 (passthru bind 0000:42:00.0)".
 */
void takeover_cli_say_lock_wait(struct passthru_takeover *t);

/*
 * Adds the named devices; on a malformed address (EXIT_USAGE) or an absent device
 * (EXIT_REFUSED) says so and returns the exit code.
 */
int takeover_cli_add_devices(const char *verb, struct passthru_takeover *t, int argc, char **argv);

/* Prints the plan as a table (--dry-run): device, group, driver, action, guards; then notes. */
int takeover_cli_print_plan(struct passthru_takeover *t);

/* --dry-run: plans, prints the plan and the refusals; returns the exit code. */
int takeover_cli_dry_run(struct passthru_takeover *t, const char *verb);
/* The same for a plan already made, r what passthru_takeover_plan() returned. */
int takeover_cli_report_plan(struct passthru_takeover *t, int r, const char *verb);

/* One line per refusal and a hint per kind of refusal; returns EXIT_REFUSED. */
int takeover_cli_report_refusals(struct passthru_takeover *t, const char *verb);

/* The failure of an execution: the error, its details, a hint. Returns EXIT_REFUSED. */
int takeover_cli_report_failure(struct passthru_takeover *t, const char *verb);

/* Tells what execution did about an interrupted earlier transaction, if anything. */
void takeover_cli_report_repair(struct passthru_takeover *t);

/* After a successful execution: one line per device of the plan that was named or moved. */
void takeover_cli_print_results(struct passthru_takeover *t);

/* Warnings and forced guards of the plan, on stderr (forced guards also to syslog). */
void takeover_cli_print_notes(struct passthru_takeover *t, const char *verb);

/*
 * Loads /etc/passthru/bindings.conf for "passthru VERB --persist"; when it cannot, says so and
 * how to try again and returns EXIT_REFUSED.
 */
int takeover_cli_load_persist(struct cli *cli, const char *verb, struct passthru_persist **ret);
/*
 * Saves the store to /etc/passthru/bindings.conf, then the modprobe.d file from it
 * (takeover_cli_write_modprobe()). When the save fails, says so with hint (may be NULL).
 * Returns EXIT_DONE or EXIT_REFUSED.
 */
int takeover_cli_save_persist(struct passthru_persist *p, const char *hint);

/*
 * Rewrites /etc/modprobe.d/passthru-vfio.conf from the store and tells when it changed.
 * Returns EXIT_DONE or EXIT_REFUSED.
 */
int takeover_cli_write_modprobe(struct passthru_persist *p);
/* The same for r of a passthru_persist_write_modprobe() already made. */
int takeover_cli_report_modprobe(int r);

/*
 * What bind's and unbind's help end with, from --dry-run on: the options and the service's
 * refusals they share (SERVICE_SOCKET_DEFAULT is service-client.h's).
 */
#define TAKEOVER_CLI_HELP_END                                                                      \
	"  -n, --dry-run      print the plan, change nothing\n"                                    \
	"  -t, --timeout SEC  give up on a stuck unbind after SEC seconds (default 10),\n"         \
	"                     and on another passthru's lock after as long (default 30)\n"         \
	"  -h, --help         show this help\n"                                                    \
	"\n"                                                                                       \
	"A device that passthrud has allocated to a VM is refused, even with --force:\n"           \
	"passthru release ID first. So is a device of one of its Kubernetes resources\n"           \
	"(the kubelet's): take it out in /etc/passthru/kubernetes.d first. The service's\n"        \
	"socket: $PASSTHRUD_SOCKET, else " SERVICE_SOCKET_DEFAULT ".\n"                            \
	"\n"                                                                                       \
	"See passthru-bind(1).\n"

/* What distinguishes bind from unbind; both share options and the run below. */
struct takeover_verb {
	const char *name; /* "bind", "unbind": for messages */
	enum passthru_takeover_op op;
	void (*help)(void);
	/* --persist, before the execution, with the devices named (may be NULL). */
	void (*prepare)(struct cli *cli, int n, char **devices);
	/* --persist, after a successful execution; returns an exit code. */
	int (*persist)(struct cli *cli, struct passthru_takeover *t, bool force);
};

/*
 * VERB DEVICE... [--group] [--persist] [--force] [--dry-run] [--timeout SEC]: parses the
 * options, plans and executes (or prints the plan), reports, and persists when asked.
 */
int takeover_cli_run(struct cli *cli, const struct takeover_verb *verb, int argc, char **argv);
