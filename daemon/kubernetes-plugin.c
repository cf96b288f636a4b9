// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * passthrud as the kubelet's device plugin (API v1beta1, daemon/deviceplugin/api.proto): for
 * each resource of kubernetes.d, DevicePlugin served on its own socket in the kubelet's plugin
 * directory and Registration.Register called on kubelet.sock there.
 *
 * The kubelet deletes every plugin socket when it restarts and makes kubelet.sock anew: inotify
 * on the directory sees both, so a deleted socket is made and served again, and every resource
 * registers again once kubelet.sock is back. A kubelet that is not there yet is waited for the
 * same way; a registration that fails is tried again every few seconds.
 *
 * The resources follow kubernetes.d (kubelet_config_changed()): a new one is served and
 * registered, a removed one stops serving and its socket goes, a changed one sends its new list
 * to the ListAndWatch streams. The kubelet's directory is made and watched from the first
 * resource on: a host without resources is left alone.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "api.pb-c.h" /* generated from deviceplugin/api.proto */
#include "kubernetes-grpc.h"
#include "passthrud.h"

#define KUBELET_SOCKET	    "kubelet.sock"
#define REGISTER_TIMEOUT_MS 5000
#define RETRY_USEC	    (3 * 1000000ULL)

struct kube_plugin {
	struct kubelet *k;
	size_t ri;	   /* the resource's index in d->kube */
	char *name;	   /* the resource's name (d->kube changes with kubernetes.d) */
	char *endpoint;	   /* the socket's file name */
	char *socket_path; /* in the kubelet's directory */
	struct grpc_server *server;
	struct grpc_call **watchers; /* the ListAndWatch streams */
	size_t n_watchers;
	struct grpc_client *registering;
	char *registration; /* for GET /v1/kubernetes and the log */
	uint8_t *last;	    /* the last ListAndWatch message sent */
	size_t n_last;
};

struct kubelet {
	struct daemon *d;
	char *dir;
	bool open; /* the directory is made and watched */
	int inotify_fd;
	sd_event_source *inotify_source, *retry;
	struct kube_plugin **v; /* one per resource of d->kube, in its order (their own memory:
				   the gRPC calls point at them) */
	size_t n;
};

static const struct kube_resource *plugin_resource(const struct kube_plugin *p)
{
	return &p->k->d->kube.v[p->ri];
}

