/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The early claim of persisted storage from the command line (storage-cli.c). */
#pragma once

#include "cli.h"

/*
 * After bindings.conf changed (unbind --persist): brings the early claim and storage
 * prevention files in line with it, regenerating the initramfs when they change, and prints
 * what it did. Returns EXIT_DONE or EXIT_REFUSED (with the error printed).
 */
int storage_cli_sync(struct cli *cli);

/* After bind --persist: a hint to run passthru setup --apply when a persisted storage
 * controller's early claim is not written yet. */
void storage_cli_hint(struct cli *cli);
