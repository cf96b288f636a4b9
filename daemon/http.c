/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The HTTP side: libmicrohttpd without threads of its own (MHD_USE_EPOLL), its epoll fd
 * watched by the sd-event loop, MHD_run() when it is readable or its timeout passes.
 *
 * Access: the peer's credentials (SO_PEERCRED, SO_PEERGROUPS) decide. uid 0 and members of
 * the write group (--write-group, none by default: the explicit policy) may do anything;
 * members of the read group (primary or supplementary, at connect time) may GET; everyone
 * else gets 403. Every answer but 204 and the streams is JSON; every error is
 * {"error": "...", "hint": "..."}.
 *
 * Memory: an answer as large as GET /v1/devices on a big host (650 kB of JSON for 4096
 * functions, built from some 50 000 json-c objects) takes megabytes of heap for a moment.
 * glibc keeps what was freed (the holes between chunks still in use are never given back, and
 * a large free raises its mmap and trim thresholds), so one such answer left 3.5 MiB more
 * RssAnon for good, though the bytes in use were back where they were (no leak). Once the
 * requests pause for TRIM_IDLE_USEC, malloc_trim() gives the free pages back, at idle
 * priority: a load without pauses is never slowed by it.
 */
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "passthrud.h"
#include "request.h"

#define TRIM_IDLE_USEC (1000 * 1000ULL)

struct request {
	char *body;
	size_t len;
	bool too_large;
	bool may_read, may_write;
	struct timespec start;
	/*
	 * A request waiting for the worker: its connection is suspended until answer() puts the
	 * answer here and resumes it; MHD then calls on_request() again, which sends it.
	 */
	struct later later;
	struct daemon *d;
	struct MHD_Connection *c;
	bool answered;
	unsigned status;
	struct json_object *answer;
};

struct json_object *error_json(const char *error, const char *hint)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(error));
	json_object_object_add(o, "hint", json_object_new_string(hint));
	return o;
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *type,
				 char *text)
{
	struct MHD_Response *resp;
	enum MHD_Result ok;

	resp = MHD_create_response_from_buffer(
	    text ? strlen(text) : 0, text, text ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	if (type)
		MHD_add_response_header(resp, "Content-Type", type);
	ok = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ok;
}

/* Sends body (consumed; NULL for none, as 204 wants) with status. */
static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status,
				 struct json_object *body)
{
	char *text = NULL;

