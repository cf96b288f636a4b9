/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Allocations: an owner (a VM's name) and devices, always whole IOMMU groups (every endpoint
 * of each group; bridges in a group keep their driver, as VFIO allows).
 * - By address, any device may be named: those still on host drivers are bound to vfio-pci
 *   through a takeover, with every guard; a refusal is answered 422 with the reasons.
 * - A selector (type, vendor_id/device_id, numa_node, count) picks among free devices only:
 *   functions on vfio-pci whose whole group is on vfio-pci and unallocated. It never takes a
 *   device from the host on its own.
 * The loop handles one request at a time, and the database's primary key on the address is a
 * second fence: two allocations never share a device.
 */
#include <ctype.h>
#include <errno.h>
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
	a->devices[a->n_devices] = strdup(address);
	if (!a->devices[a->n_devices])
		return -ENOMEM;
	a->device_groups[a->n_devices] = group;
	a->devices[++a->n_devices] = NULL;
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

/* The set being reserved: endpoints of whole groups, in address order. */
struct pick {
	const struct device **v;
	size_t n;
};

static bool pick_has(const struct pick *p, const struct device *dev)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i] == dev)
			return true;
	return false;
}

static bool pick_has_group(const struct pick *p, int group)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i]->group == group)
			return true;
	return false;
}

/*
 * Adds every endpoint of dev's group. 0, or 409 (with *ret) when one of them is allocated.
 * With whole_free, also 1 when one of them is not on vfio-pci (the group is not free).
 */
static int pick_group(struct daemon *d, struct pick *p, const struct device *dev, bool whole_free,
		      struct json_object **ret)
{
	size_t start = p->n;

	for (size_t i = 0; i < d->inv.n; i++) {
		const struct device *m = &d->inv.v[i];
		const struct allocation *a;
		const char *resource;

		if (m->group != dev->group || m->bridge || pick_has(p, m))
			continue;
		a = allocation_of_device(&d->allocs, m->address);
		resource = a ? NULL : kubernetes_owner(d, m->address);
		if (resource) {
			p->n = start;
			if (whole_free)
				return 1;
			return (int)failf(ret, 409,
					  "take it out of " KUBE_CONFIG_DIR " first (and restart "
					  "passthrud), or ask for another",
					  "%s is owned by the kubelet: a device of the Kubernetes "
					  "resource %s",
					  m->address, resource);
		}
		if (a || (whole_free && !is_vfio(m))) {
			p->n = start;
			if (!a)
				return 1;
			if (m == dev)
				return (int)failf(ret, 409, "release it first, or ask for another",
						  "%s is allocated to %s (allocation %ld)",
						  m->address, a->owner, a->id);
			return (int)failf(ret, 409, "release it first, or ask for another",
					  "%s shares IOMMU group %d with %s, allocated to %s "
					  "(allocation %ld)",
					  dev->address, dev->group, m->address, a->owner, a->id);
		}
		p->v[p->n++] = m;
	}
	return 0;
}

