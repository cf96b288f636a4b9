/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Serial ports against tests/fixtures/serial/host.json; the command-line console parser. */
#include <sys/stat.h>

#include "internal.h"
#include "serial.h"
#include "fixture.h"
#include "test.h"

static char *root;

/* ------------------------------------------------------------------------------------------ */

static void test_consoles_parse(void)
{
	struct consoles c = {0};
	const char *names[] = {"ttyS0", "ttyS1", "ttyS2", "hvc0", "ttyAMA0", "ttyUSB1"};

	CHECK_INT(consoles_parse_cmdline(
		      &c,
		      "root=/dev/sda1 console=ttyS0,115200n8 console=ttyS0 "
		      "console=/dev/ttyS1 console=tty0 console=tty console=tty7 console=/dev/tty1 "
		      "console=null console=uart8250,io,0x3f8,115200n8 "
		      "console=uart,mmio32,0xfe215040 console=uart8250,0x1000 "
		      "console=brl,ttyS2 console=hvc0 \"console=ttyAMA0,115200 x\" "
		      "console= console console=../x console=uart8250,io,zz "
		      "foo=\"console=ttyS5\" -- console=ttyS9"),
		  0);
	CHECK_INT(consoles_parse_active(&c, "tty0 ttyUSB1 ttyS0 /dev/tty2\n"), 0);

	/* ttyS0 once; VTs, null, malformed values and what follows "--" left out. */
	CHECK_INT(c.n, 9);
	for (size_t i = 0; i < ELEMENTSOF(names); i++)
		CHECK(consoles_match(&c, names[i], 0, 0));
	CHECK(!consoles_match(&c, "ttyS5", 0, 0));
	CHECK(!consoles_match(&c, "ttyS9", 0, 0));
	CHECK(!consoles_match(&c, "tty0", 0, 0));
	CHECK(!consoles_match(&c, "tty", 0, 0));
	CHECK(!consoles_match(&c, "tty1", 0, 0));
	CHECK(!consoles_match(&c, "tty2", 0, 0));
	CHECK(!consoles_match(&c, "null", 0, 0));
	/* By address: console=uart8250,io,0x3f8 names whichever ttyS sits at 0x3f8. */
	CHECK(consoles_match(&c, "ttyS7", 0x3f8, 0));
	CHECK(!consoles_match(&c, "ttyS7", 0x2f8, 0));
	CHECK(consoles_match(&c, "ttyS8", 0, 0xfe215040));
	CHECK(consoles_match(&c, "ttyS8", 0, 0x1000));
	CHECK(!consoles_match(&c, "ttyS8", 0, 0x3f8));
	CHECK(!consoles_match(&c, "ttyS8", 0, 0));
	consoles_done(&c);
	CHECK(c.n == 0 && c.v == NULL);

	CHECK_INT(consoles_parse_cmdline(&c, ""), 0);
	CHECK_INT(consoles_parse_active(&c, ""), 0);
	CHECK_INT(c.n, 0);
	consoles_done(&c);
}

static void test_tty_name_parse(void)
{
	static const char *const invalid[] = {
	    "",
	    "/dev/",
	    "../ttyS0",
	    "ttyS0/",
	    "/dev/tty S0",
	    "/dev/serial/by-id/x",
	    "/dev//ttyS0",
	    "dev/ttyS0",
	    ".",
	    "..",
	    "ttyS0\n",
	    "ttyS0123456789012345678901234567890123456789012345678901234567890",
	};
	const char *tty = NULL;

	CHECK_INT(tty_name_parse("/dev/ttyS1", &tty), 0);
	CHECK_STR(tty, "ttyS1");
	CHECK_INT(tty_name_parse("ttyUSB0", &tty), 0);
	CHECK_STR(tty, "ttyUSB0");
	for (size_t i = 0; i < ELEMENTSOF(invalid); i++) {
		tty = "untouched";
		CHECK_INT(tty_name_parse(invalid[i], &tty), -EINVAL);
		CHECK_STR(tty, "untouched");
	}
	CHECK_INT(tty_name_parse(NULL, &tty), -EINVAL);
}

/* ------------------------------------------------------------------------------------------ */

struct expect {
	const char *name;
	bool console;
	int io_port; /* a negative errno when absent */
	int irq;
	int uart_type;
	const char *usb_port, *driver;
};

