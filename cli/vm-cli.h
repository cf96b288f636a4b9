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

/*
 * The options that say how devices go to a VM, which qemu-args, attach and libvirt-xml share:
 * their getopt values, to list in the verb's long options, and what they said.
 */
enum {
	VM_CLI_OPT_ROMFILE = 0x200, /* --romfile FILE */
	VM_CLI_OPT_USB_BY_ID,	    /* --usb-by-id */
	VM_CLI_OPT_USB_BUS,	    /* --usb-bus BUS */
	VM_CLI_OPT_SERIAL,	    /* --serial-device isa-serial|pci-serial */
};

struct vm_cli_settings {
	const char *romfile; /* optarg, or NULL */
	const char *usb_bus; /* optarg, or NULL */
	bool usb_by_id;
	enum passthru_vm_serial_model serial; /* the verb's default until the option says */
};

/*
 * Takes option c (one of VM_CLI_OPT_*) with its optarg into s; EXIT_USAGE after a message when
 * its value is malformed.
 */
int vm_cli_settings_parse(struct vm_cli_settings *s, const char *verb, int c, const char *arg);

/*
 * Gives vd the settings; on a ROM file or bus name that vd refuses says so and returns
 * EXIT_USAGE.
 */
int vm_cli_settings_apply(const struct vm_cli_settings *s, const char *verb,
			  struct passthru_vm_devices *vd);

/*
 * Plans; on refusals prints one line each and the commands that fix them, once each. Returns
 * EXIT_DONE or EXIT_REFUSED.
 */
int vm_cli_plan(struct passthru_vm_devices *vd);

/* Connects to a QMP socket, saying what went wrong when it cannot. */
int vm_cli_connect(struct cli *cli, const char *path, unsigned timeout_ms,
		   struct passthru_qmp **ret);
