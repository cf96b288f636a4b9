/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Allocations: an owner (a VM's name) and devices, always whole IOMMU groups (every endpoint
 * of each group; bridges in a group keep their driver, as VFIO allows). What a group holds and
 * which of its members are endpoints is the library's IOMMU group object, read when the group
 * is reserved or adopted: the service takes a group as passthru bind --group, vm and check do.
 * - By address, any device may be named: those still on host drivers are bound to vfio-pci
 *   through a takeover, with every guard; a refusal is answered 422 with the reasons.
 * - A selector (type, vendor_id/device_id, numa_node, count) picks among free devices only:
 *   functions on vfio-pci whose whole group is on vfio-pci and unallocated. It never takes a
 *   device from the host on its own.
 * The loop decides: a request's devices are reserved there (a pending allocation) before the
 * worker binds those still on host drivers, so a request that comes meanwhile sees them taken;
 * the database's primary key on the address is a second fence: two allocations never share a
 * device. A reservation whose binding fails is dropped; one never reaches the database before
 * its devices are on vfio-pci.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "kubernetes-files.h"
#include "passthrud.h"
#include "request.h"

void allocation_done(struct allocation *a)
{
	for (size_t i = 0; i < a->n_devices; i++)
		free(a->devices[i]);
	free(a->devices);
	free(a->device_groups);
	free(a->groups);
	free(a->owner);
	*a = (struct allocation){};
}

void allocations_done(struct allocations *all)
{
	for (size_t i = 0; i < all->n; i++)
		allocation_done(&all->v[i]);
	free(all->v);
	*all = (struct allocations){};
}

struct allocation *allocation_find(const struct allocations *all, long id)
{
	for (size_t i = 0; i < all->n; i++)
		if (all->v[i].id == id)
			return &all->v[i];
	return NULL;
}

const struct allocation *allocation_of_device(const struct allocations *all, const char *address)
{
	for (size_t i = 0; i < all->n; i++)
		for (size_t j = 0; j < all->v[i].n_devices; j++)
			if (strcmp(all->v[i].devices[j], address) == 0)
				return &all->v[i];
	return NULL;
}

int allocation_add_device(struct allocation *a, const char *address, int group)
{
	char **nd = realloc(a->devices, (a->n_devices + 2) * sizeof(*nd));
	int *ndg;
	bool seen = false;
	size_t at;

	if (!nd)
		return -ENOMEM;
	a->devices = nd;
	ndg = realloc(a->device_groups, (a->n_devices + 1) * sizeof(*ndg));
	if (!ndg)
		return -ENOMEM;
	a->device_groups = ndg;
	for (at = a->n_devices; at > 0 && device_address_cmp(a->devices[at - 1], address) > 0; at--)
		;
	memmove(a->devices + at + 1, a->devices + at, (a->n_devices - at) * sizeof(char *));
	memmove(a->device_groups + at + 1, a->device_groups + at,
		(a->n_devices - at) * sizeof(int));
	a->devices[at] = strdup(address);
	if (!a->devices[at]) {
		memmove(a->devices + at, a->devices + at + 1, (a->n_devices - at) * sizeof(char *));
		memmove(a->device_groups + at, a->device_groups + at + 1,
			(a->n_devices - at) * sizeof(int));
		a->devices[a->n_devices] = NULL;
		return -ENOMEM;
	}
	a->device_groups[at] = group;
	a->devices[++a->n_devices] = NULL;
	/* A USB device or a serial port (-1) has no group: no /dev/vfio node either. */
	if (group < 0)
		return 0;
	for (size_t i = 0; i < a->n_groups; i++)
		seen = seen || a->groups[i] == group;
	if (seen)
		return 0;
	ndg = realloc(a->groups, (a->n_groups + 1) * sizeof(*ndg));
	if (!ndg)
		return -ENOMEM;
	a->groups = ndg;
	for (at = 0; at < a->n_groups && a->groups[at] < group; at++)
		;
	memmove(a->groups + at + 1, a->groups + at, (a->n_groups - at) * sizeof(int));
	a->groups[at] = group;
	a->n_groups++;
	return 0;
}

struct json_object *allocation_to_json(const struct allocation *a)
{
	struct json_object *o = json_object_new_object(), *devs = json_object_new_array(),
			   *vfio = json_object_new_array();

	if (!o || !devs || !vfio) {
		json_object_put(o);
		json_object_put(devs);
		json_object_put(vfio);
		return NULL;
	}
	for (size_t i = 0; i < a->n_devices; i++)
		json_object_array_add(devs, json_object_new_string(a->devices[i]));
	for (size_t i = 0; i < a->n_groups; i++) {
		char path[32];

		snprintf(path, sizeof(path), "/dev/vfio/%d", a->groups[i]);
		json_object_array_add(vfio, json_object_new_string(path));
	}
	json_object_object_add(o, "id", json_object_new_int64(a->id));
	json_object_object_add(o, "owner", json_object_new_string(a->owner));
	json_object_object_add(o, "devices", devs);
	json_object_object_add(o, "vfio", vfio);
	json_object_object_add(o, "created", json_object_new_int64(a->created));
	json_object_object_add(o, "adopted", json_object_new_boolean(a->adopted));
	return o;
}

