/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthru show DEVICE [--json]: everything known about one device. The class comes from
 * the name's syntax. The text is for people (lspci -vv-like "Key: value" lines); the JSON
 * object has the keys of the device's `passthru list --json` entry, ID and NAME included.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "columns.h"
#include "macro.h"
#include "options.h"
#include "utf8.h"

#define ACCEPTED_FORMS                                                                             \
	"a PCI address (0000:42:00.0 or 42:00.0), a USB port path (1-2.3, usb1) or a serial "      \
	"port (/dev/ttyS1, ttyS1)"

static void help(void)
{
	printf("Usage: passthru show DEVICE [--json]\n"
	       "\n"
	       "Show everything known about one device. DEVICE is " ACCEPTED_FORMS ".\n"
	       "\n"
	       "Options:\n"
	       "  -J, --json   one JSON object, with the keys of 'passthru list --json'\n"
	       "  -h, --help   show this help\n"
	       "\n"
	       "See passthru-list(1).\n");
}

/*
 * Reads a name as the library and the VM verbs do (passthru_vm_device_kind_of()), from its
 * syntax alone; opening the device then validates the details.
 */
static int class_of(const char *name, enum device_class *ret)
{
	enum passthru_vm_device_kind kind;
	int r;

	r = passthru_vm_device_kind_of(name, &kind);
	if (r < 0)
		return r;
	switch (kind) {
	case PASSTHRU_VM_DEVICE_PCI:
		*ret = DEVICE_CLASS_PCI;
		break;
	case PASSTHRU_VM_DEVICE_USB:
		*ret = DEVICE_CLASS_USB;
		break;
	case PASSTHRU_VM_DEVICE_SERIAL:
		*ret = DEVICE_CLASS_SERIAL;
		break;
	}
	return 0;
}

/* Every string from the host goes to the terminal through here. */
static void put(const char *s)
{
	_cleanup_free_ char *escaped = utf8_escape_controls(s);

	fputs(escaped ? escaped : "?", stdout);
}

/* "Key:" padded so that the values line up. */
static void key(const char *k)
{
	printf("%-18s", k);
}

static void line(const char *k, const char *value)
{
	key(k);
	putchar(' ');
	put(value);
	putchar('\n');
}

static void line_strv(const char *k, const char *const *v, const char *none)
{
	key(k);
	if (!v || !*v) {
		printf(" %s\n", none);
		return;
	}
	for (const char *const *p = v; *p; p++) {
		fputs(p == v ? " " : ", ", stdout);
		put(*p);
	}
	putchar('\n');
}

/* "NVIDIA Corporation [10de]", "[10de]" without a name, "unknown" without the number. */
static void line_named_id(const char *k, const char *name, int r, uint16_t id)
{
	key(k);
	putchar(' ');
	if (name)
		put(name);
	if (r >= 0)
		printf("%s[%04x]", name ? " " : "", id);
	else if (!name)
		fputs("unknown", stdout);
	putchar('\n');
}

static void show_problems(const char *const *problems)
{
	for (const char *const *p = problems; p && *p; p++)
		line("Problem:", *p);
}

static void show_group_members(struct cli *cli, struct passthru_pci_device *dev)
{
	const char *self = passthru_pci_device_get_address(dev);
	const char *const *members = passthru_pci_device_get_iommu_group_members(dev);

	key("Group members:");
	for (const char *const *m = members; *m; m++) {
		struct passthru_pci_device *other = NULL;
		const char *driver;

		fputs(m == members ? " " : ", ", stdout);
		put(*m);
		if (strcmp(*m, self) == 0) {
			driver = passthru_pci_device_get_driver(dev);
			fputs(" (this device, ", stdout);
			put(driver ? driver : "no driver");
			putchar(')');
			continue;
		}
		if (passthru_pci_device_new(cli->ctx, *m, &other) < 0) {
			fputs(" (unreadable)", stdout);
			continue;
		}
		driver = passthru_pci_device_get_driver(other);
		fputs(" (", stdout);
		put(driver ? driver : "no driver");
		putchar(')');
		passthru_pci_device_unref(other);
	}
	putchar('\n');
}

static void show_link(struct passthru_pci_device *dev)
{
	const char *speed = passthru_pci_device_get_current_link_speed(dev);
	const char *width = passthru_pci_device_get_current_link_width(dev);
	const char *max_speed = passthru_pci_device_get_max_link_speed(dev);
	const char *max_width = passthru_pci_device_get_max_link_width(dev);

	if (!speed && !width && !max_speed && !max_width)
		return;
	key("Link:");
	putchar(' ');
	put(speed ? speed : "unknown");
	fputs(" x", stdout);
	put(width ? width : "?");
	fputs(" (max ", stdout);
	put(max_speed ? max_speed : "unknown");
	fputs(" x", stdout);
	put(max_width ? max_width : "?");
	fputs(")\n", stdout);
}

