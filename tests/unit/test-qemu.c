/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* QEMU options for host devices: escaping, ids, guest slot layout, refusals (test-vm-fixture.h). */
#include "qemu.h"
#include "test-vm-fixture.h"
#include "test.h"

/* Compares a plan's argv with the expected words, saying which word differs. */
static void check_argv(struct passthru_vm_devices *vd, const char *const *expected)
{
	const char *const *argv = passthru_vm_devices_get_qemu_argv(vd);
	size_t i = 0;

	for (; argv[i] && expected[i]; i++)
		CHECK_STR(argv[i], expected[i]);
	CHECK_STR(argv[i], expected[i]);
}

static void test_escaping(void)
{
	_cleanup_free_ char *a = qemu_escape_value("a,b,,c"), *b = qemu_unescape_value("a,,b,,,,c"),
			    *c = qemu_escape_value(""), *d = qemu_unescape_value("a,b"),
			    *e = qemu_unescape_value("trailing,"), *f = shell_quote("it's a,b"),
			    *g = shell_quote("-device"), *h = shell_quote(""),
			    *x = xml_escape_attribute("a&b<c>'d\"");
	char *const props[] = {"driver",  "vfio-pci",	     "host", "0000:01:00.0",
			       "romfile", "/roms/a,b=c.rom", NULL};
	_cleanup_free_ char *option = qemu_props_to_option(props);

	CHECK_STR(a, "a,,b,,,,c");
	CHECK_STR(b, "a,b,,c");
	CHECK_STR(c, "");
	CHECK(d == NULL);
	CHECK(e == NULL);
	CHECK_STR(f, "'it'\\''s a,b'");
	CHECK_STR(g, "-device");
	CHECK_STR(h, "''");
	CHECK_STR(x, "a&amp;b&lt;c&gt;&apos;d&quot;");
	/* Only values are escaped; an '=' inside a value needs nothing. */
	CHECK_STR(option, "vfio-pci,host=0000:01:00.0,romfile=/roms/a,,b=c.rom");
}

static void test_ids(void)
{
	_cleanup_free_ char *pci = qemu_id_pci("0000:01:00.1"),
			    *rp = qemu_id_root_port("0000:01:00.1"), *usb = qemu_id_usb("1-3.1"),
			    *ser = qemu_id_serial("ttyS1"), *chr = qemu_id_chardev("ttyS1");
	enum passthru_vm_device_kind kind = -1;

	CHECK_STR(pci, "pt-0000-01-00.1");
	CHECK_STR(rp, "pt-rp-0000-01-00");
	CHECK_STR(usb, "pt-usb-1-3.1");
	CHECK_STR(ser, "pt-ttyS1");
	CHECK_STR(chr, "pt-chr-ttyS1");

	CHECK_INT(passthru_vm_device_kind_of("01:00.0", &kind), 0);
	CHECK_INT(kind, PASSTHRU_VM_DEVICE_PCI);
	CHECK_INT(passthru_vm_device_kind_of("1-2", &kind), 0);
	CHECK_INT(kind, PASSTHRU_VM_DEVICE_USB);
	CHECK_INT(passthru_vm_device_kind_of("usb1", &kind), 0);
	CHECK_INT(kind, PASSTHRU_VM_DEVICE_USB);
	CHECK_INT(passthru_vm_device_kind_of("/dev/ttyS1", &kind), 0);
	CHECK_INT(kind, PASSTHRU_VM_DEVICE_SERIAL);
	CHECK_INT(passthru_vm_device_kind_of("ttyUSB0", &kind), 0);
	CHECK_INT(kind, PASSTHRU_VM_DEVICE_SERIAL);
	kind = -1;
	CHECK_INT(passthru_vm_device_kind_of("../etc/passwd", &kind), -EINVAL);
	CHECK_INT(passthru_vm_device_kind_of("", &kind), -EINVAL);
	CHECK_INT((int)kind, -1);
}

