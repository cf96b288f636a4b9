/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* USB inventory against tests/fixtures/usb/host.json, and the port path parser. */
#include <sys/stat.h>

#include "internal.h"
#include "usb.h"
#include "fixture.h"
#include "test.h"

static char *root;

static size_t strv_len(const char *const *v)
{
	size_t n = 0;

	while (v[n])
		n++;
	return n;
}

static void test_port_path_parse(void)
{
	static const char *const invalid[] = {
	    "",
	    "1-",
	    "1-2..3",
	    "a-1",
	    "1-0",
	    "1-256",
	    "0-1",
	    "usb0",
	    "usb01",
	    "usb",
	    "1-02",
	    "01-2",
	    "1-2.",
	    "1-.2",
	    "-1",
	    "1",
	    "1-2:1.0",
	    "1-0:1.0",
	    "1-2.3 ",
	    " 1-2",
	    "1-+2",
	    "1-2.-3",
	    "256-1",
	    "1-1.1.1.1.1.1.1.1",
	    "usb1-1",
	    "1-99999999999999999999",
	    "usb99999999999999999999",
	};
	struct usb_port_path p, q;

	CHECK_INT(usb_port_path_parse("1-2.3", &p), 0);
	CHECK_INT(p.bus, 1);
	CHECK_INT(p.depth, 2);
	CHECK_INT(p.ports[0], 2);
	CHECK_INT(p.ports[1], 3);

	CHECK_INT(usb_port_path_parse("usb12", &p), 0);
	CHECK_INT(p.bus, 12);
	CHECK_INT(p.depth, 0);

	CHECK_INT(usb_port_path_parse("255-255.255.1.2.3.4.5", &p), 0);
	CHECK_INT(p.bus, 255);
	CHECK_INT(p.depth, 7);
	CHECK_INT(p.ports[6], 5);

	for (size_t i = 0; i < ELEMENTSOF(invalid); i++) {
		p.bus = 4242;
		if (usb_port_path_parse(invalid[i], &p) != -EINVAL)
			fprintf(stderr, "accepted \"%s\"\n", invalid[i]);
		CHECK_INT(usb_port_path_parse(invalid[i], &p), -EINVAL);
		/* ret untouched on failure */
		CHECK_INT(p.bus, 4242);
	}
	CHECK_INT(usb_port_path_parse(NULL, &p), -EINVAL);

	/* Order: bus, then port by port, a hub before what is behind it. */
	CHECK_INT(usb_port_path_parse("1-2", &p), 0);
	CHECK_INT(usb_port_path_parse("1-10", &q), 0);
	CHECK(usb_port_path_compare(&p, &q) < 0);
	CHECK(usb_port_path_compare(&q, &p) > 0);
	CHECK_INT(usb_port_path_parse("usb1", &p), 0);
	CHECK_INT(usb_port_path_parse("1-1", &q), 0);
	CHECK(usb_port_path_compare(&p, &q) < 0);
	CHECK_INT(usb_port_path_parse("1-3", &p), 0);
	CHECK_INT(usb_port_path_parse("1-3.1", &q), 0);
	CHECK(usb_port_path_compare(&p, &q) < 0);
	CHECK_INT(usb_port_path_parse("1-4", &p), 0);
	CHECK(usb_port_path_compare(&q, &p) < 0);
	CHECK_INT(usb_port_path_parse("usb2", &q), 0);
	CHECK_INT(usb_port_path_parse("1-10.4", &p), 0);
	CHECK(usb_port_path_compare(&p, &q) < 0);
	CHECK_INT(usb_port_path_parse("1-3.1", &q), 0);
	CHECK_INT(usb_port_path_parse("1-3.1", &p), 0);
	CHECK_INT(usb_port_path_compare(&p, &q), 0);
}

