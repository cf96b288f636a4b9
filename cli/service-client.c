/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP/1.1 to passthrud on its unix socket, through libcurl: the service may take a while for
 * an allocation that binds devices (each blocking sysfs write is limited to 10 s by the
 * service), so the client waits at most 120 s.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "service-client.h"

#define SERVICE_TIMEOUT_S 120L
#define ANSWER_MAX	  (16L << 20)

struct answer {
	char *data;
	size_t len;
	bool too_large;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct answer *a = userdata;
	size_t n = size * nmemb;
	char *nd;

	if (a->len + n > (size_t)ANSWER_MAX) {
		a->too_large = true;
		return 0;
	}
	nd = realloc(a->data, a->len + n + 1);
	if (!nd)
		return 0;
	a->data = nd;
	memcpy(a->data + a->len, ptr, n);
	a->len += n;
	a->data[a->len] = '\0';
	return n;
}

/*
 * quiet: a service that is not there (nothing listens on the socket) is not reported and
 * answers -2.
 */
static long request(const char *socket_path, const char *method, const char *path, const char *body,
		    long timeout_s, bool quiet, struct json_object **ret)
{
	struct answer a = {};
	struct curl_slist *headers = NULL;
	char url[512];
	long status = -1;
	CURLcode cr;
	CURL *curl;

	*ret = NULL;
	if (curl_global_init(CURL_GLOBAL_NOTHING) != CURLE_OK || !(curl = curl_easy_init())) {
		cli_error("cannot start an HTTP client (libcurl)");
		return -1;
	}
	snprintf(url, sizeof(url), "http://localhost%s", path);
	curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket_path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
	if (body) {
		headers = curl_slist_append(headers, "Content-Type: application/json");
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	}
	cr = curl_easy_perform(curl);
	if (cr == CURLE_COULDNT_CONNECT && quiet) {
		status = -2;
	} else if (cr == CURLE_COULDNT_CONNECT) {
		cli_error("cannot reach passthrud at %s", socket_path);
		cli_hint("systemctl start passthrud.socket, or give --socket PATH");
	} else if (cr != CURLE_OK) {
		cli_error("passthrud at %s: %s", socket_path,
			  a.too_large ? "the answer is larger than 16 MiB"
				      : curl_easy_strerror(cr));
	} else {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
		if (a.data)
			*ret = json_tokener_parse(a.data);
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	free(a.data);
	return status;
}

long service_request(const char *socket_path, const char *method, const char *path,
		     const char *body, struct json_object **ret)
{
	return request(socket_path, method, path, body, SERVICE_TIMEOUT_S, false, ret);
}

void service_report_error(long status, struct json_object *answer)
{
	struct json_object *v;
	const char *error = "";

	if (json_object_object_get_ex(answer, "error", &v)) {
		error = json_object_get_string(v);
		cli_error("%s", error);
	} else
		cli_error("passthrud answered %ld", status);
	if (json_object_object_get_ex(answer, "refusals", &v))
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			struct json_object *r = json_object_array_get_idx(v, i), *a, *why;

			if (json_object_object_get_ex(r, "address", &a) &&
			    json_object_object_get_ex(r, "reason", &why))
				fprintf(stderr, "  %s: %s\n", json_object_get_string(a),
					json_object_get_string(why));
		}
	if (json_object_object_get_ex(answer, "holders", &v))
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			struct json_object *line;

			/* The error line names the first holder already. */
			if (json_object_object_get_ex(json_object_array_get_idx(v, i), "line",
						      &line) &&
			    !strstr(error, json_object_get_string(line)))
				fprintf(stderr, "  %s\n", json_object_get_string(line));
		}
	if (json_object_object_get_ex(answer, "hint", &v))
		cli_hint("%s", json_object_get_string(v));
}

/* Whether the allocation (an element of GET /v1/allocations) has the device. */
static bool allocation_has(struct json_object *a, const char *address)
{
	struct json_object *devs;

	if (!json_object_object_get_ex(a, "devices", &devs))
		return false;
	for (size_t i = 0; i < json_object_array_length(devs); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(devs, i)), address) ==
		    0)
			return true;
	return false;
}

/* The element of a JSON array of objects whose key is the string value, or NULL. */
static struct json_object *find_by(struct json_object *list, const char *key, const char *value)
{
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *o = json_object_array_get_idx(list, i), *v;

		if (json_object_object_get_ex(o, key, &v) &&
		    strcmp(json_object_get_string(v), value) == 0)
			return o;
	}
	return NULL;
}

/*
 * The devices of the plan that belong to a Kubernetes resource of the service (GET /v1/devices
 * says "owner": "kubelet" and the resource): refused like the allocated ones, since the kubelet
 * hands them to pods and the device plugin API has no call to take one back. Only a change of
 * kubernetes.d takes a device out of a resource (GET /v1/kubernetes says where it is defined).
 * Returns how many were refused, or -1 after reporting when the service cannot tell.
 */
