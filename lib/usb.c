/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * USB devices, read from /sys/bus/usb/devices. That directory holds links to every USB
 * device ("usb1" for a root hub, "1-2.3" for a device by port path) and to every interface
 * of every device ("1-2.3:1.0"); only the former are devices. A device's interfaces are
 * subdirectories of its own directory, each with the driver bound to it.
 */
#include <fcntl.h>
#include <stdarg.h>

#include "device-list.h"
#include "internal.h"
#include "names.h"
#include "usb.h"

struct passthru_usb_device {
	unsigned refcount;
	struct passthru_ctx *ctx;

	char *port;
	struct usb_port_path path;

	unsigned busnum, devnum;
	uint16_t vendor_id, product_id;
	uint8_t class;
	bool has_busnum, has_devnum, has_vendor_id, has_product_id, has_class;

	char *manufacturer, *product, *serial, *speed;
	char **drivers;
	char **problems;
};

struct passthru_usb_list {
	unsigned refcount;
	struct passthru_ctx *ctx;
	struct passthru_usb_device **devices;
	size_t count;
};

/* ------------------------------------------------------------------------------------------ */
/* Port paths                                                                                 */

/* A decimal number as the kernel prints it: no sign, no leading zeros, within [min, max]. */
static int parse_kernel_decimal(const char **p, unsigned min, unsigned max, unsigned *ret)
{
	const char *s = *p;
	unsigned v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	if (*s == '0' && s[1] >= '0' && s[1] <= '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max)
			return -EINVAL;
	}
	if (v < min)
		return -EINVAL;
	*p = s;
	*ret = v;
	return 0;
}

int usb_port_path_parse(const char *text, struct usb_port_path *ret)
{
	struct usb_port_path path = {0};
	const char *p = text;
	int r;

	if (!text)
		return -EINVAL;

	if (strncmp(p, "usb", 3) == 0) {
		p += 3;
		r = parse_kernel_decimal(&p, 1, USB_BUS_MAX, &path.bus);
		if (r < 0 || *p)
			return -EINVAL;
		*ret = path;
		return 0;
	}

	r = parse_kernel_decimal(&p, 1, USB_BUS_MAX, &path.bus);
	if (r < 0 || *p != '-')
		return -EINVAL;
	p++;
	for (;;) {
		unsigned port;

		if (path.depth >= USB_PORT_DEPTH_MAX)
			return -EINVAL;
		r = parse_kernel_decimal(&p, 1, USB_PORT_MAX, &port);
		if (r < 0)
			return -EINVAL;
		path.ports[path.depth++] = (uint8_t)port;
		if (!*p)
			break;
		if (*p != '.')
			return -EINVAL;
		p++;
	}
	*ret = path;
	return 0;
}

int usb_port_path_compare(const struct usb_port_path *a, const struct usb_port_path *b)
{
	if (a->bus != b->bus)
		return a->bus < b->bus ? -1 : 1;
	for (unsigned i = 0; i < a->depth && i < b->depth; i++)
		if (a->ports[i] != b->ports[i])
			return a->ports[i] < b->ports[i] ? -1 : 1;
	/* A hub comes before everything behind it. */
	if (a->depth != b->depth)
		return a->depth < b->depth ? -1 : 1;
	return 0;
}

