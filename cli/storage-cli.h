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

/*
 * Before bind --persist takes them: the ids of the named storage controllers' disks, kept for
 * LVM's devices file (passthru_storage_claim_record). A failure is a warning: the bind goes on.
 */
void storage_cli_record(struct cli *cli, int n, char **devices);

/*
 * After bind --persist: what the early claim and storage prevention cannot do (a drive persisted
 * while on vfio-pci, whose LVM devices file entries cannot be told: one line, with the commands
 * that complete it), and a hint to run passthru setup --apply when they are not written yet.
 */
void storage_cli_hint(struct cli *cli);
