/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * passthru allocate, release, allocations: the client side of passthrud (see passthrud(8)).
 * They do nothing to the host themselves: the service does, and keeps the allocations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "service-client.h"

static void allocate_help(void)
{
	printf("Usage: passthru allocate --owner NAME ADDRESS...\n"
	       "       passthru allocate --owner NAME [--type TYPE] [--vendor VVVV[:DDDD]]\n"
	       "                         [--count N] [--numa-node N]\n"
	       "\n"
	       "Ask passthrud for devices for a VM: the named PCI functions (whole IOMMU groups;\n"
	       "those on host drivers are bound to vfio-pci, with every guard), or N free devices\n"
	       "that match the selector. Prints the allocation's id, devices and VFIO groups.\n"
	       "\n"
	       "Options:\n"
	       "  -o, --owner NAME      who gets the devices (a VM's name)\n"
	       "  -t, --type TYPE       a device type (NIC, GPU-VGA, NVME, a custom type)\n"
	       "      --vendor V[:D]    vendor id, and optionally device id (4 hex digits each)\n"
	       "  -c, --count N         how many devices (default 1)\n"
	       "      --numa-node N     only devices on NUMA node N\n"
	       "  -J, --json            print the service's answer as JSON\n"
	       "  -s, --socket PATH     passthrud's socket (default " SERVICE_SOCKET_DEFAULT ")\n"
	       "  -h, --help            show this help\n"
	       "\n"
	       "Exit status: 0 allocated, 1 refused or failed (the reason on stderr), 2 usage.\n"
	       "See passthrud(8).\n");
}

static int print_allocation(struct json_object *a)
{
	struct json_object *id, *owner, *devs, *vfio;

	if (!json_object_object_get_ex(a, "id", &id) ||
	    !json_object_object_get_ex(a, "owner", &owner) ||
	    !json_object_object_get_ex(a, "devices", &devs) ||
	    !json_object_object_get_ex(a, "vfio", &vfio)) {
		cli_error("passthrud's answer lacks the allocation's fields");
		return EXIT_REFUSED;
	}
	printf("%-6s %-20s", json_object_get_string(id), json_object_get_string(owner));
	for (size_t i = 0; i < json_object_array_length(devs); i++)
		printf("%s%s", i ? "," : " ",
		       json_object_get_string(json_object_array_get_idx(devs, i)));
	for (size_t i = 0; i < json_object_array_length(vfio); i++)
		printf("%s%s", i ? "," : " ",
		       json_object_get_string(json_object_array_get_idx(vfio, i)));
	putchar('\n');
	return EXIT_DONE;
}

static int parse_uint(const char *verb, const char *option, const char *text, long max, long *ret)
{
	char *end;
	long v = strtol(text, &end, 10);

	if (!*text || *end || v < 0 || v > max)
		return cli_usage_error(verb, "option '%s' needs a number from 0 to %ld, not '%s'",
				       option, max, text);
	*ret = v;
	return EXIT_DONE;
}

int verb_allocate(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"owner", required_argument, NULL, 'o'},
	    {"type", required_argument, NULL, 't'},
	    {"vendor", required_argument, NULL, 'V'},
	    {"count", required_argument, NULL, 'c'},
	    {"numa-node", required_argument, NULL, 'N'},
	    {"json", no_argument, NULL, 'J'},
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	const char *socket_path = SERVICE_SOCKET_DEFAULT, *owner = NULL, *type = NULL;
	const char *vendor = NULL;
	long count = -1, numa = -1, status;
	bool json = false;
	struct cli_options opts = {"allocate", "o:t:c:Js:h", options, allocate_help, .json = &json};
	struct json_object *req, *answer = NULL;
	int c, ret;

	while ((c = cli_options_next(&opts, argc, argv)) >= 0) {
		switch (c) {
		case 'o':
			owner = optarg;
			break;
		case 't':
			type = optarg;
			break;
		case 'V':
			vendor = optarg;
			break;
		case 'c':
			ret = parse_uint("allocate", "--count", optarg, 64, &count);
			if (ret != EXIT_DONE)
				return ret;
			break;
		case 'N':
			ret = parse_uint("allocate", "--numa-node", optarg, 4095, &numa);
			if (ret != EXIT_DONE)
				return ret;
			break;
		case 's':
			socket_path = optarg;
			break;
		}
	}
	if (c == CLI_OPTIONS_EXIT)
		return opts.exit;
	if (!owner)
		return cli_usage_error("allocate", "--owner NAME is needed");
	if (optind < argc && (type || vendor || count >= 0 || numa >= 0))
		return cli_usage_error("allocate",
				       "give addresses or a selector (--type, --vendor, "
				       "--count, --numa-node), not both");
	if (optind == argc && !type && !vendor)
		return cli_usage_error("allocate", "give addresses, --type or --vendor");

	/* The service checks every value; the client only builds the request. */
	req = json_object_new_object();
	json_object_object_add(req, "owner", json_object_new_string(owner));
	if (optind < argc) {
		struct json_object *devs = json_object_new_array();

		for (int i = optind; i < argc; i++)
			json_object_array_add(devs, json_object_new_string(argv[i]));
		json_object_object_add(req, "devices", devs);
	}
	if (type)
		json_object_object_add(req, "type", json_object_new_string(type));
	if (vendor) {
		const char *colon = strchr(vendor, ':');

		json_object_object_add(
		    req, "vendor_id",
		    colon ? json_object_new_string_len(vendor, (int)(colon - vendor))
			  : json_object_new_string(vendor));
		if (colon)
			json_object_object_add(req, "device_id", json_object_new_string(colon + 1));
	}
	if (count >= 0)
		json_object_object_add(req, "count", json_object_new_int((int)count));
	if (numa >= 0)
		json_object_object_add(req, "numa_node", json_object_new_int((int)numa));
	status =
	    service_request(socket_path, "POST", "/v1/allocations",
			    json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN), &answer);
	json_object_put(req);
	if (status < 0)
		return EXIT_REFUSED;
	if (status != 201) {
		service_report_error(status, answer);
		json_object_put(answer);
		return EXIT_REFUSED;
	}
	if (json) {
		puts(json_object_to_json_string_ext(answer, JSON_C_TO_STRING_PRETTY |
								JSON_C_TO_STRING_NOSLASHESCAPE));
		ret = EXIT_DONE;
	} else
		ret = print_allocation(answer);
	json_object_put(answer);
	return ret;
}

