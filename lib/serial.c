/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Serial ports, read from /sys/class/tty, and the host's consoles, read from the kernel
 * command line and /sys/class/tty/console/active.
 *
 * Which ttys are serial ports:
 * - ttyUSB* (usb-serial drivers: ftdi_sio, pl2303, cp210x...) and ttyACM* (cdc_acm): the USB
 *   device behind them is what gets passed through.
 * - Every other tty that a UART driver registered through serial_core: ttyS* (8250), and
 *   platform UARTs such as ttyAMA* (pl011) or ttymxc* (imx). We recognise them by what
 *   serial_core gives each of its ttys, a "type" attribute, and by a "device" link to real
 *   hardware; virtual terminals, ptys, /dev/console and other virtual ttys have neither.
 *   UART type 0 (PORT_UNKNOWN) is a phantom: 8250 registers its legacy ports (ttyS0-ttyS3 by
 *   default, 8250.nr_uarts) whether or not a UART answers there. Phantoms are not listed.
 */
#include <fcntl.h>
#include <limits.h>

#include "cmdline.h"
#include "device-list.h"
#include "internal.h"
#include "serial.h"
#include "usb.h"

enum serial_kind {
	SERIAL_UART,
	SERIAL_USB,
};

struct passthru_serial_port {
	unsigned refcount;
	struct passthru_ctx *ctx;

	enum serial_kind kind;
	char *name, *path;
	bool console;

	/* 0 when the value is known, else what its getter returns. */
	int io_port_error, irq_error, uart_type_error;
	unsigned io_port, irq, uart_type;

	char *usb_port;
	char *driver;
};

struct passthru_serial_list {
	unsigned refcount;
	struct passthru_ctx *ctx;
	struct passthru_serial_port **ports;
	size_t count;
};

/* ------------------------------------------------------------------------------------------ */
/* Names                                                                                      */

int tty_name_parse(const char *text, const char **ret)
{
	size_t len;

	if (!text)
		return -EINVAL;
	if (strncmp(text, "/dev/", 5) == 0)
		text += 5;
	len = strlen(text);
	if (len == 0 || len > SERIAL_NAME_MAX)
		return -EINVAL;
	if (strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != len)
		return -EINVAL;
	*ret = text;
	return 0;
}

static bool name_has_prefix_and_number(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(name, prefix, n) == 0 && name[n] &&
	       strspn(name + n, "0123456789") == strlen(name + n);
}

/* ttyUSB* (usb-serial) and ttyACM* (cdc_acm). */
static bool name_is_usb_serial(const char *name)
{
	return name_has_prefix_and_number(name, "ttyUSB") ||
	       name_has_prefix_and_number(name, "ttyACM");
}

/* Virtual terminals: "tty" (the current one) and tty0, tty1... */
static bool name_is_vt(const char *name)
{
	return strcmp(name, "tty") == 0 || name_has_prefix_and_number(name, "tty");
}

/* ------------------------------------------------------------------------------------------ */
/* The kernel command line                                                                    */

void consoles_done(struct consoles *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].name);
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

static int consoles_add(struct consoles *c, enum console_kind kind, const char *name,
			uint64_t address)
{
	struct console_spec *v;
	char *copy = NULL;

	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].kind == kind && (kind == CONSOLE_NAME ? strcmp(c->v[i].name, name) == 0
								  : c->v[i].address == address))
			return 0;
	if (name) {
		copy = strdup(name);
		if (!copy)
			return -ENOMEM;
	}
	v = ARRAY_GROW(c->v, c->n);
	if (!v) {
		free(copy);
		return -ENOMEM;
	}
	*v = (struct console_spec){.kind = kind, .name = copy, .address = address};
	c->n++;
	return 0;
}

/* A number as the 8250 driver reads it from console= (simple_strtoull base 0, hex or decimal). */
static int parse_address(const char *s, uint64_t *ret)
{
	long v;
	int r;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return parse_hex(s, UINT64_MAX, ret);
	r = parse_long(s, 0, LONG_MAX, &v);
	if (r < 0)
		return r;
	*ret = (uint64_t)v;
	return 0;
}