static void set_registration(struct kube_plugin *p, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static void set_registration(struct kube_plugin *p, const char *format, ...)
{
	va_list ap;
	char *s;

	va_start(ap, format);
	if (vasprintf(&s, format, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return;
	if (!p->registration || strcmp(p->registration, s) != 0)
		fprintf(stderr, "passthrud: %s: %s\n", plugin_resource(p)->name, s);
	free(p->registration);
	p->registration = s;
}

/* The resource's devices now; free with kube_devices_done(). */
static int plugin_devices(struct kube_plugin *p, struct kube_function **ret_f,
			  struct kube_devices *ret)
{
	struct daemon *d = p->k->d;
	struct kube_function *f = kubernetes_functions(&d->inv);
	int r;

	if (!f)
		return -ENOMEM;
	r = kube_resource_devices(&d->kube, p->ri, f, d->inv.n, ret);
	if (r < 0) {
		free(f);
		return r;
	}
	*ret_f = f;
	return 0;
}

static int pack(const ProtobufCMessage *m, uint8_t **ret, size_t *ret_len)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n ?: 1);

	if (!buf)
		return -ENOMEM;
	protobuf_c_message_pack(m, buf);
	*ret = buf;
	*ret_len = n;
	return 0;
}

/* ListAndWatchResponse: one Device per group, its health and its NUMA node. */
static int plugin_list(struct kube_plugin *p, uint8_t **ret, size_t *ret_len)
{
	V1beta1__ListAndWatchResponse resp = V1BETA1__LIST_AND_WATCH_RESPONSE__INIT;
	struct kube_function *f = NULL;
	struct kube_devices devs = {};
	V1beta1__Device *dv, **dvp;
	V1beta1__TopologyInfo *topo;
	V1beta1__NUMANode *node, **nodep;
	int r = plugin_devices(p, &f, &devs);

	if (r < 0)
		return r;
	dv = calloc(devs.n ?: 1, sizeof(*dv));
	dvp = calloc(devs.n ?: 1, sizeof(*dvp));
	topo = calloc(devs.n ?: 1, sizeof(*topo));
	node = calloc(devs.n ?: 1, sizeof(*node));
	nodep = calloc(devs.n ?: 1, sizeof(*nodep));
	if (!dv || !dvp || !topo || !node || !nodep) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < devs.n; i++) {
		dv[i] = (V1beta1__Device)V1BETA1__DEVICE__INIT;
		dv[i].id = (char *)devs.v[i].id;
		dv[i].health = devs.v[i].healthy ? "Healthy" : "Unhealthy";
		if (devs.v[i].numa_node >= 0) {
			node[i] = (V1beta1__NUMANode)V1BETA1__NUMANODE__INIT;
			node[i].id = devs.v[i].numa_node;
			nodep[i] = &node[i];
			topo[i] = (V1beta1__TopologyInfo)V1BETA1__TOPOLOGY_INFO__INIT;
			topo[i].n_nodes = 1;
			topo[i].nodes = &nodep[i];
			dv[i].topology = &topo[i];
		}
		dvp[i] = &dv[i];
	}
	resp.n_devices = devs.n;
	resp.devices = dvp;
	r = pack(&resp.base, ret, ret_len);
out:
	free(dv);
	free(dvp);
	free(topo);
	free(node);
	free(nodep);
	kube_devices_done(&devs);
	free(f);
	return r;
}

/* Sends the list to every ListAndWatch stream when it changed (or to all with force). */
static void plugin_update(struct kube_plugin *p)
{
	uint8_t *msg;
	size_t len;

	if (plugin_list(p, &msg, &len) < 0)
		return;
	if (p->last && len == p->n_last && memcmp(msg, p->last, len) == 0) {
		free(msg);
		return;
	}
	free(p->last);
	p->last = msg;
	p->n_last = len;
	for (size_t i = 0; i < p->n_watchers; i++)
		grpc_call_send(p->watchers[i], msg, len);
}

static void reply(struct grpc_call *call, const ProtobufCMessage *m)
{
	uint8_t *buf;
	size_t len;

	if (pack(m, &buf, &len) < 0) {
		grpc_call_fail(call, GRPC_INTERNAL, "out of memory");
		return;
	}
	grpc_call_reply(call, buf, len);
	free(buf);
}

static const struct kube_device *find_device(const struct kube_devices *devs, const char *id)
{
	for (size_t i = 0; i < devs->n; i++)
		if (strcmp(devs->v[i].id, id) == 0)
			return &devs->v[i];
	return NULL;
}

/*
 * GetPreferredAllocation: the devices that must be in, then the available ones on their NUMA
 * node (or, with none, on the node that has the most available), then the others. A device is
 * a whole IOMMU group already.
 */
