/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Planning a passthru_vm_devices: what each named host device becomes in the guest (the
 * endpoints of a PCI device's IOMMU group as the functions of one guest slot, usb-host devices,
 * serial chardevs), what refuses it, and where the command line places each device.
 */
#include <stdarg.h>

#include "pci.h"
#include "qemu.h"
#include "qemu-argv.h"
#include "qemu-plan.h"
#include "serial.h"
#include "usb.h"

/* ------------------------------------------------------------------------------------------ */
/* Planning                                                                                   */

static int refuse(struct passthru_vm_devices *vd, const char *device, const char *fix,
		  const char *format, ...) _printf_(4, 5);

static int refuse(struct passthru_vm_devices *vd, const char *device, const char *fix,
		  const char *format, ...)
{
	struct vm_refusal *v = ARRAY_GROW(vd->refusals, vd->n_refusals);
	va_list ap;

	if (!v)
		return -ENOMEM;
	va_start(ap, format);
	*v = (struct vm_refusal){
	    .device = strdup(device),
	    .reason = strfv(format, ap),
	    .fix = fix ? strdup(fix) : NULL,
	};
	va_end(ap);
	if (!v->device || !v->reason || (fix && !v->fix)) {
		free(v->device);
		free(v->reason);
		free(v->fix);
		return -ENOMEM;
	}
	vd->n_refusals++;
	log_debug(vd->ctx, "%s: refused: %s", device, v->reason);
	return 0;
}

static struct guest_device *device_append(struct passthru_vm_devices *vd,
					  enum passthru_vm_device_kind kind)
{
	struct guest_device *d = ARRAY_GROW(vd->devices, vd->n_devices);

	if (!d)
		return NULL;
	d->kind = kind;
	vd->n_devices++;
	return d;
}

static struct guest_device *device_find(struct passthru_vm_devices *vd, const char *host)
{
	for (size_t i = 0; i < vd->n_devices; i++)
		if (strcmp(vd->devices[i].host, host) == 0)
			return &vd->devices[i];
	return NULL;
}

void vm_endpoints_free(struct endpoint *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].address);
		free(v[i].driver);
	}
	free(v);
}

/*
 * The endpoints of the group of a named device (the device itself included), sorted by
 * address, with their drivers. Members that vanish while we look are left out.
 */
int vm_group_endpoints(struct passthru_pci_device *dev, struct endpoint **ret, size_t *ret_n)
{
	struct passthru_iommu_group *g = NULL;
	struct endpoint *v;
	size_t n = 0;
	int r;

	r = passthru_iommu_group_new_for_device(dev, &g);
	if (r < 0)
		return r;
	v = calloc(passthru_iommu_group_count(g) + 1, sizeof(*v));
	if (!v) {
		passthru_iommu_group_unref(g);
		return -ENOMEM;
	}
	for (size_t i = 0; i < passthru_iommu_group_count(g); i++) {
		struct passthru_pci_device *m = passthru_iommu_group_get(g, i);
		const char *driver = passthru_iommu_group_get_driver(g, i);
		uint32_t cls = 0;

		if (!passthru_iommu_group_is_endpoint(g, i))
			continue;
		(void)passthru_pci_device_get_class(m, &cls);
		v[n++] = (struct endpoint){
		    .address = strdup(passthru_pci_device_get_address(m)),
		    .driver = driver ? strdup(driver) : NULL,
		    .pci_class = cls,
		};
		if (!v[n - 1].address || (driver && !v[n - 1].driver)) {
			vm_endpoints_free(v, n);
			passthru_iommu_group_unref(g);
			return -ENOMEM;
		}
	}
	passthru_iommu_group_unref(g);
	*ret = v;
	*ret_n = n;
	return 0;
}

static bool on_vfio(const struct endpoint *e)
{
	return e->driver && strcmp(e->driver, "vfio-pci") == 0;
}

/* The function of a canonical address: its last digit. */
static unsigned address_function(const char *address)
{
	return (unsigned)(address[strlen(address) - 1] - '0');
}