/* Appends a (moved: the caller's copy is emptied) to the list. */
static int allocations_append(struct allocations *all, struct allocation *a)
{
	struct allocation *nv = realloc(all->v, (all->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	all->v = nv;
	all->v[all->n++] = *a;
	*a = (struct allocation){};
	return 0;
}

static bool is_vfio(const struct device *dev)
{
	return dev->driver && strcmp(dev->driver, "vfio-pci") == 0;
}

/* An answer with an error body; extra (may be NULL) is merged into it. */
static unsigned fail(struct json_object **ret, unsigned status, const char *error, const char *hint)
{
	*ret = error_json(error, hint);
	return status;
}

static unsigned failf(struct json_object **ret, unsigned status, const char *hint,
		      const char *format, ...) __attribute__((format(printf, 4, 5)));
static unsigned failf(struct json_object **ret, unsigned status, const char *hint,
		      const char *format, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int n;

	va_start(ap, format);
	n = vasprintf(&msg, format, ap);
	va_end(ap);
	if (n < 0)
		return fail(ret, 500, "out of memory", "try again");
	return fail(ret, status, msg, hint);
}

/* One device being reserved. */
struct pick_item {
	char *address;
	int group; /* -1: a USB device or a serial port */
	bool bind; /* a PCI endpoint not on vfio-pci: the worker binds it first */
};

/* The set being reserved: endpoints of whole groups, USB devices, serial ports. */
struct pick {
	struct pick_item *v;
	size_t n;
};

static void pick_done(struct pick *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].address);
	free(p->v);
	*p = (struct pick){};
}

/* Drops the items from start on (those one group added before it turned out not free). */
static void pick_truncate(struct pick *p, size_t start)
{
	while (p->n > start)
		free(p->v[--p->n].address);
}

static int pick_add(struct pick *p, const char *address, int group, bool bind)
{
	char *copy = strdup(address);
	struct pick_item *nv = copy ? realloc(p->v, (p->n + 1) * sizeof(*nv)) : NULL;

	if (!nv) {
		free(copy);
		return -ENOMEM;
	}
	p->v = nv;
	p->v[p->n++] = (struct pick_item){.address = copy, .group = group, .bind = bind};
	return 0;
}

static bool pick_has(const struct pick *p, const char *address)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].address, address) == 0)
			return true;
	return false;
}

static bool pick_has_group(const struct pick *p, int group)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].group == group)
			return true;
	return false;
}

static void iommu_group_unrefp(struct passthru_iommu_group **g)
{
	passthru_iommu_group_unref(*g);
}

/*
 * Adds every endpoint of dev's IOMMU group. The group is the library's object, read from sysfs
 * now: its members and which of them are endpoints (bridges, the IOMMU and other platform
 * functions stay with the host) are what passthru bind, vm and check see, so the service never
 * reserves a group otherwise than the command line would take it.
 * Returns 0; 409 or 422 (with *ret) when an endpoint is allocated or the kubelet's, when dev is
 * not an endpoint, or 500 when the group cannot be read. With whole_free (a selector), 1 instead
 * when the group is not free: not viable, an endpoint not on vfio-pci, or dev no endpoint.
 */
static int pick_group(struct daemon *d, struct pick *p, const struct device *dev, bool whole_free,
		      struct json_object **ret)
{
	_cleanup_(iommu_group_unrefp) struct passthru_iommu_group *g = NULL;
	size_t start = p->n;
	bool endpoint = false;
	int r;