static void preferred_allocation(struct kube_plugin *p, struct grpc_call *call, const uint8_t *msg,
				 size_t len)
{
	V1beta1__PreferredAllocationRequest *req =
	    v1beta1__preferred_allocation_request__unpack(NULL, len, msg);
	V1beta1__PreferredAllocationResponse resp = V1BETA1__PREFERRED_ALLOCATION_RESPONSE__INIT;
	V1beta1__ContainerPreferredAllocationResponse *cr = NULL, **crp = NULL;
	struct kube_function *f = NULL;
	struct kube_devices devs = {};
	char ***chosen = NULL;

	if (!req) {
		grpc_call_fail(call, GRPC_INVALID_ARGUMENT, "cannot decode the request");
		return;
	}
	if (plugin_devices(p, &f, &devs) < 0)
		goto oom;
	cr = calloc(req->n_container_requests ?: 1, sizeof(*cr));
	crp = calloc(req->n_container_requests ?: 1, sizeof(*crp));
	chosen = calloc(req->n_container_requests ?: 1, sizeof(*chosen));
	if (!cr || !crp || !chosen)
		goto oom;
	for (size_t c = 0; c < req->n_container_requests; c++) {
		const V1beta1__ContainerPreferredAllocationRequest *q = req->container_requests[c];
		size_t want = q->allocation_size > 0 ? (size_t)q->allocation_size : 0, n = 0;
		int numa = -1, best = 0;

		chosen[c] = calloc(q->n_available_deviceids + q->n_must_include_deviceids + 1,
				   sizeof(char *));
		if (!chosen[c])
			goto oom;
		for (size_t i = 0; i < q->n_must_include_deviceids && n < want; i++) {
			const struct kube_device *kd =
			    find_device(&devs, q->must_include_deviceids[i]);

			chosen[c][n++] = q->must_include_deviceids[i];
			if (kd && numa < 0)
				numa = kd->numa_node;
		}
		if (numa < 0)
			/* The node with the most available devices. */
			for (size_t i = 0; i < q->n_available_deviceids; i++) {
				const struct kube_device *kd =
				    find_device(&devs, q->available_deviceids[i]);
				int count = 0;

				if (!kd || kd->numa_node < 0)
					continue;
				for (size_t j = 0; j < q->n_available_deviceids; j++) {
					const struct kube_device *o =
					    find_device(&devs, q->available_deviceids[j]);

					count += o && o->numa_node == kd->numa_node;
				}
				if (count > best) {
					best = count;
					numa = kd->numa_node;
				}
			}
		for (int pass = 0; pass < 2; pass++)
			for (size_t i = 0; i < q->n_available_deviceids && n < want; i++) {
				const char *id = q->available_deviceids[i];
				const struct kube_device *kd = find_device(&devs, id);
				bool same = kd && kd->numa_node == numa, dup = false;

				if ((pass == 0) != same)
					continue;
				for (size_t j = 0; j < n; j++)
					dup = dup || strcmp(chosen[c][j], id) == 0;
				if (!dup)
					chosen[c][n++] = q->available_deviceids[i];
			}
		cr[c] = (V1beta1__ContainerPreferredAllocationResponse)
		    V1BETA1__CONTAINER_PREFERRED_ALLOCATION_RESPONSE__INIT;
		cr[c].n_deviceids = n;
		cr[c].deviceids = chosen[c];
		crp[c] = &cr[c];
	}
	resp.n_container_responses = req->n_container_requests;
	resp.container_responses = crp;
	reply(call, &resp.base);
	goto out;
oom:
	grpc_call_fail(call, GRPC_INTERNAL, "out of memory");
out:
	for (size_t c = 0; chosen && c < req->n_container_requests; c++)
		free(chosen[c]);
	free(chosen);
	free(cr);
	free(crp);
	kube_devices_done(&devs);
	free(f);
	v1beta1__preferred_allocation_request__free_unpacked(req, NULL);
}

/* Reads the group's endpoints again: Allocate answers from sysfs, not from a stale list. */
static void refresh_devices(struct kube_plugin *p, const V1beta1__AllocateRequest *req)
{
	struct daemon *d = p->k->d;

	for (size_t c = 0; c < req->n_container_requests; c++)
		for (size_t i = 0; i < req->container_requests[c]->n_devices_ids; i++) {
			const struct device *dev =
			    inventory_find(&d->inv, req->container_requests[c]->devices_ids[i]);
			int group = dev ? dev->group : -1;
			char **addrs = NULL;
			size_t n = 0;

			if (group < 0)
				continue;
			for (size_t j = 0; j < d->inv.n; j++)
				if (d->inv.v[j].group == group)
					n++;
			addrs = calloc(n + 1, sizeof(*addrs));
			if (!addrs)
				return;
			n = 0;
			for (size_t j = 0; j < d->inv.n; j++)
				if (d->inv.v[j].group == group)
					addrs[n++] = strdup(d->inv.v[j].address);
			for (size_t j = 0; j < n; j++) {
				if (addrs[j])
					inventory_refresh(d->ctx, &d->inv, addrs[j]);
				free(addrs[j]);
			}
			free(addrs);
		}
}

