// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A stand-in kubelet for the guest, where there is no python: kubelet-probe DIR RESOURCE SEC
 * serves Registration on DIR/kubelet.sock and, once passthrud registers RESOURCE, dials its
 * endpoint as the kubelet does: GetDevicePluginOptions, then ListAndWatch, Allocate of the first
 * Healthy device, and it keeps reading the stream until a list says that device is Unhealthy
 * (exit 0) or SEC seconds have passed (exit 1). Built on passthrud's own gRPC code and messages
 * (daemon/kubernetes-grpc.c, deviceplugin/api.proto). Lines on stdout, for the job to read:
 *   REGISTER version=V endpoint=E resource=R preferred=0|1
 *   OPTIONS preferred=0|1
 *   LIST MS ID=HEALTH[@NUMA] ...      MS: CLOCK_BOOTTIME in ms, as /proc/uptime counts
 *   ENV KEY=VALUE / SPEC CONTAINER HOST PERMISSIONS / ALLOCATED ID
 *   UNHEALTHY MS ID / FAIL what
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "api.pb-c.h"
#include "kubernetes-grpc.h"

struct probe {
	sd_event *event;
	char *dir;
	const char *resource;
	char *endpoint;
	struct grpc_server *registration;
	struct grpc_client *options, *watch, *allocate;
	char *allocated; /* the device given to the "pod" */
	bool unhealthy;
	int exit_code;
};

static long long boottime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void finish(struct probe *p, int code, const char *why)
{
	if (why)
		printf("FAIL %s\n", why);
	p->exit_code = code;
	sd_event_exit(p->event, code);
}

static char *endpoint_path(const struct probe *p)
{
	char *s;

	return asprintf(&s, "%s/%s", p->dir, p->endpoint) < 0 ? NULL : s;
}

static void on_allocated(void *userdata, int status, const char *message, const uint8_t *msg,
			 size_t len)
{
	struct probe *p = userdata;
	V1beta1__AllocateResponse *r;

	p->allocate = NULL;
	if (status != GRPC_OK) {
		printf("FAIL Allocate: gRPC status %d: %s\n", status, message);
		finish(p, 1, NULL);
		return;
	}
	r = v1beta1__allocate_response__unpack(NULL, len, msg);
	if (!r || r->n_container_responses != 1) {
		finish(p, 1, "Allocate: not one container response");
		v1beta1__allocate_response__free_unpacked(r, NULL);
		return;
	}
	for (size_t i = 0; i < r->container_responses[0]->n_envs; i++)
		printf("ENV %s=%s\n", r->container_responses[0]->envs[i]->key,
		       r->container_responses[0]->envs[i]->value);
	for (size_t i = 0; i < r->container_responses[0]->n_devices; i++) {
		const V1beta1__DeviceSpec *d = r->container_responses[0]->devices[i];

		printf("SPEC %s %s %s\n", d->container_path, d->host_path, d->permissions);
	}
	printf("ALLOCATED %s\n", p->allocated);
	v1beta1__allocate_response__free_unpacked(r, NULL);
}

static void allocate(struct probe *p, const char *id)
{
	V1beta1__AllocateRequest req = V1BETA1__ALLOCATE_REQUEST__INIT;
	V1beta1__ContainerAllocateRequest c = V1BETA1__CONTAINER_ALLOCATE_REQUEST__INIT, *cp = &c;
	char *ids[1], *path = endpoint_path(p);
	size_t len;
	uint8_t *buf;
	int r;

	p->allocated = strdup(id);
	ids[0] = p->allocated;
	c.n_devices_ids = 1;
	c.devices_ids = ids;
	req.n_container_requests = 1;
	req.container_requests = &cp;
	len = protobuf_c_message_get_packed_size(&req.base);
	buf = malloc(len ?: 1);
	if (!path || !p->allocated || !buf) {
		free(path);
		free(buf);
		finish(p, 1, "out of memory");
		return;
	}
	protobuf_c_message_pack(&req.base, buf);
	r = grpc_client_call(p->event, path, "/v1beta1.DevicePlugin/Allocate", buf, len, 30000,
			     on_allocated, p, &p->allocate);
	if (r < 0) {
		printf("FAIL Allocate: %s: %s\n", path, strerror(-r));
		finish(p, 1, NULL);
	}
	free(path);
	free(buf);
}

static void on_list(void *userdata, const uint8_t *msg, size_t len)
{
	struct probe *p = userdata;
	V1beta1__ListAndWatchResponse *r = v1beta1__list_and_watch_response__unpack(NULL, len, msg);
	long long now = boottime_ms();

	if (!r) {
		finish(p, 1, "ListAndWatch: cannot decode a list");
		return;
	}
	printf("LIST %lld", now);
	for (size_t i = 0; i < r->n_devices; i++) {
		const V1beta1__Device *d = r->devices[i];

		printf(" %s=%s", d->id, d->health);
		if (d->topology && d->topology->n_nodes)
			printf("@%lld", (long long)d->topology->nodes[0]->id);
	}
	printf("\n");
	for (size_t i = 0; i < r->n_devices; i++) {
		const V1beta1__Device *d = r->devices[i];
		bool healthy = strcmp(d->health, "Healthy") == 0;

		if (!p->allocated && healthy && !p->allocate)
			allocate(p, d->id);
		else if (p->allocated && !healthy && strcmp(d->id, p->allocated) == 0 &&
			 !p->unhealthy) {
			p->unhealthy = true;
			printf("UNHEALTHY %lld %s\n", now, d->id);
			finish(p, 0, NULL);
		}
	}
	v1beta1__list_and_watch_response__free_unpacked(r, NULL);
}