int usb_interface_name_parse(const char *text, const char *device_name, unsigned *ret_config,
			     unsigned *ret_ifnum)
{
	struct usb_port_path path;
	unsigned config, ifnum;
	const char *p;
	size_t len;

	if (!text || usb_port_path_parse(device_name, &path) < 0)
		return -EINVAL;

	if (path.depth == 0) {
		/* A root hub's interfaces are named after devpath "0": "usb1" -> "1-0:1.0". */
		const char *b = text;
		unsigned bus;

		if (parse_kernel_decimal(&b, 1, USB_BUS_MAX, &bus) < 0 || bus != path.bus ||
		    strncmp(b, "-0:", 3) != 0)
			return -EINVAL;
		p = b + 3;
	} else {
		len = strlen(device_name);
		if (strncmp(text, device_name, len) != 0 || text[len] != ':')
			return -EINVAL;
		p = text + len + 1;
	}
	if (parse_kernel_decimal(&p, 0, 255, &config) < 0 || *p != '.')
		return -EINVAL;
	p++;
	if (parse_kernel_decimal(&p, 0, 255, &ifnum) < 0 || *p)
		return -EINVAL;
	*ret_config = config;
	*ret_ifnum = ifnum;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Reading one device                                                                         */

static struct passthru_usb_device *usb_device_free(struct passthru_usb_device *dev)
{
	free(dev->port);
	free(dev->manufacturer);
	free(dev->product);
	free(dev->serial);
	free(dev->speed);
	strv_free(dev->drivers);
	strv_free(dev->problems);
	passthru_ctx_unref(dev->ctx);
	free(dev);
	return NULL;
}

static void usb_device_freep(struct passthru_usb_device **dev)
{
	if (*dev)
		usb_device_free(*dev);
}

static int add_problem(struct passthru_usb_device *dev, const char *format, ...) _printf_(2, 3);
static int add_problem(struct passthru_usb_device *dev, const char *format, ...)
{
	va_list ap;
	int r;

	va_start(ap, format);
	r = strv_pushfv(&dev->problems, format, ap);
	va_end(ap);
	if (r >= 0)
		log_debug(dev->ctx, "%s: %s", dev->port, strv_last(dev->problems));
	return r;
}

/* Records why an attribute gave no value; only running out of memory is an error. */
static int attr_problem(struct passthru_usb_device *dev, const char *attr, const char *value,
			int error)
{
	_cleanup_free_ char *escaped = NULL;

	if (error == -ENOMEM)
		return error;
	if (!value)
		return add_problem(dev, "%s: cannot read: %s", attr, strerror(-error));
	escaped = escape_for_message(value, 32);
	if (!escaped)
		return -ENOMEM;
	return add_problem(dev, "%s: invalid value \"%s\"", attr, escaped);
}

/* Returns 1 with the value, 0 when the attribute was unusable (and is a recorded problem). */
static int read_number(struct passthru_usb_device *dev, int dirfd, const char *attr, bool hex,
		       unsigned long min, unsigned long max, unsigned long *ret)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = attr_read_at(dirfd, attr, &s);
	if (r < 0)
		return attr_problem(dev, attr, NULL, r);
	if (hex) {
		uint64_t v;

		r = parse_hex(s, max, &v);
		if (r >= 0 && v < min)
			r = -ERANGE;
		if (r >= 0)
			*ret = (unsigned long)v;
	} else {
		long v;

		r = parse_long(s, (long)min, (long)max, &v);
		if (r >= 0)
			*ret = (unsigned long)v;
	}
	if (r < 0)
		return attr_problem(dev, attr, s, r);
	return 1;
}

/* The device's own descriptor strings: absent when the device has none, which is normal. */
static int read_string(struct passthru_usb_device *dev, int dirfd, const char *attr, char **ret)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = attr_read_at(dirfd, attr, &s);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return attr_problem(dev, attr, NULL, r);
	*ret = TAKE_PTR(s);
	return 0;
}

/*
 * The kernel prints the speed as Mbit/s ("1.5", "12", "480", "5000", "10000", "20000") or
 * "unknown" before the speed is negotiated.
 */
static bool speed_is_valid(const char *s)
{
	size_t digits = strspn(s, "0123456789");

	if (digits == 0)
		return false;
	if (s[digits] == '.')
		return s[digits + 1] &&
		       strspn(s + digits + 1, "0123456789") == strlen(s + digits + 1);
	return s[digits] == '\0';
}

static int read_speed(struct passthru_usb_device *dev, int dirfd)
{
	_cleanup_free_ char *s = NULL;
	int r;

	r = attr_read_at(dirfd, "speed", &s);
	if (r < 0)
		return attr_problem(dev, "speed", NULL, r);
	if (strcmp(s, "unknown") == 0)
		return 0;
	if (!speed_is_valid(s))
		return attr_problem(dev, "speed", s, -EBADMSG);
	dev->speed = TAKE_PTR(s);
	return 0;
}

struct interface_entry {
	unsigned config, ifnum;
	char *name;
};