	r = passthru_iommu_group_new(d->ctx, dev->group, &g);
	if (r < 0) {
		/* Gone since the inventory read it (a uevent is on its way): not free. */
		if (whole_free && r != -ENOMEM)
			return 1;
		return (int)failf(ret, r == -ENOENT || r == -ENODEV ? 409 : 500,
				  "GET /v1/devices shows the devices there are now",
				  "%s: cannot read its IOMMU group %d: %s", dev->address,
				  dev->group, strerror(-r));
	}
	for (size_t i = 0; i < passthru_iommu_group_count(g); i++)
		if (passthru_iommu_group_is_endpoint(g, i) &&
		    strcmp(passthru_pci_device_get_address(passthru_iommu_group_get(g, i)),
			   dev->address) == 0)
			endpoint = true;
	if (!endpoint) {
		struct json_object *list, *o;

		if (whole_free)
			return 1;
		/* As the takeover's planner refuses it: the same shape as refused()'s. */
		failf(ret, 422, "name the endpoints of its IOMMU group (GET /v1/devices)",
		      "%s is no endpoint of IOMMU group %d: it stays with the host; vfio-pci only "
		      "drives endpoints",
		      dev->address, dev->group);
		list = json_object_new_array();
		o = json_object_new_object();
		json_object_object_add(o, "address", json_object_new_string(dev->address));
		json_object_object_add(o, "kind", json_object_new_string("bridge"));
		json_object_object_add(
		    o, "reason",
		    json_object_new_string("it is no endpoint; vfio-pci only drives endpoints"));
		json_object_array_add(list, o);
		json_object_object_add(*ret, "refusals", list);
		d->metrics.refusals++;
		return 422;
	}
	/* A group VFIO would not open (an endpoint on a host driver) is never free. */
	if (whole_free && !passthru_iommu_group_is_viable(g))
		return 1;
	for (size_t i = 0; i < passthru_iommu_group_count(g); i++) {
		const char *m = passthru_pci_device_get_address(passthru_iommu_group_get(g, i));
		const char *driver = passthru_iommu_group_get_driver(g, i);
		bool vfio = driver && strcmp(driver, "vfio-pci") == 0;
		const struct allocation *a;
		const char *resource;

		if (!passthru_iommu_group_is_endpoint(g, i) || pick_has(p, m))
			continue;
		a = allocation_of_device(&d->allocs, m);
		resource = a ? NULL : kubernetes_owner(d, m);
		if (resource) {
			pick_truncate(p, start);
			if (whole_free)
				return 1;
			return (int)failf(ret, 409,
					  "take it out of " KUBE_CONFIG_DIR " first (and restart "
					  "passthrud), or ask for another",
					  "%s is owned by the kubelet: a device of the Kubernetes "
					  "resource %s",
					  m, resource);
		}
		if (a || (whole_free && !vfio)) {
			pick_truncate(p, start);
			if (!a)
				return 1;
			if (a->pending)
				return (int)failf(ret, 409, "ask for another",
						  "%s is being bound to vfio-pci for %s", m,
						  a->owner);
			if (strcmp(m, dev->address) == 0)
				return (int)failf(ret, 409, "release it first, or ask for another",
						  "%s is allocated to %s (allocation %ld)", m,
						  a->owner, a->id);
			return (int)failf(ret, 409, "release it first, or ask for another",
					  "%s shares IOMMU group %d with %s, allocated to %s "
					  "(allocation %ld)",
					  dev->address, dev->group, m, a->owner, a->id);
		}
		if (pick_add(p, m, dev->group, !vfio) < 0) {
			pick_truncate(p, start);
			return (int)fail(ret, 500, "out of memory", "try again");
		}
	}
	return 0;
}

/* The inventory's order: PCI functions, then USB devices, then serial ports. */
static int pick_item_cmp(const void *a, const void *b)
{
	return device_address_cmp(((const struct pick_item *)a)->address,
				  ((const struct pick_item *)b)->address);
}

static const char *refusal_kind_name(enum passthru_refusal_kind k)
{
	switch (k) {
	case PASSTHRU_REFUSAL_NO_IOMMU:
		return "no-iommu";
	case PASSTHRU_REFUSAL_BRIDGE:
		return "bridge";
	case PASSTHRU_REFUSAL_GROUP:
		return "group";
	case PASSTHRU_REFUSAL_GUARD:
		return "guard";
	case PASSTHRU_REFUSAL_IN_USE:
		return "in-use";
	case PASSTHRU_REFUSAL_VFS_BOUND:
		return "vfs-bound";
	case PASSTHRU_REFUSAL_NO_RESET:
		return "no-reset";
	case PASSTHRU_REFUSAL_NO_GROUP:
		return "no-group";
	case PASSTHRU_REFUSAL_DRIVER:
		return "driver";
	case PASSTHRU_REFUSAL_NO_DRIVER:
		return "no-driver";
	}
	return "other";
}

static unsigned refused(struct daemon *d, struct passthru_takeover *t, struct json_object **ret)
{
	size_t n = passthru_takeover_get_refusal_count(t);
	struct json_object *list = json_object_new_array();
	const char *hint = NULL;

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(
		    o, "address",
		    json_object_new_string(passthru_takeover_get_refusal_address(t, i) ?: ""));
		json_object_object_add(o, "kind",
				       json_object_new_string(refusal_kind_name(
					   passthru_takeover_get_refusal_kind(t, i))));
		json_object_object_add(
		    o, "reason",
		    json_object_new_string(passthru_takeover_get_refusal_reason(t, i) ?: ""));
		json_object_array_add(list, o);
	}
	/* The first guard's advice ("ip route del default dev eth0") is the best hint there is. */
	for (size_t i = 0; i < passthru_takeover_get_count(t) && !hint; i++) {
		struct passthru_guard_list *g = passthru_takeover_get_guards(t, i);

		for (size_t j = 0; g && j < passthru_guard_list_count(g) && !hint; j++)
			hint = passthru_guard_list_get_hint(g, j);
	}
	d->metrics.refusals++;
	failf(ret, 422,
	      hint ?: "free the devices on the host first (see passthru-bind(1) for each reason)",
	      "%s",
	      n > 0 ? passthru_takeover_get_refusal_reason(t, 0) : "the takeover was refused");
	json_object_object_add(*ret, "refusals", list);
	return 422;
}

