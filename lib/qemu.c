/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host devices for a QEMU VM: what a set of host devices becomes in the guest (vfio-pci
 * functions of one guest slot per IOMMU group, usb-host devices, serial chardevs), whether the
 * host is ready to give them, QEMU's command-line options for them, and hot-plugging them into
 * and out of a running VM over QMP (qmp.c is the client).
 *
 * Why a whole IOMMU group: VFIO hands a group to one user or not at all, so every endpoint of
 * the group must be on vfio-pci before QEMU can open any of them ("group not viable"), and the
 * other endpoints (a GPU's HDMI audio function) belong in the same VM. Bridges in a group stay
 * with their host driver: the kernel lets pcieport keep them.
 */
#include <stdarg.h>

#include "pci.h"
#include "qemu.h"
#include "pci.h"
#include "qmp.h"
#include "serial.h"
#include "usb.h"

/* ------------------------------------------------------------------------------------------ */
/* Text                                                                                       */

char *qemu_escape_value(const char *value)
{
	size_t n = 0;
	char *s, *p;

	for (const char *c = value; *c; c++)
		n += *c == ',' ? 2 : 1;
	s = malloc(n + 1);
	if (!s)
		return NULL;
	p = s;
	for (const char *c = value; *c; c++) {
		*p++ = *c;
		if (*c == ',')
			*p++ = ',';
	}
	*p = '\0';
	return s;
}

char *qemu_unescape_value(const char *escaped)
{
	char *s = malloc(strlen(escaped) + 1), *p = s;

	if (!s)
		return NULL;
	for (const char *c = escaped; *c; c++) {
		if (*c == ',') {
			if (c[1] != ',') {
				free(s);
				return NULL;
			}
			c++;
		}
		*p++ = *c;
	}
	*p = '\0';
	return s;
}

char *xml_escape_attribute(const char *value)
{
	size_t n = 0;
	char *s, *p;

	for (const char *c = value; *c; c++)
		switch (*c) {
		case '&':
			n += 5;
			break;
		case '<':
		case '>':
			n += 4;
			break;
		case '\'':
		case '"':
			n += 6;
			break;
		default:
			n++;
		}
	s = malloc(n + 1);
	if (!s)
		return NULL;
	p = s;
	for (const char *c = value; *c; c++) {
		const char *e = NULL;

		switch (*c) {
		case '&':
			e = "&amp;";
			break;
		case '<':
			e = "&lt;";
			break;
		case '>':
			e = "&gt;";
			break;
		case '\'':
			e = "&apos;";
			break;
		case '"':
			e = "&quot;";
			break;
		}
		if (e) {
			memcpy(p, e, strlen(e));
			p += strlen(e);
		} else {
			*p++ = *c;
		}
	}
	*p = '\0';
	return s;
}

/* "0000:01:00.0" -> "0000-01-00.0" (QEMU ids take no ':'). */
static char *address_for_id(const char *address, bool with_function)
{
	char *s = strdup(address), *dot;

	if (!s)
		return NULL;
	for (char *c = s; *c; c++)
		if (*c == ':')
			*c = '-';
	if (!with_function && (dot = strrchr(s, '.')))
		*dot = '\0';
	return s;
}

char *qemu_id_pci(const char *address)
{
	_cleanup_free_ char *a = address_for_id(address, true);

	return a ? strf("pt-%s", a) : NULL;
}

char *qemu_id_root_port(const char *address)
{
	_cleanup_free_ char *a = address_for_id(address, false);

	return a ? strf("pt-rp-%s", a) : NULL;
}

char *qemu_id_usb(const char *port)
{
	if (!port)
		return NULL;
	return strf("pt-usb-%s", port);
}

char *qemu_id_serial(const char *tty)
{
	if (!tty)
		return NULL;
	return strf("pt-%s", tty);
}

char *qemu_id_chardev(const char *tty)
{
	return strf("pt-chr-%s", tty);
}

/* QEMU's id_wellformed(): a letter, then letters, digits, '-', '.', '_'. */
static bool qemu_id_is_valid(const char *id)
{
	static const char rest[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789-._";

	if (!id || !((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z')))
		return false;
	return strspn(id, rest) == strlen(id) && strlen(id) <= 128;
}

/* ------------------------------------------------------------------------------------------ */
/* The object                                                                                 */

static void guest_device_done(struct guest_device *d)
{
	free(d->host);
	free(d->id);
	free(d->romfile);
	free(d->hostport);
	free(d->tty);
	free(d->chardev_id);
	free(d->bus);
	free(d->addr);
}

/* Forgets the plan: settings changed, or a new plan starts. */
static void plan_clear(struct passthru_vm_devices *vd)
{
	for (size_t i = 0; i < vd->n_devices; i++)
		guest_device_done(&vd->devices[i]);
	free(vd->devices);
	vd->devices = NULL;
	vd->n_devices = 0;
	for (size_t i = 0; i < vd->n_slots; i++)
		free(vd->slots[i].root_port_id);
	free(vd->slots);
	vd->slots = NULL;
	vd->n_slots = 0;
	for (size_t i = 0; i < vd->n_refusals; i++) {
		free(vd->refusals[i].device);
		free(vd->refusals[i].reason);
		free(vd->refusals[i].fix);
	}
	free(vd->refusals);
	vd->refusals = NULL;
	vd->n_refusals = 0;
	strv_free(vd->notes);
	vd->notes = NULL;
	strv_free(vd->argv);
	vd->argv = NULL;
	vd->planned = false;
}

_public_ int passthru_vm_devices_new(struct passthru_ctx *ctx, struct passthru_vm_devices **ret)
{
	struct passthru_vm_devices *vd;

	if (!ctx || !ret)
		return -EINVAL;
	vd = calloc(1, sizeof(*vd));
	if (!vd)
		return -ENOMEM;
	vd->refcount = 1;
	vd->ctx = passthru_ctx_ref(ctx);
	vd->machine = PASSTHRU_VM_MACHINE_Q35;
	vd->serial_model = PASSTHRU_VM_SERIAL_ISA;
	*ret = vd;
	return 0;
}

static void outcomes_free(struct passthru_vm_devices *vd)
{
	for (size_t i = 0; vd->outcomes && i < vd->n_names; i++)
		free(vd->outcomes[i].reason);
	free(vd->outcomes);
	vd->outcomes = NULL;
}

static void vm_devices_free(struct passthru_vm_devices *vd)
{
	plan_clear(vd);
	strv_free(vd->names);
	free(vd->kinds);
	free(vd->vga_address);
	free(vd->romfile);
	free(vd->romfile_address);
	free(vd->usb_bus);
	free(vd->error);
	outcomes_free(vd);
	passthru_ctx_unref(vd->ctx);
	free(vd);
}

DEFINE_REF_UNREF_FUNC(_public_, struct passthru_vm_devices, passthru_vm_devices, vm_devices_free);

static bool name_is_usb(const char *name)
{
	struct usb_port_path p;

	return usb_port_path_parse(name, &p) >= 0;
}

_public_ int passthru_vm_device_kind_of(const char *name, enum passthru_vm_device_kind *ret)
{
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	const char *tty;

	if (!name || !ret)
		return -EINVAL;
	/* A USB port path ("1-2") is also a well-formed tty name: ask USB first. */
	if (passthru_pci_address_parse(name, address) >= 0)
		*ret = PASSTHRU_VM_DEVICE_PCI;
	else if (name_is_usb(name))
		*ret = PASSTHRU_VM_DEVICE_USB;
	else if (tty_name_parse(name, &tty) >= 0)
		*ret = PASSTHRU_VM_DEVICE_SERIAL;
	else
		return -EINVAL;
	return 0;
}

/*
 * The kind of a device that exists and its canonical name: the kernel's PCI address, port path,
 * tty path. -EINVAL for a name of no kind (passthru_vm_device_kind_of()).
 */
static int device_canonical_name(struct passthru_ctx *ctx, const char *name,
				 enum passthru_vm_device_kind *ret_kind, char **ret)
{
	char address[PASSTHRU_PCI_ADDRESS_LEN + 1];
	enum passthru_vm_device_kind kind;
	char *s;
	int r;

	r = passthru_vm_device_kind_of(name, &kind);
	if (r < 0)
		return r;
	switch (kind) {
	case PASSTHRU_VM_DEVICE_PCI: {
		struct passthru_pci_device *dev = NULL;

		r = passthru_pci_address_parse(name, address);
		if (r < 0)
			return r;
		r = passthru_pci_device_new(ctx, address, &dev);
		if (r < 0)
			return r;
		passthru_pci_device_unref(dev);
		s = strdup(address);
		break;
	}
	case PASSTHRU_VM_DEVICE_USB: {
		struct passthru_usb_device *dev = NULL;

		r = passthru_usb_device_new(ctx, name, &dev);
		if (r < 0)
			return r;
		s = strdup(passthru_usb_device_get_port(dev));
		passthru_usb_device_unref(dev);
		break;
	}
	case PASSTHRU_VM_DEVICE_SERIAL: {
		struct passthru_serial_port *port = NULL;

		r = passthru_serial_port_new(ctx, name, &port);
		if (r < 0)
			return r;
		s = strdup(passthru_serial_port_get_path(port));
		passthru_serial_port_unref(port);
		break;
	}
	default:
		return -EINVAL;
	}
	if (!s)
		return -ENOMEM;
	*ret_kind = kind;
	*ret = s;
	return 0;
}

_public_ int passthru_vm_devices_add(struct passthru_vm_devices *vd, const char *name)
{
	enum passthru_vm_device_kind kind;
	_cleanup_free_ char *canonical = NULL;
	int r;

	if (!vd)
		return -EINVAL;
	r = device_canonical_name(vd->ctx, name, &kind, &canonical);
	if (r < 0)
		return errno_is_vanished(r) ? -ENODEV : r;
	if (strv_contains(vd->names, canonical))
		return 0;
	if (!ARRAY_GROW(vd->kinds, vd->n_names))
		return -ENOMEM;
	r = strv_consume(&vd->names, TAKE_PTR(canonical));
	if (r < 0)
		return r;
	outcomes_free(vd); /* sized by the names */
	vd->kinds[vd->n_names++] = kind;
	plan_clear(vd);
	return 0;
}

_public_ int passthru_vm_devices_set_machine(struct passthru_vm_devices *vd, const char *machine)
{
	if (!vd || !machine)
		return -EINVAL;
	if (strcmp(machine, "q35") == 0 || strncmp(machine, "pc-q35-", 7) == 0)
		vd->machine = PASSTHRU_VM_MACHINE_Q35;
	else if (strcmp(machine, "pc") == 0 || strncmp(machine, "pc-i440fx-", 10) == 0)
		vd->machine = PASSTHRU_VM_MACHINE_PC;
	else
		return -EINVAL;
	plan_clear(vd);
	return 0;
}

static int replace_string(char **where, const char *value)
{
	char *s = NULL;

	if (value) {
		s = strdup(value);
		if (!s)
			return -ENOMEM;
	}
	free(*where);
	*where = s;
	return 0;
}

/* An optional PCI address argument in canonical form; NULL stays NULL. */
static int canonical_address(const char *address, char **ret)
{
	char a[PASSTHRU_PCI_ADDRESS_LEN + 1];
	char *s = NULL;

	if (address) {
		if (passthru_pci_address_parse(address, a) < 0)
			return -EINVAL;
		s = strdup(a);
		if (!s)
			return -ENOMEM;
	}
	*ret = s;
	return 0;
}

_public_ int passthru_vm_devices_set_vga(struct passthru_vm_devices *vd, bool vga,
					 const char *address)
{
	char *a;
	int r;

	if (!vd)
		return -EINVAL;
	r = canonical_address(address, &a);
	if (r < 0)
		return r;
	free(vd->vga_address);
	vd->vga_address = a;
	vd->vga = vga;
	plan_clear(vd);
	return 0;
}

_public_ int passthru_vm_devices_set_romfile(struct passthru_vm_devices *vd, const char *address,
					     const char *file)
{
	char *a;
	int r;

	if (!vd || (file && !*file))
		return -EINVAL;
	r = canonical_address(address, &a);
	if (r < 0)
		return r;
	r = replace_string(&vd->romfile, file);
	if (r < 0) {
		free(a);
		return r;
	}
	free(vd->romfile_address);
	vd->romfile_address = a;
	plan_clear(vd);
	return 0;
}

_public_ void passthru_vm_devices_set_usb_by_id(struct passthru_vm_devices *vd, bool by_id)
{
	if (!vd)
		return;
	vd->usb_by_id = by_id;
	plan_clear(vd);
}

_public_ int passthru_vm_devices_set_usb_bus(struct passthru_vm_devices *vd, const char *bus)
{
	int r;

	if (!vd)
		return -EINVAL;
	/* A bus name is a device id with ".N" appended: the same characters. */
	if (bus && !qemu_id_is_valid(bus))
		return -EINVAL;
	r = replace_string(&vd->usb_bus, bus);
	if (r < 0)
		return r;
	plan_clear(vd);
	return 0;
}

_public_ void passthru_vm_devices_set_serial_model(struct passthru_vm_devices *vd,
						   enum passthru_vm_serial_model model)
{
	if (!vd)
		return;
	vd->serial_model = model;
	plan_clear(vd);
}

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

struct endpoint {
	char *address;
	char *driver;
	uint32_t pci_class;
};

static void endpoints_free(struct endpoint *v, size_t n)
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
static int group_endpoints(struct passthru_vm_devices *vd, struct passthru_pci_device *dev,
			   struct endpoint **ret, size_t *ret_n)
{
	const char *const *members = passthru_pci_device_get_iommu_group_members(dev);
	struct endpoint *v = NULL;
	size_t n = 0;

	for (size_t i = 0; members[i]; i++) {
		struct passthru_pci_device *m = NULL;
		struct endpoint *nv;
		const char *driver;
		uint32_t cls = 0;
		int r;

		if (strcmp(members[i], passthru_pci_device_get_address(dev)) == 0) {
			m = passthru_pci_device_ref(dev);
		} else {
			r = passthru_pci_device_new(vd->ctx, members[i], &m);
			if (errno_is_vanished(r))
				continue;
			if (r < 0) {
				endpoints_free(v, n);
				return r;
			}
		}
		if (pci_device_non_endpoint(m)) {
			passthru_pci_device_unref(m);
			continue;
		}
		nv = ARRAY_GROW(v, n);
		if (!nv) {
			passthru_pci_device_unref(m);
			endpoints_free(v, n);
			return -ENOMEM;
		}
		driver = passthru_pci_device_get_driver(m);
		(void)passthru_pci_device_get_class(m, &cls);
		*nv = (struct endpoint){
		    .address = strdup(passthru_pci_device_get_address(m)),
		    .driver = driver ? strdup(driver) : NULL,
		    .pci_class = cls,
		};
		passthru_pci_device_unref(m);
		n++;
		if (!v[n - 1].address || (driver && !v[n - 1].driver)) {
			endpoints_free(v, n);
			return -ENOMEM;
		}
	}
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
	r = group_endpoints(vd, dev, &eps, &n_eps);
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
	endpoints_free(eps, n_eps);
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

static int set_placement(struct guest_device *d, const char *bus, const char *addr)
{
	int r = replace_string(&d->bus, bus);

	return r < 0 ? r : replace_string(&d->addr, addr);
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
				r = set_placement(d, slot->root_port_id, addr);
			} else if (slot->count > 1) {
				if (!(addr = strf("%x.%x", 0x10 + pc_multifunction, d->function)))
					return -ENOMEM;
				r = set_placement(d, "pci.0", addr);
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
			r = set_placement(&vd->devices[i],
					  vd->usb_bus ? vd->usb_bus : QEMU_XHCI_BUS, NULL);
			if (r < 0)
				return r;
		}
	return 0;
}

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

static int build_argv(struct passthru_vm_devices *vd)
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

_public_ int passthru_vm_devices_plan(struct passthru_vm_devices *vd)
{
	unsigned serial_count = 0;
	int r = 0;

	if (!vd)
		return -EINVAL;
	plan_clear(vd);
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
		r = build_argv(vd);
	if (r < 0) {
		plan_clear(vd);
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

/* ------------------------------------------------------------------------------------------ */
/* Getters                                                                                    */

_public_ size_t passthru_vm_devices_get_refusal_count(const struct passthru_vm_devices *vd)
{
	return vd ? vd->n_refusals : 0;
}

_public_ const char *passthru_vm_devices_get_refusal_device(const struct passthru_vm_devices *vd,
							    size_t index)
{
	return vd && index < vd->n_refusals ? vd->refusals[index].device : NULL;
}

_public_ const char *passthru_vm_devices_get_refusal_reason(const struct passthru_vm_devices *vd,
							    size_t index)
{
	return vd && index < vd->n_refusals ? vd->refusals[index].reason : NULL;
}

_public_ const char *passthru_vm_devices_get_refusal_fix(const struct passthru_vm_devices *vd,
							 size_t index)
{
	return vd && index < vd->n_refusals ? vd->refusals[index].fix : NULL;
}

_public_ const char *const *passthru_vm_devices_get_notes(const struct passthru_vm_devices *vd)
{
	return vd && vd->notes ? (const char *const *)vd->notes : strv_empty;
}

_public_ size_t passthru_vm_devices_count(const struct passthru_vm_devices *vd)
{
	return vd && vd->planned ? vd->n_devices : 0;
}

/* The old name. */
_public_ size_t passthru_vm_devices_get_count(const struct passthru_vm_devices *vd)
    _alias_(passthru_vm_devices_count);

static const struct guest_device *device_at(const struct passthru_vm_devices *vd, size_t index)
{
	return vd && vd->planned && index < vd->n_devices ? &vd->devices[index] : NULL;
}

_public_ enum passthru_vm_device_kind
passthru_vm_devices_get_kind(const struct passthru_vm_devices *vd, size_t index)
{
	const struct guest_device *d = device_at(vd, index);

	return d ? d->kind : (enum passthru_vm_device_kind) - EINVAL;
}

_public_ const char *passthru_vm_devices_get_host(const struct passthru_vm_devices *vd,
						  size_t index)
{
	const struct guest_device *d = device_at(vd, index);

	return d ? d->host : NULL;
}

_public_ const char *passthru_vm_devices_get_id(const struct passthru_vm_devices *vd, size_t index)
{
	const struct guest_device *d = device_at(vd, index);

	return d ? d->id : NULL;
}

_public_ bool passthru_vm_devices_is_requested(const struct passthru_vm_devices *vd, size_t index)
{
	const struct guest_device *d = device_at(vd, index);

	return d && d->requested;
}

_public_ const char *passthru_vm_devices_get_bus(const struct passthru_vm_devices *vd, size_t index)
{
	const struct guest_device *d = device_at(vd, index);

	return d ? d->bus : NULL;
}

_public_ const char *passthru_vm_devices_get_addr(const struct passthru_vm_devices *vd,
						  size_t index)
{
	const struct guest_device *d = device_at(vd, index);

	return d ? d->addr : NULL;
}

_public_ bool passthru_vm_devices_is_attached(const struct passthru_vm_devices *vd, size_t index)
{
	const struct guest_device *d = device_at(vd, index);

	return d && d->attached;
}

_public_ const char *const *passthru_vm_devices_get_qemu_argv(const struct passthru_vm_devices *vd)
{
	return vd && vd->planned && vd->argv ? (const char *const *)vd->argv : strv_empty;
}

_public_ const char *passthru_vm_devices_get_error(const struct passthru_vm_devices *vd)
{
	return vd ? vd->error : NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Hot-plug                                                                                   */

int vm_devices_set_error(struct passthru_vm_devices *vd, int r, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	r = error_setfv(&vd->error, r, format, ap);
	va_end(ap);
	if (vd->error)
		log_debug(vd->ctx, "%s", vd->error);
	return r;
}

/* QEMU's answer, or what went wrong on the way to it. */
static const char *qmp_reason(struct passthru_qmp *qmp, int r)
{
	const char *e = passthru_qmp_get_error(qmp);

	return e ? e : strerror(-r);
}

static struct json_object *props_to_json(char *const *props)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	for (size_t i = 0; props[i] && props[i + 1]; i += 2) {
		struct json_object *v = json_object_new_string(props[i + 1]);

		if (!v || json_object_object_add(o, props[i], v) < 0) {
			json_object_put(v);
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

static int device_add(struct passthru_vm_devices *vd, struct passthru_qmp *qmp,
		      struct guest_device *d)
{
	_cleanup_strv_free_ char **props = NULL;
	struct json_object *args;
	int r;

	r = guest_device_props(vd, d, &props);
	if (r < 0)
		return r;
	args = props_to_json(props);
	if (!args)
		return -ENOMEM;
	r = qmp_execute(qmp, "device_add", args, NULL);
	json_object_put(args);
	if (r < 0)
		return vm_devices_set_error(vd, r, "%s: QEMU refused device_add: %s", d->host,
					    qmp_reason(qmp, r));
	d->attached = true;
	return 0;
}

/* Best effort: the guest never saw a slot without its function 0, QEMU drops it at once. */
static void device_del_quietly(struct passthru_qmp *qmp, const char *id)
{
	struct json_object *args = json_object_new_object();

	if (!args)
		return;
	json_object_object_add(args, "id", json_object_new_string(id));
	(void)qmp_execute(qmp, "device_del", args, NULL);
	json_object_put(args);
}

static int chardev_command(struct passthru_vm_devices *vd, struct passthru_qmp *qmp,
			   const struct guest_device *d, bool add)
{
	struct json_object *args = json_object_new_object(), *backend, *data;
	int r = -ENOMEM;

	if (!args)
		return -ENOMEM;
	if (json_object_object_add(args, "id", json_object_new_string(d->chardev_id)) < 0)
		goto out;
	if (add) {
		backend = json_object_new_object();
		data = json_object_new_object();
		if (!backend || !data) {
			json_object_put(backend);
			json_object_put(data);
			goto out;
		}
		json_object_object_add(data, "device", json_object_new_string(d->host));
		json_object_object_add(backend, "type", json_object_new_string("serial"));
		json_object_object_add(backend, "data", data);
		json_object_object_add(args, "backend", backend);
	}
	r = qmp_execute(qmp, add ? "chardev-add" : "chardev-remove", args, NULL);
	if (r < 0)
		r = vm_devices_set_error(vd, r, "%s: QEMU refused %s: %s", d->host,
					 add ? "chardev-add" : "chardev-remove",
					 qmp_reason(qmp, r));
out:
	json_object_put(args);
	return r;
}

/*
 * What the VM has for hot-plugged PCI devices. query-pci tells the machine (its host bridge),
 * the bridges and what sits on bus 0; but a bridge's secondary bus number is 0 until the
 * guest's firmware numbers the buses, and query-pci lists nothing behind such a bridge (a VM
 * started with -S and not yet run). So what is on a bridge's bus is asked of QOM instead:
 * /machine/peripheral/ID/ID is the bus of the bridge with id ID, with a link child[N] to each
 * device on it.
 */
struct vm_pci {
	struct qmp_pci_device *v;
	size_t n;
	/* q35: the root bus is PCI Express and cannot take hot-plugged devices. */
	bool pcie_root;
	/* Bridges already given to a slot of this attach. */
	bool *taken;
	/* Slots of bus 0 in use or given out. */
	bool used0[32];
	/* The bus the caller named: its kind, and its slots in use or given out. */
	enum { NAMED_NONE, NAMED_ROOT, NAMED_BRIDGE, NAMED_PORT, NAMED_UNKNOWN } named;
	bool named_used[32];
};

static int vm_pci_read(struct passthru_vm_devices *vd, struct passthru_qmp *qmp, struct vm_pci *p)
{
	struct json_object *ret = NULL;
	int r;

	r = qmp_execute(qmp, "query-pci", NULL, &ret);
	if (r < 0)
		return vm_devices_set_error(
		    vd, r, "cannot list the VM's PCI devices (query-pci): %s", qmp_reason(qmp, r));
	r = qmp_parse_query_pci(ret, &p->v, &p->n);
	json_object_put(ret);
	if (r < 0)
		return vm_devices_set_error(vd, r,
					    "cannot make sense of QEMU's answer to query-pci");
	p->taken = calloc(p->n ? p->n : 1, sizeof(bool));
	if (!p->taken)
		return -ENOMEM;
	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].bus == 0)
			p->used0[p->v[i].slot] = true;
		/* The host bridge at 00:00.0 tells the machine: 8086:29c0 is q35's. */
		if (p->v[i].bus == 0 && p->v[i].slot == 0 && p->v[i].function == 0 &&
		    p->v[i].vendor == 0x8086 && p->v[i].device == 0x29c0)
			p->pcie_root = true;
	}
	/* Slot 0 of bus 0 is the host bridge's, whatever query-pci says. */
	p->used0[0] = true;
	return 0;
}

static void vm_pci_done(struct vm_pci *p)
{
	qmp_pci_devices_free(p->v, p->n);
	free(p->taken);
}

/* PCI Express ports have one slot, 0: QEMU's pcie-root-port, ioh3420, xio3130 downstream. */
static bool is_pcie_port(const struct qmp_pci_device *d)
{
	return (d->vendor == 0x1b36 && d->device == 0x000c) ||
	       (d->vendor == 0x8086 && d->device == 0x3420) ||
	       (d->vendor == 0x104c && d->device == 0x8233);
}

static struct json_object *path_args(const char *path, const char *property)
{
	struct json_object *args = json_object_new_object();

	if (!args)
		return NULL;
	if (json_object_object_add(args, "path", json_object_new_string(path)) < 0 ||
	    (property &&
	     json_object_object_add(args, "property", json_object_new_string(property)) < 0)) {
		json_object_put(args);
		return NULL;
	}
	return args;
}

/* qom-get of a property; *ret is QEMU's value. */
static int qom_get(struct passthru_qmp *qmp, const char *path, const char *property,
		   struct json_object **ret)
{
	struct json_object *args = path_args(path, property);
	int r;

	if (!args)
		return -ENOMEM;
	r = qmp_execute(qmp, "qom-get", args, ret);
	json_object_put(args);
	return r;
}

/*
 * The devices on the bus of the bridge with id bridge: how many (*ret_count) and, when used is
 * not NULL, the slots they take.
 */
static int qom_bus_devices(struct passthru_qmp *qmp, const char *bridge, size_t *ret_count,
			   bool used[32])
{
	_cleanup_free_ char *path = strf("/machine/peripheral/%s/%s", bridge, bridge);
	_cleanup_strv_free_ char **children = NULL;
	struct json_object *args, *list = NULL;
	int r;

	if (!path || !(args = path_args(path, NULL)))
		return -ENOMEM;
	r = qmp_execute(qmp, "qom-list", args, &list);
	json_object_put(args);
	if (r < 0)
		return r;
	r = qmp_parse_qom_list(list, "child[", NULL, &children);
	json_object_put(list);
	if (r < 0)
		return r;
	STRV_FOREACH (child, children) {
		struct json_object *dev = NULL, *addr = NULL;

		if (!used)
			break;
		/* The link's value is the device's path; its "addr" is the devfn. */
		r = qom_get(qmp, path, *child, &dev);
		if (r >= 0 && json_object_is_type(dev, json_type_string))
			r = qom_get(qmp, json_object_get_string(dev), "addr", &addr);
		if (r >= 0 && json_object_is_type(addr, json_type_int)) {
			int64_t devfn = json_object_get_int64(addr);

			if (devfn >= 0 && devfn < 256)
				used[devfn >> 3] = true;
		}
		json_object_put(dev);
		json_object_put(addr);
		if (r < 0)
			return r;
	}
	*ret_count = strv_length(children);
	return 0;
}

static const struct qmp_pci_device *find_bridge(const struct vm_pci *p, const char *id)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].qdev_id && strcmp(p->v[i].qdev_id, id) == 0 && p->v[i].secondary >= 0)
			return &p->v[i];
	return NULL;
}

/* What the bus the caller named is, and what is on it. */
static int vm_pci_read_named(struct passthru_vm_devices *vd, struct passthru_qmp *qmp,
			     struct vm_pci *p, const char *bus)
{
	const struct qmp_pci_device *bridge;
	size_t count = 0;
	int r;

	if (strcmp(bus, "pci.0") == 0 || strcmp(bus, "pcie.0") == 0) {
		p->named = NAMED_ROOT;
		memcpy(p->named_used, p->used0, sizeof(p->used0));
		return 0;
	}
	bridge = find_bridge(p, bus);
	if (!bridge) {
		/* Not a bus query-pci shows by name: QEMU decides. */
		p->named = NAMED_UNKNOWN;
		return 0;
	}
	p->named = is_pcie_port(bridge) ? NAMED_PORT : NAMED_BRIDGE;
	r = qom_bus_devices(qmp, bus, &count, p->named_used);
	if (r < 0)
		return vm_devices_set_error(vd, r, "cannot see what is on bus %s (qom-list): %s",
					    bus, qmp_reason(qmp, r));
	if (p->named == NAMED_PORT) {
		/* A PCI Express port has one slot. */
		for (unsigned s = 1; s < 32; s++)
			p->named_used[s] = true;
		if (count > 0)
			p->named_used[0] = true;
	}
	return 0;
}

static int take_slot(bool used[32], unsigned first)
{
	for (unsigned s = first; s < 32; s++)
		if (!used[s]) {
			used[s] = true;
			return (int)s;
		}
	return -ENOSPC;
}

/* A bridge with an id and nothing on its bus. */
static int take_free_port(struct passthru_qmp *qmp, struct vm_pci *p, const char **ret)
{
	for (size_t i = 0; i < p->n; i++) {
		size_t count = 0;

		if (p->v[i].secondary < 0 || !p->v[i].qdev_id || p->taken[i])
			continue;
		if (qom_bus_devices(qmp, p->v[i].qdev_id, &count, NULL) < 0)
			/* Without QOM, trust query-pci (right once the firmware ran). */
			count = p->v[i].behind;
		if (count > 0)
			continue;
		p->taken[i] = true;
		*ret = p->v[i].qdev_id;
		return 0;
	}
	return -ENOSPC;
}

/*
 * Where a hot-plugged slot goes: *ret_bus (the bus's name) and *ret_slot (-1: QEMU chooses).
 */
static int pick_place(struct passthru_vm_devices *vd, struct passthru_qmp *qmp, struct vm_pci *p,
		      const char *bus, const char *host, char **ret_bus, int *ret_slot)
{
	const char *port = NULL;
	char *b;
	int s;

	if (bus) {
		s = p->named == NAMED_UNKNOWN ? -1
					      : take_slot(p->named_used, p->named == NAMED_ROOT);
		if (s == -ENOSPC)
			return vm_devices_set_error(vd, -ENOSPC, "%s: bus %s has no free slot",
						    host, bus);
		b = strdup(bus);
	} else if (p->pcie_root) {
		if (take_free_port(qmp, p, &port) < 0)
			return vm_devices_set_error(
			    vd, -ENOSPC,
			    "%s: the VM has no free pcie-root-port (a bridge with an "
			    "id and nothing behind it): start it with spare ones "
			    "(-device pcie-root-port,id=rp1,chassis=1,slot=1) or name a "
			    "bus",
			    host);
		s = 0;
		b = strdup(port);
	} else {
		s = take_slot(p->used0, 1);
		if (s < 0)
			return vm_devices_set_error(vd, -ENOSPC, "%s: pci.0 has no free slot",
						    host);
		b = strdup("pci.0");
	}
	if (!b)
		return -ENOMEM;
	*ret_bus = b;
	*ret_slot = s;
	return 0;
}

static int attach_slot(struct passthru_vm_devices *vd, struct passthru_qmp *qmp, struct vm_pci *p,
		       const char *bus, const struct guest_slot *slot)
{
	_cleanup_free_ char *b = NULL;
	size_t added = 0;
	int s, r;

	r = pick_place(vd, qmp, p, bus, vd->devices[slot->first].host, &b, &s);
	if (r < 0)
		return r;
	/* Function 0 last: QEMU tells the guest about the slot when function 0 arrives. */
	for (size_t k = 1; k <= slot->count; k++) {
		struct guest_device *d = &vd->devices[slot->first + k % slot->count];
		_cleanup_free_ char *addr = NULL;

		if (s >= 0 && !(addr = strf("%x.%x", (unsigned)s, d->function)))
			return -ENOMEM;
		d->multifunction = slot->count > 1 && d->function == 0;
		r = set_placement(d, b, addr);
		if (r >= 0)
			r = device_add(vd, qmp, d);
		if (r < 0) {
			/* Take back the functions of this slot that went in. */
			for (size_t j = 1; j <= added; j++) {
				device_del_quietly(qmp, vd->devices[slot->first + j].id);
				vd->devices[slot->first + j].attached = false;
			}
			return r;
		}
		added++;
	}
	return 0;
}

_public_ int passthru_vm_devices_attach(struct passthru_vm_devices *vd, struct passthru_qmp *qmp,
					const char *bus)
{
	struct vm_pci p = {0};
	bool need_pci = false;
	int r;

	if (!vd || !qmp)
		return -EINVAL;
	free(vd->error);
	vd->error = NULL;
	if (!vd->planned) {
		r = passthru_vm_devices_plan(vd);
		if (r == -EPERM)
			return vm_devices_set_error(vd, r, "%s: %s", vd->refusals[0].device,
						    vd->refusals[0].reason);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < vd->n_devices; i++) {
		struct guest_device *d = &vd->devices[i];

		d->attached = false;
		if (d->kind == PASSTHRU_VM_DEVICE_SERIAL && !d->pci_serial)
			return vm_devices_set_error(
			    vd, -EOPNOTSUPP, "%s: isa-serial cannot be hot-plugged; use pci-serial",
			    d->host);
		need_pci = need_pci || d->kind == PASSTHRU_VM_DEVICE_PCI ||
			   d->kind == PASSTHRU_VM_DEVICE_SERIAL;
	}
	if (need_pci) {
		r = vm_pci_read(vd, qmp, &p);
		if (r >= 0 && bus)
			r = vm_pci_read_named(vd, qmp, &p, bus);
		if (r < 0)
			goto out;
	}
	for (size_t s = 0; s < vd->n_slots; s++) {
		r = attach_slot(vd, qmp, &p, bus, &vd->slots[s]);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < vd->n_devices; i++) {
		struct guest_device *d = &vd->devices[i];

		if (d->kind != PASSTHRU_VM_DEVICE_USB)
			continue;
		r = set_placement(d, vd->usb_bus, NULL);
		if (r >= 0)
			r = device_add(vd, qmp, d);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < vd->n_devices; i++) {
		struct guest_device *d = &vd->devices[i];
		_cleanup_free_ char *b = NULL, *addr = NULL;
		int s;

		if (d->kind != PASSTHRU_VM_DEVICE_SERIAL)
			continue;
		r = pick_place(vd, qmp, &p, bus, d->host, &b, &s);
		if (r < 0)
			goto out;
		if (s >= 0 && !(addr = strf("%x.0", (unsigned)s))) {
			r = -ENOMEM;
			goto out;
		}
		r = set_placement(d, b, addr);
		if (r >= 0)
			r = chardev_command(vd, qmp, d, true);
		if (r < 0)
			goto out;
		r = device_add(vd, qmp, d);
		if (r < 0) {
			_cleanup_free_ char *error = TAKE_PTR(vd->error);

			(void)chardev_command(vd, qmp, d, false);
			free(vd->error);
			vd->error = TAKE_PTR(error);
			goto out;
		}
	}
	r = 0;
out:
	vm_pci_done(&p);
	return r;
}

/*
 * A QEMU device detach waits for, for the name at index in vd->names. Several names can wait
 * for the same id (two functions of one guest slot), each with its own entry.
 */
struct pending {
	char *id;
	size_t index;
};

static int pending_add(struct pending **v, size_t *n, const char *id, size_t index)
{
	struct pending *nv;

	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].index == index && strcmp((*v)[i].id, id) == 0)
			return 0;
	nv = ARRAY_GROW(*v, *n);
	if (!nv)
		return -ENOMEM;
	*nv = (struct pending){.id = strdup(id), .index = index};
	if (!nv->id)
		return -ENOMEM;
	(*n)++;
	return 0;
}

static bool pending_has(const struct pending *v, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].id, id) == 0)
			return true;
	return false;
}

