/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guards of devices on the running host, for the real-kernel tests:
 *
 *     guard-probe pci ADDRESS    guard-probe serial TTY
 *
 * prints one line per guard, "kind|resource|reason|hint" ("-" for no hint), and exits 0; on
 * an error it prints "guard-probe: DEVICE: message" to stderr and exits 1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "passthru.h"

int main(int argc, char **argv)
{
	struct passthru_ctx *ctx = NULL;
	struct passthru_guard_list *list = NULL;
	int r;

	if (argc != 3 || (strcmp(argv[1], "pci") != 0 && strcmp(argv[1], "serial") != 0)) {
		fprintf(stderr, "usage: guard-probe pci ADDRESS | serial TTY\n");
		return 2;
	}
	r = passthru_ctx_new(NULL, &ctx);
	if (r < 0) {
		fprintf(stderr, "guard-probe: cannot make a context: %s\n", strerror(-r));
		return 1;
	}
	if (strcmp(argv[1], "pci") == 0)
		r = passthru_guard_check_pci(ctx, argv[2], &list);
	else
		r = passthru_guard_check_serial(ctx, argv[2], &list);
	if (r < 0) {
		fprintf(stderr, "guard-probe: %s: %s\n", argv[2], strerror(-r));
		passthru_ctx_unref(ctx);
		return 1;
	}
	for (size_t i = 0; i < passthru_guard_list_count(list); i++) {
		const char *hint = passthru_guard_list_get_hint(list, i);

		printf("%s|%s|%s|%s\n",
		       passthru_guard_kind_to_string(passthru_guard_list_get_kind(list, i)),
		       passthru_guard_list_get_resource(list, i),
		       passthru_guard_list_get_reason(list, i), hint ? hint : "-");
	}
	passthru_guard_list_unref(list);
	passthru_ctx_unref(ctx);
	return fflush(stdout) == 0 ? 0 : 1;
}