/*
 * Allocate: for KubeVirt, PCI_RESOURCE_<NAME> = every endpoint of the groups, and the VFIO
 * nodes. A device that is unknown or not wholly on vfio-pci fails the call: never a wrong answer.
 */
static void allocate(struct kube_plugin *p, struct grpc_call *call, const uint8_t *msg, size_t len)
{
	V1beta1__AllocateRequest *req = v1beta1__allocate_request__unpack(NULL, len, msg);
	V1beta1__AllocateResponse resp = V1BETA1__ALLOCATE_RESPONSE__INIT;
	const struct kube_resource *res = plugin_resource(p);
	struct kube_function *f = NULL;
	struct kube_devices devs = {};
	V1beta1__ContainerAllocateResponse *cr = NULL, **crp = NULL;
	V1beta1__ContainerAllocateResponse__EnvsEntry *env = NULL, **envp = NULL;
	V1beta1__DeviceSpec *spec = NULL, **specp = NULL;
	char **values = NULL, **paths = NULL, *env_name = NULL;
	size_t n_paths = 0, n_specs = 0;

	if (!req) {
		grpc_call_fail(call, GRPC_INVALID_ARGUMENT, "cannot decode the request");
		return;
	}
	refresh_devices(p, req);
	plugin_update(p);
	env_name = kube_resource_env_name(res->name);
	if (!env_name || plugin_devices(p, &f, &devs) < 0)
		goto oom;
	{
		size_t n_ids = 0;

		for (size_t c = 0; c < req->n_container_requests; c++)
			n_ids += req->container_requests[c]->n_devices_ids;
		cr = calloc(req->n_container_requests ?: 1, sizeof(*cr));
		crp = calloc(req->n_container_requests ?: 1, sizeof(*crp));
		env = calloc(req->n_container_requests ?: 1, sizeof(*env));
		envp = calloc(req->n_container_requests ?: 1, sizeof(*envp));
		values = calloc(req->n_container_requests ?: 1, sizeof(*values));
		spec = calloc(2 * n_ids + req->n_container_requests + 1, sizeof(*spec));
		specp = calloc(2 * n_ids + req->n_container_requests + 1, sizeof(*specp));
		paths = calloc(n_ids + 1, sizeof(*paths));
		if (!cr || !crp || !env || !envp || !values || !spec || !specp || !paths)
			goto oom;
	}
	for (size_t c = 0; c < req->n_container_requests; c++) {
		const V1beta1__ContainerAllocateRequest *q = req->container_requests[c];
		size_t first_spec = n_specs, vlen = 0;
		char *v;

		for (size_t i = 0; i < q->n_devices_ids; i++) {
			const struct kube_device *kd = find_device(&devs, q->devices_ids[i]);
			char m[1024];

			if (!kd) {
				snprintf(m, sizeof(m), "%.64s is not a device of %s",
					 q->devices_ids[i], res->name);
				grpc_call_fail(call, GRPC_NOT_FOUND, m);
				goto out;
			}
			if (!kd->healthy) {
				/* passthru bind refuses the kubelet's devices: out of the
				 * resource first. */
				snprintf(
				    m, sizeof(m),
				    "%s (IOMMU group %d) is not wholly on vfio-pci: a function "
				    "of its group left it; take it out of %s (%.200s:%u), run "
				    "passthru bind --group %s, then put it back",
				    kd->id, kd->group, res->name, res->file, res->line, kd->id);
				grpc_call_fail(call, GRPC_FAILED_PRECONDITION, m);
				goto out;
			}
			for (size_t j = 0; j < kd->n_addresses; j++)
				vlen += strlen(kd->addresses[j]) + 1;
		}
		v = calloc(vlen + 1, 1);
		if (!v)
			goto oom;
		values[c] = v;
		specp[n_specs] = &spec[n_specs];
		spec[n_specs] = (V1beta1__DeviceSpec)V1BETA1__DEVICE_SPEC__INIT;
		spec[n_specs].container_path = spec[n_specs].host_path = "/dev/vfio/vfio";
		spec[n_specs].permissions = "mrw";
		n_specs++;
		for (size_t i = 0; i < q->n_devices_ids; i++) {
			const struct kube_device *kd = find_device(&devs, q->devices_ids[i]);

			if (!kd) /* refused by the pass above; the same list */
				continue;
			for (size_t j = 0; j < kd->n_addresses; j++) {
				if (*v)
					strcat(v, ",");
				strcat(v, kd->addresses[j]);
			}
			if (asprintf(&paths[n_paths], "/dev/vfio/%d", kd->group) < 0)
				goto oom;
			specp[n_specs] = &spec[n_specs];
			spec[n_specs] = (V1beta1__DeviceSpec)V1BETA1__DEVICE_SPEC__INIT;
			spec[n_specs].container_path = spec[n_specs].host_path = paths[n_paths++];
			spec[n_specs].permissions = "mrw";
			n_specs++;
		}
		env[c] = (V1beta1__ContainerAllocateResponse__EnvsEntry)
		    V1BETA1__CONTAINER_ALLOCATE_RESPONSE__ENVS_ENTRY__INIT;
		env[c].key = env_name;
		env[c].value = v;
		envp[c] = &env[c];
		cr[c] =
		    (V1beta1__ContainerAllocateResponse)V1BETA1__CONTAINER_ALLOCATE_RESPONSE__INIT;
		cr[c].n_envs = 1;
		cr[c].envs = &envp[c];
		cr[c].n_devices = n_specs - first_spec;
		cr[c].devices = &specp[first_spec];
		crp[c] = &cr[c];
	}
	resp.n_container_responses = req->n_container_requests;
	resp.container_responses = crp;
	reply(call, &resp.base);
	goto out;
oom:
	grpc_call_fail(call, GRPC_INTERNAL, "out of memory");
out:
	for (size_t c = 0; values && c < req->n_container_requests; c++)
		free(values[c]);
	for (size_t i = 0; i < n_paths; i++)
		free(paths[i]);
	free(values);
	free(paths);
	free(spec);
	free(specp);
	free(env);
	free(envp);
	free(cr);
	free(crp);
	free(env_name);
	kube_devices_done(&devs);
	free(f);
	v1beta1__allocate_request__free_unpacked(req, NULL);
}