static void on_watch_done(void *userdata, int status, const char *message, const uint8_t *msg,
			  size_t len)
{
	struct probe *p = userdata;

	p->watch = NULL;
	if (!p->unhealthy) {
		printf("FAIL ListAndWatch ended: gRPC status %d: %s\n", status, message);
		finish(p, 1, NULL);
	}
}

static void on_options(void *userdata, int status, const char *message, const uint8_t *msg,
		       size_t len)
{
	struct probe *p = userdata;
	V1beta1__DevicePluginOptions *o;
	char *path;
	int r;

	p->options = NULL;
	if (status != GRPC_OK) {
		printf("FAIL GetDevicePluginOptions: gRPC status %d: %s\n", status, message);
		finish(p, 1, NULL);
		return;
	}
	o = v1beta1__device_plugin_options__unpack(NULL, len, msg);
	printf("OPTIONS preferred=%d\n", o ? o->get_preferred_allocation_available : -1);
	v1beta1__device_plugin_options__free_unpacked(o, NULL);
	path = endpoint_path(p);
	if (!path) {
		finish(p, 1, "out of memory");
		return;
	}
	/* V1beta1__Empty packs to no bytes. */
	r = grpc_client_stream(p->event, path, "/v1beta1.DevicePlugin/ListAndWatch", NULL, 0,
			       10 * 60 * 1000, on_list, on_watch_done, p, &p->watch);
	if (r < 0) {
		printf("FAIL ListAndWatch: %s: %s\n", path, strerror(-r));
		finish(p, 1, NULL);
	}
	free(path);
}

static void on_call(void *userdata, struct grpc_call *call, const char *path, const uint8_t *msg,
		    size_t len)
{
	struct probe *p = userdata;
	V1beta1__RegisterRequest *req;
	char *ep;
	int r;

	if (strcmp(path, "/v1beta1.Registration/Register") != 0) {
		grpc_call_fail(call, GRPC_UNIMPLEMENTED, "the stand-in kubelet has Register only");
		return;
	}
	req = v1beta1__register_request__unpack(NULL, len, msg);
	if (!req) {
		grpc_call_fail(call, GRPC_INVALID_ARGUMENT, "cannot decode the request");
		return;
	}
	printf("REGISTER version=%s endpoint=%s resource=%s preferred=%d\n", req->version,
	       req->endpoint, req->resource_name,
	       req->options ? req->options->get_preferred_allocation_available : 0);
	grpc_call_reply(call, NULL, 0);
	if (strcmp(req->resource_name, p->resource) == 0 && !p->endpoint) {
		p->endpoint = strdup(req->endpoint);
		ep = endpoint_path(p);
		r = ep ? grpc_client_call(p->event, ep,
					  "/v1beta1.DevicePlugin/GetDevicePluginOptions", NULL, 0,
					  30000, on_options, p, &p->options)
		       : -ENOMEM;
		if (r < 0) {
			printf("FAIL GetDevicePluginOptions: %s\n", strerror(-r));
			finish(p, 1, NULL);
		}
		free(ep);
	}
	v1beta1__register_request__free_unpacked(req, NULL);
}

static void on_call_closed(void *userdata, struct grpc_call *call)
{
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	finish(userdata, 1, "no Unhealthy list for the allocated device in time");
	return 0;
}

int main(int argc, char **argv)
{
	struct probe p = {.exit_code = 1};
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	sd_event_source *deadline = NULL;
	char *sock = NULL;
	uint64_t now;
	int fd;

	if (argc != 4 || atoi(argv[3]) <= 0) {
		fprintf(stderr, "usage: kubelet-probe DIR RESOURCE SECONDS\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	p.dir = argv[1];
	p.resource = argv[2];
	if (asprintf(&sock, "%s/kubelet.sock", p.dir) < 0 || strlen(sock) >= sizeof(sa.sun_path))
		return 2;
	strcpy(sa.sun_path, sock);
	unlink(sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		fprintf(stderr, "kubelet-probe: %s: %s\n", sock, strerror(errno));
		return 1;
	}
	if (sd_event_default(&p.event) < 0 ||
	    grpc_server_new(p.event, fd, on_call, on_call_closed, &p, &p.registration) < 0)
		return 1;
	sd_event_now(p.event, CLOCK_MONOTONIC, &now);
	sd_event_add_time(p.event, &deadline, CLOCK_MONOTONIC,
			  now + (uint64_t)atoi(argv[3]) * 1000000ULL, 0, on_deadline, &p);
	printf("LISTENING %s\n", sock);
	sd_event_loop(p.event);
	grpc_client_cancel(p.options);
	grpc_client_cancel(p.watch);
	grpc_client_cancel(p.allocate);
	grpc_server_free(p.registration);
	sd_event_source_unref(deadline);
	sd_event_unref(p.event);
	unlink(sock);
	free(sock);
	free(p.endpoint);
	free(p.allocated);
	return p.exit_code;
}