/* The guest test layout: a NIC, the VGA + audio group, the tablet's port, a UART. */
static void test_q35(struct passthru_ctx *ctx)
{
	const char *names[] = {"00:02.0", "01:00.0", "1-1", "/dev/ttyS1", NULL};
	const char *expected[] = {
	    "-device",
	    "pcie-root-port,id=pt-rp-0000-00-02,bus=pcie.0,chassis=112,slot=2",
	    "-device",
	    "vfio-pci,host=0000:00:02.0,id=pt-0000-00-02.0,bus=pt-rp-0000-00-02",
	    "-device",
	    "pcie-root-port,id=pt-rp-0000-01-00,bus=pcie.0,chassis=112,slot=32",
	    "-device",
	    "vfio-pci,host=0000:01:00.0,id=pt-0000-01-00.0,bus=pt-rp-0000-01-00,"
	    "addr=0.0,multifunction=on",
	    "-device",
	    "vfio-pci,host=0000:01:00.1,id=pt-0000-01-00.1,bus=pt-rp-0000-01-00,"
	    "addr=0.1",
	    "-device",
	    "qemu-xhci,id=pt-xhci",
	    "-device",
	    "usb-host,hostbus=1,hostport=1,id=pt-usb-1-1,bus=pt-xhci.0",
	    "-chardev",
	    "serial,id=pt-chr-ttyS1,path=/dev/ttyS1",
	    "-device",
	    "isa-serial,chardev=pt-chr-ttyS1,id=pt-ttyS1",
	    NULL,
	};
	struct passthru_vm_devices *vd = vm_devices(ctx, NULL, names);

	CHECK_INT(passthru_vm_devices_get_count(vd), 0);
	CHECK_INT(passthru_vm_devices_plan(vd), 0);
	check_argv(vd, expected);
	CHECK_INT(passthru_vm_devices_get_count(vd), 5);
	/* The audio function came with the VGA: not named, function 1 of the same slot. */
	CHECK_STR(passthru_vm_devices_get_host(vd, 2), "0000:01:00.1");
	CHECK(!passthru_vm_devices_is_requested(vd, 2));
	CHECK(passthru_vm_devices_is_requested(vd, 1));
	CHECK_STR(passthru_vm_devices_get_bus(vd, 2), "pt-rp-0000-01-00");
	CHECK_STR(passthru_vm_devices_get_addr(vd, 2), "0.1");
	CHECK_INT(passthru_vm_devices_get_kind(vd, 3), PASSTHRU_VM_DEVICE_USB);
	CHECK_STR(passthru_vm_devices_get_id(vd, 4), "pt-ttyS1");
	CHECK_INT(passthru_vm_devices_get_refusal_count(vd), 0);
	CHECK(passthru_vm_devices_get_notes(vd)[0] == NULL);

	/* Naming both functions, or the audio one only, gives the same slot. */
	CHECK_INT(passthru_vm_devices_add(vd, "0000:01:00.1"), 0);
	CHECK_INT(passthru_vm_devices_get_count(vd), 0); /* a change undoes the plan */
	CHECK_INT(passthru_vm_devices_plan(vd), 0);
	check_argv(vd, expected);
	CHECK(passthru_vm_devices_is_requested(vd, 2));
	passthru_vm_devices_unref(vd);
}

