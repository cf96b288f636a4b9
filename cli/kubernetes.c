// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * passthru kubernetes, passthru kubevirt-config: the Kubernetes resources of
 * /etc/passthru/kubernetes.d (daemon/kubernetes-config.h), read from the host as passthrud
 * reads them, and the KubeVirt configuration that permits them.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "kubernetes-files.h"
#include "options.h"
#include "service-client.h"

/* The host's PCI functions and the resources, read once. */
struct kube_view {
	struct kube_config cfg;
	struct passthru_pci_list *pci;
	struct kube_function *f;
	size_t n;
};

static void view_done(struct kube_view *v)
{
	kube_config_done(&v->cfg);
	passthru_pci_list_unref(v->pci);
	free(v->f);
}

static int view_load(struct cli *cli, struct kube_view *v)
{
	int r = kube_config_load(passthru_ctx_get_sysroot(cli->ctx), &v->cfg);

	if (r < 0) {
		cli_error("%s: cannot read: %s", KUBE_CONFIG_DIR, strerror(-r));
		return EXIT_REFUSED;
	}
	r = passthru_pci_scan(cli->ctx, &v->pci);
	if (r < 0) {
		cli_error("cannot read the PCI devices: %s", strerror(-r));
		return EXIT_REFUSED;
	}
	v->n = passthru_pci_list_count(v->pci);
	v->f = calloc(v->n ?: 1, sizeof(*v->f));
	if (!v->f) {
		cli_error("out of memory");
		return EXIT_REFUSED;
	}
	for (size_t i = 0; i < v->n; i++) {
		struct passthru_pci_device *d = passthru_pci_list_get(v->pci, i);
		struct kube_function *f = &v->f[i];
		uint16_t id;
		int x;

		*f = (struct kube_function){
		    .address = passthru_pci_device_get_address(d),
		    .type = passthru_pci_device_get_type(d),
		    .driver = passthru_pci_device_get_driver(d),
		    .vendor_id = -1,
		    .device_id = -1,
		    .group = -1,
		    .numa_node = -1,
		    .non_endpoint = !passthru_pci_device_is_endpoint(d),
		};
		if (passthru_pci_device_get_vendor_id(d, &id) >= 0)
			f->vendor_id = id;
		if (passthru_pci_device_get_device_id(d, &id) >= 0)
			f->device_id = id;
		if (passthru_pci_device_get_iommu_group(d, &x) >= 0)
			f->group = x;
		if (passthru_pci_device_get_numa_node(d, &x) >= 0)
			f->numa_node = x;
	}
	return EXIT_DONE;
}

static void report_problems(const struct kube_config *cfg)
{
	for (size_t i = 0; i < cfg->n_problems; i++)
		cli_error("%s", cfg->problems[i]);
}

/* "id=8086:10ed type=NIC numa=0", in that order, those given. */
static char *selectors_text(const struct kube_resource *r)
{
	char id[32] = "", numa[24] = "";
	char *s;

	if (r->vendor_id >= 0)
		snprintf(id, sizeof(id), " id=%04x:%04x", (unsigned)r->vendor_id,
			 (unsigned)r->device_id);
	if (r->numa_node >= 0)
		snprintf(numa, sizeof(numa), " numa=%d", r->numa_node);
	if (asprintf(&s, "%s%s%s%s", id, r->type ? " type=" : "", r->type ?: "", numa) < 0)
		return NULL;
	memmove(s, s + 1, strlen(s)); /* the leading blank */
	return s;
}

/*
 * The registration state of each resource as passthrud tells it (GET /v1/kubernetes), or NULL
 * with *why set when it cannot be asked. The service is probed first so that a host without
 * it prints no error.
 */
static struct json_object *service_registrations(const char *socket_path, const char **why)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct json_object *answer = NULL, *res;
	long status;
	int fd;

	if (strlen(socket_path) >= sizeof(sa.sun_path)) {
		*why = "unknown (passthrud's socket path is too long)";
		return NULL;
	}
	strcpy(sa.sun_path, socket_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		*why = "unknown (passthrud is not running)";
		return NULL;
	}
	close(fd);
	status = service_request(socket_path, "GET", "/v1/kubernetes", NULL, &answer);
	if (status != 200 || !json_object_object_get_ex(answer, "resources", &res)) {
		json_object_put(answer);
		*why = "unknown (passthrud does not serve the device plugin)";
		return NULL;
	}
	return answer;
}

static const char *registration_of(struct json_object *answer, const char *name, const char *why)
{
	struct json_object *res, *o, *v;

	if (!answer)
		return why;
	json_object_object_get_ex(answer, "resources", &res);
	for (size_t i = 0; i < json_object_array_length(res); i++) {
		o = json_object_array_get_idx(res, i);
		if (json_object_object_get_ex(o, "name", &v) &&
		    strcmp(json_object_get_string(v), name) == 0 &&
		    json_object_object_get_ex(o, "registration", &v))
			return json_object_get_string(v);
	}
	return "not served (passthrud has not read this resource: restart it)";
}