static void test_interface_name_parse(void)
{
	unsigned config = 99, ifnum = 99;

	CHECK_INT(usb_interface_name_parse("1-2.3:1.0", "1-2.3", &config, &ifnum), 0);
	CHECK_INT(config, 1);
	CHECK_INT(ifnum, 0);
	CHECK_INT(usb_interface_name_parse("1-10:2.11", "1-10", &config, &ifnum), 0);
	CHECK_INT(config, 2);
	CHECK_INT(ifnum, 11);
	/* Root hubs: "usb1" has "1-0:1.0". */
	CHECK_INT(usb_interface_name_parse("1-0:1.0", "usb1", &config, &ifnum), 0);
	CHECK_INT(ifnum, 0);
	CHECK_INT(usb_interface_name_parse("2-0:1.0", "usb1", &config, &ifnum), -EINVAL);
	CHECK_INT(usb_interface_name_parse("1-1:1.0", "1-10", &config, &ifnum), -EINVAL);
	CHECK_INT(usb_interface_name_parse("1-10:1.0", "1-1", &config, &ifnum), -EINVAL);
	CHECK_INT(usb_interface_name_parse("1-1.2:1.0", "1-1", &config, &ifnum), -EINVAL);
	CHECK_INT(usb_interface_name_parse("1-1:1.", "1-1", &config, &ifnum), -EINVAL);
	CHECK_INT(usb_interface_name_parse("1-1:1.256", "1-1", &config, &ifnum), -EINVAL);
	CHECK_INT(usb_interface_name_parse("1-1:1.0x", "1-1", &config, &ifnum), -EINVAL);
	CHECK_INT(usb_interface_name_parse("1-1", "1-1", &config, &ifnum), -EINVAL);
	CHECK_INT(usb_interface_name_parse("1-1:1.0", "bogus", &config, &ifnum), -EINVAL);
}

struct expect {
	const char *port;
	unsigned busnum;
	int devnum; /* -1: unreadable */
	uint16_t vendor, product;
	uint8_t class;
	const char *speed, *manufacturer, *product_string, *serial;
	bool hub, root_hub;
	const char *drivers[6];
	const char *problem;
};

static const struct expect expected[] = {
    {"usb1",
     1,
     1,
     0x1d6b,
     0x0002,
     0x09,
     "480",
     "Linux 6.1.0-18-amd64 xhci-hcd",
     "xHCI Host Controller",
     "0000:00:14.0",
     true,
     true,
     {"hub"},
     NULL},
    {"1-1",
     1,
     2,
     0x046d,
     0xc31c,
     0x00,
     "1.5",
     "Logitech",
     "USB Keyboard",
     NULL,
     false,
     false,
     {"usbhid"},
     NULL},
    {"1-2",
     1,
     3,
     0x0403,
     0x6001,
     0x00,
     "12",
     "FTDI",
     "FT232R USB UART",
     "A50285BI",
     false,
     false,
     {"ftdi_sio"},
     NULL},
    {"1-3",
     1,
     4,
     0x05e3,
     0x0608,
     0x09,
     "480",
     NULL,
     "USB2.0 Hub",
     NULL,
     true,
     false,
     {"hub"},
     NULL},
    {"1-3.1",
     1,
     5,
     0x0781,
     0x5567,
     0x00,
     "480",
     "SanDisk",
     "Cruzer Blade",
     "4C530001",
     false,
     false,
     {"usb-storage"},
     NULL},
    {"1-3.4",
     1,
     -1,
     0x1a86,
     0x7523,
     0x00,
     "12",
     NULL,
     "USB Serial",
     NULL,
     false,
     false,
     {NULL},
     "devnum: invalid value \"zzz\""},
    {"1-4",
     1,
     7,
     0x2341,
     0x0043,
     0x00,
     "12",
     "Arduino (www.arduino.cc)",
     NULL,
     "75735353038351F02151",
     false,
     false,
     {"cdc_acm"},
     NULL},
    {"1-10",
     1,
     8,
     0x046d,
     0x0825,
     0x00,
     "480",
     NULL,
     "Webcam C270",
     "200901010001",
     false,
     false,
     {"uvcvideo", "snd-usb-audio", "usbhid", "dfu", "btusb"},
     NULL},
    {"usb2",
     2,
     1,
     0x1d6b,
     0x0003,
     0x09,
     "5000",
     "Linux 6.1.0-18-amd64 xhci-hcd",
     "xHCI Host Controller",
     "0000:00:14.0",
     true,
     true,
     {"hub"},
     NULL},
    {"2-1",
     2,
     2,
     0x0bc2,
     0x2322,
     0x00,
     "5000",
     "Seagate",
     "Expansion Desk",
     "NA8F6KJ1",
     false,
     false,
     {"uas"},
     NULL},
};