/*
 * "uart8250,io,0x3f8,115200n8", "uart,mmio32,0xfe215040" or "uart8250,0xfe215040" (MMIO):
 * the 8250 driver's way of naming its console by the UART's address rather than by tty.
 */
static int console_add_uart(struct consoles *c, const char *options)
{
	_cleanup_free_ char *copy = strdup(options);
	enum console_kind kind = CONSOLE_UART_MMIO;
	char *address, *comma;
	uint64_t a;

	if (!copy)
		return -ENOMEM;
	address = copy;
	if (strncmp(copy, "io,", 3) == 0) {
		kind = CONSOLE_UART_IO;
		address = copy + 3;
	} else if (strncmp(copy, "mmio", 4) == 0 && (comma = strchr(copy, ','))) {
		/* mmio, mmio16, mmio32, mmio32be */
		address = comma + 1;
	}
	comma = strchr(address, ',');
	if (comma)
		*comma = '\0';
	if (parse_address(address, &a) < 0 || a == 0)
		return 0;
	return consoles_add(c, kind, NULL, a);
}

/* One console name as console= or console/active gives it. */
static int console_add_name(struct consoles *c, const char *name)
{
	const char *tty;

	if (tty_name_parse(name, &tty) < 0)
		return 0;
	if (name_is_vt(tty) || strcmp(tty, "null") == 0)
		return 0;
	return consoles_add(c, CONSOLE_NAME, tty, 0);
}

static int console_add_option(struct consoles *c, const char *value)
{
	_cleanup_free_ char *name = NULL;
	const char *comma;

	if (strncmp(value, "brl,", 4) == 0)
		value += 4;
	comma = strchr(value, ',');
	name = comma ? strndup(value, (size_t)(comma - value)) : strdup(value);
	if (!name)
		return -ENOMEM;
	if (strcmp(name, "uart") == 0 || strcmp(name, "uart8250") == 0)
		return comma ? console_add_uart(c, comma + 1) : 0;
	return console_add_name(c, name);
}

int consoles_parse_cmdline(struct consoles *c, const char *text)
{
	_cleanup_cmdline_ struct cmdline *line = NULL;
	size_t n;
	int r;

	r = cmdline_parse(text, &line);
	if (r < 0)
		return r;
	/* Only kernel parameters: what follows "--" is for init. */
	n = cmdline_n_params(line);
	for (size_t i = 0; i < n; i++) {
		const struct cmdline_token *t = &line->tokens[i];

		if (!t->value || !cmdline_key_equal(t->key, "console"))
			continue;
		r = console_add_option(c, t->value);
		if (r < 0)
			return r;
	}
	return 0;
}

int consoles_parse_active(struct consoles *c, const char *active)
{
	const char *p = active;

	for (;;) {
		_cleanup_free_ char *name = NULL;
		size_t len;
		int r;

		p += strspn(p, " \t\n");
		if (!*p)
			return 0;
		len = strcspn(p, " \t\n");
		name = strndup(p, len);
		if (!name)
			return -ENOMEM;
		p += len;
		r = console_add_name(c, name);
		if (r < 0)
			return r;
	}
}

bool consoles_match(const struct consoles *c, const char *name, uint64_t io_port,
		    uint64_t mmio_base)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct console_spec *s = &c->v[i];

		if (s->kind == CONSOLE_NAME && strcmp(s->name, name) == 0)
			return true;
		if (s->kind == CONSOLE_UART_IO && io_port != 0 && s->address == io_port)
			return true;
		if (s->kind == CONSOLE_UART_MMIO && mmio_base != 0 && s->address == mmio_base)
			return true;
	}
	return false;
}

static void consoles_destroy(void *p)
{
	struct consoles *c = p;

	if (c)
		consoles_done(c);
	free(c);
}

static void consoles_destroyp(struct consoles **c)
{
	consoles_destroy(*c);
}