struct interfaces {
	struct interface_entry *v;
	size_t n;
};

static void interfaces_done(struct interfaces *ifs)
{
	for (size_t i = 0; i < ifs->n; i++)
		free(ifs->v[i].name);
	free(ifs->v);
}

static int cmp_interface(const void *a, const void *b)
{
	const struct interface_entry *x = a, *y = b;

	if (x->config != y->config)
		return x->config < y->config ? -1 : 1;
	if (x->ifnum != y->ifnum)
		return x->ifnum < y->ifnum ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* The device's interfaces ("1-2:1.0", ...), subdirectories of its own, in interface order. */
static int list_interfaces(struct passthru_usb_device *dev, int dirfd, struct interfaces *ifs)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;
	int fd;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		int r = -errno;

		close(fd);
		return r;
	}
	while ((de = readdir(d))) {
		struct interface_entry *v;
		unsigned config, ifnum;

		if (usb_interface_name_parse(de->d_name, dev->port, &config, &ifnum) < 0)
			continue;
		v = ARRAY_GROW(ifs->v, ifs->n);
		if (!v)
			return -ENOMEM;
		*v = (struct interface_entry){
		    .name = strdup(de->d_name), .config = config, .ifnum = ifnum};
		if (!v->name)
			return -ENOMEM;
		ifs->n++;
	}
	if (ifs->n > 1)
		qsort(ifs->v, ifs->n, sizeof(*ifs->v), cmp_interface);
	return 0;
}

/* Drivers of the device's interfaces, in interface order, each once. */
static int read_drivers(struct passthru_usb_device *dev, int dirfd)
{
	_cleanup_(interfaces_done) struct interfaces ifs = {0};
	int r;

	r = list_interfaces(dev, dirfd, &ifs);
	if (r < 0)
		return attr_problem(dev, "interfaces", NULL, r);

	for (size_t i = 0; i < ifs.n; i++) {
		_cleanup_free_ char *link = NULL, *driver = NULL;

		if (asprintf(&link, "%s/driver", ifs.v[i].name) < 0) {
			link = NULL;
			return -ENOMEM;
		}
		r = attr_link_basename_at(dirfd, link, &driver);
		if (r == -ENOENT)
			continue; /* no driver bound to this interface */
		if (r < 0) {
			r = attr_problem(dev, link, NULL, r);
			if (r < 0)
				return r;
			continue;
		}
		if (strv_contains(dev->drivers, driver))
			continue;
		r = strv_consume(&dev->drivers, TAKE_PTR(driver));
		if (r < 0)
			return r;
	}
	return 0;
}