static struct json_object *device_json(const struct kube_device *d)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();

	json_object_object_add(o, "id", json_object_new_string(d->id));
	json_object_object_add(o, "iommu_group", json_object_new_int(d->group));
	json_object_object_add(o, "numa_node",
			       d->numa_node >= 0 ? json_object_new_int(d->numa_node) : NULL);
	json_object_object_add(o, "health",
			       json_object_new_string(d->healthy ? "Healthy" : "Unhealthy"));
	for (size_t i = 0; i < d->n_addresses; i++)
		json_object_array_add(a, json_object_new_string(d->addresses[i]));
	json_object_object_add(o, "addresses", a);
	return o;
}

static void kubernetes_help(void)
{
	printf("Usage: passthru kubernetes [--json] [--socket PATH]\n"
	       "\n"
	       "Show the Kubernetes resources of " KUBE_CONFIG_DIR "/*.conf\n"
	       "that passthrud advertises to the kubelet, each with its devices (one per IOMMU\n"
	       "group: its ID is the group's first endpoint, it carries every endpoint; Healthy\n"
	       "when all of them are on vfio-pci) and its registration with the kubelet when\n"
	       "passthrud can be asked. A bad line is reported with its file and line; the other\n"
	       "resources are shown.\n"
	       "\n"
	       "Options:\n"
	       "  -J, --json          print JSON\n"
	       "  -s, --socket SOCKET passthrud's socket (default " SERVICE_SOCKET_DEFAULT ")\n"
	       "  -h, --help          show this help\n"
	       "\n"
	       "Exit status: 0 shown, 1 a configuration line is bad or the host unreadable,\n"
	       "2 usage. See passthru-kubernetes(1).\n");
}