	if (!body && status != 204) {
		body = error_json("out of memory", "try again");
		status = 500;
	}
	if (body) {
		const char *s = json_object_to_json_string_ext(
		    body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

		if (asprintf(&text, "%s\n", s) < 0)
			text = NULL;
		json_object_put(body);
		if (!text)
			return MHD_NO;
	}
	return send_text(c, status, body ? "application/json" : NULL, text);
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *error,
				  const char *hint)
{
	return send_json(c, status, error_json(error, hint));
}

static bool in_group(int fd, const struct ucred *cred, gid_t gid)
{
	gid_t groups[256];
	socklen_t len = sizeof(groups);

	if (gid == (gid_t)-1)
		return false;
	if (cred->gid == gid)
		return true;
	/* Supplementary groups as they were when the peer connected (Linux 4.13). */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* What the peer may do, from its credentials. */
static void peer_access(struct daemon *d, struct MHD_Connection *c, struct request *req)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (!info || getsockopt(info->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return;
	if (cred.uid == 0 || in_group(info->connect_fd, &cred, d->write_gid)) {
		req->may_read = req->may_write = true;
		return;
	}
	req->may_read = in_group(info->connect_fd, &cred, d->read_gid);
}

static void answer(struct later *l, unsigned status, struct json_object *body)
{
	struct request *req = (struct request *)((char *)l - offsetof(struct request, later));

	req->answered = true;
	req->status = status;
	req->answer = body;
	MHD_resume_connection(req->c);
	req->d->http_resumed = true;
}

/* Sends status and body now, or with 0 suspends the request until answer(). */
static enum MHD_Result send_or_wait(struct MHD_Connection *c, unsigned status,
				    struct json_object *body)
{
	if (status)
		return send_json(c, status, body);
	MHD_suspend_connection(c);
	return MHD_YES;
}

static enum MHD_Result get_devices(struct daemon *d, struct MHD_Connection *c)
{
	struct json_object *o = json_object_new_object(), *list = json_object_new_array();

	for (size_t i = 0; i < d->inv.n; i++)
		json_object_array_add(list, device_to_json(d, &d->inv.v[i]));
	for (size_t i = 0; i < d->inv.n_ports; i++)
		json_object_array_add(list, device_to_json(d, &d->inv.ports[i]));
	json_object_object_add(o, "devices", list);
	return send_json(c, 200, o);
}

static enum MHD_Result get_device(struct daemon *d, struct MHD_Connection *c, const char *arg)
{
	char address[DEVICE_ADDRESS_MAX + 1];
	const struct device *dev;

	/* GET /v1/devices/0000:02:00.0, /v1/devices/1-2.3, /v1/devices/ttyS1 (or /dev/ttyS1). */
	if (strlen(arg) > DEVICE_ADDRESS_MAX || device_address_canonical(arg, address) < 0)
		return send_error(
		    c, 404, "not a device address",
		    "GET /v1/devices/0000:02:00.0 (a PCI function), /v1/devices/1-2.3 "
		    "(a USB port path) or /v1/devices/ttyS1 (a serial port)");
	dev = inventory_find(&d->inv, address);
	if (!dev)
		return send_error(c, 404, "no such device", "GET /v1/devices lists them");
	return send_json(c, 200, device_to_json(d, dev));
}

/* An allocation with "lost": its devices that are off vfio-pci or gone (see uevents.c). */
static struct json_object *allocation_live_json(const struct daemon *d, const struct allocation *a)
{
	struct json_object *o = allocation_to_json(a), *lost = json_object_new_array();

	for (size_t i = 0; i < a->n_devices; i++) {
		const struct device *dev = inventory_find(&d->inv, a->devices[i]);

		if (!dev || strcmp(device_state(d, dev, NULL), "lost") == 0)
			json_object_array_add(lost, json_object_new_string(a->devices[i]));
	}
	json_object_object_add(o, "lost", lost);
	return o;
}

static enum MHD_Result get_allocations(struct daemon *d, struct MHD_Connection *c)
{
	struct json_object *o = json_object_new_object(), *list = json_object_new_array();

	for (size_t i = 0; i < d->allocs.n; i++)
		if (!d->allocs.v[i].pending)
			json_object_array_add(list, allocation_live_json(d, &d->allocs.v[i]));
	json_object_object_add(o, "allocations", list);
	return send_json(c, 200, o);
}

/* An allocation id in a URL: decimal, 1 to 2^53. */
static long parse_id(const char *s)
{
	char *end;
	long v;

	if (!*s || *s < '1' || *s > '9' || strlen(s) > 16)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	return errno || *end ? -1 : v;
}

static enum MHD_Result route(struct daemon *d, struct MHD_Connection *c, const char *method,
			     const char *url, struct request *req)
{
	bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	bool post = strcmp(method, "POST") == 0, del = strcmp(method, "DELETE") == 0;
	struct json_object *body = NULL;
	const char *to;
	unsigned status;
	long id;

	if ((get && !req->may_read) || (!get && !req->may_write))
		return send_error(
		    c, 403,
		    get ? "permission denied: reading needs root or the service's group"
			: "permission denied: changes need root",
		    get ? "run as root or as a member of the group passthru"
			: "run as root (sudo)");
	if (strcmp(url, "/v1/devices") == 0 && get)
		return get_devices(d, c);
	if (strncmp(url, "/v1/devices/", 12) == 0 && get)
		return get_device(d, c, url + 12);
	if (strcmp(url, "/v1/allocations") == 0 && get)
		return get_allocations(d, c);
	if (strcmp(url, "/v1/kubernetes") == 0 && get)
		return send_json(c, 200, kubernetes_to_json(d));
	if (strcmp(url, "/v1/allocations") == 0 && post) {
		if (req->too_large)
			return send_error(c, 413, "the body is larger than 64 KiB",
					  "an allocation request is a small JSON object");
		status = allocation_create(d, req->body ?: "", req->len, &body, &req->later);
		return send_or_wait(c, status, body);
	}
	if (strncmp(url, "/v1/allocations/", 16) == 0 && (get || del)) {
		id = parse_id(url + 16);
		if (id < 0)
			return send_error(c, 404, "not an allocation id",
					  "GET /v1/allocations lists them");
		if (get) {
			struct allocation *a = allocation_find(&d->allocs, id);

			if (!a)
				return send_error(c, 404, "no such allocation",
						  "GET /v1/allocations lists them");
			return send_json(c, 200, allocation_live_json(d, a));
		}
		to = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "to");
		if (to && strcmp(to, "pool") != 0 && strcmp(to, "host") != 0)
			return send_error(
			    c, 400, "\"to\" must be pool or host",
			    "DELETE /v1/allocations/ID?to=host gives the devices back "
			    "to their host drivers");
		status =
		    allocation_release(d, id, to && strcmp(to, "host") == 0, &body, &req->later);
		return send_or_wait(c, status, body);
	}
	if (strcmp(url, "/v1/events") == 0 && get) {
		int r = events_serve(
		    d, c, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Last-Event-ID"));
		if (r == -EBUSY)
			return send_error(c, 503, "too many event streams",
					  "close another GET /v1/events first");
		return r < 0 ? MHD_NO : MHD_YES;
	}
	if (strcmp(url, "/metrics") == 0 && get) {
		char *text = metrics_render(d);

		if (!text)
			return send_error(c, 500, "out of memory", "try again");
		return send_text(c, 200, "text/plain; version=0.0.4", text);
	}
	if (strcmp(url, "/v1/devices") == 0 || strncmp(url, "/v1/devices/", 12) == 0 ||
	    strncmp(url, "/v1/allocations", 15) == 0 || strcmp(url, "/v1/events") == 0 ||
	    strcmp(url, "/v1/kubernetes") == 0 || strcmp(url, "/metrics") == 0)
		return send_error(c, 405, "method not allowed",
				  "see passthrud(8) for the methods of each path");
	return send_error(c, 404, "no such path",
			  "the paths are /v1/devices, /v1/allocations, /v1/events, /v1/kubernetes, "
			  "/metrics");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct daemon *d = cls;
	struct request *req = *con_cls;

	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &req->start);
		req->later.answer = answer;
		req->d = d;
		req->c = c;
		peer_access(d, c, req);
		*con_cls = req;
		return MHD_YES;
	}
	if (req->answered) {
		struct json_object *body = req->answer;

		req->answered = false;
		req->answer = NULL;
		return send_json(c, req->status, body);
	}
	if (*upload_data_size > 0) {
		if (!req->too_large && req->len + *upload_data_size <= ALLOC_BODY_MAX) {
			char *nb = realloc(req->body, req->len + *upload_data_size + 1);

			if (!nb)
				return MHD_NO;
			req->body = nb;
			memcpy(req->body + req->len, upload_data, *upload_data_size);
			req->len += *upload_data_size;
			req->body[req->len] = '\0';
		} else {
			/* Read the rest and drop it: the answer is 413. */
			req->too_large = true;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	return route(d, c, method, url, req);
}

static int on_trim(sd_event_source *s, uint64_t usec, void *userdata)
{
	malloc_trim(0);
	return 0;
}

/*
 * (Again) TRIM_IDLE_USEC from now: under a load without pauses it keeps moving on, so no
 * request waits for a trim (6 ms for the 3.4 MiB a big list leaves; 0.1-0.2 ms otherwise).
 */
static void arm_trim(struct daemon *d)
{
	uint64_t now;

	if (!d->trim_timer || sd_event_now(d->event, CLOCK_MONOTONIC, &now) < 0)
		return;
	sd_event_source_set_time(d->trim_timer, now + TRIM_IDLE_USEC);
	sd_event_source_set_enabled(d->trim_timer, SD_EVENT_ONESHOT);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct daemon *d = cls;
	struct request *req = *con_cls;
	const union MHD_ConnectionInfo *info;
	struct timespec now;
	unsigned status = 0;

	if (!req)
		return;
	info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
	if (info)
		status = info->http_status;
	clock_gettime(CLOCK_MONOTONIC, &now);
	metrics_request(&d->metrics, status,
			(double)(now.tv_sec - req->start.tv_sec) +
			    (double)(now.tv_nsec - req->start.tv_nsec) / 1e9);
	json_object_put(req->answer);
	free(req->body);
	free(req);
	*con_cls = NULL;
	arm_trim(d);
}

static void arm_timer(struct daemon *d)
{
	MHD_UNSIGNED_LONG_LONG ms;
	uint64_t now;

	if (MHD_get_timeout(d->mhd, &ms) != MHD_YES) {
		sd_event_source_set_enabled(d->mhd_timer, SD_EVENT_OFF);
		return;
	}
	sd_event_now(d->event, CLOCK_MONOTONIC, &now);
	sd_event_source_set_time(d->mhd_timer, now + ms * 1000ULL);
	sd_event_source_set_enabled(d->mhd_timer, SD_EVENT_ONESHOT);
}

static int on_mhd_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct daemon *d = userdata;

	MHD_run(d->mhd);
	arm_timer(d);
	return 0;
}

static int on_mhd_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	MHD_run(d->mhd);
	arm_timer(d);
	return 0;
}

/*
 * After every dispatch of the loop: anything that resumed a stream (an event) needs MHD to
 * run, and MHD's timeout may have moved.
 */
static int on_post(sd_event_source *s, void *userdata)
{
	struct daemon *d = userdata;

	if (d->events.clients || d->http_resumed) {
		d->http_resumed = false;
		MHD_run(d->mhd);
	}
	arm_timer(d);
	return 0;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	fputs("passthrud: http: ", stderr);
	vfprintf(stderr, fmt, ap);
}

int http_start(struct daemon *d)
{
	const union MHD_DaemonInfo *info;
	int r;

	d->mhd = MHD_start_daemon(
	    MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request,
	    d, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, d, MHD_OPTION_LISTEN_SOCKET, d->listen_fd,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, d, MHD_OPTION_CONNECTION_TIMEOUT, 30U,
	    MHD_OPTION_CONNECTION_LIMIT, 512U, MHD_OPTION_END);
	if (!d->mhd)
		return -EIO;
	info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info)
		return -EIO;
	r = sd_event_add_io(d->event, &d->mhd_io, info->epoll_fd, EPOLLIN, on_mhd_io, d);
	if (r < 0)
		return r;
	/* Accuracy 1 us: with 0, sd-event's default of 250 ms applies, and a connection that MHD
	 * asked to be run again at once (timeout 0) waited up to a quarter of a second. */
	r = sd_event_add_time(d->event, &d->mhd_timer, CLOCK_MONOTONIC, 0, 1, on_mhd_timer, d);
	if (r < 0)
		return r;
	r = sd_event_add_post(d->event, NULL, on_post, d);
	if (r < 0)
		return r;
	r = sd_event_add_time(d->event, &d->trim_timer, CLOCK_MONOTONIC, 0, 100 * 1000ULL, on_trim,
			      d);
	if (r >= 0)
		r = sd_event_source_set_priority(d->trim_timer, SD_EVENT_PRIORITY_IDLE);
	if (r >= 0)
		r = sd_event_source_set_enabled(d->trim_timer, SD_EVENT_OFF);
	if (r < 0)
		return r;
	arm_timer(d);
	return 0;
}

void http_stop(struct daemon *d)
{
	if (d->mhd) {
		events_done(d);
		MHD_run(d->mhd);
		MHD_stop_daemon(d->mhd);
		d->mhd = NULL;
	}
	d->mhd_io = sd_event_source_unref(d->mhd_io);
	d->mhd_timer = sd_event_source_unref(d->mhd_timer);
	d->trim_timer = sd_event_source_disable_unref(d->trim_timer);
}