/* Reads the devices a takeover touched again and tells the stream about those that changed. */
static void refresh_after(struct daemon *d, struct passthru_takeover *t)
{
	for (size_t i = 0; i < passthru_takeover_get_count(t); i++) {
		const char *addr = passthru_takeover_get_address(t, i);
		bool known = inventory_find(&d->inv, addr) != NULL;
		int r = inventory_refresh(d->ctx, &d->inv, addr);
		struct device *dev;
		struct json_object *o;

		if (r <= 0)
			continue;
		dev = inventory_find(&d->inv, addr);
		/* The same shape as the uevents' (uevents.c), without a uevent. */
		o = json_object_new_object();
		json_object_object_add(o, "action",
				       json_object_new_string(r == 2  ? "remove"
							      : known ? "change"
								      : "add"));
		json_object_object_add(o, "uevent", NULL);
		json_object_object_add(o, "address", json_object_new_string(addr));
		json_object_object_add(o, "device", dev ? device_to_json(d, dev) : NULL);
		events_emit(d, "device", o);
	}
}

/*
 * The answer to a takeover the worker ran: 0 when it worked, else the HTTP status with *ret:
 * 422 with the refusals, 503 when another passthru holds the lock (or the service stops), 500
 * when a step failed (the library rolled back) with the details.
 */
static unsigned takeover_answer(struct daemon *d, struct takeover_job *job,
				struct json_object **ret)
{
	const char *what = job->op == PASSTHRU_TAKEOVER_BIND ? "binding to vfio-pci"
							     : "giving back to the host drivers";
	struct passthru_takeover *t = job->t;
	unsigned status = 0;
	int r = job->r;

	if (r == -ECANCELED && !t)
		return fail(ret, 503, "the service stops before the takeover could run",
			    "nothing was changed; try again when passthrud is back");
	if (!t)
		return failf(ret, 500, "see the service's log", "cannot make a takeover: %s",
			     strerror(-r));
	if (!job->executed) {
		if (r == -EPERM)
			return refused(d, t, ret);
		return failf(ret, 500, "see the service's log", "cannot plan the %s: %s", what,
			     strerror(-r));
	}
	if (job->op == PASSTHRU_TAKEOVER_BIND) {
		d->metrics.binds++;
		d->metrics.bind_seconds_sum += job->seconds;
	}
	if (r == -EPERM)
		status = refused(d, t, ret);
	else if (r == -EBUSY)
		status = fail(ret, 503, "another passthru holds /run/passthru/lock",
			      "try again when the other bind or unbind is done");
	else if (r < 0) {
		const char *const *details = passthru_takeover_get_error_details(t);
		struct json_object *dl = json_object_new_array();

		if (job->op == PASSTHRU_TAKEOVER_BIND)
			d->metrics.bind_failures++;
		status =
		    failf(ret, 500,
			  "every touched device was rolled back to where it was; see the details",
			  "%s failed: %s", what, passthru_takeover_get_error(t) ?: "?");
		for (size_t i = 0; details && details[i]; i++)
			json_object_array_add(dl, json_object_new_string(details[i]));
		json_object_object_add(*ret, "details", dl);
	}
	refresh_after(d, t);
	return status;
}

/* A job for the worker over addresses (n of them, copied). NULL on ENOMEM. */
static struct takeover_job *job_new(enum passthru_takeover_op op, unsigned flags,
				    const char *const *addresses, size_t n, long allocation,
				    struct later *later,
				    void (*done)(struct daemon *d, struct takeover_job *job))
{
	struct takeover_job *job = calloc(1, sizeof(*job));

	if (!job)
		return NULL;
	*job = (struct takeover_job){
	    .op = op, .flags = flags, .allocation = allocation, .later = later, .done = done};
	job->addresses = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; job->addresses && i < n; i++)
		if (!(job->addresses[i] = strdup(addresses[i]))) {
			takeover_job_free(job);
			return NULL;
		}
	if (!job->addresses) {
		free(job);
		return NULL;
	}
	return job;
}

/* Takes a out of the list (a points into it). */
static void allocation_drop(struct daemon *d, struct allocation *a)
{
	allocation_done(a);
	memmove(a, a + 1, (size_t)(d->allocs.v + d->allocs.n - a - 1) * sizeof(*a));
	d->allocs.n--;
}

static bool matches(const struct alloc_request *req, const struct device *dev)
{
	return (!req->type || strcasecmp(req->type, dev->type) == 0) &&
	       (req->vendor_id < 0 || req->vendor_id == dev->vendor_id) &&
	       (req->device_id < 0 || req->device_id == dev->device_id) &&
	       (req->numa_node < 0 || req->numa_node == dev->numa_node);
}