static void show_pci(struct cli *cli, struct passthru_pci_device *dev)
{
	const char *type = passthru_pci_device_get_type(dev);
	const char *driver = passthru_pci_device_get_driver(dev);
	const char *physfn = passthru_pci_device_get_physfn(dev);
	const char *sub = passthru_pci_device_get_subsystem_name(dev);
	const char *class_name = passthru_pci_device_get_class_name(dev);
	const char *prog_if = passthru_pci_device_get_prog_if_name(dev);
	uint16_t id = 0, sv, sd;
	uint32_t class;
	uint8_t rev;
	unsigned total, num;
	int r, n;

	line("Address:", passthru_pci_device_get_address(dev));
	line("Type:", type ? type : "unknown");
	r = passthru_pci_device_get_vendor_id(dev, &id);
	line_named_id("Vendor:", passthru_pci_device_get_vendor_name(dev), r, id);
	r = passthru_pci_device_get_device_id(dev, &id);
	line_named_id("Device:", passthru_pci_device_get_device_name(dev), r, id);

	key("Subsystem:");
	putchar(' ');
	if (sub)
		put(sub);
	if (passthru_pci_device_get_subsystem_vendor_id(dev, &sv) >= 0 &&
	    passthru_pci_device_get_subsystem_device_id(dev, &sd) >= 0)
		printf("%s[%04x:%04x]", sub ? " " : "", sv, sd);
	else if (!sub)
		fputs("unknown", stdout);
	putchar('\n');

	key("Class:");
	putchar(' ');
	if (class_name)
		put(class_name);
	if (passthru_pci_device_get_class(dev, &class) >= 0)
		printf("%s[%06x]", class_name ? " " : "", class & 0xffffff);
	else if (!class_name)
		fputs("unknown", stdout);
	if (prog_if) {
		fputs(", programming interface ", stdout);
		put(prog_if);
	}
	putchar('\n');

	if (passthru_pci_device_get_revision(dev, &rev) >= 0) {
		key("Revision:");
		printf(" %02x\n", rev);
	}
	line("Driver:", driver ? driver : "none");
	line_strv("Modules:", passthru_pci_device_get_modules(dev), "none");

	key("IOMMU group:");
	r = passthru_pci_device_get_iommu_group(dev, &n);
	if (r >= 0)
		printf(" %d\n", n);
	else
		printf(" %s\n", r == -ENOENT ? "none" : "unknown");
	if (r >= 0)
		show_group_members(cli, dev);

	key("NUMA node:");
	if (passthru_pci_device_get_numa_node(dev, &n) < 0)
		printf(" unknown\n");
	else if (n < 0)
		printf(" none\n");
	else
		printf(" %d\n", n);

	line("Boot VGA:", passthru_pci_device_is_boot_vga(dev) ? "yes" : "no");
	line("Bridge:", passthru_pci_device_is_bridge(dev) ? "yes" : "no");

	if (passthru_pci_device_get_sriov_totalvfs(dev, &total) >= 0) {
		key("SR-IOV:");
		if (passthru_pci_device_get_sriov_numvfs(dev, &num) >= 0)
			printf(" %u of %u VFs enabled\n", num, total);
		else
			printf(" ? of %u VFs enabled\n", total);
		line_strv("VFs:", passthru_pci_device_get_vfs(dev), "none");
	}
	if (physfn)
		line("Physical function:", physfn);

	line_strv("Reset methods:", passthru_pci_device_get_reset_methods(dev), "none");
	show_link(dev);
	show_problems(passthru_pci_device_get_problems(dev));
}

static void show_usb(struct passthru_usb_device *dev)
{
	const char *s;
	uint16_t id = 0;
	uint8_t class;
	unsigned u;
	int r;

	line("Port:", passthru_usb_device_get_port(dev));
	key("Bus:");
	if (passthru_usb_device_get_busnum(dev, &u) >= 0)
		printf(" %u\n", u);
	else
		printf(" unknown\n");
	key("Device number:");
	if (passthru_usb_device_get_devnum(dev, &u) >= 0)
		printf(" %u\n", u);
	else
		printf(" unknown\n");
	r = passthru_usb_device_get_vendor_id(dev, &id);
	line_named_id("Vendor:", passthru_usb_device_get_vendor_name(dev), r, id);
	r = passthru_usb_device_get_product_id(dev, &id);
	line_named_id("Product:", passthru_usb_device_get_product_name(dev), r, id);
	if ((s = passthru_usb_device_get_manufacturer(dev)))
		line("Manufacturer:", s);
	if ((s = passthru_usb_device_get_product(dev)))
		line("Product string:", s);
	if ((s = passthru_usb_device_get_serial(dev)))
		line("Serial number:", s);
	key("Class:");
	if (passthru_usb_device_get_class(dev, &class) >= 0)
		printf(" %02x\n", class);
	else
		printf(" unknown\n");
	key("Speed:");
	s = passthru_usb_device_get_speed(dev);
	putchar(' ');
	put(s ? s : "unknown");
	fputs(s ? " Mbit/s\n" : "\n", stdout);
	line("Hub:", passthru_usb_device_is_root_hub(dev) ? "yes, a root hub"
		     : passthru_usb_device_is_hub(dev)	  ? "yes"
							  : "no");
	line_strv("Drivers:", passthru_usb_device_get_drivers(dev), "none");
	show_problems(passthru_usb_device_get_problems(dev));
}