static void check_device(struct passthru_usb_device *dev, const struct expect *e)
{
	const char *const *drivers = passthru_usb_device_get_drivers(dev);
	const char *const *problems = passthru_usb_device_get_problems(dev);
	unsigned u = 4242;
	uint16_t id = 0;
	uint8_t class = 0;
	size_t n = 0;

	fprintf(stderr, "checking %s\n", e->port);
	CHECK_STR(passthru_usb_device_get_port(dev), e->port);
	CHECK_INT(passthru_usb_device_get_busnum(dev, &u), 0);
	CHECK_INT(u, e->busnum);
	if (e->devnum < 0) {
		u = 4242;
		CHECK_INT(passthru_usb_device_get_devnum(dev, &u), -ENODATA);
		CHECK_INT(u, 4242);
	} else {
		CHECK_INT(passthru_usb_device_get_devnum(dev, &u), 0);
		CHECK_INT(u, e->devnum);
	}
	CHECK_INT(passthru_usb_device_get_vendor_id(dev, &id), 0);
	CHECK_INT(id, e->vendor);
	CHECK_INT(passthru_usb_device_get_product_id(dev, &id), 0);
	CHECK_INT(id, e->product);
	CHECK_INT(passthru_usb_device_get_class(dev, &class), 0);
	CHECK_INT(class, e->class);
	CHECK_STR(passthru_usb_device_get_speed(dev), e->speed);
	CHECK_STR(passthru_usb_device_get_manufacturer(dev), e->manufacturer);
	CHECK_STR(passthru_usb_device_get_product(dev), e->product_string);
	CHECK_STR(passthru_usb_device_get_serial(dev), e->serial);
	CHECK_INT(passthru_usb_device_is_hub(dev), e->hub);
	CHECK_INT(passthru_usb_device_is_root_hub(dev), e->root_hub);

	CHECK(drivers != NULL);
	while (e->drivers[n])
		n++;
	CHECK_INT(strv_len(drivers), n);
	for (size_t i = 0; i < n && drivers[i]; i++)
		CHECK_STR(drivers[i], e->drivers[i]);

	CHECK(problems != NULL);
	CHECK_INT(strv_len(problems), e->problem ? 1 : 0);
	if (e->problem)
		CHECK_STR(problems[0], e->problem);
}

static void test_scan(struct passthru_ctx *ctx)
{
	struct passthru_usb_list *list = NULL;

	CHECK_INT(passthru_usb_scan(ctx, &list), 0);
	if (!list)
		return;
	/* Sorted; the dangling 2-2 (unplugged mid-scan) and "not-a-device" are left out. */
	CHECK_INT(passthru_usb_list_count(list), ELEMENTSOF(expected));
	for (size_t i = 0; i < ELEMENTSOF(expected) && i < passthru_usb_list_count(list); i++)
		check_device(passthru_usb_list_get(list, i), &expected[i]);
	CHECK(passthru_usb_list_get(list, ELEMENTSOF(expected)) == NULL);

	CHECK(passthru_usb_list_find(list, "1-3.4") == passthru_usb_list_get(list, 5));
	CHECK(passthru_usb_list_find(list, "usb2") == passthru_usb_list_get(list, 8));
	CHECK(passthru_usb_list_find(list, "1-5") == NULL);
	CHECK(passthru_usb_list_find(list, "2-2") == NULL);
	CHECK(passthru_usb_list_find(list, "1-3:1.0") == NULL);
	CHECK(passthru_usb_list_find(list, "garbage") == NULL);
	CHECK(passthru_usb_list_find(list, NULL) == NULL);

	/* Names from the hwdb (udev's usb.ids), through the device's ids. */
	CHECK_STR(passthru_usb_device_get_vendor_name(passthru_usb_list_get(list, 0)),
		  "Linux Foundation");
	CHECK_STR(passthru_usb_device_get_product_name(passthru_usb_list_get(list, 0)),
		  "2.0 root hub");
	CHECK_STR(passthru_usb_device_get_product_name(passthru_usb_list_get(list, 8)),
		  "3.0 root hub");
	CHECK_STR(passthru_usb_device_get_vendor_name(passthru_usb_list_get(list, 1)),
		  "Logitech, Inc.");

	/* A device outlives its list when referenced. */
	{
		struct passthru_usb_device *dev = passthru_usb_list_get(list, 2);

		CHECK(passthru_usb_device_ref(dev) == dev);
		CHECK(passthru_usb_list_ref(list) == list);
		CHECK(passthru_usb_list_unref(list) == NULL);
		CHECK(passthru_usb_list_unref(list) == NULL);
		CHECK_STR(passthru_usb_device_get_port(dev), "1-2");
		CHECK(passthru_usb_device_unref(dev) == NULL);
	}
	CHECK(passthru_usb_list_unref(NULL) == NULL);
	CHECK(passthru_usb_device_unref(NULL) == NULL);
}