static void pending_free(struct pending *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].id);
	free(v);
}

static void error_clear(struct passthru_vm_devices *vd)
{
	free(vd->error);
	vd->error = NULL;
}

/*
 * Records that the name at index failed with r, and why: vd->error, which the failing step set
 * (cleared before each step), else the errno's text. The first failure of a name is the one
 * kept. Returns r.
 */
static int outcome_fail(struct passthru_vm_devices *vd, size_t index, int r)
{
	struct vm_outcome *o = &vd->outcomes[index];

	if (o->error < 0)
		return r;
	o->error = r;
	o->reason = vd->error ? strdup(vd->error) : strf("%s: %s", vd->names[index], strerror(-r));
	return r;
}

static int device_del(struct passthru_vm_devices *vd, struct passthru_qmp *qmp, const char *named,
		      const char *id)
{
	struct json_object *args = json_object_new_object();
	int r;

	if (!args || json_object_object_add(args, "id", json_object_new_string(id)) < 0) {
		json_object_put(args);
		return -ENOMEM;
	}
	r = qmp_execute(qmp, "device_del", args, NULL);
	json_object_put(args);
	if (r < 0)
		return vm_devices_set_error(vd, r, "%s: QEMU refused device_del: %s", named,
					    qmp_reason(qmp, r));
	return 0;
}