static int refuse_kubelet_owned(struct passthru_takeover *t, const char *socket_path,
				const char *verb)
{
	struct json_object *devices = NULL, *resources = NULL, *list, *rlist = NULL;
	long status;
	int refused = 0;

	status = request(socket_path, "GET", "/v1/devices", NULL, SERVICE_CHECK_TIMEOUT_S, true,
			 &devices);
	if (status != 200 || !json_object_object_get_ex(devices, "devices", &list)) {
		cli_error("passthrud at %s answered %ld: cannot tell whether the kubelet owns the "
			  "devices to %s",
			  socket_path, status, verb);
		cli_hint("run it as root, or stop passthrud first");
		json_object_put(devices);
		return -1;
	}
	for (size_t i = 0; i < passthru_takeover_get_count(t); i++) {
		const char *address = passthru_takeover_get_address(t, i);
		struct json_object *dev = find_by(list, "address", address), *owner, *res, *r, *v;
		const char *name, *file = NULL;
		int line = 0;

		if (!dev || !json_object_object_get_ex(dev, "owner", &owner) ||
		    !json_object_is_type(owner, json_type_string) ||
		    strcmp(json_object_get_string(owner), "kubelet") != 0 ||
		    !json_object_object_get_ex(dev, "resource", &res))
			continue;
		name = json_object_get_string(res);
		if (!resources && request(socket_path, "GET", "/v1/kubernetes", NULL,
					  SERVICE_CHECK_TIMEOUT_S, true, &resources) == 200)
			json_object_object_get_ex(resources, "resources", &rlist);
		if (rlist && (r = find_by(rlist, "name", name))) {
			if (json_object_object_get_ex(r, "file", &v))
				file = json_object_get_string(v);
			if (json_object_object_get_ex(r, "line", &v))
				line = json_object_get_int(v);
		}
		cli_error("%s belongs to the Kubernetes resource %s of passthrud: the kubelet owns "
			  "it",
			  address, name);
		if (file && line > 0)
			cli_hint("take it out of %s in %s:%d (passthrud applies the change at "
				 "once), then passthru %s again",
				 name, file, line, verb);
		else
			cli_hint("take it out of %s in /etc/passthru/kubernetes.d (passthrud "
				 "applies the change at once), then passthru %s again",
				 name, verb);
		refused++;
	}
	json_object_put(resources);
	json_object_put(devices);
	return refused;
}

int service_check_takeover(struct cli *cli, struct passthru_takeover *t, const char *verb)
{
	int kube;

	const char *socket_path = getenv("PASSTHRUD_SOCKET");
	struct json_object *answer = NULL, *list;
	unsigned refused = 0;
	long status;

	if (!socket_path || !*socket_path) {
		/* A host below --sysroot is not the one the system's passthrud looks after. */
		if (strcmp(passthru_ctx_get_sysroot(cli->ctx), "/") != 0)
			return EXIT_DONE;
		socket_path = SERVICE_SOCKET_DEFAULT;
	}
	if (access(socket_path, F_OK) < 0 && errno == ENOENT)
		return EXIT_DONE;
	/* The plan names the group's other devices when they are concerned too. */
	(void)passthru_takeover_plan(t);
	status = request(socket_path, "GET", "/v1/allocations", NULL, SERVICE_CHECK_TIMEOUT_S, true,
			 &answer);
	if (status == -2)
		return EXIT_DONE;
	if (status < 0) {
		cli_hint("passthrud keeps allocations of devices: %s waits until it answers, "
			 "or stop it first",
			 verb);
		return EXIT_REFUSED;
	}
	if (status != 200 || !json_object_object_get_ex(answer, "allocations", &list)) {
		cli_error("passthrud at %s answered %ld: cannot tell whether it allocated the "
			  "devices to %s",
			  socket_path, status, verb);
		cli_hint("run it as root, or stop passthrud first");
		json_object_put(answer);
		return EXIT_REFUSED;
	}
	for (size_t i = 0; i < passthru_takeover_get_count(t); i++) {
		const char *address = passthru_takeover_get_address(t, i);

		for (size_t j = 0; j < json_object_array_length(list); j++) {
			struct json_object *a = json_object_array_get_idx(list, j), *owner, *id;

			if (!allocation_has(a, address))
				continue;
			json_object_object_get_ex(a, "owner", &owner);
			json_object_object_get_ex(a, "id", &id);
			cli_error("%s is allocated to %s by passthrud (allocation %s)", address,
				  json_object_get_string(owner), json_object_get_string(id));
			cli_hint("passthru release %s, then passthru %s again",
				 json_object_get_string(id), verb);
			refused++;
			break;
		}
	}
	json_object_put(answer);
	if (refused)
		return EXIT_REFUSED;
	kube = refuse_kubelet_owned(t, socket_path, verb);
	return kube != 0 ? EXIT_REFUSED : EXIT_DONE;
}