int verb_kubernetes(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"json", no_argument, NULL, 'J'},
	    {"socket", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	const char *socket_path = SERVICE_SOCKET_DEFAULT, *why = NULL;
	struct json_object *registrations, *top = NULL, *resources = NULL;
	struct kube_view v = {};
	bool json = false;
	struct cli_options o = {"kubernetes", "Js:h", options, kubernetes_help, .json = &json};
	int c, rc;

	while ((c = cli_options_next(&o, argc, argv)) != CLI_OPTIONS_END) {
		switch (c) {
		case CLI_OPTIONS_EXIT:
			return o.exit;
		case 's':
			socket_path = optarg;
			break;
		}
	}
	if (optind < argc)
		return cli_usage_error("kubernetes", "unexpected operand '%s'", argv[optind]);
	rc = view_load(cli, &v);
	if (rc != EXIT_DONE) {
		view_done(&v);
		return rc;
	}
	registrations = service_registrations(socket_path, &why);
	if (json) {
		top = json_object_new_object();
		resources = json_object_new_array();
		json_object_object_add(top, "resources", resources);
	}
	for (size_t ri = 0; ri < v.cfg.n; ri++) {
		const struct kube_resource *r = &v.cfg.v[ri];
		const char *reg = registration_of(registrations, r->name, why);
		struct kube_devices devs = {};
		char *sel = selectors_text(r), *env = kube_resource_env_name(r->name);

		if (!sel || !env || kube_resource_devices(&v.cfg, ri, v.f, v.n, &devs) < 0) {
			free(sel);
			free(env);
			cli_error("out of memory");
			rc = EXIT_REFUSED;
			break;
		}
		if (json) {
			struct json_object *jr = json_object_new_object(),
					   *ds = json_object_new_array();

			json_object_object_add(jr, "name", json_object_new_string(r->name));
			json_object_object_add(jr, "selectors", json_object_new_string(sel));
			json_object_object_add(jr, "file", json_object_new_string(r->file));
			json_object_object_add(jr, "line", json_object_new_int((int)r->line));
			json_object_object_add(jr, "env", json_object_new_string(env));
			json_object_object_add(jr, "registration", json_object_new_string(reg));
			for (size_t i = 0; i < devs.n; i++)
				json_object_array_add(ds, device_json(&devs.v[i]));
			json_object_object_add(jr, "devices", ds);
			json_object_array_add(resources, jr);
		} else {
			printf("%s%s  %s\n", ri ? "\n" : "", r->name, sel);
			printf("  registration: %s\n", reg);
			printf("  env: %s\n", env);
			if (devs.n == 0)
				printf("  no device\n");
			for (size_t i = 0; i < devs.n; i++) {
				const struct kube_device *d = &devs.v[i];
				char numa[16] = "-";

				if (d->numa_node >= 0)
					snprintf(numa, sizeof(numa), "%d", d->numa_node);
				printf("  %-14s group %-4d numa %-3s %-9s", d->id, d->group, numa,
				       d->healthy ? "Healthy" : "Unhealthy");
				for (size_t j = 0; j < d->n_addresses; j++)
					printf("%s%s", j ? "," : " ", d->addresses[j]);
				putchar('\n');
			}
		}
		kube_devices_done(&devs);
		free(sel);
		free(env);
	}
	if (json) {
		struct json_object *p = json_object_new_array();

		for (size_t i = 0; i < v.cfg.n_problems; i++)
			json_object_array_add(p, json_object_new_string(v.cfg.problems[i]));
		json_object_object_add(top, "problems", p);
		puts(json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(top);
	} else if (v.cfg.n == 0) {
		printf("no resource in %s\n", KUBE_CONFIG_DIR);
	}
	report_problems(&v.cfg);
	if (v.cfg.n_problems > 0 && rc == EXIT_DONE)
		rc = EXIT_REFUSED;
	json_object_put(registrations);
	view_done(&v);
	return rc;
}

static void kubevirt_help(void)
{
	printf(
	    "Usage: passthru kubevirt-config\n"
	    "\n"
	    "Print the permittedHostDevices fragment of the KubeVirt CR's spec.configuration\n"
	    "that lets VMs ask for the resources of " KUBE_CONFIG_DIR "\n"
	    "(externalResourceProvider: true: passthrud, not KubeVirt, is their device plugin).\n"
	    "A resource selected by id gives one entry; one selected by type gives one per\n"
	    "vendor:device of the functions that match it now.\n"
	    "\n"
	    "Options:\n"
	    "  -h, --help   show this help\n"
	    "\n"
	    "Exit status: 0 printed, 1 a configuration line is bad or the host unreadable,\n"
	    "2 usage. See passthru-kubernetes(1).\n");
}

static bool id_seen(const unsigned *ids, size_t n, unsigned id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

int verb_kubevirt_config(struct cli *cli, int argc, char **argv)
{
	static const struct option options[] = {
	    {"help", no_argument, NULL, 'h'},
	    {},
	};
	struct cli_options o = {"kubevirt-config", "h", options, kubevirt_help};
	struct kube_view v = {};
	int rc;

	if (cli_options_parse_all(&o, argc, argv) == CLI_OPTIONS_EXIT)
		return o.exit;
	if (optind < argc)
		return cli_usage_error("kubevirt-config", "unexpected operand '%s'", argv[optind]);
	rc = view_load(cli, &v);
	if (rc != EXIT_DONE) {
		view_done(&v);
		return rc;
	}
	printf("# Under spec.configuration of the KubeVirt CR; from %s.\n"
	       "permittedHostDevices:\n"
	       "  pciHostDevices:\n",
	       KUBE_CONFIG_DIR);
	for (size_t ri = 0; ri < v.cfg.n; ri++) {
		const struct kube_resource *r = &v.cfg.v[ri];
		unsigned *ids = calloc(v.n ?: 1, sizeof(*ids));
		size_t n_ids = 0;

		if (!ids) {
			cli_error("out of memory");
			rc = EXIT_REFUSED;
			break;
		}
		if (r->vendor_id >= 0) {
			ids[n_ids++] = (unsigned)r->vendor_id << 16 | (unsigned)r->device_id;
		} else {
			struct kube_devices devs = {};

			if (kube_resource_devices(&v.cfg, ri, v.f, v.n, &devs) < 0) {
				free(ids);
				cli_error("out of memory");
				rc = EXIT_REFUSED;
				break;
			}
			/* The ids of the functions that match, not of their group's others. */
			for (size_t i = 0; i < v.n; i++) {
				unsigned id =
				    (unsigned)v.f[i].vendor_id << 16 | (unsigned)v.f[i].device_id;
				bool in_device = false;

				for (size_t d = 0; d < devs.n && !in_device; d++)
					in_device = devs.v[d].group == v.f[i].group;
				if (in_device && kube_resource_matches(r, &v.f[i]) &&
				    v.f[i].vendor_id >= 0 && v.f[i].device_id >= 0 &&
				    !id_seen(ids, n_ids, id))
					ids[n_ids++] = id;
			}
			kube_devices_done(&devs);
		}
		if (n_ids == 0)
			printf("  # %s: no function matches it now\n", r->name);
		for (size_t i = 0; i < n_ids; i++)
			printf("  - pciVendorSelector: \"%04X:%04X\"\n"
			       "    resourceName: \"%s\"\n"
			       "    externalResourceProvider: true\n",
			       ids[i] >> 16, ids[i] & 0xffffu, r->name);
		free(ids);
	}
	report_problems(&v.cfg);
	if (v.cfg.n_problems > 0 && rc == EXIT_DONE)
		rc = EXIT_REFUSED;
	view_done(&v);
	return rc;
}
