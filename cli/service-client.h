/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The verbs that talk to passthrud over its socket (allocate, release, allocations) and the
 * HTTP client they share (libcurl on the unix socket).
 */
#pragma once

#include <json-c/json.h>

#include "cli.h"

#define SERVICE_SOCKET_DEFAULT "/run/passthru/passthrud.sock"
/* How long bind, unbind and reset wait for the service's list of allocations. */
#define SERVICE_CHECK_TIMEOUT_S 30L

int verb_allocate(struct cli *cli, int argc, char **argv);
int verb_release(struct cli *cli, int argc, char **argv);
int verb_allocations(struct cli *cli, int argc, char **argv);
int verb_kubernetes(struct cli *cli, int argc, char **argv);
int verb_kubevirt_config(struct cli *cli, int argc, char **argv);

/*
 * One request to the service: method and path ("/v1/allocations"), body NULL or JSON text.
 * Returns the HTTP status and, when the answer has a body, its JSON in *ret (NULL for none or
 * for a body that is not JSON). Returns -1 after reporting (cli_error, cli_hint) when the
 * service cannot be reached.
 */
long service_request(const char *socket_path, const char *method, const char *path,
		     const char *body, struct json_object **ret);
/* Reports an error answer, {"error", "hint", "refusals", "holders"}, on stderr. */
void service_report_error(long status, struct json_object *answer);

/*
 * bind, unbind and reset: refuses (EXIT_REFUSED, reported) when passthrud runs and has
 * allocated a device of the plan to a VM, or when the device belongs to one of its Kubernetes
 * resources (the kubelet's), so that the service and the host never disagree.
 * The service's socket is $PASSTHRUD_SOCKET, else the default (only when the host is "/").
 * Nothing listening there: EXIT_DONE. Plans t (for the group's devices).
 */
int service_check_takeover(struct cli *cli, struct passthru_takeover *t, const char *verb);