/* Groups whose endpoints are not one host slot with its function 0 are numbered from 0. */
static void test_group_layouts(struct passthru_ctx *ctx)
{
	const char *names[] = {"0000:04:00.0", "05:00.2", NULL};
	const char *expected[] = {
	    "-device",
	    "pcie-root-port,id=pt-rp-0000-03-00,bus=pcie.0,chassis=112,slot=96",
	    "-device",
	    "vfio-pci,host=0000:03:00.0,id=pt-0000-03-00.0,bus=pt-rp-0000-03-00,"
	    "addr=0.0,multifunction=on",
	    "-device",
	    "vfio-pci,host=0000:04:00.0,id=pt-0000-04-00.0,bus=pt-rp-0000-03-00,"
	    "addr=0.1",
	    "-device",
	    "pcie-root-port,id=pt-rp-0000-05-00,bus=pcie.0,chassis=112,slot=160",
	    "-device",
	    "vfio-pci,host=0000:05:00.1,id=pt-0000-05-00.1,bus=pt-rp-0000-05-00,"
	    "addr=0.0,multifunction=on",
	    "-device",
	    "vfio-pci,host=0000:05:00.2,id=pt-0000-05-00.2,bus=pt-rp-0000-05-00,"
	    "addr=0.1",
	    NULL,
	};
	const char *expected_pc[] = {
	    "-device",
	    "vfio-pci,host=0000:03:00.0,id=pt-0000-03-00.0,bus=pci.0,addr=10.0,"
	    "multifunction=on",
	    "-device",
	    "vfio-pci,host=0000:04:00.0,id=pt-0000-04-00.0,bus=pci.0,addr=10.1",
	    "-device",
	    "vfio-pci,host=0000:05:00.1,id=pt-0000-05-00.1,bus=pci.0,addr=11.0,"
	    "multifunction=on",
	    "-device",
	    "vfio-pci,host=0000:05:00.2,id=pt-0000-05-00.2,bus=pci.0,addr=11.1",
	    "-device",
	    "vfio-pci,host=0000:00:02.0,id=pt-0000-00-02.0",
	    NULL,
	};
	const char *pc_names[] = {"00:02.0", "03:00.0", "05:00.1", NULL};
	struct passthru_vm_devices *vd = vm_devices(ctx, "pc-q35-7.2", names);

	CHECK_INT(passthru_vm_devices_plan(vd), 0);
	check_argv(vd, expected);
	passthru_vm_devices_unref(vd);

	/* On pc, multi-function slots get fixed addresses and come first. */
	vd = vm_devices(ctx, "pc", pc_names);
	CHECK_INT(passthru_vm_devices_plan(vd), 0);
	check_argv(vd, expected_pc);
	CHECK_STR(passthru_vm_devices_get_host(vd, 0), "0000:00:02.0");
	CHECK(passthru_vm_devices_get_bus(vd, 0) == NULL);
	CHECK(passthru_vm_devices_get_addr(vd, 0) == NULL);
	CHECK_STR(passthru_vm_devices_get_addr(vd, 4), "11.1");
	CHECK_INT(passthru_vm_devices_set_machine(vd, "microvm"), -EINVAL);
	passthru_vm_devices_unref(vd);
}