static void test_device_new(struct passthru_ctx *ctx)
{
	static const char *const invalid[] = {
	    "1-", "1-2..3", "a-1", "1-0", "1-256", "1-1.1.1.1.1.1.1.1", "0-1", "1-2:1.0", "",
	};
	struct passthru_usb_device *dev = NULL, *sentinel = (struct passthru_usb_device *)&dev;

	CHECK_INT(passthru_usb_device_new(ctx, "1-10", &dev), 0);
	if (dev)
		check_device(dev, &expected[7]);
	passthru_usb_device_unref(dev);

	dev = NULL;
	CHECK_INT(passthru_usb_device_new(ctx, "usb1", &dev), 0);
	if (dev)
		check_device(dev, &expected[0]);
	passthru_usb_device_unref(dev);

	for (size_t i = 0; i < ELEMENTSOF(invalid); i++) {
		dev = sentinel;
		CHECK_INT(passthru_usb_device_new(ctx, invalid[i], &dev), -EINVAL);
		CHECK(dev == sentinel);
	}
	dev = sentinel;
	CHECK_INT(passthru_usb_device_new(ctx, NULL, &dev), -EINVAL);
	/* Well-formed but absent: an empty port, a deep path, the unplugged one. */
	CHECK_INT(passthru_usb_device_new(ctx, "1-9", &dev), -ENODEV);
	CHECK_INT(passthru_usb_device_new(ctx, "1-1.1.1.1.1.1.1", &dev), -ENODEV);
	CHECK_INT(passthru_usb_device_new(ctx, "2-2", &dev), -ENODEV);
	CHECK_INT(passthru_usb_device_new(ctx, "usb3", &dev), -ENODEV);
	CHECK(dev == sentinel);
}

/* A root without /sys/bus/usb (no USB in the kernel) has no devices, which is no error. */
static void test_no_usb(void)
{
	char empty[] = "/tmp/passthru-test-usb-empty-XXXXXX";
	struct passthru_ctx *ctx = NULL;
	struct passthru_usb_list *list = NULL;

	CHECK(mkdtemp(empty) != NULL);
	CHECK_INT(passthru_ctx_new(empty, &ctx), 0);
	CHECK_INT(passthru_usb_scan(ctx, &list), 0);
	CHECK_INT(passthru_usb_list_count(list), 0);
	passthru_usb_list_unref(list);
	passthru_ctx_unref(ctx);
	rmdir(empty);
}

int main(void)
{
	struct passthru_ctx *ctx = NULL;

	test_port_path_parse();
	test_interface_name_parse();
	test_no_usb();

	root = fixture_build("usb/host.json");
	CHECK_INT(passthru_ctx_new(root, &ctx), 0);
	if (ctx) {
		test_scan(ctx);
		test_device_new(ctx);
		passthru_ctx_unref(ctx);
	}
	free(root);
	TEST_DONE();
}