/* The host's consoles, read once per context. NULL only when out of memory. */
static const struct consoles *ctx_consoles(struct passthru_ctx *ctx)
{
	_cleanup_(consoles_destroyp) struct consoles *c = NULL;
	_cleanup_free_ char *cmdline = NULL, *active = NULL;
	struct consoles *cached = ctx_slot_get(ctx, CTX_SLOT_CONSOLES);
	int r;

	if (cached)
		return cached;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;

	r = root_read_file(ctx, "/proc/cmdline", &cmdline, NULL);
	if (r < 0)
		log_debug(ctx, "/proc/cmdline: %s", strerror(-r));
	else if (consoles_parse_cmdline(c, cmdline) < 0)
		return NULL;

	/* The consoles the kernel actually registered, when it says so. */
	r = root_read_file(ctx, "/sys/class/tty/console/active", &active, NULL);
	if (r < 0)
		log_debug(ctx, "/sys/class/tty/console/active: %s", strerror(-r));
	else if (consoles_parse_active(c, active) < 0)
		return NULL;

	cached = TAKE_PTR(c);
	ctx_slot_set(ctx, CTX_SLOT_CONSOLES, cached, consoles_destroy);
	return cached;
}

/* ------------------------------------------------------------------------------------------ */
/* Reading one port                                                                           */

/*
 * The host path of the device behind a tty: /sys/class/tty/<name> links to the tty's directory
 * (".../1-2:1.0/ttyUSB0/tty/ttyUSB0"), whose "device" link leads to its device.
 */
static int tty_resolve_device(struct passthru_ctx *ctx, const char *name, char **ret_device)
{
	_cleanup_free_ char *classpath = NULL, *target = NULL, *ttypath = NULL, *devlink = NULL;
	int r;

	if (asprintf(&classpath, "/sys/class/tty/%s", name) < 0) {
		classpath = NULL;
		return -ENOMEM;
	}
	r = root_readlink(ctx, classpath, &target);
	if (r == -EINVAL) {
		/* A real directory (old kernels with CONFIG_SYSFS_DEPRECATED). */
		ttypath = TAKE_PTR(classpath);
	} else if (r < 0) {
		return r;
	} else {
		r = path_join_lexical("/sys/class/tty", target, &ttypath);
		if (r < 0)
			return r;
	}
	free(target);
	target = NULL;
	if (asprintf(&devlink, "%s/device", ttypath) < 0) {
		devlink = NULL;
		return -ENOMEM;
	}
	r = root_readlink(ctx, devlink, &target);
	if (r < 0)
		return r;
	return path_join_lexical(ttypath, target, ret_device);
}

/*
 * The USB device a USB serial tty belongs to: the nearest directory above the tty's device
 * that is named like a USB device. ttyUSB0's device is a usb-serial port below an interface
 * (".../1-2/1-2:1.0/ttyUSB0"), ttyACM0's the interface itself (".../1-4/1-4:1.0").
 */
static int tty_usb_port(struct passthru_ctx *ctx, const char *name, char **ret)
{
	_cleanup_free_ char *device = NULL;
	struct usb_port_path path;
	char *slash;
	int r;

	r = tty_resolve_device(ctx, name, &device);
	if (r < 0)
		return r;
	while ((slash = strrchr(device, '/'))) {
		if (usb_port_path_parse(slash + 1, &path) == 0) {
			char *s = strdup(slash + 1);

			if (!s)
				return -ENOMEM;
			*ret = s;
			return 0;
		}
		*slash = '\0';
	}
	return -ENOENT;
}

static struct passthru_serial_port *serial_port_free(struct passthru_serial_port *port)
{
	free(port->name);
	free(port->path);
	free(port->usb_port);
	free(port->driver);
	passthru_ctx_unref(port->ctx);
	free(port);
	return NULL;
}

static void serial_port_freep(struct passthru_serial_port **port)
{
	if (*port)
		serial_port_free(*port);
}