static void test_options(struct passthru_ctx *ctx)
{
	const char *gpu[] = {"01:00.0", NULL}, *two[] = {"01:00.0", "06:00.0", NULL},
		   *nic[] = {"00:02.0", NULL}, *usb[] = {"1-2", "ttyS1", NULL};
	struct passthru_vm_devices *vd = vm_devices(ctx, NULL, gpu);
	const char *const *argv;

	CHECK_INT(passthru_vm_devices_set_vga(vd, true, NULL), 0);
	CHECK_INT(passthru_vm_devices_set_romfile(vd, NULL, "/roms/vga,1.rom"), 0);
	CHECK_INT(passthru_vm_devices_plan(vd), 0);
	argv = passthru_vm_devices_get_qemu_argv(vd);
	CHECK_STR(argv[3], "vfio-pci,host=0000:01:00.0,id=pt-0000-01-00.0,bus=pt-rp-0000-01-00,"
			   "addr=0.0,multifunction=on,x-vga=on,romfile=/roms/vga,,1.rom");
	CHECK_STR(argv[5], "vfio-pci,host=0000:01:00.1,id=pt-0000-01-00.1,bus=pt-rp-0000-01-00,"
			   "addr=0.1");
	/* x-vga is for VGA controllers only; the ROM to a device that is not there is refused. */
	CHECK_INT(passthru_vm_devices_set_vga(vd, true, "0000:01:00.1"), 0);
	CHECK_INT(passthru_vm_devices_set_romfile(vd, "0000:00:02.0", "/r.rom"), 0);
	CHECK_INT(passthru_vm_devices_plan(vd), -EPERM);
	CHECK_INT(passthru_vm_devices_get_refusal_count(vd), 2);
	CHECK_STR(passthru_vm_devices_get_refusal_device(vd, 0), "--vga");
	CHECK_STR(passthru_vm_devices_get_refusal_reason(vd, 0),
		  "0000:01:00.1 is no VGA controller (class 040300): x-vga needs one");
	CHECK_STR(passthru_vm_devices_get_refusal_reason(vd, 1),
		  "0000:00:02.0 is not among the PCI devices");
	CHECK(passthru_vm_devices_get_qemu_argv(vd)[0] == NULL);
	CHECK_INT(passthru_vm_devices_get_count(vd), 0);
	CHECK_INT(passthru_vm_devices_set_vga(vd, true, "nonsense"), -EINVAL);
	CHECK_INT(passthru_vm_devices_set_romfile(vd, NULL, ""), -EINVAL);
	passthru_vm_devices_unref(vd);

	vd = vm_devices(ctx, NULL, two);
	CHECK_INT(passthru_vm_devices_set_vga(vd, true, NULL), 0);
	CHECK_INT(passthru_vm_devices_plan(vd), -EPERM);
	CHECK_STR(passthru_vm_devices_get_refusal_reason(vd, 0),
		  "2 VGA controllers among the PCI devices: name one");
	CHECK_INT(passthru_vm_devices_set_vga(vd, true, "06:00.0"), 0);
	CHECK_INT(passthru_vm_devices_plan(vd), 0);
	CHECK(strstr(passthru_vm_devices_get_qemu_argv(vd)[9], "host=0000:06:00.0") != NULL);
	CHECK(strstr(passthru_vm_devices_get_qemu_argv(vd)[9], ",x-vga=on") != NULL);
	CHECK(strstr(passthru_vm_devices_get_qemu_argv(vd)[3], "x-vga") == NULL);
	passthru_vm_devices_unref(vd);

	/* A refused device is refused alone: no second refusal for the option that follows it. */
	{
		const char *gpu9[] = {"02:00.0", NULL};

		vd = vm_devices(ctx, NULL, gpu9);
		CHECK_INT(passthru_vm_devices_set_vga(vd, true, NULL), 0);
		CHECK_INT(passthru_vm_devices_plan(vd), -EPERM);
		CHECK_INT(passthru_vm_devices_get_refusal_count(vd), 1);
		CHECK_STR(passthru_vm_devices_get_refusal_device(vd, 0), "0000:02:00.0");
		passthru_vm_devices_unref(vd);
	}

	vd = vm_devices(ctx, NULL, nic);
	CHECK_INT(passthru_vm_devices_set_vga(vd, true, NULL), 0);
	CHECK_INT(passthru_vm_devices_plan(vd), -EPERM);
	CHECK_STR(passthru_vm_devices_get_refusal_reason(vd, 0),
		  "no VGA controller among the PCI devices");
	passthru_vm_devices_unref(vd);

	/* USB by ids (the tablet and the keyboard share them: a note), pci-serial, a given bus. */
	vd = vm_devices(ctx, NULL, usb);
	passthru_vm_devices_set_usb_by_id(vd, true);
	passthru_vm_devices_set_serial_model(vd, PASSTHRU_VM_SERIAL_PCI);
	CHECK_INT(passthru_vm_devices_set_usb_bus(vd, "usb,0"), -EINVAL);
	CHECK_INT(passthru_vm_devices_set_usb_bus(vd, "xhci.0"), 0);
	CHECK_INT(passthru_vm_devices_plan(vd), 0);
	{
		const char *expected[] = {
		    "-device",
		    "usb-host,vendorid=0x0627,productid=0x0001,id=pt-usb-1-2,bus=xhci.0",
		    "-chardev",
		    "serial,id=pt-chr-ttyS1,path=/dev/ttyS1",
		    "-device",
		    "pci-serial,chardev=pt-chr-ttyS1,id=pt-ttyS1",
		    NULL,
		};

		check_argv(vd, expected);
	}
	CHECK_STR(passthru_vm_devices_get_notes(vd)[0],
		  "1-2: 1-1 has the same ids 0627:0001: by ids, the VM may get either; name USB "
		  "devices by port (or by address) to be sure");
	CHECK(passthru_vm_devices_get_notes(vd)[1] == NULL);
	passthru_vm_devices_unref(vd);
}

