/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirt domain XML for the devices of a plan: what `virsh attach-device` takes and what goes
 * inside a domain's <devices>. The shapes are those of libvirt's domaincommon.rng:
 * - PCI: <hostdev mode='subsystem' type='pci' managed='no'> with the host address in
 *   <source><address domain= bus= slot= function=/></source>. managed='no' because passthru,
 *   not libvirt, moves the device to vfio-pci (and keeps the whole group there).
 * - USB: <hostdev mode='subsystem' type='usb'> by <vendor id=/><product id=/>, or by
 *   <address bus= device=/> (the device number, which changes when the device is re-plugged:
 *   libvirt has no port path).
 * - Serial: <serial type='dev'><source path=/><target port=/></serial>.
 */
#include <stdio.h>

#include "qemu.h"

static int write_pci(FILE *f, const struct guest_device *d)
{
	unsigned domain, bus, dev, fn;

	if (sscanf(d->host, "%x:%x:%x.%x", &domain, &bus, &dev, &fn) != 4)
		return -EINVAL;
	fprintf(f,
		"<hostdev mode='subsystem' type='pci' managed='no'>\n"
		"  <source>\n"
		"    <address domain='0x%04x' bus='0x%02x' slot='0x%02x' function='0x%x'/>\n"
		"  </source>\n",
		domain, bus, dev, fn);
	if (d->romfile) {
		_cleanup_free_ char *file = xml_escape_attribute(d->romfile);

		if (!file)
			return -ENOMEM;
		fprintf(f, "  <rom file='%s'/>\n", file);
	}
	fputs("</hostdev>\n", f);
	return 0;
}

static void write_usb(FILE *f, const struct guest_device *d, bool by_id)
{
	fputs("<hostdev mode='subsystem' type='usb'>\n"
	      "  <source>\n",
	      f);
	if (by_id)
		fprintf(f,
			"    <vendor id='0x%04x'/>\n"
			"    <product id='0x%04x'/>\n",
			d->vendor, d->product);
	else
		fprintf(f, "    <address bus='%u' device='%u'/>\n", d->busnum, d->devnum);
	fputs("  </source>\n"
	      "</hostdev>\n",
	      f);
}

static int write_serial(FILE *f, const struct guest_device *d)
{
	_cleanup_free_ char *path = xml_escape_attribute(d->host);

	if (!path)
		return -ENOMEM;
	fprintf(f,
		"<serial type='dev'>\n"
		"  <source path='%s'/>\n",
		path);
	if (d->pci_serial)
		fprintf(f,
			"  <target type='pci-serial' port='%u'>\n"
			"    <model name='pci-serial'/>\n"
			"  </target>\n",
			d->serial_port);
	else
		fprintf(f, "  <target port='%u'/>\n", d->serial_port);
	fputs("</serial>\n", f);
	return 0;
}

_public_ int passthru_vm_devices_get_libvirt_xml(struct passthru_vm_devices *vd, char **ret)
{
	char *s = NULL;
	size_t size = 0;
	FILE *f;
	int r = 0;

	if (!vd || !ret)
		return -EINVAL;
	if (!vd->planned)
		return -EPERM;
	for (size_t i = 0; i < vd->n_devices; i++) {
		const struct guest_device *d = &vd->devices[i];

		if (d->romfile && d->romfile[0] != '/')
			return -EINVAL;
		/* Planned without usb_by_id, the ids may be unknown; by address needs none. */
		if (d->kind == PASSTHRU_VM_DEVICE_USB && vd->usb_by_id && !d->have_ids)
			return vm_devices_set_error(
			    vd, -ENODATA, "%s: its vendor and product ids cannot be read", d->host);
		/* By address libvirt needs the device number: 0 would name no device at all. */
		if (d->kind == PASSTHRU_VM_DEVICE_USB && !vd->usb_by_id && d->devnum == 0)
			return vm_devices_set_error(
			    vd, -ENODATA, "%s: its device number cannot be read (devnum)", d->host);
	}
	f = open_memstream(&s, &size);
	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < vd->n_devices && r >= 0; i++) {
		const struct guest_device *d = &vd->devices[i];

		switch (d->kind) {
		case PASSTHRU_VM_DEVICE_PCI:
			r = write_pci(f, d);
			break;
		case PASSTHRU_VM_DEVICE_USB:
			write_usb(f, d, vd->usb_by_id);
			break;
		case PASSTHRU_VM_DEVICE_SERIAL:
			r = write_serial(f, d);
			break;
		}
	}
	if (fclose(f) != 0 && r >= 0)
		r = -ENOMEM;
	if (r < 0) {
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}
