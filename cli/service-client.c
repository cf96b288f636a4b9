/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP/1.1 to passthrud on its unix socket, through libcurl: the service may take a while for
 * an allocation that binds devices (each blocking sysfs write is limited to 10 s by the
 * service), so the client waits at most 120 s.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

long service_request(const char *socket_path, const char *method, const char *path,
		     const char *body, struct json_object **ret)
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
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, SERVICE_TIMEOUT_S);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
	if (body) {
		headers = curl_slist_append(headers, "Content-Type: application/json");
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	}
	cr = curl_easy_perform(curl);
	if (cr == CURLE_COULDNT_CONNECT) {
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

void service_report_error(long status, struct json_object *answer)
{
	struct json_object *v;

	if (json_object_object_get_ex(answer, "error", &v))
		cli_error("%s", json_object_get_string(v));
	else
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

			if (json_object_object_get_ex(json_object_array_get_idx(v, i), "line",
						      &line))
				fprintf(stderr, "  %s\n", json_object_get_string(line));
		}
	if (json_object_object_get_ex(answer, "hint", &v))
		cli_hint("%s", json_object_get_string(v));
}
