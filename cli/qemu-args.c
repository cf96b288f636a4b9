/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthru qemu-args DEVICE... [--machine q35|pc] [--vga[=ADDRESS]] [--romfile FILE]
 *     [--usb-by-id] [--usb-bus BUS] [--serial-device MODEL] [--format lines|shell]:
 * the QEMU options that give host devices to a VM (see passthru-vm(1)).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h" /* shell_quote() */
#include "options.h"
#include "vm-cli.h"

static void help(void)
{
	printf(
	    "Usage: passthru qemu-args [OPTIONS] DEVICE...\n"
	    "\n"
	    "Print the QEMU options that give host devices to a VM. DEVICE is " VM_ACCEPTED_FORMS
	    ".\n"
	    "A PCI function brings the other endpoints of its IOMMU group as functions of the\n"
	    "same guest slot; every one must be on vfio-pci ('passthru bind DEVICE --group').\n"
	    "\n"
	    "Options:\n"
	    "  -m, --machine q35|pc       the VM's machine type (default q35: each guest slot on\n"
	    "                             a pcie-root-port of its own)\n"
	    "      --vga[=ADDRESS]        the GPU is the VM's display (x-vga=on)\n"
	    "      --romfile FILE         ROM image for the first PCI device named\n"
	    "      --usb-by-id            USB devices by vendor and product id, not by port\n"
	    "      --usb-bus BUS          USB devices on this bus of the VM; no qemu-xhci added\n"
	    "      --serial-device MODEL  isa-serial (default) or pci-serial\n"
	    "  -f, --format lines|shell   an option and its value per line (default), or one\n"
	    "                             line quoted for a POSIX shell\n"
	    "  -h, --help                 show this help\n"
	    "\n"
	    "See passthru-vm(1).\n");
}

static int print_lines(const char *const *argv)
{
	/* A line per option: a value with a newline would split it (and nothing is printed). */
	for (size_t i = 0; argv[i]; i++)
		if (strchr(argv[i], '\n')) {
			cli_error("a value holds a newline; use --format shell");
			return EXIT_REFUSED;
		}
	for (size_t i = 0; argv[i]; i += 2)
		printf("%s %s\n", argv[i], argv[i + 1] ? argv[i + 1] : "");
	return EXIT_DONE;
}

static int print_shell(const char *const *argv)
{
	for (size_t i = 0; argv[i]; i++) {
		char *q = shell_quote(argv[i]);

		if (!q) {
			cli_error("out of memory");
			return EXIT_REFUSED;
		}
		printf("%s%s", i ? " " : "", q);
		free(q);
	}
	putchar('\n');
	return EXIT_DONE;
}

int verb_qemu_args(struct cli *cli, int argc, char **argv)
{
	enum { OPT_VGA = 0x100 };
	static const struct option options[] = {
	    {"machine", required_argument, NULL, 'm'},
	    {"vga", optional_argument, NULL, OPT_VGA},
	    {"romfile", required_argument, NULL, VM_CLI_OPT_ROMFILE},
	    {"usb-by-id", no_argument, NULL, VM_CLI_OPT_USB_BY_ID},
	    {"usb-bus", required_argument, NULL, VM_CLI_OPT_USB_BUS},
	    {"serial-device", required_argument, NULL, VM_CLI_OPT_SERIAL},
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct cli_options opts = {"qemu-args", "m:f:h", options, help};
	struct passthru_vm_devices *vd = NULL;
	struct vm_cli_settings settings = {.serial = PASSTHRU_VM_SERIAL_ISA};
	const char *machine = NULL, *vga_address = NULL;
	bool vga = false, shell = false;
	int c, r, ret;

	while ((c = cli_options_next(&opts, argc, argv)) >= 0) {
		switch (c) {
		case 'm':
			machine = optarg;
			break;
		case OPT_VGA:
			vga = true;
			vga_address = optarg;
			break;
		case VM_CLI_OPT_ROMFILE:
		case VM_CLI_OPT_USB_BY_ID:
		case VM_CLI_OPT_USB_BUS:
		case VM_CLI_OPT_SERIAL:
			ret = vm_cli_settings_parse(&settings, "qemu-args", c, optarg);
			if (ret != EXIT_DONE)
				return ret;
			break;
		case 'f':
			if (strcmp(optarg, "shell") == 0)
				shell = true;
			else if (strcmp(optarg, "lines") != 0)
				return cli_usage_error(
				    "qemu-args", "invalid format '%s': lines or shell", optarg);
			break;
		}
	}
	if (c == CLI_OPTIONS_EXIT)
		return opts.exit;
	if (optind >= argc)
		return cli_usage_error("qemu-args", "name at least one device");

	r = passthru_vm_devices_new(cli->ctx, &vd);
	if (r < 0) {
		cli_error("cannot start: %s", strerror(-r));
		return EXIT_REFUSED;
	}
	ret = EXIT_USAGE;
	if (machine && passthru_vm_devices_set_machine(vd, machine) < 0) {
		cli_usage_error("qemu-args", "invalid machine '%s': q35 or pc", machine);
		goto out;
	}
	if (passthru_vm_devices_set_vga(vd, vga, vga_address) < 0) {
		cli_usage_error("qemu-args", "invalid PCI address '%s' for --vga", vga_address);
		goto out;
	}
	ret = vm_cli_settings_apply(&settings, "qemu-args", vd);
	if (ret != EXIT_DONE)
		goto out;
	ret = vm_cli_add_devices("qemu-args", vd, argc - optind, argv + optind);
	if (ret != EXIT_DONE)
		goto out;
	ret = vm_cli_plan(vd);
	if (ret != EXIT_DONE)
		goto out;
	ret = shell ? print_shell(passthru_vm_devices_get_qemu_argv(vd))
		    : print_lines(passthru_vm_devices_get_qemu_argv(vd));
out:
	passthru_vm_devices_unref(vd);
	return ret;
}
