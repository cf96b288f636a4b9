/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * QEMU's words for a plan: the properties of each guest device, rendered as "-device" options
 * for the command line (and as device_add arguments by qemu-hotplug.c).
 */
#include <stdarg.h>

#include "pci.h"
#include "qemu.h"
#include "qemu-argv.h"

/* ------------------------------------------------------------------------------------------ */
/* Properties and the command line                                                            */

static int props_add(char ***props, const char *key, const char *value)
{
	int r = strv_push(props, key);

	return r < 0 ? r : strv_push(props, value);
}

int guest_device_props(const struct passthru_vm_devices *vd, const struct guest_device *d,
		       char ***ret)
{
	_cleanup_strv_free_ char **p = NULL;
	unsigned domain, bus, dev, fn;
	char buf[32];
	int r;

	switch (d->kind) {
	case PASSTHRU_VM_DEVICE_PCI:
		r = props_add(&p, "driver", "vfio-pci");
		/*
		 * QEMU's host= refuses domains above 0xffff (Intel VMD, Hyper-V); sysfsdev=
		 * names the same device by its host sysfs directory, whatever the domain.
		 */
		if (r >= 0 && pci_address_parse_fields(d->host, &domain, &bus, &dev, &fn) >= 0 &&
		    domain > 0xffff) {
			_cleanup_free_ char *sysfsdev = strf("/sys/bus/pci/devices/%s", d->host);

			r = sysfsdev ? props_add(&p, "sysfsdev", sysfsdev) : -ENOMEM;
		} else if (r >= 0)
			r = props_add(&p, "host", d->host);
		break;
	case PASSTHRU_VM_DEVICE_USB:
		r = props_add(&p, "driver", "usb-host");
		if (r >= 0 && vd->usb_by_id) {
			snprintf(buf, sizeof(buf), "0x%04x", d->vendor);
			r = props_add(&p, "vendorid", buf);
			snprintf(buf, sizeof(buf), "0x%04x", d->product);
			if (r >= 0)
				r = props_add(&p, "productid", buf);
		} else if (r >= 0) {
			snprintf(buf, sizeof(buf), "%u", d->busnum);
			r = props_add(&p, "hostbus", buf);
			if (r >= 0)
				r = props_add(&p, "hostport", d->hostport);
		}
		break;
	case PASSTHRU_VM_DEVICE_SERIAL:
		r = props_add(&p, "driver", d->pci_serial ? "pci-serial" : "isa-serial");
		if (r >= 0)
			r = props_add(&p, "chardev", d->chardev_id);
		break;
	default:
		return -EINVAL;
	}
	if (r >= 0)
		r = props_add(&p, "id", d->id);
	if (r >= 0 && d->bus)
		r = props_add(&p, "bus", d->bus);
	if (r >= 0 && d->addr)
		r = props_add(&p, "addr", d->addr);
	if (r >= 0 && d->multifunction)
		r = props_add(&p, "multifunction", "on");
	if (r >= 0 && d->x_vga)
		r = props_add(&p, "x-vga", "on");
	if (r >= 0 && d->romfile)
		r = props_add(&p, "romfile", d->romfile);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(p);
	return 0;
}

char *qemu_props_to_option(char *const *props)
{
	size_t size = 0;
	char *s = NULL;
	FILE *f;
	bool ok = true;

	f = open_memstream(&s, &size);
	if (!f)
		return NULL;
	for (size_t i = 0; props[i] && props[i + 1]; i += 2) {
		_cleanup_free_ char *v = qemu_escape_value(props[i + 1]);

		if (!v) {
			ok = false;
			break;
		}
		/* The first pair is the driver (or the chardev backend): its value stands alone. */
		if (i == 0)
			fputs(v, f);
		else
			fprintf(f, ",%s=%s", props[i], v);
	}
	if (fclose(f) != 0 || !ok) {
		free(s);
		return NULL;
	}
	return s;
}

static int argv_add_option(char ***argv, const char *option, char *const *props)
{
	char *value = qemu_props_to_option(props);
	int r;

	if (!value)
		return -ENOMEM;
	r = strv_push(argv, option);
	return r < 0 ? (free(value), r) : strv_consume(argv, value);
}

static int argv_add_device(struct passthru_vm_devices *vd, const struct guest_device *d)
{
	_cleanup_strv_free_ char **props = NULL;
	int r = guest_device_props(vd, d, &props);

	return r < 0 ? r : argv_add_option(&vd->argv, "-device", props);
}

static int argv_add_slot(struct passthru_vm_devices *vd, const struct guest_slot *slot)
{
	int r;

	if (slot->root_port_id) {
		_cleanup_strv_free_ char **props = NULL;
		char chassis[16], port_slot[16];

		snprintf(chassis, sizeof(chassis), "%u", slot->chassis);
		snprintf(port_slot, sizeof(port_slot), "%u", slot->port_slot);
		r = props_add(&props, "driver", "pcie-root-port");
		if (r >= 0)
			r = props_add(&props, "id", slot->root_port_id);
		if (r >= 0)
			r = props_add(&props, "bus", "pcie.0");
		if (r >= 0)
			r = props_add(&props, "chassis", chassis);
		if (r >= 0)
			r = props_add(&props, "slot", port_slot);
		if (r >= 0)
			r = argv_add_option(&vd->argv, "-device", props);
		if (r < 0)
			return r;
	}
	for (size_t i = slot->first; i < slot->first + slot->count; i++) {
		r = argv_add_device(vd, &vd->devices[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

int vm_devices_build_argv(struct passthru_vm_devices *vd)
{
	bool usb = false;
	int r;

	/* On pc, the slots with fixed addresses first: QEMU fills free slots in option order. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t s = 0; s < vd->n_slots; s++) {
			bool fixed =
			    vd->machine == PASSTHRU_VM_MACHINE_PC && vd->slots[s].count > 1;

			if (vd->machine == PASSTHRU_VM_MACHINE_Q35 ? pass == 1
								   : fixed != (pass == 0))
				continue;
			r = argv_add_slot(vd, &vd->slots[s]);
			if (r < 0)
				return r;
		}
	for (size_t i = 0; i < vd->n_devices; i++) {
		const struct guest_device *d = &vd->devices[i];

		if (d->kind != PASSTHRU_VM_DEVICE_USB)
			continue;
		if (!usb && !vd->usb_bus) {
			char *const props[] = {"driver", "qemu-xhci", "id", QEMU_ID_XHCI, NULL};

			r = argv_add_option(&vd->argv, "-device", props);
			if (r < 0)
				return r;
		}
		usb = true;
		r = argv_add_device(vd, d);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < vd->n_devices; i++) {
		const struct guest_device *d = &vd->devices[i];

		if (d->kind != PASSTHRU_VM_DEVICE_SERIAL)
			continue;
		{
			char *const props[] = {"backend", "serial", "id", d->chardev_id,
					       "path",	  d->host,  NULL};

			r = argv_add_option(&vd->argv, "-chardev", props);
		}
		if (r >= 0)
			r = argv_add_device(vd, d);
		if (r < 0)
			return r;
	}
	return 0;
}