static void show_serial(struct passthru_serial_port *port)
{
	const char *s;
	unsigned u;
	int r;

	line("Path:", passthru_serial_port_get_path(port));
	line("Name:", passthru_serial_port_get_name(port));
	key("I/O port:");
	if (passthru_serial_port_get_io_port(port, &u) >= 0)
		printf(" 0x%x\n", u);
	else
		printf(" none\n");
	key("IRQ:");
	r = passthru_serial_port_get_irq(port, &u);
	if (r >= 0)
		printf(" %u\n", u);
	else
		printf(" %s\n", r == -ENOENT ? "none" : "unknown");
	if (passthru_serial_port_get_uart_type(port, &u) >= 0) {
		key("UART type:");
		printf(" %u%s\n", u, u == 4 ? " (16550A)" : "");
	}
	line("Console:", passthru_serial_port_is_console(port) ? "yes" : "no");
	s = passthru_serial_port_get_usb_port(port);
	line("USB device:", s ? s : "none");
	s = passthru_serial_port_get_driver(port);
	line("Driver:", s ? s : "unknown");
}

static int print_json(enum device_class c, void *device)
{
	const struct column_class *cls = device_class_columns(c);
	struct column_set all;
	json_object *o = NULL;
	int r;

	column_set_all(cls, &all);
	r = columns_to_json(cls, &all, device, &o);
	if (r >= 0)
		r = json_print(o);
	json_object_put(o);
	return r < 0 ? print_oom() : EXIT_DONE;
}

static int open_device(struct cli *cli, enum device_class c, const char *name, void **ret)
{
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	const char *shown = name;
	int r;

	switch (c) {
	case DEVICE_CLASS_PCI:
		r = passthru_pci_device_new(cli->ctx, name, (struct passthru_pci_device **)ret);
		/* Name the device as the kernel does, whatever the user typed. */
		if (passthru_pci_address_parse(name, address) >= 0)
			shown = address;
		break;
	case DEVICE_CLASS_USB:
		r = passthru_usb_device_new(cli->ctx, name, (struct passthru_usb_device **)ret);
		break;
	case DEVICE_CLASS_SERIAL:
		r = passthru_serial_port_new(cli->ctx, name, (struct passthru_serial_port **)ret);
		break;
	default:
		r = -EINVAL;
	}
	if (r >= 0)
		return EXIT_DONE;
	if (r == -EINVAL)
		return cli_usage_error("show", "'%s' is not a device name: use " ACCEPTED_FORMS,
				       name);
	if (r == -ENODEV || r == -ENOENT)
		cli_error("%s: no such %s", shown,
			  c == DEVICE_CLASS_PCI	  ? "PCI device"
			  : c == DEVICE_CLASS_USB ? "USB device"
						  : "serial port");
	else if (r == -ENOMEM)
		return print_oom();
	else
		cli_error("%s: cannot read the device: %s", shown, strerror(-r));
	return EXIT_REFUSED;
}

int verb_show(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"json", no_argument, NULL, 'J'}, {"help", no_argument, NULL, 'h'}, {}};
	enum device_class c;
	void *device = NULL;
	bool json = false;
	struct cli_options opts = {"show", "Jh", options, help, .json = &json};
	int r;

	if (cli_options_parse_all(&opts, argc, argv) == CLI_OPTIONS_EXIT)
		return opts.exit;
	if (optind >= argc)
		return cli_usage_error("show", "which device? Give " ACCEPTED_FORMS);
	if (argc - optind > 1)
		return cli_usage_error("show", "one device at a time, not '%s'", argv[optind + 1]);
	if (class_of(argv[optind], &c) < 0)
		return cli_usage_error("show", "'%s' is not a device name: use " ACCEPTED_FORMS,
				       argv[optind]);

	r = open_device(cli, c, argv[optind], &device);
	if (r != EXIT_DONE)
		return r;

	if (json)
		r = print_json(c, device);
	else if (c == DEVICE_CLASS_PCI)
		show_pci(cli, device);
	else if (c == DEVICE_CLASS_USB)
		show_usb(device);
	else
		show_serial(device);

	switch (c) {
	case DEVICE_CLASS_PCI:
		passthru_pci_device_unref(device);
		break;
	case DEVICE_CLASS_USB:
		passthru_usb_device_unref(device);
		break;
	default:
		passthru_serial_port_unref(device);
	}
	return r;
}
