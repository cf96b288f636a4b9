/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The inventory: every PCI function, USB device and serial port of the host, read once at
 * start-up with the library's list scans and then one device at a time when a uevent (or the
 * service itself) says it changed. The library does not cache: a refresh reads sysfs afresh.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "passthrud.h"

static void device_done(struct device *dev)
{
	free(dev->address);
	free(dev->type);
	free(dev->driver);
	json_object_put(dev->details);
}

static int device_fill(struct passthru_pci_device *pd, struct device *ret)
{
	struct device dev = {.vendor_id = -1, .device_id = -1, .group = -1, .numa_node = -1};
	const char *type = passthru_pci_device_get_type(pd);
	const char *driver = passthru_pci_device_get_driver(pd);
	uint16_t id;
	int n;

	dev.address = strdup(passthru_pci_device_get_address(pd));
	dev.type = strdup(type ?: "PCI");
	dev.driver = driver ? strdup(driver) : NULL;
	if (!dev.address || !dev.type || (driver && !dev.driver)) {
		device_done(&dev);
		return -ENOMEM;
	}
	if (passthru_pci_device_get_vendor_id(pd, &id) >= 0)
		dev.vendor_id = id;
	if (passthru_pci_device_get_device_id(pd, &id) >= 0)
		dev.device_id = id;
	if (passthru_pci_device_get_iommu_group(pd, &n) >= 0)
		dev.group = n;
	if (passthru_pci_device_get_numa_node(pd, &n) >= 0)
		dev.numa_node = n;
	dev.non_endpoint = !passthru_pci_device_is_endpoint(pd);
	*ret = dev;
	return 0;
}