/* A serial port the host uses (its console): 422 with the guards' reasons, else 0. */
static unsigned serial_guarded(struct daemon *d, const struct device *dev, struct json_object **ret)
{
	struct passthru_guard_list *g = NULL;
	struct json_object *list;
	size_t n;
	int r = passthru_guard_list_check_serial(d->ctx, dev->address, &g);

	if (r < 0)
		return failf(ret, 500, "see the service's log", "%s: cannot check what uses it: %s",
			     dev->address, strerror(-r));
	n = passthru_guard_list_count(g);
	if (n == 0) {
		passthru_guard_list_unref(g);
		return 0;
	}
	list = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "address", json_object_new_string(dev->address));
		json_object_object_add(o, "kind", json_object_new_string("guard"));
		json_object_object_add(
		    o, "reason",
		    json_object_new_string(passthru_guard_list_get_reason(g, i) ?: ""));
		json_object_array_add(list, o);
	}
	d->metrics.refusals++;
	failf(ret, 422, passthru_guard_list_get_hint(g, 0) ?: "ask for another serial port",
	      "%s: %s", dev->address, passthru_guard_list_get_reason(g, 0) ?: "the host uses it");
	json_object_object_add(*ret, "refusals", list);
	passthru_guard_list_unref(g);
	return 422;
}

/*
 * A USB device or a serial port by address: no group, no driver change (QEMU's usb-host and
 * a serial chardev take them as they are); the allocation only reserves it.
 */
static unsigned pick_port(struct daemon *d, struct pick *p, const struct device *dev,
			  struct json_object **ret)
{
	const struct allocation *a = allocation_of_device(&d->allocs, dev->address);
	unsigned status;

	if (dev->kind == DEVICE_SERIAL && (status = serial_guarded(d, dev, ret)))
		return status;
	if (dev->host_only)
		return failf(ret, 422, "name the devices behind the hub",
			     "%s is a USB hub: QEMU's usb-host passes devices, not hubs",
			     dev->address);
	if (a && a->pending)
		return failf(ret, 409, "ask for another", "%s is being allocated to %s",
			     dev->address, a->owner);
	if (a)
		return failf(ret, 409, "release it first, or ask for another",
			     "%s is allocated to %s (allocation %ld)", dev->address, a->owner,
			     a->id);
	if (!pick_has(p, dev->address) && pick_add(p, dev->address, -1, false) < 0)
		return fail(ret, 500, "out of memory", "try again");
	return 0;
}

static unsigned pick_by_address(struct daemon *d, const struct alloc_request *req, struct pick *p,
				struct json_object **ret)
{
	for (size_t i = 0; i < req->n_devices; i++) {
		const struct device *dev = inventory_find(&d->inv, req->devices[i]);
		int r;

		if (!dev)
			return failf(ret, 404,
				     "GET /v1/devices lists the host's PCI functions, USB devices "
				     "and serial ports",
				     "no device %s", req->devices[i]);
		if (dev->kind != DEVICE_PCI) {
			r = (int)pick_port(d, p, dev, ret);
			if (r != 0)
				return (unsigned)r;
			continue;
		}
		if (dev->group < 0)
			return failf(ret, 422, "passthru check tells how to turn the IOMMU on",
				     "%s is in no IOMMU group", dev->address);
		r = pick_group(d, p, dev, false, ret);
		if (r != 0)
			return (unsigned)r;
	}
	return 0;
}

static unsigned pick_by_selector(struct daemon *d, const struct alloc_request *req, struct pick *p,
				 struct json_object **ret)
{
	unsigned found = 0, matching = 0;

	for (size_t i = 0; i < d->inv.n && found < req->count; i++) {
		const struct device *dev = &d->inv.v[i];
		int r;

		if (dev->non_endpoint || dev->group < 0 || !matches(req, dev))
			continue;
		matching++;
		if (pick_has(p, dev->address)) {
			found++;
			continue;
		}
		if (!is_vfio(dev) || allocation_of_device(&d->allocs, dev->address) ||
		    pick_has_group(p, dev->group))
			continue;
		r = pick_group(d, p, dev, true, ret);
		if (r > 1)
			return (unsigned)r;
		if (r == 0)
			found++;
	}
	/* USB devices and serial ports only when the selector's type names theirs. */
	for (size_t i = 0; i < d->inv.n_ports && req->type && found < req->count; i++) {
		const struct device *dev = &d->inv.ports[i];

		if (!matches(req, dev) || dev->host_only)
			continue;
		matching++;
		if (allocation_of_device(&d->allocs, dev->address) || pick_has(p, dev->address))
			continue;
		if (pick_add(p, dev->address, -1, false) < 0)
			return fail(ret, 500, "out of memory", "try again");
		found++;
	}
	if (found < req->count)
		return failf(ret, 409,
			     matching ? "release an allocation, or bind more devices to vfio-pci "
					"(passthru bind)"
				      : "GET /v1/devices shows the types and NUMA nodes there are",
			     "%u free device%s match%s the selector, %u asked for", found,
			     found == 1 ? "" : "s", found == 1 ? "es" : "", req->count);
	return 0;
}

/*
 * The reservation id becomes an allocation: recorded, announced, 201 with it. Else the
 * reservation is dropped and the status says why.
 */
