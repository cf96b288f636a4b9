/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel's uevents for PCI functions, USB devices and serial ports, straight from
 * NETLINK_KOBJECT_UEVENT (libudev's "kernel" monitor, so it works with or without udevd),
 * filtered to the pci, usb and tty subsystems in the kernel socket's BPF filter. add, remove,
 * bind, unbind, change and move each make the service read that one device again; nothing is
 * rescanned periodically.
 *
 * Below a sysroot other than "/" (a fixture root in the tests) there is no kernel behind the
 * tree, so no monitor is opened: the inventory then changes only when the service itself binds
 * devices, and a fixture that changes behind its back is not seen.
 */
#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "passthrud.h"

/*
 * An allocated device that left vfio-pci (a write to sysfs by hand: passthru's bind, unbind and
 * reset refuse it) or the bus: the allocation keeps it, shown as "lost", and says so in an
 * event.
 */
static void lost(struct daemon *d, const char *address, const struct device *dev)
{
	const struct allocation *a = allocation_of_device(&d->allocs, address);
	struct json_object *o;
	const char *now;

	if (!a || a->pending || a->releasing ||
	    (dev && strcmp(device_state(d, dev, NULL), "lost") != 0))
		return;
	now = !dev ? "removed" : dev->driver ? dev->driver : "no driver";
	fprintf(stderr, "passthrud: %s of allocation %ld (%s) is no longer on vfio-pci (%s)\n",
		address, a->id, a->owner, now);
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_int64(a->id));
	json_object_object_add(o, "owner", json_object_new_string(a->owner));
	json_object_object_add(o, "lost", json_object_new_string(address));
	json_object_object_add(o, "driver",
			       dev && dev->driver ? json_object_new_string(dev->driver) : NULL);
	events_emit(d, "allocation", o);
}

/*
 * The inventory's address of the device a uevent is about: a PCI function; a USB device, also
 * for its interfaces ("1-2:1.0": their drivers are the device's); a tty, which is a serial port
 * when the library says so (virtual terminals and ptys are not: they read as absent).
 */
static int uevent_address(struct udev_device *ud, char *ret)
{
	const char *subsystem = udev_device_get_subsystem(ud);
	const char *devtype = udev_device_get_devtype(ud);
	const char *name = udev_device_get_sysname(ud);
	_cleanup_free_ char *port = NULL;
	int kind;

	if (!subsystem || !name)
		return -EINVAL;
	if (strcmp(subsystem, "pci") == 0)
		return device_address_canonical(name, ret) == DEVICE_PCI ? 0 : -EINVAL;
	if (strcmp(subsystem, "usb") == 0 && devtype &&
	    (strcmp(devtype, "usb_device") == 0 || strcmp(devtype, "usb_interface") == 0)) {
		port = strndup(name, strcspn(name, ":"));
		if (!port)
			return -ENOMEM;
		kind = device_address_canonical(port, ret);
		return kind == DEVICE_USB ? 0 : -EINVAL;
	}
	if (strcmp(subsystem, "tty") == 0)
		return device_address_canonical(name, ret) == DEVICE_SERIAL ? 0 : -EINVAL;
	return -EINVAL;
}

static int on_uevent(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;
	struct udev_device *ud;

	/* Drain the socket: each receive returns one event, NULL when none is left. */
	while ((ud = udev_monitor_receive_device(d->monitor))) {
		const char *action = udev_device_get_action(ud);
		char canonical[DEVICE_ADDRESS_MAX + 1];
		struct json_object *o;
		bool known;
		int r;

		d->metrics.uevents++;
		if (!action || uevent_address(ud, canonical) < 0) {
			udev_device_unref(ud);
			continue;
		}
		known = inventory_find(&d->inv, canonical) != NULL;
		r = inventory_refresh(d->ctx, &d->inv, canonical);
		if (r < 0)
			fprintf(stderr, "passthrud: %s: %s: cannot read it: %s\n", canonical,
				action, strerror(-r));
		if (r > 0) {
			struct device *dev = inventory_find(&d->inv, canonical);

			/*
			 * What happened to the inventory, which is not always the uevent's action:
			 * a function removed right after its driver let go is already gone when the
			 * "unbind" is read.
			 */
			o = json_object_new_object();
			json_object_object_add(o, "action",
					       json_object_new_string(r == 2  ? "remove"
								      : known ? "change"
									      : "add"));
			json_object_object_add(o, "uevent", json_object_new_string(action));
			json_object_object_add(o, "address", json_object_new_string(canonical));
			json_object_object_add(o, "device", dev ? device_to_json(d, dev) : NULL);
			events_emit(d, "device", o);
			lost(d, canonical, dev);
			kubelet_inventory_changed(d);
		}
		udev_device_unref(ud);
	}
	return 0;
}

int uevents_start(struct daemon *d)
{
	int r;

	if (!d->real_root) {
		fprintf(stderr, "passthrud: below %s: no uevents (a fixture root has no kernel)\n",
			passthru_ctx_get_sysroot(d->ctx));
		return 0;
	}
	d->udev = udev_new();
	if (!d->udev)
		return -ENOMEM;
	d->monitor = udev_monitor_new_from_netlink(d->udev, "kernel");
	if (!d->monitor) {
		fprintf(stderr, "passthrud: cannot listen to the kernel's uevents; the inventory "
				"changes only when the service binds devices\n");
		return 0;
	}
	r = udev_monitor_filter_add_match_subsystem_devtype(d->monitor, "pci", NULL);
	if (r >= 0)
		r = udev_monitor_filter_add_match_subsystem_devtype(d->monitor, "usb", NULL);
	if (r >= 0)
		r = udev_monitor_filter_add_match_subsystem_devtype(d->monitor, "tty", NULL);
	if (r >= 0)
		r = udev_monitor_enable_receiving(d->monitor);
	if (r >= 0)
		r = sd_event_add_io(d->event, &d->monitor_source, udev_monitor_get_fd(d->monitor),
				    EPOLLIN, on_uevent, d);
	if (r < 0) {
		fprintf(stderr, "passthrud: cannot listen to the kernel's uevents: %s\n",
			strerror(-r));
		uevents_stop(d);
		return 0;
	}
	return 0;
}

void uevents_stop(struct daemon *d)
{
	d->monitor_source = sd_event_source_unref(d->monitor_source);
	d->monitor = udev_monitor_unref(d->monitor);
	d->udev = udev_unref(d->udev);
}