static const struct expect expected[] = {
    {"ttyACM0", false, -ENOENT, -ENOENT, -ENOENT, "1-4", "cdc_acm"},
    /*
     * A platform UART registered through serial_core: listed. Memory-mapped (io_type 2), and
     * console=uart8250,mmio32 at its address does not make it a console: only 8250 ports
     * answer that form.
     */
    {"ttyAMA0", false, -ENOENT, 40, 32, NULL, "uart-pl011"},
    /* console=ttyS0 on the command line (twice). */
    {"ttyS0", true, 0x3f8, 4, 4, NULL, "serial"},
    /* console=ttyS1 only inside a quoted value, and after "--". */
    {"ttyS1", false, 0x2f8, 3, 4, NULL, "serial8250"},
    /* The kernel's own "console" attribute says Y. */
    {"ttyS4", true, 0x3e8, 4, 4, NULL, "serial8250"},
    /*
     * Laid out as Linux 6.5 and later do it (by the spec's "files" and "links": mksysfs makes
     * the older layout): serial_core's serial-base controller and port devices sit between the
     * UART's device and the tty, bound to "ctrl" and "port". A console by address:
     * console=uart8250,io,0x2e0.
     */
    {"ttyS5", true, 0x2e0, 5, 4, NULL, "serial8250"},
    /* port 0: memory-mapped. */
    {"ttyS10", false, -ENOENT, 17, 4, NULL, "serial8250"},
    {"ttyS11", false, 0x2e8, -ENODATA, 4, NULL, "serial8250"},
    /* io_type 2 (MMIO): the stale "port" is no I/O port; console=uart,mmio at its address. */
    {"ttyS12", true, -ENOENT, 20, 4, NULL, "serial8250"},
    {"ttyUSB0", false, -ENOENT, -ENOENT, -ENOENT, "1-2", "ftdi_sio"},
    /* In /sys/class/tty/console/active; behind a hub. */
    {"ttyUSB1", true, -ENOENT, -ENOENT, -ENOENT, "1-3.2", "pl2303"},
};

/* The expectation for a port, by name. */
static const struct expect *expect_of(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(expected); i++)
		if (strcmp(expected[i].name, name) == 0)
			return &expected[i];
	abort();
}

/* The list's index of a port, by name; the list is sorted like expected[]. */
static size_t index_of(const char *name)
{
	return (size_t)(expect_of(name) - expected);
}

static void check_number(int (*get)(struct passthru_serial_port *, unsigned *),
			 struct passthru_serial_port *port, int expect)
{
	unsigned u = 4242;

	if (expect < 0) {
		CHECK_INT(get(port, &u), expect);
		CHECK_INT(u, 4242);
	} else {
		CHECK_INT(get(port, &u), 0);
		CHECK_INT(u, expect);
	}
}

static void check_port(struct passthru_serial_port *port, const struct expect *e)
{
	char path[64];

	fprintf(stderr, "checking %s\n", e->name);
	snprintf(path, sizeof(path), "/dev/%s", e->name);
	CHECK_STR(passthru_serial_port_get_name(port), e->name);
	CHECK_STR(passthru_serial_port_get_path(port), path);
	CHECK_INT(passthru_serial_port_is_console(port), e->console);
	check_number(passthru_serial_port_get_io_port, port, e->io_port);
	check_number(passthru_serial_port_get_irq, port, e->irq);
	check_number(passthru_serial_port_get_uart_type, port, e->uart_type);
	CHECK_STR(passthru_serial_port_get_usb_port(port), e->usb_port);
	CHECK_STR(passthru_serial_port_get_driver(port), e->driver);
}