static unsigned allocation_commit(struct daemon *d, long pending_id, struct json_object **ret)
{
	struct allocation *a = allocation_find(&d->allocs, pending_id);
	unsigned status = 0;
	int r;

	if (!a)
		return fail(ret, 500, "the reservation went missing", "see the service's log");
	for (size_t i = 0; i < a->n_devices && !status; i++) {
		const struct device *dev = inventory_find(&d->inv, a->devices[i]);

		if (a->device_groups[i] >= 0 && (!dev || !is_vfio(dev)))
			status = failf(ret, 500, "see the service's log and GET /v1/devices",
				       "%s is not on vfio-pci after the binding", a->devices[i]);
	}
	if (!status) {
		r = store_insert(d->db, a);
		if (r == -EEXIST)
			status = fail(ret, 409,
				      "a device is already allocated (the state database says so)",
				      "GET /v1/allocations");
		else if (r < 0)
			status = fail(ret, 500, "cannot write the state database",
				      "see the service's log; nothing was allocated");
	}
	if (status) {
		allocation_drop(d, a);
		return status;
	}
	a->pending = false;
	*ret = allocation_to_json(a);
	d->metrics.allocations_made++;
	events_emit(d, "allocation", json_object_get(*ret));
	return 201;
}

/* The worker bound a reservation's devices (or could not). */
static void allocation_bound(struct daemon *d, struct takeover_job *job)
{
	struct json_object *body = NULL;
	unsigned status = takeover_answer(d, job, &body);
	struct allocation *a;

	if (!status)
		status = allocation_commit(d, job->allocation, &body);
	else if ((a = allocation_find(&d->allocs, job->allocation)))
		allocation_drop(d, a);
	job->later->answer(job->later, status, body);
	takeover_job_free(job);
}

unsigned allocation_create(struct daemon *d, const char *body, size_t len, struct json_object **ret,
			   struct later *later)
{
	struct alloc_request req = {};
	struct allocation a = {};
	struct pick p = {};
	_cleanup_free_ const char **host = NULL;
	struct takeover_job *job;
	const char *err = NULL;
	size_t n_host = 0;
	unsigned status;
	long id;
	int r;

	r = alloc_request_parse(body, len, &req, &err);
	if (r == -ENOMEM)
		return fail(ret, 500, "out of memory", "try again");
	if (r < 0)
		return fail(ret, 400, err,
			    "POST {\"owner\": \"vm-a\", \"devices\": [\"0000:02:00.0\"]} or "
			    "{\"owner\": \"vm-a\", \"type\": \"NIC\", \"count\": 1}");
	status =
	    req.n_devices ? pick_by_address(d, &req, &p, ret) : pick_by_selector(d, &req, &p, ret);
	if (status)
		goto out;
	host = calloc(p.n + 1, sizeof(*host));
	if (!host) {
		status = fail(ret, 500, "out of memory", "try again");
		goto out;
	}
	/*
	 * The reservation, in the inventory's order of addresses: from here
	 * on no other request can have these devices. Those on host drivers are bound first, by
	 * the worker; the request waits for it.
	 */
	qsort(p.v, p.n, sizeof(*p.v), pick_item_cmp);
	a.owner = strdup(req.owner);
	a.created = time(NULL);
	a.pending = true;
	r = a.owner ? 0 : -ENOMEM;
	for (size_t i = 0; i < p.n && r == 0; i++)
		r = allocation_add_device(&a, p.v[i].address, p.v[i].group);
	for (size_t i = 0; i < p.n; i++)
		if (p.v[i].bind)
			host[n_host++] = p.v[i].address;
	a.id = id = --d->next_pending;
	if (r == 0)
		r = allocations_append(&d->allocs, &a);
	if (r < 0) {
		status = fail(ret, 500, "out of memory", "try again");
		goto out;
	}
	if (n_host == 0) {
		status = allocation_commit(d, id, ret);
		goto out;
	}
	/* host[] points into the pick, freed below: job_new copies them. */
	job = job_new(PASSTHRU_TAKEOVER_BIND, PASSTHRU_TAKEOVER_GROUP, host, n_host, id, later,
		      allocation_bound);
	if (!job) {
		allocation_drop(d, allocation_find(&d->allocs, id));
		status = fail(ret, 500, "out of memory", "try again");
		goto out;
	}
	worker_submit(d, job);
	status = 0;
out:
	pick_done(&p);
	allocation_done(&a);
	alloc_request_done(&req);
	return status;
}

/* "/dev/vfio/5 is open by pid 812 (qemu-system-x86)" as an object. */
static struct json_object *holder_json(const char *line)
{
	struct json_object *o = json_object_new_object();
	const char *by = strstr(line, " is open by pid ");
	long pid = 0;

	json_object_object_add(o, "line", json_object_new_string(line));
	if (by) {
		const char *open = strchr(by + 16, '('), *close = strrchr(line, ')');

		json_object_object_add(o, "path",
				       json_object_new_string_len(line, (int)(by - line)));
		pid = strtol(by + 16, NULL, 10);
		json_object_object_add(o, "pid", json_object_new_int64(pid));
		if (open && close && close > open)
			json_object_object_add(
			    o, "command",
			    json_object_new_string_len(open + 1, (int)(close - open - 1)));
	}
	return o;
}