/* The ids of the devices the user made (-device ... ,id= or device_add with an id). */
static int peripheral_ids(struct passthru_vm_devices *vd, struct passthru_qmp *qmp, char ***ret)
{
	struct json_object *args = path_args("/machine/peripheral", NULL), *list = NULL;
	int r;

	if (!args)
		return -ENOMEM;
	r = qmp_execute(qmp, "qom-list", args, &list);
	json_object_put(args);
	if (r < 0)
		return vm_devices_set_error(vd, r, "cannot list the VM's devices (qom-list): %s",
					    qmp_reason(qmp, r));
	/* Devices are child<TYPE> properties; "type" and the like are not. */
	r = qmp_parse_qom_list(list, NULL, "child<", ret);
	json_object_put(list);
	if (r == -EBADMSG)
		return vm_devices_set_error(vd, r,
					    "cannot make sense of QEMU's answer to qom-list");
	return r;
}

/*
 * device_del for a PCI function. The other endpoints of its IOMMU group are the other
 * functions of its guest slot (that is how qemu-args and attach put them), and deleting the
 * slot's function 0, the first endpoint, takes the whole slot: wait for all of them.
 */
static int detach_pci(struct passthru_vm_devices *vd, struct passthru_qmp *qmp, char **ids,
		      size_t index, struct pending **pending, size_t *n_pending)
{
	const char *address = vd->names[index];
	_cleanup_free_ char *id = qemu_id_pci(address), *fn0 = NULL;
	struct passthru_pci_device *dev = NULL;
	struct endpoint *eps = NULL;
	size_t n_eps = 0;
	int group, r;

	if (!id)
		return -ENOMEM;
	/* In a slot already on its way out: wait for it, nothing to delete. */
	if (pending_has(*pending, *n_pending, id))
		return pending_add(pending, n_pending, id, index);
	if (!strv_contains(ids, id))
		return vm_devices_set_error(vd, -ENODEV, "%s: not in the VM (no device with id %s)",
					    address, id);
	r = passthru_pci_device_new(vd->ctx, address, &dev);
	if (r >= 0 && passthru_pci_device_get_iommu_group(dev, &group) >= 0)
		r = group_endpoints(vd, dev, &eps, &n_eps);
	passthru_pci_device_unref(dev);
	if (r < 0 && !errno_is_vanished(r))
		return r;
	for (size_t i = 0; i < n_eps && r >= 0; i++) {
		_cleanup_free_ char *mate = qemu_id_pci(eps[i].address);

		if (!mate)
			r = -ENOMEM;
		else if (strv_contains(ids, mate)) {
			if (!fn0)
				fn0 = strdup(mate);
			r = fn0 ? pending_add(pending, n_pending, mate, index) : -ENOMEM;
		}
	}
	endpoints_free(eps, n_eps);
	if (r >= 0)
		r = pending_add(pending, n_pending, id, index);
	if (r < 0)
		return r;
	return device_del(vd, qmp, address, fn0 ? fn0 : id);
}