static int device_ptr_cmp(const void *a, const void *b)
{
	const struct device *x = *(const struct device *const *)a,
			    *y = *(const struct device *const *)b;

	return (x > y) - (x < y);
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
 * Runs a takeover of op over addresses (n of them). 0, or the HTTP status with *ret: 422 with
 * the refusals, 503 when another passthru holds the lock, 500 when a step failed (the library
 * rolled back) with the details.
 */
static unsigned run_takeover(struct daemon *d, enum passthru_takeover_op op, unsigned flags,
			     const char *const *addresses, size_t n, struct json_object **ret)
{
	const char *what = op == PASSTHRU_TAKEOVER_BIND ? "binding to vfio-pci"
							: "giving back to the host drivers";
	struct passthru_takeover *t = NULL;
	struct timespec t0, t1;
	unsigned status = 0;
	int r;

	if (n == 0)
		return 0;
	r = passthru_takeover_new(d->ctx, op, flags, &t);
	if (r < 0)
		return failf(ret, 500, "see the service's log", "cannot make a takeover: %s",
			     strerror(-r));
	if (d->bind_timeout_ms)
		passthru_takeover_set_timeout(t, d->bind_timeout_ms);
	for (size_t i = 0; i < n && r >= 0; i++)
		r = passthru_takeover_add_device(t, addresses[i]);
	if (r >= 0)
		r = passthru_takeover_plan(t);
	if (r == -EPERM) {
		status = refused(d, t, ret);
		goto out;
	}
	if (r < 0) {
		status = failf(ret, 500, "see the service's log", "cannot plan the %s: %s", what,
			       strerror(-r));
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = passthru_takeover_execute(t);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (op == PASSTHRU_TAKEOVER_BIND) {
		d->metrics.binds++;
		d->metrics.bind_seconds_sum +=
		    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	}
	if (r == -EPERM)
		status = refused(d, t, ret);
	else if (r == -EBUSY)
		status = fail(ret, 503, "another passthru holds /run/passthru/lock",
			      "try again when the other bind or unbind is done");
	else if (r < 0) {
		const char *const *details = passthru_takeover_get_error_details(t);
		struct json_object *dl = json_object_new_array();

		if (op == PASSTHRU_TAKEOVER_BIND)
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
out:
	passthru_takeover_unref(t);
	return status;
}

/* Binds the picked devices that are not on vfio-pci (with their groups). */
static unsigned bind_host_devices(struct daemon *d, const struct pick *p, struct json_object **ret)
{
	_cleanup_free_ const char **addrs = calloc(p->n ?: 1, sizeof(char *));
	size_t n = 0;

	if (!addrs)
		return fail(ret, 500, "out of memory", "try again");
	for (size_t i = 0; i < p->n; i++)
		if (!is_vfio(p->v[i]))
			addrs[n++] = p->v[i]->address;
	return run_takeover(d, PASSTHRU_TAKEOVER_BIND, PASSTHRU_TAKEOVER_GROUP, addrs, n, ret);
}

static bool matches(const struct alloc_request *req, const struct device *dev)
{
	return (!req->type || strcasecmp(req->type, dev->type) == 0) &&
	       (req->vendor_id < 0 || req->vendor_id == dev->vendor_id) &&
	       (req->device_id < 0 || req->device_id == dev->device_id) &&
	       (req->numa_node < 0 || req->numa_node == dev->numa_node);
}

static unsigned pick_by_address(struct daemon *d, const struct alloc_request *req, struct pick *p,
				struct json_object **ret)
{
	for (size_t i = 0; i < req->n_devices; i++) {
		const struct device *dev = inventory_find(&d->inv, req->devices[i]);
		int r;

		if (!dev)
			return failf(ret, 404, "GET /v1/devices lists the host's PCI functions",
				     "no PCI function %s", req->devices[i]);
		if (dev->bridge)
			return failf(ret, 422, "name the endpoints behind the bridge",
				     "%s is a bridge: vfio-pci does not drive bridges",
				     dev->address);
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

		if (dev->bridge || dev->group < 0 || !matches(req, dev))
			continue;
		matching++;
		if (pick_has(p, dev)) {
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
	if (found < req->count)
		return failf(ret, 409,
			     matching ? "release an allocation, or bind more devices to vfio-pci "
					"(passthru bind)"
				      : "GET /v1/devices shows the types and NUMA nodes there are",
			     "%u free device%s match%s the selector, %u asked for", found,
			     found == 1 ? "" : "s", found == 1 ? "es" : "", req->count);
	return 0;
}

unsigned allocation_create(struct daemon *d, const char *body, size_t len, struct json_object **ret)
{
	struct alloc_request req = {};
	struct allocation a = {};
	struct pick p = {};
	char **addrs = NULL;
	int *groups = NULL;
	const char *err = NULL;
	unsigned status;
	int r;

	r = alloc_request_parse(body, len, &req, &err);
	if (r == -ENOMEM)
		return fail(ret, 500, "out of memory", "try again");
	if (r < 0)
		return fail(ret, 400, err,
			    "POST {\"owner\": \"vm-a\", \"devices\": [\"0000:02:00.0\"]} or "
			    "{\"owner\": \"vm-a\", \"type\": \"NIC\", \"count\": 1}");
	p.v = calloc(d->inv.n ?: 1, sizeof(*p.v));
	if (!p.v) {
		status = fail(ret, 500, "out of memory", "try again");
		goto out;
	}
	status =
	    req.n_devices ? pick_by_address(d, &req, &p, ret) : pick_by_selector(d, &req, &p, ret);
	if (status)
		goto out;
	/*
	 * Pointers into the inventory go stale when the binding refreshes it: the addresses and
	 * groups are copied first (in address order: the inventory's order is the pointers').
	 */
	qsort(p.v, p.n, sizeof(*p.v), device_ptr_cmp);
	addrs = calloc(p.n ?: 1, sizeof(char *));
	groups = calloc(p.n ?: 1, sizeof(int));
	if (!addrs || !groups) {
		status = fail(ret, 500, "out of memory", "try again");
		goto out;
	}
	for (size_t i = 0; i < p.n; i++) {
		addrs[i] = strdup(p.v[i]->address);
		groups[i] = p.v[i]->group;
		if (!addrs[i]) {
			status = fail(ret, 500, "out of memory", "try again");
			goto out;
		}
	}
	status = bind_host_devices(d, &p, ret);
	if (status)
		goto out;
	a.owner = strdup(req.owner);
	a.created = time(NULL);
	r = a.owner ? 0 : -ENOMEM;
	for (size_t i = 0; i < p.n && r == 0; i++) {
		const struct device *dev = inventory_find(&d->inv, addrs[i]);

		if (!dev || !is_vfio(dev)) {
			status = failf(ret, 500, "see the service's log and GET /v1/devices",
				       "%s is not on vfio-pci after the binding", addrs[i]);
			r = -EIO;
		} else
			r = allocation_add_device(&a, addrs[i], groups[i]);
	}
	if (r < 0) {
		if (!status)
			status = fail(ret, 500, "out of memory", "try again");
		goto out;
	}
	r = store_insert(d->db, &a);
	if (r == -EEXIST) {
		status =
		    fail(ret, 409, "a device is already allocated (the state database says so)",
			 "GET /v1/allocations");
		goto out;
	}
	if (r < 0) {
		status = fail(ret, 500, "cannot write the state database",
			      "see the service's log; nothing was allocated");
		goto out;
	}
	*ret = allocation_to_json(&a);
	r = allocations_append(&d->allocs, &a);
	if (r < 0) {
		/* On disk but not in memory: the next start-up knows it. */
		json_object_put(*ret);
		status = fail(ret, 500, "out of memory after the allocation was recorded",
			      "restart passthrud: it reads the allocation back");
		goto out;
	}
	d->metrics.allocations_made++;
	events_emit(d, "allocation", json_object_get(*ret));
	status = 201;
out:
	for (size_t i = 0; addrs && i < p.n; i++)
		free(addrs[i]);
	free(addrs);
	free(groups);
	free(p.v);
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

unsigned allocation_release(struct daemon *d, long id, bool to_host, struct json_object **ret)
{
	struct allocation *a = allocation_find(&d->allocs, id);
	struct json_object *holders;
	const char *first = NULL;
	int r;

	if (!a)
		return failf(ret, 404, "GET /v1/allocations lists them", "no allocation %ld", id);
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
	if (json_object_array_length(holders) > 0) {
		first = json_object_get_string(
		    json_object_object_get(json_object_array_get_idx(holders, 0), "line"));
		failf(ret, 409, "stop the VM (or the process) first, then release",
		      "allocation %ld is in use: %s", id, first);
		json_object_object_add(*ret, "holders", holders);
		return 409;
	}
	json_object_put(holders);
	/* Back to the host drivers first: when that fails, the allocation stays as it was. */
	if (to_host) {
		unsigned status = run_takeover(d, PASSTHRU_TAKEOVER_UNBIND, 0,
					       (const char *const *)a->devices, a->n_devices, ret);

		if (status)
			return status;
		a = allocation_find(&d->allocs, id);
	}
	r = store_delete(d->db, id);
	if (r < 0)
		return fail(ret, 500, "cannot write the state database",
			    "see the service's log; the allocation stays");
	{
		struct json_object *ev = json_object_new_object();

		json_object_object_add(ev, "id", json_object_new_int64(id));
		json_object_object_add(ev, "owner", json_object_new_string(a->owner));
		json_object_object_add(ev, "released", json_object_new_boolean(true));
		allocation_done(a);
		memmove(a, a + 1, (size_t)(d->allocs.v + d->allocs.n - a - 1) * sizeof(*a));
		d->allocs.n--;
		d->metrics.allocations_released++;
		events_emit(d, "allocation", ev);
	}
	*ret = NULL;
	return 204;
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

		if (!is_vfio(dev) || dev->group < 0 || dev->bridge ||
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
		/* Every endpoint of the group, in address order (the inventory's). */
		for (size_t k = 0; k < d->inv.n && r >= 0; k++)
			if (d->inv.v[k].group == dev->group && !d->inv.v[k].bridge)
				r = allocation_add_device(a, d->inv.v[k].address, dev->group);
	}
	for (size_t j = 0; j < found.n && r >= 0; j++) {
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