static void test_refusals(struct passthru_ctx *ctx)
{
	const char *names[] = {"00:03.0", "02:00.1", "00:07.0", "08:00.0", "07:00.4",
			       "usb1",	  "1-3",     "ttyS0",	NULL};
	struct passthru_vm_devices *vd = vm_devices(ctx, NULL, names);
	struct {
		const char *device, *reason, *fix;
	} expected[] = {
	    {"0000:00:03.0", "is on e1000e, not vfio-pci", "passthru bind 0000:00:03.0 --group"},
	    {"0000:02:00.1", "is on snd_hda_intel, not vfio-pci",
	     "passthru bind 0000:02:00.1 --group"},
	    {"0000:00:07.0",
	     "is a PCI bridge: vfio-pci drives endpoints only; name the devices behind it", NULL},
	    {"0000:08:00.0", "is in no IOMMU group: the IOMMU is off or does not cover it",
	     "passthru check"},
	    {"0000:07:00.4", "IOMMU group 14 has 9 endpoints: a guest slot holds 8 functions",
	     NULL},
	    {"usb1",
	     "is a USB hub: QEMU's usb-host passes single devices; name the devices behind it",
	     NULL},
	    {"1-3",
	     "is a USB hub: QEMU's usb-host passes single devices; name the devices behind it",
	     NULL},
	    {"/dev/ttyS0", "ttyS0 is a host console",
	     "boot without console=ttyS0 on the kernel command line"},
	};

	CHECK_INT(passthru_vm_devices_plan(vd), -EPERM);
	CHECK_INT(passthru_vm_devices_get_refusal_count(vd), ELEMENTSOF(expected));
	for (size_t i = 0; i < ELEMENTSOF(expected); i++) {
		CHECK_STR(passthru_vm_devices_get_refusal_device(vd, i), expected[i].device);
		CHECK_STR(passthru_vm_devices_get_refusal_reason(vd, i), expected[i].reason);
		CHECK_STR(passthru_vm_devices_get_refusal_fix(vd, i), expected[i].fix);
	}
	CHECK(passthru_vm_devices_get_refusal_device(vd, ELEMENTSOF(expected)) == NULL);
	CHECK(passthru_vm_devices_get_qemu_argv(vd)[0] == NULL);
	passthru_vm_devices_unref(vd);

	/* A device on vfio-pci whose group is not viable: the member is named. */
	{
		const char *gpu[] = {"02:00.0", NULL};

		vd = vm_devices(ctx, NULL, gpu);
		CHECK_INT(passthru_vm_devices_plan(vd), -EPERM);
		CHECK_INT(passthru_vm_devices_get_refusal_count(vd), 1);
		CHECK_STR(passthru_vm_devices_get_refusal_reason(vd, 0),
			  "IOMMU group 9 is not viable: 0000:02:00.1 is on snd_hda_intel, not "
			  "vfio-pci");
		CHECK_STR(passthru_vm_devices_get_refusal_fix(vd, 0),
			  "passthru bind 0000:02:00.0 --group");
		passthru_vm_devices_unref(vd);
	}

	/* Names that are no device, devices that are not there, phantom ports. */
	CHECK_INT(passthru_vm_devices_new(ctx, &vd), 0);
	CHECK_INT(passthru_vm_devices_add(vd, "00:1f.7"), -ENODEV);
	CHECK_INT(passthru_vm_devices_add(vd, "1-4"), -ENODEV);
	CHECK_INT(passthru_vm_devices_add(vd, "ttyS3"), -ENODEV);
	CHECK_INT(passthru_vm_devices_add(vd, "ttyS9"), -ENODEV);
	CHECK_INT(passthru_vm_devices_add(vd, "0000:zz:00.0"), -EINVAL);
	CHECK_INT(passthru_vm_devices_add(vd, "/dev/../ttyS1"), -EINVAL);
	CHECK_INT(passthru_vm_devices_add(vd, NULL), -EINVAL);
	/* Nothing named: an empty plan. */
	CHECK_INT(passthru_vm_devices_plan(vd), 0);
	CHECK(passthru_vm_devices_get_qemu_argv(vd)[0] == NULL);
	passthru_vm_devices_unref(vd);
}

