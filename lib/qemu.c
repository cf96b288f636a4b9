/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host devices for a QEMU VM: what a set of host devices becomes in the guest (vfio-pci
 * functions of one guest slot per IOMMU group, usb-host devices, serial chardevs), whether the
 * host is ready to give them, QEMU's command-line options for them, and hot-plugging them into
 * and out of a running VM over QMP (qmp.c is the client). This file holds the object, its
 * settings and getters; qemu-plan.c plans, qemu-argv.c renders the command line and
 * qemu-hotplug.c attaches and detaches.
 *
 * Why a whole IOMMU group: VFIO hands a group to one user or not at all, so every endpoint of
 * the group must be on vfio-pci before QEMU can open any of them ("group not viable"), and the
 * other endpoints (a GPU's HDMI audio function) belong in the same VM. Bridges in a group stay
 * with their host driver: the kernel lets pcieport keep them.
 */
#include <stdarg.h>

#include "pci.h"
#include "qemu.h"
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

void guest_device_done(struct guest_device *d)
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
void vm_devices_plan_clear(struct passthru_vm_devices *vd)
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

void vm_devices_outcomes_free(struct passthru_vm_devices *vd)
{
	for (size_t i = 0; vd->outcomes && i < vd->n_names; i++)
		free(vd->outcomes[i].reason);
	free(vd->outcomes);
	vd->outcomes = NULL;
}

static void vm_devices_free(struct passthru_vm_devices *vd)
{
	vm_devices_plan_clear(vd);
	strv_free(vd->names);
	free(vd->kinds);
	free(vd->vga_address);
	free(vd->romfile);
	free(vd->romfile_address);
	free(vd->usb_bus);
	free(vd->error);
	vm_devices_outcomes_free(vd);
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
int vm_device_canonical_name(struct passthru_ctx *ctx, const char *name,
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
	r = vm_device_canonical_name(vd->ctx, name, &kind, &canonical);
	if (r < 0)
		return errno_is_vanished(r) ? -ENODEV : r;
	if (strv_contains(vd->names, canonical))
		return 0;
	if (!ARRAY_GROW(vd->kinds, vd->n_names))
		return -ENOMEM;
	r = strv_consume(&vd->names, TAKE_PTR(canonical));
	if (r < 0)
		return r;
	vm_devices_outcomes_free(vd); /* sized by the names */
	vd->kinds[vd->n_names++] = kind;
	vm_devices_plan_clear(vd);
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
	vm_devices_plan_clear(vd);
	return 0;
}

int vm_replace_string(char **where, const char *value)
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
	vm_devices_plan_clear(vd);
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
	r = vm_replace_string(&vd->romfile, file);
	if (r < 0) {
		free(a);
		return r;
	}
	free(vd->romfile_address);
	vd->romfile_address = a;
	vm_devices_plan_clear(vd);
	return 0;
}

_public_ void passthru_vm_devices_set_usb_by_id(struct passthru_vm_devices *vd, bool by_id)
{
	if (!vd)
		return;
	vd->usb_by_id = by_id;
	vm_devices_plan_clear(vd);
}

_public_ int passthru_vm_devices_set_usb_bus(struct passthru_vm_devices *vd, const char *bus)
{
	int r;

	if (!vd)
		return -EINVAL;
	/* A bus name is a device id with ".N" appended: the same characters. */
	if (bus && !qemu_id_is_valid(bus))
		return -EINVAL;
	r = vm_replace_string(&vd->usb_bus, bus);
	if (r < 0)
		return r;
	vm_devices_plan_clear(vd);
	return 0;
}

_public_ void passthru_vm_devices_set_serial_model(struct passthru_vm_devices *vd,
						   enum passthru_vm_serial_model model)
{
	if (!vd)
		return;
	vd->serial_model = model;
	vm_devices_plan_clear(vd);
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