static const char *event_device(struct json_object *event)
{
	struct json_object *data, *device;

	if (!json_object_object_get_ex(event, "data", &data) ||
	    !json_object_object_get_ex(data, "device", &device) ||
	    !json_object_is_type(device, json_type_string))
		return NULL;
	return json_object_get_string(device);
}

/*
 * Waits for DEVICE_DELETED of every pending device whose name has not failed yet; a name whose
 * device does not go (the timeout, the guest's refusal, a broken connection) fails.
 */
static void wait_deleted(struct passthru_vm_devices *vd, struct passthru_qmp *qmp,
			 struct pending *pending, size_t n_pending, unsigned timeout_ms)
{
	uint64_t deadline = qmp_now_ms() + timeout_ms;
	_cleanup_free_ bool *done = calloc(n_pending ? n_pending : 1, sizeof(bool));
	size_t left = 0;

	if (!done) {
		error_clear(vd);
		for (size_t i = 0; i < n_pending; i++)
			outcome_fail(vd, pending[i].index, -ENOMEM);
		return;
	}
	for (size_t i = 0; i < n_pending; i++) {
		/* device_del failed for it: nothing comes. */
		done[i] = vd->outcomes[pending[i].index].error < 0;
		left += !done[i];
	}
	while (left > 0) {
		struct json_object *event = NULL, *name;
		const char *device, *what;
		int r;

		r = qmp_next_event(qmp, deadline, &event);
		if (r < 0) {
			for (size_t i = 0; i < n_pending; i++) {
				if (done[i])
					continue;
				if (r == -ETIMEDOUT)
					vm_devices_set_error(
					    vd, r,
					    "%s: no DEVICE_DELETED for %s within %.1f s: the guest "
					    "OS has not acknowledged the unplug (a paused VM, or "
					    "one "
					    "without a running OS, never does); the device stays "
					    "in "
					    "the VM",
					    vd->names[pending[i].index], pending[i].id,
					    timeout_ms / 1000.0);
				else
					vm_devices_set_error(
					    vd, r, "%s: waiting for DEVICE_DELETED: %s",
					    vd->names[pending[i].index], qmp_reason(qmp, r));
				outcome_fail(vd, pending[i].index, r);
			}
			return;
		}
		what = json_object_object_get_ex(event, "event", &name)
			   ? json_object_get_string(name)
			   : "";
		device = event_device(event);
		for (size_t i = 0; device && i < n_pending; i++) {
			if (done[i] || strcmp(pending[i].id, device) != 0)
				continue;
			if (strcmp(what, "DEVICE_DELETED") == 0) {
				done[i] = true;
				left--;
			} else if (strcmp(what, "DEVICE_UNPLUG_GUEST_ERROR") == 0) {
				vm_devices_set_error(vd, -EREMOTEIO,
						     "%s: the guest refused to unplug %s "
						     "(DEVICE_UNPLUG_GUEST_ERROR)",
						     vd->names[pending[i].index], device);
				outcome_fail(vd, pending[i].index, -EREMOTEIO);
				done[i] = true;
				left--;
			}
		}
		json_object_put(event);
	}
}