/* More than four serial ports: QEMU has four isa-serial; the fifth goes on PCI. */
static void test_many_serial_ports(struct passthru_ctx *ctx)
{
	const char *names[] = {"ttyS1", "ttyS4", "ttyS5", "ttyS6", "ttyS7", NULL};
	const char *expected[] = {
	    "-chardev", "serial,id=pt-chr-ttyS1,path=/dev/ttyS1",
	    "-device",	"isa-serial,chardev=pt-chr-ttyS1,id=pt-ttyS1",
	    "-chardev", "serial,id=pt-chr-ttyS4,path=/dev/ttyS4",
	    "-device",	"isa-serial,chardev=pt-chr-ttyS4,id=pt-ttyS4",
	    "-chardev", "serial,id=pt-chr-ttyS5,path=/dev/ttyS5",
	    "-device",	"isa-serial,chardev=pt-chr-ttyS5,id=pt-ttyS5",
	    "-chardev", "serial,id=pt-chr-ttyS6,path=/dev/ttyS6",
	    "-device",	"isa-serial,chardev=pt-chr-ttyS6,id=pt-ttyS6",
	    "-chardev", "serial,id=pt-chr-ttyS7,path=/dev/ttyS7",
	    "-device",	"pci-serial,chardev=pt-chr-ttyS7,id=pt-ttyS7",
	    NULL,
	};
	struct passthru_vm_devices *vd = vm_devices(ctx, NULL, names);

	CHECK_INT(passthru_vm_devices_plan(vd), 0);
	check_argv(vd, expected);
	CHECK_STR(passthru_vm_devices_get_notes(vd)[0],
		  "/dev/ttyS7: pci-serial from here on: QEMU gives a machine at most 4 isa-serial "
		  "ports");
	CHECK(passthru_vm_devices_get_notes(vd)[1] == NULL);
	passthru_vm_devices_unref(vd);
}

/*
 * Root ports are unique even for devices in different domains with the same bus and slot
 * (0000:00:02.0 and 10000:00:02.0: the same chassis and slot before).
 */
static void test_domains_share_slot(struct passthru_ctx *ctx)
{
	const char *names[] = {"0000:00:02.0", "10000:00:02.0", NULL};
	const char *expected[] = {
	    "-device",
	    "pcie-root-port,id=pt-rp-0000-00-02,bus=pcie.0,chassis=112,slot=2",
	    "-device",
	    "vfio-pci,host=0000:00:02.0,id=pt-0000-00-02.0,bus=pt-rp-0000-00-02",
	    "-device",
	    "pcie-root-port,id=pt-rp-10000-00-02,bus=pcie.0,chassis=113,slot=2",
	    "-device",
	    "vfio-pci,sysfsdev=/sys/bus/pci/devices/10000:00:02.0,id=pt-10000-00-02.0,"
	    "bus=pt-rp-10000-00-02",
	    NULL,
	};
	struct passthru_vm_devices *vd = vm_devices(ctx, NULL, names);

	CHECK_INT(passthru_vm_devices_plan(vd), 0);
	check_argv(vd, expected);
	passthru_vm_devices_unref(vd);
}

/* A USB serial adapter given as the USB device and as its tty would be handed over twice. */
static void test_usb_serial_twice(struct passthru_ctx *ctx)
{
	const char *both[] = {"1-3.1", "ttyUSB0", NULL}, *tty[] = {"ttyUSB0", NULL},
		   *usb[] = {"1-3.1", NULL};
	struct passthru_vm_devices *vd = vm_devices(ctx, NULL, both);

	CHECK_INT(passthru_vm_devices_plan(vd), -EPERM);
	CHECK_INT(passthru_vm_devices_get_refusal_count(vd), 1);
	CHECK_STR(passthru_vm_devices_get_refusal_device(vd, 0), "/dev/ttyUSB0");
	CHECK_STR(passthru_vm_devices_get_refusal_reason(vd, 0),
		  "is the tty of USB device 1-3.1, which is handed over too: give the VM either "
		  "the USB device or its tty, not both");
	CHECK(passthru_vm_devices_get_qemu_argv(vd)[0] == NULL);
	passthru_vm_devices_unref(vd);

	/* Either alone is fine. */
	vd = vm_devices(ctx, NULL, tty);
	CHECK_INT(passthru_vm_devices_plan(vd), 0);
	passthru_vm_devices_unref(vd);
	vd = vm_devices(ctx, NULL, usb);
	CHECK_INT(passthru_vm_devices_plan(vd), 0);
	passthru_vm_devices_unref(vd);
}

int main(void)
{
	struct passthru_ctx *ctx;

	test_escaping();
	test_ids();
	ctx = vm_fixture_ctx();
	test_q35(ctx);
	test_group_layouts(ctx);
	test_options(ctx);
	test_refusals(ctx);
	test_many_serial_ports(ctx);
	test_domains_share_slot(ctx);
	test_usb_serial_twice(ctx);
	passthru_ctx_unref(ctx);
	TEST_DONE();
}