static int plan_pci(struct passthru_vm_devices *vd, const char *address)
{
	struct passthru_pci_device *dev = NULL;
	_cleanup_free_ char *fix = NULL;
	struct endpoint *eps = NULL;
	struct guest_device *existing;
	struct guest_slot *slot;
	size_t n_eps = 0, refusals_before = vd->n_refusals;
	bool same_slot = true, has_fn0 = false;
	const char *what;
	int group, r;

	existing = device_find(vd, address);
	if (existing) {
		/* Another named device's group already brought it in. */
		existing->requested = true;
		return 0;
	}
	r = passthru_pci_device_new(vd->ctx, address, &dev);
	if (errno_is_vanished(r))
		return refuse(vd, address, NULL, "no such PCI device");
	if (r < 0)
		return r;
	fix = strf("passthru bind %s --group", address);
	if (!fix) {
		r = -ENOMEM;
		goto out;
	}
	what = pci_device_non_endpoint(dev);
	if (what) {
		r = refuse(vd, address, NULL,
			   "is %s: vfio-pci drives endpoints only; name the devices behind it",
			   what);
		goto out;
	}
	r = passthru_pci_device_get_iommu_group(dev, &group);
	if (r == -ENOENT) {
		r = refuse(vd, address, "passthru check",
			   "is in no IOMMU group: the IOMMU is off or does not cover it");
		goto out;
	}
	if (r < 0)
		goto out;
	r = vm_group_endpoints(dev, &eps, &n_eps);
	/* The group went away with the device since it was read. */
	if (errno_is_vanished(r)) {
		r = refuse(vd, address, NULL, "no such PCI device");
		goto out;
	}
	if (r < 0)
		goto out;

	for (size_t i = 0; i < n_eps; i++) {
		bool self = strcmp(eps[i].address, address) == 0;

		if (on_vfio(&eps[i]))
			continue;
		if (self && eps[i].driver)
			r = refuse(vd, address, fix, "is on %s, not vfio-pci", eps[i].driver);
		else if (self)
			r = refuse(vd, address, fix, "has no driver, not vfio-pci");
		else if (eps[i].driver)
			r = refuse(vd, address, fix,
				   "IOMMU group %d is not viable: %s is on %s, not vfio-pci", group,
				   eps[i].address, eps[i].driver);
		else
			r = refuse(vd, address, fix,
				   "IOMMU group %d is not viable: %s has no driver, not vfio-pci",
				   group, eps[i].address);
		if (r < 0)
			goto out;
	}
	if (n_eps > GUEST_SLOT_FUNCTIONS) {
		r = refuse(vd, address, NULL,
			   "IOMMU group %d has %zu endpoints: a guest slot holds %d functions",
			   group, n_eps, GUEST_SLOT_FUNCTIONS);
		goto out;
	}
	if (vd->n_refusals > refusals_before)
		goto out;

	for (size_t i = 0; i < n_eps; i++) {
		same_slot = same_slot && pci_address_same_slot(eps[i].address, eps[0].address);
		has_fn0 = has_fn0 || address_function(eps[i].address) == 0;
	}
	slot = ARRAY_GROW(vd->slots, vd->n_slots);
	if (!slot) {
		r = -ENOMEM;
		goto out;
	}
	*slot = (struct guest_slot){.first = vd->n_devices, .count = n_eps};
	vd->n_slots++;
	for (size_t i = 0; i < n_eps; i++) {
		struct guest_device *d = device_append(vd, PASSTHRU_VM_DEVICE_PCI);

		if (!d) {
			r = -ENOMEM;
			goto out;
		}
		d->slot = vd->n_slots - 1;
		/* A GPU and its audio function keep 0 and 1, as drivers in the guest expect. */
		d->function = same_slot && has_fn0 ? address_function(eps[i].address) : (unsigned)i;
		d->pci_class = eps[i].pci_class;
		d->requested = strcmp(eps[i].address, address) == 0;
		d->host = TAKE_PTR(eps[i].address);
		d->id = qemu_id_pci(d->host);
		if (!d->host || !d->id) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = 0;
out:
	vm_endpoints_free(eps, n_eps);
	passthru_pci_device_unref(dev);
	return r;
}

static int plan_usb(struct passthru_vm_devices *vd, const char *port)
{
	struct passthru_usb_device *dev = NULL;
	struct guest_device *d;
	const char *dash;
	int r;

	if (device_find(vd, port))
		return 0;
	r = passthru_usb_device_new(vd->ctx, port, &dev);
	if (errno_is_vanished(r))
		return refuse(vd, port, NULL, "no such USB device");
	if (r < 0)
		return r;
	if (passthru_usb_device_is_root_hub(dev) || passthru_usb_device_is_hub(dev)) {
		r = refuse(vd, port, NULL,
			   "is a USB hub: QEMU's usb-host passes single devices; name the devices "
			   "behind it");
		goto out;
	}
	d = device_append(vd, PASSTHRU_VM_DEVICE_USB);
	if (!d) {
		r = -ENOMEM;
		goto out;
	}
	d->requested = true;
	d->host = strdup(port);
	d->id = qemu_id_usb(port);
	dash = strchr(port, '-');
	d->hostport = dash ? strdup(dash + 1) : NULL;
	if (!d->host || !d->id || !d->hostport) {
		r = -ENOMEM;
		goto out;
	}
	if (passthru_usb_device_get_busnum(dev, &d->busnum) < 0) {
		r = refuse(vd, port, NULL, "its bus number cannot be read");
		goto out;
	}
	if (passthru_usb_device_get_devnum(dev, &d->devnum) < 0)
		d->devnum = 0;
	d->have_ids = passthru_usb_device_get_vendor_id(dev, &d->vendor) >= 0 &&
		      passthru_usb_device_get_product_id(dev, &d->product) >= 0;
	if (vd->usb_by_id && !d->have_ids) {
		r = refuse(vd, port, NULL, "its vendor and product ids cannot be read");
		goto out;
	}
	r = 0;
out:
	passthru_usb_device_unref(dev);
	return r;
}

static int plan_serial(struct passthru_vm_devices *vd, const char *path, unsigned *serial_count)
{
	struct passthru_serial_port *port = NULL;
	struct passthru_guard_list *guards = NULL;
	struct guest_device *d;
	const char *usb;
	int r;

	if (device_find(vd, path))
		return 0;
	r = passthru_serial_port_new(vd->ctx, path, &port);
	if (errno_is_vanished(r))
		return refuse(vd, path, NULL, "no such serial port");
	if (r < 0)
		return r;
	/* usb-host takes the adapter away from the host's driver, and its tty with it. */
	usb = passthru_serial_port_get_usb_port(port);
	if (usb && strv_contains(vd->names, usb)) {
		r = refuse(vd, path, NULL,
			   "is the tty of USB device %s, which is handed over too: give the VM "
			   "either the USB device or its tty, not both",
			   usb);
		goto out;
	}
	r = passthru_guard_list_check_serial(vd->ctx, path, &guards);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < passthru_guard_list_count(guards); i++) {
		r = refuse(vd, path, passthru_guard_list_get_hint(guards, i), "%s",
			   passthru_guard_list_get_reason(guards, i));
		if (r < 0)
			goto out;
	}
	if (passthru_guard_list_count(guards) > 0) {
		r = 0;
		goto out;
	}
	/* The guard says the same today; the port's own flag keeps the refusal if it changes. */
	if (passthru_serial_port_is_console(port)) {
		r = refuse(vd, path, NULL, "%s is a host console",
			   passthru_serial_port_get_name(port));
		goto out;
	}
	d = device_append(vd, PASSTHRU_VM_DEVICE_SERIAL);
	if (!d) {
		r = -ENOMEM;
		goto out;
	}
	d->requested = true;
	d->host = strdup(path);
	d->tty = strdup(passthru_serial_port_get_name(port));
	d->id = d->tty ? qemu_id_serial(d->tty) : NULL;
	d->chardev_id = d->tty ? qemu_id_chardev(d->tty) : NULL;
	d->serial_port = ++*serial_count;
	d->pci_serial =
	    vd->serial_model == PASSTHRU_VM_SERIAL_PCI || d->serial_port > QEMU_ISA_SERIAL_MAX;
	r = d->host && d->tty && d->id && d->chardev_id ? 0 : -ENOMEM;
	if (r >= 0 && vd->serial_model == PASSTHRU_VM_SERIAL_ISA &&
	    d->serial_port == QEMU_ISA_SERIAL_MAX + 1)
		r = strv_pushf(&vd->notes,
			       "%s: pci-serial from here on: QEMU gives a machine at most %d "
			       "isa-serial ports",
			       path, QEMU_ISA_SERIAL_MAX);
out:
	passthru_guard_list_unref(guards);
	passthru_serial_port_unref(port);
	return r;
}

