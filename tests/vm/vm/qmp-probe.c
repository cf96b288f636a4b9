/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guest jobs' QMP client, on libpassthru's: runs one command on a nested QEMU's QMP socket
 * and prints the return value as JSON (QEMU's error on stderr, exit 1).
 *   qmp-probe [--timeout SEC] SOCKET COMMAND [ARGUMENTS-JSON]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "passthru.h"

int main(int argc, char **argv)
{
	struct passthru_ctx *ctx = NULL;
	struct passthru_qmp *qmp = NULL;
	unsigned timeout = 10000;
	char *ret = NULL;
	int r;

	if (argc > 2 && strcmp(argv[1], "--timeout") == 0) {
		timeout = (unsigned)atoi(argv[2]) * 1000;
		argc -= 2;
		argv += 2;
	}
	if (argc < 3 || argc > 4) {
		fprintf(stderr,
			"usage: qmp-probe [--timeout SEC] SOCKET COMMAND [ARGUMENTS-JSON]\n");
		return 2;
	}
	r = passthru_ctx_new(NULL, &ctx);
	if (r >= 0)
		r = passthru_qmp_connect(ctx, argv[1], timeout, &qmp);
	if (r < 0) {
		fprintf(stderr, "qmp-probe: %s: %s\n", argv[1], strerror(-r));
		passthru_ctx_unref(ctx);
		return 1;
	}
	r = passthru_qmp_execute(qmp, argv[2], argc == 4 ? argv[3] : NULL, &ret);
	if (r < 0)
		fprintf(stderr, "qmp-probe: %s: %s\n", argv[2],
			passthru_qmp_get_error(qmp) ?: strerror(-r));
	else
		printf("%s\n", ret);
	free(ret);
	passthru_qmp_unref(qmp);
	passthru_ctx_unref(ctx);
	return r < 0 ? 1 : 0;
}