static struct json_object *string_json(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *strv_json(const char *const *v)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; a && v && v[i]; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

/* v in hex, digits wide ("%04x"), or with digits 0 as "0x3f8". */
static struct json_object *hex_json(unsigned v, int digits)
{
	char s[16];

	if (digits)
		snprintf(s, sizeof(s), "%0*x", digits, v);
	else
		snprintf(s, sizeof(s), "0x%x", v);
	return json_object_new_string(s);
}

/* A USB device: the fields of passthru list --json, under the names it gives them. */
static int usb_fill(struct passthru_usb_device *ud, struct device *ret)
{
	struct device dev = {
	    .kind = DEVICE_USB, .vendor_id = -1, .device_id = -1, .group = -1, .numa_node = -1};
	const char *const *drivers = passthru_usb_device_get_drivers(ud);
	struct json_object *o;
	uint16_t id;
	uint8_t class;
	unsigned u;

	dev.address = strdup(passthru_usb_device_get_port(ud));
	dev.type = strdup("USB");
	/* The driver of its first interface: what the host uses it as (usbhid, ftdi_sio). */
	dev.driver = drivers && drivers[0] ? strdup(drivers[0]) : NULL;
	dev.details = o = json_object_new_object();
	if (!dev.address || !dev.type || (drivers && drivers[0] && !dev.driver) || !o) {
		device_done(&dev);
		return -ENOMEM;
	}
	/* usb-host does not pass hubs through: they stay the host's. */
	dev.host_only = passthru_usb_device_is_hub(ud) || passthru_usb_device_is_root_hub(ud);
	json_object_object_add(o, "port", json_object_new_string(dev.address));
	json_object_object_add(
	    o, "busnum",
	    passthru_usb_device_get_busnum(ud, &u) >= 0 ? json_object_new_int64(u) : NULL);
	json_object_object_add(
	    o, "devnum",
	    passthru_usb_device_get_devnum(ud, &u) >= 0 ? json_object_new_int64(u) : NULL);
	if (passthru_usb_device_get_vendor_id(ud, &id) >= 0)
		dev.vendor_id = id;
	json_object_object_add(o, "vendor_id",
			       dev.vendor_id >= 0 ? hex_json((unsigned)dev.vendor_id, 4) : NULL);
	if (passthru_usb_device_get_product_id(ud, &id) >= 0)
		dev.device_id = id;
	json_object_object_add(o, "product_id",
			       dev.device_id >= 0 ? hex_json((unsigned)dev.device_id, 4) : NULL);
	json_object_object_add(o, "vendor_name",
			       string_json(passthru_usb_device_get_vendor_name(ud)));
	json_object_object_add(o, "product_name",
			       string_json(passthru_usb_device_get_product_name(ud)));
	json_object_object_add(
	    o, "class", passthru_usb_device_get_class(ud, &class) >= 0 ? hex_json(class, 2) : NULL);
	json_object_object_add(o, "speed", string_json(passthru_usb_device_get_speed(ud)));
	json_object_object_add(o, "manufacturer",
			       string_json(passthru_usb_device_get_manufacturer(ud)));
	json_object_object_add(o, "product", string_json(passthru_usb_device_get_product(ud)));
	json_object_object_add(o, "serial", string_json(passthru_usb_device_get_serial(ud)));
	json_object_object_add(o, "drivers", strv_json(drivers));
	json_object_object_add(o, "hub", json_object_new_boolean(passthru_usb_device_is_hub(ud)));
	json_object_object_add(o, "root_hub",
			       json_object_new_boolean(passthru_usb_device_is_root_hub(ud)));
	json_object_object_add(o, "problems", strv_json(passthru_usb_device_get_problems(ud)));
	*ret = dev;
	return 0;
}

/* A serial port: the fields of passthru list --json. */
static int serial_fill(struct passthru_serial_port *sp, struct device *ret)
{
	struct device dev = {
	    .kind = DEVICE_SERIAL, .vendor_id = -1, .device_id = -1, .group = -1, .numa_node = -1};
	const char *driver = passthru_serial_port_get_driver(sp);
	struct json_object *o;
	unsigned u;

	dev.address = strdup(passthru_serial_port_get_path(sp));
	dev.type = strdup("serial");
	dev.driver = driver ? strdup(driver) : NULL;
	dev.details = o = json_object_new_object();
	if (!dev.address || !dev.type || (driver && !dev.driver) || !o) {
		device_done(&dev);
		return -ENOMEM;
	}
	/* A host console stays the host's (the guard that refuses it says why). */
	dev.host_only = passthru_serial_port_is_console(sp);
	json_object_object_add(o, "path", json_object_new_string(dev.address));
	json_object_object_add(o, "name", string_json(passthru_serial_port_get_name(sp)));
	json_object_object_add(
	    o, "port", passthru_serial_port_get_io_port(sp, &u) >= 0 ? hex_json(u, 0) : NULL);
	json_object_object_add(
	    o, "irq", passthru_serial_port_get_irq(sp, &u) >= 0 ? json_object_new_int64(u) : NULL);
	json_object_object_add(
	    o, "uart_type",
	    passthru_serial_port_get_uart_type(sp, &u) >= 0 ? json_object_new_int64(u) : NULL);
	json_object_object_add(o, "console", json_object_new_boolean(dev.host_only));
	json_object_object_add(o, "usb", string_json(passthru_serial_port_get_usb_port(sp)));
	json_object_object_add(o, "driver", string_json(driver));
	*ret = dev;
	return 0;
}

static bool device_equal(const struct device *a, const struct device *b)
{
	return strcmp(a->type, b->type) == 0 &&
	       (a->driver && b->driver ? strcmp(a->driver, b->driver) == 0
				       : a->driver == b->driver) &&
	       a->vendor_id == b->vendor_id && a->device_id == b->device_id &&
	       a->group == b->group && a->numa_node == b->numa_node && a->non_endpoint == b->non_endpoint &&
	       a->host_only == b->host_only &&
	       (a->details && b->details ? json_object_equal(a->details, b->details)
					 : a->details == b->details);
}

static void devices_free(struct device *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		device_done(&v[i]);
	free(v);
}

/* The USB devices and serial ports, in the library's order. A host without either has none. */
static int ports_scan(struct passthru_ctx *ctx, struct device **ret, size_t *ret_n)
{
	struct passthru_usb_list *usb = NULL;
	struct passthru_serial_list *serial = NULL;
	struct device *v;
	size_t n_usb, n_serial, n = 0;
	int r;

	r = passthru_usb_list_scan(ctx, &usb);
	if (r < 0 && r != -ENOENT)
		return r;
	r = passthru_serial_list_scan(ctx, &serial);
	if (r < 0 && r != -ENOENT) {
		passthru_usb_list_unref(usb);
		return r;
	}
	n_usb = usb ? passthru_usb_list_count(usb) : 0;
	n_serial = serial ? passthru_serial_list_count(serial) : 0;
	v = calloc(n_usb + n_serial ?: 1, sizeof(*v));
	r = v ? 0 : -ENOMEM;
	for (size_t i = 0; i < n_usb && r >= 0; i++)
		if ((r = usb_fill(passthru_usb_list_get(usb, i), &v[n])) >= 0)
			n++;
	for (size_t i = 0; i < n_serial && r >= 0; i++)
		if ((r = serial_fill(passthru_serial_list_get(serial, i), &v[n])) >= 0)
			n++;
	passthru_usb_list_unref(usb);
	passthru_serial_list_unref(serial);
	if (r < 0) {
		devices_free(v, n);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

int inventory_scan(struct passthru_ctx *ctx, struct inventory *inv)
{
	struct passthru_pci_list *list = NULL;
	struct inventory new = {};
	size_t n;
	int r;

	r = passthru_pci_scan(ctx, &list);
	if (r < 0)
		return r;
	n = passthru_pci_list_count(list);
	new.v = calloc(n ?: 1, sizeof(*new.v));
	if (!new.v) {
		passthru_pci_list_unref(list);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		r = device_fill(passthru_pci_list_get(list, i), &new.v[new.n]);
		if (r < 0) {
			passthru_pci_list_unref(list);
			inventory_done(&new);
			return r;
		}
		new.n++;
	}
	passthru_pci_list_unref(list);
	r = ports_scan(ctx, &new.ports, &new.n_ports);
	if (r < 0) {
		inventory_done(&new);
		return r;
	}
	inventory_done(inv);
	*inv = new;
	return 0;
}

void inventory_done(struct inventory *inv)
{
	devices_free(inv->v, inv->n);
	devices_free(inv->ports, inv->n_ports);
	*inv = (struct inventory){};
}

/* The bus of a USB port path: "3-1.2" and "usb3" are on bus 3. */
static unsigned long usb_bus(const char *port)
{
	return strtoul(port + (strncmp(port, "usb", 3) == 0 ? 3 : 0), NULL, 10);
}

/*
 * The order of the inventory: PCI addresses by length (domain width) first, then as text, as
 * the library sorts them; USB devices by bus, root hub first, then port path; serial ports by
 * name, ttyS2 before ttyS10.
 */
static int device_cmp(const struct device *a, const struct device *b)
{
	size_t la = strlen(a->address), lb = strlen(b->address);

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	switch (a->kind) {
	case DEVICE_PCI:
		return la != lb ? (la < lb ? -1 : 1) : strcmp(a->address, b->address);
	case DEVICE_USB:
		if (usb_bus(a->address) != usb_bus(b->address))
			return usb_bus(a->address) < usb_bus(b->address) ? -1 : 1;
		if ((a->address[0] == 'u') != (b->address[0] == 'u'))
			return a->address[0] == 'u' ? -1 : 1;
		return strverscmp(a->address, b->address);
	case DEVICE_SERIAL:
		return strverscmp(a->address, b->address);
	}
	return 0;
}

int device_address_cmp(const char *a, const char *b)
{
	char ca[DEVICE_ADDRESS_MAX + 1], cb[DEVICE_ADDRESS_MAX + 1];
	struct device x = {.address = (char *)a}, y = {.address = (char *)b};
	int ka = device_address_canonical(a, ca), kb = device_address_canonical(b, cb);

	/* Something that is no address (a damaged database) sorts last, as text. */
	if (ka < 0 || kb < 0)
		return ka < 0 && kb < 0 ? strcmp(a, b) : ka < 0 ? 1 : -1;
	x.kind = (enum device_kind)ka;
	y.kind = (enum device_kind)kb;
	return device_cmp(&x, &y);
}

struct device *inventory_find(const struct inventory *inv, const char *address)
{
	for (size_t i = 0; i < inv->n; i++)
		if (strcmp(inv->v[i].address, address) == 0)
			return &inv->v[i];
	for (size_t i = 0; i < inv->n_ports; i++)
		if (strcmp(inv->ports[i].address, address) == 0)
			return &inv->ports[i];
	return NULL;
}

/* Reads one device of any kind. -ENODEV when it is not there (any more). */
static int device_read(struct passthru_ctx *ctx, const char *address, struct device *ret)
{
	char canonical[DEVICE_ADDRESS_MAX + 1];
	int kind = device_address_canonical(address, canonical), r;

	if (kind == DEVICE_PCI) {
		struct passthru_pci_device *pd = NULL;

		r = passthru_pci_device_new(ctx, address, &pd);
		if (r >= 0)
			r = device_fill(pd, ret);
		passthru_pci_device_unref(pd);
	} else if (kind == DEVICE_USB) {
		struct passthru_usb_device *ud = NULL;

		r = passthru_usb_device_new(ctx, address, &ud);
		if (r >= 0)
			r = usb_fill(ud, ret);
		passthru_usb_device_unref(ud);
	} else if (kind == DEVICE_SERIAL) {
		struct passthru_serial_port *sp = NULL;

		r = passthru_serial_port_new(ctx, address, &sp);
		if (r >= 0)
			r = serial_fill(sp, ret);
		passthru_serial_port_unref(sp);
	} else
		r = -ENODEV;
	/* A name that is no device (a virtual tty, a malformed port) is as good as gone. */
	return r == -EINVAL ? -ENODEV : r;
}

int inventory_refresh(struct passthru_ctx *ctx, struct inventory *inv, const char *address)
{
	struct device *old = inventory_find(inv, address), dev, **v;
	size_t at, *n;
	int r;

	r = device_read(ctx, address, &dev);
	if (r < 0 && r != -ENODEV)
		return r;
	if (r >= 0 ? dev.kind == DEVICE_PCI : (!old || old->kind == DEVICE_PCI)) {
		v = &inv->v;
		n = &inv->n;
	} else {
		v = &inv->ports;
		n = &inv->n_ports;
	}
	if (r == -ENODEV) {
		if (!old)
			return 0;
		at = (size_t)(old - *v);
		device_done(old);
		memmove(old, old + 1, (*n - at - 1) * sizeof(*old));
		(*n)--;
		return 2;
	}
	if (old) {
		bool same = device_equal(old, &dev);

		device_done(old);
		*old = dev;
		return same ? 0 : 1;
	}
	{
		struct device *nv = realloc(*v, (*n + 1) * sizeof(*nv));

		if (!nv) {
			device_done(&dev);
			return -ENOMEM;
		}
		*v = nv;
	}
	for (at = 0; at < *n && device_cmp(&(*v)[at], &dev) < 0; at++)
		;
	memmove(*v + at + 1, *v + at, (*n - at) * sizeof(dev));
	(*v)[at] = dev;
	(*n)++;
	return 1;
}

const char *device_state(const struct daemon *d, const struct device *dev,
			 const struct allocation **ret_owner)
{
	const struct allocation *a = allocation_of_device(&d->allocs, dev->address);

	bool vfio = dev->driver && strcmp(dev->driver, "vfio-pci") == 0;

	if (ret_owner)
		*ret_owner = a;
	/* USB and serial: QEMU takes them as they are; an allocation is a reservation. */
	if (dev->kind != DEVICE_PCI)
		return a ? "allocated" : dev->host_only ? "host" : "free";
	/*
	 * Allocated, but something took it off vfio-pci behind the service's back (not the worker
	 * binding a reservation or giving an allocation back).
	 */
	if (a && !vfio && !a->pending && !a->releasing)
		return "lost";
	/* A device of a Kubernetes resource is the kubelet's (its health is ListAndWatch's). */
	if (a || kubernetes_owner(d, dev->address))
		return "allocated";
	if (vfio)
		return "free";
	return "host";
}

static struct json_object *hex4_json(int v)
{
	char s[16];

	if (v < 0)
		return NULL;
	snprintf(s, sizeof(s), "%04x", (unsigned)v & 0xffffu);
	return json_object_new_string(s);
}

struct json_object *device_to_json(const struct daemon *d, const struct device *dev)
{
	const struct allocation *a;
	const char *state = device_state(d, dev, &a), *resource;
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "address", json_object_new_string(dev->address));
	json_object_object_add(o, "type", json_object_new_string(dev->type));
	json_object_object_add(o, "vendor_id", hex4_json(dev->vendor_id));
	json_object_object_add(o, "device_id", hex4_json(dev->device_id));
	json_object_object_add(o, "driver",
			       dev->driver ? json_object_new_string(dev->driver) : NULL);
	json_object_object_add(o, "iommu_group",
			       dev->group >= 0 ? json_object_new_int(dev->group) : NULL);
	json_object_object_add(o, "numa_node",
			       dev->numa_node >= 0 ? json_object_new_int(dev->numa_node) : NULL);
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "owner", a ? json_object_new_string(a->owner) : NULL);
	if (a && a->pending)
		json_object_object_add(o, "pending", json_object_new_boolean(true));
	else if (a)
		json_object_object_add(o, "allocation", json_object_new_int64(a->id));
	else if (dev->kind == DEVICE_PCI && (resource = kubernetes_owner(d, dev->address))) {
		/* A device of a Kubernetes resource: the kubelet's, through the device plugin. */
		json_object_object_add(o, "owner", json_object_new_string("kubelet"));
		json_object_object_add(o, "resource", json_object_new_string(resource));
	}
	/* USB and serial: then what passthru list --json shows of them. */
	if (dev->details) {
		json_object_object_foreach(dev->details, key, val)
		{
			if (!json_object_object_get_ex(o, key, NULL))
				json_object_object_add(o, key, json_object_get(val));
		}
	}
	return o;
}