static void on_call(void *userdata, struct grpc_call *call, const char *path, const uint8_t *msg,
		    size_t len)
{
	struct kube_plugin *p = userdata;

	if (strcmp(path, "/v1beta1.DevicePlugin/GetDevicePluginOptions") == 0) {
		V1beta1__DevicePluginOptions o = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;

		o.get_preferred_allocation_available = true;
		reply(call, &o.base);
	} else if (strcmp(path, "/v1beta1.DevicePlugin/ListAndWatch") == 0) {
		struct grpc_call **v = realloc(p->watchers, (p->n_watchers + 1) * sizeof(*v));
		uint8_t *list;
		size_t n;

		if (!v || plugin_list(p, &list, &n) < 0) {
			if (v)
				p->watchers = v;
			grpc_call_fail(call, GRPC_INTERNAL, "out of memory");
			return;
		}
		p->watchers = v;
		p->watchers[p->n_watchers++] = call;
		free(p->last);
		p->last = list;
		p->n_last = n;
		grpc_call_send(call, list, n);
	} else if (strcmp(path, "/v1beta1.DevicePlugin/GetPreferredAllocation") == 0) {
		preferred_allocation(p, call, msg, len);
	} else if (strcmp(path, "/v1beta1.DevicePlugin/Allocate") == 0) {
		allocate(p, call, msg, len);
	} else if (strcmp(path, "/v1beta1.DevicePlugin/PreStartContainer") == 0) {
		V1beta1__PreStartContainerResponse o = V1BETA1__PRE_START_CONTAINER_RESPONSE__INIT;

		reply(call, &o.base);
	} else {
		grpc_call_fail(call, GRPC_UNIMPLEMENTED, "no such method");
	}
}