/* Forgets the allocation (a points into the list): on disk, then in memory. 204, or 500. */
static unsigned allocation_forget(struct daemon *d, struct allocation *a, struct json_object **ret)
{
	struct json_object *ev;
	int r = store_delete(d->db, a->id);

	if (r < 0)
		return fail(ret, 500, "cannot write the state database",
			    "see the service's log; the allocation stays");
	ev = json_object_new_object();
	json_object_object_add(ev, "id", json_object_new_int64(a->id));
	json_object_object_add(ev, "owner", json_object_new_string(a->owner));
	json_object_object_add(ev, "released", json_object_new_boolean(true));
	allocation_drop(d, a);
	d->metrics.allocations_released++;
	events_emit(d, "allocation", ev);
	*ret = NULL;
	return 204;
}

/* The worker gave an allocation's devices back to their host drivers (or could not). */
static void allocation_unbound(struct daemon *d, struct takeover_job *job)
{
	struct json_object *body = NULL;
	unsigned status = takeover_answer(d, job, &body);
	struct allocation *a = allocation_find(&d->allocs, job->allocation);

	if (a)
		a->releasing = false;
	if (!status)
		status =
		    a ? allocation_forget(d, a, &body)
		      : fail(&body, 500, "the allocation went missing", "see the service's log");
	job->later->answer(job->later, status, body);
	takeover_job_free(job);
}

/*
 * The node a process opens to use a USB device or a serial port: /dev/bus/usb/BBB/DDD, or the
 * port's own path. -ENOENT when the device is gone or its numbers are unknown.
 */
static int device_node(const struct device *dev, char **ret)
{
	struct json_object *bus, *num;

	if (!dev || dev->kind == DEVICE_PCI)
		return -ENOENT;
	if (dev->kind != DEVICE_USB) {
		*ret = strdup(dev->address);
		return *ret ? 0 : -ENOMEM;
	}
	if (!json_object_object_get_ex(dev->details, "busnum", &bus) ||
	    !json_object_object_get_ex(dev->details, "devnum", &num) ||
	    !json_object_is_type(bus, json_type_int) || !json_object_is_type(num, json_type_int))
		return -ENOENT;
	if (asprintf(ret, "/dev/bus/usb/%03" PRId64 "/%03" PRId64, json_object_get_int64(bus),
		     json_object_get_int64(num)) < 0) {
		*ret = NULL;
		return -ENOMEM;
	}
	return 0;
}

unsigned allocation_release(struct daemon *d, long id, bool to_host, struct json_object **ret,
			    struct later *later)
{
	struct allocation *a = allocation_find(&d->allocs, id);
	_cleanup_free_ const char **pci = NULL;
	struct takeover_job *job;
	struct json_object *holders;
	const char *first = NULL;
	size_t n_pci = 0;
	int r;

	if (!a || a->pending)
		return failf(ret, 404, "GET /v1/allocations lists them", "no allocation %ld", id);
	if (a->releasing)
		return failf(ret, 409, "wait for the other release to end",
			     "allocation %ld is being given back to the host drivers", id);
	holders = json_object_new_array();
	for (size_t i = 0; i < a->n_groups; i++) {
		char **users = NULL;

		r = passthru_vfio_group_get_users(d->ctx, a->groups[i], NULL, &users);
		if (r < 0) {
			json_object_put(holders);
			return failf(ret, 500, "see the service's log",
				     "cannot tell who holds /dev/vfio/%d: %s", a->groups[i],
				     strerror(-r));
		}
		for (size_t j = 0; users[j]; j++)
			json_object_array_add(holders, holder_json(users[j]));
		passthru_strv_free(users);
	}
	/* USB devices and serial ports: their own nodes (one gone from the host holds nothing). */
	for (size_t i = 0; i < a->n_devices; i++) {
		_cleanup_free_ char *node = NULL;
		char **users = NULL;

		if (a->device_groups[i] >= 0)
			continue;
		r = device_node(inventory_find(&d->inv, a->devices[i]), &node);
		if (r == 0)
			r = passthru_device_node_get_users(d->ctx, node, &users);
		if (r == -ENOENT)
			continue;
		if (r < 0) {
			json_object_put(holders);
			return failf(ret, 500, "see the service's log",
				     "cannot tell who holds %s: %s", node ?: a->devices[i],
				     strerror(-r));
		}
		for (size_t j = 0; users[j]; j++)
			json_object_array_add(holders, holder_json(users[j]));
		passthru_strv_free(users);
	}
	if (json_object_array_length(holders) > 0) {
		first = json_object_get_string(
		    json_object_object_get(json_object_array_get_idx(holders, 0), "line"));
		failf(ret, 409, "stop the VM (or the process) first, then release",
		      "allocation %ld is in use: %s", id, first);
		json_object_object_add(*ret, "holders", holders);
		return 409;
	}
	json_object_put(holders);
	/* The PCI functions go back to their host drivers (USB and serial never left theirs). */
	pci = calloc(a->n_devices + 1, sizeof(*pci));
	if (!pci)
		return fail(ret, 500, "out of memory", "try again");
	for (size_t i = 0; to_host && i < a->n_devices; i++)
		if (a->device_groups[i] >= 0)
			pci[n_pci++] = a->devices[i];
	if (n_pci == 0)
		return allocation_forget(d, a, ret);
	/* Back to the host drivers first (the worker): when that fails, the allocation stays. */
	job = job_new(PASSTHRU_TAKEOVER_UNBIND, 0, pci, n_pci, id, later, allocation_unbound);
	if (!job)
		return fail(ret, 500, "out of memory", "try again");
	a->releasing = true;
	worker_submit(d, job);
	return 0;
}

