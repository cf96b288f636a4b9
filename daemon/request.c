/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

bool alloc_owner_is_valid(const char *owner)
{
	size_t n = strlen(owner);

	if (n == 0 || n > ALLOC_OWNER_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = owner[i];
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || !strchr("._:@-", c)))
			return false;
	}
	return true;
}

/* "1-2.3": a bus, then one to seven port numbers (1 to 255, no leading zero). */
static bool usb_port_path_valid(const char *s)
{
	unsigned levels = 0;
	char sep = '-';
	const char *p = s;

	if (strncmp(s, "usb", 3) == 0) {
		p = s + 3;
		sep = '\0';
	}
	for (;;) {
		unsigned v = 0, digits = 0;

		if (*p == '0')
			return false;
		while (*p >= '0' && *p <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(*p++ - '0');
			digits++;
		}
		if (digits == 0 || v > (levels ? 255u : 999u))
			return false;
		if (*p == '\0')
			return sep == '\0' ? levels == 0 : levels > 0;
		if (*p != sep)
			return false;
		p++;
		sep = '.';
		if (++levels > 7)
			return false;
	}
}

int device_address_canonical(const char *s, char *ret)
{
	char pci[PASSTHRU_PCI_ADDRESS_LEN + 1];
	const char *name = s;
	size_t n;

	if (passthru_pci_address_parse(s, pci) >= 0) {
		strcpy(ret, pci);
		return DEVICE_PCI;
	}
	if (strlen(s) <= DEVICE_ADDRESS_MAX && usb_port_path_valid(s)) {
		strcpy(ret, s);
		return DEVICE_USB;
	}
	if (strncmp(name, "/dev/", 5) == 0)
		name += 5;
	n = strlen(name);
	if (strncmp(name, "tty", 3) != 0 || n < 4 || n + 5 > DEVICE_ADDRESS_MAX)
		return -EINVAL;
	for (size_t i = 3; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return -EINVAL;
	strcpy(ret, "/dev/");
	strcpy(ret + 5, name);
	return DEVICE_SERIAL;
}

/* A JSON integer within [min, max]; json-c also takes "1.5" and "1e3" as numbers: not here. */
static bool int_in(struct json_object *v, long min, long max, long *ret)
{
	int64_t x;

	if (!json_object_is_type(v, json_type_int))
		return false;
	errno = 0;
	x = json_object_get_int64(v);
	if (errno != 0 || x < min || x > max)
		return false;
	*ret = (long)x;
	return true;
}

/* "10de": exactly 4 hex digits. */
static int hex4(struct json_object *v)
{
	const char *s;
	int x = 0;

	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	if (json_object_get_string_len(v) != 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return -1;
		x = x * 16 + d;
	}
	return x;
}

static int parse_object(struct json_object *top, struct alloc_request *req, const char **err)
{
	struct json_object *devices = NULL;
	bool selector = false;
	long n;

	if (!json_object_is_type(top, json_type_object)) {
		*err = "the body is not a JSON object";
		return -EINVAL;
	}
	json_object_object_foreach(top, key, val)
	{
		if (strcmp(key, "owner") == 0) {
			if (!json_object_is_type(val, json_type_string) ||
			    strlen(json_object_get_string(val)) !=
				(size_t)json_object_get_string_len(val) ||
			    !alloc_owner_is_valid(json_object_get_string(val))) {
				*err =
				    "\"owner\" must be 1-64 characters of A-Z a-z 0-9 . _ : @ -, "
				    "starting with a letter or digit";
				return -EINVAL;
			}
			req->owner = strdup(json_object_get_string(val));
			if (!req->owner)
				return -ENOMEM;
		} else if (strcmp(key, "devices") == 0) {
			devices = val;
		} else if (strcmp(key, "type") == 0) {
			const char *t = json_object_get_string(val);

			if (!json_object_is_type(val, json_type_string) ||
			    json_object_get_string_len(val) == 0 ||
			    json_object_get_string_len(val) > PASSTHRU_TYPE_NAME_MAX ||
			    strlen(t) != (size_t)json_object_get_string_len(val)) {
				*err = "\"type\" must be a device type name (NIC, GPU-VGA, NVME, "
				       "a custom type...)";
				return -EINVAL;
			}
			req->type = strdup(t);
			if (!req->type)
				return -ENOMEM;
			selector = true;
		} else if (strcmp(key, "count") == 0) {
			if (!int_in(val, 1, ALLOC_COUNT_MAX, &n)) {
				*err = "\"count\" must be an integer from 1 to 64";
				return -EINVAL;
			}
			req->count = (unsigned)n;
			selector = true;
		} else if (strcmp(key, "numa_node") == 0) {
			if (!int_in(val, 0, 4095, &n)) {
				*err = "\"numa_node\" must be an integer from 0 to 4095";
				return -EINVAL;
			}
			req->numa_node = (int)n;
			selector = true;
		} else if (strcmp(key, "vendor_id") == 0 || strcmp(key, "device_id") == 0) {
			int x = hex4(val);

			if (x < 0) {
				*err = "\"vendor_id\" and \"device_id\" must be 4 hex digits";
				return -EINVAL;
			}
			if (key[0] == 'v')
				req->vendor_id = x;
			else
				req->device_id = x;
			selector = true;
		} else {
			*err = "unknown key: the keys are owner, devices, type, count, numa_node, "
			       "vendor_id, device_id";
			return -EINVAL;
		}
	}
	if (!req->owner) {
		*err = "\"owner\" is missing";
		return -EINVAL;
	}
	if (devices && selector) {
		*err = "give either \"devices\" or a selector (type, count, numa_node, vendor_id, "
		       "device_id), not both";
		return -EINVAL;
	}
	if (!devices && !req->type && req->vendor_id < 0) {
		*err = "give \"devices\" or a selector with \"type\" or \"vendor_id\"";
		return -EINVAL;
	}
	if (req->device_id >= 0 && req->vendor_id < 0) {
		*err = "\"device_id\" needs \"vendor_id\"";
		return -EINVAL;
	}
	if (!devices) {
		if (req->count == 0)
			req->count = 1;
		return 0;
	}
	if (!json_object_is_type(devices, json_type_array) ||
	    json_object_array_length(devices) == 0 ||
	    json_object_array_length(devices) > ALLOC_DEVICES_MAX) {
		*err = "\"devices\" must be an array of 1 to 64 device addresses";
		return -EINVAL;
	}
	req->devices = calloc(json_object_array_length(devices), sizeof(*req->devices));
	if (!req->devices)
		return -ENOMEM;
	for (size_t i = 0; i < json_object_array_length(devices); i++) {
		struct json_object *a = json_object_array_get_idx(devices, i);
		const char *s = json_object_get_string(a);

		if (!json_object_is_type(a, json_type_string) ||
		    strlen(s) != (size_t)json_object_get_string_len(a) ||
		    device_address_canonical(s, req->devices[req->n_devices]) < 0) {
			*err = "\"devices\" holds something that is not a device address: a PCI "
			       "address (DDDD:BB:DD.F), a USB port path (1-2.3) or a serial port "
			       "(/dev/ttyS1)";
			return -EINVAL;
		}
		for (size_t j = 0; j < req->n_devices; j++)
			if (strcmp(req->devices[j], req->devices[req->n_devices]) == 0) {
				*err = "\"devices\" names a device twice";
				return -EINVAL;
			}
		req->n_devices++;
	}
	return 0;
}

int alloc_request_parse(const char *body, size_t len, struct alloc_request *ret,
			const char **ret_error)
{
	struct alloc_request req = {.vendor_id = -1, .device_id = -1, .numa_node = -1};
	struct json_tokener *tok;
	struct json_object *top;
	int r;

	*ret_error = NULL;
	if (len == 0) {
		*ret_error = "the body is empty: a JSON object is needed";
		return -EINVAL;
	}
	if (len > ALLOC_BODY_MAX) {
		*ret_error = "the body is larger than 64 KiB";
		return -EINVAL;
	}
	if (memchr(body, '\0', len)) {
		*ret_error = "the body holds a NUL byte";
		return -EINVAL;
	}
	/* Depth 8: the schema needs 2; deeper nesting is refused before it costs anything. */
	tok = json_tokener_new_ex(8);
	if (!tok)
		return -ENOMEM;
	top = json_tokener_parse_ex(tok, body, (int)len);
	if (!top || json_tokener_get_error(tok) != json_tokener_success ||
	    (size_t)json_tokener_get_parse_end(tok) != len) {
		/* Trailing white space after the object is fine; anything else is not. */
		bool only_space = top && json_tokener_get_error(tok) == json_tokener_success;

		for (size_t i = top ? json_tokener_get_parse_end(tok) : 0; only_space && i < len;
		     i++)
			only_space = strchr(" \t\r\n", body[i]) != NULL;
		if (!only_space) {
			json_object_put(top);
			json_tokener_free(tok);
			*ret_error = "the body is not valid JSON";
			return -EINVAL;
		}
	}
	json_tokener_free(tok);
	r = parse_object(top, &req, ret_error);
	json_object_put(top);
	if (r < 0) {
		alloc_request_done(&req);
		return r;
	}
	*ret = req;
	return 0;
}

void alloc_request_done(struct alloc_request *req)
{
	free(req->owner);
	free(req->devices);
	free(req->type);
	*req = (struct alloc_request){.vendor_id = -1, .device_id = -1, .numa_node = -1};
}