static bool is_vga_class(uint32_t cls)
{
	return (cls >> 8) == 0x0300;
}

/* --vga and --romfile: which guest device they go to. */
static int plan_options(struct passthru_vm_devices *vd)
{
	int r;

	if (vd->vga) {
		struct guest_device *vga = NULL;
		size_t count = 0;

		for (size_t i = 0; i < vd->n_devices; i++) {
			struct guest_device *d = &vd->devices[i];

			if (d->kind != PASSTHRU_VM_DEVICE_PCI)
				continue;
			if (vd->vga_address ? strcmp(d->host, vd->vga_address) == 0
					    : is_vga_class(d->pci_class)) {
				vga = d;
				count++;
			}
		}
		if (vd->vga_address && !vga)
			return refuse(vd, "--vga", NULL, "%s is not among the PCI devices",
				      vd->vga_address);
		if (!vga)
			return refuse(vd, "--vga", NULL, "no VGA controller among the PCI devices");
		if (count > 1)
			return refuse(vd, "--vga", NULL,
				      "%zu VGA controllers among the PCI devices: name one", count);
		if (!is_vga_class(vga->pci_class)) {
			r = refuse(vd, "--vga", NULL,
				   "%s is no VGA controller (class %06x): x-vga needs one",
				   vga->host, vga->pci_class);
			if (r < 0)
				return r;
		}
		vga->x_vga = true;
	}
	if (vd->romfile) {
		const char *target = vd->romfile_address;
		struct guest_device *d;

		for (size_t i = 0; !target && i < vd->n_names; i++)
			if (vd->kinds[i] == PASSTHRU_VM_DEVICE_PCI)
				target = vd->names[i];
		if (!target)
			return refuse(vd, "--romfile", NULL, "no PCI device to give the ROM to");
		d = device_find(vd, target);
		if (!d || d->kind != PASSTHRU_VM_DEVICE_PCI)
			return refuse(vd, "--romfile", NULL, "%s is not among the PCI devices",
				      target);
		d->romfile = strdup(vd->romfile);
		if (!d->romfile)
			return -ENOMEM;
	}
	return 0;
}

