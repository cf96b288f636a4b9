/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hot-plugging a plan into a running VM and out of it again over QMP (qmp.c is the client):
 * device_add into a free slot or port, device_del and the wait for DEVICE_DELETED.
 */
#include <stdarg.h>

#include "pci.h"
#include "qemu.h"
#include "qemu-plan.h"
#include "qmp.h"

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
		r = guest_device_set_placement(d, b, addr);
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
		r = guest_device_set_placement(d, vd->usb_bus, NULL);
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
		r = guest_device_set_placement(d, b, addr);
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
 * A QEMU device detach waits for, for the name at index in vd->names, and the device whose
 * device_del takes it (del_id: function 0 of its guest slot for every function of a slot, else
 * the device itself). Several names can wait for the same id (two functions of one guest
 * slot), each with its own entry.
 */
struct pending {
	char *id;
	char *del_id;
	size_t index;
};

static int pending_add(struct pending **v, size_t *n, const char *id, const char *del_id,
		       size_t index)
{
	struct pending *nv;

	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].index == index && strcmp((*v)[i].id, id) == 0)
			return 0;
	nv = ARRAY_GROW(*v, *n);
	if (!nv)
		return -ENOMEM;
	*nv = (struct pending){.id = strdup(id), .del_id = strdup(del_id), .index = index};
	if (!nv->id || !nv->del_id) {
		free(nv->id);
		free(nv->del_id);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

/* The entry waiting for id, NULL when none is. */
static const struct pending *pending_find(const struct pending *v, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].id, id) == 0)
			return &v[i];
	return NULL;
}

static void pending_free(struct pending *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].del_id);
	}
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
	const struct pending *going;
	struct passthru_pci_device *dev = NULL;
	struct endpoint *eps = NULL;
	size_t n_eps = 0;
	int group, r;

	if (!id)
		return -ENOMEM;
	/* In a slot already on its way out: wait for it, nothing to delete. */
	going = pending_find(*pending, *n_pending, id);
	if (going) {
		/* A copy: adding may move the entries. */
		_cleanup_free_ char *del_id = strdup(going->del_id);

		return del_id ? pending_add(pending, n_pending, id, del_id, index) : -ENOMEM;
	}
	if (!strv_contains(ids, id))
		return vm_devices_set_error(vd, -ENODEV, "%s: not in the VM (no device with id %s)",
					    address, id);
	r = passthru_pci_device_new(vd->ctx, address, &dev);
	if (r >= 0 && passthru_pci_device_get_iommu_group(dev, &group) >= 0)
		r = vm_group_endpoints(dev, &eps, &n_eps);
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
			r = fn0 ? pending_add(pending, n_pending, mate, fn0, index) : -ENOMEM;
		}
	}
	vm_endpoints_free(eps, n_eps);
	if (r >= 0)
		r = pending_add(pending, n_pending, id, fn0 ? fn0 : id, index);
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
 * device does not go (the timeout, the guest's refusal, a broken connection) fails. The guest's
 * refusal of a device_del (DEVICE_UNPLUG_GUEST_ERROR, naming the device deleted) keeps every
 * device that delete was to take: for a guest slot, all its functions, whose DEVICE_DELETED
 * will not come either.
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
			if (done[i])
				continue;
			if (strcmp(what, "DEVICE_DELETED") == 0 &&
			    strcmp(pending[i].id, device) == 0) {
				done[i] = true;
				left--;
			} else if (strcmp(what, "DEVICE_UNPLUG_GUEST_ERROR") == 0 &&
				   (strcmp(pending[i].id, device) == 0 ||
				    strcmp(pending[i].del_id, device) == 0)) {
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
	vm_devices_outcomes_free(vd);
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
				r = pending_add(&pending, &n_pending, id, id, i);
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
	r = vm_device_canonical_name(vd->ctx, name, &kind, &canonical);
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
