/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The inventory: every PCI function of the host, read once at start-up with passthru_pci_scan()
 * and then one function at a time when a uevent (or the service itself) says it changed. The
 * library does not cache: a refresh reads sysfs afresh.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "passthrud.h"

static void device_done(struct device *dev)
{
	free(dev->type);
	free(dev->driver);
}

static int device_fill(struct passthru_pci_device *pd, struct device *ret)
{
	struct device dev = {.vendor_id = -1, .device_id = -1, .group = -1, .numa_node = -1};
	const char *type = passthru_pci_device_get_type(pd);
	const char *driver = passthru_pci_device_get_driver(pd);
	uint16_t id;
	int n;

	snprintf(dev.address, sizeof(dev.address), "%s", passthru_pci_device_get_address(pd));
	dev.type = strdup(type ?: "PCI");
	dev.driver = driver ? strdup(driver) : NULL;
	if (!dev.type || (driver && !dev.driver)) {
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
	dev.bridge = passthru_pci_device_is_bridge(pd);
	*ret = dev;
	return 0;
}

static bool device_equal(const struct device *a, const struct device *b)
{
	return strcmp(a->type, b->type) == 0 &&
	       (a->driver && b->driver ? strcmp(a->driver, b->driver) == 0
				       : a->driver == b->driver) &&
	       a->vendor_id == b->vendor_id && a->device_id == b->device_id &&
	       a->group == b->group && a->numa_node == b->numa_node && a->bridge == b->bridge;
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
	inventory_done(inv);
	*inv = new;
	return 0;
}

void inventory_done(struct inventory *inv)
{
	for (size_t i = 0; i < inv->n; i++)
		device_done(&inv->v[i]);
	free(inv->v);
	*inv = (struct inventory){};
}

/* Addresses sort as the library sorts them: by length (domain width) first, then as text. */
static int address_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	return la != lb ? (la < lb ? -1 : 1) : strcmp(a, b);
}

struct device *inventory_find(const struct inventory *inv, const char *address)
{
	for (size_t i = 0; i < inv->n; i++)
		if (strcmp(inv->v[i].address, address) == 0)
			return &inv->v[i];
	return NULL;
}

int inventory_refresh(struct passthru_ctx *ctx, struct inventory *inv, const char *address)
{
	struct passthru_pci_device *pd = NULL;
	struct device *old = inventory_find(inv, address), dev;
	size_t at;
	int r;

	r = passthru_pci_device_new(ctx, address, &pd);
	if (r == -ENODEV) {
		if (!old)
			return 0;
		at = (size_t)(old - inv->v);
		device_done(old);
		memmove(old, old + 1, (inv->n - at - 1) * sizeof(*old));
		inv->n--;
		return 2;
	}
	if (r < 0)
		return r;
	r = device_fill(pd, &dev);
	passthru_pci_device_unref(pd);
	if (r < 0)
		return r;
	if (old) {
		bool same = device_equal(old, &dev);

		device_done(old);
		*old = dev;
		return same ? 0 : 1;
	}
	{
		struct device *nv = realloc(inv->v, (inv->n + 1) * sizeof(*nv));

		if (!nv) {
			device_done(&dev);
			return -ENOMEM;
		}
		inv->v = nv;
	}
	for (at = 0; at < inv->n && address_cmp(inv->v[at].address, dev.address) < 0; at++)
		;
	memmove(inv->v + at + 1, inv->v + at, (inv->n - at) * sizeof(dev));
	inv->v[at] = dev;
	inv->n++;
	return 1;
}

const char *device_state(const struct daemon *d, const struct device *dev,
			 const struct allocation **ret_owner)
{
	const struct allocation *a = allocation_of_device(&d->allocs, dev->address);

	bool vfio = dev->driver && strcmp(dev->driver, "vfio-pci") == 0;

	if (ret_owner)
		*ret_owner = a;
	/* Allocated, but something took it off vfio-pci behind the service's back. */
	if (a && !vfio)
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
	if (a)
		json_object_object_add(o, "allocation", json_object_new_int64(a->id));
	else if ((resource = kubernetes_owner(d, dev->address))) {
		/* A device of a Kubernetes resource: the kubelet's, through the device plugin. */
		json_object_object_add(o, "owner", json_object_new_string("kubelet"));
		json_object_object_add(o, "resource", json_object_new_string(resource));
	}
	return o;
}