static void release_help(void)
{
	printf("Usage: passthru release [--to-host] [--socket PATH] ID...\n"
	       "\n"
	       "Give an allocation's devices back to passthrud's pool (they stay on vfio-pci),\n"
	       "or with --to-host to their host drivers.\n"
	       "Refused while a process (a VM) holds one of its /dev/vfio groups: the process is\n"
	       "named.\n"
	       "\n"
	       "Options:\n"
	       "      --to-host      give the devices back to their host drivers\n"
	       "  -s, --socket PATH  passthrud's socket (default " SERVICE_SOCKET_DEFAULT ")\n"
	       "  -h, --help         show this help\n"
	       "\n"
	       "Exit status: 0 released, 1 refused or failed, 2 usage. See passthrud(8).\n");
}

int verb_release(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"to-host", no_argument, NULL, 'H'},
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct cli_options opts = {"release", "s:h", options, release_help};
	const char *socket_path = SERVICE_SOCKET_DEFAULT;
	bool to_host = false;
	int c, ret = EXIT_DONE;

	while ((c = cli_options_next(&opts, argc, argv)) >= 0) {
		if (c == 's')
			socket_path = optarg;
		else if (c == 'H')
			to_host = true;
	}
	if (c == CLI_OPTIONS_EXIT)
		return opts.exit;
	if (optind == argc)
		return cli_usage_error("release", "give the id of an allocation");
	for (int i = optind; i < argc; i++) {
		struct json_object *answer = NULL;
		char *path = NULL;
		long status;

		if (!argv[i][0] || strspn(argv[i], "0123456789") != strlen(argv[i]) ||
		    strlen(argv[i]) > 16)
			return cli_usage_error("release", "'%s' is not an allocation id", argv[i]);
		if (asprintf(&path, "/v1/allocations/%s%s", argv[i], to_host ? "?to=host" : "") < 0)
			return EXIT_REFUSED;
		status = service_request(socket_path, "DELETE", path, NULL, &answer);
		free(path);
		if (status < 0)
			return EXIT_REFUSED;
		if (status == 204)
			printf("released allocation %s%s\n", argv[i],
			       to_host ? ", its devices back on their host drivers" : "");
		else {
			service_report_error(status, answer);
			ret = EXIT_REFUSED;
		}
		json_object_put(answer);
	}
	return ret;
}

static void allocations_help(void)
{
	printf("Usage: passthru allocations [--json] [--socket PATH]\n"
	       "\n"
	       "List passthrud's allocations: id, owner, devices, VFIO groups.\n"
	       "\n"
	       "Options:\n"
	       "  -J, --json         the service's answer as JSON\n"
	       "  -s, --socket PATH  passthrud's socket (default " SERVICE_SOCKET_DEFAULT ")\n"
	       "  -h, --help         show this help\n"
	       "\n"
	       "See passthrud(8).\n");
}

int verb_allocations(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"json", no_argument, NULL, 'J'},
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	const char *socket_path = SERVICE_SOCKET_DEFAULT;
	struct json_object *answer = NULL, *list;
	bool json = false;
	struct cli_options opts = {"allocations", "Js:h", options, allocations_help, .json = &json};
	long status;
	int c, ret = EXIT_DONE;

	while ((c = cli_options_next(&opts, argc, argv)) >= 0)
		if (c == 's')
			socket_path = optarg;
	if (c == CLI_OPTIONS_EXIT)
		return opts.exit;
	if (optind < argc)
		return cli_usage_error("allocations", "unexpected argument '%s'", argv[optind]);
	status = service_request(socket_path, "GET", "/v1/allocations", NULL, &answer);
	if (status < 0)
		return EXIT_REFUSED;
	if (status != 200 || !json_object_object_get_ex(answer, "allocations", &list)) {
		service_report_error(status, answer);
		json_object_put(answer);
		return EXIT_REFUSED;
	}
	if (json)
		puts(json_object_to_json_string_ext(answer, JSON_C_TO_STRING_PRETTY |
								JSON_C_TO_STRING_NOSLASHESCAPE));
	else {
		printf("%-6s %-20s %s\n", "ID", "OWNER", "DEVICES VFIO");
		for (size_t i = 0; i < json_object_array_length(list) && ret == EXIT_DONE; i++)
			ret = print_allocation(json_object_array_get_idx(list, i));
	}
	json_object_put(answer);
	return ret;
}