/* A number attribute of a serial_core port; *error is 0, -ENOENT (absent) or -ENODATA. */
static int read_uart_number(struct passthru_serial_port *port, int dirfd, const char *attr,
			    bool hex, uint64_t max, uint64_t *ret, int *error)
{
	_cleanup_free_ char *s = NULL, *escaped = NULL;
	int r;

	r = attr_read_at(dirfd, attr, &s);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		if (r != -ENOENT)
			log_debug(port->ctx, "%s: %s: %s", port->name, attr, strerror(-r));
		*error = r == -ENOENT ? -ENOENT : -ENODATA;
		return 0;
	}
	if (hex) {
		r = parse_hex(s, max, ret);
	} else {
		long v;

		r = parse_long(s, 0, (long)max, &v);
		if (r >= 0)
			*ret = (uint64_t)v;
	}
	if (r < 0) {
		escaped = escape_for_message(s, 32);
		if (!escaped)
			return -ENOMEM;
		log_debug(port->ctx, "%s: %s: invalid value \"%s\"", port->name, attr, escaped);
		*error = -ENODATA;
		return 0;
	}
	*error = 0;
	return 0;
}

/*
 * The UART's registers as serial_core shows them: "port" is the I/O port base, 0 for a
 * memory-mapped UART, whose address is "iomem_base"; "io_type" says which (0 = port I/O,
 * 1 = HUB6, others are memory-mapped).
 */
static int read_uart(struct passthru_serial_port *port, int dirfd, uint64_t *ret_mmio)
{
	uint64_t type = 0, irq = 0, io_port = 0, io_type = 0, mmio = 0;
	int io_type_error, mmio_error, r;

	r = read_uart_number(port, dirfd, "type", false, INT32_MAX, &type, &port->uart_type_error);
	if (r < 0)
		return r;
	r = read_uart_number(port, dirfd, "irq", false, INT32_MAX, &irq, &port->irq_error);
	if (r < 0)
		return r;
	r = read_uart_number(port, dirfd, "port", true, UINT32_MAX, &io_port, &port->io_port_error);
	if (r < 0)
		return r;
	r = read_uart_number(port, dirfd, "io_type", false, INT32_MAX, &io_type, &io_type_error);
	if (r < 0)
		return r;
	r = read_uart_number(port, dirfd, "iomem_base", true, UINT64_MAX, &mmio, &mmio_error);
	if (r < 0)
		return r;

	port->uart_type = (unsigned)type;
	port->irq = (unsigned)irq;
	port->io_port = (unsigned)io_port;
	if (port->io_port_error == 0 && (io_port == 0 || (io_type_error == 0 && io_type > 1)))
		port->io_port_error = -ENOENT;
	*ret_mmio = mmio_error == 0 ? mmio : 0;
	return 0;
}

/*
 * The driver of the hardware behind a tty ("serial" for a PNP or PCI 8250, "serial8250",
 * "ftdi_sio", "cdc_acm"). Since Linux 6.5 serial_core puts two devices of its own
 * "serial-base" bus between a UART's device and its tty, a controller and a port
 * (".../pnp0/00:03/00:03:0/00:03:0.0/tty/ttyS0"), bound to serial-base's drivers "ctrl" and
 * "port"; the driver that says what the hardware is belongs to the first device above them.
 */
static int tty_device_driver(int ttyfd, char **ret)
{
	_cleanup_free_ char *device = strdup("device");

	if (!device)
		return -ENOMEM;
	for (unsigned depth = 0; depth < 4; depth++) {
		_cleanup_free_ char *subsystem = NULL, *link = NULL, *up = NULL;
		int r;

		if (asprintf(&link, "%s/subsystem", device) < 0) {
			link = NULL;
			return -ENOMEM;
		}
		r = attr_link_basename_at(ttyfd, link, &subsystem);
		if (r == -ENOMEM)
			return r;
		if (r < 0 || strcmp(subsystem, "serial-base") != 0) {
			free(link);
			if (asprintf(&link, "%s/driver", device) < 0) {
				link = NULL;
				return -ENOMEM;
			}
			return attr_link_basename_at(ttyfd, link, ret);
		}
		/* "device/.." is the parent of the directory the link points to. */
		if (asprintf(&up, "%s/..", device) < 0) {
			up = NULL;
			return -ENOMEM;
		}
		free(device);
		device = TAKE_PTR(up);
	}
	return -ELOOP;
}