/* By ids, QEMU's usb-host takes the first device it finds with them (libvirt refuses). */
static int note_usb_id_twins(struct passthru_vm_devices *vd)
{
	struct passthru_usb_list *list = NULL;
	int r = 0;

	if (!vd->usb_by_id)
		return 0;
	for (size_t i = 0; i < vd->n_devices && r >= 0; i++) {
		struct guest_device *d = &vd->devices[i];

		if (d->kind != PASSTHRU_VM_DEVICE_USB || !d->have_ids)
			continue;
		if (!list) {
			r = passthru_usb_list_scan(vd->ctx, &list);
			if (r < 0)
				return r;
		}
		for (size_t j = 0; j < passthru_usb_list_count(list) && r >= 0; j++) {
			struct passthru_usb_device *o = passthru_usb_list_get(list, j);
			uint16_t v, p;

			if (strcmp(passthru_usb_device_get_port(o), d->host) == 0 ||
			    passthru_usb_device_get_vendor_id(o, &v) < 0 ||
			    passthru_usb_device_get_product_id(o, &p) < 0 || v != d->vendor ||
			    p != d->product)
				continue;
			r = strv_pushf(
			    &vd->notes,
			    "%s: %s has the same ids %04x:%04x: by ids, the VM may get "
			    "either; name USB devices by port (or by address) to be sure",
			    d->host, passthru_usb_device_get_port(o), v, p);
		}
	}
	passthru_usb_list_unref(list);
	return r;
}

int guest_device_set_placement(struct guest_device *d, const char *bus, const char *addr)
{
	int r = vm_replace_string(&d->bus, bus);

	return r < 0 ? r : vm_replace_string(&d->addr, addr);
}

/*
 * The pcie-root-port of slot s (the slots before it have theirs), named and numbered after the
 * host address of its first function so that a device keeps its port from one command line to
 * the next. QEMU refuses two ports with one id or one (chassis, slot) pair: domains equal in
 * their low seven bits (0000 and 10000 under Intel VMD) give equal pairs, so a taken pair moves
 * on to the next chassis; functions of one host slot in separate IOMMU groups give equal ids,
 * so a taken id gets the function too.
 */
static int place_root_port(struct passthru_vm_devices *vd, size_t s)
{
	struct guest_slot *slot = &vd->slots[s];
	const char *first = vd->devices[slot->first].host;
	unsigned domain, bus, dev, fn;
	int r;

	r = pci_address_parse_fields(first, &domain, &bus, &dev, &fn);
	if (r < 0)
		return r;
	slot->root_port_id = qemu_id_root_port(first);
	if (!slot->root_port_id)
		return -ENOMEM;
	for (size_t i = 0; i < s; i++)
		if (strcmp(vd->slots[i].root_port_id, slot->root_port_id) == 0) {
			char *id = strf("%s.%u", slot->root_port_id, fn);

			if (!id)
				return -ENOMEM;
			free(slot->root_port_id);
			slot->root_port_id = id;
			break;
		}
	slot->chassis = QEMU_ROOT_PORT_CHASSIS + (domain & 0x7f);
	slot->port_slot = bus * 32 + dev;
	/* A chassis number is 8 bits; 255 ports of one slot number would be needed to run out. */
	for (unsigned tries = 0;; tries++) {
		bool taken = false;

		for (size_t i = 0; i < s && !taken; i++)
			taken = vd->slots[i].chassis == slot->chassis &&
				vd->slots[i].port_slot == slot->port_slot;
		if (!taken)
			return 0;
		if (tries == 255)
			return refuse(vd, first, NULL, "no free pcie-root-port chassis number");
		slot->chassis = slot->chassis % 255 + 1;
	}
}

