/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kubernetes.d parser (daemon/kubernetes-config.c). Beyond not crashing: every resource
 * kept has a valid name, a selector by id or type, no name twice; every problem names the file
 * and a line of the input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kubernetes-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kube_config cfg = {};
	size_t lines = 1;
	int r;

	if (size > 64 * 1024)
		return 0;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	r = kube_config_parse(&cfg, "f.conf", (const char *)data, size);
	if (r < 0 && r != -ENOMEM)
		abort();
	for (size_t i = 0; i < cfg.n; i++) {
		const struct kube_resource *res = &cfg.v[i];
		char *env;

		if (!kube_resource_name_is_valid(res->name) || (res->vendor_id < 0 && !res->type) ||
		    res->vendor_id > 0xffff || res->device_id > 0xffff ||
		    (res->vendor_id >= 0) != (res->device_id >= 0) || res->numa_node < -1 ||
		    res->line < 1 || res->line > lines)
			abort();
		for (size_t j = 0; j < i; j++)
			if (strcmp(cfg.v[j].name, res->name) == 0)
				abort();
		env = kube_resource_env_name(res->name);
		if (env && (strchr(env, '/') || strchr(env, '.')))
			abort();
		free(env);
	}
	for (size_t i = 0; i < cfg.n_problems; i++) {
		char *end;
		unsigned long line;

		if (strncmp(cfg.problems[i], "f.conf:", 7) != 0)
			abort();
		line = strtoul(cfg.problems[i] + 7, &end, 10);
		if (line < 1 || line > lines || *end != ':')
			abort();
	}
	kube_config_done(&cfg);
	return 0;
}