static int usb_device_read(struct passthru_ctx *ctx, const char *name,
			   const struct usb_port_path *path, struct passthru_usb_device **ret)
{
	_cleanup_(usb_device_freep) struct passthru_usb_device *dev = NULL;
	_cleanup_free_ char *syspath = NULL;
	_cleanup_close_ int dirfd = -1;
	unsigned long v;
	int r;

	if (asprintf(&syspath, "/sys/bus/usb/devices/%s", name) < 0) {
		syspath = NULL;
		return -ENOMEM;
	}
	dirfd = root_open_dir(ctx, syspath);
	if (dirfd < 0)
		return errno_is_vanished(dirfd) ? -ENODEV : dirfd;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->refcount = 1;
	dev->ctx = passthru_ctx_ref(ctx);
	dev->path = *path;
	dev->port = strdup(name);
	if (!dev->port)
		return -ENOMEM;

	r = read_number(dev, dirfd, "busnum", false, 1, USB_BUS_MAX, &v);
	if (r < 0)
		return r;
	if (r > 0) {
		dev->busnum = (unsigned)v;
		dev->has_busnum = true;
		if (dev->busnum != path->bus) {
			r = add_problem(dev, "busnum: %u does not match the port path",
					dev->busnum);
			if (r < 0)
				return r;
		}
	}
	/* Addresses are 7 bits; 0 is the default address of a device not yet enumerated. */
	r = read_number(dev, dirfd, "devnum", false, 1, 127, &v);
	if (r < 0)
		return r;
	if (r > 0) {
		dev->devnum = (unsigned)v;
		dev->has_devnum = true;
	}
	r = read_number(dev, dirfd, "idVendor", true, 0, 0xffff, &v);
	if (r < 0)
		return r;
	if (r > 0) {
		dev->vendor_id = (uint16_t)v;
		dev->has_vendor_id = true;
	}
	r = read_number(dev, dirfd, "idProduct", true, 0, 0xffff, &v);
	if (r < 0)
		return r;
	if (r > 0) {
		dev->product_id = (uint16_t)v;
		dev->has_product_id = true;
	}
	r = read_number(dev, dirfd, "bDeviceClass", true, 0, 0xff, &v);
	if (r < 0)
		return r;
	if (r > 0) {
		dev->class = (uint8_t)v;
		dev->has_class = true;
	}
	r = read_speed(dev, dirfd);
	if (r < 0)
		return r;
	r = read_string(dev, dirfd, "manufacturer", &dev->manufacturer);
	if (r < 0)
		return r;
	r = read_string(dev, dirfd, "product", &dev->product);
	if (r < 0)
		return r;
	r = read_string(dev, dirfd, "serial", &dev->serial);
	if (r < 0)
		return r;
	r = read_drivers(dev, dirfd);
	if (r < 0)
		return r;

	/*
	 * Unplugged while we read: the directory we hold is now empty and its link under
	 * /sys/bus/usb/devices is gone. The race is inherent; report the device as absent
	 * rather than as a device full of problems.
	 */
	if (dev->problems && !root_exists(ctx, syspath))
		return -ENODEV;

	*ret = TAKE_PTR(dev);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Public: devices                                                                            */

_public_ int passthru_usb_device_new(struct passthru_ctx *ctx, const char *port,
				     struct passthru_usb_device **ret)
{
	struct usb_port_path path;
	int r;

	if (!ctx || !ret)
		return -EINVAL;
	r = usb_port_path_parse(port, &path);
	if (r < 0)
		return r;
	return usb_device_read(ctx, port, &path, ret);
}

DEFINE_REF_UNREF_FUNC(_public_, struct passthru_usb_device, passthru_usb_device, usb_device_free);

_public_ const char *passthru_usb_device_get_port(struct passthru_usb_device *dev)
{
	return dev->port;
}

_public_ int passthru_usb_device_get_busnum(struct passthru_usb_device *dev, unsigned *ret)
{
	if (!dev->has_busnum)
		return -ENODATA;
	*ret = dev->busnum;
	return 0;
}

_public_ int passthru_usb_device_get_devnum(struct passthru_usb_device *dev, unsigned *ret)
{
	if (!dev->has_devnum)
		return -ENODATA;
	*ret = dev->devnum;
	return 0;
}

_public_ int passthru_usb_device_get_vendor_id(struct passthru_usb_device *dev, uint16_t *ret)
{
	if (!dev->has_vendor_id)
		return -ENODATA;
	*ret = dev->vendor_id;
	return 0;
}

_public_ int passthru_usb_device_get_product_id(struct passthru_usb_device *dev, uint16_t *ret)
{
	if (!dev->has_product_id)
		return -ENODATA;
	*ret = dev->product_id;
	return 0;
}

_public_ int passthru_usb_device_get_class(struct passthru_usb_device *dev, uint8_t *ret)
{
	if (!dev->has_class)
		return -ENODATA;
	*ret = dev->class;
	return 0;
}

_public_ const char *passthru_usb_device_get_vendor_name(struct passthru_usb_device *dev)
{
	if (!dev->has_vendor_id)
		return NULL;
	return names_usb_vendor(dev->ctx, dev->vendor_id);
}

_public_ const char *passthru_usb_device_get_product_name(struct passthru_usb_device *dev)
{
	if (!dev->has_vendor_id || !dev->has_product_id)
		return NULL;
	return names_usb_product(dev->ctx, dev->vendor_id, dev->product_id);
}

_public_ const char *passthru_usb_device_get_manufacturer(struct passthru_usb_device *dev)
{
	return dev->manufacturer;
}

_public_ const char *passthru_usb_device_get_product(struct passthru_usb_device *dev)
{
	return dev->product;
}

_public_ const char *passthru_usb_device_get_serial(struct passthru_usb_device *dev)
{
	return dev->serial;
}

_public_ const char *passthru_usb_device_get_speed(struct passthru_usb_device *dev)
{
	return dev->speed;
}

_public_ bool passthru_usb_device_is_hub(struct passthru_usb_device *dev)
{
	/* bDeviceClass 09 is the hub class; root hubs have it too. */
	return dev->has_class && dev->class == 0x09;
}

_public_ bool passthru_usb_device_is_root_hub(struct passthru_usb_device *dev)
{
	return dev->path.depth == 0;
}

_public_ const char *const *passthru_usb_device_get_drivers(struct passthru_usb_device *dev)
{
	return dev->drivers ? (const char *const *)dev->drivers : strv_empty;
}

_public_ const char *const *passthru_usb_device_get_problems(struct passthru_usb_device *dev)
{
	return dev->problems ? (const char *const *)dev->problems : strv_empty;
}

/* ------------------------------------------------------------------------------------------ */
/* Public: the list                                                                           */

static struct passthru_usb_list *usb_list_free(struct passthru_usb_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		passthru_usb_device_unref(list->devices[i]);
	free(list->devices);
	passthru_ctx_unref(list->ctx);
	free(list);
	return NULL;
}

static int cmp_device(const void *a, const void *b)
{
	const struct passthru_usb_device *x = *(struct passthru_usb_device *const *)a;
	const struct passthru_usb_device *y = *(struct passthru_usb_device *const *)b;

	return usb_port_path_compare(&x->path, &y->path);
}

static int usb_list_add(struct passthru_usb_list *list, struct passthru_usb_device *dev)
{
	struct passthru_usb_device **v;

	v = ARRAY_GROW(list->devices, list->count);
	if (!v)
		return -ENOMEM;
	*v = dev;
	list->count++;
	return 0;
}

/* One entry of /sys/bus/usb/devices: a device joins the list, an interface or a stranger not. */
static int usb_list_add_entry(struct passthru_ctx *ctx, const char *name, void *userdata)
{
	struct passthru_usb_list *list = userdata;
	struct passthru_usb_device *dev = NULL;
	struct usb_port_path path;
	int r;

	/* "1-2.3:1.0" and "1-0:1.0" are interfaces, not devices. */
	if (strchr(name, ':'))
		return 0;
	if (usb_port_path_parse(name, &path) < 0) {
		log_debug(ctx, "/sys/bus/usb/devices/%s: not a USB device name, ignored", name);
		return 0;
	}
	r = usb_device_read(ctx, name, &path, &dev);
	if (r == -ENODEV) {
		/* Unplugged between readdir() and now: a race that is inherent. */
		log_debug(ctx, "%s: vanished during the scan, skipped", name);
		return 0;
	}
	if (r < 0)
		return r;
	r = usb_list_add(list, dev);
	if (r < 0)
		passthru_usb_device_unref(dev);
	return r;
}

/* No /sys/bus/usb/devices (no USB support, or usbcore not loaded): no devices. */
DEFINE_LIST_SCAN(_public_, struct passthru_usb_list, passthru_usb_list, "/sys/bus/usb/devices",
		 usb_list_add_entry, devices, cmp_device, usb_list_free);

/* The old name. */
_public_ int passthru_usb_scan(struct passthru_ctx *ctx, struct passthru_usb_list **ret)
    _alias_(passthru_usb_list_scan);

DEFINE_REF_UNREF_FUNC(_public_, struct passthru_usb_list, passthru_usb_list, usb_list_free);

DEFINE_LIST_COUNT_GET(_public_, struct passthru_usb_list, passthru_usb_list,
		      struct passthru_usb_device, devices);

_public_ struct passthru_usb_device *passthru_usb_list_find(const struct passthru_usb_list *list,
							    const char *port)
{
	struct usb_port_path path;

	if (!list || usb_port_path_parse(port, &path) < 0)
		return NULL;
	for (size_t i = 0; i < list->count; i++)
		if (usb_port_path_compare(&list->devices[i]->path, &path) == 0)
			return list->devices[i];
	return NULL;
}