/* The serial_core "console" attribute: Y when the port is a registered console. */
static bool uart_console_attr(int dirfd)
{
	_cleanup_free_ char *s = NULL;

	return attr_read_at(dirfd, "console", &s) >= 0 && strcmp(s, "Y") == 0;
}

/*
 * Reads /sys/class/tty/<name>. -ENODEV when there is no such tty, when it is not a serial
 * port, or when it is a phantom 8250 port.
 */
static int serial_port_read(struct passthru_ctx *ctx, const char *name,
			    struct passthru_serial_port **ret)
{
	_cleanup_(serial_port_freep) struct passthru_serial_port *port = NULL;
	_cleanup_free_ char *syspath = NULL, *devlink = NULL;
	_cleanup_close_ int dirfd = -1;
	const struct consoles *consoles;
	uint64_t mmio = 0;
	int r;

	if (asprintf(&syspath, "/sys/class/tty/%s", name) < 0) {
		syspath = NULL;
		return -ENOMEM;
	}
	dirfd = root_open_dir(ctx, syspath);
	if (dirfd < 0)
		return errno_is_vanished(dirfd) || dirfd == -ENOTDIR ? -ENODEV : dirfd;

	/* Virtual ttys have no device; everything we list is backed by hardware. */
	r = attr_readlink_at(dirfd, "device", &devlink);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return -ENODEV;

	port = calloc(1, sizeof(*port));
	if (!port)
		return -ENOMEM;
	port->refcount = 1;
	port->ctx = passthru_ctx_ref(ctx);
	port->name = strdup(name);
	if (!port->name || asprintf(&port->path, "/dev/%s", name) < 0) {
		port->path = NULL;
		return -ENOMEM;
	}

	if (name_is_usb_serial(name)) {
		port->kind = SERIAL_USB;
		port->io_port_error = port->irq_error = port->uart_type_error = -ENOENT;
		r = tty_usb_port(ctx, name, &port->usb_port);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			log_debug(ctx, "%s: no USB device found above it: %s", name, strerror(-r));
	} else {
		port->kind = SERIAL_UART;
		r = read_uart(port, dirfd, &mmio);
		if (r < 0)
			return r;
		if (port->uart_type_error == -ENOENT && strncmp(name, "ttyS", 4) != 0)
			return -ENODEV; /* not a serial_core port */
		if (port->uart_type_error == 0 && port->uart_type == 0)
			return -ENODEV; /* PORT_UNKNOWN: a phantom */
	}

	r = tty_device_driver(dirfd, &port->driver);
	if (r == -ENOMEM)
		return r;
	if (r < 0 && r != -ENOENT)
		log_debug(ctx, "%s: driver: %s", name, strerror(-r));

	consoles = ctx_consoles(ctx);
	if (!consoles)
		return -ENOMEM;
	/* console=uart8250,... names a port by address, and only 8250 ports (ttyS*) answer it. */
	if (strncmp(name, "ttyS", 4) == 0)
		port->console = consoles_match(consoles, name,
					       port->io_port_error == 0 ? port->io_port : 0, mmio);
	else
		port->console = consoles_match(consoles, name, 0, 0);
	if (port->kind == SERIAL_UART && uart_console_attr(dirfd))
		port->console = true;

	*ret = TAKE_PTR(port);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Public: ports                                                                              */

_public_ int passthru_serial_port_new(struct passthru_ctx *ctx, const char *name,
				      struct passthru_serial_port **ret)
{
	const char *tty;
	int r;