/* Where the command line puts each device (attach decides again from the running VM). */
static int place_for_command_line(struct passthru_vm_devices *vd)
{
	unsigned pc_multifunction = 0;
	int r;

	for (size_t s = 0; s < vd->n_slots; s++) {
		struct guest_slot *slot = &vd->slots[s];

		if (vd->machine == PASSTHRU_VM_MACHINE_Q35) {
			r = place_root_port(vd, s);
			if (r < 0)
				return r;
		}
		for (size_t i = slot->first; i < slot->first + slot->count; i++) {
			struct guest_device *d = &vd->devices[i];
			_cleanup_free_ char *addr = NULL;

			d->multifunction = slot->count > 1 && d->function == 0;
			if (vd->machine == PASSTHRU_VM_MACHINE_Q35) {
				if (slot->count > 1 && !(addr = strf("0.%x", d->function)))
					return -ENOMEM;
				r = guest_device_set_placement(d, slot->root_port_id, addr);
			} else if (slot->count > 1) {
				if (!(addr = strf("%x.%x", 0x10 + pc_multifunction, d->function)))
					return -ENOMEM;
				r = guest_device_set_placement(d, "pci.0", addr);
			} else {
				r = 0;
			}
			if (r < 0)
				return r;
		}
		if (vd->machine == PASSTHRU_VM_MACHINE_PC && slot->count > 1)
			pc_multifunction++;
	}
	if (pc_multifunction > 0x20 - 0x10)
		return refuse(vd, vd->devices[0].host, NULL,
			      "more multi-function slots than pci.0 has from 0x10 up");
	for (size_t i = 0; i < vd->n_devices; i++)
		if (vd->devices[i].kind == PASSTHRU_VM_DEVICE_USB) {
			r = guest_device_set_placement(
			    &vd->devices[i], vd->usb_bus ? vd->usb_bus : QEMU_XHCI_BUS, NULL);
			if (r < 0)
				return r;
		}
	return 0;
}

_public_ int passthru_vm_devices_plan(struct passthru_vm_devices *vd)
{
	unsigned serial_count = 0;
	int r = 0;

	if (!vd)
		return -EINVAL;
	vm_devices_plan_clear(vd);
	/* PCI slots first, then USB, then serial ports: the order of the command line. */
	for (int kind = PASSTHRU_VM_DEVICE_PCI; kind <= PASSTHRU_VM_DEVICE_SERIAL; kind++)
		for (size_t i = 0; i < vd->n_names && r >= 0; i++) {
			if ((int)vd->kinds[i] != kind)
				continue;
			if (kind == PASSTHRU_VM_DEVICE_PCI)
				r = plan_pci(vd, vd->names[i]);
			else if (kind == PASSTHRU_VM_DEVICE_USB)
				r = plan_usb(vd, vd->names[i]);
			else
				r = plan_serial(vd, vd->names[i], &serial_count);
		}
	/* --vga and --romfile are judged on devices that are all there. */
	if (r >= 0 && vd->n_refusals == 0)
		r = plan_options(vd);
	if (r >= 0)
		r = note_usb_id_twins(vd);
	if (r >= 0 && vd->n_refusals == 0)
		r = place_for_command_line(vd);
	if (r >= 0 && vd->n_refusals == 0)
		r = vm_devices_build_argv(vd);
	if (r < 0) {
		vm_devices_plan_clear(vd);
		return r;
	}
	if (vd->n_refusals > 0) {
		/* Keep the refusals and notes, not a half-made plan. */
		for (size_t i = 0; i < vd->n_devices; i++)
			guest_device_done(&vd->devices[i]);
		vd->n_devices = 0;
		for (size_t i = 0; i < vd->n_slots; i++)
			free(vd->slots[i].root_port_id);
		vd->n_slots = 0;
		strv_free(vd->argv);
		vd->argv = NULL;
		return -EPERM;
	}
	vd->planned = true;
	return 0;
}
