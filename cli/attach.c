/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthru attach --qmp SOCKET DEVICE... [--bind] [--bus ID] [--timeout SEC] ...
 * passthru detach --qmp SOCKET DEVICE... [--timeout SEC]
 * Hot-plug host devices into a running QEMU VM and out again, over its QMP socket (see
 * passthru-vm(1)).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "options.h"
#include "takeover-cli.h"
#include "vm-cli.h"

static void help_attach(void)
{
	printf(
	    "Usage: passthru attach --qmp SOCKET [OPTIONS] DEVICE...\n"
	    "\n"
	    "Hot-plug host devices into a running QEMU VM over its QMP socket, with the\n"
	    "options 'passthru qemu-args' would give. DEVICE is " VM_ACCEPTED_FORMS ".\n"
	    "\n"
	    "Options:\n"
	    "  -q, --qmp SOCKET           the VM's QMP socket (-qmp unix:SOCKET,server=on)\n"
	    "  -b, --bind                 bind PCI devices (whole IOMMU groups) to vfio-pci\n"
	    "                             first when they are not\n"
	    "      --bus ID               put PCI devices on this bus (a pcie-root-port's id);\n"
	    "                             default: the first free one\n"
	    "      --romfile FILE         ROM image for the first PCI device named\n"
	    "      --usb-by-id            USB devices by vendor and product id, not by port\n"
	    "      --usb-bus BUS          USB devices on this bus of the VM\n"
	    "      --serial-device MODEL  pci-serial (isa-serial cannot be hot-plugged)\n"
	    "  -t, --timeout SEC          give up on a QMP step after SEC seconds (default 10),\n"
	    "                             with --bind also on a stuck unbind and on another\n"
	    "                             passthru's lock\n"
	    "  -h, --help                 show this help\n"
	    "\n"
	    "See passthru-vm(1).\n");
}

static void help_detach(void)
{
	printf("Usage: passthru detach --qmp SOCKET [OPTIONS] DEVICE...\n"
	       "\n"
	       "Hot-unplug devices that 'passthru attach' or 'passthru qemu-args' gave to a\n"
	       "running QEMU VM, and wait until QEMU says they are gone. A PCI device takes the\n"
	       "other functions of its guest slot with it. The guest OS must agree to a PCI\n"
	       "unplug: a paused VM, or one without a running OS, never does.\n"
	       "\n"
	       "Options:\n"
	       "  -q, --qmp SOCKET   the VM's QMP socket\n"
	       "  -t, --timeout SEC  wait at most SEC seconds for each QMP step and for the\n"
	       "                     unplug of all devices together (default 10)\n"
	       "  -h, --help         show this help\n"
	       "\n"
	       "See passthru-vm(1).\n");
}

/* --bind: the named PCI devices (and their groups) to vfio-pci, as 'passthru bind --group'. */
static int bind_first(struct cli *cli, int argc, char **argv, unsigned timeout_ms)
{
	struct passthru_takeover *t = NULL;
	_cleanup_free_ char **pci = calloc((size_t)argc + 1, sizeof(char *));
	int n_pci = 0, r, ret;

	if (!pci) {
		cli_error("out of memory");
		return EXIT_REFUSED;
	}
	for (int i = 0; i < argc; i++) {
		enum passthru_vm_device_kind kind;

		if (passthru_vm_device_kind_of(argv[i], &kind) >= 0 &&
		    kind == PASSTHRU_VM_DEVICE_PCI)
			pci[n_pci++] = argv[i];
	}
	if (n_pci == 0)
		return EXIT_DONE;
	r = passthru_takeover_new(cli->ctx, PASSTHRU_TAKEOVER_BIND, PASSTHRU_TAKEOVER_GROUP, &t);
	if (r < 0) {
		cli_error("cannot start binding: %s", strerror(-r));
		return EXIT_REFUSED;
	}
	if (timeout_ms)
		passthru_takeover_set_timeout(t, timeout_ms);
	takeover_cli_say_lock_wait(t);
	ret = takeover_cli_add_devices("attach", t, n_pci, pci);
	if (ret != EXIT_DONE)
		goto out;
	r = passthru_takeover_plan(t);
	if (r == -EPERM) {
		ret = takeover_cli_report_refusals(t, "bind");
		goto out;
	}
	if (r < 0) {
		cli_error("cannot plan the binding: %s", strerror(-r));
		ret = EXIT_REFUSED;
		goto out;
	}
	takeover_cli_print_notes(t, "bind");
	r = passthru_takeover_execute(t);
	takeover_cli_report_repair(t);
	if (r == -EPERM) {
		ret = takeover_cli_report_refusals(t, "bind");
		goto out;
	}
	if (r < 0) {
		ret = takeover_cli_report_failure(t, "bind");
		goto out;
	}
	takeover_cli_print_results(t);
	ret = EXIT_DONE;
out:
	passthru_takeover_unref(t);
	return ret;
}