_public_ int passthru_vm_devices_detach(struct passthru_vm_devices *vd, struct passthru_qmp *qmp,
					unsigned timeout_ms)
{
	_cleanup_strv_free_ char **ids = NULL;
	struct pending *pending = NULL;
	size_t n_pending = 0;
	int r;

	if (!vd || !qmp)
		return -EINVAL;
	free(vd->error);
	vd->error = NULL;
	outcomes_free(vd);
	if (timeout_ms == 0)
		timeout_ms = 10000;
	r = peripheral_ids(vd, qmp, &ids);
	if (r < 0)
		return r;
	vd->outcomes = calloc(vd->n_names ? vd->n_names : 1, sizeof(*vd->outcomes));
	if (!vd->outcomes)
		return -ENOMEM;

	/* Each device on its own: one that is not there does not keep the others in the VM. */
	for (size_t i = 0; i < vd->n_names; i++) {
		const char *name = vd->names[i];
		_cleanup_free_ char *id = NULL;
		const char *tty = strrchr(name, '/');

		error_clear(vd);
		if (vd->kinds[i] == PASSTHRU_VM_DEVICE_PCI) {
			r = detach_pci(vd, qmp, ids, i, &pending, &n_pending);
		} else {
			id = vd->kinds[i] == PASSTHRU_VM_DEVICE_USB
				 ? qemu_id_usb(name)
				 : qemu_id_serial(tty ? tty + 1 : name);
			if (!id)
				r = -ENOMEM;
			else if (!strv_contains(ids, id))
				r = vm_devices_set_error(vd, -ENODEV,
							 "%s: not in the VM (no device with id %s)",
							 name, id);
			else
				r = pending_add(&pending, &n_pending, id, i);
			if (r >= 0)
				r = device_del(vd, qmp, name, id);
		}
		if (r < 0)
			outcome_fail(vd, i, r);
	}
	wait_deleted(vd, qmp, pending, n_pending, timeout_ms);
	pending_free(pending, n_pending);
	/* A serial port's chardev goes once its device is gone. */
	for (size_t i = 0; i < vd->n_names; i++) {
		struct guest_device d = {0};
		const char *tty = strrchr(vd->names[i], '/');

		if (vd->kinds[i] != PASSTHRU_VM_DEVICE_SERIAL || vd->outcomes[i].error < 0)
			continue;
		error_clear(vd);
		d.host = vd->names[i];
		d.chardev_id = qemu_id_chardev(tty ? tty + 1 : vd->names[i]);
		r = d.chardev_id ? chardev_command(vd, qmp, &d, false) : -ENOMEM;
		free(d.chardev_id);
		if (r < 0)
			outcome_fail(vd, i, r);
	}
	/* The error is that of the first device that did not go. */
	error_clear(vd);
	for (size_t i = 0; i < vd->n_names; i++)
		if (vd->outcomes[i].error < 0) {
			vd->error = vd->outcomes[i].reason ? strdup(vd->outcomes[i].reason) : NULL;
			return vd->outcomes[i].error;
		}
	return 0;
}

_public_ int passthru_vm_devices_get_detach_result(const struct passthru_vm_devices *vd,
						   const char *name, const char **ret_reason)
{
	enum passthru_vm_device_kind kind;
	_cleanup_free_ char *canonical = NULL;
	int r;

	if (!vd || !name)
		return -EINVAL;
	r = device_canonical_name(vd->ctx, name, &kind, &canonical);
	if (r < 0)
		return r;
	for (size_t i = 0; i < vd->n_names; i++) {
		if (strcmp(vd->names[i], canonical) != 0)
			continue;
		if (!vd->outcomes)
			return -ENODATA;
		if (vd->outcomes[i].error < 0 && ret_reason)
			*ret_reason = vd->outcomes[i].reason;
		return vd->outcomes[i].error;
	}
	return -ENOENT;
}