	if (!ctx || !ret)
		return -EINVAL;
	r = tty_name_parse(name, &tty);
	if (r < 0)
		return r;
	return serial_port_read(ctx, tty, ret);
}

DEFINE_REF_UNREF_FUNC(_public_, struct passthru_serial_port, passthru_serial_port,
		      serial_port_free);

_public_ const char *passthru_serial_port_get_path(struct passthru_serial_port *port)
{
	return port->path;
}

_public_ const char *passthru_serial_port_get_name(struct passthru_serial_port *port)
{
	return port->name;
}

_public_ bool passthru_serial_port_is_console(struct passthru_serial_port *port)
{
	return port->console;
}

_public_ int passthru_serial_port_get_io_port(struct passthru_serial_port *port, unsigned *ret)
{
	if (port->io_port_error)
		return port->io_port_error;
	*ret = port->io_port;
	return 0;
}

_public_ int passthru_serial_port_get_irq(struct passthru_serial_port *port, unsigned *ret)
{
	if (port->irq_error)
		return port->irq_error;
	*ret = port->irq;
	return 0;
}

_public_ int passthru_serial_port_get_uart_type(struct passthru_serial_port *port, unsigned *ret)
{
	if (port->uart_type_error)
		return port->uart_type_error;
	*ret = port->uart_type;
	return 0;
}

_public_ const char *passthru_serial_port_get_usb_port(struct passthru_serial_port *port)
{
	return port->usb_port;
}

_public_ const char *passthru_serial_port_get_driver(struct passthru_serial_port *port)
{
	return port->driver;
}

/* ------------------------------------------------------------------------------------------ */
/* Public: the list                                                                           */

static struct passthru_serial_list *serial_list_free(struct passthru_serial_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		passthru_serial_port_unref(list->ports[i]);
	free(list->ports);
	passthru_ctx_unref(list->ctx);
	free(list);
	return NULL;
}

/* ttyS2 before ttyS10. */
static int cmp_port(const void *a, const void *b)
{
	const struct passthru_serial_port *x = *(struct passthru_serial_port *const *)a;
	const struct passthru_serial_port *y = *(struct passthru_serial_port *const *)b;

	return strverscmp(x->name, y->name);
}

/* One entry of /sys/class/tty: a serial port joins the list, a VT or the console not. */
static int serial_list_add_entry(struct passthru_ctx *ctx, const char *name, void *userdata)
{
	struct passthru_serial_list *list = userdata;
	struct passthru_serial_port *port = NULL, **v;
	const char *tty;
	int r;

	if (tty_name_parse(name, &tty) < 0 || name_is_vt(tty) || strcmp(tty, "console") == 0)
		return 0;
	r = serial_port_read(ctx, tty, &port);
	if (r == -ENODEV)
		/*
		 * Not a serial port, a phantom, or unplugged since readdir(): the last is a race
		 * that is inherent.
		 */
		return 0;
	if (r < 0)
		return r;
	v = ARRAY_GROW(list->ports, list->count);
	if (!v) {
		passthru_serial_port_unref(port);
		return -ENOMEM;
	}
	*v = port;
	list->count++;
	return 0;
}

DEFINE_LIST_SCAN(_public_, struct passthru_serial_list, passthru_serial_list, "/sys/class/tty",
		 serial_list_add_entry, ports, cmp_port, serial_list_free);

/* The old name. */
_public_ int passthru_serial_scan(struct passthru_ctx *ctx, struct passthru_serial_list **ret)
    _alias_(passthru_serial_list_scan);

DEFINE_REF_UNREF_FUNC(_public_, struct passthru_serial_list, passthru_serial_list,
		      serial_list_free);

DEFINE_LIST_COUNT_GET(_public_, struct passthru_serial_list, passthru_serial_list,
		      struct passthru_serial_port, ports);

_public_ struct passthru_serial_port *
passthru_serial_list_find(const struct passthru_serial_list *list, const char *path)
{
	const char *tty;

	if (!list || tty_name_parse(path, &tty) < 0)
		return NULL;
	for (size_t i = 0; i < list->count; i++)
		if (strcmp(list->ports[i]->name, tty) == 0)
			return list->ports[i];
	return NULL;
}
