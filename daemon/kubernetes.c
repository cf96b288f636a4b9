// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * passthrud's side of Kubernetes: the resources of kubernetes.d, read at start-up. Their
 * devices belong to the kubelet (the device plugin API has no release call: the kubelet tracks
 * its pods), so the HTTP API shows them owned by the kubelet and never allocates them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubernetes-files.h"
#include "passthrud.h"

int kubernetes_start(struct daemon *d)
{
	int r = kube_config_load(passthru_ctx_get_sysroot(d->ctx), &d->kube);

	if (r < 0) {
		fprintf(stderr, "passthrud: %s: cannot read: %s\n", KUBE_CONFIG_DIR, strerror(-r));
		return r;
	}
	/* A bad line leaves out its resource only: the others still serve. */
	for (size_t i = 0; i < d->kube.n_problems; i++)
		fprintf(stderr, "passthrud: %s\n", d->kube.problems[i]);
	return 0;
}

void kubernetes_stop(struct daemon *d)
{
	kube_config_done(&d->kube);
}

/* The inventory as kubernetes-config.c takes it; strings borrowed from inv. */
struct kube_function *kubernetes_functions(const struct inventory *inv)
{
	struct kube_function *f = calloc(inv->n ?: 1, sizeof(*f));

	if (!f)
		return NULL;
	for (size_t i = 0; i < inv->n; i++) {
		const struct device *dev = &inv->v[i];

		f[i] = (struct kube_function){
		    .address = dev->address,
		    .type = dev->type,
		    .driver = dev->driver,
		    .vendor_id = dev->vendor_id,
		    .device_id = dev->device_id,
		    .group = dev->group,
		    .numa_node = dev->numa_node,
		    .bridge = dev->bridge,
		};
	}
	return f;
}

const char *kubernetes_owner(const struct daemon *d, const char *address)
{
	struct kube_function *f;
	int ri;

	if (d->kube.n == 0)
		return NULL;
	f = kubernetes_functions(&d->inv);
	/* Out of memory: say the kubelet owns it, never hand it out twice. */
	if (!f)
		return "?";
	ri = kube_config_owner(&d->kube, f, d->inv.n, address);
	free(f);
	return ri >= 0 ? d->kube.v[ri].name : NULL;
}

struct json_object *kubernetes_to_json(const struct daemon *d)
{
	struct json_object *o = json_object_new_object(), *list = json_object_new_array();
	struct kube_function *f = kubernetes_functions(&d->inv);

	for (size_t ri = 0; ri < d->kube.n; ri++) {
		struct json_object *r = json_object_new_object(), *devs = json_object_new_array();
		struct kube_devices kd = {};

		json_object_object_add(r, "name", json_object_new_string(d->kube.v[ri].name));
		json_object_object_add(r, "registration",
				       json_object_new_string(kubelet_registration(d, ri)));
		if (f && kube_resource_devices(&d->kube, ri, f, d->inv.n, &kd) >= 0)
			for (size_t i = 0; i < kd.n; i++) {
				struct json_object *dv = json_object_new_object();

				json_object_object_add(dv, "id", json_object_new_string(kd.v[i].id));
				json_object_object_add(
				    dv, "health",
				    json_object_new_string(kd.v[i].healthy ? "Healthy" : "Unhealthy"));
				json_object_array_add(devs, dv);
			}
		kube_devices_done(&kd);
		json_object_object_add(r, "devices", devs);
		json_object_array_add(list, r);
	}
	free(f);
	json_object_object_add(o, "resources", list);
	return o;
}
