/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /proc/net/route, /proc/net/ipv6_route, /proc/net/if_inet6 and the fixtures' if_inet4, each
 * parser on the same input. Beyond not crashing: whatever is accepted names a plausible
 * interface and stays within the address family's limits.
 */
#include <net/if.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "guard.h"

static void check_routes(int r, struct route_table *t, size_t bad)
{
	if (r == -EBADMSG && bad == 0)
		abort();
	if (r != 0 && r != -EBADMSG)
		abort();
	for (size_t i = 0; i < t->n; i++)
		if (!t->v[i].ifname[0] || strlen(t->v[i].ifname) >= IFNAMSIZ ||
		    strchr(t->v[i].ifname, '/') ||
		    (t->v[i].family != AF_INET && t->v[i].family != AF_INET6))
			abort();
	route_table_done(t);
}

static void check_addresses(int r, struct addr_table *t, size_t bad, int family)
{
	if (r == -EBADMSG && bad == 0)
		abort();
	if (r != 0 && r != -EBADMSG)
		abort();
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].family != family ||
		    t->v[i].prefixlen > (family == AF_INET6 ? 128u : 32u) || !t->v[i].ifname ||
		    !t->v[i].ifname[0] || strlen(t->v[i].ifname) >= IFNAMSIZ)
			abort();
	addr_table_done(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct route_table routes = {0};
	struct addr_table addrs = {0};
	size_t bad;
	char *text;
	int r;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	/* The parse first, then the check: argument order is unspecified in C. */
	bad = 0;
	r = proc_net_route_parse(text, &routes, &bad);
	check_routes(r, &routes, bad);
	bad = 0;
	r = proc_net_ipv6_route_parse(text, &routes, &bad);
	check_routes(r, &routes, bad);
	bad = 0;
	r = proc_net_if_inet_parse(text, AF_INET6, &addrs, &bad);
	check_addresses(r, &addrs, bad, AF_INET6);
	bad = 0;
	r = proc_net_if_inet_parse(text, AF_INET, &addrs, &bad);
	check_addresses(r, &addrs, bad, AF_INET);
	free(text);
	return 0;
}
