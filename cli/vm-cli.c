/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What qemu-args, attach, detach and libvirt-xml share (vm-cli.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "vm-cli.h"

int vm_cli_add_devices(const char *verb, struct passthru_vm_devices *vd, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		enum passthru_vm_device_kind kind;
		int r;

		if (passthru_vm_device_kind_of(argv[i], &kind) < 0)
			return cli_usage_error(verb, "'%s' is not a device name: use %s", argv[i],
					       VM_ACCEPTED_FORMS);
		r = passthru_vm_devices_add(vd, argv[i]);
		if (r == -EINVAL)
			return cli_usage_error(verb, "'%s' is not a device name: use %s", argv[i],
					       VM_ACCEPTED_FORMS);
		if (r == -ENODEV) {
			static const char *const what[] = {"PCI device", "USB device",
							   "serial port"};
			static const char *const list[] = {"pci", "usb", "serial"};

			cli_error("%s: no such %s", argv[i], what[kind]);
			cli_hint("'passthru list %s' shows the devices of this host", list[kind]);
			return EXIT_REFUSED;
		}
		if (r < 0) {
			cli_error("%s: cannot read it: %s", argv[i], strerror(-r));
			return EXIT_REFUSED;
		}
	}
	return EXIT_DONE;
}

static int parse_serial_model(const char *verb, const char *arg, enum passthru_vm_serial_model *ret)
{
	if (strcmp(arg, "isa-serial") == 0)
		*ret = PASSTHRU_VM_SERIAL_ISA;
	else if (strcmp(arg, "pci-serial") == 0)
		*ret = PASSTHRU_VM_SERIAL_PCI;
	else
		return cli_usage_error(verb, "invalid serial device '%s': isa-serial or pci-serial",
				       arg);
	return EXIT_DONE;
}

int vm_cli_settings_parse(struct vm_cli_settings *s, const char *verb, int c, const char *arg)
{
	if (c == VM_CLI_OPT_ROMFILE)
		s->romfile = arg;
	else if (c == VM_CLI_OPT_USB_BY_ID)
		s->usb_by_id = true;
	else if (c == VM_CLI_OPT_USB_BUS)
		s->usb_bus = arg;
	else if (c == VM_CLI_OPT_SERIAL)
		return parse_serial_model(verb, arg, &s->serial);
	return EXIT_DONE;
}

int vm_cli_settings_apply(const struct vm_cli_settings *s, const char *verb,
			  struct passthru_vm_devices *vd)
{
	if (s->romfile && passthru_vm_devices_set_romfile(vd, NULL, s->romfile) < 0)
		return cli_usage_error(verb, "invalid ROM file '%s'", s->romfile);
	if (s->usb_bus && passthru_vm_devices_set_usb_bus(vd, s->usb_bus) < 0)
		return cli_usage_error(verb, "invalid bus name '%s'", s->usb_bus);
	passthru_vm_devices_set_usb_by_id(vd, s->usb_by_id);
	passthru_vm_devices_set_serial_model(vd, s->serial);
	return EXIT_DONE;
}

int vm_cli_plan(struct passthru_vm_devices *vd)
{
	size_t n;
	int r;

	r = passthru_vm_devices_plan(vd);
	for (const char *const *note = passthru_vm_devices_get_notes(vd); *note; note++)
		fprintf(stderr, "passthru: %s\n", *note);
	if (r >= 0)
		return EXIT_DONE;
	if (r != -EPERM) {
		cli_error("cannot read the devices: %s", strerror(-r));
		return EXIT_REFUSED;
	}
	n = passthru_vm_devices_get_refusal_count(vd);
	for (size_t i = 0; i < n; i++)
		cli_error("%s: %s", passthru_vm_devices_get_refusal_device(vd, i),
			  passthru_vm_devices_get_refusal_reason(vd, i));
	for (size_t i = 0; i < n; i++) {
		const char *fix = passthru_vm_devices_get_refusal_fix(vd, i);
		bool said = false;

		for (size_t k = 0; fix && k < i; k++) {
			const char *other = passthru_vm_devices_get_refusal_fix(vd, k);

			said = said || (other && strcmp(other, fix) == 0);
		}
		if (fix && !said)
			cli_hint("%s", fix);
	}
	return EXIT_REFUSED;
}

int vm_cli_connect(struct cli *cli, const char *path, unsigned timeout_ms,
		   struct passthru_qmp **ret)
{
	_cleanup_free_ char *error = NULL;
	int r = passthru_qmp_connect_full(cli->ctx, path, timeout_ms, ret, &error);

	switch (r) {
	case 0:
		return EXIT_DONE;
	case -ENOENT:
		cli_error("%s: no such socket", path);
		cli_hint("start QEMU with -qmp unix:%s,server=on,wait=off", path);
		break;
	case -ECONNREFUSED:
		cli_error("%s: nothing listens there: is the VM running?", path);
		break;
	case -ETIMEDOUT:
		cli_error("%s: no QMP greeting within %.1f s", path, timeout_ms / 1000.0);
		cli_hint("QEMU serves one client per QMP socket: is another one connected?");
		break;
	case -EPROTO:
		cli_error("%s: does not speak QMP", path);
		break;
	case -EREMOTEIO:
		cli_error("%s: QEMU refused the QMP negotiation (qmp_capabilities): %s", path,
			  error ?: "no reason given");
		break;
	default:
		cli_error("%s: cannot connect: %s", path, strerror(-r));
	}
	return EXIT_REFUSED;
}
