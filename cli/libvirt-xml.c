/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthru libvirt-xml DEVICE... [--usb-by-address] [--romfile FILE] [--serial-device MODEL]:
 * libvirt <hostdev> and <serial> elements for host devices (see passthru-vm(1)).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "vm-cli.h"

static void help(void)
{
	printf(
	    "Usage: passthru libvirt-xml [OPTIONS] DEVICE...\n"
	    "\n"
	    "Print libvirt domain XML that gives host devices to a VM: <hostdev> for PCI\n"
	    "functions (managed='no': bind them with 'passthru bind --group') and USB\n"
	    "devices, <serial type='dev'> for serial ports. Each element goes inside the\n"
	    "domain's <devices>, or alone to 'virsh attach-device'. DEVICE is\n" VM_ACCEPTED_FORMS
	    ".\n"
	    "\n"
	    "Options:\n"
	    "      --usb-by-address       USB devices by bus and device number (which change\n"
	    "                             when the device is plugged again), not by ids\n"
	    "      --romfile FILE         ROM image (absolute path) for the first PCI device\n"
	    "      --serial-device MODEL  isa-serial (default) or pci-serial\n"
	    "  -h, --help                 show this help\n"
	    "\n"
	    "See passthru-vm(1).\n");
}

int verb_libvirt_xml(struct cli *cli, int argc, char **argv)
{
	enum { OPT_USB_BY_ADDRESS = 0x100 };
	static const struct option options[] = {
	    {"usb-by-address", no_argument, NULL, OPT_USB_BY_ADDRESS},
	    {"romfile", required_argument, NULL, VM_CLI_OPT_ROMFILE},
	    {"serial-device", required_argument, NULL, VM_CLI_OPT_SERIAL},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct cli_options opts = {"libvirt-xml", "h", options, help};
	struct passthru_vm_devices *vd = NULL;
	struct vm_cli_settings settings = {.serial = PASSTHRU_VM_SERIAL_ISA};
	bool by_address = false;
	char *xml = NULL;
	int c, r, ret;

	while ((c = cli_options_next(&opts, argc, argv)) >= 0) {
		switch (c) {
		case OPT_USB_BY_ADDRESS:
			by_address = true;
			break;
		case VM_CLI_OPT_ROMFILE:
		case VM_CLI_OPT_SERIAL:
			ret = vm_cli_settings_parse(&settings, "libvirt-xml", c, optarg);
			if (ret != EXIT_DONE)
				return ret;
			break;
		}
	}
	if (c == CLI_OPTIONS_EXIT)
		return opts.exit;
	if (optind >= argc)
		return cli_usage_error("libvirt-xml", "name at least one device");
	if (settings.romfile && settings.romfile[0] != '/')
		return cli_usage_error("libvirt-xml",
				       "libvirt wants the ROM file as an absolute path, not '%s'",
				       settings.romfile);
	/* libvirt has no USB port path: vendor and product are what stays put. */
	settings.usb_by_id = !by_address;

	r = passthru_vm_devices_new(cli->ctx, &vd);
	if (r < 0) {
		cli_error("cannot start: %s", strerror(-r));
		return EXIT_REFUSED;
	}
	ret = vm_cli_settings_apply(&settings, "libvirt-xml", vd);
	if (ret != EXIT_DONE)
		goto out;
	ret = vm_cli_add_devices("libvirt-xml", vd, argc - optind, argv + optind);
	if (ret != EXIT_DONE)
		goto out;
	ret = vm_cli_plan(vd);
	if (ret != EXIT_DONE)
		goto out;
	r = passthru_vm_devices_get_libvirt_xml(vd, &xml);
	if (r == -ENODATA && passthru_vm_devices_get_error(vd)) {
		cli_error("%s", passthru_vm_devices_get_error(vd));
		if (by_address)
			cli_hint(
			    "'passthru libvirt-xml' without --usb-by-address names USB devices "
			    "by vendor and product id");
		ret = EXIT_REFUSED;
		goto out;
	}
	if (r < 0) {
		cli_error("cannot make the XML: %s", strerror(-r));
		ret = EXIT_REFUSED;
		goto out;
	}
	fputs(xml, stdout);
	ret = EXIT_DONE;
out:
	free(xml);
	passthru_vm_devices_unref(vd);
	return ret;
}
