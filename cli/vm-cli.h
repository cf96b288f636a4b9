/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What qemu-args, attach, detach and libvirt-xml share (defined in vm-cli.c). */
#pragma once

#include "cli.h"

#define VM_ACCEPTED_FORMS                                                                          \
	"a PCI address (0000:01:00.0), a USB port path (1-2) or a tty (/dev/ttyS1)"

/*
 * Adds the named devices; on a name that is no device (EXIT_USAGE) or an absent device
 * (EXIT_REFUSED) says so and returns the exit code.
 */
int vm_cli_add_devices(const char *verb, struct passthru_vm_devices *vd, int argc, char **argv);

/* "--serial-device isa-serial|pci-serial". */
int vm_cli_parse_serial_model(const char *verb, const char *arg,
			      enum passthru_vm_serial_model *ret);

/*
 * Plans; on refusals prints one line each and the commands that fix them, once each. Returns
 * EXIT_DONE or EXIT_REFUSED.
 */
int vm_cli_plan(struct passthru_vm_devices *vd);

/* Connects to a QMP socket, saying what went wrong when it cannot. */
int vm_cli_connect(struct cli *cli, const char *path, unsigned timeout_ms,
		   struct passthru_qmp **ret);