static void on_call_closed(void *userdata, struct grpc_call *call)
{
	struct kube_plugin *p = userdata;

	for (size_t i = 0; i < p->n_watchers; i++)
		if (p->watchers[i] == call) {
			memmove(p->watchers + i, p->watchers + i + 1,
				(p->n_watchers - i - 1) * sizeof(*p->watchers));
			p->n_watchers--;
			return;
		}
}

static void plugin_stop_serving(struct kube_plugin *p)
{
	grpc_server_free(p->server);
	p->server = NULL;
	p->n_watchers = 0;
}

/* Makes the plugin's socket (again) and serves it. */
static int plugin_serve(struct kube_plugin *p)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, r;

	plugin_stop_serving(p);
	if (strlen(p->socket_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, p->socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	unlink(p->socket_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return grpc_server_new(p->k->d->event, fd, on_call, on_call_closed, p, &p->server);
}

static void on_registered(void *userdata, int status, const char *message, const uint8_t *msg,
			  size_t len)
{
	struct kube_plugin *p = userdata;

	p->registering = NULL;
	if (status == GRPC_OK)
		set_registration(p, "registered with the kubelet (endpoint %s)", p->endpoint);
	else
		set_registration(p,
				 "the kubelet refused the registration (gRPC status %d: %s); "
				 "trying again",
				 status, message);
}

static void plugin_register(struct kube_plugin *p)
{
	V1beta1__RegisterRequest req = V1BETA1__REGISTER_REQUEST__INIT;
	V1beta1__DevicePluginOptions o = V1BETA1__DEVICE_PLUGIN_OPTIONS__INIT;
	char *kubelet_sock = NULL;
	uint8_t *buf;
	size_t len;
	int r;

	if (p->registering || !p->server)
		return;
	o.get_preferred_allocation_available = true;
	req.version = "v1beta1";
	req.endpoint = p->endpoint;
	req.resource_name = (char *)plugin_resource(p)->name;
	req.options = &o;
	if (asprintf(&kubelet_sock, "%s/" KUBELET_SOCKET, p->k->dir) < 0 ||
	    pack(&req.base, &buf, &len) < 0) {
		free(kubelet_sock);
		return;
	}
	r = grpc_client_call(p->k->d->event, kubelet_sock, "/v1beta1.Registration/Register", buf,
			     len, REGISTER_TIMEOUT_MS, on_registered, p, &p->registering);
	if (r < 0)
		set_registration(p, "waiting for the kubelet (%s: %s)", kubelet_sock, strerror(-r));
	free(buf);
	free(kubelet_sock);
}

static bool is_registered(const struct kube_plugin *p)
{
	return p->registration && strncmp(p->registration, "registered", 10) == 0;
}

static void kubelet_sync(struct kubelet *k, bool kubelet_new)
{
	for (size_t i = 0; i < k->n; i++) {
		struct kube_plugin *p = k->v[i];
		struct stat st;

		/* Our socket gone (the kubelet restarts): serve anew, register anew. */
		if (!p->server || lstat(p->socket_path, &st) < 0) {
			int r = plugin_serve(p);

			if (r < 0) {
				set_registration(p, "cannot serve %s: %s", p->socket_path,
						 strerror(-r));
				continue;
			}
			kubelet_new = true;
			free(p->registration);
			p->registration = NULL;
		}
		if (kubelet_new) {
			grpc_client_cancel(p->registering);
			p->registering = NULL;
			free(p->registration);
			p->registration = NULL;
		}
		if (!is_registered(p))
			plugin_register(p);
	}
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct kubelet *k = userdata;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool kubelet_new = false;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (char *at = buf; at < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)at;

			if (e->len && strcmp(e->name, KUBELET_SOCKET) == 0 &&
			    (e->mask & (IN_CREATE | IN_MOVED_TO)))
				kubelet_new = true;
			at += sizeof(*e) + e->len;
		}
	kubelet_sync(k, kubelet_new);
	return 0;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct kubelet *k = userdata;

	kubelet_sync(k, false);
	/* A time source is a oneshot: armed again for the next round. */
	sd_event_source_set_time(s, usec + RETRY_USEC);
	sd_event_source_set_enabled(s, SD_EVENT_ON);
	return 0;
}

/* "passthru.io/vf" -> "passthru-passthru.io_vf.sock": one file name per resource. */
static char *endpoint_name(const char *resource)
{
	char *s;

	if (asprintf(&s, "passthru-%s.sock", resource) < 0)
		return NULL;
	for (char *c = s; *c; c++)
		if (*c == '/')
			*c = '_';
	return s;
}

static struct kube_plugin *plugin_new(struct kubelet *k, size_t ri)
{
	struct kube_plugin *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->k = k;
	p->ri = ri;
	p->name = strdup(k->d->kube.v[ri].name);
	p->endpoint = endpoint_name(k->d->kube.v[ri].name);
	if (!p->name || !p->endpoint ||
	    asprintf(&p->socket_path, "%s/%s", k->dir, p->endpoint) < 0) {
		free(p->name);
		free(p->endpoint);
		free(p);
		return NULL;
	}
	return p;
}

/* Stops serving and removes the socket: the kubelet then forgets the resource's devices. */
static void plugin_free(struct kube_plugin *p)
{
	if (!p)
		return;
	grpc_client_cancel(p->registering);
	plugin_stop_serving(p);
	if (p->socket_path)
		unlink(p->socket_path);
	free(p->watchers);
	free(p->registration);
	free(p->last);
	free(p->name);
	free(p->endpoint);
	free(p->socket_path);
	free(p);
}

/* Makes and watches the kubelet's directory; the plugins come after. */
static int kubelet_open(struct kubelet *k)
{
	struct daemon *d = k->d;
	uint64_t now;
	int r;

	if (k->open)
		return 0;
	/* The kubelet makes it too; made here, passthrud can watch it before the kubelet runs. */
	if (mkdir(k->dir, 0750) < 0 && errno != EEXIST)
		return -errno;
	if (k->inotify_fd < 0) {
		k->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (k->inotify_fd < 0)
			return -errno;
	}
	if (inotify_add_watch(k->inotify_fd, k->dir, IN_CREATE | IN_DELETE | IN_MOVED_TO) < 0)
		return -errno;
	if (!k->inotify_source) {
		r = sd_event_add_io(d->event, &k->inotify_source, k->inotify_fd, EPOLLIN,
				    on_inotify, k);
		if (r < 0)
			return r;
	}
	if (!k->retry) {
		sd_event_now(d->event, CLOCK_MONOTONIC, &now);
		r = sd_event_add_time(d->event, &k->retry, CLOCK_MONOTONIC, now + RETRY_USEC,
				      100000, on_retry, k);
		if (r < 0)
			return r;
	}
	k->open = true;
	return 0;
}

/*
 * The plugins for d->kube, reusing the ones whose resource is still defined (by name, so that
 * their sockets and streams live on); the others are freed. Returns 0 or -ENOMEM (then the
 * plugins are as they were).
 */
static int kubelet_match_plugins(struct kubelet *k)
{
	struct daemon *d = k->d;
	struct kube_plugin **v = calloc(d->kube.n ?: 1, sizeof(*v));
	size_t *old = calloc(d->kube.n ?: 1, sizeof(*old));

	if (!v || !old) {
		free(v);
		free(old);
		return -ENOMEM;
	}
	for (size_t ri = 0; ri < d->kube.n; ri++) {
		old[ri] = SIZE_MAX;
		for (size_t i = 0; i < k->n && old[ri] == SIZE_MAX; i++)
			if (strcmp(k->v[i]->name, d->kube.v[ri].name) == 0)
				old[ri] = i;
		if (old[ri] == SIZE_MAX && !(v[ri] = plugin_new(k, ri))) {
			for (size_t j = 0; j < ri; j++)
				if (old[j] == SIZE_MAX)
					plugin_free(v[j]);
			free(v);
			free(old);
			return -ENOMEM;
		}
	}
	for (size_t ri = 0; ri < d->kube.n; ri++)
		if (old[ri] != SIZE_MAX) {
			v[ri] = k->v[old[ri]];
			k->v[old[ri]] = NULL;
		}
	for (size_t i = 0; i < k->n; i++)
		if (k->v[i]) {
			fprintf(
			    stderr,
			    "passthrud: %s: no longer in kubernetes.d: not served, %s removed\n",
			    k->v[i]->name, k->v[i]->socket_path);
			plugin_free(k->v[i]);
		}
	for (size_t ri = 0; ri < d->kube.n; ri++)
		v[ri]->ri = ri;
	free(old);
	free(k->v);
	k->v = v;
	k->n = d->kube.n;
	return 0;
}

int kubelet_start(struct daemon *d, const char *dir)
{
	struct kubelet *k = calloc(1, sizeof(*k));
	int r;

	if (!k)
		return -ENOMEM;
	d->kubelet = k;
	k->d = d;
	k->inotify_fd = -1;
	k->dir = strdup(dir);
	if (!k->dir)
		return -ENOMEM;
	if (d->kube.n == 0)
		return 0;
	r = kubelet_open(k);
	if (r < 0)
		return r;
	r = kubelet_match_plugins(k);
	if (r < 0)
		return r;
	kubelet_sync(k, false);
	return 0;
}

void kubelet_config_changed(struct daemon *d)
{
	struct kubelet *k = d->kubelet;
	int r;

	if (!k)
		return;
	if (d->kube.n > 0) {
		/* The resources still own their devices: the HTTP API keeps refusing them. */
		r = kubelet_open(k);
		if (r < 0) {
			fprintf(stderr, "passthrud: the device plugin is not served in %s: %s\n",
				k->dir, strerror(-r));
			return;
		}
	}
	if (!k->open)
		return;
	r = kubelet_match_plugins(k);
	if (r < 0) {
		fprintf(stderr, "passthrud: cannot follow kubernetes.d: %s\n", strerror(-r));
		return;
	}
	kubelet_sync(k, false);
	for (size_t i = 0; i < k->n; i++)
		plugin_update(k->v[i]);
}

void kubelet_inventory_changed(struct daemon *d)
{
	struct kubelet *k = d->kubelet;

	for (size_t i = 0; k && i < k->n; i++)
		plugin_update(k->v[i]);
}

const char *kubelet_registration(const struct daemon *d, size_t ri)
{
	const struct kubelet *k = d->kubelet;

	if (!k || ri >= k->n)
		return "not served";
	return k->v[ri]->registration ?: "waiting for the kubelet";
}

void kubelet_stop(struct daemon *d)
{
	struct kubelet *k = d->kubelet;

	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++)
		plugin_free(k->v[i]);
	sd_event_source_disable_unref(k->inotify_source);
	sd_event_source_disable_unref(k->retry);
	if (k->inotify_fd >= 0)
		close(k->inotify_fd);
	free(k->v);
	free(k->dir);
	free(k);
	d->kubelet = NULL;
}