static void test_scan(struct passthru_ctx *ctx)
{
	struct passthru_serial_list *list = NULL;

	CHECK_INT(passthru_serial_scan(ctx, &list), 0);
	if (!list)
		return;
	/*
	 * Phantoms ttyS2/ttyS3, ttyS7 (a link whose device is gone, as when unplugged during
	 * the scan), the virtual tty1, ptmx, ttyprintk and console, and rfcomm0 (a device but
	 * no UART) are not serial ports.
	 */
	CHECK_INT(passthru_serial_list_count(list), ELEMENTSOF(expected));
	for (size_t i = 0; i < ELEMENTSOF(expected) && i < passthru_serial_list_count(list); i++)
		check_port(passthru_serial_list_get(list, i), &expected[i]);
	CHECK(passthru_serial_list_get(list, ELEMENTSOF(expected)) == NULL);

	CHECK(passthru_serial_list_find(list, "/dev/ttyS1") ==
	      passthru_serial_list_get(list, index_of("ttyS1")));
	CHECK(passthru_serial_list_find(list, "ttyUSB1") ==
	      passthru_serial_list_get(list, index_of("ttyUSB1")));
	CHECK(passthru_serial_list_find(list, "ttyS2") == NULL);
	CHECK(passthru_serial_list_find(list, "tty1") == NULL);
	CHECK(passthru_serial_list_find(list, "/dev/../ttyS1") == NULL);
	CHECK(passthru_serial_list_find(list, NULL) == NULL);

	/* The consoles were read once, into the context. */
	CHECK(ctx_slot_get(ctx, CTX_SLOT_CONSOLES) != NULL);

	{
		struct passthru_serial_port *port =
		    passthru_serial_list_get(list, index_of("ttyS0"));

		CHECK(passthru_serial_port_ref(port) == port);
		CHECK(passthru_serial_list_ref(list) == list);
		CHECK(passthru_serial_list_unref(list) == NULL);
		CHECK(passthru_serial_list_unref(list) == NULL);
		CHECK_STR(passthru_serial_port_get_name(port), "ttyS0");
		CHECK(passthru_serial_port_unref(port) == NULL);
	}
	CHECK(passthru_serial_list_unref(NULL) == NULL);
	CHECK(passthru_serial_port_unref(NULL) == NULL);
}

static void test_port_new(struct passthru_ctx *ctx)
{
	static const char *const absent[] = {
	    "ttyS2", "ttyS3",	  "/dev/ttyS3", "ttyS7",   "ttyS99",  "tty1",
	    "ptmx",  "ttyprintk", "console",	"ttyUSB9", "rfcomm0",
	};
	static const char *const malformed[] = {
	    "", "/dev/", "../ttyS0", "ttyS0/", "/dev/tty S0", "/dev/serial/by-id/x",
	};
	struct passthru_serial_port *port = NULL, *sentinel = (struct passthru_serial_port *)&port;

	CHECK_INT(passthru_serial_port_new(ctx, "/dev/ttyUSB1", &port), 0);
	if (port)
		check_port(port, expect_of("ttyUSB1"));
	passthru_serial_port_unref(port);
	port = NULL;
	CHECK_INT(passthru_serial_port_new(ctx, "ttyS0", &port), 0);
	if (port)
		check_port(port, expect_of("ttyS0"));
	passthru_serial_port_unref(port);

	for (size_t i = 0; i < ELEMENTSOF(absent); i++) {
		port = sentinel;
		CHECK_INT(passthru_serial_port_new(ctx, absent[i], &port), -ENODEV);
		CHECK(port == sentinel);
	}
	for (size_t i = 0; i < ELEMENTSOF(malformed); i++) {
		port = sentinel;
		CHECK_INT(passthru_serial_port_new(ctx, malformed[i], &port), -EINVAL);
		CHECK(port == sentinel);
	}
	CHECK_INT(passthru_serial_port_new(ctx, NULL, &port), -EINVAL);
}

/* Without /proc/cmdline or console/active nothing is a console, and nothing fails. */
static void test_no_cmdline(void)
{
	struct passthru_ctx *ctx = NULL;
	struct passthru_serial_port *port = NULL;
	char path[4200];

	snprintf(path, sizeof(path), "%s/proc/cmdline", root);
	CHECK(unlink(path) == 0);
	snprintf(path, sizeof(path), "%s/sys/devices/virtual/tty/console/active", root);
	CHECK(unlink(path) == 0);
	CHECK_INT(passthru_ctx_new(root, &ctx), 0);
	CHECK_INT(passthru_serial_port_new(ctx, "ttyS0", &port), 0);
	if (port)
		CHECK(!passthru_serial_port_is_console(port));
	passthru_serial_port_unref(port);
	port = NULL;
	/* The kernel's "console" attribute still counts. */
	CHECK_INT(passthru_serial_port_new(ctx, "ttyS4", &port), 0);
	if (port)
		CHECK(passthru_serial_port_is_console(port));
	passthru_serial_port_unref(port);
	passthru_ctx_unref(ctx);
}

int main(void)
{
	struct passthru_ctx *ctx = NULL;

	test_consoles_parse();
	test_tty_name_parse();

	root = fixture_build("serial/host.json");
	CHECK_INT(passthru_ctx_new(root, &ctx), 0);
	if (ctx) {
		test_scan(ctx);
		test_port_new(ctx);
		passthru_ctx_unref(ctx);
	}
	test_no_cmdline();
	free(root);
	TEST_DONE();
}