/* The VM's name from QEMU's "-name guest=vm-a,..." or "-name vm-a", if it makes an owner. */
static char *qemu_name(struct daemon *d, long pid)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	size_t size = 0;
	FILE *f;
	char *name = NULL;
	size_t n;

	if (asprintf(&path, "%s/proc/%ld/cmdline",
		     d->real_root ? "" : passthru_ctx_get_sysroot(d->ctx), pid) < 0)
		return NULL;
	f = fopen(path, "re");
	if (!f)
		return NULL;
	buf = malloc(65536);
	if (buf) {
		n = fread(buf, 1, 65535, f);
		buf[n] = '\0';
		size = n;
	}
	fclose(f);
	for (size_t i = 0; buf && i < size; i += strlen(buf + i) + 1) {
		const char *arg = buf + i, *v;
		size_t len;

		if (strcmp(arg, "-name") != 0 || i + strlen(arg) + 1 >= size)
			continue;
		v = arg + strlen(arg) + 1;
		if (strncmp(v, "guest=", 6) == 0)
			v += 6;
		len = strcspn(v, ",");
		name = strndup(v, len);
		if (name && !alloc_owner_is_valid(name)) {
			free(name);
			name = NULL;
		}
		break;
	}
	return name;
}

/* Adds every endpoint of IOMMU group number to a, as the library reads the group. */
static int adopt_group(struct daemon *d, struct allocation *a, int number)
{
	struct passthru_iommu_group *g = NULL;
	const char *const *endpoints;
	int r = passthru_iommu_group_new(d->ctx, number, &g);

	/* Gone since the inventory was read: nothing to adopt of it. */
	if (r == -ENOENT || r == -ENODEV)
		return 0;
	if (r < 0)
		return r;
	endpoints = passthru_iommu_group_get_endpoints(g);
	for (size_t i = 0; endpoints[i] && r >= 0; i++)
		r = allocation_add_device(a, endpoints[i], number);
	passthru_iommu_group_unref(g);
	return r;
}

int allocations_adopt(struct daemon *d)
{
	struct allocations found = {};
	long *pids = NULL;
	int r = 0;

	for (size_t i = 0; i < d->inv.n && r >= 0; i++) {
		const struct device *dev = &d->inv.v[i];
		char **users = NULL;
		const char *by;
		struct allocation *a = NULL;
		long pid;

		if (!is_vfio(dev) || dev->group < 0 || dev->non_endpoint ||
		    allocation_of_device(&d->allocs, dev->address) ||
		    allocation_of_device(&found, dev->address))
			continue;
		r = passthru_vfio_group_get_users(d->ctx, dev->group, NULL, &users);
		if (r < 0)
			break;
		by = users[0] ? strstr(users[0], " is open by pid ") : NULL;
		pid = by ? strtol(by + 16, NULL, 10) : 0;
		passthru_strv_free(users);
		if (!by)
			continue;
		for (size_t j = 0; j < found.n && !a; j++)
			if (pids[j] == pid)
				a = &found.v[j];
		if (!a) {
			struct allocation *nv = realloc(found.v, (found.n + 1) * sizeof(*nv));
			long *np = realloc(pids, (found.n + 1) * sizeof(*np));

			if (nv)
				found.v = nv;
			if (np)
				pids = np;
			if (!nv || !np) {
				r = -ENOMEM;
				break;
			}
			a = &found.v[found.n];
			*a = (struct allocation){.created = time(NULL), .adopted = true};
			pids[found.n++] = pid;
			a->owner = qemu_name(d, pid);
			if (!a->owner && asprintf(&a->owner, "pid-%ld", pid) < 0) {
				a->owner = NULL;
				r = -ENOMEM;
				break;
			}
		}
		r = adopt_group(d, a, dev->group);
	}
	for (size_t j = 0; j < found.n && r >= 0; j++) {
		if (found.v[j].n_devices == 0)
			continue;
		r = store_insert(d->db, &found.v[j]);
		if (r < 0)
			break;
		fprintf(stderr, "passthrud: adopted %s (%zu device%s) as allocation %ld for %s\n",
			found.v[j].devices[0], found.v[j].n_devices,
			found.v[j].n_devices == 1 ? "" : "s", found.v[j].id, found.v[j].owner);
		r = allocations_append(&d->allocs, &found.v[j]);
	}
	allocations_done(&found);
	free(pids);
	return r < 0 ? r : 0;
}