static void report_failure_hint(int r, const char *verb)
{
	if (r == -ETIMEDOUT && strcmp(verb, "detach") == 0)
		cli_hint("QEMU may still finish the unplug once the guest answers: 'info pci' on "
			 "the monitor shows whether it did");
}

static int report_failure(struct passthru_vm_devices *vd, int r, const char *verb)
{
	const char *error = passthru_vm_devices_get_error(vd);

	if (error)
		cli_error("%s", error);
	else
		cli_error("%s failed: %s", verb, strerror(-r));
	report_failure_hint(r, verb);
	return EXIT_REFUSED;
}

int verb_attach(struct cli *cli, int argc, char **argv)
{
	enum { OPT_BUS = 0x100 };
	static const struct option options[] = {
	    {"qmp", required_argument, NULL, 'q'},
	    {"bind", no_argument, NULL, 'b'},
	    {"bus", required_argument, NULL, OPT_BUS},
	    {"romfile", required_argument, NULL, VM_CLI_OPT_ROMFILE},
	    {"usb-by-id", no_argument, NULL, VM_CLI_OPT_USB_BY_ID},
	    {"usb-bus", required_argument, NULL, VM_CLI_OPT_USB_BUS},
	    {"serial-device", required_argument, NULL, VM_CLI_OPT_SERIAL},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct passthru_vm_devices *vd = NULL;
	struct passthru_qmp *qmp = NULL;
	struct vm_cli_settings settings = {.serial = PASSTHRU_VM_SERIAL_PCI};
	const char *socket = NULL, *bus = NULL;
	bool bind = false;
	unsigned timeout = 10000;
	struct cli_options opts = {"attach", "q:bt:h", options, help_attach,
				   .timeout_ms = &timeout};
	int c, r, ret;

	while ((c = cli_options_next(&opts, argc, argv)) >= 0) {
		switch (c) {
		case 'q':
			socket = optarg;
			break;
		case 'b':
			bind = true;
			break;
		case OPT_BUS:
			bus = optarg;
			break;
		case VM_CLI_OPT_ROMFILE:
		case VM_CLI_OPT_USB_BY_ID:
		case VM_CLI_OPT_USB_BUS:
		case VM_CLI_OPT_SERIAL:
			ret = vm_cli_settings_parse(&settings, "attach", c, optarg);
			if (ret != EXIT_DONE)
				return ret;
			break;
		}
	}
	if (c == CLI_OPTIONS_EXIT)
		return opts.exit;
	if (!socket)
		return cli_usage_error("attach", "name the VM's QMP socket with --qmp SOCKET");
	if (optind >= argc)
		return cli_usage_error("attach", "name at least one device");
	if (settings.serial == PASSTHRU_VM_SERIAL_ISA)
		return cli_usage_error("attach",
				       "isa-serial cannot be hot-plugged: use pci-serial");

	r = passthru_vm_devices_new(cli->ctx, &vd);
	if (r < 0) {
		cli_error("cannot start: %s", strerror(-r));
		return EXIT_REFUSED;
	}
	ret = vm_cli_settings_apply(&settings, "attach", vd);
	if (ret != EXIT_DONE)
		goto out;
	ret = vm_cli_add_devices("attach", vd, argc - optind, argv + optind);
	if (ret != EXIT_DONE)
		goto out;
	if (bind) {
		ret = bind_first(cli, argc - optind, argv + optind, timeout);
		if (ret != EXIT_DONE)
			goto out;
	}
	ret = vm_cli_plan(vd);
	if (ret != EXIT_DONE) {
		if (!bind)
			cli_hint("or let attach do it: passthru attach --bind ...");
		goto out;
	}
	ret = vm_cli_connect(cli, socket, timeout, &qmp);
	if (ret != EXIT_DONE)
		goto out;
	r = passthru_vm_devices_attach(vd, qmp, bus);
	/* After a failure, what went in before it is in the VM all the same: say so. */
	for (size_t i = 0; i < passthru_vm_devices_count(vd); i++) {
		const char *b = passthru_vm_devices_get_bus(vd, i);
		const char *a = passthru_vm_devices_get_addr(vd, i);

		if (!passthru_vm_devices_is_attached(vd, i))
			continue;
		printf("%s: attached as %s", passthru_vm_devices_get_host(vd, i),
		       passthru_vm_devices_get_id(vd, i));
		if (b)
			printf(" on %s", b);
		if (a)
			printf(" at %s", a);
		putchar('\n');
	}
	ret = r < 0 ? report_failure(vd, r, "attach") : EXIT_DONE;
out:
	passthru_qmp_unref(qmp);
	passthru_vm_devices_unref(vd);
	return ret;
}

int verb_detach(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"qmp", required_argument, NULL, 'q'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct passthru_vm_devices *vd = NULL;
	struct passthru_qmp *qmp = NULL;
	const char *socket = NULL;
	unsigned timeout = 10000;
	struct cli_options opts = {"detach", "q:t:h", options, help_detach, .timeout_ms = &timeout};
	bool timed_out = false;
	int c, r, ret;

	while ((c = cli_options_next(&opts, argc, argv)) >= 0) {
		switch (c) {
		case 'q':
			socket = optarg;
			break;
		}
	}
	if (c == CLI_OPTIONS_EXIT)
		return opts.exit;
	if (!socket)
		return cli_usage_error("detach", "name the VM's QMP socket with --qmp SOCKET");
	if (optind >= argc)
		return cli_usage_error("detach", "name at least one device");

	r = passthru_vm_devices_new(cli->ctx, &vd);
	if (r < 0) {
		cli_error("cannot start: %s", strerror(-r));
		return EXIT_REFUSED;
	}
	ret = vm_cli_add_devices("detach", vd, argc - optind, argv + optind);
	if (ret != EXIT_DONE)
		goto out;
	ret = vm_cli_connect(cli, socket, timeout, &qmp);
	if (ret != EXIT_DONE)
		goto out;
	r = passthru_vm_devices_detach(vd, qmp, timeout);
	/* Every device's outcome: one that did not go does not hide those that did. */
	ret = EXIT_DONE;
	for (int i = optind; i < argc; i++) {
		const char *reason = NULL;
		int k = passthru_vm_devices_get_detach_result(vd, argv[i], &reason);

		if (k == 0) {
			printf("%s: detached\n", argv[i]);
			continue;
		}
		if (k == -ENODATA)
			break; /* it stopped before any device: the error below says why */
		if (reason)
			cli_error("%s", reason);
		else
			cli_error("%s: cannot detach it: %s", argv[i], strerror(-k));
		ret = EXIT_REFUSED;
		timed_out |= k == -ETIMEDOUT;
	}
	if (r < 0 && ret == EXIT_DONE)
		ret = report_failure(vd, r, "detach");
	else if (timed_out)
		report_failure_hint(-ETIMEDOUT, "detach");
out:
	passthru_qmp_unref(qmp);
	passthru_vm_devices_unref(vd);
	return ret;
}
